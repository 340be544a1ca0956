//! # pogo-cost: the cost analysis of PoGO, generated from measured constants
//!
//! ## Overview
//! `docs/cost-analysis.md` redoes the paper's cost analysis (arXiv 2504.07540) for GPT-3 175B and Gemma 3
//! 27B. This crate writes it, and its SVG plots under `docs/img/cost/`, from three kinds of input and
//! nothing else:
//! * **measured** constants: the `summary:` lines of one run of the bookkeeping bench
//!   (`offchain-worker/bookkeeping/benches/parallel.rs`), recorded with the machine and date in
//!   `docs/measured/cpu-<date>.txt` by `scripts/cost.sh --record` ([`measured`]);
//! * **stated** figures pogo did not measure (accelerator, node, network, the models' published sizes,
//!   runtime constants), each with its source, and the analysis choices, in `docs/measured/stated.toml`
//!   ([`stated`]);
//! * the **protocol**'s size rules, from `pogo-primitives` and its real types ([`sizes`]).
//!
//! [`cost`] prices a round for the miner and for a verifier in two modes (full replay, as specified, and
//! sampled replay), [`report`] computes every table's numbers, [`document`] formats them and [`plots`]
//! draws the plots. The crate's test `document` regenerates everything from the committed inputs and
//! fails when the committed document or a plot differs.
//!
//! ## Terms
//! * *node-seconds*: time on one stated node (its accelerators, CPU cores and link), phases added.

pub mod cost;
pub mod document;
pub mod format;
pub mod measured;
pub mod plots;
pub mod report;
pub mod sizes;
pub mod stated;

use plots::{LinePlot, PlotError, Series};
use report::{Inputs, Report, ReportError};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the inputs and outputs live, relative to the repository root.
pub mod paths {
    /// The measured files' directory (and the stated file's).
    pub const MEASURED_DIR: &str = "docs/measured";
    /// The stated figures.
    pub const STATED: &str = "docs/measured/stated.toml";
    /// The document.
    pub const DOCUMENT: &str = "docs/cost-analysis.md";
    /// The plots' directory.
    pub const IMAGES: &str = "docs/img/cost";
}

/// Why the document could not be generated.
#[derive(Debug, Error)]
pub enum CostError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        error: std::io::Error,
    },
    /// No `cpu-*.txt` in the measured directory.
    #[error("no measured file `cpu-*.txt` in {0}")]
    NoMeasuredFile(String),
    /// The inputs are invalid.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A plot failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
}

/// The generated document and plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The Markdown of the document.
    pub markdown: String,
    /// `(file name, SVG text)` of each plot.
    pub plots: Vec<(String, String)>,
}

/// The newest measured file of `dir`: the greatest name of the form `cpu-*.txt` (names carry the date).
pub fn newest_measured(dir: &Path) -> Result<PathBuf, CostError> {
    let entries = std::fs::read_dir(dir).map_err(|error| CostError::Io { path: dir.display().to_string(), error })?;
    let mut newest: Option<PathBuf> = None;
    for entry in entries {
        let path = entry.map_err(|error| CostError::Io { path: dir.display().to_string(), error })?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("cpu-")
            && name.ends_with(".txt")
            && newest.as_ref().is_none_or(|n| n.file_name() < path.file_name())
        {
            newest = Some(path);
        }
    }
    newest.ok_or_else(|| CostError::NoMeasuredFile(dir.display().to_string()))
}

/// `path` relative to `root`, with `/` separators (as the document names it).
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

fn read(path: &Path) -> Result<String, CostError> {
    std::fs::read_to_string(path).map_err(|error| CostError::Io { path: path.display().to_string(), error })
}

/// Reads the two input files (named in the document relative to `root`).
pub fn read_inputs(root: &Path, measured: &Path, stated: &Path) -> Result<Inputs, CostError> {
    Ok(Inputs::parse(&relative(root, measured), &read(measured)?, &relative(root, stated), &read(stated)?)?)
}

/// The document and plots of `inputs`.
pub fn generate(inputs: Inputs) -> Result<Generated, CostError> {
    let report = Report::build(inputs)?;
    let markdown = document::render(&report);
    let plots = vec![
        (document::RATIO_PLOT.to_string(), ratio_plot(&report).svg()?),
        (document::DETECTION_PLOT.to_string(), detection_plot(&report).svg()?),
    ];
    Ok(Generated { markdown, plots })
}

/// Powers of ten around `[low, high]`.
fn decades(low: f64, high: f64) -> (f64, f64) {
    (10f64.powf(low.log10().floor()), 10f64.powf(high.log10().ceil()))
}

fn ratio_plot(r: &Report) -> LinePlot {
    let mut series = Vec::new();
    let (mut low, mut high) = (f64::INFINITY, 0.0f64);
    for (i, m) in r.models.iter().enumerate() {
        for (dashed, mode) in [(false, "(a) full replay"), (true, "(b) sampled replay")] {
            let points: Vec<(f64, f64)> =
                m.ratio_curve.iter().map(|&(t, full, sampled)| (t, if dashed { sampled } else { full })).collect();
            for &(_, y) in &points {
                low = low.min(y);
                high = high.max(y);
            }
            series.push(Series { label: format!("{}, {mode}", m.model.name), points, dashed, color: i });
        }
    }
    let x_range =
        r.models.first().and_then(|m| Some((m.ratio_curve.first()?.0, m.ratio_curve.last()?.0))).unwrap_or((10.0, 1e5));
    LinePlot {
        title: "One verifier / the miner, node-seconds per round (fp32)".to_string(),
        x_label: "steps per round T".to_string(),
        y_label: "verifier / miner".to_string(),
        x_range,
        y_range: if high > 0.0 { decades(low, high) } else { (1e-3, 1.0) },
        log_y: true,
        legend_left: false,
        series,
    }
}

fn detection_plot(r: &Report) -> LinePlot {
    let fractions = &r.inputs.stated.analysis.tampered_fractions;
    let (x_low, x_high) = (1.0, 1e7);
    let xs: Vec<f64> = (0..=140).map(|i| 10f64.powf(f64::from(i) / 20.0)).collect();
    let series = fractions
        .iter()
        .enumerate()
        .map(|(i, &f)| Series {
            label: format!("f = {}", format::sig(f, 1)),
            points: xs.iter().map(|&x| (x, 1.0 - cost::tampered_leaves_miss_approx(f, x))).collect(),
            dashed: false,
            color: i,
        })
        .collect();
    LinePlot {
        title: "Sampled replay: P(a tampered leaf is replayed) = 1 − (1 − f)^(V·k_l)".to_string(),
        x_label: "leaves replayed by all verifiers, V·k_l".to_string(),
        y_label: "probability".to_string(),
        x_range: (x_low, x_high),
        y_range: (0.0, 1.0),
        log_y: false,
        legend_left: true,
        series,
    }
}
