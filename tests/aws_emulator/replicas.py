"""Replica processes: one `mcpfleet-server` child per real task, on its own loopback port.

Each replica has two threads: one forwards its output lines (stdout and stderr, as the
awslogs driver ships both), one watches the process and runs the container health check
against /healthz. They only record what they see and wake the scheduler, which turns it
into task state under the state lock.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from fleet_task import LOOPBACK

# The container health check of the task definition runs every 10 s with a 10 s start
# period; both are shortened so tests see a replica turn healthy or unhealthy quickly.
_PROBE_WHILE_STARTING_S = 0.05
_PROBE_INTERVAL_S = 1.0
_PROBE_TIMEOUT_S = 1.0
_START_PERIOD_S = 10.0
_RETRIES = 3

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The kernel then kills the replica when the
    # thread that started it ends, so replicas never outlive the emulator, even when it is
    # killed with SIGKILL. Hence replicas are only started from the long-lived scheduler
    # thread.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class Replica:
    """One running server process standing for one task's serving container."""

    def __init__(
        self,
        task_id: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        on_line: Callable[[str], None],
        on_change: Callable[[], None],
    ):
        self.task_id = task_id
        self.port = port
        self.health = "UNKNOWN"
        self.exit_code: int | None = None
        self._on_line = on_line
        self._on_change = on_change
        self._kill_at: float | None = None
        self._started = time.monotonic()
        self._process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        threading.Thread(
            target=self._forward_output, name=f"out-{task_id[:8]}", daemon=True
        ).start()
        threading.Thread(target=self._watch, name=f"watch-{task_id[:8]}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def stopping(self) -> bool:
        return self._kill_at is not None

    def stop(self, timeout_s: float) -> None:
        """SIGTERM now, SIGKILL after `timeout_s` (the container's stopTimeout)."""
        if self._kill_at is None:
            self._kill_at = time.monotonic() + timeout_s
            self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout_s: float) -> bool:
        try:
            self._process.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False

    def _signal(self, signum: int) -> None:
        if self._process.poll() is None:
            try:
                self._process.send_signal(signum)
            except ProcessLookupError:
                pass

    def _forward_output(self) -> None:
        assert self._process.stdout is not None
        for raw in self._process.stdout:
            self._on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def _watch(self) -> None:
        failures = 0
        next_probe = 0.0
        while True:
            code = self._process.poll()
            if code is not None:
                # A container killed by a signal exits with 128 + signal, as Docker reports.
                self.exit_code = code if code >= 0 else 128 - code
                self._on_change()
                return
            now = time.monotonic()
            if self._kill_at is not None and now >= self._kill_at:
                self.kill()
            elif self._kill_at is None and now >= next_probe:
                failures = self._probe(failures, now)
                next_probe = now + (
                    _PROBE_INTERVAL_S if self.health == "HEALTHY" else _PROBE_WHILE_STARTING_S
                )
            time.sleep(0.05)

    def _probe(self, failures: int, now: float) -> int:
        """One run of the container health check; returns the consecutive failure count."""
        if _answers_healthz(self.port):
            if self.health != "HEALTHY":
                self.health = "HEALTHY"
                self._on_change()
            return 0
        starting = self.health == "UNKNOWN"
        if starting and now - self._started < _START_PERIOD_S:
            return 0  # failures within the start period do not count
        failures += 1
        if failures >= _RETRIES and self.health != "UNHEALTHY":
            self.health = "UNHEALTHY"
            self._on_change()
        return failures


def _answers_healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://{LOOPBACK}:{port}/healthz", timeout=_PROBE_TIMEOUT_S
        ) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def replica_env(task_env: list[dict[str, str]], overrides: dict[str, str]) -> dict[str, str]:
    """The container's environment from the task definition, plus what the emulator must
    set (bind address, task metadata URL). Only a few variables of the emulator itself are
    passed on, so the machine's AWS or MCPFLEET settings cannot leak into a replica."""
    passed = ("PATH", "HOME", "LANG", "RUST_LOG", "RUST_BACKTRACE")
    env = {name: os.environ[name] for name in passed if name in os.environ}
    env.update({item["name"]: item["value"] for item in task_env})
    env.update(overrides)
    return env
