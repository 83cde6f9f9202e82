//! The checks of the read requests that both the gRPC services and the JSON API
//! (`web::api`) take: Lookup, Recognize, Search, Watch and CheckTranslation. Each turns the request's plain fields into
//! a checked domain value, collecting every field violation into one `INVALID_ARGUMENT`, then
//! narrows it to what the caller may read. Field names are the proto's, which the JSON API
//! shares, so that a refusal names the same field whichever way the call came.
//!
//! Knows neither proto nor HTTP: the callers take the fields out of their own messages.

use std::sync::Arc;

use crate::app::changes::Subscription;
use crate::app::review::{SegmentPair, MAX_PAIRS};
use crate::app::AppError;
use crate::auth::Caller;
use crate::index::memory::{comparison_length, MemoryQuery};
use crate::index::{score, LookupQuery};
use crate::model::violation::{MAX_SEGMENT_BYTES, MAX_TERM_BYTES, MAX_TEXT_BYTES};
use crate::model::{Lang, Violations};
use crate::text;

const DEFAULT_LOOKUP_LIMIT: u32 = 10;
const MAX_LOOKUP_LIMIT: u32 = 100;
const DEFAULT_SEARCH_LIMIT: u32 = 5;
const MAX_SEARCH_LIMIT: u32 = 100;
/// The usual CAT threshold below which a fuzzy match costs more to edit than to translate.
const DEFAULT_SEARCH_MIN_SCORE: f32 = 0.70;
/// Most comparison units (characters for Chinese, words otherwise) in a Search query. The
/// distance to each candidate costs |query| × |candidate| / 64 machine words, and a candidate
/// may be up to |query| / min_score units long, so this bounds the work of one search. A
/// sentence, even a long paragraph, is far below it; a pasted page of text is not, and a
/// 64 KiB segment of single-byte characters tagged `zh` is 16 times over it.
const MAX_QUERY_UNITS: usize = 4096;

/// A Lookup request's fields.
pub struct LookupFields {
    /// The text typed.
    pub text: String,
    /// Its language; empty = detected from the script.
    pub source_lang: String,
    /// The languages to render into; empty = every one.
    pub target_langs: Vec<String>,
    /// Only these collections; empty = every one the caller sees.
    pub collections: Vec<String>,
    /// Most hits; 0 = the default.
    pub limit: u32,
    /// Lowest score; 0 = the default.
    pub min_score: f32,
}

/// A checked Lookup: the query, the languages to render into, and the query's language
/// (given or detected) to report back.
pub struct CheckedLookup {
    /// What the index is asked.
    pub query: LookupQuery,
    /// The languages to render into.
    pub targets: Vec<Lang>,
}

/// Checks a Lookup by `caller`.
pub fn lookup(caller: &Caller, mut fields: LookupFields) -> Result<CheckedLookup, AppError> {
    let mut violations = Violations::default();
    violations.required_text("text", &fields.text, MAX_TERM_BYTES);
    let source_lang = violations.optional_lang("source_lang", &fields.source_lang);
    let targets = violations.langs("target_langs", &fields.target_langs);
    violations.identifiers("collections", &fields.collections);
    violations.min_score("min_score", fields.min_score);
    violations.into_result(())?;
    caller.readable_collections("Lookup", &mut fields.collections)?;
    let pinyin = source_lang
        .as_ref()
        .is_none_or(|lang| lang.primary() == "zh");
    let source_lang = query_lang(source_lang, &fields.text);
    let query = LookupQuery {
        text: fields.text,
        source_lang,
        limit: match fields.limit {
            0 => DEFAULT_LOOKUP_LIMIT,
            n => n.min(MAX_LOOKUP_LIMIT),
        } as usize,
        min_score: if fields.min_score > 0.0 {
            fields.min_score
        } else {
            score::DEFAULT_MIN_SCORE
        },
        collections: fields.collections,
        pinyin,
    };
    Ok(CheckedLookup { query, targets })
}

/// A Recognize request's fields.
pub struct RecognizeFields {
    /// The running text.
    pub text: String,
    /// Its language; empty = every language's terms are looked for.
    pub lang: String,
    /// The languages to render into; empty = every one.
    pub target_langs: Vec<String>,
    /// Only these collections; empty = every one the caller sees.
    pub collections: Vec<String>,
}

/// A checked Recognize.
pub struct CheckedRecognize {
    /// The text, shared with the blocking work.
    pub text: Arc<str>,
    /// Its language, when given.
    pub lang: Option<Lang>,
    /// The languages to render into.
    pub targets: Vec<Lang>,
    /// The collections to look in (the caller's scope when none was named).
    pub collections: Vec<String>,
}

/// Checks a Recognize by `caller`.
pub fn recognize(
    caller: &Caller,
    mut fields: RecognizeFields,
) -> Result<CheckedRecognize, AppError> {
    let mut violations = Violations::default();
    violations.required_text("text", &fields.text, MAX_TEXT_BYTES);
    let lang = violations.optional_lang("lang", &fields.lang);
    let targets = violations.langs("target_langs", &fields.target_langs);
    violations.identifiers("collections", &fields.collections);
    violations.into_result(())?;
    caller.readable_collections("Recognize", &mut fields.collections)?;
    Ok(CheckedRecognize {
        text: fields.text.into(),
        lang,
        targets,
        collections: fields.collections,
    })
}

/// A Search request's fields.
pub struct SearchFields {
    /// The sentence to find earlier translations of.
    pub text: String,
    /// Its language.
    pub source_lang: String,
    /// The language of the translations wanted.
    pub target_lang: String,
    /// Only these memories; empty = every one the caller sees.
    pub memories: Vec<String>,
    /// Most matches; 0 = the default.
    pub limit: u32,
    /// Lowest score; 0 = the default.
    pub min_score: f32,
}

/// Checks a Search by `caller`: the memory index's query.
pub fn search(caller: &Caller, mut fields: SearchFields) -> Result<MemoryQuery, AppError> {
    let mut violations = Violations::default();
    violations.required_text("text", &fields.text, MAX_SEGMENT_BYTES);
    let source = violations.lang("source_lang", &fields.source_lang);
    let target = violations.lang("target_lang", &fields.target_lang);
    violations.identifiers("memories", &fields.memories);
    violations.min_score("min_score", fields.min_score);
    if let Some(source) = &source {
        let (length, counted) = comparison_length(&fields.text, source);
        if length > MAX_QUERY_UNITS {
            violations.add(
                "text",
                format!(
                    "is {length} {counted} long, more than the limit of {MAX_QUERY_UNITS}: \
                     search sentence by sentence"
                ),
            );
        }
    }
    let (source, target) = violations.into_checked(source.zip(target))?;
    caller.readable_memories("Search", &mut fields.memories)?;
    Ok(MemoryQuery {
        text: fields.text,
        source,
        target,
        limit: match fields.limit {
            0 => DEFAULT_SEARCH_LIMIT,
            n => n.min(MAX_SEARCH_LIMIT),
        } as usize,
        min_score: if fields.min_score > 0.0 {
            fields.min_score
        } else {
            DEFAULT_SEARCH_MIN_SCORE
        },
        memories: fields.memories,
    })
}

/// One pair of a translation check, as sent; also the JSON API's pair, whose `id` and
/// `target_text` may be left out.
#[derive(serde::Deserialize)]
pub struct PairFields {
    /// The caller's name for the pair; may be empty.
    #[serde(default)]
    pub id: String,
    /// The source text.
    pub source_text: String,
    /// Its language.
    pub source_lang: String,
    /// The translation.
    #[serde(default)]
    pub target_text: String,
    /// Its language.
    pub target_lang: String,
}

/// Checks a CheckTranslation by `caller`: each pair's languages (of the pairs the
/// application takes: it refuses more, and bounds their text), the collections named,
/// narrowed to what the caller may read. Answers the pairs and the collections.
pub fn check_translation(
    caller: &Caller,
    pairs: Vec<PairFields>,
    mut collections: Vec<String>,
) -> Result<(Vec<SegmentPair>, Vec<String>), AppError> {
    let mut violations = Violations::default();
    violations.identifiers("collections", &collections);
    let pairs: Vec<Option<SegmentPair>> = pairs
        .into_iter()
        .take(MAX_PAIRS + 1)
        .enumerate()
        .map(|(i, pair)| {
            let source_lang =
                violations.lang(&format!("pairs[{i}].source_lang"), &pair.source_lang);
            let target_lang =
                violations.lang(&format!("pairs[{i}].target_lang"), &pair.target_lang);
            Some(SegmentPair {
                id: pair.id,
                source: pair.source_text,
                source_lang: source_lang?,
                target: pair.target_text,
                target_lang: target_lang?,
            })
        })
        .collect();
    let pairs = violations.into_checked(pairs.into_iter().collect::<Option<Vec<_>>>())?;
    caller.readable_collections("CheckTranslation", &mut collections)?;
    Ok((pairs, collections))
}

/// Checks a Watch by `caller`: the collections it names, narrowed to what the caller may
/// read (its scope when none are named). The rest of the subscription is the change feed's
/// to check, on subscribing.
pub fn watch(caller: &Caller, mut subscription: Subscription) -> Result<Subscription, AppError> {
    let mut violations = Violations::default();
    violations.identifiers("collections", &subscription.collections);
    violations.into_result(())?;
    caller.readable_collections("Watch", &mut subscription.collections)?;
    Ok(subscription)
}

/// The language of a query or text: the given tag, else the script's.
pub fn query_lang(given: Option<Lang>, text: &str) -> Option<Lang> {
    given.or_else(|| text::detect_lang(text).and_then(|tag| Lang::parse(tag).ok()))
}
