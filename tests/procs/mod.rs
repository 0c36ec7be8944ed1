//! Test support: find the processes a test started by the mark in their environment
//! (`MCPFLEET_TEST_MARK`), and wait for them to be gone.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Live (not zombie) processes whose environment carries `mark`.
pub fn marked_processes(mark: &str) -> Vec<u32> {
    let needle = format!("MCPFLEET_TEST_MARK={mark}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        });
        if !zombie
            && environ
                .split(|&b| b == 0)
                .any(|var| var == needle.as_bytes())
        {
            pids.push(pid);
        }
    }
    pids
}

pub async fn wait_until_gone(mark: &str, limit: Duration) -> Duration {
    let begun = Instant::now();
    while !marked_processes(mark).is_empty() {
        let left = marked_processes(mark);
        assert!(
            begun.elapsed() < limit,
            "children still alive after {limit:?}: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    begun.elapsed()
}

/// The pid of a built-in task: the process started with `--replica TASK_ID`.
pub fn pid_of(task_id: &str) -> u32 {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == task_id.as_bytes())
            && let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok())
        {
            return pid;
        }
    }
    panic!("no process for task {task_id}");
}
