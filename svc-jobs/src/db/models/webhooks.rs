//! Webhook URLs added through the admin route.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::webhooks;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

row_queries!(webhooks, WebhookRow; insert);

pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .order((webhooks::create_time.asc(), webhooks::id.asc()))
        .select(WebhookRow::as_select())
        .load(connection)
}

pub fn find_by_url(connection: &mut DbConnection, url: &str) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .filter(webhooks::url.eq(url))
        .select(WebhookRow::as_select())
        .first(connection)
        .optional()
}

pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(webhooks::table.find(id)).execute(connection)
}
