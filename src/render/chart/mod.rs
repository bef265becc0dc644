//! The chart toolkit's common ground: a [`Figure`] (file stem, caption and
//! something [`Drawing`] PNG or SVG bytes) and the canvases every chart is
//! drawn on. Chart engines return bytes; only the output writer
//! ([`crate::util::output::write_files`]) touches paths, so the PDF embeds
//! the very bytes the bundle writes, with the caption the chart carries.
//!
//! The toolkit: [`style`] (font, colours, text fitting, ticks, legends),
//! [`bars`] (grouped bars with whiskers and `n=` labels), [`lines`] (line
//! charts and small-multiple panels), [`hover`] (SVG hover titles),
//! [`raster`] (the PNG backend, with cached glyphs), [`encode`] (PNG bytes).

pub mod bars;
pub mod encode;
pub mod hover;
pub mod lines;
pub mod raster;
pub mod style;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The two encodings every chart is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// The file extension, without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// Anything drawn as a chart: the bytes of its PNG or SVG file.
pub trait Drawing: Sync {
    fn draw(&self, format: Format) -> Result<Vec<u8>>;
}

impl<T: Drawing + ?Sized> Drawing for Box<T> {
    fn draw(&self, format: Format) -> Result<Vec<u8>> {
        (**self).draw(format)
    }
}

/// One figure: `stem.png` and `stem.svg`, and the caption it carries into
/// the PDF.
#[derive(Debug, Clone)]
pub struct Figure<C> {
    /// File name without extension, e.g. `throughput_comparison-q`.
    pub stem: String,
    /// What the figure shows, one sentence (the PDF's caption).
    pub caption: String,
    pub chart: C,
}

impl<C: Drawing> Figure<C> {
    /// The PNG bytes (what the PDF embeds).
    pub fn png(&self) -> Result<Vec<u8>> {
        self.chart.draw(Format::Png)
    }

    /// `stem.png` then `stem.svg`, as output files.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        [Format::Png, Format::Svg]
            .into_iter()
            .map(|f| Ok((format!("{}.{}", self.stem, f.ext()), self.chart.draw(f)?)))
            .collect()
    }
}

/// Every figure's files (PNG, then SVG, figure by figure), drawn in parallel.
pub fn figure_files<C: Drawing>(figures: &[Figure<C>]) -> Result<Vec<crate::render::OutFile>> {
    use rayon::prelude::*;
    let drawn: Vec<Result<Vec<crate::render::OutFile>>> = figures.par_iter().map(Figure::files).collect();
    let mut out = Vec::with_capacity(figures.len() * 2);
    for files in drawn {
        out.extend(files?);
    }
    Ok(out)
}

/// Every figure's files written into `dir` (see
/// [`crate::util::output::write_files`]) as soon as each is drawn, in
/// parallel; their names in [`figure_files`]'s order. A large report's
/// charts are tens of megabytes: held until the last was drawn, they were
/// a third of `compare`'s peak memory, and the files were then created one
/// by one after the drawing had ended.
pub fn write_figures<C: Drawing>(figures: &[Figure<C>], dir: &std::path::Path) -> Result<Vec<String>> {
    use rayon::prelude::*;
    let written: Vec<Result<Vec<String>>> = figures
        .par_iter()
        .map(|figure| {
            [Format::Png, Format::Svg]
                .into_iter()
                .map(|f| {
                    let name = format!("{}.{}", figure.stem, f.ext());
                    let file = [(name, figure.chart.draw(f)?)];
                    crate::util::output::write_files(dir, &file)?;
                    let [(name, _)] = file;
                    Ok(name)
                })
                .collect()
        })
        .collect();
    let mut names = Vec::with_capacity(figures.len() * 2);
    for files in written {
        names.extend(files?);
    }
    Ok(names)
}

/// A `w`×`h` RGB bitmap drawn by `draw`, as PNG bytes.
pub fn png_canvas(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<raster::Raster<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    // One pixel buffer per thread, reused: a fresh multi-megabyte buffer per
    // figure cost more in page faults than drawing the figure.
    thread_local! {
        static PIXELS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PIXELS.with(|pixels| {
        let mut buf = pixels.take();
        buf.clear();
        buf.resize(w as usize * h as usize * 3, 0);
        {
            let root = raster::Raster::new(&mut buf, (w, h)).into_drawing_area();
            draw(&root)?;
            root.present().map_err(style::plot_err)?;
        }
        let png = encode::encode_png_bytes(&buf, w, h);
        pixels.replace(buf);
        png
    })
}

/// A `w`×`h` SVG document drawn by `draw`.
pub fn svg_canvas(
    w: u32,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(style::plot_err)?;
    }
    Ok(svg)
}
