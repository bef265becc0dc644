//! Low-level helpers every stage may use (no dependency on the pipeline):
//! output ownership and atomic replacement, escaping for every output
//! format, file-safe names, seeded random generators, returning freed
//! memory.

pub mod escape;
pub mod memory;
pub mod output;
pub mod rng;
pub mod text;
