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

mod body;
mod envs;
mod number;
mod scan;
#[cfg(test)]
mod tests;
mod text;
mod views;

use body::*;
use envs::*;
use number::*;
use scan::*;
use serde::Serialize;
use std::collections::HashMap;
use text::*;
use views::*;

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
    Some(PrintedNumber {
        value: num.value,
        decimals: num.decimals,
        unit,
        percent,
    })
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
