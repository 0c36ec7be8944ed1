"""moto's server, in this process, on 127.0.0.1.

In-process (rather than `python -m moto.server`) so the fidelity layer and the simulator
work on the very backend objects that answer the API. The WSGI app is moto's own
dispatcher with two additions: the CBOR gateway for CloudWatch, and STATE_LOCK around
each request so simulator threads never see a half-applied request (or the reverse).
"""

from __future__ import annotations

import logging
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import run_wsgi_app

from cbor_gateway import CborGateway
from moto_state import STATE_LOCK


class _Locked:
    """Runs each request, body included, under STATE_LOCK."""

    def __init__(self, app):
        self._app = app

    def __call__(self, environ, start_response):
        with STATE_LOCK:
            app_iter, status, headers = run_wsgi_app(self._app, environ, buffered=True)
        start_response(status, headers.to_wsgi_list())
        return app_iter


class MotoServer:
    def __init__(self) -> None:
        app = _Locked(CborGateway(DomainDispatcherApplication(create_backend_app)))
        # One line per request on stderr would drown the diagnostics that matter.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
