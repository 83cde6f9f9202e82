//! Concordance search: the units whose segment contains a phrase, found through the same
//! posting lists as fuzzy search, with every occurrence's span in the text as written.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::analyze::{self, is_numeral, Mode, Unit};
use super::part::{gram2, Lane, NUMBER};
use super::snapshot::{answers, MemoryIndex};
use super::units::{UnitSource, Units};
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
    /// unit id; at most `limit` hits. The units are read from `units`.
    pub fn concordance(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
        units: &dyn UnitSource,
    ) -> Vec<ConcordanceHit> {
        self.concordance_cancellable(phrase, lang, memories, limit, units, &Cancel::never())
    }

    /// [`concordance`](Self::concordance) for a call that may end first: once `cancel` is
    /// set, the candidates' verification stops and the (partial) answer is for nobody.
    pub fn concordance_cancellable(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
        units: &dyn UnitSource,
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
        // Candidates are ranked before any unit is read, so that only the units of the
        // first `limit` hits (and of candidates that turn out not to hold the phrase) are.
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        let mut checkpoint = cancel.checkpoint();
        for (number, live_part) in self.parts.iter().enumerate() {
            let part = &live_part.part;
            let Some(lane) = part.lane(lang.primary()) else {
                continue;
            };
            let Some(required) = required_grams(lane, &needle, &needle_units, &needle_words) else {
                continue;
            };
            let Some(symbols) = NeedleSymbols::of(lane, &needle, &needle_units, &needle_words)
            else {
                continue;
            };
            let entries: Vec<u32> = if required.is_empty() {
                (0..lane.entries() as u32).collect()
            } else {
                let mut lists: Vec<&[u32]> = required.iter().map(|&g| lane.postings(g)).collect();
                lists.sort_by_key(|l| l.len());
                intersect(&lists)
            };
            for entry in entries {
                if checkpoint.stop() {
                    return Vec::new();
                }
                let Some((slot, segment)) = lane.entry(entry) else {
                    continue;
                };
                if !live_part.alive(slot) || !symbols.may_hold(lane.seq(entry)) {
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
                candidates.push(Candidate {
                    priority,
                    id: part.unit_id(slot),
                    part: number as u32,
                    slot,
                    segment: segment as usize,
                });
            }
        }
        candidates.sort_by(|a, b| {
            (a.priority, a.id, a.part, a.slot).cmp(&(b.priority, b.id, b.part, b.slot))
        });
        let stored = Units::new(units, &self.memories.names);
        let mut hits = Vec::new();
        let mut last: Option<(u32, u32)> = None;
        for candidate in candidates {
            if hits.len() == limit {
                break;
            }
            if checkpoint.stop() {
                return Vec::new();
            }
            // A unit with two segments holding the phrase (en-GB and en-US) counts once.
            if last == Some((candidate.part, candidate.slot)) {
                continue;
            }
            let Some(part) = self.parts.get(candidate.part as usize) else {
                continue;
            };
            let Some(unit) = stored.unit(&part.part, candidate.slot) else {
                continue;
            };
            let Some(seg) = unit
                .segments
                .get(candidate.segment)
                .filter(|s| answers(&s.lang, lang))
            else {
                continue;
            };
            let normalized = text::normalize(&seg.text);
            let spans = find_phrase(mode, &normalized, &needle, &needle_words);
            if spans.is_empty() {
                continue;
            }
            last = Some((candidate.part, candidate.slot));
            let translations = unit
                .segments
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != candidate.segment)
                .map(|(_, s)| (s.lang.clone(), s.text.clone()))
                .collect();
            let text = seg.text.clone();
            let memory = stored
                .memory(&part.part, candidate.slot)
                .cloned()
                .unwrap_or_default();
            hits.push(ConcordanceHit {
                unit,
                memory,
                text,
                spans,
                translations,
            });
        }
        hits
    }
}

/// A lane entry that may hold the phrase, with what ranks it.
struct Candidate<'a> {
    priority: usize,
    id: &'a str,
    part: u32,
    slot: u32,
    segment: usize,
}

/// What an entry's symbols must show to hold the phrase: for words, the phrase's symbols in
/// a row (a number as the number placeholder); for Chinese, each of its plain characters
/// somewhere (where numbers begin and end depends on the characters around them, so the
/// text decides the rest).
enum NeedleSymbols {
    InARow(Vec<u32>),
    Each(Vec<u32>),
}

impl NeedleSymbols {
    /// The needle's symbols in `lane`; `None` when one of them occurs nowhere in it.
    fn of(
        lane: &Lane,
        needle: &str,
        needle_units: &[Unit],
        needle_words: &[&str],
    ) -> Option<NeedleSymbols> {
        Some(match lane.mode {
            Mode::Words => NeedleSymbols::InARow(
                needle_units
                    .iter()
                    .zip(needle_words)
                    .map(|(unit, word)| {
                        if unit.number {
                            Some(NUMBER)
                        } else {
                            lane.symbol(word)
                        }
                    })
                    .collect::<Option<_>>()?,
            ),
            Mode::Chars => NeedleSymbols::Each(
                needle
                    .chars()
                    .filter(|&c| is_han(c) && !is_numeral(c))
                    .map(|c| lane.symbol(c.encode_utf8(&mut [0; 4])))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Whether an entry of symbols `seq` may hold the phrase.
    fn may_hold(&self, seq: &[u32]) -> bool {
        match self {
            NeedleSymbols::InARow(row) => seq.windows(row.len()).any(|w| w == row.as_slice()),
            NeedleSymbols::Each(each) => each.iter().all(|s| seq.contains(s)),
        }
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
