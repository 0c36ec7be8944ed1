//! `@modelcontextprotocol/server-everything` on a free loopback port for the tests that drive
//! mcpfleet against a server we did not write: found where `tests/run.sh` installs it
//! (`MCPFLEET_NODE`, `MCPFLEET_EVERYTHING`, else the repository's `.tools/npm`), held to
//! 127.0.0.1 by `tests/everything/loopback.js`, killed when dropped. Without Node or the server
//! a test fails and says how to get them.

#![allow(dead_code)]

use std::{
    io::Write,
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

const EVERYTHING_VERSION: &str = "2026.8.31";
pub const INSTALL_HINT: &str = "run tests/run.sh, or: npm install --prefix .tools/npm node@22 \
                            @modelcontextprotocol/server-everything@2026.8.31";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `$VAR` when set, else `<repo>/.tools/npm/<default>`; it must exist.
pub fn installed(var: &str, default: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/npm").join(default));
    assert!(
        path.is_file(),
        "{what} is not at {} (${var}): {INSTALL_HINT}",
        path.display()
    );
    path
}

/// A running server-everything. Dropping it kills the process; its scratch directory (the
/// server's output, answer files) goes too unless the test panicked, and a panic prints where.
pub struct Everything {
    pub url: String,
    pub dir: PathBuf,
    child: Child,
}

impl Everything {
    pub fn start(name: &str) -> Self {
        let node = installed("MCPFLEET_NODE", "node_modules/.bin/node", "Node 22");
        let server = installed(
            "MCPFLEET_EVERYTHING",
            "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            "@modelcontextprotocol/server-everything",
        );
        let manifest = server.parent().and_then(Path::parent).unwrap();
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(manifest.join("package.json")).unwrap())
                .unwrap();
        assert_eq!(
            manifest["version"], EVERYTHING_VERSION,
            "these tests read server-everything {EVERYTHING_VERSION}'s outputs: {INSTALL_HINT}"
        );
        let dir =
            std::env::temp_dir().join(format!("mcpfleet-everything-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(&node)
            .arg("-r")
            .arg(repo().join("tests/everything/loopback.js"))
            .arg(&server)
            .arg("streamableHttp")
            // PORT=0: the system picks a free port, which the preload reports.
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not run ({e}): {INSTALL_HINT}", node.display()));
        let mut everything = Self {
            url: String::new(),
            dir,
            child,
        };
        let address = everything.wait_for_address(&log_path);
        everything.url = format!("http://{address}/mcp");
        everything
    }

    /// The address from the preload's `loopback: listening on ADDRESS` line, once the server
    /// accepts connections there.
    fn wait_for_address(&mut self, log_path: &Path) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            let address = log
                .lines()
                .find_map(|line| line.strip_prefix("loopback: listening on "));
            if let Some(address) = address
                && TcpStream::connect(address).is_ok()
            {
                return address.to_string();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server-everything exited ({status}) before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "server-everything did not listen within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A file in the scratch directory with `contents`; its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(contents.as_bytes()))
            .unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "server-everything's output: {}",
                self.dir.join("server.log").display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
