//! The one access check in front of every service: a tower layer, since only the HTTP
//! request still carries the method (a tonic interceptor sees the request without its URI).
//!
//! For each call it verifies the key sent as `authorization: Bearer <key>` or `x-api-key:
//! <key>`, finds the role the method needs in the server's table of RPCs (`rpc.rs`; deny by
//! default: a method not in the table is refused), compares roles, and leaves the [`Caller`] in the request's
//! extensions, where handlers read it with [`caller`] to check the collection or memory they
//! touch. Health (`grpc.health.v1.Health`) and reflection stay open to everyone. On a server
//! without keys every call is made as [`Caller::open`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::codegen::http;
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

use super::caller::Caller;
use super::keys::KeyRing;
use crate::app::{now_ms, AppError};
use crate::store::Role;

/// Methods every client may call, key or not: load balancers and tools must see health
/// and the API's shape.
const OPEN_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The caller the access layer verified for this call. Fails only on a server assembled
/// without [`AccessLayer`], which no call then gets past.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("the server checked no API key for this call"))
}

/// The layer checking every call against the keys of `KeyRing`.
#[derive(Clone)]
pub struct AccessLayer {
    keys: Arc<KeyRing>,
}

impl AccessLayer {
    /// A layer admitting calls by the keys in `keys`.
    pub fn new(keys: Arc<KeyRing>) -> AccessLayer {
        AccessLayer { keys }
    }
}

impl<S> Layer<S> for AccessLayer {
    type Service = AccessCheck<S>;

    fn layer(&self, inner: S) -> AccessCheck<S> {
        AccessCheck {
            inner,
            keys: Arc::clone(&self.keys),
        }
    }
}

/// The service [`AccessLayer`] wraps around the server's routes.
#[derive(Clone)]
pub struct AccessCheck<S> {
    inner: S,
    keys: Arc<KeyRing>,
}

impl<S> AccessCheck<S> {
    /// The caller of a call to `path` with these headers, `None` for an open method, or the
    /// status refusing it.
    fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<Option<Caller>, Status> {
        if OPEN_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
            return Ok(None);
        }
        let rpc = crate::rpc::of(path);
        let method = path.rsplit('/').next().unwrap_or(path);
        Ok(Some(admit(
            &self.keys,
            sent_key(headers),
            method,
            rpc.role,
        )?))
    }
}

/// The caller a call to `method`, which needs role `needed` (`None`: a method granted to no
/// key), carrying `key` is made as, or why it is refused. On an open server every call is
/// [`Caller::open`]. The one check of a key against a method, for gRPC, grpc-web and the JSON
/// API alike.
pub fn admit(
    keys: &KeyRing,
    key: Option<&str>,
    method: &str,
    needed: Option<Role>,
) -> Result<Caller, AppError> {
    if keys.is_open() {
        return Ok(Caller::open());
    }
    let Some(key) = key else {
        return Err(AppError::Unauthenticated {
            reason: "this server needs an API key: send `authorization: Bearer <key>` \
                     (the command line: --api-key or TOLMACH_API_KEY)"
                .into(),
        });
    };
    authorize(keys.verify(key, now_ms())?, method, needed)
}

/// `caller`, once its role is known to cover `method`, which needs `needed`.
pub fn authorize(caller: Caller, method: &str, needed: Option<Role>) -> Result<Caller, AppError> {
    let Some(needed) = needed else {
        return Err(AppError::PermissionDenied {
            message: format!("{method} is not a method this server grants to any key"),
        });
    };
    if !caller.role.includes(needed) {
        return Err(AppError::PermissionDenied {
            message: format!("{method} needs role {needed}; {}", caller.described()),
        });
    }
    Ok(caller)
}

/// The key string a call carries: `authorization: Bearer <key>`, else `x-api-key: <key>`.
pub fn sent_key(headers: &http::HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(key.trim())
        });
    bearer.or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

impl<S, B, R> Service<http::Request<B>> for AccessCheck<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.admit(request.uri().path(), request.headers()) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    request.extensions_mut().insert(caller);
                }
                // The clone is not ready; the instance that was polled ready serves this call.
                let ready = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, ready);
                Box::pin(inner.call(request))
            }
            Err(status) => Box::pin(std::future::ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_either_header_and_bearer_is_case_insensitive() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(sent_key(&headers), None);
        headers.insert("x-api-key", "tk_b".parse().unwrap());
        assert_eq!(sent_key(&headers), Some("tk_b"));
        headers.insert(http::header::AUTHORIZATION, "bearer tk_a".parse().unwrap());
        assert_eq!(sent_key(&headers), Some("tk_a"));
    }
}
