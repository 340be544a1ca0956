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
        // the longest replay (see `report_fraud_weight`) and its one other pending round
        assert_eq!(info.actual_weight, Some(W::report_fraud(max_interval, 1)));
        assert!(declared.all_gte(W::report_fraud(max_interval, 1)));
        assert_eq!(info.pays_fee, Pays::No);
    });
}

/// Runs `call` on a trie-backed state (everything before it committed to the backend) and returns the
/// size of the storage proof it produced: the proof of validity the call really needs.
fn measured_proof_size(ext: &mut polkadot_sdk::sp_io::TestExternalities, call: impl FnOnce()) -> u64 {
    use codec::Encode;
    // A new block: the events of the set-up are gone (appending to them would read them all).
    ext.execute_with(System::reset_events);
    ext.commit_all().expect("committed to the backend");
    let (_, proof) = ext.execute_and_prove(call);
    proof.encoded_size() as u64
}

/// The proof `submit_round` needs with `dust` verifier ledgers below `MinVerifierBond` (outside the
/// registry) next to the registered verifiers.
fn submit_round_proof_with_dust_ledgers(dust: u64) -> u64 {
    let mut ext = new_test_ext();
    let (task, c) = ext.execute_with(|| {
        use frame_support::traits::fungible::Mutate;
        for who in 1_000..1_000 + dust {
            Balances::set_balance(&who, 1_000);
            assert_ok!(Pogo::bond(RuntimeOrigin::signed(who), Role::Verifier, 100));
            assert_ok!(Pogo::unbond(RuntimeOrigin::signed(who), Role::Verifier, 99));
        }
        let task = bonded_task();
        (task, first_round(0, None).1)
    });
    measured_proof_size(&mut ext, || {
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), task, c, locator()));
    })
}

#[test]
fn submit_round_reads_the_registry_not_every_ledger() {
    // The snapshot copies the registry: 400 more ledgers only deepen the trie a little (a few hundred
    // bytes of branch nodes), where reading each would add at least its key and value (> 100 bytes each).
    let clean = submit_round_proof_with_dust_ledgers(0);
    let dusty = submit_round_proof_with_dust_ledgers(400);
    assert!(dusty < clean + 400 * 32, "proof of submit_round: {clean} bytes, with 400 dust ledgers {dusty}");
}

#[test]
fn report_fraud_on_an_accepted_round_with_rounds_on_top_fits_its_declared_proof() {
    let mut ext = new_test_ext();
    let (id, proof, others) = ext.execute_with(|| {
        let (task, id, b, c, trace) = submitted(Some((4, 300)));
        fix_challenge(id);
        vote_and_tally(id, &[Some(Verdict::Positive); 3]);
        // the other pending rounds of the task: accepted rounds on top, to be marked voided
        let mut others = 0;
        for (seed, miner) in [(1usize, MINER2), (2, MINER2), (3, MINER)] {
            if PendingByTask::<Test>::get(task).is_full() {
                break;
            }
            let (_, next, _) = build_round(b.weights().to_vec(), b.slots().to_vec(), 7, seed, None);
            let next = pogo_primitives::RoundCommitment { base_root: c.final_root, ..next };
            let other = NextSubmissionId::<Test>::get();
            assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(miner), task, next, locator()));
            Submissions::<Test>::mutate(other, |s| {
                if let Some(s) = s {
                    s.phase = Phase::Accepted(System::block_number() + 20);
                    s.round = 1 + seed as u32;
                }
            });
            others += 1;
        }
        (id, b.fraud_proof(&trace, 1, 1).unwrap(), others)
    });
    let measured = measured_proof_size(&mut ext, || {
        assert_ok!(Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(proof)));
    });
    let declared = W::report_fraud(3, others).proof_size();
    assert!(measured <= declared, "report_fraud needed a proof of {measured} bytes, declared {declared}");
}
