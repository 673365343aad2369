//! Idempotency keys of the requests that start work: which execution a (caller, route, key)
//! started, and with which request.

use chrono::NaiveDateTime;
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

common::row_queries! { idempotency_keys, IdempotencyRow;
    insert;
    /// The row of `key` stored by `caller` on `route` at or after `since`.
    pub fn find(caller: &str, route: &str, key: &str, since: NaiveDateTime) -> first
        where caller.eq(caller), route.eq(route), idempotency_key.eq(key), create_time.ge(since);
    /// Deletes the keys stored before `before`; how many.
    pub fn delete_older(before: NaiveDateTime) -> delete where create_time.lt(before);
}
