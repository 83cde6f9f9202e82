//! The one place where domain errors become gRPC statuses.
//!
//! Client mistakes get the precise code; faults of the server are logged with their detail
//! and answered `INTERNAL` with a short message, never `UNKNOWN`.

use tonic::Status;

use super::MemoryUnavailable;
use crate::store::StoreError;

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
            | StoreError::Sled(_) => {
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
