//! Runtime tests: presets build, metadata exposes pogo, generated weights fit the block.

use crate::{configs::RuntimeBlockWeights, genesis_config_presets, Runtime, RuntimeGenesisConfig};
use pallet_pogo::WeightInfo as _;
use polkadot_sdk::{
    frame_support::{genesis_builder_helper::build_state, traits::Get},
    sp_io::TestExternalities,
};

type PogoWeights = pallet_pogo::weights::SubstrateWeight<Runtime>;

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
    for method in ["task", "state_root", "submission", "pending_submissions", "round_seed", "verifier_duty", "bond"] {
        assert!(api.methods.iter().any(|m| m.name == method), "PogoApi::{method}");
    }
}

#[test]
fn pogo_weights_fit_in_a_tenth_of_a_block_at_the_configured_maxima() {
    use pallet_pogo::Config;
    let max = RuntimeBlockWeights::get().max_block;
    let limit = (max.ref_time() / 10, max.proof_size() / 10);
    let v = <Runtime as Config>::MaxVerifiers::get();
    let a = <Runtime as Config>::MaxAssigned::get();
    let p = <<Runtime as Config>::MaxPendingPerTask as Get<u32>>::get().saturating_sub(1);
    let c = <Runtime as Config>::MaxCheckpointInterval::get();
    let weights = [
        ("create_task", PogoWeights::create_task()),
        ("top_up", PogoWeights::top_up()),
        ("set_task_status", PogoWeights::set_task_status()),
        ("close_task", PogoWeights::close_task()),
        ("bond", PogoWeights::bond()),
        ("unbond", PogoWeights::unbond()),
        ("withdraw_unbonded", PogoWeights::withdraw_unbonded()),
        ("submit_round", PogoWeights::submit_round(v)),
        ("commit_verdict", PogoWeights::commit_verdict()),
        ("reveal_verdict", PogoWeights::reveal_verdict()),
        ("advance_challenge", PogoWeights::advance_challenge(v)),
        ("advance_tally", PogoWeights::advance_tally(a, p)),
        ("advance_finalize", PogoWeights::advance_finalize()),
        ("report_fraud", PogoWeights::report_fraud(c)),
    ];
    for (name, w) in weights {
        assert!(w.ref_time() > 0 && w.proof_size() > 0, "{name} weighs nothing");
        assert!(
            w.ref_time() <= limit.0 && w.proof_size() <= limit.1,
            "{name}: {w:?} exceeds 10% of the block ({limit:?})"
        );
    }
}
