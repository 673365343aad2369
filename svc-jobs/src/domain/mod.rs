//! What the layers of svc-jobs share: the errors, the stored bindings of a step, the frozen
//! plan of a run step, the instance lookup every layer needs and a few contract constants. Imports nothing from `service`,
//! `execution` or `grpc`, so each of them may use it.

pub mod audit;
pub mod bindings;
pub mod error;
pub mod plan;
pub mod rollout;

use bytes::Bytes;
use common::db::DbConnection;
use futures::stream::BoxStream;

pub use error::{ApprovalRefusal, GraphFault, JobsError, JobsResult, RecordKind};

use crate::db::models::instances::{self, InstanceRow};

/// The instance `id`, or the failure naming it.
pub fn existing_instance(connection: &mut DbConnection, id: &str) -> JobsResult<InstanceRow> {
    instances::find(connection, id)?.ok_or_else(|| JobsError::NotFound {
        kind: RecordKind::Instance,
        id: id.to_owned(),
    })
}

/// The read-cache scope of templates (4.1 and 5.3 show them; instance lists show their names).
pub const TEMPLATES_SCOPE: &str = "jobs:generation:templates";
/// The read-cache scope of instances (1.3 / 7.1 and 5.5 show them with their status).
pub const INSTANCES_SCOPE: &str = "jobs:generation:instances";
/// The read-cache scope of the joint-line pages (1.6): every joint line written bumps it.
pub const JOINT_LINES_SCOPE: &str = "jobs:generation:joint_lines";
/// The read-cache scope of joint runs (1.5 shows how each node ended in the latest one): every
/// start, node change, end and settling of a joint run bumps it.
pub const JOINT_RUNS_SCOPE: &str = "jobs:generation:joint_runs";
/// What a template write changes.
pub const TEMPLATES_WRITE: &[&str] = &[TEMPLATES_SCOPE, INSTANCES_SCOPE];
/// What a write of an instance, its steps or their bindings, or a run's status, changes.
pub const INSTANCES_WRITE: &[&str] = &[INSTANCES_SCOPE];
/// How long a list answer is served from memory at most: writes through any replica are read at
/// once (the generations); only a `tad import` run beside a `tad serve` without Redis (catalog
/// names) waits this long.
pub const ANSWER_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The deploy type of templates that roll other templates back (named by `jobt_rollback_id`).
pub const DEPLOY_TYPE_ROLLBACK: &str = "rollback";

/// The bytes of a file as they stream from svc-artifact to a host.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// One node of an app-config template's schema, as svc-artifact describes it (passed through
/// to the caller of 5.8.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigNode {
    pub id: String,
    pub key: String,
    /// `other` or `list-map`.
    pub node_type: String,
    pub remark: String,
    pub default: String,
    pub require: bool,
    pub rule: String,
    pub policy: String,
    pub parent_id: String,
    pub children: Vec<ConfigNode>,
}
