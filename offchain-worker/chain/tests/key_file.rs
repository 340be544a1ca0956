//! A polkadot.js key file decrypts to its account; a wrong password or an altered file is refused.
//!
//! The fixture `fixtures/polkadot-js-key.json` was written by polkadot.js itself (`@polkadot/keyring`
//! 14.0.3, `pair.toJson(password)`), with `fixtures/make-polkadot-js-key.mjs`, for the dev test account
//! `//PogoKeyFileFixture` and the password below.

use pogo_chain::{Signer, SignerError};

const KEY_FILE: &str = include_str!("fixtures/polkadot-js-key.json");
const PASSWORD: &str = "pogo-fixture-password";
const ADDRESS: &str = "5GvEUQLv9SSepAHKWiTaqxH5Za9ucTtQknQJokP2WvoBCaZ9";

#[test]
fn the_key_file_decrypts_to_its_account() {
    let signer = Signer::from_json(KEY_FILE, PASSWORD).unwrap();
    assert_eq!(signer.address(), ADDRESS);
    // The same account as the secret URI polkadot.js derived it from.
    assert_eq!(signer.account_id(), Signer::from_suri("//PogoKeyFileFixture").unwrap().account_id());
    let shown = format!("{signer:?}");
    assert_eq!(shown, format!("Signer({ADDRESS:?})"));
}

#[test]
fn the_key_file_loads_from_disk() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/polkadot-js-key.json");
    assert_eq!(Signer::from_json_file(&path, PASSWORD).unwrap().address(), ADDRESS);
}

#[test]
fn a_wrong_password_is_refused() {
    let error = Signer::from_json(KEY_FILE, "not-the-password").unwrap_err();
    assert!(matches!(error, SignerError::WrongPassword), "{error:?}");
    assert!(!error.to_string().contains("not-the-password"));
}

#[test]
fn an_altered_key_file_is_refused() {
    let mut file: serde_json::Value = serde_json::from_str(KEY_FILE).unwrap();
    // Another address than the key's.
    let mut other_address = file.clone();
    other_address["address"] = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into();
    let error = Signer::from_json(&other_address.to_string(), PASSWORD).unwrap_err();
    assert!(matches!(error, SignerError::KeyFileFormat(_)), "{error:?}");
    // A changed ciphertext byte fails authentication.
    let encoded = file["encoded"].as_str().unwrap().to_string();
    let mut chars: Vec<char> = encoded.chars().collect();
    let last = chars.len() - 10;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    file["encoded"] = chars.into_iter().collect::<String>().into();
    let error = Signer::from_json(&file.to_string(), PASSWORD).unwrap_err();
    assert!(matches!(error, SignerError::WrongPassword), "{error:?}");
}
