"""Parity: the same agent workflow written with MLflow's Python SDK
(conformance/parity/workflow.py) and with mlflowtrace-go
(conformance/cmd/parity), both loaded with MlflowClient.get_trace and compared
field by field after normalisation (conformance/parity/compare.py says what is
normalised and why).

Run against the local store (./mlruns FileStore layout), against a real
`mlflow server` 3.17.2 (sqlite backend, artifacts served; spans go through its
OTLP route) and against an old 3.3.2 server (no OTLP route: StartTraceV3 and
the traces.json artifact), each started on a free loopback port by the test.
"""

from __future__ import annotations

import sys

import pytest

from parity import compare, harness

WORKFLOW_PY = harness.MODULE_ROOT / "conformance" / "parity" / "workflow.py"
EXPECTED_SPANS = {"agent", "plan", "chat_model", "get_weather", "convert_units", "search_docs"}


@pytest.fixture(scope="module")
def go_parity(tmp_path_factory):
    return harness.go_build("conformance/cmd/parity", tmp_path_factory.mktemp("gobin"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("server")) as s:
        yield s


@pytest.fixture(scope="module")
def old_server(tmp_path_factory):
    """mlflow 3.3.2: no OTLP /v1/traces route, so both SDKs fall back to
    StartTraceV3 + the traces.json artifact."""
    with harness.MlflowServer(tmp_path_factory.mktemp("old-server"), python=harness.old_python()) as s:
        yield s


def write_python(tracking_uri: str, workdir, **extra_env) -> str:
    env = harness.clean_env(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_ALLOW_FILE_STORE="true", **extra_env)
    res = harness.run([sys.executable, str(WORKFLOW_PY)], env=env, cwd=workdir)
    return harness.trace_id_from_stdout(res.stdout)


def write_go(binary, tracking_uri: str, workdir, **extra_env) -> str:
    env = harness.clean_env(MLFLOW_TRACKING_URI=tracking_uri, **extra_env)
    res = harness.run([str(binary)], env=env, cwd=workdir)
    return harness.trace_id_from_stdout(res.stdout)


def sanity(norm: dict, who: str) -> None:
    """The workflow really produced what it is meant to, so parity can't pass vacuously."""
    assert not norm["problems"], f"{who}: {norm['problems']}"
    assert set(norm["spans"]) == EXPECTED_SPANS, f"{who}: spans {sorted(norm['spans'])}"
    assert norm["info"]["state"] == "OK", who
    assert norm["spans"]["convert_units"]["status"]["code"] == "STATUS_CODE_ERROR", who
    assert [e["name"] for e in norm["spans"]["convert_units"]["events"]] == ["exception"], who
    meta = norm["info"]["trace_metadata"]
    assert meta["mlflow.trace.user"] == "user-42", who
    assert meta["mlflow.trace.session"] == "session-7", who
    assert meta["mlflow.trace.sizeStats"]["num_spans"] == 6, who


def assert_parity(py: dict, go: dict) -> None:
    sanity(py, "python")
    sanity(go, "go")
    diffs = compare.diff(
        {k: v for k, v in py.items() if k != "problems"},
        {k: v for k, v in go.items() if k != "problems"},
    )
    assert not diffs, "Python and Go traces differ:\n" + compare.format_diffs(diffs)


def test_parity_local_store(tmp_path, go_parity):
    py_dir, go_dir = tmp_path / "py", tmp_path / "go"
    py_dir.mkdir()
    go_dir.mkdir()
    py_root, go_root = py_dir / "mlruns", go_dir / "mlruns"
    # Both as file: URIs: MLflow writes the artifact location in the form of
    # the tracking URI (a plain path gives a plain path), Go always file://.

    py_id = write_python(py_root.as_uri(), py_dir)
    go_id = write_go(go_parity, go_root.as_uri(), go_dir)

    py = compare.normalize(harness.load_trace(str(py_root), py_id), store_root=str(py_root))
    go = compare.normalize(harness.load_trace(str(go_root), go_id), store_root=str(go_root))
    assert_parity(py, go)


def test_parity_server(tmp_path, go_parity, server):
    py_id = write_python(server.url, tmp_path)
    go_id = write_go(go_parity, server.url, tmp_path)

    py = compare.normalize(harness.load_trace(server.url, py_id))
    go = compare.normalize(harness.load_trace(server.url, go_id))
    assert_parity(py, go)


def test_parity_old_server(tmp_path, go_parity, old_server):
    py_id = write_python(old_server.url, tmp_path)
    go_id = write_go(go_parity, old_server.url, tmp_path)

    py = compare.normalize(harness.load_trace(old_server.url, py_id))
    go = compare.normalize(harness.load_trace(old_server.url, go_id))
    assert_parity(py, go)


@pytest.mark.parametrize("variable", ["MLFLOW_ACTIVE_MODEL_ID", "_MLFLOW_ACTIVE_MODEL_ID"])
def test_parity_active_model_server(tmp_path, go_parity, server, variable):
    """MLFLOW_ACTIVE_MODEL_ID (and MLflow's older _MLFLOW_ACTIVE_MODEL_ID)
    links each trace to a LoggedModel: metadata mlflow.modelId, equal for
    both SDKs, and MLflow's search_traces(model_id=...) finds both traces."""
    import mlflow

    model_id = "m-legacy-0123" if variable.startswith("_") else "m-public-0123"
    py_id = write_python(server.url, tmp_path, **{variable: model_id})
    go_id = write_go(go_parity, server.url, tmp_path, **{variable: model_id})

    py = compare.normalize(harness.load_trace(server.url, py_id))
    go = compare.normalize(harness.load_trace(server.url, go_id))
    assert_parity(py, go)
    assert go["info"]["trace_metadata"]["mlflow.modelId"] == model_id
    assert py["info"]["trace_metadata"]["mlflow.modelId"] == model_id

    client = mlflow.MlflowClient(tracking_uri=server.url)
    found = client.search_traces(locations=["0"], model_id=model_id, include_spans=False)
    assert sorted(t.info.trace_id for t in found) == sorted([py_id, go_id])


def test_parity_context_scope_local_store(tmp_path, go_parity):
    """mlflow.tracing.context and its Go counterparts (ContextWithTraceOptions,
    ContextWithTracingEnabled): nested scopes put tags, metadata, user and
    session on the trace (the inner scope and update_current_trace winning),
    a traced call where tracing is off leaves no span, and a traced call at
    the top level where it is off leaves no trace."""
    import mlflow

    roots = {}
    ids = {}
    for who in ("py", "go"):
        d = tmp_path / who
        d.mkdir()
        roots[who] = d / "mlruns"
        if who == "py":
            ids[who] = write_python(roots[who].as_uri(), d, PARITY_SCOPE="1")
        else:
            ids[who] = write_go(go_parity, roots[who].as_uri(), d, PARITY_SCOPE="1")
    norm = {
        who: compare.normalize(harness.load_trace(str(roots[who]), ids[who]), store_root=str(roots[who]))
        for who in ("py", "go")
    }
    assert_parity(norm["py"], norm["go"])
    for who in ("py", "go"):
        info = norm[who]["info"]
        meta, tags = info["trace_metadata"], info["tags"]
        assert (meta["scope.key"], meta["scope.inner"]) == ("inner", "1"), who
        assert (meta["mlflow.trace.user"], meta["mlflow.trace.session"]) == ("user-42", "session-7"), who
        assert (tags["scope.tag"], tags["env"]) == ("t", "test"), who
        client = mlflow.MlflowClient(tracking_uri=roots[who].as_uri())
        found = client.search_traces(locations=["0"], include_spans=False)
        assert [t.info.trace_id for t in found] == [ids[who]], who
