//! Import jobs: how each import started with a client-chosen job id ended, kept so that a
//! client whose connection broke can ask, and so that a retry never imports twice.
//!
//! One record per job id in the `jobs` tree ([`JobRecord`]). Its life:
//!
//! * [`Store::start_job`] records it `Running` when the import starts (not flushed: a crash
//!   before the next flush forgets the job, which then has nothing committed either);
//! * a job that commits becomes `Committed` in the same sled transaction as its import's
//!   commit marker (`import.rs`), and its counts follow each applied batch in the same
//!   transaction as the batch's progress record; so after a crash the job is either
//!   committed and recorded, or neither;
//! * one that fails is recorded `Failed` after the fact, best effort
//!   ([`Store::record_job`]);
//! * at start, recovery turns every `Running` record left by a crash into `Failed`: its
//!   import had not committed (else its marker would have said so), and nothing of it is kept.
//!
//! Records are kept for [`JOBS_KEPT_DAYS`] days, and at most the last [`JOBS_KEPT`]:
//! [`Store::prune_jobs`] removes the rest, oldest first, at start and every so often.

use serde::{Deserialize, Serialize};

use super::codec::{decode, encode};
use super::{keys, ImportCounts, Store, StoreError};

/// Job records kept at most; the oldest go first.
pub const JOBS_KEPT: usize = 10_000;
/// Days a job record is kept after its import started.
pub const JOBS_KEPT_DAYS: i64 = 30;

/// Where an import job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Started, not yet committed or failed.
    Running,
    /// Its entries were committed.
    Committed,
    /// Nothing was written.
    Failed,
}

/// Where an import job's entries go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobTarget {
    /// Concepts, into this collection.
    Collection(String),
    /// Units, into this memory.
    Memory(String),
}

/// How serious a recorded problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobSeverity {
    /// The entry was kept with something left out.
    Warning,
    /// The entry was not kept.
    Rejected,
    /// The file could not be read further.
    Fatal,
}

/// One recorded problem of a job's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProblem {
    /// How serious it is.
    pub severity: JobSeverity,
    /// Line (1-based; 0 when unknown).
    pub line: u64,
    /// Column (1-based; 0 when unknown).
    pub column: u64,
    /// The entry's id, when known.
    pub entry_id: String,
    /// What is wrong.
    pub reason: String,
}

/// What an import job's file held and what its import did: its report, kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReport {
    /// The store's import id, in hexadecimal; empty when nothing was spooled.
    pub import_id: String,
    /// The file's format by name (`TBX`, `TMX`, `CSV`, `TSV`); empty when not known.
    pub format: String,
    /// Whether the entries were committed.
    pub committed: bool,
    /// Bytes of the upload read.
    pub bytes_read: u64,
    /// Entries read.
    pub entries_read: u64,
    /// Entries accepted.
    pub accepted: u64,
    /// Entries rejected.
    pub rejected: u64,
    /// Warnings.
    pub warnings: u64,
    /// How the committed entries were resolved against the store. For a job whose commit a
    /// restart finished, the batch the crash interrupted counts as unchanged.
    pub counts: ImportCounts,
    /// The first problems.
    pub problems: Vec<JobProblem>,
    /// Problems found but not kept in `problems`.
    pub problems_unlisted: u64,
}

/// An import job as the store keeps it. Its first fields are `JobHead`'s, so that pruning
/// reads only them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Where it is.
    pub state: JobState,
    /// When the import started (ms since the Unix epoch).
    pub started_ms: i64,
    /// When it committed or failed; 0 while it runs.
    pub ended_ms: i64,
    /// Where the entries go.
    pub target: JobTarget,
    /// Its report, once it has one.
    pub report: Option<JobReport>,
    /// Why it failed; empty otherwise.
    pub error: String,
}

/// The leading fields of a [`JobRecord`].
#[derive(Deserialize)]
struct JobHead {
    state: JobState,
    started_ms: i64,
}

impl JobRecord {
    /// The record's report, created when the import had none yet.
    fn report_mut(&mut self) -> &mut JobReport {
        self.report.get_or_insert_with(JobReport::default)
    }
}

/// What a committed import does to its job as it is applied: the record to update, by key.
pub(super) struct JobProgress {
    pub(super) key: Vec<u8>,
    pub(super) record: JobRecord,
}

impl JobProgress {
    /// The record with a batch's counts added, encoded.
    pub(super) fn count(&mut self, batch: ImportCounts) -> Vec<u8> {
        self.record.report_mut().counts.add(batch);
        encode(&self.record)
    }
}

/// Now, in ms since the Unix epoch (0 if the clock is before it).
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Store {
    /// The record of job `job_id`, if one is kept.
    pub fn job(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        let key = keys::job(job_id);
        self.jobs
            .get(&key)?
            .map(|bytes| decode("jobs", &key, &bytes))
            .transpose()
    }

    /// Records job `job_id` as started now, replacing an earlier (failed) record of the id.
    pub fn start_job(
        &self,
        job_id: &str,
        target: JobTarget,
        now_ms: i64,
    ) -> Result<JobRecord, StoreError> {
        let record = JobRecord {
            state: JobState::Running,
            started_ms: now_ms,
            ended_ms: 0,
            target,
            report: None,
            error: String::new(),
        };
        self.record_job(job_id, &record)?;
        Ok(record)
    }

    /// Stores `record` as job `job_id`'s, not waiting for the disk.
    pub fn record_job(&self, job_id: &str, record: &JobRecord) -> Result<(), StoreError> {
        self.jobs.insert(keys::job(job_id), encode(record))?;
        Ok(())
    }

    /// Marks every job still `Running` as `Failed`: at start, before anything runs, where
    /// they are what a crash left. Answers how many there were.
    pub(super) fn fail_interrupted_jobs(&self) -> Result<usize, StoreError> {
        let mut interrupted = 0;
        let ended_ms = now_ms();
        for entry in self.jobs.iter() {
            let (key, bytes) = entry?;
            let head: JobHead = decode("jobs", &key, &bytes)?;
            if head.state != JobState::Running {
                continue;
            }
            let mut record: JobRecord = decode("jobs", &key, &bytes)?;
            record.state = JobState::Failed;
            record.ended_ms = ended_ms;
            record.error =
                "the server stopped before the import committed; nothing of it was kept".into();
            self.jobs.insert(key, encode(&record))?;
            interrupted += 1;
        }
        Ok(interrupted)
    }

    /// Forgets the job records started more than [`JOBS_KEPT_DAYS`] days before `now_ms`, and
    /// the oldest beyond the last [`JOBS_KEPT`]; never a running job's. Answers how many.
    pub fn prune_jobs(&self, now_ms: i64) -> Result<usize, StoreError> {
        let cutoff = now_ms.saturating_sub(JOBS_KEPT_DAYS * 24 * 60 * 60 * 1000);
        let mut finished = Vec::new();
        for entry in self.jobs.iter() {
            let (key, bytes) = entry?;
            let head: JobHead = decode("jobs", &key, &bytes)?;
            if head.state != JobState::Running {
                finished.push((head.started_ms, key));
            }
        }
        finished.sort_unstable();
        let running = self.jobs.len() - finished.len();
        let beyond = (finished.len() + running).saturating_sub(JOBS_KEPT);
        let old = finished.partition_point(|(started, _)| *started < cutoff);
        let mut forget = sled::Batch::default();
        let pruned = beyond.max(old).min(finished.len());
        for (_, key) in finished.drain(..pruned) {
            forget.remove(key);
        }
        self.jobs.apply_batch(forget)?;
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> JobTarget {
        JobTarget::Memory("news".into())
    }

    #[test]
    fn a_running_job_left_by_a_crash_is_failed_at_start() {
        let store = Store::temporary().unwrap();
        store.start_job("a", target(), 5).unwrap();
        let mut done = store.start_job("b", target(), 6).unwrap();
        done.state = JobState::Committed;
        store.record_job("b", &done).unwrap();
        assert_eq!(store.fail_interrupted_jobs().unwrap(), 1);
        let a = store.job("a").unwrap().unwrap();
        assert_eq!(a.state, JobState::Failed);
        assert!(a.error.contains("server stopped"), "{}", a.error);
        assert_eq!(store.job("b").unwrap().unwrap().state, JobState::Committed);
        assert_eq!(store.job("c").unwrap(), None);
    }

    #[test]
    fn pruning_forgets_old_jobs_and_the_oldest_beyond_the_limit_but_never_a_running_one() {
        let store = Store::temporary().unwrap();
        let day = 24 * 60 * 60 * 1000;
        let now = 100 * day;
        let finish = |id: &str, started_ms: i64| {
            let mut record = store.start_job(id, target(), started_ms).unwrap();
            record.state = JobState::Failed;
            store.record_job(id, &record).unwrap();
        };
        finish("old", now - 31 * day);
        finish("recent", now - day);
        store
            .start_job("running-old", target(), now - 40 * day)
            .unwrap();
        assert_eq!(store.prune_jobs(now).unwrap(), 1);
        assert_eq!(store.job("old").unwrap(), None);
        assert!(store.job("recent").unwrap().is_some());
        assert!(store.job("running-old").unwrap().is_some());

        for n in 0..JOBS_KEPT {
            finish(&format!("job-{n:05}"), now - 1000 + n as i64);
        }
        // JOBS_KEPT + 2 kept: the oldest two finished ones go, "recent" first.
        assert_eq!(store.prune_jobs(now).unwrap(), 2);
        assert_eq!(store.job("recent").unwrap(), None);
        assert_eq!(store.job("job-00000").unwrap(), None);
        assert!(store.job("job-00001").unwrap().is_some());
        assert!(store.job("running-old").unwrap().is_some());
        assert_eq!(store.jobs.len(), JOBS_KEPT);
    }
}
