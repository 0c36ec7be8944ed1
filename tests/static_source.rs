//! The static source against a real server and a dead address.

use std::time::Duration;

use mcpfleet::{
    fleet::{Health, Source},
    sources::static_source::{StaticServer, StaticSource},
};

#[tokio::test]
async fn static_servers_get_health_from_an_mcp_probe() {
    let server = mcpfleet_server::start(mcpfleet_server::ServerConfig::loopback())
        .await
        .unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let servers = vec![
        StaticServer {
            name: "alive".into(),
            url: format!("http://{}/mcp", server.local_addr),
            ..StaticServer::default()
        },
        StaticServer {
            name: "dead".into(),
            url: format!("http://{dead}/mcp"),
            ..StaticServer::default()
        },
    ];
    let mut handle = Box::new(StaticSource::new(servers, "test")).start();
    let snapshot = handle
        .wait_for(Duration::from_secs(10), |s| {
            s.services
                .iter()
                .all(|service| service.tasks[0].health != Health::Unknown)
        })
        .await
        .expect("both servers probed");
    assert_eq!(
        snapshot.service("alive").unwrap().tasks[0].health,
        Health::Healthy
    );
    assert_eq!(snapshot.service("alive").unwrap().ready_tasks().count(), 1);
    assert_eq!(
        snapshot.service("dead").unwrap().tasks[0].health,
        Health::Unhealthy
    );
    let refused = handle
        .execute(mcpfleet::fleet::Command::Scale {
            service: "alive".into(),
            desired: 2,
        })
        .await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("cannot be scaled")
    );
}

/// `mcpfleet_open_sessions` as the server reports it.
async fn open_sessions(address: std::net::SocketAddr) -> f64 {
    let text = reqwest::get(format!("http://{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("mcpfleet_open_sessions "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .expect("the server exports mcpfleet_open_sessions")
}

#[tokio::test]
async fn health_checks_and_probes_leave_at_most_one_session_open() {
    let server = mcpfleet_server::start(mcpfleet_server::ServerConfig::loopback())
        .await
        .unwrap();
    let servers = vec![StaticServer {
        name: "alive".into(),
        url: format!("http://{}/mcp", server.local_addr),
        ..StaticServer::default()
    }];
    let handle = Box::new(StaticSource::new(servers, "test")).start();
    // The console's worker probes the task as soon as it is healthy and keeps its client.
    let worker = mcpfleet::mcp::worker::spawn(
        handle.snapshots.clone(),
        mcpfleet::mcp::WorkerConfig::console(),
    );
    let mut probes = worker.probes.clone();
    tokio::time::timeout(
        Duration::from_secs(10),
        probes.wait_for(|p| p.by_task.contains_key("alive")),
    )
    .await
    .expect("the task is probed")
    .unwrap();
    // Two more health checks (every 5 s), each an initialize of its own.
    let mut most = 0.0f64;
    for _ in 0..24 {
        most = most.max(open_sessions(server.local_addr).await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(most <= 1.0, "{most} sessions open at once");
}
