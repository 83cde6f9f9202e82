//! Conformance tests against exchange files written by other projects (`../shared/peerdata`).
//!
//! Owns nothing but tests. The files are not part of the repository: each test looks for them
//! at `$TOLMACH_PEERDATA`, else `<crate root>/../shared/peerdata`, and skips with a message
//! when they are absent. Expected counts come from the files themselves (start tags counted
//! as text) or from the files' documentation, never from the readers under test.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::{write_tmx, CsvOptions, CsvReader, FormatError, TbxReader, TmxReader};

fn peerdata() -> Option<PathBuf> {
    let dir = std::env::var_os("TOLMACH_PEERDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peerdata"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: peer data not found at {} (set TOLMACH_PEERDATA to its location)",
            dir.display()
        );
        None
    }
}

/// Every file under `dir` (recursively) whose name satisfies `keep`, sorted.
fn files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Occurrences of the start tag `<name` (followed by white space, `>` or `/`) in the raw file.
fn count_start_tags(bytes: &[u8], name: &str) -> usize {
    let needle = format!("<{name}");
    let needle = needle.as_bytes();
    bytes
        .windows(needle.len() + 1)
        .filter(|w| {
            w.starts_with(needle)
                && matches!(w[needle.len()], b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        })
        .count()
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// TBX files the reader cannot read as a whole, with the line it reports: not well-formed XML,
/// or a file whose root promises TBX v3 but whose structure or namespace is not TBX v3's.
const MALFORMED_TBX: &[(&str, u64)] = &[
    // "there is an end-tag missing": `<term>` on line 41, closed by `</termSec>` on line 42.
    ("poorly_formed_xml.tbx", 41),
    // `<date>` on line 40, closed by `</transacGrp>` on line 41.
    ("tbx_basic_sample_notwellformed.tbx", 40),
    // `<tbxHeader>` before the real root: the first element is not a TBX root.
    ("tbx_basic_sample_ill-formedheader.tbx", 9),
    // "Missing closing tag line 16": `<transac>` on line 16, closed by `</transacGrp>` on
    // line 19.
    ("Astronomy_DCA-Bad2.tbx", 16),
    // An XML declaration inside `<body>`, line 17.
    ("missionFrench.tbx", 17),
    // `<body>` and `<text>` swapped (its comment): `<body>` directly in `<tbx>` on line 12.
    ("Astronomy_DCA-Bad3.tbx", 12),
    // RNG log: "Element tbx has wrong namespace" (`ed-36`), line 11.
    ("tbx_basic_sample_badiso.tbx", 11),
];

/// Files with content outside any entry where the structure has no place for it (directly in
/// `<body>` or `<text>`), and how many such runs each has: each is rejected once, on top of
/// the file's entries.
const STRAY_CONTENT: &[(&str, usize)] = &[
    // Its comment: "<tbxHeader> descendants' text must be wrapped in <p>", line 16, and
    // "<admin> may not be direct child of <text>", line 21.
    ("core_structure_bad.tbx", 2),
    // A `<conceptEntry>` start and end tag removed: lines 126-273 (RNG log: "Did not expect
    // element transacGrp there").
    ("Astronomy_DCA-Bad4.tbx", 1),
];

/// Where an entry is rejected: line, column, a word of the reason.
type Rejection = (u64, u64, &'static str);

/// Files that declare a dialect and break it, each entry with the error named at its
/// element: (file, line, column, a word of the error). The files' comments and validator
/// logs name these errors.
const DIALECT_ERRORS: &[(&str, &[Rejection])] = &[
    (
        "tbx/ltac-tbx-test-files/basic_bad.tbx",
        &[(26, 6, "\"theWrongType\""), (140, 6, "\"wrongType\"")],
    ),
    (
        "tbx/ltac-tbx-test-files/min_bad.tbx",
        &[(21, 5, "\"source\""), (803, 7, "usageStatus")],
    ),
    (
        "tbx/ltac-tbx-test-files/core_structure_bad.tbx",
        &[
            (16, 5, "text directly in <sourceDesc>"),
            (21, 3, "directly in <text>"),
            (27, 7, "without a type"),
        ],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad4.tbx",
        &[(126, 5, "outside any entry (lines 126-273, 5 term(s))")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/BadFiles/Astronomy_DCA-Bad5.tbx",
        &[(16, 6, "\"doesThisWork\"")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badattribute.tbx",
        &[(32, 6, "\"origin\""), (84, 7, "\"pos\"")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelement.tbx",
        &[(33, 6, "<transaction>"), (99, 7, "<comment>")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelementcontent.tbx",
        &[(52, 7, "\"preposition\""), (102, 8, "\"deletion\"")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/tbx_basic_sample_badelementorder.tbx",
        &[
            (64, 7, "after <descripGrp> (line 58)"),
            (77, 6, "outside a term section"),
        ],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/marylandinvalid.tbx",
        &[(23, 5, "<termNote> in a language section")],
    ),
    (
        "tbx/byutrg-py-tbxv3-tools/TBX-basic-sample.tbx",
        &[(150, 5, "\"relatedConcept\""), (206, 7, "\"relatedTerm\"")],
    ),
];

struct TbxCount {
    ok: usize,
    rejected: usize,
    fatal: Option<FormatError>,
}

fn read_tbx(path: &Path, skip_empty_terms: bool) -> TbxCount {
    let file = File::open(path).expect("peer file opens");
    let mut count = TbxCount {
        ok: 0,
        rejected: 0,
        fatal: None,
    };
    for result in TbxReader::new(BufReader::new(file)).skip_empty_terms(skip_empty_terms) {
        match result {
            Ok(_) => count.ok += 1,
            Err(e) if !e.is_fatal() => count.rejected += 1,
            Err(e) => count.fatal = Some(e),
        }
    }
    count
}

fn is_tbx_file(name: &str) -> bool {
    name.ends_with(".tbx") || name == "poychang_Lookup-Microsoft-Terms_data_sample.xml"
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn every_well_formed_peer_tbx_reads_the_entries_it_has() {
    let Some(root) = peerdata() else { return };
    let mut checked = 0;
    for path in files(&root.join("tbx"), &is_tbx_file)
        .into_iter()
        .chain(files(&root.join("glossary"), &is_tbx_file))
    {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if MALFORMED_TBX.iter().any(|(m, _)| *m == name) {
            continue;
        }
        let bytes = std::fs::read(&path).expect("peer file reads");
        let expected =
            count_start_tags(&bytes, "conceptEntry") + count_start_tags(&bytes, "termEntry");
        let stray = STRAY_CONTENT
            .iter()
            .find(|(o, _)| *o == name)
            .map_or(0, |(_, runs)| *runs);
        let strict = read_tbx(&path, false);
        let rel = relative(&path, &root);
        assert!(strict.fatal.is_none(), "{rel}: {:?}", strict.fatal);
        eprintln!(
            "{rel}: {} read, {} rejected, {expected} entries in the file",
            strict.ok, strict.rejected
        );
        assert_eq!(strict.ok + strict.rejected, expected + stray, "{rel}");
        checked += 1;
    }
    assert!(checked >= 80, "only {checked} TBX files found");
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn valid_peer_tbx_samples_read_without_rejections_when_placeholders_are_skipped() {
    let Some(root) = peerdata() else { return };
    let valid_dirs = [
        "tbx/byutrg-py-tbxv3-tools/GoodFiles",
        "tbx/ltac-tbx-basic-min-dialect",
        "tbx/okapi-lib-terminology",
        "tbx/microsoft-terminology-sample",
        "tbx/eticaai-hxltm-tbx",
        "tbx/weblate-tests",
        "tbx/byutrg-p5-tbx-min",
    ];
    for dir in valid_dirs {
        for path in files(&root.join(dir), &is_tbx_file) {
            let rel = relative(&path, &root);
            let count = read_tbx(&path, true);
            assert!(count.fatal.is_none(), "{rel}: {:?}", count.fatal);
            assert_eq!(count.rejected, 0, "{rel}");
            assert!(count.ok > 0, "{rel}");
        }
    }
    for name in ["basic_good.tbx", "core_structure_good.tbx", "min_good.tbx"] {
        let count = read_tbx(&root.join("tbx/ltac-tbx-test-files").join(name), false);
        assert_eq!((count.ok, count.rejected), (45, 0), "{name}");
    }
    // Other files that declare TBX-Basic and are valid: no dialect rule rejects them.
    for rel in [
        "tbx/byutrg-py-tbxv3-tools/2023-01-12-Example_Astronomy_DCA_VALID_forDemoWithCoreRNGAndSCH.tbx",
        "tbx/byutrg-py-tbxv3-tools/newfile.tbx",
        "tbx/byutrg-py-tbxv3-tools/service-missionary-real-utf-8.tbx",
        "tbx/byutrg-py-tbxv3-tools/service-missionary-real-utf-8/service-missionary-real-utf-8.tbx",
    ] {
        let count = read_tbx(&root.join(rel), false);
        assert!(count.fatal.is_none(), "{rel}: {:?}", count.fatal);
        assert_eq!(count.rejected, 0, "{rel}");
        assert!(count.ok > 0, "{rel}");
    }
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn peer_tbx_that_breaks_its_declared_dialect_is_rejected_where_it_does() {
    let Some(root) = peerdata() else { return };
    for (rel, want) in DIALECT_ERRORS {
        let file = File::open(root.join(rel)).expect("peer file opens");
        let mut rejected = Vec::new();
        for result in TbxReader::new(BufReader::new(file)) {
            match result {
                Ok(_) => {}
                Err(FormatError::Rejected {
                    line,
                    column,
                    reason,
                }) => rejected.push((line, column, reason)),
                Err(e) => panic!("{rel}: {e}"),
            }
        }
        eprintln!("{rel}: {rejected:?}");
        assert_eq!(rejected.len(), want.len(), "{rel}: {rejected:?}");
        for ((line, column, reason), (want_line, want_column, needle)) in rejected.iter().zip(*want)
        {
            assert_eq!((line, column), (want_line, want_column), "{rel}: {reason}");
            assert!(reason.contains(needle), "{rel}: {reason}");
        }
    }
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn peer_tbx_that_cannot_be_read_is_malformed_with_a_line() {
    let Some(root) = peerdata() else { return };
    let all = files(&root.join("tbx"), &is_tbx_file);
    for (name, want_line) in MALFORMED_TBX {
        let path = all
            .iter()
            .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
            .unwrap_or_else(|| panic!("{name} not found in peer data"));
        let results: Vec<_> = TbxReader::new(BufReader::new(File::open(path).unwrap())).collect();
        let last = results.last().expect("at least the error");
        match last {
            Err(FormatError::Malformed { line, reason, .. }) => {
                eprintln!("{name}: malformed at line {line}: {reason}");
                assert_eq!(line, want_line, "{name}: {reason}");
            }
            other => panic!("{name}: expected Malformed, got {other:?}"),
        }
        assert_eq!(
            results
                .iter()
                .filter(|r| r.as_ref().is_err_and(FormatError::is_fatal))
                .count(),
            1,
            "{name}: exactly one fatal error, then the reader ends"
        );
    }
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn peer_tbx_vendor_shapes_map_their_data() {
    let Some(root) = peerdata() else { return };
    let read = |rel: &str| -> Vec<crate::model::Concept> {
        TbxReader::new(BufReader::new(File::open(root.join(rel)).unwrap()))
            .skip_empty_terms(true)
            .map(|r| r.unwrap().concept)
            .collect()
    };
    // Microsoft Terminology Collection: ntig/termGrp, zh-Hant.
    let ms =
        read("tbx/microsoft-terminology-sample/poychang_Lookup-Microsoft-Terms_data_sample.xml");
    assert_eq!(ms[0].id, "3344_38882_38896");
    let zh = ms[0]
        .langs
        .iter()
        .find(|s| s.lang.as_str() == "zh-Hant")
        .unwrap();
    assert_eq!(zh.terms[0].text, "上下文");
    assert_eq!(zh.terms[0].part_of_speech, "Noun");
    // IATE: whitespace inside <term> is collapsed.
    let iate = read("tbx/eticaai-hxltm-tbx/hxltm-exemplum-linguam.tbx");
    assert_eq!(iate[0].langs[0].terms[0].text, "lat-Latn");
    // Windows-1254 named by the XML declaration.
    let turkish = read("tbx/okapi-lib-terminology/test02_win1254.tbx");
    assert_eq!(turkish[0].langs[1].terms[0].text, "tr term with: éá and İı");
    // Weblate: administrativeStatus `obsolete` is deprecated.
    let weblate = read("tbx/weblate-tests/fr-extended-metadata.tbx");
    assert_eq!(
        weblate[0].langs[0].terms[0].status,
        crate::model::TermStatus::Deprecated
    );
    // SDL MultiTerm: 223 entries, `<term/>` placeholders skipped.
    assert_eq!(read("tbx/okapi-lib-terminology/sdl_tbx.tbx").len(), 223);
    // DCT and DCA versions of the same termbase read the same.
    let dca = read("tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCA/Example_Astronomy_DCA_VALID.tbx");
    let dct = read("tbx/ltac-tbx-basic-min-dialect/TBX-Basic/DCT/Example_Astronomy_DCT_VALID.tbx");
    assert_eq!(dca.len(), 45);
    let same = dca
        .iter()
        .zip(&dct)
        .filter(|(a, b)| a.langs == b.langs)
        .count();
    assert!(
        same >= 40,
        "only {same} of 45 DCA/DCT concepts have equal sections"
    );
}

fn read_tmx(
    path: &Path,
) -> (
    Vec<crate::model::TranslationUnit>,
    usize,
    Option<FormatError>,
) {
    let mut units = Vec::new();
    let mut rejected = 0;
    let mut fatal = None;
    for result in TmxReader::new(BufReader::new(File::open(path).unwrap())) {
        match result {
            Ok(entry) => units.push(entry.unit),
            Err(e) if !e.is_fatal() => rejected += 1,
            Err(e) => fatal = Some(e),
        }
    }
    (units, rejected, fatal)
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn tico19_tmx_files_have_3071_units_each_with_shared_tuids() {
    let Some(root) = peerdata() else { return };
    let mut tuid_sets = Vec::new();
    for name in ["all.en-zh.tmx", "all.en-ru.tmx", "all.zh-ru.tmx"] {
        let (units, rejected, fatal) = read_tmx(&root.join("tmx/tico19").join(name));
        eprintln!(
            "tmx/tico19/{name}: {} units, {rejected} rejected",
            units.len()
        );
        assert!(fatal.is_none(), "{name}: {fatal:?}");
        assert_eq!((units.len(), rejected), (3071, 0), "{name}");
        assert!(units.iter().all(|u| u.segments.len() == 2), "{name}");
        let mut tuids: Vec<String> = units.into_iter().map(|u| u.id).collect();
        tuids.sort();
        tuid_sets.push(tuids);
    }
    assert_eq!(tuid_sets[0], tuid_sets[1]);
    assert_eq!(tuid_sets[1], tuid_sets[2]);
}

fn is_tmx_file(name: &str) -> bool {
    name.ends_with(".tmx")
        || name == "sample_tmx.xml"
        || name == "sampleTMX2.txt"
        || name.ends_with(".tmx.gold")
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn okapi_and_omegat_tmx_read_without_error_and_keep_inline_tags() {
    let Some(root) = peerdata() else { return };
    let mut total_tags = 0;
    let mut checked = 0;
    for dir in ["tmx/okapi", "tmx/omegat-tests"] {
        for path in files(&root.join(dir), &is_tmx_file) {
            let rel = relative(&path, &root);
            let bytes = std::fs::read(&path).unwrap();
            let (units, rejected, fatal) = read_tmx(&path);
            assert!(fatal.is_none(), "{rel}: {fatal:?}");
            // Count `<tu` in the text; UTF-16 files are counted after decoding.
            let utf16 = |big_endian: bool| {
                let units16: Vec<u16> = bytes[2..]
                    .chunks_exact(2)
                    .map(|p| {
                        if big_endian {
                            u16::from_be_bytes([p[0], p[1]])
                        } else {
                            u16::from_le_bytes([p[0], p[1]])
                        }
                    })
                    .collect();
                String::from_utf16_lossy(&units16)
            };
            let text = if bytes.starts_with(&[0xFF, 0xFE]) {
                utf16(false)
            } else if bytes.starts_with(&[0xFE, 0xFF]) {
                utf16(true)
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            let expected = count_start_tags(text.as_bytes(), "tu");
            assert_eq!(units.len() + rejected, expected, "{rel}");
            if rel.ends_with("/invalid.tmx") {
                assert!(
                    rejected > 0,
                    "{rel}: unbalanced <bpt>/<ept> must be rejected"
                );
            }
            let tags: usize = units
                .iter()
                .flat_map(|u| &u.segments)
                .map(|s| s.tags.len())
                .sum();
            total_tags += tags;
            // Tags survive a write → read round trip unchanged (`*all*`: no reordering).
            let mut out = Vec::new();
            write_tmx(&mut out, units.iter(), "*all*").unwrap();
            let (back, back_rejected, back_fatal) = read_tmx_bytes(&out);
            assert!(
                back_fatal.is_none() && back_rejected == 0,
                "{rel}: {back_fatal:?}"
            );
            assert_eq!(back, units, "{rel}");
            checked += 1;
        }
    }
    eprintln!("{checked} okapi/omegat TMX files, {total_tags} inline tags");
    assert!(checked >= 60, "only {checked} TMX files found");
    assert!(total_tags > 500, "only {total_tags} inline tags");
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn omegat_invalid_tmx_mixing_language_attributes_is_rejected_at_the_tuv() {
    let Some(root) = peerdata() else { return };
    let dir = root.join("tmx/omegat-tests/test/resources/data/tmx");
    let read = |name: &str| -> Vec<Result<_, FormatError>> {
        TmxReader::new(BufReader::new(File::open(dir.join(name)).unwrap())).collect()
    };
    // Its <tuv> name their language with TMX 1.1's `lang`, but one uses `xml:lang`; the
    // valid sibling differs only there. Only that unit goes, at that <tuv>.
    let entries = read("test-omegat-invalid.tmx");
    let rejected: Vec<(u64, u64, String)> = entries
        .iter()
        .filter_map(|entry| match entry {
            Err(FormatError::Rejected {
                line,
                column,
                reason,
            }) => Some((*line, *column, reason.clone())),
            Err(fatal) => panic!("test-omegat-invalid.tmx: {fatal}"),
            Ok(_) => None,
        })
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let (line, column, reason) = &rejected[0];
    assert_eq!((*line, *column), (26, 7), "{reason}");
    assert!(
        reason.contains("xml:lang") && reason.contains("use lang"),
        "{reason}"
    );
    assert_eq!(entries.iter().filter(|e| e.is_ok()).count(), 3);
    // One attribute throughout is fine whatever the version says (OmegaT writes `xml:lang`
    // into TMX 1.1 files).
    for valid in ["test-omegat.tmx", "en-ca.tmx"] {
        assert!(read(valid).iter().all(Result::is_ok), "{valid}");
    }
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn okapi_inline_tags_are_recorded_as_written() {
    let Some(root) = peerdata() else { return };
    let path = root.join("tmx/okapi/okapi/filters/tmx/src/test/resources/compkit/ImportTest2A.tmx");
    let (units, _, fatal) = read_tmx(&path);
    assert!(fatal.is_none(), "{fatal:?}");
    let all: Vec<&crate::model::InlineTag> = units
        .iter()
        .flat_map(|u| &u.segments)
        .flat_map(|s| &s.tags)
        .collect();
    assert!(all
        .iter()
        .any(|t| t.xml.starts_with("<bpt") && t.xml.ends_with("</bpt>")));
    assert!(all
        .iter()
        .any(|t| t.xml.starts_with("<ept") && t.xml.ends_with("</ept>")));
    for unit in &units {
        for segment in &unit.segments {
            for element in ["<bpt", "<ept", "<ph", "<it", "<ut", "<hi", "<sub"] {
                assert!(
                    !segment.text.contains(element),
                    "markup left in text: {:?}",
                    segment.text
                );
            }
            for tag in &segment.tags {
                assert!(
                    segment.text.is_char_boundary(tag.offset) && tag.offset <= segment.text.len()
                );
            }
        }
    }
}

fn read_tmx_bytes(
    bytes: &[u8],
) -> (
    Vec<crate::model::TranslationUnit>,
    usize,
    Option<FormatError>,
) {
    let mut units = Vec::new();
    let mut rejected = 0;
    let mut fatal = None;
    for result in TmxReader::new(bytes) {
        match result {
            Ok(entry) => units.push(entry.unit),
            Err(e) if !e.is_fatal() => rejected += 1,
            Err(e) => fatal = Some(e),
        }
    }
    (units, rejected, fatal)
}

/// Data rows of the glossary files: RFC 4180 records after the header, blank lines not
/// counted.
const GLOSSARY_ROWS: &[(&str, usize)] = &[
    (
        "glossary/tico19/DERIVED_fb_terminology_en-zh_CN-ru_RU.tsv",
        306,
    ),
    ("glossary/tico19/f_en-ru_RU.csv", 306),
    ("glossary/tico19/f_en-zh_CN.csv", 306),
    ("glossary/tico19/f_en-zh_TW.csv", 306),
    ("glossary/tico19/g_en_ru.csv", 328),
    ("glossary/tico19/g_en_zh-CN.csv", 337),
    ("glossary/tico19/g_en_zh-TW.csv", 337),
    ("glossary/tico19/g_ru_en.csv", 50),
    ("glossary/tico19/g_zh-CN_en.csv", 50),
    ("glossary/tico19/g_zh-TW_en.csv", 49),
    (
        "glossary/iso-codes-4.15-glossary-en-zh-ru/DERIVED_iso_3166-1_en-zh-ru.csv",
        433,
    ),
    (
        "glossary/iso-codes-4.15-glossary-en-zh-ru/DERIVED_iso_3166-2_en-zh-ru.csv",
        1193,
    ),
    (
        "glossary/iso-codes-4.15-glossary-en-zh-ru/DERIVED_iso_4217_en-zh-ru.csv",
        181,
    ),
    (
        "glossary/iso-codes-4.15-glossary-en-zh-ru/DERIVED_iso_639-3_en-zh-ru.csv",
        240,
    ),
];

fn read_glossary(path: &Path, options: CsvOptions) -> (usize, usize, Option<FormatError>) {
    let mut ok = 0;
    let mut rejected = 0;
    let mut fatal = None;
    for result in CsvReader::with_options(BufReader::new(File::open(path).unwrap()), options) {
        match result {
            Ok(_) => ok += 1,
            Err(e) if !e.is_fatal() => rejected += 1,
            Err(e) => fatal = Some(e),
        }
    }
    (ok, rejected, fatal)
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn peer_glossaries_read_with_their_row_count() {
    let Some(root) = peerdata() else { return };
    for (rel, rows) in GLOSSARY_ROWS {
        let (ok, rejected, fatal) = read_glossary(&root.join(rel), CsvOptions::default());
        eprintln!("{rel}: {ok} rows read, {rejected} rejected, {rows} expected");
        assert!(fatal.is_none(), "{rel}: {fatal:?}");
        assert_eq!((ok, rejected), (*rows, 0), "{rel}");
    }
    // Headerless files (OmegaT, Okapi): columns given, `#` comments skipped.
    let headerless = |langs: &[&str]| CsvOptions {
        delimiter: None,
        columns: Some(
            langs
                .iter()
                .map(|s| s.to_string())
                .chain(["note".to_owned()])
                .collect(),
        ),
        comment: Some(b'#'),
    };
    for (rel, ok_rows, rejected_rows) in [
        ("glossary/omegat-glossaries/test.csv", 7, 0),
        ("glossary/omegat-glossaries/test.tab", 4, 0),
        ("glossary/omegat-glossaries/testUTF16LE.txt", 2, 0),
        ("glossary/omegat-glossaries/test-magiccomment.tab", 0, 0),
        ("glossary/omegat-glossaries/test-magiccomment-bom.tab", 0, 0),
        ("glossary/omegat-glossaries/empty.txt", 0, 0),
        ("tbx/okapi-lib-terminology/test01.csv", 4, 0),
        // Two rows hold only white space or empty fields.
        ("tbx/okapi-lib-terminology/test01.tsv", 6, 2),
        ("tbx/okapi-lib-terminology/test02_utf16be.tsv", 2, 0),
    ] {
        let (ok, rejected, fatal) = read_glossary(&root.join(rel), headerless(&["en", "fr"]));
        eprintln!("{rel}: {ok} rows read, {rejected} rejected");
        assert!(fatal.is_none(), "{rel}: {fatal:?}");
        assert_eq!((ok, rejected), (ok_rows, rejected_rows), "{rel}");
    }
}

#[test]
#[cfg_attr(not(tolmach_peerdata), ignore = "needs ../shared/peerdata")]
fn tico19_glossary_rows_carry_languages_pos_and_description() {
    let Some(root) = peerdata() else { return };
    let path = root.join("glossary/tico19/g_en_zh-CN.csv");
    let first = CsvReader::new(BufReader::new(File::open(path).unwrap()))
        .next()
        .unwrap()
        .unwrap();
    let c = first.concept;
    assert_eq!(first.line, 2);
    assert_eq!(c.id, "1");
    assert_eq!(c.langs[0].lang.as_str(), "en");
    assert_eq!(c.langs[0].terms[0].text, "contagious");
    assert_eq!(c.langs[0].terms[0].part_of_speech, "adjective");
    assert!(c.langs[0]
        .definition
        .starts_with("In the context of coronavirus"));
    assert_eq!(c.langs[1].lang.as_str(), "zh");
    assert_eq!(c.langs[1].terms[0].text, "可传染 : 有传染性");
}
