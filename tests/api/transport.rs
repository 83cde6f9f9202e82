//! The transport: TLS with server and client certificates, the cap on open connections,
//! server-side deadlines that stop the work behind a call, and request sizes bounded per RPC.
//! Certificates are made at run time; no key is in the repository.

use std::path::PathBuf;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tempfile::TempDir;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tolmach::app::Limits;
use tolmach::server::{self, ServerError};
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, RecognizeRequest};
use tolmach::transport::{TlsError, TlsFiles};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Code, Status};

use crate::util::{cli_output, config_in, TestServer};

/// A certificate authority and the PEM files of what it signs, in a directory of its own.
struct Pki {
    dir: TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM files.
struct Issued {
    cert: PathBuf,
    key: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("CA key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("ca.pem"), ca.as_ref().pem()).expect("CA written");
        Pki { dir, ca }
    }

    /// The CA certificate's file.
    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A certificate for localhost and 127.0.0.1 signed by the CA, written as `name`.
    fn issue(&self, name: &str) -> Issued {
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("leaf parameters");
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.ca).expect("leaf certificate");
        let issued = Issued {
            cert: self.dir.path().join(format!("{name}.pem")),
            key: self.dir.path().join(format!("{name}.key")),
        };
        std::fs::write(&issued.cert, cert.pem()).expect("certificate written");
        std::fs::write(&issued.key, key.serialize_pem()).expect("key written");
        issued
    }

    fn client_tls(&self, identity: Option<&Issued>) -> ClientTlsConfig {
        let ca = std::fs::read(self.ca()).expect("CA readable");
        let config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        match identity {
            None => config,
            Some(issued) => config.identity(Identity::from_pem(
                std::fs::read(&issued.cert).expect("certificate readable"),
                std::fs::read(&issued.key).expect("key readable"),
            )),
        }
    }
}

async fn tls_server(pki: &Pki, client_ca: Option<PathBuf>) -> TestServer {
    let server = pki.issue("server");
    let files = TlsFiles {
        cert: server.cert,
        key: server.key,
        client_ca,
    };
    TestServer::start_configured(|config| config.tls = Some(files)).await
}

/// One Lookup over a new channel to `url`, TLS configured or not; the error as a status.
async fn lookup_over(url: String, tls: Option<ClientTlsConfig>) -> Result<(), Status> {
    let mut endpoint = Channel::from_shared(url).expect("valid uri");
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).expect("client TLS");
    }
    let channel = endpoint
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|error| Status::unavailable(error.to_string()))?;
    TermbaseClient::new(channel)
        .lookup(LookupRequest {
            text: "上海合作组织".into(),
            ..Default::default()
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_tls_server_answers_a_tls_client_and_refuses_plaintext() {
    let pki = Pki::new();
    let server = tls_server(&pki, None).await;
    let addr = server.server.addr;
    lookup_over(format!("https://{addr}"), Some(pki.client_tls(None)))
        .await
        .expect("a TLS client is answered");
    lookup_over(format!("http://{addr}"), None)
        .await
        .expect_err("a plaintext client is refused");
}

#[tokio::test]
async fn with_a_client_ca_only_a_client_with_a_certificate_it_signed_is_served() {
    let pki = Pki::new();
    let server = tls_server(&pki, Some(pki.ca())).await;
    let url = format!("https://{}", server.server.addr);
    lookup_over(url.clone(), Some(pki.client_tls(None)))
        .await
        .expect_err("a client without a certificate is refused");
    let stranger = Pki::new();
    let foreign = stranger.issue("client");
    lookup_over(url.clone(), Some(pki.client_tls(Some(&foreign))))
        .await
        .expect_err("a client whose certificate another CA signed is refused");
    let client = pki.issue("client");
    lookup_over(url, Some(pki.client_tls(Some(&client))))
        .await
        .expect("a client with a signed certificate is served");
}

#[tokio::test]
async fn a_missing_file_or_a_key_of_another_certificate_fails_the_start_naming_them() {
    let pki = Pki::new();
    let first = pki.issue("first");
    let second = pki.issue("second");
    let data = tempfile::tempdir().expect("temporary directory");
    let start = |cert: &PathBuf, key: &PathBuf| {
        let mut config = config_in(data.path());
        config.tls = Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: None,
        });
        server::start(config)
    };

    let missing = pki.dir.path().join("missing.pem");
    let error = start(&missing, &first.key).await.err().expect("refused");
    assert!(
        matches!(&error, ServerError::Tls(TlsError::Read { file, .. }) if *file == missing),
        "{error}"
    );

    let error = start(&first.key, &first.key).await.err().expect("refused");
    assert!(
        matches!(&error, ServerError::Tls(TlsError::Pem { file, what: "certificate", .. }) if *file == first.key),
        "{error}"
    );

    let error = start(&first.cert, &second.key)
        .await
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        matches!(error, ServerError::Tls(TlsError::Unusable { .. }))
            && message.contains("first.pem")
            && message.contains("second.key"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reaches_an_https_server_with_the_ca_and_names_the_option_without_it() {
    let pki = Pki::new();
    let server = tls_server(&pki, None).await;
    let url = format!("https://localhost:{}", server.server.addr.port());
    let ca = pki.ca().display().to_string();
    let trusted = cli_output(
        &["lookup", "上海合作组织", "--server", &url, "--tls-ca", &ca],
        "",
    );
    let stderr = String::from_utf8_lossy(&trusted.stderr);
    assert!(trusted.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&trusted.stdout).contains("上海合作组织"),
        "{trusted:?}"
    );

    let untrusted = cli_output(&["lookup", "上海合作组织", "--server", &url], "");
    assert!(!untrusted.status.success());
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("--tls-ca"),
        "{untrusted:?}"
    );
}

/// Opens `count` TCP connections to `addr` that send nothing.
async fn idle_connections(addr: std::net::SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        open.push(TcpStream::connect(addr).await.expect("connection opened"));
    }
    open
}

#[tokio::test]
async fn lookups_are_answered_while_two_thousand_idle_connections_are_open() {
    // This test holds 2 000 descriptors and the server in this process as many again.
    tolmach::transport::raise_open_files_limit();
    let server = TestServer::start().await;
    let idle = idle_connections(server.server.addr, 2000).await;
    let mut client = server.client().await;
    for _ in 0..20 {
        client
            .lookup(LookupRequest {
                text: "上海合作组织".into(),
                ..Default::default()
            })
            .await
            .expect("a Lookup is answered");
    }
    drop(idle);
}

#[tokio::test]
async fn a_connection_over_the_cap_is_closed_at_once_and_served_once_there_is_room() {
    let server = TestServer::start_configured(|config| config.transport.max_connections = 8).await;
    let addr = server.server.addr;
    let idle = idle_connections(addr, 8).await;
    let mut over = TcpStream::connect(addr)
        .await
        .expect("the kernel accepts it");
    let mut byte = [0u8; 1];
    // Closed by the server: end of stream or a reset, not a wait.
    let read = tokio::time::timeout(Duration::from_secs(30), over.read(&mut byte))
        .await
        .expect("the server closes the connection rather than keep it");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    lookup_over(format!("http://{addr}"), None)
        .await
        .expect_err("a client over the cap is not served");

    drop(idle);
    let mut served = lookup_over(format!("http://{addr}"), None).await;
    for _ in 0..100 {
        if served.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        served = lookup_over(format!("http://{addr}"), None).await;
    }
    served.expect("served once the idle connections are closed");
}

/// Text enough to keep a Recognize busy for seconds without a deadline: a paragraph naming
/// glossary terms in the three languages, repeated up to 1 MiB.
pub(crate) fn long_article() -> String {
    let paragraph = "上海合作组织成员国元首理事会会议在阿斯塔纳举行，各方同意共建“一带一路”，\
        推动区域经济合作。The Shanghai Cooperation Organisation welcomed the Belt and Road \
        Initiative. Шанхайская организация сотрудничества поддержала инициативу «Пояс и путь».\n";
    paragraph.repeat(1024 * 1024 / paragraph.len())
}

fn recognize(text: String) -> RecognizeRequest {
    RecognizeRequest {
        text,
        ..Default::default()
    }
}

/// Asks for a small Recognize until it is admitted (the one permit is free again); answers
/// whether it was within about five seconds. Without a stop, the work of a 1 MiB Recognize
/// holds the permit for longer than that in a debug build, and with one for the pass over
/// A server running one Recognize at a time, with a 200 ms deadline for every call.
pub(crate) async fn one_recognize_with_a_short_deadline() -> TestServer {
    TestServer::start_configured(|config| {
        config.limits = Limits {
            recognize: 1,
            ..Limits::default()
        };
        config.transport.call_deadline = Duration::from_millis(200);
    })
    .await
}

/// the text under way (about a second).
pub(crate) async fn admitted_again(client: &mut TermbaseClient<Channel>) -> bool {
    for _ in 0..250 {
        match client.recognize(recognize("上海合作组织".into())).await {
            // Admitted, whether it finished within the test server's short deadline or not.
            Ok(_) => return true,
            Err(status) if status.code() == Code::DeadlineExceeded => return true,
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(status) => panic!("unexpected {status:?}"),
        }
    }
    false
}

#[tokio::test]
async fn a_call_past_the_servers_deadline_is_answered_so_and_its_work_stops() {
    let server = one_recognize_with_a_short_deadline().await;
    let mut client = server.client().await;
    let status = client
        .recognize(recognize(long_article()))
        .await
        .expect_err("past its deadline");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("Recognize"), "{status:?}");
    assert!(
        admitted_again(&mut client).await,
        "the stopped work gave its permit back"
    );
}

#[tokio::test]
async fn a_clients_shorter_deadline_also_stops_the_work() {
    let server = TestServer::start_with(Limits {
        recognize: 1,
        ..Limits::default()
    })
    .await;
    let mut client = server.client().await;
    let mut request = tonic::Request::new(recognize(long_article()));
    request.set_timeout(Duration::from_millis(200));
    let status = client
        .recognize(request)
        .await
        .expect_err("past its deadline");
    // The server answers DEADLINE_EXCEEDED; tonic's client also keeps the deadline with a
    // timer of its own, which may end the call first as CANCELLED.
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(
        admitted_again(&mut client).await,
        "the stopped work gave its permit back"
    );
}

#[tokio::test]
async fn an_oversized_request_is_refused_naming_its_rpc_and_limit() {
    let server = TestServer::start().await;
    let mut client = server.client().await;

    let status = client
        .lookup(LookupRequest {
            text: "a".repeat(32 * 1024),
            ..Default::default()
        })
        .await
        .expect_err("a 32 KiB Lookup");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("tolmach.v1.Termbase/Lookup")
            && status.message().contains("16384 bytes"),
        "{status:?}"
    );

    let status = client
        .recognize(recognize("a".repeat(2 * 1024 * 1024)))
        .await
        .expect_err("a 2 MiB Recognize");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("tolmach.v1.Termbase/Recognize"),
        "{status:?}"
    );

    // Within its bound, a Lookup over its own text limit is the service's business.
    let status = client
        .lookup(LookupRequest {
            text: "a".repeat(4 * 1024),
            ..Default::default()
        })
        .await
        .expect_err("a 4 KiB Lookup text");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
