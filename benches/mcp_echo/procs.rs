//! Child server processes: free loopback ports, spawning with logs to a file,
//! readiness by polling the MCP handshake, and a guard that kills the child on drop.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::load::Session;

/// Ask the kernel for a free port on 127.0.0.1, then release it for the child.
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// A running server; killed and reaped when dropped (also on error paths).
pub struct Server {
    pub name: String,
    pub url: String,
    child: Child,
    log: PathBuf,
}

impl Server {
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        port: u16,
        log_dir: &Path,
    ) -> Result<Server, String> {
        std::fs::create_dir_all(log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let log = log_dir.join(format!("{slug}.log"));
        let out = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{name}: cannot start {:?}: {e}", cmd.get_program()))?;
        Ok(Server {
            name: name.to_owned(),
            url: format!("http://127.0.0.1:{port}/mcp"),
            child,
            log,
        })
    }

    /// Poll until an MCP handshake succeeds, the child exits, or `limit` passes.
    pub async fn wait_ready(&mut self, limit: Duration) -> Result<Duration, String> {
        let start = Instant::now();
        let mut last = String::from("no attempt");
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited during start-up ({status}){}",
                    self.name,
                    self.log_tail()
                ));
            }
            match Session::connect(&self.url).await {
                Ok(s) => {
                    s.close().await;
                    return Ok(start.elapsed());
                }
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "{} not ready after {limit:?}: {last}{}",
            self.name,
            self.log_tail()
        ))
    }

    /// Still running? (A server that died mid-run makes its numbers meaningless.)
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited during the run ({status}){}",
                self.name,
                self.log_tail()
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n    ");
        format!("\n  log {}:\n    {tail}", self.log.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
