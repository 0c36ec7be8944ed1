//! The SSE streams of one connection, watched byte by byte: how many are open, how many were
//! opened and re-opened, and the silences between their bytes. A keep-alive is an SSE comment,
//! which the event parser drops, so the bytes are counted beneath it (the wire client's
//! `Bounded` body) — the only place a keep-alive can be seen at all.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use crate::mcp::streams::StreamHealth;

/// What kind of request a stream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// A POST's answer streamed as events.
    Post,
    /// A GET: the session's standalone stream, or a resumption (`resumed`: with
    /// `Last-Event-ID`) of a stream that ended.
    Get { resumed: bool },
}

#[derive(Default)]
pub(crate) struct StreamBook {
    ledger: Mutex<Ledger>,
}

#[derive(Default)]
struct Ledger {
    next: u64,
    /// Each open stream's last byte (its opening, before the first).
    open: HashMap<u64, Instant>,
    opened: u64,
    reconnects: u64,
    /// A GET stream of this connection has ended, so the next GET re-opens one.
    get_ended: bool,
    /// The open GET streams.
    gets: HashSet<u64>,
    longest_gap: Option<Duration>,
    last_gap: Option<Duration>,
}

impl Ledger {
    fn gap(&mut self, id: u64, now: Instant) {
        let Some(last) = self.open.get_mut(&id) else {
            return;
        };
        let gap = now.saturating_duration_since(*last);
        *last = now;
        self.last_gap = Some(gap);
        self.longest_gap = Some(self.longest_gap.map_or(gap, |longest| longest.max(gap)));
    }
}

impl StreamBook {
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stream's response arrived; returns the handle its bytes and its end are told by.
    pub fn opened(&self, kind: StreamKind, now: Instant) -> u64 {
        let mut ledger = self.ledger();
        ledger.next += 1;
        let id = ledger.next;
        ledger.opened += 1;
        ledger.open.insert(id, now);
        if let StreamKind::Get { resumed } = kind {
            if resumed || ledger.get_ended {
                ledger.reconnects += 1;
            }
            ledger.gets.insert(id);
        }
        id
    }

    /// Bytes arrived on stream `id`: the silence before them is a gap.
    pub fn bytes(&self, id: u64, now: Instant) {
        self.ledger().gap(id, now);
    }

    /// Stream `id` ended (by the server, the network or the client): the silence before its
    /// end is a gap too — the one a load balancer's idle timeout ends. Telling it twice is
    /// harmless.
    pub fn ended(&self, id: u64, now: Instant) {
        let mut ledger = self.ledger();
        ledger.gap(id, now);
        ledger.open.remove(&id);
        if ledger.gets.remove(&id) {
            ledger.get_ended = true;
        }
    }

    /// The figures as of `now` (`wall` is the same moment on the clock).
    pub fn health(&self, now: Instant, wall: SystemTime) -> StreamHealth {
        let ledger = self.ledger();
        let quietest = ledger.open.values().min().copied();
        StreamHealth {
            open: ledger.open.len(),
            opened: ledger.opened,
            reconnects: ledger.reconnects,
            longest_gap: ledger.longest_gap,
            last_gap: ledger.last_gap,
            quiet_since: quietest.map(|last| wall - now.saturating_duration_since(last)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn gaps_are_the_silences_between_bytes_and_before_an_end() {
        let book = StreamBook::default();
        let t0 = Instant::now();
        let stream = book.opened(StreamKind::Get { resumed: false }, t0);
        book.bytes(stream, t0 + secs(1));
        book.bytes(stream, t0 + secs(6));
        book.bytes(stream, t0 + secs(8));
        let wall = SystemTime::now();
        let health = book.health(t0 + secs(11), wall);
        assert_eq!(health.open, 1);
        assert_eq!(health.longest_gap, Some(secs(5)));
        assert_eq!(health.last_gap, Some(secs(2)));
        assert_eq!(health.quiet_since, Some(wall - secs(3)));

        book.ended(stream, t0 + secs(20));
        let health = book.health(t0 + secs(21), wall);
        assert_eq!((health.open, health.opened), (0, 1));
        assert_eq!(
            health.longest_gap,
            Some(secs(12)),
            "the silence before the end"
        );
        assert_eq!(health.quiet_since, None);
        book.ended(stream, t0 + secs(30));
        assert_eq!(book.health(t0 + secs(31), wall).longest_gap, Some(secs(12)));
    }

    #[test]
    fn a_get_reopened_after_one_ended_is_a_reconnect_with_or_without_last_event_id() {
        let book = StreamBook::default();
        let t0 = Instant::now();
        let post = book.opened(StreamKind::Post, t0);
        book.ended(post, t0);
        let first = book.opened(StreamKind::Get { resumed: false }, t0);
        assert_eq!(book.health(t0, SystemTime::now()).reconnects, 0);
        book.ended(first, t0 + secs(1));
        let second = book.opened(StreamKind::Get { resumed: false }, t0 + secs(2));
        book.opened(StreamKind::Get { resumed: true }, t0 + secs(3));
        let health = book.health(t0 + secs(3), SystemTime::now());
        assert_eq!((health.opened, health.reconnects, health.open), (4, 2, 2));
        book.ended(second, t0 + secs(4));
        assert_eq!(book.health(t0 + secs(4), SystemTime::now()).open, 1);
    }

    #[test]
    fn the_quietest_open_stream_says_how_long_the_connection_has_been_silent() {
        let book = StreamBook::default();
        let t0 = Instant::now();
        let chatty = book.opened(StreamKind::Post, t0);
        book.opened(StreamKind::Get { resumed: false }, t0 + secs(1));
        book.bytes(chatty, t0 + secs(9));
        let wall = SystemTime::now();
        assert_eq!(
            book.health(t0 + secs(10), wall).quiet_since,
            Some(wall - secs(9))
        );
    }
}
