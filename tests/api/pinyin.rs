//! Pinyin: Lookup reads a Latin query as Hanyu Pinyin however it is typed (tone marks, tone
//! numbers, no tones, spaces or none, `ü` as `v` or `u:`, apostrophes, any case) and answers
//! the Chinese terms that read so, heteronyms included; Lookup and Recognize can give the
//! pinyin of every Chinese rendering. English queries keep their English answers first.
//!
//! Every expected reading below was written by hand from Hanyu Pinyin orthography, not taken
//! from the server's output.

use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, LookupResponse, MatchKind, RecognizeRequest};
use tonic::transport::Channel;

use crate::util::{concept, lookup_text, store, TestServer};

/// The concept ids of a lookup's hits, best first.
fn ids(response: &LookupResponse) -> Vec<&str> {
    response
        .hits
        .iter()
        .map(|h| h.concept.as_ref().map_or("", |c| c.id.as_str()))
        .collect()
}

#[tokio::test]
async fn every_spelling_of_pinyin_finds_the_chinese_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // (query, concept, Chinese term that reads so)
    let cases = [
        ("yidaiyilu", "belt-and-road", "一带一路"),
        ("yi dai yi lu", "belt-and-road", "一带一路"),
        ("yídài yílù", "belt-and-road", "一带一路"),
        ("Yīdài Yīlù", "belt-and-road", "一带一路"),
        ("yi1dai4yi1lu4", "belt-and-road", "一带一路"),
        ("yi1 dai4 yi1 lu4", "belt-and-road", "一带一路"),
        ("YIDAIYILU", "belt-and-road", "一带一路"),
        ("ｙｉｄａｉｙｉｌｕ", "belt-and-road", "一带一路"),
        ("yi-dai yi-lu", "belt-and-road", "一带一路"),
        ("shanghai jingshen", "shanghai-spirit", "上海精神"),
        ("Shànghǎi jīngshén", "shanghai-spirit", "上海精神"),
        ("shang4hai3jing1shen2", "shanghai-spirit", "上海精神"),
        ("lvse fazhan", "green-development", "绿色发展"),
        ("lüsè fāzhǎn", "green-development", "绿色发展"),
        ("lu:se fazhan", "green-development", "绿色发展"),
        ("lu:4se4 fa1zhan3", "green-development", "绿色发展"),
        ("tu'erqi", "turkiye", "土耳其"),
        ("Tǔ’ěrqí", "turkiye", "土耳其"),
        ("tuerqi", "turkiye", "土耳其"),
    ];
    for (query, id, term) in cases {
        let response = lookup_text(&mut client, query).await;
        let hit = response
            .hits
            .first()
            .unwrap_or_else(|| panic!("{query:?} finds nothing"));
        let found = hit.concept.as_ref().map(|c| c.id.as_str());
        assert_eq!(found, Some(id), "{query:?}: {:?}", ids(&response));
        assert_eq!(hit.matched_term, term, "{query:?}");
        assert_eq!(hit.matched_lang, "zh", "{query:?}");
        assert_eq!(hit.kind, MatchKind::Pinyin as i32, "{query:?}");
    }
    // Not pinyin, or pinyin of nothing stored: no hit.
    for query in ["yidaiyilv", "yi dai yi", "xyz", "yi5dai9"] {
        let response = lookup_text(&mut client, query).await;
        assert!(
            !ids(&response).contains(&"belt-and-road"),
            "{query:?}: {:?}",
            ids(&response)
        );
    }
}

#[tokio::test]
async fn heteronyms_are_found_by_the_reading_the_word_has() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // The first reading of 长, 行, 重 in the character data is the wrong one in these words.
    for (id, zh) in [
        ("t-changjiang", "长江"),
        ("t-yinhang", "银行"),
        ("t-chongqing", "重庆"),
        ("t-zhongyao", "重要"),
        ("t-hangzhang", "行长"),
    ] {
        store(&mut client, concept(id, &[("zh", zh)])).await;
    }
    for (query, id) in [
        ("changjiang", "t-changjiang"),
        ("Cháng Jiāng", "t-changjiang"),
        ("yinhang", "t-yinhang"),
        ("yínháng", "t-yinhang"),
        ("chongqing", "t-chongqing"),
        ("Chóngqìng", "t-chongqing"),
        ("zhongyao", "t-zhongyao"),
        ("zhòngyào", "t-zhongyao"),
        ("hangzhang", "t-hangzhang"),
        ("hang2zhang3", "t-hangzhang"),
    ] {
        let response = lookup_text(&mut client, query).await;
        assert_eq!(ids(&response).first(), Some(&id), "{query:?}");
    }
}

#[tokio::test]
async fn tones_in_the_query_rank_the_reading_that_agrees_first() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // 伤害 shānghài "harm" and 上海 shànghǎi read alike without tones.
    store(&mut client, concept("t-shanghai-harm", &[("zh", "伤害")])).await;
    // 西安 Xī'ān is two syllables, 先 xiān one: the apostrophe tells them apart.
    store(&mut client, concept("t-xian-city", &[("zh", "西安")])).await;
    store(&mut client, concept("t-xian-first", &[("zh", "先")])).await;

    let response = lookup_text(&mut client, "shānghài").await;
    assert_eq!(ids(&response)[..2], ["t-shanghai-harm", "shanghai"]);
    let response = lookup_text(&mut client, "shang4hai3").await;
    assert_eq!(ids(&response)[..2], ["shanghai", "t-shanghai-harm"]);
    let response = lookup_text(&mut client, "shang1hai4").await;
    assert_eq!(ids(&response)[..2], ["t-shanghai-harm", "shanghai"]);
    // Agreeing tones score higher than no tones, and no tones than disagreeing ones.
    let score = |response: &LookupResponse, id: &str| {
        let hit = response
            .hits
            .iter()
            .find(|h| h.concept.as_ref().unwrap().id == id);
        hit.map(|h| h.score)
            .unwrap_or_else(|| panic!("{id} not found"))
    };
    let toned = score(
        &lookup_text(&mut client, "shànghǎi jīngshén").await,
        "shanghai-spirit",
    );
    let plain = score(
        &lookup_text(&mut client, "shanghai jingshen").await,
        "shanghai-spirit",
    );
    let wrong = score(
        &lookup_text(&mut client, "shānghài jǐngshěn").await,
        "shanghai-spirit",
    );
    assert!(toned > plain && plain > wrong, "{toned} {plain} {wrong}");

    let response = lookup_text(&mut client, "xi'an").await;
    assert!(ids(&response).contains(&"t-xian-city"));
    assert!(
        !ids(&response).contains(&"t-xian-first"),
        "{:?}",
        ids(&response)
    );
    let response = lookup_text(&mut client, "Xī'ān").await;
    assert_eq!(ids(&response).first(), Some(&"t-xian-city"));
    let response = lookup_text(&mut client, "xian").await;
    assert!(ids(&response).contains(&"t-xian-city"));
    assert!(ids(&response).contains(&"t-xian-first"));
    let response = lookup_text(&mut client, "xiān").await;
    assert_eq!(ids(&response).first(), Some(&"t-xian-first"));
}

#[tokio::test]
async fn english_terms_that_spell_pinyin_keep_their_english_match_first() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(&mut client, concept("t-shanghai-harm", &[("zh", "伤害")])).await;
    store(&mut client, concept("t-chi-na", &[("zh", "吃拿")])).await;
    for (query, id) in [
        ("Shanghai", "shanghai"),
        ("shanghai", "shanghai"),
        ("China", "china"),
        ("china", "china"),
        ("Beijing", "beijing"),
    ] {
        let response = lookup_text(&mut client, query).await;
        let hit = response.hits.first().expect("a hit");
        assert_eq!(hit.concept.as_ref().map(|c| c.id.as_str()), Some(id));
        assert_ne!(hit.kind, MatchKind::Pinyin as i32, "{query:?}");
        assert_eq!(hit.matched_lang, "en", "{query:?}");
    }
    // The pinyin readings still come, after the English match.
    let response = lookup_text(&mut client, "China").await;
    assert!(ids(&response).contains(&"t-chi-na"), "{:?}", ids(&response));
    // Asked for English only, a query is not read as pinyin.
    let response = client
        .lookup(LookupRequest {
            text: "yidaiyilu".into(),
            source_lang: "en".into(),
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    assert!(response.hits.is_empty(), "{:?}", ids(&response));
}

/// The pinyin of the Chinese rendering `zh` among the hits of a lookup of `zh` itself.
async fn rendered_pinyin(client: &mut TermbaseClient<Channel>, zh: &str) -> String {
    let response = client
        .lookup(LookupRequest {
            text: zh.into(),
            target_langs: vec!["zh".into()],
            with_pinyin: true,
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    let rendering = response
        .hits
        .iter()
        .flat_map(|h| &h.renderings)
        .find(|r| r.text == zh)
        .unwrap_or_else(|| panic!("no rendering {zh}"));
    rendering.pinyin.clone()
}

#[tokio::test]
async fn renderings_carry_the_pinyin_of_the_word_when_asked() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // Written as Hanyu Pinyin orthography writes them: words joined, proper names
    // capitalized, an apostrophe before a syllable starting with a, o or e.
    let exact = [
        ("长江", "Cháng Jiāng"),
        ("银行", "yínháng"),
        ("重庆", "Chóngqìng"),
        ("重要", "zhòngyào"),
        ("一带一路", "yīdài yīlù"),
        ("上海精神", "Shànghǎi jīngshén"),
        ("西安", "Xī'ān"),
        ("土耳其", "Tǔ'ěrqí"),
    ];
    // Readings of heteronyms in words; compared without spaces and capitals, which depend
    // on word division.
    let readings = [
        ("秘书长", "mìshūzhǎng"),
        ("长期", "chángqī"),
        ("比什凯克", "bǐshíkǎikè"),
        ("塔什干", "tǎshígān"),
        ("蒙古", "měnggǔ"),
        ("协调", "xiétiáo"),
        ("供应链", "gōngyìngliàn"),
        ("和平共处", "hépínggòngchǔ"),
        ("文化之都", "wénhuàzhīdū"),
        ("尼泊尔", "níbó'ěr"),
        ("缅甸", "miǎndiàn"),
        ("阿塞拜疆", "āsàibàijiāng"),
        ("不干涉内政", "bùgānshènèizhèng"),
        ("孔子", "kǒngzǐ"),
        ("电子商务", "diànzǐshāngwù"),
        ("行业", "hángyè"),
        ("发行", "fāxíng"),
    ];
    for (i, (zh, _)) in exact.iter().chain(&readings).enumerate() {
        store(&mut client, concept(&format!("t-word-{i}"), &[("zh", zh)])).await;
    }
    for (zh, want) in exact {
        assert_eq!(rendered_pinyin(&mut client, zh).await, want, "{zh}");
    }
    for (zh, want) in readings {
        let got = rendered_pinyin(&mut client, zh).await;
        let got: String = got.split_whitespace().collect::<String>().to_lowercase();
        assert_eq!(got, want, "{zh}");
    }

    // Only Chinese renderings have one, and only when asked.
    let response = client
        .lookup(LookupRequest {
            text: "Shanghai Spirit".into(),
            with_pinyin: true,
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    for rendering in &response.hits[0].renderings {
        assert_eq!(
            rendering.pinyin.is_empty(),
            !rendering.lang.starts_with("zh"),
            "{rendering:?}"
        );
    }
    let response = lookup_text(&mut client, "Shanghai Spirit").await;
    assert!(response.hits[0]
        .renderings
        .iter()
        .all(|r| r.pinyin.is_empty()));

    // Recognize, likewise.
    let recognize = |with_pinyin: bool| RecognizeRequest {
        text: "共建一带一路，弘扬上海精神。".into(),
        target_langs: vec!["zh".into(), "en".into()],
        with_pinyin,
        ..Default::default()
    };
    let found = client
        .recognize(recognize(true))
        .await
        .expect("recognize")
        .into_inner();
    let pinyin: Vec<(&str, &str)> = found
        .concepts
        .iter()
        .flat_map(|c| &c.renderings)
        .filter(|r| r.lang == "zh" && r.status == 1)
        .map(|r| (r.text.as_str(), r.pinyin.as_str()))
        .collect();
    assert!(pinyin.contains(&("一带一路", "yīdài yīlù")), "{pinyin:?}");
    assert!(
        pinyin.contains(&("上海精神", "Shànghǎi jīngshén")),
        "{pinyin:?}"
    );
    let found = client
        .recognize(recognize(false))
        .await
        .expect("recognize")
        .into_inner();
    assert!(!found.concepts.is_empty());
    assert!(found
        .concepts
        .iter()
        .flat_map(|c| &c.renderings)
        .all(|r| r.pinyin.is_empty()));
}
