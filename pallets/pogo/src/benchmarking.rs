//! Benchmarks of pallet-pogo (filled in below).
