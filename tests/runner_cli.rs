//! `run`, `paired` and `demo` end to end on the embedded engine: the same
//! split and config hash on both execution models, no mismatch between
//! them, no task lost, files the rest of sagereport reads.

mod common;

use common::{num, sagereport, traces};
use serde_json::Value;
use std::path::Path;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn both_models_share_the_split_and_config_hash_and_compare_without_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    for backend in ["local-dataflow", "local-tasks"] {
        let (code, _, err) = sagereport(
            &[
                "run",
                "-e",
                "Q1,exp2",
                "--quick",
                "--repeat",
                "2",
                "--warmup-items",
                "4",
                "--backend",
                backend,
                "-o",
                "res",
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
    }
    for exp in ["Q1", "exp2"] {
        let a = json(&tmp.path().join(format!("res/{exp}/local-dataflow/repro_manifest.json")));
        let b = json(&tmp.path().join(format!("res/{exp}/local-tasks/repro_manifest.json")));
        assert_eq!(
            a["config_hash"], b["config_hash"],
            "{exp}: config hash differs across backends"
        );
        assert_eq!(
            a["split_sha256"], b["split_sha256"],
            "{exp}: item split differs across backends"
        );
        assert_eq!(a["deterministic_shuffle_version"], "deterministic_shuffle_v1");
        assert_eq!(a["warmup_items"], 4);
        // The manifest covers every workload's split, and each record carries its own.
        let splits: std::collections::BTreeMap<String, String> = a["splits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["workload"].as_str().unwrap().to_string(),
                    s["split_sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let workloads: std::collections::BTreeSet<String> = records(
            &tmp.path()
                .join(format!("res/{exp}/local-dataflow/unified_results.jsonl")),
        )
        .iter()
        .map(|r| r["workload"].as_str().unwrap().to_string())
        .collect();
        assert_eq!(
            splits.keys().cloned().collect::<std::collections::BTreeSet<_>>(),
            workloads,
            "{exp}: one split per workload"
        );
        for r in records(
            &tmp.path()
                .join(format!("res/{exp}/local-dataflow/unified_results.jsonl")),
        ) {
            assert_eq!(
                r["metadata"]["split_sha256"].as_str().unwrap(),
                splits[r["workload"].as_str().unwrap()]
            );
        }
        let ra = records(
            &tmp.path()
                .join(format!("res/{exp}/local-dataflow/unified_results.jsonl")),
        );
        let rb = records(&tmp.path().join(format!("res/{exp}/local-tasks/unified_results.jsonl")));
        assert_eq!(ra.len(), rb.len());
        for (x, y) in ra.iter().zip(&rb) {
            assert_eq!(x["workload"], y["workload"]);
            assert_eq!(x["config_hash"], y["config_hash"], "record shape hash differs");
            let m = &x["metadata"];
            assert_eq!(
                m["tasks_submitted"].as_u64().unwrap(),
                m["tasks_completed"].as_u64().unwrap() + m["tasks_failed"].as_u64().unwrap()
            );
        }
    }
    let (code, _, err) = sagereport(&["validate", "res", "-q"], tmp.path());
    assert_eq!(code, 0, "runner output must validate cleanly: {err}");
    let (code, _, err) = sagereport(
        &[
            "compare",
            "res",
            "--baseline",
            "local-dataflow",
            "-o",
            "cmp",
            "--fail-on",
            "mismatch",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let summary = json(&tmp.path().join("cmp/summary.json"));
    assert_eq!(summary["mismatches"].as_array().unwrap().len(), 0);
    assert_eq!(summary["records"]["rejected"], 0);
    assert!(summary["comparisons"].as_array().unwrap().len() >= 3);
}

/// The per-item trace rows of a result folder, as header → value maps.
/// Scheduling + queueing + execution + transfer = end-to-end, per item (in
/// every trace) and per record (the means), within the files' rounding.
fn assert_latency_decomposes(root: &Path, backend: &str) {
    for exp in [
        "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "exp1", "exp2", "exp3", "exp4",
    ] {
        let dir = root.join(exp).join(backend);
        for r in records(&dir.join("unified_results.jsonl")) {
            let m = &r["metadata"];
            let parts: f64 = ["scheduling_ms", "queue_ms", "execution_ms", "transfer_ms"]
                .iter()
                .map(|k| m[k].as_f64().unwrap())
                .sum();
            let total = m["avg_latency_ms"].as_f64().unwrap();
            assert!(
                (parts - total).abs() < 1e-3,
                "{exp} {backend} {}: parts {parts} vs end-to-end {total}",
                r["workload"]
            );
        }
        for (file, rows) in traces(&dir) {
            assert!(!rows.is_empty(), "{file}");
            for row in rows {
                let parts: f64 = [
                    "scheduling_latency_ms",
                    "queue_latency_ms",
                    "execution_latency_ms",
                    "transfer_latency_ms",
                ]
                .iter()
                .map(|k| num(&row, k))
                .sum();
                let total = num(&row, "total_latency_ms");
                assert!(
                    (parts - total).abs() < 1e-3,
                    "{file}: item {}: parts {parts} vs end-to-end {total}",
                    row["item"]
                );
                assert!(
                    (num(&row, "done_ms") - num(&row, "arrival_ms") - total).abs() < 1e-3,
                    "{file}: latency = done − arrival"
                );
            }
        }
    }
}

#[test]
fn latency_parts_add_up_on_every_workload_of_the_dataflow_model() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(
        &[
            "run",
            "-e",
            "all",
            "--quick",
            "--backend",
            "local-dataflow",
            "-o",
            "res",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_latency_decomposes(&tmp.path().join("res"), "local-dataflow");
}

#[test]
fn faults_lose_no_task_and_every_experiment_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &["run", "-e", "all", "--quick", "--backend", "local-tasks", "-o", "res"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_latency_decomposes(&tmp.path().join("res"), "local-tasks");
    for exp in [
        "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "exp1", "exp2", "exp3", "exp4",
    ] {
        assert!(
            out.contains(&format!("{exp:<5} local-tasks")),
            "{exp} missing from:\n{out}"
        );
        let recs = records(&tmp.path().join(format!("res/{exp}/local-tasks/unified_results.jsonl")));
        assert!(!recs.is_empty(), "{exp}: no record");
        for r in &recs {
            let m = &r["metadata"];
            assert_eq!(m["items_failed"], 0, "{exp}: an item was lost");
            assert_eq!(m["tasks_lost"], 0, "{exp}: a task was lost");
            assert_eq!(m["status"], "complete");
        }
    }
    // Q8 injects worker faults, Q5 loses a node: retried, nothing lost.
    let q8 = &records(&tmp.path().join("res/Q8/local-tasks/unified_results.jsonl"))[0]["metadata"];
    assert!(q8["tasks_failed"].as_u64().unwrap() > 0 && q8["retries"].as_u64().unwrap() > 0);
    // tables reads runner output directly.
    let (code, out, err) = sagereport(&["tables", "res", "-o", "tab"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Table 3 Scheduler Comparison"), "{out}");
}

#[test]
fn paired_archives_both_sides_and_compares_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(
        &[
            "paired",
            "--backends",
            "local-dataflow,local-tasks",
            "-e",
            "Q1",
            "--quick",
            "--repeat",
            "2",
            "-o",
            "runs",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let root = std::fs::read_dir(tmp.path().join("runs/paired_backend_runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(root.file_name().unwrap().to_string_lossy().starts_with("run_id="));
    let hash_dir = std::fs::read_dir(&root).unwrap().next().unwrap().unwrap().path();
    for side in ["local-dataflow", "local-tasks"] {
        let m = json(&hash_dir.join("backends").join(side).join("manifest.json"));
        assert_eq!(m["status"], "success");
        assert_eq!(m["backend"], side);
    }
    let summary = json(&tmp.path().join("runs/comparison/summary.json"));
    assert_eq!(summary["mismatches"].as_array().unwrap().len(), 0);
    assert_eq!(summary["baseline"], "local-dataflow");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, _) = sagereport(&["run", "-e", "exp1", "--dry-run", "-o", "res"], tmp.path());
    assert_eq!(code, 0);
    assert!(
        out.contains("config hash") && out.contains("node_scaling_rag_16n"),
        "{out}"
    );
    assert!(!tmp.path().join("res").exists());
    let (code, out, _) = sagereport(&["run", "-e", "Q1,exp2", "--dry-run", "--json"], tmp.path());
    assert_eq!(code, 0);
    let plan: Value = serde_json::from_str(&out).expect("--dry-run --json prints one JSON document");
    assert_eq!(
        plan["experiments"][1]["runs"].as_array().unwrap().len(),
        12,
        "exp2: four load levels, five schedulers, three pipeline depths"
    );
    let (code, _, err) = sagereport(&["run", "-e", "Q9"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("Q1, Q2"), "{err}");
}

/// `paired` on both embedded models, quick.
const PAIRED_QUICK: [&str; 6] = [
    "paired",
    "-e",
    "Q1",
    "--quick",
    "--backends",
    "local-dataflow,local-tasks",
];

#[test]
fn runner_flags_out_of_range_are_refused_not_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    for (flags, says) in [
        (&["--nodes", "0"][..], "0 is not in 1..=1024"),
        (&["--repeat", "0"][..], "0 is not in 1..=1000"),
        (&["--parity-batch-size", "0"][..], "--parity-batch-size"),
        (&["--num-tasks", "0"][..], "--num-tasks"),
        (&["--llm-ratio", "1.5"][..], "not a share between 0 and 1"),
        (&["--request-rate=-1"][..], "not a rate above 0"),
        (&["--request-rate", "NaN"][..], "not a rate above 0"),
        (
            &["--nodes", "64", "--parallelism", "128"][..],
            "8192 execution slots, more than 4096",
        ),
    ] {
        for command in [
            &["run", "-e", "Q1", "--quick"][..],
            &[PAIRED_QUICK.as_slice(), &["--report-dir", "rep"]].concat()[..],
        ] {
            let mut args = command.to_vec();
            args.extend(flags);
            args.extend(["-o", "res"]);
            let (code, _, err) = sagereport(&args, tmp.path());
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(
                !tmp.path().join("res").exists() && !tmp.path().join("rep").exists(),
                "{args:?}: nothing ran"
            );
        }
    }
}

#[test]
fn demo_builds_comparison_tables_site_and_pdf_from_fresh_data() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(&["demo", "-o", "demo", "--repeat", "2"], tmp.path());
    assert_eq!(code, 0, "{err}");
    for f in [
        "site/index.html",
        "comparison/summary.md",
        "comparison/summary.json",
        "tables/table1_node_scaling.tex",
        "report.pdf",
    ] {
        assert!(tmp.path().join("demo").join(f).is_file(), "{f} missing");
    }
    assert!(out.contains("site/index.html"));
    let table1 = std::fs::read_to_string(tmp.path().join("demo/tables/table1_node_scaling.tex")).unwrap();
    assert!(
        table1.contains("local-dataflow") && !table1.contains("local-tasks"),
        "Tables 1–6 describe one system"
    );
    let summary = json(&tmp.path().join("demo/comparison/summary.json"));
    assert_eq!(
        summary["sides"].as_array().unwrap().len(),
        2,
        "a real two-sided comparison"
    );
    assert_eq!(summary["mismatches"].as_array().unwrap().len(), 0);
    assert!(sagereport::render::site::broken_links(&tmp.path().join("demo/site"))
        .unwrap()
        .is_empty());
}

/// A minimal OpenAI-compatible server: `/v1/models` and `/v1/completions`,
/// one request per connection; counts the completions it served.
fn fake_llm_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap_or(0);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap_or(());
                let answer = if request_line.contains("/v1/models") {
                    r#"{"object":"list","data":[{"id":"tiny-test-model","object":"model"}]}"#.to_string()
                } else {
                    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    assert_eq!(request["model"], "tiny-test-model");
                    assert!(
                        request["prompt"].as_str().unwrap_or("").starts_with('w'),
                        "the prompt is the constructed context"
                    );
                    counter.fetch_add(1, Ordering::SeqCst);
                    r#"{"choices":[{"text":" a generated answer","index":0}]}"#.to_string()
                };
                let mut out = stream;
                let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", answer.len(), answer);
            });
        }
    });
    (address, served)
}

#[test]
fn llm_endpoint_replaces_the_stand_in_generator() {
    let (address, served) = fake_llm_server();
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--llm-endpoint",
            &address,
            "-o",
            "res",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let rec = &records(&tmp.path().join("res/Q1/local-dataflow/unified_results.jsonl"))[0];
    assert_eq!(rec["metadata"]["llm_model"], "tiny-test-model");
    assert_eq!(rec["metadata"]["items_failed"], 0);
    assert_eq!(
        served.load(std::sync::atomic::Ordering::SeqCst),
        48,
        "one completion per item"
    );
    // An endpoint that is not there fails at once, naming the flag.
    let (code, _, err) = sagereport(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--llm-endpoint",
            "http://127.0.0.1:9",
            "-o",
            "res2",
        ],
        tmp.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("--llm-endpoint"), "{err}");
}

#[test]
fn run_json_lists_every_experiment_with_its_task_accounting() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(&["run", "-e", "Q1,Q8", "--quick", "--json", "-o", "res"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["complete"], true);
        assert_eq!(
            r["tasks_submitted"].as_u64().unwrap(),
            r["tasks_completed"].as_u64().unwrap() + r["tasks_failed"].as_u64().unwrap()
        );
    }
    assert!(doc["config_hashes"]["Q1"].as_str().unwrap().len() == 64);
}

#[test]
fn q1_median_latency_does_not_grow_with_the_number_of_tasks() {
    // Closed loop: an item's clock starts when it is issued, not at the start of the run.
    let tmp = tempfile::tempdir().unwrap();
    for backend in ["local-dataflow", "local-tasks"] {
        let mut p50 = Vec::new();
        for n in ["40", "400"] {
            let out = format!("res{n}");
            let (code, _, err) = sagereport(
                &[
                    "run",
                    "-e",
                    "Q1",
                    "--num-tasks",
                    n,
                    "--backend",
                    backend,
                    "-o",
                    &out,
                    "-q",
                ],
                tmp.path(),
            );
            assert_eq!(code, 0, "{err}");
            let r = &records(&tmp.path().join(format!("{out}/Q1/{backend}/unified_results.jsonl")))[0];
            assert_eq!(r["metadata"]["load_model"], "closed_loop");
            p50.push(r["latency_p50"].as_f64().unwrap());
        }
        assert!(
            p50[1] < 2.0 * p50[0],
            "{backend}: median latency {} ms with 40 tasks, {} ms with 400",
            p50[0],
            p50[1]
        );
    }
}

#[test]
fn exp4_jobs_run_at_the_same_time_each_with_its_own_window() {
    let tmp = tempfile::tempdir().unwrap();
    for backend in ["local-dataflow", "local-tasks"] {
        let (code, _, err) = sagereport(
            &["run", "-e", "exp4", "--quick", "--backend", backend, "-o", "res", "-q"],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        let recs = records(&tmp.path().join(format!("res/exp4/{backend}/unified_results.jsonl")));
        // The jobs of one run: same run id and the same jobs / start delay.
        let mut runs: std::collections::BTreeMap<String, Vec<&Value>> = std::collections::BTreeMap::new();
        for r in &recs {
            let m = &r["metadata"];
            runs.entry(format!(
                "{} {} {}",
                r["run_id"], m["concurrent_jobs"], m["start_delay_s"]
            ))
            .or_default()
            .push(r);
        }
        assert_eq!(runs.len(), 8, "{backend}: 4 job counts and 4 delays");
        for (run, jobs) in &runs {
            for (i, a) in jobs.iter().enumerate() {
                assert_eq!(
                    a["metadata"]["in_flight_window"], 16,
                    "{backend} {run}: each job's own window"
                );
                for b in &jobs[i + 1..] {
                    let span = |r: &Value| {
                        (
                            r["metadata"]["first_issue_s"].as_f64().unwrap(),
                            r["metadata"]["last_done_s"].as_f64().unwrap(),
                        )
                    };
                    let ((s1, e1), (s2, e2)) = (span(a), span(b));
                    assert!(
                        s1 < e2 && s2 < e1,
                        "{backend} {run}: {} [{s1}, {e1}] and {} [{s2}, {e2}] do not overlap",
                        a["workload"],
                        b["workload"]
                    );
                }
            }
        }
    }
}

#[test]
fn q3_victim_is_slower_beside_the_aggressor_than_alone() {
    let tmp = tempfile::tempdir().unwrap();
    for backend in ["local-dataflow", "local-tasks"] {
        let (code, _, err) = sagereport(
            &[
                "run",
                "-e",
                "Q3",
                "--quick",
                "--repeat",
                "2",
                "--backend",
                backend,
                "-o",
                "res",
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        let recs = records(&tmp.path().join(format!("res/Q3/{backend}/unified_results.jsonl")));
        common::assert_q3_runs_its_tenants_together(&recs, backend);
        for v in recs.iter().filter(|r| r["workload"] == "Q3_victim") {
            let inflation = v["metadata"]["latency_inflation"].as_f64().unwrap();
            assert!(inflation > 1.0, "{backend}: p99 inflation {inflation}");
        }
        let aggressor = recs.iter().find(|r| r["workload"] == "Q3_aggressor").unwrap();
        let victim = recs.iter().find(|r| r["workload"] == "Q3_victim").unwrap();
        assert!(
            aggressor["metadata"]["last_done_s"].as_f64().unwrap()
                > victim["metadata"]["last_done_s"].as_f64().unwrap(),
            "{backend}: the aggressor outlasts the victim"
        );
    }
}

#[test]
fn timed_items_run_in_parity_batches_visible_in_the_trace() {
    let tmp = tempfile::tempdir().unwrap();
    for backend in ["local-dataflow", "local-tasks"] {
        let (code, _, err) = sagereport(
            &[
                "run",
                "-e",
                "Q1",
                "--quick",
                "--parity-batch-size",
                "5",
                "--backend",
                backend,
                "-o",
                "res",
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        common::assert_q1_runs_in_batches_of_5(&tmp.path().join(format!("res/Q1/{backend}")));
    }
}

#[test]
fn exp1_scales_on_a_fixed_task_count_until_the_shared_endpoint_saturates() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, _) = sagereport(&["run", "-e", "exp1", "--dry-run", "--json"], tmp.path());
    assert_eq!(code, 0);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let runs = plan["experiments"][0]["runs"].as_array().unwrap();
    assert_eq!(
        runs.iter().map(|r| r["nodes"].as_u64().unwrap()).collect::<Vec<_>>(),
        [1, 4, 8, 16]
    );
    assert!(
        runs.iter().all(|r| r["num_tasks"] == 2000),
        "the plan's fixed 2000 tasks"
    );
    let (code, _, err) = sagereport(&["run", "-e", "exp1", "--quick", "-o", "res", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let recs = records(&tmp.path().join("res/exp1/local-dataflow/unified_results.jsonl"));
    assert_eq!(recs.len(), 4);
    let items: Vec<u64> = recs.iter().map(|r| r["metadata"]["items"].as_u64().unwrap()).collect();
    assert!(
        items.iter().all(|&n| n == items[0]),
        "--quick shrinks the count but keeps it fixed: {items:?}"
    );
    let service = &recs[0]["metadata"]["llm_service"];
    assert_eq!(service["kind"], "embedded");
    let slots = service["slots"].as_u64().unwrap();
    // One node (2 callers) never waits for the endpoint; 16 nodes (32 callers > K) do.
    let wait = |i: usize| recs[i]["metadata"]["llm_wait_ms"].as_f64().unwrap();
    assert!(
        wait(0) < 0.05 && wait(3) > wait(0),
        "waits at the endpoint: 1 node {} ms, 16 nodes {} ms (K = {slots})",
        wait(0),
        wait(3)
    );
    let thr = |i: usize| recs[i]["throughput"].as_f64().unwrap();
    assert!(thr(1) > 1.5 * thr(0), "4 nodes: {} vs 1 node: {}", thr(1), thr(0));
}

/// Issue 16 §7: every invocation gets its own run id (time + random
/// suffix), `--run-id` sets it, and records and manifests carry it with the
/// host they ran on.
#[test]
fn run_ids_are_unique_per_invocation_settable_and_records_carry_the_host() {
    let tmp = tempfile::tempdir().unwrap();
    for out in ["a", "b"] {
        let (code, _, err) = sagereport(&["run", "-e", "Q1", "--quick", "-o", out, "-q"], tmp.path());
        assert_eq!(code, 0, "{err}");
    }
    let manifest = |out: &str| json(&tmp.path().join(out).join("Q1/local-dataflow/repro_manifest.json"));
    let (a, b) = (manifest("a"), manifest("b"));
    let (ida, idb) = (a["run_id"].as_str().unwrap(), b["run_id"].as_str().unwrap());
    assert_ne!(ida, idb, "two invocations, two run ids");
    let rec = &records(&tmp.path().join("a/Q1/local-dataflow/unified_results.jsonl"))[0];
    assert_eq!(rec["run_id"], format!("{ida}-Q1-s42-r1"));
    assert_eq!(rec["metadata"]["invocation_id"], ida);
    for host in [&a["host"], &rec["metadata"]["host"]] {
        assert!(host["hostname"].as_str().is_some_and(|h| !h.is_empty()), "{host}");
        assert!(host["logical_cores"].as_u64().unwrap() >= 1, "{host}");
        assert!(host["memory_bytes"].as_u64().unwrap() > 0, "{host}");
        assert!(
            host["os"].as_str().is_some() && host["tool"].as_str().unwrap().starts_with("sagereport "),
            "{host}"
        );
        assert!(host.get("cpu_model").is_some(), "{host}");
    }
    // --run-id is honoured, on run and on paired (both sides, and the folder).
    let (code, _, err) = sagereport(
        &["run", "-e", "Q1", "--quick", "--run-id", "nightly-7", "-o", "c", "-q"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(manifest("c")["run_id"], "nightly-7");
    assert_eq!(
        records(&tmp.path().join("c/Q1/local-dataflow/unified_results.jsonl"))[0]["run_id"],
        "nightly-7-Q1-s42-r1"
    );
    let (code, _, err) = sagereport(
        &[
            "paired",
            "--backends",
            "local-dataflow,local-tasks",
            "-e",
            "Q1",
            "--quick",
            "--run-id",
            "pair-1",
            "-o",
            "p",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let root = tmp.path().join("p/paired_backend_runs/run_id=pair-1");
    let hash_dir = std::fs::read_dir(&root).unwrap().next().unwrap().unwrap().path();
    for side in ["local-dataflow", "local-tasks"] {
        assert_eq!(
            json(&hash_dir.join("backends").join(side).join("manifest.json"))["run_id"],
            "pair-1"
        );
        assert_eq!(
            records(&hash_dir.join("backends").join(side).join("Q1/unified_results.jsonl"))[0]["run_id"],
            "pair-1-Q1-s42-r1"
        );
    }
    // A run id names a folder: one that cannot is refused before any work.
    let (code, _, err) = sagereport(
        &["run", "-e", "Q1", "--quick", "--run-id", "../x", "-o", "d"],
        tmp.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("--run-id"), "{err}");
    assert!(!tmp.path().join("d").exists());
}

/// Issue 16 §7: exp4 reuses job names across its variants; its traces are
/// named by variant, workload and repeat, so none is overwritten.
#[test]
fn exp4_writes_one_distinct_trace_file_per_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["run", "-e", "exp4,Q4", "--quick", "-o", "res", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    for (exp, expected) in [("exp4", 27), ("Q4", 4)] {
        let dir = tmp.path().join("res").join(exp).join("local-dataflow");
        let recs = records(&dir.join("unified_results.jsonl"));
        assert_eq!(recs.len(), expected, "{exp}");
        let files: std::collections::BTreeSet<String> = std::fs::read_dir(dir.join("task_latencies"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files.len(), expected, "{exp}: {files:?}");
        let traces: std::collections::BTreeSet<&str> =
            recs.iter().map(|r| r["metadata"]["trace"].as_str().unwrap()).collect();
        assert_eq!(traces.len(), expected, "{exp}: each record names its own trace");
        for r in &recs {
            let trace = dir.join(r["metadata"]["trace"].as_str().unwrap());
            let rows = std::fs::read_to_string(&trace)
                .unwrap_or_else(|e| panic!("{}: {e}", trace.display()))
                .lines()
                .count()
                - 1;
            assert_eq!(
                rows as u64,
                r["metadata"]["items"].as_u64().unwrap(),
                "{}: the trace holds the record's items",
                trace.display()
            );
        }
    }
}

/// Issue 16 §6: every knob that changes the work is part of the identity,
/// and `compare` names the one that differs.
#[test]
fn runs_that_differ_in_a_work_knob_are_a_mismatch_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["run", "--quick", "-q"];
        all.extend_from_slice(args);
        let (code, _, err) = sagereport(&all, tmp.path());
        assert_eq!(code, 0, "{all:?}: {err}");
    };
    // Light against heavy.
    run(&["-e", "Q1", "--backend", "local-dataflow", "-o", "cx"]);
    run(&[
        "-e",
        "Q1",
        "--backend",
        "local-tasks",
        "--task-complexity",
        "heavy",
        "-o",
        "cx",
    ]);
    // Another arrival rate, another LLM ratio.
    run(&["-e", "Q2", "--backend", "local-dataflow", "-o", "rate"]);
    run(&[
        "-e",
        "Q2",
        "--backend",
        "local-tasks",
        "--request-rate",
        "50",
        "--llm-ratio",
        "0.6",
        "-o",
        "rate",
    ]);
    let a = records(&tmp.path().join("cx/Q1/local-dataflow/unified_results.jsonl"));
    let b = records(&tmp.path().join("cx/Q1/local-tasks/unified_results.jsonl"));
    assert_ne!(
        a[0]["config_hash"], b[0]["config_hash"],
        "the shape hash covers task complexity"
    );
    for (dir, fields) in [
        ("cx", &["task_complexity", "work_hash"][..]),
        ("rate", &["arrival", "llm_ratio", "work_hash"][..]),
    ] {
        let (code, _, err) = sagereport(
            &[
                "compare",
                dir,
                "--baseline",
                "local-dataflow",
                "-o",
                &format!("{dir}-cmp"),
                "-q",
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
        let summary = json(&tmp.path().join(format!("{dir}-cmp/summary.json")));
        let mismatches = summary["mismatches"].as_array().unwrap();
        assert_eq!(mismatches.len(), 1, "{dir}: {mismatches:#?}");
        let named: Vec<&str> = mismatches[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{dir}");
    }
    let summary = json(&tmp.path().join("rate-cmp/summary.json"));
    let arrival = summary["mismatches"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "arrival")
        .unwrap()
        .clone();
    assert_eq!(arrival["values"]["local-dataflow"], "poisson(rate=200/s)");
    assert_eq!(arrival["values"]["local-tasks"], "poisson(rate=50/s)");
}

#[test]
fn paired_refuses_a_report_folder_holding_its_runs_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    for (out, report) in [("res", "res"), ("res/x", "res")] {
        let (code, _, err) = sagereport(
            &[PAIRED_QUICK.as_slice(), &["-o", out, "--report-dir", report]].concat(),
            tmp.path(),
        );
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("it holds the input") && err.contains("paired_backend_runs"),
            "{err}"
        );
        assert!(!tmp.path().join("res").exists(), "nothing ran: {err}");
    }
}
