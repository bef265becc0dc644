//! Tables 1–6 as one printable model: [`Table`] is built once from an
//! analysed [`PaperTable`] (header text with units, cells as mean ±
//! half-width with their n, the row's n, method note, footnotes, row
//! provenance), and four thin back-ends print it — [`latex`] (the `.tex`
//! files), [`markdown`] (`tables.md`), [`html`] (the site's view) and
//! [`typst`] (the PDF). Nothing here computes a statistic; it only formats.

pub mod html;
pub mod latex;
pub mod markdown;
pub mod typst;

use crate::analysis::tables::{ColumnGroup, PaperTable, TableCell, TableColumn, TableRow};

/// What every table file states about where it came from.
pub struct TablesContext<'a> {
    pub tables: &'a [PaperTable],
    pub inputs: &'a [String],
    pub version: &'static str,
    /// The exact command that regenerates the files.
    pub command: String,
    /// Print mean ± CI half-width (true) or plain means (`--ci none`).
    pub ci: bool,
    pub confidence: f64,
}

impl TablesContext<'_> {
    /// The printable model of every table.
    pub fn models(&self) -> Vec<Table<'_>> {
        self.tables.iter().map(|t| Table::of(t, self.ci)).collect()
    }
}

/// One of Tables 1–6, ready to print.
pub struct Table<'a> {
    pub number: u8,
    pub stem: &'static str,
    pub label: &'static str,
    pub title: &'static str,
    pub experiment: &'static str,
    pub caption: &'a str,
    /// How the cells were computed, e.g. `mean ± 95% CI half-width`.
    pub method: &'a str,
    pub footnotes: &'a [String],
    pub records: usize,
    /// Whether cells carry their interval (`--ci none` prints plain means).
    pub ci: bool,
    pub parts: Vec<Part<'a>>,
}

/// A block of a table with its own columns (most tables have one).
pub struct Part<'a> {
    pub title: Option<&'a str>,
    pub row_header: &'a str,
    /// Column groups spanning several columns (LaTeX `\multicolumn`).
    pub groups: &'a [ColumnGroup],
    /// Column headers with their unit: `P99 (ms)`, `Efficiency (%)`.
    pub headers: Vec<String>,
    pub rows: Vec<Row<'a>>,
}

/// One row: its label, cells, replicates and where its records came from.
pub struct Row<'a> {
    pub label: &'a str,
    pub cells: Vec<Cell>,
    /// `3` or `2–3`: the replicates behind the row's cells.
    pub n: String,
    /// The records, runs, config hashes and files behind the row.
    pub source: &'a TableRow,
}

/// How a cell's unit is printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    Percent,
    Times,
    /// Any other suffix (often empty).
    Suffix(&'static str),
}

impl Unit {
    fn of(col: &TableColumn) -> Unit {
        if col.percent {
            Unit::Percent
        } else if col.suffix == "×" {
            Unit::Times
        } else {
            Unit::Suffix(col.suffix)
        }
    }

    /// The unit as plain text: `%`, `×`, or the suffix.
    pub fn plain(self) -> &'static str {
        match self {
            Unit::Percent => "%",
            Unit::Times => "×",
            Unit::Suffix(s) => s,
        }
    }
}

/// A cell: value and half-width printed to the column's decimals, or no
/// data.
pub struct Cell {
    /// `(value, half-width)`; the half-width only when intervals are shown.
    pub text: Option<(String, Option<String>)>,
    pub unit: Unit,
    /// Replicates behind the cell.
    pub n: usize,
}

impl Cell {
    fn of(cell: &TableCell, col: &TableColumn, ci: bool) -> Cell {
        let text = cell.value.map(|v| {
            let d = col.decimals;
            let fmt = |x: f64| format!("{x:.d$}");
            (fmt(v), if ci { cell.half_width().map(fmt) } else { None })
        });
        Cell {
            text,
            unit: Unit::of(col),
            n: cell.n,
        }
    }

    /// Plain text with its unit: `12.3%`, `11.63× ± 0.59`, or `--` where
    /// there is no data (back-ends escape it for their format).
    pub fn plain(&self) -> String {
        match &self.text {
            None => "--".into(),
            Some((v, Some(hw))) => format!("{v}{} ± {hw}", self.unit.plain()),
            Some((v, None)) => format!("{v}{}", self.unit.plain()),
        }
    }
}

impl<'a> Table<'a> {
    /// The model of `t`, with intervals when `ci`.
    pub fn of(t: &'a PaperTable, ci: bool) -> Table<'a> {
        let parts = t
            .parts
            .iter()
            .map(|p| Part {
                title: p.title.as_deref(),
                row_header: &p.row_header,
                groups: &p.groups,
                headers: p.columns.iter().map(header_text).collect(),
                rows: p
                    .rows
                    .iter()
                    .map(|row| Row {
                        label: &row.label,
                        cells: row
                            .cells
                            .iter()
                            .zip(&p.columns)
                            .map(|(c, col)| Cell::of(c, col, ci))
                            .collect(),
                        n: row_n(&row.cells),
                        source: row,
                    })
                    .collect(),
            })
            .collect();
        Table {
            number: t.number,
            stem: t.stem,
            label: t.label,
            title: t.title,
            experiment: t.experiment,
            caption: &t.caption,
            method: &t.method,
            footnotes: &t.footnotes,
            records: t.records,
            ci,
            parts,
        }
    }
}

impl Part<'_> {
    /// The group column `i` falls in, if any.
    pub fn group_of(&self, i: usize) -> Option<&ColumnGroup> {
        self.groups.iter().find(|g| i >= g.start && i < g.start + g.len)
    }
}

/// Header with its unit: `P99 (ms)`, `Efficiency (%)`.
pub fn header_text(col: &TableColumn) -> String {
    if col.percent {
        format!("{} (%)", col.header)
    } else if col.unit.is_empty() {
        col.header.clone()
    } else {
        format!("{} ({})", col.header, col.unit)
    }
}

/// `3` or `2–3`: the replicates behind a row's cells.
fn row_n(cells: &[TableCell]) -> String {
    let ns: Vec<usize> = cells.iter().filter(|c| c.value.is_some()).map(|c| c.n).collect();
    match (ns.iter().min(), ns.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
        _ => "0".into(),
    }
}
