//! The ratio forest plot: every comparison of the report on one log axis.
//!
//! One row per comparison (workload × metric [× candidate]), grouped by
//! metric (throughput, then latency p95, then p99): the ratio candidate mean
//! / baseline mean as a point with the interval the analysis computed for it
//! ([`MetricComparison::ci_low`]/`ci_high`: Fieller, at the family-adjusted
//! level, so it excludes 1 exactly when the verdict is better/worse), on a
//! log x axis centred at 1, with the `--threshold` band (1 ± threshold)
//! shaded. Colour *and* marker shape say the verdict (● better, ■ worse,
//! ○ `~`, ◆ unstable, × no verdict), so the plot also reads in grey; the
//! right-hand columns print the ratio [interval], the verdict and n per side
//! (baseline/candidate). Nothing is computed here but pixel positions.
//!
//! Every comparison is drawn: beyond [`MAX_ROWS`] rows the plot is split
//! into pages (`ratio_forest.png`, `ratio_forest-2.png`, …), a metric per
//! page when each metric fits, and each page's subtitle says which
//! comparisons it shows out of how many. A row without a ratio (or without
//! an interval) still appears, labelled. The axis is the same on every page
//! (from the widest interval, at most 1/[`MAX_FOLD`]…[`MAX_FOLD`]); a
//! bound beyond it ends in an arrow at the edge, its number is in the
//! ratio column. In the SVG each row carries a `<title>` with the exact
//! numbers (see [`super::chart::hover`]). Same input, byte-identical output.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::chart::hover::{with_titles, Hotspot};
use super::chart::style::{
    clean, darker, ensure_font, plot_err, style, text_width, truncate_to, GRID, INK, LEGEND_PX, NOTE_PX, NO_DATA_PX,
    SOFT_INK, TICK_PX, TITLE_PX,
};
use super::{Renderer, ReportContext};
use crate::analysis::compare::{Comparison, Metric, MetricComparison, Verdict};

/// Most comparison rows on one page.
pub const MAX_ROWS: usize = 64;
/// The axis spans at most 1/MAX_FOLD … MAX_FOLD.
pub const MAX_FOLD: f64 = 10.0;
/// Up to this many pages, a page's subtitle names every other page; beyond,
/// the first and the last.
pub const LISTED_PAGES: usize = 20;
/// File stem of the first page; page k > 1 is `ratio_forest-k`.
pub const STEM: &str = "ratio_forest";

/// One row: one comparison, as the analysis left it.
#[derive(Clone, Debug, PartialEq)]
pub struct ForestRow {
    /// `workload (variant)`, plus ` · candidate` when there are several.
    pub label: String,
    pub metric: Metric,
    pub baseline: String,
    pub candidate: String,
    pub ratio: Option<f64>,
    /// The ratio's interval (at `level`).
    pub ci: Option<(f64, f64)>,
    pub n_baseline: usize,
    pub n_candidate: usize,
    pub verdict: Verdict,
    /// Why there is no verdict or interval, when the analysis says.
    pub note: Option<String>,
}

/// One page (one PNG and one SVG).
#[derive(Clone, Debug, PartialEq)]
pub struct ForestPage {
    /// `ratio_forest`, `ratio_forest-2`, …
    pub stem: String,
    pub title: String,
    /// Which comparisons this page shows, of how many, and where the rest are.
    pub subtitle: String,
    pub rows: Vec<ForestRow>,
    /// Half the axis span in natural-log units (the axis is e^-h … e^h).
    pub half_span: f64,
    /// Relative threshold shaded around 1 (0.05 = 1 ± 5 %).
    pub threshold: f64,
    /// The interval's level, e.g. `99.97 %`.
    pub level: String,
    pub footnote: String,
}

fn row_label(m: &MetricComparison, with_candidate: bool) -> String {
    let set: Vec<&str> = m
        .variant
        .split(' ')
        .filter(|kv| !kv.is_empty() && !kv.ends_with("=—"))
        .collect();
    let mut label = if set.is_empty() {
        m.workload.clone()
    } else {
        format!("{} ({})", m.workload, set.join(" "))
    };
    if with_candidate {
        label.push_str(" · ");
        label.push_str(&m.candidate);
    }
    clean(&label)
}

/// `5%`, `2.5%`: a threshold as a percentage.
fn pct(t: f64) -> String {
    let s = format!("{:.2}", t * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The pages of the forest plot of `c` (at least one, also without comparisons).
pub fn forest_pages(c: &Comparison, threshold: f64) -> Vec<ForestPage> {
    let candidates: std::collections::BTreeSet<&str> = c.comparisons.iter().map(|m| m.candidate.as_str()).collect();
    let with_candidate = candidates.len() > 1;
    let mut all: Vec<&MetricComparison> = c.comparisons.iter().collect();
    all.sort_by_key(|m| m.metric); // stable: report order within a metric
    let rows: Vec<ForestRow> = all
        .iter()
        .map(|m| ForestRow {
            label: row_label(m, with_candidate),
            metric: m.metric,
            baseline: m.baseline.clone(),
            candidate: m.candidate.clone(),
            ratio: m.ratio.filter(|r| r.is_finite()),
            ci: m.ci_low.zip(m.ci_high).filter(|(l, h)| l.is_finite() && h.is_finite()),
            n_baseline: m.n_baseline,
            n_candidate: m.n_candidate,
            verdict: m.verdict,
            note: m.note.clone(),
        })
        .collect();

    // One axis for every page: the widest extent, within 1/MAX_FOLD … MAX_FOLD.
    let t = if threshold.is_finite() {
        threshold.clamp(0.0, 0.9)
    } else {
        0.0
    };
    let mut extent = (1.25f64).ln().max((1.0 + 2.0 * t).ln());
    for r in &rows {
        let values = r.ratio.into_iter().chain(r.ci.into_iter().flat_map(|(l, h)| [l, h]));
        for v in values.filter(|v| *v > 0.0) {
            extent = extent.max(v.ln().abs() * 1.08);
        }
    }
    let half_span = extent.min(MAX_FOLD.ln());

    // Pages: whole metrics while they fit, a metric too long split evenly.
    let mut chunks: Vec<Vec<ForestRow>> = Vec::new();
    let mut current: Vec<ForestRow> = Vec::new();
    for metric in Metric::ALL {
        let block: Vec<ForestRow> = rows.iter().filter(|r| r.metric == metric).cloned().collect();
        if block.is_empty() {
            continue;
        }
        if current.len() + block.len() <= MAX_ROWS {
            current.extend(block);
            continue;
        }
        if !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        if block.len() <= MAX_ROWS {
            current = block;
        } else {
            let parts = block.len().div_ceil(MAX_ROWS);
            let per = block.len().div_ceil(parts);
            chunks.extend(block.chunks(per).map(<[ForestRow]>::to_vec));
        }
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }

    let total = rows.len();
    let pages = chunks.len();
    let stems: Vec<String> = (1..=pages).map(page_stem).collect();
    let sides = match (c.baseline.as_deref(), candidates.len()) {
        (Some(b), 1) => format!("{} / {b}", candidates.iter().next().copied().unwrap_or("")),
        (Some(b), _) => format!("candidates / {b}"),
        (None, _) => "candidate / baseline".to_string(),
    };
    let level = super::format::pct_level(1.0 - c.adjusted_alpha);
    let footnote = format!(
        "Point: ratio of means; line: its {level} interval (Fieller; {} over {} comparison{}), excluding 1 exactly when the verdict is better or worse. \
         Shaded: 1 ± {} (--threshold). Arrow: beyond the axis (the number is in the ratio column). n = runs baseline/candidate.",
        c.correction.label(),
        c.family_size,
        if c.family_size == 1 { "" } else { "s" },
        pct(t)
    );
    let mut first = 1;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, rows)| {
            let metrics: Vec<&str> = Metric::ALL
                .iter()
                .filter(|m| rows.iter().any(|r| r.metric == **m))
                .map(|m| m.name())
                .collect();
            let subtitle = if total == 0 {
                "no comparison: no group has both the baseline and another side".to_string()
            } else if pages == 1 {
                if total == 1 {
                    format!("{sides}: 1 comparison")
                } else {
                    format!("{sides}: all {total} comparisons")
                }
            } else if pages <= LISTED_PAGES {
                let others: Vec<&str> = stems
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, s)| s.as_str())
                    .collect();
                format!(
                    "{sides}: page {} of {pages}, comparisons {first}–{} of {total} ({}); the others on {}",
                    i + 1,
                    first + rows.len() - 1,
                    metrics.join(", "),
                    others.join(", ")
                )
            } else {
                // Naming every other page would make each subtitle as long
                // as the plot has pages.
                format!(
                    "{sides}: page {} of {pages}, comparisons {first}–{} of {total} ({}); all pages: {} … {}",
                    i + 1,
                    first + rows.len() - 1,
                    metrics.join(", "),
                    stems[0],
                    stems[pages - 1]
                )
            };
            first += rows.len();
            ForestPage {
                stem: stems[i].clone(),
                title: "Ratio candidate / baseline per comparison (log scale)".to_string(),
                subtitle,
                rows,
                half_span,
                threshold: t,
                level: level.clone(),
                footnote: footnote.clone(),
            }
        })
        .collect()
}

/// `ratio_forest` for page 1, `ratio_forest-k` for page k.
pub fn page_stem(k: usize) -> String {
    if k <= 1 {
        STEM.to_string()
    } else {
        format!("{STEM}-{k}")
    }
}

/// Every page of the forest plot of `c` as `(file name, PNG bytes)`, e.g.
/// for embedding in a PDF.
pub fn ratio_forest_pngs(c: &Comparison, threshold: f64) -> Result<Vec<(String, Vec<u8>)>> {
    forest_pages(c, threshold)
        .iter()
        .map(|p| Ok((format!("{}.png", p.stem), page_png(p)?)))
        .collect()
}

/// Every page of the forest plot of `c` as `(file name, SVG document)`.
pub fn ratio_forest_svgs(c: &Comparison, threshold: f64) -> Result<Vec<(String, String)>> {
    forest_pages(c, threshold)
        .iter()
        .map(|p| Ok((format!("{}.svg", p.stem), page_svg(p)?)))
        .collect()
}

/// A page's canvas size in pixels (width, height), as drawn.
pub fn page_size(page: &ForestPage) -> (u32, u32) {
    if ensure_font().is_err() {
        return (MIN_W as u32, 600);
    }
    let l = layout(page);
    (l.width, l.height)
}

/// One page as PNG bytes.
pub fn page_png(page: &ForestPage) -> Result<Vec<u8>> {
    ensure_font()?;
    let l = layout(page);
    super::chart::png_canvas(l.width, l.height, |root| draw(root, page, &l).map(|_| ()))
}

/// One page as vector drawing operators for the PDF, drawn by the same
/// code as the PNG and SVG ([`crate::render::pdf::vector`]).
pub fn page_vector(page: &ForestPage) -> Result<crate::render::pdf::vector::VectorPage> {
    ensure_font()?;
    let l = layout(page);
    crate::render::pdf::vector::draw_page(l.width, l.height, |root| draw(root, page, &l).map(|_| ()))
}

/// One page as an SVG document, a `<title>` per comparison row.
pub fn page_svg(page: &ForestPage) -> Result<String> {
    ensure_font()?;
    let l = layout(page);
    let mut spots = Vec::new();
    let svg = super::chart::svg_canvas(l.width, l.height, |root| {
        spots = draw(root, page, &l)?;
        Ok(())
    })?;
    Ok(with_titles(svg, &spots))
}

impl super::chart::Drawing for ForestPage {
    fn draw(&self, format: super::chart::Format) -> Result<Vec<u8>> {
        match format {
            super::chart::Format::Png => page_png(self),
            super::chart::Format::Svg => page_svg(self).map(String::into_bytes),
        }
    }
}

/// Every page of the forest plot of `c` as a figure, captioned with its
/// page number.
pub fn forest_figures(c: &Comparison, threshold: f64) -> Vec<super::chart::Figure<ForestPage>> {
    let pages = forest_pages(c, threshold);
    let total = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(k, page)| super::chart::Figure {
            stem: page.stem.clone(),
            caption: format!(
                "Ratio candidate / baseline per comparison with its adjusted interval (page {} of {total}).",
                k + 1
            ),
            chart: page,
        })
        .collect()
}

/// `ratio_forest*.{png,svg}` in the compare bundle.
pub struct RatioForest;

impl Renderer for RatioForest {
    fn name(&self) -> &'static str {
        "ratio_forest.png"
    }

    fn render(&self, ctx: &ReportContext<'_>) -> Result<Vec<(String, Vec<u8>)>> {
        super::chart::figure_files(&bundle_pages(ctx))
    }

    fn render_to(&self, ctx: &ReportContext<'_>, dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
        super::chart::write_figures(&bundle_pages(ctx), dir)
    }
}

fn bundle_pages(ctx: &ReportContext<'_>) -> Vec<super::chart::Figure<ForestPage>> {
    super::ChartLimits::BUNDLE.forest(&forest_figures(ctx.comparison, ctx.threshold))
}

// ---------------------------------------------------------------------------
// Verdict styles

const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const GREY: RGBColor = RGBColor(0x80, 0x80, 0x80);
const STRIPE: RGBColor = RGBColor(0xF4, 0xF4, 0xF4);
const BAND: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Better,
    Worse,
    Same,
    Unstable,
    None,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Better, Kind::Worse, Kind::Same, Kind::Unstable, Kind::None];

    fn of(verdict: Verdict) -> Kind {
        match verdict {
            Verdict::Better => Kind::Better,
            Verdict::Worse => Kind::Worse,
            Verdict::Same => Kind::Same,
            Verdict::Unstable => Kind::Unstable,
            Verdict::NoVerdict => Kind::None,
        }
    }

    fn color(self) -> RGBColor {
        match self {
            Kind::Better => GREEN,
            Kind::Worse => VERMILLION,
            Kind::Same => BLUE,
            Kind::Unstable => ORANGE,
            Kind::None => GREY,
        }
    }

    /// Text colour (orange is too light for text on white).
    fn ink(self) -> RGBColor {
        match self {
            Kind::Better => darker(GREEN),
            Kind::Worse => VERMILLION,
            Kind::Same => INK,
            Kind::Unstable => darker(ORANGE),
            Kind::None => SOFT_INK,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Better => "better",
            Kind::Worse => "worse",
            Kind::Same => "~",
            Kind::Unstable => "unstable",
            Kind::None => "no verdict",
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Kind::Better => "better",
            Kind::Worse => "worse",
            Kind::Same => "~ (no significant difference)",
            Kind::Unstable => "unstable (tests disagree)",
            Kind::None => "no verdict",
        }
    }
}

const MARKER_R: i32 = 6;

fn draw_marker<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, k: Kind, x: i32, y: i32) -> Result<()> {
    let col = k.color();
    let r = MARKER_R;
    let edge = darker(col).stroke_width(1);
    match k {
        Kind::Better => {
            root.draw(&Circle::new((x, y), r, col.filled())).map_err(plot_err)?;
            root.draw(&Circle::new((x, y), r, edge)).map_err(plot_err)?;
        }
        Kind::Worse => {
            let s = r - 1;
            root.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], col.filled()))
                .map_err(plot_err)?;
            root.draw(&Rectangle::new([(x - s, y - s), (x + s, y + s)], edge))
                .map_err(plot_err)?;
        }
        Kind::Same => {
            root.draw(&Circle::new((x, y), r, WHITE.filled())).map_err(plot_err)?;
            root.draw(&Circle::new((x, y), r, col.stroke_width(2)))
                .map_err(plot_err)?;
        }
        Kind::Unstable => {
            let pts = vec![(x, y - r - 2), (x + r + 1, y), (x, y + r + 2), (x - r - 1, y)];
            root.draw(&Polygon::new(pts.clone(), col.filled())).map_err(plot_err)?;
            let mut closed = pts;
            closed.push(closed[0]);
            root.draw(&PathElement::new(closed, edge)).map_err(plot_err)?;
        }
        Kind::None => {
            let s = r - 1;
            let w = darker(col).stroke_width(3);
            root.draw(&PathElement::new(vec![(x - s, y - s), (x + s, y + s)], w))
                .map_err(plot_err)?;
            root.draw(&PathElement::new(vec![(x - s, y + s), (x + s, y - s)], w))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Layout

const ROW_PX: f64 = 14.0;
const HEAD_PX: f64 = 16.0;
const ROW_H: i32 = 22;
const BLOCK_H: i32 = 30;
const MARGIN: i32 = 20;
const GAP: i32 = 18;
const PLOT_W: i32 = 760;
const MIN_W: i32 = 1200;
const MAX_LABEL_W: i32 = 460;
const TOP_PAD: i32 = 16;
const EMPTY_H: i32 = 160;

struct Layout {
    width: u32,
    height: u32,
    title: String,
    subtitle: String,
    label_w: i32,
    plot_x0: i32,
    ratio_x: i32,
    verdict_x: i32,
    n_x: i32,
    legend_y: i32,
    header_y: i32,
    ticks_top_y: i32,
    rows_top: i32,
    rows_bottom: i32,
    labels: Vec<String>,
    ticks: Vec<(f64, String)>,
    footnote: Vec<String>,
}

fn ratio_text(r: &ForestRow) -> String {
    match (r.ratio, r.ci) {
        (Some(x), Some((l, h))) => format!("{x:.3} [{l:.3}, {h:.3}]"),
        (Some(x), None) => format!("{x:.3}, no interval"),
        _ => "no ratio".to_string(),
    }
}

fn n_text(r: &ForestRow) -> String {
    format!("n={}/{}", r.n_baseline, r.n_candidate)
}

fn metric_header(m: Metric) -> &'static str {
    match m {
        Metric::Throughput => "throughput — higher is better",
        Metric::LatencyP95 => "latency p95 — lower is better",
        Metric::LatencyP99 => "latency p99 — lower is better",
    }
}

fn tick_text(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Tick pairs (about symmetric on the log axis) in priority order; a pair is
/// kept when both are on the axis and neither crowds a tick already kept.
const TICK_PAIRS: [(f64, f64); 8] = [
    (0.5, 2.0),
    (0.1, 10.0),
    (0.8, 1.25),
    (0.2, 5.0),
    (0.9, 1.1),
    (0.25, 4.0),
    (0.67, 1.5),
    (0.33, 3.0),
];

fn x_of(v: f64, page: &ForestPage, x0: i32) -> i32 {
    let h = page.half_span;
    let u = ((v.ln() + h) / (2.0 * h)).clamp(0.0, 1.0);
    x0 + (u * PLOT_W as f64).round() as i32
}

fn layout(page: &ForestPage) -> Layout {
    // Each text measured once (a long plot has thousands of rows).
    let label_widths: Vec<i32> = page.rows.iter().map(|r| text_width(ROW_PX, &r.label)).collect();
    let max_label = label_widths.iter().copied().max().unwrap_or(0);
    let label_w = max_label.clamp(160, MAX_LABEL_W);
    let labels = page
        .rows
        .iter()
        .zip(&label_widths)
        .map(|(r, &w)| {
            if w <= label_w {
                r.label.clone()
            } else {
                truncate_to(ROW_PX, &r.label, label_w)
            }
        })
        .collect();
    let col = |head: &str, texts: Vec<String>| {
        let distinct: std::collections::BTreeSet<String> = texts.into_iter().collect();
        distinct
            .iter()
            .map(|t| text_width(ROW_PX, t))
            .max()
            .unwrap_or(0)
            .max(text_width(ROW_PX, head))
    };
    let ratio_w = col("ratio [interval]", page.rows.iter().map(ratio_text).collect());
    let verdict_w = col("verdict", Kind::ALL.iter().map(|k| k.word().to_string()).collect());
    let n_w = col("runs", page.rows.iter().map(n_text).collect());
    let plot_x0 = MARGIN + label_w + GAP;
    let ratio_x = plot_x0 + PLOT_W + GAP + 6;
    let verdict_x = ratio_x + ratio_w + GAP;
    let n_x = verdict_x + verdict_w + GAP;
    let width = (n_x + n_w + MARGIN).max(MIN_W);

    let legend_y = TOP_PAD + 40 + 26 + 16;
    let header_y = legend_y + 34;
    let ticks_top_y = header_y + 22;
    let rows_top = ticks_top_y + 16;
    let blocks = {
        let mut b = 0;
        let mut last = None;
        for r in &page.rows {
            if last != Some(r.metric) {
                b += 1;
                last = Some(r.metric);
            }
        }
        b
    };
    let body = if page.rows.is_empty() {
        EMPTY_H
    } else {
        blocks * BLOCK_H + page.rows.len() as i32 * ROW_H
    };
    let rows_bottom = rows_top + body;

    // Ticks: 1, then pairs by priority, at least 56 px apart.
    let mut kept: Vec<(f64, i32)> = vec![(1.0, x_of(1.0, page, plot_x0))];
    let h = page.half_span;
    for (a, b) in TICK_PAIRS {
        if a.ln().abs() > h + 1e-9 || b.ln().abs() > h + 1e-9 {
            continue;
        }
        let (xa, xb) = (x_of(a, page, plot_x0), x_of(b, page, plot_x0));
        if kept
            .iter()
            .all(|(_, kx)| (kx - xa).abs() >= 56 && (kx - xb).abs() >= 56)
        {
            kept.extend([(a, xa), (b, xb)]);
        }
    }
    kept.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ticks = kept.into_iter().map(|(v, _)| (v, tick_text(v))).collect();

    // Footnote: wrapped at words to the canvas width.
    let avail = width - 2 * MARGIN;
    let mut footnote: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in page.footnote.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(NOTE_PX, &candidate) > avail {
            footnote.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        footnote.push(line);
    }
    let height = rows_bottom + 22 + 30 + footnote.len() as i32 * 20 + 16;
    Layout {
        width: width as u32,
        height: height as u32,
        title: truncate_to(TITLE_PX, &clean(&page.title), width - 2 * MARGIN),
        subtitle: truncate_to(NOTE_PX, &clean(&page.subtitle), width - 2 * MARGIN),
        label_w,
        plot_x0,
        ratio_x,
        verdict_x,
        n_x,
        legend_y,
        header_y,
        ticks_top_y,
        rows_top,
        rows_bottom,
        labels,
        ticks,
        footnote,
    }
}

// ---------------------------------------------------------------------------
// Drawing

fn hover(r: &ForestRow, level: &str) -> String {
    let ratio = match (r.ratio, r.ci) {
        (Some(x), Some((l, h))) => format!("ratio {x:.4} [{l:.4}, {h:.4}] ({level} interval)"),
        (Some(x), None) => format!("ratio {x:.4}, no interval"),
        _ => "no ratio".to_string(),
    };
    let verdict = Kind::of(r.verdict).legend();
    let note = r.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
    format!(
        "{} — {}, {} / {}: {ratio}; n={}/{} runs (baseline/candidate); verdict: {verdict}{note}",
        r.label,
        r.metric.name(),
        r.candidate,
        r.baseline,
        r.n_baseline,
        r.n_candidate
    )
}

fn arrow<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, x: i32, y: i32, left: bool, col: RGBColor) -> Result<()> {
    let d = if left { -1 } else { 1 };
    let pts = vec![(x + d * 8, y), (x, y - 5), (x, y + 5)];
    root.draw(&Polygon::new(pts, col.filled())).map_err(plot_err)?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, page: &ForestPage, l: &Layout) -> Result<Vec<Hotspot>> {
    root.fill(&WHITE).map_err(plot_err)?;
    let width = l.width as i32;
    let mut spots = Vec::new();
    let text = |t: &str, size: f64, col: RGBColor, h: HPos, v: VPos, at: (i32, i32)| -> Result<()> {
        root.draw_text(t, &style(size, col, h, v), at).map_err(plot_err)
    };

    text(&l.title, TITLE_PX, INK, HPos::Center, VPos::Top, (width / 2, TOP_PAD))?;
    text(
        &l.subtitle,
        NOTE_PX,
        SOFT_INK,
        HPos::Center,
        VPos::Center,
        (width / 2, TOP_PAD + 40 + 13),
    )?;

    // Legend: the band, then one entry per verdict; one centred row.
    let band_text = format!("1 ± {} threshold", pct(page.threshold));
    let mut items: Vec<(Option<Kind>, String)> = vec![(None, band_text)];
    items.extend(Kind::ALL.iter().map(|k| (Some(*k), k.legend().to_string())));
    let item_w = |t: &str| 22 + text_width(LEGEND_PX, t);
    let total: i32 = items.iter().map(|(_, t)| item_w(t)).sum::<i32>() + 26 * (items.len() as i32 - 1);
    let mut x = (width - total) / 2;
    for (k, t) in &items {
        let cy = l.legend_y;
        match k {
            Some(k) => draw_marker(root, *k, x + 7, cy)?,
            None => {
                root.draw(&Rectangle::new([(x, cy - 8), (x + 14, cy + 8)], BAND.filled()))
                    .map_err(plot_err)?;
            }
        }
        text(t, LEGEND_PX, INK, HPos::Left, VPos::Center, (x + 22, cy))?;
        x += item_w(t) + 26;
    }

    // Column headers.
    let hy = l.header_y;
    text(
        "comparison",
        ROW_PX,
        SOFT_INK,
        HPos::Right,
        VPos::Center,
        (l.plot_x0 - GAP, hy),
    )?;
    text(
        "← candidate lower · ratio candidate / baseline · candidate higher →",
        ROW_PX,
        SOFT_INK,
        HPos::Center,
        VPos::Center,
        (l.plot_x0 + PLOT_W / 2, hy),
    )?;
    text(
        "ratio [interval]",
        ROW_PX,
        SOFT_INK,
        HPos::Left,
        VPos::Center,
        (l.ratio_x, hy),
    )?;
    text("verdict", ROW_PX, SOFT_INK, HPos::Left, VPos::Center, (l.verdict_x, hy))?;
    text("runs", ROW_PX, SOFT_INK, HPos::Left, VPos::Center, (l.n_x, hy))?;

    // Row positions (block headers take a band of their own).
    let mut ys: Vec<i32> = Vec::with_capacity(page.rows.len());
    let mut headers: Vec<(Metric, i32)> = Vec::new();
    let mut y = l.rows_top;
    for r in &page.rows {
        if headers.last().map(|(m, _)| *m) != Some(r.metric) {
            headers.push((r.metric, y));
            y += BLOCK_H;
        }
        ys.push(y + ROW_H / 2);
        y += ROW_H;
    }

    // Stripes, band, grid, the line at 1.
    for (i, cy) in ys.iter().enumerate() {
        if i % 2 == 1 {
            root.draw(&Rectangle::new(
                [(MARGIN, cy - ROW_H / 2), (width - MARGIN, cy + ROW_H / 2)],
                STRIPE.filled(),
            ))
            .map_err(plot_err)?;
        }
    }
    let (top, bottom) = (l.rows_top, l.rows_bottom);
    let x1 = l.plot_x0 + PLOT_W;
    if page.threshold > 0.0 {
        let (bl, bh) = (
            x_of(1.0 - page.threshold, page, l.plot_x0),
            x_of(1.0 + page.threshold, page, l.plot_x0),
        );
        root.draw(&Rectangle::new([(bl, top), (bh.max(bl + 1), bottom)], BAND.filled()))
            .map_err(plot_err)?;
    }
    for (v, label) in &l.ticks {
        let x = x_of(*v, page, l.plot_x0);
        if *v != 1.0 {
            root.draw(&PathElement::new(vec![(x, top), (x, bottom)], GRID.stroke_width(1)))
                .map_err(plot_err)?;
        }
        root.draw(&PathElement::new(
            vec![(x, bottom), (x, bottom + 5)],
            SOFT_INK.stroke_width(1),
        ))
        .map_err(plot_err)?;
        text(label, TICK_PX, SOFT_INK, HPos::Center, VPos::Top, (x, bottom + 7))?;
        text(
            label,
            TICK_PX,
            SOFT_INK,
            HPos::Center,
            VPos::Bottom,
            (x, l.ticks_top_y + 12),
        )?;
    }
    let one = x_of(1.0, page, l.plot_x0);
    root.draw(&PathElement::new(
        vec![(one, top), (one, bottom)],
        SOFT_INK.stroke_width(1),
    ))
    .map_err(plot_err)?;
    root.draw(&PathElement::new(
        vec![(l.plot_x0, bottom), (x1, bottom)],
        SOFT_INK.stroke_width(1),
    ))
    .map_err(plot_err)?;
    root.draw(&PathElement::new(
        vec![(l.plot_x0, top), (x1, top)],
        SOFT_INK.stroke_width(1),
    ))
    .map_err(plot_err)?;

    // Metric headers.
    for (m, hy) in &headers {
        let cy = hy + BLOCK_H / 2 + 2;
        text(metric_header(*m), HEAD_PX, INK, HPos::Left, VPos::Center, (MARGIN, cy))?;
        let tw = text_width(HEAD_PX, metric_header(*m));
        root.draw(&PathElement::new(
            vec![(MARGIN + tw + 12, cy), (width - MARGIN, cy)],
            GRID.stroke_width(1),
        ))
        .map_err(plot_err)?;
    }

    // Rows.
    let lo_edge = (-page.half_span).exp();
    let hi_edge = page.half_span.exp();
    for ((r, label), cy) in page.rows.iter().zip(&l.labels).zip(&ys) {
        let cy = *cy;
        let k = Kind::of(r.verdict);
        text(label, ROW_PX, INK, HPos::Right, VPos::Center, (l.plot_x0 - GAP, cy))?;
        match r.ratio {
            Some(ratio) if ratio > 0.0 => {
                if let Some((lo, hi)) = r.ci {
                    let xl = if lo > 0.0 { x_of(lo, page, l.plot_x0) } else { l.plot_x0 };
                    let xh = if hi > 0.0 { x_of(hi, page, l.plot_x0) } else { l.plot_x0 };
                    let line = darker(k.color()).stroke_width(2);
                    root.draw(&PathElement::new(vec![(xl, cy), (xh, cy)], line))
                        .map_err(plot_err)?;
                    if lo >= lo_edge {
                        root.draw(&PathElement::new(vec![(xl, cy - 4), (xl, cy + 4)], line))
                            .map_err(plot_err)?;
                    } else {
                        arrow(root, l.plot_x0, cy, true, darker(k.color()))?;
                    }
                    if hi <= hi_edge {
                        root.draw(&PathElement::new(vec![(xh, cy - 4), (xh, cy + 4)], line))
                            .map_err(plot_err)?;
                    } else {
                        arrow(root, x1, cy, false, darker(k.color()))?;
                    }
                }
                let xp = x_of(ratio, page, l.plot_x0);
                if ratio < lo_edge {
                    arrow(root, l.plot_x0, cy, true, darker(k.color()))?;
                } else if ratio > hi_edge {
                    arrow(root, x1, cy, false, darker(k.color()))?;
                }
                draw_marker(root, k, xp, cy)?;
            }
            _ => {
                let why = match &r.note {
                    Some(n) => format!("no ratio: {}", clean(n)),
                    None => "no ratio".to_string(),
                };
                let why = truncate_to(ROW_PX, &why, PLOT_W - 16);
                text(&why, ROW_PX, SOFT_INK, HPos::Left, VPos::Center, (l.plot_x0 + 8, cy))?;
            }
        }
        text(&ratio_text(r), ROW_PX, INK, HPos::Left, VPos::Center, (l.ratio_x, cy))?;
        text(k.word(), ROW_PX, k.ink(), HPos::Left, VPos::Center, (l.verdict_x, cy))?;
        text(&n_text(r), ROW_PX, SOFT_INK, HPos::Left, VPos::Center, (l.n_x, cy))?;
        spots.push(Hotspot::spanning(
            (MARGIN, cy - ROW_H / 2),
            (width - MARGIN, cy + ROW_H / 2),
            hover(r, &page.level),
        ));
    }
    if page.rows.is_empty() {
        text(
            "no comparison",
            NO_DATA_PX,
            SOFT_INK,
            HPos::Center,
            VPos::Center,
            (l.plot_x0 + PLOT_W / 2, (top + bottom) / 2),
        )?;
    }

    // Footnote.
    let mut fy = bottom + 22 + 30;
    for line in &l.footnote {
        text(line, NOTE_PX, SOFT_INK, HPos::Left, VPos::Center, (MARGIN, fy))?;
        fy += 20;
    }
    let _ = l.label_w;
    Ok(spots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::compare::{Axis, Comparison};
    use crate::analysis::estimand::Correction;
    use crate::render::test_support::{assert_well_formed_xml, decode, has_colour};

    /// workload, metric, ratio, interval, verdict
    type Row<'a> = (&'a str, Metric, Option<f64>, Option<(f64, f64)>, &'static str);

    fn comparison(rows: &[Row]) -> Comparison {
        let comparisons = rows
            .iter()
            .map(|(w, m, r, ci, verdict)| {
                let mut c = crate::analysis::compare::test_comparison(w, *m);
                c.ratio = *r;
                c.ci_low = ci.map(|c| c.0);
                c.ci_high = ci.map(|c| c.1);
                c.verdict = Verdict::from_name(verdict).expect("a verdict name");
                c.n_baseline = 5;
                c.n_candidate = 4;
                if r.is_none() {
                    c.note = Some("fewer than 2 runs on a side".into());
                }
                c
            })
            .collect();
        Comparison {
            axis: Axis::Backend,
            sides: vec!["base".into(), "cand".into()],
            baseline: Some("base".into()),
            confidence: 0.95,
            correction: Correction::Bh,
            failed_runs: vec![],
            family_size: rows.len(),
            adjusted_alpha: 0.05,
            mismatches: vec![],
            unverified: vec![],
            hash_notes: vec![],
            groups: vec![],
            comparisons,
        }
    }

    fn sample() -> Comparison {
        comparison(&[
            ("wordcount", Metric::Throughput, Some(1.12), Some((1.05, 1.2)), "better"),
            (
                "join <&\"'>",
                Metric::Throughput,
                Some(0.93),
                Some((0.9, 0.97)),
                "worse",
            ),
            ("Q1", Metric::Throughput, Some(1.01), Some((0.95, 1.08)), "~"),
            ("Q1", Metric::LatencyP95, Some(0.7), Some((0.5, 1.4)), "unstable"),
            ("Q2", Metric::LatencyP95, None, None, "n/a"),
            ("Q3", Metric::LatencyP99, Some(1.5), None, "~"),
            ("huge", Metric::LatencyP99, Some(40.0), Some((-3.0, 400.0)), "~"),
        ])
    }

    #[test]
    fn one_page_shows_every_row_with_its_marker_colours() {
        let pages = forest_pages(&sample(), 0.05);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].stem, "ratio_forest");
        assert_eq!(pages[0].rows.len(), 7);
        assert!(pages[0].subtitle.contains("all 7 comparisons"), "{}", pages[0].subtitle);
        // Grouped by metric, report order within.
        let metrics: Vec<Metric> = pages[0].rows.iter().map(|r| r.metric).collect();
        assert!(metrics.windows(2).all(|w| w[0] <= w[1]));
        assert!((pages[0].half_span - MAX_FOLD.ln()).abs() < 1e-12, "capped axis");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.png");
        std::fs::write(&path, page_png(&pages[0]).unwrap()).unwrap();
        let png = decode(&path);
        assert!(png.w >= 1200 && png.h > 400);
        for c in [GREEN, VERMILLION, BLUE, ORANGE, BAND] {
            assert!(has_colour(&png, c), "{c:?} missing");
        }
        if let Ok(dest) = std::env::var("SAGEREPORT_FOREST_SAMPLE") {
            std::fs::copy(&path, dest).unwrap();
        }
    }

    #[test]
    fn svg_has_one_escaped_title_per_comparison() {
        let pages = forest_pages(&sample(), 0.05);
        let svg = page_svg(&pages[0]).unwrap();
        assert_eq!(svg.matches("<title>").count(), 7);
        assert!(
            svg.contains(
                "<title>join &lt;&amp;&quot;&apos;&gt; — throughput, cand / base: ratio 0.9300 [0.9000, 0.9700]"
            ),
            "{svg}"
        );
        assert!(svg.contains("verdict: worse</title>"));
        assert!(svg.contains("Q2 — latency_p95, cand / base: no ratio; n=5/4 runs (baseline/candidate); verdict: no verdict (fewer than 2 runs on a side)</title>"));
        assert!(!svg.contains("<&"));
        assert_well_formed_xml(&svg);
    }

    #[test]
    fn many_comparisons_are_paginated_and_all_shown() {
        let mut rows = Vec::new();
        let names: Vec<String> = (0..70).map(|i| format!("w{i:03}")).collect();
        for m in Metric::ALL {
            for n in &names {
                rows.push((n.as_str(), m, Some(1.0), Some((0.9, 1.1)), "~"));
            }
        }
        let c = comparison(&rows);
        let pages = forest_pages(&c, 0.05);
        // 70 per metric > MAX_ROWS: each metric in two pages of 35.
        assert_eq!(pages.len(), 6);
        assert!(pages.iter().all(|p| p.rows.len() <= MAX_ROWS && p.rows.len() == 35));
        let stems: Vec<&str> = pages.iter().map(|p| p.stem.as_str()).collect();
        assert_eq!(stems[..3], ["ratio_forest", "ratio_forest-2", "ratio_forest-3"]);
        assert_eq!(pages.iter().map(|p| p.rows.len()).sum::<usize>(), 210);
        assert!(
            pages[1].subtitle.contains("page 2 of 6, comparisons 36–70 of 210"),
            "{}",
            pages[1].subtitle
        );
        // Whole metrics share a page while they fit.
        let c = comparison(&rows[..60]);
        assert_eq!(forest_pages(&c, 0.05).len(), 1);
        let c = comparison(&[rows[..40].to_vec(), rows[70..110].to_vec()].concat());
        let pages = forest_pages(&c, 0.05);
        assert_eq!(pages.iter().map(|p| p.rows.len()).collect::<Vec<_>>(), [40, 40]);
    }

    #[test]
    fn empty_comparison_still_draws_a_page() {
        let pages = forest_pages(&comparison(&[]), 0.05);
        assert_eq!(pages.len(), 1);
        assert!(pages[0].subtitle.starts_with("no comparison"));
        let svg = page_svg(&pages[0]).unwrap();
        assert!(svg.contains("no comparison") && !svg.contains("<title>"));
        page_png(&pages[0]).unwrap();
    }

    #[test]
    fn deterministic_bytes() {
        let c = sample();
        assert_eq!(
            ratio_forest_pngs(&c, 0.05).unwrap(),
            ratio_forest_pngs(&c, 0.05).unwrap()
        );
        assert_eq!(
            ratio_forest_svgs(&c, 0.05).unwrap(),
            ratio_forest_svgs(&c, 0.05).unwrap()
        );
    }
}
