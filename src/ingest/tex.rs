//! Tables of a hand-written LaTeX paper, read back as plain text so that
//! `sagereport tables --check paper.tex` can compare every printed number
//! with the value computed from data.
//!
//! The parser is hand-written and std-only. It understands the LaTeX that
//! papers put in tables (booktabs and `\hline` rules, `\multicolumn`,
//! `\multirow`, font and colour commands, math symbols, siunitx, zero-argument
//! `\newcommand` macros, `longtable` heads and feet) and falls back to "drop
//! the markup, keep the text" for everything else. It never panics, whatever
//! the input: a paper is edited by hand and may be half-written.
//!
//! Tables in commented-out lines (`% \begin{tabular}` …) are read too and
//! marked `commented`: an old table left in the source is a classic reason a
//! paper and its data disagree, and the check should say so rather than skip
//! it silently.
//!
//! Positions: the file is turned into two views of the same length — the
//! live text with comments blanked, and the commented-out text with its `%`
//! prefixes blanked and everything live blanked — so a byte offset in either
//! view is the offset in the file and line numbers are exact.

use serde::Serialize;
use std::collections::HashMap;

/// One table of the paper: one `tabular`-like environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TexTable {
    /// `\caption` of the enclosing `table` float (or of the `longtable`
    /// itself) as plain text: the check uses it to tell which of our tables
    /// this one is meant to be.
    pub caption: Option<String>,
    /// `\label` beside that caption, verbatim (`tab:node-scaling`): the most
    /// reliable name of the table.
    pub label: Option<String>,
    /// The table sits in commented-out lines (or in a `comment` environment,
    /// or between `\iffalse` and `\fi`): not in the PDF, but still in the
    /// source, so a difference there is reported as such.
    pub commented: bool,
    /// 1-based line of `\begin{tabular}` in the file, for messages.
    pub line: usize,
    /// Column headings, one per column (a two-row header is joined per
    /// column with a space, a `\multicolumn` group label repeated over the
    /// columns it spans), so rows and columns can be matched by name.
    pub header: Vec<String>,
    /// The bottom row of a grouped header alone, per column (empty when the
    /// header is one row): `1 node` under a `Throughput (tasks/s)` group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header_bottom: Vec<String>,
    /// The body rows below the header.
    pub rows: Vec<TexRow>,
}

/// One body row of a [`TexTable`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TexRow {
    /// 1-based line where the row's text starts, so a differing cell can be
    /// pointed at in the editor.
    pub line: usize,
    /// Cells as plain text, markup stripped. A `\multicolumn{n}` cell is its
    /// text followed by n−1 empty cells, so index i is always column i.
    pub cells: Vec<String>,
}

/// A number as the paper prints it: the value and the precision it claims.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrintedNumber {
    /// The value as printed (`52%` is 52, `1.2e3` is 1200).
    pub value: f64,
    /// Digits after the decimal point (of the mantissa for `1.2e3`): the
    /// printed precision, which decides agreement in [`agrees`].
    pub decimals: u32,
    /// What follows the number (`s`, `ms`, `/s`, `×`, `tasks/s`, `µs`), so
    /// the caller can check or convert units.
    pub unit: Option<String>,
    /// Printed with `%`: the caller compares it with a percentage.
    pub percent: bool,
}

/// Every `tabular`, `tabular*`, `tabularx` and `longtable` environment of a
/// LaTeX file (and `tabulary`, `xltabular`, `NiceTabular`), in file order,
/// including the ones in commented-out lines. A tabular nested in another's
/// cell is part of that cell, not a table of its own.
pub fn parse_tables(text: &str) -> Vec<TexTable> {
    let src = text.as_bytes();
    let (live, commented) = split_views(src);
    let macros = scan_macros(&live);
    let ctx = Ctx { macros: &macros };
    let starts = line_starts(src);
    let live_doc = scan_doc(&live, &ctx);
    let com_doc = scan_doc(&commented, &ctx);
    let skipped = skipped_regions(&live, &live_doc);
    let mut out: Vec<(usize, TexTable)> = Vec::new();
    for (view, doc, in_comment) in [(&live, &live_doc, false), (&commented, &com_doc, true)] {
        for env in top_level_tabulars(doc) {
            // A commented-out tabular inside a live float is an alternative
            // version of that float's table: it takes the float's caption.
            let fallback = if in_comment { Some(&live_doc) } else { None };
            let is_commented = in_comment || skipped.iter().any(|&(s, e)| s <= env.begin && env.begin < e);
            let table = build_table(view, doc, fallback, env, is_commented, &ctx, &starts);
            out.push((env.begin, table));
        }
    }
    out.sort_by_key(|(pos, _)| *pos);
    out.into_iter().map(|(_, t)| t).collect()
}

/// The files a document pulls in with `\input{…}` or `\include{…}` outside
/// comments, in order: each with the 1-based line of the command.
pub fn included_files(text: &str) -> Vec<(usize, String)> {
    let (live, _) = split_views(text.as_bytes());
    let starts = line_starts(&live);
    let end = live.len();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((start, word, next)) = next_control(&live, i, end) {
        i = next;
        if !matches!(word, Some(b"input" | b"include")) {
            continue;
        }
        if let Some(g) = group(&live, next, end) {
            let name = String::from_utf8_lossy(trim_bytes(&live[g.s..g.e])).into_owned();
            if !name.is_empty() {
                out.push((line_of(&starts, start), name));
            }
            i = g.next;
        }
    }
    out
}

/// The first number of a table cell (plain text, as in [`TexRow::cells`]) as
/// printed: `18.5/s`, `2.5s`, `3.2 ms`, `52%`, `11.4×`, `1,234.5`, `-0.5`,
/// `+3.1`, `1.2e3`, `1.2×10^3`, `4.8 ± 0.3` (the ± part is left to
/// [`parse_ci`]). `None` when the cell holds no number (`--`, `—`, `-`,
/// `n/a`, empty): a missing value is not a disagreement.
pub fn parse_number(cell: &str) -> Option<PrintedNumber> {
    let cs: Vec<char> = cell.chars().collect();
    let num = scan_number(&cs, 0, false)?;
    let (mut unit, mut percent) = scan_suffix(&cs, num.end);
    if unit.is_none() && !percent {
        // `4.8 ± 0.3 ms`: the unit comes after the interval.
        if let Some(after) = plus_minus_at(&cs, skip_spaces(&cs, num.end)) {
            if let Some(ci) = scan_number(&cs, after, true) {
                (unit, percent) = scan_suffix(&cs, ci.end);
            }
        }
    }
    Some(PrintedNumber { value: num.value, decimals: num.decimals, unit, percent })
}

/// The half-width printed after `±` (or `+/-`) in a cell, as in
/// `4.8 ± 0.3` or `±0.3`: the paper's confidence interval, to compare with
/// the computed one.
pub fn parse_ci(cell: &str) -> Option<f64> {
    let cs: Vec<char> = cell.chars().collect();
    (0..cs.len()).find_map(|i| {
        let after = plus_minus_at(&cs, i)?;
        scan_number(&cs, after, true).map(|n| n.value.abs())
    })
}

/// Does a computed value round to the printed one? A value printed with `d`
/// decimals claims |computed − printed| ≤ ½·10^−d; a tiny relative epsilon
/// absorbs binary floating-point error at the rounding boundary (4.85 may
/// print as 4.8 or 4.9). Percent cells compare with `computed` as given: the
/// caller converts fractions to percent. Non-finite values never agree.
pub fn agrees(printed: &PrintedNumber, computed: f64) -> bool {
    if !computed.is_finite() || !printed.value.is_finite() {
        return false;
    }
    let half = 0.5 * 10f64.powi(-(printed.decimals.min(330) as i32));
    let eps = 1e-9 * (1.0 + printed.value.abs().max(computed.abs()));
    (computed - printed.value).abs() <= half + eps
}

// ---------------------------------------------------------------------------
// Views: live text and commented-out text, same offsets as the file.

/// Bytes of a line that are blank for classification.
fn is_blank_byte(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0c)
}

/// Blank a trailing comment: from the first `%` not escaped as `\%` (an
/// escaped backslash `\\` before it does not escape it) to `end`.
fn strip_comment(buf: &mut [u8], start: usize, end: usize) {
    let mut k = start;
    while k < end {
        match buf[k] {
            b'\\' => k += 2,
            b'%' => {
                buf[k..end].fill(b' ');
                return;
            }
            _ => k += 1,
        }
    }
}

/// The live view (comments blanked) and the commented view (only the
/// commented-out lines, their `%` prefix blanked). Every removed byte becomes
/// a space and newlines stay, so offsets and lines are those of the file.
///
/// In a run of commented lines (blank lines do not break a run) the prefix
/// removed is the run's smallest number of leading `%`, so a `%%` row inside
/// a `%`-commented table stays a comment, and a block commented with `%%`
/// still reads.
fn split_views(src: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut live = src.to_vec();
    let mut com: Vec<u8> = src.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }).collect();

    // (start, end, first non-blank, kind) — kind: None blank, Some(0) live,
    // Some(n) commented with n leading '%'.
    let mut lines: Vec<(usize, usize, usize, Option<usize>)> = Vec::new();
    let mut start = 0;
    for end in src.iter().enumerate().filter(|(_, &c)| c == b'\n').map(|(i, _)| i).chain([src.len()]) {
        let mut p = start;
        if start == 0 && src.starts_with(b"\xEF\xBB\xBF") {
            p = 3;
        }
        while p < end && is_blank_byte(src[p]) {
            p += 1;
        }
        let kind = if p >= end {
            None
        } else if src[p] == b'%' {
            Some(src[p..end].iter().take_while(|&&c| c == b'%').count())
        } else {
            Some(0)
        };
        lines.push((start, end, p, kind));
        start = end + 1;
    }

    for &(s, e, _, kind) in &lines {
        match kind {
            Some(0) => strip_comment(&mut live, s, e),
            Some(_) => live[s..e].fill(b' '),
            None => {}
        }
    }

    let mut i = 0;
    while i < lines.len() {
        if !matches!(lines[i].3, Some(n) if n > 0) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut last = i;
        let mut depth = usize::MAX;
        while j < lines.len() {
            match lines[j].3 {
                Some(0) => break,
                Some(n) => {
                    depth = depth.min(n);
                    last = j;
                }
                None => {}
            }
            j += 1;
        }
        for &(_, e, p, kind) in &lines[i..=last] {
            if kind.is_some_and(|n| n > 0) {
                let from = (p + depth).min(e);
                com[from..e].copy_from_slice(&src[from..e]);
                strip_comment(&mut com, from, e);
            }
        }
        i = last + 1;
    }
    (live, com)
}

fn line_starts(src: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(src.iter().enumerate().filter(|(_, &c)| c == b'\n').map(|(i, _)| i + 1));
    v
}

/// 1-based line of a byte offset.
fn line_of(starts: &[usize], pos: usize) -> usize {
    starts.partition_point(|&s| s <= pos).max(1)
}

// ---------------------------------------------------------------------------
// Low-level scanning helpers. All take an exclusive `end` ≤ `b.len()` and
// never index past it.

fn skip_ws(b: &[u8], mut p: usize, end: usize) -> usize {
    let end = end.min(b.len());
    while p < end && matches!(b[p], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
        p += 1;
    }
    p
}

/// An argument: its inner bytes `s..e`, and the offset after it.
#[derive(Clone, Copy)]
struct Span {
    s: usize,
    e: usize,
    next: usize,
}

/// A `{…}` argument at `p` (after blanks), braces balanced, `\{` `\}` skipped.
fn group(b: &[u8], p: usize, end: usize) -> Option<Span> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != b'{' {
        return None;
    }
    let mut depth = 0usize;
    let mut i = p;
    while i < end {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(Span { s: p + 1, e: i, next: i + 1 });
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// An optional `open…close` argument at `p` (after blanks); `close` inside
/// braces does not count.
fn delimited(b: &[u8], p: usize, end: usize, open: u8, close: u8) -> Option<Span> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != open {
        return None;
    }
    let mut depth = 0usize;
    let mut i = p + 1;
    while i < end {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            c if c == close && depth == 0 => return Some(Span { s: p + 1, e: i, next: i + 1 }),
            _ => {}
        }
        i += 1;
    }
    None
}

fn opt(b: &[u8], p: usize, end: usize) -> Option<Span> {
    delimited(b, p, end, b'[', b']')
}

/// Skip arguments by signature: `s` optional star (right at `p`), `o`
/// optional `[…]`, `p` optional `(…)`, `g` mandatory `{…}` (stops when
/// missing).
fn skip_sig(b: &[u8], mut p: usize, end: usize, sig: &str) -> usize {
    for c in sig.bytes() {
        match c {
            b's' => {
                if p < end.min(b.len()) && b[p] == b'*' {
                    p += 1;
                }
            }
            b'o' => {
                if let Some(s) = opt(b, p, end) {
                    p = s.next;
                }
            }
            b'p' => {
                if let Some(s) = delimited(b, p, end, b'(', b')') {
                    p = s.next;
                }
            }
            _ => match group(b, p, end) {
                Some(s) => p = s.next,
                None => return p,
            },
        }
    }
    p
}

/// The control sequence at `b[i] == '\\'`: the letters of a control word (or
/// `None` for a control symbol like `\%` or `\\`) and the offset after it.
/// Always returns an offset > `i`.
fn control(b: &[u8], i: usize, end: usize) -> (Option<&[u8]>, usize) {
    let end = end.min(b.len());
    let j = i + 1;
    if j >= end {
        return (None, j);
    }
    if b[j].is_ascii_alphabetic() {
        let mut k = j;
        while k < end && b[k].is_ascii_alphabetic() {
            k += 1;
        }
        (Some(&b[j..k]), k)
    } else if b[j] < 0x80 {
        (None, j + 1)
    } else {
        // `\` before a non-ASCII character: leave the character whole.
        (None, j)
    }
}

/// The next control sequence at or after `from`: its offset, its word (as
/// [`control`] gives it) and the offset after it; `None` when there is none.
fn next_control(b: &[u8], from: usize, end: usize) -> Option<(usize, Option<&[u8]>, usize)> {
    let end = end.min(b.len());
    let at = from + memchr::memchr(b'\\', b.get(from..end)?)?;
    let (word, next) = control(b, at, end);
    Some((at, word, next))
}

/// `{name}` after `\begin` / `\end`: the environment name and the offset
/// after the closing brace.
fn env_name(b: &[u8], p: usize, end: usize) -> Option<(String, usize)> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != b'{' {
        return None;
    }
    let limit = end.min(p + 80);
    let close = (p + 1..limit).find(|&k| b[k] == b'}')?;
    let name = String::from_utf8_lossy(&b[p + 1..close]).trim().to_string();
    if name.is_empty() {
        return None;
    }
    Some((name, close + 1))
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

// ---------------------------------------------------------------------------
// Environments, captions and labels of a view.

const TABULAR_ENVS: &[&str] =
    &["tabular", "tabular*", "tabularx", "tabulary", "xltabular", "longtable", "longtable*", "NiceTabular"];
/// Floats: where a caption belongs; the search for one stops here.
const FLOAT_ENVS: &[&str] =
    &["table", "table*", "sidewaystable", "sidewaystable*", "wraptable", "SCtable", "SCtable*", "margintable"];
/// Other boxes that may carry the caption: subtables, minipages, and figures
/// (a tabular set as a figure is described by the figure's caption). When
/// they have none, the search goes on outward.
const INNER_ENVS: &[&str] =
    &["subtable", "minipage", "threeparttable", "threeparttablex", "figure", "figure*", "subfigure"];

fn is_tabular(name: &str) -> bool {
    TABULAR_ENVS.contains(&name)
}

fn is_float(name: &str) -> bool {
    FLOAT_ENVS.contains(&name)
}

fn is_container(name: &str) -> bool {
    is_float(name) || INNER_ENVS.contains(&name)
}

/// A matched environment: `\begin{name}` at `begin`, its arguments from
/// `args`, `\end{name}` at `end`, the text after it at `close`.
#[derive(Clone, Debug)]
struct Env {
    name: String,
    begin: usize,
    args: usize,
    end: usize,
    close: usize,
}

/// A `\caption` or `\label`: where it is and its text.
#[derive(Clone, Debug)]
struct Mark {
    start: usize,
    end: usize,
    text: String,
}

#[derive(Default)]
struct Doc {
    envs: Vec<Env>,
    captions: Vec<Mark>,
    labels: Vec<Mark>,
}

/// Environments (tabulars and caption containers), captions and labels of a
/// view. An `\end` closes the innermost open environment of its name; an
/// environment never closed is ignored.
fn scan_doc(b: &[u8], ctx: &Ctx<'_>) -> Doc {
    let end = b.len();
    let mut doc = Doc::default();
    let mut stack: Vec<(String, usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some((start, word, next)) = next_control(b, i, end) {
        match word {
            Some(w @ (b"begin" | b"end")) => {
                let Some((name, after)) = env_name(b, next, end) else {
                    i = next;
                    continue;
                };
                if is_tabular(&name) || is_container(&name) || name == "comment" {
                    if w == b"begin" {
                        stack.push((name, start, after));
                    } else if let Some(pos) = stack.iter().rposition(|(n, _, _)| *n == name) {
                        let (name, begin, args) = stack[pos].clone();
                        // Environments opened inside it and never closed end here.
                        stack.truncate(pos);
                        doc.envs.push(Env { name, begin, args, end: start, close: after });
                    }
                }
                i = after;
            }
            Some(w @ (b"caption" | b"captionof")) => {
                let sig = if w == b"caption" { "so" } else { "sgo" };
                let p = skip_sig(b, next, end, sig);
                if let Some(g) = group(b, p, end) {
                    doc.captions.push(Mark { start, end: g.next, text: ctx.text(&b[g.s..g.e]) });
                }
                // Continue inside the caption: a `\label` may be in it.
                i = next;
            }
            Some(b"label") => {
                if let Some(g) = group(b, next, end) {
                    let text = String::from_utf8_lossy(trim_bytes(&b[g.s..g.e])).into_owned();
                    doc.labels.push(Mark { start, end: g.next, text });
                    i = g.next;
                } else {
                    i = next;
                }
            }
            _ => i = next,
        }
    }
    doc.envs.sort_by_key(|e| e.begin);
    doc
}

/// Regions of the live view that LaTeX skips, so their tables are as good as
/// commented out: `comment` environments (comment package) and
/// `\iffalse … \fi` (up to an `\else` at its level). An `\iffalse` never
/// closed marks nothing.
fn skipped_regions(b: &[u8], doc: &Doc) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> =
        doc.envs.iter().filter(|e| e.name == "comment").map(|e| (e.begin, e.close)).collect();
    let end = b.len();
    let mut i = 0;
    while let Some((start, word, next)) = next_control(b, i, end) {
        if word != Some(b"iffalse") {
            i = next;
            continue;
        }
        let mut depth = 1usize;
        let mut k = next;
        let mut close = None;
        while let Some((_, w, n)) = next_control(b, k, end) {
            match w {
                Some(b"fi") => depth -= 1,
                Some(b"else") if depth == 1 => depth = 0,
                Some(
                    b"if" | b"ifx" | b"ifnum" | b"ifdim" | b"ifodd" | b"ifcase" | b"ifdefined" | b"ifcsname"
                    | b"iftrue" | b"iffalse" | b"ifcat" | b"ifmmode" | b"ifvmode" | b"ifhmode" | b"ifvoid" | b"ifeof",
                ) => depth += 1,
                _ => {}
            }
            k = n;
            if depth == 0 {
                close = Some(k);
                break;
            }
        }
        match close {
            Some(c) => {
                out.push((start, c));
                i = c;
            }
            None => break,
        }
    }
    out
}

/// Tabulars not inside another tabular (those are cell content), in order.
fn top_level_tabulars(doc: &Doc) -> Vec<&Env> {
    let mut out: Vec<&Env> = Vec::new();
    let mut outer_end = 0;
    for e in doc.envs.iter().filter(|e| is_tabular(&e.name)) {
        if !out.is_empty() && e.begin < outer_end {
            continue;
        }
        outer_end = e.close;
        out.push(e);
    }
    out
}

/// Distance between a mark and the span `s..e`.
fn distance(m: &Mark, s: usize, e: usize) -> usize {
    if m.end <= s {
        s - m.end
    } else {
        // After the span, or overlapping it (0).
        m.start.saturating_sub(e)
    }
}

fn nearest<'a>(marks: &[&'a Mark], s: usize, e: usize) -> Option<&'a Mark> {
    marks.iter().copied().min_by_key(|m| distance(m, s, e))
}

/// Caption and label for the tabular spanning `ts..te`, from the innermost
/// container holding one outward to the float: the caption nearest the
/// tabular, the label nearest that caption. Captions inside other tabulars
/// or inside sibling boxes (another subtable of the same float) are not
/// this table's. `None` when no container has either.
fn caption_for<'a>(doc: &'a Doc, ts: usize, te: usize) -> Option<(Option<String>, Option<String>)> {
    let before = doc.envs.partition_point(|e| e.begin <= ts);
    let mut containers: Vec<&Env> =
        doc.envs[..before].iter().filter(|c| is_container(&c.name) && c.args <= ts && te <= c.end).collect();
    containers.sort_by_key(|c| std::cmp::Reverse(c.begin));
    for c in containers {
        // Environments are in order of their `\begin`: those inside `c`.
        let lo = doc.envs.partition_point(|e| e.begin < c.args);
        let hi = doc.envs.partition_point(|e| e.begin < c.end);
        let inner = &doc.envs[lo..hi.max(lo)];
        let eligible = |m: &Mark| {
            c.args <= m.start
                && m.end <= c.end
                && !inner.iter().any(|u| is_tabular(&u.name) && u.begin <= m.start && m.end <= u.close)
                && !inner.iter().any(|d| {
                    is_container(&d.name)
                        && d.begin != c.begin
                        && c.args <= d.begin
                        && d.close <= c.end
                        && d.args <= m.start
                        && m.end <= d.end
                        && !(d.args <= ts && te <= d.end)
                })
        };
        // Marks are in file order: look only at those inside the container.
        let inside = |marks: &'a [Mark]| {
            let lo = marks.partition_point(|m| m.start < c.args);
            let hi = marks.partition_point(|m| m.start < c.end);
            &marks[lo..hi.max(lo)]
        };
        let caps: Vec<&Mark> = inside(&doc.captions).iter().filter(|m| eligible(m)).collect();
        let labels: Vec<&Mark> = inside(&doc.labels).iter().filter(|m| eligible(m)).collect();
        if let Some(cap) = nearest(&caps, ts, te) {
            let label = nearest(&labels, cap.start, cap.end);
            return Some((Some(cap.text.clone()), label.map(|l| l.text.clone())));
        }
        if is_float(&c.name) {
            return nearest(&labels, ts, te).map(|l| (None, Some(l.text.clone())));
        }
    }
    None
}

/// Offset where a tabular's body starts, after its arguments.
fn tabular_body_start(b: &[u8], name: &str, args: usize, end: usize) -> usize {
    let mut p = args;
    if matches!(name, "tabular*" | "tabularx" | "tabulary" | "xltabular") {
        match group(b, p, end) {
            Some(g) => p = g.next,
            None => return p,
        }
    }
    if let Some(o) = opt(b, p, end) {
        p = o.next;
    }
    match group(b, p, end) {
        Some(g) => p = g.next,
        None => return p,
    }
    if name == "NiceTabular" {
        if let Some(o) = opt(b, p, end) {
            p = o.next;
        }
    }
    p
}

// ---------------------------------------------------------------------------
// Table bodies.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Across the table (`\midrule`, `\hline`): ends a header.
    Full,
    /// Under some columns (`\cmidrule`, `\cline`): under a group heading.
    Partial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    FirstHead,
    Head,
    Foot,
    LastFoot,
}

enum RawItem {
    /// Raw LaTeX of each cell, and the offset of the row's first text.
    Row(Vec<Vec<u8>>, usize),
    Rule(Rule),
    Marker(Marker),
}

#[derive(Default)]
struct Body {
    items: Vec<RawItem>,
    caption: Option<(usize, usize)>,
    label: Option<(usize, usize)>,
}

/// Rules dropped from the body: what they mean and their arguments.
fn rule_kind(w: &[u8]) -> Option<(Option<Rule>, &'static str)> {
    Some(match w {
        b"toprule" | b"midrule" | b"bottomrule" | b"hdashline" => (Some(Rule::Full), "o"),
        b"hline" | b"firsthline" | b"lasthline" => (Some(Rule::Full), ""),
        b"hhline" | b"Xhline" => (Some(Rule::Full), "g"),
        b"specialrule" => (Some(Rule::Full), "ggg"),
        b"cline" => (Some(Rule::Partial), "g"),
        b"cdashline" => (Some(Rule::Partial), "go"),
        b"Xcline" => (Some(Rule::Partial), "gg"),
        b"cmidrule" => (Some(Rule::Partial), "opg"),
        b"addlinespace" => (None, "o"),
        b"morecmidrules" => (None, ""),
        b"noalign" => (None, "g"),
        b"arrayrulecolor" => (None, "og"),
        _ => return None,
    })
}

fn marker(w: &[u8]) -> Option<Marker> {
    match w {
        b"endfirsthead" => Some(Marker::FirstHead),
        b"endhead" => Some(Marker::Head),
        b"endfoot" => Some(Marker::Foot),
        b"endlastfoot" => Some(Marker::LastFoot),
        _ => None,
    }
}

/// Rows of a body: split on `\\` / `\tabularnewline` and cells on `&`, both
/// only outside braces and nested environments; rules, longtable markers,
/// `\caption` and `\label` taken out.
fn scan_body(b: &[u8], start: usize, end: usize) -> Body {
    fn flush(items: &mut Vec<RawItem>, cells: &mut Vec<Vec<u8>>, first: &mut Option<usize>) {
        let done = std::mem::replace(cells, vec![Vec::new()]);
        if let Some(f) = first.take() {
            items.push(RawItem::Row(done, f));
        }
    }
    let end = end.min(b.len());
    let mut body = Body::default();
    let mut cells: Vec<Vec<u8>> = vec![Vec::new()];
    let mut first: Option<usize> = None;
    let (mut depth, mut envd) = (0usize, 0usize);
    let mut i = start;
    while i < end {
        let c = b[i];
        if c == b'\\' {
            let (word, next) = control(b, i, end);
            let top = depth == 0 && envd == 0;
            match word {
                Some(b"begin") => envd += 1,
                Some(b"end") => envd = envd.saturating_sub(1),
                _ => {}
            }
            if top {
                let row_end = match word {
                    None => b.get(i + 1) == Some(&b'\\'),
                    Some(w) => w == b"tabularnewline",
                };
                if row_end {
                    flush(&mut body.items, &mut cells, &mut first);
                    let p = skip_sig(b, next, end, "s");
                    i = opt(b, p, end).map_or(p, |s| s.next);
                    continue;
                }
                if let Some(w) = word {
                    if let Some((kind, sig)) = rule_kind(w) {
                        flush(&mut body.items, &mut cells, &mut first);
                        if let Some(k) = kind {
                            body.items.push(RawItem::Rule(k));
                        }
                        i = skip_sig(b, next, end, sig);
                        continue;
                    }
                    if let Some(m) = marker(w) {
                        flush(&mut body.items, &mut cells, &mut first);
                        body.items.push(RawItem::Marker(m));
                        i = next;
                        continue;
                    }
                    if w == b"caption" || w == b"label" {
                        let p = if w == b"caption" { skip_sig(b, next, end, "so") } else { next };
                        if let Some(g) = group(b, p, end) {
                            let slot = if w == b"caption" { &mut body.caption } else { &mut body.label };
                            slot.get_or_insert((g.s, g.e));
                            i = g.next;
                            continue;
                        }
                    }
                }
            }
            first.get_or_insert(i);
            if let Some(cell) = cells.last_mut() {
                cell.extend_from_slice(&b[i..next.min(end)]);
            }
            i = next;
            continue;
        }
        match c {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'&' if depth == 0 && envd == 0 => {
                cells.push(Vec::new());
                i += 1;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            first.get_or_insert(i);
        }
        if let Some(cell) = cells.last_mut() {
            cell.push(c);
        }
        i += 1;
    }
    flush(&mut body.items, &mut cells, &mut first);
    body
}

struct Row {
    line: usize,
    /// Plain text and column span of each cell.
    cells: Vec<(String, usize)>,
}

enum Item {
    Row(Row),
    Rule(Rule),
    Marker(Marker),
}

/// A longtable repeats its head on every page and has feet: keep the first
/// head (`\endfirsthead`, else `\endhead`) and the body after the last
/// marker, drop the rest.
fn longtable_sections(items: Vec<Item>) -> Vec<Item> {
    if !items.iter().any(|i| matches!(i, Item::Marker(_))) {
        return items;
    }
    let mut segments: Vec<(Vec<Item>, Marker)> = Vec::new();
    let mut current = Vec::new();
    for it in items {
        match it {
            Item::Marker(m) => segments.push((std::mem::take(&mut current), m)),
            other => current.push(other),
        }
    }
    let head = segments
        .iter()
        .position(|(_, m)| *m == Marker::FirstHead)
        .or_else(|| segments.iter().position(|(_, m)| *m == Marker::Head));
    let mut out = match head {
        Some(h) => std::mem::take(&mut segments[h].0),
        None => Vec::new(),
    };
    out.extend(current);
    out
}

/// Cells with `\multicolumn{n}` as the text and n−1 empty cells.
fn flatten(cells: &[(String, usize)]) -> Vec<String> {
    let mut out = Vec::new();
    for (text, span) in cells {
        out.push(text.clone());
        out.extend(std::iter::repeat(String::new()).take(span.saturating_sub(1)));
    }
    out
}

/// A multi-row header joined per column: group labels repeated over their
/// span, empty parts skipped, a part equal to the one above not repeated.
fn join_header(rows: &[Row]) -> Vec<String> {
    let expanded: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.cells.iter().flat_map(|(t, s)| std::iter::repeat(t.as_str()).take((*s).max(1))).collect())
        .collect();
    let width = expanded.iter().map(Vec::len).max().unwrap_or(0);
    (0..width)
        .map(|c| {
            let mut parts: Vec<&str> = Vec::new();
            for row in &expanded {
                if let Some(&t) = row.get(c) {
                    if !t.is_empty() && parts.last() != Some(&t) {
                        parts.push(t);
                    }
                }
            }
            parts.join(" ")
        })
        .collect()
}

/// Header and body rows. The header is the first row, or the first two or
/// three rows when they end at the first full rule and look like a grouped
/// header (a `\multicolumn` span, an empty cell, or a partial rule between
/// them).
fn split_header(items: Vec<Item>) -> (Vec<String>, Vec<String>, Vec<TexRow>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut header_end: Option<usize> = None;
    let mut partial = false;
    for it in longtable_sections(items) {
        match it {
            Item::Row(r) => rows.push(r),
            Item::Rule(Rule::Full) if !rows.is_empty() && header_end.is_none() => header_end = Some(rows.len()),
            Item::Rule(Rule::Partial) if !rows.is_empty() && header_end.is_none() => partial = true,
            _ => {}
        }
    }
    if rows.is_empty() {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let grouped = |k: usize| partial || rows[..k].iter().any(|r| r.cells.iter().any(|(t, s)| t.is_empty() || *s > 1));
    let k = match header_end {
        Some(k) if (2..=3).contains(&k) && k < rows.len() && grouped(k) => k,
        _ => 1,
    };
    let header = if k == 1 { flatten(&rows[0].cells) } else { join_header(&rows[..k]) };
    let bottom = if k == 1 { Vec::new() } else { join_header(&rows[k - 1..k]) };
    let body = rows.drain(k..).map(|r| TexRow { line: r.line, cells: flatten(&r.cells) }).collect();
    (header, bottom, body)
}

fn build_table(
    view: &[u8],
    doc: &Doc,
    fallback: Option<&Doc>,
    env: &Env,
    commented: bool,
    ctx: &Ctx<'_>,
    starts: &[usize],
) -> TexTable {
    let body_start = tabular_body_start(view, &env.name, env.args, env.end);
    let body = scan_body(view, body_start, env.end);
    let items: Vec<Item> = body
        .items
        .into_iter()
        .filter_map(|it| match it {
            RawItem::Row(cells, first) => {
                let cells: Vec<(String, usize)> = cells.iter().map(|c| ctx.cell(c)).collect();
                if cells.iter().all(|(t, _)| t.is_empty()) {
                    None
                } else {
                    Some(Item::Row(Row { line: line_of(starts, first), cells }))
                }
            }
            RawItem::Rule(r) => Some(Item::Rule(r)),
            RawItem::Marker(m) => Some(Item::Marker(m)),
        })
        .collect();
    let (header, header_bottom, rows) = split_header(items);

    let outer = caption_for(doc, env.begin, env.close)
        .or_else(|| fallback.and_then(|d| caption_for(d, env.begin, env.close)))
        .unwrap_or((None, None));
    let own_caption = body.caption.map(|(s, e)| ctx.text(&view[s..e])).filter(|c| !c.is_empty());
    let own_label = body.label.map(|(s, e)| String::from_utf8_lossy(trim_bytes(&view[s..e])).into_owned());
    let (caption, label) = match own_caption {
        Some(c) => (Some(c), own_label.or(outer.1)),
        None => (outer.0, outer.1.or(own_label)),
    };
    TexTable {
        caption,
        label: label.filter(|l| !l.is_empty()),
        commented,
        line: line_of(starts, env.begin),
        header,
        header_bottom,
        rows,
    }
}

// ---------------------------------------------------------------------------
// Macros defined in the file.

type Macros = HashMap<Vec<u8>, Vec<u8>>;

/// Zero-argument macros defined with `\newcommand`, `\renewcommand`,
/// `\providecommand`, `\DeclareRobustCommand` or `\def`: papers name their
/// system with one (`\newcommand{\sys}{SAGE\xspace}`) and use it in headers.
fn scan_macros(b: &[u8]) -> Macros {
    let mut macros = Macros::new();
    let end = b.len();
    let mut i = 0;
    while let Some((_, word, next)) = next_control(b, i, end) {
        i = next;
        let Some(word) = word else { continue };
        let is_def = matches!(word, b"def" | b"gdef" | b"edef" | b"xdef");
        let is_new = matches!(word, b"newcommand" | b"renewcommand" | b"providecommand" | b"DeclareRobustCommand");
        if !is_def && !is_new {
            continue;
        }
        let q = skip_ws(b, skip_sig(b, next, end, "s"), end);
        let (name, after) = if q < end && b[q] == b'{' {
            let Some(g) = group(b, q, end) else { continue };
            let inner = trim_bytes(&b[g.s..g.e]);
            match control(inner, 0, inner.len()) {
                (Some(w), n) if inner.first() == Some(&b'\\') && n == inner.len() => (w.to_vec(), g.next),
                _ => continue,
            }
        } else if q < end && b[q] == b'\\' {
            match control(b, q, end) {
                (Some(w), n) => (w.to_vec(), n),
                _ => continue,
            }
        } else {
            continue;
        };
        let r = skip_ws(b, after, end);
        if r < end && (b[r] == b'[' || b[r] == b'#') {
            continue; // takes arguments: its content flows as text anyway
        }
        if let Some(g) = group(b, r, end) {
            let body = b[g.s..g.e].to_vec();
            if word == b"providecommand" {
                macros.entry(name).or_insert(body);
            } else {
                macros.insert(name, body);
            }
            i = g.next;
        }
    }
    macros
}

// ---------------------------------------------------------------------------
// LaTeX to plain text.

/// Recursion limit for macro expansion and siunitx arguments.
const MAX_DEPTH: u32 = 8;
/// Output limit of one cell, against runaway macro expansion.
const MAX_TEXT: usize = 1 << 16;
/// Largest `\multicolumn` span believed.
const MAX_SPAN: usize = 64;

/// What a control word becomes in text.
enum Act {
    /// This text.
    Text(&'static str),
    /// Nothing: the command and the arguments of this signature are dropped.
    Drop(&'static str),
    /// The arguments of this signature are dropped, the content that follows
    /// is kept.
    Keep(&'static str),
}

fn action(name: &[u8]) -> Option<Act> {
    use Act::{Drop, Keep, Text};
    Some(match name {
        b"times" | b"texttimes" => Text("×"),
        b"pm" | b"textpm" => Text("±"),
        b"mp" => Text("∓"),
        b"approx" => Text("≈"),
        b"sim" | b"textasciitilde" => Text("~"),
        b"le" | b"leq" | b"leqslant" => Text("≤"),
        b"ge" | b"geq" | b"geqslant" => Text("≥"),
        b"ne" | b"neq" => Text("≠"),
        b"ll" => Text("≪"),
        b"gg" => Text("≫"),
        b"lt" | b"textless" => Text("<"),
        b"gt" | b"textgreater" => Text(">"),
        b"cdot" | b"cdotp" | b"textperiodcentered" => Text("·"),
        b"mu" | b"textmu" | b"upmu" | b"micro" => Text("µ"),
        b"ldots" | b"dots" | b"cdots" | b"textellipsis" => Text("…"),
        b"textendash" | b"textemdash" => Text("--"),
        b"infty" => Text("∞"),
        b"to" | b"rightarrow" | b"longrightarrow" | b"textrightarrow" => Text("→"),
        b"leftarrow" | b"textleftarrow" => Text("←"),
        b"uparrow" | b"textuparrow" => Text("↑"),
        b"downarrow" | b"textdownarrow" => Text("↓"),
        b"checkmark" | b"cmark" => Text("✓"),
        b"xmark" => Text("✗"),
        b"textdegree" | b"degree" => Text("°"),
        b"dagger" | b"textdagger" => Text("†"),
        b"ddagger" | b"textdaggerdbl" => Text("‡"),
        b"ast" | b"textasteriskcentered" => Text("*"),
        b"star" => Text("⋆"),
        b"textbackslash" => Text("\\"),
        b"textbar" => Text("|"),
        b"textunderscore" => Text("_"),
        b"textasciicircum" => Text("^"),
        b"minus" | b"textminus" => Text("-"),
        b"percent" | b"textpercent" => Text("%"),
        b"alpha" => Text("α"),
        b"beta" => Text("β"),
        b"gamma" => Text("γ"),
        b"delta" => Text("δ"),
        b"epsilon" | b"varepsilon" => Text("ε"),
        b"lambda" => Text("λ"),
        b"sigma" => Text("σ"),
        b"tau" => Text("τ"),
        b"theta" => Text("θ"),
        b"rho" => Text("ρ"),
        b"pi" => Text("π"),
        b"phi" | b"varphi" => Text("φ"),
        b"omega" => Text("ω"),
        b"Delta" => Text("Δ"),
        b"Sigma" => Text("Σ"),
        // siunitx units
        b"second" => Text("s"),
        b"milli" => Text("m"),
        b"nano" => Text("n"),
        b"kilo" => Text("k"),
        b"mega" => Text("M"),
        b"giga" => Text("G"),
        b"tera" => Text("T"),
        b"byte" => Text("B"),
        b"bit" => Text("b"),
        b"hertz" => Text("Hz"),
        b"watt" => Text("W"),
        b"joule" => Text("J"),
        b"minute" => Text("min"),
        b"hour" => Text("h"),
        b"per" => Text("/"),
        b"ms" => Text("ms"),
        b"us" => Text("µs"),
        b"ns" => Text("ns"),
        b"quad" | b"qquad" | b"enspace" | b"enskip" | b"space" | b"hfill" | b"hfil" | b"hss" | b"nobreakspace"
        | b"newline" | b"linebreak" | b"par" | b"cr" | b"crcr" => Text(" "),
        // Annotations and layout: dropped with their arguments, so that a
        // footnote marker or a colour never reads as part of a number.
        b"label" | b"ref" | b"autoref" | b"eqref" | b"pageref" | b"nameref" | b"tnote" | b"tablefootnote"
        | b"textsuperscript" | b"phantom" | b"hphantom" | b"vphantom" | b"url" | b"index" | b"input" | b"cline"
        | b"hhline" | b"noalign" | b"Xhline" => Drop("g"),
        b"cdashline" => Drop("go"),
        b"cref" | b"Cref" | b"hspace" | b"vspace" => Drop("sg"),
        b"cite" | b"citep" | b"citet" | b"citealp" | b"citealt" | b"citeauthor" | b"citeyear" | b"parencite"
        | b"textcite" | b"autocite" | b"nocite" => Drop("soog"),
        b"footnote" | b"footnotetext" | b"cellcolor" | b"rowcolor" | b"columncolor" | b"color" | b"arrayrulecolor"
        | b"includegraphics" => Drop("og"),
        b"footnotemark" | b"addlinespace" | b"toprule" | b"midrule" | b"bottomrule" | b"hdashline" => Drop("o"),
        b"rule" => Drop("ogg"),
        b"rowcolors" => Drop("soggg"),
        b"setlength" | b"addtolength" | b"fontsize" | b"Xcline" => Drop("gg"),
        b"newcommand" | b"renewcommand" | b"providecommand" => Drop("sgog"),
        b"caption" => Drop("sog"),
        b"captionof" => Drop("sgog"),
        b"cmidrule" => Drop("opg"),
        b"specialrule" => Drop("ggg"),
        // Wrappers: leading arguments dropped, content kept.
        b"textcolor" | b"colorbox" | b"rotatebox" => Keep("og"),
        b"fcolorbox" => Keep("ogg"),
        b"raisebox" => Keep("goo"),
        b"parbox" => Keep("ooog"),
        b"makebox" | b"framebox" => Keep("oo"),
        b"resizebox" => Keep("sgg"),
        b"scalebox" => Keep("go"),
        b"adjustbox" | b"href" => Keep("g"),
        b"makecell" | b"thead" | b"shortstack" | b"num" | b"tablenum" | b"si" | b"unit" => Keep("o"),
        b"multirow" => Keep("ogogo"),
        _ => return None,
    })
}

/// Turns LaTeX into the plain text a reader sees, as far as tables need.
struct Ctx<'a> {
    macros: &'a Macros,
}

impl Ctx<'_> {
    /// Plain text of LaTeX (a caption).
    fn text(&self, raw: &[u8]) -> String {
        self.cell(raw).0
    }

    /// Plain text of a cell and its column span.
    fn cell(&self, raw: &[u8]) -> (String, usize) {
        let mut out = Vec::new();
        let mut span = 1;
        self.clean(raw, 0, &mut out, &mut span);
        let text = String::from_utf8_lossy(&out).split_whitespace().collect::<Vec<_>>().join(" ");
        (text, span)
    }

    fn clean(&self, b: &[u8], depth: u32, out: &mut Vec<u8>, span: &mut usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let end = b.len();
        let mut i = 0;
        while i < end {
            if out.len() > MAX_TEXT {
                return;
            }
            let c = b[i];
            match c {
                b'\\' => i = self.command(b, i, depth, out, span).max(i + 1),
                // Arguments of an unknown command read apart:
                // `\diagbox{Load}{System}` is "Load System".
                b'}' if b.get(i + 1) == Some(&b'{') => {
                    out.push(b' ');
                    i += 1;
                }
                // Grouping braces and math delimiters.
                b'{' | b'}' | b'$' => i += 1,
                b'~' | b'&' | b'\t' | b'\r' | b'\n' => {
                    out.push(b' ');
                    i += 1;
                }
                b'-' => {
                    let run = b[i..].iter().take_while(|&&d| d == b'-').count();
                    out.extend_from_slice(if run >= 2 { b"--" } else { b"-" });
                    i += run;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
    }

    /// One control sequence at `b[i]`: write its text, return the offset
    /// after it (and after the arguments it consumes).
    fn command(&self, b: &[u8], i: usize, depth: u32, out: &mut Vec<u8>, span: &mut usize) -> usize {
        let end = b.len();
        let (word, next) = control(b, i, end);
        let Some(name) = word else {
            match b.get(i + 1) {
                Some(&s @ (b'%' | b'&' | b'$' | b'#' | b'_' | b'{' | b'}')) => out.push(s),
                Some(b' ' | b'\t' | b'\r' | b'\n') => out.push(b' '),
                Some(b'\\') => {
                    // A line break inside a cell (`\makecell{a\\b}`).
                    out.push(b' ');
                    let p = skip_sig(b, next, end, "s");
                    return opt(b, p, end).map_or(p, |s| s.next);
                }
                // `\,` `\!` `\;` `\:` spacing, `\(` `\)` `\[` `\]` math,
                // accents (`\'e` keeps the e), `\-` `\/`.
                _ => {}
            }
            return next;
        };
        if let Some(body) = self.macros.get(name) {
            self.clean(body, depth + 1, out, span);
            return skip_ws(b, next, end);
        }
        match name {
            b"begin" => {
                let Some((env, after)) = env_name(b, next, end) else { return next };
                return if is_tabular(&env) {
                    tabular_body_start(b, &env, after, end)
                } else if env == "minipage" {
                    skip_sig(b, after, end, "ooog")
                } else {
                    after
                };
            }
            b"end" => return env_name(b, next, end).map_or(next, |(_, after)| after),
            b"multicolumn" => {
                let Some(n) = group(b, next, end) else { return next };
                let digits = String::from_utf8_lossy(trim_bytes(&b[n.s..n.e])).into_owned();
                *span = digits.parse::<usize>().unwrap_or(1).clamp(1, MAX_SPAN);
                // The spec is dropped; the text argument flows on.
                return group(b, n.next, end).map_or(n.next, |s| s.next);
            }
            b"SI" | b"qty" => {
                let p = skip_sig(b, next, end, "o");
                let Some(num) = group(b, p, end) else { return p };
                self.clean(&b[num.s..num.e], depth + 1, out, span);
                out.push(b' ');
                let Some(unit) = group(b, num.next, end) else { return num.next };
                self.clean(&b[unit.s..unit.e], depth + 1, out, span);
                return unit.next;
            }
            b"verb" => {
                let Some(&delim) = b.get(next) else { return next };
                return match (next + 1..end).find(|&k| b[k] == delim) {
                    Some(close) => {
                        out.extend_from_slice(&b[next + 1..close]);
                        close + 1
                    }
                    None => next,
                };
            }
            _ => {}
        }
        match action(name) {
            Some(Act::Text(t)) => {
                out.extend_from_slice(t.as_bytes());
                skip_ws(b, next, end)
            }
            Some(Act::Drop(sig) | Act::Keep(sig)) => {
                let p = skip_sig(b, next, end, sig);
                if p == next {
                    skip_ws(b, next, end)
                } else {
                    p
                }
            }
            // Font, size and unknown commands: the name goes, content stays.
            None => skip_ws(b, next, end),
        }
    }
}

// ---------------------------------------------------------------------------
// Printed numbers.

struct Scanned {
    value: f64,
    decimals: u32,
    end: usize,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{2009}' | '\u{202f}')
}

fn skip_spaces(cs: &[char], mut p: usize) -> usize {
    while p < cs.len() && is_space(cs[p]) {
        p += 1;
    }
    p
}

fn is_digit_at(cs: &[char], p: usize) -> bool {
    cs.get(p).is_some_and(|c| c.is_ascii_digit())
}

/// Offset after a `±`, `+/-` or `+-` at `p`.
fn plus_minus_at(cs: &[char], p: usize) -> Option<usize> {
    match (cs.get(p), cs.get(p + 1), cs.get(p + 2)) {
        (Some('±'), _, _) => Some(p + 1),
        (Some('+'), Some('/'), Some('-')) => Some(p + 3),
        (Some('+'), Some('-'), _) => Some(p + 2),
        _ => None,
    }
}

/// The first number at or after `from` (`anchored`: right at `from`, after
/// blanks). A sign counts when it is not a hyphen inside a word (`Top-1` is
/// 1, `(-0.5)` is −0.5).
fn scan_number(cs: &[char], from: usize, anchored: bool) -> Option<Scanned> {
    let n = cs.len();
    let starts_number = |i: usize| is_digit_at(cs, i) || (cs.get(i) == Some(&'.') && is_digit_at(cs, i + 1));
    let (start, negative) = if anchored {
        let p = skip_spaces(cs, from);
        match cs.get(p) {
            Some('-' | '−' | '+') if starts_number(p + 1) => (p + 1, cs[p] != '+'),
            _ if starts_number(p) => (p, false),
            _ => return None,
        }
    } else {
        let start = (from..n)
            .find(|&i| is_digit_at(cs, i) || (starts_number(i) && (i == 0 || !cs[i - 1].is_alphanumeric())))?;
        let negative = start > from
            && matches!(cs[start - 1], '-' | '−')
            && (start - 1 == from || !(cs[start - 2].is_alphanumeric() || matches!(cs[start - 2], '-' | '.' | '−')));
        (start, negative)
    };

    let mut k = start;
    let mut int = String::new();
    while is_digit_at(cs, k) {
        int.push(cs[k]);
        k += 1;
    }
    // Thousands separators: `1,234,567`, only after a group of 1–3 digits
    // and only before exactly three digits.
    if (1..=3).contains(&int.len()) {
        while matches!(cs.get(k), Some(',' | '\u{2009}' | '\u{202f}'))
            && (1..=3).all(|d| is_digit_at(cs, k + d))
            && !is_digit_at(cs, k + 4)
        {
            int.extend(&cs[k + 1..k + 4]);
            k += 4;
        }
    }
    let mut frac = String::new();
    if cs.get(k) == Some(&'.') && is_digit_at(cs, k + 1) {
        k += 1;
        while is_digit_at(cs, k) {
            frac.push(cs[k]);
            k += 1;
        }
    }
    let mut exp: i64 = 0;
    if let Some((e, after)) = scan_exponent(cs, k) {
        exp = e;
        k = after;
    }
    let text = format!(
        "{}{}.{}e{}",
        if negative { "-" } else { "" },
        if int.is_empty() { "0" } else { &int },
        if frac.is_empty() { "0" } else { &frac },
        exp
    );
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some(Scanned { value, decimals: u32::try_from(frac.len()).unwrap_or(u32::MAX), end: k })
}

/// `e3`, `E-2`, `×10^3`, `x 10^{-3}`, `·10^3` after a mantissa.
fn scan_exponent(cs: &[char], k: usize) -> Option<(i64, usize)> {
    let mut p = k;
    match cs.get(p) {
        Some('e' | 'E') => p += 1,
        _ => {
            p = skip_spaces(cs, p);
            if !matches!(cs.get(p), Some('×' | 'x' | '·' | '*')) {
                return None;
            }
            p = skip_spaces(cs, p + 1);
            if !(cs.get(p) == Some(&'1') && cs.get(p + 1) == Some(&'0') && cs.get(p + 2) == Some(&'^')) {
                return None;
            }
            p += 3;
            if cs.get(p) == Some(&'{') {
                p += 1;
            }
        }
    }
    let negative = match cs.get(p) {
        Some('-' | '−') => {
            p += 1;
            true
        }
        Some('+') => {
            p += 1;
            false
        }
        _ => false,
    };
    if !is_digit_at(cs, p) {
        return None;
    }
    let mut e: i64 = 0;
    while let Some(d) = cs.get(p).and_then(|c| c.to_digit(10)) {
        e = (e * 10 + i64::from(d)).min(100_000);
        p += 1;
    }
    if cs.get(p) == Some(&'}') {
        p += 1;
    }
    Some((if negative { -e } else { e }, p))
}

/// Unit or `%` right after a number (blanks allowed between): a run of
/// letters, `×`, `°`, and `/` between letters (`tasks/s`, `/s`).
fn scan_suffix(cs: &[char], k: usize) -> (Option<String>, bool) {
    let mut p = skip_spaces(cs, k);
    if cs.get(p) == Some(&'%') {
        return (None, true);
    }
    let mut unit = String::new();
    while let Some(&c) = cs.get(p) {
        let next_is_letter = cs.get(p + 1).is_some_and(|c| c.is_alphabetic());
        if c.is_alphabetic() || c == '×' || c == '°' || (c == '/' && next_is_letter) {
            unit.push(c);
            p += 1;
        } else {
            break;
        }
    }
    (if unit.is_empty() { None } else { Some(unit) }, false)
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r"\begin{table}[t]
\centering
\caption{Node scaling: throughput (tasks/s) of each pipeline.}
\label{tab:node-scaling}
\begin{tabular}{lrrrrr}
\toprule
Pipeline & 1 node & 2 nodes & 4 nodes & 8 nodes & 16 nodes \\
\midrule
Compute & 18.5/s & 35.2/s & 68.1/s & 120.4/s & 201.3/s \\
RAG     & 2.5s   & \textbf{4.8} & 9.1 & -- & 30.2 \\ \hline
Mixed & 52\% & 11.4$\times$ & 1,234.5 & $\pm$0.3 & 3.2 ms \\
\bottomrule
\end{tabular}
\end{table}
% \begin{table}
% \caption{Old load levels}
% \begin{tabular}{lcc}
% Level & Throughput & P99 \\
% Low & 10.0 & 5.5 \\
% \end{tabular}
% \end{table}
";

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn num(cell: &str) -> PrintedNumber {
        parse_number(cell).unwrap_or_else(|| panic!("no number in {cell:?}"))
    }

    fn one(text: &str) -> TexTable {
        let mut t = parse_tables(text);
        assert_eq!(t.len(), 1, "{t:#?}");
        t.remove(0)
    }

    #[test]
    fn example_both_tables() {
        let tables = parse_tables(EXAMPLE);
        assert_eq!(tables.len(), 2, "{tables:#?}");

        let t = &tables[0];
        assert_eq!(t.caption.as_deref(), Some("Node scaling: throughput (tasks/s) of each pipeline."));
        assert_eq!(t.label.as_deref(), Some("tab:node-scaling"));
        assert!(!t.commented);
        assert_eq!(t.line, 5);
        assert_eq!(t.header, strings(&["Pipeline", "1 node", "2 nodes", "4 nodes", "8 nodes", "16 nodes"]));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(
            t.rows[0],
            TexRow { line: 9, cells: strings(&["Compute", "18.5/s", "35.2/s", "68.1/s", "120.4/s", "201.3/s"]) }
        );
        assert_eq!(t.rows[1], TexRow { line: 10, cells: strings(&["RAG", "2.5s", "4.8", "9.1", "--", "30.2"]) });
        assert_eq!(
            t.rows[2],
            TexRow { line: 11, cells: strings(&["Mixed", "52%", "11.4×", "1,234.5", "±0.3", "3.2 ms"]) }
        );

        let old = &tables[1];
        assert!(old.commented);
        assert_eq!(old.caption.as_deref(), Some("Old load levels"));
        assert_eq!(old.label, None);
        assert_eq!(old.line, 17);
        assert_eq!(old.header, strings(&["Level", "Throughput", "P99"]));
        assert_eq!(old.rows, vec![TexRow { line: 19, cells: strings(&["Low", "10.0", "5.5"]) }]);

        // Every cell of the example parses as printed.
        let mixed = &t.rows[2].cells;
        assert_eq!(num(&mixed[1]), PrintedNumber { value: 52.0, decimals: 0, unit: None, percent: true });
        assert_eq!(num(&mixed[2]).unit.as_deref(), Some("×"));
        assert_eq!(num(&mixed[3]).value, 1234.5);
        assert_eq!(parse_ci(&mixed[4]), Some(0.3));
        assert_eq!(parse_number(&t.rows[1].cells[4]), None);
    }

    #[test]
    fn serializes() {
        let t = one("\\begin{tabular}{ll}A & B\\\\ 1 & 2\\end{tabular}");
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["rows"][0]["cells"][1], "2");
        assert_eq!(v["commented"], false);
        assert!(v["caption"].is_null());
    }

    #[test]
    fn number_forms() {
        let p = |value: f64, decimals: u32, unit: Option<&str>, percent: bool| PrintedNumber {
            value,
            decimals,
            unit: unit.map(str::to_string),
            percent,
        };
        assert_eq!(num("18.5/s"), p(18.5, 1, Some("/s"), false));
        assert_eq!(num("2.5s"), p(2.5, 1, Some("s"), false));
        assert_eq!(num("3.2 ms"), p(3.2, 1, Some("ms"), false));
        assert_eq!(num("52%"), p(52.0, 0, None, true));
        assert_eq!(num("52 %"), p(52.0, 0, None, true));
        assert_eq!(num("11.4×"), p(11.4, 1, Some("×"), false));
        assert_eq!(num("11.4x"), p(11.4, 1, Some("x"), false));
        assert_eq!(num("1,234.5"), p(1234.5, 1, None, false));
        assert_eq!(num("1,234,567"), p(1234567.0, 0, None, false));
        assert_eq!(num("-0.5"), p(-0.5, 1, None, false));
        assert_eq!(num("−0.25"), p(-0.25, 2, None, false));
        assert_eq!(num("+3.1"), p(3.1, 1, None, false));
        assert_eq!(num("1.2e3"), p(1200.0, 1, None, false));
        assert_eq!(num("2.50E-2"), p(0.025, 2, None, false));
        assert_eq!(num("1.2×10^3"), p(1200.0, 1, None, false));
        assert_eq!(num("1.5 × 10^{-3} s"), p(0.0015, 1, Some("s"), false));
        assert_eq!(num("4.8 ± 0.3"), p(4.8, 1, None, false));
        assert_eq!(num("4.8 ±0.3 ms"), p(4.8, 1, Some("ms"), false));
        assert_eq!(num("52 ± 3%"), p(52.0, 0, None, true));
        assert_eq!(num("0.50"), p(0.5, 2, None, false));
        assert_eq!(num(".5"), p(0.5, 1, None, false));
        assert_eq!(num("120"), p(120.0, 0, None, false));
        assert_eq!(num("201.3 tasks/s"), p(201.3, 1, Some("tasks/s"), false));
        assert_eq!(num("12 µs"), p(12.0, 0, Some("µs"), false));
        assert_eq!(num("~3 s"), p(3.0, 0, Some("s"), false));
        assert_eq!(num("(-0.5)"), p(-0.5, 1, None, false));
        assert_eq!(num("12.3†"), p(12.3, 1, None, false));
        // A hyphen inside a word is not a sign; the first number wins.
        assert_eq!(num("Top-1 92.1").value, 1.0);
        assert_eq!(num("16 nodes"), p(16.0, 0, Some("nodes"), false));
        // Not thousands separators.
        assert_eq!(num("1,5"), p(1.0, 0, None, false));
        assert_eq!(num("1234,567").value, 1234.0);
        // `12.` has no decimals; `3/4` has no unit.
        assert_eq!(num("12."), p(12.0, 0, None, false));
        assert_eq!(num("3/4"), p(3.0, 0, None, false));
        assert_eq!(num("2.5eps"), p(2.5, 1, Some("eps"), false));
        for none in ["--", "---", "—", "–", "-", "n/a", "N/A", "", "   ", "OOM", "×", "±", "1e999"] {
            assert_eq!(parse_number(none), None, "{none:?}");
        }
    }

    #[test]
    fn confidence_intervals() {
        assert_eq!(parse_ci("4.8 ± 0.3"), Some(0.3));
        assert_eq!(parse_ci("4.8±0.25 ms"), Some(0.25));
        assert_eq!(parse_ci("±0.3"), Some(0.3));
        assert_eq!(parse_ci("4.8 +/- 0.3"), Some(0.3));
        assert_eq!(parse_ci("4.8 (±1.5)"), Some(1.5));
        assert_eq!(parse_ci("52% ± 3%"), Some(3.0));
        assert_eq!(parse_ci("4.8"), None);
        assert_eq!(parse_ci("4.8 ± --"), None);
        assert_eq!(parse_ci(""), None);
    }

    #[test]
    fn agreement_at_printed_precision() {
        let four8 = num("4.8");
        assert!(agrees(&four8, 4.8));
        assert!(agrees(&four8, 4.75));
        assert!(agrees(&four8, 4.85));
        assert!(agrees(&four8, 4.8499));
        assert!(!agrees(&four8, 4.851));
        assert!(!agrees(&four8, 4.749));
        let whole = num("120");
        assert!(agrees(&whole, 120.4));
        assert!(!agrees(&whole, 120.6));
        let pct = num("52%");
        assert!(agrees(&pct, 52.4));
        assert!(!agrees(&pct, 0.52));
        let neg = num("-0.50");
        assert!(agrees(&neg, -0.504));
        assert!(!agrees(&neg, 0.5));
        let big = num("1,234,567");
        assert!(agrees(&big, 1_234_567.4));
        assert!(!agrees(&four8, f64::NAN));
        assert!(!agrees(&four8, f64::INFINITY));
        let huge = PrintedNumber { value: 1.0, decimals: u32::MAX, unit: None, percent: false };
        assert!(agrees(&huge, 1.0));
    }

    #[test]
    fn caption_with_nested_braces_and_after_tabular() {
        let text = r"\begin{table*}
\begin{tabular}{lr}
System & Time \\ \midrule
A & 1.0 \\
\end{tabular}
\caption{Throughput of \textbf{SAGE} vs.\ {Ray \emph{(baseline, {$n=3$})}}\label{tab:x}.}
\end{table*}";
        let t = one(text);
        assert_eq!(t.caption.as_deref(), Some("Throughput of SAGE vs. Ray (baseline, n=3)."));
        assert_eq!(t.label.as_deref(), Some("tab:x"));
        assert_eq!(t.line, 2);
        assert_eq!(t.header, strings(&["System", "Time"]));
    }

    #[test]
    fn short_caption_and_cites() {
        let text = r"\begin{table}\caption[Short]{Long one~\cite{ray}, 95\% CI.\footnote{five runs}}
\begin{tabular}{l}X\\1\\\end{tabular}\end{table}";
        assert_eq!(one(text).caption.as_deref(), Some("Long one , 95% CI."));
    }

    #[test]
    fn escaped_percent_is_not_a_comment() {
        let text = "\\begin{tabular}{lrr}\nMetric & A & B \\\\\nUtil & 52\\% & 7 \\\\ % was 48\\% & 9\nEsc & 3\\\\% comment & 4 \\\\\n\\end{tabular}";
        let t = one(text);
        assert_eq!(t.rows[0].cells, strings(&["Util", "52%", "7"]));
        // `\\%`: a row break, then a comment.
        assert_eq!(t.rows[1].cells, strings(&["Esc", "3"]));
        assert_eq!(t.rows.len(), 2);
    }

    #[test]
    fn tabular_star_and_x_arguments() {
        let text = r"\begin{tabular*}{\linewidth}{@{\extracolsep{\fill}}l*{2}{r}@{}}
Name & X & Y \\ \hline
a & 1 & 2 \\
\end{tabular*}
\begin{tabularx}{0.9\textwidth}[t]{lXr}
P & Q & R \\
b & 3 & 4 \\
\end{tabularx}
\begin{tabular}[t]{|l|c|}
H & I \\
c & 5
\end{tabular}";
        let t = parse_tables(text);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].header, strings(&["Name", "X", "Y"]));
        assert_eq!(t[0].rows[0].cells, strings(&["a", "1", "2"]));
        assert_eq!(t[1].header, strings(&["P", "Q", "R"]));
        assert_eq!(t[1].rows[0].cells, strings(&["b", "3", "4"]));
        assert_eq!(t[1].line, 5);
        // Last row without `\\` still counts.
        assert_eq!(t[2].rows[0].cells, strings(&["c", "5"]));
    }

    #[test]
    fn multicolumn_cells_and_grouped_header() {
        let text = r"\begin{tabular}{lrrrr}
\toprule
\multirow{2}{*}{Pipeline} & \multicolumn{2}{c}{Throughput (tasks/s)} & \multicolumn{2}{c}{\textbf{P99} (ms)} \\
\cmidrule(lr){2-3} \cmidrule(lr){4-5}
 & SAGE & Ray & SAGE & Ray \\
\midrule
Compute & 18.5 & 12.0 & 5.1 & 7.7 \\
\multicolumn{5}{l}{\emph{Large cluster}} \\
RAG & \multicolumn{2}{c}{--} & 9.1 & 9.9 \\
\bottomrule
\end{tabular}";
        let t = one(text);
        assert_eq!(
            t.header,
            strings(&[
                "Pipeline",
                "Throughput (tasks/s) SAGE",
                "Throughput (tasks/s) Ray",
                "P99 (ms) SAGE",
                "P99 (ms) Ray"
            ])
        );
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0].line, 7);
        assert_eq!(t.rows[1].cells, strings(&["Large cluster", "", "", "", ""]));
        assert_eq!(t.rows[2].cells, strings(&["RAG", "--", "", "9.1", "9.9"]));
    }

    #[test]
    fn unit_row_joins_header_but_data_rows_do_not() {
        let t = one("\\begin{tabular}{lr}Load & Latency\\\\ & (ms)\\\\\\hline Low & 1.0\\\\\\end{tabular}");
        assert_eq!(t.header, strings(&["Load", "Latency (ms)"]));
        assert_eq!(t.rows.len(), 1);
        // Two full rows before the first rule: a header and a data row.
        let t = one("\\begin{tabular}{lr}Load & Latency\\\\ Low & 1.0\\\\\\hline High & 2.0\\\\\\end{tabular}");
        assert_eq!(t.header, strings(&["Load", "Latency"]));
        assert_eq!(t.rows.len(), 2);
        // A single rule at the bottom: first row is the header.
        let t = one("\\begin{tabular}{lr}A & B\\\\ & 1\\\\ x & 2\\\\\\hline\\end{tabular}");
        assert_eq!(t.header, strings(&["A", "B"]));
        assert_eq!(t.rows.len(), 2);
    }

    #[test]
    fn included_files_outside_comments() {
        let text = "\\begin{document}\n\\input{tables/t1}\n% \\input{old}\n\\include{ sec2 } \\input{t3.tex}\n\\inputencoding{x}\n";
        assert_eq!(
            included_files(text),
            vec![(2, "tables/t1".to_string()), (4, "sec2".to_string()), (4, "t3.tex".to_string())]
        );
    }

    #[test]
    fn no_tables() {
        assert!(parse_tables("").is_empty());
        assert!(parse_tables("\\section{Results}\nSAGE is 2.1$\\times$ faster than Ray.\n").is_empty());
        assert!(parse_tables("\\begin{table}\\caption{x}\\includegraphics{t.png}\\end{table}").is_empty());
        assert!(parse_tables("\\begin{tabular}{ll} a & b \\\\").is_empty(), "unterminated");
    }

    #[test]
    fn commented_row_inside_live_table_is_dropped() {
        let text =
            "\\begin{tabular}{lr}\nA & B \\\\\n% old & 1 \\\\\n  %% older & 2 \\\\\nnew & 3 \\\\\n\\end{tabular}\n";
        let t = one(text);
        assert!(!t.commented);
        assert_eq!(t.rows, vec![TexRow { line: 5, cells: strings(&["new", "3"]) }]);
    }

    #[test]
    fn doubly_commented_lines_in_a_commented_table() {
        let text = "%% \\begin{tabular}{lr}\n%% A & B \\\\\n%%% x & 0 \\\\\n\n%% y & 1 \\\\\n%% \\end{tabular}\n";
        let t = one(text);
        assert!(t.commented);
        assert_eq!(t.line, 1);
        assert_eq!(t.rows, vec![TexRow { line: 5, cells: strings(&["y", "1"]) }]);
    }

    #[test]
    fn commented_alternative_inside_live_float_takes_its_caption() {
        let text = "\\begin{table}\n\\caption{Load levels}\\label{tab:load}\n%\\begin{tabular}{lr}\n%L & T\\\\ Low & 1.0\\\\\n%\\end{tabular}\n\\begin{tabular}{lr}\nL & T\\\\ Low & 1.1\\\\\n\\end{tabular}\n\\end{table}\n";
        let t = parse_tables(text);
        assert_eq!(t.len(), 2);
        assert!(t[0].commented && !t[1].commented);
        assert_eq!(t[0].line, 3);
        assert_eq!(t[1].line, 6);
        for x in &t {
            assert_eq!(x.caption.as_deref(), Some("Load levels"));
            assert_eq!(x.label.as_deref(), Some("tab:load"));
        }
        assert_eq!(t[0].rows[0].cells, strings(&["Low", "1.0"]));
    }

    #[test]
    fn skipped_blocks_count_as_commented() {
        let text = r"\iffalse
\begin{tabular}{l}A\\1\\\end{tabular}
\ifx\a\b x\fi
\begin{tabular}{l}B\\2\\\end{tabular}
\else
\begin{tabular}{l}C\\3\\\end{tabular}
\fi
\begin{comment}
\begin{tabular}{l}D\\4\\\end{tabular}
\end{comment}
\begin{tabular}{l}E\\5\\\end{tabular}
\iffalse never closed
\begin{tabular}{l}F\\6\\\end{tabular}";
        let t = parse_tables(text);
        let seen: Vec<(&str, bool)> = t.iter().map(|t| (t.header[0].as_str(), t.commented)).collect();
        assert_eq!(seen, vec![("A", true), ("B", true), ("C", false), ("D", true), ("E", false), ("F", false)]);
    }

    #[test]
    fn subtables_have_their_own_captions() {
        let text = r"\begin{table}
\caption{Both}\label{tab:both}
\begin{subtable}{0.5\linewidth}\caption{Left}\label{tab:l}
\begin{tabular}{l}A\\1\\\end{tabular}\end{subtable}
\begin{subtable}{0.5\linewidth}
\begin{tabular}{l}B\\2\\\end{tabular}\caption{Right}\end{subtable}
\begin{minipage}{0.3\linewidth}\begin{tabular}{l}C\\3\\\end{tabular}\end{minipage}
\end{table}";
        let t = parse_tables(text);
        assert_eq!(t.len(), 3);
        assert_eq!((t[0].caption.as_deref(), t[0].label.as_deref()), (Some("Left"), Some("tab:l")));
        assert_eq!((t[1].caption.as_deref(), t[1].label.as_deref()), (Some("Right"), None));
        assert_eq!((t[2].caption.as_deref(), t[2].label.as_deref()), (Some("Both"), Some("tab:both")));
    }

    #[test]
    fn tabular_in_a_figure_takes_its_caption() {
        let t =
            one("\\begin{figure}\\begin{tabular}{l}A\\\\1\\\\\\end{tabular}\\caption{Fig}\\label{fig:t}\\end{figure}");
        assert_eq!((t.caption.as_deref(), t.label.as_deref()), (Some("Fig"), Some("fig:t")));
    }

    #[test]
    fn tabular_outside_a_float_has_no_caption() {
        let text = "\\caption{Not mine}\n\\begin{center}\\begin{tabular}{l}A\\\\1\\\\\\end{tabular}\\end{center}";
        let t = one(text);
        assert_eq!(t.caption, None);
        assert_eq!(t.label, None);
    }

    #[test]
    fn longtable_heads_feet_and_caption() {
        let text = r"\begin{longtable}[c]{lr}
\caption{Long results}\label{tab:long} \\
\toprule Run & Time \\ \midrule
\endfirsthead
\multicolumn{2}{c}{(continued)} \\
\toprule Run & Time \\ \midrule
\endhead
\midrule \multicolumn{2}{r}{continued on next page} \\
\endfoot
\bottomrule
\endlastfoot
r1 & 1.5 \\
r2 & 2.5 \\
\end{longtable}";
        let t = one(text);
        assert_eq!(t.caption.as_deref(), Some("Long results"));
        assert_eq!(t.label.as_deref(), Some("tab:long"));
        assert_eq!(t.header, strings(&["Run", "Time"]));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0], TexRow { line: 12, cells: strings(&["r1", "1.5"]) });
    }

    #[test]
    fn markup_is_stripped() {
        let text = r"\newcommand{\sys}{\textsc{Sage}\xspace}
\def\ray{Ray}
\newcommand{\best}[1]{\textbf{#1}}
\begin{tabular}{lllll}
System & Latency & Speedup & Size & Note \\
\rowcolor{gray!10}\sys{} (ours) & \SI{3.2}{\milli\second} & $2.1\times$ & \num{1.2e3} & \textcolor{red}{\emph{new}}\tnote{a} \\
\ray & $\mathbf{4.8} \pm 0.3$ & \best{1.5}$\times$ & 1\,234 & \makecell[l]{two\\lines} \\
Ray~2 & $-$0.5 & \multirow{2}{*}{---} & 10$^{3}$ & x\textsuperscript{\dagger} \\
\end{tabular}";
        let t = one(text);
        assert_eq!(t.rows[0].cells, strings(&["Sage (ours)", "3.2 ms", "2.1×", "1.2e3", "new"]));
        assert_eq!(t.rows[1].cells, strings(&["Ray", "4.8 ±0.3", "1.5×", "1234", "two lines"]));
        assert_eq!(t.rows[2].cells, strings(&["Ray 2", "-0.5", "--", "10^3", "x"]));
        assert_eq!(num(&t.rows[0].cells[1]).unit.as_deref(), Some("ms"));
        assert_eq!(num(&t.rows[0].cells[3]).value, 1200.0);
        assert_eq!(parse_ci(&t.rows[1].cells[1]), Some(0.3));
        assert_eq!(num(&t.rows[2].cells[1]).value, -0.5);
    }

    #[test]
    fn wrapped_tabular_and_diagbox() {
        let text = r"\begin{table}[h!]
\resizebox{\columnwidth}{!}{%
\begin{tabular}{lrr}
\diagbox{Load}{System} & {SAGE} & Ray \\ \hline
Low & 1 & 2 \\
\end{tabular}}
\caption{Load}
\end{table}";
        let t = one(text);
        assert_eq!(t.line, 3);
        assert_eq!(t.caption.as_deref(), Some("Load"));
        assert_eq!(t.header, strings(&["Load System", "SAGE", "Ray"]));
        assert_eq!(t.rows[0].cells, strings(&["Low", "1", "2"]));
    }

    #[test]
    fn nested_tabular_is_cell_text() {
        let text = r"\begin{tabular}{lr}
\begin{tabular}[c]{@{}l@{}}Pipe\\line\end{tabular} & {\begin{tabular}{c}P99\\(ms)\end{tabular}} \\
\midrule
A & 1 \\
\end{tabular}";
        let t = one(text);
        assert_eq!(t.header, strings(&["Pipe line", "P99 (ms)"]));
        assert_eq!(t.rows[0].cells, strings(&["A", "1"]));
    }

    #[test]
    fn row_ends_and_line_numbers() {
        let text = "intro\r\n\\begin{tabular}{ll}\r\nA & B \\tabularnewline\r\n\\hline\r\n\r\nx &\r\n  1.0 \\\\[2pt]\r\n  y & 2.0 \\\\*\r\n[z] & 3 \\\\\r\n\\end{tabular}\r\n";
        let t = one(text);
        assert_eq!(t.line, 2);
        assert_eq!(t.header, strings(&["A", "B"]));
        assert_eq!(t.rows[0], TexRow { line: 6, cells: strings(&["x", "1.0"]) });
        assert_eq!(t.rows[1], TexRow { line: 8, cells: strings(&["y", "2.0"]) });
        // `\\*` followed by `[…]` reads as its optional argument, as in LaTeX.
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2].cells, strings(&["", "3"]));
    }

    #[test]
    fn unicode_keeps_offsets() {
        let text = "% é — ü\n\\begin{table}\\caption{Latência — µs}\n\\begin{tabular}{lr}\nPhase & Time \\\\\\midrule\nFila ç & 12 µs \\\\ % ß\n\\end{tabular}\\end{table}";
        let t = one(text);
        assert_eq!(t.caption.as_deref(), Some("Latência — µs"));
        assert_eq!(t.line, 3);
        assert_eq!(t.rows[0], TexRow { line: 5, cells: strings(&["Fila ç", "12 µs"]) });
    }

    #[test]
    fn never_panics() {
        let garbage = [
            "\\begin{tabular}{",
            "\\begin{tabular}{ll}",
            "\\begin{tabular}}{\\end{tabular}",
            "\\begin{tabular}{l}{{{{a & b \\\\ \\end{tabular}",
            "\\begin{tabular}{l}}}}} & \\\\ \\end{tabular}",
            "&&&\\\\\\\\",
            "\\begin{tabular}{ll}&&&\\\\\\\\\\end{tabular}",
            "\\begin{tabular}{l}\\multicolumn{99999999999999999999}{c}{x}\\\\\\end{tabular}",
            "\\begin{tabular}{l}\\multicolumn{1000}{c}{x} & \\multicolumn\\\\\\end{tabular}",
            "\\begin{tabular}{l}\\multirow\\\\\\SI{\\\\\\end{tabular}",
            "\\begin{tabular}{l}\\verb|x\\\\\\end{tabular}",
            "\\begin{tabular}{l}\\\\[\\end{tabular}",
            "\\begin{tabular}{l}a\\",
            "\\",
            "%",
            "\\%",
            "\\begin{table}\\caption{\\end{table}",
            "\\begin{table}\\caption{{{}\\begin{tabular}{l}a\\end{tabular}\\end{table}",
            "\\end{tabular}\\end{table}\\begin{tabular}",
            "\\def\\a{\\a\\a}\\begin{tabular}{l}\\a\\\\\\end{tabular}",
            "\\newcommand{\\x}{\\x\\x\\x\\x}\\begin{tabular}{l}\\x & \\x\\\\\\end{tabular}",
            "\\newcommand{\\x}\\newcommand\\def\\def\\newcommand{}{}",
            "\\begin{longtable}{l}\\endhead\\endhead\\endfoot\\end{longtable}",
            "\\begin{ tabular }{l}a\\end{tabular}\\begin{}\\end{}",
            "\\begin{tabular}{l}\\cmidrule(\\\\\\cline{\\end{tabular}",
            "\u{feff}% \\begin{tabular}{l}\n% é & ü\\\\\n% \\end{tabular}",
            "\\begin{tabular}{l}\\\u{e9}\\\u{e9}&\u{1F600}\\\\\\end{tabular}",
        ];
        for g in garbage {
            for (i, _) in g.char_indices().chain([(g.len(), ' ')]) {
                let _ = parse_tables(&g[..i]);
            }
        }
        for (i, _) in EXAMPLE.char_indices() {
            let prefix = &EXAMPLE[..i];
            let tables = parse_tables(prefix);
            assert!(tables.len() <= 2);
            let _ = parse_tables(&EXAMPLE[i..]);
            for t in &tables {
                for r in &t.rows {
                    for c in &r.cells {
                        let _ = (parse_number(c), parse_ci(c));
                    }
                }
            }
        }
        // Pseudo-random soup of the characters that matter.
        let alphabet: Vec<&str> = vec![
            "\\begin{tabular}{lr}",
            "\\end{tabular}",
            "\\begin{table}",
            "\\end{table}",
            "\\caption{",
            "\\label{",
            "{",
            "}",
            "[",
            "]",
            "(",
            "&",
            "\\\\",
            "\\",
            "%",
            "\n",
            "% ",
            "$",
            "\\multicolumn{2}{c}{",
            "\\multirow{2}{*}{",
            "\\hline",
            "\\cmidrule(lr){1-2}",
            "1.5",
            "-",
            "±",
            "é",
            "x",
            " ",
            "\\endhead",
            "\\begin{longtable}{l}",
            "\\end{longtable}",
            "\\SI{",
            "e",
            ",",
            "×10^",
            "\\iffalse",
            "\\else",
            "\\fi",
            "\\begin{comment}",
            "\\end{comment}",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..3000 {
            let mut s = String::new();
            let len = (state % 40) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            for t in parse_tables(&s) {
                for c in t.rows.iter().flat_map(|r| &r.cells).chain(&t.header) {
                    if let Some(p) = parse_number(c) {
                        let _ = agrees(&p, p.value);
                    }
                    let _ = parse_ci(c);
                }
            }
            let _ = (parse_number(&s), parse_ci(&s));
        }
    }
}
