//! The charts' look and text: the embedded font and its sizes, the
//! Okabe–Ito palette and inks, text measuring, truncating and fitting, tick
//! labels, the legend and `n=` label conventions, and PNG encoding. Every
//! chart engine (bars, lines and panels, the forest plot) draws with these.
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

use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontDesc, FontFamily, FontStyle, FontTransform};

// ---------------------------------------------------------------------------
// Font

pub(crate) const FONT: &str = "sans-serif";
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../../site/fonts/DejaVuSans.ttf");
/// Droid Sans Fallback (Apache 2.0): Chinese and Japanese (not Korean), for the
/// characters DejaVu Sans lacks — a side or workload named in them would
/// otherwise be drawn as empty boxes in the PNGs and the PDF.
pub(crate) static FALLBACK_FONT_BYTES: &[u8] = include_bytes!("../../../site/fonts/DroidSansFallbackFull.ttf");

/// Register the embedded font with plotters once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
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
    super::raster::text_width(size, text)
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
// Colours

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
pub(crate) const MAX_ABS: f64 = 1e300;

/// `v` clamped to ±[`MAX_ABS`].
pub(crate) fn clamp(v: f64) -> f64 {
    v.clamp(-MAX_ABS, MAX_ABS)
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
// Legends and labels

/// How the `n=` labels are shown: `n=12` over each bar or point, a bare
/// `12` (the footnote says what it is), or not at all.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum NStyle {
    Full,
    Bare,
    Hidden,
}

impl NStyle {
    /// The label of a bar or point with `n` samples, if labels are shown.
    pub(crate) fn label(self, n: usize) -> Option<String> {
        match self {
            NStyle::Full => Some(format!("n={n}")),
            NStyle::Bare => Some(n.to_string()),
            NStyle::Hidden => None,
        }
    }
}

/// One legend entry: its text, its colour slot, whether its glyph is a line
/// (with a marker) or a swatch, and its x in the legend row.
pub(crate) struct LegendItem {
    pub(crate) text: String,
    pub(crate) slot: usize,
    pub(crate) line: bool,
    pub(crate) x: i32,
}

/// A legend swatch's side, and a line glyph's width.
pub(crate) const SWATCH: i32 = 16;
pub(crate) const LEGEND_GLYPH: i32 = 34;

pub(crate) fn legend_item_width(text: &str, line: bool) -> i32 {
    (if line { LEGEND_GLYPH } else { SWATCH }) + 8 + text_width(LEGEND_PX, text)
}

/// Space above the title, and the height of one legend row.
pub(crate) const TOP_PAD: i32 = 16;
pub(crate) const LEGEND_ROW_H: i32 = 30;

/// Draw the title (centred, at the top) and the legend rows under it: a
/// swatch, or for a line item a line through its marker (`marker` draws the
/// series' marker at a point), then the item's text.
pub(crate) fn draw_title_and_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    width: u32,
    rows: &[Vec<LegendItem>],
    legend_top: i32,
    marker: impl Fn(&DrawingArea<DB, Shift>, usize, RGBColor, i32, i32) -> Result<()>,
) -> Result<()> {
    root.draw_text(
        title,
        &style(TITLE_PX, INK, HPos::Center, VPos::Top),
        (width as i32 / 2, TOP_PAD),
    )
    .map_err(plot_err)?;
    for (r, row) in rows.iter().enumerate() {
        let cy = legend_top + r as i32 * LEGEND_ROW_H + LEGEND_ROW_H / 2;
        for item in row {
            let c = series_color(item.slot);
            let text_x = if item.line {
                root.draw(&PathElement::new(
                    vec![(item.x, cy), (item.x + LEGEND_GLYPH, cy)],
                    c.stroke_width(2),
                ))
                .map_err(plot_err)?;
                marker(root, item.slot, c, item.x + LEGEND_GLYPH / 2, cy)?;
                item.x + LEGEND_GLYPH + 8
            } else {
                let (x0, y0) = (item.x, cy - SWATCH / 2);
                root.draw(&Rectangle::new([(x0, y0), (x0 + SWATCH, y0 + SWATCH)], c.filled()))
                    .map_err(plot_err)?;
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + SWATCH, y0 + SWATCH)],
                    darker(c).stroke_width(1),
                ))
                .map_err(plot_err)?;
                x0 + SWATCH + 8
            };
            root.draw_text(
                &item.text,
                &style(LEGEND_PX, INK, HPos::Left, VPos::Center),
                (text_x, cy),
            )
            .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// Height of one line of a category label under the x axis.
pub(crate) const CATEGORY_LINE_H: i32 = 20;

/// A category's label under the x axis, its top centred at `(x, y)`: the
/// first line rotated (reading upwards), or the lines one under another.
pub(crate) fn draw_category_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[String],
    rotated: bool,
    (x, y): (i32, i32),
) -> Result<()> {
    if rotated {
        root.draw_text(
            &lines[0],
            &style(GROUP_PX, INK, HPos::Right, VPos::Center).transform(FontTransform::Rotate270),
            (x, y),
        )
        .map_err(plot_err)?;
    } else {
        for (li, line) in lines.iter().enumerate() {
            root.draw_text(
                line,
                &style(GROUP_PX, INK, HPos::Center, VPos::Top),
                (x, y + li as i32 * CATEGORY_LINE_H),
            )
            .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// The label on one line, or split in two at a separator, if that fits.
pub(crate) fn fit_horizontal(label: &str, avail: i32) -> Option<Vec<String>> {
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
        if worst <= avail && best.as_ref().is_none_or(|(w, _, _)| worst < *w) {
            best = Some((worst, a.to_string(), b.to_string()));
        }
    }
    best.map(|(_, a, b)| vec![a, b])
}
