//! The SAGE backend end to end: `paired --backends sage,local-dataflow` on
//! Q1 and exp2 with the published SAGE kernel (`.ci/run` creates its
//! virtualenv with `scripts/sage-local.sh up` and exports
//! SAGEREPORT_SAGE_VENV), and `sage,ray` when RAY_ADDRESS names a Ray head.
//! Skipped only with SAGEREPORT_SKIP_SAGE=1 (loudly), or outside CI when no
//! SAGE virtualenv exists. The failure paths (no virtualenv, a crashed or
//! hung driver) run everywhere, against a stand-in python.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sage_venv() -> Option<PathBuf> {
    if std::env::var("SAGEREPORT_SKIP_SAGE").as_deref() == Ok("1") {
        eprintln!("!!! SKIPPED: SAGEREPORT_SKIP_SAGE=1 — the SAGE backend was NOT tested !!!");
        return None;
    }
    let venv = match std::env::var_os("SAGEREPORT_SAGE_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/sagereport/sage-venv"),
    };
    if venv.join("bin/python").exists() {
        return Some(venv);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "no SAGE virtualenv at {} under CI: .ci/run must create it (scripts/sage-local.sh up)",
            venv.display()
        );
    }
    eprintln!(
        "SKIPPED: no SAGE virtualenv at {}; create it with `scripts/sage-local.sh up` and export what it prints",
        venv.display()
    );
    None
}

fn sagereport_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sagereport"));
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REF_NAME")
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The one `config_hash=…` folder of a paired run under `runs/`.
fn hash_dir(root: &Path) -> PathBuf {
    let runs = root.join("runs/paired_backend_runs");
    let run_dir = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    std::fs::read_dir(&run_dir).unwrap().next().unwrap().unwrap().path()
}

/// SAGE's scheduler class for each policy (README "SAGE backend").
fn expected_class(policy: &str) -> &'static str {
    match policy {
        "fifo" => "sage.kernel.scheduler.impl.simple_scheduler.FIFOScheduler",
        "round_robin" => "sage.kernel.scheduler.impl.round_robin_scheduler.RoundRobinScheduler",
        "load_aware_spread" | "load_aware_pack" => {
            "sage.kernel.scheduler.impl.resource_aware_scheduler.LoadAwareScheduler"
        }
        "priority" => "sage.kernel.scheduler.impl.priority_scheduler.PriorityScheduler",
        other => panic!("unknown policy {other}"),
    }
}

fn check_paired(root: &Path, other: &str) {
    let hash_dir = hash_dir(root);
    for side in ["sage", other] {
        let manifest = json(&hash_dir.join("backends").join(side).join("manifest.json"));
        assert_eq!(manifest["status"], "success", "{side}: {manifest}");
    }
    let mut policies = std::collections::BTreeSet::new();
    for exp in ["Q1", "exp2"] {
        let sage = records(&hash_dir.join("backends/sage").join(exp).join("unified_results.jsonl"));
        let theirs = records(
            &hash_dir
                .join("backends")
                .join(other)
                .join(exp)
                .join("unified_results.jsonl"),
        );
        assert_eq!(sage.len(), theirs.len(), "{exp}: record counts differ");
        for (s, o) in sage.iter().zip(&theirs) {
            assert_eq!(s["backend"], "sage");
            assert_eq!(s["workload"], o["workload"]);
            assert_eq!(s["config_hash"], o["config_hash"], "{exp}: shape hash differs");
            let m = &s["metadata"];
            assert_eq!(m["status"], "complete", "{exp}: {m}");
            assert_eq!(m["items_failed"], 0, "{exp}: an item was lost on SAGE");
            assert_eq!(m["items"], o["metadata"]["items"], "{exp}: item counts differ");
            assert_eq!(
                m["tasks_submitted"].as_u64().unwrap(),
                m["tasks_completed"].as_u64().unwrap() + m["tasks_failed"].as_u64().unwrap()
            );
            assert!(s["throughput"].as_f64().unwrap() > 0.0);
            assert_eq!(
                m["generator"], o["metadata"]["generator"],
                "{exp}: one generator on both sides"
            );
            if !m["generator"].is_null() {
                common::assert_generates_on_the_shared_endpoint(s);
            }
            assert_eq!(m["sage_runtime"], "local");
            assert_eq!(m["execution_model"], "sage");
            assert!(m["sage_version"].as_str().is_some_and(|v| !v.is_empty()), "{m}");
            let policy = m["scheduler"].as_str().unwrap();
            assert_eq!(
                m["sage_scheduler"],
                expected_class(policy),
                "{exp}/{}: not SAGE's scheduler for {policy}",
                s["workload"]
            );
            if policy.starts_with("load_aware") {
                assert_eq!(
                    m["sage_scheduler_params"]["strategy"],
                    policy.trim_start_matches("load_aware_")
                );
            }
            policies.insert(policy.to_string());
        }
        let sm = json(&hash_dir.join("backends/sage").join(exp).join("repro_manifest.json"));
        let om = json(
            &hash_dir
                .join("backends")
                .join(other)
                .join(exp)
                .join("repro_manifest.json"),
        );
        assert_eq!(sm["status"], "complete");
        assert_eq!(sm["config_hash"], om["config_hash"]);
        assert_eq!(
            sm["split_sha256"], om["split_sha256"],
            "{exp}: the same items in the same batches"
        );
        assert!(hash_dir.join("backends/sage").join(exp).join("task_latencies").is_dir());
    }
    assert_eq!(policies.len(), 5, "exp2 runs every policy on SAGE: {policies:?}");
    let summary = json(&root.join("runs/comparison/summary.json"));
    assert_eq!(
        summary["mismatches"].as_array().unwrap().len(),
        0,
        "{}",
        summary["mismatches"]
    );
    assert_eq!(summary["sides"].as_array().unwrap().len(), 2);
}

#[test]
fn paired_sage_and_local_dataflow_share_the_config_and_do_not_mismatch() {
    let Some(venv) = sage_venv() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let v = venv.display().to_string();
    let (code, out, err) = sagereport_env(
        &[
            "paired",
            "--backends",
            "sage,local-dataflow",
            "-e",
            "Q1,exp2",
            "--quick",
            "-o",
            "runs",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &v)],
    );
    assert_eq!(code, 0, "paired failed:\n{out}\n{err}");
    check_paired(tmp.path(), "local-dataflow");
}

#[test]
fn paired_sage_and_ray_when_a_ray_head_is_configured() {
    let Some(venv) = sage_venv() else { return };
    let address = match std::env::var("RAY_ADDRESS") {
        Ok(a) if !a.trim().is_empty() && std::env::var("SAGEREPORT_SKIP_RAY").as_deref() != Ok("1") => a,
        _ => {
            eprintln!("SKIPPED (sage,ray): RAY_ADDRESS is not set; `scripts/ray-local.sh up` starts a head");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let v = venv.display().to_string();
    let (code, out, err) = sagereport_env(
        &[
            "paired",
            "--backends",
            "sage,ray",
            "-e",
            "Q1,exp2",
            "--quick",
            "--ray-address",
            &address,
            "-o",
            "runs",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &v)],
    );
    assert_eq!(code, 0, "paired failed:\n{out}\n{err}");
    check_paired(tmp.path(), "ray");
}

#[test]
fn a_missing_sage_virtualenv_fails_at_once_with_the_command_that_creates_it() {
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("no-venv").display().to_string();
    let (code, _, err) = sagereport_env(
        &["run", "-e", "Q1", "--quick", "--backend", "sage", "-o", "r"],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &none)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scripts/sage-local.sh up"), "{err}");
    assert!(!tmp.path().join("r").exists(), "nothing is written when SAGE is absent");
    // paired: before either side runs (local-dataflow first would otherwise run).
    let (code, _, err) = sagereport_env(
        &[
            "paired",
            "--backends",
            "local-dataflow,sage",
            "-e",
            "Q1",
            "--quick",
            "-o",
            "p",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &none)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scripts/sage-local.sh up"), "{err}");
    assert!(
        !tmp.path().join("p/paired_backend_runs").exists()
            || std::fs::read_dir(tmp.path().join("p/paired_backend_runs"))
                .unwrap()
                .next()
                .is_none()
    );
}

/// A virtualenv whose python answers the install probe and then, as the
/// driver, does what FAKE_SAGE_DRIVER says: `crash` or `hang`.
fn fake_venv(root: &Path) -> PathBuf {
    let venv = root.join("fake-venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    let python = venv.join("bin/python");
    std::fs::write(
        &python,
        "#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then echo 0.2.5.3; exit 0; fi\necho 'fake sage driver: starting'\ncase \"$FAKE_SAGE_DRIVER\" in\n  crash) echo 'Traceback: RuntimeError: boom in the pipeline' >&2; exit 1;;\n  hang) echo 'fake sage driver: all items at the sink, submit() never returns'; sleep 600; echo never;;\nesac\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    venv
}

#[test]
fn a_crashed_driver_is_reported_with_its_log_and_paired_writes_a_failure_report() {
    let tmp = tempfile::tempdir().unwrap();
    let venv = fake_venv(tmp.path()).display().to_string();
    let env = [("SAGEREPORT_SAGE_VENV", venv.as_str()), ("FAKE_SAGE_DRIVER", "crash")];
    let (code, _, err) = sagereport_env(
        &["run", "-e", "Q1", "--quick", "--backend", "sage", "-o", "r"],
        tmp.path(),
        &env,
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the SAGE driver failed (exit 1)") && err.contains("boom in the pipeline"),
        "{err}"
    );
    assert!(
        !tmp.path().join("r/Q1/sage/unified_results.jsonl").exists(),
        "no results from a crashed driver"
    );
    let (code, _, err) = sagereport_env(
        &[
            "paired",
            "--backends",
            "sage,local-dataflow",
            "-e",
            "Q1",
            "--quick",
            "-o",
            "runs",
        ],
        tmp.path(),
        &env,
    );
    assert_eq!(code, 1, "{err}");
    let side = hash_dir(tmp.path()).join("backends/sage");
    let report = json(&side.join("failure_report.json"));
    assert_eq!(report["status"], "failed");
    assert!(
        report["error"].as_str().unwrap().contains("boom in the pipeline"),
        "{report}"
    );
    assert!(!side.join("manifest.json").exists());
}

#[test]
fn a_hung_driver_is_killed_after_the_timeout_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let venv = fake_venv(tmp.path()).display().to_string();
    let env = [
        ("SAGEREPORT_SAGE_VENV", venv.as_str()),
        ("FAKE_SAGE_DRIVER", "hang"),
        ("SAGEREPORT_SAGE_KILL_GRACE", "1"),
    ];
    let started = std::time::Instant::now();
    let (code, _, err) = sagereport_env(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--backend",
            "sage",
            "--sage-timeout",
            "1",
            "-o",
            "r",
        ],
        tmp.path(),
        &env,
    );
    assert!(
        started.elapsed().as_secs() < 30,
        "the hung driver was not killed in time"
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("did not finish within 2 s")
            && err.contains("it was killed")
            && err.contains("submit() never returns"),
        "{err}"
    );
    assert!(!tmp.path().join("r/Q1/sage/unified_results.jsonl").exists());
}

#[test]
fn the_sage_driver_stops_itself_at_the_timeout_and_nothing_is_written_as_complete() {
    let Some(venv) = sage_venv() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let v = venv.display().to_string();
    // ~3000 items at a few hundred per second: far beyond a 1 s budget.
    let (code, _, err) = sagereport_env(
        &[
            "run",
            "-e",
            "Q1",
            "--num-tasks",
            "3000",
            "--backend",
            "sage",
            "--sage-timeout",
            "1",
            "-o",
            "r",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &v)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("at --sage-timeout 1 s before every item reached the sink"),
        "{err}"
    );
    assert!(!tmp.path().join("r/Q1/sage/unified_results.jsonl").exists());
}

/// Issue 16 §1/§2/§4 on SAGE: closed-loop latency per request (the parts
/// add up to it), timed items in parity batches, tasks counted where they
/// are submitted, and Q3's tenants running at once.
#[test]
fn sage_runs_parity_batches_and_concurrent_tenants() {
    let Some(venv) = sage_venv() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let v = venv.display().to_string();
    let (code, out, err) = sagereport_env(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--parity-batch-size",
            "5",
            "--backend",
            "sage",
            "-o",
            "res",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &v)],
    );
    assert_eq!(code, 0, "run failed:\n{out}\n{err}");
    let dir = tmp.path().join("res/Q1/sage");
    common::assert_q1_runs_in_batches_of_5(&dir);
    for (file, rows) in common::traces(&dir) {
        for row in rows {
            let parts: f64 = [
                "scheduling_latency_ms",
                "queue_latency_ms",
                "execution_latency_ms",
                "transfer_latency_ms",
            ]
            .iter()
            .map(|k| common::num(&row, k))
            .sum();
            let total = common::num(&row, "total_latency_ms");
            assert!(
                (parts - total).abs() < 0.01,
                "{file}: parts {parts} ms vs latency {total} ms"
            );
        }
    }
    let (code, out, err) = sagereport_env(
        &[
            "run",
            "-e",
            "Q3",
            "--quick",
            "--repeat",
            "2",
            "--backend",
            "sage",
            "-o",
            "res3",
        ],
        tmp.path(),
        &[("SAGEREPORT_SAGE_VENV", &v)],
    );
    assert_eq!(code, 0, "run failed:\n{out}\n{err}");
    common::assert_q3_runs_its_tenants_together(
        &records(&tmp.path().join("res3/Q3/sage/unified_results.jsonl")),
        "sage",
    );
}
