//! Reads proven against a block's state root: the worker need not trust its RPC node for a task's
//! state root and model locator.
//!
//! [`ChainClient::verified_task`] takes the latest finalized header, asks the node for a read proof of
//! the `Pogo::Tasks(task)` storage key at that block (`state_getReadProof`), checks the proof's trie
//! nodes against the header's state root (BLAKE2-256, trie layout V1, as the runtime) and decodes the
//! proven value as the pallet's `TaskInfo`. A proof or value changed in transit fails the check.
//! The header itself is trusted as finalized by the node (a light client would also check finality).

use crate::{client::block_number, error::ChainError, runtime, AccountId32, BlockNumber, ChainClient, ChainTaskParams};
use codec::{DecodeAll, Encode};
use pogo_primitives::{
    views::{TaskId, TaskStatus},
    Hash, ModelDescriptor, TrainingSpec,
};
use sp_core::Blake2Hasher;
use sp_trie::{LayoutV1, StorageProof};
use subxt::utils::Static;
use subxt::{backend::BlockRef, ext::scale_decode::DecodeAsType, Metadata};

/// The trie layout of the pogo runtime's state.
type Layout = LayoutV1<Blake2Hasher>;

/// Why a read proof does not check out.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The proof's nodes do not lead from the state root to the key: a node is missing or altered.
    #[error("the proof does not check out against state root {root}: {reason}")]
    Invalid {
        /// The state root (hex).
        root: String,
        /// What the trie lookup reported.
        reason: String,
    },
    /// The node answered with a proof at another block than the one asked for.
    #[error("the node proved block {got} instead of {expected}")]
    WrongBlock {
        /// The block asked for (hex).
        expected: String,
        /// The block proved (hex).
        got: String,
    },
    /// The proven value is not a record of the expected type.
    #[error("the proven value is not a {what}: {reason}")]
    Value {
        /// The expected record.
        what: &'static str,
        /// Why it does not decode.
        reason: String,
    },
    /// The runtime metadata has no such storage entry.
    #[error("the runtime metadata has no storage entry {0}")]
    NoSuchEntry(&'static str),
}

/// A task as stored at a finalized block, proven against that block's state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTask {
    /// The finalized block the proof is for.
    pub block_number: BlockNumber,
    /// Its hash.
    pub block_hash: Hash,
    /// Its header's state root, which the proof was checked against.
    pub state_root: Hash,
    /// The task.
    pub task: TaskId,
    /// Its owner.
    pub owner: AccountId32,
    /// Its training rules.
    pub spec: TrainingSpec,
    /// Its rewards, bonds, sampling and windows.
    pub params: ChainTaskParams,
    /// Merkle root of the training split.
    pub train_root: Hash,
    /// Merkle root of the evaluation split.
    pub eval_root: Hash,
    /// Where the data is.
    pub data_locator: Vec<u8>,
    /// The task's current model state root (provisional while its round is in the fraud window).
    pub task_state_root: Hash,
    /// Where the state with `task_state_root` is served (empty at the initial root).
    pub model_locator: Vec<u8>,
    /// The root the task started from.
    pub initial_root: Hash,
    /// The next round's number.
    pub round: u32,
    /// Optimizer steps accepted so far.
    pub steps_done: u64,
    /// Active or paused.
    pub status: TaskStatus,
    /// Block from which `task_state_root` was public.
    pub root_set_at: BlockNumber,
}

/// `twox128(pallet) ++ twox128(item) ++ blake2_128(key) ++ key`: the storage key of `key` (SCALE
/// encoded) in a `Blake2_128Concat` map.
pub fn blake2_128_concat_map_key(pallet: &str, item: &str, encoded_key: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(32 + 16 + encoded_key.len());
    key.extend_from_slice(&sp_crypto_hashing::twox_128(pallet.as_bytes()));
    key.extend_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
    key.extend_from_slice(&sp_crypto_hashing::blake2_128(encoded_key));
    key.extend_from_slice(encoded_key);
    key
}

/// The storage key of `Pogo::Tasks(task)`.
pub fn task_storage_key(task: TaskId) -> Vec<u8> {
    blake2_128_concat_map_key("Pogo", "Tasks", &task.encode())
}

/// The storage key of `Pogo::TaskModels(task)`.
pub fn task_model_storage_key(task: TaskId) -> Vec<u8> {
    blake2_128_concat_map_key("Pogo", "TaskModels", &task.encode())
}

/// The value at `key` in the state with root `state_root`, as proven by the trie nodes `proof`:
/// `Some(value)`, or `None` when the proof shows the key absent. Nodes that do not lead from the
/// root to the key (missing or altered) are an error.
pub fn verify_read_proof(
    state_root: &Hash,
    proof: impl IntoIterator<Item = Vec<u8>>,
    key: &[u8],
) -> Result<Option<Vec<u8>>, ProofError> {
    let db = StorageProof::new(proof).into_memory_db::<Blake2Hasher>();
    let root = sp_core::H256(*state_root);
    sp_trie::read_trie_value::<Layout, _>(&db, &root, key, None, None)
        .map_err(|e| ProofError::Invalid { root: hex::encode(state_root), reason: e.to_string() })
}

/// The generated record of `Pogo::Tasks`.
type TaskInfo = runtime::runtime_types::pallet_pogo::types::TaskInfo;

/// The block a proven value was read at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvenAt {
    /// The block's number.
    pub number: BlockNumber,
    /// Its hash.
    pub hash: Hash,
    /// Its header's state root.
    pub state_root: Hash,
}

/// Decodes a proven `Pogo::Tasks` value (all of it) as the storage entry's type in `metadata` into a
/// [`VerifiedTask`] read at `at`.
pub fn decode_task_record(
    task: TaskId,
    value: &[u8],
    metadata: &Metadata,
    at: ProvenAt,
) -> Result<VerifiedTask, ProofError> {
    let value_ty = metadata
        .pallet_by_name("Pogo")
        .and_then(|pallet| pallet.storage())
        .and_then(|storage| storage.entry_by_name("Tasks"))
        .map(|entry| entry.value_ty())
        .ok_or(ProofError::NoSuchEntry("Pogo::Tasks"))?;
    let mut cursor = value;
    let info = TaskInfo::decode_as_type(&mut cursor, value_ty, metadata.types())
        .map_err(|e| ProofError::Value { what: "TaskInfo", reason: e.to_string() })?;
    if !cursor.is_empty() {
        return Err(ProofError::Value { what: "TaskInfo", reason: format!("{} bytes left over", cursor.len()) });
    }
    let Static(spec) = info.spec;
    let Static(params) = info.params;
    let Static(status) = info.status;
    Ok(VerifiedTask {
        block_number: at.number,
        block_hash: at.hash,
        state_root: at.state_root,
        task,
        owner: info.owner,
        spec,
        params,
        train_root: info.dataset.train_root,
        eval_root: info.dataset.eval_root,
        data_locator: info.dataset.locator.0,
        task_state_root: info.state_root,
        model_locator: info.model_locator.0,
        initial_root: info.initial_root,
        round: info.round,
        steps_done: info.steps_done,
        status,
        root_set_at: info.root_set_at,
    })
}

impl ChainClient {
    /// The task `task` at the latest finalized block, proven against that block's state root
    /// (`None`: the proof shows no such task).
    pub async fn verified_task(&self, task: TaskId) -> Result<Option<VerifiedTask>, ChainError> {
        let key = task_storage_key(task);
        let Some((value, at)) = self.proven_value(&key).await? else { return Ok(None) };
        let block = self
            .api
            .at_block_hash_and_number(
                BlockRef::from_hash(subxt::config::substrate::H256(at.hash)),
                u64::from(at.number),
            )
            .await
            .map_err(|e| ChainError::subxt("open finalized block", e))?;
        Ok(Some(decode_task_record(task, &value, block.metadata_ref(), at)?))
    }

    /// The model descriptor of `task` at the latest finalized block, proven against that block's state
    /// root (`None`: the proof shows the task has none), with the block's number.
    pub async fn verified_task_model(
        &self,
        task: TaskId,
    ) -> Result<Option<(BlockNumber, ModelDescriptor)>, ChainError> {
        let key = task_model_storage_key(task);
        let Some((value, at)) = self.proven_value(&key).await? else { return Ok(None) };
        // `BoundedModelDescriptor` has the encoding of the unbounded descriptor.
        let model = ModelDescriptor::decode_all(&mut &value[..])
            .map_err(|e| ProofError::Value { what: "ModelDescriptor", reason: e.to_string() })?;
        Ok(Some((at.number, model)))
    }

    /// The value at `key` in the latest finalized state, proven against the header's state root.
    async fn proven_value(&self, key: &[u8]) -> Result<Option<(Vec<u8>, ProvenAt)>, ChainError> {
        let hash = self.finalized_hash().await?;
        let header = self.header(Some(hash)).await?;
        let read_proof = self
            .rpc
            .state_get_read_proof([key], Some(hash))
            .await
            .map_err(|e| ChainError::rpc("state_getReadProof", e))?;
        if read_proof.at != hash {
            return Err(
                ProofError::WrongBlock { expected: hex::encode(hash.0), got: hex::encode(read_proof.at.0) }.into()
            );
        }
        let state_root = header.state_root.0;
        let nodes = read_proof.proof.into_iter().map(|bytes| bytes.0);
        let at = ProvenAt { number: block_number(header.number), hash: hash.0, state_root };
        Ok(verify_read_proof(&state_root, nodes, key)?.map(|value| (value, at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sp_trie::{recorder::Recorder, HashDBT, MemoryDB, Trie, TrieDBBuilder, TrieDBMutBuilder, TrieMut};

    /// A state with `entries`, its root, and the recorded proof of reading `key`.
    fn state_with_proof(entries: &[(Vec<u8>, Vec<u8>)], key: &[u8]) -> (Hash, Vec<Vec<u8>>) {
        let mut db = MemoryDB::<Blake2Hasher>::default();
        let mut root = sp_core::H256::default();
        {
            let mut trie = TrieDBMutBuilder::<Layout>::new(&mut db, &mut root).build();
            for (k, v) in entries {
                trie.insert(k, v).unwrap();
            }
        }
        let recorder = Recorder::<Blake2Hasher>::default();
        {
            let mut trie_recorder = recorder.as_trie_recorder(root);
            let trie = TrieDBBuilder::<Layout>::new(&db, &root).with_recorder(&mut trie_recorder).build();
            trie.get(key).unwrap();
        }
        let proof = recorder.drain_storage_proof().into_iter_nodes().collect();
        assert!(db.contains(&root, sp_trie::EMPTY_PREFIX));
        (root.0, proof)
    }

    fn sample_state(task_value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> =
            (0..64u32).map(|i| (task_storage_key(i + 100), vec![i as u8; 40 + i as usize])).collect();
        entries.push((task_storage_key(7), task_value.to_vec()));
        entries.push((b":code".to_vec(), vec![0xAB; 300]));
        entries
    }

    #[test]
    fn task_key_is_prefix_hash_and_concat() {
        let key = task_storage_key(7);
        assert_eq!(key.len(), 16 + 16 + 16 + 4);
        assert_eq!(&key[..16], &sp_crypto_hashing::twox_128(b"Pogo"));
        assert_eq!(&key[16..32], &sp_crypto_hashing::twox_128(b"Tasks"));
        assert_eq!(&key[32..48], &sp_crypto_hashing::blake2_128(&7u32.to_le_bytes()));
        assert_eq!(&key[48..], &7u32.to_le_bytes());
        // The well-known prefix of System::Account, as a check of the hashers and their order.
        assert_eq!(
            hex::encode(&blake2_128_concat_map_key("System", "Account", &[])[..32]),
            "26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"
        );
        assert_ne!(task_model_storage_key(7), key);
    }

    #[test]
    fn a_recorded_proof_checks_out() {
        let value = b"the task record".to_vec();
        let entries = sample_state(&value);
        let key = task_storage_key(7);
        let (root, proof) = state_with_proof(&entries, &key);
        assert_eq!(verify_read_proof(&root, proof.clone(), &key).unwrap(), Some(value));
        // A key whose path the proof covers and that is absent is proven absent or not provable;
        // never a value.
        let absent = task_storage_key(8);
        assert!(!matches!(verify_read_proof(&root, proof, &absent), Ok(Some(_))));
    }

    #[test]
    fn a_proof_of_absence_checks_out() {
        let entries = sample_state(b"x");
        let absent = task_storage_key(9);
        let (root, proof) = state_with_proof(&entries, &absent);
        assert_eq!(verify_read_proof(&root, proof, &absent).unwrap(), None);
    }

    #[test]
    fn a_flipped_byte_anywhere_fails() {
        let value = vec![0x5A; 100];
        let entries = sample_state(&value);
        let key = task_storage_key(7);
        let (root, proof) = state_with_proof(&entries, &key);
        for node in 0..proof.len() {
            for position in [0, proof[node].len() / 2, proof[node].len() - 1] {
                let mut tampered = proof.clone();
                tampered[node][position] ^= 0x01;
                let result = verify_read_proof(&root, tampered, &key);
                assert!(matches!(result, Err(ProofError::Invalid { .. })), "node {node} byte {position}: {result:?}");
            }
        }
        let mut other_root = root;
        other_root[0] ^= 1;
        assert!(matches!(verify_read_proof(&other_root, proof.clone(), &key), Err(ProofError::Invalid { .. })));
        let missing_node: Vec<Vec<u8>> = proof.into_iter().skip(1).collect();
        assert!(matches!(verify_read_proof(&root, missing_node, &key), Err(ProofError::Invalid { .. })));
    }

    #[test]
    fn a_task_record_round_trips_through_a_proof() {
        let record = crate::metadata_tests::sample_task_info();
        let metadata = crate::metadata_tests::metadata();
        let encoded = crate::metadata_tests::encode_task_info(&record, &metadata);
        let entries = sample_state(&encoded);
        let key = task_storage_key(7);
        let (root, proof) = state_with_proof(&entries, &key);
        let value = verify_read_proof(&root, proof, &key).unwrap().unwrap();
        let at = ProvenAt { number: 12, hash: [1; 32], state_root: root };
        let verified = decode_task_record(7, &value, &metadata, at).unwrap();
        assert_eq!(verified.task_state_root, record.state_root);
        assert_eq!(verified.model_locator, record.model_locator.0);
        assert_eq!(verified.data_locator, record.dataset.locator.0);
        assert_eq!(verified.spec, record.spec.0);
        assert_eq!(verified.params, record.params.0);
        assert_eq!(verified.owner, record.owner);
        assert_eq!((verified.block_number, verified.block_hash, verified.state_root), (12, [1; 32], root));
        // Trailing or missing bytes are not a record.
        let mut longer = encoded.clone();
        longer.push(0);
        assert!(matches!(decode_task_record(7, &longer, &metadata, at), Err(ProofError::Value { .. })));
        assert!(matches!(
            decode_task_record(7, &encoded[..encoded.len() - 1], &metadata, at),
            Err(ProofError::Value { .. })
        ));
    }
}
