//! Scoring the entries of one part against a query: the candidate filter of the module docs
//! (length, count and prefix filters), verification with a bounded distance, and the
//! exhaustive scan the filter is tested against.

use super::adapt::{self, Number};
use super::analyze::Mode;
use super::myers;
use super::part::{grams, Lane, Part};
use super::query::{MemoryQuery, SearchStats};
use super::snapshot::{answers, LivePart};
use super::units::Units;
use crate::index::distance::levenshtein;
use crate::index::Cancel;

use std::cell::RefCell;
use std::time::Instant;

/// A match before ranking.
pub(super) struct Hit {
    pub(super) score: f32,
    pub(super) priority: usize,
    pub(super) part: u32,
    pub(super) slot: u32,
    pub(super) entry: u32,
    pub(super) target: usize,
    pub(super) numbers_only: bool,
}

/// The numbers of the stored segment behind a lane entry, read from its unit; `None` when it
/// cannot be read.
pub(super) fn stored_numbers(
    units: &Units<'_>,
    number: u32,
    part: &Part,
    lane: &Lane,
    entry: u32,
) -> Option<Vec<Number>> {
    let stored = units.entry(number, part, lane, entry)?;
    Some(adapt::numbers(lane.mode, stored.normalized.as_str()))
}

/// What scoring the candidates of one part needs to know about the query.
pub(super) struct Context<'a> {
    pub(super) live_part: &'a LivePart,
    /// The part's position in the index.
    pub(super) number: u32,
    pub(super) lane: &'a Lane,
    pub(super) query: &'a MemoryQuery,
    pub(super) seq: &'a [u32],
    pub(super) numbers: &'a [Number],
    pub(super) priorities: &'a [Option<usize>],
    /// Where the numbers of exact matches are read from.
    pub(super) units: &'a Units<'a>,
    /// Set when the call has ended: the verification stops.
    pub(super) cancel: &'a Cancel,
}

impl Context<'_> {
    /// Candidates from the q-gram filter, verified with a bounded distance.
    pub(super) fn indexed(&self, hits: &mut Vec<Hit>, stats: &mut SearchStats) {
        let started = Instant::now();
        let Some(plan) = Plan::new(self.lane, self.seq.len(), self.query.min_score) else {
            return;
        };
        let query = GramCounter::new(self.lane.mode, self.seq);
        if plan.min_shared.is_none() {
            stats.length_only_scans += 1;
            let entries: Vec<u32> = plan
                .admissible
                .iter()
                .flat_map(|&m| self.lane.of_length(m))
                .copied()
                .collect();
            stats.filtering += started.elapsed();
            self.verify(&plan, query, &entries, hits, stats);
            return;
        }
        TALLY.with_borrow_mut(|tally| {
            let survivors = tally.survivors(self.lane, &query, &plan, stats);
            let admissible: usize = plan
                .admissible
                .iter()
                .map(|&m| self.lane.of_length(m).len())
                .sum();
            stats.filtered_scans += 1;
            stats.admissible += admissible;
            stats.pruned += admissible.saturating_sub(survivors.len());
            stats.filtering += started.elapsed();
            self.verify(&plan, query, survivors, hits, stats);
        });
    }

    /// Scores the live, eligible `entries` within the plan's distance bounds; the count
    /// filter is checked once more with the exact (multiset) count of each entry's own grams,
    /// cheaper than the distance.
    fn verify(
        &self,
        plan: &Plan,
        mut query: GramCounter,
        entries: &[u32],
        hits: &mut Vec<Hit>,
        stats: &mut SearchStats,
    ) {
        let started = Instant::now();
        let pattern = myers::Pattern::new(self.seq);
        let mut checkpoint = self.cancel.checkpoint();
        for &entry in entries {
            if checkpoint.stop() {
                return;
            }
            let stored = self.lane.seq(entry);
            let Some(&Some(Bound { distance, shared })) = plan.bounds.get(stored.len()) else {
                continue;
            };
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.live_part.alive(slot) {
                continue;
            }
            if shared > 0 && query.shared(self.lane.mode, stored) < shared {
                continue;
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            stats.verified += 1;
            let Some(d) = pattern.distance_within(stored, distance) else {
                continue;
            };
            hits.extend(self.score(entry, d, priority, target));
        }
        stats.verifying += started.elapsed();
    }

    /// Every live entry of the lane, scored with the full distance.
    pub(super) fn exhaustive(&self, hits: &mut Vec<Hit>) {
        for entry in 0..self.lane.entries() as u32 {
            let Some((slot, segment)) = self.lane.entry(entry) else {
                continue;
            };
            if !self.live_part.alive(slot) {
                continue;
            }
            let Some((priority, target)) = self.eligible(slot, segment) else {
                continue;
            };
            let d = levenshtein(self.seq, self.lane.seq(entry));
            hits.extend(self.score(entry, d, priority, target));
        }
    }

    /// The unit's rank and target segment, when its memory and languages answer the query.
    fn eligible(&self, slot: u32, segment: u32) -> Option<(usize, usize)> {
        let part = &self.live_part.part;
        let priority = self
            .priorities
            .get(part.memory(slot)? as usize)
            .copied()
            .flatten()?;
        let source = part.segment_langs(slot).nth(segment as usize)?;
        if !answers(source, &self.query.source) {
            return None;
        }
        let others = || {
            part.segment_langs(slot)
                .enumerate()
                .filter(|&(i, _)| i != segment as usize)
        };
        let target = others()
            .find(|(_, l)| **l == self.query.target)
            .or_else(|| others().find(|(_, l)| answers(l, &self.query.target)))?;
        Some((priority, target.0))
    }

    fn score(&self, entry: u32, d: usize, priority: usize, target: usize) -> Option<Hit> {
        let (slot, _) = self.lane.entry(entry)?;
        let longest = self.seq.len().max(self.lane.seq(entry).len());
        let (score, numbers_only) = if d == 0 {
            let numbers = stored_numbers(
                self.units,
                self.number,
                &self.live_part.part,
                self.lane,
                entry,
            )?;
            match adapt::differing(self.numbers, &numbers) {
                0 => (1.0, false),
                k => (numbers_only_score(k), true),
            }
        } else {
            (plain_score(d, longest), false)
        };
        if score < self.query.min_score {
            return None;
        }
        Some(Hit {
            score,
            priority,
            part: self.number,
            slot,
            entry,
            target,
            numbers_only,
        })
    }
}

/// What an entry of one length must satisfy to score at least the threshold.
#[derive(Clone, Copy)]
struct Bound {
    /// `dmax(max(n, m))`.
    distance: usize,
    /// `T(m)`, the gram occurrences it must share with the query; 0 when the lemma gives no
    /// bound.
    shared: usize,
}

/// The filter for one query: admissible lengths with their bounds, and the count-filter
/// bound valid for all of them.
struct Plan {
    /// Per candidate length `m`: its bounds when `m` passes the length filter.
    bounds: Vec<Option<Bound>>,
    /// `min T(m)` over admissible lengths; `None` when there is none worth using (≤ 0).
    min_shared: Option<usize>,
    admissible: Vec<usize>,
}

impl Plan {
    fn new(lane: &Lane, n: usize, threshold: f32) -> Option<Plan> {
        let q = lane.mode.q() as isize;
        let mut bounds = vec![None; lane.lengths().max(n + 1)];
        let mut admissible = Vec::new();
        let mut min_shared: Option<isize> = None;
        for (m, slot) in bounds.iter_mut().enumerate() {
            let longest = n.max(m);
            let Some(distance) = max_distance(longest, threshold) else {
                continue;
            };
            if n.abs_diff(m) > distance {
                continue;
            }
            let shared = longest as isize - q + 1 - q * distance as isize;
            *slot = Some(Bound {
                distance,
                shared: shared.max(0) as usize,
            });
            admissible.push(m);
            min_shared = Some(min_shared.map_or(shared, |s: isize| s.min(shared)));
        }
        if admissible.is_empty() {
            return None;
        }
        Some(Plan {
            bounds,
            min_shared: min_shared.filter(|&s| s > 0).map(|s| s as usize),
            admissible,
        })
    }
}

/// Per lane entry, the query's gram occurrences in the posting lists read (a dense counter,
/// "ScanCount"): one pass over each list, no sorting or merging of lists, and the count
/// filter applied to every entry from its count alone. Kept per thread and cleared entry by
/// entry after each scan, so that a search allocates nothing in proportion to the lane.
#[derive(Default)]
struct Tally {
    /// Per entry: the occurrences counted, saturating at `u8::MAX` ("that many or more").
    counts: Vec<u8>,
    /// Entries with a count above 0, in the order they were first counted.
    touched: Vec<u32>,
    /// The entries that passed, handed to verification.
    survivors: Vec<u32>,
}

thread_local! {
    static TALLY: RefCell<Tally> = RefCell::default();
}

/// Past the prefix, a posting list is read only when it is at most this many times longer
/// than the number of candidates: its counts then prune candidates for less than their
/// exact counts would cost. Longer lists (the grams of the most frequent characters) count
/// as shared by every candidate.
const LIST_PER_CANDIDATE: usize = 8;

impl Tally {
    /// The entries that may reach the threshold, each once. The query's distinct grams are
    /// read rarest first. The prefix filter says which lists must be read: once they cover
    /// `G − T + 1` occurrences, an entry none of them holds shares at most `T − 1`, so only
    /// entries already counted are candidates and later lists only add to their counts. An
    /// entry passes when its count plus the occurrences of the lists left unread reaches
    /// `T(m)` for its own length `m`: shared (as multisets) ≤ counted + unread, since a gram
    /// in a list read counts all its query occurrences.
    fn survivors(
        &mut self,
        lane: &Lane,
        query: &GramCounter,
        plan: &Plan,
        stats: &mut SearchStats,
    ) -> &[u32] {
        let Some(min_shared) = plan.min_shared else {
            return &[];
        };
        if self.counts.len() < lane.entries() {
            self.counts.resize(lane.entries(), 0);
        }
        let mut lists: Vec<(&[u32], usize)> = query
            .grams
            .iter()
            .map(|&(gram, occurrences)| (lane.postings(gram), occurrences as usize))
            .collect();
        lists.sort_unstable_by_key(|(postings, _)| postings.len());
        let total: usize = lists.iter().map(|&(_, occurrences)| occurrences).sum();
        let prefix = (total + 1).saturating_sub(min_shared);
        let mut read = 0;
        for (at, &(postings, occurrences)) in lists.iter().enumerate() {
            let weight = u8::try_from(occurrences).unwrap_or(u8::MAX);
            if read < prefix {
                for &entry in postings {
                    let count = &mut self.counts[entry as usize];
                    if *count == 0 {
                        self.touched.push(entry);
                    }
                    *count = count.saturating_add(weight);
                }
            } else if postings.len() <= LIST_PER_CANDIDATE * self.touched.len() {
                for &entry in postings {
                    let count = &mut self.counts[entry as usize];
                    if *count != 0 {
                        *count = count.saturating_add(weight);
                    }
                }
            } else {
                stats.unread_lists += lists.len() - at;
                break;
            }
            read += occurrences;
            stats.postings += postings.len();
        }
        let unread = total - read;
        stats.candidates += self.touched.len();
        self.survivors.clear();
        for &entry in &self.touched {
            let count = std::mem::take(&mut self.counts[entry as usize]);
            let bound = usize::from(count) + unread;
            // `min T` first: most entries fail it, without reading their length.
            if count < u8::MAX && bound < min_shared {
                continue;
            }
            let m = lane.seq(entry).len();
            let Some(Some(needed)) = plan.bounds.get(m) else {
                continue;
            };
            if count == u8::MAX || bound >= needed.shared {
                self.survivors.push(entry);
            }
        }
        self.touched.clear();
        &self.survivors
    }
}

/// Counts the q-grams a candidate shares with the query, as multisets.
struct GramCounter {
    /// The query's distinct grams, sorted, with how often each occurs.
    grams: Vec<(u64, u32)>,
    used: Vec<u32>,
}

impl GramCounter {
    fn new(mode: Mode, seq: &[u32]) -> GramCounter {
        let mut all: Vec<u64> = grams(mode, seq).collect();
        all.sort_unstable();
        let mut counted: Vec<(u64, u32)> = Vec::new();
        for gram in all {
            match counted.last_mut() {
                Some((last, count)) if *last == gram => *count += 1,
                _ => counted.push((gram, 1)),
            }
        }
        let used = vec![0; counted.len()];
        GramCounter {
            grams: counted,
            used,
        }
    }

    fn shared(&mut self, mode: Mode, seq: &[u32]) -> usize {
        self.used.iter_mut().for_each(|u| *u = 0);
        let mut shared = 0;
        for gram in grams(mode, seq) {
            if let Ok(k) = self.grams.binary_search_by_key(&gram, |&(g, _)| g) {
                if self.used[k] < self.grams[k].1 {
                    self.used[k] += 1;
                    shared += 1;
                }
            }
        }
        shared
    }
}

/// `1 − d / longest`, 1 for two empty sequences.
pub(super) fn plain_score(d: usize, longest: usize) -> f32 {
    if longest == 0 {
        1.0
    } else {
        1.0 - d as f32 / longest as f32
    }
}

/// Score of a numbers-only match with `differing` numbers: 1 − 0.01 per number, at least
/// [`NUMBERS_ONLY_FLOOR`].
pub(super) fn numbers_only_score(differing: usize) -> f32 {
    (100 - differing.min(10)) as f32 / 100.0
}

/// The largest `d` with `plain_score(d, longest) ≥ threshold`; `None` when even 0 fails.
pub(super) fn max_distance(longest: usize, threshold: f32) -> Option<usize> {
    if plain_score(0, longest) < threshold {
        return None;
    }
    if longest == 0 {
        return Some(0);
    }
    let estimate = ((1.0 - f64::from(threshold)) * longest as f64).floor();
    let mut d = if estimate.is_finite() && estimate > 0.0 {
        (estimate as usize).min(longest)
    } else {
        0
    };
    while d < longest && plain_score(d + 1, longest) >= threshold {
        d += 1;
    }
    while d > 0 && plain_score(d, longest) < threshold {
        d -= 1;
    }
    Some(d)
}
