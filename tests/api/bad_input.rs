//! Bad input gets INVALID_ARGUMENT naming the field (or NOT_FOUND), never a panic or UNKNOWN.

use tolmach::service::proto::{
    Concept, GetConceptRequest, LangSection, LookupRequest, RecognizeRequest, UpsertConceptRequest,
};
use tonic::{Code, Status};

use crate::util::{concept, TestServer};

fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) {
    let status = result.expect_err("must be refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains(field),
        "message {:?} should name {field}",
        status.message()
    );
}

#[tokio::test]
async fn malformed_concepts_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let upsert = |c: Concept| UpsertConceptRequest {
        concept: Some(c),
        expected_revision: 0,
        move_from_other_collection: false,
    };

    let mut empty_tag = concept("bad-1", &[("en", "term")]);
    empty_tag.langs[0].lang = String::new();
    assert_invalid(
        client.upsert_concept(upsert(empty_tag)).await,
        "concept.langs[0].lang",
    );

    let malformed_tag = concept("bad-2", &[("en", "term"), ("english", "term")]);
    assert_invalid(
        client.upsert_concept(upsert(malformed_tag)).await,
        "concept.langs[1].lang",
    );

    let empty_term = concept("bad-3", &[("ru", "  ")]);
    assert_invalid(
        client.upsert_concept(upsert(empty_term)).await,
        "concept.langs[0].terms[0].text",
    );

    let no_terms = Concept {
        id: "bad-4".into(),
        langs: vec![LangSection {
            lang: "zh".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_invalid(
        client.upsert_concept(upsert(no_terms)).await,
        "concept.langs[0].terms",
    );

    let no_sections = Concept {
        id: "bad-5".into(),
        ..Default::default()
    };
    assert_invalid(
        client.upsert_concept(upsert(no_sections)).await,
        "concept.langs",
    );

    let oversized = concept("bad-6", &[("en", &"x".repeat(2000))]);
    assert_invalid(
        client.upsert_concept(upsert(oversized)).await,
        "concept.langs[0].terms[0].text",
    );

    let bad_id = concept("has space", &[("en", "term")]);
    assert_invalid(client.upsert_concept(upsert(bad_id)).await, "concept.id");

    assert_invalid(
        client
            .upsert_concept(UpsertConceptRequest {
                concept: None,
                expected_revision: 0,
                move_from_other_collection: false,
            })
            .await,
        "concept",
    );
}

#[tokio::test]
async fn malformed_lookups_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let lookup = |text: &str| LookupRequest {
        text: text.into(),
        ..Default::default()
    };

    assert_invalid(client.lookup(lookup("")).await, "text");
    assert_invalid(client.lookup(lookup(&"一".repeat(400))).await, "text");
    let mut bad_source = lookup("SCO");
    bad_source.source_lang = "e".into();
    assert_invalid(client.lookup(bad_source).await, "source_lang");
    let mut bad_target = lookup("SCO");
    bad_target.target_langs = vec!["ru".into(), "русский".into()];
    assert_invalid(client.lookup(bad_target).await, "target_langs[1]");
    let mut bad_score = lookup("SCO");
    bad_score.min_score = 1.5;
    assert_invalid(client.lookup(bad_score).await, "min_score");
}

#[tokio::test]
async fn malformed_recognize_requests_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let recognize = |text: &str| RecognizeRequest {
        text: text.into(),
        ..Default::default()
    };
    assert_invalid(client.recognize(recognize("")).await, "text");
    let over_a_mebibyte = "Шанхайский дух. ".repeat(40_000);
    assert_invalid(client.recognize(recognize(&over_a_mebibyte)).await, "text");
    let mut bad_lang = recognize("上海精神");
    bad_lang.lang = "chinese".into();
    assert_invalid(client.recognize(bad_lang).await, "lang");
    let mut bad_target = recognize("上海精神");
    bad_target.target_langs = vec!["en".into(), "".into()];
    assert_invalid(client.recognize(bad_target).await, "target_langs[1]");
    let mut bad_collection = recognize("上海精神");
    bad_collection.collections = vec!["no spaces allowed".into()];
    assert_invalid(client.recognize(bad_collection).await, "collections[0]");
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let status = client
        .get_concept(GetConceptRequest {
            id: "no-such-concept".into(),
        })
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("no-such-concept"));
}

#[tokio::test]
async fn invalid_utf8_in_a_string_field_is_invalid_argument() {
    let server = TestServer::start().await;
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready().await.expect("ready");
    // Field 1 (text), length 2, bytes that are not UTF-8.
    let body = vec![0x0a, 0x02, 0xff, 0xfe];
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/tolmach.v1.Termbase/Lookup");
    let status = grpc
        .unary::<Vec<u8>, Vec<u8>, _>(tonic::Request::new(body), path, RawCodec)
        .await
        .expect_err("invalid UTF-8 is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

/// Sends bytes as they are, to put malformed protobuf on the wire.
#[derive(Clone, Copy)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        use bytes::Buf;
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}
