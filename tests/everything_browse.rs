//! The console's resources and prompts screens against `@modelcontextprotocol/server-everything`
//! (a server we did not write), under tmux: the resource list, reading a document, a resource
//! template's form with completion, a subscription that hears the server's updates, and a
//! prompt's form with completion and the messages it returns.
//!
//! Node 22 and the server come from `tests/run.sh` (`MCPFLEET_NODE`, `MCPFLEET_EVERYTHING`, else
//! the repository's `.tools/npm`), as for `everything.rs`; without them this test fails and says
//! how to get them. `tests/everything/loopback.js` holds the server to 127.0.0.1.

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

mod tmux;

const INSTALL_HINT: &str = "run tests/run.sh, or: npm install --prefix .tools/npm node@22 \
                            @modelcontextprotocol/server-everything@2026.8.31";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn installed(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/npm").join(default));
    assert!(
        path.is_file(),
        "{} is missing (${var}): {INSTALL_HINT}",
        path.display()
    );
    path
}

/// server-everything in its streamableHttp mode on a free loopback port; killed when dropped.
struct Everything {
    url: String,
    dir: PathBuf,
    child: Child,
}

impl Everything {
    fn start() -> Self {
        let node = installed("MCPFLEET_NODE", "node_modules/.bin/node");
        let server = installed(
            "MCPFLEET_EVERYTHING",
            "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
        );
        let dir = std::env::temp_dir().join(format!("mcpfleet-browse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(&node)
            .arg("-r")
            .arg(repo().join("tests/everything/loopback.js"))
            .arg(&server)
            .arg("streamableHttp")
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
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let address = log
                .lines()
                .find_map(|line| line.strip_prefix("loopback: listening on "));
            if let Some(address) = address
                && TcpStream::connect(address).is_ok()
            {
                break address.to_string();
            }
            if let Some(status) = everything.child.try_wait().unwrap() {
                panic!("server-everything exited ({status}) before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "no listening within 20 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        everything.url = format!("http://{address}/mcp");
        everything
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One console session: the server's updates are switched on for the console's session with
/// its `toggle-subscriber-updates` tool (server-everything sends them only to the session that
/// asked, every 5 s), then the resources screen reads a document, subscribes to it and sees an
/// update arrive, fills in a template with a completed value and reads it; then the prompts
/// screen completes an argument and gets a prompt with arguments.
#[test]
fn the_console_reads_subscribes_completes_and_gets_prompts() {
    let server = Everything::start();
    let config = server.dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "source = \"static\"\n[static]\nservers = [{{ name = \"everything\", url = \"{}\" }}]\n",
            server.url
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    // Patient: the server sends updates every 5 s, and the whole suite shares two cores.
    let soon = Duration::from_secs(30);
    let console = tmux::Console::start("browse", 140, 45, &[("MCPFLEET_CONFIG", &config)]);
    console.wait_until("the service ready", soon, |screen| {
        screen
            .lines()
            .any(|line| line.starts_with("everything ") && line.contains("1/1 ready"))
    });

    console.open_call_form("everything", "toggle-subscriber-updates", soon);
    console.send_keys(&["C-s"]);
    console.wait_for("Started simulated resource updated notifications", soon);
    console.go_home(soon);

    console.command("resources everything");
    let screen = console.wait_for("architecture.md", soon);
    assert!(
        screen.contains("list changes")
            && screen.contains("demo://resource/dynamic/text/{resourceId}"),
        "{screen}"
    );
    console.send_keys(&["/"]);
    console.type_text("architecture");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("# Everything Server – Architecture", soon);
    console.send_keys(&["s"]);
    console.wait_for("subscribed (resources/subscribe)", soon);
    let screen = console.wait_for("● updated", soon);
    assert!(
        screen.contains("# Everything Server – Architecture"),
        "{screen}"
    );

    // A template: its form, a completed value, the expanded URI read. `/` starts from the
    // filter in place, which is erased first.
    console.send_keys(&["/"]);
    console.send_keys(&["BSpace"; 12]);
    console.type_text("dynamic/text");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("resourceId*", soon);
    console.type_text("7");
    console.send_keys(&["Tab"]);
    console.wait_for("1 value for resourceId", soon);
    console.send_keys(&["Enter", "C-s"]);
    console.wait_for("Resource 7: This is a plaintext resource created at", soon);
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["Escape"]);
    console.wait_until("the form closed", soon, |s| !s.contains("resourceId*"));

    // Prompts: completion of the first argument, then a prompt with arguments.
    console.command("prompts everything");
    console.wait_for("args-prompt", soon);
    console.send_keys(&["/"]);
    console.type_text("completable");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("department*", soon);
    console.type_text("Eng");
    console.send_keys(&["Tab"]);
    console.wait_for("1 value for department", soon);
    console.send_keys(&["Enter", "Down"]);
    console.type_text("A");
    console.send_keys(&["Tab"]);
    let screen = console.wait_for("Alice", soon);
    assert!(
        screen.contains("Engineering"),
        "the first choice taken: {screen}"
    );
    console.send_keys(&["Enter", "C-s"]);
    console.wait_for(
        "user: Please promote Alice to the head of the Engineering team.",
        soon,
    );
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["Escape"]);

    console.send_keys(&["/"]);
    console.send_keys(&["BSpace"; 11]);
    console.type_text("args-prompt");
    console.send_keys(&["Enter", "Enter"]);
    console.wait_for("city*", soon);
    console.type_text("Paris");
    console.send_keys(&["C-s"]);
    console.wait_for("user: What's weather in Paris?", soon);
    console.send_keys(&["Escape"]);
    console.wait_until("editing stopped", soon, |s| {
        !s.contains("editing (esc stops)")
    });
    console.send_keys(&["Escape", "Escape"]);
    console.go_home(soon);
    console.send_keys(&["q"]);
    assert_eq!(console.wait_exit(soon).status, 0);
    drop(server);
}
