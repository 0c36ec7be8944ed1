//! Graceful drain. On SIGTERM/SIGINT the replica turns /readyz to 503, answers new MCP requests
//! with 503 + Retry-After, lets in-flight calls finish up to the deadline, closes streams, and
//! exits 0 — within the ECS stopTimeout so the task is never SIGKILLed mid-call.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{
    ServerConfig,
    http::{RunningServer, ServeError, start},
};

/// After the drain deadline, how long open connections get to finish before they are dropped.
const CONNECTION_CLOSE_GRACE: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct DrainState {
    draining: AtomicBool,
    /// Cancelled when draining starts; the HTTP layer and the stop sequence wait on it.
    started: CancellationToken,
}

impl DrainState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Starts draining; returns false when it had already started.
    pub fn begin(&self) -> bool {
        let first = !self.draining.swap(true, Ordering::SeqCst);
        self.started.cancel();
        first
    }

    pub async fn started(&self) {
        self.started.cancelled().await
    }
}

impl RunningServer {
    /// Drains and stops: readyz turns 503, new requests get 503, in-flight requests finish up
    /// to the drain deadline, then sessions and streams close and the listener stops.
    pub async fn drain(self) -> Result<(), ServeError> {
        let replica = &self.replica;
        replica.drain.begin();
        replica.metrics.set_draining();
        let deadline = tokio::time::Instant::now() + replica.config.drain_deadline();
        tracing::info!(in_flight = self.requests_in_flight(), "draining");
        while self.requests_in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let abandoned = self.requests_in_flight();
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "drain deadline reached with requests still in flight"
            );
        }
        self.mcp_shutdown.cancel();
        self.http_shutdown.cancel();
        match tokio::time::timeout(CONNECTION_CLOSE_GRACE, self.task).await {
            Ok(Ok(result)) => result?,
            Ok(Err(join)) => tracing::error!(error = %join, "HTTP task failed"),
            Err(_) => tracing::warn!("connections still open after the grace period; closing"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Runs a replica until SIGTERM/SIGINT, then drains. What `mcpfleet-server` and
/// `mcpfleet serve` run.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    let server = start(config).await?;
    shutdown_signal().await;
    server.drain().await
}

/// Resolves on the first SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
