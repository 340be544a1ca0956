//! The runtime API functions report what storage holds, derived with the same primitives.

use super::helpers::*;
use crate::{mock::*, *};
use codec::Encode;
use pogo_primitives::seed::{round_seed, verifier_samples, verifier_seed};

#[test]
fn task_and_submission_views() {
    test(|| {
        assert_eq!(Pogo::api_task(0), None);
        let (task, id, _b, c, _t) = submitted(None);
        let view = Pogo::api_task(task).unwrap();
        assert_eq!((view.state_root, view.pending, view.locator.as_slice()), (initial_root(), 1, &b"https://data.example/task"[..]));
        assert_eq!(Pogo::api_task_ids(), vec![task]);
        assert_eq!(Pogo::api_state_root(task), Some(initial_root()));
        let s = Pogo::api_submission(id).unwrap();
        assert_eq!((s.miner, s.commitment, s.phase), (MINER, c, Phase::AwaitingChallenge));
        assert_eq!(Pogo::api_pending_submissions(task).len(), 1);
        assert_eq!(Pogo::api_round_seed(task, MINER2), Some(round_seed(task, 0, &initial_root(), &MINER2.encode())));
        assert_eq!(Pogo::api_bond(MINER, Role::Miner).unwrap().at_risk, 2_000);
        assert!(Pogo::api_bond(MINER, Role::Verifier).is_none());
    });
}

#[test]
fn verifier_duty_follows_the_challenge() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        assert!(Pogo::api_verifier_duty(id, VERIFIERS[0]).is_none(), "no challenge yet");
        fix_challenge(id);
        let v = assigned(id)[0];
        let duty = Pogo::api_verifier_duty(id, v).unwrap();
        let challenge = Submissions::<Test>::get(id).unwrap().challenge.unwrap();
        let seed = verifier_seed(&challenge, &v.encode());
        assert_eq!(duty.verifier_seed, seed);
        assert_eq!(duty.samples, verifier_samples(&seed, &params().samples, 6, 3, 20));
        assert_eq!((duty.level, duty.committed, duty.revealed), (0, false, false));
        assert!(Pogo::api_verifier_duty(id, MINER).is_none(), "the miner is never assigned");
    });
}
