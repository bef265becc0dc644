//! The two views of a LaTeX file: live text with comments blanked and
//! commented-out text with its `%` prefixes blanked, both the file's length
//! so offsets and line numbers are the file's.

/// Bytes of a line that are blank for classification.
pub(super) fn is_blank_byte(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0c)
}

/// Blank a trailing comment: from the first `%` not escaped as `\%` (an
/// escaped backslash `\\` before it does not escape it) to `end`.
pub(super) fn strip_comment(buf: &mut [u8], start: usize, end: usize) {
    let mut k = start;
    while k < end {
        match buf[k] {
            b'\\' => k += 2,
            b'%' => {
                buf[k..end].fill(b' ');
                return;
            }
            _ => k += 1,
        }
    }
}

/// The live view (comments blanked) and the commented view (only the
/// commented-out lines, their `%` prefix blanked). Every removed byte becomes
/// a space and newlines stay, so offsets and lines are those of the file.
///
/// In a run of commented lines (blank lines do not break a run) the prefix
/// removed is the run's smallest number of leading `%`, so a `%%` row inside
/// a `%`-commented table stays a comment, and a block commented with `%%`
/// still reads.
pub(super) fn split_views(src: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut live = src.to_vec();
    let mut com: Vec<u8> = src.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }).collect();

    // (start, end, first non-blank, kind) — kind: None blank, Some(0) live,
    // Some(n) commented with n leading '%'.
    let mut lines: Vec<(usize, usize, usize, Option<usize>)> = Vec::new();
    let mut start = 0;
    for end in src
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i)
        .chain([src.len()])
    {
        let mut p = start;
        if start == 0 && src.starts_with(b"\xEF\xBB\xBF") {
            p = 3;
        }
        while p < end && is_blank_byte(src[p]) {
            p += 1;
        }
        let kind = if p >= end {
            None
        } else if src[p] == b'%' {
            Some(src[p..end].iter().take_while(|&&c| c == b'%').count())
        } else {
            Some(0)
        };
        lines.push((start, end, p, kind));
        start = end + 1;
    }

    for &(s, e, _, kind) in &lines {
        match kind {
            Some(0) => strip_comment(&mut live, s, e),
            Some(_) => live[s..e].fill(b' '),
            None => {}
        }
    }

    let mut i = 0;
    while i < lines.len() {
        if !matches!(lines[i].3, Some(n) if n > 0) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut last = i;
        let mut depth = usize::MAX;
        while j < lines.len() {
            match lines[j].3 {
                Some(0) => break,
                Some(n) => {
                    depth = depth.min(n);
                    last = j;
                }
                None => {}
            }
            j += 1;
        }
        for &(_, e, p, kind) in &lines[i..=last] {
            if kind.is_some_and(|n| n > 0) {
                let from = (p + depth).min(e);
                com[from..e].copy_from_slice(&src[from..e]);
                strip_comment(&mut com, from, e);
            }
        }
        i = last + 1;
    }
    (live, com)
}

pub(super) fn line_starts(src: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(src.iter().enumerate().filter(|(_, &c)| c == b'\n').map(|(i, _)| i + 1));
    v
}

/// 1-based line of a byte offset.
pub(super) fn line_of(starts: &[usize], pos: usize) -> usize {
    starts.partition_point(|&s| s <= pos).max(1)
}
