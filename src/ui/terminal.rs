//! Owning the terminal: raw mode, the alternate screen and mouse capture on the way in, and a
//! guaranteed way out — a drop guard for every normal and error return, and a panic hook for
//! panics — that restores the terminal and says where the log file is.

use std::{
    io::{Stdout, Write, stdout},
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use crossterm::{
    cursor,
    event::{DisableMouseCapture, EnableMouseCapture},
    execute,
    terminal::{
        Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
        enable_raw_mode,
    },
};
use ratatui::{Terminal, backend::CrosstermBackend};

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

static LOG_FILE: OnceLock<PathBuf> = OnceLock::new();
/// Whether the terminal is ours. Leaving the alternate screen twice is not harmless: terminals
/// (tmux, xterm) restore the saved cursor again, so text printed after a panic — the message,
/// the shell prompt — would overwrite the top of the screen.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Undoes everything `TerminalGuard::enter` did; only the first call after it does anything.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = stdout().flush();
}

pub struct TerminalGuard {
    pub terminal: Tui,
}

impl TerminalGuard {
    pub fn enter(log_file: Option<PathBuf>) -> std::io::Result<Self> {
        if let Some(path) = log_file {
            let _ = LOG_FILE.set(path);
        }
        install_panic_hook();
        ENTERED.store(true, Ordering::SeqCst);
        enable_raw_mode().inspect_err(|_| restore())?;
        let entered = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture);
        if let Err(error) = entered {
            restore();
            return Err(error);
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout())).inspect_err(|_| restore())?;
        Ok(Self { terminal })
    }
}

impl TerminalGuard {
    /// Gives the terminal to another program (a shell in a task): the normal screen, cooked
    /// mode, no mouse capture, the cursor shown.
    pub fn suspend(&mut self) {
        restore();
    }

    /// Takes the terminal back after `suspend` on a blank alternate screen, and has the next
    /// draw paint every cell: ratatui's last frame is forgotten (`Terminal::clear` would ask
    /// the terminal for the cursor position, which the input reader is not there to read).
    pub fn resume(&mut self) -> std::io::Result<()> {
        ENTERED.store(true, Ordering::SeqCst);
        enable_raw_mode()?;
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            Clear(ClearType::All)
        )?;
        // Blanks the previous frame, so the next one is drawn whole.
        self.terminal.swap_buffers();
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
            if let Some(path) = LOG_FILE.get() {
                eprintln!(
                    "mcpfleet: the console crashed; its log is at {}",
                    path.display()
                );
            }
        }));
    });
}
