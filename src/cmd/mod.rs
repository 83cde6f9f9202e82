//! The client and server commands of the `tolmach` binary, one module per command family,
//! and what they share: the options of every client command, the connection to the server,
//! the exchange file formats, the rendering of responses (`render`) and the settings file of
//! `serve` with the parsing of the command line under it (`config`).

pub mod collections;
pub mod config;
pub mod delete;
pub mod export;
pub mod import;
pub mod key;
pub mod memory;
pub mod render;
pub mod review;
pub mod serve;
pub mod termbase;
pub mod watch;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tolmach::service::proto::{self, memory_client::MemoryClient, termbase_client::TermbaseClient};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::{InterceptedService, Interceptor};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use tonic::Status;

/// Options shared by every client command.
#[derive(Args)]
pub struct ClientArgs {
    /// The server to ask: a URL, or host and port for `http://` (`127.0.0.1:50051`).
    #[arg(long, env = "TOLMACH_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// Print the response as protobuf JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The API key to send (`tk_...`), which a server with keys requires of every call.
    #[arg(long, env = "TOLMACH_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// TLS options of a client: the CA that signed the server's certificate, and a certificate
/// of the client's own for a server that requires one.
#[derive(Args)]
pub struct ClientTlsArgs {
    /// Trust servers whose certificate this PEM CA signed; needed for an https:// server.
    #[arg(long, env = "TOLMACH_TLS_CA", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// Present this PEM certificate to a server that requires client certificates.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ClientTlsArgs {
    /// The TLS configuration for an `https://` server; an error without a CA to trust.
    fn config(&self) -> Result<ClientTlsConfig> {
        let ca = self.tls_ca.as_ref().context(
            "an https:// server needs --tls-ca FILE: the CA certificate that signed the \
             server's certificate",
        )?;
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        Ok(config)
    }
}

fn read(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// An exchange file format on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FileFormatArg {
    /// TBX v3 (TBX-Basic, DCA); on import, any TBX.
    Tbx,
    /// TBX 2008 (`martif`), for older tools.
    Tbx2008,
    /// TMX 1.4b.
    Tmx,
    /// Comma-separated glossary.
    Csv,
    /// Tab-separated glossary.
    Tsv,
}

impl From<FileFormatArg> for proto::FileFormat {
    fn from(format: FileFormatArg) -> proto::FileFormat {
        match format {
            FileFormatArg::Tbx => proto::FileFormat::Tbx,
            FileFormatArg::Tbx2008 => proto::FileFormat::Tbx2008,
            FileFormatArg::Tmx => proto::FileFormat::Tmx,
            FileFormatArg::Csv => proto::FileFormat::Csv,
            FileFormatArg::Tsv => proto::FileFormat::Tsv,
        }
    }
}

/// One connection to the server, for whichever service client a command needs; a server
/// given without a scheme (`127.0.0.1:50051`) is reached over plain HTTP/2, an `https://`
/// one over TLS (see [`ClientTlsArgs`]).
pub async fn channel(args: &ClientArgs) -> Result<tonic::transport::Channel> {
    let url = if args.server.contains("://") {
        args.server.clone()
    } else {
        format!("http://{}", args.server)
    };
    let mut endpoint = Endpoint::from_shared(url)
        .with_context(|| format!("{} is not a server URL", args.server))?;
    if endpoint.uri().scheme_str() == Some("https") {
        endpoint = endpoint
            .tls_config(args.tls.config()?)
            .context("cannot set up TLS")?;
    }
    endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach a tolmach server at {}", args.server))
}

/// A connection that sends the API key of the arguments, if any, with every call.
pub type Connection = InterceptedService<tonic::transport::Channel, SendKey>;

/// Adds `authorization: Bearer <key>` to every call when a key was given.
#[derive(Clone)]
pub struct SendKey(Option<MetadataValue<Ascii>>);

impl Interceptor for SendKey {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("authorization", key.clone());
        }
        Ok(request)
    }
}

/// A connection to the server of `args` that sends its API key.
pub async fn connection(args: &ClientArgs) -> Result<Connection> {
    let key = args
        .api_key
        .as_deref()
        .map(|key| format!("Bearer {}", key.trim()).parse())
        .transpose()
        .context("the API key holds characters a header cannot carry")?;
    Ok(InterceptedService::new(channel(args).await?, SendKey(key)))
}

/// A Termbase client.
pub async fn connect(args: &ClientArgs) -> Result<TermbaseClient<Connection>> {
    Ok(TermbaseClient::new(connection(args).await?))
}

/// A Memory client.
pub async fn memory_client(args: &ClientArgs) -> Result<MemoryClient<Connection>> {
    Ok(MemoryClient::new(connection(args).await?))
}
