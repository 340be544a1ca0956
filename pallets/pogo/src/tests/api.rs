//! The runtime API functions report what storage holds, derived with the same primitives.

use super::helpers::*;
use crate::{mock::*, *};
use codec::Encode;
use frame_support::assert_ok;
use pogo_primitives::{
    seed::{round_seed, verifier_samples, verifier_seed},
    verdict::{NegativeReason, Verdict},
};
use polkadot_sdk::frame_support;

#[test]
fn task_and_submission_views() {
    test(|| {
        assert_eq!(Pogo::api_task(0), None);
        let (task, id, _b, c, _t) = submitted(None);
        let view = Pogo::api_task(task).unwrap();
        assert_eq!((view.state_root, view.pending, view.locator.as_slice()), (initial_root(), 1, &b"https://data.example/task"[..]));
        // the task was created in block 2, after the bonds of block 1
        assert_eq!(view.root_set_at, 2);
        assert_eq!(Pogo::api_task_ids(0, 10), vec![task]);
        assert_eq!(Pogo::api_state_root(task), Some(initial_root()));
        let s = Pogo::api_submission(id).unwrap();
        assert_eq!((s.miner, s.commitment, s.phase), (MINER, c, Phase::AwaitingChallenge));
        assert_eq!((s.challenge, s.escalation_challenge, s.level), (None, None, 0));
        assert_eq!(Pogo::api_pending_submissions(task).len(), 1);
        assert_eq!(Pogo::api_round_seed(task, MINER2), Some(round_seed(task, 0, &initial_root(), &MINER2.encode())));
        assert_eq!(Pogo::api_bond(MINER, Role::Miner).unwrap().at_risk, 2_000);
        assert!(Pogo::api_bond(MINER, Role::Miner).unwrap().bonded_at < view.root_set_at);
        assert!(Pogo::api_bond(MINER, Role::Verifier).is_none());
    });
}

#[test]
fn task_ids_page_through_live_tasks() {
    test(|| {
        for _ in 0..4 {
            create_task();
        }
        assert_ok!(Pogo::close_task(RuntimeOrigin::signed(OWNER), 1));
        assert_eq!(Pogo::api_task_ids(0, 10), vec![0, 2, 3]);
        // a page is `[start, start + limit)`: closed ids leave gaps, never shift the page
        assert_eq!(Pogo::api_task_ids(0, 2), vec![0]);
        assert_eq!(Pogo::api_task_ids(1, 2), vec![2]);
        assert_eq!(Pogo::api_task_ids(3, 10), vec![3]);
        assert_eq!(Pogo::api_task_ids(4, 10), Vec::<TaskId>::new());
        assert_eq!(Pogo::api_task_ids(0, 0), Vec::<TaskId>::new());
        // the limit is capped at MAX_API_PAGE and the end of the id range saturates
        assert_eq!(Pogo::api_task_ids(0, u32::MAX), vec![0, 2, 3]);
        assert_eq!(Pogo::api_task_ids(TaskId::MAX, u32::MAX), Vec::<TaskId>::new());
        NextTaskId::<Test>::put(5_000);
        assert_eq!(Pogo::api_task_ids(0, u32::MAX).len(), 3);
        assert_eq!(Pogo::api_task_ids(1_000, u32::MAX), Vec::<TaskId>::new());
        assert_eq!(MAX_API_PAGE, 1_000);
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
        assert_eq!(duty.challenge, challenge);
        assert_eq!(duty.verifier_seed, seed);
        assert_eq!(duty.samples, verifier_samples(&seed, &params().samples, 6, 3, 20));
        assert_eq!((duty.level, duty.committed, duty.revealed), (0, false, false));
        assert!(duty.disputed_steps.is_empty());
        assert!(Pogo::api_verifier_duty(id, MINER).is_none(), "the miner is never assigned");
    });
}

#[test]
fn an_escalation_verifier_duty_uses_the_level_one_challenge_and_the_disputed_steps() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        let bad_step = Some(Verdict::Negative(NegativeReason::BadGradient { step: 4 }));
        vote_and_tally(id, &[Some(Verdict::Positive), Some(Verdict::Positive), bad_step]);
        // escalated: the level-1 set is not drawn until the randomness of two epochs later exists
        let s = Pogo::api_submission(id).unwrap();
        assert_eq!((s.level, s.phase, s.escalation_challenge), (1, Phase::AwaitingChallenge, None));
        assert_eq!(s.disputed_steps, vec![4]);
        fix_challenge(id);
        let s = Pogo::api_submission(id).unwrap();
        let escalation = s.escalation_challenge.expect("level-1 challenge fixed");
        let level0 = s.challenge.unwrap();
        assert_ne!(escalation, level0);
        assert_eq!(s.assigned.iter().filter(|(_, _, level)| *level == 1).count(), 4);

        let v = assigned(id)[0];
        assert!(!first.contains(&v));
        let duty = Pogo::api_verifier_duty(id, v).unwrap();
        let seed = verifier_seed(&escalation, &v.encode());
        assert_eq!((duty.challenge, duty.verifier_seed, duty.level), (escalation, seed, 1));
        assert_eq!(duty.samples, verifier_samples(&seed, &params().samples, 6, 3, 20));
        assert_eq!(duty.disputed_steps, vec![4]);
        // a level-0 verifier's duty still uses the level-0 challenge, and it committed and revealed
        let duty = Pogo::api_verifier_duty(id, first[0]).unwrap();
        assert_eq!((duty.challenge, duty.level, duty.committed, duty.revealed), (level0, 0, true, true));
        assert!(duty.disputed_steps.is_empty());
    });
}

#[test]
fn the_verdict_commitment_api_gives_what_reveal_verdict_accepts() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let who = assigned(id);
        assert_eq!(who.len(), 3);
        let bad_step = Verdict::Negative(NegativeReason::BadGradient { step: 4 });
        let votes = [(who[0], Verdict::Positive, [7u8; 32]), (who[1], bad_step, [8; 32]), (who[2], Verdict::Positive, [9; 32])];
        // What a polkadot.js user does: ask the runtime API for the commitment, post it.
        for (v, verdict, salt) in votes {
            let c = Pogo::api_verdict_commitment(id, v, verdict, salt);
            // protocol section 12, with the account as its SCALE bytes
            assert_eq!(c, pogo_primitives::verdict::verdict_commitment(id, &v.encode(), &verdict, &salt));
            assert_ok!(Pogo::commit_verdict(RuntimeOrigin::signed(v), id, c));
            assert_eq!(Attestations::<Test>::get(id, v).unwrap().commitment, c);
        }
        // every assigned verifier committed: the reveal opens at once
        assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
        assert!(matches!(Pogo::api_submission(id).unwrap().phase, Phase::Revealing(_)));

        // Each input changes the hash: another salt, verdict, reason, step, verifier or submission.
        let (v, verdict, salt) = votes[0];
        let c = Pogo::api_verdict_commitment(id, v, verdict, salt);
        assert_ne!(c, Pogo::api_verdict_commitment(id, v, verdict, [6; 32]));
        assert_ne!(c, Pogo::api_verdict_commitment(id, v, bad_step, salt));
        assert_ne!(c, Pogo::api_verdict_commitment(id, v, Verdict::Negative(NegativeReason::NoProgress), salt));
        assert_ne!(
            Pogo::api_verdict_commitment(id, v, bad_step, salt),
            Pogo::api_verdict_commitment(id, v, Verdict::Negative(NegativeReason::BadGradient { step: 3 }), salt)
        );
        assert_ne!(c, Pogo::api_verdict_commitment(id, who[1], verdict, salt));
        assert_ne!(c, Pogo::api_verdict_commitment(id.wrapping_add(1), v, verdict, salt));
        // ... and the chain refuses a reveal with another salt or verdict than the committed ones
        frame_support::assert_noop!(
            Pogo::reveal_verdict(RuntimeOrigin::signed(v), id, verdict, [6; 32]),
            Error::<Test>::RevealMismatch
        );
        frame_support::assert_noop!(
            Pogo::reveal_verdict(RuntimeOrigin::signed(v), id, bad_step, salt),
            Error::<Test>::RevealMismatch
        );

        // The reveal of exactly what was committed is accepted.
        for (v, verdict, salt) in votes {
            assert_ok!(Pogo::reveal_verdict(RuntimeOrigin::signed(v), id, verdict, salt));
            assert_eq!(Attestations::<Test>::get(id, v).unwrap().revealed, Some(verdict));
            assert!(pogo_events().contains(&Event::VerdictRevealed { submission: id, verifier: v, verdict }));
            assert!(Pogo::api_verifier_duty(id, v).unwrap().revealed);
        }
    });
}
