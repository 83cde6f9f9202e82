//! Acknowledged writes under concurrent writers: the release `tolmach` binary started as a
//! child process on 127.0.0.1 with a temporary data directory, then, for 1, 8 and 64 writers
//! at once (sharing one HTTP/2 connection, each call a stream of its own), single-concept
//! `UpsertConcept`s and single-unit `AddUnits`, every one durable before its answer. It uses
//! only the gRPC API and `benches/common` as they were before group commit, so that the same
//! file measures the code before it.
//!
//! Run with `cargo bench --bench writes` (`TOLMACH_BENCH_WRITES` sets the writes per round,
//! 2 000 by default). Prints, per kind and number of writers, acknowledged writes per second
//! and p50/p95/p99 latency, and errors by gRPC code. Figures, not assertions. Every loop has
//! an end; the only process stopped is the child started here, by its PID.

mod common;

use common::child::{memory_units, ChildServer};
use common::writers::{round, Write};

/// The numbers of concurrent writers measured.
const WRITERS: [usize; 3] = [1, 8, 64];

fn main() {
    let writes = std::env::var("TOLMACH_BENCH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let data = tempfile::tempdir().expect("a temporary directory");
    runtime.block_on(async {
        let server = ChildServer::start(data.path()).await;
        // Units are written once the memory index has loaded.
        memory_units(&server.channel, "writes").await;
        println!("{writes} acknowledged writes per round, each durable before its answer");
        for write in [Write::UpsertConcept, Write::AddUnits] {
            for writers in WRITERS {
                round(
                    std::slice::from_ref(&server.channel),
                    write,
                    writers,
                    writes,
                )
                .await;
            }
        }
    });
}
