//! sagereport: benchmark result directories in, trustworthy comparisons out.
//!
//! Pipeline stages, one module each: [`ingest`] reads every result format
//! into [`model`]'s unified record; `analysis` computes statistics and
//! mismatch checks; `render` writes each output; [`cli`] wires them to
//! commands; [`runner`] executes workloads on the embedded engine and writes
//! result directories. [`synth`] writes realistic result trees for tests and benchmarks;
//! [`util`] holds output ownership (the only door to replacing an output).

pub mod analysis;
pub mod cli;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod runner;
pub mod synth;
pub mod util;
