"""What the emulator checks observe from outside: polling, replica processes, MCP calls,
raw TCP ports and CloudWatch's CBOR protocol."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request

import cbor2


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1, what: str = "condition"):
    """Polls `predicate` until it returns something truthy; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def replica_pid(task_id: str) -> int | None:
    """The live replica process of a task, found by the MCPFLEET_REPLICA the emulator set."""
    needle = f"MCPFLEET_REPLICA={task_id}".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
            with open(f"/proc/{entry.name}/stat") as stat:
                zombie = stat.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if needle in variables and not zombie:
            return int(entry.name)
    return None


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def call_tool(port: int, name: str, arguments: dict | None = None) -> dict:
    """One stateless MCP tools/call; returns the tool's structured result."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/mcp",
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments or {}},
            }
        ).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    if body.startswith("event:") or body.startswith("data:"):
        body = next(line[5:] for line in body.splitlines() if line.startswith("data:"))
    return json.loads(body)["result"]


CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
# moto only reads the credential scope; the signature itself is not checked.
MONITORING_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def cbor_call(base_url: str, operation: str, body: dict) -> tuple[int, dict, dict, bytes]:
    """One Smithy RPC v2 CBOR call: status, headers, decoded body and the raw body."""
    request = urllib.request.Request(
        base_url + CBOR_PATH + operation,
        data=cbor2.dumps(body),
        headers={
            "smithy-protocol": "rpc-v2-cbor",
            "Content-Type": "application/cbor",
            "Accept": "application/cbor",
            "Authorization": MONITORING_AUTH,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    return status, headers, cbor2.loads(raw), raw
