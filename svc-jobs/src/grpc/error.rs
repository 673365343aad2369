//! The wire form of the jobs rules' failures: each with its stable reason (and so its status).

use proto::{ErrorReason, error::ServiceError};
use tonic::Status;

use crate::service::{GraphFault, JobsError, RecordKind};

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::Template => ErrorReason::TemplateNotFound,
        RecordKind::Instance => ErrorReason::InstanceNotFound,
        RecordKind::Step => ErrorReason::StepNotFound,
        RecordKind::JointLine => ErrorReason::JointLineNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
        RecordKind::Env => ErrorReason::EnvNotFound,
        RecordKind::ProductLine => ErrorReason::ProductLineNotFound,
        RecordKind::Module => ErrorReason::ModuleNotFound,
        RecordKind::Cluster => ErrorReason::ClusterNotFound,
        RecordKind::WorkOrder => ErrorReason::WorkOrderNotFound,
        RecordKind::Component => ErrorReason::ComponentNotFound,
        RecordKind::Method => ErrorReason::MethodNotFound,
        RecordKind::Execution => ErrorReason::ExecutionNotFound,
        RecordKind::HostTask => ErrorReason::HostTaskNotFound,
        RecordKind::Webhook => ErrorReason::WebhookNotFound,
    }
}

impl ServiceError for JobsError {
    type Code = ErrorReason;
    const SERVICE: &'static str = "jobs";

    fn reason(&self) -> ErrorReason {
        match self {
            JobsError::Missing { .. } => ErrorReason::MissingField,
            JobsError::Invalid { .. } => ErrorReason::InvalidField,
            JobsError::NotFound { kind, .. } => not_found_reason(*kind),
            JobsError::InUse {
                kind: RecordKind::Template,
                ..
            } => ErrorReason::TemplateInUse,
            JobsError::InUse {
                kind: RecordKind::Cluster,
                ..
            } => ErrorReason::ClusterInUse,
            JobsError::InUse { .. } => ErrorReason::InstanceInUse,
            JobsError::Mismatch { .. } => ErrorReason::ClusterOutsideInstance,
            JobsError::Graph { fault, .. } => match fault {
                GraphFault::DuplicateSequence => ErrorReason::DuplicateSequence,
                GraphFault::UnknownParent => ErrorReason::UnknownParent,
                GraphFault::Cycle => ErrorReason::JointLineCycle,
            },
            JobsError::Forbidden(_) => ErrorReason::Forbidden,
            JobsError::Unauthenticated(_) => ErrorReason::Unauthorized,
            JobsError::RunActive { .. } => ErrorReason::ExecutionRunning,
            JobsError::NotRunning { .. } => ErrorReason::ExecutionNotRunning,
            JobsError::Conflict { .. } => ErrorReason::ExecutionConflict,
            JobsError::KeyReused { .. } => ErrorReason::IdempotencyKeyReused,
            JobsError::Unavailable(_) => ErrorReason::ServiceUnavailable,
            JobsError::NotReady { .. } => ErrorReason::InstanceNotReady,
            JobsError::Upstream(_)
            | JobsError::Database(_)
            | JobsError::Export(_)
            | JobsError::Sealing { .. } => ErrorReason::InternalError,
        }
    }

    fn into_upstream(self) -> Result<Status, JobsError> {
        match self {
            JobsError::Upstream(status) => Ok(status),
            other => Err(other),
        }
    }

    fn refused_unstarted(&self) -> bool {
        matches!(self, JobsError::Unavailable(_))
    }
}

proto::status_from!(JobsError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refusal_while_shutting_down_is_marked_for_another_replica() {
        let marked = |error: JobsError| {
            Status::from(error)
                .metadata()
                .contains_key(proto::error::REFUSED_UNSTARTED_METADATA_KEY)
        };
        assert!(marked(JobsError::Unavailable("shutting down".to_owned())));
        assert!(!marked(JobsError::Upstream(Status::unavailable(
            "the resource service is unavailable"
        ))));
        let status = Status::from(JobsError::Unavailable("shutting down".to_owned()));
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
}
