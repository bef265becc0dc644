//! The typst back-end: Tables 1–6 as the PDF's "Tables 1–6" part, each
//! table on its own page (landscape when a part is too wide), laid out by
//! [`crate::render::pdf::layout`].

use super::Table;
use crate::analysis::tables::PaperTable;
use crate::render::pdf::escape_markup as m;
use crate::render::pdf::layout::{self, Column};
use std::fmt::Write as _;

/// Append every table to the typst document `out`.
pub fn tables_body(out: &mut String, tables: &[PaperTable], ci: bool) {
    for (i, t) in tables.iter().enumerate() {
        let t = Table::of(t, ci);
        // The part heading travels with the first table: on its landscape
        // page when that one goes landscape, never orphaned before it.
        let mut section = if i == 0 {
            "= Tables 1–6\n\n".to_string()
        } else {
            String::new()
        };
        let _ = writeln!(section, "== Table {}: {}\n", t.number, m(t.title));
        let _ = writeln!(section, "{}\n", m(t.caption));
        let mut landscape = false;
        for part in &t.parts {
            if let Some(title) = part.title {
                let _ = writeln!(section, "_{}_\n", m(title));
            }
            let mut columns = vec![Column::text(part.row_header)];
            columns.extend(part.headers.iter().map(|h| Column::num(h)));
            columns.push(Column::num("n"));
            let rows: Vec<Vec<String>> = part
                .rows
                .iter()
                .map(|row| {
                    let mut r = vec![row.label.to_string()];
                    r.extend(row.cells.iter().map(|c| c.plain()));
                    r.push(row.n.clone());
                    r
                })
                .collect();
            // Numbers keep to one line; headers wrap at their words.
            let laid = layout::lay_out(&columns, &rows, true);
            landscape |= laid.landscape;
            let _ = writeln!(section, "{}", laid.source);
        }
        for note in std::iter::once(format!("Cells: {}.", t.method)).chain(t.footnotes.iter().cloned()) {
            let _ = writeln!(section, "#text(size: 8pt)[{}]\n", m(&note));
        }
        out.push_str(&layout::on_page(landscape, &section));
    }
}
