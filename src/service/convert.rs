//! Conversions between generated proto messages and domain types. Incoming concepts and units
//! are checked on the way in (the domain's checks, `app/check.rs`, plus what only a proto
//! value can get wrong: enum numbers, language tags); outgoing values cannot fail.

use prost_types::Timestamp;

use super::proto;
use crate::app::check;
use crate::formats::check_tmx_markup;
use crate::index::{MatchKind, Spans};
use crate::model::{
    Concept, InlineTag, Lang, LangSection, Segment, TagKind, Term, TermStatus, TermType,
    TranslationUnit, Violations,
};
use crate::text;

/// Turns a concept from a client into the domain type and checks it ([`check::concept`]);
/// violations name the field path, e.g. `concept.langs[1].terms[0].text`.
pub fn concept_from_proto(
    concept: proto::Concept,
    field: &str,
    violations: &mut Violations,
) -> Concept {
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

/// A time in ms since the Unix epoch, as a protobuf timestamp.
pub(crate) fn timestamp(ms: i64) -> Option<Timestamp> {
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
    concept
        .renderings(targets)
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
/// the field path, e.g. `units[0].segments[1].tags[2].xml`.
pub fn unit_from_proto(
    unit: proto::TranslationUnit,
    field: &str,
    violations: &mut Violations,
) -> TranslationUnit {
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
