//! Crash leftovers of svc-artifact, removed when it starts: spool files and scratch directories
//! of uploads that never finished, and objects under `files/` that no stored file row refers to
//! (written before a crash, never recorded), when older than the configured age.

use std::time::Duration;

use common::storage::leftovers::{self, Removed};

use super::{ArtifactError, ArtifactResult, ArtifactService};
use crate::db::models::files;

/// What one collection removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LeftoversRemoved {
    pub spool: Removed,
    pub objects: Removed,
}

impl ArtifactService {
    /// Removes the spool files and unreferenced objects at least `min_age` old, and logs what
    /// went. Run at start, before or beside serving: younger files may belong to uploads in
    /// flight (here or on another replica) and are kept.
    pub async fn remove_leftovers(&self, min_age: Duration) -> ArtifactResult<LeftoversRemoved> {
        let spool_dir = self.settings.spool_dir.clone();
        let spool =
            tokio::task::spawn_blocking(move || leftovers::remove_stale_spool(&spool_dir, min_age))
                .await
                .map_err(|error| ArtifactError::Io(format!("spool clean-up stopped: {error}")))?
                .map_err(|error| ArtifactError::io("cannot clean the spool directory", error))?;
        let database = self.database.clone();
        let objects = self
            .storage
            .remove_unreferenced("files", min_age, move |keys| {
                let database = database.clone();
                Box::pin(async move {
                    database
                        .run(move |connection| {
                            files::referenced_keys(connection, &keys).map_err(ArtifactError::from)
                        })
                        .await
                        .map(|found| found.into_iter().collect())
                        .map_err(|error| error.to_string())
                })
            })
            .await?;
        tracing::info!(
            service = "artifact",
            spool_files = spool.files,
            spool_bytes = spool.bytes,
            objects = objects.files,
            object_bytes = objects.bytes,
            min_age_secs = min_age.as_secs(),
            "crash leftovers removed"
        );
        Ok(LeftoversRemoved { spool, objects })
    }
}
