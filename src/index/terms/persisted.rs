//! A [`TermIndex`] as flat arrays and back: what `term_file.rs` writes at a checkpoint and
//! reads at start, so that a restart skips the text analysis (normalization, stems, pinyin),
//! the n-grams, the key tables and the automaton. The automaton comes first, so that it is
//! decoded on a thread of its own while the rest is read.
//!
//! Reading checks every offset and id against the arrays it points into: an index read back
//! answers as the one written or is refused with a [`FlatError`], it never panics later.

use std::collections::HashMap;
use std::sync::Arc;

use super::{
    in_id_order, Gram, IndexedTerm, KeyAutomaton, KeyText, Sketch, StemStarts, TermFacts, TermIndex,
};
use crate::index::flat::{FlatError, FlatReader, FlatWriter};
use crate::index::key_table::{KeyTable, TermId};
use crate::model::Concept;

pub(super) fn invalid(what: &'static str, reason: impl Into<String>) -> FlatError {
    FlatError::Invalid {
        what,
        reason: reason.into(),
    }
}

/// Concepts encoded each on its own (postcard, as the store keeps them), so that they can be
/// decoded on several threads.
pub(in crate::index) fn write_concepts(concepts: &[Arc<Concept>], out: &mut FlatWriter) {
    let mut ends = Vec::with_capacity(concepts.len());
    let mut encoded = Vec::new();
    for concept in concepts {
        // Encoding into a vector fails only for types serde cannot describe.
        if let Ok(bytes) = postcard::to_extend(&**concept, std::mem::take(&mut encoded)) {
            encoded = bytes;
        }
        ends.push(encoded.len() as u64);
    }
    out.u64s(&ends);
    out.bytes(&encoded);
}

/// Reads what [`write_concepts`] wrote, decoding on every core.
pub(in crate::index) fn read_concepts(
    body: &mut FlatReader<'_>,
) -> Result<Vec<Arc<Concept>>, FlatError> {
    let ends = body.u64s("concept ends")?;
    let encoded = body.bytes("concepts")?;
    if !ends.is_sorted() || ends.last().is_some_and(|&end| end != encoded.len() as u64) {
        return Err(invalid("concept ends", "out of order or past the concepts"));
    }
    let starts: Vec<u64> = std::iter::once(0).chain(ends.iter().copied()).collect();
    let decode = |range: std::ops::Range<usize>| -> Result<Vec<Arc<Concept>>, FlatError> {
        range
            .map(|i| {
                let bytes = &encoded[starts[i] as usize..starts[i + 1] as usize];
                postcard::from_bytes::<Concept>(bytes)
                    .map(Arc::new)
                    .map_err(|e| invalid("concept", e.to_string()))
            })
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = ends.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Arc<Concept>>, FlatError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ends.len())
            .step_by(chunk)
            .map(|first| {
                let last = (first + chunk).min(ends.len());
                scope.spawn(move || decode(first..last))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(invalid("concept", "decoder panicked")))
            })
            .collect()
    });
    let mut concepts = Vec::with_capacity(ends.len());
    for part in parts {
        concepts.extend(part?);
    }
    Ok(concepts)
}

impl TermIndex {
    /// Appends the index to a persisted body.
    pub(in crate::index) fn write(&self, out: &mut FlatWriter) {
        KeyAutomaton::write(self.automaton.as_ref(), out);
        write_concepts(&self.concepts, out);
        out.u32s(&self.terms.iter().map(|t| t.concept).collect::<Vec<_>>());
        out.u32s(
            &self
                .terms
                .iter()
                .map(|t| u32::from(t.section) << 16 | u32::from(t.term))
                .collect::<Vec<_>>(),
        );
        out.u32s(
            &self
                .terms
                .iter()
                .map(|t| t.stems.len() as u32)
                .collect::<Vec<_>>(),
        );
        let offsets: Vec<u64> = self
            .key_texts
            .iter()
            .flat_map(|k| [k.start as u64, k.stems_start as u64, k.end as u64])
            .collect();
        out.u64s(&offsets);
        out.u32s(
            &self
                .key_texts
                .iter()
                .map(|k| k.norm_chars)
                .collect::<Vec<_>>(),
        );
        let sketches: Vec<u32> = self
            .sketches
            .iter()
            .flat_map(|s| {
                [
                    s.norm_set,
                    s.stem_set,
                    u32::from(s.norm_chars) << 16 | u32::from(s.stem_chars),
                ]
            })
            .collect();
        out.u32s(&sketches);
        out.u32s(&self.length_starts);
        out.bytes(self.keys.as_bytes());
        self.exact.write(out);
        self.normalized.write(out);
        self.stemmed.write(out);
        self.stem_starts.write(out);
        self.stems_anywhere.write(out);
        self.pinyin.write(out);
        let mut grams: Vec<(&Gram, &Vec<TermId>)> = self.grams.iter().collect();
        grams.sort_unstable_by_key(|(gram, _)| **gram);
        out.u32s(
            &grams
                .iter()
                .flat_map(|(gram, _)| gram.map(u32::from))
                .collect::<Vec<_>>(),
        );
        let mut ends = Vec::with_capacity(grams.len());
        let mut postings = Vec::new();
        for (_, posting) in &grams {
            postings.extend_from_slice(posting);
            ends.push(postings.len() as u64);
        }
        out.u64s(&ends);
        out.u32s(&postings);
    }

    /// Reads an index [`write`](Self::write) appended.
    pub(in crate::index) fn read(body: &mut FlatReader<'_>) -> Result<TermIndex, FlatError> {
        let section = KeyAutomaton::section(body)?;
        std::thread::scope(|scope| {
            let automaton = scope.spawn(|| KeyAutomaton::decode(section));
            let index = TermIndex::read_without_automaton(body)?;
            let automaton = automaton
                .join()
                .unwrap_or_else(|_| Err(invalid("automaton", "decoder panicked")))?;
            if let Some(automaton) = &automaton {
                automaton.fits(index.terms.len())?;
            }
            Ok(TermIndex { automaton, ..index })
        })
    }

    /// Everything [`write`](Self::write) appended after the automaton.
    fn read_without_automaton(body: &mut FlatReader<'_>) -> Result<TermIndex, FlatError> {
        let concepts = read_concepts(body)?;
        let term_concepts = body.u32s("term concepts")?;
        let positions = body.u32s("term positions")?;
        let stem_counts = body.u32s("stem counts")?;
        let offsets = body.u64s("key offsets")?;
        let norm_chars = body.u32s("key lengths")?;
        let sketches = body.u32s("sketches")?;
        let length_starts = body.u32s("length starts")?;
        let keys = body.str("keys")?.to_owned();
        let terms = term_concepts.len();
        if [positions.len(), stem_counts.len(), norm_chars.len()] != [terms; 3]
            || offsets.len() != 3 * terms
            || sketches.len() != 3 * terms
        {
            return Err(invalid("terms", "arrays of different lengths"));
        }
        if !length_starts.is_sorted() || length_starts.last().is_some_and(|&s| s as usize > terms) {
            return Err(invalid(
                "length starts",
                "out of order or past the last term",
            ));
        }
        let mut indexed = Vec::with_capacity(terms);
        let mut facts = Vec::with_capacity(terms);
        let mut key_texts = Vec::with_capacity(terms);
        for id in 0..terms {
            let [start, stems_start, end] =
                [0, 1, 2].map(|i| usize::try_from(offsets[3 * id + i]).unwrap_or(usize::MAX));
            let in_keys = |at: usize| keys.is_char_boundary(at);
            if !(start <= stems_start
                && stems_start <= end
                && [start, stems_start, end].iter().all(|&at| in_keys(at)))
            {
                return Err(invalid(
                    "key offsets",
                    format!("term {id} points outside the keys"),
                ));
            }
            let (concept, section, term) = (
                term_concepts[id],
                (positions[id] >> 16) as u16,
                positions[id] as u16,
            );
            let stored = concepts
                .get(concept as usize)
                .and_then(|c| c.langs.get(section as usize))
                .and_then(|s| s.terms.get(term as usize));
            let Some(stored) = stored else {
                return Err(invalid("terms", format!("term {id} names no stored term")));
            };
            // Not written: read from the stored term, as the index built from it reads them.
            facts.push(TermFacts::of(stored, &keys[start..stems_start]));
            // The lengths the fuzzy filters trust must be the keys' own.
            let key_chars = keys[start..stems_start].chars().count();
            let stem_chars = keys[stems_start..end].chars().count();
            let sketch = &sketches[3 * id..3 * id + 3];
            let saturated = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).min(u16::MAX.into());
            if norm_chars[id] as usize != key_chars
                || sketch[2] != saturated(key_chars) << 16 | saturated(stem_chars)
            {
                return Err(invalid(
                    "key lengths",
                    format!("term {id} disagrees with its key"),
                ));
            }
            let stems: Box<[Box<str>]> = match stem_counts[id] {
                0 => Box::default(),
                _ => keys[stems_start..end].split(' ').map(Box::from).collect(),
            };
            if stems.len() != stem_counts[id] as usize {
                return Err(invalid("stems", format!("term {id} has another count")));
            }
            indexed.push(IndexedTerm {
                concept,
                section,
                term,
                stems,
            });
            key_texts.push(KeyText {
                start,
                stems_start,
                end,
                norm_chars: norm_chars[id],
            });
        }
        let sketches = sketches
            .chunks_exact(3)
            .map(|s| Sketch {
                norm_set: s[0],
                stem_set: s[1],
                norm_chars: (s[2] >> 16) as u16,
                stem_chars: s[2] as u16,
            })
            .collect();
        let exact = KeyTable::read(body, terms)?;
        let normalized = KeyTable::read(body, terms)?;
        let stemmed = KeyTable::read(body, terms)?;
        let stem_starts = StemStarts::read(body, terms)?;
        let stems_anywhere = KeyTable::read(body, terms)?;
        let pinyin = KeyTable::read(body, terms)?;
        let grams = read_grams(body, terms)?;
        Ok(TermIndex {
            concepts_by_id: in_id_order(&concepts),
            concepts,
            terms: indexed,
            facts,
            key_texts,
            sketches,
            length_starts,
            keys,
            exact,
            normalized,
            stemmed,
            stem_starts,
            stems_anywhere,
            grams,
            pinyin,
            automaton: None,
        })
    }
}

/// The n-gram postings, each list checked to hold only ids of the index's `terms` terms.
fn read_grams(
    body: &mut FlatReader<'_>,
    terms: usize,
) -> Result<HashMap<Gram, Vec<TermId>>, FlatError> {
    let chars = body.u32s("grams")?;
    let ends = body.u64s("gram ends")?;
    let postings = body.u32s("gram postings")?;
    if chars.len() != 3 * ends.len()
        || !ends.is_sorted()
        || ends.last().is_some_and(|&end| end != postings.len() as u64)
    {
        return Err(invalid("grams", "ends out of order or past the postings"));
    }
    if postings.iter().any(|&id| id as usize >= terms) {
        return Err(invalid("gram postings", "an id past the last term"));
    }
    let mut grams = HashMap::with_capacity(ends.len());
    let mut start = 0;
    for (gram, &end) in chars.chunks_exact(3).zip(&ends) {
        let mut key: Gram = ['\0'; 3];
        for (slot, &value) in key.iter_mut().zip(gram) {
            *slot = char::from_u32(value).ok_or_else(|| invalid("grams", "not a character"))?;
        }
        grams.insert(key, postings[start..end as usize].to_vec());
        start = end as usize;
    }
    Ok(grams)
}
