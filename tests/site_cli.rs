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
        .map(|t| {
            index
                .find(&format!("<time datetime=\"{t}\""))
                .unwrap_or_else(|| panic!("{t} not in index"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not newest first: {positions:?}"
    );
    assert!(index.contains("href=\"reports/nightly/index.html\""));
    assert!(index.contains("href=\"reports/paper/index.html\""));
    assert!(index.contains("href=\"runs/20261121T100000Z_nightly_main_c0ffee0.html\""));
    assert!(index.contains("href=\"workloads/q1/index.html\""));

    // The report page: statistics with CI, verdicts, charts, downloads.
    let report = read(&public.join("reports/nightly/index.html"));
    assert!(
        report.contains("16.50 ± 2.94"),
        "sage's mean ± t half-width at scale 1.5"
    );
    assert!(
        report.contains("<span class=\"verdict\">worse</span>"),
        "ray vs sage throughput is significantly worse"
    );
    // Issue 19: the verdict opens the page (before the statistics), the
    // worse comparison open, the rest collapsed; the index names the largest change.
    let verdict = report.find("<h2>Verdict</h2>").expect("verdict section");
    assert!(
        verdict < report.find("<h2>Results</h2>").unwrap()
            && verdict < report.find("<h2>Configuration mismatches</h2>").unwrap()
    );
    assert!(report.contains("<strong>1 worse, 0 better, "), "counts line");
    assert!(
        report.contains("<details class=\"rest\">\n<summary>All other "),
        "the rest collapsed"
    );
    assert!(index.contains("<th scope=\"col\">largest significant change</th>"));
    assert!(index.contains("Q1 throughput: "), "the largest change on the index");
    for link in [
        "summary.md",
        "comparison.csv",
        "summary.json",
        "throughput_comparison.png",
    ] {
        assert!(
            report.contains(&format!("href=\"{link}\"")) || report.contains(&format!("src=\"{link}\"")),
            "{link}"
        );
    }
    // The paper report carries Tables 1–6 as HTML, the .tex files and the PDF.
    let paper = read(&public.join("reports/paper/index.html"));
    for n in 1..=6 {
        assert!(paper.contains(&format!("Table {n}:")), "Table {n} missing");
    }
    assert!(paper.contains("href=\"tables/table1_node_scaling.tex\""));
    assert!(paper.contains("href=\"report.pdf\""));
    assert!(public.join("reports/paper/report.pdf").is_file());

    // The workload page: a trend per metric; the +50 % step of run 3 is not
    // claimed from three runs (see the next test for a change point).
    let q1 = read(&public.join("workloads/q1/index.html"));
    assert!(
        !q1.contains("<strong>▲ change</strong>"),
        "three runs cannot show a change point"
    );
    assert!(q1.contains("3 run(s) so far: no change point can be claimed yet"));
    assert_eq!(
        q1.matches("<tr><td class=\"num\">").count(),
        3,
        "three runs in the table"
    );
    for chart in ["nightly-throughput.png", "nightly-p99.png"] {
        let bytes = std::fs::read(public.join("workloads/q1").join(chart)).unwrap();
        assert!(png_has_content(&bytes), "{chart} looks blank");
        assert!(q1.contains(&format!("src=\"{chart}\"")));
    }

    // Every relative link resolves inside the site; nothing external.
    let broken = broken_links(&public).unwrap();
    assert!(broken.is_empty(), "broken links: {broken:#?}");
    // history.json carries every entry shown.
    let history: serde_json::Value = serde_json::from_str(&read(&public.join("history.json"))).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 4);
}

#[test]
fn change_points_need_a_real_step_over_the_history_and_min_change_sets_the_size() {
    // Mark in a table cell (the page's lede shows the marker once, with a class).
    const MARK: &str = "<strong>▲ change</strong>";
    let tmp = tempfile::tempdir().unwrap();

    // Eight builds: four drifting within ±2 %, then four 30 % higher. Run
    // means (sage 11 × scale, ray 7.64 × scale) step from a mean scale of
    // 3.994/4 to 5.194/4: +30.05 %, flagged on both sides at run 5 (E-divisive
    // p ≈ 2/C(8,4), see history.rs). p99 is 32 in every build: no change.
    let root = tmp.path().join("step");
    let public = nightly_runs(&root, &[1.0, 0.985, 1.017, 0.992, 1.304, 1.281, 1.319, 1.29], false);
    let q1 = read(&public.join("workloads/q1/index.html"));
    assert_eq!(q1.matches(MARK).count(), 2, "sage and ray throughput step once each");
    let row5 = q1
        .split("<tr><td class=\"num\">")
        .find(|r| r.starts_with("5<"))
        .unwrap();
    assert_eq!(
        row5.matches(MARK).count(),
        2,
        "the change is at the first run of the new level: {row5}"
    );
    assert!(row5.contains("<span class=\"step\" title=\"mean 10.98 over the 4 run(s) before → 14.28 over the 4 run(s) from here; permutation p = "), "{row5}");
    assert!(row5.contains("\">+30.0% ["), "{row5}");
    assert!(
        q1.contains("run 5 (sage +30.0%)"),
        "the chart's alt text names the change point and its size"
    );
    assert!(q1.contains("at least 5%"), "the page states the minimum step");
    // --min-change reaches the page: at 40 % the same step is not shown.
    let data7 = root.join("data7");
    let rebuild = |min: &str| {
        sagereport(
            &[
                "site",
                "--report",
                &format!("nightly={}", data7.display()),
                "--history",
                "history",
                "--label",
                "main",
                "--commit",
                "c0ffee7",
                "--time",
                "2026-11-28T10:00:00Z",
                "--no-pdf",
                "-o",
                "public",
                "--min-change",
                min,
            ],
            &root,
        )
    };
    let (code, _, err) = rebuild("40%");
    assert_eq!(code, 0, "{err}");
    let q1 = read(&public.join("workloads/q1/index.html"));
    assert_eq!(q1.matches(MARK).count(), 0);
    assert!(q1.contains("at least 40%"));
    let (code, _, err) = rebuild("150%");
    assert_eq!(code, 2);
    assert!(err.contains("--min-change"), "{err}");

    // Ten builds with a clean +3 % step after the fifth (drift ±0.4 %):
    // significant (p ≈ 2/C(10,5)), but under the default 5 %; shown at 2 %.
    // Size: mean scale 5.153/5 over 5.002/5, +3.02 %.
    let root = tmp.path().join("small");
    let public = nightly_runs(
        &root,
        &[1.0, 1.004, 0.997, 1.002, 0.999, 1.031, 1.028, 1.033, 1.029, 1.032],
        false,
    );
    assert_eq!(read(&public.join("workloads/q1/index.html")).matches(MARK).count(), 0);
    let (code, _, err) = sagereport(
        &[
            "site",
            "--report",
            &format!("nightly={}", root.join("data9").display()),
            "--history",
            "history",
            "--label",
            "main",
            "--commit",
            "c0ffee9",
            "--time",
            "2026-11-30T10:00:00Z",
            "--no-pdf",
            "-o",
            "public",
            "--min-change",
            "2%",
        ],
        &root,
    );
    assert_eq!(code, 0, "{err}");
    let q1 = read(&public.join("workloads/q1/index.html"));
    let row6 = q1
        .split("<tr><td class=\"num\">")
        .find(|r| r.starts_with("6<"))
        .unwrap();
    assert_eq!(row6.matches(MARK).count(), 2, "{row6}");
    assert!(row6.contains("+3.0% ["), "{row6}");
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("we\"ird & <dir>");
    sage_and_ray(&dir, "<script>alert(1)</script>", 1.0);
    // A rejected line whose file name carries the quote and ampersand too.
    std::fs::write(dir.join("sage/bad\"&.jsonl"), "{\"backend\": \"sage\"\n").unwrap();
    let (code, _, err) = sagereport(
        &[
            "site",
            dir.to_str().unwrap(),
            "--title",
            "<b>bold</b> & co",
            "--time",
            "2026-11-23T00:00:00Z",
            "--no-pdf",
            "-o",
            "public",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let public = tmp.path().join("public");
    for file in files_under(&public)
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
    {
        let html = read(&public.join(file));
        assert!(
            !html.contains("<script>alert"),
            "{}: unescaped workload name",
            file.display()
        );
        assert!(!html.contains("<b>bold"), "{}: unescaped title", file.display());
        assert!(!html.contains("<dir>"), "{}: unescaped path", file.display());
    }
    let report_dir = files_under(&public.join("reports"))
        .into_iter()
        .find(|f| f.ends_with("index.html"))
        .unwrap();
    let report = read(&public.join("reports").join(report_dir));
    // askama writes numeric character references.
    assert!(
        report.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "workload shown escaped"
    );
    assert!(report.contains("we&#34;ird &#38; &#60;dir&#62;"), "path shown escaped");
    assert!(report.contains("bad&#34;&#38;.jsonl"), "rejected file shown escaped");
    assert!(broken_links(&public).unwrap().is_empty());
}

#[test]
fn same_inputs_and_time_give_byte_identical_sites() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(&tmp.path().join("data"), "Q1", 1.0);
    for out in ["a", "b"] {
        let (code, _, err) = sagereport(
            &[
                "site",
                "data",
                "--time",
                "2026-11-23T00:00:00Z",
                "--commit",
                "abc",
                "-o",
                out,
            ],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
    }
    let a = files_under(&tmp.path().join("a"));
    assert_eq!(a, files_under(&tmp.path().join("b")));
    assert!(a.iter().any(|f| f.ends_with("report.pdf")));
    for f in &a {
        assert!(
            std::fs::read(tmp.path().join("a").join(f)).unwrap()
                == std::fs::read(tmp.path().join("b").join(f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
}

#[test]
fn history_store_is_append_only_and_survives_a_corrupt_file() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(&tmp.path().join("data"), "Q1", 1.0);
    let run = |time: &str, commit: &str| {
        sagereport(
            &[
                "site",
                "--report",
                "n=data",
                "--history",
                "h",
                "--time",
                time,
                "--commit",
                commit,
                "--no-pdf",
                "-o",
                "public",
            ],
            tmp.path(),
        )
    };
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
    assert_eq!(
        std::fs::read(tmp.path().join("h").join(&first[0])).unwrap(),
        first_bytes
    );
    assert_eq!(files_under(&tmp.path().join("h/entries")).len(), 3);
}

#[test]
fn usage_errors_exit_2_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["site", "--report", "no-equals-sign"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("NAME=PATH"), "{err}");
    for (report, says) in [
        ("=results", "the report name is empty"),
        ("nightly=", "the path is empty"),
    ] {
        let (code, _, err) = sagereport(&["site", "--report", report], tmp.path());
        assert_eq!(code, 2, "{report}");
        assert!(err.contains(says), "{report}: {err}");
    }
    let (code, _, err) = sagereport(&["site", ".", "--label", " "], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("the label is empty"), "{err}");
    let (code, _, err) = sagereport(&["site", ".", "--time", "yesterday"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("RFC 3339"), "{err}");
    let (code, _, err) = sagereport(&["site"], tmp.path());
    assert_eq!(code, 2);
    assert!(err.contains("no input"), "{err}");
}
