"""Walks each task the scheduler placed through the ECS task lifecycle, and owns what
stands behind it: the replica process of a real task, or the reserved port of one without.

PROVISIONING → PENDING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html),
one step per scheduler step. healthStatus follows the container health check; a task whose
essential container exits, or that fails its health checks, is stopped (and so replaced by
its service). Stopping takes the task out of Cloud Map first, then sends SIGTERM and, after
the container's stopTimeout, SIGKILL.

Methods run under STATE_LOCK; what must not (starting a process, signalling it) is returned
as an effect for the scheduler thread to run after the lock is released.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from moto.core.utils import utcnow

import deployments
import moto_state
import service_connect
from fleet_task import LOOPBACK, FleetTask
from log_shipper import LogDestination, LogShipper
from moto_state import STATE_LOCK
from replicas import Replica, free_port, replica_env

_log = logging.getLogger(__name__)


class TaskRunner:
    def __init__(self, server_bin: str, shipper: LogShipper, wake: Callable[[], None]):
        self.server_bin = server_bin
        self.metadata_url = ""  # set by the emulator once the control API listens
        self.wake = wake
        self._shipper = shipper
        self._replicas: dict[str, Replica] = {}  # task ARN → replica
        self._spawn_errors: dict[str, str] = {}  # task ARN → why the replica did not start
        self._reserved: dict[str, socket.socket] = {}  # task ARN → bound, unlistened port
        self.tasks_by_id: dict[str, FleetTask] = {}

    def track(self, task: FleetTask) -> None:
        self.tasks_by_id[task.id] = task

    def forget(self, task: FleetTask) -> None:
        self.tasks_by_id.pop(task.id, None)

    def begin_stop(self, task: FleetTask, reason: str, stop_code: str) -> None:
        task.desired_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = stop_code
        task.stopping_at = utcnow()
        task.version += 1
        # ECS takes the task out of service discovery before signalling its containers.
        service_connect.deregister(task)
        self.wake()

    def advance(self, service, task: FleetTask, effects: list[Callable[[], None]]) -> None:
        """One lifecycle step of one task."""
        replica = self._replicas.get(task.task_arn)
        now = utcnow()
        if task.desired_status == "RUNNING":
            self._advance_running(service, task, replica, effects)
            return
        status = task.last_status
        if status in ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"):
            task.set_status("DEACTIVATING")
        elif status == "DEACTIVATING":
            task.set_status("STOPPING")
            if replica is not None:
                timeout = task.container_definition.get("stopTimeout", 30)
                effects.append(lambda: replica.stop(timeout))
        elif status == "STOPPING" and (replica is None or replica.exit_code is not None):
            if replica is not None:
                task.serving_container["exitCode"] = replica.exit_code
            task.execution_stopped_at = now
            task.set_status("DEPROVISIONING")
            task.detach_network()
        elif status == "DEPROVISIONING":
            task.stopped_at = now
            task.set_status("STOPPED")
            task.set_health("UNKNOWN")
            self._replicas.pop(task.task_arn, None)
            reserved = self._reserved.pop(task.task_arn, None)
            if reserved is not None:
                reserved.close()

    def _advance_running(self, service, task: FleetTask, replica, effects) -> None:
        now = utcnow()
        status = task.last_status
        error = self._spawn_errors.pop(task.task_arn, None)
        if error is not None:
            self._fail(service, task, f"CannotStartContainerError: {error}", "TaskFailedToStart")
        elif replica is not None and replica.exit_code is not None:
            task.serving_container["exitCode"] = replica.exit_code
            self._fail(
                service, task, "Essential container in task exited", "EssentialContainerExited"
            )
        elif status == "PROVISIONING":
            if not task.options.ip:
                return  # the documented `ip: false` case: no address, ever
            task.attach_network()
            task.pull_started_at = now
            task.set_status("PENDING")
            if task.options.real:
                task.bind_port(free_port())
                effects.append(self._spawner(task))
            else:
                task.bind_port(self._reserve_port(task))
        elif status == "PENDING" and (replica is not None or not task.options.real):
            task.pull_stopped_at = now
            task.started_at = now
            task.connectivity = "CONNECTED"
            task.connectivity_at = now
            task.set_status("RUNNING")
            if not task.options.real:
                task.set_health("HEALTHY")  # no process, no health check to fail
        elif status == "RUNNING":
            if replica is not None and replica.health != task.health_status:
                if replica.health == "UNHEALTHY":
                    self._fail(
                        service,
                        task,
                        "Task failed container health checks",
                        "ServiceSchedulerInitiated",
                    )
                    deployments.add_event(
                        service, deployments.failed_health_checks(service.name, task.id)
                    )
                    deployments.add_event(service, deployments.stopped(service.name, [task.id]))
                    return
                task.set_health(replica.health)
            if task.health_status == "HEALTHY" and not task.cloud_map_services:
                deployment = next(
                    (d for d in service.deployments if d["id"] == task.started_by), None
                )
                if deployment is not None:
                    service_connect.register(task, service, deployment)

    def _fail(self, service, task: FleetTask, reason: str, stop_code: str) -> None:
        self.begin_stop(task, reason, stop_code)
        for deployment in service.deployments:
            if deployment["id"] == task.started_by:
                deployment["failedTasks"] += 1

    def _spawner(self, task: FleetTask) -> Callable[[], None]:
        """What starting this task's replica needs, read now (under the lock), run later."""
        definition = task.container_definition
        destination = LogDestination.of(task, definition)
        env = replica_env(
            definition.get("environment") or [],
            {
                "MCPFLEET_BIND": f"{LOOPBACK}:{task.host_port}",
                "MCPFLEET_MODE": "stateless",
                "MCPFLEET_REPLICA": task.id,
                "ECS_CONTAINER_METADATA_URI_V4": f"{self.metadata_url}/{task.id}",
            },
        )
        arn, task_id, port = task.task_arn, task.id, task.host_port

        def on_line(line: str) -> None:
            if destination is not None:
                self._shipper.submit(destination, line)

        def spawn() -> None:
            try:
                replica = Replica(task_id, [self.server_bin], env, port, on_line, self.wake)
            except OSError as error:
                _log.error("cannot start replica of task %s: %s", task_id, error)
                with STATE_LOCK:
                    self._spawn_errors[arn] = str(error)
                return
            with STATE_LOCK:
                current = self.tasks_by_id.get(task_id)
                adopted = current is not None and current.desired_status == "RUNNING"
                if adopted:
                    self._replicas[arn] = replica
            if not adopted:  # its task was stopped or reset while the process started
                replica.stop(5.0)
            self.wake()

        return spawn

    def _reserve_port(self, task: FleetTask) -> int:
        """A port for a task without a replica: bound but never listened on, so connections
        are refused and no replica can be given the same port while the task lives."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        self._reserved[task.task_arn] = sock
        return sock.getsockname()[1]

    def forget_vanished(self, effects: list[Callable[[], None]]) -> None:
        """Drops tasks that no longer exist in moto (it was reset behind our back) and
        stops their replicas."""
        for task_id, task in list(self.tasks_by_id.items()):
            if _still_in_moto(task):
                continue
            del self.tasks_by_id[task_id]
            replica = self._replicas.pop(task.task_arn, None)
            if replica is not None:
                effects.append(lambda r=replica: r.stop(5.0))
            reserved = self._reserved.pop(task.task_arn, None)
            if reserved is not None:
                reserved.close()

    def forget_all(self) -> list[Replica]:
        """Forgets every task and returns the replicas, for the caller to stop once it has
        reset moto (or is shutting down)."""
        with STATE_LOCK:
            replicas = list(self._replicas.values())
            self._replicas.clear()
            self._spawn_errors.clear()
            self.tasks_by_id.clear()
            for sock in self._reserved.values():
                sock.close()
            self._reserved.clear()
        return replicas


def _still_in_moto(task: FleetTask) -> bool:
    backend = moto_state.ecs(task.region_name, task._account_id)
    return backend.tasks.get(task.cluster_name, {}).get(task.task_arn) is task


def stop_all(replicas: list[Replica], grace_s: float) -> None:
    """SIGTERM to all, SIGKILL to whatever still runs after `grace_s`."""
    for replica in replicas:
        replica.stop(grace_s)
    for replica in replicas:
        if not replica.wait(grace_s + 1.0):
            replica.kill()
            replica.wait(1.0)
