//! Per-file accounting: every record read ends as accepted, rejected, a
//! merged twin or a duplicate, and every problem is tied to its line.

use crate::model::normalize::{normalize, Context, DimsMemo, TextBase};
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
    memo: DimsMemo,
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
            memo: DimsMemo::default(),
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
    pub fn take(&mut self, raw: &mut RawRecord<'_>, ctx: &Context<'_>, line: u32) -> Option<usize> {
        self.take_at(raw, ctx, line, None)
    }

    /// [`FileSink::take`] of a record parsed from `at`'s bytes of the file,
    /// whose free-form objects then stay in the file ([`crate::model::FreeText`]).
    pub fn take_at(
        &mut self,
        raw: &mut RawRecord<'_>,
        ctx: &Context<'_>,
        line: u32,
        at: Option<TextBase<'_>>,
    ) -> Option<usize> {
        match normalize(raw, ctx, SourceRef { file: self.id, line }, at, &mut self.memo) {
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

/// A 128-bit content fingerprint (XXH3-128): equal bytes give equal keys in
/// every run; a false match among a few million records has probability
/// below 2⁻⁸⁰.
pub fn bytes_key(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// Hasher for keys that are already uniform hashes: folds the u128.
#[derive(Default, Clone, Copy)]
pub struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u128 keys are hashed with this; fall back to mixing bytes.
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }
    fn write_u128(&mut self, k: u128) {
        self.0 ^= (k as u64) ^ ((k >> 64) as u64);
    }
}

/// Map and set keyed by content fingerprints.
pub type KeyMap<V> = std::collections::HashMap<u128, V, std::hash::BuildHasherDefault<PreHashed>>;
pub type KeySet = std::collections::HashSet<u128, std::hash::BuildHasherDefault<PreHashed>>;

/// The fifteen twin-key values of a record, in [`twin_key_of`] order.
pub struct TwinFields<'a> {
    pub backend: crate::model::Sym,
    pub workload: crate::model::Sym,
    pub run_id: crate::model::Sym,
    pub seed: Option<u64>,
    pub nodes: u32,
    pub parallelism: u32,
    pub throughput: f64,
    pub latencies: [Option<f64>; 3],
    pub success_rate: Option<f64>,
    pub duration_seconds: f64,
    pub timestamp: &'a str,
    pub config_hash: Option<crate::model::Sym>,
    pub backend_hash: Option<crate::model::Sym>,
}

/// Key under which a JSONL record and its CSV twin meet: the fifteen
/// columns the unified CSV carries, compared as normalized values (so
/// `41` and `41.0`, or a backend from the path, still match). Strings are
/// keyed by their interned ids, valid within this process.
pub fn twin_key_of(f: &TwinFields<'_>) -> u128 {
    let mut buf = [0u8; 96];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    let opt = |x: Option<f64>| x.map(f64::to_bits).unwrap_or(u64::MAX - 1);
    let sym = |s: Option<crate::model::Sym>| s.map(|s| s.id()).unwrap_or(u32::MAX);
    put(&f.backend.id().to_le_bytes());
    put(&f.workload.id().to_le_bytes());
    put(&f.run_id.id().to_le_bytes());
    // Presence byte first: "no seed" must not fingerprint like seed 2^64−1.
    put(&[u8::from(f.seed.is_some())]);
    put(&f.seed.unwrap_or(0).to_le_bytes());
    put(&f.nodes.to_le_bytes());
    put(&f.parallelism.to_le_bytes());
    put(&f.throughput.to_bits().to_le_bytes());
    for l in f.latencies {
        put(&opt(l).to_le_bytes());
    }
    put(&opt(f.success_rate).to_le_bytes());
    put(&f.duration_seconds.to_bits().to_le_bytes());
    put(&sym(f.config_hash).to_le_bytes());
    put(&sym(f.backend_hash).to_le_bytes());
    put(&xxhash_rust::xxh3::xxh3_64(f.timestamp.as_bytes()).to_le_bytes());
    xxhash_rust::xxh3::xxh3_128(&buf[..at])
}

/// [`twin_key_of`] an accepted record.
pub fn twin_key(r: &UnifiedRecord) -> u128 {
    twin_key_of(&TwinFields {
        backend: r.backend,
        workload: r.workload,
        run_id: r.run_id,
        seed: r.seed,
        nodes: r.nodes,
        parallelism: r.parallelism,
        throughput: r.throughput,
        latencies: [r.latency_p50, r.latency_p95, r.latency_p99],
        success_rate: r.success_rate,
        duration_seconds: r.duration_seconds,
        timestamp: r.timestamp.as_str(&mut [0; 32]),
        config_hash: r.config_hash,
        backend_hash: r.backend_hash,
    })
}
