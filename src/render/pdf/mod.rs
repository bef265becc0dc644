//! PDF output: a typst document compiled in-process with the `typst` crates.
//!
//! No typst binary, no network, no system fonts (see [`world`]): the report
//! builds the same everywhere, and the same input gives byte-identical PDF
//! bytes (no creation date, no random document id).
//!
//! The caller writes the document as typst source: [`TEMPLATE`]
//! (`latex/report.typ`: page, fonts, and the helpers `report-title`,
//! `warning-box`, `data-table`, `figure-image`) followed by a generated body.
//! User text goes into the body through [`escape_markup`] (markup mode, e.g.
//! inside `[...]`) or [`string_literal`] (code mode, e.g. a function argument),
//! so a workload called `*_#x` can neither break the build nor inject code.

pub mod layout;
pub mod report;
pub mod subset;
pub mod vector;
pub mod world;

use std::fmt::Write as _;

use typst::diag::{Severity, SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst::syntax::DiagSpan;
use typst::WorldExt;
use typst_pdf::PdfOptions;

pub use world::ReportWorld;

/// The report template (`latex/report.typ`); prepend it to a generated body.
pub const TEMPLATE: &str = include_str!("../../../latex/report.typ");

/// Nanoseconds spent in typst (compile and PDF export) by this process.
static TYPST_NANOS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Seconds spent in typst (compile and PDF export) by this process so far:
/// `bench --stage pdf|site` reports the share of a pass.
pub fn typst_seconds() -> f64 {
    TYPST_NANOS.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
}

/// Compile typst source to PDF bytes. `main_source` is the whole document
/// (usually [`TEMPLATE`] + body); `files` are the other files it may read,
/// by path relative to it (e.g. `("charts/throughput.png", png_bytes)`).
/// Typst errors become one error listing each as `line:col: message`.
pub fn compile_pdf(main_source: &str, files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Vec<u8>> {
    compile_with_warnings(main_source, files).map(|(pdf, _warnings)| pdf)
}

/// [`compile_pdf`], also returning typst's warnings (formatted like errors).
/// Warnings (e.g. an unknown font family) do not fail the build.
pub fn compile_with_warnings(
    main_source: &str,
    files: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    let start = std::time::Instant::now();
    let world = ReportWorld::new(main_source, files)?;
    let Warned { output, warnings } = typst::compile(&world);
    let warnings: Vec<String> = warnings.iter().map(|w| format_diagnostic(&world, w)).collect();
    // The document type is inferred from `typst_pdf::pdf` (PagedDocument),
    // which saves a direct dependency on `typst-layout`.
    let document = output.map_err(|errors| diagnostics_error(&world, &errors))?;
    let options = PdfOptions {
        // Determinism: no creation date, and the document id is hashed from
        // the title/author (typst's `Auto`), not random.
        timestamp: None,
        ident: Smart::Auto,
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| diagnostics_error(&world, &errors))?;
    // Bound typst's memoization cache in long-lived processes (tests, or
    // several reports per run); entries unused for 10 compilations go.
    typst::comemo::evict(10);
    TYPST_NANOS.fetch_add(start.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
    Ok((pdf, warnings))
}

/// One error listing every typst error, so a bad generated body is found
/// from the message alone.
fn diagnostics_error(world: &ReportWorld, diagnostics: &[SourceDiagnostic]) -> anyhow::Error {
    let errors: Vec<&SourceDiagnostic> = diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    let mut msg = format!("typst could not compile the PDF report ({} error(s))", errors.len());
    for diag in errors {
        msg.push('\n');
        msg.push_str(&format_diagnostic(world, diag));
    }
    anyhow::anyhow!(msg)
}

/// `main.typ:LINE:COL: error: message`, the offending source line, then
/// hints and the call trace (errors inside template helpers point into the
/// template; the trace points at the body's call).
fn format_diagnostic(world: &ReportWorld, diag: &SourceDiagnostic) -> String {
    let kind = match diag.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = String::new();
    match locate(world, diag.span) {
        Some((place, line)) => {
            let _ = write!(out, "{place}: {kind}: {}\n    | {line}", diag.message);
        }
        None => {
            let _ = write!(out, "{kind}: {}", diag.message);
        }
    }
    for hint in &diag.hints {
        let _ = write!(out, "\n    hint: {}", hint.v);
    }
    for point in &diag.trace {
        if let Some((place, _)) = locate(world, point.span) {
            let _ = write!(out, "\n    {} at {place}", point.v);
        }
    }
    out
}

/// `file:line:col` (1-based, column in characters) and the trimmed source
/// line of a span, if it points into a source file.
fn locate(world: &ReportWorld, span: impl Into<DiagSpan>) -> Option<(String, String)> {
    use typst::World as _;
    let span = span.into();
    let id = span.id()?;
    let range = world.range(span)?;
    let source = world.source(id).ok()?;
    let (line, col) = source.lines().byte_to_line_column(range.start)?;
    let text = source
        .lines()
        .line_to_range(line)
        .and_then(|r| source.text().get(r))
        .unwrap_or("");
    let file = id.vpath().get_without_slash();
    Some((format!("{file}:{}:{}", line + 1, col + 1), text.trim_end().to_owned()))
}

/// Escape user text for typst *markup* (content in `[...]` or the body):
/// every character the typst lexer gives meaning to in markup is
/// backslash-escaped (`\x` is always the literal `x`), and line breaks and
/// other control characters fold to spaces. So no input can start a heading,
/// list, comment, code (`#`), math, raw text, label, reference, link
/// (`https:\/\/`), smart quote, dash/ellipsis shorthand, or close a bracket.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            // Markup syntax (typst-syntax's lexer: markup(), text()), plus
            // the line-start markers `=`, `+`, `/`, `-` and `N.` (enum).
            '\\' | '#' | '*' | '_' | '$' | '@' | '<' | '>' | '[' | ']' | '`' | '~' | '/' | '\'' | '"' | '-' | '+'
            | '=' | '.' | ':' => {
                out.push('\\');
                out.push(c);
            }
            // Newlines (typst also counts VT, FF, NEL, LS, PS) and other
            // controls: one space, so text never starts a new markup line.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A quoted typst string literal for *code* mode, e.g.
/// `#report-title(<this>, none)`: `\` and `"` escaped, and line breaks,
/// tabs and other control characters written as escapes so the literal
/// stays on one line and means exactly `s`.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny valid RGB PNG (4×3, a gradient), made with the `png` crate.
    fn tiny_png() -> Vec<u8> {
        let (w, h) = (4u32, 3u32);
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().unwrap();
            let data: Vec<u8> = (0..w * h)
                .flat_map(|i| [(i * 20) as u8, 120, 255 - (i * 20) as u8])
                .collect();
            writer.write_image_data(&data).unwrap();
        }
        out
    }

    /// A body that calls every template helper, with and without options.
    fn full_document() -> String {
        let body = format!(
            r#"
#report-title({title}, [Run of #text(style: "italic")[2024-05-01]: {sub}])
#report-title("Second title", none)
= Summary
Plain text with *strong* and _emphasis_.
#warning-box[Configuration mismatch: SAGE used 8 workers, Ray used 16.]
#warning-box(title: "Note")[Another one.]
== Throughput
#data-table(
  columns: 3,
  header: ([Workload], [SAGE (ops/s)], [Ray (ops/s)]),
  align: (left, right, right),
  [{w}], [1 234.5], [987.0],
  [wordcount], [10], [20],
)
#data-table(columns: 2, header: ("a", "b"), [x], [y])
#figure-image("charts/throughput.png", [Throughput by workload.])
#figure-image("/charts/throughput.png", "Same, absolute path.", width: 40%, alt: "bars")
"#,
            title = string_literal("SAGE vs \"Ray\""),
            sub = escape_markup("n=5 *per* side"),
            w = escape_markup("scheduler_comparison #1"),
        );
        format!("{TEMPLATE}\n{body}")
    }

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![("charts/throughput.png".to_owned(), tiny_png())]
    }

    #[test]
    fn every_helper_compiles_to_a_pdf_without_warnings() {
        let (pdf, warnings) = compile_with_warnings(&full_document(), files()).unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{:?}", &pdf[..16.min(pdf.len())]);
        assert!(warnings.is_empty(), "{warnings:#?}");
    }

    #[test]
    fn same_input_same_bytes() {
        let a = compile_pdf(&full_document(), files()).unwrap();
        // Empty typst's memo cache: the second run recomputes everything.
        typst::comemo::evict(0);
        let b = compile_pdf(&full_document(), files()).unwrap();
        assert!(a == b, "two compilations differ ({} vs {} bytes)", a.len(), b.len());
    }

    #[test]
    fn syntax_error_names_its_line() {
        let doc = "= Fine\n\nStill fine.\n#let x = (1, 2\nmore text\n";
        let err = compile_pdf(doc, vec![]).unwrap_err().to_string();
        assert!(err.contains("main.typ:4:"), "{err}");
        assert!(err.contains("#let x = (1, 2"), "{err}");
    }

    #[test]
    fn error_inside_a_helper_traces_back_to_the_call() {
        let call = "#figure-image(\"charts/missing.png\", [x])";
        let doc = format!("{TEMPLATE}\n\n{call}\n");
        let line = doc[..doc.find(call).unwrap()].matches('\n').count() + 1;
        let err = compile_pdf(&doc, files()).unwrap_err().to_string();
        assert!(err.contains("not found") && err.contains("missing.png"), "{err}");
        assert!(
            err.contains(&format!("while calling `figure-image` at main.typ:{line}:")),
            "{err}"
        );
    }

    #[test]
    fn no_clock_no_packages() {
        let err = compile_pdf("#datetime.today()", vec![]).unwrap_err().to_string();
        assert!(err.contains("main.typ:1:"), "{err}");
        let err = compile_pdf("#import \"@preview/foo:0.1.0\": *", vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("package"), "{err}");
    }

    const HOSTILE: &str = r"a_b&c%$#{}\input{x} *bold* @ref <lbl> // c";

    #[test]
    fn escape_markup_examples() {
        assert_eq!(escape_markup("a_b"), r"a\_b");
        assert_eq!(escape_markup("x\ny\r\tz"), "x y  z");
        assert_eq!(escape_markup("= h"), r"\= h");
        assert_eq!(escape_markup("1. x"), r"1\. x");
        assert_eq!(escape_markup("https://x"), r"https\:\/\/x");
        assert_eq!(string_literal("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn hostile_text_renders_literally() {
        let nasty = [
            HOSTILE,
            "= not a heading",
            "- not a list",
            "+ not an enum",
            "1. not an enum",
            "/ not: a term",
            "/* not a comment",
            "*/ stray",
            "]) unbalanced [",
            "`raw` and $x^2$ and ~ and -- and ... and -? and 'q' \"dq\"",
            "https://example.com/a_b",
            "trailing backslash \\",
            "line one\nline two\r\n= three",
            "\\u{41} not an escape",
        ];
        let mut doc = String::from(TEMPLATE);
        for s in nasty {
            let _ = write!(
                doc,
                "\n{}\n\n#data-table(columns: 1, header: ([{}],), [{}])\n",
                escape_markup(s),
                escape_markup(s),
                escape_markup(s)
            );
            let _ = write!(doc, "\n#report-title({}, none)\n", string_literal(s));
        }
        let pdf = compile_pdf(&doc, vec![]).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = pdftotext(&pdf) else {
            eprintln!("pdftotext not found: only checked that the document compiles");
            return;
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for s in nasty {
            let want = s.split_whitespace().collect::<Vec<_>>().join(" ");
            // In markup, in a table cell, and as a string: three times each.
            assert!(
                text.matches(want.as_str()).count() >= 3,
                "{want:?} not rendered literally in:\n{text}"
            );
        }
    }

    /// The PDF's text via poppler's `pdftotext`, if installed.
    fn pdftotext(pdf: &[u8]) -> Option<String> {
        use std::process::{Command, Stdio};
        let dir = std::env::temp_dir().join(format!("sagereport-pdf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join("hostile.pdf");
        std::fs::write(&path, pdf).ok()?;
        let out = Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-nopgbrk"])
            .arg(&path)
            .arg("-")
            .stderr(Stdio::null())
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        let out = out.ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
