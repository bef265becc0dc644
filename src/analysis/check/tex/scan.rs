//! Low-level scanning of LaTeX bytes: whitespace, groups, optional
//! arguments, control words and environment names. All take an exclusive
//! `end` ≤ `b.len()` and never index past it.

pub(super) fn skip_ws(b: &[u8], mut p: usize, end: usize) -> usize {
    let end = end.min(b.len());
    while p < end && matches!(b[p], b' ' | b'\t' | b'\r' | b'\n' | 0x0c) {
        p += 1;
    }
    p
}

/// An argument: its inner bytes `s..e`, and the offset after it.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub(super) s: usize,
    pub(super) e: usize,
    pub(super) next: usize,
}

/// A `{…}` argument at `p` (after blanks), braces balanced, `\{` `\}` skipped.
pub(super) fn group(b: &[u8], p: usize, end: usize) -> Option<Span> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != b'{' {
        return None;
    }
    let mut depth = 0usize;
    let mut i = p;
    while i < end {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(Span {
                        s: p + 1,
                        e: i,
                        next: i + 1,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// An optional `open…close` argument at `p` (after blanks); `close` inside
/// braces does not count.
pub(super) fn delimited(b: &[u8], p: usize, end: usize, open: u8, close: u8) -> Option<Span> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != open {
        return None;
    }
    let mut depth = 0usize;
    let mut i = p + 1;
    while i < end {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            c if c == close && depth == 0 => {
                return Some(Span {
                    s: p + 1,
                    e: i,
                    next: i + 1,
                })
            }
            _ => {}
        }
        i += 1;
    }
    None
}

pub(super) fn opt(b: &[u8], p: usize, end: usize) -> Option<Span> {
    delimited(b, p, end, b'[', b']')
}

/// Skip arguments by signature: `s` optional star (right at `p`), `o`
/// optional `[…]`, `p` optional `(…)`, `g` mandatory `{…}` (stops when
/// missing).
pub(super) fn skip_sig(b: &[u8], mut p: usize, end: usize, sig: &str) -> usize {
    for c in sig.bytes() {
        match c {
            b's' => {
                if p < end.min(b.len()) && b[p] == b'*' {
                    p += 1;
                }
            }
            b'o' => {
                if let Some(s) = opt(b, p, end) {
                    p = s.next;
                }
            }
            b'p' => {
                if let Some(s) = delimited(b, p, end, b'(', b')') {
                    p = s.next;
                }
            }
            _ => match group(b, p, end) {
                Some(s) => p = s.next,
                None => return p,
            },
        }
    }
    p
}

/// The control sequence at `b[i] == '\\'`: the letters of a control word (or
/// `None` for a control symbol like `\%` or `\\`) and the offset after it.
/// Always returns an offset > `i`.
pub(super) fn control(b: &[u8], i: usize, end: usize) -> (Option<&[u8]>, usize) {
    let end = end.min(b.len());
    let j = i + 1;
    if j >= end {
        return (None, j);
    }
    if b[j].is_ascii_alphabetic() {
        let mut k = j;
        while k < end && b[k].is_ascii_alphabetic() {
            k += 1;
        }
        (Some(&b[j..k]), k)
    } else if b[j] < 0x80 {
        (None, j + 1)
    } else {
        // `\` before a non-ASCII character: leave the character whole.
        (None, j)
    }
}

/// The next control sequence at or after `from`: its offset, its word (as
/// [`control`] gives it) and the offset after it; `None` when there is none.
pub(super) fn next_control(b: &[u8], from: usize, end: usize) -> Option<(usize, Option<&[u8]>, usize)> {
    let end = end.min(b.len());
    let at = from + memchr::memchr(b'\\', b.get(from..end)?)?;
    let (word, next) = control(b, at, end);
    Some((at, word, next))
}

/// `{name}` after `\begin` / `\end`: the environment name and the offset
/// after the closing brace.
pub(super) fn env_name(b: &[u8], p: usize, end: usize) -> Option<(String, usize)> {
    let end = end.min(b.len());
    let p = skip_ws(b, p, end);
    if p >= end || b[p] != b'{' {
        return None;
    }
    let limit = end.min(p + 80);
    let close = (p + 1..limit).find(|&k| b[k] == b'}')?;
    let name = String::from_utf8_lossy(&b[p + 1..close]).trim().to_string();
    if name.is_empty() {
        return None;
    }
    Some((name, close + 1))
}

pub(super) fn trim_bytes(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}
