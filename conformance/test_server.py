"""Go-written traces on a real MLflow tracking server, read back with MLflow's
own Python client (MlflowClient.get_trace, search_traces(filter_string=...),
mlflow.search_traces).

Four examples/quickstart processes run at once against the same server with
the same new MLFLOW_EXPERIMENT_NAME: the experiment is created exactly once
(race-safe lookup-or-create), every trace arrives complete, and the traces
are found by tag and by metadata. Run against MLflow 3.17.2 (spans stream
through /v1/traces into the SQL store: spansLocation=TRACKING_STORE) and the
old 3.3.2 server (no OTLP route: StartTraceV3 + the traces.json artifact).
"""

from __future__ import annotations

import concurrent.futures
import sys
import re
import uuid

import pytest

from parity import harness

QUESTION = "I'm flying to Paris tomorrow. What should I pack?"
EXPECTED_SPANS = ["travel_agent", "plan", "chat_model", "get_weather", "packing_list", "chat_model"]
PROCESSES = 4


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    return harness.go_build("examples/quickstart", tmp_path_factory.mktemp("gobin"))


@pytest.fixture(scope="module", params=["new", "old"])
def server(request, tmp_path_factory):
    python = harness.old_python() if request.param == "old" else sys.executable
    with harness.MlflowServer(tmp_path_factory.mktemp(f"server-{request.param}"), python=python) as s:
        s.kind = request.param
        yield s


def run_quickstart(binary, url: str, experiment: str, workdir) -> str:
    env = harness.clean_env(MLFLOW_TRACKING_URI=url, MLFLOW_EXPERIMENT_NAME=experiment)
    res = harness.run([str(binary)], env=env, cwd=workdir, timeout=300)
    m = re.search(r"\bTrace (tr-[0-9a-f]{32})\b", res.stdout)
    assert m, f"no trace id in quickstart output:\n{res.stdout}\n{res.stderr}"
    return m.group(1)


def test_quickstart_traces_on_server(server, quickstart, tmp_path):
    import mlflow

    experiment = f"conformance-{server.kind}-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(PROCESSES) as pool:
        futures = [pool.submit(run_quickstart, quickstart, server.url, experiment, tmp_path) for _ in range(PROCESSES)]
        trace_ids = sorted(f.result() for f in futures)
    assert len(set(trace_ids)) == PROCESSES

    client = mlflow.MlflowClient(tracking_uri=server.url)
    exps = [e for e in client.search_experiments(filter_string=f"name = '{experiment}'")]
    assert len(exps) == 1, f"experiment created {len(exps)} times"
    exp_id = exps[0].experiment_id

    for tid in trace_ids:
        d = harness.load_trace(server.url, tid)
        t = client.get_trace(tid)
        info = t.info
        assert info.experiment_id == exp_id
        assert str(info.state).endswith("OK")
        assert [s.name for s in t.data.spans] == EXPECTED_SPANS or sorted(s.name for s in t.data.spans) == sorted(EXPECTED_SPANS)
        assert len(d["data"]["spans"]) == len(EXPECTED_SPANS)
        root = next(s for s in t.data.spans if s.parent_id is None)
        assert root.name == "travel_agent" and root.span_type == "AGENT"
        assert root.inputs["messages"][-1] == {"role": "user", "content": QUESTION}
        assert root.outputs["messages"][-1]["role"] == "assistant"
        assert info.request_preview == QUESTION
        assert info.response_preview.startswith("Expect light rain in Paris")
        assert info.token_usage == {"input_tokens": 98, "output_tokens": 52, "total_tokens": 150}
        assert info.tags["mlflow.traceName"] == "travel_agent"
        assert info.trace_metadata["mlflow.trace_schema.version"] == "3"
        assert int(eval_size_stats(info.trace_metadata)["num_spans"]) == len(EXPECTED_SPANS)
        for s in t.data.spans:
            assert s.get_attribute("mlflow.traceRequestId") == tid
            if s.span_type == "CHAT_MODEL":
                assert s.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] > 0
        if server.kind == "new":
            assert info.tags.get("mlflow.trace.spansLocation") == "TRACKING_STORE"
        else:
            assert info.tags.get("mlflow.trace.spansLocation") != "TRACKING_STORE"
            assert info.tags["mlflow.artifactLocation"].startswith("mlflow-artifacts:/")

    def search(filter_string):
        res = client.search_traces(locations=[exp_id], filter_string=filter_string, max_results=100)
        return sorted(t.info.trace_id for t in res)

    assert search(None) == trace_ids
    assert search("tags.`mlflow.traceName` = 'travel_agent'") == trace_ids
    user = client.get_trace(trace_ids[0]).info.trace_metadata.get("mlflow.trace.user")
    assert user, "quickstart sets a user"
    assert search(f"metadata.`mlflow.trace.user` = '{user}'") == trace_ids
    assert search("trace.status = 'OK'") == trace_ids
    assert search("tags.`mlflow.traceName` = 'no-such-trace'") == []

    mlflow.set_tracking_uri(server.url)
    try:
        df = mlflow.search_traces(locations=[exp_id])
        assert sorted(df["trace_id"]) == trace_ids
    finally:
        mlflow.set_tracking_uri(None)


def eval_size_stats(metadata: dict) -> dict:
    import json

    return json.loads(metadata["mlflow.trace.sizeStats"])
