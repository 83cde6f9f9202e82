//! Conversions between generated proto messages and domain types. Incoming concepts and units
//! are checked on the way in (the domain's checks, `app/check.rs`, plus what only a proto
//! value can get wrong: enum numbers, language tags); outgoing values cannot fail.

use std::collections::HashMap;
use std::sync::Arc;

use prost::Message;
use prost_types::Timestamp;

use super::proto;
use crate::app::{check, work, AppError};
use crate::formats::check_tmx_markup;
use crate::index::{MatchKind, Occurrence, Spans};
use crate::model::violation::{MAX_ITEMS, MAX_SEGMENTS};
use crate::model::{
    Concept, InlineTag, Lang, LangSection, Segment, TagKind, Term, TermStatus, TermType,
    TranslationUnit, Violations,
};
use crate::text;

/// The concept of an UpsertConcept request, converted and checked ([`concept_from_proto`]) on
/// the blocking pool: a request of the largest size accepted holds 10⁵ sections or terms, and
/// even a linear check of that many must not hold an async worker.
pub async fn concept_from_request(concept: proto::Concept) -> Result<Concept, AppError> {
    work::run("checking a concept", move || {
        let mut violations = Violations::default();
        let concept = concept_from_proto(concept, "concept", &mut violations);
        violations.into_result(concept)
    })
    .await?
    .map_err(AppError::from)
}

/// The units of an AddUnits request, converted and checked ([`unit_from_proto`]) on the
/// blocking pool, with what the caller already found wrong with the rest of the request
/// (`violations`). More than `max_units` units are refused on their count alone.
pub async fn units_from_request(
    units: Vec<proto::TranslationUnit>,
    max_units: usize,
    mut violations: Violations,
) -> Result<Vec<TranslationUnit>, AppError> {
    work::run("checking units", move || {
        if check::too_many("units", units.len(), max_units, "units", &mut violations) {
            // Refused: `violations` is not empty, so this is the error.
            return violations.into_result(Vec::new());
        }
        let units = units
            .into_iter()
            .enumerate()
            .map(|(i, u)| unit_from_proto(u, &format!("units[{i}]"), &mut violations))
            .collect();
        violations.into_result(units)
    })
    .await?
    .map_err(AppError::from)
}

/// Turns a concept from a client into the domain type and checks it ([`check::concept`]);
/// violations name the field path, e.g. `concept.langs[1].terms[0].text`. A concept with
/// more than [`MAX_ITEMS`] sections is refused before any of them is converted.
pub fn concept_from_proto(
    mut concept: proto::Concept,
    field: &str,
    violations: &mut Violations,
) -> Concept {
    let sections = concept.langs.len();
    let refused = check::too_many(
        &format!("{field}.langs"),
        sections,
        MAX_ITEMS,
        "sections",
        violations,
    );
    if refused {
        concept.langs.clear();
    }
    let langs = concept
        .langs
        .into_iter()
        .enumerate()
        .map(|(i, section)| {
            let path = format!("{field}.langs[{i}]");
            let lang = violations.lang(&format!("{path}.lang"), &section.lang);
            let terms = section
                .terms
                .into_iter()
                .enumerate()
                .map(|(j, term)| term_from_proto(term, &format!("{path}.terms[{j}]"), violations))
                .collect();
            LangSection {
                lang: lang.unwrap_or_else(Lang::en),
                definition: section.definition,
                notes: section.notes,
                terms,
            }
        })
        .collect();
    let concept = Concept {
        id: concept.id,
        collection: concept.collection,
        subject_field: concept.subject_field,
        source: concept.source,
        notes: concept.notes,
        cross_refs: concept.cross_refs,
        langs,
        created_ms: 0,
        updated_ms: 0,
        revision: 0,
    };
    if refused {
        return concept;
    }
    check::concept(concept, field, violations)
}

/// The domain form of a term; records the enum values that are none.
fn term_from_proto(term: proto::Term, path: &str, violations: &mut Violations) -> Term {
    let status = match proto::TermStatus::try_from(term.status) {
        Ok(proto::TermStatus::Preferred) => TermStatus::Preferred,
        Ok(proto::TermStatus::Deprecated) => TermStatus::Deprecated,
        Ok(proto::TermStatus::Forbidden) => TermStatus::Forbidden,
        Ok(proto::TermStatus::Superseded) => TermStatus::Superseded,
        Ok(proto::TermStatus::Admitted | proto::TermStatus::Unspecified) => TermStatus::Admitted,
        Err(_) => {
            violations.add(
                format!("{path}.status"),
                format!("{} is not a TermStatus", term.status),
            );
            TermStatus::Admitted
        }
    };
    let term_type = match proto::TermType::try_from(term.term_type) {
        Ok(t) => term_type_from_proto(t),
        Err(_) => {
            violations.add(
                format!("{path}.term_type"),
                format!("{} is not a TermType", term.term_type),
            );
            TermType::Unspecified
        }
    };
    Term {
        text: term.text,
        status,
        term_type,
        part_of_speech: term.part_of_speech,
        note: term.note,
        source: term.source,
        context: term.context,
    }
}

fn term_type_from_proto(t: proto::TermType) -> TermType {
    match t {
        proto::TermType::Unspecified => TermType::Unspecified,
        proto::TermType::FullForm => TermType::FullForm,
        proto::TermType::Acronym => TermType::Acronym,
        proto::TermType::Abbreviation => TermType::Abbreviation,
        proto::TermType::ShortForm => TermType::ShortForm,
        proto::TermType::Variant => TermType::Variant,
        proto::TermType::Phrase => TermType::Phrase,
    }
}

fn term_type_to_proto(t: TermType) -> proto::TermType {
    match t {
        TermType::Unspecified => proto::TermType::Unspecified,
        TermType::FullForm => proto::TermType::FullForm,
        TermType::Acronym => proto::TermType::Acronym,
        TermType::Abbreviation => proto::TermType::Abbreviation,
        TermType::ShortForm => proto::TermType::ShortForm,
        TermType::Variant => proto::TermType::Variant,
        TermType::Phrase => proto::TermType::Phrase,
    }
}

/// The proto value of a term status.
pub fn status_to_proto(status: TermStatus) -> proto::TermStatus {
    match status {
        TermStatus::Preferred => proto::TermStatus::Preferred,
        TermStatus::Admitted => proto::TermStatus::Admitted,
        TermStatus::Deprecated => proto::TermStatus::Deprecated,
        TermStatus::Forbidden => proto::TermStatus::Forbidden,
        TermStatus::Superseded => proto::TermStatus::Superseded,
    }
}

/// The proto value of a match kind.
pub fn kind_to_proto(kind: MatchKind) -> proto::MatchKind {
    match kind {
        MatchKind::Exact => proto::MatchKind::Exact,
        MatchKind::Normalized => proto::MatchKind::Normalized,
        MatchKind::Stemmed => proto::MatchKind::Stemmed,
        MatchKind::Fuzzy => proto::MatchKind::Fuzzy,
        MatchKind::Partial => proto::MatchKind::Partial,
        MatchKind::Pinyin => proto::MatchKind::Pinyin,
    }
}

/// A stored time (ms since the epoch) as a proto timestamp.
pub fn timestamp(ms: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    })
}

/// The proto form of a stored concept.
pub fn concept_to_proto(concept: &Concept) -> proto::Concept {
    proto::Concept {
        id: concept.id.clone(),
        collection: concept.collection.clone(),
        subject_field: concept.subject_field.clone(),
        langs: concept
            .langs
            .iter()
            .map(|s| proto::LangSection {
                lang: s.lang.to_string(),
                definition: s.definition.clone(),
                notes: s.notes.clone(),
                terms: s.terms.iter().map(term_to_proto).collect(),
            })
            .collect(),
        source: concept.source.clone(),
        notes: concept.notes.clone(),
        cross_refs: concept.cross_refs.clone(),
        create_time: timestamp(concept.created_ms),
        update_time: timestamp(concept.updated_ms),
        revision: concept.revision,
        warnings: Vec::new(),
        updated_by: String::new(),
    }
}

fn term_to_proto(term: &Term) -> proto::Term {
    proto::Term {
        text: term.text.clone(),
        status: status_to_proto(term.status) as i32,
        term_type: term_type_to_proto(term.term_type) as i32,
        part_of_speech: term.part_of_speech.clone(),
        note: term.note.clone(),
        source: term.source.clone(),
        context: term.context.clone(),
    }
}

/// The renderings of a concept in the target languages, preferred first; with the pinyin of
/// the Chinese ones when `with_pinyin` is set.
pub fn renderings(concept: &Concept, targets: &[Lang], with_pinyin: bool) -> Vec<proto::Rendering> {
    renderings_to_proto(concept.renderings(targets), with_pinyin)
}

fn renderings_to_proto(terms: Vec<(&Lang, &Term)>, with_pinyin: bool) -> Vec<proto::Rendering> {
    terms
        .into_iter()
        .map(|(lang, term)| proto::Rendering {
            lang: lang.to_string(),
            text: term.text.clone(),
            status: status_to_proto(term.status) as i32,
            term_type: term_type_to_proto(term.term_type) as i32,
            note: term.note.clone(),
            pinyin: if with_pinyin && lang.primary() == "zh" {
                text::pinyin::display(&term.text)
            } else {
                String::new()
            },
        })
        .collect()
}

/// Most occurrences in a Recognize reply: the default, and the most a client may ask for.
pub const MAX_OCCURRENCES: u32 = 100_000;

/// Most bytes of a Recognize reply: the 4 MiB a gRPC client decodes by default (tonic,
/// grpc-java, grpc-go), less room for the message around its occurrences and concepts. A
/// reply for a text dense with terms stops here before [`MAX_OCCURRENCES`].
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024 - 64 * 1024;

/// How the occurrences found in a Recognize text become its reply.
pub struct RecognizeReply {
    /// The text recognized, for the surfaces.
    pub text: Arc<str>,
    /// The languages to render into.
    pub targets: Vec<Lang>,
    /// Whether Chinese renderings carry pinyin.
    pub with_pinyin: bool,
    /// What the client asked for (`0` = [`MAX_OCCURRENCES`]; more is [`MAX_OCCURRENCES`]).
    pub max_occurrences: u32,
    /// Whether every occurrence carries its whole concept and renderings (the reply's first
    /// shape) rather than an index into the reply's concepts, each sent once.
    pub inline_concepts: bool,
    /// Whether the reply's concepts are sent whole rather than as their id and standard
    /// renderings.
    pub whole_concepts: bool,
}

impl RecognizeReply {
    /// The reply: the occurrences `found` in text order, as many as the client's maximum and
    /// [`MAX_REPLY_BYTES`] allow, and how many were left out; in a compact reply, each
    /// concept they name once, counted in the bytes where it is first named. Only what is
    /// sent is converted, so the work is bounded too.
    pub fn bounded(&self, found: Vec<Occurrence>) -> proto::RecognizeResponse {
        let max = match self.max_occurrences {
            0 => MAX_OCCURRENCES,
            n => n.min(MAX_OCCURRENCES),
        } as usize;
        let total = found.len();
        let mut bytes = 0;
        let mut occurrences = Vec::new();
        let mut concepts = Vec::new();
        let mut concept_index: HashMap<&str, u32> = HashMap::new();
        for found in found.iter().take(max) {
            let mut occurrence = self.occurrence(found);
            let mut added = 0;
            let mut first_named = None;
            if self.inline_concepts {
                occurrence.concept = Some(concept_to_proto(&found.concept));
                occurrence.renderings = self.renderings(&found.concept);
            } else {
                occurrence.concept_index = match concept_index.get(found.concept.id.as_str()) {
                    Some(&index) => index,
                    None => {
                        let concept = self.recognized_concept(&found.concept);
                        added = repeated_len(concept.encoded_len());
                        first_named = Some(concept);
                        concepts.len() as u32
                    }
                };
            }
            added += repeated_len(occurrence.encoded_len());
            if bytes + added > MAX_REPLY_BYTES {
                break;
            }
            bytes += added;
            if let Some(concept) = first_named {
                concept_index.insert(&found.concept.id, occurrence.concept_index);
                concepts.push(concept);
            }
            occurrences.push(occurrence);
        }
        proto::RecognizeResponse {
            omitted_occurrences: (total - occurrences.len()) as u64,
            occurrences,
            concepts,
        }
    }

    /// An occurrence without its concept: spans, surface, the matched term and what it
    /// warns of.
    fn occurrence(&self, o: &Occurrence) -> proto::Occurrence {
        let (bytes, chars, utf16) = spans_to_proto(&o.spans);
        let term = o.matched_term();
        proto::Occurrence {
            surface: self.text[o.spans.bytes.clone()].to_owned(),
            bytes: Some(bytes),
            chars: Some(chars),
            utf16: Some(utf16),
            concept: None,
            matched_term: term.text.clone(),
            matched_status: status_to_proto(term.status) as i32,
            renderings: Vec::new(),
            suggestion: o.suggestion().map(|t| t.text.clone()).unwrap_or_default(),
            kind: kind_to_proto(o.kind) as i32,
            current_term: o.current_term().map(|t| t.text.clone()).unwrap_or_default(),
            matched_note: term.note.clone(),
            concept_index: 0,
        }
    }

    fn renderings(&self, concept: &Concept) -> Vec<proto::Rendering> {
        renderings(concept, &self.targets, self.with_pinyin)
    }

    /// A concept as a compact reply sends it once: its id and standard renderings, or whole
    /// when the client asked for whole concepts.
    fn recognized_concept(&self, concept: &Concept) -> proto::RecognizedConcept {
        if self.whole_concepts {
            proto::RecognizedConcept {
                concept: Some(concept_to_proto(concept)),
                renderings: self.renderings(concept),
                id: concept.id.clone(),
            }
        } else {
            let standard = concept.standard_renderings(&self.targets);
            let mut renderings = renderings_to_proto(standard, self.with_pinyin);
            // A terminologist's notes are the details a card shows on demand.
            renderings.iter_mut().for_each(|r| r.note.clear());
            proto::RecognizedConcept {
                concept: None,
                renderings,
                id: concept.id.clone(),
            }
        }
    }
}

/// The bytes a message of `length` bytes takes as an element of a repeated field: its tag,
/// its length, itself.
fn repeated_len(length: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(length as u64) + length
}

/// The proto spans of an occurrence.
pub fn spans_to_proto(spans: &Spans) -> (proto::Span, proto::Span, proto::Span) {
    let span = |r: &std::ops::Range<usize>| proto::Span {
        start: r.start as u32,
        end: r.end as u32,
    };
    (span(&spans.bytes), span(&spans.chars), span(&spans.utf16))
}

/// Checks a translation unit from a client and turns it into the domain type: what
/// [`check::unit`] checks, and that each inline tag is the TMX markup of its kind
/// ([`check_tmx_markup`]), so that an export of the memory is well-formed TMX. Violations name
/// the field path, e.g. `units[0].segments[1].tags[2].xml`. A unit with more than
/// [`MAX_SEGMENTS`] segments is refused before any of them is converted.
pub fn unit_from_proto(
    mut unit: proto::TranslationUnit,
    field: &str,
    violations: &mut Violations,
) -> TranslationUnit {
    let count = unit.segments.len();
    let refused = check::too_many(
        &format!("{field}.segments"),
        count,
        MAX_SEGMENTS,
        "segments",
        violations,
    );
    if refused {
        unit.segments.clear();
    }
    let mut segments: Vec<Segment> = Vec::with_capacity(unit.segments.len());
    for (i, segment) in unit.segments.into_iter().enumerate() {
        let lang = violations.lang(&format!("{field}.segments[{i}].lang"), &segment.lang);
        let tags = segment
            .tags
            .into_iter()
            .map(|tag| InlineTag {
                offset: tag.offset as usize,
                kind: match proto::TagKind::try_from(tag.kind) {
                    Ok(proto::TagKind::Begin) => TagKind::Begin,
                    Ok(proto::TagKind::End) => TagKind::End,
                    Ok(proto::TagKind::Isolated) => TagKind::Isolated,
                    Ok(proto::TagKind::HighlightStart) => TagKind::HighlightStart,
                    Ok(proto::TagKind::HighlightEnd) => TagKind::HighlightEnd,
                    Ok(proto::TagKind::Placeholder | proto::TagKind::Unspecified) | Err(_) => {
                        TagKind::Placeholder
                    }
                },
                xml: tag.xml,
            })
            .collect();
        segments.push(Segment {
            lang: lang.unwrap_or_else(Lang::en),
            text: segment.text,
            tags,
        });
    }
    let unit = TranslationUnit {
        id: unit.id,
        segments,
        origin: unit.origin,
        created_ms: unit
            .create_time
            .map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000),
        metadata: unit
            .metadata
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect(),
    };
    if refused {
        return unit;
    }
    check::unit(&unit, field, violations);
    for problem in check_tmx_markup(&unit) {
        violations.add(format!("{field}.{}", problem.field), problem.reason);
    }
    unit
}

/// The proto form of a stored unit.
pub fn unit_to_proto(unit: &TranslationUnit) -> proto::TranslationUnit {
    proto::TranslationUnit {
        id: unit.id.clone(),
        segments: unit
            .segments
            .iter()
            .map(|s| proto::Segment {
                lang: s.lang.to_string(),
                text: s.text.clone(),
                tags: s
                    .tags
                    .iter()
                    .map(|t| proto::InlineTag {
                        offset: t.offset as u32,
                        kind: tag_kind_to_proto(t.kind) as i32,
                        xml: t.xml.clone(),
                    })
                    .collect(),
            })
            .collect(),
        origin: unit.origin.clone(),
        create_time: timestamp(unit.created_ms),
        metadata: unit
            .metadata
            .iter()
            .map(|(name, value)| proto::Property {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

fn tag_kind_to_proto(kind: TagKind) -> proto::TagKind {
    match kind {
        TagKind::Begin => proto::TagKind::Begin,
        TagKind::End => proto::TagKind::End,
        TagKind::Placeholder => proto::TagKind::Placeholder,
        TagKind::Isolated => proto::TagKind::Isolated,
        TagKind::HighlightStart => proto::TagKind::HighlightStart,
        TagKind::HighlightEnd => proto::TagKind::HighlightEnd,
    }
}

/// A byte range as a proto span.
pub fn span(range: &std::ops::Range<usize>) -> proto::Span {
    proto::Span {
        start: range.start as u32,
        end: range.end as u32,
    }
}
