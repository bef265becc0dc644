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
    text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect()
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
