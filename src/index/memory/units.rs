//! Where the units an index ranks are read from. A part keeps only ids and symbol sequences;
//! a search reads the few units it returns (and the stored numbers of exact matches) through
//! a [`UnitSource`]: the store in the server, [`HeldUnits`] in tests and benchmarks.
//!
//! The store may already hold a newer version of a unit than the snapshot being searched
//! (a write lands in the store before its index is published), or none at all. A unit read
//! back is therefore used only when its segment still reads as the sequence that was
//! scored, so a match never shows a score computed for other text.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::analyze::{self, Unit};
use super::part::{Lane, Part, NUMBER};
use crate::model::TranslationUnit;
use crate::text::{self, NormalizedText};

/// Reads stored units by memory and id.
pub trait UnitSource: Sync {
    /// Unit `id` of memory `memory` as stored now; `None` when there is none (or it cannot be
    /// read: the implementation reports why).
    fn unit(&self, memory: &str, id: &str) -> Option<Arc<TranslationUnit>>;
}

/// Units held in memory by memory and id: the source of an index built without a store.
#[derive(Clone, Debug, Default)]
pub struct HeldUnits(HashMap<String, HashMap<String, Arc<TranslationUnit>>>);

impl HeldUnits {
    /// Holds `unit` in `memory`, replacing the unit with its id.
    pub fn insert(&mut self, memory: &str, unit: Arc<TranslationUnit>) {
        self.0
            .entry(memory.to_owned())
            .or_default()
            .insert(unit.id.clone(), unit);
    }

    /// Forgets unit `id` of `memory`.
    pub fn remove(&mut self, memory: &str, id: &str) {
        if let Some(units) = self.0.get_mut(memory) {
            units.remove(id);
        }
    }
}

impl UnitSource for HeldUnits {
    fn unit(&self, memory: &str, id: &str) -> Option<Arc<TranslationUnit>> {
        self.0.get(memory)?.get(id).cloned()
    }
}

/// A unit read back for a lane entry, with the entry's segment normalized and analyzed.
pub(super) struct StoredEntry {
    pub(super) unit: Arc<TranslationUnit>,
    /// The entry's segment in `unit`.
    pub(super) segment: usize,
    pub(super) normalized: NormalizedText,
    pub(super) units: Vec<Unit>,
}

/// A [`UnitSource`] with the memory names of the snapshot whose slots it resolves, for one
/// search.
pub(super) struct Units<'a> {
    source: &'a dyn UnitSource,
    names: &'a [String],
    /// The entries read so far, by part number and entry: an exact match's unit is read once,
    /// whether its numbers are scored, ranked or built into the match.
    read: RefCell<HashMap<EntryKey, Option<Rc<StoredEntry>>>>,
}

/// A lane entry of a search: the part's number in the snapshot, the entry in its lane.
type EntryKey = (u32, u32);

impl<'a> Units<'a> {
    /// Units of `source`, in memories named by id in `names`.
    pub(super) fn new(source: &'a dyn UnitSource, names: &'a [String]) -> Units<'a> {
        Units {
            source,
            names,
            read: RefCell::default(),
        }
    }

    /// The name of the memory of `slot` in `part`.
    pub(super) fn memory(&self, part: &Part, slot: u32) -> Option<&'a String> {
        self.names.get(part.memory(slot)? as usize)
    }

    /// The unit in `slot` of `part`, as stored now.
    pub(super) fn unit(&self, part: &Part, slot: u32) -> Option<Arc<TranslationUnit>> {
        self.source
            .unit(self.memory(part, slot)?, part.unit_id(slot))
    }

    /// The unit behind lane entry `entry` of part number `number`, when it still has the
    /// languages the part recorded and its segment still reads as the entry's symbols; read
    /// once per search.
    pub(super) fn entry(
        &self,
        number: u32,
        part: &Part,
        lane: &Lane,
        entry: u32,
    ) -> Option<Rc<StoredEntry>> {
        if let Some(read) = self.read.borrow().get(&(number, entry)) {
            return read.clone();
        }
        let read = self.read_entry(part, lane, entry).map(Rc::new);
        self.read.borrow_mut().insert((number, entry), read.clone());
        read
    }

    fn read_entry(&self, part: &Part, lane: &Lane, entry: u32) -> Option<StoredEntry> {
        let (slot, segment) = lane.entry(entry)?;
        let unit = self.unit(part, slot)?;
        if !unit
            .segments
            .iter()
            .map(|s| &s.lang)
            .eq(part.segment_langs(slot))
        {
            return None;
        }
        let normalized = text::normalize(&unit.segments.get(segment as usize)?.text);
        let units = analyze::units(lane.mode, normalized.as_str());
        let seq = lane.seq(entry);
        let same = units.len() == seq.len()
            && units.iter().zip(seq).all(|(u, &symbol)| {
                let read = if u.number {
                    Some(NUMBER)
                } else {
                    lane.symbol(normalized.as_str().get(u.range.clone()).unwrap_or_default())
                };
                read == Some(symbol)
            });
        same.then_some(StoredEntry {
            unit,
            segment: segment as usize,
            normalized,
            units,
        })
    }
}
