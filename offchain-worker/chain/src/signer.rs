//! The key that signs a worker's transactions: sr25519, from a secret URI or a polkadot.js key file.
//!
//! A [`Signer`] shows only its SS58 address (in `Debug` and `Display`); no error of this module carries
//! any part of the secret.

use crate::AccountId32;
use std::{path::Path, str::FromStr};
use subxt::PolkadotConfig;
use subxt_signer::{polkadot_js_compat, sr25519, SecretUri};

/// Bytes of a polkadot.js key file's `encoded` field before the ciphertext: scrypt salt (32), its N, p
/// and r (3 × 4) and the secretbox nonce (24).
const JSON_HEADER_LEN: usize = 68;

/// Why a signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The secret URI does not have the form `phrase//hard/soft///password` (or `0x<seed>//…`).
    #[error("the secret URI is not of the form <phrase or 0x seed>[//hard][/soft][///password]")]
    InvalidSuri,
    /// The phrase is not a valid BIP-39 mnemonic (the reason names no word of it).
    #[error("the secret phrase is not a valid BIP-39 mnemonic: {0}")]
    InvalidPhrase(String),
    /// The `0x` seed is not 32 bytes of hex.
    #[error("the secret seed is not 32 bytes of hex")]
    InvalidSeed,
    /// The key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    KeyFileRead {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file is not a polkadot.js sr25519 key file this client can decrypt.
    #[error("not a supported polkadot.js key file: {0}")]
    KeyFileFormat(String),
    /// The password does not decrypt the key file (or its ciphertext was altered).
    #[error("wrong password for the key file (or the file was altered)")]
    WrongPassword,
}

/// An sr25519 signing key and its account.
#[derive(Clone)]
pub struct Signer {
    keypair: sr25519::Keypair,
    account: AccountId32,
}

impl Signer {
    /// A key from a secret URI: `//Alice` (a dev account), a BIP-39 mnemonic with optional `//hard` and
    /// `/soft` derivations and a `///password`, or a `0x` hex seed with derivations.
    pub fn from_suri(suri: &str) -> Result<Self, SignerError> {
        let uri = SecretUri::from_str(suri).map_err(|_| SignerError::InvalidSuri)?;
        let keypair = sr25519::Keypair::from_uri(&uri).map_err(|e| match e {
            sr25519::Error::Phrase(reason) => SignerError::InvalidPhrase(reason.to_string()),
            // The hex error would show a character of the seed: say only what is wrong.
            sr25519::Error::Hex(_) | sr25519::Error::InvalidSeed => SignerError::InvalidSeed,
            sr25519::Error::Signature(_) => SignerError::InvalidSeed,
        })?;
        Ok(Self::from_keypair(keypair))
    }

    /// A key from the text of a polkadot.js key file (sr25519, scrypt + xsalsa20-poly1305, version 3)
    /// and its password.
    pub fn from_json(json: &str, password: &str) -> Result<Self, SignerError> {
        check_key_file_shape(json)?;
        let keypair = polkadot_js_compat::decrypt_json(json, password).map_err(|e| match e {
            polkadot_js_compat::Error::Secretbox(_) => SignerError::WrongPassword,
            polkadot_js_compat::Error::Json(e) => SignerError::KeyFileFormat(format!("invalid JSON: {e}")),
            polkadot_js_compat::Error::InvalidKeys => {
                SignerError::KeyFileFormat("the decrypted key does not match the file's address".into())
            }
            other => SignerError::KeyFileFormat(other.to_string()),
        })?;
        Ok(Self::from_keypair(keypair))
    }

    /// A key from a polkadot.js key file on disk and its password.
    pub fn from_json_file(path: &Path, password: &str) -> Result<Self, SignerError> {
        let json = std::fs::read_to_string(path)
            .map_err(|source| SignerError::KeyFileRead { path: path.display().to_string(), source })?;
        Self::from_json(&json, password)
    }

    /// A key from an sr25519 keypair.
    pub fn from_keypair(keypair: sr25519::Keypair) -> Self {
        let account = keypair.public_key().to_account_id();
        Self { keypair, account }
    }

    /// The account this key signs for.
    pub fn account_id(&self) -> AccountId32 {
        self.account
    }

    /// The account as SS58 text (generic prefix 42).
    pub fn address(&self) -> String {
        self.account.to_string()
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.account.0
    }

    /// Signs `message` (sr25519, substrate signing context).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.keypair.sign(message).0
    }
}

impl subxt::transactions::Signer<PolkadotConfig> for Signer {
    fn account_id(&self) -> AccountId32 {
        self.account
    }

    fn sign(&self, signer_payload: &[u8]) -> subxt::utils::MultiSignature {
        subxt::utils::MultiSignature::Sr25519(self.keypair.sign(signer_payload).0)
    }
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Signer").field(&self.address()).finish()
    }
}

impl core::fmt::Display for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.address())
    }
}

/// Refuses a key file whose `encoded` field is valid base64 but too short to hold the scrypt and
/// nonce header (the decryptor would index past its end), before decryption is attempted.
fn check_key_file_shape(json: &str) -> Result<(), SignerError> {
    #[derive(serde::Deserialize)]
    struct Encoded {
        encoded: String,
    }
    let file: Encoded = serde_json::from_str(json)
        .map_err(|e| SignerError::KeyFileFormat(format!("invalid JSON or no `encoded` field: {e}")))?;
    let text = file.encoded.as_bytes();
    if text.len().is_multiple_of(4) {
        let padding = text.iter().rev().take_while(|b| **b == b'=').count();
        let decoded = (text.len() / 4 * 3).saturating_sub(padding);
        if decoded <= JSON_HEADER_LEN {
            return Err(SignerError::KeyFileFormat(format!(
                "the encoded key holds {decoded} bytes, less than its {JSON_HEADER_LEN}-byte header and a ciphertext"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB_SS58: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    const DEV_PHRASE: &str = "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

    #[test]
    fn dev_uri_gives_the_known_address() {
        let alice = Signer::from_suri("//Alice").unwrap();
        assert_eq!(alice.address(), ALICE_SS58);
        assert_eq!(alice.to_string(), ALICE_SS58);
        assert_eq!(Signer::from_suri("//Bob").unwrap().address(), BOB_SS58);
    }

    #[test]
    fn phrase_with_path_equals_the_dev_shorthand() {
        let explicit = Signer::from_suri(&format!("{DEV_PHRASE}//Alice")).unwrap();
        assert_eq!(explicit.address(), ALICE_SS58);
        // A soft derivation and a password give other accounts.
        let soft = Signer::from_suri(&format!("{DEV_PHRASE}//Alice/stash")).unwrap();
        let with_password = Signer::from_suri(&format!("{DEV_PHRASE}//Alice///secret")).unwrap();
        assert_ne!(soft.address(), ALICE_SS58);
        assert_ne!(with_password.address(), ALICE_SS58);
        assert_ne!(soft.address(), with_password.address());
    }

    #[test]
    fn debug_and_errors_never_show_the_secret() {
        let secret = "bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice///hunter2";
        let signer = Signer::from_suri(secret).unwrap();
        let shown = format!("{signer:?} {signer}");
        assert!(shown.contains(&signer.address()));
        for word in ["bottom", "hunter2", "Alice"] {
            assert!(!shown.contains(word), "{shown}");
        }
        let bad_hex = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeezz";
        let error = Signer::from_suri(bad_hex).unwrap_err();
        assert!(matches!(error, SignerError::InvalidSeed));
        assert!(!error.to_string().contains("zz"));
        let bad_phrase =
            Signer::from_suri("bottom drive obey lake curtain smoke basket hold race lonely fit hunter").unwrap_err();
        assert!(matches!(bad_phrase, SignerError::InvalidPhrase(_)));
        assert!(!bad_phrase.to_string().contains("hunter"));
    }

    #[test]
    fn hex_seed_is_accepted() {
        let seed = format!("0x{}", "07".repeat(32));
        let from_uri = Signer::from_suri(&seed).unwrap();
        let direct = Signer::from_keypair(sr25519::Keypair::from_secret_key([7; 32]).unwrap());
        assert_eq!(from_uri.account_id(), direct.account_id());
        let short = Signer::from_suri("0x0707").unwrap_err();
        assert!(matches!(short, SignerError::InvalidSeed));
    }

    #[test]
    fn signatures_verify_against_the_account() {
        let alice = Signer::from_suri("//Alice").unwrap();
        let signature = alice.sign(b"pogo");
        let public = sr25519::PublicKey(alice.public_key());
        assert!(sr25519::verify(&sr25519::Signature(signature), b"pogo", &public));
        assert!(!sr25519::verify(&sr25519::Signature(signature), b"pogp", &public));
    }

    #[test]
    fn malformed_key_files_are_refused_without_panicking() {
        for json in [
            "",
            "not json",
            "{}",
            r#"{"encoded": 5}"#,
            // Valid base64 but shorter than the header the decryptor reads.
            r#"{"encoded":"AAAA","encoding":{"content":["pkcs8","sr25519"],"type":["scrypt","xsalsa20-poly1305"],"version":"3"},"address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}"#,
            // Not base64 at all.
            r#"{"encoded":"!!!!","encoding":{"content":["pkcs8","sr25519"],"type":["scrypt","xsalsa20-poly1305"],"version":"3"},"address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}"#,
        ] {
            let error = Signer::from_json(json, "password").unwrap_err();
            assert!(matches!(error, SignerError::KeyFileFormat(_)), "{json}: {error:?}");
        }
        let long = "A".repeat(200);
        for (content, kind, version) in [
            // An encoding this client does not decrypt.
            (r#"["pkcs8","ed25519"]"#, r#"["none"]"#, "2"),
            // The right encoding, but scrypt parameters (all zero here) polkadot.js never writes.
            (r#"["pkcs8","sr25519"]"#, r#"["scrypt","xsalsa20-poly1305"]"#, "3"),
        ] {
            let json = format!(
                r#"{{"encoded":"{long}","encoding":{{"content":{content},"type":{kind},"version":"{version}"}},"address":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"}}"#
            );
            let error = Signer::from_json(&json, "password").unwrap_err();
            assert!(matches!(error, SignerError::KeyFileFormat(_)), "{json}: {error:?}");
        }
        let missing = Signer::from_json_file(Path::new("/nonexistent/pogo-key.json"), "pw").unwrap_err();
        assert!(matches!(missing, SignerError::KeyFileRead { .. }));
    }
}
