//! The DA server and client over loopback: every object round-trips and is checked, malformed and
//! abusive requests get JSON errors, and a lying server is caught.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::{routing::get, Json, Router};
use codec::Encode;
use common::{build_round, BuiltRound};
use pogo_store::{
    guarded, router, serve, ClientLimits, DaClient, DaError, ErrorBody, LeafOpening, RoundStore, ServerCounters, ServerLimits,
};
use std::{sync::Arc, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};

struct Server {
    base: String,
    counters: Arc<ServerCounters>,
    _stop: oneshot::Sender<()>,
}

async fn start(app: Router) -> (String, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn start_store(store: Arc<RoundStore>, limits: ServerLimits) -> Server {
    let counters = Arc::new(ServerCounters::default());
    let (base, stop) = start(router(store, limits, counters.clone())).await;
    Server { base, counters, _stop: stop }
}

fn stored_round(salt: u32) -> (tempfile::TempDir, Arc<RoundStore>, BuiltRound) {
    let dir = tempfile::tempdir().unwrap();
    let store = RoundStore::open(dir.path()).unwrap();
    let r = build_round(salt);
    store.put_builder_round(&r.builder, &r.manifest).unwrap();
    (dir, Arc::new(store), r)
}

fn client(base: &str) -> DaClient {
    DaClient::new(base, ClientLimits { timeout: Duration::from_secs(10), max_bytes: 1 << 20 }).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_round_trips_through_the_client() {
    let (_dir, store, r) = stored_round(0);
    let spec = r.spec;
    let server = start_store(store.clone(), ServerLimits::default()).await;
    let da = client(&server.base);

    let status = da.status().await.unwrap();
    assert_eq!((status.service.as_str(), status.version, status.rounds, status.states), ("pogo-da", 1, 1, 3));

    let trace_root = r.trace_root();
    assert_eq!(da.fetch_round(&trace_root).await.unwrap(), r.manifest);
    for (step, root) in r.manifest.checkpoints().unwrap() {
        assert_eq!(da.fetch_state(&spec, &root).await.unwrap(), r.state(step));
        for i in 0..spec.leaf_count() {
            let (leaf, proof) = da.fetch_state_leaf(&spec, &root, i).await.unwrap();
            assert_eq!(Some((leaf, proof)), r.builder.state_opening(step, i));
        }
    }
    for record in r.manifest.records().unwrap() {
        let root = record.gradient_root;
        assert_eq!(da.fetch_gradient(&spec, &root).await.unwrap(), r.builder.gradient_leaves(record.step).unwrap());
        let (leaf, proof) = da.fetch_gradient_leaf(&spec, &root, 3).await.unwrap();
        assert_eq!(Some((leaf, proof)), r.builder.gradient_opening(record.step, 3));
    }

    // HTTP Range on a whole file.
    let root = r.builder.base_root();
    let file = std::fs::read(store.state_path(&root)).unwrap();
    let url = format!("{}/v1/states/{}", server.base, hex::encode(root));
    let part = reqwest::Client::new().get(&url).header("Range", "bytes=20-1043").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &file[20..1044]);
    let length = |r: &reqwest::Response| r.headers()["content-length"].to_str().unwrap().parse::<usize>().unwrap();
    let head = reqwest::Client::new().head(&url).send().await.unwrap();
    assert_eq!((head.status().as_u16(), length(&head)), (200, file.len()));
    let whole = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!((whole.status().as_u16(), length(&whole)), (200, file.len()));
    assert_eq!(whole.bytes().await.unwrap().as_ref(), file.as_slice());

    // Absent objects are typed 404s.
    match da.fetch_state(&spec, &[1; 32]).await {
        Err(DaError::Status { code: 404, body }) => assert!(body.contains("not_found"), "{body}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(da.fetch_round(&[1; 32]).await, Err(DaError::Status { code: 404, .. })));
    assert!(matches!(da.fetch_gradient_leaf(&spec, &[1; 32], 0).await, Err(DaError::Status { code: 404, .. })));

    let served = server.counters.snapshot();
    assert!(served.bytes_served > (file.len() * 3) as u64, "{served:?}");
    assert!(served.requests >= 30 && served.errors == 3, "{served:?}");
    assert!(da.status().await.unwrap().bytes_served <= server.counters.snapshot().bytes_served);
}

/// Sends raw bytes (no client-side URL normalization) and returns the status and body.
async fn raw(base: &str, request: &str) -> (u16, String) {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let code = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (code, body)
}

fn error_kind(body: &str) -> String {
    serde_json::from_str::<ErrorBody>(body).unwrap_or_else(|e| panic!("{e}: {body:?}")).error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_abusive_requests_get_json_errors() {
    let (_dir, store, r) = stored_round(1);
    let server = start_store(store, ServerLimits { max_path_len: 200, ..ServerLimits::default() }).await;
    let root = hex::encode(r.builder.base_root());
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let cases: Vec<(String, u16, &str)> = vec![
        (get("/v1/states/zz"), 400, "bad_request"),
        (get(&format!("/v1/states/{}", &root[..62])), 400, "bad_request"),
        (get(&format!("/v1/states/{root}00")), 400, "bad_request"),
        (get("/v1/states/..%2f..%2fetc%2fpasswd"), 400, "bad_request"),
        (get("/v1/gradients/%2e%2e%2f%2e%2e%2fetc%2fpasswd/leaves/0"), 400, "bad_request"),
        (get("/v1/states/../../../etc/passwd"), 404, "not_found"),
        (get("/../../etc/passwd"), 404, "not_found"),
        (get(&format!("/v1/states/{root}/leaves/99999999999999999999999")), 400, "bad_request"),
        (get(&format!("/v1/states/{root}/leaves/-1")), 400, "bad_request"),
        (get(&format!("/v1/states/{root}/leaves/0x1")), 400, "bad_request"),
        (get(&format!("/v1/states/{root}/leaves/18446744073709551615")), 404, "not_found"),
        (get(&format!("/v1/states/{root}/leaves/4")), 404, "not_found"),
        (get(&format!("/v1/rounds/{root}")), 404, "not_found"),
        (get(&format!("/v1/gradients/{root}")), 404, "not_found"),
        (get("/v1/nothing"), 404, "not_found"),
        (get("/"), 404, "not_found"),
        (get(&format!("/v1/states/{}", "a".repeat(300))), 414, "uri_too_long"),
        ("POST /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(), 405, "method_not_allowed"),
        (format!("DELETE /v1/states/{root} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405, "method_not_allowed"),
        ("GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_string(), 413, "payload_too_large"),
        (
            "GET /v1/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_string(),
            413,
            "payload_too_large",
        ),
    ];
    for (request, code, kind) in cases {
        let (got, body) = raw(&server.base, &request).await;
        assert_eq!((got, error_kind(&body).as_str()), (code, kind), "{request:?}");
    }
    // A huge body is refused too (the server does not read it).
    let big = reqwest::Client::new()
        .get(format!("{}/v1/status", server.base))
        .body(vec![0u8; 4 << 20])
        .send()
        .await;
    if let Ok(response) = big {
        assert_eq!(response.status(), 413);
    }
    assert!(server.counters.snapshot().errors >= 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limits_requests_are_refused() {
    // A slow route behind the same guard as the DA routes: one request at a time, 200 ms to answer.
    let counters = Arc::new(ServerCounters::default());
    let routes = Router::new()
        .route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(2)).await; "late" }))
        .route("/wait", get(|| async { tokio::time::sleep(Duration::from_millis(100)).await; "ok" }));
    let limits = ServerLimits { max_concurrent: 1, request_timeout: Duration::from_millis(200), ..ServerLimits::default() };
    let (base, _stop) = start(guarded(routes, limits, counters.clone())).await;

    let response = reqwest::get(format!("{base}/slow")).await.unwrap();
    assert_eq!(response.status(), 408);
    assert_eq!(error_kind(&response.text().await.unwrap()), "timeout");

    let first = tokio::spawn(reqwest::get(format!("{base}/wait")));
    tokio::time::sleep(Duration::from_millis(30)).await;
    let second = reqwest::get(format!("{base}/wait")).await.unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(error_kind(&second.text().await.unwrap()), "overloaded");
    assert_eq!(first.await.unwrap().unwrap().text().await.unwrap(), "ok");
    // The permit is back once the response is sent.
    assert_eq!(reqwest::get(format!("{base}/wait")).await.unwrap().status(), 200);
    assert_eq!(counters.snapshot().errors, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_server_is_caught() {
    let (_dir, honest_store, r) = stored_round(3);
    let spec = r.spec;
    // A second store with the same round, whose files are then changed on disk.
    let (_liar_dir, liar_store, _) = stored_round(3);
    let base_root = r.builder.base_root();
    let gradient_root = r.manifest.records().unwrap()[1].gradient_root;
    let state_path = liar_store.state_path(&base_root);
    let mut state = std::fs::read(&state_path).unwrap();
    state[100] ^= 0x01; // a low mantissa bit of a weight: still a finite, well-formed file
    std::fs::write(&state_path, &state).unwrap();
    let gradient_path = liar_store.gradient_path(&gradient_root);
    let mut gradient = std::fs::read(&gradient_path).unwrap();
    gradient[10] ^= 0x11;
    std::fs::write(&gradient_path, &gradient).unwrap();
    let liar = start_store(liar_store, ServerLimits::default()).await;
    let da = client(&liar.base);
    assert!(matches!(da.fetch_state(&spec, &base_root).await, Err(DaError::Mismatch { what: "state" })));
    assert!(matches!(da.fetch_gradient(&spec, &gradient_root).await, Err(DaError::Mismatch { what: "gradient" })));
    // The liar's own store refuses to open the damaged leaf (500), so it cannot serve a proof for it.
    assert!(matches!(da.fetch_state_leaf(&spec, &base_root, 0).await, Err(DaError::Status { code: 500, .. })));

    // A hand-written liar: wrong leaf with a right proof, another round's manifest, a tampered manifest,
    // a state file with a byte too many.
    let honest = start_store(honest_store.clone(), ServerLimits::default()).await;
    let good = client(&honest.base);
    let (leaf, proof) = good.fetch_state_leaf(&spec, &base_root, 1).await.unwrap();
    let mut wrong_leaf = leaf.clone();
    wrong_leaf[0] ^= 1;
    let opening = LeafOpening { leaf: hex::encode(&wrong_leaf), proof: hex::encode(proof.encode()) };
    let wrong_index = LeafOpening { leaf: hex::encode(&leaf), proof: hex::encode(proof.encode()) };
    let other_round = build_round(4).manifest;
    let mut tampered = r.manifest.clone();
    tampered.eval_loss_after = 0.5;
    let mut long_state = std::fs::read(honest_store.state_path(&base_root)).unwrap();
    long_state.push(0);
    let root_hex = hex::encode(base_root);
    let trace_hex = hex::encode(r.trace_root());
    let app = Router::new()
        .route(&format!("/v1/states/{root_hex}/leaves/1"), get(move || async move { Json(opening) }))
        .route(&format!("/v1/states/{root_hex}/leaves/2"), get(move || async move { Json(wrong_index) }))
        .route(&format!("/v1/rounds/{trace_hex}"), get(move || async move { Json(other_round) }))
        .route(&format!("/v1/rounds/{}", hex::encode([2u8; 32])), get(move || async move { Json(tampered) }))
        .route(&format!("/v1/states/{root_hex}"), get(move || async move { long_state }));
    let (base, _stop) = start(app).await;
    let da = client(&base);
    assert!(matches!(da.fetch_state_leaf(&spec, &base_root, 1).await, Err(DaError::Mismatch { what: "state leaf" })));
    assert!(matches!(da.fetch_state_leaf(&spec, &base_root, 2).await, Err(DaError::Mismatch { what: "state leaf" })));
    assert!(matches!(da.fetch_round(&r.trace_root()).await, Err(DaError::Mismatch { what: "round manifest" })));
    assert!(matches!(da.fetch_round(&[2; 32]).await, Err(DaError::Manifest(_))));
    assert!(matches!(da.fetch_state(&spec, &base_root).await, Err(DaError::TooLarge { .. })));
}

#[test]
fn client_urls_are_validated() {
    let limits = ClientLimits::default();
    for bad in ["", "127.0.0.1:9955", "ftp://host/", "file:///etc/passwd", "http://", "http://h/?q=1", "http://h/#f", "unix:/tmp/x"] {
        assert!(matches!(DaClient::new(bad, limits.clone()), Err(DaError::Url(_))), "{bad:?}");
    }
    assert_eq!(DaClient::new("http://127.0.0.1:9955", limits.clone()).unwrap().base_url(), "http://127.0.0.1:9955/");
    assert_eq!(DaClient::new("https://da.example/miner", limits).unwrap().base_url(), "https://da.example/miner/");
}
