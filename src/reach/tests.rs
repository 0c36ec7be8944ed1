use crate::fleet::{
    Container, EcsTask, Endpoint, FleetSnapshot, Health, Service, SourceKind, Task,
};

use super::{AwsCli, Missing, exec, forward, prereq, target};

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/mcp";
const TASK_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task/mcp/0123456789abcdef";

fn container(agent: Option<&str>) -> Container {
    Container {
        name: "mcp".into(),
        last_status: Some("RUNNING".into()),
        health: Health::Healthy,
        exit_code: None,
        reason: None,
        image_digest: None,
        runtime_id: Some("0123456789abcdef-4242".into()),
        exec_agent: agent.map(str::to_string),
    }
}

fn fleet(source: SourceKind, exec_enabled: bool, agent: Option<&str>) -> FleetSnapshot {
    let mut task = Task::serving(
        "0123456789abcdef",
        Endpoint::new("http://10.0.0.7:8080/mcp", "10.0.0.7:8080"),
    );
    task.containers = vec![container(agent)];
    task.ecs = Some(EcsTask {
        cluster_arn: CLUSTER.into(),
        task_arn: TASK_ARN.into(),
        exec_enabled,
        mcp_container: Some("mcp".into()),
        mcp_port: Some(8080),
    });
    let mut snapshot = FleetSnapshot::empty(source, "mcp @ us-east-1");
    snapshot.services.push(Service {
        name: "echo-mcp".into(),
        desired: 1,
        running: 1,
        pending: 0,
        deployments: Vec::new(),
        tasks: vec![task],
        events: Vec::new(),
        mcp_path: "/mcp".into(),
        notes: Vec::new(),
        traffic: None,
        policy: None,
        crash_loop: None,
        latest_revision: None,
    });
    snapshot
}

fn cli() -> AwsCli {
    AwsCli {
        profile: Some("ops".into()),
        region: Some("us-east-1".into()),
        endpoint_url: None,
    }
}

#[test]
fn exec_runs_the_command_interactively_in_the_mcp_container() {
    let snapshot = fleet(SourceKind::Aws, true, Some("RUNNING"));
    let found = target(&snapshot, "echo-mcp", Some("0123"), None).unwrap();
    assert_eq!(found.cluster_name, "mcp");
    assert_eq!(
        exec::arguments(&cli(), &found, "/bin/sh").join(" "),
        format!(
            "ecs execute-command --cluster {CLUSTER} --task {TASK_ARN} --container mcp \
             --interactive --command /bin/sh --region us-east-1 --profile ops"
        )
    );
}

#[test]
fn a_forward_names_the_container_by_cluster_task_and_runtime_id() {
    let snapshot = fleet(SourceKind::Aws, true, Some("RUNNING"));
    let found = target(&snapshot, "echo-mcp", None, None).unwrap();
    let args = forward::arguments(&AwsCli::default(), &found, 41235).unwrap();
    assert_eq!(
        args,
        [
            "ssm",
            "start-session",
            "--target",
            "ecs:mcp_0123456789abcdef_0123456789abcdef-4242",
            "--document-name",
            "AWS-StartPortForwardingSession",
            "--parameters",
            r#"{"localPortNumber":["41235"],"portNumber":["8080"]}"#,
        ]
    );
    assert_eq!(
        forward::local_url(41235, &found.path),
        "http://127.0.0.1:41235/mcp"
    );
}

#[test]
fn each_missing_piece_is_named_in_one_line() {
    let cases = [
        (
            fleet(SourceKind::Local, true, Some("RUNNING")),
            "need the AWS source",
        ),
        (
            fleet(SourceKind::Aws, false, None),
            "enableExecuteCommand is false",
        ),
        (
            fleet(SourceKind::Aws, true, Some("PENDING")),
            "ExecuteCommandAgent of container mcp in task 0123456789abcdef is PENDING",
        ),
        (fleet(SourceKind::Aws, true, None), "is absent, not RUNNING"),
    ];
    for (snapshot, said) in cases {
        let missing = target(&snapshot, "echo-mcp", None, None).unwrap_err();
        let line = missing.to_string();
        assert!(line.contains(said) && !line.contains('\n'), "{line}");
    }
    let snapshot = fleet(SourceKind::Aws, true, Some("RUNNING"));
    assert_eq!(
        target(&snapshot, "other", None, None),
        Err(Missing::NoService("other".into()))
    );
    assert!(matches!(
        target(&snapshot, "echo-mcp", Some("ffff"), None),
        Err(Missing::NoTask { .. })
    ));
    assert!(matches!(
        target(&snapshot, "echo-mcp", None, Some("sidecar")),
        Err(Missing::NoContainer { .. })
    ));
}

#[test]
fn the_cli_and_the_plugin_are_looked_for_on_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mcpfleet-reach-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.as_os_str();
    assert_eq!(prereq::programs(Some(path)), Err(Missing::NoAwsCli));
    for name in [prereq::AWS_CLI, prereq::PLUGIN] {
        let file = dir.join(name);
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        if name == prereq::AWS_CLI {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(prereq::programs(Some(path)), Err(Missing::NoPlugin));
        }
    }
    // Not executable: not a program.
    assert_eq!(prereq::programs(Some(path)), Err(Missing::NoPlugin));
    let plugin = dir.join(prereq::PLUGIN);
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(prereq::programs(Some(path)), Ok(dir.join(prereq::AWS_CLI)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn iam_refusals_are_explained() {
    let denied = "An error occurred (AccessDeniedException) when calling the ExecuteCommand";
    assert!(
        prereq::iam_hint(denied)
            .unwrap()
            .contains("ecs:ExecuteCommand")
    );
    assert!(prereq::iam_hint("An error occurred (TargetNotConnected)").is_some());
    assert_eq!(prereq::iam_hint("Cannot perform start session: EOF"), None);
}
