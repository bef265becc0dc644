//! Generated trees: `validate` reports every injected fault at its exact
//! file:line, the totals match what the generator wrote, and the trees
//! committed under `fixtures/trees/` are exactly the generator's output.

use assert_cmd::Command;
use sagereport::synth::{generate, Shape, TreeSpec};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The committed fixture trees and the specs that produce them.
fn fixture_specs() -> Vec<(&'static str, TreeSpec)> {
    let clean = TreeSpec {
        runs: 4,
        records_per_run: 5,
        seed: 7,
        faults: false,
        legacy: true,
        twins: true,
        shape: Shape::Mixed,
    };
    let faulty = TreeSpec {
        runs: 4,
        records_per_run: 5,
        seed: 7,
        faults: true,
        legacy: true,
        twins: true,
        shape: Shape::Mixed,
    };
    vec![("clean", clean), ("faulty", faulty)]
}

fn validate_json(dir: &Path) -> (i32, Value) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .args(["validate", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

fn relative(file: &str, root: &Path) -> String {
    Path::new(file)
        .strip_prefix(root)
        .unwrap_or(Path::new(file))
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn every_injected_fault_is_reported_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(&TreeSpec::small(), dir.path()).unwrap();
    let (code, doc) = validate_json(dir.path());
    assert_eq!(code, 1, "a tree with faults must fail validation");

    let reported: BTreeSet<(String, Option<u64>, String, String)> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                relative(p["file"].as_str().unwrap(), dir.path()),
                p["line"].as_u64(),
                p["kind"].as_str().unwrap().to_string(),
                p["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in &manifest.problems {
        let key = (
            want.path.clone(),
            want.line.map(u64::from),
            want.kind.to_string(),
            want.severity.to_string(),
        );
        assert!(
            reported.contains(&key),
            "injected fault not reported: {key:?}\nreported: {reported:#?}"
        );
    }
    // Nothing reported as an error that was not injected.
    let injected: BTreeSet<_> = manifest
        .problems
        .iter()
        .map(|p| (p.path.clone(), p.line.map(u64::from), p.kind.to_string()))
        .collect();
    for (path, line, kind, severity) in &reported {
        if severity == "error" {
            assert!(
                injected.contains(&(path.clone(), *line, kind.clone())),
                "unexpected error {path}:{line:?} {kind}"
            );
        }
    }

    let r = &doc["records"];
    assert_eq!(r["read"].as_u64().unwrap(), manifest.expected_read, "{r}");
    assert_eq!(r["accepted"].as_u64().unwrap(), manifest.expected_accepted, "{r}");
    assert_eq!(r["rejected"].as_u64().unwrap(), manifest.expected_rejected, "{r}");
    assert_eq!(
        r["twins_merged"].as_u64().unwrap(),
        manifest.expected_twins_merged,
        "{r}"
    );
    assert_eq!(r["duplicates"].as_u64().unwrap(), manifest.expected_duplicates, "{r}");
}

#[test]
fn a_clean_tree_validates_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TreeSpec {
        faults: false,
        ..TreeSpec::small()
    };
    let manifest = generate(&spec, dir.path()).unwrap();
    let (code, doc) = validate_json(dir.path());
    let errors: Vec<&Value> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(code, 0);
    assert_eq!(doc["records"]["accepted"].as_u64().unwrap(), manifest.expected_accepted);
    assert_eq!(doc["records"]["rejected"].as_u64().unwrap(), 0);
}

fn files_of(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                relative(&e.path().display().to_string(), root),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn committed_fixture_trees_match_the_generator() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees");
    for (name, spec) in fixture_specs() {
        let dir = tempfile::tempdir().unwrap();
        generate(&spec, dir.path()).unwrap();
        let committed = fixtures.join(name);
        let want = files_of(dir.path());
        let got = files_of(&committed);
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<BTreeSet<_>>();
        let (g, w) = (names(&got), names(&want));
        let missing: Vec<_> = w.difference(&g).take(3).collect();
        let extra: Vec<_> = g.difference(&w).take(3).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "fixtures/trees/{name} is out of date (missing {missing:?}, extra {extra:?}); regenerate: \
             rm -rf fixtures/trees/{name} && cargo run --release -- synth --output-dir fixtures/trees/{name} --runs 4 --records 5{}",
            if spec.faults { "" } else { " --no-faults" }
        );
        for ((n, a), (_, b)) in got.iter().zip(&want) {
            assert!(
                a == b,
                "fixtures/trees/{name}/{n} differs from the generator's output; regenerate it"
            );
        }
    }
}

#[test]
fn generation_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(&TreeSpec::small(), a.path()).unwrap();
    generate(&TreeSpec::small(), b.path()).unwrap();
    assert!(files_of(a.path()) == files_of(b.path()));
}

/// Run the binary; (exit code, stdout as JSON or Null, stderr).
fn run_bin(args: &[&str], dir: &Path) -> (i32, Value, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_harness_tree_ingests_exactly_as_synth_says() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let (code, synth, stderr) = run_bin(
        &[
            "synth",
            "--json",
            "--shape",
            "harness",
            "--runs",
            "40",
            "--records",
            "20",
            "-o",
        ],
        &tree,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(synth["shape"], "harness");
    assert_eq!(
        synth["injected_problems"],
        serde_json::json!([]),
        "no faults without --faults"
    );

    let (code, doc, stderr) = run_bin(&["validate", "--json"], &tree);
    assert_eq!(code, 0, "a harness tree validates without errors: {stderr}");
    let want = &synth["expected"];
    let got = &doc["records"];
    for key in ["read", "accepted", "rejected", "twins_merged", "duplicates"] {
        assert_eq!(got[key], want[key], "{key}: validate {got}, synth {want}");
    }
    assert!(want["read"].as_u64().unwrap() > 40 * 20);
    assert!(want["twins_merged"].as_u64().unwrap() > 0);

    // Every warning is a notice synth announced, and the other way round.
    let notice = |p: &Value, file: &str| (relative(file, &tree), p["kind"].as_str().unwrap().to_string());
    let reported: BTreeSet<(String, String)> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| notice(p, p["file"].as_str().unwrap()))
        .collect();
    let announced: BTreeSet<(String, String)> = synth["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reported, announced);
    assert!(announced.iter().any(|(_, k)| k == "paired_run_failed"));

    // Every file synth calls a non-result is skipped, and nothing else.
    let skipped: BTreeSet<String> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["format"] == "skipped")
        .map(|f| relative(f["path"].as_str().unwrap(), &tree))
        .collect();
    let listed: BTreeSet<String> = synth["skipped_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped, listed);

    // A combination that makes no sense is a usage error.
    let (code, _, stderr) = run_bin(&["synth", "--shape", "harness", "--paper", "-o"], &dir.path().join("x"));
    assert_eq!(code, 2);
    assert!(stderr.contains("--paper") && stderr.contains("--shape"), "{stderr}");
    let (code, _, stderr) = run_bin(&["synth", "--faults", "--no-faults", "-o"], &dir.path().join("y"));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_wide_tree_of_no_workloads_is_a_usage_error_not_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["synth", "-o", "wide", "--workloads", "0"][..],
        &["bench", "--workloads", "0"],
    ] {
        let out = Command::cargo_bin("sagereport")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("0 is not in 1..="),
            "{args:?}"
        );
    }
    assert!(!dir.path().join("wide").exists());
}
