//! Product lines, applications, modules, environments and cluster types: admin upserts (keyed by
//! id, so imports are idempotent), reads for every role, and deletes that refuse to orphan.
//! Each write is a plain function on a connection so an import can run many in one transaction.

use common::{
    audit::Origin,
    auth::Claims,
    db::{DbConnection, insert_unless_taken},
    limits,
    time::now_utc,
};

use super::{
    CATALOG_WRITE, RecordKind, ResourceError, ResourceResult, ResourceService,
    audit::{self, Audited, deleted, saved},
    require_admin, require_reader, validate,
};
use crate::db::models::catalog::{
    self, ApplicationRow, ClusterTypeRow, EnvRow, ModuleRow, ProductLineRow, applications,
    cluster_types, envs, modules, product_lines,
};
use crate::db::models::resources::{cluster_queries, host_queries};
use common::read_cache::RESOURCE_CATALOG;

/// A table's find by id.
type FindRow<Row> = fn(&mut DbConnection, &str) -> diesel::QueryResult<Option<Row>>;
/// A table's delete by id (answers the rows deleted).
type DeleteRow = fn(&mut DbConnection, &str) -> diesel::QueryResult<usize>;

/// How many dependents a refusal names at most.
const NAMED_DEPENDENTS: usize = 10;

fn describe<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    items
        .take(NAMED_DEPENDENTS)
        .map(|(id, name)| format!("{name} ({id})"))
        .collect()
}

/// How a count of hosts is named in a refusal (nothing when there are none).
fn hosts_counted(hosts: i64) -> Vec<String> {
    if hosts > 0 {
        vec![format!("{hosts} host(s)")]
    } else {
        Vec::new()
    }
}

/// Refuses to delete the `kind` record `id` while `dependents` (of `dependent_kind`) need it.
fn refuse_if_used(
    kind: RecordKind,
    id: &str,
    dependent_kind: RecordKind,
    dependents: Vec<String>,
) -> ResourceResult<()> {
    if dependents.is_empty() {
        return Ok(());
    }
    Err(ResourceError::InUse {
        kind,
        id: id.to_owned(),
        dependent_kind,
        dependents,
    })
}

/// The `kind` record `id` as `find` found it, or why it is missing.
fn must_exist<Row>(found: Option<Row>, kind: RecordKind, id: &str) -> ResourceResult<Row> {
    found.ok_or_else(|| ResourceError::NotFound {
        kind,
        id: id.to_owned(),
    })
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

/// A row as a save left it, with the row it replaced (`None`: created).
#[derive(Debug, Clone)]
pub(crate) struct Saved<Row> {
    pub before: Option<Row>,
    pub row: Row,
}

/// Inserts `fresh` when no row has its key, else writes `updated(existing)`. A row another request
/// inserted after the first look counts as existing (see `insert_unless_taken`), so two imports
/// or two admins creating the same id at once both succeed.
fn insert_or_update<Row: Clone>(
    connection: &mut DbConnection,
    find: impl Fn(&mut DbConnection) -> diesel::QueryResult<Option<Row>>,
    insert: impl FnOnce(&mut DbConnection, &Row) -> diesel::QueryResult<()>,
    update: impl FnOnce(&mut DbConnection, &Row) -> diesel::QueryResult<()>,
    fresh: Row,
    updated: impl FnOnce(Row) -> Row,
) -> ResourceResult<Saved<Row>> {
    if find(connection)?.is_none()
        && insert_unless_taken(connection, |connection| insert(connection, &fresh))?
    {
        return Ok(Saved {
            before: None,
            row: fresh,
        });
    }
    let existing = find(connection)?.ok_or(diesel::result::Error::NotFound)?;
    let row = updated(existing.clone());
    update(connection, &row)?;
    Ok(Saved {
        before: Some(existing),
        row,
    })
}

pub(crate) fn upsert_product_line_in(
    connection: &mut DbConnection,
    actor: &str,
    input: ProductLineInput,
) -> ResourceResult<Saved<ProductLineRow>> {
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
) -> ResourceResult<Saved<ApplicationRow>> {
    let ApplicationInput {
        id,
        name,
        product_line_id,
    } = input;
    must_exist(
        product_lines::find(connection, &product_line_id)?,
        RecordKind::ProductLine,
        &product_line_id,
    )?;
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
) -> ResourceResult<Saved<ModuleRow>> {
    let ModuleInput {
        id,
        name,
        application_id,
    } = input;
    must_exist(
        applications::find(connection, &application_id)?,
        RecordKind::Application,
        &application_id,
    )?;
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
) -> ResourceResult<Saved<EnvRow>> {
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
) -> ResourceResult<Saved<ClusterTypeRow>> {
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
        let input = ProductLineInput::new(id, name);
        let write = upsert_product_line_in;
        self.admin_write(actor, "product_line.save", input, write)
            .await
    }

    pub async fn list_product_lines(&self, actor: &Claims) -> ResourceResult<Vec<ProductLineRow>> {
        self.list_all(actor, "product_lines", product_lines::list)
            .await
    }

    /// Deletes a product line that no application belongs to.
    pub async fn delete_product_line(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        let kind = RecordKind::ProductLine;
        self.delete_unused(
            actor,
            ("product_line.delete", kind),
            id,
            (product_lines::find, product_lines::delete),
            move |connection, id| {
                let applications = catalog::applications_of_product_line(connection, id)?;
                let named = describe(applications.iter().map(|row| (&row.id, &row.name)));
                refuse_if_used(kind, id, RecordKind::Application, named)?;
                let hosts = host_queries::count_in_product_line(connection, id)?;
                refuse_if_used(kind, id, RecordKind::Host, hosts_counted(hosts))
            },
        )
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
        let input = ApplicationInput::new(id, name, product_line_id);
        let write = upsert_application_in;
        self.admin_write(actor, "application.save", input, write)
            .await
    }

    /// Every application, or those of one existing product line.
    pub async fn list_applications(
        &self,
        actor: &Claims,
        product_line_id: Option<&str>,
    ) -> ResourceResult<Vec<ApplicationRow>> {
        self.list_children(
            actor,
            "applications",
            product_line_id,
            applications::list,
            |connection, id| {
                let found = product_lines::find(connection, id)?;
                must_exist(found, RecordKind::ProductLine, id)?;
                Ok(catalog::applications_of_product_line(connection, id)?)
            },
        )
        .await
    }

    /// Deletes an application that has no modules.
    pub async fn delete_application(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        let kind = RecordKind::Application;
        self.delete_unused(
            actor,
            ("application.delete", kind),
            id,
            (applications::find, applications::delete),
            move |connection, id| {
                let modules = catalog::modules_of_application(connection, id)?;
                let named = describe(modules.iter().map(|row| (&row.id, &row.name)));
                refuse_if_used(kind, id, RecordKind::Module, named)?;
                let clusters = cluster_queries::list(connection, None, Some(id))?;
                let named = describe(clusters.iter().map(|row| (&row.id, &row.name)));
                refuse_if_used(kind, id, RecordKind::Cluster, named)
            },
        )
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
        let input = ModuleInput::new(id, name, application_id);
        let write = upsert_module_in;
        self.admin_write(actor, "module.save", input, write).await
    }

    /// Every module, or those of one existing application.
    pub async fn list_modules(
        &self,
        actor: &Claims,
        application_id: Option<&str>,
    ) -> ResourceResult<Vec<ModuleRow>> {
        self.list_children(
            actor,
            "modules",
            application_id,
            modules::list,
            |connection, id| {
                let found = applications::find(connection, id)?;
                must_exist(found, RecordKind::Application, id)?;
                Ok(catalog::modules_of_application(connection, id)?)
            },
        )
        .await
    }

    pub async fn delete_module(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        let unguarded = |_: &mut DbConnection, _: &str| Ok(());
        let table: (FindRow<_>, DeleteRow) = (modules::find, modules::delete);
        let action = ("module.delete", RecordKind::Module);
        self.delete_unused(actor, action, id, table, unguarded)
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
        let input = EnvInput::new(id, name, remark);
        self.admin_write(actor, "env.save", input, upsert_env_in)
            .await
    }

    pub async fn list_envs(&self, actor: &Claims) -> ResourceResult<Vec<EnvRow>> {
        self.list_all(actor, "envs", envs::list).await
    }

    /// Deletes an environment that no cluster or host is in.
    pub async fn delete_env(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        let kind = RecordKind::Env;
        let table: (FindRow<_>, DeleteRow) = (envs::find, envs::delete);
        let action = ("env.delete", kind);
        self.delete_unused(actor, action, id, table, move |connection, id| {
            let clusters = cluster_queries::list(connection, Some(id), None)?;
            let named = describe(clusters.iter().map(|row| (&row.id, &row.name)));
            refuse_if_used(kind, id, RecordKind::Cluster, named)?;
            let hosts = host_queries::count_in_env(connection, id)?;
            refuse_if_used(kind, id, RecordKind::Host, hosts_counted(hosts))?;
            // Its governance goes with it (in this transaction).
            crate::db::models::env_governance::delete(connection, id)?;
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
        let input = ClusterTypeInput::new(key, value);
        self.admin_write(actor, "cluster_type.save", input, |connection, _, input| {
            upsert_cluster_type_in(connection, input)
        })
        .await
    }

    pub async fn list_cluster_types(&self, actor: &Claims) -> ResourceResult<Vec<ClusterTypeRow>> {
        self.list_all(actor, "cluster_types", cluster_types::list)
            .await
    }

    pub async fn delete_cluster_type(&self, actor: &Claims, key: &str) -> ResourceResult<()> {
        let unguarded = |_: &mut DbConnection, _: &str| Ok(());
        let table: (FindRow<_>, DeleteRow) = (cluster_types::find, cluster_types::delete);
        let action = ("cluster_type.delete", RecordKind::ClusterType);
        self.delete_unused(actor, action, key, table, unguarded)
            .await
    }

    /// An admin's write of a checked `input` (checked after the role), in one transaction with
    /// its `action` event.
    async fn admin_write<Input: Send + 'static, Row: Audited + Send + 'static>(
        &self,
        actor: &Claims,
        action: &'static str,
        input: ResourceResult<Input>,
        write: fn(&mut DbConnection, &str, Input) -> ResourceResult<Saved<Row>>,
    ) -> ResourceResult<Row> {
        require_admin(actor)?;
        let input = input?;
        let origin = Origin::of(actor);
        let actor = actor.username().to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let Saved { before, row } = write(connection, &actor, input)?;
                audit::append(connection, saved(&origin, action, before.as_ref(), &row))?;
                Ok(row)
            })
            .await;
        self.reads.written(CATALOG_WRITE, written).await
    }

    /// Every row of a table (`read` names it), for any reader; kept in the read cache (the
    /// answer is the same for every role).
    async fn list_all<Row: Clone + Send + Sync + 'static>(
        &self,
        actor: &Claims,
        read: &str,
        list: fn(&mut DbConnection) -> diesel::QueryResult<Vec<Row>>,
    ) -> ResourceResult<Vec<Row>> {
        require_reader(actor)?;
        let load = self.database.run(move |connection| Ok(list(connection)?));
        self.reads
            .read_through(&[RESOURCE_CATALOG], read, load)
            .await
    }

    /// Every row, or (with `parent`) the rows `of_parent` answers, for any reader; kept in the
    /// read cache as `read` of `parent`.
    async fn list_children<Row: Clone + Send + Sync + 'static>(
        &self,
        actor: &Claims,
        read: &str,
        parent: Option<&str>,
        list: fn(&mut DbConnection) -> diesel::QueryResult<Vec<Row>>,
        of_parent: fn(&mut DbConnection, &str) -> ResourceResult<Vec<Row>>,
    ) -> ResourceResult<Vec<Row>> {
        require_reader(actor)?;
        let parent = parent.map(str::to_owned);
        let read = format!("{read}\n{parent:?}");
        let load = self.database.run(move |connection| match parent {
            None => Ok(list(connection)?),
            Some(parent) => of_parent(connection, &parent),
        });
        self.reads
            .read_through(&[RESOURCE_CATALOG], &read, load)
            .await
    }

    /// Deletes a record of `table` (its find and delete) once `refuse_if_used` lets it go, with
    /// the event of `action`; unknown ids fail naming them (as a `kind`).
    async fn delete_unused<Row: Audited + Send + 'static>(
        &self,
        actor: &Claims,
        (action, kind): (&'static str, RecordKind),
        id: &str,
        table: (FindRow<Row>, DeleteRow),
        refuse_if_used: impl FnOnce(&mut DbConnection, &str) -> ResourceResult<()> + Send + 'static,
    ) -> ResourceResult<()> {
        require_admin(actor)?;
        let origin = Origin::of(actor);
        let (find, delete) = table;
        let id = id.to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                refuse_if_used(connection, &id)?;
                let Some(row) = find(connection, &id)? else {
                    return Err(ResourceError::NotFound { kind, id });
                };
                delete(connection, &id)?;
                audit::append(connection, deleted(&origin, action, &row))?;
                Ok(())
            })
            .await;
        self.reads.written(CATALOG_WRITE, written).await
    }
}
