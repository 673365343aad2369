//! The audit chain on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL: appends chain each
//! event to the one before; verify passes on a whole chain and names the event after an edit, a
//! removal in the middle, a removal of the newest, a relinked event; a rolled-back transaction
//! leaves no event; concurrent appends never fork the chain; queries filter and page newest first.

use common::{
    audit::{self, Broken, Change, Filter, NewEvent, Origin},
    db::{DbConnection, DbError, Migrations, testing::TestDatabase},
};
use diesel::{RunQueryDsl, sql_query};

fn databases() -> Vec<TestDatabase> {
    let migrations = Migrations::common_only();
    let mut databases = vec![TestDatabase::sqlite(&migrations)];
    databases.extend(TestDatabase::postgres(&migrations));
    databases
}

fn origin(actor: &str) -> Origin {
    Origin {
        actor: actor.to_owned(),
        role: "admin".to_owned(),
        request_id: "req-1".to_owned(),
        trace_id: "trace-1".to_owned(),
        client_ip: "10.0.0.9".to_owned(),
    }
}

fn event(actor: &str, id: &str) -> NewEvent {
    NewEvent::new(&origin(actor), "cluster.update", "cluster", id)
        .app(Some("app1"))
        .env(Some("prod"))
        .change(Change::new("name", Some("web"), Some("web-2")))
        .change(Change::secret("ssh_passwd", true, true))
}

async fn append(database: &TestDatabase, event: NewEvent, time_ms: i64) -> i64 {
    database
        .database
        .transaction(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(audit::append(connection, event, time_ms)?)
        })
        .await
        .expect("append")
}

async fn verify(database: &TestDatabase) -> Result<audit::Verified, Broken> {
    database
        .database
        .run(|connection: &mut DbConnection| Ok::<_, DbError>(audit::verify(connection)?))
        .await
        .expect("verify")
}

async fn execute(database: &TestDatabase, statement: &'static str) {
    database
        .database
        .run(move |connection: &mut DbConnection| {
            Ok::<_, DbError>(sql_query(statement).execute(connection)?)
        })
        .await
        .expect(statement);
}

#[tokio::test]
async fn a_whole_chain_verifies_and_every_tampering_is_named() {
    for database in databases() {
        for n in 1..=5 {
            let seq = append(&database, event("alice", &format!("c{n}")), 1_000 + n).await;
            assert_eq!(seq, n);
        }
        assert_eq!(verify(&database).await, Ok(audit::Verified { events: 5 }));
        let stored = database
            .database
            .run(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::query(connection, &Filter::default(), 10)?)
            })
            .await
            .expect("query");
        assert_eq!(stored.0, 5);
        let newest = &stored.1[0];
        assert_eq!((newest.seq, newest.object_id.as_str()), (5, "c5"));
        assert_eq!(stored.1[1].hash, newest.prev_hash);
        assert!(
            newest.changes.contains("\"before\":\"******\""),
            "{}",
            newest.changes
        );
        assert!(!newest.changes.contains("ssh_passwd\",\"before\":\"secret"));

        // An edited field.
        execute(
            &database,
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3",
        )
        .await;
        assert_eq!(verify(&database).await, Err(Broken::Edited { seq: 3 }));
        execute(
            &database,
            "UPDATE audit_events SET actor = 'alice' WHERE seq = 3",
        )
        .await;
        assert!(verify(&database).await.is_ok());
        // A removed event in the middle, then the newest.
        execute(&database, "DELETE FROM audit_events WHERE seq = 2").await;
        assert_eq!(
            verify(&database).await,
            Err(Broken::Removed { from: 2, to: 2 })
        );
    }
}

#[tokio::test]
async fn removing_the_newest_or_relinking_is_found_and_a_rollback_leaves_nothing() {
    for database in databases() {
        for n in 1..=3 {
            append(&database, event("bob", &format!("h{n}")), n).await;
        }
        // A transaction that fails after its event: no event, the head unchanged.
        let failed = database
            .database
            .transaction(|connection: &mut DbConnection| {
                audit::append(connection, event("bob", "h4"), 4)?;
                Err::<(), DbError>(DbError::Task("the change failed".to_owned()))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(verify(&database).await, Ok(audit::Verified { events: 3 }));
        assert_eq!(append(&database, event("bob", "h4"), 4).await, 4);

        execute(&database, "DELETE FROM audit_events WHERE seq = 4").await;
        assert_eq!(
            verify(&database).await,
            Err(Broken::RemovedNewest { last: 3, head: 4 })
        );
        execute(&database, "UPDATE audit_head SET seq = 3").await;
        assert_eq!(verify(&database).await, Err(Broken::HeadChanged { seq: 3 }));
    }
}

#[tokio::test]
async fn concurrent_appends_never_fork_the_chain_and_queries_filter() {
    for database in databases() {
        let database = std::sync::Arc::new(database);
        let mut tasks = Vec::new();
        for writer in 0..8 {
            let database = database.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..10 {
                    let actor = if writer % 2 == 0 { "even" } else { "odd" };
                    append(&database, event(actor, &format!("w{writer}-{n}")), 100).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer");
        }
        assert_eq!(verify(&database).await, Ok(audit::Verified { events: 80 }));
        let filter = Filter {
            actor: Some("odd".to_owned()),
            ..Filter::default()
        };
        let (count, page) = database
            .database
            .run(move |connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::query(connection, &filter, 5)?)
            })
            .await
            .expect("query");
        assert_eq!((count, page.len()), (40, 5));
        assert!(page.iter().all(|event| event.actor == "odd"));
        assert!(page.windows(2).all(|pair| pair[0].seq > pair[1].seq));
    }
}

#[tokio::test]
async fn retention_removes_the_oldest_events_and_the_rest_still_verifies() {
    for database in databases() {
        // The clock went back at event 4: it is older than the cut, but after a kept event.
        for (n, time_ms) in [(1, 1_000), (2, 2_000), (3, 5_000), (4, 1_500), (5, 6_000)] {
            append(&database, event("carol", &format!("p{n}")), time_ms).await;
        }
        let pruned = database
            .database
            .transaction(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::prune(connection, 3_000, 7_000)?)
            })
            .await
            .expect("prune");
        assert_eq!(
            pruned,
            Some(audit::Pruned {
                removed: 2,
                through_seq: 2
            })
        );
        // Events 3 to 5 and the prune's own event.
        assert_eq!(verify(&database).await, Ok(audit::Verified { events: 4 }));
        let (count, events) = database
            .database
            .run(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::query(connection, &Filter::default(), 10)?)
            })
            .await
            .expect("query");
        assert_eq!(count, 4);
        assert_eq!(
            (events[0].action.as_str(), events[0].actor.as_str()),
            (audit::PRUNE_ACTION, "system")
        );
        assert_eq!(events.last().map(|event| event.seq), Some(3));

        // Nothing old enough: nothing removed, nothing recorded.
        let again = database
            .database
            .transaction(|connection: &mut DbConnection| {
                Ok::<_, DbError>(audit::prune(connection, 3_000, 8_000)?)
            })
            .await
            .expect("prune again");
        assert_eq!(again, None);

        // Removing more by hand and moving the head's pruned point is found.
        execute(&database, "DELETE FROM audit_events WHERE seq = 3").await;
        execute(
            &database,
            "UPDATE audit_head SET pruned_seq = 3, pruned_hash = (SELECT prev_hash FROM audit_events WHERE seq = 4)",
        )
        .await;
        assert_eq!(
            verify(&database).await,
            Err(Broken::PruneUnrecorded { through: 3 })
        );
    }
}

#[tokio::test]
async fn the_retention_sweep_removes_events_older_than_its_days() {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let now = audit::now_ms();
    for database in databases() {
        append(&database, event("dave", "old"), now - 10 * DAY_MS).await;
        append(&database, event("dave", "recent"), now - DAY_MS).await;
        let pruned = common::audit_retention::sweep(&database.database, 5, now)
            .await
            .expect("sweep");
        assert_eq!(
            pruned,
            Some(audit::Pruned {
                removed: 1,
                through_seq: 1
            })
        );
        assert_eq!(verify(&database).await, Ok(audit::Verified { events: 2 }));
        let again = common::audit_retention::sweep(&database.database, 5, now)
            .await
            .expect("sweep again");
        assert_eq!(again, None);
    }
}
