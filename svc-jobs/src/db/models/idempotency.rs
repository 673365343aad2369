//! Idempotency keys of the requests that start work: which execution a (caller, route, key)
//! started, and with which request.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::idempotency_keys;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub caller: String,
    pub route: String,
    pub idempotency_key: String,
    /// The request's parameters that decide what it starts.
    pub fingerprint: String,
    pub execution_id: String,
    pub create_time: NaiveDateTime,
}

/// The row of `key` stored by `caller` on `route` at or after `since`.
pub fn find(
    connection: &mut DbConnection,
    caller: &str,
    route: &str,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .filter(idempotency_keys::caller.eq(caller))
        .filter(idempotency_keys::route.eq(route))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .filter(idempotency_keys::create_time.ge(since))
        .select(IdempotencyRow::as_select())
        .first(connection)
        .optional()
}

/// Stores a key; a key stored already (by a concurrent request) is a unique violation.
pub fn insert(connection: &mut DbConnection, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Deletes the keys stored before `before`; how many.
pub fn delete_older(connection: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::create_time.lt(before)))
        .execute(connection)
}
