//! The unified record and its dimensions (SPEC §3): what every input format
//! is turned into, and the rules that decide whether a record is accepted.

pub mod config_hash;
pub mod dimensions;
pub mod intern;
pub mod normalize;
pub mod problem;
pub mod raw;
pub mod record;

pub use config_hash::WorkloadShape;
pub use dimensions::{Dimensions, LoadLevel, Pipeline, Scheduler, TaskComplexity};
pub use intern::Sym;
pub use problem::{Finding, Problem, ProblemKind, Severity};
pub use record::{DimsId, FileId, FreeText, Measured, SourceRef, Timestamp, UnifiedRecord};
