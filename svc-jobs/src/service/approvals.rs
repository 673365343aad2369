//! Deployment requests on protected environments (issue 20): who may list and decide them
//! (`approver` or admin, never the requester: four-eyes), expiry, and the environment's deploy
//! windows and freeze when an approved run would start (it waits for the next opening or is
//! refused, as the environment says). The engine starts exactly what was approved.

use chrono::Utc;
use common::{
    auth::Role,
    deploy_window,
    paging::PageRequest,
    roles::require,
    time::{format_time, now_utc},
};

use super::{
    Actor, ApprovalRefusal, JobsError, JobsResult, JobsService, RecordKind, require_reader,
};
use crate::{
    db::models::approvals::{self, ApprovalFilter, ApprovalRow, status},
    domain::audit::{self, NewEvent},
    execution::approval::{ApprovedStart, Frozen, describe_closed},
    resource::OutsideWindow,
};

/// The longest decision comment.
const COMMENT: common::limits::Limit = common::limits::Limit {
    max: 1000,
    unit: common::limits::Unit::Chars,
    allow: common::limits::Allow::Multiline,
};

/// A frozen plan as shown to an approver: each step as JSON, every secret value (a parameter
/// whose key names a password or secret) replaced by `******` wherever it appears (parameters,
/// rendered configs, script arguments).
pub fn masked_steps(steps: &[crate::domain::plan::StepPlan]) -> serde_json::Value {
    let shown = steps
        .iter()
        .map(|step| {
            let secrets = step.secret_values();
            let mut value = serde_json::to_value(step).unwrap_or(serde_json::Value::Null);
            mask_values(&mut value, &secrets);
            value
        })
        .collect();
    serde_json::Value::Array(shown)
}

fn mask_values(value: &mut serde_json::Value, secrets: &[String]) {
    match value {
        serde_json::Value::String(text) => *text = crate::execution::dry_run::mask(text, secrets),
        serde_json::Value::Number(number) => {
            if secrets.contains(&number.to_string()) {
                *value = serde_json::Value::String(common::audit::MASKED.to_owned());
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                mask_values(item, secrets);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                mask_values(item, secrets);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) => {}
    }
}

/// What a decision did.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The request as it is now.
    pub request: ApprovalRow,
    /// What happened, in a sentence.
    pub message: String,
}

impl JobsService {
    /// `GET /api/approvals`: one page of requests, newest first, and how many match.
    pub async fn list_approvals(
        &self,
        actor: &Actor,
        filter: ApprovalFilter,
        page: PageRequest,
    ) -> JobsResult<(i64, Vec<ApprovalRow>)> {
        require_reader(actor)?;
        if let Some(wanted) = &filter.status {
            let known = [
                status::PENDING,
                status::WAITING,
                status::STARTED,
                status::REJECTED,
                status::VOID,
                status::EXPIRED,
            ];
            if !known.contains(&wanted.as_str()) {
                return Err(JobsError::Invalid {
                    field: "status",
                    message: format!(
                        "{:?} is not a request status (one of {})",
                        common::limits::excerpt(wanted),
                        known.join(", ")
                    ),
                });
            }
        }
        self.database
            .run(move |connection| {
                Ok::<_, JobsError>(approvals::page(
                    connection,
                    &filter,
                    page.offset(),
                    page.limit(),
                )?)
            })
            .await
    }

    /// `GET /api/approvals/{id}`: a request with the plans it froze (to read before approving).
    pub async fn approval(&self, actor: &Actor, id: &str) -> JobsResult<(ApprovalRow, Frozen)> {
        require_reader(actor)?;
        let row = self.existing_approval(id).await?;
        let frozen = self.engine.open_frozen(&row)?;
        Ok((row, frozen))
    }

    /// Each frozen plan next to the last successful run of its instance (what approving would
    /// change on the hosts), secrets masked.
    pub async fn frozen_comparisons(
        &self,
        frozen: &Frozen,
    ) -> JobsResult<Vec<crate::execution::dry_run::PlanComparison>> {
        let mut compared = Vec::with_capacity(frozen.len());
        for (instance_id, plans) in frozen {
            compared.push(
                self.engine
                    .compare_with_last_success(instance_id, plans)
                    .await?,
            );
        }
        Ok(compared)
    }

    /// `POST /api/approvals/{id}/approve`: starts what the request froze now, or when its
    /// environment opens (or refuses, as the environment says); void when it changed since.
    pub async fn approve(
        &self,
        actor: &Actor,
        id: &str,
        comment: Option<&str>,
    ) -> JobsResult<Decision> {
        let comment = checked_comment(comment)?;
        let row = self.decidable(actor, id).await?;
        let governance = self.engine.env_governance(&row.env_id).await?;
        let closed = deploy_window::check(&governance.windows, governance.frozen_until, Utc::now());
        let Err(closed) = closed else {
            let start = ApprovedStart {
                request: row.clone(),
                from: status::PENDING,
                origin: audit::origin(actor),
                decided_by: actor.username().to_owned(),
                comment: comment.clone(),
            };
            let started = self.engine.start_approved(start).await?;
            let request = self.existing_approval(id).await?;
            return Ok(Decision {
                request,
                message: format!(
                    "approved: execution {} started with the plans frozen when it was asked",
                    started.run_id
                ),
            });
        };
        let (closed_text, opens) = describe_closed(&governance, &closed);
        if governance.outside_window == OutsideWindow::Refuse {
            return Err(JobsError::WindowClosed {
                message: format!(
                    "environment {:?} {closed_text}, and it refuses runs then: deployment request {id} stays pending; approve it again when the environment is open",
                    governance.env_name
                ),
            });
        }
        let Some(opens) = opens else {
            return Err(JobsError::WindowClosed {
                message: format!(
                    "environment {:?} {closed_text}: no deploy window opens within a year, so deployment request {id} stays pending",
                    governance.env_name
                ),
            });
        };
        let reason = format!("environment {closed_text}");
        let origin = audit::origin(actor);
        let by = actor.username().to_owned();
        let (owned_id, owned_comment, owned_reason) = (id.to_owned(), comment.clone(), reason);
        let request = row.clone();
        let waited = self
            .database
            .transaction(move |connection| {
                if !approvals::wait_for(
                    connection,
                    &owned_id,
                    &by,
                    owned_comment.as_deref(),
                    &owned_reason,
                    opens,
                )? {
                    return Ok(false);
                }
                let mut event = NewEvent::new(&origin, "approval.approve", "approval", &owned_id)
                    .app(request.application_id.as_deref())
                    .env(Some(&request.env_id))
                    .change(audit::Change::new(
                        "status",
                        Some(status::PENDING),
                        Some(status::WAITING),
                    ))
                    .change(audit::created("not_before", &format_time(opens)));
                if let Some(comment) = &owned_comment {
                    event = event.change(audit::created("comment", comment));
                }
                audit::append(connection, event)?;
                Ok::<_, JobsError>(true)
            })
            .await?;
        if !waited {
            return Err(decided_meanwhile(id));
        }
        let request = self.existing_approval(id).await?;
        self.engine
            .notify_approval("approval.approved", &request, None);
        Ok(Decision {
            request,
            message: format!(
                "approved: environment {:?} {closed_text}, so the run waits and starts at {} UTC",
                governance.env_name,
                format_time(opens)
            ),
        })
    }

    /// `POST /api/approvals/{id}/reject`: the request ends rejected, with the comment.
    pub async fn reject(&self, actor: &Actor, id: &str, comment: &str) -> JobsResult<Decision> {
        let comment =
            checked_comment(Some(comment))?.ok_or(JobsError::Missing { field: "comment" })?;
        let row = self.decidable(actor, id).await?;
        let origin = audit::origin(actor);
        let by = actor.username().to_owned();
        let owned_comment = comment.clone();
        let rejected = self
            .database
            .transaction(move |connection| {
                if !approvals::decide(
                    connection,
                    &row.id,
                    status::PENDING,
                    status::REJECTED,
                    &by,
                    Some(&owned_comment),
                    None,
                )? {
                    return Ok(false);
                }
                let event = NewEvent::new(&origin, "approval.reject", "approval", &row.id)
                    .app(row.application_id.as_deref())
                    .env(Some(&row.env_id))
                    .change(audit::Change::new(
                        "status",
                        Some(status::PENDING),
                        Some(status::REJECTED),
                    ))
                    .change(audit::created("comment", &owned_comment));
                audit::append(connection, event)?;
                Ok::<_, JobsError>(true)
            })
            .await?;
        if !rejected {
            return Err(decided_meanwhile(id));
        }
        let request = self.existing_approval(id).await?;
        self.engine
            .notify_approval("approval.rejected", &request, None);
        Ok(Decision {
            request,
            message: format!("deployment request {id} rejected"),
        })
    }

    async fn existing_approval(&self, id: &str) -> JobsResult<ApprovalRow> {
        common::limits::check("id", id, common::limits::ID)?;
        let owned = id.to_owned();
        self.database
            .run(move |connection| Ok::<_, JobsError>(approvals::find(connection, &owned)?))
            .await?
            .ok_or_else(|| JobsError::NotFound {
                kind: RecordKind::Approval,
                id: id.to_owned(),
            })
    }

    /// The request `id` when `actor` may decide it now: an approver or admin who did not ask
    /// it, the request pending and not expired (an expired one is marked so on the way).
    async fn decidable(&self, actor: &Actor, id: &str) -> JobsResult<ApprovalRow> {
        require(
            actor,
            &[Role::Approver],
            "lacks the approver or admin role this needs",
        )?;
        let row = self.existing_approval(id).await?;
        if row.requested_by == actor.username() {
            return Err(JobsError::ApprovalRefused {
                reason: ApprovalRefusal::OwnRequest,
                message: format!(
                    "user {:?} asked deployment request {id} and may not decide it (four-eyes): another approver must",
                    actor.username()
                ),
            });
        }
        if row.status == status::EXPIRED {
            return Err(JobsError::ApprovalRefused {
                reason: ApprovalRefusal::Expired,
                message: format!(
                    "deployment request {id} expired at {} UTC without a decision; ask again",
                    format_time(row.expires_at)
                ),
            });
        }
        if row.status != status::PENDING {
            return Err(JobsError::ApprovalRefused {
                reason: ApprovalRefusal::Decided,
                message: format!(
                    "deployment request {id} is {} already, not pending",
                    row.status
                ),
            });
        }
        if row.expires_at <= now_utc() {
            self.engine.expire_request(&row).await?;
            return Err(JobsError::ApprovalRefused {
                reason: ApprovalRefusal::Expired,
                message: format!(
                    "deployment request {id} expired at {} UTC without a decision; ask again",
                    format_time(row.expires_at)
                ),
            });
        }
        Ok(row)
    }
}

fn checked_comment(comment: Option<&str>) -> JobsResult<Option<String>> {
    let comment = comment.map(str::trim).filter(|comment| !comment.is_empty());
    common::limits::check_opt("comment", comment, COMMENT)?;
    Ok(comment.map(str::to_owned))
}

fn decided_meanwhile(id: &str) -> JobsError {
    JobsError::ApprovalRefused {
        reason: ApprovalRefusal::Decided,
        message: format!("deployment request {id} was decided by someone else meanwhile"),
    }
}
