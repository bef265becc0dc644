//! Validation and normalization: a [`RawRecord`] as read becomes a
//! [`UnifiedRecord`], or is rejected with the reasons why.
//!
//! Rules (SPEC §3): required fields present and non-null (latencies and
//! success rate may be null); `seed ≥ 0`, `nodes ≥ 1`, `parallelism ≥ 1`
//! integers; throughput, duration and latencies finite and `≥ 0`; success
//! rate in [0, 1]; timestamp ISO-8601. Numbers given as JSON strings are
//! accepted with a warning; NaN and ±Infinity, as literals or strings, are
//! errors. Dimensions are optional: a bad one is reported and left unset,
//! never a reason to reject the run.

use super::config_hash::WorkloadShape;
use super::dimensions::{balance_score, Dimensions, LoadLevel, Pipeline, Scheduler, TaskComplexity};
use super::intern::Sym;
use super::problem::{Finding, ProblemKind};
use super::raw::{dims_of_object, DimFields, RawRecord, Val};
use super::record::{DimsId, Measured, SourceRef, UnifiedRecord};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `repro_manifest.json` beside the records (SPEC §2).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReproManifest {
    pub seed: Option<u64>,
    pub config_hash: Option<Sym>,
    pub warmup_items: Option<u64>,
    pub parity_batch_size: Option<u64>,
    pub shuffle_version: Option<Sym>,
}

/// The `config` of a paired-run `manifest.json` / `failure_report.json`
/// above the records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairedConfig {
    pub scheduler: Option<Scheduler>,
    pub items: Option<u64>,
    pub parallelism: Option<u32>,
    pub nodes: Option<u32>,
    pub seed: Option<u64>,
}

/// What the surroundings of a record say about it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'c> {
    /// `<name>` of a `backends/<name>/` folder above the file.
    pub path_backend: Option<Sym>,
    pub path_run_id: Option<Sym>,
    pub path_config_hash: Option<Sym>,
    /// `exp1`…`exp4` from an `expN_…` folder above the file.
    pub path_experiment: Option<Sym>,
    pub repro: Option<&'c ReproManifest>,
    pub paired: Option<&'c PairedConfig>,
    /// Legacy results carry no seed; only there may it be absent.
    pub seed_optional: bool,
}

/// Findings about one record; it is accepted when none is an error.
#[derive(Debug, Default)]
pub struct Findings {
    pub list: Vec<Finding>,
    strings: Vec<&'static str>,
}

impl Findings {
    fn error(&mut self, kind: ProblemKind, message: String) {
        self.list.push(Finding::error(kind, message));
    }
    fn warning(&mut self, kind: ProblemKind, message: String) {
        self.list.push(Finding::warning(kind, message));
    }
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|f| f.severity == super::problem::Severity::Error)
    }
}

fn describe(v: &Val) -> String {
    match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::UInt(u) => u.to_string(),
        Val::Float(x) => x.to_string(),
        Val::Str(s) => format!("{:?}", truncate(s)),
        Val::Cell(s) => format!("{:?}", truncate(s)),
        Val::Compound => "an object or array".into(),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// True for the spellings Python and spreadsheets use for non-finite floats.
pub fn is_non_finite_word(s: &str) -> bool {
    let t = s.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(t.as_str(), "nan" | "inf" | "infinity")
}

/// A number field. `Ok(None)` for null / empty; `Err` after recording the error.
fn number(field: &'static str, v: &Val, out: &mut Findings) -> Result<Option<f64>, ()> {
    let x = match v {
        Val::Null => return Ok(None),
        Val::Int(i) => *i as f64,
        Val::UInt(u) => *u as f64,
        Val::Float(x) => *x,
        Val::Cell(s) if s.trim().is_empty() => return Ok(None),
        Val::Str(s) if s.trim().is_empty() => {
            out.error(ProblemKind::InvalidValue, format!("{field} is an empty string; write null or a number"));
            return Err(());
        }
        Val::Str(s) => parse_text_number(field, s, out, true)?,
        Val::Cell(s) => parse_text_number(field, s, out, false)?,
        other => {
            out.error(ProblemKind::InvalidValue, format!("{field} is {}, not a number", describe(other)));
            return Err(());
        }
    };
    if !x.is_finite() {
        out.error(ProblemKind::NonFinite, format!("{field} is {x}; write null for a value that was not measured"));
        return Err(());
    }
    Ok(Some(x))
}

fn parse_text_number(field: &'static str, s: &str, out: &mut Findings, is_json_string: bool) -> Result<f64, ()> {
    if is_non_finite_word(s) {
        out.error(
            ProblemKind::NonFinite,
            format!("{field} is {}; write null for a value that was not measured", s.trim()),
        );
        return Err(());
    }
    match s.trim().parse::<f64>() {
        Ok(x) => {
            if is_json_string {
                out.strings.push(field);
            }
            Ok(x)
        }
        Err(_) => {
            out.error(ProblemKind::InvalidValue, format!("{field} is {:?}, not a number", truncate(s)));
            Err(())
        }
    }
}

fn required(field: &'static str, v: &Option<Val>, out: &mut Findings) -> Option<f64> {
    match v {
        None => {
            out.error(ProblemKind::MissingField, format!("required field {field} is missing"));
            None
        }
        Some(v) => match number(field, v, out) {
            Ok(Some(x)) => Some(x),
            Ok(None) => {
                out.error(ProblemKind::MissingField, format!("required field {field} is null"));
                None
            }
            Err(()) => None,
        },
    }
}

fn non_negative(field: &'static str, x: Option<f64>, out: &mut Findings) -> Option<f64> {
    match x {
        Some(x) if x < 0.0 => {
            out.error(ProblemKind::NegativeValue, format!("{field} is {x}; it cannot be negative"));
            None
        }
        other => other,
    }
}

fn integer(field: &'static str, x: Option<f64>, min: u64, out: &mut Findings) -> Option<u64> {
    let x = x?;
    if x < 0.0 {
        out.error(ProblemKind::NegativeValue, format!("{field} is {x}; it must be an integer ≥ {min}"));
        return None;
    }
    if x.fract() != 0.0 || x > 9.0e15 {
        out.error(ProblemKind::InvalidValue, format!("{field} is {x}; it must be an integer ≥ {min}"));
        return None;
    }
    if (x as u64) < min {
        out.error(ProblemKind::OutOfRange, format!("{field} is {x}; it must be an integer ≥ {min}"));
        return None;
    }
    Some(x as u64)
}

fn text<'v>(field: &'static str, v: &'v Option<Val>, out: &mut Findings) -> Option<Cow<'v, str>> {
    match v {
        None => None,
        Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(Cow::Borrowed(s.trim())),
        Some(Val::Cell(s)) => Some(Cow::Borrowed(s.trim())),
        Some(Val::Int(i)) => Some(Cow::Owned(i.to_string())),
        Some(Val::UInt(u)) => Some(Cow::Owned(u.to_string())),
        Some(other) => {
            out.error(ProblemKind::InvalidValue, format!("{field} is {}, not text", describe(other)));
            None
        }
    }
    .filter(|s| !s.is_empty())
}

/// ISO-8601 timestamps as Python writes them (`isoformat()` with or without
/// offset, `T` or space separator, optional fraction, `Z`).
pub fn is_iso8601(s: &str) -> bool {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    DateTime::parse_from_rfc3339(s).is_ok()
        || DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z").is_ok()
        || DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").is_ok()
        || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// What a record's free-form objects yield, kept for the next record.
#[derive(Clone, Debug)]
struct Derived {
    metadata: Option<Sym>,
    extra: Option<Sym>,
    dims: DimsId,
    dims_value: std::sync::Arc<Dimensions>,
    measured: Option<Box<Measured>>,
    findings: Vec<Finding>,
}

/// Memo of the last record's free-form objects and what they yielded (one
/// per file: the context is the same for all its records).
#[derive(Default)]
pub struct DimsMemo {
    key: Vec<u8>,
    value: Option<Derived>,
}

impl DimsMemo {
    /// The memo's value when its key is `objects` (each followed by a 0
    /// byte) then `seed`.
    fn get(&self, objects: &[&[u8]; 4], seed: &[u8; 8]) -> Option<&Derived> {
        let mut rest: &[u8] = &self.key;
        for part in objects {
            rest = rest.strip_prefix(*part)?.strip_prefix(&[0u8][..])?;
        }
        self.value.as_ref().filter(|_| rest == seed)
    }

    fn put(&mut self, objects: &[&[u8]; 4], seed: &[u8; 8], value: Derived) {
        self.key.clear();
        for part in objects {
            self.key.extend_from_slice(part);
            self.key.push(0);
        }
        self.key.extend_from_slice(seed);
        self.value = Some(value);
    }
}

/// Validate and normalize one record. `Err` carries the findings (at least
/// one error); `Ok` carries the record and its warnings.
pub fn normalize(
    raw: RawRecord<'_>,
    ctx: &Context<'_>,
    source: SourceRef,
    memo: &mut DimsMemo,
) -> Result<(UnifiedRecord, Vec<Finding>), Vec<Finding>> {
    let mut out = Findings::default();

    // Backend: the record's own field, else the backends/<name>/ folder.
    let own_backend = text("backend", &raw.backend, &mut out);
    let backend = match (own_backend, ctx.path_backend) {
        (Some(own), Some(path)) => {
            if own.as_ref() != path.as_str() {
                out.warning(
                    ProblemKind::BackendConflict,
                    format!(
                        "backend is {own:?} but the file is under backends/{path}/; using {own:?} — move the file or fix the field"
                    ),
                );
            }
            Some(Sym::new(&own))
        }
        (Some(own), None) => Some(Sym::new(&own)),
        (None, Some(path)) => Some(path),
        (None, None) => {
            out.error(
                ProblemKind::MissingField,
                "required field backend is missing (and no backends/<name>/ folder names it)".into(),
            );
            None
        }
    };
    let workload = text("workload", &raw.workload, &mut out);
    if workload.is_none() && !matches!(raw.workload, Some(Val::Compound | Val::Bool(_))) {
        out.error(ProblemKind::MissingField, "required field workload is missing or empty".into());
    }
    let run_id = text("run_id", &raw.run_id, &mut out);
    if run_id.is_none() && !matches!(raw.run_id, Some(Val::Compound | Val::Bool(_))) {
        out.error(ProblemKind::MissingField, "required field run_id is missing or empty".into());
    }

    let seed_absent = matches!(raw.seed, None | Some(Val::Null));
    let seed = if ctx.seed_optional && seed_absent {
        None
    } else {
        integer("seed", required("seed", &raw.seed, &mut out), 0, &mut out)
    };
    let nodes = integer("nodes", required("nodes", &raw.nodes, &mut out), 1, &mut out);
    let parallelism = integer("parallelism", required("parallelism", &raw.parallelism, &mut out), 1, &mut out);
    let throughput = non_negative("throughput", required("throughput", &raw.throughput, &mut out), &mut out);
    let duration =
        non_negative("duration_seconds", required("duration_seconds", &raw.duration_seconds, &mut out), &mut out);

    let latency = |field: &'static str, v: &Option<Val>, out: &mut Findings| -> Option<f64> {
        match v {
            None => {
                out.error(ProblemKind::MissingField, format!("required field {field} is missing (write null when not measured)"));
                None
            }
            Some(v) => non_negative(field, number(field, v, out).ok().flatten(), out),
        }
    };
    let p50 = latency("latency_p50", &raw.latency_p50, &mut out);
    let p95 = latency("latency_p95", &raw.latency_p95, &mut out);
    let p99 = latency("latency_p99", &raw.latency_p99, &mut out);

    let success_rate = match &raw.success_rate {
        None => {
            out.error(ProblemKind::MissingField, "required field success_rate is missing (write null when unknown)".into());
            None
        }
        Some(v) => match number("success_rate", v, &mut out).ok().flatten() {
            Some(x) if !(0.0..=1.0).contains(&x) => {
                out.error(ProblemKind::OutOfRange, format!("success_rate is {x}; it is a fraction in [0, 1]"));
                None
            }
            other => other,
        },
    };

    let timestamp = match &raw.timestamp {
        None | Some(Val::Null) => {
            out.error(ProblemKind::MissingField, "required field timestamp is missing".into());
            None
        }
        Some(Val::Str(s)) if is_iso8601(s) => Some(s.trim().to_string()),
        Some(Val::Cell(s)) if is_iso8601(s) => Some(s.trim().to_string()),
        Some(Val::Cell(s)) if s.trim().is_empty() => {
            out.error(ProblemKind::MissingField, "required field timestamp is empty".into());
            None
        }
        Some(other) => {
            out.error(
                ProblemKind::InvalidValue,
                format!("timestamp is {}, not an ISO-8601 date-time such as 2026-02-21T03:58:47+00:00", describe(other)),
            );
            None
        }
    };

    let config_hash = text("config_hash", &raw.config_hash, &mut out).map(|s| Sym::new(&s));
    let backend_hash = text("backend_hash", &raw.backend_hash, &mut out).map(|s| Sym::new(&s));

    if let (Some(a), Some(b), Some(c)) = (p50, p95, p99) {
        if !(a <= b && b <= c) {
            out.warning(
                ProblemKind::Suspicious,
                format!("latency percentiles are not ordered (p50 {a} ≤ p95 {b} ≤ p99 {c} expected)"),
            );
        }
    }

    // Dimensions: top level first, then metadata, extra, config objects.
    if !out.strings.is_empty() {
        let fields = out.strings.join(", ");
        out.warning(ProblemKind::NumberAsString, format!("{fields} given as strings; read as numbers"));
    }

    // Dimensions: from the free-form objects (memoized: consecutive records
    // of a run usually carry the same objects) and the top level.
    // The memo key is the four objects' text and the seed; compared in
    // place, built only on a miss.
    let memo_parts = raw.top_dims.is_empty().then(|| {
        let objects = [raw.metadata, raw.extra, raw.config, raw.run_config].map(|o| o.map_or(&b"-"[..], |o| o.get().as_bytes()));
        (objects, seed.unwrap_or(u64::MAX).to_le_bytes())
    });
    let memo_hit = memo_parts.as_ref().and_then(|(objects, seed)| memo.get(objects, seed));
    let derived = match memo_hit {
        Some(d) => {
            out.list.extend(d.findings.iter().cloned());
            d.clone()
        }
        None => {
            let before = out.list.len();
            let mut dim_fields = raw.top_dims;
            let metadata = free_form("metadata", raw.metadata, &mut dim_fields, &mut out);
            let extra = free_form("extra", raw.extra, &mut dim_fields, &mut out);
            free_form("config", raw.config, &mut dim_fields, &mut out);
            free_form("run_config", raw.run_config, &mut dim_fields, &mut out);
            let (dims, measured) = dimensions(dim_fields, ctx, seed, &mut out);
            let id = DimsId::intern(dims);
            let derived = Derived {
                metadata,
                extra,
                dims: id,
                dims_value: id.get(),
                measured: (!measured.is_empty()).then(|| Box::new(measured)),
                findings: out.list[before..].to_vec(),
            };
            if let Some((objects, seed)) = &memo_parts {
                memo.put(objects, seed, derived.clone());
            }
            derived
        }
    };
    let dims = &derived.dims_value;

    if out.has_errors() {
        return Err(out.list);
    }
    let (Some(backend), Some(workload), Some(run_id), Some(nodes), Some(parallelism)) =
        (backend, workload, run_id, nodes, parallelism)
    else {
        return Err(out.list);
    };
    let (Some(throughput), Some(duration), Some(timestamp)) = (throughput, duration, timestamp) else {
        return Err(out.list);
    };

    let workload = Sym::new(&workload);
    let shape = WorkloadShape {
        workload,
        seed,
        nodes: nodes.min(u32::MAX as u64) as u32,
        parallelism: parallelism.min(u32::MAX as u64) as u32,
        num_tasks: dims.num_tasks,
        warmup_items: dims.warmup_items,
        parity_batch_size: dims.parity_batch_size,
        scheduler: dims.scheduler,
    };
    let record = UnifiedRecord {
        backend,
        workload,
        run_id: Sym::new(&run_id),
        seed,
        nodes: shape.nodes,
        parallelism: shape.parallelism,
        throughput,
        latency_p50: p50,
        latency_p95: p95,
        latency_p99: p99,
        success_rate,
        duration_seconds: duration,
        timestamp: timestamp.into_boxed_str(),
        config_hash,
        backend_hash,
        shape_hash: shape.hash(),
        path_run_id: ctx.path_run_id,
        path_config_hash: ctx.path_config_hash,
        metadata: derived.metadata,
        extra: derived.extra,
        dims: derived.dims,
        measured: derived.measured,
        source,
    };
    Ok((record, out.list))
}

/// Read dimensions from a free-form object into `dims` (fields already set
/// win) and return its text, kept for the outputs.
fn free_form<'a>(
    name: &str,
    obj: Option<&'a RawValue>,
    dims: &mut DimFields<'a>,
    out: &mut Findings,
) -> Option<Sym> {
    let obj = obj?;
    let text = obj.get();
    if text == "null" {
        return None;
    }
    match dims_of_object(obj) {
        Ok(d) => dims.fill_from(d),
        Err(_) => out.warning(
            ProblemKind::InvalidValue,
            format!("{name} is not an object ({}); kept as given, no dimensions read from it", truncate(text)),
        ),
    }
    Some(Sym::new(text))
}

fn dim_text(v: &Option<Val>) -> Option<String> {
    match v {
        Some(Val::Str(s)) => Some(s.trim().to_string()),
        Some(Val::Cell(s)) => Some(s.trim().to_string()),
        Some(Val::Int(i)) => Some(i.to_string()),
        Some(Val::UInt(u)) => Some(u.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn dim_number(name: &'static str, v: &Option<Val>, out: &mut Findings) -> Option<f64> {
    let v = v.as_ref()?;
    // Dimensions are optional: a bad one is a warning and stays unset.
    let mut scratch = Findings::default();
    match number(name, v, &mut scratch) {
        Ok(x) => x,
        Err(()) => {
            for f in scratch.list {
                out.warning(f.kind, format!("{}; this dimension is left unset", f.message));
            }
            None
        }
    }
    .filter(|x| {
        if *x < 0.0 {
            out.warning(ProblemKind::NegativeValue, format!("{name} is {x}; this dimension is left unset"));
            false
        } else {
            true
        }
    })
}

fn dim_count(name: &'static str, v: &Option<Val>, out: &mut Findings) -> Option<u64> {
    let x = dim_number(name, v, out)?;
    if x.fract() != 0.0 {
        out.warning(ProblemKind::InvalidValue, format!("{name} is {x}, not a whole number; this dimension is left unset"));
        return None;
    }
    Some(x as u64)
}

fn node_distribution(raw: &RawValue, out: &mut Findings) -> Option<Box<[(Sym, u64)]>> {
    match serde_json::from_str::<std::collections::BTreeMap<String, f64>>(raw.get()) {
        Ok(map) => {
            let mut nodes = Vec::with_capacity(map.len());
            for (node, count) in map {
                if !(count >= 0.0 && count.fract() == 0.0) {
                    out.warning(
                        ProblemKind::InvalidValue,
                        format!("node_distribution[{node:?}] is {count}, not a task count; distribution left unset"),
                    );
                    return None;
                }
                nodes.push((Sym::new(&node), count as u64));
            }
            Some(nodes.into_boxed_slice())
        }
        Err(_) => {
            out.warning(
                ProblemKind::InvalidValue,
                "node_distribution is not an object of node → task count; left unset".into(),
            );
            None
        }
    }
}

fn dimensions(
    f: DimFields<'_>,
    ctx: &Context<'_>,
    seed: Option<u64>,
    out: &mut Findings,
) -> (Dimensions, Measured) {
    let strategy = dim_text(&f.scheduler_strategy);
    let scheduler = dim_text(&f.scheduler)
        .or_else(|| dim_text(&f.scheduler_name))
        .or_else(|| dim_text(&f.scheduler_type))
        .and_then(|s| Scheduler::parse(&s, strategy.as_deref()));
    let start_delay_ms = dim_number("start_delay", &f.start_delay, out).map(|s| (s * 1000.0).round() as u64);
    let mut dims = Dimensions {
        experiment: dim_text(&f.experiment).map(|s| Sym::new(&s)).or(ctx.path_experiment),
        pipeline: dim_text(&f.pipeline).or_else(|| dim_text(&f.pipeline_type)).and_then(|s| Pipeline::parse(&s)),
        scheduler,
        load_level: dim_text(&f.load_level).and_then(|s| LoadLevel::parse(&s)),
        concurrency: dim_count("concurrency", &f.concurrency, out).map(|c| c as u32),
        concurrent_jobs: dim_count("concurrent_jobs", &f.concurrent_jobs, out).map(|c| c as u32),
        start_delay_ms,
        task_complexity: dim_text(&f.task_complexity).and_then(|s| TaskComplexity::parse(&s)),
        num_tasks: dim_count("num_tasks", &f.num_tasks, out).or_else(|| dim_count("total_tasks", &f.total_tasks, out)),
        warmup_items: dim_count("warmup_items", &f.warmup_items, out),
        parity_batch_size: dim_count("parity_batch_size", &f.parity_batch_size, out),
        shuffle_version: dim_text(&f.shuffle_version).map(|s| Sym::new(&s)),
        pipeline_stages: dim_count("pipeline_stages", &f.pipeline_stages, out).map(|c| c as u32),
    };

    if let Some(repro) = ctx.repro {
        if let (Some(m), Some(r)) = (repro.seed, seed) {
            if m != r {
                out.warning(
                    ProblemKind::ManifestConflict,
                    format!("seed is {r} but repro_manifest.json beside it says {m}"),
                );
            }
        }
        fill_or_warn(&mut dims.warmup_items, repro.warmup_items, "warmup_items", "repro_manifest.json", out);
        fill_or_warn(&mut dims.parity_batch_size, repro.parity_batch_size, "parity_batch_size", "repro_manifest.json", out);
        if dims.shuffle_version.is_none() {
            dims.shuffle_version = repro.shuffle_version;
        }
    }
    if let Some(paired) = ctx.paired {
        if let (Some(m), Some(r)) = (paired.seed, seed) {
            if m != r {
                out.warning(ProblemKind::ManifestConflict, format!("seed is {r} but the paired-run manifest says {m}"));
            }
        }
        fill_or_warn(&mut dims.num_tasks, paired.items, "num_tasks", "the paired-run manifest (items)", out);
        match (dims.scheduler, paired.scheduler) {
            (None, m) => dims.scheduler = m,
            (Some(r), Some(m)) if r != m => out.warning(
                ProblemKind::ManifestConflict,
                format!("scheduler is {r} but the paired-run manifest says {m}"),
            ),
            _ => {}
        }
    }

    let node_distribution = f.node_distribution.and_then(|raw| node_distribution(raw, out));
    let balance = dim_number("balance_score", &f.balance_score, out).or_else(|| {
        node_distribution.as_ref().map(|d| balance_score(&d.iter().map(|(_, c)| *c).collect::<Vec<_>>()))
    });
    let measured = Measured {
        successful_tasks: dim_count("successful_tasks", &f.successful_tasks, out),
        failed_tasks: dim_count("failed_tasks", &f.failed_tasks, out),
        avg_latency_ms: dim_number("avg_latency_ms", &f.avg_latency_ms, out),
        scheduling_ms: dim_number("scheduling_ms", &f.scheduling_ms, out),
        queue_ms: dim_number("queue_ms", &f.queue_ms, out),
        execution_ms: dim_number("execution_ms", &f.execution_ms, out),
        node_distribution,
        balance_score: balance,
        task_latencies_ms: None,
    };
    (dims, measured)
}

fn fill_or_warn(slot: &mut Option<u64>, manifest: Option<u64>, name: &str, from: &str, out: &mut Findings) {
    match (*slot, manifest) {
        (None, m) => *slot = m,
        (Some(r), Some(m)) if r != m => out.warning(
            ProblemKind::ManifestConflict,
            format!("{name} is {r} but {from} says {m}"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::FileId;

    fn parse(line: &str) -> Result<(UnifiedRecord, Vec<Finding>), Vec<Finding>> {
        let raw: RawRecord = serde_json::from_str(line).unwrap();
        normalize(raw, &Context::default(), SourceRef { file: FileId(0), line: 1 }, &mut DimsMemo::default())
    }

    const GOOD: &str = r#"{"backend":"sage","workload":"w","run_id":"r","seed":42,"nodes":1,"parallelism":4,"throughput":41.4,"latency_p50":null,"latency_p95":null,"latency_p99":null,"success_rate":null,"duration_seconds":2.4,"timestamp":"2026-02-21T03:58:47.134641+00:00","metadata":{"scheduler_name":"fifo","raw_metrics":{"scheduler_type":"FIFO"}}}"#;

    #[test]
    fn accepts_the_upstream_shape() {
        let (rec, warnings) = parse(GOOD).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(rec.backend.as_str(), "sage");
        assert_eq!(rec.dimensions().scheduler, Some(Scheduler::Fifo));
        assert_eq!(rec.throughput, 41.4);
        assert!(rec.metadata.unwrap().as_str().contains("raw_metrics"));
    }

    #[test]
    fn numbers_as_strings_warn() {
        let line = GOOD.replace("\"seed\":42", "\"seed\":\"42\"").replace("41.4", "\"41.4\"");
        let (rec, warnings) = parse(&line).unwrap();
        assert_eq!(rec.seed, Some(42));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].kind, ProblemKind::NumberAsString);
        assert!(warnings[0].message.contains("seed, throughput"), "{}", warnings[0].message);
    }

    #[test]
    fn rejects_each_bad_value_with_its_kind() {
        let cases = [
            (GOOD.replace("41.4", "\"NaN\""), ProblemKind::NonFinite),
            (GOOD.replace("41.4", "\"-Infinity\""), ProblemKind::NonFinite),
            (GOOD.replace("\"latency_p95\":null", "\"latency_p95\":-3"), ProblemKind::NegativeValue),
            (GOOD.replace("\"success_rate\":null", "\"success_rate\":1.7"), ProblemKind::OutOfRange),
            (GOOD.replace("\"nodes\":1", "\"nodes\":0"), ProblemKind::OutOfRange),
            (GOOD.replace("\"seed\":42,", ""), ProblemKind::MissingField),
            (GOOD.replace("\"throughput\":41.4", "\"throughput\":null"), ProblemKind::MissingField),
            (GOOD.replace("2026-02-21T03:58:47.134641+00:00", "yesterday"), ProblemKind::InvalidValue),
            (GOOD.replace("\"parallelism\":4", "\"parallelism\":2.5"), ProblemKind::InvalidValue),
        ];
        for (line, kind) in cases {
            let errs = parse(&line).expect_err(&line);
            assert!(errs.iter().any(|f| f.kind == kind), "{line}: {errs:?}");
        }
    }

    #[test]
    fn config_hash_ignores_backend() {
        let (a, _) = parse(GOOD).unwrap();
        let (b, _) = parse(&GOOD.replace("\"sage\"", "\"ray\"")).unwrap();
        assert_ne!(a.backend, b.backend);
        assert_eq!(a.shape_hash, b.shape_hash);
        let (c, _) = parse(&GOOD.replace("\"seed\":42", "\"seed\":7")).unwrap();
        assert_ne!(a.shape_hash, c.shape_hash);
    }

    #[test]
    fn upstream_hash_difference_is_recognised() {
        let (a, _) = parse(&GOOD.replace("\"duration_seconds\"", "\"config_hash\":\"aaa\",\"duration_seconds\"")).unwrap();
        let ray = GOOD.replace("\"sage\"", "\"ray\"");
        let (b, _) = parse(&ray.replace("\"duration_seconds\"", "\"config_hash\":\"bbb\",\"duration_seconds\"")).unwrap();
        assert!(a.differs_only_in_upstream_hash(&b));
        let (c, _) = parse(&ray.replace("\"seed\":42", "\"seed\":1").replace("\"duration_seconds\"", "\"config_hash\":\"bbb\",\"duration_seconds\"")).unwrap();
        assert!(!a.differs_only_in_upstream_hash(&c), "a real shape difference is not explained away");
    }

    #[test]
    fn timestamps() {
        for ok in ["2026-02-21T03:58:47.134641+00:00", "2026-02-21T03:58:47Z", "2026-02-21T03:58:47.1", "2026-02-21 03:58:47"] {
            assert!(is_iso8601(ok), "{ok}");
        }
        for bad in ["", "21/02/2026", "2026-13-01T00:00:00"] {
            assert!(!is_iso8601(bad), "{bad}");
        }
    }
}
