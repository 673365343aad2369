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

/// Filters of the instance lists.
#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    pub name_fragment: Option<String>,
    pub application_id: Option<String>,
    pub product_line_id: Option<String>,
}

/// The instances of a filter, as a query to narrow or order further.
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

common::row_queries! { job_instances, InstanceRow;
    find, find_many, insert, touch;
    /// Sets the status of an instance.
    pub fn set_status(id: &str, status: &str) -> update where id.eq(id) set status.eq(status);
    /// Deletes the instance row; answers how many went.
    fn delete_instance(id: &str) -> delete where id.eq(id);
    /// Instances that use a template, oldest first (the same order on every backend).
    pub fn using_template(template_id: &str) -> all
        where job_template_id.eq(template_id) order create_time.asc(), id.asc();
    /// One page of instances (newest first) and the total count of the filter.
    pub fn page(filter: &InstanceFilter, offset: i64, limit: i64) -> newest_page(offset, limit)
        from filtered(filter);
    /// Every instance of the filter, newest first.
    pub fn list(filter: &InstanceFilter) -> all
        from filtered(filter) order create_time.desc(), id.desc();
}

common::row_queries! { instance_steps, StepRow;
    insert as insert_step;
    /// Deletes the steps of an instance.
    fn delete_steps(instance_id: &str) -> delete where instance_id.eq(instance_id);
    /// The steps of an instance in order.
    pub fn steps(instance_id: &str) -> all
        where instance_id.eq(instance_id) order sequence.asc();
    /// Rewrites a step (its instance and sequence stay).
    pub fn update_step(row: &StepRow) -> update
        where instance_id.eq(&row.instance_id), sequence.eq(row.sequence)
        set component_id.eq(&row.component_id), method_id.eq(&row.method_id),
            cluster_id.eq(&row.cluster_id), bindings.eq(&row.bindings);
    /// Steps whose bindings hold parameter or app-config values not sealed yet (rows written
    /// before values were sealed).
    pub fn steps_with_plain_values() -> all
        where bindings
            .like("%\"config_value\":{%")
            .or(instance_steps::bindings.like("%\"configs\":{%"));
    /// Replaces a step's bindings document if it is still `step`'s; answers whether it was.
    pub fn replace_bindings(step: &StepRow, document: &str) -> update_one
        where instance_id.eq(&step.instance_id), sequence.eq(step.sequence),
            bindings.eq(&step.bindings)
        set bindings.eq(document);
    /// Deletes one step of an instance; answers how many went.
    pub fn delete_step(instance_id: &str, sequence: i32) -> delete
        where instance_id.eq(instance_id), sequence.eq(sequence);
}

/// Deletes an instance and its steps; answers how many instances went (0 or 1).
pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    delete_steps(connection, id)?;
    delete_instance(connection, id)
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
