//! Escaping of user-provided text (workload names, file names, …) for
//! each place it lands.

/// Markdown: backslash-escape the punctuation GFM gives meaning to, and fold
/// newlines, so a name can never open a table cell, link, emphasis or HTML.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '|' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Markdown text that begins a block (the first words of a list item):
/// [`markdown`], and a leading `-`, `+`, `=` or `1.` / `1)` escaped too, so
/// it cannot open a nested list or a heading underline there.
pub fn markdown_line_start(text: &str) -> String {
    let mut out = markdown(text);
    let digits = out.bytes().take_while(u8::is_ascii_digit).count();
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    } else if (1..=9).contains(&digits) && matches!(out.as_bytes().get(digits), Some(b'.' | b')')) {
        out.insert(digits, '\\');
    }
    out
}

/// A Markdown code span showing `text` verbatim on one line: the fence is
/// one backtick longer than the longest run of backticks inside (padded
/// with a space where the text starts or ends with a backtick or a space),
/// and line breaks show as `␤` / `␍`. Ordinary text gives `` `text` ``.
pub fn code(text: &str) -> String {
    let text: std::borrow::Cow<'_, str> = if text.contains(['\n', '\r']) {
        text.replace('\n', "␤").replace('\r', "␍").into()
    } else {
        text.into()
    };
    if text.is_empty() {
        return "` `".into();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty())
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` capped at `max` characters, with `…` when cut.
pub fn cap(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]).into(),
        None => text.into(),
    }
}

/// Text in a GitHub comment: an `@name` mention or a `#123` reference
/// would notify people or link issues, so a zero-width joiner follows each
/// `@`, and each `#` before a digit (invisible; the text reads the same).
pub fn no_mentions(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let fires = |i: usize| bytes[i] == b'@' || (bytes[i] == b'#' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
    if !(0..bytes.len()).any(fires) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        out.push(c);
        if c.is_ascii() && fires(i) {
            out.push('\u{200D}');
        }
    }
    out.into()
}

/// CSV text cells: neutralize spreadsheet formulas (OWASP "CSV injection"):
/// a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
/// leading `'`. Quoting is left to the CSV writer.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{text}")),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

/// LaTeX text mode: the ten special characters get their text-mode
/// commands, the typographic Unicode we emit ourselves (× ± – — “ ” ·) gets
/// its LaTeX form, Latin-1 letters pass (pdflatex reads UTF-8 with T1 fonts),
/// and anything else becomes `?` so a name can never break compilation.
pub fn latex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '"' => out.push_str("\\textquotedbl{}"),
            '×' => out.push_str("$\\times$"),
            '±' => out.push_str("$\\pm$"),
            '·' => out.push_str("$\\cdot$"),
            '–' => out.push_str("--"),
            '—' => out.push_str("---"),
            '“' => out.push_str("``"),
            '”' => out.push_str("''"),
            '‘' => out.push('`'),
            '’' => out.push('\''),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_ascii_control() => {}
            c if c.is_ascii() || ('\u{a0}'..='\u{ff}').contains(&c) => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A LaTeX `%` comment line's content: no newline may end the comment early.
pub fn latex_comment(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cannot_break_out() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("<script>"), "\\<script\\>");
        assert_eq!(markdown("x\ny"), "x y");
        assert_eq!(markdown("scheduler_comparison"), "scheduler\\_comparison");
    }

    #[test]
    fn code_spans_hold_any_text_on_one_line() {
        assert_eq!(code("run-1"), "`run-1`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("``x"), "``` ``x ```");
        assert_eq!(code("a\nb\r"), "`a␤b␍`");
        assert_eq!(code(" x "), "`  x  `");
        assert_eq!(code(" x"), "` x`");
        assert_eq!(code(""), "` `");
    }

    #[test]
    fn line_starts_cannot_open_blocks() {
        assert_eq!(markdown_line_start("sage"), "sage");
        assert_eq!(markdown_line_start("- x"), "\\- x");
        assert_eq!(markdown_line_start("==="), "\\===");
        assert_eq!(markdown_line_start("12. x"), "12\\. x");
        assert_eq!(markdown_line_start("# x"), "\\# x");
        assert_eq!(markdown_line_start("2026"), "2026");
    }

    #[test]
    fn mentions_and_references_are_neutralized() {
        assert_eq!(no_mentions("sage"), "sage");
        assert_eq!(no_mentions("@octocat"), "@\u{200D}octocat");
        assert_eq!(no_mentions("fix #12, see #x"), "fix #\u{200D}12, see #x");
        assert_eq!(cap("abcdef", 3), "abc…");
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("ééé", 2), "éé…");
    }

    #[test]
    fn latex_cannot_break_out() {
        assert_eq!(latex("a_b&c%$#{}"), "a\\_b\\&c\\%\\$\\#\\{\\}");
        assert_eq!(latex("\\input{x}"), "\\textbackslash{}input\\{x\\}");
        assert_eq!(latex("x\ny ~^"), "x y \\textasciitilde{}\\textasciicircum{}");
        assert_eq!(latex("11.4×"), "11.4$\\times$");
        assert_eq!(latex("日本"), "??");
        assert_eq!(latex_comment("a\n\\end{document}"), "a \\end{document}");
    }

    #[test]
    fn csv_formulas_are_neutralized() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("sage"), "sage");
    }
}
