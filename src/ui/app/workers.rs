//! What a console talks to (`Workers`), and a console with nothing behind it.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{App, UiEvent};
use crate::{
    fleet::{Commander, FleetSnapshot},
    mcp::{BrowseSink, McpClient, UpdateSink},
    ui::theme::Theme,
};

/// The workers a console talks to: the source's commander, the MCP worker and the channels
/// their answers come back on.
pub struct Workers {
    pub commander: Commander,
    pub mcp: McpClient,
    pub call_updates: UpdateSink,
    pub browse_updates: BrowseSink,
    pub events: mpsc::UnboundedSender<UiEvent>,
    /// The source's snapshots, which a load run follows as tasks come and go (through the
    /// port forwards, as the MCP worker sees them).
    pub snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    /// Where the app publishes its port forwards, by which the MCP worker routes.
    pub forwarded: watch::Sender<Arc<crate::reach::route::Forwarded>>,
}

/// A console over a fixed snapshot with no source or MCP worker behind it, for benchmarks and
/// tests that drive `apply` and `render` directly: fleet commands answer that the source has
/// stopped, and calls go nowhere.
impl App {
    pub fn for_snapshot(snapshot: Arc<FleetSnapshot>, log_capacity: usize, theme: Theme) -> Self {
        let (commands, _) = mpsc::channel(1);
        let (_, logs) = crate::fleet::log_channel(1);
        let (_, snapshots) = watch::channel(snapshot.clone());
        let source = crate::fleet::SourceHandle::new(
            snapshots.clone(),
            logs,
            commands,
            CancellationToken::new(),
        );
        let workers = Workers {
            commander: source.commander(),
            mcp: McpClient::detached(),
            call_updates: mpsc::unbounded_channel().0,
            browse_updates: mpsc::unbounded_channel().0,
            events: mpsc::unbounded_channel().0,
            snapshots,
            forwarded: watch::channel(Arc::default()).0,
        };
        Self::new(snapshot, log_capacity, workers, false, theme)
    }
}
