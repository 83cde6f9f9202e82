//! Where heavy work runs: the one place that moves CPU- or disk-bound work off the async
//! workers, logs what panics there, and bounds how many heavy calls run at once.
//!
//! Every index publication (term delta and base rebuilds, Aho-Corasick included; memory
//! parts), Lookup, Recognize, Search, Concordance, Stats, filtered listings, import commits
//! and start-up I/O go through [`run`], or, for the ordered steps of single writes, through
//! [`run_write`] and its small pool of their own. An async worker only parses requests,
//! awaits, and converts answers: two cores serve every client, and one scan of a long text
//! on a worker would stall every call queued behind it.
//!
//! Each heavy kind of call ([`Heavy`]) takes a permit from its own semaphore before it
//! starts, without waiting: when all are taken the call is refused at once with
//! [`AppError::Busy`] and a retry delay, rather than queued without end behind work the
//! machine cannot do sooner. The limits come from [`Limits`], part of the server's
//! configuration.
//!
//! A heavy read stops when its call ends first ([`Admission::run`]): a deadline that passed
//! or a client that went away frees the core and the permit within a few thousand steps of
//! the read's loops, instead of when the read would have finished.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppError;
use crate::index::Cancel;

/// A kind of call heavy enough to be limited: each holds a blocking thread (and mostly a
/// core) while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heavy {
    /// Termbase Lookup (fuzzy and pinyin candidates).
    Lookup,
    /// Termbase Recognize (a text of up to 1 MiB).
    Recognize,
    /// Memory Search and Concordance.
    Search,
    /// Memory Stats (decodes every stored unit) and filtered concept listings (scan every
    /// concept).
    Scan,
    /// Exchange Import (reads, checks, spools and analyzes a whole file, then commits).
    Import,
    /// An open change stream (Termbase Watch): no thread of its own, but a task, a buffer
    /// and reads of the change log for as long as its client listens.
    Watch,
}

impl Heavy {
    const ALL: [Heavy; 6] = [
        Heavy::Lookup,
        Heavy::Recognize,
        Heavy::Search,
        Heavy::Scan,
        Heavy::Import,
        Heavy::Watch,
    ];
}

impl fmt::Display for Heavy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Heavy::Lookup => "Lookup",
            Heavy::Recognize => "Recognize",
            Heavy::Search => "Search/Concordance",
            Heavy::Scan => "Stats/ListConcepts",
            Heavy::Import => "Import",
            Heavy::Watch => "Watch",
        })
    }
}

/// How many calls of each heavy kind may run at once, and the retry delay a refused call is
/// told. The defaults keep two cores busy with room for bursts: a Lookup takes well under a
/// millisecond, so 64 at once is a burst of many editors; Recognize and Search take
/// milliseconds each; a scan of the whole store takes seconds, so only two run together.
/// Imports hold little memory each (a few batches queued; the spool is on disk) and a client
/// syncing a folder of glossaries uploads several at once, so eight may run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lookup calls at once.
    pub lookup: usize,
    /// Recognize calls at once.
    pub recognize: usize,
    /// Search and Concordance calls at once.
    pub search: usize,
    /// Stats and filtered ListConcepts calls at once.
    pub scan: usize,
    /// Imports at once.
    pub import: usize,
    /// Change streams (Watch) open at once.
    pub watch: usize,
    /// The delay a refused call is told to wait before retrying.
    pub retry_after: Duration,

    // Uploads.
    /// How long an import waits for its client's next message (the header, a chunk, or the
    /// end) before it ends with `DEADLINE_EXCEEDED` and gives back its admission: a client
    /// that stops sending holds an import permit for no longer than this.
    pub upload_idle: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            lookup: 64,
            recognize: 16,
            search: 16,
            scan: 2,
            import: 8,
            watch: 1024,
            retry_after: Duration::from_secs(1),
            upload_idle: Duration::from_secs(60),
        }
    }
}

impl Limits {
    fn of(&self, kind: Heavy) -> usize {
        match kind {
            Heavy::Lookup => self.lookup,
            Heavy::Recognize => self.recognize,
            Heavy::Search => self.search,
            Heavy::Scan => self.scan,
            Heavy::Import => self.import,
            Heavy::Watch => self.watch,
        }
    }
}

/// The permits of every heavy kind; cheap to clone, shared by every call of a server.
#[derive(Clone)]
pub struct Admission {
    limits: Arc<Limits>,
    permits: Arc<[Arc<Semaphore>; Heavy::ALL.len()]>,
}

impl Admission {
    /// Permits as `limits` says.
    pub fn new(limits: Limits) -> Admission {
        let permits = Heavy::ALL.map(|kind| Arc::new(Semaphore::new(limits.of(kind))));
        Admission {
            limits: Arc::new(limits),
            permits: Arc::new(permits),
        }
    }

    /// The limits permits are given by.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A permit for one call of `kind`, held until dropped; [`AppError::Busy`] when every
    /// permit is taken.
    pub fn admit(&self, kind: Heavy) -> Result<OwnedSemaphorePermit, AppError> {
        // `ALL` lists the kinds in declaration order, so a kind's discriminant is its slot.
        Arc::clone(&self.permits[kind as usize])
            .try_acquire_owned()
            .map_err(|_| AppError::Busy {
                kind,
                limit: self.limits.of(kind),
                retry_after: self.limits.retry_after,
            })
    }

    /// Runs the read `work` of heavy kind `kind` on the blocking pool once admitted, and
    /// stops it when the call ends first.
    ///
    /// `work` is given a [`Cancel`] flag, set when the returned future is dropped: the
    /// call's deadline passed (`transport::deadline`), its client cancelled it or went away.
    /// Its long loops read the flag at [`Checkpoint`](crate::index::Checkpoint)s and return
    /// early with a partial answer, which nobody sees, since nobody awaits it any more. The
    /// permit is held by the work itself and given back when it ends, so that admission
    /// counts the work that still runs, not the calls that still wait.
    ///
    /// Reads only: a write must never stop half way, and goes through
    /// [`writes`](super::writes), which runs to its end whoever waits.
    pub async fn run<R: Send + 'static>(
        &self,
        kind: Heavy,
        what: &'static str,
        work: impl FnOnce(&Cancel) -> R + Send + 'static,
    ) -> Result<R, AppError> {
        let permit = self.admit(kind)?;
        let cancel = Cancel::new();
        let _cancel_when_dropped = CancelOnDrop(cancel.clone());
        run(what, move || {
            let answer = work(&cancel);
            drop(permit);
            answer
        })
        .await
    }
}

/// Sets its flag when dropped: held by the future of a call's read, so that the read stops
/// once nobody awaits it.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs CPU- or disk-bound `work` on the blocking pool. A panic there is logged with `what`
/// was running and answered [`AppError::Internal`]; the server goes on.
///
/// The work starts at once, not when the answer is first awaited, and runs to its end even if
/// the caller stops waiting (a client that went away): a publication or a commit is never left
/// half done by a cancelled call.
pub fn run<R: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> impl std::future::Future<Output = Result<R, AppError>> + Send + 'static {
    let task = tokio::task::spawn_blocking(work);
    async move { task.await.map_err(|error| joined(what, error)) }
}

/// Runs a step of a single write that the write path orders (its staging, the publication
/// that makes it visible, the twin-term check of an upsert) on the write pool, as [`run`]
/// runs other work on the blocking pool.
///
/// Those steps are short and mostly one at a time, but many concurrent writers hand them to
/// the blocking pool faster than its idle threads are counted, and it grew to over a hundred
/// threads: each step then ran on another thread with its own allocator heap, and the fresh
/// memory those heaps claimed (zeroed by the kernel, two megabytes at a time under huge
/// pages) took more of the two cores than the writes did. On [`WRITE_THREADS`] threads they
/// stay on a few heaps (`cargo bench --bench writes`; the figures are in the README).
pub fn run_write<R: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> R + Send + 'static,
) -> impl std::future::Future<Output = Result<R, AppError>> + Send + 'static {
    let task = WRITE_POOL.spawn_blocking(work);
    async move { task.await.map_err(|error| joined(what, error)) }
}

/// The threads of the write pool: a staging, a publication and a twin check of different
/// writes can run at once, and a base built in place holds one for seconds.
pub const WRITE_THREADS: usize = 4;

/// The write pool: the blocking pool of a runtime of its own, which schedules no tasks (the
/// server's runtime awaits the steps it runs); its threads stop when idle, as the blocking
/// pool's do.
static WRITE_POOL: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(WRITE_THREADS)
        .thread_name("tolmach-write")
        .build()
        .expect("a runtime without I/O or timer drivers builds without system calls")
});

/// Runs `work` on the blocking pool without waiting for it: an import or an export, which
/// streams its own answers to its client. A panic is logged as [`run`] logs it (the client's
/// stream then ends without a final answer).
pub fn detach(what: &'static str, work: impl FnOnce() + Send + 'static) {
    let task = run(what, work);
    tokio::spawn(async move {
        let _ = task.await;
    });
}

/// The error of a task that did not finish: its panic, logged once here.
pub(crate) fn joined(what: &'static str, error: tokio::task::JoinError) -> AppError {
    let detail = if error.is_panic() {
        let panic = error.into_panic();
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    } else {
        "cancelled".to_owned()
    };
    tracing::error!(what, panic = %detail, "work off the async workers failed");
    AppError::Internal { what, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_is_an_internal_error_naming_what_ran() {
        let error = run("the test's work", || panic!("boom")).await.unwrap_err();
        assert!(
            matches!(&error, AppError::Internal { what: "the test's work", detail } if detail == "boom"),
            "{error:?}"
        );
    }

    /// A write's steps run on the write pool's own threads, at most [`WRITE_THREADS`] at
    /// once, and a panic there is answered as on the blocking pool.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn write_steps_run_on_the_few_threads_of_the_write_pool() {
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let steps: Vec<_> = (0..4 * WRITE_THREADS)
            .map(|_| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                run_write("the test's step", move || {
                    use std::sync::atomic::Ordering::SeqCst;
                    most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, SeqCst);
                    std::thread::current().name().map(str::to_owned)
                })
            })
            .collect();
        for step in steps {
            let thread = step.await.unwrap();
            assert_eq!(thread.as_deref(), Some("tolmach-write"));
        }
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=WRITE_THREADS).contains(&most), "{most} steps at once");
        let error = run_write("the test's step", || panic!("boom"))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, AppError::Internal { what: "the test's step", detail } if detail == "boom"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_read_whose_call_ends_stops_and_holds_its_permit_until_it_has() {
        let admission = Admission::new(Limits {
            search: 1,
            ..Limits::default()
        });
        let (started, running) = tokio::sync::oneshot::channel();
        let (stopped, ended) = tokio::sync::oneshot::channel();
        let caller = admission.clone();
        let call = tokio::spawn(async move {
            caller
                .run(Heavy::Search, "the test's read", move |cancel| {
                    let _ = started.send(());
                    let mut checkpoint = cancel.checkpoint();
                    while !checkpoint.stop() {
                        std::hint::spin_loop();
                    }
                    let _ = stopped.send(());
                })
                .await
        });
        running.await.expect("the read started");
        assert!(
            admission.admit(Heavy::Search).is_err(),
            "the running read holds the permit"
        );
        call.abort();
        ended
            .await
            .expect("the read stopped once its call was dropped");
        // The permit goes back as the work's closure returns, just after it signalled.
        let mut admitted = admission.admit(Heavy::Search);
        for _ in 0..100 {
            if admitted.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            admitted = admission.admit(Heavy::Search);
        }
        assert!(
            admitted.is_ok(),
            "the permit came back once the read stopped"
        );
    }

    #[tokio::test]
    async fn a_kind_at_its_limit_refuses_until_a_permit_is_given_back() {
        let admission = Admission::new(Limits {
            search: 1,
            ..Limits::default()
        });
        let held = admission.admit(Heavy::Search).unwrap();
        assert!(matches!(
            admission.admit(Heavy::Search),
            Err(AppError::Busy {
                kind: Heavy::Search,
                limit: 1,
                ..
            })
        ));
        assert!(
            admission.admit(Heavy::Lookup).is_ok(),
            "other kinds are apart"
        );
        drop(held);
        assert!(admission.admit(Heavy::Search).is_ok());
    }
}
