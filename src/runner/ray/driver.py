"""sagereport's Ray driver: runs the embedded engine's workloads as Ray tasks.

sagereport uploads this file with a spec.json beside it as the job's working
directory (the Jobs API package endpoint, as `ray job submit --working-dir`
does) and starts `python3 driver.py spec.json` (`python` where there is no
`python3`). The spec carries everything: the items in the
deterministic-shuffle order sagereport computed, their pipelines,
priorities, jobs and arrival times, and each run's emulated cluster (nodes,
their speeds and workers), placement policy, item window, faults, outage
and reconfiguration. The driver prints one header line

    SAGEREPORT_RAY {json}        the real cluster: Ray version, nodes, CPUs, hosts

and one line per run

    SAGEREPORT_RESULT {json}     per-item timings and the run's counters

which sagereport reads back from the job logs.

Like for like with the embedded engine (src/runner/engine/tasks.rs):

- **Nodes and parallelism.** The run's nodes are emulated here, as the
  embedded engine emulates them: one queue per node, at most
  `workers_per_node` of its tasks submitted to Ray at a time, so at most
  nodes x workers_per_node tasks are in flight (the window; each task asks
  Ray for a CPU share of cluster CPUs / window). Tasks are placed on nodes
  by the same policy code (`place`, a port of engine::place). On a
  multi-node Ray cluster emulated node i is pinned (soft node affinity) to
  Ray node i mod M.
- **Node speeds** as the engine does: a task on a node of speed s does its
  work round(1/s) times.
- **Outage** (Q5) as the task engine does: between two completed-task
  marks the node takes no placement; its queued tasks are re-placed.
- **Reconfiguration** (Q7): the workers per node change at a
  completed-task mark, so the window changes.
- **One clock.** Every timestamp is the driver's (time.perf_counter):
  scheduling = waiting in the central queue until placed; queueing =
  waiting in the node's queue + Ray's own dispatch and return (the task's
  round trip minus its execution); execution = the op's duration measured
  inside the task. Their sum over an item's stages is its latency.
- **Arrivals.** Closed loop: an item's clock starts when it is admitted
  (a slot of the item window frees). Open loop: at its scheduled arrival;
  the driver sleeps until the next arrival instead of polling.
- **Corpus** built once by the driver and put in the object store before
  any timing; workers are started (and fetch it) before each run's timing.
- **Same work per item.** The operators are the engine's
  (src/runner/ops.rs); retrieval is vectorised with numpy when the cluster
  has it (exact top-k, ties by lower index), else the same dense algorithm
  in pure Python (much slower per item; the records say which). Hashes are
  blake2b instead of xxh3, so digests do not match across backends.
- **Job drivers and batches** as the engine's (engine::Drivers): each job
  (tenant) issues its own items under its own window, in parity batches
  (batch b + k only after batch b completed); jobs start together or at
  their stagger delays and overlap.
- **Generate** calls the LLM endpoint when the spec names one, else the
  embedded engine's inference endpoint (ops::LlmService): K sequence slots
  and the same per-token service-time model, as one actor shared by every
  task of the job (SlotService; the actor call's round trip counts as
  waiting, as a remote endpoint's network would).
"""

import hashlib
import heapq
import json
import math
import os
import platform
import socket
import struct
import sys
import time
import urllib.request
from collections import deque
from fractions import Fraction
from operator import mul

try:
    import numpy as np
except ImportError:  # the same algorithm in pure Python
    np = None

DIM = 64
VOCABULARY = 5000
COMPLEXITY = {
    "light": {"docs": 256, "tokens": 16, "top_k": 3},
    "medium": {"docs": 1024, "tokens": 48, "top_k": 5},
    "heavy": {"docs": 4096, "tokens": 128, "top_k": 8},
}
MASK = 0xFFFFFFFFFFFFFFFF
# Hash rounds per output token of the compute steps (ops::ROUNDS_PER_TOKEN).
ROUNDS_PER_TOKEN = 4000


_PACK2 = struct.Struct("<QQ").pack
_BLAKE2B = hashlib.blake2b


def h64(*parts):
    if len(parts) == 2:  # the hot case (query tokens, embeddings)
        data = _PACK2(int(parts[0]) & MASK, int(parts[1]) & MASK)
    else:
        data = struct.pack("<%dQ" % len(parts), *[int(p) & MASK for p in parts])
    return int.from_bytes(_BLAKE2B(data, digest_size=8).digest(), "little")


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


def build_corpus(seed, complexity):
    """Documents (token ids) and their embeddings: numpy arrays when numpy is
    there (shared zero-copy from the object store), lists otherwise. A plain
    dict, so the object store needs no class of this file to read it."""
    n = COMPLEXITY[complexity]["docs"]
    docs = [[h64(d * 64 + t, seed) % VOCABULARY for t in range(32)] for d in range(n)]
    vectors = [embed_tokens(doc) for doc in docs]
    if np is not None:
        return {"docs": np.asarray(docs, dtype=np.int64), "vectors": np.asarray(vectors, dtype=np.float32)}
    return {"docs": docs, "vectors": vectors}


def top_k(corpus, q, k):
    """Indices of the k most similar documents, best first, ties by lower index
    (ops::top_k): dense dot products, then a partial selection."""
    if np is not None and not isinstance(corpus["vectors"], list):
        scores = corpus["vectors"] @ np.asarray(q, dtype=np.float32)
        n = scores.shape[0]
        k = min(k, n)
        if k == 0:
            return []
        kth = np.partition(scores, n - k)[n - k]
        cand = np.flatnonzero(scores >= kth)
        order = cand[np.lexsort((cand, -scores[cand]))]
        return [int(i) for i in order[:k]]
    scores = [sum(map(mul, v, q)) for v in corpus["vectors"]]
    return heapq.nsmallest(k, range(len(scores)), key=lambda i: (-scores[i], i))


def burn(state, rounds):
    # The unit of CPU work of generation and compute steps: hashing 8 bytes per
    # round, done by hashlib in C so the cost per round is close to the Rust
    # engine's xxh3 rounds (a pure-Python loop would measure the interpreter,
    # not the engine; sha1 is hashlib's fastest, about the engine's speed).
    block = (state & MASK).to_bytes(8, "little")
    return int.from_bytes(hashlib.sha1(block * max(1, rounds)).digest()[:8], "little")


class SlotService:
    """The embedded inference endpoint (ops::LlmService): K concurrent
    sequence slots, first come first served; a request holds a slot for
    overhead + prompt tokens x prefill + output tokens x decode, *waiting*
    (a client of a remote GPU), not computing. Thread-safe."""

    def __init__(self, model):
        import threading

        self.model = model
        self.free = max(1, int(model["slots"]))
        self.waiting = deque()
        self.cv = threading.Condition()

    def service_time(self, prompt_tokens, output_tokens):
        m = self.model
        return (m["overhead_ms"] + prompt_tokens * m["prefill_ms_per_token"] + output_tokens * m["decode_ms_per_token"]) / 1000.0

    def call(self, prompt_tokens, output_tokens):
        """One request: (seconds waited for a slot, seconds served)."""
        asked = time.perf_counter()
        ticket = object()
        with self.cv:
            self.waiting.append(ticket)
            while self.waiting[0] is not ticket or self.free == 0:
                self.cv.wait()
            self.waiting.popleft()
            self.free -= 1
            self.cv.notify_all()
        served = time.perf_counter()
        time.sleep(self.service_time(prompt_tokens, output_tokens))
        done = time.perf_counter()
        with self.cv:
            self.free += 1
            self.cv.notify_all()
        return served - asked, done - served


class ServiceActor:
    """The endpoint as one Ray actor shared by every task of the job (a
    threaded actor: each call holds one of its threads, the SlotService
    bounds the concurrent sequences to K)."""

    def __init__(self, model):
        self.service = SlotService(model)

    def call(self, prompt_tokens, output_tokens):
        return self.service.call(prompt_tokens, output_tokens)


class RemoteService:
    """A task's view of the ServiceActor: what the round trip cost beyond
    the service time (the slot wait and the call itself) counts as waiting."""

    def __init__(self, actor):
        self.actor = actor

    def call(self, prompt_tokens, output_tokens):
        import ray

        asked = time.perf_counter()
        _, served = ray.get(self.actor.call.remote(prompt_tokens, output_tokens))
        return max(0.0, time.perf_counter() - asked - served), served


# The generate step's service in this process: set by the host (the Ray
# task from its actor, the SAGE driver in-process); else a private one
# (calibration).
SERVICE = [None]


def service_for(generator):
    if SERVICE[0] is None:
        SERVICE[0] = SlotService(generator)
    return SERVICE[0]


def complete(generator, prompt, max_tokens, seed):
    body = json.dumps({"model": generator["model"], "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "seed": seed % (1 << 31)}).encode()
    url = generator["url"].rstrip("/") + "/v1/completions"
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as resp:
        doc = json.loads(resp.read())
    return doc["choices"][0]["text"]


def run_op(op, item, payload, seed, complexity, corpus, generator):
    c = COMPLEXITY[complexity]
    if op == "noop":
        return payload
    if op == "embed":
        payload["embedding"] = embed_tokens(query_tokens(seed, item))
        payload["digest"] ^= h64(item, int(sum(payload["embedding"]) * 1e6))
    elif op == "retrieve":
        q = payload.get("embedding") or embed_tokens(query_tokens(seed, item))
        payload["doc_ids"] = top_k(corpus, q, c["top_k"])
        for i in payload["doc_ids"]:
            payload["digest"] = h64(payload["digest"], i)
    elif op == "context":
        budget = 64 * c["top_k"]
        tokens = query_tokens(seed, item)
        for i in payload.get("doc_ids", []):
            doc = corpus["docs"][i]
            tokens.extend(doc if isinstance(doc, list) else doc.tolist())
            if len(tokens) >= budget:
                break
        tokens = tokens[:budget]
        payload["context_tokens"] = len(tokens)
        if generator.get("kind") == "endpoint":
            payload["prompt"] = tokens
        payload["digest"] = h64(payload["digest"], payload["context_tokens"])
    elif op == "generate":
        if generator.get("kind") == "endpoint":
            try:
                text = complete(generator, " ".join("w%d" % t for t in payload.get("prompt", [])), c["tokens"], seed ^ item)
                payload["digest"] ^= h64(item, int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little"))
            except Exception as e:  # a failed attempt, retried per the fault policy
                payload["error"] = str(e)[:300]
        else:
            # Without a context step, the prompt is the query itself (ops::Generate).
            prompt = payload.get("context_tokens") or len(query_tokens(seed, item))
            wait, served = service_for(generator).call(prompt, c["tokens"])
            payload["llm_wait"] = payload.get("llm_wait", 0.0) + wait
            payload["llm_service"] = payload.get("llm_service", 0.0) + served
            payload["digest"] = h64(payload["digest"] ^ item, prompt, 0x6E)
    elif op == "rerank":
        # The retrieved documents by exact token overlap with the query, most
        # first, ties in retrieval order (ops::Rerank).
        query = set(query_tokens(seed, item))
        def overlap(i):
            doc = corpus["docs"][i]
            return sum(1 for t in (doc if isinstance(doc, list) else doc.tolist()) if t in query)
        payload["doc_ids"] = sorted(payload.get("doc_ids", []), key=lambda i: -overlap(i))
        for i in payload["doc_ids"]:
            payload["digest"] = h64(payload["digest"], int(i), 5)
    elif op == "compute":
        payload["digest"] = burn(payload["digest"] ^ item, ROUNDS_PER_TOKEN * c["tokens"])
    elif op == "compute_heavy":
        # Always the heavy complexity's amount (ops::HeavyCompute).
        payload["digest"] = burn(payload["digest"] ^ item, ROUNDS_PER_TOKEN * COMPLEXITY["heavy"]["tokens"])
    else:
        raise ValueError("unknown operator %r: this driver is older than the runner" % op)
    return payload


def repeats(speed):
    # ops::Operators::run: (1/speed).round() with halves away from zero, at least 1.
    return max(1, int(math.floor(1.0 / max(speed, 0.05) + 0.5)))


def injected_failure(seed, item, stage, attempt, rate):
    return rate > 0 and (h64(item, stage, attempt, seed ^ 0xFA17) / 2.0**64) < rate


_CORPUS = {}


def corpus_of(box):
    # box = [corpus ObjectRef, ServiceActor handle or None]: the corpus is
    # fetched from the object store once per worker process; the generate
    # step calls the job's one shared endpoint actor.
    import ray

    key = box[0].hex()
    if key not in _CORPUS:
        _CORPUS[key] = ray.get(box[0])
    if len(box) > 1 and box[1] is not None and not isinstance(SERVICE[0], RemoteService):
        SERVICE[0] = RemoteService(box[1])
    return _CORPUS[key]


def stage_task(box, op, item, stage, payload, seed, complexity, speed, generator, fail_rate, attempt):
    import ray

    corpus = corpus_of(box)
    wall_start = time.time()
    t0 = time.perf_counter()
    out = payload
    # A slow node does its local work again; the remote endpoint is called once.
    for _ in range(1 if op == "generate" else repeats(speed)):
        out = run_op(op, item, dict(payload), seed, complexity, corpus, generator)
    execution = time.perf_counter() - t0
    ok = "error" not in out and not injected_failure(seed, item, stage, attempt, fail_rate)
    info = {"execution": execution, "ok": ok, "ray_node": ray.get_runtime_context().get_node_id()[:12], "wall": (wall_start, time.time())}
    if "error" in out:
        info["error"] = out["error"]
    return (out if ok else None), info


def prepare_task(box, hold):
    # Starts a worker, loads the corpus into it and connects it to the
    # endpoint actor, before timing.
    corpus_of(box)
    if isinstance(SERVICE[0], RemoteService):
        SERVICE[0].call(0, 0)
    time.sleep(hold)
    return os.getpid()


def op_costs(seed, complexity, generator, corpus, items=48):
    """Microseconds per item of each operator on this worker (the first items
    warm up and are not counted), for comparison with the embedded engine."""
    out = {}
    payloads = {}
    for op in ["embed", "retrieve", "context", "generate", "compute"]:
        if op == "generate" and generator.get("kind") == "endpoint":
            out[op] = None
            continue
        total = 0.0
        for n in range(items + 8):
            p = dict(payloads.get(n, {"digest": 0}))
            t0 = time.perf_counter()
            p = run_op(op, n, p, seed, complexity, corpus, generator)
            if n >= 8:
                total += time.perf_counter() - t0
            if op in ("embed", "retrieve", "context"):
                payloads[n] = p
        out[op] = round(total / items * 1e6, 2)
    return out


def calibrate_task(box, seed, complexity, generator):
    # Uncontended costs: a private endpoint, not the job's shared one.
    return op_costs(seed, complexity, generator, corpus_of(box[:1]))


def place(policy, nodes, turn):
    """engine::place: the node for the next task, or None to hold it."""
    up = [i for i, n in enumerate(nodes) if n["up"]]

    def outstanding(n):
        return len(n["queue"]) + n["running"]

    def free(n):
        return outstanding(n) < n["workers"]

    def least_loaded():
        if not up:
            return None
        return min(up, key=lambda i: (Fraction(outstanding(nodes[i]), max(1, nodes[i]["workers"])), nodes[i]["placed"], i))

    if policy == "fifo":
        return next((i for i in up if free(nodes[i])), None)
    if policy == "priority":
        cands = [i for i in up if free(nodes[i])]
        return min(cands, key=lambda i: (outstanding(nodes[i]) * 1000 // max(1, nodes[i]["workers"]), nodes[i]["placed"], i)) if cands else None
    if policy == "load_aware_pack":
        first = next((i for i in up if free(nodes[i])), None)
        return first if first is not None else least_loaded()
    if policy == "round_robin":
        for _ in range(len(nodes)):
            i = turn[0] % len(nodes)
            turn[0] += 1
            if nodes[i]["up"]:
                return i
        return None
    return least_loaded()


class CentralQueue:
    """FIFO; under the priority policy highest class first, FIFO within a class."""

    def __init__(self, by_priority):
        self.by_priority = by_priority
        self.heap = []
        self.fifo = deque()
        self.seq = 0

    def push(self, task, priority):
        self.seq += 1
        if self.by_priority:
            heapq.heappush(self.heap, (-priority, self.seq, task))
        else:
            self.fifo.append(task)

    def pop(self):
        return heapq.heappop(self.heap)[2] if self.by_priority else self.fifo.popleft()

    def __len__(self):
        return len(self.heap) + len(self.fifo)


class Drivers:
    """engine::Drivers: one driver per job (tenant), each with its items in
    order, its own in-flight window and its open parity batches (a closed
    loop keeps at most ceil(window / batch size) batches open: batch b + k is
    issued only after batch b completed); the drivers take turns issuing."""

    def __init__(self, items, window, batch_size):
        self.items = items
        n_jobs = max((it["job"] for it in items), default=-1) + 1
        unbounded = window >= (1 << 30)
        max_open = (1 << 62) if unbounded else -(-window // max(1, batch_size))
        self.jobs = [{"order": [], "next": 0, "in_flight": 0, "window": max(1, window), "max_open": max_open, "left": [], "first_open": 0} for _ in range(n_jobs)]
        for slot, it in enumerate(items):
            d = self.jobs[it["job"]]
            d["order"].append(slot)
            b = it["batch"]
            if len(d["left"]) <= b:
                d["left"].extend([0] * (b + 1 - len(d["left"])))
            d["left"][b] += 1
        self.turn = 0

    def _ready(self, d):
        if d["next"] >= len(d["order"]):
            return None
        slot = d["order"][d["next"]]
        if d["in_flight"] < d["window"] and self.items[slot]["batch"] < d["first_open"] + d["max_open"]:
            return slot
        return None

    def issue(self, now):
        """The next slot a driver may issue at `now` (seconds), or None."""
        n = len(self.jobs)
        for k in range(n):
            j = (self.turn + k) % n
            d = self.jobs[j]
            slot = self._ready(d)
            if slot is not None and self.items[slot]["arrival_ms"] / 1000.0 <= now:
                d["next"] += 1
                d["in_flight"] += 1
                self.turn = j + 1
                return slot
        return None

    def next_arrival(self):
        """The earliest future arrival a driver waits for (seconds), or None."""
        times = [self.items[slot]["arrival_ms"] / 1000.0 for slot in (self._ready(d) for d in self.jobs) if slot is not None]
        return min(times) if times else None

    def done(self, slot):
        d = self.jobs[self.items[slot]["job"]]
        d["in_flight"] -= 1
        d["left"][self.items[slot]["batch"]] -= 1
        while d["first_open"] < len(d["left"]) and d["left"][d["first_open"]] == 0:
            d["first_open"] += 1


def max_overlap(intervals):
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class Cluster:
    """The real Ray cluster, read once."""

    def __init__(self, ray):
        self.ray = ray
        alive = [n for n in ray.nodes() if n.get("Alive")]
        self.node_ids = sorted(n["NodeID"] for n in alive)
        self.cpus = float(ray.cluster_resources().get("CPU", 1.0))
        self.nodes = [
            {
                "node_id": n["NodeID"][:12],
                "address": n.get("NodeManagerAddress"),
                "hostname": n.get("NodeManagerHostname"),
                "cpus": n.get("Resources", {}).get("CPU", 0.0),
                "memory_bytes": int(n.get("Resources", {}).get("memory", 0)),
            }
            for n in sorted(alive, key=lambda n: n["NodeID"])
        ]

    def strategy(self, emulated_node):
        if len(self.node_ids) <= 1:
            return "DEFAULT"
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node_id=self.node_ids[emulated_node % len(self.node_ids)], soft=True)


def run(spec, r, cluster, box, remote):
    ray = cluster.ray
    seed, complexity, generator = spec["seed"], spec["complexity"], spec["generator"]
    pipelines = r["pipelines"]
    items = r["items"]
    policy = r["policy"]
    closed = r["closed"]
    max_items = r["max_in_flight"]
    speeds = r["node_speeds"]
    nodes = [{"speed": s, "workers": max(1, r["workers_per_node"]), "queue": deque(), "running": 0, "placed": 0, "up": True, "tasks": 0} for s in speeds]
    outage = r.get("outage")
    reconfig = r.get("reconfig")
    fail_rate, max_retries = r["fail_rate"], r["max_retries"]

    def window():
        return sum(n["workers"] for n in nodes)

    def share():
        return min(1.0, max(0.0001, cluster.cpus / max(1, window())))

    strategies = [cluster.strategy(i) for i in range(len(nodes))]
    options = {}

    # Workers up and holding the corpus before the clock starts.
    hold = 0.05
    ray.get([remote["prepare"].options(num_cpus=share(), scheduling_strategy=strategies[i % len(nodes)]).remote(box, hold) for i in range(window())])

    central = CentralQueue(policy == "priority")
    turn = [0]
    results = [None] * len(items)
    acc = [None] * len(items)
    refs = {}  # ref -> task
    drivers = Drivers(items, max_items, r["batch_size"])
    issued = 0
    finished = 0
    submitted = completed = failed = retries = replaced = 0
    completed_marks = 0  # completed tasks, for the outage and reconfiguration marks
    ray_node_tasks = {}
    intervals = []
    running_total = max_running = 0
    arrival_lags = []
    outage_seen = {}
    reconfigured_at = None
    start = time.perf_counter()

    def now():
        return time.perf_counter() - start

    def enqueue(task, t):
        task["enq"] = t
        central.push(task, items[task["slot"]]["priority"] if policy == "priority" else 0)

    while finished < len(items):
        t = now()
        # The job drivers issue what their windows, batches and arrival
        # times allow. Closed loop: the clock starts when the item is issued
        # (a window slot freed, or its batch opened); open loop: at the
        # scheduled arrival.
        while True:
            slot = drivers.issue(t)
            if slot is None:
                break
            scheduled = items[slot]["arrival_ms"] / 1000.0
            arrival = t if closed else scheduled
            if not closed:
                arrival_lags.append(t - scheduled)
            acc[slot] = {"arrival": arrival, "scheduling": t - arrival, "queueing": 0.0, "execution": 0.0, "attempts": 0}
            enqueue({"slot": slot, "stage": 0, "attempt": 0, "payload": {"digest": 0}}, t)
            issued += 1
        # Place queued tasks on nodes.
        while len(central):
            i = place(policy, nodes, turn)
            if i is None:
                break
            task = central.pop()
            task["node"], task["placed"] = i, t
            acc[task["slot"]]["scheduling"] += t - task["enq"]
            nodes[i]["queue"].append(task)
            nodes[i]["placed"] += 1
        # Submit to Ray what each node's free workers can take.
        for i, n in enumerate(nodes):
            while n["up"] and n["queue"] and n["running"] < n["workers"]:
                task = n["queue"].popleft()
                it = items[task["slot"]]
                op = pipelines[it["pipeline"]][task["stage"]]
                key = (i, share())
                if key not in options:
                    options[key] = remote["stage"].options(num_cpus=key[1], scheduling_strategy=strategies[i])
                task["dispatched"] = now()
                ref = options[key].remote(
                    box, op, it["item"], task["stage"], task["payload"], seed, complexity, n["speed"], generator, fail_rate, task["attempt"])
                refs[ref] = task
                n["running"] += 1
                running_total += 1
                max_running = max(max_running, running_total)
                submitted += 1
        # Wait for a result, or until the next arrival.
        t = now()
        timeout = None
        upcoming = drivers.next_arrival()
        if upcoming is not None:
            timeout = max(0.0, upcoming - t)
        if not refs:
            if timeout is None:
                raise RuntimeError("nothing in flight and nothing to admit: the driver would wait forever")
            time.sleep(timeout)
            continue
        pending = list(refs)
        ready, rest = ray.wait(pending, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        received = now()
        for ref in ready:
            task = refs.pop(ref)
            try:
                out, info = ray.get(ref)
            except Exception as e:  # a worker that died or raised: a failed attempt, retried
                out, info = None, {"execution": 0.0, "ok": False, "ray_node": "lost", "wall": None, "error": str(e)[:300]}
            n = nodes[task["node"]]
            n["running"] -= 1
            running_total -= 1
            a = acc[task["slot"]]
            a["attempts"] += 1
            a["execution"] += info["execution"]
            a["queueing"] += (task["dispatched"] - task["placed"]) + max(0.0, received - task["dispatched"] - info["execution"])
            if info["wall"]:
                intervals.append(info["wall"])
            ray_node_tasks[info["ray_node"]] = ray_node_tasks.get(info["ray_node"], 0) + 1
            if n["up"]:
                n["tasks"] += 1
            it = items[task["slot"]]
            stages = len(pipelines[it["pipeline"]])
            if info["ok"]:
                completed += 1
                completed_marks += 1
                if task["stage"] + 1 < stages:
                    enqueue({"slot": task["slot"], "stage": task["stage"] + 1, "attempt": 0, "payload": out}, received)
                    continue
                done_ok = True
            else:
                failed += 1
                if task["attempt"] < max_retries:
                    retries += 1
                    enqueue(dict(task, attempt=task["attempt"] + 1), received)
                    continue
                done_ok = False
            results[task["slot"]] = {
                "item": it["item"], "job": it["job"], "priority": it["priority"],
                "arrival_s": a["arrival"], "done_s": received,
                "scheduling_s": a["scheduling"], "queueing_s": a["queueing"], "execution_s": a["execution"],
                "attempts": a["attempts"], "failed": not done_ok,
                "digest": ((out or task["payload"]).get("digest", 0)) & 0x7FFFFFFFFFFFFFFF,
                "llm_wait_s": (out or task["payload"]).get("llm_wait", 0.0),
                "llm_service_s": (out or task["payload"]).get("llm_service", 0.0),
                "batch": it["batch"],
            }
            finished += 1
            drivers.done(task["slot"])
        # Outage and recovery of a node, by completed tasks (engine::tasks).
        if outage and outage["node"] < len(nodes):
            n = nodes[outage["node"]]
            lost = outage["from"] <= completed_marks < outage["to"]
            if n["up"] == lost:
                n["up"] = not lost
                outage_seen["down_at_s" if lost else "up_at_s"] = round(now(), 6)
                if lost:
                    # Its queued tasks go back to the central queue and are placed anew.
                    while n["queue"]:
                        task = n["queue"].popleft()
                        acc[task["slot"]]["queueing"] += now() - task["placed"]
                        enqueue(task, now())
                        replaced += 1
        # Online reconfiguration of the workers per node.
        if reconfig and reconfigured_at is None and completed_marks >= reconfig["at"]:
            for n in nodes:
                n["workers"] = max(1, reconfig["workers_per_node"])
            reconfigured_at = round(now(), 6)
    wall = now()
    lags = sorted(arrival_lags)
    return {
        "key": r["key"], "wall_s": wall, "items": results,
        "node_tasks": [n["tasks"] for n in nodes], "ray_node_tasks": ray_node_tasks,
        "tasks_submitted": submitted, "tasks_completed": completed, "tasks_failed": failed,
        "retries": retries, "replaced": replaced,
        "task_window": r["workers_per_node"] * len(nodes),
        "task_window_after": window(),
        "max_tasks_in_flight": max_running,
        "observed_max_concurrency": max_overlap(intervals),
        "cpu_share": round(min(1.0, cluster.cpus / max(1, r["workers_per_node"] * len(nodes))), 6),
        "arrival_lag_ms": {
            "mean": round(sum(lags) / len(lags) * 1000, 4),
            "p50": round(lags[len(lags) // 2] * 1000, 4),
            "p99": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000, 4),
            "max": round(lags[-1] * 1000, 4),
        } if lags else None,
        "outage": outage_seen if outage else None,
        "reconfigured_at_s": reconfigured_at,
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def host():
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {"hostname": socket.gethostname(), "logical_cores": os.cpu_count(), "cpu_model": cpu_model(), "memory_bytes": mem, "os": platform.platform()}


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "--op-costs":
        # Local per-item operator costs, without Ray:
        # driver.py --op-costs light '{"kind": "service", "slots": 24, ...}'
        complexity = sys.argv[2]
        print(json.dumps(op_costs(42, complexity, json.loads(sys.argv[3]), build_corpus(42, complexity))))
        return
    import ray

    with open(sys.argv[1]) as f:
        spec = json.load(f)
    ray.init()
    cluster = Cluster(ray)
    # The task functions by reference to this file as a module (the working
    # dir is on the workers' PYTHONPATH), not by value from __main__.
    import driver as module

    remote = {"stage": ray.remote(module.stage_task), "prepare": ray.remote(module.prepare_task), "calibrate": ray.remote(module.calibrate_task)}
    service = None
    if spec["generator"].get("kind") == "service":
        # One endpoint for the whole job, shared by every node and run: a
        # threaded actor with a thread per task that can be in flight at once.
        calls = max([r["workers_per_node"] * len(r["node_speeds"]) for r in spec["runs"]]
                    + [r["reconfig"]["workers_per_node"] * len(r["node_speeds"]) for r in spec["runs"] if r.get("reconfig")])
        actor = ray.remote(num_cpus=0, max_concurrency=min(1024, calls + int(spec["generator"]["slots"])))(module.ServiceActor)
        service = actor.remote(spec["generator"])
        ray.get(service.call.remote(0, 0))  # started before any clock
    box = [ray.put(module.build_corpus(spec["seed"], spec["complexity"])), service]
    costs = ray.get(remote["calibrate"].options(num_cpus=min(1.0, cluster.cpus)).remote(box, spec["seed"], spec["complexity"], spec["generator"]))
    header = {
        "ray_version": ray.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__ if np is not None else None,
        "retrieval": "numpy" if np is not None else "python",
        "nodes": len(cluster.nodes),
        "cpus": cluster.cpus,
        "node_list": cluster.nodes,
        "resources": {k: v for k, v in ray.cluster_resources().items() if not k.startswith("node:")},
        "driver_host": host(),
        "op_cost_us": costs,
    }
    print("SAGEREPORT_RAY " + json.dumps(header), flush=True)
    for r in spec["runs"]:
        if r.get("warmup"):
            run(spec, dict(r, items=r["warmup"], fail_rate=0.0, reconfig=None, outage=None, key=r["key"] + "-warmup"), cluster, box, remote)
        print("SAGEREPORT_RESULT " + json.dumps(run(spec, r, cluster, box, remote)), flush=True)


if __name__ == "__main__":
    main()
