//! The console's audit page (issue 20): the events of every service merged newest first (the
//! same merge as `GET /api/audit`), filtered by actor, action, object, application, environment
//! and time, a page at a time, with a link that exports the same filter as CSV. Admins and
//! auditors only: the route table refuses others, and the services check it again.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde::Serialize;

use super::{
    listing::{PageQuery, Paging},
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    audit::{MAX_PAGED_EVENTS, merged_page},
    clients::Call,
    convert::audit::AuditItem,
    error::ApiError,
    legacy::{appinhouse_pages::html, audit::filter_of},
};

/// Events per page.
const PAGE_SIZE: usize = 50;
/// The filters the page keeps in its links (and the export's).
const FILTERS: [&str; 8] = [
    "actor",
    "action",
    "object_kind",
    "object_id",
    "app_id",
    "env_id",
    "since",
    "until",
];

/// One filter field of the form: its name, its value, its label's message key.
#[derive(Debug, Serialize)]
struct FilterField {
    name: &'static str,
    value: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct AuditPage {
    #[serde(flatten)]
    frame: Frame,
    filters: Vec<FilterField>,
    events: Vec<AuditItem>,
    paging: Paging,
    /// `/api/audit/export.csv` with the same filter.
    export_url: String,
}

/// The query string of the filters that are set.
fn filter_query(query: &PageQuery) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for name in FILTERS {
        let value = query.text(name);
        if !value.is_empty() {
            serializer.append_pair(name, &value);
        }
    }
    serializer.finish()
}

/// `GET /console/audit?actor=&action=&object_kind=&object_id=&app_id=&env_id=&since=&until=&page=`.
pub async fn audit_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let values: HashMap<String, String> = FILTERS
        .iter()
        .map(|name| ((*name).to_owned(), query.text(name)))
        .collect();
    let filter = filter_of(&values)?;
    let page = query.page()?;
    let deepest = usize::try_from(MAX_PAGED_EVENTS).unwrap_or(usize::MAX) / PAGE_SIZE;
    let page = page.min(deepest.max(1));
    let (count, events) = merged_page(
        &call.clients,
        &call.caller,
        &filter,
        i64::try_from(page).unwrap_or(1),
        i64::try_from(PAGE_SIZE).unwrap_or(50),
    )
    .await?;
    let kept: Vec<(&str, String)> = FILTERS
        .iter()
        .map(|name| (*name, query.text(name)))
        .collect();
    let kept_refs: Vec<(&str, &str)> = kept
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let count = usize::try_from(count).unwrap_or(0);
    let frame = signed_in_frame(&request, &call.caller, "audit")?;
    let view = AuditPage {
        filters: FILTERS
            .iter()
            .map(|name| FilterField {
                name,
                value: query.text(name),
                label: format!("audit_{name}"),
            })
            .collect(),
        events: events.into_iter().map(AuditItem::of).collect(),
        paging: Paging::new(
            "/console/audit",
            &kept_refs,
            page,
            PAGE_SIZE,
            count.min(deepest * PAGE_SIZE),
        ),
        export_url: format!("/api/audit/export.csv?{}", filter_query(&query)),
        frame,
    };
    Ok(html(StatusCode::OK, render("audit.html", &view)?))
}

#[cfg(test)]
mod tests {
    use proto::audit::v1 as pb;

    use super::*;
    use crate::{
        audit::ServiceEvent,
        console::{i18n::Lang, view::UserView},
    };

    #[test]
    fn the_page_renders_events_escaped_and_keeps_the_filter_in_its_links() {
        let event = ServiceEvent {
            service: "resource",
            event: pb::AuditEvent {
                seq: 3,
                time_ms: 1_796_515_200_000,
                actor: "<script>alert(1)</script>".into(),
                role: "operator".into(),
                action: "cluster.update".into(),
                object_kind: "cluster".into(),
                object_id: "c\"1".into(),
                reason: Some("forbidden".into()),
                changes: vec![pb::AuditChange {
                    field: "name".into(),
                    before: Some("<b>old</b>".into()),
                    after: None,
                }],
                ..pb::AuditEvent::default()
            },
        };
        let view = AuditPage {
            frame: Frame::new(
                Lang::English,
                "audit",
                Some(UserView {
                    name: "audrey".into(),
                    roles: "auditor".into(),
                    reads_audit: true,
                }),
                Some("csrf".into()),
            ),
            filters: vec![FilterField {
                name: "actor",
                value: "a&b".into(),
                label: "audit_actor".into(),
            }],
            events: vec![AuditItem::of(event)],
            paging: Paging::new("/console/audit", &[("actor", "a&b")], 1, PAGE_SIZE, 120),
            export_url: "/api/audit/export.csv?actor=a%26b".into(),
        };
        let html = render("audit.html", &view).expect("render");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;old&lt;&#x2f;b&gt;"), "{html}");
        assert!(html.contains("2026-12-06T00:00:00.000Z"), "{html}");
        assert!(html.contains("actor=a%26b&amp;page=2"), "{html}");
        assert!(html.contains("export.csv?actor=a%26b"), "{html}");
        assert!(html.contains("id=\"nav-audit\""), "{html}");
        assert!(html.contains("forbidden"), "{html}");
    }
}
