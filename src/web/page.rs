//! The page's files, compiled into the binary and served to everyone (the page itself asks
//! for a login before it calls the API): `/`, `/app.js`, `/style.css`, `/favicon.svg`.
//!
//! Each answer carries a strict `Content-Security-Policy` (scripts, styles and calls from
//! this origin only; no framing, no `<base>`, forms only to this origin), `nosniff`,
//! `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`, and an `ETag` made of the
//! file's SHA-256: the browser revalidates each time (`no-cache`) and gets `304 Not
//! Modified` while the binary is unchanged, so a new version is never hidden by a cache.

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use super::Web;

/// The policy of every file of the page.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One file of the page.
struct File {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: LazyLock<HeaderValue>,
}

macro_rules! file {
    ($path:literal, $content_type:literal) => {
        File {
            bytes: include_bytes!($path),
            content_type: $content_type,
            etag: LazyLock::new(|| etag(include_bytes!($path))),
        }
    };
}

static INDEX: File = file!("page/index.html", "text/html; charset=utf-8");
static SCRIPT: File = file!("page/app.js", "text/javascript; charset=utf-8");
static STYLE: File = file!("page/style.css", "text/css; charset=utf-8");
static ICON: File = file!("page/favicon.svg", "image/svg+xml");

/// The routes of the page's files.
pub fn routes() -> Router<Web> {
    Router::new()
        .route("/", get(|headers: HeaderMap| serve(&INDEX, headers)))
        .route("/app.js", get(|headers: HeaderMap| serve(&SCRIPT, headers)))
        .route(
            "/style.css",
            get(|headers: HeaderMap| serve(&STYLE, headers)),
        )
        .route(
            "/favicon.svg",
            get(|headers: HeaderMap| serve(&ICON, headers)),
        )
}

async fn serve(file: &'static File, request: HeaderMap) -> Response {
    let etag = &*file.etag;
    let unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim().as_bytes() == etag.as_bytes() || tag.trim() == "*");
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.content_type),
            )],
            file.bytes,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A strong ETag: the first 128 bits of the content's SHA-256, in hex and quotes.
fn etag(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}
