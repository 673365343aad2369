//! Product lines, applications, modules, environments and cluster types: rows and queries.
//! The four named records share one shape (id, name, one extra column, creator/mender and times),
//! so one macro writes their rows and basic queries.

use chrono::NaiveDateTime;
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
            use crate::db::schema::$table;

            common::row_queries! { $table, $row;
                find, insert, delete;
                /// Every row, oldest first.
                pub fn list() -> all order create_time.asc(), id.asc();
                /// Rewrites the editable columns of the row with this id (creator and create
                /// time stay).
                pub fn update(row: &$row) -> update
                    where id.eq(&row.id)
                    set name.eq(&row.name), $($extra.eq(&row.$extra),)* mender.eq(&row.mender),
                        update_time.eq(row.update_time);
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

use schema::{applications as application_columns, modules as module_columns};

common::row_queries! { application_columns, ApplicationRow;
    /// The applications of one product line, oldest first.
    pub fn applications_of_product_line(product_line_id: &str) -> all
        where product_line_id.eq(product_line_id) order create_time.asc(), id.asc();
}

common::row_queries! { module_columns, ModuleRow;
    /// The modules of one application, oldest first.
    pub fn modules_of_application(application_id: &str) -> all
        where application_id.eq(application_id) order create_time.asc(), id.asc();
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
    use crate::db::schema::cluster_types;

    common::row_queries! { cluster_types, ClusterTypeRow;
        find, insert, delete;
        /// Every cluster type, oldest first.
        pub fn list() -> all order create_time.asc(), type_key.asc();
        /// Sets the value shown for a key.
        pub fn update_value(key: &str, value: &str) -> update
            where type_key.eq(key) set type_value.eq(value);
    }
}
