//! Typed reasons from `pogo-primitives` carried into the pallet's errors: a refused spec or fraud proof
//! says why, in the error polkadot.js shows, not one catch-all variant.

use crate::pallet::{Config, Error};
use pogo_primitives::{fraud::FraudProofError, model::ModelError, spec::SpecError};

impl<T: Config> From<SpecError> for Error<T> {
    fn from(e: SpecError) -> Self {
        match e {
            SpecError::NoParameters => Error::<T>::SpecHasNoParameters,
            SpecError::BadLeafSize => Error::<T>::SpecLeafSizeOutOfRange,
            SpecError::BadCodecBlock => Error::<T>::SpecCodecBlockInvalid,
            SpecError::BadUpdateRule => Error::<T>::SpecUpdateRuleInvalid,
            SpecError::BadSchedule => Error::<T>::SpecScheduleInvalid,
            SpecError::BadClipping => Error::<T>::SpecClippingInvalid,
            SpecError::BadRoundShape => Error::<T>::SpecRoundShapeInvalid,
            SpecError::BadData => Error::<T>::SpecDataInvalid,
            SpecError::TooManyParameters => Error::<T>::SpecTooManyParameters,
        }
    }
}

impl<T: Config> From<FraudProofError> for Error<T> {
    fn from(e: FraudProofError) -> Self {
        match e {
            FraudProofError::OutOfRange => Error::<T>::FraudProofOutOfRange,
            FraudProofError::WrongAnchor => Error::<T>::FraudProofWrongAnchor,
            FraudProofError::WrongSteps => Error::<T>::FraudProofWrongSteps,
            FraudProofError::BadRecordProof(_) => Error::<T>::FraudProofBadRecordOpening,
            FraudProofError::BadGradientProof(_) => Error::<T>::FraudProofBadGradientOpening,
            FraudProofError::BadStartProof(_) => Error::<T>::FraudProofBadStartOpening,
            FraudProofError::BadEndProof(_) => Error::<T>::FraudProofBadEndOpening,
            FraudProofError::BadStartLeaf => Error::<T>::FraudProofBadStartLeaf,
            FraudProofError::BadEndLeaf => Error::<T>::FraudProofBadEndLeaf,
            FraudProofError::NoInconsistency => Error::<T>::FraudProofShowsNoFraud,
        }
    }
}

impl<T: Config> From<ModelError> for Error<T> {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::BadArchitecture => Error::<T>::ModelArchitectureInvalid,
            ModelError::BadTensorCount |
            ModelError::BadTensorName { .. } |
            ModelError::DuplicateTensorName { .. } |
            ModelError::BadTensorShape { .. } => Error::<T>::ModelTensorsInvalid,
            ModelError::ParamCountMismatch => Error::<T>::ModelParamCountMismatch,
        }
    }
}
