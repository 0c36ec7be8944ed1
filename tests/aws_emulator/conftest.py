"""Fixtures for the emulator's own checks: one emulator process for the session, a clean
slate for every test, and boto3 clients that go through its fault proxy.

The mcpfleet-server binary comes from MCPFLEET_SERVER_BIN (run.sh sets it) or
target/debug/mcpfleet-server; without it the run fails, it is never skipped.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class Control:
    """The emulator's control API."""

    def __init__(self, url: str):
        self.url = url

    def post(self, path: str, body: dict | None = None, timeout: float = 120) -> dict:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def fleet(self, *services: dict, cluster: str = "mcp") -> dict[str, dict]:
        """Builds the services; returns them by name."""
        answer = self.post("/fleet", {"cluster": cluster, "services": list(services)})
        return {service["name"]: service for service in answer["services"]}


def _server_bin() -> Path:
    path = Path(os.environ.get("MCPFLEET_SERVER_BIN") or REPO / "target/debug/mcpfleet-server")
    if not path.is_file():
        pytest.fail(
            f"mcpfleet-server binary not found at {path}; "
            "build it with cargo build -p mcpfleet-server"
        )
    return path


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "emulator.py"),
                "--server-bin",
                str(_server_bin()),
                "--metrics-interval",
                "1",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else b""
        if not line:
            pytest.fail(f"the emulator did not start:\n{log.read_text()}")
        yield json.loads(line)
    finally:
        process.stdin.close()  # end of file: the emulator stops its replicas and exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the emulator did not exit after stdin closed:\n{log.read_text()}")


@pytest.fixture
def control(emulator) -> Control:
    """The control API, after a reset: every test starts with an empty moto."""
    api = Control(emulator["control"])
    api.post("/reset")
    return api


@pytest.fixture
def aws(emulator, control):
    """boto3 clients through the fault proxy; `retries=0` for fault checks."""

    def client(service: str, retries: int | None = None, **config):
        options = dict(config)
        if retries is not None:
            options["retries"] = {"total_max_attempts": retries + 1, "mode": "standard"}
        return boto3.client(
            service,
            endpoint_url=emulator["proxy"],
            region_name=REGION,
            config=Config(**options),
            **FAKE_CREDENTIALS,
        )

    return client
