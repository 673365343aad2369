//! Rows and queries of svc-jobs, one module per kind of record.

/// The queries of a table whose rows an owner holds under a lease while they run (`runs` and
/// `joint_runs`), defined in the calling module: `finish` ends a run its owner held, the named
/// one extends the lease of a run its owner still holds, `end_expired` ends a run whose owner's
/// lease ran out. Each answers whether it changed the row.
macro_rules! lease_queries {
    ($table:ident, $row:ty; $extend_vis:vis $extend:ident) => {
        common::row_queries! { $table, $row;
            /// Ends a run its owner held, releasing the lease; false when it was no longer its.
            pub fn finish(
                id: &str, owner: &str, status: &str, message: Option<&str>, now: NaiveDateTime,
            ) -> update_one
                where id.eq(id), owner.eq(owner), status.eq(state::RUNNING)
                set status.eq(status), owner.eq(None::<String>),
                    lease_until.eq(None::<NaiveDateTime>), message.eq(message), end_time.eq(now);
            /// Extends the lease of a run `owner` holds; false when it is no longer its.
            $extend_vis fn $extend(id: &str, owner: &str, lease_until: NaiveDateTime) -> update_one
                where id.eq(id), owner.eq(owner), status.eq(state::RUNNING)
                set lease_until.eq(lease_until);
            /// Ends with `status` a running run whose lease expired before `now`, releasing the
            /// lease; false when another replica got there first or the owner renewed meanwhile.
            fn end_expired(
                id: &str, status: &str, message: Option<&str>, now: NaiveDateTime,
            ) -> update_one
                where id.eq(id), status.eq(state::RUNNING), lease_until.lt(now)
                set status.eq(status), owner.eq(None::<String>),
                    lease_until.eq(None::<NaiveDateTime>), message.eq(message), end_time.eq(now);
        }
    };
}

pub mod approvals;
pub mod idempotency;
pub mod instances;
pub mod joint_lines;
pub mod joint_runs;
pub mod run_plans;
pub mod runs;
pub mod schedules;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

pub(crate) use common::db::contains_pattern;
