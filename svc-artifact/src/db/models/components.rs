//! Components, their methods and the versions of each method's package (4.4).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{components, method_versions, methods};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = components)]
pub struct ComponentRow {
    pub id: String,
    pub name: String,
    pub remark: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = methods)]
pub struct MethodRow {
    pub id: String,
    pub component_id: String,
    pub name: String,
    pub remark: String,
    /// The built-in `cu1` has no package.
    pub builtin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = method_versions)]
pub struct MethodVersionRow {
    pub id: String,
    pub method_id: String,
    /// The stored method package.
    pub file_id: String,
    pub entrypoint: String,
    pub timeout_s: i32,
    /// The params schema as JSON (a list of nodes).
    pub params_json: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

common::row_queries! { components, ComponentRow;
    upsert as upsert_component;
    /// Every component, by id.
    pub fn list_components() -> all order id.asc();
}

common::row_queries! { methods, MethodRow;
    find as find_method, upsert as upsert_method;
    /// Every method, by id.
    pub fn list_methods() -> all order id.asc();
}

common::row_queries! { method_versions, MethodVersionRow;
    insert as insert_version;
    /// The newest package version of a method.
    pub fn newest_version(method_id: &str) -> first where method_id.eq(method_id) order id.desc();
}
