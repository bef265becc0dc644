//! The built-in runner (SPEC §6): executes the workload catalogue on the
//! embedded engine and writes result directories in exactly the formats
//! the rest of sagereport reads, so `run` → `compare` → `tables` → `site`
//! is one loop.
//!
//! Output of one experiment on one backend, `OUT/<experiment>/<backend>/`:
//! `unified_results.jsonl` and its `unified_results.csv` twin (one record
//! per workload × repeat), `repro_manifest.json` (seed, backend-neutral
//! config hash, warmup split, parity batch size, shuffle version, status)
//! and `task_latencies/<variant>[__<workload>]_r<k>.csv` (per item: total,
//! scheduling, queueing and execution ms). Run ids, host metadata and the
//! work identity come from [`provenance`].

pub mod engine;
pub mod ops;
pub mod provenance;
pub mod ray;
pub mod sage;
pub mod split;
pub mod workloads;

use crate::analysis::stats::quantile_type7;
use crate::model::config_hash::WorkloadShape;
use crate::model::{Scheduler, Sym};
use anyhow::Context;
use engine::{ItemResult, Job, Policy, RunOutcome, Submission};
use ops::{Complexity, Operators};
use serde_json::{json, Value};
use split::{Split, SHUFFLE_VERSION};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use workloads::{Arrivals, Groups, Spec};

/// Where a run executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Embedded engine, dataflow model (long-lived operator workers, bounded channels)
    LocalDataflow,
    /// Embedded engine, task model (every item × stage a task through a central scheduler)
    LocalTasks,
    /// An existing Ray cluster through its Jobs REST API
    Ray,
    /// SAGE itself (isage-kernel) in a local virtualenv: scripts/sage-local.sh up
    Sage,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::LocalDataflow => "local-dataflow",
            Backend::LocalTasks => "local-tasks",
            Backend::Ray => "ray",
            Backend::Sage => "sage",
        }
    }
}

/// The runner's flags (SPEC §6), shared by `run`, `paired` and `demo`.
#[derive(Clone, Debug)]
pub struct RunFlags {
    pub nodes: u32,
    pub parallelism: u32,
    pub repeat: u32,
    pub seed: u64,
    pub warmup_items: u64,
    pub parity_batch_size: u64,
    pub num_tasks: Option<u64>,
    pub scheduler: Option<Policy>,
    pub quick: bool,
    pub complexity: Complexity,
    pub llm_ratio: f64,
    pub request_rate: f64,
    /// The Ray dashboard (Jobs API) for `--backend ray`.
    pub ray_address: Option<String>,
    /// How long a Ray job may run before it is stopped.
    pub ray_timeout: Duration,
    /// An OpenAI-compatible server for the generate step, and its model.
    pub llm_endpoint: Option<String>,
    pub llm_model: Option<String>,
    /// The invocation's run id (`--run-id`); None = a fresh one per experiment run.
    pub run_id: Option<String>,
    /// The SAGE runtime for `--backend sage`.
    pub sage_runtime: sage::Runtime,
    /// How long the SAGE driver may run before it stops (and, a minute later, is killed).
    pub sage_timeout: Duration,
}

impl Default for RunFlags {
    fn default() -> Self {
        RunFlags {
            nodes: 1,
            parallelism: 2,
            repeat: 1,
            seed: 42,
            warmup_items: 0,
            parity_batch_size: 16,
            num_tasks: None,
            scheduler: None,
            quick: false,
            complexity: Complexity::Light,
            llm_ratio: 0.3,
            request_rate: 200.0,
            ray_address: None,
            ray_timeout: Duration::from_secs(1800),
            llm_endpoint: None,
            llm_model: None,
            run_id: None,
            sage_runtime: sage::Runtime::Local,
            sage_timeout: Duration::from_secs(1800),
        }
    }
}

/// The backend-neutral shape hash of one spec (the same function the
/// ingest uses, so `compare` sees exactly this hash): the shape fields and
/// the spec's `work_hash` (every other knob that changes the work).
pub fn shape_hash(spec: &Spec, workload: &str, flags: &RunFlags) -> String {
    WorkloadShape {
        workload: Sym::new(workload),
        seed: Some(flags.seed),
        nodes: spec.nodes,
        parallelism: spec.parallelism,
        num_tasks: Some(spec.num_tasks),
        warmup_items: Some(flags.warmup_items),
        parity_batch_size: Some(flags.parity_batch_size),
        scheduler: Scheduler::parse(spec.policy.label(), None),
        work: Some(Sym::new(&provenance::work_hash(spec, flags))),
    }
    .hash()
    .as_str()
    .to_string()
}

/// The backend-neutral hash of an experiment's configuration: every flag
/// that shapes the work, never the backend, output paths or verbosity.
pub fn config_hash(experiment: &str, flags: &RunFlags) -> String {
    let doc = json!({
        "experiment": experiment,
        "seed": flags.seed,
        "nodes": flags.nodes,
        "parallelism": flags.parallelism,
        "repeat": flags.repeat,
        "warmup_items": flags.warmup_items,
        "parity_batch_size": flags.parity_batch_size,
        "num_tasks": flags.num_tasks,
        "scheduler": flags.scheduler.map(|s| s.label()),
        "quick": flags.quick,
        "task_complexity": flags.complexity.label(),
        "llm_ratio": flags.llm_ratio,
        "request_rate": flags.request_rate,
        "llm_endpoint": flags.llm_endpoint,
        "llm_model": flags.llm_model,
        // Each spec's work identity (arrivals, bursts, pipelines, …).
        "work": experiment.split('+').map(|e| workloads::plan(e, flags).map(|specs| specs.iter().map(|s| provenance::work_hash(s, flags)).collect::<Vec<_>>()).unwrap_or_default()).collect::<Vec<_>>(),
        "shuffle": SHUFFLE_VERSION,
    });
    crate::model::config_hash::sha256_hex(&serde_json::to_string(&doc).expect("plain JSON"))
}

fn unit(seed: u64, item: u64, salt: u64) -> f64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&item.to_le_bytes(), seed ^ salt) as f64 / u64::MAX as f64
}

/// The submissions of one run of `spec` over `items` (already in shuffle
/// order), and each job's in-flight window (`usize::MAX`: open loop).
/// Every job runs the items (its repeats times over: Q3's aggressor), in
/// order, in parity batches of `spec.batch_size` counted within the job.
pub fn submissions(spec: &Spec, items: &[u64], seed: u64) -> (Vec<Submission>, usize) {
    let mut subs = Vec::with_capacity(items.len() * spec.jobs as usize);
    let mut poisson_clock = 0.0f64;
    let mut rng_state = seed ^ 0xA771;
    let batch_size = spec.batch_size.max(1);
    for job in 0..spec.jobs {
        let repeats = spec.job_repeats.get(job as usize).copied().unwrap_or(1).max(1) as u64;
        let in_job = (0..repeats).flat_map(|rep| items.iter().map(move |&base| base + rep * 100_000_000));
        for (k, base) in in_job.enumerate() {
            let item = base + job as u64 * 1_000_000;
            let pipeline = if spec.pipeline_by_job {
                (job as usize).min(spec.pipelines.len() - 1) as u8
            } else if spec.pipelines.len() > 1 && unit(seed, item, 0x919E) < spec.second_pipeline_share {
                1
            } else {
                0
            };
            let priority = u8::from(unit(seed, item, 0x7A1) < spec.high_priority_share);
            let arrival = match spec.arrivals {
                Arrivals::Closed { .. } => Duration::ZERO,
                Arrivals::Staggered { delay_ms, .. } => Duration::from_millis(delay_ms * job as u64),
                Arrivals::Bursts { size, every_ms } => Duration::from_millis((k / size.max(1)) as u64 * every_ms),
                Arrivals::Poisson { rate } => {
                    // Exponential gaps by inversion from a seeded SplitMix-style stream.
                    rng_state = rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let u =
                        (xxhash_rust::xxh3::xxh3_64(&rng_state.to_le_bytes()) as f64 + 1.0) / (u64::MAX as f64 + 2.0);
                    poisson_clock += -u.ln() / rate.max(1e-9);
                    Duration::from_secs_f64(poisson_clock)
                }
            };
            subs.push(Submission {
                item,
                pipeline,
                priority,
                job,
                batch: (k / batch_size) as u32,
                arrival,
            });
        }
    }
    subs.sort_by_key(|s| s.arrival); // stable: each job's order is kept
    let in_flight = match spec.arrivals {
        Arrivals::Closed { in_flight } | Arrivals::Staggered { in_flight, .. } => in_flight.max(1),
        Arrivals::Poisson { .. } | Arrivals::Bursts { .. } => usize::MAX,
    };
    (subs, in_flight)
}

/// Execute one spec once on an embedded backend.
pub fn execute(
    spec: &Spec,
    flags: &RunFlags,
    backend: Backend,
    ops: Arc<Operators>,
    split: &Split,
) -> anyhow::Result<RunOutcome> {
    let job_for = |items: &[u64]| {
        let (subs, in_flight) = submissions(spec, items, flags.seed);
        Job {
            node_speeds: spec.node_speeds.clone(),
            workers_per_node: spec.workers_per_node(),
            policy: spec.policy,
            pipelines: spec.pipelines.clone(),
            submissions: subs,
            max_in_flight: in_flight,
            closed_loop: spec.arrivals.closed_loop(),
            batch_size: spec.batch_size,
            faults: spec.faults,
            reconfig: spec.reconfig(),
            ops: ops.clone(),
            seed: flags.seed,
        }
    };
    let engine: fn(&Job) -> RunOutcome = match backend {
        Backend::LocalDataflow => engine::dataflow::run,
        Backend::LocalTasks => engine::tasks::run,
        Backend::Ray | Backend::Sage => anyhow::bail!(
            "the {} backend runs whole experiments (run_experiment), not single specs",
            backend.label()
        ),
    };
    if !split.warmup.is_empty() {
        let mut warm = job_for(&split.warmup);
        warm.faults = Default::default();
        warm.reconfig = None;
        let _ = engine(&warm);
    }
    Ok(engine(&job_for(&split.timed)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// 1 − σ/μ of per-node task counts (population σ), clamped at 0 (σ > μ
/// happens when a few nodes take everything); 1 = perfectly even.
pub fn balance(counts: &[u64]) -> f64 {
    if counts.is_empty() {
        return 1.0;
    }
    let n = counts.len() as f64;
    let mean = counts.iter().sum::<u64>() as f64 / n;
    if mean == 0.0 {
        return 1.0;
    }
    let var = counts.iter().map(|&c| (c as f64 - mean).powi(2)).sum::<f64>() / n;
    (1.0 - var.sqrt() / mean).max(0.0)
}

/// One record per group of a run's items.
pub struct RunRecords {
    pub records: Vec<Value>,
    /// (workload, per-item rows) for the task-latency files.
    pub latencies: Vec<(String, Vec<ItemResult>)>,
}

#[allow(clippy::too_many_arguments)]
/// The records of one run. Takes the outcome by value: its per-item
/// results move into the task-latency rows instead of being copied.
pub fn records(
    spec: &Spec,
    flags: &RunFlags,
    backend: Backend,
    repeat: u32,
    outcome: RunOutcome,
    split: &Split,
    timestamp: &str,
) -> RunRecords {
    let tasks_lost = outcome.tasks_lost();
    let RunOutcome {
        items,
        node_tasks,
        tasks_submitted,
        tasks_completed,
        tasks_failed,
        retries,
        interrupted,
        ..
    } = outcome;
    let groups: Vec<(String, Vec<ItemResult>)> = match &spec.groups {
        Groups::One => vec![(spec.workload.clone(), items)],
        Groups::Jobs(names) => {
            let mut by_job: Vec<Vec<ItemResult>> = vec![Vec::new(); names.len()];
            for item in items {
                if let Some(group) = by_job.get_mut(item.job as usize) {
                    group.push(item);
                }
            }
            names.iter().cloned().zip(by_job).collect()
        }
        Groups::Priority(high, low) => {
            let (h, l): (Vec<ItemResult>, Vec<ItemResult>) = items.into_iter().partition(|i| i.priority > 0);
            vec![(high.clone(), h), (low.clone(), l)]
        }
    };
    let mut out = RunRecords {
        records: Vec::new(),
        latencies: Vec::new(),
    };
    let total_balance = balance(&node_tasks);
    for (workload, items) in groups {
        if items.is_empty() {
            continue;
        }
        let ok: Vec<&ItemResult> = items.iter().filter(|i| !i.failed).collect();
        let mut lat: Vec<f64> = ok.iter().map(|i| ms(i.latency())).collect();
        lat.sort_by(f64::total_cmp);
        let first = items.iter().map(|i| i.arrival).min().unwrap_or_default();
        let last = items.iter().map(|i| i.done).max().unwrap_or_default();
        let span = last.saturating_sub(first).as_secs_f64().max(1e-6);
        let mean = |f: fn(&ItemResult) -> Duration| {
            if ok.is_empty() {
                0.0
            } else {
                ok.iter().map(|i| ms(f(i))).sum::<f64>() / ok.len() as f64
            }
        };
        let q = |p: f64| {
            if lat.is_empty() {
                Value::Null
            } else {
                json!(round(quantile_type7(&lat, p), 4))
            }
        };
        let mut meta = spec.meta.clone();
        let (_, window) = submissions(spec, &[], flags.seed);
        let generates = spec.pipelines.iter().any(|p| p.contains(&ops::OpKind::Generate));
        let distribution: serde_json::Map<String, Value> = node_tasks
            .iter()
            .enumerate()
            .map(|(n, c)| (format!("node{n}"), json!(c)))
            .collect();
        for (k, v) in [
            ("experiment", json!(spec.experiment)),
            ("scheduler", json!(spec.policy.label())),
            ("num_tasks", json!(spec.num_tasks)),
            ("warmup_items", json!(flags.warmup_items)),
            ("parity_batch_size", json!(flags.parity_batch_size)),
            ("deterministic_shuffle_version", json!(SHUFFLE_VERSION)),
            ("task_complexity", json!(spec.complexity.label())),
            ("execution_model", json!(backend.label())),
            (
                "avg_latency_ms",
                json!(round(
                    if lat.is_empty() {
                        0.0
                    } else {
                        lat.iter().sum::<f64>() / lat.len() as f64
                    },
                    4
                )),
            ),
            ("scheduling_ms", json!(round(mean(|i| i.scheduling), 4))),
            ("queue_ms", json!(round(mean(|i| i.queueing), 4))),
            ("execution_ms", json!(round(mean(|i| i.execution), 4))),
            ("transfer_ms", json!(round(mean(|i| i.transfer), 4))),
            (
                "llm_wait_ms",
                if generates {
                    json!(round(mean(|i| i.llm_wait), 4))
                } else {
                    Value::Null
                },
            ),
            (
                "llm_service_ms",
                if generates {
                    json!(round(mean(|i| i.llm_service), 4))
                } else {
                    Value::Null
                },
            ),
            (
                "load_model",
                json!(if spec.arrivals.closed_loop() {
                    "closed_loop"
                } else {
                    "open_loop"
                }),
            ),
            (
                "in_flight_window",
                if window == usize::MAX {
                    Value::Null
                } else {
                    json!(window)
                },
            ),
            ("jobs", json!(spec.jobs)),
            ("execution_slots_per_node", json!(spec.workers_per_node())),
            ("first_issue_s", json!(round(first.as_secs_f64(), 6))),
            ("last_done_s", json!(round(last.as_secs_f64(), 6))),
            ("balance_score", json!(round(total_balance, 4))),
            ("node_distribution", Value::Object(distribution)),
            ("items", json!(items.len())),
            ("items_failed", json!(items.len() - ok.len())),
            ("tasks_submitted", json!(tasks_submitted)),
            ("tasks_completed", json!(tasks_completed)),
            ("tasks_failed", json!(tasks_failed)),
            ("tasks_lost", json!(tasks_lost)),
            ("retries", json!(retries)),
            ("split_sha256", json!(split.digest())),
            ("status", json!(if interrupted { "incomplete" } else { "complete" })),
        ] {
            meta.insert(k.to_string(), v);
        }
        out.records.push(json!({
            "backend": backend.label(),
            "workload": workload,
            "run_id": format!("{}-s{}-r{}", spec.experiment, flags.seed, repeat),
            "seed": flags.seed,
            "nodes": spec.nodes,
            "parallelism": spec.parallelism,
            "throughput": round(ok.len() as f64 / span, 4),
            "latency_p50": q(0.50),
            "latency_p95": q(0.95),
            "latency_p99": q(0.99),
            "success_rate": round(ok.len() as f64 / items.len() as f64, 6),
            "duration_seconds": round(span, 6),
            "timestamp": timestamp,
            "config_hash": shape_hash(spec, &workload, flags),
            "backend_hash": null,
            "metadata": meta,
        }));
        out.latencies.push((format!("{workload}_r{repeat}"), items));
    }
    out
}

/// Write one experiment × backend folder atomically.
/// `splits` holds each workload's name and [`Split::digest`], in run order.
#[allow(clippy::too_many_arguments)]
pub fn write_results(
    dir: &Path,
    experiment: &str,
    flags: &RunFlags,
    backend: Backend,
    records: &[Value],
    latencies: &[(String, Vec<ItemResult>)],
    splits: &[(String, String)],
    complete: bool,
    prov: &provenance::Provenance,
) -> anyhow::Result<Vec<PathBuf>> {
    use std::fmt::Write as _;
    // The folder is this experiment's own: replaced only when absent, empty or
    // written by sagereport (the command checked it before running, too).
    crate::util::output::claim_dir(dir, "run", &[])?
        .replace(|tmp| {
            let mut jsonl = String::new();
            let mut csv = crate::model::raw::CSV_COLUMNS.join(",") + "\n";
            for r in records {
                jsonl.push_str(&serde_json::to_string(r)?);
                jsonl.push('\n');
                let cell = |k: &str| match &r[k] {
                    Value::Null => String::new(),
                    Value::String(s) => crate::util::escape::csv_cell(s).into_owned(),
                    v => v.to_string(),
                };
                let cells: Vec<String> = crate::model::raw::CSV_COLUMNS.iter().map(|k| cell(k)).collect();
                let _ = writeln!(csv, "{}", cells.join(","));
            }
            std::fs::write(tmp.join("unified_results.jsonl"), jsonl)?;
            std::fs::write(tmp.join("unified_results.csv"), csv)?;
            let mut manifest = json!({
                "run_id": prov.run_id,
                "seed": flags.seed,
                "config_hash": config_hash(experiment, flags),
                "warmup_items": flags.warmup_items,
                "parity_batch_size": flags.parity_batch_size,
                "deterministic_shuffle_version": SHUFFLE_VERSION,
                "experiment": experiment,
                "backend": backend.label(),
                "split_sha256": split::experiment_digest(splits),
                "splits": splits.iter().map(|(w, d)| json!({"workload": w, "split_sha256": d})).collect::<Vec<_>>(),
                "status": if complete { "complete" } else { "incomplete" },
                "tool": format!("sagereport {}", env!("CARGO_PKG_VERSION")),
                "host": prov.host,
            });
            for (k, v) in &prov.manifest {
                manifest[k] = v.clone();
            }
            std::fs::write(
                tmp.join("repro_manifest.json"),
                serde_json::to_string_pretty(&manifest)? + "\n",
            )?;
            std::fs::create_dir_all(tmp.join("task_latencies"))?;
            let mut used = std::collections::HashSet::new();
            for (name, items) in latencies {
                let mut t = format!("{}\n", ItemResult::TRACE_HEADER);
                for (i, it) in items.iter().enumerate() {
                    let _ = writeln!(t, "{}", it.trace_row(i));
                }
                // Names are unique by construction (provenance::trace_name); a slug
                // collision still never overwrites a trace.
                let slug = crate::util::text::slug(name);
                let file = (1..)
                    .map(|k| if k == 1 { slug.clone() } else { format!("{slug}-{k}") })
                    .find(|f| used.insert(f.clone()))
                    .expect("unbounded");
                std::fs::write(tmp.join("task_latencies").join(format!("{file}.csv")), t)?;
            }
            Ok(vec![
                dir.join("unified_results.jsonl"),
                dir.join("unified_results.csv"),
                dir.join("repro_manifest.json"),
            ])
        })
        .with_context(|| format!("{}: cannot write the results", dir.display()))
}

/// Cross-record facts of an experiment: Q3's victim latency inflation —
/// the victim's p99 beside the aggressor over its p99 alone, per repeat.
fn annotate(records: &mut [Value]) {
    let alone: Vec<(Value, f64)> = records
        .iter()
        .filter(|r| r["workload"] == "Q3_victim_alone")
        .filter_map(|r| Some((r["run_id"].clone(), r["latency_p99"].as_f64()?)))
        .collect();
    for r in records.iter_mut().filter(|r| r["workload"] == "Q3_victim") {
        let base = alone.iter().find(|(id, _)| *id == r["run_id"]).map(|(_, p)| *p);
        if let (Some(base), Some(p99)) = (base, r["latency_p99"].as_f64()) {
            if base > 0.0 {
                r["metadata"]["latency_inflation"] = json!(round(p99 / base, 4));
            }
        }
    }
}

/// What `run` did, for the caller's report.
pub struct ExperimentResult {
    pub experiment: String,
    pub dir: PathBuf,
    pub records: usize,
    pub complete: bool,
    pub tasks_submitted: u64,
    pub tasks_completed: u64,
    pub tasks_failed: u64,
}

/// Run one experiment on one backend and write its results into `dir`.
pub fn run_experiment(
    experiment: &str,
    flags: &RunFlags,
    backend: Backend,
    dir: &Path,
    progress: &dyn Fn(&str),
) -> anyhow::Result<ExperimentResult> {
    let specs = workloads::plan(experiment, flags)?;
    let mut prov = provenance::Provenance::new(flags);
    let variants = provenance::variant_labels(&specs);
    if backend == Backend::Ray {
        return run_experiment_ray(experiment, &specs, flags, dir, progress, prov, &variants);
    }
    if backend == Backend::Sage {
        return sage::run_experiment_sage(experiment, &specs, flags, dir, progress, prov, &variants);
    }
    let mut operators = Operators::new(flags.seed, flags.complexity);
    if let Some(url) = &flags.llm_endpoint {
        operators.llm = Some(ops::LlmEndpoint::connect(url, flags.llm_model.as_deref())?);
    }
    let llm_model = operators.llm.as_ref().map(|l| l.model.clone());
    let llm_service = operators.llm_service_description();
    prov.generator = provenance::generator_label(flags, llm_model.as_deref());
    prov.metadata
        .insert("op_cost_us".into(), provenance::op_costs(&operators));
    let ops = Arc::new(operators);
    let mut all = Vec::new();
    let mut lat = Vec::new();
    let mut complete = true;
    let (mut submitted, mut completed, mut failed) = (0, 0, 0);
    let mut splits = Vec::new();
    for (v, spec) in specs.iter().enumerate() {
        let split = Split::new(
            flags.seed,
            flags.warmup_items,
            spec.num_tasks,
            flags.parity_batch_size as usize,
        );
        splits.push((spec.workload.clone(), split.digest()));
        for r in 1..=flags.repeat.max(1) {
            if engine::stop_requested() {
                complete = false;
                break;
            }
            progress(&format!("{experiment} {} r{r}", spec.workload));
            let outcome = execute(spec, flags, backend, ops.clone(), &split)?;
            complete &= !outcome.interrupted;
            submitted += outcome.tasks_submitted;
            completed += outcome.tasks_completed;
            failed += outcome.tasks_failed;
            let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let mut rr = records(spec, flags, backend, r, outcome, &split, &ts);
            if spec.pipelines.iter().any(|p| p.contains(&ops::OpKind::Generate)) {
                for rec in &mut rr.records {
                    rec["metadata"]["llm_service"] = llm_service.clone();
                }
            }
            provenance::stamp(&mut rr, spec, &variants[v], flags, r, &prov);
            if let Some(model) = &llm_model {
                for rec in &mut rr.records {
                    rec["metadata"]["llm_endpoint"] = json!(flags.llm_endpoint);
                    rec["metadata"]["llm_model"] = json!(model);
                }
            }
            all.extend(rr.records);
            lat.extend(rr.latencies);
        }
    }
    annotate(&mut all);
    let dir = dir.to_path_buf();
    write_results(&dir, experiment, flags, backend, &all, &lat, &splits, complete, &prov)?;
    Ok(ExperimentResult {
        experiment: experiment.to_string(),
        dir,
        records: all.len(),
        complete,
        tasks_submitted: submitted,
        tasks_completed: completed,
        tasks_failed: failed,
    })
}

/// The submissions of a run as the Ray driver reads them.
fn ray_items(subs: &[Submission]) -> Vec<Value> {
    subs.iter()
        .map(|s| json!({"item": s.item, "pipeline": s.pipeline, "priority": s.priority, "job": s.job, "batch": s.batch, "arrival_ms": s.arrival.as_secs_f64() * 1000.0}))
        .collect()
}

/// What the Ray side emulates of the embedded engine, written into every
/// Ray record so none claims a condition that did not run.
fn ray_emulation(generator: &Value) -> Value {
    json!({
        "nodes": "emulated: one driver-side queue per configured node, tasks placed by the embedded engine's policy code; node i pinned to Ray node i mod M (soft affinity) — the real cluster is ray_cluster",
        "parallelism": "enforced: at most workers_per_node tasks of a node submitted to Ray at a time (window nodes x workers_per_node), each asking for CPUs/window of a CPU",
        "node_speeds": "emulated: a task on a node of speed s does its work round(1/s) times, as the embedded engine",
        "outage": "emulated: the node takes no placement between the completed-task marks; its queued tasks are re-placed; running ones finish",
        "reconfiguration": "emulated: workers per node change at the completed-task mark",
        "generator": if generator["kind"] == "endpoint" { "the LLM endpoint, called from the Ray workers" } else { "the embedded inference endpoint's model (K sequence slots, per-token service time), as one Ray actor shared by every task; the call's round trip counts as waiting" },
        "jobs": "emulated: one driver per job with its own window, started together or at its stagger delay",
        "parity_batches": "emulated: each job issues its timed items in batches of the parity batch size, as the embedded engine",
        "clock": "one clock: the driver's; execution measured inside the task",
    })
}

/// The generate step as a Python driver (Ray's, SAGE's) runs it: the LLM
/// endpoint (its model resolved here, so a wrong address fails before the
/// job), else the embedded endpoint's service model. Sets the generator
/// dimension to what the embedded engine would name for the same flags.
pub(crate) fn driver_generator(flags: &RunFlags, prov: &mut provenance::Provenance) -> anyhow::Result<Value> {
    Ok(match &flags.llm_endpoint {
        Some(url) => {
            let llm = ops::LlmEndpoint::connect(url, flags.llm_model.as_deref())?;
            prov.generator = provenance::generator_label(flags, Some(&llm.model));
            prov.metadata.insert("llm_endpoint".into(), json!(url));
            prov.metadata.insert("llm_model".into(), json!(llm.model));
            json!({"kind": "endpoint", "url": url.trim_end_matches('/').trim_end_matches("/v1"), "model": llm.model})
        }
        None => {
            prov.generator = provenance::generator_label(flags, None);
            let m = ops::ServiceModel::default();
            json!({"kind": "service", "slots": m.slots, "overhead_ms": m.overhead_ms, "prefill_ms_per_token": m.prefill_ms_per_token, "decode_ms_per_token": m.decode_ms_per_token})
        }
    })
}

/// The `llm_service` metadata of a Python driver's records (as the embedded
/// engine's, [`Operators::llm_service_description`]), for workloads that
/// generate; `Null` otherwise.
pub(crate) fn driver_llm_service(spec: &Spec, generator: &Value, complexity: Complexity, runs_as: &str) -> Value {
    if !spec.pipelines.iter().any(|p| p.contains(&ops::OpKind::Generate)) {
        return Value::Null;
    }
    let mut doc = match generator["kind"].as_str() {
        Some("endpoint") => {
            json!({"kind": "openai_compatible", "endpoint": generator["url"], "model": generator["model"]})
        }
        _ => ops::ServiceModel::default().description(complexity),
    };
    doc["runs_as"] = json!(runs_as);
    doc
}

/// A Python driver's run (Ray's, SAGE's) as the engine's outcome; it is
/// interrupted when fewer than `expected` items came back or it timed out.
pub(crate) fn driver_outcome(res: &Value, expected: usize) -> RunOutcome {
    let secs = |v: &Value| Duration::from_secs_f64(v.as_f64().unwrap_or(0.0).max(0.0));
    let items = driver_items(res);
    RunOutcome {
        interrupted: items.len() < expected || res["timed_out"].as_bool().unwrap_or(false),
        items,
        // Every emulated node, idle ones included.
        node_tasks: res["node_tasks"]
            .as_array()
            .map(|a| a.iter().map(|c| c.as_u64().unwrap_or(0)).collect())
            .unwrap_or_default(),
        tasks_submitted: res["tasks_submitted"].as_u64().unwrap_or(0),
        tasks_completed: res["tasks_completed"].as_u64().unwrap_or(0),
        tasks_failed: res["tasks_failed"].as_u64().unwrap_or(0),
        retries: res["retries"].as_u64().unwrap_or(0),
        wall: secs(&res["wall_s"]),
    }
}

/// A Python driver's per-item results (Ray's, SAGE's) as the engine's.
pub(crate) fn driver_items(res: &Value) -> Vec<ItemResult> {
    let secs = |v: &Value| Duration::from_secs_f64(v.as_f64().unwrap_or(0.0).max(0.0));
    res["items"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| ItemResult {
            item: v["item"].as_u64().unwrap_or(0),
            job: v["job"].as_u64().unwrap_or(0) as u16,
            priority: v["priority"].as_u64().unwrap_or(0) as u8,
            arrival: secs(&v["arrival_s"]),
            done: secs(&v["done_s"]),
            batch: v["batch"].as_u64().unwrap_or(0) as u32,
            llm_wait: secs(&v["llm_wait_s"]),
            llm_service: secs(&v["llm_service_s"]),
            scheduling: secs(&v["scheduling_s"]),
            queueing: secs(&v["queueing_s"]),
            execution: secs(&v["execution_s"]),
            transfer: secs(&v["transfer_s"]),
            attempts: v["attempts"].as_u64().unwrap_or(0) as u32,
            failed: v["failed"].as_bool().unwrap_or(true),
            digest: v["digest"].as_u64().unwrap_or(0),
        })
        .collect()
}

/// One experiment on Ray: every spec × repeat in one job (one driver start).
#[allow(clippy::too_many_arguments)]
fn run_experiment_ray(
    experiment: &str,
    specs: &[Spec],
    flags: &RunFlags,
    dir: &Path,
    progress: &dyn Fn(&str),
    mut prov: provenance::Provenance,
    variants: &[String],
) -> anyhow::Result<ExperimentResult> {
    let address = flags.ray_address.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "--backend ray needs --ray-address http://HOST:8265 (or RAY_ADDRESS); {}",
            ray::START_HINT
        )
    })?;
    let client = ray::RayClient::connect(&address)?;
    let generator = driver_generator(flags, &mut prov)?;
    let mut runs = Vec::new();
    let mut keys = Vec::new();
    let splits: Vec<Split> = specs
        .iter()
        .map(|s| {
            Split::new(
                flags.seed,
                flags.warmup_items,
                s.num_tasks,
                flags.parity_batch_size as usize,
            )
        })
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        let (subs, in_flight) = submissions(spec, &splits[i].timed, flags.seed);
        let (warm, _) = submissions(spec, &splits[i].warmup, flags.seed);
        for r in 1..=flags.repeat.max(1) {
            let key = format!("{i}-r{r}");
            runs.push(json!({
                "key": key,
                "workload": spec.workload,
                "policy": spec.policy.label(),
                "node_speeds": spec.node_speeds,
                "workers_per_node": spec.workers_per_node(),
                "closed": matches!(spec.arrivals, Arrivals::Closed { .. } | Arrivals::Staggered { .. }),
                "max_in_flight": in_flight.min(1 << 30),
                "batch_size": spec.batch_size,
                "pipelines": spec.pipelines.iter().map(|p| p.iter().map(|o| o.label()).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "fail_rate": spec.faults.fail_rate,
                "max_retries": spec.faults.max_retries,
                "outage": spec.faults.outage.map(|(node, from, to)| json!({"node": node, "from": from, "to": to})),
                "reconfig": spec.reconfig().map(|rc| json!({"at": rc.at, "workers_per_node": rc.workers_per_node})),
                "warmup": ray_items(&warm),
                "items": ray_items(&subs),
            }));
            keys.push((i, r, key));
        }
    }
    let doc = json!({"seed": flags.seed, "complexity": flags.complexity.label(), "experiment": experiment, "generator": generator, "runs": runs});
    let spec_json = serde_json::to_vec(&doc)?;
    progress(&format!("{experiment}: uploading the driver to {}", client.address()));
    let uri = client.upload_package(&[("driver.py", ray::DRIVER.as_bytes()), ("spec.json", &spec_json)])?;
    let id = format!(
        "sagereport-{}-{}-{}",
        experiment.to_lowercase(),
        &config_hash(experiment, flags)[..8],
        chrono::Utc::now().timestamp_millis()
    );
    let id = client.submit(ray::ENTRYPOINT, &uri, &id)?;
    let job = client.wait(&id, flags.ray_timeout, progress)?;
    let results = ray::results_of(&job.logs);
    // The real cluster, as the driver saw it.
    let mut cluster = ray::cluster_of(&job.logs)
        .unwrap_or_else(|| json!({"ray_version": client.ray_version, "unknown": "the driver printed no cluster line"}));
    let op_costs = cluster
        .as_object_mut()
        .and_then(|m| m.remove("op_cost_us"))
        .unwrap_or(Value::Null);
    prov.metadata.insert("ray_version".into(), json!(client.ray_version));
    prov.metadata.insert("ray_job_id".into(), json!(job.id));
    prov.metadata.insert("ray_cluster".into(), cluster.clone());
    prov.metadata.insert("op_cost_us".into(), op_costs);
    prov.metadata.insert("emulation".into(), ray_emulation(&generator));
    prov.manifest.insert("ray_cluster".into(), cluster);
    prov.manifest.insert("ray_job_id".into(), json!(job.id));
    let mut all = Vec::new();
    let mut lat = Vec::new();
    let (mut submitted, mut completed, mut failed) = (0, 0, 0);
    let mut complete = job.status == "SUCCEEDED";
    for (i, r, key) in &keys {
        let Some(res) = results.iter().find(|v| v["key"] == key.as_str()) else {
            complete = false;
            continue;
        };
        let outcome = driver_outcome(res, specs[*i].num_tasks as usize * specs[*i].jobs as usize);
        complete &= !outcome.interrupted;
        submitted += outcome.tasks_submitted;
        completed += outcome.tasks_completed;
        failed += outcome.tasks_failed;
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut rr = records(&specs[*i], flags, Backend::Ray, *r, outcome, &splits[*i], &ts);
        provenance::stamp(&mut rr, &specs[*i], &variants[*i], flags, *r, &prov);
        let run_facts = ray::run_facts(res);
        let service = driver_llm_service(
            &specs[*i],
            &generator,
            flags.complexity,
            "one Ray actor shared by every task of the job",
        );
        for rec in &mut rr.records {
            if let Some(meta) = rec["metadata"].as_object_mut() {
                meta.extend(run_facts.clone());
                if !service.is_null() {
                    meta.insert("llm_service".into(), service.clone());
                }
            }
        }
        all.extend(rr.records);
        lat.extend(rr.latencies);
    }
    annotate(&mut all);
    let digests: Vec<(String, String)> = specs
        .iter()
        .zip(&splits)
        .map(|(spec, split)| (spec.workload.clone(), split.digest()))
        .collect();
    write_results(
        dir,
        experiment,
        flags,
        Backend::Ray,
        &all,
        &lat,
        &digests,
        complete,
        &prov,
    )?;
    Ok(ExperimentResult {
        experiment: experiment.to_string(),
        dir: dir.to_path_buf(),
        records: all.len(),
        complete,
        tasks_submitted: submitted,
        tasks_completed: completed,
        tasks_failed: failed,
    })
}

/// Engine dispatch speed: `tasks` trivial (no-op) tasks through one node of
/// two workers; returns the wall time. For `bench --stage dispatch`.
pub fn dispatch_benchmark(backend: Backend, tasks: u64) -> anyhow::Result<Duration> {
    let ops = Arc::new(Operators::new(1, Complexity::Light));
    let job = Job {
        node_speeds: vec![1.0],
        workers_per_node: 2,
        policy: Policy::LoadAwareSpread,
        pipelines: vec![vec![ops::OpKind::Noop]],
        submissions: (0..tasks)
            .map(|item| Submission {
                item,
                pipeline: 0,
                priority: 0,
                job: 0,
                batch: 0,
                arrival: Duration::ZERO,
            })
            .collect(),
        max_in_flight: 4096,
        closed_loop: true,
        batch_size: usize::MAX,
        faults: Default::default(),
        reconfig: None,
        ops,
        seed: 1,
    };
    let outcome = match backend {
        Backend::LocalDataflow => engine::dataflow::run(&job),
        Backend::LocalTasks => engine::tasks::run(&job),
        Backend::Ray | Backend::Sage => anyhow::bail!("dispatch benchmark: the embedded models only"),
    };
    anyhow::ensure!(outcome.tasks_completed == tasks, "dispatch benchmark lost tasks");
    Ok(outcome.wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_is_one_minus_coefficient_of_variation() {
        assert_eq!(balance(&[5, 5, 5, 5]), 1.0);
        // counts 2, 4: mean 3, population sd 1 → 1 − 1/3
        assert!((balance(&[2, 4]) - (1.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(balance(&[0, 0]), 1.0);
        assert_eq!(balance(&[100, 0, 0, 0, 0, 0]), 0.0, "clamped");
    }

    #[test]
    fn q3_victim_gets_its_latency_inflation() {
        let mut recs = vec![
            json!({"workload": "Q3_victim_alone", "run_id": "Q3-s42-r1", "latency_p99": 10.0, "metadata": {}}),
            json!({"workload": "Q3_victim", "run_id": "Q3-s42-r1", "latency_p99": 25.0, "metadata": {}}),
        ];
        annotate(&mut recs);
        assert_eq!(recs[1]["metadata"]["latency_inflation"], 2.5);
        assert!(recs[0]["metadata"].get("latency_inflation").is_none());
    }

    #[test]
    fn config_hash_ignores_the_backend() {
        let f = RunFlags::default();
        assert_eq!(config_hash("Q1", &f), config_hash("Q1", &f.clone()));
        let mut g = f.clone();
        g.seed = 7;
        assert_ne!(config_hash("Q1", &f), config_hash("Q1", &g));
    }
}
