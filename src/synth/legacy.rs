//! Legacy exp1–exp4 results of the distributed-scheduling harness
//! (`save_detailed_results`): per run `<name>_metrics.json`,
//! `<name>_latencies.csv` and `<name>_summary.txt`, with upstream's unit
//! quirks reproduced exactly (see `/tmp/upstream_notes.md` §0 and §2):
//! - `use_remote: false`: `avg/p50/p95/p99_latency_ms` hold **seconds**; the
//!   arrays, `node_latencies_ms` and the CSV hold true ms;
//! - `use_remote: true`: `avg/p*_latency_ms` are true ms; the total latency
//!   array and CSV total column are ms × 1000 (µs); scheduling/execution
//!   arrays empty, their averages 0, `node_latencies_ms` `{}`.

use super::json::{epoch_of, folder_stamp, iso, write_file, J};
use super::unified::{exp_det, log_uniform, normal};
use super::{ExpectedProblem, Stats};
use rand::rngs::StdRng;
use rand::Rng;
use std::fmt::Write as _;
use std::path::Path;

/// `BenchmarkConfig.to_dict()`: exactly these 11 keys (`failures` is not
/// written).
#[derive(Clone)]
pub(super) struct Cfg {
    pub(super) name: String,
    pub(super) num_tasks: u64,
    pub(super) task_complexity: &'static str,
    pub(super) parallelism: u32,
    pub(super) num_nodes: u32,
    pub(super) scheduler_type: &'static str,
    pub(super) scheduler_strategy: &'static str,
    pub(super) use_remote: bool,
    pub(super) pipeline_stages: u32,
    /// Some runs lose 1–3 tasks (fewer latency rows than `num_tasks`).
    pub(super) failures: bool,
}

impl Cfg {
    pub(super) fn remote(name: &str, num_tasks: u64, parallelism: u32, num_nodes: u32) -> Cfg {
        Cfg {
            name: name.to_string(),
            num_tasks,
            task_complexity: "medium",
            parallelism,
            num_nodes,
            scheduler_type: "load_aware",
            scheduler_strategy: "spread",
            use_remote: true,
            pipeline_stages: 3,
            failures: true,
        }
    }

    fn to_j(&self) -> J {
        J::obj([
            ("experiment_name", J::s(self.name.as_str())),
            ("num_tasks", J::I(self.num_tasks as i64)),
            ("task_complexity", J::s(self.task_complexity)),
            ("parallelism", J::I(self.parallelism as i64)),
            ("num_nodes", J::I(self.num_nodes as i64)),
            ("scheduler_type", J::s(self.scheduler_type)),
            ("scheduler_strategy", J::s(self.scheduler_strategy)),
            ("use_remote", J::Bool(self.use_remote)),
            ("pipeline_stages", J::I(self.pipeline_stages as i64)),
            ("enable_rag", J::Bool(true)),
            ("enable_llm", J::Bool(true)),
        ])
    }

    fn summary_block(&self) -> String {
        let py = |b: bool| if b { "True" } else { "False" };
        format!(
            "  experiment_name: {}\n  num_tasks: {}\n  task_complexity: {}\n  parallelism: {}\n  num_nodes: {}\n  scheduler_type: {}\n  scheduler_strategy: {}\n  use_remote: {}\n  pipeline_stages: {}\n  enable_rag: True\n  enable_llm: True\n",
            self.name,
            self.num_tasks,
            self.task_complexity,
            self.parallelism,
            self.num_nodes,
            self.scheduler_type,
            self.scheduler_strategy,
            py(self.use_remote),
            self.pipeline_stages
        )
    }
}

/// What a comparison report row needs from a run.
pub(super) struct RunResult {
    name: String,
    successful: u64,
    pub(super) throughput: f64,
    avg: f64,
    pub(super) p99: f64,
    balance: f64,
    pub(super) cfg: Cfg,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// `sorted_lat[int(n * q)]`, clamped, as upstream's models.py.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

/// 1 − σ/μ of the per-node counts, clamped to [0, 1]; 1.0 for ≤ 1 node.
fn balance(counts: &[u64]) -> f64 {
    if counts.len() <= 1 {
        return 1.0;
    }
    let xs: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let m = mean(&xs);
    if m == 0.0 {
        return 0.0;
    }
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64;
    (1.0 - var.sqrt() / m).clamp(0.0, 1.0)
}

fn latencies_csv(total: &[f64], sched: &[f64], exec: &[f64]) -> String {
    let mut s = String::with_capacity(40 * total.len() + 64);
    s.push_str("task_index,total_latency_ms,scheduling_latency_ms,execution_latency_ms\r\n");
    for (i, t) in total.iter().enumerate() {
        let sc = sched.get(i).copied().unwrap_or(0.0);
        let ex = exec.get(i).copied().unwrap_or(0.0);
        let _ = write!(s, "{i},{t:.2},{sc:.2},{ex:.2}\r\n");
    }
    s
}

/// Write one run's three files into `dir`; returns the row for the group's
/// comparison report.
pub(super) fn write_run(
    root: &Path,
    dir: &str,
    cfg: Cfg,
    t: i64,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<RunResult> {
    let name = cfg.name.clone();
    let failed: u64 = if cfg.failures && rng.gen_bool(0.25) {
        rng.gen_range(1..=3)
    } else {
        0
    };
    let ok = cfg.num_tasks - failed;
    let n = ok as usize;
    let complexity = match cfg.task_complexity {
        "light" => 0.5,
        "heavy" => 2.5,
        _ => 1.0,
    };
    let nodes = cfg.num_nodes.max(1) as usize;
    let node_ids: Vec<String> = (0..nodes).map(|i| format!("node_{i}")).collect();

    let (metrics_lat, details, node_lat, node_counts, duration, sched_avg, queue_avg, exec_avg, csv);
    if cfg.use_remote {
        // Workers report true ms; the harness multiplies by 1000 again.
        let base = log_uniform(rng, 20.0, 90.0) * complexity * (1.0 + cfg.parallelism as f64 / (nodes as f64 * 24.0));
        let lat_ms: Vec<f64> = (0..n).map(|_| base * exp_det(0.35 * normal(rng))).collect();
        let mut counts = vec![0u64; nodes];
        for _ in 0..n {
            let node = match (cfg.scheduler_type, cfg.scheduler_strategy) {
                ("load_aware", "pack") => {
                    // Fill the first nodes first.
                    let mut k = 0;
                    while k + 1 < nodes && rng.gen_bool(0.45) {
                        k += 1;
                    }
                    k
                }
                ("round_robin", _) => (counts.iter().sum::<u64>() as usize) % nodes,
                ("load_aware", _) => {
                    let a = rng.gen_range(0..nodes);
                    let b = rng.gen_range(0..nodes);
                    if counts[a] <= counts[b] {
                        a
                    } else {
                        b
                    }
                }
                _ => rng.gen_range(0..nodes),
            };
            counts[node] += 1;
        }
        let mut sorted = lat_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let eff_par = (cfg.parallelism as f64).min(nodes as f64 * 8.0).max(1.0);
        duration = lat_ms.iter().sum::<f64>() / 1000.0 / eff_par * rng.gen_range(1.05..1.3) + rng.gen_range(0.2..0.8);
        let micros: Vec<f64> = lat_ms.iter().map(|x| x * 1000.0).collect();
        csv = latencies_csv(&micros, &[], &[]);
        metrics_lat = (
            mean(&lat_ms),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.95),
            percentile(&sorted, 0.99),
        );
        details = (micros, Vec::new(), Vec::new());
        node_lat = J::O(vec![]);
        node_counts = counts;
        (sched_avg, queue_avg, exec_avg) = (0.0, 0.0, 0.0);
    } else {
        // In-process collector: lists in seconds; the summary fields forget × 1000.
        let conc = cfg.parallelism as f64;
        let exec_base = log_uniform(rng, 0.008, 0.04) * complexity;
        let mut sched = Vec::with_capacity(n);
        let mut queue = Vec::with_capacity(n);
        let mut exec = Vec::with_capacity(n);
        let mut total = Vec::with_capacity(n);
        for _ in 0..n {
            let s = log_uniform(rng, 0.00004, 0.0015);
            let q = log_uniform(rng, 0.0005, 0.004) * conc.sqrt();
            let e = exec_base * exp_det(0.3 * normal(rng));
            sched.push(s);
            queue.push(q);
            exec.push(e);
            total.push(s + q + e);
        }
        let mut sorted = total.clone();
        sorted.sort_by(f64::total_cmp);
        duration = total.iter().sum::<f64>() / conc * rng.gen_range(1.05..1.25) + rng.gen_range(0.05..0.3);
        metrics_lat = (
            mean(&total),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.95),
            percentile(&sorted, 0.99),
        );
        (sched_avg, queue_avg, exec_avg) = (mean(&sched) * 1000.0, mean(&queue) * 1000.0, mean(&exec) * 1000.0);
        let ms = |v: &[f64]| v.iter().map(|x| x * 1000.0).collect::<Vec<f64>>();
        let (total_ms, sched_ms, exec_ms) = (ms(&total), ms(&sched), ms(&exec));
        csv = latencies_csv(&total_ms, &sched_ms, &exec_ms);
        let mut per_node: Vec<Vec<f64>> = vec![Vec::new(); nodes];
        let mut counts = vec![0u64; nodes];
        for (i, x) in total_ms.iter().enumerate() {
            per_node[i % nodes].push(*x);
            counts[i % nodes] += 1;
        }
        node_lat = J::O(
            node_ids
                .iter()
                .zip(per_node)
                .map(|(id, v)| (id.clone(), J::A(v.into_iter().map(J::F).collect())))
                .collect(),
        );
        details = (total_ms, sched_ms, exec_ms);
        node_counts = counts;
    }
    let throughput = ok as f64 / duration;
    let bal = balance(&node_counts);
    let (avg, p50, p95, p99) = metrics_lat;
    let floats = |v: Vec<f64>| J::A(v.into_iter().map(J::F).collect());
    let doc = J::obj([
        ("timestamp", J::s(iso(t, false))),
        ("experiment_name", J::s(name.as_str())),
        (
            "metrics",
            J::obj([
                ("total_tasks", J::I(cfg.num_tasks as i64)),
                ("successful_tasks", J::I(ok as i64)),
                ("failed_tasks", J::I(failed as i64)),
                ("total_duration_sec", J::F(duration)),
                ("throughput_tasks_per_sec", J::F(throughput)),
                ("avg_latency_ms", J::F(avg)),
                ("p50_latency_ms", J::F(p50)),
                ("p95_latency_ms", J::F(p95)),
                ("p99_latency_ms", J::F(p99)),
                ("avg_scheduling_latency_ms", J::F(sched_avg)),
                ("avg_queue_latency_ms", J::F(queue_avg)),
                ("avg_execution_latency_ms", J::F(exec_avg)),
                (
                    "node_distribution",
                    J::O(
                        node_ids
                            .iter()
                            .zip(&node_counts)
                            .filter(|(_, c)| **c > 0)
                            .map(|(id, c)| (id.clone(), J::I(*c as i64)))
                            .collect(),
                    ),
                ),
                ("node_balance_score", J::F(bal)),
                ("config", cfg.to_j()),
            ]),
        ),
        (
            "latency_details",
            J::obj([
                ("total_latencies_ms", floats(details.0)),
                ("scheduling_latencies_ms", floats(details.1)),
                ("execution_latencies_ms", floats(details.2)),
            ]),
        ),
        ("node_latencies_ms", node_lat),
    ]);

    let mut summary = String::new();
    let rule = "=".repeat(60);
    let _ = write!(
        summary,
        "{rule}\nExperiment: {name}\nTimestamp: {}\n{rule}\n\nConfiguration:\n{}\nResults:\n",
        iso(t, false),
        cfg.summary_block()
    );
    let _ = write!(
        summary,
        "  Total Tasks:       {}\n  Successful:        {ok}\n  Failed:            {failed}\n  Duration:          {duration:.2} s\n  Throughput:        {throughput:.2} tasks/sec\n  Avg Latency:       {avg:.2} ms\n  P50 Latency:       {p50:.2} ms\n  P95 Latency:       {p95:.2} ms\n  P99 Latency:       {p99:.2} ms\n  Avg Scheduling:    {sched_avg:.2} ms\n  Avg Queue:         {queue_avg:.2} ms\n  Avg Execution:     {exec_avg:.2} ms\n  Node Balance:      {bal:.3}\n\nNode Distribution:\n",
        cfg.num_tasks
    );
    for (id, c) in node_ids.iter().zip(&node_counts) {
        let _ = writeln!(summary, "  {id}: {c}");
    }

    let base = root.join(dir);
    let metrics_path = format!("{dir}/{name}_metrics.json");
    stats.add_file(write_file(&root.join(&metrics_path), doc.pretty().as_bytes())?);
    stats.add_file(write_file(&base.join(format!("{name}_latencies.csv")), csv.as_bytes())?);
    let summary_path = format!("{dir}/{name}_summary.txt");
    stats.add_file(write_file(&root.join(&summary_path), summary.as_bytes())?);
    stats.skipped.push(summary_path);
    stats.read += 1;
    stats.accepted += 1;
    // Not a fault: the reader reports every unit conversion it applies.
    stats.notices.push(ExpectedProblem {
        path: metrics_path,
        line: None,
        kind: "unit_conversion",
        severity: "warning",
    });
    Ok(RunResult {
        name,
        successful: ok,
        throughput,
        avg,
        p99,
        balance: bal,
        cfg,
    })
}

/// `<group>_comparison.txt` (generate_comparison_report).
pub(super) fn write_comparison(
    root: &Path,
    path: String,
    title: &str,
    rows: &[RunResult],
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let mut s = String::new();
    let rule = "=".repeat(80);
    let _ = write!(s, "{rule}\n{title}\n{rule}\n\n");
    let _ = writeln!(
        s,
        "{:<28} {:>8} {:>12} {:>10} {:>10} {:>8}",
        "Experiment", "Tasks", "Throughput", "Avg Lat", "P99 Lat", "Balance"
    );
    let _ = writeln!(s, "{}", "-".repeat(80));
    for r in rows {
        let _ = writeln!(
            s,
            "{:<28} {:>8} {:>12.2} {:>10.2} {:>10.2} {:>8.3}",
            r.name, r.successful, r.throughput, r.avg, r.p99, r.balance
        );
    }
    s.push('\n');
    for r in rows {
        let _ = writeln!(
            s,
            "[{}]\n  Config: tasks={}, parallelism={}, nodes={}, scheduler={}\n",
            r.name, r.cfg.num_tasks, r.cfg.parallelism, r.cfg.num_nodes, r.cfg.scheduler_type
        );
    }
    stats.add_file(write_file(&root.join(&path), s.as_bytes())?);
    stats.skipped.push(path);
    Ok(())
}

/// All four legacy experiments (30 metrics files).
pub fn write_legacy(root: &Path, rng: &mut StdRng, stats: &mut Stats) -> anyhow::Result<()> {
    // exp1: node scaling (remote; parallelism = nodes; single_node keeps the defaults).
    let t1 = epoch_of(2026, 1, 15, 12, 0, 0);
    let dir1 = format!(
        "exp1_single_vs_multi/results/full_experiment_{}/node_scaling",
        folder_stamp(t1)
    );
    let mut rows = Vec::new();
    for (i, n) in [1u32, 4, 8, 16].into_iter().enumerate() {
        let name = if n == 1 {
            "single_node".to_string()
        } else {
            format!("multi_{n}_nodes")
        };
        let cfg = Cfg::remote(&name, 200, n, n);
        rows.push(write_run(
            root,
            &dir1,
            cfg,
            micros(t1 + 60 * (i as i64 + 1), rng),
            rng,
            stats,
        )?);
    }
    write_comparison(
        root,
        format!("{dir1}/node_scaling_comparison.txt"),
        "Node Scaling Comparison",
        &rows,
        stats,
    )?;

    // exp2: scheduler comparison at the medium load level (16 parallel, 4 nodes).
    let t2 = epoch_of(2026, 1, 15, 13, 0, 0);
    let dir2 = format!(
        "exp2_high_load_parallel/results/full_experiment_{}/scheduler_comparison",
        folder_stamp(t2)
    );
    let mut rows = Vec::new();
    for (i, (label, ty, strategy)) in [
        ("fifo", "fifo", "spread"),
        ("load_aware_spread", "load_aware", "spread"),
        ("load_aware_pack", "load_aware", "pack"),
        ("round_robin", "round_robin", "spread"),
        ("priority", "priority", "spread"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut cfg = Cfg::remote(&format!("scheduler_{label}_medium"), 200, 16, 4);
        cfg.scheduler_type = ty;
        cfg.scheduler_strategy = strategy;
        rows.push(write_run(
            root,
            &dir2,
            cfg,
            micros(t2 + 90 * (i as i64 + 1), rng),
            rng,
            stats,
        )?);
    }
    write_comparison(
        root,
        format!("{dir2}/scheduler_comparison.txt"),
        "Scheduler Comparison",
        &rows,
        stats,
    )?;

    // exp3: concurrency scaling; p ≤ 4 runs locally (1 node, fifo).
    let t3 = epoch_of(2026, 1, 15, 14, 0, 0);
    let dir3 = format!(
        "exp3_latency_throughput/results/full_experiment_{}/concurrency_scaling",
        folder_stamp(t3)
    );
    let mut rows = Vec::new();
    for (i, p) in [1u32, 2, 4, 8, 16, 32].into_iter().enumerate() {
        let remote = p > 4;
        let mut cfg = Cfg::remote(&format!("concurrency_{p}"), 100, p, if remote { 4 } else { 1 });
        cfg.use_remote = remote;
        cfg.scheduler_type = if remote { "load_aware" } else { "fifo" };
        rows.push(write_run(
            root,
            &dir3,
            cfg,
            micros(t3 + 45 * (i as i64 + 1), rng),
            rng,
            stats,
        )?);
    }
    write_comparison(
        root,
        format!("{dir3}/concurrency_scaling_comparison.txt"),
        "Concurrency Scaling",
        &rows,
        stats,
    )?;
    write_curve(root, &dir3, &rows, stats)?;

    // exp4: scaling mode, n concurrent rag jobs (remote, 8 parallel, 4 nodes).
    let t4 = epoch_of(2026, 1, 15, 15, 0, 0);
    let base4 = format!("exp4_parallel_jobs/results/scaling_rag_{}", folder_stamp(t4));
    write_scaling(
        root,
        &base4,
        t4,
        |j| Cfg::remote(&format!("job{j}_rag"), 200, 8, 4),
        rng,
        stats,
    )
}

/// Epoch µs of `secs` plus a random fraction of a second.
pub(super) fn micros(secs: i64, rng: &mut StdRng) -> i64 {
    secs * 1_000_000 + rng.gen_range(1..1_000_000)
}

/// exp3's `throughput_curve.json` (derived from the runs' metrics).
pub(super) fn write_curve(root: &Path, dir: &str, rows: &[RunResult], stats: &mut Stats) -> anyhow::Result<()> {
    let curve = J::obj([
        (
            "concurrency_levels",
            J::A(rows.iter().map(|r| J::I(r.cfg.parallelism as i64)).collect()),
        ),
        ("throughput", J::A(rows.iter().map(|r| J::F(r.throughput)).collect())),
        ("avg_latency_ms", J::A(rows.iter().map(|r| J::F(r.avg)).collect())),
        ("p99_latency_ms", J::A(rows.iter().map(|r| J::F(r.p99)).collect())),
    ]);
    let curve_path = format!("{dir}/throughput_curve.json");
    stats.add_file(write_file(&root.join(&curve_path), curve.pretty().as_bytes())?);
    stats.skipped.push(curve_path);
    Ok(())
}

/// exp4's scaling mode under `base`: `jobs_{n}/` folders of n concurrent rag
/// jobs (n = 1, 2, 4, 8; job `j` runs `cfg(j)`), each with its
/// `parallel_jobs_summary.json`, and the `scaling_report.txt`.
pub(super) fn write_scaling(
    root: &Path,
    base: &str,
    t: i64,
    cfg: impl Fn(u32) -> Cfg,
    rng: &mut StdRng,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let mut report = String::from("Num Jobs  Total Throughput  Avg Job Throughput  Avg P99 Lat  Success Rate\n");
    for (i, jobs) in [1u32, 2, 4, 8].into_iter().enumerate() {
        let dir = format!("{base}/jobs_{jobs}");
        let start = t + 120 * i as i64;
        let mut job_docs = Vec::new();
        let mut total_tp = 0.0;
        let mut p99s = 0.0;
        for j in 0..jobs {
            let r = write_run(root, &dir, cfg(j), micros(start + 30, rng), rng, stats)?;
            total_tp += r.throughput;
            p99s += r.p99;
            let st = start as f64 + rng.gen_range(0.01..0.2);
            let dur = r.successful as f64 / r.throughput + rng.gen_range(0.3..1.5);
            job_docs.push(J::obj([
                ("job_id", J::I(j as i64)),
                ("pipeline_type", J::s("rag")),
                ("success", J::Bool(true)),
                ("duration", J::F(dur)),
                ("start_time", J::F(st)),
                ("end_time", J::F(st + dur)),
                ("throughput", J::F(r.throughput)),
                ("avg_latency_ms", J::F(r.avg)),
                ("p95_latency_ms", J::F(r.p99 * 0.9)),
                ("p99_latency_ms", J::F(r.p99)),
                ("total_tasks", J::I(r.cfg.num_tasks as i64)),
                ("node_balance_score", J::F(r.balance)),
            ]));
        }
        let summary = J::obj([
            ("total_duration", J::F(rng.gen_range(20.0..60.0))),
            ("num_jobs", J::I(jobs as i64)),
            ("num_successful", J::I(jobs as i64)),
            ("num_failed", J::I(0)),
            ("jobs", J::A(job_docs)),
        ]);
        let path = format!("{dir}/parallel_jobs_summary.json");
        stats.add_file(write_file(&root.join(&path), summary.pretty().as_bytes())?);
        stats.skipped.push(path);
        let _ = writeln!(
            report,
            "{jobs:<9} {total_tp:>16.2} {:>19.2} {:>12.2} {:>13.1}%",
            total_tp / jobs as f64,
            p99s / jobs as f64,
            100.0
        );
    }
    let path = format!("{base}/scaling_report.txt");
    stats.add_file(write_file(&root.join(&path), report.as_bytes())?);
    stats.skipped.push(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_and_percentiles() {
        assert_eq!(balance(&[5]), 1.0);
        assert_eq!(balance(&[5, 5, 5]), 1.0);
        assert!(balance(&[10, 0]) < 0.01);
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.99), 4.0);
    }
}
