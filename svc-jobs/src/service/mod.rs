//! The rules of svc-jobs: who may do what, validation against the other services, and
//! consistent writes. No proto or HTTP types here; the gRPC adapter translates.

pub mod binding_limits;
pub mod bindings;
mod cluster_guard;
pub mod executions;
pub mod instances;
pub mod joint_lines;
pub mod records;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

use common::{
    db::Database,
    roles::{require_operator, require_reader},
};

pub use crate::domain::{GraphFault, JobsError, JobsResult, RecordKind};

use crate::{artifact::ArtifactDirectory, execution::Engine, resource::ResourceDirectory};

/// The caller: what its token says, and the token itself (forwarded to other services).
pub use common::auth::Actor;

/// Instance statuses of SPEC §4.
pub mod status {
    pub const INIT: &str = "init";
    pub const READY: &str = "ready";
    pub const GENERATE: &str = "generate";
    /// Process status of a work order not yet pushed to an ITSM.
    pub const NOT_SYNCED: &str = "未同步";
}

/// The jobs service: its database and the resource and artifact services it asks.
#[derive(Clone)]
pub struct JobsService {
    database: Database,
    resource: ResourceDirectory,
    artifact: ArtifactDirectory,
    engine: Engine,
}

impl JobsService {
    pub fn new(
        database: Database,
        resource: ResourceDirectory,
        artifact: ArtifactDirectory,
        engine: Engine,
    ) -> JobsService {
        JobsService {
            database,
            resource,
            artifact,
            engine,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn database(&self) -> &Database {
        &self.database
    }
}

/// A trimmed non-empty name of at most 128 characters.
fn checked_name(field: &'static str, value: &str) -> JobsResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(JobsError::Missing { field });
    }
    common::limits::check(field, trimmed, common::limits::NAME)?;
    Ok(trimmed.to_owned())
}

/// A trimmed free text (remark) within `limit`; empty is fine.
fn checked_text(
    field: &'static str,
    value: &str,
    limit: common::limits::Limit,
) -> JobsResult<String> {
    let trimmed = value.trim();
    common::limits::check(field, trimmed, limit)?;
    Ok(trimmed.to_owned())
}

/// An optional reference (empty means absent), within the id limit.
fn checked_optional_reference(
    field: &'static str,
    value: Option<&str>,
) -> JobsResult<Option<String>> {
    let value = filter_text(value);
    common::limits::check_opt(field, value.as_deref(), common::limits::ID)?;
    Ok(value)
}

/// A reference that must be given.
fn checked_reference(field: &'static str, value: &str) -> JobsResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(JobsError::Missing { field });
    }
    common::limits::check(field, trimmed, common::limits::ID)?;
    Ok(trimmed.to_owned())
}

/// Text of an optional filter: empty means no filter.
fn filter_text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}
