//! Plans the dry run answered (issue 21), under their plan id, so that 6.1 with a `plan_id` can
//! say what changed since.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::run_plans;

/// How long a stored plan is kept.
pub const KEPT_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = run_plans)]
pub struct RunPlanRow {
    pub plan_id: String,
    pub instance_id: String,
    /// The step plans, a JSON array of sealed snapshots.
    pub plans: String,
    pub create_time: NaiveDateTime,
}

common::row_queries! { run_plans, RunPlanRow;
    find;
}

/// Stores `row` unless a plan of that id is stored already (equal ids are equal plans), and
/// drops the plans older than [`KEPT_DAYS`]. Call inside a transaction.
pub fn keep(connection: &mut common::db::DbConnection, row: &RunPlanRow) -> QueryResult<()> {
    let oldest = row.create_time - chrono::Duration::days(KEPT_DAYS);
    diesel::delete(run_plans::table.filter(run_plans::create_time.lt(oldest)))
        .execute(connection)?;
    if find(connection, &row.plan_id)?.is_none() {
        diesel::insert_into(run_plans::table)
            .values(row)
            .execute(connection)?;
    }
    Ok(())
}
