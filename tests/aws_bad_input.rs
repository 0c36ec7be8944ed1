//! Bad input on the AWS side — an unknown cluster, profile or region; a service whose task
//! definition does not say which port serves MCP; tasks without an IP address; a log group that
//! does not exist, a task the console cannot reach — each gives a clear message, and the rest
//! of the fleet is still shown; a URL override stands in for addresses that cannot be reached.

mod aws_console;
mod aws_support;

use std::time::{Duration, SystemTime};

use aws_console::{
    cli, cli_without, runtime, screen, settings, start, text, use_fake_aws_env, wait_for,
};
use aws_support::Emulator;
use mcpfleet::{
    cli::exit,
    ui::{
        action::{Action, Scope, ViewKind},
        app::App,
        theme::Theme,
    },
};
use serde_json::json;

#[tokio::test]
async fn unknown_cluster_profile_and_region_are_named() {
    let emulator = Emulator::start().await;
    emulator
        .fleet(&json!({"cluster": "mcp", "services": [
            {"name": "echo-mcp", "replicas": 1, "real": false, "mcp": "tag"},
        ]}))
        .await;
    let endpoint = emulator.proxy_url.as_str();
    let cases: [(&[&str], &[&str], &str); 4] = [
        (
            &["--cluster", "nope"],
            &[],
            "no active ECS cluster named nope in us-east-1",
        ),
        (
            &["--profile", "nope"],
            &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
            "AWS profile \"nope\" gave no credentials",
        ),
        (
            &["--region", "moon-base"],
            &[],
            "\"moon-base\" is not an AWS region name",
        ),
        (
            &[],
            &["AWS_REGION"],
            "no AWS region: pass --region, set AWS_REGION",
        ),
    ];
    for (extra, unset, expected) in cases {
        let mut args = vec!["--source", "aws", "--endpoint-url", endpoint];
        args.extend_from_slice(extra);
        args.push("ls");
        let output = cli_without(&args, unset).await;
        assert_eq!(
            output.status.code(),
            Some(i32::from(exit::CONFIG)),
            "{args:?}"
        );
        let said = text(&output.stderr);
        assert!(said.contains(expected), "{args:?}: {said}");
        assert_eq!(said.lines().count(), 1, "one message, not a trace: {said}");
    }
    // The good cluster next to them still works.
    let output = cli(&[
        "--source",
        "aws",
        "--endpoint-url",
        endpoint,
        "--cluster",
        "mcp",
        "ls",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn broken_services_are_explained_in_the_ui() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        emulator
            .fleet(&json!({"cluster": "mcp", "services": [
                {"name": "echo-mcp", "replicas": 1, "real": true, "mcp": "tag"},
                {"name": "no-port", "replicas": 2, "real": false, "mcp": "tag", "named_port": false},
                {"name": "no-ip", "replicas": 2, "real": false, "mcp": "tag", "ip": false},
                {"name": "no-logs", "replicas": 1, "real": true, "mcp": "tag", "log_group": false},
                {"name": "dark", "replicas": 1, "real": false, "mcp": "tag"},
                {"name": "behind-alb", "replicas": 2, "real": false, "mcp": "tag"},
            ]}))
            .await;
        let mut settings = settings(&emulator.proxy_url, "mcp");
        // A service the console cannot reach directly, through a URL that does reach it.
        let alb = "http://127.0.0.1:9/mcp";
        settings.url_overrides.insert("behind-alb".into(), alb.into());
        let mut handle = start(settings);
        let snapshot = wait_for(&mut handle, Duration::from_secs(60), "notes on all of them", |s| {
            ["no-port", "no-logs"].iter().all(|name| s.service(name).is_some_and(|svc| !svc.notes.is_empty()))
                && s.service("no-ip").is_some_and(|svc| svc.tasks.len() == 2)
                && s.service("dark").is_some_and(|svc| svc.tasks.iter().any(|t| !t.notes.is_empty()))
        })
        .await;
        let no_port = snapshot.service("no-port").unwrap();
        assert_eq!(
            no_port.notes,
            ["task definition no-port:1 has no port named \"mcp\"; its tasks have no MCP endpoint"]
        );
        assert!(no_port.tasks.iter().all(|t| t.endpoint.is_none()));
        let no_ip = snapshot.service("no-ip").unwrap();
        for task in &no_ip.tasks {
            assert!(task.endpoint.is_none());
            assert_eq!(task.notes, ["no IP address yet"]);
        }
        let no_logs = snapshot.service("no-logs").unwrap();
        assert_eq!(
            no_logs.notes,
            ["log group /ecs/no-logs does not exist; no logs for this service"]
        );
        let dark = snapshot.service("dark").unwrap();
        assert_eq!(dark.tasks[0].notes, ["unreachable from here"]);
        let behind = snapshot.service("behind-alb").unwrap();
        for task in &behind.tasks {
            assert_eq!(task.endpoint.as_ref().unwrap().url, alb);
            assert!(task.notes.is_empty(), "{:?}", task.notes);
        }
        let echo = snapshot.service("echo-mcp").unwrap();
        assert!(echo.notes.is_empty(), "{:?}", echo.notes);
        assert_eq!(echo.ready_tasks().count(), 1);
        assert!(snapshot.stale.is_none(), "{:?}", snapshot.stale);

        let mut app = App::for_snapshot(snapshot.clone(), 100, Theme::plain());
        for (service, expected) in [
            ("no-port", "has no port named \"mcp\""),
            ("no-ip", "no IP address yet"),
            ("no-logs", "log group /ecs/no-logs does not exist"),
        ] {
            app.apply(Action::Open(ViewKind::Tasks, Scope::service(service)));
            let screen = screen(&mut app, 160, 30, SystemTime::now());
            assert!(screen.contains(expected), "{service}:\n{screen}");
            app.apply(Action::Back);
        }
    });
}
