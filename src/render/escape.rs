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
    fn csv_formulas_are_neutralized() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-cmd"), "'-cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("sage"), "sage");
    }
}
