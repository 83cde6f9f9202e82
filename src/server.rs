//! Assembles the running server: opens the store, loads the shipped glossary on first start,
//! builds the term index, and serves the gRPC services with health and reflection until told
//! to stop. Request handling lives in `service/` (gRPC) over `app/` (what calls do); the
//! start-up I/O here runs on the blocking pool like every other heavy work (`app::work`).
//! What stands between the socket and the services (TLS, the connection cap, request sizes,
//! deadlines) is `transport/`'s; this file applies it.
//!
//! One port serves native gRPC (HTTP/2), grpc-web on every service (HTTP/1.1 and HTTP/2),
//! and the page and JSON API of [`crate::web`]: each service is wrapped in grpc-web's
//! translation and then in the deadline, the request-size bound and the access check
//! (`Guard`), so a grpc-web call is checked as a native one; the web router is merged beside
//! the services, and CORS (`--cors-origin`) wraps them all.
//!
//! The server binds as soon as the store is open, recovered and seeded and the term index is
//! read back from its file and brought up to date, or built from the store
//! ([`crate::app::term_checkpoint`]); a background task writes the file at checkpoints, and a
//! graceful shutdown writes it once more. The translation-memory index is loaded afterwards on
//! a blocking thread: Termbase and health answer at once, memory searches and writes wait for
//! it (see [`Memory::loading`](crate::app::memory::Memory::loading)), and health reports
//! `tolmach.v1.Memory` `NOT_SERVING` until it is done. A shutdown stops a build still running
//! rather than wait for it. The memory index is read from its checkpoint when one fits the
//! store (milliseconds per thousand units instead of an analysis of each), checkpointed in the
//! background while the server runs, and once more at a graceful shutdown
//! ([`crate::app::memory_checkpoint`]).
//!
//! Every call passes the access layer ([`crate::auth`]) first. A server whose store holds no
//! API key runs open, and says so in its log; it refuses to start open on an address other
//! than loopback unless told it may ([`ServerConfig::insecure`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::service::Routes;
use tower::Layer;

use crate::app::changes::Changes;
use crate::app::memory::{MemoryReadiness, MemoryUnavailable, StopLoading};
use crate::app::memory_checkpoint::MemorySource;
use crate::app::term_checkpoint::{open_term_index, Checkpoints, TermIndexSource};
pub use crate::app::termbase::GLOSSARY_COLLECTION;
use crate::app::{now_ms, work, App, AppError, Limits};
use crate::auth::{AccessLayer, KeyRing};
use crate::cluster::{Cluster, ClusterConfig, ClusterError};
use crate::formats::{FormatError, TbxReader};
use crate::index::memory::Partition;
use crate::model::{Collection, Concept};
use crate::service::proto::access_server::AccessServer;
use crate::service::proto::exchange_server::ExchangeServer;
use crate::service::proto::memory_server::MemoryServer;
use crate::service::proto::review_server::ReviewServer;
use crate::service::proto::termbase_server::TermbaseServer;
use crate::service::{
    proto, AccessService, ExchangeService, MemoryService, ReviewService, TermbaseService,
};
use crate::store::{Store, StoreError};
use crate::transport::{
    self, DeadlineLayer, Incoming, RequestSizeLayer, RevisionLayer, TlsError, TlsFiles,
    TransportLimits, MAX_RESPONSE_BYTES,
};
use crate::web::{self, BadOrigin, Web};

/// The priority the shipped glossary is loaded with: above the 0 of every collection created
/// without one, as a termbase added to a CAT tool's project ranks below those already there.
/// A dictionary imported beside the glossary then never takes a glossary term's place in
/// Recognize or a tie in Lookup unless someone raises its priority on purpose; 5 leaves room
/// for collections between the two, and a house style goes above with 6 or more.
pub const GLOSSARY_PRIORITY: i32 = 5;

/// The glossary files compiled into the binary, so that an installed `tolmach` serves the
/// shipped glossary from any working directory.
const SHIPPED_GLOSSARY: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/glossary_files.rs"));

/// What the server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory of the sled database; created when missing.
    pub data_dir: PathBuf,
    /// Glossary directory loaded into an empty database; `None` = the glossary built in.
    pub glossary_dir: Option<PathBuf>,
    /// How many heavy calls of each kind may run at once before the server answers
    /// `RESOURCE_EXHAUSTED`.
    pub limits: Limits,
    /// Whether the server may run open (no API key in its store) on an address other than
    /// loopback, where anyone on the network could then read, write and delete everything.
    pub insecure: bool,
    /// TLS certificate, key and optional client CA; `None` serves plain HTTP/2.
    pub tls: Option<TlsFiles>,
    /// Connections, streams, keep-alive and the default deadline of unary calls.
    pub transport: TransportLimits,
    /// Origins whose pages may call the server from a browser (grpc-web and the JSON API,
    /// with an API key): `https://cms.example.org`. Empty: none.
    pub cors_origins: Vec<String>,
    /// How many termbase change records to keep for Watch clients to resume from
    /// ([`DEFAULT_RETENTION`](crate::app::changes::DEFAULT_RETENTION) by default); a client
    /// whose token is older must start again from a snapshot.
    pub watch_retention: u64,
    /// Cluster mode: the replicated log every write goes through; `None` = a single server
    /// on its own store.
    pub cluster: Option<ClusterConfig>,
}

impl ServerConfig {
    /// A server on a free loopback port with its data in `data_dir` and every other setting
    /// at its default: no glossary directory, no TLS, API keys required once any exist.
    pub fn loopback(data_dir: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            glossary_dir: None,
            limits: Default::default(),
            insecure: false,
            tls: None,
            transport: Default::default(),
            cors_origins: Vec::new(),
            watch_retention: crate::app::changes::DEFAULT_RETENTION,
            cluster: None,
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A glossary file could not be read.
    #[error("glossary file {file}: {source}")]
    Glossary {
        /// The file.
        file: String,
        /// What was wrong.
        source: FormatError,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The reflection service could not read the descriptor sets compiled into the binary:
    /// a build defect, reported at start-up rather than as a panic.
    #[error("cannot build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The gRPC transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The translation-memory index could not be built; the server goes on serving the
    /// termbase, and memory calls answer with this reason.
    #[error(transparent)]
    Memory(#[from] MemoryUnavailable),
    /// The server task panicked or was cancelled.
    #[error("server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Start-up work on the blocking pool panicked (logged where it happened).
    #[error(transparent)]
    Startup(#[from] AppError),
    /// The node could not join its cluster.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The store holds no API key and the address is not loopback.
    #[error(
        "refusing to listen on {addr} without API keys: anyone who reaches it could read, \
         write and delete everything. Create an admin key first (`tolmach key create admin \
         --role admin --data-dir DIR`), listen on 127.0.0.1, or pass --insecure"
    )]
    OpenOnNetwork {
        /// The address.
        addr: SocketAddr,
    },
    /// A TLS file could not be read or used.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// A CORS origin is not shaped like one.
    #[error(transparent)]
    CorsOrigin(#[from] BadOrigin),
}

/// A server running in the background of the current runtime.
///
/// Dropping it stops the server and a memory index build still running, as
/// [`RunningServer::shutdown`] does, without waiting for either.
pub struct RunningServer {
    /// The address it actually listens on.
    pub addr: SocketAddr,
    /// How many concepts the store held when serving began.
    pub concept_count: usize,
    /// How many concepts were loaded from the glossary at this start (0 when not first start).
    pub loaded_from_glossary: usize,
    /// Whether the term index was read from its file or built from the store, and why.
    pub term_index: TermIndexSource,
    checkpoints: Checkpointing,
    memory: MemoryReadiness,
    /// For the checkpoint at shutdown.
    store: Store,
    changes: ClosedOnDrop,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
    loading: Loading,
    /// In cluster mode, the replica applying the log; dropped, it stops.
    cluster: Option<Cluster>,
}

/// The background build of the memory index: stopped when the server stops (or is dropped),
/// so that neither a shutdown nor a restart on the same directory waits for a whole read of
/// the store.
struct Loading {
    stop: StopLoading,
    /// Dropped to end the background checkpoints that follow the load in `task`.
    quit: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Drop for Loading {
    fn drop(&mut self) {
        self.stop.stop();
        self.quit.take();
    }
}

/// The term index's checkpoints: the background task, and what writes the last one at
/// shutdown.
struct Checkpointing {
    checkpoints: Checkpoints,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Checkpointing {
    /// Stops the background task and writes a last checkpoint; a failure is logged, since
    /// the next start rebuilds what a missing file lacks.
    async fn finish(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the term index checkpoint task failed");
        }
        if let Err(error) = self.checkpoints.write().await {
            tracing::error!(%error, "the term index file is behind the store");
        }
    }
}

/// The change feed, closed when the server stops or is dropped: its streams never end by
/// themselves, and the graceful shutdown of the transport would wait for them.
struct ClosedOnDrop(Changes);

impl Drop for ClosedOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl RunningServer {
    /// Waits until the translation-memory index is built and memory calls answer without
    /// delay; answers how many units it holds, or why it could not be built.
    ///
    /// The future holds neither the server nor its database, so it may be awaited beside
    /// [`RunningServer::run_until`]; it ends with [`MemoryUnavailable::Stopped`] when the
    /// server stops first.
    pub fn memory_ready(
        &self,
    ) -> impl Future<Output = Result<usize, ServerError>> + Send + 'static {
        let memory = self.memory.clone();
        async move { Ok(memory.wait().await?) }
    }

    /// How the memory index was obtained at this start, once it is ready (read from its
    /// checkpoint, or rebuilt from the store and why).
    pub fn memory_source(&self) -> Option<MemorySource> {
        self.memory.source()
    }

    /// Stops accepting calls, lets running calls finish (calls still waiting for the memory
    /// index answer `UNAVAILABLE`), and waits until the server is down and a memory index
    /// build still running has stopped.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.run_until(std::future::ready(())).await
    }

    /// Serves until `signal` completes (or the server fails), then shuts down cleanly.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> Result<(), ServerError> {
        let RunningServer {
            stop,
            mut task,
            mut loading,
            changes,
            memory,
            store,
            checkpoints,
            cluster,
            ..
        } = self;
        let failed_early = tokio::select! {
            biased;
            result = &mut task => Some(result),
            () = signal => None,
        };
        // Change streams never end by themselves: closed only now that the server stops,
        // or the graceful shutdown below would wait for them.
        drop(changes);
        // Calls still waiting for the memory index are answered UNAVAILABLE rather than kept
        // until the build ends, so the graceful shutdown below does not wait for it.
        loading.stop.stop();
        loading.quit.take();
        let result = match failed_early {
            Some(result) => result,
            None => {
                let _ = stop.send(());
                task.await
            }
        };
        // No call waits for the log any more: stop applying it, so the store is still.
        if let Some(cluster) = cluster {
            cluster.leave();
        }
        // The build holds the store: wait for it to notice the stop, so that the database is
        // closed when this returns.
        (&mut loading.task).await?;
        // Every call has ended with the transport: these files are the state the next start
        // reads, with nothing to re-read.
        if let Some(index) = memory.ready() {
            if let Err(error) = memory.checkpoints().write(&store, &index).await {
                tracing::warn!(%error, "the memory index was not saved at shutdown");
            }
        }
        drop(store);
        checkpoints.finish().await;
        result??;
        Ok(())
    }
}

/// Opens the store, loads the glossary on first start, binds and starts serving.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    // Checked first, so that a wrong file or origin fails the start before the store is
    // opened.
    let mut builder = transport_builder(&config).await?;
    let cors = web::cors(&config.cors_origins)?;
    let limits = config.limits.clone();
    let data_dir = config.data_dir.clone();
    let glossary_dir = config.glossary_dir.clone();
    let (store, glossary) = work::run("opening the store", move || {
        open(&data_dir, glossary_dir.as_deref())
    })
    .await??;
    // In cluster mode the glossary goes through the log, once the node has joined.
    let (glossary, mut loaded_from_glossary) = match glossary {
        Some(concepts) if config.cluster.is_none() => {
            let count = concepts.len();
            seed_glossary(&store, concepts).await?;
            (None, count)
        }
        glossary => (glossary, 0),
    };
    let (reader, data_dir) = (store.clone(), config.data_dir.clone());
    let (search, term_index) = work::run("loading the term index", move || {
        open_term_index(&reader, &data_dir)
    })
    .await??;
    let search = Arc::new(search);
    let concept_count = search.snapshot().concept_count();

    let keys = access(&store, &config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;

    // Exchange serves at once: termbase imports and every export need no memory index, and a
    // memory import reads and stages its file meanwhile and waits only to commit.
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<TermbaseServer<TermbaseService>>()
        .await;
    health_reporter
        .set_serving::<ExchangeServer<ExchangeService>>()
        .await;
    health_reporter
        .set_serving::<ReviewServer<ReviewService>>()
        .await;
    health_reporter
        .set_not_serving::<MemoryServer<MemoryService>>()
        .await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let partition = config
        .cluster
        .as_ref()
        .map_or_else(Partition::whole, |cluster| cluster.partition.clone());
    let (app, loader) = App::new(
        store.clone(),
        Arc::clone(&search),
        limits,
        config.watch_retention,
        partition,
    );
    // Cluster mode: the log stands in front of every write before the first call is served,
    // and the node says NOT_SERVING until it has applied what the log held when it joined.
    let mut cluster = match &config.cluster {
        Some(cluster) => {
            Some(Cluster::join(cluster, &app, Arc::clone(&keys), store.clone()).await?)
        }
        None => None,
    };
    if let (Some(cluster), Some(concepts)) = (&mut cluster, glossary) {
        // Only a new cluster is given the glossary; a node joining an existing one receives
        // it (or the cluster's edits of it) from the log like any other write.
        if cluster.is_new() && !concepts.is_empty() {
            loaded_from_glossary = concepts.len();
            cluster.seed(glossary_collection(), concepts).await?;
        }
        store.mark_seeded()?;
        store.flush().await?;
    }
    if let Some(cluster) = &cluster {
        set_serving_but_memory(&health_reporter, false).await;
        let (reporter, caught_up) = (health_reporter.clone(), cluster.caught_up());
        tokio::spawn(async move {
            caught_up.await;
            set_serving_but_memory(&reporter, true).await;
        });
    }
    let caught_up = cluster.as_ref().map(Cluster::caught_up);
    let changes = app.changes.clone();
    let on_file = match term_index {
        TermIndexSource::File { revision, .. } => Some(revision),
        TermIndexSource::Store { .. } => None,
    };
    let checkpoints = Checkpoints::new(
        store.clone(),
        search,
        changes.clone(),
        &config.data_dir,
        on_file,
    );
    let (stop_checkpoints, checkpoints_stopped) = oneshot::channel::<()>();
    let checkpointing = tokio::spawn(checkpoints.clone().run_until(async {
        let _ = checkpoints_stopped.await;
    }));
    let readiness = app.memory.readiness();
    let stop_loading = loader.stopper();
    let exchange = ExchangeServer::new(ExchangeService::new(app.imports, app.exports))
        .max_decoding_message_size(transport::max_request_bytes(
            ExchangeServer::<ExchangeService>::NAME,
        ))
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let memory = MemoryServer::new(MemoryService::new(app.memory.clone()))
        .max_decoding_message_size(transport::max_request_bytes(
            MemoryServer::<MemoryService>::NAME,
        ))
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let termbase = TermbaseServer::new(TermbaseService::new(
        app.termbase.clone(),
        app.changes.clone(),
    ))
    .max_decoding_message_size(transport::max_request_bytes(
        TermbaseServer::<TermbaseService>::NAME,
    ))
    .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let review = ReviewServer::new(ReviewService::new(app.review.clone()))
        .max_decoding_message_size(transport::max_request_bytes(
            ReviewServer::<ReviewService>::NAME,
        ))
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let access_service = AccessServer::new(AccessService::new(Arc::clone(&keys)))
        .max_decoding_message_size(transport::max_request_bytes(
            AccessServer::<AccessService>::NAME,
        ))
        .max_encoding_message_size(MAX_RESPONSE_BYTES);
    let web = Web::new(
        app.termbase.clone(),
        app.memory.clone(),
        app.review.clone(),
        app.changes.clone(),
        Arc::clone(&keys),
        config.tls.is_some(),
        config.transport.call_deadline,
    );
    let guard = Guard {
        deadline: DeadlineLayer::new(config.transport.call_deadline),
        revision: RevisionLayer::new(cluster.as_ref().map(Cluster::applied)),
        access: AccessLayer::new(keys),
    };
    let mut routes = axum::Router::new();
    routes = guard.route(routes, health_service);
    routes = guard.route(routes, reflection_v1);
    routes = guard.route(routes, reflection_v1alpha);
    routes = guard.route(routes, termbase);
    routes = guard.route(routes, memory);
    routes = guard.route(routes, exchange);
    routes = guard.route(routes, review);
    routes = guard.route(routes, access_service);
    let mut routes = routes.merge(web.router()).fallback(unknown_path);
    if let Some(cors) = cors {
        routes = routes.layer(cors);
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let router = builder.add_routes(Routes::from(routes));
    let task = tokio::spawn(router.serve_with_incoming_shutdown(
        Incoming::new(listener, config.transport.max_connections),
        async {
            let _ = stopped.await;
        },
    ));
    // Spawned only once serving has started: a start-up that fails before this point has
    // no build to stop.
    let (quit, quitting) = oneshot::channel::<()>();
    let (memory_checkpoints, checkpointed, ready) =
        (readiness.checkpoints(), store.clone(), readiness.clone());
    let loading = tokio::spawn(async move {
        match loader.run().await {
            Ok(_) => {
                if let Some(caught_up) = caught_up {
                    caught_up.await;
                }
                health_reporter
                    .set_serving::<MemoryServer<MemoryService>>()
                    .await;
                if let Some(index) = ready.ready() {
                    tokio::select! {
                        () = memory_checkpoints.run(checkpointed, index) => {}
                        _ = quitting => {}
                    }
                }
            }
            Err(MemoryUnavailable::Stopped) => {}
            Err(error) => tracing::error!(
                %error,
                "the translation memory is unavailable until a restart; the termbase is served"
            ),
        }
    });
    Ok(RunningServer {
        addr,
        concept_count,
        loaded_from_glossary,
        term_index,
        checkpoints: Checkpointing {
            checkpoints,
            stop: stop_checkpoints,
            task: checkpointing,
        },
        memory: readiness,
        store,
        changes: ClosedOnDrop(changes),
        stop,
        task,
        loading: Loading {
            stop: stop_loading,
            quit: Some(quit),
            task: loading,
        },
        cluster,
    })
}

/// Sets the health of the whole server ("") and of every service but Memory, whose index
/// loads on its own.
async fn set_serving_but_memory(reporter: &tonic_health::server::HealthReporter, serving: bool) {
    let status = if serving {
        tonic_health::ServingStatus::Serving
    } else {
        tonic_health::ServingStatus::NotServing
    };
    reporter.set_service_status("", status).await;
    for service in [
        TermbaseServer::<TermbaseService>::NAME,
        ExchangeServer::<ExchangeService>::NAME,
        ReviewServer::<ReviewService>::NAME,
    ] {
        reporter.set_service_status(service, status).await;
    }
}

/// The layers each gRPC service is wrapped in, outermost first: grpc-web's translation to
/// gRPC, the deadline, the request size bound, the access check. Inside grpc-web's
/// translation, so that a grpc-web call (whose `grpc-web-text` body is base64 on the wire)
/// is measured, timed and admitted as the native call it becomes; per service rather than
/// around the whole server, where grpc-web would refuse every plain HTTP/1.1 request (the
/// page, the JSON API) and the gRPC layers would read JSON bodies as gRPC frames.
struct Guard {
    deadline: DeadlineLayer,
    revision: RevisionLayer,
    access: AccessLayer,
}

impl Guard {
    /// `router` with `service` guarded at its path, `/package.Service/*`.
    fn route<S>(&self, router: axum::Router, service: S) -> axum::Router
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let guarded = tonic_web::GrpcWebLayer::new().layer(
            self.deadline.layer(
                self.revision
                    .layer(RequestSizeLayer.layer(self.access.layer(service))),
            ),
        );
        router.route_service(&format!("/{}/{{*rest}}", S::NAME), guarded)
    }
}

/// A path no route serves: `UNIMPLEMENTED` to a gRPC client, 404 to anyone else.
async fn unknown_path(request: axum::extract::Request) -> axum::response::Response {
    let grpc = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"));
    if grpc {
        return tonic::Status::unimplemented(format!("{} is not a method", request.uri().path()))
            .into_http::<axum::body::Body>();
    }
    (http::StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// The store's API keys, once the address is checked: a server without keys is open, which
/// is refused on a network address unless `insecure` (see [`check_exposure`]).
async fn access(store: &Store, config: &ServerConfig) -> Result<Arc<KeyRing>, ServerError> {
    let reader = store.clone();
    let keys = work::run("reading the API keys", move || KeyRing::load(reader)).await??;
    check_exposure(config.listen, keys.is_open(), config.insecure)?;
    if keys.is_open() {
        tracing::warn!(
            "no API keys: every client may read and write; create one with `tolmach key \
             create NAME --role admin` (on this server, or with --data-dir on a stopped one)"
        );
    } else {
        tracing::info!(keys = keys.list().len(), "every call needs an API key");
    }
    Ok(keys)
}

/// Refuses to serve `open` (no API key) on an address other than loopback unless
/// `insecure`.
pub fn check_exposure(listen: SocketAddr, open: bool, insecure: bool) -> Result<(), ServerError> {
    if open && !insecure && !listen.ip().is_loopback() {
        return Err(ServerError::OpenOnNetwork { addr: listen });
    }
    Ok(())
}

/// The gRPC server builder with the transport's settings and layers, and TLS when
/// configured; also raises the open-files limit, since every connection is a descriptor.
async fn transport_builder(config: &ServerConfig) -> Result<tonic::transport::Server, ServerError> {
    let open_files = transport::raise_open_files_limit();
    tracing::debug!(?open_files, "open-files limit");
    let builder = transport::builder(&config.transport);
    let Some(files) = config.tls.clone() else {
        return Ok(builder);
    };
    let reader = files.clone();
    let tls = work::run("reading the TLS files", move || reader.server_config()).await??;
    Ok(builder
        .tls_config(tls)
        .map_err(|error| files.unusable(error))?)
}

/// Creates the data directory, opens the store and finishes or discards the imports a crash
/// interrupted; on first start also reads the glossary (see [`read_glossary`]), which the
/// caller then stores. Blocking: run it on the blocking pool.
fn open(dir: &Path, glossary: Option<&Path>) -> Result<(Store, Option<Vec<Concept>>), ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let store = Store::open(dir)?;
    let (finished, discarded) = store.recover_imports()?;
    if finished + discarded > 0 {
        tracing::info!(
            finished,
            discarded,
            "finished committed imports and discarded unfinished ones"
        );
    }
    let glossary = if store.is_seeded()? {
        None
    } else {
        Some(read_glossary(glossary)?)
    };
    Ok((store, glossary))
}

/// Reads every `.tbx` file of the glossary (a directory, or the built-in copy) into concepts
/// of [`GLOSSARY_COLLECTION`].
fn read_glossary(dir: Option<&Path>) -> Result<Vec<Concept>, ServerError> {
    let files: Vec<(String, Vec<u8>)> = match dir {
        None => SHIPPED_GLOSSARY
            .iter()
            .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
            .collect(),
        Some(dir) => {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| glossary_io(dir, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("tbx")))
                .collect();
            paths.sort();
            paths
                .into_iter()
                .map(|p| {
                    Ok((
                        p.display().to_string(),
                        std::fs::read(&p).map_err(|e| glossary_io(&p, e))?,
                    ))
                })
                .collect::<Result<_, ServerError>>()?
        }
    };
    let mut concepts = Vec::new();
    for (file, bytes) in files {
        for entry in TbxReader::new(bytes.as_slice()) {
            let mut concept = entry
                .map_err(|source| ServerError::Glossary {
                    file: file.clone(),
                    source,
                })?
                .concept;
            concept.collection = GLOSSARY_COLLECTION.to_owned();
            concepts.push(concept);
        }
    }
    Ok(concepts)
}

/// Stores the glossary's collection and concepts in one atomic batch, then marks the store
/// seeded.
/// The collection the shipped glossary is loaded into.
fn glossary_collection() -> Collection {
    Collection {
        name: GLOSSARY_COLLECTION.to_owned(),
        priority: GLOSSARY_PRIORITY,
        description: "The shipped SCO, Belt and Road and diplomatic glossary".to_owned(),
    }
}

async fn seed_glossary(store: &Store, concepts: Vec<Concept>) -> Result<(), ServerError> {
    store.upsert_collection(&glossary_collection(), now_ms(), "")?;
    store.insert_concepts(concepts, now_ms())?;
    store.mark_seeded()?;
    store.flush().await?;
    Ok(())
}

fn glossary_io(path: &Path, error: std::io::Error) -> ServerError {
    ServerError::Glossary {
        file: path.display().to_string(),
        source: FormatError::Io(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_server_is_refused_on_a_network_address_unless_insecure() {
        let loopback: SocketAddr = "127.0.0.1:50051".parse().unwrap();
        let loopback_v6: SocketAddr = "[::1]:50051".parse().unwrap();
        let network: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert!(check_exposure(loopback, true, false).is_ok());
        assert!(check_exposure(loopback_v6, true, false).is_ok());
        let refused = check_exposure(network, true, false).unwrap_err();
        assert!(refused.to_string().contains("--insecure"), "{refused}");
        assert!(check_exposure(network, true, true).is_ok());
        assert!(check_exposure(network, false, false).is_ok(), "keys exist");
    }
}
