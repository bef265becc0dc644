//! Issue 15 end to end: one estimand (verdict, interval and gate agree),
//! multiplicity that keeps verdicts reachable, replicates only, unknown is
//! not different, failed runs are not measurements.

mod common;

use common::sagereport;
use serde_json::{json, Value};
use std::path::Path;

fn rec(backend: &str, workload: &str, run: usize, throughput: f64, extra: Value) -> String {
    let mut metadata = json!({"scheduler_name": "fifo", "num_tasks": 1000});
    if let (Some(m), Some(e)) = (metadata.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    json!({
        "backend": backend, "workload": workload, "run_id": format!("{backend}-{workload}-r{run}"), "seed": 42,
        "nodes": 1, "parallelism": 2, "throughput": throughput, "latency_p50": 10.0,
        "latency_p95": 20.0, "latency_p99": 30.0, "success_rate": 1.0, "duration_seconds": 2.5,
        "timestamp": "2026-11-21T10:00:00+00:00", "config_hash": null, "backend_hash": null, "metadata": metadata
    })
    .to_string()
}

fn write(dir: &Path, lines: &[String]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
}

fn summary(root: &Path, out: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join(out).join("summary.json")).unwrap()).unwrap()
}

/// 65 workloads × 3 metrics = 195 comparisons at 5 runs per side; Q1's
/// candidate runs at 70 % throughput. The gate must trip on it, and only on it.
#[test]
fn a_thirty_percent_regression_trips_the_gate_in_a_report_of_195_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let noise = [1.0, 0.991, 1.008, 0.996, 1.005];
    let (mut base, mut cand) = (Vec::new(), Vec::new());
    for w in 0..65 {
        let name = if w == 0 { "Q1".to_string() } else { format!("w{w}") };
        for (i, x) in noise.iter().enumerate() {
            base.push(rec("x", &name, i, 100.0 * x, json!({})));
            let scale = if w == 0 { 0.7 } else { 1.0 };
            cand.push(rec("x", &name, i, 100.0 * scale * noise[(i + 2) % 5], json!({})));
        }
    }
    write(&root.join("base"), &base);
    write(&root.join("pr"), &cand);
    let (code, _, err) = sagereport(
        &[
            "compare",
            "--label",
            "base=base",
            "--label",
            "pr=pr",
            "--by",
            "input",
            "--fail-on",
            "regression",
            "--threshold",
            "5%",
            "-o",
            "out",
        ],
        root,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("regression: Q1 throughput"), "{err}");
    let s = summary(root, "out");
    let comps = s["comparisons"].as_array().unwrap();
    assert_eq!(comps.len(), 195);
    let worse: Vec<&Value> = comps.iter().filter(|c| c["verdict"] == "worse").collect();
    assert_eq!(worse.len(), 1, "only Q1 throughput");
    assert!(
        worse[0]["ci_high"].as_f64().unwrap() < 1.0,
        "its adjusted interval excludes 1"
    );
    // Every verdict agrees with the interval shown beside it.
    for c in comps {
        let (lo, hi) = (c["ci_low"].as_f64(), c["ci_high"].as_f64());
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let spans = lo <= 1.0 && 1.0 <= hi;
            assert_eq!(spans, c["verdict"] == "~", "{c}");
        }
    }
}

/// `[100, 101, 102]` vs `[120, 121, 122]` among 200 comparisons: 3 runs per
/// side reach a verdict on a large consistent effect.
#[test]
fn three_runs_per_side_reach_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for w in 0..67 {
        for i in 0..3 {
            a.push(rec("a", &format!("w{w}"), i, 100.0 + i as f64, json!({})));
            let shift = if w == 0 { 20.0 } else { [0.4, -0.3, 0.1][i] };
            b.push(rec("b", &format!("w{w}"), i, 100.0 + i as f64 + shift, json!({})));
        }
    }
    write(&root.join("a"), &a);
    write(&root.join("b"), &b);
    let (code, _, err) = sagereport(&["compare", "a", "b", "--by", "input", "-o", "out"], root);
    assert_eq!(code, 0, "{err}");
    let s = summary(root, "out");
    let first = &s["comparisons"][0];
    assert_eq!(first["workload"], "w0");
    assert_eq!(first["verdict"], "better", "{first}");
}

/// A published data set that records no warmup/parity/shuffle fields beside
/// fresh runs that do: notes, not mismatches; `--fail-on mismatch` passes.
/// A field known on both sides with different values is still a mismatch,
/// with the records holding each value named.
#[test]
fn unknown_is_not_different() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fresh = json!({"warmup_items": 0, "parity_batch_size": 16, "shuffle_version": "deterministic_shuffle_v1"});
    write(
        &root.join("sage"),
        &(0..3)
            .map(|i| rec("sage", "Q1", i, 10.0 + i as f64, fresh.clone()))
            .collect::<Vec<_>>(),
    );
    write(
        &root.join("ray"),
        &(0..3)
            .map(|i| rec("ray", "Q1", i, 9.0 + i as f64, json!({})))
            .collect::<Vec<_>>(),
    );
    let (code, _, err) = sagereport(&["compare", "sage", "ray", "--fail-on", "mismatch", "-o", "out"], root);
    assert_eq!(code, 0, "{err}");
    let s = summary(root, "out");
    assert_eq!(s["mismatches"].as_array().unwrap().len(), 0);
    let fields: Vec<&str> = s["unverified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"warmup_items") && fields.contains(&"parity_batch_size"),
        "{fields:?}"
    );
    let md = std::fs::read_to_string(root.join("out/summary.md")).unwrap();
    assert!(
        md.contains("Cannot verify") && md.contains("not recorded by ray"),
        "{md}"
    );

    // Known on both sides, different: a mismatch naming file:line and run per value.
    write(
        &root.join("ray"),
        &(0..3)
            .map(|i| rec("ray", "Q1", i, 9.0, json!({"warmup_items": 50})))
            .collect::<Vec<_>>(),
    );
    let (code, _, _) = sagereport(&["compare", "sage", "ray", "--fail-on", "mismatch", "-o", "out"], root);
    assert_eq!(code, 1);
    let s = summary(root, "out");
    let m = &s["mismatches"][0]["fields"][0];
    assert_eq!(m["field"], "warmup_items");
    let ev = m["evidence"]["ray"][0].as_str().unwrap();
    assert!(
        ev.starts_with("50: ray/unified_results.jsonl:1 (run ray-Q1-r0)"),
        "{ev}"
    );
}

/// A run with success rate 0 is a failed run: a warning in validate, left
/// out of the statistics (n counts only measured runs), listed in the report.
#[test]
fn failed_runs_are_not_measurements() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut lines: Vec<String> = (0..3)
        .map(|i| rec("sage", "Q1", i, 10.0 + i as f64, json!({})))
        .collect();
    let failed = rec("sage", "Q1", 9, 0.0, json!({})).replace("\"success_rate\":1.0", "\"success_rate\":0.0");
    lines.push(failed);
    write(&root.join("sage"), &lines);
    let (code, out, _) = sagereport(&["validate", "sage"], root);
    assert_eq!(code, 0, "a warning, not an error");
    assert!(
        out.contains("sage/unified_results.jsonl:4: warning: a failed run"),
        "{out}"
    );
    let (code, _, err) = sagereport(&["compare", "sage", "-o", "out"], root);
    assert_eq!(code, 0, "{err}");
    let s = summary(root, "out");
    assert_eq!(s["groups"][0]["n"], 3, "the failed run is not averaged in");
    assert_eq!(s["failed_runs"][0]["at"], "sage/unified_results.jsonl:4");
    let md = std::fs::read_to_string(root.join("out/summary.md")).unwrap();
    assert!(md.contains("Failed runs (1)"), "{md}");
    let (code, _, _) = sagereport(&["compare", "sage", "-o", "all", "--include-failed"], root);
    assert_eq!(code, 0);
    assert_eq!(summary(root, "all")["groups"][0]["n"], 4);
}

/// Runs are the unit: [1.0, 1.0, 0.4] and [0.8, 0.8, 0.8] share a pooled
/// rate of 0.8 but not an interval; the first's t interval over per-run
/// rates is wide (mean 0.8, sd 0.346, t(2) = 4.303: half-width 0.861,
/// clipped to [0, 1]), the second's is [0.8, 0.8].
#[test]
fn success_rate_intervals_are_over_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let with_rate = |b: &str, i: usize, rate: f64| {
        rec(b, "Q1", i, 10.0, json!({})).replace("\"success_rate\":1.0", &format!("\"success_rate\":{rate}"))
    };
    write(
        &root.join("a"),
        &[with_rate("a", 0, 1.0), with_rate("a", 1, 1.0), with_rate("a", 2, 0.4)],
    );
    write(
        &root.join("b"),
        &[with_rate("b", 0, 0.8), with_rate("b", 1, 0.8), with_rate("b", 2, 0.8)],
    );
    let (code, _, err) = sagereport(&["compare", "a", "b", "-o", "out"], root);
    assert_eq!(code, 0, "{err}");
    let s = summary(root, "out");
    let groups = s["groups"].as_array().unwrap();
    let a = groups.iter().find(|g| g["side"] == "a").unwrap();
    let b = groups.iter().find(|g| g["side"] == "b").unwrap();
    assert_eq!(a["success_rate"]["method"], "mean of per-run rates, t interval");
    assert!(
        (a["success_rate"]["ci_low"].as_f64().unwrap() - 0.0).abs() < 1e-9,
        "{a}"
    );
    assert!(
        (b["success_rate"]["ci_low"].as_f64().unwrap() - 0.8).abs() < 1e-9,
        "{b}"
    );
}

/// Legacy exp1 folders whose records carry no pipeline field: the pipeline
/// comes from the run names (`{pipeline}_single_node`,
/// `{pipeline}_multi_{n}_nodes`) and Table 1 has one row per pipeline whose
/// cells are the raw files' throughputs — never one pooled row.
#[test]
fn table_one_keeps_pipelines_apart_on_legacy_exp1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let folder = root.join("exp1_single_vs_multi/results/run1");
    std::fs::create_dir_all(&folder).unwrap();
    let mut expected = Vec::new();
    for (p, base) in [("compute", 50.0), ("rag", 10.0), ("mixed", 20.0)] {
        for (name, nodes, factor) in [
            (format!("{p}_single_node"), 1, 1.0),
            (format!("{p}_multi_4_nodes"), 4, 3.0),
        ] {
            let tput = base * factor;
            expected.push((p, nodes, tput));
            let doc = json!({
                "timestamp": "2026-01-15T12:01:00", "experiment_name": name,
                "metrics": {"total_tasks": 200, "successful_tasks": 200, "failed_tasks": 0, "total_duration_sec": 20.0,
                    "throughput_tasks_per_sec": tput, "avg_latency_ms": 75.0, "p50_latency_ms": 70.0, "p95_latency_ms": 125.0,
                    "p99_latency_ms": 178.0,
                    "config": {"num_tasks": 200, "parallelism": 1, "num_nodes": nodes, "scheduler_type": "fifo", "use_remote": true}}
            });
            std::fs::write(folder.join(format!("{name}_metrics.json")), doc.to_string()).unwrap();
        }
    }
    let (code, _, err) = sagereport(&["tables", "exp1_single_vs_multi", "-o", "t", "--json"], root);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(root.join("t/tables.md")).unwrap();
    for (label, one, four) in [
        ("Compute", "50.0", "150.0"),
        ("RAG", "10.0", "30.0"),
        ("Mixed", "20.0", "60.0"),
    ] {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {label} |")))
            .unwrap_or_else(|| panic!("no {label} row:\n{md}"));
        assert!(row.contains(one) && row.contains(four), "{row}");
    }
    assert!(!md.contains("pipeline not recorded"), "{md}");
}
