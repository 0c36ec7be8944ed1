//! Which log lines the logs view shows: the scope (service, task), the `/` filter (a
//! case-insensitive regex, or plain text when it is not one) and the level filter, and the
//! index of matching lines that is kept up to date incrementally, so a frame never scans the
//! whole buffer.
//!
//! Lines are named by their sequence number: how many lines were pushed into the buffer before
//! them. The ring drops from the front, so a line keeps its number for life and sits at
//! `seq - evicted` in the buffer; eviction only trims the front of the index.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use regex::{Regex, RegexBuilder};

use super::lines;
use crate::{
    fleet::{Level, LogLine},
    ui::{action::Scope, log_buffer::LogBuffer},
};

/// `v` cycles through these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LevelFilter {
    #[default]
    All,
    Info,
    Warn,
    Error,
}

impl LevelFilter {
    pub fn next(self) -> Self {
        match self {
            Self::All => Self::Info,
            Self::Info => Self::Warn,
            Self::Warn => Self::Error,
            Self::Error => Self::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Info => "info+",
            Self::Warn => "warn+",
            Self::Error => "error",
        }
    }

    /// Lines without a level pass only when every level does.
    pub fn passes(self, level: Option<Level>) -> bool {
        let least = match self {
            Self::All => return true,
            Self::Info => Level::Info,
            Self::Warn => Level::Warn,
            Self::Error => Level::Error,
        };
        level.is_some_and(|level| level >= least)
    }
}

/// The compiled `/` filter. Text that is not a valid regex is matched literally.
#[derive(Debug, Clone, Default)]
pub struct TextFilter {
    text: String,
    regex: Option<Regex>,
    literal: bool,
}

impl TextFilter {
    pub fn new(text: &str) -> Self {
        if text.is_empty() {
            return Self::default();
        }
        let build = |pattern: &str| RegexBuilder::new(pattern).case_insensitive(true).build();
        let (regex, literal) = match build(text) {
            Ok(regex) => (regex, false),
            Err(_) => (
                build(&regex::escape(text)).expect("an escaped pattern compiles"),
                true,
            ),
        };
        Self {
            text: text.to_string(),
            regex: Some(regex),
            literal,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The filter is not a valid regex and is matched as plain text.
    pub fn literal(&self) -> bool {
        self.literal
    }

    fn is_empty(&self) -> bool {
        self.regex.is_none()
    }

    pub fn matches(&self, formatted: &str) -> bool {
        self.regex.as_ref().is_none_or(|re| re.is_match(formatted))
    }
}

pub fn in_scope(scope: &Scope, line: &LogLine) -> bool {
    scope.service.as_ref().is_none_or(|s| &line.service == s)
        && scope
            .task
            .as_ref()
            .is_none_or(|t| line.task_id.starts_with(t.as_str()))
}

/// The line with sequence number `seq`, while it is still in the buffer.
pub fn line_at(logs: &LogBuffer, seq: u64) -> Option<&LogLine> {
    let index = seq.checked_sub(logs.evicted())?;
    logs.lines().get(usize::try_from(index).ok()?)
}

/// Time one refresh may spend on older lines (after opening, or a change of filter): about a
/// frame at 60 Hz, so typing a filter never lags; the rest waits for the next frame.
pub const BACKFILL_TIME: Duration = Duration::from_millis(16);
/// The clock is read once per this many lines.
const CLOCK_EVERY: usize = 256;

type MatchKey = (Scope, String, LevelFilter);

/// A line in scope, with its text as shown once a filter needed it. Keeping the text makes
/// later changes of filter cheap: formatting a line that has gone cold in memory means
/// visiting every string of its fields, matching its kept text one short read.
#[derive(Debug)]
struct Entry {
    seq: u64,
    text: Option<Box<str>>,
}

/// The lines in scope and those of them that match the filters, oldest first.
///
/// New lines are examined as they arrive. Older lines — the whole buffer when the view opens,
/// the lines in scope when the filter changes — are examined newest first, within a time
/// budget per refresh, so the newest matches show at once and the rest follow over a few
/// frames.
#[derive(Debug)]
pub struct LineIndex {
    /// The scope, and whether lines name their service (it changes their text).
    shown: Option<(Scope, bool)>,
    key: Option<MatchKey>,
    in_scope: VecDeque<Entry>,
    matches: VecDeque<u64>,
    /// Lines from here on have not arrived yet.
    scanned: u64,
    /// Lines before this one are still to be checked for scope…
    scope_back: u64,
    /// …and lines in scope before this one still to be tested against the filters.
    match_back: u64,
    evicted: u64,
    /// Older lines examined per refresh at most, and time spent on them at most.
    pub budget: usize,
    pub deadline: Option<Duration>,
    /// Lines tested against the filters, and lines formatted for it, so far; tests read them
    /// to see that work is incremental.
    pub examined: u64,
    pub formatted: u64,
}

impl Default for LineIndex {
    fn default() -> Self {
        Self {
            shown: None,
            key: None,
            in_scope: VecDeque::new(),
            matches: VecDeque::new(),
            scanned: 0,
            scope_back: 0,
            match_back: 0,
            evicted: 0,
            budget: usize::MAX,
            deadline: Some(BACKFILL_TIME),
            examined: 0,
            formatted: 0,
        }
    }
}

/// Whether a line in scope passes the filters; formats it (once) when the text filter needs it.
struct Test<'a> {
    filter: &'a TextFilter,
    level: LevelFilter,
    with_service: bool,
    examined: &'a mut u64,
    formatted: &'a mut u64,
}

impl Test<'_> {
    fn passes(&mut self, line: &LogLine, text: &mut Option<Box<str>>) -> bool {
        *self.examined += 1;
        if !self.level.passes(line.level) {
            return false;
        }
        if self.filter.is_empty() {
            return true;
        }
        let text = text.get_or_insert_with(|| {
            *self.formatted += 1;
            let mut text = String::new();
            lines::text_into(line, self.with_service, &mut text);
            text.into_boxed_str()
        });
        self.filter.matches(text)
    }
}

impl LineIndex {
    /// Brings the index up to date with the buffer: new lines are examined, evicted ones
    /// forgotten, a changed scope or filter starts over, and older lines are examined within
    /// the budget. `with_service`: the text of a line starts with its service.
    pub fn refresh(
        &mut self,
        logs: &LogBuffer,
        scope: &Scope,
        with_service: bool,
        filter: &TextFilter,
        level: LevelFilter,
    ) {
        let started = Instant::now();
        let (evicted, pushed) = (logs.evicted(), logs.pushed());
        // Another scope starts over, and so does a new buffer (its count went backwards).
        let shown = (scope.clone(), with_service);
        if pushed < self.scanned || self.shown.as_ref() != Some(&shown) {
            self.shown = Some(shown);
            self.in_scope.clear();
            (self.scanned, self.scope_back) = (pushed, pushed);
            self.key = None;
        }
        let key = (scope.clone(), filter.text().to_string(), level);
        if self.key.as_ref() != Some(&key) {
            self.key = Some(key);
            self.matches.clear();
            self.match_back = self.scanned;
        }
        self.evicted = evicted;
        let gone = self.in_scope.partition_point(|e| e.seq < evicted);
        self.in_scope.drain(..gone);
        let gone = self.matches.partition_point(|&seq| seq < evicted);
        self.matches.drain(..gone);
        self.scope_back = self.scope_back.max(evicted);
        self.match_back = self.match_back.max(evicted);

        let mut test = Test {
            filter,
            level,
            with_service,
            examined: &mut self.examined,
            formatted: &mut self.formatted,
        };
        // New lines: all of them (a batch from the loop is bounded).
        for seq in self.scanned.max(evicted)..pushed {
            let Some(line) = line_at(logs, seq).filter(|line| in_scope(scope, line)) else {
                continue;
            };
            let mut entry = Entry { seq, text: None };
            if test.passes(line, &mut entry.text) {
                self.matches.push_back(seq);
            }
            self.in_scope.push_back(entry);
        }
        self.scanned = pushed;

        // Older lines, newest first, while the budget lasts.
        let mut spent = 0;
        let mut more = || {
            spent += 1;
            spent <= self.budget
                && (spent % CLOCK_EVERY != 0
                    || self.deadline.is_none_or(|limit| started.elapsed() < limit))
        };
        // First the lines known to be in scope but not tested yet…
        let mut untested = self.in_scope.partition_point(|e| e.seq < self.match_back);
        while untested > 0 && more() {
            untested -= 1;
            let entry = &mut self.in_scope[untested];
            if let Some(line) = line_at(logs, entry.seq)
                && test.passes(line, &mut entry.text)
            {
                self.matches.push_front(entry.seq);
            }
            self.match_back = entry.seq;
        }
        if untested == 0 {
            self.match_back = self.scope_back;
        }
        // …then lines never looked at, for scope and filters together.
        while self.match_back == self.scope_back && self.scope_back > evicted && more() {
            let seq = self.scope_back - 1;
            if let Some(line) = line_at(logs, seq).filter(|line| in_scope(scope, line)) {
                let mut entry = Entry { seq, text: None };
                if test.passes(line, &mut entry.text) {
                    self.matches.push_front(seq);
                }
                self.in_scope.push_front(entry);
            }
            (self.scope_back, self.match_back) = (seq, seq);
        }
    }

    /// Like `refresh`, with no budget: afterwards every line in the buffer is indexed.
    pub fn complete(
        &mut self,
        logs: &LogBuffer,
        scope: &Scope,
        with_service: bool,
        filter: &TextFilter,
        level: LevelFilter,
    ) {
        let budget = (self.budget, self.deadline);
        (self.budget, self.deadline) = (usize::MAX, None);
        self.refresh(logs, scope, with_service, filter, level);
        (self.budget, self.deadline) = budget;
    }

    /// Older lines are still to be examined (after opening, or a change of filter).
    pub fn pending(&self) -> bool {
        self.scope_back > self.evicted
            || self
                .in_scope
                .front()
                .is_some_and(|oldest| oldest.seq < self.match_back)
    }

    /// Lines in scope (so far, while `pending`).
    pub fn in_scope(&self) -> usize {
        self.in_scope.len()
    }

    pub fn matches(&self) -> &VecDeque<u64> {
        &self.matches
    }

    /// Where `seq` is among the matches, or where it would be (the next newer match), clamped
    /// to the newest.
    pub fn position(&self, seq: u64) -> usize {
        self.matches
            .partition_point(|&s| s < seq)
            .min(self.matches.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::fixtures;

    fn push(logs: &mut LogBuffer, task: &str, raw: &str) {
        logs.push(LogLine::parse("svc", task, "stdout", fixtures::at(1), raw));
    }

    fn messages(index: &LineIndex, logs: &LogBuffer) -> Vec<String> {
        index
            .matches()
            .iter()
            .map(|&seq| line_at(logs, seq).unwrap().message.clone())
            .collect()
    }

    #[test]
    fn levels_filter_from_the_least_severe_up() {
        use LevelFilter::*;
        assert!(All.passes(None));
        assert!(!Info.passes(None));
        assert!(Info.passes(Some(Level::Info)) && !Info.passes(Some(Level::Debug)));
        assert!(Warn.passes(Some(Level::Error)) && !Warn.passes(Some(Level::Info)));
        assert!(Error.passes(Some(Level::Error)) && !Error.passes(Some(Level::Warn)));
        assert_eq!(All.next().next().next().next(), All);
    }

    #[test]
    fn filters_are_case_insensitive_regexes_or_else_plain_text() {
        let regex = TextFilter::new("LISTEN|drain");
        assert!(!regex.literal());
        assert!(regex.matches("listening on 1") && regex.matches("Drain started"));
        assert!(!regex.matches("tool call"));
        let text = TextFilter::new("echo(");
        assert!(text.literal());
        assert!(text.matches("calling ECHO(1)") && !text.matches("echo 1"));
        assert!(TextFilter::new("").matches("anything"));
    }

    #[test]
    fn the_index_follows_pushes_and_evictions_without_rescanning() {
        let mut logs = LogBuffer::new(4);
        let scope = Scope::task("svc", "aa");
        let filter = TextFilter::new("keep");
        let mut index = LineIndex::default();
        push(&mut logs, "aa11", "keep 1");
        push(&mut logs, "bb22", "keep other task");
        push(&mut logs, "aa11", "drop 2");
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        assert_eq!(messages(&index, &logs), ["keep 1"]);
        assert_eq!(index.in_scope(), 2);
        assert_eq!(index.examined, 2, "only lines in scope are tested");

        // New lines are looked at once; the old ones are not tested again.
        push(&mut logs, "aa11", "keep 3");
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        assert_eq!(messages(&index, &logs), ["keep 1", "keep 3"]);
        assert_eq!(index.examined, 3);
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        assert_eq!(index.examined, 3, "nothing new, nothing tested");

        // The ring (capacity 4) drops "keep 1" and "keep other task".
        push(&mut logs, "aa11", "keep 4");
        push(&mut logs, "aa11", "keep 5");
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        assert_eq!(messages(&index, &logs), ["keep 3", "keep 4", "keep 5"]);
        assert_eq!(index.in_scope(), 4);
        assert_eq!(index.examined, 5);

        assert_eq!(index.formatted, 5, "each line is formatted once");

        // A new filter or level starts over on what the buffer holds, without formatting
        // lines again.
        index.refresh(
            &logs,
            &scope,
            false,
            &TextFilter::new("drop"),
            LevelFilter::All,
        );
        assert_eq!(messages(&index, &logs), ["drop 2"]);
        assert_eq!((index.examined, index.formatted), (9, 5));
        index.refresh(
            &logs,
            &scope,
            false,
            &TextFilter::new("drop"),
            LevelFilter::Warn,
        );
        assert!(index.matches().is_empty());

        // Positions are stable names: an evicted selection lands on the oldest match.
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        assert_eq!(index.position(0), 0);
        assert_eq!(index.position(5), 2);
        assert_eq!(index.position(99), 2);
    }

    #[test]
    fn a_new_filter_fills_in_from_the_newest_line_within_a_budget() {
        let mut logs = LogBuffer::new(100);
        for i in 0..10 {
            push(&mut logs, "aa", &format!("line {i}"));
        }
        let scope = Scope::fleet();
        let mut index = LineIndex {
            budget: 4,
            ..LineIndex::default()
        };
        let odd = TextFilter::new("[13579]$");
        index.refresh(&logs, &scope, false, &odd, LevelFilter::All);
        assert_eq!(messages(&index, &logs), ["line 7", "line 9"]);
        assert!(index.pending());
        // Lines arriving meanwhile are examined at once, the backlog a budget at a time.
        push(&mut logs, "aa", "line 11");
        index.refresh(&logs, &scope, false, &odd, LevelFilter::All);
        assert_eq!(
            messages(&index, &logs),
            ["line 3", "line 5", "line 7", "line 9", "line 11"]
        );
        index.refresh(&logs, &scope, false, &odd, LevelFilter::All);
        assert!(!index.pending());
        assert_eq!(messages(&index, &logs)[0], "line 1");
        assert_eq!(index.examined, 11, "every line once");

        // `complete` does it all at once.
        let low = TextFilter::new("line [0-4]$");
        index.complete(&logs, &scope, false, &low, LevelFilter::All);
        assert_eq!(index.matches().len(), 5);
        assert!(!index.pending());

        // A view opened on a full buffer starts with its newest lines too.
        let task = Scope::task("svc", "a");
        let mut opened = LineIndex {
            budget: 4,
            ..LineIndex::default()
        };
        opened.refresh(&logs, &task, false, &low, LevelFilter::All);
        assert_eq!((opened.in_scope(), opened.matches().len()), (4, 0));
        assert!(opened.pending());
        opened.complete(&logs, &task, false, &low, LevelFilter::All);
        assert_eq!((opened.in_scope(), opened.matches().len()), (11, 5));
    }

    #[test]
    fn a_new_buffer_is_indexed_from_scratch() {
        let scope = Scope::fleet();
        let filter = TextFilter::default();
        let mut index = LineIndex::default();
        let mut logs = LogBuffer::new(10);
        for i in 0..3 {
            push(&mut logs, "aa", &format!("old {i}"));
        }
        index.refresh(&logs, &scope, false, &filter, LevelFilter::All);
        let mut fresh = LogBuffer::new(10);
        push(&mut fresh, "aa", "new");
        index.refresh(&fresh, &scope, false, &filter, LevelFilter::All);
        assert_eq!(messages(&index, &fresh), ["new"]);
    }
}
