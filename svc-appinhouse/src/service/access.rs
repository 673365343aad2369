//! Protected apps (beyond the contract): an app may ask for a page password. Its page, its
//! reads, plists and hosted files then need a grant: `EXPIRES.SIGNATURE`, an HMAC-SHA256 under the
//! server's secret key of the app, the app's protection epoch and the expiry. A grant comes from
//! the page password (the page keeps it in a cookie), from a signed link made with `X-SecretKey`,
//! or is made for a caller showing `X-SecretKey`. Links on a protected page carry the grant, so
//! iOS, which fetches plists and ipas without cookies, still installs. Changing or lifting the
//! password starts a new epoch: every grant made before stops working.

use chrono::{Duration, NaiveDateTime};
use common::{
    audit::{Change, Origin},
    db::DbConnection,
    limits,
    time::now_utc,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, app_event, append_event,
    apps::existing_app,
};
use crate::db::models::access::{self, AccessRow};

/// How long the page password opens an app's page.
pub const UNLOCK_HOURS: i64 = 12;
/// How long a grant made for an `X-SecretKey` caller lasts.
const SECRET_KEY_GRANT_HOURS: i64 = 24;
/// Longest life of a shared link.
pub const MAX_SHARE_HOURS: i64 = 24 * 30;
/// Wrong page passwords an app takes per minute.
const MAX_FAILURES_PER_MINUTE: i64 = 10;
/// Shortest and longest page password, in characters.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
/// Longest grant text read.
const MAX_GRANT_BYTES: usize = 96;

/// A grant to a protected app, for links (`access=`) and the page's cookie.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessGrant {
    pub access: String,
    pub expires_unix: i64,
}

/// What a caller shows to read a protected app.
#[derive(Clone, Default)]
pub struct Presented {
    pub secret_key: Option<String>,
    pub access: Option<String>,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Presented")
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("access", &self.access.as_ref().map(|_| "***"))
            .finish()
    }
}

impl AppinhouseService {
    fn signature(&self, app: &str, epoch: &str, expires_unix: i64) -> String {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.settings.secret_key.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(format!("tad-appinhouse-access\n{app}\n{epoch}\n{expires_unix}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn grant(&self, app: &str, epoch: &str, hours: i64) -> AccessGrant {
        let expires_unix = (now_utc() + Duration::hours(hours)).and_utc().timestamp();
        AccessGrant {
            access: format!(
                "{expires_unix}.{}",
                self.signature(app, epoch, expires_unix)
            ),
            expires_unix,
        }
    }

    /// Whether `text` is a grant to `app` in `epoch` that has not expired.
    fn grant_is_valid(&self, app: &str, epoch: &str, text: &str) -> bool {
        if text.len() > MAX_GRANT_BYTES {
            return false;
        }
        let Some((expires, signature)) = text.split_once('.') else {
            return false;
        };
        let Ok(expires_unix) = expires.parse::<i64>() else {
            return false;
        };
        if expires_unix <= now_utc().and_utc().timestamp() {
            return false;
        }
        let expected = self.signature(app, epoch, expires_unix);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    }

    /// The grant the links of a read of `app` carry: `None` when the app is open; the shown
    /// grant, or one made for an `X-SecretKey` caller; `Protected` otherwise.
    pub(crate) fn access_in(
        &self,
        connection: &mut DbConnection,
        app: &str,
        presented: &Presented,
    ) -> AppinhouseResult<Option<String>> {
        let Some(row) = access::find_access(connection, app)? else {
            return Ok(None);
        };
        if let Some(text) = &presented.access
            && self.grant_is_valid(app, &row.epoch, text.trim())
        {
            return Ok(Some(text.trim().to_owned()));
        }
        if presented.secret_key.is_some()
            && self.check_secret(presented.secret_key.as_deref()).is_ok()
        {
            return Ok(Some(
                self.grant(app, &row.epoch, SECRET_KEY_GRANT_HOURS).access,
            ));
        }
        Err(AppinhouseError::Protected(app.to_owned()))
    }

    /// Sets an app's page password (a new epoch: earlier grants stop working), or lifts the
    /// protection when `password` is empty.
    pub async fn protect_app(&self, app: &str, password: &str) -> AppinhouseResult<()> {
        let app = app.trim().to_owned();
        let changed = app.clone();
        let origin = Origin::key_holder();
        if password.is_empty() {
            self.database
                .transaction(move |connection| {
                    existing_app(connection, &app)?;
                    let was_set = access::find_access(connection, &app)?.is_some();
                    access::delete_access(connection, &app)?;
                    let event = app_event(&origin, "app.protect", &app)
                        .change(Change::secret("password", was_set, false));
                    append_event(connection, event)?;
                    Ok::<_, AppinhouseError>(())
                })
                .await?;
            self.reads.changed(&changed).await;
            return Ok(());
        }
        let chars = password.chars().count();
        if !PASSWORD_CHARS.contains(&chars) {
            return Err(AppinhouseError::Invalid {
                field: "password",
                message: format!(
                    "must have {} to {} characters, not {chars}",
                    PASSWORD_CHARS.start(),
                    PASSWORD_CHARS.end()
                ),
            });
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || common::passwords::hash(&password))
            .await
            .map_err(|error| AppinhouseError::Hashing(error.to_string()))?
            .map_err(AppinhouseError::Hashing)?;
        let epoch = uuid::Uuid::new_v4().simple().to_string();
        self.database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
                let now = now_utc();
                let was_set = access::reset_access(connection, &app, &hash, &epoch, now)?;
                let event = app_event(&origin, "app.protect", &app)
                    .change(Change::secret("password", was_set, true));
                append_event(connection, event)?;
                if !was_set {
                    access::insert_access(
                        connection,
                        &AccessRow {
                            app: app.clone(),
                            password_hash: hash.clone(),
                            epoch: epoch.clone(),
                            failed_attempts: 0,
                            attempts_since: now,
                            update_time: now,
                        },
                    )?;
                }
                Ok::<_, AppinhouseError>(())
            })
            .await?;
        // Answers kept while the app was open must not reach readers without a grant.
        self.reads.changed(&changed).await;
        Ok(())
    }

    /// A signed link's grant to a protected app, valid `hours` (1 to [`MAX_SHARE_HOURS`]).
    pub async fn share_app(&self, app: &str, hours: i64) -> AppinhouseResult<AccessGrant> {
        if !(1..=MAX_SHARE_HOURS).contains(&hours) {
            return Err(AppinhouseError::Invalid {
                field: "hours",
                message: format!("{hours} is not between 1 and {MAX_SHARE_HOURS}"),
            });
        }
        let app = app.trim().to_owned();
        let service = self.clone();
        let origin = Origin::key_holder();
        self.database
            .transaction(move |connection| {
                existing_app(connection, &app)?;
                let row = access::find_access(connection, &app)?.ok_or_else(|| {
                    AppinhouseError::Invalid {
                        field: "app",
                        message: format!(
                            "{} is not protected: its page is open to anyone with its link",
                            limits::excerpt(&app)
                        ),
                    }
                })?;
                let grant = service.grant(&app, &row.epoch, hours);
                let expires = grant.expires_unix.to_string();
                let event = app_event(&origin, "app.share", &app).change(Change::new(
                    "expires_unix",
                    None,
                    Some(&expires),
                ));
                append_event(connection, event)?;
                Ok(grant)
            })
            .await
    }

    /// Trades an app's page password for a grant ([`UNLOCK_HOURS`]); an open app needs none.
    /// Wrong passwords are counted per app: past [`MAX_FAILURES_PER_MINUTE`] in a minute, every
    /// try is refused until the minute is over.
    pub async fn unlock_app(&self, app: &str, password: &str) -> AppinhouseResult<AccessGrant> {
        let app = app.trim().to_owned();
        let lookup = app.clone();
        let Some(row) = self
            .database
            .run(move |connection| {
                existing_app(connection, &lookup)?;
                Ok::<_, AppinhouseError>(access::find_access(connection, &lookup)?)
            })
            .await?
        else {
            return Ok(AccessGrant::default());
        };
        let now = now_utc();
        let minute_started = row.attempts_since > now - Duration::minutes(1);
        if minute_started && row.failed_attempts >= MAX_FAILURES_PER_MINUTE {
            return Err(AppinhouseError::TooManyAttempts(app));
        }
        let (password, stored) = (password.to_owned(), row.password_hash.clone());
        let matches = password.len() <= 4 * PASSWORD_CHARS.end()
            && tokio::task::spawn_blocking(move || common::passwords::matches(&password, &stored))
                .await
                .unwrap_or(false);
        if matches {
            let grant = self.grant(&app, &row.epoch, UNLOCK_HOURS);
            let expires = grant.expires_unix.to_string();
            let event = app_event(&Origin::anonymous(), "app.unlock", &app).change(Change::new(
                "expires_unix",
                None,
                Some(&expires),
            ));
            self.database
                .transaction(move |connection| {
                    append_event(connection, event)?;
                    Ok::<_, AppinhouseError>(())
                })
                .await?;
            return Ok(grant);
        }
        let (failures, since): (i64, NaiveDateTime) = if minute_started {
            (row.failed_attempts + 1, row.attempts_since)
        } else {
            (1, now)
        };
        self.database
            .transaction(move |connection| {
                access::set_failures(connection, &app, failures, since)?;
                Ok::<_, AppinhouseError>(())
            })
            .await?;
        Err(AppinhouseError::Invalid {
            field: "password",
            message: "is not this app's page password".to_owned(),
        })
    }
}
