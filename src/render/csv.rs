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

/// Records formatted per parallel chunk; chunks are written in order, so the
/// file is identical to a sequential write and memory stays bounded.
const CHUNK: usize = 16_384;

impl Renderer for ComparisonCsv {
    fn files(&self) -> Vec<&'static str> {
        vec!["comparison.csv"]
    }

    fn render(&self, ctx: &ReportContext<'_>, dir: &Path) -> anyhow::Result<()> {
        use rayon::prelude::*;
        let path = dir.join("comparison.csv");
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        let mut header = csv::Writer::from_writer(Vec::new());
        header.write_record(COLUMNS)?;
        out.write_all(&header.into_inner().map_err(|e| anyhow::anyhow!("writing comparison.csv: {e}"))?)?;
        let records = &ctx.ingest.records;
        // A window of chunks per round: parallel formatting, bounded buffers.
        let window = CHUNK * rayon::current_num_threads().max(1) * 2;
        for round in records.chunks(window) {
            let blocks: Vec<csv::Result<Vec<u8>>> = round
                .par_chunks(CHUNK)
                .map(|chunk| {
                    let mut w = csv::Writer::from_writer(Vec::with_capacity(chunk.len() * 256));
                    let mut scratch = Scratch::default();
                    for r in chunk {
                        write_row(&mut w, r, &ctx.ingest.file(r.source.file).path, &mut scratch)?;
                    }
                    Ok(w.into_inner().expect("a Vec<u8> sink cannot fail to flush"))
                })
                .collect();
            for block in blocks {
                out.write_all(&block?)?;
            }
        }
        out.flush()?;
        Ok(())
    }
}

/// Reused formatting buffer, and the last dimensions looked up (runs are
/// contiguous, so this spares the shared dimension table almost every row).
#[derive(Default)]
struct Scratch(String, Option<(crate::model::DimsId, std::sync::Arc<crate::model::Dimensions>)>);

impl Scratch {
    fn num<T: std::fmt::Display>(&mut self, v: Option<T>) -> &[u8] {
        use std::fmt::Write as _;
        self.0.clear();
        if let Some(x) = v {
            let _ = write!(self.0, "{x}");
        }
        self.0.as_bytes()
    }
}

fn write_row<W: Write>(w: &mut csv::Writer<W>, r: &UnifiedRecord, source: &str, n: &mut Scratch) -> csv::Result<()> {
    let d = match &n.1 {
        Some((id, d)) if *id == r.dims => std::sync::Arc::clone(d),
        _ => {
            let d = r.dimensions();
            n.1 = Some((r.dims, std::sync::Arc::clone(&d)));
            d
        }
    };
    let m = r.measured.as_deref();
    fn text<W: Write>(w: &mut csv::Writer<W>, s: Option<&str>) -> csv::Result<()> {
        w.write_field(csv_cell(s.unwrap_or("")).as_bytes())
    }
    text(w, Some(r.backend.as_str()))?;
    text(w, Some(r.workload.as_str()))?;
    text(w, Some(r.run_id.as_str()))?;
    w.write_field(n.num(r.seed))?;
    w.write_field(n.num(Some(r.nodes)))?;
    w.write_field(n.num(Some(r.parallelism)))?;
    w.write_field(n.num(Some(r.throughput)))?;
    w.write_field(n.num(r.latency_p50))?;
    w.write_field(n.num(r.latency_p95))?;
    w.write_field(n.num(r.latency_p99))?;
    w.write_field(n.num(r.success_rate))?;
    w.write_field(n.num(Some(r.duration_seconds)))?;
    text(w, Some(&r.timestamp))?;
    text(w, r.config_hash.map(|s| s.as_str()))?;
    text(w, r.backend_hash.map(|s| s.as_str()))?;
    text(w, Some(r.shape_hash.as_str()))?;
    text(w, d.experiment.map(|s| s.as_str()))?;
    text(w, d.pipeline.map(|p| p.label()))?;
    text(w, d.scheduler.map(|p| p.label()))?;
    text(w, d.load_level.map(|p| p.label()))?;
    w.write_field(n.num(d.concurrency))?;
    w.write_field(n.num(d.concurrent_jobs))?;
    w.write_field(n.num(d.start_delay_ms.map(|ms| ms as f64 / 1000.0)))?;
    text(w, d.task_complexity.map(|p| p.label()))?;
    w.write_field(n.num(d.num_tasks))?;
    w.write_field(n.num(d.warmup_items))?;
    w.write_field(n.num(d.parity_batch_size))?;
    w.write_field(n.num(m.and_then(|m| m.avg_latency_ms)))?;
    w.write_field(n.num(m.and_then(|m| m.scheduling_ms)))?;
    w.write_field(n.num(m.and_then(|m| m.queue_ms)))?;
    w.write_field(n.num(m.and_then(|m| m.execution_ms)))?;
    w.write_field(n.num(m.and_then(|m| m.balance_score)))?;
    w.write_field(n.num(m.and_then(|m| m.successful_tasks)))?;
    w.write_field(n.num(m.and_then(|m| m.failed_tasks)))?;
    text(w, r.path_run_id.map(|s| s.as_str()))?;
    text(w, r.path_config_hash.map(|s| s.as_str()))?;
    text(w, r.metadata.map(|s| s.as_str()))?;
    text(w, r.extra.map(|s| s.as_str()))?;
    text(w, Some(source))?;
    w.write_field(n.num(Some(r.source.line)))?;
    w.write_record(None::<&[u8]>)
}
