//! `summary.json` (schema version 3): everything in summary.md, for bots.
//! The schema is documented in README.md.

use super::{Renderer, ReportContext};
use crate::analysis::compare::{Comparison, FailedRun, GroupStats, HashNote, MetricComparison, Mismatch, Unverified};
use crate::analysis::estimand::Correction;
use crate::ingest::Totals;
use crate::model::{Problem, Severity};
use serde::Serialize;

pub struct SummaryJson;

/// 2: `p_value` is the Welch test of the ratio (was Mann–Whitney, now
/// `mann_whitney_p`), `ci_low..ci_high` are at the adjusted level
/// `ci_level`, verdict `unstable`, and the correction/failed-run/unverified fields.
/// 3: a group's `run_ids` became `run_count` and `run_ids_sample` (the
/// first [`crate::analysis::compare::RUN_IDS_SAMPLE`]; all of them are in
/// comparison.csv), so the file grows with groups, not records.
pub const SCHEMA_VERSION: u32 = 3;

/// Rejected-record problems included in the JSON before the rest are counted.
const REJECTED_LISTED: usize = 1000;

#[derive(Serialize)]
pub struct SummaryDoc<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub command: &'a str,
    pub inputs: &'a [String],
    pub records: Totals,
    pub axis: crate::analysis::compare::Axis,
    pub sides: &'a [String],
    pub baseline: Option<&'a str>,
    pub confidence: f64,
    /// The multiple-comparison correction, how many comparisons it covers,
    /// and the adjusted level of every verdict and `ci_low..ci_high`.
    pub correction: Correction,
    pub family_size: usize,
    pub adjusted_alpha: f64,
    pub mismatches: &'a [Mismatch],
    pub unverified: &'a [Unverified],
    pub failed_runs: &'a [FailedRun],
    pub hash_notes: &'a [HashNote],
    pub groups: &'a [GroupStats],
    pub comparisons: &'a [MetricComparison],
    /// The first rejected-record errors, `file:line`.
    pub rejected: Vec<&'a Problem>,
    pub rejected_total: usize,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

pub fn summary_doc<'a>(ctx: &'a ReportContext<'a>) -> SummaryDoc<'a> {
    let c: &Comparison = ctx.comparison;
    let errors: Vec<&Problem> = ctx
        .ingest
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    SummaryDoc {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "sagereport",
            version: ctx.version,
        },
        command: &ctx.command,
        inputs: &ctx.ingest.inputs,
        records: ctx.ingest.totals,
        axis: c.axis,
        sides: &c.sides,
        baseline: c.baseline.as_deref(),
        confidence: c.confidence,
        correction: c.correction,
        family_size: c.family_size,
        adjusted_alpha: c.adjusted_alpha,
        mismatches: &c.mismatches,
        unverified: &c.unverified,
        failed_runs: &c.failed_runs,
        hash_notes: &c.hash_notes,
        groups: &c.groups,
        comparisons: &c.comparisons,
        rejected_total: errors.len(),
        rejected: errors.into_iter().take(REJECTED_LISTED).collect(),
    }
}

impl Renderer for SummaryJson {
    fn name(&self) -> &'static str {
        "summary.json"
    }

    fn render(&self, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<super::OutFile>> {
        // Sized up front: a large report's document is ~2 KB per group and
        // comparison, and growing a buffer of 100 MB by doubling copies it twice.
        let c = ctx.comparison;
        let mut text = Vec::with_capacity(64 * 1024 + 2048 * (c.groups.len() + c.comparisons.len()));
        serde_json::to_writer_pretty(&mut text, &summary_doc(ctx))?;
        text.push(b'\n');
        Ok(vec![("summary.json".into(), text)])
    }
}
