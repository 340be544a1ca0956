//! Phase `Sync`: read the task from the chain and decide what to do next. The decision is a pure
//! function of the chain's view and the journal ([`decide`]), so it is tested without a chain.

use super::journal::Journal;
use pogo_primitives::{views::TaskStatus, Hash};

/// What the chain says about the task, as the miner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    /// The current (possibly provisional) state root.
    pub state_root: Hash,
    /// The round the next submission is for.
    pub round: u32,
    /// Optimizer steps accepted so far.
    pub steps_done: u64,
    /// Active or paused.
    pub status: TaskStatus,
    /// Where the current state is served.
    pub model_locator: Vec<u8>,
}

/// The next phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Submit the round the journal holds.
    Submit,
    /// Build a new round on the task's root.
    Build,
    /// Wait a block: the task is paused, or an undecided round of ours builds on the current root.
    Wait(&'static str),
    /// Stop: the number of rounds asked for has been submitted and every one is final or gone.
    Done,
}

/// The next phase, from the chain's view of the task and the journal.
pub fn decide(task: &TaskState, journal: &Journal, max_rounds: Option<u64>) -> Next {
    if let Some(max) = max_rounds {
        if journal.submitted >= max && journal.built.is_none() {
            // Done only when every round is final (paid) or gone: an accepted round can still be
            // overturned in its fraud window, and its states must stay served (the DA server) until then.
            return if journal.pending.is_empty() { Next::Done } else { Next::Wait("settling") };
        }
    }
    if let Some(built) = &journal.built {
        if built.base_root == task.state_root && built.round == task.round && task.status == TaskStatus::Active {
            return Next::Submit;
        }
    }
    if task.status != TaskStatus::Active {
        return Next::Wait("task paused");
    }
    if journal.undecided_on(&task.state_root) {
        return Next::Wait("our round on this root is undecided");
    }
    Next::Build
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::miner::journal::{BuiltRound, PendingRound};

    fn task(root: u8, round: u32) -> TaskState {
        TaskState { state_root: [root; 32], round, steps_done: 0, status: TaskStatus::Active, model_locator: vec![] }
    }

    fn built(base: u8, round: u32) -> BuiltRound {
        BuiltRound { round, base_root: [base; 32], round_seed: [9; 32], trace_root: [8; 32], final_root: [7; 32] }
    }

    #[test]
    fn a_built_round_is_submitted_only_on_its_own_base() {
        let mut j = Journal { built: Some(built(1, 0)), ..Journal::default() };
        assert_eq!(decide(&task(1, 0), &j, None), Next::Submit);
        // the task moved on (another miner won): the stored round is stale, build on the new root
        assert_eq!(decide(&task(2, 1), &j, None), Next::Build);
        j.built = None;
        assert_eq!(decide(&task(1, 0), &j, None), Next::Build);
    }

    #[test]
    fn an_undecided_round_blocks_its_base_but_an_accepted_one_does_not() {
        let mut j = Journal::default();
        j.pending.push(PendingRound { submission: 0, built: built(1, 0), accepted: false });
        assert_eq!(decide(&task(1, 0), &j, None), Next::Wait("our round on this root is undecided"));
        j.pending[0].accepted = true;
        // accepted: the task's root is now the round's final root and the next round builds on it
        assert_eq!(decide(&task(7, 1), &j, None), Next::Build);
    }

    #[test]
    fn paused_tasks_wait_and_max_rounds_stops() {
        let mut t = task(1, 0);
        t.status = TaskStatus::Paused;
        assert_eq!(decide(&t, &Journal::default(), None), Next::Wait("task paused"));
        let mut j = Journal { submitted: 2, ..Journal::default() };
        assert_eq!(decide(&task(1, 0), &j, Some(2)), Next::Done);
        // an accepted round in its fraud window keeps the miner (and its DA server) up
        j.pending.push(PendingRound { submission: 1, built: built(1, 1), accepted: true });
        assert_eq!(decide(&task(7, 2), &j, Some(2)), Next::Wait("settling"));
        j.pending.clear();
        assert_eq!(decide(&task(1, 0), &j, Some(3)), Next::Build);
    }
}
