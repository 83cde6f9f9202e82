//! The memory index as a value: named memories over a few immutable parts, and how writes
//! add, replace and remove units while keeping the parts few (see `part.rs` for a part).

use std::collections::HashMap;
use std::sync::Arc;

use super::part::{self, Bits, Part};
use super::partition::Partition;
use crate::model::{Lang, TranslationUnit};

/// Many named translation memories, indexed for fuzzy search and concordance.
///
/// A value is a snapshot: cloning costs a few reference counts, so
/// [`LiveMemoryIndex`](super::LiveMemoryIndex) hands clones to readers while a writer prepares the
/// next one. Units live in a few immutable parts (see `part.rs`): one large part built at start-up
/// with [`from_units`](Self::from_units), and smaller ones from later writes, merged as they grow
/// so that there are O(log n) of them. Removing a unit marks its slot in a per-part set that is
/// copied on write, never in the shared part itself.
#[derive(Clone, Default)]
pub struct MemoryIndex {
    pub(super) memories: Arc<Memories>,
    /// Oldest first.
    pub(super) parts: Vec<LivePart>,
    /// The memory revision of the store this snapshot reflects (see [`revision`](Self::revision)).
    pub(super) revision: u64,
    /// The shards whose units this index holds; units of other shards are left out.
    pub(super) partition: Arc<Partition>,
}

/// Memory names and their ids (indexes into `names`); ids are never reused. A loaded index
/// leaves out of `ids` the memories it holds no unit of.
#[derive(Clone, Default)]
pub(super) struct Memories {
    pub(super) names: Vec<String>,
    pub(super) ids: HashMap<String, u32>,
}

impl Memories {
    pub(super) fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }
}

/// A part with the slots this snapshot has removed from it.
#[derive(Clone)]
pub(super) struct LivePart {
    pub(super) part: Arc<Part>,
    pub(super) removed: Arc<Bits>,
    pub(super) live: usize,
}

impl LivePart {
    pub(super) fn new(part: Part, removed: Bits) -> LivePart {
        let live = (0..part.slots() as u32)
            .filter(|&s| !removed.get(s))
            .count();
        LivePart {
            part: Arc::new(part),
            removed: Arc::new(removed),
            live,
        }
    }

    pub(super) fn alive(&self, slot: u32) -> bool {
        !self.removed.get(slot)
    }

    /// One part holding the live units of `live_parts`, in order.
    pub(super) fn merge(live_parts: &[LivePart]) -> LivePart {
        let mut part = Part::default();
        for live_part in live_parts {
            part.append(&live_part.part, |slot| live_part.alive(slot));
        }
        let removed = part.finish();
        LivePart::new(part, removed)
    }
}

/// Threads for building: every core there is, within reason.
pub(super) fn build_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// Below this many units a write is analyzed on the calling thread.
const PARALLEL_UNITS: usize = 16_384;

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> MemoryIndex {
        MemoryIndex::default()
    }

    /// Builds the index over `(memory, unit)` items in one pass: the calling thread reads
    /// the items (a store iterator, say) while every core normalizes and analyzes them, and
    /// posting lists are then built by counting sort into flat arrays. Much faster and
    /// smaller than inserting units one at a time; this is how start-up builds the index. A
    /// later item with the memory and id of an earlier one replaces it. Stops at the first
    /// error of `items`.
    pub fn from_units<E>(
        items: impl IntoIterator<Item = Result<(String, TranslationUnit), E>>,
    ) -> Result<MemoryIndex, E> {
        MemoryIndex::from_units_of(Partition::whole(), items)
    }

    /// [`from_units`](Self::from_units) keeping only the units of the shards `partition`
    /// holds, now and in every later write.
    pub fn from_units_of<E>(
        partition: Partition,
        items: impl IntoIterator<Item = Result<(String, TranslationUnit), E>>,
    ) -> Result<MemoryIndex, E> {
        let mut memories = Memories::default();
        let items = items
            .into_iter()
            .filter(|item| {
                item.as_ref()
                    .map_or(true, |(memory, unit)| partition.keeps(memory, &unit.id))
            })
            .map(|item| item.map(|(memory, unit)| (memories.id(&memory), unit)));
        let (part, removed) = part::build(items, build_threads())?;
        let mut index = MemoryIndex {
            memories: Arc::new(memories),
            parts: Vec::new(),
            revision: 0,
            partition: Arc::new(partition),
        };
        index.parts.push(LivePart::new(part, removed));
        index.settle();
        Ok(index)
    }

    /// Adds (or replaces, by unit id) a unit of memory `memory`.
    pub fn insert(&mut self, memory: &str, unit: Arc<TranslationUnit>) {
        self.insert_many(memory, [unit]);
    }

    /// Adds (or replaces, by unit id) units of memory `memory` as one new part: a batch costs
    /// one build, where inserting its units one by one would cost one each. Later units win
    /// over earlier ones with the same id. Units of shards the index does not hold are left
    /// out.
    pub fn insert_many(
        &mut self,
        memory: &str,
        units: impl IntoIterator<Item = Arc<TranslationUnit>>,
    ) {
        let units: Vec<Arc<TranslationUnit>> = units
            .into_iter()
            .filter(|unit| self.partition.keeps(memory, &unit.id))
            .collect();
        if units.is_empty() {
            return;
        }
        let memory = Arc::make_mut(&mut self.memories).id(memory);
        for unit in &units {
            self.unlink(memory, &unit.id);
        }
        let threads = if units.len() >= PARALLEL_UNITS {
            build_threads()
        } else {
            1
        };
        let items = units
            .iter()
            .map(|unit| Ok::<_, std::convert::Infallible>((memory, Arc::clone(unit))));
        let Ok((part, removed)) = part::build(items, threads);
        self.parts.push(LivePart::new(part, removed));
        self.settle();
    }

    /// Brings the index up to date with units read again from the store: each
    /// `(memory, id, unit)` replaces the indexed unit of that memory and id, or removes it
    /// when `unit` is `None` (no longer stored). Units of one memory become one new part.
    pub fn refresh(
        &mut self,
        units: impl IntoIterator<Item = (String, String, Option<TranslationUnit>)>,
    ) {
        let mut stored: HashMap<String, Vec<Arc<TranslationUnit>>> = HashMap::new();
        for (memory, id, unit) in units {
            match unit {
                Some(unit) => stored.entry(memory).or_default().push(Arc::new(unit)),
                None => {
                    self.remove(&memory, &id);
                }
            }
        }
        for (memory, units) in stored {
            self.insert_many(&memory, units);
        }
    }

    /// Removes a unit by id; answers whether it was there.
    pub fn remove(&mut self, memory: &str, unit_id: &str) -> bool {
        let Some(&memory) = self.memories.ids.get(memory) else {
            return false;
        };
        let removed = self.unlink(memory, unit_id);
        if removed {
            self.settle();
        }
        removed
    }

    /// Marks the live unit with this memory and id removed, leaving parts as they are.
    pub(super) fn unlink(&mut self, memory: u32, unit_id: &str) -> bool {
        for live_part in self.parts.iter_mut().rev() {
            let Some(slot) = live_part.part.find(memory, unit_id) else {
                continue;
            };
            if live_part.alive(slot) {
                Arc::make_mut(&mut live_part.removed).set(slot);
                live_part.live -= 1;
                return true;
            }
        }
        false
    }

    /// Keeps the parts few and dense: drops empty ones, rebuilds those mostly removed, and
    /// merges the newest two while the newest holds at least half as many units as the one
    /// before it. Sizes then at least halve from part to part, so there are O(log n) parts
    /// and each unit is rebuilt O(log n) times over its life (from analyzed symbols, never
    /// from its text again).
    pub(super) fn settle(&mut self) {
        self.parts.retain(|s| s.live > 0);
        for live_part in &mut self.parts {
            if live_part.part.slots() > 2 * live_part.live {
                *live_part = LivePart::merge(std::slice::from_ref(live_part));
            }
        }
        while let [.., older, newer] = self.parts.as_slice() {
            if newer.live * 2 < older.live {
                break;
            }
            let merged = LivePart::merge(&self.parts[self.parts.len() - 2..]);
            self.parts.truncate(self.parts.len() - 2);
            self.parts.push(merged);
        }
    }

    /// The memory revision of the store this snapshot reflects, as its writer
    /// [set](Self::set_revision) it: every unit change up to it is in the snapshot (0 when
    /// nobody said). What a saved index is stamped with.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Records that this snapshot reflects the store up to memory revision `revision`.
    pub fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }

    /// Number of stored units, over all memories.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|s| s.live).sum()
    }

    /// The names of the memories units were stored in, in name order.
    pub fn memory_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.memories.ids.keys().cloned().collect();
        names.sort();
        names
    }

    /// The shards this index holds.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// Whether no unit is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Per memory id: its rank for ties, or `None` when the query excludes it.
    pub(super) fn priorities(&self, memories: &[String]) -> Vec<Option<usize>> {
        let names = &self.memories.names;
        let mut ranks = vec![None; names.len()];
        if memories.is_empty() {
            let mut order: Vec<usize> = (0..names.len()).collect();
            order.sort_by(|&a, &b| names[a].cmp(&names[b]));
            for (rank, id) in order.into_iter().enumerate() {
                ranks[id] = Some(rank);
            }
        } else {
            for (rank, name) in memories.iter().enumerate() {
                if let Some(&id) = self.memories.ids.get(name) {
                    ranks[id as usize].get_or_insert(rank);
                }
            }
        }
        ranks
    }
}

/// Whether a stored segment in `stored` answers a request in `requested`: [`Lang::accepts`],
/// with both Chinese standards answering Chinese.
pub(super) fn answers(stored: &Lang, requested: &Lang) -> bool {
    if requested.primary() == "zh" {
        stored.primary() == "zh"
    } else {
        stored.accepts(requested)
    }
}
