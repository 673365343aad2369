//! What the layers of svc-jobs share: the errors, the stored bindings of a step, the frozen
//! plan of a run step, the instance lookup every layer needs and a few contract constants. Imports nothing from `service`,
//! `execution` or `grpc`, so each of them may use it.

pub mod bindings;
pub mod error;
pub mod plan;

use bytes::Bytes;
use common::db::DbConnection;
use futures::stream::BoxStream;

pub use error::{GraphFault, JobsError, JobsResult, RecordKind};

use crate::db::models::instances::{self, InstanceRow};

/// The instance `id`, or the failure naming it.
pub fn existing_instance(connection: &mut DbConnection, id: &str) -> JobsResult<InstanceRow> {
    instances::find(connection, id)?.ok_or_else(|| JobsError::NotFound {
        kind: RecordKind::Instance,
        id: id.to_owned(),
    })
}

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
