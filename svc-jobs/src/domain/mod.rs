//! What the layers of svc-jobs share: the errors, the stored bindings of a step, the frozen
//! plan of a run step and a few contract constants. Imports nothing from `service`,
//! `execution` or `grpc`, so each of them may use it.

pub mod bindings;
pub mod error;
pub mod plan;

use bytes::Bytes;
use futures::stream::BoxStream;

pub use error::{GraphFault, JobsError, JobsResult, RecordKind};

/// The deploy type of templates that roll other templates back (named by `jobt_rollback_id`).
pub const DEPLOY_TYPE_ROLLBACK: &str = "rollback";

/// The bytes of a file as they stream from svc-artifact to a host.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;
