//! Graceful drain. On SIGTERM/SIGINT the replica turns /readyz to 503, answers new MCP requests
//! with 503 + Retry-After, lets in-flight calls finish up to the deadline, closes streams, and
//! exits 0 — within the ECS stopTimeout so the task is never SIGKILLed mid-call.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

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
