//! Provenance and identity of a run (issue 16 §6–7), kept apart from the
//! engines and `records()` so both change independently:
//!
//! - the **run id** of an invocation (`--run-id`, or UTC time + a random
//!   suffix), from which every record's `run_id` is made;
//! - **host metadata** (host name, logical cores, CPU model, memory, OS,
//!   tool version), in every record and in `repro_manifest.json`;
//! - the **work identity** of a spec: every knob that changes the work
//!   (task complexity, arrival model, rate and burst shape, LLM ratio,
//!   generator, pipelines, node speeds, faults…), recorded as dimensions
//!   `compare` checks by name and digested into `work_hash`, which the
//!   backend-neutral shape hash covers;
//! - **trace names** that tell variants and repeats apart;
//! - the measured **per-item cost of each operator** on this host, so a
//!   reader sees what one item costs on each backend.

use super::ops::{OpKind, Operators, Payload};
use super::workloads::{Arrivals, Spec};
use super::{RunFlags, RunRecords};
use serde_json::{json, Map, Value};
use std::time::Instant;

/// A fresh run id: UTC time to the second and 6 hex digits of entropy
/// (`20261129T235012Z-3f9a1c`). Unique per invocation; not reproducible by
/// design (`--run-id` sets it).
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now();
    let mut noise = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut noise);
    }
    let stack = &noise as *const _ as u64;
    let mix = [
        now.timestamp_nanos_opt().unwrap_or_default() as u64,
        std::process::id() as u64,
        CALLS.fetch_add(1, Ordering::Relaxed),
        u64::from_le_bytes(noise),
        stack,
    ];
    let bytes: Vec<u8> = mix.iter().flat_map(|x| x.to_le_bytes()).collect();
    let suffix = xxhash_rust::xxh3::xxh3_64(&bytes) & 0xFF_FFFF;
    format!("{}-{suffix:06x}", now.format("%Y%m%dT%H%M%SZ"))
}

/// A `--run-id` must be usable in a folder name (`run_id=<id>`).
pub fn check_run_id(id: &str) -> Result<(), String> {
    let ok = (1..=80).contains(&id.len())
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--run-id {id:?}: use 1–80 characters of A–Z a–z 0–9 . _ -, starting with a letter or digit"
        ))
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpu_model() -> Option<String> {
    let info = read("/proc/cpuinfo")?;
    for key in ["model name", "Model", "Hardware", "cpu model"] {
        if let Some(v) = info
            .lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim())
        {
            if !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

fn os_name() -> String {
    let pretty = read("/etc/os-release").and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim().trim_matches('"').to_string())
    });
    pretty.unwrap_or_else(|| std::env::consts::OS.to_string())
}

#[cfg(unix)]
fn uname() -> (Option<String>, Option<String>) {
    // SAFETY: uname fills a zeroed struct of fixed-size NUL-terminated fields.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (None, None);
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        Some(String::from_utf8_lossy(&bytes).into_owned()).filter(|s| !s.is_empty())
    };
    (field(&u.nodename), field(&u.release))
}

#[cfg(not(unix))]
fn uname() -> (Option<String>, Option<String>) {
    (std::env::var("COMPUTERNAME").ok(), None)
}

#[cfg(unix)]
fn cores_and_memory() -> (Option<u64>, Option<u64>) {
    // SAFETY: sysconf has no preconditions.
    let (cores, pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_NPROCESSORS_ONLN),
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let cores = (cores > 0).then_some(cores as u64);
    let memory = (pages > 0 && page > 0).then(|| pages as u64 * page as u64);
    (cores, memory)
}

#[cfg(not(unix))]
fn cores_and_memory() -> (Option<u64>, Option<u64>) {
    (None, None)
}

/// The machine sagereport runs on. `available_parallelism` is what this
/// process may use (CPU affinity, cgroup quota); `logical_cores` what the
/// machine has online.
pub fn host() -> Value {
    let (hostname, kernel) = uname();
    let (cores, memory) = cores_and_memory();
    json!({
        "hostname": hostname,
        "logical_cores": cores,
        "available_parallelism": std::thread::available_parallelism().ok().map(|n| n.get()),
        "cpu_model": cpu_model(),
        "memory_bytes": memory,
        "os": os_name(),
        "kernel": kernel,
        "arch": std::env::consts::ARCH,
        "tool": format!("sagereport {}", env!("CARGO_PKG_VERSION")),
    })
}

/// The arrival model as a dimension: its kind and the knobs a user sets
/// (rate, burst shape, start delay); a closed loop's window follows from
/// the workload's shape and is in the work hash instead.
pub fn arrival_label(arrivals: &Arrivals) -> String {
    match arrivals {
        Arrivals::Closed { .. } => "closed".into(),
        Arrivals::Poisson { rate } => format!("poisson(rate={rate}/s)"),
        Arrivals::Bursts { size, every_ms } => format!("bursts(size={size},every={every_ms}ms)"),
        Arrivals::Staggered { delay_ms, .. } => format!("staggered(delay={delay_ms}ms)"),
    }
}

fn arrival_doc(arrivals: &Arrivals) -> Value {
    match arrivals {
        Arrivals::Closed { in_flight } | Arrivals::Staggered { in_flight, .. } => {
            json!({"model": arrival_label(arrivals), "in_flight": in_flight})
        }
        _ => json!({"model": arrival_label(arrivals)}),
    }
}

/// What the generate step calls, as a dimension: the embedded inference
/// endpoint's service model (the same on every backend), or the endpoint
/// and the model it served (`model` once resolved).
pub fn generator_label(flags: &RunFlags, model: Option<&str>) -> String {
    match &flags.llm_endpoint {
        Some(url) => format!(
            "endpoint:{} model={}",
            url.trim_end_matches('/'),
            model.or(flags.llm_model.as_deref()).unwrap_or("default")
        ),
        None => crate::runner::ops::ServiceModel::default().label(),
    }
}

fn has_generate(spec: &Spec) -> bool {
    spec.pipelines.iter().flatten().any(|op| *op == OpKind::Generate)
}

/// Every knob of `spec` that changes the work, as one JSON document (the
/// same for every backend). The generator is what was asked for (endpoint
/// and `--llm-model`); the model a server resolved is in the `generator`
/// dimension.
pub fn work_doc(spec: &Spec, flags: &RunFlags) -> Value {
    let generator = match &flags.llm_endpoint {
        Some(url) => json!({"endpoint": url.trim_end_matches('/'), "model": flags.llm_model}),
        None => json!(crate::runner::ops::ServiceModel::default().label()),
    };
    json!({
        "arrival": arrival_doc(&spec.arrivals),
        "task_complexity": spec.complexity.label(),
        "generator": if has_generate(spec) { generator } else { Value::Null },
        "jobs": spec.jobs,
        "pipelines": spec.pipelines.iter().map(|p| p.iter().map(|o| o.label()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "second_pipeline_share": spec.second_pipeline_share,
        "pipeline_by_job": spec.pipeline_by_job,
        "high_priority_share": spec.high_priority_share,
        "node_speeds": spec.node_speeds,
        "faults": {"fail_rate": spec.faults.fail_rate, "max_retries": spec.faults.max_retries, "outage": spec.faults.outage},
        "reconfig_to": spec.reconfig_to,
        "meta": spec.meta,
    })
}

/// 16 hex digits of sha256 over [`work_doc`].
pub fn work_hash(spec: &Spec, flags: &RunFlags) -> String {
    crate::model::config_hash::sha256_hex(&serde_json::to_string(&work_doc(spec, flags)).expect("plain JSON"))[..16]
        .to_string()
}

/// The work dimensions of a spec's records, which `compare` checks by name.
pub fn work_dims(spec: &Spec, flags: &RunFlags, generator: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("arrival".into(), json!(arrival_label(&spec.arrivals)));
    m.insert(
        "pipeline_stages".into(),
        json!(spec.pipelines.iter().map(Vec::len).max().unwrap_or(0)),
    );
    if has_generate(spec) {
        m.insert("generator".into(), json!(generator));
    }
    m.insert("work_hash".into(), json!(work_hash(spec, flags)));
    m
}

/// One label per spec of a plan that tells variants of one workload name
/// apart (Q4 runs four shapes named `Q4`): the name, or with nodes and
/// parallelism when the name repeats, or with its index as a last resort.
pub fn variant_labels(specs: &[Spec]) -> Vec<String> {
    let count = |f: &dyn Fn(&Spec) -> String, v: &str| specs.iter().filter(|s| f(s) == v).count();
    let plain = |s: &Spec| s.workload.clone();
    let shaped = |s: &Spec| format!("{}_{}n_{}p", s.workload, s.nodes, s.parallelism);
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if count(&plain, &plain(s)) == 1 {
                plain(s)
            } else if count(&shaped, &shaped(s)) == 1 {
                shaped(s)
            } else {
                format!("{}_{i}", shaped(s))
            }
        })
        .collect()
}

/// The task-latency file name (before slugging) of one record group.
pub fn trace_name(variant: &str, workload: &str, repeat: u32) -> String {
    if variant == workload {
        format!("{variant}_r{repeat}")
    } else {
        format!("{variant}__{workload}_r{repeat}")
    }
}

/// Microseconds per item of each operator on this host (8 items warm up,
/// 48 are timed; generate is left out when it calls an endpoint). Measured
/// once per complexity and seed in a process.
pub fn op_costs(ops: &Operators) -> Value {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Key = (u64, &'static str, bool);
    static CACHE: Mutex<Option<HashMap<Key, Value>>> = Mutex::new(None);
    let key = (ops.seed, ops.complexity.label(), ops.llm.is_some());
    if let Some(v) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|m| m.get(&key).cloned()))
    {
        return v;
    }
    const WARM: u64 = 8;
    const TIMED: u64 = 48;
    let mut out = Map::new();
    let mut chained: Vec<Payload> = vec![Payload::default(); (WARM + TIMED) as usize];
    for op in [
        OpKind::Embed,
        OpKind::Retrieve,
        OpKind::Context,
        OpKind::Generate,
        OpKind::Compute,
    ] {
        if op == OpKind::Generate && ops.llm.is_some() {
            out.insert(op.label().into(), Value::Null);
            continue;
        }
        let mut total = 0.0;
        for n in 0..WARM + TIMED {
            let input = chained[n as usize].clone();
            let t = Instant::now();
            let p = std::hint::black_box(ops.run(op, n, input, 1.0));
            if n >= WARM {
                total += t.elapsed().as_secs_f64();
            }
            if matches!(op, OpKind::Embed | OpKind::Retrieve | OpKind::Context) {
                chained[n as usize] = p;
            }
        }
        out.insert(op.label().into(), json!((total / TIMED as f64 * 1e8).round() / 100.0));
    }
    let v = Value::Object(out);
    if let Ok(mut c) = CACHE.lock() {
        c.get_or_insert_with(HashMap::new).insert(key, v.clone());
    }
    v
}

/// What one invocation stamps on its records and manifests.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// The invocation's id (`--run-id` or [`new_run_id`]).
    pub run_id: String,
    pub host: Value,
    /// The generator dimension (see [`generator_label`]).
    pub generator: String,
    /// Merged into every record's metadata (e.g. `op_cost_us`, `ray_cluster`).
    pub metadata: Map<String, Value>,
    /// Added to `repro_manifest.json` (e.g. `ray_cluster`).
    pub manifest: Map<String, Value>,
}

impl Provenance {
    pub fn new(flags: &RunFlags) -> Provenance {
        Provenance {
            run_id: flags.run_id.clone().unwrap_or_else(new_run_id),
            host: host(),
            generator: generator_label(flags, None),
            metadata: Map::new(),
            manifest: Map::new(),
        }
    }

    /// A record's run id: the invocation, experiment, seed and repeat (one
    /// engine run; Q3's inflation and exp4's job totals pair records by it).
    pub fn record_run_id(&self, experiment: &str, seed: u64, repeat: u32) -> String {
        format!("{}-{experiment}-s{seed}-r{repeat}", self.run_id)
    }
}

/// Stamp one run's records: run id, repeat, variant, trace file, host,
/// work dimensions and the invocation's extra metadata; and name its
/// traces by variant, workload and repeat.
pub fn stamp(rr: &mut RunRecords, spec: &Spec, variant: &str, flags: &RunFlags, repeat: u32, prov: &Provenance) {
    let suffix = format!("_r{repeat}");
    for (name, _) in rr.latencies.iter_mut() {
        let workload = name.strip_suffix(&suffix).unwrap_or(name).to_string();
        *name = trace_name(variant, &workload, repeat);
    }
    let dims = work_dims(spec, flags, &prov.generator);
    let run_id = prov.record_run_id(spec.experiment, flags.seed, repeat);
    for rec in &mut rr.records {
        let workload = rec["workload"].as_str().unwrap_or_default().to_string();
        rec["run_id"] = json!(run_id);
        let Some(meta) = rec.get_mut("metadata").and_then(Value::as_object_mut) else {
            continue;
        };
        for (k, v) in &dims {
            meta.entry(k.clone()).or_insert_with(|| v.clone());
        }
        meta.insert("invocation_id".into(), json!(prov.run_id));
        meta.insert("repeat".into(), json!(repeat));
        meta.insert("variant".into(), json!(variant));
        meta.insert(
            "trace".into(),
            json!(format!(
                "task_latencies/{}.csv",
                crate::util::text::slug(&trace_name(variant, &workload, repeat))
            )),
        );
        meta.insert("host".into(), prov.host.clone());
        for (k, v) in &prov.metadata {
            meta.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::ops::Complexity;

    #[test]
    fn run_ids_differ_and_are_path_safe() {
        let a = new_run_id();
        let b = new_run_id();
        assert_ne!(a, b);
        assert!(check_run_id(&a).is_ok(), "{a}");
        assert!(check_run_id("nightly-2026.11.29_a").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", &"x".repeat(81)] {
            assert!(check_run_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_names_the_machine() {
        let h = host();
        assert!(h["logical_cores"].as_u64().unwrap_or(1) >= 1);
        assert!(h["tool"].as_str().unwrap().starts_with("sagereport "));
        assert!(h["os"].as_str().is_some_and(|s| !s.is_empty()));
    }

    #[test]
    fn variants_tell_repeated_workload_names_apart() {
        let flags = RunFlags {
            quick: true,
            ..RunFlags::default()
        };
        let q4 = super::super::workloads::plan("Q4", &flags).unwrap();
        let labels = variant_labels(&q4);
        let distinct: std::collections::BTreeSet<_> = labels.iter().collect();
        assert_eq!(distinct.len(), q4.len(), "{labels:?}");
        let q1 = super::super::workloads::plan("Q1", &flags).unwrap();
        assert_eq!(variant_labels(&q1), ["Q1"]);
    }

    #[test]
    fn work_hash_follows_every_knob() {
        let base = RunFlags {
            quick: true,
            ..RunFlags::default()
        };
        let q2 = |f: &RunFlags| super::super::workloads::plan("Q2", f).unwrap().remove(0);
        let h = |f: &RunFlags| work_hash(&q2(f), f);
        let mut heavy = base.clone();
        heavy.complexity = Complexity::Heavy;
        let mut rate = base.clone();
        rate.request_rate = 50.0;
        let mut ratio = base.clone();
        ratio.llm_ratio = 0.5;
        let mut llm = base.clone();
        llm.llm_endpoint = Some("http://127.0.0.1:8000".into());
        for other in [&heavy, &rate, &ratio, &llm] {
            assert_ne!(h(&base), h(other));
        }
        assert_eq!(h(&base), h(&base.clone()));
        assert_eq!(arrival_label(&q2(&rate).arrivals), "poisson(rate=50/s)");
    }
}
