//! Tests of the LaTeX table parser.

use super::*;

const EXAMPLE: &str = r"\begin{table}[t]
\centering
\caption{Node scaling: throughput (tasks/s) of each pipeline.}
\label{tab:node-scaling}
\begin{tabular}{lrrrrr}
\toprule
Pipeline & 1 node & 2 nodes & 4 nodes & 8 nodes & 16 nodes \\
\midrule
Compute & 18.5/s & 35.2/s & 68.1/s & 120.4/s & 201.3/s \\
RAG     & 2.5s   & \textbf{4.8} & 9.1 & -- & 30.2 \\ \hline
Mixed & 52\% & 11.4$\times$ & 1,234.5 & $\pm$0.3 & 3.2 ms \\
\bottomrule
\end{tabular}
\end{table}
% \begin{table}
% \caption{Old load levels}
% \begin{tabular}{lcc}
% Level & Throughput & P99 \\
% Low & 10.0 & 5.5 \\
% \end{tabular}
% \end{table}
";

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn num(cell: &str) -> PrintedNumber {
    parse_number(cell).unwrap_or_else(|| panic!("no number in {cell:?}"))
}

fn one(text: &str) -> TexTable {
    let mut t = parse_tables(text);
    assert_eq!(t.len(), 1, "{t:#?}");
    t.remove(0)
}

#[test]
fn example_both_tables() {
    let tables = parse_tables(EXAMPLE);
    assert_eq!(tables.len(), 2, "{tables:#?}");

    let t = &tables[0];
    assert_eq!(
        t.caption.as_deref(),
        Some("Node scaling: throughput (tasks/s) of each pipeline.")
    );
    assert_eq!(t.label.as_deref(), Some("tab:node-scaling"));
    assert!(!t.commented);
    assert_eq!(t.line, 5);
    assert_eq!(
        t.header,
        strings(&["Pipeline", "1 node", "2 nodes", "4 nodes", "8 nodes", "16 nodes"])
    );
    assert_eq!(t.rows.len(), 3);
    assert_eq!(
        t.rows[0],
        TexRow {
            line: 9,
            cells: strings(&["Compute", "18.5/s", "35.2/s", "68.1/s", "120.4/s", "201.3/s"])
        }
    );
    assert_eq!(
        t.rows[1],
        TexRow {
            line: 10,
            cells: strings(&["RAG", "2.5s", "4.8", "9.1", "--", "30.2"])
        }
    );
    assert_eq!(
        t.rows[2],
        TexRow {
            line: 11,
            cells: strings(&["Mixed", "52%", "11.4×", "1,234.5", "±0.3", "3.2 ms"])
        }
    );

    let old = &tables[1];
    assert!(old.commented);
    assert_eq!(old.caption.as_deref(), Some("Old load levels"));
    assert_eq!(old.label, None);
    assert_eq!(old.line, 17);
    assert_eq!(old.header, strings(&["Level", "Throughput", "P99"]));
    assert_eq!(
        old.rows,
        vec![TexRow {
            line: 19,
            cells: strings(&["Low", "10.0", "5.5"])
        }]
    );

    // Every cell of the example parses as printed.
    let mixed = &t.rows[2].cells;
    assert_eq!(
        num(&mixed[1]),
        PrintedNumber {
            value: 52.0,
            decimals: 0,
            unit: None,
            percent: true
        }
    );
    assert_eq!(num(&mixed[2]).unit.as_deref(), Some("×"));
    assert_eq!(num(&mixed[3]).value, 1234.5);
    assert_eq!(parse_ci(&mixed[4]), Some(0.3));
    assert_eq!(parse_number(&t.rows[1].cells[4]), None);
}

#[test]
fn serializes() {
    let t = one("\\begin{tabular}{ll}A & B\\\\ 1 & 2\\end{tabular}");
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(v["rows"][0]["cells"][1], "2");
    assert_eq!(v["commented"], false);
    assert!(v["caption"].is_null());
}

#[test]
fn number_forms() {
    let p = |value: f64, decimals: u32, unit: Option<&str>, percent: bool| PrintedNumber {
        value,
        decimals,
        unit: unit.map(str::to_string),
        percent,
    };
    assert_eq!(num("18.5/s"), p(18.5, 1, Some("/s"), false));
    assert_eq!(num("2.5s"), p(2.5, 1, Some("s"), false));
    assert_eq!(num("3.2 ms"), p(3.2, 1, Some("ms"), false));
    assert_eq!(num("52%"), p(52.0, 0, None, true));
    assert_eq!(num("52 %"), p(52.0, 0, None, true));
    assert_eq!(num("11.4×"), p(11.4, 1, Some("×"), false));
    assert_eq!(num("11.4x"), p(11.4, 1, Some("x"), false));
    assert_eq!(num("1,234.5"), p(1234.5, 1, None, false));
    assert_eq!(num("1,234,567"), p(1234567.0, 0, None, false));
    assert_eq!(num("-0.5"), p(-0.5, 1, None, false));
    assert_eq!(num("−0.25"), p(-0.25, 2, None, false));
    assert_eq!(num("+3.1"), p(3.1, 1, None, false));
    assert_eq!(num("1.2e3"), p(1200.0, 1, None, false));
    assert_eq!(num("2.50E-2"), p(0.025, 2, None, false));
    assert_eq!(num("1.2×10^3"), p(1200.0, 1, None, false));
    assert_eq!(num("1.5 × 10^{-3} s"), p(0.0015, 1, Some("s"), false));
    assert_eq!(num("4.8 ± 0.3"), p(4.8, 1, None, false));
    assert_eq!(num("4.8 ±0.3 ms"), p(4.8, 1, Some("ms"), false));
    assert_eq!(num("52 ± 3%"), p(52.0, 0, None, true));
    assert_eq!(num("0.50"), p(0.5, 2, None, false));
    assert_eq!(num(".5"), p(0.5, 1, None, false));
    assert_eq!(num("120"), p(120.0, 0, None, false));
    assert_eq!(num("201.3 tasks/s"), p(201.3, 1, Some("tasks/s"), false));
    assert_eq!(num("12 µs"), p(12.0, 0, Some("µs"), false));
    assert_eq!(num("~3 s"), p(3.0, 0, Some("s"), false));
    assert_eq!(num("(-0.5)"), p(-0.5, 1, None, false));
    assert_eq!(num("12.3†"), p(12.3, 1, None, false));
    // A hyphen inside a word is not a sign; the first number wins.
    assert_eq!(num("Top-1 92.1").value, 1.0);
    assert_eq!(num("16 nodes"), p(16.0, 0, Some("nodes"), false));
    // Not thousands separators.
    assert_eq!(num("1,5"), p(1.0, 0, None, false));
    assert_eq!(num("1234,567").value, 1234.0);
    // `12.` has no decimals; `3/4` has no unit.
    assert_eq!(num("12."), p(12.0, 0, None, false));
    assert_eq!(num("3/4"), p(3.0, 0, None, false));
    assert_eq!(num("2.5eps"), p(2.5, 1, Some("eps"), false));
    for none in [
        "--", "---", "—", "–", "-", "n/a", "N/A", "", "   ", "OOM", "×", "±", "1e999",
    ] {
        assert_eq!(parse_number(none), None, "{none:?}");
    }
}

#[test]
fn confidence_intervals() {
    assert_eq!(parse_ci("4.8 ± 0.3"), Some(0.3));
    assert_eq!(parse_ci("4.8±0.25 ms"), Some(0.25));
    assert_eq!(parse_ci("±0.3"), Some(0.3));
    assert_eq!(parse_ci("4.8 +/- 0.3"), Some(0.3));
    assert_eq!(parse_ci("4.8 (±1.5)"), Some(1.5));
    assert_eq!(parse_ci("52% ± 3%"), Some(3.0));
    assert_eq!(parse_ci("4.8"), None);
    assert_eq!(parse_ci("4.8 ± --"), None);
    assert_eq!(parse_ci(""), None);
}

#[test]
fn agreement_at_printed_precision() {
    let four8 = num("4.8");
    assert!(agrees(&four8, 4.8));
    assert!(agrees(&four8, 4.75));
    assert!(agrees(&four8, 4.85));
    assert!(agrees(&four8, 4.8499));
    assert!(!agrees(&four8, 4.851));
    assert!(!agrees(&four8, 4.749));
    let whole = num("120");
    assert!(agrees(&whole, 120.4));
    assert!(!agrees(&whole, 120.6));
    let pct = num("52%");
    assert!(agrees(&pct, 52.4));
    assert!(!agrees(&pct, 0.52));
    let neg = num("-0.50");
    assert!(agrees(&neg, -0.504));
    assert!(!agrees(&neg, 0.5));
    let big = num("1,234,567");
    assert!(agrees(&big, 1_234_567.4));
    assert!(!agrees(&four8, f64::NAN));
    assert!(!agrees(&four8, f64::INFINITY));
    let huge = PrintedNumber {
        value: 1.0,
        decimals: u32::MAX,
        unit: None,
        percent: false,
    };
    assert!(agrees(&huge, 1.0));
}

#[test]
fn caption_with_nested_braces_and_after_tabular() {
    let text = r"\begin{table*}
\begin{tabular}{lr}
System & Time \\ \midrule
A & 1.0 \\
\end{tabular}
\caption{Throughput of \textbf{SAGE} vs.\ {Ray \emph{(baseline, {$n=3$})}}\label{tab:x}.}
\end{table*}";
    let t = one(text);
    assert_eq!(
        t.caption.as_deref(),
        Some("Throughput of SAGE vs. Ray (baseline, n=3).")
    );
    assert_eq!(t.label.as_deref(), Some("tab:x"));
    assert_eq!(t.line, 2);
    assert_eq!(t.header, strings(&["System", "Time"]));
}

#[test]
fn short_caption_and_cites() {
    let text = r"\begin{table}\caption[Short]{Long one~\cite{ray}, 95\% CI.\footnote{five runs}}
\begin{tabular}{l}X\\1\\\end{tabular}\end{table}";
    assert_eq!(one(text).caption.as_deref(), Some("Long one , 95% CI."));
}

#[test]
fn escaped_percent_is_not_a_comment() {
    let text = "\\begin{tabular}{lrr}\nMetric & A & B \\\\\nUtil & 52\\% & 7 \\\\ % was 48\\% & 9\nEsc & 3\\\\% comment & 4 \\\\\n\\end{tabular}";
    let t = one(text);
    assert_eq!(t.rows[0].cells, strings(&["Util", "52%", "7"]));
    // `\\%`: a row break, then a comment.
    assert_eq!(t.rows[1].cells, strings(&["Esc", "3"]));
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn tabular_star_and_x_arguments() {
    let text = r"\begin{tabular*}{\linewidth}{@{\extracolsep{\fill}}l*{2}{r}@{}}
Name & X & Y \\ \hline
a & 1 & 2 \\
\end{tabular*}
\begin{tabularx}{0.9\textwidth}[t]{lXr}
P & Q & R \\
b & 3 & 4 \\
\end{tabularx}
\begin{tabular}[t]{|l|c|}
H & I \\
c & 5
\end{tabular}";
    let t = parse_tables(text);
    assert_eq!(t.len(), 3);
    assert_eq!(t[0].header, strings(&["Name", "X", "Y"]));
    assert_eq!(t[0].rows[0].cells, strings(&["a", "1", "2"]));
    assert_eq!(t[1].header, strings(&["P", "Q", "R"]));
    assert_eq!(t[1].rows[0].cells, strings(&["b", "3", "4"]));
    assert_eq!(t[1].line, 5);
    // Last row without `\\` still counts.
    assert_eq!(t[2].rows[0].cells, strings(&["c", "5"]));
}

#[test]
fn multicolumn_cells_and_grouped_header() {
    let text = r"\begin{tabular}{lrrrr}
\toprule
\multirow{2}{*}{Pipeline} & \multicolumn{2}{c}{Throughput (tasks/s)} & \multicolumn{2}{c}{\textbf{P99} (ms)} \\
\cmidrule(lr){2-3} \cmidrule(lr){4-5}
 & SAGE & Ray & SAGE & Ray \\
\midrule
Compute & 18.5 & 12.0 & 5.1 & 7.7 \\
\multicolumn{5}{l}{\emph{Large cluster}} \\
RAG & \multicolumn{2}{c}{--} & 9.1 & 9.9 \\
\bottomrule
\end{tabular}";
    let t = one(text);
    assert_eq!(
        t.header,
        strings(&[
            "Pipeline",
            "Throughput (tasks/s) SAGE",
            "Throughput (tasks/s) Ray",
            "P99 (ms) SAGE",
            "P99 (ms) Ray"
        ])
    );
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[0].line, 7);
    assert_eq!(t.rows[1].cells, strings(&["Large cluster", "", "", "", ""]));
    assert_eq!(t.rows[2].cells, strings(&["RAG", "--", "", "9.1", "9.9"]));
}

#[test]
fn unit_row_joins_header_but_data_rows_do_not() {
    let t = one("\\begin{tabular}{lr}Load & Latency\\\\ & (ms)\\\\\\hline Low & 1.0\\\\\\end{tabular}");
    assert_eq!(t.header, strings(&["Load", "Latency (ms)"]));
    assert_eq!(t.rows.len(), 1);
    // Two full rows before the first rule: a header and a data row.
    let t = one("\\begin{tabular}{lr}Load & Latency\\\\ Low & 1.0\\\\\\hline High & 2.0\\\\\\end{tabular}");
    assert_eq!(t.header, strings(&["Load", "Latency"]));
    assert_eq!(t.rows.len(), 2);
    // A single rule at the bottom: first row is the header.
    let t = one("\\begin{tabular}{lr}A & B\\\\ & 1\\\\ x & 2\\\\\\hline\\end{tabular}");
    assert_eq!(t.header, strings(&["A", "B"]));
    assert_eq!(t.rows.len(), 2);
}

#[test]
fn included_files_outside_comments() {
    let text = "\\begin{document}\n\\input{tables/t1}\n% \\input{old}\n\\include{ sec2 } \\input{t3.tex}\n\\inputencoding{x}\n";
    assert_eq!(
        included_files(text),
        vec![
            (2, "tables/t1".to_string()),
            (4, "sec2".to_string()),
            (4, "t3.tex".to_string())
        ]
    );
}

#[test]
fn no_tables() {
    assert!(parse_tables("").is_empty());
    assert!(parse_tables("\\section{Results}\nSAGE is 2.1$\\times$ faster than Ray.\n").is_empty());
    assert!(parse_tables("\\begin{table}\\caption{x}\\includegraphics{t.png}\\end{table}").is_empty());
    assert!(
        parse_tables("\\begin{tabular}{ll} a & b \\\\").is_empty(),
        "unterminated"
    );
}

#[test]
fn commented_row_inside_live_table_is_dropped() {
    let text = "\\begin{tabular}{lr}\nA & B \\\\\n% old & 1 \\\\\n  %% older & 2 \\\\\nnew & 3 \\\\\n\\end{tabular}\n";
    let t = one(text);
    assert!(!t.commented);
    assert_eq!(
        t.rows,
        vec![TexRow {
            line: 5,
            cells: strings(&["new", "3"])
        }]
    );
}

#[test]
fn doubly_commented_lines_in_a_commented_table() {
    let text = "%% \\begin{tabular}{lr}\n%% A & B \\\\\n%%% x & 0 \\\\\n\n%% y & 1 \\\\\n%% \\end{tabular}\n";
    let t = one(text);
    assert!(t.commented);
    assert_eq!(t.line, 1);
    assert_eq!(
        t.rows,
        vec![TexRow {
            line: 5,
            cells: strings(&["y", "1"])
        }]
    );
}

#[test]
fn commented_alternative_inside_live_float_takes_its_caption() {
    let text = "\\begin{table}\n\\caption{Load levels}\\label{tab:load}\n%\\begin{tabular}{lr}\n%L & T\\\\ Low & 1.0\\\\\n%\\end{tabular}\n\\begin{tabular}{lr}\nL & T\\\\ Low & 1.1\\\\\n\\end{tabular}\n\\end{table}\n";
    let t = parse_tables(text);
    assert_eq!(t.len(), 2);
    assert!(t[0].commented && !t[1].commented);
    assert_eq!(t[0].line, 3);
    assert_eq!(t[1].line, 6);
    for x in &t {
        assert_eq!(x.caption.as_deref(), Some("Load levels"));
        assert_eq!(x.label.as_deref(), Some("tab:load"));
    }
    assert_eq!(t[0].rows[0].cells, strings(&["Low", "1.0"]));
}

#[test]
fn skipped_blocks_count_as_commented() {
    let text = r"\iffalse
\begin{tabular}{l}A\\1\\\end{tabular}
\ifx\a\b x\fi
\begin{tabular}{l}B\\2\\\end{tabular}
\else
\begin{tabular}{l}C\\3\\\end{tabular}
\fi
\begin{comment}
\begin{tabular}{l}D\\4\\\end{tabular}
\end{comment}
\begin{tabular}{l}E\\5\\\end{tabular}
\iffalse never closed
\begin{tabular}{l}F\\6\\\end{tabular}";
    let t = parse_tables(text);
    let seen: Vec<(&str, bool)> = t.iter().map(|t| (t.header[0].as_str(), t.commented)).collect();
    assert_eq!(
        seen,
        vec![
            ("A", true),
            ("B", true),
            ("C", false),
            ("D", true),
            ("E", false),
            ("F", false)
        ]
    );
}

#[test]
fn subtables_have_their_own_captions() {
    let text = r"\begin{table}
\caption{Both}\label{tab:both}
\begin{subtable}{0.5\linewidth}\caption{Left}\label{tab:l}
\begin{tabular}{l}A\\1\\\end{tabular}\end{subtable}
\begin{subtable}{0.5\linewidth}
\begin{tabular}{l}B\\2\\\end{tabular}\caption{Right}\end{subtable}
\begin{minipage}{0.3\linewidth}\begin{tabular}{l}C\\3\\\end{tabular}\end{minipage}
\end{table}";
    let t = parse_tables(text);
    assert_eq!(t.len(), 3);
    assert_eq!(
        (t[0].caption.as_deref(), t[0].label.as_deref()),
        (Some("Left"), Some("tab:l"))
    );
    assert_eq!((t[1].caption.as_deref(), t[1].label.as_deref()), (Some("Right"), None));
    assert_eq!(
        (t[2].caption.as_deref(), t[2].label.as_deref()),
        (Some("Both"), Some("tab:both"))
    );
}

#[test]
fn tabular_in_a_figure_takes_its_caption() {
    let t = one("\\begin{figure}\\begin{tabular}{l}A\\\\1\\\\\\end{tabular}\\caption{Fig}\\label{fig:t}\\end{figure}");
    assert_eq!((t.caption.as_deref(), t.label.as_deref()), (Some("Fig"), Some("fig:t")));
}

#[test]
fn tabular_outside_a_float_has_no_caption() {
    let text = "\\caption{Not mine}\n\\begin{center}\\begin{tabular}{l}A\\\\1\\\\\\end{tabular}\\end{center}";
    let t = one(text);
    assert_eq!(t.caption, None);
    assert_eq!(t.label, None);
}

#[test]
fn longtable_heads_feet_and_caption() {
    let text = r"\begin{longtable}[c]{lr}
\caption{Long results}\label{tab:long} \\
\toprule Run & Time \\ \midrule
\endfirsthead
\multicolumn{2}{c}{(continued)} \\
\toprule Run & Time \\ \midrule
\endhead
\midrule \multicolumn{2}{r}{continued on next page} \\
\endfoot
\bottomrule
\endlastfoot
r1 & 1.5 \\
r2 & 2.5 \\
\end{longtable}";
    let t = one(text);
    assert_eq!(t.caption.as_deref(), Some("Long results"));
    assert_eq!(t.label.as_deref(), Some("tab:long"));
    assert_eq!(t.header, strings(&["Run", "Time"]));
    assert_eq!(t.rows.len(), 2);
    assert_eq!(
        t.rows[0],
        TexRow {
            line: 12,
            cells: strings(&["r1", "1.5"])
        }
    );
}

#[test]
fn markup_is_stripped() {
    let text = r"\newcommand{\sys}{\textsc{Sage}\xspace}
\def\ray{Ray}
\newcommand{\best}[1]{\textbf{#1}}
\begin{tabular}{lllll}
System & Latency & Speedup & Size & Note \\
\rowcolor{gray!10}\sys{} (ours) & \SI{3.2}{\milli\second} & $2.1\times$ & \num{1.2e3} & \textcolor{red}{\emph{new}}\tnote{a} \\
\ray & $\mathbf{4.8} \pm 0.3$ & \best{1.5}$\times$ & 1\,234 & \makecell[l]{two\\lines} \\
Ray~2 & $-$0.5 & \multirow{2}{*}{---} & 10$^{3}$ & x\textsuperscript{\dagger} \\
\end{tabular}";
    let t = one(text);
    assert_eq!(
        t.rows[0].cells,
        strings(&["Sage (ours)", "3.2 ms", "2.1×", "1.2e3", "new"])
    );
    assert_eq!(
        t.rows[1].cells,
        strings(&["Ray", "4.8 ±0.3", "1.5×", "1234", "two lines"])
    );
    assert_eq!(t.rows[2].cells, strings(&["Ray 2", "-0.5", "--", "10^3", "x"]));
    assert_eq!(num(&t.rows[0].cells[1]).unit.as_deref(), Some("ms"));
    assert_eq!(num(&t.rows[0].cells[3]).value, 1200.0);
    assert_eq!(parse_ci(&t.rows[1].cells[1]), Some(0.3));
    assert_eq!(num(&t.rows[2].cells[1]).value, -0.5);
}

#[test]
fn wrapped_tabular_and_diagbox() {
    let text = r"\begin{table}[h!]
\resizebox{\columnwidth}{!}{%
\begin{tabular}{lrr}
\diagbox{Load}{System} & {SAGE} & Ray \\ \hline
Low & 1 & 2 \\
\end{tabular}}
\caption{Load}
\end{table}";
    let t = one(text);
    assert_eq!(t.line, 3);
    assert_eq!(t.caption.as_deref(), Some("Load"));
    assert_eq!(t.header, strings(&["Load System", "SAGE", "Ray"]));
    assert_eq!(t.rows[0].cells, strings(&["Low", "1", "2"]));
}

#[test]
fn nested_tabular_is_cell_text() {
    let text = r"\begin{tabular}{lr}
\begin{tabular}[c]{@{}l@{}}Pipe\\line\end{tabular} & {\begin{tabular}{c}P99\\(ms)\end{tabular}} \\
\midrule
A & 1 \\
\end{tabular}";
    let t = one(text);
    assert_eq!(t.header, strings(&["Pipe line", "P99 (ms)"]));
    assert_eq!(t.rows[0].cells, strings(&["A", "1"]));
}

#[test]
fn row_ends_and_line_numbers() {
    let text = "intro\r\n\\begin{tabular}{ll}\r\nA & B \\tabularnewline\r\n\\hline\r\n\r\nx &\r\n  1.0 \\\\[2pt]\r\n  y & 2.0 \\\\*\r\n[z] & 3 \\\\\r\n\\end{tabular}\r\n";
    let t = one(text);
    assert_eq!(t.line, 2);
    assert_eq!(t.header, strings(&["A", "B"]));
    assert_eq!(
        t.rows[0],
        TexRow {
            line: 6,
            cells: strings(&["x", "1.0"])
        }
    );
    assert_eq!(
        t.rows[1],
        TexRow {
            line: 8,
            cells: strings(&["y", "2.0"])
        }
    );
    // `\\*` followed by `[…]` reads as its optional argument, as in LaTeX.
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[2].cells, strings(&["", "3"]));
}

#[test]
fn unicode_keeps_offsets() {
    let text = "% é — ü\n\\begin{table}\\caption{Latência — µs}\n\\begin{tabular}{lr}\nPhase & Time \\\\\\midrule\nFila ç & 12 µs \\\\ % ß\n\\end{tabular}\\end{table}";
    let t = one(text);
    assert_eq!(t.caption.as_deref(), Some("Latência — µs"));
    assert_eq!(t.line, 3);
    assert_eq!(
        t.rows[0],
        TexRow {
            line: 5,
            cells: strings(&["Fila ç", "12 µs"])
        }
    );
}

#[test]
fn never_panics() {
    let garbage = [
        "\\begin{tabular}{",
        "\\begin{tabular}{ll}",
        "\\begin{tabular}}{\\end{tabular}",
        "\\begin{tabular}{l}{{{{a & b \\\\ \\end{tabular}",
        "\\begin{tabular}{l}}}}} & \\\\ \\end{tabular}",
        "&&&\\\\\\\\",
        "\\begin{tabular}{ll}&&&\\\\\\\\\\end{tabular}",
        "\\begin{tabular}{l}\\multicolumn{99999999999999999999}{c}{x}\\\\\\end{tabular}",
        "\\begin{tabular}{l}\\multicolumn{1000}{c}{x} & \\multicolumn\\\\\\end{tabular}",
        "\\begin{tabular}{l}\\multirow\\\\\\SI{\\\\\\end{tabular}",
        "\\begin{tabular}{l}\\verb|x\\\\\\end{tabular}",
        "\\begin{tabular}{l}\\\\[\\end{tabular}",
        "\\begin{tabular}{l}a\\",
        "\\",
        "%",
        "\\%",
        "\\begin{table}\\caption{\\end{table}",
        "\\begin{table}\\caption{{{}\\begin{tabular}{l}a\\end{tabular}\\end{table}",
        "\\end{tabular}\\end{table}\\begin{tabular}",
        "\\def\\a{\\a\\a}\\begin{tabular}{l}\\a\\\\\\end{tabular}",
        "\\newcommand{\\x}{\\x\\x\\x\\x}\\begin{tabular}{l}\\x & \\x\\\\\\end{tabular}",
        "\\newcommand{\\x}\\newcommand\\def\\def\\newcommand{}{}",
        "\\begin{longtable}{l}\\endhead\\endhead\\endfoot\\end{longtable}",
        "\\begin{ tabular }{l}a\\end{tabular}\\begin{}\\end{}",
        "\\begin{tabular}{l}\\cmidrule(\\\\\\cline{\\end{tabular}",
        "\u{feff}% \\begin{tabular}{l}\n% é & ü\\\\\n% \\end{tabular}",
        "\\begin{tabular}{l}\\\u{e9}\\\u{e9}&\u{1F600}\\\\\\end{tabular}",
    ];
    for g in garbage {
        for (i, _) in g.char_indices().chain([(g.len(), ' ')]) {
            let _ = parse_tables(&g[..i]);
        }
    }
    for (i, _) in EXAMPLE.char_indices() {
        let prefix = &EXAMPLE[..i];
        let tables = parse_tables(prefix);
        assert!(tables.len() <= 2);
        let _ = parse_tables(&EXAMPLE[i..]);
        for t in &tables {
            for r in &t.rows {
                for c in &r.cells {
                    let _ = (parse_number(c), parse_ci(c));
                }
            }
        }
    }
    // Pseudo-random soup of the characters that matter.
    let alphabet: Vec<&str> = vec![
        "\\begin{tabular}{lr}",
        "\\end{tabular}",
        "\\begin{table}",
        "\\end{table}",
        "\\caption{",
        "\\label{",
        "{",
        "}",
        "[",
        "]",
        "(",
        "&",
        "\\\\",
        "\\",
        "%",
        "\n",
        "% ",
        "$",
        "\\multicolumn{2}{c}{",
        "\\multirow{2}{*}{",
        "\\hline",
        "\\cmidrule(lr){1-2}",
        "1.5",
        "-",
        "±",
        "é",
        "x",
        " ",
        "\\endhead",
        "\\begin{longtable}{l}",
        "\\end{longtable}",
        "\\SI{",
        "e",
        ",",
        "×10^",
        "\\iffalse",
        "\\else",
        "\\fi",
        "\\begin{comment}",
        "\\end{comment}",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut s = String::new();
        let len = (state % 40) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        for t in parse_tables(&s) {
            for c in t.rows.iter().flat_map(|r| &r.cells).chain(&t.header) {
                if let Some(p) = parse_number(c) {
                    let _ = agrees(&p, p.value);
                }
                let _ = parse_ci(c);
            }
        }
        let _ = (parse_number(&s), parse_ci(&s));
    }
}
