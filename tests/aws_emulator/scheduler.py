"""The ECS service scheduler that moto lacks: it keeps each service at its desired count
and rolls its deployments; task_runner.py walks the tasks through their lifecycle.

Real ECS behaviour restored here:
- A service runs `desiredCount` tasks of its PRIMARY deployment; scaling starts or stops
  tasks (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html).
- Rolling update: new tasks start while the total stays within maximumPercent, old tasks
  stop only while the healthy count stays at or above minimumHealthyPercent; a drained
  deployment disappears and the PRIMARY becomes COMPLETED
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html).
- Tasks are spread over the service's subnets, and so over Availability Zones.
- Service events in ECS wording; stopped tasks stay describable for an hour.

- The deployment circuit breaker: a rollout whose tasks fail to start or stay up as often
  as its threshold (half the desired count, at least 3, at most 200) is FAILED, and with
  rollback on, the task definition of the last COMPLETED deployment is deployed again; the
  failed deployment stays listed, INACTIVE once its tasks are gone
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).

Not modelled: placement strategies, capacity providers, task sets.

Each step runs under STATE_LOCK; starting and signalling processes happens after the lock
is released, on this scheduler's own thread (see replicas._die_with_parent for why).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from moto.core.utils import utcnow
from moto.ec2.exceptions import InvalidSubnetIdError

import deployments
import moto_state
import service_connect
from fleet_task import FleetTask, TaskOptions
from log_shipper import LogShipper
from moto_state import STATE_LOCK
from replicas import Replica
from task_runner import TaskRunner

# Steps follow each other quickly while something moves, and slowly once the fleet is
# settled; API calls and replica health changes wake the scheduler at once.
_BUSY_TICK_S = 0.1
_IDLE_TICK_S = 1.0
# Real ECS keeps stopped tasks describable for at least an hour.
_STOPPED_RETENTION = dt.timedelta(hours=1)
_log = logging.getLogger(__name__)


@dataclass
class ServiceState:
    """What the scheduler remembers about a service beyond what ECS shows."""

    options: TaskOptions
    placements: int = 0  # tasks placed so far; rotates them over the service's subnets
    steady: bool = False


class Scheduler:
    def __init__(self, server_bin: str, shipper: LogShipper):
        self._wake = threading.Event()
        self._options: dict[tuple[str, str, str], TaskOptions] = {}
        self.runner = TaskRunner(server_bin, shipper, self.wake)

    # ---- called by the fidelity layer and the control API (state lock held) ----

    def expect(self, region: str, cluster: str, service_name: str, options: TaskOptions) -> None:
        """Options for a service about to be created (defaults: real and reachable)."""
        self._options[(region, cluster, service_name)] = options

    def adopt(self, service) -> None:
        """Takes a just-created service under the scheduler with its first deployment."""
        key = (service.region_name, service.cluster_name, service.name)
        service.scheduler_state = ServiceState(self._options.pop(key, TaskOptions()))
        service.deployments = [self._deployment(service)]
        self.wake()

    def deploy(self, service) -> None:
        """Starts a new PRIMARY deployment; the previous ones become ACTIVE and drain."""
        for old in service.deployments:
            if old["status"] == "PRIMARY":
                old["status"] = "ACTIVE"
                old["updatedAt"] = utcnow()
        service.deployments.insert(0, self._deployment(service))
        service.scheduler_state.steady = False
        self.wake()

    def begin_stop(self, task: FleetTask, reason: str, stop_code: str) -> None:
        self.runner.begin_stop(task, reason, stop_code)

    def wake(self) -> None:
        self._wake.set()

    # ---- the loop ----

    def run(self, stop: threading.Event) -> None:
        busy = True
        took = 0.0
        while not stop.is_set():
            # A pass over a big fleet holds STATE_LOCK for a while: wait at least twice as
            # long as it took, so API calls always get the lock most of the time.
            self._wake.wait(max(_BUSY_TICK_S if busy else _IDLE_TICK_S, 2 * took))
            self._wake.clear()
            started = time.monotonic()
            try:
                busy = self.step()
            except Exception:  # keep scheduling; the traceback says what went wrong
                _log.exception("scheduler step failed")
            took = time.monotonic() - started

    def step(self) -> bool:
        """One pass over every service and task; True when anything changed."""
        effects: list[Callable[[], None]] = []
        with STATE_LOCK:
            changed = False
            for backend in moto_state.all_ecs():
                changed |= self._reconcile(backend, effects)
            self.runner.forget_vanished(effects)
        for effect in effects:
            effect()
        return changed or bool(effects)

    def forget_all(self) -> list[Replica]:
        """Forgets every service option and task; returns the replicas for the caller to
        stop once it has reset moto (or is shutting down)."""
        with STATE_LOCK:
            self._options.clear()
            return self.runner.forget_all()

    # ---- reconciliation ----

    def _reconcile(self, backend, effects: list[Callable[[], None]]) -> bool:
        by_group: dict[tuple[str, str], list[FleetTask]] = defaultdict(list)
        now = utcnow()
        changed = False
        for cluster_name, tasks in backend.tasks.items():
            for arn, task in list(tasks.items()):
                if not isinstance(task, FleetTask):
                    continue
                if task.last_status == "STOPPED" and now - task.stopped_at > _STOPPED_RETENTION:
                    del tasks[arn]
                    self.runner.forget(task)
                    continue
                by_group[(cluster_name, task.group)].append(task)
        for service in list(backend.services.values()):
            if not hasattr(service, "scheduler_state"):
                continue  # not created through the API (e.g. by CloudFormation in moto)
            tasks = by_group.pop((service.cluster_name, f"service:{service.name}"), [])
            before = _fingerprint(service, tasks)
            for task in tasks:
                self.runner.advance(service, task, effects)
            self._reconcile_service(backend, service, tasks)
            changed |= _fingerprint(service, tasks) != before
        return changed

    def _reconcile_service(self, backend, service, tasks: list[FleetTask]) -> None:
        state: ServiceState = service.scheduler_state
        primary, *older = service.deployments
        desired = service.desired_count if service.status == "ACTIVE" else 0
        config = service.deployment_configuration
        max_total = desired * config["maximumPercent"] // 100
        min_healthy = math.ceil(desired * config["minimumHealthyPercent"] / 100)
        scaling = f"Scaling activity initiated by (deployment {primary['id']})"

        def live() -> list[FleetTask]:
            return [t for t in tasks if t.desired_status == "RUNNING"]

        stopped_ids = []
        primary_live = [t for t in live() if t.started_by == primary["id"]]
        for task in sorted(primary_live, key=_stop_order)[: max(len(primary_live) - desired, 0)]:
            self.begin_stop(task, scaling, "ServiceSchedulerInitiated")
            stopped_ids.append(task.id)
        # Old tasks that do not serve can always go; serving ones only while enough others
        # serve to keep minimumHealthyPercent.
        spare = sum(1 for t in live() if _serving(t)) - min_healthy
        for task in sorted((t for t in live() if t.started_by != primary["id"]), key=_stop_order):
            if _serving(task):
                if spare <= 0:
                    continue
                spare -= 1
            self.begin_stop(task, scaling, "ServiceSchedulerInitiated")
            stopped_ids.append(task.id)

        primary_count = sum(1 for t in live() if t.started_by == primary["id"])
        to_start = min(desired - primary_count, max_total - len(live()))
        started_ids = []
        for _ in range(max(to_start, 0)):
            task = self._place(backend, service, primary, state)
            tasks.append(task)
            started_ids.append(task.id)
        if stopped_ids:
            deployments.add_event(service, deployments.stopped(service.name, stopped_ids))
        if started_ids:
            deployments.add_event(service, deployments.started(service.name, started_ids))

        running = live()
        service.deployments = [primary] + [
            d
            for d in older
            if any(t.started_by == d["id"] for t in running) or d["rolloutState"] == "FAILED"
        ]
        primary["desiredCount"] = desired
        for deployment in service.deployments:
            mine = [t for t in running if t.started_by == deployment["id"]]
            counts = {
                "runningCount": sum(1 for t in mine if t.last_status == "RUNNING"),
                "pendingCount": sum(1 for t in mine if t.last_status in _PENDING),
            }
            if deployment is not primary:
                counts["desiredCount"] = len(mine)
                if not mine and deployment["status"] != "INACTIVE":
                    counts["status"] = "INACTIVE"
            if any(deployment[key] != value for key, value in counts.items()):
                deployment.update(counts)
                deployment["updatedAt"] = utcnow()
        self._trip_breaker(service, primary)
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = sum(d["pendingCount"] for d in service.deployments)

        # Settled once the only deployment serves with all its tasks and every stopped
        # task has finished stopping.
        settled = (
            sum(1 for d in service.deployments if d["status"] != "INACTIVE") == 1
            and len(running) == desired
            and all(_serving(t) for t in running)
            and all(t.last_status == "STOPPED" for t in tasks if t.desired_status == "STOPPED")
        )
        if settled and primary["rolloutState"] == "IN_PROGRESS":
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            primary["updatedAt"] = utcnow()
            deployments.add_event(
                service, deployments.deployment_completed(service.name, primary["id"])
            )
        if settled and not state.steady:
            deployments.add_event(service, deployments.steady_state(service.name))
        state.steady = settled
        if service.status == "DRAINING" and settled:
            service.status = "INACTIVE"

    def _trip_breaker(self, service, primary: dict) -> None:
        breaker = service.deployment_configuration.get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable") or primary["rolloutState"] != "IN_PROGRESS":
            return
        threshold = min(200, max(3, math.ceil(service.desired_count / 2)))
        if primary["failedTasks"] < threshold:
            return
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        primary["updatedAt"] = utcnow()
        deployments.add_event(service, deployments.deployment_failed(service.name, primary["id"]))
        previous = next(
            (d for d in service.deployments[1:] if d["rolloutState"] == "COMPLETED"), None
        )
        if breaker.get("rollback") and previous is not None:
            service.task_definition = previous["taskDefinition"]
            self.deploy(service)
            deployments.add_event(
                service, deployments.rolling_back(service.name, previous["id"])
            )

    def _place(self, backend, service, deployment: dict, state: ServiceState) -> FleetTask:
        """Creates a task of `deployment`, placed round-robin over the service's subnets
        (and so over their Availability Zones)."""
        task_definition = backend.describe_task_definition(deployment["taskDefinition"])
        network = (service.network_configuration or {}).get("awsvpcConfiguration") or {}
        subnets = network.get("subnets") or ["subnet-00000000"]
        subnet = subnets[state.placements % len(subnets)]
        zone = _zone_of(service.region_name, subnet) or (
            service.region_name + "abc"[state.placements % 3]
        )
        state.placements += 1
        cluster = backend.clusters[service.cluster_name]
        task = FleetTask(
            backend,
            cluster,
            service,
            deployment["id"],
            task_definition,
            subnet,
            zone,
            state.options,
        )
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        self.runner.track(task)
        return task

    def _deployment(self, service) -> dict:
        config = getattr(service, "service_connect_configuration", None)
        return deployments.new_deployment(
            service, service_connect.resources(service.region_name, config)
        )


_PENDING = ("PROVISIONING", "PENDING", "ACTIVATING")


def _fingerprint(service, tasks: list[FleetTask]) -> tuple:
    """Everything a step can change about a service and its tasks."""
    return (
        service.status,
        tuple(
            (d["id"], d["status"], d["rolloutState"], d["runningCount"], d["pendingCount"])
            for d in service.deployments
        ),
        tuple(task.version for task in tasks),
    )


def _serving(task: FleetTask) -> bool:
    return task.last_status == "RUNNING" and task.health_status == "HEALTHY"


def _stop_order(task: FleetTask) -> tuple[bool, float]:
    """Which task to stop first: those not serving, then the newest."""
    return (_serving(task), -task.created_at.timestamp())


def _zone_of(region: str, subnet_id: str) -> str | None:
    try:
        return moto_state.ec2(region).get_subnet(subnet_id).availability_zone
    except InvalidSubnetIdError:
        return None
