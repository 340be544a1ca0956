//! A task on chain, made trainable here: its model built from the committed descriptor, its data set
//! found by the dataset locator and checked against the committed roots, its spec checked against both. Every update rule of the protocol runs here (the exact
//! rules are `pogo-primitives`').
//! Anything this worker cannot train is refused with the reason ([`Unsupported`]).
//!
//! Dataset locators this worker understands: `pogo-data:digits` (scikit-learn's handwritten digits) and
//! `pogo-data:shakespeare` (Shakespeare's works in windows of the model's context), both read from the
//! data directory `scripts/setup.sh` fills (`$POGO_DATA_DIR`, default `~/.cache/pogo/data`).
//!
//! The initial state of a task is derived, not downloaded: weights from the layout's initializer seeded
//! with the descriptor hash (`spec.model`), optimizer slots zero ([`initial_state`]). A task created by
//! `pogo-worker create-task` commits exactly that state's root.

use pogo_engine::{
    data::{self, Dataset},
    model::{
        descriptor::{self, AnyModel, DescriptorError},
        Model,
    },
    Engine, EngineError, ModelState,
};
use pogo_primitives::{ModelDescriptor, TrainingSpec};
use std::path::Path;

/// The dataset locator prefix of the data sets this worker ships.
pub const DATA_SCHEME: &str = "pogo-data:";

/// Why a task cannot be trained here.
#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    /// The chain holds no model for the task (created before protocol version 2).
    #[error("the task has no model descriptor on chain (it predates protocol version 2)")]
    NoModel,
    /// The descriptor does not hash to the spec's model.
    #[error("the task's model descriptor does not hash to its spec's `model`")]
    ModelHash,
    /// The architecture is one this worker does not train.
    #[error("model: {0}")]
    Model(#[from] DescriptorError),
    /// The dataset locator names no data set this worker has.
    #[error("data set `{0}`: this worker has `{DATA_SCHEME}digits` and `{DATA_SCHEME}shakespeare`")]
    UnknownData(String),
    /// The local data set could not be read.
    #[error("data set: {0}")]
    Data(#[from] data::DataError),
    /// The local data set is not the one the task committed.
    #[error("data set `{name}`: local roots differ from the task's (train {train_ok}, eval {eval_ok})")]
    DataRoots {
        /// Data set name.
        name: String,
        /// Whether the train root matches.
        train_ok: bool,
        /// Whether the eval root matches.
        eval_ok: bool,
    },
    /// The spec does not fit the model and data.
    #[error("spec: {0}")]
    Spec(#[from] EngineError),
}

/// What a chain task says, in the form this module needs (from `TaskView` and `TaskModels`).
#[derive(Clone, Debug)]
pub struct TaskTerms {
    /// The training rules.
    pub spec: TrainingSpec,
    /// The committed model.
    pub model: Option<ModelDescriptor>,
    /// The dataset locator (UTF-8 expected).
    pub data_locator: Vec<u8>,
    /// Root of the train split.
    pub train_root: pogo_primitives::Hash,
    /// Root of the eval split.
    pub eval_root: pogo_primitives::Hash,
}

/// A task this worker can train.
pub struct LocalTask {
    /// The committed descriptor.
    pub descriptor: ModelDescriptor,
    /// Engine over the model and data (CPU or CUDA).
    pub engine: Engine<AnyModel>,
}

/// Reads the data set a locator names from `data_dir` (default: the setup script's directory).
pub fn load_data(locator: &[u8], model: &AnyModel, data_dir: Option<&Path>) -> Result<Dataset, Unsupported> {
    let text = std::str::from_utf8(locator).map_err(|_| Unsupported::UnknownData(String::from_utf8_lossy(locator).into()))?;
    let name = text.strip_prefix(DATA_SCHEME).ok_or_else(|| Unsupported::UnknownData(text.into()))?;
    let dir = data_dir.map(Path::to_path_buf).unwrap_or_else(data::data_dir);
    match (name, model) {
        ("digits", AnyModel::Mlp(_)) => Ok(data::digits(Some(&dir.join("digits.csv")))?),
        ("shakespeare", AnyModel::Gpt(g)) => Ok(data::text_corpus(Some(&dir.join("shakespeare")), g.config().context)?),
        _ => Err(Unsupported::UnknownData(format!("{text} (for a {} model)", model.as_model().name()))),
    }
}

/// Builds the model, loads and checks the data, checks the spec: a task this worker can train, or why not.
pub fn resolve(terms: &TaskTerms, data_dir: Option<&Path>, device: tch::Device) -> Result<LocalTask, Unsupported> {
    let descriptor = terms.model.clone().ok_or(Unsupported::NoModel)?;
    if descriptor.hash() != terms.spec.model {
        return Err(Unsupported::ModelHash);
    }
    let model = descriptor::build(&descriptor)?;
    let data = load_data(&terms.data_locator, &model, data_dir)?;
    let (train, eval) = data.roots()?;
    if (train, eval) != (terms.train_root, terms.eval_root) {
        return Err(Unsupported::DataRoots {
            name: data.name.clone(),
            train_ok: train == terms.train_root,
            eval_ok: eval == terms.eval_root,
        });
    }
    let engine = Engine::new(model, data, terms.spec, device)?;
    Ok(LocalTask { descriptor, engine })
}

/// The state a task starts from: the layout's initial weights seeded with the descriptor hash, zero slots.
pub fn initial_state(spec: &TrainingSpec, model: &dyn Model) -> ModelState {
    ModelState::fresh(spec, model.layout().init(&spec.model))
}
