//! `repro_manifest.json` (applies to the records beside it) and the paired
//! run `manifest.json` / `failure_report.json` (applies to the records
//! below it).

use super::jsonl::json_error_message;
use super::sink::FileSink;
use crate::model::normalize::{PairedConfig, ReproManifest};
use crate::model::raw::Val;
use crate::model::{ProblemKind, Scheduler, Sym};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReproDoc<'a> {
    #[serde(borrow)]
    seed: Option<Val<'a>>,
    #[serde(borrow)]
    config_hash: Option<Val<'a>>,
    #[serde(borrow)]
    warmup_items: Option<Val<'a>>,
    #[serde(borrow)]
    parity_batch_size: Option<Val<'a>>,
    #[serde(borrow)]
    deterministic_shuffle_version: Option<Val<'a>>,
}

fn count(name: &str, v: &Option<Val>, sink: &mut FileSink<'_>) -> Option<u64> {
    match v {
        None | Some(Val::Null) => None,
        Some(Val::UInt(u)) => Some(*u),
        Some(Val::Int(i)) if *i >= 0 => Some(*i as u64),
        // Exact only up to 2^53: larger floats may already have lost digits.
        Some(Val::Float(x)) if *x >= 0.0 && x.fract() == 0.0 && *x <= 9_007_199_254_740_992.0 => Some(*x as u64),
        Some(Val::Str(s)) if s.trim().parse::<u64>().is_ok() => s.trim().parse().ok(),
        Some(_) => {
            sink.warning(
                None,
                ProblemKind::InvalidValue,
                format!("{name} is not a non-negative integer; ignored"),
            );
            None
        }
    }
}

fn text(v: &Option<Val>) -> Option<Sym> {
    match v {
        Some(Val::Str(s)) if !s.trim().is_empty() => Some(Sym::new(s.trim())),
        Some(Val::Int(i)) => Some(Sym::new(&i.to_string())),
        Some(Val::UInt(u)) => Some(Sym::new(&u.to_string())),
        _ => None,
    }
}

/// Read a `repro_manifest.json`. Problems go to `sink`; `None` when unusable.
pub fn read_repro(bytes: &[u8], sink: &mut FileSink<'_>) -> Option<ReproManifest> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        sink.warning(
            None,
            ProblemKind::EmptyFile,
            "repro manifest is empty; the records beside it are read without it",
        );
        return None;
    }
    let doc: ReproDoc = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => {
            sink.error(
                Some(e.line().max(1) as u32),
                ProblemKind::MalformedJson,
                json_error_message(&e),
            );
            return None;
        }
    };
    let shuffle = text(&doc.deterministic_shuffle_version).map(|v| {
        // Upstream writes "v1" here and "deterministic_shuffle_v1" elsewhere.
        let s = v.as_str();
        if s.starts_with("deterministic_shuffle") {
            v
        } else {
            Sym::new(&format!("deterministic_shuffle_{s}"))
        }
    });
    Some(ReproManifest {
        seed: count("seed", &doc.seed, sink),
        config_hash: text(&doc.config_hash),
        warmup_items: count("warmup_items", &doc.warmup_items, sink),
        parity_batch_size: count("parity_batch_size", &doc.parity_batch_size, sink),
        shuffle_version: shuffle,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PairedDoc<'a> {
    #[serde(borrow)]
    status: Option<Val<'a>>,
    #[serde(borrow)]
    run_id: Option<Val<'a>>,
    #[serde(borrow)]
    config_hash: Option<Val<'a>>,
    config: Option<PairedConfigDoc<'a>>,
    #[serde(borrow)]
    error: Option<Val<'a>>,
    #[serde(borrow)]
    logs_dir: Option<Val<'a>>,
    #[serde(borrow)]
    started_at: Option<Val<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PairedConfigDoc<'a> {
    #[serde(borrow)]
    scheduler: Option<Val<'a>>,
    #[serde(borrow)]
    items: Option<Val<'a>>,
    #[serde(borrow)]
    parallelism: Option<Val<'a>>,
    #[serde(borrow)]
    nodes: Option<Val<'a>>,
    #[serde(borrow)]
    seed: Option<Val<'a>>,
}

/// A paired run as its manifest describes it (reported by `compare`).
#[derive(Clone, Debug, Serialize)]
pub struct PairedRun {
    pub manifest: String,
    pub status: String,
    pub run_id: Option<Sym>,
    pub config_hash: Option<Sym>,
    pub error: Option<String>,
    #[serde(skip)]
    pub config: PairedConfig,
}

/// Read a paired-run manifest. A failed run is a warning, not an error: its
/// surviving results are still read.
pub fn read_paired(bytes: &[u8], sink: &mut FileSink<'_>, is_failure_report: bool) -> Option<PairedRun> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: PairedDoc = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => {
            sink.error(
                Some(e.line().max(1) as u32),
                ProblemKind::MalformedJson,
                json_error_message(&e),
            );
            return None;
        }
    };
    let status = text(&doc.status).map(|s| s.as_str().to_string()).unwrap_or_else(|| {
        if is_failure_report {
            "failed".into()
        } else {
            "unknown".into()
        }
    });
    let error = match &doc.error {
        Some(Val::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    if status != "success" {
        let logs = match &doc.logs_dir {
            Some(Val::Str(s)) => format!("; logs: {s}"),
            _ => String::new(),
        };
        let started = match &doc.started_at {
            Some(Val::Str(s)) => format!(" (started {s})"),
            _ => String::new(),
        };
        // Upstream writes "success" or "failed"; another word is named as
        // written rather than read as a failure it may not be.
        let what = match status.as_str() {
            "failed" | "unknown" | "incomplete" => format!("paired run {status}"),
            other => format!("paired run status {other:?} (not \"success\")"),
        };
        sink.warning(
            None,
            ProblemKind::PairedRunFailed,
            format!(
                "{what}{started}: {}{logs}; results of the side that finished are still read",
                error.as_deref().unwrap_or("no error message")
            ),
        );
    }
    let cfg = doc.config.unwrap_or_default();
    let scheduler = text(&cfg.scheduler).and_then(|s| Scheduler::parse(s.as_str(), None));
    let config = PairedConfig {
        scheduler,
        items: count("config.items", &cfg.items, sink),
        parallelism: count("config.parallelism", &cfg.parallelism, sink).and_then(|v| match u32::try_from(v) {
            Ok(p) => Some(p),
            Err(_) => {
                sink.warning(
                    None,
                    ProblemKind::OutOfRange,
                    format!(
                        "config.parallelism is {v}; it does not fit (at most {}); ignored",
                        u32::MAX
                    ),
                );
                None
            }
        }),
        nodes: count("config.nodes", &cfg.nodes, sink).map(|v| v as u32),
        seed: count("config.seed", &cfg.seed, sink),
    };
    Some(PairedRun {
        manifest: sink.display.to_string(),
        status,
        run_id: text(&doc.run_id),
        config_hash: text(&doc.config_hash),
        error,
        config,
    })
}
