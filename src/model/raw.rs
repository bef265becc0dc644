//! A record as read, before validation: every field the formats can carry,
//! each as the input wrote it. JSON lines and CSV rows both fill this one
//! shape, so validation ([`super::normalize`]) is written once.

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// One field value as the input wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// A JSON string: a number here is accepted with a warning.
    Str(Cow<'a, str>),
    /// A CSV cell: untyped text, where numbers are expected; empty means null.
    Cell(&'a str),
    /// An object or array where a scalar was expected.
    Compound,
    /// A JSON number in an integer field that is not an exact 64-bit
    /// integer (`2.5`, `1e3`, `18446744073709551616`), kept as written so
    /// it is read exactly or named as written, never through `f64`.
    Num(&'a str),
}

impl<'a> Val<'a> {
    /// The value of an integer field from its raw JSON text: integers that
    /// fit 64 bits as [`Val::UInt`] / [`Val::Int`], other numbers as
    /// [`Val::Num`] (as written), anything else as [`Val`] reads it.
    pub fn of_integer_field(raw: &'a RawValue) -> Val<'a> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'0'..=b'9') => text.parse::<u64>().map(Val::UInt).unwrap_or(Val::Num(text)),
            Some(b'-') => text.parse::<i64>().map(Val::Int).unwrap_or(Val::Num(text)),
            _ => serde_json::from_str(text).unwrap_or(Val::Compound),
        }
    }
}

/// Fields (and dimension aliases) that hold integers: read from their raw
/// text ([`Val::of_integer_field`]) so no digit is lost to `f64`.
pub fn is_integer_field(name: &str) -> bool {
    matches!(
        name,
        "seed"
            | "nodes"
            | "parallelism"
            | "concurrency"
            | "concurrent_jobs"
            | "num_jobs"
            | "num_concurrent_jobs"
            | "num_pipelines"
            | "num_tasks"
            | "tasks"
            | "items"
            | "total_tasks"
            | "successful_tasks"
            | "failed_tasks"
            | "warmup_items"
            | "warmup_tasks"
            | "parity_batch_size"
            | "batch_size"
            | "pipeline_stages"
    )
}

impl<'de: 'a, 'a> Deserialize<'de> for Val<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Val<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Val<'a>, E> {
                Ok(Val::Null)
            }
            fn visit_none<E>(self) -> Result<Val<'a>, E> {
                Ok(Val::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Val<'a>, E> {
                Ok(Val::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Val<'a>, E> {
                Ok(Val::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Val<'a>, E> {
                Ok(Val::UInt(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Val<'a>, E> {
                Ok(Val::Float(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val<'a>, E> {
                Ok(Val::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Val<'a>, E> {
                Ok(Val::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Val<'a>, E> {
                Ok(Val::Str(Cow::Owned(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Val::Compound)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Val::Compound)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Dimension fields as they appear under varying names in the record's top
/// level, in `metadata`/`extra`, and in a nested `config`/`run_config`.
#[derive(Debug, Default)]
pub struct DimFields<'a> {
    pub experiment: Option<Val<'a>>,
    pub pipeline: Option<Val<'a>>,
    pub pipeline_type: Option<Val<'a>>,
    pub scheduler: Option<Val<'a>>,
    pub scheduler_name: Option<Val<'a>>,
    pub scheduler_type: Option<Val<'a>>,
    pub scheduler_strategy: Option<Val<'a>>,
    pub load_level: Option<Val<'a>>,
    pub concurrency: Option<Val<'a>>,
    pub concurrent_jobs: Option<Val<'a>>,
    pub start_delay: Option<Val<'a>>,
    pub task_complexity: Option<Val<'a>>,
    pub num_tasks: Option<Val<'a>>,
    pub total_tasks: Option<Val<'a>>,
    pub successful_tasks: Option<Val<'a>>,
    pub failed_tasks: Option<Val<'a>>,
    pub warmup_items: Option<Val<'a>>,
    pub parity_batch_size: Option<Val<'a>>,
    pub shuffle_version: Option<Val<'a>>,
    pub pipeline_stages: Option<Val<'a>>,
    pub arrival: Option<Val<'a>>,
    pub llm_ratio: Option<Val<'a>>,
    pub generator: Option<Val<'a>>,
    pub work_hash: Option<Val<'a>>,
    pub avg_latency_ms: Option<Val<'a>>,
    pub scheduling_ms: Option<Val<'a>>,
    pub queue_ms: Option<Val<'a>>,
    pub execution_ms: Option<Val<'a>>,
    pub node_distribution: Option<&'a RawValue>,
    pub balance_score: Option<Val<'a>>,
}

/// The fields of one unified record as read.
#[derive(Debug, Default)]
pub struct RawRecord<'a> {
    pub backend: Option<Val<'a>>,
    pub workload: Option<Val<'a>>,
    pub run_id: Option<Val<'a>>,
    pub seed: Option<Val<'a>>,
    pub nodes: Option<Val<'a>>,
    pub parallelism: Option<Val<'a>>,
    pub throughput: Option<Val<'a>>,
    pub latency_p50: Option<Val<'a>>,
    pub latency_p95: Option<Val<'a>>,
    pub latency_p99: Option<Val<'a>>,
    pub success_rate: Option<Val<'a>>,
    pub duration_seconds: Option<Val<'a>>,
    pub timestamp: Option<Val<'a>>,
    pub config_hash: Option<Val<'a>>,
    pub backend_hash: Option<Val<'a>>,
    pub metadata: Option<&'a RawValue>,
    pub extra: Option<&'a RawValue>,
    pub config: Option<&'a RawValue>,
    pub run_config: Option<&'a RawValue>,
    /// Dimensions written at the top level (runner output, CSV columns).
    pub top_dims: DimFields<'a>,
    /// The first field this JSON object names twice (RFC 8259 leaves which
    /// value counts to the reader): the record is rejected, not read with
    /// whichever value the parser kept.
    pub repeated: Option<String>,
}

impl<'de> Deserialize<'de> for RawRecord<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = RawRecord::default();
        Fill(&mut out).deserialize(d)?;
        Ok(out)
    }
}

impl<'a> RawRecord<'a> {
    /// Parse one JSON record into `self` (a default one), in place: the
    /// record is about 1.5 KB, and a parser returning it by value copies
    /// it on every hop (5–8 % of ingest's time on a harness tree).
    pub fn read_json(&mut self, text: &'a str) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_str(text);
        Fill(self).deserialize(&mut de)?;
        de.end()
    }
}

/// An object's key, borrowed from the text unless it holds an escape.
/// (serde's `Cow<str>` always allocates: a String per key of every record
/// was 2–3 % of ingest's time.)
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Fills a [`RawRecord`] in place from a JSON object.
struct Fill<'r, 'a>(&'r mut RawRecord<'a>);

impl<'de> DeserializeSeed<'de> for Fill<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Fill<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (one unified record)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let name = key.0.as_ref();
            let object = match name {
                "metadata" => Some(&mut out.metadata),
                "extra" => Some(&mut out.extra),
                "config" => Some(&mut out.config),
                "run_config" => Some(&mut out.run_config),
                "node_distribution" => Some(&mut out.top_dims.node_distribution),
                _ => None,
            };
            let was_set = if let Some(slot) = object {
                slot.replace(map.next_value()?).is_some()
            } else {
                let value = if is_integer_field(name) {
                    Val::of_integer_field(map.next_value()?)
                } else {
                    map.next_value()?
                };
                // Unknown top-level keys are ignored, as upstream's reader does.
                out.slot(name).is_some_and(|slot| slot.replace(value).is_some())
            };
            if was_set && out.repeated.is_none() {
                out.repeated = Some(name.to_string());
            }
        }
        Ok(())
    }
}

/// Names of the required fields, in the order SPEC §3 lists them (also the
/// order of the unified CSV header).
pub const REQUIRED_FIELDS: [&str; 13] = [
    "backend",
    "workload",
    "run_id",
    "seed",
    "nodes",
    "parallelism",
    "throughput",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "success_rate",
    "duration_seconds",
    "timestamp",
];

/// The unified CSV header (SPEC §2).
pub const CSV_COLUMNS: [&str; 15] = [
    "backend",
    "workload",
    "run_id",
    "seed",
    "nodes",
    "parallelism",
    "throughput",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "success_rate",
    "duration_seconds",
    "timestamp",
    "config_hash",
    "backend_hash",
];

impl<'a> RawRecord<'a> {
    /// Set a field by its unified name (CSV columns). Returns false for a
    /// name that is neither a record field nor a known dimension.
    pub fn set(&mut self, name: &str, value: Val<'a>) -> bool {
        match self.slot(name) {
            Some(slot) => {
                *slot = Some(value);
                true
            }
            None => false,
        }
    }

    /// The slot of a field or dimension by its unified name or alias.
    fn slot(&mut self, name: &str) -> Option<&mut Option<Val<'a>>> {
        Some(match name {
            "backend" => &mut self.backend,
            "workload" => &mut self.workload,
            "run_id" => &mut self.run_id,
            "seed" => &mut self.seed,
            "nodes" => &mut self.nodes,
            "parallelism" => &mut self.parallelism,
            "throughput" => &mut self.throughput,
            "latency_p50" => &mut self.latency_p50,
            "latency_p95" => &mut self.latency_p95,
            "latency_p99" => &mut self.latency_p99,
            "success_rate" => &mut self.success_rate,
            "duration_seconds" => &mut self.duration_seconds,
            "timestamp" => &mut self.timestamp,
            "config_hash" => &mut self.config_hash,
            "backend_hash" => &mut self.backend_hash,
            other => return self.top_dims.slot(other),
        })
    }
}

impl<'a> DimFields<'a> {
    /// Set a dimension by any of its accepted names.
    pub fn set(&mut self, name: &str, value: Val<'a>) -> bool {
        match self.slot(name) {
            Some(slot) => {
                *slot = Some(value);
                true
            }
            None => false,
        }
    }

    /// Set a dimension unless an earlier name (or alias) already did.
    pub fn set_first(&mut self, name: &str, value: Val<'a>) {
        if let Some(slot) = self.slot(name) {
            if slot.is_none() {
                *slot = Some(value);
            }
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<Val<'a>>> {
        Some(match name {
            "experiment" => &mut self.experiment,
            "pipeline" => &mut self.pipeline,
            "pipeline_type" => &mut self.pipeline_type,
            "scheduler" => &mut self.scheduler,
            "scheduler_name" => &mut self.scheduler_name,
            "scheduler_type" => &mut self.scheduler_type,
            "scheduler_strategy" => &mut self.scheduler_strategy,
            "load_level" => &mut self.load_level,
            "concurrency" => &mut self.concurrency,
            "concurrent_jobs" | "num_jobs" | "num_concurrent_jobs" | "num_pipelines" => &mut self.concurrent_jobs,
            "start_delay" | "start_delay_s" | "start_delay_seconds" | "delay" => &mut self.start_delay,
            "task_complexity" => &mut self.task_complexity,
            "num_tasks" | "tasks" | "items" => &mut self.num_tasks,
            "total_tasks" => &mut self.total_tasks,
            "successful_tasks" => &mut self.successful_tasks,
            "failed_tasks" => &mut self.failed_tasks,
            "warmup_items" | "warmup_tasks" => &mut self.warmup_items,
            "parity_batch_size" | "batch_size" => &mut self.parity_batch_size,
            "shuffle_version" | "deterministic_shuffle_version" | "sampling_strategy" => &mut self.shuffle_version,
            "pipeline_stages" => &mut self.pipeline_stages,
            "arrival" => &mut self.arrival,
            "llm_ratio" => &mut self.llm_ratio,
            "generator" => &mut self.generator,
            "work_hash" => &mut self.work_hash,
            "avg_latency_ms" | "avg_latency" => &mut self.avg_latency_ms,
            "scheduling_ms" | "avg_scheduling_latency_ms" | "scheduling_latency_ms" => &mut self.scheduling_ms,
            "queue_ms" | "avg_queue_latency_ms" | "queue_latency_ms" | "queueing_ms" => &mut self.queue_ms,
            "execution_ms" | "avg_execution_latency_ms" | "execution_latency_ms" => &mut self.execution_ms,
            "balance_score" | "node_balance_score" | "balance" => &mut self.balance_score,
            _ => return None,
        })
    }

    /// True when no dimension is set.
    pub fn is_empty(&self) -> bool {
        macro_rules! none {
            ($($f:ident),*) => { true $( && self.$f.is_none() )* };
        }
        none!(
            experiment,
            pipeline,
            pipeline_type,
            scheduler,
            scheduler_name,
            scheduler_type,
            scheduler_strategy,
            load_level,
            concurrency,
            concurrent_jobs,
            start_delay,
            task_complexity,
            num_tasks,
            total_tasks,
            successful_tasks,
            failed_tasks,
            warmup_items,
            parity_batch_size,
            shuffle_version,
            pipeline_stages,
            arrival,
            llm_ratio,
            generator,
            work_hash,
            avg_latency_ms,
            scheduling_ms,
            queue_ms,
            execution_ms,
            node_distribution,
            balance_score
        )
    }
}

/// Nested config objects met in a free-form object, read after its own
/// fields. Up to four are held inline (a harness record has one,
/// `raw_metrics`), so a record costs no allocation for them.
#[derive(Default)]
struct Nested<'a> {
    inline: [Option<&'a RawValue>; 4],
    spill: Vec<&'a RawValue>,
}

impl<'a> Nested<'a> {
    fn push(&mut self, raw: &'a RawValue) {
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(raw),
            None => self.spill.push(raw),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &'a RawValue> + '_ {
        self.inline
            .iter()
            .map_while(|slot| *slot)
            .chain(self.spill.iter().copied())
    }
}

/// Reads an object's own fields into [`DimFields`] in place: a field (or
/// an alias of it) already set stays, so the first occurrence wins; the
/// values of fields that are not dimensions, or are already set, are
/// skipped unread. Nested config objects go to `nested` (when given).
struct OwnFields<'d, 'a> {
    dims: &'d mut DimFields<'a>,
    nested: Option<&'d mut Nested<'a>>,
}

impl<'de> DeserializeSeed<'de> for OwnFields<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OwnFields<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let name = key.0.as_ref();
            if matches!(name, "config" | "run_config" | "raw_metrics" | "workload_config") {
                let raw: &'de RawValue = map.next_value()?;
                if let Some(nested) = self.nested.as_deref_mut() {
                    nested.push(raw);
                }
            } else if name == "node_distribution" {
                let raw: &'de RawValue = map.next_value()?;
                self.dims.node_distribution.get_or_insert(raw);
            } else {
                match self.dims.slot(name) {
                    Some(slot) if slot.is_none() => {
                        *slot = Some(if is_integer_field(name) {
                            Val::of_integer_field(map.next_value::<&'de RawValue>()?)
                        } else {
                            map.next_value::<Val<'de>>()?
                        });
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<'a> DimFields<'a> {
    /// Fill the dimensions this one lacks from a free-form object: from its
    /// own fields first (the first of a field and its aliases wins), then
    /// from its nested config objects' own fields, in their order. `Err`,
    /// with nothing filled, when it is not an object; a nested value that
    /// is not an object is passed over.
    ///
    /// `raw` came from a successful parse, so it is valid JSON and an
    /// object fails, if at all, at its first byte: nothing is half-filled.
    pub fn fill_from_object(&mut self, raw: &'a RawValue) -> Result<(), serde_json::Error> {
        let mut nested = Nested::default();
        read_own_fields(raw, self, Some(&mut nested))?;
        for inner in nested.iter() {
            let _ = read_own_fields(inner, self, None);
        }
        Ok(())
    }
}

fn read_own_fields<'a>(
    raw: &'a RawValue,
    dims: &mut DimFields<'a>,
    nested: Option<&mut Nested<'a>>,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    OwnFields { dims, nested }.deserialize(&mut de)?;
    de.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn an_objects_own_fields_win_over_its_nested_ones_wherever_they_stand() {
        let obj = raw(
            r#"{"raw_metrics":{"scheduler_type":"FIFO","num_tasks":7,"load_level":"low"},
                "scheduler_type":"Priority","tasks":300,"num_tasks":400,"config":"fast",
                "run_config":{"pipeline":"rag","raw_metrics":{"arrival":"poisson"}}}"#,
        );
        let mut dims = DimFields {
            load_level: Some(Val::Str(Cow::Borrowed("high"))),
            ..DimFields::default()
        };
        dims.fill_from_object(obj).unwrap();
        // Already set: kept. Own field: wins over the nested one before it.
        assert_eq!(dims.load_level, Some(Val::Str(Cow::Borrowed("high"))));
        assert_eq!(dims.scheduler_type, Some(Val::Str(Cow::Borrowed("Priority"))));
        // Aliases share a slot: the first one written wins.
        assert_eq!(dims.num_tasks, Some(Val::UInt(300)));
        // Nested objects fill what is left, a non-object is passed over, and
        // only one level deep is read.
        assert_eq!(dims.pipeline, Some(Val::Str(Cow::Borrowed("rag"))));
        assert_eq!(dims.arrival, None);
    }

    #[test]
    fn a_value_that_is_not_an_object_fills_nothing() {
        let mut dims = DimFields::default();
        assert!(dims.fill_from_object(raw(r#"["scheduler","fifo"]"#)).is_err());
        assert!(dims.fill_from_object(raw(r#""scheduler=fifo""#)).is_err());
        assert!(dims.is_empty());
    }

    #[test]
    fn a_record_read_in_place_equals_one_read_by_value() {
        let line = r#"{"backend":"sage","seed":42,"nodes":2.5,"metadata":{"a":1},"scheduler":"fifo","x":[1]}"#;
        let mut in_place = RawRecord::default();
        in_place.read_json(line).unwrap();
        let by_value: RawRecord = serde_json::from_str(line).unwrap();
        assert_eq!(format!("{in_place:?}"), format!("{by_value:?}"));
        assert_eq!(in_place.nodes, Some(Val::Num("2.5")));
        assert_eq!(in_place.metadata.map(RawValue::get), Some(r#"{"a":1}"#));
        assert!(RawRecord::default().read_json(r#"{"backend":"sage"} x"#).is_err());
    }
}
