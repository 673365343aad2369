//! The console's page of one job instance (issue 18): the instance (5.10), its steps and their
//! bindings, read-only (`instance_steps.rs`), its run history a page at a time (the same call as
//! `GET /api/app/jobinstance/{id}/executions`), and for the roles that may run it the deploy
//! (6.1) and next-step (6.2) buttons. Each asks for confirmation naming the steps and hosts
//! that will run, worked out as the jobs service does: the steps of the latest run not yet
//! succeeded when it did not succeed, else every step. Started, the browser goes to the run's
//! page (`/console/runs/{id}`).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use common::auth::Role;
use proto::jobs::v1 as pb;
use serde::Serialize;

use super::{
    dashboard::{duration_text, latest_run, status_class},
    i18n::{Catalogue, Lang},
    instance_steps::{self, StepView},
    instances::{InstanceRow, instance_row},
    listing::{PageQuery, Paging, status_text},
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Runs a page of the history shows.
const HISTORY_PAGE_SIZE: usize = 10;

/// The instance page's own messages.
pub const MESSAGES: Catalogue = &[
    ("instance_title", "Instance", "实例"),
    ("show_plan", "Plan (dry run)", "计划（试运行）"),
    (
        "plan_title",
        "What deploy would do now",
        "一键部署现在将执行的内容",
    ),
    ("plan_compared_with", "Compared with run", "对比运行"),
    (
        "plan_first_run",
        "never deployed: everything is new",
        "从未部署：全部为新",
    ),
    (
        "plan_blockers",
        "Would block or hold the run",
        "将阻止或暂停运行",
    ),
    ("plan_no_blockers", "Nothing blocks it.", "无阻碍。"),
    ("plan_step", "Step", "步骤"),
    ("plan_batches", "Batches", "批次"),
    ("plan_artifacts_sent", "Artifacts sent to", "制品将发送至"),
    ("plan_unchanged", "unchanged", "未变化"),
    ("plan_params", "Parameters changed", "变更的参数"),
    ("plan_scripts", "Scripts", "脚本"),
    ("plan_not_reviewed", "not reviewed", "未审核"),
    (
        "plan_pinned",
        "Deploy now runs exactly this plan: if anything changes first, it is refused and says what.",
        "一键部署现在将严格按此计划运行：若之前有任何变化，将被拒绝并说明变化。",
    ),
    ("back_to_instances", "All instances", "全部实例"),
    ("deploy_type", "Deploy type", "部署类型"),
    ("creator", "Creator", "创建人"),
    ("remark", "Remark", "备注"),
    ("method", "Method", "方法"),
    ("cluster", "Cluster", "集群"),
    ("no_cluster", "no cluster bound", "未绑定集群"),
    (
        "no_steps",
        "This instance has no steps.",
        "该实例没有步骤。",
    ),
    ("artifacts", "Artifacts", "软件包"),
    ("app_configs", "App configs", "应用配置"),
    ("params", "Parameters", "参数"),
    ("scripts", "Scripts", "脚本"),
    ("none_bound", "none", "无"),
    ("all_hosts", "every host of the cluster", "集群的全部主机"),
    ("host_key_pinned", "host key pinned", "已固定主机密钥"),
    ("version", "Version", "版本"),
    ("destination", "Destination", "目标路径"),
    ("history", "Run history", "执行历史"),
    ("no_history", "Never run.", "尚未执行。"),
    ("run", "Run", "执行"),
    ("kind", "Kind", "类型"),
    ("message", "Message", "信息"),
    ("deploy", "Deploy", "一键部署"),
    ("next_step", "Next step", "单步部署"),
    (
        "confirm_deploy",
        "Deploy runs these steps, in order, over SSH:",
        "一键部署将通过 SSH 依次执行以下步骤：",
    ),
    (
        "confirm_next_step",
        "Next step runs this step over SSH:",
        "单步部署将通过 SSH 执行以下步骤：",
    ),
    ("on_hosts", "on", "主机"),
    (
        "run_in_progress",
        "A run of this instance is in progress:",
        "该实例正在执行：",
    ),
];

/// A run of the history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub status_class: String,
    pub status_text: String,
    pub started_by: String,
    pub started_at: String,
    pub duration: String,
    pub message: Option<String>,
    /// `file version` of each artifact of the run's snapshot.
    pub artifacts: Vec<String>,
}

/// A step a deploy or next step would run, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedStep {
    pub sequence: u32,
    pub method: String,
    pub cluster: String,
    /// The hosts' addresses, comma-separated.
    pub hosts: String,
}

/// The instance page's values.
#[derive(Debug, Serialize)]
pub struct InstancePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub instance: InstanceRow,
    pub remark: String,
    pub deploy_type: String,
    pub creator: String,
    pub steps: Vec<StepView>,
    pub history: Vec<HistoryRow>,
    pub paging: Paging,
    /// The run in progress, if any (no button then).
    pub running: Option<String>,
    /// The steps 6.1 would run; empty when the caller may not run the instance.
    pub deploy_plan: Vec<PlannedStep>,
    /// The step 6.2 would run.
    pub next_step_plan: Vec<PlannedStep>,
    pub deploy_url: String,
    pub next_step_url: String,
}

/// Whether a run's steps are the instance's steps (as the service compares them).
fn same_steps(run: &pb::Execution, steps: &[StepView]) -> bool {
    run.steps.len() == steps.len()
        && run.steps.iter().zip(steps).all(|(done, step)| {
            u32::try_from(done.sequence).ok() == Some(step.sequence)
                && done.method_id == step.method_id
        })
}

/// The steps 6.1 runs: those of the latest run not yet succeeded when it ended without success
/// (and its steps are the instance's), else every step.
pub fn deploy_plan(steps: &[StepView], latest: Option<&pb::Execution>) -> Vec<PlannedStep> {
    let continued = latest.filter(|run| {
        run.status != "running"
            && same_steps(run, steps)
            && run.steps.iter().any(|step| step.status != "success")
    });
    steps
        .iter()
        .filter(|step| {
            continued.is_none_or(|run| {
                run.steps.iter().any(|done| {
                    u32::try_from(done.sequence).ok() == Some(step.sequence)
                        && done.status != "success"
                })
            })
        })
        .map(|step| PlannedStep {
            sequence: step.sequence,
            method: format!("{} / {}", step.component, step.method),
            cluster: step.cluster.clone().unwrap_or_default(),
            hosts: step
                .hosts
                .iter()
                .map(|host| host.ip.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

fn history_row(call: &Call, lang: Lang, run: pb::Execution, now_ms: i64) -> HistoryRow {
    let messages = lang.messages();
    let started = run.start_time_ms.unwrap_or(run.create_time_ms);
    HistoryRow {
        status_class: status_class(&run.status).to_owned(),
        status_text: status_text(&messages, &run.status),
        started_at: call.times.render_unix_ms(started),
        duration: duration_text(run.end_time_ms.unwrap_or(now_ms) - started),
        artifacts: run
            .artifacts
            .iter()
            .map(|artifact| {
                let version = artifact.version.as_deref().unwrap_or_default();
                format!("{} {version}", artifact.file_name)
                    .trim()
                    .to_owned()
            })
            .collect(),
        message: run.message.filter(|message| !message.is_empty()),
        id: run.id,
        kind: run.kind,
        status: run.status,
        started_by: run.started_by,
    }
}

/// `GET /console/instances/{id}?page=` (the history's page).
pub async fn detail_page(
    request: HttpRequest,
    call: Call,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let page = query.page()?;
    let id = id.into_inner();
    let lang = Lang::of_request(&request);
    let details = reply(
        call.jobs()
            .instance_details(pb::IdRequest { id: id.clone() }),
    )
    .await?;
    let instance = details.instance.ok_or_else(|| {
        ApiError::new(
            proto::ErrorReason::InternalError,
            "the jobs service answered no instance",
        )
    })?;
    let steps = instance_steps::load(&call, &instance.id, details.steps).await?;
    let history_request = pb::ExecutionHistoryRequest {
        instance_id: instance.id.clone(),
        page: u32::try_from(page).unwrap_or(u32::MAX),
        page_size: HISTORY_PAGE_SIZE as u32,
    };
    let history = reply(call.jobs().execution_history(history_request)).await?;
    let count = usize::try_from(history.count).unwrap_or(usize::MAX);
    let path = format!("/console/instances/{}", instance.id);
    let paging = Paging::new(&path, &[], page, HISTORY_PAGE_SIZE, count);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let history = history
        .results
        .into_iter()
        .map(|run| history_row(&call, lang, run, now_ms))
        .collect();
    let latest = latest_run(&call, &instance).await?;
    let running = latest
        .as_ref()
        .filter(|run| run.status == "running")
        .map(|run| run.id.clone());
    let may_run = call.caller.claims.may(&[Role::Operator]) && running.is_none();
    let deploy_plan = if may_run {
        deploy_plan(&steps, latest.as_ref())
    } else {
        Vec::new()
    };
    let next_step_plan = deploy_plan.iter().take(1).cloned().collect();
    let base = format!("/api/app/jobinstance/{}", instance.id);
    let page = InstancePage {
        frame: signed_in_frame(&request, &call.caller, "instances")?,
        remark: instance.remark.clone(),
        deploy_type: instance.deploy_type.clone(),
        creator: instance.creator.clone(),
        instance: instance_row(&call, lang, instance),
        steps,
        history,
        paging,
        running,
        deploy_plan,
        next_step_plan,
        deploy_url: format!("{base}/executionall?wait=false"),
        next_step_url: format!("{base}/setp_execution?wait=false"),
    };
    Ok(html(StatusCode::OK, render("instance.html", &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(sequence: u32, method_id: &str) -> StepView {
        StepView {
            sequence,
            component: "comp".into(),
            method: format!("install {sequence}"),
            method_id: method_id.into(),
            cluster: Some("c1".into()),
            status: None,
            hosts: vec![instance_steps::HostView {
                ip: "10.0.0.1".into(),
                name: "h1".into(),
                login: "u@10.0.0.1:22".into(),
                host_key_pinned: false,
            }],
            artifacts: vec![],
            configs: vec![],
            params: vec![],
            scripts: vec![],
        }
    }

    fn run(status: &str, step_statuses: &[(i32, &str, &str)]) -> pb::Execution {
        pb::Execution {
            status: status.into(),
            steps: step_statuses
                .iter()
                .map(|(sequence, method_id, status)| pb::ExecutionStep {
                    sequence: *sequence,
                    method_id: (*method_id).into(),
                    status: (*status).into(),
                    ..pb::ExecutionStep::default()
                })
                .collect(),
            ..pb::Execution::default()
        }
    }

    fn page(plan: Vec<PlannedStep>) -> String {
        let hostile = "<script>alert(1)</script>";
        let page = InstancePage {
            frame: Frame::new(Lang::English, "instances", None, Some("c0ffee".into())),
            instance: InstanceRow {
                id: "i1".into(),
                name: hostile.into(),
                product_line: "pl".into(),
                application: "app".into(),
                environment: "env".into(),
                template: "t".into(),
                status: "ready".into(),
                status_class: "other".into(),
                status_text: "ready".into(),
                updated: "now".into(),
            },
            remark: hostile.into(),
            deploy_type: "install".into(),
            creator: "ann".into(),
            steps: vec![step(0, "m0")],
            history: vec![],
            paging: Paging::new("/console/instances/i1", &[], 1, 10, 0),
            running: None,
            next_step_plan: plan.iter().take(1).cloned().collect(),
            deploy_plan: plan,
            deploy_url: "/api/app/jobinstance/i1/executionall?wait=false".into(),
            next_step_url: "/api/app/jobinstance/i1/setp_execution?wait=false".into(),
        };
        render("instance.html", &page).expect("render")
    }

    #[test]
    fn the_page_escapes_every_value_and_offers_runs_only_with_a_plan() {
        let steps = [step(0, "m0")];
        let offered = page(deploy_plan(&steps, None));
        assert!(!offered.contains("<script>alert"), "{offered}");
        assert!(offered.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(offered.contains("id=\"deploy\"") && offered.contains("id=\"next-step\""));
        assert!(
            offered.contains("class=\"plan-hosts\">10.0.0.1</span>"),
            "{offered}"
        );
        assert_eq!(
            offered.matches("<script").count(),
            3,
            "the console's three files only (console.js, the instances' and the plan's)"
        );
        assert!(offered.contains("id=\"show-plan\""), "{offered}");
        let viewer = page(Vec::new());
        for control in [
            "id=\"deploy\"",
            "id=\"next-step\"",
            "confirm-go",
            "data-post",
        ] {
            assert!(!viewer.contains(control), "{control} in {viewer}");
        }
        assert!(viewer.contains("u@10.0.0.1:22"));
        assert!(
            viewer.contains("id=\"show-plan\""),
            "a viewer reads the plan too"
        );
    }

    fn sequences(plan: &[PlannedStep]) -> Vec<u32> {
        plan.iter().map(|step| step.sequence).collect()
    }

    #[test]
    fn the_plan_continues_an_unfinished_run_as_the_service_does() {
        let steps = [step(0, "m0"), step(1, "m1"), step(2, "m2")];
        assert_eq!(sequences(&deploy_plan(&steps, None)), [0, 1, 2]);
        let failed = run(
            "failed",
            &[
                (0, "m0", "success"),
                (1, "m1", "failed"),
                (2, "m2", "pending"),
            ],
        );
        let plan = deploy_plan(&steps, Some(&failed));
        assert_eq!(sequences(&plan), [1, 2]);
        assert_eq!(plan[0].method, "comp / install 1");
        assert_eq!(plan[0].hosts, "10.0.0.1");
        // A successful run, or one of other steps, starts again from the first step.
        let done = run(
            "success",
            &[
                (0, "m0", "success"),
                (1, "m1", "success"),
                (2, "m2", "success"),
            ],
        );
        assert_eq!(sequences(&deploy_plan(&steps, Some(&done))), [0, 1, 2]);
        let other = run("failed", &[(0, "m0", "success"), (1, "mX", "failed")]);
        assert_eq!(sequences(&deploy_plan(&steps, Some(&other))), [0, 1, 2]);
    }
}
