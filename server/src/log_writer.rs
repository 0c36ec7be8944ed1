//! The writer behind the JSON logs: callers append whole lines to a shared buffer and go on, and
//! one thread writes whatever has gathered with a single write. A tool call never waits on
//! stdout, and a busy replica makes one system call per batch of lines instead of one per line
//! (plus a wake-up of the thread for each). When the buffer is full, callers wait rather than
//! lose lines.

use std::{
    io::{self, Write},
    mem,
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::{self, JoinHandle},
    time::Duration,
};

use tracing_subscriber::fmt::MakeWriter;

/// Bytes of lines that may wait for the writer thread before callers block.
const CAPACITY: usize = 4 * 1024 * 1024;
/// How long the thread lets lines gather after a write. Only the log lines wait this long: an
/// idle replica's thread sleeps until the next line.
const BATCH_INTERVAL: Duration = Duration::from_millis(5);

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The thread waits here while there is nothing to write.
    lines_waiting: Condvar,
    /// Callers wait here while the buffer is full.
    space: Condvar,
}

#[derive(Default)]
struct State {
    lines: Vec<u8>,
    /// The thread is waiting on `lines_waiting` and must be woken for new lines.
    thread_idle: bool,
    /// Callers waiting on `space`. (Notifying a condition variable is a system call even with
    /// nobody waiting, so both sides notify only when someone is.)
    callers_waiting: usize,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands lines to the writer thread; one per event, as the subscriber asks for them.
#[derive(Clone)]
pub struct LogWriter(Arc<Shared>);

/// Keeps the writer thread running; dropping it writes the lines still waiting and stops it.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread for `out`.
pub fn spawn(out: impl Write + Send + 'static) -> (LogWriter, LogGuard) {
    let shared = Arc::new(Shared::default());
    let thread = thread::Builder::new()
        .name("log-writer".into())
        .spawn({
            let shared = shared.clone();
            move || write_batches(&shared, out)
        })
        .expect("the log writer thread starts");
    let guard = LogGuard {
        shared: shared.clone(),
        thread: Some(thread),
    };
    (LogWriter(shared), guard)
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.lines.is_empty() && !state.closed {
            state.thread_idle = true;
            state = shared
                .lines_waiting
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.thread_idle = false;
        if state.lines.is_empty() {
            return;
        }
        mem::swap(&mut batch, &mut state.lines);
        let callers_waiting = state.callers_waiting > 0;
        drop(state);
        if callers_waiting {
            shared.space.notify_all();
        }
        // Nowhere to report a failing stdout; the lines are dropped, as a blocked pipe's would be.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        thread::sleep(BATCH_INTERVAL);
    }
}

impl Write for LogWriter {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut state = self.0.lock();
        while state.lines.len() >= CAPACITY && !state.closed {
            state.callers_waiting += 1;
            state = self
                .0
                .space
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.callers_waiting -= 1;
        }
        state.lines.extend_from_slice(line);
        let wake_thread = mem::take(&mut state.thread_idle);
        drop(state);
        if wake_thread {
            self.0.lines_waiting.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines_waiting.notify_one();
        self.shared.space.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_written_before_the_guard_drops_all_arrive_in_order() {
        let sink = Sink::default();
        let (writer, guard) = spawn(sink.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                thread::spawn(move || {
                    for i in 0..500 {
                        writer.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let writes = sink.0.lock().unwrap();
        let text = String::from_utf8(writes.concat()).unwrap();
        assert_eq!(text.lines().count(), 2000);
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|line| line.strip_prefix(&format!("{t} ")))
                .map(|i| i.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..500).collect::<Vec<_>>());
        }
        assert!(writes.len() < 2000, "lines were not batched");
    }

    #[test]
    fn an_idle_writer_wakes_for_a_new_line() {
        let sink = Sink::default();
        let (mut writer, _guard) = spawn(sink.clone());
        writer.write_all(b"first\n").unwrap();
        thread::sleep(BATCH_INTERVAL * 4);
        writer.write_all(b"second\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().concat() != b"first\nsecond\n" {
            assert!(
                std::time::Instant::now() < deadline,
                "second line not written"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }
}
