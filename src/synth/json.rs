//! Python-compatible text: `json.dumps` (default separators and
//! `indent=2`), float `repr`, `datetime.isoformat()`, and the small file
//! writer every generator uses.

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// A JSON value with insertion-ordered objects (Python dicts keep order).
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    I(i64),
    F(f64),
    S(String),
    A(Vec<J>),
    O(Vec<(String, J)>),
    /// Text written verbatim (a bare `NaN` literal, a pre-rendered object).
    Raw(String),
}

impl J {
    pub fn s(text: impl Into<String>) -> J {
        J::S(text.into())
    }

    pub fn opt_f(x: Option<f64>) -> J {
        x.map(J::F).unwrap_or(J::Null)
    }

    /// Object builder from `(key, value)` pairs.
    pub fn obj<const N: usize>(pairs: [(&str, J); N]) -> J {
        J::O(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Set `key` (replacing in place, or appending).
    pub fn set(&mut self, key: &str, value: J) {
        if let J::O(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => pairs.push((key.to_string(), value)),
            }
        }
    }

    /// Remove `key` if present.
    pub fn remove(&mut self, key: &str) {
        if let J::O(pairs) = self {
            pairs.retain(|(k, _)| k != key);
        }
    }

    /// `json.dumps(v)`: separators `", "` and `": "`, one line.
    pub fn compact(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_compact(&mut out);
        out
    }

    pub fn write_compact(&self, out: &mut String) {
        match self {
            J::O(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    push_str_lit(out, k);
                    out.push_str(": ");
                    v.write_compact(out);
                }
                out.push('}');
            }
            J::A(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_compact(out);
                }
                out.push(']');
            }
            scalar => scalar.write_scalar(out),
        }
    }

    /// `json.dumps(v, indent=2)` (no trailing newline).
    pub fn pretty(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.write_pretty(&mut out, 0);
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        let indent = |out: &mut String, d: usize| {
            out.push('\n');
            for _ in 0..d {
                out.push_str("  ");
            }
        };
        match self {
            J::O(pairs) if pairs.is_empty() => out.push_str("{}"),
            J::A(items) if items.is_empty() => out.push_str("[]"),
            J::O(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    push_str_lit(out, k);
                    out.push_str(": ");
                    v.write_pretty(out, depth + 1);
                }
                indent(out, depth);
                out.push('}');
            }
            J::A(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    indent(out, depth + 1);
                    v.write_pretty(out, depth + 1);
                }
                indent(out, depth);
                out.push(']');
            }
            scalar => scalar.write_scalar(out),
        }
    }

    fn write_scalar(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(true) => out.push_str("true"),
            J::Bool(false) => out.push_str("false"),
            J::I(i) => {
                let _ = write!(out, "{i}");
            }
            J::F(x) => push_py_float(out, *x),
            J::S(s) => push_str_lit(out, s),
            J::Raw(text) => out.push_str(text),
            J::O(_) | J::A(_) => unreachable!("containers are written by the callers"),
        }
    }
}

/// A JSON string literal as `json.dumps` (ensure_ascii=True) writes it.
pub fn push_str_lit(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, `41.0` not `41`,
/// exponent form (`5e-05`, `1e+16`) outside `[1e-4, 1e16)`, and `NaN`,
/// `Infinity`, `-Infinity` as `json.dumps` writes them.
pub fn push_py_float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
        return;
    }
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    let a = x.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let start = out.len();
        let _ = write!(out, "{x}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} always has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    out.push_str(mantissa);
    let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
}

#[cfg(test)]
pub fn py_float(x: f64) -> String {
    let mut s = String::new();
    push_py_float(&mut s, x);
    s
}

/// Round to `digits` decimals, as Python's `round(x, digits)` would for
/// the values generated here.
pub fn round_to(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// `datetime.isoformat()` of a UTC instant given in microseconds since the
/// epoch: `2026-02-21T03:58:37.788837`, with `+00:00` when `utc_offset`.
/// The fraction is omitted when it is zero, as Python does.
pub fn push_iso(out: &mut String, epoch_micros: i64, utc_offset: bool) {
    let secs = epoch_micros.div_euclid(1_000_000);
    let micros = epoch_micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
    if utc_offset {
        out.push_str("+00:00");
    }
}

pub fn iso(epoch_micros: i64, utc_offset: bool) -> String {
    let mut s = String::with_capacity(32);
    push_iso(&mut s, epoch_micros, utc_offset);
    s
}

/// `YYYYmmdd_HHMMSS` (upstream folder stamps).
pub fn folder_stamp(epoch_secs: i64) -> String {
    let (y, m, d) = civil_from_days(epoch_secs.div_euclid(86_400));
    let sod = epoch_secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}_{:02}{:02}{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// `YYYYmmddTHHMMSSZ` (paired run ids).
pub fn compact_stamp(epoch_secs: i64) -> String {
    folder_stamp(epoch_secs).replace('_', "T") + "Z"
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch seconds of a UTC civil date-time.
pub fn epoch_of(y: i64, m: u32, d: u32, hh: i64, mm: i64, ss: i64) -> i64 {
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 as i64 + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A buffered output file that counts the bytes it writes.
pub struct Out {
    w: BufWriter<File>,
    pub bytes: u64,
}

impl Out {
    pub fn create(path: &Path) -> anyhow::Result<Out> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Out {
            w: BufWriter::with_capacity(1 << 18, f),
            bytes: 0,
        })
    }

    pub fn put(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.w.write_all(bytes)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<u64> {
        self.w.flush()?;
        Ok(self.bytes)
    }
}

/// Write a small file in one go; returns its size.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<u64> {
    let mut out = Out::create(path)?;
    out.put(bytes)?;
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_python_repr() {
        for (x, want) in [
            (41.0, "41.0"),
            (0.1, "0.1"),
            (37.108440983364346, "37.108440983364346"),
            (1e-4, "0.0001"),
            (5e-5, "5e-05"),
            (1.2345e-7, "1.2345e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(py_float(x), want);
        }
    }

    #[test]
    fn iso_and_stamps() {
        let t = epoch_of(2026, 2, 21, 3, 58, 37);
        assert_eq!(iso(t * 1_000_000 + 788_837, true), "2026-02-21T03:58:37.788837+00:00");
        assert_eq!(iso(t * 1_000_000, false), "2026-02-21T03:58:37");
        assert_eq!(folder_stamp(t), "20260221_035837");
        assert_eq!(compact_stamp(t), "20260221T035837Z");
        assert_eq!(
            iso(epoch_of(2024, 2, 29, 0, 0, 0) * 1_000_000, false),
            "2024-02-29T00:00:00"
        );
        assert_eq!(epoch_of(1970, 1, 1, 0, 0, 0), 0);
    }

    #[test]
    fn dumps_shapes() {
        let v = J::obj([
            ("a", J::I(1)),
            ("b", J::A(vec![J::F(1.0), J::Null])),
            ("c", J::O(vec![])),
            ("d", J::A(vec![])),
            ("e", J::s("x\"é")),
        ]);
        assert_eq!(
            v.compact(),
            r#"{"a": 1, "b": [1.0, null], "c": {}, "d": [], "e": "x\"\u00e9"}"#
        );
        assert_eq!(
            v.pretty(),
            "{\n  \"a\": 1,\n  \"b\": [\n    1.0,\n    null\n  ],\n  \"c\": {},\n  \"d\": [],\n  \"e\": \"x\\\"\\u00e9\"\n}"
        );
    }
}
