#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The input files: what parses, and the typed error of each malformed case.

use pogo_cost::{
    measured::{CpuConstants, MeasuredError, MeasuredFile, Status, NEEDED},
    stated::{Stated, StatedError},
};

const HEADER: &str = "# pogo measured constants\n# date: 2026-12-01\n# machine: Some CPU\n# cores: 2\n";

fn good_measured() -> String {
    let mut text = HEADER.to_string();
    text.push_str("summary: state_root_vs_blake3 0.404 ratio >=0.8 not-met\n");
    for (i, (name, unit)) in NEEDED.iter().enumerate() {
        text.push_str(&format!("summary: {name} {}e9 {unit} - info\n", i + 1));
    }
    text
}

#[test]
fn a_good_measured_file_parses() {
    let file = MeasuredFile::parse(&good_measured()).unwrap();
    assert_eq!(
        (file.date.as_str(), file.machine.as_str(), file.cores, file.simd.as_deref()),
        ("2026-12-01", "Some CPU", 2, None)
    );
    assert_eq!(file.summaries.len(), NEEDED.len() + 1);
    let first = &file.summaries[0];
    assert_eq!((first.line, first.status, first.goal.as_str(), first.value), (5, Status::NotMet, ">=0.8", 0.404));
    let cpu = CpuConstants::from_file(&file).unwrap();
    assert_eq!((cpu.bench_params, cpu.threads, cpu.node_hash_one_core), (1e9, 2e9, 10e9));
}

fn measured_error(text: &str) -> MeasuredError {
    MeasuredFile::parse(text).and_then(|f| CpuConstants::from_file(&f).map(|_| ())).unwrap_err()
}

#[test]
fn malformed_measured_files_are_refused_with_their_line() {
    let with = |line: &str| format!("{HEADER}{line}\n");
    assert_eq!(measured_error(&with("summary: a 1 ratio")), MeasuredError::FieldCount { line: 5, found: 3 });
    assert_eq!(
        measured_error(&with("summary: a one ratio >=1 met")),
        MeasuredError::BadValue { line: 5, name: "a".into(), value: "one".into() }
    );
    assert_eq!(
        measured_error(&with("summary: a NaN ratio >=1 met")),
        MeasuredError::BadValue { line: 5, name: "a".into(), value: "NaN".into() }
    );
    assert_eq!(
        measured_error(&with("summary: a 1 ratio >=1 ok")),
        MeasuredError::BadStatus { line: 5, status: "ok".into() }
    );
    assert_eq!(
        measured_error(&with("summary: a 1 ratio >=1 info")),
        MeasuredError::GoalMismatch { line: 5, goal: ">=1".into(), status: "info".into() }
    );
    assert_eq!(
        measured_error(&with("summary: a 1 ratio - met")),
        MeasuredError::GoalMismatch { line: 5, goal: "-".into(), status: "met".into() }
    );
    assert_eq!(
        measured_error(&with("summary: a 1 x - info\nsummary: a 2 x - info")),
        MeasuredError::Duplicate { line: 6, name: "a".into(), first: 5 }
    );
    assert_eq!(measured_error(&with("state_root 1 x - info")), MeasuredError::UnexpectedLine { line: 5 });
    assert_eq!(measured_error(&with("# cores: 4")), MeasuredError::BadHeader { line: 5, key: "cores".into() });
    assert_eq!(measured_error("# date: x\n# machine: y\n"), MeasuredError::MissingHeader { key: "cores" });
    assert_eq!(
        measured_error("# date: x\n# machine: y\n# cores: two\n"),
        MeasuredError::BadCores { value: "two".into() }
    );
    assert_eq!(measured_error("# date: x\n# cores: 2\n"), MeasuredError::MissingHeader { key: "machine" });
    assert_eq!(measured_error(HEADER), MeasuredError::Missing { name: "bench_params" });
}

#[test]
fn measurements_in_the_wrong_unit_or_sign_are_refused() {
    let good = good_measured();
    let wrong_unit = good.replace("state_root_throughput 3e9 bytes/s", "state_root_throughput 3e9 GB/s");
    assert_eq!(
        measured_error(&wrong_unit),
        MeasuredError::WrongUnit { name: "state_root_throughput", expected: "bytes/s", found: "GB/s".into() }
    );
    let negative = good.replace("quantize_throughput 6e9", "quantize_throughput -6e9");
    assert_eq!(measured_error(&negative), MeasuredError::NotPositive { name: "quantize_throughput", value: -6e9 });
}

fn committed_stated() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/measured/stated.toml")).unwrap()
}

#[test]
fn the_committed_stated_file_parses_and_every_figure_has_a_source() {
    let stated = Stated::parse(&committed_stated()).unwrap();
    assert_eq!(stated.model.len(), 2);
    assert!(stated.model.iter().all(|m| !m.params.source.is_empty() && m.params.value.fract() == 0.0));
    assert!(stated.network.download.source.starts_with("assumption"));
}

#[test]
fn malformed_stated_files_are_refused() {
    let good = committed_stated();
    let unit = good.replace(
        "unit = \"flop/s\", source = \"NVIDIA H200 Tensor Core GPU datasheet, H200 SXM: FP32",
        "unit = \"TFLOPS\", source = \"x: FP32",
    );
    assert_eq!(
        Stated::parse(&unit).unwrap_err(),
        StatedError::WrongUnit { field: "accelerator.fp32_flops".into(), expected: "flop/s", found: "TFLOPS".into() }
    );
    let no_source =
        good.replace("source = \"NVIDIA DGX H200 datasheet: 8x NVIDIA H200 Tensor Core GPUs\"", "source = \" \"");
    assert_eq!(Stated::parse(&no_source).unwrap_err(), StatedError::NoSource { field: "node.gpus".into() });
    let fractional = good.replace("value = 8, unit = \"gpus\"", "value = 8.5, unit = \"gpus\"");
    assert!(
        matches!(Stated::parse(&fractional).unwrap_err(), StatedError::OutOfRange { field, .. } if field == "node.gpus")
    );
    let fraction = good.replace("tampered_fractions = [1e-6,", "tampered_fractions = [1.5,");
    assert_eq!(Stated::parse(&fraction).unwrap_err(), StatedError::BadFraction(1.5));
    let too_many_samples = good.replace("{ steps = 100, sampled_steps = 4,", "{ steps = 100, sampled_steps = 101,");
    assert!(
        matches!(Stated::parse(&too_many_samples).unwrap_err(), StatedError::OutOfRange { field, .. } if field == "analysis.rounds.sampled_steps")
    );
    let unknown = good.replace("[network]", "[network]\nlatency = 3");
    assert!(matches!(Stated::parse(&unknown).unwrap_err(), StatedError::Toml(m) if m.contains("latency")));
    let negative = good.replace("value = 4.8e12", "value = -4.8e12");
    assert!(
        matches!(Stated::parse(&negative).unwrap_err(), StatedError::NotPositive { field, .. } if field == "accelerator.memory_bandwidth")
    );
    let no_models: String = good.split("[[model]]").next().unwrap().to_string();
    assert!(matches!(Stated::parse(&no_models).unwrap_err(), StatedError::Toml(_) | StatedError::Empty(_)));
}
