//! The `sage` backend: the same workloads on SAGE itself, through its
//! published kernel (`isage-kernel` on PyPI), in a local virtualenv.
//!
//! A run writes `driver.py` (kept in this folder, embedded in the binary),
//! the Ray driver as `ray_ops.py` (its operators, so both backends run the
//! same per-item work) and a `spec.json` with the items, batches and
//! settings (the document the Ray driver reads, plus the runtime and the
//! timeout) into a fresh work folder, starts `python driver.py spec.json
//! result.json sage/` there in the SAGE virtualenv, and reads `result.json`
//! back — never the logs, which SAGE fills. The driver is bounded twice: it
//! stops itself at `--sage-timeout`, and sagereport kills its process group
//! a minute later if it has not exited; a failed or killed driver is
//! reported with the last lines of its log and nothing is written as
//! complete.

use super::split::Split;
use super::workloads::Spec;
use super::{annotate, ray_items, records, submissions, write_results, Backend, ExperimentResult, RunFlags};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The driver program.
pub const DRIVER: &str = include_str!("driver.py");

/// The `isage-kernel` version `scripts/sage-local.sh` installs and the driver was written against.
pub const PINNED_VERSION: &str = "0.2.5.3";

/// How to create the virtualenv, for error messages.
pub const SETUP_HINT: &str = "create it with `scripts/sage-local.sh up` (a Python 3.11 virtualenv with isage-kernel==0.2.5.3 in ~/.cache/sagereport/sage-venv) and eval what it prints, or point SAGEREPORT_SAGE_VENV at a virtualenv with isage-kernel installed";

/// Which SAGE runtime executes the pipelines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// `LocalEnvironment`: every operator instance a thread of the driver process
    #[default]
    Local,
    /// `FluttyEnvironment` (distributed; needs the `flutty` package — untested)
    Flutty,
}

impl Runtime {
    pub fn label(self) -> &'static str {
        match self {
            Runtime::Local => "local",
            Runtime::Flutty => "flutty",
        }
    }
}

/// A usable SAGE installation.
#[derive(Clone, Debug)]
pub struct Installation {
    pub venv: PathBuf,
    pub python: PathBuf,
    pub version: String,
}

/// The virtualenv sagereport uses: `$SAGEREPORT_SAGE_VENV`, else `~/.cache/sagereport/sage-venv`.
pub fn venv_path() -> PathBuf {
    match std::env::var_os("SAGEREPORT_SAGE_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache/sagereport/sage-venv"),
    }
}

/// Find the virtualenv and check that SAGE's kernel imports (and, for
/// `flutty`, that the runtime package is there). Fails with the command
/// that creates it.
pub fn locate(runtime: Runtime) -> anyhow::Result<Installation> {
    locate_in(&venv_path(), runtime)
}

fn locate_in(venv: &Path, runtime: Runtime) -> anyhow::Result<Installation> {
    let venv = venv.to_path_buf();
    let python = venv.join("bin/python");
    if !python.exists() {
        bail!(
            "--backend sage needs a SAGE virtualenv, and {} has none; {SETUP_HINT}",
            venv.display()
        );
    }
    let probe = "import importlib.metadata as m, sage.kernel.api, sage.kernel.scheduler.impl, sage.common.core; print(m.version('isage-kernel'))";
    let out = Command::new(&python)
        .args(["-c", probe])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start {}", python.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        bail!(
            "the virtualenv {} cannot import SAGE's kernel ({last}); {SETUP_HINT}",
            venv.display()
        );
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if runtime == Runtime::Flutty {
        let ok = Command::new(&python)
            .args(["-c", "import flutty"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            bail!("--sage-runtime flutty needs the `flutty` package (SAGE's distributed runtime) in {}, and it is not installed; it is not on the public package index — install it from SAGE's distribution, or use --sage-runtime local", venv.display());
        }
    }
    Ok(Installation { venv, python, version })
}

/// Fail before any work when a backend of the run cannot start (the
/// command's error exits 2).
pub fn preflight(backends: &[Backend], flags: &RunFlags) -> anyhow::Result<()> {
    if backends.contains(&Backend::Sage) {
        locate(flags.sage_runtime)?;
    }
    Ok(())
}

/// The last `n` lines of `text` that are not blank.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Kill the driver's whole process group (it runs in its own).
fn kill_group(child: &mut std::process::Child) {
    // SAFETY: kill(2) on the process group this function's caller created
    // for the child (process_group(0): pgid = child pid); no memory is touched.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One experiment on SAGE: every spec × repeat in one driver process.
pub(super) fn run_experiment_sage(
    experiment: &str,
    specs: &[Spec],
    flags: &RunFlags,
    dir: &Path,
    progress: &dyn Fn(&str),
    mut prov: super::provenance::Provenance,
    variants: &[String],
) -> anyhow::Result<ExperimentResult> {
    let sage = locate(flags.sage_runtime)?;
    let generator = super::driver_generator(flags, &mut prov)?;
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
    let mut runs = Vec::new();
    let mut keys = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let (subs, in_flight) = submissions(spec, &splits[i].timed, flags.seed);
        let (warm, _) = submissions(spec, &splits[i].warmup, flags.seed);
        for r in 1..=flags.repeat.max(1) {
            let key = format!("{i}-r{r}");
            runs.push(json!({
                "key": key,
                "workload": spec.workload,
                "policy": spec.policy.label(),
                "workers": spec.parallelism,
                "node_speeds": spec.node_speeds,
                "closed": spec.arrivals.closed_loop(),
                "max_in_flight": in_flight.min(1 << 30),
                "batch_size": spec.batch_size,
                "pipelines": spec.pipelines.iter().map(|p| p.iter().map(|o| o.label()).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "fail_rate": spec.faults.fail_rate,
                "max_retries": spec.faults.max_retries,
                "reconfig": spec.reconfig().map(|rc| json!({"at": rc.at, "workers": rc.workers_per_node * spec.nodes as usize})),
                "outage": spec.faults.outage.map(|(node, from, to)| json!({"node": node, "from": from, "to": to})),
                "warmup": ray_items(&warm),
                "items": ray_items(&subs),
            }));
            keys.push((i, r, key));
        }
    }
    let timeout = flags.sage_timeout;
    let doc = json!({
        "seed": flags.seed, "complexity": flags.complexity.label(), "experiment": experiment,
        "generator": generator,
        "runtime": flags.sage_runtime.label(), "timeout_s": timeout.as_secs_f64(), "runs": runs,
    });
    let work = std::env::temp_dir().join(format!(
        "sagereport-sage-{}-{}-{}",
        experiment.to_lowercase(),
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(work.join("sage"))
        .with_context(|| format!("cannot create the driver's work folder {}", work.display()))?;
    std::fs::write(work.join("driver.py"), DRIVER)?;
    std::fs::write(work.join("ray_ops.py"), super::ray::DRIVER)?;
    std::fs::write(work.join("spec.json"), serde_json::to_vec(&doc)?)?;
    let log_path = work.join("driver.log");
    let log = std::fs::File::create(&log_path)?;
    progress(&format!(
        "{experiment}: SAGE {} ({}) driver in {}",
        sage.version,
        flags.sage_runtime.label(),
        work.display()
    ));
    let mut child = {
        use std::os::unix::process::CommandExt as _;
        Command::new(&sage.python)
            .args(["driver.py", "spec.json", "result.json", "sage"])
            .current_dir(&work)
            .env("SAGE_OUTPUT_DIR", work.join("sage"))
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", sage.python.display()))?
    };
    // The driver stops itself at the timeout; a minute later (or
    // SAGEREPORT_SAGE_KILL_GRACE seconds: tests) it is killed.
    let grace = std::env::var("SAGEREPORT_SAGE_KILL_GRACE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60u64);
    let hard = timeout + Duration::from_secs(grace);
    let started = Instant::now();
    let mut interrupted = false;
    let mut shown = usize::MAX;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if super::engine::stop_requested() {
            kill_group(&mut child);
            interrupted = true;
            break None;
        }
        if started.elapsed() > hard {
            kill_group(&mut child);
            let logs = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!(
                "the SAGE driver did not finish within {} s (--sage-timeout {} + {grace} s); it was killed (work folder kept: {})\n--- last lines of its log ---\n{}",
                hard.as_secs(),
                timeout.as_secs(),
                work.display(),
                tail(&logs, 25)
            );
        }
        let done = std::fs::read_to_string(work.join("result.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|d| d["runs"].as_array().map(|a| a.len()))
            .unwrap_or(0);
        if done != shown {
            progress(&format!("sage driver: {done}/{} runs", keys.len()));
            shown = done;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let result: Option<Value> = std::fs::read_to_string(work.join("result.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let fail = |what: String| -> anyhow::Error {
        let logs = std::fs::read_to_string(&log_path).unwrap_or_default();
        anyhow::anyhow!(
            "{what} (work folder kept: {})\n--- last lines of its log ---\n{}",
            work.display(),
            tail(&logs, 25)
        )
    };
    if !interrupted {
        let status = status.expect("exited");
        let complete = result.as_ref().is_some_and(|d| d["complete"] == true);
        if !status.success() || !complete {
            let why = match (status.code(), result.as_ref().and_then(|d| d["timed_out"].as_str())) {
                (_, Some(key)) => format!(
                    "the SAGE driver stopped run {key} at --sage-timeout {} s before every item reached the sink",
                    timeout.as_secs()
                ),
                (Some(code), _) => format!("the SAGE driver failed (exit {code})"),
                (None, _) => "the SAGE driver was killed by a signal".to_string(),
            };
            return Err(fail(why));
        }
    }
    let result = match result {
        Some(r) => r,
        None if interrupted => json!({"runs": []}),
        None => return Err(fail("the SAGE driver wrote no result.json".into())),
    };
    let empty = Vec::new();
    let results = result["runs"].as_array().unwrap_or(&empty);
    let mut all = Vec::new();
    let mut lat = Vec::new();
    let (mut submitted, mut completed, mut failed) = (0, 0, 0);
    let mut complete = !interrupted;
    for (i, r, key) in &keys {
        let Some(res) = results.iter().find(|v| v["key"] == key.as_str()) else {
            complete = false;
            continue;
        };
        let outcome = super::driver_outcome(res, specs[*i].num_tasks as usize * specs[*i].jobs as usize);
        complete &= !outcome.interrupted;
        submitted += outcome.tasks_submitted;
        completed += outcome.tasks_completed;
        failed += outcome.tasks_failed;
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut rr = records(&specs[*i], flags, Backend::Sage, *r, outcome, &splits[*i], &ts);
        super::provenance::stamp(&mut rr, &specs[*i], &variants[*i], flags, *r, &prov);
        let service = super::driver_llm_service(
            &specs[*i],
            &generator,
            flags.complexity,
            "in the SAGE driver process, shared by every operator instance",
        );
        for rec in &mut rr.records {
            let m = &mut rec["metadata"];
            m["sage_version"] = result["sage_version"].clone();
            m["sage_runtime"] = res["runtime"].clone();
            m["sage_scheduler"] = res["sage_scheduler"].clone();
            m["sage_scheduler_params"] = res["sage_scheduler_params"].clone();
            m["sage_parallelism"] = res["sage_parallelism"].clone();
            m["sage_deploy_seconds"] = res["deploy_s"].clone();
            m["sage_env_stopped"] = res["env_stopped"].clone();
            // What ran on SAGE and what did not: a record never claims a condition that did not run.
            m["emulation"] = json!({
                "nodes": "emulated: operator instance i is pinned to node i mod nodes; one SAGE LocalEnvironment runs them all (the host is in `host`)",
                "node_speeds": "emulated: an instance on a node of speed s does an item's local work round(1/s) times, as the embedded engine",
                "generator": if generator["kind"] == "endpoint" { "the LLM endpoint, called from the operators" } else { "the embedded inference endpoint's model (K sequence slots, per-token service time), in the driver process, shared by every instance" },
                "outage": "approximated: between the completed-task marks the node's share of the workers is removed; SAGE's router still hands items to its instances, which wait for a free worker instead of being re-placed",
                "reconfiguration": "approximated: the larger worker count is deployed and its use limited until the mark",
                "jobs": "emulated: one driver per job with its own window, started together or at its stagger delay, in the source",
                "parity_batches": "emulated: each job issues its timed items in batches of the parity batch size, as the embedded engine",
                "clock": "one clock: the driver's, stamped inside the pipeline",
            });
            if !res["outage"].is_null() {
                m["outage_observed"] = res["outage"].clone();
            }
            if !service.is_null() {
                m["llm_service"] = service.clone();
            }
            m["python_version"] = result["python"].clone();
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
        Backend::Sage,
        &all,
        &lat,
        &digests,
        complete,
        &prov,
    )?;
    if complete {
        let _ = std::fs::remove_dir_all(&work);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_non_blank_lines() {
        assert_eq!(tail("a\n\nb\nc\n  \nd\n", 2), "c\nd");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn a_missing_virtualenv_names_the_command_that_creates_it() {
        // Through the function, not the environment (tests run in parallel).
        let err = format!(
            "{:#}",
            locate_in(Path::new("/nonexistent/sage-venv"), Runtime::Local).unwrap_err()
        );
        assert!(err.contains("scripts/sage-local.sh up"), "{err}");
    }

    #[test]
    fn outcome_reads_the_driver_items_and_flags_missing_ones() {
        let res = json!({"items": [{"item": 3, "job": 0, "priority": 1, "arrival_s": 0.0, "done_s": 0.5, "scheduling_s": 0.01, "queueing_s": 0.02, "execution_s": 0.1, "attempts": 4, "failed": false, "digest": 9}, null],
            "node_tasks": [4, 0], "tasks_submitted": 4, "tasks_completed": 4, "tasks_failed": 0, "retries": 0, "wall_s": 0.5, "timed_out": false});
        let o = super::super::driver_outcome(&res, 2);
        assert_eq!(o.items.len(), 1);
        assert!(o.interrupted, "one item never reached the sink");
        assert_eq!(o.items[0].latency(), Duration::from_millis(500));
        assert_eq!(o.node_tasks, vec![4, 0], "idle nodes count");
    }
}
