//! Exports must be usable by the tools translators already have. These tests start the real
//! server (shipped glossary), export it through the Export RPC as TBX 2008 and v3, CSV and
//! TSV, import a memory through the Import RPC and export it as TMX 1.4b, then read the files
//! back with translate-toolkit (`tests/readback/read_back.py`, in the virtual environment
//! `.ci/run` makes under `target/readback-venv`) and check that it finds the entries that
//! were written.
//! The same environment's lxml validates the TBX v3 exports against the TBX-Basic RELAX NG
//! schema of the peer data, and the shipped glossary files against that schema and the
//! TBX-Basic and TBX core Schematron rules.
//!
//! What translate-toolkit (the version pinned in `tests/readback/requirements.txt`) reads:
//! - TBX 2008 (`martif`): every concept with every term of every language, in order.
//! - TBX v3 (`<tbx>`, `conceptEntry`): not at all; `tbxfile` insists on a `martif` root. If a
//!   later version reads it, the entries are checked like those of TBX 2008.
//! - TMX 1.4b: every unit with its segment in each language; inline codes (`<bpt>`, `<ph>`, …)
//!   come back as their native code inside the text, since it reads a `<seg>` as a string.
//! - CSV and TSV: every row with its id, but not the terms: `csvl10n` knows only its own
//!   column names (source, target, location, …), not language codes, so it takes the
//!   glossary's `source` column (where the concept comes from, in a concept's first row) for
//!   its source text and finds no target.
//!
//! The tests are ignored (counted in the summary with the reason) when the build found no
//! such environment, or for the schema check no peer data (`../shared/peerdata`): see
//! `build.rs`. `cargo test` never installs anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tolmach::formats::{write_tmx, TbxReader, TmxReader};
use tolmach::model::{Concept, Lang, Segment, TranslationUnit};
use tolmach::server::{self, RunningServer, ServerConfig, GLOSSARY_COLLECTION};
use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_event::Event, import_header::Target,
    import_request::Message, ExportRequest, FileFormat, ImportHeader, ImportRequest,
};
use tonic::transport::Channel;

const SCRIPT: &str = "tests/readback/read_back.py";
/// The TBX-Basic schema, under the peer data.
const SCHEMA: &str = "tbx/byutrg-py-tbxv3-tools/TBXcoreStructV03_TBX-Basic_integrated.rng";
/// The memory the units are imported into.
const MEMORY: &str = "readback";

/// Units with inline codes, added to the glossary's units in the TMX export.
const TAGGED_TMX: &str = r#"<tmx version="1.4"><header srclang="zh" datatype="html"
  segtype="sentence" o-tmf="x" adminlang="en" creationtool="x" creationtoolversion="1"/><body>
<tu tuid="tagged-bold">
  <tuv xml:lang="zh"><seg>按<bpt i="1">&lt;b&gt;</bpt>确定<ept i="1">&lt;/b&gt;</ept></seg></tuv>
  <tuv xml:lang="ru"><seg>Нажмите <bpt i="1">&lt;b&gt;</bpt>ОК<ept i="1">&lt;/b&gt;</ept></seg></tuv>
  <tuv xml:lang="en"><seg>Press <bpt i="1">&lt;b&gt;</bpt>OK<ept i="1">&lt;/b&gt;</ept></seg></tuv>
</tu>
<tu tuid="tagged-placeholder">
  <tuv xml:lang="zh"><seg>第<ph x="1">{0}</ph>届峰会 &amp; 论坛</seg></tuv>
  <tuv xml:lang="ru"><seg><ph x="1">{0}</ph>-й саммит &amp; форум</seg></tuv>
  <tuv xml:lang="en"><seg>The <ph x="1">{0}</ph>th summit &amp; forum</seg></tuv>
</tu>
<tu tuid="tagged-isolated">
  <tuv xml:lang="zh"><seg><it pos="begin" x="1">&lt;i&gt;</it>上合组织<hi type="em">宪章</hi></seg></tuv>
  <tuv xml:lang="ru"><seg><it pos="begin" x="1">&lt;i&gt;</it><hi type="em">Хартия</hi> ШОС</seg></tuv>
  <tuv xml:lang="en"><seg><it pos="begin" x="1">&lt;i&gt;</it>SCO <hi type="em">Charter</hi></seg></tuv>
</tu>
</body></tmx>"#;

/// What translate-toolkit reads for each segment of [`TAGGED_TMX`]: the native codes become
/// text, `<hi>` leaves its content.
const TAGGED_AS_READ: &[(&str, [&str; 3])] = &[
    (
        "tagged-bold",
        ["按<b>确定</b>", "Нажмите <b>ОК</b>", "Press <b>OK</b>"],
    ),
    (
        "tagged-placeholder",
        [
            "第{0}届峰会 & 论坛",
            "{0}-й саммит & форум",
            "The {0}th summit & forum",
        ],
    ),
    (
        "tagged-isolated",
        ["<i>上合组织宪章", "<i>Хартия ШОС", "<i>SCO Charter"],
    ),
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The concepts of every `glossary/*.tbx`, in file-name order.
fn glossary() -> Vec<Concept> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join("glossary"))
        .expect("glossary directory")
        .filter_map(|e| Some(e.ok()?.path()).filter(|p| p.extension() == Some("tbx".as_ref())))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            let bytes = std::fs::read(file).expect("glossary file");
            let entries: Vec<_> = TbxReader::new(bytes.as_slice()).collect();
            entries.into_iter().map(move |entry| match entry {
                Ok(entry) => entry.concept,
                Err(e) => panic!("{}: {e}", file.display()),
            })
        })
        .collect()
}

/// One unit per concept from its preferred zh, ru and en terms, then [`TAGGED_TMX`].
fn memory(concepts: &[Concept]) -> Vec<TranslationUnit> {
    let langs = [Lang::zh(), Lang::ru(), Lang::en()];
    let mut units: Vec<TranslationUnit> = concepts
        .iter()
        .map(|concept| TranslationUnit {
            id: concept.id.clone(),
            segments: langs
                .iter()
                .filter_map(|lang| {
                    let term = concept.section(lang)?.preferred_term()?;
                    Some(Segment {
                        lang: lang.clone(),
                        text: term.text.clone(),
                        tags: Vec::new(),
                    })
                })
                .collect(),
            origin: String::new(),
            created_ms: 1_717_243_200_000,
            metadata: vec![("x-subject".to_owned(), concept.subject_field.clone())],
        })
        .collect();
    for entry in TmxReader::new(TAGGED_TMX.as_bytes()) {
        let unit = entry.expect("tagged unit").unit;
        assert!(unit.segments.iter().all(|s| !s.tags.is_empty()));
        units.push(unit);
    }
    units
}

fn run(command: &mut Command) -> Result<Output, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    Err(format!(
        "{:?} {:?} failed ({}): {}",
        command.get_program(),
        command.get_args().collect::<Vec<_>>(),
        output.status,
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    ))
}

/// The read-back environment's Python (`build.rs` names the environment); a test made to
/// run without it (`--ignored`) fails saying where it looked.
fn python() -> PathBuf {
    let venv = Path::new(env!("TOLMACH_READBACK_VENV"));
    let python = venv.join(if cfg!(windows) {
        "Scripts/python.exe"
    } else {
        "bin/python"
    });
    assert!(
        python.exists(),
        "no read-back environment at {}: `.ci/run` makes it",
        venv.display()
    );
    python
}

/// The entries translate-toolkit read from one file, or its refusal.
fn entries<'a>(report: &'a Value, path: &Path) -> Result<&'a Vec<Value>, String> {
    let file = report["files"]
        .as_array()
        .and_then(|files| files.iter().find(|f| f["path"] == *path.to_string_lossy()))
        .unwrap_or_else(|| panic!("no result for {}", path.display()));
    match (file["entries"].as_array(), file["error"].as_str()) {
        (Some(entries), _) => Ok(entries),
        (None, Some(error)) => Err(error.to_owned()),
        _ => panic!("neither entries nor error: {file}"),
    }
}

/// The texts per language of an entry as the script reports them.
fn languages(entry: &Value) -> BTreeMap<String, Vec<String>> {
    serde_json::from_value(entry["languages"].clone())
        .unwrap_or_else(|e| panic!("languages of {entry}: {e}"))
}

/// The concepts by id, for files whose entries come in the store's order.
fn by_id(concepts: &[Concept]) -> BTreeMap<&str, &Concept> {
    concepts.iter().map(|c| (c.id.as_str(), c)).collect()
}

fn assert_tbx_entries(entries: &[Value], concepts: &[Concept], what: &str) {
    assert_eq!(entries.len(), concepts.len(), "{what}: number of entries");
    let concepts = by_id(concepts);
    for entry in entries {
        let id = entry["id"].as_str().unwrap_or_default();
        let concept = concepts
            .get(id)
            .unwrap_or_else(|| panic!("{what}: unknown entry {entry}"));
        let written: BTreeMap<String, Vec<String>> = concept
            .langs
            .iter()
            .map(|s| {
                let terms = s.terms.iter().map(|t| t.text.clone()).collect();
                (s.lang.as_str().to_owned(), terms)
            })
            .collect();
        assert_eq!(languages(entry), written, "{what}: terms of {id}");
    }
}

/// A server with the shipped glossary on a fresh data directory (inside `dir`).
async fn start_server(dir: &Path) -> (RunningServer, Channel) {
    let server = server::start(ServerConfig::loopback(dir.join("db")))
        .await
        .expect("server starts");
    let channel = Channel::from_shared(format!("http://{}", server.addr))
        .expect("valid uri")
        .connect()
        .await
        .expect("server reachable");
    (server, channel)
}

/// Runs the Export RPC and writes the file to `path`.
async fn export(channel: &Channel, request: ExportRequest, path: &Path) {
    let mut chunks = ExchangeClient::new(channel.clone())
        .export(request)
        .await
        .unwrap_or_else(|s| panic!("{}: {s:?}", path.display()))
        .into_inner();
    let mut file = Vec::new();
    while let Some(chunk) = chunks.message().await.expect("export chunk") {
        file.extend(chunk.data);
    }
    std::fs::write(path, file).expect("export file");
}

/// Runs the Import RPC in strict mode; panics unless everything was added.
async fn import(channel: &Channel, target: Target, file: Vec<u8>, entries: usize) {
    let header = ImportHeader {
        target: Some(target),
        ..Default::default()
    };
    let mut messages = vec![ImportRequest {
        message: Some(Message::Header(header)),
    }];
    messages.extend(file.chunks(64 * 1024).map(|c| ImportRequest {
        message: Some(Message::Chunk(c.to_vec())),
    }));
    let mut events = ExchangeClient::new(channel.clone())
        .import(tokio_stream::iter(messages))
        .await
        .expect("import starts")
        .into_inner();
    let mut added = 0;
    while let Some(event) = events.message().await.expect("import succeeds") {
        if let Some(Event::Report(report)) = event.event {
            added = report.added;
        }
    }
    assert_eq!(added, entries as u64, "entries imported");
}

fn collection_export(format: FileFormat, collection: &str) -> ExportRequest {
    ExportRequest {
        format: format as i32,
        collections: vec![collection.into()],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(tolmach_readback),
    ignore = "needs the read-back environment (`.ci/run` makes it)"
)]
async fn exports_read_back_by_translate_toolkit_with_the_same_entries() {
    let concepts = glossary();
    assert!(concepts.len() >= 300, "only {} concepts", concepts.len());
    let units = memory(&concepts);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name);
    let (server, channel) = start_server(dir.path()).await;
    let mut tmx = Vec::new();
    write_tmx(&mut tmx, units.iter(), "zh").expect("TMX");
    import(&channel, Target::Memory(MEMORY.into()), tmx, units.len()).await;
    for (name, format) in [
        ("v2.tbx", FileFormat::Tbx2008),
        ("v3.tbx", FileFormat::Tbx),
        ("glossary.csv", FileFormat::Csv),
        ("glossary.tsv", FileFormat::Tsv),
    ] {
        export(
            &channel,
            collection_export(format, GLOSSARY_COLLECTION),
            &path(name),
        )
        .await;
    }
    let memory_export = ExportRequest {
        format: FileFormat::Tmx as i32,
        memory: MEMORY.into(),
        srclang: "zh".into(),
        ..Default::default()
    };
    export(&channel, memory_export, &path("memory.tmx")).await;
    server.shutdown().await.expect("clean shutdown");

    let names = [
        "v2.tbx",
        "v3.tbx",
        "memory.tmx",
        "glossary.csv",
        "glossary.tsv",
    ];
    let report = read_back(names.map(|n| path(n).into_os_string()).to_vec());

    let v2 = entries(&report, &path("v2.tbx")).unwrap_or_else(|e| panic!("TBX 2008: {e}"));
    assert_tbx_entries(v2, &concepts, "TBX 2008");
    match entries(&report, &path("v3.tbx")) {
        Ok(v3) => assert_tbx_entries(v3, &concepts, "TBX v3"),
        Err(refusal) => eprintln!("readback: translate-toolkit does not read TBX v3: {refusal}"),
    }

    let tmx = entries(&report, &path("memory.tmx")).unwrap_or_else(|e| panic!("TMX: {e}"));
    assert_eq!(tmx.len(), units.len(), "TMX: number of units");
    let tagged: BTreeMap<&str, &[&str; 3]> =
        TAGGED_AS_READ.iter().map(|(id, t)| (*id, t)).collect();
    let units: BTreeMap<&str, &TranslationUnit> =
        units.iter().map(|u| (u.id.as_str(), u)).collect();
    for entry in tmx {
        let id = entry["id"].as_str().unwrap_or_default();
        let unit = units
            .get(id)
            .unwrap_or_else(|| panic!("TMX: unknown unit {entry}"));
        let written: BTreeMap<String, Vec<String>> = unit
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let text = tagged.get(id).map_or(&*s.text, |t| t[i]);
                (s.lang.as_str().to_owned(), vec![text.to_owned()])
            })
            .collect();
        assert_eq!(languages(entry), written, "TMX: unit {id}");
        assert_eq!(entry["source"], written["zh"][0], "TMX: source of {id}");
    }

    let ids: BTreeMap<&str, &Concept> = by_id(&concepts);
    for name in ["glossary.csv", "glossary.tsv"] {
        let rows = entries(&report, &path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut seen = std::collections::BTreeSet::new();
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default();
            let concept = ids
                .get(id)
                .unwrap_or_else(|| panic!("{name}: unknown row {row}"));
            // The concept's fields are in its first row only.
            let source = if seen.insert(id) {
                concept.source.as_str()
            } else {
                ""
            };
            assert_eq!(
                (&row["source"], &row["target"]),
                (&source.into(), &"".into()),
                "{name}: row {id}"
            );
        }
        assert_eq!(
            seen.len(),
            concepts.len(),
            "{name}: every concept has a row"
        );
    }
}

/// A TBX-Basic file whose one concept has every field the writer maps: term types, statuses
/// (forbidden among them), part of speech, a context with its source, notes at each level, a
/// definition, a subject field and a cross reference.
const EVERY_FIELD_TBX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<tbxHeader><fileDesc><sourceDesc><p>every field</p></sourceDesc></fileDesc></tbxHeader>
<text><body>
<conceptEntry id="254003">
  <descrip type="subjectField">international organisations</descrip>
  <note>Founded in 2001 &amp; based in Beijing.</note>
  <ref type="crossReference" target="sco-secretariat">SCO Secretariat</ref>
  <langSec xml:lang="en">
    <descripGrp><descrip type="definition">An intergovernmental organisation.</descrip>
      <admin type="source">sco.int</admin></descripGrp>
    <note>English usage.</note>
    <termSec>
      <term>Shanghai Cooperation Organisation</term>
      <termNote type="partOfSpeech">noun</termNote>
      <termNote type="termType">fullForm</termNote>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
      <descripGrp><descrip type="context">The SCO summit opened.</descrip>
        <admin type="source">SCO Charter</admin></descripGrp>
    </termSec>
    <termSec><term>SCO</term><termNote type="termType">acronym</termNote>
      <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></termSec>
    <termSec><term>Shanghai Pact</term>
      <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote>
      <note>forbidden</note><note>misleading</note></termSec>
  </langSec>
  <langSec xml:lang="zh">
    <termSec><term>上海合作组织</term>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec>
    <termSec><term>上合组织</term>
      <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></termSec>
  </langSec>
</conceptEntry>
</body></text>
</tbx>
"#;

/// Runs `read_back.py` with `args` in the virtual environment and parses what it prints.
fn read_back(args: Vec<std::ffi::OsString>) -> Value {
    let output = run(Command::new(python())
        .arg(manifest_dir().join(SCRIPT))
        .args(args))
    .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(tolmach_readback, tolmach_peerdata)),
    ignore = "needs the read-back environment (`.ci/run` makes it) and the peer data"
)]
async fn tbx_v3_exports_validate_against_the_tbx_basic_relax_ng_schema() {
    let (peerdata, schema) = tbx_basic_schema();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name);
    let (server, channel) = start_server(dir.path()).await;
    // The shipped glossary; a concept with every field; a peer file in the DCT style.
    let rich = EVERY_FIELD_TBX.as_bytes().to_vec();
    import(&channel, Target::Collection("rich".into()), rich, 1).await;
    let peer = peerdata
        .join("tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCT/Example_Astronomy_DCT_VALID.tbx");
    let peer = std::fs::read(&peer).unwrap_or_else(|e| panic!("{}: {e}", peer.display()));
    import(&channel, Target::Collection("astronomy".into()), peer, 45).await;
    let names = [GLOSSARY_COLLECTION, "rich", "astronomy"];
    for name in names {
        let request = collection_export(FileFormat::Tbx, name);
        export(&channel, request, &path(&format!("{name}.tbx"))).await;
    }
    server.shutdown().await.expect("clean shutdown");

    let mut args = vec!["--relaxng".into(), schema.into_os_string()];
    args.extend(names.map(|n| path(&format!("{n}.tbx")).into_os_string()));
    let report = read_back(args);
    for name in names {
        let file = path(&format!("{name}.tbx"));
        let result = report["files"]
            .as_array()
            .and_then(|files| files.iter().find(|f| f["path"] == *file.to_string_lossy()))
            .unwrap_or_else(|| panic!("no result for {name}"));
        assert_eq!(
            result["valid"], true,
            "{name}: the export does not validate: {}",
            result["errors"]
        );
        let text = std::fs::read_to_string(&file).expect("export");
        assert!(text.contains("<conceptEntry"), "{name}: no entries");
        eprintln!("{name}: valid TBX-Basic");
    }
}

/// The peer data folder and the TBX-Basic RELAX NG schema in it.
fn tbx_basic_schema() -> (PathBuf, PathBuf) {
    let peerdata = std::env::var_os("TOLMACH_PEERDATA")
        .map_or_else(|| manifest_dir().join("../shared/peerdata"), PathBuf::from);
    let schema = peerdata.join(SCHEMA);
    assert!(
        schema.exists(),
        "the TBX-Basic schema is not at {} (peer data absent)",
        schema.display()
    );
    (peerdata, schema)
}

/// The shipped glossary's files and the example house style, in file-name order.
fn shipped_tbx_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join("glossary"))
        .expect("glossary directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tbx"))
        .collect();
    files.sort();
    files.push(manifest_dir().join("examples/house-style.tbx"));
    files
}

/// The Schematron schemas of the peer data the glossary files must pass: the TBX-Basic DCA
/// rules as the TBX-Basic dialect publishes them, the copy BYU's TBX v3 tools ship (an
/// earlier wording of the same rules), and the core rules every TBX v3 dialect shares.
///
/// `read_back.py --schematron` runs them through lxml's XSLT 1 pipeline, rewriting their
/// three XPath 2 constructs to exact XPath 1 equivalents (its `XPATH2_REWRITES`). No rule is
/// skipped: none contradicts TBX v3 as the RELAX NG schema defines it. Two are looser than
/// they look, which the glossary cannot exploit: BYU's crossReference rule tests
/// `contains(.,Grp)` (an unquoted `Grp`, a child element that never exists, so any parent
/// passes where the TBX-Basic text tests `local-name()`), and in both DCA copies the second
/// `transactionType` rule never fires, since it shares its context with the first of its
/// pattern; the glossary has no cross references or transactions.
const SCHEMATRONS: [&str; 3] = [
    "tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCA/TBX-Basic_DCA.sch",
    "tbx/byutrg-py-tbxv3-tools/TBX-Basic_DCA.sch",
    "tbx/byutrg-py-tbxv3-tools/2020-10-16-TBXcoreGenericSchematron.sch",
];

/// Every failed assertion of the Schematron schema `sch` (under the peer data) in `files`,
/// one line each: file, line, location, rule and message.
fn schematron_failures(peerdata: &Path, sch: &str, files: &[PathBuf]) -> Vec<String> {
    let schema = peerdata.join(sch);
    assert!(schema.exists(), "no Schematron at {}", schema.display());
    let mut args = vec!["--schematron".into(), schema.into_os_string()];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    let report = read_back(args);
    let results = report["files"].as_array().expect("one result per file");
    assert_eq!(results.len(), files.len(), "{sch}: one result per file");
    results
        .iter()
        .flat_map(|result| {
            let failures = result["failures"].as_array().cloned().unwrap_or_default();
            failures.into_iter().map(move |f| {
                format!(
                    "{}:{}: {sch}: {} (rule {}): {}",
                    result["path"].as_str().unwrap_or_default(),
                    f["line"],
                    f["location"].as_str().unwrap_or_default(),
                    f["rule"],
                    f["message"].as_str().unwrap_or_default()
                )
            })
        })
        .collect()
}

/// The shipped glossary's source files themselves, not only their export, are valid TBX-Basic
/// by both of its schemas, the RELAX NG grammar and the Schematron rules (data category values,
/// the levels each may appear at, references): an editor's hand edit that breaks either is
/// caught here, and every failure is printed with its file, line and rule. Planted errors are
/// checked first, so that a clean result means the rules ran.
#[test]
#[cfg_attr(
    not(all(tolmach_readback, tolmach_peerdata)),
    ignore = "needs the read-back environment (`.ci/run` makes it) and the peer data"
)]
fn the_glossary_files_validate_against_the_tbx_basic_relax_ng_schema_and_schematron() {
    let (peerdata, schema) = tbx_basic_schema();
    let files = shipped_tbx_files();
    let mut args = vec!["--relaxng".into(), schema.into_os_string()];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    let report = read_back(args);
    let results = report["files"].as_array().expect("one result per file");
    assert_eq!(results.len(), files.len());
    let mut problems: Vec<String> = results
        .iter()
        .filter(|result| result["valid"] != true)
        .map(|result| format!("{}: RELAX NG: {}", result["path"], result["errors"]))
        .collect();
    assert_schematron_reports_planted_errors(&peerdata);
    for sch in SCHEMATRONS {
        problems.extend(schematron_failures(&peerdata, sch, &files));
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    assert!(
        problems.is_empty(),
        "{} failures (printed above)",
        problems.len()
    );
}

/// A concept with three errors only the Schematron rules see: a `partOfSpeech` outside the
/// TBX-Basic list, a subject field in a language section, and a reference to no concept.
const PLANTED_ERRORS_TBX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><tbxHeader>
<fileDesc><sourceDesc><p>planted errors</p></sourceDesc></fileDesc></tbxHeader><text><body>
<conceptEntry id="sco">
  <descrip type="subjectField">SCO institutions</descrip>
  <langSec xml:lang="en">
    <descrip type="subjectField">SCO institutions</descrip>
    <termSec>
      <term>Shanghai Cooperation Organisation</term>
      <termNote type="partOfSpeech">properNoun</termNote>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
      <ref target="no-such-concept">SCO Secretariat</ref>
    </termSec>
  </langSec>
</conceptEntry>
</body></text>
</tbx>
"#;

/// Panics unless the Schematron check reports [`PLANTED_ERRORS_TBX`]'s errors, and only
/// those, on their lines: the rewritten rules still fire, the one that needs the XPath 2
/// `matches` among them, so a clean glossary is not a vacuous result.
fn assert_schematron_reports_planted_errors(peerdata: &Path) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let planted = dir.path().join("planted.tbx");
    std::fs::write(&planted, PLANTED_ERRORS_TBX).expect("planted file");
    let failures = schematron_failures(peerdata, SCHEMATRONS[0], &[planted]);
    for failure in &failures {
        eprintln!("{failure}");
    }
    for (line, rule) in [
        (10, "tbx:termNote[@type='partOfSpeech']"),
        (7, "tbx:descrip[@type='subjectField']"),
        (12, "*[@target]"),
    ] {
        assert!(
            failures
                .iter()
                .any(|f| f.contains(&format!(":{line}: "))
                    && f.contains(&format!("(rule \"{rule}\")"))),
            "no failure of {rule} on line {line}"
        );
    }
    assert_eq!(failures.len(), 3, "only the planted errors");
}
