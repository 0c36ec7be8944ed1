"""Smithy RPC v2 CBOR in front of moto, for CloudWatch.

The AWS SDKs that follow the newest CloudWatch model (aws-sdk-cloudwatch for Rust ≥ 1.100)
send `POST /service/GraniteServiceVersion20100801/operation/<Operation>` with a CBOR body
(https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html). moto 5.2.5 only
answers CloudWatch's JSON and query protocols (moto issue 9195). This WSGI middleware turns
such a request into the equivalent awsJson1_0 request, lets moto answer it, and turns the
answer back into CBOR, so every CloudWatch operation moto implements works over CBOR.

The answer is shaped by the operation's output shape from botocore's CloudWatch model,
because CBOR is typed where JSON is not: timestamps must be tag 1 with a floating-point
number of epoch seconds, and doubles must be floats (the Rust decoder rejects integers in
both places).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from typing import Any

import botocore.session
import cbor2
from werkzeug.test import run_wsgi_app

_PATH = re.compile(r"^/service/(?P<service>[^/]+)/operation/(?P<operation>[^/]+)$")

# Smithy service shape name → (botocore service name, awsJson version moto speaks for it).
_SERVICES = {"GraniteServiceVersion20100801": ("cloudwatch", "1.0")}

# Headers of moto's answer worth keeping: the request id, and the awsQueryCompatible error
# code that the SDKs prefer over `__type` when present.
_KEPT_HEADERS = ("x-amzn-requestid", "x-amzn-query-error")


class CborGateway:
    """WSGI middleware: RPC v2 CBOR requests for known services, everything else as is."""

    def __init__(self, app):
        self._app = app
        self._models = {}

    def __call__(self, environ, start_response):
        match = _PATH.match(environ.get("PATH_INFO", ""))
        if not match or match["service"] not in _SERVICES or environ["REQUEST_METHOD"] != "POST":
            return self._app(environ, start_response)
        service_name, json_version = _SERVICES[match["service"]]
        status, headers, body = self._answer(environ, match, service_name, json_version)
        start_response(status, headers)
        return [body]

    def _answer(self, environ, match, service_name: str, json_version: str):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            request = cbor2.loads(raw) if raw else {}
        except (cbor2.CBORDecodeError, ValueError) as error:
            return _error(
                "400 Bad Request", "SerializationException", f"invalid CBOR body: {error}"
            )
        payload = json.dumps(_to_json(request)).encode()

        inner = dict(environ)
        inner.update(
            {
                "PATH_INFO": "/",
                "QUERY_STRING": "",
                "CONTENT_TYPE": f"application/x-amz-json-{json_version}",
                "CONTENT_LENGTH": str(len(payload)),
                "HTTP_X_AMZ_TARGET": f"{match['service']}.{match['operation']}",
                "wsgi.input": io.BytesIO(payload),
            }
        )
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        app_iter, status, headers = run_wsgi_app(self._app, inner, buffered=True)
        answer = b"".join(app_iter)
        kept = [(name, value) for name, value in headers.items() if name.lower() in _KEPT_HEADERS]

        try:
            document = json.loads(answer) if answer.strip() else {}
        except ValueError:  # an error page rather than an awsJson answer
            document = {}
        if not status.startswith("2"):
            body = {
                "__type": document.get("__type", "InternalFailure"),
                "message": document.get("message")
                or document.get("Message")
                or answer.decode(errors="replace"),
            }
            return status, _cbor_headers(kept), cbor2.dumps(body)
        shape = self._model(service_name).operation_model(match["operation"]).output_shape
        body = _to_cbor(document, shape) if shape is not None else {}
        return status, _cbor_headers(kept), cbor2.dumps(body)

    def _model(self, service_name: str):
        if service_name not in self._models:
            self._models[service_name] = botocore.session.get_session().get_service_model(
                service_name
            )
        return self._models[service_name]


def _cbor_headers(extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), *extra]


def _error(status: str, code: str, message: str):
    return status, _cbor_headers([]), cbor2.dumps({"__type": code, "message": message})


def _to_json(value: Any) -> Any:
    """CBOR request values → awsJson request values (epoch seconds, base64 blobs)."""
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, cbor2.CBORTag) and value.tag == 1:
        return float(value.value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _to_cbor(value: Any, shape) -> Any:
    """awsJson answer values → CBOR values typed by the botocore output shape."""
    kind = shape.type_name
    if kind == "structure":
        return {
            name: _to_cbor(item, shape.members[name])
            for name, item in value.items()
            if name in shape.members and item is not None
        }
    if kind == "list":
        return [_to_cbor(item, shape.member) for item in value]
    if kind == "map":
        return {key: _to_cbor(item, shape.value) for key, item in value.items()}
    if kind == "timestamp":
        return cbor2.CBORTag(1, _epoch_seconds(value))
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "blob":
        return base64.b64decode(value)
    return value


def _epoch_seconds(value: Any) -> float:
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return float(value)
