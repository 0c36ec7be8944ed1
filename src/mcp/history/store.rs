//! The history file: every recorded call as one JSON line, appended by each process that
//! records calls — the console's worker and one-shot `call` commands, at the same time — under
//! an advisory lock, and bounded in calls and bytes. It is the only place calls are kept on
//! disk. Mode 0600: it holds the calls' arguments. The wire records in it were redacted as
//! they were recorded, and nothing else of an entry carries a credential.

use std::{
    fs::{self, File, OpenOptions, TryLockError},
    io::{self, Read, Seek, SeekFrom, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use super::HistoryEntry;

/// Calls the file keeps at most: months of a person's calls, and a search over all of them
/// still reads in well under a second.
pub const MAX_CALLS: usize = 2_000;
/// Bytes the file takes at most. Most calls take a few KiB with their wire record; this room
/// lets a share of them carry results of hundreds of KiB without pushing the rest out early.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// A compaction keeps the newest calls within three quarters of each bound, so a full file is
/// rewritten once every few hundred calls rather than on every call.
const KEEP_CALLS: usize = MAX_CALLS / 4 * 3;
const KEEP_BYTES: u64 = MAX_BYTES / 4 * 3;
/// How long a reader or writer waits for another to finish with the file. A write takes
/// milliseconds; a call's outcome waits for its write, so a process stuck holding the lock
/// costs the call its line in the history, not its outcome.
const LOCK_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
#[error("history file {path}: {source}")]
pub struct StoreError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// A line that could not be read back (a crash mid-write leaves one cut short), by its
/// number in the file, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    /// Oldest first, as appended.
    pub entries: Vec<HistoryEntry>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone)]
pub struct HistoryFile {
    path: PathBuf,
    /// The file as this process last left it, so an append counts only the lines other
    /// processes added since instead of reading the whole file.
    seen: Arc<Mutex<Option<Seen>>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    file: Identity,
    len: u64,
    lines: usize,
    /// The last byte is a newline (or the file is empty).
    whole: bool,
}

/// Which file is at the path: its inode, and its birth time where the file system keeps one,
/// since a compaction's new file may reuse the inode of one replaced earlier.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Identity(u64, Option<SystemTime>);

impl Identity {
    fn of(meta: &fs::Metadata) -> Self {
        Self(meta.ino(), meta.created().ok())
    }
}

impl HistoryFile {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            seen: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: io::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            source,
        }
    }

    /// The newest `limit` entries that read back, oldest first; no file is no history.
    pub fn load(&self, limit: usize) -> Result<Loaded, StoreError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(error) => return Err(self.error(error)),
        };
        // Shared, so no line is read while another process is halfway through writing it.
        lock(&file, File::try_lock_shared).map_err(|e| self.error(e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| self.error(e))?;
        drop(file);

        let mut loaded = Loaded::default();
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        for (index, line) in lines.iter().enumerate().rev() {
            if loaded.entries.len() == limit {
                break;
            }
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<HistoryEntry>(line) {
                Ok(entry) => loaded.entries.push(entry),
                Err(error) => loaded.skipped.push(Skipped {
                    line: index + 1,
                    reason: error.to_string(),
                }),
            }
        }
        loaded.entries.reverse();
        loaded.skipped.reverse();
        Ok(loaded)
    }

    /// Appends `entries` (oldest first) under an exclusive lock, compacting the file first
    /// when they would take it past a bound.
    pub fn append(&self, entries: &[HistoryEntry]) -> Result<(), StoreError> {
        let mut added = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut added, entry).expect("history entries serialise");
            added.push(b'\n');
        }
        if let Some(dir) = self.path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| self.error(e))?;
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = self.open_locked().map_err(|e| self.error(e))?;
        let now = self.measure(&mut file, *seen).map_err(|e| self.error(e))?;
        // A line cut short by a crash gets its newline first, so it stays one unreadable line
        // rather than swallowing the next entry.
        let cut = !now.whole;
        let lines = now.lines + usize::from(cut) + entries.len();
        let len = now.len + u64::from(cut) + added.len() as u64;
        *seen = if lines > MAX_CALLS || len > MAX_BYTES {
            Some(self.compact(&mut file, &added).map_err(|e| self.error(e))?)
        } else {
            if cut {
                added.insert(0, b'\n');
            }
            file.write_all(&added).map_err(|e| self.error(e))?;
            Some(Seen {
                len,
                lines,
                whole: true,
                ..now
            })
        };
        Ok(())
    }

    /// The file opened for appending and locked. A compaction renames a new file over the
    /// path while others wait for the lock on the old one; whoever then gets that lock opens
    /// the path again, so nothing is appended to a file no longer there.
    fn open_locked(&self) -> io::Result<File> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.path)?;
            lock(&file, File::try_lock)?;
            if file.metadata()?.ino() == fs::metadata(&self.path)?.ino() {
                // A file made before by hand or another tool is made private too.
                file.set_permissions(fs::Permissions::from_mode(0o600))?;
                return Ok(file);
            }
        }
    }

    /// Lines and length of the locked file, reading only what was added since `seen` when it
    /// is the same file.
    fn measure(&self, file: &mut File, seen: Option<Seen>) -> io::Result<Seen> {
        let meta = file.metadata()?;
        let (identity, len) = (Identity::of(&meta), meta.len());
        let start = match seen {
            Some(seen) if seen.file == identity && seen.len <= len => seen,
            _ => Seen {
                file: identity,
                len: 0,
                lines: 0,
                whole: true,
            },
        };
        if start.len == len {
            return Ok(start);
        }
        file.seek(SeekFrom::Start(start.len))?;
        let mut tail = Vec::new();
        file.take(len - start.len).read_to_end(&mut tail)?;
        Ok(Seen {
            file: identity,
            len,
            lines: start.lines + tail.iter().filter(|b| **b == b'\n').count(),
            whole: tail.last() == Some(&b'\n'),
        })
    }

    /// Rewrites the file as its newest lines, `added` last, within the kept bounds: written
    /// beside it and renamed over it, so a reader sees the old file or the new one, never half.
    fn compact(&self, file: &mut File, added: &[u8]) -> io::Result<Seen> {
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        if bytes.last().is_some_and(|b| *b != b'\n') {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(added);
        let (mut kept_from, mut lines) = (bytes.len(), 0);
        let body = bytes.strip_suffix(b"\n").into_iter();
        for line in body.flat_map(|body| body.split(|b| *b == b'\n')).rev() {
            let start = kept_from - line.len() - 1;
            if lines == KEEP_CALLS || (bytes.len() - start) as u64 > KEEP_BYTES {
                break;
            }
            (kept_from, lines) = (start, lines + 1);
        }
        let kept = &bytes[kept_from..];

        let temporary = self.path.with_file_name(format!(
            ".{}.{}.tmp",
            self.path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let mut out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        out.write_all(kept)?;
        out.sync_all()?;
        fs::rename(&temporary, &self.path)?;
        Ok(Seen {
            file: Identity::of(&out.metadata()?),
            len: kept.len() as u64,
            lines,
            whole: true,
        })
    }
}

/// Takes the lock with `try_lock`, waiting up to [`LOCK_WAIT`] for whoever holds it.
fn lock(file: &File, try_lock: fn(&File) -> Result<(), TryLockError>) -> io::Result<()> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match try_lock(file) {
            Ok(()) => return Ok(()),
            Err(TryLockError::Error(error)) => return Err(error),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => {
                let busy = format!("still locked by another process after {LOCK_WAIT:?}");
                return Err(io::Error::new(io::ErrorKind::WouldBlock, busy));
            }
        }
    }
}

/// A time as RFC 3339 in UTC, to the microsecond.
pub(super) mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_micros(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text).map_err(D::Error::custom)
    }
}

/// A duration as milliseconds to the microsecond, as `call --json` gives `duration_ms`.
pub(super) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((duration.as_secs_f64() * 1_000_000.0).round() / 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Duration::try_from_secs_f64(ms / 1000.0).map_err(D::Error::custom)
    }
}

pub(super) mod optional_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => super::millis::serialize(duration, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Millis(#[serde(with = "super::millis")] Duration);
        Ok(Option::<Millis>::deserialize(d)?.map(|Millis(duration)| duration))
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
