"""ECS service deployments and service events, in the shapes and wording DescribeServices
returns (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceEvent.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from moto.core.utils import utcnow

# DescribeServices returns the 100 most recent events.
_MAX_EVENTS = 100

DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "alarms": {"alarmNames": [], "enable": False, "rollback": False},
}


def deployment_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """The service's deploymentConfiguration as ECS echoes it: the defaults, overridden
    by what CreateService/UpdateService gave."""
    merged = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in DEFAULT_DEPLOYMENT_CONFIGURATION.items()
    }
    for key, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def new_deployment(service, service_connect_resources: list[dict[str, str]]) -> dict[str, Any]:
    """A PRIMARY deployment of the service's current task definition and settings."""
    deployment_id = f"ecs-svc/{random.randrange(10**18, 10**19)}"
    now = utcnow()
    deployment = {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": service.launch_type,
        "platformVersion": "1.4.0",
        "platformFamily": "Linux",
        "networkConfiguration": service.network_configuration or None,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }
    config = getattr(service, "service_connect_configuration", None)
    if config:
        deployment["serviceConnectConfiguration"] = config
        deployment["serviceConnectResources"] = service_connect_resources
    return deployment


def add_event(service, message: str) -> None:
    """Newest first, as DescribeServices lists them."""
    service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(), "message": message})
    del service.events[_MAX_EVENTS:]


def _tasks(task_ids: list[str]) -> str:
    return " ".join(f"(task {task_id})" for task_id in task_ids)


def started(service_name: str, task_ids: list[str]) -> str:
    return f"(service {service_name}) has started {len(task_ids)} tasks: {_tasks(task_ids)}."


def stopped(service_name: str, task_ids: list[str]) -> str:
    return (
        f"(service {service_name}) has stopped {len(task_ids)} running tasks: {_tasks(task_ids)}."
    )


def failed_health_checks(service_name: str, task_id: str) -> str:
    return f"(service {service_name}) (task {task_id}) failed container health checks."


def deployment_completed(service_name: str, deployment_id: str) -> str:
    return f"(service {service_name}) (deployment {deployment_id}) deployment completed."


def deployment_failed(service_name: str, deployment_id: str) -> str:
    return (
        f"(service {service_name}) (deployment {deployment_id}) deployment failed: "
        "tasks failed to start."
    )


def rolling_back(service_name: str, deployment_id: str) -> str:
    return f"(service {service_name}) rolling back to deployment {deployment_id}."


def steady_state(service_name: str) -> str:
    return f"(service {service_name}) has reached a steady state."
