"""Reading traces back: package traces (bench/cmd/readbench) vs MLflow's
Python client (MlflowClient) against the same `mlflow server`, one run.

  .venv/bin/python bench/python/readbench.py [-n 20] [--traces 40] [--page 10]

Starts a sqlite-backed server on a free loopback port, writes --traces
traces with MLflow's Python SDK (an AGENT root, a CHAIN, a CHAT_MODEL and
two TOOL spans, a feedback), then times, in each client after one warm-up:
GetTrace of one trace, and a 3-page search (--page traces per page, spans
included). Wall time and process CPU (user+system) per operation; the Python
figures exclude its import time, the Go ones its start-up. Prints a
Markdown table and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--traces", type=int, default=40)
    ap.add_argument("--page", type=int, default=10)
    args = ap.parse_args()
    os.environ.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(Path(d) / "server.log", "wb")
        srv = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                                "--backend-store-uri", f"sqlite:///{d}/mlflow.db", "--artifacts-destination", f"{d}/artifacts",
                                "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(url + "/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.3)
            run(url, args, d)
        finally:
            os.killpg(srv.pid, 15)
            try:
                srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(srv.pid, 9)
                srv.wait(timeout=30)


def run(url: str, args, d: str) -> None:
    import mlflow
    from mlflow.entities import AssessmentSource

    mlflow.set_tracking_uri(url)
    exp = mlflow.set_experiment("readbench").experiment_id

    @mlflow.trace(span_type="TOOL")
    def tool(x):
        return {"x": x, "result": [x] * 5}

    @mlflow.trace(name="agent", span_type="AGENT")
    def agent(i):
        with mlflow.start_span("plan", span_type="CHAIN") as s:
            s.set_inputs({"question": f"question {i}" * 10})
            with mlflow.start_span("chat", span_type="CHAT_MODEL") as c:
                c.set_inputs({"messages": [{"role": "user", "content": "hi " * 50}]})
                c.set_outputs({"choices": [{"message": {"role": "assistant", "content": "ok " * 50}}]})
            s.set_outputs(["tool", "tool"])
        tool(i)
        tool(i + 1)
        return f"answer {i}"

    ids = []
    for i in range(args.traces):
        agent(i)
        ids.append(mlflow.get_last_active_trace_id())
    mlflow.flush_trace_async_logging()
    for t in ids:
        mlflow.log_feedback(trace_id=t, name="user_feedback", value=True, source=AssessmentSource("HUMAN", "u"))
    target = ids[len(ids) // 2]

    client = mlflow.MlflowClient(url)

    def search():
        tok, n = None, 0
        for _ in range(3):
            page = client.search_traces(locations=[exp], max_results=args.page, page_token=tok)
            n += len(page)
            tok = page.token
        return n

    client.get_trace(target)
    search()
    py = {}

    def time1(name, f):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            r = f()
        py[name] = {"wall_s": (time.perf_counter() - w0) / args.n, "cpu_s": (time.process_time() - c0) / args.n}
        return r

    time1("get_trace", lambda: client.get_trace(target))
    py["traces_per_search"] = time1("search_3_pages", search)

    binary = Path(d) / "readbench"
    subprocess.run(["go", "build", "-o", str(binary), "./bench/cmd/readbench"], cwd=ROOT, check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_TRACKING_URI"] = url
    res = subprocess.run([str(binary), "-n", str(args.n), "-trace", target, "-experiment", exp, "-page", str(args.page)],
                         env=env, capture_output=True, text=True, check=True)
    go = json.loads(res.stdout)
    assert go["traces_per_search"] == py["traces_per_search"] == 3 * args.page, (go, py)

    print(f"| operation (per call, mean of {args.n}) | Python wall | Go wall | wall ratio | Python CPU | Go CPU | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for op, label in (("get_trace", "GetTrace (5 spans, 1 feedback)"),
                      ("search_3_pages", f"SearchTraces, 3 pages of {args.page} with spans")):
        p, g = py[op], go[op]
        print(f"| {label} | {p['wall_s']*1000:.1f} ms | {g['wall_s']*1000:.1f} ms | {p['wall_s']/g['wall_s']:.1f}× "
              f"| {p['cpu_s']*1000:.1f} ms | {g['cpu_s']*1000:.2f} ms | {p['cpu_s']/max(g['cpu_s'], 1e-9):.1f}× |")
    print(json.dumps({"python": py, "go": go}))


if __name__ == "__main__":
    main()
