//! pogo-cost (being written).
