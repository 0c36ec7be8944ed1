"""Replica output in CloudWatch Logs, /emit-logs, and Service Connect metrics over the
Smithy RPC v2 CBOR protocol the Rust CloudWatch client speaks."""

from __future__ import annotations

import time
from collections import Counter

import cbor2

from probes import call_tool, cbor_call, wait_until


def stream_events(logs, group: str, stream: str) -> list[dict]:
    events, token = [], None
    while True:
        kwargs = {"logGroupName": group, "logStreamNames": [stream]}
        if token:
            kwargs["nextToken"] = token
        page = logs.filter_log_events(**kwargs)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def test_replica_output_is_shipped_to_its_stream(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 1})
    [task] = fleet["echo-mcp"]["tasks"]
    call_tool(task["port"], "echo", {"message": "hello from the test"})
    logs = aws("logs")
    stream = f"mcp/mcp/{task['id']}"
    events = wait_until(
        lambda: [
            e
            for e in stream_events(logs, "/ecs/echo-mcp", stream)
            if '"tool":"echo"' in e["message"]
        ],
        what="the tool call's log line",
    )
    assert events[0]["logStreamName"] == stream
    first = stream_events(logs, "/ecs/echo-mcp", stream)[0]
    assert '"message":"listening"' in first["message"]


def test_emitted_lines_arrive_in_batches_with_shared_milliseconds(control, aws):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 1, "real": False})
    [task] = fleet["echo-mcp"]["tasks"]
    begun = time.monotonic()
    answer = control.post(
        "/emit-logs",
        {
            "cluster": "mcp",
            "service": "echo-mcp",
            "task_id": task["id"],
            "count": 1000,
            "over_ms": 1000,
        },
    )
    assert time.monotonic() - begun >= 0.8
    assert answer["count"] == 1000 and answer["batches"] > 1
    events = stream_events(aws("logs"), answer["group"], answer["stream"])
    assert [e["message"] for e in events] == [f"line {n:06d} of 001000" for n in range(1, 1001)]
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert max(Counter(stamps).values()) > 1
    assert len({e["eventId"] for e in events}) == 1000


def test_cbor_get_metric_data_round_trip(control, emulator):
    now = time.time()
    dimensions = [{"Name": "ServiceName", "Value": "cbor-check"}]
    status, headers, _, _ = cbor_call(
        emulator["proxy"],
        "PutMetricData",
        {
            "Namespace": "Check",
            "MetricData": [{"MetricName": "Calls", "Value": 2.5, "Dimensions": dimensions}],
        },
    )
    assert status == 200 and headers["smithy-protocol"] == "rpc-v2-cbor"
    query = {
        "Id": "calls",
        "MetricStat": {
            "Metric": {"Namespace": "Check", "MetricName": "Calls", "Dimensions": dimensions},
            "Period": 60,
            "Stat": "Sum",
        },
    }
    status, headers, body, raw = cbor_call(
        emulator["proxy"],
        "GetMetricData",
        {
            "StartTime": cbor2.CBORTag(1, now - 600.0),
            "EndTime": cbor2.CBORTag(1, now + 60.0),
            "MetricDataQueries": [query],
        },
    )
    assert status == 200 and headers["Content-Type"] == "application/cbor"
    [result] = body["MetricDataResults"]
    assert (result["Id"], result["StatusCode"], result["Values"]) == ("calls", "Complete", [2.5])
    [stamp] = result["Timestamps"]
    assert abs(stamp.timestamp() - now) < 120
    # Tag 1 (epoch seconds) around a float64: the only timestamp form the Rust decoder takes.
    assert b"\xc1\xfb" in raw

    status, _, body, _ = cbor_call(
        emulator["proxy"],
        "GetMetricData",
        {
            "StartTime": cbor2.CBORTag(1, now),
            "EndTime": cbor2.CBORTag(1, now),
            "MetricDataQueries": [],
        },
    )
    assert status == 400
    assert body["__type"].endswith("ValidationException") and "StartTime" in body["message"]


def test_service_connect_metrics_follow_tool_calls(control, emulator):
    fleet = control.fleet({"name": "echo-mcp", "replicas": 2})
    for task in fleet["echo-mcp"]["tasks"]:
        for _ in range(3):
            call_tool(task["port"], "echo", {"message": "count me"})
    dimensions = [
        {"Name": "ClusterName", "Value": "mcp"},
        {"Name": "ServiceName", "Value": "echo-mcp"},
        {"Name": "DiscoveryName", "Value": "echo-mcp"},
    ]

    def requests_counted():
        now = time.time()
        query = {
            "Id": "requests",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ECS",
                    "MetricName": "RequestCount",
                    "Dimensions": dimensions,
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        _, _, body, _ = cbor_call(
            emulator["proxy"],
            "GetMetricData",
            {
                "StartTime": cbor2.CBORTag(1, now - 600.0),
                "EndTime": cbor2.CBORTag(1, now + 60.0),
                "MetricDataQueries": [query],
            },
        )
        return sum(body["MetricDataResults"][0]["Values"]) >= 6

    wait_until(requests_counted, timeout=10, interval=0.5, what="RequestCount to reach 6")
