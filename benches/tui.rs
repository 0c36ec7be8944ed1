//! The console's own costs on a large synthetic fleet (20 services × 50 tasks, 100,000 log
//! lines): frame render time per view on ratatui's `TestBackend` at 160×48, and resident
//! memory in that state. Launch-to-screen time and idle CPU of the real binary come from
//! `benches/tui_idle.sh`; `benches/run_tui.sh` runs both.
//!
//! `cargo bench --bench tui -- [--frames N]` (default 1000, at least 500).
//!
//! Each frame is a full `Terminal::draw` — the app renders every widget into the buffer and
//! the backend gets the diff — with the clock one second later than the frame before, as the
//! console's 1 s clock does; in the logs view one new line arrives per frame, as when
//! following a busy fleet.
//!
//! Exit status: 0 after a complete measurement, whatever the figures; 2 if a view could not
//! be opened.

#[path = "tui/fleet.rs"]
mod fleet;

use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use mcpfleet::ui::{
    action::{Action, Scope, ViewKind},
    app::App,
    theme::Theme,
};
use ratatui::{Terminal, backend::TestBackend};

const SERVICES: usize = 20;
const TASKS_PER_SERVICE: usize = 50;
const LOG_LINES: usize = 100_000;
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const WARMUP_FRAMES: usize = 50;
const MIN_FRAMES: usize = 500;
const FRAME_TARGET: Duration = Duration::from_millis(2);
const RSS_TARGET_MB: f64 = 60.0;

struct Stats {
    view: &'static str,
    frames: usize,
    min: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(view: &'static str, mut times: Vec<Duration>) -> Stats {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Stats {
        view,
        frames: times.len(),
        min: times[0],
        p50: at(0.50),
        p99: at(0.99),
        max: times[times.len() - 1],
    }
}

/// VmRSS of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb / 1024.0
}

fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    buffer.content().iter().map(|cell| cell.symbol()).collect()
}

/// Draws `frames` frames after a warm-up; `between` runs before each one.
fn measure(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    now: &mut SystemTime,
    frames: usize,
    mut between: impl FnMut(&mut App, usize),
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(frames);
    for frame in 0..WARMUP_FRAMES + frames {
        between(app, frame);
        *now += Duration::from_secs(1);
        let at = *now;
        let begun = Instant::now();
        terminal
            .draw(|f| app.render(f, at))
            .expect("TestBackend draws");
        if frame >= WARMUP_FRAMES {
            times.push(begun.elapsed());
        }
    }
    times
}

fn parse_frames() -> Result<usize, String> {
    let mut frames = 1000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--frames" => {
                frames = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n >= MIN_FRAMES)
                    .ok_or(format!("--frames needs a number ≥ {MIN_FRAMES}"))?;
            }
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(frames)
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() -> ExitCode {
    let frames = match parse_frames() {
        Ok(frames) => frames,
        Err(error) => {
            eprintln!("tui bench: {error}");
            return ExitCode::from(2);
        }
    };
    // Views may spawn work on the runtime (none should while drawing); give them one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let _runtime = runtime.enter();

    let rss_start = rss_mb();
    let start = SystemTime::now();
    let mut now = start + Duration::from_secs(3600 * 3);
    let snapshot = Arc::new(fleet::snapshot(SERVICES, TASKS_PER_SERVICE, now));
    let mut app = App::for_snapshot(snapshot.clone(), LOG_LINES, Theme::colored());
    let rss_fleet = rss_mb();
    for n in 0..LOG_LINES {
        app.push_log(fleet::log_line(&snapshot, n, start));
    }
    let rss_state = rss_mb();

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("TestBackend");
    let mut results = Vec::new();

    let times = measure(&mut terminal, &mut app, &mut now, frames, |_, _| {});
    results.push(stats("services", times));

    let service = fleet::service_name(7);
    let views = [
        (
            "tasks (one 50-task service)",
            ViewKind::Tasks,
            Scope::service(service),
        ),
        ("logs (fleet, following)", ViewKind::Logs, Scope::fleet()),
    ];
    let mut next_line = LOG_LINES;
    for (label, kind, scope) in views {
        app.apply(Action::Open(ViewKind::Services, Scope::fleet()));
        app.apply(Action::Open(kind, scope));
        let at = now;
        terminal.draw(|f| app.render(f, at)).expect("draws");
        let screen = screen_text(&terminal);
        if screen.contains("is not available") || screen.contains("no service") {
            eprintln!(
                "tui bench: the {} view did not open in this build",
                kind.name()
            );
            return ExitCode::from(2);
        }
        let follow = kind == ViewKind::Logs;
        let times = measure(&mut terminal, &mut app, &mut now, frames, |app, _| {
            if follow {
                app.push_log(fleet::log_line(&snapshot, next_line, start));
                next_line += 1;
            }
        });
        results.push(stats(label, times));
    }
    let rss_end = rss_mb();

    println!(
        "console frames: {SERVICES} services × {TASKS_PER_SERVICE} tasks = {} tasks, \
         {LOG_LINES} log lines, {WIDTH}×{HEIGHT} TestBackend, {frames} frames per view \
         after {WARMUP_FRAMES} warm-up",
        SERVICES * TASKS_PER_SERVICE
    );
    println!(
        "{:<30} {:>7} {:>9} {:>9} {:>9} {:>9}  target < {} ms",
        "view",
        "frames",
        "min ms",
        "p50 ms",
        "p99 ms",
        "max ms",
        FRAME_TARGET.as_millis()
    );
    for s in &results {
        println!(
            "{:<30} {:>7} {:>9} {:>9} {:>9} {:>9}  {}",
            s.view,
            s.frames,
            ms(s.min),
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            verdict(s.p99 < FRAME_TARGET, "p99")
        );
    }
    println!();
    println!(
        "{:<30} {:>9.1} MB  target < {RSS_TARGET_MB} MB  {}",
        "RSS with that state (VmRSS)",
        rss_state,
        verdict(rss_state < RSS_TARGET_MB, "")
    );
    println!(
        "{:<30} {:>9.1} MB",
        "  process before building it", rss_start
    );
    println!(
        "{:<30} {:>9.1} MB",
        "  the fleet snapshot",
        rss_fleet - rss_start
    );
    println!(
        "{:<30} {:>9.1} MB  ({:.0} bytes per line)",
        "  the log lines",
        rss_state - rss_fleet,
        (rss_state - rss_fleet) * 1024.0 * 1024.0 / LOG_LINES as f64
    );
    println!("{:<30} {:>9.1} MB", "RSS after all frames", rss_end);
    ExitCode::SUCCESS
}

fn verdict(ok: bool, what: &str) -> String {
    let word = if ok { "ok" } else { "MISSED" };
    if what.is_empty() {
        word.to_string()
    } else {
        format!("{word} ({what})")
    }
}
