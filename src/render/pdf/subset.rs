//! A TrueType font cut down to the glyphs a vector page uses
//! ([`super::vector`]), so each embedded forest file carries a few
//! kilobytes of font instead of DejaVu Sans' 740 KB.
//!
//! The glyphs kept (with `.notdef` and the parts of composite glyphs) are
//! renumbered 0, 1, … in their old order; `glyf`, `loca` (long offsets),
//! `hmtx`, and the glyph counts in `maxp` and `hhea` are rebuilt, the
//! hinting tables (`cvt `, `fpgm`, `prep`) kept as they are, everything a
//! PDF does not read (`cmap`, `name`, `post`, layout tables) dropped. The
//! caller maps its codes to the new glyph ids (a PDF `CIDToGIDMap`).
//! Only what DejaVu Sans needs is handled: a TrueType (`glyf`) font.

use anyhow::{bail, Context};
use std::collections::{BTreeMap, BTreeSet};

fn u16_at(d: &[u8], at: usize) -> anyhow::Result<u16> {
    d.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .context("font: read past the end of a table")
}

fn u32_at(d: &[u8], at: usize) -> anyhow::Result<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .context("font: read past the end of a table")
}

/// The tables of an sfnt, by tag.
fn tables(font: &[u8]) -> anyhow::Result<BTreeMap<[u8; 4], &[u8]>> {
    let n = u16_at(font, 4)? as usize;
    let mut out = BTreeMap::new();
    for i in 0..n {
        let rec = 12 + 16 * i;
        let tag: [u8; 4] = font.get(rec..rec + 4).context("font: table directory")?.try_into()?;
        let (off, len) = (u32_at(font, rec + 8)? as usize, u32_at(font, rec + 12)? as usize);
        out.insert(tag, font.get(off..off + len).context("font: table out of range")?);
    }
    Ok(out)
}

/// The components a composite glyph refers to: (byte offset of the
/// glyph-index field, glyph id).
fn components(glyph: &[u8]) -> anyhow::Result<Vec<(usize, u16)>> {
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE: u16 = 0x0020;
    const HAVE_XY_SCALE: u16 = 0x0040;
    const HAVE_2X2: u16 = 0x0080;
    let mut out = Vec::new();
    if glyph.len() < 10 || (u16_at(glyph, 0)? as i16) >= 0 {
        return Ok(out);
    }
    let mut at = 10;
    loop {
        let flags = u16_at(glyph, at)?;
        out.push((at + 2, u16_at(glyph, at + 2)?));
        at += 4 + if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & HAVE_SCALE != 0 {
            2
        } else if flags & HAVE_XY_SCALE != 0 {
            4
        } else if flags & HAVE_2X2 != 0 {
            8
        } else {
            0
        };
        if flags & MORE == 0 {
            return Ok(out);
        }
    }
}

/// Sum of big-endian u32 words (zero-padded), the sfnt table checksum.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

/// `font` with only `keep` (old glyph ids) and what they need; returns the
/// new font and the new id of every glyph kept.
pub fn subset(font: &[u8], keep: &BTreeSet<u16>) -> anyhow::Result<(Vec<u8>, BTreeMap<u16, u16>)> {
    let t = tables(font)?;
    let get = |tag: &[u8; 4]| {
        t.get(tag)
            .copied()
            .with_context(|| format!("font: no {} table", String::from_utf8_lossy(tag)))
    };
    let (head, hhea, maxp, hmtx, loca, glyf) = (
        get(b"head")?,
        get(b"hhea")?,
        get(b"maxp")?,
        get(b"hmtx")?,
        get(b"loca")?,
        get(b"glyf")?,
    );
    let num_glyphs = u16_at(maxp, 4)? as usize;
    let num_metrics = u16_at(hhea, 34)? as usize;
    let long_loca = u16_at(head, 50)? == 1;
    let glyph_range = |g: usize| -> anyhow::Result<(usize, usize)> {
        if g >= num_glyphs {
            bail!("font: glyph {g} of {num_glyphs}");
        }
        Ok(if long_loca {
            (u32_at(loca, 4 * g)? as usize, u32_at(loca, 4 * g + 4)? as usize)
        } else {
            (2 * u16_at(loca, 2 * g)? as usize, 2 * u16_at(loca, 2 * g + 2)? as usize)
        })
    };
    let glyph_data = |g: usize| -> anyhow::Result<&[u8]> {
        let (a, b) = glyph_range(g)?;
        glyf.get(a..b).context("font: glyph out of range")
    };
    // What is kept: .notdef, the glyphs asked for, their components.
    let mut kept: BTreeSet<u16> = BTreeSet::from([0]);
    let mut todo: Vec<u16> = keep.iter().copied().collect();
    while let Some(g) = todo.pop() {
        if kept.insert(g) {
            for (_, c) in components(glyph_data(g as usize)?)? {
                if !kept.contains(&c) {
                    todo.push(c);
                }
            }
        }
    }
    let new_id: BTreeMap<u16, u16> = kept.iter().enumerate().map(|(i, g)| (*g, i as u16)).collect();

    let (mut new_glyf, mut new_loca, mut new_hmtx) = (Vec::new(), Vec::new(), Vec::new());
    for &g in &kept {
        new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
        let mut data = glyph_data(g as usize)?.to_vec();
        for (at, c) in components(&data)? {
            data[at..at + 2].copy_from_slice(&new_id[&c].to_be_bytes());
        }
        new_glyf.extend_from_slice(&data);
        while new_glyf.len() % 4 != 0 {
            new_glyf.push(0);
        }
        let m = (g as usize).min(num_metrics - 1);
        let advance = u16_at(hmtx, 4 * m)?;
        let lsb = if (g as usize) < num_metrics {
            u16_at(hmtx, 4 * m + 2)?
        } else {
            u16_at(hmtx, 4 * num_metrics + 2 * (g as usize - num_metrics))?
        };
        new_hmtx.extend_from_slice(&advance.to_be_bytes());
        new_hmtx.extend_from_slice(&lsb.to_be_bytes());
    }
    new_loca.extend_from_slice(&(new_glyf.len() as u32).to_be_bytes());
    let count = (kept.len() as u16).to_be_bytes();
    let mut new_head = head.to_vec();
    new_head[8..12].copy_from_slice(&[0; 4]); // checkSumAdjustment, set below
    new_head[50..52].copy_from_slice(&1u16.to_be_bytes());
    let mut new_hhea = hhea.to_vec();
    new_hhea[34..36].copy_from_slice(&count);
    let mut new_maxp = maxp.to_vec();
    new_maxp[4..6].copy_from_slice(&count);

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = vec![
        (*b"glyf", new_glyf),
        (*b"head", new_head),
        (*b"hhea", new_hhea),
        (*b"hmtx", new_hmtx),
        (*b"loca", new_loca),
        (*b"maxp", new_maxp),
    ];
    for tag in [b"cvt ", b"fpgm", b"prep"] {
        if let Some(data) = t.get(tag) {
            out_tables.push((*tag, data.to_vec()));
        }
    }
    out_tables.sort_by_key(|t| t.0);

    let n = out_tables.len() as u16;
    let pow2 = 1u16 << (15 - n.leading_zeros());
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, pow2 * 16, pow2.trailing_zeros() as u16, n * 16 - pow2 * 16] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * out_tables.len();
    let mut head_at = 0;
    for (tag, data) in &out_tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = offset;
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &out_tables {
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out[head_at + 8..head_at + 12].copy_from_slice(&adjust.to_be_bytes());
    Ok((out, new_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_glyphs_asked_for_and_their_parts() {
        let font = super::super::world::sans_bytes();
        let face = super::super::world::sans_instance();
        let id = |c: char| face.ttf().glyph_index(c).unwrap().0;
        let want: BTreeSet<u16> = "Q1-nodes é→".chars().map(id).collect();
        let (small, map) = subset(font, &want).unwrap();
        assert!(small.len() < font.len() / 20, "{} of {} bytes", small.len(), font.len());
        // é is a composite (e + acute): its parts come along.
        assert!(map.len() > want.len() + 1, "{map:?}");
        assert_eq!(map[&0], 0);
        let t = tables(&small).unwrap();
        assert_eq!(u16_at(t[b"maxp"], 4).unwrap() as usize, map.len());
        assert_eq!(t[b"hmtx"].len(), 4 * map.len());
        assert_eq!(t[b"loca"].len(), 4 * (map.len() + 1));
        // Whole-font checksum as the spec defines it.
        assert_eq!(checksum(&small), 0xB1B0_AFBA);
        // Every composite points at kept glyphs under their new ids.
        let loca = t[b"loca"];
        for g in 0..map.len() {
            let (a, b) = (
                u32_at(loca, 4 * g).unwrap() as usize,
                u32_at(loca, 4 * g + 4).unwrap() as usize,
            );
            for (_, c) in components(&t[b"glyf"][a..b]).unwrap() {
                assert!((c as usize) < map.len());
            }
        }
        // Advances survive the renumbering.
        let old_e = id('e');
        let new_e = map[&old_e] as usize;
        let hmtx = tables(font).unwrap()[b"hmtx"];
        assert_eq!(
            u16_at(t[b"hmtx"], 4 * new_e).unwrap(),
            u16_at(hmtx, 4 * old_e as usize).unwrap()
        );
    }
}
