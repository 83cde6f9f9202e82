//! Rounds of acknowledged writes from concurrent writers over gRPC, spread over one or more
//! servers: single-concept `UpsertConcept`s or single-unit `AddUnits`, each durable (in a
//! cluster: replicated and applied) before its answer. Shared by the writes and cluster
//! benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    AddUnitsRequest, Concept, LangSection, Segment, Term, TermStatus, TranslationUnit,
    UpsertConceptRequest,
};
use tonic::transport::Channel;

use super::{ms, percentile};

/// The write each round repeats.
#[derive(Clone, Copy, Debug)]
pub enum Write {
    /// One new concept of one English term.
    UpsertConcept,
    /// One new zh–en unit.
    AddUnits,
}

impl Write {
    /// Sends write number `n` of the round of `writers` writers.
    async fn send(self, channel: Channel, writers: usize, n: usize) -> Result<(), tonic::Status> {
        let id = format!("w{writers}-{n}");
        match self {
            Write::UpsertConcept => {
                let term = Term {
                    text: format!("written term {writers} {n}"),
                    status: TermStatus::Preferred as i32,
                    ..Default::default()
                };
                let concept = Concept {
                    id,
                    collection: "writes".into(),
                    langs: vec![LangSection {
                        lang: "en".into(),
                        terms: vec![term],
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                let request = UpsertConceptRequest {
                    concept: Some(concept),
                    ..Default::default()
                };
                TermbaseClient::new(channel).upsert_concept(request).await?;
            }
            Write::AddUnits => {
                let segment = |lang: &str, text: String| Segment {
                    lang: lang.into(),
                    text,
                    ..Default::default()
                };
                let unit = TranslationUnit {
                    id,
                    segments: vec![
                        segment("zh", format!("第{n}号写入")),
                        segment("en", format!("Write number {n} of {writers}")),
                    ],
                    ..Default::default()
                };
                let request = AddUnitsRequest {
                    memory: "writes".into(),
                    units: vec![unit],
                };
                MemoryClient::new(channel).add_units(request).await?;
            }
        }
        Ok(())
    }
}

/// What one round saw.
#[derive(Default)]
struct Round {
    latencies: Vec<Duration>,
    /// By gRPC code (as its number: `Code` has no order).
    errors: BTreeMap<i32, usize>,
}

/// `writes` writes of kind `write` from `writers` concurrent writers, writer `i` sending to
/// `servers[i % servers.len()]`; prints the figures.
pub async fn round(servers: &[Channel], write: Write, writers: usize, writes: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let next = Arc::clone(&next);
            let channel = servers[writer % servers.len()].clone();
            tokio::spawn(async move {
                let mut seen = Round::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= writes {
                        break;
                    }
                    let began = Instant::now();
                    match write.send(channel.clone(), writers, n).await {
                        Ok(()) => seen.latencies.push(began.elapsed()),
                        Err(status) => *seen.errors.entry(status.code() as i32).or_default() += 1,
                    }
                }
                seen
            })
        })
        .collect();
    let mut all = Round::default();
    for task in tasks {
        let seen = task.await.expect("a writer task does not panic");
        all.latencies.extend(seen.latencies);
        for (code, count) in seen.errors {
            *all.errors.entry(code).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let samples = &all.latencies;
    println!(
        "  {write:?} × {writers:>3} writers: {:>6.0} acknowledged writes/s, p50 {:.2} ms, \
         p95 {:.2} ms, p99 {:.2} ms",
        samples.len() as f64 / elapsed,
        ms(percentile(samples, 0.50)),
        ms(percentile(samples, 0.95)),
        ms(percentile(samples, 0.99)),
    );
    for (code, count) in all.errors {
        println!("    errors: {:?} × {count}", tonic::Code::from(code));
    }
}
