//! Issue 20 §4: the PDF and the site of a report with many workloads stay
//! bounded. On `synth --workloads 600` (1,200 groups, about 1,700
//! comparisons) the PDF's tables stop at their limit and say so with the
//! right counts, while its ratio forest plot still shows every comparison;
//! the site draws the first forest pages and gives pages to the first
//! workloads, and says where the rest is. No timing here: `sagereport bench
//! --stage pdf|site` measures.

mod common;

use common::sagereport;
use std::path::Path;

/// The counts `compare` finds in the tree (its summary.json).
struct Counts {
    groups: usize,
    comparisons: usize,
    changes: usize,
    rest: usize,
    /// Pages of the forest plot (the bundle's `ratio_forest*.png`).
    forest_pages: usize,
    /// How many comparisons each workload has.
    per_workload: std::collections::BTreeMap<String, usize>,
}

fn counts(dir: &Path) -> Counts {
    let (code, _, err) = sagereport(&["compare", "tree", "-o", "bundle", "-q"], dir);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bundle/summary.json")).unwrap()).unwrap();
    let comparisons = doc["comparisons"].as_array().unwrap();
    let changes = comparisons
        .iter()
        .filter(|c| matches!(c["verdict"].as_str(), Some("worse" | "better")))
        .count();
    let mut per_workload = std::collections::BTreeMap::new();
    for c in comparisons {
        *per_workload
            .entry(c["workload"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let forest_pages = std::fs::read_dir(dir.join("bundle"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("ratio_forest") && name.ends_with(".png")
        })
        .count();
    Counts {
        forest_pages,
        groups: doc["groups"].as_array().unwrap().len(),
        comparisons: comparisons.len(),
        changes,
        rest: comparisons.len() - changes,
        per_workload,
    }
}

/// A tree of 600 workloads on sage and ray.
fn wide_tree() -> (tempfile::TempDir, Counts) {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = sagereport(&["synth", "--workloads", "600", "-o", "tree"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("600 workloads"), "{out}");
    let c = counts(tmp.path());
    assert_eq!(c.groups, 1200);
    assert_eq!(c.per_workload.len(), 600);
    // Enough to pass every limit of the PDF's tables and the site's forest.
    assert!(c.comparisons > 20 * 64 && c.rest > 100, "{} comparisons", c.comparisons);
    (tmp, c)
}

fn pdftotext(pdf: &Path) -> Option<String> {
    let out = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The sentences of `text` (whitespace folded) that say where a part stops.
fn notes(text: &str, markers: &[&str]) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for m in markers {
        let mut rest = flat.as_str();
        while let Some(at) = rest.find(m) {
            let sentence = &rest[at..];
            let end = sentence.find(". ").map(|e| e + 1).unwrap_or(sentence.len());
            out.push(sentence[..end].to_string());
            rest = &sentence[end..];
        }
    }
    out.join("\n")
}

#[test]
fn the_pdf_of_600_workloads_states_its_cuts_and_draws_every_comparison() {
    let (tmp, c) = wide_tree();
    let (code, _, err) = sagereport(&["pdf", "tree", "-o", "out/report.pdf"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let pdf = tmp.path().join("out/report.pdf");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let Some(text) = pdftotext(&pdf) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext is required in CI (.ci/run installs poppler-utils)"
        );
        eprintln!("SKIPPED: pdftotext not installed");
        return;
    };
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");

    // The tables stop at 100 rows and say so, with the counts.
    assert!(
        flat.contains(&format!(
            "The table stops here: 100 of {} comparisons shown (the first in report order",
            c.rest
        )),
        "other comparisons cut"
    );
    assert!(
        flat.contains(&format!("The table stops here: 100 of {} groups shown", c.groups)),
        "results cut"
    );
    if c.changes > 100 {
        assert!(flat.contains(&format!("100 of {} significant changes shown", c.changes)));
    } else {
        assert!(!flat.contains("significant changes shown"));
    }
    assert!(flat.contains("summary.md and summary.json hold every comparison and group"));
    // The bar charts stop too (600 workloads are 80 figures).
    assert!(flat.contains("The bar charts stop here: 20 of "), "bar charts cut");

    // The forest plot: one row per comparison, each with its runs
    // `n=baseline/candidate` (the tables print n without `n=`), on pages
    // that together number every comparison.
    let rows = flat
        .split(' ')
        .filter(|w| {
            w.strip_prefix("n=")
                .and_then(|r| r.split_once('/'))
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(rows, c.comparisons, "a forest row per comparison");
    let pages = c.forest_pages;
    let last = format!("page {pages} of {pages}, comparisons ");
    assert!(
        flat.contains(&last) && flat.contains(&format!(" of {} (", c.comparisons)),
        "{last}"
    );
    // Every workload is in the plot as often as it has comparisons (its
    // label is one word; the tables add more mentions).
    let mut words: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for w in flat.split(' ') {
        *words.entry(w).or_insert(0) += 1;
    }
    for (workload, n) in &c.per_workload {
        assert!(
            words.get(workload.as_str()).copied().unwrap_or(0) >= *n,
            "{workload}: {n} comparison(s) but fewer rows"
        );
    }

    insta::assert_snapshot!(
        "pdf_limits_notes",
        notes(&text, &["The table stops here", "The bar charts stop here"])
    );

    // Deterministic: the same tree gives the same bytes.
    let (code, _, err) = sagereport(&["pdf", "tree", "-o", "out/again.pdf"], tmp.path());
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(tmp.path().join("out/again.pdf")).unwrap() == std::fs::read(&pdf).unwrap());
}

#[test]
fn the_site_of_600_workloads_draws_the_first_pages_and_points_to_the_rest() {
    let (tmp, c) = wide_tree();
    let (code, _, err) = sagereport(
        &["site", "tree", "-o", "public", "-q", "--time", "2026-11-23T10:00:00Z"],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let report = tmp.path().join("public/reports/tree");
    let pages = c.forest_pages;
    assert!(pages > 20);
    // The first 20 forest pages are drawn, the others are in the PDF.
    assert!(report.join("ratio_forest-20.png").is_file() && report.join("ratio_forest-20.svg").is_file());
    assert!(!report.join("ratio_forest-21.png").exists());
    assert!(report.join("report.pdf").is_file());
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(page.contains(&format!(
        "The site draws the first 20 of the forest plot&#39;s {pages} pages; report.pdf (Downloads) has every page"
    )));
    // The whole bundle is there: summary.md and summary.json list every comparison.
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!("({} comparisons)", c.comparisons)),
        "summary.md is whole"
    );
    // Workload pages: 500 of 600, and the index says so.
    let workloads = std::fs::read_dir(tmp.path().join("public/workloads")).unwrap().count();
    assert_eq!(workloads, 500);
    let index = std::fs::read_to_string(tmp.path().join("public/index.html")).unwrap();
    assert!(index.contains("600 workloads"), "the index counts every workload");
    assert!(index.contains("500 of the 600 workloads have a page here"));
    let broken = sagereport::render::site::broken_links(&tmp.path().join("public")).unwrap();
    assert!(broken.is_empty(), "{broken:?}");

    let html_notes: Vec<String> = [page.as_str(), index.as_str()]
        .iter()
        .flat_map(|h| h.lines())
        .filter_map(|l| l.split("<p class=\"meta\">").nth(1))
        .map(|l| l.split("</p>").next().unwrap_or("").to_string())
        .filter(|n| n.contains("draws") || n.contains("stops") || n.contains("have a page"))
        .collect();
    insta::assert_snapshot!("site_limits_notes", html_notes.join("\n"));
}

#[test]
fn the_compare_bundle_of_2200_workloads_draws_its_first_charts_and_says_what_is_not_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = sagereport(&["synth", "--workloads", "2200", "-o", "tree"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let c = counts(tmp.path());
    assert!(c.comparisons > 64 * 64, "{} comparisons", c.comparisons);
    assert_eq!(c.forest_pages, 64, "the bundle draws 64 forest pages");
    let bundle = tmp.path().join("bundle");
    let bars = std::fs::read_dir(&bundle)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && !n.starts_with("ratio_forest"))
        .count();
    assert_eq!(bars, 256, "at most 256 bar figures");
    let summary = std::fs::read_to_string(bundle.join("summary.md")).unwrap();
    let listed = summary
        .lines()
        .filter(|l| l.starts_with("- `") && l.contains(".png` (`.svg`)"))
        .count();
    assert_eq!(listed, 64 + 256, "summary.md lists exactly the files drawn");
    // The note picks up where the 64th page's comparisons end.
    let last_drawn = summary
        .lines()
        .find(|l| l.starts_with("- `ratio_forest-64.png`"))
        .and_then(|l| l.split("comparisons ").nth(1))
        .and_then(|r| r.split(['–', ' ']).nth(1))
        .and_then(|n| n.parse::<usize>().ok())
        .expect("page 64 is listed with its comparisons");
    let forest_note = format!(
        "(comparisons {}–{}) are not drawn here (at most 64 pages)",
        last_drawn + 1,
        c.comparisons
    );
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("- forest pages 65–") && l.contains(&forest_note)),
        "{forest_note}\n{summary}"
    );
    let not_drawn: usize = summary
        .lines()
        .filter(|l| l.contains(" figures are not drawn here (at most 256 bar figures in all)"))
        .map(|l| {
            l.trim_start_matches("- ")
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert!(not_drawn > 0, "{summary}");
    for f in std::fs::read_dir(&bundle).unwrap().filter_map(Result::ok) {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.ends_with(".png") {
            assert!(summary.contains(&format!("`{name}`")), "{name} is drawn and listed");
        }
    }
}
