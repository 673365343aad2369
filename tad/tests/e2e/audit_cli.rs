//! `tad audit verify` over the databases `tad migrate` made: every chain intact with the events
//! appended through `common::audit`; after one row is edited with SQL the command fails (exit 1)
//! and names the service and the event; after the newest event is deleted, it names that too.

use common::{
    audit::{self, Change, NewEvent, Origin},
    db::{Database, DbConnection, DbError},
};
use diesel::{RunQueryDsl, sql_query};

use crate::support::run_tad;

fn jobs_database(data_dir: &std::path::Path) -> Database {
    let url = format!("sqlite://{}", data_dir.join("jobs.db").display());
    Database::connect(&url, "jobs").expect("open jobs.db")
}

async fn execute(database: &Database, statement: &'static str) {
    database
        .run(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(sql_query(statement).execute(connection)?)
        })
        .await
        .expect(statement);
}

#[tokio::test]
async fn audit_verify_names_the_edited_event() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let (ok, stdout, stderr) = run_tad(&["migrate"], &[], data_dir.path());
    assert!(ok, "{stdout}{stderr}");
    let jobs = jobs_database(data_dir.path());
    let origin = Origin {
        actor: "alice".into(),
        role: "operator".into(),
        request_id: "r1".into(),
        trace_id: "t1".into(),
        client_ip: "10.1.2.3".into(),
    };
    for n in 1..=3 {
        let event = NewEvent::new(&origin, "instance.update", "instance", &format!("i{n}"))
            .change(Change::new("name", Some("a"), Some("b")));
        jobs.transaction(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(audit::append(connection, event, 1_000 * n)?)
        })
        .await
        .expect("append");
    }
    let (ok, stdout, stderr) = run_tad(&["audit", "verify"], &[], data_dir.path());
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("jobs: 3 audit events, chain intact"),
        "{stdout}"
    );
    assert!(
        stdout.contains("resource: 0 audit events, chain intact"),
        "{stdout}"
    );

    execute(
        &jobs,
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
    )
    .await;
    let (ok, stdout, stderr) = run_tad(&["audit", "verify"], &[], data_dir.path());
    assert!(!ok, "a tampered chain fails: {stdout}");
    assert!(
        stdout.contains("jobs: BROKEN: audit event 2 was edited"),
        "{stdout}"
    );
    assert!(stderr.contains("tampered"), "{stderr}");

    execute(
        &jobs,
        "UPDATE audit_events SET actor = 'alice' WHERE seq = 2",
    )
    .await;
    execute(&jobs, "DELETE FROM audit_events WHERE seq = 3").await;
    let (ok, stdout, _) = run_tad(&["audit", "verify"], &[], data_dir.path());
    assert!(!ok);
    assert!(
        stdout.contains("jobs: BROKEN: the newest audit events after 2 are missing"),
        "{stdout}"
    );
}
