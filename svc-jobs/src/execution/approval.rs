//! Approvals for protected environments (issue 20), the engine's side: a start asked by a client
//! on a protected environment (6.1, 6.2, 2.1, retry, rollback) becomes a deployment request that
//! holds what would run, frozen and sealed; the approved request starts exactly that, and one
//! whose plans no longer match today's bindings is void, naming what changed. Who may decide,
//! expiry and deploy windows are the service's rules (`service::approvals`).

use common::deploy_window::Closed;
use common::{ids::new_id, time::now_utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Engine, Mode, Started, plan::StepPlan};
use crate::{
    db::models::{
        approvals::{self, ApprovalRow, status},
        runs,
    },
    domain::{
        ApprovalRefusal, JobsError, JobsResult,
        audit::{self, NewEvent, Origin},
    },
    resource::EnvGovernance,
};

/// What a deployment request asks to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// 6.1 on an instance.
    Deploy,
    /// 6.2 on an instance.
    NextStep,
    /// Retry of a failed run.
    Retry,
    /// Rollback of an instance.
    Rollback,
    /// 2.1 on a joint line.
    JointLine,
}

impl RequestKind {
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Deploy,
        RequestKind::NextStep,
        RequestKind::Retry,
        RequestKind::Rollback,
        RequestKind::JointLine,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Deploy => "deploy",
            RequestKind::NextStep => "next_step",
            RequestKind::Retry => "retry",
            RequestKind::Rollback => "rollback",
            RequestKind::JointLine => "joint_line",
        }
    }

    pub fn parse(text: &str) -> Option<RequestKind> {
        RequestKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// How a sentence names what is asked.
    fn describe(self) -> &'static str {
        match self {
            RequestKind::Deploy => "deployment (6.1)",
            RequestKind::NextStep => "next step (6.2)",
            RequestKind::Retry => "retry",
            RequestKind::Rollback => "rollback",
            RequestKind::JointLine => "joint line run (2.1)",
        }
    }
}

/// Whether a start needs an approval.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Asked by a client: on a protected environment it becomes a deployment request.
    Ask {
        kind: RequestKind,
        target_id: String,
    },
    /// Nothing to ask: a node of a joint run (the joint run was asked as a whole).
    Open,
    /// Starts an approved request, whose frozen plans must be today's.
    Approved(Box<ApprovedStart>),
}

impl Gate {
    pub fn ask(kind: RequestKind, target_id: &str) -> Gate {
        Gate::Ask {
            kind,
            target_id: target_id.to_owned(),
        }
    }
}

/// An approved request being started.
#[derive(Debug, Clone)]
pub struct ApprovedStart {
    pub request: ApprovalRow,
    /// The status it starts from: `pending` (approved now) or `waiting` (its window opened).
    pub from: &'static str,
    /// Who approved it (`system` when the sweeper starts a waiting one).
    pub origin: Origin,
    pub decided_by: String,
    pub comment: Option<String>,
}

/// One instance's frozen plans, as a request stores them (each plan sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FrozenInstance {
    instance_id: String,
    plans: Vec<String>,
}

/// What a request holds, opened: each instance with its step plans.
pub type Frozen = Vec<(String, Vec<StepPlan>)>;

/// Who asks for what, on which environment.
pub(super) struct Asking<'a> {
    pub kind: RequestKind,
    pub target_id: &'a str,
    pub env_id: &'a str,
    pub application_id: Option<&'a str>,
    pub use_tad_host: bool,
    pub requester: &'a str,
    pub origin: Option<&'a Origin>,
}

impl Engine {
    /// The governance settings of `env_id` (protected, deploy windows, freeze).
    pub async fn env_governance(&self, env_id: &str) -> JobsResult<EnvGovernance> {
        let token = self.inner.service_token()?;
        self.inner.resource.env_governance(&token, env_id).await
    }

    /// Whether runs on `env_id` need an approval.
    pub(super) async fn is_protected(&self, env_id: &str) -> JobsResult<bool> {
        Ok(self.env_governance(env_id).await?.protected)
    }

    /// Marks `row` expired (pending past its expiry), with its `approval.expire` event by
    /// `system`; false when it was decided meanwhile.
    pub async fn expire_request(&self, row: &ApprovalRow) -> JobsResult<bool> {
        let expired = row.clone();
        self.inner
            .database
            .transaction(move |connection| {
                let changed = approvals::decide(
                    connection,
                    &expired.id,
                    status::PENDING,
                    status::EXPIRED,
                    "system",
                    None,
                    Some("no decision before it expired"),
                )?;
                if changed {
                    let event = NewEvent::new(
                        &Origin::system(),
                        "approval.expire",
                        "approval",
                        &expired.id,
                    )
                    .app(expired.application_id.as_deref())
                    .env(Some(&expired.env_id))
                    .change(audit::Change::new(
                        "status",
                        Some(status::PENDING),
                        Some(status::EXPIRED),
                    ));
                    audit::append(connection, event)?;
                }
                Ok::<_, JobsError>(changed)
            })
            .await
    }

    /// Expires the pending requests past their expiry (the sweeper, on every replica: the
    /// status update lets one record each), so that lists show them expired.
    pub(super) async fn expire_overdue_approvals(&self) -> JobsResult<()> {
        let now = now_utc();
        let overdue = self
            .inner
            .database
            .run(move |connection| Ok::<_, JobsError>(approvals::overdue(connection, now)?))
            .await?;
        for row in overdue {
            self.expire_request(&row).await?;
        }
        Ok(())
    }

    /// Starts the approved requests whose deploy window was due (the sweeper, on every replica:
    /// the claim lets one start each); a window closed again postpones one to its next opening.
    pub(super) async fn start_due_approvals(&self) -> JobsResult<()> {
        let now = now_utc();
        let due = self
            .inner
            .database
            .run(move |connection| Ok::<_, JobsError>(approvals::due(connection, now)?))
            .await?;
        for row in due {
            let governance = self.env_governance(&row.env_id).await?;
            if let Err(closed) = common::deploy_window::check(
                &governance.windows,
                governance.frozen_until,
                chrono::Utc::now(),
            ) {
                let (text, opens) = describe_closed(&governance, &closed);
                let opens = opens.unwrap_or(now + chrono::Duration::days(1));
                let (id, reason) = (row.id.clone(), format!("environment {text}"));
                self.inner
                    .database
                    .transaction(move |connection| {
                        Ok::<_, JobsError>(approvals::postpone(connection, &id, opens, &reason)?)
                    })
                    .await?;
                continue;
            }
            let start = ApprovedStart {
                from: status::WAITING,
                origin: Origin::system(),
                decided_by: row.decided_by.clone().unwrap_or_default(),
                comment: row.comment.clone(),
                request: row.clone(),
            };
            match self.start_approved(start).await {
                Ok(started) => {
                    tracing::info!(request = %row.id, execution = %started.run_id, "approved request started in its deploy window")
                }
                // Another run holds the instance: tried again on the next sweep.
                Err(JobsError::RunActive { message, .. }) => {
                    tracing::info!(request = %row.id, %message, "approved request waits for a running execution")
                }
                Err(error) => {
                    tracing::warn!(request = %row.id, %error, "approved request could not start")
                }
            }
        }
        Ok(())
    }

    /// On a protected environment, records the deployment request of `asking` with `frozen` (or
    /// finds the same one already pending) and answers the failure that says so; `None` when
    /// the environment is not protected.
    pub(super) async fn ask_if_protected(
        &self,
        asking: Asking<'_>,
        frozen: Frozen,
    ) -> JobsResult<Option<JobsError>> {
        let token = self.inner.service_token()?;
        let governance = self
            .inner
            .resource
            .env_governance(&token, asking.env_id)
            .await?;
        if !governance.protected {
            return Ok(None);
        }
        let now = now_utc();
        let kind = asking.kind.as_str();
        let (target, requester) = (asking.target_id.to_owned(), asking.requester.to_owned());
        let pending = self
            .inner
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(approvals::pending_of(
                    connection, kind, &target, &requester,
                )?)
            })
            .await?;
        for row in pending.into_iter().filter(|row| row.expires_at > now) {
            if self.open_frozen(&row)? == frozen {
                return Ok(Some(approval_required(
                    &row,
                    &governance.env_name,
                    asking.kind,
                )));
            }
        }
        let ttl_hours = i64::try_from(self.inner.options.approval_ttl_hours).unwrap_or(24);
        let row = ApprovalRow {
            id: new_id(),
            kind: kind.to_owned(),
            target_id: asking.target_id.to_owned(),
            use_tad_host: asking.use_tad_host,
            application_id: asking.application_id.map(str::to_owned),
            env_id: asking.env_id.to_owned(),
            plans: self.seal_frozen(&frozen)?,
            status: status::PENDING.to_owned(),
            requested_by: asking.requester.to_owned(),
            create_time: now,
            expires_at: now + chrono::Duration::hours(ttl_hours),
            decided_by: None,
            comment: None,
            reason: None,
            not_before: None,
            execution_id: None,
        };
        let origin = asking.origin.cloned().unwrap_or_else(Origin::system);
        let inserted = row.clone();
        self.inner
            .database
            .transaction(move |connection| {
                approvals::insert(connection, &inserted)?;
                let event = NewEvent::new(&origin, "approval.request", "approval", &inserted.id)
                    .app(inserted.application_id.as_deref())
                    .env(Some(&inserted.env_id))
                    .change(audit::created("kind", &inserted.kind))
                    .change(audit::created("target_id", &inserted.target_id));
                audit::append(connection, event)?;
                Ok::<_, JobsError>(())
            })
            .await?;
        tracing::info!(request = %row.id, kind, target = %row.target_id, "deployment request asked");
        self.notify_approval("approval.requested", &row, None);
        Ok(Some(approval_required(
            &row,
            &governance.env_name,
            asking.kind,
        )))
    }

    /// Refuses to start `approved` when what it froze is not `now` any more: the request is
    /// void from then on, and the refusal says what changed.
    pub(super) async fn check_frozen(
        &self,
        approved: &ApprovedStart,
        now: &Frozen,
    ) -> JobsResult<()> {
        let frozen = self.open_frozen(&approved.request)?;
        let changes = frozen_changes(&frozen, now);
        if changes.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "what it would run changed since it was asked: {}",
            changes.join("; ")
        );
        let request = approved.request.clone();
        let (from, by) = (approved.from, approved.decided_by.clone());
        let (origin, comment, stored_reason) = (
            approved.origin.clone(),
            approved.comment.clone(),
            reason.clone(),
        );
        self.inner
            .database
            .transaction(move |connection| {
                if approvals::decide(
                    connection,
                    &request.id,
                    from,
                    status::VOID,
                    &by,
                    comment.as_deref(),
                    Some(&stored_reason),
                )? {
                    let event = NewEvent::new(&origin, "approval.void", "approval", &request.id)
                        .app(request.application_id.as_deref())
                        .env(Some(&request.env_id))
                        .change(audit::Change::new("status", Some(from), Some(status::VOID)))
                        .change(audit::created("reason", &stored_reason));
                    audit::append(connection, event)?;
                }
                Ok::<_, JobsError>(())
            })
            .await?;
        Err(JobsError::ApprovalRefused {
            reason: ApprovalRefusal::Void,
            message: format!(
                "deployment request {} is void: {reason}; ask again to approve what would run now",
                approved.request.id
            ),
        })
    }

    /// Starts an approved request: the start it asked, gated by its frozen plans.
    pub async fn start_approved(&self, approved: ApprovedStart) -> JobsResult<Started> {
        let request = approved.request.clone();
        let kind = RequestKind::parse(&request.kind).ok_or_else(|| JobsError::Invalid {
            field: "kind",
            message: format!(
                "of deployment request {} is {:?}, which nothing starts",
                request.id, request.kind
            ),
        })?;
        let requester = request.requested_by.clone();
        let target = request.target_id.clone();
        let use_tad_host = request.use_tad_host;
        let gate = Gate::Approved(Box::new(approved));
        // The start is recorded by the request's own event (`approval.approve`, or
        // `approval.start` at a window's opening), which names the run: one event per action.
        match kind {
            RequestKind::Deploy | RequestKind::NextStep => {
                let mode = if kind == RequestKind::NextStep {
                    Mode::NextStep
                } else {
                    Mode::All
                };
                self.start_once(&requester, None, gate, &target, mode, use_tad_host, None)
                    .await
            }
            RequestKind::Retry => self.retry_once(&requester, None, gate, &target, None).await,
            RequestKind::Rollback => {
                self.rollback_once(&requester, None, gate, &target, use_tad_host, None)
                    .await
            }
            RequestKind::JointLine => {
                self.start_joint_once(&requester, None, gate, &target, use_tad_host, None)
                    .await
            }
        }
    }

    /// The plans a request froze, opened.
    pub fn open_frozen(&self, row: &ApprovalRow) -> JobsResult<Frozen> {
        let stored: Vec<FrozenInstance> =
            serde_json::from_str(&row.plans).map_err(|error| JobsError::Invalid {
                field: "plans",
                message: format!("of deployment request {} cannot be read: {error}", row.id),
            })?;
        stored
            .into_iter()
            .map(|instance| {
                let plans = instance
                    .plans
                    .iter()
                    .map(|sealed| self.inner.sealer.open_plan(sealed))
                    .collect::<JobsResult<Vec<_>>>()?;
                Ok((instance.instance_id, plans))
            })
            .collect()
    }

    fn seal_frozen(&self, frozen: &Frozen) -> JobsResult<String> {
        let stored = frozen
            .iter()
            .map(|(instance_id, plans)| {
                Ok(FrozenInstance {
                    instance_id: instance_id.clone(),
                    plans: plans
                        .iter()
                        .map(|plan| self.inner.sealer.seal_plan(plan))
                        .collect::<JobsResult<Vec<_>>>()?,
                })
            })
            .collect::<JobsResult<Vec<_>>>()?;
        serde_json::to_string(&stored).map_err(|error| JobsError::Invalid {
            field: "plans",
            message: error.to_string(),
        })
    }

    /// The plans a retry of `run_id` runs again: the run's own snapshots.
    pub(super) async fn plans_of_run(&self, run_id: &str) -> JobsResult<Vec<StepPlan>> {
        let owned = run_id.to_owned();
        let steps = self
            .inner
            .database
            .run(move |connection| Ok::<_, JobsError>(runs::steps(connection, &owned)?))
            .await?;
        steps
            .iter()
            .map(|step| self.inner.sealer.open_plan(&step.snapshot))
            .collect()
    }

    /// Posts a deployment request's webhook (`approval.requested`, `.approved`, `.rejected`).
    pub fn notify_approval(
        &self,
        event: &'static str,
        row: &ApprovalRow,
        execution_id: Option<&str>,
    ) {
        self.inner.notifier.notify(
            event,
            json!({
                "event": event,
                "request_id": row.id,
                "kind": row.kind,
                "target_id": row.target_id,
                "application_id": row.application_id,
                "env_id": row.env_id,
                "requested_by": row.requested_by,
                "status": row.status,
                "decided_by": row.decided_by,
                "comment": row.comment,
                "expires_at": common::time::format_time(row.expires_at),
                "not_before": row.not_before.map(common::time::format_time),
                "execution_id": execution_id,
            }),
        );
    }
}

/// What the claim of an approved start writes with it.
#[derive(Debug, Clone)]
pub(super) struct StartMark {
    start: ApprovedStart,
}

impl StartMark {
    pub(super) fn of(gate: &Gate) -> Option<StartMark> {
        match gate {
            Gate::Approved(start) => Some(StartMark {
                start: (**start).clone(),
            }),
            _ => None,
        }
    }

    /// In the claim's transaction: the request is started (no other replica got there first)
    /// and its approval is on record.
    pub(super) fn record(
        &self,
        connection: &mut common::db::DbConnection,
        execution_id: &str,
    ) -> JobsResult<()> {
        let start = &self.start;
        let request = &start.request;
        if !approvals::mark_started(
            connection,
            &request.id,
            start.from,
            execution_id,
            &start.decided_by,
            start.comment.as_deref(),
        )? {
            return Err(JobsError::ApprovalRefused {
                reason: ApprovalRefusal::Decided,
                message: format!(
                    "deployment request {} was decided or started by someone else meanwhile",
                    request.id
                ),
            });
        }
        let action = if start.from == status::WAITING {
            "approval.start"
        } else {
            "approval.approve"
        };
        let mut event = NewEvent::new(&start.origin, action, "approval", &request.id)
            .app(request.application_id.as_deref())
            .env(Some(&request.env_id))
            .change(audit::Change::new(
                "status",
                Some(start.from),
                Some(status::STARTED),
            ))
            .change(audit::created("execution_id", execution_id));
        if let Some(comment) = &start.comment {
            event = event.change(audit::created("comment", comment));
        }
        audit::append(connection, event)
    }

    /// The request as it is once started (for the webhook).
    pub(super) fn started_row(&self, execution_id: &str) -> ApprovalRow {
        let mut row = self.start.request.clone();
        row.status = status::STARTED.to_owned();
        row.decided_by = Some(self.start.decided_by.clone());
        row.comment = self.start.comment.clone();
        row.execution_id = Some(execution_id.to_owned());
        row
    }

    /// Whether the webhook of the approval is sent at this start (a waiting request sent it
    /// when it was approved).
    pub(super) fn approved_now(&self) -> bool {
        self.start.from == status::PENDING
    }
}

/// How a closed environment is described ("is frozen until …", "is outside its deploy
/// windows (…)"), and when it opens next (`None`: not within a year).
pub fn describe_closed(
    governance: &EnvGovernance,
    closed: &Closed,
) -> (String, Option<chrono::NaiveDateTime>) {
    match closed {
        Closed::Frozen { until } => (
            format!(
                "is frozen until {} UTC",
                common::time::format_time(until.naive_utc())
            ),
            Some(until.naive_utc()),
        ),
        Closed::OutsideWindows { next } => {
            let windows: Vec<&str> = governance
                .windows
                .iter()
                .map(|window| window.cron_text.as_str())
                .collect();
            let text = format!(
                "is outside its deploy windows ({} in {})",
                windows.join(" | "),
                governance
                    .windows
                    .first()
                    .map(|window| window.timezone.as_str())
                    .unwrap_or("UTC")
            );
            let opens = next.map(|next| next.naive_utc());
            match opens {
                Some(opens) => (
                    format!(
                        "{text}; the next opens at {} UTC",
                        common::time::format_time(opens)
                    ),
                    Some(opens),
                ),
                None => (text, None),
            }
        }
    }
}

fn approval_required(row: &ApprovalRow, env_name: &str, kind: RequestKind) -> JobsError {
    JobsError::ApprovalRequired {
        request_id: row.id.clone(),
        message: format!(
            "environment {env_name:?} is protected: this {} waits for approval as deployment request {} (expires {} UTC)",
            kind.describe(),
            row.id,
            common::time::format_time(row.expires_at)
        ),
    }
}

/// What differs between the plans a request froze and today's, as short phrases naming the
/// instance, the step and the parts that changed.
pub fn frozen_changes(frozen: &Frozen, now: &Frozen) -> Vec<String> {
    let mut changes = Vec::new();
    for (instance_id, plans) in frozen {
        match now.iter().find(|(id, _)| id == instance_id) {
            None => changes.push(format!("instance {instance_id} is no longer part of it")),
            Some((_, today)) => {
                for change in step_changes(plans, today) {
                    changes.push(if frozen.len() > 1 {
                        format!("instance {instance_id}: {change}")
                    } else {
                        change
                    });
                }
            }
        }
    }
    for (instance_id, _) in now {
        if !frozen.iter().any(|(id, _)| id == instance_id) {
            changes.push(format!("instance {instance_id} was added"));
        }
    }
    changes
}

fn step_changes(before: &[StepPlan], after: &[StepPlan]) -> Vec<String> {
    let mut changes = Vec::new();
    for old in before {
        let Some(new) = after.iter().find(|plan| plan.sequence == old.sequence) else {
            changes.push(format!("step {} is gone", old.sequence));
            continue;
        };
        let parts: Vec<&str> = [
            (
                old.method_id != new.method_id || old.component_id != new.component_id,
                "method",
            ),
            (old.cluster_id != new.cluster_id, "cluster"),
            (old.hosts != new.hosts, "hosts"),
            (old.package != new.package, "method package"),
            (old.params != new.params, "parameters"),
            (old.artifacts != new.artifacts, "artifacts"),
            (old.configs != new.configs, "app configs"),
            (old.scripts != new.scripts, "scripts"),
            (
                old.timeout_secs != new.timeout_secs
                    || old.batch_size != new.batch_size
                    || old.batch_pause_secs != new.batch_pause_secs
                    || old.rollout != new.rollout,
                "timeout or batches",
            ),
        ]
        .into_iter()
        .filter_map(|(differs, part)| differs.then_some(part))
        .collect();
        if !parts.is_empty() {
            changes.push(format!(
                "step {} {} changed",
                old.sequence,
                parts.join(", ")
            ));
        }
    }
    for new in after {
        if !before.iter().any(|plan| plan.sequence == new.sequence) {
            changes.push(format!("step {} was added", new.sequence));
        }
    }
    changes
}
