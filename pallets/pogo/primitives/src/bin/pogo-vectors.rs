//! `pogo-vectors`: writes or checks the known-answer vector files of `pogo-primitives`
//! (`pogo_primitives::vectors` describes the format).
//!
//! ```text
//! pogo-vectors [DIR]           write DIR/<part>.json for every part (DIR defaults to docs/vectors)
//! pogo-vectors --check [DIR]   re-evaluate every case of every DIR/<part>.json; exit 1 on any failure
//! ```
//!
//! Run from the repository root: `scripts/vectors.sh` (the `pogo-vectors` binary with the project's build).


use pogo_primitives::vectors;
use std::{fs, path::Path, process::ExitCode};

/// Where the files live when no directory is given.
const DEFAULT_DIR: &str = "docs/vectors";

fn usage() -> ExitCode {
    eprintln!("usage: pogo-vectors [DIR]");
    eprintln!("       pogo-vectors --check [DIR]");
    eprintln!("DIR defaults to {DEFAULT_DIR} (relative to the current directory)");
    ExitCode::from(2)
}

/// Writes every part's file into `dir`.
fn write(dir: &Path) -> ExitCode {
    if let Err(e) = fs::create_dir_all(dir) {
        eprintln!("pogo-vectors: cannot create {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    for (part, doc) in vectors::all() {
        let path = dir.join(format!("{part}.json"));
        let text = vectors::render(&doc);
        if let Err(e) = fs::write(&path, &text) {
            eprintln!("pogo-vectors: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
        let cases = doc.get("cases").and_then(|c| c.as_array()).map_or(0, Vec::len);
        println!("{}: {cases} cases, {} bytes", path.display(), text.len());
    }
    ExitCode::SUCCESS
}

/// Checks every part's file in `dir`; also reports `.json` files that belong to no part.
fn check(dir: &Path) -> ExitCode {
    let parts = vectors::parts();
    let mut failures = 0usize;
    for part in &parts {
        let path = dir.join(format!("{part}.json"));
        let result = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("not JSON: {e}")))
            .and_then(|doc| vectors::check(part, &doc));
        match result {
            Ok(n) => println!("{}: {n} cases ok", path.display()),
            Err(e) => {
                eprintln!("{}: FAILED: {e}", path.display());
                failures = failures.saturating_add(1);
            },
        }
    }
    match fs::read_dir(dir) {
        Ok(entries) => {
            for path in entries.filter_map(Result::ok).map(|e| e.path()) {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                let is_json = path.extension().and_then(|s| s.to_str()) == Some("json");
                if is_json && !parts.contains(&stem) {
                    eprintln!("{}: FAILED: no part is named {stem:?}", path.display());
                    failures = failures.saturating_add(1);
                }
            }
        },
        Err(e) => {
            eprintln!("pogo-vectors: cannot list {}: {e}", dir.display());
            failures = failures.saturating_add(1);
        },
    }
    if failures == 0 {
        println!("all {} parts check", parts.len());
        ExitCode::SUCCESS
    } else {
        eprintln!("pogo-vectors: {failures} failures");
        ExitCode::from(1)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => write(Path::new(DEFAULT_DIR)),
        ["--check"] => check(Path::new(DEFAULT_DIR)),
        ["--check", dir] if !dir.starts_with('-') => check(Path::new(dir)),
        [dir] if !dir.starts_with('-') => write(Path::new(dir)),
        _ => usage(),
    }
}
