//! Validation and normalization: a [`RawRecord`] as read becomes a
//! [`UnifiedRecord`], or is rejected with the reasons why.
//!
//! Rules (SPEC §3): required fields present and non-null (latencies and
//! success rate may be null); `seed ≥ 0`, `nodes ≥ 1`, `parallelism ≥ 1`
//! integers; throughput, duration and latencies finite and `≥ 0`; success
//! rate in [0, 1]; timestamp ISO-8601. Numbers given as JSON strings are
//! accepted with a warning; NaN and ±Infinity, as literals or strings, are
//! errors. Dimensions are optional: a bad one is reported and left unset,
//! never a reason to reject the run.

use super::config_hash::WorkloadShape;
use super::dimensions::{balance_score, Dimensions, LoadLevel, Pipeline, Scheduler, TaskComplexity};
use super::intern::Sym;
use super::problem::{Finding, ProblemKind};
use super::raw::{DimFields, RawRecord, Val};
use super::record::{DimsId, FreeText, Measured, SourceRef, UnifiedRecord};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `repro_manifest.json` beside the records (SPEC §2).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReproManifest {
    pub seed: Option<u64>,
    pub config_hash: Option<Sym>,
    pub warmup_items: Option<u64>,
    pub parity_batch_size: Option<u64>,
    pub shuffle_version: Option<Sym>,
}

/// The `config` of a paired-run `manifest.json` / `failure_report.json`
/// above the records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairedConfig {
    pub scheduler: Option<Scheduler>,
    pub items: Option<u64>,
    pub parallelism: Option<u32>,
    pub nodes: Option<u32>,
    pub seed: Option<u64>,
}

/// What the surroundings of a record say about it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'c> {
    /// `<name>` of a `backends/<name>/` folder above the file.
    pub path_backend: Option<Sym>,
    pub path_run_id: Option<Sym>,
    pub path_config_hash: Option<Sym>,
    /// `exp1`…`exp4` from an `expN_…` folder above the file.
    pub path_experiment: Option<Sym>,
    pub repro: Option<&'c ReproManifest>,
    pub paired: Option<&'c PairedConfig>,
    /// Legacy results carry no seed; only there may it be absent.
    pub seed_optional: bool,
}

/// Findings about one record; it is accepted when none is an error.
#[derive(Debug, Default)]
pub struct Findings {
    pub list: Vec<Finding>,
    strings: Vec<&'static str>,
}

impl Findings {
    fn error(&mut self, kind: ProblemKind, message: String) {
        self.list.push(Finding::error(kind, message));
    }
    fn warning(&mut self, kind: ProblemKind, message: String) {
        self.list.push(Finding::warning(kind, message));
    }
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|f| f.severity == super::problem::Severity::Error)
    }
}

fn describe(v: &Val) -> String {
    match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::UInt(u) => u.to_string(),
        Val::Float(x) => x.to_string(),
        Val::Str(s) => format!("{:?}", truncate(s)),
        Val::Cell(s) => format!("{:?}", truncate(s)),
        Val::Num(t) => written(t),
        Val::Compound => "an object or array".into(),
    }
}

/// A number's text as written, shortened past 40 characters.
fn written(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// True for the spellings Python and spreadsheets use for non-finite floats.
pub fn is_non_finite_word(s: &str) -> bool {
    let t = s.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(t.as_str(), "nan" | "inf" | "infinity")
}

/// A number field. `Ok(None)` for null / empty; `Err` after recording the error.
fn number(field: &'static str, v: &Val, out: &mut Findings) -> Result<Option<f64>, ()> {
    let x = match v {
        Val::Null => return Ok(None),
        Val::Int(i) => *i as f64,
        Val::UInt(u) => *u as f64,
        Val::Float(x) => *x,
        Val::Cell(s) if s.trim().is_empty() => return Ok(None),
        Val::Str(s) if s.trim().is_empty() => {
            out.error(
                ProblemKind::InvalidValue,
                format!("{field} is an empty string; write null or a number"),
            );
            return Err(());
        }
        Val::Str(s) => parse_text_number(field, s, out, true)?,
        Val::Cell(s) => parse_text_number(field, s, out, false)?,
        Val::Num(t) => parse_text_number(field, t, out, false)?,
        other => {
            out.error(
                ProblemKind::InvalidValue,
                format!("{field} is {}, not a number", describe(other)),
            );
            return Err(());
        }
    };
    if !x.is_finite() {
        out.error(
            ProblemKind::NonFinite,
            format!("{field} is {x}; write null for a value that was not measured"),
        );
        return Err(());
    }
    // `-0.0` (JSON `-0`, `-0.0`) is zero: adding +0 makes it +0 (IEEE 754
    // §6.3), so no output prints "-0" and a sign never tells zeros apart.
    Ok(Some(x + 0.0))
}

fn parse_text_number(field: &'static str, s: &str, out: &mut Findings, is_json_string: bool) -> Result<f64, ()> {
    if is_non_finite_word(s) {
        out.error(
            ProblemKind::NonFinite,
            format!("{field} is {}; write null for a value that was not measured", s.trim()),
        );
        return Err(());
    }
    match s.trim().parse::<f64>() {
        Ok(x) => {
            if is_json_string {
                out.strings.push(field);
            }
            Ok(x)
        }
        Err(_) => {
            out.error(
                ProblemKind::InvalidValue,
                format!("{field} is {:?}, not a number", truncate(s)),
            );
            Err(())
        }
    }
}

fn required(field: &'static str, v: &Option<Val>, out: &mut Findings) -> Option<f64> {
    match v {
        None => {
            out.error(ProblemKind::MissingField, format!("required field {field} is missing"));
            None
        }
        Some(v) => match number(field, v, out) {
            Ok(Some(x)) => Some(x),
            Ok(None) => {
                out.error(ProblemKind::MissingField, format!("required field {field} is null"));
                None
            }
            Err(()) => None,
        },
    }
}

fn non_negative(field: &'static str, x: Option<f64>, out: &mut Findings) -> Option<f64> {
    match x {
        Some(x) if x < 0.0 => {
            out.error(
                ProblemKind::NegativeValue,
                format!("{field} is {x}; it cannot be negative"),
            );
            None
        }
        other => other,
    }
}

/// Why an integer field's value was not taken; each carries the value as
/// written.
#[derive(Debug, PartialEq)]
enum NotInteger {
    /// NaN or ±Infinity.
    NonFinite(String),
    /// Not a number at all (already described: quoted text, `true`, …).
    NotNumber(String),
    EmptyString,
    Negative(String),
    Fraction(String),
    /// More than [`u64::MAX`], or a float too large to hold it exactly.
    TooLarge(String),
}

/// 2^53: every integer up to it, and no larger range, is exact in an `f64`.
const F64_EXACT: f64 = 9_007_199_254_740_992.0;

/// The largest value of a `u32` field (nodes, parallelism, concurrency, …).
const U32: u64 = u32::MAX as u64;

/// The exact integer a decimal number's text denotes: `42`, `+7`, `4.0`,
/// `1e3`, `12.5e1`; never through `f64`. `Err` says why not.
fn exact_integer(text: &str) -> Result<u64, NotInteger> {
    let t = text.trim();
    let bytes = t.as_bytes();
    // Fast path: plain digits.
    if !bytes.is_empty() && bytes.len() <= 19 && bytes.iter().all(u8::is_ascii_digit) {
        return Ok(t.parse().expect("19 digits fit u64"));
    }
    let not_number = || NotInteger::NotNumber(format!("{:?}", truncate(text)));
    let (negative, rest) = match bytes.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits(int_part) || !digits(frac_part) {
        return Err(not_number());
    }
    // The exponent, saturated far beyond any that could still fit u64.
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, e) = match e.as_bytes().first() {
                Some(b'-') => (-1, &e[1..]),
                Some(b'+') => (1, &e[1..]),
                _ => (1, e),
            };
            if e.is_empty() || !digits(e) {
                return Err(not_number());
            }
            sign * e
                .bytes()
                .fold(0i64, |acc, b| (acc * 10 + i64::from(b - b'0')).min(1 << 40))
        }
    };
    // value = significant digits × 10^scale
    let all: String = [int_part, frac_part].concat();
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let as_written = written(text);
    if negative {
        return Err(NotInteger::Negative(as_written));
    }
    let scale = exponent - frac_part.len() as i64;
    let kept = if scale < 0 {
        let cut = (-scale) as usize;
        if cut >= significant.len() || significant[significant.len() - cut..].bytes().any(|b| b != b'0') {
            return Err(NotInteger::Fraction(as_written));
        }
        &significant[..significant.len() - cut]
    } else {
        significant
    };
    let zeros = scale.max(0);
    if kept.len() as i64 + zeros > 20 {
        return Err(NotInteger::TooLarge(as_written));
    }
    let mut value: u64 = 0;
    for b in kept.bytes().chain(std::iter::repeat_n(b'0', zeros as usize)) {
        value = match value.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))) {
            Some(v) => v,
            None => return Err(NotInteger::TooLarge(as_written)),
        };
    }
    Ok(value)
}

/// An integer field's value, read exactly. `Ok(None)` for null or an empty
/// CSV cell. `strings` is set when a JSON string held the number.
fn integer_value(v: &Val, strings: &mut bool) -> Result<Option<u64>, NotInteger> {
    match v {
        Val::Null => Ok(None),
        Val::UInt(u) => Ok(Some(*u)),
        Val::Int(i) if *i >= 0 => Ok(Some(*i as u64)),
        Val::Int(i) => Err(NotInteger::Negative(i.to_string())),
        Val::Float(x) if !x.is_finite() => Err(NotInteger::NonFinite(x.to_string())),
        Val::Float(x) if *x < 0.0 => Err(NotInteger::Negative(x.to_string())),
        Val::Float(x) if x.fract() != 0.0 => Err(NotInteger::Fraction(x.to_string())),
        // Above 2^53 an f64 no longer holds every integer: not exact.
        Val::Float(x) if *x > F64_EXACT => Err(NotInteger::TooLarge(x.to_string())),
        Val::Float(x) => Ok(Some(*x as u64)),
        Val::Cell(s) if s.trim().is_empty() => Ok(None),
        Val::Str(s) if s.trim().is_empty() => Err(NotInteger::EmptyString),
        Val::Str(s) if is_non_finite_word(s) => Err(NotInteger::NonFinite(s.trim().to_string())),
        Val::Cell(s) if is_non_finite_word(s) => Err(NotInteger::NonFinite(s.trim().to_string())),
        Val::Str(s) => {
            let x = exact_integer(s)?;
            *strings = true;
            Ok(Some(x))
        }
        Val::Cell(s) | Val::Num(s) => exact_integer(s).map(Some),
        other => Err(NotInteger::NotNumber(describe(other))),
    }
}

/// A required integer field in `min..=max`: every failure is an error
/// naming the value as written; nothing is clamped.
fn integer(field: &'static str, v: &Option<Val>, min: u64, max: u64, out: &mut Findings) -> Option<u64> {
    let Some(v) = v else {
        out.error(ProblemKind::MissingField, format!("required field {field} is missing"));
        return None;
    };
    let mut string = false;
    match integer_value(v, &mut string) {
        Ok(None) => {
            out.error(ProblemKind::MissingField, format!("required field {field} is null"));
            None
        }
        Ok(Some(x)) => {
            if string {
                out.strings.push(field);
            }
            if x < min {
                out.error(
                    ProblemKind::OutOfRange,
                    format!("{field} is {x}; it must be an integer ≥ {min}"),
                );
                return None;
            }
            if x > max {
                out.error(
                    ProblemKind::OutOfRange,
                    format!(
                        "{field} is {}; it does not fit: an integer from {min} to {max} is expected",
                        written_of(v, x)
                    ),
                );
                return None;
            }
            Some(x)
        }
        Err(e) => {
            let (kind, message) = match e {
                NotInteger::NonFinite(t) => (
                    ProblemKind::NonFinite,
                    format!("{field} is {t}; write null for a value that was not measured"),
                ),
                NotInteger::NotNumber(d) => (ProblemKind::InvalidValue, format!("{field} is {d}, not a number")),
                NotInteger::EmptyString => (
                    ProblemKind::InvalidValue,
                    format!("{field} is an empty string; write null or a number"),
                ),
                NotInteger::Negative(t) => (
                    ProblemKind::NegativeValue,
                    format!("{field} is {t}; it must be an integer ≥ {min}"),
                ),
                NotInteger::Fraction(t) => (
                    ProblemKind::InvalidValue,
                    format!("{field} is {t}; it must be an integer ≥ {min}"),
                ),
                NotInteger::TooLarge(t) => (
                    ProblemKind::OutOfRange,
                    format!("{field} is {t}; it does not fit: an integer from {min} to {max} is expected"),
                ),
            };
            out.error(kind, message);
            None
        }
    }
}

/// The text of an integer value that was read, as written.
fn written_of(v: &Val, x: u64) -> String {
    match v {
        Val::Str(s) => written(s),
        Val::Cell(s) | Val::Num(s) => written(s),
        _ => x.to_string(),
    }
}

fn text<'v>(field: &'static str, v: &'v Option<Val>, out: &mut Findings) -> Option<Cow<'v, str>> {
    match v {
        None => None,
        Some(Val::Null) => None,
        Some(Val::Str(s)) => Some(Cow::Borrowed(s.trim())),
        Some(Val::Cell(s)) => Some(Cow::Borrowed(s.trim())),
        Some(Val::Int(i)) => Some(Cow::Owned(i.to_string())),
        Some(Val::UInt(u)) => Some(Cow::Owned(u.to_string())),
        Some(other) => {
            out.error(
                ProblemKind::InvalidValue,
                format!("{field} is {}, not text", describe(other)),
            );
            None
        }
    }
    .filter(|s| !s.is_empty())
}

/// ISO-8601 timestamps as Python writes them (`isoformat()` with or without
/// offset, `T` or space separator, optional fraction, `Z`).
pub fn is_iso8601(s: &str) -> bool {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if is_plain_rfc3339(s.as_bytes()) {
        return true;
    }
    DateTime::parse_from_rfc3339(s).is_ok()
        || DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z").is_ok()
        || DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").is_ok()
        || NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.f…][Z|±HH:MM]` with a real calendar date, the
/// time within 00:00:00–23:59:59 and the offset within ±23:59: the form
/// every harness record has, checked without chrono's general parser (a
/// per-record cost). Only ever accepts what chrono's RFC 3339 parser
/// accepts; anything else (leap seconds, a space, lower case, no offset)
/// is left to the parsers in [`is_iso8601`].
fn is_plain_rfc3339(b: &[u8]) -> bool {
    fn num(b: &[u8]) -> Option<u32> {
        b.iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    }
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        num(&b[0..4]),
        num(&b[5..7]),
        num(&b[8..10]),
        num(&b[11..13]),
        num(&b[14..16]),
        num(&b[17..19]),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest {
        [b'Z'] => true,
        [b'+' | b'-', offset @ ..] if offset.len() == 5 && offset[2] == b':' => {
            matches!((num(&offset[..2]), num(&offset[3..])), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// What a record's free-form objects yield, kept for the next record.
#[derive(Clone, Debug)]
struct Derived {
    metadata: Option<FreeText>,
    extra: Option<FreeText>,
    dims: DimsId,
    dims_value: std::sync::Arc<Dimensions>,
    measured: Option<std::sync::Arc<Measured>>,
    findings: Vec<Finding>,
}

/// Memo of the last record's free-form objects and what they yielded (one
/// per file: the context is the same for all its records).
#[derive(Default)]
pub struct DimsMemo {
    key: Vec<u8>,
    value: Option<Derived>,
}

impl DimsMemo {
    /// The memo's value when its key is `objects` (each followed by a 0
    /// byte) then `seed` ([`seed_key`]).
    fn get(&self, objects: &[&[u8]; 4], seed: &[u8; 9]) -> Option<&Derived> {
        let mut rest: &[u8] = &self.key;
        for part in objects {
            rest = rest.strip_prefix(*part)?.strip_prefix(&[0u8][..])?;
        }
        self.value.as_ref().filter(|_| rest == seed)
    }

    fn put(&mut self, objects: &[&[u8]; 4], seed: &[u8; 9], value: Derived) {
        self.key.clear();
        for part in objects {
            self.key.extend_from_slice(part);
            self.key.push(0);
        }
        self.key.extend_from_slice(seed);
        self.value = Some(value);
    }
}

/// The seed's part of the memo key: a tag byte, so no seed (legacy) and
/// seed `u64::MAX` stay apart.
fn seed_key(seed: Option<u64>) -> [u8; 9] {
    let mut key = [0u8; 9];
    if let Some(seed) = seed {
        key[0] = 1;
        key[1..].copy_from_slice(&seed.to_le_bytes());
    }
    key
}

/// Validate and normalize one record. `Err` carries the findings (at least
/// one error); `Ok` carries the record and its warnings.
pub fn normalize<'a>(
    raw: &mut RawRecord<'a>,
    ctx: &Context<'_>,
    source: SourceRef,
    at: Option<TextBase<'_>>,
    memo: &mut DimsMemo,
) -> Result<(UnifiedRecord, Vec<Finding>), Vec<Finding>> {
    let mut out = Findings::default();
    if let Some(name) = raw.repeated.take() {
        out.error(
            ProblemKind::InvalidValue,
            format!("field {name} appears more than once in this record, so which value is meant is unknown; keep one"),
        );
    }

    // Backend: the record's own field, else the backends/<name>/ folder.
    let own_backend = text("backend", &raw.backend, &mut out);
    let backend = match (own_backend, ctx.path_backend) {
        (Some(own), Some(path)) => {
            if own.as_ref() != path.as_str() {
                out.warning(
                    ProblemKind::BackendConflict,
                    format!(
                        "backend is {own:?} but the file is under backends/{path}/; using {own:?} — move the file or fix the field"
                    ),
                );
            }
            Some(Sym::new(&own))
        }
        (Some(own), None) => Some(Sym::new(&own)),
        (None, Some(path)) => Some(path),
        (None, None) => {
            out.error(
                ProblemKind::MissingField,
                "required field backend is missing (and no backends/<name>/ folder names it)".into(),
            );
            None
        }
    };
    let workload = text("workload", &raw.workload, &mut out);
    if workload.is_none() && !matches!(raw.workload, Some(Val::Compound | Val::Bool(_))) {
        out.error(
            ProblemKind::MissingField,
            "required field workload is missing or empty".into(),
        );
    }
    let run_id = text("run_id", &raw.run_id, &mut out);
    if run_id.is_none() && !matches!(raw.run_id, Some(Val::Compound | Val::Bool(_))) {
        out.error(
            ProblemKind::MissingField,
            "required field run_id is missing or empty".into(),
        );
    }

    let seed_absent = matches!(raw.seed, None | Some(Val::Null));
    let seed = if ctx.seed_optional && seed_absent {
        None
    } else {
        integer("seed", &raw.seed, 0, u64::MAX, &mut out)
    };
    let nodes = integer("nodes", &raw.nodes, 1, U32, &mut out);
    let parallelism = integer("parallelism", &raw.parallelism, 1, U32, &mut out);
    if let Some(paired) = ctx.paired {
        for (name, record, manifest) in [
            ("nodes", nodes, paired.nodes),
            ("parallelism", parallelism, paired.parallelism),
        ] {
            if let (Some(r), Some(m)) = (record, manifest) {
                if r != u64::from(m) {
                    out.warning(
                        ProblemKind::ManifestConflict,
                        format!("{name} is {r} but the paired-run manifest says {m}"),
                    );
                }
            }
        }
    }
    let throughput = non_negative(
        "throughput",
        required("throughput", &raw.throughput, &mut out),
        &mut out,
    );
    let duration = non_negative(
        "duration_seconds",
        required("duration_seconds", &raw.duration_seconds, &mut out),
        &mut out,
    );

    let latency = |field: &'static str, v: &Option<Val>, out: &mut Findings| -> Option<f64> {
        match v {
            None => {
                out.error(
                    ProblemKind::MissingField,
                    format!("required field {field} is missing (write null when not measured)"),
                );
                None
            }
            Some(v) => non_negative(field, number(field, v, out).ok().flatten(), out),
        }
    };
    let p50 = latency("latency_p50", &raw.latency_p50, &mut out);
    let p95 = latency("latency_p95", &raw.latency_p95, &mut out);
    let p99 = latency("latency_p99", &raw.latency_p99, &mut out);

    let success_rate = match &raw.success_rate {
        None => {
            out.error(
                ProblemKind::MissingField,
                "required field success_rate is missing (write null when unknown)".into(),
            );
            None
        }
        Some(v) => match number("success_rate", v, &mut out).ok().flatten() {
            Some(x) if !(0.0..=1.0).contains(&x) => {
                out.error(
                    ProblemKind::OutOfRange,
                    format!("success_rate is {x}; it is a fraction in [0, 1]"),
                );
                None
            }
            other => other,
        },
    };

    let timestamp = match &raw.timestamp {
        None | Some(Val::Null) => {
            out.error(ProblemKind::MissingField, "required field timestamp is missing".into());
            None
        }
        Some(Val::Str(s)) if is_iso8601(s) => Some(s.trim()),
        Some(Val::Cell(s)) if is_iso8601(s) => Some(s.trim()),
        Some(Val::Cell(s)) if s.trim().is_empty() => {
            out.error(ProblemKind::MissingField, "required field timestamp is empty".into());
            None
        }
        Some(other) => {
            out.error(
                ProblemKind::InvalidValue,
                format!(
                    "timestamp is {}, not an ISO-8601 date-time such as 2026-02-21T03:58:47+00:00",
                    describe(other)
                ),
            );
            None
        }
    };

    let config_hash = text("config_hash", &raw.config_hash, &mut out).map(|s| Sym::new(&s));
    let backend_hash = text("backend_hash", &raw.backend_hash, &mut out).map(|s| Sym::new(&s));

    if let (Some(a), Some(b), Some(c)) = (p50, p95, p99) {
        if !(a <= b && b <= c) {
            out.warning(
                ProblemKind::Suspicious,
                format!("latency percentiles are not ordered (p50 {a} ≤ p95 {b} ≤ p99 {c} expected)"),
            );
        }
    }

    // Dimensions: top level first, then metadata, extra, config objects.
    if !out.strings.is_empty() {
        let fields = out.strings.join(", ");
        out.warning(
            ProblemKind::NumberAsString,
            format!("{fields} given as strings; read as numbers"),
        );
    }

    // Dimensions: from the free-form objects (memoized: consecutive records
    // of a run usually carry the same objects) and the top level.
    // The memo key is the four objects' text and the seed; compared in
    // place, built only on a miss.
    let memo_parts = raw.top_dims.is_empty().then(|| {
        let objects =
            [raw.metadata, raw.extra, raw.config, raw.run_config].map(|o| o.map_or(&b"-"[..], |o| o.get().as_bytes()));
        (objects, seed_key(seed))
    });
    let memo_hit = memo_parts.as_ref().and_then(|(objects, seed)| memo.get(objects, seed));
    let derived = match memo_hit {
        Some(d) => {
            out.list.extend(d.findings.iter().cloned());
            d.clone()
        }
        None => {
            let before = out.list.len();
            let dim_fields = &mut raw.top_dims;
            let metadata = free_form("metadata", raw.metadata, dim_fields, &mut out).map(|t| free_text(t, at));
            let extra = free_form("extra", raw.extra, dim_fields, &mut out).map(|t| free_text(t, at));
            free_form("config", raw.config, dim_fields, &mut out);
            free_form("run_config", raw.run_config, dim_fields, &mut out);
            let (dims, measured) = dimensions(dim_fields, ctx, seed, &mut out);
            let id = DimsId::intern(dims);
            let derived = Derived {
                metadata,
                extra,
                dims: id,
                dims_value: id.get(),
                measured: (!measured.is_empty()).then(|| std::sync::Arc::new(measured)),
                findings: out.list[before..].to_vec(),
            };
            if let Some((objects, seed)) = &memo_parts {
                memo.put(objects, seed, derived.clone());
            }
            derived
        }
    };
    let dims = &derived.dims_value;

    if out.has_errors() {
        return Err(out.list);
    }
    let (Some(backend), Some(workload), Some(run_id), Some(nodes), Some(parallelism)) =
        (backend, workload, run_id, nodes, parallelism)
    else {
        return Err(out.list);
    };
    let (Some(throughput), Some(duration), Some(timestamp)) = (throughput, duration, timestamp) else {
        return Err(out.list);
    };

    let workload = Sym::new(&workload);
    let shape = WorkloadShape {
        workload,
        seed,
        // In range: `integer` refused anything above u32::MAX.
        nodes: nodes as u32,
        parallelism: parallelism as u32,
        num_tasks: dims.num_tasks,
        warmup_items: dims.warmup_items,
        parity_batch_size: dims.parity_batch_size,
        scheduler: dims.scheduler,
        work: dims.work_hash,
    };
    let record = UnifiedRecord {
        backend,
        workload,
        run_id: Sym::new(&run_id),
        seed,
        nodes: shape.nodes,
        parallelism: shape.parallelism,
        throughput,
        latency_p50: p50,
        latency_p95: p95,
        latency_p99: p99,
        success_rate,
        duration_seconds: duration,
        timestamp: crate::model::Timestamp::new(timestamp),
        config_hash,
        backend_hash,
        shape_hash: shape.hash(),
        path_run_id: ctx.path_run_id,
        path_config_hash: ctx.path_config_hash,
        metadata: derived.metadata,
        extra: derived.extra,
        dims: derived.dims,
        measured: derived.measured,
        source,
    };
    if let Some(why) = record.failed_run() {
        out.warning(
            ProblemKind::FailedRun,
            format!("a failed run, not a measurement ({why}); left out of means, intervals, verdicts and tables (--include-failed keeps it)"),
        );
    }
    Ok((record, out.list))
}

/// Read dimensions from a free-form object into `dims` (fields already set
/// win) and return its text, kept for the outputs.
/// The bytes a record was parsed from and where they start in its file:
/// free-form objects inside them are kept as [`FreeText::InFile`] spans.
#[derive(Clone, Copy)]
pub struct TextBase<'b> {
    pub bytes: &'b [u8],
    pub offset: u64,
}

/// `text` as a span of the file when it lies inside `at`'s bytes (it does
/// not when the line was repaired before parsing), else interned. A memo
/// hit reuses an earlier record's span: the same bytes, as the memo key
/// compares the text.
fn free_text(text: &str, at: Option<TextBase<'_>>) -> FreeText {
    if let Some(at) = at {
        let start = (text.as_ptr() as usize).wrapping_sub(at.bytes.as_ptr() as usize);
        if start <= at.bytes.len() && text.len() <= at.bytes.len() - start {
            if let Ok(len) = u32::try_from(text.len()) {
                return FreeText::InFile {
                    offset: at.offset + start as u64,
                    len,
                };
            }
        }
    }
    FreeText::Interned(Sym::new(text))
}

fn free_form<'a>(
    name: &str,
    obj: Option<&'a RawValue>,
    dims: &mut DimFields<'a>,
    out: &mut Findings,
) -> Option<&'a str> {
    let obj = obj?;
    let text = obj.get();
    if text == "null" {
        return None;
    }
    match dims.fill_from_object(obj) {
        Ok(()) => {}
        Err(_) => out.warning(
            ProblemKind::InvalidValue,
            format!(
                "{name} is not an object ({}); kept as given, no dimensions read from it",
                truncate(text)
            ),
        ),
    }
    Some(text)
}

fn dim_text(v: &Option<Val>) -> Option<String> {
    match v {
        Some(Val::Str(s)) => Some(s.trim().to_string()),
        Some(Val::Cell(s)) => Some(s.trim().to_string()),
        Some(Val::Int(i)) => Some(i.to_string()),
        Some(Val::UInt(u)) => Some(u.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn dim_number(name: &'static str, v: &Option<Val>, out: &mut Findings) -> Option<f64> {
    let v = v.as_ref()?;
    // Dimensions are optional: a bad one is a warning and stays unset.
    let mut scratch = Findings::default();
    match number(name, v, &mut scratch) {
        Ok(x) => x,
        Err(()) => {
            for f in scratch.list {
                out.warning(f.kind, format!("{}; this dimension is left unset", f.message));
            }
            None
        }
    }
    .filter(|x| {
        if *x < 0.0 {
            out.warning(
                ProblemKind::NegativeValue,
                format!("{name} is {x}; this dimension is left unset"),
            );
            false
        } else {
            true
        }
    })
}

/// A count dimension, read exactly; at most `max` (the field's type).
fn dim_count(name: &'static str, v: &Option<Val>, max: u64, out: &mut Findings) -> Option<u64> {
    let v = v.as_ref()?;
    // Dimensions are optional: a bad one is a warning and stays unset.
    let unset = "this dimension is left unset";
    let (kind, message) = match integer_value(v, &mut false) {
        Ok(Some(x)) if x > max => (
            ProblemKind::OutOfRange,
            format!("{name} is {}, larger than {max}; {unset}", written_of(v, x)),
        ),
        Ok(x) => return x,
        Err(NotInteger::NonFinite(t)) => (
            ProblemKind::NonFinite,
            format!("{name} is {t}; write null for a value that was not measured; {unset}"),
        ),
        Err(NotInteger::NotNumber(d)) => (
            ProblemKind::InvalidValue,
            format!("{name} is {d}, not a number; {unset}"),
        ),
        Err(NotInteger::EmptyString) => (
            ProblemKind::InvalidValue,
            format!("{name} is an empty string; write null or a number; {unset}"),
        ),
        Err(NotInteger::Negative(t)) => (ProblemKind::NegativeValue, format!("{name} is {t}; {unset}")),
        Err(NotInteger::Fraction(t)) => (
            ProblemKind::InvalidValue,
            format!("{name} is {t}, not a whole number; {unset}"),
        ),
        Err(NotInteger::TooLarge(t)) => (
            ProblemKind::OutOfRange,
            format!("{name} is {t}, larger than {max}; {unset}"),
        ),
    };
    out.warning(kind, message);
    None
}

fn node_distribution(raw: &RawValue, out: &mut Findings) -> Option<Box<[(Sym, u64)]>> {
    // Counts are read from their text, exactly (never through f64).
    let map = serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(raw.get())
        .ok()
        .filter(|map| {
            map.values()
                .all(|v| matches!(v.get().as_bytes().first(), Some(b'-' | b'0'..=b'9')))
        });
    let Some(map) = map else {
        out.warning(
            ProblemKind::InvalidValue,
            "node_distribution is not an object of node → task count; left unset".into(),
        );
        return None;
    };
    let mut nodes = Vec::with_capacity(map.len());
    for (node, count) in map {
        match integer_value(&Val::of_integer_field(count), &mut false) {
            Ok(Some(count)) => nodes.push((Sym::new(&node), count)),
            _ => {
                out.warning(
                    ProblemKind::InvalidValue,
                    format!(
                        "node_distribution[{node:?}] is {}, not a task count; distribution left unset",
                        written(count.get())
                    ),
                );
                return None;
            }
        }
    }
    Some(nodes.into_boxed_slice())
}

fn dimensions(f: &DimFields<'_>, ctx: &Context<'_>, seed: Option<u64>, out: &mut Findings) -> (Dimensions, Measured) {
    let strategy = dim_text(&f.scheduler_strategy);
    let scheduler = dim_text(&f.scheduler)
        .or_else(|| dim_text(&f.scheduler_name))
        .or_else(|| dim_text(&f.scheduler_type))
        .and_then(|s| Scheduler::parse(&s, strategy.as_deref()));
    let start_delay_ms = dim_number("start_delay", &f.start_delay, out).map(|s| (s * 1000.0).round() as u64);
    let mut dims = Dimensions {
        experiment: dim_text(&f.experiment).map(|s| Sym::new(&s)).or(ctx.path_experiment),
        pipeline: dim_text(&f.pipeline)
            .or_else(|| dim_text(&f.pipeline_type))
            .and_then(|s| Pipeline::parse(&s)),
        scheduler,
        load_level: dim_text(&f.load_level).and_then(|s| LoadLevel::parse(&s)),
        concurrency: dim_count("concurrency", &f.concurrency, U32, out).map(|c| c as u32),
        concurrent_jobs: dim_count("concurrent_jobs", &f.concurrent_jobs, U32, out).map(|c| c as u32),
        start_delay_ms,
        task_complexity: dim_text(&f.task_complexity).and_then(|s| TaskComplexity::parse(&s)),
        num_tasks: dim_count("num_tasks", &f.num_tasks, u64::MAX, out)
            .or_else(|| dim_count("total_tasks", &f.total_tasks, u64::MAX, out)),
        warmup_items: dim_count("warmup_items", &f.warmup_items, u64::MAX, out),
        parity_batch_size: dim_count("parity_batch_size", &f.parity_batch_size, u64::MAX, out),
        shuffle_version: dim_text(&f.shuffle_version).map(|s| Sym::new(&s)),
        pipeline_stages: dim_count("pipeline_stages", &f.pipeline_stages, U32, out).map(|c| c as u32),
        arrival: dim_text(&f.arrival).map(|s| Sym::new(&s)),
        llm_ratio: dim_text(&f.llm_ratio)
            .or_else(|| match &f.llm_ratio {
                Some(Val::Float(x)) if x.is_finite() => Some(x.to_string()),
                _ => None,
            })
            .map(|s| Sym::new(&s)),
        generator: dim_text(&f.generator).map(|s| Sym::new(&s)),
        work_hash: dim_text(&f.work_hash).map(|s| Sym::new(&s)),
    };

    if let Some(repro) = ctx.repro {
        if let (Some(m), Some(r)) = (repro.seed, seed) {
            if m != r {
                out.warning(
                    ProblemKind::ManifestConflict,
                    format!("seed is {r} but repro_manifest.json beside it says {m}"),
                );
            }
        }
        fill_or_warn(
            &mut dims.warmup_items,
            repro.warmup_items,
            "warmup_items",
            "repro_manifest.json",
            out,
        );
        fill_or_warn(
            &mut dims.parity_batch_size,
            repro.parity_batch_size,
            "parity_batch_size",
            "repro_manifest.json",
            out,
        );
        if dims.shuffle_version.is_none() {
            dims.shuffle_version = repro.shuffle_version;
        }
    }
    if let Some(paired) = ctx.paired {
        if let (Some(m), Some(r)) = (paired.seed, seed) {
            if m != r {
                out.warning(
                    ProblemKind::ManifestConflict,
                    format!("seed is {r} but the paired-run manifest says {m}"),
                );
            }
        }
        fill_or_warn(
            &mut dims.num_tasks,
            paired.items,
            "num_tasks",
            "the paired-run manifest (items)",
            out,
        );
        match (dims.scheduler, paired.scheduler) {
            (None, m) => dims.scheduler = m,
            (Some(r), Some(m)) if r != m => out.warning(
                ProblemKind::ManifestConflict,
                format!("scheduler is {r} but the paired-run manifest says {m}"),
            ),
            _ => {}
        }
    }

    let node_distribution = f.node_distribution.and_then(|raw| node_distribution(raw, out));
    let balance = dim_number("balance_score", &f.balance_score, out).or_else(|| {
        node_distribution
            .as_ref()
            .map(|d| balance_score(&d.iter().map(|(_, c)| *c).collect::<Vec<_>>()))
    });
    let measured = Measured {
        successful_tasks: dim_count("successful_tasks", &f.successful_tasks, u64::MAX, out),
        failed_tasks: dim_count("failed_tasks", &f.failed_tasks, u64::MAX, out),
        avg_latency_ms: dim_number("avg_latency_ms", &f.avg_latency_ms, out),
        scheduling_ms: dim_number("scheduling_ms", &f.scheduling_ms, out),
        queue_ms: dim_number("queue_ms", &f.queue_ms, out),
        execution_ms: dim_number("execution_ms", &f.execution_ms, out),
        node_distribution,
        balance_score: balance,
        task_latencies_ms: None,
    };
    (dims, measured)
}

fn fill_or_warn(slot: &mut Option<u64>, manifest: Option<u64>, name: &str, from: &str, out: &mut Findings) {
    match (*slot, manifest) {
        (None, m) => *slot = m,
        (Some(r), Some(m)) if r != m => out.warning(
            ProblemKind::ManifestConflict,
            format!("{name} is {r} but {from} says {m}"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::FileId;

    fn parse(line: &str) -> Result<(UnifiedRecord, Vec<Finding>), Vec<Finding>> {
        let mut raw: RawRecord = serde_json::from_str(line).unwrap();
        normalize(
            &mut raw,
            &Context::default(),
            SourceRef {
                file: FileId(0),
                line: 1,
            },
            None,
            &mut DimsMemo::default(),
        )
    }

    const GOOD: &str = r#"{"backend":"sage","workload":"w","run_id":"r","seed":42,"nodes":1,"parallelism":4,"throughput":41.4,"latency_p50":null,"latency_p95":null,"latency_p99":null,"success_rate":null,"duration_seconds":2.4,"timestamp":"2026-02-21T03:58:47.134641+00:00","metadata":{"scheduler_name":"fifo","raw_metrics":{"scheduler_type":"FIFO"}}}"#;

    #[test]
    fn accepts_the_upstream_shape() {
        let (rec, warnings) = parse(GOOD).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(rec.backend.as_str(), "sage");
        assert_eq!(rec.dimensions().scheduler, Some(Scheduler::Fifo));
        assert_eq!(rec.throughput, 41.4);
        let Some(FreeText::Interned(metadata)) = rec.metadata else {
            panic!("without a text base the object is interned: {:?}", rec.metadata)
        };
        assert!(metadata.as_str().contains("raw_metrics"));
    }

    #[test]
    fn a_negative_zero_is_read_as_zero() {
        let line = GOOD
            .replace(r#""throughput":41.4"#, r#""throughput":-0.0"#)
            .replace(r#""success_rate":null"#, r#""success_rate":"-0""#)
            .replace(r#""latency_p95":null"#, r#""latency_p95":-0"#);
        let (rec, _) = parse(&line).unwrap();
        for x in [Some(rec.throughput), rec.success_rate, rec.latency_p95] {
            let x = x.unwrap();
            assert!(x == 0.0 && x.is_sign_positive(), "{x:?}");
            assert_eq!(x.to_string(), "0");
        }
    }

    #[test]
    fn objects_inside_the_text_base_are_spans_of_the_file() {
        let line = format!("  {GOOD}");
        let mut raw: RawRecord = serde_json::from_str(&line).unwrap();
        let at = TextBase {
            bytes: line.as_bytes(),
            offset: 1000,
        };
        let source = SourceRef {
            file: FileId(0),
            line: 1,
        };
        let (rec, _) = normalize(
            &mut raw,
            &Context::default(),
            source,
            Some(at),
            &mut DimsMemo::default(),
        )
        .unwrap();
        let start = line.find("{\"scheduler_name\"").unwrap();
        let Some(FreeText::InFile { offset, len }) = rec.metadata else {
            panic!("{:?}", rec.metadata)
        };
        assert_eq!(offset, 1000 + start as u64);
        assert_eq!(&line[start..start + len as usize], &line[start..line.len() - 1]);
        // Text outside the base (a repaired copy of the line) is interned.
        let elsewhere = TextBase {
            bytes: b"{}",
            offset: 0,
        };
        let mut raw: RawRecord = serde_json::from_str(&line).unwrap();
        let (rec, _) = normalize(
            &mut raw,
            &Context::default(),
            source,
            Some(elsewhere),
            &mut DimsMemo::default(),
        )
        .unwrap();
        assert!(matches!(rec.metadata, Some(FreeText::Interned(_))));
    }

    #[test]
    fn numbers_as_strings_warn() {
        let line = GOOD
            .replace("\"seed\":42", "\"seed\":\"42\"")
            .replace("41.4", "\"41.4\"");
        let (rec, warnings) = parse(&line).unwrap();
        assert_eq!(rec.seed, Some(42));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].kind, ProblemKind::NumberAsString);
        assert!(
            warnings[0].message.contains("seed, throughput"),
            "{}",
            warnings[0].message
        );
    }

    #[test]
    fn rejects_each_bad_value_with_its_kind() {
        let cases = [
            (GOOD.replace("41.4", "\"NaN\""), ProblemKind::NonFinite),
            (GOOD.replace("41.4", "\"-Infinity\""), ProblemKind::NonFinite),
            (
                GOOD.replace("\"latency_p95\":null", "\"latency_p95\":-3"),
                ProblemKind::NegativeValue,
            ),
            (
                GOOD.replace("\"success_rate\":null", "\"success_rate\":1.7"),
                ProblemKind::OutOfRange,
            ),
            (GOOD.replace("\"nodes\":1", "\"nodes\":0"), ProblemKind::OutOfRange),
            (GOOD.replace("\"seed\":42,", ""), ProblemKind::MissingField),
            (
                GOOD.replace("\"throughput\":41.4", "\"throughput\":null"),
                ProblemKind::MissingField,
            ),
            (
                GOOD.replace("2026-02-21T03:58:47.134641+00:00", "yesterday"),
                ProblemKind::InvalidValue,
            ),
            (
                GOOD.replace("\"parallelism\":4", "\"parallelism\":2.5"),
                ProblemKind::InvalidValue,
            ),
        ];
        for (line, kind) in cases {
            let errs = parse(&line).expect_err(&line);
            assert!(errs.iter().any(|f| f.kind == kind), "{line}: {errs:?}");
        }
    }

    #[test]
    fn integers_are_read_exactly() {
        for (text, seed) in [
            ("9007199254740993", 9_007_199_254_740_993u64),
            ("9223372036854775808", 1 << 63),
            ("18446744073709551615", u64::MAX),
            ("\"18446744073709551615\"", u64::MAX),
            ("9007199254740993.0", 9_007_199_254_740_993),
            ("1.8446744073709551615e19", u64::MAX),
            ("0", 0),
        ] {
            let (rec, _) = parse(&GOOD.replace("\"seed\":42", &format!("\"seed\":{text}")))
                .unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(rec.seed, Some(seed), "{text}");
        }
        let (rec, _) = parse(&GOOD.replace("\"nodes\":1", "\"nodes\":4294967295")).unwrap();
        assert_eq!(rec.nodes, u32::MAX);
    }

    #[test]
    fn integers_that_do_not_fit_are_errors_naming_the_value_as_written() {
        let cases = [
            (
                "\"seed\":42",
                "\"seed\":18446744073709551616",
                ProblemKind::OutOfRange,
                "seed is 18446744073709551616;",
            ),
            (
                "\"seed\":42",
                "\"seed\":\"18446744073709551616\"",
                ProblemKind::OutOfRange,
                "seed is 18446744073709551616;",
            ),
            ("\"seed\":42", "\"seed\":1e20", ProblemKind::OutOfRange, "seed is 1e20;"),
            ("\"seed\":42", "\"seed\":1.5", ProblemKind::InvalidValue, "seed is 1.5;"),
            ("\"seed\":42", "\"seed\":-1", ProblemKind::NegativeValue, "seed is -1;"),
            (
                "\"seed\":42",
                "\"seed\":-18446744073709551617",
                ProblemKind::NegativeValue,
                "seed is -18446744073709551617;",
            ),
            (
                "\"nodes\":1",
                "\"nodes\":4294967301",
                ProblemKind::OutOfRange,
                "nodes is 4294967301;",
            ),
            (
                "\"nodes\":1",
                "\"nodes\":\"4294967296\"",
                ProblemKind::OutOfRange,
                "nodes is 4294967296;",
            ),
            (
                "\"parallelism\":4",
                "\"parallelism\":99999999999999999999999",
                ProblemKind::OutOfRange,
                "parallelism is 99999999999999999999999;",
            ),
            (
                "\"parallelism\":4",
                "\"parallelism\":\"four\"",
                ProblemKind::InvalidValue,
                "parallelism is \"four\", not a number",
            ),
        ];
        for (from, to, kind, text) in cases {
            let line = GOOD.replace(from, to);
            let errs = parse(&line).expect_err(&line);
            assert!(
                errs.iter().any(|f| f.kind == kind && f.message.contains(text)),
                "{to}: {errs:?}"
            );
        }
    }

    #[test]
    fn exact_integer_text() {
        for (text, value) in [
            ("42", 42u64),
            (" 7 ", 7),
            ("+5", 5),
            ("4.0", 4),
            ("1e3", 1000),
            ("12.5e1", 125),
            ("100e-2", 1),
            ("-0", 0),
            ("0.000", 0),
            ("007", 7),
        ] {
            assert_eq!(exact_integer(text), Ok(value), "{text}");
        }
        assert!(matches!(exact_integer("1e-5"), Err(NotInteger::Fraction(_))));
        assert!(matches!(exact_integer("2.5"), Err(NotInteger::Fraction(_))));
        assert!(matches!(exact_integer("-2"), Err(NotInteger::Negative(_))));
        assert!(matches!(
            exact_integer("1e99999999999999999999"),
            Err(NotInteger::TooLarge(_))
        ));
        assert!(matches!(
            exact_integer("18446744073709551616"),
            Err(NotInteger::TooLarge(_))
        ));
        for bad in ["", ".", "1e", "0x10", "++5", "1,000", "five"] {
            assert!(matches!(exact_integer(bad), Err(NotInteger::NotNumber(_))), "{bad}");
        }
        let mut string = false;
        assert!(matches!(
            integer_value(&Val::Float(1e16), &mut string),
            Err(NotInteger::TooLarge(_))
        ));
        assert_eq!(
            integer_value(&Val::Float(9_007_199_254_740_992.0), &mut string),
            Ok(Some(1 << 53))
        );
    }

    #[test]
    fn count_dimensions_are_exact_and_never_truncated() {
        let line = GOOD.replace(
            "\"scheduler_name\":\"fifo\"",
            "\"scheduler_name\":\"fifo\",\"num_tasks\":9007199254740993,\"concurrency\":4294967296",
        );
        let (rec, warnings) = parse(&line).unwrap();
        let dims = rec.dimensions();
        assert_eq!(dims.num_tasks, Some(9_007_199_254_740_993));
        assert_eq!(dims.concurrency, None, "not truncated to 0");
        assert!(
            warnings
                .iter()
                .any(|w| w.kind == ProblemKind::OutOfRange && w.message.contains("concurrency is 4294967296")),
            "{warnings:?}"
        );
    }

    #[test]
    fn config_hash_ignores_backend() {
        let (a, _) = parse(GOOD).unwrap();
        let (b, _) = parse(&GOOD.replace("\"sage\"", "\"ray\"")).unwrap();
        assert_ne!(a.backend, b.backend);
        assert_eq!(a.shape_hash, b.shape_hash);
        let (c, _) = parse(&GOOD.replace("\"seed\":42", "\"seed\":7")).unwrap();
        assert_ne!(a.shape_hash, c.shape_hash);
    }

    #[test]
    fn upstream_hash_difference_is_recognised() {
        let (a, _) =
            parse(&GOOD.replace("\"duration_seconds\"", "\"config_hash\":\"aaa\",\"duration_seconds\"")).unwrap();
        let ray = GOOD.replace("\"sage\"", "\"ray\"");
        let (b, _) =
            parse(&ray.replace("\"duration_seconds\"", "\"config_hash\":\"bbb\",\"duration_seconds\"")).unwrap();
        assert!(a.differs_only_in_upstream_hash(&b));
        let (c, _) = parse(
            &ray.replace("\"seed\":42", "\"seed\":1")
                .replace("\"duration_seconds\"", "\"config_hash\":\"bbb\",\"duration_seconds\""),
        )
        .unwrap();
        assert!(
            !a.differs_only_in_upstream_hash(&c),
            "a real shape difference is not explained away"
        );
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2026-02-21T03:58:47.134641+00:00",
            "2026-02-21T03:58:47Z",
            "2026-02-21T03:58:47.1",
            "2026-02-21 03:58:47",
        ] {
            assert!(is_iso8601(ok), "{ok}");
        }
        for bad in ["", "21/02/2026", "2026-13-01T00:00:00"] {
            assert!(!is_iso8601(bad), "{bad}");
        }
    }

    /// The fast check accepts nothing chrono's RFC 3339 parser rejects,
    /// and accepts the harness's own form.
    #[test]
    fn plain_rfc3339_is_a_subset_of_chrono() {
        for ok in [
            "2026-02-21T03:58:47.134641+00:00",
            "2026-02-21T03:58:47Z",
            "2024-02-29T23:59:59.999999999-23:59",
            "0000-01-01T00:00:00+00:00",
        ] {
            assert!(is_plain_rfc3339(ok.as_bytes()), "{ok}");
            assert!(chrono::DateTime::parse_from_rfc3339(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-02-21T24:00:00Z",
            "2026-02-21T03:60:00Z",
            "2026-02-21T03:58:47.Z",
            "2026-02-21T03:58:47.1234567890Z",
            "2026-02-21T03:58:47+24:00",
            "2026-02-21T03:58:47+0000",
            "2026-02-21T03:58:47",
            "2026-02-21 03:58:47Z",
            "2026-02-21T03:58:47ZZ",
            "+026-02-21T03:58:47Z",
        ] {
            assert!(!is_plain_rfc3339(bad.as_bytes()), "{bad}");
        }
    }

    proptest::proptest! {
        /// Seeded random timestamps near the valid form: whatever the fast
        /// check accepts, chrono accepts too.
        #[test]
        fn plain_rfc3339_never_accepts_what_chrono_rejects(
            year in 0u32..10_000, month in 0u32..14, day in 0u32..33,
            hour in 0u32..26, minute in 0u32..62, second in 0u32..62,
            fraction in proptest::option::of("[0-9]{0,11}"),
            offset in "(Z|z|[+-][0-9]{2}:[0-9]{2}|)",
        ) {
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{}{offset}",
                fraction.map(|f| format!(".{f}")).unwrap_or_default()
            );
            if is_plain_rfc3339(text.as_bytes()) {
                proptest::prop_assert!(chrono::DateTime::parse_from_rfc3339(&text).is_ok(), "{}", text);
            }
        }
    }
}
