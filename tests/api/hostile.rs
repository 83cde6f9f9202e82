//! Hostile input, one test per class: each is refused at once with a precise status (the
//! field, or the line and column of the file), and another client on a connection of its own
//! is answered while and after it is refused. Large inputs are generated as they are sent,
//! never held whole, and the process's peak memory (the server runs in it) is checked where
//! a field is far over its limit.

use std::future::Future;

use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_header::Target, import_request::Message,
    memory_client::MemoryClient, AddUnitsRequest, Concept, FileFormat, ImportHeader, ImportRequest,
    LangSection, LookupRequest, RecognizeRequest, Segment, Term, TranslationUnit,
    UpsertConceptRequest,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::util::{lookup_text, TestServer};

/// Bytes per upload message.
const CHUNK: usize = 1 << 20;

/// The most the process may reach while refusing a field hundreds of MiB long: the server
/// holds a few MiB per entry, the tests running beside it a few hundred.
const MAX_PEAK_KIB: u64 = 2 * 1024 * 1024;

/// Runs `hostile` while another client looks a term up on a connection of its own, and again
/// after it; returns what the hostile call answered.
async fn while_others_are_answered<T: Send + 'static>(
    server: &TestServer,
    hostile: impl Future<Output = T> + Send + 'static,
) -> T {
    let task = tokio::spawn(hostile);
    let mut other = server.client().await;
    let during = lookup_text(&mut other, "SCO").await;
    assert!(!during.hits.is_empty(), "a Lookup during the hostile call");
    let answered = task.await.expect("the hostile call ran");
    let after = lookup_text(&mut other, "ШОС").await;
    assert!(!after.hits.is_empty(), "a Lookup after the hostile call");
    answered
}

/// Asserts an `INVALID_ARGUMENT` whose message holds every one of `needles`.
fn assert_refused<T: std::fmt::Debug>(answer: Result<T, Status>, needles: &[&str]) {
    let status = answer.expect_err("must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    for needle in needles {
        assert!(
            status.message().contains(needle),
            "{needle:?} not in {:?}",
            status.message()
        );
    }
}

/// A distinct, valid language tag for each `i` (`en-x0000042`).
fn nth_lang(i: usize) -> String {
    format!("en-x{i:07}")
}

/// Imports a file made of `parts` (each generated when the upload reaches it), sent in
/// chunks of [`CHUNK`], as `format` into `target`; the import's final status.
async fn import_streamed(
    channel: Channel,
    target: Target,
    format: FileFormat,
    parts: impl Iterator<Item = Vec<u8>> + Send + 'static,
) -> Result<(), Status> {
    let header = ImportHeader {
        target: Some(target),
        format: format as i32,
        ..Default::default()
    };
    let header = std::iter::once(ImportRequest {
        message: Some(Message::Header(header)),
    });
    let chunks = parts.flat_map(|part| {
        part.chunks(CHUNK)
            .map(|c| ImportRequest {
                message: Some(Message::Chunk(c.to_vec())),
            })
            .collect::<Vec<_>>()
    });
    let mut events = ExchangeClient::new(channel)
        .import(tokio_stream::iter(header.chain(chunks)))
        .await?
        .into_inner();
    while events.message().await?.is_some() {}
    Ok(())
}

/// `count` copies of `piece`, in parts of about [`CHUNK`] bytes made as they are asked for.
fn repeated(piece: &'static str, count: usize) -> impl Iterator<Item = Vec<u8>> + Send {
    let per_part = (CHUNK / piece.len()).max(1);
    (0..count.div_ceil(per_part)).map(move |part| {
        let n = per_part.min(count - part * per_part);
        piece.repeat(n).into_bytes()
    })
}

/// The process's peak resident memory, in KiB (`VmHWM`).
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

const TMX_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\
    <header srclang=\"en\" datatype=\"plaintext\" segtype=\"sentence\" o-tmf=\"x\" \
    adminlang=\"en\" creationtool=\"x\" creationtoolversion=\"1\"/>\n<body>\n";

const TBX_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tbx type=\"TBX-Basic\" \
    style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\">\n<text><body>\n";

fn memory(name: &str) -> Target {
    Target::Memory(name.into())
}

fn collection(name: &str) -> Target {
    Target::Collection(name.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_units_with_a_hundred_thousand_languages_is_refused_on_the_count() {
    let server = TestServer::start().await;
    let segments = (0..100_000)
        .map(|i| Segment {
            lang: nth_lang(i),
            text: "a".into(),
            ..Default::default()
        })
        .collect();
    let request = AddUnitsRequest {
        memory: "hostile".into(),
        units: vec![TranslationUnit {
            segments,
            ..Default::default()
        }],
    };
    let mut memory = MemoryClient::new(server.channel().await);
    let answer =
        while_others_are_answered(&server, async move { memory.add_units(request).await }).await;
    assert_refused(
        answer,
        &["units[0].segments", "100000 segments", "limit of 256"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_concept_with_forty_thousand_sections_is_refused_on_the_count() {
    // 40 000 sections fill about 800 KB, within UpsertConcept's request bound, so the
    // service's own check answers (a larger request is refused by the transport unread).
    let server = TestServer::start().await;
    let langs = (0..40_000)
        .map(|i| LangSection {
            lang: nth_lang(i),
            terms: vec![Term {
                text: "a".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    let request = UpsertConceptRequest {
        concept: Some(Concept {
            id: "hostile".into(),
            langs,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut client = server.client().await;
    let answer =
        while_others_are_answered(&server, async move { client.upsert_concept(request).await })
            .await;
    assert_refused(answer, &["concept.langs", "40000 sections", "limit of 256"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tmx_unit_with_a_million_tuv_is_refused_at_the_first_past_the_limit() {
    let server = TestServer::start().await;
    let tuvs = (0..1_000_000usize).step_by(10_000).map(|from| {
        (from..from + 10_000)
            .map(|i| format!("<tuv xml:lang=\"{}\"><seg>a</seg></tuv>\n", nth_lang(i)))
            .collect::<String>()
            .into_bytes()
    });
    let file = std::iter::once(format!("{TMX_HEAD}<tu>\n").into_bytes())
        .chain(tuvs)
        .chain(std::iter::once(b"</tu>\n</body></tmx>\n".to_vec()));
    let channel = server.channel().await;
    let answer = while_others_are_answered(
        &server,
        import_streamed(channel, memory("hostile"), FileFormat::Tmx, file),
    )
    .await;
    // The 257th <tuv> is on line 261: three lines of header, <tu>, then one <tuv> a line.
    assert_refused(answer, &["line 261, column 1", "more than 256 <tuv>"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seg_of_a_hundred_mib_is_refused_at_its_line_and_column_in_bounded_memory() {
    let server = TestServer::start().await;
    let head = format!("{TMX_HEAD}<tu>\n<tuv xml:lang=\"en\"><seg>");
    let file = std::iter::once(head.into_bytes())
        .chain(repeated("word ", 20 << 20))
        .chain(std::iter::once(
            b"</seg></tuv>\n<tuv xml:lang=\"ru\"><seg>a</seg></tuv></tu>\n</body></tmx>\n".to_vec(),
        ));
    let channel = server.channel().await;
    let answer = while_others_are_answered(
        &server,
        import_streamed(channel, memory("hostile"), FileFormat::Tmx, file),
    )
    .await;
    assert_refused(answer, &["line 5, column 25", "<seg>", "limit of 1 MiB"]);
    let peak = peak_kib();
    assert!(peak < MAX_PEAK_KIB, "peak {peak} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_field_of_two_hundred_mib_is_refused_at_its_line_in_bounded_memory() {
    let server = TestServer::start().await;
    let file = std::iter::once(b"id,en,ru\nsco,SCO,\"".to_vec())
        .chain(repeated("слово ", 200 << 20 >> 4))
        .chain(std::iter::once(b"\"\n".to_vec()));
    let channel = server.channel().await;
    let answer = while_others_are_answered(
        &server,
        import_streamed(channel, collection("hostile"), FileFormat::Csv, file),
    )
    .await;
    assert_refused(
        answer,
        &["line 2, column ", "row longer than the limit of 1 MiB"],
    );
    let peak = peak_kib();
    assert!(peak < MAX_PEAK_KIB, "peak {peak} KiB");
}

/// A small TBX file whose entry holds `term` as its English term, after `prolog`.
fn tbx_with(prolog: &str, term: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{prolog}\n<tbx type=\"TBX-Basic\" \
         style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\">\n<text><body>\n\
         <conceptEntry id=\"c\">\n  <langSec xml:lang=\"en\"><termSec><term>{term}</term>\
         </termSec></langSec>\n</conceptEntry>\n</body></text></tbx>\n"
    )
    .into_bytes()
}

/// Imports `file` whole (it is small) as `format` into a collection; the final status.
async fn import_small(
    server: &TestServer,
    format: FileFormat,
    file: Vec<u8>,
) -> Result<(), Status> {
    let channel = server.channel().await;
    let target = match format {
        FileFormat::Tmx => memory("hostile"),
        _ => collection("hostile"),
    };
    let parts = std::iter::once(file);
    while_others_are_answered(server, import_streamed(channel, target, format, parts)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_expansion_and_external_entities_are_refused_at_the_reference() {
    let server = TestServer::start().await;
    let laughs = "<!DOCTYPE tbx [\n<!ENTITY lol \"lol\">\n\
        <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n\
        <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n]>";
    let answer = import_small(&server, FileFormat::Tbx, tbx_with(laughs, "&lol2;")).await;
    assert_refused(answer, &["line 10, column 41", "undeclared entity &lol2;"]);

    let external = "<!DOCTYPE tbx [\n<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>";
    let answer = import_small(&server, FileFormat::Tbx, tbx_with(external, "&xxe;")).await;
    let status = answer.expect_err("an external entity");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("line 8, column 41"), "{status:?}");
    assert!(
        !status.message().contains("root:"),
        "the file was read: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_a_hundred_thousand_deep_is_refused_without_recursion() {
    let server = TestServer::start().await;
    let file = std::iter::once(TBX_HEAD.as_bytes().to_vec())
        .chain(repeated("<x>", 100_000))
        .chain(repeated("</x>", 100_000))
        .chain(std::iter::once(b"</body></text></tbx>\n".to_vec()));
    let channel = server.channel().await;
    let answer = while_others_are_answered(
        &server,
        import_streamed(channel, collection("hostile"), FileFormat::Tbx, file),
    )
    .await;
    // <tbx>, <text> and <body> are open: the 62nd <x> is the 65th level.
    assert_refused(
        answer,
        &["line 4, column 184", "more than 64 elements deep"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_files_are_refused_with_their_line() {
    let server = TestServer::start().await;
    let tbx = tbx_with("", "Shanghai Cooperation Organisation");
    // Cut inside `</langSec>`, which starts at line 6, column 91.
    let cut = tbx[..tbx.len() - 40].to_vec();
    let answer = import_small(&server, FileFormat::Tbx, cut).await;
    assert_refused(answer, &["line 6, column 91", "end of input"]);

    let tmx = format!(
        "{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>SCO</seg></tuv><tuv xml:lang=\"ru\"><seg>ШО"
    );
    let answer = import_small(&server, FileFormat::Tmx, tmx.into_bytes()).await;
    assert_refused(answer, &["line ", "end of file"]);

    // A glossary cut inside a character: Ш, then the first byte of another.
    let answer = import_small(
        &server,
        FileFormat::Csv,
        b"en,ru\nSCO,\xD0\xA8\xD0".to_vec(),
    )
    .await;
    assert_refused(answer, &["line 2, column 6", "ends inside"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_garbage_is_refused_as_what_it_claims_to_be() {
    let server = TestServer::start().await;
    // Deterministic noise with a NUL early on, as in a compressed or executable file.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let garbage: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    for format in [FileFormat::Tbx, FileFormat::Tmx, FileFormat::Csv] {
        let answer = import_small(&server, format, garbage.clone()).await;
        let status = answer.expect_err("garbage");
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{format:?}: {status:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_is_refused_at_its_line_and_column_in_every_format() {
    let server = TestServer::start().await;
    let mut tbx = tbx_with("", "SCO").to_vec();
    let at = tbx.windows(3).position(|w| w == b"SCO").expect("the term");
    tbx[at + 1] = 0xFF;
    let answer = import_small(&server, FileFormat::Tbx, tbx).await;
    assert_refused(answer, &["line 6, column 42", "invalid UTF-8"]);

    let tmx = format!(
        "{TMX_HEAD}<tu><tuv xml:lang=\"en\"><seg>S\u{1}O</seg></tuv>\
         <tuv xml:lang=\"ru\"><seg>ШОС</seg></tuv></tu></body></tmx>"
    )
    .replace('\u{1}', "\u{FFFF}");
    let mut tmx = tmx.into_bytes();
    let at = tmx
        .windows(3)
        .position(|w| w == "\u{FFFF}".as_bytes())
        .expect("marker");
    tmx[at] = 0xC3;
    tmx[at + 1] = 0x28;
    tmx.remove(at + 2);
    let answer = import_small(&server, FileFormat::Tmx, tmx).await;
    assert_refused(answer, &["line 4, column 30", "invalid UTF-8"]);

    let answer = import_small(&server, FileFormat::Csv, b"en,ru\nSCO,\xD0\n".to_vec()).await;
    assert_refused(answer, &["line 2, column 5", "invalid UTF-8"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_string_fields_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let long = |bytes: usize| "a".repeat(bytes);
    let lookup = LookupRequest {
        text: long(1025),
        ..Default::default()
    };
    assert_refused(
        client.lookup(lookup).await,
        &["text", "more than the limit of 1024"],
    );
    let recognize = RecognizeRequest {
        text: long((1 << 20) + 1),
        ..Default::default()
    };
    let answer = while_others_are_answered(&server, {
        let mut client = client.clone();
        async move { client.recognize(recognize).await }
    })
    .await;
    assert_refused(answer, &["text", "more than the limit of 1048576"]);
    let concept = Concept {
        id: "hostile".into(),
        langs: vec![LangSection {
            lang: "en".into(),
            terms: vec![Term {
                text: long(1025),
                note: long(16 * 1024 + 1),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let upsert = UpsertConceptRequest {
        concept: Some(concept),
        ..Default::default()
    };
    assert_refused(
        client.upsert_concept(upsert).await,
        &[
            "concept.langs[0].terms[0].text",
            "concept.langs[0].terms[0].note",
        ],
    );
    let unit = TranslationUnit {
        segments: vec![
            Segment {
                lang: "en".into(),
                text: long(64 * 1024 + 1),
                ..Default::default()
            },
            Segment {
                lang: "ru".into(),
                text: "а".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let add = AddUnitsRequest {
        memory: "hostile".into(),
        units: vec![unit],
    };
    let mut memory = MemoryClient::new(server.channel().await);
    assert_refused(
        memory.add_units(add).await,
        &["units[0].segments[0].text", "more than the limit of 65536"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recognize_replies_stay_bounded_and_say_how_much_they_left_out() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // Just under 1 MiB, a term every eight bytes: 131 071 occurrences.
    let text = "ШОС. ".repeat((1 << 20) / 9);
    let request = RecognizeRequest {
        text: text.clone(),
        ..Default::default()
    };
    let reply = while_others_are_answered(&server, {
        let mut client = client.clone();
        async move { client.recognize(request).await }
    })
    .await
    .expect("recognized")
    .into_inner();
    let sent = prost::Message::encoded_len(&reply);
    assert!(sent <= 4 << 20, "a reply of {sent} bytes");
    let given = reply.occurrences.len() as u64;
    assert!(given > 0 && reply.omitted_occurrences > 0);
    let total = given + reply.omitted_occurrences;
    assert_eq!(total, text.matches("ШОС").count() as u64);
    let last = reply
        .occurrences
        .last()
        .and_then(|o| o.bytes)
        .expect("a span");
    let first_left_out = text[last.end as usize..]
        .find("ШОС")
        .map(|at| at + last.end as usize);
    assert!(
        first_left_out.is_some(),
        "the reply is the first occurrences, in order"
    );

    let asked = client
        .recognize(RecognizeRequest {
            text: text.clone(),
            max_occurrences: 10,
            ..Default::default()
        })
        .await
        .expect("recognized")
        .into_inner();
    assert_eq!(asked.occurrences.len(), 10);
    assert_eq!(asked.omitted_occurrences, total - 10);

    // Concepts inline in every occurrence: the 4 MiB bound stops the reply first.
    let inline = client
        .recognize(RecognizeRequest {
            text,
            inline_concepts: true,
            ..Default::default()
        })
        .await
        .expect("recognized")
        .into_inner();
    let sent = prost::Message::encoded_len(&inline);
    assert!(sent <= 4 << 20, "an inline reply of {sent} bytes");
    assert!(inline.concepts.is_empty());
    assert!(inline.occurrences.iter().all(|o| o.concept.is_some()));
    assert!(inline.occurrences.len() < reply.occurrences.len());
    assert_eq!(
        inline.occurrences.len() as u64 + inline.omitted_occurrences,
        total
    );
}
