//! Helpers shared by the benchmarks: deterministic data, memory readings, percentiles, the
//! client side of an import stream, a server child process to kill (`child`) and a
//! three-server NATS JetStream cluster (`nats`).

#![allow(dead_code)] // each benchmark uses its own subset

pub mod child;
pub mod nats;
pub mod writers;

use std::time::Duration;

use tokio_stream::wrappers::ReceiverStream;
use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_event::Event, ImportReport, ImportRequest,
};

/// A small deterministic generator, so every run measures the same data.
pub struct XorShift(pub u64);

impl XorShift {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Skewed towards small values, like word frequencies.
    pub fn zipf(&mut self, n: usize) -> usize {
        let limit = self.below(n) + 1;
        self.below(limit)
    }
}

/// An in-process server's configuration for a bench: data in `data_dir`, a free loopback
/// port, no glossary directory, every other setting at its default.
pub fn server_config(data_dir: &std::path::Path) -> tolmach::server::ServerConfig {
    tolmach::server::ServerConfig::loopback(data_dir)
}

/// Resident and peak resident memory of this process, in MiB (0 where /proc is missing).
pub fn rss_mib() -> (f64, f64) {
    child::rss_mib_of("self")
}

/// How long [`settled_rss_mib`] waits: three times mimalloc's purge delay (one second).
const SETTLE: Duration = Duration::from_secs(3);

/// Resident memory of this process, in MiB, once the allocator has handed back what was
/// freed. mimalloc returns freed pages to the system a second after they were freed, on a
/// later allocation: read at once after an index is built, the resident size still holds the
/// build's temporary memory (at 10⁶ terms, more than the index itself), and how much of it
/// depends on timing. Waits [`SETTLE`], allocating a little every quarter second, then reads.
pub fn settled_rss_mib() -> f64 {
    let started = std::time::Instant::now();
    while started.elapsed() < SETTLE {
        std::thread::sleep(Duration::from_millis(250));
        std::hint::black_box(vec![1u8; 1 << 20]);
    }
    rss_mib().0
}

/// Prints the size of the memory index a server saved in `data_dir` (at its shutdown) per
/// unit of `units`: the index's bytes per unit, its flat arrays and encoded units as the
/// server holds them (the symbol tables' hashing overhead aside).
pub fn print_index_size(what: &str, data_dir: &std::path::Path, units: usize) {
    let path = data_dir.join(tolmach::app::memory_checkpoint::FILE_NAME);
    match std::fs::metadata(&path) {
        Ok(file) => println!(
            "{what}: memory index {:.1} MB for {units} units, {:.0} bytes per unit",
            file.len() as f64 / 1e6,
            file.len() as f64 / units.max(1) as f64
        ),
        Err(error) => println!("{what}: no memory index at {}: {error}", path.display()),
    }
}

/// The `p` quantile (0..1) of `samples`.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sends the messages `upload` delivers (a header, then the file's chunks) through
/// `Exchange.Import` and answers the import's final report; `None` when it sent none.
pub async fn import_report(
    channel: tonic::transport::Channel,
    upload: tokio::sync::mpsc::Receiver<ImportRequest>,
) -> Result<Option<ImportReport>, tonic::Status> {
    let mut events = ExchangeClient::new(channel)
        .import(ReceiverStream::new(upload))
        .await?
        .into_inner();
    let mut report = None;
    while let Some(event) = events.message().await? {
        if let Some(Event::Report(r)) = event.event {
            report = Some(r);
        }
    }
    Ok(report)
}
