//! Analysis stage: statistics ([`stats`]) and the cross-side comparison with
//! its mismatch check ([`compare`]), Tables 1–6 ([`tables`]) and the
//! trends of the site's history ([`history`]) and `tables --check`'s reading
//! of a paper's LaTeX tables against them ([`check`]). Pure functions of ingested
//! records; the only I/O is the history store's small append-only files.

pub mod check;
pub mod compare;
pub mod estimand;
pub mod history;
pub mod stats;
pub mod tables;
