//! The Ray backend end to end: `paired --backends local-dataflow,ray` on Q1
//! and exp2 against a live Ray head (`.ci/run` starts one with
//! `scripts/ray-local.sh up` and sets RAY_ADDRESS). Skipped only with
//! SAGEREPORT_SKIP_RAY=1 (loudly), or outside CI when no head is configured.

mod common;

use common::sagereport;
use serde_json::Value;
use std::path::Path;

fn ray_address() -> Option<String> {
    if std::env::var("SAGEREPORT_SKIP_RAY").as_deref() == Ok("1") {
        eprintln!("!!! SKIPPED: SAGEREPORT_SKIP_RAY=1 — the Ray backend was NOT tested !!!");
        return None;
    }
    match std::env::var("RAY_ADDRESS") {
        Ok(a) if !a.trim().is_empty() => Some(a),
        _ if std::env::var_os("CI").is_some() => panic!("RAY_ADDRESS is not set under CI: .ci/run must start a Ray head (scripts/ray-local.sh up)"),
        _ => {
            eprintln!("SKIPPED: RAY_ADDRESS is not set; start a head with `scripts/ray-local.sh up` and export what it prints");
            None
        }
    }
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn paired_local_dataflow_and_ray_share_the_config_and_do_not_mismatch() {
    let Some(address) = ray_address() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &["paired", "--backends", "local-dataflow,ray", "-e", "Q1,exp2", "--quick", "--ray-address", &address, "-o", "runs"],
        tmp.path(),
    );
    assert_eq!(code, 0, "paired failed:\n{out}\n{err}");
    let runs = tmp.path().join("runs/paired_backend_runs");
    let run_dir = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let hash_dir = std::fs::read_dir(&run_dir).unwrap().next().unwrap().unwrap().path();
    for side in ["local-dataflow", "ray"] {
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(hash_dir.join("backends").join(side).join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["status"], "success", "{side}: {manifest}");
    }
    for exp in ["Q1", "exp2"] {
        let local = records(&hash_dir.join("backends/local-dataflow").join(exp).join("unified_results.jsonl"));
        let ray = records(&hash_dir.join("backends/ray").join(exp).join("unified_results.jsonl"));
        assert_eq!(local.len(), ray.len(), "{exp}: record counts differ");
        for (l, r) in local.iter().zip(&ray) {
            assert_eq!(r["backend"], "ray");
            assert_eq!(l["workload"], r["workload"]);
            assert_eq!(l["config_hash"], r["config_hash"], "{exp}: shape hash differs");
            let m = &r["metadata"];
            assert_eq!(m["items_failed"], 0, "{exp}: a task was lost on Ray");
            assert_eq!(m["tasks_submitted"].as_u64().unwrap(), m["tasks_completed"].as_u64().unwrap() + m["tasks_failed"].as_u64().unwrap());
            assert!(r["throughput"].as_f64().unwrap() > 0.0);
            assert!(m["ray_version"].as_str().is_some());
        }
        let lm: Value = serde_json::from_str(&std::fs::read_to_string(hash_dir.join("backends/local-dataflow").join(exp).join("repro_manifest.json")).unwrap()).unwrap();
        let rm: Value = serde_json::from_str(&std::fs::read_to_string(hash_dir.join("backends/ray").join(exp).join("repro_manifest.json")).unwrap()).unwrap();
        assert_eq!(lm["config_hash"], rm["config_hash"]);
        assert_eq!(lm["split_sha256"], rm["split_sha256"], "{exp}: the same items in the same batches");
    }
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("runs/comparison/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["mismatches"].as_array().unwrap().len(), 0, "{}", summary["mismatches"]);
    assert_eq!(summary["sides"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unreachable_cluster_fails_at_once_with_the_command_that_starts_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["run", "-e", "Q1", "--quick", "--backend", "ray", "--ray-address", "http://127.0.0.1:9", "-o", "r"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("cannot reach the Ray Jobs API") && err.contains("scripts/ray-local.sh up"), "{err}");
    assert!(!tmp.path().join("r").exists(), "nothing is written when the cluster is absent");
}
