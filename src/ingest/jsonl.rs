//! Unified JSONL: one record a line, streamed (a 1 GB file never sits in
//! memory whole). Tolerates a UTF-8 BOM, CRLF line ends and blank lines;
//! reports a malformed or truncated line, and Python's bare `NaN` /
//! `Infinity` literals, at their line.

use super::sink::{bytes_key, FileSink, KeyMap};
use crate::model::normalize::Context;
use crate::model::raw::RawRecord;
use crate::model::ProblemKind;

use std::io::BufRead;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Read every line of `reader` into `sink`.
pub fn read(reader: impl BufRead, sink: &mut FileSink<'_>, ctx: &Context<'_>) -> std::io::Result<()> {
    let mut reader = reader;
    let mut buf = Vec::with_capacity(4096);
    let mut line_no: u32 = 0;
    let mut seen: KeyMap<u32> = KeyMap::default();
    let mut any_bytes = false;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        any_bytes = true;
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        let mut line: &[u8] = &buf;
        if line_no == 1 {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        let line = trim_ascii(line);
        if line.is_empty() {
            continue;
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
            continue;
        }
        seen.insert(key, line_no);
        parse_line(line, complete, line_no, sink, ctx);
    }
    if !any_bytes {
        sink.warning(None, ProblemKind::EmptyFile, "file is empty: no records (did the run stop before writing?)");
    }
    Ok(())
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

fn parse_line(line: &[u8], complete: bool, line_no: u32, sink: &mut FileSink<'_>, ctx: &Context<'_>) {
    // One bulk UTF-8 check, then parse as &str (no per-string re-check).
    let parsed = match std::str::from_utf8(line) {
        Ok(text) => serde_json::from_str::<RawRecord>(text),
        Err(_) => serde_json::from_slice::<RawRecord>(line),
    };
    match parsed {
        Ok(raw) => {
            sink.take(raw, ctx, line_no);
        }
        Err(err) => {
            // Python's json.dumps writes NaN/Infinity bare; name the field.
            if let Some(quoted) = quote_bare_non_finite(line) {
                if let Ok(raw) = serde_json::from_slice::<RawRecord>(&quoted) {
                    sink.take(raw, ctx, line_no);
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
                sink.error(Some(line_no), ProblemKind::MalformedJson, json_error_message(&err));
            }
        }
    }
}

/// serde_json's message without its "at line 1 column N" suffix, with the
/// column kept (the line is ours).
pub fn json_error_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let core = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    format!("not valid JSON: {core} (column {})", err.column())
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

    #[test]
    fn error_message_keeps_column() {
        let err = serde_json::from_str::<serde_json::Value>("{\"a\": 1").unwrap_err();
        let msg = json_error_message(&err);
        assert!(msg.starts_with("not valid JSON: "), "{msg}");
        assert!(msg.contains("column"), "{msg}");
        assert!(!msg.contains("at line"), "{msg}");
    }
}
