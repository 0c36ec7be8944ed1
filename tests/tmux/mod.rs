//! Test support: the real `mcpfleet` binary in a detached tmux session, driven like a person
//! would drive it — keys in, screen out.
//!
//! Each `Console` owns a temporary directory that holds everything it touches: an empty config
//! (`MCPFLEET_CONFIG`, so the console runs the default local fleet), HOME and XDG_STATE_HOME
//! (so the console's log file lands there), its own tmux server socket and config, and the
//! files the pane's shell writes: `stty -g` before and after the console, the console's pid and
//! its exit status. Dropping the `Console` kills its tmux server (the console gets SIGHUP and
//! stops its fleet) and removes the directory. Every wait has a timeout.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SESSION: &str = "console";
const POLL: Duration = Duration::from_millis(50);

/// Runs in the pane: saves the terminal state, runs the console (its pid saved by the inner
/// shell, which `exec`s it), then saves the state again and the exit status, in that order.
const PANE_SCRIPT: &str = r#"dir=$1
shift
stty -g > "$dir/stty.before"
sh -c 'echo $$ > "$0/console.pid"; exec "$@"' "$dir" "$@"
status=$?
stty -g > "$dir/stty.after"
echo "$status" > "$dir/status.tmp" && mv "$dir/status.tmp" "$dir/status"
echo "[console exited with status $status]"
"#;

/// How the console run ended, as the pane's shell saw it.
#[derive(Debug)]
pub struct Exit {
    pub status: i32,
    pub stty_before: String,
    pub stty_after: String,
}

pub struct Console {
    dir: PathBuf,
    socket: PathBuf,
}

impl Console {
    /// Starts the console in a `width`×`height` pane, with `env` added to its environment.
    pub fn start(name: &str, width: u16, height: u16, env: &[(&str, &str)]) -> Self {
        Self::start_with_args(name, width, height, env, &[])
    }

    /// `start`, with `args` on the console's command line (`--read-only`).
    pub fn start_with_args(
        name: &str,
        width: u16,
        height: u16,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        require_tmux();
        static SEQUENCE: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mcpfleet-tmux-{name}-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state")).unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        std::fs::write(dir.join("empty.toml"), "").unwrap();
        // The pane stays after its shell ends, so the screen can still be read; what the
        // console copies (OSC 52) lands in a tmux buffer, so it can be read too.
        std::fs::write(
            dir.join("tmux.conf"),
            "set-option -g remain-on-exit on\nset-option -s set-clipboard on\n",
        )
        .unwrap();
        let console = Self {
            socket: dir.join("tmux.sock"),
            dir,
        };
        let mut command = Command::new("tmux");
        command
            .arg("-S")
            .arg(&console.socket)
            .arg("-f")
            .arg(console.dir.join("tmux.conf"))
            .args(["new-session", "-d", "-s", SESSION])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(["sh", "-c", PANE_SCRIPT, "sh"])
            .arg(&console.dir)
            .arg(BIN)
            .args(args)
            // The tmux server, and so the pane, inherits this environment.
            .env_remove("TMUX")
            .env_remove("RUST_BACKTRACE")
            .env_remove("MCPFLEET_LOG")
            .env("HOME", &console.dir)
            .env("XDG_STATE_HOME", console.dir.join("state"))
            // Where the console shares its local fleet: its own, so consoles of parallel tests
            // and a developer's own console never meet.
            .env("XDG_RUNTIME_DIR", console.runtime_dir())
            .env("XDG_CONFIG_HOME", console.dir.join("config"))
            .env("MCPFLEET_CONFIG", console.dir.join("empty.toml"))
            .env("TERM", "xterm-256color");
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("tmux runs");
        check(&output, "tmux new-session");
        console
    }

    /// The console's XDG_RUNTIME_DIR: a one-shot command run with it attaches to the console's
    /// local fleet.
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// The console's XDG_STATE_HOME: its log and its token store.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Where the console writes its log: XDG_STATE_HOME/mcpfleet/mcpfleet.log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("state").join("mcpfleet").join("mcpfleet.log")
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        check(&output, &format!("tmux {}", args.join(" ")));
        output
    }

    /// What the console last copied to the clipboard, once it has copied something.
    pub fn clipboard(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let output = Command::new("tmux")
                .arg("-S")
                .arg(&self.socket)
                .args(["show-buffer"])
                .output()
                .expect("tmux runs");
            if output.status.success() {
                return String::from_utf8_lossy(&output.stdout).into_owned();
            }
            assert!(
                Instant::now() < deadline,
                "nothing was copied within {timeout:?}"
            );
            thread::sleep(POLL);
        }
    }

    /// Sends tmux key names: "q", "Enter", "Escape", "C-c", "?".
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Runs a `:` command line, as typed.
    pub fn command(&self, line: &str) {
        self.send_keys(&[":"]);
        self.type_text(line);
        self.send_keys(&["Enter"]);
    }

    /// From any screen: the call form of `tool` of `service`, once the service's tool list
    /// has arrived (`:tools SERVICE`, `/` filter, enter on the tool).
    pub fn open_call_form(&self, service: &str, tool: &str, timeout: Duration) {
        self.command(&format!("tools {service}"));
        // A long list may hold the tool below the fold: the listing is enough, the filter
        // finds it.
        self.wait_until(&format!("{tool} in the tool list"), timeout, |screen| {
            screen.contains(" tools · tools/list in ")
                || screen
                    .lines()
                    .any(|line| line.starts_with(&format!("{tool} ")))
        });
        self.send_keys(&["/"]);
        self.type_text(tool);
        self.send_keys(&["Enter", "Enter"]);
        self.wait_for(&format!("call({tool})"), timeout);
    }

    /// Esc out of a field being edited, then `:svc` to the services page alone. A key sent
    /// right after Esc would read as Alt+key, as in any terminal, so it waits like a person.
    pub fn go_home(&self, timeout: Duration) {
        self.send_keys(&["Escape"]);
        self.wait_until("field editing stopped", timeout, |screen| {
            !screen.contains("editing (esc stops)")
        });
        self.command("svc");
        self.wait_until("the services page alone", timeout, |screen| {
            screen
                .lines()
                .nth(1)
                .is_some_and(|crumbs| crumbs.trim() == "services")
        });
    }

    /// Esc back one screen, then waits for the breadcrumbs to change: a key sent right
    /// after Esc would read as Alt+key.
    pub fn back(&self, timeout: Duration) {
        let crumbs = |screen: &str| screen.lines().nth(1).unwrap_or("").trim().to_owned();
        let before = crumbs(&self.capture());
        self.send_keys(&["Escape"]);
        self.wait_until(
            &format!("a screen other than {before:?}"),
            timeout,
            |screen| crumbs(screen) != before,
        );
    }

    /// Esc where nothing on screen shows it was read (a prompt's form closing behind its
    /// result): a pause like a person's, so the next key is not read as Alt+key.
    pub fn escape_and_pause(&self) {
        self.send_keys(&["Escape"]);
        thread::sleep(Duration::from_millis(300));
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// The pane's main-screen history and its visible screen, wrapped lines joined, trailing
    /// blanks trimmed. History matters once the pane is dead: tmux scrolls its "Pane is dead"
    /// line in, which can push the shell's last output off the visible screen. (The alternate
    /// screen keeps no history, so the console's own frames never appear there.)
    pub fn capture(&self) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", SESSION]);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?} on screen"), timeout, |screen| {
            screen.contains(text)
        })
    }

    /// Waits until the screen satisfies `ready`; fails with the last screen and the console's
    /// log after `timeout`.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {timeout:?} for {what}\n--- screen ---\n{screen}\n--- log ---\n{}",
                    self.log_tail()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Whether the pane is on the alternate screen (a full-screen program owns it).
    pub fn alternate_screen(&self) -> bool {
        let output = self.tmux(&["display-message", "-p", "-t", SESSION, "#{alternate_on}"]);
        String::from_utf8_lossy(&output.stdout).trim() == "1"
    }

    pub fn resize(&self, width: u16, height: u16) {
        self.tmux(&[
            "resize-window",
            "-t",
            SESSION,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }

    /// The console's pid, once its shell has written it.
    pub fn pid(&self, timeout: Duration) -> u32 {
        self.wait_for_file("console.pid", timeout)
    }

    /// Sends `signal` ("TERM", "HUP", …) to the console process alone.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid(Duration::from_secs(5));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Waits for the console to end; returns its status and the terminal state around it.
    pub fn wait_exit(&self, timeout: Duration) -> Exit {
        let status = self.wait_for_file("status", timeout) as i32;
        let read = |name: &str| {
            std::fs::read_to_string(self.dir.join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .trim()
                .to_string()
        };
        Exit {
            status,
            stty_before: read("stty.before"),
            stty_after: read("stty.after"),
        }
    }

    fn wait_for_file(&self, name: &str, timeout: Duration) -> u32 {
        let path = self.dir.join(name);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = read_number(&path) {
                return value;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {timeout:?} for {}\n--- screen ---\n{}\n--- log ---\n{}",
                    path.display(),
                    self.capture(),
                    self.log_tail()
                );
            }
            thread::sleep(POLL);
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read_number(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The terminal tests need tmux; without it they fail, never skip.
fn require_tmux() {
    match Command::new("tmux").arg("-V").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "the terminal tests need tmux, and `tmux -V` failed ({}): {} \
             — install tmux (apt-get install tmux)",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!(
            "the terminal tests need tmux, and `tmux -V` could not run: {error} \
             — install tmux (apt-get install tmux)"
        ),
    }
}
