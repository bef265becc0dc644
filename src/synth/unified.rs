//! Unified records (`unified_results.jsonl` / `.csv`), in the two upstream
//! layouts: paired runs (`paired_backend_runs/run_id=…/config_hash=…/
//! backends/{sage,ray}/`) and single-backend runs
//! (`results/<workload>/<folder>/` with a `repro_manifest.json`), plus the
//! published `benchmark_results.json`.

use super::json::{
    compact_stamp, epoch_of, push_iso, push_py_float, push_str_lit, round_to, sha256_hex, write_file, Out, J,
};
use super::{Stats, TreeSpec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use std::path::Path;

/// The unified CSV header (upstream `result_writer.CSV_FIELD_ORDER`):
/// [`crate::model::raw::CSV_COLUMNS`], comma-separated.
pub static CSV_HEADER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::model::raw::CSV_COLUMNS.join(","));

/// One unified record. `backend: None` omits the key (the backend is only
/// in the `backends/<name>/` folder); so does an empty `config_hash` or
/// `backend_hash` (older harness versions wrote neither; the CSV twin has
/// empty cells).
#[derive(Clone, Debug, Default)]
pub struct Rec {
    pub backend: Option<String>,
    pub workload: String,
    pub run_id: String,
    pub seed: u64,
    pub nodes: u32,
    pub parallelism: u32,
    pub throughput: f64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub success_rate: Option<f64>,
    pub duration: f64,
    pub timestamp: String,
    pub config_hash: String,
    pub backend_hash: String,
    /// `"metadata"` or `"extra"`.
    pub free_key: &'static str,
}

fn push_opt(out: &mut String, x: Option<f64>) {
    match x {
        Some(x) => push_py_float(out, x),
        None => out.push_str("null"),
    }
}

impl Rec {
    /// The record as a JSON object, `free` under [`Rec::free_key`].
    pub fn to_j(&self, free: J) -> J {
        let mut pairs: Vec<(String, J)> = Vec::with_capacity(16);
        if let Some(b) = &self.backend {
            pairs.push(("backend".into(), J::s(b.as_str())));
        }
        pairs.extend([
            ("workload".to_string(), J::s(self.workload.as_str())),
            ("run_id".into(), J::s(self.run_id.as_str())),
            ("seed".into(), J::Raw(self.seed.to_string())),
            ("nodes".into(), J::I(self.nodes as i64)),
            ("parallelism".into(), J::I(self.parallelism as i64)),
            ("throughput".into(), J::F(self.throughput)),
            ("latency_p50".into(), J::opt_f(self.p50)),
            ("latency_p95".into(), J::opt_f(self.p95)),
            ("latency_p99".into(), J::opt_f(self.p99)),
            ("success_rate".into(), J::opt_f(self.success_rate)),
            ("duration_seconds".into(), J::F(self.duration)),
            ("timestamp".into(), J::s(self.timestamp.as_str())),
        ]);
        for (key, hash) in [("config_hash", &self.config_hash), ("backend_hash", &self.backend_hash)] {
            if !hash.is_empty() {
                pairs.push((key.into(), J::s(hash.as_str())));
            }
        }
        pairs.push((self.free_key.into(), free));
        J::O(pairs)
    }

    /// The JSONL line (no newline), byte-identical to
    /// `self.to_j(free).compact()` where `free_text == free.compact()`.
    /// Hot path: no allocation.
    pub fn push_jsonl(&self, out: &mut String, free_text: &str) {
        out.push('{');
        if let Some(b) = &self.backend {
            out.push_str("\"backend\": ");
            push_str_lit(out, b);
            out.push_str(", ");
        }
        out.push_str("\"workload\": ");
        push_str_lit(out, &self.workload);
        out.push_str(", \"run_id\": ");
        push_str_lit(out, &self.run_id);
        let _ = write!(
            out,
            ", \"seed\": {}, \"nodes\": {}, \"parallelism\": {}",
            self.seed, self.nodes, self.parallelism
        );
        out.push_str(", \"throughput\": ");
        push_py_float(out, self.throughput);
        out.push_str(", \"latency_p50\": ");
        push_opt(out, self.p50);
        out.push_str(", \"latency_p95\": ");
        push_opt(out, self.p95);
        out.push_str(", \"latency_p99\": ");
        push_opt(out, self.p99);
        out.push_str(", \"success_rate\": ");
        push_opt(out, self.success_rate);
        out.push_str(", \"duration_seconds\": ");
        push_py_float(out, self.duration);
        out.push_str(", \"timestamp\": ");
        push_str_lit(out, &self.timestamp);
        if !self.config_hash.is_empty() {
            out.push_str(", \"config_hash\": ");
            push_str_lit(out, &self.config_hash);
        }
        if !self.backend_hash.is_empty() {
            out.push_str(", \"backend_hash\": ");
            push_str_lit(out, &self.backend_hash);
        }
        out.push_str(", \"");
        out.push_str(self.free_key);
        out.push_str("\": ");
        out.push_str(free_text);
        out.push('}');
    }

    /// The CSV twin row with its `\r\n` (Python's csv module): null → empty
    /// cell, floats as `repr`, no metadata column.
    pub fn push_csv(&self, out: &mut String) {
        push_csv_cell(out, self.backend.as_deref().unwrap_or(""));
        out.push(',');
        push_csv_cell(out, &self.workload);
        out.push(',');
        push_csv_cell(out, &self.run_id);
        let _ = write!(out, ",{},{},{},", self.seed, self.nodes, self.parallelism);
        push_py_float(out, self.throughput);
        for x in [self.p50, self.p95, self.p99, self.success_rate] {
            out.push(',');
            if let Some(x) = x {
                push_py_float(out, x);
            }
        }
        out.push(',');
        push_py_float(out, self.duration);
        out.push(',');
        push_csv_cell(out, &self.timestamp);
        out.push(',');
        push_csv_cell(out, &self.config_hash);
        out.push(',');
        push_csv_cell(out, &self.backend_hash);
        out.push_str("\r\n");
    }
}

/// A CSV cell, quoted only when needed (csv.QUOTE_MINIMAL).
pub fn push_csv_cell(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Approximately standard normal deviate (Irwin–Hall: 12 uniforms − 6).
/// Only IEEE-754 basic operations are used for random numbers, so the
/// bytes are the same on every platform (libm `exp`/`ln`/`cos` may differ
/// in the last bit between C libraries).
pub fn normal(rng: &mut StdRng) -> f64 {
    (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0
}

/// `e^x` from basic operations only (portable bytes, see [`normal`]).
pub fn exp_det(x: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    let k = (x / LN2).round();
    let r = x - k * LN2;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for i in 1..=24 {
        term *= r / i as f64;
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// Natural logarithm of a positive normal `x` from basic operations only.
pub fn ln_det(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let (mut power, mut sum) = (z, 0.0f64);
    for k in 0..20 {
        sum += power / (2 * k + 1) as f64;
        power *= z2;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * sum
}

/// Log-uniform in `[lo, hi)`.
pub fn log_uniform(rng: &mut StdRng, lo: f64, hi: f64) -> f64 {
    exp_det(rng.gen_range(ln_det(lo)..ln_det(hi)))
}

pub fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

/// The machines of the synthetic campaign: hostname, OS, CPU, physical
/// cores, memory (GB). The first is the laptop of the real samples.
pub const HOSTS: [(&str, &str, &str, i64, f64); 4] = [
    (
        "SHUHAO-THINKPAD",
        "Linux 6.6.87.2-microsoft-standard-WSL2",
        "12th Gen Intel(R) Core(TM) i7-1260P",
        16,
        11.68,
    ),
    (
        "bench-node-01",
        "Linux 5.15.0-119-generic",
        "AMD EPYC 7763 64-Core Processor",
        64,
        251.54,
    ),
    (
        "bench-node-02",
        "Linux 5.15.0-119-generic",
        "AMD EPYC 7763 64-Core Processor",
        64,
        251.54,
    ),
    (
        "gpu-a100-3",
        "Linux 6.8.0-45-generic",
        "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
        32,
        503.77,
    ),
];

/// A small `system_profile` like the harness records.
pub fn system_profile(rng: &mut StdRng) -> J {
    host_profile(rng.gen_range(0..HOSTS.len()))
}

/// The `system_profile` of [`HOSTS`]`[i]`.
pub fn host_profile(i: usize) -> J {
    let (host, os, cpu, cores, mem) = HOSTS[i];
    let gpu = if host.starts_with("gpu") {
        J::s("NVIDIA A100-SXM4-80GB")
    } else {
        J::Null
    };
    J::obj([
        ("hostname", J::s(host)),
        ("os", J::s(os)),
        ("arch", J::s("x86_64")),
        ("cpu_model", J::s(cpu)),
        ("cpu_physical_cores", J::I(cores)),
        ("memory_gb", J::F(mem)),
        ("gpu", gpu),
        ("python", J::s("3.11.11")),
    ])
}

/// Upstream-style config hash (scheduler_comparison.py): sha256 of the
/// canonical JSON of the run config *including the backend*.
pub fn upstream_config_hash(
    backend: &str,
    scheduler: &str,
    items: u64,
    parallelism: u32,
    nodes: u32,
    seed: u64,
    workload: &str,
) -> String {
    sha256_hex(&format!(
        "{{\"backend\":\"{backend}\",\"items\":{items},\"nodes\":{nodes},\"parallelism\":{parallelism},\"scheduler\":\"{scheduler}\",\"seed\":{seed},\"workload\":\"{workload}\"}}"
    ))
}

/// Workload shape shared by the two sides of a pair.
struct Shape {
    workload: String,
    scheduler: &'static str,
    items: u64,
    nodes: u32,
    parallelism: u32,
    seed: u64,
    repeats: usize,
    /// 0: latencies measured, 1: all null (scheduler_comparison style), 2: mixed.
    lat_mode: u8,
    base_tp: f64,
    base_p50: f64,
    pipeline: Option<&'static str>,
    concurrency: Option<u32>,
    num_tasks_dim: bool,
    warmup: u64,
    profile: J,
    /// Start of the run, µs since the epoch.
    t0: i64,
}

fn shape(rng: &mut StdRng, spec: &TreeSpec, workload: String, t0: i64) -> Shape {
    let records = spec.records_per_run.max(1);
    let lat_mode = match rng.gen_range(0..10) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    Shape {
        workload,
        scheduler: pick(rng, &["fifo", "fifo", "load_aware"]),
        items: pick(rng, &[50u64, 100, 100, 200, 500]),
        nodes: pick(rng, &[1u32, 1, 2, 4, 8]),
        parallelism: pick(rng, &[1u32, 2, 4, 4, 8, 16]),
        seed: if rng.gen_bool(0.75) {
            42
        } else {
            pick(rng, &[7u64, 123, 2026])
        },
        repeats: rng.gen_range(1..=5usize).min(records),
        lat_mode,
        base_tp: log_uniform(rng, 8.0, 380.0),
        base_p50: log_uniform(rng, 6.0, 300.0),
        pipeline: if rng.gen_bool(0.3) {
            Some(pick(rng, &["rag", "compute", "mixed", "llm"]))
        } else {
            None
        },
        concurrency: if rng.gen_bool(0.25) {
            Some(pick(rng, &[1u32, 2, 4, 8, 16]))
        } else {
            None
        },
        num_tasks_dim: rng.gen_bool(0.3),
        warmup: pick(rng, &[0u64, 0, 5, 10]),
        profile: system_profile(rng),
        t0,
    }
}

/// One backend directory of a shape.
struct Side {
    backend: &'static str,
    in_record: bool,
    free_key: &'static str,
    /// Throughput relative to the shape (ray runs 10–30 % slower on average).
    tp_factor: f64,
    lat_factor: f64,
    t0: i64,
    run_ids: Vec<String>,
    /// Directory relative to the root.
    dir: String,
    /// Single layout: repro manifest and its dimension keys in the metadata.
    single: bool,
}

fn metadata(shape: &Shape, side: &Side) -> J {
    let mut m = J::obj([
        ("scheduler_name", J::s(shape.scheduler)),
        ("sage_version", J::s("0.2.4.18")),
        ("benchmark_version", J::s("unknown")),
        ("system_profile", shape.profile.clone()),
        ("results_count", J::I(shape.items as i64)),
    ]);
    if let Some(p) = shape.pipeline {
        m.set("pipeline", J::s(p));
    }
    if let Some(c) = shape.concurrency {
        m.set("concurrency", J::I(c as i64));
    }
    if shape.num_tasks_dim {
        m.set("num_tasks", J::I(shape.items as i64));
    }
    if side.single && shape.warmup > 0 {
        m.set("warmup_items", J::I(shape.warmup as i64));
        m.set("parity_batch_size", J::I(16));
    }
    let (sched_type, platform) = match (shape.scheduler, side.backend) {
        ("fifo", "ray") => ("FIFO", "ray"),
        ("fifo", _) => ("FIFO", "local"),
        (_, "ray") => ("LoadAware", "ray"),
        _ => ("LoadAware", "local"),
    };
    m.set(
        "raw_metrics",
        J::obj([
            ("scheduler_type", J::s(sched_type)),
            ("total_scheduled", J::I(0)),
            ("avg_latency_ms", J::I(0)),
            ("decisions", J::I(0)),
            ("platform", J::s(platform)),
        ]),
    );
    m
}

/// A backend folder's `unified_results.jsonl` and, with twins, its
/// `unified_results.csv`, written record by record.
pub(super) struct RecordFiles {
    jsonl: Out,
    csv: Option<Out>,
    line: String,
    row: String,
    written: u64,
    /// Relative to the root, for the manifest's notices.
    dir: String,
}

impl RecordFiles {
    pub(super) fn create(root: &Path, dir: &str, twins: bool) -> anyhow::Result<RecordFiles> {
        let at = root.join(dir);
        let jsonl = Out::create(&at.join("unified_results.jsonl"))?;
        let csv = if twins {
            let mut c = Out::create(&at.join("unified_results.csv"))?;
            c.put(CSV_HEADER.as_bytes())?;
            c.put(b"\r\n")?;
            Some(c)
        } else {
            None
        };
        Ok(RecordFiles {
            jsonl,
            csv,
            line: String::with_capacity(2048),
            row: String::with_capacity(512),
            written: 0,
            dir: dir.to_string(),
        })
    }

    /// One record: its JSONL line and its CSV twin row.
    pub(super) fn put(&mut self, rec: &Rec, free_text: &str) -> anyhow::Result<()> {
        self.line.clear();
        rec.push_jsonl(&mut self.line, free_text);
        self.line.push('\n');
        self.jsonl.put(self.line.as_bytes())?;
        if let Some(c) = self.csv.as_mut() {
            self.row.clear();
            rec.push_csv(&mut self.row);
            c.put(self.row.as_bytes())?;
        }
        self.written += 1;
        Ok(())
    }

    /// Close the files and count them, their records and twins; an empty
    /// JSONL is a notice a correct reader gives.
    pub(super) fn finish(self, stats: &mut Stats) -> anyhow::Result<()> {
        let n = self.written;
        stats.add_file(self.jsonl.finish()?);
        if let Some(c) = self.csv {
            stats.add_file(c.finish()?);
            stats.twins += n;
        }
        stats.read += n;
        stats.accepted += n;
        if n == 0 {
            stats.notices.push(super::ExpectedProblem {
                path: format!("{}/unified_results.jsonl", self.dir),
                line: None,
                kind: "empty_file",
                severity: "warning",
            });
        }
        Ok(())
    }
}

/// Stream one backend directory: `unified_results.jsonl`, its CSV twin,
/// and (single layout) `repro_manifest.json`.
/// Returns the timestamp (µs) of the last record.
fn write_side(
    root: &Path,
    spec: &TreeSpec,
    shape: &Shape,
    side: &Side,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<i64> {
    let dir = root.join(&side.dir);
    let config_hash = upstream_config_hash(
        side.backend,
        shape.scheduler,
        shape.items,
        shape.parallelism,
        shape.nodes,
        shape.seed,
        &shape.workload,
    );
    let free_text = metadata(shape, side).compact();
    let mut rec = Rec {
        backend: side.in_record.then(|| side.backend.to_string()),
        workload: shape.workload.clone(),
        run_id: String::new(),
        seed: shape.seed,
        nodes: shape.nodes,
        parallelism: shape.parallelism,
        timestamp: String::with_capacity(40),
        config_hash: config_hash.clone(),
        backend_hash: sha256_hex(side.backend),
        free_key: side.free_key,
        ..Rec::default()
    };

    let mut files = RecordFiles::create(root, &side.dir, spec.twins)?;
    let n = spec.records_per_run;
    let repeat_noise: Vec<f64> = (0..side.run_ids.len()).map(|_| exp_det(0.05 * normal(rng))).collect();
    let mut t = side.t0;
    for k in 0..n {
        let repeat = k * side.run_ids.len() / n;
        rec.run_id.clear();
        rec.run_id.push_str(&side.run_ids[repeat]);
        let tp_target = shape.base_tp * side.tp_factor * repeat_noise[repeat] * exp_det(0.06 * normal(rng));
        rec.duration = shape.items as f64 / tp_target * rng.gen_range(0.999..1.001);
        rec.throughput = shape.items as f64 / rec.duration;
        let null_lat = match shape.lat_mode {
            0 => false,
            1 => true,
            _ => rng.gen_bool(0.3),
        };
        if null_lat {
            rec.p50 = None;
            rec.p95 = None;
            rec.p99 = None;
            rec.success_rate = None;
        } else {
            let p50 = round_to(shape.base_p50 * side.lat_factor * exp_det(0.1 * normal(rng)), 3).max(0.5);
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
        }
        // Strictly increasing timestamps keep every record (and CSV row) distinct.
        t += (rec.duration * 1e6) as i64 + rng.gen_range(200_000..3_000_000);
        rec.timestamp.clear();
        push_iso(&mut rec.timestamp, t, true);
        files.put(&rec, &free_text)?;
    }
    // records_per_run = 0: an empty JSONL, which a reader must flag.
    files.finish(stats)?;

    if side.single {
        let repro = J::obj([
            ("seed", J::Raw(shape.seed.to_string())),
            ("config_hash", J::s(config_hash)),
            ("warmup_items", J::I(shape.warmup as i64)),
            ("parity_batch_size", J::I(16)),
            ("deterministic_shuffle_version", J::s("v1")),
        ]);
        stats.add_file(write_file(&dir.join("repro_manifest.json"), repro.pretty().as_bytes())?);
    }
    Ok(t)
}

/// First run start of the synthetic campaign: 2026-02-21T00:00:00Z.
fn campaign_start() -> i64 {
    epoch_of(2026, 2, 21, 0, 0, 0)
}

/// A paired unit: `sides` (1 or 2) backend dirs of one paired run.
pub fn write_paired(
    root: &Path,
    spec: &TreeSpec,
    index: usize,
    sides: usize,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let start = campaign_start() + index as i64 * 5400 + rng.gen_range(0..600);
    let mut shape = shape(rng, spec, "scheduler_comparison".to_string(), start * 1_000_000);
    if rng.gen_bool(0.3) {
        shape.workload = "workload4".to_string();
    }
    let hash12 = sha256_hex(&format!(
        "{{\"items\":{},\"nodes\":{},\"parallelism\":{},\"scheduler\":\"{}\",\"seed\":{}}}",
        shape.items, shape.nodes, shape.parallelism, shape.scheduler, shape.seed
    ))[..12]
        .to_string();
    let run_id = format!("paired-{}-{hash12}", compact_stamp(start));
    let base = format!("paired_backend_runs/run_id={run_id}/config_hash={hash12}");
    let run_ids: Vec<String> = (0..shape.repeats)
        .map(|r| {
            if r == 0 {
                run_id.clone()
            } else {
                format!("{run_id}-r{r}")
            }
        })
        .collect();
    let ray_factor = rng.gen_range(0.7..0.9);

    let mut t_end = shape.t0;
    let mut paths = vec![("root".to_string(), J::s(base.clone()))];
    for (i, backend) in ["sage", "ray"].into_iter().take(sides).enumerate() {
        let dir = format!("{base}/backends/{backend}");
        paths.push((backend.to_string(), J::s(dir.clone())));
        let side = Side {
            backend,
            // About one backend folder in ten: records without a "backend" key.
            in_record: (index * 2 + i) % 10 != 1,
            free_key: if rng.gen_bool(0.25) { "extra" } else { "metadata" },
            tp_factor: if i == 0 { 1.0 } else { ray_factor },
            lat_factor: if i == 0 { 1.0 } else { 1.0 / ray_factor },
            t0: t_end + 2_000_000,
            run_ids: run_ids.clone(),
            dir,
            single: false,
        };
        t_end = write_side(root, spec, &shape, &side, rng, stats)? + 1_000_000;
    }
    paths.push(("logs".into(), J::s(format!("{base}/logs"))));
    let manifest = J::obj([
        ("status", J::s("success")),
        ("started_at", J::s(super::json::iso(shape.t0, true))),
        ("finished_at", J::s(super::json::iso(t_end, true))),
        ("run_id", J::s(run_id.as_str())),
        ("config_hash", J::s(hash12.as_str())),
        (
            "config",
            J::obj([
                ("scheduler", J::s(shape.scheduler)),
                ("items", J::I(shape.items as i64)),
                ("parallelism", J::I(shape.parallelism as i64)),
                ("nodes", J::I(shape.nodes as i64)),
                ("seed", J::Raw(shape.seed.to_string())),
            ]),
        ),
        ("paths", J::O(paths)),
    ]);
    stats.add_file(write_file(
        &root.join(&base).join("manifest.json"),
        manifest.pretty().as_bytes(),
    )?);
    Ok(())
}

/// A single-layout unit: `sides` (1 or 2) runs of one workload shape, each
/// in `results/<workload>/<folder>/`.
pub fn write_single(
    root: &Path,
    spec: &TreeSpec,
    index: usize,
    sides: usize,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let workload = pick(rng, &["workload4", "scheduler_comparison", "Q1", "Q2", "Q4"]).to_string();
    let start = campaign_start() + 86_400 * 3 + index as i64 * 5400 + rng.gen_range(0..600);
    let shape = shape(rng, spec, workload, start * 1_000_000);
    let ray_factor = rng.gen_range(0.7..0.9);
    // A ray result in a folder whose name says "sage": nobody may infer the
    // backend from a substring.
    let misleading = index.is_multiple_of(3);
    let mut t0 = shape.t0;
    for (i, backend) in ["sage", "ray"].into_iter().take(sides).enumerate() {
        let folder = match (backend, misleading) {
            ("ray", true) => format!("sage-node-{index}"),
            _ => format!("{backend}-{index}"),
        };
        let run_ids = (0..shape.repeats)
            .map(|_| format!("{backend}-{}", &sha256_hex(&rng.gen::<u64>().to_string())[..12]))
            .collect();
        let side = Side {
            backend,
            in_record: true,
            free_key: if rng.gen_bool(0.25) { "extra" } else { "metadata" },
            tp_factor: if i == 0 { 1.0 } else { ray_factor },
            lat_factor: if i == 0 { 1.0 } else { 1.0 / ray_factor },
            t0,
            run_ids,
            dir: format!("results/{}/{folder}", shape.workload),
            single: true,
        };
        t0 = write_side(root, spec, &shape, &side, rng, stats)? + 60_000_000;
    }
    Ok(())
}

/// A clean record for the small hand-made files (published set, faulty
/// dirs), with its metadata.
pub fn plain_record(rng: &mut StdRng, backend: &str, run_id: &str, t: i64) -> (Rec, J) {
    let items = pick(rng, &[2u64, 50, 100]);
    let scheduler = pick(rng, &["fifo", "load_aware"]);
    let parallelism = pick(rng, &[1u32, 2, 4]);
    let nodes = 1;
    let factor = if backend == "ray" { 0.8 } else { 1.0 };
    let duration = items as f64 / (log_uniform(rng, 7.0, 60.0) * factor);
    let measured = rng.gen_bool(0.5);
    let p50 = round_to(log_uniform(rng, 10.0, 120.0), 3);
    let p95 = round_to(p50 * 1.6, 3);
    let p99 = round_to(p95 * 1.2, 3);
    let rec = Rec {
        backend: Some(backend.to_string()),
        workload: "scheduler_comparison".into(),
        run_id: run_id.to_string(),
        seed: 42,
        nodes,
        parallelism,
        throughput: items as f64 / duration,
        p50: measured.then_some(p50),
        p95: measured.then_some(p95),
        p99: measured.then_some(p99),
        success_rate: measured.then_some(1.0),
        duration,
        timestamp: super::json::iso(t, true),
        config_hash: upstream_config_hash(
            backend,
            scheduler,
            items,
            parallelism,
            nodes,
            42,
            "scheduler_comparison",
        ),
        backend_hash: sha256_hex(backend),
        free_key: "metadata",
    };
    let meta = J::obj([
        ("scheduler_name", J::s(scheduler)),
        ("results_count", J::I(items as i64)),
        (
            "raw_metrics",
            J::obj([
                (
                    "scheduler_type",
                    J::s(if scheduler == "fifo" { "FIFO" } else { "LoadAware" }),
                ),
                ("total_scheduled", J::I(0)),
                ("avg_latency_ms", J::I(0)),
                ("decisions", J::I(0)),
                ("platform", J::s("local")),
            ]),
        ),
    ]);
    (rec, meta)
}

/// `published/benchmark_results.json`: a JSON array of unified records,
/// `json.dump(indent=2)` (upstream `hf_data/benchmark_results.json`).
pub fn write_published(root: &Path, rng: &mut StdRng, stats: &mut Stats) -> anyhow::Result<()> {
    let t0 = epoch_of(2026, 2, 20, 3, 12, 58) * 1_000_000;
    let mut items = Vec::new();
    for i in 0..10 {
        let backend = if i % 2 == 0 { "sage" } else { "ray" };
        let run_id = format!(
            "{backend}-{}",
            &sha256_hex(&format!("published-{i}-{}", rng.gen::<u32>()))[..12]
        );
        let t = t0 + i as i64 * 41_000_000 + rng.gen_range(1..1_000_000);
        let (rec, meta) = plain_record(rng, backend, &run_id, t);
        items.push(rec.to_j(meta));
    }
    write_published_array(root, "published/benchmark_results.json", items, stats)
}

/// A published array of records at `path` (relative to `root`),
/// `json.dump(indent=2)`, counted as read and accepted.
pub(super) fn write_published_array(root: &Path, path: &str, items: Vec<J>, stats: &mut Stats) -> anyhow::Result<()> {
    stats.read += items.len() as u64;
    stats.accepted += items.len() as u64;
    stats.add_file(write_file(&root.join(path), J::A(items).pretty().as_bytes())?);
    Ok(())
}

/// A fresh RNG for a named part of the tree.
pub fn rng_for(seed: u64, part: u64, index: u64) -> StdRng {
    // splitmix64 over (seed, part, index): independent streams per unit, so
    // the output does not depend on which thread ran what.
    let mut z = seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    StdRng::seed_from_u64(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_path_matches_generic_dumps() {
        let mut rng = StdRng::seed_from_u64(3);
        for backend in ["sage", "ray"] {
            let (mut rec, meta) = plain_record(&mut rng, backend, "r-1", 1_771_000_000_123_456);
            for step in 0..3 {
                if step == 1 {
                    rec.backend = None;
                }
                if step == 2 {
                    rec.config_hash.clear();
                    rec.backend_hash.clear();
                }
                let mut line = String::new();
                rec.push_jsonl(&mut line, &meta.compact());
                assert_eq!(line, rec.to_j(meta.clone()).compact());
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
                assert!(keys.contains(&"metadata"));
            }
        }
    }

    #[test]
    fn portable_math_matches_libm() {
        for x in [-3.0, -0.7, -0.01, 0.0, 0.3, 1.0, 2.5, 6.9] {
            let (a, b) = (exp_det(x), x.exp());
            assert!(((a - b) / b).abs() < 1e-14, "exp {x}: {a} {b}");
        }
        for x in [1e-5, 0.004, 0.5, 1.0, 1.5, 7.0, 380.0, 1e9] {
            let (a, b) = (ln_det(x), x.ln());
            assert!((a - b).abs() < 1e-13 * b.abs().max(1.0), "ln {x}: {a} {b}");
        }
        let mut rng = StdRng::seed_from_u64(9);
        let v: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{mean} {var}");
    }

    #[test]
    fn csv_row_has_fifteen_cells() {
        let mut rng = StdRng::seed_from_u64(4);
        let (rec, _) = plain_record(&mut rng, "sage", "r-1", 1_771_000_000_123_456);
        let mut row = String::new();
        rec.push_csv(&mut row);
        assert!(row.ends_with("\r\n"));
        assert_eq!(row.trim_end().split(',').count(), 15);
        assert_eq!(CSV_HEADER.split(',').count(), 15);
    }
}
