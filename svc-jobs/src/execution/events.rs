//! A run's events: every status change and log chunk is one numbered row in the database
//! (the truth a stream resumes from) and a wake-up on the event bus (in-process in `tad serve`,
//! Redis across replicas), so any replica can serve any run's stream. Log text is masked before
//! it is stored: SSH passwords and the values of secret parameters never reach a row.

use std::time::Duration;

use common::{bus::SharedBus, db::Database, db::DbConnection, time::now_utc};
use serde_json::Value;
use tokio::sync::mpsc;

use super::transport::OutputChunk;
use crate::{
    db::models::runs::{self, LOG_CHUNK_MAX},
    service::{JobsError, JobsResult},
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
}

impl EventLog {
    pub fn new(database: Database, bus: SharedBus) -> EventLog {
        EventLog { database, bus }
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
        let owned_run = run_id.to_owned();
        let owned_kind = kind.to_owned();
        let seq = self
            .database
            .transaction(move |connection| {
                change(connection)?;
                Ok::<_, JobsError>(runs::append_event(
                    connection,
                    &owned_run,
                    &owned_kind,
                    None,
                    None,
                    &payload.to_string(),
                    now_utc(),
                )?)
            })
            .await?;
        self.announce(run_id, seq).await;
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

/// The log of one host task: output and the executor's own lines go through one channel, are
/// gathered into lines, masked, and written every 200 ms (or sooner when 16 KiB are waiting).
pub struct HostLog {
    sender: mpsc::Sender<OutputChunk>,
    writer: tokio::task::JoinHandle<()>,
}

impl HostLog {
    pub fn start(
        events: EventLog,
        run_id: String,
        host_task_id: String,
        masker: Masker,
    ) -> HostLog {
        let (sender, receiver) = mpsc::channel::<OutputChunk>(256);
        let writer = tokio::spawn(write_log(events, run_id, host_task_id, masker, receiver));
        HostLog { sender, writer }
    }

    /// Where a command's output goes.
    pub fn sender(&self) -> mpsc::Sender<OutputChunk> {
        self.sender.clone()
    }

    /// Adds one line of the executor's own.
    pub async fn line(&self, text: impl Into<String>) {
        let mut text = text.into();
        text.push('\n');
        let _ = self
            .sender
            .send(OutputChunk {
                kind: super::transport::OutputKind::Stdout,
                bytes: text.into(),
            })
            .await;
    }

    /// Writes what is left and ends the log.
    pub async fn finish(self) {
        drop(self.sender);
        let _ = self.writer.await;
    }
}

async fn write_log(
    events: EventLog,
    run_id: String,
    host_task_id: String,
    masker: Masker,
    mut receiver: mpsc::Receiver<OutputChunk>,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let limit = usize::try_from(LOG_CHUNK_MAX).unwrap_or(16384);
    loop {
        // What to write now: nothing, whole lines, or everything waiting.
        enum Flush {
            Nothing,
            Lines,
            All,
        }
        let (closed, flush) = tokio::select! {
            chunk = receiver.recv() => match chunk {
                Some(chunk) => {
                    pending.extend_from_slice(&chunk.bytes);
                    (false, if pending.len() >= limit { Flush::All } else { Flush::Nothing })
                }
                None => (true, Flush::All),
            },
            _ = tick.tick() => (false, Flush::Lines),
        };
        let ready = match flush {
            Flush::Nothing => Vec::new(),
            Flush::All => std::mem::take(&mut pending),
            // Whole lines only, so a secret is never split across two writes.
            Flush::Lines => match pending.iter().rposition(|byte| *byte == b'\n') {
                Some(end) => pending.drain(..=end).collect::<Vec<u8>>(),
                None => Vec::new(),
            },
        };
        if !ready.is_empty() {
            let text = masker.mask(&String::from_utf8_lossy(&ready));
            if let Err(error) = events.append_log(&run_id, &host_task_id, text).await {
                tracing::error!(run = %run_id, host_task = %host_task_id, %error, "cannot store log output");
            }
        }
        if closed {
            break;
        }
    }
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
