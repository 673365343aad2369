//! The console's templates (minijinja, embedded in the binary, HTML autoescape on: every value a
//! page shows is escaped) and what each page is rendered from: the [`Frame`] every page shares
//! (language, messages, user, CSRF token) and the page's own values.

use std::{collections::BTreeMap, sync::LazyLock};

use minijinja::{Environment, UndefinedBehavior};
use proto::ErrorReason;
use serde::Serialize;

use super::{dashboard::DashboardView, i18n::Lang};
use crate::error::ApiError;

/// Every template: name (its `.html` ending turns autoescape on) and source.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("failure.html", include_str!("templates/failure.html")),
    ("scripts.html", include_str!("templates/scripts.html")),
    ("script.html", include_str!("templates/script.html")),
    ("clusters.html", include_str!("templates/clusters.html")),
    ("hosts.html", include_str!("templates/hosts.html")),
    ("apps.html", include_str!("templates/apps.html")),
    ("app.html", include_str!("templates/app.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("instances.html", include_str!("templates/instances.html")),
    ("instance.html", include_str!("templates/instance.html")),
    ("jointlines.html", include_str!("templates/jointlines.html")),
    ("jointline.html", include_str!("templates/jointline.html")),
    ("run.html", include_str!("templates/run.html")),
    ("tokens.html", include_str!("templates/tokens.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("approvals.html", include_str!("templates/approvals.html")),
    ("approval.html", include_str!("templates/approval.html")),
];

/// The environment, built once. A template that does not parse is a build mistake that the
/// unit tests catch; it then answers every page with an internal error naming it.
static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut environment = Environment::new();
    // A value a template names but the page lacks is an error, not an empty string.
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        environment
            .add_template(name, source)
            .map_err(|error| format!("console template {name}: {error}"))?;
    }
    Ok(environment)
});

/// A language of the switch.
#[derive(Debug, Serialize)]
struct LanguageOption {
    tag: &'static str,
    name: &'static str,
}

/// The signed-in user as the header shows them.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub name: String,
    /// The roles, comma-separated.
    pub roles: String,
    /// An admin or auditor (the audit page's link).
    pub reads_audit: bool,
}

/// What every page shares: language and its messages, the page's name, the user and the CSRF
/// token of their session (both absent on the login page).
#[derive(Debug, Serialize)]
pub struct Frame {
    lang: &'static str,
    languages: Vec<LanguageOption>,
    t: BTreeMap<&'static str, &'static str>,
    page: &'static str,
    user: Option<UserView>,
    csrf: Option<String>,
}

impl Frame {
    pub fn new(
        lang: Lang,
        page: &'static str,
        user: Option<UserView>,
        csrf: Option<String>,
    ) -> Frame {
        Frame {
            lang: lang.tag(),
            languages: Lang::ALL
                .iter()
                .map(|lang| LanguageOption {
                    tag: lang.tag(),
                    name: lang.name(),
                })
                .collect(),
            t: lang.messages(),
            page,
            user,
            csrf,
        }
    }
}

/// The login page's own values.
#[derive(Debug, Serialize)]
pub struct LoginView {
    #[serde(flatten)]
    pub frame: Frame,
    /// Where the first admin's password is (first start only).
    pub note: Option<String>,
    /// Why the last attempt failed.
    pub problem: Option<String>,
    /// The user name tried (kept in the form after a failure).
    pub username: String,
    /// The token of the login form (also in its cookie).
    pub login_csrf: String,
}

/// The dashboard's values.
#[derive(Debug, Serialize)]
pub struct DashboardPage {
    #[serde(flatten)]
    pub frame: Frame,
    #[serde(flatten)]
    pub dashboard: DashboardView,
    pub refresh_seconds: u32,
    pub rendered_at: String,
}

/// Renders template `name` with `values`.
pub fn render(name: &str, values: &impl Serialize) -> Result<String, ApiError> {
    let failed = |error: String| ApiError::new(ErrorReason::InternalError, error);
    let environment = ENVIRONMENT
        .as_ref()
        .map_err(|error| failed(error.clone()))?;
    environment
        .get_template(name)
        .and_then(|template| template.render(values))
        .map_err(|error| failed(format!("console template {name}: {error:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::dashboard::{Counts, RunView};

    fn user() -> UserView {
        UserView {
            name: "<script>alert('u')</script>".into(),
            roles: "viewer".into(),
            reads_audit: false,
        }
    }

    fn run(status: &str, resume: bool) -> RunView {
        RunView {
            id: "run-1".into(),
            application: "shop \"&\" <b>".into(),
            environment: "test".into(),
            instance: "i<1>".into(),
            status: status.into(),
            status_class: status.into(),
            status_text: status.into(),
            message: Some("<img src=x onerror=alert(1)>".into()),
            started_by: "alice".into(),
            started_at: "2026-01-01 00:00:00".into(),
            duration: "5s".into(),
            steps: Counts::default(),
            hosts: Counts::default(),
            resume_url: resume.then(|| "/api/app/jobinstance/i1/executionall?wait=false".into()),
            resume_body: r#"{"use_tad_host":true}"#.into(),
            retry_url: None,
        }
    }

    fn dashboard(in_progress: Vec<RunView>, latest: Vec<RunView>) -> String {
        let page = DashboardPage {
            frame: Frame::new(
                Lang::English,
                "dashboard",
                Some(user()),
                Some("c0ffee".into()),
            ),
            dashboard: DashboardView {
                in_progress,
                latest,
            },
            refresh_seconds: 5,
            rendered_at: "now".into(),
        };
        render("dashboard.html", &page).expect("render")
    }

    #[test]
    fn every_key_a_template_uses_is_in_the_catalogue() {
        let messages = Lang::English.messages();
        for (name, source) in TEMPLATES {
            let mut used_keys = 0;
            for (at, _) in source.match_indices("t.") {
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key: String = source[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(messages.contains_key(key.as_str()), "{name} uses t.{key}");
                used_keys += 1;
            }
            assert!(used_keys > 0, "{name} uses no message");
        }
    }

    #[test]
    fn every_template_parses() {
        assert!(ENVIRONMENT.is_ok(), "{:?}", ENVIRONMENT.as_ref().err());
    }

    #[test]
    fn every_value_is_escaped() {
        let html = dashboard(vec![], vec![run("failed", false)]);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert("), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("shop &quot;&amp;&quot; &lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
        // No inline script: the only script is the console's file.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"/static/console.js\" defer></script>"));
    }

    #[test]
    fn the_resume_button_is_there_only_when_the_run_offers_it() {
        let offered = dashboard(vec![run("interrupted", true)], vec![]);
        assert!(offered.contains("class=\"resume\""), "{offered}");
        // (minijinja escapes `/` too: the browser reads the URL back unchanged)
        assert!(offered.contains(
            "data-post=\"&#x2f;api&#x2f;app&#x2f;jobinstance&#x2f;i1&#x2f;executionall?wait=false\""
        ));
        assert!(
            offered.contains("data-body=\"{&quot;use_tad_host&quot;:true}\""),
            "{offered}"
        );
        let refused = dashboard(vec![run("interrupted", false)], vec![]);
        assert!(!refused.contains("class=\"resume\""), "{refused}");
        assert!(refused.contains("status-interrupted"));
    }

    #[test]
    fn the_login_page_shows_its_note_problem_and_both_languages() {
        for lang in Lang::ALL {
            let page = LoginView {
                frame: Frame::new(lang, "login", None, None),
                note: Some("printed <once>".into()),
                problem: Some("wrong \"password\"".into()),
                username: "ad<min".into(),
                login_csrf: "abc".into(),
            };
            let html = render("login.html", &page).expect("render");
            assert!(
                html.contains(&format!("<html lang=\"{}\">", lang.tag())),
                "{html}"
            );
            assert!(html.contains(lang.messages()["sign_in"]));
            assert!(html.contains("printed &lt;once&gt;"));
            assert!(html.contains("wrong &quot;password&quot;"));
            assert!(html.contains("value=\"ad&lt;min\""));
            assert!(!html.contains("id=\"logout\""), "no user, no logout");
        }
    }
}
