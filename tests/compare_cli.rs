//! `sagereport compare` end to end: the bundle, the mismatch check, the
//! statistics against reference values, gates, escaping, determinism.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn record(backend: &str, workload: &str, run: usize, throughput: f64, parallelism: u32) -> String {
    format!(
        r#"{{"backend": "{backend}", "workload": "{workload}", "run_id": "r{run}", "seed": 42, "nodes": 1, "parallelism": {parallelism}, "throughput": {throughput:?}, "latency_p50": 10.0, "latency_p95": {p95:?}, "latency_p99": {p99:?}, "success_rate": 1.0, "duration_seconds": 2.5, "timestamp": "2026-02-21T03:58:4{s}+00:00", "config_hash": "{h}", "backend_hash": null, "metadata": {{"scheduler_name": "fifo", "num_tasks": 100}}}}"#,
        p95 = 20.0 + run as f64,
        p99 = 30.0 + run as f64,
        s = run % 10,
        h = format_args!("{backend}-hash")
    )
}

fn write_side(dir: &Path, rel: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    path
}

fn compare(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(cwd)
        .arg("compare")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn sage_and_ray(dir: &Path, ray_parallelism: u32) {
    let sage: Vec<String> = [10.0, 12.0, 11.0, 13.0, 9.0]
        .iter()
        .enumerate()
        .map(|(i, t)| record("sage", "Q1", i, *t, 2))
        .collect();
    let ray: Vec<String> = [7.0, 8.0, 7.5, 8.5, 7.2]
        .iter()
        .enumerate()
        .map(|(i, t)| record("ray", "Q1", i, *t, ray_parallelism))
        .collect();
    write_side(dir, "results/sage", &sage);
    write_side(dir, "results/ray", &ray);
}

#[test]
fn bundle_has_every_artifact_and_reference_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    let (code, _, err) = compare(&["results", "--output-dir", "out"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let out = tmp.path().join("out");
    for f in [
        "summary.md",
        "comparison.csv",
        "summary.json",
        "ratio_forest.png",
        "ratio_forest.svg",
        "throughput_comparison.png",
        "throughput_comparison.svg",
        "latency_p95_p99_comparison.png",
        "latency_p95_p99_comparison.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let doc = summary(&out);
    assert_eq!(doc["schema_version"], 3);
    // Run ids: a count and a bounded sample per group (the full list is in comparison.csv).
    for g in doc["groups"].as_array().unwrap() {
        let sample = g["run_ids_sample"].as_array().unwrap();
        assert!(g.get("run_ids").is_none());
        assert_eq!(sample.len(), g["run_count"].as_u64().unwrap().min(10) as usize, "{g}");
    }
    assert_eq!(doc["baseline"], "sage");
    assert_eq!(doc["records"]["accepted"], 10);
    // [10, 12, 11, 13, 9]: mean 11, 95 % Student-t interval [9.036757, 12.963243] (R: t.test).
    let sage = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["side"] == "sage")
        .unwrap();
    let t = &sage["throughput"];
    assert!((t["mean"].as_f64().unwrap() - 11.0).abs() < 1e-9);
    assert!((t["ci_low"].as_f64().unwrap() - 9.036_757).abs() < 1e-6, "{t}");
    assert!((t["ci_high"].as_f64().unwrap() - 12.963_243).abs() < 1e-6, "{t}");
    // ray is clearly slower: significant, worse, ratio < 1 with an interval.
    let tp = doc["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "throughput")
        .unwrap();
    assert_eq!(tp["candidate"], "ray");
    assert_eq!(tp["verdict"], "worse", "{tp}");
    let ratio = tp["ratio"].as_f64().unwrap();
    assert!((ratio - 38.2 / 55.0).abs() < 1e-9, "{ratio}");
    assert!(tp["ci_low"].as_f64().unwrap() < ratio && ratio < tp["ci_high"].as_f64().unwrap());
    // Only the upstream hash differs (it names the backend): no mismatch, a note instead.
    assert_eq!(doc["mismatches"].as_array().unwrap().len(), 0, "{doc:#}");
    assert_eq!(doc["hash_notes"].as_array().unwrap().len(), 1);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Configuration mismatches\n\nNone"), "{md}");
    assert!(md.contains("11.00 ± 1.96"), "{md}");
}

#[test]
fn injected_mismatch_is_named_and_gates() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 4);
    let (code, stdout, _) = compare(&["results", "-o", "out", "--fail-on", "mismatch"], tmp.path());
    assert_eq!(code, 1);
    assert!(stdout.contains("MISMATCH Q1: parallelism"), "{stdout}");
    let doc = summary(&tmp.path().join("out"));
    let m = &doc["mismatches"][0];
    assert_eq!(m["fields"][0]["field"], "parallelism");
    assert_eq!(m["fields"][0]["values"]["sage"], "2");
    assert_eq!(m["fields"][0]["values"]["ray"], "4");
    let md = std::fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    let mismatch_at = md.find("⚠").expect("loud mismatch banner");
    assert!(mismatch_at < md.find("## Results").unwrap(), "mismatches come first");
}

#[test]
fn regression_gate_by_input() {
    let tmp = tempfile::tempdir().unwrap();
    let before: Vec<String> = (0..6).map(|i| record("sage", "Q1", i, 100.0 + i as f64, 2)).collect();
    let after: Vec<String> = (0..6).map(|i| record("sage", "Q1", i, 80.0 + i as f64, 2)).collect();
    write_side(tmp.path(), "main", &before);
    write_side(tmp.path(), "pr", &after);
    let (code, _, err) = compare(
        &[
            "--label",
            "main=main",
            "--label",
            "pr=pr",
            "--by",
            "input",
            "-o",
            "out",
            "--fail-on",
            "regression",
            "--threshold",
            "5%",
        ],
        tmp.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("regression: Q1 throughput main → pr"), "{err}");
    // Within threshold: a 50 % threshold does not trip.
    let (code, _, _) = compare(
        &[
            "--label",
            "main=main",
            "--label",
            "pr=pr",
            "-o",
            "out2",
            "--fail-on",
            "regression",
            "--threshold",
            "50%",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0);
}

#[test]
fn single_runs_get_no_interval_and_no_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    write_side(tmp.path(), "a", &[record("sage", "Q1", 0, 10.0, 2)]);
    write_side(tmp.path(), "b", &[record("ray", "Q1", 0, 8.0, 2)]);
    let (code, _, err) = compare(&["a", "b", "-o", "out"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let doc = summary(&tmp.path().join("out"));
    let g = &doc["groups"][0];
    assert_eq!(g["throughput"]["ci_low"], Value::Null);
    let c = &doc["comparisons"][0];
    assert_eq!(c["verdict"], "n/a");
    assert_eq!(c["p_value"], Value::Null);
}

#[test]
fn output_is_deterministic_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = "=cmd|' /C calc'!A0 <b>|x";
    let lines: Vec<String> = (0..3).map(|i| record("sage", hostile, i, 10.0 + i as f64, 2)).collect();
    write_side(tmp.path(), "in", &lines);
    assert_eq!(compare(&["in", "-o", "one"], tmp.path()).0, 0);
    assert_eq!(compare(&["in", "-o", "two"], tmp.path()).0, 0);
    for f in [
        "summary.md",
        "comparison.csv",
        "summary.json",
        "throughput_comparison.png",
        "latency_p95_p99_comparison.svg",
    ] {
        let a = std::fs::read(tmp.path().join("one").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("two").join(f)).unwrap();
        assert!(a == b, "{f} differs between identical runs");
    }
    let csv = std::fs::read_to_string(tmp.path().join("one/comparison.csv")).unwrap();
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",'=cmd|")),
        "formula not neutralized: {csv}"
    );
    assert!(!csv.contains(",=cmd"), "{csv}");
    let md = std::fs::read_to_string(tmp.path().join("one/summary.md")).unwrap();
    assert!(md.contains("\\=cmd\\|") || md.contains("=cmd\\|"), "{md}");
    assert!(!md.contains("<b>"), "raw HTML in markdown");
}

#[test]
fn charts_are_not_blank() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    assert_eq!(compare(&["results", "-o", "out"], tmp.path()).0, 0);
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(tmp.path().join("out/throughput_comparison.png")).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let first = &px[..channels];
    let differing = px.chunks(channels).filter(|p| p != &first).count();
    assert!(differing > px.len() / channels / 50, "PNG looks blank");
}

#[test]
fn compare_on_the_fixture_tree_reports_no_mismatch_for_paired_runs() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/clean");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = compare(
        &[
            fixtures.join("paired_backend_runs").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let doc = summary(&out);
    assert_eq!(
        doc["mismatches"].as_array().unwrap().len(),
        0,
        "{:#}",
        doc["mismatches"]
    );
    assert!(!doc["comparisons"].as_array().unwrap().is_empty());
}

#[test]
fn compare_on_the_faulty_fixture_tree_names_the_injected_mismatch() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/faulty");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, err) = compare(
        &[
            fixtures.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fail-on",
            "mismatch",
        ],
        tmp.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        stdout.contains("MISMATCH mismatch_probe: parallelism [ray: 4; sage: 2]"),
        "{stdout}"
    );
    let doc = summary(&out);
    let probe = doc["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["workload"] == "mismatch_probe")
        .unwrap();
    assert_eq!(probe["fields"].as_array().unwrap().len(), 1, "{probe}");
    // Rejected lines are accounted for and listed with file:line.
    assert!(doc["records"]["rejected"].as_u64().unwrap() > 0);
    assert!(doc["rejected"][0]["line"].is_number());
}

#[test]
fn summary_markdown_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    assert_eq!(compare(&["results", "-o", "out"], tmp.path()).0, 0);
    let md = std::fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    insta::assert_snapshot!("summary_md_sage_vs_ray", md);
}

#[test]
fn pr_comment_puts_the_verdict_and_changes_first_and_stays_under_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let before: Vec<String> = (0..6).map(|i| record("sage", "Q1", i, 100.0 + i as f64, 2)).collect();
    let after: Vec<String> = (0..6).map(|i| record("sage", "Q1", i, 80.0 + i as f64, 2)).collect();
    write_side(tmp.path(), "main", &before);
    write_side(tmp.path(), "pr", &after);
    let (code, stdout, err) = compare(&["main", "pr", "-o", "out", "--pr-comment", "-"], tmp.path());
    assert_eq!(code, 0, "{err}");
    // The counts line right under the title, then the changes, open; the rest collapsed.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[3], "**1 worse, 0 better, 2 ~, 0 unstable; 0 mismatches**",
        "{stdout}"
    );
    let changes = stdout.find("**Significant changes**").expect("changes section");
    let worse = stdout
        .find("| Q1 | throughput | main → pr | 6/6 |")
        .expect("the worse row");
    let details = stdout
        .find("<details><summary>All other 2 comparisons: 2 ~</summary>")
        .expect("the rest, collapsed");
    assert!(changes < worse && worse < details, "{stdout}");
    assert!(
        stdout.contains("❌ **1 significant regression(s) beyond 5.0%**"),
        "{stdout}"
    );
    assert!(stdout.len() < 65_536);

    // Thousands of workloads: still under GitHub's limit, with a note of what was cut.
    let many_a: Vec<String> = (0..3000)
        .flat_map(|w| (0..2).map(move |i| record("sage", &format!("w{w}"), i, 10.0 + i as f64, 2)))
        .collect();
    let many_b: Vec<String> = (0..3000)
        .flat_map(|w| (0..2).map(move |i| record("ray", &format!("w{w}"), i, 9.0 + i as f64, 2)))
        .collect();
    write_side(tmp.path(), "big/sage", &many_a);
    write_side(tmp.path(), "big/ray", &many_b);
    std::fs::create_dir_all(tmp.path().join("c")).unwrap();
    let (code, _, err) = compare(&["big", "-o", "out2", "--pr-comment", "c/comment.md"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let body = std::fs::read_to_string(tmp.path().join("c/comment.md")).unwrap();
    assert!(body.chars().count() < 65_536, "{}", body.len());
    assert!(body.contains("more row(s) in summary.md"), "truncation is said");
}

#[test]
fn a_baseline_that_names_no_side_is_refused_and_the_previous_bundle_kept() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    let (code, _, err) = compare(&["results", "-o", "out", "--baseline", "ray", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&tmp.path().join("out"))["baseline"], "ray");
    // A typo (or another case) must not quietly fall back to sage.
    let (code, _, err) = compare(&["results", "-o", "out", "--baseline", "Ray"], tmp.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--baseline \"Ray\" names no side") && err.contains("(--by backend) are: ray, sage"),
        "{err}"
    );
    assert_eq!(
        summary(&tmp.path().join("out"))["baseline"],
        "ray",
        "the earlier bundle stays"
    );
}

#[test]
fn inputs_that_overlap_or_share_a_side_name_are_refused_before_anything_is_counted_twice() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    for (args, says) in [
        (&["results", "results"][..], "the side name \"results\" is given twice"),
        (&["results", "results/"][..], "results and results/ are the same input"),
        (
            &["results", "results/sage"][..],
            "results/sage is inside results, also an input",
        ),
        (
            &["results/sage", "results"][..],
            "results/sage is inside results, also an input",
        ),
        (
            &["--label", "a=results/sage", "--label", "a=results/ray"][..],
            "the side name \"a\" is given twice",
        ),
        (
            &["results", "--label", "pr=results"][..],
            "results and results are the same input",
        ),
        (&["--label", " =results/sage"][..], "the side name is empty"),
        (&["--label", "a="][..], "the path is empty"),
    ] {
        let mut all = args.to_vec();
        all.extend(["-o", "out", "-q"]);
        let (code, _, err) = compare(&all, tmp.path());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!tmp.path().join("out").exists(), "{args:?}: nothing written");
    }
    // Side by side, the same folders are fine.
    let (code, _, err) = compare(&["results/sage", "results/ray", "-o", "out", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&tmp.path().join("out"))["records"]["accepted"], 10);
}

#[test]
fn a_result_folder_copied_beside_itself_adds_no_runs() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    let (code, _, err) = compare(&["results", "-o", "once", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    for side in ["sage", "ray"] {
        let from = tmp.path().join("results").join(side).join("unified_results.jsonl");
        let to = tmp.path().join("results/backup").join(side);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(from, to.join("unified_results.jsonl")).unwrap();
    }
    let (code, out, err) = compare(&["results", "-o", "copied"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 records accepted"), "{out}");
    let (once, copied) = (summary(&tmp.path().join("once")), summary(&tmp.path().join("copied")));
    assert_eq!(copied["records"]["duplicates"], 10);
    assert_eq!(once["groups"], copied["groups"], "the same n, means and intervals");
    assert_eq!(once["comparisons"], copied["comparisons"]);
}

#[test]
fn a_pr_comment_inside_the_bundle_folder_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(tmp.path(), 2);
    for comment in ["out/comment.md", "out"] {
        let (code, _, err) = compare(&["results", "-o", "out", "--pr-comment", comment], tmp.path());
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("it is inside the output folder out"), "{err}");
        assert!(!tmp.path().join("out").exists(), "{err}");
    }
    let (code, _, err) = compare(
        &["results", "-o", "out", "--pr-comment", "comment.md", "-q"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(tmp.path().join("comment.md").is_file());
}
