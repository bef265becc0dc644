//! JSON documents holding unified records: an array of records
//! (`benchmark_results.json`, the published data sets), a single record, or
//! an object with a `records` / `results` array. Each record's line is the
//! line where its object opens.

use super::jsonl::{json_error_kind, json_error_message, message_at, quote_bare_non_finite};
use super::sink::{bytes_key, FileSink, KeyMap};
use crate::model::normalize::{Context, TextBase};
use crate::model::raw::RawRecord;
use crate::model::ProblemKind;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Outcome of sniffing a generic `.json` file.
pub enum Sniffed {
    /// Records were read into the sink.
    Records,
    /// Not a record document; the reason says what it is.
    NotRecords(String),
}

/// Read `text` (the whole file) into `sink`.
pub fn read(text: &[u8], sink: &mut FileSink<'_>, ctx: &Context<'_>) -> Sniffed {
    // `text` is the whole file: records' objects are spans of it.
    let file = TextBase { bytes: text, offset: 0 };
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        sink.warning(None, ProblemKind::EmptyFile, "file is empty: no records");
        return Sniffed::Records;
    }
    let quoted;
    let text = match serde_json::from_slice::<&RawValue>(text) {
        Ok(_) => text,
        Err(err) => match quote_bare_non_finite(text) {
            Some(q) if serde_json::from_slice::<&RawValue>(&q).is_ok() => {
                quoted = q;
                &quoted[..]
            }
            _ => {
                let line = err.line() as u32;
                let kind = if err.is_eof() {
                    ProblemKind::TruncatedLine
                } else {
                    ProblemKind::MalformedJson
                };
                sink.error(Some(line.max(1)), kind, json_error_message(&err));
                // One unreadable document: count it as one rejected entry.
                sink.tally.records += 1;
                sink.tally.rejected += 1;
                return Sniffed::Records;
            }
        },
    };
    let lines = LineIndex::new(text);
    let root: &RawValue = serde_json::from_slice(text).expect("validated above");
    let elements: Vec<&RawValue> = match root.get().as_bytes().first() {
        Some(b'[') => match serde_json::from_str(root.get()) {
            Ok(v) => v,
            Err(e) => {
                sink.error(Some(1), ProblemKind::MalformedJson, json_error_message(&e));
                return Sniffed::Records;
            }
        },
        Some(b'{') => {
            let obj: HashMap<&str, &RawValue> = match serde_json::from_str(root.get()) {
                Ok(o) => o,
                Err(e) => {
                    sink.error(Some(1), ProblemKind::MalformedJson, json_error_message(&e));
                    return Sniffed::Records;
                }
            };
            if let Some(inner) = ["records", "results", "data"].iter().find_map(|k| obj.get(k)) {
                match serde_json::from_str::<Vec<&RawValue>>(inner.get()) {
                    Ok(v) => v,
                    Err(_) => return Sniffed::NotRecords(describe_object(&obj)),
                }
            } else if obj.contains_key("throughput") && obj.contains_key("backend")
                || obj.contains_key("workload") && obj.contains_key("throughput")
            {
                vec![root]
            } else {
                return Sniffed::NotRecords(describe_object(&obj));
            }
        }
        _ => return Sniffed::NotRecords("a JSON value that is neither an array nor an object".into()),
    };

    let mut seen: KeyMap<u32> = KeyMap::default();
    for (index, element) in elements.into_iter().enumerate() {
        let (line, column) = lines.position_of(text, element.get().as_ptr());
        sink.tally.records += 1;
        let key = bytes_key(element.get().as_bytes());
        if let Some(&first) = seen.get(&key) {
            sink.tally.duplicates += 1;
            sink.warning(
                Some(line),
                ProblemKind::DuplicateRecord,
                format!("identical to the record at line {first}; counted once"),
            );
            continue;
        }
        seen.insert(key, line);
        let mut raw = RawRecord::default();
        match raw.read_json(element.get()) {
            Ok(()) => {
                sink.take_at(&mut raw, ctx, line, Some(file));
            }
            Err(e) => {
                // serde's position is inside the element; the file's is wanted.
                let (line, column) = match e.line() {
                    0 => (line, 0),
                    1 => (line, column + e.column().max(1) - 1),
                    below => (line + below as u32 - 1, e.column()),
                };
                sink.tally.rejected += 1;
                sink.error(
                    Some(line),
                    json_error_kind(&e),
                    format!(
                        "element {} of the array is not a record: {}",
                        index + 1,
                        message_at(&e, column)
                    ),
                );
            }
        }
    }
    Sniffed::Records
}

fn describe_object(obj: &HashMap<&str, &RawValue>) -> String {
    let mut keys: Vec<&str> = obj.keys().copied().collect();
    keys.sort_unstable();
    keys.truncate(8);
    format!("a JSON object without unified records (keys: {})", keys.join(", "))
}

/// Byte offset → 1-based line, for slices of one buffer.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(text: &[u8]) -> Self {
        LineIndex {
            newlines: memchr::memchr_iter(b'\n', text).collect(),
        }
    }

    /// 1-based line and byte column (serde_json's convention).
    fn position_of(&self, text: &[u8], ptr: *const u8) -> (u32, usize) {
        let offset = (ptr as usize).saturating_sub(text.as_ptr() as usize);
        let before = self.newlines.partition_point(|&nl| nl < offset);
        let line_start = if before == 0 { 0 } else { self.newlines[before - 1] + 1 };
        ((before + 1) as u32, offset - line_start + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index() {
        let text = b"[\n  {\"a\": 1},\n  {\"b\": 2}\n]";
        let idx = LineIndex::new(text);
        let start = text.iter().position(|&c| c == b'{').unwrap();
        assert_eq!(idx.position_of(text, unsafe { text.as_ptr().add(start) }), (2, 3));
        let second = text.iter().rposition(|&c| c == b'{').unwrap();
        assert_eq!(idx.position_of(text, unsafe { text.as_ptr().add(second) }), (3, 3));
        assert_eq!(idx.position_of(text, text.as_ptr()), (1, 1));
    }
}
