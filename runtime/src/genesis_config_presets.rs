//! Genesis presets: `development` (the `--dev` chain) and `local_testnet` (para id 2000, zombienet).
//! Both fund Alice..Ferdie and make Alice sudo: test networks only.

use crate::{
    AccountId, BalancesConfig, CollatorSelectionConfig, ParachainInfoConfig, PolkadotXcmConfig, RuntimeGenesisConfig,
    SessionConfig, SessionKeys, SudoConfig, EXISTENTIAL_DEPOSIT,
};
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
    cumulus_primitives_core::ParaId, frame_support::build_struct_json_patch, sp_genesis_builder::PresetId,
    sp_keyring::Sr25519Keyring, staging_xcm::prelude::XCM_VERSION,
};
use serde_json::Value;

/// The para id of both presets.
pub const PARACHAIN_ID: u32 = 2000;
/// Balance of each endowed account.
const ENDOWMENT: u128 = 1u128 << 60;

fn testnet_genesis(invulnerables: Vec<(AccountId, crate::AuraId)>, endowed: Vec<AccountId>, root: AccountId, id: ParaId) -> Value {
    build_struct_json_patch!(RuntimeGenesisConfig {
        balances: BalancesConfig { balances: endowed.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>() },
        parachain_info: ParachainInfoConfig { parachain_id: id },
        collator_selection: CollatorSelectionConfig {
            invulnerables: invulnerables.iter().cloned().map(|(acc, _)| acc).collect::<Vec<_>>(),
            candidacy_bond: EXISTENTIAL_DEPOSIT * 16,
        },
        session: SessionConfig {
            keys: invulnerables
                .into_iter()
                .map(|(acc, aura)| (acc.clone(), acc, SessionKeys { aura }))
                .collect::<Vec<_>>(),
        },
        polkadot_xcm: PolkadotXcmConfig { safe_xcm_version: Some(XCM_VERSION) },
        sudo: SudoConfig { key: Some(root) },
    })
}

fn endowed() -> Vec<AccountId> {
    Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

fn collators() -> Vec<(AccountId, crate::AuraId)> {
    vec![
        (Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Alice.public().into()),
        (Sr25519Keyring::Bob.to_account_id(), Sr25519Keyring::Bob.public().into()),
    ]
}

/// The `local_testnet` preset: Alice and Bob collate.
fn local_testnet_genesis() -> Value {
    testnet_genesis(collators(), endowed(), Sr25519Keyring::Alice.to_account_id(), PARACHAIN_ID.into())
}

/// The `development` preset: the same accounts, for `pogo-node --dev`.
fn development_config_genesis() -> Value {
    testnet_genesis(collators(), endowed(), Sr25519Keyring::Alice.to_account_id(), PARACHAIN_ID.into())
}

/// The JSON patch of preset `id`.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
    let patch = match id.as_ref() {
        polkadot_sdk::sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
        polkadot_sdk::sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
        _ => return None,
    };
    Some(serde_json::to_string(&patch).expect("serialization to json is expected to work; qed").into_bytes())
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
    vec![
        PresetId::from(polkadot_sdk::sp_genesis_builder::DEV_RUNTIME_PRESET),
        PresetId::from(polkadot_sdk::sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
    ]
}
