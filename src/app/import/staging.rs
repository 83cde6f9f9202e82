//! An import's accepted entries on their way to the commit: the spool file that holds them,
//! and for a memory import the index analysis that runs on other threads as they come. The
//! import pipeline stages what it reads from the client's file; in cluster mode every node
//! stages the same entries again from the replicated log before it commits them.

use super::plan::Target;
use super::Analysis;
use crate::app::AppError;
use crate::store::{ImportSpool, Staged, Store};

/// The entries staged so far (see the module docs).
pub struct Staging {
    pub(super) spool: ImportSpool,
    pub(super) analysis: Option<Analysis>,
    target: Target,
}

impl Staging {
    /// A new, empty staging for an import into `target`.
    pub fn begin(store: &Store, target: &Target) -> Result<Staging, AppError> {
        let spool = store.begin_import()?;
        let analysis = match target {
            Target::Memory(memory) => Some(Analysis::start(store, memory)?),
            Target::Collection(_) => None,
        };
        Ok(Staging {
            spool,
            analysis,
            target: target.clone(),
        })
    }

    /// The store's id of the import.
    pub fn import(&self) -> u64 {
        self.spool.import()
    }

    /// Appends `entries` in file order, leaving the vector empty for the next ones
    /// (blocking I/O: the blocking pool's work).
    pub fn append(&mut self, store: &Store, entries: &mut Vec<Staged>) -> Result<(), AppError> {
        self.spool.append(entries)?;
        if let (Some(analysis), Target::Memory(memory)) = (&mut self.analysis, &self.target) {
            let units = entries.drain(..).filter_map(|entry| match entry {
                Staged::Unit { unit, .. } => Some(unit),
                Staged::Concept(_) => None,
            });
            analysis.send(store, memory, units)?;
        }
        entries.clear();
        Ok(())
    }

    /// Stops the analysis: the import will not commit.
    pub fn stop_analysis(&mut self) {
        self.analysis = None;
    }
}
