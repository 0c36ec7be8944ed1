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
            headers: Default::default(),
            bearer_env: None,
        },
        StaticServer {
            name: "dead".into(),
            url: format!("http://{dead}/mcp"),
            headers: Default::default(),
            bearer_env: None,
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
