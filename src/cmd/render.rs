//! How responses are shown: the tables of each command, the import summary, canonical
//! proto3 JSON for `--json`, and writing to standard output.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::{Context, Result};
use prost::Message;
use tolmach::service::proto;

/// Prints a response as canonical proto3 JSON, using the descriptors built into the binary.
pub fn print_json(message_name: &str, message: &impl Message) -> Result<()> {
    let pool = prost_reflect::DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET)
        .context("the built-in descriptor set is unreadable")?;
    let descriptor = pool
        .get_message_by_name(message_name)
        .with_context(|| format!("{message_name} is not in the descriptor set"))?;
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    let mut json = serde_json::Serializer::pretty(Vec::new());
    dynamic.serialize_with_options(&mut json, &prost_reflect::SerializeOptions::new())?;
    let mut out = String::from_utf8(json.into_inner())?;
    out.push('\n');
    print(&out)
}

/// Writes command output; a reader that closed the pipe early (`| head`) is not an error.
pub fn print(out: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn search_table(response: &proto::SearchResponse) -> String {
    let mut out = String::new();
    if response.matches.is_empty() {
        out.push_str("no match\n");
    }
    for m in &response.matches {
        let _ = writeln!(
            out,
            "{:>4.0}%  {}  ({}/{})",
            m.score * 100.0,
            m.source,
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
        let _ = writeln!(out, "{indent}{mark} {:<8} {:<50} {status}", r.lang, r.text);
        if !r.pinyin.is_empty() {
            let _ = writeln!(out, "{indent}  {:<8} {}", "", r.pinyin);
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
        "{:<12} {:<30} {:<30} note",
        "chars", "surface", "standard rendering"
    );
    for o in &response.occurrences {
        let chars = o
            .chars
            .as_ref()
            .map_or(String::new(), |s| format!("{}..{}", s.start, s.end));
        // Renderings come best first per language: the first current one of each language
        // is its standard rendering (preferred, or admitted where none is preferred).
        let mut standard: Vec<&proto::Rendering> = Vec::new();
        for r in o.renderings.iter().filter(|r| is_current(r)) {
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
        let _ = writeln!(out, "{chars:<12} {surface:<30} {rendering:<30} {note}");
    }
    out
}

pub fn severity_name(severity: i32) -> &'static str {
    use proto::entry_problem::Severity;
    match Severity::try_from(severity) {
        Ok(Severity::Warning) => "warning:",
        Ok(Severity::Rejected) => "rejected:",
        Ok(Severity::Fatal) => "error:",
        _ => "",
    }
}

pub fn import_summary(report: &proto::ImportReport) -> String {
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
        "{:<24} {:>8} {:>10}  description\n",
        "collection", "priority", "concepts"
    );
    for c in collections {
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>10}  {}",
            c.name,
            c.priority,
            counts.get(&c.name).copied().unwrap_or(0),
            c.description
        );
    }
    out
}
