//! The HTML back-end: the site's view of a table, read by the report page's
//! askama template (`templates/report.html`), which escapes every string.

use super::Table;
use crate::analysis::tables::PaperTable;

pub struct HtmlRow {
    pub label: String,
    pub cells: Vec<String>,
    pub n: String,
}

pub struct HtmlPart {
    pub title: Option<String>,
    pub row_header: String,
    /// Column groups `(title, span)`, when the part has more than one.
    pub groups: Vec<(String, usize)>,
    pub headers: Vec<String>,
    pub rows: Vec<HtmlRow>,
}

pub struct HtmlTable {
    pub number: u8,
    pub title: &'static str,
    pub experiment: &'static str,
    pub caption: String,
    /// The table's `.tex` file, relative to the report page.
    pub tex: String,
    pub parts: Vec<HtmlPart>,
    pub method: String,
    pub footnotes: Vec<String>,
}

/// The site's view of `t`, always with intervals.
pub fn html_table(t: &PaperTable) -> HtmlTable {
    let t = Table::of(t, true);
    let parts = t
        .parts
        .into_iter()
        .map(|p| HtmlPart {
            title: p.title.map(str::to_string),
            row_header: p.row_header.to_string(),
            groups: if p.groups.len() > 1 {
                p.groups.iter().map(|g| (g.title.clone(), g.len)).collect()
            } else {
                Vec::new()
            },
            rows: p
                .rows
                .into_iter()
                .map(|row| HtmlRow {
                    label: row.label.to_string(),
                    cells: row.cells.iter().map(|c| c.plain()).collect(),
                    n: row.n,
                })
                .collect(),
            headers: p.headers,
        })
        .collect();
    HtmlTable {
        number: t.number,
        title: t.title,
        experiment: t.experiment,
        caption: t.caption.to_string(),
        tex: format!("tables/{}.tex", t.stem),
        parts,
        method: t.method.to_string(),
        footnotes: t.footnotes.to_vec(),
    }
}
