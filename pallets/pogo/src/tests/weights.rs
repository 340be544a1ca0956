//! `advance` declares its worst case and refunds down to the branch it took.

use super::helpers::*;
use crate::{mock::*, weights::WeightInfo, *};
use frame_support::{assert_ok, dispatch::PostDispatchInfo, traits::Get, weights::Weight};
use pogo_primitives::verdict::Verdict;
use polkadot_sdk::frame_support;

type W = <Test as Config>::WeightInfo;

/// The weight `advance` reported for this call.
fn advanced(id: SubmissionId) -> Weight {
    let info: PostDispatchInfo = Pogo::advance(RuntimeOrigin::signed(REPORTER), id).expect("advance succeeds");
    info.actual_weight.expect("advance reports its actual weight")
}

#[test]
fn advance_charges_the_branch_it_took_never_more_than_declared() {
    test(|| {
        let declared = Pogo::advance_worst_case_weight();
        let (task, id, _b, _c, _t) = submitted(None);
        let snapshot = u32::try_from(Snapshots::<Test>::get(id).unwrap_or_default().len()).unwrap();
        assert!(snapshot > 0);

        MockRelay::advance_epochs(2);
        run_to_block(System::block_number() + 1);
        let challenge = advanced(id);
        assert_eq!(challenge, W::advance_challenge(snapshot));
        assert!(declared.all_gte(challenge));

        let who = assigned(id);
        let a = u32::try_from(who.len()).unwrap();
        for w in &who {
            assert_ok!(Pogo::commit_verdict(RuntimeOrigin::signed(*w), id, commitment_of(id, *w, &Verdict::Positive)));
        }
        assert_eq!(advanced(id), W::advance_tally(a, 0), "opening the reveal");
        for w in &who {
            assert_ok!(Pogo::reveal_verdict(RuntimeOrigin::signed(*w), id, Verdict::Positive, salt(*w)));
        }
        assert_eq!(advanced(id), W::advance_tally(a, 0), "the tally");
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));

        run_to_block(System::block_number() + <<Test as Config>::FraudWindow as Get<u64>>::get());
        let finalize = advanced(id);
        assert_eq!(finalize, W::advance_finalize());
        assert!(declared.all_gte(finalize));
        assert_eq!(Pogo::api_pending_submissions(task).len(), 0);
    });
}
