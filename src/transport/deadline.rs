//! Server-side deadlines: every unary call gets the server's default deadline, or the
//! client's `grpc-timeout` when that is shorter, and is answered `DEADLINE_EXCEEDED` once it
//! passes.
//!
//! The answer drops the handler's future, and with it the call's
//! [`Cancel`](crate::index::Cancel) guard ([`app::work`](crate::app::work)): the blocking work
//! behind a read sees the flag within a few thousand steps and stops, so the core and the
//! permit it held are free again. Streams (imports, exports) get only the client's deadline,
//! on their first answer; an upload's pace is the import's own business.
//!
//! tonic enforces a client's `grpc-timeout` itself too, outside this layer, but answers
//! `CANCELLED`; this layer fires a millisecond earlier so that the client hears the code the
//! gRPC specification gives a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, Request, Response};
use tonic::Status;
use tower::{Layer, Service};

use crate::rpc;

/// How much earlier than a client's `grpc-timeout` this layer answers (see the module docs).
const AHEAD_OF_TONIC: Duration = Duration::from_millis(1);

/// A tower layer that bounds each call's time (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    unary: Duration,
}

impl DeadlineLayer {
    /// Unary calls get at most `unary`, or the client's shorter deadline.
    pub fn new(unary: Duration) -> DeadlineLayer {
        DeadlineLayer { unary }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            unary: self.unary,
        }
    }
}

/// The service [`DeadlineLayer`] makes.
#[derive(Clone, Debug)]
pub struct Deadline<S> {
    inner: S,
    unary: Duration,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    R: Default + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let rpc = rpc::of(request.uri().path());
        let client = client_timeout(request.headers()).map(|t| t.saturating_sub(AHEAD_OF_TONIC));
        let server = rpc.unary.then_some(self.unary);
        let call = self.inner.call(request);
        let Some(limit) = [client, server].into_iter().flatten().min() else {
            return Box::pin(call);
        };
        Box::pin(async move {
            match tokio::time::timeout(limit, call).await {
                Ok(answer) => answer,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "{} did not finish within its deadline of {} ms; the server stopped its work",
                    rpc.name(),
                    limit.as_millis()
                ))
                .into_http()),
            }
        })
    }
}

/// The client's `grpc-timeout`: up to eight digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
/// A malformed value is no deadline, as tonic reads it.
fn client_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let unit_at = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at(unit_at);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-timeout", value.parse().expect("header value"));
        client_timeout(&headers)
    }

    #[test]
    fn grpc_timeout_values_are_read_in_their_units() {
        assert_eq!(timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(
            timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(timeout("7n"), Some(Duration::from_nanos(7)));
    }

    #[test]
    fn malformed_grpc_timeouts_are_no_deadline() {
        for value in ["", "S", "100", "123456789S", "1x", "-1S", "1.5S"] {
            assert_eq!(timeout(value), None, "{value:?}");
        }
        assert_eq!(client_timeout(&HeaderMap::new()), None);
    }
}
