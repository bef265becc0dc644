//! Grouped bar charts with confidence-interval whiskers, written as PNG and SVG.
//!
//! One group per workload along the x axis, one bar per series (e.g. backend)
//! inside each group. Every bar carries a small `n=…` label (how many samples
//! stand behind it) and, when a confidence interval is known, a whisker with
//! caps, so that a reader sees at a glance how much of a difference is noise.
//!
//! Layout rules, all deterministic (same input, byte-identical output):
//! - series get Okabe–Ito colours (colour-blind safe) in order of first
//!   appearance across the groups; a group lacking a series leaves a gap in
//!   that series' slot, so the same colour is always in the same place;
//! - non-finite values are skipped (a gap), non-finite CI bounds drop the
//!   whisker only; a series repeated inside one group is drawn once (first);
//! - the y axis starts at 0 (or below, if a value is negative) and leaves
//!   headroom over the highest whisker for the `n=` labels;
//! - the canvas is at least 1200×700 px and widens with the number of bars
//!   (up to 8000 px); long group labels are wrapped onto two lines, or else
//!   rotated and truncated with an ellipsis;
//! - no groups (or no finite value at all) draws an empty chart saying
//!   "no data".
//!
//! The look (font, colours, text fitting) is [`super::style`]'s.

use std::collections::HashMap;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::hover::{hover_num, Hotspot};
use super::style::*;

/// One bar: the value of one series in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Series name (legend entry), e.g. the backend.
    pub series: String,
    /// Bar height, in the unit of the chart's y label.
    pub value: f64,
    /// Confidence interval `(low, high)` drawn as a whisker, if known.
    pub ci: Option<(f64, f64)>,
    /// Number of samples behind the value, printed above the bar.
    pub n: usize,
    /// Hover text of the bar in the SVG (a `<title>`); `None`: built from
    /// the group label, series, value, interval and n.
    pub hover: Option<String>,
}

/// One group of bars along the x axis (one workload).
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    pub label: String,
    pub bars: Vec<Bar>,
}

/// A whole chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    /// Y axis description, with its unit, e.g. `"p95 latency (ms)"`.
    pub y_label: String,
    pub groups: Vec<BarGroup>,
    /// Series (legend) order, so that facets of one chart give each series
    /// the same colour; series not named here follow in order of first
    /// appearance. Empty: order of first appearance.
    pub series: Vec<String>,
}

/// `chart` as the bytes of an RGB PNG.
pub fn png_bytes(chart: &BarChart) -> Result<Vec<u8>> {
    ensure_font()?;
    let prepared = prepare(chart);
    let layout = layout(chart, &prepared);
    super::png_canvas(layout.width, layout.height, |root| {
        draw(root, &prepared, &layout).map(|_| ())
    })
}

/// `chart` as a vector page for the PDF, drawn by the same code
/// ([`crate::render::pdf::vector`]).
pub fn vector_page(chart: &BarChart) -> Result<crate::render::pdf::vector::VectorPage> {
    ensure_font()?;
    let prepared = prepare(chart);
    let layout = layout(chart, &prepared);
    crate::render::pdf::vector::draw_page(layout.width, layout.height, |root| {
        draw(root, &prepared, &layout).map(|_| ())
    })
}

/// `chart` as an SVG document. Text stays text (escaped by plotters' SVG
/// backend) in the generic `sans-serif` family; every bar carries a
/// `<title>` (hover text, see [`super::hover`]).
pub fn svg_string(chart: &BarChart) -> Result<String> {
    ensure_font()?;
    let prepared = prepare(chart);
    let layout = layout(chart, &prepared);
    let mut spots = Vec::new();
    let svg = super::svg_canvas(layout.width, layout.height, |root| {
        spots = draw(root, &prepared, &layout)?;
        Ok(())
    })?;
    Ok(super::hover::with_titles(svg, &spots))
}

impl super::Drawing for BarChart {
    fn draw(&self, format: super::Format) -> Result<Vec<u8>> {
        match format {
            super::Format::Png => png_bytes(self),
            super::Format::Svg => svg_string(self).map(String::into_bytes),
        }
    }
}

// ---------------------------------------------------------------------------
// Data preparation

struct PBar {
    slot: usize,
    value: f64,
    ci: Option<(f64, f64)>,
    n: usize,
    hover: String,
}

struct Prepared {
    title: String,
    y_label: String,
    series: Vec<String>,
    groups: Vec<(String, Vec<PBar>)>,
    y_lo: f64,
    y_hi: f64,
    has_data: bool,
    has_ci: bool,
    has_gap: bool,
    max_n: usize,
}

fn prepare(chart: &BarChart) -> Prepared {
    let mut series: Vec<String> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for name in &chart.series {
        if !index.contains_key(name.as_str()) {
            index.insert(name.as_str(), series.len());
            series.push(clean(name));
        }
    }
    for g in &chart.groups {
        for b in &g.bars {
            if !index.contains_key(b.series.as_str()) {
                index.insert(b.series.as_str(), series.len());
                series.push(clean(&b.series));
            }
        }
    }
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    let (mut has_data, mut has_ci, mut has_gap, mut max_n) = (false, false, false, 0usize);
    let mut groups = Vec::with_capacity(chart.groups.len());
    for g in &chart.groups {
        let mut seen = vec![false; series.len()];
        let mut bars = Vec::new();
        for b in &g.bars {
            let slot = index[b.series.as_str()];
            if std::mem::replace(&mut seen[slot], true) || !b.value.is_finite() {
                continue;
            }
            let value = clamp(b.value);
            let ci =
                b.ci.filter(|(l, h)| l.is_finite() && h.is_finite())
                    .map(|(l, h)| (clamp(l.min(h)), clamp(l.max(h))));
            lo = lo.min(value);
            hi = hi.max(value);
            if let Some((l, h)) = ci {
                lo = lo.min(l);
                hi = hi.max(h);
                has_ci = true;
            }
            has_data = true;
            max_n = max_n.max(b.n);
            let hover = match &b.hover {
                Some(text) => clean(text),
                None => {
                    let interval = match ci {
                        Some((l, h)) => format!(", interval [{}, {}]", hover_num(l), hover_num(h)),
                        None => String::new(),
                    };
                    format!(
                        "{} · {}: {}{interval}, n={}",
                        clean(&g.label),
                        series[slot],
                        hover_num(value),
                        b.n
                    )
                }
            };
            bars.push(PBar {
                slot,
                value,
                ci,
                n: b.n,
                hover,
            });
        }
        has_gap |= bars.len() < series.len();
        groups.push((clean(&g.label), bars));
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let (y_lo, y_hi) = if has_data && hi > lo {
        (if lo < 0.0 { lo - 0.04 * span } else { 0.0 }, hi + 0.16 * span)
    } else {
        (0.0, 1.0)
    };
    Prepared {
        title: clean(&chart.title),
        y_label: clean(&chart.y_label),
        series,
        groups,
        y_lo,
        y_hi,
        has_data,
        has_ci,
        has_gap,
        max_n,
    }
}

// ---------------------------------------------------------------------------
// Layout (pixel sizes decided before drawing, from the data and font metrics)

const MIN_W: u32 = 1200;
const MAX_W: u32 = 8000;
const MIN_H: u32 = 700;
pub(crate) const MARGIN_L: i32 = 20;
pub(crate) const MARGIN_R: i32 = 30;
const TITLE_H: i32 = 40;
const CHART_TOP_PAD: i32 = 12;
const NOTE_H: i32 = 34;
const MIN_PLOT_H: i32 = 420;
const MAX_ROTATED_LABEL: i32 = 420;
pub(crate) const BAR_SPAN: f64 = 0.72; // share of a group's width taken by its bars

struct Layout {
    width: u32,
    height: u32,
    title: String,
    y_desc: String,
    legend_rows: Vec<Vec<LegendItem>>,
    legend_top: i32,
    chart_top: i32,
    chart_bottom: i32,
    y_area: i32,
    x_area: i32,
    labels: Vec<Vec<String>>,
    rotated: bool,
    label_stride: usize,
    n_style: NStyle,
    note: String,
}

fn layout(_chart: &BarChart, p: &Prepared) -> Layout {
    let g = p.groups.len();
    let s = p.series.len().max(1);

    // Width: about 40 px per bar, at least 110 px per group.
    let tick_w = [p.y_hi, p.y_lo, p.y_hi / 3.0, p.y_hi * 0.7]
        .iter()
        .map(|v| text_width(TICK_PX, &fmt_tick(*v, p.y_lo, p.y_hi)))
        .max()
        .unwrap_or(0)
        .min(260);
    let y_area = tick_w + 18 + 36;
    let group_px = (s as f64 * 40.0 / BAR_SPAN).max(110.0);
    let want_w = MARGIN_L + y_area + MARGIN_R + (g as f64 * group_px).ceil() as i32;
    let width = (want_w.max(0) as u32).clamp(MIN_W, MAX_W);
    let plot_w = width as i32 - MARGIN_L - MARGIN_R - y_area;
    let slot_px = if g > 0 { plot_w as f64 / g as f64 } else { plot_w as f64 };

    // Group labels: one line, two lines, or rotated + truncated.
    let avail = (slot_px - 10.0).floor() as i32;
    let mut labels = Vec::with_capacity(g);
    let mut horizontal = true;
    for (label, _) in &p.groups {
        match fit_horizontal(label, avail) {
            Some(lines) => labels.push(lines),
            None => {
                horizontal = false;
                break;
            }
        }
    }
    let (rotated, x_area, label_stride) = if horizontal {
        let lines = labels.iter().map(Vec::len).max().unwrap_or(1) as i32;
        (false, 14 + lines * CATEGORY_LINE_H + 6, 1)
    } else {
        labels = p
            .groups
            .iter()
            .map(|(l, _)| vec![truncate_to(GROUP_PX, l, MAX_ROTATED_LABEL)])
            .collect();
        let longest = labels.iter().map(|l| text_width(GROUP_PX, &l[0])).max().unwrap_or(0);
        let stride = ((CATEGORY_LINE_H as f64 / slot_px.max(1.0)).ceil() as usize).max(1);
        (true, 16 + longest + 8, stride)
    };

    // Legend: swatch + name, wrapped into centred rows.
    let legend_avail = width as i32 - 2 * 40;
    let mut legend_rows: Vec<Vec<LegendItem>> = Vec::new();
    let mut row: Vec<LegendItem> = Vec::new();
    let mut row_w = 0;
    for (slot, name) in p.series.iter().enumerate() {
        let text = truncate_to(LEGEND_PX, name, 360);
        let item_w = legend_item_width(&text, false);
        let gap = if row.is_empty() { 0 } else { LEGEND_GAP };
        if !row.is_empty() && row_w + gap + item_w > legend_avail {
            legend_rows.push(std::mem::take(&mut row));
            row_w = 0;
        }
        let gap = if row.is_empty() { 0 } else { LEGEND_GAP };
        row.push(LegendItem {
            text,
            slot,
            line: false,
            x: row_w + gap,
        });
        row_w += gap + item_w;
    }
    if !row.is_empty() {
        legend_rows.push(row);
    }
    for row in &mut legend_rows {
        let last = row.last().map(|i| i.x + legend_item_width(&i.text, false)).unwrap_or(0);
        let start = (width as i32 - last) / 2;
        for item in row.iter_mut() {
            item.x += start;
        }
    }

    let legend_top = TOP_PAD + TITLE_H;
    let chart_top = legend_top + legend_rows.len() as i32 * LEGEND_ROW_H + CHART_TOP_PAD;
    let height = (chart_top + MIN_PLOT_H + x_area + NOTE_H).max(MIN_H as i32) as u32;
    let chart_bottom = height as i32 - NOTE_H;

    // `n=` labels: only as wide as a bar (plus a little of the gap).
    let bar_px = slot_px * BAR_SPAN / s as f64;
    let n_style = if !p.has_data {
        NStyle::Hidden
    } else if text_width(N_PX, &format!("n={}", p.max_n)) as f64 <= bar_px - 2.0 {
        NStyle::Full
    } else if text_width(N_PX, &p.max_n.to_string()) as f64 <= bar_px - 2.0 {
        NStyle::Bare
    } else {
        NStyle::Hidden
    };

    let mut note = Vec::new();
    if p.has_ci {
        note.push("whiskers: confidence interval".to_string());
    }
    match n_style {
        NStyle::Full => note.push("n = samples behind each bar".to_string()),
        NStyle::Bare => note.push("number above each bar = samples (n)".to_string()),
        NStyle::Hidden if p.has_data => note.push("samples per bar not shown (bars too narrow)".to_string()),
        NStyle::Hidden => {}
    }
    if p.has_gap && p.has_data {
        note.push("gap = no value for that series".to_string());
    }
    if rotated && label_stride > 1 {
        note.push(format!("every {label_stride}th group labelled"));
    }

    let plot_h = chart_bottom - chart_top - CHART_TOP_PAD - x_area;
    Layout {
        width,
        height,
        title: truncate_to(TITLE_PX, &p.title, width as i32 - 2 * MARGIN_L),
        y_desc: truncate_to(AXIS_DESC_PX, &p.y_label, plot_h.max(40)),
        legend_rows,
        legend_top,
        chart_top,
        chart_bottom,
        y_area,
        x_area,
        labels,
        rotated,
        label_stride,
        n_style,
        note: truncate_to(NOTE_PX, &note.join("    ·    "), width as i32 - 2 * MARGIN_L),
    }
}

const LEGEND_GAP: i32 = 28;

// ---------------------------------------------------------------------------
// Drawing (generic over the PNG and SVG backends)

/// Draws the chart; returns the bars' hover boxes (for the SVG's `<title>`s).
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, p: &Prepared, l: &Layout) -> Result<Vec<Hotspot>> {
    root.fill(&WHITE).map_err(plot_err)?;
    let mut spots = Vec::new();

    // Title and legend.
    draw_title_and_legend(
        root,
        &l.title,
        l.width,
        &l.legend_rows,
        l.legend_top,
        |_, _, _, _, _| Ok(()),
    )?;

    // Axes and grid.
    let area = root.clone().shrink(
        (0, l.chart_top),
        (l.width, (l.chart_bottom - l.chart_top).max(1) as u32),
    );
    let g = p.groups.len().max(1) as f64;
    let (y_lo, y_hi) = (p.y_lo, p.y_hi);
    let mut chart = ChartBuilder::on(&area)
        .margin_top(CHART_TOP_PAD)
        .margin_left(MARGIN_L)
        .margin_right(MARGIN_R)
        .x_label_area_size(l.x_area)
        .y_label_area_size(l.y_area)
        .build_cartesian_2d(0f64..g, y_lo..y_hi)
        .map_err(plot_err)?;
    let tick_fmt = |v: &f64| fmt_tick(*v, y_lo, y_hi);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&tick_fmt)
        .y_desc(l.y_desc.as_str())
        .axis_desc_style(style(AXIS_DESC_PX, INK, HPos::Center, VPos::Center))
        .label_style(style(TICK_PX, SOFT_INK, HPos::Center, VPos::Center))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(SOFT_INK.stroke_width(1))
        .draw()
        .map_err(plot_err)?;
    if y_lo < 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (g, 0.0)],
                SOFT_INK.stroke_width(1),
            )))
            .map_err(plot_err)?;
    }

    // Bars, whiskers, n labels.
    let sw = BAR_SPAN / p.series.len().max(1) as f64;
    for (gi, (_, bars)) in p.groups.iter().enumerate() {
        for b in bars {
            let left = gi as f64 + (1.0 - BAR_SPAN) / 2.0 + b.slot as f64 * sw;
            let (x0, x1) = (left + sw * 0.06, left + sw * 0.94);
            let xc = (x0 + x1) / 2.0;
            let c = series_color(b.slot);
            chart
                .draw_series([
                    Rectangle::new([(x0, 0.0), (x1, b.value)], c.filled()),
                    Rectangle::new([(x0, 0.0), (x1, b.value)], darker(c).stroke_width(1)),
                ])
                .map_err(plot_err)?;
            let mut top = b.value.max(0.0);
            if let Some((lo, hi)) = b.ci {
                let cap = sw * 0.2;
                let w = WHISKER.stroke_width(2);
                chart
                    .draw_series([
                        PathElement::new(vec![(xc, lo), (xc, hi)], w),
                        PathElement::new(vec![(xc - cap, hi), (xc + cap, hi)], w),
                        PathElement::new(vec![(xc - cap, lo), (xc + cap, lo)], w),
                    ])
                    .map_err(plot_err)?;
                top = top.max(hi);
            }
            let bottom = b.value.min(0.0).min(b.ci.map_or(0.0, |c| c.0));
            spots.push(Hotspot::spanning(
                chart.backend_coord(&(x0, top)),
                chart.backend_coord(&(x1, bottom)),
                b.hover.clone(),
            ));
            let Some(text) = l.n_style.label(b.n) else { continue };
            let (px, py) = chart.backend_coord(&(xc, top));
            root.draw_text(&text, &style(N_PX, SOFT_INK, HPos::Center, VPos::Bottom), (px, py - 5))
                .map_err(plot_err)?;
        }
    }

    // Group labels under the x axis.
    let axis_y = chart.backend_coord(&(0.0, y_lo)).1;
    for (gi, lines) in l.labels.iter().enumerate() {
        if gi % l.label_stride != 0 {
            continue;
        }
        let cx = chart.backend_coord(&(gi as f64 + 0.5, y_lo)).0;
        root.draw(&PathElement::new(
            vec![(cx, axis_y), (cx, axis_y + 5)],
            SOFT_INK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        draw_category_label(root, lines, l.rotated, (cx, axis_y + 14))?;
    }

    if !p.has_data {
        let (x0, y0) = chart.backend_coord(&(0.0, y_hi));
        let (x1, y1) = chart.backend_coord(&(g, y_lo));
        root.draw_text(
            "no data",
            &style(NO_DATA_PX, SOFT_INK, HPos::Center, VPos::Center),
            ((x0 + x1) / 2, (y0 + y1) / 2),
        )
        .map_err(plot_err)?;
    }

    // Footnote.
    if !l.note.is_empty() {
        root.draw_text(
            &l.note,
            &style(NOTE_PX, SOFT_INK, HPos::Left, VPos::Center),
            (MARGIN_L, l.chart_bottom + NOTE_H / 2),
        )
        .map_err(plot_err)?;
    }
    Ok(spots)
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn test_png(chart: &BarChart, path: &Path) -> Result<()> {
        Ok(std::fs::write(path, png_bytes(chart)?)?)
    }

    fn test_svg(chart: &BarChart, path: &Path) -> Result<()> {
        Ok(std::fs::write(path, svg_string(chart)?)?)
    }
    use crate::render::test_support::{assert_well_formed_xml, decode, has_colour, pixels, Png};
    use std::collections::HashSet;

    fn bar(series: &str, value: f64, ci: Option<(f64, f64)>, n: usize) -> Bar {
        Bar {
            series: series.to_string(),
            value,
            ci,
            n,
            hover: None,
        }
    }

    fn two_backends() -> BarChart {
        let mk = |label: &str, s: f64, r: f64| BarGroup {
            label: label.to_string(),
            bars: vec![
                bar("sage", s, Some((s * 0.93, s * 1.08)), 10),
                bar("ray", r, Some((r * 0.9, r * 1.12)), 10),
            ],
        };
        BarChart {
            series: vec![],
            title: "Throughput by workload (higher is better)".to_string(),
            y_label: "throughput (records/s)".to_string(),
            groups: vec![
                mk("wordcount/1GB", 182_000.0, 141_500.0),
                mk("join/stream-stream/8 workers", 96_300.0, 101_200.0),
                mk("windowed-aggregate", 240_800.0, 150_100.0),
            ],
        }
    }

    fn four_series() -> BarChart {
        let mk = |label: &str, base: f64, missing_ray99: bool| {
            let mut bars = vec![
                bar("sage p95", base, Some((base * 0.95, base * 1.06)), 30),
                bar("sage p99", base * 1.7, Some((base * 1.5, base * 1.95)), 30),
                bar("ray p95", base * 1.3, Some((base * 1.2, base * 1.4)), 28),
            ];
            if !missing_ray99 {
                bars.push(bar("ray p99", base * 2.4, Some((base * 2.0, base * 2.9)), 28));
            }
            BarGroup {
                label: label.to_string(),
                bars,
            }
        };
        BarChart {
            series: vec![],
            title: "Tail latency".to_string(),
            y_label: "latency (ms)".to_string(),
            groups: vec![
                mk("wordcount", 12.5, false),
                mk(
                    "a very long workload label that certainly does not fit under its group",
                    31.0,
                    false,
                ),
                mk("pipeline/map-filter-reduce/16 workers", 7.2, true),
                mk("kv-store <script>&\"", 18.9, false),
            ],
        }
    }

    fn assert_not_blank(png: &Png) {
        let colours: HashSet<[u8; 3]> = pixels(png).collect();
        assert!(colours.len() >= 3, "only {} colours", colours.len());
        let inked = pixels(png).filter(|p| *p != [255, 255, 255]).count();
        let share = inked as f64 / (png.w as f64 * png.h as f64);
        assert!(share > 0.04, "only {:.1}% non-background pixels", share * 100.0);
    }

    #[test]
    fn realistic_two_backend_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        test_png(&two_backends(), &path).unwrap();
        let png = decode(&path);
        assert_eq!((png.w, png.h), (1200, 700));
        assert_not_blank(&png);
        assert!(has_colour(&png, PALETTE[0]), "first series colour missing");
        assert!(has_colour(&png, PALETTE[1]), "second series colour missing");
    }

    #[test]
    fn four_series_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let chart = four_series();
        let png_path = dir.path().join("c.png");
        test_png(&chart, &png_path).unwrap();
        let png = decode(&png_path);
        assert!(png.w >= 1200 && png.h >= 700);
        assert_not_blank(&png);
        for c in &PALETTE[..4] {
            assert!(has_colour(&png, *c), "series colour {c:?} missing");
        }
        if let Ok(dest) = std::env::var("SAGEREPORT_CHART_SAMPLE") {
            std::fs::copy(&png_path, dest).unwrap();
        }

        let svg_path = dir.path().join("c.svg");
        test_svg(&chart, &svg_path).unwrap();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        if let Ok(dest) = std::env::var("SAGEREPORT_CHART_SAMPLE") {
            std::fs::write(format!("{dest}.svg"), &svg).unwrap();
        }
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Tail latency"));
        assert!(svg.contains("latency (ms)"));
        for s in ["sage p95", "sage p99", "ray p95", "ray p99"] {
            assert!(svg.contains(&format!("\n{s}\n</text>")), "legend entry {s} missing");
        }
        assert!(svg.contains("n=30"));
        assert!(svg.contains("&lt;script&gt;&amp;&quot;"), "label not escaped");
        assert!(!svg.contains("<script"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn svg_escapes_hostile_title_and_series() {
        let dir = tempfile::tempdir().unwrap();
        let chart = BarChart {
            series: vec![],
            title: "<script>&\"".to_string(),
            y_label: "ms & <b>".to_string(),
            groups: vec![BarGroup {
                label: "x\u{1}y\nz".to_string(),
                bars: vec![bar("</text><script>", 1.0, None, 3)],
            }],
        };
        let path = dir.path().join("c.svg");
        test_svg(&chart, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("&lt;script&gt;&amp;&quot;"));
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;"));
        assert!(!svg.contains('\u{1}'));
        assert!(!svg.contains("<script") && !svg.contains("<b>"));
        assert_well_formed_xml(&svg);
        test_png(&chart, &dir.path().join("c.png")).unwrap();
    }

    #[test]
    fn deterministic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for (i, chart) in [two_backends(), four_series()].iter().enumerate() {
            let (a, b) = (
                dir.path().join(format!("a{i}.png")),
                dir.path().join(format!("b{i}.png")),
            );
            test_png(chart, &a).unwrap();
            test_png(chart, &b).unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            let (a, b) = (
                dir.path().join(format!("a{i}.svg")),
                dir.path().join(format!("b{i}.svg")),
            );
            test_svg(chart, &a).unwrap();
            test_svg(chart, &b).unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        }
    }

    #[test]
    fn empty_chart_says_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let chart = BarChart {
            title: "Nothing yet".into(),
            y_label: "ms".into(),
            groups: vec![],
            series: vec![],
        };
        let png_path = dir.path().join("e.png");
        test_png(&chart, &png_path).unwrap();
        let png = decode(&png_path);
        assert_eq!((png.w, png.h), (1200, 700));
        let colours: HashSet<[u8; 3]> = pixels(&png).collect();
        assert!(colours.len() >= 3);
        let svg_path = dir.path().join("e.svg");
        test_svg(&chart, &svg_path).unwrap();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(svg.contains("no data") && svg.contains("Nothing yet"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn edge_values_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let charts = [
            // Only non-finite values: "no data" with group labels.
            BarChart {
                series: vec![],
                title: "nan".into(),
                y_label: "x".into(),
                groups: vec![BarGroup {
                    label: "g".into(),
                    bars: vec![
                        bar("a", f64::NAN, Some((f64::NAN, 1.0)), 0),
                        bar("b", f64::INFINITY, None, 1),
                    ],
                }],
            },
            // Negative, huge, zero, reversed and half-infinite CIs, duplicates, empty groups.
            BarChart {
                series: vec![],
                title: String::new(),
                y_label: String::new(),
                groups: vec![
                    BarGroup {
                        label: String::new(),
                        bars: vec![],
                    },
                    BarGroup {
                        label: "mixed".into(),
                        bars: vec![
                            bar("a", -5.0, Some((-7.0, -3.0)), 2),
                            bar("a", 99.0, None, 2),
                            bar("b", 1e308, Some((f64::MAX, 1e307)), usize::MAX),
                            bar("c", 0.0, Some((2.0, -1.0)), 1),
                            bar("d", 3.0, Some((1.0, f64::INFINITY)), 1),
                        ],
                    },
                ],
            },
            // All zeros.
            BarChart {
                title: "zeros".into(),
                y_label: "ms".into(),
                groups: vec![BarGroup {
                    label: "z".into(),
                    bars: vec![bar("a", 0.0, Some((0.0, 0.0)), 5)],
                }],
                series: vec![],
            },
        ];
        for (i, chart) in charts.iter().enumerate() {
            test_png(chart, &dir.path().join(format!("{i}.png"))).unwrap();
            let svg_path = dir.path().join(format!("{i}.svg"));
            test_svg(chart, &svg_path).unwrap();
            assert_well_formed_xml(&std::fs::read_to_string(&svg_path).unwrap());
        }
        let svg = std::fs::read_to_string(dir.path().join("0.svg")).unwrap();
        assert!(svg.contains("no data"));
    }

    #[test]
    fn many_groups_widen_the_canvas() {
        let dir = tempfile::tempdir().unwrap();
        let series = [
            "sage", "ray", "flink", "spark", "dask", "beam", "storm", "heron", "samza",
        ];
        let groups = (0..60)
            .map(|g| BarGroup {
                label: format!("workload-{g:02}-with-a-longish-name"),
                bars: series
                    .iter()
                    .enumerate()
                    .map(|(s, name)| bar(name, (g * 7 + s * 13) as f64 % 50.0 + 1.0, Some((0.5, 60.0)), 1000))
                    .collect(),
            })
            .collect();
        let chart = BarChart {
            title: "wide".into(),
            y_label: "s".into(),
            groups,
            series: vec![],
        };
        let path = dir.path().join("w.png");
        test_png(&chart, &path).unwrap();
        let png = decode(&path);
        assert_eq!(png.w, MAX_W);
        assert!(png.h >= 700);
        assert_not_blank(&png);
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/c.png");
        assert!(test_png(&two_backends(), &missing).is_err());
        assert!(test_svg(&two_backends(), &missing.with_extension("svg")).is_err());
    }

    #[test]
    fn bar_titles_default_to_the_numbers() {
        let svg = svg_string(&two_backends()).unwrap();
        assert_eq!(svg.matches("<title>").count(), 6);
        assert!(
            svg.contains("<title>wordcount/1GB · sage: 182000, interval [169260, 196560], n=10</title>"),
            "{svg}"
        );
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn tick_labels_are_compact() {
        assert_eq!(fmt_tick(0.0, 0.0, 300_000.0), "0");
        assert_eq!(fmt_tick(50_000.0, 0.0, 300_000.0), "50k");
        assert_eq!(fmt_tick(0.25, 0.0, 1.2), "0.25");
        assert_eq!(fmt_tick(2_500_000.0, 0.0, 12_000_000.0), "2.5M");
        assert_eq!(fmt_tick(40.0, 0.0, 120.0), "40");
    }
}
