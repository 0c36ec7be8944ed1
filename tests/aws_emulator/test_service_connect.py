"""Service Connect: Cloud Map instances follow the tasks; replicas know who they are."""

from __future__ import annotations

from probes import call_tool, wait_until


def instances(aws, service: str) -> dict[str, dict]:
    # DiscoverInstances is served on a "data-" host; an IP endpoint cannot take the prefix.
    cloud_map = aws("servicediscovery", inject_host_prefix=False)
    found = cloud_map.discover_instances(NamespaceName="mcpfleet.local", ServiceName=service)
    return {instance["InstanceId"]: instance["Attributes"] for instance in found["Instances"]}


def test_cloud_map_instances_match_running_tasks(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 3})
    ecs = aws("ecs")
    arns = [t["arn"] for t in fleet["echo-mcp"]["tasks"]]
    tasks = ecs.describe_tasks(cluster="mcp", tasks=arns)["tasks"]
    registered = instances(aws, "echo-mcp")
    assert set(registered) == {t["taskArn"].rsplit("/", 1)[1] for t in tasks}
    for task in tasks:
        attributes = registered[task["taskArn"].rsplit("/", 1)[1]]
        assert attributes["AWS_INSTANCE_IPV4"] == "127.0.0.1"
        [binding] = task["containers"][0]["networkBindings"]
        assert attributes["AWS_INSTANCE_PORT"] == str(binding["hostPort"])
        assert attributes["AVAILABILITY_ZONE"] == task["availabilityZone"]
        assert attributes["ECS_CLUSTER_NAME"] == "mcp"
        assert attributes["ECS_SERVICE_NAME"] == "echo-mcp"
        assert attributes["ECS_TASK_DEFINITION_FAMILY"] == "echo-mcp"
    [namespace] = aws("servicediscovery").list_namespaces()["Namespaces"]
    assert (namespace["Name"], namespace["Type"]) == ("mcpfleet.local", "HTTP")


def test_stopped_task_leaves_cloud_map_and_its_replacement_joins(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    victim = fleet["echo-mcp"]["tasks"][0]["id"]
    aws("ecs").stop_task(cluster="mcp", task=victim, reason="rotate")
    assert victim not in instances(aws, "echo-mcp")  # gone before the task has stopped
    replaced = wait_until(
        lambda: len(instances(aws, "echo-mcp")) == 2 and instances(aws, "echo-mcp"),
        what="the replacement",
    )
    assert victim not in replaced


def test_replica_names_itself_from_task_metadata(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 1})
    [task] = fleet["echo-mcp"]["tasks"]
    [described] = aws("ecs").describe_tasks(cluster="mcp", tasks=[task["arn"]])["tasks"]
    identity = call_tool(task["port"], "whoami")["structuredContent"]
    assert identity["source"] == "ecs"
    assert identity["task_arn"] == task["arn"]
    assert identity["task_id"] == identity["replica"] == task["id"]
    assert identity["cluster"] == described["clusterArn"]
    assert identity["task_definition"] == "echo-mcp:1"
    assert identity["availability_zone"] == described["availabilityZone"]
    assert identity["addresses"] == ["127.0.0.1"]

    document = control.get(f"/ecs-metadata/{task['id']}/task")
    assert (document["TaskARN"], document["Family"], document["Revision"]) == (
        task["arn"],
        "echo-mcp",
        "1",
    )
    container = control.get(f"/ecs-metadata/{task['id']}")
    assert container["Networks"][0]["IPv4Addresses"] == ["127.0.0.1"]
    assert container["Image"] == described["containers"][0]["image"]


def test_mcp_recognition_modes(control, aws):
    control.fleet(
        {"name": "tagged", "replicas": 1, "real": False, "mcp": "tag"},
        {"name": "connected", "replicas": 1, "real": False, "mcp": "service_connect"},
        {"name": "plain", "replicas": 1, "real": False, "mcp": "none"},
        {"name": "unnamed", "replicas": 1, "real": False, "named_port": False},
    )
    ecs = aws("ecs")
    names = ["tagged", "connected", "plain", "unnamed"]
    described = ecs.describe_services(cluster="mcp", services=names, include=["TAGS"])
    services = {s["serviceName"]: s for s in described["services"]}

    def connect(name: str) -> dict:
        return services[name]["deployments"][0]

    assert services["tagged"]["tags"] and connect("tagged")["serviceConnectResources"]
    assert not services["connected"].get("tags") and connect("connected")["serviceConnectResources"]
    assert not services["plain"].get("tags") and "serviceConnectConfiguration" not in connect(
        "plain"
    )
    assert "serviceConnectConfiguration" not in connect("unnamed")
    unnamed = services["unnamed"]["taskDefinition"]
    definition = ecs.describe_task_definition(taskDefinition=unnamed)["taskDefinition"]
    assert "name" not in definition["containerDefinitions"][0]["portMappings"][0]
