//! The transport: everything between a TCP socket and the gRPC services, and the limits that
//! make the port safe to expose. Nothing here knows what a call does.
//!
//! - [`tls`]: the server's certificate and key, and client certificates required of peers;
//! - [`incoming`]: the listening socket, with a cap on open connections and a pause after
//!   accept errors such as running out of file descriptors;
//! - [`request_size`]: each RPC's largest request message, enforced while the body is read;
//! - [`deadline`]: the server's default deadline for unary calls, answered
//!   `DEADLINE_EXCEEDED`, which also stops the blocking work behind the call;
//! - [`revision`]: in cluster mode, the node's revision on every answer and calls that wait
//!   for a minimum revision (read-your-writes across nodes);
//! - [`open_files`]: the soft open-files limit raised to the hard one at start;
//! - `rpc`: the per-RPC table the layers read.
//!
//! [`TransportLimits`] gathers the numbers; `server.rs` applies them with [`builder`].

pub mod deadline;
pub mod incoming;
pub mod open_files;
pub mod request_size;
pub mod revision;
pub mod tls;

use std::time::Duration;

use tonic::transport::Server;

pub use deadline::DeadlineLayer;
pub use incoming::Incoming;
pub use open_files::raise_open_files_limit;
pub use request_size::RequestSizeLayer;
pub use revision::RevisionLayer;
pub use tls::{TlsError, TlsFiles};

/// The largest answer message the server sends: what gRPC clients accept by default (tonic,
/// grpc-go, grpcio), so that an answer too large fails on the server with its reason rather
/// than in the client as "message length too large".
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The transport's limits, part of the server's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportLimits {
    /// Connections open at once; one more is closed as soon as it is accepted. Each idle
    /// HTTP/2 connection costs some tens of KiB.
    pub max_connections: usize,
    /// Calls in flight at once on one connection (HTTP/2 `MAX_CONCURRENT_STREAMS`).
    pub max_streams_per_connection: u32,
    /// How often an idle connection is pinged; a peer that does not answer within
    /// `keepalive_timeout` is dropped (a laptop closed, a cable pulled).
    pub keepalive_interval: Duration,
    /// How long a ping may go unanswered.
    pub keepalive_timeout: Duration,
    /// The deadline of a unary call when the client sets none or a longer one.
    pub call_deadline: Duration,
}

impl Default for TransportLimits {
    /// 4 096 connections: twice the 2 000 idle ones a newsroom's clients and tools were seen
    /// to hold, each HTTP/2 connection some tens of KiB. 128 calls per connection: more than
    /// a client's heavy calls are admitted at once (`app::Limits`). Pings every 60 s, 20 s
    /// to answer. Calls end after 60 s: a Stats over millions of units takes seconds.
    fn default() -> TransportLimits {
        TransportLimits {
            max_connections: 4096,
            max_streams_per_connection: 128,
            keepalive_interval: Duration::from_secs(60),
            keepalive_timeout: Duration::from_secs(20),
            call_deadline: Duration::from_secs(60),
        }
    }
}

/// A tonic server builder with `limits`' HTTP/2 settings, taking HTTP/1.1 too (grpc-web,
/// the page and the JSON API). Its layers are applied per service by `server.rs`, inside
/// grpc-web's translation, so that a grpc-web call meets them as a native one does: see
/// [`DeadlineLayer`] and [`RequestSizeLayer`].
pub fn builder(limits: &TransportLimits) -> Server {
    Server::builder()
        .accept_http1(true)
        .max_concurrent_streams(limits.max_streams_per_connection)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
}

/// The decoding limit for the tonic server of `service` (`tolmach.v1.Memory`): its largest
/// RPC's request bound.
pub fn max_request_bytes(service: &str) -> usize {
    crate::rpc::largest_request(service)
}
