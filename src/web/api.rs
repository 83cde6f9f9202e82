//! The JSON API: the contract the page (and editor plugins in web CMSs) are written against.
//!
//! Every route but the session's needs a caller: the session cookie, or `Authorization:
//! Bearer tk_…` (plugins; also `x-api-key`). On a server without keys every call is open.
//! Each route stands for an RPC (`rpc.rs`), whose role it needs, whose request bound limits
//! its body (413 above it) and whose deadline it gets (504); the heavy ones take the same
//! permits as the RPC (429 with `Retry-After` when none is free). Bodies are JSON, sent as
//! `Content-Type: application/json` (415 otherwise). Offsets into texts are UTF-16 code
//! units, the indexes of JavaScript strings.
//!
//! Errors, whatever the route: HTTP 400/401/403/404/413/415/429/503/504 with
//! `{"error": {"code": "INVALID_ARGUMENT", "message": "…", "field": "text"}}` — `code` as
//! gRPC names it, `field` only when one field is at fault.
//!
//! `POST /api/session` `{"key": "tk_…"}` → the session (below), with
//! `Set-Cookie: tolmach_session=…; HttpOnly; SameSite=Strict; Path=/` (`; Secure` under TLS).
//! A wrong key: 401. On an open server no session is needed: the answer says `"open": true`
//! and sets no cookie.
//!
//! `GET /api/session` → `{"open": bool, "authenticated": bool, "key_name": "desk-7",
//! "role": "reader|editor|admin", "collections": ["news"]}`: `open` when the server has no
//! keys (then `authenticated` is true, `key_name` empty, `role` admin); `authenticated` when
//! the cookie's session (or the Bearer key) is valid now; `collections` empty = every one.
//!
//! `DELETE /api/session` → `{"open": …, "authenticated": false, …}`, the session ended and
//! the cookie cleared.
//!
//! `POST /api/recognize` `{"text": "…", "lang": "", "target_langs": [], "collections": []}`
//! (all but `text` optional: `lang` empty = terms of every language; `target_langs` empty =
//! every language in `concepts[…].terms`; `collections` empty = every one the caller sees) →
//!
//! ```json
//! {"concepts": {"sco": {"id": "sco", "collection": "glossary", "subject_field": "…",
//!                       "definition": {"en": "…"},
//!                       "terms": {"zh": [{"text": "上海合作组织", "status": "preferred",
//!                                         "type": "fullForm", "note": ""}], "ru": […], "en": […]}}},
//!  "occurrences": [{"start": 0, "end": 6, "surface": "上海合作组织", "concept": "sco",
//!                   "lang": "zh", "matched_term": "上海合作组织", "status": "preferred",
//!                   "kind": "exact|normalized|stemmed", "suggestion": "", "current_term": "",
//!                   "note": ""}],
//!  "omitted": 0}
//! ```
//!
//! Each concept once; occurrences in text order, at most 100 000, `omitted` counting the
//! rest.
//! `status` is one of `preferred|admitted|superseded|deprecated|forbidden`; `type` is TBX's
//! `termType` value or empty; `suggestion` is the term to write instead of a deprecated or
//! forbidden one, `current_term` today's name for a superseded one, `note` the matched term's
//! note (each empty when none).
//!
//! `GET /api/lookup?q=…&lang=&limit=` (`lang` empty = detected; `limit` 0 or absent = 10,
//! at most 100) → `{"hits": [{"concept": "sco", "matched_term": "…", "matched_lang": "en",
//! "score": 0.93, "kind": "exact|normalized|stemmed|fuzzy|partial|pinyin", "renderings":
//! [{"lang": "zh", "text": "…", "status": "preferred", "note": "", "pinyin": "…"}]}]}`, best
//! first; `score` 0–1; renderings in every language, preferred first, with the pinyin of
//! Chinese ones.
//!
//! `POST /api/search` `{"text": "…", "source_lang": "zh", "target_lang": "ru", "memories":
//! [], "limit": 5}` → `{"matches": [{"score": 87, "source": "…", "target": "…", "memory":
//! "…", "unit_id": "…", "numbers_only": false, "adapted_target": null, "diffs": [{"kind":
//! "inserted|deleted|replaced", "query": [3, 5], "stored": [3, 4]}]}]}`: `score` an integer
//! percent; `source` the stored source segment, which `stored` ranges point into, `query`
//! ranges into the request's text; `adapted_target` the target with the query's numbers when
//! only numbers differ, else null. `"missing_shards": [4, 5]` appears in a cluster whose
//! nodes hold parts of the memory when no node holding those shards answered: the matches
//! are then the best of the other shards only.
//!
//! `POST /api/check` `{"pairs": [{"id": "p1", "source_text": "…", "source_lang": "zh",
//! "target_text": "…", "target_lang": "ru"}], "collections": []}` (`id` and `target_text`
//! optional; at most 1 000 pairs and 1 MiB of text) → `{"pairs": [{"id": "p1", "findings":
//! [{"kind": "missing_term|deprecated_used|forbidden_used|number_mismatch", "severity":
//! "warning|error", "source": {"start": 0, "end": 6, "surface": "…"}, "target": null,
//! "concept": "sco", "used_term": "", "used_term_note": "", "expected": ["ШОС"],
//! "message": "…"}]}], "errors": 0, "warnings": 1}`: the translation check of
//! `Review.CheckTranslation`, every pair in order; `source` and `target` are places in that
//! side's text (UTF-16 ranges) or null where the finding has none (a missing term has no
//! target, a term used with no source counterpart no source); `expected` the approved
//! renderings, or a number's value as the other side should have it. A pair's language or
//! the pair count refused names its field (`pairs[0].source_lang`, `pairs`).
//!
//! `GET /api/events?snapshot=true&collections=a,b&after=&bookmark_seconds=` → server-sent
//! events (`text/event-stream`) of the termbase's changes, for `EventSource`; a stream, so
//! no deadline. Each event is `event: <kind>`, `id: <revision>` and `data: <JSON>`:
//!
//! - `concept_upserted` `{"revision", "time_ms", "author", "concept": {as in recognize},
//!   "concept_revision", "changed": ["terms.ru", …]}`;
//! - `concept_deleted` `{"revision", "time_ms", "author", "id", "collection",
//!   "concept_revision"}` (also a concept moved out of the collections watched);
//! - `collection_upserted` `{"revision", "time_ms", "author", "name", "priority",
//!   "description"}`; `collection_deleted` `{…, "name", "deleted_concepts"}` (its concepts
//!   are gone too);
//! - with `snapshot=true`: first `snapshot_concept` `{"revision", "concept",
//!   "concept_revision"}` for every concept the caller sees (these carry no `id:`), then
//!   `snapshot_end` `{"revision"}`, then the changes after it;
//! - `bookmark` `{"revision"}` after `bookmark_seconds` (default 30) of quiet, so the id
//!   advances;
//! - `error` `{"error": {…}}` last, when the feed fails (e.g. compaction overtook a stream
//!   that fell far behind: start again with a snapshot).
//!
//! A reconnecting `EventSource` sends `Last-Event-ID`, and the stream resumes after it,
//! whatever the query says; `after=N` does the same on a first connection. A token older
//! than the changes the server keeps is refused before the stream starts with 400
//! `OUT_OF_RANGE` (field `Last-Event-ID` or `after`): start again with `snapshot=true`.
//! `collections` empty = every one the caller sees. Other refusals as for every route (a busy
//! server: 429).
//!
//! `GET /api/info` → `{"version": "0.1.0", "concepts": 812, "collections": ["glossary"],
//! "memories": ["news"], "languages": ["zh", "ru", "en"]}`: the collections and memories the
//! caller may read.

use std::collections::BTreeMap;
use std::ops::Range;

use axum::extract::{Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::access::{guarded, session_caller, session_id, Admitted, JsonBody};
use super::error::ApiError;
use super::events;
use super::session;
use super::Web;
use crate::app::review::{PairReport, Place, Severity};
use crate::app::{now_ms, work};
use crate::auth::{self, Caller};
use crate::index::memory::{DiffKind, MemoryMatch};
use crate::index::{MatchKind, Occurrence};
use crate::model::{Concept, Lang, Term};
use crate::service::requests::{self, LookupFields, PairFields, RecognizeFields, SearchFields};
use crate::service::MAX_OCCURRENCES;
use crate::text;

/// The routes of the JSON API.
pub fn routes(web: &Web) -> Router<Web> {
    let deadline = web.deadline;
    Router::new()
        .route(
            "/api/session",
            guarded(
                "/api/session",
                post(login).get(session_state).delete(logout),
                deadline,
            ),
        )
        .route(
            "/api/recognize",
            guarded("/api/recognize", post(recognize), deadline),
        )
        .route("/api/lookup", guarded("/api/lookup", get(lookup), deadline))
        .route(
            "/api/search",
            guarded("/api/search", post(search), deadline),
        )
        .route("/api/check", guarded("/api/check", post(check), deadline))
        .route("/api/info", guarded("/api/info", get(info), deadline))
        .route(
            "/api/events",
            guarded("/api/events", get(events::events), deadline),
        )
}

// Sessions.

#[derive(Deserialize)]
struct Login {
    key: String,
}

#[derive(Serialize)]
struct SessionState {
    open: bool,
    authenticated: bool,
    key_name: String,
    role: &'static str,
    collections: Vec<String>,
}

impl SessionState {
    fn of(web: &Web, caller: Option<Caller>) -> SessionState {
        let open = web.keys.is_open();
        let caller = if open { Some(Caller::open()) } else { caller };
        match caller {
            Some(caller) => SessionState {
                open,
                authenticated: true,
                key_name: caller.key,
                role: caller.role.name(),
                collections: caller.scope.collections,
            },
            None => SessionState {
                open,
                authenticated: false,
                key_name: String::new(),
                role: "",
                collections: Vec::new(),
            },
        }
    }
}

async fn login(State(web): State<Web>, JsonBody(login): JsonBody<Login>) -> Response {
    if web.keys.is_open() {
        return Json(SessionState::of(&web, None)).into_response();
    }
    let now = now_ms();
    let caller = match web.keys.verify(login.key.trim(), now) {
        Ok(caller) => caller,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let Some(key_id) = auth::public_id(login.key.trim()) else {
        return ApiError::invalid("key", "is not a Tolmach key").into_response();
    };
    match web.sessions.open(key_id, now) {
        Ok(id) => (
            [(header::SET_COOKIE, session::set_cookie(&id, web.secure))],
            Json(SessionState::of(&web, Some(caller))),
        )
            .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn session_state(State(web): State<Web>, parts: Parts) -> Json<SessionState> {
    let caller = match auth::sent_key(&parts.headers) {
        Some(key) => web.keys.verify(key, now_ms()).ok(),
        None => session_caller(&parts, &web),
    };
    Json(SessionState::of(&web, caller))
}

async fn logout(State(web): State<Web>, parts: Parts) -> Response {
    if let Some(id) = session_id(&parts) {
        web.sessions.close(id);
    }
    (
        [(header::SET_COOKIE, session::clear_cookie(web.secure))],
        Json(SessionState::of(&web, None)),
    )
        .into_response()
}

// Recognize.

#[derive(Deserialize)]
struct RecognizeBody {
    text: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    target_langs: Vec<String>,
    #[serde(default)]
    collections: Vec<String>,
}

#[derive(Serialize)]
struct Recognized {
    concepts: BTreeMap<String, ConceptJson>,
    occurrences: Vec<OccurrenceJson>,
    omitted: usize,
}

/// A concept as the API sends it.
#[derive(Serialize)]
pub(super) struct ConceptJson {
    id: String,
    collection: String,
    subject_field: String,
    definition: BTreeMap<String, String>,
    terms: BTreeMap<String, Vec<TermJson>>,
}

#[derive(Serialize)]
struct TermJson {
    text: String,
    status: &'static str,
    #[serde(rename = "type")]
    term_type: &'static str,
    note: String,
}

#[derive(Serialize)]
struct OccurrenceJson {
    start: usize,
    end: usize,
    surface: String,
    concept: String,
    lang: String,
    matched_term: String,
    status: &'static str,
    kind: &'static str,
    suggestion: String,
    current_term: String,
    note: String,
}

async fn recognize(
    State(web): State<Web>,
    Admitted(caller): Admitted,
    JsonBody(body): JsonBody<RecognizeBody>,
) -> Result<Response, ApiError> {
    let checked = requests::recognize(
        &caller,
        RecognizeFields {
            text: body.text,
            lang: body.lang,
            target_langs: body.target_langs,
            collections: body.collections,
        },
    )?;
    let found = web
        .termbase
        .recognize(
            checked.text.clone(),
            checked.lang,
            checked.collections,
            false,
        )
        .await?;
    // Up to 100 000 occurrences: converted and written out on the blocking pool, as the
    // RPC's reply is.
    let reply = work::run("Recognize reply", move || {
        serde_json::to_vec(&recognized(&checked.text, &checked.targets, &found))
    })
    .await?
    .map_err(|error| ApiError::new(tonic::Code::Internal, error.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], reply).into_response())
}

fn recognized(text: &str, targets: &[Lang], found: &[Occurrence]) -> Recognized {
    let mut concepts = BTreeMap::new();
    let mut occurrences = Vec::new();
    for occurrence in found.iter().take(MAX_OCCURRENCES as usize) {
        let concept = &occurrence.concept;
        concepts
            .entry(concept.id.clone())
            .or_insert_with(|| concept_json(concept, targets));
        let term = occurrence.matched_term();
        let text_of = |term: Option<&Term>| term.map(|t| t.text.clone()).unwrap_or_default();
        occurrences.push(OccurrenceJson {
            start: occurrence.spans.utf16.start,
            end: occurrence.spans.utf16.end,
            surface: text[occurrence.spans.bytes.clone()].to_owned(),
            concept: concept.id.clone(),
            lang: concept.langs[occurrence.section].lang.to_string(),
            matched_term: term.text.clone(),
            status: term.status.name(),
            kind: kind_name(occurrence.kind),
            suggestion: text_of(occurrence.suggestion()),
            current_term: text_of(occurrence.current_term()),
            note: term.note.clone(),
        });
    }
    Recognized {
        concepts,
        omitted: found.len() - occurrences.len(),
        occurrences,
    }
}

/// A concept's definitions and terms by language, in the target languages only when some
/// are given.
pub(super) fn concept_json(concept: &Concept, targets: &[Lang]) -> ConceptJson {
    let mut definition = BTreeMap::new();
    let mut terms: BTreeMap<String, Vec<TermJson>> = BTreeMap::new();
    let wanted = |lang: &Lang| targets.is_empty() || targets.iter().any(|t| lang.accepts(t));
    for section in concept.langs.iter().filter(|s| wanted(&s.lang)) {
        let lang = section.lang.to_string();
        if !section.definition.is_empty() {
            definition.insert(lang.clone(), section.definition.clone());
        }
        terms
            .entry(lang)
            .or_default()
            .extend(section.terms.iter().map(|term| TermJson {
                text: term.text.clone(),
                status: term.status.name(),
                term_type: term.term_type.tbx_value().unwrap_or(""),
                note: term.note.clone(),
            }));
    }
    ConceptJson {
        id: concept.id.clone(),
        collection: concept.collection.clone(),
        subject_field: concept.subject_field.clone(),
        definition,
        terms,
    }
}

// Lookup.

#[derive(Deserialize)]
struct LookupParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    limit: u32,
}

#[derive(Serialize)]
struct LookupReply {
    hits: Vec<HitJson>,
}

#[derive(Serialize)]
struct HitJson {
    concept: String,
    matched_term: String,
    matched_lang: String,
    score: f32,
    kind: &'static str,
    renderings: Vec<RenderingJson>,
}

#[derive(Serialize)]
struct RenderingJson {
    lang: String,
    text: String,
    status: &'static str,
    note: String,
    pinyin: String,
}

async fn lookup(
    State(web): State<Web>,
    Admitted(caller): Admitted,
    params: Result<Query<LookupParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LookupReply>, ApiError> {
    let Query(params) = params
        .map_err(|rejection| ApiError::new(tonic::Code::InvalidArgument, rejection.body_text()))?;
    let checked = requests::lookup(
        &caller,
        LookupFields {
            text: params.q,
            source_lang: params.lang,
            target_langs: Vec::new(),
            collections: Vec::new(),
            limit: params.limit,
            min_score: 0.0,
        },
    )
    .map_err(|error| ApiError::from(error).rename_field("text", "q"))?;
    let hits = web.termbase.lookup(checked.query, true).await?;
    let hits = hits
        .iter()
        .map(|hit| HitJson {
            concept: hit.concept.id.clone(),
            matched_term: hit.matched_term().text.clone(),
            matched_lang: hit.matched_section().lang.to_string(),
            score: hit.score,
            kind: kind_name(hit.kind),
            renderings: hit
                .concept
                .renderings(&checked.targets)
                .into_iter()
                .map(|(lang, term)| RenderingJson {
                    lang: lang.to_string(),
                    text: term.text.clone(),
                    status: term.status.name(),
                    note: term.note.clone(),
                    pinyin: if lang.primary() == "zh" {
                        text::pinyin::display(&term.text)
                    } else {
                        String::new()
                    },
                })
                .collect(),
        })
        .collect();
    Ok(Json(LookupReply { hits }))
}

// Search.

#[derive(Deserialize)]
struct SearchBody {
    text: String,
    source_lang: String,
    target_lang: String,
    #[serde(default)]
    memories: Vec<String>,
    #[serde(default)]
    limit: u32,
}

#[derive(Serialize)]
struct SearchReply {
    matches: Vec<MatchJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing_shards: Vec<u32>,
}

#[derive(Serialize)]
struct MatchJson {
    score: u32,
    source: String,
    target: String,
    memory: String,
    unit_id: String,
    numbers_only: bool,
    adapted_target: Option<String>,
    diffs: Vec<DiffJson>,
}

#[derive(Serialize)]
struct DiffJson {
    kind: &'static str,
    query: [usize; 2],
    stored: [usize; 2],
}

async fn search(
    State(web): State<Web>,
    Admitted(caller): Admitted,
    JsonBody(body): JsonBody<SearchBody>,
) -> Result<Json<SearchReply>, ApiError> {
    let query = requests::search(
        &caller,
        SearchFields {
            text: body.text,
            source_lang: body.source_lang,
            target_lang: body.target_lang,
            memories: body.memories,
            limit: body.limit,
            min_score: 0.0,
        },
    )?;
    let query_text = query.text.clone();
    let found = web.memory.search(query).await?;
    // Offsets over texts of up to 64 KiB each: counted on the blocking pool.
    let missing_shards = found.missing;
    let matches = work::run("Search reply", move || {
        search_reply(&query_text, found.hits)
    })
    .await?;
    Ok(Json(SearchReply {
        matches,
        missing_shards,
    }))
}

/// The matches of a search for `query`, their diff ranges in UTF-16 units.
fn search_reply(query: &str, found: Vec<MemoryMatch>) -> Vec<MatchJson> {
    let query = Utf16Offsets::new(query);
    found
        .into_iter()
        .map(|m| {
            let stored = Utf16Offsets::new(&m.source);
            MatchJson {
                score: (m.score * 100.0).round() as u32,
                diffs: m
                    .diffs
                    .iter()
                    .map(|d| DiffJson {
                        kind: match d.kind {
                            DiffKind::Inserted => "inserted",
                            DiffKind::Deleted => "deleted",
                            DiffKind::Replaced => "replaced",
                        },
                        query: query.range(&d.query),
                        stored: stored.range(&d.stored),
                    })
                    .collect(),
                source: m.source,
                target: m.target,
                memory: m.memory,
                unit_id: m.unit.id.clone(),
                numbers_only: m.numbers_only,
                adapted_target: m.adapted_target,
            }
        })
        .collect()
}

/// The UTF-16 offset of every UTF-8 byte offset of a text, for ranges the application gives
/// in bytes: one pass over the text, then each range in constant time.
struct Utf16Offsets(Vec<usize>);

impl Utf16Offsets {
    fn new(text: &str) -> Utf16Offsets {
        let mut offsets = Vec::with_capacity(text.len() + 1);
        let mut utf16 = 0;
        for c in text.chars() {
            offsets.extend(std::iter::repeat_n(utf16, c.len_utf8()));
            utf16 += c.len_utf16();
        }
        offsets.push(utf16);
        Utf16Offsets(offsets)
    }

    /// `bytes` in UTF-16 code units; an offset past the end is the end.
    fn range(&self, bytes: &Range<usize>) -> [usize; 2] {
        let at = |byte: usize| self.0[byte.min(self.0.len() - 1)];
        [at(bytes.start), at(bytes.end)]
    }
}

// Check.

#[derive(Deserialize)]
struct CheckBody {
    pairs: Vec<PairFields>,
    #[serde(default)]
    collections: Vec<String>,
}

#[derive(Serialize)]
struct CheckReply {
    pairs: Vec<PairReportJson>,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct PairReportJson {
    id: String,
    findings: Vec<FindingJson>,
}

#[derive(Serialize)]
struct FindingJson {
    kind: &'static str,
    severity: &'static str,
    source: Option<PlaceJson>,
    target: Option<PlaceJson>,
    concept: String,
    used_term: String,
    used_term_note: String,
    expected: Vec<String>,
    message: String,
}

#[derive(Serialize)]
struct PlaceJson {
    start: usize,
    end: usize,
    surface: String,
}

async fn check(
    State(web): State<Web>,
    Admitted(caller): Admitted,
    JsonBody(body): JsonBody<CheckBody>,
) -> Result<Json<CheckReply>, ApiError> {
    let (pairs, collections) = requests::check_translation(&caller, body.pairs, body.collections)?;
    let reports = web.review.check(pairs, collections).await?;
    // Findings of up to 1 MiB of text: converted on the blocking pool.
    Ok(Json(
        work::run("check reply", move || check_reply(reports)).await?,
    ))
}

fn check_reply(reports: Vec<PairReport>) -> CheckReply {
    let findings = || reports.iter().flat_map(|report| &report.findings);
    let errors = findings()
        .filter(|finding| finding.severity == Severity::Error)
        .count();
    let warnings = findings().count() - errors;
    let place = |place: Option<Place>| {
        place.map(|place| PlaceJson {
            start: place.spans.utf16.start,
            end: place.spans.utf16.end,
            surface: place.surface,
        })
    };
    let pairs = reports
        .into_iter()
        .map(|report| PairReportJson {
            id: report.id,
            findings: report
                .findings
                .into_iter()
                .map(|finding| FindingJson {
                    kind: finding.kind.name(),
                    severity: match finding.severity {
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    },
                    source: place(finding.source),
                    target: place(finding.target),
                    concept: finding.concept_id,
                    used_term: finding.used_term,
                    used_term_note: finding.used_term_note,
                    expected: finding.expected,
                    message: finding.message,
                })
                .collect(),
        })
        .collect();
    CheckReply {
        pairs,
        errors,
        warnings,
    }
}

// Info.

#[derive(Serialize)]
struct Info {
    version: &'static str,
    concepts: usize,
    collections: Vec<String>,
    memories: Vec<String>,
    languages: [&'static str; 3],
}

async fn info(State(web): State<Web>, Admitted(caller): Admitted) -> Result<Json<Info>, ApiError> {
    let collections = web
        .termbase
        .collections()?
        .into_iter()
        .map(|c| c.name)
        .filter(|name| caller.sees_collection(name))
        .collect();
    let memories = web
        .memory
        .names()
        .into_iter()
        .filter(|name| caller.sees_memory(name))
        .collect();
    Ok(Json(Info {
        version: env!("CARGO_PKG_VERSION"),
        concepts: web.termbase.concept_count(),
        collections,
        memories,
        languages: ["zh", "ru", "en"],
    }))
}

fn kind_name(kind: MatchKind) -> &'static str {
    match kind {
        MatchKind::Exact => "exact",
        MatchKind::Normalized => "normalized",
        MatchKind::Stemmed => "stemmed",
        MatchKind::Fuzzy => "fuzzy",
        MatchKind::Partial => "partial",
        MatchKind::Pinyin => "pinyin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_become_utf16_ranges_across_astral_characters() {
        // 𠀀 is four bytes and two UTF-16 units; é two bytes and one unit.
        let offsets = Utf16Offsets::new("a𠀀é b");
        assert_eq!(offsets.range(&(0..1)), [0, 1]);
        assert_eq!(offsets.range(&(1..5)), [1, 3]);
        assert_eq!(offsets.range(&(5..7)), [3, 4]);
        assert_eq!(offsets.range(&(8..9)), [5, 6]);
        assert_eq!(offsets.range(&(9..100)), [6, 6]);
    }
}
