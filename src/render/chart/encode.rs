//! PNG encoding of the charts' RGB pixel buffers, byte for byte what the
//! `png` crate (0.18) writes with `Compression::Fast` — its adaptive row
//! filter, then `fdeflate`'s fast compressor — at a fraction of the cost.
//!
//! `png` tries the Up, Sub, Avg and Paeth filters on every row, each as a
//! full pass writing the filtered row and a second pass summing it, then
//! filters the row once more with the winner; and it grows fresh buffers
//! for the compressed stream and the file. A report's bundle is hundreds of
//! megapixels, so that was a fifth of `compare`'s CPU time. Here a row
//! identical to the one above is settled by one comparison (Up, all
//! zeros — `png` returns at the first filter that costs nothing), the four
//! costs of any other row come from one pass, and the compressed stream is
//! built in a per-thread buffer. The choice is `png`'s: the cost is the sum
//! of the filtered bytes read as `i8` magnitudes (the "minimum sum of
//! absolute differences" heuristic of the PNG specification, §12.8), the
//! filters are tried in the order Up, Sub, Avg, Paeth, a later one wins a
//! tie, and the first that costs 0 wins outright. Tests compare the bytes
//! with `png`'s own encoder.

use anyhow::{Context, Result};
use std::cell::RefCell;

/// Bytes per pixel of an RGB8 image: the distance to the "left" byte.
const BPP: usize = 3;

/// PNG filter types (PNG specification, §9.2).
const UP: u8 = 2;
const SUB: u8 = 1;
const AVG: u8 = 3;
const PAETH: u8 = 4;

thread_local! {
    /// The zlib stream of the last image, reused (a chart's is ~100 KiB to a few MiB).
    static ZLIB: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An RGB8 pixel buffer (`w`×`h`, row-major) as PNG bytes; deterministic
/// (no timestamps or other metadata) and identical to `png`'s encoder with
/// `Compression::Fast`.
pub(crate) fn encode_png_bytes(buf: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let row_len = w as usize * BPP;
    anyhow::ensure!(
        buf.len() == row_len * h as usize,
        "encoding chart PNG: {} bytes for a {w}×{h} RGB image",
        buf.len()
    );
    ZLIB.with(|zlib| {
        let mut zlib = zlib.borrow_mut();
        zlib.clear();
        compress_rows(buf, row_len, &mut zlib).context("encoding chart PNG")?;
        // Signature + IHDR (25) + the IDAT chunk's frame (12) + IEND (12).
        let mut out = Vec::with_capacity(8 + 25 + 12 + zlib.len() + 12);
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().context("encoding chart PNG")?;
        // One IDAT chunk: png splits only past 2 GiB.
        writer
            .write_chunk(png::chunk::IDAT, &zlib)
            .context("encoding chart PNG")?;
        writer.finish().context("encoding chart PNG")?;
        Ok(out)
    })
}

/// The zlib stream of `buf`'s rows, each filtered and prefixed by its
/// filter type, into `zlib`: `fdeflate`'s fast compressor fed one row at a
/// time (as `png` feeds it, which decides the bytes), or stored blocks
/// when those are smaller.
fn compress_rows(buf: &[u8], row_len: usize, zlib: &mut Vec<u8>) -> std::io::Result<()> {
    if row_len == 0 {
        return Ok(());
    }
    let zeros = vec![0u8; row_len];
    let mut line = vec![0u8; row_len + 1];
    let mut compressor = fdeflate::Compressor::new(&mut *zlib)?;
    let mut prev: &[u8] = &zeros;
    for row in buf.chunks_exact(row_len) {
        line[0] = filter_row(prev, row, &mut line[1..]);
        compressor.write_data(&line)?;
        prev = row;
    }
    compressor.finish()?;
    let rows = buf.len() / row_len;
    if zlib.len() > fdeflate::StoredOnlyCompressor::<()>::compressed_size((row_len + 1) * rows) {
        zlib.clear();
        let mut stored = fdeflate::StoredOnlyCompressor::new(std::io::Cursor::new(&mut *zlib))?;
        for row in buf.chunks_exact(row_len) {
            stored.write_data(&[0])?;
            stored.write_data(row)?;
        }
        stored.finish()?;
    }
    Ok(())
}

/// `cur` filtered against `prev` (the row above; zeros for the first) into
/// `out` with the filter `png`'s adaptive heuristic picks; its type.
fn filter_row(prev: &[u8], cur: &[u8], out: &mut [u8]) -> u8 {
    if cur == prev {
        out.fill(0);
        return UP;
    }
    let costs = filter_costs(prev, cur);
    let mut best = (u64::MAX, UP);
    for (filter, cost) in [UP, SUB, AVG, PAETH].into_iter().zip(costs) {
        if cost <= best.0 {
            best = (cost, filter);
            if cost == 0 {
                break;
            }
        }
    }
    apply(best.1, prev, cur, out);
    best.1
}

/// The Avg filter's prediction from the left byte `a` and the one above
/// `b`: `⌊(a + b)/2⌋` (PNG §9.2). A byte `x` with left neighbour `a`, above
/// `b` and above-left `c` is predicted as `b` by Up, `a` by Sub, this by
/// Avg and [`paeth`] by Paeth; the filtered byte is `x` minus it, mod 256.
#[inline(always)]
fn avg(a: u8, b: u8) -> u8 {
    ((u16::from(a) + u16::from(b)) >> 1) as u8
}

/// The Paeth predictor (PNG §9.4): of `a`, `b`, `c`, the one nearest to
/// `a + b - c`, ties in that order. Branch-free, so its loops vectorise.
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (a16, b16, c16) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (b16 - c16).abs();
    let pb = (a16 - c16).abs();
    let pc = (a16 + b16 - 2 * c16).abs();
    let b_or_c = if pb <= pc { b } else { c };
    if pa <= pb && pa <= pc {
        a
    } else {
        b_or_c
    }
}

/// `|v as i8|`: a filtered byte's cost.
#[inline(always)]
fn magnitude(v: u8) -> u64 {
    u64::from((v as i8).unsigned_abs())
}

/// The four filtered bytes of `x` given `a`, `b`, `c` (Up, Sub, Avg, Paeth).
#[inline(always)]
fn filtered(x: u8, a: u8, b: u8, c: u8) -> [u8; 4] {
    [
        x.wrapping_sub(b),
        x.wrapping_sub(a),
        x.wrapping_sub(avg(a, b)),
        x.wrapping_sub(paeth(a, b, c)),
    ]
}

/// The costs of `cur` under Up, Sub, Avg and Paeth against `prev` (PNG
/// §9.2: the first pixel's left and above-left neighbours are 0), in one
/// pass: 32 bytes at a time with AVX2 where the CPU has it, else 16 with
/// SSE2 (every x86-64 has it); the rest byte by byte.
fn filter_costs(prev: &[u8], cur: &[u8]) -> [u64; 4] {
    filter_costs_with(prev, cur, wide_vectors())
}

/// [`filter_costs`], with AVX2 (`wide`, where available) or SSE2.
fn filter_costs_with(prev: &[u8], cur: &[u8], wide: bool) -> [u64; 4] {
    let n = cur.len();
    let head = BPP.min(n);
    let mut costs = [0u64; 4];
    for i in 0..head {
        for (cost, v) in costs.iter_mut().zip(filtered(cur[i], 0, prev[i], 0)) {
            *cost += magnitude(v);
        }
    }
    let m = n - head;
    let (x, a) = (&cur[head..], &cur[..m]);
    let (b, c) = (&prev[head..n], &prev[..m]);
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = wide;
        0
    };
    #[cfg(target_arch = "x86_64")]
    let done = {
        // SAFETY: `wide` only where AVX2 is (SSE2 is part of x86-64); every
        // load is of a vector inside `x`, `a`, `b` and `c`, `m` long.
        let (done, simd) = unsafe {
            if wide {
                let done = m / avx2::WIDTH * avx2::WIDTH;
                (done, avx2::costs(x, a, b, c, done))
            } else {
                let done = m / sse2::WIDTH * sse2::WIDTH;
                (done, sse2::costs(x, a, b, c, done))
            }
        };
        for (cost, v) in costs.iter_mut().zip(simd) {
            *cost += v;
        }
        done
    };
    for i in done..m {
        for (cost, v) in costs.iter_mut().zip(filtered(x[i], a[i], b[i], c[i])) {
            *cost += magnitude(v);
        }
    }
    costs
}

/// `cur` filtered with `filter` (0 = Up, 1 = Sub, 2 = Avg, 3 = Paeth, as
/// in [`filtered`]) into `out`.
fn apply(filter: u8, prev: &[u8], cur: &[u8], out: &mut [u8]) {
    apply_with(filter, prev, cur, out, wide_vectors())
}

/// [`apply`], with AVX2 (`wide`, where available) or SSE2.
fn apply_with(filter: u8, prev: &[u8], cur: &[u8], out: &mut [u8], wide: bool) {
    let k = usize::from(filter_index(filter));
    let n = cur.len();
    let head = BPP.min(n);
    for i in 0..head {
        out[i] = filtered(cur[i], 0, prev[i], 0)[k];
    }
    let m = n - head;
    let (x, a) = (&cur[head..], &cur[..m]);
    let (b, c) = (&prev[head..n], &prev[..m]);
    let out = &mut out[head..];
    #[cfg(not(target_arch = "x86_64"))]
    let done = {
        let _ = wide;
        0
    };
    #[cfg(target_arch = "x86_64")]
    let done = {
        macro_rules! apply_with {
            ($module:ident) => {{
                let done = m / $module::WIDTH * $module::WIDTH;
                match k {
                    0 => $module::apply::<0>(x, a, b, c, out, done),
                    1 => $module::apply::<1>(x, a, b, c, out, done),
                    2 => $module::apply::<2>(x, a, b, c, out, done),
                    _ => $module::apply::<3>(x, a, b, c, out, done),
                }
                done
            }};
        }
        // SAFETY: as in `filter_costs`; the stores are inside `out`, `m` long.
        unsafe {
            if wide {
                apply_with!(avx2)
            } else {
                apply_with!(sse2)
            }
        }
    };
    for i in done..m {
        out[i] = filtered(x[i], a[i], b[i], c[i])[k];
    }
}

/// Whether this CPU has AVX2 (the standard library caches the answer).
fn wide_vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The position of a filter type in [`filtered`]'s result.
fn filter_index(filter: u8) -> u8 {
    match filter {
        UP => 0,
        SUB => 1,
        AVG => 2,
        _ => 3,
    }
}

/// [`filtered`] on a vector of bytes at a time: `$W` bytes of type `$V`,
/// with the intrinsics named by `$p` (`_mm` or `_mm256`) and `$si`
/// (`si128` or `si256`), compiled for `$feature`.
#[cfg(target_arch = "x86_64")]
macro_rules! vector_filters {
    ($module:ident, $feature:literal, $V:ty, $W:literal,
     $loadu:ident, $storeu:ident, $set1:ident, $setzero:ident, $sub:ident, $min:ident, $max:ident,
     $avg:ident, $and:ident, $or:ident, $andnot:ident, $xor:ident, $cmpeq:ident, $sad:ident, $add64:ident) => {
        mod $module {
            use std::arch::x86_64::*;

            /// Bytes per vector.
            pub(super) const WIDTH: usize = $W;

            /// The four filtered vectors of `x` given `a`, `b`, `c`: Up, Sub,
            /// Avg, Paeth. Avg is `pavgb` (which rounds up) less the odd bit;
            /// Paeth is FPNGE's all-u8 form (Versari; the `png` crate's
            /// `filter_paeth_fpnge`), with `p ≤ q` as `min(p, q) = p`.
            #[inline(always)]
            unsafe fn filtered(x: $V, a: $V, b: $V, c: $V) -> [$V; 4] {
                unsafe {
                    let le = |p: $V, q: $V| $cmpeq($min(p, q), p);
                    let avg = $sub($avg(a, b), $and($xor(a, b), $set1(1)));
                    let pa = $sub($max(b, c), $min(b, c));
                    let pb = $sub($max(a, c), $min(a, c));
                    // pc matters only when c lies between a and b: (a < c) == (c < b).
                    let between = $cmpeq(le(c, a), le(b, c));
                    let pc = $or(
                        $and(between, $sub($max(pa, pb), $min(pa, pb))),
                        $andnot(between, $set1(-1)),
                    );
                    let use_a = $and(le(pa, pb), le(pa, pc));
                    let use_b = le(pb, pc);
                    let b_or_c = $or($and(use_b, b), $andnot(use_b, c));
                    let paeth = $or($and(use_a, a), $andnot(use_a, b_or_c));
                    [$sub(x, b), $sub(x, a), $sub(x, avg), $sub(x, paeth)]
                }
            }

            #[inline(always)]
            unsafe fn load(s: &[u8], i: usize) -> $V {
                unsafe { $loadu(s.as_ptr().add(i).cast()) }
            }

            /// The four costs over the first `len` bytes (a multiple of
            /// `WIDTH`): `|v as i8|` is `min(v, -v)` as u8, summed by `psadbw`.
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn costs(x: &[u8], a: &[u8], b: &[u8], c: &[u8], len: usize) -> [u64; 4] {
                unsafe {
                    let zero = $setzero();
                    let mut acc = [zero; 4];
                    for i in (0..len).step_by(WIDTH) {
                        let f = filtered(load(x, i), load(a, i), load(b, i), load(c, i));
                        for k in 0..4 {
                            let magnitude = $min(f[k], $sub(zero, f[k]));
                            acc[k] = $add64(acc[k], $sad(magnitude, zero));
                        }
                    }
                    acc.map(|v| {
                        let mut lanes = [0u64; WIDTH / 8];
                        $storeu(lanes.as_mut_ptr().cast(), v);
                        lanes.iter().sum()
                    })
                }
            }

            /// The `K`th filter of the first `len` bytes (a multiple of
            /// `WIDTH`) into `out` (a constant, so only that one is computed).
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn apply<const K: usize>(
                x: &[u8],
                a: &[u8],
                b: &[u8],
                c: &[u8],
                out: &mut [u8],
                len: usize,
            ) {
                unsafe {
                    for i in (0..len).step_by(WIDTH) {
                        let f = filtered(load(x, i), load(a, i), load(b, i), load(c, i));
                        $storeu(out.as_mut_ptr().add(i).cast(), f[K]);
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
vector_filters!(
    sse2,
    "sse2",
    __m128i,
    16,
    _mm_loadu_si128,
    _mm_storeu_si128,
    _mm_set1_epi8,
    _mm_setzero_si128,
    _mm_sub_epi8,
    _mm_min_epu8,
    _mm_max_epu8,
    _mm_avg_epu8,
    _mm_and_si128,
    _mm_or_si128,
    _mm_andnot_si128,
    _mm_xor_si128,
    _mm_cmpeq_epi8,
    _mm_sad_epu8,
    _mm_add_epi64
);
#[cfg(target_arch = "x86_64")]
vector_filters!(
    avx2,
    "avx2",
    __m256i,
    32,
    _mm256_loadu_si256,
    _mm256_storeu_si256,
    _mm256_set1_epi8,
    _mm256_setzero_si256,
    _mm256_sub_epi8,
    _mm256_min_epu8,
    _mm256_max_epu8,
    _mm256_avg_epu8,
    _mm256_and_si256,
    _mm256_or_si256,
    _mm256_andnot_si256,
    _mm256_xor_si256,
    _mm256_cmpeq_epi8,
    _mm256_sad_epu8,
    _mm256_add_epi64
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: `png`'s own encoder with the same settings.
    fn png_crate(buf: &[u8], w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(buf).unwrap();
        writer.finish().unwrap();
        out
    }

    fn same_bytes(buf: &[u8], w: u32, h: u32) {
        assert_eq!(encode_png_bytes(buf, w, h).unwrap(), png_crate(buf, w, h), "{w}×{h}");
    }

    /// A chart-like image: flat background, bars, a gradient band, text-like noise.
    fn chart_like(w: usize, h: usize, seed: u64) -> Vec<u8> {
        let mut rng = crate::util::rng::SplitMix64(seed);
        let mut buf = vec![255u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let p = &mut buf[(y * w + x) * 3..][..3];
                if x % 97 < 30 && y > h / 3 {
                    p.copy_from_slice(&[31, 119, 180]);
                }
                if y % 50 == 7 {
                    p.copy_from_slice(&[(x * 255 / w.max(1)) as u8, 128, (y % 256) as u8]);
                }
                if (x * 7 + y * 13) % 211 == 0 {
                    let v = rng.next();
                    p.copy_from_slice(&[v as u8, (v >> 8) as u8, (v >> 16) as u8]);
                }
            }
        }
        buf
    }

    #[test]
    fn identical_to_png_crate_on_charts_and_noise() {
        for (w, h, seed) in [(1, 1, 1), (2, 3, 2), (1686, 996, 3), (333, 40, 4), (5, 700, 5)] {
            same_bytes(&chart_like(w, h, seed), w as u32, h as u32);
        }
        // Pure noise: every filter costs something; incompressible, so stored blocks.
        let mut rng = crate::util::rng::SplitMix64(9);
        let noise: Vec<u8> = (0..300 * 200 * 3).map(|_| rng.next() as u8).collect();
        same_bytes(&noise, 300, 200);
        // Blank, and rows that repeat.
        same_bytes(&vec![255u8; 640 * 480 * 3], 640, 480);
        same_bytes(&vec![0u8; 64 * 64 * 3], 64, 64);
    }

    #[test]
    fn each_filter_wins_somewhere() {
        // Rows built so that Sub, Avg and Paeth each win, and ties fall to the later filter.
        let mut rng = crate::util::rng::SplitMix64(11);
        let (w, h) = (97usize, 64usize);
        let mut buf = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w * 3 {
                buf[y * w * 3 + x] = match y % 4 {
                    0 => (x * 3) as u8,
                    1 => ((x + y) * 2) as u8,
                    2 => (rng.next() % 4) as u8 + (x as u8 / 2),
                    _ => (x as u8).wrapping_mul(y as u8),
                };
            }
        }
        let mut seen = [false; 5];
        let zeros = vec![0u8; w * 3];
        let mut out = vec![0u8; w * 3];
        let mut prev: &[u8] = &zeros;
        for row in buf.chunks_exact(w * 3) {
            seen[filter_row(prev, row, &mut out) as usize] = true;
            prev = row;
        }
        assert!(seen[1] && seen[2] && seen[3] && seen[4], "filters chosen: {seen:?}");
        same_bytes(&buf, w as u32, h as u32);
    }

    #[test]
    fn paeth_matches_the_specification() {
        // PNG §9.4, written as in the specification.
        let spec = |a: u8, b: u8, c: u8| {
            let p = i32::from(a) + i32::from(b) - i32::from(c);
            let (pa, pb, pc) = (
                (p - i32::from(a)).abs(),
                (p - i32::from(b)).abs(),
                (p - i32::from(c)).abs(),
            );
            if pa <= pb && pa <= pc {
                a
            } else if pb <= pc {
                b
            } else {
                c
            }
        };
        for a in (0..=255u8).step_by(5) {
            for b in (0..=255u8).step_by(3) {
                for c in 0..=255u8 {
                    assert_eq!(paeth(a, b, c), spec(a, b, c), "{a} {b} {c}");
                }
            }
        }
    }

    /// The vector path against the scalar [`filtered`], on random rows and
    /// on rows of few distinct values (where Paeth's ties decide).
    #[test]
    fn vector_filters_match_the_scalar_ones() {
        let mut rng = crate::util::rng::SplitMix64(21);
        for round in 0..400 {
            let n = 3 + 16 * (round % 40) + round % 16;
            let spread = if round % 2 == 0 { 256 } else { 3 };
            let mut row = || -> Vec<u8> {
                (0..n)
                    .map(|_| (rng.next() % spread) as u8 * (1 + round as u8 % 5))
                    .collect()
            };
            let (prev, cur) = (row(), row());
            let mut expected = [0u64; 4];
            let mut outputs = [vec![0u8; n], vec![0u8; n], vec![0u8; n], vec![0u8; n]];
            for i in 0..n {
                let (a, c) = if i >= BPP {
                    (cur[i - BPP], prev[i - BPP])
                } else {
                    (0, 0)
                };
                for (k, v) in filtered(cur[i], a, prev[i], c).into_iter().enumerate() {
                    expected[k] += magnitude(v);
                    outputs[k][i] = v;
                }
            }
            for wide in [false, wide_vectors()] {
                assert_eq!(
                    filter_costs_with(&prev, &cur, wide),
                    expected,
                    "row of {n}, wide {wide}"
                );
                for (k, filter) in [UP, SUB, AVG, PAETH].into_iter().enumerate() {
                    let mut out = vec![0u8; n];
                    apply_with(filter, &prev, &cur, &mut out, wide);
                    assert_eq!(out, outputs[k], "filter {filter}, row of {n}, wide {wide}");
                }
            }
        }
    }

    #[test]
    fn a_wrong_buffer_size_is_an_error() {
        assert!(encode_png_bytes(&[0; 10], 2, 2).is_err());
        // As png: an image without pixels is refused, not written.
        assert!(encode_png_bytes(&[], 0, 0).is_err());
        assert!(encode_png_bytes(&[], 0, 3).is_err());
    }
}
