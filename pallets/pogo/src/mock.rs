//! Test runtime: System, Balances and Pogo; a relay-randomness source the tests move by hand.

use crate::{self as pallet_pogo, *};
use core::cell::RefCell;
use frame_support::{
    derive_impl, parameter_types,
    traits::{fungible::Balanced, ConstU32, ConstU64, OnUnbalanced},
};
use polkadot_sdk::{frame_support, frame_system, pallet_balances, sp_io, sp_runtime};
use sp_runtime::{BuildStorage, Perbill};

pub type Balance = u64;
pub type AccountId = u64;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        Pogo: pallet_pogo,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    // Real database weights, so that `on_idle`'s accounting is tested as it runs in a runtime.
    type DbWeight = frame_support::weights::constants::RocksDbWeight;
    type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type Balance = Balance;
    type ExistentialDeposit = ConstU64<10>;
    type AccountStore = System;
    type RuntimeHoldReason = RuntimeHoldReason;
}

/// Where slashes go in tests.
pub const TREASURY: AccountId = 999;

pub struct ToTreasury;
impl OnUnbalanced<CreditOf<Test>> for ToTreasury {
    fn on_nonzero_unbalanced(credit: CreditOf<Test>) {
        let _ = Balances::resolve(&TREASURY, credit);
    }
}

thread_local! {
    static RELAY: RefCell<Option<(u64, [u8; 32])>> = const { RefCell::new(Some((10, [7u8; 32]))) };
}

/// The mocked relay chain: epoch index and one-epoch-ago randomness.
pub struct MockRelay;
impl MockRelay {
    pub fn set(value: Option<(u64, [u8; 32])>) {
        RELAY.with(|r| *r.borrow_mut() = value);
    }
    /// Moves to `epochs` later, with fresh randomness.
    pub fn advance_epochs(epochs: u64) {
        RELAY.with(|r| {
            let mut r = r.borrow_mut();
            if let Some((e, mut rand)) = *r {
                rand[0] = rand[0].wrapping_add(epochs as u8);
                *r = Some((e + epochs, rand));
            }
        });
    }
}
#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper for MockRelay {
    fn set_relay_randomness(epoch: u64, randomness: [u8; 32]) {
        MockRelay::set(Some((epoch, randomness)));
    }
}
impl RelayRandomness for MockRelay {
    fn epoch_randomness() -> Option<(u64, [u8; 32])> {
        RELAY.with(|r| *r.borrow())
    }
}

parameter_types! {
    pub const NonRevealSlash: Perbill = Perbill::from_percent(3);
    pub const LosingVoteSlash: Perbill = Perbill::from_percent(2);
    pub const DataUnavailableSlash: Perbill = Perbill::from_percent(5);
}

impl pallet_pogo::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type Slashed = ToTreasury;
    type RelayRandomness = MockRelay;
    type WeightInfo = ();
    type ChallengeEpochDelay = ConstU64<2>;
    type FraudWindow = ConstU64<20>;
    type UnbondingPeriod = ConstU64<100>;
    type MinWindow = ConstU64<2>;
    type MaxWindow = ConstU64<30>;
    type SubmissionDeposit = ConstU64<5>;
    type TaskDeposit = ConstU64<20>;
    type ModelByteDeposit = ConstU64<0>;
    type MinVerifierBond = ConstU64<100>;
    type NonRevealSlash = NonRevealSlash;
    type LosingVoteSlash = LosingVoteSlash;
    type DataUnavailableSlash = DataUnavailableSlash;
    type MaxLocatorLen = ConstU32<64>;
    type MaxAssigned = ConstU32<8>;
    type MaxVerifiers = ConstU32<16>;
    type MaxPendingPerTask = ConstU32<4>;
    type MaxCheckpointInterval = ConstU32<8>;
    type MaxFraudProofLen = ConstU32<{ 256 * 1024 }>;
    type RandomnessRetention = ConstU64<8>;
    type MaxIdleAdvances = ConstU32<4>;
    #[cfg(feature = "runtime-benchmarks")]
    type BenchmarkHelper = MockRelay;
}

/// Accounts: 1 task owner, 2–3 miners, 10–17 verifiers, 50 an unfunded account.
pub const OWNER: AccountId = 1;
pub const MINER: AccountId = 2;
pub const MINER2: AccountId = 3;
pub const REPORTER: AccountId = 4;
pub const POOR: AccountId = 50;
pub const VERIFIERS: [AccountId; 8] = [10, 11, 12, 13, 14, 15, 16, 17];

pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    let mut balances = vec![(OWNER, 100_000), (MINER, 10_000), (MINER2, 10_000), (REPORTER, 100), (TREASURY, 10)];
    balances.extend(VERIFIERS.iter().map(|v| (*v, 10_000)));
    pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }.assimilate_storage(&mut t).unwrap();
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| {
        System::set_block_number(1);
        MockRelay::set(Some((10, [7u8; 32])));
        Pogo::record_epoch_randomness();
    });
    ext
}

/// Runs `test` and then checks every invariant of the pallet (like pallet-balances' test externalities).
pub fn test(f: impl FnOnce()) {
    new_test_ext().execute_with(|| {
        f();
        Pogo::do_try_state().expect("invariants hold after the test");
    });
}

pub fn run_to_block(n: u64) {
    System::run_to_block::<AllPalletsWithSystem>(n);
}

/// The events of this pallet so far.
pub fn pogo_events() -> Vec<Event<Test>> {
    System::events()
        .into_iter()
        .filter_map(|r| if let RuntimeEvent::Pogo(e) = r.event { Some(e) } else { None })
        .collect()
}
