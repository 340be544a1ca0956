//! The Markdown of docs/cost-analysis.md, section by section, from a [`Report`]. Every number is
//! formatted here from the report; no result is typed in.

mod costs;
mod detection;
mod inputs;
mod paper;
mod sizes;

use crate::report::Report;

/// Where the plots are, relative to the document.
pub const IMAGE_DIR: &str = "img/cost";

/// File name of the ratio plot.
pub const RATIO_PLOT: &str = "verifier-miner-ratio.svg";
/// File name of the detection plot.
pub const DETECTION_PLOT: &str = "tampered-leaf-detection.svg";

/// A Markdown text being written.
#[derive(Debug, Default)]
pub(crate) struct Md(String);

impl Md {
    /// Appends `text` and a line break.
    pub(crate) fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    /// Appends an empty line.
    pub(crate) fn blank(&mut self) {
        self.0.push('\n');
    }

    /// Appends a table: `align` has one letter per column, `l` or `r`.
    pub(crate) fn table(&mut self, header: &[&str], align: &str, rows: &[Vec<String>]) {
        self.line(format!("| {} |", header.join(" | ")));
        let rule: Vec<&str> = align.chars().map(|c| if c == 'r' { "---:" } else { "---" }).collect();
        self.line(format!("|{}|", rule.join("|")));
        for row in rows {
            self.line(format!("| {} |", row.join(" | ")));
        }
        self.blank();
    }
}

/// The whole document.
pub fn render(report: &Report) -> String {
    let mut md = Md::default();
    inputs::header(&mut md, report);
    inputs::glance(&mut md, report);
    inputs::sources(&mut md, report);
    inputs::models(&mut md, report);
    sizes::step_sizes(&mut md, report);
    sizes::round_sizes(&mut md, report);
    sizes::hashing(&mut md, report);
    sizes::on_chain(&mut md, report);
    costs::round_times(&mut md, report);
    costs::verifier_costs(&mut md, report);
    detection::detection(&mut md, report);
    paper::comparison(&mut md, report);
    paper::not_measured(&mut md, report);
    md.0
}
