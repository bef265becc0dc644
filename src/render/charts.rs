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
//! # Font
//!
//! Text is rasterised in-process by plotters' `ab_glyph` feature from a font
//! embedded in the binary, so neither the build nor the run needs system
//! fonts or fontconfig. The font is DejaVu Sans 2.37, as shipped by Debian's
//! `fonts-dejavu-core` (`site/fonts/DejaVuSans.ttf`; licence: Bitstream Vera
//! terms, DejaVu changes public domain, see `site/fonts/DejaVuSans-LICENSE.txt`).
//! It is also the PDF report's sans face (typst-assets ships only serif
//! text faces and a mono one).
//! The SVG output only names the family `sans-serif`;
//! viewers use their own sans font, the layout (measured with DejaVu Sans)
//! leaves enough slack for that.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontDesc, FontFamily, FontStyle, FontTransform};

use super::svg_hover::{hover_num, Hotspot};

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

/// Render `chart` as an RGB PNG at `path` (the extension is not looked at).
pub fn render_png(chart: &BarChart, path: &Path) -> Result<()> {
    let bytes = png_bytes(chart)?;
    std::fs::write(path, bytes).with_context(|| format!("writing chart PNG {}", path.display()))
}

/// `chart` as the bytes of an RGB PNG.
pub fn png_bytes(chart: &BarChart) -> Result<Vec<u8>> {
    ensure_font()?;
    let prepared = prepare(chart);
    let layout = layout(chart, &prepared);
    let (w, h) = (layout.width, layout.height);
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root, &prepared, &layout)?;
        root.present().map_err(plot_err)?;
    }
    encode_png_bytes(&buf, w, h)
}

/// Write an RGB8 pixel buffer (`w`×`h`, row-major) as a PNG at `path`;
/// deterministic (no timestamps or other metadata).
pub(crate) fn encode_png(buf: &[u8], w: u32, h: u32, path: &Path) -> Result<()> {
    let bytes = encode_png_bytes(buf, w, h)?;
    std::fs::write(path, bytes).with_context(|| format!("writing chart PNG {}", path.display()))
}

/// An RGB8 pixel buffer (`w`×`h`, row-major) as PNG bytes; deterministic
/// (no timestamps or other metadata).
pub(crate) fn encode_png_bytes(buf: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Flat-colour charts compress well even at the fast level; deterministic either way.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().context("encoding chart PNG")?;
    writer.write_image_data(buf).context("encoding chart PNG")?;
    writer.finish().context("encoding chart PNG")?;
    Ok(out)
}

/// Render `chart` as an SVG document at `path`. Text stays text (escaped by
/// plotters' SVG backend) in the generic `sans-serif` family; every bar
/// carries a `<title>` (hover text, see [`super::svg_hover`]).
pub fn render_svg(chart: &BarChart, path: &Path) -> Result<()> {
    let svg = svg_string(chart)?;
    std::fs::write(path, svg).with_context(|| format!("writing chart SVG {}", path.display()))
}

/// `chart` as an SVG document (see [`render_svg`]).
pub fn svg_string(chart: &BarChart) -> Result<String> {
    ensure_font()?;
    let prepared = prepare(chart);
    let layout = layout(chart, &prepared);
    let mut svg = String::new();
    let spots;
    {
        let root = SVGBackend::with_string(&mut svg, (layout.width, layout.height))
            .into_drawing_area();
        spots = draw(&root, &prepared, &layout)?;
        root.present().map_err(plot_err)?;
    }
    Ok(super::svg_hover::with_titles(svg, &spots))
}

// ---------------------------------------------------------------------------
// Font

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../site/fonts/DejaVuSans.ttf");

/// Register the embedded font with plotters once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded chart font could not be parsed"))
    }
}

pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing chart: {e}")
}

pub(crate) const TITLE_PX: f64 = 28.0;
pub(crate) const AXIS_DESC_PX: f64 = 19.0;
pub(crate) const TICK_PX: f64 = 16.0;
pub(crate) const LEGEND_PX: f64 = 17.0;
pub(crate) const GROUP_PX: f64 = 16.0;
pub(crate) const N_PX: f64 = 13.0;
pub(crate) const NOTE_PX: f64 = 14.0;
pub(crate) const NO_DATA_PX: f64 = 26.0;

pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

pub(crate) fn style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: font(size),
        color: color.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Advance width of `text` in pixels at `size` with the embedded font.
pub(crate) fn text_width(size: f64, text: &str) -> i32 {
    match font(size).box_size(text) {
        Ok((w, _)) => w as i32,
        Err(_) => (text.chars().count() as f64 * size * 0.6).ceil() as i32,
    }
}

/// `text` itself if it fits in `max_px`, else the longest head … tail cut
/// that does: the tail is where variants (`scheduler=fifo`) differ.
pub(crate) fn truncate_to(size: f64, text: &str, max_px: i32) -> String {
    if text_width(size, text) <= max_px {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let candidate = |k: usize| -> String {
        let head = k * 2 / 5;
        let mut s: String = chars[..head].iter().collect::<String>().trim_end().to_string();
        s.push('…');
        s.extend(chars[chars.len() - (k - head)..].iter());
        s
    };
    // Largest k in 0..len whose candidate fits (width grows with k).
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if text_width(size, &candidate(mid)) <= max_px {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    candidate(lo)
}

/// Labels come from result files: keep them on one line and free of control
/// characters (which XML cannot carry, escaped or not).
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

// ---------------------------------------------------------------------------
// Data preparation

/// Okabe–Ito palette (Okabe & Ito 2008), ordered so the first colours are the
/// most distinct on white; yellow and black come last.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

pub(crate) fn series_color(slot: usize) -> RGBColor {
    PALETTE[slot % PALETTE.len()]
}

pub(crate) fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.6).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const SOFT_INK: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(crate) const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
pub(crate) const WHISKER: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);

/// Values beyond this are clamped so spans never overflow to infinity.
const MAX_ABS: f64 = 1e300;

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
    let clamp = |v: f64| v.clamp(-MAX_ABS, MAX_ABS);
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
            let ci = b
                .ci
                .filter(|(l, h)| l.is_finite() && h.is_finite())
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
                    format!("{} · {}: {}{interval}, n={}", clean(&g.label), series[slot], hover_num(value), b.n)
                }
            };
            bars.push(PBar { slot, value, ci, n: b.n, hover });
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

/// Tick label: plain decimals, or k/M/G for large magnitudes (one suffix for
/// the whole axis), scientific beyond that.
pub(crate) fn fmt_tick(v: f64, lo: f64, hi: f64) -> String {
    let mag = lo.abs().max(hi.abs());
    if mag >= 1e15 {
        return if v == 0.0 { "0".to_string() } else { format!("{v:.2e}") };
    }
    let (div, suffix) = if mag >= 1e10 {
        (1e9, "G")
    } else if mag >= 1e7 {
        (1e6, "M")
    } else if mag >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let step = (hi - lo) / div / 50.0;
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    } else {
        0
    };
    let mut s = format!("{:.*}", decimals, v / div);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".to_string();
    }
    if s != "0" {
        s.push_str(suffix);
    }
    s
}

// ---------------------------------------------------------------------------
// Layout (pixel sizes decided before drawing, from the data and font metrics)

const MIN_W: u32 = 1200;
const MAX_W: u32 = 8000;
const MIN_H: u32 = 700;
const MARGIN_L: i32 = 20;
const MARGIN_R: i32 = 30;
const TOP_PAD: i32 = 16;
const TITLE_H: i32 = 40;
const LEGEND_ROW_H: i32 = 30;
const CHART_TOP_PAD: i32 = 12;
const NOTE_H: i32 = 34;
const MIN_PLOT_H: i32 = 420;
const GROUP_LINE_H: i32 = 20;
const MAX_ROTATED_LABEL: i32 = 420;
const BAR_SPAN: f64 = 0.72; // share of a group's width taken by its bars

#[derive(Clone, Copy, PartialEq)]
enum NStyle {
    Full,
    Bare,
    Hidden,
}

struct LegendItem {
    text: String,
    slot: usize,
    x: i32,
}

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
        (false, 14 + lines * GROUP_LINE_H + 6, 1)
    } else {
        labels = p
            .groups
            .iter()
            .map(|(l, _)| vec![truncate_to(GROUP_PX, l, MAX_ROTATED_LABEL)])
            .collect();
        let longest = labels.iter().map(|l| text_width(GROUP_PX, &l[0])).max().unwrap_or(0);
        let stride = ((GROUP_LINE_H as f64 / slot_px.max(1.0)).ceil() as usize).max(1);
        (true, 16 + longest + 8, stride)
    };

    // Legend: swatch + name, wrapped into centred rows.
    let legend_avail = width as i32 - 2 * 40;
    let mut legend_rows: Vec<Vec<LegendItem>> = Vec::new();
    let mut row: Vec<LegendItem> = Vec::new();
    let mut row_w = 0;
    for (slot, name) in p.series.iter().enumerate() {
        let text = truncate_to(LEGEND_PX, name, 360);
        let item_w = legend_item_width(&text);
        let gap = if row.is_empty() { 0 } else { LEGEND_GAP };
        if !row.is_empty() && row_w + gap + item_w > legend_avail {
            legend_rows.push(std::mem::take(&mut row));
            row_w = 0;
        }
        let gap = if row.is_empty() { 0 } else { LEGEND_GAP };
        row.push(LegendItem { text, slot, x: row_w + gap });
        row_w += gap + item_w;
    }
    if !row.is_empty() {
        legend_rows.push(row);
    }
    for row in &mut legend_rows {
        let last = row.last().map(|i| i.x + legend_item_width(&i.text)).unwrap_or(0);
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
        NStyle::Hidden if p.has_data => {
            note.push("samples per bar not shown (bars too narrow)".to_string())
        }
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

const SWATCH: i32 = 16;
const LEGEND_GAP: i32 = 28;

fn legend_item_width(text: &str) -> i32 {
    SWATCH + 8 + text_width(LEGEND_PX, text)
}

/// The label on one line, or split in two at a separator, if that fits.
fn fit_horizontal(label: &str, avail: i32) -> Option<Vec<String>> {
    if text_width(GROUP_PX, label) <= avail {
        return Some(vec![label.to_string()]);
    }
    let chars: Vec<(usize, char)> = label.char_indices().collect();
    let mut best: Option<(i32, String, String)> = None;
    for &(i, c) in &chars {
        if !matches!(c, ' ' | '/' | '-' | '_' | ':' | ',' | '.' | '=' | '+' | '|') {
            continue;
        }
        let cut = i + c.len_utf8();
        let (a, b) = if c == ' ' {
            (label[..i].trim_end(), label[cut..].trim_start())
        } else {
            (&label[..cut], label[cut..].trim_start())
        };
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let worst = text_width(GROUP_PX, a).max(text_width(GROUP_PX, b));
        if worst <= avail && best.as_ref().map_or(true, |(w, _, _)| worst < *w) {
            best = Some((worst, a.to_string(), b.to_string()));
        }
    }
    best.map(|(_, a, b)| vec![a, b])
}

// ---------------------------------------------------------------------------
// Drawing (generic over the PNG and SVG backends)

/// Draws the chart; returns the bars' hover boxes (for the SVG's `<title>`s).
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, p: &Prepared, l: &Layout) -> Result<Vec<Hotspot>> {
    root.fill(&WHITE).map_err(plot_err)?;
    let mut spots = Vec::new();
    let width = l.width as i32;

    // Title.
    root.draw_text(
        &l.title,
        &style(TITLE_PX, INK, HPos::Center, VPos::Top),
        (width / 2, TOP_PAD),
    )
    .map_err(plot_err)?;

    // Legend.
    for (r, row) in l.legend_rows.iter().enumerate() {
        let cy = l.legend_top + r as i32 * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        for item in row {
            let c = series_color(item.slot);
            let (x0, y0) = (item.x, cy - SWATCH / 2);
            root.draw(&Rectangle::new([(x0, y0), (x0 + SWATCH, y0 + SWATCH)], c.filled()))
                .map_err(plot_err)?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + SWATCH, y0 + SWATCH)],
                darker(c).stroke_width(1),
            ))
            .map_err(plot_err)?;
            root.draw_text(
                &item.text,
                &style(LEGEND_PX, INK, HPos::Left, VPos::Center),
                (x0 + SWATCH + 8, cy),
            )
            .map_err(plot_err)?;
        }
    }

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
            let text = match l.n_style {
                NStyle::Full => format!("n={}", b.n),
                NStyle::Bare => b.n.to_string(),
                NStyle::Hidden => continue,
            };
            let (px, py) = chart.backend_coord(&(xc, top));
            root.draw_text(
                &text,
                &style(N_PX, SOFT_INK, HPos::Center, VPos::Bottom),
                (px, py - 5),
            )
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
        root.draw(&PathElement::new(vec![(cx, axis_y), (cx, axis_y + 5)], SOFT_INK.stroke_width(1)))
            .map_err(plot_err)?;
        if l.rotated {
            root.draw_text(
                &lines[0],
                &style(GROUP_PX, INK, HPos::Right, VPos::Center).transform(FontTransform::Rotate270),
                (cx, axis_y + 14),
            )
            .map_err(plot_err)?;
        } else {
            for (li, line) in lines.iter().enumerate() {
                root.draw_text(
                    line,
                    &style(GROUP_PX, INK, HPos::Center, VPos::Top),
                    (cx, axis_y + 14 + li as i32 * GROUP_LINE_H),
                )
                .map_err(plot_err)?;
            }
        }
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
    use crate::render::test_support::{assert_well_formed_xml, decode, has_colour, pixels, Png};
    use std::collections::HashSet;

    fn bar(series: &str, value: f64, ci: Option<(f64, f64)>, n: usize) -> Bar {
        Bar { series: series.to_string(), value, ci, n, hover: None }
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
            BarGroup { label: label.to_string(), bars }
        };
        BarChart {
            series: vec![],
            title: "Tail latency".to_string(),
            y_label: "latency (ms)".to_string(),
            groups: vec![
                mk("wordcount", 12.5, false),
                mk("a very long workload label that certainly does not fit under its group", 31.0, false),
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
        render_png(&two_backends(), &path).unwrap();
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
        render_png(&chart, &png_path).unwrap();
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
        render_svg(&chart, &svg_path).unwrap();
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
        render_svg(&chart, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("&lt;script&gt;&amp;&quot;"));
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;"));
        assert!(!svg.contains('\u{1}'));
        assert!(!svg.contains("<script") && !svg.contains("<b>"));
        assert_well_formed_xml(&svg);
        render_png(&chart, &dir.path().join("c.png")).unwrap();
    }

    #[test]
    fn deterministic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for (i, chart) in [two_backends(), four_series()].iter().enumerate() {
            let (a, b) = (dir.path().join(format!("a{i}.png")), dir.path().join(format!("b{i}.png")));
            render_png(chart, &a).unwrap();
            render_png(chart, &b).unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            let (a, b) = (dir.path().join(format!("a{i}.svg")), dir.path().join(format!("b{i}.svg")));
            render_svg(chart, &a).unwrap();
            render_svg(chart, &b).unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        }
    }

    #[test]
    fn empty_chart_says_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let chart = BarChart { title: "Nothing yet".into(), y_label: "ms".into(), groups: vec![], series: vec![] };
        let png_path = dir.path().join("e.png");
        render_png(&chart, &png_path).unwrap();
        let png = decode(&png_path);
        assert_eq!((png.w, png.h), (1200, 700));
        let colours: HashSet<[u8; 3]> = pixels(&png).collect();
        assert!(colours.len() >= 3);
        let svg_path = dir.path().join("e.svg");
        render_svg(&chart, &svg_path).unwrap();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(svg.contains("no data") && svg.contains("Nothing yet"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn edge_values_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let charts = vec![
            // Only non-finite values: "no data" with group labels.
            BarChart {
                series: vec![],
                title: "nan".into(),
                y_label: "x".into(),
                groups: vec![BarGroup {
                    label: "g".into(),
                    bars: vec![bar("a", f64::NAN, Some((f64::NAN, 1.0)), 0), bar("b", f64::INFINITY, None, 1)],
                }],
            },
            // Negative, huge, zero, reversed and half-infinite CIs, duplicates, empty groups.
            BarChart {
                series: vec![],
                title: String::new(),
                y_label: String::new(),
                groups: vec![
                    BarGroup { label: String::new(), bars: vec![] },
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
                groups: vec![BarGroup { label: "z".into(), bars: vec![bar("a", 0.0, Some((0.0, 0.0)), 5)] }],
                series: vec![],
            },
        ];
        for (i, chart) in charts.iter().enumerate() {
            render_png(chart, &dir.path().join(format!("{i}.png"))).unwrap();
            let svg_path = dir.path().join(format!("{i}.svg"));
            render_svg(chart, &svg_path).unwrap();
            assert_well_formed_xml(&std::fs::read_to_string(&svg_path).unwrap());
        }
        let svg = std::fs::read_to_string(dir.path().join("0.svg")).unwrap();
        assert!(svg.contains("no data"));
    }

    #[test]
    fn many_groups_widen_the_canvas() {
        let dir = tempfile::tempdir().unwrap();
        let series = ["sage", "ray", "flink", "spark", "dask", "beam", "storm", "heron", "samza"];
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
        let chart = BarChart { title: "wide".into(), y_label: "s".into(), groups, series: vec![] };
        let path = dir.path().join("w.png");
        render_png(&chart, &path).unwrap();
        let png = decode(&path);
        assert_eq!(png.w, MAX_W);
        assert!(png.h >= 700);
        assert_not_blank(&png);
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/c.png");
        assert!(render_png(&two_backends(), &missing).is_err());
        assert!(render_svg(&two_backends(), &missing.with_extension("svg")).is_err());
    }

    #[test]
    fn families_are_the_name_up_to_the_first_underscore_or_digit() {
        assert_eq!(workload_family("Q3_victim"), "Q");
        assert_eq!(workload_family("Q12"), "Q");
        assert_eq!(workload_family("concurrency_rag_4"), "concurrency");
        assert_eq!(workload_family("job0_rag"), "job");
        assert_eq!(workload_family("node_scaling_rag_16n"), "node");
        assert_eq!(workload_family("wordcount"), "wordcount");
        assert_eq!(workload_family("7up"), "");
        assert_eq!(family_slug("Q"), "q");
        assert_eq!(family_slug("a <&> b"), "a-b");
        assert_eq!(family_slug("<>"), "other");
    }

    #[test]
    fn facets_fit_the_width_and_hold_every_group_once() {
        assert_eq!(groups_per_figure(2), 14);
        assert_eq!(groups_per_figure(4), 7);
        let names: Vec<String> = (1..=20)
            .map(|i| format!("Q{i}"))
            .chain((1..=3).map(|i| format!("concurrency_{i}")))
            .chain(["wordcount".to_string(), "join".to_string()])
            .chain(["q_lower".to_string(), "q_lower2".to_string()])
            .collect();
        let groups: Vec<BarGroup> = names
            .iter()
            .enumerate()
            .map(|(i, n)| BarGroup {
                label: n.clone(),
                bars: vec![bar("a", 1.0 + i as f64, None, 3), bar("b", 2.0, Some((1.5, 2.5)), 3)],
            })
            .collect();
        let full = BarChart { title: "T".into(), y_label: "y".into(), groups, series: vec!["b".into(), "a".into()] };
        let figures = facet("tp", full.clone(), &names);
        let stems: Vec<&str> = figures.iter().map(|f| f.stem.as_str()).collect();
        assert_eq!(stems, ["tp-q-1", "tp-q-2", "tp-concurrency", "tp-q_2", "tp-other"]);
        assert_eq!(figures[0].chart.title, "T — Q* workloads, part 1 of 2");
        assert_eq!(figures[4].chart.title, "T — other workloads");
        let mut seen: Vec<&str> = figures.iter().flat_map(|f| f.chart.groups.iter().map(|g| g.label.as_str())).collect();
        seen.sort();
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.sort();
        assert_eq!(seen, all, "every group exactly once");
        let dir = tempfile::tempdir().unwrap();
        for f in &figures {
            assert_eq!(f.chart.series, ["b", "a"], "the same legend order in every facet");
            let path = dir.path().join(format!("{}.png", f.stem));
            render_png(&f.chart, &path).unwrap();
            assert!(decode(&path).w <= MAX_FIGURE_W);
            let svg = svg_string(&f.chart).unwrap();
            assert_eq!(svg.matches("<title>").count(), f.chart.groups.len() * 2, "a title per bar");
        }
        // Few groups: one figure under the plain name.
        let small = BarChart { groups: full.groups[..5].to_vec(), ..full };
        let figures = facet("tp", small, &names[..5]);
        assert_eq!(figures.len(), 1);
        assert_eq!(figures[0].stem, "tp");
    }

    #[test]
    fn bar_titles_default_to_the_numbers() {
        let svg = svg_string(&two_backends()).unwrap();
        assert_eq!(svg.matches("<title>").count(), 6);
        assert!(svg.contains("<title>wordcount/1GB · sage: 182000, interval [169260, 196560], n=10</title>"), "{svg}");
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

// ---------------------------------------------------------------------------
// The compare bundle's grouped-bar figures.

use super::{ReportContext, Renderer};
use crate::analysis::compare::{GroupStats, Metric};

/// `throughput_comparison*.{png,svg}` and `latency_p95_p99_comparison*.{png,svg}`:
/// grouped bars per workload and side, whiskers = the mean's interval.
pub struct ComparisonCharts;

fn group_label(g: &GroupStats) -> String {
    if g.variant.is_empty() {
        g.workload.clone()
    } else {
        // Unset dimensions (`num_tasks=—`) say nothing on a chart.
        let set: Vec<&str> = g.variant.split(' ').filter(|kv| !kv.ends_with("=—")).collect();
        format!("{} ({})", g.workload, set.join(" "))
    }
}

fn bar(series: String, g: &GroupStats, m: Metric) -> Option<Bar> {
    let s = g.metric(m);
    Some(Bar { series, value: s.mean?, ci: s.ci_low.zip(s.ci_high), n: s.n, hover: None })
}

/// Groups in report order, one bar per (side[, metric]).
fn chart(ctx: &ReportContext<'_>, title: &str, y_label: &str, metrics: &[Metric]) -> (BarChart, Vec<String>) {
    // When some workloads ran on several sides, chart only those: the figure
    // is about the comparison, and single-side groups are in summary.md.
    let all = &ctx.comparison.groups;
    let conf = super::format::conf_pct(ctx.comparison.confidence);
    let mut side_counts: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for g in all {
        *side_counts.entry((g.workload.as_str(), g.variant.as_str())).or_default() += 1;
    }
    let sides_per_group = |g: &GroupStats| side_counts[&(g.workload.as_str(), g.variant.as_str())];
    let compared_only = all.iter().any(|g| sides_per_group(g) > 1);
    let series_name = |side: &str, m: Metric| {
        if metrics.len() > 1 {
            format!("{side} {}", if m == Metric::LatencyP95 { "p95" } else { "p99" })
        } else {
            side.to_string()
        }
    };
    let mut groups: Vec<BarGroup> = Vec::new();
    let mut workloads: Vec<String> = Vec::new();
    for g in all.iter().filter(|g| !compared_only || sides_per_group(g) > 1) {
        let label = group_label(g);
        let bars: Vec<Bar> = metrics
            .iter()
            .filter_map(|&m| {
                let mut b = bar(series_name(&g.side, m), g, m)?;
                let s = g.metric(m);
                let interval = match (s.ci_low, s.ci_high) {
                    (Some(l), Some(h)) => format!(", {conf} CI [{}, {}]", hover_num(l), hover_num(h)),
                    _ => ", no interval".to_string(),
                };
                b.hover = Some(format!(
                    "{label} · {} · {}: mean {} {}{interval}, n={}",
                    g.side,
                    m.name().replace('_', " "),
                    hover_num(b.value),
                    m.unit(),
                    s.n
                ));
                Some(b)
            })
            .collect();
        match groups.iter_mut().find(|x| x.label == label) {
            Some(existing) => existing.bars.extend(bars),
            None => {
                groups.push(BarGroup { label, bars });
                workloads.push(g.workload.clone());
            }
        }
    }
    // Legend order: the baseline first, then the other sides; the same in every facet.
    let series = ctx
        .comparison
        .sides_baseline_first()
        .iter()
        .flat_map(|side| metrics.iter().map(move |&m| series_name(side, m)))
        .collect();
    (BarChart { title: title.to_string(), y_label: y_label.to_string(), groups, series }, workloads)
}

/// Widest figure the compare bundle draws, in pixels.
pub const MAX_FIGURE_W: u32 = 2000;

/// Most groups of `series` bars each that fit in [`MAX_FIGURE_W`] with the
/// widest y axis [`layout`] makes.
pub fn groups_per_figure(series: usize) -> usize {
    let group_px = (series.max(1) as f64 * 40.0 / BAR_SPAN).max(110.0);
    let y_area_max = 260 + 18 + 36;
    let plot = (MAX_FIGURE_W as i32 - MARGIN_L - MARGIN_R - y_area_max) as f64;
    ((plot / group_px).floor() as usize).max(1)
}

/// A workload's family: its name up to the first `_` or digit
/// (`Q3_victim` → `Q`, `concurrency_rag_4` → `concurrency`, `job0_rag` → `job`).
pub fn workload_family(workload: &str) -> &str {
    let end = workload.find(|c: char| c == '_' || c.is_ascii_digit()).unwrap_or(workload.len());
    &workload[..end]
}

/// A family as a file-name part: lower-case ASCII letters, digits and `-`.
fn family_slug(family: &str) -> String {
    let mut slug = String::new();
    for c in family.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() { "other".to_string() } else { slug.to_string() }
}

/// One figure of the compare bundle: `stem.png` and `stem.svg`.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name without extension, e.g. `throughput_comparison-q`.
    pub stem: String,
    pub chart: BarChart,
}

/// `full` as one figure named `base` when it fits in [`MAX_FIGURE_W`], else
/// one figure per workload family (`base-<family>`; families of a single
/// group are pooled in `base-other`), a family too large for one figure
/// split evenly into `base-<family>-1`, `-2`, …. Every group is in exactly
/// one figure; figures follow the report order of their first group.
fn facet(base: &str, full: BarChart, workloads: &[String]) -> Vec<Figure> {
    let cap = groups_per_figure(full.series.len().max(1));
    if full.groups.len() <= cap {
        return vec![Figure { stem: base.to_string(), chart: full }];
    }
    // Families in order of first appearance.
    let mut families: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        let f = workload_family(w);
        match families.iter_mut().find(|(name, _)| name == f) {
            Some((_, members)) => members.push(i),
            None => families.push((f.to_string(), vec![i])),
        }
    }
    let mut facets: Vec<(String, String, Vec<usize>)> = Vec::new(); // (slug, shown name, groups)
    let mut singles: Vec<usize> = Vec::new();
    for (name, members) in families {
        if members.len() == 1 || family_slug(&name) == "other" {
            singles.extend(members);
        } else {
            facets.push((family_slug(&name), format!("{name}* workloads"), members));
        }
    }
    if !singles.is_empty() {
        facets.push(("other".to_string(), "other workloads".to_string(), singles));
    }
    // Distinct slugs even where families differ only in case or punctuation.
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (slug, shown, members) in facets {
        let mut unique = slug.clone();
        let mut k = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{slug}_{k}");
            k += 1;
        }
        let parts = members.len().div_ceil(cap);
        let per = members.len().div_ceil(parts);
        for (pi, chunk) in members.chunks(per).enumerate() {
            let (stem, title) = if parts == 1 {
                (format!("{base}-{unique}"), format!("{} — {shown}", full.title))
            } else {
                (format!("{base}-{unique}-{}", pi + 1), format!("{} — {shown}, part {} of {parts}", full.title, pi + 1))
            };
            let chart = BarChart {
                title,
                y_label: full.y_label.clone(),
                groups: chunk.iter().map(|&i| full.groups[i].clone()).collect(),
                series: full.series.clone(),
            };
            out.push(Figure { stem, chart });
        }
    }
    out
}

/// Stems of the two charts when not faceted.
pub const THROUGHPUT_STEM: &str = "throughput_comparison";
pub const LATENCY_STEM: &str = "latency_p95_p99_comparison";

/// The compare bundle's grouped-bar figures: throughput, then latency
/// p95/p99, each one figure or faceted by workload family (see [`facet`]).
pub fn comparison_figures(ctx: &ReportContext<'_>) -> Vec<Figure> {
    let conf = super::format::conf_pct(ctx.comparison.confidence);
    let (tp, tp_w) = chart(ctx, &format!("Throughput by workload (mean, {conf} CI)"), "throughput (items/s)", &[Metric::Throughput]);
    let (lat, lat_w) = chart(
        ctx,
        &format!("Latency p95 / p99 by workload (mean over runs, {conf} CI)"),
        "latency (ms)",
        &[Metric::LatencyP95, Metric::LatencyP99],
    );
    let mut out = facet(THROUGHPUT_STEM, tp, &tp_w);
    out.extend(facet(LATENCY_STEM, lat, &lat_w));
    out
}

/// The `## Charts` section of summary.md: every chart file of the bundle
/// and what it shows, so that a reader finds where each comparison and
/// each group is drawn (the faceted figures list their groups).
pub fn charts_markdown(ctx: &ReportContext<'_>) -> String {
    use std::fmt::Write;
    let esc = super::escape::markdown;
    let mut s = String::new();
    let _ = writeln!(s, "## Charts\n");
    let pages = super::forest::forest_pages(ctx.comparison, ctx.threshold);
    let total: usize = pages.iter().map(|p| p.rows.len()).sum();
    if pages.len() == 1 {
        let _ = writeln!(
            s,
            "- `{}.png` (`.svg`): ratio forest plot, {} (ratio candidate / baseline with its interval, by verdict)",
            pages[0].stem,
            if total == 1 { "1 comparison".to_string() } else { format!("all {total} comparisons") }
        );
    } else {
        let mut first = 1;
        for p in &pages {
            let metrics: Vec<&str> =
                Metric::ALL.iter().filter(|m| p.rows.iter().any(|r| r.metric == **m)).map(|m| m.name()).collect();
            let _ = writeln!(
                s,
                "- `{}.png` (`.svg`): ratio forest plot, comparisons {first}–{} of {total} ({})",
                p.stem,
                first + p.rows.len() - 1,
                esc(&metrics.join(", "))
            );
            first += p.rows.len();
        }
    }
    let figures = comparison_figures(ctx);
    for f in &figures {
        let what = if f.stem.starts_with(THROUGHPUT_STEM) { "throughput" } else { "latency p95 / p99" };
        let n = f.chart.groups.len();
        let faceted = f.stem != THROUGHPUT_STEM && f.stem != LATENCY_STEM;
        if faceted {
            let names: Vec<String> = f.chart.groups.iter().map(|g| esc(&g.label)).collect();
            let _ = writeln!(s, "- `{}.png` (`.svg`): {what}, {n} group{}: {}", f.stem, if n == 1 { "" } else { "s" }, names.join(", "));
        } else {
            let groups = if n == 1 { "1 group".to_string() } else { format!("all {n} groups") };
            let _ = writeln!(s, "- `{}.png` (`.svg`): {what}, {groups}", f.stem);
        }
    }
    let charted = figures.iter().filter(|f| f.stem.starts_with(THROUGHPUT_STEM)).map(|f| f.chart.groups.len()).sum::<usize>();
    let all: std::collections::BTreeSet<(&str, &str)> =
        ctx.comparison.groups.iter().map(|g| (g.workload.as_str(), g.variant.as_str())).collect();
    if all.len() > charted {
        let k = all.len() - charted;
        let _ = writeln!(
            s,
            "\n{k} group{} ran on one side only and {} not charted (they are in the Results table).",
            if k == 1 { "" } else { "s" },
            if k == 1 { "is" } else { "are" }
        );
    }
    if figures.len() > 2 {
        let _ = writeln!(
            s,
            "\nThe grouped bars are split by workload family (the name up to its first `_` or digit) so that no figure is wider than {MAX_FIGURE_W} px; families of one group are in the `-other` figure."
        );
    }
    let _ = writeln!(s);
    s
}

impl Renderer for ComparisonCharts {
    /// The names when the charts are not faceted; [`Renderer::outputs`] has the real ones.
    fn files(&self) -> Vec<&'static str> {
        vec![
            "throughput_comparison.png",
            "throughput_comparison.svg",
            "latency_p95_p99_comparison.png",
            "latency_p95_p99_comparison.svg",
        ]
    }

    fn outputs(&self, ctx: &ReportContext<'_>) -> Vec<String> {
        comparison_figures(ctx).iter().flat_map(|f| [format!("{}.png", f.stem), format!("{}.svg", f.stem)]).collect()
    }

    fn render(&self, ctx: &ReportContext<'_>, dir: &std::path::Path) -> anyhow::Result<()> {
        use rayon::prelude::*;
        comparison_figures(ctx).par_iter().try_for_each(|f| {
            render_png(&f.chart, &dir.join(format!("{}.png", f.stem)))?;
            render_svg(&f.chart, &dir.join(format!("{}.svg", f.stem)))
        })
    }
}
