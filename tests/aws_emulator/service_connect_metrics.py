"""Service Connect metrics into moto's CloudWatch, the way ECS publishes them: namespace
AWS/ECS, dimensions ClusterName, ServiceName and DiscoveryName
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html).

For tasks with a replica the values come from its Prometheus /metrics, as differences
between two publications (our server has no HTTP-level counters, so tool calls stand in
for requests):
- RequestCount: tool calls finished
- HTTPCode_Target_5XX_Count: tool calls that ended in a tool or protocol error
- TargetResponseTime: their mean latency, in milliseconds (only when there were calls)
- ActiveConnectionCount: tool calls in flight at publication time
Tasks without a replica count 10 requests, no errors, 25 ms and 1 connection each.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass

import moto_state
from fleet_task import LOOPBACK, FleetTask
from moto_state import STATE_LOCK

_SCRAPE_TIMEOUT_S = 1.0
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    calls: float = 0.0
    errors: float = 0.0
    latency_sum_s: float = 0.0
    latency_count: float = 0.0
    in_flight: float = 0.0

    @staticmethod
    def parse(text: str) -> Sample:
        values: dict[str, float] = defaultdict(float)
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            name = series.split("{", 1)[0]
            values[name] += float(value)
            if name == "mcpfleet_tool_calls_total" and (
                'outcome="tool_error"' in series or 'outcome="protocol_error"' in series
            ):
                values["errors"] += float(value)
        return Sample(
            calls=values["mcpfleet_tool_calls_total"],
            errors=values["errors"],
            latency_sum_s=values["mcpfleet_tool_call_duration_seconds_sum"],
            latency_count=values["mcpfleet_tool_call_duration_seconds_count"],
            in_flight=values["mcpfleet_in_flight_calls"],
        )


@dataclass(frozen=True)
class _Target:
    region: str
    cluster: str
    service: str
    discovery_names: tuple[str, ...]
    tasks: tuple[tuple[str, int, bool], ...]  # (task ARN, host port, has a replica)


class ServiceConnectMetrics:
    def __init__(self, interval_s: float):
        self._interval_s = interval_s
        self._previous: dict[str, Sample] = {}  # task ARN → last scrape

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval_s):
            try:
                self.publish()
            except Exception:  # keep publishing; the traceback says what went wrong
                _log.exception("publishing Service Connect metrics failed")

    def publish(self) -> None:
        with STATE_LOCK:
            targets = _targets()
        data = [(target, self._measure(target)) for target in targets]
        live = {arn for target in targets for arn, _, _ in target.tasks}
        for arn in [arn for arn in self._previous if arn not in live]:
            del self._previous[arn]
        with STATE_LOCK:
            for target, metrics in data:
                for discovery_name in target.discovery_names:
                    dimensions = [
                        {"Name": "ClusterName", "Value": target.cluster},
                        {"Name": "ServiceName", "Value": target.service},
                        {"Name": "DiscoveryName", "Value": discovery_name},
                    ]
                    moto_state.cloudwatch(target.region).put_metric_data(
                        "AWS/ECS",
                        [{**metric, "Dimensions": dimensions} for metric in metrics],
                    )

    def reset(self) -> None:
        self._previous.clear()

    def _measure(self, target: _Target) -> list[dict]:
        requests = errors = latency_sum_s = latency_count = connections = 0.0
        for arn, port, real in target.tasks:
            if not real:
                requests, connections = requests + 10, connections + 1
                latency_sum_s, latency_count = latency_sum_s + 0.025 * 10, latency_count + 10
                continue
            now = _scrape(port)
            if now is None:
                continue
            before = self._previous.get(arn, Sample())
            self._previous[arn] = now
            requests += max(now.calls - before.calls, 0)
            errors += max(now.errors - before.errors, 0)
            latency_sum_s += max(now.latency_sum_s - before.latency_sum_s, 0)
            latency_count += max(now.latency_count - before.latency_count, 0)
            connections += now.in_flight
        metrics = [
            {"MetricName": "RequestCount", "Value": requests, "Unit": "Count"},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Value": errors, "Unit": "Count"},
            {"MetricName": "ActiveConnectionCount", "Value": connections, "Unit": "Count"},
        ]
        if latency_count:
            mean_ms = latency_sum_s / latency_count * 1000
            metrics.append(
                {"MetricName": "TargetResponseTime", "Value": mean_ms, "Unit": "Milliseconds"}
            )
        return metrics


def _targets() -> list[_Target]:
    """The Service Connect services and their serving tasks (state lock held)."""
    targets = []
    for backend in moto_state.all_ecs():
        serving = defaultdict(list)
        for cluster_name, tasks in backend.tasks.items():
            for task in tasks.values():
                if isinstance(task, FleetTask) and task.last_status == "RUNNING" and task.host_port:
                    serving[(cluster_name, task.group)].append(
                        (task.task_arn, task.host_port, task.options.real)
                    )
        for service in backend.services.values():
            if service.status != "ACTIVE" or not hasattr(service, "scheduler_state"):
                continue
            resources = service.deployments[0].get("serviceConnectResources") or []
            if not resources:
                continue
            targets.append(
                _Target(
                    region=service.region_name,
                    cluster=service.cluster_name,
                    service=service.name,
                    discovery_names=tuple(r["discoveryName"] for r in resources),
                    tasks=tuple(serving[(service.cluster_name, f"service:{service.name}")]),
                )
            )
    return targets


def _scrape(port: int) -> Sample | None:
    try:
        with urllib.request.urlopen(
            f"http://{LOOPBACK}:{port}/metrics", timeout=_SCRAPE_TIMEOUT_S
        ) as response:
            return Sample.parse(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None  # stopping or not up yet; the next publication catches up
