//! The files in `examples/` are what a new user tries first, with the README's "Try it"
//! commands. These tests run those commands on a fresh server and check what the README
//! promises: the sample memory imports whole and answers the README's search with the right
//! Russian sentence, written in the shipped glossary's preferred terms; the house-style TBX
//! passes a dry run without a problem and has the shipped glossary's shape; the desk's CSV
//! shows what best effort and skip-on-conflict do; the memory of official texts imports whole,
//! names the source of every unit, answers its search with the official Russian and has the
//! size both READMEs state. A renamed or broken example fails here, not in front of a user.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tolmach::formats::{TbxReader, TmxReader};
use tolmach::model::{Concept, Lang, TermStatus};
use tolmach::service::proto::{
    self, import_header::Target, termbase_client::TermbaseClient, GetConceptRequest, ImportMode,
    OnConflict, RecognizeRequest,
};
use tolmach::text::normalize_key;
use tonic::transport::Channel;

use crate::exchange::{collection, header, import, Outcome};
use crate::util::{self, run_cli, TestServer};

/// The README's search example and the sentence of the sample memory it must find.
const README_QUERY: &str = "2024年7月，上海合作组织峰会在阿斯塔纳举行。";
const README_QUERY_RUSSIAN: &str =
    "В июле 2024 года в Астане успешно прошел саммит Шанхайской организации сотрудничества.";

/// The official memory's search example: a sentence of the Chinese text of the Dushanbe
/// Declaration (2021) with one word changed (重要 for 积极), and the official Russian of the unit
/// it must find.
const OFFICIAL_QUERY: &str =
    "高度评价上合组织为推动和深化成员国睦邻友好关系、巩固地区安全稳定发挥的重要作用。";
const OFFICIAL_QUERY_RUSSIAN: &str = "высоко оценивая позитивную роль ШОС в продвижении и углублении отношений добрососедства между государствами-членами, упрочении безопасности и стабильности в регионе,";

/// The house-style CSV: the row without terms, and the id entered twice.
const CSV_EMPTY_ROW_LINE: u64 = 12;
const CSV_REPEATED_ID: &str = "desk-osh";

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_example(name: &str) -> Vec<u8> {
    let path = repo_path("examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Imports an example file through the Import RPC with `header`.
async fn import_example(server: &TestServer, name: &str, header: proto::ImportHeader) -> Outcome {
    let file = read_example(name);
    let header = proto::ImportHeader {
        file_name: name.into(),
        ..header
    };
    import(server.channel().await, header, &file, 1 << 16).await
}

/// The concepts of a TBX file; the reader must accept every entry without a warning.
fn tbx_concepts(path: &Path) -> Vec<Concept> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    TbxReader::new(bytes.as_slice())
        .map(|entry| {
            let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                entry.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                entry.warnings
            );
            entry.concept
        })
        .collect()
}

fn shipped_glossary() -> Vec<Concept> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_path("glossary"))
        .expect("glossary directory")
        .filter_map(|e| Some(e.ok()?.path()).filter(|p| p.extension() == Some("tbx".as_ref())))
        .collect();
    files.sort();
    files.iter().flat_map(|file| tbx_concepts(file)).collect()
}

/// `tolmach import examples/memory.tmx --memory news`, then the README's search: every unit
/// of the file is stored, and the search answers a fuzzy match (not an exact one, not a
/// unit that differs only in numbers) whose Russian is the sentence about the Astana summit.
/// (Multi-threaded: the test waits for the command on one thread while the server answers on
/// another.)
#[tokio::test(flavor = "multi_thread")]
async fn the_sample_memory_imports_whole_and_answers_the_readme_search() {
    let server = TestServer::start().await;
    let tmx = String::from_utf8(read_example("memory.tmx")).expect("UTF-8");
    let units = tmx.matches("<tu ").count();
    assert!((300..=400).contains(&units), "{units} units");

    imports_whole(&server, "memory.tmx", "news", units).await;
    let best = search_best(&server, README_QUERY);
    assert_eq!(best["target"], README_QUERY_RUSSIAN, "{best}");
}

/// Imports the example TMX `name` into `memory` and checks that all its `units` were added,
/// none rejected or warned about.
async fn imports_whole(server: &TestServer, name: &str, memory: &str, units: usize) {
    let outcome = import_example(server, name, header(Target::Memory(memory.into()))).await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let report = outcome.report();
    assert!(report.committed);
    assert_eq!(
        (report.accepted, report.rejected, report.warnings),
        (units as u64, 0, 0),
        "{:?}",
        outcome.problems
    );
    assert_eq!(report.added, units as u64, "every tuid is distinct");
}

/// `tolmach search QUERY --from zh --to ru --json`: the best match, which must be fuzzy (at
/// least 70 %, under 100 %) and not differ in numbers only.
fn search_best(server: &TestServer, query: &str) -> serde_json::Value {
    let json = run_cli(
        server,
        &["search", query, "--from", "zh", "--to", "ru", "--json"],
        "",
    );
    let response: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let best = response["matches"][0].clone();
    let score = best["score"].as_f64().expect("a match");
    assert!((0.7..1.0).contains(&score), "{json}");
    assert_ne!(best["numbersOnly"], true, "{json}");
    best
}

/// `tolmach import examples/official.tmx --memory official`, then the search of the examples
/// README: every unit names its document and the address of each language version it holds,
/// the file imports whole, and a Chinese sentence with one word changed finds its unit as a
/// fuzzy match with the official Russian. (No glossary check here: official texts keep the
/// renderings of their year, which the glossary may have since replaced.)
#[tokio::test(flavor = "multi_thread")]
async fn the_official_memory_imports_whole_and_finds_the_official_russian() {
    let server = TestServer::start().await;
    let tmx = String::from_utf8(read_example("official.tmx")).expect("UTF-8");
    let units = tmx.matches("<tu ").count();
    assert!(units >= 140, "{units} units");
    for tu in tmx.split("<tu ").skip(1) {
        let source = tu
            .split(r#"<prop type="x-source">"#)
            .nth(1)
            .and_then(|rest| rest.split("</prop>").next())
            .unwrap_or_else(|| panic!("a unit without its source: {tu}"));
        assert!(
            ["(consulted 2026-12-04)", "(consulted 2026-12-05)"]
                .iter()
                .any(|date| source.ends_with(date)),
            "{source}"
        );
        let langs: Vec<&str> = ["zh", "ru", "en"]
            .into_iter()
            .filter(|lang| tu.contains(&format!(r#"<tuv xml:lang="{lang}">"#)))
            .collect();
        assert!(langs.len() >= 2, "{tu}");
        for lang in langs {
            assert!(
                source.contains(&format!("{lang}: http")),
                "{lang}: {source}"
            );
        }
    }

    imports_whole(&server, "official.tmx", "official", units).await;
    let best = search_best(&server, OFFICIAL_QUERY);
    assert_eq!(best["target"], OFFICIAL_QUERY_RUSSIAN, "{best}");
}

/// The sample memory is what editors imitate: every term Recognize finds in any of its
/// segments is a current rendering of the shipped glossary (preferred, or admitted such as the
/// full name at first mention), never a superseded, deprecated or forbidden one.
#[tokio::test]
async fn the_sample_memory_uses_only_current_terms_of_the_shipped_glossary() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let tmx = read_example("memory.tmx");
    let mut off_glossary = Vec::new();
    for entry in TmxReader::new(tmx.as_slice()) {
        let unit = entry.expect("a sound unit").unit;
        for segment in &unit.segments {
            for occurrence in recognize(&mut client, &segment.text, &segment.lang).await {
                let current = [proto::TermStatus::Preferred, proto::TermStatus::Admitted]
                    .map(|status| status as i32);
                if !current.contains(&occurrence.matched_status) {
                    let concept = occurrence.concept.map(|c| c.id).unwrap_or_default();
                    off_glossary.push(format!(
                        "{} {}: {:?} ({concept})",
                        unit.id, segment.lang, occurrence.surface
                    ));
                }
            }
        }
    }
    assert!(off_glossary.is_empty(), "{off_glossary:#?}");
}

async fn recognize(
    client: &mut TermbaseClient<Channel>,
    text: &str,
    lang: &Lang,
) -> Vec<proto::Occurrence> {
    let request = RecognizeRequest {
        text: text.into(),
        lang: lang.to_string(),
        ..Default::default()
    };
    util::occurrences(client, request).await
}

/// `tolmach import examples/house-style.tbx --collection house --dry-run` reports every
/// concept accepted and not one problem, and the file has the shipped glossary's shape: zh,
/// ru and en with one preferred term each, a subject field the glossary uses, a source, a
/// note on every term the desk does not print, no term in two concepts, and ids of its own.
#[tokio::test]
async fn the_house_style_tbx_passes_a_dry_run_and_has_the_glossary_shape() {
    let server = TestServer::start().await;
    let house = tbx_concepts(&repo_path("examples/house-style.tbx"));
    let outcome = import_example(
        &server,
        "house-style.tbx",
        proto::ImportHeader {
            dry_run: true,
            ..header(collection("house"))
        },
    )
    .await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let report = outcome.report();
    assert!(report.dry_run && !report.committed);
    assert_eq!(
        (
            report.accepted,
            report.rejected,
            report.warnings,
            report.added
        ),
        (house.len() as u64, 0, 0, house.len() as u64),
        "{:?}",
        outcome.problems
    );
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);

    let glossary = shipped_glossary();
    let subject_fields: HashSet<&str> = glossary.iter().map(|c| c.subject_field.as_str()).collect();
    let glossary_ids: HashSet<&str> = glossary.iter().map(|c| c.id.as_str()).collect();
    let mut house_ids = HashSet::new();
    let mut house_terms = HashSet::new();
    for concept in &house {
        let id = &concept.id;
        assert!(house_ids.insert(id.as_str()), "{id}: id used twice");
        assert!(!glossary_ids.contains(id.as_str()), "{id}: a shipped id");
        assert!(
            subject_fields.contains(concept.subject_field.as_str()),
            "{id}: subject field {:?}",
            concept.subject_field
        );
        assert!(!concept.source.trim().is_empty(), "{id}: no source");
        for lang in [Lang::zh(), Lang::ru(), Lang::en()] {
            let section = concept
                .section(&lang)
                .unwrap_or_else(|| panic!("{id}: no {lang} section"));
            let preferred = section
                .terms
                .iter()
                .filter(|t| t.status == TermStatus::Preferred)
                .count();
            assert_eq!(preferred, 1, "{id}: {preferred} preferred {lang} terms");
        }
        for (lang, term) in concept.terms() {
            let explained = !matches!(
                term.status,
                TermStatus::Deprecated | TermStatus::Forbidden | TermStatus::Superseded
            ) || !term.note.trim().is_empty();
            assert!(explained, "{id} {lang}: {:?} has no note", term.text);
            let key = (lang.primary().to_owned(), normalize_key(&term.text));
            assert!(
                house_terms.insert(key),
                "{id} {lang}: {:?} twice",
                term.text
            );
        }
    }
}

/// `tolmach import examples/glossary.csv --collection house --best-effort --on-conflict
/// skip`: the row whose terms are still empty is rejected with its line (strict mode would
/// refuse the whole file for it), and the id entered a second time further down is skipped,
/// so the first entry stands.
#[tokio::test]
async fn the_desk_csv_shows_best_effort_and_skip() {
    let server = TestServer::start().await;
    let strict = import_example(
        &server,
        "glossary.csv",
        proto::ImportHeader {
            dry_run: true,
            ..header(collection("house"))
        },
    )
    .await;
    assert_eq!(
        strict.status.as_ref().map_err(|s| s.code()),
        Err(tonic::Code::InvalidArgument)
    );

    let outcome = import_example(
        &server,
        "glossary.csv",
        proto::ImportHeader {
            mode: ImportMode::BestEffort as i32,
            on_conflict: OnConflict::Skip as i32,
            ..header(collection("house"))
        },
    )
    .await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let report = outcome.report();
    assert!(report.committed);
    assert_eq!((report.rejected, report.skipped), (1, 1), "{report:?}");
    assert_eq!(report.added, report.accepted - 1, "{report:?}");
    let rejected: Vec<(u64, &str)> = outcome
        .problems
        .iter()
        .filter(|p| p.severity == proto::entry_problem::Severity::Rejected as i32)
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(rejected, [(CSV_EMPTY_ROW_LINE, "the row has no terms")]);

    let kept = server
        .client()
        .await
        .get_concept(GetConceptRequest {
            id: CSV_REPEATED_ID.into(),
        })
        .await
        .expect("stored")
        .into_inner();
    let english: Vec<String> = kept
        .langs
        .iter()
        .filter(|s| s.lang == "en")
        .flat_map(|s| s.terms.iter().map(|t| t.text.clone()))
        .collect();
    assert_eq!(english, ["Osh"], "the first entry stands");
}

/// The file paths a block of `tolmach` commands reads (the files it imports), and its
/// `search` sentence.
struct TryIt {
    inputs: Vec<String>,
    search: Option<String>,
}

/// Reads the indented command lines of the section under `heading` (to the next heading).
fn try_it(markdown: &str, heading: &str) -> TryIt {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} section"));
    let section = &markdown[start + heading.len()..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let mut found = TryIt {
        inputs: Vec::new(),
        search: None,
    };
    for line in section.lines().filter(|l| l.starts_with("    ")) {
        let words = shell_words(line);
        let command = words
            .iter()
            .position(|w| w == "--")
            .map(|i| &words[i + 1..]);
        match command {
            Some([verb, file, ..]) if verb == "import" => found.inputs.push(file.clone()),
            Some([verb, sentence, ..]) if verb == "search" => found.search = Some(sentence.clone()),
            _ => {}
        }
    }
    found
}

/// Splits a command line into words, honouring double quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.trim().chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Every file the commands import exists in the repository, and the search sentence is the
/// one the memory test checks.
fn assert_runs_on_a_fresh_clone(block: &TryIt, document: &str) {
    assert!(!block.inputs.is_empty(), "{document}: no import command");
    for input in &block.inputs {
        assert!(
            repo_path(input).is_file(),
            "{document} imports {input}, which is not in the repository"
        );
    }
    assert_eq!(
        block.search.as_deref(),
        Some(README_QUERY),
        "{document}: the search example"
    );
}

#[test]
fn the_examples_readme_commands_name_files_in_the_repository() {
    let path = repo_path("examples/README.md");
    let text = std::fs::read_to_string(&path).expect("examples/README.md");
    let block = try_it(&text, "## Try it");
    assert_eq!(
        block.inputs,
        [
            "examples/memory.tmx",
            "examples/house-style.tbx",
            "examples/glossary.csv"
        ]
    );
    assert_runs_on_a_fresh_clone(&block, "examples/README.md");
}

#[test]
fn the_official_memory_commands_name_files_in_the_repository() {
    let path = repo_path("examples/README.md");
    let text = std::fs::read_to_string(&path).expect("examples/README.md");
    let block = try_it(&text, "## Try the official memory");
    assert_eq!(block.inputs, ["examples/official.tmx"]);
    for input in &block.inputs {
        assert!(
            repo_path(input).is_file(),
            "{input} is not in the repository"
        );
    }
    assert_eq!(block.search.as_deref(), Some(OFFICIAL_QUERY));
}

/// The examples README and the project README state how many units the official memory has:
/// a unit added or removed without them fails here.
#[test]
fn the_readmes_state_the_official_memory_size() {
    let tmx = String::from_utf8(read_example("official.tmx")).expect("UTF-8");
    let units = tmx.matches("<tu ").count();
    let examples = std::fs::read_to_string(repo_path("examples/README.md")).expect("README");
    for claim in [
        format!("TMX 1.4b, {units} translation units"),
        format!("which is why the file has {units}\nunits"),
        format!("The memory imports all {units} units."),
    ] {
        assert!(
            examples.contains(&claim),
            "examples/README.md lacks {claim:?}"
        );
    }
    let readme = std::fs::read_to_string(repo_path("README.md")).expect("README.md");
    let claim = format!("`official.tmx` holds {units} units");
    assert!(readme.contains(&claim), "README.md lacks {claim:?}");
}

#[test]
fn the_readme_commands_name_files_in_the_repository() {
    let text = std::fs::read_to_string(repo_path("README.md")).expect("README.md");
    assert_runs_on_a_fresh_clone(&try_it(&text, "## Try it"), "README.md");
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(
        shell_words(r#"  cargo run -- search "a b。" --from zh"#),
        ["cargo", "run", "--", "search", "a b。", "--from", "zh"]
    );
    assert_eq!(shell_words(r#"x """#), ["x", ""]);
}
