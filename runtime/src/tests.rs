//! Runtime tests: presets build, metadata exposes pogo, generated weights fit the block.

use crate::{genesis_config_presets, Runtime, RuntimeGenesisConfig};
use polkadot_sdk::{
    frame_support::genesis_builder_helper::build_state,
    sp_io::TestExternalities,
};

/// RFC 7386 merge patch, as the node applies presets over the default genesis config.
fn merge(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
        },
        (t, p) => *t = p,
    }
}

#[test]
fn every_preset_builds_a_genesis_state() {
    let names = genesis_config_presets::preset_names();
    assert_eq!(names.len(), 2);
    for name in names {
        let patch = genesis_config_presets::get_preset(&name).expect("listed presets exist");
        // The preset is a patch over the default config, exactly as the node applies it.
        let mut full = serde_json::to_value(RuntimeGenesisConfig::default()).expect("default config serializes");
        let patch: serde_json::Value = serde_json::from_slice(&patch).expect("preset is JSON");
        merge(&mut full, patch);
        let json = serde_json::to_vec(&full).expect("serializes");
        TestExternalities::default().execute_with(|| {
            build_state::<RuntimeGenesisConfig>(json).unwrap_or_else(|e| panic!("preset {name:?}: {e}"));
            assert_eq!(crate::ParachainInfo::parachain_id(), genesis_config_presets::PARACHAIN_ID.into());
            assert!(polkadot_sdk::pallet_sudo::Key::<Runtime>::get().is_some());
        });
    }
    assert!(genesis_config_presets::get_preset(&"nope".into()).is_none());
}

#[test]
fn metadata_has_pogo_calls_events_errors_and_runtime_api() {
    // Constants such as the runtime version read storage: metadata needs externalities.
    let md = TestExternalities::default().execute_with(Runtime::metadata_ir);
    let pogo = md.pallets.iter().find(|p| p.name == "Pogo").expect("Pogo pallet in metadata");
    assert!(pogo.calls.is_some(), "calls");
    assert!(pogo.event.is_some(), "events");
    assert!(pogo.error.is_some(), "errors");
    assert!(pogo.constants.iter().any(|c| c.name == "MaxFraudProofLen"));
    assert!(pogo.storage.as_ref().is_some_and(|s| s.entries.iter().any(|e| e.name == "Tasks")));
    let api = md.apis.iter().find(|a| a.name == "PogoApi").expect("PogoApi runtime API in metadata");
    for method in [
        "task_ids",
        "task",
        "state_root",
        "submission",
        "pending_submissions",
        "round_seed",
        "verifier_duty",
        "bond",
        "verdict_commitment",
    ] {
        assert!(api.methods.iter().any(|m| m.name == method), "PogoApi::{method}");
    }
    // The runtime declares the version that has `verdict_commitment` (clients check it before calling).
    use polkadot_sdk::sp_api::RuntimeApiInfo;
    type PogoApi = dyn pogo_runtime_api::PogoApi<crate::Block, crate::AccountId, crate::Balance, crate::BlockNumber>;
    assert_eq!(<PogoApi as RuntimeApiInfo>::VERSION, 2);
    assert!(crate::VERSION.apis.iter().any(|(id, version)| *id == <PogoApi as RuntimeApiInfo>::ID && *version == 2));
}

#[test]
fn pogo_weights_fit_in_a_tenth_of_a_block_at_the_configured_maxima() {
    use crate::limits::{max_block, pogo_weights_at_maxima, MAX_SHARE_PERCENT};
    let max = max_block();
    let limit = (max.ref_time() / 100 * MAX_SHARE_PERCENT, max.proof_size() / 100 * MAX_SHARE_PERCENT);
    let weights = pogo_weights_at_maxima();
    assert_eq!(weights.len(), 19, "every call and both declared worst cases");
    for w in weights {
        let (name, w) = (w.name, w.weight);
        assert!(w.ref_time() > 0 && w.proof_size() > 0, "{name} weighs nothing");
        assert!(
            w.ref_time() <= limit.0 && w.proof_size() <= limit.1,
            "{name}: {w:?} exceeds {MAX_SHARE_PERCENT}% of the block ({limit:?})"
        );
    }
}

/// A relay state proof cut short by its collator (without `EPOCH_INDEX`) must make the block invalid: read as "no randomness", it let the collator move a challenge to a later
/// epoch (issue 10, attack 6).
#[test]
fn a_relay_proof_without_the_epoch_index_makes_the_block_invalid() {
    use crate::configs::pogo::read_epoch_randomness;
    use polkadot_sdk::{
        cumulus_primitives_core::relay_chain::well_known_keys,
        cumulus_test_relay_sproof_builder::RelayStateSproofBuilder,
        sp_runtime::traits::BlakeTwo256,
        sp_state_machine::{prove_read, TrieBackendBuilder},
    };
    let randomness = [5u8; 32];
    let builder = RelayStateSproofBuilder { current_epoch: 7, randomness: randomness.into(), ..Default::default() };
    let (root, full) = builder.into_state_root_and_proof();
    TestExternalities::default().execute_with(|| {
        assert_eq!(read_epoch_randomness(root, full.clone()), (7, randomness), "a complete proof reads");
    });
    // The collator proves what cumulus needs (here the host configuration) and leaves the epoch keys out.
    // (In a small trie `EPOCH_INDEX`'s leaf is inlined into the branch on `ONE_EPOCH_AGO_RANDOMNESS`'s
    // path, so a proof of the randomness alone would still carry it.)
    let backend = TrieBackendBuilder::new(full.into_memory_db::<BlakeTwo256>(), root).build();
    let cut = prove_read(backend, [well_known_keys::ACTIVE_CONFIG]).expect("proof of one key");
    let outcome = std::panic::catch_unwind(|| {
        TestExternalities::default().execute_with(|| read_epoch_randomness(root, cut))
    });
    assert!(outcome.is_err(), "a proof without EPOCH_INDEX must stop the block");
}

/// The relay state proof the benchmarks parse (`configs::pogo::BENCH_RELAY_PROOF`): the builder's proof
/// of the keys a parachain block carries, in a relay trie padded to 20,000 entries. Rewritten with
/// `POGO_WRITE_FIXTURES=1`.
#[test]
fn the_benchmark_relay_proof_is_current() {
    use crate::configs::pogo::read_epoch_randomness;
    use codec::Encode;
    use polkadot_sdk::{
        cumulus_primitives_core::relay_chain::well_known_keys,
        cumulus_test_relay_sproof_builder::RelayStateSproofBuilder,
        sp_runtime::traits::BlakeTwo256,
        sp_state_machine::{prove_read, TrieBackendBuilder},
    };
    let para = polkadot_sdk::cumulus_primitives_core::ParaId::from(genesis_config_presets::PARACHAIN_ID);
    let padding: Vec<(Vec<u8>, Vec<u8>)> = (0u32..20_000)
        .map(|i| (polkadot_sdk::sp_io::hashing::blake2_256(&i.to_le_bytes()).to_vec(), [i as u8; 32].to_vec()))
        .collect();
    let builder = RelayStateSproofBuilder {
        para_id: para,
        current_epoch: 1,
        randomness: [3u8; 32].into(),
        additional_key_values: padding,
        ..Default::default()
    };
    let (root, full) = builder.into_state_root_and_proof();
    let keys: Vec<Vec<u8>> = vec![
        well_known_keys::ACTIVE_CONFIG.to_vec(),
        well_known_keys::CURRENT_SLOT.to_vec(),
        well_known_keys::EPOCH_INDEX.to_vec(),
        well_known_keys::CURRENT_BLOCK_RANDOMNESS.to_vec(),
        well_known_keys::ONE_EPOCH_AGO_RANDOMNESS.to_vec(),
        well_known_keys::TWO_EPOCHS_AGO_RANDOMNESS.to_vec(),
        well_known_keys::relay_dispatch_queue_remaining_capacity(para).key,
        well_known_keys::hrmp_ingress_channel_index(para),
        well_known_keys::hrmp_egress_channel_index(para),
    ];
    let backend = TrieBackendBuilder::new(full.into_memory_db::<BlakeTwo256>(), root).build();
    let proof = prove_read(backend, keys).expect("proof of the block keys");
    TestExternalities::default().execute_with(|| {
        assert_eq!(read_epoch_randomness(root, proof.clone()), (1, [3u8; 32]));
    });
    let bytes = (root, proof).encode();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benchmarking/relay-state-proof.scale");
    if std::env::var("POGO_WRITE_FIXTURES").is_ok_and(|v| v == "1") {
        std::fs::write(path, &bytes).expect("write the fixture");
    }
    let committed = std::fs::read(path).expect("the fixture exists");
    assert!(bytes.len() > 4 * 1024, "a proof of realistic depth ({} bytes)", bytes.len());
    assert_eq!(committed, bytes, "runtime/benchmarking/relay-state-proof.scale is stale: rerun with POGO_WRITE_FIXTURES=1");
}

/// The worker's chain client (`offchain-worker/chain`) generates its types at compile time from this
/// file; a runtime change that would break it must fail here, not in a user's run. Regenerate it with
/// `scripts/metadata.sh` (which runs this test with `POGO_WRITE_METADATA=1`).
#[test]
fn the_worker_metadata_file_is_current() {
    let version = Runtime::metadata_versions().into_iter().filter(|v| *v != u32::MAX).max().expect("a stable version");
    // Metadata reads storage-free runtime code, but its tracing spans need externalities.
    let metadata = TestExternalities::default()
        .execute_with(|| Runtime::metadata_at_version(version))
        .expect("the runtime offers its own version");
    // `OpaqueMetadata` wraps the encoded `RuntimeMetadataPrefixed`: the file holds those bytes, as
    // `subxt metadata` writes them.
    let bytes: Vec<u8> = metadata.to_vec();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../offchain-worker/chain/metadata/pogo.scale");
    if std::env::var_os("POGO_WRITE_METADATA").is_some() {
        std::fs::write(&path, &bytes).expect("metadata file written");
        return;
    }
    let on_disk = std::fs::read(&path).unwrap_or_default();
    assert!(
        on_disk == bytes,
        "{} differs from the runtime's metadata (version {version}, {} bytes vs {} on disk): run scripts/metadata.sh \
         and rebuild the worker",
        path.display(),
        bytes.len(),
        on_disk.len()
    );
}
