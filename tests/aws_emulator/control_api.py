"""The control API tests drive the emulator with: plain HTTP and JSON on 127.0.0.1.

  POST /fleet                      build services from the deploy assets (fleet_setup.py)
  POST /emit-logs                  numbered lines into one task's log stream
  GET  /faults, POST /faults       the fault proxy's plan
  GET  /proxy-stats                requests and injected faults per service:Operation
  POST /reset-stats                zero those counters
  POST /reset                      stop every replica, reset moto, faults and counters
  GET  /ecs-metadata/<task id>     task metadata v4, container document
  GET  /ecs-metadata/<task id>/task                     task document

Errors answer {"error": "..."} with 400 (bad request), 404 (unknown path or task),
504 (the fleet did not become ready) or 500.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from http.server import BaseHTTPRequestHandler

import botocore.exceptions
from moto.moto_api._internal.models import moto_api_backend

import moto_state
import task_metadata
from fault_proxy import FaultPlan, FaultProxy
from fleet_setup import FleetBuilder
from fleet_task import FleetTask
from log_shipper import LogDestination, LogShipper, emit_numbered
from loopback_server import LoopbackServer
from moto_state import STATE_LOCK
from scheduler import Scheduler
from service_connect_metrics import ServiceConnectMetrics
from task_runner import stop_all

_log = logging.getLogger(__name__)


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ControlApi(LoopbackServer):
    def __init__(
        self,
        *,
        region: str,
        moto_url: str,
        scheduler: Scheduler,
        shipper: LogShipper,
        proxy: FaultProxy,
        metrics: ServiceConnectMetrics,
    ):
        self.region = region
        self.scheduler = scheduler
        self.shipper = shipper
        self.proxy = proxy
        self.metrics = metrics
        self.fleet = FleetBuilder(moto_url, region, scheduler)
        super().__init__(_handler_for(self), "control")

    # ---- endpoints ----

    def post_emit_logs(self, body: dict) -> dict:
        count, over_ms = int(body.get("count", 1000)), int(body.get("over_ms", 5000))
        if count < 1 or over_ms < 0:
            raise HttpError(400, "count must be positive and over_ms not negative")
        with STATE_LOCK:
            task = self._task(body["cluster"], body["service"], body["task_id"])
            destination = LogDestination.of(task, task.container_definition)
        if destination is None:
            raise HttpError(400, f"task {task.id} does not log with awslogs")
        try:
            return emit_numbered(self.shipper, destination, count, over_ms)
        except LookupError as error:
            raise HttpError(400, str(error)) from None

    def post_faults(self, body: dict) -> dict:
        try:
            plan = FaultPlan.from_json(body)
        except (TypeError, ValueError) as error:
            raise HttpError(400, str(error)) from None
        self.proxy.set_plan(plan)
        return dataclasses.asdict(plan)

    def post_reset(self) -> dict:
        """A clean slate: no replicas, empty moto (what POST /moto-api/reset does, done
        under the state lock so the scheduler sees the old world or the new one), no
        faults, zero counters."""
        with STATE_LOCK:
            replicas = self.scheduler.forget_all()
            moto_api_backend.reset()
        self.fleet.reset()
        stop_all(replicas, grace_s=3.0)
        self.shipper.reset()
        self.metrics.reset()
        self.proxy.set_plan(FaultPlan())
        self.proxy.reset_stats()
        return {"reset": True}

    def get_metadata(self, task_id: str, document: str) -> dict:
        with STATE_LOCK:
            task = self.scheduler.runner.tasks_by_id.get(task_id)
            if task is None:
                raise HttpError(404, f"no task {task_id}")
            if document == "task":
                return task_metadata.task_document(task)
            return task_metadata.container_document(task)

    def _task(self, cluster: str, service: str, task_id: str) -> FleetTask:
        tasks = moto_state.ecs(self.region).tasks.get(cluster, {})
        for task in tasks.values():
            if (
                isinstance(task, FleetTask)
                and task.id == task_id
                and task.group == f"service:{service}"
            ):
                return task
        raise HttpError(404, f"no task {task_id} of service {service} in cluster {cluster}")


def _handler_for(api: ControlApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 120

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            self._answer(self._get)

        def do_POST(self):
            self._answer(self._post)

        def _get(self, parts: list[str]):
            if parts == ["faults"]:
                return dataclasses.asdict(api.proxy.plan())
            if parts == ["proxy-stats"]:
                return api.proxy.stats()
            if len(parts) in (2, 3) and parts[0] == "ecs-metadata" and parts[2:] in ([], ["task"]):
                return api.get_metadata(parts[1], "task" if len(parts) == 3 else "container")
            raise HttpError(404, f"no such endpoint: GET {self.path}")

        def _post(self, parts: list[str]):
            body = self._json_body()
            if parts == ["fleet"]:
                return api.fleet.build(body)
            if parts == ["emit-logs"]:
                return api.post_emit_logs(body)
            if parts == ["faults"]:
                return api.post_faults(body)
            if parts == ["reset-stats"]:
                api.proxy.reset_stats()
                return {"reset": True}
            if parts == ["reset"]:
                return api.post_reset()
            raise HttpError(404, f"no such endpoint: POST {self.path}")

        def _json_body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as error:
                raise HttpError(400, f"body is not JSON: {error}") from None
            if not isinstance(body, dict):
                raise HttpError(400, "body must be a JSON object")
            return body

        def _answer(self, route) -> None:
            parts = [part for part in self.path.split("?", 1)[0].split("/") if part]
            try:
                status, answer = 200, route(parts)
            except HttpError as error:
                status, answer = error.status, {"error": str(error)}
            except (KeyError, TypeError, ValueError) as error:
                status, answer = 400, {"error": f"bad request: {error!r}"}
            except botocore.exceptions.ClientError as error:
                status, answer = 400, {"error": str(error)}
            except TimeoutError as error:
                status, answer = 504, {"error": str(error)}
            except Exception as error:
                _log.exception("control API %s %s failed", self.command, self.path)
                status, answer = 500, {"error": f"{type(error).__name__}: {error}"}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
