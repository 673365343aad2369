//! Job templates and their ordered methods: rows and queries.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use super::contains_pattern;
use crate::db::schema::{job_template_methods, job_templates};

/// A job template.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = job_templates)]
pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub template_type: String,
    pub status: String,
    pub deploy_type: String,
    pub application_id: String,
    pub rollback_template_id: Option<String>,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: Option<String>,
    pub update_time: NaiveDateTime,
}

/// One method of a template, at its place in the order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = job_template_methods)]
pub struct TemplateMethodRow {
    pub template_id: String,
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
}

row_queries!(job_templates, TemplateRow; find, find_many, insert, touch);

pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(job_template_methods::table.filter(job_template_methods::template_id.eq(id)))
        .execute(connection)?;
    diesel::delete(job_templates::table.find(id)).execute(connection)
}

/// Every template, oldest first.
pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<TemplateRow>> {
    job_templates::table
        .select(TemplateRow::as_select())
        .order((job_templates::create_time.asc(), job_templates::id.asc()))
        .load(connection)
}

/// One page of templates (newest first) by name fragment and application, and the total count.
pub fn page(
    connection: &mut DbConnection,
    name_fragment: Option<&str>,
    application_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(i64, Vec<TemplateRow>)> {
    let filtered = || {
        let mut query = job_templates::table.into_boxed();
        if let Some(fragment) = name_fragment {
            query = query.filter(
                job_templates::name
                    .like(contains_pattern(fragment))
                    .escape('\\'),
            );
        }
        if let Some(application_id) = application_id {
            query = query.filter(job_templates::application_id.eq(application_id.to_owned()));
        }
        query
    };
    common::newest_first_page!(
        connection,
        filtered,
        job_templates,
        TemplateRow,
        offset,
        limit
    )
}

/// The methods of a template in order.
pub fn methods(
    connection: &mut DbConnection,
    template_id: &str,
) -> QueryResult<Vec<TemplateMethodRow>> {
    job_template_methods::table
        .filter(job_template_methods::template_id.eq(template_id))
        .select(TemplateMethodRow::as_select())
        .order(job_template_methods::sequence.asc())
        .load(connection)
}

/// Templates that name `template_id` as their rollback template, oldest first (the same order
/// on every backend).
pub fn rolled_back_by(
    connection: &mut DbConnection,
    template_id: &str,
) -> QueryResult<Vec<TemplateRow>> {
    job_templates::table
        .filter(job_templates::rollback_template_id.eq(template_id))
        .order((job_templates::create_time.asc(), job_templates::id.asc()))
        .select(TemplateRow::as_select())
        .load(connection)
}

/// Replaces the methods of a template.
pub fn replace_methods(
    connection: &mut DbConnection,
    template_id: &str,
    methods: &[TemplateMethodRow],
) -> QueryResult<()> {
    diesel::delete(
        job_template_methods::table.filter(job_template_methods::template_id.eq(template_id)),
    )
    .execute(connection)?;
    for method in methods {
        diesel::insert_into(job_template_methods::table)
            .values(method)
            .execute(connection)?;
    }
    Ok(())
}
