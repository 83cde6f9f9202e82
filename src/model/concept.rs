//! Concept-oriented terminology, shaped like TBX: a concept holds one section per language,
//! each section holds the terms that name the concept in that language.

use serde::{Deserialize, Serialize};

use super::Lang;

/// How official a term is. The order is the order a translator should prefer them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TermStatus {
    /// The standard rendering: use this one.
    Preferred,
    /// Acceptable, well-attested alternative.
    Admitted,
    /// Discouraged by official guidance; an editor should be warned.
    Deprecated,
    /// Must not be used at all (e.g. politically wrong names).
    Forbidden,
}

impl TermStatus {
    /// Whether an occurrence of a term with this status deserves a warning and a suggestion.
    pub fn is_discouraged(self) -> bool {
        matches!(self, TermStatus::Deprecated | TermStatus::Forbidden)
    }
}

/// The form of a term, as TBX's `termType` data category names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TermType {
    /// Not stated.
    #[default]
    Unspecified,
    /// The complete form (上海合作组织).
    FullForm,
    /// An acronym (SCO, ШОС).
    Acronym,
    /// An abbreviation (上合组织).
    Abbreviation,
    /// A shortened form.
    ShortForm,
    /// A spelling or other variant.
    Variant,
    /// A set phrase.
    Phrase,
}

/// One term: a word or phrase naming the concept in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The term as it is written, in its own script (traditional stays traditional).
    pub text: String,
    /// How official this term is.
    pub status: TermStatus,
    /// Full form, acronym, …
    pub term_type: TermType,
    /// Part of speech as the source states it (`noun`, `adjective`, …); empty when unknown.
    pub part_of_speech: String,
    /// Free note, e.g. why a variant is deprecated.
    pub note: String,
    /// Where this term is attested.
    pub source: String,
    /// An example sentence showing the term in use.
    pub context: String,
}

impl Term {
    /// A preferred full-form term with no further data; the common case in tests and imports.
    pub fn preferred(text: impl Into<String>) -> Term {
        Term::with_status(text, TermStatus::Preferred)
    }

    /// A term with the given status and no further data.
    pub fn with_status(text: impl Into<String>, status: TermStatus) -> Term {
        Term {
            text: text.into(),
            status,
            term_type: TermType::Unspecified,
            part_of_speech: String::new(),
            note: String::new(),
            source: String::new(),
            context: String::new(),
        }
    }
}

/// The terms of one concept in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangSection {
    /// The language of every term in this section.
    pub lang: Lang,
    /// The definition in this language; empty when none.
    pub definition: String,
    /// Notes on the concept in this language.
    pub notes: Vec<String>,
    /// Terms, in the order the terminologist gave them.
    pub terms: Vec<Term>,
}

impl LangSection {
    /// A section holding `terms` and no definition or notes yet: where readers, imports and
    /// tests start.
    pub fn new(lang: Lang, terms: Vec<Term>) -> LangSection {
        LangSection {
            lang,
            definition: String::new(),
            notes: Vec::new(),
            terms,
        }
    }

    /// The terms ordered for a translator: preferred first, then admitted, deprecated,
    /// forbidden; the stored order is kept within a status.
    pub fn terms_by_preference(&self) -> Vec<&Term> {
        let mut terms: Vec<&Term> = self.terms.iter().collect();
        terms.sort_by_key(|t| t.status);
        terms
    }

    /// The first preferred term, or failing that the best term there is.
    pub fn preferred_term(&self) -> Option<&Term> {
        self.terms.iter().min_by_key(|t| t.status)
    }
}

/// A concept: one meaning, named by terms in several languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concept {
    /// Stable identifier, unique across collections (e.g. `shanghai-spirit`).
    pub id: String,
    /// The collection (termbase) this concept belongs to.
    pub collection: String,
    /// Subject field, e.g. `SCO institutions`; empty when none.
    pub subject_field: String,
    /// Where the concept's renderings come from.
    pub source: String,
    /// Language-independent notes.
    pub notes: Vec<String>,
    /// Ids of related concepts.
    pub cross_refs: Vec<String>,
    /// One section per language.
    pub langs: Vec<LangSection>,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Last update time, milliseconds since the Unix epoch.
    pub updated_ms: i64,
    /// Incremented on every update; 1 for a new concept.
    pub revision: u64,
}

impl Concept {
    /// A concept of `collection` with these sections and nothing else yet (no subject field,
    /// source, notes or times, revision 0): where readers, imports and tests start.
    pub fn new(
        id: impl Into<String>,
        collection: impl Into<String>,
        langs: Vec<LangSection>,
    ) -> Concept {
        Concept {
            id: id.into(),
            collection: collection.into(),
            subject_field: String::new(),
            source: String::new(),
            notes: Vec::new(),
            cross_refs: Vec::new(),
            langs,
            created_ms: 0,
            updated_ms: 0,
            revision: 0,
        }
    }

    /// The section for exactly this language, if any.
    pub fn section(&self, lang: &Lang) -> Option<&LangSection> {
        self.langs.iter().find(|s| &s.lang == lang)
    }

    /// The sections that answer a request for `lang` (see [`Lang::accepts`]).
    pub fn sections_for<'a>(&'a self, lang: &'a Lang) -> impl Iterator<Item = &'a LangSection> {
        self.langs.iter().filter(move |s| s.lang.accepts(lang))
    }

    /// The terms a translator needs in `targets`: per language in the requested order (all
    /// sections in stored order when `targets` is empty), preferred first, then admitted,
    /// deprecated and forbidden.
    pub fn renderings<'a>(&'a self, targets: &'a [Lang]) -> Vec<(&'a Lang, &'a Term)> {
        let sections: Vec<&LangSection> = if targets.is_empty() {
            self.langs.iter().collect()
        } else {
            targets.iter().flat_map(|t| self.sections_for(t)).collect()
        };
        sections
            .into_iter()
            .flat_map(|s| {
                s.terms_by_preference()
                    .into_iter()
                    .map(move |t| (&s.lang, t))
            })
            .collect()
    }

    /// Every term of the concept with its language.
    pub fn terms(&self) -> impl Iterator<Item = (&Lang, &Term)> {
        self.langs
            .iter()
            .flat_map(|s| s.terms.iter().map(move |t| (&s.lang, t)))
    }
}

/// A named termbase or memory. Higher priority wins when two collections answer a query
/// equally well, so a newsroom's house style can sit above the shared glossary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Unique name.
    pub name: String,
    /// Larger numbers rank first.
    pub priority: i32,
    /// What the collection is for.
    pub description: String,
}
