//! `tables --check`: every number of a hand-written LaTeX table against the
//! table computed from data. A printed value agrees when the computed mean
//! rounds to it at the printed precision ([`tex::agrees`]); anything else —
//! including a number where the data has none — is listed with the files
//! behind the computed cell.

pub mod tex;

use super::tables::{norm_key, PaperTable, TableColumn, TablePart, TableRow};
use serde::Serialize;
use tex::{PrintedNumber, TexTable};

/// One hand-written cell that the data does not support.
#[derive(Clone, Debug, Serialize)]
pub struct CellDiff {
    /// The LaTeX file holding the row (the paper or a file it `\input`s).
    pub file: String,
    /// Line of the paper's row.
    pub line: usize,
    pub table: u8,
    pub label: &'static str,
    /// The paper's table was commented out (`% \begin{tabular}`).
    pub commented: bool,
    pub row: String,
    pub column: String,
    pub paper: String,
    pub computed: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
    pub files: Vec<String>,
}

/// A paper table and what it was matched to.
#[derive(Clone, Debug, Serialize)]
pub struct TableMatch {
    /// The LaTeX file holding the table.
    pub file: String,
    pub line: usize,
    pub caption: Option<String>,
    pub label: Option<String>,
    pub commented: bool,
    /// Our table number, when matched.
    pub table: Option<u8>,
    pub cells_compared: usize,
    pub cells_differing: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    pub tables: Vec<TableMatch>,
    pub differences: Vec<CellDiff>,
}

impl CheckReport {
    pub fn cells_compared(&self) -> usize {
        self.tables.iter().map(|t| t.cells_compared).sum()
    }

    /// Add the tables and differences of another file of the same paper.
    pub fn extend(&mut self, other: CheckReport) {
        self.tables.extend(other.tables);
        self.differences.extend(other.differences);
    }
}

/// Words in a caption or label that name each of our tables.
fn title_words(number: u8) -> &'static [&'static str] {
    match number {
        1 => &["node scaling", "nodescaling", "scalab", "nodes"],
        2 => &["load level", "loadlevel", "load-level"],
        3 => &["scheduler", "scheduling strateg", "schedul"],
        4 => &["throughput curve", "throughputcurve", "concurrency"],
        5 => &["latency breakdown", "breakdown"],
        6 => &[
            "parallel jobs",
            "concurrent jobs",
            "parallel-jobs",
            "admission",
            "isolation",
        ],
        _ => &[],
    }
}

/// Header text as matchable keys: whole, without a parenthesised unit,
/// singular.
fn text_keys(text: &str) -> Vec<String> {
    let without_unit = match text.find('(') {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = vec![norm_key(text), norm_key(without_unit)];
    for k in out.clone() {
        if let Some(s) = k.strip_suffix('s') {
            out.push(s.to_string());
        }
    }
    out.retain(|k| !k.is_empty());
    out
}

fn leading_number(text: &str) -> Option<f64> {
    let t = text.trim_start();
    if !t.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    tex::parse_number(t).map(|p| p.value)
}

/// How paper text names a row or column with these keys: `Some(true)` for
/// an exact key, `Some(false)` for a key the text only starts with (a unit
/// or note after the name), `None` for no match.
fn name_match(text: &str, keys: &[String]) -> Option<bool> {
    if text.trim().is_empty() {
        return None;
    }
    if let Some(x) = leading_number(text) {
        return keys
            .iter()
            .any(|k| k.parse::<f64>().is_ok_and(|v| v == x))
            .then_some(true);
    }
    let tk = text_keys(text);
    if tk.iter().any(|t| keys.iter().any(|k| t == k)) {
        return Some(true);
    }
    tk.iter()
        .any(|t| {
            keys.iter()
                .any(|k| k.len() >= 3 && t.starts_with(k.as_str()) && k.parse::<f64>().is_err())
        })
        .then_some(false)
}

/// The first item named exactly by `text`, else the first it starts with
/// (so `RAG, 16` is the `RAG, 16` row, not `RAG, 1`).
fn named_by<T>(text: &str, items: &[T], keys: impl Fn(&T) -> &[String]) -> Option<usize> {
    let mut prefix = None;
    for (i, item) in items.iter().enumerate() {
        match name_match(text, keys(item)) {
            Some(true) => return Some(i),
            Some(false) if prefix.is_none() => prefix = Some(i),
            _ => {}
        }
    }
    prefix
}

struct Candidate<'a> {
    part: &'a TablePart,
    /// (paper row index, paper column index, our row, our column)
    cells: Vec<(usize, usize, &'a TableRow, usize)>,
}

/// Map the paper's rows/columns onto one of our parts, in either orientation.
fn align<'a>(paper: &TexTable, part: &'a TablePart) -> Candidate<'a> {
    // A grouped header's column is named by the whole heading first, then
    // by its bottom row alone (`1 node` under `Throughput (tasks/s)`).
    let col_of = |h: &str| named_by(h, &part.columns, |c: &TableColumn| &c.keys);
    let col_at = |ci: usize, h: &str| col_of(h).or_else(|| paper.header_bottom.get(ci).and_then(|b| col_of(b)));
    let row_of = |l: &str| named_by(l, &part.rows, |r: &TableRow| &r.keys).map(|i| &part.rows[i]);
    // Normal: paper rows are our rows.
    let mut normal = Vec::new();
    for (ri, row) in paper.rows.iter().enumerate() {
        let Some(ours) = row.cells.first().and_then(|l| row_of(l)) else {
            continue;
        };
        for (ci, h) in paper.header.iter().enumerate().skip(1) {
            if let Some(c) = col_at(ci, h) {
                normal.push((ri, ci, ours, c));
            }
        }
    }
    // Transposed: paper columns are our rows.
    let mut transposed = Vec::new();
    for (ri, row) in paper.rows.iter().enumerate() {
        let Some(c) = row.cells.first().and_then(|l| col_of(l)) else {
            continue;
        };
        for (ci, h) in paper.header.iter().enumerate().skip(1) {
            if let Some(ours) = row_of(h) {
                transposed.push((ri, ci, ours, c));
            }
        }
    }
    Candidate {
        part,
        cells: if transposed.len() > normal.len() {
            transposed
        } else {
            normal
        },
    }
}

/// Compare every table of the hand-written LaTeX text of `file` with ours.
pub fn check(paper_text: &str, file: &str, ours: &[PaperTable]) -> CheckReport {
    let mut report = CheckReport::default();
    for paper in tex::parse_tables(paper_text) {
        let named = |t: &PaperTable| {
            let text = format!(
                "{} {}",
                paper.caption.as_deref().unwrap_or(""),
                paper.label.as_deref().unwrap_or("")
            )
            .to_lowercase();
            paper.label.as_deref().is_some_and(|l| l == t.label)
                || title_words(t.number).iter().any(|w| text.contains(w))
        };
        // Best (table, part) by matched cells; naming breaks ties and is
        // needed when the shape alone is ambiguous.
        let mut best: Option<(&PaperTable, Candidate<'_>, usize)> = None;
        for t in ours {
            for part in &t.parts {
                let cand = align(&paper, part);
                if cand.cells.is_empty() {
                    continue;
                }
                let score = cand.cells.len() * 2 + if named(t) { 1000 } else { 0 };
                if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                    best = Some((t, cand, score));
                }
            }
        }
        let mut m = TableMatch {
            file: file.to_string(),
            line: paper.line,
            caption: paper.caption.clone(),
            label: paper.label.clone(),
            commented: paper.commented,
            table: None,
            cells_compared: 0,
            cells_differing: 0,
        };
        if let Some((t, cand, _)) = best {
            m.table = Some(t.number);
            for (ri, ci, ours_row, c) in cand.cells {
                let prow = &paper.rows[ri];
                let Some(text) = prow.cells.get(ci) else { continue };
                let Some(printed) = tex::parse_number(text) else {
                    continue;
                };
                m.cells_compared += 1;
                let col = &cand.part.columns[c];
                let cell = &ours_row.cells[c];
                let printed = as_column_scale(printed, col);
                let ok = cell.value.is_some_and(|v| tex::agrees(&printed, v));
                if !ok {
                    m.cells_differing += 1;
                    report.differences.push(CellDiff {
                        file: file.to_string(),
                        line: prow.line,
                        table: t.number,
                        label: t.label,
                        commented: paper.commented,
                        row: ours_row.label.clone(),
                        column: col.header.clone(),
                        paper: text.trim().to_string(),
                        computed: cell.value,
                        ci_low: cell.ci_low,
                        ci_high: cell.ci_high,
                        n: cell.n,
                        files: ours_row.files.clone(),
                    });
                }
            }
        }
        report.tables.push(m);
    }
    report
}

/// A paper may print a percentage column as a fraction (0.52 for 52 %).
fn as_column_scale(p: PrintedNumber, col: &TableColumn) -> PrintedNumber {
    if col.percent && !p.percent && p.value.abs() <= 1.0 && p.decimals >= 2 {
        PrintedNumber {
            value: p.value * 100.0,
            decimals: p.decimals - 2,
            ..p
        }
    } else {
        p
    }
}
