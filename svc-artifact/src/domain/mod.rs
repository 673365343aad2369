//! What the layers of svc-artifact share: the errors and the artifact kinds. Imports nothing
//! from `service` or `grpc`, so the service, the gRPC adapter and the resource client may all
//! use it.

pub mod error;

pub use error::{ArtifactError, ArtifactResult, RecordKind};

/// `package` or `configure`.
pub const KIND_PACKAGE: &str = "package";
pub const KIND_CONFIGURE: &str = "configure";
