//! The command line as a first-time user meets it: `--json` from every command that prints,
//! errors as the status's code and message, a server given without a scheme, a hint where a
//! strict import was refused for empty terms, tables aligned in terminal columns, search
//! matches with their differences marked, and one spelling of the language flags.
//!
//! Each test runs the `tolmach` binary against a real server; the binary blocks the test's
//! thread meanwhile, so the server runs on a thread of its own (multi-threaded runtime).

use std::path::Path;

use tolmach::server::GLOSSARY_COLLECTION;
use unicode_width::UnicodeWidthStr;

use crate::util::{cli_output, run_cli, run_cli_failing, TestServer};

/// Two units: a Chinese–English one, an English–Russian one.
const MEMORY_TMX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="none" adminlang="en" srclang="zh" datatype="plaintext"/>
<body>
<tu tuid="zh-en"><tuv xml:lang="zh"><seg>2024年7月，上海合作组织峰会在阿斯塔纳举行。</seg></tuv><tuv xml:lang="en"><seg>The SCO summit was held in Astana in July 2024.</seg></tuv></tu>
<tu tuid="en-ru"><tuv xml:lang="en"><seg>The SCO summit was held in Astana</seg></tuv><tuv xml:lang="ru"><seg>Саммит ШОС прошёл в Астане</seg></tuv></tu>
</body></tmx>"#;

/// A TBX-Basic concept whose Russian term is an empty `<term/>`, as SDL MultiTerm writes a
/// placeholder.
const EMPTY_TERM_TBX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx style="dca" type="TBX-Basic" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<tbxHeader><fileDesc><sourceDesc><p>test</p></sourceDesc></fileDesc></tbxHeader>
<text><body>
<conceptEntry id="summit"><langSec xml:lang="en"><termSec><term>summit</term></termSec></langSec>
<langSec xml:lang="ru"><termSec><term/></termSec></langSec></conceptEntry>
</body></text></tbx>"#;

/// Writes `content` to `name` in `dir` and answers the path as a string.
fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("written");
    path.to_string_lossy().into_owned()
}

/// Imports [`MEMORY_TMX`] into the memory `m` through the command line.
fn import_memory(server: &TestServer) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let tmx = write(dir.path(), "memory.tmx", MEMORY_TMX);
    run_cli(server, &["import", &tmx, "--memory", "m"], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_and_export_print_json_when_asked() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let tmx = write(dir.path(), "memory.tmx", MEMORY_TMX);

    let imported = run_cli(&server, &["import", &tmx, "--memory", "m", "--json"], "");
    let report: serde_json::Value = serde_json::from_str(&imported).expect("JSON");
    assert_eq!(report["committed"], true, "{imported}");
    assert_eq!(report["added"], "2", "{imported}");
    assert_eq!(report["format"], "FILE_FORMAT_TMX", "{imported}");

    let out = dir.path().join("out.tmx").to_string_lossy().into_owned();
    let exported = run_cli(
        &server,
        &["export", "--memory", "m", "-o", &out, "--json"],
        "",
    );
    let summary: serde_json::Value = serde_json::from_str(&exported).expect("JSON");
    assert_eq!(
        summary,
        serde_json::json!({"output": out, "format": "FILE_FORMAT_TMX", "entries": 2})
    );
    let written = std::fs::read_to_string(&out).expect("exported");
    assert_eq!(written.matches("<tu ").count(), 2, "{written}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_printed_as_the_status_code_and_message() {
    let server = TestServer::start().await;
    let stderr = run_cli_failing(&server, &["lookup", "峰会", "--from", "!!"]);
    let line = stderr.trim_end();
    assert!(
        line.starts_with("error: INVALID_ARGUMENT: ") && line.contains("\"!!\""),
        "{stderr}"
    );
    assert!(
        !line.contains("Client specified") && !line.contains("code:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_given_as_host_and_port_is_reached_over_http() {
    let server = TestServer::start().await;
    let addr = server.server.addr.to_string();
    let output = cli_output(&["collections", "--server", &addr], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(GLOSSARY_COLLECTION), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_strict_import_refused_for_empty_terms_suggests_skipping_them() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let tbx = write(dir.path(), "multiterm.tbx", EMPTY_TERM_TBX);

    let stderr = run_cli_failing(&server, &["import", &tbx, "--collection", "t"]);
    assert!(
        stderr.contains("hint: ") && stderr.contains("--skip-empty-terms"),
        "{stderr}"
    );

    // Refused for another reason: no hint.
    let bad_lang = EMPTY_TERM_TBX
        .replace("<term/>", "<term>саммит</term>")
        .replace("xml:lang=\"ru\"", "xml:lang=\"!!\"");
    let bad_lang = write(dir.path(), "bad-lang.tbx", &bad_lang);
    let stderr = run_cli_failing(&server, &["import", &bad_lang, "--collection", "t"]);
    assert!(
        stderr.contains("error: ") && !stderr.contains("--skip-empty-terms"),
        "{stderr}"
    );

    let imported = run_cli(
        &server,
        &["import", &tbx, "--collection", "t", "--skip-empty-terms"],
        "",
    );
    assert!(imported.contains("committed"), "{imported}");
}

/// The terminal column where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|at| line[..at].width())
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_align_columns_counting_chinese_characters_two_columns_wide() {
    let server = TestServer::start().await;

    let lookup = run_cli(&server, &["lookup", "上海合作组织", "--to", "zh,ru,en"], "");
    let status_columns: Vec<usize> = lookup
        .lines()
        .filter_map(|line| column_of(line, "preferred").or_else(|| column_of(line, "admitted")))
        .collect();
    assert!(status_columns.len() >= 3, "{lookup}");
    assert!(
        status_columns.iter().all(|&c| c == status_columns[0]),
        "{status_columns:?}\n{lookup}"
    );

    let recognized = run_cli(
        &server,
        &["recognize", "-", "--to", "en"],
        "上海合作组织峰会在阿斯塔纳举行。",
    );
    let header = recognized
        .lines()
        .find(|line| line.starts_with("chars"))
        .unwrap_or_else(|| panic!("{recognized}"));
    let rendering_column = column_of(header, "standard rendering").expect("column");
    let rows: Vec<&str> = recognized
        .lines()
        .filter(|line| line.contains("en: "))
        .collect();
    assert_eq!(rows.len(), 2, "{recognized}");
    for row in rows {
        assert_eq!(
            column_of(row, "en: "),
            Some(rendering_column),
            "{recognized}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_marks_how_the_sentence_differs_from_the_stored_source() {
    let server = TestServer::start().await;
    import_memory(&server);
    let search = |text: &str, from: &str, to: &str| {
        run_cli(&server, &["search", text, "--from", from, "--to", to], "")
    };

    let replaced = search("2024年7月，上海合作组织峰会在青岛举行。", "zh", "en");
    assert!(
        replaced.contains("2024年7月，上海合作组织峰会在[-阿斯塔纳-]{+青岛+}举行。"),
        "{replaced}"
    );

    let inserted = search("The big SCO summit was held in Astana", "en", "ru");
    assert!(
        inserted.contains("The {+big+} SCO summit was held in Astana")
            && inserted.contains("Саммит ШОС прошёл в Астане"),
        "{inserted}"
    );

    let exact = search("The SCO summit was held in Astana", "en", "ru");
    assert!(
        exact.contains("100%  The SCO summit was held in Astana  (m/en-ru)"),
        "{exact}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn language_flags_are_from_and_to_and_the_old_spellings_still_work() {
    let server = TestServer::start().await;
    let text = "Шанхайская организация сотрудничества и 上海合作组织";
    let from = run_cli(
        &server,
        &["recognize", "-", "--from", "ru", "--to", "en"],
        text,
    );
    let lang = run_cli(
        &server,
        &["recognize", "-", "--lang", "ru", "--to", "en"],
        text,
    );
    assert_eq!(from, lang);
    assert!(
        from.contains("[Шанхайская организация сотрудничества]")
            && !from.contains("[上海合作组织]"),
        "{from}"
    );

    import_memory(&server);
    let dir = tempfile::tempdir().expect("temporary directory");
    for flag in ["--from", "--srclang"] {
        let out = dir.path().join("out.tmx").to_string_lossy().into_owned();
        run_cli(
            &server,
            &["export", "--memory", "m", "-o", &out, flag, "en"],
            "",
        );
        let written = std::fs::read_to_string(&out).expect("exported");
        assert!(written.contains(r#"srclang="en""#), "{flag}: {written}");
    }

    // The old spellings are accepted but not offered.
    let help = |command: &str| {
        let output = cli_output(&[command, "--help"], "");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let recognize = help("recognize");
    assert!(
        recognize.contains("--from") && !recognize.contains("--lang"),
        "{recognize}"
    );
    let export = help("export");
    assert!(
        export.contains("--from") && !export.contains("--srclang"),
        "{export}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_a_whole_memory_or_collection_and_guards_the_shipped_glossary() {
    let server = TestServer::start().await;
    import_memory(&server);

    let deleted = run_cli(&server, &["delete", "--memory", "m"], "");
    assert_eq!(deleted, "deleted memory m: 2 units\n");
    let again = run_cli_failing(&server, &["delete", "--memory", "m"]);
    assert!(again.starts_with("error: NOT_FOUND: "), "{again}");

    let refused = run_cli_failing(&server, &["delete", "--collection", GLOSSARY_COLLECTION]);
    assert!(refused.contains("FAILED_PRECONDITION"), "{refused}");
    assert!(refused.contains("force"), "{refused}");
    let forced = run_cli(
        &server,
        &[
            "delete",
            "--collection",
            GLOSSARY_COLLECTION,
            "--force",
            "--json",
        ],
        "",
    );
    let response: serde_json::Value = serde_json::from_str(&forced).expect("JSON");
    let concepts: u64 = response["deletedConcepts"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .or_else(|| response["deletedConcepts"].as_u64())
        .expect("a count");
    assert!(concepts >= 600, "{forced}");
    let listed = run_cli(&server, &["collections", "--json"], "");
    assert!(!listed.contains(GLOSSARY_COLLECTION), "{listed}");
}
