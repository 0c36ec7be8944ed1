"""The service scheduler and the ECS API patches, seen through boto3 and the fault proxy."""

from __future__ import annotations

import os
import signal

import pytest
from botocore.exceptions import ClientError

from probes import port_open, replica_pid, wait_until


def describe_service(ecs, name: str, cluster: str = "mcp") -> dict:
    return ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])["services"][0]


def running_tasks(ecs, service: str, cluster: str = "mcp") -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def steady_events(ecs, name: str) -> list[str] | None:
    """The service's event messages when the newest says it reached a steady state."""
    messages = [event["message"] for event in describe_service(ecs, name)["events"]]
    return messages if messages[0].endswith("has reached a steady state.") else None


def settled(ecs, name: str, count: int):
    """The service with one COMPLETED deployment and `count` running, healthy tasks."""
    service = describe_service(ecs, name)
    deployments = service["deployments"]
    tasks = running_tasks(ecs, name)
    done = (
        len(deployments) == 1
        and deployments[0]["rolloutState"] == "COMPLETED"
        and len(tasks) == count
        and all(t["lastStatus"] == "RUNNING" and t["healthStatus"] == "HEALTHY" for t in tasks)
    )
    return (service, tasks) if done else None


def test_service_runs_its_desired_tasks_like_fargate(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 3})
    ecs = aws("ecs")
    service = describe_service(ecs, "echo-mcp")
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (3, 3, 0)
    primary = service["deployments"][0]
    assert primary["status"] == "PRIMARY"
    assert primary["rolloutState"] == "COMPLETED"
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} completed."

    tasks = running_tasks(ecs, "echo-mcp")
    assert sorted(t["taskArn"] for t in tasks) == sorted(
        t["arn"] for t in fleet["echo-mcp"]["tasks"]
    )
    assert sorted(t["availabilityZone"] for t in tasks) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    ports = {t["port"] for t in fleet["echo-mcp"]["tasks"]}
    for task in tasks:
        assert task["group"] == "service:echo-mcp"
        assert task["startedBy"] == primary["id"]
        assert task["launchType"] == "FARGATE"
        assert task["taskDefinitionArn"] == service["taskDefinition"]
        assert (task["lastStatus"], task["desiredStatus"], task["healthStatus"]) == (
            "RUNNING",
            "RUNNING",
            "HEALTHY",
        )
        for moment in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt"):
            assert moment in task
        eni = task["attachments"][0]
        details = {d["name"]: d["value"] for d in eni["details"]}
        assert (eni["type"], eni["status"]) == ("ElasticNetworkInterface", "ATTACHED")
        assert details["privateIPv4Address"] == "127.0.0.1"
        assert details["networkInterfaceId"].startswith("eni-")
        assert details["subnetId"].startswith("subnet-")
        container = task["containers"][0]
        assert (container["name"], container["lastStatus"], container["healthStatus"]) == (
            "mcp",
            "RUNNING",
            "HEALTHY",
        )
        [binding] = container["networkBindings"]
        assert binding["bindIP"] == "127.0.0.1" and binding["containerPort"] == 8080
        assert binding["hostPort"] in ports and port_open(binding["hostPort"])
    first = tasks[0]["taskArn"]
    [tagged] = ecs.describe_tasks(cluster="mcp", tasks=[first], include=["TAGS"])["tasks"]
    assert {"key": "mcpfleet:path", "value": "/mcp"} in tagged["tags"]  # propagateTags=SERVICE
    assert {"key": "aws:ecs:serviceName", "value": "echo-mcp"} in tagged["tags"]


def test_describe_services_echoes_configuration_tags_and_events(control, aws):
    control.fleet({"name": "echo-mcp", "replicas": 2})
    service = describe_service(aws("ecs"), "echo-mcp")
    assert service["deploymentConfiguration"]["maximumPercent"] == 200
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }
    assert service["tags"] == [{"key": "mcpfleet:path", "value": "/mcp"}]
    deployment = service["deployments"][0]
    assert deployment["serviceConnectConfiguration"]["services"][0]["discoveryName"] == "echo-mcp"
    [resource] = deployment["serviceConnectResources"]
    assert resource["discoveryName"] == "echo-mcp"
    assert resource["discoveryArn"].startswith(
        "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-"
    )
    messages = [event["message"] for event in service["events"]]
    assert messages[0] == "(service echo-mcp) has reached a steady state."
    assert (
        messages[1] == f"(service echo-mcp) (deployment {deployment['id']}) deployment completed."
    )
    assert messages[2].startswith("(service echo-mcp) has started 2 tasks: (task ")


def test_list_tasks_filters_by_service_and_desired_status(control, aws):
    control.fleet(
        {"name": "alpha", "replicas": 2, "real": False},
        {"name": "beta", "replicas": 3, "real": False},
    )
    ecs = aws("ecs")
    alpha = ecs.list_tasks(cluster="mcp", serviceName="alpha")["taskArns"]
    beta = ecs.list_tasks(cluster="mcp", serviceName="beta")["taskArns"]
    assert (len(alpha), len(beta)) == (2, 3)
    assert sorted(ecs.list_tasks(cluster="mcp")["taskArns"]) == sorted(alpha + beta)
    ecs.stop_task(cluster="mcp", task=alpha[0], reason="checking the filter")
    assert alpha[0] not in ecs.list_tasks(cluster="mcp", serviceName="alpha")["taskArns"]
    stopped = ecs.list_tasks(cluster="mcp", serviceName="alpha", desiredStatus="STOPPED")
    assert stopped["taskArns"] == [alpha[0]]
    with pytest.raises(ClientError, match="ServiceNotFoundException"):
        ecs.list_tasks(cluster="mcp", serviceName="gamma")


def test_list_tasks_and_services_page(control, aws):
    control.fleet(*({"name": f"svc-{i:02d}", "replicas": 11, "real": False} for i in range(12)))
    ecs = aws("ecs")
    first = ecs.list_tasks(cluster="mcp")
    assert len(first["taskArns"]) == 100 and first["nextToken"]
    arns = [
        arn
        for page in ecs.get_paginator("list_tasks").paginate(
            cluster="mcp", PaginationConfig={"PageSize": 50}
        )
        for arn in page["taskArns"]
    ]
    assert len(arns) == len(set(arns)) == 132
    services = ecs.list_services(cluster="mcp")
    assert len(services["serviceArns"]) == 10 and services["nextToken"]
    every = [
        arn
        for page in ecs.get_paginator("list_services").paginate(cluster="mcp")
        for arn in page["serviceArns"]
    ]
    assert len(every) == 12
    with pytest.raises(ClientError, match="InvalidParameterException"):
        ecs.describe_services(cluster="mcp", services=every[:11])


def test_scaling_starts_and_stops_tasks(control, aws):
    control.fleet({"name": "echo-mcp", "replicas": 1})
    ecs = aws("ecs")
    ecs.update_service(cluster="mcp", service="echo-mcp", desiredCount=3)
    _, tasks = wait_until(lambda: settled(ecs, "echo-mcp", 3), what="scale out to 3")
    ecs.update_service(cluster="mcp", service="echo-mcp", desiredCount=1)
    _, left = wait_until(lambda: settled(ecs, "echo-mcp", 1), what="scale in to 1")
    stopped = [t for t in tasks if t["taskArn"] != left[0]["taskArn"]]
    wait_until(
        lambda: all(replica_pid(t["taskArn"].rsplit("/", 1)[1]) is None for t in stopped),
        what="replicas to exit",
    )
    # Steady again once the stopped tasks are STOPPED.
    events = wait_until(
        lambda: steady_events(ecs, "echo-mcp"), what="a steady state after scaling in"
    )
    assert events[1].startswith("(service echo-mcp) has stopped 2 running tasks: (task ")


def test_force_new_deployment_rolls_to_a_new_primary(control, aws):
    control.fleet({"name": "echo-mcp", "replicas": 2})
    ecs = aws("ecs")
    before = describe_service(ecs, "echo-mcp")
    old_id = before["deployments"][0]["id"]
    old_tasks = {t["taskArn"] for t in running_tasks(ecs, "echo-mcp")}
    ecs.update_service(cluster="mcp", service="echo-mcp", forceNewDeployment=True)

    during = describe_service(ecs, "echo-mcp")["deployments"]
    assert [d["status"] for d in during] == ["PRIMARY", "ACTIVE"]
    assert during[0]["rolloutState"] == "IN_PROGRESS" and during[1]["id"] == old_id

    service, tasks = wait_until(lambda: settled(ecs, "echo-mcp", 2), what="the rollout")
    [primary] = service["deployments"]
    assert primary["id"] != old_id
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} completed."
    assert not old_tasks & {t["taskArn"] for t in tasks}
    assert all(t["startedBy"] == primary["id"] for t in tasks)

    def old_stopped():
        old = ecs.describe_tasks(cluster="mcp", tasks=sorted(old_tasks))["tasks"]
        return all(t["lastStatus"] == "STOPPED" for t in old) and old

    old = wait_until(old_stopped, what="old tasks to stop")
    assert {t["stopCode"] for t in old} == {"ServiceSchedulerInitiated"}


def test_new_task_definition_starts_a_deployment_of_it(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    ecs = aws("ecs")
    first = fleet["echo-mcp"]["task_definition"]
    definition = ecs.describe_task_definition(taskDefinition=first)["taskDefinition"]
    fields = ("family", "containerDefinitions", "networkMode", "requiresCompatibilities")
    registered = ecs.register_task_definition(
        cpu=definition["cpu"], memory=definition["memory"], **{k: definition[k] for k in fields}
    )
    revision = registered["taskDefinition"]["taskDefinitionArn"]
    assert revision.endswith(":2")
    ecs.update_service(cluster="mcp", service="echo-mcp", taskDefinition="echo-mcp")
    service, tasks = wait_until(
        lambda: settled(ecs, "echo-mcp", 2), what="the rollout to revision 2"
    )
    assert service["taskDefinition"] == revision
    assert service["deployments"][0]["taskDefinition"] == revision
    assert {t["taskDefinitionArn"] for t in tasks} == {revision}


def test_a_revision_whose_tasks_fail_trips_the_circuit_breaker_and_rolls_back(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    ecs = aws("ecs")
    first = fleet["echo-mcp"]["task_definition"]
    definition = ecs.describe_task_definition(taskDefinition=first)["taskDefinition"]
    [container] = definition["containerDefinitions"]
    # The replica refuses to start with a fault plan it cannot read.
    container["environment"] = [{"name": "MCPFLEET_FAULTS", "value": "bogus-rule"}]
    fields = ("family", "networkMode", "requiresCompatibilities")
    bad = ecs.register_task_definition(
        cpu=definition["cpu"],
        memory=definition["memory"],
        containerDefinitions=[container],
        **{k: definition[k] for k in fields},
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="mcp", service="echo-mcp", taskDefinition=bad)

    def rolled_back():
        service = describe_service(ecs, "echo-mcp")
        failed = [d for d in service["deployments"] if d["rolloutState"] == "FAILED"]
        primary = service["deployments"][0]
        done = primary["rolloutState"] == "COMPLETED" and primary["taskDefinition"] == first
        return (service, failed) if failed and done else None

    service, [failed] = wait_until(rolled_back, what="the breaker to roll back")
    assert failed["taskDefinition"] == bad
    assert failed["failedTasks"] >= 3
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert (failed["status"], failed["runningCount"]) == ("INACTIVE", 0)
    assert service["taskDefinition"] == first
    messages = [event["message"] for event in service["events"]]
    assert any("deployment failed: tasks failed to start." in m for m in messages), messages
    assert any("rolling back to deployment" in m for m in messages), messages


def test_stopped_task_is_replaced(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    ecs = aws("ecs")
    victim = fleet["echo-mcp"]["tasks"][0]
    reason = "Stopped from the console"
    answer = ecs.stop_task(cluster="mcp", task=victim["arn"], reason=reason)["task"]
    assert (answer["desiredStatus"], answer["stopCode"]) == ("STOPPED", "UserInitiated")
    assert answer["stoppedReason"] == reason

    def stopped():
        [task] = ecs.describe_tasks(cluster="mcp", tasks=[victim["id"]])["tasks"]
        return task if task["lastStatus"] == "STOPPED" else None

    task = wait_until(stopped, what="the task to stop")
    assert "stoppedAt" in task and "stoppingAt" in task
    assert task["containers"][0]["exitCode"] == 0  # the replica drained and exited on SIGTERM
    assert replica_pid(victim["id"]) is None and not port_open(victim["port"])
    _, tasks = wait_until(lambda: settled(ecs, "echo-mcp", 2), what="a replacement")
    assert victim["arn"] not in {t["taskArn"] for t in tasks}


def test_crashed_replica_is_replaced_and_counted(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 1})
    ecs = aws("ecs")
    victim = fleet["echo-mcp"]["tasks"][0]
    os.kill(replica_pid(victim["id"]), signal.SIGKILL)

    def stopped():
        [task] = ecs.describe_tasks(cluster="mcp", tasks=[victim["arn"]])["tasks"]
        return task if task["lastStatus"] == "STOPPED" else None

    task = wait_until(stopped, what="the crashed task to stop")
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 128 + signal.SIGKILL  # as Docker reports it
    service, _ = wait_until(lambda: settled(ecs, "echo-mcp", 1), what="a replacement")
    assert service["deployments"][0]["failedTasks"] == 1


def test_deleting_a_service_drains_it(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    ecs = aws("ecs")
    assert (
        ecs.delete_service(cluster="mcp", service="echo-mcp", force=True)["service"]["status"]
        == "DRAINING"
    )
    wait_until(lambda: describe_service(ecs, "echo-mcp")["status"] == "INACTIVE", what="INACTIVE")
    assert all(replica_pid(t["id"]) is None for t in fleet["echo-mcp"]["tasks"])
    assert ecs.list_services(cluster="mcp")["serviceArns"] == []


def test_operations_moto_lacks_are_unknown_not_server_faults(control, aws):
    error = pytest.raises(
        ClientError, aws("ecs", retries=0).list_services_by_namespace, namespace="mcpfleet.local"
    )
    assert error.value.response["Error"]["Code"] == "UnknownOperationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
