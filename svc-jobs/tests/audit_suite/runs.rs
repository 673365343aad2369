//! The run actions: 6.1, 6.2, rollback, retry, 6.3 and 2.1 each append one event in the
//! transaction that claims (or stops) the run, a repeated idempotency key none, and the
//! sweeper's interrupted run one by the system.

use chrono::NaiveDateTime;
use common::time::now_utc;
use diesel::prelude::*;
use svc_jobs::{
    db::schema::{run_steps, runs as run_table},
    service::{executions::RunRequest, joint_lines::NodeInput, records::Mode},
};

use super::*;

/// Sets the run's status, owner and lease (a run another replica works, or one whose owner
/// died).
async fn set_run(
    fixture: &Fixture,
    run_id: &str,
    status: &'static str,
    owner: Option<&'static str>,
    lease_until: Option<NaiveDateTime>,
) {
    let run_id = run_id.to_owned();
    fixture
        .database
        .run(move |connection: &mut DbConnection| {
            diesel::update(run_table::table.find(&run_id))
                .set((
                    run_table::status.eq(status),
                    run_table::owner.eq(owner),
                    run_table::lease_until.eq(lease_until),
                ))
                .execute(connection)?;
            Ok::<_, DbError>(())
        })
        .await
        .expect("set run");
}

async fn stop_requested(fixture: &Fixture, run_id: &str) -> bool {
    let run_id = run_id.to_owned();
    fixture
        .database
        .run(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(
                run_table::table
                    .find(&run_id)
                    .select(run_table::stop_requested)
                    .first::<bool>(connection)?,
            )
        })
        .await
        .expect("run")
}

pub(crate) async fn run_actions_append_one_event_each(database: Database) {
    let fixture = fixture(database).await;
    let admin = actor("admin", "admin");
    let bob = actor("bob", "operator");
    let (_, instance) = writes::template_and_instance(&fixture, &admin, "runs").await;
    fixture
        .service
        .save_step_cluster(&admin, &instance, METHOD, 0, CLUSTER)
        .await
        .expect("cluster");
    let run = |mode| RunRequest::Instance {
        instance_id: &instance,
        mode,
        use_tad_host: true,
    };

    // 6.1, then the same with an idempotency key twice: the repeat adds nothing.
    let before = fixture.count().await;
    let started = fixture
        .service
        .start_run(&bob, run(Mode::All), true, None)
        .await
        .expect("6.1");
    assert_eq!(started.status, "success", "{started:?}");
    let event = fixture
        .one_new_event(
            before,
            "execution.start",
            "execution",
            &started.execution_id,
            "bob",
        )
        .await;
    assert_eq!(
        (event.app_id.as_deref(), event.env_id.as_deref()),
        (Some(APP), Some(ENV))
    );
    let before = fixture.count().await;
    let keyed = fixture
        .service
        .start_run(&bob, run(Mode::All), true, Some("key-1"))
        .await
        .expect("keyed 6.1");
    fixture
        .one_new_event(
            before,
            "execution.start",
            "execution",
            &keyed.execution_id,
            "bob",
        )
        .await;
    let replayed = fixture
        .service
        .start_run(&bob, run(Mode::All), true, Some("key-1"))
        .await
        .expect("replayed 6.1");
    assert_eq!(replayed.execution_id, keyed.execution_id);
    assert_eq!(fixture.count().await, before + 1, "a replay adds no event");

    // 6.2 and rollback (to the run before the latest successful one).
    let before = fixture.count().await;
    let step = fixture
        .service
        .start_run(&bob, run(Mode::NextStep), true, None)
        .await
        .expect("6.2");
    fixture
        .one_new_event(
            before,
            "execution.step",
            "execution",
            &step.execution_id,
            "bob",
        )
        .await;
    let before = fixture.count().await;
    let rollback = RunRequest::Rollback {
        instance_id: &instance,
        use_tad_host: true,
    };
    let rolled = fixture
        .service
        .start_run(&bob, rollback, true, None)
        .await
        .expect("rollback");
    fixture
        .one_new_event(
            before,
            "execution.rollback",
            "execution",
            &rolled.execution_id,
            "bob",
        )
        .await;

    // Retry of a failed run.
    set_run(&fixture, &rolled.execution_id, "failed", None, None).await;
    let before = fixture.count().await;
    let retry = RunRequest::Retry {
        execution_id: &rolled.execution_id,
    };
    let retried = fixture
        .service
        .start_run(&bob, retry, true, None)
        .await
        .expect("retry");
    fixture
        .one_new_event(
            before,
            "execution.retry",
            "execution",
            &retried.execution_id,
            "bob",
        )
        .await;

    // 6.3 of a run another replica works: the stop request is the event.
    let far = now_utc() + chrono::Duration::hours(1);
    set_run(
        &fixture,
        &retried.execution_id,
        "running",
        Some("elsewhere"),
        Some(far),
    )
    .await;
    let before = fixture.count().await;
    let stopping = {
        let (service, bob, instance) = (fixture.service.clone(), bob.clone(), instance.clone());
        tokio::spawn(async move { service.stop_execution(&bob, &instance).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !stop_requested(&fixture, &retried.execution_id).await {
        assert!(std::time::Instant::now() < deadline, "no stop request");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    set_run(&fixture, &retried.execution_id, "stopped", None, None).await;
    let stopped = stopping.await.expect("task").expect("6.3");
    assert_eq!(stopped.execution_id, retried.execution_id);
    fixture
        .one_new_event(
            before,
            "execution.stop",
            "execution",
            &retried.execution_id,
            "bob",
        )
        .await;

    // 2.1: one event for the joint run; the run its node starts adds none.
    let line = fixture
        .service
        .create_joint_line(&admin, "line", "", PRODUCT_LINE)
        .await
        .expect("joint line");
    let node = NodeInput {
        instance_id: instance.clone(),
        sequence: 0,
        parents: Vec::new(),
        top: 0.0,
        left: 0.0,
    };
    fixture
        .service
        .save_joint_line(&admin, &line.id, vec![node])
        .await
        .expect("nodes");
    let before = fixture.count().await;
    let joint = RunRequest::JointLine {
        joint_line_id: &line.id,
        use_tad_host: true,
    };
    let joint = fixture
        .service
        .start_run(&bob, joint, true, None)
        .await
        .expect("2.1");
    assert_eq!(joint.status, "success", "{joint:?}");
    let event = fixture
        .one_new_event(
            before,
            "joint_line.run",
            "joint_execution",
            &joint.execution_id,
            "bob",
        )
        .await;
    assert_eq!(
        super::changes_of(&event),
        [format!("joint_line_id: - -> {}", line.id)]
    );

    // The sweeper marks a run whose owner's lease expired interrupted, as the system.
    let (_, latest) = fixture
        .service
        .execution_history(&admin, &instance, common::paging::PageRequest::new(1, 1))
        .await
        .expect("history");
    let latest = latest[0].0.id.clone();
    let past = now_utc() - chrono::Duration::minutes(5);
    set_run(&fixture, &latest, "running", Some("gone"), Some(past)).await;
    let unfinished = latest.clone();
    fixture
        .database
        .run(move |connection: &mut DbConnection| {
            diesel::update(run_steps::table.filter(run_steps::run_id.eq(&unfinished)))
                .set(run_steps::status.eq("pending"))
                .execute(connection)?;
            Ok::<_, DbError>(())
        })
        .await
        .expect("unfinished step");
    let before = fixture.count().await;
    let sweeper = fixture.service.engine().start_sweeper();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fixture.count().await == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the sweeper left the run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sweeper.abort();
    let event = fixture
        .one_new_event(
            before,
            "execution.interrupted",
            "execution",
            &latest,
            "system",
        )
        .await;
    assert_eq!(event.env_id.as_deref(), Some(ENV));
}
