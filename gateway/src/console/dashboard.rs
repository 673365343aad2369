//! The dashboard's data, read from the jobs service on behalf of the signed-in user (the same
//! calls and rules as the JSON routes `jobi_list_one`, `.../executions` and
//! `/api/executions/{id}`): runs in progress (running or interrupted) with their steps and hosts
//! done and failed, and the latest run per application and environment. The write controls a
//! run offers (resume an interrupted run, retry a failed one) are the JSON routes' URLs, and only
//! for the roles those routes allow; the service refuses the others anyway.

use std::collections::BTreeMap;

use common::{auth::Role, time::TimeRenderer};
use futures::{StreamExt, stream};
use proto::jobs::v1 as pb;
use serde::Serialize;

use super::i18n::Lang;
use crate::{
    clients::{Call, reply},
    error::ApiError,
};

/// Most instances the dashboard reads the latest run of (newest changed first).
const MAX_INSTANCES: usize = 200;
/// Calls to the jobs service made at once.
const PARALLEL_CALLS: usize = 8;

/// Done, failed and all of a run's steps or hosts.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub done: usize,
    pub failed: usize,
    pub total: usize,
}

impl Counts {
    fn add(&mut self, status: &str) {
        self.total += 1;
        match status {
            "success" => self.done += 1,
            "failed" => self.failed += 1,
            _ => {}
        }
    }
}

/// One run as the dashboard shows it (every text is escaped by the template).
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub id: String,
    pub application: String,
    pub environment: String,
    pub instance: String,
    /// The service's status word.
    pub status: String,
    /// The CSS class of the status: `success`, `failed`, `running`, `stopped`, `interrupted`,
    /// `pending` or `other` (only `success` is green).
    pub status_class: String,
    /// The status in the page's language.
    pub status_text: String,
    pub message: Option<String>,
    pub started_by: String,
    pub started_at: String,
    pub duration: String,
    pub steps: Counts,
    pub hosts: Counts,
    /// `POST` here (with the CSRF header) to resume an interrupted run: 6.1 on its instance.
    pub resume_url: Option<String>,
    /// The body of that `POST`: the run resumes where it ran (on the TAD host or over SSH).
    pub resume_body: String,
    /// `POST` here to retry the failed hosts of a failed run.
    pub retry_url: Option<String>,
}

/// What the dashboard shows.
#[derive(Debug, Default, Serialize)]
pub struct DashboardView {
    pub in_progress: Vec<RunView>,
    pub latest: Vec<RunView>,
}

/// The CSS class of a status (unknown words are `other`, never `success`).
pub fn status_class(status: &str) -> &'static str {
    match status {
        "success" => "success",
        "failed" => "failed",
        "running" => "running",
        "stopped" => "stopped",
        "interrupted" => "interrupted",
        "rolled_back" => "rolled_back",
        "pending" | "waiting" | "queued" => "pending",
        _ => "other",
    }
}

/// A status word in the page's language (unknown words as they are).
pub fn status_text(lang: Lang, status: &str) -> String {
    let class = status_class(status);
    lang.messages()
        .get(format!("status_{class}").as_str())
        .filter(|_| class != "other")
        .map(|text| (*text).to_owned())
        .unwrap_or_else(|| status.to_owned())
}

/// `5s`, `3m 07s`, `2h 05m`.
pub fn duration_text(milliseconds: i64) -> String {
    let seconds = milliseconds.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

/// Renders runs for one page: its language, times and the caller's roles.
pub struct RunRenderer<'a> {
    pub lang: Lang,
    pub times: &'a TimeRenderer,
    /// The caller may start runs (operator or admin): resume and retry are offered.
    pub may_run: bool,
    pub now_ms: i64,
}

impl RunRenderer<'_> {
    pub fn view(&self, instance: &pb::Instance, run: &pb::Execution) -> RunView {
        let class = status_class(&run.status);
        let status_text = status_text(self.lang, &run.status);
        let started = run.start_time_ms.unwrap_or(run.create_time_ms);
        let ended = run.end_time_ms.unwrap_or(self.now_ms);
        let mut steps = Counts::default();
        let mut hosts = Counts::default();
        for step in &run.steps {
            steps.add(&step.status);
            for host in &step.hosts {
                hosts.add(&host.status);
            }
        }
        let offer = |wanted: &str, url: String| (self.may_run && class == wanted).then_some(url);
        RunView {
            id: run.id.clone(),
            application: instance.application_name.clone(),
            environment: instance.env_name.clone(),
            instance: instance.name.clone(),
            status: run.status.clone(),
            status_class: class.to_owned(),
            status_text,
            message: run.message.clone().filter(|message| !message.is_empty()),
            started_by: run.started_by.clone(),
            started_at: self.times.render_unix_ms(started),
            duration: duration_text(ended - started),
            steps,
            hosts,
            resume_url: offer(
                "interrupted",
                format!(
                    "/api/app/jobinstance/{}/executionall?wait=false",
                    instance.id
                ),
            ),
            resume_body: serde_json::json!({"use_tad_host": run.use_tad_host}).to_string(),
            retry_url: offer(
                "failed",
                format!("/api/executions/{}/retry?wait=false", run.id),
            ),
        }
    }
}

/// The latest run of an instance, with its steps and hosts (none: never run).
pub(crate) async fn latest_run(
    call: &Call,
    instance: &pb::Instance,
) -> Result<Option<pb::Execution>, ApiError> {
    let request = pb::ExecutionHistoryRequest {
        instance_id: instance.id.clone(),
        page: 1,
        page_size: 1,
    };
    let history = reply(call.jobs().execution_history(request)).await?;
    let Some(newest) = history.results.into_iter().next() else {
        return Ok(None);
    };
    let tree = reply(call.jobs().get_execution(pb::IdRequest { id: newest.id })).await?;
    Ok(Some(tree))
}

/// Reads the dashboard for the caller.
pub async fn load(call: &Call, lang: Lang) -> Result<DashboardView, ApiError> {
    let mut instances = reply(
        call.jobs()
            .list_instances(pb::ListInstancesRequest::default()),
    )
    .await?
    .instances;
    instances.sort_by_key(|instance| std::cmp::Reverse(instance.update_time_ms));
    instances.truncate(MAX_INSTANCES);
    let runs: Vec<(pb::Instance, Option<pb::Execution>)> = stream::iter(instances)
        .map(|instance| async move {
            let run = latest_run(call, &instance).await;
            run.map(|run| (instance, run))
        })
        .buffered(PARALLEL_CALLS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let renderer = RunRenderer {
        lang,
        times: &call.times,
        may_run: call.caller.claims.may(&[Role::Operator]),
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    Ok(arrange(&renderer, runs))
}

/// Runs in progress (newest first), and the newest run of each application and environment.
fn arrange(
    renderer: &RunRenderer<'_>,
    runs: Vec<(pb::Instance, Option<pb::Execution>)>,
) -> DashboardView {
    let mut view = DashboardView::default();
    let mut latest: BTreeMap<(String, String), (i64, RunView)> = BTreeMap::new();
    let mut in_progress: Vec<(i64, RunView)> = Vec::new();
    for (instance, run) in runs {
        let Some(run) = run else { continue };
        let shown = renderer.view(&instance, &run);
        if matches!(run.status.as_str(), "running" | "interrupted") {
            in_progress.push((run.create_time_ms, shown.clone()));
        }
        let key = (instance.application_name.clone(), instance.env_name.clone());
        if latest
            .get(&key)
            .is_none_or(|(held, _)| run.create_time_ms > *held)
        {
            latest.insert(key, (run.create_time_ms, shown));
        }
    }
    in_progress.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
    view.in_progress = in_progress.into_iter().map(|(_, run)| run).collect();
    view.latest = latest.into_values().map(|(_, run)| run).collect();
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, application: &str, env: &str) -> pb::Instance {
        pb::Instance {
            id: id.into(),
            name: format!("instance {id}"),
            application_name: application.into(),
            env_name: env.into(),
            ..pb::Instance::default()
        }
    }

    fn host(status: &str) -> pb::HostTask {
        pb::HostTask {
            status: status.into(),
            ..pb::HostTask::default()
        }
    }

    fn run(id: &str, status: &str, created: i64) -> pb::Execution {
        pb::Execution {
            id: id.into(),
            status: status.into(),
            started_by: "alice".into(),
            create_time_ms: created,
            start_time_ms: Some(created),
            end_time_ms: (status != "running").then_some(created + 65_000),
            steps: vec![
                pb::ExecutionStep {
                    status: "success".into(),
                    hosts: vec![host("success"), host("success")],
                    ..pb::ExecutionStep::default()
                },
                pb::ExecutionStep {
                    status: status.into(),
                    hosts: vec![host("failed"), host("success"), host("running")],
                    ..pb::ExecutionStep::default()
                },
            ],
            ..pb::Execution::default()
        }
    }

    fn renderer(times: &TimeRenderer, may_run: bool) -> RunRenderer<'_> {
        RunRenderer {
            lang: Lang::English,
            times,
            may_run,
            now_ms: 1_000_000,
        }
    }

    #[test]
    fn runs_are_arranged_by_progress_and_by_application_and_environment() {
        let times = TimeRenderer::new("UTC").expect("zone");
        let runs = vec![
            (
                instance("a", "shop", "test"),
                Some(run("r1", "failed", 1_000)),
            ),
            (
                instance("b", "shop", "test"),
                Some(run("r2", "success", 2_000)),
            ),
            (
                instance("c", "shop", "prod"),
                Some(run("r3", "interrupted", 500)),
            ),
            (
                instance("d", "cart", "test"),
                Some(run("r4", "running", 900)),
            ),
            (instance("e", "cart", "prod"), None),
        ];
        let view = arrange(&renderer(&times, true), runs);
        let ids = |runs: &[RunView]| runs.iter().map(|run| run.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&view.in_progress), ["r4", "r3"]);
        // Sorted by application then environment; shop/test keeps its newest run.
        assert_eq!(ids(&view.latest), ["r4", "r3", "r2"]);
        let interrupted = &view.in_progress[1];
        assert_eq!(
            interrupted.resume_url.as_deref(),
            Some("/api/app/jobinstance/c/executionall?wait=false")
        );
        assert_eq!(interrupted.retry_url, None);
        assert_eq!(interrupted.resume_body, r#"{"use_tad_host":false}"#);
        assert_eq!(
            interrupted.steps,
            Counts {
                done: 1,
                failed: 0,
                total: 2
            }
        );
        assert_eq!(
            interrupted.hosts,
            Counts {
                done: 3,
                failed: 1,
                total: 5
            }
        );
        assert_eq!(interrupted.duration, "1m 05s");
    }

    #[test]
    fn a_viewer_is_offered_no_write_control_and_a_failure_is_never_green() {
        let times = TimeRenderer::new("UTC").expect("zone");
        for (status, class) in [
            ("failed", "failed"),
            ("interrupted", "interrupted"),
            ("stopped", "stopped"),
            ("rolled_back", "rolled_back"),
            ("exploded", "other"),
        ] {
            let shown =
                renderer(&times, false).view(&instance("a", "s", "t"), &run("r", status, 1));
            assert_eq!(shown.status_class, class);
            assert_eq!((shown.resume_url, shown.retry_url), (None, None));
        }
        let failed = renderer(&times, true).view(&instance("a", "s", "t"), &run("r", "failed", 1));
        assert_eq!(
            failed.retry_url.as_deref(),
            Some("/api/executions/r/retry?wait=false")
        );
        assert_eq!(failed.status_text, "failed");
        assert_eq!(status_class("success"), "success");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(4_999), "4s");
        assert_eq!(duration_text(187_000), "3m 07s");
        assert_eq!(duration_text(7_500_000), "2h 05m");
        assert_eq!(duration_text(-5), "0s");
    }
}
