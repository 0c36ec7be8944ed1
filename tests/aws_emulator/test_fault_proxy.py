"""The fault proxy: forwarding, counting, and each injected fault in each protocol."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from probes import cbor_call


def error_of(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def test_requests_are_forwarded_and_counted(control, aws):
    ecs = aws("ecs")
    ecs.create_cluster(clusterName="counted")
    ecs.list_clusters()
    ecs.list_clusters()
    stats = control.get("/proxy-stats")
    assert stats["requests"] == {"ecs:CreateCluster": 1, "ecs:ListClusters": 2}
    assert stats["total_requests"] == 3 and stats["total_faults"] == 0
    control.post("/reset-stats")
    assert control.get("/proxy-stats")["total_requests"] == 0


def test_throttling_at_rate_one(control, aws):
    control.post("/faults", {"throttle": 1.0, "seed": 1})
    error = error_of(lambda: aws("ecs", retries=0).list_clusters())
    assert error.response["Error"]["Code"] == "ThrottlingException"
    assert error.response["Error"]["Message"] == "Rate exceeded"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (
        error.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"]
        == "ThrottlingException"
    )
    stats = control.get("/proxy-stats")
    assert stats["faults"]["throttle"] == {"ecs:ListClusters": 1}


def test_server_errors_and_expired_credentials(control, aws):
    control.post("/faults", {"error500": 1.0})
    error = error_of(lambda: aws("ecs", retries=0).list_clusters())
    assert (
        error.response["Error"]["Code"],
        error.response["ResponseMetadata"]["HTTPStatusCode"],
    ) == ("ServerException", 500)
    error = error_of(lambda: aws("logs", retries=0).describe_log_groups())
    assert error.response["Error"]["Code"] == "InternalFailure"
    control.post("/faults", {"expired": 1.0})
    error = error_of(lambda: aws("ecs", retries=0).list_clusters())
    assert error.response["Error"]["Code"] == "ExpiredTokenException"
    assert (
        error.response["Error"]["Message"]
        == "The security token included in the request is expired"
    )


def test_faults_can_target_one_operation(control, aws):
    control.post("/faults", {"throttle": 1.0, "only": ["ecs:ListServices"]})
    ecs = aws("ecs", retries=0)
    ecs.create_cluster(clusterName="mcp")
    ecs.list_clusters()
    assert (
        error_of(lambda: ecs.list_services(cluster="mcp")).response["Error"]["Code"]
        == "ThrottlingException"
    )


def test_partial_throttling_is_retried_by_the_sdk(control, aws):
    control.post("/faults", {"throttle": 0.3, "seed": 7})
    ecs = aws("ecs", retries=9)
    for _ in range(20):
        ecs.list_clusters()
    stats = control.get("/proxy-stats")
    throttled = stats["faults"]["throttle"]["ecs:ListClusters"]
    assert 0 < throttled < stats["requests"]["ecs:ListClusters"]
    assert stats["requests"]["ecs:ListClusters"] == 20 + throttled


def test_slow_answers(control, aws):
    control.post("/faults", {"slow_rate": 1.0, "slow_ms": 300})
    begun = time.monotonic()
    aws("ecs").list_clusters()
    assert time.monotonic() - begun >= 0.3
    assert control.get("/proxy-stats")["faults"]["slow"] == {"ecs:ListClusters": 1}


def test_cbor_throttling_body(control, emulator):
    control.post("/faults", {"throttle": 1.0})
    status, headers, body, _ = cbor_call(emulator["proxy"], "GetMetricData", {})
    assert status == 400
    assert (
        headers["smithy-protocol"] == "rpc-v2-cbor"
        and headers["Content-Type"] == "application/cbor"
    )
    assert body == {"__type": "ThrottlingException", "message": "Rate exceeded"}
    assert control.get("/proxy-stats")["faults"]["throttle"] == {"cloudwatch:GetMetricData": 1}


def test_bad_fault_settings_are_refused(control):
    with pytest.raises(Exception, match="400"):
        control.post("/faults", {"throttle": 2.0})
