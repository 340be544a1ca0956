//! Money: bond ledgers over `fungible` holds, task escrow, payouts and slashes.

use crate::{pallet::*, types::*};
use frame_support::{
    pallet_prelude::*,
    traits::{
        fungible::{BalancedHold, Inspect, InspectHold, MutateHold},
        tokens::{Fortitude, Precision, Restriction},
        Imbalance, OnUnbalanced,
    },
};
use polkadot_sdk::{frame_support, sp_runtime};
use sp_runtime::{traits::Zero, Saturating};

impl HoldReason {
    /// The hold reason of `role`'s bond.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Miner => HoldReason::MinerBond,
            Role::Verifier => HoldReason::VerifierBond,
        }
    }
}

impl<T: Config> Pallet<T> {
    /// The ledger of `who` in `role`.
    pub fn ledger(role: Role, who: &T::AccountId) -> Option<LedgerOf<T>> {
        match role {
            Role::Miner => MinerBonds::<T>::get(who),
            Role::Verifier => VerifierBonds::<T>::get(who),
        }
    }

    /// Writes (or, when empty, removes) the ledger of `who` in `role`.
    pub(crate) fn put_ledger(role: Role, who: &T::AccountId, ledger: LedgerOf<T>) {
        let empty = ledger.held.is_zero() && ledger.unbonding.is_none();
        match (role, empty) {
            (Role::Miner, true) => MinerBonds::<T>::remove(who),
            (Role::Miner, false) => MinerBonds::<T>::insert(who, ledger),
            (Role::Verifier, true) => VerifierBonds::<T>::remove(who),
            (Role::Verifier, false) => VerifierBonds::<T>::insert(who, ledger),
        }
    }

    /// Bond that is neither at risk nor unbonding.
    pub fn free_bond(ledger: &LedgerOf<T>) -> BalanceOf<T> {
        Self::active_bond(ledger).saturating_sub(ledger.at_risk)
    }

    /// Bond that counts as stake for assignment: held and not unbonding.
    pub fn active_bond(ledger: &LedgerOf<T>) -> BalanceOf<T> {
        ledger.held.saturating_sub(ledger.unbonding.map(|u| u.amount).unwrap_or_default())
    }

    /// Puts `amount` of `who`'s free bond at risk.
    pub(crate) fn put_at_risk(role: Role, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
        let mut ledger = Self::ledger(role, who).ok_or(Error::<T>::NotBonded)?;
        ensure!(Self::free_bond(&ledger) >= amount, Error::<T>::InsufficientFreeBond);
        ledger.at_risk = ledger.at_risk.saturating_add(amount);
        Self::put_ledger(role, who, ledger);
        Ok(())
    }

    /// Adds `amount` to `who`'s stake at risk without asking for free bond: a verifier drawn from a stake
    /// snapshot (its funds cannot leave before the submission settles; a slash never takes more than is
    /// held).
    pub(crate) fn add_risk(role: Role, who: &T::AccountId, amount: BalanceOf<T>) {
        if let Some(mut ledger) = Self::ledger(role, who) {
            ledger.at_risk = ledger.at_risk.saturating_add(amount);
            Self::put_ledger(role, who, ledger);
        }
    }

    /// Releases `amount` of stake at risk (no funds move).
    pub(crate) fn release_risk(role: Role, who: &T::AccountId, amount: BalanceOf<T>) {
        if let Some(mut ledger) = Self::ledger(role, who) {
            ledger.at_risk = ledger.at_risk.saturating_sub(amount);
            Self::put_ledger(role, who, ledger);
        }
    }

    /// Slashes up to `amount` from stake at risk `reserved` (which is released in full). Never more than
    /// is held. Returns the credit.
    pub(crate) fn slash_bond(
        role: Role,
        who: &T::AccountId,
        reserved: BalanceOf<T>,
        amount: BalanceOf<T>,
    ) -> CreditOf<T> {
        let Some(mut ledger) = Self::ledger(role, who) else { return Default::default() };
        let amount = amount.min(reserved).min(ledger.held);
        let (credit, _missing) = T::Currency::slash(&HoldReason::of(role).into(), who, amount);
        let slashed = credit.peek();
        ledger.held = ledger.held.saturating_sub(slashed);
        ledger.at_risk = ledger.at_risk.saturating_sub(reserved);
        // A slash cannot leave more unbonding than is held.
        if let Some(u) = ledger.unbonding.as_mut() {
            u.amount = u.amount.min(ledger.held);
        }
        Self::put_ledger(role, who, ledger);
        if role == Role::Verifier {
            // Below `MinVerifierBond` it frees its registry slot.
            let _ = Self::sync_registry(who, false);
        }
        if !slashed.is_zero() {
            Self::deposit_event(Event::Slashed { who: who.clone(), role, amount: slashed });
        }
        credit
    }

    /// Slashes and sends the proceeds to `T::Slashed`.
    pub(crate) fn slash_to_sink(role: Role, who: &T::AccountId, reserved: BalanceOf<T>, amount: BalanceOf<T>) -> BalanceOf<T> {
        let credit = Self::slash_bond(role, who, reserved, amount);
        let slashed = credit.peek();
        T::Slashed::on_unbalanced(credit);
        slashed
    }

    /// Pays `amount` from the task's escrow (held on the owner) to `to`. A payout the destination cannot
    /// receive (e.g. below the existential deposit of a dead account) stays in escrow; returns what moved.
    pub(crate) fn pay_from_escrow(task: &mut TaskOf<T>, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
        if amount.is_zero() {
            return Zero::zero();
        }
        let amount = amount.min(task.escrow);
        if *to == task.owner {
            // Paying the owner is releasing its own escrow.
            let released = T::Currency::release(&HoldReason::TaskEscrow.into(), to, amount, Precision::BestEffort)
                .unwrap_or_default();
            task.escrow = task.escrow.saturating_sub(released);
            return released;
        }
        match T::Currency::transfer_on_hold(
            &HoldReason::TaskEscrow.into(),
            &task.owner,
            to,
            amount,
            Precision::Exact,
            Restriction::Free,
            Fortitude::Polite,
        ) {
            Ok(moved) => {
                task.escrow = task.escrow.saturating_sub(moved);
                moved
            },
            Err(_) => Zero::zero(),
        }
    }

    /// Holds `amount` from `who` for `reason`, mapping failure to `InsufficientBalance`.
    pub(crate) fn hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
        T::Currency::hold(&reason.into(), who, amount).map_err(|_| Error::<T>::InsufficientBalance.into())
    }

    /// Releases up to `amount` held from `who` for `reason`.
    pub(crate) fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
        T::Currency::release(&reason.into(), who, amount, Precision::BestEffort).unwrap_or_default()
    }

    /// Balance held from `who` for `reason`.
    pub fn held(reason: HoldReason, who: &T::AccountId) -> BalanceOf<T> {
        T::Currency::balance_on_hold(&reason.into(), who)
    }

    /// The account's spendable balance (for error checks before holds).
    pub(crate) fn reducible(who: &T::AccountId) -> BalanceOf<T> {
        T::Currency::reducible_balance(who, frame_support::traits::tokens::Preservation::Preserve, Fortitude::Polite)
    }
}
