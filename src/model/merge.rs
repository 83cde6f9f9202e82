//! What an import does when an entry's id is already stored: merge, replace or skip.
//!
//! Resolution is a pure function of the stored and the incoming entry, and it is idempotent
//! (resolving the same incoming entry against its own result changes nothing). Imports rely
//! on both: re-importing a file reports every entry unchanged, and an import interrupted while
//! it was being applied can simply be applied again after a restart.

use serde::{Deserialize, Serialize};

use super::{Concept, LangSection, TranslationUnit};

/// What an import does with an entry whose id is already stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnConflict {
    /// Add what the stored entry lacks; where both have an item, keep the stored one.
    #[default]
    Merge,
    /// The incoming entry replaces the stored one.
    Replace,
    /// Keep the stored entry as it is.
    Skip,
}

/// The outcome of resolving one incoming entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution<T> {
    /// Nothing was stored under the id: store this.
    Added(T),
    /// The stored entry changes to this.
    Updated(T),
    /// The result would equal what is stored.
    Unchanged,
    /// A conflict, left alone because the mode is [`OnConflict::Skip`].
    Skipped,
}

/// Entries an import can resolve against a stored entry with the same id.
pub trait Mergeable: Clone {
    /// Whether two entries say the same thing, ignoring bookkeeping (timestamps, revision,
    /// origin).
    fn same_content(&self, other: &Self) -> bool;

    /// `self` with what `incoming` adds; `self` wins where both have an item.
    fn merged_with(&self, incoming: &Self) -> Self;

    /// `incoming` as it replaces `self`, keeping `self`'s bookkeeping.
    fn replaced_by(&self, incoming: Self) -> Self;
}

/// Resolves `incoming` against `stored` (the entry with the same id, if any).
pub fn resolve<T: Mergeable>(stored: Option<&T>, incoming: T, mode: OnConflict) -> Resolution<T> {
    let Some(stored) = stored else {
        return Resolution::Added(incoming);
    };
    let result = match mode {
        OnConflict::Skip if !stored.same_content(&incoming) => return Resolution::Skipped,
        OnConflict::Skip => return Resolution::Unchanged,
        OnConflict::Merge => stored.merged_with(&incoming),
        OnConflict::Replace => stored.replaced_by(incoming),
    };
    if stored.same_content(&result) {
        Resolution::Unchanged
    } else {
        Resolution::Updated(result)
    }
}

/// Appends the items of `incoming` that `into` does not have yet.
fn union<T: PartialEq + Clone>(into: &mut Vec<T>, incoming: &[T]) {
    for item in incoming {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

/// `stored` unless it is empty.
fn keep_or_fill(stored: &mut String, incoming: &str) {
    if stored.trim().is_empty() {
        *stored = incoming.to_owned();
    }
}

impl Mergeable for Concept {
    fn same_content(&self, other: &Concept) -> bool {
        self.id == other.id
            && self.collection == other.collection
            && self.subject_field == other.subject_field
            && self.source == other.source
            && self.notes == other.notes
            && self.cross_refs == other.cross_refs
            && self.langs == other.langs
    }

    fn merged_with(&self, incoming: &Concept) -> Concept {
        let mut merged = self.clone();
        keep_or_fill(&mut merged.subject_field, &incoming.subject_field);
        keep_or_fill(&mut merged.source, &incoming.source);
        union(&mut merged.notes, &incoming.notes);
        union(&mut merged.cross_refs, &incoming.cross_refs);
        for section in &incoming.langs {
            match merged.langs.iter_mut().find(|s| s.lang == section.lang) {
                Some(stored) => merge_section(stored, section),
                None => merged.langs.push(section.clone()),
            }
        }
        merged
    }

    fn replaced_by(&self, incoming: Concept) -> Concept {
        Concept {
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            revision: self.revision,
            ..incoming
        }
    }
}

/// Adds to `stored` the terms (by text) and notes it lacks, and a definition if it has none.
fn merge_section(stored: &mut LangSection, incoming: &LangSection) {
    keep_or_fill(&mut stored.definition, &incoming.definition);
    union(&mut stored.notes, &incoming.notes);
    for term in &incoming.terms {
        if !stored.terms.iter().any(|t| t.text == term.text) {
            stored.terms.push(term.clone());
        }
    }
}

impl Mergeable for TranslationUnit {
    fn same_content(&self, other: &TranslationUnit) -> bool {
        self.id == other.id && self.segments == other.segments && self.metadata == other.metadata
    }

    fn merged_with(&self, incoming: &TranslationUnit) -> TranslationUnit {
        let mut merged = self.clone();
        for segment in &incoming.segments {
            if !merged.segments.iter().any(|s| s.lang == segment.lang) {
                merged.segments.push(segment.clone());
            }
        }
        union(&mut merged.metadata, &incoming.metadata);
        merged
    }

    fn replaced_by(&self, incoming: TranslationUnit) -> TranslationUnit {
        TranslationUnit {
            created_ms: self.created_ms,
            origin: self.origin.clone(),
            ..incoming
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, Segment, Term};

    fn concept(terms: &[(&str, &str)]) -> Concept {
        let mut langs: Vec<LangSection> = Vec::new();
        for (lang, text) in terms {
            let lang = Lang::parse(lang).unwrap();
            match langs.iter_mut().find(|s| s.lang == lang) {
                Some(section) => section.terms.push(Term::preferred(*text)),
                None => langs.push(LangSection::new(lang, vec![Term::preferred(*text)])),
            }
        }
        Concept {
            id: "c".into(),
            collection: "x".into(),
            subject_field: String::new(),
            source: String::new(),
            notes: vec![],
            cross_refs: vec![],
            langs,
            created_ms: 5,
            updated_ms: 6,
            revision: 3,
        }
    }

    #[test]
    fn merge_adds_what_is_missing_and_keeps_what_is_stored() {
        let stored = concept(&[("zh", "上海精神"), ("en", "Shanghai Spirit")]);
        let mut incoming = concept(&[("en", "Shanghai spirit"), ("ru", "Шанхайский дух")]);
        incoming.subject_field = "SCO".into();
        let Resolution::Updated(merged) = resolve(Some(&stored), incoming, OnConflict::Merge)
        else {
            panic!("merge must update");
        };
        let texts: Vec<&str> = merged.terms().map(|(_, t)| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "上海精神",
                "Shanghai Spirit",
                "Shanghai spirit",
                "Шанхайский дух"
            ]
        );
        assert_eq!(merged.subject_field, "SCO");
        assert_eq!(merged.revision, 3, "bookkeeping is the store's business");
    }

    #[test]
    fn resolution_is_idempotent_in_every_mode() {
        let stored = concept(&[("zh", "一带一路")]);
        let incoming = concept(&[("zh", "一带一路"), ("en", "Belt and Road")]);
        for mode in [OnConflict::Merge, OnConflict::Replace] {
            let Resolution::Updated(once) = resolve(Some(&stored), incoming.clone(), mode) else {
                panic!("{mode:?} must update");
            };
            assert_eq!(
                resolve(Some(&once), incoming.clone(), mode),
                Resolution::Unchanged,
                "{mode:?}"
            );
        }
        assert_eq!(
            resolve(Some(&stored), incoming.clone(), OnConflict::Skip),
            Resolution::Skipped
        );
        assert_eq!(
            resolve(Some(&stored), stored.clone(), OnConflict::Skip),
            Resolution::Unchanged
        );
        assert!(matches!(
            resolve(None, incoming, OnConflict::Skip),
            Resolution::Added(_)
        ));
    }

    #[test]
    fn units_merge_segments_by_language() {
        let segment = |lang: &str, text: &str| Segment {
            lang: Lang::parse(lang).unwrap(),
            text: text.into(),
            tags: vec![],
        };
        let stored = TranslationUnit {
            id: "u".into(),
            segments: vec![segment("zh", "你好"), segment("en", "Hello")],
            origin: "a.tmx".into(),
            created_ms: 1,
            metadata: vec![],
        };
        let incoming = TranslationUnit {
            segments: vec![segment("en", "Hi"), segment("ru", "Привет")],
            origin: "b.tmx".into(),
            created_ms: 2,
            ..stored.clone()
        };
        let Resolution::Updated(merged) =
            resolve(Some(&stored), incoming.clone(), OnConflict::Merge)
        else {
            panic!("merge must update");
        };
        let texts: Vec<&str> = merged.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["你好", "Hello", "Привет"]);
        let Resolution::Updated(replaced) = resolve(Some(&stored), incoming, OnConflict::Replace)
        else {
            panic!("replace must update");
        };
        assert_eq!(
            (replaced.origin.as_str(), replaced.created_ms),
            ("a.tmx", 1)
        );
        assert_eq!(replaced.segments[0].text, "Hi");
    }
}
