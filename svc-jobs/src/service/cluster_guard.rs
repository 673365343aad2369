//! The jobs half of a race-free cluster delete. svc-resource announces a delete before it asks
//! jobs whether a step is bound to the cluster; jobs writes a binding first and checks the
//! cluster after, taking the binding back when the cluster is gone or its delete is announced.
//! Whichever of the two comes second sees the other, so no binding outlives its cluster.

use common::auth::Actor;

use super::{JobsError, JobsResult, JobsService, RecordKind};
use crate::db::models::instances::{self, StepRow};
use crate::domain::{
    audit::{self, Change},
    existing_instance,
};

impl JobsService {
    /// Fails `cluster_not_found` unless every one of `cluster_ids` exists and no delete of it is
    /// under way.
    pub(crate) async fn confirm_clusters_stand(
        &self,
        actor: &Actor,
        cluster_ids: Vec<String>,
    ) -> JobsResult<()> {
        if cluster_ids.is_empty() {
            return Ok(());
        }
        let standing = self
            .resource
            .clusters(&actor.token, cluster_ids.clone())
            .await?;
        let fallen = cluster_ids.into_iter().find(|id| {
            !standing
                .iter()
                .any(|cluster| cluster.id == *id && !cluster.deleting)
        });
        match fallen {
            Some(id) => Err(JobsError::NotFound {
                kind: RecordKind::Cluster,
                id,
            }),
            None => Ok(()),
        }
    }

    /// After a step was written from `previous` to `written`: when `written` binds a new cluster
    /// that no longer stands, puts `previous` back (if the step is still as written) and fails.
    /// The write was recorded as `action`: putting it back is recorded as `action` too.
    pub(crate) async fn settle_step_cluster(
        &self,
        actor: &Actor,
        previous: StepRow,
        written: StepRow,
        action: &'static str,
    ) -> JobsResult<()> {
        let Some(cluster_id) = written.cluster_id.clone() else {
            return Ok(());
        };
        if previous.cluster_id.as_deref() == Some(cluster_id.as_str()) {
            return Ok(());
        }
        let Err(fallen) = self.confirm_clusters_stand(actor, vec![cluster_id]).await else {
            return Ok(());
        };
        let origin = audit::origin(actor);
        self.write(crate::domain::INSTANCES_WRITE, move |connection| {
            if instances::restore_step(connection, &written, &previous)? {
                let instance = existing_instance(connection, &written.instance_id)?;
                let event =
                    audit::step_event(&origin, action, &instance, &previous).change(Change::new(
                        "cluster_id",
                        written.cluster_id.as_deref(),
                        previous.cluster_id.as_deref(),
                    ));
                audit::append(connection, event)?;
            }
            Ok::<_, JobsError>(())
        })
        .await?;
        Err(fallen)
    }
}
