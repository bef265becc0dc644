//! Text from the data cannot break out of summary.md or the PR comment
//! (issue 14, item 6): a newline, CR, backtick, `|`, raw HTML, a heading
//! marker or an `@mention` in a run id, config hash, file name, backend,
//! workload, label or mismatch value stays inside its code span or table
//! cell; the comment stays under GitHub's limit for any input length.

use assert_cmd::Command;
use std::path::Path;

const MARKER: &str = "<!-- sagereport:benchmark-report -->";

fn sagereport(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn record(backend: &str, workload: &str, run: usize, throughput: f64, shuffle: &str) -> String {
    serde_json::json!({
        "backend": backend, "workload": workload, "run_id": format!("a\nb`c|d\r<img src=x onerror=alert(1)>-{run}"),
        "seed": 42, "nodes": 1, "parallelism": 2, "throughput": throughput, "latency_p50": 10.0,
        "latency_p95": 20.0 + run as f64, "latency_p99": 30.0 + run as f64, "success_rate": 1.0,
        "duration_seconds": 2.5, "timestamp": format!("2026-02-21T03:58:4{}+00:00", run % 10),
        "config_hash": format!("h\n## hash`|{backend}"), "backend_hash": null,
        "metadata": {"scheduler_name": "fifo", "num_tasks": 100, "shuffle_version": shuffle}
    })
    .to_string()
}

/// `dir/in`: three backends (one hostile, one 70,000 characters long) ×
/// hostile workloads, in folders with hostile names, a shape mismatch whose
/// values are hostile, and a rejected line.
fn hostile_tree(dir: &Path) -> String {
    let long = format!("{}|@octocat`\n# long", "b".repeat(70_000));
    let backends = ["sage".to_string(), "<details><summary>x @octocat".to_string(), long];
    let workloads = [
        "# heading",
        "<img src=x onerror=alert(1)>",
        "w|x\n# injected `code` @octocat",
        "Q1",
    ];
    for (b, backend) in backends.iter().enumerate() {
        let shuffle = if b == 1 { "v2\n<details>|`@octocat ##" } else { "v1" };
        let mut lines = Vec::new();
        for workload in workloads {
            for run in 0..3 {
                lines.push(record(backend, workload, run, 10.0 + run as f64 + b as f64, shuffle));
            }
        }
        lines.push(
            r#"{"backend": "sage", "workload": "`\n# rejected <img src=x onerror=alert(2)> @octocat"}"#.to_string(),
        );
        let folder = dir.join("in").join(format!("side{b} `x\n# dir|<details>"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    "in".into()
}

/// `line` with its code spans replaced by `CODE` (CommonMark: a run of n
/// backticks up to the next run of exactly n; a backslash escapes the next
/// character outside code spans).
fn strip_code_spans(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            out.extend_from_slice(&b[i..i + 2]);
            i += 2;
            continue;
        }
        if b[i] == b'`' {
            let run = b[i..].iter().take_while(|&&c| c == b'`').count();
            let mut j = i + run;
            let mut close = None;
            while j < b.len() {
                if b[j] == b'`' {
                    let r = b[j..].iter().take_while(|&&c| c == b'`').count();
                    if r == run {
                        close = Some(j + r);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(end) => {
                    out.extend_from_slice(b"CODE");
                    i = end;
                }
                None => {
                    out.extend_from_slice(&b[i..i + run]);
                    i += run;
                }
            }
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// Byte offsets of `c` in `text` not escaped by a backslash.
fn unescaped(text: &str, c: u8) -> Vec<usize> {
    let b = text.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == c && b[..i].iter().rev().take_while(|&&x| x == b'\\').count() % 2 == 0)
        .collect()
}

/// The structural checks shared by summary.md and the PR comment.
fn assert_contained(name: &str, text: &str, own_headings: &[&str], own_html_lines: &[&str]) {
    let lines: Vec<&str> = text.lines().collect();
    // Tables: every row has as many cell separators as its header.
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with('|') {
            let header = unescaped(lines[i], b'|').len();
            let mut j = i;
            while j < lines.len() && lines[j].starts_with('|') {
                assert_eq!(
                    unescaped(lines[j], b'|').len(),
                    header,
                    "{name}: table row {} breaks its cells: {:.300}",
                    j + 1,
                    lines[j]
                );
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    for (n, line) in lines.iter().enumerate() {
        let at = format!("{name}:{}: {:.300}", n + 1, line);
        if line.starts_with('#') {
            assert!(
                own_headings.iter().any(|h| line.starts_with(h)),
                "a heading the tool did not write: {at}"
            );
        }
        if line.starts_with('<') {
            assert!(
                own_html_lines.iter().any(|h| line.starts_with(h)),
                "an HTML line the tool did not write: {at}"
            );
        }
        for data in ["b`c|d", "# injected", "# rejected", "# long", "# dir", "## hash"] {
            assert!(!line.starts_with(data), "data started a line: {at}");
        }
        let outside = strip_code_spans(line);
        assert!(
            unescaped(&outside, b'`').is_empty(),
            "a backtick outside a code span: {at}"
        );
        for lt in unescaped(&outside, b'<') {
            let tag = &outside[lt..];
            assert!(
                [
                    "<details>",
                    "</details>",
                    "<summary>",
                    "</summary>",
                    "<sub>",
                    "</sub>",
                    MARKER
                ]
                .iter()
                .any(|t| tag.starts_with(t)),
                "raw HTML from the data: {at}"
            );
        }
        for lt in outside
            .match_indices("<details>")
            .map(|(k, _)| k)
            .filter(|k| unescaped(&outside, b'<').contains(k))
        {
            assert!(
                outside[lt..].starts_with("<details><summary>All ")
                    || outside[lt..].starts_with("<details><summary>Significant "),
                "{at}"
            );
        }
        for (k, _) in outside.match_indices("onerror") {
            assert!(
                outside[..k]
                    .rfind("<img")
                    .is_some_and(|p| p > 0 && outside.as_bytes()[p - 1] == b'\\'),
                "onerror outside escaped text: {at}"
            );
        }
    }
    assert!(!text.contains('\r'), "{name}: a raw CR");
}

#[test]
fn hostile_names_cannot_break_out_of_summary_md_or_the_pr_comment() {
    let tmp = tempfile::tempdir().unwrap();
    let input = hostile_tree(tmp.path());
    let (code, _, err) = sagereport(
        &["compare", &input, "-o", "out", "--pr-comment", "comment.md", "-q"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");

    let md = std::fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    let md_headings = [
        "# Comparison: ",
        "## Verdict",
        "## Configuration mismatches",
        "## Results",
        "## Charts",
        "## Records",
        "## Provenance",
        "### ",
    ];
    assert_contained(
        "summary.md",
        &md,
        &md_headings,
        &["<details><summary>All ", "</details>"],
    );
    // The hostile values are there, escaped, not dropped.
    assert!(md.contains("\\# heading"), "workload shown escaped");
    assert!(
        md.contains("\\<img src=x onerror=alert\\(1\\)\\>"),
        "workload shown escaped"
    );
    assert!(md.contains("\\<details\\>\\<summary\\>x"), "backend shown escaped");
    assert!(
        md.contains("a␤b`c|d␍"),
        "run id shown in a code span with visible line breaks"
    );
    assert!(md.contains("shuffle_version"), "the hostile mismatch is reported");
    assert!(
        md.contains("v2 \\<details\\>\\|\\`@octocat \\#\\#"),
        "mismatch value escaped in its cell"
    );

    let comment = std::fs::read_to_string(tmp.path().join("comment.md")).unwrap();
    assert_eq!(
        comment.lines().next(),
        Some(MARKER),
        "the marker is the very first line"
    );
    assert!(
        comment.chars().count() <= 65_536,
        "{} characters",
        comment.chars().count()
    );
    assert!(comment.len() <= 65_536, "{} bytes", comment.len());
    let own_html = [MARKER, "<details><summary>", "</details>", "<sub>sagereport "];
    assert_contained("comment.md", &comment, &["### Benchmark comparison: "], &own_html);
    assert_eq!(
        comment.matches("<details>").count(),
        comment.matches("</details>").count(),
        "every <details> is closed"
    );
    for line in comment.lines() {
        let outside = strip_code_spans(line);
        for (k, _) in outside.match_indices('@') {
            let next = outside[k + 1..].chars().next();
            assert!(
                !next.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_'),
                "an @mention survives: {line:.300}"
            );
        }
    }
    assert!(comment.contains("@\u{200D}octocat"), "the name is still readable");
    assert!(comment.contains("bbbb…"), "the long name is capped with an ellipsis");
}

#[test]
fn hostile_labels_and_a_huge_tree_keep_the_comment_within_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_tree(tmp.path());
    // Sides by input, with labels naming people and starting headings.
    let (code, _, err) = sagereport(
        &[
            "compare",
            "--label",
            "@octocat # x|y<img src onerror>`z\n# label=in/side0 `x\n# dir|<details>",
            "--label",
            "main=in/side1 `x\n# dir|<details>",
            "-o",
            "out",
            "--pr-comment",
            "comment.md",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    let md_headings = [
        "# Comparison: ",
        "## Verdict",
        "## Configuration mismatches",
        "## Results",
        "## Charts",
        "## Records",
        "## Provenance",
        "### ",
    ];
    assert_contained(
        "summary.md",
        &md,
        &md_headings,
        &["<details><summary>All ", "</details>"],
    );
    let comment = std::fs::read_to_string(tmp.path().join("comment.md")).unwrap();
    assert_eq!(comment.lines().next(), Some(MARKER));
    let own_html = [MARKER, "<details><summary>", "</details>", "<sub>sagereport "];
    assert_contained("comment.md", &comment, &["### Benchmark comparison: "], &own_html);
    assert!(!strip_code_spans(&comment).contains("@octocat"), "{comment:.2000}");

    // Many 70,000-character workloads: the total limit holds whatever the rows.
    let big = tmp.path().join("big");
    for backend in ["sage", "ray"] {
        let lines: Vec<String> = (0..40)
            .flat_map(|w| {
                (0..2).map(move |run| {
                    record(
                        backend,
                        &format!("{w}{}", "w".repeat(70_000)),
                        run,
                        10.0 + run as f64,
                        "v1",
                    )
                })
            })
            .collect();
        std::fs::create_dir_all(big.join(backend)).unwrap();
        std::fs::write(big.join(backend).join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    let (code, _, err) = sagereport(
        &["compare", "big", "-o", "out2", "--pr-comment", "big.md", "-q"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let comment = std::fs::read_to_string(tmp.path().join("big.md")).unwrap();
    assert!(comment.len() <= 65_536, "{} bytes", comment.len());
    assert_eq!(
        comment.matches("<details>").count(),
        comment.matches("</details>").count()
    );
    assert_contained("big.md", &comment, &["### Benchmark comparison: "], &own_html);
}
