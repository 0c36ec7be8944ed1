//! What `repro`, `bench` and `check` start from: the command's fleet, settled; a worker whose
//! server questions are declined; and the probe of the service (or of one task of it), whose
//! tool list says what may be called.

use std::sync::Arc;

use crate::{
    fleet::FleetSnapshot,
    mcp::{self, McpClient, McpError, Probe, ToolInfo},
};

use super::{CliError, GlobalArgs, elicit, exit, source};

pub struct Probed {
    pub opened: source::Opened,
    pub snapshot: Arc<FleetSnapshot>,
    /// The service as the worker knows it: `url` with `--url`.
    pub service: String,
    pub worker: McpClient,
    pub probe: Probe,
    /// Declines the server's questions for as long as the command runs.
    _answerer: elicit::Answerer,
}

pub async fn probed(
    global: &GlobalArgs,
    service: &str,
    task: Option<&str>,
) -> Result<Probed, CliError> {
    let mut opened = source::open_for_command(global).await?;
    let snapshot = source::settle(&mut opened.handle).await?;
    let service = if global.url.is_some() {
        "url".to_string()
    } else {
        service.to_string()
    };
    let answerer = elicit::answer(elicit::Policy::Refuse);
    let config = global.worker_config(&opened.config, answerer.asks.clone());
    let worker = mcp::worker::spawn(opened.handle.snapshots.clone(), config);
    let probe = worker
        .probe(&service, task)
        .await
        .map_err(|error| source::mcp_error(&snapshot, error))?;
    Ok(Probed {
        opened,
        snapshot,
        service,
        worker,
        probe,
        _answerer: answerer,
    })
}

impl Probed {
    /// The tool `name` as the probe listed it; a missing one is NOT_FOUND with the tools there
    /// are.
    pub fn tool(&self, name: &str) -> Result<&ToolInfo, CliError> {
        let tools = &self.probe.tools;
        tools.iter().find(|t| t.name == name).ok_or_else(|| {
            let error = McpError::UnknownTool {
                tool: name.to_string(),
                available: tools.iter().map(|t| t.name.clone()).collect(),
            };
            CliError::new(exit::NOT_FOUND, error.to_string())
        })
    }
}
