//! Cluster mode against a single server, on one machine: the release `tolmach` binary as
//! child processes on 127.0.0.1, first alone, then as three nodes over a three-server NATS
//! JetStream cluster (every entry kept by all three servers).
//!
//! Prints, for 1 and 16 concurrent writers (spread over the nodes), acknowledged
//! single-concept UpsertConcepts and single-unit AddUnits per second with p50/p95/p99 (each
//! durable, and in the cluster replicated and applied, before its answer); Lookup latency on
//! every node; and how long a node that was down takes to catch up with
//! `TOLMACH_BENCH_CLUSTER_UNITS` units (100 000 by default, in AddUnits of 1 000) written
//! while it was away, until it answers SERVING at the log's last revision. Then a memory
//! split into 4 shards over three more nodes (node 0 holding shards 0–1, node 1 shards 2–3,
//! node 2 all four) with `TOLMACH_BENCH_SHARD_UNITS` units (200 000 by default): Search
//! latency on each node (nodes 0 and 1 ask the other half of the memory of another node) and
//! each node's resident memory.
//!
//! Run with `cargo bench --bench cluster` (`TOLMACH_BENCH_WRITES` sets the writes per round,
//! 1 000 by default; `TOLMACH_BENCH_SECTIONS`, a comma-separated subset of
//! `single,cluster,shards`, runs only those). Needs `/usr/sbin/nats-server`; says so and stops without it. Every
//! process here runs on the same cores, the three NATS servers' disk writes included, so the
//! cluster's figures are a floor for nodes on machines of their own. Every loop has an end;
//! the only processes stopped are the children started here, by PID.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::child::{memory_units, ChildServer};
use common::nats::{nats_cluster, node_args, revision_of, stream_state, NATS_SERVER};
use common::writers::{round, Write};
use common::{ms, percentile, XorShift};
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    AddUnitsRequest, LookupRequest, SearchRequest, Segment, TranslationUnit,
};
use tonic::transport::Channel;
use tonic_health::pb::{health_check_response::ServingStatus, health_client::HealthClient};

/// The numbers of concurrent writers measured.
const WRITERS: [usize; 2] = [1, 16];

/// Units per AddUnits call of the catch-up load.
const BATCH: usize = 1000;

/// How long a node may take to catch up before the bench gives up on it.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(1800);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every write round against `servers`.
async fn write_rounds(servers: &[Channel], writes: usize) {
    for write in [Write::UpsertConcept, Write::AddUnits] {
        for writers in WRITERS {
            round(servers, write, writers, writes).await;
        }
    }
}

/// Lookup latency on each of `servers`.
async fn lookups(servers: &[Channel]) {
    for (n, channel) in servers.iter().enumerate() {
        let mut client = TermbaseClient::new(channel.clone());
        let mut samples = Vec::new();
        for i in 0..500 {
            let request = LookupRequest {
                text: format!("written term 16 {}", i % 100),
                ..Default::default()
            };
            let began = Instant::now();
            client.lookup(request).await.expect("lookup");
            samples.push(began.elapsed());
        }
        println!(
            "  Lookup on node {n}: p50 {:.2} ms, p95 {:.2} ms",
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.95))
        );
    }
}

/// `units` units in AddUnits calls of [`BATCH`] to memory `memory`, through `servers` in
/// turn, the `n`-th with the English text `english(n)`; answers the revision of the last.
async fn add_units(
    servers: &[Channel],
    memory: &str,
    units: usize,
    english: fn(usize) -> String,
) -> u64 {
    let mut revision = 0;
    for batch in 0..units.div_ceil(BATCH) {
        let segment = |lang: &str, text: String| Segment {
            lang: lang.into(),
            text,
            ..Default::default()
        };
        let request = AddUnitsRequest {
            memory: memory.into(),
            units: (0..BATCH.min(units - batch * BATCH))
                .map(|j| TranslationUnit {
                    id: format!("c{batch}-{j}"),
                    segments: vec![
                        segment("en", english(batch * BATCH + j)),
                        segment("zh", format!("追赶第{batch}号第{j}句")),
                    ],
                    ..Default::default()
                })
                .collect(),
        };
        let answer = MemoryClient::new(servers[batch % servers.len()].clone())
            .add_units(request)
            .await
            .expect("units added");
        revision = revision_of(answer.metadata()).unwrap_or(revision);
    }
    revision
}

/// Whether `channel` says SERVING and has applied `last`.
async fn caught_up(channel: &Channel, last: u64) -> bool {
    let health = HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await;
    if !health.is_ok_and(|h| h.into_inner().status == ServingStatus::Serving as i32) {
        return false;
    }
    let reply = MemoryClient::new(channel.clone())
        .stats(tolmach::service::proto::StatsRequest {})
        .await;
    let revision = reply.ok().and_then(|reply| revision_of(reply.metadata()));
    revision.is_some_and(|at| at >= last)
}

async fn single(root: &Path, writes: usize) {
    println!("single server, {writes} acknowledged writes per round:");
    let server = ChildServer::start(&root.join("single")).await;
    memory_units(&server.channel, "writes").await;
    let servers = [server.channel.clone()];
    write_rounds(&servers, writes).await;
    lookups(&servers).await;
}

async fn cluster(root: &Path, writes: usize, catch_up_units: usize) {
    println!("three nodes over a three-server JetStream cluster, {writes} writes per round:");
    let glossary = root.join("empty-glossary");
    std::fs::create_dir_all(&glossary).expect("glossary dir");
    let servers = nats_cluster(&root.join("nats"));
    let args = node_args(&servers, &glossary);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = |n: usize| root.join(format!("node-{n}"));
    let mut nodes = Vec::new();
    for n in 0..3 {
        let node = ChildServer::start_with(&data(n), &args).await;
        memory_units(&node.channel, "writes").await;
        nodes.push(node);
    }
    let channels: Vec<Channel> = nodes.iter().map(|n| n.channel.clone()).collect();
    write_rounds(&channels, writes).await;
    lookups(&channels).await;

    // Node 2 goes away; the others take `catch_up_units` units; node 2 comes back.
    nodes.pop().expect("node 2").kill();
    let began = Instant::now();
    add_units(&channels[..2], "catch-up", catch_up_units, |n| {
        format!("Catch-up report {} sentence {}", n / BATCH, n % BATCH)
    })
    .await;
    let (_, last) = stream_state(&servers).await;
    println!(
        "  {catch_up_units} units written through 2 nodes in {:.1} s; log at revision {last}",
        began.elapsed().as_secs_f64()
    );
    let began = Instant::now();
    let returned = ChildServer::start_with(&data(2), &args).await;
    let serving_after = began.elapsed();
    while !caught_up(&returned.channel, last).await {
        assert!(began.elapsed() < CATCH_UP_LIMIT, "node 2 did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = began.elapsed().as_secs_f64();
    println!(
        "  node 2 back: listening after {:.1} s, caught up with {catch_up_units} units after \
         {took:.1} s ({:.0} units/s)",
        serving_after.as_secs_f64(),
        catch_up_units as f64 / took
    );
}

/// The shards of the sharded section's memory, and what its nodes hold.
const SHARDS: &str = "4";
const HOLDINGS: [Option<&str>; 3] = [Some("0-1"), Some("2-3"), None];

/// The `n`-th unit's text in the sharded memory: 8 to 15 words drawn, Zipf-skewed, from
/// 4 096 made-up ones, so that a search verifies a few candidates rather than every unit.
fn sharded_sentence(n: usize) -> String {
    let mut rng = XorShift((n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let words = 8 + rng.below(8);
    (0..words)
        .map(|_| format!("w{:x}", rng.zipf(4096)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts node `n` of the sharded section (`args` and its holding) in its directory.
async fn shard_node(root: &Path, args: &[String], n: usize) -> ChildServer {
    let mut args = args.to_vec();
    if let Some(held) = HOLDINGS[n] {
        args.extend(["--hold-shards".to_owned(), held.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ChildServer::start_with(&root.join(format!("shard-node-{n}")), &args).await
}

/// Search latency and resident memory of three nodes holding parts of one memory.
async fn shards(root: &Path, units: usize) {
    println!("a memory of {units} units in {SHARDS} shards over three nodes:");
    let glossary = root.join("empty-glossary");
    std::fs::create_dir_all(&glossary).expect("glossary dir");
    let servers = nats_cluster(&root.join("nats-shards"));
    let mut args = node_args(&servers, &glossary);
    args.extend(["--memory-shards".to_owned(), SHARDS.to_owned()]);
    let mut nodes = Vec::new();
    for n in 0..HOLDINGS.len() {
        let mut node = shard_node(root, &args, n).await;
        node.logged("serving memory shards").await;
        nodes.push(node);
    }
    let channels: Vec<Channel> = nodes.iter().map(|n| n.channel.clone()).collect();
    let began = Instant::now();
    let revision = add_units(&channels, "sharded", units, sharded_sentence).await;
    println!(
        "  {units} units written in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    for (n, node) in nodes.iter().enumerate() {
        let mut client = MemoryClient::new(node.channel.clone());
        let mut samples = Vec::new();
        for i in 0..300 {
            // A stored sentence with its second word changed.
            let stored = sharded_sentence((i * 7919) % units);
            let mut words: Vec<&str> = stored.split(' ').collect();
            words[1] = "changed";
            let mut request = tonic::Request::new(SearchRequest {
                text: words.join(" "),
                source_lang: "en".into(),
                target_lang: "zh".into(),
                ..Default::default()
            });
            request.metadata_mut().insert(
                "tolmach-min-revision",
                revision.to_string().parse().expect("header"),
            );
            let began = Instant::now();
            let answer = client.search(request).await.expect("search").into_inner();
            samples.push(began.elapsed());
            assert!(answer.missing_shards.is_empty(), "every shard answered");
        }
        let held = HOLDINGS[n].unwrap_or("0-3");
        println!(
            "  node {n} (shards {held}): Search p50 {:.2} ms, p95 {:.2} ms",
            ms(percentile(&samples, 0.50)),
            ms(percentile(&samples, 0.95)),
        );
    }
    // Each node restarted: the units its index holds, and its memory once they are loaded.
    for (n, node) in nodes.into_iter().enumerate() {
        node.kill();
        let mut node = shard_node(root, &args, n).await;
        let ready = node.logged("translation memory ready").await;
        let units = ready
            .split("units=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("?")
            .to_owned();
        let (resident, peak) = node.rss_mib();
        println!(
            "  node {n} restarted: its index holds {units} units; resident {resident:.0} MiB \
             (peak {peak:.0})"
        );
    }
}

fn main() {
    if !Path::new(NATS_SERVER).exists() {
        println!("skipped: the cluster bench needs {NATS_SERVER} (apt-get install nats-server)");
        return;
    }
    let writes = env_number("TOLMACH_BENCH_WRITES", 1000);
    let catch_up_units = env_number("TOLMACH_BENCH_CLUSTER_UNITS", 100_000);
    let shard_units = env_number("TOLMACH_BENCH_SHARD_UNITS", 200_000);
    let sections =
        std::env::var("TOLMACH_BENCH_SECTIONS").unwrap_or_else(|_| "single,cluster,shards".into());
    let runs = |section: &str| sections.split(',').any(|s| s.trim() == section);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let root = tempfile::tempdir().expect("a temporary directory");
    runtime.block_on(async {
        if runs("single") {
            single(root.path(), writes).await;
        }
        if runs("cluster") {
            cluster(root.path(), writes, catch_up_units).await;
        }
        if runs("shards") {
            shards(root.path(), shard_units).await;
        }
    });
}
