//! The terminal UI: one `tokio::select!` loop over terminal events, snapshot changes, log
//! lines, what the MCP worker publishes (probes, history, call updates), a tick and the stop
//! signals. It redraws only when something changed, and never awaits the network itself.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod command_line;
pub mod keys;
pub mod log_buffer;
pub mod prompt;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use crate::{
    config::SourceChoice,
    fleet::SourceHandle,
    mcp::{self, CallId, CallUpdate, History, Probes, WorkerConfig},
};

use self::{
    app::{App, UiEvent, Workers},
    terminal::TerminalGuard,
    theme::Theme,
};

pub struct UiOptions {
    pub read_only: bool,
    pub log_capacity: usize,
    pub log_file: Option<std::path::PathBuf>,
    /// The config file's `[oauth]`: who the console is when it signs in.
    pub oauth: crate::config::OAuthSection,
    /// The MCP lifecycle the console speaks (`--protocol-era`).
    pub era: mcp::Era,
    /// The roots the console shares with servers (the config file's `[roots]`).
    pub roots: Vec<mcp::ClientRoot>,
    /// Where the MCP worker keeps the calls across restarts (and `:ctx`); `None` keeps them in
    /// memory only.
    pub history_file: Option<std::path::PathBuf>,
    /// Where the reproducer's incident files go.
    pub incidents_dir: Option<std::path::PathBuf>,
    /// The config file's `[streams]`: the idle timeout in front of each service's replicas.
    pub idle_timeouts: crate::config::StreamsSection,
    /// How the `aws` CLI finds what the AWS source sees (ECS Exec, port forwards).
    pub aws_cli: crate::reach::AwsCli,
    /// The service whose tasks the console opens on (`--service`).
    pub open_service: Option<String>,
}

/// How often the header's "refreshed N s ago" and message expiry are brought up to date.
const CLOCK: Duration = Duration::from_secs(1);
/// How often the in-flight trends take a point.
const TREND_EVERY: Duration = Duration::from_secs(2);
/// While something animates (a progress bar), redraw this often.
const ANIMATION: Duration = Duration::from_millis(100);
/// Log lines taken from the channel per loop turn, so a flood cannot starve the keyboard.
const LOG_BATCH: usize = 2048;

/// Opens a source for `:ctx`; an error is shown as a message line and the console keeps the
/// source it has.
pub type OpenSource<'a> = &'a dyn Fn(SourceChoice) -> Result<SourceHandle, String>;

/// A source with everything the console wires to it: the MCP worker over its snapshots, the
/// app state, and the channels their news comes back on. `:ctx` replaces it whole.
struct Wired {
    handle: SourceHandle,
    app: App,
    events: mpsc::UnboundedReceiver<UiEvent>,
    call_updates: mpsc::UnboundedReceiver<(CallId, CallUpdate)>,
    /// Browse answers and resource watch news, for the page that asked.
    browse_updates: mpsc::UnboundedReceiver<(CallId, mcp::BrowseUpdate)>,
    probes: watch::Receiver<Arc<Probes>>,
    history: watch::Receiver<Arc<History>>,
    /// Servers' questions mid-call (elicitation), answered in a dialog.
    asks: mpsc::UnboundedReceiver<mcp::Ask>,
}

fn wire(handle: SourceHandle, options: &UiOptions) -> Wired {
    let (events_tx, events) = mpsc::unbounded_channel();
    let (call_updates_tx, call_updates) = mpsc::unbounded_channel();
    let (browse_updates_tx, browse_updates) = mpsc::unbounded_channel();
    let (asks_tx, asks) = mpsc::unbounded_channel();
    let mut config = WorkerConfig::console();
    config.pool.era = options.era;
    config.pool.asks = Some(asks_tx);
    config.pool.roots = options.roots.clone();
    config.history_file = options.history_file.clone();
    // The worker (and a load run) reach a task with a port forward up through the forward.
    let (forwarded, forwards) = watch::channel(Arc::default());
    let routed = crate::reach::route::follow(handle.snapshots.clone(), forwards);
    let mcp = mcp::worker::spawn(routed.clone(), config);
    let (probes, history) = (mcp.probes.clone(), mcp.history.clone());
    let workers = Workers {
        commander: handle.commander(),
        mcp,
        call_updates: call_updates_tx,
        browse_updates: browse_updates_tx,
        events: events_tx,
        snapshots: routed,
        forwarded,
    };
    let mut app = App::new(
        handle.snapshot(),
        options.log_capacity,
        workers,
        options.read_only,
        Theme::from_env(),
    );
    app.set_oauth(options.oauth.clone());
    app.data.incidents_dir = options.incidents_dir.clone();
    app.data.idle_timeouts = options.idle_timeouts.clone();
    app.data.aws_cli = options.aws_cli.clone();
    Wired {
        handle,
        app,
        events,
        call_updates,
        browse_updates,
        probes,
        history,
        asks,
    }
}

/// Runs the console over `handle` until the person quits; `open` serves `:ctx`.
pub async fn run(
    handle: SourceHandle,
    options: UiOptions,
    open: OpenSource<'_>,
) -> std::io::Result<()> {
    let mut guard = TerminalGuard::enter(options.log_file.clone())?;
    let mut w = wire(handle, &options);
    if let Some(service) = &options.open_service {
        w.app.open_service(service);
        w.app.point_source();
    }
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval(CLOCK);
    // The app takes the first point when it is made; the next comes one period later.
    let mut trend =
        tokio::time::interval_at(tokio::time::Instant::now() + TREND_EVERY, TREND_EVERY);
    let mut animation = tokio::time::interval(ANIMATION);
    let stop = crate::signals::interrupted();
    tokio::pin!(stop);
    let injected_panic = injected_panic();
    tokio::pin!(injected_panic);
    let mut dirty = true;
    let mut shown_age = String::new();
    loop {
        if dirty {
            guard
                .terminal
                .draw(|frame| w.app.render(frame, SystemTime::now()))?;
            dirty = false;
        }
        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != crossterm::event::KeyEventKind::Release => {
                    w.app.on_key(key);
                    w.app.point_source();
                    dirty = true;
                }
                Some(Ok(Event::Mouse(mouse))) => {
                    w.app.on_mouse(mouse);
                    w.app.point_source();
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => break,
            },
            changed = w.handle.snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                // Sources publish only when their picture changed, so each one is drawn.
                w.app.set_snapshot(w.handle.snapshots.borrow_and_update().clone());
                w.app.point_source();
                dirty = true;
            }
            Some(line) = w.handle.logs.rx.recv() => {
                w.app.push_log(line);
                let mut taken = 1;
                while taken < LOG_BATCH {
                    match w.handle.logs.rx.try_recv() {
                        Ok(line) => w.app.push_log(line),
                        Err(_) => break,
                    }
                    taken += 1;
                }
                w.app.data.logs.set_dropped_upstream(w.handle.logs.dropped());
                dirty = true;
            }
            Some(event) = w.events.recv() => {
                w.app.on_ui_event(event);
                dirty = true;
            }
            Some((id, update)) = w.call_updates.recv() => {
                w.app.on_call_update(id, update);
                dirty = true;
            }
            Some((id, update)) = w.browse_updates.recv() => {
                w.app.on_browse_update(id, update);
                dirty = true;
            }
            Ok(()) = w.probes.changed() => {
                w.app.set_probes(w.probes.borrow_and_update().clone());
                dirty = true;
            }
            Some(ask) = w.asks.recv() => {
                w.app.on_ask(ask);
                dirty = true;
            }
            Ok(()) = w.history.changed() => {
                w.app.set_history(w.history.borrow_and_update().clone());
                dirty = true;
            }
            _ = clock.tick() => {
                let label = views::chrome::refreshed_label(&w.app.data.snapshot, SystemTime::now());
                if w.app.expire_message() || label != shown_age {
                    dirty = true;
                }
                shown_age = label;
            }
            _ = trend.tick() => dirty |= w.app.sample_trends(),
            _ = animation.tick(), if w.app.animating() => dirty = true,
            _ = &mut stop => break,
            _ = &mut injected_panic => {}
        }
        if w.app.quit {
            break;
        }
        if let Some(shell) = w.app.shell.take() {
            // crossterm's reader would take the shell's keystrokes: it goes, and a new one
            // comes when the console has the terminal back.
            drop(input);
            guard.suspend();
            let ended = run_shell(&shell).await;
            guard.resume()?;
            input = EventStream::new();
            w.app.shell_ended(&shell, ended);
            dirty = true;
        }
        if let Some(choice) = w.app.switch_to.take() {
            // The old source runs until the new one has opened; then it stops as it is dropped.
            match open(choice) {
                Ok(handle) => w = wire(handle, &options),
                Err(message) => w.app.show_error(message),
            }
            dirty = true;
        }
    }
    drop(guard);
    Ok(())
}

/// The shell on the plain terminal, under a line that says where it goes and how back.
async fn run_shell(shell: &app::Shell) -> std::io::Result<crate::reach::exec::Ended> {
    let target = &shell.target;
    println!(
        "mcpfleet: ECS Exec into task {} ({}), container {}; exit the shell to return to the \
         console",
        target.task_id, target.service, target.container
    );
    crate::reach::exec::run(&shell.aws, &shell.args).await
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
