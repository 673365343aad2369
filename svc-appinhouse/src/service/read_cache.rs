//! Read-through cache of the API reads phones and CI poll (`last`, `mobile/last`, `list`, plists)
//! of open apps. Every write to an app bumps the app's generation in the shared cache (Redis
//! across replicas, in memory in `tad serve`) before it is answered; a read first reads that
//! generation and serves only answers stored under it. So once a write has been answered, no
//! replica serves what was there before. Answers live 60 s at most and only in this process; a
//! read whose generation cannot be read goes to the database. Reads that show a grant or
//! `X-SecretKey` (protected apps) are never cached, and neither are the pages (they show install
//! counts, which change without a write; the API answers do not carry them).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use common::cache::SharedCache;

/// How long an answer is served from memory at most.
const ANSWER_TTL: Duration = Duration::from_secs(60);
/// Most answers kept; when full, the cache starts over.
const CAPACITY: usize = 4096;
/// How long an app's generation lives in the shared cache after its first write.
const GENERATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Where an answer is stored: the app, the generation it was read under, the read.
pub(crate) struct Slot {
    app: String,
    generation: i64,
    key: String,
}

struct Answers<Answer> {
    entries: HashMap<String, (Instant, Answer)>,
    /// The newest generation seen per app.
    newest: HashMap<String, i64>,
}

impl<Answer> Default for Answers<Answer> {
    fn default() -> Self {
        Answers {
            entries: HashMap::new(),
            newest: HashMap::new(),
        }
    }
}

/// The answers of this process (of type `Answer`) and the shared generations.
pub(crate) struct ReadCache<Answer> {
    generations: SharedCache,
    answers: Mutex<Answers<Answer>>,
}

fn generation_key(app: &str) -> String {
    format!("appinhouse:generation:{app}")
}

/// The prefix of every answer kept for `app`.
fn answers_of(app: &str) -> String {
    format!("{app}\n")
}

impl<Answer: Clone> ReadCache<Answer> {
    pub(crate) fn new(generations: SharedCache) -> Arc<ReadCache<Answer>> {
        Arc::new(ReadCache {
            generations,
            answers: Mutex::new(Answers::default()),
        })
    }

    fn with_answers<T>(&self, work: impl FnOnce(&mut Answers<Answer>) -> T) -> T {
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut answers)
    }

    /// Where the read `read` of `app` is stored now; `None` when the generation cannot be read
    /// (the read then goes to the database).
    pub(crate) async fn slot(&self, app: &str, read: &str) -> Option<Slot> {
        let generation = match self.generations.get(&generation_key(app)).await {
            Ok(value) => value
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.parse::<i64>().ok())
                .unwrap_or(0),
            Err(error) => {
                tracing::warn!(%error, app, "appinhouse read cache bypassed");
                return None;
            }
        };
        self.with_answers(|answers| {
            let newest = answers.newest.get(app).copied().unwrap_or(generation);
            if generation < newest {
                // The shared cache lost the generation (restart, eviction): nothing kept for
                // the app can be trusted.
                let prefix = answers_of(app);
                answers.entries.retain(|key, _| !key.starts_with(&prefix));
            }
            answers.newest.insert(app.to_owned(), generation);
        });
        Some(Slot {
            app: app.to_owned(),
            generation,
            key: format!("{}{generation}\n{read}", answers_of(app)),
        })
    }

    /// The answer stored in `slot`, if it is young enough.
    pub(crate) fn get(&self, slot: &Slot) -> Option<Answer> {
        self.with_answers(|answers| {
            answers
                .entries
                .get(&slot.key)
                .filter(|(stored, _)| stored.elapsed() < ANSWER_TTL)
                .map(|(_, answer)| answer.clone())
        })
    }

    /// Keeps `answer` in `slot`, unless the app has moved to another generation meanwhile.
    pub(crate) fn put(&self, slot: Slot, answer: Answer) {
        self.with_answers(|answers| {
            if answers.newest.get(&slot.app) != Some(&slot.generation) {
                return;
            }
            if answers.entries.len() >= CAPACITY {
                answers.entries.clear();
            }
            answers.entries.insert(slot.key, (Instant::now(), answer));
        });
    }

    /// Marks `app` changed: every process reads it again. Called after the write committed and
    /// before it is answered; a failure is logged (the answers kept still expire within a
    /// minute).
    pub(crate) async fn changed(&self, app: &str) {
        let bumped = self
            .generations
            .increment(&generation_key(app), GENERATION_TTL)
            .await;
        let prefix = answers_of(app);
        self.with_answers(|answers| {
            answers.entries.retain(|key, _| !key.starts_with(&prefix));
            match &bumped {
                Ok(generation) => answers.newest.insert(app.to_owned(), *generation),
                Err(_) => answers.newest.remove(app),
            };
        });
        if let Err(error) = bumped {
            tracing::error!(%error, app, "appinhouse read cache: the change was not announced");
        }
    }
}
