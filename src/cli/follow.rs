//! `mcpfleet read URI --follow`: reads a resource, subscribes to it, and reads it again each
//! time the server says it was updated, until Ctrl-C or `--count` updates. The subscription
//! is the MCP worker's (`resources/subscribe` on a 2025-11-25 session, `subscriptions/listen`
//! on 2026-07-28), and every read goes through the same worker, so on a session the reads and
//! the subscription share one connection.

use tokio::sync::mpsc;

use crate::mcp::{Browse, BrowseUpdate, Browsed, McpClient, McpError};

use super::{
    CliError, GlobalArgs,
    browse::print_contents,
    exit,
    login::{self, Attempt},
    source,
};

pub async fn run(
    global: &GlobalArgs,
    service: &str,
    uri: &str,
    task: Option<&str>,
    json: bool,
    count: Option<u64>,
) -> Result<u8, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let label = if global.url.is_some() { "" } else { service };
    let service = if global.url.is_some() { "url" } else { service };
    let configured = login::configured(&snapshot, service);
    let read = Browse::Read {
        uri: uri.to_string(),
    };
    let (worker, first) = login::with_sign_ins(global, json, label, configured, || {
        let snapshots = opened.handle.snapshots.clone();
        let (snapshot, read) = (snapshot.clone(), read.clone());
        let answerer = super::elicit::answer(super::elicit::Policy::Refuse);
        let config = global.worker_config(&opened.config, answerer.asks);
        async move {
            let worker = crate::mcp::worker::spawn(snapshots, config);
            match worker.browse(service, task, read).await {
                Ok(browsed) => Ok(Attempt::Done((worker, browsed))),
                Err(error @ McpError::AuthRequired { .. }) => Ok(Attempt::NeedsSignIn(error)),
                Err(error) => Err(source::mcp_error(&snapshot, error)),
            }
        }
    })
    .await?;
    show(&first, json)?;
    let (sink, mut news) = mpsc::unbounded_channel();
    let watch = worker.watch(service, task, Some(uri.to_string()), sink);
    let mut updates = 0;
    while count.is_none_or(|count| updates < count) {
        let Some((_, update)) = news.recv().await else {
            break;
        };
        match update {
            BrowseUpdate::Watching { how } => {
                eprintln!("mcpfleet: following {uri} ({how}); Ctrl-C stops")
            }
            BrowseUpdate::Updated { .. } => {
                updates += 1;
                let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
                eprintln!("# updated {at}");
                let read = Browse::Read {
                    uri: uri.to_string(),
                };
                match worker.browse(service, task, read).await {
                    Ok(browsed) => show(&browsed, json)?,
                    Err(error) => return Err(source::mcp_error(&snapshot, error)),
                }
            }
            BrowseUpdate::Ended(why) => {
                return Err(CliError::new(exit::CONNECTION, format!("{uri}: {why}")));
            }
            BrowseUpdate::ListChanged | BrowseUpdate::Answer(_) | BrowseUpdate::Doctor(_) => {}
        }
    }
    stop(&worker, watch).await;
    Ok(exit::OK)
}

/// One read of the resource: as `read` prints it, or one JSON line with --json.
fn show(browsed: &Browsed, json: bool) -> Result<(), CliError> {
    let Browsed::Contents(result) = browsed else {
        return Err(CliError::new(exit::CONNECTION, "unexpected answer"));
    };
    if json {
        println!(
            "{}",
            serde_json::to_string(result).expect("MCP results serialise")
        );
    } else {
        print_contents(result, false);
    }
    Ok(())
}

/// Ends the subscription and gives the worker a moment to tell the server.
async fn stop(worker: &McpClient, watch: crate::mcp::CallId) {
    worker.unwatch(watch);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}
