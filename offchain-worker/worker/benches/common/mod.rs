//! What the worker's training benches share: the median of timings and the byte GPT on the Shakespeare data.
#![allow(dead_code)] // each bench uses its own part

use pogo_engine::{
    model::{Gpt, GptConfig},
    tasks, Engine,
};
use tch::Device;

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The byte GPT `config` on the Shakespeare data, `batch` sequences per step, on the CPU.
pub fn text_engine(config: GptConfig, batch: u32) -> Engine<Gpt> {
    let (m, d, mut s) = tasks::text_task(None, config).expect("Shakespeare data: run scripts/setup.sh");
    s.batch_size = batch;
    Engine::new(m, d, s, Device::Cpu).unwrap()
}
