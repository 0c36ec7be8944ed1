"""The Cloud Map side of ECS Service Connect, written into moto's servicediscovery backend.

ECS creates a Cloud Map service named after each `discoveryName` (default: the port name)
in the service's namespace, and registers each running task in it with the task id as
instance id and its address and port as attributes
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html).
Every function here expects the caller to hold STATE_LOCK.

Deviation: real ECS requires the namespace to exist before CreateService; here a missing
HTTP namespace is created, so tests need not create it first.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.servicediscovery.exceptions import InstanceNotFound, ServiceNotFound

import moto_state
from fleet_task import LOOPBACK


def resources(region: str, config: dict[str, Any] | None) -> list[dict[str, str]]:
    """Creates (or reuses) the namespace and one Cloud Map service per Service Connect
    entry; returns the deployment's `serviceConnectResources`."""
    if not config or not config.get("enabled", True) or not config.get("namespace"):
        return []
    backend = moto_state.cloud_map(region)
    namespace = _namespace(backend, config["namespace"])
    found = []
    for entry in config.get("services") or []:
        name = entry.get("discoveryName") or entry["portName"]
        service = next(
            (
                s
                for s in backend.services.values()
                if s.name == name and s.namespace_id == namespace.id
            ),
            None,
        )
        if service is None:
            service = backend.create_service(
                name=name,
                namespace_id=namespace.id,
                creator_request_id=str(uuid.uuid4()),
                description="Managed by Amazon ECS",
                dns_config=None,
                health_check_config=None,
                health_check_custom_config=None,
                tags=[{"Key": "AmazonECSManaged", "Value": "true"}],
                service_type="HTTP",
            )
        found.append({"discoveryName": name, "discoveryArn": service.arn})
    return found


def register(task, service, deployment: dict[str, Any]) -> None:
    """Registers a running task in every Cloud Map service of its deployment."""
    backend = moto_state.cloud_map(task.region_name)
    family = task.task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
    attributes = {
        "AWS_INSTANCE_IPV4": LOOPBACK,
        "AWS_INSTANCE_PORT": str(task.host_port),
        "AVAILABILITY_ZONE": task.availability_zone,
        "AWS_INIT_HEALTH_STATUS": "HEALTHY",
        "ECS_CLUSTER_NAME": task.cluster_name,
        "ECS_SERVICE_NAME": service.name,
        "ECS_TASK_DEFINITION_FAMILY": family,
        "REGION": task.region_name,
    }
    for resource in deployment.get("serviceConnectResources") or []:
        service_id = resource["discoveryArn"].rsplit("/", 1)[-1]
        try:
            backend.register_instance(service_id, task.id, str(uuid.uuid4()), dict(attributes))
        except ServiceNotFound:
            continue  # removed behind ECS's back (or moto was reset)
        task.cloud_map_services.append(service_id)


def deregister(task) -> None:
    backend = moto_state.cloud_map(task.region_name)
    for service_id in task.cloud_map_services:
        try:
            backend.deregister_instance(service_id, task.id)
        except (InstanceNotFound, ServiceNotFound):
            pass
    task.cloud_map_services = []


def _namespace(backend, name_or_arn: str):
    for namespace in backend.namespaces.values():
        if name_or_arn in (namespace.name, namespace.arn):
            return namespace
    name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
    backend.create_http_namespace(
        name=name, creator_request_id=str(uuid.uuid4()), description="", tags=[]
    )
    return next(ns for ns in backend.namespaces.values() if ns.name == name)
