//! `comparison.csv`: every accepted record, normalized, in a stable column
//! order, with its source file and line. Text cells are neutralized
//! against spreadsheet formula injection.

use super::escape::csv_cell;
use super::{Renderer, ReportContext};
use crate::model::{FreeText, Sym, UnifiedRecord};
use std::io::Write;
use std::path::Path;

pub struct ComparisonCsv;

/// The file's name in the bundle.
pub const FILE: &str = "comparison.csv";

/// The column order (stable; new columns are only ever appended).
pub const COLUMNS: [&str; 40] = [
    "backend",
    "workload",
    "run_id",
    "seed",
    "nodes",
    "parallelism",
    "throughput",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "success_rate",
    "duration_seconds",
    "timestamp",
    "config_hash",
    "backend_hash",
    "shape_hash",
    "experiment",
    "pipeline",
    "scheduler",
    "load_level",
    "concurrency",
    "concurrent_jobs",
    "start_delay_s",
    "task_complexity",
    "num_tasks",
    "warmup_items",
    "parity_batch_size",
    "avg_latency_ms",
    "scheduling_ms",
    "queue_ms",
    "execution_ms",
    "balance_score",
    "successful_tasks",
    "failed_tasks",
    "path_run_id",
    "path_config_hash",
    "metadata",
    "extra",
    "source_file",
    "source_line",
];

/// Rows formatted per parallel chunk. Chunks are written in order by a
/// dedicated writer thread while the next window formats, so the file is
/// identical to a sequential write, both cores stay busy, and memory stays
/// bounded: at most four windows of 2 × threads chunks (~1 MiB each at
/// upstream's ~1 KiB rows) exist at once, whatever the number of records.
const CHUNK: usize = 1_024;

impl Renderer for ComparisonCsv {
    fn name(&self) -> &'static str {
        FILE
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<super::OutFile>> {
        let bytes = stream_csv(ctx.ingest, Vec::new(), FILE)?;
        Ok(vec![(FILE.to_string(), bytes)])
    }
}

/// Write `comparison.csv` of `ingest` to `path` (streamed: the bundle
/// writes it while the analysis runs).
pub fn write_csv(ingest: &crate::ingest::IngestReport, path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", path.display()))?;
    stream_csv(ingest, file, &path.display().to_string()).map(drop)
}

/// `comparison.csv` of `ingest` written to `out` (`shown` names it in
/// errors); returns `out`.
fn stream_csv<W: Write + Send>(ingest: &crate::ingest::IngestReport, file: W, shown: &str) -> anyhow::Result<W> {
    use rayon::prelude::*;
    use std::sync::mpsc::sync_channel;
    let records = &ingest.records;
    let chunks_per_window = rayon::current_num_threads().max(1) * 2;
    // Full windows go to the writer; emptied buffers come back for reuse.
    let (full_tx, full_rx) = sync_channel::<Vec<Vec<u8>>>(1);
    let (empty_tx, empty_rx) = sync_channel::<Vec<Vec<u8>>>(2);
    std::thread::scope(|scope| -> anyhow::Result<W> {
        let writer = scope.spawn(move || -> std::io::Result<W> {
            let mut out = file;
            for window in full_rx {
                for block in &window {
                    out.write_all(block)?;
                }
                // Never block: when the pool is full (or the formatter is
                // done) the buffers are simply freed.
                let _ = empty_tx.try_send(window);
            }
            out.flush()?;
            Ok(out)
        });
        let mut header = Vec::with_capacity(512);
        for (i, column) in COLUMNS.iter().enumerate() {
            if i > 0 {
                header.push(b',');
            }
            push_quoted_if_needed(&mut header, column.as_bytes());
        }
        header.push(b'\n');
        let mut sent = full_tx.send(vec![header]).is_ok();
        for round in records.chunks(CHUNK * chunks_per_window) {
            if !sent {
                break;
            }
            let mut window = empty_rx.try_recv().unwrap_or_default();
            window.resize_with(round.len().div_ceil(CHUNK), Vec::new);
            let formatted = window.par_iter_mut().zip(round.par_chunks(CHUNK)).try_for_each(
                |(block, chunk)| -> anyhow::Result<()> {
                    block.clear();
                    let mut row = RowWriter::default();
                    for r in chunk {
                        row.write(block, r, ingest)?;
                    }
                    Ok(())
                },
            );
            if let Err(e) = formatted {
                drop(full_tx);
                let _ = writer.join();
                return Err(e);
            }
            sent = full_tx.send(window).is_ok();
        }
        drop(full_tx);
        let out = writer
            .join()
            .map_err(|_| anyhow::anyhow!("{shown}: the writer thread panicked"))??;
        Ok(out)
    })
    .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

/// Formats rows straight into bytes. Byte-identical to the `csv` crate's
/// default writer (fields quoted only when they hold `,` `"` CR or LF,
/// quotes doubled, `\n` terminator), but each text column remembers its
/// last value: consecutive rows of a run share backend, hashes, metadata
/// and file, so their escaped cells are copied instead of re-escaped.
#[derive(Default)]
struct RowWriter {
    columns: [LastCell; 11],
    dims: Option<(crate::model::DimsId, std::sync::Arc<crate::model::Dimensions>)>,
    texts: FileTexts,
}

/// What a text column's cell was made from: a symbol (or none), a span of
/// a file, a file's path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellKey {
    Sym(Option<Sym>),
    Span(crate::model::FileId, u64),
    File(crate::model::FileId),
}

/// One text column's last input and its cell.
#[derive(Default)]
struct LastCell {
    key: Option<CellKey>,
    cell: Vec<u8>,
}

impl LastCell {
    fn put<'t, E>(
        &mut self,
        out: &mut Vec<u8>,
        key: CellKey,
        text: impl FnOnce() -> Result<Option<&'t str>, E>,
    ) -> Result<(), E> {
        if self.key != Some(key) {
            self.cell.clear();
            self.key = None;
            if let Some(t) = text()? {
                push_text(&mut self.cell, t);
            }
            self.key = Some(key);
        }
        out.extend_from_slice(&self.cell);
        Ok(())
    }

    fn sym(&mut self, out: &mut Vec<u8>, s: Option<Sym>) {
        let _: Result<(), std::convert::Infallible> = self.put(out, CellKey::Sym(s), || Ok(s.map(Sym::as_str)));
    }
}

/// Reads free-form objects back from their files ([`FreeText::InFile`]),
/// a window at a time: a chunk's records come in file order, so each byte
/// is read about once.
#[derive(Default)]
struct FileTexts {
    file: Option<(crate::model::FileId, std::fs::File)>,
    window_start: u64,
    window: Vec<u8>,
}

impl FileTexts {
    const WINDOW: usize = 1 << 20;

    fn get(
        &mut self,
        ingest: &crate::ingest::IngestReport,
        id: crate::model::FileId,
        offset: u64,
        len: u32,
    ) -> anyhow::Result<&str> {
        use std::os::unix::fs::FileExt;
        let summary = ingest.file(id);
        let changed = || {
            anyhow::anyhow!(
                "{}: changed while the report was made (its records' metadata is read from it again); run the command again",
                summary.path
            )
        };
        if self.file.as_ref().map(|(f, _)| *f) != Some(id) {
            let stamp = summary.stamp.as_ref().ok_or_else(changed)?;
            // Not a plain open: a file swapped for a FIFO would block it.
            let file = crate::ingest::guard::open_regular(&stamp.path)
                .map_err(|e| anyhow::anyhow!("{}: cannot read again: {e}", summary.path))?;
            let now = file.metadata()?;
            if now.len() != stamp.len || now.modified().ok() != stamp.modified {
                return Err(changed());
            }
            self.file = Some((id, file));
            self.window.clear();
            self.window_start = 0;
        }
        let end = offset + u64::from(len);
        if offset < self.window_start || end > self.window_start + self.window.len() as u64 {
            let file = &self.file.as_ref().expect("opened above").1;
            self.window.resize((len as usize).max(Self::WINDOW), 0);
            let mut filled = 0;
            while filled < self.window.len() {
                match file.read_at(&mut self.window[filled..], offset + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(anyhow::anyhow!("{}: cannot read again: {e}", summary.path)),
                }
            }
            self.window.truncate(filled);
            self.window_start = offset;
            if filled < len as usize {
                return Err(changed());
            }
        }
        let at = (offset - self.window_start) as usize;
        std::str::from_utf8(&self.window[at..at + len as usize]).map_err(|_| changed())
    }

    /// The cell of a free-form object.
    fn put(
        &mut self,
        column: &mut LastCell,
        out: &mut Vec<u8>,
        text: Option<FreeText>,
        file: crate::model::FileId,
        ingest: &crate::ingest::IngestReport,
    ) -> anyhow::Result<()> {
        match text {
            None => {
                column.sym(out, None);
                Ok(())
            }
            Some(FreeText::Interned(s)) => {
                column.sym(out, Some(s));
                Ok(())
            }
            Some(FreeText::InFile { offset, len }) => column.put(out, CellKey::Span(file, offset), || {
                self.get(ingest, file, offset, len).map(Some)
            }),
        }
    }
}

impl RowWriter {
    fn write(
        &mut self,
        out: &mut Vec<u8>,
        r: &UnifiedRecord,
        ingest: &crate::ingest::IngestReport,
    ) -> anyhow::Result<()> {
        let RowWriter { columns, dims, texts } = self;
        // Borrowed, not cloned: no shared reference count touched per row.
        let d: &crate::model::Dimensions = match dims {
            Some((id, d)) if *id == r.dims => d,
            _ => &dims.insert((r.dims, r.dimensions())).1,
        };
        let m = r.measured.as_deref();
        let [backend, workload, run_id, config, backend_hash, shape, path_run, path_config, metadata, extra, file] =
            columns;
        let mut f = Fields { out, started: false };
        f.sym(backend, Some(r.backend));
        f.sym(workload, Some(r.workload));
        f.sym(run_id, Some(r.run_id));
        f.uint(r.seed);
        f.uint(Some(r.nodes));
        f.uint(Some(r.parallelism));
        f.float(Some(r.throughput));
        f.float(r.latency_p50);
        f.float(r.latency_p95);
        f.float(r.latency_p99);
        f.float(r.success_rate);
        f.float(Some(r.duration_seconds));
        f.text(r.timestamp.as_str(&mut [0; 32]));
        f.sym(config, r.config_hash);
        f.sym(backend_hash, r.backend_hash);
        f.sym(shape, Some(r.shape_hash));
        f.text(d.experiment.map_or("", |s| s.as_str()));
        f.text(d.pipeline.map_or("", |p| p.label()));
        f.text(d.scheduler.map_or("", |p| p.label()));
        f.text(d.load_level.map_or("", |p| p.label()));
        f.uint(d.concurrency);
        f.uint(d.concurrent_jobs);
        f.float(d.start_delay_ms.map(|ms| ms as f64 / 1000.0));
        f.text(d.task_complexity.map_or("", |p| p.label()));
        f.uint(d.num_tasks);
        f.uint(d.warmup_items);
        f.uint(d.parity_batch_size);
        f.float(m.and_then(|m| m.avg_latency_ms));
        f.float(m.and_then(|m| m.scheduling_ms));
        f.float(m.and_then(|m| m.queue_ms));
        f.float(m.and_then(|m| m.execution_ms));
        f.float(m.and_then(|m| m.balance_score));
        f.uint(m.and_then(|m| m.successful_tasks));
        f.uint(m.and_then(|m| m.failed_tasks));
        f.sym(path_run, r.path_run_id);
        f.sym(path_config, r.path_config_hash);
        texts.put(metadata, f.next(), r.metadata, r.source.file, ingest)?;
        texts.put(extra, f.next(), r.extra, r.source.file, ingest)?;
        let source = &ingest.file(r.source.file).path;
        let _: Result<(), std::convert::Infallible> =
            file.put(f.next(), CellKey::File(r.source.file), || Ok(Some(source.as_str())));
        f.uint(Some(r.source.line));
        f.out.push(b'\n');
        Ok(())
    }
}

/// The fields of one row, comma-separated as they are pushed.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    started: bool,
}

impl Fields<'_> {
    /// The buffer, positioned for the next field.
    fn next(&mut self) -> &mut Vec<u8> {
        if self.started {
            self.out.push(b',');
        }
        self.started = true;
        self.out
    }

    fn uint<T: itoa::Integer>(&mut self, v: Option<T>) {
        push_uint(self.next(), v);
    }

    fn float(&mut self, v: Option<f64>) {
        push_float(self.next(), v);
    }

    fn text(&mut self, text: &str) {
        push_text(self.next(), text);
    }

    fn sym(&mut self, column: &mut LastCell, s: Option<Sym>) {
        column.sym(self.next(), s);
    }
}

/// A text cell: formula-neutralized ([`csv_cell`]), then quoted as the
/// `csv` crate's `QuoteStyle::Necessary` does.
fn push_text(out: &mut Vec<u8>, text: &str) {
    push_quoted_if_needed(out, csv_cell(text).as_bytes());
}

fn push_quoted_if_needed(out: &mut Vec<u8>, field: &[u8]) {
    if !field.iter().any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    let mut rest = field;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        out.push(b'"');
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

fn push_uint<T: itoa::Integer>(out: &mut Vec<u8>, v: Option<T>) {
    if let Some(x) = v {
        out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes());
    }
}

/// `x` exactly as `Display` writes it (shortest round-trip digits, never
/// an exponent). Żmij (`zmij`, Schubfach-based, which serde_json uses;
/// 2.4 % of `compare`'s CPU on the 1.27 GB harness tree where ryu took
/// 4.3 %) finds the same shortest digits except, possibly, at an exact tie
/// between two shortest candidates, which `Display` rounds half up; so
/// values where a tie is possible, integers, and what it would write with
/// an exponent go through `Display` (tested against `Display`).
fn push_float(out: &mut Vec<u8>, v: Option<f64>) {
    let Some(x) = v else { return };
    if x.is_finite() && !tie_possible_or_integral(x) {
        let mut buf = zmij::Buffer::new();
        let text = buf.format_finite(x).as_bytes();
        if !text.contains(&b'e') {
            out.extend_from_slice(text);
            return;
        }
    }
    use std::io::Write as _;
    let _ = write!(out, "{x}");
}

/// True when `x` is integral, or its exact decimal expansion is at most 18
/// significant digits: only then can it lie exactly halfway between two
/// shortest (≤ 17-digit) candidates.
fn tie_possible_or_integral(x: f64) -> bool {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return true;
    }
    let zeros = mantissa.trailing_zeros();
    let (mantissa, exponent) = (mantissa >> zeros, exponent + zeros as i32);
    if exponent >= 0 {
        return true;
    }
    // x = mantissa / 2^k = mantissa·5^k / 10^k: its significant digits are
    // those of mantissa·5^k, at least 5^26 > 10^18 once k > 25.
    let k = exponent.unsigned_abs();
    k <= 25 && u128::from(mantissa) * 5u128.pow(k) < 10u128.pow(18)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects are read back from the files; a file rewritten between
    /// reading and writing must stop the report, naming the file.
    #[test]
    fn metadata_is_read_back_from_the_file_and_a_changed_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("tree/backends/sage");
        std::fs::create_dir_all(&run).unwrap();
        let line = |i: u32, counter: u32| {
            format!(
                r#"{{"backend": "sage", "workload": "w", "run_id": "r", "seed": 1, "nodes": 1, "parallelism": 2, "throughput": {i}.5, "latency_p50": null, "latency_p95": null, "latency_p99": null, "success_rate": null, "duration_seconds": 1.0, "timestamp": "2026-02-21T03:58:3{i}.000001+00:00", "metadata": {{"scheduler_name": "fifo", "raw_metrics": {{"decisions": {counter}, "note": "a,\"quoted\" value"}}}}}}"#
            )
        };
        let body: String = (0..3).map(|i| line(i, 10 * i) + "\n").collect();
        let file = run.join("unified_results.jsonl");
        std::fs::write(&file, &body).unwrap();
        let report = crate::ingest::ingest(&[dir.path().join("tree")], &Default::default()).unwrap();
        assert!(report
            .records
            .iter()
            .all(|r| matches!(r.metadata, Some(FreeText::InFile { .. }))));
        let bytes = stream_csv(&report, Vec::new(), "comparison.csv").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut rows = ::csv::Reader::from_reader(text.as_bytes());
        let column = COLUMNS.iter().position(|c| *c == "metadata").unwrap();
        let metadata: Vec<String> = rows.records().map(|r| r.unwrap()[column].to_string()).collect();
        for (i, cell) in metadata.iter().enumerate() {
            let want = body.lines().nth(i).unwrap();
            let start = want.find("{\"scheduler_name\"").unwrap();
            assert_eq!(cell, &want[start..want.len() - 1]);
        }
        // Rewritten with other content (another length): refused.
        std::fs::write(&file, body.replace("decisions\": 10", "decisions\": 1000")).unwrap();
        let err = stream_csv(&report, Vec::new(), "comparison.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unified_results.jsonl") && err.contains("changed"),
            "{err}"
        );
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact tie values, written out in full
    fn floats_match_display() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            // SplitMix64: reproducible bit patterns across the whole range.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e15,
            1e16,
            1e17,
            1e-5,
            1e-7,
            123456.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        values.extend([
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            0.30000000000000004,
            207.02646203625088,
        ]);
        // Exact ties between two shortest candidates (`Display` rounds them half up).
        values.extend([
            1308548795726862.25,
            1000.0 + 1.0 / 16384.0,
            2f64.powi(52) + 0.5,
            4503599627370497.0,
        ]);
        for k in 1..=25 {
            values.push(1.0 + 1.0 / f64::from(1u32 << k.min(31)));
            values.push(123456789.0 + 2f64.powi(-k));
        }
        for _ in 0..300_000 {
            let bits = next();
            values.push(f64::from_bits(bits));
            // Benchmark-like magnitudes: ms latencies, rates, throughputs.
            values.push((bits >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((bits % 12) as i32 - 3));
            // Few mantissa bits (float32-derived data): where ties live.
            values.push(f64::from(f32::from_bits(bits as u32)));
            values.push(((bits >> 40) as f64) / 2f64.powi((bits % 20) as i32) + 1e15 * ((bits >> 60) & 1) as f64);
        }
        for x in values {
            let mut out = Vec::new();
            push_float(&mut out, Some(x));
            assert_eq!(String::from_utf8(out).unwrap(), x.to_string(), "{x:e}");
        }
    }

    #[test]
    fn quoting_matches_the_csv_crate() {
        for field in [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\rx",
            "{\"k\": 1, \"v\": [2]}",
            "'=x",
        ] {
            let mut ours = Vec::new();
            push_quoted_if_needed(&mut ours, field.as_bytes());
            ours.extend_from_slice(b",x\n");
            let mut theirs = csv::Writer::from_writer(Vec::new());
            theirs.write_record([field, "x"]).unwrap();
            assert_eq!(ours, theirs.into_inner().unwrap(), "{field:?}");
        }
    }

    #[test]
    fn text_cells_are_neutralized() {
        let mut out = Vec::new();
        push_text(&mut out, "=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
    }

    fn clean_tree() -> crate::ingest::IngestReport {
        let tree = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/clean");
        crate::ingest::ingest(&[tree], &Default::default()).unwrap()
    }

    #[test]
    fn parallel_rows_equal_the_csv_crate_row_by_row() {
        // Enough records for several chunks and windows, with legacy results
        // (their measured fields) and faults (hostile text) among them.
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::synth::TreeSpec {
            runs: 12,
            records_per_run: 4_000,
            seed: 11,
            faults: true,
            legacy: true,
            twins: false,
            shape: crate::synth::Shape::Mixed,
        };
        crate::synth::generate(&spec, &dir.path().join("tree")).unwrap();
        let report = crate::ingest::ingest(&[dir.path().join("tree")], &Default::default()).unwrap();
        assert!(report.records.len() > 4 * CHUNK, "{}", report.records.len());
        let path = dir.path().join(FILE);
        write_csv(&report, &path).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        let mut rows = csv::Reader::from_reader(written.as_bytes());
        assert_eq!(rows.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), report.records.len());
        // Every row in record order, each with its source; a round trip
        // through the csv crate reproduces the bytes.
        let mut again = csv::Writer::from_writer(Vec::new());
        again.write_record(COLUMNS).unwrap();
        for (row, r) in rows.iter().zip(&report.records) {
            assert_eq!(&row[0], r.backend.as_str());
            assert_eq!(row[39].parse::<u32>().unwrap(), r.source.line);
            again.write_record(row).unwrap();
        }
        assert_eq!(String::from_utf8(again.into_inner().unwrap()).unwrap(), written);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_is_an_error_naming_the_file_not_a_hang() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            eprintln!("skipped: no /dev/full");
            return;
        }
        let err = write_csv(&clean_tree(), full).unwrap_err().to_string();
        assert!(err.contains("/dev/full"), "{err}");
    }
}
