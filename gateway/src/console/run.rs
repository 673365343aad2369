//! The console's run page (issue 18): the run tree (steps → hosts) as the jobs service answers
//! `GET /api/executions/{id}`, and the write controls the caller's roles allow, each with the
//! plan its confirmation states: stop (the running step's hosts, the steps not run), retry (the
//! unfinished hosts of the first unfinished step, then the steps after it) and rollback (the
//! previous successful run's snapshot: its hosts and artifact versions, found as the service
//! finds it: the second newest success by end time). The page's script
//! (`gateway/assets/console-run.js`) then follows the run over SSE and streams host logs. Its
//! messages are in `messages/run.rs`.

use common::{auth::Role, time::TimeRenderer};
use proto::jobs::v1 as pb;
use serde::Serialize;

use super::{
    dashboard::{duration_text, status_class, status_text},
    i18n::Lang,
    view::Frame,
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
};

/// Most history pages read to find the rollback target (100 runs each).
const MAX_HISTORY_PAGES: u32 = 20;
const HISTORY_PAGE_SIZE: u32 = 100;

/// A status as the page shows it: the word, its CSS class and its text in the page's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusView {
    pub word: String,
    pub class: String,
    pub text: String,
}

impl StatusView {
    pub fn new(lang: Lang, word: &str) -> StatusView {
        StatusView {
            word: word.to_owned(),
            class: status_class(word).to_owned(),
            text: status_text(lang, word),
        }
    }
}

/// A host task of a step.
#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    pub id: String,
    pub ip: String,
    pub status: StatusView,
    pub exit_code: Option<i32>,
    pub message: Option<String>,
    pub log_size: i64,
}

/// A step of the run with its host tasks.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub sequence: i32,
    pub method_name: String,
    pub status: StatusView,
    pub message: Option<String>,
    pub duration: Option<String>,
    pub hosts: Vec<HostView>,
}

/// A node of a joint run, linking to the run it started.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    pub instance_name: String,
    pub status: StatusView,
    pub execution_id: Option<String>,
}

/// A step a confirmation names: `3 (install)`.
fn step_label(sequence: i32, method_name: &str) -> String {
    format!("{sequence} ({method_name})")
}

/// Stop: the step running now and its unfinished hosts, and the steps that will not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopPlan {
    pub url: String,
    pub step: Option<String>,
    pub hosts: Vec<String>,
    pub not_run: Vec<String>,
}

/// Retry: the first unfinished step again on its hosts that did not succeed (those that did are
/// kept), then the steps after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryPlan {
    pub url: String,
    pub step: String,
    pub hosts: Vec<String>,
    pub kept: Vec<String>,
    pub then: Vec<String>,
}

/// One step of the rollback target and its hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetStep {
    pub step: String,
    pub hosts: Vec<String>,
}

/// An artifact version of the rollback target's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactVersion {
    pub file_name: String,
    pub version: String,
}

/// Rollback: a new run of the previous successful run's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackPlan {
    pub url: String,
    pub body: String,
    pub target_id: String,
    pub target_ended: String,
    pub target_by: String,
    pub steps: Vec<TargetStep>,
    pub artifacts: Vec<ArtifactVersion>,
}

/// Everything the run page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RunPageView {
    pub id: String,
    pub kind: String,
    pub instance_id: String,
    pub instance_name: String,
    pub application: String,
    pub environment: String,
    pub status: StatusView,
    pub message: Option<String>,
    pub started_by: String,
    pub started_at: String,
    pub duration: String,
    /// Running or pending: the page follows its events.
    pub live: bool,
    pub steps: Vec<StepView>,
    pub nodes: Vec<NodeView>,
    /// The caller may stop, retry and roll back (operator or admin).
    pub may_run: bool,
    pub stop: Option<StopPlan>,
    pub retry: Option<RetryPlan>,
    pub rollback: Option<RollbackPlan>,
}

/// The run page's values.
#[derive(Debug, Serialize)]
pub struct RunPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub run: RunPageView,
}

/// Whether a status is still moving.
fn is_live(status: &str) -> bool {
    matches!(status, "running" | "pending")
}

fn hosts_where(step: &pb::ExecutionStep, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    step.hosts
        .iter()
        .filter(|host| wanted(&host.status))
        .map(|host| host.host_ip.clone())
        .collect()
}

/// The stop plan of a live run: its running step (else its first unfinished one).
pub fn stop_plan(run: &pb::Execution) -> StopPlan {
    let current = run
        .steps
        .iter()
        .position(|step| step.status == "running")
        .or_else(|| run.steps.iter().position(|step| step.status != "success"));
    let (step, hosts, after) = match current {
        Some(at) => {
            let step = &run.steps[at];
            (
                Some(step_label(step.sequence, &step.method_name)),
                hosts_where(step, is_live),
                at + 1,
            )
        }
        None => (None, Vec::new(), run.steps.len()),
    };
    StopPlan {
        url: format!("/api/app/jobinstance/{}/stop_execution", run.instance_id),
        step,
        hosts,
        not_run: run.steps[after..]
            .iter()
            .filter(|step| step.status != "success")
            .map(|step| step_label(step.sequence, &step.method_name))
            .collect(),
    }
}

/// The retry plan of a failed run (none when every step succeeded).
pub fn retry_plan(run: &pb::Execution) -> Option<RetryPlan> {
    let at = run.steps.iter().position(|step| step.status != "success")?;
    let step = &run.steps[at];
    Some(RetryPlan {
        url: format!("/api/executions/{}/retry?wait=false", run.id),
        step: step_label(step.sequence, &step.method_name),
        hosts: hosts_where(step, |status| status != "success"),
        kept: hosts_where(step, |status| status == "success"),
        then: run.steps[at + 1..]
            .iter()
            .map(|step| step_label(step.sequence, &step.method_name))
            .collect(),
    })
}

/// The run a rollback deploys again: the second newest success by end time (then id), as the
/// jobs service picks it.
pub fn rollback_target(history: &[pb::Execution]) -> Option<&pb::Execution> {
    let mut successes: Vec<&pb::Execution> = history
        .iter()
        .filter(|run| run.status == "success")
        .collect();
    successes.sort_by(|a, b| (b.end_time_ms, b.id.as_str()).cmp(&(a.end_time_ms, a.id.as_str())));
    successes.get(1).copied()
}

/// The rollback plan from the target's history entry (artifacts) and its tree (hosts).
pub fn rollback_plan(
    instance_id: &str,
    use_tad_host: bool,
    target: &pb::Execution,
    tree: &pb::Execution,
    times: &TimeRenderer,
) -> RollbackPlan {
    RollbackPlan {
        url: format!("/api/app/jobinstance/{instance_id}/rollback?wait=false"),
        body: serde_json::json!({"use_tad_host": use_tad_host}).to_string(),
        target_id: target.id.clone(),
        target_ended: target
            .end_time_ms
            .map(|ms| times.render_unix_ms(ms))
            .unwrap_or_default(),
        target_by: target.started_by.clone(),
        steps: tree
            .steps
            .iter()
            .map(|step| TargetStep {
                step: step_label(step.sequence, &step.method_name),
                hosts: step.hosts.iter().map(|host| host.host_ip.clone()).collect(),
            })
            .collect(),
        artifacts: target
            .artifacts
            .iter()
            .map(|artifact| ArtifactVersion {
                file_name: artifact.file_name.clone(),
                version: artifact
                    .version
                    .clone()
                    .unwrap_or_else(|| artifact.md5.clone()),
            })
            .collect(),
    }
}

/// The page's view of a run (without the rollback plan, which needs more reads).
pub fn view(
    lang: Lang,
    times: &TimeRenderer,
    run: &pb::Execution,
    instance: Option<&pb::Instance>,
    may_run: bool,
    now_ms: i64,
) -> RunPageView {
    let started = run.start_time_ms.unwrap_or(run.create_time_ms);
    let ended = run.end_time_ms.unwrap_or(now_ms);
    let steps = run
        .steps
        .iter()
        .map(|step| StepView {
            sequence: step.sequence,
            method_name: step.method_name.clone(),
            status: StatusView::new(lang, &step.status),
            message: step.message.clone().filter(|message| !message.is_empty()),
            duration: step
                .start_time_ms
                .map(|start| duration_text(step.end_time_ms.unwrap_or(now_ms) - start)),
            hosts: step
                .hosts
                .iter()
                .map(|host| HostView {
                    id: host.id.clone(),
                    ip: host.host_ip.clone(),
                    status: StatusView::new(lang, &host.status),
                    exit_code: host.exit_code,
                    message: host.message.clone().filter(|message| !message.is_empty()),
                    log_size: host.log_size,
                })
                .collect(),
        })
        .collect();
    let nodes = run
        .nodes
        .iter()
        .map(|node| NodeView {
            instance_name: node.instance_name.clone(),
            status: StatusView::new(lang, &node.status),
            execution_id: node.execution_id.clone(),
        })
        .collect();
    let joint = run.kind == "joint";
    let live = is_live(&run.status);
    RunPageView {
        id: run.id.clone(),
        kind: run.kind.clone(),
        instance_id: run.instance_id.clone(),
        instance_name: instance.map(|i| i.name.clone()).unwrap_or_default(),
        application: instance
            .map(|i| i.application_name.clone())
            .unwrap_or_default(),
        environment: instance.map(|i| i.env_name.clone()).unwrap_or_default(),
        status: StatusView::new(lang, &run.status),
        message: run.message.clone().filter(|message| !message.is_empty()),
        started_by: run.started_by.clone(),
        started_at: times.render_unix_ms(started),
        duration: duration_text(ended - started),
        live,
        steps,
        nodes,
        may_run,
        stop: (may_run && live && !joint).then(|| stop_plan(run)),
        retry: (may_run && run.status == "failed" && !joint)
            .then(|| retry_plan(run))
            .flatten(),
        rollback: None,
    }
}

/// The instance's runs, newest first (at most [`MAX_HISTORY_PAGES`] pages).
async fn history(call: &Call, instance_id: &str) -> Result<Vec<pb::Execution>, ApiError> {
    let mut runs = Vec::new();
    for page in 1..=MAX_HISTORY_PAGES {
        let request = pb::ExecutionHistoryRequest {
            instance_id: instance_id.to_owned(),
            page,
            page_size: HISTORY_PAGE_SIZE,
        };
        let answer = reply(call.jobs().execution_history(request)).await?;
        let read = answer.results.len();
        runs.extend(answer.results);
        if read < HISTORY_PAGE_SIZE as usize || runs.len() as u64 >= answer.count {
            break;
        }
    }
    Ok(runs)
}

/// Reads the run (and its instance, and for an operator the rollback target) for the caller.
pub async fn load(call: &Call, lang: Lang, id: &str) -> Result<RunPageView, ApiError> {
    let request = pb::IdRequest { id: id.to_owned() };
    let run = reply(call.jobs().get_execution(request)).await?;
    let instance = if run.instance_id.is_empty() {
        None
    } else {
        let request = pb::IdRequest {
            id: run.instance_id.clone(),
        };
        reply(call.jobs().instance_details(request))
            .await
            .ok()
            .and_then(|details| details.instance)
    };
    let may_run = call.caller.claims.may(&[Role::Operator]);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut page = view(lang, &call.times, &run, instance.as_ref(), may_run, now_ms);
    if may_run && !page.live && run.kind != "joint" && !run.instance_id.is_empty() {
        let runs = history(call, &run.instance_id).await?;
        if let Some(target) = rollback_target(&runs) {
            let request = pb::IdRequest {
                id: target.id.clone(),
            };
            let tree = reply(call.jobs().get_execution(request)).await?;
            page.rollback = Some(rollback_plan(
                &run.instance_id,
                run.use_tad_host,
                target,
                &tree,
                &call.times,
            ));
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(ip: &str, status: &str) -> pb::HostTask {
        pb::HostTask {
            id: format!("task-{ip}"),
            host_ip: ip.into(),
            status: status.into(),
            ..pb::HostTask::default()
        }
    }

    fn step(sequence: i32, status: &str, hosts: Vec<pb::HostTask>) -> pb::ExecutionStep {
        pb::ExecutionStep {
            sequence,
            method_name: format!("m{sequence}"),
            status: status.into(),
            hosts,
            ..pb::ExecutionStep::default()
        }
    }

    fn run(status: &str, steps: Vec<pb::ExecutionStep>) -> pb::Execution {
        pb::Execution {
            id: "r1".into(),
            instance_id: "i1".into(),
            kind: "deploy".into(),
            status: status.into(),
            create_time_ms: 1_000,
            steps,
            ..pb::Execution::default()
        }
    }

    #[test]
    fn stop_names_the_running_hosts_and_the_steps_left() {
        let running = run(
            "running",
            vec![
                step(0, "success", vec![host("10.0.0.1", "success")]),
                step(
                    1,
                    "running",
                    vec![
                        host("10.0.0.1", "success"),
                        host("10.0.0.2", "running"),
                        host("10.0.0.3", "pending"),
                    ],
                ),
                step(2, "pending", vec![]),
            ],
        );
        assert_eq!(
            stop_plan(&running),
            StopPlan {
                url: "/api/app/jobinstance/i1/stop_execution".into(),
                step: Some("1 (m1)".into()),
                hosts: vec!["10.0.0.2".into(), "10.0.0.3".into()],
                not_run: vec!["2 (m2)".into()],
            }
        );
        // Before any step started: the first one, with no host yet.
        let pending = run("pending", vec![step(0, "pending", vec![])]);
        let plan = stop_plan(&pending);
        assert_eq!(
            (plan.step.as_deref(), plan.not_run.len()),
            (Some("0 (m0)"), 0)
        );
    }

    #[test]
    fn retry_names_the_hosts_run_again_and_those_kept() {
        let failed = run(
            "failed",
            vec![
                step(0, "success", vec![host("10.0.0.1", "success")]),
                step(
                    1,
                    "failed",
                    vec![
                        host("10.0.0.1", "success"),
                        host("10.0.0.2", "failed"),
                        host("10.0.0.3", "stopped"),
                    ],
                ),
                step(2, "pending", vec![]),
            ],
        );
        let plan = retry_plan(&failed).expect("a plan");
        assert_eq!(plan.url, "/api/executions/r1/retry?wait=false");
        assert_eq!(plan.step, "1 (m1)");
        assert_eq!(plan.hosts, ["10.0.0.2", "10.0.0.3"]);
        assert_eq!(plan.kept, ["10.0.0.1"]);
        assert_eq!(plan.then, ["2 (m2)"]);
        assert_eq!(retry_plan(&run("success", vec![])), None);
    }

    #[test]
    fn the_rollback_target_is_the_second_newest_success_by_end_time() {
        let entry = |id: &str, status: &str, end: i64| pb::Execution {
            id: id.into(),
            status: status.into(),
            end_time_ms: Some(end),
            ..pb::Execution::default()
        };
        // Newest first by creation; a1 was retried and ended last.
        let history = vec![
            entry("d", "failed", 900),
            entry("c", "success", 700),
            entry("b", "success", 500),
            entry("a1", "success", 800),
        ];
        assert_eq!(
            rollback_target(&history).map(|run| run.id.as_str()),
            Some("c")
        );
        assert!(rollback_target(&history[..2]).is_none());
    }

    /// The page as `may_run` sees a failed run whose texts hold markup.
    fn rendered(may_run: bool) -> String {
        use crate::console::view::{UserView, render};
        let times = TimeRenderer::new("UTC").expect("zone");
        let mut failed = run(
            "failed",
            vec![step(0, "failed", vec![host("<b>10.0.0.9</b>", "failed")])],
        );
        failed.message = Some("<script>alert(1)</script>".into());
        let mut shown = view(Lang::English, &times, &failed, None, may_run, 5_000);
        shown.rollback = Some(rollback_plan(
            "i1",
            true,
            &pb::Execution {
                id: "t\"1".into(),
                artifacts: vec![pb::ExecutionArtifact {
                    file_name: "shop<1>.tar.gz".into(),
                    version: Some("1.0".into()),
                    ..pb::ExecutionArtifact::default()
                }],
                ..pb::Execution::default()
            },
            &failed,
            &times,
        ))
        .filter(|_| may_run);
        let user = UserView {
            name: "u".into(),
            roles: "viewer".into(),
            reads_audit: false,
        };
        let page = RunPage {
            frame: Frame::new(Lang::English, "run", Some(user), Some("c0ffee".into())),
            run: shown,
        };
        render("run.html", &page).expect("render")
    }

    #[test]
    fn the_page_escapes_every_value_and_shows_controls_only_to_operators() {
        let operator = rendered(true);
        assert!(!operator.contains("<script>alert"), "{operator}");
        assert!(operator.contains("&lt;script&gt;alert(1)"));
        assert!(
            operator.contains("&lt;b&gt;10.0.0.9&lt;&#x2f;b&gt;"),
            "{operator}"
        );
        assert!(operator.contains("shop&lt;1&gt;.tar.gz 1.0"));
        assert!(operator.contains("data-live=\"false\""));
        for control in [
            "id=\"retry-dialog\"",
            "id=\"rollback-dialog\"",
            "id=\"retry-button\"",
        ] {
            assert!(operator.contains(control), "{control}");
        }
        assert!(!operator.contains("id=\"stop-button\""));
        let viewer = rendered(false);
        for control in [
            "<dialog",
            "retry-button",
            "rollback-button",
            "rollback-unavailable",
        ] {
            assert!(!viewer.contains(control), "{control}");
        }
        assert!(
            viewer.contains("data-host-task=\"task-&lt;b&gt;"),
            "the tree is there"
        );
    }

    #[test]
    fn a_viewer_gets_no_plan_and_the_view_keeps_the_tree() {
        let times = TimeRenderer::new("UTC").expect("zone");
        let failed = run(
            "failed",
            vec![step(0, "failed", vec![host("10.0.0.9", "failed")])],
        );
        let viewer = view(Lang::English, &times, &failed, None, false, 5_000);
        assert!(viewer.stop.is_none() && viewer.retry.is_none() && viewer.rollback.is_none());
        assert_eq!(viewer.steps[0].hosts[0].ip, "10.0.0.9");
        assert_eq!(viewer.steps[0].hosts[0].status.class, "failed");
        assert!(!viewer.live);
        let operator = view(Lang::Chinese, &times, &failed, None, true, 5_000);
        assert!(operator.retry.is_some() && operator.stop.is_none());
        assert_eq!(operator.status.text, "失败");
        let running = run("running", vec![step(0, "running", vec![])]);
        let live = view(Lang::English, &times, &running, None, true, 5_000);
        assert!(live.live && live.stop.is_some() && live.retry.is_none());
    }
}
