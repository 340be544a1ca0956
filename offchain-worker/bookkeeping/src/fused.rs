//! The update rules as one fused, in-place pass per leaf, operation for operation those of
//! `pogo_primitives::update` (the same IEEE binary32 operations in the same order: Rust never contracts
//! `a * b + c`, and `f32::sqrt` is the correctly rounded square root, as `libm::sqrtf`). The reference
//! copies the leaf twice and stops at the first non-finite value; here every value is computed in place
//! in one vectorizable loop and finiteness is checked once at the end, so a refused step leaves the leaf
//! partly updated (the caller drops the round, as after a refused step of `RoundBuilder`).

use crate::PreparedScalars;
use pogo_primitives::{
    spec::{StepScalars, UpdateRule},
    update::UpdateError,
};

/// Applies one step to a leaf given as its weights and slots (`parts`: `1 + slots` slices of
/// `deq.len()` values each). Returns the reference's error: `WrongLeafShape`, `BadScalars`, or
/// `NonFinite` at the first parameter where a stored value is not finite.
pub fn apply_in_place(rule: &UpdateRule, scalars: &StepScalars, parts: &mut [&mut [f32]], deq: &[f32]) -> Result<(), UpdateError> {
    let n = deq.len();
    if parts.len() != rule.slots().saturating_add(1) || parts.iter().any(|p| p.len() != n) {
        return Err(UpdateError::WrongLeafShape);
    }
    let p = PreparedScalars::new(rule, scalars)?;
    let finite = update_on(crate::codec::Simd::best(), &p, parts, deq)
    .ok_or(UpdateError::WrongLeafShape)?;
    if finite {
        return Ok(());
    }
    let first = (0..n).find(|&i| parts.iter().any(|p| p.get(i).is_some_and(|x| !x.is_finite()))).unwrap_or(0);
    Err(UpdateError::NonFinite { index: u32::try_from(first).unwrap_or(u32::MAX) })
}

crate::codec::simd_dispatch! {
    /// [`update_body`] on a chosen path.
    fn update_on(p: &PreparedScalars, parts: &mut [&mut [f32]], deq: &[f32]) -> Option<bool> = update_body
}

/// The update of one leaf in place; whether every stored value is finite (`None`: not 1 to 3 parts). The
/// same code is compiled for the baseline, AVX2 and AVX-512F (chosen at run time): the same IEEE
/// operations in the same order on every path, wider vectors only.
#[inline(always)]
fn update_body(p: &PreparedScalars, parts: &mut [&mut [f32]], deq: &[f32]) -> Option<bool> {
    Some(match parts {
        [w] => {
            let (gs, lr, wd) = (p.gs, p.lr, p.wd);
            let mut ok = true;
            for (w, d) in w.iter_mut().zip(deq) {
                let g = *d * gs;
                let g2 = g + wd * *w;
                *w -= lr * g2;
                ok &= w.is_finite();
            }
            ok
        },
        [w, b] => {
            let (gs, lr, wd, mu) = (p.gs, p.lr, p.wd, p.mu);
            let mut ok = true;
            for ((w, b), d) in w.iter_mut().zip(b.iter_mut()).zip(deq) {
                let g = *d * gs;
                let g2 = g + wd * *w;
                *b = mu * *b + g2;
                *w -= lr * *b;
                ok &= b.is_finite() & w.is_finite();
            }
            ok
        },
        [w, m, v] => {
            let mut ok = true;
            for (((w, m), v), d) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(deq) {
                let g = *d * p.gs;
                let w1 = *w * p.decay;
                *m = p.b1 * *m + p.omb1 * g;
                *v = p.b2 * *v + p.omb2 * (g * g);
                let denom = (*v * p.bc2).sqrt() + p.eps;
                *w = w1 - (p.lr * (*m * p.bc1)) / denom;
                ok &= m.is_finite() & v.is_finite() & w.is_finite();
            }
            ok
        },
        _ => return None,
    })
}
