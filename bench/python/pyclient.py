"""MLflow Python SDK side of the side-by-side benchmark.

Sends N traces of the benchmark shape (see bench/README section in
BENCHMARKS.md: a root AGENT span with five children, one CHAT_MODEL span with
token usage, ~1 KB inputs and outputs per span) to the tracking server named by
MLFLOW_TRACKING_URI, with async trace logging on, then flushes and prints one
JSON line with its own CPU time (getrusage RUSAGE_SELF, all threads) and wall
time for the measured part (after a warm-up that is excluded).

Run by bench/python/sidebyside.py; not a test.
"""

import argparse
import json
import os
import resource
import sys
import time

FILLER = "The quick brown fox jumps over the lazy dog. " * 40  # 1800 chars


def text(label: str, i: int, n: int) -> str:
    s = f"{label} #{i}: " + FILLER
    return s[:n]


def one_trace(mlflow, SpanType, CHAT_USAGE, i: int) -> None:
    with mlflow.start_span("agent", span_type=SpanType.AGENT) as root:
        root.set_inputs({"messages": [{"role": "user", "content": text("question", i, 1000)}], "request_id": i})
        mlflow.update_current_trace(user="bench-user", session_id=f"session-{i % 10}")
        with mlflow.start_span("plan", span_type=SpanType.CHAIN) as s:
            s.set_inputs({"question": text("plan", i, 1000)})
            s.set_outputs({"steps": [text("step1", i, 300), text("step2", i, 300), text("step3", i, 300)]})
        with mlflow.start_span("retrieve", span_type=SpanType.RETRIEVER) as s:
            s.set_inputs({"query": text("query", i, 1000)})
            s.set_outputs(
                [{"page_content": text(f"doc{k}", i, 300), "metadata": {"doc_uri": f"doc-{k}"}} for k in range(3)]
            )
        with mlflow.start_span("chat", span_type=SpanType.CHAT_MODEL) as s:
            s.set_inputs(
                {
                    "model": "gpt-4o-mini",
                    "messages": [
                        {"role": "system", "content": text("system", i, 300)},
                        {"role": "user", "content": text("user", i, 700)},
                    ],
                }
            )
            s.set_attribute(CHAT_USAGE, {"input_tokens": 250, "output_tokens": 120, "total_tokens": 370})
            s.set_outputs(
                {
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text("reply", i, 1000)},
                            "finish_reason": "stop",
                        }
                    ]
                }
            )
        with mlflow.start_span("search_tool", span_type=SpanType.TOOL) as s:
            s.set_inputs({"query": text("search", i, 1000)})
            s.set_outputs({"result": text("result", i, 1000)})
        with mlflow.start_span("format", span_type=SpanType.PARSER) as s:
            s.set_inputs({"text": text("raw", i, 1000)})
            s.set_outputs({"answer": text("answer", i, 1000)})
        root.set_outputs({"content": text("final", i, 1000)})


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("-warmup", type=int, default=5)
    ap.add_argument("-pace", type=float, default=0, help="traces per second (0: as fast as possible)")
    args = ap.parse_args()

    t_start = time.perf_counter()
    import mlflow
    from mlflow.entities import SpanType
    from mlflow.tracing.constant import SpanAttributeKey

    t_imported = time.perf_counter()
    for i in range(args.warmup):
        one_trace(mlflow, SpanType, SpanAttributeKey.CHAT_USAGE, -1 - i)
    mlflow.flush_trace_async_logging()

    cpu0, t0 = cpu(), time.perf_counter()
    for i in range(args.n):
        if args.pace > 0:
            # Paced: trace i starts at t0 + i/pace, as requests arriving at a
            # steady rate would.
            delay = t0 + i / args.pace - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        one_trace(mlflow, SpanType, SpanAttributeKey.CHAT_USAGE, i)
    cpu1, t1 = cpu(), time.perf_counter()
    mlflow.flush_trace_async_logging()
    cpu2, t2 = cpu(), time.perf_counter()

    r = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "client": "python",
                "mlflow": mlflow.__version__,
                "n": args.n,
                "pace": args.pace,
                "warmup": args.warmup,
                "import_s": t_imported - t_start,
                "gen_s": t1 - t0,
                "flush_s": t2 - t1,
                "wall_s": t2 - t0,
                "cpu_gen_s": cpu1 - cpu0,
                "cpu_s": cpu2 - cpu0,
                "maxrss_kb": r.ru_maxrss,
            }
        )
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
