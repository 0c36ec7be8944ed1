//! Served-by is the truth: behind a URL override (a balancer in front of three replicas), a
//! call is attributed to the replica the server names in its `Served-By` header, or to none —
//! never to the task the console happened to route to — and fan-out, which cannot reach a
//! chosen replica through that URL, says so instead of naming tasks.

mod aws_console;
mod aws_support;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use aws_console::{cli_env, text};
use aws_support::Emulator;
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    response::Response,
};
use serde_json::{Value, json};

/// A round-robin HTTP balancer on loopback: each request to the next upstream, streamed both
/// ways; with `strip`, it drops the `Served-By` header, as some gateways drop headers they
/// do not know.
struct Balancer {
    upstreams: Vec<String>,
    next: AtomicUsize,
    strip: bool,
    http: reqwest::Client,
}

async fn forward(State(balancer): State<Arc<Balancer>>, request: Request) -> Response {
    let turn = balancer.next.fetch_add(1, Ordering::Relaxed) % balancer.upstreams.len();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 24).await.unwrap();
    let mut upstream = balancer
        .http
        .request(parts.method, &balancer.upstreams[turn])
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.expect("the upstream replica answers");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !(balancer.strip && name == "served-by") && name != "content-length" {
            response = response.header(name, value);
        }
    }
    let chunks = futures_util::stream::unfold(answer, |mut answer| async move {
        match answer.chunk().await {
            Ok(Some(chunk)) => Some((Ok::<Bytes, std::io::Error>(chunk), answer)),
            _ => None,
        }
    });
    response.body(Body::from_stream(chunks)).unwrap()
}

async fn balancer(ports: &[u64], strip: bool) -> SocketAddr {
    let state = Arc::new(Balancer {
        upstreams: ports
            .iter()
            .map(|port| format!("http://127.0.0.1:{port}/mcp"))
            .collect(),
        next: AtomicUsize::new(0),
        strip,
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new()
        .route("/mcp", axum::routing::any(forward))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// The emulator's three echo-mcp replicas: (task id, port).
async fn three_replicas(emulator: &Emulator) -> Vec<(String, u64)> {
    let spec = json!({"cluster": "mcp", "services": [
        {"name": "echo-mcp", "replicas": 3, "real": true, "mcp": "tag"},
    ]});
    let created = emulator.fleet(&spec).await;
    created["services"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let id = t["id"].as_str().unwrap().to_string();
            (id, t["port"].as_u64().unwrap())
        })
        .collect()
}

/// Runs `mcpfleet` on the emulator with echo-mcp's URL overridden to `front`.
async fn through(emulator: &Emulator, front: SocketAddr, args: &[&str]) -> std::process::Output {
    let config = tempfile_config(front);
    let mut all = vec![
        "--source",
        "aws",
        "--endpoint-url",
        &emulator.proxy_url,
        "--cluster",
        "mcp",
    ];
    all.extend_from_slice(args);
    cli_env(&all, &[], &[("MCPFLEET_CONFIG", config.to_str().unwrap())]).await
}

fn tempfile_config(front: SocketAddr) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-served-by-{}", front.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("[aws.url_overrides]\necho-mcp = \"http://{front}/mcp\"\n"),
    )
    .unwrap();
    path
}

fn json_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "the call failed: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_str(&text(&output.stdout)).expect("--json prints JSON")
}

#[tokio::test]
async fn behind_a_balancer_the_server_names_the_replica_or_none_is_named() {
    let emulator = Emulator::start().await;
    let replicas = three_replicas(&emulator).await;
    let ports: Vec<u64> = replicas.iter().map(|(_, port)| *port).collect();

    // The servers name themselves: every attribution is the replica that answered.
    let naming = balancer(&ports, false).await;
    let mut answered = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let call =
            json_of(&through(&emulator, naming, &["call", "echo-mcp", "whoami", "--json"]).await);
        let replica = call["result"]["structuredContent"]["task_id"].clone();
        assert_eq!(call["served_by"]["task_id"], replica, "{call}");
        assert_eq!(call["served_by"]["known_by"], "header", "{call}");
        answered.insert(replica.as_str().unwrap().to_string());
    }
    assert!(
        answered.len() > 1,
        "the balancer spread the calls: {answered:?}"
    );
    let known: Vec<&String> = replicas.iter().map(|(id, _)| id).collect();
    assert!(
        answered.iter().all(|id| known.contains(&id)),
        "{answered:?}"
    );

    // A front that drops the header: nobody is named.
    let silent = balancer(&ports, true).await;
    let call =
        json_of(&through(&emulator, silent, &["call", "echo-mcp", "whoami", "--json"]).await);
    assert_eq!(call["served_by"]["task_id"], Value::Null, "{call}");
    assert_eq!(call["served_by"]["known_by"], "unknown", "{call}");
    let printed = through(
        &emulator,
        silent,
        &["call", "echo-mcp", "echo", "message=hi"],
    )
    .await;
    let printed = text(&printed.stdout);
    assert!(
        printed.contains(&format!("via http://{silent}/mcp, replica unknown")),
        "{printed}"
    );
    for (id, _) in &replicas {
        assert!(!printed.contains(&id[..8]), "no task is named: {printed}");
    }

    // Fan-out and a chosen task cannot be honoured through that URL, and say why.
    for args in [
        vec!["call", "echo-mcp", "whoami", "--all-tasks"],
        vec!["call", "echo-mcp", "whoami", "--task", &replicas[0].0],
    ] {
        let refused = through(&emulator, silent, &args).await;
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let why = text(&refused.stdout) + &text(&refused.stderr);
        assert!(
            why.contains(&format!(
                "cannot target replicas of echo-mcp through http://{silent}/mcp"
            )),
            "{args:?}: {why}"
        );
    }
}
