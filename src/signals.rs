//! The signals that end the console: Ctrl-C (SIGINT), SIGTERM and SIGHUP (terminal closed).
//! Each ends it cleanly, so the source is dropped and the local fleet's children stop with it.

/// Resolves on the first SIGINT, SIGTERM or SIGHUP. The handlers are installed by this call,
/// not on the future's first poll: a loop that is busy from its first turn may not poll it for
/// a while, and a signal in that window would take the default action — death, with the
/// terminal left raw and no drain.
pub fn interrupted() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut hangup = signal(SignalKind::hangup()).expect("SIGHUP handler installs");
    async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    }
}
