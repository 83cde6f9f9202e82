//! The one place where domain errors become gRPC statuses.
//!
//! Client mistakes get the precise code; faults of the server are logged with their detail
//! and answered `INTERNAL` with a short message, never `UNKNOWN`.

use tonic::Status;

use crate::store::StoreError;

impl From<StoreError> for Status {
    fn from(error: StoreError) -> Status {
        match error {
            StoreError::RevisionMismatch { .. } => Status::failed_precondition(error.to_string()),
            StoreError::SchemaTooNew { .. }
            | StoreError::Locked { .. }
            | StoreError::BadSchemaMarker { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Sled(_) => {
                tracing::error!(%error, "storage failure");
                Status::internal("the server could not read or write its database; see its log")
            }
        }
    }
}
