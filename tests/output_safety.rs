//! Output ownership (issue 14): no command removes or overwrites a file it
//! did not write, whatever path it is given. Every case asserts the exit
//! code and that nothing outside the command's own output changed (the
//! whole scratch folder is hashed before and after).

mod common;

use common::{sage_and_ray, sagereport};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Every entry below `root` (symlinks not followed): kind and content hash.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
        let t = e.file_type();
        let v = if t.is_file() {
            hex::encode(Sha256::digest(std::fs::read(e.path()).unwrap()))
        } else if t.is_dir() {
            "dir".into()
        } else if t.is_symlink() {
            format!("link {}", std::fs::read_link(e.path()).unwrap().display())
        } else if t.is_fifo() {
            "fifo".into()
        } else {
            "other".into()
        };
        out.insert(rel, v);
    }
    out
}

/// `after` equals `before` except below the relative paths in `own`.
fn unchanged_except(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>, own: &[&str]) {
    let outside = |m: &BTreeMap<PathBuf, String>| -> BTreeMap<PathBuf, String> {
        m.iter()
            .filter(|(p, _)| !own.iter().any(|o| p.starts_with(o)))
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect()
    };
    let (b, a) = (outside(before), outside(after));
    for (p, v) in &b {
        assert_eq!(a.get(p), Some(v), "{} changed or vanished", p.display());
    }
    for p in a.keys() {
        assert!(
            b.contains_key(p),
            "{} appeared outside the command's output",
            p.display()
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/trees/clean")
}

/// A scratch folder holding `x/` (a copy of the clean fixture tree).
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), &dir.path().join("x"));
    dir
}

fn no_litter(dir: &Path) {
    for e in walkdir::WalkDir::new(dir) {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains(".tmp-") && !name.contains(".old-") && !name.ends_with(".lock"),
            "left behind: {name}"
        );
    }
}

#[test]
fn output_equal_to_inside_or_above_an_input_is_refused_for_every_command() {
    let dir = scratch();
    let root = dir.path();
    std::fs::create_dir_all(root.join("data")).unwrap();
    copy_tree(&fixture(), &root.join("data/x"));
    let before = snapshot(root);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["compare", "x", "-o", "x"], "it is the input x"),
        (vec!["compare", "data/x", "-o", "data"], "it holds the input data/x"),
        (vec!["compare", "x", "-o", "x/report"], "it is inside the input x"),
        (vec!["compare", "x", "-o", "x/../x"], "it is the input x"),
        (vec!["site", "x", "-o", "x", "--no-pdf"], "it is the input x"),
        (
            vec!["site", "--report", "a=data/x", "-o", "data", "--no-pdf"],
            "it holds the input data/x",
        ),
        (vec!["tables", "x", "-o", "x"], "it is the input x"),
        (vec!["tables", "data/x", "-o", "data"], "it holds the input data/x"),
        (vec!["pdf", "x", "-o", "x/report.pdf"], "it is inside the input x"),
        (
            vec![
                "pdf",
                "x/published/benchmark_results.json",
                "-o",
                "x/published/benchmark_results.json",
            ],
            "it is the input",
        ),
    ];
    for (args, why) in cases {
        let (code, _, err) = sagereport(&args, root);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("cannot write") && err.contains(why), "{args:?}: {err}");
    }
    unchanged_except(&before, &snapshot(root), &[]);
    no_litter(root);
}

#[test]
fn a_folder_holding_foreign_files_is_refused_and_kept() {
    let dir = scratch();
    let root = dir.path();
    let home = root.join("home");
    std::fs::create_dir_all(home.join("Documents")).unwrap();
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join("Documents/thesis.tex"), "\\section{Years of work}").unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "-----BEGIN KEY-----").unwrap();
    let before = snapshot(root);
    for args in [
        vec!["compare", "x", "-o", "home"],
        vec!["site", "x", "-o", "home", "--no-pdf"],
        vec!["tables", "x", "-o", "home"],
        vec!["synth", "-o", "home"],
    ] {
        let (code, _, err) = sagereport(&args, root);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("cannot write home"), "{args:?}: {err}");
        if args[0] != "synth" {
            assert!(
                err.contains("holds files sagereport did not write: .ssh, Documents"),
                "{args:?}: {err}"
            );
        }
    }
    unchanged_except(&before, &snapshot(root), &[]);
    no_litter(root);
}

#[test]
fn own_outputs_are_replaced_and_marked() {
    let dir = scratch();
    let root = dir.path();
    let before = snapshot(root);
    for _ in 0..2 {
        let (code, _, err) = sagereport(&["compare", "x", "-o", "out/cmp"], root);
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = sagereport(&["tables", "x", "-o", "out/tables"], root);
        assert_eq!(code, 0, "{err}");
    }
    let marker = std::fs::read_to_string(root.join("out/cmp/.sagereport-output")).unwrap();
    assert!(
        marker.contains("\"tool\": \"sagereport\"") && marker.contains("\"command\": \"compare\""),
        "{marker}"
    );
    // An empty folder is taken; a marked one of another command too (it is sagereport's).
    std::fs::create_dir(root.join("empty")).unwrap();
    assert_eq!(sagereport(&["compare", "x", "-o", "empty"], root).0, 0);
    assert_eq!(sagereport(&["tables", "x", "-o", "out/cmp"], root).0, 0);
    // A file someone adds to a marked output is theirs: the folder is no longer replaced.
    std::fs::write(root.join("out/cmp/mine.txt"), "mine").unwrap();
    let (code, _, err) = sagereport(&["compare", "x", "-o", "out/cmp"], root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds files sagereport did not write: mine.txt"), "{err}");
    assert_eq!(std::fs::read_to_string(root.join("out/cmp/mine.txt")).unwrap(), "mine");
    unchanged_except(&before, &snapshot(root), &["out", "empty"]);
    no_litter(root);
}

#[test]
fn the_current_folder_is_refused_clearly() {
    let dir = scratch();
    let root = dir.path();
    std::fs::create_dir(root.join("work")).unwrap();
    let before = snapshot(root);
    for args in [
        vec!["compare", "../x", "-o", "."],
        vec!["site", "../x", "-o", ".", "--no-pdf"],
        vec!["tables", "../x", "-o", ".."],
    ] {
        let (code, _, err) = sagereport(&args, &root.join("work"));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("the current folder"), "{args:?}: {err}");
    }
    unchanged_except(&before, &snapshot(root), &[]);
    no_litter(root);
}

#[test]
fn paths_that_are_not_folders_are_named_in_the_error() {
    let dir = scratch();
    let root = dir.path();
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    std::os::unix::fs::symlink(root.join("x"), root.join("link")).unwrap();
    let before = snapshot(root);
    for (args, why) in [
        (
            vec!["compare", "x", "-o", "notes.txt"],
            "cannot write notes.txt: it is a file, not a folder",
        ),
        (
            vec!["compare", "x", "-o", "notes.txt/sub"],
            "cannot write notes.txt/sub",
        ),
        (
            vec!["tables", "x", "-o", "link"],
            "cannot write link: it is a symbolic link",
        ),
        (
            vec!["pdf", "x", "-o", "notes.txt"],
            "cannot write notes.txt: the file exists and is not a PDF sagereport wrote",
        ),
        (vec!["pdf", "x", "-o", "x"], "cannot write x: it is the input x"),
        (
            vec!["pdf", "x", "-o", "notes.txt/r.pdf"],
            "cannot write notes.txt/r.pdf",
        ),
        (
            vec!["compare", "x", "-o", "out", "--pr-comment", "notes.txt"],
            "cannot write notes.txt: the file exists and is not a PR comment",
        ),
    ] {
        let (code, _, err) = sagereport(&args, root);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
    unchanged_except(&before, &snapshot(root), &[]);
    no_litter(root);
}

#[test]
fn pdf_replaces_only_its_own_pdf_and_never_a_fifo_or_device() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sage_and_ray(&root.join("data"), "Q1", 1.0);
    let fifo = root.join("pipe.pdf");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let before = snapshot(root);
    let (code, _, err) = sagereport(&["pdf", "data", "-o", "pipe.pdf"], root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write pipe.pdf: it is a FIFO"), "{err}");
    let (code, _, err) = sagereport(&["compare", "data", "-o", "pipe.pdf"], root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it is a FIFO (named pipe), not a folder"), "{err}");
    unchanged_except(&before, &snapshot(root), &[]);
    // Its own PDF is replaced; the second run sees the signature of the first.
    for _ in 0..2 {
        let (code, _, err) = sagereport(&["pdf", "data", "-o", "r.pdf"], root);
        assert_eq!(code, 0, "{err}");
    }
    assert!(std::fs::read(root.join("r.pdf")).unwrap().starts_with(b"%PDF-"));
    no_litter(root);
    // The device case: as root the old code replaced /dev/null with a file.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped the /dev/null case: not root (a device cannot be replaced anyway)");
        return;
    }
    let (code, _, err) = sagereport(&["pdf", "data", "-o", "/dev/null"], root);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write /dev/null: it is a device"), "{err}");
    assert!(
        std::fs::metadata("/dev/null").unwrap().file_type().is_char_device(),
        "/dev/null is still a device"
    );
}

#[test]
fn a_history_inside_the_site_folder_survives_three_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..3 {
        let data = sage_and_ray(&root.join(format!("data{i}")), "Q1", 1.0 + i as f64 / 10.0);
        let time = format!("2026-11-2{}T10:00:00Z", i + 1);
        let (code, _, err) = sagereport(
            &[
                "site",
                data.to_str().unwrap(),
                "--history",
                "pub/hist",
                "-o",
                "pub",
                "--no-pdf",
                "--commit",
                &format!("c{i}"),
                "--time",
                &time,
            ],
            root,
        );
        assert_eq!(code, 0, "run {i}: {err}");
        let entries = std::fs::read_dir(root.join("pub/hist/entries")).unwrap().count();
        assert_eq!(entries, i + 1, "run {i}: the history keeps every run");
    }
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("pub/history.json")).unwrap()).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 3, "the site shows all three runs");
    no_litter(root);
    // The site inside its history, or equal to it, is refused.
    let before = snapshot(root);
    for (hist, out) in [("pub/hist", "pub/hist"), ("pub", "pub/site")] {
        let (code, _, err) = sagereport(&["site", "data0", "--history", hist, "-o", out, "--no-pdf"], root);
        assert_eq!(code, 2, "{hist} {out}: {err}");
        assert!(err.contains("history"), "{err}");
    }
    // A history in, around or beside the results' files, or in a folder of
    // other files, would be written among them: refused, nothing written.
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    for (hist, says) in [
        ("data0", "it is an input of this site"),
        ("data0/sage", "it is an input of this site"),
        (".", "it is an input of this site"),
        ("notes.txt", "it is a file, not a folder"),
    ] {
        let (code, _, err) = sagereport(&["site", "data0", "--history", hist, "-o", "pub2", "--no-pdf"], root);
        assert_eq!(code, 2, "{hist}: {err}");
        assert!(err.contains(says), "{hist}: {err}");
    }
    std::fs::create_dir(root.join("other")).unwrap();
    std::fs::write(root.join("other/b.txt"), "theirs").unwrap();
    std::fs::write(root.join("other/a.txt"), "theirs").unwrap();
    let (code, _, err) = sagereport(&["site", "data0", "--history", "other", "-o", "pub2", "--no-pdf"], root);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("it holds other files (a.txt, b.txt) and no entries/ folder"),
        "{err}"
    );
    // A fresh git worktree for a history branch holds only `.git`: fine.
    std::fs::create_dir(root.join("fresh")).unwrap();
    std::fs::write(root.join("fresh/.git"), "gitdir: elsewhere").unwrap();
    let (code, _, err) = sagereport(&["site", "data0", "--history", "fresh", "-o", "pub2", "--no-pdf"], root);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_dir(root.join("fresh/entries")).unwrap().count(), 1);
    unchanged_except(&before, &snapshot(root), &["notes.txt", "other", "fresh", "pub2"]);
}

#[test]
fn stale_temporaries_of_a_killed_run_are_cleaned_by_the_next_run() {
    let dir = scratch();
    let root = dir.path();
    // A run killed part-way, for real…
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sagereport"))
        .args(["compare", "x", "-o", "out", "--pdf", "-q"])
        .current_dir(root)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill();
    child.wait().unwrap();
    // …and the leftovers of one whose process is certainly gone.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    for name in [format!(".out.tmp-{dead}"), format!(".out.old-{dead}")] {
        std::fs::create_dir(root.join(&name)).unwrap();
        std::fs::write(
            root.join(&name).join(".sagereport-output"),
            "{\"tool\": \"sagereport\"}",
        )
        .unwrap();
    }
    let before = snapshot(root);
    let (code, _, err) = sagereport(&["compare", "x", "-o", "out"], root);
    assert_eq!(code, 0, "{err}");
    no_litter(root);
    let own = |p: &str| p.starts_with(".out.") || p == "out";
    let keep: Vec<&str> = before
        .keys()
        .filter_map(|p| p.to_str())
        .filter(|p| own(p.split('/').next().unwrap()))
        .collect();
    unchanged_except(&before, &snapshot(root), &[&keep[..], &["out"]].concat());
}

#[test]
fn two_concurrent_compares_into_one_folder_both_succeed() {
    let dir = scratch();
    let root = dir.path();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_sagereport"))
            .args(["compare", "x", "-o", "out", "-q"])
            .current_dir(root)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(!err.contains("No such file"), "{err}");
    }
    assert!(root.join("out/summary.md").exists() && root.join("out/comparison.csv").exists());
    no_litter(root);
}

#[test]
fn runner_outputs_keep_the_users_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("res")).unwrap();
    std::fs::write(root.join("res/notes.md"), "my notes").unwrap();
    let before = snapshot(root);
    let (code, _, err) = sagereport(&["run", "-e", "Q1", "--quick", "-o", "res"], root);
    assert_eq!(code, 0, "{err}");
    unchanged_except(&before, &snapshot(root), &["res/Q1"]);
    // A foreign file inside the experiment's own folder: refused before running.
    std::fs::write(root.join("res/Q1/local-dataflow/keep.txt"), "x").unwrap();
    let before = snapshot(root);
    let (code, _, err) = sagereport(&["run", "-e", "Q1", "--quick", "-o", "res"], root);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("holds files sagereport did not write") && err.contains("keep.txt"),
        "{err}"
    );
    unchanged_except(&before, &snapshot(root), &[]);
    no_litter(root);
}

#[test]
fn paired_keeps_the_users_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("p")).unwrap();
    std::fs::write(root.join("p/notes.md"), "my notes").unwrap();
    let before = snapshot(root);
    for _ in 0..2 {
        let (code, _, err) = sagereport(
            &[
                "paired",
                "--backends",
                "local-dataflow,local-tasks",
                "-e",
                "Q1",
                "--quick",
                "-o",
                "p",
            ],
            root,
        );
        assert_eq!(code, 0, "{err}");
    }
    unchanged_except(&before, &snapshot(root), &["p/paired_backend_runs", "p/comparison"]);
    no_litter(root);
}

#[test]
fn demo_keeps_a_users_file_in_results() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("d/results")).unwrap();
    std::fs::write(root.join("d/results/README.txt"), "my notes on these runs").unwrap();
    std::fs::write(root.join("d/keep.md"), "mine").unwrap();
    let before = snapshot(root);
    let (code, _, err) = sagereport(&["demo", "-o", "d", "-q"], root);
    assert_eq!(code, 0, "{err}");
    let after = snapshot(root);
    let own = [
        "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "exp1", "exp2", "exp3", "exp4",
    ]
    .map(|e| format!("d/results/{e}"));
    let mut own: Vec<&str> = own.iter().map(String::as_str).collect();
    own.extend(["d/comparison", "d/tables", "d/site", "d/report.pdf"]);
    unchanged_except(&before, &after, &own);
    assert!(after.contains_key(Path::new("d/results/Q1/local-dataflow/unified_results.jsonl")));
    no_litter(root);
}

#[test]
fn a_failed_write_to_stdout_is_an_error_not_a_panic() {
    let dir = scratch();
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    for args in [
        vec!["compare", "x", "-o", "out", "--json"],
        vec!["validate", "x", "--json"],
        vec!["validate", "x"],
        vec!["tables", "x", "-o", "t"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sagereport"))
            .current_dir(dir.path())
            .args(&args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("cannot write to standard output"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
