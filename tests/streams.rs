//! Stream health against the idle timeout in front of the replicas: with a 2 s timeout, the
//! replica whose SSE keep-alive is 5 s is warned about by name and the command exits 14, while
//! its sibling keeping its streams alive every 500 ms is not — on the local fleet (a canary
//! with the long keep-alive), on static URLs (replicas on loopback, the timeout from the config
//! file) and in the console. Behind a proxy that cuts quiet connections, as a load balancer
//! does, the cut streams are re-opened and counted.

use std::{path::PathBuf, process::Command, time::Duration};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");

/// A private folder per test: config, runtime dir (no shared console fleet) and state.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpfleet-streams-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mcpfleet(dir: &std::path::Path, config: &str, args: &[&str]) -> std::process::Output {
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    Command::new(BIN)
        .args(args)
        .env("MCPFLEET_CONFIG", &path)
        .env("XDG_RUNTIME_DIR", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env_remove("RUST_LOG")
        .env_remove("MCPFLEET_PROTOCOL_ERA")
        .output()
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn replica<'a>(report: &'a Value, field: &str, value: &str) -> &'a Value {
    report["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[field] == value)
        .unwrap_or_else(|| panic!("{field} = {value} in {report:#}"))
}

/// The replica with the long keep-alive: its stream went 5 s without a byte (or is still
/// going), and the warning says what to change.
fn assert_warned(slow: &Value) {
    let warning = slow["warning"]
        .as_str()
        .unwrap_or_else(|| panic!("{slow:#}"));
    assert!(warning.contains("2 s idle timeout"), "{warning}");
    assert!(warning.contains("--sse-keep-alive"), "{warning}");
    assert!(slow["opened"].as_u64().unwrap() >= 1, "{slow:#}");
    assert!(
        slow["open"].as_u64().unwrap() >= 1,
        "the session's stream: {slow:#}"
    );
    let silence = [&slow["keep_alive_ms"], &slow["silent_ms"]]
        .iter()
        .filter_map(|v| v.as_u64())
        .max()
        .unwrap();
    assert!(silence > 2000, "{slow:#}");
}

/// The sibling keeps its stream alive: a keep-alive was seen, well below the timeout.
fn assert_fine(fast: &Value) {
    assert_eq!(fast["warning"], Value::Null, "{fast:#}");
    assert!(fast["open"].as_u64().unwrap() >= 1, "{fast:#}");
    let keep_alive = fast["keep_alive_ms"].as_u64().unwrap();
    assert!((300..1500).contains(&keep_alive), "{fast:#}");
    assert!(fast["silent_ms"].as_u64().unwrap() < 1500, "{fast:#}");
}

#[test]
fn on_the_local_fleet_the_canary_with_a_long_keep_alive_is_warned_about() {
    let dir = scratch("local");
    let config = "[local]\nbuiltin_replicas = 0\n\n\
                  [[local.services]]\nname = \"sse\"\nreplicas = 2\n\
                  env = { MCPFLEET_SSE_KEEP_ALIVE = \"500ms\" }\n\
                  canary_env = { MCPFLEET_SSE_KEEP_ALIVE = \"5s\" }\n";
    let output = mcpfleet(
        &dir,
        config,
        &[
            "streams",
            "sse",
            "--idle-timeout",
            "2s",
            "--for",
            "7s",
            "--json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(14),
        "a warning exits 14: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["warning"], true);
    let replicas = report["replicas"].as_array().unwrap();
    assert_eq!(replicas.len(), 2, "{report:#}");
    let warned: Vec<&Value> = replicas
        .iter()
        .filter(|r| r["warning"].is_string())
        .collect();
    assert_eq!(warned.len(), 1, "only the canary: {report:#}");
    assert_warned(warned[0]);
    let fine = replicas.iter().find(|r| r["warning"].is_null()).unwrap();
    assert_fine(fine);
    assert_eq!(fine["idle_timeout_ms"], 2000);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_static_urls_the_config_files_idle_timeout_names_the_replica_to_fix() {
    let start = |keep_alive: Duration| async move {
        let mut config = mcpfleet_server::ServerConfig::loopback();
        config.sse_keep_alive = keep_alive;
        mcpfleet_server::start(config).await.expect("server starts")
    };
    let slow = start(Duration::from_secs(5)).await;
    let fast = start(Duration::from_millis(500)).await;
    let dir = scratch("static");
    let config = format!(
        "source = \"static\"\n\n[static]\nservers = [\n  \
         {{ name = \"slow\", url = \"http://{}/mcp\" }},\n  \
         {{ name = \"fast\", url = \"http://{}/mcp\" }},\n]\n\n\
         [streams]\nidle_timeout_secs = 300\n\n\
         [streams.services.slow]\nidle_timeout_secs = 2\n\n\
         [streams.services.fast]\nidle_timeout_secs = 2\n",
        slow.local_addr, fast.local_addr
    );
    let run = |args: &'static [&'static str]| {
        let (dir, config) = (dir.clone(), config.clone());
        tokio::task::spawn_blocking(move || mcpfleet(&dir, &config, args))
    };
    let output = run(&["streams", "--for", "7s", "--json"]).await.unwrap();
    assert_eq!(
        output.status.code(),
        Some(14),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_warned(replica(&report, "service", "slow"));
    assert_fine(replica(&report, "service", "fast"));

    // The table names the replica and says what to change; the other is ok. Without the
    // slow service nothing stands, so the command passes.
    let output = run(&["streams", "--for", "3s"]).await.unwrap();
    let table = text(&output.stdout);
    assert_eq!(output.status.code(), Some(14), "{table}");
    let line = |service: &str| {
        table
            .lines()
            .find(|l| l.starts_with(service))
            .unwrap_or_else(|| panic!("{service} in {table}"))
            .to_string()
    };
    assert!(line("slow ").ends_with("WARN"), "{table}");
    assert!(line("fast ").ends_with("ok"), "{table}");
    assert!(
        table.contains("warning: slow task ") && table.contains("set the server's SSE keep-alive"),
        "{table}"
    );
    let output = run(&["streams", "fast", "--for", "2s"]).await.unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    std::fs::remove_dir_all(&dir).ok();
}

/// What a load balancer does to a quiet connection: a loopback proxy to `upstream` that closes
/// both sides once no byte has crossed either way for `idle`.
async fn idle_cutting_proxy(
    upstream: std::net::SocketAddr,
    idle: Duration,
) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_in, mut client_out) = client.into_split();
                let (mut server_in, mut server_out) = server.into_split();
                let (mut up, mut down) = ([0u8; 16 * 1024], [0u8; 16 * 1024]);
                loop {
                    let crossed = tokio::time::timeout(idle, async {
                        tokio::select! {
                            read = client_in.read(&mut up) => match read {
                                Ok(n) if n > 0 => server_out.write_all(&up[..n]).await.is_ok(),
                                _ => false,
                            },
                            read = server_in.read(&mut down) => match read {
                                Ok(n) if n > 0 => client_out.write_all(&down[..n]).await.is_ok(),
                                _ => false,
                            },
                        }
                    })
                    .await;
                    if crossed != Ok(true) {
                        return;
                    }
                }
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_that_cuts_quiet_streams_the_reconnects_are_counted_and_warned_about() {
    let mut config = mcpfleet_server::ServerConfig::loopback();
    config.sse_keep_alive = Duration::from_secs(5);
    let server = mcpfleet_server::start(config).await.expect("server starts");
    let proxy = idle_cutting_proxy(server.local_addr, Duration::from_secs(2)).await;
    let dir = scratch("proxy");
    let url = format!("http://{proxy}/mcp");
    let output = tokio::task::spawn_blocking(move || {
        let args = [
            "--url",
            &url,
            "streams",
            "--for",
            "8s",
            "--idle-timeout",
            "1500ms",
        ];
        mcpfleet(&dir, "", &args)
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(14),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let table = text(&output.stdout);
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    // SERVICE TASK OPEN OPENED RECONNECTS …: the stream was cut every 2 s and opened again.
    let reconnects: u64 = row[4].parse().unwrap_or_else(|_| panic!("{table}"));
    assert!(reconnects >= 1, "{table}");
    // Each cut stream went 2 s without a byte: longer than the 1.5 s judged against.
    assert!(
        table.contains("warning: url task url: a stream") && table.contains("silent for 2"),
        "{table}"
    );
}

mod tmux;

#[test]
fn the_console_flags_the_service_and_the_task_whose_stream_outlasts_the_idle_timeout() {
    let dir = scratch("console");
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[local]\nbuiltin_replicas = 0\n\n\
         [[local.services]]\nname = \"sse\"\nreplicas = 2\n\
         env = { MCPFLEET_SSE_KEEP_ALIVE = \"500ms\" }\n\
         canary_env = { MCPFLEET_SSE_KEEP_ALIVE = \"5s\" }\n\n\
         [streams]\nidle_timeout_secs = 2\n",
    )
    .unwrap();
    let config = path.to_string_lossy().into_owned();
    let soon = Duration::from_secs(45);
    // 2025-11-25 sessions, each with its standalone stream.
    let console = tmux::Console::start_with_args(
        "streams",
        80,
        24,
        &[("MCPFLEET_CONFIG", &config)],
        &["--protocol-era", "legacy"],
    );
    console.wait_until("the service flagged", soon, |screen| {
        screen
            .lines()
            .find(|l| l.starts_with("sse"))
            .is_some_and(|row| row.contains("2/2 ready") && row.trim_end().ends_with("! sse"))
    });
    console.send_keys(&["Enter"]);
    let rows = |screen: &str| -> Vec<String> {
        let tasks = screen.lines().skip_while(|l| !l.starts_with("TASK"));
        tasks
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    let screen = console.wait_until("the canary's row marked", soon, |screen| {
        let rows = rows(screen);
        rows.len() == 2 && rows.iter().filter(|r| r.contains("! sse")).count() == 1
    });
    // The detail under the table is the selected task's: move onto the marked one.
    if !rows(&screen)[0].contains("! sse") {
        console.send_keys(&["j"]);
    }
    let screen = console.wait_until("the advice and the figures", soon, |screen| {
        let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        words.contains("idle timeout: set the server's --sse-keep-alive below 2 s")
            && words.contains("streams: 1 open")
    });
    let words = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("! stream silent"), "{screen}");
    std::fs::remove_dir_all(&dir).ok();
}
