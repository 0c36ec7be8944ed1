//! The child side of the local fleet: tying a child's life to the console's, the hidden
//! `__child` shim that runs a configured command, and how an exit is described in ECS's words.
//!
//! Children must not outlive the console, also when it panics or is SIGKILLed, and without
//! unsafe code (no `pre_exec`). So a child arms its own parent-death signal: the built-in
//! server calls [`arm_parent_death`] at start, and a third-party command is started through
//! `mcpfleet __child -- CMD ARGS…`, which arms it, starts `__child --exec -- CMD ARGS…` (that
//! arms it again towards the shim and then becomes the command through `execvpe`, which keeps
//! the signal), forwards SIGTERM/SIGINT to it, and exits with its status. The shim leads its
//! own process group, so the console and the shim can SIGKILL whatever the command forked.

use std::{ffi::CString, process::ExitCode, time::Duration};

use nix::{
    sys::{
        prctl,
        signal::{Signal, kill, killpg},
    },
    unistd::{Pid, getpgrp, getppid},
};

/// Pid of the process a child must not outlive; set by whoever starts it.
pub const PARENT_PID_ENV: &str = "MCPFLEET_PARENT_PID";
/// After its parent died, how long the shim lets the command drain before killing its group.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// When `MCPFLEET_PARENT_PID` is set: asks the kernel for SIGTERM when the parent dies, then
/// exits if the parent is already gone (it may have died before the signal was armed).
pub fn arm_parent_death() {
    let Some(parent) = std::env::var(PARENT_PID_ENV)
        .ok()
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return;
    };
    if let Err(error) = prctl::set_pdeathsig(Signal::SIGTERM) {
        eprintln!("mcpfleet: cannot arm the parent-death signal: {error}");
    }
    if getppid().as_raw() != parent {
        eprintln!("mcpfleet: parent process {parent} is gone; exiting");
        std::process::exit(1);
    }
}

/// Arguments of the hidden `__child` subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct ChildArgs {
    /// Arm the parent-death signal, then become the command (used by the shim itself).
    #[arg(long)]
    pub exec: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// Entry point of `mcpfleet __child`.
pub fn run(args: ChildArgs) -> ExitCode {
    arm_parent_death();
    if args.exec {
        return exec(&args.command);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(shim(args.command)),
        Err(error) => {
            eprintln!("mcpfleet: cannot start the child runtime: {error}");
            ExitCode::from(1)
        }
    }
}

/// Replaces this process with the command; only returns on failure, with the shell's codes.
/// The parent-death signal survives the exec. `MCPFLEET_PARENT_PID` does not: a process the
/// command forks has another parent and must not take the variable as its own.
fn exec(command: &[String]) -> ExitCode {
    use std::os::unix::ffi::OsStrExt;
    let argv: Result<Vec<CString>, _> =
        command.iter().map(|a| CString::new(a.as_bytes())).collect();
    let env: Result<Vec<CString>, _> = std::env::vars_os()
        .filter(|(name, _)| name != PARENT_PID_ENV)
        .map(|(name, value)| CString::new([name.as_bytes(), b"=", value.as_bytes()].concat()))
        .collect();
    let (Ok(argv), Ok(env)) = (argv, env) else {
        eprintln!("mcpfleet: command or environment contains a NUL byte");
        return ExitCode::from(126);
    };
    let error = match nix::unistd::execvpe(&argv[0], &argv, &env) {
        Err(error) => error,
        Ok(never) => match never {},
    };
    eprintln!("mcpfleet: cannot run {:?}: {error}", command[0]);
    ExitCode::from(if error == nix::errno::Errno::ENOENT {
        127
    } else {
        126
    })
}

async fn shim(command: Vec<String>) -> ExitCode {
    use tokio::signal::unix::{SignalKind, signal};
    let parent = getppid();
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("mcpfleet: cannot install signal handlers");
        return ExitCode::from(1);
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| "mcpfleet".into());
    let spawned = tokio::process::Command::new(exe)
        .args(["__child", "--exec", "--"])
        .args(&command)
        .env(PARENT_PID_ENV, std::process::id().to_string())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            eprintln!("mcpfleet: cannot start {:?}: {error}", command[0]);
            return ExitCode::from(126);
        }
    };
    let mut orphaned_at: Option<tokio::time::Instant> = None;
    let status = loop {
        let forward = tokio::select! {
            status = child.wait() => break status,
            _ = terminate.recv() => Signal::SIGTERM,
            _ = interrupt.recv() => Signal::SIGINT,
            _ = sleep_until(orphaned_at) => {
                kill_own_group();
                continue;
            }
        };
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), forward);
        }
        if getppid() != parent && orphaned_at.is_none() {
            orphaned_at = Some(tokio::time::Instant::now() + ORPHAN_GRACE);
        }
    };
    if getppid() != parent {
        // Nobody is left to sweep up what the command forked.
        kill_own_group();
    }
    match status {
        Ok(status) => ExitCode::from(exit_code(status.code(), unix_signal(&status)) as u8),
        Err(error) => {
            eprintln!("mcpfleet: lost the command: {error}");
            ExitCode::from(1)
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGKILLs this process's group, but only when this process leads it: a shim started by hand
/// from a shell must not kill the shell's group.
fn kill_own_group() {
    let group = getpgrp();
    if group.as_raw() == std::process::id() as i32 {
        let _ = killpg(group, Signal::SIGKILL);
    }
}

pub(super) fn unix_signal(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

/// The exit code ECS reports: the code, or 128 + the signal number.
pub(super) fn exit_code(code: Option<i32>, signal: Option<i32>) -> i32 {
    code.or(signal.map(|signal| 128 + signal)).unwrap_or(-1)
}

/// How a task's process ended, as the console learned it.
#[derive(Debug, Clone, PartialEq)]
pub enum Exit {
    Status {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// The process could not be started at all.
    SpawnFailed(String),
}

impl Exit {
    pub fn from_status(status: std::process::ExitStatus) -> Self {
        Exit::Status {
            code: status.code(),
            signal: unix_signal(&status),
        }
    }

    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Exit::Status { code, signal } => Some(exit_code(*code, *signal)),
            Exit::SpawnFailed(_) => None,
        }
    }

    /// stoppedReason of a task that ended without being asked to.
    pub fn stopped_reason(&self) -> String {
        match self {
            Exit::Status {
                signal: Some(signal),
                ..
            } => {
                let name = Signal::try_from(*signal)
                    .map(|s| s.as_str())
                    .unwrap_or("unknown");
                format!(
                    "Essential container in task exited: killed by signal {signal} ({name}), \
                     exit code {}",
                    128 + signal
                )
            }
            Exit::Status { code, .. } => {
                let code = code.map_or_else(|| "unknown".into(), |c| c.to_string());
                format!("Essential container in task exited: exit code {code}")
            }
            Exit::SpawnFailed(error) => format!("CannotStartContainerError: {error}"),
        }
    }
}

/// Sends `signal` to a process group, ignoring one that is already gone.
pub(super) fn signal_group(pgid: u32, signal: Signal) {
    let _ = killpg(Pid::from_raw(pgid as i32), signal);
}

/// Sends `signal` to one process, ignoring one that is already gone.
pub(super) fn signal_process(pid: u32, signal: Signal) {
    let _ = kill(Pid::from_raw(pid as i32), signal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_described_like_ecs() {
        let killed = Exit::Status {
            code: None,
            signal: Some(9),
        };
        assert_eq!(killed.exit_code(), Some(137));
        assert_eq!(
            killed.stopped_reason(),
            "Essential container in task exited: killed by signal 9 (SIGKILL), exit code 137"
        );
        let failed = Exit::Status {
            code: Some(2),
            signal: None,
        };
        assert_eq!(
            failed.stopped_reason(),
            "Essential container in task exited: exit code 2"
        );
        let missing = Exit::SpawnFailed("No such file or directory".into());
        assert_eq!(missing.exit_code(), None);
        assert!(
            missing
                .stopped_reason()
                .starts_with("CannotStartContainerError")
        );
    }
}
