//! The rules of svc-appinhouse (SPEC §6): apps and their order, builds per platform and version,
//! OTA plists, pagination limits, the `X-SecretKey` guard, hosted build files, retention by age.
//! No proto or HTTP types here; the gRPC adapter translates.

pub mod access;
pub mod apps;
pub mod archive;
pub mod builds;
pub mod error;
pub mod hosted;
pub mod icon;
pub mod installs;
pub mod metadata;
pub mod page;
pub mod platform;
pub mod plist;
pub mod read_cache;
pub mod reads;
pub mod retention;
pub mod time;

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use common::{
    audit::{self, NewEvent, Origin},
    db::{Database, DbConnection},
};
use subtle::ConstantTimeEq;

pub use error::{AppinhouseError, AppinhouseResult, Fault};

use crate::store::BuildStore;

/// Tunables of the appinhouse rules.
#[derive(Clone)]
pub struct AppinhouseSettings {
    /// The `X-SecretKey` writes must carry.
    pub secret_key: String,
    /// Items per page.
    pub page_size: i64,
    /// Largest page number.
    pub max_page: i64,
    /// Fewest builds a residue delete keeps.
    pub min_residue: i64,
    /// Public base URL (`TAD_PUBLIC_URL`); when unset, the one the request came to.
    pub public_url: Option<String>,
    /// Where uploads are spooled before they reach the store (a disk directory).
    pub incoming_dir: PathBuf,
}

impl std::fmt::Debug for AppinhouseSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppinhouseSettings")
            .field("secret_key", &"***")
            .field("page_size", &self.page_size)
            .field("max_page", &self.max_page)
            .field("min_residue", &self.min_residue)
            .field("public_url", &self.public_url)
            .field("incoming_dir", &self.incoming_dir)
            .finish()
    }
}

/// The appinhouse service: its database, its file store and its settings.
#[derive(Clone)]
pub struct AppinhouseService {
    database: Database,
    store: BuildStore,
    settings: Arc<AppinhouseSettings>,
    reads: Arc<read_cache::AppReads>,
}

/// Appends `event` now, in the caller's transaction (issue 20).
pub(crate) fn append_event(
    connection: &mut DbConnection,
    event: NewEvent,
) -> diesel::QueryResult<()> {
    audit::append(connection, event, audit::now_ms()).map(|_| ())
}

/// The event of `action` on app `app`, by `origin`.
pub(crate) fn app_event(origin: &Origin, action: &str, app: &str) -> NewEvent {
    NewEvent::new(origin, action, "app", app)
}

/// The event of `action` on the build `version` of `app` for `platform`, by `origin`.
pub(crate) fn build_event(
    origin: &Origin,
    action: &str,
    (app, platform, version): (&str, &str, &str),
) -> NewEvent {
    NewEvent::new(
        origin,
        action,
        "build",
        &format!("{app}/{platform}/{version}"),
    )
}

/// Form fields of a request, by name.
pub type Fields = HashMap<String, String>;

/// One page of a list: which page, where it starts, how many pages there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub page: i64,
    pub offset: i64,
    pub limit: i64,
    pub total_page: i64,
}

impl AppinhouseService {
    pub fn new(
        database: Database,
        store: BuildStore,
        settings: AppinhouseSettings,
    ) -> AppinhouseService {
        AppinhouseService {
            database,
            store,
            settings: Arc::new(settings),
            reads: read_cache::AppReads::new(Arc::new(common::cache::InMemoryCache::new())),
        }
    }

    /// Keeps the generations of the read cache in `cache`, shared by every replica (Redis), so a
    /// write through one replica is seen at once through the others.
    pub fn with_shared_cache(mut self, cache: common::cache::SharedCache) -> AppinhouseService {
        self.reads = read_cache::AppReads::new(cache);
        self
    }

    /// The database (readiness checks).
    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn settings(&self) -> &AppinhouseSettings {
        &self.settings
    }

    /// Checks the caller's `X-SecretKey` in constant time.
    pub fn check_secret(&self, given: Option<&str>) -> AppinhouseResult<()> {
        let expected = self.settings.secret_key.as_bytes();
        match given {
            Some(given) if bool::from(given.trim().as_bytes().ct_eq(expected)) => Ok(()),
            _ => Err(AppinhouseError::SecretKey),
        }
    }

    /// The base URL links are built on: `public_url`, else the request's.
    pub fn base_url(&self, request_base_url: &str) -> String {
        self.settings
            .public_url
            .as_deref()
            .unwrap_or(request_base_url)
            .trim_end_matches('/')
            .to_owned()
    }

    /// The page `page` of `total` items (1001 outside 1..max_page, 1002 past the end).
    pub fn window(&self, page: Option<&str>, total: i64) -> AppinhouseResult<Window> {
        let page = match page.map(str::trim).filter(|page| !page.is_empty()) {
            None => return Err(AppinhouseError::Missing { field: "page" }),
            Some(text) => text.parse::<i64>().map_err(|_| AppinhouseError::Invalid {
                field: "page",
                message: format!("{:?} is not a number", common::limits::excerpt(text)),
            })?,
        };
        let max_page = self.settings.max_page;
        if !(1..=max_page).contains(&page) {
            return Err(AppinhouseError::Invalid {
                field: "page",
                message: format!("{page} must be between 1 and {max_page}"),
            });
        }
        let page_size = self.settings.page_size;
        let total_page = ((total + page_size - 1) / page_size).min(max_page);
        let offset = (page - 1) * page_size;
        if page > 1 && offset >= total {
            return Err(AppinhouseError::PastTheEnd { page, total_page });
        }
        Ok(Window {
            page,
            offset,
            limit: page_size,
            total_page,
        })
    }
}

/// A required form field, trimmed (1001 when absent or blank).
pub fn required(fields: &Fields, field: &'static str) -> AppinhouseResult<String> {
    optional(fields, field).ok_or(AppinhouseError::Missing { field })
}

/// An optional form field, trimmed; blank counts as absent.
pub fn optional(fields: &Fields, field: &str) -> Option<String> {
    fields
        .get(field)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A name that goes into URLs and keys: 1..=`max` bytes of `A-Z a-z 0-9 . _ -`, not starting
/// with a dot.
pub fn url_safe(field: &'static str, value: &str, max: usize) -> AppinhouseResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppinhouseError::Missing { field });
    }
    if value.len() > max {
        return Err(AppinhouseError::Invalid {
            field,
            message: format!(
                "{:?} is longer than {max} bytes",
                common::limits::excerpt(value)
            ),
        });
    }
    let safe = value
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
        && !value.starts_with('.');
    if !safe {
        return Err(AppinhouseError::Invalid {
            field,
            message: format!(
                "{:?} may hold only letters, digits, '.', '_' and '-'",
                common::limits::excerpt(value)
            ),
        });
    }
    Ok(value.to_owned())
}
