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

common::row_queries! { job_templates, TemplateRow;
    find, find_many, insert, touch;
    /// Deletes the template row; answers how many went.
    fn delete_template(id: &str) -> delete where id.eq(id);
    /// Every template, oldest first.
    pub fn list() -> all order create_time.asc(), id.asc();
    /// One page of templates (newest first) by name fragment and application, and the total
    /// count.
    pub fn page(
        name_fragment: Option<&str>, application_id: Option<&str>, offset: i64, limit: i64,
    ) -> newest_page(offset, limit)
        when Some(fragment) = name_fragment => name.like(contains_pattern(fragment)).escape('\\'),
            Some(application_id) = application_id => application_id.eq(application_id);
    /// Templates that name `template_id` as their rollback template, oldest first (the same
    /// order on every backend).
    pub fn rolled_back_by(template_id: &str) -> all
        where rollback_template_id.eq(template_id) order create_time.asc(), id.asc();
}

common::row_queries! { job_template_methods, TemplateMethodRow;
    /// The methods of a template in order.
    pub fn methods(template_id: &str) -> all
        where template_id.eq(template_id) order sequence.asc();
    /// Deletes the methods of a template.
    fn delete_methods(template_id: &str) -> delete where template_id.eq(template_id);
    /// Replaces the methods of a template.
    pub fn replace_methods(template_id: &str, methods: &[TemplateMethodRow]) -> replace(methods)
        where template_id.eq(template_id);
}

/// Deletes a template and its methods; answers how many templates went (0 or 1).
pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    delete_methods(connection, id)?;
    delete_template(connection, id)
}
