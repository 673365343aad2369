//! A run's events: every status change and log chunk is one numbered row in the database
//! (the truth a stream resumes from) and a wake-up on the event bus (in-process in `tad serve`,
//! Redis across replicas), so any replica can serve any run's stream. Log text is masked before
//! it is stored: SSH passwords and the values of secret parameters never reach a row.

use std::{sync::Arc, time::Duration};

use common::{
    bus::SharedBus, db::Database, db::DbConnection, read_cache::ReadCache, time::now_utc,
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::transport::{OutputChunk, OutputKind};
use crate::{
    db::models::runs::{self, LOG_CHUNK_MAX},
    domain::{INSTANCES_WRITE, JobsError, JobsResult},
};

/// What replaces a secret in log lines, messages and events.
pub const MASK: &str = "******";

/// Replaces every known secret in text.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    /// Secrets shorter than 3 characters are not masked (they would mangle every line).
    pub fn new(mut secrets: Vec<String>) -> Masker {
        secrets.retain(|secret| secret.chars().count() >= 3);
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Masker { secrets }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut masked = text.to_owned();
        for secret in &self.secrets {
            if masked.contains(secret.as_str()) {
                masked = masked.replace(secret.as_str(), MASK);
            }
        }
        masked
    }
}

/// Bus topic of a run's wake-ups.
pub fn topic(run_id: &str) -> String {
    format!("jobs.run.{run_id}")
}

/// Writes a run's events and announces them.
#[derive(Clone)]
pub struct EventLog {
    database: Database,
    bus: SharedBus,
    /// A run's status is its instance's: every `run` event marks the instances changed.
    reads: Arc<ReadCache>,
}

impl EventLog {
    pub fn new(database: Database, bus: SharedBus, reads: Arc<ReadCache>) -> EventLog {
        EventLog {
            database,
            bus,
            reads,
        }
    }

    pub fn reads(&self) -> &Arc<ReadCache> {
        &self.reads
    }

    pub fn bus(&self) -> &SharedBus {
        &self.bus
    }

    /// Applies `change` and appends the event describing it in one transaction, then wakes the
    /// run's watchers.
    pub async fn record<F>(
        &self,
        run_id: &str,
        kind: &str,
        payload: Value,
        change: F,
    ) -> JobsResult<()>
    where
        F: FnOnce(&mut DbConnection) -> JobsResult<()> + Send + 'static,
    {
        let kind = kind.to_owned();
        self.record_decided(run_id, move |connection| {
            change(connection)?;
            Ok(vec![(kind, payload)])
        })
        .await
    }

    /// Applies `change`, which answers the events (kind, payload) describing what it did, and
    /// appends them in order in the same transaction, then wakes the run's watchers: several
    /// changes that must not be seen apart (a run's last step and the run's ending) are written
    /// at once, whatever instant the service dies.
    pub async fn record_decided<F>(&self, run_id: &str, change: F) -> JobsResult<()>
    where
        F: FnOnce(&mut DbConnection) -> JobsResult<Vec<(String, Value)>> + Send + 'static,
    {
        let owned_run = run_id.to_owned();
        let (last, run_changed) = self
            .database
            .transaction(move |connection| {
                let mut last = None;
                let mut run_changed = false;
                for (kind, payload) in change(connection)? {
                    // The run started, ended or was interrupted (the instance's status moved), or
                    // a step did (5.10 shows the latest run's step statuses).
                    run_changed |= kind == "run" || kind == "step";
                    last = Some(runs::append_event(
                        connection,
                        &owned_run,
                        &kind,
                        None,
                        None,
                        &payload.to_string(),
                        now_utc(),
                    )?);
                }
                Ok::<_, JobsError>((last, run_changed))
            })
            .await?;
        if run_changed {
            self.reads.changed(INSTANCES_WRITE).await;
        }
        if let Some(seq) = last {
            self.announce(run_id, seq).await;
        }
        Ok(())
    }

    /// Appends (already masked) log text of a host task, in chunks of at most
    /// [`LOG_CHUNK_MAX`] bytes.
    pub async fn append_log(
        &self,
        run_id: &str,
        host_task_id: &str,
        text: String,
    ) -> JobsResult<()> {
        if text.is_empty() {
            return Ok(());
        }
        let owned_run = run_id.to_owned();
        let owned_task = host_task_id.to_owned();
        let seq = self
            .database
            .transaction(move |connection| {
                let mut last = 0;
                for chunk in split_utf8(&text, usize::try_from(LOG_CHUNK_MAX).unwrap_or(16384)) {
                    let length = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
                    let offset = runs::grow_log(connection, &owned_task, length)?;
                    last = runs::append_event(
                        connection,
                        &owned_run,
                        "log",
                        Some(&owned_task),
                        Some(offset),
                        chunk,
                        now_utc(),
                    )?;
                }
                Ok::<_, JobsError>(last)
            })
            .await?;
        self.announce(run_id, seq).await;
        Ok(())
    }

    async fn announce(&self, run_id: &str, seq: i64) {
        if let Err(error) = self
            .bus
            .publish(&topic(run_id), seq.to_string().as_bytes())
            .await
        {
            // Watchers also poll the database; a lost wake-up only delays them.
            tracing::warn!(run = run_id, %error, "cannot announce a run event");
        }
    }
}

/// Splits text into pieces of at most `max` bytes on character boundaries.
fn split_utf8(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// How long a log write is retried before its text is given up (with an error naming the size).
const STORE_PATIENCE: Duration = Duration::from_secs(120);

/// The log of one host task: output and the executor's own lines are gathered into lines (one
/// pending line per stream, so stdout and stderr never mix inside a line), masked, and written
/// every 200 ms (or sooner when 16 KiB are waiting). A failed write is retried, holding back
/// the output (and so the command) meanwhile, never dropped.
pub struct HostLog {
    sender: mpsc::Sender<OutputChunk>,
    notes: mpsc::Sender<String>,
    writer: tokio::task::JoinHandle<()>,
}

impl HostLog {
    pub fn start(
        events: EventLog,
        run_id: String,
        host_task_id: String,
        masker: Masker,
    ) -> HostLog {
        let (sender, output) = mpsc::channel::<OutputChunk>(256);
        let (notes, notes_receiver) = mpsc::channel::<String>(16);
        let store = LogStore {
            events,
            run_id,
            host_task_id,
            masker,
        };
        let writer = tokio::spawn(write_log(store, output, notes_receiver));
        HostLog {
            sender,
            notes,
            writer,
        }
    }

    /// Where a command's output goes.
    pub fn sender(&self) -> mpsc::Sender<OutputChunk> {
        self.sender.clone()
    }

    /// Adds one line of the executor's own, after all output sent so far; a command's last
    /// line that has no newline is ended first.
    pub async fn line(&self, text: impl Into<String>) {
        let mut text = text.into();
        text.push('\n');
        let _ = self.notes.send(text).await;
    }

    /// Writes what is left and ends the log.
    pub async fn finish(self) {
        drop(self.sender);
        drop(self.notes);
        let _ = self.writer.await;
    }
}

/// Where a host task's log text goes.
struct LogStore {
    events: EventLog,
    run_id: String,
    host_task_id: String,
    masker: Masker,
}

impl LogStore {
    /// Masks and appends `text`, retrying a failed write (the transaction rolled back, so
    /// nothing is doubled) for up to [`STORE_PATIENCE`].
    async fn store(&self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let masked = self.masker.mask(&String::from_utf8_lossy(text));
        let give_up = tokio::time::Instant::now() + STORE_PATIENCE;
        let mut delay = Duration::from_millis(50);
        loop {
            let written = self
                .events
                .append_log(&self.run_id, &self.host_task_id, masked.clone())
                .await;
            let error = match written {
                Ok(()) => return,
                Err(error) => error,
            };
            if tokio::time::Instant::now() >= give_up {
                tracing::error!(run = %self.run_id, host_task = %self.host_task_id, bytes = masked.len(), %error, "log output lost: it could not be stored");
                return;
            }
            tracing::warn!(run = %self.run_id, host_task = %self.host_task_id, bytes = masked.len(), %error, "cannot store log output yet; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }
}

/// A host task's output on its way to the store: whole lines in arrival order, and the
/// unfinished line of each stream.
#[derive(Default)]
struct LineAssembly {
    ready: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl LineAssembly {
    /// Adds a piece of output: its stream's completed lines become ready. A line longer than
    /// `limit` is passed on in pieces (cut on a UTF-8 boundary) so memory stays bounded.
    fn push(&mut self, kind: OutputKind, bytes: &[u8], limit: usize) {
        let partial = match kind {
            OutputKind::Stdout => &mut self.stdout,
            OutputKind::Stderr => &mut self.stderr,
        };
        partial.extend_from_slice(bytes);
        if let Some(end) = partial.iter().rposition(|byte| *byte == b'\n') {
            self.ready.extend(partial.drain(..=end));
        }
        if partial.len() >= limit {
            let cut = complete_utf8_prefix(partial);
            self.ready.extend(partial.drain(..cut));
        }
    }

    /// Ends each stream's unfinished line with a newline (the command has ended, or the
    /// executor speaks), then adds `note`.
    fn end_lines(&mut self, note: Option<&str>) {
        for partial in [&mut self.stdout, &mut self.stderr] {
            if !partial.is_empty() {
                self.ready.append(partial);
                self.ready.push(b'\n');
            }
        }
        if let Some(note) = note {
            self.ready.extend_from_slice(note.as_bytes());
        }
    }
}

/// The length of `bytes` without a trailing character that is still incomplete (a multi-byte
/// UTF-8 sequence cut short); all of it when that would leave nothing.
fn complete_utf8_prefix(bytes: &[u8]) -> usize {
    let length = bytes.len();
    let mut start = length;
    while start > 0 && length - start < 4 {
        start -= 1;
        let byte = bytes[start];
        if byte & 0xC0 != 0x80 {
            let needed = match byte {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if length - start >= needed || start == 0 {
                length
            } else {
                start
            };
        }
    }
    length
}

async fn write_log(
    store: LogStore,
    mut output: mpsc::Receiver<OutputChunk>,
    mut notes: mpsc::Receiver<String>,
) {
    let mut lines = LineAssembly::default();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let limit = usize::try_from(LOG_CHUNK_MAX).unwrap_or(16384);
    let mut output_open = true;
    let mut notes_open = true;
    while output_open || notes_open {
        let flush = tokio::select! {
            // Output first: a note sent after a command ended comes after all of its output.
            biased;
            chunk = output.recv(), if output_open => {
                match chunk {
                    Some(chunk) => lines.push(chunk.kind, &chunk.bytes, limit),
                    None => output_open = false,
                }
                lines.ready.len() >= limit
            }
            note = notes.recv(), if notes_open => {
                // The command's output sent before this note is in the channel already.
                while let Ok(chunk) = output.try_recv() {
                    lines.push(chunk.kind, &chunk.bytes, limit);
                }
                match note {
                    Some(note) => lines.end_lines(Some(&note)),
                    None => notes_open = false,
                }
                lines.ready.len() >= limit
            }
            _ = tick.tick() => true,
        };
        if flush {
            store.store(&std::mem::take(&mut lines.ready)).await;
        }
    }
    lines.end_lines(None);
    store.store(&lines.ready).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masker_hides_every_secret_and_skips_tiny_ones() {
        let masker = Masker::new(vec!["hunter22".into(), "ab".into(), "hunter2".into()]);
        assert_eq!(
            masker.mask("pw=hunter22 and hunter2, ab"),
            "pw=****** and ******, ab"
        );
    }

    #[test]
    fn utf8_text_splits_on_character_boundaries() {
        let pieces = split_utf8("aé€x", 3);
        assert_eq!(pieces.concat(), "aé€x");
        assert!(pieces.iter().all(|piece| piece.len() <= 3));
    }
}
