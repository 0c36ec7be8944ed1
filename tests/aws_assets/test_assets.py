"""The deploy assets in assets/ are valid AWS API input and agree with each other.

- task-definition.json and service.json are checked key by key (recursively, with
  types and enums) against botocore's model of RegisterTaskDefinition / CreateService,
  then sent to ECS on a local moto server exactly as the AWS CLI would send them.
- cloudformation.yaml must describe the same task definition and service.
- The Dockerfile must produce what the task definition runs.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib

import boto3
import pytest
import yaml

from asset_files import ASSETS, REGION, REPO, load_json

SUBNET_PLACEHOLDER = "subnet-REPLACE_ME"
SG_PLACEHOLDER = "sg-REPLACE_ME"
BINARY = "/usr/local/bin/mcpfleet-server"
HEALTH_COMMAND = ["CMD", BINARY, "healthcheck"]
FARGATE_MAX_STOP_TIMEOUT = 120


# --------------------------------------------------------------------------- helpers


def ecs_model():
    # Only the bundled service model is used; no request is made.
    return boto3.session.Session(region_name=REGION).client("ecs").meta.service_model


def shape_errors(value, shape, path="") -> list[str]:
    """Every way `value` departs from botocore `shape`: unknown or missing keys, wrong types, bad enums."""
    errors: list[str] = []
    where = path or "<top>"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        for key, item in value.items():
            if key not in shape.members:
                near = difflib.get_close_matches(key, list(shape.members), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                errors.append(f"{where}: unknown key {key!r}{hint}")
                continue
            errors += shape_errors(item, shape.members[key], f"{path}.{key}" if path else key)
        for key in shape.required_members:
            if key not in value:
                errors.append(f"{where}: missing required key {key!r}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        for i, item in enumerate(value):
            errors += shape_errors(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map, got {type(value).__name__}"]
        for key, item in value.items():
            errors += shape_errors(key, shape.key, f"{path}<key>")
            errors += shape_errors(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {type(value).__name__}")
        elif shape.enum and value not in shape.enum:
            errors.append(f"{where}: {value!r} is not one of {shape.enum}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: expected an integer, got {type(value).__name__}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean, got {type(value).__name__}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{where}: expected a number, got {type(value).__name__}")
    return errors


def with_real_network(service: dict, subnet: str, sg: str) -> dict:
    """service.json with only the subnet and security group placeholders replaced."""
    out = copy.deepcopy(service)
    vpc = out["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["subnets"] == [SUBNET_PLACEHOLDER]
    assert vpc["securityGroups"] == [SG_PLACEHOLDER]
    vpc["subnets"] = [subnet]
    vpc["securityGroups"] = [sg]
    return out


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("environment", [])}


def only(items: list) -> dict:
    assert len(items) == 1, items
    return items[0]


# ------------------------------------------------------------- CloudFormation reading


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns short-form intrinsics (!Ref, !Sub, !GetAtt, ...) into their
    long JSON form, so a template reads the same whichever syntax it uses."""


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)

_DROP = object()


class Template:
    """Just enough of CloudFormation to compare the template with the JSON files:
    parameters at their defaults, conditions, Ref/GetAtt to named resources."""

    # The property that names a resource of each type, i.e. what the JSON files use
    # where the template has a Ref or an Arn.
    NAME_PROPERTY = {
        "AWS::ECS::Cluster": "ClusterName",
        "AWS::ECS::TaskDefinition": "Family",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::ServiceDiscovery::PrivateDnsNamespace": "Name",
    }

    def __init__(self, doc: dict):
        self.doc = doc
        self.resources = doc["Resources"]
        self.params = doc.get("Parameters", {})

    def of_type(self, type_name: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    def one(self, type_name: str) -> tuple[str, dict]:
        found = self.of_type(type_name)
        assert len(found) == 1, f"expected one {type_name}, found {sorted(found)}"
        return next(iter(found.items()))

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.doc["Conditions"][name]))

    def name_of(self, logical_id: str):
        res = self.resources[logical_id]
        prop = self.NAME_PROPERTY.get(res["Type"])
        assert prop and prop in res["Properties"], f"{logical_id} has no fixed name to compare"
        return res["Properties"][prop]

    def resolve(self, node):
        """Resolve intrinsics with default parameters. Values that only exist at deploy
        time (image, subnets, role ARNs, ...) stay as their intrinsic dicts."""
        if isinstance(node, list):
            items = [self.resolve(x) for x in node]
            return [x for x in items if x is not _DROP]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return _DROP
                if arg == "AWS::Region":
                    return REGION
                if arg in self.params and "Default" in self.params[arg]:
                    return self.params[arg]["Default"]
                if arg in self.resources and self.resources[arg]["Type"] in self.NAME_PROPERTY:
                    return self.name_of(arg)
                return node
            if key == "Fn::GetAtt" and arg[1] == "Arn" and arg[0] in self.resources:
                if self.resources[arg[0]]["Type"] == "AWS::ServiceDiscovery::PrivateDnsNamespace":
                    # service.json names the namespace; the template passes its ARN.
                    return self.name_of(arg[0])
                return node
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return a == b
        out = {}
        for k, v in node.items():
            r = self.resolve(v)
            if r is not _DROP:
                out[k] = r
        return out


INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::Split"}


def camel(node, literal_keys: bool = False):
    """CloudFormation's PascalCase property names to the API's camelCase; keys of
    free-form maps (log driver options) and unresolved intrinsics are kept as written."""
    if isinstance(node, list):
        return [camel(x) for x in node]
    if isinstance(node, dict):
        if literal_keys or (len(node) == 1 and next(iter(node)) in INTRINSICS):
            return {k: camel(v) for k, v in node.items()}
        return {k[:1].lower() + k[1:]: camel(v, literal_keys=(k == "Options")) for k, v in node.items()}
    return node


@pytest.fixture(scope="module")
def template() -> Template:
    with (ASSETS / "cloudformation.yaml").open() as f:
        return Template(yaml.load(f, Loader=CfnLoader))


# --------------------------------------------------------- JSON files vs the API model


@pytest.mark.parametrize(
    "filename, operation",
    [("task-definition.json", "RegisterTaskDefinition"), ("service.json", "CreateService")],
)
def test_json_matches_api_model(filename, operation):
    shape = ecs_model().operation_model(operation).input_shape
    assert shape_errors(load_json(filename), shape) == []


def test_model_check_catches_typos_and_bad_values():
    model = ecs_model()
    td = load_json("task-definition.json")
    td["containerDefinitions"][0]["portMappings"][0]["apProtocol"] = "http"
    td["containerDefinitions"][0]["healthCheck"]["interval"] = "10"
    td["runtimePlatform"]["cpuArchitecture"] = "AMD64"
    errors = shape_errors(td, model.operation_model("RegisterTaskDefinition").input_shape)
    assert any("unknown key 'apProtocol'" in e and "appProtocol" in e for e in errors), errors
    assert any("healthCheck.interval: expected an integer" in e for e in errors), errors
    assert any("cpuArchitecture: 'AMD64' is not one of" in e for e in errors), errors

    svc = load_json("service.json")
    svc["serviceConnectConfiguration"]["services"][0]["clientAlias"] = []
    del svc["serviceName"]
    errors = shape_errors(svc, model.operation_model("CreateService").input_shape)
    assert any("unknown key 'clientAlias'" in e for e in errors), errors
    assert any("missing required key 'serviceName'" in e for e in errors), errors


# ------------------------------------------------------------- JSON files against moto


def make_network(client) -> tuple[str, str, str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(
        GroupName="mcpfleet-server", Description="mcpfleet-server tasks", VpcId=vpc
    )["GroupId"]
    return vpc, subnet, sg


def test_register_task_definition(client):
    ecs = client("ecs")
    td_in = load_json("task-definition.json")

    arn = ecs.register_task_definition(**td_in)["taskDefinition"]["taskDefinitionArn"]
    assert arn.endswith(":task-definition/mcpfleet-server:1")

    td = ecs.describe_task_definition(taskDefinition="mcpfleet-server")["taskDefinition"]
    assert td["family"] == "mcpfleet-server"
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert td["networkMode"] == "awsvpc"
    assert (td["cpu"], td["memory"]) == ("256", "512")
    assert td["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    assert td["executionRoleArn"] == td_in["executionRoleArn"]
    assert td["taskRoleArn"] == td_in["taskRoleArn"]

    c = only(td["containerDefinitions"])
    assert c["name"] == "mcp"
    assert c["essential"] is True
    assert c["portMappings"] == [
        {"name": "mcp", "containerPort": 8080, "protocol": "tcp", "appProtocol": "http"}
    ]
    assert c["healthCheck"] == {
        "command": HEALTH_COMMAND,
        "interval": 10,
        "timeout": 3,
        "retries": 3,
        "startPeriod": 10,
    }
    assert c["stopTimeout"] == 30
    assert c["readonlyRootFilesystem"] is True
    assert c["logConfiguration"]["logDriver"] == "awslogs"
    assert c["logConfiguration"]["options"] == {
        "awslogs-group": "/ecs/mcpfleet-server",
        "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "mcp",
        "mode": "non-blocking",
        "max-buffer-size": "25m",
    }
    env = env_of(c)
    assert env["MCPFLEET_BIND"] == "0.0.0.0:8080"
    assert env["MCPFLEET_MODE"] == "stateless"
    assert env["MCPFLEET_ALLOWED_HOSTS"] == "mcpfleet-server,mcpfleet-server:8080"
    assert "secrets" not in c


def test_create_service_with_service_connect(client):
    ecs, sd = client("ecs"), client("servicediscovery")
    svc_in = load_json("service.json")
    sc_in = svc_in["serviceConnectConfiguration"]
    vpc, subnet, sg = make_network(client)

    sd.create_private_dns_namespace(Name=sc_in["namespace"], Vpc=vpc)
    ns = only(sd.list_namespaces()["Namespaces"])
    assert (ns["Name"], ns["Type"]) == ("mcpfleet.local", "DNS_PRIVATE")

    ecs.create_cluster(clusterName=svc_in["cluster"], serviceConnectDefaults={"namespace": ns["Arn"]})
    ecs.register_task_definition(**load_json("task-definition.json"))

    created = ecs.create_service(**with_real_network(svc_in, subnet, sg))["service"]
    assert created["serviceArn"].endswith(":service/mcpfleet/mcpfleet-server")

    cluster = only(ecs.describe_clusters(clusters=["mcpfleet"])["clusters"])
    assert cluster["serviceConnectDefaults"] == {"namespace": ns["Arn"]}

    found = ecs.describe_services(cluster="mcpfleet", services=["mcpfleet-server"], include=["TAGS"])
    assert found["failures"] == []
    s = only(found["services"])
    assert s["serviceName"] == "mcpfleet-server"
    assert s["status"] == "ACTIVE"
    assert s["desiredCount"] == 3
    assert s["launchType"] == "FARGATE"
    assert s["taskDefinition"].endswith(":task-definition/mcpfleet-server:1")
    assert s["propagateTags"] == "SERVICE"
    assert s["networkConfiguration"] == {
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg], "assignPublicIp": "DISABLED"}
    }
    assert {"key": "mcpfleet:path", "value": "/mcp"} in s["tags"]
    tags = ecs.list_tags_for_resource(resourceArn=s["serviceArn"])["tags"]
    assert tags == [{"key": "mcpfleet:path", "value": "/mcp"}]
    deployment = only(s["deployments"])
    assert (deployment["status"], deployment["desiredCount"]) == ("PRIMARY", 3)

    # moto 5.2.5 accepts but does not store or echo these CreateService fields (found by
    # experiment): deploymentConfiguration (so no circuit breaker, 200/100),
    # serviceConnectConfiguration (neither on the service nor on its deployment), and
    # enableECSManagedTags. The model check above and the CloudFormation comparison
    # below cover them; if a later moto echoes them, they must match the file.
    if "deploymentConfiguration" in s:
        dc = s["deploymentConfiguration"]
        assert (dc["maximumPercent"], dc["minimumHealthyPercent"]) == (200, 100)
        assert dc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    for sc in (s.get("serviceConnectConfiguration"), deployment.get("serviceConnectConfiguration")):
        if sc is not None:
            assert sc["enabled"] is True
            assert only(sc["services"])["discoveryName"] == "mcpfleet-server"
    if "enableECSManagedTags" in s:
        assert s["enableECSManagedTags"] is True


# ------------------------------------------------------- the files agree with each other


def test_service_fits_task_definition():
    td = load_json("task-definition.json")
    svc = load_json("service.json")
    c = only(td["containerDefinitions"])
    port = only(c["portMappings"])
    sc = svc["serviceConnectConfiguration"]
    sc_svc = only(sc["services"])
    alias = only(sc_svc["clientAliases"])
    env = env_of(c)

    assert svc["taskDefinition"] == td["family"]
    # Rolling deploys start new tasks before old ones stop, and a failing
    # revision rolls back by itself (moto does not keep these; see above).
    dc = svc["deploymentConfiguration"]
    assert (dc["maximumPercent"], dc["minimumHealthyPercent"]) == (200, 100)
    assert dc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert svc["launchType"] in td["requiresCompatibilities"]
    assert sc["enabled"] is True
    assert sc_svc["portName"] == port["name"] == "mcp"
    assert sc_svc["discoveryName"] == "mcpfleet-server"
    assert alias == {"port": 8080, "dnsName": "mcpfleet-server"}
    # Service Connect per-request timeouts only exist for HTTP-aware app protocols.
    assert port["appProtocol"] == "http"
    assert sc_svc["timeout"]["perRequestTimeoutSeconds"] >= 60
    assert sc["logConfiguration"]["options"]["awslogs-group"] == c["logConfiguration"]["options"]["awslogs-group"]

    # The server checks the Host header: the names clients use through Service
    # Connect must be allowed, with and without the port.
    allowed = env["MCPFLEET_ALLOWED_HOSTS"].split(",")
    for name in {alias["dnsName"], sc_svc["discoveryName"]}:
        assert name in allowed and f"{name}:{alias['port']}" in allowed, allowed
    assert env["MCPFLEET_BIND"] == f"0.0.0.0:{port['containerPort']}"
    # Service Connect spreads requests over tasks; only stateless mode survives that.
    assert env["MCPFLEET_MODE"] == "stateless"
    # In-flight calls must finish before ECS sends SIGKILL.
    drain = int(env.get("MCPFLEET_DRAIN_DEADLINE_SECS", "25"))
    assert drain < c["stopTimeout"] <= FARGATE_MAX_STOP_TIMEOUT
    # Tokens come from `secrets`, never from plain environment.
    assert not any("TOKEN" in k or "SECRET" in k for k in env), sorted(env)
    assert c["healthCheck"]["command"] == HEALTH_COMMAND
    assert {"key": "mcpfleet:path", "value": "/mcp"} in svc["tags"]


def test_cloudformation_task_definition_mirrors_json(template):
    td_json = load_json("task-definition.json")
    logical_id, res = template.one("AWS::ECS::TaskDefinition")
    props = template.resolve(res["Properties"])

    assert props["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert props["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    td_cfn = camel({k: v for k, v in props.items() if k not in ("ExecutionRoleArn", "TaskRoleArn")})
    td_rest = {k: v for k, v in td_json.items() if k not in ("executionRoleArn", "taskRoleArn")}

    c_cfn = only(td_cfn.pop("containerDefinitions"))
    c_json = only(td_rest.pop("containerDefinitions"))
    assert td_cfn == td_rest

    assert c_cfn.pop("image") == {"Ref": "Image"}
    c_json.pop("image")
    # Everything else, key for key: port name, containerPort, appProtocol, health
    # check, stopTimeout, environment, read-only root, awslogs options.
    assert c_cfn == c_json

    # With AuthTokenSecretArn set, the token arrives through `secrets` only.
    raw = only(res["Properties"]["ContainerDefinitions"])
    cond, with_token, without = raw["Secrets"]["Fn::If"]
    assert cond == "HasAuthToken" and without == {"Ref": "AWS::NoValue"}
    assert with_token == [{"Name": "MCPFLEET_AUTH_TOKEN", "ValueFrom": {"Ref": "AuthTokenSecretArn"}}]


def test_cloudformation_service_mirrors_json(template):
    svc_json = load_json("service.json")
    _, res = template.one("AWS::ECS::Service")
    svc_cfn = camel(template.resolve(res["Properties"]))

    vpc_cfn = svc_cfn["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc_cfn.pop("subnets") == {"Ref": "SubnetIds"}
    assert vpc_cfn.pop("securityGroups") == [{"Fn::GetAtt": ["ServiceSecurityGroup", "GroupId"]}]
    vpc_json = svc_json["networkConfiguration"]["awsvpcConfiguration"]
    del vpc_json["subnets"], vpc_json["securityGroups"]

    # cluster, name, task definition family, desired count (parameter default),
    # launch type, 200/100, circuit breaker with rollback, Service Connect names,
    # aliases and timeouts, proxy logs, tag mcpfleet:path=/mcp, tag propagation.
    assert svc_cfn == svc_json

    # The cluster and the service use the template's own Cloud Map namespace.
    ns_id, _ = template.one("AWS::ServiceDiscovery::PrivateDnsNamespace")
    _, cluster = template.one("AWS::ECS::Cluster")
    assert cluster["Properties"]["ServiceConnectDefaults"]["Namespace"] == {"Fn::GetAtt": [ns_id, "Arn"]}
    assert res["Properties"]["ServiceConnectConfiguration"]["Namespace"] == {"Fn::GetAtt": [ns_id, "Arn"]}


def test_cloudformation_least_privilege(template):
    roles = template.of_type("AWS::IAM::Role")
    assert set(roles) == {"ExecutionRole", "TaskRole"}
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert "RoleName" not in role["Properties"]  # deployable with CAPABILITY_IAM
    assert "Policies" not in roles["TaskRole"]["Properties"]

    policy = only(roles["ExecutionRole"]["Properties"]["Policies"])["PolicyDocument"]
    statements = {}
    for st in policy["Statement"]:
        if "Fn::If" in st:
            cond, st, no_value = st["Fn::If"]
            assert cond == "HasAuthToken" and no_value == {"Ref": "AWS::NoValue"}
        statements[st["Sid"]] = st
    actions = {sid: set([st["Action"]] if isinstance(st["Action"], str) else st["Action"]) for sid, st in statements.items()}
    assert actions == {
        "EcrLogin": {"ecr:GetAuthorizationToken"},
        "EcrPull": {"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"},
        "WriteLogs": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "ReadAuthToken": {"secretsmanager:GetSecretValue"},
    }
    assert statements["WriteLogs"]["Resource"] == {"Fn::GetAtt": ["LogGroup", "Arn"]}
    assert statements["ReadAuthToken"]["Resource"] == {"Ref": "AuthTokenSecretArn"}
    assert "${EcrRepositoryName}" in statements["EcrPull"]["Resource"]["Fn::Sub"]
    for sid, st in statements.items():
        assert st["Effect"] == "Allow"
        assert st["Resource"] != "*" or sid == "EcrLogin", sid  # GetAuthorizationToken has no resource

    # Only MCP's port is open, and only to the service itself or the optional clients.
    sg_id, sg = template.one("AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in sg["Properties"]
    rules = template.of_type("AWS::EC2::SecurityGroupIngress")
    assert rules
    for rule in rules.values():
        p = rule["Properties"]
        assert p["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
        assert (p["IpProtocol"], p["FromPort"], p["ToPort"]) == ("tcp", 8080, 8080)


def test_cloudformation_outputs_and_log_group(template):
    outputs = template.doc["Outputs"]
    assert {"ClusterName", "ServiceName", "LogGroupName"} <= set(outputs)
    _, log_group = template.one("AWS::Logs::LogGroup")
    assert log_group["Properties"]["LogGroupName"] == "/ecs/mcpfleet-server"
    assert isinstance(log_group["Properties"]["RetentionInDays"], int)
    assert template.params["DesiredCount"]["Default"] == 3
    assert template.params["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"


# ------------------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_what_the_task_runs():
    text = (ASSETS / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.replace("\\\n", " ").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    stages = [ln for ln in lines if ln.startswith("FROM ")]
    assert len(stages) == 2, stages
    assert re.match(r"FROM rust:\S*bookworm AS builder$", stages[0]), stages[0]

    with (REPO / "server" / "Cargo.toml").open("rb") as f:
        package = tomllib.load(f)["package"]["name"]
    assert package == "mcpfleet-server"
    build = next(ln for ln in lines if "cargo build" in ln)
    assert f"-p {package}" in build and "--release" in build and "--locked" in build
    for cache in ("/usr/local/cargo/registry", "/build/target"):
        assert f"type=cache,target={cache}" in build

    runtime = lines[lines.index(stages[1]):]
    user = next(ln for ln in runtime if ln.startswith("USER "))
    assert not re.match(r"USER (root|0)(:|$)", user), user
    assert "EXPOSE 8080" in runtime
    assert "ENV MCPFLEET_BIND=0.0.0.0:8080" in runtime
    entrypoint = json.loads(next(ln for ln in runtime if ln.startswith("ENTRYPOINT "))[len("ENTRYPOINT "):])
    assert entrypoint == [BINARY]
    c = only(load_json("task-definition.json")["containerDefinitions"])
    assert c["healthCheck"]["command"][1] == entrypoint[0]

    ignored = (REPO / ".dockerignore").read_text().split()
    for path in (".git", "target/", ".venv/", "node_modules/", ".tools/"):
        assert path in ignored, path
