//! Work orders: one form per instance, stored as the JSON the legacy UI sends.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::work_orders;

/// A stored work order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = work_orders)]
pub struct WorkOrderRow {
    pub instance_id: String,
    pub doc_id: String,
    /// The form (`excel_data`) as a JSON object.
    pub excel_data: String,
    pub process_status: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
    pub mender: String,
    pub update_time: NaiveDateTime,
}

common::row_queries! { work_orders, WorkOrderRow;
    insert, find as find_for_instance, delete as delete_for_instance;
    /// The work order of this document id, if any.
    pub fn find_by_doc(doc_id: &str) -> first where doc_id.eq(doc_id);
}

/// Rewrites a stored work order (its instance stays).
pub fn update(connection: &mut DbConnection, row: &WorkOrderRow) -> QueryResult<()> {
    diesel::update(work_orders::table.find(&row.instance_id))
        .set(row)
        .execute(connection)
        .map(|_| ())
}
