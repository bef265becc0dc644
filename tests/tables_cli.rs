//! `sagereport tables` end to end: six tables from a paper-experiments tree,
//! traceable numbers, pdflatex compilation, `--check` against a copy with an
//! altered cell, escaping, and the legacy exp1–exp4 fixture tree.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn sagereport(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A paper tree (exp1–exp4, 3 runs per configuration) and its tables.
fn paper_tables(tmp: &Path) -> PathBuf {
    let (code, _, err) = sagereport(&["synth", "--paper", "-o", "tree"], tmp);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sagereport(&["tables", "tree", "-o", "tables"], tmp);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Table 1"), "{out}");
    tmp.join("tables")
}

const STEMS: [&str; 6] = [
    "table1_node_scaling",
    "table2_load_levels",
    "table3_scheduler_comparison",
    "table4_throughput_curve",
    "table5_latency_breakdown",
    "table6_parallel_jobs",
];

/// In CI the TeX tools must be present; elsewhere a missing tool skips.
fn tool(name: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: {name} is not installed (apt-get install texlive-latex-recommended poppler-utils)");
    }
    found
}

#[test]
fn six_tables_with_provenance_and_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = paper_tables(tmp.path());
    for stem in STEMS {
        let tex = std::fs::read_to_string(dir.join(format!("{stem}.tex"))).unwrap();
        assert!(tex.starts_with("% Table "), "{stem}: provenance first");
        assert!(
            tex.contains("% Regenerate: sagereport tables tree --output-dir tables"),
            "{stem}"
        );
        assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"), "{stem}");
        assert!(tex.contains("\\label{tab:"), "{stem}");
        assert!(tex.contains("% Row "), "{stem}: per-row record counts");
    }
    let t1 = std::fs::read_to_string(dir.join("table1_node_scaling.tex")).unwrap();
    // 3 runs per cell: intervals and n.
    assert!(t1.contains("$\\pm$"), "{t1}");
    assert!(t1.contains("RAG &"), "{t1}");
    assert!(t1.contains("$\\times$"), "speedup column: {t1}");
    let md = std::fs::read_to_string(dir.join("tables.md")).unwrap();
    assert!(md.contains("## Table 6: Parallel Jobs"), "{md}");
    assert!(md.contains("Start delay"), "{md}");
    let standalone = std::fs::read_to_string(dir.join("tables.tex")).unwrap();
    for stem in STEMS {
        assert!(standalone.contains(&format!("\\input{{{stem}}}")));
    }
    for fig in [
        "fig_node_scalability.png",
        "fig_scheduler_tradeoffs.svg",
        "fig_throughput_latency.png",
        "fig_parallel_jobs.png",
    ] {
        assert!(dir.join(fig).is_file(), "{fig} missing");
    }
    insta::assert_snapshot!(
        "table3_scheduler_comparison",
        std::fs::read_to_string(dir.join("table3_scheduler_comparison.tex")).unwrap()
    );
}

#[test]
fn tables_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = paper_tables(tmp.path());
    let first: Vec<Vec<u8>> = STEMS
        .iter()
        .map(|s| std::fs::read(dir.join(format!("{s}.tex"))).unwrap())
        .collect();
    let png = std::fs::read(dir.join("fig_node_scalability.png")).unwrap();
    assert_eq!(sagereport(&["tables", "tree", "-o", "tables"], tmp.path()).0, 0);
    for (s, bytes) in STEMS.iter().zip(first) {
        assert!(
            std::fs::read(dir.join(format!("{s}.tex"))).unwrap() == bytes,
            "{s} differs between runs"
        );
    }
    assert!(std::fs::read(dir.join("fig_node_scalability.png")).unwrap() == png);
}

#[test]
fn tables_compile_with_pdflatex() {
    if !tool("pdflatex") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = paper_tables(tmp.path());
    let out = std::process::Command::new("pdflatex")
        .args(["-halt-on-error", "-interaction=nonstopmode", "tables.tex"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdflatex failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(dir.join("tables.pdf").is_file());
    if tool("pdftotext") {
        let text = std::process::Command::new("pdftotext")
            .args(["tables.pdf", "-"])
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("LoadAware-Spread"), "{text}");
        assert!(text.contains("Node scaling"), "{text}");
    }
}

#[test]
fn check_passes_on_a_copy_and_flags_an_altered_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = paper_tables(tmp.path());
    let original = std::fs::read_to_string(dir.join("table3_scheduler_comparison.tex")).unwrap();
    std::fs::write(tmp.path().join("paper.tex"), &original).unwrap();
    let (code, out, err) = sagereport(&["tables", "--check", "paper.tex", "tree"], tmp.path());
    assert_eq!(code, 0, "unaltered copy must agree:\n{out}\n{err}");
    assert!(err.contains("0 differ"), "{err}");

    // Alter one number of the FIFO row (its throughput) by a visible amount.
    let fifo = original.lines().find(|l| l.starts_with("FIFO &")).unwrap();
    let first_number = fifo
        .split('&')
        .nth(1)
        .unwrap()
        .trim()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let altered_value = format!("{:.1}", first_number.parse::<f64>().unwrap() + 3.0);
    let altered_row = fifo.replacen(&first_number, &altered_value, 1);
    let altered = original.replacen(fifo, &altered_row, 1);
    let line = altered.lines().position(|l| l == altered_row).unwrap() + 1;
    std::fs::write(tmp.path().join("paper.tex"), &altered).unwrap();
    let (code, out, _) = sagereport(&["tables", "--check", "paper.tex", "tree"], tmp.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("paper.tex:{line}: Table 3")), "{out}");
    assert!(out.contains("row \"FIFO\", column \"Throughput\""), "{out}");
    assert!(out.contains(&format!("paper {altered_value}")), "{out}");
    assert_eq!(out.lines().count(), 1, "only the altered cell: {out}");
}

#[test]
fn check_reads_hand_written_and_commented_tables() {
    let tmp = tempfile::tempdir().unwrap();
    paper_tables(tmp.path());
    let md = std::fs::read_to_string(tmp.path().join("tables/tables.md")).unwrap();
    // The computed low-load throughput, to one decimal, from the preview.
    let low = md.lines().find(|l| l.starts_with("| Low |")).unwrap();
    let low_tput: f64 = low
        .split('|')
        .nth(2)
        .unwrap()
        .trim()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let paper = format!(
        "\\section{{Experiments}}\n\
         \\begin{{table}}[t]\\caption{{Throughput under different load levels}}\\label{{tab:mine}}\n\
         \\begin{{tabular}}{{lcc}}\\toprule\n\
         Load & Throughput (tasks/s) & P99 \\\\ \\midrule\n\
         Low & {low_tput:.1}/s & -- \\\\\n\
         Medium & 99.9/s & -- \\\\\n\
         \\bottomrule\\end{{tabular}}\\end{{table}}\n\
         % \\begin{{table}}\\caption{{Load levels, old}}\n\
         % \\begin{{tabular}}{{lc}}\n\
         % Load & Throughput \\\\\n\
         % High & 1.0 \\\\\n\
         % \\end{{tabular}}\\end{{table}}\n"
    );
    std::fs::write(tmp.path().join("paper.tex"), paper).unwrap();
    let (code, out, err) = sagereport(&["tables", "--check", "paper.tex", "tree"], tmp.path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("paper.tex:6: Table 2"), "{out}");
    assert!(out.contains("row \"Medium\""), "{out}");
    assert!(
        out.contains("paper.tex:11: Table 2 (tab:load-levels) [commented out], row \"High\""),
        "{out}"
    );
    assert!(!out.contains("row \"Low\""), "Low agrees: {out}");
}

#[test]
fn check_follows_inputs_and_our_own_tables_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = paper_tables(tmp.path());
    // tables.tex only \input's the six tables: every one is checked, in its own file.
    let (code, out, err) = sagereport(&["tables", "--check", "tables/tables.tex", "tree"], tmp.path());
    assert_eq!(
        code, 0,
        "our own tables must agree with the data they came from:\n{out}\n{err}"
    );
    assert!(err.contains(" 0 differ from the data"), "{err}");
    for (n, stem) in STEMS.iter().enumerate() {
        assert!(
            err.contains(&format!("tables/{stem}.tex:")) && err.contains(&format!("Table {}", n + 1)),
            "{stem} not checked: {err}"
        );
    }

    // A main file whose table lives in an \input'ed subfolder file, one
    // \input commented out and one missing: the difference names the file
    // and line that hold the altered cell.
    std::fs::create_dir_all(tmp.path().join("paper/sections")).unwrap();
    let t3 = std::fs::read_to_string(dir.join("table3_scheduler_comparison.tex")).unwrap();
    let fifo = t3.lines().find(|l| l.starts_with("FIFO &")).unwrap();
    let first_number = fifo
        .split('&')
        .nth(1)
        .unwrap()
        .trim()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let altered_value = format!("{:.1}", first_number.parse::<f64>().unwrap() + 3.0);
    let altered = t3.replacen(fifo, &fifo.replacen(&first_number, &altered_value, 1), 1);
    let line = altered.lines().position(|l| l.starts_with("FIFO &")).unwrap() + 1;
    std::fs::write(tmp.path().join("paper/sections/eval.tex"), &altered).unwrap();
    std::fs::write(
        tmp.path().join("paper/main.tex"),
        "\\documentclass{article}\n\\begin{document}\n% \\input{sections/old}\n\\input{sections/eval}\n\\include{sections/missing}\n\\end{document}\n",
    )
    .unwrap();
    let (code, out, err) = sagereport(&["tables", "--check", "paper/main.tex", "tree"], tmp.path());
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains(&format!("paper/sections/eval.tex:{line}: Table 3")),
        "{out}"
    );
    assert!(out.contains(&format!("paper {altered_value}")), "{out}");
    assert!(err.contains("paper/main.tex:5: sections/missing is not found"), "{err}");
    assert!(
        !err.contains("sections/old"),
        "a commented \\input is not followed: {err}"
    );
}

#[test]
fn legacy_fixture_tree_fills_what_it_has_and_marks_the_rest() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/clean");
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["tables", fixtures.to_str().unwrap(), "-o", "t"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let t1 = std::fs::read_to_string(tmp.path().join("t/table1_node_scaling.tex")).unwrap();
    // The legacy exp1 has 1, 4, 8, 16 nodes and no 2-node run: `--` there, with a note.
    assert!(t1.contains("--"), "{t1}");
    assert!(t1.contains("no record in the inputs"), "{t1}");
    let t2 = std::fs::read_to_string(tmp.path().join("t/table2_load_levels.tex")).unwrap();
    assert!(t2.contains("No exp2a records"), "{t2}");
}

#[test]
fn hostile_names_are_escaped_in_latex() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = r"a_b&c%$#{}\input{x}";
    let line = serde_json::json!({
        "backend": "sage", "workload": "w", "run_id": "r1", "seed": 1, "nodes": 2, "parallelism": 2,
        "throughput": 10.0, "latency_p50": 1.0, "latency_p95": 2.0, "latency_p99": 3.0, "success_rate": 1.0,
        "duration_seconds": 1.0, "timestamp": "2026-01-01T00:00:00+00:00",
        "metadata": {"experiment": "exp1", "pipeline": hostile}
    });
    std::fs::create_dir_all(tmp.path().join("in")).unwrap();
    std::fs::write(tmp.path().join("in/unified_results.jsonl"), format!("{line}\n")).unwrap();
    let (code, _, err) = sagereport(&["tables", "in", "-o", "t"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let t1 = std::fs::read_to_string(tmp.path().join("t/table1_node_scaling.tex")).unwrap();
    assert!(
        !t1.lines()
            .filter(|l| !l.starts_with('%'))
            .any(|l| l.contains("\\input{x}")),
        "{t1}"
    );
    if tool("pdflatex") {
        let out = std::process::Command::new("pdflatex")
            .args(["-halt-on-error", "-interaction=nonstopmode", "tables.tex"])
            .current_dir(tmp.path().join("t"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn check_never_reads_a_device_a_fifo_or_a_paper_beyond_max_document() {
    let tmp = tempfile::tempdir().unwrap();
    paper_tables(tmp.path());
    let fifo = tmp.path().join("paper-fifo.tex");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    std::fs::write(tmp.path().join("big.tex"), "% a paper\n".repeat(200_000)).unwrap();
    let mut cases = vec![
        (vec!["tables", "--check", "/dev/zero", "tree"], "a device: not read"),
        (
            vec!["tables", "--check", "big.tex", "--max-document", "1MiB", "tree"],
            "larger than 1 MiB (--max-document)",
        ),
    ];
    if made.is_ok_and(|s| s.success()) {
        cases.push((
            vec!["tables", "--check", "paper-fifo.tex", "tree"],
            "a FIFO (named pipe): not read",
        ));
    }
    for (args, says) in cases {
        let (code, _, err) = sagereport(&args, tmp.path());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("cannot read the paper") && err.contains(says),
            "{args:?}: {err}"
        );
    }
}
