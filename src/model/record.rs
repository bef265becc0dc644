//! The unified record (SPEC §3) after validation and normalization.

use super::config_hash::WorkloadShape;
use super::dimensions::Dimensions;
use super::intern::{FastHash, Sym};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Index of an input file in [`crate::ingest::IngestReport::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Where a record came from: its file and 1-based line (the CSV header is
/// line 1; for a JSON document, the line where the record's object opens).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceRef {
    pub file: FileId,
    pub line: u32,
}

/// One accepted benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct UnifiedRecord {
    pub backend: Sym,
    pub workload: Sym,
    pub run_id: Sym,
    /// `None` only for legacy `*_metrics.json` results, which carry no seed.
    pub seed: Option<u64>,
    pub nodes: u32,
    pub parallelism: u32,
    /// items/s
    pub throughput: f64,
    /// ms
    pub latency_p50: Option<f64>,
    pub latency_p95: Option<f64>,
    pub latency_p99: Option<f64>,
    /// fraction in [0, 1]
    pub success_rate: Option<f64>,
    pub duration_seconds: f64,
    /// ISO-8601 as written by the input.
    pub timestamp: Timestamp,
    /// Upstream's `config_hash`, kept as given (it includes the backend name).
    pub config_hash: Option<Sym>,
    pub backend_hash: Option<Sym>,
    /// Backend-neutral sha256 of the workload shape.
    pub shape_hash: Sym,
    /// `run_id=` and `config_hash=` path segments above the file.
    pub path_run_id: Option<Sym>,
    pub path_config_hash: Option<Sym>,
    /// The free-form objects as written (upstream uses both names).
    pub metadata: Option<FreeText>,
    pub extra: Option<FreeText>,
    pub dims: DimsId,
    /// Shared: the records of one run derive the same measurements from
    /// the same free-form objects, so they hold one copy between them.
    pub measured: Option<Arc<Measured>>,
    pub source: SourceRef,
}

/// A record's timestamp, exactly as written. The harness writes
/// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (Python's `isoformat()` in UTC);
/// that form is held as its digits (no allocation per record, a third of
/// the bytes), anything else as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// The 14 digits of date and time as one number, the 6 of the microseconds.
    Harness {
        date_time: u64,
        micros: u32,
    },
    Text(Box<str>),
}

impl Timestamp {
    /// Length of the harness form.
    const HARNESS_LEN: usize = 32;

    pub fn new(text: &str) -> Timestamp {
        let b = text.as_bytes();
        let shape_ok = b.len() == Self::HARNESS_LEN
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && &b[26..] == b"+00:00";
        // The digits at `positions` (byte ranges) as one number.
        let digits = |positions: &[(usize, usize)]| -> Option<u64> {
            let mut n: u64 = 0;
            for &(from, to) in positions {
                for &c in &b[from..to] {
                    if !c.is_ascii_digit() {
                        return None;
                    }
                    n = n * 10 + u64::from(c - b'0');
                }
            }
            Some(n)
        };
        if shape_ok {
            if let (Some(date_time), Some(micros)) = (
                digits(&[(0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)]),
                digits(&[(20, 26)]),
            ) {
                return Timestamp::Harness {
                    date_time,
                    micros: micros as u32,
                };
            }
        }
        Timestamp::Text(text.into())
    }

    /// The text as written, in `buf` when it has to be rebuilt.
    pub fn as_str<'a>(&'a self, buf: &'a mut [u8; 32]) -> &'a str {
        match self {
            Timestamp::Text(t) => t,
            Timestamp::Harness { date_time, micros } => {
                let mut n = *date_time;
                let mut m = *micros;
                *buf = *b"0000-00-00T00:00:00.000000+00:00";
                for i in [18, 17, 15, 14, 12, 11, 9, 8, 6, 5, 3, 2, 1, 0] {
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                for i in (20..26).rev() {
                    buf[i] = b'0' + (m % 10) as u8;
                    m /= 10;
                }
                std::str::from_utf8(buf).expect("ASCII digits and separators")
            }
        }
    }
}

/// Where a free-form object's text (`metadata`, `extra`) is. The text
/// is written again only in `comparison.csv`, and a harness may write
/// objects that differ record by record (a scheduler's running counters),
/// so for records read from JSON the text stays in the file: memory grows
/// with the records' fixed fields, not with their objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeText {
    /// Held in memory: a CSV cell (unescaped, so not a span of the file).
    Interned(Sym),
    /// `len` bytes at byte `offset` of the record's source file, exactly
    /// as written (read back by `comparison.csv`).
    InFile { offset: u64, len: u32 },
}

/// Per-run measurements beyond the required fields; absent for most
/// unified records, so they live behind one pointer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    pub successful_tasks: Option<u64>,
    pub failed_tasks: Option<u64>,
    pub avg_latency_ms: Option<f64>,
    pub scheduling_ms: Option<f64>,
    pub queue_ms: Option<f64>,
    pub execution_ms: Option<f64>,
    pub node_distribution: Option<Box<[(Sym, u64)]>>,
    pub balance_score: Option<f64>,
    /// Per-task end-to-end latencies in ms (legacy results), held once.
    pub task_latencies_ms: Option<Box<[f64]>>,
}

impl Measured {
    pub fn is_empty(&self) -> bool {
        *self == Measured::default()
    }
}

impl UnifiedRecord {
    /// Why this run is a failed run rather than a measurement, if it is one:
    /// nothing succeeded (success rate 0, or 0 successful tasks), or every
    /// latency it reports is 0 while it processed nothing per second. Such a
    /// run is kept out of means, intervals, verdicts and tables unless the
    /// user asks for it (`--include-failed`).
    pub fn failed_run(&self) -> Option<&'static str> {
        if self.success_rate == Some(0.0) {
            return Some("success rate 0: no task succeeded");
        }
        if self.measured.as_ref().and_then(|m| m.successful_tasks) == Some(0) {
            return Some("0 successful tasks");
        }
        let latencies = [self.latency_p50, self.latency_p95, self.latency_p99];
        if self.throughput == 0.0
            && latencies.iter().any(Option::is_some)
            && latencies.iter().flatten().all(|&l| l == 0.0)
        {
            return Some("throughput 0 and every latency 0: nothing was measured");
        }
        None
    }

    pub fn dimensions(&self) -> Arc<Dimensions> {
        self.dims.get()
    }

    pub fn shape(&self) -> WorkloadShape {
        let dims = self.dimensions();
        WorkloadShape {
            workload: self.workload,
            seed: self.seed,
            nodes: self.nodes,
            parallelism: self.parallelism,
            num_tasks: dims.num_tasks,
            warmup_items: dims.warmup_items,
            parity_batch_size: dims.parity_batch_size,
            scheduler: dims.scheduler,
            work: dims.work_hash,
        }
    }
}

impl UnifiedRecord {
    /// Same workload shape (backend-neutral hash) but different upstream
    /// `config_hash`: upstream hashes the backend name into its config, so
    /// this is the expected sage-vs-ray case, not a real mismatch.
    pub fn differs_only_in_upstream_hash(&self, other: &UnifiedRecord) -> bool {
        self.shape_hash == other.shape_hash
            && matches!((self.config_hash, other.config_hash), (Some(a), Some(b)) if a != b)
    }
}

/// Interned [`Dimensions`]: the grouping dimensions repeat across all the
/// records of a run, so each distinct set is stored once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DimsId(u32);

type DimsTable = (Vec<Arc<Dimensions>>, HashMap<Arc<Dimensions>, u32, FastHash>);

fn dims_table() -> &'static Mutex<DimsTable> {
    static TABLE: OnceLock<Mutex<DimsTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let none = Arc::new(Dimensions::default());
        let mut index = HashMap::with_hasher(crate::model::intern::fast_hash());
        index.insert(Arc::clone(&none), 0);
        Mutex::new((vec![none], index))
    })
}

impl DimsId {
    pub const NONE: DimsId = DimsId(0);

    pub fn intern(dims: Dimensions) -> DimsId {
        thread_local! {
            static CACHE: RefCell<HashMap<Dimensions, DimsId, FastHash>> = const { RefCell::new(HashMap::with_hasher(crate::model::intern::fast_hash())) };
        }
        if let Some(id) = CACHE.with(|c| c.borrow().get(&dims).copied()) {
            return id;
        }
        let id = {
            let mut table = dims_table().lock().unwrap_or_else(|e| e.into_inner());
            let (all, index) = &mut *table;
            match index.get(&dims) {
                Some(&id) => DimsId(id),
                None => {
                    let id = all.len() as u32;
                    let shared = Arc::new(dims.clone());
                    all.push(Arc::clone(&shared));
                    index.insert(shared, id);
                    DimsId(id)
                }
            }
        };
        CACHE.with(|c| c.borrow_mut().insert(dims, id));
        id
    }

    pub fn get(self) -> Arc<Dimensions> {
        let table = dims_table().lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&table.0[self.0 as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dimensions::Scheduler;

    /// README's memory model counts on these sizes; a field added to every
    /// record shows here first.
    #[test]
    fn record_sizes_stay_within_the_memory_model() {
        eprintln!(
            "UnifiedRecord {} B, Measured {} B, Timestamp {} B, FreeText {} B",
            std::mem::size_of::<UnifiedRecord>(),
            std::mem::size_of::<Measured>(),
            std::mem::size_of::<Timestamp>(),
            std::mem::size_of::<Option<FreeText>>()
        );
        assert!(std::mem::size_of::<UnifiedRecord>() <= 224);
        assert_eq!(std::mem::size_of::<Option<FreeText>>(), 16);
    }

    #[test]
    fn timestamps_keep_their_text() {
        for (text, packed) in [
            ("2026-02-21T03:58:37.788837+00:00", true),
            ("0001-01-01T00:00:00.000000+00:00", true),
            ("9999-12-31T23:59:59.999999+00:00", true),
            ("2026-02-21T03:58:37+00:00", false),
            ("2026-02-21T03:58:37.788837Z", false),
            ("2026-02-21 03:58:37.788837+00:00", false),
            ("2026-02-21T03:58:37.78883x+00:00", false),
            ("2026-02-21T03:58:37.788837+01:00", false),
        ] {
            let t = Timestamp::new(text);
            assert_eq!(t.as_str(&mut [0; 32]), text);
            assert_eq!(matches!(t, Timestamp::Harness { .. }), packed, "{text}");
        }
    }

    #[test]
    fn equal_dimensions_share_one_id() {
        let a = Dimensions {
            scheduler: Some(Scheduler::Fifo),
            num_tasks: Some(10),
            ..Default::default()
        };
        let b = a.clone();
        let c = Dimensions {
            scheduler: Some(Scheduler::Priority),
            ..a.clone()
        };
        assert_eq!(DimsId::intern(a.clone()), DimsId::intern(b));
        assert_ne!(DimsId::intern(a.clone()), DimsId::intern(c));
        assert_eq!(*DimsId::intern(a.clone()).get(), a);
        assert_eq!(DimsId::intern(Dimensions::default()), DimsId::NONE);
    }
}
