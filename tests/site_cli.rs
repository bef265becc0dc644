//! `sagereport site` end to end: reports, workloads with history and change
//! points, links, escaping of hostile names, determinism, history store.

mod common;

use common::*;
use sagereport::render::site::broken_links;
use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn several_reports_and_three_runs_make_a_linked_site_with_trends() {
    let tmp = tempfile::tempdir().unwrap();
    let public = three_runs(tmp.path(), true);

    // The store holds one entry per report per run.
    let entries = files_under(&tmp.path().join("history/entries"));
    assert_eq!(entries.len(), 4, "{entries:?}");

    // Index: every report, newest first; this build's reports link to full pages.
    let index = read(&public.join("index.html"));
    let positions: Vec<usize> = ["2026-11-23T10:00:00Z", "2026-11-22T10:00:00Z", "2026-11-21T10:00:00Z"]
        .iter()
        .map(|t| index.find(&format!("<time datetime=\"{t}\"")).unwrap_or_else(|| panic!("{t} not in index")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "not newest first: {positions:?}");
    assert!(index.contains("href=\"reports/nightly/index.html\""));
    assert!(index.contains("href=\"reports/paper/index.html\""));
    assert!(index.contains("href=\"runs/20261121T100000Z_nightly_main_c0ffee0.html\""));
    assert!(index.contains("href=\"workloads/q1/index.html\""));

    // The report page: statistics with CI, verdicts, charts, downloads.
    let report = read(&public.join("reports/nightly/index.html"));
    assert!(report.contains("16.50 ± 2.94"), "sage's mean ± t half-width at scale 1.5");
    assert!(report.contains("<span class=\"verdict\">worse</span>"), "ray vs sage throughput is significantly worse");
    for link in ["summary.md", "comparison.csv", "summary.json", "throughput_comparison.png"] {
        assert!(report.contains(&format!("href=\"{link}\"")) || report.contains(&format!("src=\"{link}\"")), "{link}");
    }
    // The paper report carries Tables 1–6 as HTML, the .tex files and the PDF.
    let paper = read(&public.join("reports/paper/index.html"));
    for n in 1..=6 {
        assert!(paper.contains(&format!("Table {n}:")), "Table {n} missing");
    }
    assert!(paper.contains("href=\"tables/table1_node_scaling.tex\""));
    assert!(paper.contains("href=\"report.pdf\""));
    assert!(public.join("reports/paper/report.pdf").is_file());

    // The workload page: a trend per metric, the step of run 3 flagged.
    let q1 = read(&public.join("workloads/q1/index.html"));
    assert!(q1.contains("▲ change"), "the +50% step of run 3 is a change point");
    assert_eq!(q1.matches("<tr><td class=\"num\">").count(), 3, "three runs in the table");
    for chart in ["nightly-throughput.png", "nightly-p99.png"] {
        let bytes = std::fs::read(public.join("workloads/q1").join(chart)).unwrap();
        assert!(png_has_content(&bytes), "{chart} looks blank");
        assert!(q1.contains(&format!("src=\"{chart}\"")));
    }
    assert!(q1.contains("change points at run 3"), "the chart's alt text names the change point");

    // Every relative link resolves inside the site; nothing external.
    let broken = broken_links(&public).unwrap();
    assert!(broken.is_empty(), "broken links: {broken:#?}");
    // history.json carries every entry shown.
    let history: serde_json::Value = serde_json::from_str(&read(&public.join("history.json"))).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 4);
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("we\"ird & <dir>");
    sage_and_ray(&dir, "<script>alert(1)</script>", 1.0);
    // A rejected line whose file name carries the quote and ampersand too.
    std::fs::write(dir.join("sage/bad\"&.jsonl"), "{\"backend\": \"sage\"\n").unwrap();
    let (code, _, err) = sagereport(
        &["site", dir.to_str().unwrap(), "--title", "<b>bold</b> & co", "--time", "2026-11-23T00:00:00Z", "--no-pdf", "-o", "public"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let public = tmp.path().join("public");
    for file in files_under(&public).iter().filter(|f| f.extension().is_some_and(|e| e == "html")) {
        let html = read(&public.join(file));
        assert!(!html.contains("<script>alert"), "{}: unescaped workload name", file.display());
        assert!(!html.contains("<b>bold"), "{}: unescaped title", file.display());
        assert!(!html.contains("<dir>"), "{}: unescaped path", file.display());
    }
    let report_dir = files_under(&public.join("reports")).into_iter().find(|f| f.ends_with("index.html")).unwrap();
    let report = read(&public.join("reports").join(report_dir));
    // askama writes numeric character references.
    assert!(report.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "workload shown escaped");
    assert!(report.contains("we&#34;ird &#38; &#60;dir&#62;"), "path shown escaped");
    assert!(report.contains("bad&#34;&#38;.jsonl"), "rejected file shown escaped");
    assert!(broken_links(&public).unwrap().is_empty());
}

#[test]
fn same_inputs_and_time_give_byte_identical_sites() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(&tmp.path().join("data"), "Q1", 1.0);
    for out in ["a", "b"] {
        let (code, _, err) = sagereport(&["site", "data", "--time", "2026-11-23T00:00:00Z", "--commit", "abc", "-o", out], tmp.path());
        assert_eq!(code, 0, "{err}");
    }
    let a = files_under(&tmp.path().join("a"));
    assert_eq!(a, files_under(&tmp.path().join("b")));
    assert!(a.iter().any(|f| f.ends_with("report.pdf")));
    for f in &a {
        assert!(std::fs::read(tmp.path().join("a").join(f)).unwrap() == std::fs::read(tmp.path().join("b").join(f)).unwrap(), "{} differs", f.display());
    }
}

#[test]
fn history_store_is_append_only_and_survives_a_corrupt_file() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(&tmp.path().join("data"), "Q1", 1.0);
    let run = |time: &str, commit: &str| sagereport(&["site", "--report", "n=data", "--history", "h", "--time", time, "--commit", commit, "--no-pdf", "-o", "public"], tmp.path());
    assert_eq!(run("2026-11-21T00:00:00Z", "aaa").0, 0);
    let first = files_under(&tmp.path().join("h"));
    let first_bytes = std::fs::read(tmp.path().join("h").join(&first[0])).unwrap();
    // A re-run of the same commit (a retried CI job) adds nothing.
    let (code, _, err) = run("2026-11-22T00:00:00Z", "aaa");
    assert_eq!(code, 0);
    assert!(err.contains("already holds"), "{err}");
    assert_eq!(files_under(&tmp.path().join("h")), first);
    // A corrupt file is named, skipped, and shown on the index; the site is still built.
    std::fs::write(tmp.path().join("h/entries/zz-broken.json"), "{\"schema_version\": 1,").unwrap();
    let (code, _, err) = run("2026-11-23T00:00:00Z", "bbb");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("zz-broken.json"), "{err}");
    assert!(read(&tmp.path().join("public/index.html")).contains("zz-broken.json"));
    // Earlier entries are never rewritten.
    assert_eq!(std::fs::read(tmp.path().join("h").join(&first[0])).unwrap(), first_bytes);
    assert_eq!(files_under(&tmp.path().join("h/entries")).len(), 3);
}

#[test]
fn usage_errors_exit_2_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["site", "--report", "no-equals-sign"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("NAME=PATH"), "{err}");
    let (code, _, err) = sagereport(&["site", ".", "--time", "yesterday"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("RFC 3339"), "{err}");
    let (code, _, err) = sagereport(&["site"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("no input"), "{err}");
}
