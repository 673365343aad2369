//! The appinhouse reads phones and CI poll (`last`, `mobile/last`, `list`, plists) and the
//! download pages of open apps, kept in the common read cache ([`common::read_cache`]) with one
//! scope per app: every write to an app bumps the app's generation in the shared cache (Redis
//! across replicas, in memory in `tad serve`) before it is answered. The pages show install
//! counts too, which change without a write: they are kept under a second scope per app, which
//! every counted install bumps once it is written. Answers live 60 s at most and only in this
//! process. Reads that show a grant or `X-SecretKey` (protected apps) are never cached.

use std::{sync::Arc, time::Duration};

use common::{
    cache::SharedCache,
    read_cache::{ReadCache, Slot, scope},
};

/// How long an answer is served from memory at most.
const ANSWER_TTL: Duration = Duration::from_secs(60);

/// The kept answers of this process (each read keeps its answer's own type), one scope per app.
pub(crate) struct AppReads {
    cache: Arc<ReadCache>,
}

impl AppReads {
    pub(crate) fn new(generations: SharedCache) -> Arc<AppReads> {
        Arc::new(AppReads {
            cache: ReadCache::new("appinhouse", generations, ANSWER_TTL),
        })
    }

    /// Where the read `read` of `app` is stored now; `None` when the generation cannot be read
    /// (the read then goes to the database).
    pub(crate) async fn slot(&self, app: &str, read: &str) -> Option<Slot> {
        self.cache
            .slot(&[scope("appinhouse", app).as_str()], read)
            .await
    }

    /// As [`AppReads::slot`], for a read that shows the app's install counts too.
    pub(crate) async fn slot_with_installs(&self, app: &str, read: &str) -> Option<Slot> {
        let (records, installs) = (scope("appinhouse", app), installs_scope(app));
        self.cache
            .slot(&[records.as_str(), installs.as_str()], read)
            .await
    }

    /// The answer stored in `slot`, if it is young enough and of type `T`.
    pub(crate) fn get<T: Clone + 'static>(&self, slot: &Slot) -> Option<T> {
        self.cache.get::<T>(slot)
    }

    /// Keeps `answer` in `slot`, unless the app has moved to another generation meanwhile.
    pub(crate) fn put<T: Send + Sync + 'static>(&self, slot: Slot, answer: T) {
        self.cache.put(slot, answer);
    }

    /// Marks `app` changed: every process reads it again (after the write committed, before it
    /// is answered).
    pub(crate) async fn changed(&self, app: &str) {
        self.cache
            .changed(&[scope("appinhouse", app).as_str()])
            .await;
    }

    /// Marks `app`'s install counts changed (after the count was written).
    pub(crate) async fn installs_changed(&self, app: &str) {
        self.cache.changed(&[installs_scope(app).as_str()]).await;
    }
}

/// The scope of an app's install counts (the pages show them).
fn installs_scope(app: &str) -> String {
    scope("appinhouse-installs", app)
}
