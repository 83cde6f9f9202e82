//! Exchange against files written by other projects (`../shared/peerdata`, described in its
//! README): every valid TBX, TMX and glossary file imports in strict mode with the entries it
//! has, and every bad file is refused with its error named where it is. (The TBX-Basic RELAX
//! NG check of exports lives in `tests/readback.rs`, which has a Python environment with lxml.)
//!
//! The files are not part of the repository: the tests look for them at `$TOLMACH_PEERDATA`,
//! else `<crate root>/../shared/peerdata`, and are ignored (counted in the summary with the
//! reason) when the build found no peer data there (`build.rs`).
//! Expected counts come from the files (entry start tags, CSV records), never from the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tolmach::service::proto::{entry_problem::Severity, import_header::Target, ImportMode};
use tonic::transport::Channel;
use tonic::Code;

use crate::exchange::{collection, header, import, Outcome};
use crate::util::TestServer;

/// Imports running at once against one server.
const PARALLEL_IMPORTS: usize = 8;
/// Upload chunk size: several chunks for the larger files.
const CHUNK: usize = 64 * 1024;

/// The peer data directory; a test made to run without it (`--ignored`) fails saying where
/// it looked.
fn peerdata() -> PathBuf {
    let dir = std::env::var_os("TOLMACH_PEERDATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peerdata"),
        PathBuf::from,
    );
    assert!(
        dir.is_dir(),
        "peer data not found at {} (set TOLMACH_PEERDATA to its location)",
        dir.display()
    );
    dir
}

/// Files that are not well-formed or not TBX/TMX at all, and files whose entries break a
/// rule of the service: refused in strict mode; in best effort, the `sound` entries are
/// imported and the error is reported at `at` (line, column).
struct Bad {
    rel: &'static str,
    /// A distinctive word of the error the file's comment or validator log names.
    needle: &'static str,
    at: (u64, u64),
    sound: u64,
    /// Further errors the comment or log names, each reported at its place in best effort.
    also: &'static [(&'static str, (u64, u64))],
}

const BAD: &[Bad] = &[
    // "Expected error: there is an end-tag missing": `<term>` on line 41 closed by
    // `</termSec>`.
    Bad {
        rel: "tbx/ltac-tbx-test-files/poorly_formed_xml.tbx",
        needle: "`</term>` is missing",
        at: (41, 7),
        sound: 1,
        also: &[],
    },
    // "Bad2 Missing closing tag line 16": `<transac>` on line 16 closed by `</transacGrp>` on
    // line 19, which the message names too.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad2.tbx",
        needle: "`</transac>` is missing before `</transacGrp>` at line 19",
        at: (16, 6),
        sound: 0,
        also: &[],
    },
    // `<date>` on line 40 closed by `</transacGrp>`.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_notwellformed.tbx",
        needle: "`</date>` is missing",
        at: (40, 6),
        sound: 0,
        also: &[],
    },
    // `<tbxHeader>` before the root element.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_ill-formedheader.tbx",
        needle: "<tbxHeader>",
        at: (9, 1),
        sound: 0,
        also: &[],
    },
    // An XML declaration inside `<body>`.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/missionFrench.tbx",
        needle: "XML declaration",
        at: (17, 15),
        sound: 0,
        also: &[],
    },
    // Its comments: "A termNote cannot occur after a descrip" (entry c1; RNG log, line 58:
    // "Element termSec has extra content: descripGrp") and "A term cannot occur at the langSec
    // level" (entry c2).
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelementorder.tbx",
        needle: "<termNote> after <descripGrp> (line 58)",
        at: (64, 7),
        sound: 0,
        also: &[("<term> outside a term section", (77, 6))],
    },
    // "Switched body and text tags": `<body>` directly in `<tbx>`, so no entry is in place.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad3.tbx",
        needle: "<body> directly in <tbx>",
        at: (12, 2),
        sound: 0,
        also: &[],
    },
    // RNG log: "Element tbx has wrong namespace".
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badiso.tbx",
        needle: "urn:iso:std:iso:30042:ed-36",
        at: (11, 1),
        sound: 0,
        also: &[],
    },
    // Files that declare TBX-Basic, TBX-Min or TBX-Core and break the dialect: the entry is
    // rejected at the element, the others are sound.
    // A `<conceptEntry>` start and end tag removed; RNG log: "Did not expect element
    // transacGrp there", line 126. The orphaned terms are named, not dropped silently.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad4.tbx",
        needle: "outside any entry",
        at: (126, 5),
        sound: 44,
        also: &[],
    },
    // "Line 16 changed transactionType to doesThisWork".
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad5.tbx",
        needle: "\"doesThisWork\"",
        at: (16, 6),
        sound: 44,
        also: &[],
    },
    // Its comment: "<transac> of @type other than transactionType" (entry c1) and
    // "<transacNote> of @type other than responsibility" (entry c2). It also names "source at
    // concept level, not nested in a descripGrp" (line 24), which is no error: the TBX-Basic
    // dialect's own Schematron (`ltac-tbx-basic-min-dialect/TBX-Basic/DCA/TBX-Basic_DCA.sch`,
    // rule `module.basic.admin`) and byutrg's both allow `/source/` directly at concept,
    // language and term level, and the integrated RELAX NG schema has `admin` in the
    // concept's auxiliary information. Refusing it would refuse files the dialect accepts.
    Bad {
        rel: "tbx/ltac-tbx-test-files/basic_bad.tbx",
        needle: "\"theWrongType\"",
        at: (26, 6),
        sound: 43,
        also: &[("\"wrongType\"", (140, 6))],
    },
    // "<admin> \"source\" not allowed" in TBX-Min.
    Bad {
        rel: "tbx/ltac-tbx-test-files/min_bad.tbx",
        needle: "\"source\" is not part of TBX-Min",
        at: (21, 5),
        sound: 43,
        also: &[],
    },
    // Its comment: "<tbxHeader> descendants' text must be wrapped in <p>" (line 16; RNG:
    // "Did not expect text in element sourceDesc content"), "<admin> may not be direct child
    // of <text>" (line 21), "<admin> must have some type attribute" (line 27).
    Bad {
        rel: "tbx/ltac-tbx-test-files/core_structure_bad.tbx",
        needle: "text directly in <sourceDesc>",
        at: (16, 5),
        sound: 44,
        also: &[
            ("<admin> directly in <text>", (21, 3)),
            ("<admin> without a type", (27, 7)),
        ],
    },
    // Its comments: partOfSpeech "preposition" and transactionType "deletion" are not
    // TBX-Basic values.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelementcontent.tbx",
        needle: "\"preposition\" is not a value of partOfSpeech",
        at: (52, 7),
        sound: 0,
        also: &[],
    },
    // RNG log, line 99: "Did not expect element comment there".
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelement.tbx",
        needle: "<comment> is not an element of TBX",
        at: (99, 7),
        sound: 0,
        also: &[],
    },
    // RNG log, line 84: "Element termNote failed to validate attributes" (type `pos`).
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badattribute.tbx",
        needle: "\"pos\"",
        at: (84, 7),
        sound: 0,
        also: &[],
    },
    // A `<termNote>` directly in `<langSec>`.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/marylandinvalid.tbx",
        needle: "<termNote> in a language section",
        at: (23, 5),
        sound: 0,
        also: &[],
    },
    // RNG log: "Element ref failed to validate attributes": `relatedConcept` is no TBX-Basic
    // type.
    Bad {
        rel: "tbx/byutrg-py-tbxv3-tools/TBX-basic-sample.tbx",
        needle: "\"relatedConcept\"",
        at: (150, 5),
        sound: 3,
        also: &[],
    },
    // OmegaT's invalid TMX: `<ept>` before its `<bpt>`.
    Bad {
        rel: "tmx/omegat-tests/test/resources/data/tmx/invalid.tmx",
        needle: "<ept i=\"1\">",
        at: (12, 6),
        sound: 0,
        also: &[],
    },
    // OmegaT's invalid TMX 1.1: one `<tuv>` names its language with `xml:lang` where the
    // others use `lang`.
    Bad {
        rel: "tmx/omegat-tests/test/resources/data/tmx/test-omegat-invalid.tmx",
        needle: "xml:lang",
        at: (26, 7),
        sound: 3,
        also: &[],
    },
    // Well-formed files with entries the store does not take: a unit with one language
    // (OmegaT's "missing source", translate-toolkit's one-language unit).
    Bad {
        rel: "tmx/omegat-tests/test/resources/data/tmx/test-missingSource.tmx",
        needle: "at least two languages",
        at: (23, 5),
        sound: 3,
        also: &[],
    },
    Bad {
        rel: "tbx/translate-toolkit-inline/test_tmx__test_context__1.tmx",
        needle: "at least two languages",
        at: (7, 17),
        sound: 0,
        also: &[],
    },
];

/// Schema- or dialect-invalid TBX that the reader reads anyway, keeping what it cannot place
/// as notes with a warning. The error must still be named, at its line: in the refusal if the
/// file is ever refused, else in a warning of the committed import. Empty since the reader
/// enforces the dialect a file declares; kept for files whose error only a warning can name.
const NAMED_IN_A_WARNING: &[(&str, &str, u64)] = &[];

/// Bad TBX files left out: their error is one the reader does not check, so they import
/// like valid files and nothing names the error.
const NOT_DETECTED: &[(&str, &str)] = &[
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badxmltag.tbx",
        "a wrong attribute in the <?xml-model?> processing instruction, which is not read: it \
         only points a validator at a schema",
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badtargetattribute_value.tbx",
        "<xref> targets that are not http(s) URIs (`C://Path/to/wikipedia`, `wikipedia.org`): \
         the valid peer file newfile.tbx has the same `wikipedia.org` target, so the TBX-Basic \
         schematron's URI rule is not enforced",
    ),
];

/// Peer files that are not imported, and why. The walks below do not pick up the other
/// OmegaT glossaries (`.tab`, `.txt`, headerless too) nor compressed TMX (`.tmx.gz`,
/// `.tmx.zip`), which is not an exchange format of the service.
const LEFT_OUT: &[(&str, &str)] = &[
    (
        "glossary/omegat-glossaries/test.csv",
        "headerless OmegaT glossary: its columns are a reader option (`CsvOptions::columns`) \
         the Exchange header does not expose",
    ),
    (
        "tbx/okapi-lib-terminology/test01.csv",
        "headerless Okapi glossary (see above)",
    ),
    (
        "tbx/okapi-lib-terminology/test01.tsv",
        "headerless Okapi glossary (see above)",
    ),
    (
        "tbx/okapi-lib-terminology/test02_utf16be.tsv",
        "headerless Okapi glossary (see above)",
    ),
];

/// Which file names a directory walk keeps.
type FileKind = fn(&str) -> bool;

fn is_tbx_file(name: &str) -> bool {
    name.ends_with(".tbx") || name == "poychang_Lookup-Microsoft-Terms_data_sample.xml"
}

fn is_tmx_file(name: &str) -> bool {
    name.ends_with(".tmx")
        || name == "sample_tmx.xml"
        || name == "sampleTMX2.txt"
        || name.ends_with(".tmx.gold")
}

fn is_glossary_file(name: &str) -> bool {
    name.ends_with(".csv") || name.ends_with(".tsv")
}

/// The paths, relative to `root`, of the files under `root/dir` whose name `keep`s.
fn files(root: &Path, dir: &str, keep: FileKind) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, keep: FileKind, out: &mut Vec<String>) {
        for path in std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
        {
            if path.is_dir() {
                walk(root, &path, keep, out);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &root.join(dir), keep, &mut out);
    out.sort();
    out
}

/// The file as text for counting its markup, which is ASCII in every encoding the files use:
/// UTF-16 (it starts with a byte-order mark) loses its zero bytes, which leaves ASCII as it
/// is; anything else is read as UTF-8, lossily.
fn decode(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let ascii: Vec<u8> = bytes.iter().copied().filter(|b| *b != 0).collect();
        String::from_utf8_lossy(&ascii).into_owned()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// Occurrences of the start tag `<name` (followed by white space, `>` or `/`).
fn count_start_tags(text: &str, name: &str) -> u64 {
    let needle = format!("<{name}");
    text.match_indices(&needle)
        .filter(|(at, _)| {
            matches!(
                text.as_bytes().get(at + needle.len()),
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
            )
        })
        .count() as u64
}

/// Concepts a TBX file makes: its distinct entry ids, plus one per entry without an id.
fn distinct_tbx_entries(text: &str) -> u64 {
    let mut ids = std::collections::HashSet::new();
    let mut without_id = 0;
    for name in ["conceptEntry", "termEntry"] {
        let needle = format!("<{name}");
        for (at, _) in text.match_indices(&needle) {
            let rest = &text[at + needle.len()..];
            if !rest.starts_with([' ', '\t', '\r', '\n', '>', '/']) {
                continue;
            }
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            let id = tag
                .split_once(" id=\"")
                .and_then(|(_, value)| value.split_once('"'))
                .map(|(id, _)| id);
            match id {
                Some(id) => {
                    ids.insert(id);
                }
                None => without_id += 1,
            }
        }
    }
    ids.len() as u64 + without_id
}

/// Data records of an RFC 4180 file: records after the header, blank lines not counted.
fn csv_records(text: &str) -> u64 {
    let mut records: u64 = 0;
    let mut quoted = false;
    let mut blank = true;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                blank = false;
            }
            '\n' if !quoted => {
                if !blank {
                    records += 1;
                }
                blank = true;
            }
            c if c.is_whitespace() || c == '\u{feff}' => {}
            _ => blank = false,
        }
    }
    if !blank {
        records += 1;
    }
    records.saturating_sub(1)
}

/// An SDL MultiTerm placeholder: an empty `<term/>`, or a `<term>` holding only white space.
fn has_empty_term(text: &str) -> bool {
    text.match_indices("<term").any(|(at, tag)| {
        let rest = &text[at + tag.len()..];
        if !rest.starts_with([' ', '>', '/']) {
            return false;
        }
        let Some(end) = rest.find('>') else {
            return false;
        };
        rest[..end].ends_with('/') || rest[end + 1..].trim_start().starts_with("</term>")
    })
}

/// One peer file to import.
struct Upload {
    rel: String,
    bytes: Vec<u8>,
    target: Target,
    mode: ImportMode,
}

impl Upload {
    /// `rel` under `root`, into a collection or memory named after `slot`; TMX goes to a
    /// memory, everything else to a collection.
    fn new(root: &Path, rel: &str, slot: usize, mode: ImportMode) -> Upload {
        let bytes = std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let target = if is_tmx_file(name) {
            Target::Memory(format!("peer-{slot}"))
        } else {
            collection(&format!("peer-{slot}"))
        };
        Upload {
            rel: rel.to_owned(),
            bytes,
            target,
            mode,
        }
    }

    /// Strict or best effort, format detected from the content and the file name.
    async fn send(self, channel: Channel) -> (Upload, Outcome) {
        let mut h = header(self.target.clone());
        h.file_name = Path::new(&self.rel)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        h.mode = self.mode as i32;
        h.skip_empty_terms = has_empty_term(&decode(&self.bytes));
        let outcome = import(channel, h, &self.bytes, CHUNK).await;
        (self, outcome)
    }
}

/// Sends every upload, a few at a time, and returns each with its outcome, in order.
async fn send_all(channel: &Channel, uploads: Vec<Upload>) -> Vec<(Upload, Outcome)> {
    let permits = Arc::new(Semaphore::new(PARALLEL_IMPORTS));
    let mut calls = JoinSet::new();
    for (i, upload) in uploads.into_iter().enumerate() {
        let permits = permits.clone();
        let channel = channel.clone();
        calls.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            (i, upload.send(channel).await)
        });
    }
    let mut done = calls.join_all().await;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, pair)| pair).collect()
}

fn status_text(outcome: &Outcome) -> String {
    match &outcome.status {
        Ok(()) => "ok".to_owned(),
        Err(status) => format!("{:?}: {}", status.code(), status.message()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
async fn every_valid_peer_file_imports_strictly_with_the_entries_it_has() {
    let root = peerdata();
    let excluded = |rel: &str| {
        BAD.iter().any(|b| b.rel == rel)
            || NAMED_IN_A_WARNING.iter().any(|(r, _, _)| *r == rel)
            || NOT_DETECTED.iter().any(|(r, _)| *r == rel)
            || LEFT_OUT.iter().any(|(r, _)| *r == rel)
    };
    for (rel, why) in LEFT_OUT {
        eprintln!("{rel}: left out: {why}");
    }
    let mut expected = Vec::new();
    let mut uploads = Vec::new();
    let kinds: [(&str, FileKind); 5] = [
        ("tbx", is_tbx_file),
        ("glossary", is_tbx_file),
        ("tmx", is_tmx_file),
        ("tbx", is_tmx_file),
        ("glossary", is_glossary_file),
    ];
    for (dir, keep) in kinds {
        for rel in files(&root, dir, keep) {
            if excluded(&rel) {
                continue;
            }
            let name = rel.rsplit('/').next().unwrap();
            let text = decode(&std::fs::read(root.join(&rel)).unwrap());
            // Entries, and the concepts they add to a fresh collection when that is known from
            // the file alone (entries sharing an id merge).
            expected.push(if is_tmx_file(name) {
                (count_start_tags(&text, "tu"), None)
            } else if is_tbx_file(name) {
                (
                    count_start_tags(&text, "conceptEntry") + count_start_tags(&text, "termEntry"),
                    Some(distinct_tbx_entries(&text)),
                )
            } else {
                (csv_records(&text), None)
            });
            uploads.push(Upload::new(&root, &rel, uploads.len(), ImportMode::Strict));
        }
    }
    let server = TestServer::start().await;
    let results = send_all(&server.channel().await, uploads).await;
    let mut failures = Vec::new();
    let mut total = 0;
    for ((upload, outcome), (entries, concepts)) in results.iter().zip(&expected) {
        let rel = &upload.rel;
        let Some(report) = outcome.report.as_ref() else {
            failures.push(format!("{rel}: no report, {}", status_text(outcome)));
            continue;
        };
        let resolved = report.added + report.updated + report.unchanged;
        eprintln!(
            "{rel}: {entries} entries in the file; read {}, accepted {}, added {}, {}",
            report.entries_read,
            report.accepted,
            report.added,
            status_text(outcome)
        );
        let counts = (
            report.committed,
            report.entries_read,
            report.accepted,
            report.rejected,
            resolved,
        );
        if outcome.status.is_err() || counts != (true, *entries, *entries, 0, *entries) {
            failures.push(format!(
                "{rel}: {entries} entries; (committed, read, accepted, rejected, resolved) = \
                 {counts:?}, {}",
                status_text(outcome)
            ));
        }
        if concepts.is_some_and(|c| c != report.added) {
            failures.push(format!(
                "{rel}: {concepts:?} concepts in the file, {} added",
                report.added
            ));
        }
        total += entries;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every kind of file was there: v3 DCA/DCT, TBX-Min, TBX 2008 tig/ntig, IATE, MultiTerm,
    // the Microsoft sample, TMX 1.4b and 1.1, tico19, OmegaT/Okapi TMX, the glossaries.
    for kind in [
        "tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCA/Example_Astronomy_DCA_VALID.tbx",
        "tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCT/Example_Astronomy_DCT_VALID.tbx",
        "tbx/ltac-tbx-basic-min-dialect/TBX-Min/DCT/Example_Astronomy_DCT_VALID.tbx",
        "tbx/byutrg-p5-tbx-min/min.tbx",
        "tbx/okapi-lib-terminology/sdl_tbx.tbx",
        "tbx/okapi-lib-terminology/ibm_tbx.tbx",
        // In `BadFiles/` only because its validator logs check it against the TBX v3 schemas
        // ("Expecting element tbx, got martif"): it is a well-formed TBX 2008 (`martif`) file,
        // a format the service reads, so it must import with every entry.
        "tbx/byutrg-py-tbxv3-tools/BadFiles/Sample-tbx-v2.tbx",
        "tbx/eticaai-hxltm-tbx/iate-exemplum.tbx",
        "tbx/microsoft-terminology-sample/poychang_Lookup-Microsoft-Terms_data_sample.xml",
        "tmx/okapi/website/sample14b.tmx",
        "tbx/weblate-tests/memory2.tmx",
        "tmx/tico19/all.zh-ru.tmx",
        "tmx/omegat-tests/test/resources/data/tmx/TMXComplianceKit/ImportTest2A.tmx",
        "tmx/okapi/okapi/filters/tmx/src/test/resources/compkit/ImportTest2A.tmx",
        "glossary/tico19/g_en_zh-CN.csv",
        "glossary/tico19/DERIVED_fb_terminology_en-zh_CN-ru_RU.tsv",
        "glossary/iso-codes-4.15-glossary-en-zh-ru/DERIVED_iso_3166-2_en-zh-ru.csv",
    ] {
        assert!(
            results.iter().any(|(u, _)| u.rel == kind),
            "{kind} not imported"
        );
    }
    eprintln!("{} peer files, {total} entries imported", results.len());
    assert!(results.len() >= 185, "only {} files", results.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
async fn one_file_imported_at_once_into_several_collections_fills_each_of_them() {
    let root = peerdata();
    // 45 concepts with ids `c1`…: every collection gets its own, none takes another's over.
    let rel = "tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCA/Example_Astronomy_DCA_VALID.tbx";
    let uploads = (0..PARALLEL_IMPORTS)
        .map(|slot| Upload::new(&root, rel, slot, ImportMode::Strict))
        .collect();
    let server = TestServer::start().await;
    for (upload, outcome) in send_all(&server.channel().await, uploads).await {
        outcome.status.as_ref().expect("valid file");
        let report = outcome.report();
        assert_eq!(
            (report.added, report.updated, report.unchanged),
            (45, 0, 0),
            "{:?}",
            upload.target
        );
    }
}

/// Whether `outcome` names `needle` at `line`, in the refusal or in a problem.
fn names_error(outcome: &Outcome, needle: &str, line: u64) -> bool {
    let in_status = outcome.status.as_ref().err().is_some_and(|s| {
        s.message().contains(needle) && s.message().contains(&format!("line {line}"))
    });
    let in_problems = outcome
        .problems
        .iter()
        .any(|p| p.reason.contains(needle) && p.line == line);
    in_status || in_problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
async fn bad_peer_files_are_refused_naming_their_error_and_best_effort_keeps_the_rest() {
    let root = peerdata();
    for (rel, why) in NOT_DETECTED {
        eprintln!("{rel}: not checked: {why}");
    }
    let mut uploads = Vec::new();
    for bad in BAD {
        for mode in [ImportMode::Strict, ImportMode::BestEffort] {
            uploads.push(Upload::new(&root, bad.rel, uploads.len(), mode));
        }
    }
    for (rel, _, _) in NAMED_IN_A_WARNING {
        uploads.push(Upload::new(&root, rel, uploads.len(), ImportMode::Strict));
    }
    let server = TestServer::start().await;
    let results = send_all(&server.channel().await, uploads).await;
    let (bad_results, lenient_results) = results.split_at(BAD.len() * 2);

    for (bad, pair) in BAD.iter().zip(bad_results.chunks(2)) {
        let [(_, strict), (_, best_effort)] = pair else {
            unreachable!()
        };
        let rel = bad.rel;
        let (line, column) = bad.at;
        eprintln!("{rel}: strict: {}", status_text(strict));
        let status = strict
            .status
            .as_ref()
            .expect_err(&format!("{rel}: strict import refused"));
        assert_eq!(status.code(), Code::InvalidArgument, "{rel}: {status:?}");
        let message = status.message();
        assert!(message.contains(bad.needle), "{rel}: {message}");
        assert!(
            message.contains(&format!("line {line}, column {column}: ")),
            "{rel}: {message}"
        );
        let report = strict.report();
        assert!(!report.committed, "{rel}");
        // Unreadable before its first entry: nothing is sound, and best effort refuses the
        // file as strict mode does, naming the same error.
        let nothing_read = report.entries_read == 0;

        let report = best_effort.report();
        if nothing_read {
            let status = best_effort
                .status
                .as_ref()
                .expect_err(&format!("{rel}: best effort refused"));
            assert_eq!(status.code(), Code::InvalidArgument, "{rel}: {status:?}");
            assert!(status.message().contains(bad.needle), "{rel}: {status:?}");
            assert!(!report.committed, "{rel}");
        } else {
            best_effort
                .status
                .as_ref()
                .unwrap_or_else(|s| panic!("{rel}: best effort: {s:?}"));
            assert!(report.committed, "{rel}");
        }
        assert_eq!(report.accepted, bad.sound, "{rel}: {report:?}");
        assert_eq!(report.added, bad.sound, "{rel}: {report:?}");
        let serious: Vec<_> = best_effort
            .problems
            .iter()
            .filter(|p| p.severity != Severity::Warning as i32)
            .collect();
        assert!(
            serious
                .iter()
                .any(|p| (p.line, p.column) == bad.at && p.reason.contains(bad.needle)),
            "{rel}: {serious:?}"
        );
        for (needle, at) in bad.also {
            assert!(
                serious
                    .iter()
                    .any(|p| (p.line, p.column) == *at && p.reason.contains(needle)),
                "{rel}: {needle} at {at:?} not reported: {serious:?}"
            );
        }
        assert!(
            serious.iter().all(|p| p.line > 0 && p.column > 0),
            "{rel}: every problem has a position: {serious:?}"
        );
        // A file that cannot be read to its end says so rather than "0 rejected".
        let unreadable = serious.iter().any(|p| p.severity == Severity::Fatal as i32);
        assert_eq!(
            message.contains("unreadable after") || message.contains("unreadable before"),
            unreadable,
            "{rel}: {message}"
        );
    }

    for ((rel, needle, line), (_, outcome)) in NAMED_IN_A_WARNING.iter().zip(lenient_results) {
        eprintln!("{rel}: {}", status_text(outcome));
        assert!(
            names_error(outcome, needle, *line),
            "{rel}: {needle} at line {line} not named: {}, {:?}",
            status_text(outcome),
            outcome.problems
        );
        if outcome.status.is_ok() {
            let text = decode(&std::fs::read(root.join(rel)).unwrap());
            let entries =
                count_start_tags(&text, "conceptEntry") + count_start_tags(&text, "termEntry");
            assert_eq!(outcome.report().accepted, entries, "{rel}");
        }
    }
}
