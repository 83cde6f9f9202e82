//! JSON errors: `{"error": {"code": "INVALID_ARGUMENT", "message": "…", "field": "text"}}`
//! with the HTTP status a browser or a plugin expects.
//!
//! An application error becomes a gRPC status first, through the one mapping there is
//! (`service/status.rs`), and the status becomes JSON here: the code's name as gRPC spells
//! it, the message, the first field a `BadRequest` detail names, and for
//! `RESOURCE_EXHAUSTED` the `RetryInfo` delay as a `Retry-After` header. So a refusal reads
//! the same whichever protocol the call came by.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::app::AppError;
use crate::service::code_name;

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Code,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error of `code` with its usual HTTP status.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            status: http_status(code),
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    /// The same error answered with HTTP status `status` (413 for a body over its bound).
    pub fn with_http_status(self, status: StatusCode) -> ApiError {
        ApiError { status, ..self }
    }

    /// The same error with its field `from` called `to`, as a route whose request names the
    /// field otherwise than the RPC's (Lookup's `text` is the query parameter `q`).
    pub fn rename_field(mut self, from: &str, to: &str) -> ApiError {
        if self.field.as_deref() == Some(from) {
            self.field = Some(to.to_owned());
        }
        self
    }

    /// `INVALID_ARGUMENT` naming `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(Code::InvalidArgument, message)
        }
    }
}

impl From<Status> for ApiError {
    fn from(status: Status) -> ApiError {
        let field = status
            .get_details_bad_request()
            .and_then(|bad| bad.field_violations.into_iter().next())
            .map(|violation| violation.field);
        let retry_after_secs = status
            .get_details_retry_info()
            .and_then(|info| info.retry_delay)
            .map(|delay| delay.as_secs() + u64::from(delay.subsec_nanos() > 0));
        ApiError {
            field,
            retry_after_secs,
            ..ApiError::new(status.code(), status.message())
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        Status::from(error).into()
    }
}

impl ApiError {
    /// The error's JSON body, `{"error": {…}}`; also the data of an SSE `error` event.
    pub fn to_json(&self) -> String {
        let body = Envelope {
            error: Body {
                code: code_name(self.code),
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        serde_json::to_string(&body).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.to_json(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// The HTTP status of a gRPC code, as gRPC's HTTP mapping (and grpc-gateway) gives it.
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::FailedPrecondition => StatusCode::PRECONDITION_FAILED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable | Code::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
