//! pallet-pogo in this runtime: relay-chain epoch randomness from the relay state proof, parameters.

use crate::{
    AccountId, Balance, Balances, BlockNumber, ParachainInfo, Runtime, RuntimeHoldReason, UNIT,
};
#[cfg(not(feature = "fast-runtime"))]
use crate::{DAYS, HOURS, MINUTES};
use pallet_pogo::RelayRandomness;
use polkadot_sdk::{
    cumulus_pallet_parachain_system::{self, RelayChainStateProof},
    cumulus_primitives_core::relay_chain::well_known_keys,
    frame_support::{
        parameter_types,
        traits::{tokens::imbalance::ResolveTo, ConstU32, ConstU64},
        PalletId,
    },
    sp_runtime::{traits::AccountIdConversion, Perbill},
};

/// Reads the relay chain's epoch index (`EPOCH_INDEX`, requested through `KeyToIncludeInRelayProof`)
/// and `ONE_EPOCH_AGO_RANDOMNESS` (BABE's `NextRandomness`, always in the proof) from the relay state
/// proof of the current block. Never from collator-supplied data: the proof is checked against the relay
/// parent's storage root from the validation data.
///
/// Both keys exist on every BABE relay chain, so a proof that does not yield them was cut short by its
/// collator, who could otherwise make a block record no randomness and move a challenge to a later epoch.
/// Such a block is invalid: reading stops it (see [`invalid_block`]); absence is never assumed.
pub struct RelayEpochRandomness;

impl RelayRandomness for RelayEpochRandomness {
    fn epoch_randomness() -> Option<(u64, [u8; 32])> {
        #[cfg(feature = "runtime-benchmarks")]
        if let Some(v) = polkadot_sdk::frame_support::storage::unhashed::get::<(u64, [u8; 32])>(BENCH_RELAY_KEY) {
            // Parse the stand-in relay state proof exactly as a block does, so that the benchmarks of
            // `submit_round` and `record_epoch_randomness` measure it; the values come from the helper.
            if let (Some(data), Some(proof)) = (
                cumulus_pallet_parachain_system::ValidationData::<Runtime>::get(),
                cumulus_pallet_parachain_system::RelayStateProof::<Runtime>::get(),
            ) {
                let _ = read_epoch_randomness(data.relay_parent_storage_root, proof);
            }
            return Some(v);
        }
        // Outside block execution with relay data (genesis, some runtime API calls) there is nothing
        // to read.
        let data = cumulus_pallet_parachain_system::ValidationData::<Runtime>::get()?;
        let proof = cumulus_pallet_parachain_system::RelayStateProof::<Runtime>::get()?;
        Some(read_epoch_randomness(data.relay_parent_storage_root, proof))
    }
}

/// `(EPOCH_INDEX, ONE_EPOCH_AGO_RANDOMNESS)` from a relay state proof against `relay_root`; a proof that
/// does not prove both values makes the block invalid.
pub fn read_epoch_randomness(
    relay_root: polkadot_sdk::cumulus_primitives_core::relay_chain::Hash,
    proof: polkadot_sdk::sp_trie::StorageProof,
) -> (u64, [u8; 32]) {
    let relay = match RelayChainStateProof::new(ParachainInfo::parachain_id(), relay_root, proof) {
        Ok(relay) => relay,
        Err(_) => invalid_block("the relay state proof does not match the relay parent's storage root"),
    };
    let epoch = relay.read_entry::<u64>(well_known_keys::EPOCH_INDEX, None);
    let randomness = relay.read_entry::<[u8; 32]>(well_known_keys::ONE_EPOCH_AGO_RANDOMNESS, None);
    match (epoch, randomness) {
        (Ok(epoch), Ok(randomness)) => (epoch, randomness),
        _ => invalid_block("the relay state proof lacks EPOCH_INDEX or ONE_EPOCH_AGO_RANDOMNESS"),
    }
}

/// Stops the execution of a block that a collator built on incomplete relay data. A panic during block
/// execution is how a runtime rejects a block (cumulus's parachain-system does the same for a relay
/// proof that does not verify); it is reached only through a collator's fault, never through a
/// transaction.
#[allow(clippy::panic)]
fn invalid_block(reason: &str) -> ! {
    panic!("invalid block: {reason}")
}

/// Storage key benchmarks use to stand in for the relay state proof.
#[cfg(feature = "runtime-benchmarks")]
const BENCH_RELAY_KEY: &[u8] = b":pogo:bench:relay";

/// A relay state proof of realistic shape for benchmarks: `(relay storage root, proof)`, SCALE-encoded,
/// with the keys a parachain block's proof carries, in a relay trie of 20,000 entries (so its paths are
/// as deep as a real relay chain's top levels). Made by `RelayStateSproofBuilder`; the runtime test
/// `the_benchmark_relay_proof_is_current` checks it and rewrites it with `POGO_WRITE_FIXTURES=1`.
#[cfg(feature = "runtime-benchmarks")]
pub const BENCH_RELAY_PROOF: &[u8] = include_bytes!("../../benchmarking/relay-state-proof.scale");

/// Benchmark set-up: relay data without a relay chain. The epoch and randomness are the helper's; the
/// proof parsed on every read is [`BENCH_RELAY_PROOF`].
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkRelay;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_pogo::BenchmarkHelper for BenchmarkRelay {
    fn set_relay_randomness(epoch: u64, randomness: [u8; 32]) {
        use codec::Decode;
        use polkadot_sdk::cumulus_primitives_core::{relay_chain::HeadData, PersistedValidationData};
        polkadot_sdk::frame_support::storage::unhashed::put(BENCH_RELAY_KEY, &(epoch, randomness));
        type Fixture = (polkadot_sdk::cumulus_primitives_core::relay_chain::Hash, polkadot_sdk::sp_trie::StorageProof);
        if let Ok((root, proof)) = Fixture::decode(&mut &BENCH_RELAY_PROOF[..]) {
            cumulus_pallet_parachain_system::ValidationData::<Runtime>::put(PersistedValidationData {
                parent_head: HeadData(alloc::vec::Vec::new()),
                relay_parent_number: 0,
                relay_parent_storage_root: root,
                max_pov_size: 0,
            });
            cumulus_pallet_parachain_system::RelayStateProof::<Runtime>::put(proof);
        }
    }
}

parameter_types! {
    pub const PogoSlashPotId: PalletId = PalletId(*b"pogo/slh");
    /// Slashed bonds accumulate here (governance decides their use).
    pub PogoSlashPot: AccountId = PogoSlashPotId::get().into_account_truncating();
    pub const SubmissionDeposit: Balance = UNIT;
    /// A task record (up to ~700 bytes with its locator) costs its owner this much while it exists.
    pub const TaskDeposit: Balance = 10 * UNIT;
    /// A task's model descriptor (up to ~200 KB at the protocol's limits; ~1 KB for a small GPT) costs
    /// this much per byte on top.
    pub const ModelByteDeposit: Balance = UNIT / 1000;
    pub const MinVerifierBond: Balance = 10 * UNIT;
    /// Silence (no commit, or no reveal) costs more than a losing vote: withholding never pays.
    pub const NonRevealSlash: Perbill = Perbill::from_percent(3);
    pub const LosingVoteSlash: Perbill = Perbill::from_percent(2);
    pub const DataUnavailableSlash: Perbill = Perbill::from_percent(5);
}

#[cfg(not(feature = "fast-runtime"))]
parameter_types! {
    pub const FraudWindow: BlockNumber = DAYS;
    pub const MinWindow: BlockNumber = 5 * MINUTES;
    pub const MaxWindow: BlockNumber = 6 * HOURS;
    /// Longer than 2 x MaxWindow per level, both levels, plus the fraud window.
    pub const UnbondingPeriod: BlockNumber = 4 * DAYS;
}

// Test networks (`fast-runtime`, part of the project's testnet feature set; never in a production build):
// windows of seconds-to-minutes so a dev chain and CI see a round through to its finalization.
#[cfg(feature = "fast-runtime")]
parameter_types! {
    pub const FraudWindow: BlockNumber = 20;
    pub const MinWindow: BlockNumber = 2;
    pub const MaxWindow: BlockNumber = 60;
    pub const UnbondingPeriod: BlockNumber = 2 * 2 * 60 + 20 + 1;
}

impl pallet_pogo::Config for Runtime {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type Slashed = ResolveTo<PogoSlashPot, Balances>;
    type RelayRandomness = RelayEpochRandomness;
    type WeightInfo = pallet_pogo::weights::SubstrateWeight<Runtime>;
    type ChallengeEpochDelay = ConstU64<2>;
    type FraudWindow = FraudWindow;
    type UnbondingPeriod = UnbondingPeriod;
    type MinWindow = MinWindow;
    type MaxWindow = MaxWindow;
    type SubmissionDeposit = SubmissionDeposit;
    type TaskDeposit = TaskDeposit;
    type ModelByteDeposit = ModelByteDeposit;
    type MinVerifierBond = MinVerifierBond;
    type NonRevealSlash = NonRevealSlash;
    type LosingVoteSlash = LosingVoteSlash;
    type DataUnavailableSlash = DataUnavailableSlash;
    type MaxLocatorLen = ConstU32<256>;
    type MaxAssigned = ConstU32<32>;
    type MaxVerifiers = ConstU32<256>;
    type MaxPendingPerTask = ConstU32<16>;
    type MaxCheckpointInterval = ConstU32<274>;
    type MaxFraudProofLen = ConstU32<{ 1024 * 1024 }>;
    type RandomnessRetention = ConstU64<8>;
    type MaxIdleAdvances = ConstU32<4>;
    #[cfg(feature = "runtime-benchmarks")]
    type BenchmarkHelper = BenchmarkRelay;
}
