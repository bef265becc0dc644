//! Helpers shared by the site tests: result trees written by hand, and the
//! binary run in a folder.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// One unified record (SPEC §3) of `backend` running `workload`.
pub fn record(backend: &str, workload: &str, run: usize, throughput: f64) -> String {
    serde_json::json!({
        "backend": backend, "workload": workload, "run_id": format!("r{run}"), "seed": 42, "nodes": 1,
        "parallelism": 2, "throughput": throughput, "latency_p50": 10.0, "latency_p95": 20.0 + run as f64,
        "latency_p99": 30.0 + run as f64, "success_rate": 1.0, "duration_seconds": 2.5,
        "timestamp": format!("2026-02-21T03:58:4{}+00:00", run % 10), "config_hash": format!("{backend}-hash"),
        "backend_hash": null, "metadata": {"scheduler_name": "fifo", "num_tasks": 100}
    })
    .to_string()
}

/// `dir/sage` and `dir/ray` with five runs of `workload` each; sage's
/// throughputs are [10, 12, 11, 13, 9] × `scale` (mean 11, 95 % t-interval
/// half-width 1.963 at scale 1), ray's about 0.7 of that.
pub fn sage_and_ray(dir: &Path, workload: &str, scale: f64) -> PathBuf {
    for (backend, values) in [
        ("sage", [10.0, 12.0, 11.0, 13.0, 9.0]),
        ("ray", [7.0, 8.0, 7.5, 8.5, 7.2]),
    ] {
        let side = dir.join(backend);
        std::fs::create_dir_all(&side).unwrap();
        let lines: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, t)| record(backend, workload, i, t * scale))
            .collect();
        std::fs::write(side.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    dir.to_path_buf()
}

/// Run `sagereport args…` in `cwd`: (exit code, stdout, stderr).
pub fn sagereport(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(cwd)
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_REF_NAME")
        .env_remove("SOURCE_DATE_EPOCH")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Three nightly runs (Nov 21–23) of a sage/ray tree into `public/` with a
/// history in `history/`; the third run's throughput steps up by half (too
/// few runs to claim a change point). The last run also has a second report,
/// `paper`, when `paper` is true.
pub fn three_runs(root: &Path, paper: bool) -> PathBuf {
    nightly_runs(root, &[1.0, 1.01, 1.5], paper)
}

/// One nightly site build per scale (Nov 21, 22, …; commits `c0ffee0`, …)
/// of `dataI/` = [`sage_and_ray`] at that scale, report `nightly`, history in
/// `history/`, site in `public/`. Run means: sage 11 × scale, ray 7.64 ×
/// scale; p99 32 in every run.
pub fn nightly_runs(root: &Path, scales: &[f64], paper: bool) -> PathBuf {
    for (i, scale) in scales.iter().enumerate() {
        let data = sage_and_ray(&root.join(format!("data{i}")), "Q1", *scale);
        let mut args: Vec<String> = vec![
            "site".into(),
            "--report".into(),
            format!("nightly={}", data.display()),
            "--history".into(),
            "history".into(),
            "--label".into(),
            "main".into(),
            "--commit".into(),
            format!("c0ffee{i}"),
            "--time".into(),
            format!("2026-11-{}T10:00:00Z", 21 + i),
            "-o".into(),
            "public".into(),
            "--no-pdf".into(),
        ];
        if paper && i + 1 == scales.len() {
            let (code, _, err) = sagereport(&["synth", "--paper", "--repeats", "2", "-o", "paper", "-q"], root);
            assert_eq!(code, 0, "{err}");
            args.extend(["--report".into(), "paper=paper".into()]);
            args.retain(|a| a != "--no-pdf");
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = sagereport(&args, root);
        assert_eq!(code, 0, "{err}");
    }
    root.join("public")
}

/// Whether a PNG has real content: more than a few colours and a good share
/// of pixels that are not the background colour of the top-left corner.
pub fn png_has_content(bytes: &[u8]) -> bool {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let background = pixels[0];
    let differing = pixels.iter().filter(|p| *p != &background).count();
    let mut colours: Vec<&[u8]> = pixels.iter().step_by(7).copied().collect();
    colours.sort();
    colours.dedup();
    differing * 50 > pixels.len() && colours.len() > 8
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// The rows of every task-latency trace under `dir/task_latencies`: (file, rows by column).
pub fn traces(dir: &Path) -> Vec<(String, Vec<std::collections::HashMap<String, String>>)> {
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir.join("task_latencies")).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows = lines
            .map(|l| {
                header
                    .iter()
                    .map(|h| h.to_string())
                    .zip(l.split(',').map(str::to_string))
                    .collect()
            })
            .collect();
        out.push((path.display().to_string(), rows));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn num(row: &std::collections::HashMap<String, String>, key: &str) -> f64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key}: {:?}", row[key]))
}

/// `run -e Q1 --quick --parity-batch-size 5` into `dir` (48 timed items, a
/// closed loop with an in-flight window of 4 ≤ 5): the trace shows ten
/// batches, and each starts only once the one before it has completed.
pub fn assert_q1_runs_in_batches_of_5(dir: &Path) {
    let (file, rows) = traces(dir).remove(0);
    let mut batches: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = std::collections::BTreeMap::new();
    for row in &rows {
        batches
            .entry(num(row, "batch") as u64)
            .or_default()
            .push((num(row, "arrival_ms"), num(row, "done_ms")));
    }
    assert_eq!(batches.len(), 10, "{file}: 48 items in batches of 5");
    assert!(
        batches.values().take(9).all(|b| b.len() == 5) && batches[&9].len() == 3,
        "{file}"
    );
    for b in 1..10u64 {
        let prev_end = batches[&(b - 1)].iter().map(|x| x.1).fold(0.0, f64::max);
        let start = batches[&b].iter().map(|x| x.0).fold(f64::INFINITY, f64::min);
        assert!(
            start >= prev_end - 1e-3,
            "{file}: batch {b} starts at {start} ms before batch {} ended at {prev_end} ms",
            b - 1
        );
    }
}

/// Q3's records (a run with `--repeat 2`): the victim and the aggressor ran
/// at the same time, the aggressor 4× the items, and the victim's median
/// latency was higher beside it than alone (the median: a p99 of 48 items
/// on a busy 2-core host is one or two items).
pub fn assert_q3_runs_its_tenants_together(recs: &[serde_json::Value], backend: &str) {
    let victims: Vec<&serde_json::Value> = recs.iter().filter(|r| r["workload"] == "Q3_victim").collect();
    assert_eq!(victims.len(), 2, "{backend}");
    for v in &victims {
        let alone = recs
            .iter()
            .find(|r| r["workload"] == "Q3_victim_alone" && r["run_id"] == v["run_id"])
            .unwrap();
        let (beside, by_itself) = (
            v["latency_p50"].as_f64().unwrap(),
            alone["latency_p50"].as_f64().unwrap(),
        );
        assert!(
            beside > by_itself,
            "{backend}: the victim's median latency {beside} ms beside the aggressor, {by_itself} ms alone"
        );
        assert!(
            v["metadata"]["latency_inflation"].as_f64().is_some(),
            "{backend}: no p99 inflation recorded"
        );
        let aggressor = recs
            .iter()
            .find(|r| r["workload"] == "Q3_aggressor" && r["run_id"] == v["run_id"])
            .unwrap();
        assert_eq!(
            aggressor["metadata"]["items"],
            4 * 48,
            "{backend}: the aggressor runs 4× the items"
        );
        let span = |r: &serde_json::Value| {
            (
                r["metadata"]["first_issue_s"].as_f64().unwrap(),
                r["metadata"]["last_done_s"].as_f64().unwrap(),
            )
        };
        let ((s1, e1), (s2, e2)) = (span(v), span(aggressor));
        assert!(
            s1 < e2 && s2 < e1,
            "{backend}: victim [{s1}, {e1}] and aggressor [{s2}, {e2}] do not overlap"
        );
    }
}

/// A record of a workload that generates calls the shared inference
/// endpoint the embedded engine models, and says so.
pub fn assert_generates_on_the_shared_endpoint(r: &serde_json::Value) {
    let m = &r["metadata"];
    let what = format!("{} {} {}", r["backend"], m["experiment"], r["workload"]);
    assert!(
        m["generator"].as_str().unwrap().starts_with("embedded-endpoint(K=24"),
        "{what}: {}",
        m["generator"]
    );
    assert_eq!(m["llm_service"]["slots"], 24, "{what}: {}", m["llm_service"]);
    let served = m["llm_service_ms"].as_f64().unwrap();
    assert!(
        served > 0.5,
        "{what}: the endpoint served each item for {served} ms (at least its 0.5 ms overhead)"
    );
    assert!(m["llm_wait_ms"].as_f64().unwrap() >= 0.0, "{what}");
}
