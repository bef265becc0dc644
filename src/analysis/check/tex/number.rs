//! Numbers as a paper prints them: value, printed precision, unit, percent.

pub(super) struct Scanned {
    pub(super) value: f64,
    pub(super) decimals: u32,
    pub(super) end: usize,
}

pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{2009}' | '\u{202f}')
}

pub(super) fn skip_spaces(cs: &[char], mut p: usize) -> usize {
    while p < cs.len() && is_space(cs[p]) {
        p += 1;
    }
    p
}

pub(super) fn is_digit_at(cs: &[char], p: usize) -> bool {
    cs.get(p).is_some_and(|c| c.is_ascii_digit())
}

/// Offset after a `±`, `+/-` or `+-` at `p`.
pub(super) fn plus_minus_at(cs: &[char], p: usize) -> Option<usize> {
    match (cs.get(p), cs.get(p + 1), cs.get(p + 2)) {
        (Some('±'), _, _) => Some(p + 1),
        (Some('+'), Some('/'), Some('-')) => Some(p + 3),
        (Some('+'), Some('-'), _) => Some(p + 2),
        _ => None,
    }
}

/// The first number at or after `from` (`anchored`: right at `from`, after
/// blanks). A sign counts when it is not a hyphen inside a word (`Top-1` is
/// 1, `(-0.5)` is −0.5).
pub(super) fn scan_number(cs: &[char], from: usize, anchored: bool) -> Option<Scanned> {
    let n = cs.len();
    let starts_number = |i: usize| is_digit_at(cs, i) || (cs.get(i) == Some(&'.') && is_digit_at(cs, i + 1));
    let (start, negative) = if anchored {
        let p = skip_spaces(cs, from);
        match cs.get(p) {
            Some('-' | '−' | '+') if starts_number(p + 1) => (p + 1, cs[p] != '+'),
            _ if starts_number(p) => (p, false),
            _ => return None,
        }
    } else {
        let start = (from..n)
            .find(|&i| is_digit_at(cs, i) || (starts_number(i) && (i == 0 || !cs[i - 1].is_alphanumeric())))?;
        let negative = start > from
            && matches!(cs[start - 1], '-' | '−')
            && (start - 1 == from || !(cs[start - 2].is_alphanumeric() || matches!(cs[start - 2], '-' | '.' | '−')));
        (start, negative)
    };

    let mut k = start;
    let mut int = String::new();
    while is_digit_at(cs, k) {
        int.push(cs[k]);
        k += 1;
    }
    // Thousands separators: `1,234,567`, only after a group of 1–3 digits
    // and only before exactly three digits.
    if (1..=3).contains(&int.len()) {
        while matches!(cs.get(k), Some(',' | '\u{2009}' | '\u{202f}'))
            && (1..=3).all(|d| is_digit_at(cs, k + d))
            && !is_digit_at(cs, k + 4)
        {
            int.extend(&cs[k + 1..k + 4]);
            k += 4;
        }
    }
    let mut frac = String::new();
    if cs.get(k) == Some(&'.') && is_digit_at(cs, k + 1) {
        k += 1;
        while is_digit_at(cs, k) {
            frac.push(cs[k]);
            k += 1;
        }
    }
    let mut exp: i64 = 0;
    if let Some((e, after)) = scan_exponent(cs, k) {
        exp = e;
        k = after;
    }
    let text = format!(
        "{}{}.{}e{}",
        if negative { "-" } else { "" },
        if int.is_empty() { "0" } else { &int },
        if frac.is_empty() { "0" } else { &frac },
        exp
    );
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some(Scanned {
        value,
        decimals: u32::try_from(frac.len()).unwrap_or(u32::MAX),
        end: k,
    })
}

/// `e3`, `E-2`, `×10^3`, `x 10^{-3}`, `·10^3` after a mantissa.
pub(super) fn scan_exponent(cs: &[char], k: usize) -> Option<(i64, usize)> {
    let mut p = k;
    match cs.get(p) {
        Some('e' | 'E') => p += 1,
        _ => {
            p = skip_spaces(cs, p);
            if !matches!(cs.get(p), Some('×' | 'x' | '·' | '*')) {
                return None;
            }
            p = skip_spaces(cs, p + 1);
            if !(cs.get(p) == Some(&'1') && cs.get(p + 1) == Some(&'0') && cs.get(p + 2) == Some(&'^')) {
                return None;
            }
            p += 3;
            if cs.get(p) == Some(&'{') {
                p += 1;
            }
        }
    }
    let negative = match cs.get(p) {
        Some('-' | '−') => {
            p += 1;
            true
        }
        Some('+') => {
            p += 1;
            false
        }
        _ => false,
    };
    if !is_digit_at(cs, p) {
        return None;
    }
    let mut e: i64 = 0;
    while let Some(d) = cs.get(p).and_then(|c| c.to_digit(10)) {
        e = (e * 10 + i64::from(d)).min(100_000);
        p += 1;
    }
    if cs.get(p) == Some(&'}') {
        p += 1;
    }
    Some((if negative { -e } else { e }, p))
}

/// Unit or `%` right after a number (blanks allowed between): a run of
/// letters, `×`, `°`, and `/` between letters (`tasks/s`, `/s`).
pub(super) fn scan_suffix(cs: &[char], k: usize) -> (Option<String>, bool) {
    let mut p = skip_spaces(cs, k);
    if cs.get(p) == Some(&'%') {
        return (None, true);
    }
    let mut unit = String::new();
    while let Some(&c) = cs.get(p) {
        let next_is_letter = cs.get(p + 1).is_some_and(|c| c.is_alphabetic());
        if c.is_alphabetic() || c == '×' || c == '°' || (c == '/' && next_is_letter) {
            unit.push(c);
            p += 1;
        } else {
            break;
        }
    }
    (if unit.is_empty() { None } else { Some(unit) }, false)
}
