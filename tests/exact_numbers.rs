//! Integers are read as integers, never through f64 (issue 14, item 5):
//! seeds past 2^53 are kept exactly from JSONL and CSV, from the runner to
//! the bundle; a value that does not fit its field is an error at its
//! file:line naming the value as written, never clamped.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const CSV_HEADER: &str = "backend,workload,run_id,seed,nodes,parallelism,throughput,latency_p50,latency_p95,latency_p99,success_rate,duration_seconds,timestamp,config_hash,backend_hash";

fn sagereport(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One unified record with `seed` and `nodes` written verbatim.
fn jsonl(backend: &str, run: usize, seed: &str, nodes: &str) -> String {
    format!(
        r#"{{"backend": "{backend}", "workload": "Q1", "run_id": "r{run}", "seed": {seed}, "nodes": {nodes}, "parallelism": 2, "throughput": {t:?}, "latency_p50": 10.0, "latency_p95": 20.0, "latency_p99": 30.0, "success_rate": 1.0, "duration_seconds": 2.5, "timestamp": "2026-02-21T03:58:4{run}+00:00", "config_hash": null, "backend_hash": null}}"#,
        t = 10.0 + run as f64
    )
}

/// The same record as a unified CSV row.
fn csv_row(backend: &str, run: usize, seed: &str, nodes: &str) -> String {
    format!(
        "{backend},Q1,r{run},{seed},{nodes},2,{:?},10.0,20.0,30.0,1.0,2.5,2026-02-21T03:58:4{run}+00:00,,",
        10.0 + run as f64
    )
}

fn write(dir: &Path, rel: &str, text: String) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `seed` column of comparison.csv, cell by cell.
fn seed_column(bundle: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(bundle.join("comparison.csv")).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "seed")
        .expect("a seed column");
    reader.records().map(|r| r.unwrap()[at].to_string()).collect()
}

fn validate_json(path: &str, cwd: &Path) -> (i32, Value) {
    let (code, stdout, err) = sagereport(&["validate", path, "--json"], cwd);
    (
        code,
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {err}")),
    )
}

#[test]
fn run_with_the_largest_seed_then_compare_keeps_it_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(
        &[
            "run",
            "--seed",
            "18446744073709551615",
            "-e",
            "Q1",
            "--quick",
            "-o",
            "results",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "run: {err}");
    // The runner writes the seed exactly into JSONL, CSV and the manifest.
    let mut written = 0;
    for entry in walkdir::WalkDir::new(tmp.path().join("results")) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if ["unified_results.jsonl", "unified_results.csv", "repro_manifest.json"].contains(&name.as_str()) {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            assert!(text.contains("18446744073709551615"), "{name}: {text}");
            assert!(
                !text.contains("1.8446744073709552e19") && !text.contains("18446744073709552000"),
                "{name}: {text}"
            );
            written += 1;
        }
    }
    assert!(written >= 3, "the run wrote its results");

    let (code, _, err) = sagereport(&["compare", "results", "-o", "out"], tmp.path());
    assert_eq!(code, 0, "compare: {err}");
    let out = tmp.path().join("out");
    let seeds = seed_column(&out);
    assert!(!seeds.is_empty());
    assert!(seeds.iter().all(|s| s == "18446744073709551615"), "{seeds:?}");
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(
        summary.contains("18446744073709551615"),
        "summary.json names the seed (run ids): {summary}"
    );
    let doc: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(doc["records"]["rejected"], 0, "{:#}", doc["rejected"]);
}

#[test]
fn seeds_past_2_53_are_kept_exactly_from_jsonl_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let seeds = ["9007199254740993", "9223372036854775808", "18446744073709551615"];
    // JSONL only, CSV only, and JSONL + CSV twins (the CSV counted once).
    let lines: Vec<String> = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| jsonl("sage", i, s, "1"))
        .collect();
    write(tmp.path(), "in/jsonl/unified_results.jsonl", lines.join("\n") + "\n");
    let rows: Vec<String> = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| csv_row("ray", i, s, "1"))
        .collect();
    write(
        tmp.path(),
        "in/csv/unified_results.csv",
        format!("{CSV_HEADER}\n{}\n", rows.join("\n")),
    );
    write(
        tmp.path(),
        "in/twins/unified_results.jsonl",
        jsonl("sage", 7, "9007199254740993", "1") + "\n",
    );
    write(
        tmp.path(),
        "in/twins/unified_results.csv",
        format!("{CSV_HEADER}\n{}\n", csv_row("sage", 7, "9007199254740993", "1")),
    );
    // Not twins: the rows differ only in a seed f64 cannot tell apart
    // (2^53 and 2^53 + 1); both are kept.
    write(
        tmp.path(),
        "in/near/unified_results.jsonl",
        jsonl("ray", 8, "9007199254740992", "1") + "\n",
    );
    write(
        tmp.path(),
        "in/near/unified_results.csv",
        format!("{CSV_HEADER}\n{}\n", csv_row("ray", 8, "9007199254740993", "1")),
    );

    let (code, doc) = validate_json("in", tmp.path());
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["records"]["rejected"], 0, "{doc:#}");
    assert_eq!(doc["records"]["accepted"], 3 + 3 + 1 + 2, "{doc:#}");
    assert_eq!(doc["records"]["twins_merged"], 1, "{doc:#}");
    assert!(doc["problems"].as_array().unwrap().is_empty(), "{doc:#}");

    let (code, _, err) = sagereport(&["compare", "in", "-o", "out"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let mut got = seed_column(&tmp.path().join("out"));
    got.sort();
    let mut want: Vec<&str> = seeds.iter().chain(&seeds).copied().collect();
    want.extend(["9007199254740993", "9007199254740992", "9007199254740993"]);
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn nodes_that_do_not_fit_are_an_error_at_file_line_naming_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [jsonl("sage", 0, "42", "1"), jsonl("sage", 1, "42", "4294967301")];
    write(tmp.path(), "in/unified_results.jsonl", lines.join("\n") + "\n");
    write(
        tmp.path(),
        "in/unified_results.csv",
        format!(
            "{CSV_HEADER}\n{}\n{}\n",
            csv_row("ray", 2, "42", "1"),
            csv_row("ray", 3, "42", "4294967301")
        ),
    );
    let (code, stdout, err) = sagereport(&["validate", "in"], tmp.path());
    assert_eq!(code, 1, "{stdout}{err}");
    for file in ["unified_results.jsonl:2", "unified_results.csv:3"] {
        let line = stdout
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file}: {stdout}"));
        assert!(line.contains("error") && line.contains("nodes is 4294967301"), "{line}");
    }
    assert!(
        !stdout.contains("4294967295;") && !stdout.contains("nodes is 4294967295"),
        "never clamped: {stdout}"
    );
    let (_, doc) = validate_json("in", tmp.path());
    assert_eq!(doc["records"]["accepted"], 2, "{doc:#}");
    assert_eq!(doc["records"]["rejected"], 2, "{doc:#}");
    assert!(
        doc["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["kind"] == "out_of_range"),
        "{doc:#}"
    );
}

#[test]
fn seeds_that_are_not_u64_are_errors_naming_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = [
        ("1.5", "invalid_value"),
        ("-1", "negative_value"),
        ("18446744073709551616", "out_of_range"),
    ];
    let lines: Vec<String> = bad
        .iter()
        .enumerate()
        .map(|(i, (s, _))| jsonl("sage", i, s, "1"))
        .collect();
    write(tmp.path(), "in/unified_results.jsonl", lines.join("\n") + "\n");
    let rows: Vec<String> = bad
        .iter()
        .enumerate()
        .map(|(i, (s, _))| csv_row("ray", i, s, "1"))
        .collect();
    write(
        tmp.path(),
        "in/unified_results.csv",
        format!("{CSV_HEADER}\n{}\n", rows.join("\n")),
    );
    let (code, doc) = validate_json("in", tmp.path());
    assert_eq!(code, 1);
    assert_eq!(doc["records"]["accepted"], 0, "{doc:#}");
    let problems = doc["problems"].as_array().unwrap();
    for (file, first_line) in [("unified_results.jsonl", 1), ("unified_results.csv", 2)] {
        for (i, (seed, kind)) in bad.iter().enumerate() {
            let p = problems
                .iter()
                .find(|p| p["file"].as_str().unwrap().ends_with(file) && p["line"] == first_line + i)
                .unwrap_or_else(|| panic!("{file}:{}: {doc:#}", first_line + i));
            assert_eq!(p["severity"], "error", "{p}");
            assert_eq!(p["kind"], *kind, "{p}");
            let message = p["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("seed is {seed};")), "{message}");
        }
    }
}
