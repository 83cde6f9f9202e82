//! The server under load, as a newsroom would put it: the release `tolmach` binary started
//! as a child process on 127.0.0.1 with a temporary data directory, 64 concurrent clients
//! sending 10⁵ mixed calls (Lookup, Recognize of a newsroom paragraph, Search in a memory of
//! some thousands of units, UpsertConcept), then 2 000 idle HTTP/2 connections held open
//! while one client goes on asking.
//!
//! Run with `cargo bench --bench load` (`TOLMACH_BENCH_CALLS`, `TOLMACH_BENCH_CLIENTS`,
//! `TOLMACH_BENCH_IDLE` set other sizes). Prints throughput, p50/p95/p99 per RPC, errors by
//! gRPC code (only RESOURCE_EXHAUSTED is a tolerated answer, the server shedding load), the
//! server's peak RSS (VmHWM), and the p95 of Lookup beside the idle connections. Figures,
//! not assertions. Every loop has an end; the only process stopped is the child started
//! here, by its PID.

mod common;

use common::{ms, percentile, XorShift};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    AddUnitsRequest, Concept, LangSection, LookupRequest, RecognizeRequest, SearchRequest, Segment,
    Term, TermStatus, TranslationUnit, UpsertConceptRequest,
};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Units in the memory searched.
const MEMORY_UNITS: usize = 5000;
/// Lookup texts: glossary terms in the three languages, with a typo or two.
const LOOKUPS: &[&str] = &[
    "上海合作组织",
    "一带一路",
    "Shanghai Cooperation Organisation",
    "Belt and Road Initiative",
    "Шанхайская организация сотрудничества",
    "Shanghai Cooperaton Organisation",
    "mutual trust",
    "взаимное доверие",
    "人类命运共同体",
    "Регионалная антитеррористическая структура",
];

/// The child server; killed (by its PID, which `Child` holds) and reaped when dropped, so
/// that a failing run leaves no server behind.
struct Server {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts `tolmach serve` on a free loopback port and waits for its address in its log.
    fn start() -> BenchResult<Server> {
        let data = tempfile::tempdir()?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_tolmach"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .env("RUST_LOG", "warn,tolmach=info")
            .env("NO_COLOR", "1")
            // The server logs to standard output.
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let log = child.stdout.take().ok_or("no standard output")?;
        let mut lines = BufReader::new(log).lines();
        let mut addr = None;
        // The start-up logs a handful of lines; the address is in the "serving" one.
        for line in lines.by_ref().take(100) {
            let line = line?;
            if let Some(rest) = line.split("serving tolmach.v1 on ").nth(1) {
                addr = rest.split_whitespace().next().map(str::to_owned);
                break;
            }
        }
        // Keep draining the log so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        let server = Server {
            child,
            addr: addr.ok_or("the server did not log its address")?,
            _data: data,
        };
        Ok(server)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's peak resident memory (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A newsroom paragraph for Recognize: the first of the hand-written evaluation paragraphs,
/// with its annotations taken out (`[[surface|id]]` → surface).
fn paragraph() -> String {
    let text = include_str!("../tests/data/recognize_newsroom_eval.txt");
    let first = text
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("上海合作组织成员国元首理事会会议在阿斯塔纳举行。");
    let mut plain = String::new();
    let mut rest = first;
    while let Some(open) = rest.find("[[") {
        plain.push_str(&rest[..open]);
        let marked = &rest[open + 2..];
        let Some(close) = marked.find("]]") else {
            break;
        };
        plain.push_str(marked[..close].split('|').next().unwrap_or_default());
        rest = &marked[close + 2..];
    }
    plain.push_str(rest);
    plain
}

/// A sentence of generated Chinese and its English: the memory's units and search texts.
fn sentence(rng: &mut XorShift) -> (String, String) {
    const ZH: &[&str] = &[
        "合作", "发展", "安全", "经济", "地区", "国家", "会议", "双方", "推动", "加强", "交流",
        "伙伴", "论坛", "媒体", "贸易", "能源", "文化", "青年", "互信", "共同",
    ];
    const EN: &[&str] = &[
        "cooperation",
        "development",
        "security",
        "economy",
        "region",
        "state",
        "meeting",
        "both",
        "promote",
        "strengthen",
        "exchange",
        "partner",
        "forum",
        "media",
        "trade",
        "energy",
        "culture",
        "youth",
        "trust",
        "common",
    ];
    let words: Vec<usize> = (0..6 + rng.below(10)).map(|_| rng.zipf(ZH.len())).collect();
    let zh: String = words.iter().map(|&w| ZH[w]).collect::<String>() + "。";
    let en = words.iter().map(|&w| EN[w]).collect::<Vec<_>>().join(" ") + ".";
    (zh, en)
}

fn unit(id: String, zh: String, en: String) -> TranslationUnit {
    let segment = |lang: &str, text: String| Segment {
        lang: lang.into(),
        text,
        ..Default::default()
    };
    TranslationUnit {
        id,
        segments: vec![segment("zh", zh), segment("en", en)],
        ..Default::default()
    }
}

fn concept(id: String, en: &str) -> Concept {
    Concept {
        id,
        collection: "bench".into(),
        langs: vec![LangSection {
            lang: "en".into(),
            terms: vec![Term {
                text: en.into(),
                status: TermStatus::Preferred as i32,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// One call of the mix: Lookup 50 %, Search 25 %, Recognize 15 %, UpsertConcept 10 %.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rpc {
    Lookup,
    Search,
    Recognize,
    UpsertConcept,
}

impl Rpc {
    fn pick(rng: &mut XorShift) -> Rpc {
        match rng.below(20) {
            0..=9 => Rpc::Lookup,
            10..=14 => Rpc::Search,
            15..=17 => Rpc::Recognize,
            _ => Rpc::UpsertConcept,
        }
    }
}

/// What the clients saw: latencies of answered calls and error counts, by RPC.
#[derive(Default)]
struct Seen {
    latencies: BTreeMap<Rpc, Vec<Duration>>,
    /// By RPC and gRPC code (as its number: `Code` has no order).
    errors: BTreeMap<(Rpc, i32), usize>,
}

async fn call(
    rpc: Rpc,
    n: usize,
    rng: &mut XorShift,
    termbase: &mut TermbaseClient<Channel>,
    memory: &mut MemoryClient<Channel>,
    paragraph: &str,
) -> Result<(), tonic::Status> {
    match rpc {
        Rpc::Lookup => {
            let text = LOOKUPS[rng.below(LOOKUPS.len())];
            termbase
                .lookup(LookupRequest {
                    text: text.into(),
                    ..Default::default()
                })
                .await?;
        }
        Rpc::Search => {
            let (zh, _) = sentence(rng);
            memory
                .search(SearchRequest {
                    text: zh,
                    source_lang: "zh".into(),
                    target_lang: "en".into(),
                    ..Default::default()
                })
                .await?;
        }
        Rpc::Recognize => {
            termbase
                .recognize(RecognizeRequest {
                    text: paragraph.into(),
                    ..Default::default()
                })
                .await?;
        }
        Rpc::UpsertConcept => {
            // A few hundred concepts written over and over, as editors correct terms.
            let id = format!("bench-{}", n % 500);
            termbase
                .upsert_concept(UpsertConceptRequest {
                    concept: Some(concept(id, &format!("bench term {n}"))),
                    ..Default::default()
                })
                .await?;
        }
    }
    Ok(())
}

async fn connect(url: &str) -> BenchResult<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())?.connect().await?)
}

/// Fills the memory in calls of 1 000 units.
async fn fill_memory(url: &str) -> BenchResult<()> {
    let mut memory = MemoryClient::new(connect(url).await?);
    let mut rng = XorShift(0x10ad_5eed);
    for batch in 0..MEMORY_UNITS.div_ceil(1000) {
        let units = (batch * 1000..((batch + 1) * 1000).min(MEMORY_UNITS))
            .map(|n| {
                let (zh, en) = sentence(&mut rng);
                unit(format!("u{n}"), zh, en)
            })
            .collect();
        // The memory index is built just after start-up: retry while it is not ready.
        for attempt in 0..100 {
            let request = AddUnitsRequest {
                memory: "bench".into(),
                units: Vec::clone(&units),
            };
            match memory.add_units(request).await {
                Ok(_) => break,
                Err(status) if status.code() == Code::Unavailable && attempt < 99 => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => return Err(status.into()),
            }
        }
    }
    Ok(())
}

fn print_latencies(seen: &Seen) {
    for (rpc, samples) in &seen.latencies {
        println!(
            "  {rpc:?}: {} calls, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            samples.len(),
            ms(percentile(samples, 0.50)),
            ms(percentile(samples, 0.95)),
            ms(percentile(samples, 0.99))
        );
    }
    if seen.errors.is_empty() {
        println!("  errors: none");
    }
    for (&(rpc, code), count) in &seen.errors {
        let code = Code::from(code);
        let verdict = if code == Code::ResourceExhausted {
            "shed load, allowed"
        } else {
            "NOT ALLOWED"
        };
        println!("  errors: {rpc:?} {code:?} × {count} ({verdict})");
    }
}

async fn mixed_load(server: &Server, clients: usize, calls: usize) -> BenchResult<()> {
    let paragraph = Arc::new(paragraph());
    let next = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let channel = connect(&server.url()).await?;
        let (next, seen, paragraph) = (next.clone(), seen.clone(), paragraph.clone());
        tasks.push(tokio::spawn(async move {
            let mut termbase = TermbaseClient::new(channel.clone());
            let mut memory = MemoryClient::new(channel);
            let mut rng = XorShift(0x9e37_79b9 + client as u64);
            let mut mine = Seen::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    break;
                }
                let rpc = Rpc::pick(&mut rng);
                let began = Instant::now();
                let result = call(rpc, n, &mut rng, &mut termbase, &mut memory, &paragraph).await;
                match result {
                    Ok(()) => mine.latencies.entry(rpc).or_default().push(began.elapsed()),
                    Err(status) => {
                        *mine.errors.entry((rpc, status.code() as i32)).or_default() += 1;
                    }
                }
            }
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            for (rpc, samples) in mine.latencies {
                seen.latencies.entry(rpc).or_default().extend(samples);
            }
            for (key, count) in mine.errors {
                *seen.errors.entry(key).or_default() += count;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{calls} mixed calls from {clients} clients in {elapsed:.1} s: {:.0} calls/s",
        calls as f64 / elapsed
    );
    print_latencies(&seen.lock().unwrap_or_else(|e| e.into_inner()));
    println!("server peak RSS (VmHWM): {:.0} MiB", server.peak_rss_mib());
    Ok(())
}

async fn beside_idle_connections(server: &Server, idle: usize) -> BenchResult<()> {
    tolmach::transport::raise_open_files_limit();
    let started = Instant::now();
    let mut held = Vec::with_capacity(idle);
    for _ in 0..idle {
        held.push(connect(&server.url()).await?);
    }
    println!(
        "{idle} idle HTTP/2 connections opened in {:.1} s; server peak RSS now {:.0} MiB",
        started.elapsed().as_secs_f64(),
        server.peak_rss_mib()
    );
    let mut termbase = TermbaseClient::new(connect(&server.url()).await?);
    let mut rng = XorShift(0x1d1e);
    let mut samples = Vec::new();
    let mut errors = 0;
    for _ in 0..2000 {
        let began = Instant::now();
        let request = LookupRequest {
            text: LOOKUPS[rng.below(LOOKUPS.len())].into(),
            ..Default::default()
        };
        match termbase.lookup(request).await {
            Ok(_) => samples.push(began.elapsed()),
            Err(_) => errors += 1,
        }
    }
    println!(
        "beside them, 2000 Lookups: p50 {:.2} ms, p95 {:.2} ms, {errors} errors",
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.95))
    );
    drop(held);
    Ok(())
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> BenchResult<()> {
    let calls = setting("TOLMACH_BENCH_CALLS", 100_000);
    let clients = setting("TOLMACH_BENCH_CLIENTS", 64);
    let idle = setting("TOLMACH_BENCH_IDLE", 2000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = Server::start()?;
    println!("server {} (pid {})", server.addr, server.child.id());
    runtime.block_on(async {
        let started = Instant::now();
        fill_memory(&server.url()).await?;
        println!(
            "memory of {MEMORY_UNITS} units added in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        mixed_load(&server, clients, calls).await?;
        beside_idle_connections(&server, idle).await
    })?;
    drop(server);
    Ok(())
}
