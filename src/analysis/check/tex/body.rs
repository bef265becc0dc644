//! Table bodies: rows, cells, rules, `\multicolumn`, `longtable` heads and
//! feet, and the header split from the body rows.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    /// Across the table (`\midrule`, `\hline`): ends a header.
    Full,
    /// Under some columns (`\cmidrule`, `\cline`): under a group heading.
    Partial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    FirstHead,
    Head,
    Foot,
    LastFoot,
}

pub(super) enum RawItem {
    /// Raw LaTeX of each cell, and the offset of the row's first text.
    Row(Vec<Vec<u8>>, usize),
    Rule(Rule),
    Marker(Marker),
}

#[derive(Default)]
pub(super) struct Body {
    pub(super) items: Vec<RawItem>,
    pub(super) caption: Option<(usize, usize)>,
    pub(super) label: Option<(usize, usize)>,
}

/// Rules dropped from the body: what they mean and their arguments.
pub(super) fn rule_kind(w: &[u8]) -> Option<(Option<Rule>, &'static str)> {
    Some(match w {
        b"toprule" | b"midrule" | b"bottomrule" | b"hdashline" => (Some(Rule::Full), "o"),
        b"hline" | b"firsthline" | b"lasthline" => (Some(Rule::Full), ""),
        b"hhline" | b"Xhline" => (Some(Rule::Full), "g"),
        b"specialrule" => (Some(Rule::Full), "ggg"),
        b"cline" => (Some(Rule::Partial), "g"),
        b"cdashline" => (Some(Rule::Partial), "go"),
        b"Xcline" => (Some(Rule::Partial), "gg"),
        b"cmidrule" => (Some(Rule::Partial), "opg"),
        b"addlinespace" => (None, "o"),
        b"morecmidrules" => (None, ""),
        b"noalign" => (None, "g"),
        b"arrayrulecolor" => (None, "og"),
        _ => return None,
    })
}

pub(super) fn marker(w: &[u8]) -> Option<Marker> {
    match w {
        b"endfirsthead" => Some(Marker::FirstHead),
        b"endhead" => Some(Marker::Head),
        b"endfoot" => Some(Marker::Foot),
        b"endlastfoot" => Some(Marker::LastFoot),
        _ => None,
    }
}

/// Rows of a body: split on `\\` / `\tabularnewline` and cells on `&`, both
/// only outside braces and nested environments; rules, longtable markers,
/// `\caption` and `\label` taken out.
pub(super) fn scan_body(b: &[u8], start: usize, end: usize) -> Body {
    pub(super) fn flush(items: &mut Vec<RawItem>, cells: &mut Vec<Vec<u8>>, first: &mut Option<usize>) {
        let done = std::mem::replace(cells, vec![Vec::new()]);
        if let Some(f) = first.take() {
            items.push(RawItem::Row(done, f));
        }
    }
    let end = end.min(b.len());
    let mut body = Body::default();
    let mut cells: Vec<Vec<u8>> = vec![Vec::new()];
    let mut first: Option<usize> = None;
    let (mut depth, mut envd) = (0usize, 0usize);
    let mut i = start;
    while i < end {
        let c = b[i];
        if c == b'\\' {
            let (word, next) = control(b, i, end);
            let top = depth == 0 && envd == 0;
            match word {
                Some(b"begin") => envd += 1,
                Some(b"end") => envd = envd.saturating_sub(1),
                _ => {}
            }
            if top {
                let row_end = match word {
                    None => b.get(i + 1) == Some(&b'\\'),
                    Some(w) => w == b"tabularnewline",
                };
                if row_end {
                    flush(&mut body.items, &mut cells, &mut first);
                    let p = skip_sig(b, next, end, "s");
                    i = opt(b, p, end).map_or(p, |s| s.next);
                    continue;
                }
                if let Some(w) = word {
                    if let Some((kind, sig)) = rule_kind(w) {
                        flush(&mut body.items, &mut cells, &mut first);
                        if let Some(k) = kind {
                            body.items.push(RawItem::Rule(k));
                        }
                        i = skip_sig(b, next, end, sig);
                        continue;
                    }
                    if let Some(m) = marker(w) {
                        flush(&mut body.items, &mut cells, &mut first);
                        body.items.push(RawItem::Marker(m));
                        i = next;
                        continue;
                    }
                    if w == b"caption" || w == b"label" {
                        let p = if w == b"caption" {
                            skip_sig(b, next, end, "so")
                        } else {
                            next
                        };
                        if let Some(g) = group(b, p, end) {
                            let slot = if w == b"caption" {
                                &mut body.caption
                            } else {
                                &mut body.label
                            };
                            slot.get_or_insert((g.s, g.e));
                            i = g.next;
                            continue;
                        }
                    }
                }
            }
            first.get_or_insert(i);
            if let Some(cell) = cells.last_mut() {
                cell.extend_from_slice(&b[i..next.min(end)]);
            }
            i = next;
            continue;
        }
        match c {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'&' if depth == 0 && envd == 0 => {
                cells.push(Vec::new());
                i += 1;
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            first.get_or_insert(i);
        }
        if let Some(cell) = cells.last_mut() {
            cell.push(c);
        }
        i += 1;
    }
    flush(&mut body.items, &mut cells, &mut first);
    body
}

pub(super) struct Row {
    pub(super) line: usize,
    /// Plain text and column span of each cell.
    pub(super) cells: Vec<(String, usize)>,
}

pub(super) enum Item {
    Row(Row),
    Rule(Rule),
    Marker(Marker),
}

/// A longtable repeats its head on every page and has feet: keep the first
/// head (`\endfirsthead`, else `\endhead`) and the body after the last
/// marker, drop the rest.
pub(super) fn longtable_sections(items: Vec<Item>) -> Vec<Item> {
    if !items.iter().any(|i| matches!(i, Item::Marker(_))) {
        return items;
    }
    let mut segments: Vec<(Vec<Item>, Marker)> = Vec::new();
    let mut current = Vec::new();
    for it in items {
        match it {
            Item::Marker(m) => segments.push((std::mem::take(&mut current), m)),
            other => current.push(other),
        }
    }
    let head = segments
        .iter()
        .position(|(_, m)| *m == Marker::FirstHead)
        .or_else(|| segments.iter().position(|(_, m)| *m == Marker::Head));
    let mut out = match head {
        Some(h) => std::mem::take(&mut segments[h].0),
        None => Vec::new(),
    };
    out.extend(current);
    out
}

/// Cells with `\multicolumn{n}` as the text and n−1 empty cells.
pub(super) fn flatten(cells: &[(String, usize)]) -> Vec<String> {
    let mut out = Vec::new();
    for (text, span) in cells {
        out.push(text.clone());
        out.extend(std::iter::repeat_n(String::new(), span.saturating_sub(1)));
    }
    out
}

/// A multi-row header joined per column: group labels repeated over their
/// span, empty parts skipped, a part equal to the one above not repeated.
pub(super) fn join_header(rows: &[Row]) -> Vec<String> {
    let expanded: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .flat_map(|(t, s)| std::iter::repeat_n(t.as_str(), (*s).max(1)))
                .collect()
        })
        .collect();
    let width = expanded.iter().map(Vec::len).max().unwrap_or(0);
    (0..width)
        .map(|c| {
            let mut parts: Vec<&str> = Vec::new();
            for row in &expanded {
                if let Some(&t) = row.get(c) {
                    if !t.is_empty() && parts.last() != Some(&t) {
                        parts.push(t);
                    }
                }
            }
            parts.join(" ")
        })
        .collect()
}

/// Header and body rows. The header is the first row, or the first two or
/// three rows when they end at the first full rule and look like a grouped
/// header (a `\multicolumn` span, an empty cell, or a partial rule between
/// them).
pub(super) fn split_header(items: Vec<Item>) -> (Vec<String>, Vec<String>, Vec<TexRow>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut header_end: Option<usize> = None;
    let mut partial = false;
    for it in longtable_sections(items) {
        match it {
            Item::Row(r) => rows.push(r),
            Item::Rule(Rule::Full) if !rows.is_empty() && header_end.is_none() => header_end = Some(rows.len()),
            Item::Rule(Rule::Partial) if !rows.is_empty() && header_end.is_none() => partial = true,
            _ => {}
        }
    }
    if rows.is_empty() {
        return (Vec::new(), Vec::new(), Vec::new());
    }
    let grouped = |k: usize| {
        partial
            || rows[..k]
                .iter()
                .any(|r| r.cells.iter().any(|(t, s)| t.is_empty() || *s > 1))
    };
    let k = match header_end {
        Some(k) if (2..=3).contains(&k) && k < rows.len() && grouped(k) => k,
        _ => 1,
    };
    let header = if k == 1 {
        flatten(&rows[0].cells)
    } else {
        join_header(&rows[..k])
    };
    let bottom = if k == 1 {
        Vec::new()
    } else {
        join_header(&rows[k - 1..k])
    };
    let body = rows
        .drain(k..)
        .map(|r| TexRow {
            line: r.line,
            cells: flatten(&r.cells),
        })
        .collect();
    (header, bottom, body)
}

pub(super) fn build_table(
    view: &[u8],
    doc: &Doc,
    fallback: Option<&Doc>,
    env: &Env,
    commented: bool,
    ctx: &Ctx<'_>,
    starts: &[usize],
) -> TexTable {
    let body_start = tabular_body_start(view, &env.name, env.args, env.end);
    let body = scan_body(view, body_start, env.end);
    let items: Vec<Item> = body
        .items
        .into_iter()
        .filter_map(|it| match it {
            RawItem::Row(cells, first) => {
                let cells: Vec<(String, usize)> = cells.iter().map(|c| ctx.cell(c)).collect();
                if cells.iter().all(|(t, _)| t.is_empty()) {
                    None
                } else {
                    Some(Item::Row(Row {
                        line: line_of(starts, first),
                        cells,
                    }))
                }
            }
            RawItem::Rule(r) => Some(Item::Rule(r)),
            RawItem::Marker(m) => Some(Item::Marker(m)),
        })
        .collect();
    let (header, header_bottom, rows) = split_header(items);

    let outer = caption_for(doc, env.begin, env.close)
        .or_else(|| fallback.and_then(|d| caption_for(d, env.begin, env.close)))
        .unwrap_or((None, None));
    let own_caption = body
        .caption
        .map(|(s, e)| ctx.text(&view[s..e]))
        .filter(|c| !c.is_empty());
    let own_label = body
        .label
        .map(|(s, e)| String::from_utf8_lossy(trim_bytes(&view[s..e])).into_owned());
    let (caption, label) = match own_caption {
        Some(c) => (Some(c), own_label.or(outer.1)),
        None => (outer.0, outer.1.or(own_label)),
    };
    TexTable {
        caption,
        label: label.filter(|l| !l.is_empty()),
        commented,
        line: line_of(starts, env.begin),
        header,
        header_bottom,
        rows,
    }
}
