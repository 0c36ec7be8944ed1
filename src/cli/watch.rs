//! `mcpfleet` without a subcommand, until the terminal UI lands: the fleet's tables, redrawn
//! whenever the snapshot changes, until Ctrl-C.

use std::{
    io::Write,
    time::{Duration, SystemTime},
};

use super::{CliError, GlobalArgs, ls, source};

pub async fn run(global: &GlobalArgs) -> Result<(), CliError> {
    let opened = source::open(global)?;
    let interrupted = super::signals::interrupted();
    tokio::pin!(interrupted);
    let mut redraw = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            _ = redraw.tick() => {
                let snapshot = opened.handle.snapshot();
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "\x1b[H\x1b[2J{}", ls::render(&snapshot, SystemTime::now()));
                let _ = writeln!(out, "\n{} · Ctrl-C to stop", snapshot.context);
                let _ = out.flush();
            }
        }
    }
    Ok(())
}
