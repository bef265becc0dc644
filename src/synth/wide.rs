//! A *wide* result tree (`synth --workloads N`): N distinct workloads, each
//! run a few times on `sage` and on `ray` in the single-backend layout, so
//! a report has N groups per side and about 3·N comparisons. It is what
//! makes the PDF and the site's size grow (issue 20): `bench --stage pdf`
//! and `--stage site` generate one, and the tests check the reports stay
//! bounded on it.
//!
//! Layout, per workload `i` (`<workload>` e.g. `Q1-nodes4-par8-fifo`):
//!
//! ```text
//! results/<workload>/sage-<i>/unified_results.jsonl   2–4 records (runs)
//! results/<workload>/sage-<i>/repro_manifest.json
//! results/<workload>/ray-<i>/unified_results.jsonl
//! results/<workload>/ray-<i>/repro_manifest.json
//! ```
//!
//! Names: eight families (Q1–Q8) × nodes × parallelism × scheduler (1,200
//! combinations), then the same with an `-items<K>` suffix, then a `-v<k>`
//! suffix; the first N of that sequence, so every name is distinct and the
//! families stay evenly mixed. Outcomes are mixed like a real campaign:
//! about half the workloads run the same on both backends, two in five are
//! slower on ray, the rest faster; about one in ten records no latencies
//! (throughput is then its only comparison) and one workload in
//! [`MISMATCH_EVERY`] ran ray with another seed (a configuration mismatch).
//! Each workload draws from its own RNG stream ([`super::unified::rng_for`]),
//! so the bytes do not depend on thread scheduling.

use super::json::{push_iso, round_to, sha256_hex, write_file, J};
use super::unified::{exp_det, log_uniform, normal, pick, rng_for, upstream_config_hash, Rec};
use super::{Manifest, Stats};
use rand::Rng;
use rayon::prelude::*;
use std::path::Path;

/// RNG stream of the wide tree (the other parts use 1–5).
const PART_WIDE: u64 = 11;
/// One workload in this many ran ray with another seed: a mismatch.
pub const MISMATCH_EVERY: usize = 97;

const FAMILIES: [(&str, &str); 8] = [
    ("Q1", "rag"),
    ("Q2", "mixed"),
    ("Q3", "compute"),
    ("Q4", "compute"),
    ("Q5", "mixed"),
    ("Q6", "llm"),
    ("Q7", "compute"),
    ("Q8", "rag"),
];
const SCHEDULERS: [(&str, &str); 5] = [
    ("fifo", "fifo"),
    ("rr", "round_robin"),
    ("spread", "load_aware_spread"),
    ("pack", "load_aware_pack"),
    ("prio", "priority"),
];
const NODES: [u32; 5] = [1, 2, 4, 8, 16];
const PARALLELISM: [u32; 6] = [1, 2, 4, 8, 16, 32];
const ITEMS: [u64; 12] = [100, 200, 500, 1000, 2000, 5000, 50, 300, 750, 1500, 3000, 10000];
/// Family × scheduler × nodes × parallelism.
const COMBOS: usize = FAMILIES.len() * SCHEDULERS.len() * NODES.len() * PARALLELISM.len();

/// What wide tree to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WideSpec {
    /// Distinct workloads, each on sage and ray.
    pub workloads: usize,
    pub seed: u64,
}

/// The shape of workload `i`: its name and what it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WideWorkload {
    pub name: String,
    pub family: &'static str,
    pub pipeline: &'static str,
    pub scheduler: &'static str,
    pub nodes: u32,
    pub parallelism: u32,
    pub items: u64,
}

/// Workload `i` of every wide tree (independent of the seed).
pub fn wide_workload(i: usize) -> WideWorkload {
    let mut k = i % COMBOS;
    let (family, pipeline) = FAMILIES[k % FAMILIES.len()];
    k /= FAMILIES.len();
    let (sched_short, scheduler) = SCHEDULERS[k % SCHEDULERS.len()];
    k /= SCHEDULERS.len();
    let nodes = NODES[k % NODES.len()];
    k /= NODES.len();
    let parallelism = PARALLELISM[k % PARALLELISM.len()];
    let tier = i / COMBOS;
    let mut name = format!("{family}-nodes{nodes}-par{parallelism}-{sched_short}");
    let items = if tier == 0 {
        [100, 200, 500][i % 3]
    } else {
        ITEMS[(tier - 1) % ITEMS.len()]
    };
    if tier > 0 {
        name.push_str(&format!("-items{items}"));
    }
    if tier > ITEMS.len() {
        name.push_str(&format!("-v{}", (tier - 1) / ITEMS.len() + 1));
    }
    WideWorkload {
        name,
        family,
        pipeline,
        scheduler,
        nodes,
        parallelism,
        items,
    }
}

/// Write workload `i`: both backends' folders.
fn write_workload(root: &Path, spec: &WideSpec, i: usize) -> anyhow::Result<Stats> {
    let mut rng = rng_for(spec.seed, PART_WIDE, i as u64);
    let w = wide_workload(i);
    let mut stats = Stats::default();
    // Outcome: ray the same, slower or faster than sage.
    let ray_factor = match rng.gen_range(0..20) {
        0..=8 => exp_det(0.01 * normal(&mut rng)),
        9..=16 => rng.gen_range(0.7..0.92),
        _ => rng.gen_range(1.08..1.25),
    };
    let base_tp = log_uniform(&mut rng, 8.0, 380.0);
    let base_p50 = log_uniform(&mut rng, 6.0, 300.0);
    let no_latency = rng.gen_range(0..10) == 0;
    let mismatch = i % MISMATCH_EVERY == MISMATCH_EVERY - 1;
    let meta = J::obj([
        ("scheduler_name", J::s(w.scheduler)),
        ("pipeline", J::s(w.pipeline)),
        ("num_tasks", J::I(w.items as i64)),
        ("results_count", J::I(w.items as i64)),
    ])
    .compact();
    // Runs start an hour apart per workload; sage first, then ray.
    let mut t = (super::json::epoch_of(2026, 3, 2, 0, 0, 0) + i as i64 * 3600) * 1_000_000;
    for (backend, factor) in [("sage", 1.0), ("ray", ray_factor)] {
        let seed = if mismatch && backend == "ray" { 7 } else { 42 };
        let runs = pick(&mut rng, &[2usize, 3, 3, 3, 3, 4]);
        let config_hash = upstream_config_hash(backend, w.scheduler, w.items, w.parallelism, w.nodes, seed, &w.name);
        let mut rec = Rec {
            backend: Some(backend.to_string()),
            workload: w.name.clone(),
            seed,
            nodes: w.nodes,
            parallelism: w.parallelism,
            config_hash: config_hash.clone(),
            backend_hash: sha256_hex(backend),
            free_key: "metadata",
            ..Rec::default()
        };
        let mut body = String::with_capacity(runs * 600);
        for _ in 0..runs {
            rec.run_id = format!("{backend}-{}", &sha256_hex(&rng.gen::<u64>().to_string())[..12]);
            let tp = base_tp * factor * exp_det(0.05 * normal(&mut rng));
            rec.duration = round_to(w.items as f64 / tp, 4);
            rec.throughput = w.items as f64 / rec.duration;
            if no_latency {
                (rec.p50, rec.p95, rec.p99, rec.success_rate) = (None, None, None, None);
            } else {
                let p50 = round_to(base_p50 / factor * exp_det(0.08 * normal(&mut rng)), 3).max(0.5);
                let p95 = round_to(p50 * rng.gen_range(1.4..1.8), 3);
                let p99 = round_to(p95 * rng.gen_range(1.1..1.3), 3);
                (rec.p50, rec.p95, rec.p99) = (Some(p50), Some(p95), Some(p99));
                rec.success_rate = Some(1.0);
            }
            t += (rec.duration * 1e6) as i64 + rng.gen_range(1_000_000..20_000_000);
            rec.timestamp.clear();
            push_iso(&mut rec.timestamp, t, true);
            rec.push_jsonl(&mut body, &meta);
            body.push('\n');
        }
        let dir = root.join(format!("results/{}/{backend}-{i}", w.name));
        stats.add_file(write_file(&dir.join("unified_results.jsonl"), body.as_bytes())?);
        let repro = J::obj([
            ("seed", J::I(seed as i64)),
            ("config_hash", J::s(config_hash)),
            ("warmup_items", J::I(0)),
            ("parity_batch_size", J::I(16)),
            ("deterministic_shuffle_version", J::s("v1")),
        ]);
        stats.add_file(write_file(&dir.join("repro_manifest.json"), repro.pretty().as_bytes())?);
        stats.read += runs as u64;
        stats.accepted += runs as u64;
    }
    Ok(stats)
}

/// Write the wide tree of `spec` under `root` (created if needed): every
/// workload in parallel, the same bytes whatever the thread count.
pub fn generate_wide(spec: &WideSpec, root: &Path) -> anyhow::Result<Manifest> {
    std::fs::create_dir_all(root)?;
    let parts: Vec<anyhow::Result<Stats>> = (0..spec.workloads)
        .into_par_iter()
        .map(|i| write_workload(root, spec, i))
        .collect();
    let mut total = Stats::default();
    for part in parts {
        total.merge(part?);
    }
    Ok(Manifest {
        expected_read: total.read,
        expected_accepted: total.accepted,
        bytes_written: total.bytes,
        files_written: total.files,
        ..Manifest::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn files_of(root: &Path) -> BTreeMap<String, Vec<u8>> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect()
    }

    #[test]
    fn names_are_distinct_and_read_like_variants() {
        assert_eq!(wide_workload(0).name, "Q1-nodes1-par1-fifo");
        assert_eq!(wide_workload(1).name, "Q2-nodes1-par1-fifo");
        assert_eq!(wide_workload(8).name, "Q1-nodes1-par1-rr");
        assert_eq!(wide_workload(COMBOS).name, "Q1-nodes1-par1-fifo-items100");
        assert_eq!(
            wide_workload(COMBOS * (ITEMS.len() + 1)).name,
            "Q1-nodes1-par1-fifo-items100-v2"
        );
        let n = 20_000;
        let names: BTreeSet<String> = (0..n).map(|i| wide_workload(i).name).collect();
        assert_eq!(names.len(), n, "every name distinct");
        let families: BTreeSet<&str> = (0..40).map(|i| wide_workload(i).family).collect();
        assert_eq!(families.len(), FAMILIES.len(), "the families mix from the start");
    }

    #[test]
    fn writes_n_workloads_on_both_backends_deterministically() {
        let spec = WideSpec {
            workloads: 120,
            seed: 3,
        };
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let m = generate_wide(&spec, a.path()).unwrap();
        generate_wide(&spec, b.path()).unwrap();
        let (fa, fb) = (files_of(a.path()), files_of(b.path()));
        assert!(fa == fb, "same spec, same bytes");
        assert_eq!(fa.len(), 120 * 4);
        assert_eq!(m.files_written, fa.len() as u64);
        assert_eq!(m.bytes_written, fa.values().map(|v| v.len() as u64).sum::<u64>());
        assert_eq!(m.expected_read, m.expected_accepted);

        let mut workloads = BTreeSet::new();
        let mut records = 0u64;
        let mut seeds_differ = 0;
        for i in 0..120 {
            let w = wide_workload(i);
            workloads.insert(w.name.clone());
            let mut seeds = Vec::new();
            for backend in ["sage", "ray"] {
                let dir = format!("results/{}/{backend}-{i}", w.name);
                let body = std::str::from_utf8(&fa[&format!("{dir}/unified_results.jsonl")]).unwrap();
                let lines: Vec<&str> = body.lines().collect();
                assert!((2..=4).contains(&lines.len()), "{dir}: {} runs", lines.len());
                records += lines.len() as u64;
                let runs: BTreeSet<String> = lines
                    .iter()
                    .map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        assert_eq!(v["backend"], backend);
                        assert_eq!(v["workload"], w.name.as_str());
                        assert_eq!(v["nodes"], w.nodes);
                        assert_eq!(v["metadata"]["scheduler_name"], w.scheduler);
                        assert!(v["throughput"].as_f64().unwrap() > 0.0);
                        v["run_id"].as_str().unwrap().to_string()
                    })
                    .collect();
                assert_eq!(runs.len(), lines.len(), "one run per record");
                let repro: serde_json::Value =
                    serde_json::from_slice(&fa[&format!("{dir}/repro_manifest.json")]).unwrap();
                let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
                assert_eq!(repro["seed"], first["seed"]);
                assert_eq!(repro["config_hash"], first["config_hash"]);
                seeds.push(first["seed"].as_u64().unwrap());
            }
            if seeds[0] != seeds[1] {
                seeds_differ += 1;
                assert_eq!(i % MISMATCH_EVERY, MISMATCH_EVERY - 1);
            }
        }
        assert_eq!(workloads.len(), 120);
        assert_eq!(records, m.expected_read);
        assert_eq!(seeds_differ, 1, "one mismatch in the first {MISMATCH_EVERY} workloads");

        let other = tempfile::tempdir().unwrap();
        generate_wide(
            &WideSpec {
                workloads: 120,
                seed: 4,
            },
            other.path(),
        )
        .unwrap();
        assert!(files_of(other.path()) != fa, "another seed, other numbers");
    }

    #[test]
    fn the_report_has_a_group_per_workload_and_side() {
        let dir = tempfile::tempdir().unwrap();
        generate_wide(&WideSpec { workloads: 40, seed: 1 }, dir.path()).unwrap();
        let inputs = [dir.path().to_path_buf()];
        let report = crate::ingest::ingest(&inputs, &crate::ingest::IngestOptions::default()).unwrap();
        assert_eq!(report.totals.rejected, 0);
        let c = crate::pipeline::CompareJob::new(inputs.to_vec())
            .analyse(&report)
            .unwrap();
        assert_eq!(c.groups.len(), 80);
        assert!(
            c.comparisons.len() > 80 && c.comparisons.len() <= 120,
            "{}",
            c.comparisons.len()
        );
        let verdicts: BTreeSet<String> = c.comparisons.iter().map(|x| x.verdict.to_string()).collect();
        assert!(verdicts.len() >= 2, "a mix of verdicts: {verdicts:?}");
    }
}
