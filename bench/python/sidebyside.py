"""Side-by-side benchmark harness: MLflow's Python SDK vs mlflowtrace-go.

In one run it starts a real `mlflow server` (sqlite backend and artifact store
in a temp dir, free 127.0.0.1 port), then for each client — MLflow's Python SDK
(bench/python/pyclient.py, async trace logging on) and the Go SDK
(bench/cmd/serverbench, package tracing) — runs it in its own process, sending
the same trace shape N times to its own experiment, and measures:

  * client CPU (user+sys): in-process getrusage over the measured part (after a
    warm-up), and the whole child process from wait4 (start-up included);
  * wall time from the first measured trace until everything is flushed,
    traces/s;
  * the server's CPU (sum of utime+stime of every process in the server's
    process group, from /proc/<pid>/stat, before and after each client).

Then it checks that every trace arrived: REST `POST /api/3.0/mlflow/traces/search`
count per experiment, and span rows per experiment in the server's sqlite store.
Finally it runs the Go fault benchmarks (End() latency with a healthy, down and
slow server; memory under a sustained burst to an unreachable server).

With --target databricks the same clients write to the fake Databricks
workspace (internal/databrickstest/cmd/fakeworkspace, --fake-bin) instead:
DATABRICKS_HOST + DATABRICKS_TOKEN, MLFLOW_TRACKING_URI=databricks, one
experiment per client on the --cloud signed-URL type (or
MLFLOW_TRACING_DESTINATION=<catalog>.<schema> with --cloud uc); "server CPU"
is then the fake's, and completeness is counted by the fake (/__fake/summary).
The Go fault benchmarks need a real server and are skipped.

Prints a JSON document (also written to --out) and Markdown tables.
Usage: see bench/run.sh.
"""

import argparse
import json
import os
import pathlib
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method: str, url: str, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def group_cpu_seconds(pgid: int) -> float:
    """utime+stime of every live process in process group pgid."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces; fields after the closing paren are fixed.
        rest = stat[stat.rindex(")") + 2 :].split()
        # rest[0] is field 3 (state); pgrp is field 5, utime 14, stime 15,
        # cutime 16, cstime 17 (reaped children, e.g. restarted workers).
        if int(rest[2]) != pgid:
            continue
        total += int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    return total / CLK_TCK


class Server:
    def __init__(self, python: str, workdir: pathlib.Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = workdir / "mlflow.db"
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "w")
        # The job runner (huey consumers for scorers/evaluation jobs) plays no
        # part in trace ingestion; off, so the server CPU measured is the
        # request workers' (see BENCHMARKS.md).
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        self.proc = subprocess.Popen(
            [
                python, "-m", "mlflow", "server",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", f"sqlite:///{self.db}",
                "--artifacts-destination", str(workdir / "artifacts"),
            ],
            cwd=workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"mlflow server not ready: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-3000:]
        except OSError:
            return ""

    def cpu(self) -> float:
        return group_cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._log.close()


class FakeWorkspaceTarget:
    """The fake Databricks workspace as the benchmark's server."""

    def __init__(self, fake_bin: str, workdir: pathlib.Path, cloud: str):
        self.log_path = workdir / "fake.log"
        self._log = open(self.log_path, "w")
        self.cloud = cloud
        self.proc = subprocess.Popen([fake_bin, "-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, start_new_session=True)
        info = json.loads(self.proc.stdout.readline())
        self.url, self.token = info["url"], info["token"]
        self.db = None

    def wait_ready(self, timeout=60):
        http_json("GET", self.url + "/__fake/summary?location=none")

    def log_tail(self) -> str:
        return self.log_path.read_text()[-3000:]

    def cpu(self) -> float:
        return group_cpu_seconds(self.proc.pid)

    def location(self, name: str) -> str:
        if self.cloud == "uc":
            http_json("POST", self.url + "/__fake/uc-schemas", {"catalog": "bench", "schema": name.replace("-", "_")})
            return "bench." + name.replace("-", "_")
        return http_json("POST", self.url + "/__fake/experiments", {"name": "/Users/bench/" + name, "cloud": self.cloud})["experiment_id"]

    def env(self, location: str) -> dict:
        env = {"DATABRICKS_HOST": self.url, "DATABRICKS_TOKEN": self.token, "MLFLOW_TRACKING_URI": "databricks",
               # MLflow's Python SDK: no telemetry, and the bundled model
               # catalog instead of a download (no internet here).
               "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
               "MLFLOW_MODEL_CATALOG_URI": "file:///nonexistent-mlflow-model-catalog"}
        if self.cloud == "uc":
            env["MLFLOW_TRACING_DESTINATION"] = location
        else:
            env["MLFLOW_EXPERIMENT_ID"] = location
        return env

    def summary(self, location: str) -> dict:
        return http_json("GET", self.url + "/__fake/summary?location=" + location)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._log.close()


def create_experiment(url: str, name: str) -> str:
    return http_json("POST", url + "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]


def count_traces(url: str, exp_id: str) -> dict:
    """Traces of exp_id found through the REST search API, by state."""
    states: dict = {}
    token = None
    while True:
        body = {
            "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
            "max_results": 500,
        }
        if token:
            body["page_token"] = token
        r = http_json("POST", url + "/api/3.0/mlflow/traces/search", body)
        for t in r.get("traces", []):
            st = t.get("state", "?")
            states[st] = states.get(st, 0) + 1
        token = r.get("next_page_token")
        if not token:
            return states


def count_spans(db: pathlib.Path, exp_id: str) -> tuple[int, int]:
    """(span rows, traces with span rows) of exp_id in the server's sqlite store."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        n, t = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT trace_id) FROM spans WHERE experiment_id = ?", (int(exp_id),)
        ).fetchone()
        return n, t
    finally:
        con.close()


def run_client(name: str, argv: list[str], env: dict, server: Server, timeout: float) -> dict:
    """Runs one client process; returns its JSON line plus wait4 rusage and server CPU."""
    s0 = server.cpu()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise RuntimeError(f"{name} client timed out; stderr tail:\n{err[-3000:]}")
    t1 = time.perf_counter()
    s1 = server.cpu()
    if p.returncode != 0:
        raise RuntimeError(f"{name} client exited {p.returncode}; stderr tail:\n{err[-3000:]}")
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    res = json.loads(line)
    res["process_wall_s"] = t1 - t0
    res["server_cpu_s"] = s1 - s0
    res["stderr_tail"] = err[-1500:]
    return res


class ChildCPU:
    """Tracks RUSAGE_CHILDREN deltas (CPU of reaped children)."""

    def __init__(self):
        import resource

        self._r = resource

    def now(self) -> float:
        r = self._r.getrusage(self._r.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime


def machine_info(python: str) -> dict:
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"error: {e}"

    return {
        "nproc": sh("nproc"),
        "lscpu": sh("lscpu | head -20"),
        "go_version": sh("go version"),
        "python": sh(f"{python} --version"),
        "mlflow": sh(f"{python} -c 'import mlflow; print(mlflow.__version__)'"),
        "kernel": platform.release(),
        "mem": sh("grep MemTotal /proc/meminfo"),
        "loadavg_start": sh("cat /proc/loadavg"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--go-bin", required=True, help="built bench/cmd/serverbench binary")
    ap.add_argument("-n", type=int, default=2000, help="traces per client")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1, help="python/go pairs, order alternating")
    ap.add_argument("--queue-size", type=int, default=0,
                    help="MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE for both clients (0 = 10*n)")
    ap.add_argument("--pace", type=float, default=0,
                    help="traces per second for both clients (0: as fast as possible, then drain)")
    ap.add_argument("--go-base-bin", help="serverbench built at an earlier commit: a third client "
                    "(go-base) on the same server in the same run, for before/after ratios")
    ap.add_argument("--baseline-n", type=int, default=0,
                    help="also run each client with MLFLOW_TRACE_SAMPLING_RATIO=0 for this many traces (same "
                    "pace): the harness's own cost with the SDK present but recording nothing, subtracted for "
                    "the 'net' ratio (0: no baseline runs)")
    ap.add_argument("--skip-python", action="store_true")
    ap.add_argument("--skip-go", action="store_true")
    ap.add_argument("--skip-faults", action="store_true")
    ap.add_argument("--fault-args", default="", help="extra flags for serverbench -mode=faults")
    ap.add_argument("--fault-seconds", type=float, default=20,
                    help="length of one latency scenario; its rate is half the Go throughput measured above")
    ap.add_argument("--target", choices=["server", "databricks"], default="server",
                    help="a real mlflow server, or the fake Databricks workspace (--fake-bin)")
    ap.add_argument("--fake-bin", help="built internal/databrickstest/cmd/fakeworkspace binary")
    ap.add_argument("--cloud", default="AWS_PRESIGNED_URL",
                    help="databricks target: signed-URL type of the experiments, or uc for Unity Catalog tables")
    ap.add_argument("--out", default="bench-results.json")
    args = ap.parse_args()
    databricks = args.target == "databricks"
    if databricks:
        args.skip_faults = True
    python = sys.executable
    queue = args.queue_size or 10 * (args.n + args.warmup)

    results: dict = {"machine": machine_info(python), "n": args.n, "warmup": args.warmup,
                     "pace": args.pace, "queue_size": queue, "clients": [], "faults": None,
                     "target": args.target, "cloud": args.cloud if databricks else None}
    children = ChildCPU()

    def client_argv(client: str, n: int) -> list[str]:
        """The command line of one client run of n traces at the run's pace."""
        if client == "python":
            return [python, str(HERE / "pyclient.py"), "-n", str(n), "-warmup", str(args.warmup),
                    "-pace", str(args.pace)]
        return [args.go_base_bin if client == "go-base" else args.go_bin, "-mode=throughput",
                f"-n={n}", f"-warmup={args.warmup}", f"-pace={args.pace}"]
    with tempfile.TemporaryDirectory(prefix="mlflowtrace-bench-") as tmp:
        work = pathlib.Path(tmp)
        server = FakeWorkspaceTarget(args.fake_bin, work, args.cloud) if databricks else Server(python, work)
        try:
            server.wait_ready()
            time.sleep(2 if databricks else 10)  # let the workers finish starting
            c0 = server.cpu()
            time.sleep(5)
            idle = (server.cpu() - c0) / 5
            results["server"] = ({"url": server.url, "backend": "fake Databricks workspace", "idle_cpu_per_s": idle}
                                 if databricks else
                                 {"url": server.url, "backend": "sqlite", "workers": "default (4, uvicorn)",
                                  "job_execution": "off", "idle_cpu_per_s": idle})
            base_env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "OTEL_"))}
            base_env.update({
                "MLFLOW_TRACKING_URI": server.url,
                "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "true",
                "MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE": str(queue),
            })
            plan = []
            clients = [c for c in ("python", "go") if not getattr(args, f"skip_{c}")]
            if args.go_base_bin:
                clients.append("go-base")
            for r in range(args.rounds):
                plan += [(r, c) for c in (clients if r % 2 == 0 else clients[::-1])]
            for r, client in plan:
                if databricks:
                    exp = server.location(f"bench-{client}-{r}")
                    env = {k: v for k, v in base_env.items() if k != "MLFLOW_TRACKING_URI"}
                    env.update(server.env(exp))
                else:
                    exp = create_experiment(server.url, f"bench-{client}-{r}")
                    env = dict(base_env, MLFLOW_EXPERIMENT_ID=exp)
                argv = client_argv(client, args.n)
                print(f"[bench] round {r}: {client} -> experiment {exp}", file=sys.stderr, flush=True)
                c0 = children.now()
                res = run_client(client, argv, env, server, timeout=3600)
                res["client"] = client  # go-base reports itself as "go"
                res["process_cpu_s"] = children.now() - c0
                res["round"] = r
                res["experiment_id"] = exp
                # Verification: everything that was flushed must be on the server.
                time.sleep(0.5)
                if databricks:
                    summ = server.summary(exp)
                    res["search_states"] = {"complete": summ["complete"]}
                    res["search_count"] = summ["complete"]
                    res["span_rows"], res["traces_with_spans"] = summ["spans"], summ["traces"]
                    res["fake_rejections"] = summ["rejections"]
                else:
                    res["search_states"] = count_traces(server.url, exp)
                    res["search_count"] = sum(res["search_states"].values())
                    res["span_rows"], res["traces_with_spans"] = count_spans(server.db, exp)
                res["expected_traces"] = args.n + args.warmup
                res["complete"] = (res["search_count"] == res["expected_traces"]
                                   and res["span_rows"] == 6 * res["expected_traces"])
                print(f"[bench] {client}: {json.dumps({k: v for k, v in res.items() if k != 'stderr_tail'})}",
                      file=sys.stderr, flush=True)
                results["clients"].append(res)

            results["baselines"] = []
            if args.baseline_n > 0 and not databricks:
                for client in [c for c in ("python", "go") if not getattr(args, f"skip_{c}")]:
                    exp = create_experiment(server.url, f"bench-{client}-baseline")
                    env = dict(base_env, MLFLOW_EXPERIMENT_ID=exp, MLFLOW_TRACE_SAMPLING_RATIO="0")
                    argv = client_argv(client, args.baseline_n)
                    print(f"[bench] baseline (sampling ratio 0): {client} -> experiment {exp}",
                          file=sys.stderr, flush=True)
                    c0 = children.now()
                    res = run_client(client, argv, env, server, timeout=3600)
                    res["client"] = client
                    res["process_cpu_s"] = children.now() - c0
                    time.sleep(0.5)
                    # Nothing is sampled, so nothing may reach the server.
                    res["search_count"] = sum(count_traces(server.url, exp).values())
                    print(f"[bench] baseline {client}: "
                          f"{json.dumps({k: v for k, v in res.items() if k != 'stderr_tail'})}",
                          file=sys.stderr, flush=True)
                    results["baselines"].append(res)

            if not args.skip_faults and not args.skip_go:
                print("[bench] Go fault benchmarks (latency, memory)", file=sys.stderr, flush=True)
                exp = create_experiment(server.url, "bench-go-faults")
                env = dict(base_env, MLFLOW_EXPERIMENT_ID=exp)
                env.pop("MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE")
                # "Healthy" means the server keeps up: pace the latency scenarios
                # at half the rate this server sustained for the Go client.
                go_runs = [c for c in results["clients"] if c["client"] == "go"]
                rate = min(c["n"] / c["wall_s"] for c in go_runs) / 2 if go_runs else 20
                rate = max(1.0, min(rate, 200.0))
                n = int(max(100, min(2000, rate * args.fault_seconds)))
                argv = [args.go_bin, "-mode=faults", f"-server={server.url}", f"-rate={rate:.2f}", f"-n={n}"]
                argv += args.fault_args.split()
                print(f"[bench] {' '.join(argv)}", file=sys.stderr, flush=True)
                p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
                if p.returncode != 0:
                    raise RuntimeError(f"faults exited {p.returncode}:\n{p.stderr[-3000:]}")
                results["faults"] = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
            c0 = server.cpu()
            time.sleep(5)
            results["server"]["idle_cpu_per_s_end"] = (server.cpu() - c0) / 5
        finally:
            server.stop()

    results["machine"]["loadavg_end"] = pathlib.Path("/proc/loadavg").read_text().strip()
    pathlib.Path(args.out).write_text(json.dumps(results, indent=2))
    print(markdown(results))
    ok = all(c["complete"] for c in results["clients"]) and all(
        b["search_count"] == 0 for b in results["baselines"])
    return 0 if ok else 1


def markdown(r: dict) -> str:
    out = []
    srv = r.get("server", {})
    if r.get("target") == "databricks":
        out.append(f"Target: the fake Databricks workspace ({r.get('cloud')}); \"server\" columns are the fake's CPU.\n")
    out.append(f"Server idle CPU: {srv.get('idle_cpu_per_s', 0):.2f} cores after start-up, "
               f"{srv.get('idle_cpu_per_s_end', 0):.2f} cores at the end (5 s samples).\n")
    out.append(f"N = {r['n']} traces per client (+{r['warmup']} warm-up, excluded from CPU/time), "
               f"6 spans each; MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE={r['queue_size']} for both; "
               + (f"paced at {r['pace']:g} traces/s.\n" if r.get("pace") else "sent as fast as possible, then drained.\n"))
    out.append("| round | client | client CPU / trace (measured) | client CPU / trace (whole process) "
               "| wall until flushed | traces/s | client CPU / wall | server CPU / wall | server CPU / trace "
               "| traces found (REST) | span rows |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in r["clients"]:
        n = c["n"]
        out.append(
            f"| {c['round']} | {c['client']} | {1e6 * c['cpu_s'] / n:.0f} µs | "
            f"{1e6 * c['process_cpu_s'] / n:.0f} µs | {c['wall_s']:.2f} s | {n / c['wall_s']:.0f} | "
            f"{c['cpu_s'] / c['wall_s']:.2f} | {c['server_cpu_s'] / c['process_wall_s']:.2f} | "
            f"{1e6 * c['server_cpu_s'] / n:.0f} µs | {c['search_count']}/{c['expected_traces']} "
            f"{c['search_states']} | {c['span_rows']} |"
        )
    py = [c for c in r["clients"] if c["client"] == "python"]
    go = [c for c in r["clients"] if c["client"] == "go"]
    if py and go:
        for a, b in zip(py, go):
            out.append(f"\nRound {a['round']}: Python/Go client CPU per trace = "
                       f"{a['cpu_s'] / b['cpu_s']:.1f}× (measured part), "
                       f"{a['process_cpu_s'] / b['process_cpu_s']:.1f}× (whole process); "
                       f"throughput Go/Python = {(b['n'] / b['wall_s']) / (a['n'] / a['wall_s']):.2f}×; "
                       f"server CPU per trace Go/Python = {b['server_cpu_s'] / a['server_cpu_s']:.2f}×")
    bl = {b["client"]: b for b in r.get("baselines") or []}
    if bl:
        out.append("\nBaseline: each client again with MLFLOW_TRACE_SAMPLING_RATIO=0 (the SDK present, nothing "
                   "recorded or sent): what the harness itself costs — building the values, pacing, the "
                   "runtime's wake-ups.\n")
        out.append("| client | traces | client CPU / trace (measured) | whole process / trace | traces found |")
        out.append("|---|---|---|---|---|")
        for b in bl.values():
            out.append(f"| {b['client']} | {b['n']} | {1e6 * b['cpu_s'] / b['n']:.0f} µs | "
                       f"{1e6 * b['process_cpu_s'] / b['n']:.0f} µs | {b['search_count']} |")
    if "python" in bl and "go" in bl:
        pb, gb = bl["python"]["cpu_s"] / bl["python"]["n"], bl["go"]["cpu_s"] / bl["go"]["n"]
        for a, b in zip(py, go):
            pn, gn = a["cpu_s"] / a["n"] - pb, b["cpu_s"] / b["n"] - gb
            if gn > 0:
                out.append(f"\nRound {a['round']}, net of the baseline (recording and exporting the trace): "
                           f"Python {1e6 * pn:.0f} µs, Go {1e6 * gn:.0f} µs per trace = {pn / gn:.1f}×")
    base = [c for c in r["clients"] if c["client"] == "go-base"]
    for a, b in zip(base, go):
        out.append(f"\nRound {a['round']}: Go/Go-base client CPU per trace = {b['cpu_s'] / a['cpu_s']:.2f}× "
                   f"(measured part), {b['process_cpu_s'] / a['process_cpu_s']:.2f}× (whole process); "
                   f"server CPU per trace {b['server_cpu_s'] / a['server_cpu_s']:.2f}×")
    f = r.get("faults")
    if f:
        out.append(fault_markdown(f))
    return "\n".join(out)


def fault_markdown(f: dict) -> str:
    c = f["config"]
    out = [f"\nEnd() latency: {c['traces_per_scenario']} traces per scenario at {c['rate_traces_per_s']:.1f} traces/s, "
           f"{c['rounds']} rounds (scenario order rotated), slow proxy delay {c['slow_delay_s']:.1f} s. "
           "Per scenario: median over rounds of each round's percentile.\n"]
    out.append("| scenario | root End p50 | root End p99 | root End p99.9 | child End p50 | child End p99 "
               "| root p99 vs healthy | traces exported | traces dropped | export failures | retries |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    healthy = f["summary"].get("healthy", {}).get("root_end_p99_us") or 0
    for name in ("healthy", "down", "slow"):
        s = f["summary"].get(name)
        if not s:
            continue
        runs = [l for l in f["latency"] if l["scenario"] == name]
        tot = lambda k: sum(l["stats"].get(k, 0) for l in runs)  # noqa: E731
        ratio = f"{s['root_end_p99_us'] / healthy:.2f}×" if healthy else "n/a"
        out.append(f"| {name} | {s['root_end_p50_us']:.1f} µs | {s['root_end_p99_us']:.1f} µs | "
                   f"{s['root_end_p999_us']:.1f} µs | {s['child_end_p50_us']:.1f} µs | {s['child_end_p99_us']:.1f} µs | "
                   f"{ratio} | {tot('traces_exported')} | {tot('traces_dropped')} | {tot('export_failures')} | "
                   f"{tot('retried')} |")
    if f.get("pooled"):
        out.append("\nPooled over all rounds (every End call of the scenario):\n")
        out.append("| scenario | End calls | all End p50 | all End p99 | all End p99.9 | all End max "
                   "| root End p99 | root End max | all-End p99 vs healthy |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        h = f["pooled"].get("healthy", {}).get("all_end", {}).get("p99_us") or 0
        for name in ("healthy", "down", "slow"):
            p = f["pooled"].get(name)
            if not p:
                continue
            a, rt = p["all_end"], p["root_end"]
            ratio = f"{a['p99_us'] / h:.2f}×" if h else "n/a"
            out.append(f"| {name} | {a['n']} | {a['p50_us']:.1f} µs | {a['p99_us']:.1f} µs | {a['p999_us']:.1f} µs | "
                       f"{a['max_us']:.1f} µs | {rt['p99_us']:.1f} µs | {rt['max_us']:.1f} µs | {ratio} |")
    out.append("\nPer round (root End p99 / child End p99, µs):")
    for l in f["latency"]:
        out.append(f"- round {l['round']} {l['scenario']}: {l['root_end']['p99_us']:.1f} / {l['child_end']['p99_us']:.1f}; "
                   f"shutdown {l['shutdown_s']:.1f} s{' (' + l['shutdown_error'] + ')' if l.get('shutdown_error') else ''}; "
                   f"goroutines before/after {l['goroutines_before']}/{l['goroutines_after_shutdown']} "
                   f"(SDK's after: {l.get('sdk_goroutines_after_shutdown', '?')}); "
                   f"stats {l['stats']}")
    if f.get("memory"):
        out.append("\nMemory while the server is unreachable (burst as fast as the caller can go):\n")
        out.append("| server | traces | caller time / trace | heap in use before | peak heap in use | peak heap alloc "
                   "| heap in use after Shutdown+GC | process max RSS | traces exported | traces dropped | goroutines before/after "
                   "| SDK's goroutines after |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for m in f["memory"]:
            st = m.get("stats", {})
            out.append(f"| {m['scenario']} | {m['traces']} | {m['per_trace_us']:.0f} µs | {m['heap_inuse_before_mb']:.1f} MB | "
                       f"{m['heap_inuse_peak_mb']:.1f} MB | {m['heap_alloc_peak_mb']:.1f} MB | "
                       f"{m['heap_inuse_after_shutdown_gc_mb']:.1f} MB | {m['process_max_rss_mb']:.0f} MB | "
                       f"{st.get('traces_exported', 0)} | {st.get('traces_dropped', 0)} | {m['goroutines_before']}/{m['goroutines_after_shutdown']} | "
                       f"{m.get('sdk_goroutines_after_shutdown', '?')} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
