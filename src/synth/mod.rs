//! Synthetic benchmark result trees: realistic, deterministic, fast.
//!
//! [`generate`] writes a mix of every upstream layout (SPEC §2) under a
//! root folder and returns a [`Manifest`] saying exactly what a correct
//! reader must find there: record totals and every injected fault with its
//! file and line. Integration tests and the `bench` command use it.
//!
//! What is written (paths relative to the root):
//! - `paired_backend_runs/run_id=paired-<stamp>-<h12>/config_hash=<h12>/`
//!   with `manifest.json` and `backends/{sage,ray}/unified_results.jsonl`
//!   (+ `.csv` twin) — half of [`TreeSpec::runs`], two run folders a pair;
//!   about one backend folder in ten has records without a `backend` key;
//! - `results/<workload>/<backend>-<k>/` (some ray results in folders named
//!   `sage-node-<k>`) with `repro_manifest.json` — the other half;
//! - `published/benchmark_results.json` (a JSON array of 10 records);
//! - with `legacy`: exp1–exp4 `*_metrics.json` / `*_latencies.csv` /
//!   `*_summary.txt` (30 runs) with upstream's unit quirks, plus derived
//!   reports;
//! - `logs/sage.log`, `comparison/summary.md`, a `.png`: not results;
//! - with `faults`: the fault catalogue under `faulty/<kind>/` (see
//!   [`Manifest::problems`]).
//!
//! That is the default [`Shape::Mixed`]; [`Shape::Harness`] writes what
//! months of the upstream harness leave behind instead (see [`harness`]).
//!
//! Each unit of work (a paired run, a single-backend run pair, the legacy
//! set, …) draws from its own RNG stream derived from the seed, so the
//! bytes do not depend on thread scheduling.

mod faults;
mod harness;
mod json;
mod legacy;
pub mod paper;
mod unified;
mod wide;

pub use wide::{generate_wide, wide_workload, WideSpec};

use rayon::prelude::*;
use std::path::Path;

/// Which kind of tree [`generate`] writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Shape {
    /// Every upstream layout in small doses, with the fault catalogue
    #[default]
    Mixed,
    /// What months of the upstream harness leave behind: --runs paired run
    /// folders (about half of them sage only), hundreds of workload variants
    /// run again and again, per-record metadata, per-run logs, legacy
    /// exp1–exp4 campaigns and a large published JSON array; no faults
    /// unless --faults
    Harness,
}

impl Shape {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Mixed => "mixed",
            Shape::Harness => "harness",
        }
    }
}

/// What tree to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeSpec {
    /// Number of run folders of unified results. Mixed: each holds one
    /// `unified_results.jsonl`, half paired, half single-backend. Harness:
    /// paired run folders with one or two backend folders each.
    pub runs: usize,
    /// Records per `unified_results.jsonl`.
    pub records_per_run: usize,
    pub seed: u64,
    /// Inject the fault catalogue under `faulty/`.
    pub faults: bool,
    /// Also write the legacy exp1–exp4 folders.
    pub legacy: bool,
    /// Write a `unified_results.csv` twin next to each run's JSONL (the
    /// harness shape: next to most of them).
    pub twins: bool,
    pub shape: Shape,
}

impl TreeSpec {
    /// 6 runs × 20 records, faults, legacy and twins, seed 7.
    pub fn small() -> TreeSpec {
        TreeSpec {
            runs: 6,
            records_per_run: 20,
            seed: 7,
            faults: true,
            legacy: true,
            twins: true,
            shape: Shape::Mixed,
        }
    }

    /// A harness-shaped tree of 40 runs × 20 records, legacy and twins, no
    /// faults, seed 7.
    pub fn harness_small() -> TreeSpec {
        TreeSpec {
            runs: 40,
            records_per_run: 20,
            seed: 7,
            faults: false,
            legacy: true,
            twins: true,
            shape: Shape::Harness,
        }
    }
}

/// One problem a correct reader must report.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpectedProblem {
    /// Relative to the root, `/` separators.
    pub path: String,
    /// 1-based; the CSV header is line 1. `None` for a whole-file problem.
    pub line: Option<u32>,
    /// `ProblemKind::as_str` spelling, e.g. `"malformed_json"`.
    pub kind: &'static str,
    /// `"error"` (the record or file is rejected) or `"warning"`.
    pub severity: &'static str,
}

/// What [`generate`] wrote and what a correct reader must find.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Every injected fault, exactly where it is, sorted by path and line.
    pub problems: Vec<ExpectedProblem>,
    /// Distinct unified records read: accepted + rejected (CSV twins and
    /// repeated lines not included; blank lines are not records).
    pub expected_read: u64,
    pub expected_accepted: u64,
    pub expected_rejected: u64,
    /// CSV rows identical to a JSONL record in the same folder.
    pub expected_twins_merged: u64,
    /// Repeated identical lines within a file.
    pub expected_duplicates: u64,
    /// Total size of every file written.
    pub bytes_written: u64,
    /// Number of files written.
    pub files_written: u64,
    /// Warnings a correct reader emits on clean data — not faults: one
    /// `unit_conversion` per legacy `*_metrics.json` (upstream's
    /// seconds-vs-ms and µs quirks), `line: None`; and, only when
    /// `records_per_run` is 0, one `empty_file` per run JSONL.
    pub notices: Vec<ExpectedProblem>,
    /// Files that hold no results and must be skipped (logs, reports,
    /// images, `*_summary.txt`, derived legacy JSON), sorted.
    pub skipped_files: Vec<String>,
}

/// Per-unit accumulator, merged in a fixed order.
#[derive(Default)]
pub(crate) struct Stats {
    read: u64,
    accepted: u64,
    rejected: u64,
    twins: u64,
    duplicates: u64,
    bytes: u64,
    files: u64,
    problems: Vec<ExpectedProblem>,
    notices: Vec<ExpectedProblem>,
    skipped: Vec<String>,
}

impl Stats {
    fn add_file(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.files += 1;
    }

    fn merge(&mut self, other: Stats) {
        self.read += other.read;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.twins += other.twins;
        self.duplicates += other.duplicates;
        self.bytes += other.bytes;
        self.files += other.files;
        self.problems.extend(other.problems);
        self.notices.extend(other.notices);
        self.skipped.extend(other.skipped);
    }
}

/// Independent pieces of work; each has its own RNG stream.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// Paired run `index` with 1 or 2 backend folders.
    Paired {
        index: usize,
        sides: usize,
    },
    /// Single-layout workload `index` with 1 or 2 backend folders.
    Single {
        index: usize,
        sides: usize,
    },
    Published,
    Legacy,
    Faults,
    Other,
    /// Harness shape: paired run folder `index`.
    HarnessRun {
        index: usize,
    },
    /// Harness shape: legacy campaign `index` (one exp1–exp4 folder).
    HarnessLegacy {
        index: usize,
    },
    /// Harness shape: the published JSON array.
    HarnessPublished,
}

const PART_PAIRED: u64 = 1;
const PART_SINGLE: u64 = 2;
const PART_PUBLISHED: u64 = 3;
const PART_LEGACY: u64 = 4;
const PART_FAULTS: u64 = 5;

fn units(spec: &TreeSpec) -> Vec<Unit> {
    if spec.shape == Shape::Harness {
        return harness::units(spec);
    }
    let paired_dirs = spec.runs / 2;
    let single_dirs = spec.runs - paired_dirs;
    let mut units = vec![Unit::Published, Unit::Other];
    if spec.legacy {
        units.push(Unit::Legacy);
    }
    if spec.faults {
        units.push(Unit::Faults);
    }
    for (i, start) in (0..paired_dirs).step_by(2).enumerate() {
        units.push(Unit::Paired {
            index: i,
            sides: (paired_dirs - start).min(2),
        });
    }
    for (i, start) in (0..single_dirs).step_by(2).enumerate() {
        units.push(Unit::Single {
            index: i,
            sides: (single_dirs - start).min(2),
        });
    }
    units
}

fn run_unit(unit: Unit, spec: &TreeSpec, root: &Path) -> anyhow::Result<Stats> {
    let mut stats = Stats::default();
    match unit {
        Unit::Paired { index, sides } => {
            let mut rng = unified::rng_for(spec.seed, PART_PAIRED, index as u64);
            unified::write_paired(root, spec, index, sides, &mut rng, &mut stats)?;
        }
        Unit::Single { index, sides } => {
            let mut rng = unified::rng_for(spec.seed, PART_SINGLE, index as u64);
            unified::write_single(root, spec, index, sides, &mut rng, &mut stats)?;
        }
        Unit::Published => {
            let mut rng = unified::rng_for(spec.seed, PART_PUBLISHED, 0);
            unified::write_published(root, &mut rng, &mut stats)?;
        }
        Unit::Legacy => {
            let mut rng = unified::rng_for(spec.seed, PART_LEGACY, 0);
            legacy::write_legacy(root, &mut rng, &mut stats)?;
        }
        Unit::Faults => {
            let mut rng = unified::rng_for(spec.seed, PART_FAULTS, 0);
            faults::write_faults(root, &mut rng, &mut stats)?;
        }
        Unit::Other => write_other(root, &mut stats)?,
        Unit::HarnessRun { index } => {
            let mut rng = unified::rng_for(spec.seed, harness::PART_RUN, index as u64);
            harness::write_run(root, spec, index, &mut rng, &mut stats)?;
        }
        Unit::HarnessLegacy { index } => {
            let mut rng = unified::rng_for(spec.seed, harness::PART_LEGACY, index as u64);
            harness::write_legacy_campaign(root, spec, index, &mut rng, &mut stats)?;
        }
        Unit::HarnessPublished => {
            let mut rng = unified::rng_for(spec.seed, harness::PART_PUBLISHED, 0);
            harness::write_published(root, spec, &mut rng, &mut stats)?;
        }
    }
    Ok(stats)
}

/// Files that are not results: a log, a report, an image.
fn write_other(root: &Path, stats: &mut Stats) -> anyhow::Result<()> {
    let log = "2026-02-21 03:58:35,101 INFO sage.kernel: JobManager started (platform=local)\n\
               2026-02-21 03:58:35,733 INFO sage.benchmark: scheduler=fifo items=100 parallelism=4 nodes=1 seed=42\n\
               2026-02-21 03:58:37,788 INFO sage.benchmark: wrote unified_results.jsonl (1 record)\n\
               2026-02-21 03:58:37,790 WARNING sage.kernel: raw_metrics unavailable in local mode\n";
    let md = "# Backend Comparison Report\n\n- Total records: 2\n- Backends: ray, sage\n- Workloads: scheduler_comparison\n\n\
              ## Backend Summary\n\n| backend | records | throughput_mean | latency_p95_mean | latency_p99_mean |\n\
              |---|---:|---:|---:|---:|\n| ray | 1 | 31.902 | n/a | n/a |\n| sage | 1 | 37.108 | n/a | n/a |\n\n\
              ## Configuration Mismatches\n\nNo config mismatches detected across compared backends.\n";
    let png: &[u8] =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    for (path, bytes) in [
        ("logs/sage.log", log.as_bytes()),
        ("comparison/summary.md", md.as_bytes()),
        ("comparison/throughput_comparison.png", png),
    ] {
        stats.add_file(json::write_file(&root.join(path), bytes)?);
        stats.skipped.push(path.to_string());
    }
    Ok(())
}

/// Write the tree described by `spec` under `root` (created if needed) and
/// say what a correct reader must find there. Deterministic: the same spec
/// gives byte-identical files. Nothing but result-like files is written
/// into `root` (the manifest is only returned).
pub fn generate(spec: &TreeSpec, root: &Path) -> anyhow::Result<Manifest> {
    std::fs::create_dir_all(root)?;
    let parts: Vec<anyhow::Result<Stats>> = units(spec)
        .into_par_iter()
        .map(|unit| run_unit(unit, spec, root))
        .collect();
    let mut total = Stats::default();
    for part in parts {
        total.merge(part?);
    }
    total.problems.sort();
    total.notices.sort();
    total.skipped.sort();
    Ok(Manifest {
        problems: total.problems,
        expected_read: total.read,
        expected_accepted: total.accepted,
        expected_rejected: total.rejected,
        expected_twins_merged: total.twins,
        expected_duplicates: total.duplicates,
        bytes_written: total.bytes,
        files_written: total.files,
        notices: total.notices,
        skipped_files: total.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn files_of(root: &Path) -> BTreeMap<String, Vec<u8>> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, root, out);
                } else {
                    let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    fn tree(spec: &TreeSpec) -> (tempfile::TempDir, Manifest, BTreeMap<String, Vec<u8>>) {
        let dir = tempfile::tempdir().unwrap();
        let m = generate(spec, dir.path()).unwrap();
        let files = files_of(dir.path());
        (dir, m, files)
    }

    fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
        String::from_utf8(files[path].clone()).unwrap()
    }

    #[test]
    fn deterministic() {
        let (_a, ma, fa) = tree(&TreeSpec::small());
        let (_b, mb, fb) = tree(&TreeSpec::small());
        assert_eq!(ma, mb);
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (k, v) in &fa {
            assert!(v == &fb[k], "{k} differs between two runs");
        }
        let (_c, _, fc) = tree(&TreeSpec {
            seed: 8,
            ..TreeSpec::small()
        });
        assert_ne!(fa, fc, "another seed gives another tree");
    }

    #[test]
    fn manifest_counts_are_consistent() {
        for spec in [
            TreeSpec::small(),
            TreeSpec {
                faults: false,
                ..TreeSpec::small()
            },
            TreeSpec {
                runs: 7,
                records_per_run: 3,
                seed: 1,
                faults: true,
                legacy: false,
                twins: false,
                shape: Shape::Mixed,
            },
            TreeSpec {
                runs: 1,
                records_per_run: 1,
                seed: 2,
                faults: false,
                legacy: false,
                twins: true,
                shape: Shape::Mixed,
            },
            TreeSpec {
                runs: 3,
                records_per_run: 0,
                seed: 2,
                faults: false,
                legacy: true,
                twins: true,
                shape: Shape::Mixed,
            },
        ] {
            let (_d, m, files) = tree(&spec);
            assert_eq!(m.expected_read, m.expected_accepted + m.expected_rejected, "{spec:?}");
            assert_eq!(m.bytes_written, files.values().map(|v| v.len() as u64).sum::<u64>());
            assert_eq!(m.files_written, files.len() as u64);
            let unified = (spec.runs * spec.records_per_run) as u64;
            let legacy = if spec.legacy { 30 } else { 0 };
            let twins = if spec.twins { unified } else { 0 };
            assert_eq!(m.expected_twins_merged, twins);
            let empty = if spec.records_per_run == 0 { spec.runs as u64 } else { 0 };
            assert_eq!(m.notices.len() as u64, legacy + empty);
            let jsonl = files
                .keys()
                .filter(|k| k.ends_with("unified_results.jsonl") && !k.starts_with("faulty/"))
                .count();
            assert_eq!(jsonl, spec.runs, "{spec:?}");
            if spec.faults {
                assert_eq!(m.expected_duplicates, 1);
                assert!(m.expected_rejected > 0);
                assert_eq!(m.expected_read, unified + 10 + legacy + 60);
                for p in &m.problems {
                    let body = &files[&p.path];
                    if let Some(line) = p.line {
                        let lines = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
                        assert!(line as usize <= lines, "{p:?}");
                    } else {
                        assert!(body.is_empty(), "{p:?}");
                    }
                }
                assert_eq!(m.problems.len(), 15);
            } else {
                assert_eq!((m.expected_duplicates, m.expected_rejected), (0, 0));
                assert!(m.problems.is_empty());
                assert_eq!(m.expected_read, unified + 10 + legacy);
                assert!(!files.keys().any(|k| k.starts_with("faulty/")));
            }
            for s in &m.skipped_files {
                assert!(files.contains_key(s), "{s}");
            }
        }
    }

    #[test]
    fn small_tree_has_every_layout() {
        let (_d, m, files) = tree(&TreeSpec::small());
        let has = |pred: &dyn Fn(&str) -> bool| files.keys().any(|k| pred(k));
        assert!(has(&|k| k.starts_with("paired_backend_runs/run_id=paired-")
            && k.ends_with("/backends/sage/unified_results.jsonl")));
        assert!(has(&|k| k.ends_with("/backends/ray/unified_results.csv")));
        assert!(has(
            &|k| k.starts_with("paired_backend_runs/") && k.ends_with("/manifest.json")
        ));
        assert!(has(
            &|k| k.starts_with("results/") && k.ends_with("/repro_manifest.json")
        ));
        assert!(has(
            &|k| k.contains("/sage-node-") && k.ends_with("unified_results.jsonl")
        ));
        for p in [
            "published/benchmark_results.json",
            "logs/sage.log",
            "comparison/summary.md",
            "comparison/throughput_comparison.png",
            "exp1_single_vs_multi/results/full_experiment_20260115_120000/node_scaling/single_node_metrics.json",
            "exp1_single_vs_multi/results/full_experiment_20260115_120000/node_scaling/multi_16_nodes_latencies.csv",
            "exp1_single_vs_multi/results/full_experiment_20260115_120000/node_scaling/multi_4_nodes_summary.txt",
            "exp2_high_load_parallel/results/full_experiment_20260115_130000/scheduler_comparison/scheduler_load_aware_pack_medium_metrics.json",
            "exp3_latency_throughput/results/full_experiment_20260115_140000/concurrency_scaling/concurrency_1_metrics.json",
            "exp4_parallel_jobs/results/scaling_rag_20260115_150000/jobs_8/job7_rag_metrics.json",
            "faulty/empty_file/unified_results.jsonl",
            "faulty/bom/csv/unified_results.csv",
            "faulty/backend_conflict/backends/ray/unified_results.jsonl",
        ] {
            assert!(files.contains_key(p), "{p} missing");
        }
        let kinds: Vec<&str> = m.problems.iter().map(|p| p.kind).collect();
        for k in [
            "malformed_json",
            "malformed_csv",
            "missing_column",
            "truncated_line",
            "empty_file",
            "non_finite",
            "negative_value",
            "out_of_range",
            "missing_field",
            "duplicate_record",
            "number_as_string",
            "backend_conflict",
        ] {
            assert!(kinds.contains(&k), "{k}");
        }
        assert!(files["faulty/bom/jsonl/unified_results.jsonl"].starts_with(b"\xEF\xBB\xBF{"));
        assert!(files["faulty/crlf/jsonl/unified_results.jsonl"].ends_with(b"}\r\n"));
        assert!(!files["faulty/truncated_line/unified_results.jsonl"].ends_with(b"\n"));
        assert!(files["faulty/empty_file/unified_results.jsonl"].is_empty());
        assert!(!files.keys().any(|k| k.starts_with("faulty/")
            && k.ends_with(".csv")
            && files.contains_key(&k.replace(".csv", ".jsonl"))));
    }

    const KEYS: [&str; 15] = [
        "backend",
        "workload",
        "run_id",
        "seed",
        "nodes",
        "parallelism",
        "throughput",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "success_rate",
        "duration_seconds",
        "timestamp",
        "config_hash",
        "backend_hash",
    ];

    /// Keys of a JSON object line in document order (serde_json's map sorts).
    fn key_order(line: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut de = serde_json::Deserializer::from_str(line);
        struct Keys<'a>(&'a mut Vec<String>);
        impl<'de> serde::de::Visitor<'de> for Keys<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    self.0.push(k);
                }
                Ok(())
            }
        }
        serde::Deserializer::deserialize_map(&mut de, Keys(&mut keys)).unwrap();
        keys
    }

    #[test]
    fn unified_records_look_like_upstream() {
        let spec = TreeSpec {
            runs: 12,
            records_per_run: 30,
            seed: 11,
            faults: false,
            legacy: false,
            twins: true,
            shape: Shape::Mixed,
        };
        let (_d, _m, files) = tree(&spec);
        let mut saw = BTreeMap::<&str, usize>::new();
        let mut tp = BTreeMap::<String, Vec<f64>>::new();
        for (path, body) in files.iter().filter(|(k, _)| k.ends_with("unified_results.jsonl")) {
            let body = std::str::from_utf8(body).unwrap();
            let csv_path = path.replace(".jsonl", ".csv");
            let csv = std::str::from_utf8(&files[&csv_path]).unwrap();
            let mut rows = csv.split("\r\n");
            assert_eq!(rows.next().unwrap(), unified::CSV_HEADER.as_str());
            let mut distinct = std::collections::HashSet::new();
            let in_backends = path.contains("/backends/");
            for line in body.lines() {
                assert!(distinct.insert(line), "duplicate line in {path}");
                let keys = key_order(line);
                let free = keys.last().unwrap().as_str();
                assert!(free == "metadata" || free == "extra", "{free}");
                *saw.entry(if free == "metadata" { "metadata" } else { "extra" })
                    .or_default() += 1;
                let want: Vec<&str> = KEYS.iter().copied().filter(|k| keys.iter().any(|x| x == k)).collect();
                assert_eq!(&keys[..keys.len() - 1], &want[..], "{line}");
                if want.len() == 14 {
                    assert!(in_backends, "backend omitted outside backends/: {path}");
                    *saw.entry("no_backend").or_default() += 1;
                }
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let t = v["throughput"].as_f64().unwrap();
                assert!((3.0..700.0).contains(&t), "{t}");
                tp.entry(
                    v["backend"]
                        .as_str()
                        .unwrap_or(if path.contains("/ray/") { "ray" } else { "sage" })
                        .to_string(),
                )
                .or_default()
                .push(t);
                assert!(v["timestamp"].as_str().unwrap().ends_with("+00:00"));
                assert_eq!(v["config_hash"].as_str().unwrap().len(), 64);
                if let (Some(a), Some(b), Some(c)) = (
                    v["latency_p50"].as_f64(),
                    v["latency_p95"].as_f64(),
                    v["latency_p99"].as_f64(),
                ) {
                    assert!(a <= b && b <= c, "{line}");
                    *saw.entry("latencies").or_default() += 1;
                } else {
                    assert!(v["latency_p95"].is_null() && v["success_rate"].is_null());
                    *saw.entry("null_latencies").or_default() += 1;
                }
                // The CSV twin row carries the same text for each column.
                let row = rows.next().unwrap();
                let cells: Vec<&str> = row.split(',').collect();
                assert_eq!(cells.len(), 15);
                for (k, cell) in KEYS.iter().zip(&cells) {
                    let text = match &v[*k] {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s.clone(),
                        _ => {
                            let raw = line.split(&format!("\"{k}\": ")).nth(1).unwrap();
                            raw[..raw.find([',', '}']).unwrap()].to_string()
                        }
                    };
                    assert_eq!(*cell, text, "{k} in {csv_path}");
                }
            }
            assert_eq!(rows.next(), Some(""), "{csv_path}: one row per record");
        }
        for k in ["metadata", "extra", "latencies", "null_latencies", "no_backend"] {
            assert!(saw.get(k).copied().unwrap_or(0) > 0, "{k}: {saw:?}");
        }
        let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(&tp["ray"]) < mean(&tp["sage"]), "ray is slower on average");

        // Manifests agree with the records beside / below them.
        for (path, body) in files.iter().filter(|(k, _)| k.ends_with("repro_manifest.json")) {
            let doc: serde_json::Value = serde_json::from_slice(body).unwrap();
            let records = text(&files, &path.replace("repro_manifest.json", "unified_results.jsonl"));
            let first: serde_json::Value = serde_json::from_str(records.lines().next().unwrap()).unwrap();
            assert_eq!(doc["seed"], first["seed"]);
            assert_eq!(doc["config_hash"], first["config_hash"]);
            assert_eq!(doc["deterministic_shuffle_version"], "v1");
        }
        for (path, body) in files.iter().filter(|(k, _)| k.ends_with("/manifest.json")) {
            let doc: serde_json::Value = serde_json::from_slice(body).unwrap();
            assert_eq!(doc["status"], "success");
            let dir = path.trim_end_matches("manifest.json");
            assert!(dir.ends_with(&format!("config_hash={}/", doc["config_hash"].as_str().unwrap())));
            let records = text(&files, &format!("{dir}backends/sage/unified_results.jsonl"));
            let first: serde_json::Value = serde_json::from_str(records.lines().next().unwrap()).unwrap();
            let free = if first["metadata"].is_object() {
                &first["metadata"]
            } else {
                &first["extra"]
            };
            assert_eq!(doc["config"]["seed"], first["seed"]);
            assert_eq!(doc["config"]["nodes"], first["nodes"]);
            assert_eq!(doc["config"]["parallelism"], first["parallelism"]);
            assert_eq!(doc["config"]["scheduler"], free["scheduler_name"]);
            assert_eq!(doc["config"]["items"], free["results_count"]);
        }
    }

    #[test]
    fn legacy_units_follow_upstream_quirks() {
        let spec = TreeSpec {
            runs: 0,
            records_per_run: 0,
            seed: 5,
            faults: false,
            legacy: true,
            twins: false,
            shape: Shape::Mixed,
        };
        let (_d, m, files) = tree(&spec);
        let metrics: Vec<&String> = files.keys().filter(|k| k.ends_with("_metrics.json")).collect();
        assert_eq!(metrics.len(), 30);
        assert_eq!(m.expected_read, 30 + 10);
        for path in metrics {
            let doc: serde_json::Value = serde_json::from_slice(&files[path]).unwrap();
            let mt = &doc["metrics"];
            let cfg = mt["config"].as_object().unwrap();
            assert_eq!(cfg.len(), 11, "{path}");
            let remote = cfg["use_remote"].as_bool().unwrap();
            let totals: Vec<f64> = doc["latency_details"]["total_latencies_ms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert!((50..=200).contains(&totals.len()), "{path}");
            assert_eq!(totals.len() as u64, mt["successful_tasks"].as_u64().unwrap());
            let mean = totals.iter().sum::<f64>() / totals.len() as f64;
            let ratio = mean / mt["avg_latency_ms"].as_f64().unwrap();
            assert!((ratio - 1000.0).abs() < 1e-6, "{path}: {ratio}");
            let (p50, p95, p99) = (
                mt["p50_latency_ms"].as_f64().unwrap(),
                mt["p95_latency_ms"].as_f64().unwrap(),
                mt["p99_latency_ms"].as_f64().unwrap(),
            );
            assert!(p50 <= p95 && p95 <= p99);
            let local =
                path.contains("concurrency_1_") || path.contains("concurrency_2_") || path.contains("concurrency_4_");
            assert_eq!(remote, !local, "{path}");
            if remote {
                assert!(p50 > 1.0, "remote summary fields are true ms: {path}");
                assert!(doc["latency_details"]["scheduling_latencies_ms"]
                    .as_array()
                    .unwrap()
                    .is_empty());
                assert_eq!(mt["avg_scheduling_latency_ms"].as_f64(), Some(0.0));
                assert_eq!(doc["node_latencies_ms"], serde_json::json!({}));
            } else {
                assert!(p99 < 1.0, "local summary fields hold seconds: {path}");
                assert_eq!(
                    doc["latency_details"]["scheduling_latencies_ms"]
                        .as_array()
                        .unwrap()
                        .len(),
                    totals.len()
                );
                assert!(mt["avg_scheduling_latency_ms"].as_f64().unwrap() > 0.0);
            }
            let csv = text(&files, &path.replace("_metrics.json", "_latencies.csv"));
            let mut lines = csv.split("\r\n");
            assert_eq!(
                lines.next(),
                Some("task_index,total_latency_ms,scheduling_latency_ms,execution_latency_ms")
            );
            let first: Vec<&str> = lines.next().unwrap().split(',').collect();
            assert_eq!(first[1], format!("{:.2}", totals[0]));
            assert!(files.contains_key(&path.replace("_metrics.json", "_summary.txt")));
        }
        let summary = text(
            &files,
            "exp3_latency_throughput/results/full_experiment_20260115_140000/concurrency_scaling/concurrency_1_summary.txt",
        );
        assert!(summary.contains("  use_remote: False\n"), "{summary}");
    }

    #[test]
    fn published_array_is_pretty_printed() {
        let (_d, _m, files) = tree(&TreeSpec {
            runs: 0,
            records_per_run: 0,
            seed: 1,
            faults: false,
            legacy: false,
            twins: false,
            shape: Shape::Mixed,
        });
        let body = text(&files, "published/benchmark_results.json");
        assert!(body.starts_with("[\n  {\n    \"backend\": \""), "{}", &body[..40]);
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc.as_array().unwrap().len(), 10);
    }

    /// Time and size of a large tree: `cargo test --release --lib synth -- --ignored`.
    #[test]
    #[ignore]
    fn big_tree_timing() {
        let root = PathBuf::from(std::env::var("SYNTH_BIG_DIR").unwrap_or_else(|_| "/tmp/synth_big_tree".into()));
        let _ = std::fs::remove_dir_all(&root);
        let spec = TreeSpec {
            runs: 1000,
            records_per_run: 1000,
            seed: 7,
            faults: true,
            legacy: true,
            twins: true,
            shape: Shape::Mixed,
        };
        let start = std::time::Instant::now();
        let m = generate(&spec, &root).unwrap();
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "runs=1000 records=1000: {:.2} s, {} bytes ({:.2} GB, {:.0} MB/s), {} files, {} records, {} threads",
            secs,
            m.bytes_written,
            m.bytes_written as f64 / 1e9,
            m.bytes_written as f64 / 1e6 / secs,
            m.files_written,
            m.expected_read,
            rayon::current_num_threads()
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
