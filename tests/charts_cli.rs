//! The compare bundle's charts end to end (issue 19): the ratio forest plot
//! shows every comparison (paginated beyond 64 rows), the grouped bars are
//! faceted by workload family so no figure is wider than 2,000 px and every
//! group is drawn exactly once, every bar and forest row has a `<title>`
//! with escaped names, summary.md and the site list the files, and two runs
//! give byte-identical bundles.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A workload name with every XML-special character.
const HOSTILE: &str = "evil <&\"'> name";

/// `sage/` and `ray/`, three runs of each workload; ray's throughput is
/// better, worse or the same depending on the workload.
fn many_workloads(dir: &Path) -> Vec<String> {
    let mut workloads: Vec<String> = Vec::new();
    workloads.extend((1..=20).map(|i| format!("Q{i}")));
    workloads.extend((1..=15).map(|i| format!("concurrency_rag_{i}")));
    workloads.extend((0..10).map(|i| format!("job{i}_rag")));
    workloads.extend(["wordcount".to_string(), "join".to_string(), HOSTILE.to_string()]);
    for (backend, factor) in [("sage", 1.0), ("ray", 0.0)] {
        let mut lines = Vec::new();
        for (w, name) in workloads.iter().enumerate() {
            let effect = [1.0, 1.3, 0.7][w % 3];
            for run in 0..3 {
                let base = 100.0 + 3.0 * run as f64;
                let t = if factor == 1.0 {
                    base
                } else {
                    base * effect + 1.5 * run as f64
                };
                lines.push(record(backend, name, run, t));
            }
        }
        let side = dir.join(backend);
        std::fs::create_dir_all(&side).unwrap();
        std::fs::write(side.join("unified_results.jsonl"), lines.join("\n") + "\n").unwrap();
    }
    workloads
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    )
}

/// The text of every `<title>` of an SVG, unescaped.
fn titles(svg: &str) -> Vec<String> {
    svg.split("<title>")
        .skip(1)
        .map(|t| {
            let t = &t[..t.find("</title>").expect("unclosed title")];
            assert!(!t.contains('<'), "markup inside a title: {t}");
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

fn files(dir: &Path, prefix: &str, ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(ext))
        .collect();
    out.sort();
    out
}

#[test]
fn forest_plot_pages_cover_every_comparison_with_escaped_titles() {
    let tmp = tempfile::tempdir().unwrap();
    let workloads = many_workloads(tmp.path());
    let (code, _, err) = sagereport(
        &[
            "compare",
            "sage",
            "ray",
            "--by",
            "backend",
            "--baseline",
            "sage",
            "-o",
            "out",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let out = tmp.path().join("out");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let comparisons = doc["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), workloads.len() * 3, "three metrics per workload");
    assert!(comparisons.len() > 64);

    // 48 comparisons per metric: a page per metric.
    let pngs = files(&out, "ratio_forest", ".png");
    assert_eq!(pngs, ["ratio_forest-2.png", "ratio_forest-3.png", "ratio_forest.png"]);
    let mut shown: BTreeMap<String, usize> = BTreeMap::new();
    for (k, stem) in ["ratio_forest", "ratio_forest-2", "ratio_forest-3"].iter().enumerate() {
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert!(png_has_content(&png), "{stem}.png looks blank");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains(&format!("page {} of 3", k + 1)),
            "{stem}: no page subtitle"
        );
        let t = titles(&svg);
        assert!(t.len() <= 64 && !t.is_empty(), "{stem}: {} rows", t.len());
        for title in t {
            *shown.entry(title).or_default() += 1;
        }
        // Names are escaped, never raw markup.
        assert!(!svg.contains(HOSTILE) && !svg.contains("<&"), "{stem}: unescaped name");
    }
    // One title per comparison, and every comparison has its title.
    assert_eq!(shown.values().sum::<usize>(), comparisons.len());
    for c in comparisons {
        let head = format!(
            "{} — {}, ray / sage: ",
            c["workload"].as_str().unwrap(),
            c["metric"].as_str().unwrap()
        );
        let hits: Vec<&String> = shown.keys().filter(|t| t.starts_with(&head)).collect();
        assert_eq!(hits.len(), 1, "{head}: {hits:?}");
        let verdict = c["verdict"].as_str().unwrap();
        let word = match verdict {
            "~" => "~ (no significant difference)",
            "n/a" => "no verdict",
            "unstable" => "unstable (tests disagree)",
            v => v,
        };
        assert!(hits[0].contains(&format!("verdict: {word}")), "{}", hits[0]);
        assert!(hits[0].contains("n=3/3"), "{}", hits[0]);
        if let (Some(lo), Some(hi)) = (c["ci_low"].as_f64(), c["ci_high"].as_f64()) {
            assert!(
                hits[0].contains(&format!("[{lo:.4}, {hi:.4}]")),
                "{} lacks its interval",
                hits[0]
            );
        }
    }
    // The escaped hostile name is in the SVG as XML text.
    let all: String = ["ratio_forest", "ratio_forest-2", "ratio_forest-3"]
        .iter()
        .map(|s| std::fs::read_to_string(out.join(format!("{s}.svg"))).unwrap())
        .collect();
    assert!(all.contains("evil &lt;&amp;&quot;&apos;&gt; name — throughput"));
    // Some verdicts of each kind the data makes.
    let verdicts: BTreeSet<&str> = comparisons.iter().map(|c| c["verdict"].as_str().unwrap()).collect();
    assert!(
        verdicts.contains("better") && verdicts.contains("worse"),
        "{verdicts:?}"
    );

    // summary.md says where every comparison and group is drawn.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Charts"));
    assert!(
        md.contains("`ratio_forest-2.png` (`.svg`): ratio forest plot, comparisons 49–96 of 144 (latency\\_p95)"),
        "{md}"
    );
}

#[test]
fn grouped_bars_are_faceted_narrow_and_draw_every_group_once() {
    let tmp = tempfile::tempdir().unwrap();
    let workloads = many_workloads(tmp.path());
    let (code, _, err) = sagereport(
        &[
            "compare",
            "sage",
            "ray",
            "--by",
            "backend",
            "--baseline",
            "sage",
            "-o",
            "out",
            "-q",
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{err}");
    let out = tmp.path().join("out");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for (stem, bars_per_group) in [("throughput_comparison", 2), ("latency_p95_p99_comparison", 4)] {
        let pngs = files(&out, stem, ".png");
        assert!(pngs.len() > 1, "{stem} not faceted: {pngs:?}");
        assert!(!pngs.contains(&format!("{stem}.png")), "the unfaceted figure is gone");
        let mut drawn: BTreeMap<String, usize> = BTreeMap::new();
        for png in &pngs {
            let (w, h) = png_size(&out.join(png));
            assert!(w <= 2000, "{png} is {w} px wide");
            assert!(h >= 700);
            assert!(png_has_content(&std::fs::read(out.join(png)).unwrap()));
            assert!(
                md.contains(&format!("`{png}` (`.svg`)")),
                "summary.md does not list {png}"
            );
            let svg = std::fs::read_to_string(out.join(png.replace(".png", ".svg"))).unwrap();
            let t = titles(&svg);
            // One title per bar: workload · side · metric: mean, interval, n.
            let groups: BTreeSet<String> = t.iter().map(|t| t.split(" · ").next().unwrap().to_string()).collect();
            assert_eq!(t.len(), groups.len() * bars_per_group, "{png}: {t:?}");
            for title in &t {
                assert!(
                    title.contains("mean ") && title.contains("95% CI [") && title.ends_with("n=3"),
                    "{title}"
                );
            }
            for g in groups {
                *drawn.entry(g).or_default() += 1;
            }
        }
        let expected: BTreeMap<String, usize> = workloads.iter().map(|w| (w.clone(), 1)).collect();
        assert_eq!(drawn, expected, "{stem}: every group in exactly one figure");
    }
    // Families: Q*, concurrency*, job*, and the single-group families pooled.
    let names = files(&out, "throughput_comparison", ".png");
    assert_eq!(
        names,
        [
            "throughput_comparison-concurrency-1.png",
            "throughput_comparison-concurrency-2.png",
            "throughput_comparison-job.png",
            "throughput_comparison-other.png",
            "throughput_comparison-q-1.png",
            "throughput_comparison-q-2.png",
        ]
    );
}

#[test]
fn small_reports_keep_the_single_figures_and_everything_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    sage_and_ray(&tmp.path().join("small"), "Q1", 1.0);
    let (code, _, err) = sagereport(&["compare", "small", "-o", "out", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let out = tmp.path().join("out");
    let mut names = files(&out, "", ".png");
    names.extend(files(&out, "", ".svg"));
    names.sort();
    assert_eq!(
        names,
        [
            "latency_p95_p99_comparison.png",
            "latency_p95_p99_comparison.svg",
            "ratio_forest.png",
            "ratio_forest.svg",
            "throughput_comparison.png",
            "throughput_comparison.svg",
        ]
    );
    let svg = std::fs::read_to_string(out.join("ratio_forest.svg")).unwrap();
    assert_eq!(titles(&svg).len(), 3, "three comparisons, three rows");
    assert!(svg.contains("all 3 comparisons"));

    // Twice the many-workload bundle: identical bytes, file for file.
    many_workloads(&tmp.path().join("big"));
    for o in ["one", "two"] {
        let (code, _, err) = sagereport(
            &["compare", "big/sage", "big/ray", "--by", "backend", "-o", o, "-q"],
            tmp.path(),
        );
        assert_eq!(code, 0, "{err}");
    }
    let (a, b) = (
        files_under(&tmp.path().join("one")),
        files_under(&tmp.path().join("two")),
    );
    assert_eq!(a, b, "the same files");
    assert!(a.len() > 20, "{a:?}");
    for f in &a {
        let (x, y) = (
            std::fs::read(tmp.path().join("one").join(f)).unwrap(),
            std::fs::read(tmp.path().join("two").join(f)).unwrap(),
        );
        assert!(x == y, "{} differs between identical runs", f.display());
    }
}

#[test]
fn site_report_page_opens_with_the_forest_plot() {
    let tmp = tempfile::tempdir().unwrap();
    many_workloads(&tmp.path().join("big"));
    let (code, _, err) = sagereport(&["site", "--report", "big=big", "-o", "public", "-q"], tmp.path());
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(tmp.path().join("public/reports/big/index.html")).unwrap();
    let forest = page
        .find("<object data=\"ratio_forest.svg\" type=\"image/svg+xml\"")
        .expect("forest plot not embedded");
    assert!(
        forest < page.find("id=\"results\"").unwrap(),
        "the forest plot comes before the results table"
    );
    assert!(page.contains("src=\"ratio_forest.png\""), "PNG fallback");
    for k in [2, 3] {
        assert!(
            page.contains(&format!("data=\"ratio_forest-{k}.svg\"")),
            "page {k} missing"
        );
    }
    assert!(
        page.contains("src=\"throughput_comparison-q-1.png\""),
        "faceted bars are on the page"
    );
    assert!(!page.contains("src=\"throughput_comparison.png\""));
    let broken = sagereport::render::site::broken_links(&tmp.path().join("public")).unwrap();
    assert!(broken.is_empty(), "{broken:#?}");
}
