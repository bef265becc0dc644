//! The provenance command: `compare`, `pdf` and `site` record the same
//! regenerating command, and running it gives a byte-identical bundle.

mod common;

use common::{files_under, sagereport};
use std::path::Path;

const FLAGS: [&str; 6] = ["--baseline", "ray", "--confidence", "0.9", "--correction", "holm"];

/// `text` without whitespace: typst may break the command's line after
/// a `--`, so the extracted text has line breaks where the command has none.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect()
}

#[test]
fn recorded_command_reproduces_the_bundle_and_is_the_same_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/clean");
    let tree = tree.to_str().unwrap();
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&FLAGS).map(|s| s.to_string()).collect() };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = sagereport(&args, tmp.path());
        assert!(code == 0 || code == 1, "sagereport {args:?}: {err}");
    };

    run(&with(&["compare", tree, "--threshold", "10%", "-o", "first"]));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("first/summary.json")).unwrap()).unwrap();
    let command = summary["command"].as_str().unwrap().to_string();
    for flag in [
        "--baseline ray",
        "--confidence 0.9",
        "--correction holm",
        "--threshold 0.1",
    ] {
        assert!(command.contains(flag), "{flag} missing from {command}");
    }
    let markdown = std::fs::read_to_string(tmp.path().join("first/summary.md")).unwrap();
    assert!(markdown.contains(&command), "summary.md does not hold {command}");

    // Run the recorded command into another folder: the same bytes.
    let mut again: Vec<String> = command.split_whitespace().skip(1).map(str::to_string).collect();
    assert_eq!(again[0], "compare");
    again.extend(["-o".to_string(), "second".to_string()]);
    run(&again);
    let bundle = |dir: &str| -> Vec<_> {
        files_under(&tmp.path().join(dir))
            .into_iter()
            .filter(|f| f.as_os_str() != ".sagereport-output")
            .map(|f| {
                let bytes = std::fs::read(tmp.path().join(dir).join(&f)).unwrap();
                (f, bytes)
            })
            .collect()
    };
    let (first, second) = (bundle("first"), bundle("second"));
    assert_eq!(
        first.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        second.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    for ((file, a), (_, b)) in first.iter().zip(&second) {
        assert!(
            a == b,
            "{} differs when the recorded command is run again",
            file.display()
        );
    }

    // `pdf` and `site` with the same flags record the same command (their
    // threshold is the default, so without --threshold).
    let expected = command.replace(" --threshold 0.1", "");
    run(&with(&["site", tree, "-o", "site", "--no-pdf"]));
    let page = std::fs::read_to_string(tmp.path().join("site/reports/clean/index.html")).unwrap();
    assert!(page.contains(&expected), "the site does not record {expected}");
    run(&with(&["pdf", tree, "-o", "report.pdf"]));
    let text = std::process::Command::new("pdftotext")
        .args(["-raw", "report.pdf", "-"])
        .current_dir(tmp.path())
        .output();
    match text {
        Ok(out) if out.status.success() => {
            let text = squeeze(&String::from_utf8_lossy(&out.stdout));
            assert!(
                text.contains(&squeeze(&format!("command: {expected}"))),
                "the PDF does not record {expected}"
            );
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "pdftotext is required in CI (.ci/run installs poppler-utils)"
            );
            eprintln!("skipping the PDF part: install poppler-utils");
        }
    }
}
