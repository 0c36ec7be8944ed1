//! Load per task from the server's own `/metrics`, when the task can be reached from where the
//! console runs. A task that cannot be reached is marked so — quickly, with a short connect
//! timeout — instead of leaving the console waiting.

use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, stream};
use reqwest::{Client, StatusCode};

use crate::{fleet::TaskMetrics, sources::metrics_text};

const CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
const TIMEOUT: Duration = Duration::from_secs(3);
/// Scrapes in flight at once, so a thousand tasks take a few round trips, not a thousand.
const PARALLEL: usize = 64;
/// The longest a round of scrapes may take.
const DEADLINE: Duration = Duration::from_secs(3);

pub const UNREACHABLE: &str = "unreachable from here";

pub fn client() -> Client {
    Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .build()
        .expect("scrape client configuration is valid")
}

/// `host:port` of a URL, for display.
pub fn address_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| url.to_string())
}

/// What one scrape found out about a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    Metrics(TaskMetrics),
    /// Answered, but without our metrics (another MCP server, or no /metrics).
    NoMetrics,
    Unreachable,
}

/// Scrapes `http://address/metrics` of each (task id, address). What has not answered by
/// `DEADLINE` counts as unreachable: the console shows the fleet rather than wait on it.
pub async fn scrape_all(client: &Client, targets: Vec<(String, String)>) -> Vec<(String, Reach)> {
    let ids: Vec<String> = targets.iter().map(|(id, _)| id.clone()).collect();
    let mut scrapes = stream::iter(targets)
        .map(|(task, address)| async move {
            let reach = scrape(client, &address).await;
            (task, reach)
        })
        .buffer_unordered(PARALLEL);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut found = Vec::with_capacity(ids.len());
    while let Ok(Some(result)) = tokio::time::timeout_at(deadline, scrapes.next()).await {
        found.push(result);
    }
    let done: std::collections::HashSet<String> = found.iter().map(|(id, _)| id.clone()).collect();
    for id in ids.into_iter().filter(|id| !done.contains(id)) {
        found.push((id, Reach::Unreachable));
    }
    found
}

async fn scrape(client: &Client, address: &str) -> Reach {
    let response = match client.get(format!("http://{address}/metrics")).send().await {
        Ok(response) => response,
        Err(error) if error.is_connect() || error.is_timeout() => return Reach::Unreachable,
        Err(_) => return Reach::NoMetrics,
    };
    if response.status() == StatusCode::NOT_FOUND || !response.status().is_success() {
        return Reach::NoMetrics;
    }
    match response
        .text()
        .await
        .ok()
        .as_deref()
        .and_then(metrics_text::parse)
    {
        Some(scraped) => Reach::Metrics(TaskMetrics {
            in_flight: scraped.in_flight,
            calls: scraped.calls,
            errors: scraped.errors,
            fetched_at: Some(SystemTime::now()),
            buckets: scraped.buckets,
            ..TaskMetrics::default()
        }),
        None => Reach::NoMetrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn silent_and_refusing_tasks_are_unreachable_within_the_deadline() {
        // Accepts connections and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_address = silent.local_addr().unwrap().to_string();
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        // Bound, then closed: connections are refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_address = closed.local_addr().unwrap().to_string();
        drop(closed);
        let started = std::time::Instant::now();
        let mut found = scrape_all(
            &client(),
            vec![
                ("silent".into(), silent_address),
                ("closed".into(), closed_address),
            ],
        )
        .await;
        found.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            found,
            [
                ("closed".to_string(), Reach::Unreachable),
                ("silent".to_string(), Reach::Unreachable)
            ]
        );
        // Bounded by the deadline, not by the silent server.
        assert!(started.elapsed() < DEADLINE + Duration::from_secs(5));
        keep.abort();
    }
}
