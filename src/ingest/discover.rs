//! Finding input files, deciding what each one is, and reading the facts
//! that folder names carry (`backends/<name>/`, `run_id=`, `config_hash=`,
//! `expN_…`).

use super::guard::special_file;
use super::InputError;
use crate::model::Sym;
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// What a file is, decided from its name (and, for a generic `.json` or
/// `.csv`, from its content when read).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `unified_results.jsonl` and other `*results*.jsonl`: one record a line.
    UnifiedJsonl,
    /// `unified_results.csv`: header-driven unified records.
    UnifiedCsv,
    /// A JSON document holding unified records (`benchmark_results.json`,
    /// `results.json`, any other `.json` that turns out to hold records).
    JsonRecords,
    /// `repro_manifest.json`: applies to the records beside it.
    ReproManifest,
    /// `manifest.json` / `failure_report.json` of a paired run.
    PairedManifest,
    /// Legacy `<name>_metrics.json` of exp1–exp4.
    LegacyMetrics,
    /// Legacy `<name>_latencies.csv`: per-task latencies of one run.
    LegacyLatencies,
    /// Not a result file; the reason says why.
    Skipped,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::UnifiedJsonl => "unified_jsonl",
            Format::UnifiedCsv => "unified_csv",
            Format::JsonRecords => "json_records",
            Format::ReproManifest => "repro_manifest",
            Format::PairedManifest => "paired_manifest",
            Format::LegacyMetrics => "legacy_metrics",
            Format::LegacyLatencies => "legacy_latencies",
            Format::Skipped => "skipped",
        }
    }

    /// Formats whose entries are unified records (count toward the totals).
    pub fn holds_records(self) -> bool {
        matches!(
            self,
            Format::UnifiedJsonl | Format::UnifiedCsv | Format::JsonRecords | Format::LegacyMetrics
        )
    }
}

/// Files sagereport and upstream write as *outputs*; reading them back as
/// inputs would count every record twice.
const OUTPUT_FILES: [&str; 4] = ["comparison.csv", "summary.json", "summary.md", "tables.md"];

/// Derived legacy files whose numbers come from the `*_metrics.json` beside them.
const DERIVED_JSON: [&str; 4] = [
    "throughput_curve.json",
    "latency_breakdown.json",
    "scheduler_overhead.json",
    "parallel_jobs_summary.json",
];

/// Classify a file by its name. `Err` is the reason it is skipped.
pub fn classify(path: &Path) -> Result<Format, String> {
    // A name that is not UTF-8 is classified by its readable part.
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if ext == "csv"
        && path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|d| d == "task_latencies")
    {
        return Err(
            "per-task latencies written by `sagereport run`; the records in ../unified_results.jsonl summarize them"
                .into(),
        );
    }
    match ext {
        "jsonl" | "ndjson" => Ok(Format::UnifiedJsonl),
        "csv" if lower.ends_with("_latencies.csv") || lower == "latencies.csv" => Ok(Format::LegacyLatencies),
        "csv" if OUTPUT_FILES.contains(&lower.as_str()) => {
            Err("a report output (comparison table), not raw results".into())
        }
        "csv" => Ok(Format::UnifiedCsv),
        "json" if lower == "repro_manifest.json" => Ok(Format::ReproManifest),
        "json" if lower == "manifest.json" || lower == "failure_report.json" => Ok(Format::PairedManifest),
        "json" if lower.ends_with("_metrics.json") || lower == "metrics.json" => Ok(Format::LegacyMetrics),
        "json" if OUTPUT_FILES.contains(&lower.as_str()) => Err("a report output, not raw results".into()),
        "json" if DERIVED_JSON.contains(&lower.as_str()) => {
            Err("derived from the *_metrics.json files beside it, which are read instead".into())
        }
        "json" => Ok(Format::JsonRecords),
        "txt" if lower.ends_with("summary.txt") => {
            Err("human-readable summary; the numbers are read from the *_metrics.json beside it".into())
        }
        "txt" => Err("human-readable text report, not a result format".into()),
        "md" | "html" | "tex" | "pdf" => Err("a report document, not raw results".into()),
        "png" | "svg" | "jpg" | "jpeg" | "gif" => Err("an image".into()),
        "log" => Err("a log file".into()),
        "yaml" | "yml" | "toml" => Err("a configuration file, not results".into()),
        "gz" | "tgz" | "bz2" | "xz" | "zst" | "zip" | "7z" | "tar" => Err(
            "a compressed or archived file, not read: unpack it beside itself (e.g. gunzip -k FILE, tar -xf FILE) and run again"
                .into(),
        ),
        _ => Err("not a known result format (expected .jsonl, .csv or .json)".into()),
    }
}

/// Facts carried by folder names above a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathFacts {
    /// `<name>` of the nearest `backends/<name>/`.
    pub backend: Option<Sym>,
    /// The nearest `run_id=<id>` segment.
    pub run_id: Option<Sym>,
    /// The nearest `config_hash=<hex>` segment.
    pub config_hash: Option<Sym>,
    /// `exp1`…`exp4` from an `exp1_…` folder.
    pub experiment: Option<Sym>,
}

/// Read [`PathFacts`] from the folders of `path`. Only whole segments of a
/// fixed form count: a backend is never guessed from a substring (a ray
/// result under `sage-node-1/` stays ray).
pub fn path_facts(path: &Path) -> PathFacts {
    let mut facts = PathFacts::default();
    let segments: Vec<std::borrow::Cow<'_, str>> = path
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy()),
            _ => None,
        })
        .collect();
    for (i, seg) in segments.iter().enumerate() {
        let seg: &str = seg;
        if let Some(id) = seg.strip_prefix("run_id=") {
            facts.run_id = Some(Sym::new(id));
        } else if let Some(hash) = seg.strip_prefix("config_hash=") {
            facts.config_hash = Some(Sym::new(hash));
        } else if seg == "backends" {
            if let Some(name) = segments.get(i + 1) {
                facts.backend = Some(Sym::new(name));
            }
        } else if let Some(exp) = experiment_of_segment(seg) {
            facts.experiment = Some(Sym::new(exp));
        }
    }
    facts
}

/// `exp1_single_vs_multi` → `exp1`; `exp4` → `exp4`; anything else → None.
fn experiment_of_segment(seg: &str) -> Option<&str> {
    let rest = seg.strip_prefix("exp")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !(rest.len() == digits || rest.as_bytes()[digits] == b'_') {
        return None;
    }
    Some(&seg[..3 + digits])
}

/// One file to read, with the path as the user would type it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: PathBuf,
    /// `path` as shown in messages: the argument joined with the path below it.
    pub display: String,
    pub format: Result<Format, String>,
    /// Index of the input argument the file was found under.
    pub input: u32,
    /// A regular file (not a link, FIFO, device or socket listed as skipped).
    pub regular: bool,
}

/// Skipped-file reason of a symbolic link that is not followed.
pub fn symlink_reason(path: &Path) -> String {
    format!(
        "{}; not followed (pass --follow-symlinks to read through links)",
        symlink_to(path)
    )
}

/// `a symbolic link to TARGET`.
fn symlink_to(path: &Path) -> String {
    let target = std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    format!("a symbolic link to {target}")
}

/// Paths that could not be read while walking, with the reason.
pub type Unreadable = Vec<(String, String)>;

/// Two inputs that are one file or folder (also through a link), or one
/// inside the other, would have their files read twice and every run in
/// them counted twice: refused. An input that cannot be reached is left to
/// the walk, which names it.
fn refuse_overlap(inputs: &[PathBuf]) -> Result<(), InputError> {
    let resolved: Vec<(&PathBuf, PathBuf)> = inputs
        .iter()
        .filter_map(|p| Some((p, std::fs::canonicalize(p).ok()?)))
        .collect();
    for (i, (first, a)) in resolved.iter().enumerate() {
        for (second, b) in &resolved[i + 1..] {
            let (outer, inner) = if b.starts_with(a) {
                (first, second)
            } else if a.starts_with(b) {
                (second, first)
            } else {
                continue;
            };
            return Err(InputError::Overlapping {
                outer: outer.display().to_string(),
                inner: inner.display().to_string(),
                same: a == b,
            });
        }
    }
    Ok(())
}

/// Walk the inputs: files as given, directories recursively in name order
/// (deterministic), hidden folders (`.git`, `.venv` …) skipped. Symbolic
/// links below an argument are listed as skipped unless `follow_symlinks`
/// (an argument that is a link is followed: the user named it); FIFOs,
/// devices and sockets are listed as skipped and never opened. Problems
/// reaching a path are returned beside the entries (see [`Unreadable`]). A folder argument with
/// no result file below it is an error.
pub fn walk(inputs: &[PathBuf], follow_symlinks: bool) -> Result<(Vec<Entry>, Unreadable), InputError> {
    refuse_overlap(inputs)?;
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    for (input_index, input) in inputs.iter().enumerate() {
        let input_index = input_index as u32;
        let meta = std::fs::metadata(input).map_err(|e| InputError::Unreachable {
            path: input.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_file() {
            entries.push(Entry {
                path: input.clone(),
                display: input.display().to_string(),
                format: classify(input),
                input: input_index,
                regular: true,
            });
            continue;
        }
        if !meta.is_dir() {
            return Err(InputError::NotAFile {
                path: input.display().to_string(),
                what: special_file(&meta.file_type()).unwrap_or("neither a file nor a folder: not read"),
            });
        }
        let first_entry = entries.len();
        let unreadable_before = unreadable.len();
        if follow_symlinks {
            walk_serial(input, input_index, true, &mut entries, &mut unreadable);
        } else {
            let walked = walk_parallel(input, input_index);
            entries.extend(walked.entries);
            unreadable.extend(walked.unreadable);
        }
        let found = &entries[first_entry..];
        if unreadable.len() == unreadable_before && !found.iter().any(|e| e.format.is_ok()) {
            return Err(InputError::NoResultFiles {
                path: input.display().to_string(),
                skipped: skipped_summary(found),
            });
        }
    }
    if unreadable.is_empty() && !entries.iter().any(|e| e.format.is_ok()) {
        // Only file arguments, none of them a result file.
        if let Some(e) = entries.first() {
            return Err(InputError::NoResultFiles {
                path: e.display.clone(),
                skipped: format!(
                    " ({})",
                    e.format
                        .as_ref()
                        .err()
                        .map(String::as_str)
                        .unwrap_or("not a result file")
                ),
            });
        }
    }
    Ok((entries, unreadable))
}

/// One folder argument walked with walkdir: used when following links
/// below it, as its loop detection names a link back to an ancestor (and,
/// not following, by the tests as [`walk_parallel`]'s reference).
fn walk_serial(
    input: &Path,
    input_index: u32,
    follow_symlinks: bool,
    entries: &mut Vec<Entry>,
    unreadable: &mut Unreadable,
) {
    let walker = walkdir::WalkDir::new(input)
        .follow_links(follow_symlinks)
        .follow_root_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for item in walker {
        match item {
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) => {
                let kind = e.file_type();
                entries.push(file_entry(e.into_path(), kind, input_index));
            }
            Err(e) => {
                let skipped = match (e.loop_ancestor(), e.path()) {
                    (Some(ancestor), Some(path)) => Some((
                        path,
                        format!(
                            "a symbolic link back to {} (a loop); not followed again",
                            ancestor.display()
                        ),
                    )),
                    // A link that leads nowhere, met while following links.
                    (None, Some(path)) if e.depth() > 0 && path.is_symlink() && !path.exists() => {
                        Some((path, format!("{}, which does not exist", symlink_to(path))))
                    }
                    _ => None,
                };
                match skipped {
                    Some((path, reason)) => entries.push(Entry {
                        path: path.to_path_buf(),
                        display: path.display().to_string(),
                        format: Err(reason),
                        input: input_index,
                        regular: false,
                    }),
                    None => {
                        let path = e
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| input.display().to_string());
                        unreadable.push((path, e.to_string()));
                    }
                }
            }
        }
    }
}

/// The entry of a walked path that is not a folder: a regular file
/// classified by its name, anything else listed as skipped with why.
fn file_entry(path: PathBuf, kind: std::fs::FileType, input: u32) -> Entry {
    let format = if kind.is_file() {
        classify(&path)
    } else if kind.is_symlink() {
        Err(symlink_reason(&path))
    } else {
        Err(special_file(&kind)
            .unwrap_or("not a regular file: not read")
            .to_string())
    };
    Entry {
        display: path.display().to_string(),
        format,
        path,
        input,
        regular: kind.is_file(),
    }
}

/// What a walk found below a folder, in walk order.
#[derive(Default)]
struct Walked {
    entries: Vec<Entry>,
    unreadable: Unreadable,
}

/// `dir`'s tree in walkdir's order without following links — entries
/// sorted by name, a folder's contents right after it, hidden names
/// (`.git`) skipped, a folder that cannot be read reported as walkdir
/// words it — with its subfolders walked in parallel: a harness tree is
/// thousands of small folders, and a serial walk kept one core idle for
/// the first 70 ms of every command.
fn walk_parallel(dir: &Path, input: u32) -> Walked {
    use rayon::prelude::*;
    let io_error = |path: &Path, e: std::io::Error| {
        (
            path.display().to_string(),
            format!("IO error for operation on {}: {e}", path.display()),
        )
    };
    let mut walked = Walked::default();
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) => {
            walked.unreadable.push(io_error(dir, e));
            return walked;
        }
    };
    let mut children = Vec::new();
    for item in listing {
        match item {
            Ok(child) => {
                let name = child.file_name();
                if name.as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                let path = child.path();
                match child.file_type() {
                    Ok(kind) => children.push((name, path, kind)),
                    Err(e) => walked.unreadable.push(io_error(&path, e)),
                }
            }
            Err(e) => walked.unreadable.push((dir.display().to_string(), e.to_string())),
        }
    }
    children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let parts: Vec<Walked> = children
        .into_par_iter()
        .map(|(_, path, kind)| {
            if kind.is_dir() {
                return walk_parallel(&path, input);
            }
            Walked {
                entries: vec![file_entry(path, kind, input)],
                unreadable: Vec::new(),
            }
        })
        .collect();
    for part in parts {
        walked.entries.extend(part.entries);
        walked.unreadable.extend(part.unreadable);
    }
    walked
}

/// ` (N files skipped: 2 × an image; …)`, or why there is nothing at all.
fn skipped_summary(found: &[Entry]) -> String {
    if found.is_empty() {
        return " (it holds no files; hidden files and folders, such as .git, are not searched)".into();
    }
    let mut by_reason: Vec<(&str, usize)> = Vec::new();
    for e in found {
        let reason = e.format.as_ref().err().map(String::as_str).unwrap_or("");
        let reason = if reason.starts_with("a symbolic link to ")
            && reason.ends_with("; not followed (pass --follow-symlinks to read through links)")
        {
            "a symbolic link, not followed (pass --follow-symlinks to read through links)"
        } else {
            reason
        };
        match by_reason.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => by_reason.push((reason, 1)),
        }
    }
    const SHOWN: usize = 4;
    let mut parts: Vec<String> = by_reason
        .iter()
        .take(SHOWN)
        .map(|(r, n)| format!("{n} × {r}"))
        .collect();
    if by_reason.len() > SHOWN {
        parts.push(format!(
            "{} more reasons: sagereport validate -v lists them",
            by_reason.len() - SHOWN
        ));
    }
    format!(
        " ({} file{} skipped: {})",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parallel walk lists exactly what walkdir lists, in its order.
    #[test]
    fn the_parallel_walk_equals_walkdirs() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("results");
        let files = [
            "a/x.jsonl",
            "a-b/y.csv",
            "a.b/z.json",
            "B/unified_results.jsonl",
            "b/run/backends/sage/unified_results.jsonl",
            "b/run/backends/sage/unified_results.csv",
            "b/run/manifest.json",
            "b/run/notes.txt",
            "b/.hidden/skipped.jsonl",
            ".git/config",
            "exp1_x/Q1_metrics.json",
            "exp1_x/Q1_latencies.csv",
            "é/w.jsonl",
            "top.jsonl",
        ];
        for f in files {
            let path = root.join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "{}").unwrap();
        }
        std::fs::create_dir_all(root.join("empty/deeper")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("link-to-dir")).unwrap();
        std::os::unix::fs::symlink(root.join("top.jsonl"), root.join("b/link.jsonl")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("b/dangling")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("b/run/sock")).unwrap();

        let parallel = walk_parallel(&root, 3);
        let (mut entries, mut unreadable) = (Vec::new(), Vec::new());
        walk_serial(&root, 3, false, &mut entries, &mut unreadable);
        let view = |e: &Entry| (e.display.clone(), e.format.clone(), e.input, e.regular, e.path.clone());
        assert_eq!(
            parallel.entries.iter().map(view).collect::<Vec<_>>(),
            entries.iter().map(view).collect::<Vec<_>>()
        );
        assert_eq!(parallel.unreadable, unreadable);
        assert_eq!(
            entries.len(),
            files.len() - 2 + 4,
            "hidden ones skipped, links and the socket listed"
        );

        // A folder argument that is not there is reported as walkdir words it.
        let gone = root.join("gone");
        let (mut entries, mut unreadable) = (Vec::new(), Vec::new());
        walk_serial(&gone, 0, false, &mut entries, &mut unreadable);
        assert_eq!(walk_parallel(&gone, 0).unreadable, unreadable);
    }

    #[test]
    fn inputs_that_are_one_folder_or_nest_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("results");
        std::fs::create_dir_all(root.join("sage")).unwrap();
        std::fs::write(root.join("sage/unified_results.jsonl"), "{}\n").unwrap();
        std::os::unix::fs::symlink(&root, tmp.path().join("link")).unwrap();
        let refused = |a: &str, b: &str| refuse_overlap(&[tmp.path().join(a), tmp.path().join(b)]).is_err();
        assert!(refused("results", "link"), "a link to an input is that input");
        assert!(
            refused("results/sage/unified_results.jsonl", "results"),
            "a file inside a folder"
        );
        assert!(refused("link/sage", "results"), "inside, through a link");
        assert!(
            !refused("results/sage", "results/ray"),
            "side by side (one missing: left to the walk)"
        );
        assert!(!refused("results2", "results"), "a longer name is not inside");
        std::fs::create_dir_all(tmp.path().join("results2")).unwrap();
        assert!(!refused("results2", "results"));
    }

    #[test]
    fn facts_come_from_whole_segments_only() {
        let f = path_facts(Path::new(
            "a/paired_backend_runs/run_id=r1/config_hash=abc/backends/ray/unified_results.jsonl",
        ));
        assert_eq!(f.backend.map(|s| s.as_str()), Some("ray"));
        assert_eq!(f.run_id.map(|s| s.as_str()), Some("r1"));
        assert_eq!(f.config_hash.map(|s| s.as_str()), Some("abc"));
        let g = path_facts(Path::new("sage-node-1/message_sage/results/unified_results.jsonl"));
        assert_eq!(g.backend, None);
        let h = path_facts(Path::new("exp2_high_load_parallel/results/x/y_metrics.json"));
        assert_eq!(h.experiment.map(|s| s.as_str()), Some("exp2"));
        assert_eq!(path_facts(Path::new("expert/x.json")).experiment, None);
    }

    #[test]
    fn classify_by_name() {
        assert_eq!(classify(Path::new("unified_results.jsonl")), Ok(Format::UnifiedJsonl));
        assert_eq!(classify(Path::new("unified_results.csv")), Ok(Format::UnifiedCsv));
        assert_eq!(
            classify(Path::new("multi_4_nodes_latencies.csv")),
            Ok(Format::LegacyLatencies)
        );
        assert!(
            classify(Path::new("run/Q1/local-tasks/task_latencies/q1-r1.csv")).is_err(),
            "the runner's per-task files are skipped with a reason"
        );
        assert_eq!(
            classify(Path::new("multi_4_nodes_metrics.json")),
            Ok(Format::LegacyMetrics)
        );
        assert_eq!(classify(Path::new("benchmark_results.json")), Ok(Format::JsonRecords));
        assert_eq!(classify(Path::new("manifest.json")), Ok(Format::PairedManifest));
        assert!(classify(Path::new("comparison.csv")).is_err());
        assert!(classify(Path::new("x_summary.txt")).is_err());
    }
}
