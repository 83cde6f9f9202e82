//! Bulk import at scale: a synthetic TMX of 10⁶ zh/ru/en units streamed through
//! `Exchange.Import` over loopback gRPC into a fresh server, then the server restarted on the
//! same data.
//!
//! Run with `cargo bench --bench exchange`; `TOLMACH_BENCH_IMPORT_UNITS` sets another size. A
//! unit takes about 450 bytes of TMX, so 10⁶ units make about 450 MB and
//! `TOLMACH_BENCH_IMPORT_UNITS=2200000` about 1 GB.
//!
//! Neither side holds the file: the generator writes it unit by unit to a temporary file, and
//! the client sends that file in 1 MiB chunks through a channel of [`IN_FLIGHT`] messages, so
//! the client's share of the process's memory stays under a few MiB whatever the size, and
//! the peak resident memory printed is the server's.
//!
//! Prints the file size, the import's wall time and rate (units/s and MB/s, from the first byte
//! sent to the report), the peak resident memory, the rate and peak memory of importing the same
//! file again (every unit unchanged), and the time from `start()` to serving, and to the memory
//! index being ready, after a restart with the imported memory. Figures, not assertions: targets
//! are in DESIGN.md.
mod common;

use common::{import_report, print_index_size, rss_mib, XorShift};

use std::io::{BufWriter, Read};
use std::time::Instant;

use tolmach::formats::write_tmx;
use tolmach::model::{Lang, Segment, TranslationUnit};
use tolmach::server;
use tolmach::service::proto::{
    import_header::Target, import_request::Message, FileFormat, ImportHeader, ImportReport,
    ImportRequest,
};

/// Bytes per upload message.
const CHUNK: usize = 1024 * 1024;
/// Upload messages queued towards the connection: with the chunk being read, the most file
/// data the client holds at once.
const IN_FLIGHT: usize = 4;

/// Words of `syllables` from a fixed syllable set; 64 syllables per script keep the
/// vocabulary realistic (about 10⁵ distinct words).
fn word(rng: &mut XorShift, syllables: &[&str]) -> String {
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| syllables[rng.zipf(syllables.len())])
        .collect()
}

fn sentence(rng: &mut XorShift, syllables: &[&str], words: usize) -> String {
    (0..words)
        .map(|_| word(rng, syllables))
        .collect::<Vec<_>>()
        .join(" ")
}

fn han(rng: &mut XorShift, chars: usize) -> String {
    (0..chars)
        .map(|_| char::from_u32(0x4E00 + rng.zipf(3000) as u32).unwrap_or('中'))
        .collect()
}

fn unit(rng: &mut XorShift, n: usize, ru: &[&str], en: &[&str]) -> TranslationUnit {
    let segment = |lang: Lang, text: String| Segment {
        lang,
        text,
        tags: Vec::new(),
    };
    let zh_len = 15 + rng.below(30);
    let words = 6 + rng.below(12);
    TranslationUnit {
        id: format!("tu{n}"),
        segments: vec![
            segment(Lang::zh(), han(rng, zh_len)),
            segment(Lang::ru(), sentence(rng, ru, words)),
            segment(Lang::en(), sentence(rng, en, words)),
        ],
        origin: String::new(),
        created_ms: 1_700_000_000_000,
        metadata: Vec::new(),
    }
}

const RU: [&str; 64] = [
    "ра", "ко", "ми", "на", "сто", "вер", "пре", "ли", "да", "ше", "то", "бо", "гу", "же", "зо",
    "ки", "лю", "ме", "но", "пу", "ры", "са", "ту", "фе", "хо", "цы", "чи", "шу", "ще", "эм", "юн",
    "ят", "ва", "го", "де", "ёл", "жи", "зу", "ин", "ка", "ло", "му", "ны", "ор", "пи", "ре", "сы",
    "те", "уф", "ха", "це", "чу", "ша", "ъе", "ыр", "ью", "эл", "юг", "яр", "бе", "ви", "гр", "дв",
    "ст",
];
const EN: [&str; 64] = [
    "ra", "ko", "mi", "na", "sto", "ver", "pre", "li", "da", "she", "to", "bo", "gu", "je", "zo",
    "ki", "lu", "me", "no", "pu", "ry", "sa", "tu", "fe", "ho", "tsy", "chi", "shu", "sce", "em",
    "un", "yat", "va", "go", "de", "el", "zhi", "zu", "in", "ka", "lo", "mu", "ny", "or", "pi",
    "re", "sy", "te", "uf", "ha", "ce", "chu", "sha", "ye", "yr", "yu", "al", "ug", "yar", "be",
    "vi", "gr", "dv", "st",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The server's own log says how long the commit took within the import.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let count: usize = std::env::var("TOLMACH_BENCH_IMPORT_UNITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bench.tmx");
    let started = Instant::now();
    {
        let mut rng = XorShift(0x5eed_1234);
        let units = (0..count).map(|n| unit(&mut rng, n, &RU, &EN));
        write_tmx(BufWriter::new(std::fs::File::create(&file)?), units, "zh")?;
    }
    let bytes = std::fs::metadata(&file)?.len();
    println!(
        "generated {count} units, {:.1} MB of TMX ({:.0} bytes a unit) in {:.1} s, streamed to \
         a temporary file",
        bytes as f64 / 1e6,
        bytes as f64 / count.max(1) as f64,
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let config = common::server_config(&dir.path().join("data"));
        let running = server::start(config.clone()).await?;
        let (_, rss_before) = rss_mib();
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))?
            .connect()
            .await?;
        let (report, elapsed) = import(channel.clone(), &file, bytes).await?;
        let (_, peak) = rss_mib();
        println!(
            "import: {} units added in {elapsed:.1} s: {:.0} units/s, {:.1} MB/s",
            report.added,
            report.added as f64 / elapsed,
            bytes as f64 / 1e6 / elapsed
        );
        println!("peak RSS {peak:.0} MiB (after start-up, before the import: {rss_before:.0} MiB)");
        let (again, elapsed) = import(channel, &file, bytes).await?;
        let (_, peak) = rss_mib();
        println!(
            "re-import of the same file: {} units unchanged in {elapsed:.1} s: {:.0} units/s; \
             peak RSS {peak:.0} MiB",
            again.unchanged,
            again.unchanged as f64 / elapsed
        );
        running.shutdown().await?;
        print_index_size("import", &config.data_dir, report.added as usize);

        let started = Instant::now();
        let restarted = server::start(config).await?;
        println!(
            "start-up to serving: {:.2} s",
            started.elapsed().as_secs_f64()
        );
        let units = restarted.memory_ready().await?;
        println!(
            "start-up to memory ready with {units} units: {:.2} s ({:?})",
            started.elapsed().as_secs_f64(),
            restarted.memory_source()
        );
        restarted.shutdown().await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}

/// Streams the TMX at `file` (`bytes` long) into memory `bench`; answers the report and the
/// seconds from the first byte sent to the report.
async fn import(
    channel: tonic::transport::Channel,
    file: &std::path::Path,
    bytes: u64,
) -> Result<(ImportReport, f64), Box<dyn std::error::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(IN_FLIGHT);
    let header = ImportHeader {
        format: FileFormat::Tmx as i32,
        file_name: "bench.tmx".into(),
        target: Some(Target::Memory("bench".into())),
        expected_bytes: bytes,
        ..Default::default()
    };
    sender
        .send(ImportRequest {
            message: Some(Message::Header(header)),
        })
        .await?;
    let path = file.to_path_buf();
    let started = Instant::now();
    let upload = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut input = std::fs::File::open(path)?;
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = input.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            chunk.truncate(n);
            let message = ImportRequest {
                message: Some(Message::Chunk(chunk)),
            };
            if sender.blocking_send(message).is_err() {
                return Ok(());
            }
        }
    });
    let report = import_report(channel, receiver).await?;
    upload.await??;
    let elapsed = started.elapsed().as_secs_f64();
    Ok((report.ok_or("no report")?, elapsed))
}
