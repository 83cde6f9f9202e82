//! A JetStream cluster of three `nats-server` processes on 127.0.0.1, for the cluster test
//! (`tests/cluster.rs`) and the cluster benchmark: every listener pinned to loopback, no
//! monitoring port, each server killed with SIGKILL by its own PID only.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the server.
pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The stream the nodes use (their default).
pub const STREAM: &str = "tolmach";

/// One nats-server of the cluster.
pub struct NatsServer {
    /// Its server name (`n1`…), as JetStream names the stream's leader.
    pub name: String,
    /// Its client port.
    pub port: u16,
    /// Its cluster (route) port.
    pub route_port: u16,
    dir: PathBuf,
    process: Option<Child>,
}

impl NatsServer {
    /// Starts it with routes to `peers` (their route ports) and waits until it listens.
    pub fn start(&mut self, peers: &[u16]) {
        let routes: Vec<String> = peers
            .iter()
            .map(|port| format!("\"nats-route://127.0.0.1:{port}\""))
            .collect();
        // Every listener pinned to loopback; no monitoring port.
        let config = format!(
            "server_name: \"{name}\"\nlisten: \"127.0.0.1:{port}\"\n\
             jetstream {{ store_dir: \"{store}\" }}\n\
             cluster {{\n  name: \"tolmach-test\"\n  listen: \"127.0.0.1:{route}\"\n  \
             routes: [{routes}]\n}}\n",
            name = self.name,
            port = self.port,
            store = self.dir.join("jetstream").display(),
            route = self.route_port,
            routes = routes.join(", "),
        );
        let file = self.dir.join("nats.conf");
        std::fs::write(&file, config).expect("nats config written");
        let log = std::fs::File::create(self.dir.join("nats.log")).expect("nats log");
        let process = Command::new(NATS_SERVER)
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        self.process = Some(process);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} did not listen on {addr}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, only this process, by its id.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port free on loopback now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Three nats-servers routed to each other, started.
pub fn nats_cluster(root: &Path) -> Vec<NatsServer> {
    let mut servers: Vec<NatsServer> = (1..=3)
        .map(|n| {
            let dir = root.join(format!("nats-{n}"));
            std::fs::create_dir_all(&dir).expect("nats dir");
            NatsServer {
                name: format!("n{n}"),
                port: free_port(),
                route_port: free_port(),
                dir,
                process: None,
            }
        })
        .collect();
    let route_ports: Vec<u16> = servers.iter().map(|s| s.route_port).collect();
    for server in &mut servers {
        let own = server.route_port;
        let peers: Vec<u16> = route_ports.iter().copied().filter(|p| *p != own).collect();
        server.start(&peers);
    }
    servers
}

/// `serve`'s arguments for a node of this cluster: `--cluster` with every server's URL,
/// three replicas, and `glossary` (an empty directory keeps start-up short).
pub fn node_args(servers: &[NatsServer], glossary: &Path) -> Vec<String> {
    let urls: Vec<String> = servers
        .iter()
        .map(|s| format!("nats://127.0.0.1:{}", s.port))
        .collect();
    vec![
        "--cluster".into(),
        urls.join(","),
        "--cluster-replicas".into(),
        "3".into(),
        "--glossary".into(),
        glossary.display().to_string(),
    ]
}

impl NatsServer {
    /// Whether it runs (was started and not killed).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }
}

/// The stream's leader and last sequence, as JetStream reports them.
pub async fn stream_state(servers: &[NatsServer]) -> (String, u64) {
    let urls: Vec<String> = servers
        .iter()
        .filter(|s| s.is_running())
        .map(|s| format!("nats://127.0.0.1:{}", s.port))
        .collect();
    let client = async_nats::connect(urls).await.expect("nats reachable");
    let mut stream = async_nats::jetstream::new(client)
        .get_stream(STREAM)
        .await
        .expect("the stream exists");
    let info = stream.info().await.expect("stream info");
    let leader = info
        .cluster
        .as_ref()
        .and_then(|cluster| cluster.leader.clone())
        .expect("the stream has a leader");
    (leader, info.state.last_sequence)
}

/// The revision a cluster node's answer carries (its `tolmach-revision` header).
pub fn revision_of(metadata: &tonic::metadata::MetadataMap) -> Option<u64> {
    metadata
        .get("tolmach-revision")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
