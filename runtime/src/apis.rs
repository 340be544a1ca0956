//! The runtime APIs: what the node (polkadot-omni-node-lib), workers and polkadot.js call.

use crate::{
    AccountId, Balance, Block, BlockNumber, ConsensusHook, Executive, InherentDataExt, Nonce, ParachainSystem, Pogo,
    Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System, TransactionPayment, VERSION,
};
use alloc::vec::Vec;
use polkadot_sdk::{
    cumulus_pallet_parachain_system, cumulus_primitives_aura, cumulus_primitives_core,
    cumulus_primitives_core::relay_chain::well_known_keys,
    frame_support::{
        genesis_builder_helper::{build_state, get_preset},
        traits::Get,
        weights::Weight,
    },
    pallet_aura, pallet_transaction_payment, pallet_transaction_payment_rpc_runtime_api,
    sp_api::impl_runtime_apis,
    sp_consensus_aura::sr25519::AuthorityId as AuraId,
    sp_core::{crypto::KeyTypeId, OpaqueMetadata},
    sp_runtime::{
        traits::Block as BlockT,
        transaction_validity::{TransactionSource, TransactionValidity},
        ApplyExtrinsicResult,
    },
    sp_version::RuntimeVersion,
    *,
};
use pogo_runtime_api::{BondLedger, Role, SubmissionId, SubmissionView, TaskId, TaskView, Verdict, VerifierDuty};

impl_runtime_apis! {
    impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
        fn slot_duration() -> sp_consensus_aura::SlotDuration {
            sp_consensus_aura::SlotDuration::from_millis(crate::SLOT_DURATION)
        }

        fn authorities() -> Vec<AuraId> {
            pallet_aura::Authorities::<Runtime>::get().into_inner()
        }
    }

    impl cumulus_primitives_aura::AuraUnincludedSegmentApi<Block> for Runtime {
        fn can_build_upon(included_hash: <Block as BlockT>::Hash, slot: cumulus_primitives_aura::Slot) -> bool {
            ConsensusHook::can_build_upon(included_hash, slot)
        }
    }

    impl sp_api::Core<Block> for Runtime {
        fn version() -> RuntimeVersion {
            VERSION
        }

        fn execute_block(block: <Block as BlockT>::LazyBlock) {
            Executive::execute_block(block)
        }

        fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
            Executive::initialize_block(header)
        }
    }

    impl sp_api::Metadata<Block> for Runtime {
        fn metadata() -> OpaqueMetadata {
            OpaqueMetadata::new(Runtime::metadata().into())
        }

        fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
            Runtime::metadata_at_version(version)
        }

        fn metadata_versions() -> Vec<u32> {
            Runtime::metadata_versions()
        }
    }

    impl sp_block_builder::BlockBuilder<Block> for Runtime {
        fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
            Executive::apply_extrinsic(extrinsic)
        }

        fn finalize_block() -> <Block as BlockT>::Header {
            Executive::finalize_block()
        }

        fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
            data.create_extrinsics()
        }

        fn check_inherents(
            block: <Block as BlockT>::LazyBlock,
            data: sp_inherents::InherentData,
        ) -> sp_inherents::CheckInherentsResult {
            data.check_extrinsics(&block)
        }
    }

    impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
        fn validate_transaction(
            source: TransactionSource,
            tx: <Block as BlockT>::Extrinsic,
            block_hash: <Block as BlockT>::Hash,
        ) -> TransactionValidity {
            Executive::validate_transaction(source, tx, block_hash)
        }
    }

    impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
        fn offchain_worker(header: &<Block as BlockT>::Header) {
            Executive::offchain_worker(header)
        }
    }

    impl sp_session::SessionKeys<Block> for Runtime {
        fn generate_session_keys(owner: Vec<u8>, seed: Option<Vec<u8>>) -> sp_session::OpaqueGeneratedSessionKeys {
            SessionKeys::generate(&owner, seed).into()
        }

        fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
            SessionKeys::decode_into_raw_public_keys(&encoded)
        }
    }

    impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
        fn account_nonce(account: AccountId) -> Nonce {
            System::account_nonce(account)
        }
    }

    impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
        fn query_info(
            uxt: <Block as BlockT>::Extrinsic,
            len: u32,
        ) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
            TransactionPayment::query_info(uxt, len)
        }
        fn query_fee_details(uxt: <Block as BlockT>::Extrinsic, len: u32) -> pallet_transaction_payment::FeeDetails<Balance> {
            TransactionPayment::query_fee_details(uxt, len)
        }
        fn query_weight_to_fee(weight: Weight) -> Balance {
            TransactionPayment::weight_to_fee(weight)
        }
        fn query_length_to_fee(length: u32) -> Balance {
            TransactionPayment::length_to_fee(length)
        }
    }

    impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall> for Runtime {
        fn query_call_info(
            call: RuntimeCall,
            len: u32,
        ) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
            TransactionPayment::query_call_info(call, len)
        }
        fn query_call_fee_details(call: RuntimeCall, len: u32) -> pallet_transaction_payment::FeeDetails<Balance> {
            TransactionPayment::query_call_fee_details(call, len)
        }
        fn query_weight_to_fee(weight: Weight) -> Balance {
            TransactionPayment::weight_to_fee(weight)
        }
        fn query_length_to_fee(length: u32) -> Balance {
            TransactionPayment::length_to_fee(length)
        }
    }

    impl cumulus_primitives_core::CollectCollationInfo<Block> for Runtime {
        fn collect_collation_info(header: &<Block as BlockT>::Header) -> cumulus_primitives_core::CollationInfo {
            ParachainSystem::collect_collation_info(header)
        }
    }

    impl cumulus_primitives_core::GetParachainInfo<Block> for Runtime {
        fn parachain_id() -> cumulus_primitives_core::ParaId {
            crate::ParachainInfo::parachain_id()
        }
    }

    impl cumulus_primitives_core::RelayParentOffsetApi<Block> for Runtime {
        fn relay_parent_offset() -> u32 {
            <Runtime as cumulus_pallet_parachain_system::Config>::RelayParentOffset::get()
        }

        fn max_claim_queue_offset() -> u8 {
            0
        }
    }

    impl cumulus_primitives_core::SchedulingV3EnabledApi<Block> for Runtime {
        fn scheduling_v3_enabled() -> bool {
            false
        }
    }

    impl cumulus_primitives_core::TargetBlockRate<Block> for Runtime {
        fn target_block_rate() -> u32 {
            1
        }
    }

    impl cumulus_primitives_core::KeyToIncludeInRelayProof<Block> for Runtime {
        fn keys_to_prove() -> cumulus_primitives_core::RelayProofRequest {
            // pallet-pogo needs the relay epoch index next to ONE_EPOCH_AGO_RANDOMNESS (always proven).
            cumulus_primitives_core::RelayProofRequest {
                keys: alloc::vec![cumulus_primitives_core::RelayStorageKey::Top(well_known_keys::EPOCH_INDEX.to_vec())],
            }
        }
    }

    impl pogo_runtime_api::PogoApi<Block, AccountId, Balance, BlockNumber> for Runtime {
        fn task_ids(start: TaskId, limit: u32) -> Vec<TaskId> {
            Pogo::api_task_ids(start, limit)
        }
        fn task(task: TaskId) -> Option<TaskView<AccountId, Balance, BlockNumber>> {
            Pogo::api_task(task)
        }
        fn state_root(task: TaskId) -> Option<pogo_primitives::Hash> {
            Pogo::api_state_root(task)
        }
        fn submission(submission: SubmissionId) -> Option<SubmissionView<AccountId, Balance, BlockNumber>> {
            Pogo::api_submission(submission)
        }
        fn pending_submissions(task: TaskId) -> Vec<SubmissionView<AccountId, Balance, BlockNumber>> {
            Pogo::api_pending_submissions(task)
        }
        fn round_seed(task: TaskId, miner: AccountId) -> Option<pogo_primitives::Hash> {
            Pogo::api_round_seed(task, miner)
        }
        fn verifier_duty(submission: SubmissionId, verifier: AccountId) -> Option<VerifierDuty> {
            Pogo::api_verifier_duty(submission, verifier)
        }
        fn bond(who: AccountId, role: Role) -> Option<BondLedger<Balance, BlockNumber>> {
            Pogo::api_bond(who, role)
        }
        fn verdict_commitment(
            submission: SubmissionId,
            verifier: AccountId,
            verdict: Verdict,
            salt: pogo_primitives::Hash,
        ) -> pogo_primitives::Hash {
            Pogo::api_verdict_commitment(submission, verifier, verdict, salt)
        }
    }

    #[cfg(feature = "try-runtime")]
    impl frame_try_runtime::TryRuntime<Block> for Runtime {
        fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
            let weight = Executive::try_runtime_upgrade(checks).unwrap();
            (weight, crate::configs::RuntimeBlockWeights::get().max_block)
        }

        fn execute_block(
            block: <Block as BlockT>::LazyBlock,
            state_root_check: bool,
            signature_check: bool,
            select: frame_try_runtime::TryStateSelect,
        ) -> Weight {
            Executive::try_execute_block(block, state_root_check, signature_check, select).unwrap()
        }
    }

    #[cfg(feature = "runtime-benchmarks")]
    impl frame_benchmarking::Benchmark<Block> for Runtime {
        fn benchmark_metadata(extra: bool) -> (
            Vec<frame_benchmarking::BenchmarkList>,
            Vec<frame_support::traits::StorageInfo>,
        ) {
            crate::benchmarks::benchmark_metadata(extra)
        }

        #[allow(non_local_definitions)]
        fn dispatch_benchmark(
            config: frame_benchmarking::BenchmarkConfig,
        ) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
            crate::benchmarks::dispatch_benchmark(config)
        }
    }

    impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
        fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
            build_state::<RuntimeGenesisConfig>(config)
        }

        fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
            get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
        }

        fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
            crate::genesis_config_presets::preset_names()
        }
    }
}
