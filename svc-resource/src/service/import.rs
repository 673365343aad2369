//! Catalog import (`tad import FILE.yaml`): users, product lines, applications, modules,
//! environments, cluster types, and CMDB clusters, hosts and bindings, upserted by id (users by
//! username) in one transaction, so a file lands whole or not at all, and loading it twice
//! changes nothing. Imported clusters and hosts are CMDB-owned.

use common::auth::Claims;

use super::{
    ResourceError, ResourceResult, ResourceService, WriteChannel,
    catalog::{
        ApplicationInput, ClusterTypeInput, EnvInput, ModuleInput, ProductLineInput,
        upsert_application_in, upsert_cluster_type_in, upsert_env_in, upsert_module_in,
        upsert_product_line_in,
    },
    clusters::{ClusterFields, bind_hosts_in, save_cluster_in},
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

fn at<T>(section: &str, index: usize, result: ResourceResult<T>) -> ResourceResult<T> {
    result.map_err(|error| ResourceError::Entry {
        entry: format!("{section}[{index}]"),
        source: Box::new(error),
    })
}

impl ResourceService {
    /// Upserts the catalog in one transaction (parents before children).
    pub async fn import_catalog(
        &self,
        actor: &Claims,
        catalog: CatalogImport,
    ) -> ResourceResult<ImportSummary> {
        require_admin(actor)?;
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
                for (index, user) in catalog.users.into_iter().enumerate() {
                    at(
                        "users",
                        index,
                        upsert_user_in(
                            connection,
                            &actor,
                            user.username,
                            user.roles_json,
                            user.password_hash,
                        ),
                    )?;
                }
                for (index, input) in catalog.product_lines.into_iter().enumerate() {
                    at(
                        "product_lines",
                        index,
                        upsert_product_line_in(connection, &actor, input),
                    )?;
                }
                for (index, input) in catalog.applications.into_iter().enumerate() {
                    at(
                        "applications",
                        index,
                        upsert_application_in(connection, &actor, input),
                    )?;
                }
                for (index, input) in catalog.modules.into_iter().enumerate() {
                    at(
                        "modules",
                        index,
                        upsert_module_in(connection, &actor, input),
                    )?;
                }
                for (index, input) in catalog.envs.into_iter().enumerate() {
                    at("envs", index, upsert_env_in(connection, &actor, input))?;
                }
                for (index, input) in catalog.cluster_types.into_iter().enumerate() {
                    at(
                        "cluster_types",
                        index,
                        upsert_cluster_type_in(connection, input),
                    )?;
                }
                for (index, (id, fields)) in catalog.clusters.into_iter().enumerate() {
                    at(
                        "clusters",
                        index,
                        save_cluster_in(connection, &actor, Some(id), &fields, WriteChannel::Admin),
                    )?;
                }
                for (index, (id, fields)) in catalog.hosts.into_iter().enumerate() {
                    at(
                        "hosts",
                        index,
                        service.save_host_in(
                            connection,
                            &actor,
                            Some(id),
                            &fields,
                            WriteChannel::Admin,
                        ),
                    )?;
                }
                for (index, (cluster_id, host_ids)) in catalog.bindings.into_iter().enumerate() {
                    at(
                        "bindings",
                        index,
                        bind_hosts_in(connection, &cluster_id, &host_ids),
                    )?;
                }
                Ok::<_, ResourceError>(summary)
            })
            .await?;
        // Imported users whose roles or password changed lost their sessions in the transaction;
        // every process forgets its cached answers for them.
        for username in usernames {
            self.announce(common::sessions::Revocation::User(username))
                .await;
        }
        Ok(summary)
    }
}
