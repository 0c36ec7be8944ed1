//! Stream health: a replica's SSE streams as its connection saw them (open, opened, re-opened,
//! the silences between their bytes), and the judgement every front end shares — a stream
//! silent for longer than the idle timeout of whatever sits in front of the replicas (a load
//! balancer, the Service Connect proxy) gets cut there, so a keep-alive longer than that
//! timeout is a warning that says what to change.

use std::time::{Duration, SystemTime};

/// Service Connect's idle timeout for HTTP, which a fleet behind it has unless configured
/// otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// One connection's (so one replica's) SSE streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHealth {
    /// Streams open now.
    pub open: usize,
    /// Streams opened since the connection was made, re-opened ones included.
    pub opened: u64,
    /// GET streams opened again after one ended, with `Last-Event-ID` or without.
    pub reconnects: u64,
    /// The longest silence seen between two bytes of a stream (or before its end): with a
    /// stream open long enough, the server's keep-alive interval.
    pub longest_gap: Option<Duration>,
    /// The most recent such silence.
    pub last_gap: Option<Duration>,
    /// When the open stream that has been silent the longest last received a byte.
    pub quiet_since: Option<SystemTime>,
}

/// Why a replica's streams will not survive what sits in front of it, and what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamWarning {
    /// The silence that outlasted the timeout.
    pub silence: Duration,
    /// Whether that silence is still going on (a stream open and quiet now).
    pub ongoing: bool,
    pub idle_timeout: Duration,
}

impl StreamHealth {
    /// How long the quietest open stream has gone without a byte, as of `now`.
    pub fn silent_for(&self, now: SystemTime) -> Option<Duration> {
        self.quiet_since
            .map(|since| now.duration_since(since).unwrap_or_default())
    }

    /// A warning when a stream went (or is going) longer without a byte than `idle_timeout`.
    pub fn judge(&self, idle_timeout: Duration, now: SystemTime) -> Option<StreamWarning> {
        let silent = self.silent_for(now).filter(|silent| *silent > idle_timeout);
        let gap = self.longest_gap.filter(|gap| *gap > idle_timeout);
        let (silence, ongoing) = match (silent, gap) {
            (Some(silent), Some(gap)) if gap > silent => (gap, false),
            (Some(silent), _) => (silent, true),
            (None, Some(gap)) => (gap, false),
            (None, None) => return None,
        };
        Some(StreamWarning {
            silence,
            ongoing,
            idle_timeout,
        })
    }
}

impl StreamHealth {
    /// The figures in a line: `1 open · 4 opened · 0 reconnects · keep-alive 5.0 s · silent
    /// 2.0 s`.
    pub fn summary(&self, now: SystemTime) -> String {
        let mut parts = vec![
            format!("{} open", self.open),
            format!("{} opened", self.opened),
            format!("{} reconnects", self.reconnects),
        ];
        if let Some(gap) = self.longest_gap {
            parts.push(format!("keep-alive {}", seconds(gap)));
        }
        if let Some(silent) = self.silent_for(now) {
            parts.push(format!("silent {}", seconds(silent)));
        }
        parts.join(" · ")
    }
}

impl StreamWarning {
    /// The warning where room is short: `stream silent 5.0 s > 2 s idle timeout`.
    pub fn short(&self) -> String {
        format!(
            "stream silent {} > {} idle timeout",
            seconds(self.silence),
            seconds(self.idle_timeout)
        )
    }

    /// The warning in a sentence that fits two lines of a screen.
    pub fn advice(&self) -> String {
        let timeout = seconds(self.idle_timeout);
        format!(
            "{}: set the server's --sse-keep-alive below {timeout}, or raise the idle timeout \
             in front",
            self.short()
        )
    }
}

impl std::fmt::Display for StreamWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (silence, timeout) = (seconds(self.silence), seconds(self.idle_timeout));
        let what = if self.ongoing {
            "a stream has been silent for"
        } else {
            "a stream went silent for"
        };
        write!(
            f,
            "{what} {silence}, longer than the {timeout} idle timeout in front of it, which \
             cuts such a stream: set the server's SSE keep-alive below {timeout} \
             (mcpfleet-server --sse-keep-alive), or raise the idle timeout of the load \
             balancer or Service Connect (and `idle_timeout_secs` in [streams])"
        )
    }
}

/// `5 s`, `1.5 s`, `300 s`: a duration as people read a timeout.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if duration.subsec_millis() == 0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_keep_alive_longer_than_the_idle_timeout_is_a_warning_saying_what_to_change() {
        let now = SystemTime::now();
        let health = StreamHealth {
            open: 1,
            opened: 1,
            longest_gap: Some(secs(5)),
            last_gap: Some(secs(5)),
            quiet_since: Some(now - secs(1)),
            ..StreamHealth::default()
        };
        assert_eq!(health.judge(secs(60), now), None);
        let warning = health.judge(secs(2), now).expect("5 s > 2 s");
        assert_eq!((warning.silence, warning.ongoing), (secs(5), false));
        let text = warning.to_string();
        assert!(
            text.contains("5 s") && text.contains("2 s idle timeout"),
            "{text}"
        );
        assert!(text.contains("--sse-keep-alive") && text.contains("idle_timeout_secs"));
    }

    #[test]
    fn a_stream_silent_for_longer_than_the_timeout_is_a_warning_before_any_keep_alive() {
        let now = SystemTime::now();
        let health = StreamHealth {
            open: 1,
            opened: 1,
            longest_gap: Some(Duration::from_millis(10)),
            quiet_since: Some(now - secs(90)),
            ..StreamHealth::default()
        };
        let warning = health.judge(secs(60), now).expect("silent 90 s");
        assert!(warning.ongoing);
        assert!(warning.to_string().contains("has been silent for 90 s"));
        assert_eq!(health.judge(secs(120), now), None);
        assert_eq!(StreamHealth::default().judge(secs(1), now), None);
    }

    #[test]
    fn the_figures_and_the_warning_in_a_line() {
        let now = SystemTime::now();
        let health = StreamHealth {
            open: 1,
            opened: 4,
            reconnects: 1,
            longest_gap: Some(secs(5)),
            last_gap: Some(secs(5)),
            quiet_since: Some(now - secs(2)),
        };
        assert_eq!(
            health.summary(now),
            "1 open · 4 opened · 1 reconnects · keep-alive 5 s · silent 2 s"
        );
        let warning = health.judge(secs(2), now).unwrap();
        assert_eq!(warning.short(), "stream silent 5 s > 2 s idle timeout");
        assert!(warning.advice().contains("--sse-keep-alive below 2 s"));
    }

    #[test]
    fn seconds_read_as_people_write_timeouts() {
        assert_eq!(seconds(secs(300)), "300 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
