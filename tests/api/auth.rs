//! Access control as a client meets it: API keys sent as metadata, roles and scopes, the
//! keys managed over gRPC and on the command line, and who wrote what (concept history, the
//! audit log). Each server here has keys made on its data directory before it started.

use tolmach::auth::{NewKey, Role};
use tolmach::service::proto::access_client::AccessClient;
use tolmach::service::proto::exchange_client::ExchangeClient;
use tolmach::service::proto::import_header::Target;
use tolmach::service::proto::import_request::Message;
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    self, AddUnitsRequest, CreateKeyRequest, ExportRequest, FileFormat, GetConceptHistoryRequest,
    GetConceptRequest, ImportHeader, ImportRequest, ListAuditRequest, ListCollectionsRequest,
    ListKeysRequest, LookupRequest, RecognizeRequest, RevokeKeyRequest, TranslationUnit,
    UpsertConceptRequest,
};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::{InterceptedService, Interceptor};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::util::{cli_output, concept, start_in, start_with_keys, TestServer};

/// Sends one metadata entry (the key) with every call.
#[derive(Clone)]
pub(crate) struct SendKey(Option<(&'static str, MetadataValue<Ascii>)>);

impl Interceptor for SendKey {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some((name, value)) = &self.0 {
            request.metadata_mut().insert(*name, value.clone());
        }
        Ok(request)
    }
}

pub(crate) type Keyed = InterceptedService<Channel, SendKey>;

/// A connection sending `authorization: Bearer <key>`, or nothing when `key` is `None`.
pub(crate) async fn keyed(server: &TestServer, key: Option<&str>) -> Keyed {
    let header = key.map(|k| {
        let value = format!("Bearer {k}").parse().expect("ASCII key");
        ("authorization", value)
    });
    InterceptedService::new(server.channel().await, SendKey(header))
}

pub(crate) async fn termbase(server: &TestServer, key: &str) -> TermbaseClient<Keyed> {
    TermbaseClient::new(keyed(server, Some(key)).await)
}

async fn memory(server: &TestServer, key: &str) -> MemoryClient<Keyed> {
    MemoryClient::new(keyed(server, Some(key)).await)
}

async fn access(server: &TestServer, key: &str) -> AccessClient<Keyed> {
    AccessClient::new(keyed(server, Some(key)).await)
}

pub(crate) fn key(name: &str, role: Role, collections: &[&str], memories: &[&str]) -> NewKey {
    NewKey {
        name: name.into(),
        role,
        collections: collections.iter().map(|c| c.to_string()).collect(),
        memories: memories.iter().map(|m| m.to_string()).collect(),
        expires_ms: None,
    }
}

/// The code and message of a failed call; panics when it succeeded.
fn refusal<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String) {
    let status = result.expect_err("must be refused");
    (status.code(), status.message().to_owned())
}

fn lookup(text: &str) -> LookupRequest {
    LookupRequest {
        text: text.into(),
        ..Default::default()
    }
}

fn upsert(concept: proto::Concept) -> UpsertConceptRequest {
    UpsertConceptRequest {
        concept: Some(concept),
        ..Default::default()
    }
}

/// A concept of collection `collection` with one Russian term.
fn concept_in(collection: &str, id: &str, russian: &str) -> proto::Concept {
    proto::Concept {
        collection: collection.into(),
        ..concept(id, &[("ru", russian)])
    }
}

/// A two-language unit with id `id`.
fn unit(id: &str) -> TranslationUnit {
    crate::memory::unit(
        id,
        &[("en", "The summit opened."), ("ru", "Саммит открылся.")],
    )
}

#[tokio::test]
async fn calls_without_a_valid_key_are_unauthenticated() {
    let expired = NewKey {
        expires_ms: Some(1_000),
        ..key("night-shift", Role::Admin, &[], &[])
    };
    let (server, secrets) =
        start_with_keys(vec![key("desk-7", Role::Admin, &[], &[]), expired]).await;
    let (valid, expired) = (&secrets[0], &secrets[1]);
    let mut wrong_secret = valid.clone();
    let last = if valid.ends_with('0') { "1" } else { "0" };
    wrong_secret.replace_range(valid.len() - 1.., last);

    let cases: [(Option<&str>, &str); 4] = [
        (None, "needs an API key"),
        (Some("not-a-key"), "not a Tolmach key"),
        (Some(&wrong_secret), "unknown or wrong"),
        (Some(expired), "`night-shift` has expired"),
    ];
    for (sent, reason) in cases {
        let mut client = TermbaseClient::new(keyed(&server, sent).await);
        let (code, message) = refusal(client.lookup(lookup("峰会")).await);
        assert_eq!(code, Code::Unauthenticated, "{sent:?}: {message}");
        assert!(message.contains(reason), "{sent:?}: {message}");
    }

    termbase(&server, valid)
        .await
        .lookup(lookup("峰会"))
        .await
        .expect("a valid key is served");
    let value: MetadataValue<Ascii> = valid.parse().expect("ASCII key");
    let by_x_api_key = SendKey(Some(("x-api-key", value)));
    TermbaseClient::new(InterceptedService::new(
        server.channel().await,
        by_x_api_key,
    ))
    .lookup(lookup("峰会"))
    .await
    .expect("x-api-key is accepted too");
}

#[tokio::test]
async fn a_reader_cannot_write_and_is_told_the_role_it_would_need() {
    let (server, secrets) = start_with_keys(vec![key("desk-7", Role::Reader, &[], &[])]).await;
    let mut client = termbase(&server, &secrets[0]).await;
    client.lookup(lookup("峰会")).await.expect("a reader reads");
    let (code, message) = refusal(
        client
            .upsert_concept(upsert(concept("c1", &[("en", "press pool")])))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(
        message,
        "UpsertConcept needs role editor; key `desk-7` is a reader"
    );
    let (code, message) = refusal(
        memory(&server, &secrets[0])
            .await
            .add_units(AddUnitsRequest {
                memory: "wire".into(),
                units: vec![unit("u1")],
            })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "{message}");
    assert!(message.contains("needs role editor"), "{message}");
    let (code, message) = refusal(
        access(&server, &secrets[0])
            .await
            .list_keys(ListKeysRequest {})
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "{message}");
    assert!(message.contains("needs role admin"), "{message}");
}

#[tokio::test]
async fn a_scoped_editor_writes_in_its_collection_and_memory_and_nowhere_else() {
    let (server, secrets) =
        start_with_keys(vec![key("desk-7", Role::Editor, &["news"], &["wire"])]).await;
    let mut client = termbase(&server, &secrets[0]).await;
    client
        .upsert_concept(upsert(concept_in("news", "pool", "пресс-пул")))
        .await
        .expect("in scope");
    let (code, message) = refusal(
        client
            .upsert_concept(upsert(concept_in("sco-glossary", "pool-2", "пул")))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(
        message,
        "UpsertConcept on collection `sco-glossary` needs role editor with scope over it; \
         key `desk-7` is an editor of collections `news` and memories `wire` only"
    );
    // Moving a concept out of a collection it may not write is a write there too.
    let (code, _) = refusal(
        client
            .upsert_concept(UpsertConceptRequest {
                concept: Some(concept_in("news", "sco", "ШОС")),
                move_from_other_collection: true,
                ..Default::default()
            })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    let (code, message) = refusal(
        client
            .delete_concept(proto::DeleteConceptRequest { id: "sco".into() })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert!(message.contains("collection `sco-glossary`"), "{message}");
    client
        .delete_concept(proto::DeleteConceptRequest { id: "pool".into() })
        .await
        .expect("in scope");

    let mut units = memory(&server, &secrets[0]).await;
    units
        .add_units(AddUnitsRequest {
            memory: "wire".into(),
            units: vec![unit("u1")],
        })
        .await
        .expect("in scope");
    let (code, message) = refusal(
        units
            .add_units(AddUnitsRequest {
                memory: "archive".into(),
                units: vec![unit("u1")],
            })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert!(message.contains("memory `archive`"), "{message}");

    let header = ImportHeader {
        target: Some(Target::Collection("sport".into())),
        ..Default::default()
    };
    let messages = [ImportRequest {
        message: Some(Message::Header(header)),
    }];
    let (code, message) = refusal(
        ExchangeClient::new(keyed(&server, Some(&secrets[0])).await)
            .import(tokio_stream::iter(messages))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert!(
        message.starts_with("Import on collection `sport` needs role editor"),
        "{message}"
    );
}

#[tokio::test]
async fn a_scoped_reader_sees_only_its_collections() {
    let (server, secrets) = start_with_keys(vec![
        key("chief", Role::Admin, &[], &[]),
        key("desk-7", Role::Reader, &["news"], &[]),
    ])
    .await;
    termbase(&server, &secrets[0])
        .await
        .upsert_concept(upsert(concept_in("news", "pool", "пресс-пул")))
        .await
        .expect("stored");
    let text = "ШОС и пресс-пул";
    let recognize = || RecognizeRequest {
        text: text.into(),
        whole_concepts: true,
        ..Default::default()
    };
    let collections_found = |found: proto::RecognizeResponse| {
        let mut names: Vec<String> = crate::util::with_concepts(found)
            .into_iter()
            .filter_map(|o| o.concept.map(|c| c.collection))
            .collect();
        names.dedup();
        names
    };
    let everything = termbase(&server, &secrets[0])
        .await
        .recognize(recognize())
        .await
        .expect("recognized")
        .into_inner();
    assert_eq!(collections_found(everything), ["sco-glossary", "news"]);

    let mut reader = termbase(&server, &secrets[1]).await;
    let scoped = reader
        .recognize(recognize())
        .await
        .expect("recognized")
        .into_inner();
    assert_eq!(collections_found(scoped), ["news"]);
    let hits = reader
        .lookup(lookup("ШОС"))
        .await
        .expect("looked up")
        .into_inner()
        .hits;
    assert!(hits.is_empty(), "{hits:?}");
    let (code, message) = refusal(
        reader
            .lookup(LookupRequest {
                collections: vec!["sco-glossary".into()],
                ..lookup("ШОС")
            })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);
    assert!(message.contains("collection `sco-glossary`"), "{message}");
    let listed = reader
        .list_collections(ListCollectionsRequest {})
        .await
        .expect("listed")
        .into_inner()
        .collections;
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["news"]
    );
    let (code, _) = refusal(
        reader
            .get_concept(GetConceptRequest { id: "sco".into() })
            .await,
    );
    assert_eq!(code, Code::PermissionDenied);

    let mut chunks = ExchangeClient::new(keyed(&server, Some(&secrets[1])).await)
        .export(ExportRequest {
            format: FileFormat::Tsv as i32,
            ..Default::default()
        })
        .await
        .expect("export starts")
        .into_inner();
    let mut entries = 0;
    let mut file = Vec::new();
    while let Some(chunk) = chunks.message().await.expect("chunk") {
        entries += chunk.entries;
        file.extend(chunk.data);
    }
    let file = String::from_utf8(file).expect("UTF-8");
    assert_eq!(entries, 1, "{file}");
    assert!(file.contains("пресс-пул"), "{file}");
}

#[tokio::test]
async fn health_and_reflection_answer_without_a_key() {
    let (server, _) = start_with_keys(vec![key("chief", Role::Admin, &[], &[])]).await;
    HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: "tolmach.v1.Termbase".into(),
        })
        .await
        .expect("health is open");
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(server.channel().await)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection is open")
        .into_inner();
    assert!(responses.message().await.expect("answers").is_some());
}

#[tokio::test]
async fn an_admin_creates_and_revokes_keys_and_a_revoked_key_stops_at_once() {
    let (server, secrets) = start_with_keys(vec![key("chief", Role::Admin, &[], &[])]).await;
    let mut admin = access(&server, &secrets[0]).await;
    let created = admin
        .create_key(CreateKeyRequest {
            name: "desk-7".into(),
            role: proto::Role::Reader as i32,
            ..Default::default()
        })
        .await
        .expect("created")
        .into_inner();
    let secret = created.secret;
    assert!(secret.starts_with("tk_"), "{secret}");
    termbase(&server, &secret)
        .await
        .lookup(lookup("峰会"))
        .await
        .expect("the new key works at once");

    let listed = admin
        .list_keys(ListKeysRequest {})
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(
        listed
            .keys
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>(),
        ["chief", "desk-7"]
    );
    assert!(!format!("{listed:?}").contains(&secret[secret.len() - 64..]));
    let (code, _) = refusal(
        admin
            .create_key(CreateKeyRequest {
                name: "desk-7".into(),
                role: proto::Role::Reader as i32,
                ..Default::default()
            })
            .await,
    );
    assert_eq!(code, Code::AlreadyExists);

    let revoked = admin
        .revoke_key(RevokeKeyRequest {
            name: "desk-7".into(),
        })
        .await
        .expect("revoked")
        .into_inner();
    assert!(revoked.key.expect("the key").revoke_time.is_some());
    let (code, message) = refusal(
        termbase(&server, &secret)
            .await
            .lookup(lookup("峰会"))
            .await,
    );
    assert_eq!(code, Code::Unauthenticated);
    assert!(message.contains("`desk-7` was revoked"), "{message}");
}

#[tokio::test]
async fn history_names_the_author_and_time_of_every_revision() {
    let (server, secrets) = start_with_keys(vec![
        key("chief", Role::Admin, &[], &[]),
        key("desk-7", Role::Editor, &["news"], &[]),
    ])
    .await;
    let first = termbase(&server, &secrets[1])
        .await
        .upsert_concept(upsert(concept_in("news", "pool", "пресс-пул")))
        .await
        .expect("stored")
        .into_inner();
    assert_eq!(first.updated_by, "desk-7");
    let mut chief = termbase(&server, &secrets[0]).await;
    chief
        .upsert_concept(upsert(concept_in("news", "pool", "пул журналистов")))
        .await
        .expect("updated");
    let stored = chief
        .get_concept(GetConceptRequest { id: "pool".into() })
        .await
        .expect("read")
        .into_inner();
    assert_eq!((stored.revision, stored.updated_by.as_str()), (2, "chief"));

    let revisions = termbase(&server, &secrets[1])
        .await
        .get_concept_history(GetConceptHistoryRequest { id: "pool".into() })
        .await
        .expect("history")
        .into_inner()
        .revisions;
    let summary: Vec<(u64, &str, bool)> = revisions
        .iter()
        .map(|r| {
            let revision = r.concept.as_ref().map_or(0, |c| c.revision);
            (revision, r.author.as_str(), r.current)
        })
        .collect();
    assert_eq!(summary, [(2, "chief", true), (1, "desk-7", false)]);
    let times: Vec<i64> = revisions
        .iter()
        .map(|r| r.time.as_ref().expect("a time").seconds)
        .collect();
    assert!(
        times[0] >= times[1] && times[1] > 1_700_000_000,
        "{times:?}"
    );

    let (code, _) = refusal(
        chief
            .get_concept_history(GetConceptHistoryRequest { id: "none".into() })
            .await,
    );
    assert_eq!(code, Code::NotFound);
}

#[tokio::test]
async fn the_audit_log_lists_every_write_with_its_key() {
    let (server, secrets) = start_with_keys(vec![
        key("chief", Role::Admin, &[], &[]),
        key("desk-7", Role::Editor, &[], &[]),
    ])
    .await;
    termbase(&server, &secrets[1])
        .await
        .upsert_concept(upsert(concept_in("news", "pool", "пресс-пул")))
        .await
        .expect("stored");
    memory(&server, &secrets[1])
        .await
        .add_units(AddUnitsRequest {
            memory: "wire".into(),
            units: vec![unit("u1"), unit("u2")],
        })
        .await
        .expect("added");
    let tmx = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="test" creationtoolversion="1" segtype="sentence" o-tmf="none" adminlang="en" srclang="en" datatype="plaintext"/>
<body><tu tuid="u3"><tuv xml:lang="en"><seg>The summit closed.</seg></tuv><tuv xml:lang="ru"><seg>Саммит закрылся.</seg></tuv></tu></body></tmx>"#;
    let messages = [
        Message::Header(ImportHeader {
            target: Some(Target::Memory("wire".into())),
            format: FileFormat::Tmx as i32,
            ..Default::default()
        }),
        Message::Chunk(tmx.as_bytes().to_vec()),
    ]
    .map(|message| ImportRequest {
        message: Some(message),
    });
    let mut events = ExchangeClient::new(keyed(&server, Some(&secrets[1])).await)
        .import(tokio_stream::iter(messages))
        .await
        .expect("import starts")
        .into_inner();
    while events.message().await.expect("import event").is_some() {}
    let mut admin = access(&server, &secrets[0]).await;
    admin
        .revoke_key(RevokeKeyRequest {
            name: "desk-7".into(),
        })
        .await
        .expect("revoked");

    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = admin
            .list_audit(ListAuditRequest { after, limit: 2 })
            .await
            .expect("audit")
            .into_inner();
        records.extend(page.records);
        if page.next_after == 0 {
            break;
        }
        after = page.next_after;
    }
    let log: Vec<(&str, &str, &str, u64)> = records
        .iter()
        .map(|r| {
            (
                r.key.as_str(),
                r.change.as_str(),
                r.target.as_str(),
                r.count,
            )
        })
        .collect();
    assert_eq!(
        log,
        [
            ("", "create_key", "chief", 1),
            ("", "create_key", "desk-7", 1),
            ("desk-7", "upsert_concept", "pool", 1),
            ("desk-7", "add_units", "wire", 2),
            ("desk-7", "import", "wire", 0),
            ("chief", "revoke_key", "desk-7", 1),
        ]
    );
    assert!(records.windows(2).all(|w| w[0].sequence < w[1].sequence));
}

#[tokio::test]
async fn an_open_server_refuses_a_network_address() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = crate::util::config_in(dir.path());
    config.listen = "0.0.0.0:0".parse().expect("address");
    let refused = tolmach::server::start(config)
        .await
        .err()
        .expect("refused before binding");
    assert!(refused.to_string().contains("--insecure"), "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_makes_the_first_key_on_the_data_directory_and_then_uses_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let made = cli_output(
        &[
            "key",
            "create",
            "chief",
            "--role",
            "admin",
            "--data-dir",
            &data_dir,
        ],
        "",
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let secret = String::from_utf8(made.stdout).expect("UTF-8");
    let secret = secret.trim();
    assert!(secret.starts_with("tk_"), "{secret}");

    let server = TestServer {
        server: start_in(dir.path()).await,
        dir,
    };
    let url = format!("http://{}", server.server.addr);
    let with_key = cli_output(
        &["lookup", "峰会", "--server", &url, "--api-key", secret],
        "",
    );
    assert!(
        with_key.status.success(),
        "{}",
        String::from_utf8_lossy(&with_key.stderr)
    );
    let without = cli_output(&["lookup", "峰会", "--server", &url], "");
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("UNAUTHENTICATED"), "{stderr}");

    let listed = cli_output(&["key", "list", "--server", &url, "--api-key", secret], "");
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(
        table.contains("chief") && table.contains("admin"),
        "{table}"
    );

    // The running server holds the directory: the command says what to do instead.
    let locked = cli_output(
        &[
            "key",
            "create",
            "desk",
            "--role",
            "reader",
            "--data-dir",
            &data_dir,
        ],
        "",
    );
    let stderr = String::from_utf8_lossy(&locked.stderr);
    assert!(!locked.status.success());
    assert!(stderr.contains("held by a running server"), "{stderr}");
}
