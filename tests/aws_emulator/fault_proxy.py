"""A fault-injecting HTTP proxy in front of moto, for the console's retry and call-budget
tests. Requests are forwarded unchanged (Host header included, so a SigV4 signature made
for the proxy's address stays as it was signed); at configurable rates the proxy answers
instead with the errors real AWS gives under load:

- throttle:  HTTP 400 ThrottlingException "Rate exceeded"
- error500:  HTTP 500 ServerException (ECS) or InternalFailure (other services)
- expired:   HTTP 400 ExpiredTokenException
- slow:      the real answer, `slow_ms` later

Error bodies follow the request's protocol: awsJson (`__type` + x-amzn-ErrorType), Smithy
RPC v2 CBOR (`__type` in a CBOR map) or the query protocol's XML. Every signed request is
counted per `service:Operation` (the IAM prefix, as the console names them), and every
injected fault per kind.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import cbor2

from loopback_server import LoopbackServer

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_CBOR_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
# Signing names that differ from the IAM prefix the console reports.
_IAM_PREFIX = {"monitoring": "cloudwatch"}
_UPSTREAM_TIMEOUT_S = 60
KINDS = ("throttle", "error500", "slow", "expired")


@dataclass(frozen=True)
class FaultPlan:
    throttle: float = 0.0
    error500: float = 0.0
    slow_rate: float = 0.0
    slow_ms: int = 0
    expired: float = 0.0
    seed: int = 0
    # Restrict faults to these services ("ecs") or operations ("ecs:ListTasks"); empty = all.
    only: tuple[str, ...] = field(default_factory=tuple)

    @staticmethod
    def from_json(body: dict) -> FaultPlan:
        unknown = set(body) - {
            "throttle",
            "error500",
            "slow_rate",
            "slow_ms",
            "expired",
            "seed",
            "only",
        }
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        plan = FaultPlan(
            throttle=float(body.get("throttle", 0.0)),
            error500=float(body.get("error500", 0.0)),
            slow_rate=float(body.get("slow_rate", 0.0)),
            slow_ms=int(body.get("slow_ms", 0)),
            expired=float(body.get("expired", 0.0)),
            seed=int(body.get("seed", 0)),
            only=tuple(body.get("only") or ()),
        )
        if not isinstance(body.get("only") or [], list):
            raise ValueError('only must be a list like ["ecs", "logs:FilterLogEvents"]')
        for name in ("throttle", "error500", "slow_rate", "expired"):
            if not 0.0 <= getattr(plan, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if plan.slow_ms < 0:
            raise ValueError("slow_ms must not be negative")
        return plan

    def applies_to(self, operation: str) -> bool:
        return not self.only or any(
            operation == entry or operation.split(":", 1)[0] == entry for entry in self.only
        )


class FaultProxy(LoopbackServer):
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self._lock = threading.Lock()
        self._plan = FaultPlan()
        self._rng = random.Random(0)
        self._requests: Counter[str] = Counter()
        self._faults: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        super().__init__(_handler_for(self), "fault-proxy")

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)

    def plan(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def stats(self) -> dict:
        with self._lock:
            return {
                "requests": dict(sorted(self._requests.items())),
                "total_requests": sum(self._requests.values()),
                "faults": {kind: dict(sorted(c.items())) for kind, c in self._faults.items()},
                "total_faults": sum(sum(c.values()) for c in self._faults.values()),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._requests.clear()
            for counter in self._faults.values():
                counter.clear()

    def decide(self, operation: str) -> tuple[str | None, int]:
        """Counts the request and draws its fault: (kind or None, delay in ms)."""
        with self._lock:
            self._requests[operation] += 1
            plan = self._plan
            if not plan.applies_to(operation):
                return None, 0
            # One draw per kind, always in this order, so a seed replays the same faults.
            draws = {
                kind: self._rng.random() for kind in ("expired", "throttle", "error500", "slow")
            }
            for kind, rate in (
                ("expired", plan.expired),
                ("throttle", plan.throttle),
                ("error500", plan.error500),
            ):
                if draws[kind] < rate:
                    self._faults[kind][operation] += 1
                    return kind, 0
            if draws["slow"] < plan.slow_rate and plan.slow_ms > 0:
                self._faults["slow"][operation] += 1
                return "slow", plan.slow_ms
            return None, 0


def _handler_for(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as SDK connection pools expect
        timeout = 120  # an idle client connection is closed after this

        def do_GET(self):
            self._relay()

        do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

        def log_message(self, format, *args):
            pass  # one line per request would drown the emulator's diagnostics

        def _relay(self) -> None:
            body = self._read_body()
            operation = _operation(self.headers, self.path, body)
            if operation is not None:
                kind, delay_ms = proxy.decide(operation)
                if kind in ("throttle", "error500", "expired"):
                    self._send(*_fault_response(kind, operation, self.headers, self.path))
                    return
                if delay_ms:
                    time.sleep(delay_ms / 1000)
            try:
                answer = self._forward(body)
            except (OSError, http.client.HTTPException) as error:
                answer = _error_response(
                    502,
                    "InternalFailure",
                    f"fault proxy: moto did not answer: {error}",
                    self.headers,
                    self.path,
                )
            self._send(*answer)

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(
                "127.0.0.1", proxy.upstream_port, timeout=_UPSTREAM_TIMEOUT_S
            )
            try:
                connection.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for name, value in self.headers.items():
                    if name.lower() not in _HOP_BY_HOP:
                        connection.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body or None)
                response = connection.getresponse()
                data = response.read()
                headers = [(n, v) for n, v in response.getheaders() if n.lower() not in _HOP_BY_HOP]
                return response.status, headers, data
            finally:
                connection.close()

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            # Not send_response: it would add a second Server and Date to moto's.
            self.send_response_only(status)
            if not any(name.lower() == "date" for name, _ in headers):
                self.send_header("Date", self.date_time_string())
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return Handler


def _operation(headers, path: str, body: bytes) -> str | None:
    """`service:Operation` of a signed AWS request, None for anything else (moto-api)."""
    scope = _SCOPE.search(headers.get("Authorization", ""))
    if scope is None:
        return None
    service = _IAM_PREFIX.get(scope.group(1), scope.group(1))
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    cbor = _CBOR_PATH.match(path)
    if cbor:
        return f"{service}:{cbor.group(1)}"
    action = parse_qs(body.decode("utf-8", errors="replace")).get("Action") or parse_qs(
        path.partition("?")[2]
    ).get("Action")
    return f"{service}:{action[0] if action else 'Unknown'}"


def _fault_response(kind: str, operation: str, headers, path: str):
    if kind == "throttle":
        return _error_response(400, "ThrottlingException", "Rate exceeded", headers, path)
    if kind == "expired":
        return _error_response(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
            headers,
            path,
        )
    code = "ServerException" if operation.startswith("ecs:") else "InternalFailure"
    return _error_response(
        500, code, "Internal server error (injected by the fault proxy)", headers, path
    )


def _error_response(status: int, code: str, message: str, headers, path: str):
    request_id = str(uuid.uuid4())
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or _CBOR_PATH.match(path):
        body = cbor2.dumps({"__type": code, "message": message})
        return (
            status,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    if headers.get("X-Amz-Target"):
        content_type = headers.get("Content-Type") or "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message}, separators=(",", ":")).encode()
        return (
            status,
            [
                ("Content-Type", content_type),
                ("x-amzn-ErrorType", code),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    kind = "Sender" if status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
