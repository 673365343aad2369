//! The stable snake_case failure reasons every service puts on a `tonic::Status` (metadata key
//! `tad-reason`) and the gateway copies into the failure envelope's `code`.

use tonic::{Code, Status, metadata::MetadataValue};

/// Metadata key that carries the reason of a failed call.
pub const REASON_METADATA_KEY: &str = "tad-reason";

/// Metadata set on a refusal made before the service did anything (a replica shutting down): the
/// caller may send the same call to another replica of the service.
pub const REFUSED_UNSTARTED_METADATA_KEY: &str = "tad-refused-unstarted";

/// Who is at fault: the caller (`warning`) or the server (`error`), as the legacy envelope's `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorLevel {
    Warning,
    Error,
}

impl ErrorLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorLevel::Warning => "warning",
            ErrorLevel::Error => "error",
        }
    }
}

macro_rules! reasons {
    ($($variant:ident => ($text:literal, $code:ident)),+ $(,)?) => {
        /// Every reason a TAD call can fail for. The text is part of the public API: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorReason { $($variant),+ }

        impl ErrorReason {
            /// All reasons, for documentation and exhaustive tests.
            pub const ALL: &'static [ErrorReason] = &[$(ErrorReason::$variant),+];

            /// The stable snake_case text of the reason.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorReason::$variant => $text),+ }
            }

            /// The gRPC status code this reason travels with.
            pub fn grpc_code(self) -> Code {
                match self { $(ErrorReason::$variant => Code::$code),+ }
            }

            /// Parses the text back into a reason.
            pub fn parse(text: &str) -> Option<ErrorReason> {
                match text { $($text => Some(ErrorReason::$variant),)+ _ => None }
            }
        }
    };
}

reasons! {
    InvalidJson => ("invalid_json", InvalidArgument),
    InvalidField => ("invalid_field", InvalidArgument),
    MissingField => ("missing_field", InvalidArgument),
    Unauthorized => ("unauthorized", Unauthenticated),
    InvalidCredentials => ("invalid_credentials", Unauthenticated),
    TooManyLoginAttempts => ("too_many_login_attempts", ResourceExhausted),
    Forbidden => ("forbidden", PermissionDenied),
    PayloadTooLarge => ("payload_too_large", InvalidArgument),
    RouteNotFound => ("route_not_found", NotFound),
    MethodNotAllowed => ("method_not_allowed", InvalidArgument),
    UserNotFound => ("user_not_found", NotFound),
    UsernameTaken => ("username_taken", AlreadyExists),
    CannotDeleteSelf => ("cannot_delete_self", FailedPrecondition),
    TokenNotFound => ("token_not_found", NotFound),
    TokenNameTaken => ("token_name_taken", AlreadyExists),
    ProductLineNotFound => ("product_line_not_found", NotFound),
    ProductLineInUse => ("product_line_in_use", FailedPrecondition),
    ApplicationNotFound => ("application_not_found", NotFound),
    ApplicationInUse => ("application_in_use", FailedPrecondition),
    ModuleNotFound => ("module_not_found", NotFound),
    EnvNotFound => ("env_not_found", NotFound),
    ClusterTypeNotFound => ("cluster_type_not_found", NotFound),
    ClusterNotFound => ("cluster_not_found", NotFound),
    ClusterNameTaken => ("cluster_name_taken", AlreadyExists),
    ClusterInUse => ("cluster_in_use", FailedPrecondition),
    HostNotFound => ("host_not_found", NotFound),
    HostIpTaken => ("host_ip_taken", AlreadyExists),
    HostOutsideCluster => ("host_outside_cluster", FailedPrecondition),
    HostBound => ("host_bound", FailedPrecondition),
    EnvInUse => ("env_in_use", FailedPrecondition),
    CmdbOwned => ("cmdb_owned", FailedPrecondition),
    TemplateNotFound => ("template_not_found", NotFound),
    TemplateInUse => ("template_in_use", FailedPrecondition),
    InstanceNotFound => ("instance_not_found", NotFound),
    InstanceInUse => ("instance_in_use", FailedPrecondition),
    StepNotFound => ("step_not_found", NotFound),
    ClusterOutsideInstance => ("cluster_outside_instance", FailedPrecondition),
    JointLineNotFound => ("joint_line_not_found", NotFound),
    DuplicateSequence => ("duplicate_sequence", InvalidArgument),
    UnknownParent => ("unknown_parent", InvalidArgument),
    JointLineCycle => ("joint_line_cycle", InvalidArgument),
    WorkOrderNotFound => ("work_order_not_found", NotFound),
    ComponentNotFound => ("component_not_found", NotFound),
    FileNotFound => ("file_not_found", NotFound),
    ScriptNotFound => ("script_not_found", NotFound),
    MethodNotFound => ("method_not_found", NotFound),
    Md5Mismatch => ("md5_mismatch", InvalidArgument),
    ArchiveRejected => ("archive_rejected", InvalidArgument),
    InvalidSchema => ("invalid_schema", InvalidArgument),
    InvalidValues => ("invalid_values", InvalidArgument),
    RenderFailed => ("render_failed", InvalidArgument),
    BinaryFile => ("binary_file", FailedPrecondition),
    SelfReview => ("self_review", PermissionDenied),
    RangeNotSatisfiable => ("range_not_satisfiable", OutOfRange),
    ExecutionNotFound => ("execution_not_found", NotFound),
    HostTaskNotFound => ("host_task_not_found", NotFound),
    ExecutionRunning => ("execution_running", FailedPrecondition),
    ExecutionNotRunning => ("execution_not_running", FailedPrecondition),
    ExecutionConflict => ("execution_conflict", FailedPrecondition),
    IdempotencyKeyReused => ("idempotency_key_reused", FailedPrecondition),
    WebhookNotFound => ("webhook_not_found", NotFound),
    ScriptDisabled => ("script_disabled", FailedPrecondition),
    InstanceNotReady => ("instance_not_ready", FailedPrecondition),
    ApprovalRequired => ("approval_required", FailedPrecondition),
    ApprovalNotFound => ("approval_not_found", NotFound),
    ApprovalDecided => ("approval_decided", FailedPrecondition),
    ApprovalExpired => ("approval_expired", FailedPrecondition),
    ApprovalVoid => ("approval_void", FailedPrecondition),
    SelfApproval => ("self_approval", PermissionDenied),
    DeployWindowClosed => ("deploy_window_closed", FailedPrecondition),
    PlanChanged => ("plan_changed", FailedPrecondition),
    ScheduleNotFound => ("schedule_not_found", NotFound),
    ServiceUnavailable => ("service_unavailable", Unavailable),
    InternalError => ("internal_error", Internal),
    RequestTimeout => ("request_timeout", DeadlineExceeded),
}

impl ErrorReason {
    /// `warning` for the caller's mistakes, `error` for server faults.
    pub fn level(self) -> ErrorLevel {
        match self.grpc_code() {
            Code::Internal | Code::Unavailable | Code::Unknown | Code::DataLoss => {
                ErrorLevel::Error
            }
            _ => ErrorLevel::Warning,
        }
    }

    /// A status with this reason attached and `message` (a sentence naming what is at fault).
    /// A request value in `message` travels only as an excerpt ([`crate::excerpt::bound_message`]).
    pub fn status(self, message: impl Into<String>) -> Status {
        let message = crate::excerpt::bound_message(&message.into());
        let mut status = Status::new(self.grpc_code(), message);
        status.metadata_mut().insert(
            REASON_METADATA_KEY,
            MetadataValue::from_static(self.as_str()),
        );
        status
    }

    /// The reason a status carries, or one derived from its gRPC code when it carries none.
    pub fn of_status(status: &Status) -> ErrorReason {
        if let Some(reason) = status
            .metadata()
            .get(REASON_METADATA_KEY)
            .and_then(|value| value.to_str().ok())
            .and_then(ErrorReason::parse)
        {
            return reason;
        }
        match status.code() {
            Code::Unauthenticated => ErrorReason::Unauthorized,
            Code::PermissionDenied => ErrorReason::Forbidden,
            Code::InvalidArgument => ErrorReason::InvalidField,
            Code::Unavailable => ErrorReason::ServiceUnavailable,
            _ => ErrorReason::InternalError,
        }
    }
}

/// A code a failed call travels with: a shared [`ErrorReason`], or the appinhouse contract's
/// [`crate::appinhouse::AppinhouseCode`].
pub trait WireCode: Copy {
    /// The gRPC status code it travels with.
    fn status_code(self) -> Code;
    /// A status carrying this code and `message`.
    fn status(self, message: String) -> Status;
}

impl WireCode for ErrorReason {
    fn status_code(self) -> Code {
        self.grpc_code()
    }

    fn status(self, message: String) -> Status {
        ErrorReason::status(self, message)
    }
}

/// A failure of a service's rules, as the gRPC adapter sends it: its code (hence status) and
/// its message (the error's `Display`). Implemented in each service's `grpc/` so the rules
/// themselves know no wire type.
pub trait ServiceError: std::fmt::Display + Sized {
    /// The code the failure travels with.
    type Code: WireCode;

    /// The service, named in the log line of a server fault.
    const SERVICE: &'static str;

    /// The code of this failure.
    fn reason(&self) -> Self::Code;

    /// The gRPC status code of this failure.
    fn status_code(&self) -> Code {
        self.reason().status_code()
    }

    /// An answer of another service passed on unchanged, when this failure is one.
    fn into_upstream(self) -> Result<Status, Self> {
        Err(self)
    }

    /// Whether the service refused before it did anything of the request (it is shutting
    /// down), so that another replica may take the same call.
    fn refused_unstarted(&self) -> bool {
        false
    }
}

/// The status of a service failure: the upstream answer it carries, else its code and message.
/// Server faults (status `internal`) are logged; the caller sees only the message.
pub fn to_status<E: ServiceError>(error: E) -> Status {
    let error = match error.into_upstream() {
        Ok(status) => return status,
        Err(error) => error,
    };
    let message = error.to_string();
    if error.status_code() == Code::Internal {
        tracing::error!(service = E::SERVICE, error = %message, "request failed");
    }
    let refused_unstarted = error.refused_unstarted();
    let mut status = error.reason().status(message);
    if refused_unstarted {
        status.metadata_mut().insert(
            REFUSED_UNSTARTED_METADATA_KEY,
            MetadataValue::from_static("1"),
        );
    }
    status
}

/// `impl From<$error> for tonic::Status` through [`to_status`], so `?` answers a rule failure.
#[macro_export]
macro_rules! status_from {
    ($error:ty) => {
        impl From<$error> for ::tonic::Status {
            fn from(error: $error) -> ::tonic::Status {
                $crate::error::to_status(error)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_through_a_status() {
        for reason in ErrorReason::ALL {
            let status = reason.status("something is wrong");
            assert_eq!(ErrorReason::of_status(&status), *reason);
            assert_eq!(ErrorReason::parse(reason.as_str()), Some(*reason));
        }
    }

    #[test]
    fn server_faults_are_errors_and_caller_mistakes_warnings() {
        assert_eq!(ErrorReason::InternalError.level(), ErrorLevel::Error);
        assert_eq!(ErrorReason::ServiceUnavailable.level(), ErrorLevel::Error);
        assert_eq!(
            ErrorReason::ProductLineNotFound.level(),
            ErrorLevel::Warning
        );
        assert_eq!(ErrorReason::Forbidden.level(), ErrorLevel::Warning);
    }

    #[test]
    fn a_status_without_reason_maps_from_its_code() {
        let status = Status::unavailable("down");
        assert_eq!(
            ErrorReason::of_status(&status),
            ErrorReason::ServiceUnavailable
        );
    }
}
