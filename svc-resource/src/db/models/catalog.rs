//! Product lines, applications, modules, environments and cluster types: rows and queries.
//! The four named records share one shape (id, name, one extra column, creator/mender and times),
//! so one macro writes their rows and basic queries.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema;

macro_rules! catalog_record {
    ($(#[$meta:meta])* $row:ident, $module:ident, $table:ident, [$($extra:ident),*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
        #[diesel(table_name = schema::$table)]
        pub struct $row {
            pub id: String,
            pub name: String,
            $(pub $extra: String,)*
            pub creator: String,
            pub create_time: NaiveDateTime,
            pub mender: String,
            pub update_time: NaiveDateTime,
        }

        /// Queries on the table of this record.
        pub mod $module {
            use super::*;
            use crate::db::schema::$table::dsl;

            pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<$row>> {
                dsl::$table.find(id).select($row::as_select()).first(connection).optional()
            }

            /// Every row, oldest first.
            pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<$row>> {
                dsl::$table
                    .select($row::as_select())
                    .order((dsl::create_time.asc(), dsl::id.asc()))
                    .load(connection)
            }

            pub fn insert(connection: &mut DbConnection, row: &$row) -> QueryResult<()> {
                diesel::insert_into(dsl::$table).values(row).execute(connection).map(|_| ())
            }

            /// Rewrites the editable columns of the row with this id (creator and create time stay).
            pub fn update(connection: &mut DbConnection, row: &$row) -> QueryResult<()> {
                diesel::update(dsl::$table.find(&row.id))
                    .set((dsl::name.eq(&row.name), $(dsl::$extra.eq(&row.$extra),)* dsl::mender.eq(&row.mender), dsl::update_time.eq(row.update_time)))
                    .execute(connection)
                    .map(|_| ())
            }

            /// Answers how many rows went (0 or 1).
            pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
                diesel::delete(dsl::$table.find(id)).execute(connection)
            }
        }
    };
}

catalog_record!(
    /// A product line (产品线).
    ProductLineRow, product_lines, product_lines, []
);
catalog_record!(
    /// An application (业务) of a product line.
    ApplicationRow, applications, applications, [product_line_id]
);
catalog_record!(
    /// A module of an application.
    ModuleRow, modules, modules, [application_id]
);
catalog_record!(
    /// A deployment environment.
    EnvRow, envs, envs, [remark]
);

/// The applications of one product line, oldest first.
pub fn applications_of_product_line(
    connection: &mut DbConnection,
    product_line_id: &str,
) -> QueryResult<Vec<ApplicationRow>> {
    use crate::db::schema::applications::dsl;
    dsl::applications
        .filter(dsl::product_line_id.eq(product_line_id))
        .select(ApplicationRow::as_select())
        .order((dsl::create_time.asc(), dsl::id.asc()))
        .load(connection)
}

/// The modules of one application, oldest first.
pub fn modules_of_application(
    connection: &mut DbConnection,
    application_id: &str,
) -> QueryResult<Vec<ModuleRow>> {
    use crate::db::schema::modules::dsl;
    dsl::modules
        .filter(dsl::application_id.eq(application_id))
        .select(ModuleRow::as_select())
        .order((dsl::create_time.asc(), dsl::id.asc()))
        .load(connection)
}

/// A CMDB cluster type (`key` shown to users as `value`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::cluster_types)]
pub struct ClusterTypeRow {
    pub type_key: String,
    pub type_value: String,
    pub create_time: NaiveDateTime,
}

/// Queries on cluster types.
pub mod cluster_types {
    use super::*;
    use crate::db::schema::cluster_types::dsl;

    pub fn find(connection: &mut DbConnection, key: &str) -> QueryResult<Option<ClusterTypeRow>> {
        dsl::cluster_types
            .find(key)
            .select(ClusterTypeRow::as_select())
            .first(connection)
            .optional()
    }

    pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<ClusterTypeRow>> {
        dsl::cluster_types
            .select(ClusterTypeRow::as_select())
            .order((dsl::create_time.asc(), dsl::type_key.asc()))
            .load(connection)
    }

    pub fn insert(connection: &mut DbConnection, row: &ClusterTypeRow) -> QueryResult<()> {
        diesel::insert_into(dsl::cluster_types)
            .values(row)
            .execute(connection)
            .map(|_| ())
    }

    pub fn update_value(connection: &mut DbConnection, key: &str, value: &str) -> QueryResult<()> {
        diesel::update(dsl::cluster_types.find(key))
            .set(dsl::type_value.eq(value))
            .execute(connection)
            .map(|_| ())
    }

    pub fn delete(connection: &mut DbConnection, key: &str) -> QueryResult<usize> {
        diesel::delete(dsl::cluster_types.find(key)).execute(connection)
    }
}
