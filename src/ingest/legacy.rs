//! Legacy exp1–exp4 results of the distributed-scheduling harness:
//! `<name>_metrics.json` (one run) and `<name>_latencies.csv` (its tasks).
//!
//! # Units
//! Upstream's `BenchmarkMetrics` mislabels units, and which fields are wrong
//! depends on where the pipeline ran (`metrics.config.use_remote`):
//! - local runs (`use_remote: false`): the task latency lists hold seconds and
//!   `avg/p50/p95/p99_latency_ms` are computed from them without `× 1000` —
//!   they hold **seconds**; the `latency_details.*_ms` arrays and the
//!   latencies CSV were multiplied by 1000 and are true ms;
//! - remote runs (`use_remote: true`, the default): workers report true ms, so
//!   `avg/p50/p95/p99_latency_ms` are ms, but the arrays and the CSV total
//!   column are multiplied by 1000 again — they hold **µs**.
//!
//! `avg_scheduling/queue/execution_latency_ms` are true ms in both modes.
//! Without `use_remote`, remote mode is recognised by its signature: empty
//! scheduling list, empty `node_latencies_ms`, non-empty `node_distribution`.
//! Every conversion is reported as a `unit_conversion` warning on the file.

use super::csv::LineTooLong;
use super::discover::PathFacts;
use super::jsonl::{json_error_message, quote_bare_non_finite};
use super::sink::FileSink;
use crate::model::normalize::{is_non_finite_word, Context};
use crate::model::raw::{RawRecord, Val};
use crate::model::{LoadLevel, Pipeline, ProblemKind};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyDoc<'a> {
    #[serde(borrow)]
    timestamp: Option<Val<'a>>,
    #[serde(borrow)]
    experiment_name: Option<Val<'a>>,
    #[serde(borrow)]
    metrics: Option<&'a RawValue>,
    #[serde(borrow)]
    latency_details: Option<&'a RawValue>,
    #[serde(borrow)]
    node_latencies_ms: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LegacyMetrics<'a> {
    #[serde(borrow)]
    total_tasks: Option<Val<'a>>,
    #[serde(borrow)]
    successful_tasks: Option<Val<'a>>,
    #[serde(borrow)]
    failed_tasks: Option<Val<'a>>,
    #[serde(borrow)]
    total_duration_sec: Option<Val<'a>>,
    #[serde(borrow)]
    throughput_tasks_per_sec: Option<Val<'a>>,
    #[serde(borrow)]
    avg_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    p50_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    p95_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    p99_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    avg_scheduling_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    avg_queue_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    avg_execution_latency_ms: Option<Val<'a>>,
    #[serde(borrow)]
    node_distribution: Option<&'a RawValue>,
    #[serde(borrow)]
    node_balance_score: Option<Val<'a>>,
    #[serde(borrow)]
    config: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LatencyDetails {
    total_latencies_ms: Option<Vec<Option<f64>>>,
    scheduling_latencies_ms: Option<Vec<Option<f64>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UseRemote<'a> {
    #[serde(borrow)]
    use_remote: Option<Val<'a>>,
    #[serde(borrow)]
    num_nodes: Option<Val<'a>>,
    #[serde(borrow)]
    parallelism: Option<Val<'a>>,
    #[serde(borrow)]
    enable_rag: Option<Val<'a>>,
    #[serde(borrow)]
    enable_llm: Option<Val<'a>>,
}

/// Per-task latencies read from a `<name>_latencies.csv`, in the file's unit.
pub struct TaskLatencies {
    pub total: Vec<f64>,
}

/// Read a `<name>_latencies.csv` (header
/// `task_index,total_latency_ms,scheduling_latency_ms,execution_latency_ms`).
pub fn read_latencies(
    mut reader: impl BufRead + 'static,
    sink: &mut FileSink<'_>,
    max_line: u64,
) -> std::io::Result<TaskLatencies> {
    super::csv::skip_bom(&mut reader)?;
    let (tracked, lines) = super::csv::LineTracker::new(reader, max_line);
    let mut csv = super::csv::CsvReader::over(tracked);
    let mut row = ::csv::StringRecord::new();
    let mut total = Vec::new();
    let header: Vec<String> = match csv.read_record(&mut row) {
        Ok(true) => row.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) if e.is_io_error() => {
            let Some((line, message)) = LineTooLong::of(&e).map(|l| (l.line, l.to_string())) else {
                return Err(e.into());
            };
            sink.error(
                Some(line),
                ProblemKind::LineTooLong,
                format!("{message}; the rest of the file is not read"),
            );
            return Ok(TaskLatencies { total });
        }
        _ => {
            sink.warning(None, ProblemKind::EmptyFile, "file is empty: no per-task latencies");
            return Ok(TaskLatencies { total });
        }
    };
    let Some(total_col) = header.iter().position(|h| h == "total_latency_ms") else {
        sink.error(
            Some(1),
            ProblemKind::MissingColumn,
            "header lacks total_latency_ms; per-task latencies not read",
        );
        return Ok(TaskLatencies { total });
    };
    if let Some(again) = header
        .iter()
        .rposition(|h| h == "total_latency_ms")
        .filter(|&i| i != total_col)
    {
        sink.error(
            Some(1),
            ProblemKind::MalformedCsv,
            format!(
                "header names total_latency_ms more than once (columns {} and {}), so which is meant is unknown; per-task latencies not read — keep one",
                total_col + 1,
                again + 1
            ),
        );
        return Ok(TaskLatencies { total });
    }
    loop {
        let more = csv.read_record(&mut row);
        let line = row.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
        match more {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => {
                super::csv::reject_line_too_long(e, sink)?;
                break;
            }
            Err(e) => {
                sink.tally.records += 1;
                sink.tally.rejected += 1;
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(line);
                sink.error(
                    Some(line),
                    ProblemKind::MalformedCsv,
                    format!("row is not valid CSV: {e}"),
                );
                continue;
            }
        }
        if row.len() == 1 && row[0].trim().is_empty() {
            continue;
        }
        sink.tally.records += 1;
        if row.len() != header.len() {
            sink.tally.rejected += 1;
            sink.error(
                Some(line),
                ProblemKind::MalformedCsv,
                format!("row has {} fields but the header has {}", row.len(), header.len()),
            );
            continue;
        }
        let cell = row[total_col].trim();
        match cell.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => {
                sink.tally.accepted += 1;
                total.push(x);
            }
            _ => {
                sink.tally.rejected += 1;
                let kind = if is_non_finite_word(cell) {
                    ProblemKind::NonFinite
                } else if cell.parse::<f64>().map(|x| x < 0.0).unwrap_or(false) {
                    ProblemKind::NegativeValue
                } else {
                    ProblemKind::InvalidValue
                };
                sink.error(
                    Some(line),
                    kind,
                    format!("total_latency_ms is {cell:?}, not a latency ≥ 0"),
                );
            }
        }
    }
    Ok(TaskLatencies { total })
}

/// Dimensions that upstream encodes only in run and folder names.
#[derive(Default, Debug, PartialEq)]
pub struct NamedDims {
    pub load_level: Option<LoadLevel>,
    pub scheduler_label: Option<String>,
    pub concurrency: Option<u64>,
    pub pipeline: Option<Pipeline>,
    pub concurrent_jobs: Option<u64>,
    pub start_delay_ms: Option<u64>,
}

/// Read the dimensions encoded in an upstream run name and the folders
/// above it (see `exp*_…/run_experiment.py`): `load_{level}_{sched}`,
/// `scheduler_{label}_{level}`, `depth_{d}_{level}`, `concurrency_{p}`,
/// `job{i}_{pipeline}`, and folders `jobs_{n}`, `delay_{ms}ms`,
/// `parallel_{n}jobs_…_{delay{ms}ms|concurrent}_…`, `pipeline=<type>`.
pub fn named_dims(run_name: &str, path: &Path) -> NamedDims {
    let mut d = NamedDims::default();
    let level_of = |tok: &str| match tok {
        "low" | "medium" | "high" | "extreme" => LoadLevel::parse(tok),
        _ => None,
    };
    let tokens: Vec<&str> = run_name.split('_').collect();
    match tokens.as_slice() {
        ["load", level, ..] => d.load_level = level_of(level),
        ["scheduler", rest @ ..] if !rest.is_empty() => {
            if let Some(level) = rest.last().and_then(|t| level_of(t)) {
                d.load_level = Some(level);
                d.scheduler_label = Some(rest[..rest.len() - 1].join("_"));
            } else {
                d.scheduler_label = Some(rest.join("_"));
            }
        }
        ["depth", _, level] => d.load_level = level_of(level),
        ["concurrency", p] => d.concurrency = p.parse().ok(),
        [job, pipeline, ..] if job.starts_with("job") && job[3..].parse::<u32>().is_ok() => {
            d.pipeline = Pipeline::parse(pipeline)
        }
        // exp1: `{pipeline}_single_node`, `{pipeline}_multi_{n}_nodes`.
        [pipeline, "single", "node"] | [pipeline, "multi", _, "nodes"] => d.pipeline = Pipeline::parse(pipeline),
        _ => {}
    }
    for seg in path
        .parent()
        .into_iter()
        .flat_map(|p| p.iter())
        .map(|s| s.to_string_lossy())
    {
        let seg: &str = &seg;
        if let Some(n) = seg.strip_prefix("jobs_").and_then(|n| n.parse().ok()) {
            d.concurrent_jobs = Some(n);
        } else if let Some(ms) = seg
            .strip_prefix("delay_")
            .and_then(|s| s.strip_suffix("ms"))
            .and_then(|n| n.parse().ok())
        {
            d.start_delay_ms = Some(ms);
        } else if let Some(rest) = seg.strip_prefix("parallel_") {
            let parts: Vec<&str> = rest.split('_').collect();
            if let Some(n) = parts
                .first()
                .and_then(|p| p.strip_suffix("jobs"))
                .and_then(|n| n.parse().ok())
            {
                d.concurrent_jobs = Some(n);
            }
            for p in &parts {
                if *p == "concurrent" {
                    d.start_delay_ms = Some(0);
                } else if let Some(ms) = p
                    .strip_prefix("delay")
                    .and_then(|s| s.strip_suffix("ms"))
                    .and_then(|n| n.parse().ok())
                {
                    d.start_delay_ms = Some(ms);
                }
            }
        } else if let Some(p) = seg.strip_prefix("pipeline=") {
            d.pipeline = Pipeline::parse(p);
        }
    }
    d
}

/// The run id of a legacy result: its folders below `results/`
/// (e.g. `full_experiment_20260115_120000/node_scaling`), else its folder.
fn legacy_run_id(path: &Path) -> String {
    let dirs: Vec<Cow<'_, str>> = path
        .parent()
        .into_iter()
        .flat_map(|p| p.iter())
        .map(|s| s.to_string_lossy())
        .collect();
    match dirs.iter().rposition(|s| s == "results") {
        Some(i) if i + 1 < dirs.len() => dirs[i + 1..].join("/"),
        _ => dirs
            .last()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "legacy".to_string()),
    }
}

fn as_bool(v: &Option<Val>) -> Option<bool> {
    match v {
        Some(Val::Bool(b)) => Some(*b),
        Some(Val::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A summary field's number, if it is one (a numeric string included).
fn number_of(v: &Option<Val<'_>>) -> Option<f64> {
    match v.as_ref()? {
        Val::Int(i) => Some(*i as f64),
        Val::UInt(u) => Some(*u as f64),
        Val::Float(x) => Some(*x),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

fn scaled(v: Option<Val<'_>>, factor: f64) -> Option<Val<'static>> {
    match v? {
        Val::Int(i) => Some(Val::Float(i as f64 * factor)),
        Val::UInt(u) => Some(Val::Float(u as f64 * factor)),
        Val::Float(x) => Some(Val::Float(x * factor)),
        Val::Str(s) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Some(Val::Float(x * factor)),
            _ => Some(Val::Str(Cow::Owned(s.into_owned()))),
        },
        Val::Null => Some(Val::Null),
        other => Some(match other {
            Val::Bool(b) => Val::Bool(b),
            _ => Val::Null,
        }),
    }
}

/// Read one `<name>_metrics.json` into one unified record.
// The record is filled field by field, each from its legacy source.
#[allow(clippy::field_reassign_with_default)]
pub fn read_metrics(
    bytes: &[u8],
    path: &Path,
    facts: &PathFacts,
    ctx: &Context<'_>,
    latencies: Option<TaskLatencies>,
    sink: &mut FileSink<'_>,
) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        sink.warning(None, ProblemKind::EmptyFile, "file is empty: no result");
        return;
    }
    sink.tally.records += 1;
    let quoted;
    let bytes = match serde_json::from_slice::<&RawValue>(bytes) {
        Ok(_) => bytes,
        Err(err) => match quote_bare_non_finite(bytes) {
            Some(q) if serde_json::from_slice::<&RawValue>(&q).is_ok() => {
                quoted = q;
                &quoted[..]
            }
            _ => {
                sink.tally.rejected += 1;
                let kind = if err.is_eof() {
                    ProblemKind::TruncatedLine
                } else {
                    ProblemKind::MalformedJson
                };
                sink.error(Some(err.line().max(1) as u32), kind, json_error_message(&err));
                return;
            }
        },
    };
    let doc: LegacyDoc = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => {
            sink.tally.rejected += 1;
            sink.error(
                Some(1),
                ProblemKind::InvalidValue,
                format!("not a legacy metrics document: {}", json_error_message(&e)),
            );
            return;
        }
    };
    let Some(metrics_raw) = doc.metrics else {
        sink.tally.rejected += 1;
        sink.error(
            None,
            ProblemKind::MissingField,
            "no \"metrics\" object; expected {timestamp, experiment_name, metrics{…}}",
        );
        return;
    };
    let metrics: LegacyMetrics = match serde_json::from_str(metrics_raw.get()) {
        Ok(m) => m,
        Err(e) => {
            sink.tally.rejected += 1;
            sink.error(
                Some(1),
                ProblemKind::InvalidValue,
                format!("\"metrics\" is not an object: {}", json_error_message(&e)),
            );
            return;
        }
    };
    let config: UseRemote = metrics
        .config
        .and_then(|c| serde_json::from_str(c.get()).ok())
        .unwrap_or_default();
    let details: Option<LatencyDetails> = doc.latency_details.and_then(|d| serde_json::from_str(d.get()).ok());

    let name_text = match &doc.experiment_name {
        Some(Val::Str(s)) => Some(s.trim().to_string()),
        _ => None,
    }
    .or_else(|| {
        path.file_name()?
            .to_string_lossy()
            .strip_suffix("_metrics.json")
            .map(str::to_string)
    })
    .unwrap_or_else(|| "legacy".to_string());

    // Decide the units (see the module docs).
    let remote = as_bool(&config.use_remote).unwrap_or_else(|| {
        let sched_empty = details
            .as_ref()
            .and_then(|d| d.scheduling_latencies_ms.as_ref())
            .map(|v| v.is_empty())
            .unwrap_or(true);
        let nodes_lat_empty = doc.node_latencies_ms.map(|r| r.get().trim() == "{}").unwrap_or(true);
        let dist_nonempty = metrics
            .node_distribution
            .map(|r| r.get().trim() != "{}")
            .unwrap_or(false);
        sched_empty && nodes_lat_empty && dist_nonempty
    });
    let task_latencies: Option<Vec<f64>> = match latencies {
        Some(l) if !l.total.is_empty() => Some(l.total),
        _ => details
            .and_then(|d| d.total_latencies_ms)
            .map(|v| v.into_iter().flatten().filter(|x| x.is_finite() && *x >= 0.0).collect()),
    }
    .filter(|v: &Vec<f64>| !v.is_empty());
    // Either bug puts a factor of 1,000 between the tasks' median and
    // `p50_latency_ms` (µs vs ms remote, ms vs s local). Within a factor of
    // 2 of each other, the run was written without it (a harness that
    // computes both from the same list in one unit): nothing is converted.
    let units_agree = match (number_of(&metrics.p50_latency_ms), task_latencies.as_deref()) {
        (Some(p50), Some(tasks)) if p50 > 0.0 => {
            let mut sorted = tasks.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            let median = crate::analysis::stats::quantile_type7(&sorted, 0.5);
            (0.5..=2.0).contains(&(median / p50))
        }
        _ => false,
    };
    let (summary_factor, array_factor) = match (units_agree, remote) {
        (true, _) => (1.0, 1.0),
        (false, true) => (1.0, 0.001),
        (false, false) => (1000.0, 1.0),
    };
    let task_latencies = task_latencies.map(|mut v| {
        if array_factor != 1.0 {
            v.iter_mut().for_each(|x| *x *= array_factor);
        }
        v
    });

    if units_agree {
        // Nothing converted, nothing to report.
    } else if remote {
        if task_latencies.is_some() {
            sink.warning(
                None,
                ProblemKind::UnitConversion,
                "remote-mode run: per-task latencies (latency_details / *_latencies.csv) are ms × 1000 upstream; divided by 1000",
            );
        }
    } else {
        sink.warning(
            None,
            ProblemKind::UnitConversion,
            "local-mode run: avg/p50/p95/p99_latency_ms hold seconds upstream (a known harness bug); multiplied by 1000",
        );
    }

    let successful = match &metrics.successful_tasks {
        Some(Val::Int(i)) => Some(*i as f64),
        Some(Val::UInt(u)) => Some(*u as f64),
        Some(Val::Float(x)) => Some(*x),
        _ => None,
    };
    let failed = match &metrics.failed_tasks {
        Some(Val::Int(i)) => Some(*i as f64),
        Some(Val::UInt(u)) => Some(*u as f64),
        Some(Val::Float(x)) => Some(*x),
        _ => None,
    };
    let success_rate = match (successful, failed) {
        (Some(s), Some(f)) if s >= 0.0 && f >= 0.0 && s + f > 0.0 => Val::Float(s / (s + f)),
        _ => Val::Null,
    };
    // Upstream counts outcomes as tasks report them and sets total_tasks
    // from the configuration: a gap is tasks whose outcome never arrived.
    if let (Some(s), Some(f), Some(total)) = (successful, failed, number_of(&metrics.total_tasks)) {
        if s >= 0.0 && f >= 0.0 && total >= 0.0 && s + f != total {
            let gap = if s + f < total {
                format!(
                    "{} tasks have no recorded outcome (lost, or a worker's metrics not read)",
                    total - s - f
                )
            } else {
                "more outcomes than tasks".to_string()
            };
            sink.warning(
                Some(1),
                ProblemKind::Suspicious,
                format!(
                    "successful_tasks {s} + failed_tasks {f} = {} but total_tasks is {total}: {gap}; the success rate is over the {} recorded",
                    s + f,
                    s + f
                ),
            );
        }
    }

    let named = named_dims(&name_text, path);
    let mut raw = RawRecord::default();
    raw.backend = facts
        .backend
        .map(|b| Val::Str(Cow::Owned(b.as_str().to_string())))
        .or(Some(Val::Str("sage".into())));
    raw.workload = Some(Val::Str(Cow::Owned(name_text.clone())));
    raw.run_id = Some(Val::Str(Cow::Owned(
        facts
            .run_id
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|| legacy_run_id(path)),
    )));
    raw.seed = None;
    raw.nodes = config.num_nodes.clone();
    raw.parallelism = config.parallelism.clone();
    raw.throughput = metrics.throughput_tasks_per_sec;
    raw.latency_p50 = scaled(metrics.p50_latency_ms, summary_factor);
    raw.latency_p95 = scaled(metrics.p95_latency_ms, summary_factor);
    raw.latency_p99 = scaled(metrics.p99_latency_ms, summary_factor);
    raw.success_rate = Some(success_rate);
    raw.duration_seconds = metrics.total_duration_sec;
    raw.timestamp = doc.timestamp;

    let dims = &mut raw.top_dims;
    if let Some(cfg) = metrics.config {
        // A config that is not an object yields no dimensions.
        let _ = dims.fill_from_object(cfg);
    }
    dims.avg_latency_ms = scaled(metrics.avg_latency_ms, summary_factor);
    dims.scheduling_ms = metrics.avg_scheduling_latency_ms;
    dims.queue_ms = metrics.avg_queue_latency_ms;
    dims.execution_ms = metrics.avg_execution_latency_ms;
    dims.node_distribution = metrics.node_distribution;
    dims.balance_score = metrics.node_balance_score;
    dims.successful_tasks = metrics.successful_tasks;
    dims.failed_tasks = metrics.failed_tasks;
    if dims.num_tasks.is_none() {
        dims.num_tasks = metrics.total_tasks;
    }
    let owned = |s: String| Some(Val::Str(Cow::Owned(s)));
    if let Some(level) = named.load_level {
        dims.load_level = owned(level.label().to_string());
    }
    if let Some(label) = named.scheduler_label {
        // The run name's label says load_aware_pack where the config only says load_aware.
        dims.scheduler = owned(label);
    }
    if let Some(c) = named.concurrency {
        dims.concurrency = Some(Val::UInt(c));
    }
    // The pipeline: from the run's name, else from the config's switches
    // (exp1 records carry no pipeline field; without it Compute, RAG and
    // Mixed runs would pool into one cell).
    // RAG is retrieval then generation (experiment plan: embedding →
    // retrieval → context → generation), so both switches on; retrieval
    // without generation names no pipeline of the plan and stays unset.
    let switched = match (as_bool(&config.enable_rag), as_bool(&config.enable_llm)) {
        (Some(false), Some(false)) => Some(Pipeline::Compute),
        (Some(true), Some(true)) => Some(Pipeline::Rag),
        (Some(false), Some(true)) => Some(Pipeline::Llm),
        _ => None,
    };
    if let Some(p) = named.pipeline.or(switched) {
        if dims.pipeline.is_none() && dims.pipeline_type.is_none() {
            dims.pipeline = owned(p.label().to_string());
        }
    }
    if let Some(j) = named.concurrent_jobs {
        dims.concurrent_jobs = Some(Val::UInt(j));
    }
    if let Some(ms) = named.start_delay_ms {
        dims.start_delay = Some(Val::Float(ms as f64 / 1000.0));
    }

    let legacy_ctx = Context {
        seed_optional: true,
        ..*ctx
    };
    if let Some(index) = sink.take(&mut raw, &legacy_ctx, 1) {
        if let Some(lat) = task_latencies {
            let rec = &mut sink.records[index];
            std::sync::Arc::make_mut(rec.measured.get_or_insert_with(Default::default)).task_latencies_ms =
                Some(lat.into_boxed_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_dimensions() {
        let p = Path::new("exp2/results/full/scheduler_comparison/x_metrics.json");
        let d = named_dims("scheduler_load_aware_pack_medium", p);
        assert_eq!(d.load_level, Some(LoadLevel::Medium));
        assert_eq!(d.scheduler_label.as_deref(), Some("load_aware_pack"));
        assert_eq!(named_dims("load_high_load_aware", p).load_level, Some(LoadLevel::High));
        assert_eq!(named_dims("concurrency_16", p).concurrency, Some(16));
        assert_eq!(named_dims("rag_multi_4_nodes", p).pipeline, Some(Pipeline::Rag));
        assert_eq!(named_dims("compute_single_node", p).pipeline, Some(Pipeline::Compute));
        assert_eq!(named_dims("mixed_multi_16_nodes", p).pipeline, Some(Pipeline::Mixed));
        let p4 = Path::new("exp4/results/scaling_rag_20260101_000000/jobs_4/job2_rag_metrics.json");
        let d4 = named_dims("job2_rag", p4);
        assert_eq!(d4.pipeline, Some(Pipeline::Rag));
        assert_eq!(d4.concurrent_jobs, Some(4));
        let p5 = Path::new("exp4/results/concurrent_vs_staggered_x/delay_2000ms/job1_rag_metrics.json");
        assert_eq!(named_dims("job1_rag", p5).start_delay_ms, Some(2000));
        let p6 = Path::new("exp4/results/parallel_3jobs_rag_compute_llm_concurrent_20260115_120000/j_metrics.json");
        let d6 = named_dims("job0_rag", p6);
        assert_eq!((d6.concurrent_jobs, d6.start_delay_ms), (Some(3), Some(0)));
    }

    #[test]
    fn run_id_is_the_folders_below_results() {
        assert_eq!(
            legacy_run_id(Path::new(
                "exp1/results/full_experiment_1/node_scaling/single_node_metrics.json"
            )),
            "full_experiment_1/node_scaling"
        );
        assert_eq!(legacy_run_id(Path::new("a/b/x_metrics.json")), "b");
    }
}
