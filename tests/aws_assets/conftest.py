"""Fixtures for the deploy-asset tests: a moto server on loopback and clients for it.

The moto server runs as a child process of this interpreter (same venv), bound to
127.0.0.1 on a free port. Credentials are fake and set only for the test run;
nothing here can reach a real AWS endpoint.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from asset_files import REGION

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Keep any config or credentials of the machine out of the picture.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    last: Exception | None = None
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(
                f"moto server exited with {proc.returncode} before answering:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url + "/moto-api/data.json", timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"moto server at {url} did not answer within {deadline_s}s ({last}):\n{log.read_text()}")


@pytest.fixture(scope="session")
def aws_env():
    """Fake credentials for the whole test run, restored afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for name in CLEARED_ENV:
            mp.delenv(name, raising=False)
        for name, value in FAKE_ENV.items():
            mp.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def moto_url(aws_env, tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def moto(moto_url):
    """A moto server with empty state for each test."""
    req = urllib.request.Request(moto_url + "/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    return moto_url


@pytest.fixture
def client(moto):
    session = boto3.session.Session(region_name=REGION)

    def make(service: str):
        return session.client(service, endpoint_url=moto)

    return make
