//! pogo-cost binary (being written).
fn main() {}
