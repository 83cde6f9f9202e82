//! Imports into the memory index: units analyzed while their file is read, published once
//! the store has committed them.

use std::sync::Arc;

use super::outcome::ImportOutcome;
use super::part::{self, Bits, Part};
use super::snapshot::{build_threads, LivePart, MemoryIndex};
use crate::model::TranslationUnit;

/// The units of one import of one memory, analyzed while its file is still being read, so
/// that the index build overlaps the reading, and only the id table waits for the commit
/// ([`MemoryIndex::insert_import`]).
#[derive(Default)]
pub struct ImportPart {
    part: Part,
    built: bool,
}

impl ImportPart {
    /// Analyzes `units` in the order given, on every core, as they come; blocks until `units`
    /// ends.
    pub fn analyze(units: impl IntoIterator<Item = TranslationUnit>) -> ImportPart {
        let items = units
            .into_iter()
            .map(|unit| Ok::<_, std::convert::Infallible>((0, unit)));
        let Ok(part) = part::assemble(items, build_threads());
        ImportPart { part, built: false }
    }

    /// Builds the search structures, which depend on the units alone: call it while the store
    /// commits them. [`MemoryIndex::insert_import`] does it otherwise.
    pub fn build(&mut self) {
        if !self.built {
            self.part.build_lanes();
            self.built = true;
        }
    }

    /// The part, its search structures built.
    fn into_built(mut self) -> Part {
        self.build();
        self.part
    }

    /// Number of units analyzed.
    pub fn len(&self) -> usize {
        self.part.slots()
    }

    /// Whether no unit was analyzed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl MemoryIndex {
    /// Publishes a committed import of memory `memory` from the part analyzed while its file
    /// was read. The store may have kept some units otherwise than they were read: `outcome`
    /// says which, and the caller then publishes those units as stored, in a part of their own.
    /// Units of shards the index does not hold are left out.
    pub fn insert_import(&mut self, memory: &str, part: ImportPart, outcome: &ImportOutcome) {
        let mut part = part.into_built();
        let name = memory;
        let memory = Arc::make_mut(&mut self.memories).id(name);
        let mut dropped = Bits::default();
        for &slot in &outcome.not_stored_as_read {
            dropped.set(slot);
        }
        for slot in outcome.committed..part.slots() {
            dropped.set(slot as u32);
        }
        if !self.partition.holds_all() {
            for slot in 0..part.slots() as u32 {
                if !self.partition.keeps(name, part.unit_id(slot)) {
                    dropped.set(slot);
                }
            }
        }
        part.set_memory(memory);
        let mut removed = part.index_ids(&dropped);
        for slot in 0..part.slots() as u32 {
            if dropped.get(slot) {
                removed.set(slot);
            } else if !removed.get(slot) {
                // A unit the import added had no earlier version; unlinking costs one probe
                // per part and keeps the index exact should it have had one.
                self.unlink(memory, part.unit_id(slot));
            }
        }
        self.parts.push(LivePart::new(part, removed));
        self.settle();
    }
}
