//! Unified CSV: header-driven (any column order), streamed, BOM and CRLF
//! tolerated. A row identical to a JSONL record in the same folder is its
//! twin (upstream always writes both) and is counted once.

use super::sink::{bytes_key, twin_key, twin_key_of, FileSink, KeyMap, KeySet, TwinFields};
use crate::model::normalize::Context;
use crate::model::raw::{RawRecord, Val, CSV_COLUMNS, REQUIRED_FIELDS};
use crate::model::ProblemKind;
use crate::model::Sym;

use std::io::BufRead;

/// Line numbers for CSV records. The csv crate's own `Position::line`
/// lags by one after each CRLF row, so lines are counted here from the
/// bytes: a record starting at byte `b` is on line 1 + the number of `\n`
/// at offsets ≤ `b` (≤, because after a CRLF the crate's offset points at
/// the `\n`). Newline offsets are kept only for the read-ahead window.
///
/// Also bounds memory: once a physical line is longer than `max_line`
/// bytes, reading fails with a [`LineTooLong`] error (after handing over
/// the lines before it), and keeps failing.
pub struct LineTracker<R> {
    inner: R,
    state: std::rc::Rc<std::cell::RefCell<LineState>>,
    max_line: u64,
    failed: Option<u32>,
}

#[derive(Default)]
pub struct LineState {
    consumed: u64,
    pending: std::collections::VecDeque<u64>,
    counted: u64,
    /// Offset where the current physical line starts.
    line_start: u64,
}

/// Handle to ask a [`LineTracker`] for the line of a byte offset.
#[derive(Clone)]
pub struct Lines(std::rc::Rc<std::cell::RefCell<LineState>>);

/// The I/O error of a [`LineTracker`] at a line longer than its limit.
#[derive(Debug)]
pub struct LineTooLong {
    pub line: u32,
    pub max_line: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is longer than {} (--max-line)",
            self.line,
            super::guard::format_size(self.max_line)
        )
    }
}

impl std::error::Error for LineTooLong {}

impl LineTooLong {
    /// The [`LineTooLong`] inside a csv error, if that is what it is.
    pub fn of(e: &csv::Error) -> Option<&LineTooLong> {
        match e.kind() {
            csv::ErrorKind::Io(io) => io.get_ref()?.downcast_ref::<LineTooLong>(),
            _ => None,
        }
    }
}

impl<R: std::io::Read> LineTracker<R> {
    pub fn new(inner: R, max_line: u64) -> (Self, Lines) {
        let state = std::rc::Rc::new(std::cell::RefCell::new(LineState::default()));
        (
            LineTracker {
                inner,
                state: state.clone(),
                max_line,
                failed: None,
            },
            Lines(state),
        )
    }

    fn too_long(&self, line: u32) -> std::io::Error {
        std::io::Error::other(LineTooLong {
            line,
            max_line: self.max_line,
        })
    }
}

impl<R: std::io::Read> std::io::Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(line) = self.failed {
            return Err(self.too_long(line));
        }
        let n = self.inner.read(buf)?;
        let mut st = self.state.borrow_mut();
        let base = st.consumed;
        let mut start = st.line_start;
        let mut lines_before = st.counted + st.pending.len() as u64;
        let mut over: Option<u64> = None;
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            let nl = base + i as u64;
            if nl - start > self.max_line {
                over = Some(start);
                break;
            }
            st.pending.push_back(nl);
            lines_before += 1;
            start = nl + 1;
        }
        if over.is_none() && base + n as u64 - start > self.max_line {
            over = Some(start);
        }
        let Some(bad_start) = over else {
            st.consumed += n as u64;
            st.line_start = start;
            return Ok(n);
        };
        // Hand over the lines before the long one; fail from the next read.
        let line = u32::try_from(lines_before + 1).unwrap_or(u32::MAX);
        drop(st);
        self.failed = Some(line);
        if bad_start > base {
            let kept = (bad_start - base) as usize;
            let mut st = self.state.borrow_mut();
            st.consumed += kept as u64;
            st.line_start = bad_start;
            return Ok(kept);
        }
        Err(self.too_long(line))
    }
}

impl Lines {
    /// Line of a record starting at `byte` (queries must not go backwards).
    pub fn line_at(&self, byte: u64) -> u32 {
        let mut st = self.0.borrow_mut();
        while st.pending.front().is_some_and(|&nl| nl <= byte) {
            st.pending.pop_front();
            st.counted += 1;
        }
        (st.counted + 1) as u32
    }
}

/// An I/O error of the CSV reader: a line over `--max-line` becomes one
/// rejected entry at its line (reading stops: the reader cannot resync);
/// any other error is returned.
pub fn reject_line_too_long(e: csv::Error, sink: &mut FileSink<'_>) -> std::io::Result<()> {
    let Some((line, message)) = LineTooLong::of(&e).map(|l| (l.line, l.to_string())) else {
        return Err(e.into());
    };
    sink.tally.records += 1;
    sink.tally.rejected += 1;
    sink.error(
        Some(line),
        ProblemKind::LineTooLong,
        format!("{message}; the rest of the file is not read"),
    );
    Ok(())
}

/// Skip a UTF-8 byte-order mark at the start of `reader`.
pub fn skip_bom(reader: &mut impl BufRead) -> std::io::Result<()> {
    let head = reader.fill_buf()?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

/// What a reused [`CsvReader`] reads: the current file, swapped between files.
pub struct Current(Option<Box<dyn std::io::Read>>);

impl std::io::Read for Current {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.as_mut().map_or(Ok(0), |source| source.read(buf))
    }
}

impl std::io::Seek for Current {
    /// Only [`CsvReader::over`]'s reset seeks, with no source: nothing to move.
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Ok(0)
    }
}

thread_local! {
    /// This thread's idle csv reader (see [`CsvReader`]).
    static SPARE_CSV: std::cell::RefCell<Option<csv::Reader<Current>>> = const { std::cell::RefCell::new(None) };
}

/// A csv reader (no header row of its own, rows of any length) over one
/// file, reused by the files a thread reads: building one builds csv_core's
/// state machine (~12 µs, a tenth of the per-file cost of a harness tree's
/// thousands of small CSV files). Handed back to the thread when dropped.
pub struct CsvReader(Option<csv::Reader<Current>>);

impl CsvReader {
    pub fn over(source: impl std::io::Read + 'static) -> CsvReader {
        let fresh = || {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(Current(None))
        };
        let mut reader = SPARE_CSV.with(|spare| spare.borrow_mut().take()).unwrap_or_else(fresh);
        // Reset while it has no source: its buffer emptied, the parser at
        // line 1, byte 0, not at EOF (`seek_raw` first reads the header row
        // it keeps for `headers()`, unused here: from no source, nothing).
        if reader
            .seek_raw(std::io::SeekFrom::Start(0), csv::Position::new())
            .is_err()
        {
            reader = fresh();
        }
        reader.get_mut().0 = Some(Box::new(source));
        CsvReader(Some(reader))
    }
}

impl std::ops::Deref for CsvReader {
    type Target = csv::Reader<Current>;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for CsvReader {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.as_mut().expect("present until dropped")
    }
}

impl Drop for CsvReader {
    fn drop(&mut self) {
        if let Some(mut reader) = self.0.take() {
            reader.get_mut().0 = None;
            let _ = SPARE_CSV.try_with(|spare| *spare.borrow_mut() = Some(reader));
        }
    }
}

/// Read a unified CSV into `sink`. `twins` holds the twin keys of the
/// records of the JSONL file beside it. `Some(reason)`: the file is not
/// unified records (its header names fewer than
/// [`super::jsonl::FIELDS_OF_A_RECORD`] fields of one) and was not read.
pub fn read(
    mut reader: impl BufRead + 'static,
    sink: &mut FileSink<'_>,
    ctx: &Context<'_>,
    twins: Option<&KeySet>,
    max_line: u64,
) -> std::io::Result<Option<String>> {
    skip_bom(&mut reader)?;
    let (tracked, lines) = LineTracker::new(reader, max_line);
    let mut csv = CsvReader::over(tracked);
    let mut row = csv::StringRecord::new();

    let header: Vec<String> = match csv.read_record(&mut row) {
        Ok(true) => row.iter().map(|h| h.trim().to_string()).collect(),
        Ok(false) => {
            sink.warning(None, ProblemKind::EmptyFile, "file is empty: no header, no records");
            return Ok(None);
        }
        Err(e) => {
            if let Some(long) = LineTooLong::of(&e) {
                sink.error(
                    Some(long.line),
                    ProblemKind::LineTooLong,
                    format!("{long}; the rest of the file is not read"),
                );
            } else {
                sink.error(
                    Some(1),
                    ProblemKind::MalformedCsv,
                    format!("header is not valid CSV: {e}"),
                );
            }
            return Ok(None);
        }
    };

    // A header naming hardly any field of a unified record (in any letter
    // case, also split at a spreadsheet's separator) is another kind of CSV
    // — upstream's per-task `metrics_<instance>.csv`, exports, notes —
    // skipped with its columns named rather than every row rejected.
    let record_like = super::jsonl::looks_like_a_record(header.iter().flat_map(|h| h.split([';', '\t', '|'])));
    if !record_like && !header.iter().all(|h| h.is_empty()) {
        let shown: Vec<&str> = header.iter().take(8).map(String::as_str).collect();
        let more = if header.len() > shown.len() { ", …" } else { "" };
        return Ok(Some(format!(
            "a CSV without unified records (columns {}{more}): not a result format, not read",
            shown.join(", ")
        )));
    }
    let mut missing: Vec<&str> = REQUIRED_FIELDS
        .iter()
        .copied()
        .filter(|f| !header.iter().any(|h| h == f))
        .collect();
    if ctx.path_backend.is_some() {
        missing.retain(|f| *f != "backend");
    }
    let mut probe = RawRecord::default();
    let mut unknown: Vec<&str> = Vec::new();
    for h in &header {
        if !CSV_COLUMNS.contains(&h.as_str()) && !probe.set(h, Val::Null) && !unknown.contains(&h.as_str()) {
            unknown.push(h);
        }
    }
    if !unknown.is_empty() {
        sink.warning(
            Some(1),
            ProblemKind::Suspicious,
            format!("unknown columns ignored: {}", unknown.join(", ")),
        );
    }
    // A column named twice: which cell a row means is unknown (the fast twin
    // check would read one, the record another), so no row is read.
    let repeated: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            header[..*i].iter().filter(|e| e == h).count() == 1
                && (CSV_COLUMNS.contains(&h.as_str()) || probe.set(h, Val::Null))
        })
        .map(|(_, h)| {
            let at: Vec<String> = (1..)
                .zip(&header)
                .filter(|(_, e)| *e == h)
                .map(|(column, _)| column.to_string())
                .collect();
            format!("{h} (columns {})", at.join(", "))
        })
        .collect();
    if !repeated.is_empty() {
        sink.error(
            Some(1),
            ProblemKind::MalformedCsv,
            format!(
                "header names {} more than once; every row of this file is rejected — keep one column of each name",
                repeated.join(", ")
            ),
        );
    }
    let reject_all = !missing.is_empty() || !repeated.is_empty();
    // A header of one column holding another separator: a spreadsheet's
    // export (`;` in many locales, or tabs), not missing columns.
    let separator = match header.as_slice() {
        [only] => [';', '\t', '|'].into_iter().find(|c| only.contains(*c)),
        _ => None,
    };
    if let (false, Some(sep)) = (missing.is_empty(), separator) {
        sink.error(
            Some(1),
            ProblemKind::MissingColumn,
            format!(
                "the header is one column holding {:?}: the file seems separated by {:?}, and sagereport reads comma-separated CSV; every row of this file is rejected — export it with commas",
                sep, sep
            ),
        );
    } else if !missing.is_empty() {
        sink.error(
            Some(1),
            ProblemKind::MissingColumn,
            format!(
                "header lacks required column{} {}; every row of this file is rejected — add the column (empty cells mean null)",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            ),
        );
    }

    let columns: Option<[usize; 15]> =
        (!reject_all).then(|| CSV_COLUMNS.map(|c| header.iter().position(|h| h == c).unwrap_or(usize::MAX)));
    let mut seen: KeyMap<u32> = KeyMap::default();
    let mut syms = LastSyms::default();
    let mut last_line = 1u32;
    loop {
        let more = csv.read_record(&mut row);
        let line = row.position().map(|p| lines.line_at(p.byte())).unwrap_or(last_line + 1);
        match more {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => {
                reject_line_too_long(e, sink)?;
                break;
            }
            Err(e) => {
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(last_line + 1);
                sink.tally.records += 1;
                sink.tally.rejected += 1;
                sink.error(
                    Some(line),
                    ProblemKind::MalformedCsv,
                    format!("row is not valid CSV: {}", csv_error_kind(&e)),
                );
                last_line = line;
                continue;
            }
        }
        last_line = line;
        if row.len() == 1 && row[0].trim().is_empty() {
            continue; // blank line
        }
        sink.tally.records += 1;
        if reject_all {
            sink.tally.rejected += 1;
            continue;
        }
        if row.len() != header.len() {
            sink.tally.rejected += 1;
            sink.error(
                Some(line),
                ProblemKind::MalformedCsv,
                format!(
                    "row has {} fields but the header has {}; check for an unquoted comma or a cut-off row",
                    row.len(),
                    header.len()
                ),
            );
            continue;
        }
        let key = bytes_key(row.as_slice().as_bytes());
        if let Some(&first) = seen.get(&key) {
            sink.tally.duplicates += 1;
            sink.warning(
                Some(line),
                ProblemKind::DuplicateRecord,
                format!("identical to line {first}; counted once"),
            );
            continue;
        }
        seen.insert(key, line);

        // Fast path: a twin of a JSONL record is recognised from its cells
        // alone; only rows that are not twins are validated in full.
        if let (Some(twins), Some(cols)) = (twins, &columns) {
            if fast_twin_key(&row, cols, ctx, &mut syms).is_some_and(|k| twins.contains(&k)) {
                sink.tally.twins_merged += 1;
                continue;
            }
        }

        let mut raw = RawRecord::default();
        for (name, cell) in header.iter().zip(row.iter()) {
            raw.set(name, Val::Cell(cell));
        }
        let problems_before = sink.problems.len();
        if let Some(index) = sink.take(&mut raw, ctx, line) {
            if let Some(twins) = twins {
                if twins.contains(&twin_key(&sink.records[index])) {
                    // The JSONL record already counts, with its warnings;
                    // this row is its copy.
                    sink.problems.truncate(problems_before);
                    sink.records.pop();
                    sink.tally.accepted -= 1;
                    sink.tally.twins_merged += 1;
                }
            }
        }
    }
    Ok(None)
}

/// The last text looked up per column and its symbol: a run's rows repeat
/// backend, workload, run id and hashes, so most lookups skip the shared
/// interner.
#[derive(Default)]
struct LastSyms([(String, Option<Sym>); 15]);

impl LastSyms {
    fn lookup(&mut self, column: usize, text: &str) -> Option<Sym> {
        let (last, sym) = &mut self.0[column];
        if last != text {
            last.clear();
            last.push_str(text);
            *sym = Sym::lookup(text);
        }
        *sym
    }
}

/// The twin key of a row as its JSONL twin would normalize it, or `None`
/// when the row cannot be a twin (a string never seen, a value that does
/// not parse): such rows take the full path.
fn fast_twin_key(row: &csv::StringRecord, cols: &[usize; 15], ctx: &Context<'_>, syms: &mut LastSyms) -> Option<u128> {
    let cell = |i: usize| row.get(cols[i]).map(str::trim);
    let text = |i: usize| cell(i).filter(|s| !s.is_empty());
    let mut sym = |i: usize| text(i).map(|t| syms.lookup(i, t));
    let num = |i: usize| -> Option<Option<f64>> {
        match text(i) {
            None => Some(None),
            Some(s) => s.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some),
        }
    };
    // Integers exactly (never through f64); anything else takes the full path.
    let int = |i: usize| -> Option<u64> { text(i)?.parse::<u64>().ok() };
    let backend = match sym(0) {
        Some(s) => s?,
        None => ctx.path_backend?,
    };
    Some(twin_key_of(&TwinFields {
        backend,
        workload: sym(1)??,
        run_id: sym(2)??,
        seed: Some(int(3)?),
        nodes: u32::try_from(int(4)?).ok()?,
        parallelism: u32::try_from(int(5)?).ok()?,
        throughput: num(6)??,
        latencies: [num(7)?, num(8)?, num(9)?],
        success_rate: num(10)?,
        duration_seconds: num(11)??,
        timestamp: text(12)?,
        config_hash: match sym(13) {
            Some(s) => Some(s?),
            None => None,
        },
        backend_hash: match sym(14) {
            Some(s) => Some(s?),
            None => None,
        },
    }))
}

fn csv_error_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "text is not UTF-8 (re-save the file as UTF-8)".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One file's rows (text, line, byte position) and its first error,
    /// read with `reader`, stopping at the first error.
    fn rows_of<R: std::io::Read>(
        reader: &mut ::csv::Reader<R>,
        lines: &Lines,
    ) -> (Vec<(String, u32, u64)>, Option<String>) {
        let mut row = ::csv::StringRecord::new();
        let mut got = vec![];
        loop {
            match reader.read_record(&mut row) {
                Ok(true) => {
                    let at = row.position().unwrap().byte();
                    got.push((row.iter().collect::<Vec<_>>().join("|"), lines.line_at(at), at));
                }
                Ok(false) => return (got, None),
                Err(e) => return (got, Some(e.to_string())),
            }
        }
    }

    /// A reused reader reads each file as a fresh one does, whatever the
    /// file before it left behind: an error mid-file, an open quote, a line
    /// over the limit, no final newline.
    #[test]
    fn a_reused_reader_reads_every_file_as_a_fresh_one() {
        let long = format!("a,b\n1,2\n{}\n5,6\n", "x".repeat(100));
        let files: [&[u8]; 8] = [
            b"a,b\n1,2\n3,4\n",
            b"a,b\n\"open,2\n3,4",
            b"a,b\n1,2\n\xff\xfe,3\n5,6\n",
            long.as_bytes(),
            b"a,b,c\n1,2\n\"x\ny\",2,3\n4,5,6",
            b"",
            b"a\n",
            b"a,b\n1,2\n3,4\n",
        ];
        for round in 0..2 {
            for data in files {
                let bytes = data.to_vec();
                let (tracked, lines) = LineTracker::new(std::io::Cursor::new(bytes.clone()), 64);
                let mut reused = CsvReader::over(tracked);
                let got = rows_of(&mut reused, &lines);
                drop(reused);
                let (tracked, lines) = LineTracker::new(std::io::Cursor::new(bytes), 64);
                let mut fresh = ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(tracked);
                assert_eq!(
                    got,
                    rows_of(&mut fresh, &lines),
                    "round {round}: {:?}",
                    String::from_utf8_lossy(data)
                );
            }
        }
    }

    #[test]
    fn lines_are_right_with_crlf_and_lf() {
        for data in ["a,b\r\n1,2\r\n3,4\r\n", "a,b\n1,2\n3,4\n", "a,b\n\"x\ny\",2\n3,4"] {
            let (tracked, lines) = LineTracker::new(data.as_bytes(), u64::MAX);
            let mut r = ::csv::ReaderBuilder::new().has_headers(false).from_reader(tracked);
            let mut row = ::csv::StringRecord::new();
            let mut got = vec![];
            while r.read_record(&mut row).unwrap() {
                got.push(lines.line_at(row.position().unwrap().byte()));
            }
            let want = if data.contains("\"x") {
                vec![1, 2, 4]
            } else {
                vec![1, 2, 3]
            };
            assert_eq!(got, want, "{data:?}");
        }
    }

    #[test]
    fn a_line_over_the_limit_stops_reading_after_the_lines_before_it() {
        let data = format!("a,b\n1,2\n3,4\n{}\n5,6\n", "x".repeat(100));
        for capacity in [1, 5, 8, 64, 8192] {
            let (tracked, lines) = LineTracker::new(data.as_bytes(), 10);
            let mut r = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .buffer_capacity(capacity)
                .from_reader(tracked);
            let mut row = ::csv::StringRecord::new();
            let mut got = vec![];
            let err = loop {
                match r.read_record(&mut row) {
                    Ok(true) => got.push(lines.line_at(row.position().unwrap().byte())),
                    Ok(false) => panic!("no error"),
                    Err(e) => break e,
                }
            };
            assert_eq!(got, vec![1, 2, 3], "buffer of {capacity}");
            let long = LineTooLong::of(&err).expect("a LineTooLong error");
            assert_eq!(long.line, 4);
            assert_eq!(long.to_string(), "line 4 is longer than 10 bytes (--max-line)");
            assert!(
                !matches!(r.read_record(&mut row), Ok(true)),
                "no row after the long line"
            );
        }
    }
}
