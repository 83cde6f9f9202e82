//! Shared test harness: a server per test, with its own data directory.

use std::path::Path;

use tempfile::TempDir;
use tolmach::server::{self, RunningServer, ServerConfig};
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{Concept, LangSection, Term, TermStatus};
use tonic::transport::Channel;

/// A running server and the directory it keeps its data in.
pub struct TestServer {
    pub server: RunningServer,
    pub dir: TempDir,
}

impl TestServer {
    /// Starts a server with the shipped glossary on a fresh data directory.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let server = start_in(dir.path()).await;
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
    server::start(ServerConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.to_path_buf(),
        glossary_dir: None,
    })
    .await
    .expect("server starts")
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
