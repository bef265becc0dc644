//! Per-file accounting: every record read ends as accepted, rejected, a
//! merged twin or a duplicate, and every problem is tied to its line.

use crate::model::normalize::{normalize, Context};
use crate::model::raw::RawRecord;
use crate::model::{FileId, Finding, Problem, ProblemKind, Severity, SourceRef, UnifiedRecord};
use serde::Serialize;
use std::collections::HashMap;

/// Warnings of one kind shown per file before the rest are only counted;
/// errors are always listed in full.
pub const WARNINGS_SHOWN_PER_KIND: u32 = 50;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Entries read from the file (lines, rows or array elements).
    pub records: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// CSV rows folded into the identical JSONL record beside them.
    pub twins_merged: u64,
    /// Repeats of an identical record inside the file, counted once.
    pub duplicates: u64,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.records += other.records;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.twins_merged += other.twins_merged;
        self.duplicates += other.duplicates;
    }
}

/// Collects the outcome of reading one file.
pub struct FileSink<'a> {
    pub id: FileId,
    pub display: &'a str,
    pub tally: Tally,
    pub problems: Vec<Problem>,
    pub records: Vec<UnifiedRecord>,
    warnings_by_kind: HashMap<ProblemKind, u32>,
}

impl<'a> FileSink<'a> {
    pub fn new(id: FileId, display: &'a str) -> Self {
        FileSink {
            id,
            display,
            tally: Tally::default(),
            problems: Vec::new(),
            records: Vec::new(),
            warnings_by_kind: HashMap::new(),
        }
    }

    pub fn report(&mut self, line: Option<u32>, finding: Finding) {
        if finding.severity == Severity::Warning {
            let seen = self.warnings_by_kind.entry(finding.kind).or_insert(0);
            *seen += 1;
            if *seen > WARNINGS_SHOWN_PER_KIND {
                return;
            }
        }
        self.problems.push(Problem {
            file: self.display.to_string(),
            line,
            severity: finding.severity,
            kind: finding.kind,
            message: finding.message,
        });
    }

    pub fn error(&mut self, line: Option<u32>, kind: ProblemKind, message: impl Into<String>) {
        self.report(line, Finding::error(kind, message));
    }

    pub fn warning(&mut self, line: Option<u32>, kind: ProblemKind, message: impl Into<String>) {
        self.report(line, Finding::warning(kind, message));
    }

    /// Validate one raw record read at `line`; count and keep it.
    /// Returns the accepted record's index in `self.records`.
    pub fn take(&mut self, raw: RawRecord<'_>, ctx: &Context<'_>, line: u32) -> Option<usize> {
        match normalize(raw, ctx, SourceRef { file: self.id, line }) {
            Ok((record, warnings)) => {
                for w in warnings {
                    self.report(Some(line), w);
                }
                self.tally.accepted += 1;
                self.records.push(record);
                Some(self.records.len() - 1)
            }
            Err(findings) => {
                self.tally.rejected += 1;
                for f in findings {
                    self.report(Some(line), f);
                }
                None
            }
        }
    }

    /// Say how many warnings were counted but not listed.
    pub fn finish(&mut self) {
        let mut hidden: Vec<(ProblemKind, u32)> = self
            .warnings_by_kind
            .iter()
            .filter(|(_, &n)| n > WARNINGS_SHOWN_PER_KIND)
            .map(|(&k, &n)| (k, n - WARNINGS_SHOWN_PER_KIND))
            .collect();
        hidden.sort();
        for (kind, n) in hidden {
            self.problems.push(Problem {
                file: self.display.to_string(),
                line: None,
                severity: Severity::Warning,
                kind,
                message: format!("{n} more {} warnings in this file not listed", kind.as_str()),
            });
        }
    }
}

/// A 128-bit content fingerprint (two SipHash passes with fixed keys):
/// equal inputs give equal keys in every run, and a false match among a
/// few million records has probability below 2⁻⁸⁰.
pub fn fingerprint(parts: impl Fn(&mut dyn std::hash::Hasher)) -> u128 {
    use std::hash::Hasher;
    #[allow(deprecated)]
    let mut a = std::hash::SipHasher::new_with_keys(0x5a6e_7265_706f_7274, 0x1);
    #[allow(deprecated)]
    let mut b = std::hash::SipHasher::new_with_keys(0x2, 0x7361_6765_7265_706f);
    parts(&mut a);
    parts(&mut b);
    ((a.finish() as u128) << 64) | b.finish() as u128
}

/// Fingerprint of raw bytes (a line or a CSV row).
pub fn bytes_key(bytes: &[u8]) -> u128 {
    fingerprint(|h| h.write(bytes))
}

/// Key under which a JSONL record and its CSV twin meet: the fifteen
/// columns the unified CSV carries, compared as normalized values (so
/// `41` and `41.0`, or a backend from the path, still match).
pub fn twin_key(r: &UnifiedRecord) -> u128 {
    fingerprint(|h| {
        let opt = |h: &mut dyn std::hash::Hasher, x: Option<f64>| match x {
            Some(x) => {
                h.write_u8(1);
                h.write_u64(x.to_bits());
            }
            None => h.write_u8(0),
        };
        for s in [r.backend, r.workload, r.run_id] {
            h.write(s.as_str().as_bytes());
            h.write_u8(0xff);
        }
        h.write_u64(r.seed.unwrap_or(u64::MAX));
        h.write_u32(r.nodes);
        h.write_u32(r.parallelism);
        h.write_u64(r.throughput.to_bits());
        opt(h, r.latency_p50);
        opt(h, r.latency_p95);
        opt(h, r.latency_p99);
        opt(h, r.success_rate);
        h.write_u64(r.duration_seconds.to_bits());
        h.write(r.timestamp.as_bytes());
        h.write_u8(0xff);
        for s in [r.config_hash, r.backend_hash] {
            h.write(s.map(|s| s.as_str()).unwrap_or("").as_bytes());
            h.write_u8(0xff);
        }
    })
}
