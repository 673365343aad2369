//! Clusters (contract 8.1): an application's hosts in one environment. Creation and edits check
//! the environment, the application and the type; bindings accept only hosts of the cluster's
//! environment and product line; CMDB-owned clusters are read-only through the legacy routes.

use std::collections::{HashMap, HashSet};

use std::time::Duration;

use common::{
    audit::{NewEvent, Origin},
    auth::{Actor, Claims},
    db::DbConnection,
    limits,
    time::now_utc,
};

use super::{
    PageRequest, RESOURCES_SCOPE, RESOURCES_WRITE, RecordKind, ResourceError, ResourceResult,
    ResourceService, WriteChannel,
    audit::{self, Audited, deleted, saved},
    require_admin, require_operator, require_reader, validate,
};
use crate::db::models::{
    catalog::{ApplicationRow, applications, cluster_types, envs},
    cluster_deletions,
    resources::{
        ClusterRow, HostRow, SOURCE_AOS, SOURCE_CMDB, binding_queries, cluster_queries,
        host_queries,
    },
};

/// How long an announced cluster deletion holds off new bindings.
pub const DELETION_LEASE: Duration = Duration::from_secs(30);

/// The type of clusters that have none of the CMDB types.
pub const OTHER_CLUSTER_TYPE: &str = "其它";

/// What a caller sends to create or edit a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterFields {
    pub name: String,
    pub remark: String,
    pub cluster_type: String,
    pub env_id: String,
    pub app_id: String,
}

/// A cluster with the names of its environment and application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterView {
    pub row: ClusterRow,
    pub env_name: String,
    pub app_name: String,
    /// A delete of the cluster is under way: nothing may be bound to it.
    pub deleting: bool,
}

/// Checked fields of a cluster, with its application.
struct CheckedCluster {
    name: String,
    remark: String,
    cluster_type: String,
    env_id: String,
    app: ApplicationRow,
}

fn check_fields(
    connection: &mut DbConnection,
    fields: &ClusterFields,
) -> ResourceResult<CheckedCluster> {
    let name = validate::name("name", &fields.name)?;
    limits::check("type", fields.cluster_type.trim(), limits::NAME)?;
    let cluster_type = match fields.cluster_type.trim() {
        "" => OTHER_CLUSTER_TYPE.to_owned(),
        other => other.to_owned(),
    };
    if cluster_type != OTHER_CLUSTER_TYPE
        && cluster_types::find(connection, &cluster_type)?.is_none()
    {
        let known: Vec<String> = cluster_types::list(connection)?
            .into_iter()
            .map(|row| row.type_key)
            .collect();
        return Err(ResourceError::Invalid {
            field: "type",
            message: format!(
                "{cluster_type:?} is not a cluster type (known: {}, {OTHER_CLUSTER_TYPE})",
                known.join(", ")
            ),
        });
    }
    let env_id = validate::reference("env_id", &fields.env_id)?;
    if envs::find(connection, &env_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::Env,
            id: env_id,
        });
    }
    let app_id = validate::reference("app_id", &fields.app_id)?;
    let app = applications::find(connection, &app_id)?.ok_or(ResourceError::NotFound {
        kind: RecordKind::Application,
        id: app_id,
    })?;
    Ok(CheckedCluster {
        name,
        remark: validate::text("remark", &fields.remark, limits::REMARK)?,
        cluster_type,
        env_id,
        app,
    })
}

/// Names of environments and applications, looked up once each.
#[derive(Default)]
pub(crate) struct NameCache {
    envs: HashMap<String, String>,
    apps: HashMap<String, String>,
}

impl NameCache {
    pub(crate) fn env(
        &mut self,
        connection: &mut DbConnection,
        id: &str,
    ) -> ResourceResult<String> {
        let find = |connection: &mut DbConnection, id: &str| envs::find(connection, id);
        Self::cached(&mut self.envs, connection, id, |row| row.name, find)
    }

    pub(crate) fn app(
        &mut self,
        connection: &mut DbConnection,
        id: &str,
    ) -> ResourceResult<String> {
        let find = |connection: &mut DbConnection, id: &str| applications::find(connection, id);
        Self::cached(&mut self.apps, connection, id, |row| row.name, find)
    }

    /// The name of `id` in `names`, else found (empty for an unknown id) and kept there.
    fn cached<Row>(
        names: &mut HashMap<String, String>,
        connection: &mut DbConnection,
        id: &str,
        name_of: fn(Row) -> String,
        find: impl FnOnce(&mut DbConnection, &str) -> diesel::QueryResult<Option<Row>>,
    ) -> ResourceResult<String> {
        if let Some(name) = names.get(id) {
            return Ok(name.clone());
        }
        let name = find(connection, id)?.map(name_of).unwrap_or_default();
        names.insert(id.to_owned(), name.clone());
        Ok(name)
    }
}

pub(crate) fn cluster_views(
    connection: &mut DbConnection,
    deleting: &HashSet<String>,
    rows: Vec<ClusterRow>,
) -> ResourceResult<Vec<ClusterView>> {
    let mut names = NameCache::default();
    rows.into_iter()
        .map(|row| {
            let env_name = names.env(connection, &row.env_id)?;
            let app_name = names.app(connection, &row.app_id)?;
            Ok(ClusterView {
                deleting: deleting.contains(&row.id),
                row,
                env_name,
                app_name,
            })
        })
        .collect()
}

/// Clusters whose delete is announced now. A reader must take them BEFORE it reads cluster rows:
/// a delete removes its row and withdraws its announcement in one transaction, so a row still
/// read after an empty answer here was read before that delete ended, and an announcement made
/// after this read comes before the delete asks jobs for bindings, which then sees the reader's
/// binding. Read the other way round, a row read just before a delete ended and an announcement
/// read just after (withdrawn) made a deleted cluster look standing: a step stayed bound to it.
pub(crate) fn announced_deletions(
    connection: &mut DbConnection,
) -> ResourceResult<HashSet<String>> {
    Ok(cluster_deletions::all_under_way(connection, now_utc())?
        .into_iter()
        .collect())
}

/// The view of one row just written (in the writer's transaction, so nothing races it).
fn written_view(connection: &mut DbConnection, row: ClusterRow) -> ResourceResult<ClusterView> {
    let deleting = announced_deletions(connection)?;
    // One row in, one view out.
    Ok(cluster_views(connection, &deleting, vec![row])?.remove(0))
}

/// Whether clusters read may be kept (see [`ResourceService::clusters_read_through`]).
fn no_deletion_under_way(views: &[ClusterView]) -> bool {
    !views.iter().any(|view| view.deleting)
}

fn found_cluster(connection: &mut DbConnection, id: &str) -> ResourceResult<ClusterRow> {
    cluster_queries::find(connection, id)?.ok_or_else(|| ResourceError::NotFound {
        kind: RecordKind::Cluster,
        id: id.to_owned(),
    })
}

fn refuse_cmdb(
    row: &ClusterRow,
    channel: WriteChannel,
    action: &'static str,
) -> ResourceResult<()> {
    if channel == WriteChannel::Aos && row.source == SOURCE_CMDB {
        return Err(ResourceError::CmdbOwned {
            kind: RecordKind::Cluster,
            id: row.id.clone(),
            action,
        });
    }
    Ok(())
}

fn check_unique_name(
    connection: &mut DbConnection,
    checked: &CheckedCluster,
    id: &str,
) -> ResourceResult<()> {
    if let Some(other) = cluster_queries::find_same_name(
        connection,
        &checked.env_id,
        &checked.app.id,
        &checked.name,
        id,
    )? {
        return Err(ResourceError::Conflict(
            super::ConflictKind::ClusterNameTaken,
            format!(
                "a cluster named {:?} already exists for this application and environment ({})",
                checked.name, other.id
            ),
        ));
    }
    Ok(())
}

/// Creates (or, through the admin channel, upserts by id) a cluster; answers the row it replaced
/// (`None`: created) and the view of the saved one.
pub(crate) fn save_cluster_in(
    connection: &mut DbConnection,
    actor: &str,
    id: Option<String>,
    fields: &ClusterFields,
    channel: WriteChannel,
) -> ResourceResult<(Option<ClusterRow>, ClusterView)> {
    let checked = check_fields(connection, fields)?;
    let id = match id {
        Some(id) => id,
        None => common::ids::new_id(),
    };
    check_unique_name(connection, &checked, &id)?;
    let now = now_utc();
    let source = match channel {
        WriteChannel::Aos => SOURCE_AOS,
        WriteChannel::Admin => SOURCE_CMDB,
    };
    let before = cluster_queries::find(connection, &id)?;
    let row = match before.clone() {
        Some(existing) => {
            let row = ClusterRow {
                name: checked.name,
                remark: checked.remark,
                cluster_type: checked.cluster_type,
                env_id: checked.env_id,
                app_id: checked.app.id,
                source: source.to_owned(),
                mender: actor.to_owned(),
                update_time: now,
                ..existing
            };
            cluster_queries::update(connection, &row)?;
            row
        }
        None => {
            let row = ClusterRow {
                id,
                name: checked.name,
                remark: checked.remark,
                cluster_type: checked.cluster_type,
                env_id: checked.env_id,
                app_id: checked.app.id,
                source: source.to_owned(),
                creator: actor.to_owned(),
                create_time: now,
                mender: actor.to_owned(),
                update_time: now,
            };
            cluster_queries::insert(connection, &row)?;
            row
        }
    };
    Ok((before, written_view(connection, row)?))
}

/// Binds hosts (by id) to a cluster; each must exist and share the cluster's environment and
/// product line. Binding twice changes nothing. Answers the cluster.
pub(crate) fn bind_hosts_in(
    connection: &mut DbConnection,
    cluster_id: &str,
    host_ids: &[String],
) -> ResourceResult<ClusterRow> {
    let cluster = found_cluster(connection, cluster_id)?;
    let product_line_id = applications::find(connection, &cluster.app_id)?
        .map(|app| app.product_line_id)
        .unwrap_or_default();
    let now = now_utc();
    for host_id in host_ids {
        let host =
            host_queries::find(connection, host_id)?.ok_or_else(|| ResourceError::NotFound {
                kind: RecordKind::Host,
                id: host_id.clone(),
            })?;
        if host.env_id != cluster.env_id || host.product_line_id != product_line_id {
            return Err(ResourceError::Conflict(
                super::ConflictKind::HostOutsideCluster,
                format!(
                    "host {} ({}) is not in the environment and product line of cluster {:?}",
                    host.host_ip, host.id, cluster.name
                ),
            ));
        }
        binding_queries::bind(connection, &cluster.id, &host.id, now)?;
    }
    Ok(cluster)
}

/// The event of binding (`bound`) or unbinding `host_ids` to or from `cluster`.
fn binding_event(
    origin: &Origin,
    cluster: &ClusterRow,
    host_ids: &[String],
    bound: bool,
) -> NewEvent {
    let hosts = serde_json::to_string(host_ids).unwrap_or_default();
    let (action, before, after) = if bound {
        ("cluster.bind_hosts", None, Some(hosts.as_str()))
    } else {
        ("cluster.unbind_hosts", Some(hosts.as_str()), None)
    };
    NewEvent::new(origin, action, ClusterRow::KIND, &cluster.id)
        .app(Some(&cluster.app_id))
        .env(Some(&cluster.env_id))
        .change(audit::change("hosts", before, after))
}

impl ResourceService {
    /// 8.1.4 (legacy channel) or the admin route: creates a cluster.
    pub async fn create_cluster(
        &self,
        actor: &Claims,
        id: Option<&str>,
        fields: ClusterFields,
        channel: WriteChannel,
    ) -> ResourceResult<ClusterView> {
        let id = channel.new_record_id(actor, id)?;
        let origin = Origin::of(actor);
        let action = match channel {
            WriteChannel::Aos => "cluster.create",
            WriteChannel::Admin => "cluster.save",
        };
        let actor = actor.username().to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let (before, view) = save_cluster_in(connection, &actor, id, &fields, channel)?;
                let event = saved(&origin, action, before.as_ref(), &view.row);
                audit::append(connection, event)?;
                Ok(view)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.1.10: edits a cluster (not a CMDB one through the legacy channel).
    pub async fn update_cluster(
        &self,
        actor: &Claims,
        id: &str,
        fields: ClusterFields,
        channel: WriteChannel,
    ) -> ResourceResult<ClusterView> {
        match channel {
            WriteChannel::Aos => require_operator(actor)?,
            WriteChannel::Admin => require_admin(actor)?,
        }
        let origin = Origin::of(actor);
        let actor = actor.username().to_owned();
        let id = id.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let existing = found_cluster(connection, &id)?;
                refuse_cmdb(&existing, channel, "edited")?;
                let before = existing.clone();
                let checked = check_fields(connection, &fields)?;
                check_unique_name(connection, &checked, &id)?;
                let row = ClusterRow {
                    name: checked.name,
                    remark: checked.remark,
                    cluster_type: checked.cluster_type,
                    env_id: checked.env_id,
                    app_id: checked.app.id,
                    mender: actor,
                    update_time: now_utc(),
                    ..existing
                };
                cluster_queries::update(connection, &row)?;
                let event = saved(&origin, "cluster.update", Some(&before), &row);
                audit::append(connection, event)?;
                written_view(connection, row)
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.1.9: deletes a cluster and its host bindings (not a CMDB one through the legacy
    /// channel), refused (`cluster_in_use`, naming the instances) while a job step is bound to it.
    ///
    /// The jobs service owns the step bindings, so the delete runs in three moves that close the
    /// race with a binding made meanwhile: announce the deletion (for [`DELETION_LEASE`]), ask
    /// jobs whether anything is bound, then delete while the announcement stands. Jobs writes a
    /// binding first and checks the cluster after, taking it back when a deletion is announced:
    /// whichever comes second sees the other.
    pub async fn delete_cluster(
        &self,
        actor: &Actor,
        id: &str,
        channel: WriteChannel,
    ) -> ResourceResult<ClusterRow> {
        match channel {
            WriteChannel::Aos => require_operator(&actor.claims)?,
            WriteChannel::Admin => require_admin(&actor.claims)?,
        }
        let cluster_id = id.to_owned();
        let announced = now_utc();
        let announcement = self
            .database
            .transaction(move |connection| {
                let existing = found_cluster(connection, &cluster_id)?;
                refuse_cmdb(&existing, channel, "deleted")?;
                let until = announced + DELETION_LEASE;
                cluster_deletions::announce(connection, &cluster_id, until)?;
                Ok::<_, ResourceError>(())
            })
            .await;
        // 8.1.3 shows the cluster as being deleted (and answers showing it are not kept while
        // the announcement stands: it ends by itself).
        self.reads.written(RESOURCES_WRITE, announcement).await?;
        let checked = tokio::time::timeout(
            DELETION_LEASE / 2,
            self.cluster_usage.check_unused(&actor.token, id),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ResourceError::Unavailable(format!(
                "the jobs service did not confirm in time that cluster {id:?} is unused; try again"
            )))
        });
        let cluster_id = id.to_owned();
        let origin = Origin::of(&actor.claims);
        let outcome = match checked {
            Ok(()) => {
                self.database
                    .transaction(move |connection| {
                        let announced = [cluster_id.clone()];
                        let standing =
                            !cluster_deletions::under_way(connection, &announced, now_utc())?
                                .is_empty();
                        // Read after the announcement: when a concurrent delete that went
                        // through withdrew it, the cluster is gone (`cluster_not_found`).
                        let existing = found_cluster(connection, &cluster_id)?;
                        if !standing {
                            return Err(ResourceError::Unavailable(format!(
                                "the deletion of cluster {cluster_id:?} took too long; try again"
                            )));
                        }
                        binding_queries::unbind_cluster(connection, &cluster_id)?;
                        cluster_queries::delete(connection, &cluster_id)?;
                        cluster_deletions::withdraw(connection, &cluster_id)?;
                        audit::append(connection, deleted(&origin, "cluster.delete", &existing))?;
                        Ok(existing)
                    })
                    .await
            }
            Err(refusal) => Err(refusal),
        };
        if outcome.is_err() {
            let cluster_id = id.to_owned();
            let withdrawn = self
                .database
                .run(move |connection| {
                    cluster_deletions::withdraw(connection, &cluster_id)
                        .map_err(ResourceError::from)
                })
                .await;
            if let Err(error) = withdrawn {
                tracing::warn!(cluster = %id, %error, "cannot withdraw a cluster deletion; it expires on its own");
            }
        }
        // Deleted, or the announcement withdrawn: either way 8.1.3 changes.
        self.reads.changed(RESOURCES_WRITE).await;
        outcome
    }

    /// 8.1.3: one page of clusters, by application and name fragment; and the total count.
    pub async fn query_clusters(
        &self,
        actor: &Claims,
        app_id: Option<&str>,
        name: Option<&str>,
        page: PageRequest,
    ) -> ResourceResult<(i64, Vec<ClusterView>)> {
        require_reader(actor)?;
        let app_id = validate::filter_id(app_id);
        let name = validate::filter_text(name);
        let read = format!("clusters\n{app_id:?}\n{name:?}\n{page:?}");
        let load = self.database.run(move |connection| {
            let deleting = announced_deletions(connection)?;
            let (count, rows) = cluster_queries::page(
                connection,
                app_id.as_deref(),
                name.as_deref(),
                page.offset(),
                page.limit(),
            )?;
            Ok((count, cluster_views(connection, &deleting, rows)?))
        });
        let steady = |(_, views): &(i64, Vec<ClusterView>)| no_deletion_under_way(views);
        self.reads
            .read_through_if(&[RESOURCES_SCOPE], &read, steady, load)
            .await
    }

    /// `load` (clusters), or what was kept for `read`; a list that shows a deletion under way is
    /// not kept, since the announcement may lapse without a write.
    async fn clusters_read_through(
        &self,
        read: &str,
        load: impl std::future::Future<Output = ResourceResult<Vec<ClusterView>>>,
    ) -> ResourceResult<Vec<ClusterView>> {
        let steady = |views: &Vec<ClusterView>| no_deletion_under_way(views);
        self.reads
            .read_through_if(&[RESOURCES_SCOPE], read, steady, load)
            .await
    }

    /// 8.2.2 and the jobs service: clusters, optionally of one environment and/or application.
    pub async fn list_clusters(
        &self,
        actor: &Claims,
        env_id: Option<&str>,
        app_id: Option<&str>,
    ) -> ResourceResult<Vec<ClusterView>> {
        require_reader(actor)?;
        let env_id = validate::filter_id(env_id);
        let app_id = validate::filter_id(app_id);
        let read = format!("cluster list\n{env_id:?}\n{app_id:?}");
        let load = self.database.run(move |connection| {
            let deleting = announced_deletions(connection)?;
            let rows = cluster_queries::list(connection, env_id.as_deref(), app_id.as_deref())?;
            cluster_views(connection, &deleting, rows)
        });
        self.clusters_read_through(&read, load).await
    }

    /// Clusters by id (unknown ids are left out), in the order asked.
    pub async fn get_clusters(
        &self,
        actor: &Claims,
        ids: Vec<String>,
    ) -> ResourceResult<Vec<ClusterView>> {
        require_reader(actor)?;
        let read = format!("clusters by id\n{ids:?}");
        let load = self.database.run(move |connection| {
            let deleting = announced_deletions(connection)?;
            let mut rows = cluster_queries::find_many(connection, &ids)?;
            rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
            cluster_views(connection, &deleting, rows)
        });
        self.clusters_read_through(&read, load).await
    }

    /// 8.1.5: hosts of the cluster's environment and product line not bound to it yet.
    pub async fn cluster_host_candidates(
        &self,
        actor: &Claims,
        cluster_id: &str,
    ) -> ResourceResult<Vec<HostRow>> {
        require_reader(actor)?;
        let cluster_id = cluster_id.to_owned();
        let read = format!("host candidates\n{cluster_id}");
        let load = self.database.run(move |connection| {
            let cluster = found_cluster(connection, &cluster_id)?;
            let product_line_id = applications::find(connection, &cluster.app_id)?
                .map(|app| app.product_line_id)
                .unwrap_or_default();
            Ok(host_queries::unbound_candidates(
                connection,
                &cluster.env_id,
                &product_line_id,
                &cluster.id,
            )?)
        });
        self.reads
            .read_through(&[RESOURCES_SCOPE], &read, load)
            .await
    }

    /// 8.1.6: hosts bound to the cluster.
    pub async fn cluster_hosts(
        &self,
        actor: &Claims,
        cluster_id: &str,
    ) -> ResourceResult<Vec<HostRow>> {
        require_reader(actor)?;
        let cluster_id = cluster_id.to_owned();
        let read = format!("hosts of cluster\n{cluster_id}");
        let load = self.database.run(move |connection| {
            found_cluster(connection, &cluster_id)?;
            Ok(binding_queries::hosts_of_cluster(connection, &cluster_id)?)
        });
        self.reads
            .read_through(&[RESOURCES_SCOPE], &read, load)
            .await
    }

    /// 8.1.7: binds hosts to a cluster (idempotent; all or nothing).
    pub async fn bind_hosts(
        &self,
        actor: &Claims,
        cluster_id: &str,
        host_ids: Vec<String>,
    ) -> ResourceResult<()> {
        require_operator(actor)?;
        let origin = Origin::of(actor);
        let cluster_id = cluster_id.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let cluster = bind_hosts_in(connection, &cluster_id, &host_ids)?;
                audit::append(
                    connection,
                    binding_event(&origin, &cluster, &host_ids, true),
                )?;
                Ok(())
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }

    /// 8.1.8: unbinds hosts from a cluster (idempotent; unknown host ids fail, naming them).
    pub async fn unbind_hosts(
        &self,
        actor: &Claims,
        cluster_id: &str,
        host_ids: Vec<String>,
    ) -> ResourceResult<()> {
        require_operator(actor)?;
        let origin = Origin::of(actor);
        let cluster_id = cluster_id.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let cluster = found_cluster(connection, &cluster_id)?;
                for host_id in &host_ids {
                    if host_queries::find(connection, host_id)?.is_none() {
                        return Err(ResourceError::NotFound {
                            kind: RecordKind::Host,
                            id: host_id.clone(),
                        });
                    }
                    binding_queries::unbind(connection, &cluster.id, host_id)?;
                }
                audit::append(
                    connection,
                    binding_event(&origin, &cluster, &host_ids, false),
                )?;
                Ok(())
            })
            .await;
        self.reads.written(RESOURCES_WRITE, written).await
    }
}
