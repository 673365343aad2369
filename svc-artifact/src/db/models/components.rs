//! Components, their methods and the versions of each method's package (4.4).

use chrono::NaiveDateTime;
use common::db::DbConnection;
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

/// Creates or renames a component.
pub fn upsert_component(connection: &mut DbConnection, row: &ComponentRow) -> QueryResult<()> {
    use crate::db::schema::components::dsl;
    let exists = dsl::components
        .find(&row.id)
        .count()
        .get_result::<i64>(connection)?
        > 0;
    common::db::upsert(
        connection,
        exists,
        |connection| {
            diesel::insert_into(dsl::components)
                .values(row)
                .execute(connection)
        },
        |connection| {
            diesel::update(dsl::components.find(&row.id))
                .set(row)
                .execute(connection)
        },
    )
}

pub fn find_method(connection: &mut DbConnection, id: &str) -> QueryResult<Option<MethodRow>> {
    use crate::db::schema::methods::dsl;
    dsl::methods
        .find(id)
        .select(MethodRow::as_select())
        .first(connection)
        .optional()
}

/// Creates or updates a method.
pub fn upsert_method(connection: &mut DbConnection, row: &MethodRow) -> QueryResult<()> {
    use crate::db::schema::methods::dsl;
    let exists = find_method(connection, &row.id)?.is_some();
    common::db::upsert(
        connection,
        exists,
        |connection| {
            diesel::insert_into(dsl::methods)
                .values(row)
                .execute(connection)
        },
        |connection| {
            diesel::update(dsl::methods.find(&row.id))
                .set(row)
                .execute(connection)
        },
    )
}

pub fn insert_version(connection: &mut DbConnection, row: &MethodVersionRow) -> QueryResult<()> {
    use crate::db::schema::method_versions::dsl;
    diesel::insert_into(dsl::method_versions)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// The newest package version of a method.
pub fn newest_version(
    connection: &mut DbConnection,
    method_id: &str,
) -> QueryResult<Option<MethodVersionRow>> {
    use crate::db::schema::method_versions::dsl;
    dsl::method_versions
        .filter(dsl::method_id.eq(method_id))
        .select(MethodVersionRow::as_select())
        .order(dsl::id.desc())
        .first(connection)
        .optional()
}

pub fn list_components(connection: &mut DbConnection) -> QueryResult<Vec<ComponentRow>> {
    use crate::db::schema::components::dsl;
    dsl::components
        .select(ComponentRow::as_select())
        .order(dsl::id.asc())
        .load(connection)
}

pub fn list_methods(connection: &mut DbConnection) -> QueryResult<Vec<MethodRow>> {
    use crate::db::schema::methods::dsl;
    dsl::methods
        .select(MethodRow::as_select())
        .order(dsl::id.asc())
        .load(connection)
}
