//! `mcpfleet ls`: services and their tasks, as aligned tables or as the snapshot in JSON.

use std::time::SystemTime;

use crate::fleet::{FleetSnapshot, Service, Task};

use super::table;

pub const SERVICE_COLUMNS: &[&str] = &[
    "SERVICE",
    "DESIRED",
    "RUNNING",
    "PENDING",
    "READY",
    "ROLLOUT",
    "IN-FLIGHT",
    "CALLS",
    "ERRORS",
];
pub const TASK_COLUMNS: &[&str] = &[
    "TASK",
    "SERVICE",
    "REV",
    "STATUS",
    "HEALTH",
    "ENDPOINT",
    "IN-FLIGHT",
    "AGE",
    "STOPPED REASON",
];

fn upper<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn age(since: Option<SystemTime>, now: SystemTime) -> String {
    let Some(since) = since else {
        return "-".into();
    };
    let secs = now.duration_since(since).unwrap_or_default().as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

pub fn service_row(service: &Service) -> Vec<String> {
    let live = service.tasks.iter().filter(|t| t.stopped_at.is_none());
    let (in_flight, calls, errors) = live.fold((0, 0, 0), |acc, task| match &task.metrics {
        Some(m) => (acc.0 + m.in_flight, acc.1 + m.calls, acc.2 + m.errors),
        None => acc,
    });
    vec![
        service.name.clone(),
        service.desired.to_string(),
        service.running.to_string(),
        service.pending.to_string(),
        format!("{}/{}", service.ready_tasks().count(), service.desired),
        service
            .primary()
            .map(|d| upper(&d.rollout_state))
            .unwrap_or_else(|| "-".into()),
        in_flight.to_string(),
        calls.to_string(),
        errors.to_string(),
    ]
}

pub fn task_row(service: &Service, task: &Task, now: SystemTime) -> Vec<String> {
    let health = match (task.draining, task.health) {
        (true, _) => "DRAINING".to_string(),
        (false, health) => upper(&health),
    };
    vec![
        task.short_id().to_string(),
        service.name.clone(),
        task.revision.to_string(),
        upper(&task.last_status),
        health,
        task.endpoint
            .as_ref()
            .map(|e| e.url.clone())
            .unwrap_or_else(|| "-".into()),
        task.metrics
            .as_ref()
            .map(|m| m.in_flight.to_string())
            .unwrap_or_else(|| "-".into()),
        age(task.started_at, now),
        task.stopped_reason.clone().unwrap_or_default(),
    ]
}

pub fn render(snapshot: &FleetSnapshot, now: SystemTime) -> String {
    let services: Vec<Vec<String>> = snapshot.services.iter().map(service_row).collect();
    let tasks: Vec<Vec<String>> = snapshot
        .services
        .iter()
        .flat_map(|s| s.tasks.iter().map(move |t| (s, t)))
        .map(|(s, t)| task_row(s, t, now))
        .collect();
    let mut out = table::render(SERVICE_COLUMNS, &services);
    out.push('\n');
    out.push_str(&table::render(TASK_COLUMNS, &tasks));
    let notes: Vec<String> = snapshot
        .services
        .iter()
        .flat_map(|service| {
            let own = service
                .notes
                .iter()
                .map(|note| format!("{}: {note}", service.name));
            let tasks = service.tasks.iter().flat_map(move |task| {
                let who = format!("{}/{}", service.name, task.short_id());
                task.notes.iter().map(move |note| format!("{who}: {note}"))
            });
            own.chain(tasks)
        })
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for note in notes {
            out.push_str(&format!("note {note}\n"));
        }
    }
    if let Some(stale) = &snapshot.stale {
        out.push_str(&format!("\nstale: {stale}\n"));
    }
    out
}

pub async fn run(global: &super::GlobalArgs, json: bool) -> Result<(), super::CliError> {
    let mut opened = super::source::open_for_command(global).await?;
    let snapshot = super::source::settle(&mut opened.handle).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&*snapshot).expect("snapshots serialise")
        );
    } else {
        print!("{}", render(&snapshot, SystemTime::now()));
    }
    Ok(())
}
