//! Job instances and their steps: rows and queries. A step's bindings (artifacts, app-config
//! groups, parameter values, scripts) are one JSON document per step.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use super::contains_pattern;
use crate::db::schema::{instance_steps, job_instances};

/// A job instance: a template bound to an application and environment.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = job_instances, treat_none_as_null = true)]
pub struct InstanceRow {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub status: String,
    pub env_id: String,
    pub application_id: String,
    pub product_line_id: String,
    pub module_id: Option<String>,
    pub job_template_id: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: Option<String>,
    pub update_time: NaiveDateTime,
}

/// One step of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = instance_steps, treat_none_as_null = true)]
pub struct StepRow {
    pub instance_id: String,
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
    pub cluster_id: Option<String>,
    /// JSON object of the step's other bindings.
    pub bindings: String,
}

row_queries!(job_instances, InstanceRow; find, find_many, insert, touch);

pub fn set_status(connection: &mut DbConnection, id: &str, status: &str) -> QueryResult<()> {
    diesel::update(job_instances::table.find(id))
        .set(job_instances::status.eq(status))
        .execute(connection)
        .map(|_| ())
}

pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(instance_steps::table.filter(instance_steps::instance_id.eq(id)))
        .execute(connection)?;
    diesel::delete(job_instances::table.find(id)).execute(connection)
}

/// Instances that use a template, oldest first (the same order on every backend).
pub fn using_template(
    connection: &mut DbConnection,
    template_id: &str,
) -> QueryResult<Vec<InstanceRow>> {
    job_instances::table
        .filter(job_instances::job_template_id.eq(template_id))
        .order((job_instances::create_time.asc(), job_instances::id.asc()))
        .select(InstanceRow::as_select())
        .load(connection)
}

/// Filters of the instance lists.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    pub name_fragment: Option<String>,
    pub application_id: Option<String>,
    pub product_line_id: Option<String>,
}

fn filtered(
    filter: &InstanceFilter,
) -> job_instances::BoxedQuery<'static, common::db::MultiBackend> {
    let mut query = job_instances::table.into_boxed();
    if let Some(fragment) = &filter.name_fragment {
        query = query.filter(
            job_instances::name
                .like(contains_pattern(fragment))
                .escape('\\'),
        );
    }
    if let Some(application_id) = &filter.application_id {
        query = query.filter(job_instances::application_id.eq(application_id.clone()));
    }
    if let Some(product_line_id) = &filter.product_line_id {
        query = query.filter(job_instances::product_line_id.eq(product_line_id.clone()));
    }
    query
}

/// One page of instances (newest first) and the total count of the filter.
pub fn page(
    connection: &mut DbConnection,
    filter: &InstanceFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(i64, Vec<InstanceRow>)> {
    common::newest_first_page!(
        connection,
        || filtered(filter),
        job_instances,
        InstanceRow,
        offset,
        limit
    )
}

/// Every instance of the filter, newest first.
pub fn list(
    connection: &mut DbConnection,
    filter: &InstanceFilter,
) -> QueryResult<Vec<InstanceRow>> {
    filtered(filter)
        .select(InstanceRow::as_select())
        .order((job_instances::create_time.desc(), job_instances::id.desc()))
        .load(connection)
}

/// The steps of an instance in order.
pub fn steps(connection: &mut DbConnection, instance_id: &str) -> QueryResult<Vec<StepRow>> {
    instance_steps::table
        .filter(instance_steps::instance_id.eq(instance_id))
        .select(StepRow::as_select())
        .order(instance_steps::sequence.asc())
        .load(connection)
}

/// Names of the instances with a step bound to `cluster_id`, sorted, each once.
pub fn names_bound_to_cluster(
    connection: &mut DbConnection,
    cluster_id: &str,
) -> QueryResult<Vec<String>> {
    instance_steps::table
        .inner_join(job_instances::table.on(job_instances::id.eq(instance_steps::instance_id)))
        .filter(instance_steps::cluster_id.eq(cluster_id))
        .select(job_instances::name)
        .distinct()
        .order(job_instances::name.asc())
        .load(connection)
}

/// Inserts an instance and its steps.
pub fn insert_with_steps(
    connection: &mut DbConnection,
    row: &InstanceRow,
    steps: &[StepRow],
) -> QueryResult<()> {
    insert(connection, row)?;
    steps
        .iter()
        .try_for_each(|step| insert_step(connection, step))
}

pub fn insert_step(connection: &mut DbConnection, row: &StepRow) -> QueryResult<()> {
    diesel::insert_into(instance_steps::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn update_step(connection: &mut DbConnection, row: &StepRow) -> QueryResult<()> {
    diesel::update(instance_steps::table.find((&row.instance_id, row.sequence)))
        .set(row)
        .execute(connection)
        .map(|_| ())
}

/// Steps whose bindings hold parameter or app-config values not sealed yet (rows written
/// before values were sealed).
pub fn steps_with_plain_values(connection: &mut DbConnection) -> QueryResult<Vec<StepRow>> {
    instance_steps::table
        .filter(
            instance_steps::bindings
                .like("%\"config_value\":{%")
                .or(instance_steps::bindings.like("%\"configs\":{%")),
        )
        .select(StepRow::as_select())
        .load(connection)
}

/// Replaces a step's bindings document if it is still `step`'s; answers whether it was.
pub fn replace_bindings(
    connection: &mut DbConnection,
    step: &StepRow,
    document: &str,
) -> QueryResult<bool> {
    diesel::update(
        instance_steps::table
            .find((&step.instance_id, step.sequence))
            .filter(instance_steps::bindings.eq(&step.bindings)),
    )
    .set(instance_steps::bindings.eq(document))
    .execute(connection)
    .map(|updated| updated == 1)
}

/// Puts `previous` back in place of `written` (cluster and bindings) if the step is still as
/// written; answers whether it was.
pub fn restore_step(
    connection: &mut DbConnection,
    written: &StepRow,
    previous: &StepRow,
) -> QueryResult<bool> {
    let step = instance_steps::table
        .find((&written.instance_id, written.sequence))
        .filter(instance_steps::bindings.eq(&written.bindings));
    let values = (
        instance_steps::cluster_id.eq(&previous.cluster_id),
        instance_steps::bindings.eq(&previous.bindings),
    );
    let updated = match &written.cluster_id {
        Some(cluster_id) => diesel::update(step.filter(instance_steps::cluster_id.eq(cluster_id)))
            .set(values)
            .execute(connection)?,
        None => diesel::update(step.filter(instance_steps::cluster_id.is_null()))
            .set(values)
            .execute(connection)?,
    };
    Ok(updated == 1)
}

pub fn delete_step(
    connection: &mut DbConnection,
    instance_id: &str,
    sequence: i32,
) -> QueryResult<usize> {
    diesel::delete(instance_steps::table.find((instance_id, sequence))).execute(connection)
}
