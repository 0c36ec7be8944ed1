//! The signals that end the console: Ctrl-C (SIGINT), SIGTERM and SIGHUP (terminal closed).
//! Each ends it cleanly, so the source is dropped and the local fleet's children stop with it.

/// Resolves on the first SIGINT, SIGTERM or SIGHUP.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut hangup = signal(SignalKind::hangup()).expect("SIGHUP handler installs");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        _ = hangup.recv() => {}
    }
}

/// Exit code after a signal ended a command: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;
