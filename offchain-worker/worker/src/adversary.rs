//! Adversary modes (`--adversary MODE`), never on by default: the ways to cheat we can name, run for real
//! against the chain so the tests can show that each loses money. A miner or verifier without
//! `--adversary` is honest.

use std::{fmt, str::FromStr};

/// How a cheating miner fakes a step's gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeGradient {
    /// Uniform noise scaled to the honest gradient's largest value: what a cheater who skips the
    /// backward pass commits. (This worker computes the honest gradient only to scale the noise as a
    /// careful cheater would estimate it.)
    Random,
    /// All zeros.
    Zero,
    /// The previous step's gradient again.
    Stale,
    /// The honest gradient times 1.5.
    Rescaled,
}

/// A cheating miner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MinerAdversary {
    /// Fakes a fraction of the round's steps (`fake-steps:FRACTION:KIND`, e.g. `fake-steps:0.5:zero`).
    FakeSteps {
        /// Fraction of the steps, in (0, 1].
        fraction: f64,
        /// How.
        kind: FakeGradient,
    },
    /// Trains on batches other than the seeded ones (`wrong-batches`).
    WrongBatches,
    /// Commits a final root not derived from its gradients (`forged-final-root`): the weights are
    /// changed before the last step, so the last checkpoint is not the replay of the committed gradients.
    ForgedFinalRoot,
    /// Submits a locator where nothing is served (`withhold`).
    Withhold,
    /// Claims an eval loss after the round it did not reach (`false-loss`: half the measured one).
    FalseLoss,
    /// Trains nothing: copies another miner's pending round on the same base root and submits its
    /// commitment under its own name (`copy-commitment`, or `copy-commitment:TASK` to copy from another
    /// task with the same terms). See `roles::miner::copy`.
    CopyCommitment {
        /// The task copied from (`None`: the copier's own).
        from_task: Option<u32>,
    },
}

/// A cheating verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifierAdversary {
    /// Attests `Positive` without checking anything (`lazy`).
    Lazy,
    /// Attests `Negative(InconsistentUpdate)` whatever it finds (`grief`).
    Grief,
    /// Never commits (`silent`).
    Silent,
    /// Checks honestly, commits, but reveals only a `Positive` verdict (`selective`).
    Selective,
}

/// A mode that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("unknown adversary mode {0:?}; see `--help`")]
pub struct UnknownMode(String);

impl FromStr for MinerAdversary {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        let bad = || UnknownMode(s.to_owned());
        let mut parts = s.split(':');
        match parts.next() {
            Some("fake-steps") => {
                let fraction: f64 = parts.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
                if !(fraction > 0.0 && fraction <= 1.0) {
                    return Err(bad());
                }
                let kind = match parts.next().unwrap_or("random") {
                    "random" => FakeGradient::Random,
                    "zero" => FakeGradient::Zero,
                    "stale" => FakeGradient::Stale,
                    "rescaled" => FakeGradient::Rescaled,
                    _ => return Err(bad()),
                };
                Ok(MinerAdversary::FakeSteps { fraction, kind })
            },
            Some("wrong-batches") => Ok(MinerAdversary::WrongBatches),
            Some("forged-final-root") => Ok(MinerAdversary::ForgedFinalRoot),
            Some("withhold") => Ok(MinerAdversary::Withhold),
            Some("false-loss") => Ok(MinerAdversary::FalseLoss),
            Some("copy-commitment") => match parts.next() {
                None => Ok(MinerAdversary::CopyCommitment { from_task: None }),
                Some(t) => Ok(MinerAdversary::CopyCommitment { from_task: Some(t.parse().map_err(|_| bad())?) }),
            },
            _ => Err(bad()),
        }
    }
}

impl FromStr for VerifierAdversary {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        match s {
            "lazy" => Ok(VerifierAdversary::Lazy),
            "grief" => Ok(VerifierAdversary::Grief),
            "silent" => Ok(VerifierAdversary::Silent),
            "selective" => Ok(VerifierAdversary::Selective),
            _ => Err(UnknownMode(s.to_owned())),
        }
    }
}

impl fmt::Display for MinerAdversary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinerAdversary::FakeSteps { fraction, kind } => {
                let kind = match kind {
                    FakeGradient::Random => "random",
                    FakeGradient::Zero => "zero",
                    FakeGradient::Stale => "stale",
                    FakeGradient::Rescaled => "rescaled",
                };
                write!(f, "fake-steps:{fraction}:{kind}")
            },
            MinerAdversary::WrongBatches => f.write_str("wrong-batches"),
            MinerAdversary::ForgedFinalRoot => f.write_str("forged-final-root"),
            MinerAdversary::Withhold => f.write_str("withhold"),
            MinerAdversary::FalseLoss => f.write_str("false-loss"),
            MinerAdversary::CopyCommitment { from_task: None } => f.write_str("copy-commitment"),
            MinerAdversary::CopyCommitment { from_task: Some(t) } => write!(f, "copy-commitment:{t}"),
        }
    }
}

impl fmt::Display for VerifierAdversary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifierAdversary::Lazy => "lazy",
            VerifierAdversary::Grief => "grief",
            VerifierAdversary::Silent => "silent",
            VerifierAdversary::Selective => "selective",
        })
    }
}

impl MinerAdversary {
    /// Which of a round's `steps` are faked (`FakeSteps`): `round(fraction · steps)` of them, at least one,
    /// spread evenly and shifted by `salt` so rounds differ.
    pub fn faked_steps(&self, steps: u32, salt: u64) -> Vec<u32> {
        let MinerAdversary::FakeSteps { fraction, .. } = *self else { return Vec::new() };
        let count = ((fraction * f64::from(steps)).round() as u32).clamp(1, steps.max(1));
        let shift = u32::try_from(salt % u64::from(steps.max(1))).unwrap_or(0);
        let mut out: Vec<u32> = (0..count)
            .map(|i| (u64::from(i) * u64::from(steps) / u64::from(count)) as u32)
            .map(|s| (s + shift) % steps.max(1))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A small deterministic generator (SplitMix64) for fake gradients: the cheater's noise, not the
/// protocol's randomness.
pub struct Noise(u64);

impl Noise {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value, uniform in [-1, 1).
    pub fn next_signed(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print_back() {
        for text in ["fake-steps:0.5:zero", "fake-steps:1:random", "wrong-batches", "forged-final-root", "withhold", "false-loss"] {
            let mode: MinerAdversary = text.parse().unwrap();
            let back: MinerAdversary = mode.to_string().parse().unwrap();
            assert_eq!(back, mode);
        }
        for text in ["lazy", "grief", "silent", "selective"] {
            assert_eq!(text.parse::<VerifierAdversary>().unwrap().to_string(), text);
        }
        assert!("fake-steps:0:zero".parse::<MinerAdversary>().is_err());
        assert!("fake-steps:0.5:odd".parse::<MinerAdversary>().is_err());
        assert!("honest".parse::<VerifierAdversary>().is_err());
    }

    #[test]
    fn the_faked_fraction_is_kept() {
        let mode = MinerAdversary::FakeSteps { fraction: 0.25, kind: FakeGradient::Zero };
        assert_eq!(mode.faked_steps(20, 0).len(), 5);
        assert_eq!(mode.faked_steps(20, 3).len(), 5);
        assert_eq!(mode.faked_steps(4, 0).len(), 1);
        let all = MinerAdversary::FakeSteps { fraction: 1.0, kind: FakeGradient::Zero };
        assert_eq!(all.faked_steps(10, 7), (0..10).collect::<Vec<_>>());
        let mut n = Noise::new(1);
        assert!((0..1000).map(|_| n.next_signed()).all(|v| (-1.0..1.0).contains(&v)));
    }
}
