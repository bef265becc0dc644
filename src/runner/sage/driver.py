"""sagereport's SAGE driver: runs the workloads as SAGE pipelines.

sagereport writes this file, the Ray driver (as `ray_ops.py`, for its
operators) and a spec.json into a work folder and starts

    python driver.py spec.json result.json

in the SAGE virtualenv. The spec carries everything, as for Ray: the items in
the deterministic-shuffle order and batches sagereport computed, their
pipelines, priorities, jobs and arrival times, the run's policy, workers,
in-flight bound, faults and reconfiguration. SAGE logs verbosely to
stdout/stderr (and to $SAGE_OUTPUT_DIR, which sagereport points into the work
folder), so results never travel through the logs: the driver writes
result.json (atomically, after every run) and sagereport reads that.

Each run is one SAGE pipeline (published `isage-kernel` API only):

    env = LocalEnvironment(name=..., scheduler=<SAGE scheduler for the policy>)
    env.from_source(Admit, run.token).flatmap(Route).map(Work, parallelism=P).sink(Collect)

* Admit (SourceFunction) issues the items that have arrived, in order, under
  the in-flight bound (closed loops) and, for the priority policy, high
  priority first: as one list per call, because SAGE's task loop sleeps 10 ms
  between two calls of a source (a source returning one item per call could
  not issue more than ~100 items/s).
* Route (FlatMapFunction, parallelism 1) turns the list into one packet per
  item; SAGE's router hands each packet to one of the P Work instances.
* Work (MapFunction, parallelism P) runs the item's pipeline (embed,
  retrieve, context, generate / compute), the Ray driver's operators
  (ray_ops.run_op), with the same seeded fault injection and retries. One
  operator runs all stages of an item: isage-kernel 0.2.5.3 cannot compile a
  chain of parallel maps (its ExecutionGraph source-dependency walk raises
  "BFS infinite loop detected" from parallelism ~8 on 4 stages, and hangs
  at 2).
* Collect (SinkFunction) stamps completion and counts the item.

Per item, one clock (time.perf_counter locally; time.time on flutty, whose
operators live in other processes): arrival (scheduled), issue (Admit),
route (Route), start and end of each stage (Work), done (Collect).
scheduling = route - arrival (waiting to be issued and for SAGE to route
it), queueing = start of Work - route (in the chosen instance's queue and
for a free worker), execution = end - start of Work (every stage, retries
included), transfer = done - end (the hand-over to the sink); they add up to
latency = done - arrival, where arrival is the issue time in a closed loop
and the scheduled arrival in an open one: the meanings of the embedded
engine and Ray.

Completion: `env.submit(autostop=True)` may never return after every item
reached the sink, so the driver submits with autostop=False, waits until
Collect has seen every timed item (or the run's deadline), then stops the
environment itself (bounded), and exits with os._exit once result.json is
written, so that no lingering SAGE thread can keep the process alive.
"""

import json
import os
import sys
import threading
import time
import types


# The corpus, built once before any clock starts (ray_ops.build_corpus).
CORPUS = []

def _ray_stub():
    """A stand-in `ray` module so that ray_ops.py (the Ray driver) imports
    without Ray: its operators are plain functions; only `@ray.remote`
    runs at import."""
    stub = types.ModuleType("ray")

    def remote(*args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return lambda f: f

    stub.remote = remote
    stub.__getattr__ = lambda name: (lambda *a, **k: None)
    return stub


sys.modules.setdefault("ray", _ray_stub())
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ray_ops  # noqa: E402  (the Ray driver: the same operators)

# Set before SAGE is imported; the runtime reads it for its log folders.
if len(sys.argv) > 3:
    os.environ.setdefault("SAGE_OUTPUT_DIR", sys.argv[3])

from sage.common.core import FlatMapFunction, MapFunction, SinkFunction, SourceFunction  # noqa: E402


def sage_version():
    try:
        from importlib.metadata import version

        return version("isage-kernel")
    except Exception:
        import sage.kernel

        return getattr(sage.kernel, "__version__", "unknown")


def make_scheduler(policy, parallelism, seed):
    """SAGE's own scheduler class for each policy of the experiment plan.
    max_concurrent counts operator instances (SAGE places instances, not
    items) and must cover every instance of the pipeline (P + 3): a smaller
    bound blocks deployment for ever (the scheduler's wait loop never sees an
    instance finish before the job runs)."""
    from sage.kernel.scheduler import impl

    instances = parallelism + 3
    if policy == "fifo":
        return impl.FIFOScheduler(), {}
    if policy == "round_robin":
        return impl.RoundRobinScheduler(), {}
    if policy == "load_aware_spread":
        p = {"max_concurrent": instances, "strategy": "spread"}
        return impl.LoadAwareScheduler(**p), p
    if policy == "load_aware_pack":
        p = {"max_concurrent": instances, "strategy": "pack"}
        return impl.LoadAwareScheduler(**p), p
    if policy == "priority":
        p = {"default_priority": 5, "max_concurrent": instances, "enable_aging": True}
        return impl.PriorityScheduler(**p), p
    if policy == "random":
        p = {"seed": seed}
        return impl.RandomScheduler(**p), p
    raise ValueError(f"no SAGE scheduler for policy {policy!r}")


class Gate:
    """At most `limit` Work executions at once (the workers of the run; the
    online reconfiguration raises or lowers it)."""

    def __init__(self, limit):
        self.limit = limit
        self.active = 0
        self.cv = threading.Condition()

    def set(self, limit):
        with self.cv:
            self.limit = max(1, limit)
            self.cv.notify_all()

    def __enter__(self):
        with self.cv:
            while self.active >= self.limit:
                self.cv.wait(0.05)
            self.active += 1

    def __exit__(self, *exc):
        with self.cv:
            self.active -= 1
            self.cv.notify_all()


class Run:
    """What the operators of one run share. Locally SAGE runs every operator
    instance as a thread of this process, so they read it directly; on
    flutty (operators in other processes) the sink also appends to a file
    that Admit and the driver read back."""

    def __init__(self, spec, r, clock, channel_path):
        self.spec, self.r, self.clock = spec, r, clock
        self.items = r["items"]
        self.t0 = None
        self.lock = threading.Lock()
        self.done = 0
        self.results = [None] * len(self.items)
        self.all_done = threading.Event()
        self.counts = {"submitted": 0, "completed": 0, "failed": 0, "retries": 0}
        # The job drivers (engine::Drivers): per job its window and parity batches.
        self.drivers = ray_ops.Drivers(self.items, r["max_in_flight"], r["batch_size"])
        self.instances = 0  # Work instances created, each pinned to an emulated node
        self.node_tasks = [0] * len(r["node_speeds"])  # every emulated node, idle ones included
        workers = max(1, r["workers"])
        rc = r.get("reconfig")
        self.deployed = max(workers, rc["workers"]) if rc else workers
        self.gate = Gate(workers)
        self.reconfig = rc
        self.workers = workers
        self.outage = r.get("outage")
        self.outage_seen = {}
        self.channel_path = channel_path
        self._channel_seen = 0
        self._channel_pos = 0

    def finished(self):
        """Items seen at the sink (through the file channel on flutty)."""
        if self.channel_path is None:
            return self.done
        try:
            with open(self.channel_path, "rb") as f:
                f.seek(self._channel_pos)
                chunk = f.read()
        except FileNotFoundError:
            return 0
        complete = chunk.rfind(b"\n") + 1
        for line in chunk[:complete].splitlines():
            rec = json.loads(line)
            self.results[rec["slot"]] = rec["result"]
            self._channel_seen += 1
            with self.lock:
                self.drivers.done(rec["slot"])
        self._channel_pos += complete
        self.done = self._channel_seen
        if self.done >= len(self.items):
            self.all_done.set()
        return self.done


    def marks(self):
        """At the completed-task marks (as the engine): the online
        reconfiguration sets the workers; an outage removes its node's share
        of them between its two marks. Called with the lock held."""
        done = self.counts["completed"]
        rc = self.reconfig
        if rc and done >= rc["at"]:
            self.workers = max(1, rc["workers"])
            self.reconfig = None
        limit = self.workers
        o = self.outage
        if o and o["node"] < len(self.r["node_speeds"]):
            down = o["from"] <= done < o["to"]
            if down:
                limit -= self.workers // len(self.r["node_speeds"])
            key = "down_at_s" if down else ("up_at_s" if "down_at_s" in self.outage_seen else None)
            if key and key not in self.outage_seen:
                self.outage_seen[key] = round(self.clock() - self.t0, 6)
        if limit != self.gate.limit:
            self.gate.set(limit)


RUN = None  # the run in progress (one at a time)


class Admit(SourceFunction):
    def __init__(self, token, **kwargs):
        super().__init__(**kwargs)
        self.token = token
        self.next = 0
        self.pending = []

    def execute(self, data=None):
        run = RUN
        if run is None or run.token != self.token:
            # Not (or no longer) this source's run: an environment that is
            # still winding down must not issue the next run's items.
            return None
        if run.t0 is None:
            run.t0 = run.clock()
        items, r = run.items, run.r
        deadline = run.clock() + 0.02
        while True:
            if run.channel_path is not None:
                run.finished()
            now = run.clock() - run.t0
            # What the job drivers allow now (windows, batches, arrivals);
            # under the priority policy the high class is handed over first.
            issued = []
            with run.lock:
                while True:
                    slot = run.drivers.issue(now)
                    if slot is None:
                        break
                    issued.append(slot)
            if issued:
                self.next += len(issued)
                if r["policy"] == "priority":
                    issued.sort(key=lambda slot: -items[slot]["priority"])
                t = run.clock() - run.t0
                return [{"slot": slot, "issue": t} for slot in issued]
            if self.next >= len(items):
                return None
            if run.clock() >= deadline:
                return None
            time.sleep(0.0002)


class Route(FlatMapFunction):
    def execute(self, data):
        run = RUN
        t = run.clock() - run.t0
        for d in data:
            d["route"] = t
        return data


class Work(MapFunction):
    """One instance per unit of parallelism, each pinned to an emulated node
    (instance i on node i mod nodes), whose speed it applies as the engine
    does: a node of speed s does an item's local work round(1/s) times (the
    endpoint is called once)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        run = RUN
        with run.lock:
            self.node = run.instances % len(run.r["node_speeds"])
            run.instances += 1

    def execute(self, data):
        run = RUN
        spec, r = run.spec, run.r
        it = run.items[data["slot"]]
        ops = r["pipelines"][it["pipeline"]]
        payload = {"digest": 0}
        attempts, ok, stages = 0, True, []
        node = self.node
        speed = r["node_speeds"][node]
        with run.gate:
            data["start"] = run.clock() - run.t0
            for stage, op in enumerate(ops):
                s0 = run.clock() - run.t0
                tries = 0
                while True:
                    with run.lock:
                        run.counts["submitted"] += 1
                    for _ in range(1 if op == "generate" else ray_ops.repeats(speed)):
                        out = ray_ops.run_op(op, it["item"], dict(payload), spec["seed"], spec["complexity"], CORPUS[0], spec["generator"])
                    tries += 1
                    if not ray_ops.injected_failure(spec["seed"], it["item"], stage, tries - 1, r["fail_rate"]):
                        break
                    if tries > r["max_retries"]:
                        ok = False
                        break
                attempts += tries
                stages.append([s0, run.clock() - run.t0])
                with run.lock:
                    run.counts["completed"] += 1 if ok else 0
                    run.counts["failed"] += tries - (1 if ok else 0)
                    run.counts["retries"] += tries - 1
                    run.node_tasks[node] += tries
                    run.marks()
                if not ok:
                    break
                payload = out
            data["end"] = run.clock() - run.t0
        data.update(attempts=attempts, ok=ok, stages=stages, digest=payload.get("digest", 0) & 0x7FFFFFFFFFFFFFFF,
                    llm_wait=payload.get("llm_wait", 0.0), llm_service=payload.get("llm_service", 0.0))
        return data


class Collect(SinkFunction):
    def execute(self, data):
        run = RUN
        done = run.clock() - run.t0
        it = run.items[data["slot"]]
        # Closed loop: the clock starts when the item is issued; open loop:
        # at its scheduled arrival.
        arrival = data["issue"] if run.r["closed"] else it["arrival_ms"] / 1000.0
        result = {
            "item": it["item"], "job": it["job"], "priority": it["priority"], "batch": it["batch"],
            "arrival_s": arrival, "done_s": done,
            # Every instant from arrival to done in exactly one part.
            "scheduling_s": max(0.0, data["route"] - arrival),
            "queueing_s": max(0.0, data["start"] - data["route"]),
            "execution_s": max(0.0, data["end"] - data["start"]),
            "transfer_s": max(0.0, done - data["end"]),
            "attempts": data["attempts"], "failed": not data["ok"], "digest": data["digest"],
            "llm_wait_s": data["llm_wait"], "llm_service_s": data["llm_service"],
            "issue_s": data["issue"], "stages_s": data["stages"],
        }
        if run.channel_path is not None:
            with open(run.channel_path, "a") as f:
                f.write(json.dumps({"slot": data["slot"], "result": result}) + "\n")
            return None
        with run.lock:
            if run.results[data["slot"]] is None:
                run.results[data["slot"]] = result
                run.done += 1
                run.drivers.done(data["slot"])
            if run.done >= len(run.items):
                run.all_done.set()
        return None


def bounded(fn, seconds):
    """Call fn in a daemon thread; give up after `seconds` (SAGE's stop can block)."""
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def run_one(spec, r, workdir, deadline):
    global RUN
    runtime = spec.get("runtime", "local")
    clock = time.perf_counter if runtime == "local" else time.time
    channel = os.path.join(workdir, f"sink-{r['key']}.jsonl") if runtime != "local" else None
    run = Run(spec, r, clock, channel)
    run.token = f"{r['key']}-{time.time_ns()}"
    scheduler, params = make_scheduler(r["policy"], run.deployed, spec["seed"])
    name = f"sagereport-{spec['experiment']}-{r['key']}".replace(".", "_")
    if runtime == "local":
        from sage.kernel.api import LocalEnvironment

        env = LocalEnvironment(name=name, scheduler=scheduler)
    else:
        from sage.kernel.api import FluttyEnvironment

        env = FluttyEnvironment(name=name, scheduler=scheduler)
    env.set_console_log_level("WARNING")
    env.from_source(Admit, run.token).flatmap(Route).map(Work, parallelism=run.deployed).sink(Collect)
    RUN = run
    started = time.time()
    env.submit(autostop=False)
    timed_out = False
    while not run.all_done.is_set():
        if channel is not None:
            run.finished()
        if time.time() > deadline:
            timed_out = True
            break
        run.all_done.wait(0.05)
    wall = (run.clock() - run.t0) if run.t0 is not None else 0.0
    stopped = bounded(env.stop, 10.0)
    RUN = None
    sched = type(env.scheduler)
    metrics = {}
    try:
        metrics = {k: v for k, v in env.scheduler.get_metrics().items() if isinstance(v, (int, float, str))}
    except Exception:
        pass
    return {
        "key": r["key"], "wall_s": wall, "items": run.results, "node_tasks": run.node_tasks,
        "tasks_submitted": run.counts["submitted"],
        "tasks_completed": run.counts["completed"], "tasks_failed": run.counts["failed"],
        "retries": run.counts["retries"], "timed_out": timed_out, "env_stopped": stopped,
        "deploy_s": max(0.0, (time.time() - started) - wall) if run.t0 is not None else None,
        "sage_scheduler": f"{sched.__module__}.{sched.__name__}", "sage_scheduler_params": params,
        "sage_scheduler_metrics": metrics, "sage_parallelism": run.deployed, "runtime": runtime,
        "outage": run.outage_seen if run.outage else None,
    }


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    spec_path, result_path = sys.argv[1], sys.argv[2]
    workdir = os.path.dirname(os.path.abspath(result_path))
    with open(spec_path) as f:
        spec = json.load(f)
    runtime = spec.get("runtime", "local")
    if runtime == "local":
        # The local JobManager without its TCP daemon (port 19001): a local
        # environment talks to it in-process, and two drivers at once (two
        # sagereport runs, parallel tests) must not collide on one port.
        from sage.kernel.runtime.job_manager import JobManager

        JobManager(enable_daemon=False)
    deadline = time.time() + float(spec.get("timeout_s", 1800))
    # The corpus is built before the clock starts, as the embedded engine does.
    CORPUS.append(ray_ops.build_corpus(spec["seed"], spec["complexity"]))
    if spec["generator"].get("kind") == "service":
        # The embedded endpoint's model, in this process: one endpoint for
        # every run of the experiment (on flutty, one per operator process).
        ray_ops.SERVICE[0] = ray_ops.SlotService(spec["generator"])
    doc = {"sage_version": sage_version(), "runtime": runtime, "python": sys.version.split()[0], "runs": [], "complete": False}
    write_json(result_path, doc)
    for r in spec["runs"]:
        if r.get("warmup"):
            run_one(spec, dict(r, items=r["warmup"], fail_rate=0.0, reconfig=None, outage=None, key=r["key"] + "-warmup"), workdir, deadline)
        res = run_one(spec, r, workdir, deadline)
        doc["runs"].append(res)
        write_json(result_path, doc)
        print(f"sagereport-sage: run {r['key']} {'TIMED OUT' if res['timed_out'] else 'done'} "
              f"({sum(1 for i in res['items'] if i is not None)}/{len(r['items'])} items)", file=sys.stderr, flush=True)
        if res["timed_out"]:
            doc["timed_out"] = r["key"]
            write_json(result_path, doc)
            sys.stderr.flush()
            os._exit(3)
    doc["complete"] = True
    write_json(result_path, doc)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
