"""The fleet options of POST /fleet that shape tasks: no replica, no address, no log group,
ECS Exec, large fleets, and reset."""

from __future__ import annotations

import time

from probes import port_open, replica_pid, wait_until


def test_tasks_without_a_replica_have_a_refused_port(control, aws):
    fleet = control.fleet({"name": "ghosts", "replicas": 3, "real": False})
    tasks = fleet["ghosts"]["tasks"]
    assert len({t["port"] for t in tasks}) == 3
    assert not any(port_open(t["port"]) for t in tasks)
    assert all(replica_pid(t["id"]) is None for t in tasks)
    described = aws("ecs").describe_tasks(cluster="mcp", tasks=[t["arn"] for t in tasks])["tasks"]
    assert {(t["lastStatus"], t["healthStatus"]) for t in described} == {("RUNNING", "HEALTHY")}


def test_tasks_without_an_address_stay_provisioning(control, aws):
    fleet = control.fleet({"name": "no-ip", "replicas": 2, "ip": False})
    assert [t["port"] for t in fleet["no-ip"]["tasks"]] == [None, None]
    time.sleep(0.5)
    ecs = aws("ecs")
    described = ecs.describe_tasks(
        cluster="mcp", tasks=[t["arn"] for t in fleet["no-ip"]["tasks"]]
    )["tasks"]
    for task in described:
        assert (task["lastStatus"], task["healthStatus"]) == ("PROVISIONING", "UNKNOWN")
        assert task["attachments"][0]["status"] == "PRECREATED"
        assert [d["name"] for d in task["attachments"][0]["details"]] == ["subnetId"]
        assert task["containers"][0]["networkBindings"] == []
    service = ecs.describe_services(cluster="mcp", services=["no-ip"])["services"][0]
    assert (service["runningCount"], service["pendingCount"]) == (0, 2)
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_without_a_log_group_the_fleet_still_runs(control, aws):
    fleet = control.fleet({"name": "quiet", "replicas": 1, "log_group": False})
    assert fleet["quiet"]["tasks"][0]["port"]
    assert aws("logs").describe_log_groups()["logGroups"] == []


def test_execute_command_runs_the_agent_in_each_container(control, aws):
    fleet = control.fleet(
        {"name": "exec-on", "replicas": 1, "real": False, "execute_command": True},
        {"name": "exec-off", "replicas": 1, "real": False},
    )
    ecs = aws("ecs")
    arns = [fleet[name]["tasks"][0]["arn"] for name in ("exec-on", "exec-off")]
    on, off = sorted(
        ecs.describe_tasks(cluster="mcp", tasks=arns)["tasks"],
        key=lambda t: arns.index(t["taskArn"]),
    )
    assert on["enableExecuteCommand"] is True
    [agent] = on["containers"][0]["managedAgents"]
    assert (agent["name"], agent["lastStatus"]) == ("ExecuteCommandAgent", "RUNNING")
    assert on["containers"][0]["runtimeId"].startswith(on["taskArn"].rsplit("/", 1)[1])
    assert off["enableExecuteCommand"] is False
    assert off["containers"][0].get("managedAgents", []) == []
    service = ecs.describe_services(cluster="mcp", services=["exec-on"])["services"][0]
    assert service["enableExecuteCommand"] is True


def test_large_fleet_is_quick_to_build(control, aws):
    begun = time.monotonic()
    fleet = control.fleet(
        *({"name": f"svc-{i:02d}", "replicas": 20, "real": False} for i in range(50))
    )
    assert time.monotonic() - begun < 60
    assert sum(len(service["tasks"]) for service in fleet.values()) == 1000
    page = aws("ecs").list_tasks(cluster="mcp", serviceName="svc-49")
    assert len(page["taskArns"]) == 20


def test_reset_stops_every_replica_and_empties_moto(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    pids = [replica_pid(t["id"]) for t in fleet["echo-mcp"]["tasks"]]
    assert all(pids)
    control.post("/reset")
    wait_until(
        lambda: all(replica_pid(t["id"]) is None for t in fleet["echo-mcp"]["tasks"]),
        what="replicas to exit",
    )
    assert aws("ecs").list_clusters()["clusterArns"] == []
