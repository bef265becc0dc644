//! The site in a real browser: headless Chromium opens the index, a report
//! page and a workload page from `file://`, the key numbers must be in the
//! DOM (after the page's script ran), the screenshots must not be blank, and
//! every relative link must resolve inside the output folder.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it; or set
//! `SAGEREPORT_CHROMIUM` to a Chrome/Chromium binary). Without one the test
//! is skipped with a message — except under CI (`CI` set), where a missing
//! browser fails.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("SAGEREPORT_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Headless Chromium with the flags this sandbox needs (no network, no GPU,
/// a fresh profile).
fn browser(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

fn dump_dom(bin: &Path, profile: &Path, page: &Path) -> String {
    let out = browser(bin, profile)
        .arg("--dump-dom")
        .arg(url(page))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --dump-dom {} failed: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screenshot(bin: &Path, profile: &Path, page: &Path, png: &Path, size: &str) -> Vec<u8> {
    let out = browser(bin, profile)
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={size}"))
        .arg(url(page))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --screenshot {} failed: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(png).unwrap_or_else(|e| panic!("{}: no screenshot ({e})", png.display()))
}

#[test]
fn site_opens_in_headless_chromium_from_file_urls() {
    let Some(bin) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is not installed: .ci/run must install Debian's chromium for the browser test");
        }
        eprintln!("SKIPPED site_opens_in_headless_chromium_from_file_urls: no chromium on PATH (apt-get install chromium, or set SAGEREPORT_CHROMIUM)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let public = three_runs(tmp.path(), false);
    let profile = tmp.path().join("profile");
    // Screenshots are kept when asked, to look at them.
    let shots = std::env::var_os("SAGEREPORT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&shots).unwrap();

    // Index: the reports, newest first, and the workload; sort.js ran (it
    // marks sortable headers with aria-sort), so the relative script loaded.
    let index = dump_dom(&bin, &profile, &public.join("index.html"));
    assert!(index.contains("nightly"), "report name missing from the index DOM");
    assert!(index.contains("2026-11-23T10:00:00Z") && index.contains("2026-11-21T10:00:00Z"));
    assert!(
        index.contains("aria-sort=\"none\""),
        "sort.js did not run: the script link is broken"
    );
    let png = screenshot(
        &bin,
        &profile,
        &public.join("index.html"),
        &shots.join("index.png"),
        "1280,900",
    );
    assert!(png_has_content(&png), "index screenshot is blank");

    // Report page: sage's throughput mean ± half-width (run 3: [10,12,11,13,9] × 1.5)
    // and ray's ratio verdict, as the browser shows them.
    let report_page = public.join("reports/nightly/index.html");
    let report = dump_dom(&bin, &profile, &report_page);
    assert!(
        report.contains("16.50 ± 2.94"),
        "sage's throughput with its interval is not in the DOM"
    );
    assert!(report.contains("<span class=\"verdict\">worse</span>"));
    assert!(report.contains("src=\"throughput_comparison.png\""));
    // The ratio forest plot opens the report, as its SVG (hover titles) in an <object>.
    assert!(
        report.contains("<object data=\"ratio_forest.svg\" type=\"image/svg+xml\""),
        "forest plot missing from the report DOM"
    );
    let png = screenshot(&bin, &profile, &report_page, &shots.join("report.png"), "1280,2400");
    assert!(png_has_content(&png), "report screenshot is blank");
    // A phone-sized window renders too.
    let png = screenshot(
        &bin,
        &profile,
        &report_page,
        &shots.join("report-phone.png"),
        "390,1600",
    );
    assert!(png_has_content(&png), "phone-sized report screenshot is blank");

    // Workload page with its trend; three runs are too few to claim a change point.
    let workload_page = public.join("workloads/q1/index.html");
    let workload = dump_dom(&bin, &profile, &workload_page);
    assert!(workload.contains("no change point can be claimed yet"));
    let png = screenshot(&bin, &profile, &workload_page, &shots.join("workload.png"), "1280,2000");
    assert!(png_has_content(&png), "workload screenshot is blank");

    // Every href/src of every page resolves inside the site.
    let broken = sagereport::render::site::broken_links(&public).unwrap();
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}
