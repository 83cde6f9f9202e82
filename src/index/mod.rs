//! In-memory search structures built from the store: term lookup and term recognition.
//!
//! Readers take an immutable [`Snapshot`] and never wait for writers. A snapshot is a large
//! base index, a delta of the concepts written since the base was built, and a fresh index of
//! those written since the delta was built: a publication builds only the fresh one, a delta
//! is rebuilt when the fresh one grows past a threshold, and the base when the delta does.
//! Writers stage their changes and one publication makes every staged one visible, so that
//! concurrent writes share its build. This module knows nothing of gRPC.
//!
//! # Files
//!
//! Dependencies between the files go one way, down this list, never back up:
//!
//! * `mod.rs`: the live term index ([`TermSearch`]) and its snapshots' Lookup and Recognize;
//! * `term_file.rs`: the live index written to a file at checkpoints and read back at
//!   start;
//! * `exhaustive.rs`: the reference lookup, every term scored with no index;
//! * `terms.rs`: one immutable term index and the candidates it finds; `terms/persisted.rs`:
//!   that index as flat arrays (`flat.rs`) and back;
//! * `rules.rs`: what makes a query and a term a match, for both of the above;
//! * `key_table.rs`: terms by key, and the term id; `distance.rs`: edit distances;
//!   [`score`]: what each kind of match scores; `match_kind.rs`: the kinds, by strength;
//! * `running_text.rs`: how terms behave in prose (quotes, capitals, lone common words);
//! * [`memory`]: the translation-memory index, which uses only `distance.rs` and `cancel.rs`
//!   of this module;
//! * `cancel.rs`: the flag a read's long loops check, set when its call has ended.
//!
//! `exhaustive.rs` adds a method to [`Snapshot`] and ranks with its code, and `term_file.rs`
//! writes and makes again a [`TermSearch`]'s state: the two uses of `mod.rs` from below.

mod cancel;
mod distance;
mod exhaustive;
mod flat;
mod key_table;
mod match_kind;
pub mod memory;
mod rules;
mod running_text;
pub mod score;
mod term_file;
mod terms;

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::model::{Concept, Lang, LangSection, Term, TermStatus};
use crate::text;
pub use cancel::{Cancel, Checkpoint, CHECK_EVERY};
pub use distance::{levenshtein, similarity, typo_distance};
use key_table::TermId;
pub use match_kind::MatchKind;
use rules::QueryText;
pub use running_text::STANDALONE_NOTE;
pub use term_file::{Stamp, TermFileError, FORMAT_VERSION, TERM_INDEX_FILE};
use terms::{RawOccurrence, TermIndex};

/// A checked lookup: what the service hands the index after validating a request.
#[derive(Clone, Debug)]
pub struct LookupQuery {
    /// The text the translator typed.
    pub text: String,
    /// The query language; `None` matches terms of every language.
    pub source_lang: Option<Lang>,
    /// Most hits to return.
    pub limit: usize,
    /// Lowest score to return.
    pub min_score: f32,
    /// Only these collections; empty = all.
    pub collections: Vec<String>,
    /// Whether a query in Latin letters is also read as Hanyu Pinyin and answered with the
    /// Chinese terms that read so, whatever `source_lang` says (the server sets it when the
    /// query language was not given, or given as Chinese).
    pub pinyin: bool,
}

/// One concept answering a lookup, with the term that matched.
#[derive(Clone, Debug)]
pub struct TermHit {
    /// The concept.
    pub concept: Arc<Concept>,
    /// Position of the matched term's section in the concept.
    pub section: usize,
    /// Position of the matched term in its section.
    pub term: usize,
    /// 0..1, higher is better.
    pub score: f32,
    /// How the query met the term.
    pub kind: MatchKind,
}

impl TermHit {
    /// The section of the matched term.
    pub fn matched_section(&self) -> &LangSection {
        &self.concept.langs[self.section]
    }
    /// The stored term the query matched.
    pub fn matched_term(&self) -> &Term {
        &self.matched_section().terms[self.term]
    }
}

/// A half-open range in three units: UTF-8 bytes, Unicode scalar values and UTF-16 code
/// units, because CAT tools in Java, .NET and JavaScript count UTF-16.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spans {
    /// UTF-8 byte range.
    pub bytes: Range<usize>,
    /// Unicode scalar value range.
    pub chars: Range<usize>,
    /// UTF-16 code unit range.
    pub utf16: Range<usize>,
}

/// A term found in running text.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// Where it is in the original text.
    pub spans: Spans,
    /// The concept the term names.
    pub concept: Arc<Concept>,
    /// Position of the matched term's section in the concept.
    pub section: usize,
    /// Position of the matched term in its section.
    pub term: usize,
    /// Exact, normalized or stemmed.
    pub kind: MatchKind,
}

impl Occurrence {
    /// The stored term that matched.
    pub fn matched_term(&self) -> &Term {
        &self.concept.langs[self.section].terms[self.term]
    }

    /// For a deprecated or forbidden surface: the term of the same language to write instead
    /// (the preferred one, else an admitted one). Never for a superseded surface, which is
    /// not a mistake but a former name: see [`Occurrence::current_term`].
    pub fn suggestion(&self) -> Option<&Term> {
        if !self.matched_term().status.is_discouraged() {
            return None;
        }
        self.concept.langs[self.section].current_term()
    }

    /// For a superseded surface (a historical name): the name in use today in the same
    /// language.
    pub fn current_term(&self) -> Option<&Term> {
        if self.matched_term().status != TermStatus::Superseded {
            return None;
        }
        self.concept.langs[self.section].current_term()
    }
}

/// Writes since the base index was built, above which the base is rebuilt: by a
/// publication (one of a batch, or of a caller that cannot hand it to a thread), or in the
/// background, while publications go on over the old base (see
/// [`publish_staged`](TermSearch::publish_staged)).
const DELTA_LIMIT: usize = 2048;

/// Writes since the delta was built, above which the delta is rebuilt: each publication
/// builds only the fresh index of these, whatever the size of the delta.
const FRESH_LIMIT: usize = 128;

/// The indexes a reader searches: an immutable base, a delta of the writes since it was
/// built, and a fresh index of the writes since the delta was built.
pub struct Snapshot {
    base: Arc<TermIndex>,
    delta: Arc<TermIndex>,
    fresh: Arc<TermIndex>,
    /// Concepts changed or deleted between the base's build and the delta's: their base
    /// entries are stale, as are those of `fresh_changed`. Shared by every snapshot over the
    /// same delta, so that a publication does not copy every change since the base.
    changed: Arc<HashSet<String>>,
    /// Concepts changed or deleted since the delta was built: their delta and base entries
    /// are stale.
    fresh_changed: HashSet<String>,
    priorities: HashMap<String, i32>,
    /// How many concepts the snapshot holds.
    concepts: usize,
}

/// The concepts whose entries in one layer of a snapshot are stale: in either set.
#[derive(Clone, Copy)]
pub(crate) struct Stale<'a>([Option<&'a HashSet<String>>; 2]);

impl Stale<'_> {
    /// Whether concept `id`'s entries are stale.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.0.iter().flatten().any(|set| set.contains(id))
    }

    /// Whether no concept's entries are stale: then no term needs its concept read to know.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().flatten().all(|set| set.is_empty())
    }
}

/// How far a lookup looks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Terms named outright: exact, normalized, stemmed.
    Outright,
    /// Those, and partial, fuzzy and pinyin matches.
    Everything,
}

/// A committed change of the termbase, as the term index takes it.
#[derive(Clone, Debug)]
pub enum TermChange {
    /// A concept created or replaced.
    Upserted(Concept),
    /// A concept deleted.
    Deleted(String),
}

/// The live term index: readers [`load`](TermSearch::snapshot) a snapshot; writers apply
/// committed changes.
///
/// A change becomes visible in two steps: [`stage`](TermSearch::stage) records it (cheap, in
/// the order of the commits), and [`publish_staged`](TermSearch::publish_staged) builds one
/// snapshot of everything staged so far. So many writers' changes share one delta build,
/// rather than each building its own in turn; the single-step methods
/// ([`upserted`](TermSearch::upserted) and the like) do both.
pub struct TermSearch {
    current: ArcSwap<Snapshot>,
    writer: Mutex<WriterState>,
    /// Held by the one publication that builds a snapshot at a time, so that snapshots are
    /// stored in the order of what they hold. Never taken while `writer` is held.
    publication: Mutex<()>,
    /// The last staging the current snapshot holds (read without a lock, by async tasks).
    published: AtomicU64,
}

/// What only writers touch: the full set of concepts and the recent changes.
struct WriterState {
    all: HashMap<String, Arc<Concept>>,
    /// Changes since the base was built: the latest version of each (`None`: deleted).
    recent: HashMap<String, Option<Arc<Concept>>>,
    /// Changes since the delta was built, likewise.
    fresh: HashMap<String, Option<Arc<Concept>>>,
    /// While a base is built in the background: the changes staged since it was cut,
    /// likewise; they become the delta over it.
    since_cut: Option<HashMap<String, Option<Arc<Concept>>>>,
    priorities: HashMap<String, i32>,
    /// How many stagings were made: each takes the next number.
    staged: u64,
}

/// Every concept at one moment, for a base built in the background.
struct BaseCut(Vec<Arc<Concept>>);

/// What a publication builds the next snapshot from, taken under the writer lock.
enum Layers {
    /// A new base of every concept, sorted by id.
    Base {
        concepts: Vec<Arc<Concept>>,
        priorities: HashMap<String, i32>,
    },
    /// A delta of the changes since the base was built, over the current base.
    Delta {
        recent: Vec<Arc<Concept>>,
        changed: HashSet<String>,
        priorities: HashMap<String, i32>,
        concepts: usize,
    },
    /// A base built in the background, with a delta of the changes since its cut.
    Rebased {
        base: Arc<TermIndex>,
        since_cut: Vec<Arc<Concept>>,
        changed: HashSet<String>,
        priorities: HashMap<String, i32>,
        concepts: usize,
    },
    /// A fresh index of the changes since the delta was built, over the current base and
    /// delta.
    Fresh {
        fresh: Vec<Arc<Concept>>,
        fresh_changed: HashSet<String>,
        priorities: HashMap<String, i32>,
        concepts: usize,
    },
}

impl TermSearch {
    /// Builds the index over `concepts`, with collection priorities.
    pub fn new(concepts: Vec<Concept>, priorities: HashMap<String, i32>) -> TermSearch {
        let all: HashMap<String, Arc<Concept>> = concepts
            .into_iter()
            .map(|c| (c.id.clone(), Arc::new(c)))
            .collect();
        let state = WriterState::new(all, HashMap::new(), priorities);
        let snapshot = Snapshot::of_base(state.sorted_concepts(), state.priorities.clone());
        TermSearch::resumed(snapshot, state)
    }

    /// The live index whose current snapshot is `snapshot`, written to from `state`.
    fn resumed(snapshot: Snapshot, state: WriterState) -> TermSearch {
        TermSearch {
            current: ArcSwap::from_pointee(snapshot),
            writer: Mutex::new(state),
            publication: Mutex::new(()),
            published: AtomicU64::new(0),
        }
    }

    /// The current snapshot; cheap, and never blocked by writers.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Publishes a committed upsert.
    pub fn upserted(&self, concept: Concept) {
        self.upserted_many(vec![concept]);
    }

    /// Publishes many committed upserts at once (a batch of an import): one new snapshot, and
    /// at most one rebuild of the base, for the whole batch.
    pub fn upserted_many(&self, concepts: Vec<Concept>) {
        self.stage(concepts.into_iter().map(TermChange::Upserted));
        self.publish(false);
    }

    /// Publishes a committed deletion.
    pub fn deleted(&self, id: &str) {
        self.deleted_many([id.to_owned()]);
    }

    /// Publishes many committed deletions at once (a collection deleted): one new snapshot,
    /// and at most one rebuild of the base.
    pub fn deleted_many(&self, ids: impl IntoIterator<Item = String>) {
        self.stage(ids.into_iter().map(TermChange::Deleted));
        self.publish(false);
    }

    /// Publishes new collection priorities (rebuilds the base: ranking depends on them),
    /// with every change staged before.
    pub fn set_priorities(&self, priorities: HashMap<String, i32>) {
        self.base_in_place(|state| state.priorities = priorities);
    }

    /// Builds a new base of every concept within a publication, after `change` to the
    /// writer's state, and publishes it with every change staged before.
    fn base_in_place(&self, change: impl FnOnce(&mut WriterState)) {
        let _publication = self.publish_lock();
        let (layers, through) = {
            let mut state = self.lock();
            change(&mut state);
            (state.base_layers(), state.staged)
        };
        self.store_snapshot(layers, through);
    }

    /// Records committed changes, which readers see once a publication that follows
    /// ([`publish_staged`](Self::publish_staged)) made them visible; answers the number of
    /// this staging. Stagings are published in the order they are made: make them in the
    /// order of the commits. Cheap: it builds nothing.
    pub fn stage(&self, changes: impl IntoIterator<Item = TermChange>) -> u64 {
        let mut state = self.lock();
        for change in changes {
            let (id, concept) = match change {
                TermChange::Upserted(concept) => {
                    let concept = Arc::new(concept);
                    state.all.insert(concept.id.clone(), Arc::clone(&concept));
                    (concept.id.clone(), Some(concept))
                }
                TermChange::Deleted(id) => {
                    state.all.remove(&id);
                    (id, None)
                }
            };
            if let Some(since_cut) = state.since_cut.as_mut() {
                since_cut.insert(id.clone(), concept.clone());
            }
            state.recent.insert(id.clone(), concept.clone());
            state.fresh.insert(id, concept);
        }
        state.staged += 1;
        state.staged
    }

    /// The number of the last staging made.
    pub fn staged(&self) -> u64 {
        self.lock().staged
    }

    /// The number of the last staging readers see.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// Makes every change staged so far visible to readers in one new snapshot: a fresh
    /// index of the changes since the delta was built, or a new delta once those pass
    /// `FRESH_LIMIT`. One runs at a time; changes staged while it builds wait for the next.
    /// Blocking: run it on the blocking pool.
    ///
    /// Once the changes since the base pass `DELTA_LIMIT`, a new base of every concept is
    /// built on a thread of its own, while publications go on over the old one (with a
    /// growing delta), and it is put in with a delta of the changes staged since its cut:
    /// a base takes seconds at 10⁶ terms, and no write should wait for it.
    pub fn publish_staged(self: &Arc<Self>) {
        let Some(cut) = self.publish(true) else {
            return;
        };
        let search = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("term-base".into())
            .spawn(move || search.rebase(cut));
        if let Err(error) = spawned {
            tracing::warn!(%error, "no thread for the term index base; it is built in place");
            self.base_in_place(|_| {});
        }
    }

    /// One publication of everything staged; with `in_background`, a base that is due is
    /// cut rather than built, and the cut answered for [`rebase`](Self::rebase).
    fn publish(&self, in_background: bool) -> Option<BaseCut> {
        let _publication = self.publish_lock();
        let (layers, through, cut) = {
            let mut state = self.lock();
            if self.published() == state.staged {
                return None;
            }
            let base_due = state.recent.len() > DELTA_LIMIT;
            let cut = (base_due && in_background && state.since_cut.is_none()).then(|| {
                state.since_cut = Some(HashMap::new());
                BaseCut(state.sorted_concepts())
            });
            let layers = if base_due && !in_background {
                state.base_layers()
            } else if state.fresh.len() > FRESH_LIMIT {
                state.delta_layers()
            } else {
                state.fresh_layers()
            };
            (layers, state.staged, cut)
        };
        self.store_snapshot(layers, through);
        cut
    }

    /// Builds the base of `cut` and puts it in with a delta of the changes since; dropped
    /// when a base was built in place meanwhile (collection priorities set, a batch), which
    /// holds everything the cut does.
    fn rebase(&self, cut: BaseCut) {
        let base = Arc::new(TermIndex::build(cut.0));
        let _publication = self.publish_lock();
        let (layers, through) = {
            let mut state = self.lock();
            let Some(since_cut) = state.since_cut.take() else {
                return;
            };
            state.fresh.clear();
            let layers = Layers::Rebased {
                base,
                since_cut: since_cut.values().flatten().cloned().collect(),
                changed: since_cut.keys().cloned().collect(),
                priorities: state.priorities.clone(),
                concepts: state.all.len(),
            };
            state.recent = since_cut;
            (layers, state.staged)
        };
        self.store_snapshot(layers, through);
    }

    /// Builds the snapshot of `layers` (outside the writer lock, so that staging goes on
    /// meanwhile) and makes it current, holding every staging through `through`.
    fn store_snapshot(&self, layers: Layers, through: u64) {
        let snapshot = layers.into_snapshot(&self.current.load());
        self.current.store(Arc::new(snapshot));
        self.published.store(through, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // A panic while holding the lock leaves the state as consistent as before the call
        // (every step replaces whole values), so a poisoned lock is safe to reuse.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // Guards no data of its own.
        self.publication
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl WriterState {
    /// The state of an index holding `all` the concepts, of which `recent` (the latest
    /// version of each, `None` for a deletion) were changed since its base was built.
    fn new(
        all: HashMap<String, Arc<Concept>>,
        recent: HashMap<String, Option<Arc<Concept>>>,
        priorities: HashMap<String, i32>,
    ) -> WriterState {
        WriterState {
            all,
            recent,
            fresh: HashMap::new(),
            since_cut: None,
            priorities,
            staged: 0,
        }
    }

    /// Every concept, sorted by id: what a base is built of.
    fn sorted_concepts(&self) -> Vec<Arc<Concept>> {
        let mut concepts: Vec<Arc<Concept>> = self.all.values().cloned().collect();
        concepts.sort_by(|a, b| a.id.cmp(&b.id));
        concepts
    }

    /// A new base of every concept; the changes it takes in are recent no longer, and a
    /// base being built in the background is of no more use.
    fn base_layers(&mut self) -> Layers {
        self.recent.clear();
        self.fresh.clear();
        self.since_cut = None;
        Layers::Base {
            concepts: self.sorted_concepts(),
            priorities: self.priorities.clone(),
        }
    }

    /// A new delta of the changes since the base was built; they are fresh no longer.
    fn delta_layers(&mut self) -> Layers {
        self.fresh.clear();
        Layers::Delta {
            recent: self.recent.values().flatten().cloned().collect(),
            changed: self.recent.keys().cloned().collect(),
            priorities: self.priorities.clone(),
            concepts: self.all.len(),
        }
    }

    /// A new fresh index of the changes since the delta was built.
    fn fresh_layers(&self) -> Layers {
        Layers::Fresh {
            fresh: self.fresh.values().flatten().cloned().collect(),
            fresh_changed: self.fresh.keys().cloned().collect(),
            priorities: self.priorities.clone(),
            concepts: self.all.len(),
        }
    }
}

impl Layers {
    /// The snapshot they make, over the layers of `current` they keep.
    fn into_snapshot(self, current: &Snapshot) -> Snapshot {
        match self {
            Layers::Base {
                concepts,
                priorities,
            } => Snapshot::of_base(concepts, priorities),
            Layers::Delta {
                recent,
                changed,
                priorities,
                concepts,
            } => Snapshot::layered(
                Arc::clone(&current.base),
                Arc::new(TermIndex::build(recent)),
                changed,
                priorities,
                concepts,
            ),
            Layers::Rebased {
                base,
                since_cut,
                changed,
                priorities,
                concepts,
            } => Snapshot::layered(
                base,
                Arc::new(TermIndex::build(since_cut)),
                changed,
                priorities,
                concepts,
            ),
            Layers::Fresh {
                fresh,
                fresh_changed,
                priorities,
                concepts,
            } => Snapshot {
                base: Arc::clone(&current.base),
                delta: Arc::clone(&current.delta),
                fresh: Arc::new(TermIndex::build(fresh)),
                changed: Arc::clone(&current.changed),
                fresh_changed,
                priorities,
                concepts,
            },
        }
    }
}

impl Snapshot {
    /// A snapshot of a base of `concepts` (sorted by id) and nothing over it.
    fn of_base(concepts: Vec<Arc<Concept>>, priorities: HashMap<String, i32>) -> Snapshot {
        let count = concepts.len();
        let base = Arc::new(TermIndex::build(concepts));
        let delta = Arc::new(TermIndex::build(Vec::new()));
        Snapshot::layered(base, delta, HashSet::new(), priorities, count)
    }

    /// A snapshot of `base` and `delta` (the concepts `changed` since the base was built),
    /// with no fresh index: `concepts` in all.
    fn layered(
        base: Arc<TermIndex>,
        delta: Arc<TermIndex>,
        changed: HashSet<String>,
        priorities: HashMap<String, i32>,
        concepts: usize,
    ) -> Snapshot {
        Snapshot {
            base,
            delta,
            fresh: Arc::new(TermIndex::build(Vec::new())),
            changed: Arc::new(changed),
            fresh_changed: HashSet::new(),
            priorities,
            concepts,
        }
    }

    /// The indexes, oldest first, each with the concepts whose entries in it are stale.
    fn layers(&self) -> [(&TermIndex, Stale<'_>); 3] {
        [
            (
                &*self.base,
                Stale([Some(&self.changed), Some(&self.fresh_changed)]),
            ),
            (&*self.delta, Stale([Some(&self.fresh_changed), None])),
            (&*self.fresh, Stale([None, None])),
        ]
    }

    /// Every concept changed or deleted since the base was built, sorted.
    pub(crate) fn changed_since_base(&self) -> Vec<&String> {
        let mut changed: Vec<&String> = self.changed.iter().chain(&self.fresh_changed).collect();
        changed.sort();
        changed.dedup();
        changed
    }

    /// Every concept changed since the base was built, as the delta and fresh index hold
    /// them: what one delta of both would be built of.
    fn recent_concepts(&self) -> Vec<Arc<Concept>> {
        let delta = self.delta.concepts.iter();
        let kept = delta.filter(|c| !self.fresh_changed.contains(&c.id));
        kept.chain(&self.fresh.concepts).cloned().collect()
    }
}

impl Snapshot {
    /// How many concepts the snapshot holds.
    pub fn concept_count(&self) -> usize {
        self.concepts
    }

    fn visible(index: &TermIndex, term: TermId, stale: Stale<'_>) -> bool {
        stale.is_empty() || !stale.contains(&index.concept_of(term).id)
    }

    fn priority(&self, concept: &Concept) -> i32 {
        self.priorities
            .get(&concept.collection)
            .copied()
            .unwrap_or(0)
    }

    /// The priority of `term`'s collection, without reading its concept when no collection
    /// has one (as in most termbases): Recognize asks it of every match.
    fn term_priority(&self, index: &TermIndex, term: TermId) -> i32 {
        if self.priorities.is_empty() {
            0
        } else {
            self.priority(index.concept_of(term))
        }
    }

    /// The best hits for a query: one per concept, by score, then collection priority, then
    /// the matched term's status.
    pub fn lookup(&self, query: &LookupQuery) -> Vec<TermHit> {
        self.lookup_cancellable(query, &Cancel::never())
    }

    /// [`lookup`](Self::lookup) for a call that may end first: once `cancel` is set, the
    /// candidates' search stops and the (partial) answer is for nobody.
    pub fn lookup_cancellable(&self, query: &LookupQuery, cancel: &Cancel) -> Vec<TermHit> {
        self.lookup_in(query, Reach::Everything, cancel)
    }

    /// The concepts that name the query outright (exactly, normalized or by its stems),
    /// ranked as [`lookup`](Self::lookup) ranks them, with no partial, fuzzy or pinyin
    /// matching: what a write checks each new term against, at a fraction of a lookup's
    /// cost.
    pub fn lookup_outright(&self, query: &LookupQuery) -> Vec<TermHit> {
        self.lookup_in(query, Reach::Outright, &Cancel::never())
    }

    fn lookup_in(&self, query: &LookupQuery, reach: Reach, cancel: &Cancel) -> Vec<TermHit> {
        let analyzed = QueryText::new(&query.text);
        let pinyin = query
            .pinyin
            .then(|| text::pinyin::PinyinQuery::parse(&query.text))
            .flatten()
            .filter(|_| reach == Reach::Everything);
        let indexes = self.layers();
        let in_lang = |index: &TermIndex, stale, term_id: TermId, lang: Option<&Lang>| {
            let term = &index.terms[term_id as usize];
            let concept = index.concept_of(term_id);
            Snapshot::visible(index, term_id, stale)
                && (query.collections.is_empty() || query.collections.contains(&concept.collection))
                && lang.is_none_or(|lang| {
                    same_language(&concept.langs[term.section as usize].lang, lang)
                })
        };
        let source = query.source_lang.as_ref();
        let outright = indexes.map(|(index, stale)| {
            index.outright_candidates(&query.text, &analyzed, |term_id| {
                in_lang(index, stale, term_id, source)
            })
        });
        // Typos only for a query that names no term outright, in any index: which one holds
        // a term (how long ago it was written) must not change the answer.
        let typos = outright.iter().all(Vec::is_empty);
        let mut best: HashMap<&str, TermHit> = HashMap::new();
        for ((index, stale), mut candidates) in indexes.into_iter().zip(outright) {
            let wanted = |term_id: TermId| in_lang(index, stale, term_id, source);
            if reach == Reach::Everything {
                candidates.extend(index.other_candidates(&analyzed, typos, wanted, cancel));
            }
            if let Some(pinyin) = &pinyin {
                let chinese = Lang::zh();
                let wanted = |term_id: TermId| in_lang(index, stale, term_id, Some(&chinese));
                candidates.extend(index.pinyin_candidates(pinyin, wanted));
            }
            for candidate in candidates {
                let term = &index.terms[candidate.term as usize];
                let concept = index.concept_of(candidate.term);
                let hit = TermHit {
                    concept: concept.clone(),
                    section: term.section as usize,
                    term: term.term as usize,
                    score: candidate.score,
                    kind: candidate.kind,
                };
                keep_best(&mut best, concept, hit);
            }
        }
        self.ranked(best, query)
    }

    /// The concepts' best hits that reach the query's `min_score`, by score, then collection
    /// priority, then the matched term's status, then kind, then concept id; at most `limit`.
    fn ranked(&self, best: HashMap<&str, TermHit>, query: &LookupQuery) -> Vec<TermHit> {
        let mut hits: Vec<TermHit> = best
            .into_values()
            .filter(|h| h.score >= query.min_score)
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.priority(&b.concept).cmp(&self.priority(&a.concept)))
                .then_with(|| a.matched_term().status.cmp(&b.matched_term().status))
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.concept.id.cmp(&b.concept.id))
        });
        hits.truncate(query.limit);
        hits
    }

    /// How many matches the base index's automaton finds in `normalized` text (the output of
    /// [`text::normalize`]), overlapping ones included, with no other check: the floor under
    /// Recognize's cost, which the benchmarks compare it with.
    pub fn automaton_matches(&self, normalized: &str) -> usize {
        self.base.automaton_matches(normalized)
    }

    /// Every term occurrence in `original`, leftmost-longest and non-overlapping (a higher
    /// collection's terms first, see `leftmost_longest_by_priority`), with spans in the
    /// original text. `lang` restricts matching to terms of that language.
    pub fn recognize(
        &self,
        original: &str,
        lang: Option<&Lang>,
        collections: &[String],
    ) -> Vec<Occurrence> {
        self.recognize_cancellable(original, lang, collections, &Cancel::never())
    }

    /// [`recognize`](Self::recognize) for a call that may end first: once `cancel` is set,
    /// the scan of the text stops and the (partial) answer is for nobody.
    pub fn recognize_cancellable(
        &self,
        original: &str,
        lang: Option<&Lang>,
        collections: &[String],
        cancel: &Cancel,
    ) -> Vec<Occurrence> {
        // Between the passes over the whole text, each of them milliseconds per 100 KiB.
        let stopped = || cancel.is_cancelled();
        let normalized = text::normalize(original);
        let norm = normalized.as_str();
        if stopped() {
            return Vec::new();
        }
        // Stem matching reads only words: Chinese terms are found by the automaton alone.
        let words = text::words(norm);
        if stopped() {
            return Vec::new();
        }
        let mut found: Vec<Candidate> = Vec::new();
        // The terms sharing a key come one after another with the same range: what depends
        // only on the range is worked out once for all of them.
        let mut place = MatchPlace::new(&normalized, original, 0..0);
        for (index, stale) in self.layers() {
            for mut occurrence in index.occurrences(norm, &words, cancel) {
                if place.raw != occurrence.range {
                    place = MatchPlace::new(&normalized, original, occurrence.range.clone());
                }
                let Some(written) = place.written.clone() else {
                    continue;
                };
                occurrence.range = place.range.clone();
                if !Snapshot::visible(index, occurrence.term, stale) {
                    continue;
                }
                let term = &index.terms[occurrence.term as usize];
                // The concept is read only for a filter or a check the term's facts cannot
                // answer: most matches never touch it.
                let concept = || index.concept_of(occurrence.term);
                if !collections.is_empty() && !collections.contains(&concept().collection) {
                    continue;
                }
                let section = || &concept().langs[term.section as usize];
                if lang.is_some_and(|lang| !same_language(&section().lang, lang)) {
                    continue;
                }
                let stored = || &section().terms[term.term as usize].text;
                let facts = index.facts(occurrence.term);
                if facts.capitals
                    && !running_text::keeps_capitals(&normalized, &occurrence.range, stored())
                {
                    continue;
                }
                // Written exactly as stored: this term, not another with the same normalized
                // key, is the one used (a deprecated "shanghai cooperation organisation" in
                // lower case is not its preferred capitalized form). What the automaton
                // matched is the key itself, compared once for the place.
                let exact = match (facts.written_as_key, occurrence.kind) {
                    (true, MatchKind::Normalized) => place.written_as_found,
                    (true, _) => original.get(written) == Some(index.norm_key(occurrence.term)),
                    (false, _) => original.get(written) == Some(stored().as_str()),
                };
                let key_match =
                    (occurrence.kind == MatchKind::Normalized).then(|| place.raw.clone());
                if exact {
                    occurrence.kind = MatchKind::Exact;
                }
                let candidate = Candidate {
                    key_match,
                    order: (
                        occurrence.range.start,
                        Reverse(occurrence.range.end),
                        Reverse(self.term_priority(index, occurrence.term)),
                        occurrence.kind,
                        facts.status,
                    ),
                    occurrence,
                    index,
                };
                // Of two candidates at one range with one priority, only the one sorting first
                // can be chosen (see `leftmost_longest_by_priority`): the terms of one key
                // leave one candidate, and the sort below a fraction of the matches.
                match found.last_mut() {
                    Some(last) if last.rivals(&candidate) => {
                        if candidate.precedes(last) {
                            *last = candidate;
                        }
                    }
                    _ => found.push(candidate),
                }
            }
        }
        if stopped() {
            return Vec::new();
        }
        // Leftmost first; at one start the longest. Of the terms covering that span, the
        // higher collection's: priority is the terminologist's word on which termbase to
        // trust, so a large import never decides by accident (and between overlapping spans
        // too, see `leftmost_longest_by_priority`). Within equal priorities, the strongest
        // kind (the term written exactly as stored first), then the more official status
        // (preferred, admitted, superseded, deprecated, forbidden); the concept id and the
        // term's position only make the choice deterministic, and a stable sort keeps
        // the first found of two that tie even there.
        found.sort_by(Candidate::cmp);
        let chosen = leftmost_longest_by_priority(
            found,
            |candidate| candidate.order.2 .0,
            |candidate| candidate.occurrence.range.clone(),
        );
        let chosen = without_lone_common_words(norm, chosen);
        let ranges: Vec<Range<usize>> = chosen
            .iter()
            .map(|c| normalized.original_range(c.occurrence.range.clone()))
            .collect();
        let spans = text_spans(original, &ranges);
        chosen
            .into_iter()
            .zip(spans)
            .map(|(candidate, spans)| {
                let (occurrence, index) = (candidate.occurrence, candidate.index);
                let term = &index.terms[occurrence.term as usize];
                Occurrence {
                    spans,
                    concept: index.concept_of(occurrence.term).clone(),
                    section: term.section as usize,
                    term: term.term as usize,
                    kind: occurrence.kind,
                }
            })
            .collect()
    }
}

/// Where a match found at one range of normalized text stands, as Recognize reports it.
struct MatchPlace {
    /// The range the match was found at.
    raw: Range<usize>,
    /// The range widened to the partner of a quotation mark it holds (see
    /// `running_text::with_paired_quotes`).
    range: Range<usize>,
    /// Where `range` was written in the original text; `None` when it does not cover whole
    /// characters as written (地区和平 is not in 地区和㍻), so that no term matches there.
    written: Option<Range<usize>>,
    /// Whether the original text there is written exactly as the normalized text found at
    /// `raw`: for the automaton's matches, whether it is written as their key.
    written_as_found: bool,
}

impl MatchPlace {
    fn new(normalized: &text::NormalizedText, original: &str, raw: Range<usize>) -> MatchPlace {
        let range = running_text::with_paired_quotes(normalized.as_str(), raw.clone());
        let whole = normalized.is_boundary(range.start) && normalized.is_boundary(range.end);
        let written = whole.then(|| normalized.original_range(range.clone()));
        let written_as_found = written.as_ref().is_some_and(|written| {
            original.get(written.clone()) == normalized.as_str().get(raw.clone())
        });
        MatchPlace {
            raw,
            range,
            written,
            written_as_found,
        }
    }
}

/// A match Recognize may report, with what orders it among the others.
struct Candidate<'i> {
    /// Its start, then longest first, the higher collection priority, the strongest kind
    /// and the most official status.
    order: (usize, Reverse<usize>, Reverse<i32>, MatchKind, TermStatus),
    occurrence: RawOccurrence,
    index: &'i TermIndex,
    /// Where the automaton matched its key, if it did (the key is the text there).
    key_match: Option<Range<usize>>,
}

impl Candidate<'_> {
    /// Whether the two cover one range with one collection priority, so that at most one of
    /// them can be chosen.
    fn rivals(&self, other: &Candidate) -> bool {
        self.order.0 == other.order.0
            && self.order.1 == other.order.1
            && self.order.2 == other.order.2
    }

    /// Whether this candidate, found after `earlier`, comes before it in Recognize's order
    /// ([`cmp`](Self::cmp), a tie going to the one found first). Terms of one key come from
    /// the automaton in id order, which is their concepts' order in most indexes: ties
    /// between them are decided without reading either term.
    fn precedes(&self, earlier: &Candidate) -> bool {
        let one_key = self.key_match.is_some()
            && self.key_match == earlier.key_match
            && std::ptr::eq(self.index, earlier.index)
            && self.index.keys_terms_in_concept_order();
        if one_key {
            self.order < earlier.order
        } else {
            self.cmp(earlier) == std::cmp::Ordering::Less
        }
    }

    /// The order Recognize prefers candidates in: [`order`](Self::order), then the concept
    /// id and the term's position in it. Comparing keys reads no concept, of which there
    /// are many, scattered in memory, but where two candidates tie up to their ids.
    fn cmp(&self, other: &Candidate) -> std::cmp::Ordering {
        self.order.cmp(&other.order).then_with(|| {
            let (a, b) = (&self.occurrence, &other.occurrence);
            let concepts = if std::ptr::eq(self.index, other.index) {
                self.index.cmp_concepts(a.term, b.term)
            } else {
                let b_id = &other.index.concept_of(b.term).id;
                self.index.concept_of(a.term).id.cmp(b_id)
            };
            concepts.then_with(|| {
                position_of(self.index, a.term).cmp(&position_of(other.index, b.term))
            })
        })
    }
}

/// The occurrences to report, from candidates in text order (at one start the preferred one
/// first): leftmost-longest and non-overlapping within each collection priority, the highest
/// first, each lower priority filling only the text the higher ones left free. A collection
/// ranked below another can never cut into its terms, so a dictionary imported below the
/// glossary changes nothing the glossary finds: CC-CEDICT's 为上 would otherwise take the first
/// character of 上合组织 in 为上合组织. With one priority this is plain leftmost-longest.
fn leftmost_longest_by_priority<T>(
    candidates: Vec<T>,
    priority: impl Fn(&T) -> i32,
    range: impl Fn(&T) -> Range<usize>,
) -> Vec<T> {
    let priorities: Vec<i32> = candidates.iter().map(priority).collect();
    let mut tiers = priorities.clone();
    tiers.sort_unstable_by(|a, b| b.cmp(a));
    tiers.dedup();
    if tiers.len() <= 1 {
        // In text order, a candidate is free exactly when it starts at or after the end of
        // the last one taken, which ends last of all.
        let mut taken_end = 0;
        return candidates
            .into_iter()
            .filter(|candidate| {
                let Range { start, end } = range(candidate);
                let free = start >= taken_end;
                if free {
                    taken_end = end;
                }
                free
            })
            .collect();
    }
    // Chosen ranges by start: (end, position in `candidates`).
    let mut chosen: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    for tier in tiers {
        for (i, candidate) in candidates.iter().enumerate() {
            if priorities[i] != tier {
                continue;
            }
            let Range { start, end } = range(candidate);
            let free_before = chosen
                .range(..=start)
                .next_back()
                .is_none_or(|(_, &(chosen_end, _))| chosen_end <= start);
            let free_after = chosen
                .range(start + 1..)
                .next()
                .is_none_or(|(&chosen_start, _)| chosen_start >= end);
            if free_before && free_after {
                chosen.insert(start, (end, i));
            }
        }
    }
    let mut keep = vec![false; candidates.len()];
    for &(_, i) in chosen.values() {
        keep[i] = true;
    }
    candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(candidate, kept)| kept.then_some(candidate))
        .collect()
}

/// The chosen occurrences less the single common words that stand alone in prose (see
/// [`running_text`]).
fn without_lone_common_words<'i>(norm: &str, chosen: Vec<Candidate<'i>>) -> Vec<Candidate<'i>> {
    let matches: Vec<(Range<usize>, bool)> = chosen
        .iter()
        .map(|c| {
            let common = c.index.facts(c.occurrence.term).common_word;
            (c.occurrence.range.clone(), common)
        })
        .collect();
    let reported = running_text::reported_in_lists(norm, &matches);
    chosen
        .into_iter()
        .zip(reported)
        .filter_map(|(chosen, reported)| reported.then_some(chosen))
        .collect()
}

/// Where a term is in its concept: the last tie-break, so that results do not depend on the
/// order of term ids in the index.
fn position_of(index: &TermIndex, term: TermId) -> (u16, u16) {
    let t = &index.terms[term as usize];
    (t.section, t.term)
}

/// Whether a stored section's language is the query's: Chinese queries meet both written
/// standards (normalization folds traditional into simplified), others compare the primary
/// subtag.
fn same_language(stored: &Lang, query: &Lang) -> bool {
    stored.primary() == query.primary()
}

/// Keeps `hit` as the best hit of `concept` unless the one kept so far is [`better`].
fn keep_best<'c>(best: &mut HashMap<&'c str, TermHit>, concept: &'c Concept, hit: TermHit) {
    match best.get(concept.id.as_str()) {
        Some(existing) if !better(&hit, existing) => {}
        _ => {
            best.insert(&concept.id, hit);
        }
    }
}

/// Whether `hit` should replace `existing` as a concept's best hit. Ties go to the term
/// that comes first in the concept, whatever the order in which candidates were found.
fn better(hit: &TermHit, existing: &TermHit) -> bool {
    let rank = |h: &TermHit| (h.kind, h.matched_term().status, h.section, h.term);
    hit.score > existing.score || (hit.score == existing.score && rank(hit) < rank(existing))
}

/// Converts sorted, non-overlapping byte ranges of `text` (on char boundaries) into byte,
/// char and UTF-16 spans in one pass.
pub fn text_spans(text: &str, ranges: &[Range<usize>]) -> Vec<Spans> {
    let mut out = Vec::with_capacity(ranges.len());
    let (mut chars, mut utf16, mut at) = (0usize, 0usize, 0usize);
    let mut advance = |to: usize| {
        // Never backwards: ranges that broke the contract get wrong counts, not a panic.
        let gap = text.get(at..to).unwrap_or_default();
        let gap_chars = gap.chars().count();
        chars += gap_chars;
        // A character outside the Basic Multilingual Plane is two UTF-16 units, and four
        // bytes of UTF-8, the first of them 0xF0 or more.
        utf16 += gap_chars + gap.bytes().filter(|&byte| byte >= 0xF0).count();
        at = at.max(to);
        (chars, utf16)
    };
    for range in ranges {
        let (cs, us) = advance(range.start);
        let (ce, ue) = advance(range.end);
        out.push(Spans {
            bytes: range.clone(),
            chars: cs..ce,
            utf16: us..ue,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A small termbase whose terms meet in the text fragments of the property test below.
    fn search() -> TermSearch {
        let concept = |id: &str, lang: Lang, terms: &[&str]| {
            let terms = terms.iter().map(|t| Term::preferred(*t)).collect();
            Concept::new(id, "test", vec![LangSection::new(lang, terms)])
        };
        TermSearch::new(
            vec![
                concept("peace", Lang::zh(), &["地区和平"]),
                concept("members", Lang::zh(), &["成员国"]),
                concept("heisei", Lang::zh(), &["平成"]),
                concept("rd", Lang::en(), &["R&D", "research and development"]),
                concept("sco", Lang::en(), &["SCO"]),
                concept("spirit", Lang::ru(), &["Шанхайский дух"]),
            ],
            HashMap::new(),
        )
    }

    #[test]
    fn a_term_never_covers_part_of_a_character_as_written() {
        let ids = |text: &str| -> Vec<String> {
            let found = search().snapshot().recognize(text, None, &[]);
            found.iter().map(|o| o.concept.id.clone()).collect()
        };
        assert_eq!(ids("地区和平成员国"), ["peace", "members"]);
        // ㍻ normalizes to 平成: 地区和平 would end inside it and 成员国 start inside it (and
        // 平成 itself straddles the words 和平 and 成员国).
        assert!(ids("地区和㍻员国").is_empty());
    }

    proptest! {
        /// Whatever the text, recognition does not panic and reports spans in order, apart,
        /// on character boundaries of the original, and consistent in all three units.
        #[test]
        fn recognized_spans_are_sound_in_any_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("地区和".to_owned()), Just("㍻".to_owned()), Just("员国".to_owned()),
                    Just("R&D".to_owned()), Just("ＳＣＯ".to_owned()), Just("ﬁ".to_owned()),
                    Just("Шанхайского духа".to_owned()), Just(" ".to_owned()),
                    any::<String>(),
                ],
                0..8,
            )
        ) {
            let text: String = parts.concat();
            let found = search().snapshot().recognize(&text, None, &[]);
            let mut previous_end = 0;
            for occurrence in &found {
                let spans = &occurrence.spans;
                prop_assert!(spans.bytes.start >= previous_end);
                prop_assert!(spans.bytes.start < spans.bytes.end);
                let before = &text[..spans.bytes.start];
                let surface = &text[spans.bytes.clone()];
                prop_assert_eq!(spans.chars.start, before.chars().count());
                prop_assert_eq!(spans.chars.len(), surface.chars().count());
                prop_assert_eq!(spans.utf16.start, before.encode_utf16().count());
                prop_assert_eq!(spans.utf16.len(), surface.encode_utf16().count());
                previous_end = spans.bytes.end;
            }
        }
    }

    /// An English term without a plural is its own stems: where the text is written as
    /// them, the automaton's match is the one reported, the stem match of the same place is
    /// not a second candidate, and only an inflected form is a stem match.
    #[test]
    fn a_term_written_as_its_stems_is_found_once_by_its_key() {
        let search = TermSearch::new(
            vec![Concept::new(
                "bri",
                "test",
                vec![LangSection::new(
                    Lang::en(),
                    vec![Term::preferred("belt and road")],
                )],
            )],
            HashMap::new(),
        );
        let kinds = |text: &str| -> Vec<(usize, MatchKind)> {
            let found = search.snapshot().recognize(text, None, &[]);
            found
                .iter()
                .map(|o| (o.spans.bytes.start, o.kind))
                .collect()
        };
        assert_eq!(kinds("the belt and road today"), [(4, MatchKind::Exact)]);
        assert_eq!(kinds("The Belt and Road"), [(4, MatchKind::Normalized)]);
        assert_eq!(kinds("belts and roads"), [(0, MatchKind::Stemmed)]);
        // Of two concepts with the term, the one with the lower id, however the terms are
        // ordered in the index and the text is written.
        let term = |status| {
            let mut term = Term::preferred("belt and road");
            term.status = status;
            LangSection::new(Lang::en(), vec![Term::preferred("the road"), term])
        };
        let tied = TermSearch::new(
            vec![
                Concept::new("c", "test", vec![term(TermStatus::Preferred)]),
                Concept::new("b", "test", vec![term(TermStatus::Admitted)]),
                Concept::new("a", "test", vec![term(TermStatus::Preferred)]),
            ],
            HashMap::new(),
        );
        for text in ["belt and road", "Belt and Road", "belts and roads"] {
            let found = tied.snapshot().recognize(text, None, &[]);
            let ids: Vec<&str> = found.iter().map(|o| o.concept.id.as_str()).collect();
            assert_eq!(ids, ["a"], "{text}");
        }
        assert_eq!(
            kinds("belt and roads, belt and road"),
            [(0, MatchKind::Stemmed), (16, MatchKind::Exact)]
        );
    }

    /// A Russian clipped compound typed as an abbreviation (Евросоюз, теракт) inflects like
    /// any noun; only an acronym in capitals (ШОС) is matched as written.
    #[test]
    fn an_abbreviation_in_lower_case_is_found_in_its_case_forms() {
        let mut section = LangSection::new(Lang::ru(), vec![Term::preferred("Евросоюз")]);
        section.terms[0].term_type = crate::model::TermType::Abbreviation;
        let search = TermSearch::new(
            vec![Concept::new("eu", "test", vec![section])],
            HashMap::new(),
        );
        assert_eq!(
            ids_and_kinds(&search, "Евросоюза"),
            [("eu".to_owned(), MatchKind::Stemmed)]
        );
    }

    /// A lookup of `text` in any language and collection, every score kept.
    fn any_query(text: &str) -> LookupQuery {
        LookupQuery {
            text: text.into(),
            source_lang: None,
            limit: 10,
            min_score: 0.0,
            collections: Vec::new(),
            pinyin: false,
        }
    }

    fn ids_and_kinds(search: &TermSearch, text: &str) -> Vec<(String, MatchKind)> {
        let hits = search.snapshot().lookup(&any_query(text));
        hits.iter()
            .map(|h| (h.concept.id.clone(), h.kind))
            .collect()
    }

    fn russian(id: &str, term: &str) -> Concept {
        let section = LangSection::new(Lang::ru(), vec![Term::preferred(term)]);
        Concept::new(id, "test", vec![section])
    }

    /// «даух» is one letter from the stem of «духа» (дух), two from the word: a typo of an
    /// inflected form, which the index once missed because it counted only the grams of
    /// terms' keys, not of their stems.
    #[test]
    fn a_typo_is_found_through_the_stems_of_an_inflected_term() {
        let search = TermSearch::new(vec![russian("spirit", "духа")], HashMap::new());
        assert_eq!(
            ids_and_kinds(&search, "даух"),
            [("spirit".to_owned(), MatchKind::Fuzzy)]
        );
    }

    /// A query that names a term outright is not looked up for typos, whether that term is
    /// in the base index or was written since: once only the index holding it knew, and the
    /// other one answered typos all the same.
    #[test]
    fn typos_are_not_looked_for_once_a_term_is_named_outright_in_either_index() {
        let all_in_base = TermSearch::new(
            vec![
                russian("typo", "организацая"),
                russian("exact", "организация"),
            ],
            HashMap::new(),
        );
        let written_since = TermSearch::new(vec![russian("typo", "организацая")], HashMap::new());
        written_since.upserted(russian("exact", "организация"));
        let expected = [("exact".to_owned(), MatchKind::Exact)];
        assert_eq!(ids_and_kinds(&all_in_base, "организация"), expected);
        assert_eq!(ids_and_kinds(&written_since, "организация"), expected);
    }

    /// Staged changes stay out of sight until a publication, which shows them all at once: a
    /// new concept, and a deletion and a new version of one id in one staging.
    #[test]
    fn staged_changes_are_seen_only_once_published_all_at_once() {
        let search = Arc::new(TermSearch::new(
            vec![russian("treaty", "договор")],
            HashMap::new(),
        ));
        let exact = |id: &str| [(id.to_owned(), MatchKind::Exact)];
        let first = search.stage([TermChange::Upserted(russian("new", "организация"))]);
        let second = search.stage([
            TermChange::Deleted("treaty".to_owned()),
            TermChange::Upserted(russian("treaty", "соглашение")),
        ]);
        assert_eq!((first, second, search.published()), (1, 2, 0));
        assert!(ids_and_kinds(&search, "организация").is_empty());
        assert_eq!(ids_and_kinds(&search, "договор"), exact("treaty"));
        search.publish_staged();
        assert_eq!(search.published(), second);
        assert_eq!(ids_and_kinds(&search, "организация"), exact("new"));
        assert!(ids_and_kinds(&search, "договор").is_empty());
        assert_eq!(ids_and_kinds(&search, "соглашение"), exact("treaty"));
    }

    /// Writes go into the fresh index, then the delta once the fresh one passes its limit,
    /// then the base; a concept written again or deleted is found only as it was last, in
    /// whichever index holds it.
    #[test]
    fn writes_move_from_the_fresh_index_to_the_delta_and_the_base() {
        let search = TermSearch::new(Vec::new(), HashMap::new());
        let exact = |id: &str| [(id.to_owned(), MatchKind::Exact)];
        let word = |n: usize| format!("слово{n}");
        search.upserted(russian("kept", "договор"));
        search.upserted(russian("moved", "соглашение"));
        // The publication of the one past the limit builds the delta.
        for n in 0..FRESH_LIMIT - 1 {
            search.upserted(russian(&format!("c{n}"), &word(n)));
        }
        let snapshot = search.snapshot();
        assert_eq!(snapshot.delta.concepts.len(), FRESH_LIMIT + 1);
        assert!(snapshot.fresh.concepts.is_empty());
        search.upserted(russian("moved", "организация"));
        search.deleted("c0");
        let snapshot = search.snapshot();
        assert_eq!(snapshot.fresh.concepts.len(), 1);
        assert_eq!(snapshot.concept_count(), FRESH_LIMIT);
        assert_eq!(ids_and_kinds(&search, "договор"), exact("kept"));
        assert_eq!(ids_and_kinds(&search, "организация"), exact("moved"));
        assert!(ids_and_kinds(&search, "соглашение").is_empty());
        assert!(!ids_and_kinds(&search, &word(0)).contains(&exact("c0")[0]));
        search.upserted_many(
            (0..DELTA_LIMIT)
                .map(|n| russian(&format!("d{n}"), "договоры"))
                .collect(),
        );
        let snapshot = search.snapshot();
        assert_eq!(snapshot.base.concepts.len(), DELTA_LIMIT + FRESH_LIMIT);
        assert!(snapshot.delta.concepts.is_empty() && snapshot.fresh.concepts.is_empty());
        assert_eq!(ids_and_kinds(&search, "организация"), exact("moved"));
    }

    /// An outright lookup finds the terms a query names exactly, normalized or by its stems,
    /// and none of the typos and parts a full lookup adds.
    #[test]
    fn an_outright_lookup_leaves_out_typos_and_parts() {
        let search = TermSearch::new(
            vec![
                russian("spirit", "шанхайский дух"),
                russian("org", "организация"),
            ],
            HashMap::new(),
        );
        let snapshot = search.snapshot();
        let outright = |text: &str| -> Vec<(String, MatchKind)> {
            snapshot
                .lookup_outright(&any_query(text))
                .iter()
                .map(|h| (h.concept.id.clone(), h.kind))
                .collect()
        };
        let found = |text: &str| -> Vec<String> {
            snapshot
                .lookup(&any_query(text))
                .iter()
                .map(|h| h.concept.id.clone())
                .collect()
        };
        assert_eq!(
            outright("шанхайский дух"),
            [("spirit".to_owned(), MatchKind::Exact)]
        );
        assert_eq!(
            outright("Шанхайский дух"),
            [("spirit".to_owned(), MatchKind::Normalized)]
        );
        assert_eq!(
            outright("шанхайского духа"),
            [("spirit".to_owned(), MatchKind::Stemmed)]
        );
        for (typo_or_part, id) in [("организацыя", "org"), ("шанхайский", "spirit")]
        {
            assert_eq!(found(typo_or_part), [id], "{typo_or_part}");
            assert!(outright(typo_or_part).is_empty(), "{typo_or_part}");
        }
    }

    /// Past the delta's limit, a publication cuts a base to build apart and goes on over the
    /// old one; the base, once in, comes with a delta of the writes staged since its cut, so
    /// every concept is found as last written, whichever layer holds it.
    #[test]
    fn a_base_built_apart_takes_in_the_writes_made_meanwhile() {
        let exact = |id: &str| [(id.to_owned(), MatchKind::Exact)];
        let search = TermSearch::new(
            vec![
                russian("kept", "договор"),
                russian("moved", "соглашение"),
                russian("gone", "союз"),
            ],
            HashMap::new(),
        );
        search.stage(
            (0..DELTA_LIMIT)
                .map(|n| TermChange::Upserted(russian(&format!("c{n}"), &format!("слово{n}")))),
        );
        assert!(search.publish(true).is_none(), "not past the limit yet");
        search.stage([TermChange::Deleted("gone".to_owned())]);
        let Some(cut) = search.publish(true) else {
            panic!("a base is due past the limit");
        };
        assert_eq!(cut.0.len(), DELTA_LIMIT + 2);
        // Written while the base is built: published over the old base at once.
        search.stage([
            TermChange::Upserted(russian("moved", "организация")),
            TermChange::Deleted("c1".to_owned()),
            TermChange::Upserted(russian("new", "сотрудничество")),
        ]);
        assert!(search.publish(true).is_none(), "one base at a time");
        assert_eq!(ids_and_kinds(&search, "организация"), exact("moved"));
        search.rebase(cut);
        let snapshot = search.snapshot();
        assert_eq!(snapshot.base.concepts.len(), DELTA_LIMIT + 2);
        assert_eq!(snapshot.delta.concepts.len(), 2, "the writes since the cut");
        assert_eq!(snapshot.concept_count(), DELTA_LIMIT + 2);
        assert_eq!(search.published(), search.staged());
        assert_eq!(ids_and_kinds(&search, "договор"), exact("kept"));
        assert_eq!(ids_and_kinds(&search, "организация"), exact("moved"));
        assert!(ids_and_kinds(&search, "соглашение").is_empty());
        assert_eq!(ids_and_kinds(&search, "сотрудничество"), exact("new"));
        for deleted in ["союз", "слово1"] {
            let found = ids_and_kinds(&search, deleted);
            assert!(
                found.iter().all(|(id, _)| id != "gone" && id != "c1"),
                "{found:?}"
            );
        }
        assert_eq!(ids_and_kinds(&search, "слово2"), exact("c2"));
    }

    /// A base built in place while another is built apart (collection priorities set)
    /// holds all the cut does and more: the one built apart is dropped.
    #[test]
    fn a_base_built_apart_gives_way_to_one_built_in_place_meanwhile() {
        let search = TermSearch::new(Vec::new(), HashMap::new());
        search.stage(
            (0..=DELTA_LIMIT)
                .map(|n| TermChange::Upserted(russian(&format!("c{n}"), &format!("слово{n}")))),
        );
        let Some(cut) = search.publish(true) else {
            panic!("a base is due past the limit");
        };
        search.stage([TermChange::Upserted(russian("new", "сотрудничество"))]);
        search.set_priorities(HashMap::from([("test".to_owned(), 5)]));
        search.rebase(cut);
        let snapshot = search.snapshot();
        assert_eq!(snapshot.base.concepts.len(), DELTA_LIMIT + 2);
        assert!(snapshot.delta.concepts.is_empty());
        assert_eq!(
            ids_and_kinds(&search, "сотрудничество"),
            [("new".to_owned(), MatchKind::Exact)]
        );
    }

    /// Through [`TermSearch::publish_staged`], the base due is built on a thread of its own,
    /// and put in by it.
    #[test]
    fn publishing_past_the_limit_builds_the_base_on_a_thread() {
        let search = Arc::new(TermSearch::new(Vec::new(), HashMap::new()));
        for n in 0..=DELTA_LIMIT {
            search.stage([TermChange::Upserted(russian(&format!("c{n}"), "слово"))]);
            search.publish_staged();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while search.snapshot().base.concepts.len() <= DELTA_LIMIT {
            assert!(
                std::time::Instant::now() < deadline,
                "the base was not put in"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(search.snapshot().concept_count(), DELTA_LIMIT + 1);
    }

    #[test]
    fn a_lower_collection_fills_gaps_but_never_cuts_into_a_higher_ones_term() {
        // 为上合组织: a dictionary's 为上 (0..2) starts first, the glossary's 上合组织 (1..5).
        let candidates = vec![(0, 0..2), (5, 1..5), (0, 2..3), (0, 5..7), (5, 6..8)];
        let chosen = leftmost_longest_by_priority(candidates, |c| c.0, |c| c.1.clone());
        assert_eq!(chosen, [(5, 1..5), (5, 6..8)]);
        // One priority: plain leftmost-longest.
        let candidates = vec![(0, 0..2), (0, 1..5), (0, 2..3), (0, 3..4)];
        let chosen = leftmost_longest_by_priority(candidates, |c| c.0, |c| c.1.clone());
        assert_eq!(chosen, [(0, 0..2), (0, 2..3), (0, 3..4)]);
    }

    #[test]
    fn spans_count_astral_characters_twice_in_utf16() {
        let text = "𠀀a一带一路b";
        let start = text.find('一').unwrap();
        let range = start..start + 12;
        let spans = text_spans(text, std::slice::from_ref(&range));
        assert_eq!(spans[0].chars, 2..6);
        assert_eq!(spans[0].utf16, 3..7);
    }
}
