//! Concordance search: the units whose segment contains a phrase, found through the same
//! posting lists as fuzzy search, with every occurrence's span in the text as written.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::analyze::{self, is_numeral, Mode, Unit};
use super::part::{gram2, Lane};
use super::snapshot::{answers, MemoryIndex};
use crate::index::Cancel;
use crate::model::{Lang, TranslationUnit};
use crate::text::{self, is_han, NormalizedText};

/// One unit containing a concordance phrase.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConcordanceHit {
    /// The unit.
    pub unit: Arc<TranslationUnit>,
    /// The memory it is stored in.
    pub memory: String,
    /// The segment text containing the phrase.
    pub text: String,
    /// Where the phrase occurs, as bytes of `text`, in order and non-overlapping.
    pub spans: Vec<Range<usize>>,
    /// The unit's other segments.
    pub translations: Vec<(Lang, String)>,
}

impl MemoryIndex {
    /// Concordance: units whose `lang` segment contains `phrase` after normalization, on token
    /// boundaries for alphabetic languages and as a substring for Chinese, with every
    /// occurrence's span. Ordered by memory priority (order in `memories`, else name), then
    /// unit id; at most `limit` hits.
    pub fn concordance(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
    ) -> Vec<ConcordanceHit> {
        self.concordance_cancellable(phrase, lang, memories, limit, &Cancel::never())
    }

    /// [`concordance`](Self::concordance) for a call that may end first: once `cancel` is
    /// set, the candidates' verification stops and the (partial) answer is for nobody.
    pub fn concordance_cancellable(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
        cancel: &Cancel,
    ) -> Vec<ConcordanceHit> {
        let mode = Mode::of(lang);
        let needle = text::normalize_key(phrase);
        let needle_units = analyze::units(mode, &needle);
        if needle_units.is_empty() || limit == 0 {
            return Vec::new();
        }
        let needle_words: Vec<&str> = needle_units
            .iter()
            .map(|u| needle.get(u.range.clone()).unwrap_or_default())
            .collect();
        let priorities = self.priorities(memories);
        let mut hits: Vec<(usize, &str, u32, u32, ConcordanceHit)> = Vec::new();
        let mut checkpoint = cancel.checkpoint();
        for (number, live_part) in self.parts.iter().enumerate() {
            let part = &live_part.part;
            let Some(lane) = part.lane(lang.primary()) else {
                continue;
            };
            let Some(required) = required_grams(lane, &needle, &needle_units, &needle_words) else {
                continue;
            };
            let candidates: Vec<u32> = if required.is_empty() {
                (0..lane.entries() as u32).collect()
            } else {
                let mut lists: Vec<&[u32]> = required.iter().map(|&g| lane.postings(g)).collect();
                lists.sort_by_key(|l| l.len());
                intersect(&lists)
            };
            for entry in candidates {
                if checkpoint.stop() {
                    return Vec::new();
                }
                let Some((slot, segment)) = lane.entry(entry) else {
                    continue;
                };
                if !live_part.alive(slot) {
                    continue;
                }
                let Some(priority) = part
                    .memory(slot)
                    .and_then(|m| priorities.get(m as usize).copied().flatten())
                else {
                    continue;
                };
                if !part
                    .segment_langs(slot)
                    .nth(segment as usize)
                    .is_some_and(|l| answers(l, lang))
                {
                    continue;
                }
                let Some(unit) = part.unit(slot) else {
                    continue;
                };
                let Some(seg) = unit.segments.get(segment as usize) else {
                    continue;
                };
                let normalized = text::normalize(&seg.text);
                let spans = find_phrase(mode, &normalized, &needle, &needle_words);
                if spans.is_empty() {
                    continue;
                }
                let translations = unit
                    .segments
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != segment as usize)
                    .map(|(_, s)| (s.lang.clone(), s.text.clone()))
                    .collect();
                let text = seg.text.clone();
                let memory = part
                    .memory(slot)
                    .and_then(|m| self.memories.names.get(m as usize))
                    .cloned()
                    .unwrap_or_default();
                hits.push((
                    priority,
                    part.unit_id(slot),
                    number as u32,
                    slot,
                    ConcordanceHit {
                        unit: Arc::new(unit),
                        memory,
                        text,
                        spans,
                        translations,
                    },
                ));
            }
        }
        hits.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
        hits.dedup_by_key(|h| (h.2, h.3));
        hits.truncate(limit);
        hits.into_iter().map(|h| h.4).collect()
    }
}

/// The grams every lane entry containing the needle must have; `None` when one of them
/// occurs nowhere in the lane, so nothing can contain the needle.
fn required_grams(
    lane: &Lane,
    needle: &str,
    needle_units: &[Unit],
    needle_words: &[&str],
) -> Option<Vec<u64>> {
    let mut required: Vec<u64> = Vec::new();
    match lane.mode {
        Mode::Words => {
            for (unit, word) in needle_units.iter().zip(needle_words) {
                if !unit.number {
                    required.push(u64::from(lane.symbol(word)?));
                }
            }
        }
        Mode::Chars => {
            let chars: Vec<char> = needle.chars().collect();
            for pair in chars.windows(2) {
                let plain = |c: char| is_han(c) && !is_numeral(c);
                if !(plain(pair[0]) && plain(pair[1])) {
                    continue;
                }
                let id = |c: char| lane.symbol(c.encode_utf8(&mut [0; 4]));
                required.push(gram2(id(pair[0])?, id(pair[1])?));
            }
        }
    }
    Some(required)
}

/// Intersection of ascending lists, shortest first.
fn intersect(lists: &[&[u32]]) -> Vec<u32> {
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let mut out: Vec<u32> = first.to_vec();
    out.dedup();
    for list in rest {
        out.retain(|id| list.binary_search(id).is_ok());
        if out.is_empty() {
            break;
        }
    }
    out
}

/// Every non-overlapping occurrence of the needle in `text`, as bytes of the original.
fn find_phrase(
    mode: Mode,
    text: &NormalizedText,
    needle: &str,
    needle_words: &[&str],
) -> Vec<Range<usize>> {
    let haystack = text.as_str();
    match mode {
        Mode::Chars => haystack
            .match_indices(needle)
            .map(|(at, found)| text.original_range(at..at + found.len()))
            .collect(),
        Mode::Words => {
            let units = analyze::units(Mode::Words, haystack);
            let words: Vec<&str> = units
                .iter()
                .map(|u| haystack.get(u.range.clone()).unwrap_or_default())
                .collect();
            let k = needle_words.len();
            let mut out = Vec::new();
            let mut i = 0;
            while k > 0 && i + k <= words.len() {
                if words[i..i + k] == *needle_words {
                    let range = units[i].range.start..units[i + k - 1].range.end;
                    out.push(text.original_range(range));
                    i += k;
                } else {
                    i += 1;
                }
            }
            out
        }
    }
}
