//! Read-your-writes across the nodes of a cluster. Every gRPC answer of a cluster node
//! carries the `tolmach-revision` header: the sequence of the last entry of the replicated
//! log this node had applied when it answered (after a write, at least that write's entry).
//! A call carrying `tolmach-min-revision: N` is served only once the node has applied entry
//! N; a node that does not get there within [`MAX_WAIT`] (or the call's deadline, which the
//! deadline layer outside this one enforces) answers `UNAVAILABLE` with how far it is,
//! rather than data older than the client has seen. A value that is not a number is
//! `INVALID_ARGUMENT`.
//!
//! A single server has no such revision: without a cluster the layer passes calls through.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use tokio::sync::watch;
use tonic::Status;
use tower::{Layer, Service};

/// The request header naming the least revision the answer must reflect.
pub const MIN_REVISION_HEADER: &str = "tolmach-min-revision";

/// The response header giving the revision the node had applied when it answered.
pub const REVISION_HEADER: &str = "tolmach-revision";

/// The longest a call waits for its node to reach its minimum revision.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// A tower layer adding the revision headers (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct RevisionLayer {
    applied: Option<watch::Receiver<u64>>,
}

impl RevisionLayer {
    /// Revisions from `applied`, the last entry of the log the node applied; `None` for a
    /// single server, where the layer does nothing.
    pub fn new(applied: Option<watch::Receiver<u64>>) -> RevisionLayer {
        RevisionLayer { applied }
    }
}

impl<S> Layer<S> for RevisionLayer {
    type Service = Revision<S>;

    fn layer(&self, inner: S) -> Revision<S> {
        Revision {
            inner,
            applied: self.applied.clone(),
        }
    }
}

/// The service [`RevisionLayer`] makes.
#[derive(Clone, Debug)]
pub struct Revision<S> {
    inner: S,
    applied: Option<watch::Receiver<u64>>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<Request<B>> for Revision<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let Some(mut applied) = self.applied.clone() else {
            return Box::pin(self.inner.call(request));
        };
        let wanted = match min_revision(&request) {
            Ok(wanted) => wanted,
            Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
        };
        // The ready service is the one that must take this call (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            if let Some(wanted) = wanted {
                let reached = tokio::time::timeout(MAX_WAIT, applied.wait_for(|&at| at >= wanted))
                    .await
                    .is_ok_and(|waited| waited.is_ok());
                if !reached {
                    let at = *applied.borrow();
                    return Ok(Status::unavailable(format!(
                        "this node has applied revision {at}, not yet the {wanted} the call \
                         asked for ({MIN_REVISION_HEADER}); try again or ask another node"
                    ))
                    .into_http());
                }
            }
            let mut answer = inner.call(request).await?;
            let at = *applied.borrow();
            answer
                .headers_mut()
                .insert(REVISION_HEADER, HeaderValue::from(at));
            Ok(answer)
        })
    }
}

/// The call's minimum revision, if it gives one.
fn min_revision<B>(request: &Request<B>) -> Result<Option<u64>, Status> {
    let Some(value) = request.headers().get(MIN_REVISION_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            Status::invalid_argument(format!(
                "{MIN_REVISION_HEADER} must be a revision number (a tolmach-revision header's \
                 value), not {value:?}"
            ))
        })
}
