//! The one place where domain errors become gRPC statuses.
//!
//! Client mistakes get the precise code; faults of the server are logged with their detail
//! and answered `INTERNAL` with a short message, never `UNKNOWN`. Two codes carry standard
//! `google.rpc` details that clients of every language decode from the status:
//! `INVALID_ARGUMENT` a `BadRequest` with one field violation per broken rule, and
//! `RESOURCE_EXHAUSTED` a `RetryInfo` with the delay after which a retry has a fair chance.
//! `RetryInfo` rather than a `retry-after` header: it is gRPC's own typed retry hint, read by
//! Google's client libraries and shown by grpcurl, where `retry-after` is an HTTP convention
//! no gRPC client looks for.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::app::import::Broken;
use crate::app::memory::MemoryUnavailable;
use crate::app::AppError;
use crate::model::Invalid;
use crate::store::StoreError;

impl From<AppError> for Status {
    fn from(error: AppError) -> Status {
        match error {
            AppError::Invalid(invalid) => invalid.into(),
            AppError::ConceptNotFound { .. }
            | AppError::CollectionNotFound { .. }
            | AppError::MemoryNotFound { .. } => Status::not_found(error.to_string()),
            AppError::IdInOtherCollection { .. } => Status::already_exists(error.to_string()),
            AppError::ProtectedCollection { .. } => Status::failed_precondition(error.to_string()),
            AppError::Busy { retry_after, .. } => Status::with_error_details(
                Code::ResourceExhausted,
                error.to_string(),
                ErrorDetails::with_retry_info(Some(retry_after)),
            ),
            AppError::Refused { summary } => Status::invalid_argument(summary),
            AppError::Upload(Broken::Protocol(_)) => Status::invalid_argument(error.to_string()),
            AppError::Upload(Broken::Interrupted(_)) => Status::cancelled(error.to_string()),
            AppError::Unwritable(_) => Status::failed_precondition(error.to_string()),
            AppError::ChangesCompacted { .. } => Status::out_of_range(error.to_string()),
            AppError::Store(error) => error.into(),
            AppError::MemoryUnavailable(error) => error.into(),
            // Logged with the panic where it happened (`app::work`).
            AppError::Internal { what, .. } => {
                Status::internal(format!("{what} failed; see the server log"))
            }
            AppError::Unauthenticated { .. } => Status::unauthenticated(error.to_string()),
            AppError::PermissionDenied { .. } => Status::permission_denied(error.to_string()),
            AppError::KeyNameTaken { .. } => Status::already_exists(error.to_string()),
            AppError::KeyNotFound { .. } => Status::not_found(error.to_string()),
            AppError::Upload(Broken::Idle(_)) => Status::deadline_exceeded(error.to_string()),
            AppError::JobRunning { .. } => Status::already_exists(error.to_string()),
            AppError::JobNotFound { .. } => Status::not_found(error.to_string()),
            AppError::LogUnavailable { .. } => Status::unavailable(error.to_string()),
            AppError::WriteTooLarge { .. } => Status::invalid_argument(error.to_string()),
        }
    }
}

impl From<Invalid> for Status {
    fn from(invalid: Invalid) -> Status {
        let details = ErrorDetails::with_bad_request(
            invalid
                .0
                .iter()
                .map(|v| FieldViolation::new(v.field.clone(), v.reason.clone()))
                .collect::<Vec<_>>(),
        );
        Status::with_error_details(Code::InvalidArgument, invalid.to_string(), details)
    }
}

impl From<StoreError> for Status {
    fn from(error: StoreError) -> Status {
        match error {
            StoreError::RevisionMismatch { .. } => Status::failed_precondition(error.to_string()),
            StoreError::SchemaTooNew { .. }
            | StoreError::Locked { .. }
            | StoreError::BadSchemaMarker { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Spool { .. }
            | StoreError::SpoolCorrupt { .. }
            | StoreError::Sled(_)
            | StoreError::Random(_) => {
                tracing::error!(%error, "storage failure");
                Status::internal("the server could not read or write its database; see its log")
            }
        }
    }
}

/// The build's own task logged the detail once; each call gets the short reason.
impl From<MemoryUnavailable> for Status {
    fn from(error: MemoryUnavailable) -> Status {
        match error {
            MemoryUnavailable::Store(_) => Status::internal(
                "the translation memory could not be loaded: a stored unit could not be read \
                 at start-up; see the server log",
            ),
            MemoryUnavailable::Panicked(_) => Status::internal(
                "the translation memory could not be loaded: its index build failed at \
                 start-up; see the server log",
            ),
            MemoryUnavailable::Stopped => Status::unavailable(
                "the server is shutting down before the translation memory was loaded",
            ),
        }
    }
}

/// A gRPC status code as the gRPC specification names it (`INVALID_ARGUMENT`), for messages
/// and JSON errors.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
