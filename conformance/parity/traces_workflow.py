"""Writes the traces test_traces.py reads back: run with MLFLOW_TRACKING_URI
set; prints a JSON manifest on stdout.

  python traces_workflow.py search <experiment name>   14 traces with varied
      names, tags, metadata, states, durations, client request ids and a run
  python traces_workflow.py one <experiment name>      one agent trace with
      nested spans, an event and a failed tool
"""

from __future__ import annotations

import json
import sys
import time

import mlflow

NAMES = ["alpha", "beta", "gamma"]


def one() -> dict:
    @mlflow.trace(span_type="TOOL")
    def lookup(city):
        if city == "Atlantis":
            raise ValueError("no such city")
        return {"city": city, "temp_c": 21.5}

    @mlflow.trace(name="agent", span_type="AGENT")
    def agent(question):
        with mlflow.start_span("plan", span_type="CHAIN") as s:
            s.set_inputs({"question": question})
            s.add_event(mlflow.entities.SpanEvent("thinking", attributes={"step": 1}))
            s.set_outputs(["lookup"])
        try:
            lookup("Atlantis")
        except ValueError:
            pass
        mlflow.update_current_trace(tags={"env": "prod"}, metadata={"v": "1"})
        return lookup("Paris ü")

    agent("Weather?")
    tid = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    return {"trace_id": tid}


def search() -> dict:
    ids = []
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        for i in range(4):
            ids.append(_traced(i, in_run=True))
    mid = None
    for i in range(4, 14):
        if i == 8:
            time.sleep(0.05)
            mid = int(time.time() * 1000)
            time.sleep(0.05)
        ids.append(_traced(i))
    mlflow.flush_trace_async_logging()
    return {"ids": ids, "run_id": run_id, "mid_ms": mid}


def sessions() -> dict:
    """12 traces: sessions s-a, s-b, s-c interleaved (s-b's traces also
    linked to LoggedModel m-sess), and two without a session."""
    plan = ["s-a", "s-b", None, "s-a", "s-c", "s-b", "s-a", None, "s-c", "s-b", "s-a", "s-c"]
    ids = []
    for i, session in enumerate(plan):

        @mlflow.trace(name=f"turn_{i}", span_type="AGENT")
        def turn(x):
            with mlflow.start_span("tool", span_type="TOOL") as s:
                s.set_inputs({"x": x})
                s.set_outputs(x)
            mlflow.update_current_trace(session_id=session, model_id="m-sess" if session == "s-b" else None)
            return x

        turn(i)
        ids.append(mlflow.get_last_active_trace_id())
        time.sleep(0.01)
    mlflow.flush_trace_async_logging()
    return {"ids": ids}


def _traced(i: int, in_run: bool = False) -> str:
    name = NAMES[i % 3]

    @mlflow.trace(name=name, span_type="AGENT")
    def run(x):
        with mlflow.start_span("tool" if i % 2 else "retrieve", span_type="TOOL" if i % 2 else "RETRIEVER") as s:
            s.set_inputs({"x": x})
            time.sleep(0.01 * (i % 4))
            s.set_outputs(x * 2)
        tags = {"env": "prod" if i % 2 == 0 else "dev", "idx": str(i)}
        metadata = {"v": str(1 + i % 2)}
        mlflow.update_current_trace(tags=tags, metadata=metadata,
                                    client_request_id=f"req-{i}" if i % 3 == 0 else None)
        if i % 5 == 4:
            raise RuntimeError("boom")
        return x

    try:
        run(i)
    except RuntimeError:
        pass
    time.sleep(0.005)
    return mlflow.get_last_active_trace_id()


if __name__ == "__main__":
    mlflow.set_experiment(sys.argv[2])
    out = {"one": one, "search": search, "sessions": sessions}[sys.argv[1]]()
    out["experiment_id"] = mlflow.get_experiment_by_name(sys.argv[2]).experiment_id
    print(json.dumps(out))
