//! `pogo-cost`: writes docs/cost-analysis.md and docs/img/cost/*.svg from the measured constants and the
//! stated figures, or with `--check` fails when they differ from what it would write.

use clap::Parser;
use pogo_cost::{generate, newest_measured, paths, read_inputs, CostError};
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

/// Generates the cost analysis of PoGO from measured constants (see offchain-worker/cost).
#[derive(Debug, Parser)]
#[command(name = "pogo-cost", version)]
struct Args {
    /// The repository root; the other paths are relative to it unless absolute.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// The measured file (default: the newest docs/measured/cpu-*.txt).
    #[arg(long)]
    measured: Option<PathBuf>,
    /// The stated figures.
    #[arg(long, default_value = paths::STATED)]
    stated: PathBuf,
    /// The document to write.
    #[arg(long, default_value = paths::DOCUMENT)]
    out: PathBuf,
    /// The directory of the plots.
    #[arg(long, default_value = paths::IMAGES)]
    images: PathBuf,
    /// Write nothing; exit with an error if the document or a plot differs from what would be written.
    #[arg(long)]
    check: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CostError + '_ {
    move |error| CostError::Io { path: path.display().to_string(), error }
}

fn run(args: &Args) -> Result<Vec<String>, CostError> {
    let root = &args.root;
    let measured = match &args.measured {
        Some(p) => root.join(p),
        None => newest_measured(&root.join(paths::MEASURED_DIR))?,
    };
    let generated = generate(read_inputs(root, &measured, &root.join(&args.stated))?)?;
    let mut outputs = vec![(root.join(&args.out), generated.markdown)];
    for (name, svg) in generated.plots {
        outputs.push((root.join(&args.images).join(name), svg));
    }
    let mut report = Vec::new();
    for (path, text) in outputs {
        let current = std::fs::read_to_string(&path).ok();
        let same = current.as_deref() == Some(text.as_str());
        if args.check {
            if !same {
                report.push(format!("differs: {}", path.display()));
            }
        } else if !same {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            std::fs::write(&path, text).map_err(io(&path))?;
            println!("wrote {}", path.display());
        } else {
            println!("unchanged {}", path.display());
        }
    }
    Ok(report)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(differences) if differences.is_empty() => ExitCode::SUCCESS,
        Ok(differences) => {
            for d in differences {
                eprintln!("{d}");
            }
            eprintln!("run scripts/cost.sh to write them again");
            ExitCode::FAILURE
        },
        Err(e) => {
            eprintln!("pogo-cost: {e}");
            ExitCode::FAILURE
        },
    }
}
