//! Helpers shared by the worker's end-to-end tests: a dev node on free ports, polling with a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use pogo_chain::ChainClient;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

/// A child process killed (and reaped) when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on localhost.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `pogo-worker` binary of this build.
pub fn worker_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pogo-worker"))
}

/// `pogo-node`: `$POGO_NODE`, else next to `pogo-worker`.
pub fn node_bin() -> PathBuf {
    std::env::var_os("POGO_NODE").map(PathBuf::from).unwrap_or_else(|| worker_bin().with_file_name("pogo-node"))
}

/// `pogo-node --dev` with 1 s blocks on free ports, its log in `dir`; the process and its WebSocket URL.
pub fn start_node(dir: &Path) -> (Killed, String) {
    let (rpc, p2p) = (free_port(), free_port());
    let log = std::fs::File::create(dir.join("node.log")).unwrap();
    let child = Command::new(node_bin())
        .args(["--dev", "--dev-block-time", "1000", "--tmp", "--rpc-port", &rpc.to_string(), "--port", &p2p.to_string()])
        .args(["--no-prometheus", "--no-telemetry", "--no-mdns", "--no-hardware-benchmarks"])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", node_bin().display()));
    (Killed(child), format!("ws://127.0.0.1:{rpc}"))
}

/// Polls `f` until it gives a value, failing the test after `secs` seconds.
pub async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(what: &str, secs: u64, mut f: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A chain client, once the node answers (a node starts in about 20 s alone; several tests start
/// theirs at once).
pub async fn connect(ws: &str) -> ChainClient {
    wait_for("the node's RPC", 300, || async { ChainClient::connect(ws).await.ok() }).await
}

/// `pogo-worker --threads THREADS verify` as its own process for `suri` on `ws`, with its store in
/// `dir/name`; each line it prints is echoed as `[name] line` (shown when a test fails).
pub fn start_verifier(dir: &Path, ws: &str, name: &str, suri: &str, threads: usize, extra: &[&str]) -> Killed {
    use std::io::BufRead;
    let mut child = Command::new(worker_bin())
        .args(["--threads", &threads.to_string(), "verify", "--ws", ws, "--suri", suri])
        .args(["--listen", "127.0.0.1:0", "--poll-seconds", "0.5", "--fetch-seconds", "4"])
        .arg("--store")
        .arg(dir.join(name))
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for out in [child.stdout.take().map(|o| Box::new(o) as Box<dyn std::io::Read + Send>), child.stderr.take().map(|e| Box::new(e) as _)]
        .into_iter()
        .flatten()
    {
        let name = name.to_owned();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
            }
        });
    }
    Killed(child)
}

