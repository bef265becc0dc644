//! The Ray backend end to end: `paired --backends local-dataflow,ray` on Q1
//! and exp2 against a live Ray head (`.ci/run` starts one with
//! `scripts/ray-local.sh up` and sets RAY_ADDRESS). Skipped only with
//! SAGEREPORT_SKIP_RAY=1 (loudly), or outside CI when no head is configured.

mod common;

use common::sagereport;
use serde_json::Value;
use std::path::Path;

/// The tests share one Ray head (on CI, two CPUs): one at a time, so that
/// timings (arrival lags, queueing) measure Ray, not the other tests.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn ray_address() -> Option<String> {
    if std::env::var("SAGEREPORT_SKIP_RAY").as_deref() == Ok("1") {
        eprintln!("!!! SKIPPED: SAGEREPORT_SKIP_RAY=1 — the Ray backend was NOT tested !!!");
        return None;
    }
    match std::env::var("RAY_ADDRESS") {
        Ok(a) if !a.trim().is_empty() => Some(a),
        _ if std::env::var_os("CI").is_some() => {
            panic!("RAY_ADDRESS is not set under CI: .ci/run must start a Ray head (scripts/ray-local.sh up)")
        }
        _ => {
            eprintln!("SKIPPED: RAY_ADDRESS is not set; start a head with `scripts/ray-local.sh up` and export what it prints");
            None
        }
    }
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What every Ray record must say about how it ran (issue 16 §5).
fn honest_ray_record(r: &Value) {
    let m = &r["metadata"];
    let what = format!("{} {}", m["experiment"], r["workload"]);
    // The real cluster, read back from the driver, beside the emulated one.
    let cluster = &m["ray_cluster"];
    assert!(cluster["nodes"].as_u64().unwrap() >= 1, "{what}: {cluster}");
    assert!(cluster["cpus"].as_f64().unwrap() > 0.0, "{what}: {cluster}");
    assert_eq!(cluster["ray_version"], m["ray_version"], "{what}");
    assert_eq!(
        cluster["node_list"].as_array().unwrap().len() as u64,
        cluster["nodes"].as_u64().unwrap(),
        "{what}"
    );
    assert!(
        m["emulation"]["nodes"].as_str().unwrap().starts_with("emulated"),
        "{what}"
    );
    // Parallelism is enforced: never more than nodes × workers per node in flight.
    let nodes = r["nodes"].as_u64().unwrap();
    let per_node = r["parallelism"].as_u64().unwrap().div_ceil(nodes);
    let window = m["task_window"].as_u64().unwrap();
    assert_eq!(window, nodes * per_node, "{what}");
    let cap = window.max(m["task_window_after"].as_u64().unwrap_or(window));
    assert!(
        m["max_tasks_in_flight"].as_u64().unwrap() <= cap,
        "{what}: {} in flight, window {cap}",
        m["max_tasks_in_flight"]
    );
    assert!(
        m["observed_max_concurrency"].as_u64().unwrap() <= cap,
        "{what}: workers ran {} at once, window {cap}",
        m["observed_max_concurrency"]
    );
    // Queueing is measured, and balance is over every emulated node.
    assert!(m["queue_ms"].as_f64().unwrap() > 0.0, "{what}: queueing not measured");
    assert_eq!(
        m["node_distribution"].as_object().unwrap().len() as u64,
        nodes,
        "{what}: idle nodes count in the balance"
    );
    assert!(m["host"]["logical_cores"].as_u64().unwrap() >= 1);
    assert!(m["op_cost_us"]["retrieve"].as_f64().unwrap() > 0.0, "{what}");
}

#[test]
fn paired_local_dataflow_and_ray_share_the_config_and_do_not_mismatch() {
    let Some(address) = ray_address() else { return };
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &[
            "paired",
            "--backends",
            "local-dataflow,ray",
            "-e",
            "Q1,exp2",
            "--quick",
            "--ray-address",
            &address,
            "-o",
            "runs",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "paired failed:\n{out}\n{err}");
    let runs = tmp.path().join("runs/paired_backend_runs");
    let run_dir = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let hash_dir = std::fs::read_dir(&run_dir).unwrap().next().unwrap().unwrap().path();
    for side in ["local-dataflow", "ray"] {
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(hash_dir.join("backends").join(side).join("manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["status"], "success", "{side}: {manifest}");
    }
    for exp in ["Q1", "exp2"] {
        let local = records(
            &hash_dir
                .join("backends/local-dataflow")
                .join(exp)
                .join("unified_results.jsonl"),
        );
        let ray = records(&hash_dir.join("backends/ray").join(exp).join("unified_results.jsonl"));
        assert_eq!(local.len(), ray.len(), "{exp}: record counts differ");
        for (l, r) in local.iter().zip(&ray) {
            assert_eq!(r["backend"], "ray");
            assert_eq!(l["workload"], r["workload"]);
            assert_eq!(l["config_hash"], r["config_hash"], "{exp}: shape hash differs");
            let m = &r["metadata"];
            assert_eq!(m["items_failed"], 0, "{exp}: a task was lost on Ray");
            assert_eq!(
                m["tasks_submitted"].as_u64().unwrap(),
                m["tasks_completed"].as_u64().unwrap() + m["tasks_failed"].as_u64().unwrap()
            );
            assert!(r["throughput"].as_f64().unwrap() > 0.0);
            assert!(m["ray_version"].as_str().is_some());
            assert_eq!(
                l["run_id"], r["run_id"],
                "{exp}: both sides of a paired run share its run id"
            );
            assert_eq!(l["metadata"]["work_hash"], m["work_hash"]);
            assert_eq!(
                l["metadata"]["generator"], m["generator"],
                "{exp}: Ray calls the embedded endpoint's model"
            );
            if !m["generator"].is_null() {
                common::assert_generates_on_the_shared_endpoint(r);
                assert_eq!(
                    m["llm_service"]["runs_as"],
                    "one Ray actor shared by every task of the job"
                );
            }
            honest_ray_record(r);
        }
        let lm: Value = serde_json::from_str(
            &std::fs::read_to_string(
                hash_dir
                    .join("backends/local-dataflow")
                    .join(exp)
                    .join("repro_manifest.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let rm: Value = serde_json::from_str(
            &std::fs::read_to_string(hash_dir.join("backends/ray").join(exp).join("repro_manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(lm["config_hash"], rm["config_hash"]);
        assert_eq!(
            lm["split_sha256"], rm["split_sha256"],
            "{exp}: the same items in the same batches"
        );
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("runs/comparison/summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["mismatches"].as_array().unwrap().len(),
        0,
        "{}",
        summary["mismatches"]
    );
    assert_eq!(summary["sides"].as_array().unwrap().len(), 2);
}

#[test]
fn an_unreachable_cluster_fails_at_once_with_the_command_that_starts_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--backend",
            "ray",
            "--ray-address",
            "http://127.0.0.1:9",
            "-o",
            "r",
        ],
        tmp.path(),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot reach the Ray Jobs API") && err.contains("scripts/ray-local.sh up"),
        "{err}"
    );
    assert!(
        !tmp.path().join("r").exists(),
        "nothing is written when the cluster is absent"
    );
}

/// Issue 16 §5 on a live head: Ray emulates what the embedded engine does
/// (window, node speeds, outage, reconfiguration, precise arrivals),
/// measures queueing from one clock, records the real cluster, and does
/// about the embedded engine's work per item.
#[test]
fn ray_emulates_the_engine_measures_on_one_clock_and_records_the_real_cluster() {
    let Some(address) = ray_address() else { return };
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &[
            "run",
            "-e",
            "Q1,Q2,Q5,Q7",
            "--quick",
            "--backend",
            "ray",
            "--ray-address",
            &address,
            "-o",
            "res",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "run failed:\n{out}\n{err}");
    let rec = |exp: &str| records(&tmp.path().join("res").join(exp).join("ray/unified_results.jsonl")).remove(0);
    for exp in ["Q1", "Q2", "Q5", "Q7"] {
        let r = rec(exp);
        honest_ray_record(&r);
        // One clock: each item's scheduling + queueing + execution is its latency.
        let dir = tmp.path().join("res").join(exp).join("ray");
        let trace = std::fs::read_to_string(dir.join(r["metadata"]["trace"].as_str().unwrap())).unwrap();
        let header: Vec<&str> = trace.lines().next().unwrap().split(',').collect();
        let col = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .unwrap_or_else(|| panic!("{exp}: no {name} column"))
        };
        let parts = [
            "scheduling_latency_ms",
            "queue_latency_ms",
            "execution_latency_ms",
            "transfer_latency_ms",
        ]
        .map(col);
        let total = col("total_latency_ms");
        for row in trace.lines().skip(1) {
            let c: Vec<f64> = row.split(',').map(|x| x.parse().unwrap_or(0.0)).collect();
            let sum: f64 = parts.iter().map(|&i| c[i]).sum();
            assert!((c[total] - sum).abs() < 0.01, "{exp}: {row}");
        }
    }
    // Q1 is a closed loop of twice the window: tasks wait, and it shows.
    let q1 = rec("Q1");
    let m = &q1["metadata"];
    assert_eq!(m["max_tasks_in_flight"], m["task_window"], "Q1 keeps the window full");
    assert!(
        m["queue_ms"].as_f64().unwrap() > 0.5 * m["execution_ms"].as_f64().unwrap(),
        "{m}"
    );
    // Q2: open-loop arrivals are kept to the millisecond, not polled every
    // 50 ms (the median: a loaded host may starve the driver now and then).
    let lag = &rec("Q2")["metadata"]["arrival_lag_ms"];
    assert!(lag["p50"].as_f64().unwrap() < 5.0, "arrival lag {lag}");
    // Q5: node speeds and the outage ran, on 4 emulated nodes.
    let q5 = rec("Q5");
    let m = &q5["metadata"];
    assert_eq!(q5["nodes"], 4);
    assert!(m["emulation"]["node_speeds"].as_str().unwrap().starts_with("emulated"));
    assert!(m["emulation"]["outage"].as_str().unwrap().starts_with("emulated"));
    let outage = &m["outage_observed"];
    assert!(
        outage["down_at_s"].as_f64().unwrap() < outage["up_at_s"].as_f64().unwrap(),
        "{outage}"
    );
    // Q7: the reconfiguration widened the window.
    let q7 = rec("Q7");
    let m = &q7["metadata"];
    assert!(m["reconfigured_at_s"].as_f64().is_some(), "{m}");
    let after = m["workers_per_node_after"].as_u64().unwrap() * q7["nodes"].as_u64().unwrap();
    assert_eq!(m["task_window_after"].as_u64().unwrap(), after);
    // The manifest names the real cluster too.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("res/Q5/ray/repro_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["ray_cluster"], q5["metadata"]["ray_cluster"]);
    assert!(manifest["run_id"].as_str().is_some() && manifest["host"]["logical_cores"].as_u64().is_some());

    // Per-item work: the driver's operators against the embedded ones, on this host.
    let cluster = &q1["metadata"]["ray_cluster"];
    let ray_cost = &q1["metadata"]["op_cost_us"];
    let ops = sagereport::runner::ops::Operators::new(42, sagereport::runner::ops::Complexity::Light);
    let local = sagereport::runner::provenance::op_costs(&ops);
    let item = |c: &Value| {
        ["embed", "retrieve", "context", "generate"]
            .iter()
            .map(|k| c[*k].as_f64().unwrap())
            .sum::<f64>()
    };
    eprintln!(
        "per-item cost, µs: ray {ray_cost} (retrieval: {}) vs embedded {local}",
        cluster["retrieval"]
    );
    if cluster["retrieval"] == "numpy" {
        // Retrieval alone is ~10 µs natively, where a Python call's own
        // overhead (hundreds of µs on a loaded machine) decides the ratio:
        // it is compared inside the whole item, not alone.
        for (what, r, l) in [
            (
                "generate",
                ray_cost["generate"].as_f64().unwrap(),
                local["generate"].as_f64().unwrap(),
            ),
            ("a RAG item", item(ray_cost), item(&local)),
        ] {
            // An order-of-magnitude check only: per-item costs are timings,
            // and a loaded 2-core CI machine moves them by several times.
            assert!(
                r < 50.0 * l && l < 50.0 * r,
                "{what}: ray {r} µs vs embedded {l} µs per item"
            );
        }
    } else {
        eprintln!("!!! the Ray cluster has no numpy: retrieval runs in pure Python, far slower per item (the records say retrieval: python) !!!");
        assert_eq!(cluster["retrieval"], "python");
    }
}

/// A minimal OpenAI-compatible server (`/v1/models`, `/v1/completions`);
/// counts the completions it served.
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
                    if request["model"] == "tiny-test-model"
                        && request["prompt"].as_str().unwrap_or("").starts_with('w')
                    {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    r#"{"choices":[{"text":" a generated answer","index":0}]}"#.to_string()
                };
                let mut out = stream;
                let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", answer.len(), answer);
            });
        }
    });
    (address, served)
}

/// `--llm-endpoint` reaches the Ray workers too: the generate step calls it,
/// both sides name the same generator, and nothing mismatches.
#[test]
fn ray_generates_with_the_llm_endpoint_when_given() {
    let Some(address) = ray_address() else { return };
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (llm, served) = fake_llm_server();
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &[
            "paired",
            "--backends",
            "local-dataflow,ray",
            "-e",
            "Q1",
            "--quick",
            "--llm-endpoint",
            &llm,
            "--ray-address",
            &address,
            "-o",
            "runs",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "paired failed:\n{out}\n{err}");
    assert_eq!(
        served.load(std::sync::atomic::Ordering::SeqCst),
        2 * 48,
        "one completion per item on each side"
    );
    let root = std::fs::read_dir(tmp.path().join("runs/paired_backend_runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let hash_dir = std::fs::read_dir(&root).unwrap().next().unwrap().unwrap().path();
    let ray = &records(&hash_dir.join("backends/ray/Q1/unified_results.jsonl"))[0];
    let local = &records(&hash_dir.join("backends/local-dataflow/Q1/unified_results.jsonl"))[0];
    assert_eq!(
        ray["metadata"]["generator"],
        format!("endpoint:{llm} model=tiny-test-model")
    );
    assert_eq!(ray["metadata"]["generator"], local["metadata"]["generator"]);
    assert_eq!(ray["metadata"]["items_failed"], 0);
    assert!(
        ray["metadata"]["op_cost_us"]["generate"].is_null(),
        "an endpoint's cost is not measured per item"
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("runs/comparison/summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["mismatches"].as_array().unwrap().len(),
        0,
        "{}",
        summary["mismatches"]
    );
}

/// Issue 16 §2/§4 on Ray: timed items in parity batches (batch b + 1 only
/// after batch b completed, in a closed loop whose window is within a
/// batch), and Q3's two tenants as two job drivers running at once, the
/// victim slowed by the aggressor.
#[test]
fn ray_runs_parity_batches_and_concurrent_tenants() {
    let Some(address) = ray_address() else { return };
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(
        &[
            "run",
            "-e",
            "Q1",
            "--quick",
            "--parity-batch-size",
            "5",
            "--backend",
            "ray",
            "--ray-address",
            &address,
            "-o",
            "res",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "run failed:\n{out}\n{err}");
    common::assert_q1_runs_in_batches_of_5(&tmp.path().join("res/Q1/ray"));
    let (code, out, err) = sagereport(
        &[
            "run",
            "-e",
            "Q3",
            "--quick",
            "--repeat",
            "2",
            "--backend",
            "ray",
            "--ray-address",
            &address,
            "-o",
            "res3",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "run failed:\n{out}\n{err}");
    common::assert_q3_runs_its_tenants_together(&records(&tmp.path().join("res3/Q3/ray/unified_results.jsonl")), "ray");
}
