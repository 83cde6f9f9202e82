//! `tolmach serve`: runs the gRPC server on a data directory until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tolmach::app::changes::DEFAULT_RETENTION;
use tolmach::app::Limits;
use tolmach::cluster::{ClusterConfig, DEFAULT_STREAM};
use tolmach::index::memory::{Partition, MAX_SHARDS};
use tolmach::server::{self, ServerConfig};
use tolmach::transport::{TlsFiles, TransportLimits};

/// What `tolmach serve` takes.
#[derive(Args)]
pub struct ServeArgs {
    /// Read settings from this TOML file: its keys are the long flags below
    /// (`data-dir = "/var/lib/tolmach"`, `insecure = true`, `cors-origin = ["…"]`); a relative
    /// path in it starts at the file's directory; a flag or environment variable given as well
    /// wins over the file.
    #[arg(long, env = "TOLMACH_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Where the database lives; created when missing.
    #[arg(long, env = "TOLMACH_DATA_DIR", default_value_os_t = default_data_dir())]
    data_dir: PathBuf,
    /// Glossary directory of .tbx files loaded into an empty database (default: the
    /// glossary built into this binary).
    #[arg(long)]
    glossary: Option<PathBuf>,
    /// Serve without API keys on an address other than loopback, where anyone who reaches
    /// it may read, write and delete everything (refused otherwise).
    #[arg(long)]
    insecure: bool,
    /// Let pages of this origin (`https://cms.example.org`) call the server from a browser:
    /// grpc-web and the JSON API with an API key (cookies are not sent across origins).
    /// Repeatable; none by default.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// Termbase change records kept for `Watch` clients to resume from; a client whose
    /// resume token is older starts again from a snapshot.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETENTION,
          value_parser = clap::value_parser!(u64).range(1..))]
    watch_retention: u64,
    #[command(flatten)]
    transport: TransportArgs,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Cluster mode.
#[derive(Args)]
struct ClusterArgs {
    /// Run as one node of a cluster whose writes go through this NATS JetStream server
    /// (`nats://127.0.0.1:4222`; comma-separated for several): every write is replicated to
    /// the other nodes before it is answered. Without it, a single server.
    #[arg(long, env = "TOLMACH_CLUSTER", value_name = "URL")]
    cluster: Option<String>,
    /// The JetStream stream holding the cluster's log (created when missing); every node
    /// of one cluster names the same.
    #[arg(long, env = "TOLMACH_CLUSTER_STREAM", default_value = DEFAULT_STREAM, requires = "cluster")]
    cluster_stream: String,
    /// How many NATS servers keep each entry of a new stream (at most the servers in the
    /// NATS cluster; 3 tolerates the loss of one).
    #[arg(long, default_value_t = 3, requires = "cluster",
          value_parser = clap::value_parser!(u8).range(1..=5))]
    cluster_replicas: u8,
    /// How many shards the translation memory is split into (by a hash of each unit's
    /// memory and id); the same on every node, fixed when the cluster's stream is created.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "cluster",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SHARDS)))]
    memory_shards: u32,
    /// The shards whose units this node indexes (`0-3,6`; default: all): searches ask the
    /// nodes holding the others, and name the shards no node answered for.
    #[arg(long, value_name = "LIST", requires = "cluster")]
    hold_shards: Option<String>,
}

impl ClusterArgs {
    fn config(&self) -> Result<Option<ClusterConfig>> {
        let Some(url) = self.cluster.clone() else {
            return Ok(None);
        };
        let partition = match &self.hold_shards {
            Some(list) => Partition::parse(self.memory_shards, list),
            None => Partition::all_of(self.memory_shards),
        }
        .context("--hold-shards")?;
        Ok(Some(ClusterConfig {
            url,
            stream: self.cluster_stream.clone(),
            replicas: usize::from(self.cluster_replicas),
            partition,
        }))
    }
}

/// TLS and the limits of connections and calls.
#[derive(Args)]
struct TransportArgs {
    /// Serve over TLS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve only clients whose certificate this PEM CA signed (node-to-node traffic).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Connections open at once; more are closed as soon as they are accepted.
    #[arg(long, default_value_t = TransportLimits::default().max_connections)]
    max_connections: usize,
    /// Seconds a unary call may take before it is answered DEADLINE_EXCEEDED and its work
    /// stopped (a client's shorter deadline applies first).
    #[arg(long, value_name = "SECONDS", default_value_t = TransportLimits::default().call_deadline.as_secs())]
    call_deadline: u64,
}

impl TransportArgs {
    fn tls(&self) -> Option<TlsFiles> {
        Some(TlsFiles {
            cert: self.tls_cert.clone()?,
            key: self.tls_key.clone()?,
            client_ca: self.tls_client_ca.clone(),
        })
    }

    fn limits(&self) -> TransportLimits {
        TransportLimits {
            max_connections: self.max_connections,
            call_deadline: Duration::from_secs(self.call_deadline),
            ..TransportLimits::default()
        }
    }
}

/// Runs the server until a shutdown signal.
pub async fn run(args: ServeArgs) -> Result<()> {
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.data_dir,
        glossary_dir: args.glossary,
        limits: Limits::default(),
        insecure: args.insecure,
        tls: args.transport.tls(),
        transport: args.transport.limits(),
        cors_origins: args.cors_origin,
        watch_retention: args.watch_retention,
        cluster: args.cluster.config()?,
    };
    serve(config, args.config).await
}

/// `$XDG_DATA_HOME/tolmach`, else `~/.local/share/tolmach`, else `./tolmach-data`.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|base| base.join("tolmach"))
        .unwrap_or_else(|| PathBuf::from("tolmach-data"))
}

async fn serve(config: ServerConfig, settings_file: Option<PathBuf>) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Some(file) = settings_file {
        tracing::info!(file = %file.display(), "settings read from {}", file.display());
    }
    let data_dir = config.data_dir.clone();
    let scheme = if config.tls.is_some() {
        "TLS"
    } else {
        "plain HTTP/2"
    };
    let started = std::time::Instant::now();
    let running = server::start(config).await.with_context(|| {
        format!(
            "cannot start the server with data in {}",
            data_dir.display()
        )
    })?;
    if running.loaded_from_glossary > 0 {
        tracing::info!(
            concepts = running.loaded_from_glossary,
            "first start: loaded the shipped glossary"
        );
    }
    tracing::info!(
        addr = %running.addr,
        data_dir = %data_dir.display(),
        concepts = running.concept_count,
        seconds = started.elapsed().as_secs_f64(),
        "serving tolmach.v1 on {} ({scheme})", running.addr
    );
    // The memory index is still being built; the server logs its own failure, and a
    // shutdown first ends this wait with nothing to report.
    let memory_ready = running.memory_ready();
    tokio::spawn(async move {
        if let Ok(units) = memory_ready.await {
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                units,
                seconds,
                "translation memory ready: {units} units in {seconds:.1} s"
            );
        }
    });
    running.run_until(shutdown_signal()).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
