//! How responses and errors are shown: the tables of each command (aligned in terminal
//! columns), the import summary, canonical proto3 JSON for `--json`, an error as one line,
//! and writing to standard output.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{Context, Result};
use prost::Message;
use tolmach::service::{code_name, proto};

/// Prints a response as canonical proto3 JSON, using the descriptors built into the binary.
pub fn print_json(message_name: &str, message: &impl Message) -> Result<()> {
    print_json_value(&to_json(message_name, message)?)
}

/// A message as canonical proto3 JSON, using the descriptors built into the binary.
pub fn to_json(message_name: &str, message: &impl Message) -> Result<serde_json::Value> {
    let pool = prost_reflect::DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET)
        .context("the built-in descriptor set is unreadable")?;
    let descriptor = pool
        .get_message_by_name(message_name)
        .with_context(|| format!("{message_name} is not in the descriptor set"))?;
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    Ok(dynamic.serialize_with_options(
        serde_json::value::Serializer,
        &prost_reflect::SerializeOptions::new(),
    )?)
}

/// Prints JSON pretty, on lines of its own.
pub fn print_json_value(json: &serde_json::Value) -> Result<()> {
    let mut out = serde_json::to_string_pretty(json)?;
    out.push('\n');
    print(&out)
}

/// An error on one line: its causes one after the other, and a gRPC status as its code and
/// message (`INVALID_ARGUMENT: text: required`) rather than tonic's description of it.
pub fn error_message(error: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        match cause.downcast_ref::<tonic::Status>() {
            // A status's sources repeat its message; an empty message leaves them to say it.
            Some(status) if status.message().is_empty() => {
                parts.push(code_name(status.code()).to_owned())
            }
            Some(status) => {
                parts.push(format!(
                    "{}: {}",
                    code_name(status.code()),
                    status.message()
                ));
                break;
            }
            None => parts.push(cause.to_string()),
        }
    }
    // Some transport errors wrap an error that says the same.
    parts.dedup();
    parts.join(": ")
}

/// `text` followed by spaces up to `columns` terminal columns (a Chinese character takes
/// two); text as wide or wider is returned as it is.
fn pad(text: &str, columns: usize) -> String {
    let width = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// Writes command output; a reader that closed the pipe early (`| head`) is not an error.
pub fn print(out: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The matches of a search for `query`, best first: score, the stored source with the
/// query's differences marked (see [`marked_differences`]), where it is stored, and the
/// translation.
pub fn search_table(query: &str, response: &proto::SearchResponse) -> String {
    let mut out = String::new();
    if response.matches.is_empty() {
        out.push_str("no match\n");
    }
    for m in &response.matches {
        let source = marked_differences(query, m).unwrap_or_else(|| m.source.clone());
        let _ = writeln!(
            out,
            "{:>4.0}%  {}  ({}/{})",
            m.score * 100.0,
            source,
            m.memory,
            m.unit_id
        );
        let _ = writeln!(out, "       {}", m.target);
        if m.numbers_only && m.adapted_target.is_empty() {
            out.push_str("       only numbers differ; adapt them by hand\n");
        } else if m.numbers_only {
            let _ = writeln!(
                out,
                "       only numbers differ; adapted: {}",
                m.adapted_target
            );
        }
    }
    out
}

/// A match's stored source with how `query` differs from it, in word-diff notation: `[-…-]`
/// is in the stored source and not in the query, `{+…+}` in the query instead or besides.
/// `None` when the match has no differences or a span does not fit the texts.
fn marked_differences(query: &str, m: &proto::MemoryMatch) -> Option<String> {
    if m.diffs.is_empty() {
        return None;
    }
    let source = m.source.as_str();
    let mut out = String::new();
    let mut at = 0;
    for diff in &m.diffs {
        let stored = text_at(source, diff.stored.as_ref(), at)?;
        let asked = text_at(query, diff.query.as_ref(), 0)?;
        out.push_str(&source[at..stored.start]);
        if !stored.is_empty() {
            let _ = write!(out, "[-{}-]", &source[stored.clone()]);
        }
        if !asked.is_empty() {
            // Words inserted between stored words keep the query's spaces around them.
            let inserted = stored.is_empty();
            let space_before = inserted
                && out.ends_with(|c: char| !c.is_whitespace())
                && query[..asked.start].ends_with(char::is_whitespace);
            let space_after = inserted
                && source[stored.end..].starts_with(|c: char| !c.is_whitespace())
                && query[asked.end..].starts_with(char::is_whitespace);
            let _ = write!(
                out,
                "{}{{+{}+}}{}",
                if space_before { " " } else { "" },
                &query[asked],
                if space_after { " " } else { "" }
            );
        }
        at = stored.end;
    }
    out.push_str(&source[at..]);
    Some(out)
}

/// The byte range `span` names in `text`, when it lies on character boundaries at or after
/// `from`.
fn text_at(text: &str, span: Option<&proto::Span>, from: usize) -> Option<std::ops::Range<usize>> {
    let span = span?;
    let range = span.start as usize..span.end as usize;
    (range.start >= from && range.start <= range.end && text.get(range.clone()).is_some())
        .then_some(range)
}

fn status_name(status: i32) -> &'static str {
    match proto::TermStatus::try_from(status) {
        Ok(proto::TermStatus::Preferred) => "preferred",
        Ok(proto::TermStatus::Admitted) => "admitted",
        Ok(proto::TermStatus::Deprecated) => "DEPRECATED",
        Ok(proto::TermStatus::Forbidden) => "FORBIDDEN",
        Ok(proto::TermStatus::Superseded) => "superseded",
        _ => "",
    }
}

fn kind_name(kind: i32) -> &'static str {
    proto::MatchKind::try_from(kind).map_or("", |k| match k {
        proto::MatchKind::Exact => "exact",
        proto::MatchKind::Normalized => "normalized",
        proto::MatchKind::Stemmed => "stemmed",
        proto::MatchKind::Fuzzy => "fuzzy",
        proto::MatchKind::Partial => "partial",
        proto::MatchKind::Pinyin => "pinyin",
        proto::MatchKind::Unspecified => "",
    })
}

fn write_renderings(out: &mut String, renderings: &[proto::Rendering], indent: &str) {
    for r in renderings {
        let status = status_name(r.status);
        let mark = if r.status == proto::TermStatus::Preferred as i32 {
            "»"
        } else {
            " "
        };
        let _ = writeln!(
            out,
            "{indent}{mark} {} {} {status}",
            pad(&r.lang, 8),
            pad(&r.text, 50)
        );
        if !r.pinyin.is_empty() {
            let _ = writeln!(out, "{indent}  {} {}", pad("", 8), r.pinyin);
        }
    }
}

pub fn lookup_table(response: &proto::LookupResponse) -> String {
    let mut out = String::new();
    if response.hits.is_empty() {
        out.push_str("no match\n");
    }
    for hit in &response.hits {
        let id = hit.concept.as_ref().map_or("", |c| c.id.as_str());
        let _ = writeln!(
            out,
            "{:.2}  {:<10}  {} [{}]  ({id})",
            hit.score,
            kind_name(hit.kind),
            hit.matched_term,
            hit.matched_lang
        );
        if hit.matched_status == proto::TermStatus::Superseded as i32 {
            let current = hit
                .concept
                .as_ref()
                .and_then(|c| current_term(c, &hit.matched_lang))
                .unwrap_or("?");
            let _ = writeln!(out, "      historical name (now: {current})");
        }
        write_renderings(&mut out, &hit.renderings, "      ");
    }
    out
}

/// The name in use today in `lang`: the concept's first preferred term there, else its first
/// admitted one.
fn current_term<'a>(concept: &'a proto::Concept, lang: &str) -> Option<&'a str> {
    let section = concept.langs.iter().find(|s| s.lang == lang)?;
    [proto::TermStatus::Preferred, proto::TermStatus::Admitted]
        .into_iter()
        .find_map(|status| section.terms.iter().find(|t| t.status == status as i32))
        .map(|t| t.text.as_str())
}

/// Whether a rendering is a name to write today (preferred or admitted).
fn is_current(rendering: &proto::Rendering) -> bool {
    rendering.status == proto::TermStatus::Preferred as i32
        || rendering.status == proto::TermStatus::Admitted as i32
}

/// The recognized text with its terms in brackets, then a row per occurrence: its span, its
/// surface, the standard renderings and what it warns of.
pub fn recognized_table(text: &str, response: &proto::RecognizeResponse) -> String {
    let mut out = String::new();
    let mut marked = String::new();
    let mut at = 0usize;
    for o in &response.occurrences {
        let Some(span) = &o.bytes else { continue };
        let (start, end) = (span.start as usize, span.end as usize);
        if start < at
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        marked.push_str(&text[at..start]);
        marked.push('[');
        marked.push_str(&text[start..end]);
        marked.push(']');
        at = end;
    }
    marked.push_str(&text[at..]);
    let _ = writeln!(out, "{}\n", marked.trim_end());
    let _ = writeln!(
        out,
        "{} {} {} note",
        pad("chars", 12),
        pad("surface", 30),
        pad("standard rendering", 30)
    );
    for o in &response.occurrences {
        let chars = o
            .chars
            .as_ref()
            .map_or(String::new(), |s| format!("{}..{}", s.start, s.end));
        // Renderings come best first per language: the first current one of each language
        // is its standard rendering (preferred, or admitted where none is preferred).
        let mut standard: Vec<&proto::Rendering> = Vec::new();
        // A compact reply names the concept by index; an inline one carries its renderings.
        let renderings = match response.concepts.get(o.concept_index as usize) {
            Some(named) if o.renderings.is_empty() => &named.renderings,
            _ => &o.renderings,
        };
        for r in renderings.iter().filter(|r| is_current(r)) {
            if standard.iter().all(|s| s.lang != r.lang) {
                standard.push(r);
            }
        }
        let rendering = standard
            .iter()
            .map(|r| format!("{}: {}", r.lang, r.text))
            .collect::<Vec<_>>()
            .join("; ");
        let note = if !o.current_term.is_empty() {
            format!("historical name (now: {})", o.current_term)
        } else if !o.suggestion.is_empty() {
            format!("{} — use «{}»", status_name(o.matched_status), o.suggestion)
        } else {
            String::new()
        };
        // A term broken across lines keeps the table on one line per occurrence.
        let surface = o.surface.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(
            out,
            "{} {} {} {note}",
            pad(&chars, 12),
            pad(&surface, 30),
            pad(&rendering, 30)
        );
    }
    out
}

/// Every problem, one per line as `file:line:column: severity [entry] reason`, then the
/// report's summary.
pub fn problems_and_summary(
    name: &str,
    problems: &[proto::EntryProblem],
    report: Option<&proto::ImportReport>,
) -> String {
    let mut out = String::new();
    for p in problems {
        let _ = writeln!(
            out,
            "{name}:{}:{}: {} {}{}",
            p.line,
            p.column,
            severity_name(p.severity),
            if p.entry_id.is_empty() {
                String::new()
            } else {
                format!("[{}] ", p.entry_id)
            },
            p.reason
        );
    }
    if let Some(report) = report {
        out.push_str(&import_summary(report));
    }
    out
}

fn severity_name(severity: i32) -> &'static str {
    use proto::entry_problem::Severity;
    match Severity::try_from(severity) {
        Ok(Severity::Warning) => "warning:",
        Ok(Severity::Rejected) => "rejected:",
        Ok(Severity::Fatal) => "error:",
        _ => "",
    }
}

fn import_summary(report: &proto::ImportReport) -> String {
    let outcome = if report.dry_run {
        "dry run: nothing written"
    } else if report.committed {
        "committed"
    } else {
        "refused: nothing written"
    };
    let mut out = format!("\n{outcome}\n");
    for (label, value) in [
        ("entries read", report.entries_read),
        ("accepted", report.accepted),
        ("rejected", report.rejected),
        ("warnings", report.warnings),
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("skipped", report.skipped),
    ] {
        let _ = writeln!(out, "  {label:<14}{value:>10}");
    }
    out
}

pub fn collections_table(
    collections: &[proto::Collection],
    counts: &std::collections::HashMap<String, usize>,
) -> String {
    let mut out = format!(
        "{} {:>8} {:>10}  description\n",
        pad("collection", 24),
        "priority",
        "concepts"
    );
    for c in collections {
        let _ = writeln!(
            out,
            "{} {:>8} {:>10}  {}",
            pad(&c.name, 24),
            c.priority,
            counts.get(&c.name).copied().unwrap_or(0),
            c.description
        );
    }
    out
}

/// One Watch event on one line: its revision, its kind and what it names, e.g.
/// `12 concept_upserted shanghai-spirit (sco-glossary) r3 by desk-7: terms.ru, notes`.
pub fn watch_line(event: &proto::WatchEvent) -> String {
    use proto::watch_event::Event;
    let by = if event.author.is_empty() {
        String::new()
    } else {
        format!(" by {}", event.author)
    };
    let what = match &event.event {
        Some(Event::ConceptUpserted(upserted)) => {
            let concept = upserted.concept.clone().unwrap_or_default();
            format!(
                "concept_upserted {} ({}) r{}{by}: {}",
                concept.id,
                concept.collection,
                concept.revision,
                upserted.changed_fields.join(", ")
            )
        }
        Some(Event::ConceptDeleted(deleted)) => format!(
            "concept_deleted {} ({}) r{}{by}",
            deleted.id, deleted.collection, deleted.concept_revision
        ),
        Some(Event::CollectionUpserted(collection)) => format!(
            "collection_upserted {} priority {}{by}",
            collection.name, collection.priority
        ),
        Some(Event::CollectionDeleted(deleted)) => format!(
            "collection_deleted {} with {} concepts{by}",
            deleted.name, deleted.deleted_concepts
        ),
        Some(Event::SnapshotConcept(concept)) => format!(
            "snapshot_concept {} ({}) r{}",
            concept.id, concept.collection, concept.revision
        ),
        Some(Event::SnapshotEnd(_)) => "snapshot_end".to_owned(),
        Some(Event::Bookmark(_)) => "bookmark".to_owned(),
        None => "unknown event (a newer server?)".to_owned(),
    };
    format!("{} {what}\n", event.revision)
}

/// The findings of a translation check grouped by pair, each with its source and target
/// places shown in context (`[…]` around the span), then a summary.
pub fn check_report(
    pairs: &[proto::SegmentPair],
    response: &proto::CheckTranslationResponse,
) -> String {
    let mut out = String::new();
    let mut with_findings = 0;
    for (pair, answer) in pairs.iter().zip(&response.pairs) {
        if answer.findings.is_empty() {
            continue;
        }
        with_findings += 1;
        let _ = writeln!(out, "{}", answer.id);
        for finding in &answer.findings {
            let severity = match finding.severity() {
                proto::FindingSeverity::Error => "error",
                _ => "warning",
            };
            let _ = writeln!(out, "  {} {}", pad(severity, 7), finding.message);
            for (side, text, place) in [
                ("source", &pair.source_text, &finding.source),
                ("target", &pair.target_text, &finding.target),
            ] {
                if let Some(place) = place {
                    let _ = writeln!(out, "          {side}: {}", in_context(text, place));
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "{} pair(s) checked, {with_findings} with findings: {} error(s), {} warning(s){}",
        response.pairs.len(),
        response.errors,
        response.warnings,
        if response.omitted_findings > 0 {
            format!(
                " ({} finding(s) not shown: the reply reached its size limit)",
                response.omitted_findings
            )
        } else {
            String::new()
        }
    );
    out
}

/// Characters of context shown on each side of a span.
const CONTEXT_CHARS: usize = 30;

/// The span of `place` in `text` marked with `[…]`, with a little text on each side, on one
/// line.
fn in_context(text: &str, place: &proto::TextPlace) -> String {
    let Some(span) = &place.bytes else {
        return place.surface.clone();
    };
    let (start, end) = (span.start as usize, span.end as usize);
    let (Some(before), Some(surface), Some(after)) =
        (text.get(..start), text.get(start..end), text.get(end..))
    else {
        return place.surface.clone();
    };
    let before_chars = before.chars().count();
    let mut shown: String = before
        .chars()
        .skip(before_chars.saturating_sub(CONTEXT_CHARS))
        .collect();
    if before_chars > CONTEXT_CHARS {
        shown.insert(0, '…');
    }
    shown.push('[');
    shown.push_str(surface);
    shown.push(']');
    shown.extend(after.chars().take(CONTEXT_CHARS));
    if after.chars().count() > CONTEXT_CHARS {
        shown.push('…');
    }
    shown.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(range: std::ops::Range<u32>) -> Option<proto::Span> {
        Some(proto::Span {
            start: range.start,
            end: range.end,
        })
    }

    fn stored_match(source: &str, diffs: Vec<proto::DiffSpan>) -> proto::MemoryMatch {
        proto::MemoryMatch {
            source: source.into(),
            diffs,
            ..Default::default()
        }
    }

    #[test]
    fn padding_counts_chinese_characters_two_columns_wide() {
        assert_eq!(pad("峰会", 6), "峰会  ");
        assert_eq!(pad("ШОС", 6), "ШОС   ");
        assert_eq!(pad("上海合作组织", 4), "上海合作组织");
    }

    #[test]
    fn a_deletion_at_the_end_is_marked_where_it_was() {
        let m = stored_match(
            "summit in Astana",
            vec![proto::DiffSpan {
                kind: proto::DiffKind::Deleted as i32,
                query: span(6..6),
                stored: span(6..16),
            }],
        );
        assert_eq!(
            marked_differences("summit", &m).as_deref(),
            Some("summit[- in Astana-]")
        );
    }

    #[test]
    fn differences_that_do_not_fit_the_texts_leave_the_source_unmarked() {
        let diff = |query, stored| proto::DiffSpan {
            kind: proto::DiffKind::Replaced as i32,
            query,
            stored,
        };
        // Inside a character, past the end, missing, and out of order.
        for diffs in [
            vec![diff(span(0..1), span(0..3))],
            vec![diff(span(0..3), span(3..99))],
            vec![diff(None, span(0..3))],
            vec![diff(span(0..3), span(3..6)), diff(span(0..3), span(0..3))],
        ] {
            let m = stored_match("峰会在", diffs.clone());
            assert_eq!(marked_differences("会议在", &m), None, "{diffs:?}");
        }
        assert_eq!(
            marked_differences("峰会在", &stored_match("峰会在", vec![])),
            None
        );
    }

    #[test]
    fn a_status_is_shown_as_its_code_and_message_after_the_context() {
        let error = anyhow::Error::from(tonic::Status::invalid_argument("text: required"))
            .context("lookup");
        assert_eq!(
            error_message(&error),
            "lookup: INVALID_ARGUMENT: text: required"
        );
    }
}
