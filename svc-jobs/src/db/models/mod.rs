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

/// The by-id queries most tables have, written once: `row_queries!(table, Row; find, insert)`
/// defines in the calling module the ones named, of `find` (the row `id`, if any), `find_many`
/// (the rows of `ids` found), `insert` and `touch` (who changed the row last, and when).
macro_rules! row_queries {
    ($table:ident, $row:ty; $($query:ident),+) => {
        $(row_queries!(@$query $table, $row);)+
    };
    (@find $table:ident, $row:ty) => {
        pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select(<$row>::as_select())
                .first(connection)
                .optional()
        }
    };
    (@find_many $table:ident, $row:ty) => {
        pub fn find_many(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<$row>> {
            $table::table
                .filter($table::id.eq_any(ids))
                .select(<$row>::as_select())
                .load(connection)
        }
    };
    (@insert $table:ident, $row:ty) => {
        pub fn insert(connection: &mut DbConnection, row: &$row) -> QueryResult<()> {
            diesel::insert_into($table::table)
                .values(row)
                .execute(connection)
                .map(|_| ())
        }
    };
    (@touch $table:ident, $row:ty) => {
        pub fn touch(
            connection: &mut DbConnection,
            id: &str,
            mender: &str,
            now: NaiveDateTime,
        ) -> QueryResult<()> {
            diesel::update($table::table.find(id))
                .set(($table::mender.eq(mender), $table::update_time.eq(now)))
                .execute(connection)
                .map(|_| ())
        }
    };
}

pub mod idempotency;
pub mod instances;
pub mod joint_lines;
pub mod joint_runs;
pub mod runs;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

pub(crate) use common::db::contains_pattern;
