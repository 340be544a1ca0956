//! The data-availability server: serves a [`RoundStore`] read-only over HTTP (protocol in the crate
//! docs). Whole files go through `tower_http::services::ServeFile` (HTTP Range, conditional requests);
//! leaf openings and manifests are JSON. Every request passes one guard first, which refuses with a JSON
//! error: a path longer than [`ServerLimits::max_path_len`] (414), a method other than GET or HEAD
//! (405), any request body (413), more than [`ServerLimits::max_concurrent`] requests in flight (503;
//! a permit is held until the response body is fully sent), and a response not started within
//! [`ServerLimits::request_timeout`] (408). Roots and indices are parsed before any path is built, so
//! no client string ever reaches the file system.

use crate::{
    layout::{parse_root, ObjectKind},
    store::{RoundStore, StoreError},
    wire::{DaStatus, ErrorBody, LeafOpening, DA_VERSION, SERVICE_NAME},
};
use axum::{
    body::{Body, HttpBody},
    extract::{rejection::PathRejection, Path, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use codec::Encode;
use futures::StreamExt;
use pogo_primitives::Hash;
use std::{
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// Bounds on what one server does at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Requests handled at once (responses still streaming included); more are refused with 503.
    pub max_concurrent: usize,
    /// Time to start a response; slower requests get 408.
    pub request_timeout: Duration,
    /// Longest request target (path and query) in bytes; longer ones get 414.
    pub max_path_len: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self { max_concurrent: 64, request_timeout: Duration::from_secs(30), max_path_len: 256 }
    }
}

/// What the server has done, for metrics.
#[derive(Debug, Default)]
pub struct ServerCounters {
    /// Bytes of response bodies sent.
    pub bytes_served: AtomicU64,
    /// Requests received.
    pub requests: AtomicU64,
    /// Responses with a 4xx or 5xx status.
    pub errors: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Bytes of response bodies sent.
    pub bytes_served: u64,
    /// Requests received.
    pub requests: u64,
    /// Responses with a 4xx or 5xx status.
    pub errors: u64,
}

impl ServerCounters {
    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            bytes_served: self.bytes_served.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

struct App {
    store: Arc<RoundStore>,
    counters: Arc<ServerCounters>,
}

struct Guard {
    limits: ServerLimits,
    counters: Arc<ServerCounters>,
    permits: Arc<Semaphore>,
}

/// Bodies at most this long with a known length are counted at once instead of while streaming.
const SMALL_BODY: u64 = 64 * 1024;

/// Bytes read from disk per body chunk when serving whole files.
const FILE_CHUNK: usize = 1 << 20;

/// The DA routes over `store`, behind the guard (see the module docs).
pub fn router(store: Arc<RoundStore>, limits: ServerLimits, counters: Arc<ServerCounters>) -> Router {
    let app = Arc::new(App { store, counters: counters.clone() });
    let routes = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/states/{root}", get(state_file))
        .route("/v1/states/{root}/leaves/{index}", get(state_leaf))
        .route("/v1/rounds/{trace_root}", get(round))
        .route("/v1/gradients/{root}", get(gradient_file))
        .route("/v1/gradients/{root}/leaves/{index}", get(gradient_leaf))
        .fallback(unknown_path)
        .with_state(app);
    guarded(routes, limits, counters)
}

/// Puts `routes` behind the guard of the module docs (limits, JSON refusals, counters); [`router`]
/// does this for the DA routes, and other read-only services of a worker may share it.
pub fn guarded(routes: Router, limits: ServerLimits, counters: Arc<ServerCounters>) -> Router {
    let permits = Arc::new(Semaphore::new(limits.max_concurrent));
    let guard = Arc::new(Guard { limits, counters, permits });
    routes.layer(middleware::from_fn_with_state(guard, guard_request))
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "DA server listening");
    }
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// A JSON error response.
fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody { error: kind.to_string(), message: message.into() })).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn not_found(message: impl Into<String>) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", message)
}

fn internal(message: impl Into<String>) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
}

/// Refusals that need no handler: target too long, wrong method, a body.
fn refusal(limits: &ServerLimits, request: &Request) -> Option<Response> {
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > limits.max_path_len {
        return Some(error(StatusCode::URI_TOO_LONG, "uri_too_long", format!("request target over {} bytes", limits.max_path_len)));
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "only GET and HEAD are served");
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(response);
    }
    let headers = request.headers();
    let has_length = headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0");
    if has_length || headers.contains_key(header::TRANSFER_ENCODING) || request.body().size_hint().lower() > 0 {
        return Some(error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "requests carry no body"));
    }
    None
}

async fn guard_request(State(app): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    app.counters.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(response) = refusal(&app.limits, &request) {
        return counted(&app, response, None);
    }
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        let response = error(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "too many requests in flight");
        return counted(&app, response, None);
    };
    match tokio::time::timeout(app.limits.request_timeout, next.run(request)).await {
        Ok(response) => counted(&app, response, Some(permit)),
        Err(_) => counted(&app, error(StatusCode::REQUEST_TIMEOUT, "timeout", "the response took too long"), None),
    }
}

/// Counts the response (errors, body bytes); a streamed body keeps `permit` until it is sent or dropped.
fn counted(app: &Guard, response: Response, permit: Option<tokio::sync::OwnedSemaphorePermit>) -> Response {
    if response.status().is_client_error() || response.status().is_server_error() {
        app.counters.errors.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(len) = response.body().size_hint().exact().filter(|len| *len <= SMALL_BODY) {
        app.counters.bytes_served.fetch_add(len, Ordering::Relaxed);
        return response;
    }
    let counters = app.counters.clone();
    let (parts, body) = response.into_parts();
    let stream = body.into_data_stream().map(move |chunk| {
        let _in_flight = &permit;
        if let Ok(bytes) = &chunk {
            counters.bytes_served.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        chunk
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

async fn unknown_path() -> Response {
    not_found("no such endpoint")
}

async fn status(State(app): State<Arc<App>>) -> Response {
    let counts = app.store.counts();
    Json(DaStatus {
        service: SERVICE_NAME.to_string(),
        version: DA_VERSION,
        rounds: counts.rounds,
        states: counts.states,
        bytes_served: app.counters.bytes_served.load(Ordering::Relaxed),
    })
    .into_response()
}

/// The root of a path, or the message of a 400.
fn root_param(param: Result<Path<String>, PathRejection>) -> Result<Hash, String> {
    let Path(text) = param.map_err(|e| e.body_text())?;
    parse_root(&text).ok_or_else(|| "the root is not 64 hex digits".to_string())
}

/// The root and leaf index of a path, or the message of a 400.
fn leaf_params(params: Result<Path<(String, String)>, PathRejection>) -> Result<(Hash, u64), String> {
    let Path((root, index)) = params.map_err(|e| e.body_text())?;
    let root = parse_root(&root).ok_or_else(|| "the root is not 64 hex digits".to_string())?;
    let digits = !index.is_empty() && index.len() <= 20 && index.bytes().all(|b| b.is_ascii_digit());
    let index = digits.then(|| index.parse::<u64>().ok()).flatten();
    Ok((root, index.ok_or_else(|| "the leaf index is not a decimal u64".to_string())?))
}

async fn serve_file(kind: ObjectKind, path: std::path::PathBuf, request: Request) -> Response {
    if !tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
        return not_found(format!("no {kind} with this root"));
    }
    match ServeFile::new(&path).with_buf_chunk_size(FILE_CHUNK).oneshot(request).await {
        Ok(response) if response.status() == StatusCode::NOT_FOUND => not_found(format!("no {kind} with this root")),
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

async fn state_file(State(app): State<Arc<App>>, root: Result<Path<String>, PathRejection>, request: Request) -> Response {
    match root_param(root) {
        Ok(root) => serve_file(ObjectKind::State, app.store.state_path(&root), request).await,
        Err(message) => bad_request(message),
    }
}

async fn gradient_file(
    State(app): State<Arc<App>>,
    root: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    match root_param(root) {
        Ok(root) => serve_file(ObjectKind::Gradient, app.store.gradient_path(&root), request).await,
        Err(message) => bad_request(message),
    }
}

fn store_error(error: StoreError) -> Response {
    match error {
        StoreError::NotFound { kind, .. } => not_found(format!("no {kind} with this root")),
        StoreError::LeafOutOfRange { index, count, .. } =>
            not_found(format!("leaf {index} out of range ({count} leaves)")),
        StoreError::Corrupt { kind, .. } => {
            tracing::error!(%error, "refusing to serve a corrupt object");
            internal(format!("the stored {kind} is damaged"))
        },
        other => {
            tracing::error!(error = %other, "DA request failed");
            internal("the store failed")
        },
    }
}

async fn leaf(app: Arc<App>, kind: ObjectKind, params: Result<Path<(String, String)>, PathRejection>) -> Response {
    let (root, index) = match leaf_params(params) {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    let spec = match kind {
        ObjectKind::State => app.store.state_spec(&root),
        _ => app.store.gradient_spec(&root),
    };
    let Some(spec) = spec else {
        return not_found(format!("no {kind} with this root"));
    };
    let store = app.store.clone();
    let opened = tokio::task::spawn_blocking(move || match kind {
        ObjectKind::State => store.state_leaf(&spec, &root, index),
        _ => store.gradient_leaf(&spec, &root, index),
    })
    .await;
    match opened {
        Ok(Ok((leaf, proof))) => Json(LeafOpening { leaf: hex::encode(leaf), proof: hex::encode(proof.encode()) }).into_response(),
        Ok(Err(e)) => store_error(e),
        Err(e) => internal(format!("leaf task failed: {e}")),
    }
}

async fn state_leaf(State(app): State<Arc<App>>, params: Result<Path<(String, String)>, PathRejection>) -> Response {
    leaf(app, ObjectKind::State, params).await
}

async fn gradient_leaf(State(app): State<Arc<App>>, params: Result<Path<(String, String)>, PathRejection>) -> Response {
    leaf(app, ObjectKind::Gradient, params).await
}

async fn round(State(app): State<Arc<App>>, root: Result<Path<String>, PathRejection>) -> Response {
    let root = match root_param(root) {
        Ok(root) => root,
        Err(message) => return bad_request(message),
    };
    let store = app.store.clone();
    match tokio::task::spawn_blocking(move || store.round(&root)).await {
        Ok(Ok(Some(manifest))) => Json(manifest).into_response(),
        Ok(Ok(None)) => not_found("no round with this trace root"),
        Ok(Err(e)) => store_error(e),
        Err(e) => internal(format!("round task failed: {e}")),
    }
}
