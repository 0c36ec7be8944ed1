"""An AWS emulator for the console's tests: moto on 127.0.0.1 with an ECS fidelity layer,
a fleet simulator running real replicas of mcpfleet-server, a fault-injecting proxy, and
a control API.

    .venv/bin/python tests/aws_emulator/emulator.py --server-bin target/debug/mcpfleet-server

Prints one JSON line on stdout once everything listens:
    {"moto": URL, "proxy": URL, "control": URL, "region": "us-east-1"}
then runs until stdin reaches end of file, or SIGTERM/SIGINT, and stops every replica
before exiting. Diagnostics go to stderr. Only fake credentials are ever used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import fidelity
from control_api import ControlApi
from fault_proxy import FaultProxy
from log_shipper import LogShipper
from moto_app import MotoServer
from scheduler import Scheduler
from service_connect_metrics import ServiceConnectMetrics
from task_runner import stop_all

_log = logging.getLogger("aws_emulator")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-bin", required=True, help="path of the mcpfleet-server binary")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--metrics-interval",
        type=float,
        default=2.0,
        help="seconds between Service Connect metric publications",
    )
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="aws_emulator: %(levelname)s %(message)s"
    )
    server_bin = Path(args.server_bin).resolve()
    if not (server_bin.is_file() and os.access(server_bin, os.X_OK)):
        _log.error(
            "--server-bin %s is not an executable file (build it: cargo build -p mcpfleet-server)",
            server_bin,
        )
        return 2
    _fake_aws_environment(args.region)

    # Only the JSON line belongs on stdout; anything else printed by a library goes to stderr.
    stdout, sys.stdout = sys.stdout, sys.stderr

    stop = threading.Event()
    moto = MotoServer()
    shipper = LogShipper()
    scheduler = Scheduler(str(server_bin), shipper)
    metrics = ServiceConnectMetrics(args.metrics_interval)
    proxy = FaultProxy(moto.port)
    fidelity.install(scheduler)
    moto.start()
    control = ControlApi(
        region=args.region,
        moto_url=moto.url,
        scheduler=scheduler,
        shipper=shipper,
        proxy=proxy,
        metrics=metrics,
    )
    scheduler.runner.metadata_url = f"{control.url}/ecs-metadata"
    # The scheduler thread starts every replica and must live as long as the emulator
    # (see replicas._die_with_parent).
    workers = [
        threading.Thread(target=target, args=(stop,), name=name, daemon=True)
        for name, target in (
            ("scheduler", scheduler.run),
            ("log-shipper", shipper.run),
            ("metrics", metrics.run),
        )
    ]
    for worker in workers:
        worker.start()
    proxy.start()
    control.start()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threading.Thread(target=_until_stdin_closes, args=(stop,), name="stdin", daemon=True).start()

    print(
        json.dumps(
            {"moto": moto.url, "proxy": proxy.url, "control": control.url, "region": args.region}
        ),
        file=stdout,
        flush=True,
    )
    while not stop.wait(0.5):
        pass

    _log.info("stopping")
    for worker in workers:  # no new replica may start while the others are stopped
        worker.join(timeout=5)
    stop_all(scheduler.forget_all(), grace_s=3.0)
    shipper.flush()
    control.stop()
    proxy.stop()
    moto.stop()
    return 0


def _fake_aws_environment(region: str) -> None:
    """Fake credentials and no config files: the emulator's own boto3 clients (and moto)
    never see a real account's settings."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }
    )


def _until_stdin_closes(stop: threading.Event) -> None:
    # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read would
    # hold the buffer's lock while the interpreter shuts down after a signal.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
