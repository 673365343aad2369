//! What can go wrong in svc-jobs, each message naming the field or record at fault.

use common::db::DbError;

/// A kind of record, as named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Template,
    Instance,
    Step,
    JointLine,
    Application,
    Env,
    ProductLine,
    Module,
    Cluster,
    WorkOrder,
    Component,
    Method,
    Execution,
    HostTask,
    Webhook,
    Approval,
    Schedule,
}

impl RecordKind {
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Template => "job template",
            RecordKind::Instance => "job instance",
            RecordKind::Step => "step",
            RecordKind::JointLine => "joint line",
            RecordKind::Application => "application",
            RecordKind::Env => "environment",
            RecordKind::ProductLine => "product line",
            RecordKind::Module => "module",
            RecordKind::Cluster => "cluster",
            RecordKind::WorkOrder => "work order",
            RecordKind::Component => "component",
            RecordKind::Method => "method",
            RecordKind::Execution => "execution",
            RecordKind::HostTask => "host task",
            RecordKind::Webhook => "webhook",
            RecordKind::Approval => "deployment request",
            RecordKind::Schedule => "schedule",
        }
    }
}

/// Why a deployment request cannot be decided as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// Someone decided it first (or it is no longer pending).
    Decided,
    /// Its time to be decided ran out.
    Expired,
    /// What it would run changed since it was asked.
    Void,
    /// Four-eyes: its requester may not decide it.
    OwnRequest,
}

/// What a refused joint line is wrong about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFault {
    DuplicateSequence,
    UnknownParent,
    Cycle,
}

common::rules_error! {
    /// Failures of the jobs rules.
    #[derive(Debug, thiserror::Error)]
    pub enum JobsError (field: &'static str, forbidden) {
        #[error("{} {id:?} does not exist", kind.label())]
        NotFound { kind: RecordKind, id: String },
        #[error("{} {id:?} is still used by {}", kind.label(), users.join(", "))]
        InUse {
            kind: RecordKind,
            id: String,
            users: Vec<String>,
        },
        #[error("{message}")]
        Mismatch { message: String },
        #[error("joint line is not a valid graph: {message}")]
        Graph { fault: GraphFault, message: String },
        #[error("{0}")]
        Forbidden(String),
        #[error("authentication required: {0}")]
        Unauthenticated(String),
        /// A call to another service failed; its status is passed on.
        #[error("{0}")]
        Upstream(tonic::Status),
        /// Another run holds the instance or its (application, environment).
        #[error("{message}")]
        RunActive { run_id: String, message: String },
        /// The request does not fit the record's state (retry of a run that did not fail, rollback
        /// without an earlier snapshot).
        #[error("{message}")]
        Conflict { message: String },
        /// An idempotency key sent again with a different request.
        #[error("{message}")]
        KeyReused { message: String },
        /// The run asked is on a protected environment: it waits as deployment request
        /// `request_id` for an approver (an answer, not a fault).
        #[error("{message}")]
        ApprovalRequired { request_id: String, message: String },
        /// A deployment request that cannot be decided as asked (decided already, expired, void
        /// because its plans changed): `reason` is its code.
        #[error("{message}")]
        ApprovalRefused {
            reason: ApprovalRefusal,
            message: String,
        },
        /// The environment is frozen or outside its deploy windows and refuses runs then.
        #[error("{message}")]
        WindowClosed { message: String },
        /// 6.1 with a `plan_id` whose plan is no longer what would run (or is not known).
        #[error("{message}")]
        PlanChanged { message: String },
        #[error("job instance {instance_id:?} has no running execution")]
        NotRunning { instance_id: String },
        /// This replica no longer holds the run it works: its lease ran out and the sweep
        /// settled the run (a frozen or starved replica); it writes nothing more about it.
        #[error("this replica no longer holds run {run_id}: its lease ran out and the run was settled")]
        LeaseLost { run_id: String },
        #[error("job instance {instance_id:?} cannot run yet: {message}")]
        NotReady {
            instance_id: String,
            message: String,
        },
        /// The service cannot take the request now (shutting down).
        #[error("{0}")]
        Unavailable(String),
        #[error("cannot build the work order sheet: {0}")]
        Export(String),
        #[error(transparent)]
        Database(#[from] DbError),
        /// A value sealed at rest cannot be sealed or opened (wrong credential key, damaged row).
        #[error("{what} cannot be {doing}: {reason}")]
        Sealing {
            what: &'static str,
            doing: &'static str,
            reason: String,
        },
    }
}

pub type JobsResult<T> = Result<T, JobsError>;
