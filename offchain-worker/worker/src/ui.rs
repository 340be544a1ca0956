//! What a person sees: one progress bar per round (step, loss, steps/s) and a line per chain event
//! (submission, phases, acceptance), drawn with indicatif from the miner's events. Without a terminal
//! (CI, logs) the same events go to `tracing` only.

use crate::{metrics::Metrics, roles::miner::MinerEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedReceiver;

/// Shows miner events until the channel closes.
pub async fn show(mut events: UnboundedReceiver<MinerEvent>, metrics: Metrics, draw: bool) {
    let multi = MultiProgress::with_draw_target(if draw { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} steps  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut bar: Option<ProgressBar> = None;
    let line = |multi: &MultiProgress, text: String| {
        if draw {
            let _ = multi.println(text);
        } else {
            tracing::info!("{text}");
        }
    };
    while let Some(event) = events.recv().await {
        match event {
            MinerEvent::Training { round, steps, base_root, .. } => {
                let b = multi.add(ProgressBar::new(u64::from(steps)));
                b.set_style(style.clone());
                b.set_prefix(format!("round {round}"));
                b.set_message(format!("on {}", hex::encode(&base_root[..4])));
                bar = Some(b);
            },
            MinerEvent::Step { step, loss, elapsed, .. } => {
                metrics.steps.inc();
                metrics.train_loss.set(f64::from(loss));
                let rate = f64::from(step) / elapsed.as_secs_f64().max(1e-9);
                if let Some(b) = &bar {
                    b.set_position(u64::from(step));
                    b.set_message(format!("loss {loss:.4}  {rate:.1} steps/s"));
                }
            },
            MinerEvent::Built { round, trace_root, eval_before, eval_after, seconds, .. } => {
                metrics.eval_loss.set(f64::from(eval_after));
                if let Some(b) = bar.take() {
                    b.finish();
                }
                line(
                    &multi,
                    format!(
                        "round {round} built in {seconds:.1} s: eval loss {eval_before:.4} -> {eval_after:.4}, trace root {}",
                        hex::encode(&trace_root[..8])
                    ),
                );
            },
            MinerEvent::Submitted { submission, round, block } => {
                line(&multi, format!("round {round} submitted: submission {submission} in block {block}"))
            },
            MinerEvent::Phase { submission, phase } => line(&multi, format!("submission {submission}: {phase}")),
            MinerEvent::Accepted { submission, final_root } => line(
                &multi,
                format!("submission {submission} ACCEPTED: task root is now {} (fraud window open)", hex::encode(&final_root[..8])),
            ),
            MinerEvent::Settled { submission, accepted: true } => {
                line(&multi, format!("submission {submission} finalized: miner paid"))
            },
            MinerEvent::Settled { submission, accepted: false } => line(
                &multi,
                format!("submission {submission} left the chain without acceptance (rejected, stale or expired; bond released unless rejected)"),
            ),
            MinerEvent::Waiting(why) => tracing::debug!("waiting: {why}"),
            MinerEvent::Info(text) => line(&multi, text),
        }
    }
}
