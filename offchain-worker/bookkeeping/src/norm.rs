//! The clipping norm's per-leaf square sums (protocol section 7, `update::leaf_square_sum`) of several
//! leaves at once.
//!
//! A leaf's sum is one chain of f64 additions in parameter order, fixed by the protocol, so one leaf
//! cannot be summed faster than one addition per f64-add latency (about 3 to 4 cycles). Different
//! leaves' chains are independent, though: here [`SUM_LANES`] leaves advance side by side, one value of
//! each per iteration, each lane doing exactly its leaf's operations in its leaf's order, so every sum is
//! bit for bit `leaf_square_sum` and the core's adders stay busy.

use pogo_primitives::update::leaf_square_sum;

/// Leaves summed side by side.
pub const SUM_LANES: usize = 8;

/// `update::leaf_square_sum` of each of `leaves`, in order, bit for bit; runs of [`SUM_LANES`] leaves of
/// one length are summed interleaved.
pub fn leaf_square_sums(leaves: &[&[f32]]) -> Vec<f64> {
    let mut out = Vec::with_capacity(leaves.len());
    let mut rest = leaves;
    while let Some(first) = rest.first() {
        match rest.get(..SUM_LANES).and_then(|run| <&[&[f32]; SUM_LANES]>::try_from(run).ok()) {
            Some(run) if run.iter().all(|l| l.len() == first.len()) => {
                out.extend(interleaved(run));
                rest = rest.get(SUM_LANES..).unwrap_or(&[]);
            },
            _ => {
                out.push(leaf_square_sum(first));
                rest = rest.get(1..).unwrap_or(&[]);
            },
        }
    }
    out
}

/// The sums of [`SUM_LANES`] leaves of one length, their chains interleaved.
fn interleaved(leaves: &[&[f32]; SUM_LANES]) -> [f64; SUM_LANES] {
    let len = leaves[0].len();
    let mut acc = [0.0f64; SUM_LANES];
    for i in 0..len {
        for (a, leaf) in acc.iter_mut().zip(leaves) {
            let g = f64::from(leaf.get(i).copied().unwrap_or(0.0));
            *a += g * g;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_leaf_square_sums() {
        // Values whose sums depend on the order (large and tiny magnitudes), leaves of mixed lengths.
        let values: Vec<f32> = (0..200_000u32).map(|i| if i % 97 == 0 { 3.0e18 } else { (i % 1013) as f32 * 1.0e-7 - 5.0e-5 }).collect();
        for lens in [vec![4096usize; 19], vec![4096, 4096, 100, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 7], vec![1; 9], vec![]] {
            let mut leaves = Vec::new();
            let mut at = 0;
            for len in lens {
                leaves.push(&values[at..at + len]);
                at += len;
            }
            let want: Vec<u64> = leaves.iter().map(|l| leaf_square_sum(l).to_bits()).collect();
            let got: Vec<u64> = leaf_square_sums(&leaves).iter().map(|s| s.to_bits()).collect();
            assert_eq!(got, want);
        }
    }
}
