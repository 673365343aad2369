//! The audit trail read at the gateway (issue 20): the events of the four services merged newest
//! first, a page at a time (`merged_page`) or as a whole stream (`Export`). The refused writes
//! are recorded by `crate::middleware::record_refusals`.

use std::collections::VecDeque;

use actix_web::web;
use proto::{ErrorReason, audit::v1 as pb};

use crate::{
    clients::{Caller, Clients, reply},
    error::ApiError,
};

/// The services that keep an audit trail, in the order their events are merged on equal times.
pub const SERVICES: [&str; 4] = ["resource", "artifact", "jobs", "appinhouse"];
/// Events asked of each service per batch of an export.
const EXPORT_BATCH: i64 = 500;
/// The deepest event a page may reach (`page` × `page_size`): deeper, narrow the filter or export.
pub const MAX_PAGED_EVENTS: i64 = 10_000;

/// What `GET /api/audit` selects (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub app_id: String,
    pub env_id: String,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

impl AuditFilter {
    fn query(&self, limit: i64, before_seq: Option<i64>) -> pb::AuditQuery {
        pb::AuditQuery {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_kind: self.object_kind.clone(),
            object_id: self.object_id.clone(),
            app_id: self.app_id.clone(),
            env_id: self.env_id.clone(),
            since_ms: self.since_ms,
            until_ms: self.until_ms,
            before_seq,
            limit,
        }
    }
}

/// One event and the service whose trail holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub service: &'static str,
    pub event: pb::AuditEvent,
}

async fn query_service(
    clients: &Clients,
    caller: &Caller,
    service: &'static str,
    query: pb::AuditQuery,
) -> Result<pb::AuditPage, ApiError> {
    let answer = match service {
        "resource" => reply(clients.resource(caller).query_audit(query)).await,
        "artifact" => reply(clients.artifact(caller).query_audit(query)).await,
        "jobs" => reply(clients.jobs(caller).query_audit(query)).await,
        _ => reply(clients.appinhouse_for(caller).query_audit(query)).await,
    };
    answer.map_err(|status| {
        let error = ApiError::from(status);
        ApiError::new(
            error.reason,
            format!("the {service} service's audit trail: {}", error.info),
        )
    })
}

/// Newest first; on equal times, in the order of [`SERVICES`], then newest first in a service.
fn newest_first(left: &ServiceEvent, right: &ServiceEvent) -> std::cmp::Ordering {
    let rank = |service: &str| SERVICES.iter().position(|name| *name == service);
    right
        .event
        .time_ms
        .cmp(&left.event.time_ms)
        .then_with(|| rank(left.service).cmp(&rank(right.service)))
        .then_with(|| right.event.seq.cmp(&left.event.seq))
}

/// Page `page` (from 1) of `page_size` events matching `filter` over every service, newest
/// first, and how many match in all. A service that cannot answer fails the whole page (an
/// audit answer is never silently partial).
pub async fn merged_page(
    clients: &Clients,
    caller: &Caller,
    filter: &AuditFilter,
    page: i64,
    page_size: i64,
) -> Result<(i64, Vec<ServiceEvent>), ApiError> {
    let depth = page.saturating_mul(page_size);
    if depth > MAX_PAGED_EVENTS {
        return Err(ApiError::new(
            ErrorReason::InvalidField,
            format!(
                "query parameter page: page {page} of {page_size} events reaches past the newest {MAX_PAGED_EVENTS}; narrow the filter (since, until) or use /api/audit/export.csv"
            ),
        ));
    }
    let answers = futures::future::join_all(
        SERVICES.map(|service| query_service(clients, caller, service, filter.query(depth, None))),
    )
    .await;
    let mut count = 0;
    let mut events = Vec::new();
    for (service, answer) in SERVICES.into_iter().zip(answers) {
        let answer = answer?;
        count += answer.count;
        events.extend(
            answer
                .events
                .into_iter()
                .map(|event| ServiceEvent { service, event }),
        );
    }
    events.sort_by(newest_first);
    let skip = usize::try_from((page - 1) * page_size).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(0);
    Ok((count, events.into_iter().skip(skip).take(take).collect()))
}

/// Every event matching a filter over every service, newest first, fetched a batch per service
/// at a time as the merge needs it.
pub struct Export {
    clients: web::Data<Clients>,
    caller: Caller,
    filter: AuditFilter,
    buffers: [VecDeque<pb::AuditEvent>; 4],
    /// The smallest sequence number fetched from each service (the next batch's cursor).
    cursors: [Option<i64>; 4],
    exhausted: [bool; 4],
}

impl Export {
    pub fn new(clients: web::Data<Clients>, caller: Caller, filter: AuditFilter) -> Export {
        Export {
            clients,
            caller,
            filter,
            buffers: Default::default(),
            cursors: [None; 4],
            exhausted: [false; 4],
        }
    }

    async fn refill(&mut self, index: usize) -> Result<(), ApiError> {
        let query = self.filter.query(EXPORT_BATCH, self.cursors[index]);
        let answer = query_service(&self.clients, &self.caller, SERVICES[index], query).await?;
        if (answer.events.len() as i64) < EXPORT_BATCH {
            self.exhausted[index] = true;
        }
        if let Some(last) = answer.events.last() {
            self.cursors[index] = Some(last.seq);
        }
        self.buffers[index].extend(answer.events);
        Ok(())
    }

    /// The next `limit` events (fewer at the end; none when done).
    pub async fn next_batch(&mut self, limit: usize) -> Result<Vec<ServiceEvent>, ApiError> {
        let mut batch = Vec::new();
        while batch.len() < limit {
            for index in 0..SERVICES.len() {
                if self.buffers[index].is_empty() && !self.exhausted[index] {
                    self.refill(index).await?;
                }
            }
            let newest = (0..SERVICES.len())
                .filter_map(|index| self.buffers[index].front().map(|event| (index, event)))
                .max_by(|(left_index, left), (right_index, right)| {
                    left.time_ms
                        .cmp(&right.time_ms)
                        .then_with(|| right_index.cmp(left_index))
                })
                .map(|(index, _)| index);
            let Some(index) = newest else {
                break;
            };
            if let Some(event) = self.buffers[index].pop_front() {
                batch.push(ServiceEvent {
                    service: SERVICES[index],
                    event,
                });
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(service: &'static str, seq: i64, time_ms: i64) -> ServiceEvent {
        ServiceEvent {
            service,
            event: pb::AuditEvent {
                seq,
                time_ms,
                ..pb::AuditEvent::default()
            },
        }
    }

    #[test]
    fn events_merge_newest_first_then_by_service_then_by_sequence() {
        let mut events = [
            event("jobs", 1, 100),
            event("resource", 7, 300),
            event("appinhouse", 2, 300),
            event("resource", 6, 300),
            event("artifact", 4, 200),
        ];
        events.sort_by(newest_first);
        let order: Vec<(&str, i64)> = events
            .iter()
            .map(|event| (event.service, event.event.seq))
            .collect();
        assert_eq!(
            order,
            [
                ("resource", 7),
                ("resource", 6),
                ("appinhouse", 2),
                ("artifact", 4),
                ("jobs", 1)
            ]
        );
    }
}
