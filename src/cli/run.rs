//! `sagereport run`, `paired` and `demo`: the built-in runner.

use super::{GlobalArgs, EXIT_OK, EXIT_USAGE};
use crate::runner::engine::Policy;
use crate::runner::ops::Complexity;
use crate::runner::workloads::{plan, EXPERIMENTS};
use crate::runner::{config_hash, run_experiment, shape_hash, Backend, RunFlags};
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
    /// Nodes (worker pools) of the embedded cluster
    #[arg(long, default_value_t = 1)]
    pub nodes: u32,
    /// Workers per node and operator
    #[arg(long, default_value_t = 2)]
    pub parallelism: u32,
    /// Runs per configuration (repeats give confidence intervals)
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Items run first and not measured (taken from the seeded shuffle)
    #[arg(long, default_value_t = 0)]
    pub warmup_items: u64,
    /// Timed items are processed in batches of this size (same batches on every backend)
    #[arg(long, default_value_t = 16)]
    pub parity_batch_size: u64,
    /// Items per run [default: per workload; smaller with --quick]
    #[arg(long)]
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
    /// Q2: share of LLM requests (the rest are embedding requests)
    #[arg(long, default_value_t = 0.3)]
    pub llm_ratio: f64,
    /// Q2: Poisson arrival rate, requests/s
    #[arg(long, default_value_t = 200.0)]
    pub request_rate: f64,
    /// Where result folders are written
    #[arg(long, short = 'o', value_name = "DIR", default_value = "results")]
    pub output_dir: PathBuf,
    /// Print the plan and config hash; run nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Where the work runs
    #[arg(long, value_enum, default_value_t = Backend::LocalDataflow)]
    pub backend: Backend,
}

impl RunnerArgs {
    pub fn flags(&self) -> RunFlags {
        RunFlags {
            nodes: self.nodes,
            parallelism: self.parallelism,
            repeat: self.repeat,
            seed: self.seed,
            warmup_items: self.warmup_items,
            parity_batch_size: self.parity_batch_size.max(1),
            num_tasks: self.num_tasks,
            scheduler: self.scheduler,
            quick: self.quick,
            complexity: self.task_complexity,
            llm_ratio: self.llm_ratio.clamp(0.0, 1.0),
            request_rate: self.request_rate.max(0.001),
        }
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
                return Err(format!("--experiment {e:?}: unknown; use one of {} or all", EXPERIMENTS.join(", ")));
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

pub fn print_plan(experiments: &[String], flags: &RunFlags, backends: &[Backend]) -> anyhow::Result<()> {
    for e in experiments {
        println!("{e}: config hash {} (backend-neutral)", config_hash(e, flags));
        for s in plan(e, flags)? {
            println!(
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
    println!("backends: {}", backends.iter().map(|b| b.label()).collect::<Vec<_>>().join(", "));
    Ok(())
}

/// Run every experiment on every backend into `out`; returns false when a
/// run was interrupted or lost tasks.
pub fn run_all(experiments: &[String], flags: &RunFlags, backends: &[Backend], out: &Path, global: &GlobalArgs) -> anyhow::Result<bool> {
    install_ctrlc();
    let bar = (!global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    let mut ok = true;
    for backend in backends {
        if *backend == Backend::Ray {
            anyhow::bail!(
                "the ray backend is not available yet: start Ray with `ray start --head --node-ip-address 127.0.0.1 --dashboard-host 127.0.0.1` and use a later sagereport; meanwhile use --backend local-dataflow or local-tasks"
            );
        }
        for e in experiments {
            let started = std::time::Instant::now();
            let result = run_experiment(e, flags, *backend, out, &|msg: &str| {
                if let Some(b) = &bar {
                    b.set_message(format!("{} {msg}", backend.label()));
                } else if global.verbose {
                    eprintln!("sagereport: running {} {msg}", backend.label());
                }
            })?;
            let balanced = result.tasks_submitted == result.tasks_completed + result.tasks_failed;
            ok &= result.complete && balanced;
            if !global.quiet {
                if let Some(b) = &bar {
                    b.suspend(|| ());
                }
                println!(
                    "{:<5} {:<15} {:>4} records  tasks {} = {} completed + {} failed  {:.1} s  → {}{}",
                    e,
                    backend.label(),
                    result.records,
                    result.tasks_submitted,
                    result.tasks_completed,
                    result.tasks_failed,
                    started.elapsed().as_secs_f64(),
                    result.dir.display(),
                    if result.complete { "" } else { "  (INCOMPLETE: interrupted)" }
                );
            }
            if crate::runner::engine::stop_requested() {
                break;
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(ok)
}

pub fn run(args: &RunArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let experiments = match args.runner.experiments() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let flags = args.runner.flags();
    if args.runner.dry_run {
        print_plan(&experiments, &flags, &[args.backend])?;
        return Ok(EXIT_OK);
    }
    let ok = run_all(&experiments, &flags, &[args.backend], &args.runner.output_dir, global)?;
    Ok(if ok { EXIT_OK } else { super::EXIT_FINDINGS })
}
