//! Login sessions (SPEC §8 "Sessions end when access ends"): a login opens a session row, every
//! user token names its session, and a token is honoured only while the row exists. Logout ends
//! one session; deleting a user or changing their roles or password ends all of theirs. Each end
//! is announced on the event bus so every process drops its cached answer at once.

use std::sync::Arc;

use async_trait::async_trait;
use common::{
    audit::{NewEvent, Origin},
    auth::Actor,
    db::Database,
    sessions::{Revocation, SessionError, SessionSource},
    time::now_utc,
};

use super::{ResourceError, ResourceResult, ResourceService};
use crate::db::models::sessions;

/// The owner's answer: the session row in the resource database.
#[derive(Clone)]
pub struct DbSessions {
    database: Database,
}

impl DbSessions {
    pub fn new(database: Database) -> DbSessions {
        DbSessions { database }
    }

    /// As a shared source for [`common::sessions::Sessions`].
    pub fn shared(database: Database) -> Arc<dyn SessionSource> {
        Arc::new(DbSessions::new(database))
    }
}

#[async_trait]
impl SessionSource for DbSessions {
    async fn is_active(&self, actor: &Actor) -> Result<bool, SessionError> {
        let Some(session_id) = actor.claims.sid.clone() else {
            return Ok(false);
        };
        let username = actor.claims.sub.clone();
        self.database
            .run(move |connection| {
                Ok::<_, ResourceError>(sessions::is_active(
                    connection,
                    &session_id,
                    &username,
                    now_utc(),
                )?)
            })
            .await
            .map_err(|error| SessionError(format!("resource database: {error}")))
    }

    async fn resolve_api_token(
        &self,
        token: &str,
    ) -> Result<Option<common::auth::Claims>, SessionError> {
        let token = token.to_owned();
        self.database
            .run(move |connection| {
                super::tokens::resolve_in(connection, &token, now_utc())
                    .map(|found| found.map(|(_, claims)| claims))
            })
            .await
            .map_err(|error| SessionError(format!("resource database: {error}")))
    }
}

/// The event of `action` (a login or logout) on the session of `username`.
pub(crate) fn session_event(origin: &Origin, action: &str, username: &str) -> NewEvent {
    NewEvent::new(origin, action, "user", username)
}

impl ResourceService {
    /// Tells every process that sessions or API tokens of `username` ended (after the change is
    /// committed): the caller's generation first (answers the gateways kept for them stand no
    /// more), then the revocation on the bus.
    pub(crate) async fn announce(&self, username: &str, revocation: Revocation) {
        let caller = common::read_cache::caller_scope(username);
        self.reads.changed(&[caller.as_str()]).await;
        if let Some(sessions) = self.jwt.sessions() {
            sessions.revoke(revocation).await;
        }
    }

    /// Ends the session of `actor`'s token (logout). A token without a session has nothing to
    /// end and is refused.
    pub async fn logout(&self, actor: &Actor) -> ResourceResult<()> {
        let Some(session_id) = actor.claims.sid.clone() else {
            return Err(ResourceError::Unauthenticated(
                "the token belongs to no login session".to_owned(),
            ));
        };
        let id = session_id.clone();
        let event = session_event(
            &Origin::of(&actor.claims),
            "session.logout",
            actor.username(),
        );
        self.database
            .transaction(move |connection| {
                sessions::delete(connection, &id)?;
                super::audit::append(connection, event)?;
                Ok::<_, ResourceError>(())
            })
            .await?;
        self.announce(actor.username(), Revocation::Session(session_id))
            .await;
        tracing::info!(username = %actor.username(), "logged out");
        Ok(())
    }
}
