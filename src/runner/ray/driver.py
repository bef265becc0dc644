"""sagereport's Ray driver: runs the embedded engine's workloads as Ray tasks.

sagereport uploads this file with a spec.json beside it as the job's working
directory (the Jobs API package endpoint, as `ray job submit --working-dir`
does) and starts `python driver.py spec.json`. The spec carries everything:
the items in the deterministic-shuffle order and batches sagereport computed,
their pipelines, priorities, jobs and arrival times, and the run's placement
policy, concurrency, faults and reconfiguration. Each run prints one line

    SAGEREPORT_RESULT {json}

with per-item timings, which sagereport reads back from the job logs and
writes into the usual result files.

The operators are the embedded engine's (src/runner/ops.rs), in Python:
feature-hashed query embedding, exact top-k cosine retrieval over a seeded
corpus, context construction up to a token budget, and a CPU-bound token
generator whose cost grows with output tokens. Hashes differ from the Rust
ones (blake2b instead of xxh3), so digests are not comparable across
backends; the work per task is the same in kind and amount.
"""

import hashlib
import json
import math
import sys
import time

import ray

DIM = 64
VOCABULARY = 5000
ROUNDS_PER_TOKEN = 4000
COMPLEXITY = {
    "light": {"docs": 256, "tokens": 16, "top_k": 3},
    "medium": {"docs": 1024, "tokens": 48, "top_k": 5},
    "heavy": {"docs": 4096, "tokens": 128, "top_k": 8},
}


def h64(*parts):
    data = b"".join(int(p & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little") for p in parts)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def query_tokens(seed, item):
    n = 6 + h64(item, seed, 0x51) % 10
    return [h64(item * 32 + t, seed) % VOCABULARY for t in range(n)]


def embed_tokens(tokens):
    v = [0.0] * DIM
    for t in tokens:
        h = h64(t, 0xE3B)
        v[h % DIM] += 1.0 if (h >> 63) == 0 else -1.0
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v] if norm > 0 else v


class Corpus:
    def __init__(self, seed, complexity):
        n = COMPLEXITY[complexity]["docs"]
        self.docs = [[h64(d * 64 + t, seed) % VOCABULARY for t in range(32)] for d in range(n)]
        self.vectors = [embed_tokens(doc) for doc in self.docs]


def burn(state, rounds):
    # The unit of CPU work of generation and compute steps: hashing 8 bytes per
    # round, done by hashlib in C so the cost per round is close to the Rust
    # engine's (a pure-Python loop would measure the interpreter, not the engine).
    block = (state & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    return int.from_bytes(hashlib.blake2b(block * max(1, rounds), digest_size=8).digest(), "little")


_CORPUS = {}


def corpus(seed, complexity):
    key = (seed, complexity)
    if key not in _CORPUS:
        _CORPUS[key] = Corpus(seed, complexity)
    return _CORPUS[key]


def run_op(op, item, payload, seed, complexity):
    c = COMPLEXITY[complexity]
    if op == "noop":
        return payload
    if op == "embed":
        payload["embedding"] = embed_tokens(query_tokens(seed, item))
        payload["digest"] ^= h64(item, int(sum(payload["embedding"]) * 1e6))
    elif op == "retrieve":
        q = payload.get("embedding") or embed_tokens(query_tokens(seed, item))
        corp = corpus(seed, complexity)
        scored = sorted(((-sum(a * b for a, b in zip(v, q)), i) for i, v in enumerate(corp.vectors)))
        payload["doc_ids"] = [i for _, i in scored[: c["top_k"]]]
        for i in payload["doc_ids"]:
            payload["digest"] = h64(payload["digest"], i)
    elif op == "context":
        budget = 64 * c["top_k"]
        tokens = query_tokens(seed, item)
        corp = corpus(seed, complexity)
        for i in payload.get("doc_ids", []):
            tokens.extend(corp.docs[i])
            if len(tokens) >= budget:
                break
        payload["context_tokens"] = min(len(tokens), budget)
        payload["digest"] = h64(payload["digest"], payload["context_tokens"])
    elif op == "generate":
        state = payload["digest"] ^ item
        for _ in range(c["tokens"]):
            state = burn(state, ROUNDS_PER_TOKEN + payload.get("context_tokens", 0))
        payload["digest"] = state
    elif op == "compute":
        payload["digest"] = burn(payload["digest"] ^ item, ROUNDS_PER_TOKEN * c["tokens"])
    return payload


def injected_failure(seed, item, stage, attempt, rate):
    return rate > 0 and (h64(item, stage, attempt, seed ^ 0xFA17) / 2.0**64) < rate


@ray.remote
def stage_task(op, item, stage, payload, seed, complexity, fail_rate, max_retries, submitted):
    started = time.time()
    attempts, ok = 0, False
    while True:
        out = run_op(op, item, dict(payload), seed, complexity)
        attempts += 1
        if not injected_failure(seed, item, stage, attempts - 1, fail_rate):
            ok = True
            break
        if attempts > max_retries:
            break
    ended = time.time()
    node = ray.get_runtime_context().get_node_id()[:12]
    return out, {"submitted": submitted, "started": started, "ended": ended, "attempts": attempts, "ok": ok, "node": node}


def run(spec, r):
    cpus = max(1.0, ray.cluster_resources().get("CPU", 1.0))
    strategy = "SPREAD" if r["policy"] == "load_aware_spread" else "DEFAULT"
    workers = max(1, r["workers"])
    pipelines = r["pipelines"]
    seed, complexity = spec["seed"], spec["complexity"]
    items = r["items"]
    start = time.time()
    results = [None] * len(items)
    state = {}  # ref -> (slot, stage, payload_timing_accumulator)
    pending = []  # arrived, not yet started: (priority, slot)
    next_admit, in_flight, finished = 0, 0, 0
    completed_tasks = failed_tasks = submitted_tasks = retries = 0
    node_tasks = {}
    reconfig = r.get("reconfig")

    def submit(slot, stage, payload, acc):
        nonlocal submitted_tasks
        it = items[slot]
        op = pipelines[it["pipeline"]][stage]
        share = min(1.0, max(0.001, cpus / workers))
        ref = stage_task.options(num_cpus=share, scheduling_strategy=strategy).remote(
            op, it["item"], stage, payload, seed, complexity, r["fail_rate"], r["max_retries"], time.time())
        state[ref] = (slot, stage, acc)
        submitted_tasks += 1

    while finished < len(items):
        now = time.time() - start
        while next_admit < len(items) and items[next_admit]["arrival_ms"] / 1000.0 <= now:
            pending.append((-(items[next_admit]["priority"] if r["policy"] == "priority" else 0), next_admit))
            next_admit += 1
        pending.sort()
        while pending and in_flight < r["max_in_flight"]:
            _, slot = pending.pop(0)
            submit(slot, 0, {"digest": 0}, {"scheduling": 0.0, "execution": 0.0, "attempts": 0, "failed": False, "arrival": now})
            in_flight += 1
        if not state:
            time.sleep(0.0005)
            continue
        ready, _ = ray.wait(list(state.keys()), num_returns=1, timeout=0.05)
        for ref in ready:
            slot, stage, acc = state.pop(ref)
            payload, t = ray.get(ref)
            acc["scheduling"] += max(0.0, t["started"] - t["submitted"])
            acc["execution"] += t["ended"] - t["started"]
            acc["attempts"] += t["attempts"]
            node_tasks[t["node"]] = node_tasks.get(t["node"], 0) + t["attempts"]
            completed_tasks += 1 if t["ok"] else 0
            failed_tasks += t["attempts"] - (1 if t["ok"] else 0)
            retries += t["attempts"] - 1
            it = items[slot]
            if t["ok"] and stage + 1 < len(pipelines[it["pipeline"]]):
                submit(slot, stage + 1, payload, acc)
                continue
            acc["failed"] = not t["ok"]
            results[slot] = {
                "item": it["item"], "job": it["job"], "priority": it["priority"],
                "arrival_s": it["arrival_ms"] / 1000.0, "done_s": time.time() - start,
                "scheduling_s": acc["scheduling"], "queueing_s": 0.0, "execution_s": acc["execution"],
                "attempts": acc["attempts"], "failed": acc["failed"], "digest": payload.get("digest", 0) & 0x7FFFFFFFFFFFFFFF,
            }
            finished += 1
            in_flight -= 1
        if reconfig and completed_tasks >= reconfig["at"]:
            workers = max(1, reconfig["workers"])
            reconfig = None
    # Every attempt inside a task was either completed or failed-and-retried.
    return {
        "key": r["key"], "wall_s": time.time() - start, "items": results, "node_tasks": node_tasks,
        "tasks_submitted": completed_tasks + failed_tasks, "tasks_completed": completed_tasks,
        "tasks_failed": failed_tasks, "retries": retries,
    }


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    ray.init()
    print("SAGEREPORT_RAY " + json.dumps({"ray_version": ray.__version__, "resources": ray.cluster_resources()}), flush=True)
    for r in spec["runs"]:
        if r.get("warmup"):
            run(spec, dict(r, items=r["warmup"], fail_rate=0.0, reconfig=None, key=r["key"] + "-warmup"))
        print("SAGEREPORT_RESULT " + json.dumps(run(spec, r)), flush=True)


if __name__ == "__main__":
    main()
