//! Unified JSONL: one record a line, streamed (a 1 GB file never sits in
//! memory whole). Tolerates a UTF-8 BOM, CRLF line ends and blank lines;
//! reports a malformed or truncated line, and Python's bare `NaN` /
//! `Infinity` literals, at their line.

use super::guard::format_size;
use super::sink::{bytes_key, FileSink, KeyMap};
use crate::model::normalize::{Context, TextBase};
use crate::model::raw::RawRecord;
use crate::model::ProblemKind;

use std::borrow::Cow;
use std::io::{BufRead, Read, Seek, SeekFrom};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Read every line of `reader` into `sink`. A line longer than `max_line`
/// bytes (line end excluded) is a `line_too_long` error and is skipped
/// without being held: a line longer than the read buffer is first
/// measured (read past, in buffer-sized chunks), then, when within the
/// limit, read again into a buffer of its exact size. `size` is the
/// source's length in bytes (it sizes the records' array).
pub fn read(
    reader: impl BufRead + Seek,
    size: u64,
    sink: &mut FileSink<'_>,
    ctx: &Context<'_>,
    max_line: u64,
) -> std::io::Result<Option<String>> {
    let mut reader = reader;
    // Where the next line starts in the file.
    let mut offset = reader.stream_position()?;
    let mut line_no: u32 = 0;
    let mut seen: KeyMap<u32> = KeyMap::default();
    let mut any_bytes = false;
    // Until a line with content was seen: is this file unified records?
    let mut sniffing = true;
    loop {
        let available = fill(&mut reader)?;
        if available.is_empty() {
            break;
        }
        any_bytes = true;
        line_no += 1;
        // Lines inside the buffer (all of them, in practice) are parsed in place.
        if let Some(end) = memchr::memchr(b'\n', available) {
            if line_no == 1 {
                // The records' array sized from the first line: a run's
                // lines are alike, and neither regrowth (copies) nor a
                // generous guess (memory held to the end) is paid.
                let lines = size.saturating_sub(offset) / (end as u64 + 1);
                sink.records.reserve((lines + lines / 8 + 4).min(1 << 24) as usize);
            }
            if end as u64 <= max_line {
                if let Some(reason) = still_sniffing(&mut sniffing, &available[..=end], line_no) {
                    return Ok(Some(reason));
                }
                take_line(&available[..=end], offset, true, line_no, &mut seen, sink, ctx);
                reader.consume(end + 1);
                offset += end as u64 + 1;
                continue;
            }
        }
        let start = offset;
        let (len, complete) = skip_line(&mut reader)?;
        offset += len;
        if len - complete as u64 > max_line {
            sink.tally.records += 1;
            sink.tally.rejected += 1;
            sink.error(
                Some(line_no),
                ProblemKind::LineTooLong,
                format!(
                    "line {line_no} is longer than {} (--max-line); skipped",
                    format_size(max_line)
                ),
            );
            continue;
        }
        reader.seek(SeekFrom::Start(start))?;
        let mut line = Vec::new();
        if line.try_reserve_exact(len as usize).is_err() {
            sink.tally.records += 1;
            sink.tally.rejected += 1;
            let size = format_size(len);
            sink.error(
                Some(line_no),
                ProblemKind::LineTooLong,
                format!("line {line_no} ({size}) does not fit in memory; skipped"),
            );
            reader.seek(SeekFrom::Start(offset))?;
            continue;
        }
        (&mut reader).take(len).read_to_end(&mut line)?;
        if line.len() as u64 != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ));
        }
        if let Some(reason) = still_sniffing(&mut sniffing, &line, line_no) {
            return Ok(Some(reason));
        }
        take_line(&line, start, complete, line_no, &mut seen, sink, ctx);
    }
    if !any_bytes {
        sink.warning(
            None,
            ProblemKind::EmptyFile,
            "file is empty: no records (did the run stop before writing?)",
        );
    }
    Ok(None)
}

/// While `sniffing` (no line with content seen yet), what `line` says of
/// the file: `Some(reason)` when it is not unified records.
fn still_sniffing(sniffing: &mut bool, line: &[u8], line_no: u32) -> Option<String> {
    if !*sniffing {
        return None;
    }
    match sniff(line, line_no) {
        Sniff::Blank => None,
        Sniff::Records => {
            *sniffing = false;
            None
        }
        Sniff::Foreign(reason) => Some(reason),
    }
}

/// What the first line with content says of a JSON-lines file.
enum Sniff {
    Blank,
    Records,
    /// Not unified records: why the file is skipped.
    Foreign(String),
}

/// A first line that is a JSON object naming fewer than
/// [`FIELDS_OF_A_RECORD`] of the unified record's fields (in any letter
/// case) means the file holds something else — upstream's per-task metrics
/// sinks (`metrics_<instance>.jsonl`: a `{"type": "header", …}` line, then
/// `{"type": "task", …}` lines), trace or document dumps — and is skipped
/// with its keys named, not read as thousands of rejected records. Anything
/// else, broken JSON included, is read as records, so a damaged result file
/// is still reported line by line.
fn sniff(raw: &[u8], line_no: u32) -> Sniff {
    let line = if line_no == 1 {
        raw.strip_prefix(BOM).unwrap_or(raw)
    } else {
        raw
    };
    let line = trim_ascii(line);
    if line.is_empty() {
        return Sniff::Blank;
    }
    let Ok(object) = serde_json::from_slice::<std::collections::BTreeMap<Cow<str>, serde::de::IgnoredAny>>(line) else {
        return Sniff::Records;
    };
    if object.is_empty() || looks_like_a_record(object.keys().map(|k| k.as_ref())) {
        return Sniff::Records;
    }
    let keys: Vec<&str> = object.keys().take(8).map(|k| k.as_ref()).collect();
    let more = if object.len() > keys.len() { ", …" } else { "" };
    Sniff::Foreign(format!(
        "JSON lines without unified records (line {line_no} has keys {}{more}): not a result format, not read",
        keys.join(", ")
    ))
}

/// How many of the unified record's 17 fields (SPEC §3) an object or CSV
/// header must name to be read as records. Foreign files share a generic
/// name or two (upstream's per-task sink writes `workload` in its header
/// line and `timestamp` in every task line); a unified record missing
/// fields still names most of them, and is reported field by field.
pub const FIELDS_OF_A_RECORD: usize = 3;

/// Whether `keys` (an object's, or a CSV header's) name at least
/// [`FIELDS_OF_A_RECORD`] distinct fields of the unified record, in any
/// letter case.
pub fn looks_like_a_record<'k>(keys: impl IntoIterator<Item = &'k str>) -> bool {
    let fields = crate::model::raw::CSV_COLUMNS.iter().chain(&["metadata", "extra"]);
    let mut named = [false; crate::model::raw::CSV_COLUMNS.len() + 2];
    for key in keys {
        if let Some(i) = fields.clone().position(|f| f.eq_ignore_ascii_case(key.trim())) {
            named[i] = true;
        }
    }
    named.iter().filter(|&&n| n).count() >= FIELDS_OF_A_RECORD
}

/// `reader.fill_buf()`, retried when interrupted.
fn fill<R: BufRead>(reader: &mut R) -> std::io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    reader.fill_buf()
}

/// Read past one line, keeping nothing: its length with the `\n`, and
/// whether it has one (else the file ended).
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<(u64, bool)> {
    let mut len: u64 = 0;
    loop {
        let available = fill(reader)?;
        if available.is_empty() {
            return Ok((len, false));
        }
        match memchr::memchr(b'\n', available) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok((len + i as u64 + 1, true));
            }
            None => {
                let n = available.len();
                reader.consume(n);
                len += n as u64;
            }
        }
    }
}

/// Count, de-duplicate and parse one line (`raw` with its line end, if
/// any, starting at byte `offset` of the file).
#[allow(clippy::too_many_arguments)]
fn take_line(
    raw: &[u8],
    offset: u64,
    complete: bool,
    line_no: u32,
    seen: &mut KeyMap<u32>,
    sink: &mut FileSink<'_>,
    ctx: &Context<'_>,
) {
    let mut line: &[u8] = raw;
    if line_no == 1 {
        line = line.strip_prefix(BOM).unwrap_or(line);
    }
    let line = trim_ascii(line);
    if line.is_empty() {
        return;
    }
    sink.tally.records += 1;

    let key = bytes_key(line);
    if let Some(&first) = seen.get(&key) {
        sink.tally.duplicates += 1;
        sink.warning(
            Some(line_no),
            ProblemKind::DuplicateRecord,
            format!("identical to line {first}; counted once"),
        );
        return;
    }
    seen.insert(key, line_no);
    parse_line(line, TextBase { bytes: raw, offset }, complete, line_no, sink, ctx);
}

fn trim_ascii(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if first.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn parse_line(line: &[u8], at: TextBase<'_>, complete: bool, line_no: u32, sink: &mut FileSink<'_>, ctx: &Context<'_>) {
    // One bulk UTF-8 check, then parse as &str (no per-string re-check).
    let mut raw = RawRecord::default();
    let parsed = match std::str::from_utf8(line) {
        Ok(text) => raw.read_json(text),
        Err(_) => serde_json::from_slice::<RawRecord>(line).map(|parsed| raw = parsed),
    };
    match parsed {
        Ok(()) => {
            sink.take_at(&mut raw, ctx, line_no, Some(at));
        }
        Err(err) => {
            // Python's json.dumps writes NaN/Infinity bare; name the field.
            if let Some(quoted) = quote_bare_non_finite(line) {
                if let Ok(mut raw) = serde_json::from_slice::<RawRecord>(&quoted) {
                    sink.take(&mut raw, ctx, line_no);
                    return;
                }
            }
            sink.tally.rejected += 1;
            if !complete && err.is_eof() {
                sink.error(
                    Some(line_no),
                    ProblemKind::TruncatedLine,
                    "last line is cut off (no newline, incomplete JSON); the writer was probably interrupted — re-run or delete the line",
                );
            } else {
                sink.error(Some(line_no), json_error_kind(&err), json_error_message(&err));
            }
        }
    }
}

/// serde_json's message without its "at line 1 column N" suffix, with the
/// column kept (the line is ours; serde gives 0 when it has no position).
/// Valid JSON of the wrong shape (`5` where a record belongs) is not called
/// invalid JSON.
pub fn json_error_message(err: &serde_json::Error) -> String {
    message_at(err, err.column())
}

/// [`json_error_message`] with the column given (a nested document's
/// column is relative to its start).
pub fn message_at(err: &serde_json::Error, column: usize) -> String {
    let text = err.to_string();
    let core = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let core = match err.classify() {
        serde_json::error::Category::Data => core.to_string(),
        _ => format!("not valid JSON: {core}"),
    };
    match column {
        0 => core,
        column => format!("{core} (column {column})"),
    }
}

/// The problem kind of a parse error: a value of the wrong shape, or text
/// that is not JSON.
pub fn json_error_kind(err: &serde_json::Error) -> ProblemKind {
    match err.classify() {
        serde_json::error::Category::Data => ProblemKind::InvalidValue,
        _ => ProblemKind::MalformedJson,
    }
}

/// If `text` holds `NaN`, `Infinity` or `-Infinity` outside strings, return
/// a copy with them quoted, so the record parses and validation can name
/// the field; `None` when there are none.
pub fn quote_bare_non_finite(text: &[u8]) -> Option<Vec<u8>> {
    const WORDS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if let Some(word) = WORDS.iter().find(|w| text[i..].starts_with(w)) {
            let buf = out.get_or_insert_with(|| text[..i].to_vec());
            buf.push(b'"');
            buf.extend_from_slice(word);
            buf.push(b'"');
            i += word.len();
            continue;
        }
        if let Some(buf) = out.as_mut() {
            buf.push(c);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_bare_words() {
        assert_eq!(quote_bare_non_finite(br#"{"a": 1}"#), None);
        assert_eq!(quote_bare_non_finite(br#"{"a": "NaN"}"#), None);
        assert_eq!(
            quote_bare_non_finite(br#"{"a": NaN, "b": -Infinity, "c": "x\"NaN"}"#).unwrap(),
            br#"{"a": "NaN", "b": "-Infinity", "c": "x\"NaN"}"#.to_vec()
        );
    }

    fn record(run: usize) -> String {
        format!(
            r#"{{"backend": "sage", "workload": "Q1", "run_id": "r{run}", "seed": 1, "nodes": 1, "parallelism": 1, "throughput": 10.5, "latency_p50": 1.0, "latency_p95": 2.0, "latency_p99": 3.0, "success_rate": 1.0, "duration_seconds": 2.0, "timestamp": "2026-01-01T00:00:00Z", "config_hash": null, "backend_hash": null}}"#
        )
    }

    /// (tally, problems as (line, kind)) of reading `data` through a
    /// reader buffer of `capacity` bytes.
    fn read_with(
        data: &[u8],
        capacity: usize,
        max_line: u64,
    ) -> (crate::ingest::sink::Tally, Vec<(Option<u32>, ProblemKind)>) {
        let mut sink = FileSink::new(crate::model::FileId(0), "t.jsonl");
        let reader = std::io::BufReader::with_capacity(capacity, std::io::Cursor::new(data));
        assert_eq!(
            read(reader, data.len() as u64, &mut sink, &Context::default(), max_line).unwrap(),
            None
        );
        (sink.tally, sink.problems.iter().map(|p| (p.line, p.kind)).collect())
    }

    #[test]
    fn lines_across_buffer_refills_read_the_same() {
        let mut data = String::from("\u{feff}");
        for i in 0..40 {
            data.push_str(&record(i));
            data.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
            if i % 7 == 0 {
                data.push_str("\n  \n");
            }
        }
        data.push_str(&record(1)); // a duplicate
        data.push('\n');
        data.push_str(&record(99)[..50]); // cut off
        let whole = read_with(data.as_bytes(), 1 << 20, u64::MAX);
        assert_eq!(whole.0.records, 42);
        assert_eq!(whole.0.accepted, 40);
        assert_eq!(whole.0.duplicates, 1);
        assert_eq!(
            whole.1.iter().filter(|(_, k)| *k == ProblemKind::TruncatedLine).count(),
            1
        );
        for capacity in [1, 7, 64, 333, 4096] {
            assert_eq!(
                read_with(data.as_bytes(), capacity, u64::MAX),
                whole,
                "buffer of {capacity} bytes"
            );
        }
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_reading_goes_on() {
        let long = format!("{{\"pad\": \"{}\"}}", "x".repeat(5000));
        let data = format!("{}\n{long}\n{}\n{long}", record(1), record(2));
        let limit = record(1).len() as u64;
        for capacity in [16, 1000, 1 << 16] {
            let (tally, problems) = read_with(data.as_bytes(), capacity, limit);
            assert_eq!(
                (tally.records, tally.accepted, tally.rejected),
                (4, 2, 2),
                "buffer of {capacity} bytes"
            );
            assert_eq!(
                problems,
                vec![(Some(2), ProblemKind::LineTooLong), (Some(4), ProblemKind::LineTooLong)]
            );
        }
        // A line exactly at the limit is read.
        let (tally, _) = read_with(format!("{}\n", record(1)).as_bytes(), 16, limit);
        assert_eq!(tally.accepted, 1);
    }

    #[test]
    fn error_message_keeps_column() {
        let err = serde_json::from_str::<serde_json::Value>("{\"a\": 1").unwrap_err();
        let msg = json_error_message(&err);
        assert!(msg.starts_with("not valid JSON: "), "{msg}");
        assert!(msg.contains("column"), "{msg}");
        assert!(!msg.contains("at line"), "{msg}");
    }
}
