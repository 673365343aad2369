//! The rules of svc-jobs: who may do what, validation against the other services, and
//! consistent writes. No proto or HTTP types here; the gRPC adapter translates.

pub mod approvals;
pub mod binding_limits;
pub mod bindings;
mod cluster_guard;
pub mod executions;
pub mod instances;
pub mod joint_lines;
pub mod records;
pub mod schedules;
pub mod step_reads;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

use std::sync::Arc;

use common::{
    db::{Database, DbConnection},
    read_cache::ReadCache,
    roles::{require_operator, require_reader},
};

pub use crate::domain::{ApprovalRefusal, GraphFault, JobsError, JobsResult, RecordKind};

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

/// The jobs service: its database, the resource and artifact services it asks, its engine and
/// the answers kept for repeated list reads (the engine's, which marks instances changed as runs
/// start and end).
#[derive(Clone)]
pub struct JobsService {
    database: Database,
    resource: ResourceDirectory,
    artifact: ArtifactDirectory,
    engine: Engine,
    reads: Arc<ReadCache>,
    /// Exported work orders (.xlsx files): a few, so the cache stays small.
    exports: Arc<ReadCache>,
}

/// Most exported work orders kept, and the largest kept: at most 8 MiB of them per process.
const KEPT_EXPORTS: usize = 64;
const MAX_KEPT_EXPORT_BYTES: usize = 128 * 1024;

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
            reads: engine.reads().clone(),
            exports: engine.reads().sibling("jobs exports", KEPT_EXPORTS),
            engine,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A write in one transaction; once it committed, what `changes` hold is read again on
    /// every replica (before the write is answered).
    async fn write<T, F>(&self, changes: &[&str], work: F) -> JobsResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> JobsResult<T> + Send + 'static,
    {
        let written = self.database.transaction(work).await;
        self.reads.written(changes, written).await
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
