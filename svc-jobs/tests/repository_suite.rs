//! svc-jobs queries against real databases: every case runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use common::{crypto::CredentialCipher, database_test_suite, db::Database, time::now_utc};
use svc_jobs::{
    db::{
        MIGRATIONS,
        models::{
            instances::{self, InstanceFilter, InstanceRow, StepRow},
            joint_lines::{self, JointLineRow, JointNodeRow},
            runs::{self, HostTaskRow, RunRow, RunStepRow},
            templates::{self, TemplateRow},
        },
    },
    execution::plan::StepPlan,
    sealed::{SealedRows, Sealer, seal_plaintext_rows},
    service::bindings::StepBindings,
};

fn template(id: &str, name: &str) -> TemplateRow {
    let now = now_utc();
    TemplateRow {
        id: id.into(),
        name: name.into(),
        remark: String::new(),
        template_type: "public".into(),
        status: "available".into(),
        deploy_type: "install".into(),
        application_id: "app".into(),
        rollback_template_id: None,
        creator: "admin".into(),
        create_time: now,
        mender: None,
        update_time: now,
    }
}

fn instance(id: &str, name: &str, application_id: &str) -> InstanceRow {
    let now = now_utc();
    InstanceRow {
        id: id.into(),
        name: name.into(),
        remark: String::new(),
        status: "init".into(),
        env_id: "env".into(),
        application_id: application_id.into(),
        product_line_id: "pl".into(),
        module_id: None,
        job_template_id: "t1".into(),
        creator: "admin".into(),
        create_time: now,
        mender: None,
        update_time: now,
    }
}

async fn instances_filter_page_and_keep_steps(database: Database) {
    database
        .transaction(|connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            for (id, name, app) in [
                ("i1", "web_100%", "a1"),
                ("i2", "web-2", "a1"),
                ("i3", "db", "a2"),
            ] {
                instances::insert(connection, &instance(id, name, app))?;
            }
            instances::insert_step(
                connection,
                &StepRow {
                    instance_id: "i1".into(),
                    sequence: 0,
                    component_id: "custom".into(),
                    method_id: "cu1".into(),
                    cluster_id: None,
                    bindings: "{}".into(),
                },
            )?;
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("write");
    database
        .run(|connection| {
            let filter = InstanceFilter {
                application_id: Some("a1".into()),
                ..InstanceFilter::default()
            };
            let (count, rows) = instances::page(connection, &filter, 0, 1)?;
            assert_eq!((count, rows.len()), (2, 1));
            let literal = InstanceFilter {
                name_fragment: Some("100%".into()),
                ..InstanceFilter::default()
            };
            let found = instances::list(connection, &literal)?;
            assert_eq!(
                found.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(),
                vec!["i1"],
                "% is taken literally"
            );
            assert_eq!(instances::using_template(connection, "t1")?.len(), 3);
            let mut step = instances::steps(connection, "i1")?.remove(0);
            step.cluster_id = Some("c1".into());
            instances::update_step(connection, &step)?;
            assert_eq!(
                instances::steps(connection, "i1")?[0].cluster_id.as_deref(),
                Some("c1")
            );
            assert_eq!(instances::delete(connection, "i1")?, 1);
            assert!(
                instances::steps(connection, "i1")?.is_empty(),
                "steps go with their instance"
            );
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("read");
}

async fn joint_line_nodes_are_replaced_whole(database: Database) {
    database
        .transaction(|connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            instances::insert(connection, &instance("i1", "a", "a1"))?;
            instances::insert(connection, &instance("i2", "b", "a1"))?;
            let now = now_utc();
            joint_lines::insert(
                connection,
                &JointLineRow {
                    id: "j1".into(),
                    name: "line".into(),
                    remark: String::new(),
                    product_line_id: "pl".into(),
                    creator: "admin".into(),
                    create_time: now,
                    mender: None,
                    update_time: now,
                },
            )?;
            let node = |sequence: i64, instance_id: &str, parents: &str, left: f64| JointNodeRow {
                joint_line_id: "j1".into(),
                sequence,
                instance_id: instance_id.into(),
                parents: parents.into(),
                canvas_top: 125.0,
                canvas_left: left,
            };
            joint_lines::replace_nodes(
                connection,
                "j1",
                &[
                    node(0, "i1", "[]", 256.99998474121093),
                    node(1, "i2", "[0]", 1.0),
                ],
            )?;
            joint_lines::replace_nodes(connection, "j1", &[node(0, "i2", "[]", 3.5)])?;
            let nodes = joint_lines::nodes(connection, "j1")?;
            assert_eq!(nodes.len(), 1);
            assert_eq!(
                (nodes[0].instance_id.as_str(), nodes[0].canvas_left),
                ("i2", 3.5)
            );
            assert_eq!(
                joint_lines::holding_instance(connection, "i2")?,
                vec!["j1".to_owned()]
            );
            assert!(joint_lines::holding_instance(connection, "i1")?.is_empty());
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("joint line");
}

/// Rows written before values were sealed: a step's bindings with plain parameter and
/// app-config values, and a run step with a plain snapshot.
const LEGACY_BINDINGS: &str = r#"{"config_value":{"n1":"db-Secret-legacy"},"actemplates":{"file_id":"f1","groups":[{"dest":"/etc/app","host_ips":[],"configs":{"n2":"cfg-Secret-legacy"},"target_name":"app.conf"}]}}"#;

/// Run r1 of instance i1, in `status`.
fn run_row(status: &str, now: chrono::NaiveDateTime) -> RunRow {
    RunRow {
        id: "r1".into(),
        instance_id: "i1".into(),
        application_id: "a1".into(),
        env_id: "env".into(),
        kind: "deploy".into(),
        status: status.into(),
        use_tad_host: true,
        started_by: "admin".into(),
        owner: None,
        lease_until: None,
        stop_requested: false,
        message: None,
        create_time: now,
        start_time: None,
        end_time: None,
    }
}

/// Step 0 of run r1 (the custom script on cluster c1), in `status`.
fn step_row(status: &str, snapshot: String) -> RunStepRow {
    RunStepRow {
        run_id: "r1".into(),
        sequence: 0,
        component_id: "custom".into(),
        method_id: "cu1".into(),
        cluster_id: "c1".into(),
        snapshot,
        status: status.into(),
        message: None,
        start_time: None,
        end_time: None,
    }
}

fn legacy_plan() -> StepPlan {
    StepPlan {
        sequence: 0,
        component_id: "custom".into(),
        method_id: "cu1".into(),
        method_name: "custom-script".into(),
        cluster_id: "c1".into(),
        hosts: vec!["10.0.0.1".into()],
        params: serde_json::json!({"db_password": "db-Secret-legacy"}),
        ..StepPlan::default()
    }
}

async fn plaintext_values_are_sealed_at_start(database: Database) {
    let plain_snapshot = serde_json::to_string(&legacy_plan()).expect("plan");
    let snapshot = plain_snapshot.clone();
    database
        .transaction(move |connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            instances::insert(connection, &instance("i1", "a", "a1"))?;
            instances::insert_step(
                connection,
                &StepRow {
                    instance_id: "i1".into(),
                    sequence: 0,
                    component_id: "custom".into(),
                    method_id: "cu1".into(),
                    cluster_id: None,
                    bindings: LEGACY_BINDINGS.into(),
                },
            )?;
            let now = now_utc();
            runs::insert(connection, &run_row("success", now))?;
            runs::insert_steps(connection, &[step_row("success", snapshot)])?;
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("write");
    let sealer = Sealer::new(
        CredentialCipher::from_hex_key(
            b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        )
        .expect("key"),
    );
    // Before sealing, plain rows read as they are.
    assert_eq!(
        sealer.open_plan(&plain_snapshot).expect("plain plan"),
        legacy_plan()
    );
    let sealed = seal_plaintext_rows(&database, &sealer).await.expect("seal");
    assert_eq!(
        sealed,
        SealedRows {
            steps: 1,
            snapshots: 1
        }
    );
    let (step, run_step) = database
        .run(|connection| {
            let step = instances::steps(connection, "i1")?.remove(0);
            let run_step = runs::steps(connection, "r1")?.remove(0);
            Ok::<_, common::db::DbError>((step, run_step))
        })
        .await
        .expect("read");
    for stored in [&step.bindings, &run_step.snapshot] {
        assert!(
            !stored.contains("Secret-legacy"),
            "sealed at rest: {stored}"
        );
    }
    let bindings: StepBindings = serde_json::from_str(&step.bindings).expect("bindings");
    assert_eq!(
        sealer
            .open_values(bindings.config_value.expect("values"))
            .expect("open"),
        serde_json::json!({"n1": "db-Secret-legacy"})
    );
    let group = bindings.actemplates.expect("configs").groups.remove(0);
    assert_eq!(
        sealer.open_values(group.configs).expect("open"),
        serde_json::json!({"n2": "cfg-Secret-legacy"})
    );
    assert_eq!(group.dest, "/etc/app", "the rest stays as it was");
    assert_eq!(
        sealer.open_plan(&run_step.snapshot).expect("open plan"),
        legacy_plan()
    );
    // Sealed rows are left alone.
    assert_eq!(
        seal_plaintext_rows(&database, &sealer)
            .await
            .expect("again"),
        SealedRows::default()
    );
}

/// A reader at any offset gets the text from that offset on, even when more than a page of
/// tiny chunks precede it (a page of chunks that all end before the offset read as "nothing
/// new", so a finished log looked cut short to readers and they stopped).
/// Template t1, instance i1, and its running run r1 whose step 0 has a host task per
/// `(id, status)` of `host_tasks`.
fn insert_run(
    connection: &mut common::db::DbConnection,
    host_tasks: &[(&str, &str)],
) -> Result<(), common::db::DbError> {
    let now = now_utc();
    templates::insert(connection, &template("t1", "apache2"))?;
    instances::insert(connection, &instance("i1", "a", "a1"))?;
    runs::insert(connection, &run_row("running", now))?;
    runs::insert_steps(connection, &[step_row("running", "{}".into())])?;
    let rows: Vec<HostTaskRow> = host_tasks
        .iter()
        .enumerate()
        .map(|(index, (id, status))| HostTaskRow {
            id: (*id).into(),
            run_id: "r1".into(),
            sequence: 0,
            host_ip: format!("127.0.0.{}", index + 2),
            status: (*status).into(),
            exit_code: None,
            message: None,
            log_size: 0,
            start_time: None,
            end_time: None,
            attempt: 0,
            artifacts_sent: 0,
            artifacts_skipped: 0,
        })
        .collect();
    runs::insert_host_tasks(connection, &rows)?;
    Ok(())
}

/// A step that fails before its hosts drops the host tasks of its earlier attempt except those
/// whose process group may still run on the host (so the next attempt can kill what they left).
async fn host_tasks_that_may_still_run_are_kept(database: Database) {
    let kept = database
        .transaction(|connection| {
            insert_run(
                connection,
                &[
                    ("h1", "running"),
                    ("h2", "interrupted"),
                    ("h3", "success"),
                    ("h4", "failed"),
                ],
            )?;
            runs::delete_host_tasks_of_step(connection, "r1", 0, &["running", "interrupted"])?;
            Ok::<_, common::db::DbError>(runs::host_tasks_of_step(connection, "r1", 0)?)
        })
        .await
        .expect("write");
    let mut ids: Vec<String> = kept.into_iter().map(|task| task.id).collect();
    ids.sort();
    assert_eq!(ids, ["h1", "h2"]);
}

async fn a_log_reads_on_past_many_tiny_chunks(database: Database) {
    let now = now_utc();
    database
        .transaction(move |connection| {
            insert_run(connection, &[("h1", "running")])?;
            for index in 0..300 {
                let line = format!("line {index:03}\n");
                let length = i64::try_from(line.len()).expect("length");
                let offset = runs::grow_log(connection, "h1", length)?;
                runs::append_event(
                    connection,
                    "r1",
                    "log",
                    Some("h1"),
                    Some(offset),
                    &line,
                    now,
                )?;
            }
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("write");
    // Read as the log route does: page after page from the end of the last one.
    let mut offset = 0_i64;
    let mut text = String::new();
    for _ in 0..300 {
        let chunks = database
            .run(move |connection| {
                Ok::<_, common::db::DbError>(runs::log_chunks_from(connection, "h1", offset, 64)?)
            })
            .await
            .expect("read");
        let mut advanced = false;
        for chunk in chunks {
            let start = chunk.log_offset.expect("offset");
            let end = start + i64::try_from(chunk.payload.len()).expect("length");
            if end <= offset {
                continue;
            }
            assert!(
                start <= offset,
                "a gap at {offset}: next chunk starts at {start}"
            );
            let skip = usize::try_from(offset - start).expect("skip");
            text.push_str(&chunk.payload[skip..]);
            offset = end;
            advanced = true;
        }
        if !advanced {
            break;
        }
    }
    let expected: String = (0..300).map(|index| format!("line {index:03}\n")).collect();
    assert_eq!(text, expected);
    // From the middle of a chunk, too.
    let chunks = database
        .run(|connection| {
            Ok::<_, common::db::DbError>(runs::log_chunks_from(connection, "h1", 1003, 64)?)
        })
        .await
        .expect("read");
    let first = chunks.first().expect("a chunk");
    assert_eq!(
        first.log_offset,
        Some(999),
        "the chunk holding byte 1003 (lines are 9 bytes)"
    );
}

/// The instances and rollback templates that hold a template (named by `template_in_use`) come
/// oldest first on both backends, even after a row was updated (PostgreSQL would otherwise
/// answer it last).
async fn instances_using_a_template_come_oldest_first(database: Database) {
    let names = database
        .transaction(|connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            let start = now_utc();
            for (offset, (id, name)) in [("i1", "zeta"), ("i2", "alpha"), ("i3", "mid")]
                .into_iter()
                .enumerate()
            {
                let created = start + chrono::Duration::seconds(offset as i64);
                let row = InstanceRow {
                    create_time: created,
                    update_time: created,
                    ..instance(id, name, "a1")
                };
                instances::insert(connection, &row)?;
            }
            instances::touch(
                connection,
                "i1",
                "olga",
                start + chrono::Duration::seconds(9),
            )?;
            let rows = instances::using_template(connection, "t1")?;
            for (offset, id) in ["r1", "r0", "r2"].into_iter().enumerate() {
                let created = start + chrono::Duration::seconds(offset as i64);
                let row = TemplateRow {
                    rollback_template_id: Some("t1".into()),
                    create_time: created,
                    update_time: created,
                    ..template(id, id)
                };
                templates::insert(connection, &row)?;
            }
            templates::touch(
                connection,
                "r1",
                "olga",
                start + chrono::Duration::seconds(9),
            )?;
            let rollbacks = templates::rolled_back_by(connection, "t1")?;
            Ok::<_, common::db::DbError>((
                rows.into_iter().map(|row| row.name).collect::<Vec<_>>(),
                rollbacks.into_iter().map(|row| row.id).collect::<Vec<_>>(),
            ))
        })
        .await
        .expect("instances");
    assert_eq!(names.0, ["zeta", "alpha", "mid"]);
    assert_eq!(names.1, ["r1", "r0", "r2"], "rollback templates too");
}

/// A run is held by the replica that claimed it until its lease expired and the sweep settled
/// it, or another replica took it: a replica frozen past its lease then writes nothing more.
async fn a_run_is_held_by_its_owner_until_settled(database: Database) {
    let held = database
        .transaction(|connection| {
            let now = now_utc();
            templates::insert(connection, &template("t1", "apache2"))?;
            instances::insert(connection, &instance("i1", "a", "a1"))?;
            runs::insert(connection, &run_row("interrupted", now))?;
            let mut held = Vec::new();
            held.push(runs::held_by(connection, "r1", "replica-a")?);
            runs::claim(
                connection,
                "r1",
                "replica-a",
                now,
                now - chrono::Duration::seconds(1),
            )?;
            held.push(runs::held_by(connection, "r1", "replica-a")?);
            held.push(runs::held_by(connection, "r1", "replica-b")?);
            // Its lease ran out: the sweep settles it.
            assert!(runs::interrupt_expired(connection, "r1", now)?);
            held.push(runs::held_by(connection, "r1", "replica-a")?);
            runs::claim(
                connection,
                "r1",
                "replica-b",
                now,
                now + chrono::Duration::seconds(30),
            )?;
            held.push(runs::held_by(connection, "r1", "replica-a")?);
            held.push(runs::held_by(connection, "r1", "replica-b")?);
            Ok::<_, common::db::DbError>(held)
        })
        .await
        .expect("write");
    assert_eq!(held, [false, true, false, false, false, true]);
}

database_test_suite!(MIGRATIONS;
    instances_using_a_template_come_oldest_first,
    instances_filter_page_and_keep_steps,
    joint_line_nodes_are_replaced_whole,
    plaintext_values_are_sealed_at_start,
    a_log_reads_on_past_many_tiny_chunks,
    host_tasks_that_may_still_run_are_kept,
    a_run_is_held_by_its_owner_until_settled,
);
