//! Opening a sign-in page: `$BROWSER` when set (a `:`-separated list of commands, each with
//! `%s` standing for the URL or the URL appended, the convention xdg-open and Python's
//! webbrowser follow), else the platform's opener, else nothing and the caller shows the URL.

use std::process::{Command, Stdio};

/// How the page was opened, for the message the person sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// A command was started with the URL (the command's name).
    With(String),
    /// Nothing could open it; the person has to.
    NotOpened,
}

/// Whether a browser can be opened without a person at the terminal choosing to: the rule
/// for commands that run without a terminal or with `--json`.
pub fn configured() -> bool {
    std::env::var("BROWSER").is_ok_and(|value| !value.trim().is_empty())
}

pub fn open(url: &str) -> Opened {
    if let Ok(value) = std::env::var("BROWSER") {
        for candidate in value.split(':').filter(|c| !c.trim().is_empty()) {
            if let Some(name) = spawn(&command_line(candidate, url)) {
                return Opened::With(name);
            }
        }
    }
    let platform: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open"]
    };
    for opener in platform {
        if let Some(name) = spawn(&[opener.to_string(), url.to_string()]) {
            return Opened::With(name);
        }
    }
    Opened::NotOpened
}

/// One `$BROWSER` entry as argv: `%s` replaced by the URL, or the URL appended; `%%` is `%`.
fn command_line(candidate: &str, url: &str) -> Vec<String> {
    let mut words: Vec<String> = candidate.split_whitespace().map(str::to_string).collect();
    let mut placed = false;
    for word in &mut words {
        if word.contains("%s") {
            *word = word.replace("%s", url);
            placed = true;
        }
        *word = word.replace("%%", "%");
    }
    if !placed {
        words.push(url.to_string());
    }
    words
}

/// An opener that fails does so at once (not installed, no display); one still running
/// after this has taken the page.
const FAILS_WITHIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts the opener detached from the console's terminal; `None` when it could not start or
/// failed straight away, so the next candidate is tried.
fn spawn(argv: &[String]) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = std::time::Instant::now();
    while started.elapsed() < FAILS_WITHIN {
        match child.try_wait() {
            Ok(Some(status)) => return status.success().then(|| program.clone()),
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    // Reaped in the background so no zombie is left behind.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Some(program.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opener_that_fails_at_once_did_not_open_anything() {
        assert_eq!(spawn(&["false".into()]), None);
        assert_eq!(spawn(&["true".into()]), Some("true".into()));
        assert_eq!(spawn(&["/nonexistent/browser".into()]), None);
    }

    #[test]
    fn browser_entries_take_the_url_where_they_say() {
        let url = "http://127.0.0.1:1/authorize?a=b";
        assert_eq!(command_line("firefox", url), ["firefox", url]);
        assert_eq!(
            command_line("chrome --new-window %s", url),
            ["chrome", "--new-window", url]
        );
        assert_eq!(command_line("echo 100%% %s", url), ["echo", "100%", url]);
    }
}
