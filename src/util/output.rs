//! Output ownership: the only door through which a command replaces a
//! folder or a file it writes.
//!
//! Every folder sagereport writes carries a small marker file ([`MARKER`])
//! naming the tool, the command and the version. A command replaces an
//! output folder only when it is absent, empty, or carries that marker; an
//! output file only when it is absent, empty, or one sagereport wrote. An
//! output equal to, inside, or holding one of the command's inputs is
//! refused. Refusals happen before any work starts and are exit 2.
//!
//! Replacement is "fill a temporary sibling, then rename": the output is the
//! previous complete one or the new complete one, never half-written. A lock
//! file beside the output serialises two commands writing the same path
//! (the second waits); temporary siblings of a killed run (`.NAME.tmp-PID`,
//! `.NAME.old-PID`) are removed by the next run once their process is gone.

use anyhow::{anyhow, Context};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// The marker file in every folder sagereport writes.
pub const MARKER: &str = ".sagereport-output";

/// File names sagereport's outputs hold; a folder of only these, without a
/// marker, is probably the output of a version before markers existed.
const KNOWN_OUTPUT_NAMES: [&str; 16] = [
    "summary.md",
    "summary.json",
    "comparison.csv",
    "throughput_comparison.png",
    "throughput_comparison.svg",
    "latency_p95_p99_comparison.png",
    "latency_p95_p99_comparison.svg",
    "report.pdf",
    "tables.tex",
    "tables.md",
    "index.html",
    "history.json",
    "assets",
    "reports",
    "workloads",
    "runs",
];

/// What kind of single file an output is, to recognise one sagereport wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `pdf -o FILE`: a PDF whose metadata names sagereport.
    Pdf,
    /// `compare --pr-comment FILE`: Markdown opening with [`PR_COMMENT_MARKER`].
    PrComment,
}

/// The hidden first line of every PR comment sagereport writes.
pub const PR_COMMENT_MARKER: &str = "<!-- sagereport:benchmark-report -->";

/// The PDF keyword that marks a PDF as sagereport's (see `latex/report.typ`).
pub const PDF_SIGNATURE: &[u8] = b"sagereport-report";

impl FileKind {
    fn noun(self) -> &'static str {
        match self {
            FileKind::Pdf => "a PDF sagereport wrote",
            FileKind::PrComment => "a PR comment sagereport wrote",
        }
    }

    /// Whether `head` (the file's bytes) is an output of this kind.
    /// Whether `file` is one sagereport wrote: its first bytes, and for a
    /// PDF the signature keyword anywhere in it, searched a window at a
    /// time (someone else's 10 GB file is never held in memory).
    fn is_ours(self, file: &mut impl std::io::Read) -> std::io::Result<bool> {
        let prefix: &[u8] = match self {
            FileKind::Pdf => b"%PDF-",
            FileKind::PrComment => PR_COMMENT_MARKER.as_bytes(),
        };
        let mut head = vec![0u8; prefix.len()];
        let n = crate::ingest::guard::read_full(file, &mut head)?;
        if &head[..n] != prefix {
            return Ok(false);
        }
        if self == FileKind::PrComment {
            return Ok(true);
        }
        let finder = memchr::memmem::Finder::new(PDF_SIGNATURE);
        let keep = PDF_SIGNATURE.len() - 1;
        let mut window = head;
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            if finder.find(&window).is_some() {
                return Ok(true);
            }
            let n = crate::ingest::guard::read_full(file, &mut chunk)?;
            if n == 0 {
                return Ok(false);
            }
            // The last bytes of the window stay, so a keyword across two reads is found.
            let tail = window.len().saturating_sub(keep);
            window.drain(..tail);
            window.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The refusal every check returns: `cannot write OUT: WHY; WHAT TO DO`.
fn refuse(shown: &str, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot write {shown}: {why}")
}

/// `path` made absolute with symlinks of its existing part resolved; the
/// part that does not exist yet is normalised lexically (`.` dropped, `..`
/// pops), as the kernel would once it is created.
pub fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let mut existing = abs.as_path();
    let mut tail: Vec<Component<'_>> = Vec::new();
    loop {
        match std::fs::canonicalize(existing) {
            Ok(mut real) => {
                for c in tail.iter().rev() {
                    match c {
                        Component::ParentDir => {
                            real.pop();
                        }
                        Component::CurDir => {}
                        other => real.push(other.as_os_str()),
                    }
                }
                return Ok(real);
            }
            Err(_) => {
                let Some(parent) = existing.parent() else {
                    return Ok(abs);
                };
                tail.push(existing.components().next_back().unwrap_or(Component::CurDir));
                existing = parent;
            }
        }
    }
}

/// The real paths of the inputs, resolved like outputs ([`resolve`]): an
/// input a command has yet to write (`paired`'s run folder) is checked
/// before the work, too.
fn resolve_inputs(inputs: &[PathBuf]) -> Vec<(PathBuf, &Path)> {
    inputs
        .iter()
        .filter_map(|p| resolve(p).ok().map(|real| (real, p.as_path())))
        .collect()
}

/// Refuse an output that is, is inside, or (for folders) holds an input.
fn check_inputs(target: &Path, shown: &str, inputs: &[PathBuf], is_dir: bool) -> anyhow::Result<()> {
    for (real, given) in resolve_inputs(inputs) {
        let given = given.display();
        let why = if real == target {
            format!("it is the input {given}")
        } else if target.starts_with(&real) {
            format!("it is inside the input {given}")
        } else if is_dir && real.starts_with(target) {
            format!("it holds the input {given}, which would be replaced with the output")
        } else {
            continue;
        };
        return Err(refuse(
            shown,
            format!("{why}; choose an output outside your inputs (e.g. a new folder beside them)"),
        ));
    }
    Ok(())
}

/// The marker's content: who wrote the folder, and every entry it wrote
/// (paths relative to the folder, `/`-separated, sorted), so a file someone
/// adds later is recognised as not ours.
#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    tool: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    files: Option<Vec<String>>,
}

fn read_marker(dir: &Path) -> Option<Marker> {
    let marker = dir.join(MARKER);
    match std::fs::symlink_metadata(&marker) {
        Ok(m) if m.is_file() && m.len() < (64 << 20) => {
            let bytes = std::fs::read(&marker).ok()?;
            serde_json::from_slice::<Marker>(&bytes)
                .ok()
                .filter(|m| m.tool == "sagereport")
        }
        _ => None,
    }
}

/// Whether `dir` carries sagereport's marker.
pub fn is_marked(dir: &Path) -> bool {
    read_marker(dir).is_some()
}

/// Every entry below `dir` except the marker, relative and sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.path().strip_prefix(dir).ok().map(rel_string))
        .filter(|rel| rel != MARKER)
        .collect();
    out.sort();
    out
}

fn rel_string(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Entries of the marked folder `dir` that its marker does not list: not
/// sagereport's. A folder inside that carries its own marker is checked
/// against its own list (the runner nests experiment folders this way).
fn foreign_entries(dir: &Path, marker: &Marker) -> Vec<String> {
    let Some(files) = &marker.files else { return Vec::new() };
    let listed: std::collections::HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut foreign = Vec::new();
    let mut walker = walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name().into_iter();
    while let Some(entry) = walker.next() {
        let Ok(entry) = entry else { continue };
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        let rel = rel_string(rel);
        if rel == MARKER || listed.contains(rel.as_str()) {
            continue;
        }
        if entry.file_type().is_dir() {
            walker.skip_current_dir();
            if let Some(inner) = read_marker(entry.path()) {
                foreign.extend(
                    foreign_entries(entry.path(), &inner)
                        .into_iter()
                        .map(|f| format!("{rel}/{f}")),
                );
                continue;
            }
        }
        foreign.push(rel);
    }
    foreign
}

/// Write the marker into `dir` (a folder this command owns), listing what
/// the folder holds now.
pub fn mark(dir: &Path, command: &str) -> anyhow::Result<()> {
    let marker = Marker {
        tool: "sagereport".into(),
        command: command.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        note: "sagereport replaces this folder as a whole and refuses to when it holds files not listed here".into(),
        files: Some(listing(dir)),
    };
    let mut text = serde_json::to_string_pretty(&marker)?;
    text.push('\n');
    std::fs::write(dir.join(MARKER), text).with_context(|| format!("cannot write {}", dir.join(MARKER).display()))
}

/// What a non-folder, non-file path is, for messages.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a file"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file or folder"
    }
}

/// Check that `target` may be replaced by a folder: absent, empty or marked.
fn check_dir_owned(target: &Path, shown: &str) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(shown, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(
            shown,
            "it is a symbolic link; give the folder it points to, or a new folder",
        ));
    }
    if !meta.is_dir() {
        return Err(refuse(
            shown,
            format!("it is {}, not a folder; choose a new folder", kind_of(&meta)),
        ));
    }
    if let Some(marker) = read_marker(target) {
        let foreign = foreign_entries(target, &marker);
        if foreign.is_empty() {
            return Ok(());
        }
        return Err(refuse(
            shown,
            format!(
                "it holds files sagereport did not write: {}; move them elsewhere (sagereport would replace the folder and lose them), or choose another folder",
                list_names(foreign)
            ),
        ));
    }
    let mut names: Vec<String> = std::fs::read_dir(target)
        .map_err(|e| refuse(shown, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let legacy = names.iter().all(|n| {
        KNOWN_OUTPUT_NAMES.contains(&n.as_str()) || n.ends_with(".tex") || n.ends_with(".png") || n.ends_with(".svg")
    });
    let listed = list_names(names.clone());
    let hint = if legacy {
        "it looks like the output of an older sagereport (before output markers): check it and remove it yourself, or choose a new folder"
    } else {
        "choose an empty or new folder, or remove it yourself"
    };
    Err(refuse(
        shown,
        format!("it holds files sagereport did not write: {listed}; {hint}"),
    ))
}

/// The first five names, and how many there are beyond.
fn list_names(mut names: Vec<String>) -> String {
    names.sort();
    let total = names.len();
    names.truncate(5);
    if total > 5 {
        format!("{}, … ({total} entries)", names.join(", "))
    } else {
        names.join(", ")
    }
}

/// Exclusive lock on `parent/.NAME.lock`, held while a command writes NAME.
/// The file is removed on release; a lock taken on a file that was removed
/// meanwhile is retaken on the new one.
struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    fn acquire(parent: &Path, name: &str, shown: &str) -> anyhow::Result<Lock> {
        let path = parent.join(format!(".{name}.lock"));
        let mut told = false;
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| refuse(shown, format!("cannot create the lock file {}: {e}", path.display())))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    if !told {
                        eprintln!("sagereport: waiting for another sagereport that is writing {shown} …");
                        told = true;
                    }
                    file.lock()
                        .map_err(|e| refuse(shown, format!("cannot lock {}: {e}", path.display())))?;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(refuse(shown, format!("cannot lock {}: {e}", path.display())))
                }
            }
            let held = file.metadata().map_err(|e| refuse(shown, e))?;
            match std::fs::metadata(&path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(Lock { file, path }),
                _ => continue,
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Unlink while still holding the lock, then release it.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether process `pid` is alive (or exists under another user).
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Remove `.NAME.tmp-PID` / `.NAME.old-PID` siblings whose process is gone:
/// folders only when they carry the marker (or are empty), files always
/// (only sagereport names files this way).
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.strip_prefix("tmp-").or_else(|| rest.strip_prefix("old-")) else {
            continue;
        };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        if process_alive(pid) && pid as u32 != std::process::id() {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let empty = std::fs::read_dir(&path)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if is_marked(&path) || empty {
                let _ = std::fs::remove_dir_all(&path);
            }
        } else if meta.is_file() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Where an output lives: its real path split into parent and name, and
/// the path as the user typed it (for messages).
struct Place {
    target: PathBuf,
    parent: PathBuf,
    name: String,
    shown: String,
}

fn place(out: &Path) -> anyhow::Result<Place> {
    let shown = out.display().to_string();
    if out.as_os_str().is_empty() {
        return Err(anyhow!(
            "cannot write an output to an empty path; name a folder or file"
        ));
    }
    let target = resolve(out).map_err(|e| refuse(&shown, e))?;
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(refuse(&shown, "it is the root folder; choose a new folder"));
    };
    let name = name
        .to_str()
        .ok_or_else(|| refuse(&shown, "its name is not valid UTF-8; choose another name"))?
        .to_string();
    Ok(Place {
        parent: parent.to_path_buf(),
        name,
        target,
        shown,
    })
}

fn symlink_at(out: &Path) -> bool {
    std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink())
}

/// For commands that never replace anything (`synth`): `out` must be absent
/// or an empty folder; `why` says why.
pub fn require_new_dir(out: &Path, why: &str) -> anyhow::Result<()> {
    let shown = out.display().to_string();
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(refuse(&shown, e)),
        Ok(m) if !m.is_dir() => Err(refuse(
            &shown,
            format!("it is {}, not a folder; choose a new folder", kind_of(&m)),
        )),
        Ok(_) => match std::fs::read_dir(out).map(|mut d| d.next().is_none()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(refuse(
                &shown,
                format!("the folder is not empty; choose a new folder ({why})"),
            )),
            Err(e) => Err(refuse(&shown, e)),
        },
    }
}

/// Create the parent folder if needed and take the lock into `slot` (once);
/// `still_ours` is checked again under the lock, as another command may have
/// written the output meanwhile. Stale temporaries are removed then.
fn lock_once(
    slot: &std::sync::Mutex<Option<Lock>>,
    place: &Place,
    still_ours: impl Fn() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut held = slot.lock().unwrap_or_else(|e| e.into_inner());
    if held.is_some() {
        return Ok(());
    }
    let Place {
        parent, name, shown, ..
    } = place;
    std::fs::create_dir_all(parent).map_err(|e| {
        refuse(
            shown,
            format!("cannot create its parent folder {}: {e}", parent.display()),
        )
    })?;
    let lock = Lock::acquire(parent, name, shown)?;
    still_ours()?;
    clean_stale(parent, name);
    *held = Some(lock);
    Ok(())
}

/// An output folder this command may replace, locked until dropped.
pub struct OutputDir {
    place: Place,
    command: &'static str,
    /// Taken at claim time when the parent folder exists; otherwise when the
    /// output is first written (a refused or failed run creates nothing).
    lock: std::sync::Mutex<Option<Lock>>,
}

/// Check that `out` may be written as `command`'s output folder, then lock
/// it. Refuses (before any work) an output that holds foreign files, is not
/// a folder, is a symbolic link, is or holds the current folder, or
/// overlaps `inputs`. Creates nothing.
pub fn claim_dir(out: &Path, command: &'static str, inputs: &[PathBuf]) -> anyhow::Result<OutputDir> {
    let place = preflight_dir(out, inputs)?;
    let claim = OutputDir {
        place,
        command,
        lock: std::sync::Mutex::new(None),
    };
    if claim.place.parent.is_dir() {
        claim.lock_now()?;
    }
    Ok(claim)
}

/// The checks of [`claim_dir`] without taking the lock or creating
/// anything: for commands that check all their outputs before starting.
pub fn check_dir(out: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    preflight_dir(out, inputs).map(|_| ())
}

fn preflight_dir(out: &Path, inputs: &[PathBuf]) -> anyhow::Result<Place> {
    let place = place(out)?;
    if symlink_at(out) {
        return Err(refuse(
            &place.shown,
            "it is a symbolic link; give the folder it points to, or a new folder",
        ));
    }
    if let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) {
        if cwd.starts_with(&place.target) {
            let what = if cwd == place.target {
                "it is the current folder"
            } else {
                "it holds the current folder"
            };
            return Err(refuse(
                &place.shown,
                format!("{what}, and an output folder is replaced as a whole; write into a subfolder instead (e.g. -o report)"),
            ));
        }
    }
    check_inputs(&place.target, &place.shown, inputs, true)?;
    check_dir_owned(&place.target, &place.shown)?;
    Ok(place)
}

impl OutputDir {
    /// Create the parent folder if needed and take the lock (once); checked
    /// again under the lock, as another command may have written it meanwhile.
    fn lock_now(&self) -> anyhow::Result<()> {
        lock_once(&self.lock, &self.place, || {
            check_dir_owned(&self.place.target, &self.place.shown)
        })
    }

    /// The folder's real path.
    pub fn path(&self) -> &Path {
        &self.place.target
    }

    /// Mark the folder as this command's and create it if needed, for
    /// outputs filled in place (the runner's paired side folders).
    pub fn create_in_place(&self) -> anyhow::Result<()> {
        self.lock_now()?;
        std::fs::create_dir_all(&self.place.target).map_err(|e| refuse(&self.place.shown, e))?;
        mark(&self.place.target, self.command)
    }

    /// Mark the folder again, listing what it holds now (after filling it in place).
    pub fn seal(&self) -> anyhow::Result<()> {
        mark(&self.place.target, self.command)
    }

    /// Fill a temporary sibling (marked) with `fill`, then swap it in for
    /// the output, so a crash never leaves a half-written output.
    pub fn replace<T>(&self, fill: impl FnOnce(&Path) -> anyhow::Result<T>) -> anyhow::Result<T> {
        self.lock_now()?;
        let Place {
            target,
            parent,
            name,
            shown,
        } = &self.place;
        let pid = std::process::id();
        let tmp = parent.join(format!(".{name}.tmp-{pid}"));
        if std::fs::symlink_metadata(&tmp).is_ok() {
            std::fs::remove_dir_all(&tmp)
                .map_err(|e| refuse(shown, format!("cannot remove {}: {e}", tmp.display())))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| {
            refuse(
                shown,
                format!("cannot create the temporary folder {}: {e}", tmp.display()),
            )
        })?;
        // Marked first (so a killed run's folder is recognised as ours), and
        // again when filled, listing what it holds.
        let filled = mark(&tmp, self.command)
            .and_then(|()| fill(&tmp))
            .and_then(|v| mark(&tmp, self.command).map(|()| v));
        let value = match filled {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        // Someone may have put a file there while we worked: never swap it away.
        if let Err(e) = check_dir_owned(target, shown) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.context("it changed while sagereport was writing; nothing was replaced"));
        }
        let old = parent.join(format!(".{name}.old-{pid}"));
        let had_previous = std::fs::symlink_metadata(target).is_ok();
        if had_previous {
            if let Err(e) = std::fs::rename(target, &old) {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(refuse(shown, format!("cannot move the previous output aside: {e}")));
            }
        }
        if let Err(e) = std::fs::rename(&tmp, target) {
            if had_previous {
                let _ = std::fs::rename(&old, target);
            }
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(refuse(shown, format!("cannot move the new output into place: {e}")));
        }
        if had_previous {
            if let Err(e) = std::fs::remove_dir_all(&old) {
                eprintln!(
                    "sagereport: warning: cannot remove the previous output {}: {e}",
                    old.display()
                );
            }
        }
        Ok(value)
    }
}

/// An output file this command may replace, locked until dropped.
pub struct OutputFile {
    place: Place,
    kind: FileKind,
    lock: std::sync::Mutex<Option<Lock>>,
}

/// Check that `out` may be written as a single output file of `kind`:
/// absent, an empty regular file, or a regular file sagereport wrote (never
/// a device, FIFO, socket, folder or symbolic link); not an input or inside
/// one. Locks it until the returned value is dropped. Creates nothing.
pub fn claim_file(out: &Path, kind: FileKind, inputs: &[PathBuf]) -> anyhow::Result<OutputFile> {
    let place = preflight_file(out, kind, inputs)?;
    let claim = OutputFile {
        place,
        kind,
        lock: std::sync::Mutex::new(None),
    };
    if claim.place.parent.is_dir() {
        claim.lock_now()?;
    }
    Ok(claim)
}

/// The checks of [`claim_file`] without taking the lock or creating anything.
pub fn check_file(out: &Path, kind: FileKind, inputs: &[PathBuf]) -> anyhow::Result<()> {
    preflight_file(out, kind, inputs).map(|_| ())
}

fn preflight_file(out: &Path, kind: FileKind, inputs: &[PathBuf]) -> anyhow::Result<Place> {
    let place = place(out)?;
    check_inputs(&place.target, &place.shown, inputs, false)?;
    check_file_owned(out, &place, kind)?;
    Ok(place)
}

fn check_file_owned(out: &Path, place: &Place, kind: FileKind) -> anyhow::Result<()> {
    let shown = &place.shown;
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
            return Err(refuse(shown, "a part of its path is a file, not a folder"));
        }
        Err(e) => return Err(refuse(shown, e)),
    };
    if !meta.is_file() {
        let what = kind_of(&meta);
        return Err(refuse(
            shown,
            format!("it is {what}; sagereport only replaces a regular file it wrote — choose a new file name"),
        ));
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let ours = std::fs::File::open(out)
        .and_then(|mut file| kind.is_ours(&mut file))
        .map_err(|e| refuse(shown, e))?;
    if ours {
        Ok(())
    } else {
        Err(refuse(
            shown,
            format!(
                "the file exists and is not {}; choose a new file name, or remove it yourself",
                kind.noun()
            ),
        ))
    }
}

impl OutputFile {
    fn lock_now(&self) -> anyhow::Result<()> {
        lock_once(&self.lock, &self.place, || {
            check_file_owned(&self.place.target, &self.place, self.kind)
        })
    }

    /// Write `bytes` to a temporary sibling, then rename it over the output.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        self.lock_now()?;
        let Place {
            target,
            parent,
            name,
            shown,
        } = &self.place;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let written = File::create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(refuse(shown, e));
        }
        std::fs::rename(&tmp, target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            refuse(shown, e)
        })
    }
}

/// Write `files` (paths relative to `dir`, `/`-separated; parent folders
/// created) into `dir`, a folder this command owns — the temporary sibling
/// of [`OutputDir::replace`] or a folder inside it. The one place rendered
/// bytes become files.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    for (name, bytes) in files {
        let rel = Path::new(name);
        if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(anyhow!("{name:?} is not a file name inside the output folder"));
        }
        let path = dir.join(rel);
        if let Some(parent) = path.parent().filter(|p| *p != dir) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_is_recognised_by_its_keyword_anywhere_read_a_window_at_a_time() {
        let body = |at: usize| {
            let mut pdf = b"%PDF-1.7\n".to_vec();
            pdf.resize(at, b'x');
            pdf.extend_from_slice(PDF_SIGNATURE);
            pdf.resize(3 << 20, b'y');
            pdf
        };
        // Across the first window's end, inside a later one, and absent.
        for at in [(1 << 20) - 3, (1 << 20) + 5 - 8, (2 << 20) + 17] {
            assert!(FileKind::Pdf.is_ours(&mut body(at).as_slice()).unwrap(), "{at}");
        }
        let mut other = b"%PDF-1.7\n".to_vec();
        other.resize(3 << 20, b'z');
        assert!(!FileKind::Pdf.is_ours(&mut other.as_slice()).unwrap());
        assert!(!FileKind::Pdf.is_ours(&mut &b"%PD"[..]).unwrap());
        assert!(!FileKind::Pdf.is_ours(&mut &b"PK\x03\x04"[..]).unwrap());
    }

    #[test]
    fn resolve_normalises_the_missing_tail() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(resolve(&dir.path().join("a/./b/../c")).unwrap(), real.join("a/c"));
        assert_eq!(resolve(&dir.path().join(".")).unwrap(), real);
    }

    #[test]
    fn a_folder_with_foreign_files_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("home");
        std::fs::create_dir_all(out.join(".ssh")).unwrap();
        std::fs::write(out.join("thesis.tex"), "x").unwrap();
        let err = claim_dir(&out, "compare", &[]).err().unwrap().to_string();
        assert!(
            err.contains("holds files sagereport did not write: .ssh, thesis.tex"),
            "{err}"
        );
        assert!(out.join("thesis.tex").exists());
    }

    #[test]
    fn marked_and_empty_folders_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let claim = claim_dir(&out, "compare", &[]).unwrap();
        claim.replace(|tmp| Ok(std::fs::write(tmp.join("a"), "1")?)).unwrap();
        assert!(is_marked(&out));
        claim.replace(|tmp| Ok(std::fs::write(tmp.join("b"), "2")?)).unwrap();
        assert!(!out.join("a").exists() && out.join("b").exists());
        drop(claim);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from("out")],
            "no lock or temporary sibling left"
        );
    }

    #[test]
    fn inputs_are_outside_the_blast_radius() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir_all(input.join("sub")).unwrap();
        std::fs::write(input.join("sub/a.jsonl"), "").unwrap();
        let inputs = vec![input.join("sub")];
        for (out, why) in [
            (input.join("sub"), "it is the input"),
            (input.join("sub/r"), "inside the input"),
            (input.clone(), "it holds the input"),
        ] {
            let err = check_dir(&out, &inputs).err().unwrap().to_string();
            assert!(err.contains(why), "{out:?}: {err}");
        }
        assert!(check_dir(&dir.path().join("report"), &inputs).is_ok());
    }

    #[test]
    fn stale_siblings_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        // A pid that is not running: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".out.tmp-{dead}"));
        std::fs::create_dir(&stale).unwrap();
        mark(&stale, "compare").unwrap();
        let foreign = dir.path().join(format!(".out.old-{dead}"));
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("mine.txt"), "x").unwrap();
        let _claim = claim_dir(&dir.path().join("out"), "compare", &[]).unwrap();
        assert!(!stale.exists(), "a marked temporary folder of a dead run is removed");
        assert!(
            foreign.exists(),
            "an unmarked folder is never removed, whatever its name"
        );
    }

    #[test]
    fn single_files_only_replace_their_own_kind() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("r.pdf");
        std::fs::write(&pdf, b"%PDF-1.7 not ours").unwrap();
        assert!(claim_file(&pdf, FileKind::Pdf, &[])
            .err()
            .unwrap()
            .to_string()
            .contains("not a PDF sagereport wrote"));
        std::fs::write(&pdf, [b"%PDF-1.7 ".as_slice(), PDF_SIGNATURE].concat()).unwrap();
        claim_file(&pdf, FileKind::Pdf, &[])
            .unwrap()
            .write(b"%PDF-new")
            .unwrap();
        assert_eq!(std::fs::read(&pdf).unwrap(), b"%PDF-new");
        let err = claim_file(dir.path(), FileKind::Pdf, &[]).err().unwrap().to_string();
        assert!(err.contains("it is a folder"), "{err}");
        let err = claim_file(Path::new("/dev/null"), FileKind::Pdf, &[])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("it is a device"), "{err}");
    }
}
