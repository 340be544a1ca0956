//! `ParallelKernels` against the primitives' `Reference` kernels: whole replays (honest and with each
//! fault the replay names), and each kernel's results and errors on its own, on 1 to 3 threads.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{pool, specs, Rng};
use pogo_bookkeeping::ParallelKernels;
use pogo_primitives::{
    builder::{BuildError, RoundBuilder},
    kernels::{Reference, StepKernels},
    merkle::MerkleTree,
    replay::ReplayFault,
    round::StepRecord,
    spec::{StepScalars, TrainingSpec},
    update::UpdateError,
};

/// A round built by the reference builder: its base state, records and each step's gradient leaves.
struct Round {
    weights: Vec<f32>,
    slots: Vec<Vec<f32>>,
    records: Vec<StepRecord>,
    leaves: Vec<Vec<Vec<u8>>>,
}

fn round(spec: TrainingSpec, rng: &mut Rng) -> Round {
    let p = spec.param_count as usize;
    let weights: Vec<f32> = (0..p).map(|_| rng.value(0.2)).collect();
    let slots = vec![vec![0.0f32; p]; spec.rule.slots()];
    let mut builder = RoundBuilder::new(spec, weights.clone(), slots.clone(), 3).unwrap();
    let mut records = Vec::new();
    for step in 0..spec.steps_per_round {
        let scale = if step % 2 == 0 { 10.0 } else { 1e-3 };
        let g: Vec<f32> = (0..p).map(|_| rng.value(scale)).collect();
        records.push(builder.step(&g, 1.25).unwrap());
    }
    let leaves = (0..spec.steps_per_round).map(|s| builder.gradient_leaves(s).unwrap().to_vec()).collect();
    Round { weights, slots, records, leaves }
}

/// Replays `records` with `leaves` from the round's base on both kernels; asserts that every step's fault,
/// state and checkpoint agree, and returns the first fault.
fn replay_both(spec: TrainingSpec, r: &Round, records: &[StepRecord], leaves: &[Vec<Vec<u8>>], threads: usize) -> Option<ReplayFault> {
    let mut reference = RoundBuilder::new(spec, r.weights.clone(), r.slots.clone(), 3).unwrap();
    let mut parallel = RoundBuilder::new(spec, r.weights.clone(), r.slots.clone(), 3).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    pool(threads).install(|| {
        for (record, leaves) in records.iter().zip(leaves) {
            let want = reference.replay_step_with(record, leaves.clone(), &Reference).unwrap();
            let got = parallel.replay_step_with(record, leaves.clone(), &ParallelKernels).unwrap();
            let at = format!("{:?} threads {threads} step {}", spec.rule, record.step);
            assert_eq!(got, want, "{at}: fault");
            assert_eq!(bits(parallel.weights()), bits(reference.weights()), "{at}: weights");
            for (a, b) in parallel.slots().iter().zip(reference.slots()) {
                assert_eq!(bits(a), bits(b), "{at}: slots");
            }
            assert_eq!(parallel.checkpoint_steps(), reference.checkpoint_steps(), "{at}: checkpoints");
            for s in reference.checkpoint_steps() {
                assert_eq!(parallel.checkpoint_leaves(Some(s)), reference.checkpoint_leaves(Some(s)), "{at}: checkpoint {s}");
            }
            if want.is_some() {
                return want;
            }
        }
        None
    })
}

#[test]
fn replays_on_both_kernels_agree_honest_and_faulty() {
    for spec in specs() {
        for threads in [1, 2, 3] {
            let mut rng = Rng(spec.param_count.wrapping_mul(31) ^ threads as u64);
            let r = round(spec, &mut rng);
            assert_eq!(replay_both(spec, &r, &r.records, &r.leaves, threads), None, "honest round");
            let last = spec.steps_per_round - 1;

            // Leaves that do not match the committed root.
            let mut leaves = r.leaves.clone();
            leaves[1][0][0] ^= 1;
            assert_eq!(replay_both(spec, &r, &r.records, &leaves, threads), Some(ReplayFault::GradientRootMismatch { step: 1 }));

            // A leaf that does not decode (a negative scale), under a root that commits it: the first such
            // leaf in leaf order is named.
            let mut leaves = r.leaves.clone();
            let mut records = r.records.clone();
            let bad = (leaves[2].len() - 1).min(2);
            for leaf in [bad, leaves[2].len() - 1] {
                leaves[2][leaf][3] |= 0x80;
            }
            records[2].gradient_root = MerkleTree::from_leaves(leaves[2].iter().map(Vec::as_slice)).unwrap().root();
            assert_eq!(
                replay_both(spec, &r, &records, &leaves, threads),
                Some(ReplayFault::MalformedGradient { step: 2, leaf: bad as u64 })
            );

            // A gradient scale one ulp off.
            let mut records = r.records.clone();
            records[last as usize].scalars.gradient_scale ^= 1;
            assert_eq!(replay_both(spec, &r, &records, &r.leaves, threads), Some(ReplayFault::WrongScalars { step: last }));

            // A checkpoint root that is not the replayed state's.
            let mut records = r.records.clone();
            let cp = (0..spec.steps_per_round).find(|&s| spec.is_checkpoint(s)).unwrap();
            records[cp as usize].checkpoint_root = Some([9; 32]);
            let segment = cp / spec.checkpoint_interval;
            assert_eq!(replay_both(spec, &r, &records, &r.leaves, threads), Some(ReplayFault::CheckpointMismatch { step: cp, segment }));
        }
    }
}

#[test]
fn each_kernel_returns_the_references_results_and_errors() {
    let mut rng = Rng(77);
    for spec in specs() {
        let r = round(spec, &mut rng);
        let p = spec.param_count as usize;
        for threads in [1, 2, 3] {
            pool(threads).install(|| {
                // Decoding: values bit for bit; the first bad leaf of two; a wrong leaf count.
                let deq = Reference.dequantize_leaves(&spec, &r.leaves[0]).unwrap().unwrap();
                let got = ParallelKernels.dequantize_leaves(&spec, &r.leaves[0]).unwrap().unwrap();
                assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), deq.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
                let mut leaves = r.leaves[0].clone();
                let n = leaves.len();
                leaves[n - 1].push(0);
                leaves[n / 2][3] |= 0x80;
                assert_eq!(ParallelKernels.dequantize_leaves(&spec, &leaves), Reference.dequantize_leaves(&spec, &leaves));
                assert_eq!(ParallelKernels.dequantize_leaves(&spec, &leaves), Ok(Err((n / 2) as u64)));
                assert_eq!(ParallelKernels.dequantize_leaves(&spec, &leaves[1..]), Err(BuildError::Shape));
                assert_eq!(Reference.dequantize_leaves(&spec, &leaves[1..]), Err(BuildError::Shape));

                // The clipping factor, for the spec's norm and for a tight one.
                assert_eq!(ParallelKernels.gradient_scale(&spec, &deq), Reference.gradient_scale(&spec, &deq));
                let mut tight = spec;
                tight.max_grad_norm = 1e-3f32.to_bits();
                let scale = ParallelKernels.gradient_scale(&tight, &deq);
                assert_eq!(scale, Reference.gradient_scale(&tight, &deq));
                assert!(scale.unwrap() < 1.0);
                let mut huge = deq.clone();
                huge[p / 2] = f32::MAX;
                huge[p - 1] = f32::MAX;
                assert_eq!(ParallelKernels.gradient_scale(&tight, &huge), Reference.gradient_scale(&tight, &huge));

                // The update: the same state, and the first error in leaf order.
                let scalars = r.records[0].scalars;
                let (mut w1, mut s1) = (r.weights.clone(), r.slots.clone());
                let (mut w2, mut s2) = (r.weights.clone(), r.slots.clone());
                Reference.apply(&spec, &scalars, &mut w1, &mut s1, &deq).unwrap();
                ParallelKernels.apply(&spec, &scalars, &mut w2, &mut s2, &deq).unwrap();
                assert_eq!(w1.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), w2.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
                assert_eq!(s1, s2);
                let mut bad = deq.clone();
                bad[p - 1] = f32::INFINITY;
                bad[p / 3] = f32::NAN;
                let nan_lr = StepScalars { learning_rate: f32::NAN.to_bits(), ..scalars };
                for (s, g) in [(scalars, &bad), (nan_lr, &deq)] {
                    let want = Reference.apply(&spec, &s, &mut w1.clone(), &mut s1.clone(), g);
                    assert!(matches!(want, Err(BuildError::Update(UpdateError::NonFinite { .. } | UpdateError::BadScalars))), "{want:?}");
                    assert_eq!(ParallelKernels.apply(&spec, &s, &mut w2.clone(), &mut s2.clone(), g), want);
                }
                assert_eq!(ParallelKernels.apply(&spec, &scalars, &mut w2, &mut s2, &deq[1..]), Err(BuildError::Shape));

                // The checkpoint: leaves and root; a state of the wrong size.
                let want = Reference.checkpoint(&spec, &w1, &s1).unwrap();
                let got = ParallelKernels.checkpoint(&spec, &w1, &s1).unwrap();
                assert_eq!((&got.0, got.1.root()), (&want.0, want.1.root()));
                assert_eq!(ParallelKernels.checkpoint(&spec, &w1[1..], &s1).err(), Reference.checkpoint(&spec, &w1[1..], &s1).err());
            });
        }
    }
}
