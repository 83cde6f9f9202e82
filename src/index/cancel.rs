//! A read's cancellation flag: set when the call it serves has ended (its deadline passed,
//! its client cancelled or went away), read by the long loops of reads so that the work
//! behind a call nobody waits for stops instead of holding a core and a permit.
//!
//! The loops read it through a [`Checkpoint`], once every [`CHECK_EVERY`] steps, so that the
//! hot paths pay one counter increment per step. What a loop returns once stopped is a
//! partial answer that nobody sees: [`app::work`](crate::app::work) discards it and answers
//! the cancellation. Writes never read it: a commit is never left half done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Steps between two reads of the flag: microseconds of work, so a stopped call frees its
/// core within about a millisecond.
pub const CHECK_EVERY: u32 = 4096;

/// A shared flag: set once, by whoever holds a clone, and seen by every other clone.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

impl Cancel {
    /// A flag that can be set.
    pub fn new() -> Cancel {
        Cancel(Some(Arc::new(AtomicBool::new(false))))
    }

    /// A flag that is never set: for work no call waits on (start-up, tests, benchmarks).
    pub const fn never() -> Cancel {
        Cancel(None)
    }

    /// Sets the flag: the work reading it stops at its next checkpoint.
    pub fn cancel(&self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// A checkpoint for one loop.
    pub fn checkpoint(&self) -> Checkpoint<'_> {
        Checkpoint {
            cancel: self,
            steps: 0,
        }
    }
}

/// Counts a loop's steps and reads the flag once every [`CHECK_EVERY`] of them.
#[derive(Debug)]
pub struct Checkpoint<'c> {
    cancel: &'c Cancel,
    steps: u32,
}

impl Checkpoint<'_> {
    /// Counts one step; answers whether the loop should stop.
    #[inline]
    pub fn stop(&mut self) -> bool {
        self.steps = self.steps.wrapping_add(1);
        self.steps.is_multiple_of(CHECK_EVERY) && self.cancel.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_sees_the_flag_within_its_period() {
        let cancel = Cancel::new();
        let mut checkpoint = cancel.checkpoint();
        assert!(!(0..2 * CHECK_EVERY).any(|_| checkpoint.stop()));
        cancel.clone().cancel();
        assert!((0..CHECK_EVERY).any(|_| checkpoint.stop()));
    }

    #[test]
    fn never_is_never_set() {
        let never = Cancel::never();
        never.cancel();
        assert!(!never.is_cancelled());
    }
}
