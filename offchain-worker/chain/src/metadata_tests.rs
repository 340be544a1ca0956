//! Checks of the generated interface against the checked-in metadata, with no node: the pallet's
//! calls, storage and runtime API are there, the substituted `pogo_primitives` types encode exactly as
//! the metadata describes, storage keys match subxt's, and a transaction signs offline.

use crate::{proof, runtime, AccountId32, ChainSubmission, ChainTask};
use codec::Encode;
use pogo_primitives::{
    seed::SampleSizes,
    spec::{LrSchedule, UpdateRule},
    tolerance::Tolerance,
    views::{Phase, TaskParams, TaskStatus},
    RoundCommitment, TrainingSpec,
};
use std::sync::Arc;
use subxt::{
    config::substrate::{SpecVersionForRange, SubstrateConfig, H256},
    utils::Static,
    Metadata, OfflineClient,
};

const METADATA: &[u8] = include_bytes!("../metadata/pogo.scale");

pub(crate) fn metadata() -> Metadata {
    Metadata::decode_from(METADATA).expect("metadata/pogo.scale decodes")
}

fn offline() -> OfflineClient<SubstrateConfig> {
    let config = SubstrateConfig::builder()
        .set_genesis_hash(H256([9; 32]))
        .set_spec_version_for_block_ranges([SpecVersionForRange {
            block_range: 0..u64::MAX,
            spec_version: 1,
            transaction_version: 1,
        }])
        .set_metadata_for_spec_versions([(1, Arc::new(metadata()))])
        .build();
    OfflineClient::new_with_config(config)
}

/// Decodes `bytes` as the metadata's type `type_id` and says whether every byte was used.
fn decodes_exactly(bytes: &[u8], type_id: u32, metadata: &Metadata) -> bool {
    let mut cursor = bytes;
    subxt::ext::scale_value::scale::decode_as_type(&mut cursor, type_id, metadata.types()).is_ok() && cursor.is_empty()
}

fn sample_spec() -> TrainingSpec {
    TrainingSpec {
        model: [3; 32],
        param_count: 600,
        leaf_size: 64,
        codec_block: 32,
        rule: UpdateRule::Sgd { weight_decay: 0 },
        schedule: LrSchedule::Constant { lr: 0.01f32.to_bits() },
        max_grad_norm: 0,
        steps_per_round: 4,
        checkpoint_interval: 2,
        batch_size: 8,
        train_examples: 1000,
        eval_examples: 100,
    }
}

fn sample_params() -> TaskParams<u128, u32> {
    TaskParams {
        reward: 1_000,
        verifier_pay: 10,
        miner_bond: 500,
        verifiers: 3,
        escalation_verifiers: 5,
        samples: SampleSizes { steps: 1, leaves: 2, eval_examples: 3 },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: 10,
        reveal_window: 10,
        verification: pogo_primitives::views::VerificationMode::FullReplay,
    }
}

/// A `Pogo::Tasks` record as the generated type.
pub(crate) fn sample_task_info() -> runtime::runtime_types::pallet_pogo::types::TaskInfo {
    use runtime::runtime_types::{bounded_collections::bounded_vec::BoundedVec, pallet_pogo::types};
    types::TaskInfo {
        owner: AccountId32([4; 32]),
        spec: Static(sample_spec()),
        params: Static(sample_params()),
        dataset: types::DatasetCommitment {
            train_root: [5; 32],
            eval_root: [6; 32],
            locator: BoundedVec(b"http://127.0.0.1:9955".to_vec()),
        },
        state_root: [7; 32],
        model_locator: BoundedVec(b"http://127.0.0.1:9956".to_vec()),
        initial_root: [8; 32],
        round: 3,
        steps_done: 12,
        status: Static(TaskStatus::Active),
        escrow: 10_000,
        committed: 1_030,
        pending: 1,
        root_set_at: 40,
        deposit: 77,
    }
}

#[test]
fn metadata_has_the_pallet_and_its_api() {
    let metadata = metadata();
    let pogo = metadata.pallet_by_name("Pogo").expect("pallet Pogo");
    for call in ["create_task", "bond", "submit_round", "advance", "commit_verdict", "reveal_verdict", "report_fraud"] {
        assert!(pogo.call_variant_by_name(call).is_some(), "call Pogo::{call}");
    }
    let storage = pogo.storage().expect("Pogo storage");
    for item in ["Tasks", "TaskModels", "NextTaskId", "Submissions"] {
        assert!(storage.entry_by_name(item).is_some(), "storage Pogo::{item}");
    }
    let api = metadata.runtime_api_trait_by_name("PogoApi").expect("runtime API PogoApi");
    for method in
        ["task_ids", "task", "state_root", "submission", "pending_submissions", "round_seed", "verifier_duty", "bond"]
    {
        assert!(api.method_by_name(method).is_some(), "PogoApi::{method}");
    }
    assert!(runtime::is_codegen_valid_for(&metadata), "the generated code is from this metadata");
}

#[test]
fn substituted_views_encode_as_the_metadata_says() {
    let metadata = metadata();
    let api = metadata.runtime_api_trait_by_name("PogoApi").expect("PogoApi");
    let task: ChainTask = pogo_primitives::views::TaskView {
        id: 7,
        owner: AccountId32([1; 32]),
        spec: sample_spec(),
        params: sample_params(),
        train_root: [2; 32],
        eval_root: [3; 32],
        locator: b"http://data".to_vec(),
        state_root: [4; 32],
        model_locator: vec![],
        round: 0,
        steps_done: 0,
        status: TaskStatus::Paused,
        escrow: 5,
        committed: 6,
        pending: 0,
        root_set_at: 9,
    };
    let output = api.method_by_name("task").expect("task").output_ty();
    assert!(decodes_exactly(&Some(task).encode(), output, &metadata));
    let submission: ChainSubmission = pogo_primitives::views::SubmissionView {
        id: 1,
        task: 7,
        miner: AccountId32([2; 32]),
        commitment: RoundCommitment {
            base_root: [1; 32],
            trace_root: [2; 32],
            final_root: [3; 32],
            steps: 4,
            eval_loss_before: 2.0f32.to_bits(),
            eval_loss_after: 1.5f32.to_bits(),
        },
        round: 0,
        locator: b"http://127.0.0.1:9955".to_vec(),
        submitted_at: 10,
        phase: Phase::Committing(20),
        challenge: Some([9; 32]),
        escalation_challenge: None,
        level: 0,
        assigned: vec![(AccountId32([3; 32]), 100, 0)],
        disputed_steps: vec![1],
    };
    let output = api.method_by_name("pending_submissions").expect("pending_submissions").output_ty();
    assert!(decodes_exactly(&vec![submission].encode(), output, &metadata));
}

/// The type id of `Pogo::Tasks` values.
fn task_info_ty(metadata: &Metadata) -> u32 {
    let entry = metadata.pallet_by_name("Pogo").and_then(|p| p.storage()).and_then(|s| s.entry_by_name("Tasks"));
    entry.expect("Pogo::Tasks").value_ty()
}

/// SCALE bytes of a `Pogo::Tasks` record, encoded as the metadata's type.
pub(crate) fn encode_task_info(
    record: &runtime::runtime_types::pallet_pogo::types::TaskInfo,
    metadata: &Metadata,
) -> Vec<u8> {
    use subxt::ext::scale_encode::EncodeAsType;
    record.encode_as_type(task_info_ty(metadata), metadata.types()).expect("TaskInfo encodes")
}

#[test]
fn the_task_record_encodes_as_the_storage_value() {
    let metadata = metadata();
    let encoded = encode_task_info(&sample_task_info(), &metadata);
    assert!(decodes_exactly(&encoded, task_info_ty(&metadata), &metadata));
    // The substituted fields are the primitives' encodings: the spec sits right after the owner.
    assert_eq!(&encoded[32..32 + sample_spec().encode().len()], &sample_spec().encode()[..]);
}

#[test]
fn calls_with_substituted_arguments_decode_as_the_metadata_says() {
    let metadata = metadata();
    let client = offline();
    let at = client.at_block(0u64).expect("offline block");
    let model = pogo_primitives::ModelDescriptor {
        architecture: b"mlp {\"hidden\":[8]}".to_vec(),
        tensors: vec![pogo_primitives::TensorDescriptor { name: b"l0.w".to_vec(), shape: vec![600] }],
    };
    let dataset = runtime::runtime_types::pallet_pogo::types::DatasetCommitment {
        train_root: [1; 32],
        eval_root: [2; 32],
        locator: runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(b"http://d".to_vec()),
    };
    let create = runtime::transactions().pogo().create_task(
        Static(sample_spec()),
        Static(model),
        Static(sample_params()),
        [0; 32],
        dataset,
        1_000,
    );
    let call_ty = metadata.outer_enums().call_enum_ty();
    let data = at.transactions().call_data(&create).expect("create_task call data");
    assert!(decodes_exactly(&data, call_ty, &metadata), "create_task");
    let commitment = RoundCommitment {
        base_root: [1; 32],
        trace_root: [2; 32],
        final_root: [3; 32],
        steps: 4,
        eval_loss_before: 0,
        eval_loss_after: 0,
    };
    let submit = runtime::transactions().pogo().submit_round(
        7,
        Static(commitment),
        runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec(b"http://m".to_vec()),
    );
    let data = at.transactions().call_data(&submit).expect("submit_round call data");
    assert!(decodes_exactly(&data, call_ty, &metadata), "submit_round");
    let reveal = runtime::transactions().pogo().reveal_verdict(
        1,
        Static(pogo_primitives::Verdict::Negative(pogo_primitives::NegativeReason::BadGradient { step: 2 })),
        [5; 32],
    );
    let data = at.transactions().call_data(&reveal).expect("reveal_verdict call data");
    assert!(decodes_exactly(&data, call_ty, &metadata), "reveal_verdict");
}

#[test]
fn storage_keys_match_subxt() {
    let client = offline();
    let at = client.at_block(0u64).expect("offline block");
    for task in [0u32, 7, 1 << 20] {
        let tasks = at.storage().entry(runtime::storage().pogo().tasks()).expect("Pogo::Tasks");
        assert_eq!(tasks.fetch_key((task,)).expect("key"), proof::task_storage_key(task));
        let models = at.storage().entry(runtime::storage().pogo().task_models()).expect("Pogo::TaskModels");
        assert_eq!(models.fetch_key((task,)).expect("key"), proof::task_model_storage_key(task));
    }
}

#[tokio::test]
async fn a_transaction_signs_offline_with_every_extension() {
    let client = offline();
    let at = client.at_block(0u64).expect("offline block");
    let call = runtime::transactions().pogo().advance(42);
    let params = subxt::config::DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .nonce(3)
        .mortal_from_unchecked(64, 100, H256([1; 32]))
        .build();
    let alice = subxt_signer::sr25519::dev::alice();
    let signed =
        at.transactions().create_signable_offline(&call, params).expect("signable").sign(&alice).expect("signed");
    let extrinsics = at.extrinsics().from_bytes(vec![signed.encoded().to_vec()]).await;
    let decoded = extrinsics.iter().next().expect("one extrinsic").expect("decodes");
    assert!(decoded.is_signed());
    assert_eq!((decoded.pallet_name(), decoded.call_name()), ("Pogo", "advance"));
}

/// Prints the metadata's paths of the types the codegen substitutes (`cargo test -- --nocapture`).
#[test]
fn substituted_type_paths_are_in_the_metadata() {
    let metadata = metadata();
    let paths: Vec<String> = metadata
        .types()
        .types
        .iter()
        .map(|t| t.ty.path.segments.join("::"))
        .filter(|p| p.starts_with("pogo_primitives") || p.starts_with("pallet_pogo::types"))
        .collect();
    for expected in [
        "pogo_primitives::views::TaskView",
        "pogo_primitives::views::SubmissionView",
        "pogo_primitives::round::RoundCommitment",
        "pogo_primitives::spec::TrainingSpec",
        "pallet_pogo::types::BoundedModelDescriptor",
        "pallet_pogo::types::TaskInfo",
    ] {
        assert!(paths.iter().any(|p| p == expected), "{expected} in {paths:?}");
    }
    println!("{paths:#?}");
}
