//! `sagereport run`, `paired` and `demo`: the built-in runner.

use super::{GlobalArgs, EXIT_OK, EXIT_USAGE, print_json};
use crate::runner::engine::Policy;
use crate::runner::ops::Complexity;
use crate::runner::workloads::{plan, EXPERIMENTS};
use crate::runner::{config_hash, run_experiment, shape_hash, Backend, RunFlags};
use crate::util::output::{check_dir, check_file, claim_dir, FileKind};
use clap::Parser;
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
    /// Execution slots per node (the same on every model)
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
    /// Ray dashboard (Jobs API) address for --backend ray
    #[arg(long, env = "RAY_ADDRESS", value_name = "URL")]
    pub ray_address: Option<String>,
    /// Seconds a Ray job may run before it is stopped
    #[arg(long, default_value_t = 1800)]
    pub ray_timeout: u64,
    /// SAGE runtime for --backend sage (flutty: distributed, needs the flutty package; untested)
    #[arg(long, value_enum, default_value_t = crate::runner::sage::Runtime::Local)]
    pub sage_runtime: crate::runner::sage::Runtime,
    /// Seconds the SAGE driver may run before it stops (killed 60 s later if it hangs)
    #[arg(long, default_value_t = 1800)]
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
            ray_address: self.ray_address.clone(),
            ray_timeout: std::time::Duration::from_secs(self.ray_timeout.max(1)),
            llm_endpoint: self.llm_endpoint.clone(),
            llm_model: self.llm_model.clone(),
            // One id for the whole invocation (every experiment and backend).
            run_id: Some(self.run_id.clone().unwrap_or_else(crate::runner::provenance::new_run_id)),
            sage_runtime: self.sage_runtime,
            sage_timeout: std::time::Duration::from_secs(self.sage_timeout.max(1)),
        }
    }

    /// `--run-id`, when given, names a folder: refuse what cannot.
    pub fn check_run_id(&self) -> Result<(), String> {
        self.run_id.as_deref().map_or(Ok(()), crate::runner::provenance::check_run_id)
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
        print_json(&serde_json::json!({"schema_version": 1, "dry_run": true, "backends": backends, "experiments": doc}))?;
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
    outln!("backends: {}", backends.iter().map(|b| b.label()).collect::<Vec<_>>().join(", "));
    Ok(())
}

/// Run every experiment on every backend into `OUT/<experiment>/<backend>/`
/// (or `layout(experiment, backend)` when given); returns false when a run
/// was interrupted or lost tasks.
pub fn run_all(experiments: &[String], flags: &RunFlags, backends: &[Backend], out: &Path, global: &GlobalArgs) -> anyhow::Result<(bool, Vec<serde_json::Value>)> {
    run_into(experiments, flags, backends, &|e, b| out.join(e).join(b.label()), global)
}

/// Like [`run_all`] with a folder per (experiment, backend) from `layout`;
/// also returns one JSON summary per experiment run (for `--json`).
fn run_into(experiments: &[String], flags: &RunFlags, backends: &[Backend], layout: &dyn Fn(&str, Backend) -> PathBuf, global: &GlobalArgs) -> anyhow::Result<(bool, Vec<serde_json::Value>)> {
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
            let address = flags.ray_address.as_deref().ok_or_else(|| anyhow::anyhow!("--backend ray needs --ray-address http://HOST:8265 (or RAY_ADDRESS); {}", crate::runner::ray::START_HINT))?;
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
                    if result.complete { "" } else { "  (INCOMPLETE: interrupted)" }
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
    let flags = args.runner.flags();
    if args.runner.dry_run {
        print_plan(&experiments, &flags, &[args.backend], global.json)?;
        return Ok(EXIT_OK);
    }
    let (ok, summaries) = run_all(&experiments, &flags, &[args.backend], &args.runner.output_dir, global)?;
    if global.json {
        print_json(&serde_json::json!({"schema_version": 1, "run_id": flags.run_id, "config_hashes": experiments.iter().map(|e| (e.clone(), serde_json::Value::String(config_hash(e, &flags)))).collect::<serde_json::Map<_, _>>(), "runs": summaries}))?;
    }
    Ok(if ok { EXIT_OK } else { super::EXIT_FINDINGS })
}

pub const PAIRED_EXAMPLES: &str = "Examples:
  sagereport paired --backends local-dataflow,local-tasks --experiment Q1 --quick
  sagereport paired --backends local-dataflow,local-tasks -e exp2 --repeat 3 -o runs/

Runs both sides on the same config into
OUT/paired_backend_runs/run_id=<id>/config_hash=<hash>/backends/<backend>/<experiment>/
(<id>: --run-id, or UTC time + a random suffix, new every time)
with manifest.json per side (failure_report.json when a side fails), then
writes the compare bundle to OUT/comparison/ (or --report-dir).
Exit codes: 0 ok; 1 a side failed, lost tasks, or the sides mismatch; 2 usage error.";

#[derive(Args, Debug)]
pub struct PairedArgs {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// The two sides, e.g. local-dataflow,local-tasks (the first is the baseline)
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., required = true)]
    pub backends: Vec<Backend>,
    /// Where the compare bundle goes [default: OUTPUT_DIR/comparison]
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
}

pub fn paired(args: &PairedArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let experiments = match args.runner.check_run_id().and_then(|_| args.runner.experiments()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sagereport: error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    if args.backends.len() != 2 || args.backends[0] == args.backends[1] {
        eprintln!("sagereport: error: --backends takes two different backends, e.g. --backends local-dataflow,local-tasks");
        return Ok(EXIT_USAGE);
    }
    let flags = args.runner.flags();
    let joined = experiments.join("+");
    let hash = config_hash(&joined, &flags);
    // Both sides share the invocation's run id (records pair up by it).
    let run_id = flags.run_id.clone().expect("flags() sets one");
    if args.runner.dry_run {
        if !global.json {
            outln!("run_id {run_id}, config hash {hash}");
        }
        print_plan(&experiments, &flags, &args.backends, global.json)?;
        return Ok(EXIT_OK);
    }
    let root = args.runner.output_dir.join("paired_backend_runs").join(format!("run_id={run_id}")).join(format!("config_hash={}", &hash[..16]));
    let report_dir = args.report_dir.clone().unwrap_or_else(|| args.runner.output_dir.join("comparison"));
    // Every folder this command writes is checked before any work: an
    // occupied one is refused (exit 2); everything else under -o is kept.
    for backend in &args.backends {
        let side = root.join("backends").join(backend.label());
        check_dir(&side, &[])?;
        for e in &experiments {
            check_dir(&side.join(e), &[])?;
        }
    }
    check_dir(&report_dir, &[root.clone()])?;
    crate::runner::sage::preflight(&args.backends, &flags)?;
    let mut ok = true;
    for backend in &args.backends {
        let side = root.join("backends").join(backend.label());
        let side_claim = claim_dir(&side, "paired", &[])?;
        side_claim.create_in_place()?;
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let result = run_into(&experiments, &flags, &[*backend], &|e, _| side.join(e), global).map(|(ok, _)| ok);
        let mut config = serde_json::json!({"seed": flags.seed, "nodes": flags.nodes, "parallelism": flags.parallelism});
        if let Some(s) = flags.scheduler {
            config["scheduler"] = serde_json::json!(s.label());
        }
        if let Some(n) = flags.num_tasks {
            config["items"] = serde_json::json!(n);
        }
        let mut doc = serde_json::json!({
            "run_id": run_id, "config_hash": hash, "backend": backend.label(), "config": config,
            "experiments": experiments, "started_at": started, "paths": {"results": side.display().to_string()},
        });
        let file = match &result {
            Ok(true) => {
                doc["status"] = serde_json::json!("success");
                "manifest.json"
            }
            Ok(false) => {
                doc["status"] = serde_json::json!("incomplete");
                ok = false;
                "manifest.json"
            }
            Err(e) => {
                doc["status"] = serde_json::json!("failed");
                doc["error"] = serde_json::json!(format!("{e:#}"));
                ok = false;
                eprintln!("sagereport: error: side {}: {e:#}", backend.label());
                "failure_report.json"
            }
        };
        // A side has one status file: drop the other one left by an earlier run.
        let other = if file == "manifest.json" { "failure_report.json" } else { "manifest.json" };
        let _ = std::fs::remove_file(side.join(other));
        std::fs::write(side.join(file), serde_json::to_string_pretty(&doc)? + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", side.join(file).display()))?;
        side_claim.seal()?;
    }
    let cli = super::Cli::try_parse_from([
        "sagereport".to_string(),
        "compare".into(),
        root.display().to_string(),
        "--baseline".into(),
        args.backends[0].label().into(),
        "--output-dir".into(),
        report_dir.display().to_string(),
        "--fail-on".into(),
        "mismatch".into(),
    ])?;
    let super::Command::Compare(compare_args) = &cli.command else { unreachable!() };
    let code = super::compare::run(compare_args, global)?;
    Ok(if !ok || code != EXIT_OK { super::EXIT_FINDINGS.max(code) } else { EXIT_OK })
}

pub const DEMO_EXAMPLES: &str = "Examples:
  sagereport demo                       # into demo/
  sagereport demo --output-dir /tmp/demo

Runs the quick suite (Q1–Q8, exp1–exp4) on both embedded models, then
compare (both models), tables (Tables 1–6 of the local-dataflow runs), site
and PDF, all into one folder; prints where index.html and summary.md are.
Under a minute on 2 cores.";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The folder everything goes into (results/, comparison/, tables/, site/, report.pdf)
    #[arg(long, short = 'o', value_name = "DIR", default_value = "demo")]
    pub output_dir: PathBuf,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Runs per configuration (3 gives intervals and verdicts)
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
}

pub fn demo(args: &DemoArgs, global: &GlobalArgs) -> anyhow::Result<u8> {
    let out = &args.output_dir;
    let results = out.join("results");
    let flags = RunFlags { quick: true, seed: args.seed, repeat: args.repeat, run_id: Some(crate::runner::provenance::new_run_id()), ..RunFlags::default() };
    let experiments: Vec<String> = EXPERIMENTS.iter().map(|s| s.to_string()).collect();
    let started = std::time::Instant::now();
    // Every output is checked before any work; results/ keeps files that are
    // not the runner's (each experiment's folder is replaced on its own).
    for e in &experiments {
        for b in [Backend::LocalDataflow, Backend::LocalTasks] {
            check_dir(&results.join(e).join(b.label()), &[])?;
        }
    }
    for dir in ["comparison", "tables", "site"] {
        check_dir(&out.join(dir), std::slice::from_ref(&results))?;
    }
    check_file(&out.join("report.pdf"), FileKind::Pdf, std::slice::from_ref(&results))?;
    let quiet = GlobalArgs { quiet: true, json: false, verbose: false, ..global.clone() };
    if global.text() {
        eprintln!("sagereport demo: running the quick suite on local-dataflow and local-tasks …");
    }
    let (ok, _) = run_all(&experiments, &flags, &[Backend::LocalDataflow, Backend::LocalTasks], &results, &quiet)?;
    let r = results.display().to_string();
    let steps: Vec<Vec<String>> = vec![
        vec!["compare".into(), r.clone(), "--baseline".into(), "local-dataflow".into(), "--output-dir".into(), out.join("comparison").display().to_string()],
        // The paper's tables describe one system: the dataflow model's runs.
        ["tables".to_string()]
            .into_iter()
            .chain(["exp1", "exp2", "exp3", "exp4"].iter().map(|e| results.join(e).join(Backend::LocalDataflow.label()).display().to_string()))
            .chain(["--output-dir".to_string(), out.join("tables").display().to_string()])
            .collect(),
        vec!["site".into(), "--report".into(), format!("demo={r}"), "--baseline".into(), "local-dataflow".into(), "--output-dir".into(), out.join("site").display().to_string()],
        vec!["pdf".into(), r.clone(), "--baseline".into(), "local-dataflow".into(), "--output".into(), out.join("report.pdf").display().to_string()],
    ];
    for step in &steps {
        if global.text() {
            eprintln!("sagereport demo: sagereport {}", step.join(" "));
        }
        let cli = super::Cli::try_parse_from(std::iter::once("sagereport".to_string()).chain(step.iter().cloned()))?;
        let code = match &cli.command {
            super::Command::Compare(a) => super::compare::run(a, &quiet)?,
            super::Command::Tables(a) => super::tables::run(a, &quiet)?,
            super::Command::Site(a) => super::site::run(a, &quiet)?,
            super::Command::Pdf(a) => super::pdf::run(a, &quiet)?,
            _ => unreachable!(),
        };
        if code == EXIT_USAGE {
            anyhow::bail!("demo step `sagereport {}` failed", step.join(" "));
        }
    }
    if global.json {
        print_json(&serde_json::json!({
            "schema_version": 1,
            "seconds": started.elapsed().as_secs_f64(),
            "site": out.join("site/index.html").display().to_string(),
            "summary": out.join("comparison/summary.md").display().to_string(),
            "tables": out.join("tables/tables.md").display().to_string(),
            "pdf": out.join("report.pdf").display().to_string(),
            "results": results.display().to_string(),
            "complete": ok,
        }))?;
    } else if !global.quiet {
        outln!("demo done in {:.1} s (fresh data from the embedded engine, both execution models):", started.elapsed().as_secs_f64());
        outln!("  site      {}", out.join("site/index.html").display());
        outln!("  summary   {}", out.join("comparison/summary.md").display());
        outln!("  tables    {}", out.join("tables/tables.md").display());
        outln!("  pdf       {}", out.join("report.pdf").display());
        outln!("  results   {}", results.display());
    }
    Ok(if ok { EXIT_OK } else { super::EXIT_FINDINGS })
}
