//! `sagereport run`: the built-in runner, and the runner flags `paired` and
//! `demo` share.

use super::{print_json, GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::runner::engine::Policy;
use crate::runner::ops::Complexity;
use crate::runner::workloads::{plan, EXPERIMENTS};
use crate::runner::{config_hash, run_experiment, shape_hash, Backend, RunFlags};
use crate::util::output::check_dir;
use clap::Args;
use std::path::{Path, PathBuf};

pub const EXAMPLES: &str = "Examples:
  sagereport run --experiment Q1                               # embedded dataflow engine, results/
  sagereport run --experiment exp2 --backend local-tasks --repeat 3
  sagereport run --experiment all --quick --output-dir results/
  sagereport run --experiment Q5 --nodes 4 --dry-run           # the plan and config hash only

Writes OUT/<experiment>/<backend>/: unified_results.jsonl, unified_results.csv,
repro_manifest.json and task_latencies/*.csv — the files compare, tables and
site read. Ctrl-C stops cleanly: finished runs are written and the manifest
says status \"incomplete\".
Exit codes: 0 ok; 1 a run lost tasks or was interrupted; 2 usage error.";

/// The runner's shared flags (SPEC §6).
#[derive(Args, Debug, Clone)]
pub struct RunnerArgs {
    /// Q1..Q8, exp1..exp4, or all (repeatable or comma-separated)
    #[arg(long, short = 'e', value_delimiter = ',', default_value = "Q1")]
    pub experiment: Vec<String>,
    /// Nodes (worker pools) of the embedded cluster (1–1024)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub nodes: u32,
    /// Execution slots per node, the same on every model (1–1024; nodes × parallelism ≤ 4096)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallelism: u32,
    /// Runs per configuration (repeats give confidence intervals; 1–1000)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Items run first and not measured (taken from the seeded shuffle)
    #[arg(long, default_value_t = 0)]
    pub warmup_items: u64,
    /// Timed items are processed in batches of this size (same batches on every backend)
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub parity_batch_size: u64,
    /// Items per run [default: per workload; smaller with --quick]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub num_tasks: Option<u64>,
    /// Placement policy [default: load-aware-spread; Q6: priority]
    #[arg(long, value_enum)]
    pub scheduler: Option<Policy>,
    /// Small runs (seconds, not minutes), for demos and CI
    #[arg(long)]
    pub quick: bool,
    /// Work per task
    #[arg(long, value_enum, default_value_t = Complexity::Light)]
    pub task_complexity: Complexity,
    /// Q2: share of LLM requests, 0–1 (the rest are embedding requests)
    #[arg(long, default_value_t = 0.3, value_parser = parse_share)]
    pub llm_ratio: f64,
    /// Q2: Poisson arrival rate, requests/s (above 0)
    #[arg(long, default_value_t = 200.0, value_parser = parse_rate)]
    pub request_rate: f64,
    /// Where result folders are written
    #[arg(long, short = 'o', value_name = "DIR", default_value = "results")]
    pub output_dir: PathBuf,
    /// Print the plan and config hash; run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Ray dashboard (Jobs API) address for --backend ray
    #[arg(long, env = "RAY_ADDRESS", value_name = "URL")]
    pub ray_address: Option<String>,
    /// Seconds a Ray job may run before it is stopped
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub ray_timeout: u64,
    /// SAGE runtime for --backend sage (flutty: distributed, needs the flutty package; untested)
    #[arg(long, value_enum, default_value_t = crate::runner::sage::Runtime::Local)]
    pub sage_runtime: crate::runner::sage::Runtime,
    /// Seconds the SAGE driver may run before it stops (killed 60 s later if it hangs)
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub sage_timeout: u64,
    /// Generate with a real OpenAI-compatible server (POST URL/v1/completions) instead of the embedded K-slot LLM service
    #[arg(long, value_name = "URL")]
    pub llm_endpoint: Option<String>,
    /// Model for --llm-endpoint [default: the first of GET URL/v1/models]
    #[arg(long, value_name = "NAME")]
    pub llm_model: Option<String>,
    /// Id of this invocation [default: UTC time + random suffix, new every time]; records get <ID>-<experiment>-s<seed>-r<k>
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Where the work runs
    #[arg(long, value_enum, default_value_t = Backend::LocalDataflow)]
    pub backend: Backend,
}

/// A share in [0, 1] (`--llm-ratio`).
fn parse_share(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a share between 0 and 1 (e.g. 0.3)")),
    }
}

/// A finite rate above 0 (`--request-rate`).
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s} is not a rate above 0 requests/s (e.g. 200)")),
    }
}

/// Most execution slots (`--nodes` × `--parallelism`) a run may ask for:
/// each is a thread of the embedded engine, and more than the system
/// allows would stop the run halfway. The paper's largest is 16 × 128.
pub const MAX_SLOTS: u32 = 4096;

impl RunnerArgs {
    /// The flags' combinations clap cannot check alone.
    pub fn check(&self) -> Result<(), String> {
        let slots = self.nodes * self.parallelism;
        if slots > MAX_SLOTS {
            return Err(format!(
                "--nodes {} × --parallelism {} is {slots} execution slots, more than {MAX_SLOTS} (each is a thread); use fewer",
                self.nodes, self.parallelism
            ));
        }
        Ok(())
    }

    pub fn flags(&self) -> RunFlags {
        RunFlags {
            nodes: self.nodes,
            parallelism: self.parallelism,
            repeat: self.repeat,
            seed: self.seed,
            warmup_items: self.warmup_items,
            parity_batch_size: self.parity_batch_size,
            num_tasks: self.num_tasks,
            scheduler: self.scheduler,
            quick: self.quick,
            complexity: self.task_complexity,
            llm_ratio: self.llm_ratio,
            request_rate: self.request_rate,
            ray_address: self.ray_address.clone(),
            ray_timeout: std::time::Duration::from_secs(self.ray_timeout),
            llm_endpoint: self.llm_endpoint.clone(),
            llm_model: self.llm_model.clone(),
            // One id for the whole invocation (every experiment and backend).
            run_id: Some(
                self.run_id
                    .clone()
                    .unwrap_or_else(crate::runner::provenance::new_run_id),
            ),
            sage_runtime: self.sage_runtime,
            sage_timeout: std::time::Duration::from_secs(self.sage_timeout),
        }
    }

    /// `--run-id`, when given, names a folder: refuse what cannot.
    pub fn check_run_id(&self) -> Result<(), String> {
        self.run_id
            .as_deref()
            .map_or(Ok(()), crate::runner::provenance::check_run_id)
    }

    /// The experiments asked for, validated.
    pub fn experiments(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for e in &self.experiment {
            if e.eq_ignore_ascii_case("all") {
                out.extend(EXPERIMENTS.iter().map(|s| s.to_string()));
            } else if let Some(known) = EXPERIMENTS.iter().find(|k| k.eq_ignore_ascii_case(e)) {
                out.push(known.to_string());
            } else {
                return Err(format!(
                    "--experiment {e:?}: unknown; use one of {} or all",
                    EXPERIMENTS.join(", ")
                ));
            }
        }
        out.dedup();
        Ok(out)
    }
}

fn install_ctrlc() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            crate::runner::engine::STOP.store(true, std::sync::atomic::Ordering::Relaxed);
            eprintln!("\nsagereport: stopping after the runs in progress (Ctrl-C again to abort)…");
        });
    });
}

pub fn print_plan(experiments: &[String], flags: &RunFlags, backends: &[Backend], json: bool) -> anyhow::Result<()> {
    if json {
        let mut doc = Vec::new();
        for e in experiments {
            let specs: Vec<serde_json::Value> = plan(e, flags)?
                .iter()
                .map(|s| serde_json::json!({
                    "workload": s.workload, "nodes": s.nodes, "parallelism": s.parallelism, "policy": s.policy.label(),
                    "num_tasks": s.num_tasks, "jobs": s.jobs, "repeat": flags.repeat, "shape_hash": shape_hash(s, &s.workload, flags),
                }))
                .collect();
            doc.push(serde_json::json!({"experiment": e, "config_hash": config_hash(e, flags), "runs": specs}));
        }
        let backends: Vec<&str> = backends.iter().map(|b| b.label()).collect();
        print_json(
            &serde_json::json!({"schema_version": 1, "dry_run": true, "backends": backends, "experiments": doc}),
        )?;
        return Ok(());
    }
    for e in experiments {
        outln!("{e}: config hash {} (backend-neutral)", config_hash(e, flags));
        for s in plan(e, flags)? {
            outln!(
                "  {:<28} nodes {:>2} parallelism {:>3} policy {:<18} items {:>5} × {} job(s) × {} repeat(s)  shape {}",
                s.workload,
                s.nodes,
                s.parallelism,
                s.policy.label(),
                s.num_tasks,
                s.jobs,
                flags.repeat,
                &shape_hash(&s, &s.workload, flags)[..12]
            );
        }
    }
    outln!(
        "backends: {}",
        backends.iter().map(|b| b.label()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// Run every experiment on every backend into `OUT/<experiment>/<backend>/`
/// (or `layout(experiment, backend)` when given); returns false when a run
/// was interrupted or lost tasks.
pub fn run_all(
    experiments: &[String],
    flags: &RunFlags,
    backends: &[Backend],
    out: &Path,
    global: &GlobalArgs,
) -> anyhow::Result<(bool, Vec<serde_json::Value>)> {
    run_into(
        experiments,
        flags,
        backends,
        &|e, b| out.join(e).join(b.label()),
        global,
    )
}

/// Like [`run_all`] with a folder per (experiment, backend) from `layout`;
/// also returns one JSON summary per experiment run (for `--json`).
pub(super) fn run_into(
    experiments: &[String],
    flags: &RunFlags,
    backends: &[Backend],
    layout: &dyn Fn(&str, Backend) -> PathBuf,
    global: &GlobalArgs,
) -> anyhow::Result<(bool, Vec<serde_json::Value>)> {
    install_ctrlc();
    let text = global.text();
    let mut summaries = Vec::new();
    let bar = (text && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    // Every result folder is checked before any work: an occupied one is refused (exit 2).
    for backend in backends {
        for e in experiments {
            check_dir(&layout(e, *backend), &[])?;
        }
    }
    let mut ok = true;
    crate::runner::sage::preflight(backends, flags)?;
    for backend in backends {
        if *backend == Backend::Ray {
            // Fail at once, before any work, when the cluster is not there.
            let address = flags.ray_address.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "--backend ray needs --ray-address http://HOST:8265 (or RAY_ADDRESS); {}",
                    crate::runner::ray::START_HINT
                )
            })?;
            let client = crate::runner::ray::RayClient::connect(address)?;
            if text {
                eprintln!("sagereport: Ray {} at {}", client.ray_version, client.address());
            }
        }
        for e in experiments {
            let started = std::time::Instant::now();
            let dir = layout(e, *backend);
            let result = run_experiment(e, flags, *backend, &dir, &|msg: &str| {
                if let Some(b) = &bar {
                    b.set_message(format!("{} {msg}", backend.label()));
                } else if global.verbose {
                    eprintln!("sagereport: running {} {msg}", backend.label());
                }
            })?;
            let balanced = result.tasks_submitted == result.tasks_completed + result.tasks_failed;
            ok &= result.complete && balanced;
            summaries.push(serde_json::json!({
                "experiment": e, "backend": backend.label(), "dir": result.dir.display().to_string(),
                "records": result.records, "complete": result.complete, "tasks_submitted": result.tasks_submitted,
                "tasks_completed": result.tasks_completed, "tasks_failed": result.tasks_failed,
                "seconds": started.elapsed().as_secs_f64(),
            }));
            if text {
                let line = format!(
                    "{:<5} {:<15} {:>4} records  tasks {} = {} completed + {} failed  {:.1} s  → {}{}",
                    e,
                    backend.label(),
                    result.records,
                    result.tasks_submitted,
                    result.tasks_completed,
                    result.tasks_failed,
                    started.elapsed().as_secs_f64(),
                    result.dir.display(),
                    if result.complete {
                        ""
                    } else {
                        "  (INCOMPLETE: interrupted)"
                    }
                );
                // Print above the spinner, not through it.
                match &bar {
                    Some(b) => b.suspend(|| super::write_stdout(format_args!("{line}\n")))?,
                    None => outln!("{line}"),
                }
            }
            if crate::runner::engine::stop_requested() {
                break;
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((ok, summaries))
}

pub fn run(args: &RunArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let experiments = match args.runner.check_run_id().and_then(|_| args.runner.experiments()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    if let Err(e) = args.runner.check() {
        eprintln!("sagereport: error: {e}");
        return Ok(EXIT_USAGE);
    }
    let flags = args.runner.flags();
    if args.runner.dry_run {
        print_plan(&experiments, &flags, &[args.backend], global.json)?;
        return Ok(EXIT_OK);
    }
    let (ok, summaries) = run_all(&experiments, &flags, &[args.backend], &args.runner.output_dir, global)?;
    if global.json {
        print_json(
            &serde_json::json!({"schema_version": 1, "run_id": flags.run_id, "config_hashes": experiments.iter().map(|e| (e.clone(), serde_json::Value::String(config_hash(e, &flags)))).collect::<serde_json::Map<_, _>>(), "runs": summaries}),
        )?;
    }
    Ok(if ok { EXIT_OK } else { super::EXIT_FINDINGS })
}
