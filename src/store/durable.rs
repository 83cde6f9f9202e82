//! Group commit: one sled flush makes many writes durable.
//!
//! The store's single writes commit (a sled transaction or batch) without waiting for the
//! disk. A caller that must not acknowledge a write before it is durable takes a
//! [`FlushPoint`] once the write committed ([`Store::flush_point`]) and waits for it
//! ([`Store::flushed`]); [`Store::flush`] does both at once. A flush (`sled::Db::flush`, on
//! the blocking pool) makes durable every write committed before it started, so flushes are numbered as they
//! start, and a point is the number of the first flush to start after it was taken.
//!
//! One flush runs at a time. Whoever waits for a point and finds no flush running starts the
//! next one (the leader); the others watch for its end, then either find their point covered
//! or start the next flush themselves. Under many concurrent writers, each flush thus covers
//! every write committed while the one before it ran: the disk is synced once per group, not
//! once per write.
//!
//! A failed flush fails every point it was to cover and every later one: what sled holds on
//! disk is then unknown, so nothing more is reported durable until a restart reads the
//! database back.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{watch, Mutex, MutexGuard};

use super::{Store, StoreError};

/// A position in the store's writes: every write committed before it was taken is durable
/// once [`Store::flushed`] returns for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlushPoint(u64);

/// The flushes of one database, shared by every clone of its [`Store`].
#[derive(Debug)]
pub(super) struct GroupFlush {
    /// How many flushes have started; the next to start takes the number after it.
    started: AtomicU64,
    /// The last flush that completed, or the first failure.
    done: watch::Sender<Flushed>,
    /// Held by the one caller running a flush.
    leader: Mutex<()>,
}

/// What the flushes so far achieved.
#[derive(Debug)]
struct Flushed {
    /// The number of the last flush that completed (0: none yet).
    up_to: u64,
    /// Why a flush failed, if one did; every later wait fails with it.
    failed: Option<sled::Error>,
}

impl Default for GroupFlush {
    fn default() -> GroupFlush {
        GroupFlush {
            started: AtomicU64::new(0),
            done: watch::channel(Flushed {
                up_to: 0,
                failed: None,
            })
            .0,
            leader: Mutex::new(()),
        }
    }
}

/// The running flush's leadership. Dropping it tells the waiters, whether the flush ended
/// (with its outcome) or its caller went away mid-flush (then another waiter leads).
struct Leading<'a> {
    group: &'a GroupFlush,
    outcome: Option<(u64, Result<usize, sled::Error>)>,
    leader: Option<MutexGuard<'a, ()>>,
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        // Leadership is given up before the waiters are told: a waiter woken by the news
        // while the lock was still held would fail to take it, go back to waiting for news,
        // and, were every waiter to do so, none would lead the flush they all wait for until
        // some unrelated write flushed (seen as a round of writes stalled for a minute, until
        // a checkpoint flushed).
        drop(self.leader.take());
        let outcome = self.outcome.take();
        self.group.done.send_modify(|flushed| match outcome {
            Some((number, Ok(_))) => flushed.up_to = flushed.up_to.max(number),
            Some((_, Err(error))) => {
                flushed.failed.get_or_insert(error);
            }
            None => {}
        });
    }
}

impl GroupFlush {
    /// The point after every write committed so far.
    fn point(&self) -> FlushPoint {
        FlushPoint(self.started.load(Ordering::SeqCst) + 1)
    }

    /// Waits until a flush numbered `point` or later succeeded, leading the next `flush`
    /// when none runs; fails once a flush failed before one covered `point`. (`flush` is a
    /// parameter so that the tests can make one fail.)
    async fn wait<F>(&self, point: FlushPoint, flush: impl Fn() -> F) -> Result<(), StoreError>
    where
        F: Future<Output = Result<usize, sled::Error>>,
    {
        let mut done = self.done.subscribe();
        loop {
            {
                let flushed = done.borrow_and_update();
                if flushed.up_to >= point.0 {
                    return Ok(());
                }
                if let Some(error) = &flushed.failed {
                    return Err(StoreError::Sled(error.clone()));
                }
            }
            match self.leader.try_lock() {
                Ok(leader) => {
                    let mut leading = Leading {
                        group: self,
                        outcome: None,
                        leader: Some(leader),
                    };
                    let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
                    let result = flush().await;
                    leading.outcome = Some((number, result));
                }
                // The sender lives as long as `self`, so `changed` cannot fail; were it to, the
                // next turn of the loop would lead a flush itself.
                Err(_) => {
                    let _ = done.changed().await;
                }
            }
        }
    }
}

impl Store {
    /// The point after every write committed so far.
    pub fn flush_point(&self) -> FlushPoint {
        self.flushes.point()
    }

    /// Waits until every write committed before `point` was taken is on disk, flushing (for
    /// every waiter at once) when no flush that covers it runs yet.
    pub async fn flushed(&self, point: FlushPoint) -> Result<(), StoreError> {
        self.flushes
            .wait(point, || flush_on_blocking_pool(&self.db))
            .await
    }

    /// Waits until every write committed so far is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.flushed(self.flush_point()).await
    }
}

/// One `sled::Db::flush` on the blocking pool. sled's `flush_async` is not used: its future can
/// miss its wake-up while another flush runs (sled issues 1241 and 1308), and a write then
/// waits for some later event to be answered; seen here as writes stalled past their deadline.
async fn flush_on_blocking_pool(db: &sled::Db) -> Result<usize, sled::Error> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || db.flush())
        .await
        .unwrap_or_else(|panic| {
            Err(sled::Error::ReportableBug(format!(
                "the flush panicked: {panic}"
            )))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn concurrent_waiters_share_flushes() {
        let store = Store::temporary().unwrap();
        let waiters: Vec<_> = (0..64u8)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store.meta.insert([b'w', n], &[n]).unwrap();
                    store.flushed(store.flush_point()).await
                })
            })
            .collect();
        for waiter in waiters {
            waiter.await.unwrap().unwrap();
        }
        let flushes = store.flushes.started.load(Ordering::SeqCst);
        assert!((1..=64).contains(&flushes), "{flushes} flushes");
        assert!(store.flushes.done.borrow().up_to >= store.flush_point().0 - 1);
    }

    #[tokio::test]
    async fn a_point_taken_while_a_flush_runs_waits_for_the_next() {
        let store = Store::temporary().unwrap();
        let first = store.flush_point();
        store.flushed(first).await.unwrap();
        let second = store.flush_point();
        assert!(second > first);
        store.flushed(second).await.unwrap();
        assert_eq!(store.flushes.done.borrow().up_to, second.0);
    }

    #[tokio::test]
    async fn a_failed_flush_fails_its_waiters_and_every_later_one() {
        let group = Arc::new(GroupFlush::default());
        let failing = || async { Err(sled::Error::Unsupported("the disk is gone".into())) };
        let point = group.point();
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let group = Arc::clone(&group);
                tokio::spawn(async move { group.wait(point, failing).await })
            })
            .collect();
        for waiter in waiters {
            assert!(waiter.await.unwrap().is_err(), "reported durable");
        }
        let succeeding = || async { Ok(0) };
        let later = group.point();
        assert!(
            group.wait(later, succeeding).await.is_err(),
            "durable after a failure"
        );
        assert_eq!(group.done.borrow().up_to, 0);
    }
}
