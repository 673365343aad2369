//! The audit trail over the route table (issue 20, "Must show"): the recorded-answers script,
//! which calls every route (successes and the main refusals), is played with a request id of its
//! own on each request; then, for each request, the events that carry its id must be what the
//! route table declares: a write answered ok adds exactly one `ok` event with the route's action
//! and object kind, a refused write exactly one `refused` event with the answer's code as its
//! reason, a write that failed (a server fault) or any read adds none. Then a write whose event
//! cannot be appended fails and leaves nothing, every service's chain verifies, and an event
//! edited with SQL is named. On SQLite, and on PostgreSQL + Redis when `TEST_DATABASE_URL` and
//! `TEST_REDIS_URL` are set (CI's second pass).

use std::collections::{BTreeMap, BTreeSet};

use common::{
    audit::{self, Event, Filter},
    db::{Database, DbConnection, DbError},
};
use diesel::{RunQueryDsl, sql_query};
use gateway::{
    routes::ROUTES,
    routing::{Audited, Method, Route},
};
use serde_json::json;

use crate::recorded_answers::{Observed, Recorder, appinhouse::form, play_script};

const SERVICES: [&str; 4] = ["resource", "artifact", "jobs", "appinhouse"];

/// Write routes the script (and [`complete_the_rest`]) never answers ok, and where their ok
/// event is shown instead.
const COVERED_ELSEWHERE: [(&str, &str); 1] = [(
    "/api/app/jobinstance/{id}/stop_execution",
    "a stop needs a run in progress: svc-jobs/tests/audit_suite/runs.rs stops one and checks its event",
)];

/// The writes the recorded script only refuses, each once answered ok (observed like the
/// script's own requests; not part of the recording).
async fn complete_the_rest(recorder: &mut Recorder) {
    let created = recorder
        .post(
            "admin",
            "/api/app/jobtemplate/create",
            json!({"name": "audit-extra", "remark": "r", "application_id": "app1"}),
        )
        .await;
    let template = created.text_at("/data/id");
    recorder
        .delete("admin", &format!("/api/app/jobtemplate/{template}"))
        .await;

    recorder
        .call(
            "appinhouse-key",
            "POST",
            "/api/v2/audx/create",
            form(&[("description", "d")]),
        )
        .await;
    for (version, time) in
        (0..6).map(|n| (format!("1.0.{n}"), format!("2016-05-1{n}T10:00:00+08:00")))
    {
        let answer = recorder
            .call(
                "appinhouse-key",
                "POST",
                "/api/v2/audx/desc/android",
                form(&[
                    ("version", &version),
                    ("time", &time),
                    ("url", "http://ci.example/1"),
                    ("software_url", "http://ci.example/a.apk"),
                ]),
            )
            .await;
        assert_eq!(answer.body["code"], 0, "{}", answer.body);
    }
    let deleted = recorder
        .delete("appinhouse-key", "/api/v2/audx/delete/android?residue=5")
        .await;
    assert_eq!(deleted.body["code"], 0, "{}", deleted.body);
    recorder
        .call(
            "appinhouse-key",
            "POST",
            "/api/v2/audx/protect",
            form(&[("password", "audit-page-pw")]),
        )
        .await;
    recorder
        .call(
            "appinhouse-key",
            "POST",
            "/api/v2/audx/share",
            form(&[("hours", "2")]),
        )
        .await;

    // The console's login form: its CSRF cookie and field from the login page.
    let page = crate::support::http_client()
        .get(format!("{}/console/login", recorder.platform.url()))
        .send()
        .await
        .expect("login page");
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("tad_login_csrf="))
        .and_then(|value| value.split(';').next())
        .expect("the login CSRF cookie")
        .to_owned();
    let html = page.text().await.expect("login page text");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form's csrf field")
        .to_owned();
    let fields = form(&[
        ("username", "admin"),
        ("password", crate::recorded_answers::ADMIN_PASSWORD),
        ("csrf", &csrf),
    ]);
    recorder
        .call_with(
            "anonymous",
            "POST",
            "/console/login",
            fields,
            &[("cookie", cookie.as_str())],
        )
        .await;
}

/// How an answer ended, read from its body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Refused(String),
    /// A server fault (`level: error`, an appinhouse system code): nothing changed, nothing
    /// recorded.
    Failed,
}

/// The appinhouse codes the gateway records as refusals (`legacy::appinhouse::refusal_name`).
fn appinhouse_outcome(code: i64) -> Outcome {
    let name = match code {
        0 => return Outcome::Ok,
        1001 => "invalid_parameter",
        1002 => "page_out_of_range",
        1003 => "plist_error",
        1004 => "archive_missing",
        1006 => "time_format",
        1008 => "app_not_found",
        1009 => "app_exists",
        1010 => "secret_key",
        _ => return Outcome::Failed,
    };
    Outcome::Refused(name.to_owned())
}

fn outcome_of(observed: &Observed) -> Outcome {
    let body = &observed.body;
    if let Some(success) = body["success"].as_bool() {
        if success {
            return Outcome::Ok;
        }
        let code = body["code"].as_str().unwrap_or_default().to_owned();
        return if body["level"] == "warning" {
            Outcome::Refused(code)
        } else {
            Outcome::Failed
        };
    }
    if let Some(code) = body["code"].as_i64() {
        return appinhouse_outcome(code);
    }
    // A page or a form: a redirect went through, anything else was refused.
    match observed.status {
        302 | 303 => Outcome::Ok,
        500.. => Outcome::Failed,
        _ => Outcome::Refused(String::new()),
    }
}

/// The declared route `method path` is, the most specific one (most literal segments).
fn route_of(method: &str, path: &str) -> Option<&'static Route> {
    let path = path
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let sent: Vec<String> = path
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let method = match method {
        "GET" | "HEAD" => Method::Get,
        "POST" => Method::Post,
        "DELETE" => Method::Delete,
        _ => return None,
    };
    ROUTES
        .iter()
        .filter(|route| route.method == method)
        .filter_map(|route| {
            let declared: Vec<&str> = route.path.trim_end_matches('/').split('/').collect();
            if declared.len() != sent.len() {
                return None;
            }
            let mut literals = 0;
            for (declared, sent) in declared.iter().zip(&sent) {
                if declared.starts_with('{') {
                    continue;
                }
                if declared != sent {
                    return None;
                }
                literals += 1;
            }
            Some((literals, route))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, route)| route)
}

/// Every event of every service, by the request id it carries.
async fn events_by_request(recorder: &Recorder) -> BTreeMap<String, Vec<(&'static str, Event)>> {
    let mut by_request: BTreeMap<String, Vec<(&'static str, Event)>> = BTreeMap::new();
    for service in SERVICES {
        let database = recorder.platform.database(service);
        let (_, events) = database
            .run(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::query(connection, &Filter::default(), 1_000_000)?)
            })
            .await
            .expect("read the audit events");
        for event in events {
            by_request
                .entry(event.request_id.clone())
                .or_default()
                .push((service, event));
        }
    }
    by_request
}

/// What is wrong with the events of one request, if anything.
fn check_request(
    observed: &Observed,
    route: Option<&Route>,
    replayed: bool,
    events: &[(&'static str, Event)],
) -> Option<String> {
    let audited: Option<Audited> = route.and_then(|route| route.audit);
    let outcome = outcome_of(observed);
    let describe = |events: &[(&str, Event)]| {
        events
            .iter()
            .map(|(service, event)| {
                format!(
                    "{service}#{} {} {} {} reason={:?}",
                    event.seq, event.action, event.object_kind, event.object_id, event.reason
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let Some(audited) = audited else {
        return (!events.is_empty()).then(|| format!("a read added events: {}", describe(events)));
    };
    if matches!(&outcome, Outcome::Refused(code) if code == "approval_required") {
        // A start on a protected environment: not a refusal but a deployment request, recorded
        // by the jobs service as one `approval.request` event.
        return match events {
            [(_, event)]
                if event.action == "approval.request"
                    && event.object_kind == "approval"
                    && event.reason.is_none() =>
            {
                None
            }
            _ => Some(format!(
                "approval required: one approval.request event wanted, found [{}]",
                describe(events)
            )),
        };
    }
    let wanted = match (&outcome, replayed) {
        (Outcome::Failed, _) | (Outcome::Ok, true) => 0,
        _ => 1,
    };
    if events.len() != wanted {
        return Some(format!(
            "{:?} ({}): {} event(s) wanted, found [{}]",
            outcome,
            audited.action,
            wanted,
            describe(events)
        ));
    }
    let (_, event) = events.first()?;
    if event.action != audited.action || event.object_kind != audited.object_kind {
        return Some(format!(
            "the event is {} on {}, the route declares {} on {}",
            event.action, event.object_kind, audited.action, audited.object_kind
        ));
    }
    match &outcome {
        Outcome::Ok if event.reason.is_some() => {
            Some(format!("answered ok, recorded {:?}", event.reason))
        }
        Outcome::Ok if event.object_id.is_empty() => {
            Some("answered ok, recorded no object id".to_owned())
        }
        Outcome::Refused(code)
            if event.reason.as_deref() != Some(code.as_str()) && !code.is_empty() =>
        {
            Some(format!("refused with {code}, recorded {:?}", event.reason))
        }
        Outcome::Refused(_) if event.reason.is_none() => Some("refused, recorded ok".to_owned()),
        _ => None,
    }
}

async fn execute(database: &Database, statement: String) {
    database
        .run(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(sql_query(statement).execute(connection)?)
        })
        .await
        .expect("SQL");
}

async fn verify(database: &Database) -> Result<audit::Verified, audit::Broken> {
    database
        .run(|connection: &mut DbConnection| Ok::<_, DbError>(audit::verify(connection)?))
        .await
        .expect("verify")
}

/// A trigger that refuses every audit append on `database` (SQLite or PostgreSQL).
async fn break_appends(database: &Database, postgres: bool) {
    if postgres {
        execute(database, "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit broken'; END; $$ LANGUAGE plpgsql".to_owned()).await;
        execute(database, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()".to_owned()).await;
    } else {
        execute(database, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit broken'); END".to_owned()).await;
    }
}

async fn mend_appends(database: &Database, postgres: bool) {
    execute(
        database,
        if postgres {
            "DROP TRIGGER refuse_audit ON audit_events"
        } else {
            "DROP TRIGGER refuse_audit"
        }
        .to_owned(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_route_adds_its_one_event_and_nothing_else_does() {
    let mut recorder = Recorder::start().await;
    recorder.observed = Some(Vec::new());
    play_script(&mut recorder).await;
    complete_the_rest(&mut recorder).await;
    let observed = recorder.observed.take().unwrap_or_default();
    let by_request = events_by_request(&recorder).await;

    let mut problems = Vec::new();
    let mut keys_seen = BTreeSet::new();
    let mut writes_checked = BTreeSet::new();
    for request in &observed {
        let route = route_of(&request.method, &request.path);
        let key = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
            .map(|(_, value)| (request.path.clone(), request.role.clone(), value.clone()));
        let replayed = key.is_some_and(|key| !keys_seen.insert(key));
        let events = by_request
            .get(&request.request_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(problem) = check_request(request, route, replayed, events) {
            problems.push(format!(
                "{} {} as {} ({}): {problem}",
                request.method, request.path, request.role, request.status
            ));
        }
        if let Some(route) = route.filter(|route| route.audit.is_some())
            && outcome_of(request) == Outcome::Ok
        {
            writes_checked.insert((route.method, route.path));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} requests disagree with the route table:\n{}",
        problems.len(),
        observed.len(),
        problems.join("\n")
    );
    // Every write route was answered ok at least once by the script.
    let unchecked: Vec<String> = ROUTES
        .iter()
        .filter(|route| route.audit.is_some())
        .filter(|route| !writes_checked.contains(&(route.method, route.path)))
        .filter(|route| {
            !COVERED_ELSEWHERE
                .iter()
                .any(|(path, _)| *path == route.path)
        })
        .map(|route| format!("{:?} {}", route.method, route.path))
        .collect();
    assert!(
        unchecked.is_empty(),
        "write routes the script never completed: {unchecked:?}"
    );

    // No secret the script sent is on record: passwords, the SSH password, a page password, the
    // appinhouse key, a token's secret.
    let recorded: String = by_request
        .values()
        .flatten()
        .map(|(_, event)| format!("{} {} {}\n", event.object_id, event.changes, event.actor))
        .collect();
    for secret in [
        crate::recorded_answers::ADMIN_PASSWORD,
        crate::recorded_answers::USER_PASSWORD,
        crate::recorded_answers::APPINHOUSE_KEY,
        crate::recorded_answers::resource::SECRET,
        "long-enough-pw",
        "temp-password-2",
        "open sesame",
        "audit-page-pw",
        "tad_",
    ] {
        assert!(
            !recorded.contains(secret),
            "{secret:?} is in the audit trail"
        );
    }
    assert!(recorded.contains("******"), "secrets are recorded masked");

    // Every chain verifies.
    for service in SERVICES {
        let database = recorder.platform.database(service);
        let verified = verify(&database).await;
        assert!(
            verified.as_ref().is_ok_and(|v| v.events > 0),
            "{service}: {verified:?}"
        );
    }

    // A write whose event cannot be appended fails and leaves neither change nor event.
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok();
    let resource = recorder.platform.database("resource");
    let before = verify(&resource).await.expect("intact").events;
    break_appends(&resource, postgres).await;
    let answer = recorder
        .post(
            "admin",
            "/api/admin/productlines",
            json!({"name": "never-stored"}),
        )
        .await;
    assert_eq!(answer.body["success"], false, "{}", answer.body);
    mend_appends(&resource, postgres).await;
    let listed = recorder.get("admin", "/api/admin/productlines").await;
    assert!(
        !listed.body.to_string().contains("never-stored"),
        "{}",
        listed.body
    );
    // The failure itself is no refusal: nothing was recorded for it either.
    assert_eq!(verify(&resource).await.expect("intact").events, before);

    // An event edited with SQL is named.
    let jobs = recorder.platform.database("jobs");
    execute(
        &jobs,
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2".to_owned(),
    )
    .await;
    assert_eq!(verify(&jobs).await, Err(audit::Broken::Edited { seq: 2 }));
    let Recorder { platform, .. } = recorder;
    platform.stop().await;
}
