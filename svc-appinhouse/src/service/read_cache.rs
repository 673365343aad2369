//! The appinhouse reads phones and CI poll (`last`, `mobile/last`, `list`, plists) of open apps,
//! kept in the common read cache ([`common::read_cache`]) with one scope per app: every write to
//! an app bumps the app's generation in the shared cache (Redis across replicas, in memory in
//! `tad serve`) before it is answered. Answers live 60 s at most and only in this process. Reads
//! that show a grant or `X-SecretKey` (protected apps) are never cached, and neither are the
//! pages (they show install counts, which change without a write; the API answers do not carry
//! them).

use std::{sync::Arc, time::Duration};

use common::{
    cache::SharedCache,
    read_cache::{ReadCache, Slot, scope},
};

/// How long an answer is served from memory at most.
const ANSWER_TTL: Duration = Duration::from_secs(60);

/// The kept answers of this process (of type `Answer`), one scope per app.
pub(crate) struct AppReads<Answer> {
    cache: Arc<ReadCache>,
    answer: std::marker::PhantomData<fn() -> Answer>,
}

impl<Answer: Clone + Send + Sync + 'static> AppReads<Answer> {
    pub(crate) fn new(generations: SharedCache) -> Arc<AppReads<Answer>> {
        Arc::new(AppReads {
            cache: ReadCache::new("appinhouse", generations, ANSWER_TTL),
            answer: std::marker::PhantomData,
        })
    }

    /// Where the read `read` of `app` is stored now; `None` when the generation cannot be read
    /// (the read then goes to the database).
    pub(crate) async fn slot(&self, app: &str, read: &str) -> Option<Slot> {
        self.cache
            .slot(&[scope("appinhouse", app).as_str()], read)
            .await
    }

    /// The answer stored in `slot`, if it is young enough.
    pub(crate) fn get(&self, slot: &Slot) -> Option<Answer> {
        self.cache.get::<Answer>(slot)
    }

    /// Keeps `answer` in `slot`, unless the app has moved to another generation meanwhile.
    pub(crate) fn put(&self, slot: Slot, answer: Answer) {
        self.cache.put(slot, answer);
    }

    /// Marks `app` changed: every process reads it again (after the write committed, before it
    /// is answered).
    pub(crate) async fn changed(&self, app: &str) {
        self.cache
            .changed(&[scope("appinhouse", app).as_str()])
            .await;
    }
}
