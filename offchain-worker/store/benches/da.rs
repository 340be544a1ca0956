//! Serving a ~64 MiB gradient file over loopback: through the DA server (HTTP, `ServeFile`, the guard's
//! byte counting) against a plain tokio TCP write of the same file's bytes (held in memory), and the verified client download
//! (which also re-hashes every leaf). Compare the throughputs: the DA server's cost over raw TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pogo_primitives::{
    spec::{LrSchedule, TrainingSpec, UpdateRule},
    MerkleTree,
};
use pogo_store::{router, serve, ClientLimits, DaClient, RoundStore, ServerCounters, ServerLimits};
use std::{sync::Arc, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// 1820 leaves of 65 536 parameters in 4-bit blocks of 64: 1820 × 36 864 bytes ≈ 64 MiB.
fn spec() -> TrainingSpec {
    TrainingSpec {
        model: [1; 32],
        param_count: 1820 * 65_536,
        leaf_size: 65_536,
        codec_block: 64,
        rule: UpdateRule::Sgd { weight_decay: 0 },
        schedule: LrSchedule::Constant { lr: 1e-3f32.to_bits() },
        max_grad_norm: 0,
        steps_per_round: 1,
        checkpoint_interval: 1,
        batch_size: 1,
        train_examples: 1,
        eval_examples: 1,
    }
}

fn leaves(spec: &TrainingSpec) -> Vec<Vec<u8>> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..spec.leaf_count())
        .map(|i| {
            let len = spec.gradient_leaf_len(i).unwrap();
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        })
        .collect()
}

fn da_throughput(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RoundStore::open(dir.path()).unwrap());
    let spec = spec();
    let leaves = leaves(&spec);
    let root = MerkleTree::from_leaves(leaves.iter().map(Vec::as_slice)).unwrap().root();
    store.put_gradient(&spec, &root, &leaves).unwrap();
    drop(leaves);
    let path = store.gradient_path(&root);
    let len = std::fs::metadata(&path).unwrap().len();

    let (da_address, raw_address) = runtime.block_on(async {
        let da = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let da_address = da.local_addr().unwrap();
        let app = router(store.clone(), ServerLimits::default(), Arc::new(ServerCounters::default()));
        tokio::spawn(serve(da, app, std::future::pending()));
        let raw = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let raw_address = raw.local_addr().unwrap();
        // The baseline: the same bytes, already in memory, written straight to the socket.
        let file = Arc::new(std::fs::read(&path).unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = raw.accept().await {
                let file = file.clone();
                tokio::spawn(async move {
                    socket.write_all(&file).await.unwrap();
                    socket.shutdown().await.unwrap();
                });
            }
        });
        (da_address, raw_address)
    });

    let http = reqwest::Client::new();
    let url = format!("http://{da_address}/v1/gradients/{}", hex::encode(root));
    let client = DaClient::new(&format!("http://{da_address}"), ClientLimits::default()).unwrap();

    let mut group = c.benchmark_group("da_64mib_gradient");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Bytes(len));
    group.bench_function("raw_tcp_copy", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut stream = TcpStream::connect(raw_address).await.unwrap();
                let mut bytes = Vec::with_capacity(len as usize);
                stream.read_to_end(&mut bytes).await.unwrap();
                assert_eq!(bytes.len() as u64, len);
            })
        })
    });
    group.bench_function("da_server_http", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let bytes = http.get(&url).send().await.unwrap().bytes().await.unwrap();
                assert_eq!(bytes.len() as u64, len);
            })
        })
    });
    group.bench_function("da_client_verified", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let leaves = client.fetch_gradient(&spec, &root).await.unwrap();
                assert_eq!(leaves.len() as u64, spec.leaf_count());
            })
        })
    });
    group.finish();
}

criterion_group!(benches, da_throughput);
criterion_main!(benches);
