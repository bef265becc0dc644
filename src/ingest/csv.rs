//! Unified CSV: header-driven (any column order), streamed, BOM and CRLF
//! tolerated. A row identical to a JSONL record in the same folder is its
//! twin (upstream always writes both) and is counted once.

use super::sink::{bytes_key, twin_key, FileSink};
use crate::model::normalize::Context;
use crate::model::raw::{RawRecord, Val, CSV_COLUMNS, REQUIRED_FIELDS};
use crate::model::ProblemKind;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;

/// Skip a UTF-8 byte-order mark at the start of `reader`.
pub fn skip_bom(reader: &mut impl BufRead) -> std::io::Result<()> {
    let head = reader.fill_buf()?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

/// Read a unified CSV into `sink`. `twins` holds the twin keys of the
/// records of the JSONL file beside it.
pub fn read(
    mut reader: impl BufRead,
    sink: &mut FileSink<'_>,
    ctx: &Context<'_>,
    twins: Option<&HashSet<u128>>,
) -> std::io::Result<()> {
    skip_bom(&mut reader)?;
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut row = csv::StringRecord::new();

    let header: Vec<String> = match csv.read_record(&mut row) {
        Ok(true) => row.iter().map(|h| h.trim().to_string()).collect(),
        Ok(false) => {
            sink.warning(None, ProblemKind::EmptyFile, "file is empty: no header, no records");
            return Ok(());
        }
        Err(e) => {
            sink.error(Some(1), ProblemKind::MalformedCsv, format!("header is not valid CSV: {e}"));
            return Ok(());
        }
    };

    let mut missing: Vec<&str> = REQUIRED_FIELDS
        .iter()
        .copied()
        .filter(|f| !header.iter().any(|h| h == f))
        .collect();
    if ctx.path_backend.is_some() {
        missing.retain(|f| *f != "backend");
    }
    let mut probe = RawRecord::default();
    let unknown: Vec<&str> = header
        .iter()
        .filter(|h| !CSV_COLUMNS.contains(&h.as_str()) && !probe.set(h, Val::Null))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        sink.warning(Some(1), ProblemKind::Suspicious, format!("unknown columns ignored: {}", unknown.join(", ")));
    }
    let reject_all = !missing.is_empty();
    if reject_all {
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

    let mut seen: HashMap<u128, u32> = HashMap::new();
    let mut last_line = 1u32;
    loop {
        let more = csv.read_record(&mut row);
        let line = row.position().map(|p| p.line() as u32).unwrap_or(last_line + 1);
        match more {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line() as u32).unwrap_or(last_line + 1);
                sink.tally.records += 1;
                sink.tally.rejected += 1;
                sink.error(Some(line), ProblemKind::MalformedCsv, format!("row is not valid CSV: {}", csv_error_kind(&e)));
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
                format!("row has {} fields but the header has {}; check for an unquoted comma or a cut-off row", row.len(), header.len()),
            );
            continue;
        }
        let key = bytes_key(row.as_slice().as_bytes());
        if let Some(&first) = seen.get(&key) {
            sink.tally.duplicates += 1;
            sink.warning(Some(line), ProblemKind::DuplicateRecord, format!("identical to line {first}; counted once"));
            continue;
        }
        seen.insert(key, line);

        let mut raw = RawRecord::default();
        for (name, cell) in header.iter().zip(row.iter()) {
            raw.set(name, Val::Cell(cell));
        }
        if let Some(index) = sink.take(raw, ctx, line) {
            if let Some(twins) = twins {
                if twins.contains(&twin_key(&sink.records[index])) {
                    // The JSONL record already counts; this row is its copy.
                    sink.records.pop();
                    sink.tally.accepted -= 1;
                    sink.tally.twins_merged += 1;
                }
            }
        }
    }
    Ok(())
}

fn csv_error_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "text is not UTF-8 (re-save the file as UTF-8)".into(),
        _ => e.to_string(),
    }
}
