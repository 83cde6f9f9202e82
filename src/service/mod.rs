//! The tonic services: request validation, calls into store and index, mapping of domain
//! errors to gRPC statuses. Generated proto types live here and go no deeper.

pub mod codec;
mod convert;
mod exchange;
mod memory;
mod paging;
mod status;
mod termbase;
mod validate;

pub use exchange::ExchangeService;
pub use memory::{MemoryLoader, MemoryReadiness, MemoryService, MemoryUnavailable, StopLoading};
pub use termbase::TermbaseService;

/// Generated messages, clients and servers of package `tolmach.v1`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("tolmach.v1");

    /// The encoded descriptor set of every Tolmach proto, for server reflection and for
    /// printing messages as proto3 JSON.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("tolmach_descriptor");
}

/// Runs CPU-bound work (a search, a long text to scan, an index update) on the blocking pool,
/// so that it does not stall the other requests on an async worker; a panic in it is a server
/// fault (`INTERNAL`).
pub(crate) async fn off_workers<R: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, tonic::Status> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| tonic::Status::internal(format!("{what} failed: {e}")))
}

/// Milliseconds since the Unix epoch, for record timestamps.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
