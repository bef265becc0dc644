//! The fault catalogue: each fault in its own small directory
//! `faulty/<kind>/…`, with exactly one thing wrong per faulty line, so the
//! expected problems (file, line, kind, severity) and counts are exact.

use super::json::{epoch_of, write_file, J};
use super::unified::{plain_record, Rec, CSV_HEADER};
use super::{ExpectedProblem, Stats};
use rand::rngs::StdRng;
use std::path::Path;

/// Builds the records of one faulty file: distinct, clean unless mutated.
struct Maker<'r> {
    rng: &'r mut StdRng,
    t: i64,
    n: u32,
    tag: &'static str,
}

impl Maker<'_> {
    fn new<'r>(rng: &'r mut StdRng, tag: &'static str, day: u32) -> Maker<'r> {
        Maker {
            rng,
            t: epoch_of(2026, 3, day, 9, 0, 0) * 1_000_000 + 123_457,
            n: 0,
            tag,
        }
    }

    fn next_backend(&mut self, backend: &str) -> (Rec, J) {
        self.n += 1;
        self.t += 7_250_311;
        let run_id = format!("{backend}-{}{:04}", self.tag, self.n);
        plain_record(self.rng, backend, &run_id, self.t)
    }

    /// A clean record as a JSON object.
    fn obj(&mut self) -> J {
        self.obj_backend("sage")
    }

    fn obj_backend(&mut self, backend: &str) -> J {
        let (rec, meta) = self.next_backend(backend);
        rec.to_j(meta)
    }

    /// A clean record's CSV row (with `\r\n`).
    fn row(&mut self) -> String {
        let (rec, _) = self.next_backend("sage");
        let mut s = String::new();
        rec.push_csv(&mut s);
        s
    }
}

/// Tracks one file's expected outcome.
struct FilePlan {
    path: String,
    text: Vec<u8>,
}

impl FilePlan {
    fn new(path: &str) -> FilePlan {
        FilePlan {
            path: path.to_string(),
            text: Vec::new(),
        }
    }

    fn line(&mut self, text: &str, eol: &str) {
        self.text.extend_from_slice(text.as_bytes());
        self.text.extend_from_slice(eol.as_bytes());
    }

    fn write(self, root: &Path, stats: &mut Stats) -> anyhow::Result<()> {
        stats.add_file(write_file(&root.join(&self.path), &self.text)?);
        Ok(())
    }
}

fn problem(stats: &mut Stats, path: &str, line: Option<u32>, kind: &'static str, severity: &'static str) {
    stats.problems.push(ExpectedProblem {
        path: path.to_string(),
        line,
        kind,
        severity,
    });
}

/// A JSONL file of clean lines, the `bad` ones replaced by `bad(index)`.
/// `bad` returns (line text, problem kind) — each bad line is rejected with
/// exactly one error.
fn jsonl_with(
    root: &Path,
    stats: &mut Stats,
    m: &mut Maker<'_>,
    path: &str,
    lines: u32,
    mut bad: impl FnMut(u32, &mut Maker<'_>) -> Option<(String, &'static str)>,
) -> anyhow::Result<()> {
    let mut f = FilePlan::new(path);
    for i in 1..=lines {
        match bad(i, m) {
            Some((text, kind)) => {
                f.line(&text, "\n");
                stats.read += 1;
                stats.rejected += 1;
                problem(stats, path, Some(i), kind, "error");
            }
            None => {
                let text = m.obj().compact();
                f.line(&text, "\n");
                stats.read += 1;
                stats.accepted += 1;
            }
        }
    }
    f.write(root, stats)
}

fn mutated(m: &mut Maker<'_>, edit: impl FnOnce(&mut J)) -> String {
    let mut o = m.obj();
    edit(&mut o);
    o.compact()
}

pub fn write_faults(root: &Path, rng: &mut StdRng, stats: &mut Stats) -> anyhow::Result<()> {
    // malformed_json: line 3 lacks its closing brace.
    let mut m = Maker::new(rng, "mj", 1);
    jsonl_with(
        root,
        stats,
        &mut m,
        "faulty/malformed_json/unified_results.jsonl",
        5,
        |i, m| {
            (i == 3).then(|| {
                let mut t = m.obj().compact();
                t.pop();
                (t, "malformed_json")
            })
        },
    )?;

    // truncated_line: the last line is cut inside the timestamp, no newline.
    {
        let path = "faulty/truncated_line/unified_results.jsonl";
        let mut m = Maker::new(rng, "tl", 2);
        let mut f = FilePlan::new(path);
        for _ in 0..3 {
            let t = m.obj().compact();
            f.line(&t, "\n");
        }
        let full = m.obj().compact();
        let cut = full.find("\"timestamp\": \"").expect("timestamp key") + 24;
        f.line(&full[..cut], "");
        stats.read += 4;
        stats.accepted += 3;
        stats.rejected += 1;
        problem(stats, path, Some(4), "truncated_line", "error");
        f.write(root, stats)?;
    }

    // empty_file: 0 bytes.
    {
        let path = "faulty/empty_file/unified_results.jsonl";
        FilePlan::new(path).write(root, stats)?;
        problem(stats, path, None, "empty_file", "warning");
    }

    // non_finite: bare NaN / Infinity (as Python's json.dumps writes them)
    // and the strings "NaN" / "-Infinity".
    let mut m = Maker::new(rng, "nf", 3);
    jsonl_with(
        root,
        stats,
        &mut m,
        "faulty/non_finite/unified_results.jsonl",
        7,
        |i, m| {
            let edit: Option<(&str, J)> = match i {
                2 => Some(("throughput", J::Raw("NaN".into()))),
                3 => Some(("latency_p99", J::Raw("Infinity".into()))),
                5 => Some(("latency_p50", J::s("NaN"))),
                6 => Some(("throughput", J::s("-Infinity"))),
                _ => None,
            };
            edit.map(|(key, v)| (mutated(m, |o| o.set(key, v)), "non_finite"))
        },
    )?;

    // negative_value, out_of_range, missing_field: line 2 of 3.
    let mut m = Maker::new(rng, "nv", 4);
    jsonl_with(
        root,
        stats,
        &mut m,
        "faulty/negative_value/unified_results.jsonl",
        3,
        |i, m| (i == 2).then(|| (mutated(m, |o| o.set("latency_p95", J::F(-12.5))), "negative_value")),
    )?;
    let mut m = Maker::new(rng, "or", 5);
    jsonl_with(
        root,
        stats,
        &mut m,
        "faulty/out_of_range/unified_results.jsonl",
        3,
        |i, m| (i == 2).then(|| (mutated(m, |o| o.set("success_rate", J::F(1.7))), "out_of_range")),
    )?;
    let mut m = Maker::new(rng, "mf", 6);
    jsonl_with(
        root,
        stats,
        &mut m,
        "faulty/missing_field/unified_results.jsonl",
        3,
        |i, m| (i == 2).then(|| (mutated(m, |o| o.remove("workload")), "missing_field")),
    )?;

    // duplicate_record: line 3 repeats line 2 byte for byte.
    {
        let path = "faulty/duplicate_record/unified_results.jsonl";
        let mut m = Maker::new(rng, "dr", 7);
        let mut f = FilePlan::new(path);
        let a = m.obj().compact();
        let b = m.obj().compact();
        let c = m.obj().compact();
        for t in [&a, &b, &b, &c] {
            f.line(t, "\n");
        }
        stats.read += 3;
        stats.accepted += 3;
        stats.duplicates += 1;
        problem(stats, path, Some(3), "duplicate_record", "warning");
        f.write(root, stats)?;
    }

    // number_as_string: seed "42" and throughput "41.5" on line 2; accepted.
    {
        let path = "faulty/number_as_string/unified_results.jsonl";
        let mut m = Maker::new(rng, "ns", 8);
        let mut f = FilePlan::new(path);
        let one = m.obj().compact();
        let two = mutated(&mut m, |o| {
            o.set("seed", J::s("42"));
            o.set("throughput", J::s("41.5"));
        });
        let three = m.obj().compact();
        for t in [&one, &two, &three] {
            f.line(t, "\n");
        }
        stats.read += 3;
        stats.accepted += 3;
        problem(stats, path, Some(2), "number_as_string", "warning");
        f.write(root, stats)?;
    }

    // BOM and CRLF JSONL: benign, all accepted.
    for (path, bom, eol, tag, day) in [
        ("faulty/bom/jsonl/unified_results.jsonl", true, "\n", "bj", 9),
        ("faulty/crlf/jsonl/unified_results.jsonl", false, "\r\n", "cj", 10),
    ] {
        let mut m = Maker::new(rng, tag, day);
        let mut f = FilePlan::new(path);
        if bom {
            f.text.extend_from_slice(b"\xEF\xBB\xBF");
        }
        for _ in 0..3 {
            let t = m.obj().compact();
            f.line(&t, eol);
        }
        stats.read += 3;
        stats.accepted += 3;
        f.write(root, stats)?;
    }

    // config_mismatch: sage and ray ran `mismatch_probe` with different
    // parallelism (2 vs 4); every record is valid and accepted, and
    // `compare` must name `parallelism` as the differing field.
    for (backend, parallelism) in [("sage", 2i64), ("ray", 4)] {
        let path = format!("faulty/config_mismatch/backends/{backend}/unified_results.jsonl");
        let mut m = Maker::new(rng, "cm", 13);
        let mut f = FilePlan::new(&path);
        for _ in 0..3 {
            let mut o = m.obj_backend(backend);
            o.set("workload", J::s("mismatch_probe"));
            o.set("parallelism", J::I(parallelism));
            o.set(
                "metadata",
                J::obj([("scheduler_name", J::s("fifo")), ("num_tasks", J::I(100))]),
            );
            f.line(&o.compact(), "\n");
        }
        stats.read += 3;
        stats.accepted += 3;
        f.write(root, stats)?;
    }

    // backend only in the path: no "backend" key under backends/ray/; accepted.
    {
        let path = "faulty/backend_in_path/backends/ray/unified_results.jsonl";
        let mut m = Maker::new(rng, "bp", 11);
        let mut f = FilePlan::new(path);
        for _ in 0..2 {
            let mut o = m.obj_backend("ray");
            o.remove("backend");
            f.line(&o.compact(), "\n");
        }
        stats.read += 2;
        stats.accepted += 2;
        f.write(root, stats)?;
    }

    // backend_conflict: line 2 says "sage" under backends/ray/; accepted.
    {
        let path = "faulty/backend_conflict/backends/ray/unified_results.jsonl";
        let mut m = Maker::new(rng, "bc", 12);
        let mut f = FilePlan::new(path);
        let one = m.obj_backend("ray").compact();
        let two = m.obj_backend("sage").compact();
        f.line(&one, "\n");
        f.line(&two, "\n");
        stats.read += 2;
        stats.accepted += 2;
        problem(stats, path, Some(2), "backend_conflict", "warning");
        f.write(root, stats)?;
    }

    // CSV faults: standalone unified_results.csv files (header = line 1).
    {
        // malformed_csv: line 4 lost its last field.
        let path = "faulty/malformed_csv/unified_results.csv";
        let mut m = Maker::new(rng, "mc", 13);
        let mut f = FilePlan::new(path);
        f.line(&CSV_HEADER, "\r\n");
        for line in 2..=5u32 {
            let row = m.row();
            if line == 4 {
                let trimmed = row.trim_end();
                let cut = trimmed.rfind(',').expect("15 cells");
                f.line(&trimmed[..cut], "\r\n");
                stats.rejected += 1;
                problem(stats, path, Some(4), "malformed_csv", "error");
            } else {
                f.line(&row, "");
                stats.accepted += 1;
            }
            stats.read += 1;
        }
        f.write(root, stats)?;
    }
    {
        // missing_column: no throughput column; every row is rejected, one problem.
        let path = "faulty/missing_column/unified_results.csv";
        let mut m = Maker::new(rng, "mcol", 14);
        let mut f = FilePlan::new(path);
        let drop_col = CSV_HEADER
            .split(',')
            .position(|c| c == "throughput")
            .expect("throughput column");
        let without = |line: &str| -> String {
            line.trim_end()
                .split(',')
                .enumerate()
                .filter(|(i, _)| *i != drop_col)
                .map(|(_, c)| c)
                .collect::<Vec<_>>()
                .join(",")
        };
        f.line(&without(&CSV_HEADER), "\r\n");
        for _ in 0..3 {
            let row = m.row();
            f.line(&without(&row), "\r\n");
        }
        stats.read += 3;
        stats.rejected += 3;
        problem(stats, path, Some(1), "missing_column", "error");
        f.write(root, stats)?;
    }
    for (path, bom, tag, day) in [
        ("faulty/bom/csv/unified_results.csv", true, "bcsv", 15),
        ("faulty/crlf/csv/unified_results.csv", false, "cc", 16),
    ] {
        let mut m = Maker::new(rng, tag, day);
        let mut f = FilePlan::new(path);
        if bom {
            f.text.extend_from_slice(b"\xEF\xBB\xBF");
        }
        f.line(&CSV_HEADER, "\r\n");
        for _ in 0..3 {
            let row = m.row();
            f.line(&row, "");
        }
        stats.read += 3;
        stats.accepted += 3;
        f.write(root, stats)?;
    }
    Ok(())
}
