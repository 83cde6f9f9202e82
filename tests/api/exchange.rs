//! Exchange: streamed imports that are all-or-nothing, and streamed exports that read back.

use tolmach::service::proto::{
    self, exchange_client::ExchangeClient, import_event::Event, import_header::Target,
    import_request::Message, memory_client::MemoryClient, termbase_client::TermbaseClient,
    EntryProblem, ExportRequest, FileFormat, ImportHeader, ImportMode, ImportReport, ImportRequest,
    ListCollectionsRequest, ListConceptsRequest, ListUnitsRequest, LookupRequest, OnConflict,
    SearchRequest, StatsRequest,
};
use tonic::transport::Channel;
use tonic::Code;

use crate::crash::child::numbered_tmx;
use crate::util::TestServer;

/// Three concepts; the second has an invalid language tag at line 10, column 7.
const TBX_ONE_BAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<tbxHeader><fileDesc><sourceDesc><p>house style</p></sourceDesc></fileDesc></tbxHeader>
<text><body>
<conceptEntry id="house-1">
  <langSec xml:lang="zh"><termSec><term>青岛媒体实验室</term></termSec></langSec>
  <langSec xml:lang="en"><termSec><term>Qingdao Media Lab</term></termSec></langSec>
</conceptEntry>
<conceptEntry id="house-2">
      <langSec xml:lang="english!"><termSec><term>broken</term></termSec></langSec>
</conceptEntry>
<conceptEntry id="house-3">
  <langSec xml:lang="ru"><termSec><term>Циндаоская медиалаборатория</term></termSec></langSec>
  <langSec xml:lang="en"><termSec><term>Qingdao Media Laboratory</term></termSec></langSec>
</conceptEntry>
</body></text>
</tbx>
"#;

fn without_bad_entry(tbx: &str) -> String {
    let start = tbx.find("<conceptEntry id=\"house-2\">").unwrap();
    let end = tbx[start..].find("</conceptEntry>").unwrap() + start + "</conceptEntry>\n".len();
    format!("{}{}", &tbx[..start], &tbx[end..])
}

const TMX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="zh" datatype="plaintext" segtype="sentence" o-tmf="x"
  adminlang="en" creationtool="test" creationtoolversion="1"/><body>
<tu tuid="n1">
  <tuv xml:lang="zh"><seg>上海合作组织成员国媒体论坛在青岛举行。</seg></tuv>
  <tuv xml:lang="ru"><seg>Медийный форум государств-членов ШОС прошёл в Циндао.</seg></tuv>
  <tuv xml:lang="en"><seg>The SCO media forum was held in Qingdao.</seg></tuv>
</tu>
<tu>
  <tuv xml:lang="zh"><seg>点击<bpt i="1">&lt;b&gt;</bpt>确定<ept i="1">&lt;/b&gt;</ept>。</seg></tuv>
  <tuv xml:lang="en"><seg>Press <bpt i="1">&lt;b&gt;</bpt>OK<ept i="1">&lt;/b&gt;</ept>.</seg></tuv>
</tu>
</body></tmx>
"#;

pub(crate) fn header(target: Target) -> ImportHeader {
    ImportHeader {
        target: Some(target),
        ..Default::default()
    }
}

pub(crate) fn collection(name: &str) -> Target {
    Target::Collection(name.into())
}

/// What an import answered: every event, and how the stream ended.
pub(crate) struct Outcome {
    pub(crate) report: Option<ImportReport>,
    pub(crate) problems: Vec<EntryProblem>,
    progress_events: usize,
    pub(crate) status: Result<(), tonic::Status>,
}

impl Outcome {
    pub(crate) fn report(&self) -> &ImportReport {
        self.report.as_ref().expect("a report")
    }
}

/// Sends `header` and then `file` in chunks of `chunk` bytes.
pub(crate) async fn import(
    channel: Channel,
    header: ImportHeader,
    file: &[u8],
    chunk: usize,
) -> Outcome {
    let mut messages = vec![ImportRequest {
        message: Some(Message::Header(header)),
    }];
    messages.extend(file.chunks(chunk).map(|c| ImportRequest {
        message: Some(Message::Chunk(c.to_vec())),
    }));
    let mut outcome = Outcome {
        report: None,
        problems: Vec::new(),
        progress_events: 0,
        status: Ok(()),
    };
    let mut events = match ExchangeClient::new(channel)
        .import(tokio_stream::iter(messages))
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => {
            outcome.status = Err(status);
            return outcome;
        }
    };
    loop {
        match events.message().await {
            Ok(Some(event)) => match event.event {
                Some(Event::Progress(p)) => {
                    outcome.progress_events += 1;
                    outcome.problems.extend(p.problems);
                }
                Some(Event::Report(r)) => outcome.report = Some(r),
                None => {}
            },
            Ok(None) => return outcome,
            Err(status) => {
                outcome.status = Err(status);
                return outcome;
            }
        }
    }
}

pub(crate) async fn export(
    channel: Channel,
    request: ExportRequest,
) -> Result<Vec<u8>, tonic::Status> {
    let mut chunks = ExchangeClient::new(channel)
        .export(request)
        .await?
        .into_inner();
    let mut file = Vec::new();
    while let Some(chunk) = chunks.message().await? {
        file.extend(chunk.data);
    }
    Ok(file)
}

/// What a server holds, in counts and one checksum over every collection, concept and unit in
/// a canonical order: equal fingerprints mean equal databases.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    collections: usize,
    concepts: usize,
    units: usize,
    checksum: u64,
}

/// FNV-1a, so that the checksum is the same in every run.
struct Checksum(u64);

impl Checksum {
    fn add(&mut self, item: &impl std::fmt::Debug) {
        for byte in format!("{item:?}").bytes().chain([0]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Reads everything the server holds through the API, page by page.
pub(crate) async fn fingerprint(channel: Channel) -> Fingerprint {
    let mut sum = Checksum(0xcbf2_9ce4_8422_2325);
    let collections = TermbaseClient::new(channel.clone())
        .list_collections(ListCollectionsRequest {})
        .await
        .expect("collections")
        .into_inner()
        .collections;
    collections.iter().for_each(|c| sum.add(c));
    let concepts = all_concepts(channel.clone(), "").await;
    concepts.iter().for_each(|c| sum.add(c));
    let stats = MemoryClient::new(channel.clone())
        .stats(StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    let mut units = 0;
    for m in stats.memories {
        sum.add(&m);
        let listed = all_units(channel.clone(), &m.memory).await;
        units += listed.len();
        listed.iter().for_each(|u| sum.add(u));
    }
    Fingerprint {
        collections: collections.len(),
        concepts: concepts.len(),
        units,
        checksum: sum.0,
    }
}

/// Every concept of `collection` (all collections when empty), page by page.
async fn all_concepts(channel: Channel, collection: &str) -> Vec<proto::Concept> {
    let mut termbase = TermbaseClient::new(channel);
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = termbase
            .list_concepts(ListConceptsRequest {
                page_size: 1000,
                page_token: token,
                collection: collection.into(),
                ..Default::default()
            })
            .await
            .expect("concepts")
            .into_inner();
        out.extend(page.concepts);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Every unit of `memory`, page by page.
async fn all_units(channel: Channel, memory: &str) -> Vec<proto::TranslationUnit> {
    let mut client = MemoryClient::new(channel);
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_units(ListUnitsRequest {
                memory: memory.into(),
                page_size: 1000,
                page_token: token,
            })
            .await
            .expect("units")
            .into_inner();
        out.extend(page.units);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

async fn lookup_en(channel: Channel, text: &str) -> Vec<String> {
    TermbaseClient::new(channel)
        .lookup(LookupRequest {
            text: text.into(),
            source_lang: "en".into(),
            target_langs: vec!["zh".into(), "ru".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hits
        .into_iter()
        .filter(|h| h.score >= 0.99)
        .flat_map(|h| h.renderings.into_iter().map(|r| r.text))
        .collect()
}

#[tokio::test]
async fn strict_import_with_one_bad_entry_changes_nothing_and_names_line_and_column() {
    let server = TestServer::start().await;
    let before = fingerprint(server.channel().await).await;
    let outcome = import(
        server.channel().await,
        header(collection("house")),
        TBX_ONE_BAD.as_bytes(),
        7,
    )
    .await;
    let status = outcome.status.as_ref().expect_err("strict import refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("line 10, column 7"),
        "{}",
        status.message()
    );
    let report = outcome.report();
    assert!(!report.committed);
    assert_eq!((report.accepted, report.rejected), (2, 1));
    assert_eq!(outcome.problems.len(), 1, "every problem is streamed");
    assert_eq!(fingerprint(server.channel().await).await, before);
    assert!(lookup_en(server.channel().await, "Qingdao Media Lab")
        .await
        .is_empty());
}

#[tokio::test]
async fn best_effort_import_keeps_the_sound_entries_and_reports_the_rest() {
    let server = TestServer::start().await;
    let mut best_effort = header(collection("house"));
    best_effort.mode = ImportMode::BestEffort as i32;
    let outcome = import(
        server.channel().await,
        best_effort,
        TBX_ONE_BAD.as_bytes(),
        4096,
    )
    .await;
    outcome.status.as_ref().expect("best effort succeeds");
    let report = outcome.report();
    assert!(report.committed);
    assert_eq!((report.added, report.rejected), (2, 1));
    let problem = &report.problems[0];
    assert_eq!((problem.line, problem.column), (10, 7));
    assert!(problem.reason.contains("english!"), "{problem:?}");
    assert_eq!(
        lookup_en(server.channel().await, "Qingdao Media Lab").await,
        ["青岛媒体实验室"]
    );
}

#[tokio::test]
async fn reimporting_a_file_changes_nothing() {
    let server = TestServer::start().await;
    let good = without_bad_entry(TBX_ONE_BAD);
    let first = import(
        server.channel().await,
        header(collection("house")),
        good.as_bytes(),
        100,
    )
    .await;
    first.status.as_ref().expect("valid file");
    assert_eq!(first.report().added, 2, "{:?}", first.report());
    let after_first = fingerprint(server.channel().await).await;
    let second = import(
        server.channel().await,
        header(collection("house")),
        good.as_bytes(),
        100,
    )
    .await;
    let report = second.report();
    assert_eq!((report.added, report.updated, report.unchanged), (0, 0, 2));
    assert_eq!(fingerprint(server.channel().await).await, after_first);
}

#[tokio::test]
async fn dry_run_reports_what_would_happen_and_writes_nothing() {
    let server = TestServer::start().await;
    let before = fingerprint(server.channel().await).await;
    let mut dry = header(collection("house"));
    dry.dry_run = true;
    let good = without_bad_entry(TBX_ONE_BAD);
    let outcome = import(server.channel().await, dry, good.as_bytes(), 64).await;
    outcome.status.as_ref().expect("valid file");
    let report = outcome.report();
    assert!(report.dry_run && !report.committed);
    assert_eq!(report.added, 2);
    assert_eq!(report.format, FileFormat::Tbx as i32, "detected");
    assert_eq!(fingerprint(server.channel().await).await, before);
}

#[tokio::test]
async fn conflicts_merge_replace_or_skip() {
    let server = TestServer::start().await;
    let csv = |rows: &str| format!("id,zh,en\n{rows}");
    let first = csv("k1,一带一路,Belt and Road\n");
    let second = csv("k1,一带一路,the Belt and Road Initiative\n");
    let mut h = header(collection("house"));
    h.file_name = "house.csv".into();
    let run = |mode: OnConflict, file: String| {
        let mut h = h.clone();
        h.on_conflict = mode as i32;
        let channel = server.channel();
        async move { import(channel.await, h, file.as_bytes(), 1000).await }
    };
    assert_eq!(
        run(OnConflict::Merge, first.clone()).await.report().added,
        1
    );
    let skipped = run(OnConflict::Skip, second.clone()).await;
    assert_eq!(skipped.report().skipped, 1);
    let english = |c: &proto::Concept| -> Vec<String> {
        c.langs
            .iter()
            .filter(|s| s.lang == "en")
            .flat_map(|s| s.terms.iter().map(|t| t.text.clone()))
            .collect()
    };
    let stored = || async {
        TermbaseClient::new(server.channel().await)
            .get_concept(proto::GetConceptRequest { id: "k1".into() })
            .await
            .unwrap()
            .into_inner()
    };
    assert_eq!(english(&stored().await), ["Belt and Road"]);
    assert_eq!(
        run(OnConflict::Merge, second.clone())
            .await
            .report()
            .updated,
        1
    );
    assert_eq!(
        english(&stored().await),
        ["Belt and Road", "the Belt and Road Initiative"]
    );
    assert_eq!(run(OnConflict::Replace, first).await.report().updated, 1);
    let replaced = stored().await;
    assert_eq!(english(&replaced), ["Belt and Road"]);
    assert_eq!(replaced.revision, 3, "each change is a revision");
}

/// A TMX of `(id, [(lang, text)])` units.
fn tmx_of(units: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
    let mut file = String::from(
        "<?xml version=\"1.0\"?><tmx version=\"1.4\"><header srclang=\"zh\" datatype=\"plaintext\" \
         segtype=\"sentence\" o-tmf=\"x\" adminlang=\"en\" creationtool=\"t\" creationtoolversion=\"1\"/><body>\n",
    );
    for (id, segments) in units {
        file.push_str(&format!("<tu tuid=\"{id}\">"));
        for (lang, text) in *segments {
            file.push_str(&format!("<tuv xml:lang=\"{lang}\"><seg>{text}</seg></tuv>"));
        }
        file.push_str("</tu>\n");
    }
    file.push_str("</body></tmx>\n");
    file.into_bytes()
}

/// The import path publishes to the memory index the units as spooled, except those the store
/// kept otherwise (unchanged, skipped, merged, replaced, repeated within the file), which it
/// publishes as stored: after each mode, every segment text finds by exact match exactly the
/// stored units that have it, and no text the store did not keep finds anything.
#[tokio::test]
async fn memory_imports_leave_search_agreeing_with_the_store_in_every_conflict_mode() {
    const FORUM: &str = "上海合作组织成员国媒体论坛在青岛举行。";
    const AGREED: &str = "各方同意加强新闻交流与合作。";
    const ISSUED: &str = "论坛发布了联合倡议。";
    let first = tmx_of(&[
        (
            "a",
            &[
                ("zh", FORUM),
                ("en", "The SCO media forum was held in Qingdao."),
            ],
        ),
        (
            "b",
            &[
                ("zh", AGREED),
                ("en", "The parties agreed to deepen news exchanges."),
            ],
        ),
    ]);
    let second = tmx_of(&[
        (
            "a",
            &[
                ("zh", FORUM),
                (
                    "en",
                    "The media forum of SCO member states opened in Qingdao.",
                ),
                ("ru", "Медиафорум государств-членов ШОС открылся в Циндао."),
            ],
        ),
        (
            "b",
            &[
                ("zh", AGREED),
                ("en", "The parties agreed to deepen news exchanges."),
            ],
        ),
        (
            "c",
            &[
                ("zh", ISSUED),
                ("en", "The forum issued a joint initiative."),
            ],
        ),
        (
            "c",
            &[
                ("zh", ISSUED),
                ("en", "The forum adopted a joint initiative."),
            ],
        ),
    ]);
    let texts: Vec<(&str, String)> = [&first, &second]
        .iter()
        .flat_map(|file| {
            let text = String::from_utf8_lossy(file).into_owned();
            text.split("<tuv xml:lang=\"")
                .skip(1)
                .map(|tuv| {
                    let (lang, rest) = tuv.split_once('"').unwrap_or_default();
                    let seg = rest.split("<seg>").nth(1).unwrap_or_default();
                    let lang = ["zh", "en", "ru"].into_iter().find(|l| *l == lang).unwrap();
                    (
                        lang,
                        seg.split("</seg>").next().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for mode in [OnConflict::Merge, OnConflict::Replace, OnConflict::Skip] {
        let server = TestServer::start().await;
        let mut h = header(Target::Memory("news".into()));
        h.on_conflict = mode as i32;
        for file in [&first, &second] {
            let outcome = import(server.channel().await, h.clone(), file, 97).await;
            outcome.status.as_ref().expect("valid TMX");
        }
        let stored = all_units(server.channel().await, "news").await;
        assert_eq!(stored.len(), 3, "{mode:?}");
        for (lang, text) in &texts {
            let want: std::collections::BTreeSet<String> = stored
                .iter()
                .filter(|u| {
                    u.segments
                        .iter()
                        .any(|s| s.lang == *lang && s.text == *text)
                })
                .map(|u| u.id.clone())
                .collect();
            let matches = MemoryClient::new(server.channel().await)
                .search(SearchRequest {
                    text: text.clone(),
                    source_lang: (*lang).into(),
                    target_lang: if *lang == "zh" { "en" } else { "zh" }.into(),
                    min_score: 0.99,
                    ..Default::default()
                })
                .await
                .expect("search")
                .into_inner()
                .matches;
            let got: std::collections::BTreeSet<String> = matches
                .iter()
                .filter(|m| m.score == 1.0)
                .map(|m| m.unit_id.clone())
                .collect();
            assert_eq!(got, want, "{mode:?}: {lang} {text:?}");
            assert_eq!(
                got.len(),
                matches.len(),
                "{mode:?}: one match per unit: {matches:?}"
            );
        }
    }
}

#[tokio::test]
async fn malformed_xml_is_refused_in_strict_mode_and_cut_short_in_best_effort() {
    let server = TestServer::start().await;
    let good = without_bad_entry(TBX_ONE_BAD);
    let broken = good.replace(
        "<conceptEntry id=\"house-3\">",
        "<conceptEntry id=\"house-3\"><oops>",
    );
    let before = fingerprint(server.channel().await).await;
    let strict = import(
        server.channel().await,
        header(collection("house")),
        broken.as_bytes(),
        50,
    )
    .await;
    let status = strict.status.expect_err("malformed");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("line "), "{}", status.message());
    assert_eq!(fingerprint(server.channel().await).await, before);
    let mut best_effort = header(collection("house"));
    best_effort.mode = ImportMode::BestEffort as i32;
    let outcome = import(server.channel().await, best_effort, broken.as_bytes(), 50).await;
    let report = outcome.report();
    assert!(report.committed);
    assert_eq!(report.added, 1, "the entry before the damage");
    assert!(report
        .problems
        .iter()
        .any(|p| p.severity == proto::entry_problem::Severity::Fatal as i32 && p.line > 0));
}

#[tokio::test]
async fn bad_headers_and_short_uploads_are_refused_precisely() {
    let server = TestServer::start().await;
    let cases: Vec<(ImportHeader, &[u8], &str)> = vec![
        (ImportHeader::default(), b"", "header.target"),
        (
            ImportHeader {
                format: FileFormat::Tmx as i32,
                ..header(collection("house"))
            },
            TMX.as_bytes(),
            "header.collection",
        ),
        (
            header(Target::Memory("news".into())),
            TBX_ONE_BAD.as_bytes(),
            "header.memory",
        ),
        (
            header(Target::Memory("bad name".into())),
            b"",
            "header.memory",
        ),
        (
            header(collection("house")),
            b"just some words\n",
            "header.format",
        ),
        (
            ImportHeader {
                expected_bytes: TMX.len() as u64,
                ..header(Target::Memory("news".into()))
            },
            &TMX.as_bytes()[..TMX.len() / 2],
            "expected_bytes",
        ),
    ];
    for (header, file, field) in cases {
        let outcome = import(server.channel().await, header, file, 64).await;
        let status = outcome.status.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert!(status.message().contains(field), "{}", status.message());
    }
    // A chunk before the header.
    let status = ExchangeClient::new(server.channel().await)
        .import(tokio_stream::iter(vec![ImportRequest {
            message: Some(Message::Chunk(b"<tmx/>".to_vec())),
        }]))
        .await
        .expect_err("no header");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("header"));
}

#[tokio::test]
async fn tmx_imports_into_a_memory_and_its_export_reimports_unchanged() {
    let server = TestServer::start().await;
    let mut h = header(Target::Memory("news".into()));
    h.file_name = "forum.tmx".into();
    let outcome = import(server.channel().await, h.clone(), TMX.as_bytes(), 33).await;
    outcome.status.as_ref().expect("valid TMX");
    assert_eq!(outcome.report().added, 2);
    let matches = MemoryClient::new(server.channel().await)
        .search(SearchRequest {
            text: "上海合作组织成员国媒体论坛在青岛举行。".into(),
            source_lang: "zh".into(),
            target_lang: "ru".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(matches[0].score, 1.0);
    assert!(matches[0].target.contains("Циндао"));

    let exported = export(
        server.channel().await,
        ExportRequest {
            format: FileFormat::Tmx as i32,
            memory: "news".into(),
            ..Default::default()
        },
    )
    .await
    .expect("export");
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(
        text.contains(r#"<bpt i="1">&lt;b&gt;</bpt>"#),
        "tags written back"
    );
    let again = import(server.channel().await, h, &exported, 1000).await;
    let report = again.report();
    assert_eq!((report.added, report.unchanged), (0, 2), "{report:?}");

    let en_ru = export(
        server.channel().await,
        ExportRequest {
            format: FileFormat::Tmx as i32,
            memory: "news".into(),
            langs: vec!["zh".into(), "ru".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let text = String::from_utf8(en_ru).unwrap();
    assert_eq!(
        text.matches("</tu>").count(),
        1,
        "the unit without ru is left out"
    );
    assert!(!text.contains("xml:lang=\"en\""));
}

#[tokio::test]
async fn glossary_exports_as_tbx_and_tsv_and_reads_back_with_every_concept() {
    let server = TestServer::start().await;
    let glossary = ExportRequest {
        collections: vec!["sco-glossary".into()],
        ..Default::default()
    };
    let tbx = export(
        server.channel().await,
        ExportRequest {
            format: FileFormat::Tbx as i32,
            ..glossary.clone()
        },
    )
    .await
    .expect("export");
    let count = server.server.concept_count as u64;
    let outcome = import(
        server.channel().await,
        header(collection("copy")),
        &tbx,
        64 * 1024,
    )
    .await;
    outcome.status.as_ref().expect("own export imports");
    assert_eq!(
        outcome.report().added,
        count,
        "ids qualified, not taken over"
    );

    let tsv = export(
        server.channel().await,
        ExportRequest {
            format: FileFormat::Tsv as i32,
            langs: vec!["zh".into(), "ru".into(), "en".into()],
            subject_fields: vec![],
            ..glossary
        },
    )
    .await
    .unwrap();
    let tsv = String::from_utf8(tsv).unwrap();
    let header: Vec<&str> = tsv.lines().next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|c| *c == name).unwrap();
    assert!(column("zh") < column("ru") && column("ru") < column("en"));
    assert!(column("en:status") == column("en") + 1, "{header:?}");
    let ids: std::collections::HashSet<&str> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(ids.len() as u64, count, "every concept has its rows");
    let spirit = tsv
        .lines()
        .find(|l| l.contains("\t上海精神\t"))
        .expect("Shanghai Spirit row");
    let cells: Vec<&str> = spirit.split('\t').collect();
    assert_eq!(
        [
            cells[column("zh")],
            cells[column("ru")],
            cells[column("en")]
        ],
        ["上海精神", "Шанхайский дух", "Shanghai Spirit"]
    );
}

#[tokio::test]
async fn exports_refuse_what_they_cannot_do() {
    let server = TestServer::start().await;
    let cases = [
        (ExportRequest::default(), Code::InvalidArgument, "format"),
        (
            ExportRequest {
                format: FileFormat::Tmx as i32,
                ..Default::default()
            },
            Code::InvalidArgument,
            "memory",
        ),
        (
            ExportRequest {
                format: FileFormat::Tbx as i32,
                memory: "news".into(),
                ..Default::default()
            },
            Code::InvalidArgument,
            "memory",
        ),
        (
            ExportRequest {
                format: FileFormat::Csv as i32,
                langs: vec!["english!".into()],
                ..Default::default()
            },
            Code::InvalidArgument,
            "langs[0]",
        ),
        (
            ExportRequest {
                format: FileFormat::Tbx as i32,
                collections: vec!["nowhere".into()],
                ..Default::default()
            },
            Code::NotFound,
            "nowhere",
        ),
        (
            ExportRequest {
                format: FileFormat::Tmx as i32,
                memory: "empty".into(),
                ..Default::default()
            },
            Code::NotFound,
            "empty",
        ),
    ];
    for (request, code, needle) in cases {
        let status = export(server.channel().await, request)
            .await
            .expect_err(needle);
        assert_eq!(status.code(), code, "{needle}: {status:?}");
        assert!(status.message().contains(needle), "{}", status.message());
    }
}

/// A TCP relay to the server that can be cut like a pulled cable: the server sees the
/// connection drop in the middle of a call, with no end of stream.
struct Relay {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(server: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("relay binds");
        let addr = listener.local_addr().expect("relay address");
        let task = tokio::spawn(async move {
            let (mut client, _) = listener.accept().await.expect("client connects");
            let mut upstream = tokio::net::TcpStream::connect(server)
                .await
                .expect("server reachable");
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        });
        Relay { addr, task }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("valid uri")
            .connect()
            .await
            .expect("relay reachable")
    }

    /// Closes both connections at once.
    async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

// Multi-threaded: the restart blocks a thread while it waits for the store's lock, and the
// server's tasks must meanwhile see the connection drop and end the import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_client_abandons_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let before = fingerprint(server.channel().await).await;
    let file = numbered_tmx(30_000);
    // Cut after 25 000 units: well past the first staged batches. Best effort, so that an
    // upload mistaken for a complete (if truncated) file would commit what it read.
    let cut = String::from_utf8_lossy(&file)
        .find("<tu tuid=\"t25000\">")
        .expect("unit 25000");
    let relay = Relay::to(server.server.addr).await;
    let (sender, receiver) = tokio::sync::mpsc::channel(1024);
    let mut h = header(Target::Memory("news".into()));
    h.format = FileFormat::Tmx as i32;
    h.mode = ImportMode::BestEffort as i32;
    sender
        .send(ImportRequest {
            message: Some(Message::Header(h)),
        })
        .await
        .unwrap();
    for piece in file[..cut].chunks(16 * 1024) {
        sender
            .send(ImportRequest {
                message: Some(Message::Chunk(piece.to_vec())),
            })
            .await
            .unwrap();
    }
    let mut events = ExchangeClient::new(relay.channel().await)
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .expect("import starts")
        .into_inner();
    // Progress comes every 10 000 entries: 20 000 read means 20 batches staged.
    loop {
        let event = events.message().await.expect("events").expect("more");
        match event.event {
            Some(Event::Progress(p)) if p.accepted >= 20_000 => break,
            Some(Event::Report(r)) => panic!("the import ended early: {r:?}"),
            _ => {}
        }
    }
    assert_eq!(
        fingerprint(server.channel().await).await,
        before,
        "staged entries are not visible"
    );
    // The client goes away without ending its upload; `sender` stays open until the end, so
    // the server never sees the stream end normally.
    relay.cut().await;
    assert_eq!(fingerprint(server.channel().await).await, before);
    // The restart waits for the import's thread to let go of the store.
    let server = server.restart().await;
    assert_eq!(fingerprint(server.channel().await).await, before);
    drop(sender);
}

#[tokio::test]
async fn a_file_broken_mid_way_answers_its_error_even_when_its_size_was_announced() {
    let server = TestServer::start().await;
    let before = fingerprint(server.channel().await).await;
    let file = String::from_utf8(numbered_tmx(6000))
        .unwrap()
        .replace("<tu tuid=\"t3000\">", "<tu tuid=\"t3000\"><oops>");
    let announced = |mode: ImportMode| ImportHeader {
        format: FileFormat::Tmx as i32,
        mode: mode as i32,
        expected_bytes: file.len() as u64,
        ..header(Target::Memory("news".into()))
    };
    let strict = import(
        server.channel().await,
        announced(ImportMode::Strict),
        file.as_bytes(),
        16 * 1024,
    )
    .await;
    let status = strict.status.as_ref().expect_err("malformed");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let message = status.message();
    assert!(message.contains("line 3002, column "), "{message}");
    assert!(!message.contains("expected_bytes"), "{message}");
    let report = strict.report();
    assert!(!report.committed);
    assert!(
        report.bytes_read < file.len() as u64,
        "the reader stopped at the damage: {report:?}"
    );
    assert_eq!(fingerprint(server.channel().await).await, before);

    let best_effort = import(
        server.channel().await,
        announced(ImportMode::BestEffort),
        file.as_bytes(),
        16 * 1024,
    )
    .await;
    best_effort
        .status
        .as_ref()
        .expect("best effort keeps the sound part");
    let report = best_effort.report();
    assert!(report.committed);
    assert_eq!(report.added, 3000, "the units before the damage");
    assert!(report
        .problems
        .iter()
        .any(|p| p.severity == proto::entry_problem::Severity::Fatal as i32 && p.line == 3002));
}

/// Three concepts in two subject fields with most of what a concept can hold: several terms
/// per language with statuses, types, parts of speech and notes, definitions, notes, a source
/// and a cross reference. Written by the library's TBX writer.
fn house_tbx() -> Vec<u8> {
    use tolmach::model::{Concept, Lang, LangSection, Term, TermStatus, TermType};
    let section = LangSection::new;
    let concept = |id: &str, subject: &str, langs: Vec<LangSection>| Concept {
        subject_field: subject.into(),
        ..Concept::new(id, "", langs)
    };
    let mut full = Term::preferred("Shanghai Cooperation Organisation");
    full.term_type = TermType::FullForm;
    full.part_of_speech = "noun".into();
    full.context = "The SCO summit opened in Qingdao.".into();
    let mut acronym = Term::with_status("SCO", TermStatus::Admitted);
    acronym.term_type = TermType::Acronym;
    let mut wrong = Term::with_status("Shanghai Pact", TermStatus::Deprecated);
    wrong.note = "misleading".into();
    let mut sco = concept(
        "house-sco",
        "diplomacy",
        vec![
            section(
                Lang::zh(),
                vec![
                    Term::preferred("上海合作组织"),
                    Term::with_status("上合组织", TermStatus::Admitted),
                ],
            ),
            section(
                Lang::ru(),
                vec![Term::preferred("Шанхайская организация сотрудничества")],
            ),
            section(Lang::en(), vec![full, acronym, wrong]),
        ],
    );
    sco.source = "sco.int".into();
    sco.notes = vec!["Founded in 2001.".into()];
    sco.cross_refs = vec!["house-charter".into()];
    sco.langs[2].definition = "An intergovernmental organisation.".into();
    sco.langs[2].notes = vec!["English usage.".into()];
    let belt = concept(
        "house-belt",
        "economy",
        vec![
            section(Lang::zh(), vec![Term::preferred("一带一路")]),
            section(
                Lang::en(),
                vec![
                    Term::preferred("Belt and Road Initiative"),
                    Term::with_status("One Belt One Road", TermStatus::Forbidden),
                ],
            ),
        ],
    );
    let charter = concept(
        "house-charter",
        "diplomacy",
        vec![
            section(Lang::ru(), vec![Term::preferred("Хартия ШОС")]),
            section(Lang::en(), vec![Term::preferred("SCO Charter")]),
        ],
    );
    let mut file = Vec::new();
    tolmach::formats::write_tbx(
        &mut file,
        [sco, belt, charter],
        tolmach::formats::TbxStyle::V3Basic,
    )
    .expect("TBX");
    file
}

/// A fresh server with [`house_tbx`] imported into collection `house`.
async fn house_server() -> TestServer {
    let server = TestServer::start().await;
    let outcome = import(
        server.channel().await,
        header(collection("house")),
        &house_tbx(),
        4096,
    )
    .await;
    outcome.status.as_ref().expect("house file imports");
    assert_eq!(outcome.report().added, 3);
    server
}

fn export_house(format: FileFormat) -> ExportRequest {
    ExportRequest {
        format: format as i32,
        collections: vec!["house".into()],
        ..Default::default()
    }
}

/// The concepts of an export, read by the library's reader: (id, languages).
fn exported_concepts(file: &[u8]) -> Vec<(String, Vec<String>)> {
    tolmach::formats::TbxReader::new(file)
        .map(|entry| {
            let concept = entry.expect("the export reads back").concept;
            let langs = concept.langs.iter().map(|s| s.lang.to_string()).collect();
            (concept.id, langs)
        })
        .collect()
}

#[tokio::test]
async fn exports_keep_only_the_subject_fields_and_languages_asked_for() {
    let server = house_server().await;
    let export = |request: ExportRequest| async {
        export(server.channel().await, request)
            .await
            .expect("export")
    };
    let diplomacy = export(ExportRequest {
        subject_fields: vec!["diplomacy".into()],
        ..export_house(FileFormat::Tbx)
    })
    .await;
    let ids: Vec<String> = exported_concepts(&diplomacy)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["house-charter", "house-sco"]);

    let russian = export(ExportRequest {
        langs: vec!["ru".into()],
        ..export_house(FileFormat::Tbx)
    })
    .await;
    assert_eq!(
        exported_concepts(&russian),
        [
            ("house-charter".to_owned(), vec!["ru".to_owned()]),
            ("house-sco".to_owned(), vec!["ru".to_owned()]),
        ],
        "the concept without Russian is left out, the others keep only Russian"
    );

    // Both filters at once, as glossary columns in the order asked for.
    let tsv = export(ExportRequest {
        langs: vec!["en".into(), "zh".into()],
        subject_fields: vec!["economy".into()],
        ..export_house(FileFormat::Tsv)
    })
    .await;
    let tsv = String::from_utf8(tsv).unwrap();
    let header = tsv.lines().next().unwrap();
    let en = header.split('\t').position(|c| c == "en").unwrap();
    let zh = header.split('\t').position(|c| c == "zh").unwrap();
    assert!(en < zh, "{header}");
    assert!(!header.split('\t').any(|c| c == "ru"), "{header}");
    assert!(
        tsv.contains("house-belt") && !tsv.contains("house-sco"),
        "{tsv}"
    );
    assert!(
        tsv.contains("house-belt\t\t\t\t\tOne Belt One Road\tforbidden"),
        "every term is written, with its status: {tsv}"
    );
}

#[tokio::test]
async fn tbx_2008_export_is_martif_with_every_concept() {
    let server = house_server().await;
    let file = export(server.channel().await, export_house(FileFormat::Tbx2008))
        .await
        .expect("export");
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(text.contains("<martif"), "{text}");
    assert!(text.contains("<termEntry") && !text.contains("<conceptEntry"));
    let v3 = export(server.channel().await, export_house(FileFormat::Tbx))
        .await
        .expect("export");
    assert_eq!(exported_concepts(&file), exported_concepts(&v3));
    let all: Vec<_> = tolmach::formats::TbxReader::new(file.as_slice())
        .map(|e| e.expect("reads back").concept)
        .collect();
    let again: Vec<_> = tolmach::formats::TbxReader::new(v3.as_slice())
        .map(|e| e.expect("reads back").concept)
        .collect();
    assert_eq!(all, again, "TBX 2008 holds what TBX v3 holds");
}

/// A collection's concepts as the server serves them, without what a write sets (times and
/// revision), which differ between two servers.
async fn concepts_of(channel: Channel, collection: &str) -> Vec<proto::Concept> {
    all_concepts(channel, collection)
        .await
        .into_iter()
        .map(|c| proto::Concept {
            create_time: None,
            update_time: None,
            revision: 0,
            ..c
        })
        .collect()
}

/// Asserts two lists are equal, showing only the first difference.
fn assert_same<T: PartialEq + std::fmt::Debug>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    if let Some((got, want)) = got.iter().zip(want).find(|(g, w)| g != w) {
        panic!("{what}: got\n{got:?}\nwant\n{want:?}");
    }
}

/// A memory's units as the server serves them, their times in whole seconds as TMX keeps them.
async fn units_of(channel: Channel, memory: &str) -> Vec<proto::TranslationUnit> {
    let mut units = all_units(channel, memory).await;
    for unit in &mut units {
        if let Some(time) = &mut unit.create_time {
            time.nanos = 0;
        }
    }
    units
}

#[tokio::test]
async fn concepts_round_trip_through_import_export_and_import_on_another_server() {
    let source = house_server().await;
    let stored = concepts_of(source.channel().await, "house").await;
    assert_eq!(stored.len(), 3);
    // TBX v3 and 2008, CSV and TSV: each keeps everything a concept holds.
    for format in [
        FileFormat::Tbx,
        FileFormat::Tbx2008,
        FileFormat::Csv,
        FileFormat::Tsv,
    ] {
        let file = export(source.channel().await, export_house(format))
            .await
            .expect("export");
        let copy = TestServer::start().await;
        let outcome = import(
            copy.channel().await,
            ImportHeader {
                format: format as i32,
                ..header(collection("house"))
            },
            &file,
            1000,
        )
        .await;
        outcome.status.as_ref().expect("the export imports");
        assert_eq!(outcome.report().added, 3, "{format:?}");
        assert_eq!(
            outcome.report().warnings,
            0,
            "{format:?}: {:?}",
            outcome.problems
        );
        assert_same(
            &concepts_of(copy.channel().await, "house").await,
            &stored,
            &format!("{format:?}"),
        );
        let again = export(copy.channel().await, export_house(format))
            .await
            .expect("export");
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&file),
            "{format:?}: the copy exports the same file"
        );
    }
}

#[tokio::test]
async fn units_round_trip_through_import_export_and_import_on_another_server() {
    let source = TestServer::start().await;
    let mut h = header(Target::Memory("news".into()));
    h.file_name = "forum.tmx".into();
    for file in [TMX.as_bytes().to_vec(), numbered_tmx(2500)] {
        let outcome = import(source.channel().await, h.clone(), &file, 4096).await;
        outcome.status.as_ref().expect("valid TMX");
    }
    let stored = units_of(source.channel().await, "news").await;
    assert_eq!(stored.len(), 2502);
    let request = ExportRequest {
        format: FileFormat::Tmx as i32,
        memory: "news".into(),
        ..Default::default()
    };
    let file = export(source.channel().await, request.clone())
        .await
        .expect("export");
    let copy = TestServer::start().await;
    let outcome = import(copy.channel().await, h, &file, 64 * 1024).await;
    outcome.status.as_ref().expect("the export imports");
    assert_eq!(outcome.report().added, 2502);
    assert_same(
        &units_of(copy.channel().await, "news").await,
        &stored,
        "units",
    );
    let again = export(copy.channel().await, request).await.expect("export");
    assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&file)
    );
}

/// `text` in UTF-16 with a byte-order mark.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

#[tokio::test]
async fn utf16_glossaries_import_in_either_byte_order() {
    let server = TestServer::start().await;
    let rows = [
        ["id", "zh", "ru", "en", "status"],
        [
            "u16-sco",
            "上海合作组织",
            "Шанхайская организация сотрудничества",
            "Shanghai Cooperation Organisation",
            "preferred",
        ],
        [
            "u16-spirit",
            "上海精神",
            "«Шанхайский дух», ёмко",
            "Shanghai Spirit, as \"spirit\"",
            "admitted",
        ],
    ];
    for (delimiter, name) in [(",", "csv"), ("\t", "tsv")] {
        let text: String = rows
            .iter()
            .map(|row| {
                let cells: Vec<String> = row
                    .iter()
                    .map(|cell| {
                        if cell.contains([',', '"']) {
                            format!("\"{}\"", cell.replace('"', "\"\""))
                        } else {
                            (*cell).to_owned()
                        }
                    })
                    .collect();
                cells.join(delimiter) + "\r\n"
            })
            .collect();
        for big_endian in [false, true] {
            let file = utf16(&text, big_endian);
            let target = format!("{name}-{}", if big_endian { "be" } else { "le" });
            // Detected from the content alone: no name, no format.
            let outcome = import(
                server.channel().await,
                header(collection(&target)),
                &file,
                7,
            )
            .await;
            outcome
                .status
                .as_ref()
                .unwrap_or_else(|s| panic!("{target}: {s:?}"));
            let report = outcome.report();
            let format = if name == "csv" {
                FileFormat::Csv
            } else {
                FileFormat::Tsv
            };
            assert_eq!(report.format, format as i32, "{target}");
            assert_eq!(
                (report.accepted, report.warnings),
                (2, 0),
                "{target}: {report:?}"
            );
            let concepts = concepts_of(server.channel().await, &target).await;
            let spirit = concepts
                .iter()
                .find(|c| c.id.ends_with("u16-spirit"))
                .unwrap_or_else(|| panic!("{target}: {concepts:?}"));
            let ru = spirit.langs.iter().find(|s| s.lang == "ru").unwrap();
            assert_eq!(ru.terms[0].text, "«Шанхайский дух», ёмко", "{target}");
            assert_eq!(ru.terms[0].status, proto::TermStatus::Admitted as i32);
        }
    }
}

#[tokio::test]
async fn a_file_in_an_unsupported_encoding_is_refused_even_in_best_effort() {
    let server = TestServer::start().await;
    let before = fingerprint(server.channel().await).await;
    let tbx = without_bad_entry(TBX_ONE_BAD).replace("encoding=\"UTF-8\"", "encoding=\"UTF-32\"");
    for mode in [ImportMode::Strict, ImportMode::BestEffort] {
        let outcome = import(
            server.channel().await,
            ImportHeader {
                mode: mode as i32,
                ..header(collection("house"))
            },
            tbx.as_bytes(),
            64,
        )
        .await;
        let status = outcome.status.as_ref().expect_err("unreadable");
        assert_eq!(status.code(), Code::InvalidArgument, "{mode:?}: {status:?}");
        assert!(status.message().contains("UTF-32"), "{}", status.message());
        let report = outcome.report();
        assert!(!report.committed && report.entries_read == 0, "{report:?}");
    }
    assert_eq!(fingerprint(server.channel().await).await, before);
}

/// A reader's warning reaches the client at the element it is about (here a data category the
/// model has no field for), not at the start of its entry.
#[tokio::test]
async fn an_import_warning_names_the_line_and_column_of_its_element() {
    let server = TestServer::start().await;
    let tbx = r#"<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX" xml:lang="en"><text><body>
<termEntry id="house-register">
  <langSet xml:lang="en"><tig><term>Qingdao Media Lab</term>
    <termNote type="register">neutral</termNote></tig></langSet>
</termEntry>
</body></text></martif>
"#;
    let outcome = import(
        server.channel().await,
        header(collection("house")),
        tbx.as_bytes(),
        4096,
    )
    .await;
    outcome
        .status
        .as_ref()
        .expect("a warning does not refuse the file");
    let report = outcome.report();
    assert_eq!((report.added, report.warnings), (1, 1));
    let problem = &report.problems[0];
    assert_eq!(
        problem.severity,
        proto::entry_problem::Severity::Warning as i32
    );
    assert_eq!((problem.line, problem.column), (5, 5));
    assert_eq!(problem.entry_id, "house-register");
    assert_eq!(
        problem.reason,
        "data category \"register\" has no field; kept as a note"
    );
}
