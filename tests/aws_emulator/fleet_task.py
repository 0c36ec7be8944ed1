"""An ECS task placed by the emulator's service scheduler, shaped like a Fargate task in
DescribeTasks (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html).

moto's serializer reads the attributes below by the API's member names (camelCase or their
snake_case forms), and moto's other task code only reads attributes, so a FleetTask is
answered by moto's own code without being one of moto's Task objects. Those are left out
on purpose: their constructor creates an EC2 network interface with a random address, and
their state machine moves a task one step towards STOPPED each time it is described. The
scheduler owns a FleetTask's lifecycle instead.

Deviation from Fargate, on purpose: every replica runs on 127.0.0.1, so tasks that share
the one address are told apart by port. Each task gets its own host port and lists it in
`containers[].networkBindings` the way tasks in bridge network mode do; on real Fargate
(awsvpc) networkBindings stay empty and the container port is reached on the ENI address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from moto.core.utils import utcnow
from moto.utilities.utils import get_partition

LOOPBACK = "127.0.0.1"

_CONTAINER_STATUS = {
    "PROVISIONING": "PENDING",
    "PENDING": "PENDING",
    "ACTIVATING": "PENDING",
    "RUNNING": "RUNNING",
    "DEPROVISIONING": "STOPPED",
    "STOPPED": "STOPPED",
}


@dataclass(frozen=True)
class TaskOptions:
    """How the simulator runs a service's tasks (set per service through POST /fleet)."""

    real: bool = True  # run a replica process; otherwise nothing listens on the port
    ip: bool = True  # give the task an address; otherwise it stays PROVISIONING


class FleetTask:
    def __init__(
        self,
        backend,
        cluster,
        service,
        deployment_id: str,
        task_definition,
        subnet_id: str,
        availability_zone: str,
        options: TaskOptions,
    ):
        self.id = uuid.uuid4().hex
        self._backend = backend
        self._account_id = backend.account_id
        self.region_name = cluster.region_name
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.container_instance_arn = None
        self.capacity_provider_name = None
        self.task_definition_arn = task_definition.arn
        self.group = f"service:{service.name}"
        self.started_by = deployment_id
        self.launch_type = "FARGATE"
        self.platform_version = "1.4.0"
        self.platform_family = "Linux"
        self.cpu = task_definition.cpu
        self.memory = task_definition.memory
        self.desired_status = "RUNNING"
        self.last_status = "PROVISIONING"
        self.health_status = "UNKNOWN"
        self.availability_zone = availability_zone
        self.created_at = utcnow()
        self.connectivity = None
        self.connectivity_at = None
        self.pull_started_at = None
        self.pull_stopped_at = None
        self.started_at = None
        self.stopping_at = None
        self.stopped_at = None
        self.execution_stopped_at = None
        self.stop_code = None
        self.stopped_reason = None
        self.version = 1
        # A task keeps the enableExecuteCommand its service had when it started.
        self.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        self.ephemeral_storage = {"sizeInGiB": 20}
        self.tags = _propagated_tags(service, cluster)
        self.options = options
        self.host_port: int | None = None
        self.cloud_map_services: list[str] = []  # Cloud Map service ids it is registered in

        self._subnet_id = subnet_id
        self.attachments = [
            {
                "id": str(uuid.uuid4()),
                "type": "ElasticNetworkInterface",
                "status": "PRECREATED",
                "details": [{"name": "subnetId", "value": subnet_id}],
            }
        ]
        definitions = task_definition.container_definitions
        self._serving_index = _serving_index(definitions)
        self.container_definition = definitions[self._serving_index]
        self.container_port = _container_port(self.container_definition)
        self.containers = [self._container(definition) for definition in definitions]
        self.overrides = {
            "containerOverrides": [{"name": d["name"]} for d in definitions],
            "inferenceAcceleratorOverrides": [],
        }

    @property
    def task_arn(self) -> str:
        """Long ARN format (with the cluster name) unless the account opted out, as moto's
        own tasks do."""
        prefix = (
            f"arn:{get_partition(self.region_name)}:ecs:{self.region_name}:{self._account_id}:task"
        )
        if self._backend.enable_long_arn_for_name(name="taskLongArnFormat"):
            return f"{prefix}/{self.cluster_name}/{self.id}"
        return f"{prefix}/{self.id}"

    @property
    def serving_container(self) -> dict[str, Any]:
        """The container whose process the replica stands for (the first essential one
        with a port mapping)."""
        return self.containers[self._serving_index]

    def set_status(self, status: str) -> None:
        self.last_status = status
        # None while DEACTIVATING/STOPPING: the containers still run until they exit.
        container_status = _CONTAINER_STATUS.get(status)
        if container_status:
            for container in self.containers:
                container["lastStatus"] = container_status
                for agent in container.get("managedAgents", []):
                    agent["lastStatus"] = container_status
        self.version += 1

    def set_health(self, health: str) -> None:
        self.health_status = health
        self.serving_container["healthStatus"] = health
        self.version += 1

    def attach_network(self) -> None:
        """The ENI is up: Fargate lists its address in the attachment and on each container."""
        attachment = self.attachments[0]
        attachment["status"] = "ATTACHED"
        eni_id = "eni-" + uuid.uuid4().hex[:17]
        attachment["details"] = [
            {"name": "subnetId", "value": self._subnet_id},
            {"name": "networkInterfaceId", "value": eni_id},
            {"name": "macAddress", "value": _mac(self.id)},
            {"name": "privateDnsName", "value": "ip-127-0-0-1.ec2.internal"},
            {"name": "privateIPv4Address", "value": LOOPBACK},
        ]
        for container in self.containers:
            container["networkInterfaces"] = [
                {"attachmentId": attachment["id"], "privateIpv4Address": LOOPBACK}
            ]
        self.version += 1

    def bind_port(self, host_port: int) -> None:
        self.host_port = host_port
        self.serving_container["networkBindings"] = [
            {
                "bindIP": LOOPBACK,
                "containerPort": self.container_port,
                "hostPort": host_port,
                "protocol": "tcp",
            }
        ]

    def detach_network(self) -> None:
        self.attachments[0]["status"] = "DELETED"
        self.version += 1

    @property
    def _container_prefix(self) -> str:
        return self.cluster_arn.replace(":cluster/", ":container/")

    def _container(self, definition: dict[str, Any]) -> dict[str, Any]:
        container_id = uuid.uuid4()
        # With ECS Exec on, ECS runs the SSM agent in every container of the task.
        agents = (
            [{"name": "ExecuteCommandAgent", "lastStatus": "PENDING"}]
            if self.enable_execute_command
            else []
        )
        return {
            "managedAgents": agents,
            "containerArn": f"{self._container_prefix}/{self.id}/{container_id}",
            "taskArn": self.task_arn,
            "name": definition["name"],
            "image": definition.get("image"),
            "runtimeId": f"{self.id}-{container_id.int % 10**10:010d}",
            "lastStatus": "PENDING",
            "networkBindings": [],
            "networkInterfaces": [],
            "healthStatus": "UNKNOWN",
            "cpu": str(definition.get("cpu", 0)),
        }


def _serving_index(definitions: list[dict[str, Any]]) -> int:
    for index, definition in enumerate(definitions):
        if definition.get("essential", True) and definition.get("portMappings"):
            return index
    return 0


def _container_port(definition: dict[str, Any]) -> int | None:
    mappings = definition.get("portMappings") or []
    return mappings[0].get("containerPort") if mappings else None


def _mac(task_id: str) -> str:
    return "0e:" + ":".join(task_id[i : i + 2] for i in range(0, 10, 2))


def _propagated_tags(service, cluster) -> list[dict[str, str]]:
    """propagateTags=SERVICE copies the service's tags onto its tasks, and
    enableECSManagedTags adds the aws:ecs:* tags
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html)."""
    tags = list(service.tags) if getattr(service, "propagate_tags", "NONE") == "SERVICE" else []
    if getattr(service, "enable_ecs_managed_tags", False):
        tags += [
            {"key": "aws:ecs:clusterName", "value": cluster.name},
            {"key": "aws:ecs:serviceName", "value": service.name},
        ]
    return tags
