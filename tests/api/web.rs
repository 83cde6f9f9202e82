//! Browsers on the gRPC port: the page with its headers, grpc-web calls (framed by hand)
//! checked as native ones, the JSON API and its errors, login sessions, Bearer keys, CORS,
//! body bounds and permits — all over plain HTTP/1.1 against the real server.

use std::net::SocketAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use serde_json::{json, Value};
use tolmach::app::Limits;
use tolmach::auth::{NewKey, Role};
use tolmach::service::proto::access_client::AccessClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, LookupResponse, RecognizeRequest, RevokeKeyRequest};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::memory::{add, memory, unit};
use crate::transport::{admitted_again, long_article, one_recognize_with_a_short_deadline};
use crate::util::{concept, start_with_keys, store, TestServer};

/// An answer: status, headers, and the whole body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The JSON error's code and field.
    fn error(&self) -> (String, Option<String>) {
        let error = &self.json()["error"];
        (
            error["code"].as_str().expect("a code").to_owned(),
            error["field"].as_str().map(str::to_owned),
        )
    }
}

/// Sends `request` over HTTP/1.1 and reads the whole answer.
async fn send(request: Request<Full<Bytes>>) -> Answer {
    send_over(request, false).await
}

/// Sends `request` over HTTP/2 without TLS (`h2` with prior knowledge, as gRPC does) when
/// `h2`, else over HTTP/1.1, and reads the whole answer.
async fn send_over(request: Request<Full<Bytes>>, h2: bool) -> Answer {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(h2)
        .build_http();
    let response = client.request(request).await.expect("answered");
    assert_eq!(
        response.version(),
        if h2 {
            hyper::Version::HTTP_2
        } else {
            hyper::Version::HTTP_11
        }
    );
    read_whole(response).await
}

/// The whole of an answer.
async fn read_whole(response: hyper::Response<hyper::body::Incoming>) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("whole body")
        .to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

fn request(method: Method, addr: SocketAddr, path: &str) -> hyper::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut builder = request(Method::GET, addr, path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    send(builder.body(Full::default()).expect("request")).await
}

async fn post_json(addr: SocketAddr, path: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    let mut builder = request(Method::POST, addr, path).header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    send(
        builder
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request"),
    )
    .await
}

/// One gRPC message with its five-byte prefix.
fn frame(message: &impl Message) -> Vec<u8> {
    let bytes = message.encode_to_vec();
    let mut framed = vec![0];
    framed.extend((bytes.len() as u32).to_be_bytes());
    framed.extend(bytes);
    framed
}

/// A grpc-web answer: its messages and its status (from the trailers frame, or from the
/// headers of an answer without a body).
struct GrpcWeb {
    messages: Vec<Bytes>,
    status: i32,
    message: String,
}

fn grpc_web(answer: &Answer, body: &[u8]) -> GrpcWeb {
    assert_eq!(answer.status, StatusCode::OK, "grpc-web answers 200");
    let mut messages = Vec::new();
    let mut trailers = answer.headers.clone();
    let mut rest = body;
    while rest.len() >= 5 {
        let flag = rest[0];
        let length = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let payload = &rest[5..5 + length];
        if flag & 0x80 != 0 {
            for line in std::str::from_utf8(payload)
                .expect("trailers")
                .split("\r\n")
            {
                if let Some((name, value)) = line.split_once(':') {
                    trailers.insert(
                        header::HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
                        HeaderValue::from_str(value.trim()).expect("value"),
                    );
                }
            }
        } else {
            messages.push(Bytes::copy_from_slice(payload));
        }
        rest = &rest[5 + length..];
    }
    let text = |name: &str| {
        trailers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    GrpcWeb {
        messages,
        status: text("grpc-status").parse().expect("a grpc-status"),
        message: text("grpc-message"),
    }
}

/// A grpc-web call of `path` with `body` (a framed message), binary or base64 text.
async fn grpc_web_call(
    addr: SocketAddr,
    path: &str,
    message: &impl Message,
    text: bool,
    key: Option<&str>,
) -> GrpcWeb {
    let framed = frame(message);
    let (content_type, body) = if text {
        (
            "application/grpc-web-text",
            STANDARD.encode(&framed).into_bytes(),
        )
    } else {
        ("application/grpc-web+proto", framed)
    };
    let mut builder = request(Method::POST, addr, path)
        .header("content-type", content_type)
        .header("accept", content_type)
        .header("x-grpc-web", "1");
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    let answer = send(builder.body(Full::new(Bytes::from(body))).expect("request")).await;
    let body = if text {
        assert_eq!(
            answer.header("content-type"),
            "application/grpc-web-text+proto"
        );
        decode_chunks(&answer.body)
    } else {
        answer.body.clone()
    };
    grpc_web(&answer, &body)
}

/// A `grpc-web-text` body: base64 chunks, each padded on its own, one after the other.
fn decode_chunks(text: &[u8]) -> Bytes {
    let mut decoded = Vec::new();
    let mut chunk = Vec::new();
    for group in text.chunks(4) {
        chunk.extend_from_slice(group);
        if group.contains(&b'=') {
            decoded.extend(STANDARD.decode(&chunk).expect("base64 chunk"));
            chunk.clear();
        }
    }
    decoded.extend(STANDARD.decode(&chunk).expect("base64 chunk"));
    Bytes::from(decoded)
}

fn key(name: &str, role: Role, collections: &[&str]) -> NewKey {
    NewKey {
        name: name.into(),
        role,
        collections: collections.iter().map(|c| c.to_string()).collect(),
        memories: Vec::new(),
        expires_ms: None,
    }
}

/// Stores a concept of collection `test` named in English and Russian.
async fn store_quokka(client: &mut TermbaseClient<Channel>) {
    let names = [("en", "Quokka Accord"), ("ru", "Соглашение Квокка")];
    store(client, concept("quokka", &names)).await;
}

/// The `name=value` part of a `Set-Cookie` header.
fn cookie_of(answer: &Answer) -> String {
    let set = answer.header("set-cookie");
    set.split(';').next().expect("name=value").to_owned()
}

#[tokio::test]
async fn the_page_is_served_over_http1_with_its_security_and_cache_headers() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let page = get(addr, "/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page
        .header("content-security-policy")
        .contains("default-src 'self'"));
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("x-frame-options"), "DENY");
    let etag = page.header("etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");

    let again = get(addr, "/", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let script = get(addr, "/app.js", &[]).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert_ne!(script.header("etag"), etag, "each file has its own tag");
    let style = get(addr, "/style.css", &[]).await;
    assert!(style.header("content-type").starts_with("text/css"));
    assert_eq!(
        get(addr, "/nothing", &[]).await.status,
        StatusCode::NOT_FOUND
    );

    // Native gRPC on the same port, beside HTTP/1.1.
    let mut client = server.client().await;
    let hits = crate::util::lookup_text(&mut client, "SCO").await.hits;
    assert!(!hits.is_empty());
}

#[tokio::test]
async fn the_page_json_and_grpc_web_answer_over_h2_too() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let page = send_over(
        request(Method::GET, addr, "/")
            .body(Full::default())
            .expect("request"),
        true,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("x-frame-options"), "DENY");
    let json = send_over(
        request(Method::POST, addr, "/api/recognize")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(r#"{"text": "SCO summit"}"#)))
            .expect("request"),
        true,
    )
    .await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(!json.json()["occurrences"]
        .as_array()
        .expect("list")
        .is_empty());
    let lookup = LookupRequest {
        text: "SCO".into(),
        ..Default::default()
    };
    let over_h2 = send_over(
        request(Method::POST, addr, "/tolmach.v1.Termbase/Lookup")
            .header("content-type", "application/grpc-web+proto")
            .body(Full::new(Bytes::from(frame(&lookup))))
            .expect("request"),
        true,
    )
    .await;
    let answer = grpc_web(&over_h2, &over_h2.body);
    assert_eq!(answer.status, 0, "{}", answer.message);
    assert_eq!(answer.messages.len(), 1);
}

#[tokio::test]
async fn a_grpc_web_call_is_answered_in_binary_and_text_with_its_trailers() {
    let server = TestServer::start().await;
    let lookup = LookupRequest {
        text: "SCO".into(),
        ..Default::default()
    };
    for text in [false, true] {
        let answer = grpc_web_call(
            server.server.addr,
            "/tolmach.v1.Termbase/Lookup",
            &lookup,
            text,
            None,
        )
        .await;
        assert_eq!(answer.status, 0, "text {text}: {}", answer.message);
        assert_eq!(answer.messages.len(), 1);
        let reply = LookupResponse::decode(answer.messages[0].clone()).expect("a reply");
        assert!(!reply.hits.is_empty(), "text {text}");
    }
}

#[tokio::test]
async fn grpc_web_calls_meet_the_keys_and_bounds_of_native_ones() {
    let (server, secrets) = start_with_keys(vec![key("desk", Role::Reader, &[])]).await;
    let addr = server.server.addr;
    let lookup = LookupRequest {
        text: "SCO".into(),
        ..Default::default()
    };
    for text in [false, true] {
        let refused = grpc_web_call(addr, "/tolmach.v1.Termbase/Lookup", &lookup, text, None).await;
        assert_eq!(refused.status, tonic::Code::Unauthenticated as i32);
        let admitted = grpc_web_call(
            addr,
            "/tolmach.v1.Termbase/Lookup",
            &lookup,
            text,
            Some(&secrets[0]),
        )
        .await;
        assert_eq!(admitted.status, 0, "{}", admitted.message);

        // Recognize takes 1 MiB + 256 KiB; this message is over it, in either encoding.
        let oversized = RecognizeRequest {
            text: "a".repeat(1536 * 1024),
            ..Default::default()
        };
        let refused = grpc_web_call(
            addr,
            "/tolmach.v1.Termbase/Recognize",
            &oversized,
            text,
            Some(&secrets[0]),
        )
        .await;
        assert_eq!(
            refused.status,
            tonic::Code::ResourceExhausted as i32,
            "text {text}: {}",
            refused.message
        );
        assert!(refused.message.contains("Recognize"), "{}", refused.message);
    }
}

#[tokio::test]
async fn recognize_answers_each_concept_once_and_utf16_spans() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_quokka(&mut client).await;
    // Each emoji is two UTF-16 units and four UTF-8 bytes.
    let text = "😀😀 Quokka Accord, 🇨🇳 Соглашение Квокка.";
    let answer = post_json(
        server.server.addr,
        "/api/recognize",
        &json!({"text": text, "collections": ["test"]}),
        &[],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let reply = answer.json();
    let occurrences = reply["occurrences"].as_array().expect("occurrences");
    assert_eq!(occurrences.len(), 2, "{reply}");
    let utf16: Vec<u16> = text.encode_utf16().collect();
    for occurrence in occurrences {
        let (start, end) = (
            occurrence["start"].as_u64().expect("start") as usize,
            occurrence["end"].as_u64().expect("end") as usize,
        );
        assert_eq!(
            String::from_utf16(&utf16[start..end]).expect("whole characters"),
            occurrence["surface"].as_str().expect("surface"),
        );
        assert_eq!(occurrence["concept"], "quokka");
        assert_eq!(occurrence["status"], "preferred");
    }
    assert_eq!(occurrences[0]["start"], 5);
    assert_eq!(occurrences[0]["lang"], "en");
    assert_eq!(occurrences[1]["lang"], "ru");
    let concepts = reply["concepts"].as_object().expect("concepts");
    assert_eq!(concepts.len(), 1);
    assert_eq!(
        concepts["quokka"]["terms"]["ru"][0]["text"],
        "Соглашение Квокка"
    );
    assert_eq!(reply["omitted"], 0);
}

#[tokio::test]
async fn lookup_search_and_info_answer_in_the_contracts_shape() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let mut client = server.client().await;
    store(
        &mut client,
        concept("quokka", &[("en", "Quokka Accord"), ("zh", "袋鼠协定")]),
    )
    .await;

    let lookup = get(addr, "/api/lookup?q=Quokka%20Accord&limit=3", &[]).await;
    assert_eq!(lookup.status, StatusCode::OK);
    let hit = &lookup.json()["hits"][0];
    assert_eq!(hit["concept"], "quokka");
    assert_eq!(hit["kind"], "exact");
    let zh = hit["renderings"]
        .as_array()
        .expect("renderings")
        .iter()
        .find(|r| r["lang"] == "zh")
        .expect("a Chinese rendering");
    assert_eq!(zh["text"], "袋鼠协定");
    assert!(!zh["pinyin"].as_str().expect("pinyin").is_empty());

    server.server.memory_ready().await.expect("memory loads");
    let mut memory = memory(&server).await;
    add(
        &mut memory,
        "news",
        vec![unit(
            "u1",
            &[
                ("en", "The 😀 summit opens on Monday."),
                ("ru", "Саммит открывается в понедельник."),
            ],
        )],
    )
    .await;
    let text = "The 😀 summit opens on Tuesday.";
    let search = post_json(
        addr,
        "/api/search",
        &json!({"text": text, "source_lang": "en", "target_lang": "ru"}),
        &[],
    )
    .await;
    assert_eq!(search.status, StatusCode::OK);
    let best = &search.json()["matches"][0];
    assert_eq!(best["unit_id"], "u1");
    assert_eq!(best["memory"], "news");
    let score = best["score"].as_u64().expect("an integer percent");
    assert!((50..100).contains(&score), "{score}");
    let diff = best["diffs"]
        .as_array()
        .expect("diffs")
        .iter()
        .find(|d| d["kind"] == "replaced")
        .expect("the day replaced");
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let range = |value: &Value| {
        (
            value[0].as_u64().expect("start") as usize,
            value[1].as_u64().expect("end") as usize,
        )
    };
    let (start, end) = range(&diff["query"]);
    assert_eq!(
        String::from_utf16(&utf16[start..end]).expect("text"),
        "Tuesday"
    );

    let info = get(addr, "/api/info", &[]).await.json();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(info["concepts"].as_u64().expect("count") > 1);
    let collections = info["collections"].as_array().expect("collections");
    assert!(collections.contains(&json!("test")), "{info}");
    assert_eq!(info["memories"], json!(["news"]));
    assert_eq!(info["languages"], json!(["zh", "ru", "en"]));
}

#[tokio::test]
async fn json_errors_name_the_code_and_field() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let empty = post_json(addr, "/api/recognize", &json!({"text": " "}), &[]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.error(),
        ("INVALID_ARGUMENT".into(), Some("text".into()))
    );

    let bad_lang = post_json(
        addr,
        "/api/recognize",
        &json!({"text": "SCO", "lang": "no such"}),
        &[],
    )
    .await;
    assert_eq!(
        bad_lang.error(),
        ("INVALID_ARGUMENT".into(), Some("lang".into()))
    );

    let no_query = get(addr, "/api/lookup", &[]).await;
    assert_eq!(
        no_query.error(),
        ("INVALID_ARGUMENT".into(), Some("q".into()))
    );

    let missing_field = post_json(addr, "/api/search", &json!({"text": "x"}), &[]).await;
    assert_eq!(missing_field.status, StatusCode::BAD_REQUEST);

    // A form post cannot send JSON: refused before anything is read.
    let form = send(
        request(Method::POST, addr, "/api/recognize")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from("text=SCO")))
            .expect("request"),
    )
    .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(form.error().0, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_body_over_its_routes_bound_is_413_and_a_busy_server_429() {
    let server = TestServer::start_with(Limits {
        recognize: 0,
        ..Limits::default()
    })
    .await;
    let addr = server.server.addr;
    // Search takes 256 KiB, as its RPC.
    let large = post_json(
        addr,
        "/api/search",
        &json!({"text": "a".repeat(300 * 1024), "source_lang": "en", "target_lang": "ru"}),
        &[],
    )
    .await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(large.error().0, "RESOURCE_EXHAUSTED");

    let busy = post_json(addr, "/api/recognize", &json!({"text": "SCO"}), &[]).await;
    assert_eq!(busy.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(busy.error().0, "RESOURCE_EXHAUSTED");
    assert_eq!(busy.header("retry-after"), "1");
}

#[tokio::test]
async fn a_json_call_past_the_deadline_is_504_and_its_work_stops() {
    let server = one_recognize_with_a_short_deadline().await;
    let late = post_json(
        server.server.addr,
        "/api/recognize",
        &json!({"text": long_article()}),
        &[],
    )
    .await;
    assert_eq!(late.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(late.error().0, "DEADLINE_EXCEEDED");
    let mut client = server.client().await;
    assert!(
        admitted_again(&mut client).await,
        "the stopped work gave its permit back"
    );
}

#[tokio::test]
async fn a_session_cookie_stands_for_its_key_until_logout() {
    let (server, secrets) =
        start_with_keys(vec![key("desk-7", Role::Reader, &["sco-glossary"])]).await;
    let addr = server.server.addr;
    let recognize = json!({"text": "SCO summit"});

    assert_eq!(
        get(addr, "/", &[]).await.status,
        StatusCode::OK,
        "the page is open"
    );
    let anonymous = get(addr, "/api/session", &[]).await.json();
    assert_eq!(anonymous["open"], false);
    assert_eq!(anonymous["authenticated"], false);
    let refused = post_json(addr, "/api/recognize", &recognize, &[]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.error().0, "UNAUTHENTICATED");

    let wrong = post_json(addr, "/api/session", &json!({"key": "tk_nope"}), &[]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.header("set-cookie"), "");

    let login = post_json(addr, "/api/session", &json!({"key": secrets[0]}), &[]).await;
    assert_eq!(login.status, StatusCode::OK);
    let set_cookie = login.header("set-cookie").to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let cookie = cookie_of(&login);
    assert!(cookie.len() > "tolmach_session=".len() + 40, "{cookie}");

    let state = get(addr, "/api/session", &[("cookie", &cookie)])
        .await
        .json();
    assert_eq!(state["authenticated"], true);
    assert_eq!(state["key_name"], "desk-7");
    assert_eq!(state["role"], "reader");
    assert_eq!(state["collections"], json!(["sco-glossary"]));
    let admitted = post_json(addr, "/api/recognize", &recognize, &[("cookie", &cookie)]).await;
    assert_eq!(admitted.status, StatusCode::OK);
    // The session carries the key's scope.
    let outside = post_json(
        addr,
        "/api/recognize",
        &json!({"text": "SCO", "collections": ["other"]}),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);

    let logout = send(
        request(Method::DELETE, addr, "/api/session")
            .header("cookie", &cookie)
            .body(Full::default())
            .expect("request"),
    )
    .await;
    assert_eq!(logout.status, StatusCode::OK);
    assert!(logout.header("set-cookie").contains("Max-Age=0"));
    let after = post_json(addr, "/api/recognize", &recognize, &[("cookie", &cookie)]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_keys_session_and_bearer_are_refused() {
    let (server, secrets) = start_with_keys(vec![
        key("chief", Role::Admin, &[]),
        key("desk-7", Role::Reader, &[]),
    ])
    .await;
    let addr = server.server.addr;
    let recognize = json!({"text": "SCO summit"});
    let bearer = format!("Bearer {}", secrets[1]);
    let login = post_json(addr, "/api/session", &json!({"key": secrets[1]}), &[]).await;
    let cookie = cookie_of(&login);
    for headers in [
        [("cookie", cookie.as_str())],
        [("authorization", bearer.as_str())],
    ] {
        let answer = post_json(addr, "/api/recognize", &recognize, &headers).await;
        assert_eq!(answer.status, StatusCode::OK, "{headers:?}");
    }

    let mut admin = AccessClient::with_interceptor(server.channel().await, {
        let value: MetadataValue<_> = format!("Bearer {}", secrets[0]).parse().expect("ASCII");
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
            Ok(request)
        }
    });
    admin
        .revoke_key(RevokeKeyRequest {
            name: "desk-7".into(),
        })
        .await
        .expect("revoked");

    for headers in [
        [("cookie", cookie.as_str())],
        [("authorization", bearer.as_str())],
    ] {
        let answer = post_json(addr, "/api/recognize", &recognize, &headers).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{headers:?}");
    }
    let state = get(addr, "/api/session", &[("cookie", &cookie)])
        .await
        .json();
    assert_eq!(state["authenticated"], false);
}

#[tokio::test]
async fn an_open_server_needs_no_login() {
    let server = TestServer::start().await;
    let state = get(server.server.addr, "/api/session", &[]).await.json();
    assert_eq!(state["open"], true);
    assert_eq!(state["authenticated"], true);
    assert_eq!(state["role"], "admin");
}

/// A CORS preflight from `origin` for a POST with these request headers.
async fn preflight(addr: SocketAddr, path: &str, origin: &str, headers: &str) -> Answer {
    send(
        request(Method::OPTIONS, addr, path)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
            .body(Full::default())
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn cors_lets_only_the_configured_origins_call() {
    let origin = "https://cms.example.org";
    let server = TestServer::start_configured(|config| {
        config.cors_origins = vec![origin.to_owned()];
    })
    .await;
    let addr = server.server.addr;
    let answer = preflight(
        addr,
        "/tolmach.v1.Termbase/Lookup",
        origin,
        "content-type,x-grpc-web,x-user-agent,grpc-timeout,authorization",
    )
    .await;
    assert!(answer.status.is_success(), "{}", answer.status);
    assert_eq!(answer.header("access-control-allow-origin"), origin);
    let allowed = answer.header("access-control-allow-headers").to_lowercase();
    for name in ["x-grpc-web", "authorization", "x-api-key", "grpc-timeout"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert_eq!(answer.header("access-control-allow-credentials"), "");

    let json_preflight = preflight(addr, "/api/recognize", origin, "content-type").await;
    assert_eq!(json_preflight.header("access-control-allow-origin"), origin);

    let call = post_json(
        addr,
        "/api/recognize",
        &json!({"text": "SCO"}),
        &[("origin", origin)],
    )
    .await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(call.header("access-control-allow-origin"), origin);
    assert!(call
        .header("access-control-expose-headers")
        .contains("grpc-status"));

    let stranger = preflight(
        addr,
        "/api/recognize",
        "https://evil.example",
        "content-type",
    )
    .await;
    assert_eq!(stranger.header("access-control-allow-origin"), "");

    let unconfigured = TestServer::start().await;
    let answer = preflight(
        unconfigured.server.addr,
        "/api/recognize",
        origin,
        "content-type",
    )
    .await;
    assert_eq!(answer.header("access-control-allow-origin"), "");
}

/// One server-sent event.
#[derive(Debug)]
struct SseEvent {
    id: Option<u64>,
    event: String,
    data: Value,
}

/// An open event stream and what of it is not read yet.
struct EventStream {
    body: hyper::body::Incoming,
    pending: String,
}

impl EventStream {
    /// The next event, skipping keep-alive comments; the stream must not end first.
    async fn next(&mut self) -> SseEvent {
        for _ in 0..1000 {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|line| line.strip_prefix(name))
                        .map(|value| value.trim().to_owned())
                };
                let Some(event) = field("event:") else {
                    continue;
                };
                return SseEvent {
                    id: field("id:").map(|id| id.parse().expect("a revision")),
                    event,
                    data: serde_json::from_str(&field("data:").expect("data")).expect("JSON"),
                };
            }
            let frame = tokio::time::timeout(Duration::from_secs(30), self.body.frame())
                .await
                .expect("an event within 30 s")
                .expect("the stream goes on")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.pending
                    .push_str(std::str::from_utf8(&data).expect("UTF-8 events"));
            }
        }
        panic!("no event in 1000 frames");
    }
}

/// Opens `GET /api/events?query` with these headers: the stream, or the refusal.
async fn open_events(
    addr: SocketAddr,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<EventStream, Answer> {
    let mut builder = request(Method::GET, addr, &format!("/api/events?{query}"))
        .header("accept", "text/event-stream");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(builder.body(Full::default()).expect("request"))
        .await
        .expect("answered");
    if response.status() != StatusCode::OK {
        return Err(read_whole(response).await);
    }
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/event-stream"));
    Ok(EventStream {
        body: response.into_body(),
        pending: String::new(),
    })
}

#[tokio::test]
async fn events_stream_changes_with_revision_ids_and_resume_after_last_event_id() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let mut client = server.client().await;
    store(&mut client, concept("quokka", &[("en", "Quokka Accord")])).await;

    // A snapshot of the collection: its concepts without ids, then its end with one.
    let mut snapshot = open_events(addr, "snapshot=true&collections=test", &[])
        .await
        .unwrap_or_else(|answer| panic!("{}", answer.json()));
    let first = snapshot.next().await;
    assert_eq!(first.event, "snapshot_concept");
    assert_eq!(first.id, None, "a snapshot is resumed only from its end");
    assert_eq!(first.data["concept"]["id"], "quokka");
    let end = snapshot.next().await;
    assert_eq!(end.event, "snapshot_end");
    let start = end.id.expect("the revision to resume after");

    // Changes from there on, each with its revision.
    store(&mut client, concept("wombat", &[("en", "Wombat Treaty")])).await;
    let upserted = snapshot.next().await;
    assert_eq!(upserted.event, "concept_upserted");
    assert_eq!(upserted.data["concept"]["id"], "wombat");
    assert_eq!(
        upserted.data["concept"]["terms"]["en"][0]["text"],
        "Wombat Treaty"
    );
    let revision = upserted.id.expect("a revision");
    assert!(revision > start);
    drop(snapshot);

    // A browser reconnecting after the snapshot's end gets exactly the change it missed,
    // whatever the query says.
    let start_id = start.to_string();
    let mut resumed = open_events(addr, "snapshot=true", &[("last-event-id", &start_id)])
        .await
        .unwrap_or_else(|answer| panic!("{}", answer.json()));
    let again = resumed.next().await;
    assert_eq!(
        (again.event.as_str(), again.id),
        ("concept_upserted", Some(revision))
    );
    assert_eq!(again.data["concept"]["id"], "wombat");
}

#[tokio::test]
async fn events_refuse_bad_tokens_before_the_stream_and_need_a_key() {
    let (server, secrets) = start_with_keys(vec![key("desk-7", Role::Reader, &[])]).await;
    let addr = server.server.addr;
    let bearer = format!("Bearer {}", secrets[0]);
    let refused = open_events(addr, "", &[]).await.err().expect("no key");
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let garbage = open_events(
        addr,
        "",
        &[("authorization", &bearer), ("last-event-id", "x")],
    )
    .await
    .err()
    .expect("a bad id");
    assert_eq!(
        garbage.error(),
        ("INVALID_ARGUMENT".into(), Some("Last-Event-ID".into()))
    );
    let future = open_events(addr, "after=999999999", &[("authorization", &bearer)])
        .await
        .err()
        .expect("a revision not reached");
    assert_eq!(
        future.error(),
        ("INVALID_ARGUMENT".into(), Some("after".into()))
    );
    assert!(open_events(addr, "", &[("authorization", &bearer)])
        .await
        .is_ok());
}

#[tokio::test]
async fn check_reports_findings_with_utf16_places_and_names_a_bad_pair_field() {
    let server = TestServer::start().await;
    let addr = server.server.addr;
    let mut client = server.client().await;
    store_quokka(&mut client).await;
    let source = "The 😀 Quokka Accord was signed by 5 states.";
    let answer = post_json(
        addr,
        "/api/check",
        &json!({
            "pairs": [{"id": "p1", "source_text": source, "source_lang": "en",
                       "target_text": "Договор подписали 6 государств.", "target_lang": "ru"}],
            "collections": ["test"],
        }),
        &[],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let reply = answer.json();
    assert_eq!(reply["pairs"][0]["id"], "p1");
    let findings = reply["pairs"][0]["findings"].as_array().expect("findings");
    let missing = findings
        .iter()
        .find(|f| f["kind"] == "missing_term")
        .unwrap_or_else(|| panic!("a missing term in {reply}"));
    assert_eq!(missing["concept"], "quokka");
    assert_eq!(missing["severity"], "warning");
    assert_eq!(missing["target"], Value::Null);
    assert_eq!(missing["expected"], json!(["Соглашение Квокка"]));
    let utf16: Vec<u16> = source.encode_utf16().collect();
    let (start, end) = (
        missing["source"]["start"].as_u64().expect("start") as usize,
        missing["source"]["end"].as_u64().expect("end") as usize,
    );
    assert_eq!(start, 7, "after an emoji of two UTF-16 units");
    assert_eq!(
        String::from_utf16(&utf16[start..end]).expect("text"),
        "Quokka Accord"
    );
    let counted =
        reply["errors"].as_u64().expect("errors") + reply["warnings"].as_u64().expect("warnings");
    assert_eq!(counted as usize, findings.len());

    let bad = post_json(
        addr,
        "/api/check",
        &json!({"pairs": [{"source_text": "x", "source_lang": "klingon!", "target_lang": "ru"}]}),
        &[],
    )
    .await;
    assert_eq!(
        bad.error(),
        (
            "INVALID_ARGUMENT".into(),
            Some("pairs[0].source_lang".into())
        )
    );
}
