//! The audit trail's routes (issue 20): `GET /api/audit` answers a page of the events of every
//! service merged newest first (`{"count","page","results"}`), `GET /api/audit/export.csv`
//! streams every event the same filter selects as CSV. Admins and auditors only (the route table
//! and each service check it).

use std::collections::HashMap;

use actix_web::{HttpResponse, http::header, web};
use chrono::{NaiveDate, NaiveDateTime};
use proto::ErrorReason;

use crate::{
    audit::{AuditFilter, Export, merged_page},
    body::page_params,
    clients::Call,
    convert::audit::{AuditItem, CSV_HEADER, csv_row},
    error::{ApiError, excerpt},
};

use super::{Answer, page_of};

/// Events per page when `page_size` is absent.
const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest `page_size`.
const MAX_PAGE_SIZE: u32 = 100;
/// Events written per chunk of an export.
const EXPORT_CHUNK: usize = 200;

/// A time of the `since` / `until` parameters, in UTC: RFC 3339 (`2026-12-06T08:00:00Z`,
/// `...+08:00`), `2026-12-06 08:00:00` or `2026-12-06` (midnight).
fn parse_time(name: &str, text: &str) -> Result<i64, ApiError> {
    let text = text.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.timestamp_millis());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(time.and_utc().timestamp_millis());
    }
    if let Some(midnight) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(midnight.and_utc().timestamp_millis());
    }
    Err(ApiError::new(
        ErrorReason::InvalidField,
        format!(
            "query parameter {name}: {:?} is not a time (UTC: 2026-12-06T08:00:00Z, 2026-12-06 08:00:00 or 2026-12-06)",
            excerpt(text)
        ),
    ))
}

/// The filter of the query string (`actor`, `action`, `object_kind`, `object_id`, `app_id`,
/// `env_id`, `since`, `until`); each service checks the values' length.
pub fn filter_of(query: &HashMap<String, String>) -> Result<AuditFilter, ApiError> {
    let text = |name: &str| {
        query
            .get(name)
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    let time = |name: &str| match query.get(name).map(|value| value.trim()) {
        Some(value) if !value.is_empty() => parse_time(name, value).map(Some),
        _ => Ok(None),
    };
    let filter = AuditFilter {
        actor: text("actor"),
        action: text("action"),
        object_kind: text("object_kind"),
        object_id: text("object_id"),
        app_id: text("app_id"),
        env_id: text("env_id"),
        since_ms: time("since")?,
        until_ms: time("until")?,
    };
    if let (Some(since), Some(until)) = (filter.since_ms, filter.until_ms)
        && since > until
    {
        return Err(ApiError::new(
            ErrorReason::InvalidField,
            "query parameter until: it is before since",
        ));
    }
    Ok(filter)
}

/// `page` (from 1) and `page_size` (1-100, default 20) of the query string.
pub fn page_of_query(query: &HashMap<String, String>) -> Result<(u32, u32), ApiError> {
    let (page, page_size) = page_params(
        query.get("page").map(String::as_str),
        query.get("page_size").map(String::as_str),
    )?;
    let page_size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        size => size.min(MAX_PAGE_SIZE),
    };
    Ok((page.max(1), page_size))
}

/// `GET /api/audit`.
pub async fn list_audit(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    let filter = filter_of(&query)?;
    let (page, page_size) = page_of_query(&query)?;
    let (count, events) = merged_page(
        &call.clients,
        &call.caller,
        &filter,
        i64::from(page),
        i64::from(page_size),
    )
    .await?;
    page_of(count, page, events, AuditItem::of)
}

/// `GET /api/audit/export.csv`: the first batch is fetched before the answer starts, so a
/// refused or failing query answers its failure envelope; a failure later ends the stream with
/// a last line saying so.
pub async fn export_csv(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    let filter = filter_of(&query)?;
    let mut export = Export::new(call.clients.clone(), call.caller.clone(), filter);
    let first = export.next_batch(EXPORT_CHUNK).await?;
    let mut text = CSV_HEADER.to_owned();
    let done = first.len() < EXPORT_CHUNK;
    for event in first {
        text.push_str(&csv_row(&AuditItem::of(event)));
    }
    let head =
        futures::stream::once(async move { Ok::<_, actix_web::Error>(web::Bytes::from(text)) });
    let rest = futures::stream::unfold((export, done), |(mut export, done)| async move {
        if done {
            return None;
        }
        match export.next_batch(EXPORT_CHUNK).await {
            Ok(batch) if batch.is_empty() => None,
            Ok(batch) => {
                let done = batch.len() < EXPORT_CHUNK;
                let text: String = batch
                    .into_iter()
                    .map(|event| csv_row(&AuditItem::of(event)))
                    .collect();
                Some((Ok(web::Bytes::from(text)), (export, done)))
            }
            Err(error) => {
                tracing::warn!(error = %error.info, "the audit export stopped");
                let line = format!(
                    "# export stopped: {}\r\n",
                    error.info.replace(['\r', '\n'], " ")
                );
                Some((Ok(web::Bytes::from(line)), (export, true)))
            }
        }
    });
    use futures::StreamExt;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"tad-audit.csv\"",
        ))
        .streaming(head.chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn times_are_read_in_utc_and_a_bad_one_is_named() {
        let filter = filter_of(&query(&[
            ("since", "2026-12-06"),
            ("until", "2026-12-06T08:00:00+08:00"),
        ]))
        .expect("filter");
        assert_eq!(filter.since_ms, Some(1_796_515_200_000));
        assert_eq!(filter.until_ms, Some(1_796_515_200_000));
        let refused = filter_of(&query(&[("until", "yesterday")])).expect_err("bad time");
        assert!(refused.info.contains("until"), "{}", refused.info);
        let reversed = filter_of(&query(&[("since", "2026-12-07"), ("until", "2026-12-06")]))
            .expect_err("reversed");
        assert!(reversed.info.contains("until"));
    }

    #[test]
    fn pages_default_to_twenty_and_cap_at_a_hundred() {
        assert_eq!(page_of_query(&query(&[])).expect("page"), (1, 20));
        assert_eq!(
            page_of_query(&query(&[("page", "3"), ("page_size", "500")])).expect("page"),
            (3, 100)
        );
        let refused = page_of_query(&query(&[("page", "x")])).expect_err("bad page");
        assert!(refused.info.contains("page"));
    }
}
