//! What the services' tests of their audit events share (issue 20): a [`Trail`] that asserts
//! each write appended exactly one event (its action, record and actor) and that the chain
//! still verifies, and [`break_appends`], which makes every append fail so that a test can check
//! that a write whose event fails leaves no change.

use diesel::RunQueryDsl;

use crate::{
    audit::{self, Event, Filter},
    db::{Database, DbError},
};

/// The events of one database, looked at after each write.
pub struct Trail {
    database: Database,
    seen: i64,
}

impl Trail {
    /// A trail that counts from the events there are now.
    pub async fn new(database: &Database) -> Trail {
        let mut trail = Trail {
            database: database.clone(),
            seen: 0,
        };
        trail.catch_up().await;
        trail
    }

    /// How many events there are, and the newest.
    pub async fn newest(&self) -> (i64, Option<Event>) {
        let (count, mut events) = self
            .database
            .run(|connection| Ok::<_, DbError>(audit::query(connection, &Filter::default(), 1)?))
            .await
            .expect("query the audit events");
        (count, events.pop())
    }

    /// Counts from now on (after writes a test does not look at).
    pub async fn catch_up(&mut self) {
        self.seen = self.newest().await.0;
    }

    /// Asserts that exactly one event was appended since the last look, that it is `action` on
    /// the `kind` record `id` by `actor`, with outcome `ok`, and that the chain verifies; answers
    /// the event.
    pub async fn one(&mut self, (action, kind, id): (&str, &str, &str), actor: &str) -> Event {
        let (count, event) = self.newest().await;
        assert_eq!(count, self.seen + 1, "{action}: one new event");
        self.seen = count;
        let event = event.expect("an event");
        assert_eq!(
            (
                event.action.as_str(),
                event.object_kind.as_str(),
                event.object_id.as_str(),
                event.actor.as_str(),
                event.outcome(),
            ),
            (action, kind, id, actor, "ok"),
            "{event:?}"
        );
        let verified = self
            .database
            .run(|connection| Ok::<_, DbError>(audit::verify(connection)?))
            .await
            .expect("verify the audit chain");
        assert_eq!(verified, Ok(audit::Verified { events: count }));
        event
    }

    /// Asserts that nothing was appended since the last look (`what`: the write that must not).
    pub async fn none(&self, what: &str) {
        assert_eq!(self.newest().await.0, self.seen, "{what}: no new event");
    }
}

/// The change of `field` an event records (`before`/`after` as JSON), or a panic naming them all.
pub fn change(event: &Event, field: &str) -> serde_json::Value {
    let changes: Vec<serde_json::Value> =
        serde_json::from_str(&event.changes).expect("changes are JSON");
    changes
        .into_iter()
        .find(|change| change["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {}", event.changes))
}

/// Makes every append to a SQLite `database` fail from now on (a trigger refuses new events).
pub async fn break_appends(database: &Database) {
    database
        .run(|connection| {
            diesel::sql_query(
                "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit broken'); END;",
            )
            .execute(connection)
            .map_err(DbError::Query)
        })
        .await
        .expect("create the trigger that refuses audit events");
}
