//! The operators of the runner's pipelines. They do real, deterministic
//! work — what they compute depends only on the seed and the item — so the
//! two execution models process the same data and a run can be repeated:
//!
//! - **embed**: a query's tokens, feature-hashed into a signed 64-dimension
//!   vector and L2-normalized (the hashing trick of Weinberger et al., 2009);
//! - **retrieve**: exact top-k cosine similarity over a generated corpus;
//! - **context**: the retrieved documents concatenated into a prompt, up to
//!   a token budget;
//! - **rerank**: the retrieved documents re-ordered by exact token overlap
//!   with the query (the fifth stage of the deep pipeline variant);
//! - **generate**: a call to the run's one shared inference service. By
//!   default that is [`LlmService`], an emulated remote GPU endpoint with
//!   `K` concurrent sequences and a per-token service-time model: a request
//!   waits for a free sequence slot (first come, first served) and then
//!   holds it for its service time, *waiting* (not computing) as a client
//!   of a remote GPU does. With `--llm-endpoint URL`, it is a real
//!   OpenAI-compatible server (`POST /v1/completions`) with the constructed
//!   context as the prompt;
//! - **compute** / **compute_heavy**: CPU-bound hash rounds (light: the
//!   run's complexity; heavy: always the heavy complexity's amount).
//!
//! Task complexity (light/medium/heavy) scales the corpus, the prompt and
//! the output length. A node's speed factor scales the local work a task
//! does on it (a node of speed 0.5 does each task's work twice), which is
//! how heterogeneous clusters are modelled on one machine; the remote
//! inference service's time does not depend on the calling node.

use super::engine::slots::Slots;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Embedding dimensions.
pub const DIM: usize = 64;
const VOCABULARY: u64 = 5_000;

/// How much work a task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    Light,
    Medium,
    Heavy,
}

impl Complexity {
    pub fn label(self) -> &'static str {
        match self {
            Complexity::Light => "light",
            Complexity::Medium => "medium",
            Complexity::Heavy => "heavy",
        }
    }

    fn corpus_docs(self) -> usize {
        match self {
            Complexity::Light => 256,
            Complexity::Medium => 1024,
            Complexity::Heavy => 4096,
        }
    }

    /// Output tokens of one generation.
    pub fn output_tokens(self) -> u32 {
        match self {
            Complexity::Light => 16,
            Complexity::Medium => 48,
            Complexity::Heavy => 128,
        }
    }

    fn top_k(self) -> usize {
        match self {
            Complexity::Light => 3,
            Complexity::Medium => 5,
            Complexity::Heavy => 8,
        }
    }
}

/// What flows between stages.
#[derive(Clone, Debug, Default)]
pub struct Payload {
    pub embedding: Vec<f32>,
    pub doc_ids: Vec<u32>,
    pub context_tokens: u32,
    /// The prompt built by the context step (token ids).
    pub prompt: Vec<u32>,
    /// Time the generate step waited for a free sequence slot of the
    /// inference service, and the time it was served (both inside the
    /// task's execution time).
    pub llm_wait: Duration,
    pub llm_service: Duration,
    /// Set when the attempt failed (e.g. the LLM endpoint answered an error);
    /// the engines count it as a failed attempt and retry per the fault policy.
    pub error: Option<String>,
    /// A digest of everything computed so far (so no work is optimized away
    /// and results can be compared across models).
    pub digest: u64,
}

/// One operator kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Embed,
    Retrieve,
    Context,
    Generate,
    /// Re-order the retrieved documents by token overlap with the query.
    Rerank,
    /// A CPU-bound step of `compute` pipelines (hash rounds, no data).
    Compute,
    /// A compute step of the heavy complexity, whatever the run's (Q3's aggressor).
    HeavyCompute,
    /// Does nothing: for measuring engine dispatch.
    Noop,
}

impl OpKind {
    pub fn label(self) -> &'static str {
        match self {
            OpKind::Embed => "embed",
            OpKind::Retrieve => "retrieve",
            OpKind::Context => "context",
            OpKind::Generate => "generate",
            OpKind::Rerank => "rerank",
            OpKind::Compute => "compute",
            OpKind::HeavyCompute => "compute_heavy",
            OpKind::Noop => "noop",
        }
    }
}

/// A generated document corpus with its embeddings (shared by all workers).
pub struct Corpus {
    pub docs: Vec<Vec<u32>>,
    pub embeddings: Vec<[f32; DIM]>,
}

impl Corpus {
    pub fn generate(seed: u64, complexity: Complexity) -> Corpus {
        let n = complexity.corpus_docs();
        let docs: Vec<Vec<u32>> = (0..n as u64)
            .map(|d| {
                (0..32u64)
                    .map(|t| (xxh3_64_with_seed(&(d * 64 + t).to_le_bytes(), seed) % VOCABULARY) as u32)
                    .collect()
            })
            .collect();
        let embeddings = docs.iter().map(|tokens| embed_tokens(tokens)).collect();
        Corpus { docs, embeddings }
    }
}

/// The tokens of query `item` (6–15 tokens, from the seed).
pub fn query_tokens(seed: u64, item: u64) -> Vec<u32> {
    let len = 6 + (xxh3_64_with_seed(&item.to_le_bytes(), seed ^ 0x51) % 10);
    (0..len)
        .map(|t| (xxh3_64_with_seed(&(item * 32 + t).to_le_bytes(), seed) % VOCABULARY) as u32)
        .collect()
}

/// Feature hashing: each token adds ±1 to one of [`DIM`] buckets; the
/// vector is L2-normalized.
pub fn embed_tokens(tokens: &[u32]) -> [f32; DIM] {
    let mut v = [0f32; DIM];
    for t in tokens {
        let h = xxh3_64_with_seed(&t.to_le_bytes(), 0xE3B);
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        v[(h % DIM as u64) as usize] += sign;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Indices of the `k` corpus vectors most similar to `q` (cosine; ties by
/// lower index), best first.
pub fn top_k(corpus: &Corpus, q: &[f32], k: usize) -> Vec<u32> {
    let mut scored: Vec<(f32, u32)> = corpus
        .embeddings
        .iter()
        .enumerate()
        .map(|(i, e)| (e.iter().zip(q).map(|(a, b)| a * b).sum(), i as u32))
        .collect();
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(k);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// `rounds` of hashing over `state`: the unit of CPU work.
fn burn(mut state: u64, rounds: u32) -> u64 {
    for r in 0..rounds {
        state = xxh3_64_with_seed(&state.to_le_bytes(), r as u64);
    }
    state
}

/// Hash rounds per unit of compute (× the complexity's output tokens).
const ROUNDS_PER_TOKEN: u32 = 4000;

/// The service-time model of the embedded inference endpoint: a request
/// holds one of `slots` concurrent sequences for
/// `overhead + prompt tokens × prefill + output tokens × decode`.
/// The constants are a time-compressed GPU (so the quick suite runs in
/// seconds); what matters for the experiments is that the cost is per
/// token and that the endpoint saturates at `slots` concurrent requests.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ServiceModel {
    /// Concurrent sequences (K).
    pub slots: usize,
    pub overhead_ms: f64,
    pub prefill_ms_per_token: f64,
    pub decode_ms_per_token: f64,
}

impl Default for ServiceModel {
    fn default() -> Self {
        ServiceModel {
            slots: 24,
            overhead_ms: 0.5,
            prefill_ms_per_token: 0.005,
            decode_ms_per_token: 0.3,
        }
    }
}

impl ServiceModel {
    /// The model as the records' `llm_service` metadata.
    pub fn description(&self, complexity: Complexity) -> serde_json::Value {
        serde_json::json!({
            "kind": "embedded",
            "slots": self.slots,
            "overhead_ms": self.overhead_ms,
            "prefill_ms_per_token": self.prefill_ms_per_token,
            "decode_ms_per_token": self.decode_ms_per_token,
            "output_tokens": complexity.output_tokens(),
            "emulates": "a remote GPU inference endpoint: waits for a sequence slot, then for the per-token service time",
        })
    }

    /// The generator dimension: what every backend's generate step calls
    /// when no `--llm-endpoint` is given.
    pub fn label(&self) -> String {
        format!(
            "embedded-endpoint(K={},overhead={}ms,prefill={}ms/token,decode={}ms/token)",
            self.slots, self.overhead_ms, self.prefill_ms_per_token, self.decode_ms_per_token
        )
    }

    pub fn service_time(&self, prompt_tokens: u32, output_tokens: u32) -> Duration {
        Duration::from_secs_f64(
            (self.overhead_ms
                + prompt_tokens as f64 * self.prefill_ms_per_token
                + output_tokens as f64 * self.decode_ms_per_token)
                / 1000.0,
        )
    }
}

/// The embedded inference endpoint: one per run, shared by every node and
/// job; emulates a remote GPU (it waits, it does not compute).
pub struct LlmService {
    pub model: ServiceModel,
    slots: Slots,
}

impl LlmService {
    pub fn new(model: ServiceModel) -> LlmService {
        LlmService {
            slots: Slots::new(model.slots.max(1)),
            model,
        }
    }

    /// One request: wait for a sequence slot, hold it for the service
    /// time. Returns (time waited for the slot, time served).
    pub fn call(&self, prompt_tokens: u32, output_tokens: u32) -> (Duration, Duration) {
        let asked = Instant::now();
        self.slots.acquire(false);
        let served = Instant::now();
        std::thread::sleep(self.model.service_time(prompt_tokens, output_tokens));
        let done = Instant::now();
        self.slots.release();
        (served - asked, done - served)
    }
}

/// Everything the operators need; shared by the workers of a run.
pub struct Operators {
    pub seed: u64,
    pub complexity: Complexity,
    pub corpus: Arc<Corpus>,
    /// A real LLM for the generate step, when asked.
    pub llm: Option<LlmEndpoint>,
    /// The embedded inference endpoint otherwise.
    pub service: LlmService,
}

impl Operators {
    pub fn new(seed: u64, complexity: Complexity) -> Operators {
        Operators {
            seed,
            complexity,
            corpus: Arc::new(Corpus::generate(seed, complexity)),
            llm: None,
            service: LlmService::new(ServiceModel::default()),
        }
    }

    /// What the generate step calls, for the records' metadata.
    pub fn llm_service_description(&self) -> serde_json::Value {
        match &self.llm {
            Some(l) => serde_json::json!({"kind": "openai_compatible", "endpoint": l.url, "model": l.model}),
            None => self.service.model.description(self.complexity),
        }
    }

    /// Run `op` for `item` on a node of speed `speed` (local work × 1/speed;
    /// the remote inference call is made once, whatever the node).
    pub fn run(&self, op: OpKind, item: u64, input: Payload, speed: f64) -> Payload {
        let repeat = if op == OpKind::Generate {
            1
        } else {
            (1.0 / speed.max(0.05)).round().max(1.0) as u32
        };
        // A slow node does the same work again; the result is the same.
        for _ in 1..repeat {
            std::hint::black_box(self.run_once(op, item, input.clone()));
        }
        self.run_once(op, item, input)
    }

    fn run_once(&self, op: OpKind, item: u64, mut p: Payload) -> Payload {
        match op {
            OpKind::Noop => {}
            OpKind::Embed => {
                let v = embed_tokens(&query_tokens(self.seed, item));
                p.digest ^= xxh3_64_with_seed(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(), item);
                p.embedding = v.to_vec();
            }
            OpKind::Retrieve => {
                let q = if p.embedding.is_empty() {
                    embed_tokens(&query_tokens(self.seed, item)).to_vec()
                } else {
                    p.embedding.clone()
                };
                p.doc_ids = top_k(&self.corpus, &q, self.complexity.top_k());
                p.digest = p.doc_ids.iter().fold(p.digest, |d, id| d.rotate_left(7) ^ *id as u64);
            }
            OpKind::Rerank => {
                let query = query_tokens(self.seed, item);
                let overlap = |id: u32| {
                    self.corpus.docs[id as usize]
                        .iter()
                        .filter(|t| query.contains(t))
                        .count()
                };
                let mut scored: Vec<(usize, u32)> = p.doc_ids.iter().map(|&id| (overlap(id), id)).collect();
                // Most overlap first; ties keep the retrieval order (stable sort).
                scored.sort_by_key(|s| std::cmp::Reverse(s.0));
                p.doc_ids = scored.into_iter().map(|(_, id)| id).collect();
                p.digest = p
                    .doc_ids
                    .iter()
                    .fold(p.digest.rotate_left(3), |d, id| d.rotate_left(5) ^ *id as u64);
            }
            OpKind::Context => {
                let budget = 64 * self.complexity.top_k();
                let mut tokens: Vec<u32> = query_tokens(self.seed, item);
                for id in &p.doc_ids {
                    tokens.extend_from_slice(&self.corpus.docs[*id as usize]);
                    if tokens.len() >= budget {
                        break;
                    }
                }
                tokens.truncate(budget);
                p.context_tokens = tokens.len() as u32;
                if self.llm.is_some() {
                    p.prompt = tokens.clone();
                }
                p.digest ^= xxh3_64_with_seed(&tokens.iter().flat_map(|t| t.to_le_bytes()).collect::<Vec<u8>>(), 1);
            }
            OpKind::Generate if self.llm.is_some() => {
                let llm = self.llm.as_ref().expect("checked");
                let tokens = if p.prompt.is_empty() {
                    query_tokens(self.seed, item)
                } else {
                    std::mem::take(&mut p.prompt)
                };
                let prompt: Vec<String> = tokens.iter().map(|t| format!("w{t}")).collect();
                let asked = Instant::now();
                match llm.complete(&prompt.join(" "), self.complexity.output_tokens(), self.seed ^ item) {
                    Ok(text) => p.digest ^= xxh3_64_with_seed(text.as_bytes(), item),
                    Err(e) => p.error = Some(e),
                }
                p.llm_service += asked.elapsed();
            }
            OpKind::Generate => {
                // Without a context step, the prompt is the query itself.
                let prompt = if p.context_tokens > 0 {
                    p.context_tokens
                } else {
                    query_tokens(self.seed, item).len() as u32
                };
                let (wait, served) = self.service.call(prompt, self.complexity.output_tokens());
                p.llm_wait += wait;
                p.llm_service += served;
                p.digest = xxh3_64_with_seed(&(p.digest ^ item).to_le_bytes(), prompt as u64 ^ 0x6E);
            }
            OpKind::Compute => {
                p.digest = burn(p.digest ^ item, ROUNDS_PER_TOKEN * self.complexity.output_tokens());
            }
            OpKind::HeavyCompute => {
                p.digest = burn(p.digest ^ item, ROUNDS_PER_TOKEN * Complexity::Heavy.output_tokens());
            }
        }
        p
    }
}

/// An OpenAI-compatible server (vLLM, llama.cpp server, Ollama's /v1, …).
pub struct LlmEndpoint {
    pub url: String,
    pub model: String,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl LlmEndpoint {
    /// Connect to `url` (the server root, e.g. `http://127.0.0.1:8000`) and
    /// pick `model`, or the first model `GET /v1/models` lists.
    pub fn connect(url: &str, model: Option<&str>) -> anyhow::Result<LlmEndpoint> {
        use anyhow::Context;
        let url = url.trim_end_matches('/').trim_end_matches("/v1").to_string();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(300))
            .build()?;
        let models: serde_json::Value = rt
            .block_on(async { client.get(format!("{url}/v1/models")).send().await?.error_for_status()?.json().await })
            .with_context(|| format!("--llm-endpoint {url}: GET /v1/models failed; start an OpenAI-compatible server there or drop --llm-endpoint"))?;
        let model = match model {
            Some(m) => m.to_string(),
            None => models["data"][0]["id"]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("--llm-endpoint {url}: /v1/models lists no model; pass --llm-model"))?,
        };
        Ok(LlmEndpoint { url, model, client, rt })
    }

    /// One completion (temperature 0, seeded); the text, or why it failed.
    pub fn complete(&self, prompt: &str, max_tokens: u32, seed: u64) -> Result<String, String> {
        let body = serde_json::json!({"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "seed": seed % (1 << 31)});
        let url = format!("{}/v1/completions", self.url);
        self.rt.block_on(async {
            let resp = self
                .client
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("POST {url}: {e}"))?;
            let status = resp.status();
            let doc: serde_json::Value = resp.json().await.map_err(|e| format!("POST {url}: {e}"))?;
            if !status.is_success() {
                return Err(format!("POST {url}: HTTP {status}: {doc}"));
            }
            doc["choices"][0]["text"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("POST {url}: no choices[0].text in {doc}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_normalized_and_deterministic() {
        let a = embed_tokens(&query_tokens(42, 7));
        let b = embed_tokens(&query_tokens(42, 7));
        assert_eq!(a, b);
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        assert_ne!(query_tokens(42, 7), query_tokens(43, 7), "the seed changes the queries");
    }

    #[test]
    fn retrieval_finds_a_document_by_its_own_embedding() {
        let corpus = Corpus::generate(1, Complexity::Light);
        let q = corpus.embeddings[17];
        assert_eq!(top_k(&corpus, &q, 3)[0], 17);
        assert_eq!(top_k(&corpus, &q, 3).len(), 3);
    }

    #[test]
    fn a_pipeline_gives_the_same_digest_whatever_the_node_speed() {
        let ops = Operators::new(42, Complexity::Light);
        let run = |speed: f64| {
            let mut p = Payload::default();
            for op in [OpKind::Embed, OpKind::Retrieve, OpKind::Context, OpKind::Generate] {
                p = ops.run(op, 5, p, speed);
            }
            p.digest
        };
        assert_eq!(run(1.0), run(0.5));
        let mut p = Payload::default();
        p = ops.run(OpKind::Embed, 5, p, 1.0);
        assert_eq!(p.embedding.len(), DIM);
    }
}
