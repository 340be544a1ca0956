//! Part `assign`: stake-weighted verifier assignment for several stake sets.

use super::{
    json::{as_u128, get_array, get_hash, get_u8, get_usize, hex, u128v, SplitMix},
    Cases,
};
use crate::{assign::assign, hash::Hash};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Verifier assignment (protocol.md section 10, assign.rs): successive \
sampling without replacement on the stream H_assign(challenge_seed || level), each draw u = \
below_u128(remaining total stake) picking the candidate whose running-sum interval contains u. Kind \
assign: input challenge_seed, level, stakes (u128 decimal strings, in canonical candidate order) and k; \
expected picked (candidate indices in draw order).";

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let mut add = |name: &str, seed: Hash, level: u8, stakes: &[u128], k: usize| {
        let stakes: Vec<Value> = stakes.iter().map(|s| u128v(*s)).collect();
        out.add(name, "assign", json!({ "challenge_seed": hex(&seed), "level": level, "stakes": stakes, "k": k }));
    };
    let mut rng = SplitMix::new(0x6173_7369_676e);
    let equal = [5u128; 8];
    add("eight equal stakes, k 4, level 0", [9; 32], 0, &equal, 4);
    add("eight equal stakes, k 4, level 1", [9; 32], 1, &equal, 4);
    let unequal = [100u128, 50, 25, 15, 10, 0];
    for i in 0..3 {
        add(&format!("stakes 100 50 25 15 10 0, k 3, seed {i}"), rng.hash32(), 0, &unequal, 3);
    }
    add("only candidate 1 has stake", [9; 32], 0, &[0, 3, 0], 5);
    add("no candidates", [9; 32], 0, &[], 5);
    add("all stakes zero", [9; 32], 0, &[0, 0, 0], 2);
    add("k 0", [9; 32], 0, &[1, 2, 3], 0);
    add("k above the candidate count", [9; 32], 0, &[1, 2, 3], 10);
    add("one candidate", [9; 32], 0, &[7], 1);
    add("stakes near u128::MAX / 2", [1; 32], 0, &[u128::MAX / 2, u128::MAX / 2, 1], 3);
    add("one huge stake and four of 1", [1; 32], 0, &[u128::MAX / 2, 1, 1, 1, 1], 3);
    let random: Vec<u128> = (0..20).map(|_| u128::from(rng.next_u64() >> 20)).collect();
    add("20 random stakes, k 7", rng.hash32(), 0, &random, 7);
    add("20 random stakes, k 20", rng.hash32(), 3, &random, 20);
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "assign" => {
            let stakes = get_array(input, "stakes")?.iter().map(as_u128).collect::<Result<Vec<u128>, String>>()?;
            let picked =
                assign(&get_hash(input, "challenge_seed")?, get_u8(input, "level")?, &stakes, get_usize(input, "k")?);
            Ok(json!({ "picked": picked }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
