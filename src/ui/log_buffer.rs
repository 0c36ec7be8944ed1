//! The console's log ring buffer: the newest lines of every task, bounded (100k lines by
//! default), with a stable colour index per task and the count of lines lost — dropped by the
//! source's channel or pushed out of the ring — so nothing is lost silently.

use std::collections::{HashMap, VecDeque};

use crate::fleet::LogLine;

pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    /// Lines pushed out of the ring because it was full.
    evicted: u64,
    /// Lines the source dropped before they reached the console.
    dropped_upstream: u64,
    /// Total lines ever pushed; views use it to notice new lines cheaply.
    pushed: u64,
    task_colors: HashMap<String, usize>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            evicted: 0,
            dropped_upstream: 0,
            pushed: 0,
            task_colors: HashMap::new(),
        }
    }

    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.evicted += 1;
        }
        let next = self.task_colors.len();
        self.task_colors.entry(line.task_id.clone()).or_insert(next);
        self.lines.push_back(line);
        self.pushed += 1;
    }

    pub fn set_dropped_upstream(&mut self, dropped: u64) {
        self.dropped_upstream = dropped;
    }

    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    pub fn dropped_upstream(&self) -> u64 {
        self.dropped_upstream
    }

    /// The colour index of a task, stable for the life of the console.
    pub fn task_color(&self, task_id: &str) -> usize {
        self.task_colors.get(task_id).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn line(task: &str, text: &str) -> LogLine {
        LogLine::parse("svc", task, "stdout", SystemTime::UNIX_EPOCH, text)
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_and_counts_the_rest() {
        let mut buffer = LogBuffer::new(3);
        for i in 0..5 {
            buffer.push(line("t1", &i.to_string()));
        }
        let kept: Vec<&str> = buffer.lines().iter().map(|l| l.message.as_str()).collect();
        assert_eq!(kept, ["2", "3", "4"]);
        assert_eq!(buffer.evicted(), 2);
        assert_eq!(buffer.pushed(), 5);
    }

    #[test]
    fn tasks_keep_their_colour() {
        let mut buffer = LogBuffer::new(10);
        buffer.push(line("a", "x"));
        buffer.push(line("b", "x"));
        buffer.push(line("a", "x"));
        assert_eq!(buffer.task_color("a"), 0);
        assert_eq!(buffer.task_color("b"), 1);
    }
}
