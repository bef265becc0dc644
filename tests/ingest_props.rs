//! Property tests: whatever bytes arrive, ingest never panics and its
//! accounting is exact (every entry read is accepted, rejected, a merged
//! twin or a duplicate; every rejected JSONL line has an error at its line).

use proptest::prelude::*;
use sagereport::ingest::{ingest, IngestOptions, InputError};
use sagereport::model::Severity;
use std::collections::BTreeSet;

const HEADER: &str = "backend,workload,run_id,seed,nodes,parallelism,throughput,latency_p50,latency_p95,latency_p99,success_rate,duration_seconds,timestamp,config_hash,backend_hash";

fn record(i: usize) -> String {
    format!(
        r#"{{"backend": "sage", "workload": "Q{w}", "run_id": "r{i}", "seed": 42, "nodes": 1, "parallelism": 2, "throughput": {t}.5, "latency_p50": 1.0, "latency_p95": 2.0, "latency_p99": 3.0, "success_rate": 0.5, "duration_seconds": 2.0, "timestamp": "2026-02-21T03:58:47+00:00", "extra": {{"pipeline": "rag"}}}}"#,
        w = i % 3,
        t = 10 + i
    )
}

fn csv_row(i: usize) -> String {
    format!(
        "sage,Q{},r{i},42,1,2,{}.5,1.0,2.0,3.0,0.5,2.0,2026-02-21T03:58:47+00:00,,",
        i % 3,
        10 + i
    )
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Replace(usize, u8),
    DuplicateLine(usize),
    DropNewline,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..12)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'-'), Just(b'N'), any::<u8>()]
        )
            .prop_map(|(i, c)| Mutation::Replace(i, c)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        Just(Mutation::DropNewline),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Insert(i, b) => {
                let at = i % len;
                bytes.splice(at.min(bytes.len())..at.min(bytes.len()), b.iter().copied());
            }
            Mutation::Replace(i, c) => {
                if !bytes.is_empty() {
                    let at = i % bytes.len();
                    bytes[at] = *c;
                }
            }
            Mutation::DuplicateLine(i) => {
                let text = bytes.clone();
                let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
                let line = lines[i % lines.len()].to_vec();
                bytes.extend_from_slice(b"\n");
                bytes.extend_from_slice(&line);
                bytes.extend_from_slice(b"\n");
            }
            Mutation::DropNewline => {
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
            }
        }
    }
    bytes
}

fn check_accounting(jsonl: &[u8], csv: &[u8], random: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("unified_results.jsonl"), jsonl).unwrap();
    std::fs::write(dir.path().join("unified_results.csv"), csv).unwrap();
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("benchmark_results.json"), random).unwrap();
    std::fs::write(other.join("x_metrics.json"), random).unwrap();
    std::fs::write(other.join("unified_results.jsonl"), random).unwrap();

    // No record accepted and a file that is not text: ingest fails as an
    // input error, and still gives the report.
    let report = match ingest(&[dir.path().to_path_buf()], &IngestOptions::default()) {
        Ok(report) => report,
        Err(InputError::NothingRead { report, .. }) => *report,
        Err(e) => panic!("{e}"),
    };
    let t = report.totals;
    prop_assert_eq!(t.read, t.accepted + t.rejected);
    prop_assert_eq!(report.records.len() as u64, t.accepted);
    for f in &report.files {
        let x = f.tally;
        prop_assert_eq!(
            x.records,
            x.accepted + x.rejected + x.twins_merged + x.duplicates,
            "{:?}",
            f
        );
    }
    // Every rejected JSONL line carries an error at its line.
    let jsonl_name = dir.path().join("unified_results.jsonl").display().to_string();
    let jsonl = report.files.iter().find(|f| f.path == jsonl_name).unwrap();
    let error_lines: BTreeSet<u32> = report
        .problems
        .iter()
        .filter(|p| p.file == jsonl_name && p.severity == Severity::Error)
        .filter_map(|p| p.line)
        .collect();
    prop_assert_eq!(error_lines.len() as u64, jsonl.tally.rejected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn mutated_inputs_never_panic_and_account_exactly(
        n in 1usize..8,
        jm in proptest::collection::vec(mutation(), 0..4),
        cm in proptest::collection::vec(mutation(), 0..4),
        random in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let jsonl: Vec<u8> = (0..n).map(record).collect::<Vec<_>>().join("\n").into_bytes();
        let mut csv = format!("{HEADER}\r\n").into_bytes();
        for i in 0..n + 1 {
            csv.extend_from_slice(csv_row(i).as_bytes());
            csv.extend_from_slice(b"\r\n");
        }
        check_accounting(&apply(jsonl, &jm), &apply(csv, &cm), &random)?;
    }
}
