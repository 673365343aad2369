//! Catalog import (`tad import FILE.yaml`): users, product lines, applications, modules,
//! environments, cluster types, and CMDB clusters, hosts and bindings, upserted by id (users by
//! username) in one transaction, so a file lands whole or not at all, and loading it twice
//! changes nothing. Imported clusters and hosts are CMDB-owned.

use common::{
    audit::{Change, NewEvent, Origin},
    auth::Claims,
    db::DbConnection,
};

use super::{
    ResourceError, ResourceResult, ResourceService, WriteChannel, audit,
    catalog::{
        ApplicationInput, ClusterTypeInput, EnvInput, ModuleInput, ProductLineInput,
        upsert_application_in, upsert_cluster_type_in, upsert_env_in, upsert_module_in,
        upsert_product_line_in,
    },
    clusters::{ClusterFields, bind_hosts_in, save_cluster_in},
    governance::{GovernanceInput, set_governance_in},
    hosts::HostFields,
    require_admin,
    users::{UserInput, upsert_user_in},
};

/// A whole catalog, checked field by field where no database is needed.
#[derive(Debug, Clone, Default)]
pub struct CatalogImport {
    pub users: Vec<UserInput>,
    pub product_lines: Vec<ProductLineInput>,
    pub applications: Vec<ApplicationInput>,
    pub modules: Vec<ModuleInput>,
    pub envs: Vec<EnvInput>,
    /// The governance of environments (after `envs`).
    pub governance: Vec<GovernanceInput>,
    pub cluster_types: Vec<ClusterTypeInput>,
    /// (id, fields) of CMDB clusters.
    pub clusters: Vec<(String, ClusterFields)>,
    /// (id, fields) of CMDB hosts.
    pub hosts: Vec<(String, HostFields)>,
    /// (cluster id, host ids) to bind.
    pub bindings: Vec<(String, Vec<String>)>,
}

/// How many records of each kind were upserted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub users: usize,
    pub product_lines: usize,
    pub applications: usize,
    pub modules: usize,
    pub envs: usize,
    pub cluster_types: usize,
    pub clusters: usize,
    pub hosts: usize,
    pub bindings: usize,
}

/// The event of an import: how many records of each kind it upserted.
fn imported(origin: &Origin, summary: &ImportSummary) -> NewEvent {
    let counts = [
        ("users", summary.users),
        ("product_lines", summary.product_lines),
        ("applications", summary.applications),
        ("modules", summary.modules),
        ("envs", summary.envs),
        ("cluster_types", summary.cluster_types),
        ("clusters", summary.clusters),
        ("hosts", summary.hosts),
        ("bindings", summary.bindings),
    ];
    counts.into_iter().fold(
        NewEvent::new(origin, "catalog.import", "catalog", "catalog"),
        |event, (field, count)| event.change(Change::new(field, None, Some(&count.to_string()))),
    )
}

/// Writes the entries of one section in order with `write`; the first that fails stops the
/// import, named by its place (`section[index]`).
fn each<Entry, Written>(
    section: &str,
    entries: Vec<Entry>,
    mut write: impl FnMut(Entry) -> ResourceResult<Written>,
) -> ResourceResult<()> {
    for (index, entry) in entries.into_iter().enumerate() {
        write(entry).map_err(|error| ResourceError::Entry {
            entry: format!("{section}[{index}]"),
            source: Box::new(error),
        })?;
    }
    Ok(())
}

/// The catalog sections' writes, each an admin's upsert of one checked entry.
struct AdminWrites<'a> {
    connection: &'a mut DbConnection,
    actor: &'a str,
}

impl AdminWrites<'_> {
    /// Upserts every entry of `section` with `upsert` as the importing admin (see [`each`]).
    fn each<Input, Row>(
        &mut self,
        section: &str,
        entries: Vec<Input>,
        upsert: fn(&mut DbConnection, &str, Input) -> ResourceResult<Row>,
    ) -> ResourceResult<()> {
        each(section, entries, |input| {
            upsert(self.connection, self.actor, input)
        })
    }
}

impl ResourceService {
    /// Upserts the catalog in one transaction (parents before children).
    pub async fn import_catalog(
        &self,
        actor: &Claims,
        catalog: CatalogImport,
    ) -> ResourceResult<ImportSummary> {
        require_admin(actor)?;
        let origin = Origin::of(actor);
        let actor = actor.username().to_owned();
        let service = self.clone();
        let usernames: Vec<String> = catalog
            .users
            .iter()
            .map(|user| user.username.clone())
            .collect();
        let summary = self
            .database
            .transaction(move |connection| {
                let summary = ImportSummary {
                    users: catalog.users.len(),
                    product_lines: catalog.product_lines.len(),
                    applications: catalog.applications.len(),
                    modules: catalog.modules.len(),
                    envs: catalog.envs.len(),
                    cluster_types: catalog.cluster_types.len(),
                    clusters: catalog.clusters.len(),
                    hosts: catalog.hosts.len(),
                    bindings: catalog.bindings.iter().map(|(_, hosts)| hosts.len()).sum(),
                };
                each("users", catalog.users, |user| {
                    upsert_user_in(
                        connection,
                        &actor,
                        user.username,
                        user.roles_json,
                        user.password_hash,
                    )
                })?;
                let mut admin = AdminWrites {
                    connection,
                    actor: &actor,
                };
                admin.each(
                    "product_lines",
                    catalog.product_lines,
                    upsert_product_line_in,
                )?;
                admin.each("applications", catalog.applications, upsert_application_in)?;
                admin.each("modules", catalog.modules, upsert_module_in)?;
                admin.each("envs", catalog.envs, upsert_env_in)?;
                admin.each("envs (governance)", catalog.governance, set_governance_in)?;
                admin.each(
                    "cluster_types",
                    catalog.cluster_types,
                    |connection, _, input| upsert_cluster_type_in(connection, input),
                )?;
                each("clusters", catalog.clusters, |(id, fields)| {
                    save_cluster_in(connection, &actor, Some(id), &fields, WriteChannel::Admin)
                })?;
                each("hosts", catalog.hosts, |(id, fields)| {
                    service.save_host_in(connection, &actor, Some(id), &fields, WriteChannel::Admin)
                })?;
                each("bindings", catalog.bindings, |(cluster_id, host_ids)| {
                    bind_hosts_in(connection, &cluster_id, &host_ids)
                })?;
                audit::append(connection, imported(&origin, &summary))?;
                Ok::<_, ResourceError>(summary)
            })
            .await;
        // Catalog, clusters, hosts and bindings: everything the read cache keeps.
        let summary = self.reads.written(super::CATALOG_WRITE, summary).await?;
        // Imported users whose roles or password changed lost their sessions in the transaction;
        // every process forgets its cached answers for them.
        for username in usernames {
            self.announce(
                &username,
                common::sessions::Revocation::User(username.clone()),
            )
            .await;
        }
        Ok(summary)
    }
}
