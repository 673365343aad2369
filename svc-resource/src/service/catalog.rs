//! Product lines, applications, modules, environments and cluster types: admin upserts (keyed by
//! id, so imports are idempotent), reads for every role, and deletes that refuse to orphan.
//! Each write is a plain function on a connection so an import can run many in one transaction.

use common::{
    auth::Claims,
    db::{DbConnection, insert_unless_taken},
    limits,
    time::now_utc,
};

use super::{
    RecordKind, ResourceError, ResourceResult, ResourceService, require_admin, require_reader,
    validate,
};
use crate::db::models::catalog::{
    self, ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow, applications,
    cluster_types, envs, modules, product_lines,
};
use crate::db::models::resources::{cluster_queries, host_queries};

/// How many dependents a refusal names at most.
const NAMED_DEPENDENTS: usize = 10;

fn describe<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    items
        .take(NAMED_DEPENDENTS)
        .map(|(id, name)| format!("{name} ({id})"))
        .collect()
}

/// A product line to create or update, checked.
#[derive(Debug, Clone)]
pub struct ProductLineInput {
    pub id: String,
    pub name: String,
}

impl ProductLineInput {
    pub fn new(id: Option<&str>, name: &str) -> ResourceResult<Self> {
        Ok(ProductLineInput {
            id: validate::id_or_new("id", id)?,
            name: validate::name("name", name)?,
        })
    }
}

/// An application to create or update, checked.
#[derive(Debug, Clone)]
pub struct ApplicationInput {
    pub id: String,
    pub name: String,
    pub product_line_id: String,
}

impl ApplicationInput {
    pub fn new(id: Option<&str>, name: &str, product_line_id: &str) -> ResourceResult<Self> {
        Ok(ApplicationInput {
            id: validate::id_or_new("id", id)?,
            name: validate::name("name", name)?,
            product_line_id: validate::reference("product_line_id", product_line_id)?,
        })
    }
}

/// A module to create or update, checked.
#[derive(Debug, Clone)]
pub struct ModuleInput {
    pub id: String,
    pub name: String,
    pub application_id: String,
}

impl ModuleInput {
    pub fn new(id: Option<&str>, name: &str, application_id: &str) -> ResourceResult<Self> {
        Ok(ModuleInput {
            id: validate::id_or_new("id", id)?,
            name: validate::name("name", name)?,
            application_id: validate::reference("application_id", application_id)?,
        })
    }
}

/// An environment to create or update, checked.
#[derive(Debug, Clone)]
pub struct EnvInput {
    pub id: String,
    pub name: String,
    pub remark: String,
}

impl EnvInput {
    pub fn new(id: Option<&str>, name: &str, remark: &str) -> ResourceResult<Self> {
        Ok(EnvInput {
            id: validate::id_or_new("id", id)?,
            name: validate::name("name", name)?,
            remark: validate::text("remark", remark, limits::REMARK)?,
        })
    }
}

/// A cluster type to create or update, checked.
#[derive(Debug, Clone)]
pub struct ClusterTypeInput {
    pub key: String,
    pub value: String,
}

impl ClusterTypeInput {
    pub fn new(key: &str, value: &str) -> ResourceResult<Self> {
        Ok(ClusterTypeInput {
            key: validate::name("key", key)?,
            value: validate::name("value", value)?,
        })
    }
}

/// Inserts `fresh` when no row has its key, else writes `updated(existing)`. A row another request
/// inserted after the first look counts as existing (see `insert_unless_taken`), so two imports
/// or two admins creating the same id at once both succeed.
fn insert_or_update<Row>(
    connection: &mut DbConnection,
    find: impl Fn(&mut DbConnection) -> diesel::QueryResult<Option<Row>>,
    insert: impl FnOnce(&mut DbConnection, &Row) -> diesel::QueryResult<()>,
    update: impl FnOnce(&mut DbConnection, &Row) -> diesel::QueryResult<()>,
    fresh: Row,
    updated: impl FnOnce(Row) -> Row,
) -> ResourceResult<Row> {
    if find(connection)?.is_none()
        && insert_unless_taken(connection, |connection| insert(connection, &fresh))?
    {
        return Ok(fresh);
    }
    let existing = find(connection)?.ok_or(diesel::result::Error::NotFound)?;
    let row = updated(existing);
    update(connection, &row)?;
    Ok(row)
}

pub(crate) fn upsert_product_line_in(
    connection: &mut DbConnection,
    actor: &str,
    input: ProductLineInput,
) -> ResourceResult<ProductLineRow> {
    let now = now_utc();
    let ProductLineInput { id, name } = input;
    let fresh = ProductLineRow {
        id: id.clone(),
        name: name.clone(),
        creator: actor.to_owned(),
        create_time: now,
        mender: actor.to_owned(),
        update_time: now,
    };
    insert_or_update(
        connection,
        |connection| product_lines::find(connection, &id),
        product_lines::insert,
        product_lines::update,
        fresh,
        |existing| ProductLineRow {
            name,
            mender: actor.to_owned(),
            update_time: now,
            ..existing
        },
    )
}

pub(crate) fn upsert_application_in(
    connection: &mut DbConnection,
    actor: &str,
    input: ApplicationInput,
) -> ResourceResult<ApplicationRow> {
    let ApplicationInput {
        id,
        name,
        product_line_id,
    } = input;
    if product_lines::find(connection, &product_line_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::ProductLine,
            id: product_line_id,
        });
    }
    let now = now_utc();
    let fresh = ApplicationRow {
        id: id.clone(),
        name: name.clone(),
        product_line_id: product_line_id.clone(),
        creator: actor.to_owned(),
        create_time: now,
        mender: actor.to_owned(),
        update_time: now,
    };
    insert_or_update(
        connection,
        |connection| applications::find(connection, &id),
        applications::insert,
        applications::update,
        fresh,
        |existing| ApplicationRow {
            name,
            product_line_id,
            mender: actor.to_owned(),
            update_time: now,
            ..existing
        },
    )
}

pub(crate) fn upsert_module_in(
    connection: &mut DbConnection,
    actor: &str,
    input: ModuleInput,
) -> ResourceResult<ModuleRow> {
    let ModuleInput {
        id,
        name,
        application_id,
    } = input;
    if applications::find(connection, &application_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::Application,
            id: application_id,
        });
    }
    let now = now_utc();
    let fresh = ModuleRow {
        id: id.clone(),
        name: name.clone(),
        application_id: application_id.clone(),
        creator: actor.to_owned(),
        create_time: now,
        mender: actor.to_owned(),
        update_time: now,
    };
    insert_or_update(
        connection,
        |connection| modules::find(connection, &id),
        modules::insert,
        modules::update,
        fresh,
        |existing| ModuleRow {
            name,
            application_id,
            mender: actor.to_owned(),
            update_time: now,
            ..existing
        },
    )
}

pub(crate) fn upsert_env_in(
    connection: &mut DbConnection,
    actor: &str,
    input: EnvInput,
) -> ResourceResult<EnvRow> {
    let EnvInput { id, name, remark } = input;
    let now = now_utc();
    let fresh = EnvRow {
        id: id.clone(),
        name: name.clone(),
        remark: remark.clone(),
        creator: actor.to_owned(),
        create_time: now,
        mender: actor.to_owned(),
        update_time: now,
    };
    insert_or_update(
        connection,
        |connection| envs::find(connection, &id),
        envs::insert,
        envs::update,
        fresh,
        |existing| EnvRow {
            name,
            remark,
            mender: actor.to_owned(),
            update_time: now,
            ..existing
        },
    )
}

pub(crate) fn upsert_cluster_type_in(
    connection: &mut DbConnection,
    input: ClusterTypeInput,
) -> ResourceResult<ClusterTypeRow> {
    let ClusterTypeInput { key, value } = input;
    let fresh = ClusterTypeRow {
        type_key: key.clone(),
        type_value: value.clone(),
        create_time: now_utc(),
    };
    insert_or_update(
        connection,
        |connection| cluster_types::find(connection, &key),
        cluster_types::insert,
        |connection, row| cluster_types::update_value(connection, &row.type_key, &row.type_value),
        fresh,
        |existing| ClusterTypeRow {
            type_value: value,
            ..existing
        },
    )
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
        let input = ProductLineInput::new(id, name)?;
        let actor = actor.username().to_owned();
        self.database
            .transaction(move |connection| upsert_product_line_in(connection, &actor, input))
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
                let hosts = host_queries::count_in_product_line(connection, &id)?;
                if hosts > 0 {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::ProductLine,
                        id,
                        dependent_kind: RecordKind::Host,
                        dependents: vec![format!("{hosts} host(s)")],
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
        let input = ApplicationInput::new(id, name, product_line_id)?;
        let actor = actor.username().to_owned();
        self.database
            .transaction(move |connection| upsert_application_in(connection, &actor, input))
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
                let clusters = cluster_queries::list(connection, None, Some(&id))?;
                if !clusters.is_empty() {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::Application,
                        id,
                        dependent_kind: RecordKind::Cluster,
                        dependents: describe(clusters.iter().map(|row| (&row.id, &row.name))),
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
        let input = ModuleInput::new(id, name, application_id)?;
        let actor = actor.username().to_owned();
        self.database
            .transaction(move |connection| upsert_module_in(connection, &actor, input))
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
        self.delete_simple(actor, RecordKind::Module, id, modules::delete)
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
        let input = EnvInput::new(id, name, remark)?;
        let actor = actor.username().to_owned();
        self.database
            .transaction(move |connection| upsert_env_in(connection, &actor, input))
            .await
    }

    pub async fn list_envs(&self, actor: &Claims) -> ResourceResult<Vec<EnvRow>> {
        require_reader(actor)?;
        self.database
            .run(|connection| Ok(envs::list(connection)?))
            .await
    }

    /// Deletes an environment that no cluster or host is in.
    pub async fn delete_env(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                let clusters = cluster_queries::list(connection, Some(&id), None)?;
                if !clusters.is_empty() {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::Env,
                        id,
                        dependent_kind: RecordKind::Cluster,
                        dependents: describe(clusters.iter().map(|row| (&row.id, &row.name))),
                    });
                }
                let hosts = host_queries::count_in_env(connection, &id)?;
                if hosts > 0 {
                    return Err(ResourceError::InUse {
                        kind: RecordKind::Env,
                        id,
                        dependent_kind: RecordKind::Host,
                        dependents: vec![format!("{hosts} host(s)")],
                    });
                }
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
        let input = ClusterTypeInput::new(key, value)?;
        self.database
            .transaction(move |connection| upsert_cluster_type_in(connection, input))
            .await
    }

    pub async fn list_cluster_types(&self, actor: &Claims) -> ResourceResult<Vec<ClusterTypeRow>> {
        require_reader(actor)?;
        self.database
            .run(|connection| Ok(cluster_types::list(connection)?))
            .await
    }

    pub async fn delete_cluster_type(&self, actor: &Claims, key: &str) -> ResourceResult<()> {
        self.delete_simple(actor, RecordKind::ClusterType, key, cluster_types::delete)
            .await
    }

    /// Deletes a record nothing in this service depends on; unknown ids fail naming them.
    async fn delete_simple(
        &self,
        actor: &Claims,
        kind: RecordKind,
        id: &str,
        delete: fn(&mut DbConnection, &str) -> diesel::QueryResult<usize>,
    ) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                if delete(connection, &id)? == 0 {
                    return Err(ResourceError::NotFound { kind, id });
                }
                Ok(())
            })
            .await
    }
}
