//! Deployment requests (issue 20) as the approval routes answer them, and the decision body.

use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::{Deserialize, Serialize};

use super::plans::PlannedStepView;

/// A deployment request on a protected environment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApprovalItem {
    pub id: String,
    /// `deploy` (6.1), `next_step` (6.2), `retry`, `rollback` or `joint_line` (2.1).
    pub kind: String,
    /// The instance, the failed run (retry) or the joint line.
    pub target_id: String,
    pub env_id: String,
    pub application_id: Option<String>,
    /// `pending`, `waiting` (approved, starts when the window opens), `started`, `rejected`,
    /// `void` (the bindings changed: `reason` says what) or `expired`.
    pub status: String,
    pub requested_by: String,
    pub create_time: String,
    pub expires_at: String,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    /// When a waiting request starts.
    pub not_before: Option<String>,
    /// The run it started.
    pub execution_id: Option<String>,
    pub use_tad_host: bool,
}

impl ApprovalItem {
    pub fn from_proto(request: pb::Approval, times: &TimeRenderer) -> ApprovalItem {
        ApprovalItem {
            id: request.id,
            kind: request.kind,
            target_id: request.target_id,
            env_id: request.env_id,
            application_id: request.application_id,
            status: request.status,
            requested_by: request.requested_by,
            create_time: times.render_unix_ms(request.create_time_ms),
            expires_at: times.render_unix_ms(request.expires_at_ms),
            decided_by: request.decided_by,
            comment: request.comment,
            reason: request.reason,
            not_before: request.not_before_ms.map(|ms| times.render_unix_ms(ms)),
            execution_id: request.execution_id,
            use_tad_host: request.use_tad_host,
        }
    }
}

/// One instance's frozen plan: its steps as they will run, secrets as `******`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FrozenPlan {
    pub instance_id: String,
    #[schema(value_type = Vec<Object>)]
    pub steps: serde_json::Value,
    /// The last successful run of the instance, which `changes` compares with (null: never).
    pub compared_with: Option<String>,
    /// Each frozen step next to that run: the hosts each artifact would change, config diffs,
    /// changed parameters (masked), scripts' review.
    pub changes: Vec<PlannedStepView>,
}

/// The jobs service's comparison of a frozen plan with the last successful run.
#[derive(Debug, Deserialize)]
struct Comparison {
    compared_with: Option<String>,
    steps: Vec<PlannedStepView>,
}

/// `GET /api/approvals/{id}`: the request and what it froze, to read before approving.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApprovalDetails {
    pub request: ApprovalItem,
    pub plans: Vec<FrozenPlan>,
}

impl ApprovalDetails {
    /// The details as answered; `Err` says what the jobs service sent that cannot be read.
    pub fn from_proto(
        details: pb::ApprovalDetails,
        times: &TimeRenderer,
    ) -> Result<ApprovalDetails, String> {
        let request = details
            .request
            .ok_or_else(|| "the jobs service answered no deployment request".to_owned())?;
        let request = ApprovalItem::from_proto(request, times);
        let mut plans = Vec::with_capacity(details.plans.len());
        for plan in details.plans {
            let unreadable = |what: &str, error: serde_json::Error| {
                format!(
                    "the {what} of instance {} in deployment request {} cannot be read: {error}",
                    plan.instance_id, request.id
                )
            };
            let steps = serde_json::from_str(&plan.steps_json)
                .map_err(|error| unreadable("frozen plan", error))?;
            let comparison: Comparison = serde_json::from_str(&plan.comparison_json)
                .map_err(|error| unreadable("comparison", error))?;
            plans.push(FrozenPlan {
                instance_id: plan.instance_id,
                steps,
                compared_with: comparison.compared_with,
                changes: comparison.steps,
            });
        }
        Ok(ApprovalDetails { request, plans })
    }
}

/// What an approve or reject did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApprovalDecision {
    pub request: ApprovalItem,
    pub message: String,
}

/// Body of `POST /api/approvals/{id}/approve` and `.../reject` (a reject needs the comment).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}
