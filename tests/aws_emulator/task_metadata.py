"""Task metadata endpoint v4 documents for a replica, as the ECS agent serves them at
`${ECS_CONTAINER_METADATA_URI_V4}` (the container) and `${...}/task` (the task)
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html).
The server reads TaskARN, Cluster, Family, Revision, AvailabilityZone, the container's Image
and its Networks' IPv4Addresses to name itself. Callers hold STATE_LOCK.
"""

from __future__ import annotations

from typing import Any

from fleet_task import LOOPBACK, FleetTask


def container_document(task: FleetTask) -> dict[str, Any]:
    container = task.serving_container
    definition = task.container_definition
    family, revision = _family_revision(task)
    log_config = definition.get("logConfiguration") or {}
    document = {
        "DockerId": container["runtimeId"],
        "Name": container["name"],
        "DockerName": container["name"],
        "Image": container["image"],
        "Labels": {
            "com.amazonaws.ecs.cluster": task.cluster_arn,
            "com.amazonaws.ecs.container-name": container["name"],
            "com.amazonaws.ecs.task-arn": task.task_arn,
            "com.amazonaws.ecs.task-definition-family": family,
            "com.amazonaws.ecs.task-definition-version": revision,
        },
        "DesiredStatus": task.desired_status,
        "KnownStatus": container["lastStatus"],
        "CreatedAt": _iso(task.created_at),
        "StartedAt": _iso(task.started_at),
        "Type": "NORMAL",
        "ContainerARN": container["containerArn"],
        "Networks": [
            {
                "NetworkMode": "awsvpc",
                "IPv4Addresses": [LOOPBACK],
                "AttachmentIndex": 0,
                "PrivateDNSName": "ip-127-0-0-1.ec2.internal",
            }
        ],
    }
    if log_config:
        document["LogDriver"] = log_config.get("logDriver")
        document["LogOptions"] = log_config.get("options") or {}
    if container.get("healthStatus") != "UNKNOWN":
        document["Health"] = {"status": container["healthStatus"]}
    return document


def task_document(task: FleetTask) -> dict[str, Any]:
    family, revision = _family_revision(task)
    return {
        "Cluster": task.cluster_arn,
        "TaskARN": task.task_arn,
        "Family": family,
        "Revision": revision,
        "DesiredStatus": task.desired_status,
        "KnownStatus": task.last_status,
        "Limits": {"CPU": int(task.cpu or 256) / 1024, "Memory": int(task.memory or 512)},
        "PullStartedAt": _iso(task.pull_started_at),
        "PullStoppedAt": _iso(task.pull_stopped_at),
        "AvailabilityZone": task.availability_zone,
        "LaunchType": task.launch_type,
        "Containers": [container_document(task)],
        "ServiceName": task.group.removeprefix("service:"),
    }


def _family_revision(task: FleetTask) -> tuple[str, str]:
    family, _, revision = task.task_definition_arn.rsplit("/", 1)[-1].rpartition(":")
    return family, revision


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="milliseconds") + "Z" if moment is not None else None
