#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The committed document and plots are exactly what pogo-cost writes from the committed inputs: the
//! document can never drift from the tool, the measurements or the stated figures.

use pogo_cost::{generate, newest_measured, paths, read_inputs};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn committed_document_and_plots_are_what_the_tool_writes() {
    let root = repo_root();
    let measured = newest_measured(&root.join(paths::MEASURED_DIR)).unwrap();
    let inputs = read_inputs(&root, &measured, &root.join(paths::STATED)).unwrap();
    let generated = generate(inputs).unwrap();
    let committed = std::fs::read_to_string(root.join(paths::DOCUMENT)).expect("docs/cost-analysis.md is committed");
    if committed != generated.markdown {
        let (committed_lines, generated_lines) = (committed.lines().count(), generated.markdown.lines().count());
        let first =
            committed.lines().zip(generated.markdown.lines()).position(|(a, b)| a != b).unwrap_or(committed_lines.min(generated_lines));
        panic!(
            "docs/cost-analysis.md differs from what pogo-cost writes from line {} on; run scripts/cost.sh",
            first + 1
        );
    }
    for (name, svg) in &generated.plots {
        let path = root.join(paths::IMAGES).join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is committed", path.display()));
        assert!(committed == *svg, "{} differs from what pogo-cost writes; run scripts/cost.sh", path.display());
    }
}

#[test]
fn the_document_names_its_inputs_and_links_its_plots() {
    let root = repo_root();
    let measured = newest_measured(&root.join(paths::MEASURED_DIR)).unwrap();
    let generated = generate(read_inputs(&root, &measured, &root.join(paths::STATED)).unwrap()).unwrap();
    let measured_name = pogo_cost::relative(&root, &measured);
    assert!(measured_name.starts_with("docs/measured/cpu-") && generated.markdown.contains(&measured_name));
    assert!(generated.markdown.contains(paths::STATED));
    for (name, svg) in &generated.plots {
        assert!(generated.markdown.contains(&format!("img/cost/{name}")), "{name} is linked");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
}

#[test]
fn generation_is_deterministic() {
    let root = repo_root();
    let measured = newest_measured(&root.join(paths::MEASURED_DIR)).unwrap();
    let once = generate(read_inputs(&root, &measured, &root.join(paths::STATED)).unwrap()).unwrap();
    let twice = generate(read_inputs(&root, &measured, &root.join(paths::STATED)).unwrap()).unwrap();
    assert_eq!(once, twice);
}
