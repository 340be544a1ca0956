//! # pogo-runtime-api
//!
//! What off-chain workers and polkadot.js (`api.call.pogoApi.*`) read from pallet-pogo without custom
//! RPC: tasks and their state roots, unsettled submissions and their phase, the round seed a miner trains
//! with, a verifier's challenge and samples, and bond ledgers; and, for a verifier with polkadot.js alone,
//! the verdict commitment to post (`verdict_commitment`). The runtime implements it by calling the
//! pallet's `api_*` functions.
//!
//! Versions:
//! * 1: `task_ids`, `task`, `state_root`, `submission`, `pending_submissions`, `round_seed`,
//!   `verifier_duty`, `bond`.
//! * 2: adds `verdict_commitment`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_pogo::{BondLedger, Role, SubmissionId, SubmissionView, TaskId, TaskView, VerifierDuty};
use pogo_primitives::Hash;
pub use pogo_primitives::{NegativeReason, Verdict};

polkadot_sdk::sp_api::decl_runtime_apis! {
    /// Read access to pallet-pogo.
    #[api_version(2)]
    pub trait PogoApi<AccountId, Balance, BlockNumber>
    where
        AccountId: Codec,
        Balance: Codec,
        BlockNumber: Codec,
    {
        /// The ids of live tasks in `[start, start + min(limit, 1000))`, ascending (the next page starts at
        /// `start + min(limit, 1000)`; a page may be empty where tasks were closed).
        fn task_ids(start: TaskId, limit: u32) -> Vec<TaskId>;
        /// A task.
        fn task(task: TaskId) -> Option<TaskView<AccountId, Balance, BlockNumber>>;
        /// A task's current state root (provisional while its last round is in the fraud window).
        fn state_root(task: TaskId) -> Option<Hash>;
        /// An unsettled submission.
        fn submission(submission: SubmissionId) -> Option<SubmissionView<AccountId, Balance, BlockNumber>>;
        /// The unsettled submissions of a task.
        fn pending_submissions(task: TaskId) -> Vec<SubmissionView<AccountId, Balance, BlockNumber>>;
        /// The round seed for `miner`'s next round of `task` (fixes every step's batch).
        fn round_seed(task: TaskId, miner: AccountId) -> Option<Hash>;
        /// What `verifier` must check for `submission`, once the challenge is fixed.
        fn verifier_duty(submission: SubmissionId, verifier: AccountId) -> Option<VerifierDuty>;
        /// An account's bond in a role.
        fn bond(who: AccountId, role: Role) -> Option<BondLedger<Balance, BlockNumber>>;
        /// The commitment `verifier` posts with `commit_verdict(submission, _)` to reveal `verdict` with
        /// `salt` later (`reveal_verdict(submission, verdict, salt)`): protocol section 12's
        /// `verdict_commitment(submission, SCALE(verifier), verdict, salt)`, exactly what `reveal_verdict`
        /// recomputes. The salt must be 32 fresh random bytes, kept secret until the reveal. It is a pure
        /// function of its arguments (no storage read): nothing is posted or recorded, but the node that
        /// answers learns the verdict and salt, so ask a node you trust (your own).
        #[api_version(2)]
        fn verdict_commitment(submission: SubmissionId, verifier: AccountId, verdict: Verdict, salt: Hash) -> Hash;
    }
}
