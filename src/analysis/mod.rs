//! Analysis stage: statistics ([`stats`]) and the cross-side comparison with
//! its mismatch check ([`compare`]). Pure functions of ingested records; no I/O.

pub mod check;
pub mod compare;
pub mod stats;
pub mod tables;
