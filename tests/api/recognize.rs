//! Recognize: every term occurrence in running text, with spans in the original text.

use tolmach::index::STANDALONE_NOTE;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    Concept, LangSection, LookupRequest, MatchKind, Occurrence, RecognizeRequest, TermStatus,
};
use tonic::transport::Channel;

use crate::exchange::{collection, header, import};
use crate::util::{concept, occurrences, run_cli, store, term, TestServer};

async fn store_all(client: &mut TermbaseClient<Channel>, concepts: Vec<Concept>) {
    for concept in concepts {
        store(client, concept).await;
    }
}

async fn recognize(
    client: &mut TermbaseClient<Channel>,
    text: &str,
    lang: &str,
) -> Vec<Occurrence> {
    let request = RecognizeRequest {
        text: text.into(),
        lang: lang.into(),
        target_langs: vec!["zh".into(), "en".into()],
        collections: vec!["test".into()],
        ..Default::default()
    };
    occurrences(client, request).await
}

fn surfaces(found: &[Occurrence]) -> Vec<&str> {
    found.iter().map(|o| o.surface.as_str()).collect()
}

/// Every occurrence in `text` of a term of the shipped glossary (or of the test collection),
/// as (surface, concept id) pairs.
async fn glossary_terms(client: &mut TermbaseClient<Channel>, text: &str) -> Vec<(String, String)> {
    let request = RecognizeRequest {
        text: text.into(),
        ..Default::default()
    };
    occurrences(client, request)
        .await
        .into_iter()
        .map(|o| (o.surface, o.concept.map(|c| c.id).unwrap_or_default()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(surface, id)| ((*surface).to_owned(), (*id).to_owned()))
        .collect()
}

/// The terms of `concept` marked to be recognized even as single common words standing alone.
fn standing_alone(mut concept: Concept) -> Concept {
    for section in &mut concept.langs {
        for term in &mut section.terms {
            term.note = STANDALONE_NOTE.to_owned();
        }
    }
    concept
}

fn test_concepts() -> Vec<Concept> {
    let mut obor = concept(
        "t-bri",
        &[
            ("zh", "一带一路"),
            ("ru", "Пояс и путь"),
            ("en", "Belt and Road"),
        ],
    );
    obor.langs[2]
        .terms
        .push(term("One Belt, One Road", TermStatus::Deprecated));
    obor.langs[2]
        .terms
        .push(term("OBOR", TermStatus::Deprecated));
    vec![
        concept(
            "t-sco",
            &[
                ("zh", "上海合作组织"),
                ("ru", "Шанхайская организация сотрудничества"),
                ("en", "Shanghai Cooperation Organisation"),
            ],
        ),
        concept(
            "t-spirit",
            &[
                ("zh", "上海精神"),
                ("ru", "Шанхайский дух"),
                ("en", "Shanghai Spirit"),
            ],
        ),
        standing_alone(concept(
            "t-peace",
            &[("zh", "和平"), ("ru", "мир"), ("en", "peace")],
        )),
        standing_alone(concept(
            "t-form",
            &[("zh", "形式"), ("ru", "форма"), ("en", "form")],
        )),
        concept(
            "t-harmony",
            &[("zh", "和合"), ("ru", "гармония"), ("en", "harmony")],
        ),
        standing_alone(concept(
            "t-multilateralism",
            &[
                ("zh", "多边主义"),
                ("ru", "многосторонность"),
                ("en", "multilateralism"),
            ],
        )),
        concept(
            "t-developing",
            &[
                ("zh", "发展中国家"),
                ("ru", "развивающиеся страны"),
                ("en", "developing countries"),
            ],
        ),
        obor,
    ]
}

#[tokio::test]
async fn finds_inflected_russian_and_reports_three_kinds_of_span() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let text = "😀 В рамках Шанхайской организации сотрудничества укрепляют «Шанхайский дух».";
    let found = recognize(&mut client, text, "ru").await;
    assert_eq!(
        surfaces(&found),
        ["Шанхайской организации сотрудничества", "Шанхайский дух"]
    );
    let first = &found[0];
    assert_eq!(first.kind, MatchKind::Stemmed as i32);
    let bytes = first.bytes.expect("byte span");
    assert_eq!(
        &text[bytes.start as usize..bytes.end as usize],
        first.surface
    );
    let chars = first.chars.expect("char span");
    let utf16 = first.utf16.expect("utf16 span");
    let char_start = text[..bytes.start as usize].chars().count() as u32;
    assert_eq!(chars.start, char_start);
    // The emoji is one scalar value but two UTF-16 code units.
    assert_eq!(utf16.start, char_start + 1);
    assert_eq!(
        chars.end - chars.start,
        first.surface.chars().count() as u32
    );
    assert_eq!(found[1].kind, MatchKind::Exact as i32);
    let zh = found[1]
        .renderings
        .iter()
        .find(|r| r.lang == "zh")
        .expect("zh rendering");
    assert_eq!(zh.text, "上海精神");
}

#[tokio::test]
async fn finds_chinese_terms_inside_running_text_and_quotes() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let text = "积极落实共建“一带一路”倡议，弘扬“上海精神”，上海合作组織成員國";
    let found = recognize(&mut client, text, "zh").await;
    assert_eq!(surfaces(&found), ["一带一路", "上海精神", "上海合作组織"]);
    assert_eq!(
        found[2].kind,
        MatchKind::Normalized as i32,
        "traditional characters match"
    );
}

#[tokio::test]
async fn terms_do_not_fire_inside_longer_words_but_inflections_match() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let found = recognize(&mut client, "The format of the form; formal forms.", "en").await;
    assert_eq!(surfaces(&found), ["form", "forms"]);
    let found = recognize(
        &mut client,
        "Мировой порядок служит миру, а мир нужен всем.",
        "ru",
    )
    .await;
    assert_eq!(surfaces(&found), ["миру", "мир"]);
}

/// Inflections match; derived words of another meaning, which share a Snowball stem, do not.
#[tokio::test]
async fn derived_words_of_another_meaning_are_not_taken_for_a_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let text = "Developed countries held multilateral talks with the developing country \
                that champions multilateralism and other developing countries.";
    let found = recognize(&mut client, text, "en").await;
    assert_eq!(
        surfaces(&found),
        [
            "developing country",
            "multilateralism",
            "developing countries"
        ]
    );
    let text = "Многосторонние переговоры о многосторонности; приверженность многосторонности.";
    let found = recognize(&mut client, text, "ru").await;
    assert_eq!(surfaces(&found), ["многосторонности", "многосторонности"]);
}

/// Where normalization changes the length (full-width letters, `&` read as "and", a stress
/// mark), spans still cover exactly the text as written, in all three units.
#[tokio::test]
async fn spans_cover_the_text_as_written_where_normalization_changes_its_length() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let text = "𝐀 The ＳＨＡＮＧＨＡＩ Spirit & the Belt & Road; Ша\u{301}нхайский дух.";
    let found = recognize(&mut client, text, "").await;
    assert_eq!(
        surfaces(&found),
        [
            "ＳＨＡＮＧＨＡＩ Spirit",
            "Belt & Road",
            "Ша\u{301}нхайский дух"
        ]
    );
    for occurrence in &found {
        let bytes = occurrence.bytes.expect("byte span");
        let (start, end) = (bytes.start as usize, bytes.end as usize);
        let chars = occurrence.chars.expect("char span");
        let utf16 = occurrence.utf16.expect("UTF-16 span");
        assert_eq!(chars.start as usize, text[..start].chars().count());
        assert_eq!(chars.end as usize, text[..end].chars().count());
        assert_eq!(utf16.start as usize, text[..start].encode_utf16().count());
        assert_eq!(utf16.end as usize, text[..end].encode_utf16().count());
    }
}

#[tokio::test]
async fn deprecated_variants_carry_the_preferred_term_as_suggestion() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    let found = recognize(
        &mut client,
        "Projects of the One Belt, One Road (OBOR) and the Belt and Road.",
        "en",
    )
    .await;
    assert_eq!(
        surfaces(&found),
        ["One Belt, One Road", "OBOR", "Belt and Road"]
    );
    for deprecated in &found[..2] {
        assert_eq!(deprecated.matched_status, TermStatus::Deprecated as i32);
        assert_eq!(deprecated.suggestion, "Belt and Road");
    }
    assert_eq!(
        found[2].suggestion, "",
        "a preferred term needs no suggestion"
    );
}

/// A variant that differs from the preferred term only in what normalization folds (here
/// capitals in an official name) is still recognized as itself, with its warning.
#[tokio::test]
async fn a_discouraged_variant_equal_after_normalization_still_gets_its_suggestion() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut sco = concept("t-sco-case", &[("en", "Shanghai Cooperation Organisation")]);
    sco.langs[0].terms.push(term(
        "shanghai cooperation organisation",
        TermStatus::Deprecated,
    ));
    store_all(&mut client, vec![sco]).await;
    let text = "The Shanghai Cooperation Organisation, or the shanghai cooperation organisation.";
    let found = recognize(&mut client, text, "en").await;
    let matched: Vec<(&str, &str)> = found
        .iter()
        .map(|o| (o.matched_term.as_str(), o.suggestion.as_str()))
        .collect();
    assert_eq!(
        matched,
        [
            ("Shanghai Cooperation Organisation", ""),
            (
                "shanghai cooperation organisation",
                "Shanghai Cooperation Organisation"
            ),
        ]
    );
    assert!(found.iter().all(|o| o.kind == MatchKind::Exact as i32));
}

#[tokio::test]
async fn leftmost_longest_prefers_the_longer_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut short = concept("t-shanghai", &[("zh", "上海")]);
    short.langs.push(LangSection {
        lang: "en".into(),
        terms: vec![term("Shanghai", TermStatus::Preferred)],
        ..Default::default()
    });
    store_all(
        &mut client,
        vec![
            short,
            concept(
                "t-spirit2",
                &[("zh", "上海精神"), ("en", "Shanghai Spirit")],
            ),
        ],
    )
    .await;
    let found = recognize(&mut client, "上海精神在上海", "zh").await;
    assert_eq!(surfaces(&found), ["上海精神", "上海"]);
    let found = recognize(&mut client, "the Shanghai Spirit in Shanghai", "en").await;
    assert_eq!(surfaces(&found), ["Shanghai Spirit", "Shanghai"]);
}

#[tokio::test]
async fn two_character_chinese_terms_do_not_straddle_words() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store_all(&mut client, test_concepts()).await;
    // 交流 / 和 / 合作: "exchanges and cooperation", not 和合 "harmony".
    let found = recognize(&mut client, "加强交流和合作，讲好“和合”故事", "zh").await;
    assert_eq!(surfaces(&found), ["和合"]);
    assert_eq!(found[0].chars.map(|s| (s.start, s.end)), Some((11, 13)));
}

/// A name or acronym keeps its capitals in the text: lower-case prose words equal to names are
/// not the names, while sentence capitals, headlines and a multiword name with one word in
/// lower case still are. Lookup stays case-tolerant: translators type lower case.
#[tokio::test]
async fn lower_case_words_equal_to_names_are_not_taken_for_them() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for prose in [
        "We ate turkey on fine china.",
        "Le ministre a parlé d'un sommet; l'artiste Ai Weiwei n'était pas là.",
        "Thanks to the ai of the islands; people's daily lives.",
        "People's daily lives are hard.",
    ] {
        assert_eq!(glossary_terms(&mut client, prose).await, [], "{prose}");
    }
    let text = "Türkiye (Turkey), CHINA, the UN and AI. The Belt and Road initiative. \
                People's Daily.";
    assert_eq!(
        glossary_terms(&mut client, text).await,
        pairs(&[
            ("Türkiye", "turkiye"),
            ("Turkey", "turkiye"),
            ("CHINA", "china"),
            ("UN", "united-nations"),
            ("AI", "artificial-intelligence"),
            ("Belt and Road initiative", "belt-and-road-initiative"),
            ("People's Daily", "peoples-daily"),
        ])
    );
    for (query, concept) in [
        ("china", "china"),
        ("un", "united-nations"),
        ("turkey", "turkiye"),
    ] {
        let hits = client
            .lookup(LookupRequest {
                text: query.into(),
                source_lang: "en".into(),
                ..Default::default()
            })
            .await
            .expect("looked up")
            .into_inner()
            .hits;
        let first = hits
            .first()
            .and_then(|h| h.concept.as_ref())
            .map(|c| c.id.as_str());
        assert_eq!(first, Some(concept), "{query}");
    }
}

/// A term that is one common word (equality, harmony, editor) is reported inside an
/// enumeration of terms, not alone in prose, unless its note opts it in.
#[tokio::test]
async fn a_single_common_word_is_reported_in_an_enumeration_or_when_opted_in() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let prose = "A panel on gender equality; live in harmony, the editor said. Равенство прав.";
    assert_eq!(glossary_terms(&mut client, prose).await, []);
    let listed = "The Shanghai Spirit of mutual trust, mutual benefit, equality, consultation.";
    assert_eq!(
        glossary_terms(&mut client, listed).await,
        pairs(&[
            ("Shanghai Spirit", "shanghai-spirit"),
            ("mutual trust", "shanghai-spirit-mutual-trust"),
            ("mutual benefit", "shanghai-spirit-mutual-benefit"),
            ("equality", "shanghai-spirit-equality"),
            ("consultation", "shanghai-spirit-consultation"),
        ])
    );
    // Chinese terms are words of their own: 平等 and 和合 fire alone.
    let chinese = "坚持平等，讲好“和合”故事";
    assert_eq!(
        glossary_terms(&mut client, chinese).await,
        pairs(&[
            ("平等", "shanghai-spirit-equality"),
            ("和合", "he-he-harmony")
        ])
    );
    // The terminologist's opt-in, as a glossary file says it.
    let tbx = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<tbxHeader><fileDesc><sourceDesc><p>house style</p></sourceDesc></fileDesc></tbxHeader>
<text><body>
<conceptEntry id="t-equanimity">
  <langSec xml:lang="en"><termSec><term>equanimity</term><note>{STANDALONE_NOTE}</note></termSec></langSec>
</conceptEntry>
<conceptEntry id="t-serenity">
  <langSec xml:lang="en"><termSec><term>serenity</term></termSec></langSec>
</conceptEntry>
</body></text>
</tbx>
"#
    );
    let outcome = import(
        server.channel().await,
        header(collection("house")),
        tbx.as_bytes(),
        1 << 16,
    )
    .await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let text = "Equanimity helps. Serenity too.";
    assert_eq!(
        glossary_terms(&mut client, text).await,
        pairs(&[("Equanimity", "t-equanimity")])
    );
}

/// A word mixing lookalike letters of Latin, Cyrillic and Greek is read in the script its
/// other letters say; the span is the word as typed.
#[tokio::test]
async fn lookalike_letters_of_another_script_still_find_the_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // ШОС with Latin O and C (inside «саммит ШОС»); SCO with a Cyrillic С, then with a Greek
    // Ο; Китай with a Latin K.
    let text = "Саммит ШOC. The S\u{421}O Secretariat and the SC\u{39F}. Kитай.";
    assert_eq!(
        glossary_terms(&mut client, text).await,
        pairs(&[
            ("Саммит ШOC", "sco-summit"),
            ("S\u{421}O Secretariat", "sco-secretariat"),
            ("SC\u{39F}", "sco"),
            ("Kитай", "china"),
        ])
    );
}

/// Whitespace between two Chinese characters does not split a term; the span covers the
/// line break as written.
#[tokio::test]
async fn chinese_terms_broken_by_a_line_break_are_found_whole() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let text = "积极参与上海合作\n组织事务，推进中吉乌 铁路和交通物流\r\n通道建设。上海 SCO";
    let request = RecognizeRequest {
        text: text.into(),
        ..Default::default()
    };
    let found = occurrences(&mut client, request).await;
    assert_eq!(
        surfaces(&found),
        [
            "上海合作\n组织",
            "中吉乌 铁路",
            "交通物流\r\n通道",
            "上海",
            "SCO"
        ]
    );
    let first = found[0].chars.expect("char span");
    assert_eq!((first.start, first.end), (4, 11));
    let bytes = found[1].bytes.expect("byte span");
    assert_eq!(
        &text[bytes.start as usize..bytes.end as usize],
        "中吉乌 铁路"
    );
}

/// An inflected match that takes a quotation mark between its words takes its partner too.
#[tokio::test]
async fn spans_hold_both_quotation_marks_of_a_quote_or_neither() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let text = "Доклад «Десять лет инициативы «Пояс и путь»». One praised the \"Belt and Road\" \
                Initiative and “Belt and Road”.";
    assert_eq!(
        glossary_terms(&mut client, text).await,
        pairs(&[
            ("инициативы «Пояс и путь»", "belt-and-road-initiative"),
            ("\"Belt and Road\" Initiative", "belt-and-road-initiative"),
            ("Belt and Road", "belt-and-road"),
        ])
    );
}

/// The command line an editor or a script uses: `tolmach recognize` marks the terms in the
/// text, lists them with the standard rendering and a warning for discouraged variants, and
/// `--json` prints the response itself. (Multi-threaded: the test waits for the command on
/// one thread while the server answers on another.)
#[tokio::test(flavor = "multi_thread")]
async fn the_recognize_command_marks_terms_and_prints_json() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("draft.txt");
    let draft = "Участники обсудили развитие Шанхайской организации сотрудничества.\n";
    std::fs::write(&file, draft).expect("written");
    let run = |args: &[&str], stdin: &str| {
        let args: Vec<&str> = std::iter::once("recognize")
            .chain(args.iter().copied())
            .collect();
        run_cli(&server, &args, stdin)
    };

    let path = file.to_string_lossy().into_owned();
    let table = run(&[&path, "--lang", "ru", "--to", "zh,en"], "");
    assert!(
        table.contains("[Шанхайской организации сотрудничества]"),
        "{table}"
    );
    assert!(
        table.contains("zh: 上海合作组织")
            && table.contains("en: Shanghai Cooperation Organisation"),
        "{table}"
    );

    // A term broken across lines is still one row of the table.
    let broken = run(&["-", "--to", "en"], "上海合作\n组织");
    let row = broken
        .lines()
        .find(|line| line.starts_with("0..7"))
        .unwrap_or_else(|| panic!("{broken}"));
    assert!(
        row.contains("上海合作 组织") && row.contains("en: Shanghai Cooperation Organisation"),
        "{broken}"
    );

    let warned = run(&["-", "--to", "zh"], "Projects of One Belt, One Road.");
    assert!(
        warned.contains("[One Belt, One Road]") && warned.contains("use «Belt and Road»"),
        "{warned}"
    );

    let json = run(&["-", "--lang", "zh", "--json"], "共建“一带一路”倡议");
    let response: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let occurrences = response["occurrences"].as_array().expect("occurrences");
    assert_eq!(occurrences.len(), 1, "{json}");
    assert_eq!(occurrences[0]["surface"], "共建“一带一路”倡议");
}

/// A compact reply names each concept once: on the seed articles (newsroom Chinese, dense
/// with glossary terms) it stays within three times the size of the text, where concepts
/// inline in every occurrence made it many times larger; and both shapes find the same
/// occurrences with the same concepts. The article repeated to 1 MiB is answered whole
/// within the 4 MiB a gRPC client accepts by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(tolmach_seeds), ignore = "needs ../shared/seeds")]
async fn compact_replies_stay_within_three_times_the_text_of_the_seed_articles() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for (name, text) in crate::util::seed_articles() {
        let ask = |inline_concepts| RecognizeRequest {
            text: text.clone(),
            inline_concepts,
            ..Default::default()
        };
        let compact = client
            .recognize(ask(false))
            .await
            .expect("compact")
            .into_inner();
        let inline = client
            .recognize(ask(true))
            .await
            .expect("inline")
            .into_inner();
        let (compact_bytes, inline_bytes) = (
            prost::Message::encoded_len(&compact),
            prost::Message::encoded_len(&inline),
        );
        let ratio = compact_bytes as f64 / text.len() as f64;
        println!(
            "{name}: text {} B, {} occurrences of {} concepts; compact reply {compact_bytes} B \
             ({ratio:.2}x), inline {inline_bytes} B ({:.1}x)",
            text.len(),
            compact.occurrences.len(),
            compact.concepts.len(),
            inline_bytes as f64 / text.len() as f64,
        );
        assert!(
            compact.occurrences.len() > 20,
            "{name}: a term-dense article"
        );
        assert!(
            ratio <= 3.0,
            "{name}: a compact reply {ratio:.2} times its text"
        );
        let ids = |occurrences: Vec<Occurrence>| -> Vec<(String, String)> {
            occurrences
                .into_iter()
                .map(|o| (o.surface, o.concept.map(|c| c.id).unwrap_or_default()))
                .collect()
        };
        let mut concept_ids: Vec<&str> = compact
            .concepts
            .iter()
            .filter_map(|c| c.concept.as_ref().map(|c| c.id.as_str()))
            .collect();
        concept_ids.sort_unstable();
        let before = concept_ids.len();
        concept_ids.dedup();
        assert_eq!(before, concept_ids.len(), "{name}: each concept once");
        assert_eq!(
            ids(crate::util::with_concepts(compact)),
            ids(inline.occurrences),
            "{name}: the same occurrences and concepts either way"
        );

        let big = text.repeat((1 << 20) / text.len());
        let reply = client
            .recognize(RecognizeRequest {
                text: big.clone(),
                ..Default::default()
            })
            .await
            .expect("1 MiB recognized by a client with the default 4 MiB limit")
            .into_inner();
        assert_eq!(reply.omitted_occurrences, 0, "{name}: 1 MiB answered whole");
        let sent = prost::Message::encoded_len(&reply);
        println!("{name} repeated to {} B: reply {sent} B", big.len());
    }
}
