//! One immutable slice of the memory index: its units, stored compactly, and per language the
//! unit sequences, q-gram posting lists and length buckets the search reads.
//!
//! A [`Part`] is built in two steps. Units are first [`push`](Part::push)ed (normalized and
//! analyzed once, each unit's id copied once into one byte arena); independent chunks of units
//! can be analyzed on different threads and [`append`](Part::append)ed in order. Then
//! [`finish`](Part::finish) builds the read structures by counting sort into flat arrays: no
//! per-gram or per-entry allocation, so 10⁶ units build in seconds and cost a few hundred
//! bytes each.
//!
//! A part keeps no unit text: the symbol sequences rank the candidates, and the few units a
//! search returns are read from where they are stored (see
//! [`UnitSource`](super::UnitSource)). Keeping the encoded units beside the sequences cost
//! more than a third of the index, the largest share of a big import's memory.
//!
//! Parts never change once finished: a removed or replaced unit is marked in a separate bit
//! set that belongs to the snapshot (see `MemoryIndex`), so readers of an older snapshot keep
//! seeing the part as it was.

use std::borrow::Borrow;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;

use super::analyze::Mode;
use super::file::{IndexFileError, Reader, Writer};
use super::hash::{FastHasher, FastMap};
use super::plain::{self, Normalizer};
use crate::model::{Lang, TranslationUnit};

/// No slot; also the empty cell of the id table.
const NONE: u32 = u32::MAX;

/// Below this many entries a lane's read structures are built on the calling thread: a
/// thread costs more than the work.
const PARALLEL_ENTRIES: usize = 50_000;

/// Gram occurrences a lane's posting-list build buckets at once (8 bytes each): the build
/// reads the entries once per run of first symbols whose occurrences fit. Bucketing them all
/// at once took 8 bytes per occurrence on top of the index, 0.5 GB for the Chinese lane of
/// 2.2·10⁶ units, the peak of a large import.
const BUILD_CELLS: usize = 1 << 24;

/// A set of slots, as bits.
#[derive(Clone, Debug, Default)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    /// Whether slot `i` is in the set.
    pub(super) fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Adds slot `i`.
    pub(super) fn set(&mut self, i: u32) {
        let word = i as usize / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (i % 64);
    }

    /// The set as 64-bit words, slot `i` at bit `i % 64` of word `i / 64`.
    pub(super) fn words(&self) -> &[u64] {
        &self.0
    }

    /// The set whose [`words`](Self::words) these are.
    pub(super) fn from_words(words: Vec<u64>) -> Bits {
        Bits(words)
    }
}

/// Builds the read structures of `lanes`, each on a thread of its own.
fn build_lanes_in_parallel(mut lanes: Vec<Lane>) -> Vec<Lane> {
    thread::scope(|scope| {
        for lane in lanes.iter_mut() {
            scope.spawn(|| lane.build());
        }
    });
    lanes
}

/// Units and their per-language search structures; see the module docs.
#[derive(Default)]
pub(super) struct Part {
    /// The units' ids.
    ids: Arena,
    /// Per slot: the memory id (an index into the index's memory names).
    memory: Vec<u32>,
    /// Per slot: where its segment languages end in `seg_langs`.
    seg_ends: Vec<u32>,
    /// Language ids (into `langs`) of every unit's segments, in segment order.
    seg_langs: Vec<u32>,
    langs: Vec<Lang>,
    lanes: Vec<Lane>,
    /// Open-addressing table (memory, unit id) → slot, for replacing and removing by id.
    by_id: Vec<u32>,
}

/// Unit ids as UTF-8, back to back in blocks. A part put together from analyzed chunks takes
/// over their blocks instead of copying them into one growing buffer.
#[derive(Default)]
struct Arena {
    blocks: Vec<Vec<u8>>,
    /// Per block: its first slot.
    firsts: Vec<u32>,
    /// Per slot: where its id ends in its block (it starts where the previous slot's ends,
    /// or at 0 for a block's first slot).
    ends: Vec<u32>,
}

/// A block that has grown past this takes no more ids, so offsets fit in `u32`.
const BLOCK_BYTES: usize = 1 << 30;

impl Arena {
    /// The id in a slot, as bytes.
    fn get(&self, slot: u32) -> &[u8] {
        let Some(block) = self.firsts.partition_point(|&f| f <= slot).checked_sub(1) else {
            return &[];
        };
        let start = match slot.checked_sub(1) {
            Some(previous) if self.firsts[block] != slot => self.ends[previous as usize],
            _ => 0,
        };
        let end = self.ends.get(slot as usize).copied().unwrap_or(start);
        self.blocks[block]
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The block to append to, opened when there is none or the last is full.
    fn last_block(&mut self) -> &mut Vec<u8> {
        if self.blocks.last().is_none_or(|b| b.len() >= BLOCK_BYTES) {
            self.blocks.push(Vec::new());
            self.firsts.push(self.ends.len() as u32);
        }
        let last = self.blocks.len() - 1;
        &mut self.blocks[last]
    }

    /// Appends an id.
    fn push(&mut self, id: &[u8]) {
        let block = self.last_block();
        block.extend_from_slice(id);
        let end = block.len() as u32;
        self.ends.push(end);
    }

    /// Appends every slot of `other`, taking over its blocks.
    fn absorb(&mut self, other: Arena) {
        let base = self.ends.len() as u32;
        self.firsts.extend(other.firsts.iter().map(|f| f + base));
        self.blocks
            .extend(other.blocks.into_iter().map(|mut block| {
                block.shrink_to_fit();
                block
            }));
        self.ends.extend(other.ends);
    }

    fn shrink_to_fit(&mut self) {
        self.blocks.iter_mut().for_each(Vec::shrink_to_fit);
        self.ends.shrink_to_fit();
    }
}

/// All segments of one language (primary subtag) in a part.
pub(super) struct Lane {
    name: Box<str>,
    pub(super) mode: Mode,
    /// Normalized unit text → symbol; ids start at 1 ([`NUMBER`] is 0).
    symbols: FastMap<Box<str>, u32>,
    /// Per entry: the unit's slot.
    slot: Vec<u32>,
    /// Per entry: the segment's index in its unit.
    segment: Vec<u32>,
    /// Per entry: where its symbols end in `seq`.
    seq_ends: Vec<usize>,
    seq: Vec<u32>,
    /// Posting lists keyed by gram `(a, b)` (`b = 0` when `q = 1`): the keys with first
    /// symbol `a` are `second[first[a]..first[a + 1]]`, sorted; key `k`'s entries are
    /// `post[post_ends[k - 1]..post_ends[k]]`, ascending.
    first: Vec<u32>,
    second: Vec<u32>,
    post_ends: Vec<u32>,
    post: Vec<u32>,
    /// Entries of length `m` are `by_len[len_ends[m - 1]..len_ends[m]]`, ascending.
    len_ends: Vec<u32>,
    by_len: Vec<u32>,
}

/// `items[ends[i - 1]..ends[i]]`, with 0 before the first.
fn span<'a, T, E: Copy + TryInto<usize>>(items: &'a [T], ends: &[E], i: usize) -> &'a [T] {
    let end = |k: usize| ends.get(k).map_or(0, |&e| e.try_into().unwrap_or(0));
    let start = if i == 0 { 0 } else { end(i - 1) };
    items.get(start..end(i)).unwrap_or_default()
}

impl Part {
    /// Number of slots, removed units included.
    pub(super) fn slots(&self) -> usize {
        self.memory.len()
    }

    /// The lane of a primary language subtag.
    pub(super) fn lane(&self, primary: &str) -> Option<&Lane> {
        self.lanes.iter().find(|l| &*l.name == primary)
    }

    /// The memory id of a slot.
    pub(super) fn memory(&self, slot: u32) -> Option<u32> {
        self.memory.get(slot as usize).copied()
    }

    /// The languages of a slot's segments, in segment order.
    pub(super) fn segment_langs(&self, slot: u32) -> impl Iterator<Item = &Lang> + '_ {
        span(&self.seg_langs, &self.seg_ends, slot as usize)
            .iter()
            .filter_map(|&l| self.langs.get(l as usize))
    }

    /// The unit id of a slot.
    pub(super) fn unit_id(&self, slot: u32) -> &str {
        std::str::from_utf8(self.ids.get(slot)).unwrap_or_default()
    }

    /// The slot holding unit `id` of memory `memory`, if any (removed or not).
    pub(super) fn find(&self, memory: u32, id: &str) -> Option<u32> {
        if self.by_id.is_empty() {
            return None;
        }
        let mask = self.by_id.len() - 1;
        let mut at = id_hash(memory, id) as usize & mask;
        loop {
            let slot = *self.by_id.get(at)?;
            if slot == NONE {
                return None;
            }
            if self.memory(slot) == Some(memory) && self.unit_id(slot) == id {
                return Some(slot);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds a unit of memory `memory` to an unfinished part: keeps its id, and normalizes and
    /// analyzes each segment once into its lane.
    pub(super) fn push(
        &mut self,
        memory: u32,
        unit: &TranslationUnit,
        normalizer: &mut Normalizer,
    ) {
        let slot = self.slots() as u32;
        self.ids.push(unit.id.as_bytes());
        self.memory.push(memory);
        for (index, segment) in unit.segments.iter().enumerate() {
            let lang = self.lang_id(&segment.lang);
            self.seg_langs.push(lang);
            let lane = self.lane_mut(&segment.lang);
            let normalized = normalizer.key(&segment.text);
            for u in plain::units(lane.mode, &normalized) {
                let symbol = if u.number {
                    NUMBER
                } else {
                    lane.intern(normalized.get(u.range).unwrap_or_default())
                };
                lane.seq.push(symbol);
            }
            lane.seq_ends.push(lane.seq.len());
            lane.slot.push(slot);
            lane.segment.push(index as u32);
        }
        self.seg_ends.push(self.seg_langs.len() as u32);
    }

    /// Appends the units of another unfinished or finished part that `keep` accepts, in slot
    /// order, translating its languages and symbols into this part's.
    pub(super) fn append(&mut self, other: &Part, keep: impl Fn(u32) -> bool) {
        let slots = self.append_slots(other, keep, true);
        self.append_lanes(other, &slots);
    }

    /// Appends every unit of an unfinished part, taking over its ids rather than copying them.
    fn absorb(&mut self, mut other: Part) {
        let ids = std::mem::take(&mut other.ids);
        let slots = self.append_slots(&other, |_| true, false);
        self.ids.absorb(ids);
        self.append_lanes(&other, &slots);
    }

    /// Appends the slots of `other` that `keep` accepts, copying their ids when `copy`
    /// (else the caller appends them); answers each slot's new number, or [`NONE`].
    fn append_slots(&mut self, other: &Part, keep: impl Fn(u32) -> bool, copy: bool) -> Vec<u32> {
        let langs: Vec<u32> = other.langs.iter().map(|l| self.lang_id(l)).collect();
        let mut slots = vec![NONE; other.slots()];
        for (slot, new) in slots.iter_mut().enumerate() {
            let slot = slot as u32;
            if !keep(slot) {
                continue;
            }
            *new = self.slots() as u32;
            if copy {
                self.ids.push(other.ids.get(slot));
            }
            self.memory.push(other.memory(slot).unwrap_or(0));
            let segment_langs = span(&other.seg_langs, &other.seg_ends, slot as usize);
            self.seg_langs.extend(
                segment_langs
                    .iter()
                    .map(|&l| langs.get(l as usize).copied().unwrap_or(0)),
            );
            self.seg_ends.push(self.seg_langs.len() as u32);
        }
        slots
    }

    /// Appends the lane entries of `other`'s slots as `slots` renumbers them.
    fn append_lanes(&mut self, other: &Part, slots: &[u32]) {
        for theirs in &other.lanes {
            let mode = theirs.mode;
            let ours = match self.lanes.iter().position(|l| l.name == theirs.name) {
                Some(at) => &mut self.lanes[at],
                None => {
                    self.lanes.push(Lane::new(theirs.name.clone(), mode));
                    let last = self.lanes.len() - 1;
                    &mut self.lanes[last]
                }
            };
            let mut symbols = vec![NUMBER; theirs.symbols.len() + 1];
            for (key, &id) in &theirs.symbols {
                if let Some(cell) = symbols.get_mut(id as usize) {
                    *cell = ours.intern(key);
                }
            }
            for entry in 0..theirs.entries() {
                let Some(&slot) = slots.get(theirs.slot[entry] as usize) else {
                    continue;
                };
                if slot == NONE {
                    continue;
                }
                ours.seq.extend(
                    theirs
                        .seq(entry as u32)
                        .iter()
                        .map(|&s| symbols.get(s as usize).copied().unwrap_or(NUMBER)),
                );
                ours.seq_ends.push(ours.seq.len());
                ours.slot.push(slot);
                ours.segment.push(theirs.segment[entry]);
            }
        }
    }

    /// Builds the read structures (posting lists, length buckets, the id table); answers the
    /// slots superseded by a later unit with the same memory and id.
    pub(super) fn finish(&mut self) -> Bits {
        if self.lanes.iter().map(Lane::entries).sum::<usize>() < PARALLEL_ENTRIES {
            self.build_lanes();
            return self.index_ids(&Bits::default());
        }
        // The id table on this thread while the lanes build on others.
        let lanes = std::mem::take(&mut self.lanes);
        let (lanes, superseded) = thread::scope(|scope| {
            let lanes = scope.spawn(|| build_lanes_in_parallel(lanes));
            let superseded = self.index_ids(&Bits::default());
            match lanes.join() {
                Ok(lanes) => (lanes, superseded),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        self.lanes = lanes;
        superseded
    }

    /// The first half of [`finish`](Self::finish): the per-language read structures, which
    /// depend on the units alone, one language at a time. An import builds them while the
    /// store commits on the other cores, and the id table ([`index_ids`](Self::index_ids))
    /// once it knows which units the commit kept. One language at a time, the build's working
    /// memory is one language's rather than every language's at once.
    pub(super) fn build_lanes(&mut self) {
        self.lanes.iter_mut().for_each(Lane::build);
    }

    /// Sets every slot's memory: an import analyzes the units of its one memory before the
    /// index has given that memory an id.
    pub(super) fn set_memory(&mut self, memory: u32) {
        self.memory.fill(memory);
    }

    /// The second half of [`finish`](Self::finish): builds the id table over the slots not in
    /// `dropped` (which can then no longer be found by id) and answers the slots a later one
    /// with the same memory and id supersedes.
    pub(super) fn index_ids(&mut self, dropped: &Bits) -> Bits {
        self.ids.shrink_to_fit();
        self.memory.shrink_to_fit();
        self.seg_ends.shrink_to_fit();
        self.seg_langs.shrink_to_fit();
        let (by_id, superseded) = self.id_table(dropped);
        self.by_id = by_id;
        superseded
    }

    /// The id table over the slots not in `dropped`, and the slots a later slot with the same
    /// memory and id supersedes.
    fn id_table(&self, dropped: &Bits) -> (Vec<u32>, Bits) {
        let mut superseded = Bits::default();
        let cells = (self.slots() * 2).next_power_of_two().max(2);
        let mask = cells - 1;
        let mut table = vec![NONE; cells];
        for slot in (0..self.slots() as u32).filter(|&slot| !dropped.get(slot)) {
            let (memory, id) = (self.memory(slot).unwrap_or(0), self.unit_id(slot));
            let mut at = id_hash(memory, id) as usize & mask;
            loop {
                let held = table[at];
                if held == NONE {
                    table[at] = slot;
                    break;
                }
                if self.memory(held) == Some(memory) && self.unit_id(held) == id {
                    superseded.set(held);
                    table[at] = slot;
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        (table, superseded)
    }

    fn lang_id(&mut self, lang: &Lang) -> u32 {
        match self.langs.iter().position(|l| l == lang) {
            Some(at) => at as u32,
            None => {
                self.langs.push(lang.clone());
                (self.langs.len() - 1) as u32
            }
        }
    }

    fn lane_mut(&mut self, lang: &Lang) -> &mut Lane {
        let primary = lang.primary();
        let at = match self.lanes.iter().position(|l| &*l.name == primary) {
            Some(at) => at,
            None => {
                self.lanes.push(Lane::new(primary.into(), Mode::of(lang)));
                self.lanes.len() - 1
            }
        };
        &mut self.lanes[at]
    }
}

impl Lane {
    fn new(name: Box<str>, mode: Mode) -> Lane {
        Lane {
            name,
            mode,
            symbols: FastMap::default(),
            slot: Vec::new(),
            segment: Vec::new(),
            seq_ends: Vec::new(),
            seq: Vec::new(),
            first: Vec::new(),
            second: Vec::new(),
            post_ends: Vec::new(),
            post: Vec::new(),
            len_ends: Vec::new(),
            by_len: Vec::new(),
        }
    }

    fn intern(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.symbols.get(key) {
            return id;
        }
        let id = self.symbols.len() as u32 + 1;
        self.symbols.insert(key.into(), id);
        id
    }

    /// The symbol of a normalized unit text, when some stored segment has it.
    pub(super) fn symbol(&self, key: &str) -> Option<u32> {
        self.symbols.get(key).copied()
    }

    /// Number of entries (segments), removed units included.
    pub(super) fn entries(&self) -> usize {
        self.slot.len()
    }

    /// The slot and segment index of an entry.
    pub(super) fn entry(&self, entry: u32) -> Option<(u32, u32)> {
        let at = entry as usize;
        Some((*self.slot.get(at)?, *self.segment.get(at)?))
    }

    /// The symbols of an entry.
    pub(super) fn seq(&self, entry: u32) -> &[u32] {
        span(&self.seq, &self.seq_ends, entry as usize)
    }

    /// One more than the longest entry.
    pub(super) fn lengths(&self) -> usize {
        self.len_ends.len()
    }

    /// Entries of `m` symbols, ascending.
    pub(super) fn of_length(&self, m: usize) -> &[u32] {
        span(&self.by_len, &self.len_ends, m)
    }

    /// Entries containing a gram (see [`grams`]), ascending.
    pub(super) fn postings(&self, gram: u64) -> &[u32] {
        let (a, b) = match self.mode.q() {
            1 => (gram as usize, 0),
            _ => ((gram >> 32) as usize, gram as u32),
        };
        let keys = span(&self.second, &self.first, a + 1);
        let offset = match a {
            0 => 0,
            _ => self.first.get(a).map_or(0, |&f| f as usize),
        };
        match keys.binary_search(&b) {
            Ok(k) => span(&self.post, &self.post_ends, offset + k),
            Err(_) => &[],
        }
    }

    /// Builds posting lists and length buckets by counting sort over the entries.
    fn build(&mut self) {
        self.build_postings();
        let entries = self.entries();
        // Length buckets.
        let longest = (0..entries)
            .map(|e| self.seq(e as u32).len())
            .max()
            .map_or(0, |m| m + 1);
        let mut counts = vec![0u32; longest];
        for entry in 0..entries {
            counts[self.seq(entry as u32).len()] += 1;
        }
        let mut next: Vec<u32> = Vec::with_capacity(longest);
        let mut sum = 0;
        for &count in &counts {
            next.push(sum);
            sum += count;
        }
        self.by_len = vec![0; entries];
        for entry in 0..entries {
            let m = self.seq(entry as u32).len();
            self.by_len[next[m] as usize] = entry as u32;
            next[m] += 1;
        }
        self.len_ends = next;
        self.seq.shrink_to_fit();
        self.seq_ends.shrink_to_fit();
        self.slot.shrink_to_fit();
        self.segment.shrink_to_fit();
        self.second.shrink_to_fit();
        self.post_ends.shrink_to_fit();
    }
}

impl Lane {
    /// Posting lists by counting sort on the first symbol of each gram. Entries are visited
    /// in order, so every bucket is ascending by entry and a gram repeated within an entry
    /// lands next to itself (for `q = 1`) or, once a bucket is sorted by second symbol, next
    /// to its twin (for `q = 2`): duplicates are dropped there, without sorting each entry.
    fn build_postings(&mut self) {
        self.build_postings_within(BUILD_CELLS);
    }

    /// [`build_postings`](Self::build_postings), bucketing at most `cells` gram occurrences
    /// at once (or one first symbol's, if more): the entries are read once per run of first
    /// symbols whose occurrences fit, and each run's lists are appended in symbol order, so
    /// the arrays are those of a single pass.
    fn build_postings_within(&mut self, cells: usize) {
        let symbols = self.symbols.len() + 1;
        let entries = self.entries() as u32;
        let q = self.mode.q();
        let mut starts = vec![0usize; symbols + 1];
        for entry in 0..entries {
            for gram in grams(self.mode, self.seq(entry)) {
                starts[first_symbol(self.mode, gram) + 1] += 1;
            }
        }
        for a in 1..starts.len() {
            starts[a] += starts[a - 1];
        }
        self.first = Vec::with_capacity(symbols + 1);
        self.first.push(0);
        self.second.clear();
        self.post_ends.clear();
        self.post = Vec::with_capacity(starts[symbols]);
        let bits = u32::BITS - (symbols as u32).leading_zeros();
        let mut scratch = Vec::new();
        // (second symbol, entry) per gram occurrence of the run's first symbols, bucketed by
        // first symbol.
        let mut packed: Vec<u64> = Vec::new();
        let mut low = 0;
        while low < symbols {
            let mut high = low + 1;
            while high < symbols && starts[high + 1] - starts[low] <= cells {
                high += 1;
            }
            let base = starts[low];
            packed.clear();
            packed.resize(starts[high] - base, 0);
            let mut cursor: Vec<usize> = starts[low..high].iter().map(|s| s - base).collect();
            for entry in 0..entries {
                for gram in grams(self.mode, self.seq(entry)) {
                    let a = first_symbol(self.mode, gram);
                    if !(low..high).contains(&a) {
                        continue;
                    }
                    let b = if q == 1 { 0 } else { gram as u32 };
                    let cell = (u64::from(b) << 32) | u64::from(entry);
                    let at = &mut cursor[a - low];
                    if q == 1 && *at > starts[a] - base && packed[*at - 1] == cell {
                        continue;
                    }
                    packed[*at] = cell;
                    *at += 1;
                }
            }
            for a in low..high {
                let bucket = &mut packed[starts[a] - base..cursor[a - low]];
                if q > 1 {
                    sort_by_second(bucket, &mut scratch, bits);
                }
                let mut previous: Option<u64> = None;
                for &cell in bucket.iter() {
                    if previous == Some(cell) {
                        continue;
                    }
                    let b = (cell >> 32) as u32;
                    if previous.map(|p| (p >> 32) as u32) != Some(b) {
                        if previous.is_some() {
                            self.post_ends.push(self.post.len() as u32);
                        }
                        self.second.push(b);
                    }
                    previous = Some(cell);
                    self.post.push(cell as u32);
                }
                if previous.is_some() {
                    self.post_ends.push(self.post.len() as u32);
                }
                self.first.push(self.second.len() as u32);
            }
            low = high;
        }
        self.post.shrink_to_fit();
    }
}

/// Sorts `(second symbol, entry)` cells by second symbol, keeping the entry order within
/// one: a least-significant-digit radix sort over the `bits` low bits of the symbol, a byte
/// at a time, which for the large buckets of common characters is several times faster
/// than comparing.
fn sort_by_second(bucket: &mut [u64], scratch: &mut Vec<u64>, bits: u32) {
    if bucket.len() <= 64 {
        bucket.sort_unstable();
        return;
    }
    scratch.clear();
    scratch.resize(bucket.len(), 0);
    let mut shift = 32;
    while shift < 32 + bits {
        let mut counts = [0usize; 257];
        for &cell in bucket.iter() {
            counts[((cell >> shift) & 0xff) as usize + 1] += 1;
        }
        for d in 1..257 {
            counts[d] += counts[d - 1];
        }
        for &cell in bucket.iter() {
            let digit = ((cell >> shift) & 0xff) as usize;
            scratch[counts[digit]] = cell;
            counts[digit] += 1;
        }
        bucket.copy_from_slice(scratch);
        shift += 8;
    }
}

fn first_symbol(mode: Mode, gram: u64) -> usize {
    match mode.q() {
        1 => gram as usize,
        _ => (gram >> 32) as usize,
    }
}

fn id_hash(memory: u32, id: &str) -> u64 {
    let mut hasher = BuildHasherDefault::<FastHasher>::default().build_hasher();
    hasher.write_u32(memory);
    hasher.write(id.as_bytes());
    hasher.finish()
}

/// Builds one finished part from `(memory id, unit)` items, analyzing chunks of them on
/// `threads` worker threads while the calling thread reads the items (so a store iterator
/// need not be `Send`) and appends analyzed chunks in input order as they come back, so that
/// only a few chunks are held at once. Answers the part and the slots superseded within the
/// input: a later unit with the same memory and id wins, as if they were inserted one after
/// the other. Stops at the first error of the input.
pub(super) fn build<U, E>(
    items: impl Iterator<Item = Result<(u32, U), E>>,
    threads: usize,
) -> Result<(Part, Bits), E>
where
    U: Borrow<TranslationUnit> + Send,
{
    let mut part = assemble(items, threads)?;
    let superseded = part.finish();
    Ok((part, superseded))
}

/// The first step of [`build`]: the analyzed units, as an unfinished part.
pub(super) fn assemble<U, E>(
    items: impl Iterator<Item = Result<(u32, U), E>>,
    threads: usize,
) -> Result<Part, E>
where
    U: Borrow<TranslationUnit> + Send,
{
    let mut assembly = Assembly::default();
    if threads <= 1 {
        let mut normalizer = Normalizer::new();
        for item in items {
            let (memory, unit) = item?;
            assembly.part.push(memory, unit.borrow(), &mut normalizer);
        }
    } else {
        let (work, queue) = mpsc::sync_channel::<Chunk<U>>(threads);
        let (done, analyzed) = mpsc::channel::<(usize, Part)>();
        // Workers own the queue: should they all stop early, sending fails instead of waiting.
        let queue = Arc::new(Mutex::new(queue));
        thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let (queue, done) = (Arc::clone(&queue), done.clone());
                    scope.spawn(move || analyze_chunks(&queue, &done))
                })
                .collect();
            drop((queue, done));
            let read = send_chunks(items, work, || {
                for (number, part) in analyzed.try_iter() {
                    assembly.arrive(number, part);
                }
            });
            for worker in workers {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            for (number, part) in analyzed.try_iter() {
                assembly.arrive(number, part);
            }
            read
        })?;
    }
    Ok(assembly.part)
}

/// Analyzed chunks put together in input order.
#[derive(Default)]
struct Assembly {
    part: Part,
    next: usize,
    early: std::collections::BTreeMap<usize, Part>,
}

impl Assembly {
    fn arrive(&mut self, number: usize, chunk: Part) {
        self.early.insert(number, chunk);
        while let Some(chunk) = self.early.remove(&self.next) {
            if self.next == 0 {
                self.part = chunk;
            } else {
                self.part.absorb(chunk);
            }
            self.next += 1;
        }
    }
}

/// Units per analysis chunk: small enough that few units are in flight at once, large enough
/// that handing a chunk to a thread costs nothing measurable. A chunk's symbols are interned
/// again when it joins the part, which costs less in fewer, larger chunks: an import of 10⁶
/// units went from about 57 000 units/s with 8192 to 59 000–63 000 with 16 384, and 32 768
/// gained nothing more.
const CHUNK: usize = 16_384;

/// A numbered chunk of `(memory id, unit)` items.
type Chunk<U> = (usize, Vec<(u32, U)>);

/// Reads the items into numbered chunks for the workers, calling `between` after each send;
/// dropping `work` at the end (or at an error) tells the workers to stop.
fn send_chunks<U, E>(
    mut items: impl Iterator<Item = Result<(u32, U), E>>,
    work: mpsc::SyncSender<Chunk<U>>,
    mut between: impl FnMut(),
) -> Result<(), E> {
    let mut number = 0;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in items.by_ref().take(CHUNK) {
            chunk.push(item?);
        }
        if chunk.is_empty() || work.send((number, chunk)).is_err() {
            return Ok(());
        }
        between();
        number += 1;
    }
}

/// A worker: analyzes chunks into unfinished parts until the sender is gone.
fn analyze_chunks<U: Borrow<TranslationUnit>>(
    queue: &Mutex<mpsc::Receiver<Chunk<U>>>,
    done: &mpsc::Sender<(usize, Part)>,
) {
    let mut normalizer = Normalizer::new();
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((number, chunk)) = next else {
            return;
        };
        let mut part = Part::default();
        for (memory, unit) in &chunk {
            part.push(*memory, unit.borrow(), &mut normalizer);
        }
        drop(chunk);
        if done.send((number, part)).is_err() {
            return;
        }
    }
}

/// Saving and loading a finished part, array by array (see `file.rs` for the layout around).
impl Part {
    pub(super) fn save<W: std::io::Write>(&self, w: &mut Writer<W>) -> std::io::Result<()> {
        w.len(self.ids.blocks.len())?;
        for block in &self.ids.blocks {
            w.blob(block)?;
        }
        w.u32s(&self.ids.firsts)?;
        w.u32s(&self.ids.ends)?;
        w.u32s(&self.memory)?;
        w.u32s(&self.seg_ends)?;
        w.u32s(&self.seg_langs)?;
        let langs: Vec<String> = self.langs.iter().map(Lang::to_string).collect();
        w.strings(&langs)?;
        w.len(self.lanes.len())?;
        for lane in &self.lanes {
            lane.save(w)?;
        }
        w.u32s(&self.by_id)
    }

    /// A part saved by [`save`](Self::save), whose memory ids are below `memories`.
    pub(super) fn load<R: std::io::Read>(
        r: &mut Reader<R>,
        memories: usize,
    ) -> Result<Part, IndexFileError> {
        let blocks = r.len(8)?;
        let blocks = (0..blocks).map(|_| r.blob()).collect::<Result<_, _>>()?;
        let ids = Arena {
            blocks,
            firsts: r.u32s()?,
            ends: r.u32s()?,
        };
        let memory = r.u32s()?;
        let seg_ends = r.u32s()?;
        let seg_langs = r.u32s()?;
        let langs = r
            .strings()?
            .iter()
            .map(|tag| Lang::parse(tag))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| IndexFileError::Malformed("a language tag"))?;
        let lanes = r.len(1)?;
        let lanes = (0..lanes)
            .map(|_| Lane::load(r))
            .collect::<Result<_, _>>()?;
        let part = Part {
            ids,
            memory,
            seg_ends,
            seg_langs,
            langs,
            lanes,
            by_id: r.u32s()?,
        };
        let slots = part.slots();
        let consistent = part.ids.ends.len() == slots
            && part.seg_ends.len() == slots
            && part.ids.blocks.len() == part.ids.firsts.len()
            && part.memory.iter().all(|&m| (m as usize) < memories)
            && part.by_id.len().is_power_of_two()
            && part.lanes.iter().all(Lane::consistent);
        if !consistent {
            return Err(IndexFileError::Malformed("a part whose arrays disagree"));
        }
        Ok(part)
    }
}

impl Lane {
    fn save<W: std::io::Write>(&self, w: &mut Writer<W>) -> std::io::Result<()> {
        w.blob(self.name.as_bytes())?;
        w.u32(match self.mode {
            Mode::Chars => 0,
            Mode::Words => 1,
        })?;
        let mut symbols = vec![""; self.symbols.len()];
        for (key, &id) in &self.symbols {
            if let Some(cell) = symbols.get_mut(id as usize - 1) {
                *cell = key;
            }
        }
        w.strings(&symbols)?;
        w.u32s(&self.slot)?;
        w.u32s(&self.segment)?;
        w.usizes(&self.seq_ends)?;
        w.u32s(&self.seq)?;
        w.u32s(&self.first)?;
        w.u32s(&self.second)?;
        w.u32s(&self.post_ends)?;
        w.u32s(&self.post)?;
        w.u32s(&self.len_ends)?;
        w.u32s(&self.by_len)
    }

    fn load<R: std::io::Read>(r: &mut Reader<R>) -> Result<Lane, IndexFileError> {
        let name = String::from_utf8(r.blob()?)
            .map_err(|_| IndexFileError::Malformed("a language name"))?;
        let mode = match r.u32()? {
            0 => Mode::Chars,
            1 => Mode::Words,
            _ => return Err(IndexFileError::Malformed("a lane's mode")),
        };
        let names = r.strings()?;
        let mut symbols = FastMap::default();
        symbols.reserve(names.len());
        for (id, key) in names.into_iter().enumerate() {
            symbols.insert(key.into_boxed_str(), id as u32 + 1);
        }
        Ok(Lane {
            name: name.into_boxed_str(),
            mode,
            symbols,
            slot: r.u32s()?,
            segment: r.u32s()?,
            seq_ends: r.usizes()?,
            seq: r.u32s()?,
            first: r.u32s()?,
            second: r.u32s()?,
            post_ends: r.u32s()?,
            post: r.u32s()?,
            len_ends: r.u32s()?,
            by_len: r.u32s()?,
        })
    }

    /// Whether the arrays of a loaded lane agree in length with each other.
    fn consistent(&self) -> bool {
        let entries = self.entries();
        self.segment.len() == entries
            && self.seq_ends.len() == entries
            && self.by_len.len() == entries
            && self
                .seq_ends
                .last()
                .is_none_or(|&end| end == self.seq.len())
            && self.first.len() == self.symbols.len() + 2
            && self.post_ends.len() == self.second.len()
    }
}

/// The placeholder id every number is interned as.
pub(super) const NUMBER: u32 = 0;

/// The q-grams of a unit sequence as integers.
pub(super) fn grams(mode: Mode, seq: &[u32]) -> impl Iterator<Item = u64> + '_ {
    let q = mode.q();
    seq.windows(q).map(move |w| match w {
        [a, b] => gram2(*a, *b),
        [a, ..] => u64::from(*a),
        [] => 0,
    })
}

pub(super) fn gram2(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks analyzed on several threads are put together by taking over their ids: every
    /// slot must still hold its unit's id and be found by it.
    #[test]
    fn a_part_assembled_from_many_chunks_keeps_every_unit() {
        let units: Vec<TranslationUnit> = (0..2 * CHUNK + 123)
            .map(|n| TranslationUnit {
                id: format!("u{n}"),
                segments: vec![crate::model::Segment {
                    lang: Lang::en(),
                    text: format!("unit number {n}"),
                    tags: vec![],
                }],
                origin: "x".repeat(n % 7),
                created_ms: n as i64,
                metadata: vec![],
            })
            .collect();
        let items = units.iter().map(|u| Ok::<_, ()>((n_memory(u), u)));
        let (part, superseded) = build(items, 2).unwrap_or_default();
        assert_eq!(part.slots(), units.len());
        assert!(part.ids.blocks.len() > 1, "one block per chunk");
        for (slot, unit) in units.iter().enumerate() {
            let slot = slot as u32;
            assert_eq!(part.unit_id(slot), unit.id);
            assert_eq!(part.find(n_memory(unit), &unit.id), Some(slot));
            assert!(!superseded.get(slot));
        }
        // A merge copies them into blocks of its own.
        let mut merged = Part::default();
        merged.append(&part, |slot| slot % 2 == 0);
        assert_eq!(merged.unit_id(1), units[2].id);
    }

    /// Posting lists built a few first symbols at a time, as a large lane's are, are the
    /// arrays of a single pass.
    #[test]
    fn postings_built_in_runs_equal_those_built_at_once() {
        let han = |n: usize, k: usize| char::from_u32(0x4E00 + ((n * 7 + k * k * 13) % 97) as u32);
        let units: Vec<TranslationUnit> = (0..600)
            .map(|n| TranslationUnit {
                id: format!("u{n}"),
                segments: vec![
                    crate::model::Segment {
                        lang: Lang::zh(),
                        text: (0..5 + n % 11).filter_map(|k| han(n, k)).collect(),
                        tags: vec![],
                    },
                    crate::model::Segment {
                        lang: Lang::en(),
                        text: (0..3 + n % 7)
                            .map(|k| format!("w{}", (n + k * k) % 53))
                            .collect::<Vec<_>>()
                            .join(" "),
                        tags: vec![],
                    },
                ],
                origin: String::new(),
                created_ms: 0,
                metadata: vec![],
            })
            .collect();
        let items = units.iter().map(|u| Ok::<_, ()>((0, u)));
        let (mut part, _) = build(items, 1).unwrap_or_default();
        assert_eq!(part.lanes.len(), 2);
        for lane in &mut part.lanes {
            let at_once = (
                lane.first.clone(),
                lane.second.clone(),
                lane.post_ends.clone(),
                lane.post.clone(),
            );
            for cells in [1, 7, 100, 1000] {
                lane.build_postings_within(cells);
                let in_runs = (
                    lane.first.clone(),
                    lane.second.clone(),
                    lane.post_ends.clone(),
                    lane.post.clone(),
                );
                assert!(
                    in_runs == at_once,
                    "{} lane, {cells} cells at once",
                    lane.name
                );
            }
        }
    }

    fn n_memory(unit: &TranslationUnit) -> u32 {
        unit.created_ms as u32 % 3
    }
}
