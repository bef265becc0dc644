//! Hostile inputs: huge lines, sparse files of zeros, compressed, UTF-16 and
//! random bytes, symbolic links to `/`, FIFOs and sockets, names that are
//! not UTF-8, empty folders and unreadable files. Each case asserts the exit
//! code, what the user is told, and that the input tree is unchanged (every
//! file hashed before and after); outputs go to a separate folder.

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// No test may run longer than this (a FIFO that blocks would hang forever).
const TIMEOUT: Duration = Duration::from_secs(60);

fn record(backend: &str, run: usize) -> String {
    serde_json::json!({
        "backend": backend, "workload": "Q1", "run_id": format!("r{run}"), "seed": 42, "nodes": 1,
        "parallelism": 2, "throughput": 10.0 + run as f64, "latency_p50": 10.0, "latency_p95": 20.0,
        "latency_p99": 30.0, "success_rate": 1.0, "duration_seconds": 2.5,
        "timestamp": format!("2026-02-21T03:58:4{}+00:00", run % 10), "config_hash": null, "backend_hash": null
    })
    .to_string()
}

/// Five good records of `backend`, one a line.
fn records(backend: &str) -> String {
    (0..5).map(|i| record(backend, i) + "\n").collect()
}

fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// What a tree holds, to prove a command left it alone: every entry (not
/// following links) with its type and, for files, a SHA-256 of the content.
/// Files over 256 MiB (sparse test files) are fingerprinted by size, mtime
/// and the hash of their first and last MiB instead of read whole.
fn tree_state(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut state = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let ft = meta.file_type();
            let what = if ft.is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if ft.is_dir() {
                stack.push(path.clone());
                format!("dir {:o}", meta.mode())
            } else if ft.is_fifo() || ft.is_socket() || ft.is_char_device() || ft.is_block_device() {
                format!("special {:o}", meta.mode())
            } else {
                format!("file {:o} {} {}", meta.mode(), meta.len(), file_hash(&path, meta.len()))
            };
            state.insert(path, what);
        }
    }
    state
}

fn file_hash(path: &Path, len: u64) -> String {
    let mut hasher = Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    if len > 256 << 20 {
        use std::io::{Seek, SeekFrom};
        let mut buf = vec![0u8; 1 << 20];
        f.read_exact(&mut buf).unwrap();
        hasher.update(&buf);
        f.seek(SeekFrom::End(-(1 << 20))).unwrap();
        f.read_exact(&mut buf).unwrap();
        hasher.update(&buf);
        let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
        hasher.update(format!("{mtime:?}").as_bytes());
    } else {
        std::io::copy(&mut f, &mut hasher).unwrap();
    }
    hex::encode(hasher.finalize())
}

/// A command's outcome.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set of the child, KiB (when measured).
    max_rss_kib: Option<u64>,
    elapsed: Duration,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// Run `sagereport args…` with a timeout, asserting that `inputs` is the
/// same afterwards.
fn run(inputs: &Path, args: &[&OsStr]) -> Outcome {
    let before = tree_state(inputs);
    let started = Instant::now();
    let out = Command::cargo_bin("sagereport")
        .unwrap()
        .args(args)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        tree_state(inputs),
        before,
        "the input tree changed: sagereport {args:?}"
    );
    let outcome = Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        max_rss_kib: None,
        elapsed,
    };
    assert_ne!(
        outcome.code, -1,
        "killed (timeout?) after {elapsed:?}: sagereport {args:?}\n{}",
        outcome.stderr
    );
    outcome
}

/// Like [`run`], and measure the child's peak RSS: the child is reaped with
/// `wait4`, which reports that one process's usage.
fn run_measured(inputs: &Path, args: &[&OsStr]) -> Outcome {
    let before = tree_state(inputs);
    let started = Instant::now();
    // Reaped below with wait4 (for its rusage), not Child::wait.
    #[allow(clippy::zombie_processes)]
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sagereport"))
        .args(args)
        .env("SAGEREPORT_PEAK_RSS", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet reaped; the pointers are valid.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let elapsed = started.elapsed();
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert_eq!(
        tree_state(inputs),
        before,
        "the input tree changed: sagereport {args:?}"
    );
    Outcome {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        // The child's own VmHWM (printed at exit under SAGEREPORT_PEAK_RSS):
        // wait4's ru_maxrss also counts this test process's memory at fork,
        // which other tests running in parallel inflate.
        max_rss_kib: String::from_utf8_lossy(&stderr)
            .lines()
            .find_map(|l| {
                l.strip_prefix("sagereport: peak RSS ")?
                    .strip_suffix(" KiB")?
                    .parse()
                    .ok()
            })
            .or(Some(usage.ru_maxrss as u64)),
        elapsed,
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// `[command, input…, -o OUT]` for a command that writes output.
fn with_output(command: &str, inputs: &[&Path], out: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![command.into()];
    args.extend(inputs.iter().map(|p| p.as_os_str().to_owned()));
    args.push("-o".into());
    args.push(out.as_os_str().to_owned());
    if command == "site" {
        args.push("--no-pdf".into());
    }
    args
}

fn refs(args: &[OsString]) -> Vec<&OsStr> {
    args.iter().map(OsString::as_os_str).collect()
}

/// Every problem of a `validate --json` document as (file, line, kind, message).
fn problems(doc: &Value) -> Vec<(String, Option<u64>, String, String)> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["line"].as_u64(),
                p["kind"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn skipped(doc: &Value) -> Vec<(String, String)> {
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["skipped"].as_str()?.to_string())))
        .collect()
}

#[test]
fn a_100_mib_line_is_skipped_at_its_line_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let file = tree.join("unified_results.jsonl");
    std::fs::create_dir_all(&tree).unwrap();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        f.write_all(record("sage", 0).as_bytes()).unwrap();
        f.write_all(b"\n{\"pad\": \"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}\n").unwrap();
        f.write_all(record("sage", 1).as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
    }
    let size_kib = std::fs::metadata(&file).unwrap().len() / 1024;

    // Default limit: the line is an error at file:line; the records around it are read.
    let o = run_measured(&tree, &[os("validate"), tree.as_os_str()]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let want = format!(
        "{}:2: error: line 2 is longer than 64 MiB (--max-line); skipped",
        file.display()
    );
    assert!(o.stdout.contains(&want), "{}", o.stdout);
    assert!(o.stdout.contains("2 accepted + 1 rejected"), "{}", o.stdout);
    let rss = o.max_rss_kib.unwrap();
    eprintln!("peak RSS with the default --max-line: {rss} KiB for a {size_kib} KiB file");
    assert!(
        rss < size_kib / 3,
        "peak RSS {rss} KiB is not well below the {size_kib} KiB file"
    );

    // A smaller limit: the same.
    let o = run_measured(&tree, &[os("validate"), os("--max-line"), os("4MiB"), tree.as_os_str()]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout.contains("line 2 is longer than 4 MiB (--max-line); skipped"),
        "{}",
        o.stdout
    );
    let rss = o.max_rss_kib.unwrap();
    eprintln!("peak RSS with --max-line 4MiB: {rss} KiB");
    assert!(
        rss < size_kib / 3,
        "peak RSS {rss} KiB is not well below the {size_kib} KiB file"
    );

    // compare still works from the records around the line.
    let out = tmp.path().join("out");
    let o = run(&tree, &refs(&with_output("compare", &[&tree], &out.join("c"))));
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn a_long_csv_line_stops_that_file_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let header = "backend,workload,run_id,seed,nodes,parallelism,throughput,latency_p50,latency_p95,latency_p99,success_rate,duration_seconds,timestamp,config_hash,backend_hash";
    let row = |i: usize| format!("sage,Q1,r{i},42,1,2,1{i}.0,10,20,30,1.0,2.5,2026-02-21T03:58:4{i}+00:00,,");
    let content = format!("{header}\n{}\n{}\n{}\n{}\n", row(0), row(1), "x".repeat(5000), row(2));
    write(&tree.join("unified_results.csv"), content);
    let o = run(
        &tree,
        &[
            os("validate"),
            os("--json"),
            os("--max-line"),
            os("1KiB"),
            tree.as_os_str(),
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let doc = o.json();
    let p = problems(&doc);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].1, p[0].2.as_str()), (Some(4), "line_too_long"));
    assert_eq!(
        p[0].3,
        "line 4 is longer than 1 KiB (--max-line); the rest of the file is not read"
    );
    assert_eq!(doc["records"]["accepted"], 2);
}

#[test]
fn a_sparse_file_of_nuls_is_rejected_without_being_read() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let file = tree.join("unified_results.jsonl");
    std::fs::File::create(&file).unwrap().set_len(200 << 20).unwrap();
    let out = tmp.path().join("out");
    let o = run_measured(&tree, &refs(&with_output("compare", &[&tree], &out.join("c"))));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "{}: binary data, not a text result file; not read",
            file.display()
        )),
        "{}",
        o.stderr
    );
    let rss = o.max_rss_kib.unwrap();
    eprintln!("peak RSS on a 200 MiB file of NULs: {rss} KiB");
    assert!(rss < 100 << 10, "peak RSS {rss} KiB");

    // 40 GB of zeros (sparse): rejected from its first bytes, at once.
    let huge = tree.join("big").join("unified_results.jsonl");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    let f = std::fs::File::create(&huge).unwrap();
    if let Err(e) = f.set_len(40 << 30) {
        eprintln!("skipping the 40 GB case: this file system cannot hold a 40 GB sparse file ({e})");
        return;
    }
    let o = run(&tree, &[os("validate"), huge.parent().unwrap().as_os_str()]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("binary data, not a text result file"), "{}", o.stdout);
    assert!(o.elapsed < Duration::from_secs(10), "took {:?}", o.elapsed);
}

#[test]
fn a_json_document_over_max_document_is_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let array = format!(
        "[{}]",
        (0..20).map(|i| record("sage", i)).collect::<Vec<_>>().join(",\n")
    );
    write(&tree.join("benchmark_results.json"), &array);
    let o = run(
        &tree,
        &[os("validate"), os("--max-document"), os("1KiB"), tree.as_os_str()],
    );
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    let want = format!(
        "file is {} ({} bytes), larger than 1 KiB (--max-document); not read",
        guard_size(array.len() as u64),
        array.len()
    );
    assert!(o.stdout.contains(&want), "{}", o.stdout);
    assert!(o.stderr.contains("benchmark_results.json"), "{}", o.stderr);
    // Within the limit it is read.
    let o = run(&tree, &[os("validate"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

fn guard_size(bytes: u64) -> String {
    sagereport::ingest::guard::format_size(bytes)
}

/// `tree/unified_results.jsonl` holding `content`; validate and compare
/// must both refuse it (exit 2) with `hint` naming the file.
fn assert_not_text(content: &[u8], hint: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let file = tree.join("unified_results.jsonl");
    write(&file, content);
    let o = run(&tree, &[os("validate"), tree.as_os_str()]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    let line = format!("{}: error: {hint}", file.display());
    assert!(o.stdout.contains(&line), "want {line:?} in\n{}", o.stdout);
    let o = run(&tree, &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(problems(&o.json())[0].2, "not_text");
    let out = tmp.path().join("out");
    let o = run(&tree, &refs(&with_output("compare", &[&tree], &out.join("c"))));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("{}: {hint}", file.display())),
        "{}",
        o.stderr
    );
}

#[test]
fn gzip_input_gets_a_hint() {
    let mut gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03".to_vec();
    gz.extend((0..2000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8));
    assert_not_text(&gz, "looks like gzip: decompress it first");
}

#[test]
fn zstd_and_zip_inputs_get_a_hint() {
    assert_not_text(
        b"\x28\xb5\x2f\xfd\x24\x00\x01\x00",
        "looks like zstd: decompress it first",
    );
    assert_not_text(
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        "looks like a zip archive: extract it first",
    );
}

#[test]
fn utf16_input_gets_a_hint() {
    let text = records("sage");
    let mut with_bom = vec![0xff, 0xfe];
    with_bom.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    assert_not_text(
        &with_bom,
        "looks like UTF-16: convert it to UTF-8 (iconv -f UTF-16 -t UTF-8",
    );
    let no_bom: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    assert_not_text(&no_bom, "looks like UTF-16: convert it to UTF-8");
}

#[test]
fn random_bytes_are_binary_data() {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    assert_not_text(&bytes, "binary data, not a text result file; not read");
}

#[test]
fn a_symlink_to_root_is_listed_and_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    write(&tree.join("sage/unified_results.jsonl"), records("sage"));
    std::os::unix::fs::symlink("/", tree.join("root")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", tree.join("sage/hostname.jsonl")).unwrap();
    let o = run(&tree, &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.elapsed < Duration::from_secs(20), "took {:?}", o.elapsed);
    let doc = o.json();
    assert_eq!(doc["records"]["accepted"], 5);
    let s = skipped(&doc);
    let root = tree.join("root").display().to_string();
    assert!(
        s.contains(&(
            root,
            "a symbolic link to /; not followed (pass --follow-symlinks to read through links)".into()
        )),
        "{s:?}"
    );
    assert!(
        s.iter()
            .any(|(p, r)| p.ends_with("hostname.jsonl") && r.starts_with("a symbolic link to /etc/hostname")),
        "{s:?}"
    );

    // Text output lists it too; compare works beside it.
    let o = run(&tree, &[os("validate"), os("-v"), tree.as_os_str()]);
    assert!(o.stdout.contains("a symbolic link to /; not followed"), "{}", o.stdout);
    let out = tmp.path().join("out");
    let o = run(&tree, &refs(&with_output("compare", &[&tree], &out.join("c"))));
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn links_are_followed_when_asked_and_loops_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("ray/unified_results.jsonl"), records("ray"));
    let tree = tmp.path().join("tree");
    write(&tree.join("sage/unified_results.jsonl"), records("sage"));
    std::os::unix::fs::symlink(&data, tree.join("linked")).unwrap();
    std::os::unix::fs::symlink("..", tree.join("sage/up")).unwrap();
    std::os::unix::fs::symlink("nowhere", tree.join("sage/dangling.jsonl")).unwrap();

    let o = run(tmp.path(), &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["records"]["accepted"], 5);

    let o = run(
        tmp.path(),
        &[os("validate"), os("--json"), os("--follow-symlinks"), tree.as_os_str()],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let doc = o.json();
    assert_eq!(doc["records"]["accepted"], 10, "{doc:#}");
    let s = skipped(&doc);
    assert!(
        s.iter()
            .any(|(p, r)| p.ends_with("sage/up") && r.contains("(a loop); not followed again")),
        "{s:?}"
    );
    assert!(
        s.iter()
            .any(|(p, r)| p.ends_with("dangling.jsonl") && r == "a symbolic link to nowhere, which does not exist"),
        "{s:?}"
    );

    // An argument that is itself a link is followed: the user named it.
    let named = tmp.path().join("named");
    std::os::unix::fs::symlink(&data, &named).unwrap();
    let o = run(tmp.path(), &[os("validate"), os("--json"), named.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["records"]["accepted"], 5);
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {}",
        path.display()
    );
}

#[test]
fn fifos_and_sockets_in_a_tree_are_listed_and_never_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    write(&tree.join("sage/unified_results.jsonl"), records("sage"));
    mkfifo(&tree.join("sage/pipe.jsonl"));
    mkfifo(&tree.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(tree.join("sage/results.sock")).unwrap();
    let o = run(&tree, &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let doc = o.json();
    assert_eq!(doc["records"]["accepted"], 5);
    let s = skipped(&doc);
    let fifo = "a FIFO (named pipe): not read, reading could block forever".to_string();
    assert!(
        s.contains(&(tree.join("sage/pipe.jsonl").display().to_string(), fifo.clone())),
        "{s:?}"
    );
    assert!(s.contains(&(tree.join("fifo").display().to_string(), fifo)), "{s:?}");
    assert!(
        s.contains(&(
            tree.join("sage/results.sock").display().to_string(),
            "a socket: not read".into()
        )),
        "{s:?}"
    );
    let out = tmp.path().join("out");
    for command in ["compare", "tables"] {
        let o = run(&tree, &refs(&with_output(command, &[&tree], &out.join(command))));
        assert_eq!(o.code, 0, "{command}: {}", o.stderr);
    }
}

#[test]
fn a_fifo_or_device_argument_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("results.jsonl");
    mkfifo(&fifo);
    let o = run(tmp.path(), &[os("validate"), fifo.as_os_str()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains(&format!(
            "{}: a FIFO (named pipe): not read, reading could block forever",
            fifo.display()
        )),
        "{}",
        o.stderr
    );
    let out = tmp.path().join("out");
    let o = run(tmp.path(), &refs(&with_output("compare", &[&fifo], &out.join("c"))));
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("a FIFO (named pipe)"), "{}", o.stderr);
    let o = run(tmp.path(), &[os("validate"), os("/dev/null")]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("/dev/null: a device: not read"), "{}", o.stderr);
}

#[test]
fn a_file_name_that_is_not_utf8_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("sage")).unwrap();
    let name = OsStr::from_bytes(b"res\xff.jsonl");
    std::fs::write(tree.join("sage").join(name), records("sage")).unwrap();
    let legacy = tree.join(OsStr::from_bytes(
        b"exp1_single_vs_multi/results/run\xfe/single_node_metrics.json",
    ));
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "fixtures/trees/clean/exp2_high_load_parallel/results/full_experiment_20260115_130000/scheduler_comparison/scheduler_fifo_medium_metrics.json",
    );
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::copy(fixture, &legacy).unwrap();
    let o = run(&tree, &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let doc = o.json();
    assert_eq!(doc["records"]["accepted"], 6, "{doc:#}");
    let files: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(files, vec!["legacy_metrics", "unified_jsonl"], "{doc:#}");
    let out = tmp.path().join("out");
    let o = run(
        &tree,
        &refs(&with_output("compare", &[&tree.join("sage")], &out.join("c"))),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn an_empty_folder_is_the_same_input_error_for_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join(".git")).unwrap();
    write(&empty.join(".git/HEAD"), "ref: refs/heads/main\n");
    let junk = tmp.path().join("junk");
    write(&junk.join("notes.txt"), "hello\n");
    write(&junk.join("a/run.log"), "log\n");
    write(&junk.join("a/b.log"), "log\n");
    std::os::unix::fs::symlink("/", junk.join("root")).unwrap();
    let out = tmp.path().join("out");
    for command in ["compare", "site", "tables", "pdf", "validate"] {
        for (dir, detail) in [
            (
                &empty,
                "(it holds no files; hidden files and folders, such as .git, are not searched)",
            ),
            (
                &junk,
                "(4 files skipped: 2 × a log file; 1 × human-readable text report, not a result format; \
                 1 × a symbolic link, not followed (pass --follow-symlinks to read through links))",
            ),
        ] {
            let args = if command == "validate" {
                vec![OsString::from(command), dir.as_os_str().to_owned()]
            } else {
                let target = out.join(command).join(if command == "pdf" { "r.pdf" } else { "dir" });
                with_output(command, &[dir], &target)
            };
            let o = run(tmp.path(), &refs(&args));
            assert_eq!(o.code, 2, "{command} {}: {}{}", dir.display(), o.stdout, o.stderr);
            let want = format!("no result files found under {} {detail}", dir.display());
            assert!(o.stderr.contains(&want), "{command}: want {want:?} in\n{}", o.stderr);
        }
    }
    assert!(!out.exists(), "nothing may be written for an input error");
    // The same when an empty folder is one of several inputs.
    let good = tmp.path().join("good");
    write(&good.join("unified_results.jsonl"), records("sage"));
    let o = run(tmp.path(), &[os("validate"), good.as_os_str(), empty.as_os_str()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains(&format!("no result files found under {}", empty.display())),
        "{}",
        o.stderr
    );
}

/// Run as an unprivileged user when this test runs as root (permission bits
/// do not stop root): `setpriv` with a copy of the binary the user can
/// execute. `None` when that is not possible.
fn unprivileged(tmp: &Path) -> Option<Vec<OsString>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some(vec![assert_cmd::cargo::cargo_bin("sagereport").into_os_string()]);
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let bin = tmp.join("bin/sagereport");
    std::fs::create_dir_all(bin.parent().unwrap()).ok()?;
    std::fs::copy(assert_cmd::cargo::cargo_bin("sagereport"), &bin).ok()?;
    Some(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
            .iter()
            .map(OsString::from)
            .chain([bin.into_os_string()])
            .collect(),
    )
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn unreadable_files_are_input_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o755);
    let Some(prefix) = unprivileged(tmp.path()) else {
        eprintln!("skipping: running as root and setpriv is not available, so permission bits cannot be tested");
        return;
    };
    let tree = tmp.path().join("tree");
    let locked = tree.join("sage/unified_results.jsonl");
    write(&locked, records("sage"));
    chmod(&locked, 0o000);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    chmod(&out, 0o777);
    let exec = |args: &[&OsStr]| -> Outcome {
        let before = tree_state(&tree);
        let started = Instant::now();
        let o = Command::new(&prefix[0])
            .args(&prefix[1..])
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        assert_eq!(tree_state(&tree), before, "the input tree changed");
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            max_rss_kib: None,
            elapsed: started.elapsed(),
        }
    };
    let denied = format!("{}: cannot read: Permission denied", locked.display());
    for command in ["compare", "tables"] {
        let o = exec(&refs(&with_output(command, &[&tree], &out.join(command))));
        assert_eq!(o.code, 2, "{command}: {}", o.stderr);
        assert!(o.stderr.contains(&denied), "{command}: {}", o.stderr);
        assert!(!o.stderr.contains("0 rejected"), "{}", o.stderr);
    }
    // The file as the argument.
    let o = exec(&[os("validate"), locked.as_os_str()]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains(&denied), "{}", o.stderr);
    // An unreadable folder as the argument.
    let folder = tree.join("sage");
    chmod(&folder, 0o000);
    let o = exec(&[os("validate"), folder.as_os_str()]);
    chmod(&folder, 0o755);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains(&folder.display().to_string()) && o.stderr.contains("Permission denied"),
        "{}",
        o.stderr
    );
    // Beside readable records, it is an error on its file; the rest is read.
    write(&tree.join("ray/unified_results.jsonl"), records("ray"));
    let o = exec(&[os("validate"), tree.as_os_str()]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains(&format!("{}: error: cannot read: Permission denied", locked.display())),
        "{}",
        o.stdout
    );
    chmod(&locked, 0o644);
}

/// The upstream samples with hostile entries beside them read exactly as
/// the samples alone.
#[test]
fn hostile_entries_beside_real_samples_change_nothing() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/real");
    if !real.exists() {
        eprintln!("skipping: {} is absent", real.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&real, &[os("validate"), os("--json"), real.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let clean = o.json();

    let tree = tmp.path().join("real");
    copy_tree(&real, &tree);
    std::os::unix::fs::symlink("/", tree.join("root")).unwrap();
    mkfifo(&tree.join("paired_backend_runs/pipe.jsonl"));
    let o = run(&tree, &[os("validate"), os("--json"), tree.as_os_str()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let doc = o.json();
    assert_eq!(doc["records"], clean["records"]);
    assert_eq!(
        doc["problems"].as_array().unwrap().len(),
        clean["problems"].as_array().unwrap().len()
    );
    assert_eq!(skipped(&doc).len(), skipped(&clean).len() + 2);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
