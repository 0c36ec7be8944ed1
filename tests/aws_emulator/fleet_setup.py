"""POST /fleet: ECS services built from the deploy assets (assets/task-definition.json,
assets/service.json), created through moto's own API so they go through exactly what a
user's RegisterTaskDefinition and CreateService would.

Per service, the assets are adapted as a real deployment of several services would be:
the task definition family defaults to the service name, its log group is
`/ecs/<family>`, its allowed hosts and the Service Connect discovery name and alias are the
service name. Without a named port there can be no Service Connect (it refers to the port
by name), so `named_port: false` drops it as well.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

import moto_state
from fleet_task import FleetTask, TaskOptions
from moto_state import STATE_LOCK
from scheduler import Scheduler

ASSETS = Path(__file__).resolve().parents[2] / "assets"
_MCP_MODES = ("tag", "service_connect", "none")
_READY_POLL_S = 0.05


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    replicas: int = 3
    real: bool = True
    mcp: str = "tag"
    named_port: bool = True
    ip: bool = True
    log_group: bool = True
    family: str | None = None
    execute_command: bool = False  # the service's enableExecuteCommand (ECS Exec)

    @staticmethod
    def from_json(body: dict[str, Any]) -> ServiceSpec:
        unknown = set(body) - set(ServiceSpec.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown service settings: {sorted(unknown)}")
        spec = ServiceSpec(**body)
        if not spec.name:
            raise ValueError("every service needs a name")
        if spec.mcp not in _MCP_MODES:
            raise ValueError(f"mcp must be one of {_MCP_MODES}, not {spec.mcp!r}")
        if spec.replicas < 0:
            raise ValueError("replicas must not be negative")
        return spec

    @property
    def task_family(self) -> str:
        return self.family or self.name


class FleetBuilder:
    def __init__(self, moto_url: str, region: str, scheduler: Scheduler):
        self._region = region
        self._scheduler = scheduler
        self._lock = threading.Lock()  # one /fleet at a time: they share the network
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        self._ec2 = session.client("ec2", endpoint_url=moto_url)
        self._ecs = session.client("ecs", endpoint_url=moto_url)
        self._logs = session.client("logs", endpoint_url=moto_url)
        self._network: tuple[list[str], str] | None = None

    def reset(self) -> None:
        with self._lock:
            self._network = None

    def build(self, body: dict[str, Any]) -> dict[str, Any]:
        cluster = body.get("cluster", "mcp")
        specs = [ServiceSpec.from_json(item) for item in body.get("services") or []]
        if len({spec.name for spec in specs}) != len(specs):
            raise ValueError("service names must be unique")
        with self._lock:
            subnets, security_group = self._ensure_network()
            self._ensure_cluster(cluster)
            for spec in specs:
                self._create_service(cluster, spec, subnets, security_group)
        return self._wait_until_ready(cluster, specs)

    def _ensure_network(self) -> tuple[list[str], str]:
        """A VPC with one subnet per Availability Zone (tasks spread over them) and a
        security group, created once."""
        if self._network is None:
            vpc = self._ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnets = [
                self._ec2.create_subnet(
                    VpcId=vpc,
                    CidrBlock=f"10.0.{index}.0/24",
                    AvailabilityZone=f"{self._region}{zone}",
                )["Subnet"]["SubnetId"]
                for index, zone in enumerate("abc")
            ]
            group = self._ec2.create_security_group(
                GroupName="mcpfleet-tasks", Description="MCP servers", VpcId=vpc
            )["GroupId"]
            self._network = (subnets, group)
        return self._network

    def _ensure_cluster(self, cluster: str) -> None:
        found = self._ecs.describe_clusters(clusters=[cluster])["clusters"]
        if not any(c["status"] == "ACTIVE" for c in found):
            self._ecs.create_cluster(clusterName=cluster)

    def _create_service(
        self, cluster: str, spec: ServiceSpec, subnets: list[str], group: str
    ) -> None:
        log_group = f"/ecs/{spec.task_family}"
        if spec.log_group and not self._log_group_exists(log_group):
            self._logs.create_log_group(logGroupName=log_group)
        task_definition = self._ecs.register_task_definition(
            **_task_definition(spec, log_group, self._region)
        )
        with STATE_LOCK:
            self._scheduler.expect(
                self._region, cluster, spec.name, TaskOptions(real=spec.real, ip=spec.ip)
            )
        service = _service(spec, cluster, log_group, self._region, subnets, group)
        service["taskDefinition"] = task_definition["taskDefinition"]["taskDefinitionArn"]
        self._ecs.create_service(**service)

    def _log_group_exists(self, name: str) -> bool:
        found = self._logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return any(group["logGroupName"] == name for group in found)

    def _wait_until_ready(self, cluster: str, specs: list[ServiceSpec]) -> dict[str, Any]:
        """Until every service runs its replicas: RUNNING, healthy, and in Cloud Map when it
        uses Service Connect (for `ip: false` services, until their tasks are placed)."""
        total = sum(spec.replicas for spec in specs)
        deadline = time.monotonic() + 60 + total * 0.05
        while True:
            with STATE_LOCK:
                waiting = [spec.name for spec in specs if not self._ready(cluster, spec)]
                if not waiting:
                    return {"services": [self._describe(cluster, spec) for spec in specs]}
            if time.monotonic() > deadline:
                raise TimeoutError(f"services not ready in time: {waiting}")
            time.sleep(_READY_POLL_S)

    def _service_and_tasks(self, cluster: str, name: str):
        backend = moto_state.ecs(self._region)
        service = backend._get_service(cluster, name)
        primary = service.deployments[0]["id"]
        tasks = [
            task
            for task in backend.tasks.get(cluster, {}).values()
            if isinstance(task, FleetTask)
            and task.group == f"service:{name}"
            and task.desired_status == "RUNNING"
            and task.started_by == primary
        ]
        return service, sorted(tasks, key=lambda t: t.created_at)

    def _ready(self, cluster: str, spec: ServiceSpec) -> bool:
        service, tasks = self._service_and_tasks(cluster, spec.name)
        if len(tasks) != spec.replicas or len(service.deployments) != 1:
            return False
        if not spec.ip:
            return True
        uses_service_connect = bool(service.deployments[0].get("serviceConnectResources"))
        return all(
            task.last_status == "RUNNING"
            and task.health_status == "HEALTHY"
            and (task.cloud_map_services or not uses_service_connect)
            for task in tasks
        )

    def _describe(self, cluster: str, spec: ServiceSpec) -> dict[str, Any]:
        service, tasks = self._service_and_tasks(cluster, spec.name)
        return {
            "name": spec.name,
            "arn": service.arn,
            "task_definition": service.task_definition,
            "tasks": [{"id": t.id, "arn": t.task_arn, "port": t.host_port} for t in tasks],
        }


def _task_definition(spec: ServiceSpec, log_group: str, region: str) -> dict[str, Any]:
    definition = json.loads((ASSETS / "task-definition.json").read_text())
    definition["family"] = spec.task_family
    container = definition["containerDefinitions"][0]
    options = container["logConfiguration"]["options"]
    options["awslogs-group"] = log_group
    options["awslogs-region"] = region
    for variable in container["environment"]:
        if variable["name"] == "MCPFLEET_ALLOWED_HOSTS":
            port = container["portMappings"][0]["containerPort"]
            variable["value"] = f"{spec.name},{spec.name}:{port}"
    if not spec.named_port:
        # Neither a name nor an application protocol: nothing says which port serves MCP.
        for mapping in container["portMappings"]:
            mapping.pop("name", None)
            mapping.pop("appProtocol", None)
    return definition


def _service(
    spec: ServiceSpec, cluster: str, log_group: str, region: str, subnets: list[str], group: str
) -> dict[str, Any]:
    service = json.loads((ASSETS / "service.json").read_text())
    service.update(cluster=cluster, serviceName=spec.name, desiredCount=spec.replicas)
    service["enableExecuteCommand"] = spec.execute_command
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    network.update(subnets=subnets, securityGroups=[group])
    if spec.mcp == "none" or not spec.named_port:
        del service["serviceConnectConfiguration"]
    else:
        connect = service["serviceConnectConfiguration"]
        entry = connect["services"][0]
        entry["discoveryName"] = spec.name
        for alias in entry.get("clientAliases") or []:
            alias["dnsName"] = spec.name
        options = connect["logConfiguration"]["options"]
        options["awslogs-group"] = log_group
        options["awslogs-region"] = region
    if spec.mcp != "tag":
        del service["tags"]
    return service
