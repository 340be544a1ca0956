//! Progress without a keeper: `on_idle` advances due submissions within the block's spare weight.
//!
//! The scan walks [`SubmissionQueue`] (oldest first) from where the previous block stopped, looks at up
//! to `4 × MaxIdleAdvances` submissions and advances at most `MaxIdleAdvances` of those that are due
//! (the same transitions as `advance`, each in its own storage layer). It starts only when the spare
//! weight covers one scanned entry plus `advance`'s worst case, and stops before an advance could exceed
//! it, so it never takes weight the block's transactions need. `advance` stays the permissionless
//! fallback (e.g. on a chain whose blocks are always full).

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{storage::with_storage_layer, traits::Get, weights::Weight};
use polkadot_sdk::frame_support;

impl<T: Config> Pallet<T> {
    /// Weight of looking at one queued submission: its queue key, the record, the task, the randomness
    /// of its target epoch and, in a commit or reveal phase, up to `MaxAssigned` attestations.
    pub fn idle_scan_weight() -> Weight {
        T::DbWeight::get().reads(4u64.saturating_add(u64::from(T::MaxAssigned::get())))
    }

    /// Advances due submissions, oldest first from the cursor, within `limit`. Returns the weight used.
    pub(crate) fn advance_due(limit: Weight) -> Weight {
        let scan = Self::idle_scan_weight();
        let step = Self::advance_worst_case_weight();
        // The cursor read and write.
        let mut used = T::DbWeight::get().reads_writes(1, 1);
        if !limit.all_gte(used.saturating_add(scan).saturating_add(step)) {
            return Weight::zero();
        }
        let max_advances = T::MaxIdleAdvances::get();
        let max_scan = max_advances.saturating_mul(4) as usize;
        let keys: Vec<[u8; 8]> = match IdleCursor::<T>::get() {
            Some(last) => {
                SubmissionQueue::<T>::iter_keys_from_key(last.to_be_bytes())
                    .take(max_scan)
                    .collect()
            },
            None => SubmissionQueue::<T>::iter_keys().take(max_scan).collect(),
        };
        let mut cursor = None;
        let mut advanced = 0u32;
        for key in keys.iter() {
            if advanced >= max_advances || !limit.all_gte(used.saturating_add(scan).saturating_add(step)) {
                break;
            }
            used = used.saturating_add(scan);
            let id = SubmissionId::from_be_bytes(*key);
            cursor = Some(id);
            let Some(sub) = Submissions::<T>::get(id) else { continue };
            if !Self::is_due(id, &sub) {
                continue;
            }
            match with_storage_layer(|| Self::do_advance(id)) {
                Ok(info) => {
                    used = used.saturating_add(info.actual_weight.unwrap_or(step));
                    advanced = advanced.saturating_add(1);
                },
                Err(e) => {
                    used = used.saturating_add(e.post_info.actual_weight.unwrap_or(step));
                    log::debug!(target: crate::LOG_TARGET, "on_idle: submission {id} not advanced: {:?}", e.error);
                },
            }
        }
        // A scan that reached the end of the queue starts from its beginning next time.
        let reached_end = keys.len() < max_scan && cursor == keys.last().map(|k| SubmissionId::from_be_bytes(*k));
        match cursor {
            Some(id) if !reached_end => IdleCursor::<T>::put(id),
            _ => IdleCursor::<T>::kill(),
        }
        used
    }
}
