//! Catalog import (`tad import FILE.yaml`): users, product lines, applications, modules,
//! environments and cluster types upserted by id (users by username) in one transaction, so a
//! file lands whole or not at all, and loading it twice changes nothing.

use common::auth::Claims;

use super::{
    ResourceResult, ResourceService,
    catalog::{
        ApplicationInput, ClusterTypeInput, EnvInput, ModuleInput, ProductLineInput,
        upsert_application_in, upsert_cluster_type_in, upsert_env_in, upsert_module_in,
        upsert_product_line_in,
    },
    require_admin,
    users::{UserInput, upsert_user_in},
};

/// A whole catalog, checked field by field.
#[derive(Debug, Clone, Default)]
pub struct CatalogImport {
    pub users: Vec<UserInput>,
    pub product_lines: Vec<ProductLineInput>,
    pub applications: Vec<ApplicationInput>,
    pub modules: Vec<ModuleInput>,
    pub envs: Vec<EnvInput>,
    pub cluster_types: Vec<ClusterTypeInput>,
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
        self.database
            .transaction(move |connection| {
                let summary = ImportSummary {
                    users: catalog.users.len(),
                    product_lines: catalog.product_lines.len(),
                    applications: catalog.applications.len(),
                    modules: catalog.modules.len(),
                    envs: catalog.envs.len(),
                    cluster_types: catalog.cluster_types.len(),
                };
                for user in catalog.users {
                    upsert_user_in(
                        connection,
                        &actor,
                        user.username,
                        user.roles_json,
                        user.password_hash,
                    )?;
                }
                for input in catalog.product_lines {
                    upsert_product_line_in(connection, &actor, input)?;
                }
                for input in catalog.applications {
                    upsert_application_in(connection, &actor, input)?;
                }
                for input in catalog.modules {
                    upsert_module_in(connection, &actor, input)?;
                }
                for input in catalog.envs {
                    upsert_env_in(connection, &actor, input)?;
                }
                for input in catalog.cluster_types {
                    upsert_cluster_type_in(connection, input)?;
                }
                Ok(summary)
            })
            .await
    }
}
