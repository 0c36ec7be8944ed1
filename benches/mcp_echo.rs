//! `tools/call echo` throughput and latency on loopback, against our server and its
//! peers, measured in one run with one load client.
//!
//! Run through `benches/run.sh`, or directly with
//! `cargo bench --bench mcp_echo -- [--quick] [--warmup S] [--duration S] [--conc 1,32]
//! [--only ours,ours-stateless,node,python,ceiling]`.
//! The same settings can come from MCP_BENCH_WARMUP, MCP_BENCH_DURATION, MCP_BENCH_CONC
//! and MCP_BENCH_ONLY. Peer locations: MCPFLEET_SERVER_BIN, MCP_BENCH_NODE,
//! MCP_BENCH_EVERYTHING_JS, MCP_BENCH_PYTHON (defaults: target/release and .tools/).
//!
//! Exit status: 0 after a complete measurement, whatever the ratios; 1 if any row had
//! more than 1 % errors; 2 if a server could not be found or started.

#[path = "mcp_echo/ceiling.rs"]
mod ceiling;
#[path = "mcp_echo/load.rs"]
mod load;
#[path = "mcp_echo/procs.rs"]
mod procs;
#[path = "mcp_echo/report.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use procs::Server;
use report::Row;

const CEILING_ARG: &str = "--ceiling-server";
/// (key, label) in run order.
const SERVERS: [(&str, &str); 5] = [
    ("ours", "mcpfleet-server"),
    ("ours-stateless", "mcpfleet-server --mode stateless"),
    ("node", "server-everything (Node 22)"),
    ("python", "FastMCP (Python)"),
    ("ceiling", "bare axum JSON echo (ceiling)"),
];

struct Config {
    warmup: Duration,
    duration: Duration,
    concs: Vec<usize>,
    only: Vec<String>,
}

fn parse_config(args: &[String]) -> Result<Config, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut warmup = env("MCP_BENCH_WARMUP").unwrap_or_else(|| "2".into());
    let mut duration = env("MCP_BENCH_DURATION").unwrap_or_else(|| "5".into());
    let mut concs = env("MCP_BENCH_CONC").unwrap_or_else(|| "1,32".into());
    let mut only = env("MCP_BENCH_ONLY").unwrap_or_else(|| SERVERS.map(|s| s.0).join(","));
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--quick" => (warmup, duration) = ("1".into(), "2".into()),
            "--warmup" => warmup = value()?,
            "--duration" => duration = value()?,
            "--conc" => concs = value()?,
            "--only" => only = value()?,
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let secs = |name: &str, s: &str, max: f64| -> Result<Duration, String> {
        match s.parse::<f64>() {
            Ok(v) if (0.0..=max).contains(&v) => Ok(Duration::from_secs_f64(v)),
            _ => Err(format!("{name} must be seconds in 0..={max}, got {s:?}")),
        }
    };
    let concs = concs
        .split(',')
        .map(|c| match c.trim().parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => Ok(n),
            _ => Err(format!("concurrency must be 1..=256, got {c:?}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let only: Vec<String> = only.split(',').map(|s| s.trim().to_owned()).collect();
    if let Some(bad) = only
        .iter()
        .find(|k| !SERVERS.iter().any(|s| s.0 == k.as_str()))
    {
        return Err(format!(
            "unknown server {bad:?}; known: {}",
            SERVERS.map(|s| s.0).join(", ")
        ));
    }
    let duration = secs("duration", &duration, 120.0)?;
    if duration.is_zero() {
        return Err("duration must be > 0".into());
    }
    Ok(Config {
        warmup: secs("warmup", &warmup, 60.0)?,
        duration,
        concs,
        only,
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn path_from(var: &str, default: impl FnOnce() -> PathBuf) -> Result<PathBuf, String> {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(default);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found (set {var}, or run benches/run.sh to install it)",
            p.display()
        ))
    }
}

/// The command line of one server, listening on 127.0.0.1:`port`.
fn command(key: &str, port: u16) -> Result<Command, String> {
    let tools = repo().join(".tools");
    let ours = || {
        path_from("MCPFLEET_SERVER_BIN", || {
            // The bench binary lives in target/<profile>/deps/.
            let exe = std::env::current_exe().unwrap_or_default();
            let dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf);
            dir.unwrap_or_else(|| repo().join("target/release"))
                .join("mcpfleet-server")
        })
    };
    let mut cmd;
    match key {
        "ours" | "ours-stateless" => {
            cmd = Command::new(ours()?);
            // Measure the defaults: no faults, auth, mode or log level from this shell.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("MCPFLEET_") || name == "RUST_LOG" {
                    cmd.env_remove(name);
                }
            }
            cmd.args(["--bind", &format!("127.0.0.1:{port}")]);
            if key == "ours-stateless" {
                cmd.args(["--mode", "stateless"]);
            }
        }
        "node" => {
            cmd = Command::new(path_from("MCP_BENCH_NODE", || {
                tools.join("npm/node_modules/.bin/node")
            })?);
            let js = path_from("MCP_BENCH_EVERYTHING_JS", || {
                tools.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
            })?;
            cmd.arg("-r").arg(repo().join("benches/loopback.cjs"));
            cmd.arg(js)
                .arg("streamableHttp")
                .env("PORT", port.to_string());
        }
        "python" => {
            cmd = Command::new(path_from("MCP_BENCH_PYTHON", || {
                tools.join("bench-venv/bin/python")
            })?);
            cmd.arg(repo().join("benches/fastmcp_echo.py"))
                .arg(port.to_string());
        }
        "ceiling" => {
            cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            cmd.args([CEILING_ARG, &port.to_string()]);
        }
        other => return Err(format!("unknown server {other}")),
    }
    Ok(cmd)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

async fn run_all(cfg: &Config) -> Result<Vec<Row>, String> {
    // Resolve every command first, so a missing piece fails before any measuring.
    for key in &cfg.only {
        command(key, 0)?;
    }
    let log_dir = repo().join("target/bench-logs");
    let mut rows = Vec::new();
    for (key, label) in SERVERS
        .into_iter()
        .filter(|s| cfg.only.iter().any(|k| k == s.0))
    {
        let port = procs::free_port()?;
        let mut server = Server::spawn(label, command(key, port)?, port, &log_dir)?;
        let ready = server.wait_ready(Duration::from_secs(60)).await?;
        eprintln!(
            "{label}: ready on 127.0.0.1:{port} after {:.2} s",
            ready.as_secs_f64()
        );
        for &conc in &cfg.concs {
            let result = load::run(&server.url, conc, cfg.warmup, cfg.duration)
                .await
                .map_err(|e| format!("{label} at conc {conc}: {e}"))?;
            server.check_alive()?;
            eprintln!(
                "  conc {conc:>3}: {:>9.0} calls/s, p50 {:.3} ms, p99 {:.3} ms, errors {}",
                result.calls_per_sec(),
                result.quantile_ms(0.5),
                result.quantile_ms(0.99),
                result.errors
            );
            rows.push(Row {
                key,
                label,
                conc,
                result,
            });
        }
        drop(server);
    }
    Ok(rows)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CEILING_ARG) {
        let port = args
            .get(1)
            .and_then(|p| p.parse().ok())
            .expect("--ceiling-server PORT");
        ceiling::serve(port);
    }
    let cfg = match parse_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcp_echo: {e}");
            return ExitCode::from(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load_before = loadavg();
    println!(
        "## tools/call echo on loopback: warm-up {:?}, measured {:?} per row, {cores} cores, \
         client and servers share the machine\n",
        cfg.warmup, cfg.duration
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let rows = match rt.block_on(run_all(&cfg)) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("mcp_echo: {e}");
            return ExitCode::from(2);
        }
    };
    report::print(&rows);
    println!(
        "\nload average (1/5/15 min): {load_before} before, {} after",
        loadavg()
    );
    if rows.iter().any(|r| r.result.error_rate() > 0.01) {
        eprintln!("mcp_echo: error rate above 1 % in at least one row");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
