//! The console's script review (5.11): the script versions waiting for review (or all of them)
//! and one version's page with each file's unified diff against the application's previous
//! version, plus approve and reject buttons. The buttons post to 5.11.3
//! (`/api/script/index/examine/{id}`) like any client, and are shown only to a reviewer or admin
//! who did not upload the version (four-eyes); the artifact service refuses the others anyway.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use common::auth::Role;
use proto::{ErrorReason, artifact::v1 as pb, resource::v1 as resource_pb};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::{
    i18n::Lang,
    listing::PageQuery,
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Longest id or filter value read from a console URL.
pub const MAX_ID_CHARS: usize = 64;
/// Most diff lines shown per file (a longer diff says it was cut).
const MAX_DIFF_LINES: usize = 5000;
/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

/// The review states a version can be in, as its list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReviewState {
    /// `disable`, never reviewed.
    Pending,
    /// `able`: may run.
    Approved,
    /// `disable` after a review.
    Rejected,
}

impl ReviewState {
    fn of(script: &pb::ScriptVersion) -> ReviewState {
        match (script.status.as_str(), script.reviewer.is_empty()) {
            ("able", _) => ReviewState::Approved,
            (_, true) => ReviewState::Pending,
            (_, false) => ReviewState::Rejected,
        }
    }

    fn key(self) -> &'static str {
        match self {
            ReviewState::Pending => "review_pending",
            ReviewState::Approved => "review_approved",
            ReviewState::Rejected => "review_rejected",
        }
    }

    /// The CSS class (only an approved version is green).
    fn class(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Approved => "success",
            ReviewState::Rejected => "failed",
        }
    }
}

/// One script version in a list or on its page.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptView {
    pub id: String,
    pub name: String,
    pub application: String,
    pub uploader: String,
    pub reviewer: String,
    pub uploaded_at: String,
    /// `pending`, `success` (approved) or `failed` (rejected).
    pub state_class: &'static str,
    pub state_text: String,
}

/// An application of the filter.
#[derive(Debug, Serialize)]
struct ApplicationOption {
    id: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct ScriptsPage {
    #[serde(flatten)]
    frame: Frame,
    scripts: Vec<ScriptView>,
    applications: Vec<ApplicationOption>,
    application_id: String,
    all: bool,
}

/// One line of a diff: `hunk` (its `@@` header), `add`, `del` or `same`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: &'static str,
    pub text: String,
}

/// One file of the version with its diff against the same path in the previous version.
#[derive(Debug, Serialize)]
pub struct FileDiff {
    pub path: String,
    /// The file is new in this version (the diff is all additions).
    pub added: bool,
    /// No text diff: the file (or its previous version) is not text; says why.
    pub problem: Option<String>,
    pub lines: Vec<DiffLine>,
    pub additions: usize,
    pub deletions: usize,
    /// The diff was longer than `MAX_DIFF_LINES`.
    pub cut: bool,
}

#[derive(Debug, Serialize)]
struct ScriptPage {
    #[serde(flatten)]
    frame: Frame,
    script: ScriptView,
    /// The version compared against (none: the application's first version).
    previous: Option<ScriptView>,
    files: Vec<FileDiff>,
    /// Paths of the previous version this one no longer has.
    removed: Vec<String>,
    /// The caller may approve or reject (reviewer or admin, not the uploader).
    may_review: bool,
    /// The caller uploaded it (the page says why there is no approve button).
    own_upload: bool,
    examine_url: String,
}

/// A filter or id from a URL, capped (the field is named in the refusal).
pub fn capped<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    let value = value.trim();
    if value.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::new(
            ErrorReason::InvalidField,
            format!("field {field} must be at most {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(value)
}

/// Names of applications by id (unknown ids show as themselves).
async fn application_names(
    call: &Call,
    ids: Vec<String>,
) -> Result<HashMap<String, String>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let request = resource_pb::LookupNamesRequest {
        application_ids: ids,
        ..Default::default()
    };
    let names = reply(call.resource().lookup_names(request)).await?;
    Ok(names.applications.into_iter().collect())
}

fn script_view(
    call: &Call,
    lang: Lang,
    names: &HashMap<String, String>,
    script: &pb::ScriptVersion,
) -> ScriptView {
    let state = ReviewState::of(script);
    let messages = lang.messages();
    ScriptView {
        id: script.id.clone(),
        name: script.name.clone(),
        application: names
            .get(&script.app_id)
            .cloned()
            .unwrap_or_else(|| script.app_id.clone()),
        uploader: script.uploader.clone(),
        reviewer: script.reviewer.clone(),
        uploaded_at: call.times.render_unix_ms(script.create_time_ms),
        state_class: state.class(),
        state_text: messages
            .get(state.key())
            .copied()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// `GET /console/scripts?application_id=&state=all`: versions waiting for review (or all).
pub async fn scripts_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let query = PageQuery::new(query.into_inner())?;
    let application_id = capped("application_id", &query.text("application_id"))?.to_owned();
    let all = query.text("state") == "all";
    let list = pb::ListScriptsRequest {
        app_id: application_id.clone(),
        name: String::new(),
    };
    let scripts = reply(call.artifact().list_scripts(list)).await?.scripts;
    let scripts: Vec<pb::ScriptVersion> = scripts
        .into_iter()
        .filter(|script| all || ReviewState::of(script) == ReviewState::Pending)
        .collect();
    let mut applications = reply(
        call.resource()
            .list_applications(resource_pb::ListApplicationsRequest::default()),
    )
    .await?
    .applications;
    applications.sort_by(|left, right| left.name.cmp(&right.name));
    let names: HashMap<String, String> = applications
        .iter()
        .map(|application| (application.id.clone(), application.name.clone()))
        .collect();
    let page = ScriptsPage {
        frame: signed_in_frame(&request, &call.caller, "scripts")?,
        scripts: scripts
            .iter()
            .map(|script| script_view(&call, lang, &names, script))
            .collect(),
        applications: applications
            .into_iter()
            .map(|application| ApplicationOption {
                id: application.id,
                name: application.name,
            })
            .collect(),
        application_id,
        all,
    };
    Ok(html(StatusCode::OK, render("scripts.html", &page)?))
}

/// The text of a script file, or why there is none (binary, too large).
async fn file_text(call: &Call, file_id: &str) -> Result<String, String> {
    let request = pb::FileRequest {
        id: file_id.to_owned(),
    };
    reply(call.artifact().script_file_text(request))
        .await
        .map(|text| text.file_data)
        .map_err(|status| ApiError::from(status).info)
}

/// The unified diff of two texts, with its counts; `cut` when longer than `MAX_DIFF_LINES`.
pub fn diff_lines(old: &str, new: &str) -> (Vec<DiffLine>, usize, usize, bool) {
    let diff = TextDiff::from_lines(old, new);
    let (mut lines, mut additions, mut deletions, mut cut) = (Vec::new(), 0, 0, false);
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT_LINES);
    for hunk in unified.iter_hunks() {
        let mut push = |kind: &'static str, text: String| {
            if lines.len() < MAX_DIFF_LINES {
                lines.push(DiffLine { kind, text });
            } else {
                cut = true;
            }
        };
        push("hunk", hunk.header().to_string());
        for change in hunk.iter_changes() {
            let kind = match change.tag() {
                ChangeTag::Insert => {
                    additions += 1;
                    "add"
                }
                ChangeTag::Delete => {
                    deletions += 1;
                    "del"
                }
                ChangeTag::Equal => "same",
            };
            let text = change.value().trim_end_matches(['\n', '\r']).to_owned();
            push(kind, text);
        }
    }
    (lines, additions, deletions, cut)
}

/// The diff of one file of the version against the previous version's file at the same path.
async fn file_diff(
    call: &Call,
    file: &pb::StoredFile,
    before: Option<&pb::StoredFile>,
) -> FileDiff {
    let added = before.is_none();
    let mut diff = FileDiff {
        path: file.path.clone(),
        added,
        problem: None,
        lines: Vec::new(),
        additions: 0,
        deletions: 0,
        cut: false,
    };
    let new = match file_text(call, &file.id).await {
        Ok(text) => text,
        Err(problem) => {
            diff.problem = Some(problem);
            return diff;
        }
    };
    let old = match before {
        Some(before) => match file_text(call, &before.id).await {
            Ok(text) => text,
            Err(problem) => {
                diff.problem = Some(problem);
                return diff;
            }
        },
        None => String::new(),
    };
    (diff.lines, diff.additions, diff.deletions, diff.cut) = diff_lines(&old, &new);
    diff
}

/// The application's version uploaded just before `script` (the list is newest first).
async fn previous_version(
    call: &Call,
    script: &pb::ScriptVersion,
) -> Result<Option<pb::ScriptVersion>, ApiError> {
    let list = pb::ListScriptsRequest {
        app_id: script.app_id.clone(),
        name: String::new(),
    };
    let versions = reply(call.artifact().list_scripts(list)).await?.scripts;
    let older = versions
        .into_iter()
        .filter(|version| {
            version.id != script.id
                && (version.create_time_ms, &version.id) < (script.create_time_ms, &script.id)
        })
        .max_by(|left, right| {
            (left.create_time_ms, &left.id).cmp(&(right.create_time_ms, &right.id))
        });
    let Some(older) = older else {
        return Ok(None);
    };
    let request = pb::FileRequest { id: older.id };
    Ok(Some(reply(call.artifact().get_script(request)).await?))
}

/// `GET /console/scripts/{id}`: one version, its files' diffs, approve and reject.
pub async fn script_page(
    request: HttpRequest,
    call: Call,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let id = capped("id", &path)?.to_owned();
    let script = reply(call.artifact().get_script(pb::FileRequest { id })).await?;
    let previous = previous_version(&call, &script).await?;
    let names = application_names(&call, vec![script.app_id.clone()]).await?;
    let before: BTreeMap<&str, &pb::StoredFile> = previous
        .iter()
        .flat_map(|previous| previous.files.iter())
        .map(|file| (file.path.as_str(), file))
        .collect();
    let mut files = Vec::new();
    for file in &script.files {
        files.push(file_diff(&call, file, before.get(file.path.as_str()).copied()).await);
    }
    let removed = before
        .keys()
        .filter(|path| !script.files.iter().any(|file| file.path == **path))
        .map(|path| (*path).to_owned())
        .collect();
    let claims = &call.caller.claims;
    let reviewer = claims.has_role(Role::Admin) || claims.has_role(Role::Reviewer);
    let own_upload = script.uploader == claims.username();
    let page = ScriptPage {
        frame: signed_in_frame(&request, &call.caller, "scripts")?,
        script: script_view(&call, lang, &names, &script),
        previous: previous
            .as_ref()
            .map(|previous| script_view(&call, lang, &names, previous)),
        files,
        removed,
        may_review: reviewer && !own_upload,
        own_upload: reviewer && own_upload,
        examine_url: format!("/api/script/index/examine/{}", script.id),
    };
    Ok(html(StatusCode::OK, render("script.html", &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_shows_hunks_additions_and_deletions() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";
        let (lines, additions, deletions, cut) = diff_lines(old, new);
        assert_eq!((additions, deletions, cut), (2, 1, false));
        assert_eq!(lines[0].kind, "hunk");
        assert!(
            lines[0].text.starts_with("@@ -1,8 +1,9 @@"),
            "{:?}",
            lines[0]
        );
        let changed: Vec<(&str, &str)> = lines
            .iter()
            .filter(|line| line.kind != "same" && line.kind != "hunk")
            .map(|line| (line.kind, line.text.as_str()))
            .collect();
        assert_eq!(changed, [("del", "d"), ("add", "D"), ("add", "i")]);
    }

    #[test]
    fn a_new_file_is_all_additions_and_a_long_diff_is_cut() {
        let new: String = (0..MAX_DIFF_LINES + 10).map(|n| format!("{n}\n")).collect();
        let (lines, additions, deletions, cut) = diff_lines("", &new);
        assert_eq!((additions, deletions, cut), (MAX_DIFF_LINES + 10, 0, true));
        assert_eq!(lines.len(), MAX_DIFF_LINES);
        let (lines, ..) = diff_lines("same\n", "same\n");
        assert!(lines.is_empty());
    }

    #[test]
    fn review_states_follow_status_and_reviewer() {
        let version = |status: &str, reviewer: &str| pb::ScriptVersion {
            status: status.into(),
            reviewer: reviewer.into(),
            ..Default::default()
        };
        assert_eq!(
            ReviewState::of(&version("disable", "")),
            ReviewState::Pending
        );
        assert_eq!(
            ReviewState::of(&version("able", "bob")),
            ReviewState::Approved
        );
        assert_eq!(
            ReviewState::of(&version("disable", "bob")),
            ReviewState::Rejected
        );
        assert!(capped("id", &"x".repeat(MAX_ID_CHARS + 1)).is_err());
        assert_eq!(capped("id", " abc ").ok(), Some("abc"));
    }
}

#[cfg(test)]
mod page_tests {
    use super::*;
    use crate::console::view::UserView;

    #[test]
    fn the_review_page_escapes_paths_and_lines_and_offers_review_only_when_allowed() {
        let script = ScriptView {
            id: "s1".into(),
            name: "<i>v2</i>".into(),
            application: "shop".into(),
            uploader: "olga".into(),
            reviewer: String::new(),
            uploaded_at: "now".into(),
            state_class: "pending",
            state_text: "waiting for review".into(),
        };
        let (lines, ..) = diff_lines("", "<script>alert(1)</script>\n");
        let page = |may_review: bool| ScriptPage {
            frame: Frame::new(
                Lang::English,
                "scripts",
                Some(UserView {
                    name: "rita".into(),
                    roles: "reviewer".into(),
                    reads_audit: false,
                }),
                Some("c0ffee".into()),
            ),
            script: script.clone(),
            previous: None,
            files: vec![FileDiff {
                path: "x\"><img src=x>.sh".into(),
                added: true,
                problem: None,
                lines: diff_lines("", "<script>alert(1)</script>\n").0,
                additions: 1,
                deletions: 0,
                cut: false,
            }],
            removed: vec![],
            may_review,
            own_upload: false,
            examine_url: "/api/script/index/examine/s1".into(),
        };
        assert_eq!(lines.len(), 2);
        let html = render("script.html", &page(true)).expect("render");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img src=x>"), "{html}");
        assert!(html.contains("&lt;i&gt;v2&lt;&#x2f;i&gt;"));
        assert!(html.contains("id=\"approve\"") && html.contains("id=\"reject\""));
        let html = render("script.html", &page(false)).expect("render");
        assert!(!html.contains("id=\"approve\"") && !html.contains("id=\"reject\""));
    }
}
