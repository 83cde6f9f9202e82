//! The tonic services: proto ↔ domain conversion, request validation, and the mapping of
//! domain errors to gRPC statuses (`status.rs`). What a call does is the application layer's
//! ([`crate::app`]); generated proto types live here and go no deeper.

mod access;
pub mod codec;
mod convert;
mod exchange;
mod memory;
mod paging;
pub mod requests;
mod review;
mod status;
mod termbase;
mod watch;

pub use access::{key_to_proto, role_to_proto, AccessService};
pub use convert::{timestamp, MAX_OCCURRENCES};
pub use exchange::ExchangeService;
pub use memory::MemoryService;
pub use review::ReviewService;
pub use status::code_name;
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
