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
    for (backend, values) in [("sage", [10.0, 12.0, 11.0, 13.0, 9.0]), ("ray", [7.0, 8.0, 7.5, 8.5, 7.2])] {
        let side = dir.join(backend);
        std::fs::create_dir_all(&side).unwrap();
        let lines: Vec<String> = values.iter().enumerate().map(|(i, t)| record(backend, workload, i, t * scale)).collect();
        std::fs::write(side.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    dir.to_path_buf()
}

/// Run `sagereport args…` in `cwd`: (exit code, stdout, stderr).
pub fn sagereport(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport").unwrap().current_dir(cwd).env_remove("GITHUB_SHA").env_remove("GITHUB_REF_NAME").env_remove("SOURCE_DATE_EPOCH").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
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
