//! `mcpfleet doctor` against real listeners on loopback: it names the step that fails and what
//! to check for nothing listening, a wrong path, a Host the server does not allow (403), a 401
//! without a token, and a TLS certificate for another name, expired or from an untrusted
//! issuer; against a healthy replica every step passes, and the table says so.

use std::{path::Path, process::Output, sync::Arc, time::Duration};

use mcpfleet_server::ServerConfig;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

async fn mcpfleet(args: &[&str]) -> Output {
    mcpfleet_with(Path::new("/dev/null"), args).await
}

/// The command with `config` as its config file.
async fn mcpfleet_with(config: &Path, args: &[&str]) -> Output {
    let output = tokio::process::Command::new(BIN)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .env("MCPFLEET_CONFIG", config)
        .args(args)
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

/// `doctor --url URL --json`: its exit code and its JSON.
async fn doctor(url: &str) -> (Option<i32>, Value) {
    let output = mcpfleet(&["doctor", "--url", url, "--json"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!(
            "{error}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), json)
}

/// The step `name` of a diagnosis.
fn step<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {json:#}"))
}

/// Exit 10, `failed` naming `name`, its detail and hint saying what they should, and every
/// later step skipped because of it.
fn assert_failed_at(code: Option<i32>, json: &Value, name: &str, detail: &str, hint: &str) {
    assert_eq!(code, Some(12), "{json:#}");
    assert_eq!(json["ok"], false);
    assert_eq!(json["failed"], name, "{json:#}");
    let failed = step(json, name);
    assert_eq!(failed["outcome"], "failed");
    assert!(failed["latency_ms"].as_f64().is_some(), "{failed}");
    let said = failed["detail"].as_str().unwrap();
    assert!(said.contains(detail), "detail {said:?} lacks {detail:?}");
    let check = failed["hint"].as_str().unwrap();
    assert!(check.contains(hint), "hint {check:?} lacks {hint:?}");
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7, "every step is named: {json:#}");
    let at = steps.iter().position(|s| s["step"] == name).unwrap();
    for later in &steps[at + 1..] {
        assert_eq!(later["outcome"], "skipped", "{later}");
        assert_eq!(later["detail"], format!("{name} failed"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_the_tcp_step() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let (code, json) = doctor(&format!("http://{address}/mcp")).await;
    assert_eq!(
        step(&json, "dns")["outcome"],
        "skipped",
        "an IP needs no DNS"
    );
    assert_failed_at(
        code,
        &json,
        "tcp",
        "nothing listening",
        "the container port",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_path_is_the_http_step() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let (code, json) = doctor(&format!("http://{}/wrong", server.local_addr)).await;
    assert_eq!(step(&json, "tcp")["outcome"], "ok");
    assert_failed_at(
        code,
        &json,
        "http",
        "wrong path: nothing serves MCP at /wrong (HTTP 404",
        "the endpoint's path",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_the_server_does_not_allow_is_the_http_step() {
    let server = mcpfleet_server::start(ServerConfig {
        allowed_hosts: vec!["mcp.internal".into()],
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let (code, json) = doctor(&format!("http://{}/mcp", server.local_addr)).await;
    assert_failed_at(
        code,
        &json,
        "http",
        "Host not allowed: HTTP 403",
        "the Host header `127.0.0.1`",
    );
    let hint = step(&json, "http")["hint"].as_str().unwrap();
    assert!(hint.contains("MCPFLEET_ALLOWED_HOSTS"), "{hint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_without_a_token_is_the_http_step() {
    let server = mcpfleet_server::start(ServerConfig {
        auth_token: Some("s3cret-doctor-token".into()),
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let (code, json) = doctor(&format!("http://{}/mcp", server.local_addr)).await;
    assert_failed_at(
        code,
        &json,
        "http",
        "auth challenge: HTTP 401",
        "no token was sent",
    );
    let detail = step(&json, "http")["detail"].as_str().unwrap();
    assert!(
        detail.contains("resource_metadata"),
        "the challenge is quoted: {detail}"
    );
    assert!(!json.to_string().contains("s3cret-doctor-token"));
}

/// A TLS listener on loopback with a self-signed certificate for `name` only; it completes
/// handshakes and then hangs up.
async fn tls_listener_for(name: &str) -> std::net::SocketAddr {
    tls_listener(rcgen::CertificateParams::new(vec![name.to_string()]).unwrap()).await
}

async fn tls_listener(params: rcgen::CertificateParams) -> std::net::SocketAddr {
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing_key).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_the_tls_step() {
    let address = tls_listener_for("other.example").await;
    let url = format!("https://localhost:{}/mcp", address.port());
    let (code, json) = doctor(&url).await;
    assert_eq!(step(&json, "dns")["outcome"], "ok", "{json:#}");
    assert_eq!(step(&json, "tcp")["outcome"], "ok", "{json:#}");
    assert_failed_at(
        code,
        &json,
        "tls",
        "certificate name mismatch: the certificate is for other.example, not localhost",
        "reissue the certificate with localhost",
    );
    // By address: the certificate does not list it either.
    let (code, json) = doctor(&format!("https://{address}/mcp")).await;
    assert_failed_at(
        code,
        &json,
        "tls",
        "the certificate is for other.example, not 127.0.0.1",
        "127.0.0.1 among its subject alternative names",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_the_tls_step() {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let address = tls_listener(params).await;
    let (code, json) = doctor(&format!("https://localhost:{}/mcp", address.port())).await;
    assert_failed_at(
        code,
        &json,
        "tls",
        "certificate expired",
        "renew the server's certificate",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_nobody_here_trusts_is_the_tls_step() {
    let address = tls_listener_for("localhost").await;
    let url = format!("https://localhost:{}/mcp", address.port());
    let (code, json) = doctor(&url).await;
    assert_failed_at(
        code,
        &json,
        "tls",
        "certificate issuer not trusted",
        "add the issuing CA to this machine's trust store",
    );
    let detail = step(&json, "tls")["detail"].as_str().unwrap();
    assert!(!detail.contains("mismatch"), "the name is right: {detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_replica_passes_every_step() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let url = format!("http://{}/mcp", server.local_addr);
    let (code, json) = doctor(&url).await;
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(
        (&json["ok"], &json["failed"]),
        (&Value::Bool(true), &Value::Null)
    );
    let outcomes: Vec<(&str, &str)> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("dns", "skipped"),
            ("tcp", "ok"),
            ("tls", "skipped"),
            ("http", "ok"),
            ("healthz", "ok"),
            ("handshake", "ok"),
            ("tools", "ok"),
        ]
    );
    let handshake = step(&json, "handshake")["detail"].as_str().unwrap();
    assert!(handshake.contains("mcpfleet-server"), "{handshake}");
    let tools = step(&json, "tools")["detail"].as_str().unwrap();
    assert!(
        tools.ends_with("tools") && !tools.starts_with("0 "),
        "{tools}"
    );

    // The table: one line per step, no hint.
    let output = mcpfleet(&["doctor", "--url", &url]).await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("STEP       RESULT   LATENCY  DETAIL"),
        "{text}"
    );
    assert!(text.contains("\nhandshake  ok"), "{text}");
    assert!(!text.contains("failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_names_the_failed_step_and_what_to_check() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let output = mcpfleet(&["--url", &format!("http://{address}/mcp"), "doctor"]).await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(12), "{text}");
    assert!(text.contains("\ntcp        failed"), "{text}");
    assert!(
        text.contains("\nhandshake  skipped  -        tcp failed"),
        "{text}"
    );
    assert!(
        text.contains("\ntcp failed: check that the task is running"),
        "{text}"
    );
}

/// `doctor SERVICE` on a static fleet: the service and its task named in the JSON; a service
/// or task that is not there is exit 5 and says what there is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_of_the_fleet_is_checked_through_its_task() {
    let server = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap();
    drop(closed);
    let dir = std::env::temp_dir().join(format!("mcpfleet-doctor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    let text = format!(
        "source = \"static\"\n\n[static]\nservers = [\n  {{ name = \"down\", url = \
         \"http://{down}/mcp\" }},\n  {{ name = \"up\", url = \"http://{}/mcp\" }},\n]\n",
        server.local_addr
    );
    std::fs::write(&config, text).unwrap();
    let run = |args: &'static [&'static str]| mcpfleet_with(&config, args);

    let output = run(&["doctor", "down", "--json"]).await;
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(12), "{json:#}");
    assert_eq!(json["service"], "down");
    assert!(
        json["task"].as_str().is_some_and(|t| !t.is_empty()),
        "{json:#}"
    );
    assert_eq!(json["url"], format!("http://{down}/mcp"));
    assert_eq!(json["failed"], "tcp");

    let output = run(&["doctor", "up"]).await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.starts_with("task "), "the task is named: {text}");

    let output = run(&["doctor", "up", "--task", "nosuchtask"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("has no task nosuchtask"), "{stderr}");
    let output = run(&["doctor", "nowhere"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("no service nowhere (services: down, up)"),
        "{stderr}"
    );
    let output = run(&["doctor"]).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "no service and no --url is a usage error"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
