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
        let referenced = leftovers::referenced_in(self.database.clone(), files::referenced_keys);
        let objects = self
            .storage
            .remove_unreferenced("files", min_age, referenced)
            .await?;
        leftovers::log_removed("artifact", spool, objects, min_age);
        Ok(LeftoversRemoved { spool, objects })
    }
}
