//! Role journals and disk usage.

use super::{RoundStore, StoreError};
use crate::{
    atomic::{at, sync_dir},
    layout::{is_valid_journal_name, ObjectKind, GRADIENT_EXT, JSON_EXT, STATE_EXT, TMP_DIR},
};
use serde::{de::DeserializeOwned, Serialize};
use std::{io, path::PathBuf};

/// Files and bytes of one kind of object on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectUsage {
    /// Object files (sidecars not counted).
    pub files: u64,
    /// Bytes of every file in the kind's directory (sidecars included).
    pub bytes: u64,
}

/// Disk usage of a store, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreUsage {
    /// `states/`.
    pub states: ObjectUsage,
    /// `gradients/`.
    pub gradients: ObjectUsage,
    /// `rounds/`.
    pub rounds: ObjectUsage,
    /// `roles/`.
    pub journals: ObjectUsage,
    /// `tmp/` (leftovers of interrupted writes, or writes in progress).
    pub temp: ObjectUsage,
}

impl StoreUsage {
    /// Bytes of everything.
    pub fn total_bytes(&self) -> u64 {
        [self.states, self.gradients, self.rounds, self.journals, self.temp].iter().map(|u| u.bytes).sum()
    }
}

impl RoundStore {
    fn journal_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        if !is_valid_journal_name(name) {
            return Err(StoreError::BadJournalName(name.to_string()));
        }
        Ok(self.kind_dir(ObjectKind::Journal).join(format!("{name}.{JSON_EXT}")))
    }

    /// Writes the journal `name` (replacing it atomically).
    pub fn put_journal(&self, name: &str, value: &impl Serialize) -> Result<(), StoreError> {
        let path = self.journal_path(name)?;
        let bytes = serde_json::to_vec_pretty(value)
            .map_err(|source| StoreError::Json { what: format!("journal {name}"), source })?;
        Ok(self.temp.write(&path, &bytes)?)
    }

    /// Reads the journal `name`; `None` if there is none.
    pub fn journal<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        let path = self.journal_path(name)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| StoreError::Json { what: format!("journal {name}"), source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(at(&path)(e).into()),
        }
    }

    /// Removes the journal `name`; whether there was one.
    pub fn remove_journal(&self, name: &str) -> Result<bool, StoreError> {
        let path = self.journal_path(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.kind_dir(ObjectKind::Journal))?;
                Ok(true)
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(at(&path)(e).into()),
        }
    }

    /// Files and bytes on disk, by kind (scans the directories).
    pub fn usage(&self) -> Result<StoreUsage, StoreError> {
        let scan = |dir: PathBuf, ext: Option<&str>| -> Result<ObjectUsage, StoreError> {
            let mut usage = ObjectUsage::default();
            for entry in std::fs::read_dir(&dir).map_err(at(&dir))? {
                let entry = entry.map_err(at(&dir))?;
                let meta = entry.metadata().map_err(at(&entry.path()))?;
                if !meta.is_file() {
                    continue;
                }
                usage.bytes = usage.bytes.saturating_add(meta.len());
                if ext.is_none_or(|ext| entry.path().extension().and_then(|e| e.to_str()) == Some(ext)) {
                    usage.files = usage.files.saturating_add(1);
                }
            }
            Ok(usage)
        };
        Ok(StoreUsage {
            states: scan(self.kind_dir(ObjectKind::State), Some(STATE_EXT))?,
            gradients: scan(self.kind_dir(ObjectKind::Gradient), Some(GRADIENT_EXT))?,
            rounds: scan(self.kind_dir(ObjectKind::Round), Some(JSON_EXT))?,
            journals: scan(self.kind_dir(ObjectKind::Journal), Some(JSON_EXT))?,
            temp: scan(self.dir.join(TMP_DIR), None)?,
        })
    }
}
