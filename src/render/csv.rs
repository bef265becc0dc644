//! `comparison.csv`: every accepted record, normalized, in a stable column
//! order, with its source file and line. Text cells are neutralized
//! against spreadsheet formula injection.

use super::escape::csv_cell;
use super::{ReportContext, Renderer};
use crate::model::UnifiedRecord;
use std::io::Write;
use std::path::Path;

pub struct ComparisonCsv;

/// The column order (stable; new columns are only ever appended).
pub const COLUMNS: [&str; 40] = [
    "backend", "workload", "run_id", "seed", "nodes", "parallelism", "throughput", "latency_p50", "latency_p95",
    "latency_p99", "success_rate", "duration_seconds", "timestamp", "config_hash", "backend_hash", "shape_hash",
    "experiment", "pipeline", "scheduler", "load_level", "concurrency", "concurrent_jobs", "start_delay_s",
    "task_complexity", "num_tasks", "warmup_items", "parity_batch_size", "avg_latency_ms", "scheduling_ms",
    "queue_ms", "execution_ms", "balance_score", "successful_tasks", "failed_tasks", "path_run_id",
    "path_config_hash", "metadata", "extra", "source_file", "source_line",
];

impl Renderer for ComparisonCsv {
    fn files(&self) -> Vec<&'static str> {
        vec!["comparison.csv"]
    }

    fn render(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<()> {
        let file = std::fs::File::create(dir.join("comparison.csv"))?;
        let mut w = csv::WriterBuilder::new().from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
        w.write_record(COLUMNS)?;
        for r in &ctx.ingest.records {
            write_row(&mut w, r, &ctx.ingest.file(r.source.file).path)?;
        }
        w.into_inner().map_err(|e| anyhow::anyhow!("writing comparison.csv: {e}"))?.flush()?;
        Ok(())
    }
}

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn write_row<W: Write>(w: &mut csv::Writer<W>, r: &UnifiedRecord, source: &str) -> csv::Result<()> {
    let d = r.dimensions();
    let m = r.measured.as_deref();
    let text = |s: Option<&str>| csv_cell(s.unwrap_or("")).into_owned();
    let row: [String; 40] = [
        text(Some(r.backend.as_str())),
        text(Some(r.workload.as_str())),
        text(Some(r.run_id.as_str())),
        opt_num(r.seed),
        r.nodes.to_string(),
        r.parallelism.to_string(),
        r.throughput.to_string(),
        opt_num(r.latency_p50),
        opt_num(r.latency_p95),
        opt_num(r.latency_p99),
        opt_num(r.success_rate),
        r.duration_seconds.to_string(),
        text(Some(&r.timestamp)),
        text(r.config_hash.map(|s| s.as_str())),
        text(r.backend_hash.map(|s| s.as_str())),
        r.shape_hash.to_string(),
        text(d.experiment.map(|s| s.as_str())),
        text(d.pipeline.map(|p| p.label())),
        text(d.scheduler.map(|p| p.label())),
        text(d.load_level.map(|p| p.label())),
        opt_num(d.concurrency),
        opt_num(d.concurrent_jobs),
        opt_num(d.start_delay_ms.map(|ms| ms as f64 / 1000.0)),
        text(d.task_complexity.map(|p| p.label())),
        opt_num(d.num_tasks),
        opt_num(d.warmup_items),
        opt_num(d.parity_batch_size),
        opt_num(m.and_then(|m| m.avg_latency_ms)),
        opt_num(m.and_then(|m| m.scheduling_ms)),
        opt_num(m.and_then(|m| m.queue_ms)),
        opt_num(m.and_then(|m| m.execution_ms)),
        opt_num(m.and_then(|m| m.balance_score)),
        opt_num(m.and_then(|m| m.successful_tasks)),
        opt_num(m.and_then(|m| m.failed_tasks)),
        text(r.path_run_id.map(|s| s.as_str())),
        text(r.path_config_hash.map(|s| s.as_str())),
        text(r.metadata.map(|s| s.as_str())),
        text(r.extra.map(|s| s.as_str())),
        text(Some(source)),
        r.source.line.to_string(),
    ];
    w.write_record(&row)
}
