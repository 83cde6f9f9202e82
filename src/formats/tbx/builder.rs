//! One TBX entry under construction: the structure open inside it and the data categories
//! read so far, mapped onto the fields of [`Concept`] when the entry ends.
//!
//! Must not read XML: the reader hands it start tags and element texts.

use crate::formats::xml::{collapse_space, Tag};
use crate::formats::{ConceptEntry, FormatError, ReadWarning};
use crate::model::violation::MAX_ITEMS;
use crate::model::{Concept, Lang, LangSection, Term, TermStatus, TermType};

use super::id::decode_id;
use super::status::{parse_status, parse_term_type, FORBIDDEN_NOTE, POS_NOTE_PREFIX};

/// An element open inside an entry, on the reader's stack (innermost last).
pub(super) enum Frame {
    Section,
    TermSec,
    Group(Group),
}

/// An open group (`descripGrp`, `transacGrp`, …) inside an entry.
pub(super) struct Group {
    /// Its local name.
    pub(super) name: String,
    /// How many of its head elements (`descrip` in a `descripGrp`, …) it has held so far.
    pub(super) heads: u32,
}

impl Group {
    pub(super) fn new(tag: &Tag) -> Group {
        Group {
            name: tag.local().to_owned(),
            heads: 0,
        }
    }
}

/// The data category an element stands for: the `type` of a DCA element, the element's own
/// local name for DCT and TBX-Min elements.
pub(super) fn category(tag: &Tag) -> &str {
    match tag.local() {
        "descrip" | "termNote" | "admin" | "ref" | "xref" | "transac" | "transacNote" => {
            tag.attr("type").unwrap_or_else(|| tag.local())
        }
        local => local,
    }
}

/// A term section being read.
pub(super) struct TermBuilder {
    pub(super) text: Option<String>,
    /// An empty `<term/>` was seen (and tolerated).
    placeholder: bool,
    status: Option<TermStatus>,
    /// Where in `notes` the first `<note>forbidden</note>` is. Only that one is the marker of
    /// a forbidden term, and only next to a deprecated status: any other note saying
    /// "forbidden" is the terminologist's own and stays where it was.
    forbidden_note: Option<usize>,
    term_type: TermType,
    part_of_speech: String,
    notes: Vec<String>,
    sources: Vec<String>,
    contexts: Vec<String>,
    line: u64,
    column: u64,
    /// Elements read directly in the term section so far, for the rule that `<term>` comes
    /// first.
    pub(super) children: u32,
    /// The first element directly in the term section that is neither the term nor a term
    /// note (name, line), for the rule that term notes come right after the term.
    pub(super) aux: Option<(String, u64)>,
}

/// A language section being read; the sections of one language in an entry are one.
pub(super) struct SectionBuilder {
    lang: Lang,
    definition: Vec<String>,
    notes: Vec<String>,
    terms: Vec<Term>,
}

/// An entry being read: its concept-level data, its language sections, and the section and
/// term section open now.
pub(super) struct EntryBuilder {
    id: String,
    generated_id: bool,
    line: u64,
    column: u64,
    subject_field: Vec<String>,
    sources: Vec<String>,
    notes: Vec<String>,
    cross_refs: Vec<String>,
    /// Concept-level definitions: they belong to the file's main language.
    definitions: Vec<String>,
    sections: Vec<SectionBuilder>,
    pub(super) current_section: Option<usize>,
    pub(super) current_term: Option<TermBuilder>,
    warnings: Vec<ReadWarning>,
    pub(super) skip_empty_terms: bool,
}

fn push_joined(target: &mut String, sep: &str, text: &str) {
    if !target.is_empty() {
        target.push_str(sep);
    }
    target.push_str(text);
}

impl EntryBuilder {
    pub(super) fn new(start: &Tag, ordinal: u64) -> EntryBuilder {
        let given = start
            .attr("id")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(decode_id);
        EntryBuilder {
            generated_id: given.is_none(),
            id: given.unwrap_or_else(|| format!("entry-{ordinal}")),
            line: start.line,
            column: start.column,
            subject_field: Vec::new(),
            sources: Vec::new(),
            notes: Vec::new(),
            cross_refs: Vec::new(),
            definitions: Vec::new(),
            sections: Vec::new(),
            current_section: None,
            current_term: None,
            warnings: Vec::new(),
            skip_empty_terms: false,
        }
    }

    pub(super) fn open_section(&mut self, tag: &Tag) -> Result<(), FormatError> {
        if self.current_section.is_some() || self.current_term.is_some() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> inside another language section", tag.name),
            ));
        }
        let Some(value) = tag.attr_local("lang") else {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> has no xml:lang", tag.name),
            ));
        };
        let lang = Lang::parse(value).map_err(|err| {
            FormatError::rejected(tag.line, tag.column, format!("<{}>: {err}", tag.name))
        })?;
        let index = match self.sections.iter().position(|s| s.lang == lang) {
            Some(i) => i,
            // Each section is looked up among those before it: bounded, so an entry costs
            // linear time however many it names.
            None if self.sections.len() == MAX_ITEMS => {
                return Err(FormatError::rejected(
                    tag.line,
                    tag.column,
                    format!("more than {MAX_ITEMS} language sections in one entry, the limit"),
                ));
            }
            None => {
                self.sections.push(SectionBuilder {
                    lang,
                    definition: Vec::new(),
                    notes: Vec::new(),
                    terms: Vec::new(),
                });
                self.sections.len() - 1
            }
        };
        self.current_section = Some(index);
        Ok(())
    }

    pub(super) fn close_section(&mut self) {
        self.current_section = None;
    }

    pub(super) fn open_term(&mut self, tag: &Tag) -> Result<(), FormatError> {
        if self.current_section.is_none() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> outside a language section", tag.name),
            ));
        }
        if self.current_term.is_some() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> inside another term section", tag.name),
            ));
        }
        self.current_term = Some(TermBuilder {
            text: None,
            placeholder: false,
            status: None,
            forbidden_note: None,
            term_type: TermType::Unspecified,
            part_of_speech: String::new(),
            notes: Vec::new(),
            sources: Vec::new(),
            contexts: Vec::new(),
            line: tag.line,
            column: tag.column,
            children: 0,
            aux: None,
        });
        Ok(())
    }

    pub(super) fn close_term(&mut self) -> Result<(), FormatError> {
        let Some(t) = self.current_term.take() else {
            return Ok(());
        };
        let Some(section) = self.current_section.and_then(|i| self.sections.get_mut(i)) else {
            return Ok(());
        };
        let Some(text) = t.text else {
            if t.placeholder {
                self.warnings
                    .push(ReadWarning::new(t.line, t.column, "empty <term> dropped"));
                return Ok(());
            }
            return Err(FormatError::rejected(
                t.line,
                t.column,
                "term section without a <term>",
            ));
        };
        let mut notes = t.notes;
        let status = match (t.status, t.forbidden_note) {
            (Some(TermStatus::Deprecated), Some(marker)) => {
                notes.remove(marker);
                Some(TermStatus::Forbidden)
            }
            (status, _) => status,
        };
        let mut part_of_speech = t.part_of_speech;
        if part_of_speech == "other" {
            if let Some(i) = notes.iter().position(|n| n.starts_with(POS_NOTE_PREFIX)) {
                part_of_speech = notes.remove(i)[POS_NOTE_PREFIX.len()..].to_owned();
            }
        }
        // A term whose status nobody stated is admitted, as in CSV files and the API: only a
        // terminologist makes a term preferred (and a dictionary that states no status must
        // not outrank a glossary that does). The first term still comes first among equals.
        let mut term = Term::with_status(text, status.unwrap_or(TermStatus::Admitted));
        term.term_type = t.term_type;
        term.part_of_speech = part_of_speech;
        term.note = notes.join("\n");
        term.source = t.sources.join("; ");
        term.context = t.contexts.join("\n");
        section.terms.push(term);
        Ok(())
    }

    fn warn(&mut self, tag: &Tag, message: impl std::fmt::Display) {
        self.warnings
            .push(ReadWarning::new(tag.line, tag.column, message));
    }

    /// Records a data category (or the `<term>` itself) read at the current level.
    pub(super) fn data(&mut self, tag: &Tag, raw_text: &str) -> Result<(), FormatError> {
        let text = collapse_space(raw_text);
        let cat = category(tag).to_owned();
        if cat == "term" {
            return self.term_text(tag, text);
        }
        let target = tag.attr("target").map(str::to_owned);
        if text.is_empty() && target.is_none() {
            return Ok(());
        }
        let in_term = self.current_term.is_some();
        let section = self.current_section;
        match cat.as_str() {
            "subjectField" => self.subject_field.push(text),
            "definition" => match (in_term, section) {
                (true, Some(i)) if self.sections[i].definition.is_empty() => {
                    self.sections[i].definition.push(text)
                }
                (true, _) => self.term_note(format!("Definition: {text}")),
                (false, Some(i)) => self.sections[i].definition.push(text),
                (false, None) => self.definitions.push(text),
            },
            "context" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        t.contexts.push(text);
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(format!("Context: {text}")),
                (false, None) => self.notes.push(format!("Context: {text}")),
            },
            "note" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        if t.forbidden_note.is_none() && text.eq_ignore_ascii_case(FORBIDDEN_NOTE) {
                            t.forbidden_note = Some(t.notes.len());
                        }
                        t.notes.push(text);
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(text),
                (false, None) => self.notes.push(text),
            },
            "source" | "sourceIdentifier" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        if !t.sources.contains(&text) {
                            t.sources.push(text);
                        }
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(format!("Source: {text}")),
                (false, None) => {
                    if !self.sources.contains(&text) {
                        self.sources.push(text)
                    }
                }
            },
            "administrativeStatus" | "normativeAuthorization" | "termStatus" => {
                match (parse_status(&text), self.current_term.as_mut()) {
                    (Some(status), Some(t)) => match t.status {
                        None => t.status = Some(status),
                        Some(previous) if previous != status => self.warn(
                            tag,
                            format!("second status {text:?} ignored; the term keeps {previous:?}"),
                        ),
                        Some(_) => {}
                    },
                    (None, Some(_)) => {
                        self.warn(tag, format!("unknown {cat} value {text:?} kept as a note"));
                        self.term_note(format!("{cat}: {text}"));
                    }
                    (_, None) => self.unmapped(tag, &cat, text),
                }
            }
            "termType" => {
                match (parse_term_type(&text), self.current_term.as_mut()) {
                    (Some(term_type), Some(t)) => t.term_type = term_type,
                    (None, Some(_)) => {
                        self.warn(
                        tag,
                        format!("termType {text:?} has no equivalent; kept as a note, type unspecified"),
                    );
                        self.term_note(format!("termType: {text}"));
                    }
                    (_, None) => self.unmapped(tag, &cat, text),
                }
            }
            "partOfSpeech" => match self.current_term.as_mut() {
                Some(t) if t.part_of_speech.is_empty() => t.part_of_speech = text,
                _ => self.unmapped(tag, &cat, text),
            },
            "crossReference" => {
                let reference = target.unwrap_or(text);
                if !reference.is_empty() && !self.cross_refs.contains(&reference) {
                    self.cross_refs.push(reference);
                }
            }
            // Transaction data outside a transacGrp: the store keeps its own history.
            "transactionType" | "responsibility" | "date" => {}
            _ => {
                let text = match target {
                    Some(target) if text.is_empty() => target,
                    Some(target) if target != text => format!("{text} <{target}>"),
                    _ => text,
                };
                self.unmapped(tag, &cat, text)
            }
        }
        Ok(())
    }

    fn term_text(&mut self, tag: &Tag, text: String) -> Result<(), FormatError> {
        let Some(t) = self.current_term.as_mut() else {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                "<term> outside a term section",
            ));
        };
        if text.is_empty() {
            if self.skip_empty_terms {
                t.placeholder = true;
                return Ok(());
            }
            return Err(FormatError::rejected(tag.line, tag.column, "empty <term>"));
        }
        if t.text.is_some() {
            self.warn(
                tag,
                format!("second <term> {text:?} in one term section ignored"),
            );
            return Ok(());
        }
        t.text = Some(text);
        Ok(())
    }

    fn term_note(&mut self, note: String) {
        if let Some(t) = self.current_term.as_mut() {
            t.notes.push(note);
        }
    }

    /// Keeps a data category the model has no field for as a note at its level.
    fn unmapped(&mut self, tag: &Tag, cat: &str, text: String) {
        let note = format!("{cat}: {text}");
        self.warn(
            tag,
            format!("data category {cat:?} has no field; kept as a note"),
        );
        match (self.current_term.as_mut(), self.current_section) {
            (Some(t), _) => t.notes.push(note),
            (None, Some(i)) => self.sections[i].notes.push(note),
            (None, None) => self.notes.push(note),
        }
    }

    pub(super) fn finish(mut self, root_lang: Option<&Lang>) -> Result<ConceptEntry, FormatError> {
        let mut langs = Vec::with_capacity(self.sections.len());
        for section in std::mem::take(&mut self.sections) {
            if section.terms.is_empty() {
                self.warnings.push(ReadWarning::new(
                    self.line,
                    self.column,
                    format!(
                        "language section {} has no terms and was dropped",
                        section.lang
                    ),
                ));
                continue;
            }
            langs.push(LangSection {
                lang: section.lang,
                definition: section.definition.join("\n"),
                notes: section.notes,
                terms: section.terms,
            });
        }
        if langs.is_empty() {
            return Err(FormatError::rejected(
                self.line,
                self.column,
                "the entry has no terms",
            ));
        }
        let mut notes = self.notes;
        for definition in self.definitions {
            // A concept-level definition is in the file's language when it states one.
            let home = root_lang
                .and_then(|root| langs.iter().position(|s| &s.lang == root))
                .or_else(|| (langs.len() == 1).then_some(0));
            match home {
                Some(i) if langs[i].definition.is_empty() => langs[i].definition = definition,
                _ => notes.push(format!("Definition: {definition}")),
            }
        }
        let mut subject_field = String::new();
        for s in &self.subject_field {
            push_joined(&mut subject_field, "; ", s);
        }
        Ok(ConceptEntry {
            concept: Concept {
                id: self.id,
                collection: String::new(),
                subject_field,
                source: self.sources.join("; "),
                notes,
                cross_refs: self.cross_refs,
                langs,
                created_ms: 0,
                updated_ms: 0,
                revision: 0,
            },
            line: self.line,
            column: self.column,
            warnings: self.warnings,
            generated_id: self.generated_id,
        })
    }
}
