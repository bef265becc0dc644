//! Zero-argument macros defined in the file, and LaTeX to plain text
//! (font, colour and math commands, siunitx, symbols).

use super::*;

pub(super) type Macros = HashMap<Vec<u8>, Vec<u8>>;

/// Zero-argument macros defined with `\newcommand`, `\renewcommand`,
/// `\providecommand`, `\DeclareRobustCommand` or `\def`: papers name their
/// system with one (`\newcommand{\sys}{SAGE\xspace}`) and use it in headers.
pub(super) fn scan_macros(b: &[u8]) -> Macros {
    let mut macros = Macros::new();
    let end = b.len();
    let mut i = 0;
    while let Some((_, word, next)) = next_control(b, i, end) {
        i = next;
        let Some(word) = word else { continue };
        let is_def = matches!(word, b"def" | b"gdef" | b"edef" | b"xdef");
        let is_new = matches!(
            word,
            b"newcommand" | b"renewcommand" | b"providecommand" | b"DeclareRobustCommand"
        );
        if !is_def && !is_new {
            continue;
        }
        let q = skip_ws(b, skip_sig(b, next, end, "s"), end);
        let (name, after) = if q < end && b[q] == b'{' {
            let Some(g) = group(b, q, end) else { continue };
            let inner = trim_bytes(&b[g.s..g.e]);
            match control(inner, 0, inner.len()) {
                (Some(w), n) if inner.first() == Some(&b'\\') && n == inner.len() => (w.to_vec(), g.next),
                _ => continue,
            }
        } else if q < end && b[q] == b'\\' {
            match control(b, q, end) {
                (Some(w), n) => (w.to_vec(), n),
                _ => continue,
            }
        } else {
            continue;
        };
        let r = skip_ws(b, after, end);
        if r < end && (b[r] == b'[' || b[r] == b'#') {
            continue; // takes arguments: its content flows as text anyway
        }
        if let Some(g) = group(b, r, end) {
            let body = b[g.s..g.e].to_vec();
            if word == b"providecommand" {
                macros.entry(name).or_insert(body);
            } else {
                macros.insert(name, body);
            }
            i = g.next;
        }
    }
    macros
}

// ---------------------------------------------------------------------------
// LaTeX to plain text.

/// Recursion limit for macro expansion and siunitx arguments.
pub(super) const MAX_DEPTH: u32 = 8;
/// Output limit of one cell, against runaway macro expansion.
pub(super) const MAX_TEXT: usize = 1 << 16;
/// Largest `\multicolumn` span believed.
pub(super) const MAX_SPAN: usize = 64;

/// What a control word becomes in text.
pub(super) enum Act {
    /// This text.
    Text(&'static str),
    /// Nothing: the command and the arguments of this signature are dropped.
    Drop(&'static str),
    /// The arguments of this signature are dropped, the content that follows
    /// is kept.
    Keep(&'static str),
}

pub(super) fn action(name: &[u8]) -> Option<Act> {
    use Act::{Drop, Keep, Text};
    Some(match name {
        b"times" | b"texttimes" => Text("×"),
        b"pm" | b"textpm" => Text("±"),
        b"mp" => Text("∓"),
        b"approx" => Text("≈"),
        b"sim" | b"textasciitilde" => Text("~"),
        b"le" | b"leq" | b"leqslant" => Text("≤"),
        b"ge" | b"geq" | b"geqslant" => Text("≥"),
        b"ne" | b"neq" => Text("≠"),
        b"ll" => Text("≪"),
        b"gg" => Text("≫"),
        b"lt" | b"textless" => Text("<"),
        b"gt" | b"textgreater" => Text(">"),
        b"cdot" | b"cdotp" | b"textperiodcentered" => Text("·"),
        b"mu" | b"textmu" | b"upmu" | b"micro" => Text("µ"),
        b"ldots" | b"dots" | b"cdots" | b"textellipsis" => Text("…"),
        b"textendash" | b"textemdash" => Text("--"),
        b"infty" => Text("∞"),
        b"to" | b"rightarrow" | b"longrightarrow" | b"textrightarrow" => Text("→"),
        b"leftarrow" | b"textleftarrow" => Text("←"),
        b"uparrow" | b"textuparrow" => Text("↑"),
        b"downarrow" | b"textdownarrow" => Text("↓"),
        b"checkmark" | b"cmark" => Text("✓"),
        b"xmark" => Text("✗"),
        b"textdegree" | b"degree" => Text("°"),
        b"dagger" | b"textdagger" => Text("†"),
        b"ddagger" | b"textdaggerdbl" => Text("‡"),
        b"ast" | b"textasteriskcentered" => Text("*"),
        b"star" => Text("⋆"),
        b"textbackslash" => Text("\\"),
        b"textbar" => Text("|"),
        b"textunderscore" => Text("_"),
        b"textasciicircum" => Text("^"),
        b"minus" | b"textminus" => Text("-"),
        b"percent" | b"textpercent" => Text("%"),
        b"alpha" => Text("α"),
        b"beta" => Text("β"),
        b"gamma" => Text("γ"),
        b"delta" => Text("δ"),
        b"epsilon" | b"varepsilon" => Text("ε"),
        b"lambda" => Text("λ"),
        b"sigma" => Text("σ"),
        b"tau" => Text("τ"),
        b"theta" => Text("θ"),
        b"rho" => Text("ρ"),
        b"pi" => Text("π"),
        b"phi" | b"varphi" => Text("φ"),
        b"omega" => Text("ω"),
        b"Delta" => Text("Δ"),
        b"Sigma" => Text("Σ"),
        // siunitx units
        b"second" => Text("s"),
        b"milli" => Text("m"),
        b"nano" => Text("n"),
        b"kilo" => Text("k"),
        b"mega" => Text("M"),
        b"giga" => Text("G"),
        b"tera" => Text("T"),
        b"byte" => Text("B"),
        b"bit" => Text("b"),
        b"hertz" => Text("Hz"),
        b"watt" => Text("W"),
        b"joule" => Text("J"),
        b"minute" => Text("min"),
        b"hour" => Text("h"),
        b"per" => Text("/"),
        b"ms" => Text("ms"),
        b"us" => Text("µs"),
        b"ns" => Text("ns"),
        b"quad" | b"qquad" | b"enspace" | b"enskip" | b"space" | b"hfill" | b"hfil" | b"hss" | b"nobreakspace"
        | b"newline" | b"linebreak" | b"par" | b"cr" | b"crcr" => Text(" "),
        // Annotations and layout: dropped with their arguments, so that a
        // footnote marker or a colour never reads as part of a number.
        b"label" | b"ref" | b"autoref" | b"eqref" | b"pageref" | b"nameref" | b"tnote" | b"tablefootnote"
        | b"textsuperscript" | b"phantom" | b"hphantom" | b"vphantom" | b"url" | b"index" | b"input" | b"cline"
        | b"hhline" | b"noalign" | b"Xhline" => Drop("g"),
        b"cdashline" => Drop("go"),
        b"cref" | b"Cref" | b"hspace" | b"vspace" => Drop("sg"),
        b"cite" | b"citep" | b"citet" | b"citealp" | b"citealt" | b"citeauthor" | b"citeyear" | b"parencite"
        | b"textcite" | b"autocite" | b"nocite" => Drop("soog"),
        b"footnote" | b"footnotetext" | b"cellcolor" | b"rowcolor" | b"columncolor" | b"color" | b"arrayrulecolor"
        | b"includegraphics" => Drop("og"),
        b"footnotemark" | b"addlinespace" | b"toprule" | b"midrule" | b"bottomrule" | b"hdashline" => Drop("o"),
        b"rule" => Drop("ogg"),
        b"rowcolors" => Drop("soggg"),
        b"setlength" | b"addtolength" | b"fontsize" | b"Xcline" => Drop("gg"),
        b"newcommand" | b"renewcommand" | b"providecommand" => Drop("sgog"),
        b"caption" => Drop("sog"),
        b"captionof" => Drop("sgog"),
        b"cmidrule" => Drop("opg"),
        b"specialrule" => Drop("ggg"),
        // Wrappers: leading arguments dropped, content kept.
        b"textcolor" | b"colorbox" | b"rotatebox" => Keep("og"),
        b"fcolorbox" => Keep("ogg"),
        b"raisebox" => Keep("goo"),
        b"parbox" => Keep("ooog"),
        b"makebox" | b"framebox" => Keep("oo"),
        b"resizebox" => Keep("sgg"),
        b"scalebox" => Keep("go"),
        b"adjustbox" | b"href" => Keep("g"),
        b"makecell" | b"thead" | b"shortstack" | b"num" | b"tablenum" | b"si" | b"unit" => Keep("o"),
        b"multirow" => Keep("ogogo"),
        _ => return None,
    })
}

/// Turns LaTeX into the plain text a reader sees, as far as tables need.
pub(super) struct Ctx<'a> {
    pub(super) macros: &'a Macros,
}

impl Ctx<'_> {
    /// Plain text of LaTeX (a caption).
    pub(super) fn text(&self, raw: &[u8]) -> String {
        self.cell(raw).0
    }

    /// Plain text of a cell and its column span.
    pub(super) fn cell(&self, raw: &[u8]) -> (String, usize) {
        let mut out = Vec::new();
        let mut span = 1;
        self.clean(raw, 0, &mut out, &mut span);
        let text = String::from_utf8_lossy(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        (text, span)
    }

    pub(super) fn clean(&self, b: &[u8], depth: u32, out: &mut Vec<u8>, span: &mut usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let end = b.len();
        let mut i = 0;
        while i < end {
            if out.len() > MAX_TEXT {
                return;
            }
            let c = b[i];
            match c {
                b'\\' => i = self.command(b, i, depth, out, span).max(i + 1),
                // Arguments of an unknown command read apart:
                // `\diagbox{Load}{System}` is "Load System".
                b'}' if b.get(i + 1) == Some(&b'{') => {
                    out.push(b' ');
                    i += 1;
                }
                // Grouping braces and math delimiters.
                b'{' | b'}' | b'$' => i += 1,
                b'~' | b'&' | b'\t' | b'\r' | b'\n' => {
                    out.push(b' ');
                    i += 1;
                }
                b'-' => {
                    let run = b[i..].iter().take_while(|&&d| d == b'-').count();
                    out.extend_from_slice(if run >= 2 { b"--" } else { b"-" });
                    i += run;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
    }

    /// One control sequence at `b[i]`: write its text, return the offset
    /// after it (and after the arguments it consumes).
    pub(super) fn command(&self, b: &[u8], i: usize, depth: u32, out: &mut Vec<u8>, span: &mut usize) -> usize {
        let end = b.len();
        let (word, next) = control(b, i, end);
        let Some(name) = word else {
            match b.get(i + 1) {
                Some(&s @ (b'%' | b'&' | b'$' | b'#' | b'_' | b'{' | b'}')) => out.push(s),
                Some(b' ' | b'\t' | b'\r' | b'\n') => out.push(b' '),
                Some(b'\\') => {
                    // A line break inside a cell (`\makecell{a\\b}`).
                    out.push(b' ');
                    let p = skip_sig(b, next, end, "s");
                    return opt(b, p, end).map_or(p, |s| s.next);
                }
                // `\,` `\!` `\;` `\:` spacing, `\(` `\)` `\[` `\]` math,
                // accents (`\'e` keeps the e), `\-` `\/`.
                _ => {}
            }
            return next;
        };
        if let Some(body) = self.macros.get(name) {
            self.clean(body, depth + 1, out, span);
            return skip_ws(b, next, end);
        }
        match name {
            b"begin" => {
                let Some((env, after)) = env_name(b, next, end) else {
                    return next;
                };
                return if is_tabular(&env) {
                    tabular_body_start(b, &env, after, end)
                } else if env == "minipage" {
                    skip_sig(b, after, end, "ooog")
                } else {
                    after
                };
            }
            b"end" => return env_name(b, next, end).map_or(next, |(_, after)| after),
            b"multicolumn" => {
                let Some(n) = group(b, next, end) else { return next };
                let digits = String::from_utf8_lossy(trim_bytes(&b[n.s..n.e])).into_owned();
                *span = digits.parse::<usize>().unwrap_or(1).clamp(1, MAX_SPAN);
                // The spec is dropped; the text argument flows on.
                return group(b, n.next, end).map_or(n.next, |s| s.next);
            }
            b"SI" | b"qty" => {
                let p = skip_sig(b, next, end, "o");
                let Some(num) = group(b, p, end) else { return p };
                self.clean(&b[num.s..num.e], depth + 1, out, span);
                out.push(b' ');
                let Some(unit) = group(b, num.next, end) else {
                    return num.next;
                };
                self.clean(&b[unit.s..unit.e], depth + 1, out, span);
                return unit.next;
            }
            b"verb" => {
                let Some(&delim) = b.get(next) else { return next };
                return match (next + 1..end).find(|&k| b[k] == delim) {
                    Some(close) => {
                        out.extend_from_slice(&b[next + 1..close]);
                        close + 1
                    }
                    None => next,
                };
            }
            _ => {}
        }
        match action(name) {
            Some(Act::Text(t)) => {
                out.extend_from_slice(t.as_bytes());
                skip_ws(b, next, end)
            }
            Some(Act::Drop(sig) | Act::Keep(sig)) => {
                let p = skip_sig(b, next, end, sig);
                if p == next {
                    skip_ws(b, next, end)
                } else {
                    p
                }
            }
            // Font, size and unknown commands: the name goes, content stays.
            None => skip_ws(b, next, end),
        }
    }
}
