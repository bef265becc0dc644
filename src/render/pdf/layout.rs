//! Tables that fit the page. Typst sizes `auto` columns by their content
//! but cannot break a word: a long workload name such as
//! `node_scaling_compute_1n` ran over the next column, and an interval
//! `1.088 [0.506, 3.052]` wrapped onto two lines. So the widths are chosen
//! here, from the glyph advances of the report's face
//! ([`super::world::text_width_pt`]):
//! - number columns ([`Wrap::Never`]) are as wide as their widest cell and
//!   their spaces are non-breaking: an interval is always on one line;
//! - text columns ([`Wrap::Words`]) may wrap at spaces and after `_ / = ( ,`
//!   (a zero-width break opportunity), and a piece still wider than a
//!   third of the page is cut into chunks, so no cell is wider than its
//!   column;
//! - a table whose cells do not fit a portrait page goes on a landscape
//!   page of its own ([`Laid::landscape`]); within the page, the room left
//!   after every column's narrowest width is shared evenly among the text
//!   columns, none getting more than its natural width.

use super::escape_markup;
use super::world::text_width_pt;
use std::fmt::Write as _;

/// Text size of `data-table` cells (latex/report.typ).
const FONT_PT: f64 = 9.0;
/// Horizontal cell inset, both sides (`inset: (x: 6pt)` in data-table).
const INSET_PT: f64 = 12.0;
/// Per-column allowance for rounding (kerning only narrows text, and the
/// bold header stroke does not widen the advance).
const SLACK_PT: f64 = 1.0;
/// Text width of an A4 page with the template's 2 cm side margins.
pub const PORTRAIT_PT: f64 = 595.276 - 2.0 * 56.693;
/// The same on a landscape A4 page.
pub const LANDSCAPE_PT: f64 = 841.89 - 2.0 * 56.693;
/// A table wider than this many portrait widths at its natural column
/// widths goes landscape even when it could be squeezed onto portrait.
const LANDSCAPE_ABOVE: f64 = 1.3;
/// Zero-width space: a break opportunity that prints nothing.
const ZWSP: char = '\u{200B}';

/// How a column's cells may break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    /// Names and prose: break at spaces and after `_ / = ( ,`.
    Words,
    /// Numbers and intervals: one line, always.
    Never,
}

pub struct Column {
    pub header: String,
    /// A typst alignment: `left`, `right`, `center`.
    pub align: &'static str,
    pub wrap: Wrap,
}

impl Column {
    pub fn text(header: &str) -> Column {
        Column {
            header: header.to_string(),
            align: "left",
            wrap: Wrap::Words,
        }
    }
    pub fn num(header: &str) -> Column {
        Column {
            header: header.to_string(),
            align: "right",
            wrap: Wrap::Never,
        }
    }
}

/// A laid-out table: the `#data-table(...)` call, and whether it needs a
/// landscape page.
pub struct Laid {
    pub source: String,
    pub landscape: bool,
    /// The column widths chosen (points, cell inset included).
    pub widths: Vec<f64>,
}

/// Characters a name may break after (and before `(`).
fn breaks_after(c: char) -> bool {
    matches!(c, '_' | '/' | '=' | ',' | ';' | '→')
}

/// A cell as typst markup plus its natural (one-line) and narrowest widths.
struct Cell {
    markup: String,
    natural: f64,
    min: f64,
}

/// The markup of a wrapping cell once its column's content width `fit` is
/// known: a word that fits is plain text (so it reads, copies and searches
/// as itself); only a word wider than the column gets the break
/// opportunities of [`words`].
fn fitted(text: &str, fit: f64, max_piece: f64, separators: bool) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    text.split(' ')
        .map(|word| {
            if width(word) <= fit {
                escape_markup(word)
            } else {
                words(word, max_piece.min(fit), separators).markup
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn width(text: &str) -> f64 {
    text_width_pt(text, FONT_PT)
}

/// A cell that never breaks: spaces become non-breaking (and its column
/// is at least as wide as the whole cell, so nothing else breaks either).
fn one_line(text: &str) -> Cell {
    let mut markup = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            ' ' => markup.push('\u{00A0}'),
            _ => markup.push_str(&escape_markup(ch.encode_utf8(&mut [0; 4]))),
        }
    }
    let w = width(text);
    Cell {
        markup,
        natural: w,
        min: w,
    }
}

/// A cell that may wrap at spaces and, with `separators`, after
/// [`breaks_after`] and before `(`; a piece wider than `max_piece` is cut
/// into chunks no wider.
fn words(text: &str, max_piece: f64, separators: bool) -> Cell {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut markup = String::with_capacity(text.len() + 16);
    let mut min: f64 = 0.0;
    let mut piece = String::new();
    let mut piece_w = 0.0;
    let chars: Vec<char> = text.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if ch == ' ' {
            min = min.max(piece_w);
            piece.clear();
            piece_w = 0.0;
            markup.push(' ');
            continue;
        }
        let w = width(ch.encode_utf8(&mut [0; 4]));
        let before = separators && ch == '(' && !piece.is_empty();
        if (piece_w + w > max_piece || before) && !piece.is_empty() {
            // Before `(`, or an unbreakable run too wide for any column: cut it here.
            min = min.max(piece_w);
            markup.push(ZWSP);
            piece.clear();
            piece_w = 0.0;
        }
        piece.push(ch);
        piece_w += w;
        markup.push_str(&escape_markup(ch.encode_utf8(&mut [0; 4])));
        let next_is_text = chars.get(i + 1).is_some_and(|n| *n != ' ');
        if separators && breaks_after(ch) && next_is_text {
            markup.push(ZWSP);
            min = min.max(piece_w);
            piece.clear();
            piece_w = 0.0;
        }
    }
    min = min.max(piece_w);
    Cell {
        markup,
        natural: width(&text),
        min,
    }
}

/// Lay out a table: `rows` are plain text (escaped here), one entry per
/// column. `allow_landscape`: false keeps the table on a portrait page (the
/// first page) and squeezes it instead.
pub fn lay_out(columns: &[Column], rows: &[Vec<String>], allow_landscape: bool) -> Laid {
    let n = columns.len();
    // No column needs more than a quarter of a portrait page for its
    // widest unbreakable piece (longer runs are cut), so any table of text
    // and ordinary number columns fits.
    let max_piece = PORTRAIT_PT / 4.0 - INSET_PT - SLACK_PT;
    let cell = |text: &str, wrap: Wrap| match wrap {
        Wrap::Never => one_line(text),
        Wrap::Words => words(text, max_piece, true),
    };
    // Headers wrap at their spaces only (`Throughput (tasks/s)` breaks
    // before the unit, never inside it).
    let headers: Vec<Cell> = columns.iter().map(|c| words(&c.header, max_piece, false)).collect();
    let separators = |j: usize| columns[j].wrap == Wrap::Words;
    let body: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| r.iter().zip(columns).map(|(t, c)| cell(t, c.wrap)).collect())
        .collect();
    let pad = INSET_PT + SLACK_PT;
    let mut natural = vec![0.0f64; n];
    let mut min = vec![0.0f64; n];
    for j in 0..n {
        natural[j] = headers[j].natural;
        min[j] = headers[j].min;
        for r in &body {
            if let Some(c) = r.get(j) {
                natural[j] = natural[j].max(c.natural);
                min[j] = min[j].max(c.min);
            }
        }
        natural[j] += pad;
        min[j] += pad;
    }
    let total_natural: f64 = natural.iter().sum();
    let total_min: f64 = min.iter().sum();
    let landscape = allow_landscape && (total_min > PORTRAIT_PT || total_natural > LANDSCAPE_ABOVE * PORTRAIT_PT);
    let avail = if landscape { LANDSCAPE_PT } else { PORTRAIT_PT };
    let widths: Vec<f64> = if total_natural <= avail {
        natural.clone()
    } else if total_min <= avail {
        // Every column gets its narrowest width; the rest of the page is
        // shared out evenly among the columns that wrap, none getting more
        // than its natural width (water-filling): short columns stay on
        // one line, the longest names take what is left.
        let mut w = min.clone();
        let mut room = avail - total_min;
        let mut open: Vec<usize> = (0..n).filter(|&j| natural[j] > min[j]).collect();
        while room > 0.01 && !open.is_empty() {
            let share = room / open.len() as f64;
            let mut still = Vec::new();
            for &j in &open {
                let give = share.min(natural[j] - w[j]);
                w[j] += give;
                room -= give;
                if natural[j] - w[j] > 0.01 {
                    still.push(j);
                }
            }
            open = still;
        }
        w
    } else {
        // Cannot happen with the cut pieces unless the number columns alone
        // overflow; scale what there is (numbers may then wrap).
        (0..n).map(|j| min[j] * avail / total_min).collect()
    };
    let mut source = String::new();
    let cols: Vec<String> = widths
        .iter()
        .map(|w| format!("{:.1}pt", (w * 10.0).floor() / 10.0))
        .collect();
    let aligns: Vec<&str> = columns.iter().map(|c| c.align).collect();
    let fit = |j: usize| widths[j] - pad;
    let header: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(j, c)| format!("[{}]", fitted(&c.header, fit(j), max_piece, false)))
        .collect();
    let _ = write!(
        source,
        "#data-table(columns: ({},), header: ({},), align: ({},)",
        cols.join(", "),
        header.join(", "),
        aligns.join(", ")
    );
    for (r, texts) in body.iter().zip(rows) {
        for (j, (c, text)) in r.iter().zip(texts).enumerate() {
            let markup = if separators(j) {
                fitted(text, fit(j), max_piece, true)
            } else {
                c.markup.clone()
            };
            let _ = write!(source, ", [{markup}]");
        }
    }
    source.push_str(")\n");
    Laid {
        source,
        landscape,
        widths,
    }
}

/// `body` on a landscape page of its own when `landscape`, else as is.
pub fn on_page(landscape: bool, body: &str) -> String {
    if landscape {
        format!("#page(flipped: true)[\n{body}\n]\n")
    } else {
        body.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_break_after_separators_and_numbers_never() {
        let c = words("node_scaling_compute_1n", 200.0, true);
        assert_eq!(c.markup, "node\\_\u{200B}scaling\\_\u{200B}compute\\_\u{200B}1n");
        assert_eq!(words("a(b=1)", 200.0, true).markup, "a\u{200B}(b\\=\u{200B}1)");
        assert_eq!(
            words("Throughput (tasks/s)", 200.0, false).markup,
            "Throughput (tasks\\/s)"
        );
        assert!(c.min < c.natural / 2.0, "{} vs {}", c.min, c.natural);
        let c = one_line("1.088 [0.506, 3.052]");
        assert!(!c.markup.contains(' '), "{:?}", c.markup);
        assert_eq!(c.min, c.natural);
        // A run with no break opportunity is cut to the widest piece allowed.
        let c = words(&"w".repeat(500), 60.0, true);
        assert!(c.min <= 60.0 && c.markup.contains(ZWSP));
    }

    #[test]
    fn wide_tables_go_landscape_and_every_table_fits_its_page() {
        let cols = || {
            vec![
                Column::text("workload"),
                Column::text("metric"),
                Column::num("ratio [adj. CI]"),
                Column::text("verdict"),
            ]
        };
        let long = "node_scaling_compute_heavy_variant_1n_with_a_very_long_suffix (nodes=16 parallelism=128 scheduler=load_aware_spread)";
        let row = |w: &str| {
            vec![
                w.to_string(),
                "latency_p95".into(),
                "1.088 [0.506, 3.052]".into(),
                "~ (≈91 runs/side to detect 5%)".into(),
            ]
        };
        let small = lay_out(&cols(), &[row("Q1")], true);
        assert!(!small.landscape);
        let wide = lay_out(&cols(), &[row(long), row(&long.repeat(3))], true);
        assert!(wide.landscape);
        assert!(
            wide.widths.iter().sum::<f64>() <= LANDSCAPE_PT + 0.01,
            "{:?}",
            wide.widths
        );
        let squeezed = lay_out(&cols(), &[row(long)], false);
        assert!(!squeezed.landscape);
        assert!(
            squeezed.widths.iter().sum::<f64>() <= PORTRAIT_PT + 0.01,
            "{:?}",
            squeezed.widths
        );
        // The interval's column is never narrower than the interval.
        assert!(squeezed.widths[2] >= width("1.088 [0.506, 3.052]") + INSET_PT);
    }
}
