//! The wire form of the jobs rules' failures: each with its stable reason (and so its status).

use proto::ErrorReason;

use crate::service::{ApprovalRefusal, GraphFault, JobsError, RecordKind};

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
        RecordKind::Approval => ErrorReason::ApprovalNotFound,
        RecordKind::Schedule => ErrorReason::ScheduleNotFound,
    }
}

common::service_error! {
    impl ServiceError for JobsError as "jobs" {
        type Code = ErrorReason;
        upstream: Upstream,
        refused_unstarted: JobsError::Unavailable(_),
        reasons {
            JobsError::Missing { .. } => ErrorReason::MissingField,
            JobsError::Invalid { .. } => ErrorReason::InvalidField,
            JobsError::NotFound { kind, .. } => not_found_reason(*kind),
            JobsError::InUse { kind, .. } => in_use_reason(*kind),
            JobsError::Mismatch { .. } => ErrorReason::ClusterOutsideInstance,
            JobsError::Graph { fault, .. } => graph_reason(*fault),
            JobsError::Forbidden(_) => ErrorReason::Forbidden,
            JobsError::Unauthenticated(_) => ErrorReason::Unauthorized,
            JobsError::RunActive { .. } => ErrorReason::ExecutionRunning,
            JobsError::NotRunning { .. } => ErrorReason::ExecutionNotRunning,
            JobsError::Conflict { .. } => ErrorReason::ExecutionConflict,
            JobsError::KeyReused { .. } => ErrorReason::IdempotencyKeyReused,
            JobsError::Unavailable(_) => ErrorReason::ServiceUnavailable,
            JobsError::NotReady { .. } => ErrorReason::InstanceNotReady,
            JobsError::ApprovalRequired { .. } => ErrorReason::ApprovalRequired,
            JobsError::ApprovalRefused { reason, .. } => approval_reason(*reason),
            JobsError::WindowClosed { .. } => ErrorReason::DeployWindowClosed,
            JobsError::PlanChanged { .. } => ErrorReason::PlanChanged,
            JobsError::Upstream(_)
            | JobsError::Database(_)
            | JobsError::Export(_)
            | JobsError::LeaseLost { .. }
            | JobsError::Sealing { .. } => ErrorReason::InternalError,
        }
    }
}

fn approval_reason(refusal: ApprovalRefusal) -> ErrorReason {
    match refusal {
        ApprovalRefusal::Decided => ErrorReason::ApprovalDecided,
        ApprovalRefusal::Expired => ErrorReason::ApprovalExpired,
        ApprovalRefusal::Void => ErrorReason::ApprovalVoid,
        ApprovalRefusal::OwnRequest => ErrorReason::SelfApproval,
    }
}

fn in_use_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::Template => ErrorReason::TemplateInUse,
        RecordKind::Cluster => ErrorReason::ClusterInUse,
        _ => ErrorReason::InstanceInUse,
    }
}

fn graph_reason(fault: GraphFault) -> ErrorReason {
    match fault {
        GraphFault::DuplicateSequence => ErrorReason::DuplicateSequence,
        GraphFault::UnknownParent => ErrorReason::UnknownParent,
        GraphFault::Cycle => ErrorReason::JointLineCycle,
    }
}

#[cfg(test)]
mod tests {
    use tonic::Status;

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
