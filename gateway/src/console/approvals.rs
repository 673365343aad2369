//! The console's approvals pages (issue 20): the deployment requests on protected environments
//! (filtered by status, a page at a time) and one request's page with the plan it froze (hosts,
//! artifacts with their md5, rendered app configs, parameters with secrets masked, scripts with
//! their review state) to read before deciding, and approve / reject controls. The controls post
//! to `/api/approvals/{id}/approve|reject` like any client, and are shown only to an approver or
//! admin who did not ask the run (four eyes) while it is pending; the jobs service refuses the
//! others anyway.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use common::auth::Role;
use proto::{ErrorReason, jobs::v1 as pb};
use serde::{Deserialize, Serialize};

use super::{
    i18n::Lang,
    listing::{Choice, PageQuery, Paging},
    path_segment,
    review::capped,
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    convert::{approvals::ApprovalItem, plans::PlannedStepView},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Requests per page.
const PAGE_SIZE: u32 = 25;
/// The statuses a request can be in, in the filter's order.
const STATUSES: [&str; 6] = [
    "pending", "waiting", "started", "rejected", "void", "expired",
];

/// A request as the pages show it.
#[derive(Debug, Serialize)]
struct RequestView {
    #[serde(flatten)]
    item: ApprovalItem,
    kind_text: String,
    status_text: String,
    status_class: &'static str,
    /// Where the target is shown in the console.
    target_url: String,
    /// This request's console page.
    page_url: String,
    /// Its run's console page, once started.
    run_url: Option<String>,
}

impl RequestView {
    fn of(item: ApprovalItem, messages: &BTreeMap<&'static str, &'static str>) -> RequestView {
        let text = |prefix: &str, word: &str| {
            messages
                .get(format!("{prefix}{word}").as_str())
                .map(|text| (*text).to_owned())
                .unwrap_or_else(|| word.to_owned())
        };
        let target = path_segment(&item.target_id);
        RequestView {
            kind_text: text("approval_kind_", &item.kind),
            status_text: text("approval_status_", &item.status),
            status_class: match item.status.as_str() {
                "started" => "success",
                "rejected" | "void" | "expired" => "failed",
                "waiting" => "running",
                _ => "pending",
            },
            target_url: match item.kind.as_str() {
                "retry" => format!("/console/runs/{target}"),
                "joint_line" => format!("/console/jointlines/{target}"),
                _ => format!("/console/instances/{target}"),
            },
            page_url: format!("/console/approvals/{}", path_segment(&item.id)),
            run_url: item
                .execution_id
                .as_deref()
                .map(|run| format!("/console/runs/{}", path_segment(run))),
            item,
        }
    }
}

#[derive(Debug, Serialize)]
struct ApprovalsPage {
    #[serde(flatten)]
    frame: Frame,
    requests: Vec<RequestView>,
    statuses: Vec<Choice>,
    paging: Paging,
}

/// `GET /console/approvals?status=&page=`.
pub async fn approvals_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let messages = lang.messages();
    let query = PageQuery::new(query.into_inner())?;
    let status = query.text("status");
    let page = query.page()?;
    let answer = reply(call.jobs().list_approvals(pb::ListApprovalsRequest {
        status: (!status.is_empty()).then(|| status.clone()),
        page: u32::try_from(page).unwrap_or(u32::MAX),
        page_size: PAGE_SIZE,
    }))
    .await?;
    let count = usize::try_from(answer.count).unwrap_or(0);
    let view = ApprovalsPage {
        frame: signed_in_frame(&request, &call.caller, "approvals")?,
        requests: answer
            .results
            .into_iter()
            .map(|item| RequestView::of(ApprovalItem::from_proto(item, &call.times), &messages))
            .collect(),
        statuses: Choice::list(
            STATUSES.iter().map(|word| {
                let name = messages
                    .get(format!("approval_status_{word}").as_str())
                    .copied()
                    .unwrap_or(word);
                ((*word).to_owned(), name.to_owned())
            }),
            &status,
        ),
        paging: Paging::new(
            "/console/approvals",
            &[("status", status.as_str())],
            page,
            PAGE_SIZE as usize,
            count,
        ),
    };
    Ok(html(StatusCode::OK, render("approvals.html", &view)?))
}

/// One step of a frozen plan, as the jobs service answers it (missing parts are empty).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct StepView {
    sequence: i64,
    method_id: String,
    method_name: String,
    component_id: String,
    cluster_id: String,
    hosts: Vec<String>,
    package: Option<serde_json::Value>,
    /// The method package as JSON text (empty: none).
    #[serde(skip_deserializing)]
    package_text: String,
    params: BTreeMap<String, serde_json::Value>,
    artifacts: Vec<ArtifactView>,
    configs: Vec<ConfigView>,
    scripts: Vec<ScriptView>,
    timeout_secs: i64,
    batch_size: i64,
    batch_pause_secs: i64,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct ArtifactView {
    file_name: String,
    version: String,
    md5: String,
    dest: String,
    host_ips: Vec<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct ConfigView {
    target_name: String,
    dest: String,
    host_ips: Vec<String>,
    text: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct ScriptView {
    script_name: String,
    file_name: String,
    parameter: String,
    dest: String,
    execute_type: String,
    able: bool,
    host_ips: Vec<String>,
}

/// A frozen plan next to the last successful run (as the jobs service compares them).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ComparisonView {
    compared_with: Option<String>,
    steps: Vec<PlannedStepView>,
}

#[derive(Debug, Serialize)]
struct PlanView {
    instance_id: String,
    /// The run `changes` compares with (none: never succeeded).
    compared_with: Option<String>,
    /// What approving would change, step by step.
    changes: Vec<PlannedStepView>,
    steps: Vec<StepView>,
    /// Parameters as `key = value` lines (values as JSON text unless plain strings).
    params: Vec<Vec<(String, String)>>,
}

#[derive(Debug, Serialize)]
struct ApprovalPage {
    #[serde(flatten)]
    frame: Frame,
    request: RequestView,
    plans: Vec<PlanView>,
    /// An approver or admin who did not ask it, while it is pending.
    may_decide: bool,
    /// An approver or admin who asked it (a note instead of the controls).
    own_request: bool,
    approve_url: String,
    reject_url: String,
}

fn plan_view(plan: pb::FrozenInstancePlan) -> Result<PlanView, ApiError> {
    let mut steps: Vec<StepView> = serde_json::from_str(&plan.steps_json).map_err(|error| {
        ApiError::new(
            ErrorReason::InternalError,
            format!(
                "the frozen plan of instance {} cannot be read: {error}",
                plan.instance_id
            ),
        )
    })?;
    let comparison: ComparisonView = if plan.comparison_json.is_empty() {
        ComparisonView::default()
    } else {
        serde_json::from_str(&plan.comparison_json).map_err(|error| {
            ApiError::new(
                ErrorReason::InternalError,
                format!(
                    "the comparison of instance {} cannot be read: {error}",
                    plan.instance_id
                ),
            )
        })?
    };
    for step in &mut steps {
        if let Some(package) = step.package.as_ref().filter(|package| !package.is_null()) {
            step.package_text = package.to_string();
        }
    }
    let params = steps
        .iter()
        .map(|step| {
            step.params
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .collect();
    Ok(PlanView {
        instance_id: plan.instance_id,
        compared_with: comparison.compared_with,
        changes: comparison.steps,
        steps,
        params,
    })
}

/// `GET /console/approvals/{id}`.
pub async fn approval_page(
    request: HttpRequest,
    call: Call,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let id = capped("id", &path)?.to_owned();
    let answer = reply(call.jobs().get_approval(pb::IdRequest { id })).await?;
    let item = answer.request.ok_or_else(|| {
        ApiError::new(
            ErrorReason::InternalError,
            "the jobs service answered no deployment request",
        )
    })?;
    let item = ApprovalItem::from_proto(item, &call.times);
    let plans = answer
        .plans
        .into_iter()
        .map(plan_view)
        .collect::<Result<Vec<_>, _>>()?;
    let claims = &call.caller.claims;
    let approver = claims.has_role(Role::Admin) || claims.has_role(Role::Approver);
    let own = item.requested_by == claims.username();
    let pending = item.status == "pending";
    let encoded = path_segment(&item.id);
    let page = ApprovalPage {
        frame: signed_in_frame(&request, &call.caller, "approvals")?,
        may_decide: approver && !own && pending,
        own_request: approver && own && pending,
        approve_url: format!("/api/approvals/{encoded}/approve"),
        reject_url: format!("/api/approvals/{encoded}/reject"),
        request: RequestView::of(item, &lang.messages()),
        plans,
    };
    Ok(html(StatusCode::OK, render("approval.html", &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::view::UserView;

    fn item(status: &str, requester: &str) -> ApprovalItem {
        ApprovalItem {
            id: "r<1>".into(),
            kind: "deploy".into(),
            target_id: "inst 1".into(),
            env_id: "prod".into(),
            application_id: Some("shop".into()),
            status: status.into(),
            requested_by: requester.into(),
            create_time: "2026-12-06 08:00:00".into(),
            expires_at: "2026-12-07 08:00:00".into(),
            decided_by: None,
            comment: Some("<b>ship it</b>".into()),
            reason: None,
            not_before: None,
            execution_id: None,
            use_tad_host: false,
        }
    }

    fn frame() -> Frame {
        Frame::new(
            Lang::English,
            "approvals",
            Some(UserView {
                name: "abe".into(),
                roles: "approver".into(),
                reads_audit: false,
            }),
            Some("csrf".into()),
        )
    }

    fn request_page(may_decide: bool, own_request: bool) -> String {
        let plan = plan_view(pb::FrozenInstancePlan {
            instance_id: "inst 1".into(),
            steps_json: r#"[{"sequence":0,"method_name":"install","hosts":["10.0.0.1"],
                "configs":[{"target_name":"app.conf","dest":"/etc","host_ips":["10.0.0.1"],"text":"<script>x</script>"}],
                "params":{"db_password":"******"},
                "scripts":[{"script_name":"deploy","able":false,"parameter":"a b"}]}]"#
                .into(),
            comparison_json: String::new(),
        })
        .expect("plan");
        let messages = Lang::English.messages();
        let page = ApprovalPage {
            frame: frame(),
            request: RequestView::of(item("pending", "ana"), &messages),
            plans: vec![plan],
            may_decide,
            own_request,
            approve_url: "/api/approvals/r%3C1%3E/approve".into(),
            reject_url: "/api/approvals/r%3C1%3E/reject".into(),
        };
        render("approval.html", &page).expect("render")
    }

    #[test]
    fn the_request_page_escapes_the_plan_and_shows_controls_only_to_a_decider() {
        let html = request_page(true, false);
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;script&gt;x"), "{html}");
        assert!(html.contains("&lt;b&gt;ship it"), "{html}");
        assert!(html.contains("id=\"approve\""), "{html}");
        assert!(
            html.contains("data-decide=\"&#x2f;api&#x2f;approvals&#x2f;r%3C1%3E&#x2f;reject\""),
            "{html}"
        );
        assert!(html.contains("not reviewed"), "{html}");
        assert!(html.contains("******"), "{html}");
        assert!(
            html.contains("href=\"&#x2f;console&#x2f;instances&#x2f;inst%201\""),
            "{html}"
        );
        let own = request_page(false, true);
        assert!(!own.contains("id=\"approve\""), "{own}");
        assert!(own.contains("id=\"own-request\""), "{own}");
        let reader = request_page(false, false);
        assert!(!reader.contains("data-decide"), "{reader}");
        assert!(!reader.contains("own-request"), "{reader}");
    }

    #[test]
    fn the_list_links_each_request_and_keeps_the_filter() {
        let messages = Lang::English.messages();
        let view = ApprovalsPage {
            frame: frame(),
            requests: vec![RequestView::of(item("void", "ana"), &messages)],
            statuses: Choice::list([("void".to_owned(), "void".to_owned())], "void"),
            paging: Paging::new("/console/approvals", &[("status", "void")], 1, 25, 60),
        };
        let html = render("approvals.html", &view).expect("render");
        assert!(
            html.contains("href=\"&#x2f;console&#x2f;approvals&#x2f;r%3C1%3E\""),
            "{html}"
        );
        assert!(html.contains("r&lt;1&gt;"), "{html}");
        assert!(html.contains("status=void&amp;page=2"), "{html}");
        assert!(html.contains("status-failed"), "{html}");
        assert!(html.contains("id=\"nav-approvals\""), "{html}");
    }

    #[test]
    fn a_frozen_plan_is_read_leniently_and_a_broken_one_is_an_error() {
        let plan = pb::FrozenInstancePlan {
            instance_id: "i1".into(),
            steps_json: r#"[{"sequence":0,"method_name":"install","hosts":["10.0.0.1"],
                "params":{"greeting":"hello","db_password":"******","n":3},
                "scripts":[{"script_name":"deploy","able":true,"parameter":"ok"}]}]"#
                .into(),
            comparison_json: r#"{"compared_with":"run-7","steps":[{"sequence":0,"component_id":"c","method_id":"m","method_name":"install","cluster_id":"k","hosts":["10.0.0.1"],"batches":[["10.0.0.1"]],"artifacts":[],"configs":[{"path":"/etc/a.conf","hosts":["10.0.0.1"],"changed":true,"diff":"-port=1\n+port=2\n"}],"params":[],"scripts":[],"timeout_secs":0}]}"#.into(),
        };
        let view = plan_view(plan).expect("plan");
        assert_eq!(view.compared_with.as_deref(), Some("run-7"));
        assert!(view.changes[0].configs[0].diff.contains("+port=2"));
        assert_eq!(view.steps[0].hosts, ["10.0.0.1"]);
        assert!(view.steps[0].scripts[0].able);
        assert_eq!(
            view.params[0],
            [
                ("db_password".to_owned(), "******".to_owned()),
                ("greeting".to_owned(), "hello".to_owned()),
                ("n".to_owned(), "3".to_owned()),
            ]
        );
        let broken = pb::FrozenInstancePlan {
            instance_id: "i2".into(),
            steps_json: "{not json".into(),
            comparison_json: String::new(),
        };
        let error = plan_view(broken).expect_err("broken");
        assert!(error.info.contains("instance i2"), "{}", error.info);
    }
}
