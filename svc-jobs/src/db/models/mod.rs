//! Rows and queries of svc-jobs, one module per kind of record.

/// Queries of a table whose rows an owner holds under a lease while they run (`runs` and
/// `joint_runs`): `held!(table, id, owner)` is the row `id` that `owner` holds while it runs;
/// `finish_held!(table)` writes the `finish` that ends such a run and releases its lease.
macro_rules! held {
    ($table:ident, $id:expr, $owner:expr) => {
        $table::table
            .filter($table::id.eq($id))
            .filter($table::owner.eq($owner))
            .filter($table::status.eq(state::RUNNING))
    };
}

macro_rules! finish_held {
    ($table:ident) => {
        /// Ends a run its owner held, releasing the lease; false when it was no longer its.
        pub fn finish(
            connection: &mut DbConnection,
            id: &str,
            owner: &str,
            status: &str,
            message: Option<&str>,
            now: NaiveDateTime,
        ) -> QueryResult<bool> {
            let updated = diesel::update(held!($table, id, owner))
                .set((
                    $table::status.eq(status),
                    $table::owner.eq(None::<String>),
                    $table::lease_until.eq(None::<NaiveDateTime>),
                    $table::message.eq(message),
                    $table::end_time.eq(now),
                ))
                .execute(connection)?;
            Ok(updated == 1)
        }
    };
}

pub mod instances;
pub mod joint_lines;
pub mod joint_runs;
pub mod runs;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

pub(crate) use common::db::contains_pattern;
