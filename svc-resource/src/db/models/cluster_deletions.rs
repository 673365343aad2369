//! Announced cluster deletions: a row says "this cluster is being deleted until `until`", so the
//! jobs service refuses (and takes back) a binding made meanwhile. Rows expire on their own.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::cluster_deletions::dsl;

/// Announces (or renews) the deletion of `cluster_id` until `until`; two deletes announcing at
/// once both succeed (the later one renews the row the other inserted).
pub fn announce(
    connection: &mut DbConnection,
    cluster_id: &str,
    until: NaiveDateTime,
) -> QueryResult<()> {
    let values = (dsl::cluster_id.eq(cluster_id), dsl::until.eq(until));
    let changes = dsl::until.eq(until);
    common::upsert_into!(
        connection,
        false,
        dsl::cluster_deletions,
        values,
        cluster_id,
        changes
    )
}

/// Withdraws the announcement of `cluster_id` (the delete ended, either way).
pub fn withdraw(connection: &mut DbConnection, cluster_id: &str) -> QueryResult<()> {
    diesel::delete(dsl::cluster_deletions.find(cluster_id))
        .execute(connection)
        .map(|_| ())
}

/// Those of `ids` whose deletion is announced and not expired at `now`.
pub fn under_way(
    connection: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    dsl::cluster_deletions
        .filter(dsl::cluster_id.eq_any(ids))
        .filter(dsl::until.gt(now))
        .select(dsl::cluster_id)
        .load(connection)
}

/// Every cluster whose deletion is announced and not expired at `now` (a handful at most: rows
/// live only while a delete is under way).
pub fn all_under_way(
    connection: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    dsl::cluster_deletions
        .filter(dsl::until.gt(now))
        .select(dsl::cluster_id)
        .load(connection)
}
