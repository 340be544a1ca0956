//! `advance` and `report_fraud` declare their worst case and refund down to what they did.

use super::helpers::*;
use crate::{mock::*, weights::WeightInfo, *};
use frame_support::{
    assert_ok,
    dispatch::{Pays, PostDispatchInfo},
    traits::Get,
    weights::Weight,
};
use pogo_primitives::verdict::Verdict;
use polkadot_sdk::frame_support;

type W = <Test as Config>::WeightInfo;

/// The weight `advance` reported for this call.
fn advanced(id: SubmissionId) -> Weight {
    let info: PostDispatchInfo = Pogo::advance(RuntimeOrigin::signed(REPORTER), id).expect("advance succeeds");
    info.actual_weight.expect("advance reports its actual weight")
}

/// What a tally-like step of a submission with `a` assigned verifiers charges: the heavier of accepting
/// and rejecting (other rounds of the task do not matter: stale ones are removed by their own advance).
fn tally(a: u32, _others: u32) -> Weight {
    W::advance_tally(a).max(W::advance_reject(a))
}

#[test]
fn advance_charges_the_branch_it_took_never_more_than_declared() {
    test(|| {
        let declared = Pogo::advance_worst_case_weight();
        let (task, id, _b, _c, _t) = submitted(None);
        let snapshot = u32::try_from(Snapshots::<Test>::get(id).unwrap_or_default().len()).unwrap();
        assert!(snapshot > 0);

        MockRelay::advance_epochs(2);
        next_block();
        let challenge = advanced(id);
        assert_eq!(challenge, W::advance_challenge(snapshot));
        assert!(declared.all_gte(challenge));

        let who = assigned(id);
        let a = u32::try_from(who.len()).unwrap();
        for w in &who {
            assert_ok!(Pogo::commit_verdict(RuntimeOrigin::signed(*w), id, commitment_of(id, *w, &Verdict::Positive)));
        }
        assert_eq!(advanced(id), tally(a, 0), "opening the reveal");
        for w in &who {
            assert_ok!(Pogo::reveal_verdict(RuntimeOrigin::signed(*w), id, Verdict::Positive, salt(*w)));
        }
        let decided = advanced(id);
        assert_eq!(decided, tally(a, 0), "the tally");
        assert!(declared.all_gte(decided));
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));

        run_to_block(System::block_number() + <<Test as Config>::FraudWindow as Get<u64>>::get());
        let finalize = advanced(id);
        // finalizing settles every assigned verifier
        assert_eq!(finalize, W::advance_finalize(a));
        assert!(declared.all_gte(finalize));
        assert_eq!(Pogo::api_pending_submissions(task).len(), 0);
    });
}

#[test]
fn an_escalation_charges_the_tally_and_then_a_second_challenge() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        // another round on the same base: it changes nothing in the price of the tally
        let (_b2, c2, _t2) = first_round(1, None);
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER2), task, c2, locator()));
        fix_challenge(id);
        let snapshot = u32::try_from(Snapshots::<Test>::get(id).unwrap().len()).unwrap();
        // nobody commits: the reveal opens after the commit window, then the empty tally escalates
        let Phase::Committing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!("not committing") };
        run_to_block(until + 1);
        assert_eq!(advanced(id), tally(3, 1), "opening the reveal");
        assert_eq!(advanced(id), tally(3, 1), "the tally that escalates");
        assert_eq!(Submissions::<Test>::get(id).unwrap().level, 1);
        MockRelay::advance_epochs(2);
        next_block();
        assert_eq!(advanced(id), W::advance_challenge(snapshot), "the level-1 draw");
        assert_eq!(Submissions::<Test>::get(id).unwrap().assigned.len(), 7);
    });
}

#[test]
fn report_fraud_charges_its_task_and_no_fee() {
    test(|| {
        let declared = Pogo::report_fraud_worst_case_weight();
        let max_interval: u32 = <Test as Config>::MaxCheckpointInterval::get();
        let max_pending: u32 = <Test as Config>::MaxPendingPerTask::get();
        assert_eq!(declared, W::report_fraud(max_interval, max_pending - 1));
        // parameter 300 (leaf 1) altered after step 4: segment 1
        let (task, id, b, _c, trace) = submitted(Some((4, 300)));
        let (_b2, c2, _t2) = first_round(1, None);
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER2), task, c2, locator()));
        let info = Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 1, 1).unwrap()))
            .expect("the proof shows fraud");
        // the task's checkpoint interval (3) and its one other pending round
        assert_eq!(info.actual_weight, Some(W::report_fraud(3, 1)));
        assert!(declared.all_gte(W::report_fraud(3, 1)));
        assert_eq!(info.pays_fee, Pays::No);
    });
}
