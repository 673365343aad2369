//! gRPC contracts of the TAD services (generated from `protos/`) and the error reasons they share.

pub mod appinhouse;
pub mod error;
pub mod excerpt;

/// The audit trail each service keeps and answers (issue 20).
pub mod audit {
    /// Version 1 of the audit messages.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("tad.audit.v1");
    }
}

/// svc-artifact: stored files, packages, scripts, app-config templates, components.
pub mod artifact {
    /// Version 1 of the artifact API.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("tad.artifact.v1");
    }
}

/// svc-resource: users, product lines, applications, modules, environments, cluster types.
pub mod resource {
    /// Version 1 of the resource API.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("tad.resource.v1");
    }
}

/// svc-jobs: job templates, instances and their steps, joint lines.
pub mod jobs {
    /// Version 1 of the jobs API.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("tad.jobs.v1");
    }
}

pub use error::{ErrorLevel, ErrorReason};
