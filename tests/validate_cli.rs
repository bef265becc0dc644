//! `sagereport validate` end to end: the binary on files written here, one
//! fault kind at a time, each asserted at its exact file:line.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const HEADER: &str = "backend,workload,run_id,seed,nodes,parallelism,throughput,latency_p50,latency_p95,latency_p99,success_rate,duration_seconds,timestamp,config_hash,backend_hash";

fn record(run_id: &str) -> String {
    format!(
        r#"{{"backend": "sage", "workload": "Q1", "run_id": "{run_id}", "seed": 42, "nodes": 1, "parallelism": 2, "throughput": 41.5, "latency_p50": 10.0, "latency_p95": 20.0, "latency_p99": 30.0, "success_rate": 1.0, "duration_seconds": 2.5, "timestamp": "2026-02-21T03:58:47.134641+00:00", "config_hash": null, "backend_hash": null, "metadata": {{"scheduler_name": "fifo"}}}}"#
    )
}

fn csv_row(run_id: &str) -> String {
    format!("sage,Q1,{run_id},42,1,2,41.5,10.0,20.0,30.0,1.0,2.5,2026-02-21T03:58:47.134641+00:00,,")
}

fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// Run `validate --json` on `path`; return (exit code, document).
fn validate(path: &Path) -> (i32, Value) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .args(["validate", "--json"])
        .arg(path)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), doc)
}

/// (file name, line, severity, kind) of every problem.
fn problems(doc: &Value) -> Vec<(String, Option<u64>, String, String)> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let file = p["file"].as_str().unwrap();
            let name = Path::new(file).file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                p["line"].as_u64(),
                p["severity"].as_str().unwrap().into(),
                p["kind"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// Every problem's message, in order.
fn messages(doc: &Value) -> Vec<&str> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["message"].as_str())
        .collect()
}

/// Every skipped file's reason, in order.
fn skip_reasons(doc: &Value) -> Vec<&str> {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["skipped"].as_str())
        .collect()
}

fn totals(doc: &Value) -> [u64; 5] {
    let r = &doc["records"];
    ["read", "accepted", "rejected", "twins_merged", "duplicates"].map(|k| r[k].as_u64().unwrap())
}

/// One JSONL file with `lines`; expect exactly `expected` problems.
fn check_jsonl(lines: &[String], expected: &[(u64, &str, &str)], accepted: u64, rejected: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "run/unified_results.jsonl", lines.join("\n") + "\n");
    let (code, doc) = validate(&path);
    let got = problems(&doc);
    let want: Vec<_> = expected
        .iter()
        .map(|(line, sev, kind)| {
            (
                "unified_results.jsonl".to_string(),
                Some(*line),
                sev.to_string(),
                kind.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "{doc:#}");
    let t = totals(&doc);
    assert_eq!((t[1], t[2]), (accepted, rejected), "{doc:#}");
    let has_errors = expected.iter().any(|(_, s, _)| *s == "error");
    assert_eq!(code, if has_errors { 1 } else { 0 });
}

#[test]
fn malformed_json_line() {
    let lines = [
        record("a"),
        r#"{"backend": "sage", "workload": "Q1""#.to_string(),
        record("b"),
    ];
    check_jsonl(&lines, &[(2, "error", "malformed_json")], 2, 1);
}

#[test]
fn nan_and_infinity_literals_and_strings() {
    let lines = [
        record("a").replace("41.5", "NaN"),
        record("b").replace("\"latency_p99\": 30.0", "\"latency_p99\": Infinity"),
        record("c").replace("41.5", "\"NaN\""),
        record("d").replace("\"latency_p50\": 10.0", "\"latency_p50\": \"-Infinity\""),
        record("e"),
    ];
    let e = (0, "error", "non_finite");
    check_jsonl(
        &lines,
        &[(1, e.1, e.2), (2, e.1, e.2), (3, e.1, e.2), (4, e.1, e.2)],
        1,
        4,
    );
}

#[test]
fn negative_latency_and_success_rate_out_of_range() {
    let lines = [
        record("a").replace("\"latency_p95\": 20.0", "\"latency_p95\": -12.5"),
        record("b").replace("\"success_rate\": 1.0", "\"success_rate\": 1.7"),
        record("c").replace("\"throughput\": 41.5", "\"throughput\": -1"),
    ];
    check_jsonl(
        &lines,
        &[
            (1, "error", "negative_value"),
            (2, "error", "out_of_range"),
            (3, "error", "negative_value"),
        ],
        0,
        3,
    );
}

#[test]
fn missing_required_field() {
    let lines = [record("a").replace("\"workload\": \"Q1\", ", ""), record("b")];
    check_jsonl(&lines, &[(1, "error", "missing_field")], 1, 1);
}

#[test]
fn duplicates_counted_once() {
    let lines = [record("a"), record("b"), record("a")];
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "unified_results.jsonl", lines.join("\n") + "\n");
    let (code, doc) = validate(&path);
    assert_eq!(code, 0);
    assert_eq!(
        problems(&doc),
        vec![(
            "unified_results.jsonl".into(),
            Some(3),
            "warning".into(),
            "duplicate_record".into()
        )]
    );
    assert_eq!(totals(&doc), [2, 2, 0, 0, 1]);
}

#[test]
fn numbers_as_strings_are_accepted_with_a_warning() {
    let lines = [record("a")
        .replace("\"seed\": 42", "\"seed\": \"42\"")
        .replace("41.5", "\"41.5\"")];
    check_jsonl(&lines, &[(1, "warning", "number_as_string")], 1, 0);
}

#[test]
fn truncated_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let cut = &record("b")[..70];
    let path = write(dir.path(), "unified_results.jsonl", format!("{}\n{cut}", record("a")));
    let (code, doc) = validate(&path);
    assert_eq!(code, 1);
    assert_eq!(
        problems(&doc),
        vec![(
            "unified_results.jsonl".into(),
            Some(2),
            "error".into(),
            "truncated_line".into()
        )]
    );
    assert_eq!(totals(&doc), [2, 1, 1, 0, 0]);
}

#[test]
fn empty_file_is_reported_without_a_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "r/unified_results.jsonl", "");
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0);
    assert_eq!(
        problems(&doc),
        vec![(
            "unified_results.jsonl".into(),
            None,
            "warning".into(),
            "empty_file".into()
        )]
    );
    assert_eq!(doc["problems"][0]["line"], Value::Null);
}

#[test]
fn bom_and_crlf_are_benign() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = format!("\u{feff}{}\r\n{}\r\n", record("a"), record("b"));
    write(dir.path(), "j/unified_results.jsonl", jsonl);
    let csv = format!("\u{feff}{HEADER}\r\n{}\r\n{}\r\n", csv_row("c"), csv_row("d"));
    write(dir.path(), "c/unified_results.csv", csv);
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    assert!(problems(&doc).is_empty(), "{doc:#}");
    assert_eq!(totals(&doc), [4, 4, 0, 0, 0]);
}

#[test]
fn csv_wrong_field_count_and_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad_row = format!("{HEADER}\n{}\nsage,Q1,x,42\n{}\n", csv_row("a"), csv_row("b"));
    write(dir.path(), "a/unified_results.csv", bad_row);
    let no_throughput = HEADER.replace("throughput,", "");
    let row = csv_row("c").replace(",41.5,", ",");
    write(
        dir.path(),
        "b/unified_results.csv",
        format!("{no_throughput}\n{row}\n{row}x\n"),
    );
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 1);
    let got = problems(&doc);
    assert_eq!(
        got,
        vec![
            (
                "unified_results.csv".into(),
                Some(3),
                "error".into(),
                "malformed_csv".into()
            ),
            (
                "unified_results.csv".into(),
                Some(1),
                "error".into(),
                "missing_column".into()
            ),
        ]
    );
    assert_eq!(totals(&doc), [5, 2, 3, 0, 0]);
}

#[test]
fn csv_twin_of_jsonl_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "unified_results.jsonl",
        format!("{}\n{}\n", record("a"), record("b")),
    );
    write(
        dir.path(),
        "unified_results.csv",
        format!(
            "{HEADER}\r\n{}\r\n{}\r\n{}\r\n",
            csv_row("a"),
            csv_row("b"),
            csv_row("z")
        ),
    );
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    // a and b are twins; z exists only in the CSV and counts on its own.
    assert_eq!(totals(&doc), [3, 3, 0, 2, 0]);
}

#[test]
fn backend_from_path_and_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let no_backend = record("a").replace("\"backend\": \"sage\", ", "");
    write(
        dir.path(),
        "run_id=r1/backends/ray/unified_results.jsonl",
        format!("{no_backend}\n{}\n", record("b")),
    );
    // A ray record under a folder whose name merely contains "sage".
    let ray = record("c").replace("\"sage\"", "\"ray\"");
    write(dir.path(), "sage-node-1/unified_results.jsonl", format!("{ray}\n"));
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0);
    assert_eq!(
        problems(&doc),
        vec![(
            "unified_results.jsonl".into(),
            Some(2),
            "warning".into(),
            "backend_conflict".into()
        )]
    );
    assert_eq!(totals(&doc), [3, 3, 0, 0, 0]);
}

#[test]
fn problem_paths_are_relative_to_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "deep/er/unified_results.jsonl", "{oops\n");
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", "deep"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("deep/er/unified_results.jsonl:1: error: not valid JSON"),
        "{text}"
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .args(["validate", "/no/such/dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/no/such/dir"), "{err}");
}

#[test]
fn no_arguments_is_a_usage_error() {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn real_upstream_samples_are_accepted_without_errors() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/real");
    if !real.exists() {
        eprintln!("skipping: {} is absent (CI has it)", real.display());
        return;
    }
    let (code, doc) = validate(&real);
    assert_eq!(code, 0, "{doc:#}");
    let errors: Vec<_> = problems(&doc).into_iter().filter(|p| p.2 == "error").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let t = totals(&doc);
    assert!(t[1] >= 1, "no record accepted from the real samples");
    assert_eq!(t[0], t[1] + t[2]);
}

#[test]
fn a_semicolon_export_and_a_compressed_file_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let semicolons = format!("{}\n{}\n", HEADER.replace(',', ";"), csv_row("a").replace(',', ";"));
    write(dir.path(), "s/unified_results.csv", semicolons);
    write(dir.path(), "z/unified_results.jsonl.gz", [0x1f, 0x8b, 8, 0]);
    write(dir.path(), "j/unified_results.jsonl", record("b") + "\n");
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 1, "{doc:#}");
    let messages = messages(&doc);
    assert!(
        messages.iter().any(|m| m.contains("the file seems separated by ';'")),
        "{messages:?}"
    );
    let skipped = skip_reasons(&doc);
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("a compressed or archived file, not read: unpack it")),
        "{skipped:?}"
    );
}

#[test]
fn a_field_named_twice_rejects_the_record_and_a_column_named_twice_the_file() {
    // Which of two values a parser keeps is up to the parser (RFC 8259 §4);
    // the report must not depend on it. Unknown keys stay ignored.
    let twice = record("a").replacen(r#""throughput": 41.5"#, r#""throughput": 41.5, "throughput": 9"#, 1);
    let unknown_twice = record("b").replacen('{', r#"{"note": 1, "note": 2, "#, 1);
    check_jsonl(&[twice.clone(), unknown_twice], &[(1, "error", "invalid_value")], 1, 1);

    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "run/unified_results.jsonl", twice + "\n");
    let (_, doc) = validate(&path);
    assert_eq!(
        doc["problems"][0]["message"],
        "field throughput appears more than once in this record, so which value is meant is unknown; keep one"
    );

    let header = format!("{HEADER},throughput,note,note");
    let rows = format!("{header}\n{},9,x,y\n{},9,x,y\n", csv_row("c"), csv_row("d"));
    let path = write(dir.path(), "csv/unified_results.csv", rows);
    let (code, doc) = validate(&path);
    assert_eq!(code, 1);
    assert_eq!(totals(&doc), [2, 0, 2, 0, 0], "{doc:#}");
    let messages = messages(&doc);
    assert_eq!(
        messages,
        [
            "unknown columns ignored: note",
            "header names throughput (columns 7, 16) more than once; every row of this file is rejected — keep one column of each name",
        ]
    );
}

#[test]
fn an_array_element_that_is_not_a_record_is_named_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("[{}, 5,\n  \"x\", [1]]\n", record("a"));
    let path = write(dir.path(), "benchmark_results.json", &text);
    let (code, doc) = validate(&path);
    assert_eq!(code, 1);
    assert_eq!(totals(&doc), [4, 1, 3, 0, 0], "{doc:#}");
    let got: Vec<(u64, &str, &str)> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["kind"].as_str().unwrap(),
                p["message"].as_str().unwrap(),
            )
        })
        .collect();
    // serde_json's column is just past the value (or absent: then the
    // element's start); here it is the file's.
    let five = text.find(" 5,").unwrap() + 2;
    assert_eq!(
        got,
        [
            (1, "invalid_value", format!("element 2 of the array is not a record: invalid type: integer `5`, expected a JSON object (one unified record) (column {five})").as_str()),
            (2, "invalid_value", "element 3 of the array is not a record: invalid type: string \"x\", expected a JSON object (one unified record) (column 5)"),
            (2, "invalid_value", "element 4 of the array is not a record: invalid type: sequence, expected a JSON object (one unified record) (column 8)"),
        ]
    );
}

#[test]
fn a_paired_manifest_is_checked_against_its_records_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = "paired_backend_runs/run_id=x/config_hash=abc";
    for side in ["sage", "ray"] {
        let line = record("x").replace(r#""backend": "sage""#, &format!(r#""backend": "{side}""#));
        write(
            dir.path(),
            &format!("{run}/backends/{side}/unified_results.jsonl"),
            line + "\n",
        );
    }
    // The records ran nodes 1, parallelism 2, seed 42.
    let manifest =
        r#"{"status": "ok", "run_id": "x", "config": {"scheduler": "fifo", "parallelism": 4, "nodes": 2, "seed": 42}}"#;
    write(dir.path(), &format!("{run}/manifest.json"), manifest);
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0, "warnings only: {doc:#}");
    let mut messages = messages(&doc);
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "nodes is 1 but the paired-run manifest says 2",
            "nodes is 1 but the paired-run manifest says 2",
            "paired run status \"ok\" (not \"success\"): no error message; results of the side that finished are still read",
            "parallelism is 2 but the paired-run manifest says 4",
            "parallelism is 2 but the paired-run manifest says 4",
        ]
    );
}

/// `compare` on `dir`; the latency_p50 column of comparison.csv.
fn p50s(dir: &Path) -> Vec<String> {
    let out = dir.join("out");
    Command::cargo_bin("sagereport")
        .unwrap()
        .arg("compare")
        .arg(dir.join("in"))
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    let mut csv = ::csv::Reader::from_path(out.join("comparison.csv")).unwrap();
    let column = csv.headers().unwrap().iter().position(|h| h == "latency_p50").unwrap();
    csv.records().map(|r| r.unwrap()[column].to_string()).collect()
}

#[test]
fn legacy_latency_units_are_converted_only_when_the_file_shows_the_bug() {
    // (use_remote, p50_latency_ms, per-task latencies) → (p50 read, warning)
    let cases = [
        // Local mode: the summary holds seconds, the tasks ms.
        (false, 0.04, 40.0, "40", Some("local-mode run")),
        // Remote mode: the summary holds ms, the tasks µs.
        (true, 40.0, 40_000.0, "40", Some("remote-mode run")),
        // Either mode written without the bug: tasks and summary agree.
        (false, 40.0, 40.0, "40", None),
        (true, 40.0, 40.0, "40", None),
    ];
    for (remote, p50, task, read, warning) in cases {
        let dir = tempfile::tempdir().unwrap();
        let doc = serde_json::json!({
            "timestamp": "2026-01-15T13:00:00",
            "experiment_name": "node_scaling_compute_4n",
            "metrics": {
                "total_tasks": 3, "successful_tasks": 3, "failed_tasks": 0,
                "total_duration_sec": 1.0, "throughput_tasks_per_sec": 3.0,
                "avg_latency_ms": p50, "p50_latency_ms": p50, "p95_latency_ms": p50, "p99_latency_ms": p50,
                "config": {"num_nodes": 4, "parallelism": 8, "num_tasks": 3, "use_remote": remote}
            },
            "latency_details": {"total_latencies_ms": [task * 0.9, task, task * 1.1]}
        });
        write(dir.path(), "in/run_metrics.json", doc.to_string());
        let (_, report) = validate(&dir.path().join("in"));
        let messages = messages(&report);
        match warning {
            Some(w) => assert!(
                messages.len() == 1 && messages[0].starts_with(w),
                "{remote} {p50}: {messages:?}"
            ),
            None => assert!(messages.is_empty(), "{remote} {p50}: {messages:?}"),
        }
        assert_eq!(p50s(dir.path()), [read], "{remote} {p50} {task}");
    }
}

#[test]
fn legacy_task_counts_that_do_not_add_up_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (name, successful, failed) in [("even", 97, 3), ("lost", 80, 5), ("extra", 150, 0)] {
        let doc = serde_json::json!({
            "timestamp": "2026-01-15T13:00:00",
            "experiment_name": name,
            "metrics": {
                "total_tasks": 100, "successful_tasks": successful, "failed_tasks": failed,
                "total_duration_sec": 10.0, "throughput_tasks_per_sec": 8.0,
                "avg_latency_ms": 0.04, "p50_latency_ms": 0.04, "p95_latency_ms": 0.05, "p99_latency_ms": 0.06,
                "config": {"num_nodes": 1, "parallelism": 2, "num_tasks": 100, "use_remote": false}
            }
        });
        write(dir.path(), &format!("{name}/{name}_metrics.json"), doc.to_string());
    }
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    let mut found: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "suspicious")
        .filter_map(|p| p["message"].as_str())
        .collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "successful_tasks 150 + failed_tasks 0 = 150 but total_tasks is 100: more outcomes than tasks; the success rate is over the 150 recorded",
            "successful_tasks 80 + failed_tasks 5 = 85 but total_tasks is 100: 15 tasks have no recorded outcome (lost, or a worker's metrics not read); the success rate is over the 85 recorded",
        ]
    );
}

#[test]
fn per_task_metrics_of_the_upstream_sink_are_skipped_with_their_keys_not_rejected_line_by_line() {
    // What upstream's workload4 leaves in its output folder beside results:
    // a header line naming `workload`, then task lines with a `timestamp`.
    let dir = tempfile::tempdir().unwrap();
    let mut lines = vec![r#"{"type": "header", "instance_id": "h_1_2", "start_time": 1.7e9, "hostname": "h", "pid": 1, "workload": "workload4"}"#.to_string()];
    lines.extend((0..3).map(|i| {
        format!(r#"{{"type": "task", "task_id": {i}, "query_id": "q{i}", "end_to_end_time": 1.2, "timestamp": 1.7e9}}"#)
    }));
    write(dir.path(), "w4/metrics_h_1_2.jsonl", lines.join("\n") + "\n");
    write(
        dir.path(),
        "w4/metrics_h_1_2.csv",
        "task_id,query_id,end_to_end_latency_ms,join_latency_ms\n0,q0,1200.00,100.00\n",
    );
    write(dir.path(), "w4/unified_results.jsonl", record("a") + "\n");
    let (code, doc) = validate(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(totals(&doc), [1, 1, 0, 0, 0], "{doc:#}");
    assert!(doc["problems"].as_array().unwrap().is_empty(), "{doc:#}");
    let skipped = skip_reasons(&doc);
    assert_eq!(
        skipped,
        [
            "a CSV without unified records (columns task_id, query_id, end_to_end_latency_ms, join_latency_ms): not a result format, not read",
            "JSON lines without unified records (line 1 has keys hostname, instance_id, pid, start_time, type, workload): not a result format, not read",
        ]
    );
    // A result file whose first record is damaged is still read line by line.
    let damaged = [
        r#"{"backend": "sage", "workload": "Q1", "run_id": "#.to_string(),
        record("b"),
    ];
    check_jsonl(&damaged, &[(1, "error", "malformed_json")], 1, 1);
}
