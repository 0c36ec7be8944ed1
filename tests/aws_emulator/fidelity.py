"""The fidelity layer: patches to moto's ECS API so it answers like real ECS where the
console depends on it. Each patch says which real behaviour it restores, with the API
reference. The service scheduler behind them lives in scheduler.py.

Left unimplemented on purpose, because the console falls back without them:
ListServicesByNamespace, ListServiceDeployments and DescribeServiceDeployments (answered
as unknown operations, see call_action), and RunTask with an awsvpc task definition (moto
fails).

Not patched either: moto's StartLiveTail replays up to 500 stored events and closes the
stream, where a real session streams new events for up to three hours
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartLiveTail.html).
A session that ends that soon makes the console poll FilterLogEvents instead, taking over
without repeating what the session delivered — the path the log tests exercise.
"""

from __future__ import annotations

import base64
import json

from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import utcnow
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse

import deployments
from fleet_task import FleetTask
from scheduler import Scheduler

_scheduler: Scheduler | None = None
_original: dict[str, object] = {}


def install(scheduler: Scheduler) -> None:
    global _scheduler
    _scheduler = scheduler
    response, backend = EC2ContainerServiceResponse, EC2ContainerServiceBackend
    patches = [
        (BaseResponse, "call_action", call_action),
        (response, "create_service", create_service),
        (response, "list_services", list_services),
        (response, "list_tasks", list_tasks),
        (response, "describe_tasks", describe_tasks),
        (backend, "describe_services", describe_services),
        (backend, "update_service", update_service),
        (backend, "delete_service", delete_service),
        (backend, "stop_task", stop_task),
    ]
    for owner, name, patch in patches:
        _original.setdefault(f"{owner.__name__}.{name}", getattr(owner, name))
        setattr(owner, name, patch)


def _call_original(owner, name: str, *args):
    return _original[f"{owner.__name__}.{name}"](*args)


def call_action(self: BaseResponse):
    """An operation moto lacks is answered like an AWS endpoint answers an operation it does
    not know: HTTP 400 UnknownOperationException, which SDKs do not retry (moto answers 500
    with an HTML page, which they retry as a server fault). awsJson requests only.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html
    """
    try:
        return _call_original(BaseResponse, "call_action", self)
    except NotImplementedError as error:
        if "X-Amz-Target" not in self.headers:
            raise
        body = json.dumps({"__type": "UnknownOperationException", "message": str(error)})
        headers = {
            "Content-Type": self.headers.get("Content-Type") or "application/x-amz-json-1.1",
            "x-amzn-ErrorType": "UnknownOperationException",
        }
        return 400, headers, body


def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
    """CreateService hands the service to the service scheduler, which starts
    desiredCount tasks of a new PRIMARY deployment; DescribeServices then echoes
    deploymentConfiguration and shows serviceConnectConfiguration on the deployment
    (moto drops both).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    """
    result = _call_original(EC2ContainerServiceResponse, "create_service", self)
    service = self.ecs_backend._get_service(
        self._get_param("cluster", "default"), self._get_param("serviceName")
    )
    service.created_at = utcnow()
    service.deployment_configuration = deployments.deployment_configuration(
        self._get_param("deploymentConfiguration")
    )
    service.service_connect_configuration = self._get_param("serviceConnectConfiguration")
    service.enable_ecs_managed_tags = bool(self._get_param("enableECSManagedTags"))
    service.enable_execute_command = bool(self._get_param("enableExecuteCommand"))
    service.health_check_grace_period_seconds = self._get_param("healthCheckGracePeriodSeconds")
    if service.launch_type == "FARGATE":
        service.platform_version = service.platform_version or "LATEST"
        service.platform_family = "Linux"
    _scheduler.adopt(service)
    return result


def list_services(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListServices pages: at most maxResults (1–100, default 10) ARNs and a nextToken;
    services deleted to INACTIVE are no longer listed (moto lists all at once).

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServices.html
    """
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster", "default"))
    launch_type = self._get_param("launchType")
    strategy = self._get_param("schedulingStrategy")
    arns = sorted(
        service.arn
        for service in backend.services.values()
        if service.cluster_name == cluster.name
        and service.status != "INACTIVE"
        and (launch_type is None or service.launch_type == launch_type)
        and (strategy is None or service.scheduling_strategy == strategy)
    )
    page, token = _page(arns, self._get_param("maxResults"), self._get_param("nextToken"), 10)
    return ActionResult({"serviceArns": page, "nextToken": token})


def list_tasks(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListTasks filters by serviceName (moto ignores it), lists only tasks whose
    desiredStatus is RUNNING unless desiredStatus=STOPPED is asked for, and pages at
    most maxResults (1–100, default 100) ARNs with a nextToken.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
    """
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster", "default"))
    service_name = self._get_param("serviceName")
    if service_name:
        backend._get_service(cluster.name, service_name)  # ServiceNotFoundException
        service_name = service_name.rsplit("/", 1)[-1]
    desired = self._get_param("desiredStatus") or "RUNNING"
    started_by = self._get_param("startedBy")
    family = self._get_param("family")
    launch_type = self._get_param("launchType")
    arns = sorted(
        arn
        for arn, task in backend.tasks.get(cluster.name, {}).items()
        if task.desired_status == desired
        and (not service_name or task.group == f"service:{service_name}")
        and (not started_by or task.started_by == started_by)
        and (not family or f"/{family}:" in task.task_definition_arn)
        and (not launch_type or task.launch_type == launch_type)
    )
    page, token = _page(arns, self._get_param("maxResults"), self._get_param("nextToken"), 100)
    return ActionResult({"taskArns": page, "nextToken": token})


def describe_tasks(self: EC2ContainerServiceResponse) -> ActionResult:
    """DescribeTasks takes 1–100 task ids or ARNs of one cluster, reports unknown ones
    under failures (reason MISSING), and leaves the tasks as they are (moto moves a task
    one step towards STOPPED each time it is described).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
    """
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster", "default"))
    wanted = self._get_param("tasks") or []
    if not wanted:
        raise InvalidParameterException("Tasks cannot be empty.")
    if len(wanted) > 100:
        raise InvalidParameterException("Tasks cannot have more than 100 elements.")
    in_cluster = backend.tasks.get(cluster.name, {})
    by_id = {task.id: task for task in in_cluster.values()}
    found, failures = [], []
    for reference in wanted:
        task = in_cluster.get(reference) or by_id.get(reference.rsplit("/", 1)[-1])
        if task is None:
            arn = (
                reference
                if reference.startswith("arn:")
                else f"{cluster.arn.replace(':cluster/', ':task/')}/{reference}"
            )
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(task)
    if "TAGS" in (self._get_param("include") or []):
        self._include_in_response(DESCRIBE_TASKS_TAGS)
    else:
        self._exclude_from_response(DESCRIBE_TASKS_TAGS)
    return ActionResult({"tasks": found, "failures": failures})


def describe_services(self: EC2ContainerServiceBackend, cluster_str: str, services: list[str]):
    """DescribeServices takes at most 10 services per call.

    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
    """
    if len(services) > 10:
        raise InvalidParameterException("services cannot have more than 10 elements.")
    return _call_original(
        EC2ContainerServiceBackend, "describe_services", self, cluster_str, services
    )


def update_service(self: EC2ContainerServiceBackend, properties: dict):
    """UpdateService: a new desiredCount only rescales the PRIMARY deployment; a new
    taskDefinition, forceNewDeployment=true, or new networkConfiguration or
    serviceConnectConfiguration starts a new PRIMARY deployment that replaces the old
    tasks by a rolling update (moto only renames the deployment, and reports the new
    desiredCount as already running).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
    """
    properties = dict(properties)
    cluster = properties.pop("cluster", "default")
    name = properties.pop("service").rsplit("/", 1)[-1]
    service = self._get_service(cluster, name)
    if not hasattr(service, "scheduler_state"):
        return _call_original(
            EC2ContainerServiceBackend,
            "update_service",
            self,
            {"cluster": cluster, "service": name, **properties},
        )
    redeploy = bool(properties.pop("force_new_deployment", False))
    task_definition = properties.pop("task_definition", None)
    if task_definition:
        arn = self.describe_task_definition(task_definition).arn
        redeploy |= arn != service.task_definition
        service.task_definition = arn
    desired = properties.pop("desired_count", None)
    if desired is not None:
        service.desired_count = desired
    config = properties.pop("deployment_configuration", None)
    if config is not None:
        service.deployment_configuration = deployments.deployment_configuration(config)
    network = properties.pop("network_configuration", None)
    if network is not None:
        service.network_configuration = network
        redeploy = True
    service_connect = properties.pop("service_connect_configuration", None)
    if service_connect is not None:
        service.service_connect_configuration = service_connect
        redeploy = True
    for attribute, value in properties.items():
        if value is not None:
            setattr(service, attribute, value)
    if redeploy:
        _scheduler.deploy(service)
    _scheduler.wake()
    return service


def delete_service(
    self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
):
    """DeleteService leaves the service DRAINING while its tasks stop, then INACTIVE; with
    force=true it scales the service to zero first (moto marks it INACTIVE at once and
    leaves its tasks running).
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
    """
    service = _call_original(
        EC2ContainerServiceBackend, "delete_service", self, cluster_name, service_name, force
    )
    if hasattr(service, "scheduler_state"):
        service.status = "DRAINING"
        service.desired_count = 0
        _scheduler.wake()
    return service


def stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str):
    """StopTask sets desiredStatus STOPPED with stopCode UserInitiated and the given
    stoppedReason; ECS takes the task out of Cloud Map, sends SIGTERM (SIGKILL after the
    container's stopTimeout), keeps the stopped task describable, and the service
    scheduler starts a replacement.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
    """
    cluster = self._get_cluster(cluster_str)
    in_cluster = self.tasks.get(cluster.name, {})
    task_id = task_str.rsplit("/", 1)[-1]
    task = in_cluster.get(task_str) or next(
        (t for t in in_cluster.values() if t.id == task_id), None
    )
    if task is None:
        raise InvalidParameterException("The referenced task was not found.")
    if not isinstance(task, FleetTask):
        return _call_original(
            EC2ContainerServiceBackend, "stop_task", self, cluster_str, task_str, reason
        )
    if task.desired_status == "RUNNING":
        _scheduler.begin_stop(task, reason or "Task stopped by user", "UserInitiated")
    return task


def _page(
    items: list[str], max_results, token: str | None, default: int
) -> tuple[list[str], str | None]:
    """One page of a sorted list. The token names the last item returned, so a page
    boundary stays put while items are added or removed."""
    size = default if max_results is None else int(max_results)
    if not 1 <= size <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    start = 0
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except ValueError:
            raise InvalidParameterException("Invalid nextToken.") from None
        start = next((i for i, item in enumerate(items) if item > after), len(items))
    page = items[start : start + size]
    more = start + size < len(items)
    return page, base64.urlsafe_b64encode(page[-1].encode()).decode() if more else None
