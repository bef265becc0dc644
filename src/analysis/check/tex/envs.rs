//! Environments, captions and labels of a view: which tabulars are tables
//! of their own and which caption and label name each.

use super::*;

pub(super) const TABULAR_ENVS: &[&str] = &[
    "tabular",
    "tabular*",
    "tabularx",
    "tabulary",
    "xltabular",
    "longtable",
    "longtable*",
    "NiceTabular",
];
/// Floats: where a caption belongs; the search for one stops here.
pub(super) const FLOAT_ENVS: &[&str] = &[
    "table",
    "table*",
    "sidewaystable",
    "sidewaystable*",
    "wraptable",
    "SCtable",
    "SCtable*",
    "margintable",
];
/// Other boxes that may carry the caption: subtables, minipages, and figures
/// (a tabular set as a figure is described by the figure's caption). When
/// they have none, the search goes on outward.
pub(super) const INNER_ENVS: &[&str] = &[
    "subtable",
    "minipage",
    "threeparttable",
    "threeparttablex",
    "figure",
    "figure*",
    "subfigure",
];

pub(super) fn is_tabular(name: &str) -> bool {
    TABULAR_ENVS.contains(&name)
}

pub(super) fn is_float(name: &str) -> bool {
    FLOAT_ENVS.contains(&name)
}

pub(super) fn is_container(name: &str) -> bool {
    is_float(name) || INNER_ENVS.contains(&name)
}

/// A matched environment: `\begin{name}` at `begin`, its arguments from
/// `args`, `\end{name}` at `end`, the text after it at `close`.
#[derive(Clone, Debug)]
pub(super) struct Env {
    pub(super) name: String,
    pub(super) begin: usize,
    pub(super) args: usize,
    pub(super) end: usize,
    pub(super) close: usize,
}

/// A `\caption` or `\label`: where it is and its text.
#[derive(Clone, Debug)]
pub(super) struct Mark {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

#[derive(Default)]
pub(super) struct Doc {
    pub(super) envs: Vec<Env>,
    pub(super) captions: Vec<Mark>,
    pub(super) labels: Vec<Mark>,
}

/// Environments (tabulars and caption containers), captions and labels of a
/// view. An `\end` closes the innermost open environment of its name; an
/// environment never closed is ignored.
pub(super) fn scan_doc(b: &[u8], ctx: &Ctx<'_>) -> Doc {
    let end = b.len();
    let mut doc = Doc::default();
    let mut stack: Vec<(String, usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some((start, word, next)) = next_control(b, i, end) {
        match word {
            Some(w @ (b"begin" | b"end")) => {
                let Some((name, after)) = env_name(b, next, end) else {
                    i = next;
                    continue;
                };
                if is_tabular(&name) || is_container(&name) || name == "comment" {
                    if w == b"begin" {
                        stack.push((name, start, after));
                    } else if let Some(pos) = stack.iter().rposition(|(n, _, _)| *n == name) {
                        let (name, begin, args) = stack[pos].clone();
                        // Environments opened inside it and never closed end here.
                        stack.truncate(pos);
                        doc.envs.push(Env {
                            name,
                            begin,
                            args,
                            end: start,
                            close: after,
                        });
                    }
                }
                i = after;
            }
            Some(w @ (b"caption" | b"captionof")) => {
                let sig = if w == b"caption" { "so" } else { "sgo" };
                let p = skip_sig(b, next, end, sig);
                if let Some(g) = group(b, p, end) {
                    doc.captions.push(Mark {
                        start,
                        end: g.next,
                        text: ctx.text(&b[g.s..g.e]),
                    });
                }
                // Continue inside the caption: a `\label` may be in it.
                i = next;
            }
            Some(b"label") => {
                if let Some(g) = group(b, next, end) {
                    let text = String::from_utf8_lossy(trim_bytes(&b[g.s..g.e])).into_owned();
                    doc.labels.push(Mark {
                        start,
                        end: g.next,
                        text,
                    });
                    i = g.next;
                } else {
                    i = next;
                }
            }
            _ => i = next,
        }
    }
    doc.envs.sort_by_key(|e| e.begin);
    doc
}

/// Regions of the live view that LaTeX skips, so their tables are as good as
/// commented out: `comment` environments (comment package) and
/// `\iffalse … \fi` (up to an `\else` at its level). An `\iffalse` never
/// closed marks nothing.
pub(super) fn skipped_regions(b: &[u8], doc: &Doc) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = doc
        .envs
        .iter()
        .filter(|e| e.name == "comment")
        .map(|e| (e.begin, e.close))
        .collect();
    let end = b.len();
    let mut i = 0;
    while let Some((start, word, next)) = next_control(b, i, end) {
        if word != Some(b"iffalse") {
            i = next;
            continue;
        }
        let mut depth = 1usize;
        let mut k = next;
        let mut close = None;
        while let Some((_, w, n)) = next_control(b, k, end) {
            match w {
                Some(b"fi") => depth -= 1,
                Some(b"else") if depth == 1 => depth = 0,
                Some(
                    b"if" | b"ifx" | b"ifnum" | b"ifdim" | b"ifodd" | b"ifcase" | b"ifdefined" | b"ifcsname"
                    | b"iftrue" | b"iffalse" | b"ifcat" | b"ifmmode" | b"ifvmode" | b"ifhmode" | b"ifvoid" | b"ifeof",
                ) => depth += 1,
                _ => {}
            }
            k = n;
            if depth == 0 {
                close = Some(k);
                break;
            }
        }
        match close {
            Some(c) => {
                out.push((start, c));
                i = c;
            }
            None => break,
        }
    }
    out
}

/// Tabulars not inside another tabular (those are cell content), in order.
pub(super) fn top_level_tabulars(doc: &Doc) -> Vec<&Env> {
    let mut out: Vec<&Env> = Vec::new();
    let mut outer_end = 0;
    for e in doc.envs.iter().filter(|e| is_tabular(&e.name)) {
        if !out.is_empty() && e.begin < outer_end {
            continue;
        }
        outer_end = e.close;
        out.push(e);
    }
    out
}

/// Distance between a mark and the span `s..e`.
pub(super) fn distance(m: &Mark, s: usize, e: usize) -> usize {
    if m.end <= s {
        s - m.end
    } else {
        // After the span, or overlapping it (0).
        m.start.saturating_sub(e)
    }
}

pub(super) fn nearest<'a>(marks: &[&'a Mark], s: usize, e: usize) -> Option<&'a Mark> {
    marks.iter().copied().min_by_key(|m| distance(m, s, e))
}

/// Caption and label for the tabular spanning `ts..te`, from the innermost
/// container holding one outward to the float: the caption nearest the
/// tabular, the label nearest that caption. Captions inside other tabulars
/// or inside sibling boxes (another subtable of the same float) are not
/// this table's. `None` when no container has either.
pub(super) fn caption_for<'a>(doc: &'a Doc, ts: usize, te: usize) -> Option<(Option<String>, Option<String>)> {
    let before = doc.envs.partition_point(|e| e.begin <= ts);
    let mut containers: Vec<&Env> = doc.envs[..before]
        .iter()
        .filter(|c| is_container(&c.name) && c.args <= ts && te <= c.end)
        .collect();
    containers.sort_by_key(|c| std::cmp::Reverse(c.begin));
    for c in containers {
        // Environments are in order of their `\begin`: those inside `c`.
        let lo = doc.envs.partition_point(|e| e.begin < c.args);
        let hi = doc.envs.partition_point(|e| e.begin < c.end);
        let inner = &doc.envs[lo..hi.max(lo)];
        let eligible = |m: &Mark| {
            c.args <= m.start
                && m.end <= c.end
                && !inner
                    .iter()
                    .any(|u| is_tabular(&u.name) && u.begin <= m.start && m.end <= u.close)
                && !inner.iter().any(|d| {
                    is_container(&d.name)
                        && d.begin != c.begin
                        && c.args <= d.begin
                        && d.close <= c.end
                        && d.args <= m.start
                        && m.end <= d.end
                        && !(d.args <= ts && te <= d.end)
                })
        };
        // Marks are in file order: look only at those inside the container.
        let inside = |marks: &'a [Mark]| {
            let lo = marks.partition_point(|m| m.start < c.args);
            let hi = marks.partition_point(|m| m.start < c.end);
            &marks[lo..hi.max(lo)]
        };
        let caps: Vec<&Mark> = inside(&doc.captions).iter().filter(|m| eligible(m)).collect();
        let labels: Vec<&Mark> = inside(&doc.labels).iter().filter(|m| eligible(m)).collect();
        if let Some(cap) = nearest(&caps, ts, te) {
            let label = nearest(&labels, cap.start, cap.end);
            return Some((Some(cap.text.clone()), label.map(|l| l.text.clone())));
        }
        if is_float(&c.name) {
            return nearest(&labels, ts, te).map(|l| (None, Some(l.text.clone())));
        }
    }
    None
}

/// Offset where a tabular's body starts, after its arguments.
pub(super) fn tabular_body_start(b: &[u8], name: &str, args: usize, end: usize) -> usize {
    let mut p = args;
    if matches!(name, "tabular*" | "tabularx" | "tabulary" | "xltabular") {
        match group(b, p, end) {
            Some(g) => p = g.next,
            None => return p,
        }
    }
    if let Some(o) = opt(b, p, end) {
        p = o.next;
    }
    match group(b, p, end) {
        Some(g) => p = g.next,
        None => return p,
    }
    if name == "NiceTabular" {
        if let Some(o) = opt(b, p, end) {
            p = o.next;
        }
    }
    p
}
