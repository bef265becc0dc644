//! Ingest: any mix of result files and directories in, unified records and
//! a complete account of what happened to every input record out.
//!
//! Files are grouped by folder and folders are read in parallel (rayon):
//! a folder is the unit because `repro_manifest.json` applies to the
//! records beside it and a `unified_results.csv` is the twin of the
//! `unified_results.jsonl` beside it. Paired-run manifests apply to every
//! folder below theirs. Output order follows the sorted walk, so results
//! are deterministic whatever the thread timing.

mod copies;
pub mod csv;
pub mod discover;
pub mod guard;
pub mod json_doc;
pub mod jsonl;
pub mod legacy;
pub mod manifest;
pub mod sink;

use crate::model::normalize::{Context, PairedConfig, ReproManifest};
use crate::model::{FileId, Problem, ProblemKind, Severity, UnifiedRecord};
use discover::{path_facts, Entry, Format};
use guard::{format_size, DocError};
pub use manifest::PairedRun;
use rayon::prelude::*;
use serde::Serialize;
use sink::{twin_key, FileSink, Tally};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// One input file and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub format: Format,
    #[serde(flatten)]
    pub tally: Tally,
    /// Why a file was not read (for `format: skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Index of the input argument the file was found under.
    #[serde(skip)]
    pub input: u32,
    /// For files whose records keep their free-form objects in the file
    /// ([`crate::model::FreeText::InFile`]): where it is and how it was
    /// when read, so reading it back can tell that it changed.
    #[serde(skip)]
    pub stamp: Option<FileStamp>,
}

/// A file's path, length and modification time when it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub path: PathBuf,
    pub len: u64,
    pub modified: Option<std::time::SystemTime>,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// Record totals over all files. `read = accepted + rejected`; twins and
/// duplicates are entries folded into a record already counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub twins_merged: u64,
    pub duplicates: u64,
}

/// Everything ingest learned.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// The arguments as given.
    pub inputs: Vec<String>,
    /// Every file found, in walk order; `FileId(i)` is `files[i]`.
    pub files: Vec<FileSummary>,
    pub records: Vec<UnifiedRecord>,
    pub problems: Vec<Problem>,
    pub totals: Totals,
    pub paired_runs: Vec<PairedRun>,
}

impl IngestReport {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Warning).count()
    }

    pub fn file(&self, id: FileId) -> &FileSummary {
        &self.files[id.0 as usize]
    }
}

/// Options for [`ingest`].
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Show a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// The longest line a JSONL or CSV reader holds (`--max-line`).
    pub max_line: u64,
    /// The biggest whole-document JSON file read (`--max-document`).
    pub max_document: u64,
    /// Read through symbolic links below the inputs (`--follow-symlinks`).
    pub follow_symlinks: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            progress: false,
            max_line: guard::DEFAULT_MAX_LINE,
            max_document: guard::DEFAULT_MAX_DOCUMENT,
            follow_symlinks: false,
        }
    }
}

/// Why ingest could not give a report to work with (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// An argument that does not exist or cannot be reached.
    #[error("{path}: {message} (check the path; sagereport reads result files and directories)")]
    Unreachable { path: String, message: String },
    /// An argument that is a FIFO, a device or a socket.
    #[error("{path}: {what} (give result files or directories)")]
    NotAFile { path: String, what: &'static str },
    /// Two arguments that are the same file or folder, or one inside the other.
    #[error("{}", overlapping(.outer, .inner, *.same))]
    Overlapping { outer: String, inner: String, same: bool },
    /// An argument with no result file in it; `skipped` says what it holds.
    #[error("no result files found under {path}{skipped}")]
    NoResultFiles { path: String, skipped: String },
    /// No record was accepted, and files could not be read (permissions,
    /// not text, over a size limit): those files are the cause.
    #[error("{}", nothing_read(.failures))]
    NothingRead {
        failures: Vec<Problem>,
        report: Box<IngestReport>,
    },
}

fn overlapping(outer: &str, inner: &str, same: bool) -> String {
    let how = if same {
        format!("{outer} and {inner} are the same input")
    } else {
        format!("{inner} is inside {outer}, also an input")
    };
    format!("{how}: its files would be read twice and every run in them counted twice; give each result file or folder once")
}

/// Problem kinds that mean a file (or a line) could not be read at all.
const READ_FAILURES: [ProblemKind; 4] = [
    ProblemKind::Unreadable,
    ProblemKind::NotText,
    ProblemKind::FileTooLarge,
    ProblemKind::LineTooLong,
];

fn nothing_read(failures: &[Problem]) -> String {
    const SHOWN: usize = 10;
    let mut text = String::from("no record could be accepted, because these files could not be read:");
    for p in failures.iter().take(SHOWN) {
        match p.line {
            Some(line) => text.push_str(&format!("\n  {}:{line}: {}", p.file, p.message)),
            None => text.push_str(&format!("\n  {}: {}", p.file, p.message)),
        }
    }
    if failures.len() > SHOWN {
        text.push_str(&format!(
            "\n  … and {} more (sagereport validate lists them all)",
            failures.len() - SHOWN
        ));
    }
    text
}

struct DirOutput {
    files: Vec<(usize, FileSummary)>,
    records: Vec<UnifiedRecord>,
    problems: Vec<Problem>,
    paired: Vec<PairedRun>,
}

/// Read every input. Fails (exit code 2) when an argument cannot be
/// reached at all, is not a file or folder, holds no result file, or when
/// no record was accepted because files could not be read; everything else
/// is reported in the returned problems.
pub fn ingest(inputs: &[PathBuf], options: &IngestOptions) -> Result<IngestReport, InputError> {
    let (entries, unreadable) = discover::walk(inputs, options.follow_symlinks)?;

    let mut problems: Vec<Problem> = unreadable
        .into_iter()
        .map(|(file, message)| Problem {
            file,
            line: None,
            severity: Severity::Error,
            kind: ProblemKind::Unreadable,
            message: format!("cannot read: {message}"),
        })
        .collect();

    // Paired manifests first: they apply to the folders below them.
    // A harness tree holds a manifest per run: read them in parallel, keep
    // them in walk order (a later one for the same folder wins).
    let dir_outputs_first: Vec<DirOutput> = entries
        .par_iter()
        .enumerate()
        .filter(|(_, e)| e.format == Ok(Format::PairedManifest))
        .map(|(i, e)| {
            let mut sink = FileSink::new(FileId(i as u32), &e.display);
            let is_failure = e.path.file_name().map(|n| n == "failure_report.json").unwrap_or(false);
            let run = read_document(&e.path, options.max_document, &mut sink)
                .and_then(|bytes| manifest::read_paired(&bytes, &mut sink, is_failure));
            sink.finish();
            DirOutput {
                files: vec![(i, summary(e, Format::PairedManifest, sink.tally, None))],
                records: Vec::new(),
                problems: sink.problems,
                paired: run.into_iter().collect(),
            }
        })
        .collect();
    let mut paired_by_dir: HashMap<PathBuf, PairedRun> = HashMap::new();
    for out in &dir_outputs_first {
        for run in &out.paired {
            let dir = entries[out.files[0].0]
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            paired_by_dir.insert(dir, run.clone());
        }
    }

    // Entries come in walk order, so a folder's files mostly follow each
    // other: the map (ordered by path components, which is slow to compare)
    // is consulted only when the folder changes.
    let mut by_dir: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    let mut run: Option<(&Path, Vec<usize>)> = None;
    for (i, e) in entries.iter().enumerate() {
        if e.format == Ok(Format::PairedManifest) {
            continue;
        }
        let dir = e.path.parent().unwrap_or(Path::new(""));
        match &mut run {
            Some((current, files)) if current.as_os_str() == dir.as_os_str() => files.push(i),
            _ => {
                if let Some((done, files)) = run.replace((dir, vec![i])) {
                    by_dir.entry(done.to_path_buf()).or_default().extend(files);
                }
            }
        }
    }
    if let Some((done, files)) = run {
        by_dir.entry(done.to_path_buf()).or_default().extend(files);
    }
    let dirs: Vec<(PathBuf, Vec<usize>)> = by_dir.into_iter().collect();

    let bar = progress_bar(options.progress, dirs.len() as u64);
    let outputs: Vec<DirOutput> = dirs
        .par_iter()
        .map(|(dir, idxs)| {
            let paired = nearest_paired(dir, &paired_by_dir).map(|r| &r.config);
            let out = read_dir(&entries, idxs, paired, options);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            out
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let mut files: Vec<Option<FileSummary>> = vec![None; entries.len()];
    let mut outputs: Vec<DirOutput> = dir_outputs_first.into_iter().chain(outputs).collect();
    let mut records = merge_records(&mut outputs);
    let mut paired_runs = Vec::new();
    let mut per_file_problems: Vec<Vec<Problem>> = vec![Vec::new(); entries.len()];
    for out in outputs {
        let first_file = out.files.first().map(|(i, _)| *i);
        for (i, s) in out.files {
            files[i] = Some(s);
        }
        paired_runs.extend(out.paired);
        if let Some(first) = first_file {
            per_file_problems[first].extend(out.problems);
        }
    }
    let mut files: Vec<FileSummary> = files.into_iter().map(|f| f.expect("every entry summarized")).collect();
    count_copies_once(&mut records, &mut files, &mut per_file_problems);
    for group in per_file_problems {
        problems.extend(group);
    }

    let mut totals = Totals::default();
    for f in files.iter().filter(|f| f.format.holds_records()) {
        totals.accepted += f.tally.accepted;
        totals.rejected += f.tally.rejected;
        totals.twins_merged += f.tally.twins_merged;
        totals.duplicates += f.tally.duplicates;
    }
    totals.read = totals.accepted + totals.rejected;

    let report = IngestReport {
        inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
        files,
        records,
        problems,
        totals,
        paired_runs,
    };
    if report.totals.accepted == 0 {
        let failures: Vec<Problem> = report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error && READ_FAILURES.contains(&p.kind))
            .cloned()
            .collect();
        if !failures.is_empty() {
            return Err(InputError::NothingRead {
                failures,
                report: Box::new(report),
            });
        }
    }
    Ok(report)
}

/// Records that repeat a record of another file of the same input (a copied
/// result folder, [`copies`]) are dropped and counted as duplicates of the
/// file they are in, with one warning per pair of files.
fn count_copies_once(records: &mut Vec<UnifiedRecord>, files: &mut [FileSummary], problems: &mut [Vec<Problem>]) {
    let (copied, pairs) = copies::find(records, |f| files[f as usize].input);
    if copied.is_empty() {
        return;
    }
    for p in pairs {
        let (file, of) = (p.file as usize, p.of_file as usize);
        files[file].tally.accepted -= p.count;
        files[file].tally.duplicates += p.count;
        let (what, are) = if p.count == 1 {
            ("record", "is")
        } else {
            ("records", "are")
        };
        problems[file].push(Problem {
            file: files[file].path.clone(),
            line: Some(p.first_line),
            severity: Severity::Warning,
            kind: ProblemKind::DuplicateRecord,
            message: format!(
                "{} {what} here {are} the same measurement as in {} (line {} here is line {} there: every unified field equal, the timestamp to the microsecond): a copy, counted once",
                p.count, files[of].path, p.first_line, p.of_line
            ),
        });
    }
    let mut dropped = copied.into_iter().peekable();
    let mut index = 0;
    records.retain(|_| {
        let keep = dropped.peek() != Some(&index);
        if !keep {
            dropped.next();
        }
        index += 1;
        keep
    });
}

fn progress_bar(wanted: bool, len: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !wanted || !std::io::stderr().is_terminal() || len < 2 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} reading {pos}/{len} folders {wide_bar} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Every folder's records, in folder order, moved into one array (emptying
/// each folder's). The copying runs in parallel, about 64 MiB of records
/// at a time; after each batch the emptied buffers are returned to the OS,
/// so the peak stays near one copy of the records.
fn merge_records(outputs: &mut [DirOutput]) -> Vec<UnifiedRecord> {
    let mut parts: Vec<&mut Vec<UnifiedRecord>> = outputs.iter_mut().map(|o| &mut o.records).collect();
    let batch = (64 << 20) / std::mem::size_of::<UnifiedRecord>().max(1);
    merge_in_batches(&mut parts, batch, crate::util::memory::release_freed)
}

/// `parts` moved, in order, into one array (each part left empty), about
/// `batch` items at a time, copied in parallel, `after_batch` called after
/// each batch.
fn merge_in_batches<T: Send>(parts: &mut [&mut Vec<T>], batch: usize, after_batch: impl Fn()) -> Vec<T> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut merged: Vec<T> = Vec::with_capacity(total);
    let mut rest = parts;
    while !rest.is_empty() {
        // At least one part, then parts while the batch is not full.
        let mut take = 0;
        let mut count = 0;
        while take < rest.len() && (take == 0 || count < batch) {
            count += rest[take].len();
            take += 1;
        }
        let (now, later) = rest.split_at_mut(take);
        rest = later;
        let filled = merged.len();
        let mut slots: &mut [std::mem::MaybeUninit<T>] = &mut merged.spare_capacity_mut()[..count];
        let mut jobs = Vec::with_capacity(now.len());
        for part in now.iter_mut() {
            let (head, tail) = slots.split_at_mut(part.len());
            slots = tail;
            jobs.push((std::mem::take(&mut **part), head));
        }
        jobs.into_par_iter().for_each(|(from, to)| {
            for (slot, item) in to.iter_mut().zip(from) {
                slot.write(item);
            }
        });
        // SAFETY: the `count` slots after `filled` were each written once
        // above: every part's slice is exactly its length.
        unsafe { merged.set_len(filled + count) };
        after_batch();
    }
    merged
}

fn nearest_paired<'a>(dir: &Path, paired: &'a HashMap<PathBuf, PairedRun>) -> Option<&'a PairedRun> {
    if paired.is_empty() {
        return None;
    }
    dir.ancestors().find_map(|d| paired.get(d))
}

fn summary(e: &Entry, format: Format, tally: Tally, skipped: Option<String>) -> FileSummary {
    FileSummary {
        path: e.display.clone(),
        format,
        tally,
        skipped,
        input: e.input,
        stamp: None,
    }
}

/// Open a regular file for streaming, after checking that its first bytes
/// are text: the reader and the file's size. A problem is reported to
/// `sink` and `None` returned.
fn open_text(path: &Path, sink: &mut FileSink<'_>) -> Option<(BufReader<File>, u64)> {
    let opened = guard::open_regular(path).and_then(|file| {
        // A small file gets a buffer of its size (a harness tree holds
        // thousands of files of a few KiB; a fresh 128 KiB buffer each cost
        // page faults), a large one 128 KiB.
        let size = file.metadata()?.len();
        let capacity = size.saturating_add(1).clamp(8 << 10, 128 << 10) as usize;
        let mut reader = BufReader::with_capacity(capacity, file);
        let head = reader.fill_buf()?;
        Ok((guard::sniff(head), (reader, size)))
    });
    match opened {
        Ok((None, opened)) => Some(opened),
        Ok((Some(why), _)) => {
            sink.error(None, ProblemKind::NotText, format!("{why}; not read"));
            None
        }
        Err(err) => {
            sink.error(None, ProblemKind::Unreadable, format!("cannot read: {err}"));
            None
        }
    }
}

/// Read a whole JSON document within `--max-document`; a problem is
/// reported to `sink` and `None` returned.
fn read_document(path: &Path, max: u64, sink: &mut FileSink<'_>) -> Option<Vec<u8>> {
    match guard::read_document(path, max) {
        Ok(bytes) => Some(bytes),
        Err(DocError::Io(err)) => {
            sink.error(None, ProblemKind::Unreadable, format!("cannot read: {err}"));
            None
        }
        Err(DocError::NotText(why)) => {
            sink.error(None, ProblemKind::NotText, format!("{why}; not read"));
            None
        }
        Err(DocError::TooLarge(size)) => {
            sink.error(
                None,
                ProblemKind::FileTooLarge,
                format!(
                    "file is {} ({size} bytes), larger than {} (--max-document); not read (raise --max-document to read it)",
                    format_size(size),
                    format_size(max)
                ),
            );
            None
        }
    }
}

/// Read the files of one folder.
fn read_dir(entries: &[Entry], idxs: &[usize], paired: Option<&PairedConfig>, options: &IngestOptions) -> DirOutput {
    let mut out = DirOutput {
        files: Vec::new(),
        records: Vec::new(),
        problems: Vec::new(),
        paired: Vec::new(),
    };
    let first_path = &entries[idxs[0]].path;
    let facts = path_facts(first_path);

    // 1. repro manifest beside the records.
    let mut repro: Option<ReproManifest> = None;
    for &i in idxs.iter().filter(|&&i| entries[i].format == Ok(Format::ReproManifest)) {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        if let Some(bytes) = read_document(&e.path, options.max_document, &mut sink) {
            repro = manifest::read_repro(&bytes, &mut sink).or(repro);
        }
        finish(&mut out, i, e, Format::ReproManifest, sink, None);
    }
    let ctx = Context {
        path_backend: facts.backend,
        path_run_id: facts.run_id,
        path_config_hash: facts.config_hash,
        path_experiment: facts.experiment,
        repro: repro.as_ref(),
        paired,
        seed_optional: false,
    };

    // 2. JSONL, remembering twin keys for the CSV of the same stem.
    let csv_stems: HashSet<String> = idxs
        .iter()
        .filter(|&&i| entries[i].format == Ok(Format::UnifiedCsv))
        .filter_map(|&i| stem(&entries[i].path))
        .collect();
    let mut twins: HashMap<String, sink::KeySet> = HashMap::new();
    for &i in idxs.iter().filter(|&&i| entries[i].format == Ok(Format::UnifiedJsonl)) {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        let mut foreign = None;
        if let Some((reader, size)) = open_text(&e.path, &mut sink) {
            match jsonl::read(reader, size, &mut sink, &ctx, options.max_line) {
                Ok(skipped) => foreign = skipped,
                Err(err) => sink.error(None, ProblemKind::Unreadable, format!("read failed part-way: {err}")),
            }
        }
        if let Some(s) = stem(&e.path).filter(|s| csv_stems.contains(s)) {
            twins.entry(s).or_default().extend(sink.records.iter().map(twin_key));
        }
        finish(&mut out, i, e, Format::UnifiedJsonl, sink, foreign);
    }

    // 3. CSV, folding twins.
    for &i in idxs.iter().filter(|&&i| entries[i].format == Ok(Format::UnifiedCsv)) {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        let twin_set = stem(&e.path).and_then(|s| twins.get(&s));
        let mut foreign = None;
        if let Some((reader, _)) = open_text(&e.path, &mut sink) {
            match csv::read(reader, &mut sink, &ctx, twin_set, options.max_line) {
                Ok(skipped) => foreign = skipped,
                Err(err) => sink.error(None, ProblemKind::Unreadable, format!("read failed part-way: {err}")),
            }
        }
        finish(&mut out, i, e, Format::UnifiedCsv, sink, foreign);
    }
    drop(twins);

    // 4. JSON documents.
    for &i in idxs.iter().filter(|&&i| entries[i].format == Ok(Format::JsonRecords)) {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        let skipped = match read_document(&e.path, options.max_document, &mut sink) {
            Some(bytes) => match json_doc::read(&bytes, &mut sink, &ctx) {
                json_doc::Sniffed::Records => None,
                json_doc::Sniffed::NotRecords(reason) => Some(reason),
            },
            None => None,
        };
        finish(&mut out, i, e, Format::JsonRecords, sink, skipped);
    }

    // 5. Legacy results, each metrics file with its latencies CSV.
    let mut latencies: HashMap<String, legacy::TaskLatencies> = HashMap::new();
    let metric_stems: HashSet<String> = idxs
        .iter()
        .filter(|&&i| entries[i].format == Ok(Format::LegacyMetrics))
        .filter_map(|&i| legacy_stem(&entries[i].path, "_metrics.json"))
        .collect();
    for &i in idxs
        .iter()
        .filter(|&&i| entries[i].format == Ok(Format::LegacyLatencies))
    {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        let read = open_text(&e.path, &mut sink).map(|(r, _)| legacy::read_latencies(r, &mut sink, options.max_line));
        match read {
            None => {}
            Some(Ok(l)) => {
                let key = legacy_stem(&e.path, "_latencies.csv").unwrap_or_default();
                if metric_stems.contains(&key) {
                    latencies.insert(key, l);
                } else {
                    sink.warning(
                        None,
                        ProblemKind::Suspicious,
                        "no <name>_metrics.json beside it; these per-task latencies belong to no run and are not used",
                    );
                }
            }
            Some(Err(err)) => sink.error(None, ProblemKind::Unreadable, format!("cannot read: {err}")),
        }
        finish(&mut out, i, e, Format::LegacyLatencies, sink, None);
    }
    for &i in idxs.iter().filter(|&&i| entries[i].format == Ok(Format::LegacyMetrics)) {
        let e = &entries[i];
        let mut sink = FileSink::new(FileId(i as u32), &e.display);
        let lat = legacy_stem(&e.path, "_metrics.json").and_then(|k| latencies.remove(&k));
        if let Some(bytes) = read_document(&e.path, options.max_document, &mut sink) {
            legacy::read_metrics(&bytes, &e.path, &facts, &ctx, lat, &mut sink);
        }
        finish(&mut out, i, e, Format::LegacyMetrics, sink, None);
    }

    // 6. Everything else is listed as skipped, with the reason.
    for &i in idxs {
        let e = &entries[i];
        if let Err(reason) = &e.format {
            let orphan_summary =
                e.regular && legacy_stem(&e.path, "_summary.txt").is_some_and(|k| !metric_stems.contains(&k));
            let reason = if orphan_summary {
                "human-readable summary with no *_metrics.json beside it: text is not a result format, \
                 so this run's numbers are not read (restore its *_metrics.json)"
                    .to_string()
            } else {
                reason.clone()
            };
            out.files
                .push((i, summary(e, Format::Skipped, Tally::default(), Some(reason))));
        }
    }
    out.files.sort_by_key(|(i, _)| *i);
    out.problems.sort_by_key(|p| (p.file.clone(), p.line.unwrap_or(0)));
    // Files were read by kind, not in path order; usually one file holds
    // every record and they are in order already.
    if !out.records.is_sorted_by_key(|r| r.source) {
        out.records.sort_by_key(|r| r.source);
    }
    out
}

/// File `e`, read as `format` into `sink`, into `out`; with `skipped`
/// (why the reader found it is not that format), listed as skipped.
fn finish(out: &mut DirOutput, i: usize, e: &Entry, format: Format, mut sink: FileSink<'_>, skipped: Option<String>) {
    let format = if skipped.is_some() { Format::Skipped } else { format };
    sink.finish();
    let mut file = summary(e, format, sink.tally, skipped);
    if sink.records.iter().any(|r| {
        matches!(r.metadata, Some(crate::model::FreeText::InFile { .. }))
            || matches!(r.extra, Some(crate::model::FreeText::InFile { .. }))
    }) {
        file.stamp = FileStamp::of(&e.path);
    }
    out.files.push((i, file));
    out.problems.extend(sink.problems);
    if out.records.is_empty() {
        // Moved, not copied: most folders have one file of records.
        out.records = std::mem::take(&mut sink.records);
    } else {
        out.records.append(&mut sink.records);
    }
}

// Names that are not UTF-8 are matched by their lossy form.
fn stem(path: &Path) -> Option<String> {
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}

fn legacy_stem(path: &Path, suffix: &str) -> Option<String> {
    path.file_name()?
        .to_string_lossy()
        .strip_suffix(suffix)
        .map(str::to_string)
}

#[cfg(test)]
mod merge_tests {
    use super::merge_in_batches;

    #[test]
    fn parts_are_merged_in_order_across_batches() {
        let mut parts: Vec<Vec<String>> = vec![
            (0..3).map(|i| format!("a{i}")).collect(),
            Vec::new(),
            vec!["b0".into()],
            (0..5).map(|i| format!("c{i}")).collect(),
            Vec::new(),
            (0..2).map(|i| format!("d{i}")).collect(),
        ];
        let expected: Vec<String> = parts.concat();
        for batch in [1, 2, 3, 4, 100] {
            let mut copy = parts.clone();
            let mut refs: Vec<&mut Vec<String>> = copy.iter_mut().collect();
            let batches = std::cell::Cell::new(0);
            let merged = merge_in_batches(&mut refs, batch, || batches.set(batches.get() + 1));
            assert_eq!(merged, expected, "batch {batch}");
            assert!(copy.iter().all(Vec::is_empty));
            assert!(
                batches.get() >= 1 && batches.get() <= parts.len(),
                "batch {batch}: {}",
                batches.get()
            );
        }
        parts.clear();
        let mut refs: Vec<&mut Vec<String>> = parts.iter_mut().collect();
        assert!(merge_in_batches(&mut refs, 4, || {}).is_empty());
    }
}
