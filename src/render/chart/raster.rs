//! The PNG drawing backend: plotters' bitmap backend with text drawn from
//! a per-thread glyph cache.
//!
//! plotters rasterises every glyph of every label anew (outline, then
//! coverage), which was a fifth of the CPU time of a report with a
//! thousand comparisons. A glyph's coverage depends only on its character
//! and the font size (plotters places each glyph at the origin and shifts
//! by whole pixels), so [`Raster`] computes it once per thread and replays
//! it. The layout, the kerning, the pixel order and the colour mixing are
//! plotters 0.3.7's (`FontDataInternal::draw`, `estimate_layout`,
//! `DrawingBackend::draw_text`, `TextStyle::draw`), so the pixels are the
//! same; anything this cache does not cover (another family, a style)
//! goes to plotters unchanged.

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontFamily, FontStyle,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use std::hash::BuildHasherDefault;

/// One glyph at one size: its coverage pixels in plotters' order, the
/// vertical shift plotters applies, its advance and id.
struct Glyph {
    id: ab_glyph::GlyphId,
    /// From the fallback font (a character DejaVu Sans lacks): its id is
    /// that font's, and it is never kerned.
    fallback: bool,
    advance: f32,
    /// `None` for a glyph without outline (a space).
    shape: Option<Outline>,
}

/// A glyph's vertical shift and its pixels `(x, y, coverage)`.
type Outline = (i32, Box<[(i32, i32, f32)]>);

#[derive(Default)]
struct Cache {
    glyphs: HashMap<(u64, char), Rc<Glyph>, BuildHasherDefault<KeyHasher>>,
    kerning: HashMap<(u64, ab_glyph::GlyphId, ab_glyph::GlyphId), f32, BuildHasherDefault<KeyHasher>>,
}

/// A multiply-rotate hasher for the caches' small integer keys (sizes,
/// characters, glyph ids): the keys are our own, so no DoS resistance is
/// needed, and a general-purpose hasher cost more than the lookups saved.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u16(&mut self, x: u16) {
        self.write_u64(u64::from(x));
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn font() -> &'static FontRef<'static> {
    static FONT: std::sync::OnceLock<FontRef<'static>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(super::style::FONT_BYTES).expect("the embedded font parses"))
}

fn fallback_font() -> &'static FontRef<'static> {
    static FONT: std::sync::OnceLock<FontRef<'static>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(super::style::FALLBACK_FONT_BYTES).expect("the embedded fallback font parses")
    })
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

impl Cache {
    fn glyph(&mut self, size: f64, c: char) -> Rc<Glyph> {
        self.glyphs
            .entry((size.to_bits(), c))
            .or_insert_with(|| {
                // A character DejaVu Sans maps to no glyph (id 0, drawn as
                // a box) comes from the fallback font when that has it.
                let primary = font().glyph_id(c).0 != 0 || fallback_font().glyph_id(c).0 == 0;
                let font = if primary { font() } else { fallback_font() }.as_scaled(size as f32);
                let id = font.glyph_id(c);
                let shape = font.outline_glyph(font.scaled_glyph(c)).map(|q| {
                    let y_shift = ((size as f32) / 2.0 + q.px_bounds().min.y) as i32;
                    let mut pixels = Vec::new();
                    q.draw(|x, y, cover| pixels.push((x as i32, y as i32, cover)));
                    (y_shift, pixels.into_boxed_slice())
                });
                Rc::new(Glyph {
                    id,
                    fallback: !primary,
                    advance: font.h_advance(id),
                    shape,
                })
            })
            .clone()
    }

    /// The kerning between two glyphs of the primary font (none across fonts).
    fn kern(&mut self, size: f64, a: &Glyph, b: &Glyph) -> f32 {
        if a.fallback || b.fallback {
            return 0.0;
        }
        *self
            .kerning
            .entry((size.to_bits(), a.id, b.id))
            .or_insert_with(|| font().as_scaled(size as f32).kern(a.id, b.id))
    }

    /// plotters' `estimate_layout`: advances plus kerning, truncated.
    fn layout(&mut self, size: f64, text: &str) -> ((i32, i32), (i32, i32)) {
        let mut x_pixels = 0f32;
        let mut prev: Option<Rc<Glyph>> = None;
        for c in text.chars() {
            let g = self.glyph(size, c);
            x_pixels += g.advance;
            if let Some(p) = &prev {
                x_pixels += self.kern(size, p, &g);
            }
            prev = Some(g);
        }
        ((0, 0), (x_pixels as i32, (size / 1.24) as i32))
    }
}

/// The cached advance width of `text` at `size` (plotters' layout width).
pub(crate) fn text_width(size: f64, text: &str) -> i32 {
    CACHE.with(|cache| {
        let ((x0, _), (x1, _)) = cache.borrow_mut().layout(size, text);
        x1 - x0
    })
}

/// plotters' bitmap backend with cached text (see the module comment):
/// an RGB8 buffer, lent to a `BitMapBackend` for each drawing call so that
/// text can blend straight into it.
pub struct Raster<'a> {
    buf: &'a mut [u8],
    size: (u32, u32),
}

impl<'a> Raster<'a> {
    /// A `w`×`h` canvas on `buf` (`w·h·3` bytes, row-major RGB).
    pub fn new(buf: &'a mut [u8], (w, h): (u32, u32)) -> Raster<'a> {
        assert!(buf.len() >= w as usize * h as usize * 3, "a {w}×{h} RGB buffer");
        Raster { buf, size: (w, h) }
    }

    /// plotters' backend on the buffer (it keeps no state of its own).
    fn bitmap(&mut self) -> BitMapBackend<'_> {
        BitMapBackend::with_buffer(self.buf, self.size)
    }

    /// One text pixel of `rgb` at coverage `alpha`, as plotters'
    /// `PixelFormat::draw_pixel` for RGB8 writes it: opaque above
    /// 1 − 1/256, else each channel moved by ⌊256·alpha⌋/256 of the way.
    #[inline]
    fn blend_pixel(&mut self, (x, y): (i32, i32), (r, g, b): (u8, u8, u8), alpha: f64) {
        let at = (y as usize * self.size.0 as usize + x as usize) * 3;
        let Some(px) = self.buf.get_mut(at..at + 3) else {
            return;
        };
        if alpha >= 1.0 - 1.0 / 256.0 {
            px.copy_from_slice(&[r, g, b]);
        } else if alpha > 0.0 {
            let a = (alpha * 256.0) as u64;
            for (old, new) in px.iter_mut().zip([r, g, b]) {
                if new > *old {
                    *old += (u64::from(new - *old) * a / 256) as u8;
                } else {
                    *old -= (u64::from(*old - new) * a / 256) as u8;
                }
            }
        }
    }
}

/// Text in the embedded font, which the cache covers.
fn cached<S: BackendTextStyle>(style: &S) -> bool {
    matches!(style.family(), FontFamily::Name(name) if name == super::style::FONT)
        && matches!(style.style(), FontStyle::Normal)
}

impl DrawingBackend for Raster<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().draw_rect(upper_left, bottom_right, style, fill)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.bitmap().blit_bitmap(pos, (iw, ih), src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        if !cached(style) {
            return BitMapBackend::with_buffer(&mut [], (0, 0)).estimate_text_size(text, style);
        }
        let ((x0, y0), (x1, y1)) = CACHE.with(|cache| cache.borrow_mut().layout(style.size(), text));
        Ok(((x1 - x0) as u32, (y1 - y0) as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if !cached(style) || color.alpha == 0.0 {
            return self.bitmap().draw_text(text, style, pos);
        }
        let size = style.size();
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            let ((min_x, min_y), (max_x, max_y)) = cache.layout(size, text);
            let (width, height) = (max_x - min_x, max_y - min_y);
            let anchor = style.anchor();
            let dx = match anchor.h_pos {
                plotters_backend::text_anchor::HPos::Left => 0,
                plotters_backend::text_anchor::HPos::Right => -width,
                plotters_backend::text_anchor::HPos::Center => -width / 2,
            };
            let dy = match anchor.v_pos {
                plotters_backend::text_anchor::VPos::Top => 0,
                plotters_backend::text_anchor::VPos::Center => -height / 2,
                plotters_backend::text_anchor::VPos::Bottom => -height,
            };
            let transform = style.transform();
            let (w, h) = self.size;
            let mut x_shift = 0f32;
            let mut prev: Option<Rc<Glyph>> = None;
            for c in text.chars() {
                let g = cache.glyph(size, c);
                if let Some(p) = &prev {
                    x_shift += cache.kern(size, p, &g);
                }
                prev = Some(g.clone());
                if let Some((y_shift, pixels)) = &g.shape {
                    let x_at = x_shift as i32;
                    for &(x, y, cover) in pixels.iter() {
                        let (x, y) = transform.transform(x + x_at + dx - min_x, y + y_shift + dy - min_y);
                        let (x, y) = (pos.0 + x, pos.1 + y);
                        if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                            self.blend_pixel((x, y), color.rgb, color.alpha * cover as f64);
                        }
                    }
                }
                x_shift += g.advance;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_dejavu_lacks_are_drawn_from_the_fallback_font() {
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            for c in ['名', 'レ', '吞'] {
                let g = cache.glyph(16.0, c);
                assert!(g.fallback && g.shape.is_some(), "{c}");
                assert!(g.advance > 10.0, "{c}: a full-width advance, not a box's");
            }
            for c in ['a', 'µ', '→'] {
                assert!(!cache.glyph(16.0, c).fallback, "{c}");
            }
            // Neither font has it: DejaVu's missing-glyph box, as before.
            assert!(!cache.glyph(16.0, '\u{10FFFD}').fallback);
            // Text mixing both fonts is laid out without kerning across them.
            let mixed = cache.layout(16.0, "a名").1 .0;
            let apart = cache.layout(16.0, "a").1 .0 + cache.layout(16.0, "名").1 .0;
            assert!((mixed - apart).abs() <= 1, "{mixed} vs {apart}");
        });
    }
}
