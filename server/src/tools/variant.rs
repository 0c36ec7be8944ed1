//! A replica that serves the ops toolbox differently from its siblings, on purpose: some tools
//! hidden (`--hide-tools`) and echo's `message` bounded (`--echo-max-length`). Off by default;
//! it is how an operator or a test starts a replica whose surface drifts from the rest.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Value, json};

use super::ops::OpsServer;
use crate::Replica;

/// Whether this replica is set to serve a toolbox of its own.
pub fn differs(replica: &Replica) -> bool {
    !hidden(&replica.config.hide_tools).is_empty() || replica.config.echo_max_length.is_some()
}

fn hidden(names: &[String]) -> Vec<&str> {
    let names = names.iter().map(|name| name.trim());
    names.filter(|name| !name.is_empty()).collect()
}

/// Refuses a tool to hide that is not there, so a typo does not pass for a variant.
pub fn check(hide_tools: &[String], shared: &ToolRouter<OpsServer>) -> Result<(), String> {
    let mut known: Vec<&str> = shared.map.keys().map(|name| name.as_ref()).collect();
    known.sort_unstable();
    match hidden(hide_tools)
        .into_iter()
        .find(|name| !known.contains(name))
    {
        Some(name) => Err(format!(
            "--hide-tools: no tool {name} (tools: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// The replica's own toolbox, built from the shared one on first use and kept for the replica's
/// life (rmcp makes a handler per session, or per request when stateless).
pub fn tools(replica: &Replica, shared: &ToolRouter<OpsServer>) -> Arc<ToolRouter<OpsServer>> {
    let state = replica
        .profile_state
        .get_or_init(|| Arc::new(Arc::new(build(replica, shared))));
    state
        .downcast_ref::<Arc<ToolRouter<OpsServer>>>()
        .cloned()
        .unwrap_or_else(|| Arc::new(build(replica, shared)))
}

fn build(replica: &Replica, shared: &ToolRouter<OpsServer>) -> ToolRouter<OpsServer> {
    let config = &replica.config;
    let mut router = shared.clone();
    for name in hidden(&config.hide_tools) {
        router.remove_route(name);
    }
    if let Some(max) = config.echo_max_length
        && let Some(echo) = router.map.get_mut("echo")
    {
        let mut schema = (*echo.attr.input_schema).clone();
        let message = schema
            .get_mut("properties")
            .and_then(|properties| properties.get_mut("message"))
            .and_then(Value::as_object_mut);
        if let Some(message) = message {
            message.insert("maxLength".into(), json!(max));
        }
        echo.attr.input_schema = Arc::new(schema);
    }
    router
}
