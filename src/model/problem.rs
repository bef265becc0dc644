//! Problems found in the input: what, where, and how bad.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The record (or file) was rejected.
    Error,
    /// Accepted, but something deserves a look.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Machine-readable problem class (the `kind` field of `validate --json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A line or document is not valid JSON.
    MalformedJson,
    /// A CSV row with the wrong number of fields, or unparsable CSV.
    MalformedCsv,
    /// The last line of a file is cut off (no newline, incomplete record).
    TruncatedLine,
    /// A file with no records at all.
    EmptyFile,
    /// A CSV header lacks a required column.
    MissingColumn,
    /// A record lacks a required field, or has it null.
    MissingField,
    /// A value of the wrong type or shape (text where a number belongs…).
    InvalidValue,
    /// NaN or ±Infinity, as a literal or a string.
    NonFinite,
    /// A negative count, duration, throughput or latency.
    NegativeValue,
    /// A value outside its range (success rate outside [0, 1], nodes < 1…).
    OutOfRange,
    /// A number written as a string; accepted.
    NumberAsString,
    /// An identical record repeated inside a file; counted once.
    DuplicateRecord,
    /// The backend field and the `backends/<name>/` folder disagree.
    BackendConflict,
    /// A manifest beside the records disagrees with them.
    ManifestConflict,
    /// A paired run whose `failure_report.json` says it failed.
    PairedRunFailed,
    /// Legacy latency fields converted from seconds to milliseconds.
    UnitConversion,
    /// Something odd but harmless (unknown columns, non-monotonic percentiles…).
    Suspicious,
    /// A file or path that could not be read.
    Unreadable,
    /// A line longer than `--max-line`; skipped without being held in memory.
    LineTooLong,
    /// A whole-document JSON file bigger than `--max-document`; not read.
    FileTooLarge,
    /// Content that is not text (gzip, zip, UTF-16, binary data); not parsed.
    NotText,
    /// A run that failed (nothing succeeded, or nothing was measured): kept
    /// out of the statistics unless `--include-failed`.
    FailedRun,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::MalformedJson => "malformed_json",
            ProblemKind::MalformedCsv => "malformed_csv",
            ProblemKind::TruncatedLine => "truncated_line",
            ProblemKind::EmptyFile => "empty_file",
            ProblemKind::MissingColumn => "missing_column",
            ProblemKind::MissingField => "missing_field",
            ProblemKind::InvalidValue => "invalid_value",
            ProblemKind::NonFinite => "non_finite",
            ProblemKind::NegativeValue => "negative_value",
            ProblemKind::OutOfRange => "out_of_range",
            ProblemKind::NumberAsString => "number_as_string",
            ProblemKind::DuplicateRecord => "duplicate_record",
            ProblemKind::BackendConflict => "backend_conflict",
            ProblemKind::ManifestConflict => "manifest_conflict",
            ProblemKind::PairedRunFailed => "paired_run_failed",
            ProblemKind::UnitConversion => "unit_conversion",
            ProblemKind::Suspicious => "suspicious",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::LineTooLong => "line_too_long",
            ProblemKind::FileTooLarge => "file_too_large",
            ProblemKind::NotText => "not_text",
            ProblemKind::FailedRun => "failed_run",
        }
    }
}

/// A problem about one field or record, before it is tied to a file and line.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub kind: ProblemKind,
    pub message: String,
}

impl Finding {
    pub fn error(kind: ProblemKind, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            kind,
            message: message.into(),
        }
    }
    pub fn warning(kind: ProblemKind, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            kind,
            message: message.into(),
        }
    }
}

/// A problem with its place: the file as the user would type it and the
/// 1-based line (`None` for a whole-file problem).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<u32>,
    pub severity: Severity,
    pub kind: ProblemKind,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `path:line: severity: message`, the form editors and CI annotators parse.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.severity, self.message),
            None => write!(f, "{}: {}: {}", self.file, self.severity, self.message),
        }
    }
}
