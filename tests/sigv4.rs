//! SigV4 end to end: a static server with `auth = "sigv4"` sits behind a loopback verifier that
//! recomputes each request's signature with aws-sigv4 from the test credentials (as API Gateway
//! or a Lambda function URL would) before passing it to a real MCP server. Signed calls from
//! the `mcpfleet` binary are accepted; the same calls with their body changed on the way are
//! refused, and the command says so in one line.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use aws_credential_types::Credentials;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use mcpfleet::fleet::SigV4;
use mcpfleet_server::{Mode, ServerConfig};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const KEY_ID: &str = "AKIDMCPFLEETTEST";
const SECRET: &str = "mcpfleet/sigv4/test/secret";

struct Verifier {
    upstream: String,
    http: reqwest::Client,
    /// Changes each body before checking it, as a party in the middle would.
    tamper: AtomicBool,
    accepted: AtomicUsize,
    refused: AtomicUsize,
}

/// The fields of an `AWS4-HMAC-SHA256 Credential=…/DATE/REGION/SERVICE/aws4_request,
/// SignedHeaders=…, Signature=…` header.
fn scope_and_headers(authorization: &str) -> Option<(SigV4, Vec<String>)> {
    let rest = authorization.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let field = |name: &str| {
        rest.split(", ")
            .find_map(|part| part.strip_prefix(&format!("{name}=")))
    };
    let scope: Vec<&str> = field("Credential")?.split('/').collect();
    let target = SigV4 {
        region: scope.get(2)?.to_string(),
        service: scope.get(3)?.to_string(),
    };
    let signed = field("SignedHeaders")?
        .split(';')
        .map(str::to_string)
        .collect();
    Some((target, signed))
}

/// `20261207T041500Z` as a time.
fn amz_date(text: &str) -> Option<std::time::SystemTime> {
    let (d, t) = text.split_once('T')?;
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        d.get(0..4)?,
        d.get(4..6)?,
        d.get(6..8)?,
        t.get(0..2)?,
        t.get(2..4)?,
        t.get(4..6)?
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}

fn verify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(authorization), Some(time), Some(host)) = (
        header("authorization"),
        header("x-amz-date").and_then(amz_date),
        header("host"),
    ) else {
        return false;
    };
    let Some((target, signed)) = scope_and_headers(authorization) else {
        return false;
    };
    // The signer adds its own x-amz-* headers; the rest are signed as they arrived.
    let own: Vec<(&str, &str)> = signed
        .iter()
        .filter(|name| !name.starts_with("x-amz-"))
        .filter_map(|name| Some((name.as_str(), header(name)?)))
        .collect();
    let url = format!("http://{host}{uri}");
    let credentials = Credentials::new(KEY_ID, SECRET, None, None, "test");
    let expected = mcpfleet::sigv4::headers_with(
        &credentials,
        &target,
        time,
        method.as_str(),
        &url,
        &own,
        body,
    );
    expected.is_ok_and(|expected| {
        expected
            .iter()
            .any(|(name, value)| name == "authorization" && value == authorization)
    })
}

async fn gate(
    State(verifier): State<Arc<Verifier>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = if verifier.tamper.load(Ordering::SeqCst) {
        Bytes::from(String::from_utf8_lossy(&body).replace("hi", "ho"))
    } else {
        body
    };
    if !verify(&method, &uri, &headers, &body) {
        verifier.refused.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::FORBIDDEN, "signature does not match\n").into_response();
    }
    verifier.accepted.fetch_add(1, Ordering::SeqCst);
    let mut forward = verifier
        .http
        .request(method, format!("{}{}", verifier.upstream, uri.path()))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "authorization" && name != "content-length" {
            forward = forward.header(name, value);
        }
    }
    match forward.send().await {
        Ok(answer) => {
            let status = answer.status();
            let kept: Vec<(String, String)> = answer
                .headers()
                .iter()
                .filter(|(name, _)| *name == "content-type" || name.as_str().starts_with("mcp-"))
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = (status, bytes).into_response();
            for (name, value) in kept {
                response.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            response
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

async fn mcpfleet(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let output = tokio::process::Command::new(BIN)
        // Calls go to a history file of the tests' own, never the developer's.
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("mcpfleet-tests-state"),
        )
        .args(args)
        .env("MCPFLEET_CONFIG", config)
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/mcpfleet-test/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output();
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_calls_pass_a_verifier_and_tampered_ones_do_not() {
    let server = mcpfleet_server::start(ServerConfig {
        mode: Mode::Stateless,
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let verifier = Arc::new(Verifier {
        upstream: format!("http://{}", server.local_addr),
        http: reqwest::Client::new(),
        tamper: AtomicBool::new(false),
        accepted: AtomicUsize::new(0),
        refused: AtomicUsize::new(0),
    });
    let app = Router::new().fallback(gate).with_state(verifier.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("mcpfleet-sigv4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"iam\", url = \
             \"http://{address}/mcp\", auth = \"sigv4\", signing_name = \"execute-api\", \
             signing_region = \"us-east-1\" }}]\n"
        ),
    )
    .unwrap();

    let call = mcpfleet(&config, &["call", "iam", "echo", "message=hi"]).await;
    let stderr = String::from_utf8_lossy(&call.stderr);
    assert!(call.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&call.stdout).lines().next(),
        Some("hi")
    );
    assert!(
        verifier.accepted.load(Ordering::SeqCst) >= 2,
        "the check and the call were signed"
    );
    assert_eq!(verifier.refused.load(Ordering::SeqCst), 0);
    assert!(!stderr.contains(SECRET));

    verifier.tamper.store(true, Ordering::SeqCst);
    let tampered = mcpfleet(&config, &["call", "iam", "echo", "message=hi"]).await;
    // The tool list (no "hi" in it) passes; the call does not, and says why in one line.
    let stdout = String::from_utf8_lossy(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(3), "{stdout}");
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(errors[0].contains("403"), "{stdout}");
    assert!(verifier.refused.load(Ordering::SeqCst) >= 1);

    // Credentials from the profile `[aws] profile` names, with none in the environment.
    verifier.tamper.store(false, Ordering::SeqCst);
    let credentials = dir.join("credentials");
    std::fs::write(
        &credentials,
        format!("[signer]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let profiled = dir.join("profiled.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&profiled, format!("{text}\n[aws]\nprofile = \"signer\"\n")).unwrap();
    let from_profile = |config: std::path::PathBuf| {
        let credentials = credentials.clone();
        async move {
            tokio::process::Command::new(BIN)
                // Calls go to a history file of the tests' own, never the developer's.
                .env(
                    "XDG_STATE_HOME",
                    std::env::temp_dir().join("mcpfleet-tests-state"),
                )
                .args(["call", "iam", "echo", "message=from-profile"])
                .env("MCPFLEET_CONFIG", config)
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .env_remove("AWS_SESSION_TOKEN")
                .env_remove("AWS_PROFILE")
                .env("AWS_CONFIG_FILE", "/nonexistent/mcpfleet-test/config")
                .env("AWS_SHARED_CREDENTIALS_FILE", credentials)
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .output()
                .await
                .unwrap()
        }
    };
    let signed = from_profile(profiled).await;
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&signed.stdout).lines().next(),
        Some("from-profile")
    );
    // The same without the profile named: the default chain finds nothing to sign with.
    let unsigned = from_profile(config.clone()).await;
    assert!(!unsigned.status.success());

    // A host that does not say where to sign for, and no signing_name: refused at load.
    let unsure = dir.join("unsure.toml");
    std::fs::write(
        &unsure,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"iam\", url = \
             \"http://{address}/mcp\", auth = \"sigv4\" }}]\n"
        ),
    )
    .unwrap();
    let refused = mcpfleet(&unsure, &["ls"]).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("needs signing_name and signing_region"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
