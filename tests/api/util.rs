//! Shared test harness: a server per test, with its own data directory.

use std::path::Path;

use tempfile::TempDir;
use tolmach::app::{now_ms, Limits};
use tolmach::auth::{Caller, KeyRing, NewKey};
use tolmach::server::{self, RunningServer, ServerConfig};
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    Collection, Concept, LangSection, LookupRequest, LookupResponse, Occurrence, RecognizeRequest,
    RecognizeResponse, Term, TermStatus, UpsertConceptRequest,
};
use tolmach::store::Store;
use tonic::transport::Channel;

/// A running server and the directory it keeps its data in.
pub struct TestServer {
    pub server: RunningServer,
    pub dir: TempDir,
}

impl TestServer {
    /// Starts a server with the shipped glossary on a fresh data directory.
    pub async fn start() -> TestServer {
        TestServer::start_with(Limits::default()).await
    }

    /// Starts a server with the shipped glossary and these limits on heavy calls.
    pub async fn start_with(limits: Limits) -> TestServer {
        TestServer::start_configured(|config| config.limits = limits).await
    }

    /// Starts a server with the shipped glossary and the configuration `configure` makes of
    /// the tests' default one.
    pub async fn start_configured(configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = config_in(dir.path());
        configure(&mut config);
        let server = server::start(config).await.expect("server starts");
        TestServer { server, dir }
    }

    /// A client connected to this server.
    pub async fn client(&self) -> TermbaseClient<Channel> {
        TermbaseClient::new(self.channel().await)
    }

    /// A raw channel to this server, for health and reflection clients.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.server.addr))
            .expect("valid uri")
            .connect()
            .await
            .expect("server reachable")
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(self) -> TestServer {
        let TestServer { server, dir } = self;
        server.shutdown().await.expect("clean shutdown");
        let server = start_in(dir.path()).await;
        TestServer { server, dir }
    }
}

/// Starts a server on `dir` listening on a free loopback port.
pub async fn start_in(dir: &Path) -> RunningServer {
    server::start(config_in(dir)).await.expect("server starts")
}

/// The tests' server configuration: data in `dir`, a free loopback port, default limits,
/// no TLS.
pub fn config_in(dir: &Path) -> ServerConfig {
    ServerConfig::loopback(dir)
}

/// Starts a server with the shipped glossary on a fresh data directory in which `keys` were
/// made before the start, as `tolmach key create --data-dir` makes them; answers it with each
/// key's secret, in order. A key whose expiry is given is made just before that expiry, so
/// that a test may give one in the past.
pub async fn start_with_keys(keys: Vec<NewKey>) -> (TestServer, Vec<String>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ring = KeyRing::load(Store::open(dir.path()).expect("store opens")).expect("keys load");
    let mut secrets = Vec::new();
    for key in keys {
        let made = key.expires_ms.map_or_else(now_ms, |expiry| expiry - 1);
        let (_, secret) = ring
            .create(&Caller::open(), key, made)
            .await
            .expect("key created");
        secrets.push(secret);
    }
    drop(ring);
    let server = start_in(dir.path()).await;
    (TestServer { server, dir }, secrets)
}

/// A term with a status.
pub fn term(text: &str, status: TermStatus) -> Term {
    Term {
        text: text.into(),
        status: status as i32,
        ..Default::default()
    }
}

/// A concept in collection `test` with one preferred term per (lang, text) pair.
pub fn concept(id: &str, terms: &[(&str, &str)]) -> Concept {
    Concept {
        id: id.into(),
        collection: "test".into(),
        langs: terms
            .iter()
            .map(|(lang, text)| LangSection {
                lang: (*lang).into(),
                terms: vec![term(text, TermStatus::Preferred)],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Stores a concept as a new one; the write must succeed.
pub async fn store(client: &mut TermbaseClient<Channel>, concept: Concept) {
    client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(concept),
            expected_revision: 0,
            move_from_other_collection: false,
        })
        .await
        .expect("stored");
}

/// The occurrences Recognize finds for `request`, each with its whole concept and renderings
/// as the compact reply's `concepts` give them (asked for whole); the call must succeed.
pub async fn occurrences(
    client: &mut TermbaseClient<Channel>,
    mut request: RecognizeRequest,
) -> Vec<Occurrence> {
    request.whole_concepts = true;
    let text = request.text.clone();
    let reply = client
        .recognize(request)
        .await
        .unwrap_or_else(|e| panic!("recognize {text:?}: {e}"))
        .into_inner();
    with_concepts(reply)
}

/// The occurrences of a compact Recognize reply with the concept and renderings each one
/// refers to filled in, as an `inline_concepts` reply carries them (a concept not sent
/// whole is its id alone); panics on an index out of range.
pub fn with_concepts(reply: RecognizeResponse) -> Vec<Occurrence> {
    reply
        .occurrences
        .into_iter()
        .map(|mut o| {
            let named = reply
                .concepts
                .get(o.concept_index as usize)
                .unwrap_or_else(|| panic!("concept_index {} out of range", o.concept_index));
            o.concept = Some(named.concept.clone().unwrap_or_else(|| Concept {
                id: named.id.clone(),
                ..Default::default()
            }));
            o.renderings.clone_from(&named.renderings);
            o
        })
        .collect()
}

/// Lookup of `text` with every other field at its default; the call must succeed.
pub async fn lookup_text(client: &mut TermbaseClient<Channel>, text: &str) -> LookupResponse {
    client
        .lookup(LookupRequest {
            text: text.into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("lookup {text:?}: {e}"))
        .into_inner()
}

/// Creates or updates a collection with this priority and no description.
pub async fn set_priority(client: &mut TermbaseClient<Channel>, name: &str, priority: i32) {
    client
        .upsert_collection(Collection {
            name: name.into(),
            priority,
            description: String::new(),
        })
        .await
        .expect("collection stored");
}

/// Runs the `tolmach` binary against `server` with `stdin` as its input and answers its
/// standard output; the command must succeed.
pub fn run_cli(server: &TestServer, args: &[&str], stdin: &str) -> String {
    let output = cli_against(server, args, stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs the `tolmach` binary against `server` and answers its standard error; the command
/// must fail.
pub fn run_cli_failing(server: &TestServer, args: &[&str]) -> String {
    let output = cli_against(server, args, "");
    assert!(!output.status.success(), "{args:?} must fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the `tolmach` binary against `server` with `stdin` as its input.
fn cli_against(server: &TestServer, args: &[&str], stdin: &str) -> std::process::Output {
    let url = format!("http://{}", server.server.addr);
    cli_output(&[args, &["--server", &url]].concat(), stdin)
}

/// Runs the `tolmach` binary with `args` (which name the server) and `stdin` as its input.
pub fn cli_output(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tolmach"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin written");
    }
    child.wait_with_output().expect("finished")
}

/// The evaluation file `name` of `tests/data/`.
pub fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One expected occurrence: a char range of the plain text and, where the set names it, the
/// concept id.
pub type Expected = (usize, usize, Option<String>);

/// A paragraph annotated with `[[…]]` (or `[[…|concept-id]]`) around every term occurrence:
/// the text without the marks and the expected occurrences.
pub fn annotated(paragraph: &str) -> (String, Vec<Expected>) {
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut rest = paragraph;
    while let Some(open) = rest.find("[[") {
        text.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("]]").expect("balanced brackets");
        let (surface, concept) = match after[..close].rsplit_once('|') {
            Some((surface, concept)) => (surface, Some(concept.to_owned())),
            None => (&after[..close], None),
        };
        let start = text.chars().count();
        text.push_str(surface);
        spans.push((start, text.chars().count(), concept));
        rest = &after[close + 2..];
    }
    text.push_str(rest);
    (text, spans)
}

/// The newsroom articles the project grew from, as (path, text), from `$TOLMACH_SEEDS`, else
/// `../shared/seeds`; panics when there are none.
pub fn seed_articles() -> Vec<(String, String)> {
    let dir = std::env::var_os("TOLMACH_SEEDS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds"),
        std::path::PathBuf::from,
    );
    let mut articles: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the seed articles at {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a UTF-8 article");
            (path.display().to_string(), text)
        })
        .collect();
    articles.sort();
    assert!(!articles.is_empty(), "no article in {}", dir.display());
    articles
}
