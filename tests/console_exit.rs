//! No child process outlives the console, whichever way it ends: a normal exit, Ctrl-C
//! (SIGINT), SIGTERM, SIGHUP, or SIGKILL (where only the parent-death signal can help).

mod procs;

use std::{process::Command, time::Duration};

use procs::{marked_processes, wait_until_gone};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const READY_TIMEOUT: Duration = Duration::from_secs(20);

fn mark(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// Starts `mcpfleet logs --follow` (which holds the default fleet until it ends) and waits for
/// the console and its three replicas.
async fn hold_fleet(mark: &str) -> std::process::Child {
    let config = std::env::temp_dir().join(format!("{mark}-empty.toml"));
    std::fs::write(&config, "").unwrap();
    let mut console = Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "logs", "--follow"])
        .env("MCPFLEET_TEST_MARK", mark)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir().join(mark))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    while marked_processes(mark).len() < 4 {
        if std::time::Instant::now() > deadline {
            let _ = console.kill();
            panic!("the fleet never started: {:?}", marked_processes(mark));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    console
}

async fn ends_cleanly_on(signal: &str) {
    let mark = mark(signal);
    let mut console = hold_fleet(&mark).await;
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &console.id().to_string()])
        .status();
    assert!(status.unwrap().success());
    let exited = tokio::task::spawn_blocking(move || console.wait().unwrap())
        .await
        .unwrap();
    assert!(
        exited.success() || exited.code().is_some(),
        "{signal}: {exited:?}"
    );
    wait_until_gone(&mark, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_every_child() {
    ends_cleanly_on("INT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_every_child() {
    ends_cleanly_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_stops_every_child() {
    ends_cleanly_on("HUP").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_command_leaves_no_child() {
    let mark = mark("ls");
    let output = Command::new(BIN)
        .args(["ls"])
        .env("MCPFLEET_CONFIG", "/dev/null")
        .env("MCPFLEET_TEST_MARK", &mark)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir().join(&mark))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    wait_until_gone(&mark, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_die_with_a_sigkilled_console() {
    let mark = mark("parent-killed");
    // The console itself holds the fleet: `logs --follow` runs until it is killed. Its children
    // inherit the mark from its environment; the command service gets it from the config too.
    let config = std::env::temp_dir().join(format!("{mark}.toml"));
    std::fs::write(
        &config,
        format!(
            "[local]\nbuiltin_replicas = 2\n\n[[local.services]]\nname = \"third-party\"\n\
             command = \"{BIN}\"\nargs = [\"serve\", \"--bind\", \"127.0.0.1:{{port}}\"]\n\
             env = {{ MCPFLEET_TEST_MARK = \"{mark}\" }}\n"
        ),
    )
    .unwrap();
    let mut parent = std::process::Command::new(BIN)
        .args(["--config", config.to_str().unwrap(), "logs", "--follow"])
        .env("MCPFLEET_TEST_MARK", &mark)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir().join(&mark))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The console, two built-in replicas, and the shim and server of the command service.
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    while marked_processes(&mark).len() < 5 {
        if std::time::Instant::now() > deadline {
            let _ = parent.kill();
            panic!("the fleet never started: {:?}", marked_processes(&mark));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(marked_processes(&mark).len(), 5);
    parent.kill().unwrap();
    parent.wait().unwrap();
    std::fs::remove_file(&config).unwrap();
    let took = wait_until_gone(&mark, Duration::from_secs(3)).await;
    eprintln!("children gone {took:?} after the parent was SIGKILLed");
}
