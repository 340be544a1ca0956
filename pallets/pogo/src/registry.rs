//! The verifier registry: the `MaxVerifiers` slots of eligible stake that stake snapshots copy.
//!
//! Only a verifier whose active bond (held, not unbonding) is at least `MinVerifierBond` holds a slot, so
//! slots cannot be filled with dust: a ledger that falls below the minimum (unbonding, slashing) frees its
//! slot at once, and when every slot is taken a strictly larger bond evicts the smallest one (ties keep
//! the incumbent; among equal smallest stakes the highest account is evicted, so the rule is total).
//! An evicted verifier keeps its ledger and its funds; it is simply no longer drawn.

use crate::{pallet::*, types::*};
use frame_support::{pallet_prelude::*, traits::Get};
use polkadot_sdk::frame_support;

impl<T: Config> Pallet<T> {
    /// Brings `who`'s registry entry in line with its verifier ledger: inserted or updated when its
    /// active bond is eligible, removed otherwise. `join` says whether a new entry may evict the smallest
    /// one when the registry is full (a `bond` call); otherwise an ineligible or non-member ledger is
    /// only removed or left out. Returns whether `who` holds a slot afterwards.
    pub(crate) fn sync_registry(who: &T::AccountId, join: bool) -> Result<bool, Error<T>> {
        let stake = Self::ledger(Role::Verifier, who).map(|l| Self::active_bond(&l)).unwrap_or_default();
        let eligible = stake >= T::MinVerifierBond::get();
        let mut registry = VerifierRegistry::<T>::get();
        let position = registry.binary_search_by(|(a, _)| a.cmp(who));
        match (position, eligible) {
            (Ok(i), true) => {
                if let Some(entry) = registry.get_mut(i) {
                    entry.1 = stake;
                }
            },
            (Ok(i), false) => {
                registry.remove(i);
                Self::deposit_event(Event::VerifierDeregistered { who: who.clone() });
            },
            (Err(_), false) => return Ok(false),
            (Err(_), true) if !join => return Ok(false),
            (Err(i), true) => {
                if registry.len() >= T::MaxVerifiers::get() as usize {
                    // The smallest stake, the highest account among equals.
                    let smallest = registry
                        .iter()
                        .enumerate()
                        .min_by(|(_, a), (_, b)| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                        .map(|(j, (acc, s))| (j, acc.clone(), *s));
                    let Some((j, evicted, smallest_stake)) = smallest else { return Err(Error::<T>::TooManyVerifiers) };
                    ensure!(stake > smallest_stake, Error::<T>::TooManyVerifiers);
                    registry.remove(j);
                    Self::deposit_event(Event::VerifierDeregistered { who: evicted });
                }
                let i = registry.binary_search_by(|(a, _)| a.cmp(who)).err().unwrap_or(i);
                registry.try_insert(i, (who.clone(), stake)).map_err(|_| Error::<T>::TooManyVerifiers)?;
            },
        }
        VerifierRegistry::<T>::put(registry);
        Ok(eligible)
    }

    /// Whether `who` holds a registry slot.
    pub fn is_registered(who: &T::AccountId) -> bool {
        VerifierRegistry::<T>::get().binary_search_by(|(a, _)| a.cmp(who)).is_ok()
    }
}
