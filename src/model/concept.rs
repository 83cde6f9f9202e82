//! Concept-oriented terminology, shaped like TBX: a concept holds one section per language,
//! each section holds the terms that name the concept in that language.

use serde::{Deserialize, Serialize};

use super::Lang;

/// How official a term is.
///
/// The variants are stored by their position (postcard), so a new one goes at the end; the
/// order a translator prefers them in is [`TermStatus::rank`], not the declaration order:
/// preferred, admitted, superseded, deprecated, forbidden. `Ord` follows that rank, so every
/// sort by status in the code base uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TermStatus {
    /// The standard rendering: use this one.
    Preferred,
    /// Acceptable, well-attested alternative; also what a term without a stated status is.
    Admitted,
    /// Discouraged by official guidance; an editor should be warned.
    Deprecated,
    /// Must not be used at all (e.g. politically wrong names).
    Forbidden,
    /// A former name, replaced by the preferred term (TBX `supersededTerm`): right in a
    /// sentence about the past (Nur-Sultan in 2019), so reported as a historical name with
    /// the current one, not as an error.
    Superseded,
}

impl TermStatus {
    /// Position in the order a translator prefers terms in: 0 for preferred, then admitted,
    /// superseded, deprecated and forbidden.
    pub fn rank(self) -> u8 {
        match self {
            TermStatus::Preferred => 0,
            TermStatus::Admitted => 1,
            TermStatus::Superseded => 2,
            TermStatus::Deprecated => 3,
            TermStatus::Forbidden => 4,
        }
    }

    /// Whether an occurrence of a term with this status deserves a warning and a suggestion.
    pub fn is_discouraged(self) -> bool {
        matches!(self, TermStatus::Deprecated | TermStatus::Forbidden)
    }

    /// Whether a term with this status is a name in use today (preferred or admitted).
    pub fn is_current(self) -> bool {
        matches!(self, TermStatus::Preferred | TermStatus::Admitted)
    }

    /// The status's name in lower case (`preferred`), as CSV files and the JSON API write it.
    pub fn name(self) -> &'static str {
        match self {
            TermStatus::Preferred => "preferred",
            TermStatus::Admitted => "admitted",
            TermStatus::Deprecated => "deprecated",
            TermStatus::Forbidden => "forbidden",
            TermStatus::Superseded => "superseded",
        }
    }
}

impl Ord for TermStatus {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for TermStatus {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
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

impl TermType {
    /// TBX's value of the type (`fullForm`, `acronym`); `None` when not stated.
    pub fn tbx_value(self) -> Option<&'static str> {
        match self {
            TermType::Unspecified => None,
            TermType::FullForm => Some("fullForm"),
            TermType::Acronym => Some("acronym"),
            TermType::Abbreviation => Some("abbreviation"),
            TermType::ShortForm => Some("shortForm"),
            TermType::Variant => Some("variant"),
            TermType::Phrase => Some("phrase"),
        }
    }
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
    /// A preferred term with no further data; the common case in tests.
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

    /// The terms ordered for a translator: preferred first, then admitted, superseded,
    /// deprecated, forbidden; the stored order is kept within a status.
    pub fn terms_by_preference(&self) -> Vec<&Term> {
        let mut terms: Vec<&Term> = self.terms.iter().collect();
        terms.sort_by_key(|t| t.status);
        terms
    }

    /// The first preferred term, or failing that the best term there is.
    pub fn preferred_term(&self) -> Option<&Term> {
        self.terms.iter().min_by_key(|t| t.status)
    }

    /// The name in use today: the first preferred term, else the first admitted one; `None`
    /// when every term is superseded, deprecated or forbidden.
    pub fn current_term(&self) -> Option<&Term> {
        self.preferred_term().filter(|t| t.status.is_current())
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
    /// superseded, deprecated and forbidden.
    pub fn renderings<'a>(&'a self, targets: &'a [Lang]) -> Vec<(&'a Lang, &'a Term)> {
        self.sections(targets)
            .into_iter()
            .flat_map(|s| {
                s.terms_by_preference()
                    .into_iter()
                    .map(move |t| (&s.lang, t))
            })
            .collect()
    }

    /// The standard rendering of each language of `targets` (each section's current term),
    /// in the order of [`Concept::renderings`]; languages with no current term are left out.
    pub fn standard_renderings<'a>(&'a self, targets: &'a [Lang]) -> Vec<(&'a Lang, &'a Term)> {
        self.sections(targets)
            .into_iter()
            .filter_map(|s| s.current_term().map(|t| (&s.lang, t)))
            .collect()
    }

    /// The sections of `targets` in their order, or all in stored order when it is empty.
    fn sections<'a>(&'a self, targets: &'a [Lang]) -> Vec<&'a LangSection> {
        if targets.is_empty() {
            self.langs.iter().collect()
        } else {
            targets.iter().flat_map(|t| self.sections_for(t)).collect()
        }
    }

    /// Every term of the concept with its language.
    pub fn terms(&self) -> impl Iterator<Item = (&Lang, &Term)> {
        self.langs
            .iter()
            .flat_map(|s| s.terms.iter().map(move |t| (&s.lang, t)))
    }
}

/// A named termbase or memory. Higher priority wins when two collections answer a query
/// equally well, so a newsroom's house style can sit above the shared glossary. A collection
/// created without a priority (by an import, or a concept stored in a new collection) gets 0,
/// below the shipped glossary, so that a large import does not outrank the curated terms
/// unless someone raises it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Unique name.
    pub name: String,
    /// Larger numbers rank first.
    pub priority: i32,
    /// What the collection is for.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_sort_in_the_order_a_translator_prefers() {
        let mut statuses = [
            TermStatus::Forbidden,
            TermStatus::Superseded,
            TermStatus::Preferred,
            TermStatus::Deprecated,
            TermStatus::Admitted,
        ];
        statuses.sort();
        let preferred_first = [
            TermStatus::Preferred,
            TermStatus::Admitted,
            TermStatus::Superseded,
            TermStatus::Deprecated,
            TermStatus::Forbidden,
        ];
        assert_eq!(statuses, preferred_first);
        let ranks: Vec<u8> = preferred_first.iter().map(|s| s.rank()).collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4]);
    }

    /// Stored concepts encode a status by its position in the enum: a new status must not
    /// move the old ones.
    #[test]
    fn stored_status_encodings_do_not_move() {
        let encoded = |status: TermStatus| postcard::to_stdvec(&status).expect("encodable");
        assert_eq!(encoded(TermStatus::Preferred), [0]);
        assert_eq!(encoded(TermStatus::Admitted), [1]);
        assert_eq!(encoded(TermStatus::Deprecated), [2]);
        assert_eq!(encoded(TermStatus::Forbidden), [3]);
        assert_eq!(encoded(TermStatus::Superseded), [4]);
    }

    #[test]
    fn the_current_term_skips_former_and_discouraged_names() {
        let section = LangSection::new(
            Lang::en(),
            vec![
                Term::with_status("Nur-Sultan", TermStatus::Superseded),
                Term::with_status("Akmola", TermStatus::Deprecated),
                Term::with_status("Astana", TermStatus::Admitted),
            ],
        );
        assert_eq!(
            section.current_term().map(|t| t.text.as_str()),
            Some("Astana")
        );
        let former = LangSection::new(
            Lang::en(),
            vec![Term::with_status("Nur-Sultan", TermStatus::Superseded)],
        );
        assert!(former.current_term().is_none());
    }
}
