//! The crash loop: the release `tolmach serve` killed with SIGKILL at random points, again and
//! again, on one data directory; after each restart nothing acknowledged is missing and no
//! import is in part.
//!
//! Run with `cargo bench --bench crash_loop`. Each of [`ROUNDS`] rounds starts the server
//! as a child on 127.0.0.1, checks what the rounds before left, and then, at once:
//!
//! * (a) imports a strict TMX of [`IMPORT_UNITS`] units into a memory of the round's own,
//!   with a job id;
//! * (b) streams acknowledged single writes, an `UpsertConcept` and an `AddUnits` of one
//!   unit in turn;
//!
//! and kills the child (by its process id; nothing else) at a random point: the first round
//! once its import has answered, which also times an import, the others after a delay drawn
//! between 0 and 1.3 times that time, so that some kills land while the file is read, some
//! while the commit is applied, and some after the end. `TOLMACH_CRASH_SEED` sets the seed.
//!
//! After each restart (the database must open every time): the round's import memory holds
//! none or all of the units, every import the client was told committed is all there, the
//! job's recorded state agrees with what is stored (committed ⇔ all; failed or unknown ⇔
//! none), and every write acknowledged in any round so far is there. Prints the figures:
//! rounds, acknowledged writes checked, imports whole and empty, and what was lost (0).
//! Figures, not assertions; it exits with an error if anything was lost.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::child::{memory_units, numbered_tmx, ChildServer};
use common::{import_report, XorShift};
use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_header::Target, import_job::State,
    import_request::Message, memory_client::MemoryClient, termbase_client::TermbaseClient,
    AddUnitsRequest, Concept, DeleteMemoryRequest, FileFormat, GetConceptRequest,
    GetImportJobRequest, ImportHeader, ImportReport, ImportRequest, LangSection, ListUnitsRequest,
    Segment, Term, TermStatus, TranslationUnit, UpsertConceptRequest,
};
use tonic::transport::Channel;
use tonic::Code;

/// Kills and restarts.
const ROUNDS: usize = 20;
/// Units of each round's import.
const IMPORT_UNITS: usize = 200_000;
/// Bytes per upload message.
const CHUNK: usize = 1024 * 1024;
/// The memory the acknowledged single units go to.
const ACKED_MEMORY: &str = "acked";

/// An acknowledged single write.
enum Acked {
    Concept(String),
    Unit(String),
}

/// What the client of a round's import was told.
enum Told {
    /// The report, committed.
    Committed,
    /// The report, not committed, or an error status from the server.
    Refused,
    /// Nothing: the connection broke first.
    Nothing,
}

/// The figures of the whole loop.
#[derive(Default)]
struct Figures {
    opens: usize,
    acked_checks: usize,
    acked_missing: usize,
    imports_whole: usize,
    imports_empty: usize,
    imports_partial: usize,
    jobs_disagreeing: usize,
    committed_but_missing: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = std::env::var("TOLMACH_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x00c0_ffee_u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let figures = runtime.block_on(crash_loop(seed));
    println!(
        "crash loop (seed {seed}): {} rounds, database opened {} times; acknowledged writes \
         checked {} ({} missing); imports of {IMPORT_UNITS} units whole {}, empty {}, partial \
         {}; job records disagreeing with the store {}; imports told committed but missing {}",
        ROUNDS,
        figures.opens,
        figures.acked_checks,
        figures.acked_missing,
        figures.imports_whole,
        figures.imports_empty,
        figures.imports_partial,
        figures.jobs_disagreeing,
        figures.committed_but_missing
    );
    let lost = figures.acked_missing
        + figures.imports_partial
        + figures.jobs_disagreeing
        + figures.committed_but_missing;
    println!("lost = {lost}");
    if lost > 0 {
        return Err(format!("{lost} acknowledged writes or imports lost or in part").into());
    }
    Ok(())
}

async fn crash_loop(seed: u64) -> Figures {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = Arc::new(numbered_tmx(IMPORT_UNITS));
    let mut rng = XorShift(seed.max(1));
    let mut figures = Figures::default();
    let mut acked = Vec::new();
    let mut import_time = Duration::ZERO;
    let mut previous: Option<(String, Told)> = None;
    for round in 0..ROUNDS {
        let server = ChildServer::start(dir.path()).await;
        figures.opens += 1;
        if let Some((memory, told)) = previous.take() {
            check_import(&server.channel, &memory, told, &mut figures).await;
        }
        check_acked(&server.channel, &acked, &mut figures).await;

        let memory = format!("crash-{round}");
        let acked_now = Arc::new(Mutex::new(Vec::new()));
        let writes = tokio::spawn(write_stream(
            server.channel.clone(),
            round,
            Arc::clone(&acked_now),
        ));
        let started = Instant::now();
        let import = tokio::spawn(import_file(
            server.channel.clone(),
            memory.clone(),
            Arc::clone(&file),
        ));
        let kill_after = if round == 0 {
            None
        } else {
            let most = import_time.mul_f64(1.3).as_millis().max(1) as usize;
            Some(Duration::from_millis(rng.below(most) as u64))
        };
        let mut import = import;
        let answered = match kill_after {
            None => {
                let told = (&mut import).await.unwrap_or(Told::Nothing);
                import_time = started.elapsed();
                Some(told)
            }
            Some(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
        };
        let killed_at = started.elapsed();
        server.kill();
        let told = match answered {
            Some(told) => told,
            None => import.await.unwrap_or(Told::Nothing),
        };
        writes.abort();
        let _ = writes.await;
        acked.append(&mut acked_now.lock().unwrap());
        println!(
            "round {round:2}: killed after {:6.2} s ({}), {} writes acknowledged so far",
            killed_at.as_secs_f64(),
            match told {
                Told::Committed => "import answered committed",
                Told::Refused => "import refused",
                Told::Nothing => "import unanswered",
            },
            acked.len()
        );
        previous = Some((memory, told));
    }
    let server = ChildServer::start(dir.path()).await;
    figures.opens += 1;
    if let Some((memory, told)) = previous.take() {
        check_import(&server.channel, &memory, told, &mut figures).await;
    }
    check_acked(&server.channel, &acked, &mut figures).await;
    figures
}

/// Imports `file` strictly into `memory` with the memory's name as job id; what the client
/// was told.
async fn import_file(channel: Channel, memory: String, file: Arc<Vec<u8>>) -> Told {
    let (sender, upload) = tokio::sync::mpsc::channel(4);
    let header = ImportHeader {
        format: FileFormat::Tmx as i32,
        target: Some(Target::Memory(memory.clone())),
        job_id: memory,
        ..Default::default()
    };
    tokio::spawn(async move {
        let mut messages = vec![Message::Header(header)];
        messages.extend(file.chunks(CHUNK).map(|c| Message::Chunk(c.to_vec())));
        for message in messages {
            let request = ImportRequest {
                message: Some(message),
            };
            if sender.send(request).await.is_err() {
                return;
            }
        }
    });
    match import_report(channel, upload).await {
        Ok(Some(ImportReport {
            committed: true, ..
        })) => Told::Committed,
        Ok(Some(_)) => Told::Refused,
        Ok(None) => Told::Nothing,
        Err(status) if matches!(status.code(), Code::Unavailable | Code::Unknown) => Told::Nothing,
        Err(_) => Told::Refused,
    }
}

/// Writes one concept, then one unit, and so on until the server dies, recording each write
/// it acknowledged.
async fn write_stream(channel: Channel, round: usize, acked: Arc<Mutex<Vec<Acked>>>) {
    let mut termbase = TermbaseClient::new(channel.clone());
    let mut memory = MemoryClient::new(channel);
    for n in 0.. {
        let id = format!("ack-{round}-{n}");
        let concept = Concept {
            id: id.clone(),
            collection: "crash".into(),
            langs: vec![LangSection {
                lang: "en".into(),
                terms: vec![Term {
                    text: format!("acknowledged term {round} {n}"),
                    status: TermStatus::Preferred as i32,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let stored = termbase
            .upsert_concept(UpsertConceptRequest {
                concept: Some(concept),
                ..Default::default()
            })
            .await;
        match stored {
            Ok(_) => acked.lock().unwrap().push(Acked::Concept(id.clone())),
            Err(_) => return,
        }
        let unit = TranslationUnit {
            id: id.clone(),
            segments: vec![
                Segment {
                    lang: "zh".into(),
                    text: format!("确认的第{round}轮第{n}句"),
                    ..Default::default()
                },
                Segment {
                    lang: "en".into(),
                    text: format!("Acknowledged sentence {n} of round {round}"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let added = memory
            .add_units(AddUnitsRequest {
                memory: ACKED_MEMORY.into(),
                units: vec![unit],
            })
            .await;
        match added {
            Ok(_) => acked.lock().unwrap().push(Acked::Unit(id)),
            Err(_) => return,
        }
    }
}

/// Checks the import into `memory` a kill interrupted: none or all of it, as its job and its
/// client were told; then deletes it, so that restarts stay quick.
async fn check_import(channel: &Channel, memory: &str, told: Told, figures: &mut Figures) {
    let stored = memory_units(channel, memory).await;
    let whole = stored == IMPORT_UNITS as u64;
    match stored {
        0 => figures.imports_empty += 1,
        _ if whole => figures.imports_whole += 1,
        _ => {
            println!("  {memory}: {stored} of {IMPORT_UNITS} units stored");
            figures.imports_partial += 1;
        }
    }
    if matches!(told, Told::Committed) && !whole {
        figures.committed_but_missing += 1;
    }
    let job = ExchangeClient::new(channel.clone())
        .get_import_job(GetImportJobRequest {
            job_id: memory.to_owned(),
        })
        .await;
    let agrees = match &job {
        Ok(job) if job.get_ref().state == State::Committed as i32 => whole,
        Ok(job) if job.get_ref().state == State::Failed as i32 => stored == 0,
        Ok(_) => false,
        Err(status) if status.code() == Code::NotFound => stored == 0,
        Err(_) => false,
    };
    if !agrees {
        println!("  {memory}: {stored} units stored, but the job says {job:?}");
        figures.jobs_disagreeing += 1;
    }
    if stored > 0 {
        MemoryClient::new(channel.clone())
            .delete_memory(DeleteMemoryRequest {
                memory: memory.to_owned(),
            })
            .await
            .expect("the import's memory deleted");
    }
}

/// Checks that every acknowledged write is stored.
async fn check_acked(channel: &Channel, acked: &[Acked], figures: &mut Figures) {
    let mut termbase = TermbaseClient::new(channel.clone());
    let units = acked_unit_ids(channel).await;
    for write in acked {
        let present = match write {
            Acked::Concept(id) => termbase
                .get_concept(GetConceptRequest { id: id.clone() })
                .await
                .is_ok(),
            Acked::Unit(id) => units.contains(id),
        };
        figures.acked_checks += 1;
        if !present {
            figures.acked_missing += 1;
        }
    }
}

/// The ids of the units stored in [`ACKED_MEMORY`].
async fn acked_unit_ids(channel: &Channel) -> HashSet<String> {
    let mut client = MemoryClient::new(channel.clone());
    let mut ids = HashSet::new();
    let mut page_token = String::new();
    loop {
        let page = match client
            .list_units(ListUnitsRequest {
                memory: ACKED_MEMORY.into(),
                page_size: 1000,
                page_token,
            })
            .await
        {
            Ok(page) => page.into_inner(),
            // No unit acknowledged yet.
            Err(status) if status.code() == Code::NotFound => return ids,
            Err(status) => panic!("ListUnits failed: {status:?}"),
        };
        ids.extend(page.units.into_iter().map(|u| u.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        page_token = page.next_page_token;
    }
}
