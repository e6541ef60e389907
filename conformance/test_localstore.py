"""The local store: traces written by mlflowtrace-go (package tracing, the
exporter and internal/localstore) into an MLflow FileStore folder load in the
real MLflow exactly as recorded: through MlflowClient.get_trace and
mlflow.search_traces, from two processes writing at once, and through
`mlflow server` REST routes the UI reads.

conformance/cmd/writestore writes the traces and prints a manifest of the Go
values it recorded; these tests compare MLflow's view with it.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import urllib.request

import mlflow
import pytest
from conftest import MlflowServerProcess

EXPERIMENT = "conformance: ünï exp"  # MLflow's name lookup cannot hold a single quote
AGENT_SPANS = {"agent", "plan", "chat", "lookup", "broken", "guard"}


def run_writestore(binary, root: pathlib.Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(binary), "-root", str(root), "-experiment", EXPERIMENT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def wait_manifest(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"writestore failed ({proc.returncode}):\n{err}"
    return json.loads(out)


@pytest.fixture(scope="module")
def store(writestore, tmp_path_factory):
    """A FileStore folder with 3 agent traces and one big trace."""
    parent = tmp_path_factory.mktemp("store")
    root = parent / "mlruns"
    manifest = wait_manifest(run_writestore(writestore, root, "-traces", "3", "-prefix", "one"))
    return parent, root, manifest


def client(root: pathlib.Path) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=str(root))


def experiment_id(root: pathlib.Path) -> str:
    exp = client(root).get_experiment_by_name(EXPERIMENT)
    assert exp is not None, f"experiment {EXPERIMENT!r} not found"
    return exp.experiment_id


def check_trace(c: mlflow.MlflowClient, want: dict) -> None:
    trace = c.get_trace(want["trace_id"])
    assert trace is not None, want["trace_id"]
    info = trace.info
    assert info.trace_id == want["trace_id"]
    assert info.state.value == want["state"]
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {s["name"] for s in want["spans"]}
    assert len(trace.data.spans) == len(want["spans"])
    by_id = {s.span_id: s.name for s in trace.data.spans}
    root_name = next(s["name"] for s in want["spans"] if not s["parent"])

    for w in want["spans"]:
        got = spans[w["name"]]
        assert got.trace_id == info.trace_id
        assert (by_id.get(got.parent_id) if got.parent_id else "") == w["parent"], w["name"]
        assert got.span_type == w["span_type"], w["name"]
        if w["has_inputs"]:
            assert got.inputs == w["inputs"], w["name"]
        if w["has_outputs"]:
            assert got.outputs == w["outputs"], w["name"]
        assert got.status.status_code.value == w["status"], w["name"]
        assert got.start_time_ns <= got.end_time_ns
        events = [(e.name, e.attributes) for e in got.events]
        assert [e[0] for e in events] == [e["name"] for e in w["events"]], w["name"]
        for (_, attrs), we in zip(events, w["events"]):
            for k, v in we["attributes"].items():
                assert attrs.get(k) == v, (w["name"], k)
        if w["status"] == "ERROR":
            exc = dict(events)["exception"]
            assert exc["exception.type"] and exc["exception.stacktrace"]
            assert exc["exception.message"] in got.status.description
        for k, v in (w.get("attributes") or {}).items():
            assert got.get_attribute(k) == v, (w["name"], k)
        if w.get("token_usage"):
            assert got.get_attribute("mlflow.chat.tokenUsage") == w["token_usage"]

    tags, meta = info.tags, info.trace_metadata
    assert tags["mlflow.traceName"] == root_name
    loc = tags["mlflow.artifactLocation"]
    assert loc.startswith("file://") and loc.endswith(f"/traces/{info.trace_id}/artifacts")
    for k, v in (want.get("tags") or {}).items():
        assert tags.get(k) == v, k
    for k, v in (want.get("metadata") or {}).items():
        assert meta.get(k) == v, k
    if want.get("user"):
        assert meta["mlflow.trace.user"] == want["user"]
        assert meta["mlflow.trace.session"] == want["session"]
    assert meta["mlflow.trace_schema.version"] == "3"
    root = next(s for s in want["spans"] if not s["parent"])
    if len(json.dumps(root["inputs"])) < 200:
        assert json.loads(info.request_preview) == root["inputs"]
        assert json.loads(info.response_preview) == root["outputs"]
        assert json.loads(meta["mlflow.traceInputs"]) == root["inputs"]
    else:
        assert len(info.request_preview) <= 1000 and info.request_preview.endswith("...")
        assert len(meta["mlflow.traceInputs"]) <= 250
    size_stats = json.loads(meta["mlflow.trace.sizeStats"])
    assert size_stats["num_spans"] == len(want["spans"])
    usage = [s["token_usage"] for s in want["spans"] if s.get("token_usage")]
    if usage:
        assert json.loads(meta["mlflow.trace.tokenUsage"]) == {
            k: sum(u[k] for u in usage) for k in ("input_tokens", "output_tokens", "total_tokens")
        }
    assert info.execution_duration is not None and info.execution_duration >= 0
    assert info.request_time > 0


def test_manifest_covers_the_workflow(store):
    _, _, manifest = store
    kinds = [t["kind"] for t in manifest["traces"]]
    assert kinds.count("agent") == 3 and kinds.count("big") == 1
    for t in manifest["traces"]:
        if t["kind"] == "agent":
            assert {s["name"] for s in t["spans"]} == AGENT_SPANS


def test_layout(store):
    _, root, manifest = store
    exp_id = experiment_id(root)
    assert (root / ".trash").is_dir()
    assert (root / "0" / "meta.yaml").is_file()
    for t in manifest["traces"]:
        d = root / exp_id / "traces" / t["trace_id"]
        assert (d / "trace_info.yaml").is_file()
        assert (d / "artifacts" / "traces.json").is_file()
        assert (d / "tags" / "mlflow.traceName").read_text() == t["spans"][0]["name"]
    leftovers = [p.name for p in (root / exp_id / "traces").iterdir() if p.name.startswith(".")]
    assert not leftovers


def test_get_trace_matches_manifest(store):
    _, root, manifest = store
    c = client(root)
    for want in manifest["traces"]:
        check_trace(c, want)


def test_search_traces(store):
    _, root, manifest = store
    exp_id = experiment_id(root)
    mlflow.set_tracking_uri(str(root))
    try:
        traces = mlflow.search_traces(locations=[exp_id], return_type="list")
        assert {t.info.trace_id for t in traces} == {t["trace_id"] for t in manifest["traces"]}
        for t in traces:
            assert t.data.spans, t.info.trace_id
        df = mlflow.search_traces(locations=[exp_id])
        assert len(df) == len(manifest["traces"])
        tagged = mlflow.search_traces(
            locations=[exp_id], filter_string="tags.env = 'conformance'", return_type="list"
        )
        assert len(tagged) == 3
        errors = mlflow.search_traces(locations=[exp_id], filter_string="trace.status = 'OK'", return_type="list")
        assert len(errors) == len(manifest["traces"])
    finally:
        mlflow.set_tracking_uri(None)


def test_two_processes_write_one_store(writestore, tmp_path):
    root = tmp_path / "mlruns"
    a = run_writestore(writestore, root, "-traces", "12", "-prefix", "a", "-big", "20000")
    b = run_writestore(writestore, root, "-traces", "12", "-prefix", "b", "-big", "20000")
    ma, mb = wait_manifest(a), wait_manifest(b)
    exps = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    assert sorted(exps) == sorted(["0", experiment_id(root)]), "both processes must share one experiment"
    c = client(root)
    infos = c.search_traces(locations=[experiment_id(root)], max_results=1000)
    want = {t["trace_id"]: t for t in ma["traces"] + mb["traces"]}
    assert {i.trace_id for i in infos} == set(want)
    for t in want.values():
        check_trace(c, t)


@pytest.mark.parametrize("mode", ["backend-store-uri", "default-mlruns-in-cwd"])
def test_mlflow_server_serves_traces(store, tmp_path, mode):
    parent, root, manifest = store
    args = ["--backend-store-uri", str(root)] if mode == "backend-store-uri" else []
    # With no arguments, `mlflow server` uses ./mlruns when it holds an
    # experiment (./mlruns/<digits>/meta.yaml): run it in the store's parent.
    with MlflowServerProcess(args, cwd=parent, log_path=tmp_path / "server.log") as srv:
        exp_id = experiment_id(root)
        body = json.dumps(
            {
                "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
                "max_results": 100,
            }
        ).encode()
        req = urllib.request.Request(
            srv.url + "/api/3.0/mlflow/traces/search",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            found = json.load(r)
        ids = {t["trace_id"] for t in found.get("traces", [])}
        assert ids == {t["trace_id"] for t in manifest["traces"]}, srv.log()
        for t in found["traces"]:
            assert t["trace_location"]["mlflow_experiment"]["experiment_id"] == exp_id
            assert t["tags"]["mlflow.traceName"]

        for want in manifest["traces"]:
            url = f"{srv.url}/ajax-api/2.0/mlflow/get-trace-artifact?request_id={want['trace_id']}"
            with urllib.request.urlopen(url, timeout=60) as r:
                data = json.load(r)
            names = {s["name"] for s in data["spans"]}
            assert names == {s["name"] for s in want["spans"]}
            for s in data["spans"]:
                assert json.loads(s["attributes"]["mlflow.traceRequestId"]) == want["trace_id"]

        # The experiment list the UI opens with.
        req = urllib.request.Request(
            srv.url + "/ajax-api/2.0/mlflow/experiments/search",
            data=json.dumps({"max_results": 100}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            exps = {e["name"] for e in json.load(r)["experiments"]}
        assert {"Default", EXPERIMENT} <= exps
