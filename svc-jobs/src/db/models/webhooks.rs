//! Webhook URLs added through the admin route.

use chrono::NaiveDateTime;
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

common::row_queries! { webhooks, WebhookRow;
    find, insert, delete;
    /// Every webhook, oldest first.
    pub fn list() -> all order create_time.asc(), id.asc();
    /// The webhook of this URL, if any.
    pub fn find_by_url(url: &str) -> first where url.eq(url);
}
