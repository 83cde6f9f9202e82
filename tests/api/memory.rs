//! The translation memory: CAT-style matches in every direction, numbers as placeholders,
//! concordance, durability, duplicates, long segments, inline tags, and TMX import and export
//! through the command line.

use tolmach::formats::TmxReader;
use tolmach::service::proto::import_header::Target;
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::{
    AddUnitsRequest, AddUnitsResponse, ConcordanceRequest, DeleteUnitsRequest, ExportRequest,
    FileFormat, InlineTag, SearchRequest, SearchResponse, Segment, StatsRequest, TagKind,
    TranslationUnit,
};
use tonic::transport::Channel;
use tonic::Code;

use crate::util::TestServer;

pub(crate) fn unit(id: &str, segments: &[(&str, &str)]) -> TranslationUnit {
    TranslationUnit {
        id: id.into(),
        segments: segments
            .iter()
            .map(|(lang, text)| Segment {
                lang: (*lang).into(),
                text: (*text).into(),
                tags: vec![],
            })
            .collect(),
        ..Default::default()
    }
}

pub(crate) fn summit() -> TranslationUnit {
    unit(
        "summit-2024",
        &[
            ("zh", "2024年7月，上海合作组织峰会在阿斯塔纳举行。"),
            (
                "ru",
                "В июле 2024 года в Астане прошел саммит Шанхайской организации сотрудничества.",
            ),
            (
                "en",
                "In July 2024, the Shanghai Cooperation Organisation summit was held in Astana.",
            ),
        ],
    )
}

pub(crate) async fn memory(server: &TestServer) -> MemoryClient<Channel> {
    MemoryClient::new(server.channel().await)
}

pub(crate) async fn add(
    client: &mut MemoryClient<Channel>,
    memory: &str,
    units: Vec<TranslationUnit>,
) {
    client
        .add_units(AddUnitsRequest {
            memory: memory.into(),
            units,
        })
        .await
        .expect("units stored");
}

pub(crate) async fn search(
    client: &mut MemoryClient<Channel>,
    text: &str,
    from: &str,
    to: &str,
) -> SearchResponse {
    client
        .search(SearchRequest {
            text: text.into(),
            source_lang: from.into(),
            target_lang: to.into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("search {text:?}: {e}"))
        .into_inner()
}

#[tokio::test]
async fn one_unit_answers_every_direction_exactly() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    add(&mut client, "news", vec![summit()]).await;
    let stored = summit();
    let text = |lang: &str| {
        stored
            .segments
            .iter()
            .find(|s| s.lang == lang)
            .map(|s| s.text.clone())
            .unwrap_or_default()
    };
    for (from, to) in [
        ("zh", "ru"),
        ("zh", "en"),
        ("ru", "en"),
        ("ru", "zh"),
        ("en", "zh"),
        ("en", "ru"),
    ] {
        let response = search(&mut client, &text(from), from, to).await;
        let best = response
            .matches
            .first()
            .unwrap_or_else(|| panic!("{from}→{to}: no match"));
        assert_eq!(
            (best.score, best.target.clone()),
            (1.0, text(to)),
            "{from}→{to}"
        );
        assert!(best.diffs.is_empty());
    }
}

#[tokio::test]
async fn numbers_are_placeholders_and_the_target_is_adapted() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    add(&mut client, "news", vec![summit()]).await;
    let response = search(
        &mut client,
        "２０２５年7月，上海合作组织峰会在阿斯塔纳举行。",
        "zh",
        "ru",
    )
    .await;
    let best = response.matches.first().expect("a match");
    assert!(best.numbers_only, "{best:?}");
    assert!(
        best.score < 1.0 && best.score >= 0.9,
        "score {}",
        best.score
    );
    assert_eq!(
        best.adapted_target,
        "В июле 2025 года в Астане прошел саммит Шанхайской организации сотрудничества."
    );

    // The month is a word in the Russian target: only numbers differ, but no target with the
    // old month in it is offered as adapted.
    let response = search(
        &mut client,
        "2024年8月，上海合作组织峰会在阿斯塔纳举行。",
        "zh",
        "ru",
    )
    .await;
    let best = response.matches.first().expect("a match");
    assert!(best.numbers_only, "{best:?}");
    assert_eq!(best.adapted_target, "", "{best:?}");
    assert!(best.target.contains("июле"));
}

#[tokio::test]
async fn fuzzy_matches_score_by_words_and_mark_the_differences() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    add(&mut client, "news", vec![summit()]).await;
    // 12 English words in the stored source; the query replaces one of them.
    let query = "In July 2024, the Shanghai Cooperation Organisation forum was held in Astana.";
    let response = search(&mut client, query, "en", "zh").await;
    let best = response.matches.first().expect("a match");
    assert!(
        (best.score - (1.0 - 1.0 / 12.0)).abs() < 0.01,
        "score {}",
        best.score
    );
    let diff = best.diffs.first().expect("a difference");
    let span = diff.query.expect("query span");
    assert_eq!(&query[span.start as usize..span.end as usize], "forum");
    let nothing = search(
        &mut client,
        "Completely unrelated words about the weather today.",
        "en",
        "zh",
    )
    .await;
    assert!(nothing.matches.is_empty(), "{:?}", nothing.matches);
}

#[tokio::test]
async fn at_equal_score_the_match_with_the_query_numbers_comes_first() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    // Both stored sources are one word away from the query (numbers are placeholders, so
    // they score alike); the unit ids would put the wrong figures first.
    add(
        &mut client,
        "news",
        vec![
            unit(
                "a-wrong-figures",
                &[
                    (
                        "en",
                        "The forum gathered 26 delegations and 300 journalists.",
                    ),
                    ("ru", "Форум собрал 26 делегаций и 300 журналистов."),
                ],
            ),
            unit(
                "b-same-figures",
                &[
                    (
                        "en",
                        "The forum gathered 25 delegations and 400 journalists.",
                    ),
                    ("ru", "Форум собрал 25 делегаций и 400 журналистов."),
                ],
            ),
        ],
    )
    .await;
    // A typo, and the figures in another order: both stored sources are one word away.
    for text in [
        "The forum gathred 25 delegations and 400 journalists.",
        "The forum gathred 400 delegations and 25 journalists.",
    ] {
        let response = search(&mut client, text, "en", "ru").await;
        let ids: Vec<&str> = response
            .matches
            .iter()
            .map(|m| m.unit_id.as_str())
            .collect();
        assert_eq!(ids, ["b-same-figures", "a-wrong-figures"], "{text}");
        assert_eq!(
            response.matches[0].score, response.matches[1].score,
            "{text}"
        );
    }
}

#[tokio::test]
async fn concordance_finds_earlier_renderings_of_a_phrase() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    add(&mut client, "news", vec![summit()]).await;
    let hits = client
        .concordance(ConcordanceRequest {
            text: "Шанхайской организации".into(),
            lang: "ru".into(),
            ..Default::default()
        })
        .await
        .expect("concordance")
        .into_inner()
        .hits;
    let hit = hits.first().expect("a hit");
    let span = hit.spans.first().expect("a span");
    assert_eq!(
        &hit.text[span.start as usize..span.end as usize],
        "Шанхайской организации"
    );
    assert!(hit
        .translations
        .iter()
        .any(|t| t.lang == "zh" && t.text.contains("上海合作组织")));
}

#[tokio::test]
async fn units_survive_a_restart_and_deletes_are_counted() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    add(
        &mut client,
        "news",
        vec![summit(), unit("other", &[("en", "Peace"), ("ru", "Мир")])],
    )
    .await;
    let server = server.restart().await;
    assert_eq!(server.server.memory_ready().await.expect("memory loads"), 2);
    let mut client = memory(&server).await;
    assert_eq!(
        search(&mut client, "Peace", "en", "ru").await.matches[0].target,
        "Мир"
    );
    let deleted = client
        .delete_units(DeleteUnitsRequest {
            memory: "news".into(),
            ids: vec!["other".into(), "missing".into()],
        })
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted.deleted, 1);
    assert!(search(&mut client, "Peace", "en", "ru")
        .await
        .matches
        .is_empty());
    let stats = client
        .stats(StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    assert_eq!(
        stats
            .memories
            .iter()
            .map(|m| (m.memory.as_str(), m.units))
            .collect::<Vec<_>>(),
        [("news", 1)]
    );
}

#[tokio::test]
async fn bad_units_and_searches_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    let one_language = unit("x", &[("en", "Only English")]);
    let status = client
        .add_units(AddUnitsRequest {
            memory: "news".into(),
            units: vec![one_language],
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("units[0].segments"),
        "{}",
        status.message()
    );
    let status = client
        .search(SearchRequest {
            text: "text".into(),
            source_lang: "en".into(),
            target_lang: "xx-".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("target_lang"),
        "{}",
        status.message()
    );
}

async fn add_counted(
    client: &mut MemoryClient<Channel>,
    memory: &str,
    units: Vec<TranslationUnit>,
) -> AddUnitsResponse {
    client
        .add_units(AddUnitsRequest {
            memory: memory.into(),
            units,
        })
        .await
        .expect("units stored")
        .into_inner()
}

/// Regression (DESIGN: "duplicates are detected by a normalized hash"): a unit without id
/// added twice was stored twice under two counter ids, and Search returned it twice.
#[tokio::test]
async fn the_same_unit_added_again_without_id_replaces_the_stored_one() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    let peace = |en: &str, ru: &str| unit("", &[("en", en), ("ru", ru)]);
    let first = add_counted(
        &mut client,
        "m",
        vec![peace("Peace and friendship", "Мир и дружба")],
    )
    .await;
    assert_eq!((first.added, first.replaced), (1, 0));
    let id = first.ids[0].clone();

    // Equal after normalization (case, full width), twice in one request: one unit.
    let again = add_counted(
        &mut client,
        "m",
        vec![
            peace("PEACE and friendship", "Мир и дружба"),
            peace("Peace and ｆｒｉｅｎｄｓｈｉｐ", "Мир и дружба"),
        ],
    )
    .await;
    assert_eq!((again.added, again.replaced), (0, 2));
    assert_eq!(again.ids, [id.clone(), id.clone()]);
    let found = search(&mut client, "Peace and friendship", "en", "ru").await;
    assert_eq!(found.matches.len(), 1, "{:?}", found.matches);

    // Another translation of the same sentence is another unit.
    let other = add_counted(
        &mut client,
        "m",
        vec![peace("Peace and friendship", "Мир и дружбу")],
    )
    .await;
    assert_eq!((other.added, other.replaced), (1, 0));
    assert_ne!(other.ids[0], id);

    // A TMX import gives a <tu> without tuid the same id as AddUnits gives the same unit.
    let tmx = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header srclang="en" datatype="plaintext" segtype="sentence" o-tmf="x"
  adminlang="en" creationtool="test" creationtoolversion="1"/><body>
<tu><tuv xml:lang="en"><seg>Good neighbourliness</seg></tuv><tuv xml:lang="ru"><seg>Добрососедство</seg></tuv></tu>
</body></tmx>"#;
    let imported = crate::exchange::import(
        server.channel().await,
        crate::exchange::header(Target::Memory("m".into())),
        tmx.as_bytes(),
        1000,
    )
    .await;
    assert_eq!(imported.report().added, 1);
    let added = add_counted(
        &mut client,
        "m",
        vec![peace("Good neighbourliness", "Добрососедство")],
    )
    .await;
    assert_eq!((added.added, added.replaced), (0, 1));
}

fn tag(offset: u32, kind: TagKind, xml: &str) -> InlineTag {
    InlineTag {
        offset,
        kind: kind as i32,
        xml: xml.into(),
    }
}

/// Regression: tags from clients reached the TMX writer unchecked, so an export wrote
/// malformed XML, or failed halfway at a tag out of order.
#[tokio::test]
async fn inline_tags_must_be_tmx_markup_of_their_kind_in_text_order() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    let mut bad = unit("tagged", &[("en", "Press OK"), ("ru", "Нажмите OK")]);
    bad.segments[1].tags = vec![
        tag(0, TagKind::Begin, r#"<bpt i="1">&lt;b&gt;</bpt>"#),
        tag(14, TagKind::End, r#"<ept i="1">&lt;/b&gt;</ept>"#),
        tag(15, TagKind::Placeholder, "<ph>unclosed"),
        tag(3, TagKind::Placeholder, "<ph/>"),
        tag(99, TagKind::Placeholder, "<ph/>"),
        tag(17, TagKind::HighlightEnd, "</hi>"),
        tag(16, TagKind::Placeholder, "<ph/>"),
    ];
    let status = client
        .add_units(AddUnitsRequest {
            memory: "tags".into(),
            units: vec![bad.clone()],
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    for (field, reason) in [
        ("tags[2].xml", "not well-formed"),
        ("tags[3].offset", "character boundary"),
        ("tags[4].offset", "past the end"),
        ("tags[5].xml", "closes no open <hi>"),
        ("tags[6].offset", "text order"),
    ] {
        let named = format!("units[0].segments[1].{field}: ");
        let found = status
            .message()
            .split("; ")
            .any(|violation| violation.contains(&named) && violation.contains(reason));
        assert!(found, "{field}: {}", status.message());
    }
    for sound in ["tags[0]", "tags[1]"] {
        assert!(!status.message().contains(sound), "{}", status.message());
    }

    // The same unit with sound tags is stored, and exports as TMX that reads back the same.
    bad.segments[1].tags.truncate(2);
    bad.segments[0].tags = vec![
        tag(6, TagKind::HighlightStart, r#"<hi type="b">"#),
        tag(8, TagKind::HighlightEnd, "</hi>"),
    ];
    add(&mut client, "tags", vec![bad.clone()]).await;
    let file = crate::exchange::export(
        server.channel().await,
        ExportRequest {
            format: FileFormat::Tmx as i32,
            memory: "tags".into(),
            ..Default::default()
        },
    )
    .await
    .expect("exported");
    let units: Vec<_> = TmxReader::new(&file[..])
        .map(|entry| entry.expect("well-formed TMX").unit)
        .collect();
    let tags = |segments: &[tolmach::model::Segment]| -> Vec<(usize, String)> {
        segments
            .iter()
            .flat_map(|s| s.tags.iter().map(|t| (t.offset, t.xml.clone())))
            .collect()
    };
    assert_eq!(
        tags(&units[0].segments),
        bad.segments
            .iter()
            .flat_map(|s| s.tags.iter().map(|t| (t.offset as usize, t.xml.clone())))
            .collect::<Vec<_>>()
    );
}

/// Pseudo-random lower-case letters, `len` of them: a long segment with no repeats.
fn letters(len: usize, seed: u64) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from(b'a' + ((state >> 33) % 26) as u8)
        })
        .collect()
}

/// A copy of `text` with the character at `at` changed.
fn changed_at(text: &str, at: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars[at] = if chars[at] == 'z' { 'y' } else { 'z' };
    chars.into_iter().collect()
}

/// Regression: a 60 KiB segment of single-byte characters tagged `zh` and a near copy of it as
/// the query aborted the server while it aligned the two (a table of 3.6·10⁹ cells).
#[tokio::test]
async fn long_segments_are_refused_or_answered_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let mut client = memory(&server).await;
    let huge = letters(60_000, 1);
    let long = letters(4_000, 2);
    add(
        &mut client,
        "long",
        vec![
            unit("huge", &[("zh", &huge), ("en", "huge")]),
            unit("long", &[("zh", &long), ("en", "long")]),
            summit(),
        ],
    )
    .await;

    let status = client
        .search(SearchRequest {
            text: changed_at(&huge, 30_000),
            source_lang: "zh".into(),
            target_lang: "en".into(),
            ..Default::default()
        })
        .await
        .expect_err("a query of 60 000 characters is refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("text"), "{}", status.message());

    // Within the limit, a near copy of a long segment is found with its difference marked.
    let query = changed_at(&changed_at(&long, 5), 3_990);
    let response = search(&mut client, &query, "zh", "en").await;
    let best = response.matches.first().expect("a match");
    assert_eq!(
        (best.unit_id.as_str(), best.target.as_str()),
        ("long", "long")
    );
    assert!(
        (best.score - (1.0 - 2.0 / 4_000.0)).abs() < 1e-6,
        "{}",
        best.score
    );
    assert!(!best.diffs.is_empty());

    let response = search(
        &mut client,
        "2024年7月，上海合作组织峰会在阿斯塔纳举行。",
        "zh",
        "en",
    )
    .await;
    assert_eq!(response.matches.first().map(|m| m.score), Some(1.0));
}

// The command line blocks its thread while it runs: the server needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmx_import_and_export_round_trip_through_the_command_line() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let tmx = dir.path().join("in.tmx");
    std::fs::write(
        &tmx,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="none" adminlang="en" srclang="zh" datatype="plaintext"/>
<body>
<tu tuid="t1"><tuv xml:lang="zh-CN"><seg>弘扬<bpt i="1">&lt;b&gt;</bpt>上海精神<ept i="1">&lt;/b&gt;</ept></seg></tuv><tuv xml:lang="ru-RU"><seg>Развивать <bpt i="1">&lt;b&gt;</bpt>Шанхайский дух<ept i="1">&lt;/b&gt;</ept></seg></tuv></tu>
<tu tuid="t2"><tuv xml:lang="zh-CN"><seg>民心相通</seg></tuv><tuv xml:lang="ru-RU"><seg>Сближение народов</seg></tuv></tu>
</body></tmx>"#,
    )
    .expect("written");
    // Runs the command line against the server: whether it succeeded, stdout and stderr.
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tolmach"))
            .args(args)
            .args(["--server", &format!("http://{}", server.server.addr)])
            .output()
            .expect("runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            output.status.success(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };
    let cli = |args: &[&str]| {
        let (success, stdout, stderr) = run(args);
        assert!(success, "{args:?}: {stderr}");
        stdout
    };
    let refused = |args: &[&str]| {
        let (success, _, stderr) = run(args);
        assert!(!success, "{args:?} must fail");
        stderr
    };
    let tmx_path = tmx.to_string_lossy().into_owned();
    let imported = cli(&["import", &tmx_path, "--memory", "seed"]);
    assert!(
        imported.contains("committed")
            && imported
                .lines()
                .any(|l| l.split_whitespace().eq(["added", "2"])),
        "{imported}"
    );
    let found = cli(&["search", "弘扬上海精神", "--from", "zh", "--to", "ru"]);
    assert!(
        found.contains("100%") && found.contains("Развивать Шанхайский дух"),
        "{found}"
    );
    // As the issue writes it: the format comes from the file name, or from --memory.
    let out = dir.path().join("out.tmx");
    cli(&[
        "export",
        "--memory",
        "seed",
        "-o",
        &out.to_string_lossy(),
        "--srclang",
        "zh",
    ]);
    let exported = std::fs::read_to_string(&out).expect("exported");
    assert!(
        exported.contains(r#"<bpt i="1">&lt;b&gt;</bpt>上海精神<ept i="1">&lt;/b&gt;</ept>"#),
        "{exported}"
    );
    let unnamed = dir.path().join("memory.xml");
    cli(&[
        "export",
        "--memory",
        "seed",
        "-o",
        &unnamed.to_string_lossy(),
    ]);
    let exported = std::fs::read_to_string(&unnamed).expect("exported");
    assert!(exported.contains("<tmx version=\"1.4\">"), "{exported}");
    let csv = dir.path().join("glossary.CSV");
    cli(&[
        "export",
        "--collection",
        "sco-glossary",
        "-o",
        &csv.to_string_lossy(),
    ]);
    let exported = std::fs::read_to_string(&csv).expect("exported");
    assert!(
        !exported.starts_with('<') && exported.contains(','),
        "{exported}"
    );
    let dat = dir.path().join("glossary.dat");
    let stderr = refused(&[
        "export",
        "--collection",
        "sco-glossary",
        "-o",
        &dat.to_string_lossy(),
    ]);
    assert!(stderr.contains("--format"), "{stderr}");

    let broken = dir.path().join("broken.tmx");
    std::fs::write(
        &broken,
        "<tmx version=\"1.4\"><body><tu><tuv xml:lang=\"zh\"><seg>一</seg></tuv></body></tmx>",
    )
    .expect("written");
    let stderr = refused(&["import", &broken.to_string_lossy(), "--memory", "seed"]);
    assert!(stderr.contains("line"), "{stderr}");
}
