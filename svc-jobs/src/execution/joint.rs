//! Joint-line runs (2.1): a parent record over the runs of a joint line's instances. A node
//! starts when all its parents succeeded; independent branches run at once; a node that does not
//! succeed blocks its descendants only, other branches finish. Running the joint line again
//! continues a joint run that did not succeed: succeeded nodes never run again, the others
//! continue their instances' runs (so finished steps are not re-run either).

use std::collections::HashMap;

use common::{
    db::{DbConnection, DbError},
    ids::new_id,
    time::now_utc,
};
use serde_json::json;
use tokio::{sync::watch, task::JoinSet};

use super::{
    Engine, Inner, Mode, RunEnd, Started,
    approval::{Asking, Gate, RequestKind, StartMark},
    idempotency::{self, Keyed},
    lease,
};
use crate::{
    db::models::{
        instances,
        joint_lines::{self, JointNodeRow},
        joint_runs::{self, BLOCKED, JointRunNodeRow, JointRunRow},
        runs::state,
    },
    domain::{
        JobsError, JobsResult, RecordKind,
        audit::{self, NewEvent, Origin},
    },
};

/// A joint run and its nodes, each with its instance's name.
#[derive(Debug, Clone)]
pub struct JointTree {
    pub run: JointRunRow,
    pub nodes: Vec<(JointRunNodeRow, String)>,
}

/// Whether a joint run's nodes are the joint line's nodes as saved now.
fn same_nodes(run_nodes: &[JointRunNodeRow], line_nodes: &[JointNodeRow]) -> bool {
    run_nodes.len() == line_nodes.len()
        && run_nodes.iter().zip(line_nodes).all(|(run, line)| {
            run.sequence == line.sequence
                && run.instance_id == line.instance_id
                && run.parents == line.parents
        })
}

impl Engine {
    /// 2.1: runs a joint line, or continues its latest joint run when that did not succeed.
    /// With `origin`, recorded as `joint_line.run` (the runs its nodes start are not recorded
    /// apart: this event covers them).
    pub async fn start_joint(
        &self,
        started_by: &str,
        origin: Option<&Origin>,
        joint_line_id: &str,
        use_tad_host: bool,
        keyed: Option<&Keyed>,
    ) -> JobsResult<Started> {
        let origin = origin.cloned();
        let gate = match origin {
            Some(_) => Gate::ask(RequestKind::JointLine, joint_line_id),
            None => Gate::Open,
        };
        let start = self.start_joint_once(
            started_by,
            origin,
            gate,
            joint_line_id,
            use_tad_host,
            keyed.cloned(),
        );
        self.keyed(keyed, start).await
    }

    /// Asks for an approval when an instance of the joint line is on a protected environment
    /// (the request freezes what each of its instances would run now), or checks that an
    /// approved one still runs what it froze.
    async fn gate_joint(
        &self,
        gate: &Gate,
        joint_line_id: &str,
        started_by: &str,
        origin: Option<&Origin>,
        use_tad_host: bool,
    ) -> JobsResult<()> {
        if matches!(gate, Gate::Open) {
            return Ok(());
        }
        let owned_line = joint_line_id.to_owned();
        let node_instances = self
            .inner
            .database
            .run(move |connection| {
                let mut found: Vec<(String, String)> = Vec::new();
                for node in joint_lines::nodes(connection, &owned_line)? {
                    if found.iter().any(|(id, _)| *id == node.instance_id) {
                        continue;
                    }
                    let instance = super::existing_instance(connection, &node.instance_id)?;
                    found.push((instance.id, instance.env_id));
                }
                Ok::<_, JobsError>(found)
            })
            .await?;
        let mut protected_env = None;
        for (_, env_id) in &node_instances {
            if protected_env.is_none() && self.is_protected(env_id).await? {
                protected_env = Some(env_id.clone());
            }
        }
        let Some(env_id) = protected_env else {
            return Ok(());
        };
        let mut frozen = Vec::with_capacity(node_instances.len());
        for (instance_id, _) in &node_instances {
            frozen.push((instance_id.clone(), self.fresh_plans(instance_id).await?));
        }
        match gate {
            Gate::Ask { kind, target_id } => {
                let asking = Asking {
                    kind: *kind,
                    target_id,
                    env_id: &env_id,
                    application_id: None,
                    use_tad_host,
                    requester: started_by,
                    origin,
                };
                match self.ask_if_protected(asking, frozen).await? {
                    Some(asked) => Err(asked),
                    None => Ok(()),
                }
            }
            Gate::Approved(approved) => self.check_frozen(approved, &frozen).await,
            Gate::Open => Ok(()),
        }
    }

    pub(super) async fn start_joint_once(
        &self,
        started_by: &str,
        origin: Option<Origin>,
        gate: Gate,
        joint_line_id: &str,
        use_tad_host: bool,
        keyed: Option<Keyed>,
    ) -> JobsResult<Started> {
        self.gate_joint(
            &gate,
            joint_line_id,
            started_by,
            origin.as_ref(),
            use_tad_host,
        )
        .await?;
        let mark = StartMark::of(&gate);
        let claim_mark = mark.clone();
        let inner = &self.inner;
        let owned_line = joint_line_id.to_owned();
        let owner = inner.replica.clone();
        let leased_at = tokio::time::Instant::now();
        let lease_until = inner.lease_until();
        let starter = started_by.to_owned();
        let claimed = inner
            .database
            .transaction(move |connection| {
                let line =
                    joint_lines::find(connection, &owned_line)?.ok_or(JobsError::NotFound {
                        kind: RecordKind::JointLine,
                        id: owned_line.clone(),
                    })?;
                let line_nodes = joint_lines::nodes(connection, &owned_line)?;
                if line_nodes.is_empty() {
                    return Err(JobsError::Conflict {
                        message: format!("joint line {:?} has no instances to run", line.name),
                    });
                }
                let latest = joint_runs::latest_of_line(connection, &owned_line)?;
                if let Some(running) = latest.as_ref().filter(|run| run.status == state::RUNNING) {
                    return Err(JobsError::RunActive {
                        run_id: running.id.clone(),
                        message: format!(
                            "joint line {:?} is already running joint execution {}",
                            line.name, running.id
                        ),
                    });
                }
                let now = now_utc();
                let mut continued = None;
                if let Some(run) = latest.filter(|run| run.status != state::SUCCESS) {
                    let run_nodes = joint_runs::nodes(connection, &run.id)?;
                    if same_nodes(&run_nodes, &line_nodes) {
                        joint_runs::reset_unfinished_nodes(connection, &run.id)?;
                        continued = Some(run.id);
                    }
                }
                let id = match continued {
                    Some(id) => id,
                    None => {
                        let run = JointRunRow {
                            id: new_id(),
                            joint_line_id: owned_line.clone(),
                            status: state::PENDING.to_owned(),
                            use_tad_host,
                            started_by: starter,
                            owner: None,
                            lease_until: None,
                            message: None,
                            create_time: now,
                            start_time: None,
                            end_time: None,
                        };
                        let nodes: Vec<JointRunNodeRow> = line_nodes
                            .iter()
                            .map(|node| JointRunNodeRow {
                                joint_run_id: run.id.clone(),
                                sequence: node.sequence,
                                instance_id: node.instance_id.clone(),
                                parents: node.parents.clone(),
                                run_id: None,
                                status: state::PENDING.to_owned(),
                                message: None,
                            })
                            .collect();
                        joint_runs::insert(connection, &run, &nodes)?;
                        run.id
                    }
                };
                if !joint_runs::claim(connection, &id, &owner, now, lease_until, use_tad_host)? {
                    return Err(JobsError::RunActive {
                        message: format!("joint execution {id} is already running"),
                        run_id: id,
                    });
                }
                if let Some(keyed) = &keyed {
                    idempotency::store(connection, keyed, &id)?;
                }
                if let Some(mark) = &claim_mark {
                    mark.record(connection, &id)?;
                }
                if let Some(origin) = &origin {
                    let event = NewEvent::new(origin, "joint_line.run", "joint_execution", &id)
                        .change(audit::created("joint_line_id", &owned_line));
                    audit::append(connection, event)?;
                }
                Ok(id)
            })
            .await
            .map_err(|error| match error {
                JobsError::Database(DbError::Query(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ))) => JobsError::RunActive {
                    run_id: String::new(),
                    message: format!(
                        "joint line {joint_line_id} was started by another request at the same time"
                    ),
                },
                other => other,
            })?;
        inner
            .events
            .reads()
            .changed(&[crate::domain::JOINT_RUNS_SCOPE])
            .await;
        if let Some(mark) = mark.filter(StartMark::approved_now) {
            self.notify_approval(
                "approval.approved",
                &mark.started_row(&claimed),
                Some(&claimed),
            );
        }
        let (finished_sender, finished) = watch::channel(None);
        let engine = self.clone();
        let joint_id = claimed.clone();
        let starter = started_by.to_owned();
        tracing::info!(joint_run = %joint_id, joint_line = joint_line_id, "joint execution started");
        tokio::spawn(async move {
            let end = coordinate(&engine, &joint_id, leased_at, &starter, use_tad_host).await;
            tracing::info!(joint_run = %joint_id, status = %end.status, "joint execution ended");
            let _ = finished_sender.send(Some(end));
        });
        Ok(Started::here(claimed, finished))
    }

    /// A joint run with its nodes, when `id` is one.
    pub async fn joint_tree(&self, id: &str) -> JobsResult<Option<JointTree>> {
        let owned_id = id.to_owned();
        self.inner
            .database
            .run(move |connection| {
                let Some(run) = joint_runs::find(connection, &owned_id)? else {
                    return Ok(None);
                };
                let nodes = joint_runs::nodes(connection, &owned_id)?;
                let ids: Vec<String> = nodes.iter().map(|node| node.instance_id.clone()).collect();
                let found = instances::find_many(connection, &ids)?;
                let nodes = nodes
                    .into_iter()
                    .map(|node| {
                        let name = found
                            .iter()
                            .find(|instance| instance.id == node.instance_id)
                            .map(|instance| instance.name.clone())
                            .unwrap_or_default();
                        (node, name)
                    })
                    .collect();
                Ok::<_, JobsError>(Some(JointTree { run, nodes }))
            })
            .await
    }
}

/// Statuses after which a node's descendants do not run.
fn blocks_descendants(status: &str) -> bool {
    matches!(
        status,
        state::FAILED | state::STOPPED | state::INTERRUPTED | BLOCKED
    )
}

/// One write of the joint run's records, in a transaction of its own (1.5 reads it at once).
async fn joint_write<T: Send + 'static>(
    inner: &Inner,
    write: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
) -> Result<T, DbError> {
    let written = inner
        .database
        .transaction(move |connection| write(connection).map_err(DbError::Query))
        .await;
    inner
        .events
        .reads()
        .written(&[crate::domain::JOINT_RUNS_SCOPE], written)
        .await
}

async fn set_node(
    inner: &Inner,
    joint_id: &str,
    sequence: i64,
    status: &str,
    run_id: Option<String>,
    message: Option<String>,
) {
    let (id, status) = (joint_id.to_owned(), status.to_owned());
    let result = joint_write(inner, move |connection| {
        let (run_id, message) = (run_id.as_deref(), message.as_deref());
        joint_runs::set_node(connection, &id, sequence, &status, run_id, message)
    })
    .await;
    if let Err(error) = result {
        tracing::error!(joint_run = joint_id, sequence, %error, "cannot record a joint node");
    }
}

async fn coordinate(
    engine: &Engine,
    joint_id: &str,
    leased_at: tokio::time::Instant,
    started_by: &str,
    use_tad_host: bool,
) -> RunEnd {
    let inner = engine.inner.clone();
    let (lost_sender, lost) = tokio::sync::oneshot::channel();
    let keeper = tokio::spawn(lease::keep_lease(
        inner.clone(),
        joint_id.to_owned(),
        lease::HeldUntil::claimed(&inner, leased_at),
        joint_runs::renew_lease,
        |held: bool| held,
        lost_sender,
    ));
    // A replica that gave the joint run up stops coordinating it where it is (no further node
    // starts here; the node runs started go on under their own leases).
    let outcome = tokio::select! {
        outcome = run_nodes(engine, joint_id, started_by, use_tad_host) => outcome,
        () = lease::given_up(lost) => {
            keeper.abort();
            return RunEnd {
                status: state::INTERRUPTED.to_owned(),
                message: Some("this replica gave the joint run up: it could no longer be sure it held the joint run's lease".to_owned()),
            };
        }
    };
    keeper.abort();
    let (status, message) = match outcome {
        Ok(ended) => ended,
        Err(error) => (
            state::FAILED.to_owned(),
            Some(format!("the joint run could not go on: {error}")),
        ),
    };
    let (owner, id) = (inner.replica.clone(), joint_id.to_owned());
    let end = RunEnd { status, message };
    let recorded = end.clone();
    let finished = joint_write(&inner, move |connection| {
        let (status, message) = (&recorded.status, recorded.message.as_deref());
        joint_runs::finish(connection, &id, &owner, status, message, now_utc())
    })
    .await;
    if let Err(error) = finished {
        tracing::error!(joint_run = joint_id, %error, "cannot record the end of a joint run");
    }
    notify_joint_finished(engine, joint_id).await;
    end
}

/// Posts the finished joint run to the webhooks: its outcome, times (UTC, RFC 3339) and each
/// node's run and status. Also for a joint run the sweep declared `interrupted`.
pub(super) async fn notify_joint_finished(engine: &Engine, joint_id: &str) {
    if let Ok(Some(tree)) = engine.joint_tree(joint_id).await {
        let nodes: Vec<serde_json::Value> = tree
            .nodes
            .iter()
            .map(|(node, name)| {
                json!({"sequence": node.sequence, "instance_id": node.instance_id, "instance_name": name,
                    "execution_id": node.run_id, "status": node.status, "message": node.message})
            })
            .collect();
        let time = |time: Option<chrono::NaiveDateTime>| {
            time.map(|time| {
                time.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
        };
        engine.inner.notifier.notify(
            "joint_execution.finished",
            json!({
                "event": "joint_execution.finished",
                "execution_id": tree.run.id,
                "kind": "joint",
                "joint_line_id": tree.run.joint_line_id,
                "status": tree.run.status,
                "message": tree.run.message,
                "started_by": tree.run.started_by,
                "start_time": time(tree.run.start_time),
                "end_time": time(tree.run.end_time),
                "nodes": nodes,
            }),
        );
    }
}

/// Starts nodes as their parents succeed until nothing more can run; answers the joint
/// outcome and the first failure.
async fn run_nodes(
    engine: &Engine,
    joint_id: &str,
    started_by: &str,
    use_tad_host: bool,
) -> JobsResult<(String, Option<String>)> {
    let inner = engine.inner.clone();
    let owned_id = joint_id.to_owned();
    let nodes = inner
        .database
        .run(move |connection| Ok::<_, JobsError>(joint_runs::nodes(connection, &owned_id)?))
        .await?;
    let parents: HashMap<i64, Vec<i64>> = nodes
        .iter()
        .map(|node| {
            (
                node.sequence,
                serde_json::from_str(&node.parents).unwrap_or_default(),
            )
        })
        .collect();
    let mut status: HashMap<i64, String> = nodes
        .iter()
        .map(|node| (node.sequence, node.status.clone()))
        .collect();
    let mut first_failure: Option<String> = None;
    let mut running: JoinSet<(i64, Option<String>, RunEnd)> = JoinSet::new();
    loop {
        // Block the descendants of nodes that did not succeed, until nothing changes.
        loop {
            let mut blocked = Vec::new();
            for node in &nodes {
                if status.get(&node.sequence).map(String::as_str) != Some(state::PENDING) {
                    continue;
                }
                let blocking = parents[&node.sequence].iter().find(|parent| {
                    status
                        .get(parent)
                        .is_some_and(|parent_status| blocks_descendants(parent_status))
                });
                if let Some(parent) = blocking {
                    blocked.push((node.sequence, *parent));
                }
            }
            if blocked.is_empty() {
                break;
            }
            for (sequence, parent) in blocked {
                status.insert(sequence, BLOCKED.to_owned());
                set_node(
                    &inner,
                    joint_id,
                    sequence,
                    BLOCKED,
                    None,
                    Some(format!("not run: node {parent} did not succeed")),
                )
                .await;
            }
        }
        for node in &nodes {
            let ready = status.get(&node.sequence).map(String::as_str) == Some(state::PENDING)
                && parents[&node.sequence]
                    .iter()
                    .all(|parent| status.get(parent).map(String::as_str) == Some(state::SUCCESS));
            if !ready {
                continue;
            }
            status.insert(node.sequence, state::RUNNING.to_owned());
            set_node(&inner, joint_id, node.sequence, state::RUNNING, None, None).await;
            let engine = engine.clone();
            let sequence = node.sequence;
            let instance_id = node.instance_id.clone();
            let starter = started_by.to_owned();
            let joint = joint_id.to_owned();
            running.spawn(async move {
                match engine
                    .start(&starter, None, &instance_id, Mode::All, use_tad_host, None)
                    .await
                {
                    Ok(started) => {
                        let run_id = started.run_id.clone();
                        set_node(
                            &engine.inner,
                            &joint,
                            sequence,
                            state::RUNNING,
                            Some(run_id.clone()),
                            None,
                        )
                        .await;
                        (sequence, Some(run_id), started.wait().await)
                    }
                    Err(error) => (
                        sequence,
                        None,
                        RunEnd {
                            status: state::FAILED.to_owned(),
                            message: Some(error.to_string()),
                        },
                    ),
                }
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (sequence, run_id, end) = joined.map_err(|error| JobsError::Invalid {
            field: "joint run",
            message: format!("a node's worker stopped: {error}"),
        })?;
        let node_status = if end.succeeded() {
            state::SUCCESS.to_owned()
        } else {
            end.status.clone()
        };
        if !end.succeeded() && first_failure.is_none() {
            let instance = nodes
                .iter()
                .find(|node| node.sequence == sequence)
                .map(|node| node.instance_id.clone())
                .unwrap_or_default();
            first_failure = Some(format!(
                "node {sequence} (job instance {instance}) {}: {}",
                end.status,
                end.message.clone().unwrap_or_default()
            ));
        }
        status.insert(sequence, node_status.clone());
        set_node(
            &inner,
            joint_id,
            sequence,
            &node_status,
            run_id,
            end.message,
        )
        .await;
    }
    let all_succeeded = status.values().all(|status| status == state::SUCCESS);
    Ok(if all_succeeded {
        (state::SUCCESS.to_owned(), None)
    } else {
        (
            state::FAILED.to_owned(),
            first_failure.or_else(|| Some("some nodes did not run".to_owned())),
        )
    })
}
