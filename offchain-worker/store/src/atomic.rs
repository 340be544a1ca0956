//! Crash-safe file writes: every file of the store is written to a temporary file under `<dir>/tmp`,
//! flushed and fsynced, renamed over its final name and the final directory fsynced, so after a crash
//! a name holds either its old content or the whole new content, never a part. A temporary file that a
//! crash leaves behind is never read (nothing looks into `tmp/` but the clean-up at open).

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime},
};

/// Leftover temporary files older than this are removed when a store is opened (younger ones may
/// belong to a writer in another process that shares the directory).
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Creates uniquely named temporary files in one directory.
#[derive(Debug)]
pub(crate) struct TempDir {
    dir: PathBuf,
    counter: AtomicU64,
}

/// A temporary file being written; removed on drop unless [`TempFile::persist`] renamed it.
pub(crate) struct TempFile {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

/// An I/O error with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct PathError {
    /// The file or directory.
    pub path: PathBuf,
    /// The error.
    #[source]
    pub source: io::Error,
}

pub(crate) fn at(path: &Path) -> impl FnOnce(io::Error) -> PathError + '_ {
    move |source| PathError { path: path.to_path_buf(), source }
}

impl TempDir {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir, counter: AtomicU64::new(0) }
    }

    /// A new, empty temporary file.
    pub(crate) fn create(&self) -> Result<TempFile, PathError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let path = self.dir.join(format!("{}-{n}-{nanos:09}.tmp", std::process::id()));
        let file = File::options().write(true).create_new(true).open(&path).map_err(at(&path))?;
        Ok(TempFile { path, file: Some(BufWriter::with_capacity(1 << 20, file)) })
    }

    /// Removes temporary files older than [`STALE_TEMP_AGE`]; returns how many.
    pub(crate) fn remove_stale(&self) -> Result<usize, PathError> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(at(&self.dir))? {
            let entry = entry.map_err(at(&self.dir))?;
            let path = entry.path();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age >= STALE_TEMP_AGE);
            if old && entry.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::remove_file(&path).map_err(at(&path))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Writes `bytes` to `dest` atomically.
    pub(crate) fn write(&self, dest: &Path, bytes: &[u8]) -> Result<(), PathError> {
        let mut file = self.create()?;
        file.write_all(bytes)?;
        file.persist(dest)
    }
}

impl TempFile {
    /// Appends `bytes`.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), PathError> {
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes).map_err(at(&self.path)),
            None => Err(PathError { path: self.path.clone(), source: io::Error::other("temporary file already closed") }),
        }
    }

    /// Flushes, fsyncs, renames the file to `dest` and fsyncs `dest`'s directory.
    pub(crate) fn persist(mut self, dest: &Path) -> Result<(), PathError> {
        let writer = self.file.take().ok_or_else(|| PathError {
            path: self.path.clone(),
            source: io::Error::other("temporary file already closed"),
        })?;
        let file = writer.into_inner().map_err(|e| PathError { path: self.path.clone(), source: e.into_error() })?;
        file.sync_all().map_err(at(&self.path))?;
        drop(file);
        std::fs::rename(&self.path, dest).map_err(at(dest))?;
        // Renamed: nothing left to remove on drop.
        self.path = PathBuf::new();
        if let Some(parent) = dest.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove a temporary file");
            }
        }
    }
}

/// Fsyncs a directory, so a rename into it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), PathError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(at(dir))
}
