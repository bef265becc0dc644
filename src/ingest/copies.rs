//! Copies of one measurement in several files of one input (a result
//! folder copied beside itself, a run re-exported elsewhere in the tree):
//! runs are the unit of replication, so a copy must not count again.
//!
//! Two records are one measurement when the fifteen unified fields are
//! equal — backend, workload, run id, seed, nodes, parallelism, throughput,
//! the three latencies, success rate, duration, the timestamp to the
//! microsecond, config and backend hashes — the identity a CSV twin is
//! matched on ([`super::sink::twin_key_of`]). Only records of different
//! files under the same input argument are matched: repeats inside a file
//! are already counted once as they are read, and with `--by input` the
//! same measurement given as two inputs is two sides, not a copy.

use crate::model::{Timestamp, UnifiedRecord};
use rayon::prelude::*;
use std::hash::{BuildHasher, Hash, Hasher};

/// One file's records that repeat another file's: how many, the first
/// repeated line, and the file and line of the first record it repeats.
#[derive(Debug, PartialEq, Eq)]
pub struct Copied {
    pub file: u32,
    pub of_file: u32,
    pub count: u64,
    pub first_line: u32,
    pub of_line: u32,
}

/// The records (indices into `records`) that repeat an earlier record of
/// another file of the same input, and per file pair what repeats what.
/// `input_of` gives a file's input argument. The earliest record (in
/// walk order) is the one kept.
pub fn find(records: &[UnifiedRecord], input_of: impl Fn(u32) -> u32 + Sync) -> (Vec<usize>, Vec<Copied>) {
    let hasher = crate::model::intern::fast_hash();
    let mut keyed: Vec<(u64, u32)> = records
        .par_iter()
        .enumerate()
        .map(|(i, r)| (measurement_hash(r, &hasher), i as u32))
        .collect();
    // Equal hashes side by side, each run in record order.
    keyed.par_sort_unstable();
    let mut copies: Vec<(usize, usize)> = Vec::new();
    // Each record of a run is matched against the first record of each
    // file met before it in the run (in record order), not against every
    // earlier record: a file that repeats one measurement 200,000 times
    // (records differing only in their metadata) costs as many steps, not
    // 2·10¹⁰.
    let mut firsts: Vec<usize> = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        firsts.clear();
        for &(_, i) in run {
            let (i, r) = (i as usize, &records[i as usize]);
            let original = firsts.iter().copied().find(|&j| {
                let o = &records[j];
                o.source.file != r.source.file
                    && input_of(o.source.file.0) == input_of(r.source.file.0)
                    && same_measurement(o, r)
            });
            if let Some(j) = original {
                copies.push((i, j));
            }
            if !firsts.iter().any(|&j| records[j].source.file == r.source.file) {
                firsts.push(i);
            }
        }
    }
    // A copy of a copy points at the first record: firsts are in record order.
    copies.sort_unstable();
    let mut pairs: Vec<Copied> = Vec::new();
    let mut pair_of: std::collections::HashMap<(u32, u32), usize> = std::collections::HashMap::new();
    for &(i, j) in &copies {
        let (r, o) = (&records[i], &records[j]);
        let at = *pair_of.entry((r.source.file.0, o.source.file.0)).or_insert_with(|| {
            pairs.push(Copied {
                file: r.source.file.0,
                of_file: o.source.file.0,
                count: 0,
                first_line: r.source.line,
                of_line: o.source.line,
            });
            pairs.len() - 1
        });
        pairs[at].count += 1;
    }
    (copies.into_iter().map(|(i, _)| i).collect(), pairs)
}

fn measurement_hash(r: &UnifiedRecord, hasher: &impl BuildHasher) -> u64 {
    let mut h = hasher.build_hasher();
    (r.backend, r.workload, r.run_id, r.seed, r.nodes, r.parallelism).hash(&mut h);
    for x in [
        Some(r.throughput),
        r.latency_p50,
        r.latency_p95,
        r.latency_p99,
        r.success_rate,
        Some(r.duration_seconds),
    ] {
        x.map(f64::to_bits).hash(&mut h);
    }
    match &r.timestamp {
        Timestamp::Harness { date_time, micros } => (date_time, micros).hash(&mut h),
        Timestamp::Text(t) => t.hash(&mut h),
    }
    (r.config_hash, r.backend_hash).hash(&mut h);
    h.finish()
}

fn same_measurement(a: &UnifiedRecord, b: &UnifiedRecord) -> bool {
    let bits = |x: Option<f64>| x.map(f64::to_bits);
    (a.backend, a.workload, a.run_id, a.seed, a.nodes, a.parallelism)
        == (b.backend, b.workload, b.run_id, b.seed, b.nodes, b.parallelism)
        && a.throughput.to_bits() == b.throughput.to_bits()
        && [a.latency_p50, a.latency_p95, a.latency_p99, a.success_rate].map(bits)
            == [b.latency_p50, b.latency_p95, b.latency_p99, b.success_rate].map(bits)
        && a.duration_seconds.to_bits() == b.duration_seconds.to_bits()
        && a.timestamp == b.timestamp
        && (a.config_hash, a.backend_hash) == (b.config_hash, b.backend_hash)
}

#[cfg(test)]
mod tests {
    use crate::ingest::{ingest, IngestOptions};
    use crate::model::ProblemKind;

    fn line(run: usize, throughput: f64) -> String {
        format!(
            r#"{{"backend":"sage","workload":"w","run_id":"r","seed":1,"nodes":1,"parallelism":2,"throughput":{throughput:?},"latency_p50":1.0,"latency_p95":2.0,"latency_p99":3.0,"success_rate":1.0,"duration_seconds":2.0,"timestamp":"2026-01-01T00:00:0{run}.000001+00:00","metadata":{{"n":{run}}}}}"#
        )
    }

    fn write(dir: &std::path::Path, rel: &str, lines: &[String]) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn a_copied_file_counts_once_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let runs: Vec<String> = (0..4).map(|i| line(i, 10.0 + i as f64)).collect();
        write(tmp.path(), "t/a/unified_results.jsonl", &runs);
        // A copy, a copy of the copy, and a file where one run differs in
        // one digit: only the last is new.
        write(tmp.path(), "t/b/unified_results.jsonl", &runs);
        write(tmp.path(), "t/c/unified_results.jsonl", &runs[..2]);
        let mut changed = runs.clone();
        changed[3] = line(3, 13.000000001);
        write(tmp.path(), "t/d/unified_results.jsonl", &changed);
        let report = ingest(&[tmp.path().join("t")], &IngestOptions::default()).unwrap();
        assert_eq!(report.records.len(), 5);
        assert_eq!(report.totals.accepted, 5);
        assert_eq!(report.totals.duplicates, 4 + 2 + 3);
        let kept: Vec<(u32, u32)> = report
            .records
            .iter()
            .map(|r| (r.source.file.0, r.source.line))
            .collect();
        assert_eq!(
            kept,
            [(0, 1), (0, 2), (0, 3), (0, 4), (3, 4)],
            "the first of each is kept"
        );
        let warnings: Vec<&str> = report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::DuplicateRecord)
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(warnings.len(), 3, "one per file pair: {warnings:?}");
        assert!(
            warnings[0].starts_with("4 records here are the same measurement as in "),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("t/a/unified_results.jsonl"), "{warnings:?}");
        for f in &report.files {
            let t = f.tally;
            assert_eq!(
                t.records,
                t.accepted + t.rejected + t.twins_merged + t.duplicates,
                "{f:?}"
            );
        }
    }

    #[test]
    fn repeats_inside_a_file_stay_and_their_copy_elsewhere_counts_once() {
        let tmp = tempfile::tempdir().unwrap();
        // One measurement written three times with different metadata (a
        // harness counter): three records of the file, as reading keeps them.
        let same: Vec<String> = (0..3)
            .map(|k| line(0, 10.0).replace("\"n\":0", &format!("\"n\":{k}")))
            .collect();
        write(tmp.path(), "t/x/unified_results.jsonl", &same);
        write(tmp.path(), "t/y/unified_results.jsonl", &same);
        let report = ingest(&[tmp.path().join("t")], &IngestOptions::default()).unwrap();
        assert_eq!(report.records.len(), 3);
        assert!(report.records.iter().all(|r| r.source.file.0 == 0));
        assert_eq!(report.totals.duplicates, 3);
    }

    #[test]
    fn the_same_measurement_under_two_inputs_is_two_sides_not_a_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let runs: Vec<String> = (0..3).map(|i| line(i, 10.0)).collect();
        write(tmp.path(), "before/unified_results.jsonl", &runs);
        write(tmp.path(), "after/unified_results.jsonl", &runs);
        let inputs = [tmp.path().join("before"), tmp.path().join("after")];
        let report = ingest(&inputs, &IngestOptions::default()).unwrap();
        assert_eq!(report.records.len(), 6);
        assert_eq!(report.totals.duplicates, 0);
    }
}
