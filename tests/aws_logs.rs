//! Logs from CloudWatch Logs in moto: a thousand numbered lines written in batches over five
//! seconds (several per millisecond, batches meeting on the same millisecond) reach the
//! console exactly once each, in order, named after their task.

mod aws_console;
mod aws_support;

use std::{collections::BTreeMap, time::Duration};

use aws_console::{runtime, settings, start, use_fake_aws_env, wait_for};
use aws_support::Emulator;
use serde_json::json;

const LINES: u32 = 1000;

#[test]
fn a_thousand_lines_arrive_once_each_without_gaps() {
    use_fake_aws_env();
    runtime().block_on(async {
        let emulator = Emulator::start().await;
        let created = emulator
            .fleet(&json!({"cluster": "mcp", "services": [
                {"name": "echo-mcp", "replicas": 2, "real": true, "mcp": "tag"},
            ]}))
            .await;
        let task = created["services"][0]["tasks"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut handle = start(settings(&emulator.proxy_url, "mcp"));
        wait_for(&mut handle, Duration::from_secs(60), "the task", |s| {
            s.service("echo-mcp")
                .is_some_and(|svc| svc.task(&task).is_some())
        })
        .await;
        let writer = {
            let (control, task) = (emulator.control_url.clone(), task.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{control}/emit-logs"))
                    .json(
                        &json!({"cluster": "mcp", "service": "echo-mcp", "task_id": task,
                                  "count": LINES, "over_ms": 5000}),
                    )
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .expect("emit-logs")
            })
        };
        let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
        let mut order = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while seen.len() < LINES as usize {
            let line = tokio::time::timeout_at(deadline, handle.logs.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    let missing: Vec<u32> = (1..=LINES)
                        .filter(|n| !seen.contains_key(n))
                        .take(20)
                        .collect();
                    panic!(
                        "{} of {LINES} lines after 60 s; first missing: {missing:?}",
                        seen.len()
                    )
                })
                .expect("the log channel stays open");
            let Some(number) = line
                .message
                .strip_prefix("line ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            assert_eq!(line.task_id, task, "line {number} named the wrong task");
            assert_eq!(line.service, "echo-mcp");
            assert_eq!(line.stream, format!("mcp/mcp/{task}"));
            *seen.entry(number).or_default() += 1;
            order.push(number);
        }
        writer.await.unwrap();
        // Two more refresh cycles: a line delivered twice would show up now.
        let settle = tokio::time::Instant::now() + Duration::from_secs(3);
        while let Ok(Some(line)) = tokio::time::timeout_at(settle, handle.logs.rx.recv()).await {
            if let Some(rest) = line.message.strip_prefix("line ")
                && let Some(number) = rest.split(' ').next().and_then(|n| n.parse::<u32>().ok())
            {
                *seen.entry(number).or_default() += 1;
            }
        }
        let repeated: Vec<(&u32, &u32)> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            repeated.is_empty(),
            "lines delivered more than once: {repeated:?}"
        );
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (1..=LINES).collect::<Vec<_>>()
        );
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "lines arrived out of order");
        assert_eq!(handle.logs.dropped(), 0);
    });
}
