//! A `tolmach serve` child process on 127.0.0.1 over a data directory, to be killed with
//! SIGKILL as a power cut or an OOM kill would, the numbered TMX file imports are killed
//! during, and the count of units a memory holds afterwards: shared by the crash and job
//! tests (`tests/api/`) and the crash loop (`benches/crash_loop.rs`).
//!
//! The child logs at `RUST_LOG=info` to a pipe read here. To see its log while diagnosing,
//! set `TOLMACH_CHILD_LOG` to a log filter (`info`, `tolmach=debug`): the child then logs at
//! that level, and every line it logs is also written to this process's stderr.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tolmach::service::proto::{memory_client::MemoryClient, StatsRequest};
use tonic::transport::Channel;
use tonic::Code;

/// A server process, the address it listens on, and its log.
pub struct ChildServer {
    process: Child,
    /// A connection to it.
    pub channel: Channel,
    log: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// What it logged before serving (recovery).
    pub early: Vec<String>,
    /// How many lines of `early` [`logged`](Self::logged) has looked at.
    early_read: usize,
}

/// The longest [`ChildServer::logged`] waits for a line: a server that never logs it fails
/// the test rather than hanging it.
const LOG_WAIT: Duration = Duration::from_secs(300);

impl ChildServer {
    /// Starts `tolmach serve` (the binary built with these tests or benches) on a free port
    /// over `dir` and connects to it.
    pub async fn start(dir: &Path) -> ChildServer {
        ChildServer::start_with(dir, &[]).await
    }

    /// The same with more arguments to `serve`.
    pub async fn start_with(dir: &Path, args: &[&str]) -> ChildServer {
        let listen = ["--listen", "127.0.0.1:0", "--data-dir"].map(OsStr::new);
        let serve_args = listen.into_iter().chain([dir.as_os_str()]);
        ChildServer::serve(serve_args.chain(args.iter().map(OsStr::new))).await
    }

    /// `tolmach serve` with exactly these arguments, which must make it listen on
    /// 127.0.0.1 (it logs the port), and connects to it.
    pub async fn serve<'a>(args: impl IntoIterator<Item = &'a OsStr>) -> ChildServer {
        let shown = std::env::var("TOLMACH_CHILD_LOG").ok();
        let mut process = Command::new(env!("CARGO_BIN_EXE_tolmach"))
            .arg("serve")
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", shown.as_deref().unwrap_or("info"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        // Every line goes on to `log`; a thread keeps draining the pipe so that the server
        // never blocks on it.
        let lines = BufReader::new(process.stdout.take().expect("piped")).lines();
        let (sender, mut log) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if shown.is_some() {
                    eprintln!("{line}");
                }
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut early = Vec::new();
        let addr = loop {
            let line = log.recv().await.expect("the server logs its address");
            if let Some(addr) = line
                .split("serving tolmach.v1 on ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
            {
                break addr.to_owned();
            }
            early.push(line);
        };
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("valid uri")
            .connect()
            .await
            .expect("server reachable");
        ChildServer {
            process,
            channel,
            log,
            early,
            early_read: 0,
        }
    }

    /// Waits for the first log line containing `needle` not yet looked at, from the start
    /// of the log: work the server starts beside serving (reading an index back) may log
    /// before the line that says it serves.
    pub async fn logged(&mut self, needle: &str) -> String {
        while let Some(line) = self.early.get(self.early_read) {
            self.early_read += 1;
            if line.contains(needle) {
                return line.clone();
            }
        }
        let later = async {
            loop {
                let line = self.log.recv().await.expect("the server is still logging");
                if line.contains(needle) {
                    return line;
                }
            }
        };
        tokio::time::timeout(LOG_WAIT, later)
            .await
            .unwrap_or_else(|_| panic!("no log line with {needle:?} in {LOG_WAIT:?}"))
    }

    /// Its resident and peak resident memory, in MiB (0 where /proc is missing).
    pub fn rss_mib(&self) -> (f64, f64) {
        rss_mib_of(&self.process.id().to_string())
    }

    /// SIGKILL: no shutdown, no flush. Only this child, by its process id.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        // `Child::kill` sends SIGKILL to this child's pid; `wait` reaps it.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A TMX of `units` numbered zh–en units, one per line from line 2 on (unit `n` at line
/// `n + 2`).
pub fn numbered_tmx(units: usize) -> Vec<u8> {
    let mut file = String::from(
        "<?xml version=\"1.0\"?><tmx version=\"1.4\"><header srclang=\"zh\" \
         datatype=\"plaintext\" segtype=\"sentence\" o-tmf=\"x\" adminlang=\"en\" \
         creationtool=\"t\" creationtoolversion=\"1\"/><body>\n",
    );
    for n in 0..units {
        file.push_str(&format!(
            "<tu tuid=\"t{n}\"><tuv xml:lang=\"zh\"><seg>第{n}号文件</seg></tuv>\
             <tuv xml:lang=\"en\"><seg>Document number {n}</seg></tuv></tu>\n"
        ));
    }
    file.push_str("</body></tmx>\n");
    file.into_bytes()
}

/// Units stored in `memory`, once the memory index is loaded.
pub async fn memory_units(channel: &Channel, memory: &str) -> u64 {
    let mut client = MemoryClient::new(channel.clone());
    let started = Instant::now();
    loop {
        match client.stats(StatsRequest {}).await {
            Ok(stats) => {
                return stats
                    .into_inner()
                    .memories
                    .iter()
                    .find(|m| m.memory == memory)
                    .map_or(0, |m| m.units)
            }
            Err(status) if started.elapsed() < Duration::from_secs(300) => {
                if status.code() != Code::Unavailable {
                    panic!("Stats failed: {status:?}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => panic!("the memory index never loaded: {status:?}"),
        }
    }
}

/// Resident and peak resident memory of process `pid` (or `self`), in MiB.
pub fn rss_mib_of(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
