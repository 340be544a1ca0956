//! Phase `Settle` (runs beside the others, once a block): follows every submitted round through the
//! pallet's phases — awaiting the challenge, committing, revealing, accepted (fraud window), gone — and
//! calls `advance` for one that is overdue (the chain's `on_idle` normally moves them; `advance` is the
//! fallback anyone may call). A round that disappears before acceptance was rejected, stale or expired;
//! one that disappears after it was finalized (paid) or overturned by a fraud proof.

use super::{journal::Journal, MinerEvent};
use pogo_primitives::views::Phase;

/// What happened to one pending round this block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Still where it was.
    Unchanged,
    /// Entered a new phase.
    Moved(Phase<u32>),
    /// Past its phase's deadline: worth an `advance` call.
    Overdue,
    /// No longer on chain.
    Gone,
}

/// Whether `phase` is past its deadline at block `now` (`AwaitingChallenge` has none the miner can see).
pub fn overdue(phase: &Phase<u32>, now: u32) -> bool {
    match *phase {
        Phase::AwaitingChallenge => false,
        Phase::Committing(end) | Phase::Revealing(end) => now > end.saturating_add(1),
        Phase::Accepted(final_at) => now > final_at.saturating_add(1),
        Phase::Voided => true,
    }
}

/// Applies an observation of submission `id` to the journal; returns the event to show, if any.
pub fn apply(journal: &mut Journal, id: u64, seen: Option<Phase<u32>>) -> Option<MinerEvent> {
    let index = journal.pending.iter().position(|p| p.submission == id)?;
    match seen {
        Some(phase) => {
            let entry = journal.pending.get_mut(index)?;
            if matches!(phase, Phase::Accepted(_)) && !entry.accepted {
                entry.accepted = true;
                journal.accepted = journal.accepted.saturating_add(1);
                return Some(MinerEvent::Accepted { submission: id, final_root: entry.built.final_root });
            }
            None
        },
        None => {
            let entry = journal.pending.remove(index);
            if entry.accepted {
                journal.finalized = journal.finalized.saturating_add(1);
                Some(MinerEvent::Settled { submission: id, accepted: true })
            } else {
                journal.not_accepted = journal.not_accepted.saturating_add(1);
                Some(MinerEvent::Settled { submission: id, accepted: false })
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::miner::journal::{BuiltRound, PendingRound};

    fn journal() -> Journal {
        let built = BuiltRound { round: 0, base_root: [1; 32], round_seed: [2; 32], trace_root: [3; 32], final_root: [4; 32] };
        Journal { pending: vec![PendingRound { submission: 5, built, accepted: false }], submitted: 1, ..Journal::default() }
    }

    #[test]
    fn accepted_then_gone_counts_as_finalized() {
        let mut j = journal();
        assert_eq!(apply(&mut j, 5, Some(Phase::Committing(10))), None);
        assert!(matches!(apply(&mut j, 5, Some(Phase::Accepted(30))), Some(MinerEvent::Accepted { submission: 5, .. })));
        assert_eq!(apply(&mut j, 5, Some(Phase::Accepted(30))), None, "counted once");
        assert!(matches!(apply(&mut j, 5, None), Some(MinerEvent::Settled { accepted: true, .. })));
        assert_eq!((j.accepted, j.finalized, j.not_accepted, j.pending.len()), (1, 1, 0, 0));
    }

    #[test]
    fn gone_before_acceptance_counts_as_not_accepted() {
        let mut j = journal();
        assert!(matches!(apply(&mut j, 5, None), Some(MinerEvent::Settled { accepted: false, .. })));
        assert_eq!((j.accepted, j.not_accepted), (0, 1));
        assert_eq!(apply(&mut j, 99, None), None, "unknown submissions are ignored");
    }

    #[test]
    fn deadlines() {
        assert!(!overdue(&Phase::AwaitingChallenge, 1_000));
        assert!(!overdue(&Phase::Committing(10), 11));
        assert!(overdue(&Phase::Committing(10), 12));
        assert!(overdue(&Phase::Voided, 0));
    }
}
