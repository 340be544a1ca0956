//! The round store: every object kind round-trips, reads are checked against roots, writes are atomic,
//! a reopened store finds everything again.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{build_round, spec};
use pogo_store::{layout::is_valid_journal_name, ModelState, ObjectKind, RoundStore, StoreError};
use serde::{Deserialize, Serialize};
use std::{
    fs::{self, OpenOptions},
    time::{Duration, SystemTime},
};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct MinerJournal {
    task: u32,
    round: u32,
    pending: Vec<String>,
}

#[test]
fn every_object_kind_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = RoundStore::open(dir.path()).unwrap();
    let r = build_round(0);
    let spec = r.spec;
    let trace_root = store.put_builder_round(&r.builder, &r.manifest).unwrap();
    assert_eq!(trace_root, r.trace_root());

    // The manifest and the index.
    assert_eq!(store.round(&trace_root).unwrap().as_ref(), Some(&r.manifest));
    assert_eq!(store.round_roots(), vec![trace_root]);
    assert_eq!(store.round(&[0; 32]).unwrap(), None);

    // Every state of the round: whole, and leaf by leaf with proofs.
    let checkpoints = r.manifest.checkpoints().unwrap();
    assert_eq!(checkpoints.len(), 3, "base and two checkpoints");
    for (step, root) in &checkpoints {
        assert!(store.has_state(root));
        assert_eq!(store.state_spec(root), Some(spec));
        let state = store.load_state(&spec, root).unwrap();
        assert_eq!(state, r.state(*step));
        assert_eq!(state.root(&spec).unwrap(), *root);
        for i in 0..spec.leaf_count() {
            let (leaf, proof) = store.state_leaf(&spec, root, i).unwrap();
            assert_eq!(Some((leaf.clone(), proof.clone())), r.builder.state_opening(*step, i));
            proof.verify_in(root, spec.leaf_count(), &leaf).unwrap();
        }
    }
    let final_state = store.load_state(&spec, &r.manifest.commitment().unwrap().final_root).unwrap();
    assert_eq!(final_state.weights, r.builder.weights());

    // Every gradient.
    for record in r.manifest.records().unwrap() {
        let root = record.gradient_root;
        assert_eq!(store.gradient_spec(&root), Some(spec));
        assert_eq!(store.gradient_leaves(&spec, &root).unwrap(), r.builder.gradient_leaves(record.step).unwrap());
        for i in 0..spec.leaf_count() {
            let (leaf, proof) = store.gradient_leaf(&spec, &root, i).unwrap();
            assert_eq!(Some((leaf.clone(), proof.clone())), r.builder.gradient_opening(record.step, i));
            proof.verify_in(&root, spec.leaf_count(), &leaf).unwrap();
        }
    }
    assert!(matches!(
        store.gradient_leaf(&spec, &r.manifest.records().unwrap()[0].gradient_root, spec.leaf_count()),
        Err(StoreError::LeafOutOfRange { index: 4, count: 4, .. })
    ));

    // A state outside any round, with its spec sidecar.
    let lone = ModelState::fresh(&spec, (0..1000).map(|i| i as f32 * 0.25).collect());
    let lone_root = store.put_state(&spec, &lone).unwrap();
    assert_eq!(lone_root, lone.root(&spec).unwrap());
    assert_eq!(store.load_state(&spec, &lone_root).unwrap(), lone);
    assert_eq!(fs::read(store.state_path(&lone_root)).unwrap(), lone.to_bytes(&spec).unwrap());

    // Journals.
    let journal = MinerJournal { task: 3, round: 7, pending: vec!["submit".into()] };
    assert_eq!(store.journal::<MinerJournal>("miner-3").unwrap(), None);
    store.put_journal("miner-3", &journal).unwrap();
    assert_eq!(store.journal::<MinerJournal>("miner-3").unwrap(), Some(journal));
    assert!(store.remove_journal("miner-3").unwrap());
    assert!(!store.remove_journal("miner-3").unwrap());

    // Usage and counts.
    let usage = store.usage().unwrap();
    assert_eq!(usage.states.files, 4);
    assert_eq!(usage.gradients.files, 6);
    assert_eq!(usage.rounds.files, 1);
    assert_eq!(usage.temp.files, 0, "no temporary file is left behind");
    assert!(usage.total_bytes() > usage.states.bytes);
    let counts = store.counts();
    assert_eq!((counts.rounds, counts.states, counts.gradients), (1, 4, 6));

    // A reopened store knows every spec again (manifests and sidecars).
    drop(store);
    let again = RoundStore::open(dir.path()).unwrap();
    assert_eq!(again.counts(), counts);
    assert_eq!(again.state_spec(&lone_root), Some(spec));
    assert_eq!(again.round_roots(), vec![trace_root]);
    let (leaf, proof) = again.state_leaf(&spec, &lone_root, 3).unwrap();
    proof.verify_in(&lone_root, 4, &leaf).unwrap();
}

#[test]
fn writes_refuse_content_that_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let store = RoundStore::open(dir.path()).unwrap();
    let r = build_round(1);
    let spec = r.spec;
    let (leaves, root) = r.builder.checkpoint_leaves(None).unwrap();
    let mut other = leaves.to_vec();
    other[1][0] ^= 1;
    assert!(matches!(
        store.put_state_leaves(&spec, &root, &other),
        Err(StoreError::RootMismatch { kind: ObjectKind::State, .. })
    ));
    assert!(matches!(store.put_state_leaves(&spec, &root, &leaves[..3]), Err(StoreError::Shape { .. })));
    let mut short = leaves.to_vec();
    short[0].pop();
    assert!(matches!(store.put_state_leaves(&spec, &root, &short), Err(StoreError::Shape { .. })));
    let mut bad_spec = spec;
    bad_spec.leaf_size = 0;
    assert!(matches!(store.put_state_leaves(&bad_spec, &root, leaves), Err(StoreError::Spec(_))));
    let grads = r.builder.gradient_leaves(0).unwrap();
    assert!(matches!(store.put_gradient(&spec, &root, grads), Err(StoreError::RootMismatch { .. })));
    assert!(!store.has_state(&root));
    assert_eq!(store.usage().unwrap().temp.files, 0, "refused writes leave no temporary file");

    // A manifest that does not verify is refused.
    let mut manifest = r.manifest.clone();
    manifest.round += 1;
    assert!(matches!(store.put_round(&manifest), Err(StoreError::Manifest(_))));
    // And one whose data is not the builder's.
    let other_round = build_round(2);
    assert!(matches!(store.put_builder_round(&other_round.builder, &r.manifest), Err(StoreError::Manifest(_))));
}

/// The miner's writes with a tree it computed: the same files as the hashing writes, and the same refusals
/// of a wrong shape; a wrong tree is not checked at write time but reads as corrupt.
#[test]
fn writes_with_a_tree_are_the_hashing_writes() {
    use pogo_primitives::{state::state_tree, MerkleTree};
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (hashing, with_tree) = (RoundStore::open(a.path()).unwrap(), RoundStore::open(b.path()).unwrap());
    let r = build_round(3);
    let spec = r.spec;
    let state = r.state(Some(3)); // the first checkpoint (interval 4)
    let slots: Vec<&[f32]> = state.slots.iter().map(Vec::as_slice).collect();
    let tree = || state_tree(&spec, &state.weights, &slots).unwrap();
    let root = hashing.put_state(&spec, &state).unwrap();
    with_tree.put_state_with_tree(&spec, tree(), &state.weights, &state.slots).unwrap();
    assert_eq!(fs::read(hashing.state_path(&root)).unwrap(), fs::read(with_tree.state_path(&root)).unwrap());
    assert_eq!(with_tree.load_state(&spec, &root).unwrap(), state);
    with_tree.put_state_with_tree(&spec, tree(), &state.weights, &state.slots).unwrap(); // already stored: no-op
    let grads = r.builder.gradient_leaves(0).unwrap();
    let grad_tree = MerkleTree::from_leaves(grads.iter().map(Vec::as_slice)).unwrap();
    hashing.put_gradient(&spec, &grad_tree.root(), grads).unwrap();
    with_tree.put_gradient_with_tree(&spec, grad_tree.clone(), grads).unwrap();
    let grad_root = grad_tree.root();
    assert_eq!(fs::read(hashing.gradient_path(&grad_root)).unwrap(), fs::read(with_tree.gradient_path(&grad_root)).unwrap());
    assert_eq!(with_tree.gradient_leaves(&spec, &grad_root).unwrap(), grads.to_vec());

    // Refused shapes change nothing.
    let c = tempfile::tempdir().unwrap();
    let fresh = RoundStore::open(c.path()).unwrap();
    let short_tree = MerkleTree::from_leaves(grads.iter().take(1).map(Vec::as_slice)).unwrap();
    assert!(matches!(fresh.put_gradient_with_tree(&spec, short_tree, grads), Err(StoreError::Shape { .. })));
    assert!(matches!(fresh.put_gradient_with_tree(&spec, grad_tree.clone(), &grads[..1]), Err(StoreError::Shape { .. })));
    assert!(matches!(fresh.put_state_with_tree(&spec, tree(), &state.weights[1..], &state.slots), Err(StoreError::State(_))));
    let mut nan = state.weights.clone();
    nan[2] = f32::NAN;
    assert!(matches!(fresh.put_state_with_tree(&spec, tree(), &nan, &state.slots), Err(StoreError::State(_))));
    assert_eq!(fresh.counts(), Default::default());
    assert_eq!(fresh.usage().unwrap().temp.files, 0, "refused writes leave no temporary file");

    // A tree of other content: written under that tree's root, read back as corrupt.
    let mut other = state.weights.clone();
    other[0] += 1.0;
    let wrong = state_tree(&spec, &other, &slots).unwrap();
    let wrong_root = wrong.root();
    fresh.put_state_with_tree(&spec, wrong, &state.weights, &state.slots).unwrap();
    assert!(matches!(fresh.load_state(&spec, &wrong_root), Err(StoreError::Corrupt { .. })));
}

#[test]
fn damaged_files_are_typed_errors_and_are_repaired_by_a_new_write() {
    let dir = tempfile::tempdir().unwrap();
    let r = build_round(3);
    let spec = r.spec;
    let store = RoundStore::open(dir.path()).unwrap();
    store.put_builder_round(&r.builder, &r.manifest).unwrap();
    let (leaves, root) = r.builder.checkpoint_leaves(Some(3)).unwrap();
    let path = store.state_path(&root);

    // One flipped bit in a value: still a finite, well-formed file, but not the committed one.
    let mut bytes = fs::read(&path).unwrap();
    bytes[40] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    let corrupt = |e: Result<_, StoreError>| matches!(e, Err(StoreError::Corrupt { kind: ObjectKind::State, .. }));
    assert!(corrupt(store.load_state(&spec, &root).map(|_| ())));
    assert!(corrupt(store.state_leaf(&spec, &root, 0).map(|_| ())), "a cached tree does not hide the change");
    let fresh = RoundStore::open(dir.path()).unwrap();
    assert!(corrupt(fresh.state_leaf(&spec, &root, 2).map(|_| ())), "nor does a fresh tree");

    // Truncated (a torn write that was not made through the store).
    fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    assert!(corrupt(fresh.load_state(&spec, &root).map(|_| ())));
    assert!(corrupt(fresh.state_leaf(&spec, &root, 0).map(|_| ())));

    // Writing the state again replaces the damaged file.
    fresh.put_state_leaves(&spec, &root, leaves).unwrap();
    assert_eq!(fresh.load_state(&spec, &root).unwrap(), r.state(Some(3)));

    // A damaged gradient.
    let g = r.manifest.records().unwrap()[2].gradient_root;
    let gpath = fresh.gradient_path(&g);
    let mut gbytes = fs::read(&gpath).unwrap();
    let last = gbytes.len() - 1;
    gbytes[last] ^= 0x10;
    fs::write(&gpath, &gbytes).unwrap();
    assert!(matches!(fresh.gradient_leaves(&spec, &g), Err(StoreError::Corrupt { kind: ObjectKind::Gradient, .. })));
    assert!(matches!(fresh.load_state(&spec, &[7; 32]), Err(StoreError::NotFound { kind: ObjectKind::State, .. })));

    // A damaged manifest is an error, not a round; a reopened store skips it.
    let mpath = fresh.round_path(&r.trace_root());
    let text = fs::read_to_string(&mpath).unwrap().replace("\"round\": 4", "\"round\": 5");
    fs::write(&mpath, text).unwrap();
    assert!(matches!(fresh.round(&r.trace_root()), Err(StoreError::Corrupt { kind: ObjectKind::Round, .. })));
    assert!(RoundStore::open(dir.path()).unwrap().round_roots().is_empty());
}

#[test]
fn leftover_temporary_files_are_ignored_and_stale_ones_removed() {
    let dir = tempfile::tempdir().unwrap();
    let r = build_round(4);
    let spec = r.spec;
    let root = {
        let store = RoundStore::open(dir.path()).unwrap();
        store.put_state(&spec, &r.state(None)).unwrap()
    };
    // A crash in the middle of a write leaves a partial temporary file; another a very old one.
    let tmp = dir.path().join("tmp");
    let good = fs::read(dir.path().join("states").join(format!("{}.state", hex::encode(root)))).unwrap();
    fs::write(tmp.join("1-0-000000001.tmp"), &good[..100]).unwrap();
    fs::write(tmp.join("1-1-000000002.tmp"), &good[..50]).unwrap();
    let old = OpenOptions::new().write(true).open(tmp.join("1-1-000000002.tmp")).unwrap();
    old.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
    drop(old);

    let store = RoundStore::open(dir.path()).unwrap();
    assert!(tmp.join("1-0-000000001.tmp").exists(), "a young temporary file may be another writer's");
    assert!(!tmp.join("1-1-000000002.tmp").exists(), "a stale one is removed");
    assert_eq!(store.usage().unwrap().temp.files, 1);
    assert_eq!(store.usage().unwrap().states.files, 1);
    assert_eq!(store.load_state(&spec, &root).unwrap(), r.state(None));
    assert_eq!(store.counts().states, 1);
}

#[test]
fn journal_names_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let store = RoundStore::open(dir.path()).unwrap();
    for bad in ["", ".", "..", "../x", "a/b", "Miner", ".hidden", "x y", "a\\b", &"a".repeat(65), "é"] {
        assert!(!is_valid_journal_name(bad), "{bad:?}");
        assert!(matches!(store.put_journal(bad, &1u32), Err(StoreError::BadJournalName(_))), "{bad:?}");
        assert!(matches!(store.journal::<u32>(bad), Err(StoreError::BadJournalName(_))), "{bad:?}");
    }
    for good in ["miner", "miner-3.round_7", "0", &"z".repeat(64)] {
        store.put_journal(good, &7u32).unwrap();
        assert_eq!(store.journal::<u32>(good).unwrap(), Some(7));
    }
    // A journal of another type is a typed error.
    assert!(matches!(store.journal::<String>("miner"), Err(StoreError::Json { .. })));
}

#[test]
fn the_store_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RoundStore>();
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(RoundStore::open(dir.path()).unwrap());
    let spec = spec();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let state = ModelState::fresh(&spec, (0..1000).map(|i| (i * (t + 1)) as f32).collect());
                let root = store.put_state(&spec, &state).unwrap();
                for i in 0..4 {
                    store.state_leaf(&spec, &root, i).unwrap();
                }
                root
            })
        })
        .collect();
    let roots: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(store.counts().states, 4);
    for root in roots {
        assert!(store.has_state(&root));
    }
}
