//! Product lines, applications, modules, environments and cluster types: admin upserts (keyed by
//! id, so imports are idempotent), reads for every role, and deletes that refuse to orphan.

use common::{auth::Claims, time::now_utc};

use super::{
    RecordKind, ResourceError, ResourceResult, ResourceService, require_admin, require_reader,
    validate,
};
use crate::db::models::catalog::{
    self, ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow, applications,
    cluster_types, envs, modules, product_lines,
};

/// How many dependents a refusal names at most.
const NAMED_DEPENDENTS: usize = 10;

fn describe<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    items
        .take(NAMED_DEPENDENTS)
        .map(|(id, name)| format!("{name} ({id})"))
        .collect()
}

impl ResourceService {
    /// Creates a product line, or renames the one with `id`.
    pub async fn upsert_product_line(
        &self,
        actor: &Claims,
        id: Option<&str>,
        name: &str,
    ) -> ResourceResult<ProductLineRow> {
        require_admin(actor)?;
        let id = validate::id_or_new("id", id)?;
        let name = validate::name("name", name)?;
        let actor_name = actor.username().to_owned();
        self.database
            .transaction(move |connection| {
                let now = now_utc();
                let row = match product_lines::find(connection, &id)? {
                    Some(existing) => {
                        let row = ProductLineRow {
                            name,
                            mender: actor_name,
                            update_time: now,
                            ..existing
                        };
                        product_lines::update(connection, &row)?;
                        row
                    }
                    None => {
                        let row = ProductLineRow {
                            id,
                            name,
                            creator: actor_name.clone(),
                            create_time: now,
                            mender: actor_name,
                            update_time: now,
                        };
                        product_lines::insert(connection, &row)?;
                        row
                    }
                };
                Ok(row)
            })
            .await
    }

    pub async fn list_product_lines(&self, actor: &Claims) -> ResourceResult<Vec<ProductLineRow>> {
        require_reader(actor)?;
        self.database
            .run(|connection| Ok(product_lines::list(connection)?))
            .await
    }

    /// Deletes a product line that no application belongs to.
    pub async fn delete_product_line(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                let dependents = catalog::applications_of_product_line(connection, &id)?;
                if !dependents.is_empty() {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::ProductLine,
                        id,
                        dependent_kind: RecordKind::Application,
                        dependents: describe(dependents.iter().map(|row| (&row.id, &row.name))),
                    });
                }
                if product_lines::delete(connection, &id)? == 0 {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::ProductLine,
                        id,
                    });
                }
                Ok(())
            })
            .await
    }

    /// Creates an application of an existing product line, or updates the one with `id`.
    pub async fn upsert_application(
        &self,
        actor: &Claims,
        id: Option<&str>,
        name: &str,
        product_line_id: &str,
    ) -> ResourceResult<ApplicationRow> {
        require_admin(actor)?;
        let id = validate::id_or_new("id", id)?;
        let name = validate::name("name", name)?;
        let product_line_id = validate::reference("product_line_id", product_line_id)?;
        let actor_name = actor.username().to_owned();
        self.database
            .transaction(move |connection| {
                if product_lines::find(connection, &product_line_id)?.is_none() {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::ProductLine,
                        id: product_line_id,
                    });
                }
                let now = now_utc();
                let row = match applications::find(connection, &id)? {
                    Some(existing) => {
                        let row = ApplicationRow {
                            name,
                            product_line_id,
                            mender: actor_name,
                            update_time: now,
                            ..existing
                        };
                        applications::update(connection, &row)?;
                        row
                    }
                    None => {
                        let row = ApplicationRow {
                            id,
                            name,
                            product_line_id,
                            creator: actor_name.clone(),
                            create_time: now,
                            mender: actor_name,
                            update_time: now,
                        };
                        applications::insert(connection, &row)?;
                        row
                    }
                };
                Ok(row)
            })
            .await
    }

    /// Every application, or those of one existing product line.
    pub async fn list_applications(
        &self,
        actor: &Claims,
        product_line_id: Option<&str>,
    ) -> ResourceResult<Vec<ApplicationRow>> {
        require_reader(actor)?;
        let product_line_id = product_line_id.map(str::to_owned);
        self.database
            .run(move |connection| match product_line_id {
                None => Ok(applications::list(connection)?),
                Some(product_line_id) => {
                    if product_lines::find(connection, &product_line_id)?.is_none() {
                        return Err(ResourceError::NotFound {
                            kind: RecordKind::ProductLine,
                            id: product_line_id,
                        });
                    }
                    Ok(catalog::applications_of_product_line(
                        connection,
                        &product_line_id,
                    )?)
                }
            })
            .await
    }

    /// Deletes an application that has no modules.
    pub async fn delete_application(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                let dependents = catalog::modules_of_application(connection, &id)?;
                if !dependents.is_empty() {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::Application,
                        id,
                        dependent_kind: RecordKind::Module,
                        dependents: describe(dependents.iter().map(|row| (&row.id, &row.name))),
                    });
                }
                if applications::delete(connection, &id)? == 0 {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::Application,
                        id,
                    });
                }
                Ok(())
            })
            .await
    }

    /// Creates a module of an existing application, or updates the one with `id`.
    pub async fn upsert_module(
        &self,
        actor: &Claims,
        id: Option<&str>,
        name: &str,
        application_id: &str,
    ) -> ResourceResult<ModuleRow> {
        require_admin(actor)?;
        let id = validate::id_or_new("id", id)?;
        let name = validate::name("name", name)?;
        let application_id = validate::reference("application_id", application_id)?;
        let actor_name = actor.username().to_owned();
        self.database
            .transaction(move |connection| {
                if applications::find(connection, &application_id)?.is_none() {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::Application,
                        id: application_id,
                    });
                }
                let now = now_utc();
                let row = match modules::find(connection, &id)? {
                    Some(existing) => {
                        let row = ModuleRow {
                            name,
                            application_id,
                            mender: actor_name,
                            update_time: now,
                            ..existing
                        };
                        modules::update(connection, &row)?;
                        row
                    }
                    None => {
                        let row = ModuleRow {
                            id,
                            name,
                            application_id,
                            creator: actor_name.clone(),
                            create_time: now,
                            mender: actor_name,
                            update_time: now,
                        };
                        modules::insert(connection, &row)?;
                        row
                    }
                };
                Ok(row)
            })
            .await
    }

    /// Every module, or those of one existing application.
    pub async fn list_modules(
        &self,
        actor: &Claims,
        application_id: Option<&str>,
    ) -> ResourceResult<Vec<ModuleRow>> {
        require_reader(actor)?;
        let application_id = application_id.map(str::to_owned);
        self.database
            .run(move |connection| match application_id {
                None => Ok(modules::list(connection)?),
                Some(application_id) => {
                    if applications::find(connection, &application_id)?.is_none() {
                        return Err(ResourceError::NotFound {
                            kind: RecordKind::Application,
                            id: application_id,
                        });
                    }
                    Ok(catalog::modules_of_application(
                        connection,
                        &application_id,
                    )?)
                }
            })
            .await
    }

    pub async fn delete_module(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                if modules::delete(connection, &id)? == 0 {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::Module,
                        id,
                    });
                }
                Ok(())
            })
            .await
    }

    /// Creates an environment, or updates the one with `id`.
    pub async fn upsert_env(
        &self,
        actor: &Claims,
        id: Option<&str>,
        name: &str,
        remark: &str,
    ) -> ResourceResult<EnvRow> {
        require_admin(actor)?;
        let id = validate::id_or_new("id", id)?;
        let name = validate::name("name", name)?;
        let remark = remark.trim().to_owned();
        let actor_name = actor.username().to_owned();
        self.database
            .transaction(move |connection| {
                let now = now_utc();
                let row = match envs::find(connection, &id)? {
                    Some(existing) => {
                        let row = EnvRow {
                            name,
                            remark,
                            mender: actor_name,
                            update_time: now,
                            ..existing
                        };
                        envs::update(connection, &row)?;
                        row
                    }
                    None => {
                        let row = EnvRow {
                            id,
                            name,
                            remark,
                            creator: actor_name.clone(),
                            create_time: now,
                            mender: actor_name,
                            update_time: now,
                        };
                        envs::insert(connection, &row)?;
                        row
                    }
                };
                Ok(row)
            })
            .await
    }

    pub async fn list_envs(&self, actor: &Claims) -> ResourceResult<Vec<EnvRow>> {
        require_reader(actor)?;
        self.database
            .run(|connection| Ok(envs::list(connection)?))
            .await
    }

    pub async fn delete_env(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                if envs::delete(connection, &id)? == 0 {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::Env,
                        id,
                    });
                }
                Ok(())
            })
            .await
    }

    /// Creates the cluster type `key`, or changes its shown value.
    pub async fn upsert_cluster_type(
        &self,
        actor: &Claims,
        key: &str,
        value: &str,
    ) -> ResourceResult<ClusterTypeRow> {
        require_admin(actor)?;
        let key = validate::name("key", key)?;
        let value = validate::name("value", value)?;
        self.database
            .transaction(move |connection| {
                let row = match cluster_types::find(connection, &key)? {
                    Some(existing) => {
                        cluster_types::update_value(connection, &key, &value)?;
                        ClusterTypeRow {
                            type_value: value,
                            ..existing
                        }
                    }
                    None => {
                        let row = ClusterTypeRow {
                            type_key: key,
                            type_value: value,
                            create_time: now_utc(),
                        };
                        cluster_types::insert(connection, &row)?;
                        row
                    }
                };
                Ok(row)
            })
            .await
    }

    pub async fn list_cluster_types(&self, actor: &Claims) -> ResourceResult<Vec<ClusterTypeRow>> {
        require_reader(actor)?;
        self.database
            .run(|connection| Ok(cluster_types::list(connection)?))
            .await
    }

    pub async fn delete_cluster_type(&self, actor: &Claims, key: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let key = key.to_owned();
        self.database
            .transaction(move |connection| {
                if cluster_types::delete(connection, &key)? == 0 {
                    return Err(ResourceError::NotFound {
                        kind: RecordKind::ClusterType,
                        id: key,
                    });
                }
                Ok(())
            })
            .await
    }
}
