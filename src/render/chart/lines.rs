//! Line charts and small-multiple panels for the figures a systems paper
//! shows beside its scalability, scheduler and latency tables, written as
//! PNG and SVG with the look of [`super::bars`] (embedded DejaVu Sans,
//! Okabe–Ito colours, CI whiskers, footnote).
//!
//! - [`LineChart`]: one line per series over a numeric x axis (nodes,
//!   concurrency, jobs), a marker at every point — a distinct *shape* per
//!   series as well as a distinct colour, so the series stay apart for
//!   colour-blind readers and in greyscale print — and the confidence
//!   interval as a vertical whisker with caps. With `log2_x` the x axis is
//!   logarithmic and ticked exactly at the data's x values (1, 2, 4, …
//!   labelled as integers); a linear axis with at most 12 distinct x values
//!   is ticked at them too, else at round steps.
//! - [`Panels`]: small multiples on a grid, each a bar panel (one bar per
//!   label, e.g. per scheduler) or a line panel; a name (bar label or line
//!   series) keeps the same colour and marker in every panel, bars stand in
//!   the same order in every panel (order of first appearance in the
//!   figure), and one shared legend sits under the title. At most 48 panels
//!   are drawn (the footnote says so); the column count is capped so that no
//!   panel gets narrower than 200 px on the 8000 px maximum canvas.
//!
//! Rules, all deterministic (same input, byte-identical PNG and SVG):
//! - points and bars with a non-finite value are skipped (bars leave an
//!   `n/a` slot), a non-finite CI bound drops the whisker only, points with
//!   x ≤ 0 cannot sit on a log2 axis and are skipped; the footnote counts
//!   what was skipped;
//! - a line chart's y axis starts at 0 unless all values are far from it
//!   (the lowest above half of the highest), and the footnote then says so;
//!   bars always start at 0;
//! - when every point of every line has the same `n`, the footnote says
//!   `n = … at every point`; otherwise each point gets a small `n=` label
//!   where one fits without overlapping a marker, whisker, line or another
//!   label; likewise bars: one `n` for all of them goes to the footnote,
//!   otherwise each bar carries an `n=` label as in the bar charts;
//! - series with the same x values are dodged by a few pixels so that their
//!   whiskers do not hide each other;
//! - a panel without drawable data says "no data"; labels are cleaned of
//!   control characters, truncated with an ellipsis where space ends, and
//!   escaped by plotters' SVG backend.

use std::collections::HashMap;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontTransform;

use super::style::{
    clamp, clean, darker, draw_category_label, draw_title_and_legend, ensure_font, fit_horizontal, fmt_tick,
    legend_item_width, plot_err, series_color, style, text_width, truncate_to, LegendItem, NStyle, AXIS_DESC_PX,
    CATEGORY_LINE_H, GRID, GROUP_PX, INK, LEGEND_PX, LEGEND_ROW_H, NOTE_PX, NO_DATA_PX, N_PX, SOFT_INK, TICK_PX,
    TITLE_PX, TOP_PAD, WHISKER,
};

// ---------------------------------------------------------------------------
// Public API

/// One point of a line: `y` at `x`, with an optional confidence interval
/// `(low, high)` drawn as a whisker and the number of runs behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePoint {
    pub x: f64,
    pub y: f64,
    pub ci: Option<(f64, f64)>,
    pub n: usize,
}

/// One line (legend entry), e.g. a pipeline or a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSeries {
    pub name: String,
    pub points: Vec<LinePoint>,
}

/// A line chart. Points are joined in order of x.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    /// X axis description with its unit, e.g. `"nodes"`.
    pub x_label: String,
    /// Y axis description with its unit, e.g. `"throughput (items/s)"`.
    pub y_label: String,
    /// Logarithmic x axis (base 2), ticked at the data's x values.
    pub log2_x: bool,
    pub series: Vec<LineSeries>,
    /// Footnote, e.g. `"whiskers: 95% CI · n = runs per point"`; facts the
    /// renderer knows (uniform n, skipped values, y not from 0) are appended.
    pub note: Option<String>,
}

/// One bar of a [`Panel::Bars`]: `(label, value, ci, n)` — the label (e.g.
/// the scheduler), its value, the confidence interval `(low, high)` drawn as
/// a whisker if known, and the number of runs behind the value.
pub type BarValue = (String, f64, Option<(f64, f64)>, usize);

/// One small multiple of [`Panels`].
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// One bar per label: `(label, value, ci, n)`. A label keeps its colour
    /// across all panels of the figure.
    Bars {
        title: String,
        y_label: String,
        bars: Vec<BarValue>,
    },
    /// A line panel; its title is the panel title, its legend joins the
    /// figure's shared legend, its note joins the figure's footnote.
    Lines(LineChart),
}

/// Small multiples on a grid of `columns` columns (0 = automatic).
#[derive(Debug, Clone, PartialEq)]
pub struct Panels {
    pub title: String,
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub note: Option<String>,
}

impl super::Drawing for LineChart {
    fn draw(&self, format: super::Format) -> Result<Vec<u8>> {
        ensure_font()?;
        prepared_bytes(&prepare_line(self), format)
    }
}

impl super::Drawing for Panels {
    fn draw(&self, format: super::Format) -> Result<Vec<u8>> {
        ensure_font()?;
        prepared_bytes(&prepare_panels(self), format)
    }
}

fn prepared_bytes(p: &Prepared, format: super::Format) -> Result<Vec<u8>> {
    let l = layout(p);
    match format {
        super::Format::Png => super::png_canvas(l.width, l.height, |root| draw(root, p, &l)),
        super::Format::Svg => super::svg_canvas(l.width, l.height, |root| draw(root, p, &l)).map(String::into_bytes),
    }
}

// ---------------------------------------------------------------------------
// Data preparation

/// Most panels one figure draws (the footnote counts the rest).
const MAX_PANELS: usize = 48;

/// A finite CI, ordered low ≤ high, or none.
fn clean_ci(ci: Option<(f64, f64)>) -> Option<(f64, f64)> {
    ci.filter(|(l, h)| l.is_finite() && h.is_finite())
        .map(|(l, h)| (clamp(l.min(h)), clamp(l.max(h))))
}

/// Marker shapes, in slot order; with the 8 palette colours, slot `s` gets
/// shape `(s + s / 8) % 8`, so 64 series differ in colour or shape.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
    Pentagon,
    Plus,
}

const MARKERS: [Marker; 8] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Cross,
    Marker::Pentagon,
    Marker::Plus,
];

fn marker_for(slot: usize) -> Marker {
    MARKERS[(slot + slot / MARKERS.len()) % MARKERS.len()]
}

/// Names (line series and bar labels) of one figure, in order of first
/// appearance: the index is the colour/marker slot.
#[derive(Default)]
struct Names {
    names: Vec<String>,
    /// Whether the name is drawn as a line somewhere (legend shows a marker).
    line: Vec<bool>,
    index: HashMap<String, usize>,
}

impl Names {
    fn slot(&mut self, raw: &str, line: bool) -> usize {
        let name = clean(raw);
        if let Some(&i) = self.index.get(&name) {
            self.line[i] |= line;
            return i;
        }
        let i = self.names.len();
        self.index.insert(name.clone(), i);
        self.names.push(name);
        self.line.push(line);
        i
    }
}

struct PPoint {
    /// Position on the x axis (log2 of the value on a log2 axis).
    x: f64,
    y: f64,
    ci: Option<(f64, f64)>,
    n: usize,
}

struct PSeries {
    slot: usize,
    points: Vec<PPoint>,
}

struct PBar {
    slot: usize,
    label: String,
    /// `None`: no finite value (drawn as `n/a`).
    value: Option<f64>,
    ci: Option<(f64, f64)>,
    n: usize,
}

enum Body {
    Lines {
        series: Vec<PSeries>,
        x_lo: f64,
        x_hi: f64,
        /// Tick position on the axis and its label.
        x_ticks: Vec<(f64, String)>,
        x_desc: String,
    },
    Bars(Vec<PBar>),
}

struct PPanel {
    title: String,
    y_desc: String,
    body: Body,
    y_lo: f64,
    y_hi: f64,
    y_ticks: Vec<f64>,
    has_data: bool,
    /// The y axis does not include 0 (line panels far from 0).
    zoomed: bool,
}

#[derive(Default)]
struct Facts {
    has_ci: bool,
    skipped: usize,
    nonpositive_x: usize,
    na_bars: usize,
    /// `n` of every drawn line point, if all equal; `None` if they differ.
    line_n: Option<Option<usize>>,
    /// The same for bars with a value.
    bar_n: Option<Option<usize>>,
    zoomed: Vec<String>,
}

impl Facts {
    fn see_line_n(&mut self, n: usize) {
        self.line_n = see_n(self.line_n, n);
    }

    fn see_bar_n(&mut self, n: usize) {
        self.bar_n = see_n(self.bar_n, n);
    }
}

fn see_n(seen: Option<Option<usize>>, n: usize) -> Option<Option<usize>> {
    match seen {
        None => Some(Some(n)),
        Some(Some(m)) if m == n => Some(Some(m)),
        _ => Some(None),
    }
}

struct Prepared {
    title: String,
    names: Vec<String>,
    name_is_line: Vec<bool>,
    panels: Vec<PPanel>,
    columns: usize,
    /// A single line chart (no panel titles, larger plot).
    single: bool,
    /// Notes from the caller, in order, without duplicates.
    notes: Vec<String>,
    facts: Facts,
}

fn push_note(notes: &mut Vec<String>, note: &Option<String>) {
    if let Some(n) = note {
        let n = clean(n);
        if !n.is_empty() && !notes.contains(&n) {
            notes.push(n);
        }
    }
}

fn prepare_line(chart: &LineChart) -> Prepared {
    let mut names = Names::default();
    let mut facts = Facts::default();
    let panel = prepare_lines_panel(chart, &mut names, &mut facts, String::new());
    if panel.zoomed {
        facts.zoomed.push(String::new());
    }
    let mut notes = Vec::new();
    push_note(&mut notes, &chart.note);
    Prepared {
        title: clean(&chart.title),
        names: names.names,
        name_is_line: names.line,
        panels: vec![panel],
        columns: 1,
        single: true,
        notes,
        facts,
    }
}

fn prepare_panels(p: &Panels) -> Prepared {
    let mut names = Names::default();
    let mut facts = Facts::default();
    let mut notes = Vec::new();
    push_note(&mut notes, &p.note);
    let mut panels = Vec::new();
    for panel in p.panels.iter().take(MAX_PANELS) {
        let pp = match panel {
            Panel::Bars { title, y_label, bars } => prepare_bars_panel(title, y_label, bars, &mut names, &mut facts),
            Panel::Lines(chart) => {
                push_note(&mut notes, &chart.note);
                prepare_lines_panel(chart, &mut names, &mut facts, clean(&chart.title))
            }
        };
        if pp.zoomed {
            facts.zoomed.push(pp.title.clone());
        }
        panels.push(pp);
    }
    if p.panels.len() > MAX_PANELS {
        notes.push(format!("first {MAX_PANELS} of {} panels shown", p.panels.len()));
    }
    if panels.is_empty() {
        panels.push(PPanel {
            title: String::new(),
            y_desc: String::new(),
            body: Body::Bars(Vec::new()),
            y_lo: 0.0,
            y_hi: 1.0,
            y_ticks: Vec::new(),
            has_data: false,
            zoomed: false,
        });
    }
    let n = panels.len();
    let columns = if p.columns == 0 {
        (n as f64).sqrt().ceil() as usize
    } else {
        p.columns.min(n)
    }
    .max(1);
    Prepared {
        title: clean(&p.title),
        names: names.names,
        name_is_line: names.line,
        panels,
        columns,
        single: false,
        notes,
        facts,
    }
}

fn prepare_lines_panel(chart: &LineChart, names: &mut Names, facts: &mut Facts, title: String) -> PPanel {
    let mut series = Vec::with_capacity(chart.series.len());
    let (mut y_lo, mut y_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut x_lo, mut x_hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut xs: Vec<f64> = Vec::new();
    for s in &chart.series {
        let slot = names.slot(&s.name, true);
        let mut points = Vec::with_capacity(s.points.len());
        for p in &s.points {
            if !p.x.is_finite() || !p.y.is_finite() {
                facts.skipped += 1;
                continue;
            }
            if chart.log2_x && p.x <= 0.0 {
                facts.nonpositive_x += 1;
                continue;
            }
            let raw_x = clamp(p.x);
            let x = if chart.log2_x { raw_x.log2() } else { raw_x };
            let y = clamp(p.y);
            let ci = clean_ci(p.ci);
            y_lo = y_lo.min(y);
            y_hi = y_hi.max(y);
            if let Some((l, h)) = ci {
                y_lo = y_lo.min(l);
                y_hi = y_hi.max(h);
                facts.has_ci = true;
            }
            x_lo = x_lo.min(x);
            x_hi = x_hi.max(x);
            xs.push(raw_x);
            facts.see_line_n(p.n);
            points.push(PPoint { x, y, ci, n: p.n });
        }
        points.sort_by(|a, b| a.x.total_cmp(&b.x));
        series.push(PSeries { slot, points });
    }
    let has_data = y_lo <= y_hi;
    let (y_lo, y_hi, y_ticks, zoomed) = y_range(y_lo, y_hi, has_data, false);
    let (x_lo, x_hi, x_ticks) = if !has_data {
        (0.0, 1.0, Vec::new())
    } else if chart.log2_x {
        let pad = if x_hi > x_lo { 0.3 } else { 0.5 };
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let ticks = xs.iter().map(|&x| (x.log2(), fmt_x(x))).collect();
        (x_lo - pad, x_hi + pad, ticks)
    } else {
        let mag = x_lo.abs().max(x_hi.abs());
        let (lo, hi) = if x_hi - x_lo <= mag * 1e-9 {
            let pad = (mag * 0.1).max(1.0);
            (x_lo - pad, x_hi + pad)
        } else {
            let pad = (x_hi - x_lo) * 0.05;
            (x_lo - pad, x_hi + pad)
        };
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        // Few measured x values (jobs 1..8): tick exactly there; else 1-2-5 ticks.
        let ticks = if xs.len() <= 12 {
            xs.iter().map(|&x| (x, fmt_x(x))).collect()
        } else {
            let step = nice_step(hi - lo, 6.0);
            tick_values(lo, hi, step)
                .into_iter()
                .map(|v| (v, fmt_tick(v, lo, hi)))
                .collect()
        };
        (lo, hi, ticks)
    };
    PPanel {
        title,
        y_desc: clean(&chart.y_label),
        body: Body::Lines {
            series,
            x_lo,
            x_hi,
            x_ticks,
            x_desc: clean(&chart.x_label),
        },
        y_lo,
        y_hi,
        y_ticks,
        has_data,
        zoomed,
    }
}

fn prepare_bars_panel(title: &str, y_label: &str, bars: &[BarValue], names: &mut Names, facts: &mut Facts) -> PPanel {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut out: Vec<PBar> = Vec::with_capacity(bars.len());
    for (label, value, ci, n) in bars {
        let slot = names.slot(label, false);
        if out.iter().any(|b| b.slot == slot) {
            continue; // a label repeated inside one panel is drawn once (first)
        }
        let (value, ci) = if value.is_finite() {
            let v = clamp(*value);
            let ci = clean_ci(*ci);
            lo = lo.min(v);
            hi = hi.max(v);
            if let Some((l, h)) = ci {
                lo = lo.min(l);
                hi = hi.max(h);
                facts.has_ci = true;
            }
            facts.see_bar_n(*n);
            (Some(v), ci)
        } else {
            facts.skipped += 1;
            facts.na_bars += 1;
            (None, None)
        };
        out.push(PBar {
            slot,
            label: names.names[slot].clone(),
            value,
            ci,
            n: *n,
        });
    }
    // Same order in every panel: the figure's order of first appearance.
    out.sort_by_key(|b| b.slot);
    let has_data = lo <= hi;
    let (y_lo, y_hi, y_ticks, zoomed) = y_range(lo, hi, has_data, true);
    PPanel {
        title: clean(title),
        y_desc: clean(y_label),
        body: Body::Bars(out),
        y_lo,
        y_hi,
        y_ticks,
        has_data,
        zoomed,
    }
}

/// Step of about `span / target` on the 1-2-5 ladder.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of `step` inside `[lo, hi]` (at most 60).
fn tick_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(step > 0.0 && lo.is_finite() && hi.is_finite() && hi > lo) {
        return Vec::new();
    }
    let k0 = (lo / step - 1e-9).ceil();
    let k1 = (hi / step + 1e-9).floor();
    let mut out = Vec::new();
    let mut k = k0;
    while k <= k1 && out.len() < 60 {
        let v = k * step;
        // `0.0 * step` may be -0.0; ticks never need the sign.
        out.push(if v == 0.0 { 0.0 } else { v });
        k += 1.0;
    }
    out
}

/// Axis range `(lo, hi, ticks, zoomed)` covering `[lo, hi]`: from 0 unless
/// (for lines) all values are far from it, with headroom, ending on ticks.
fn y_range(lo: f64, hi: f64, has_data: bool, bars: bool) -> (f64, f64, Vec<f64>, bool) {
    if !has_data {
        return (0.0, 1.0, tick_values(0.0, 1.0, 0.2), false);
    }
    let mag = lo.abs().max(hi.abs());
    let flat = hi - lo <= mag * 1e-9;
    let (lo, hi, zoomed) = if flat {
        if hi > 0.0 {
            (0.0, hi, false)
        } else if lo < 0.0 {
            (lo, 0.0, false)
        } else {
            (0.0, 1.0, false)
        }
    } else if !bars && ((lo > 0.0 && lo > 0.5 * hi) || (hi < 0.0 && hi < 0.5 * lo)) {
        (lo, hi, true)
    } else {
        (lo.min(0.0), hi.max(0.0), false)
    };
    let span = hi - lo;
    let head = if bars { 0.14 } else { 0.06 };
    let top = if hi > 0.0 || zoomed { hi + head * span } else { hi };
    let bottom = if lo < 0.0 || zoomed { lo - 0.05 * span } else { lo };
    let step = nice_step(top - bottom, 5.0);
    let mut a_lo = (bottom / step).floor() * step;
    let mut a_hi = (top / step).ceil() * step;
    if !(a_lo.is_finite() && a_hi.is_finite() && a_hi > a_lo) {
        (a_lo, a_hi) = (bottom, top);
    }
    if a_lo == 0.0 {
        a_lo = 0.0; // no -0
    }
    (a_lo, a_hi, tick_values(a_lo, a_hi, step), zoomed)
}

/// Label of a data x value: integers as integers.
fn fmt_x(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e7 {
        format!("{}", x as i64)
    } else if x.abs() >= 1e7 {
        fmt_tick(x, x, x)
    } else {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-0" {
            "0".to_string()
        } else {
            s.to_string()
        }
    }
}

// ---------------------------------------------------------------------------
// Layout (pixel sizes decided before drawing, from the data and font metrics)

const MIN_W: u32 = 1200;
const MAX_W: u32 = 8000;
const MIN_H: i32 = 700;
const MARGIN: i32 = 20;
const TITLE_H: i32 = 40;
const LEGEND_GAP: i32 = 30;
const COL_GAP: i32 = 36;
const ROW_GAP: i32 = 24;
const PANEL_TITLE_PX: f64 = 19.0;
const PANEL_TITLE_H: i32 = 30;
const PLOT_TOP_PAD: i32 = 10;
const PLOT_RIGHT_PAD: i32 = 18;
const NOTE_LINE_H: i32 = 22;
const MAX_NOTE_LINES: usize = 4;
const LINE_CELL_W: i32 = 560;
const BAR_MIN_SLOT: f64 = 56.0;
const BAR_MAX_SLOT: f64 = 150.0;
const BAR_SHARE: f64 = 0.7;
const MAX_ROTATED_LABEL: i32 = 200;
const MARKER_R: i32 = 6;
const SINGLE_PLOT_H: i32 = 460;
const PANEL_PLOT_H: i32 = 300;
const MAX_H: i32 = 12000;
const MIN_CELL_W: i32 = 200;

/// Pixel rectangle `[l, r] × [t, b]`.
#[derive(Clone, Copy)]
struct Rect {
    l: i32,
    t: i32,
    r: i32,
    b: i32,
}

struct Cell {
    /// The whole cell.
    area: Rect,
    plot: Rect,
    title: String,
    y_desc: String,
    x_desc: String,
    /// Bar panels: label lines under each bar, in bar order.
    bar_labels: Vec<Vec<String>>,
    rotated: bool,
    /// Bar panels: every `label_stride`-th bar is labelled.
    label_stride: usize,
    n_style: NStyle,
    /// Bar panels: width of one bar's slot and the x of the first slot.
    slot_px: f64,
    bars_left: f64,
}

struct Layout {
    width: u32,
    height: u32,
    title: String,
    legend_rows: Vec<Vec<LegendItem>>,
    legend_top: i32,
    cells: Vec<Cell>,
    y_tick_labels: Vec<Vec<String>>,
    /// Label each line point with its n (the n differ between points).
    label_line_n: bool,
    note_lines: Vec<String>,
    note_top: i32,
}

/// Lay `parts` out on lines of at most `max_px`: parts joined by ` · `,
/// a part longer than a line broken at spaces; at most `MAX_NOTE_LINES`.
fn wrap_note(parts: &[String], max_px: i32) -> Vec<String> {
    const SEP: &str = "   ·   ";
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for part in parts {
        let joined = if cur.is_empty() {
            part.clone()
        } else {
            format!("{cur}{SEP}{part}")
        };
        if text_width(NOTE_PX, &joined) <= max_px {
            cur = joined;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        // Break an over-long part at spaces.
        for word in part.split(' ').filter(|w| !w.is_empty()) {
            let joined = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if cur.is_empty() || text_width(NOTE_PX, &joined) <= max_px {
                cur = joined;
            } else {
                lines.push(std::mem::replace(&mut cur, word.to_string()));
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > MAX_NOTE_LINES {
        let rest = lines.split_off(MAX_NOTE_LINES - 1).join(" ");
        lines.push(rest);
    }
    lines.into_iter().map(|l| truncate_to(NOTE_PX, &l, max_px)).collect()
}

fn layout(p: &Prepared) -> Layout {
    let n_panels = p.panels.len();
    let max_cols = ((MAX_W as i32 - 2 * MARGIN + COL_GAP) / (MIN_CELL_W + COL_GAP)) as usize;
    let cols = p.columns.clamp(1, n_panels.clamp(1, max_cols));
    let rows = n_panels.div_ceil(cols).max(1);

    // Y tick labels and the y label area (shared, so plots align in columns).
    let y_tick_labels: Vec<Vec<String>> = p
        .panels
        .iter()
        .map(|pp| pp.y_ticks.iter().map(|v| fmt_tick(*v, pp.y_lo, pp.y_hi)).collect())
        .collect();
    let tick_w = y_tick_labels
        .iter()
        .flatten()
        .map(|s| text_width(TICK_PX, s))
        .max()
        .unwrap_or(0)
        .min(220);
    let any_y_desc = p.panels.iter().any(|pp| !pp.y_desc.is_empty());
    let y_area = tick_w + 14 + if any_y_desc { AXIS_DESC_PX as i32 + 16 } else { 4 };

    // Cell width: what each panel wants, the widest wins.
    let mut want_cell = if p.single { 0 } else { 420 };
    for pp in &p.panels {
        let w = match &pp.body {
            Body::Lines { .. } => LINE_CELL_W,
            Body::Bars(bars) => {
                let longest = bars.iter().map(|b| text_width(GROUP_PX, &b.label)).max().unwrap_or(0);
                let slot = (longest as f64 + 14.0).clamp(BAR_MIN_SLOT, BAR_MAX_SLOT);
                y_area + PLOT_RIGHT_PAD + (bars.len() as f64 * slot).ceil() as i32
            }
        };
        want_cell = want_cell.max(w.min(MAX_W as i32));
    }
    let cols_i = cols as i32;
    let want_w = 2 * MARGIN + cols_i * want_cell + (cols_i - 1) * COL_GAP;
    let width = (want_w.max(0) as u32).clamp(MIN_W, MAX_W);
    let cell_w = ((width as i32 - 2 * MARGIN - (cols_i - 1) * COL_GAP) / cols_i).max(MIN_CELL_W);

    // Legend: glyph + name, wrapped into centred rows.
    let legend_avail = width as i32 - 2 * 40;
    let mut legend_rows: Vec<Vec<LegendItem>> = Vec::new();
    let mut row: Vec<LegendItem> = Vec::new();
    let mut row_w = 0;
    for (slot, name) in p.names.iter().enumerate() {
        let line = p.name_is_line[slot];
        let text = if name.is_empty() {
            "(unnamed)".to_string()
        } else {
            truncate_to(LEGEND_PX, name, 360)
        };
        let item_w = legend_item_width(&text, line);
        if !row.is_empty() && row_w + LEGEND_GAP + item_w > legend_avail {
            legend_rows.push(std::mem::take(&mut row));
            row_w = 0;
        }
        let gap = if row.is_empty() { 0 } else { LEGEND_GAP };
        row.push(LegendItem {
            text,
            slot,
            line,
            x: row_w + gap,
        });
        row_w += gap + item_w;
    }
    if !row.is_empty() {
        legend_rows.push(row);
    }
    for row in &mut legend_rows {
        let last = row
            .last()
            .map(|i| i.x + legend_item_width(&i.text, i.line))
            .unwrap_or(0);
        let start = (width as i32 - last) / 2;
        for item in row.iter_mut() {
            item.x += start;
        }
    }

    // Per-panel horizontal geometry and the bottom (x label) area.
    let plot_w = (cell_w - y_area - PLOT_RIGHT_PAD).max(40);
    struct Horizontal {
        bar_labels: Vec<Vec<String>>,
        rotated: bool,
        label_stride: usize,
        n_style: NStyle,
        slot_px: f64,
        bars_off: f64,
        x_desc: String,
    }
    let mut x_area = 0;
    let mut thinned = false;
    let mut horiz = Vec::with_capacity(n_panels);
    for pp in &p.panels {
        let h = match &pp.body {
            Body::Lines { x_desc, .. } => {
                let need = 8
                    + TICK_PX as i32
                    + 6
                    + if x_desc.is_empty() {
                        0
                    } else {
                        10 + AXIS_DESC_PX as i32 + 4
                    };
                x_area = x_area.max(need);
                Horizontal {
                    bar_labels: Vec::new(),
                    rotated: false,
                    label_stride: 1,
                    n_style: NStyle::Hidden,
                    slot_px: 0.0,
                    bars_off: 0.0,
                    x_desc: truncate_to(AXIS_DESC_PX, x_desc, plot_w),
                }
            }
            Body::Bars(bars) => {
                let nb = bars.len().max(1) as f64;
                let slot_px = (plot_w as f64 / nb).min(BAR_MAX_SLOT);
                let bars_off = (plot_w as f64 - slot_px * nb) / 2.0;
                let avail = (slot_px - 6.0).floor() as i32;
                let mut labels: Vec<Vec<String>> = Vec::with_capacity(bars.len());
                let mut rotated = false;
                for b in bars {
                    match fit_horizontal(&b.label, avail) {
                        Some(lines) => labels.push(lines),
                        None => {
                            rotated = true;
                            break;
                        }
                    }
                }
                let need = if rotated {
                    labels = bars
                        .iter()
                        .map(|b| vec![truncate_to(GROUP_PX, &b.label, MAX_ROTATED_LABEL)])
                        .collect();
                    let longest = labels.iter().map(|l| text_width(GROUP_PX, &l[0])).max().unwrap_or(0);
                    12 + longest + 8
                } else {
                    let lines = labels.iter().map(Vec::len).max().unwrap_or(1) as i32;
                    12 + lines * CATEGORY_LINE_H + 6
                };
                x_area = x_area.max(need);
                let bar_px = slot_px * BAR_SHARE;
                let max_n = bars.iter().map(|b| b.n).max().unwrap_or(0);
                let n_style = if !pp.has_data || matches!(p.facts.bar_n, Some(Some(_))) {
                    NStyle::Hidden
                } else if text_width(N_PX, &format!("n={max_n}")) as f64 <= bar_px + 6.0 {
                    NStyle::Full
                } else if text_width(N_PX, &max_n.to_string()) as f64 <= bar_px + 6.0 {
                    NStyle::Bare
                } else {
                    NStyle::Hidden
                };
                let label_stride = if rotated {
                    ((f64::from(CATEGORY_LINE_H) / slot_px.max(1.0)).ceil() as usize).max(1)
                } else {
                    1
                };
                thinned |= label_stride > 1;
                Horizontal {
                    bar_labels: labels,
                    rotated,
                    label_stride,
                    n_style,
                    slot_px,
                    bars_off,
                    x_desc: String::new(),
                }
            }
        };
        horiz.push(h);
    }

    // Footnote.
    let mut parts: Vec<String> = p.notes.clone();
    let f = &p.facts;
    if p.notes.is_empty() && f.has_ci {
        parts.push("whiskers: confidence interval".to_string());
    }
    let label_line_n = matches!(f.line_n, Some(None));
    match f.line_n {
        Some(Some(n)) => parts.push(format!("n = {n} at every point")),
        Some(None) => parts.push("n = runs behind each point (labelled where space allows)".to_string()),
        None => {}
    }
    let bar_styles: Vec<NStyle> = p
        .panels
        .iter()
        .zip(&horiz)
        .filter(|(pp, _)| matches!(pp.body, Body::Bars(_)) && pp.has_data)
        .map(|(_, h)| h.n_style)
        .collect();
    if let Some(Some(n)) = f.bar_n {
        parts.push(format!("n = {n} for every bar"));
    } else if bar_styles.contains(&NStyle::Full) {
        parts.push("n = samples behind each bar".to_string());
    } else if bar_styles.contains(&NStyle::Bare) {
        parts.push("number above each bar = samples (n)".to_string());
    } else if !bar_styles.is_empty() {
        parts.push("samples per bar not shown (bars too narrow)".to_string());
    }
    if bar_styles.contains(&NStyle::Hidden) && bar_styles.iter().any(|s| *s != NStyle::Hidden) {
        parts.push("n not shown in panels with narrow bars".to_string());
    }
    if thinned {
        parts.push("some bar labels left out (too many bars); colours follow the legend".to_string());
    }
    if f.na_bars > 0 {
        parts.push("n/a = no finite value".to_string());
    }
    if f.skipped > f.na_bars {
        let k = f.skipped - f.na_bars;
        parts.push(format!(
            "{k} non-finite value{} not drawn",
            if k == 1 { "" } else { "s" }
        ));
    }
    if f.nonpositive_x > 0 {
        parts.push(format!(
            "{} point{} with x ≤ 0 not drawn (log2 axis)",
            f.nonpositive_x,
            if f.nonpositive_x == 1 { "" } else { "s" }
        ));
    }
    if !f.zoomed.is_empty() {
        let named: Vec<&str> = f.zoomed.iter().map(String::as_str).filter(|t| !t.is_empty()).collect();
        if named.is_empty() || p.single {
            parts.push("y axis does not start at 0".to_string());
        } else {
            parts.push(format!("y axis does not start at 0 in: {}", named.join(", ")));
        }
    }
    let note_lines = wrap_note(&parts, width as i32 - 2 * MARGIN);

    // Vertical geometry.
    let legend_top = TOP_PAD + TITLE_H;
    let grid_top = legend_top + legend_rows.len() as i32 * LEGEND_ROW_H + 16;
    let title_h = if p.panels.iter().any(|pp| !pp.title.is_empty()) {
        PANEL_TITLE_H
    } else {
        0
    };
    let note_h = note_lines.len() as i32 * NOTE_LINE_H + if note_lines.is_empty() { 8 } else { 16 };
    let rows_i = rows as i32;
    let fixed = title_h + PLOT_TOP_PAD + x_area;
    let mut plot_h = if p.single { SINGLE_PLOT_H } else { PANEL_PLOT_H };
    let mut height = grid_top + rows_i * (fixed + plot_h) + (rows_i - 1) * ROW_GAP + note_h;
    if height < MIN_H {
        plot_h += (MIN_H - height) / rows_i;
        height = grid_top + rows_i * (fixed + plot_h) + (rows_i - 1) * ROW_GAP + note_h;
    }
    if height > MAX_H {
        plot_h = ((MAX_H - grid_top - note_h - (rows_i - 1) * ROW_GAP) / rows_i - fixed).max(120);
        height = grid_top + rows_i * (fixed + plot_h) + (rows_i - 1) * ROW_GAP + note_h;
    }
    let cell_h = fixed + plot_h;

    let mut cells = Vec::with_capacity(n_panels);
    for (i, (pp, h)) in p.panels.iter().zip(horiz).enumerate() {
        let (r, c) = ((i / cols) as i32, (i % cols) as i32);
        let l = MARGIN + c * (cell_w + COL_GAP);
        let t = grid_top + r * (cell_h + ROW_GAP);
        let area = Rect {
            l,
            t,
            r: l + cell_w,
            b: t + cell_h,
        };
        let plot = Rect {
            l: l + y_area,
            t: t + title_h + PLOT_TOP_PAD,
            r: l + y_area + plot_w,
            b: t + title_h + PLOT_TOP_PAD + plot_h,
        };
        cells.push(Cell {
            area,
            plot,
            title: truncate_to(PANEL_TITLE_PX, &pp.title, cell_w),
            y_desc: truncate_to(AXIS_DESC_PX, &pp.y_desc, plot_h.max(40)),
            x_desc: h.x_desc,
            bar_labels: h.bar_labels,
            rotated: h.rotated,
            label_stride: h.label_stride,
            n_style: h.n_style,
            slot_px: h.slot_px,
            bars_left: plot.l as f64 + h.bars_off,
        });
    }

    Layout {
        width,
        height: height.max(1) as u32,
        title: truncate_to(TITLE_PX, &p.title, width as i32 - 2 * MARGIN),
        legend_rows,
        legend_top,
        cells,
        y_tick_labels,
        label_line_n,
        note_top: height - note_h + 4,
        note_lines,
    }
}

// ---------------------------------------------------------------------------
// Drawing (generic over the PNG and SVG backends)

type Area<DB> = DrawingArea<DB, Shift>;

/// Pixel position of `v` on an axis from `lo` (at `p0`) to `hi` (at `p1`).
fn to_px(v: f64, lo: f64, hi: f64, p0: i32, p1: i32) -> i32 {
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(-0.5, 1.5)
    } else {
        0.5
    };
    (f64::from(p0) + t * f64::from(p1 - p0)).round() as i32
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, p: &Prepared, l: &Layout) -> Result<()> {
    root.fill(&WHITE).map_err(plot_err)?;
    draw_title_and_legend(
        root,
        &l.title,
        l.width,
        &l.legend_rows,
        l.legend_top,
        |root, slot, c, x, y| draw_marker(root, marker_for(slot), c, x, y),
    )?;

    for (i, (pp, cell)) in p.panels.iter().zip(&l.cells).enumerate() {
        draw_frame(root, pp, cell, &l.y_tick_labels[i])?;
        match &pp.body {
            Body::Lines {
                series,
                x_lo,
                x_hi,
                x_ticks,
                ..
            } => draw_lines(root, pp, cell, series, (*x_lo, *x_hi), x_ticks, l.label_line_n)?,
            Body::Bars(bars) => draw_bars(root, pp, cell, bars)?,
        }
        if !pp.has_data {
            let c = cell.plot;
            root.draw_text(
                "no data",
                &style(NO_DATA_PX, SOFT_INK, HPos::Center, VPos::Center),
                ((c.l + c.r) / 2, (c.t + c.b) / 2),
            )
            .map_err(plot_err)?;
        }
    }

    for (i, line) in l.note_lines.iter().enumerate() {
        root.draw_text(
            line,
            &style(NOTE_PX, SOFT_INK, HPos::Left, VPos::Center),
            (MARGIN, l.note_top + i as i32 * NOTE_LINE_H + NOTE_LINE_H / 2),
        )
        .map_err(plot_err)?;
    }
    Ok(())
}

/// Panel title, y grid and tick labels, y description, axes.
fn draw_frame<DB: DrawingBackend>(root: &Area<DB>, pp: &PPanel, cell: &Cell, tick_labels: &[String]) -> Result<()> {
    let c = cell.plot;
    if !cell.title.is_empty() {
        root.draw_text(
            &cell.title,
            &style(PANEL_TITLE_PX, INK, HPos::Center, VPos::Top),
            ((cell.area.l + cell.area.r) / 2, cell.area.t + 2),
        )
        .map_err(plot_err)?;
    }
    for (v, label) in pp.y_ticks.iter().zip(tick_labels) {
        let y = to_px(*v, pp.y_lo, pp.y_hi, c.b, c.t);
        if y != c.b {
            root.draw(&PathElement::new(vec![(c.l, y), (c.r, y)], GRID.stroke_width(1)))
                .map_err(plot_err)?;
        }
        root.draw(&PathElement::new(
            vec![(c.l - 5, y), (c.l, y)],
            SOFT_INK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        root.draw_text(
            label,
            &style(TICK_PX, SOFT_INK, HPos::Right, VPos::Center),
            (c.l - 9, y),
        )
        .map_err(plot_err)?;
    }
    if !cell.y_desc.is_empty() {
        root.draw_text(
            &cell.y_desc,
            &style(AXIS_DESC_PX, INK, HPos::Center, VPos::Center).transform(FontTransform::Rotate270),
            (cell.area.l + AXIS_DESC_PX as i32 / 2 + 2, (c.t + c.b) / 2),
        )
        .map_err(plot_err)?;
    }
    root.draw(&PathElement::new(
        vec![(c.l, c.t), (c.l, c.b), (c.r, c.b)],
        SOFT_INK.stroke_width(1),
    ))
    .map_err(plot_err)?;
    if pp.y_lo < 0.0 && pp.y_hi > 0.0 {
        let y = to_px(0.0, pp.y_lo, pp.y_hi, c.b, c.t);
        root.draw(&PathElement::new(vec![(c.l, y), (c.r, y)], SOFT_INK.stroke_width(1)))
            .map_err(plot_err)?;
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(root: &Area<DB>, pp: &PPanel, cell: &Cell, bars: &[PBar]) -> Result<()> {
    let c = cell.plot;
    let y = |v: f64| to_px(v, pp.y_lo, pp.y_hi, c.b, c.t);
    let base = y(0.0f64.clamp(pp.y_lo, pp.y_hi));
    for (i, b) in bars.iter().enumerate() {
        let left = cell.bars_left + i as f64 * cell.slot_px;
        let x0 = (left + cell.slot_px * (1.0 - BAR_SHARE) / 2.0).round() as i32;
        let x1 = (left + cell.slot_px * (1.0 + BAR_SHARE) / 2.0).round() as i32;
        let xc = (left + cell.slot_px / 2.0).round() as i32;
        let col = series_color(b.slot);
        // Tick and label under the axis.
        root.draw(&PathElement::new(
            vec![(xc, c.b), (xc, c.b + 5)],
            SOFT_INK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        if let Some(lines) = cell.bar_labels.get(i).filter(|_| i % cell.label_stride == 0) {
            draw_category_label(root, lines, cell.rotated, (xc, c.b + 12))?;
        }
        let Some(value) = b.value else {
            root.draw_text(
                "n/a",
                &style(N_PX, SOFT_INK, HPos::Center, VPos::Bottom),
                (xc, base - 4),
            )
            .map_err(plot_err)?;
            continue;
        };
        let top = y(value);
        let (ya, yb) = (top.min(base), top.max(base));
        root.draw(&Rectangle::new([(x0, ya), (x1, yb)], col.filled()))
            .map_err(plot_err)?;
        root.draw(&Rectangle::new([(x0, ya), (x1, yb)], darker(col).stroke_width(1)))
            .map_err(plot_err)?;
        let mut label_y = ya;
        if let Some((lo, hi)) = b.ci {
            let (yl, yh) = (y(lo), y(hi));
            let cap = ((x1 - x0) as f64 * 0.22).round().max(3.0) as i32;
            let w = WHISKER.stroke_width(2);
            root.draw(&PathElement::new(vec![(xc, yl), (xc, yh)], w))
                .map_err(plot_err)?;
            root.draw(&PathElement::new(vec![(xc - cap, yh), (xc + cap, yh)], w))
                .map_err(plot_err)?;
            root.draw(&PathElement::new(vec![(xc - cap, yl), (xc + cap, yl)], w))
                .map_err(plot_err)?;
            label_y = label_y.min(yh);
        }
        let Some(text) = cell.n_style.label(b.n) else { continue };
        root.draw_text(
            &text,
            &style(N_PX, SOFT_INK, HPos::Center, VPos::Bottom),
            (xc, label_y - 5),
        )
        .map_err(plot_err)?;
    }
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(
    root: &Area<DB>,
    pp: &PPanel,
    cell: &Cell,
    series: &[PSeries],
    (x_lo, x_hi): (f64, f64),
    x_ticks: &[(f64, String)],
    label_n: bool,
) -> Result<()> {
    let c = cell.plot;
    let xp = |v: f64| to_px(v, x_lo, x_hi, c.l, c.r);
    let yp = |v: f64| to_px(v, pp.y_lo, pp.y_hi, c.b, c.t);

    // X ticks, light vertical grid, labels (skipping labels that would overlap).
    let mut last_right = i32::MIN;
    for (v, label) in x_ticks {
        let x = xp(*v);
        if x != c.l {
            root.draw(&PathElement::new(vec![(x, c.t), (x, c.b)], GRID.stroke_width(1)))
                .map_err(plot_err)?;
        }
        root.draw(&PathElement::new(
            vec![(x, c.b), (x, c.b + 5)],
            SOFT_INK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        let w = text_width(TICK_PX, label);
        if x - w / 2 >= last_right + 8 {
            root.draw_text(label, &style(TICK_PX, SOFT_INK, HPos::Center, VPos::Top), (x, c.b + 8))
                .map_err(plot_err)?;
            last_right = x + w - w / 2;
        }
    }
    if !cell.x_desc.is_empty() {
        root.draw_text(
            &cell.x_desc,
            &style(AXIS_DESC_PX, INK, HPos::Center, VPos::Top),
            ((c.l + c.r) / 2, c.b + 8 + TICK_PX as i32 + 10),
        )
        .map_err(plot_err)?;
    }

    // Dodge: series sharing x values are shifted a few pixels apart so their
    // whiskers stay visible (only when there are whiskers to separate).
    let drawn: Vec<&PSeries> = series.iter().filter(|s| !s.points.is_empty()).collect();
    let k = drawn.len();
    let any_ci = drawn.iter().any(|s| s.points.iter().any(|p| p.ci.is_some()));
    let mut xs: Vec<i32> = drawn.iter().flat_map(|s| s.points.iter().map(|p| xp(p.x))).collect();
    xs.sort_unstable();
    xs.dedup();
    let min_gap = xs.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(c.r - c.l);
    let dodge = if any_ci && k > 1 {
        (f64::from(min_gap) * 0.3 / (k - 1) as f64).min(6.0)
    } else {
        0.0
    };
    let pts: Vec<Vec<(i32, i32, &PPoint)>> = drawn
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let off = ((i as f64 - (k as f64 - 1.0) / 2.0) * dodge).round() as i32;
            s.points.iter().map(|p| (xp(p.x) + off, yp(p.y), p)).collect()
        })
        .collect();

    for (s, ps) in drawn.iter().zip(&pts) {
        if ps.len() > 1 {
            let col = series_color(s.slot);
            root.draw(&PathElement::new(
                ps.iter().map(|&(x, y, _)| (x, y)).collect::<Vec<_>>(),
                col.stroke_width(2),
            ))
            .map_err(plot_err)?;
        }
    }
    for (s, ps) in drawn.iter().zip(&pts) {
        let w = darker(series_color(s.slot)).stroke_width(2);
        for &(x, _, p) in ps {
            if let Some((lo, hi)) = p.ci {
                let (yl, yh) = (yp(lo), yp(hi));
                root.draw(&PathElement::new(vec![(x, yl), (x, yh)], w))
                    .map_err(plot_err)?;
                root.draw(&PathElement::new(vec![(x - 5, yh), (x + 5, yh)], w))
                    .map_err(plot_err)?;
                root.draw(&PathElement::new(vec![(x - 5, yl), (x + 5, yl)], w))
                    .map_err(plot_err)?;
            }
        }
    }
    for (s, ps) in drawn.iter().zip(&pts) {
        let col = series_color(s.slot);
        for &(x, y, _) in ps {
            draw_marker(root, marker_for(s.slot), col, x, y)?;
        }
    }

    if label_n {
        // Greedy placement: above the whisker, else below it; skipped when
        // it would overlap a marker, another label or leave the plot.
        let r = MARKER_R + 2;
        let mut taken: Vec<Rect> = pts
            .iter()
            .flatten()
            .map(|&(x, y, _)| Rect {
                l: x - r,
                t: y - r,
                r: x + r,
                b: y + r,
            })
            .collect();
        for &(x, _, p) in pts.iter().flatten() {
            if let Some((lo, hi)) = p.ci {
                taken.push(Rect {
                    l: x - 6,
                    t: yp(hi) - 1,
                    r: x + 6,
                    b: yp(lo) + 1,
                });
            }
        }
        let segments: Vec<((i32, i32), (i32, i32))> = pts
            .iter()
            .flat_map(|ps| ps.windows(2).map(|w| ((w[0].0, w[0].1), (w[1].0, w[1].1))))
            .collect();
        let h = N_PX as i32 + 2;
        for ps in &pts {
            for &(x, y, p) in ps {
                let text = format!("n={}", p.n);
                let w = text_width(N_PX, &text);
                let (yt, yb) =
                    p.ci.map(|(lo, hi)| (yp(hi).min(y - r), yp(lo).max(y + r)))
                        .unwrap_or((y - r, y + r));
                let candidates = [
                    Rect {
                        l: x - w / 2,
                        t: yt - 3 - h,
                        r: x + w - w / 2,
                        b: yt - 3,
                    },
                    Rect {
                        l: x - w / 2,
                        t: yb + 3,
                        r: x + w - w / 2,
                        b: yb + 3 + h,
                    },
                    Rect {
                        l: x + r + 3,
                        t: y - h / 2,
                        r: x + r + 3 + w,
                        b: y + h - h / 2,
                    },
                ];
                let fits = |b: &Rect| {
                    b.l >= c.l
                        && b.r <= c.r
                        && b.t >= c.t
                        && b.b <= c.b
                        && !taken.iter().any(|o| overlaps(o, b))
                        && !segments.iter().any(|&(a, z)| segment_hits(a, z, b))
                };
                if let Some(bx) = candidates.iter().find(|b| fits(b)) {
                    root.draw_text(&text, &style(N_PX, SOFT_INK, HPos::Left, VPos::Top), (bx.l, bx.t + 1))
                        .map_err(plot_err)?;
                    taken.push(*bx);
                }
            }
        }
    }
    Ok(())
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b
}

/// Whether the segment `a`–`z` passes through `r` (grown by 2 px).
fn segment_hits(a: (i32, i32), z: (i32, i32), r: &Rect) -> bool {
    // Liang–Barsky clipping of the segment against the rectangle.
    let (x0, y0) = (f64::from(a.0), f64::from(a.1));
    let (dx, dy) = (f64::from(z.0) - x0, f64::from(z.1) - y0);
    let (l, t, rr, b) = (
        f64::from(r.l - 2),
        f64::from(r.t - 2),
        f64::from(r.r + 2),
        f64::from(r.b + 2),
    );
    let (mut u0, mut u1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, x0 - l), (dx, rr - x0), (-dy, y0 - t), (dy, b - y0)] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let u = q / p;
            if p < 0.0 {
                u0 = u0.max(u);
            } else {
                u1 = u1.min(u);
            }
            if u0 > u1 {
                return false;
            }
        }
    }
    true
}

fn draw_marker<DB: DrawingBackend>(root: &Area<DB>, m: Marker, col: RGBColor, x: i32, y: i32) -> Result<()> {
    let r = MARKER_R;
    let edge = darker(col).stroke_width(1);
    let polygon = |pts: Vec<(i32, i32)>| -> Result<()> {
        root.draw(&Polygon::new(pts.clone(), col.filled())).map_err(plot_err)?;
        let mut closed = pts;
        closed.push(closed[0]);
        root.draw(&PathElement::new(closed, edge)).map_err(plot_err)?;
        Ok(())
    };
    match m {
        Marker::Circle => {
            root.draw(&Circle::new((x, y), r, col.filled())).map_err(plot_err)?;
            root.draw(&Circle::new((x, y), r, edge)).map_err(plot_err)?;
        }
        Marker::Square => {
            let s = r - 1;
            root.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], col.filled()))
                .map_err(plot_err)?;
            root.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], edge))
                .map_err(plot_err)?;
        }
        Marker::TriangleUp => polygon(vec![(x, y - r - 2), (x + r + 1, y + r - 1), (x - r - 1, y + r - 1)])?,
        Marker::TriangleDown => polygon(vec![(x, y + r + 2), (x - r - 1, y - r + 1), (x + r + 1, y - r + 1)])?,
        Marker::Diamond => polygon(vec![(x, y - r - 2), (x + r + 1, y), (x, y + r + 2), (x - r - 1, y)])?,
        Marker::Pentagon => {
            let pts = (0..5)
                .map(|i| {
                    let a = -std::f64::consts::FRAC_PI_2 + f64::from(i) * 2.0 * std::f64::consts::PI / 5.0;
                    let rr = f64::from(r) + 1.0;
                    (x + (rr * a.cos()).round() as i32, y + (rr * a.sin()).round() as i32)
                })
                .collect();
            polygon(pts)?
        }
        Marker::Cross | Marker::Plus => {
            let s = r;
            let w = darker(col).stroke_width(3);
            let segs = if m == Marker::Cross {
                [[(x - s, y - s), (x + s, y + s)], [(x - s, y + s), (x + s, y - s)]]
            } else {
                [[(x - s - 1, y), (x + s + 1, y)], [(x, y - s - 1), (x, y + s + 1)]]
            };
            // A dark 3-px stroke under the colour keeps light colours visible.
            for seg in segs {
                root.draw(&PathElement::new(seg.to_vec(), w)).map_err(plot_err)?;
            }
            for seg in segs {
                root.draw(&PathElement::new(seg.to_vec(), col.stroke_width(2)))
                    .map_err(plot_err)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn test_png(chart: &impl crate::render::chart::Drawing, path: &Path) -> Result<()> {
        Ok(std::fs::write(path, chart.draw(crate::render::chart::Format::Png)?)?)
    }

    fn test_svg(chart: &impl crate::render::chart::Drawing, path: &Path) -> Result<()> {
        Ok(std::fs::write(path, chart.draw(crate::render::chart::Format::Svg)?)?)
    }
    use crate::render::test_support::{assert_well_formed_xml, decode, has_colour, Png};

    fn pt(x: f64, y: f64, ci: Option<(f64, f64)>, n: usize) -> LinePoint {
        LinePoint { x, y, ci, n }
    }

    fn series(name: &str, points: Vec<LinePoint>) -> LineSeries {
        LineSeries {
            name: name.to_string(),
            points,
        }
    }

    fn chart(title: &str, log2_x: bool, series: Vec<LineSeries>) -> LineChart {
        LineChart {
            title: title.to_string(),
            x_label: "nodes".to_string(),
            y_label: "throughput (items/s)".to_string(),
            log2_x,
            series,
            note: Some("whiskers: 95% CI · n = runs per point".to_string()),
        }
    }

    /// Throughput vs nodes per pipeline: 3 pipelines over 1..16 nodes.
    fn node_scaling() -> LineChart {
        let mk = |name: &str, base: f64, eff: f64, spread: f64| {
            let points = [1.0, 2.0, 4.0, 8.0, 16.0f64]
                .iter()
                .map(|&n| {
                    let y = base * n.powf(eff);
                    pt(n, y, Some((y * (1.0 - spread), y * (1.0 + spread))), 5)
                })
                .collect();
            series(name, points)
        };
        LineChart {
            title: "Node scalability (throughput vs nodes)".to_string(),
            x_label: "nodes".to_string(),
            y_label: "throughput (items/s)".to_string(),
            log2_x: true,
            series: vec![
                mk("wordcount", 52_000.0, 0.93, 0.05),
                mk("rag-pipeline", 21_000.0, 0.81, 0.08),
                mk("stream-join", 34_000.0, 0.62, 0.07),
            ],
            note: Some("whiskers: 95% CI · n = runs per point".to_string()),
        }
    }

    /// One panel per metric, bars per scheduler.
    fn schedulers() -> Panels {
        let names = ["fifo", "round-robin", "least-loaded", "load-aware", "sage-adaptive"];
        let metric = |title: &str, unit: &str, vals: [f64; 5], rel: f64| Panel::Bars {
            title: title.to_string(),
            y_label: unit.to_string(),
            bars: names
                .iter()
                .zip(vals)
                .map(|(n, v)| (n.to_string(), v, Some((v * (1.0 - rel), v * (1.0 + rel))), 10))
                .collect(),
        };
        Panels {
            title: "Scheduler trade-offs (mean of 10 runs, 95% CI)".to_string(),
            panels: vec![
                metric(
                    "Throughput",
                    "items/s",
                    [41_000.0, 45_500.0, 52_300.0, 55_800.0, 58_900.0],
                    0.04,
                ),
                metric("Average latency", "ms", [38.0, 33.5, 27.1, 25.9, 24.2], 0.06),
                metric("P99 latency", "ms", [210.0, 160.0, 120.0, 98.0, 91.0], 0.1),
                metric("Load balance", "max/mean load", [1.9, 1.15, 1.08, 1.05, 1.04], 0.03),
                metric("Scheduling overhead", "µs per task", [2.1, 2.4, 9.8, 14.5, 11.2], 0.08),
            ],
            columns: 3,
            note: Some("whiskers: 95% CI".to_string()),
        }
    }

    /// Throughput and P99 over concurrency 1..32, two pipelines, stacked.
    fn tput_latency() -> Panels {
        let conc = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0f64];
        let mk = |name: &str, f: &dyn Fn(f64) -> f64, rel: f64| {
            series(
                name,
                conc.iter()
                    .map(|&c| {
                        let y = f(c);
                        pt(c, y, Some((y * (1.0 - rel), y * (1.0 + rel))), 8)
                    })
                    .collect(),
            )
        };
        let tput = LineChart {
            title: "Throughput".to_string(),
            x_label: "concurrency (in-flight requests)".to_string(),
            y_label: "throughput (req/s)".to_string(),
            log2_x: true,
            series: vec![
                mk("sage", &|c| 900.0 * c / (1.0 + c / 12.0), 0.05),
                mk("ray", &|c| 780.0 * c / (1.0 + c / 7.0), 0.06),
            ],
            note: None,
        };
        let p99 = LineChart {
            title: "P99 latency".to_string(),
            x_label: "concurrency (in-flight requests)".to_string(),
            y_label: "P99 latency (ms)".to_string(),
            log2_x: true,
            series: vec![
                mk("sage", &|c| 12.0 + 0.9 * c * c / 8.0, 0.08),
                mk("ray", &|c| 14.0 + 1.6 * c * c / 8.0, 0.1),
            ],
            note: None,
        };
        Panels {
            title: "Throughput–latency over concurrency".to_string(),
            panels: vec![Panel::Lines(tput), Panel::Lines(p99)],
            columns: 1,
            note: Some("whiskers: 95% CI · n = runs per point".to_string()),
        }
    }

    /// Total throughput vs concurrent jobs (linear x), with uneven run counts.
    fn job_scaling() -> LineChart {
        let mk = |name: &str, per_job: f64, sat: f64| {
            let points = (1..=8)
                .map(|j| {
                    let j = f64::from(j);
                    let y = per_job * j / (1.0 + j / sat);
                    let n = if j > 6.0 { 3 } else { 5 };
                    pt(j, y, Some((y * 0.94, y * 1.06)), n)
                })
                .collect();
            series(name, points)
        };
        LineChart {
            title: "Job scaling (total throughput vs concurrent jobs)".to_string(),
            x_label: "concurrent jobs".to_string(),
            y_label: "total throughput (items/s)".to_string(),
            log2_x: false,
            series: vec![mk("sage", 30_000.0, 9.0), mk("ray", 27_000.0, 4.0)],
            note: Some("whiskers: 95% CI".to_string()),
        }
    }

    fn inked_share(png: &Png) -> f64 {
        let inked = png.rgb.chunks_exact(3).filter(|c| *c != [255, 255, 255]).count();
        inked as f64 / (png.w as f64 * png.h as f64)
    }

    fn assert_not_blank(png: &Png) {
        let share = inked_share(png);
        assert!(share > 0.02, "only {:.2}% non-background pixels", share * 100.0);
    }

    /// Render both formats into `dir` as `name.png` / `name.svg`; return the PNG and SVG text.
    fn render_line(c: &LineChart, dir: &Path, name: &str) -> (Png, String) {
        let (png_path, svg_path) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.svg")));
        test_png(c, &png_path).unwrap();
        test_svg(c, &svg_path).unwrap();
        (decode(&png_path), std::fs::read_to_string(&svg_path).unwrap())
    }

    fn render_panels(p: &Panels, dir: &Path, name: &str) -> (Png, String) {
        let (png_path, svg_path) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.svg")));
        test_png(p, &png_path).unwrap();
        test_svg(p, &svg_path).unwrap();
        (decode(&png_path), std::fs::read_to_string(&svg_path).unwrap())
    }

    #[test]
    fn line_chart_png_is_drawn_with_series_colours() {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = render_line(&node_scaling(), dir.path(), "n");
        assert!(png.w >= MIN_W && png.h as i32 >= MIN_H);
        assert_not_blank(&png);
        for c in &super::super::style::PALETTE[..3] {
            assert!(has_colour(&png, *c), "series colour {c:?} missing");
        }
        for s in [
            "wordcount",
            "rag-pipeline",
            "stream-join",
            "nodes",
            "throughput (items/s)",
        ] {
            assert!(svg.contains(s), "{s} missing from SVG");
        }
        // Ticks exactly at the data's x values, as integers.
        for t in ["1", "2", "4", "8", "16"] {
            assert!(svg.contains(&format!("\n{t}\n</text>")), "x tick {t} missing");
        }
        assert!(svg.contains("n = 5 at every point"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn panels_keep_label_colours_and_render() {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = render_panels(&schedulers(), dir.path(), "s");
        assert_not_blank(&png);
        for c in &super::super::style::PALETTE[..5] {
            assert!(has_colour(&png, *c), "label colour {c:?} missing");
        }
        for s in [
            "fifo",
            "sage-adaptive",
            "P99 latency",
            "Scheduling overhead",
            "n = 10 for every bar",
        ] {
            assert!(svg.contains(s), "{s} missing from SVG");
        }
        assert_well_formed_xml(&svg);

        // The same label gets the same slot in every panel, even when a
        // panel lists labels in another order or lacks some.
        let p = Panels {
            title: "t".into(),
            panels: vec![
                Panel::Bars {
                    title: "a".into(),
                    y_label: "".into(),
                    bars: vec![("x".into(), 1.0, None, 1), ("y".into(), 2.0, None, 1)],
                },
                Panel::Bars {
                    title: "b".into(),
                    y_label: "".into(),
                    bars: vec![("y".into(), 1.0, None, 1), ("z".into(), 2.0, None, 1)],
                },
            ],
            columns: 2,
            note: None,
        };
        let prep = prepare_panels(&p);
        let slots = |i: usize| match &prep.panels[i].body {
            Body::Bars(b) => b.iter().map(|b| (b.label.clone(), b.slot)).collect::<Vec<_>>(),
            Body::Lines { .. } => unreachable!(),
        };
        assert_eq!(slots(0), vec![("x".to_string(), 0), ("y".to_string(), 1)]);
        assert_eq!(slots(1), vec![("y".to_string(), 1), ("z".to_string(), 2)]);

        let (png, svg) = render_panels(&tput_latency(), dir.path(), "t");
        assert_not_blank(&png);
        assert!(svg.contains("sage") && svg.contains("ray") && svg.contains("P99 latency (ms)"));
        assert!(svg.contains("32"));
    }

    #[test]
    fn deterministic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for round in ["a", "b"] {
            test_png(&node_scaling(), &d.join(format!("l{round}.png"))).unwrap();
            test_svg(&node_scaling(), &d.join(format!("l{round}.svg"))).unwrap();
            test_png(&schedulers(), &d.join(format!("s{round}.png"))).unwrap();
            test_svg(&schedulers(), &d.join(format!("s{round}.svg"))).unwrap();
            test_png(&tput_latency(), &d.join(format!("t{round}.png"))).unwrap();
            test_svg(&tput_latency(), &d.join(format!("t{round}.svg"))).unwrap();
        }
        for f in ["l", "s", "t"] {
            for ext in ["png", "svg"] {
                let a = std::fs::read(d.join(format!("{f}a.{ext}"))).unwrap();
                let b = std::fs::read(d.join(format!("{f}b.{ext}"))).unwrap();
                assert!(a == b, "{f}.{ext} differs between renders");
            }
        }
    }

    #[test]
    fn svg_escapes_names_and_drops_control_chars() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = chart(
            "<script>&\"",
            false,
            vec![
                series(
                    "a<b>&c",
                    (1..=6)
                        .map(|i| pt(f64::from(i), f64::from(i * i), Some((0.0, 40.0)), 1))
                        .collect(),
                ),
                series("tab\there\u{1}\nnl", vec![pt(1.0, 1.0, None, 1)]),
            ],
        );
        c.y_label = "ms & <b>".into();
        let (png, svg) = render_line(&c, dir.path(), "x");
        assert_not_blank(&png);
        assert!(svg.contains("a&lt;b&gt;&amp;c"), "series name not escaped");
        assert!(svg.contains("&lt;script&gt;&amp;&quot;"));
        assert!(svg.contains("tab here  nl"));
        assert!(!svg.contains('\u{1}') && !svg.contains("<script") && !svg.contains("<b>"));
        assert_well_formed_xml(&svg);

        let p = Panels {
            title: "</svg>".into(),
            panels: vec![Panel::Bars {
                title: "<t>".into(),
                y_label: "&".into(),
                bars: vec![("\"q\"<>".into(), 1.0, Some((0.5, 1.5)), 3)],
            }],
            columns: 0,
            note: Some("a < b & c".into()),
        };
        let (_, svg) = render_panels(&p, dir.path(), "p");
        assert!(svg.contains("&quot;q&quot;&lt;&gt;") && svg.contains("a &lt; b &amp; c"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn robustness_cases_never_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let keep = std::env::var("SAGEREPORT_FIG_SAMPLES")
            .ok()
            .map(|d| Path::new(&d).join("edge"));
        if let Some(k) = &keep {
            std::fs::create_dir_all(k).unwrap();
        }
        let dir = keep.as_deref().unwrap_or(tmp.path());
        let long = "a-very-long-pipeline-name-that-goes-on/and-on/with-variant=something-rather-long ".repeat(6);
        let lines = vec![
            // No series at all; a series without points.
            chart("empty", true, vec![]),
            chart("no points", false, vec![series("s", vec![])]),
            // Only non-finite values; x ≤ 0 on a log axis.
            chart(
                "nan",
                true,
                vec![series(
                    "s",
                    vec![
                        pt(f64::NAN, 1.0, None, 1),
                        pt(2.0, f64::INFINITY, None, 1),
                        pt(0.0, 3.0, None, 1),
                        pt(-4.0, 3.0, None, 1),
                    ],
                )],
            ),
            // A single point, linear and log.
            chart("one", false, vec![series("s", vec![pt(3.0, 7.0, Some((6.0, 8.0)), 2)])]),
            chart(
                "one log",
                true,
                vec![series("s", vec![pt(1.0, 7.0, Some((f64::NAN, 8.0)), 2)])],
            ),
            // All equal values, zeros, negatives.
            chart(
                "flat",
                true,
                vec![series(
                    "s",
                    (0..5)
                        .map(|i| pt(f64::from(1 << i), 5.0, Some((5.0, 5.0)), 3))
                        .collect(),
                )],
            ),
            chart(
                "zeros",
                false,
                vec![series("s", (0..5).map(|i| pt(f64::from(i), 0.0, None, 3)).collect())],
            ),
            chart(
                "negative",
                false,
                vec![series(
                    "s",
                    vec![
                        pt(1.0, -5.0, Some((-7.0, -3.0)), 1),
                        pt(2.0, -2.0, Some((-1.0, -3.0)), 9),
                    ],
                )],
            ),
            // Huge values and spans, reversed CIs, tiny relative differences.
            chart(
                "huge",
                true,
                vec![
                    series(
                        "a",
                        vec![pt(1.0, 1e12, Some((9e11, 1.1e12)), 1), pt(1e15, 3e12, None, usize::MAX)],
                    ),
                    series(
                        "b",
                        vec![
                            pt(2.0, f64::MAX, Some((f64::MAX, -f64::MAX)), 1),
                            pt(4.0, -1e300, None, 0),
                        ],
                    ),
                ],
            ),
            chart(
                "offset",
                false,
                vec![series("s", vec![pt(1.0, 1e12, None, 1), pt(2.0, 1e12 + 1e-3, None, 1)])],
            ),
            chart(
                "far from zero",
                false,
                vec![series("s", vec![pt(1.0, 1000.0, None, 1), pt(2.0, 1010.0, None, 1)])],
            ),
            // Control characters and very long names; many series.
            LineChart {
                title: long.clone(),
                x_label: long.clone(),
                y_label: format!("\u{7}{long}\r\n"),
                log2_x: true,
                series: (0..20)
                    .map(|i| {
                        series(
                            &format!("{long}{i}\u{0}"),
                            vec![
                                pt(1.0, f64::from(i), None, i as usize),
                                pt(2.0, f64::from(i) * 2.0, None, 1),
                            ],
                        )
                    })
                    .collect(),
                note: Some(long.clone()),
            },
        ];
        for (i, c) in lines.iter().enumerate() {
            let (png, svg) = render_line(c, dir, &format!("l{i}"));
            assert!(png.w >= MIN_W, "chart {i}");
            assert_well_formed_xml(&svg);
            if i < 3 {
                assert!(svg.contains("no data"), "chart {i} should say no data");
            }
        }
        let svg = std::fs::read_to_string(dir.join("l2.svg")).unwrap();
        assert!(svg.contains("x ≤ 0 not drawn") && svg.contains("2 non-finite values not drawn"));
        let svg = std::fs::read_to_string(dir.join("l10.svg")).unwrap();
        assert!(svg.contains("does not start at 0"));

        let panels = [
            Panels {
                title: "none".into(),
                panels: vec![],
                columns: 0,
                note: None,
            },
            Panels {
                title: long.clone(),
                panels: vec![
                    Panel::Bars {
                        title: "empty".into(),
                        y_label: "x".into(),
                        bars: vec![],
                    },
                    Panel::Bars {
                        title: "odd".into(),
                        y_label: long.clone(),
                        bars: vec![
                            (long.clone(), f64::NAN, None, 1),
                            ("dup".into(), 1e12, Some((f64::INFINITY, 1.0)), 3),
                            ("dup".into(), 5.0, None, 3),
                            ("neg".into(), -1e12, Some((-2e12, -5e11)), usize::MAX),
                            ("\u{1b}[31mred".into(), 0.0, None, 0),
                        ],
                    },
                    Panel::Lines(chart("inner empty", true, vec![])),
                    Panel::Bars {
                        title: "flat".into(),
                        y_label: "".into(),
                        bars: vec![("a".into(), 3.0, Some((3.0, 3.0)), 1)],
                    },
                ],
                columns: 9,
                note: None,
            },
            Panels {
                title: "crowded".into(),
                panels: vec![Panel::Bars {
                    title: "300 bars".into(),
                    y_label: "".into(),
                    bars: (0..300)
                        .map(|i| (format!("scheduler-{i}"), f64::from(i), None, i as usize))
                        .collect(),
                }],
                columns: 1,
                note: None,
            },
            Panels {
                title: "many".into(),
                panels: (0..60)
                    .map(|i| Panel::Bars {
                        title: format!("p{i}"),
                        y_label: "".into(),
                        bars: vec![("a".into(), f64::from(i), None, 1)],
                    })
                    .collect(),
                columns: 0,
                note: None,
            },
            Panels {
                title: "one row".into(),
                panels: (0..40)
                    .map(|i| Panel::Bars {
                        title: format!("p{i}"),
                        y_label: "".into(),
                        bars: vec![("a".into(), f64::from(i), None, 1)],
                    })
                    .collect(),
                columns: usize::MAX,
                note: None,
            },
        ];
        for (i, p) in panels.iter().enumerate() {
            let (png, svg) = render_panels(p, dir, &format!("p{i}"));
            assert!(
                png.w >= MIN_W && png.w <= MAX_W && png.h as i32 <= MAX_H + 200,
                "panels {i}: {}×{}",
                png.w,
                png.h
            );
            assert_well_formed_xml(&svg);
        }
        let svg = std::fs::read_to_string(dir.join("p0.svg")).unwrap();
        assert!(svg.contains("no data"));
        let svg = std::fs::read_to_string(dir.join("p1.svg")).unwrap();
        assert!(svg.contains("n/a") && svg.contains("no data"));
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/f");
        assert!(test_png(&node_scaling(), &missing.with_extension("png")).is_err());
        assert!(test_svg(&node_scaling(), &missing.with_extension("svg")).is_err());
        assert!(test_png(&schedulers(), &missing.with_extension("png")).is_err());
        assert!(test_svg(&schedulers(), &missing.with_extension("svg")).is_err());
    }

    #[test]
    fn axis_helpers() {
        assert_eq!(fmt_x(1.0), "1");
        assert_eq!(fmt_x(32.0), "32");
        assert_eq!(fmt_x(0.5), "0.5");
        assert_eq!(nice_step(10.0, 5.0), 2.0);
        assert_eq!(nice_step(0.7, 5.0), 0.2);
        // From 0 unless far from it.
        let (lo, hi, ticks, zoomed) = y_range(20.0, 100.0, true, false);
        assert_eq!((lo, zoomed), (0.0, false));
        assert!(hi >= 100.0 && ticks.first() == Some(&0.0));
        let (lo, _, _, zoomed) = y_range(900.0, 1000.0, true, false);
        assert!(zoomed && lo > 0.0 && lo <= 900.0);
        // Bars always from 0.
        assert_eq!(y_range(900.0, 1000.0, true, true).0, 0.0);
        // Flat data includes 0.
        assert_eq!(y_range(5.0, 5.0, true, false).0, 0.0);
        let (lo, hi, ticks, _) = y_range(-1e300, 1e300, true, false);
        assert!(lo.is_finite() && hi.is_finite() && !ticks.is_empty());
    }

    /// `SAGEREPORT_FIG_SAMPLES=/tmp/figs cargo test --lib render::chart::lines`
    /// writes the example figures for a visual check.
    #[test]
    fn sample_figures() {
        let Ok(dir) = std::env::var("SAGEREPORT_FIG_SAMPLES") else {
            return;
        };
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        test_png(&node_scaling(), &dir.join("node_scaling.png")).unwrap();
        test_svg(&node_scaling(), &dir.join("node_scaling.svg")).unwrap();
        test_png(&schedulers(), &dir.join("scheduler_panels.png")).unwrap();
        test_svg(&schedulers(), &dir.join("scheduler_panels.svg")).unwrap();
        test_png(&tput_latency(), &dir.join("throughput_p99_concurrency.png")).unwrap();
        test_svg(&tput_latency(), &dir.join("throughput_p99_concurrency.svg")).unwrap();
        test_png(&job_scaling(), &dir.join("job_scaling.png")).unwrap();
        test_svg(&job_scaling(), &dir.join("job_scaling.svg")).unwrap();
    }

    #[test]
    fn uneven_n_is_labelled_at_points() {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = render_line(&job_scaling(), dir.path(), "j");
        assert_not_blank(&png);
        assert!(svg.contains("n=3") && svg.contains("n=5"));
        assert!(svg.contains("n = runs behind each point"));
        assert!(!svg.contains("at every point"));
    }

    #[test]
    fn segment_hit_test() {
        let r = Rect {
            l: 10,
            t: 10,
            r: 20,
            b: 20,
        };
        assert!(segment_hits((0, 15), (30, 15), &r));
        assert!(segment_hits((15, 15), (16, 16), &r));
        assert!(!segment_hits((0, 0), (30, 0), &r));
        assert!(!segment_hits((0, 40), (40, 30), &r));
        assert!(segment_hits((0, 0), (30, 30), &r));
    }
}
