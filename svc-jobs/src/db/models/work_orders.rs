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

row_queries!(work_orders, WorkOrderRow; insert);

pub fn find_for_instance(
    connection: &mut DbConnection,
    instance_id: &str,
) -> QueryResult<Option<WorkOrderRow>> {
    work_orders::table
        .find(instance_id)
        .select(WorkOrderRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_by_doc(
    connection: &mut DbConnection,
    doc_id: &str,
) -> QueryResult<Option<WorkOrderRow>> {
    work_orders::table
        .filter(work_orders::doc_id.eq(doc_id))
        .select(WorkOrderRow::as_select())
        .first(connection)
        .optional()
}

pub fn update(connection: &mut DbConnection, row: &WorkOrderRow) -> QueryResult<()> {
    diesel::update(work_orders::table.find(&row.instance_id))
        .set(row)
        .execute(connection)
        .map(|_| ())
}

pub fn delete_for_instance(connection: &mut DbConnection, instance_id: &str) -> QueryResult<usize> {
    diesel::delete(work_orders::table.find(instance_id)).execute(connection)
}
