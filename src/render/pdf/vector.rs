//! Vector pages for the PDF: a chart's own plotters drawing code on a
//! backend ([`PdfCanvas`]) that writes PDF drawing operators instead of
//! pixels, gathered into one small PDF document ([`document`]) that the
//! report embeds page by page (`image("…pdf", page: k)`; typst copies each
//! page as a form XObject).
//!
//! Why: typst decodes every PNG it embeds into a pixel buffer, keeps all of
//! them until the PDF is written and deflates each again — about 40 MB and
//! 0.1 s per forest page, so a report of 15,000 workloads (700 pages of
//! ratio forest plot) needed gigabytes. Drawn as vectors, a page is a few
//! kilobytes of operators, its text stays text (selectable, searchable,
//! `pdftotext` reads it) and every page shares one font.
//!
//! The canvas works in the chart's pixels (1 px = 1 pt, origin top left, as
//! plotters draws); typst scales the page to the figure width. Text is set
//! in DejaVu Sans — the charts' face — embedded once per document as a
//! CID-keyed TrueType font (`Identity-H`, glyph ids as codes) with a
//! `ToUnicode` map, at the scale plotters lays text out with (the font's
//! ascent − descent = the size in px), so anchors and widths match the
//! layout the drawing code computed. Deterministic: the same drawing gives
//! the same bytes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::FontTransform;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One page: its size in pixels (= points), its drawing operators (y down)
/// and the glyphs its text uses (glyph id → the character it stands for).
pub struct VectorPage {
    pub width: u32,
    pub height: u32,
    content: String,
    glyphs: BTreeMap<u16, char>,
    /// Glyphs of the fallback face (`/F2`), for characters DejaVu Sans lacks.
    fallback_glyphs: BTreeMap<u16, char>,
}

/// What a page's drawing records: its PDF operators and the text state.
pub struct PdfCanvas {
    width: u32,
    height: u32,
    content: String,
    glyphs: BTreeMap<u16, char>,
    fallback_glyphs: BTreeMap<u16, char>,
    fill: Option<(u8, u8, u8)>,
    stroke: Option<(u8, u8, u8)>,
    line_width: Option<u32>,
}

/// The plotters backend of a page: records into a [`PdfCanvas`].
pub struct Canvas<'a>(&'a mut PdfCanvas);

/// A number as short PDF text: at most two decimals, no trailing zeros.
fn num(out: &mut String, x: f64) {
    let hundredths = (x * 100.0).round() as i64;
    if hundredths < 0 {
        out.push('-');
    }
    let (whole, frac) = (hundredths.unsigned_abs() / 100, hundredths.unsigned_abs() % 100);
    let _ = write!(out, "{whole}");
    match frac {
        0 => {}
        f if f % 10 == 0 => {
            let _ = write!(out, ".{}", f / 10);
        }
        f => {
            let _ = write!(out, ".{f:02}");
        }
    }
}

fn channel(out: &mut String, v: u8) {
    num(out, v as f64 / 255.0);
    out.push(' ');
}

impl PdfCanvas {
    fn new(width: u32, height: u32) -> PdfCanvas {
        let mut content = String::with_capacity(16 * 1024);
        // Flip to plotters' coordinates: origin top left, y down.
        let _ = writeln!(content, "1 0 0 -1 0 {height} cm");
        PdfCanvas {
            width,
            height,
            content,
            glyphs: BTreeMap::new(),
            fallback_glyphs: BTreeMap::new(),
            fill: None,
            stroke: None,
            line_width: None,
        }
    }

    /// `r g b op` (`rg` fill, `RG` stroke).
    fn write_rgb(&mut self, (r, g, b): (u8, u8, u8), op: &str) {
        for v in [r, g, b] {
            channel(&mut self.content, v);
        }
        self.content.push_str(op);
        self.content.push('\n');
    }

    fn set_fill(&mut self, c: BackendColor) {
        if self.fill != Some(c.rgb) {
            self.write_rgb(c.rgb, "rg");
            self.fill = Some(c.rgb);
        }
    }

    fn set_stroke(&mut self, c: BackendColor, width: u32) {
        if self.stroke != Some(c.rgb) {
            self.write_rgb(c.rgb, "RG");
            self.stroke = Some(c.rgb);
        }
        if self.line_width != Some(width) {
            let _ = writeln!(self.content, "{width} w");
            self.line_width = Some(width);
        }
    }

    /// The fill (`fill`) or the stroke colour and width of a shape in
    /// `style`; false when the shape is invisible and nothing is drawn.
    fn paint<S: BackendStyle>(&mut self, style: &S, fill: bool) -> bool {
        let color = style.color();
        if color.alpha == 0.0 {
            return false;
        }
        if fill {
            self.set_fill(color);
        } else {
            self.set_stroke(color, style.stroke_width());
        }
        true
    }

    fn point(&mut self, (x, y): BackendCoord, op: &str) {
        let _ = writeln!(self.content, "{x} {y} {op}");
    }

    fn path(&mut self, points: &[BackendCoord], close: bool) {
        for (i, p) in points.iter().enumerate() {
            self.point(*p, if i == 0 { "m" } else { "l" });
        }
        if close {
            self.content.push_str("h\n");
        }
    }
}

/// The face every vector page sets its text in.
fn face() -> &'static typst::text::FontInstance {
    super::world::sans_instance()
}

/// Which face a glyph is set in: DejaVu Sans (`/F1`), or Droid Sans
/// Fallback (`/F2`) for a character only that has — as the PNG charts do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Face {
    Sans,
    Fallback,
}

impl Face {
    fn instance(self) -> &'static typst::text::FontInstance {
        match self {
            Face::Sans => face(),
            Face::Fallback => super::world::fallback_instance(),
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Face::Sans => "/F1",
            Face::Fallback => "/F2",
        }
    }
}

/// Pixels per em of `face` at plotters' text size `size` (its fonts are
/// scaled so that ascent − descent is `size` pixels).
fn em_px(size: f64, face: Face) -> f64 {
    let f = face.instance();
    let ttf = f.ttf();
    let height = (ttf.ascender() as f64 - ttf.descender() as f64) / f.units_per_em();
    size / height
}

/// Face, glyph id and advance (em) of `c`: DejaVu Sans', else the
/// fallback's; DejaVu's `.notdef` (0) when neither has it.
fn glyph(c: char) -> (Face, u16, f64) {
    static ASCII: std::sync::OnceLock<Vec<(u16, f64)>> = std::sync::OnceLock::new();
    let lookup = |f: &typst::text::FontInstance, c: char| {
        let id = f.ttf().glyph_index(c).map(|g| g.0).unwrap_or(0);
        (id, f.x_advance(id).map(|e| e.get()).unwrap_or(0.0))
    };
    if c.is_ascii() {
        let (id, advance) = ASCII.get_or_init(|| (0..128u8).map(|b| lookup(face(), b as char)).collect())[c as usize];
        return (Face::Sans, id, advance);
    }
    match lookup(face(), c) {
        (0, _) => match lookup(Face::Fallback.instance(), c) {
            (0, _) => (Face::Sans, 0, face().x_advance(0).map(|e| e.get()).unwrap_or(0.0)),
            (id, advance) => (Face::Fallback, id, advance),
        },
        (id, advance) => (Face::Sans, id, advance),
    }
}

/// Width in px of `chars` at `size`, each at its face's scale. The sums
/// are kept per face so that text in DejaVu Sans alone measures exactly as
/// it did before the fallback face existed.
fn width_px(chars: impl Iterator<Item = char>, size: f64) -> f64 {
    let (mut sans, mut fallback) = (0.0, 0.0);
    for c in chars {
        match glyph(c) {
            (Face::Sans, _, advance) => sans += advance,
            (Face::Fallback, _, advance) => fallback += advance,
        }
    }
    let width = sans * em_px(size, Face::Sans);
    if fallback == 0.0 {
        width
    } else {
        width + fallback * em_px(size, Face::Fallback)
    }
}

fn text_width_px(text: &str, size: f64) -> f64 {
    width_px(text.chars(), size)
}

impl DrawingBackend for Canvas<'_> {
    type ErrorType = std::fmt::Error;

    fn get_size(&self) -> (u32, u32) {
        (self.0.width, self.0.height)
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if color.alpha > 0.0 {
            self.0.set_fill(color);
            let _ = writeln!(self.0.content, "{} {} 1 1 re f", point.0, point.1);
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if !self.0.paint(style, fill) {
            return Ok(());
        }
        let (x0, y0) = upper_left;
        let (x1, y1) = bottom_right;
        let _ = writeln!(
            self.0.content,
            "{x0} {y0} {} {} re {}",
            x1 - x0,
            y1 - y0,
            if fill { "f" } else { "S" }
        );
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if points.len() < 2 || !self.0.paint(style, false) {
            return Ok(());
        }
        self.0.path(&points, false);
        self.0.content.push_str("S\n");
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if !self.0.paint(style, fill) {
            return Ok(());
        }
        // Four cubic Béziers, control points at 0.5523 r.
        let (cx, cy, r) = (center.0 as f64, center.1 as f64, radius as f64);
        let k = 0.5523 * r;
        let mut s = String::new();
        let pt = |s: &mut String, x: f64, y: f64| {
            num(s, x);
            s.push(' ');
            num(s, y);
            s.push(' ');
        };
        pt(&mut s, cx + r, cy);
        s.push_str("m\n");
        for (x1, y1, x2, y2, x3, y3) in [
            (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
        ] {
            pt(&mut s, x1, y1);
            pt(&mut s, x2, y2);
            pt(&mut s, x3, y3);
            s.push_str("c\n");
        }
        s.push_str(if fill { "f\n" } else { "h S\n" });
        self.0.content.push_str(&s);
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        if points.len() < 3 || !self.0.paint(style, true) {
            return Ok(());
        }
        self.0.path(&points, true);
        self.0.content.push_str("f\n");
        Ok(())
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let size = style.size();
        let em = em_px(size, Face::Sans);
        let width = text_width_px(text, size);
        let m = face().metrics();
        // Where the baseline starts, from the anchor, as if unrotated: the
        // cap height centred on the anchor, the ascender below it, the
        // descender above it.
        let dx = -match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => width / 2.0,
            HPos::Right => width,
        };
        let dy = em
            * match style.anchor().v_pos {
                VPos::Top => m.ascender.get(),
                VPos::Center => m.cap_height.get() / 2.0,
                VPos::Bottom => m.descender.get(),
            };
        // plotters' rotations (FontTransform::transform), y down.
        let turn = |(a, b): (f64, f64)| match style.transform() {
            FontTransform::Rotate90 => (-b, a),
            FontTransform::Rotate180 => (-a, -b),
            FontTransform::Rotate270 => (b, -a),
            _ => (a, b),
        };
        let (ox, oy) = turn((dx, dy));
        let (x, y) = (pos.0 as f64 + ox, pos.1 as f64 + oy);
        // The text matrix: its x axis along the turned baseline, its y axis
        // (up) along the turned "up", (0, −1) on the page.
        let (along, up) = (turn((1.0, 0.0)), turn((0.0, -1.0)));
        self.0.set_fill(color);
        // One text object per run of one face, each starting where the
        // runs before it end along the baseline.
        let chars: Vec<char> = text.chars().collect();
        let faced: Vec<(Face, u16)> = chars.iter().map(|&c| glyph(c)).map(|(f, id, _)| (f, id)).collect();
        let mut start = 0;
        while start < chars.len() {
            let run_face = faced[start].0;
            let end = faced[start..]
                .iter()
                .position(|(f, _)| *f != run_face)
                .map_or(chars.len(), |n| start + n);
            let glyphs = match run_face {
                Face::Sans => &mut self.0.glyphs,
                Face::Fallback => &mut self.0.fallback_glyphs,
            };
            let mut hex = String::with_capacity((end - start) * 4);
            for (&c, &(_, id)) in chars[start..end].iter().zip(&faced[start..end]) {
                glyphs.entry(id).or_insert(c);
                let _ = write!(hex, "{id:04X}");
            }
            let (run_x, run_y) = if start == 0 {
                (x, y)
            } else {
                let offset = width_px(chars[..start].iter().copied(), size);
                (x + along.0 * offset, y + along.1 * offset)
            };
            let mut s = format!("BT {} ", run_face.resource());
            num(&mut s, em_px(size, run_face));
            s.push_str(" Tf ");
            for v in [along.0, along.1, up.0, up.1] {
                num(&mut s, v);
                s.push(' ');
            }
            num(&mut s, run_x);
            s.push(' ');
            num(&mut s, run_y);
            let _ = writeln!(s, " Tm <{hex}> Tj ET");
            self.0.content.push_str(&s);
            start = end;
        }
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let size = style.size();
        Ok((
            text_width_px(text, size).ceil() as u32,
            em_px(size, Face::Sans).ceil() as u32,
        ))
    }
}

/// A `width`×`height` page drawn by `draw`.
pub fn draw_page(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<Canvas<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<VectorPage> {
    let mut canvas = PdfCanvas::new(width, height);
    {
        let root = Canvas(&mut canvas).into_drawing_area();
        draw(&root)?;
    }
    Ok(VectorPage {
        width: canvas.width,
        height: canvas.height,
        content: canvas.content,
        glyphs: canvas.glyphs,
        fallback_glyphs: canvas.fallback_glyphs,
    })
}

/// The PDF of `pages`, one page each, sharing one embedded font: DejaVu
/// Sans cut down to the glyphs the pages use ([`super::subset`]), and, when
/// some text needs it, Droid Sans Fallback cut down the same way (`/F2`,
/// written after the pages). The text's codes are the full font's glyph
/// ids; each `CIDToGIDMap` maps them to its subset's.
pub fn document(pages: &[VectorPage]) -> anyhow::Result<Vec<u8>> {
    let collect = |of: fn(&VectorPage) -> &BTreeMap<u16, char>| {
        let mut glyphs: BTreeMap<u16, char> = BTreeMap::new();
        for p in pages {
            for (id, c) in of(p) {
                glyphs.entry(*id).or_insert(*c);
            }
        }
        glyphs
    };
    let glyphs = collect(|p| &p.glyphs);
    let fallback_glyphs = collect(|p| &p.fallback_glyphs);
    let sans = FontObjects::new(Face::Sans, super::world::sans_bytes(), &glyphs, 3)?;
    // Objects: 1 catalog, 2 page tree, 3–8 DejaVu Sans, page k: 2k + 7
    // (page) and 2k + 8 (content), then the fallback face's six.
    let fallback = if fallback_glyphs.is_empty() {
        None
    } else {
        let first = 2 * pages.len() + 9;
        Some(FontObjects::new(
            Face::Fallback,
            super::world::fallback_bytes(),
            &fallback_glyphs,
            first,
        )?)
    };

    let mut out: Vec<u8> = Vec::with_capacity(
        pages.iter().map(|p| p.content.len() + 200).sum::<usize>()
            + sans.font.len()
            + fallback.as_ref().map_or(0, |f| f.font.len())
            + 8192,
    );
    let mut offsets: Vec<usize> = Vec::new();
    out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        let _ = writeln!(ByteWriter(out), "{} 0 obj", offsets.len());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    let kids: Vec<String> = (1..=pages.len()).map(|k| format!("{} 0 R", 2 * k + 7)).collect();
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(
        &mut out,
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).as_bytes(),
    );
    for body in sans.objects() {
        object(&mut out, &body);
    }
    let fonts = match &fallback {
        None => "/F1 3 0 R".to_string(),
        Some(f) => format!("/F1 3 0 R /F2 {} 0 R", f.first),
    };
    for (k, p) in pages.iter().enumerate() {
        object(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << {fonts} >> >> /Contents {} 0 R >>",
                p.width,
                p.height,
                2 * (k + 1) + 8
            )
            .as_bytes(),
        );
        object(&mut out, &stream("", p.content.as_bytes()));
    }
    if let Some(f) = &fallback {
        for body in f.objects() {
            object(&mut out, &body);
        }
    }
    let xref = out.len();
    let _ = write!(
        ByteWriter(&mut out),
        "xref\n0 {}\n0000000000 65535 f \n",
        offsets.len() + 1
    );
    for o in &offsets {
        let _ = writeln!(ByteWriter(&mut out), "{o:010} 00000 n ");
    }
    let _ = write!(
        ByteWriter(&mut out),
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    Ok(out)
}

/// A stream object's body: `dict` entries, its length, the data.
fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

/// One embedded face as its six objects, numbered from `first`: the Type0
/// font, its CID font, the `ToUnicode` map, the descriptor, the subset font
/// file and the `CIDToGIDMap`.
struct FontObjects<'g> {
    face: Face,
    glyphs: &'g BTreeMap<u16, char>,
    /// The subset font file, and old glyph id → new.
    font: Vec<u8>,
    new_id: BTreeMap<u16, u16>,
    first: usize,
}

impl<'g> FontObjects<'g> {
    fn new(face: Face, bytes: &[u8], glyphs: &'g BTreeMap<u16, char>, first: usize) -> anyhow::Result<Self> {
        let (font, new_id) = super::subset::subset(bytes, &glyphs.keys().copied().collect())?;
        Ok(FontObjects {
            face,
            glyphs,
            font,
            new_id,
            first,
        })
    }

    fn objects(&self) -> Vec<Vec<u8>> {
        let f = self.face.instance();
        let ttf = f.ttf();
        let per_em = |units: f64| (units * 1000.0 / f.units_per_em()).round() as i64;
        let name = match self.face {
            Face::Sans => "DejaVuSans",
            Face::Fallback => "DroidSansFallbackFull",
        };
        let n = self.first;
        let max_cid = self.glyphs.keys().next_back().copied().unwrap_or(0) as usize;
        let mut cid_to_gid = vec![0u8; 2 * (max_cid + 1)];
        for id in self.glyphs.keys() {
            let at = 2 * *id as usize;
            cid_to_gid[at..at + 2].copy_from_slice(&self.new_id[id].to_be_bytes());
        }
        let mut widths = String::new();
        for id in self.glyphs.keys() {
            let w = f.x_advance(*id).map(|e| e.get()).unwrap_or(0.0);
            let _ = write!(widths, "{id} [{}] ", (w * 1000.0).round() as i64);
        }
        let bbox = ttf.global_bounding_box();
        let m = f.metrics();
        vec![
            format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{} 0 R] /ToUnicode {} 0 R >>",
                n + 1,
                n + 2
            )
            .into_bytes(),
            format!(
                "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {} 0 R /CIDToGIDMap {} 0 R /DW 1000 /W [{}] >>",
                n + 3,
                n + 5,
                widths.trim_end()
            )
            .into_bytes(),
            stream("", to_unicode(self.glyphs).as_bytes()),
            format!(
                "<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 {} 0 R >>",
                per_em(bbox.x_min as f64),
                per_em(bbox.y_min as f64),
                per_em(bbox.x_max as f64),
                per_em(bbox.y_max as f64),
                (m.ascender.get() * 1000.0).round() as i64,
                (m.descender.get() * 1000.0).round() as i64,
                (m.cap_height.get() * 1000.0).round() as i64,
                n + 4
            )
            .into_bytes(),
            stream(&format!("/Length1 {}", self.font.len()), &self.font),
            stream("", &cid_to_gid),
        ]
    }
}

/// `write!` into a byte buffer.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The `ToUnicode` CMap: each glyph id used back to its character, so the
/// text can be searched and copied (`.notdef` maps to nothing).
fn to_unicode(glyphs: &BTreeMap<u16, char>) -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let mapped: Vec<(&u16, &char)> = glyphs.iter().filter(|(id, _)| **id != 0).collect();
    for block in mapped.chunks(100) {
        let _ = writeln!(s, "{} beginbfchar", block.len());
        for (id, c) in block {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            let _ = writeln!(s, "<{id:04X}> <{hex}>");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::text_anchor::Pos;

    fn sample() -> Vec<u8> {
        let page = draw_page(300, 120, |root| {
            root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
            root.draw(&Rectangle::new(
                [(10, 10), (100, 40)],
                RGBColor(0xE2, 0xE2, 0xE2).filled(),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            root.draw(&Circle::new((150, 25), 6, BLUE.filled()))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            root.draw(&PathElement::new(
                vec![(10, 60), (290, 60)],
                ShapeStyle::from(&BLACK).stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            root.draw(&Polygon::new(vec![(200, 80), (210, 90), (200, 100)], RED.filled()))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let font = ("sans-serif", 14.0)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center));
            root.draw_text("Q1-nodes4 · ratio 1.05 [0.98, 1.12] é", &font, (290, 100))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // Bar-chart category labels read bottom to top.
            let up = ("sans-serif", 12.0)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center))
                .transform(FontTransform::Rotate270);
            root.draw_text("rotated", &up, (20, 110))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        })
        .unwrap();
        document(&[page]).unwrap()
    }

    #[test]
    fn numbers_are_short() {
        let text = |x: f64| {
            let mut s = String::new();
            num(&mut s, x);
            s
        };
        assert_eq!(
            [
                text(3.0),
                text(-2.5),
                text(0.125),
                text(12.349),
                text(-0.004),
                text(1.999)
            ],
            ["3", "-2.5", "0.13", "12.35", "0", "2"]
        );
    }

    #[test]
    fn a_page_is_a_well_formed_pdf_with_its_text() {
        let pdf = sample();
        assert_eq!(pdf, sample(), "deterministic");
        assert!(pdf.starts_with(b"%PDF-1.7"));
        let at = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
        // Every xref offset points at its object.
        let xref_at: usize = {
            let tail = String::from_utf8_lossy(&pdf[at(b"startxref\n").unwrap() + 10..]).to_string();
            tail.lines().next().unwrap().parse().unwrap()
        };
        let xref = String::from_utf8_lossy(&pdf[xref_at..]).to_string();
        assert!(xref.starts_with("xref\n"));
        for (i, line) in xref.lines().skip(3).take_while(|l| l.ends_with(" n ")).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(
                pdf[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
        let text = String::from_utf8_lossy(&pdf);
        // The rotated label's text matrix turns its baseline upwards.
        assert!(text.contains(" Tf 0 -1 -1 0 "), "a rotated text matrix");
        // The ToUnicode map names the characters drawn.
        assert!(text.contains("beginbfchar"));
        assert!(text.contains("<00E9>"), "é is mapped");
        assert_text_reads_back(pdf, "Q1-nodes4 · ratio 1.05 [0.98, 1.12] é");
    }

    /// typst accepts `pdf` as an image page, and `expected` reads back
    /// from the report (poppler's `pdftotext`, when installed).
    fn assert_text_reads_back(pdf: Vec<u8>, expected: &str) {
        let doc = format!(
            "{}\n#image(\"forest.pdf\", page: 1, width: 50%)\n",
            super::super::TEMPLATE
        );
        let out = super::super::compile_pdf(&doc, vec![("forest.pdf".into(), pdf)]).unwrap();
        assert!(out.starts_with(b"%PDF"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.pdf");
        std::fs::write(&path, &out).unwrap();
        match std::process::Command::new("pdftotext").arg(&path).arg("-").output() {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                assert!(text.contains(expected), "{text}");
            }
            _ => eprintln!("pdftotext not found: text extraction not checked"),
        }
    }

    #[test]
    fn characters_dejavu_lacks_are_set_in_the_fallback_face() {
        let label = "Q1 吞吐量 ok";
        let page = draw_page(300, 40, |root| {
            let font = ("sans-serif", 14.0).into_font().color(&BLACK);
            root.draw_text(label, &font, (10, 10))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        })
        .unwrap();
        // Three runs: DejaVu, the fallback, DejaVu again, each placed where
        // the text before it ends.
        let runs: Vec<&str> = page.content.lines().filter(|l| l.starts_with("BT ")).collect();
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert!(runs[0].starts_with("BT /F1 ") && runs[1].starts_with("BT /F2 ") && runs[2].starts_with("BT /F1 "));
        let x_of = |run: &str| -> f64 { run.split(' ').nth(8).unwrap().parse().unwrap() };
        let first = width_px("Q1 ".chars(), 14.0);
        assert!((x_of(runs[1]) - (10.0 + first)).abs() < 0.01, "{runs:?}");
        assert_eq!(page.fallback_glyphs.values().collect::<String>(), "吐吞量");
        let pdf = document(&[page]).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("/Font << /F1 3 0 R /F2 11 0 R >>"),
            "the page names both faces"
        );
        assert!(text.contains("/BaseFont /DroidSansFallbackFull"));
        // A page without such characters embeds DejaVu Sans alone.
        let latin = String::from_utf8_lossy(&sample()).to_string();
        assert!(latin.contains("/Font << /F1 3 0 R >>") && !latin.contains("Droid"));
        assert_text_reads_back(pdf, "吞吐量");
    }
}
