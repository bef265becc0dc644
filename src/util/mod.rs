//! Low-level helpers every stage may use (no dependency on the pipeline):
//! output ownership and atomic replacement.

pub mod output;
