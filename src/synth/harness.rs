//! The harness shape (`synth --shape harness`): the tree the upstream
//! harness leaves behind after months of use, at the size `runs` ×
//! `records_per_run` names.
//!
//! - `paired_backend_runs/run_id=<id>/config_hash=<h12>/`, one per run:
//!   `backends/sage/unified_results.jsonl`, and for about half of the runs
//!   (the cluster ones) `backends/ray/` too, each with a `.csv` twin for
//!   most runs; `logs/<backend>.log` per backend that ran (the command, its
//!   stdout and stderr, its exit code) and `logs/compare.log` on the newest
//!   runs; `manifest.json`, or `failure_report.json` where the ray side
//!   failed on the laptop (its results are still there: sage ran first).
//!   The config hash is upstream's: sha256 of the canonical config
//!   `{items, nodes, parallelism, scheduler, seed}`, 12 hex digits.
//! - Two workload families: `scheduler_comparison` (312 variants over
//!   scheduler × nodes × parallelism × items, three runs in four) and
//!   `workload4` (128 variants). Runs walk through each family's variants
//!   in a scrambled order, so a variant comes back months later: with
//!   enough runs every variant has several runs per side.
//! - Records as each harness version wrote them: until late December an
//!   `extra` object and no config or backend hash; then `metadata` with
//!   versions, `results_count` and `raw_metrics`; from February the
//!   `system_profile` as well. Local sage runs (one node) measure no latencies and report
//!   zeros in `raw_metrics`; every other run reports its own
//!   `avg_latency_ms`, so those metadata strings differ record by record.
//! - Legacy exp1–exp4 campaigns (one experiment folder each, about one
//!   per 13 runs, at least one of each): `*_metrics.json`, 100-row
//!   `*_latencies.csv`, `*_summary.txt`, the group reports and derived JSON.
//! - `hf_data/benchmark_results.json`: the published data set, a JSON
//!   array of sage and ray runs of the Q1–Q8 families (about 0.22 variants
//!   per run, two to four runs a side each).

use super::json::{compact_stamp, epoch_of, folder_stamp, iso, push_py_float, round_to, sha256_hex, write_file, J};
use super::legacy::{self, Cfg};
use super::unified::{
    exp_det, host_profile, ln_det, log_uniform, normal, upstream_config_hash, Rec, RecordFiles, HOSTS,
};
use super::{ExpectedProblem, Stats, TreeSpec, Unit};
use rand::rngs::StdRng;
use rand::Rng;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::LazyLock;

pub(super) const PART_RUN: u64 = 21;
pub(super) const PART_LEGACY: u64 = 22;
pub(super) const PART_PUBLISHED: u64 = 23;
/// Per-variant performance: the same for every run of a variant.
const PART_VARIANT: u64 = 24;

/// Share of runs that ran both backends (the rest ran sage only).
const BOTH_SIDES: f64 = 0.47;
/// Share of the sage-only runs where ray was tried and failed.
const RAY_FAILED: f64 = 0.15;
/// One legacy campaign per this many runs.
const RUNS_PER_CAMPAIGN: usize = 13;
/// Published variants per 1,000 runs.
const PUBLISHED_PER_1000: usize = 218;

pub(super) fn units(spec: &TreeSpec) -> Vec<Unit> {
    let mut units = vec![Unit::HarnessPublished];
    if spec.legacy {
        units.extend((0..campaigns(spec.runs)).map(|index| Unit::HarnessLegacy { index }));
    }
    if spec.faults {
        units.push(Unit::Faults);
    }
    units.extend((0..spec.runs).map(|index| Unit::HarnessRun { index }));
    units
}

/// Legacy campaigns for `runs` runs: at least one of each experiment.
fn campaigns(runs: usize) -> usize {
    runs.div_ceil(RUNS_PER_CAMPAIGN).max(4)
}

/// First day of the paired runs: 2025-11-03 00:00 UTC; they span 110 days.
fn first_day() -> i64 {
    epoch_of(2025, 11, 3, 0, 0, 0)
}

const SPAN_SECS: i64 = 110 * 86_400;

/// Seconds between the starts of consecutive units spread over the span.
fn step(units: usize) -> i64 {
    (SPAN_SECS / units.max(1) as i64).max(4)
}

/// Which harness version wrote a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Era {
    /// Before 2025-12-28: `extra`, no config or backend hash in the records.
    Early,
    /// Until 2026-02-08: `metadata` with `raw_metrics`.
    Mid,
    /// From 2026-02-08: `metadata` with the `system_profile` too.
    Late,
}

fn era_of(t_secs: i64) -> Era {
    if t_secs < epoch_of(2025, 12, 28, 0, 0, 0) {
        Era::Early
    } else if t_secs < epoch_of(2026, 2, 8, 0, 0, 0) {
        Era::Mid
    } else {
        Era::Late
    }
}

/// One workload shape of a family.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Variant {
    workload: &'static str,
    scheduler: &'static str,
    nodes: u32,
    parallelism: u32,
    items: u64,
}

/// `scheduler_comparison`: 312 variants.
static SCHEDULER_COMPARISON: LazyLock<Vec<Variant>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for scheduler in ["fifo", "load_aware", "default"] {
        for nodes in [1u32, 2, 4, 8] {
            for parallelism in [1u32, 2, 4, 8, 16, 32] {
                for items in [10u64, 50, 100, 200, 500, 1000] {
                    let skipped =
                        parallelism < nodes || (items == 10 && nodes == 8) || (items == 1000 && parallelism == 1);
                    if !skipped {
                        out.push(Variant {
                            workload: "scheduler_comparison",
                            scheduler,
                            nodes,
                            parallelism,
                            items,
                        });
                    }
                }
            }
        }
    }
    out
});

/// `workload4` (the distributed RAG pipeline): 128 variants.
static WORKLOAD4: LazyLock<Vec<Variant>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for scheduler in ["fifo", "load_aware"] {
        for nodes in [1u32, 2, 4, 8] {
            for parallelism in [2u32, 4, 8, 16] {
                for items in [50u64, 100, 200, 500] {
                    out.push(Variant {
                        workload: "workload4",
                        scheduler,
                        nodes,
                        parallelism,
                        items,
                    });
                }
            }
        }
    }
    out
});

fn family(f: usize) -> &'static [Variant] {
    if f == 0 {
        &SCHEDULER_COMPARISON
    } else {
        &WORKLOAD4
    }
}

/// Family and variant of run `index`: runs 4k+3 are `workload4`, the others
/// `scheduler_comparison`; each family's runs step through its variants in
/// a fixed scrambled order (a stride coprime to the family size), then
/// start again.
fn variant_of(index: usize) -> (usize, usize) {
    let (f, j, stride) = if index % 4 == 3 {
        (1, index / 4, 37)
    } else {
        (0, index / 4 * 3 + index % 4, 97)
    };
    (f, j * stride % family(f).len())
}

/// How fast a variant runs, the same in every run of it.
struct Perf {
    /// sage throughput, items/s.
    tp: f64,
    /// ray throughput relative to sage.
    ray: f64,
    /// sage p50 latency, ms.
    p50: f64,
}

fn perf(seed: u64, key: u64, nodes: u32, parallelism: u32, base: f64) -> Perf {
    let mut rng = super::unified::rng_for(seed, PART_VARIANT, key);
    let effective = parallelism.min(nodes * 16).max(1) as f64;
    Perf {
        tp: base * exp_det(0.55 * ln_det(effective)) * exp_det(0.1 * normal(&mut rng)),
        ray: rng.gen_range(0.62..1.05),
        p50: log_uniform(&mut rng, 8.0, 60.0) * (1.0 + 0.15 * ln_det(effective)),
    }
}

fn variant_perf(seed: u64, f: usize, v: usize, var: &Variant) -> Perf {
    let sched = match var.scheduler {
        "load_aware" => 1.08,
        "default" => 0.96,
        _ => 1.0,
    };
    let warm = var.items as f64 / (var.items as f64 + 8.0);
    let base = if f == 0 { 35.0 } else { 9.0 } * sched * warm;
    perf(seed, (f * 100_000 + v) as u64, var.nodes, var.parallelism, base)
}

/// One backend folder of a run.
struct Side<'a> {
    backend: &'static str,
    var: &'a Variant,
    run_id: &'a str,
    /// Folder relative to the root.
    dir: String,
    twins: bool,
    /// Mean throughput of this run, items/s.
    tp: f64,
    /// p50 of this run in ms; `None`: latencies not measured (null).
    p50: Option<f64>,
    era: Era,
    host: usize,
    /// Start of the first record, µs.
    t0: i64,
}

/// What a side leaves for its log.
struct SideOutcome {
    t_end: i64,
    records: usize,
    mean_tp: f64,
}

/// `raw_metrics.scheduler_type` as the scheduler implementations name themselves.
fn scheduler_type(scheduler: &str) -> &'static str {
    if scheduler == "load_aware" {
        "LoadAware"
    } else {
        "FIFO"
    }
}

/// The free-form object of a side's records, split around the per-record
/// `raw_metrics` (empty second part when the object is the same for every
/// record): `(key, before, after)`.
fn free_form(side: &Side<'_>) -> (&'static str, String, String) {
    let var = side.var;
    let platform = match (side.backend, var.nodes) {
        ("ray", _) => "ray",
        (_, 1) => "local",
        _ => "flownet",
    };
    if side.era == Era::Early {
        let extra = J::obj([
            ("scheduler", J::s(var.scheduler)),
            ("items", J::I(var.items as i64)),
            ("platform", J::s(platform)),
        ]);
        return ("extra", extra.compact(), String::new());
    }
    let (version_key, version) = match (side.backend, side.era) {
        ("ray", Era::Late) => ("ray_version", "2.41.0"),
        ("ray", _) => ("ray_version", "2.40.0"),
        (_, Era::Late) => ("sage_version", "0.2.4.18"),
        _ => ("sage_version", "0.2.4.9"),
    };
    let mut m = J::obj([
        ("scheduler_name", J::s(var.scheduler)),
        (version_key, J::s(version)),
        ("benchmark_version", J::s("unknown")),
    ]);
    if side.era == Era::Late {
        m.set("system_profile", host_profile(side.host));
    }
    m.set("results_count", J::I(var.items as i64));
    if side.p50.is_none() {
        // A local sage run: the scheduler reports nothing.
        m.set(
            "raw_metrics",
            J::obj([
                ("scheduler_type", J::s(scheduler_type(var.scheduler))),
                ("total_scheduled", J::I(0)),
                ("avg_latency_ms", J::I(0)),
                ("decisions", J::I(0)),
                ("platform", J::s(platform)),
            ]),
        );
        return ("metadata", m.compact(), String::new());
    }
    m.set("raw_metrics", J::Raw("\u{1}".into()));
    let text = m.compact();
    let (before, after) = text.split_once('\u{1}').expect("the placeholder is in the text");
    let rest = format!(
        ", \"decisions\": {}, \"platform\": \"{platform}\"}}{after}",
        if side.backend == "ray" { 0 } else { var.items * 3 }
    );
    let head = format!(
        "{before}{{\"scheduler_type\": \"{}\", \"total_scheduled\": {}, \"avg_latency_ms\": ",
        scheduler_type(var.scheduler),
        var.items * if side.backend == "ray" { 1 } else { 3 }
    );
    ("metadata", head, rest)
}

/// Stream one backend folder's records (JSONL and, with `twins`, CSV).
fn write_side(
    root: &Path,
    spec: &TreeSpec,
    side: &Side<'_>,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<SideOutcome> {
    let var = side.var;
    let (free_key, head, tail) = free_form(side);
    let mut rec = Rec {
        backend: Some(side.backend.to_string()),
        workload: var.workload.to_string(),
        run_id: side.run_id.to_string(),
        seed: 42,
        nodes: var.nodes,
        parallelism: var.parallelism,
        timestamp: String::with_capacity(40),
        config_hash: if side.era == Era::Early {
            String::new()
        } else {
            upstream_config_hash(
                side.backend,
                var.scheduler,
                var.items,
                var.parallelism,
                var.nodes,
                42,
                var.workload,
            )
        },
        backend_hash: if side.era == Era::Early {
            String::new()
        } else {
            sha256_hex(side.backend)
        },
        free_key,
        ..Rec::default()
    };
    let mut files = RecordFiles::create(root, &side.dir, side.twins)?;
    let n = spec.records_per_run;
    let items = var.items as f64;
    let mut free = String::with_capacity(1024);
    let mut t = side.t0;
    let mut tp_sum = 0.0;
    for _ in 0..n {
        let tp_target = side.tp * exp_det(0.06 * normal(rng));
        rec.duration = items / tp_target * rng.gen_range(0.999..1.001);
        rec.throughput = items / rec.duration;
        tp_sum += rec.throughput;
        free.clear();
        free.push_str(&head);
        match side.p50 {
            None => (rec.p50, rec.p95, rec.p99, rec.success_rate) = (None, None, None, None),
            Some(base) => {
                let p50 = round_to(base * exp_det(0.1 * normal(rng)), 3).max(0.5);
                let p95 = round_to(p50 * rng.gen_range(1.2..2.2), 3);
                let p99 = round_to(p95 * rng.gen_range(1.05..1.5), 3);
                rec.p50 = Some(p50);
                rec.p95 = Some(p95);
                rec.p99 = Some(p99);
                rec.success_rate = Some(if rng.gen_bool(0.6) {
                    1.0
                } else {
                    round_to(rng.gen_range(0.95..0.9999), 4)
                });
                if !tail.is_empty() {
                    push_py_float(&mut free, round_to((p50 + p95) / 2.0, 3));
                }
            }
        }
        free.push_str(&tail);
        // Strictly increasing timestamps keep every record (and CSV row) distinct.
        t += (rec.duration * 1e6) as i64 + rng.gen_range(200_000..3_000_000);
        rec.timestamp.clear();
        super::json::push_iso(&mut rec.timestamp, t, true);
        files.put(&rec, &free)?;
    }
    files.finish(stats)?;
    Ok(SideOutcome {
        t_end: t,
        records: n,
        mean_tp: if n == 0 { 0.0 } else { tp_sum / n as f64 },
    })
}

/// The interpreter path each machine ran the harness with.
fn python_of(host: usize) -> &'static str {
    if host == 0 {
        "/home/shuhao/miniconda3/envs/sage/bin/python"
    } else {
        "/opt/sage/venv/bin/python"
    }
}

/// The scheduler_comparison command line of one side.
fn side_command(host: usize, backend: &str, var: &Variant, run_id: &str, base: &str) -> String {
    format!(
        "$ {} experiments/scheduler_comparison.py --backend {backend} --scheduler {} --items {} --parallelism {} --nodes {} --seed 42 --run-id {run_id} --workload {} --output-dir artifacts/{base}/backends/{backend}",
        python_of(host),
        var.scheduler,
        var.items,
        var.parallelism,
        var.nodes,
        var.workload
    )
}

/// `logs/<backend>.log` of a side that ran: the command log the paired
/// runner writes (command, stdout with a line per item, stderr, exit code).
fn side_log(host: usize, side: &Side<'_>, base: &str, out: &SideOutcome) -> String {
    let var = side.var;
    let mut s = String::with_capacity(120 * var.items as usize + 2048);
    s.push_str(&side_command(host, side.backend, var, side.run_id, base));
    let _ = write!(
        s,
        "\n\n[stdout]\nscheduler comparison: backend={} scheduler={} items={} parallelism={} nodes={}\nregistered backends: sage, ray\n\n",
        side.backend, var.scheduler, var.items, var.parallelism, var.nodes
    );
    for k in 0..var.items {
        let _ = writeln!(s, "[source] emitted data_{k}");
        let _ = writeln!(s, "[map] processed data_{k} -> processed_data_{k}");
        let _ = writeln!(s, "[sink] stored processed_data_{k}");
    }
    let rule = "-".repeat(60);
    let _ = write!(
        s,
        "{rule}\nresult ({}/{}): {} repeats, mean throughput {:.2} items/s\nwrote artifacts/{}/unified_results.jsonl ({} records)\n",
        side.backend, var.scheduler, out.records, out.mean_tp, side.dir, out.records
    );
    if side.twins {
        let _ = writeln!(s, "wrote artifacts/{}/unified_results.csv", side.dir);
    }
    let _ = write!(s, "{rule}\n\n[stderr]\n");
    let stamp = iso(side.t0, false).replace('T', " ");
    let stamp = &stamp[..stamp.len().min(19)];
    if side.backend == "ray" {
        let _ = writeln!(
            s,
            "{stamp},000\tINFO worker.py:1821 -- Started a local Ray instance. View the dashboard at 127.0.0.1:8265"
        );
    } else {
        let platform = if var.nodes == 1 { "local" } else { "flownet" };
        let _ = writeln!(
            s,
            "{stamp},000 INFO sage.kernel: JobManager started (platform={platform}, nodes={})",
            var.nodes
        );
        if var.nodes == 1 {
            let _ = writeln!(
                s,
                "{stamp},000 WARNING sage.kernel: latency tracking is off in local mode; latency fields are null"
            );
        }
    }
    s.push_str("\n[returncode] 0");
    s
}

/// `logs/ray.log` where the ray side failed (ray not installed).
fn failed_ray_log(host: usize, var: &Variant, run_id: &str, base: &str) -> String {
    format!(
        "{}\n\n[stdout]\n\n\n[stderr]\nTraceback (most recent call last):\n  File \"experiments/scheduler_comparison.py\", line 301, in <module>\n    main()\n  File \"experiments/scheduler_comparison.py\", line 245, in main\n    runner = get_runner(args.backend)\n  File \"experiments/backends/base.py\", line 118, in get_runner\n    raise RuntimeError(\nRuntimeError: backend 'ray' is not available: the ray package is not installed (pip install 'ray[default]>=2.9')\n\n[returncode] 1",
        side_command(host, "ray", var, run_id, base)
    )
}

/// `logs/compare.log` of the newest runs.
fn compare_log(host: usize, base: &str, records: usize) -> String {
    format!(
        "$ {} experiments/analysis/compare_backends.py artifacts/{base}/backends/sage artifacts/{base}/backends/ray --output-dir artifacts/{base}/comparison\n\n[stdout]\nloaded {records} records (2 backends, 1 workload)\nwrote summary.md, comparison.csv, throughput_comparison.png, latency_p95_p99_comparison.png\n\n[stderr]\n\n\n[returncode] 0",
        python_of(host)
    )
}

/// Paired run `index`: its backend folders, logs and manifest (or failure report).
pub(super) fn write_run(
    root: &Path,
    spec: &TreeSpec,
    index: usize,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let step = step(spec.runs);
    let start = first_day() + index as i64 * step + rng.gen_range(0..step / 2);
    let (f, v) = variant_of(index);
    let var = &family(f)[v];
    let perf = variant_perf(spec.seed, f, v, var);
    let both = rng.gen_bool(BOTH_SIDES);
    let ray_failed = !both && rng.gen_bool(RAY_FAILED);
    let era = era_of(start);
    let twins = spec.twins && rng.gen_bool(if era == Era::Early { 0.7 } else { 0.95 });
    // Cluster machines run both backends; the laptop has no ray.
    let host = if both { rng.gen_range(1..HOSTS.len()) } else { 0 };
    let config = J::obj([
        ("scheduler", J::s(var.scheduler)),
        ("items", J::I(var.items as i64)),
        ("parallelism", J::I(var.parallelism as i64)),
        ("nodes", J::I(var.nodes as i64)),
        ("seed", J::I(42)),
    ]);
    let hash12 = sha256_hex(&format!(
        "{{\"items\":{},\"nodes\":{},\"parallelism\":{},\"scheduler\":\"{}\",\"seed\":42}}",
        var.items, var.nodes, var.parallelism, var.scheduler
    ))[..12]
        .to_string();
    let day_time = folder_stamp(start).replace('_', "-");
    let run_id = match (both, rng.gen_bool(0.6)) {
        (true, true) => format!("paired-{}-{hash12}", compact_stamp(start)),
        (true, false) => format!("nightly-{day_time}"),
        (false, _) => format!("laptop-{}-{day_time}", var.scheduler),
    };
    let base = format!("paired_backend_runs/run_id={run_id}/config_hash={hash12}");

    let mut t = start * 1_000_000 + rng.gen_range(0..1_000_000);
    let started_at = iso(t, true);
    let mut paths = Vec::new();
    let mut records = 0;
    let mut logs = Vec::new();
    for backend in ["sage", "ray"].into_iter().take(if both { 2 } else { 1 }) {
        let ray = backend == "ray";
        let noise = exp_det(0.05 * normal(rng));
        // Local sage runs (one node) do not track latencies.
        let measured = ray || var.nodes > 1;
        let side = Side {
            backend,
            var,
            run_id: &run_id,
            dir: format!("{base}/backends/{backend}"),
            twins,
            tp: perf.tp * noise * if ray { perf.ray } else { 1.0 },
            p50: measured.then(|| perf.p50 * noise.recip() * if ray { 1.0 / perf.ray } else { 1.0 }),
            era,
            host,
            t0: t + 1_500_000,
        };
        let out = write_side(root, spec, &side, rng, stats)?;
        t = out.t_end + 1_000_000;
        records += out.records;
        if twins {
            paths.push((format!("{backend}_csv"), format!("{}/unified_results.csv", side.dir)));
        }
        paths.push((
            format!("{backend}_jsonl"),
            format!("{}/unified_results.jsonl", side.dir),
        ));
        logs.push((format!("{base}/logs/{backend}.log"), side_log(host, &side, &base, &out)));
    }
    if ray_failed {
        logs.push((
            format!("{base}/logs/ray.log"),
            failed_ray_log(host, var, &run_id, &base),
        ));
    }
    if both && era == Era::Late {
        let path = format!("{base}/logs/compare.log");
        paths.push(("compare_log".into(), path.clone()));
        logs.push((path, compare_log(host, &base, records)));
    } else if !both {
        // The runner makes every backend folder before it starts.
        std::fs::create_dir_all(root.join(&base).join("backends/ray"))?;
    }
    for (path, text) in logs {
        stats.add_file(write_file(&root.join(&path), text.as_bytes())?);
        stats.skipped.push(path);
    }
    let path_obj = |paths: Vec<(String, String)>| {
        J::O(
            paths
                .into_iter()
                .map(|(k, p)| (k, J::s(format!("artifacts/{p}"))))
                .collect(),
        )
    };
    let (name, doc) = if ray_failed {
        let doc = J::obj([
            ("status", J::s("failed")),
            ("started_at", J::s(started_at)),
            ("failed_at", J::s(iso(t, true))),
            ("run_id", J::s(run_id.as_str())),
            ("config_hash", J::s(hash12.as_str())),
            ("config", config),
            (
                "error",
                J::s(format!(
                    "ray backend run failed (exit=1). See log: artifacts/{base}/logs/ray.log"
                )),
            ),
            ("logs_dir", J::s(format!("artifacts/{base}/logs"))),
        ]);
        // Not a fault: a correct reader says the run failed, and still reads the sage side.
        stats.notices.push(ExpectedProblem {
            path: format!("{base}/failure_report.json"),
            line: None,
            kind: "paired_run_failed",
            severity: "warning",
        });
        ("failure_report.json", doc)
    } else {
        let doc = J::obj([
            ("status", J::s("success")),
            ("started_at", J::s(started_at)),
            ("finished_at", J::s(iso(t, true))),
            ("run_id", J::s(run_id.as_str())),
            ("config_hash", J::s(hash12.as_str())),
            ("config", config),
            ("paths", path_obj(paths)),
        ]);
        ("manifest.json", doc)
    };
    stats.add_file(write_file(&root.join(&base).join(name), doc.pretty().as_bytes())?);
    Ok(())
}

/// Legacy campaign `index`: one experiment folder, exp1–exp4 in turn, every
/// run of it with 100 tasks and no lost task (100 latency rows).
pub(super) fn write_legacy_campaign(
    root: &Path,
    spec: &TreeSpec,
    index: usize,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let n = campaigns(spec.runs);
    let step = step(n);
    let t = first_day() + 2 * 86_400 + index as i64 * step + rng.gen_range(0..step / 2);
    let stamp = folder_stamp(t);
    let cfg = |name: &str, parallelism: u32, nodes: u32| Cfg {
        failures: false,
        ..Cfg::remote(name, 100, parallelism, nodes)
    };
    let mut rows = Vec::new();
    match index % 4 {
        0 => {
            // exp1: node scaling per pipeline.
            let dir = format!("exp1_single_vs_multi/results/full_experiment_{stamp}/node_scaling");
            let mut k = 0;
            for pipeline in ["compute", "rag", "mixed"] {
                for nodes in [1u32, 2, 4, 8, 16] {
                    let name = if nodes == 1 {
                        format!("{pipeline}_single_node")
                    } else {
                        format!("{pipeline}_multi_{nodes}_nodes")
                    };
                    k += 1;
                    let at = legacy::micros(t + 60 * k, rng);
                    rows.push(legacy::write_run(
                        root,
                        &dir,
                        cfg(&name, nodes * 4, nodes),
                        at,
                        rng,
                        stats,
                    )?);
                }
            }
            legacy::write_comparison(
                root,
                format!("{dir}/node_scaling_comparison.txt"),
                "Node Scaling Comparison",
                &rows,
                stats,
            )
        }
        1 => {
            // exp2: every scheduler at every load level.
            let dir = format!("exp2_high_load_parallel/results/full_experiment_{stamp}/scheduler_comparison");
            let mut k = 0;
            for (level, nodes, parallelism) in [
                ("low", 2u32, 4u32),
                ("medium", 4, 16),
                ("high", 8, 64),
                ("extreme", 16, 128),
            ] {
                for (label, ty, strategy) in [
                    ("fifo", "fifo", "spread"),
                    ("load_aware_spread", "load_aware", "spread"),
                    ("load_aware_pack", "load_aware", "pack"),
                    ("round_robin", "round_robin", "spread"),
                    ("priority", "priority", "spread"),
                ] {
                    let mut c = cfg(&format!("scheduler_{label}_{level}"), parallelism, nodes);
                    c.scheduler_type = ty;
                    c.scheduler_strategy = strategy;
                    k += 1;
                    let at = legacy::micros(t + 90 * k, rng);
                    rows.push(legacy::write_run(root, &dir, c, at, rng, stats)?);
                }
            }
            legacy::write_comparison(
                root,
                format!("{dir}/scheduler_comparison.txt"),
                "Scheduler Comparison",
                &rows,
                stats,
            )
        }
        2 => {
            // exp3: concurrency scaling; p ≤ 4 runs locally (1 node, fifo).
            let dir = format!("exp3_latency_throughput/results/full_experiment_{stamp}/concurrency_scaling");
            for (k, p) in [1u32, 2, 4, 8, 16, 32].into_iter().enumerate() {
                let remote = p > 4;
                let mut c = cfg(&format!("concurrency_{p}"), p, if remote { 4 } else { 1 });
                c.use_remote = remote;
                c.scheduler_type = if remote { "load_aware" } else { "fifo" };
                let at = legacy::micros(t + 45 * (k as i64 + 1), rng);
                rows.push(legacy::write_run(root, &dir, c, at, rng, stats)?);
            }
            legacy::write_comparison(
                root,
                format!("{dir}/concurrency_scaling_comparison.txt"),
                "Concurrency Scaling",
                &rows,
                stats,
            )?;
            legacy::write_curve(root, &dir, &rows, stats)
        }
        _ => {
            // exp4: 1, 2, 4, 8 concurrent rag jobs.
            let base = format!("exp4_parallel_jobs/results/scaling_rag_{stamp}");
            legacy::write_scaling(root, &base, t, |j| cfg(&format!("job{j}_rag"), 8, 4), rng, stats)
        }
    }
}

/// One workload shape of the published data set.
struct PubVariant {
    workload: &'static str,
    nodes: u32,
    parallelism: u32,
    /// Dimensions in the record's metadata.
    dims: Vec<(&'static str, J)>,
}

/// The Q1–Q8 families of the published data set: 218 variants.
static PUBLISHED: LazyLock<Vec<PubVariant>> = LazyLock::new(|| {
    let mut out = Vec::new();
    let mut add = |workload, nodes, parallelism, dims: Vec<(&'static str, J)>| {
        out.push(PubVariant {
            workload,
            nodes,
            parallelism,
            dims,
        })
    };
    for n in [1u32, 2, 4, 8] {
        for p in [4u32, 8, 16] {
            for c in [1i64, 2, 4, 8, 16] {
                add(
                    "e2e_pipeline",
                    n,
                    p,
                    vec![("pipeline", J::s("rag")), ("concurrency", J::I(c))],
                );
            }
        }
    }
    for n in [1u32, 2, 4] {
        for p in [4u32, 16] {
            for r in [0.1, 0.3, 0.5, 0.7] {
                add(
                    "control_plane",
                    n,
                    p,
                    vec![
                        ("pipeline", J::s("mixed")),
                        ("llm_ratio", J::F(r)),
                        ("arrival", J::s("poisson")),
                    ],
                );
            }
        }
    }
    for n in [2u32, 4] {
        for p in [8u32, 16] {
            for j in [2i64, 4, 8] {
                add("isolation", n, p, vec![("concurrent_jobs", J::I(j))]);
            }
        }
    }
    for n in [1u32, 2, 4, 8, 16] {
        for p in [1u32, 2, 4, 8, 16, 32, 64] {
            for tc in ["light", "heavy"] {
                if p >= n {
                    add(
                        "scalability",
                        n,
                        p,
                        vec![("pipeline", J::s("compute")), ("task_complexity", J::s(tc))],
                    );
                }
            }
        }
    }
    for n in [2u32, 4, 8] {
        for p in [8u32, 16] {
            for tc in ["light", "medium", "heavy"] {
                add("heterogeneity", n, p, vec![("task_complexity", J::s(tc))]);
            }
        }
    }
    for n in [1u32, 4] {
        for p in [4u32, 16] {
            for s in ["fifo", "priority", "load_aware"] {
                for l in ["low", "medium", "high"] {
                    add(
                        "burst_priority",
                        n,
                        p,
                        vec![("scheduler", J::s(s)), ("load_level", J::s(l))],
                    );
                }
            }
        }
    }
    for n in [2u32, 4] {
        for p in [4u32, 8, 16] {
            add("reconfiguration", n, p, vec![]);
        }
    }
    for n in [2u32, 4, 8] {
        for p in [8u32, 16] {
            for t in [1000i64, 5000] {
                add("recovery", n, p, vec![("num_tasks", J::I(t))]);
            }
        }
    }
    out
});

/// `hf_data/benchmark_results.json`: the published data set, a
/// `json.dump(indent=2)` array of sage and ray runs of
/// [`PUBLISHED_PER_1000`] variants per 1,000 runs (at least 8, at most all),
/// two to four runs a side (times `runs / 1000` beyond 2,000 runs).
pub(super) fn write_published(root: &Path, spec: &TreeSpec, rng: &mut StdRng, stats: &mut Stats) -> anyhow::Result<()> {
    let all = &*PUBLISHED;
    let count = (spec.runs * PUBLISHED_PER_1000 / 1000).clamp(8, all.len());
    let scale = (spec.runs / 1000).max(1);
    let mut items = Vec::new();
    let t0 = first_day() * 1_000_000;
    for k in 0..count {
        let v = k * 53 % all.len();
        let pv = &all[v];
        let perf = perf(spec.seed, 1_000_000 + v as u64, pv.nodes, pv.parallelism, 18.0);
        let tasks = pv
            .dims
            .iter()
            .find(|(key, _)| *key == "num_tasks")
            .and_then(|(_, j)| match j {
                J::I(n) => Some(*n as u64),
                _ => None,
            })
            .unwrap_or(500);
        for backend in ["sage", "ray"] {
            let ray = backend == "ray";
            for _ in 0..rng.gen_range(2..=4usize) * scale {
                let t = t0 + rng.gen_range(0..SPAN_SECS) * 1_000_000 + rng.gen_range(0..1_000_000);
                let tp = perf.tp * if ray { perf.ray } else { 1.0 } * exp_det(0.06 * normal(rng));
                let duration = tasks as f64 / tp;
                let p50 = round_to(
                    perf.p50 * if ray { 1.0 / perf.ray } else { 1.0 } * exp_det(0.1 * normal(rng)),
                    3,
                );
                let p95 = round_to(p50 * rng.gen_range(1.2..2.2), 3);
                let p99 = round_to(p95 * rng.gen_range(1.05..1.5), 3);
                let run_id = format!(
                    "{backend}-{}",
                    &sha256_hex(&format!("published-{v}-{}", rng.gen::<u64>()))[..12]
                );
                let rec = Rec {
                    backend: Some(backend.to_string()),
                    workload: pv.workload.to_string(),
                    run_id,
                    seed: 42,
                    nodes: pv.nodes,
                    parallelism: pv.parallelism,
                    throughput: tasks as f64 / duration,
                    p50: Some(p50),
                    p95: Some(p95),
                    p99: Some(p99),
                    success_rate: Some(if rng.gen_bool(0.7) { 1.0 } else { round_to(rng.gen_range(0.97..0.9999), 4) }),
                    duration,
                    timestamp: iso(t, true),
                    config_hash: sha256_hex(&format!(
                        "{{\"backend\":\"{backend}\",\"nodes\":{},\"parallelism\":{},\"variant\":{v},\"workload\":\"{}\"}}",
                        pv.nodes, pv.parallelism, pv.workload
                    )),
                    backend_hash: sha256_hex(backend),
                    free_key: "metadata",
                };
                let mut meta = J::O(pv.dims.iter().map(|(k, j)| (k.to_string(), j.clone())).collect());
                meta.set(
                    if ray { "ray_version" } else { "sage_version" },
                    J::s(if ray { "2.41.0" } else { "0.2.4.18" }),
                );
                meta.set("results_count", J::I(tasks as i64));
                items.push(rec.to_j(meta));
            }
        }
    }
    super::unified::write_published_array(root, "hf_data/benchmark_results.json", items, stats)
}

#[cfg(test)]
mod tests {
    use super::super::{generate, Manifest};
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn tree(spec: &TreeSpec) -> (tempfile::TempDir, Manifest, BTreeMap<String, Vec<u8>>) {
        let dir = tempfile::tempdir().unwrap();
        let m = generate(spec, dir.path()).unwrap();
        let files = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        (dir, m, files)
    }

    fn count(files: &BTreeMap<String, Vec<u8>>, pred: impl Fn(&str) -> bool) -> usize {
        files.keys().filter(|k| pred(k)).count()
    }

    fn lines(body: &[u8]) -> usize {
        body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()
    }

    #[test]
    fn variants_cycle_through_each_family() {
        assert_eq!(SCHEDULER_COMPARISON.len(), 312);
        assert_eq!(WORKLOAD4.len(), 128);
        let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for i in 0..1000 {
            *seen.entry(variant_of(i)).or_default() += 1;
        }
        let big = seen.iter().filter(|((f, _), _)| *f == 0).count();
        assert_eq!(big, 312, "every scheduler_comparison variant within 1,000 runs");
        assert_eq!(seen.len(), 312 + 128);
        // Runs come back to a variant: 750 runs over 312 variants.
        assert!(seen.iter().filter(|((f, _), _)| *f == 0).all(|(_, &n)| n >= 2));
        // Distinct variants are distinct shapes.
        let shapes: BTreeSet<String> = SCHEDULER_COMPARISON.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(shapes.len(), 312);
    }

    #[test]
    fn deterministic() {
        let spec = TreeSpec::harness_small();
        let (_a, ma, fa) = tree(&spec);
        let (_b, mb, fb) = tree(&spec);
        assert_eq!(ma, mb);
        assert!(fa == fb, "same seed, same bytes");
        let (_c, _, fc) = tree(&TreeSpec { seed: 8, ..spec });
        assert!(fa != fc, "another seed gives another tree");
    }

    #[test]
    fn manifest_counts_are_consistent() {
        for spec in [
            TreeSpec::harness_small(),
            TreeSpec {
                runs: 13,
                records_per_run: 3,
                twins: false,
                legacy: false,
                seed: 3,
                ..TreeSpec::harness_small()
            },
            TreeSpec {
                runs: 9,
                records_per_run: 0,
                seed: 4,
                ..TreeSpec::harness_small()
            },
            TreeSpec {
                runs: 20,
                records_per_run: 4,
                faults: true,
                ..TreeSpec::harness_small()
            },
        ] {
            let (_d, m, files) = tree(&spec);
            assert_eq!(m.bytes_written, files.values().map(|v| v.len() as u64).sum::<u64>());
            assert_eq!(m.files_written, files.len() as u64);
            assert_eq!(m.expected_read, m.expected_accepted + m.expected_rejected, "{spec:?}");
            let paired = |k: &str| k.starts_with("paired_backend_runs/");
            let jsonl = count(&files, |k| paired(k) && k.ends_with("/unified_results.jsonl"));
            let twins = count(&files, |k| paired(k) && k.ends_with("/unified_results.csv"));
            let metrics = count(&files, |k| k.ends_with("_metrics.json"));
            let manifests = count(&files, |k| paired(k) && k.ends_with("/manifest.json"));
            let failures = count(&files, |k| paired(k) && k.ends_with("/failure_report.json"));
            assert!((spec.runs..=2 * spec.runs).contains(&jsonl), "{spec:?}: {jsonl}");
            assert_eq!(manifests + failures, spec.runs, "one manifest or failure report a run");
            assert_eq!(m.expected_twins_merged, (twins * spec.records_per_run) as u64);
            if !spec.twins {
                assert_eq!(twins, 0);
            }
            let published: serde_json::Value =
                serde_json::from_slice(&files["hf_data/benchmark_results.json"]).unwrap();
            let published = published.as_array().unwrap().len();
            assert!(published >= 8 * 4, "{published}");
            let records: usize = files
                .iter()
                .filter(|(k, _)| paired(k) && k.ends_with(".jsonl"))
                .map(|(_, v)| lines(v))
                .sum();
            assert_eq!(records, jsonl * spec.records_per_run);
            let faulty = if spec.faults { 60 } else { 0 };
            assert_eq!(
                m.expected_read,
                (records + published + metrics + faulty) as u64,
                "{spec:?}"
            );
            if spec.legacy {
                assert_eq!(metrics, 56, "the four experiments once each: {spec:?}");
            } else {
                assert_eq!(metrics, 0);
            }
            // Notices: a unit conversion per legacy run, a failed paired run
            // per failure report, an empty file per JSONL when there are no records.
            let mut want: Vec<(&str, String)> = files
                .keys()
                .filter(|k| k.ends_with("_metrics.json") && !k.starts_with("faulty/"))
                .map(|k| ("unit_conversion", k.clone()))
                .chain(
                    files
                        .keys()
                        .filter(|k| k.ends_with("/failure_report.json"))
                        .map(|k| ("paired_run_failed", k.clone())),
                )
                .collect();
            if spec.records_per_run == 0 {
                want.extend(
                    files
                        .keys()
                        .filter(|k| paired(k) && k.ends_with(".jsonl"))
                        .map(|k| ("empty_file", k.clone())),
                );
            }
            want.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
            let got: Vec<(&str, String)> = m.notices.iter().map(|p| (p.kind, p.path.clone())).collect();
            assert_eq!(got, want, "{spec:?}");
            assert!(m.notices.iter().all(|p| p.line.is_none() && p.severity == "warning"));
            // Skipped: every log and text file, and the derived legacy JSON.
            let skipped: BTreeSet<&String> = m.skipped_files.iter().collect();
            for k in files.keys() {
                let text = k.ends_with(".log") || k.ends_with(".txt");
                let derived = k.ends_with("/throughput_curve.json") || k.ends_with("/parallel_jobs_summary.json");
                assert_eq!(skipped.contains(k), text || derived, "{k}");
            }
            if spec.faults {
                assert_eq!(m.problems.len(), 15);
                assert!(m.expected_rejected > 0);
            } else {
                assert!(m.problems.is_empty() && m.expected_rejected == 0 && m.expected_duplicates == 0);
                assert!(!files.keys().any(|k| k.starts_with("faulty/")));
            }
        }
    }

    #[test]
    fn record_counts_scale_with_runs_and_records() {
        let spec = |runs, records| TreeSpec {
            runs,
            records_per_run: records,
            legacy: true,
            ..TreeSpec::harness_small()
        };
        let (_a, a, fa) = tree(&spec(52, 4));
        let (_b, b, fb) = tree(&spec(52, 8));
        let (_c, c, fc) = tree(&spec(104, 4));
        let jsonl = |f: &BTreeMap<String, Vec<u8>>| count(f, |k| k.ends_with("/unified_results.jsonl"));
        assert_eq!(fa.len(), fb.len(), "--records changes no file count");
        assert_eq!(jsonl(&fa), jsonl(&fb));
        let unified = |m: &Manifest, f: &BTreeMap<String, Vec<u8>>, n: usize| {
            assert_eq!(m.expected_twins_merged % n as u64, 0);
            (jsonl(f) * n) as u64
        };
        let fixed_a = a.expected_read - unified(&a, &fa, 4);
        let fixed_b = b.expected_read - unified(&b, &fb, 8);
        assert_eq!(
            fixed_a, fixed_b,
            "published and legacy records do not depend on --records"
        );
        assert_eq!(b.expected_twins_merged, 2 * a.expected_twins_merged);
        // Twice the runs: about twice the run folders, legacy campaigns and published runs.
        let metrics = |f: &BTreeMap<String, Vec<u8>>| count(f, |k| k.ends_with("_metrics.json"));
        assert_eq!(metrics(&fa), 56);
        assert_eq!(metrics(&fc), 15 + 20 + 6 + 15 + 15 + 20 + 6 + 15);
        let ratio = jsonl(&fc) as f64 / jsonl(&fa) as f64;
        assert!((1.6..2.4).contains(&ratio), "{ratio}");
        assert!(c.expected_read > a.expected_read * 3 / 2);
        // The legacy latency files have 100 rows.
        for (k, v) in fa.iter().filter(|(k, _)| k.ends_with("_latencies.csv")) {
            assert_eq!(lines(v), 101, "{k}");
        }
    }

    #[test]
    fn every_layout_is_present() {
        let spec = TreeSpec {
            runs: 80,
            ..TreeSpec::harness_small()
        };
        let (_d, _m, files) = tree(&spec);
        let has = |pred: &dyn Fn(&str) -> bool| files.keys().any(|k| pred(k));
        let run = |k: &str| k.starts_with("paired_backend_runs/run_id=") && k.contains("/config_hash=");
        for (what, ok) in [
            (
                "sage jsonl",
                has(&|k| run(k) && k.ends_with("/backends/sage/unified_results.jsonl")),
            ),
            (
                "ray jsonl",
                has(&|k| run(k) && k.ends_with("/backends/ray/unified_results.jsonl")),
            ),
            (
                "csv twin",
                has(&|k| run(k) && k.ends_with("/backends/ray/unified_results.csv")),
            ),
            ("manifest", has(&|k| run(k) && k.ends_with("/manifest.json"))),
            (
                "failure report",
                has(&|k| run(k) && k.ends_with("/failure_report.json")),
            ),
            ("sage log", has(&|k| run(k) && k.ends_with("/logs/sage.log"))),
            ("ray log", has(&|k| run(k) && k.ends_with("/logs/ray.log"))),
            ("compare log", has(&|k| run(k) && k.ends_with("/logs/compare.log"))),
            ("laptop run", has(&|k| k.contains("/run_id=laptop-"))),
            ("paired run id", has(&|k| k.contains("/run_id=paired-"))),
            (
                "exp1",
                has(&|k| {
                    k.starts_with("exp1_single_vs_multi/results/full_experiment_")
                        && k.ends_with("/node_scaling/rag_multi_4_nodes_metrics.json")
                }),
            ),
            (
                "exp2",
                has(&|k| {
                    k.starts_with("exp2_high_load_parallel/")
                        && k.ends_with("/scheduler_load_aware_pack_extreme_latencies.csv")
                }),
            ),
            (
                "exp3",
                has(&|k| k.starts_with("exp3_latency_throughput/") && k.ends_with("/concurrency_2_summary.txt")),
            ),
            (
                "exp3 curve",
                has(&|k| k.ends_with("/concurrency_scaling/throughput_curve.json")),
            ),
            (
                "exp4",
                has(&|k| {
                    k.starts_with("exp4_parallel_jobs/results/scaling_rag_")
                        && k.ends_with("/jobs_8/job7_rag_metrics.json")
                }),
            ),
            ("exp4 report", has(&|k| k.ends_with("/scaling_report.txt"))),
        ] {
            assert!(ok, "{what} missing");
        }
        // A run left without ray: failure report, the failed command's log, sage results.
        let failed = files.keys().find(|k| k.ends_with("/failure_report.json")).unwrap();
        let dir = failed.trim_end_matches("failure_report.json");
        let doc: serde_json::Value = serde_json::from_slice(&files[failed]).unwrap();
        assert_eq!(doc["status"], "failed");
        assert!(files.contains_key(&format!("{dir}logs/ray.log")));
        assert!(files.contains_key(&format!("{dir}backends/sage/unified_results.jsonl")));
        assert!(!files.contains_key(&format!("{dir}backends/ray/unified_results.jsonl")));

        // Records: every era's free-form object, with and without hashes,
        // per-record metadata where the scheduler reports latencies, and the
        // manifest's config in every record.
        let mut saw = BTreeMap::<&str, usize>::new();
        for (path, body) in files.iter().filter(|(k, _)| k.ends_with("unified_results.jsonl")) {
            let dir = &path[..path.find("/backends/").unwrap()];
            let manifest = files
                .get(&format!("{dir}/manifest.json"))
                .or_else(|| files.get(&format!("{dir}/failure_report.json")))
                .unwrap();
            let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
            let cfg = &manifest["config"];
            let canonical = format!(
                "{{\"items\":{},\"nodes\":{},\"parallelism\":{},\"scheduler\":{},\"seed\":{}}}",
                cfg["items"], cfg["nodes"], cfg["parallelism"], cfg["scheduler"], cfg["seed"]
            );
            assert!(
                dir.ends_with(&format!("config_hash={}", &sha256_hex(&canonical)[..12])),
                "{dir}"
            );
            let mut frees = BTreeSet::new();
            let text = std::str::from_utf8(body).unwrap();
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["run_id"], manifest["run_id"]);
                assert_eq!(v["nodes"], cfg["nodes"]);
                assert_eq!(v["parallelism"], cfg["parallelism"]);
                assert_eq!(v["seed"], cfg["seed"]);
                let (key, free) = match (v.get("metadata"), v.get("extra")) {
                    (Some(m), None) => ("metadata", m),
                    (None, Some(e)) => ("extra", e),
                    other => panic!("{other:?}"),
                };
                *saw.entry(key).or_default() += 1;
                if key == "extra" {
                    assert!(v.get("config_hash").is_none() && v.get("backend_hash").is_none());
                    assert_eq!(free["scheduler"], cfg["scheduler"]);
                    assert_eq!(free["items"], cfg["items"]);
                } else {
                    assert_eq!(v["config_hash"].as_str().unwrap().len(), 64);
                    assert_eq!(free["scheduler_name"], cfg["scheduler"]);
                    assert_eq!(free["results_count"], cfg["items"]);
                    if free.get("system_profile").is_some() {
                        *saw.entry("system_profile").or_default() += 1;
                    }
                }
                if v["latency_p50"].is_null() {
                    assert_eq!(v["backend"], "sage");
                    assert_eq!(v["nodes"], 1);
                    *saw.entry("null_latencies").or_default() += 1;
                } else {
                    let (a, b, c) = (
                        v["latency_p50"].as_f64(),
                        v["latency_p95"].as_f64(),
                        v["latency_p99"].as_f64(),
                    );
                    assert!(a <= b && b <= c);
                }
                frees.insert(serde_json::to_string(free).unwrap());
            }
            if frees.len() > 1 {
                *saw.entry("per_record_metadata").or_default() += 1;
            }
        }
        for k in [
            "metadata",
            "extra",
            "system_profile",
            "null_latencies",
            "per_record_metadata",
        ] {
            assert!(saw.get(k).copied().unwrap_or(0) > 0, "{k}: {saw:?}");
        }
    }
}
