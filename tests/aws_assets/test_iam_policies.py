"""The operator IAM policies in assets/ grant what the console calls and nothing more.

- iam-operator-readonly.json: what the console reads (ECS, Cloud Map, CloudWatch Logs,
  CloudWatch metrics); iam-operator-actions.json: the same plus scale / force deploy /
  rollback (ecs:UpdateService), stop task (ecs:StopTask), and a deploy's new task definition
  revision (ecs:RegisterTaskDefinition, ecs:TagResource as it is created, iam:PassRole of
  its roles to ECS tasks only).
- Every action names an operation of botocore's model of its service, so a typo or an
  invented action fails here rather than as AccessDenied in someone's account.
- Resources are scoped wherever the service supports resource-level permissions (per the
  Service Authorization Reference); the few "*" resources are listed below with the reason.
- With the placeholders filled in for the deploy assets of this repository, the policies
  allow the calls the console makes on that service and refuse them on another cluster.
- Every IAM action the AWS source names for its calls (src/sources/aws labels each call
  `service:Operation` for errors and counters) is granted by the actions policy.
"""

from __future__ import annotations

import json
import re

import botocore.session
import pytest

from asset_files import REGION, REPO, load_json

READ_ONLY_FILE = "iam-operator-readonly.json"
ACTIONS_FILE = "iam-operator-actions.json"
POLICY_FILES = (READ_ONLY_FILE, ACTIONS_FILE)

# IAM service prefix -> botocore service name. They happen to be equal for these four, but
# not in general (CloudWatch's endpoint prefix is "monitoring"), so the map is explicit.
BOTOCORE_SERVICE = {
    "ecs": "ecs",
    "servicediscovery": "servicediscovery",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
    "iam": "iam",
}

# Exactly the calls the console makes with the read-only policy. Adding a call to the AWS
# source means adding it here and to both policy files. DescribeServiceRevisions turns the
# last successful deployment into its task definition (the rollback target).
READ_ONLY_ACTIONS = {
    "ecs:ListClusters",
    "ecs:DescribeClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "servicediscovery:ListInstances",
    "servicediscovery:DiscoverInstances",
    "logs:FilterLogEvents",
    "logs:StartLiveTail",
    "cloudwatch:GetMetricData",
}
# Held to the cluster by the ecs:cluster condition.
CLUSTER_OPERATOR_ACTIONS = {"ecs:UpdateService", "ecs:StopTask"}
# A deploy that changes the image or environment registers a revision, tags it as it is
# created (the tags the old revision had) and passes its roles to ECS tasks.
REVISION_ACTIONS = {"ecs:RegisterTaskDefinition", "ecs:TagResource", "iam:PassRole"}
OPERATOR_ACTIONS = CLUSTER_OPERATOR_ACTIONS | REVISION_ACTIONS
# Permissions IAM checks without an API operation of that name: PassRole is checked when
# RegisterTaskDefinition names a role.
PERMISSION_ONLY = {"iam:PassRole"}
# The condition each revision action is held by, where its resource cannot hold it.
REVISION_CONDITIONS = {
    "ecs:TagResource": ("ecs:CreateAction", "RegisterTaskDefinition"),
    "iam:PassRole": ("iam:PassedToService", "ecs-tasks.amazonaws.com"),
}

# Actions without resource-level permissions: the Service Authorization Reference lists no
# resource type for them, so "*" is the only Resource that works.
NO_RESOURCE_TYPE = {
    "ecs:ListClusters",
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "cloudwatch:GetMetricData",
}
# Actions that are scoped by the ecs:cluster condition key instead of a Resource ARN
# (ListTasks is documented against container-instance ARNs, which Fargate tasks lack).
SCOPED_BY_CLUSTER_CONDITION = {"ecs:ListServices", "ecs:ListTasks"}

MUTATING_PREFIXES = (
    "Update", "Stop", "Create", "Delete", "Put", "Register", "Deregister", "Run", "Start",
    "Tag", "Untag", "Execute", "Submit", "Set", "Modify",
)
READ_ONLY_EXCEPTIONS = {"logs:StartLiveTail"}  # opens a read-only log stream

PLACEHOLDERS = {"REGION", "ACCOUNT_ID", "CLUSTER"}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


# --------------------------------------------------------------------------- helpers


def as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def statements(name: str) -> list[dict]:
    return load_json(name)["Statement"]


def actions_of(name: str) -> set[str]:
    return {a for st in statements(name) for a in as_list(st["Action"])}


def operation_names(service: str) -> set[str]:
    # Only the bundled service model is read; nothing is sent anywhere.
    return set(botocore.session.get_session().get_service_model(service).operation_names)


def glob(pattern: str) -> re.Pattern:
    """IAM wildcard matching: `*` is any run of characters (including `/` and `:`), `?` one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def allows(policy: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether an Allow statement of `policy` grants `action` on `resource`. Enough of IAM
    for these files: exact actions, wildcard resources, ArnLike/ArnEquals/StringEquals."""
    for st in policy["Statement"]:
        if st["Effect"] != "Allow" or action not in as_list(st["Action"]):
            continue
        if not any(glob(r).fullmatch(resource) for r in as_list(st["Resource"])):
            continue
        ok = True
        for operator, keys in st.get("Condition", {}).items():
            assert operator in ("ArnLike", "ArnEquals", "StringEquals"), operator
            for key, wanted in keys.items():
                have = context.get(key)
                if operator == "ArnLike":
                    ok &= have is not None and any(glob(w).fullmatch(have) for w in as_list(wanted))
                else:
                    ok &= have in as_list(wanted)
        if ok:
            return True
    return False


def filled(policy: dict, values: dict[str, str]) -> dict:
    """The policy with its placeholders replaced, as someone deploying it would."""
    text = json.dumps(policy)
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


# ------------------------------------------------------------------------------ shape


@pytest.mark.parametrize("name", POLICY_FILES)
def test_policy_is_a_plain_identity_policy(name):
    policy = load_json(name)
    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    sids = [st.get("Sid") for st in policy["Statement"]]
    assert all(isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids), sids
    assert len(set(sids)) == len(sids), sids
    for st in policy["Statement"]:
        # No NotAction / NotResource / Principal: every grant is spelled out.
        assert set(st) <= STATEMENT_KEYS and {"Effect", "Action", "Resource"} <= set(st), st
        assert st["Effect"] == "Allow", st["Sid"]
        assert as_list(st["Action"]) and as_list(st["Resource"]), st["Sid"]
        assert len(set(as_list(st["Action"]))) == len(as_list(st["Action"])), st["Sid"]


@pytest.mark.parametrize("name", POLICY_FILES)
def test_every_action_is_a_real_operation(name):
    for action in actions_of(name) - PERMISSION_ONLY:
        assert "*" not in action and "?" not in action, f"{name}: wildcard action {action!r}"
        m = re.fullmatch(r"([a-z0-9-]+):([A-Za-z0-9]+)", action)
        assert m, f"{name}: {action!r} is not service:Operation"
        prefix, operation = m.groups()
        assert prefix in BOTOCORE_SERVICE, f"{name}: unexpected service prefix in {action!r}"
        assert operation in operation_names(BOTOCORE_SERVICE[prefix]), (
            f"{name}: {operation!r} is not an operation of {BOTOCORE_SERVICE[prefix]}"
        )


def test_botocore_check_catches_invented_operations():
    ecs = operation_names("ecs")
    assert "DescribeServices" in ecs
    assert "DescribeService" not in ecs
    assert "GetMetricData" in operation_names("cloudwatch")


# ------------------------------------------------------------------------ what is granted


def test_read_only_policy_grants_exactly_what_the_console_reads():
    assert actions_of(READ_ONLY_FILE) == READ_ONLY_ACTIONS


def test_read_only_policy_has_no_mutating_action():
    for action in actions_of(READ_ONLY_FILE) - READ_ONLY_EXCEPTIONS:
        operation = action.split(":", 1)[1]
        assert not operation.startswith(MUTATING_PREFIXES), action


def test_actions_policy_is_read_only_plus_operations_and_revisions():
    read_only = statements(READ_ONLY_FILE)
    actions = statements(ACTIONS_FILE)
    # Every read-only statement appears unchanged, so the two cannot drift apart.
    for st in read_only:
        assert st in actions, f"{ACTIONS_FILE} lacks or changed statement {st['Sid']}"
    assert actions_of(ACTIONS_FILE) - actions_of(READ_ONLY_FILE) == OPERATOR_ACTIONS
    # The extra statements grant nothing else and hold to the cluster.
    for st in actions:
        if st in read_only:
            continue
        acts = set(as_list(st["Action"]))
        assert acts <= OPERATOR_ACTIONS, st["Sid"]
        if acts <= CLUSTER_OPERATOR_ACTIONS:
            assert "*" not in as_list(st["Resource"]), st["Sid"]
            assert "ecs:cluster" in st.get("Condition", {}).get("ArnLike", {}), st["Sid"]
            continue
        assert len(acts) == 1, st["Sid"]
        [action] = acts
        if action in REVISION_CONDITIONS:
            key, value = REVISION_CONDITIONS[action]
            assert st["Condition"] == {"StringEquals": {key: value}}, st["Sid"]


@pytest.mark.parametrize("name", POLICY_FILES)
def test_resources_are_scoped_where_the_service_allows(name):
    for st in statements(name):
        acts = set(as_list(st["Action"]))
        resources = as_list(st["Resource"])
        if "*" in resources:
            assert resources == ["*"], st["Sid"]
            scoped_by_condition = acts <= SCOPED_BY_CLUSTER_CONDITION and "ecs:cluster" in st.get(
                "Condition", {}
            ).get("ArnLike", {})
            assert acts <= NO_RESOURCE_TYPE or scoped_by_condition, (
                f"{name}: {st['Sid']} grants {sorted(acts)} on every resource"
            )
            continue
        prefixes = {a.split(":", 1)[0] for a in acts}
        for arn in resources:
            m = re.fullmatch(r"arn:aws:([a-z0-9-]+):(REGION)?:ACCOUNT_ID:(.+)", arn)
            assert m, f"{name}: {arn!r} is not arn:aws:SERVICE:REGION:ACCOUNT_ID:…"
            assert {m.group(1)} == prefixes, f"{name}: {st['Sid']} mixes services with {arn!r}"
            # IAM is global: its ARNs have no region.
            assert (m.group(2) is None) == (m.group(1) == "iam"), f"{name}: {arn!r}"
            assert m.group(3) != "*", f"{name}: {arn!r} is every resource of the service"
    text = (REPO / "assets" / name).read_text()
    assert set(re.findall(r"\b[A-Z][A-Z_]{3,}\b", text)) <= PLACEHOLDERS


# ------------------------------------------------ the policies fit this repository's service


def test_policies_cover_the_deploy_assets_and_nothing_beside():
    svc = load_json("service.json")
    td = load_json("task-definition.json")
    account = "123456789012"
    cluster = svc["cluster"]
    values = {"REGION": REGION, "ACCOUNT_ID": account, "CLUSTER": cluster}
    read_only = filled(load_json(READ_ONLY_FILE), values)
    operator = filled(load_json(ACTIONS_FILE), values)

    def arn(service: str, resource: str, in_cluster: str = cluster) -> str:
        return f"arn:aws:{service}:{REGION}:{account}:{resource.format(cluster=in_cluster)}"

    log_group = td["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"]
    name = svc["serviceName"]

    def reads(c: str) -> list[tuple[str, str, dict]]:
        ctx = {"ecs:cluster": arn("ecs", "cluster/{cluster}", c)}
        return [
            ("ecs:DescribeClusters", arn("ecs", "cluster/{cluster}", c), {}),
            ("ecs:ListServices", "*", ctx),
            ("ecs:ListTasks", arn("ecs", "container-instance/{cluster}/*", c), ctx),
            ("ecs:DescribeServices", arn("ecs", f"service/{{cluster}}/{name}", c), ctx),
            ("ecs:ListServiceDeployments", arn("ecs", f"service/{{cluster}}/{name}", c), ctx),
            ("ecs:DescribeServiceDeployments", arn("ecs", f"service-deployment/{{cluster}}/{name}/dep1", c), ctx),
            ("ecs:DescribeServiceRevisions", arn("ecs", f"service-revision/{{cluster}}/{name}/rev1", c), ctx),
            ("ecs:DescribeTasks", arn("ecs", "task/{cluster}/0f2a9c", c), ctx),
        ]

    def operations(c: str) -> list[tuple[str, str, dict]]:
        ctx = {"ecs:cluster": arn("ecs", "cluster/{cluster}", c)}
        return [
            ("ecs:UpdateService", arn("ecs", f"service/{{cluster}}/{name}", c), ctx),
            ("ecs:StopTask", arn("ecs", "task/{cluster}/0f2a9c", c), ctx),
        ]

    elsewhere = [
        ("ecs:ListClusters", "*", {}),
        ("ecs:DescribeTaskDefinition", "*", {}),
        ("servicediscovery:ListInstances", arn("servicediscovery", "service/srv-0123456789abcdef"), {}),
        ("servicediscovery:DiscoverInstances", arn("servicediscovery", "namespace/ns-0123456789abcdef"), {}),
        ("logs:FilterLogEvents", arn("logs", f"log-group:{log_group}"), {}),
        ("logs:StartLiveTail", arn("logs", f"log-group:{log_group}"), {}),
        ("logs:FilterLogEvents", arn("logs", f"log-group:{log_group}:*"), {}),
        ("cloudwatch:GetMetricData", "*", {}),
    ]

    for request in reads(cluster) + elsewhere:
        assert allows(read_only, *request), request
        assert allows(operator, *request), request
    for request in operations(cluster):
        assert not allows(read_only, *request), request
        assert allows(operator, *request), request
    for request in reads("other") + operations("other"):
        assert not allows(operator, *request), request
    to_ecs = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    revisions = [
        ("ecs:RegisterTaskDefinition", "*", {}),
        ("ecs:TagResource", arn("ecs", "task-definition/mcpfleet-server:7"),
         {"ecs:CreateAction": "RegisterTaskDefinition"}),
        ("iam:PassRole", td["taskRoleArn"], to_ecs),
        ("iam:PassRole", td["executionRoleArn"], to_ecs),
    ]
    for request in revisions:
        assert not allows(read_only, *request), request
        assert allows(operator, *request), request
    # The roles go to ECS tasks only, and tags only onto a revision being registered.
    assert not allows(operator, "iam:PassRole", td["taskRoleArn"],
                      {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not allows(operator, "ecs:TagResource", arn("ecs", "service/{cluster}/x"),
                      {"ecs:CreateAction": "RegisterTaskDefinition"})
    assert not allows(operator, "ecs:TagResource", arn("ecs", "task-definition/x:1"), {})
    # Only the ECS log groups, not every log group of the account.
    assert not allows(read_only, "logs:FilterLogEvents", arn("logs", "log-group:/aws/lambda/x"), {})


def test_every_call_of_the_aws_source_is_granted():
    source = REPO / "src" / "sources" / "aws"
    files = sorted(source.glob("*.rs"))
    assert files, f"no AWS source at {source}"
    prefixes = "|".join(BOTOCORE_SERVICE)
    named = {
        m.group(1)
        for f in files
        for m in re.finditer(rf'"((?:{prefixes}):[A-Z][A-Za-z]+)"', f.read_text())
    }
    assert named, f"no `service:Operation` names found under {source}"
    assert named <= actions_of(ACTIONS_FILE), sorted(named - actions_of(ACTIONS_FILE))


def test_readme_explains_the_policies():
    readme = (REPO / "README.md").read_text()
    for name in POLICY_FILES:
        assert f"assets/{name}" in readme, name
    for placeholder in PLACEHOLDERS:
        assert f"`{placeholder}`" in readme, placeholder
