//! Test support for the AWS source: starts the AWS emulator (`tests/aws_emulator/emulator.py`:
//! moto with the ECS fidelity layer, real replicas of `mcpfleet-server`, a fault proxy) and
//! drives it through its control API. Everything listens on 127.0.0.1; credentials are fake.
//!
//! The emulator needs the venv that `tests/run.sh` creates and a built `mcpfleet-server`;
//! a missing piece panics with what to do, it never skips a test.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdin, ChildStdout, Command},
};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for POST /fleet of large fleets and for /emit-logs spread over seconds.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(300);

/// Variables to remove from a child's environment next to [`Emulator::aws_env`], so nothing
/// of the machine's AWS setup (profiles, roles, tokens) reaches the code under test.
pub const CLEARED_AWS_ENV: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_DEFAULT_REGION",
    "AWS_CA_BUNDLE",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python: `$MCPFLEET_VENV/bin/python` (set by tests/run.sh) or `<repo>/.venv`.
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("MCPFLEET_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv"));
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "no Python venv at {}: run tests/run.sh to create the venv (it installs moto and the \
         emulator's dependencies)",
        venv.display()
    );
    python
}

/// `<target dir>/debug/mcpfleet-server`; the test must have built it
/// (`cargo build -p mcpfleet-server`).
pub fn default_server_bin() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("debug/mcpfleet-server")
}

/// A running emulator. Dropping it closes its stdin and kills it; its replicas die with it.
/// Its scratch directory (log, empty AWS config) is removed unless the test panicked.
pub struct Emulator {
    pub moto_url: String,
    pub proxy_url: String,
    pub control_url: String,
    pub region: String,
    /// The emulator's stderr, for diagnosis; kept when the test panics.
    pub log_path: PathBuf,
    scratch: PathBuf,
    empty_aws_file: PathBuf,
    http: reqwest::Client,
    stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
    child: Child,
}

impl Emulator {
    /// Starts the emulator with the default server binary as replica binary.
    pub async fn start() -> Self {
        Self::start_with(default_server_bin()).await
    }

    pub async fn start_with(server_bin: impl AsRef<Path>) -> Self {
        let server_bin = server_bin.as_ref();
        assert!(
            server_bin.is_file(),
            "mcpfleet-server not found at {}: build it first (cargo build -p mcpfleet-server)",
            server_bin.display()
        );
        let python = venv_python();
        let dir = scratch_dir();
        let log_path = dir.join("emulator.log");
        let empty_aws_file = dir.join("empty-aws-config");
        std::fs::write(&empty_aws_file, "").expect("write the empty AWS config file");
        let log = std::fs::File::create(&log_path).expect("create the emulator log");

        let mut child = Command::new(python)
            .arg(repo().join("tests/aws_emulator/emulator.py"))
            .arg("--server-bin")
            .arg(server_bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start tests/aws_emulator/emulator.py");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let read = tokio::time::timeout(STARTUP_TIMEOUT, stdout.read_line(&mut line)).await;
        if !matches!(read, Ok(Ok(n)) if n > 0) {
            panic!(
                "the AWS emulator did not start ({read:?}); its log {}:\n{}",
                log_path.display(),
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        let urls: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the emulator's first line is not JSON ({e}): {line}"));
        let field = |name: &str| {
            urls[name]
                .as_str()
                .unwrap_or_else(|| panic!("the emulator's first line lacks {name}: {line}"))
                .to_string()
        };
        Self {
            moto_url: field("moto"),
            proxy_url: field("proxy"),
            control_url: field("control"),
            region: field("region"),
            log_path,
            scratch: dir,
            empty_aws_file,
            http: reqwest::Client::builder()
                .timeout(CONTROL_TIMEOUT)
                .build()
                .expect("static client configuration is valid"),
            stdin,
            _stdout: stdout,
            child,
        }
    }

    /// The environment that points an AWS SDK (or the console binary) at `endpoint` (usually
    /// [`Emulator::proxy_url`]) with fake credentials and no config files of this machine.
    /// Remove [`CLEARED_AWS_ENV`] as well.
    pub fn aws_env(&self, endpoint: &str) -> Vec<(String, String)> {
        let empty = self.empty_aws_file.display().to_string();
        [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", self.region.as_str()),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", empty.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", empty.as_str()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
    }

    /// POST /fleet: `{"cluster": "mcp", "services": [{"name": "echo-mcp", "replicas": 3, ...}]}`;
    /// answers once every real task runs and is healthy.
    pub async fn fleet(&self, spec: &Value) -> Value {
        self.post("/fleet", spec).await
    }

    /// POST /emit-logs: `count` numbered lines into one task's stream over `over_ms`.
    pub async fn emit_logs(
        &self,
        cluster: &str,
        service: &str,
        task_id: &str,
        count: u32,
        over_ms: u64,
    ) -> Value {
        let body = json!({
            "cluster": cluster, "service": service, "task_id": task_id,
            "count": count, "over_ms": over_ms,
        });
        self.post("/emit-logs", &body).await
    }

    /// POST /faults: e.g. `{"throttle": 0.3, "seed": 1}`; settings left out are 0.
    pub async fn faults(&self, plan: &Value) -> Value {
        self.post("/faults", plan).await
    }

    /// GET /proxy-stats: requests and injected faults per `service:Operation`.
    pub async fn proxy_stats(&self) -> Value {
        self.get("/proxy-stats").await
    }

    /// A config file (named after `name` and this process) that points the console at the
    /// emulator's cluster `mcp`, refreshed every second.
    pub fn config_file(&self, name: &str) -> PathBuf {
        let config =
            std::env::temp_dir().join(format!("mcpfleet-{name}-{}.toml", std::process::id()));
        std::fs::write(
            &config,
            format!(
                "source = \"aws\"\n[aws]\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n\
                 clusters = [\"mcp\"]\ninterval_secs = 1\n",
                self.proxy_url
            ),
        )
        .expect("write the config file");
        config
    }

    pub async fn reset_stats(&self) {
        self.post("/reset-stats", &json!({})).await;
    }

    /// POST /reset: stops every replica, empties moto, clears faults and counters.
    pub async fn reset(&self) {
        self.post("/reset", &json!({})).await;
    }

    /// Stops the emulator the graceful way (end of stdin) and waits for it, so its replicas
    /// are gone when this returns.
    pub async fn shutdown(mut self) {
        self.stdin.take();
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(status) => {
                let status = status.expect("wait for the emulator");
                assert!(
                    status.success(),
                    "the emulator exited with {status}; see {}",
                    self.log_path.display()
                );
            }
            Err(_) => panic!(
                "the emulator did not exit within 20 s; see {}",
                self.log_path.display()
            ),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let request = self
            .http
            .post(format!("{}{path}", self.control_url))
            .json(body);
        self.answer("POST", path, request).await
    }

    async fn get(&self, path: &str) -> Value {
        let request = self.http.get(format!("{}{path}", self.control_url));
        self.answer("GET", path, request).await
    }

    async fn answer(&self, method: &str, path: &str, request: reqwest::RequestBuilder) -> Value {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} to the AWS emulator failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text} (emulator log: {})",
            self.log_path.display()
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path} answered non-JSON ({e}): {text}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.scratch);
        }
    }
}

/// A fresh directory per emulator for its log and the empty AWS config file.
fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mcpfleet-aws-emulator-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create the emulator's scratch directory");
    dir
}
