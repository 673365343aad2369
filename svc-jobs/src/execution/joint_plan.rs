//! The dry run of 2.1 (issue 21): what a joint line would run now, without running it. Each
//! node's instance is planned as 6.1's dry run plans it (and that plan is kept under its own
//! id); the joint line's `plan_id` is a keyed fingerprint of the nodes and their instances'
//! plan ids, kept a week, and 2.1 with it starts only while every instance would still run what
//! its plan showed, else the refusal names the instance and what changed.

use serde::{Deserialize, Serialize};

use super::{
    Engine,
    dry_run::{Blocker, InstancePlan},
};
use crate::{
    db::models::{
        joint_lines::{self, JointNodeRow},
        run_plans::{self, RunPlanRow},
    },
    domain::{JobsError, JobsResult, RecordKind},
};

/// A joint line's dry run.
#[derive(Debug, Clone, Serialize)]
pub struct JointLinePlan {
    pub plan_id: String,
    pub jointline_id: String,
    pub use_tad_host: bool,
    /// The nodes in the joint line's order, each with its parents and its instance's plan.
    pub nodes: Vec<PlannedNode>,
    /// Every node plan's blockers, each naming its instance.
    pub blockers: Vec<Blocker>,
}

/// One node of a joint line's dry run.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedNode {
    pub sequence: i64,
    /// The sequences of the nodes it waits for.
    pub parents: Vec<i64>,
    pub plan: InstancePlan,
}

/// What a joint line's plan id stands for: each node's sequence, instance and plan id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct NodePlanId {
    sequence: i64,
    instance_id: String,
    plan_id: String,
}

/// The key a joint line's plan is kept under in `run_plans` (instance ids never hold a `:`).
fn kept_as(joint_line_id: &str) -> String {
    format!("jointline:{joint_line_id}")
}

/// The parents of a node, as saved (a JSON array of sequences).
fn parents_of(node: &JointNodeRow) -> Vec<i64> {
    serde_json::from_str(&node.parents).unwrap_or_default()
}

impl Engine {
    /// The nodes of joint line `id` in order; `jointline_not_found` when there is no such line.
    async fn joint_line_nodes(&self, id: &str) -> JobsResult<Vec<JointNodeRow>> {
        let owned_id = id.to_owned();
        self.inner
            .database
            .run(move |connection| {
                if joint_lines::find(connection, &owned_id)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::JointLine,
                        id: owned_id,
                    });
                }
                Ok(joint_lines::nodes(connection, &owned_id)?)
            })
            .await
    }

    /// The plan id of joint line `id` made of its nodes' plan ids.
    fn joint_plan_id(
        &self,
        id: &str,
        use_tad_host: bool,
        nodes: &[NodePlanId],
    ) -> JobsResult<String> {
        self.fingerprint_of(&("jointline", id, use_tad_host, nodes))
    }

    /// The dry run of 2.1 of joint line `id` (kept under its plan id, as each node's plan is).
    pub async fn plan_joint_line(&self, id: &str, use_tad_host: bool) -> JobsResult<JointLinePlan> {
        let nodes = self.joint_line_nodes(id).await?;
        if nodes.is_empty() {
            return Err(JobsError::NotReady {
                instance_id: id.to_owned(),
                message: "the joint line has no nodes".to_owned(),
            });
        }
        let mut planned = Vec::with_capacity(nodes.len());
        let mut ids = Vec::with_capacity(nodes.len());
        let mut blockers = Vec::new();
        for node in &nodes {
            let plan = self.plan_instance(&node.instance_id, use_tad_host).await?;
            ids.push(NodePlanId {
                sequence: node.sequence,
                instance_id: node.instance_id.clone(),
                plan_id: plan.plan_id.clone(),
            });
            blockers.extend(plan.blockers.iter().map(|blocker| Blocker {
                kind: blocker.kind,
                message: format!(
                    "node {} (instance {}): {}",
                    node.sequence, node.instance_id, blocker.message
                ),
            }));
            planned.push(PlannedNode {
                sequence: node.sequence,
                parents: parents_of(node),
                plan,
            });
        }
        let plan_id = self.joint_plan_id(id, use_tad_host, &ids)?;
        let row = RunPlanRow {
            plan_id: plan_id.clone(),
            instance_id: kept_as(id),
            plans: serde_json::to_string(&ids).map_err(|error| JobsError::Invalid {
                field: "plans",
                message: error.to_string(),
            })?,
            create_time: common::time::now_utc(),
        };
        self.inner
            .database
            .run(move |connection| Ok::<_, JobsError>(run_plans::keep(connection, &row)?))
            .await?;
        Ok(JointLinePlan {
            plan_id,
            jointline_id: id.to_owned(),
            use_tad_host,
            nodes: planned,
            blockers,
        })
    }

    /// Refuses unless `plan_id` is what 2.1 of joint line `id` would run now; the refusal names
    /// each node whose instance would run something else, and what changed in it.
    pub async fn check_joint_plan(
        &self,
        id: &str,
        use_tad_host: bool,
        plan_id: &str,
    ) -> JobsResult<()> {
        let nodes = self.joint_line_nodes(id).await?;
        let mut fresh = Vec::with_capacity(nodes.len());
        for node in &nodes {
            let plans = self.fresh_plans(&node.instance_id).await?;
            fresh.push(NodePlanId {
                sequence: node.sequence,
                instance_id: node.instance_id.clone(),
                plan_id: self.plan_id_of(&node.instance_id, use_tad_host, &plans)?,
            });
        }
        if self.joint_plan_id(id, use_tad_host, &fresh)? == plan_id {
            return Ok(());
        }
        let stored = self
            .kept_plan(plan_id, &kept_as(id), &format!("joint line {id:?}"))
            .await?;
        let before: Vec<NodePlanId> =
            serde_json::from_str(&stored.plans).map_err(|error| JobsError::Invalid {
                field: "plans",
                message: format!("of plan {plan_id} cannot be read: {error}"),
            })?;
        let mut changes = Vec::new();
        let shape = |list: &[NodePlanId]| -> Vec<(i64, String)> {
            list.iter()
                .map(|node| (node.sequence, node.instance_id.clone()))
                .collect()
        };
        if shape(&before) != shape(&fresh) {
            changes.push("the joint line's nodes changed".to_owned());
        }
        for now in &fresh {
            let Some(then) = before
                .iter()
                .find(|then| then.sequence == now.sequence && then.instance_id == now.instance_id)
            else {
                continue;
            };
            if then.plan_id == now.plan_id {
                continue;
            }
            let what = match self
                .check_plan(&now.instance_id, use_tad_host, &then.plan_id)
                .await
            {
                Err(JobsError::PlanChanged { message }) => message,
                Err(error) => return Err(error),
                Ok(()) => continue,
            };
            changes.push(format!(
                "node {} (instance {}): {what}",
                now.sequence, now.instance_id
            ));
        }
        if changes.is_empty() {
            changes.push("use_tad_host differs from the plan's".to_owned());
        }
        Err(JobsError::PlanChanged {
            message: format!(
                "the plan {plan_id} of joint line {id:?} is out of date: {}",
                changes.join("; ")
            ),
        })
    }
}
