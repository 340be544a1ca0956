//! Prometheus metrics (`prometheus-client`, OpenMetrics text) on `--metrics <addr>` at `/metrics`:
//! training speed and loss, rounds submitted / accepted / not accepted / finalized, bytes the DA server
//! sent, and the submission latency (signing to inclusion).

use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use pogo_store::ServerCounters;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

/// The worker's metrics (cheap to clone: every field is shared).
#[derive(Clone)]
pub struct Metrics {
    /// Optimizer steps trained.
    pub steps: Counter,
    /// Steps per second of the last round.
    pub steps_per_second: Gauge<f64, AtomicU64>,
    /// Training loss of the last step.
    pub train_loss: Gauge<f64, AtomicU64>,
    /// Eval loss after the last round built.
    pub eval_loss: Gauge<f64, AtomicU64>,
    /// Rounds submitted.
    pub rounds_submitted: Counter,
    /// Rounds the chain accepted.
    pub rounds_accepted: Counter,
    /// Rounds that left the chain without acceptance (rejected, stale, expired).
    pub rounds_not_accepted: Counter,
    /// Accepted rounds finalized after their fraud window.
    pub rounds_finalized: Counter,
    /// Seconds from signing `submit_round` to its inclusion.
    pub submission_latency: Histogram,
    /// Bytes the DA server sent (brought up to its counters at scrape time).
    pub bytes_served: Counter,
    /// Verdict commitments included (verifier).
    pub verdicts_committed: Counter,
    /// Verdict reveals included (verifier).
    pub verdicts_revealed: Counter,
    /// Fraud proofs the chain accepted (verifier, watcher).
    pub fraud_reported: Counter,
    /// Bytes of round data downloaded and checked (verifier).
    pub da_bytes_fetched: Counter,
    /// Seconds to check one round: replay, recomputation, evaluation (verifier).
    pub check_seconds: Histogram,
    server: Arc<ServerCounters>,
    registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(Arc::new(ServerCounters::default()))
    }
}

impl Metrics {
    /// Metrics registered under the prefix `pogo_worker`; `bytes_served` is the DA server's counter.
    pub fn new(server: Arc<ServerCounters>) -> Self {
        let mut registry = Registry::with_prefix("pogo_worker");
        let steps = Counter::default();
        let steps_per_second = Gauge::<f64, AtomicU64>::default();
        let train_loss = Gauge::<f64, AtomicU64>::default();
        let eval_loss = Gauge::<f64, AtomicU64>::default();
        let rounds_submitted = Counter::default();
        let rounds_accepted = Counter::default();
        let rounds_not_accepted = Counter::default();
        let rounds_finalized = Counter::default();
        let submission_latency = Histogram::new([0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0].into_iter());
        registry.register("steps", "Optimizer steps trained", steps.clone());
        registry.register("steps_per_second", "Training speed of the last round", steps_per_second.clone());
        registry.register("train_loss", "Training loss of the last step", train_loss.clone());
        registry.register("eval_loss", "Eval loss after the last round built", eval_loss.clone());
        registry.register("rounds_submitted", "Rounds submitted", rounds_submitted.clone());
        registry.register("rounds_accepted", "Rounds accepted by the chain", rounds_accepted.clone());
        registry.register(
            "rounds_not_accepted",
            "Rounds removed without acceptance (rejected, stale, expired)",
            rounds_not_accepted.clone(),
        );
        registry.register("rounds_finalized", "Accepted rounds finalized after their fraud window", rounds_finalized.clone());
        registry.register(
            "submission_latency_seconds",
            "Seconds from signing submit_round to its inclusion",
            submission_latency.clone(),
        );
        let bytes_served = Counter::default();
        registry.register("da_bytes_served", "Bytes sent by the data-availability server", bytes_served.clone());
        let verdicts_committed = Counter::default();
        let verdicts_revealed = Counter::default();
        let fraud_reported = Counter::default();
        let da_bytes_fetched = Counter::default();
        let check_seconds = Histogram::new([0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0].into_iter());
        registry.register("verdicts_committed", "Verdict commitments included", verdicts_committed.clone());
        registry.register("verdicts_revealed", "Verdict reveals included", verdicts_revealed.clone());
        registry.register("fraud_proofs_accepted", "Fraud proofs the chain accepted", fraud_reported.clone());
        registry.register("da_bytes_fetched", "Bytes of round data downloaded and checked", da_bytes_fetched.clone());
        registry.register("check_seconds", "Seconds to check one round (replay, recomputation, evaluation)", check_seconds.clone());
        Self {
            verdicts_committed,
            verdicts_revealed,
            fraud_reported,
            da_bytes_fetched,
            check_seconds,
            steps,
            steps_per_second,
            train_loss,
            eval_loss,
            rounds_submitted,
            rounds_accepted,
            rounds_not_accepted,
            rounds_finalized,
            submission_latency,
            bytes_served,
            server,
            registry: Arc::new(registry),
        }
    }

    /// Records a built round of `steps` steps that took `seconds`.
    pub fn round_built(&self, steps: f64, seconds: f64) {
        if seconds > 0.0 {
            self.steps_per_second.set(steps / seconds);
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let served = self.server.bytes_served.load(Ordering::Relaxed);
        self.bytes_served.inc_by(served.saturating_sub(self.bytes_served.get()));
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Serves `/metrics` on `listener` until `shutdown` resolves.
    pub async fn serve(self, listener: tokio::net::TcpListener, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = self.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                        m.render(),
                    )
                }
            }),
        );
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_as_openmetrics() {
        let served = Arc::new(ServerCounters::default());
        let m = Metrics::new(served.clone());
        m.steps.inc_by(20);
        m.rounds_submitted.inc();
        m.train_loss.set(1.25);
        served.bytes_served.store(4096, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("pogo_worker_steps_total 20"), "{text}");
        assert!(text.contains("pogo_worker_rounds_submitted_total 1"), "{text}");
        assert!(text.contains("pogo_worker_train_loss 1.25"), "{text}");
        assert!(text.contains("pogo_worker_da_bytes_served_total 4096"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
