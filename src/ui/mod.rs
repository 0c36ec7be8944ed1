//! The terminal UI: one `tokio::select!` loop over terminal events, snapshot changes, log
//! lines, what the MCP worker publishes (probes, history, call updates), a tick and the stop
//! signals. It redraws only when something changed, and never awaits the network itself.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod command_line;
pub mod keys;
pub mod log_buffer;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;

use std::time::{Duration, SystemTime};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::{
    fleet::SourceHandle,
    mcp::{self, WorkerConfig},
};

use self::{
    app::{App, Workers},
    terminal::TerminalGuard,
    theme::Theme,
};

pub struct UiOptions {
    pub read_only: bool,
    pub log_capacity: usize,
    pub log_file: Option<std::path::PathBuf>,
}

/// How often the header's "refreshed N s ago" and message expiry are brought up to date.
const CLOCK: Duration = Duration::from_secs(1);
/// How often the in-flight trends take a point.
const TREND_EVERY: Duration = Duration::from_secs(2);
/// While something animates (a progress bar), redraw this often.
const ANIMATION: Duration = Duration::from_millis(100);
/// Log lines taken from the channel per loop turn, so a flood cannot starve the keyboard.
const LOG_BATCH: usize = 2048;

/// Runs the console over `handle` until the person quits; returns the source to switch to,
/// when they asked for another one with `:ctx`.
pub async fn run(mut handle: SourceHandle, options: UiOptions) -> std::io::Result<Option<String>> {
    let mut guard = TerminalGuard::enter(options.log_file.clone())?;
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (call_updates, mut call_updates_rx) = mpsc::unbounded_channel();
    let mcp = mcp::worker::spawn(handle.snapshots.clone(), WorkerConfig::console());
    let (mut probes, mut history) = (mcp.probes.clone(), mcp.history.clone());
    let workers = Workers {
        commander: handle.commander(),
        mcp,
        call_updates,
        events: events_tx,
    };
    let mut app = App::new(
        handle.snapshot(),
        options.log_capacity,
        workers,
        options.read_only,
        Theme::from_env(),
    );
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval(CLOCK);
    let mut trend = tokio::time::interval(TREND_EVERY);
    let mut animation = tokio::time::interval(ANIMATION);
    let stop = crate::cli::signals::interrupted();
    tokio::pin!(stop);
    let injected_panic = injected_panic();
    tokio::pin!(injected_panic);
    let mut dirty = true;
    let mut shown_age = String::new();
    loop {
        if dirty {
            guard
                .terminal
                .draw(|frame| app.render(frame, SystemTime::now()))?;
            dirty = false;
        }
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != crossterm::event::KeyEventKind::Release => {
                    app.on_key(key);
                    dirty = true;
                }
                Some(Ok(Event::Mouse(mouse))) => {
                    app.on_mouse(mouse);
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => break,
            },
            changed = handle.snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                // Sources publish only when their picture changed, so each one is drawn.
                app.set_snapshot(handle.snapshots.borrow_and_update().clone());
                dirty = true;
            }
            Some(line) = handle.logs.rx.recv() => {
                app.push_log(line);
                let mut taken = 1;
                while taken < LOG_BATCH {
                    match handle.logs.rx.try_recv() {
                        Ok(line) => app.push_log(line),
                        Err(_) => break,
                    }
                    taken += 1;
                }
                app.data.logs.set_dropped_upstream(handle.logs.dropped());
                dirty = true;
            }
            Some(event) = events_rx.recv() => {
                app.on_ui_event(event);
                dirty = true;
            }
            Some((id, update)) = call_updates_rx.recv() => {
                app.on_call_update(id, update);
                dirty = true;
            }
            Ok(()) = probes.changed() => {
                app.set_probes(probes.borrow_and_update().clone());
                dirty = true;
            }
            Ok(()) = history.changed() => {
                app.set_history(history.borrow_and_update().clone());
                dirty = true;
            }
            _ = clock.tick() => {
                let label = views::chrome::refreshed_label(&app.data.snapshot, SystemTime::now());
                if app.expire_message() || label != shown_age {
                    dirty = true;
                }
                shown_age = label;
            }
            _ = trend.tick() => dirty |= app.sample_trends(),
            _ = animation.tick(), if app.animating() => dirty = true,
            _ = &mut stop => break,
            _ = &mut injected_panic => {}
        }
        if app.quit {
            break;
        }
    }
    drop(guard);
    Ok(app.switch_to.take())
}

/// Test hook, debug builds only: with `MCPFLEET_PANIC_AFTER_MS=<n>` the loop panics n ms after
/// its first frame (the future is first polled right after it), so tests can check that a
/// crash restores the terminal and names the log file. Unset, it never resolves.
#[cfg(debug_assertions)]
async fn injected_panic() {
    let after = std::env::var("MCPFLEET_PANIC_AFTER_MS").ok();
    match after.and_then(|ms| ms.parse::<u64>().ok()) {
        Some(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            panic!("injected panic: MCPFLEET_PANIC_AFTER_MS={ms}");
        }
        None => std::future::pending().await,
    }
}

/// Release builds carry no such hook: this never resolves.
#[cfg(not(debug_assertions))]
async fn injected_panic() {
    std::future::pending().await
}
