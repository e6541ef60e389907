"""Databricks: MLflow's own Python SDK (mlflow 3.17.2 + databricks-sdk) and
this module's Go SDK write the parity workflow into the same fake Databricks
workspace (internal/databrickstest, started over plain HTTP), for every
storage path: experiments on each signed-URL type (AWS, GCP, Azure blob,
ADLS Gen2), an experiment whose artifacts live in a Unity Catalog volume, and
Unity Catalog tables (MLFLOW_TRACING_DESTINATION=<catalog>.<schema>), and an
experiment linked to Unity Catalog tables (<catalog>.<schema>.<prefix>, named
by the experiment's tags: both clients find the link and write the tables),
with a personal access token or OAuth client credentials.

- The fake must accept everything MLflow's own client sends: that is what
  makes it trustworthy for the Go tests (test_fake_accepts_mlflow).
- Every stored payload loads with MLflow's own classes (load_trace:
  protobuf messages, TraceInfo.from_proto, Span.from_dict,
  Span.from_otel_proto, Trace.from_dict).
- The Python and Go traces are compared field by field after
  conformance/parity/compare.py's normalisation (test_parity).
- LLM cost: the workflow's chat model is a catalog model (PRICED_LLM, one
  per scenario), so MLflow's client prices the span (mlflow.llm.cost) and the
  trace (mlflow.trace.cost) itself, as it does for Databricks; the Go SDK
  must send the same text (test_parity), and both equal MLflow's
  calculate_cost_by_model_and_token_usage (test_llm_cost).
"""

from __future__ import annotations

import concurrent.futures
import json
import sys

import pytest

from databricks_fake import PY_QUIET, FakeWorkspace, load_trace
from parity import compare, harness

WORKFLOW_PY = harness.MODULE_ROOT / "conformance" / "parity" / "workflow.py"
EXPECTED_SPANS = {"agent", "plan", "chat_model", "get_weather", "convert_units", "search_docs"}
UC_CATALOG, UC_SCHEMA = "main", "agents"
UC_PREFIX = "prod"  # table prefix of the linked experiment

# scenario -> (storage, auth)
SCENARIOS = {
    "aws": ({"cloud": "AWS_PRESIGNED_URL"}, "pat"),
    "gcp": ({"cloud": "GCP_SIGNED_URL"}, "oauth"),
    "azure": ({"cloud": "AZURE_SAS_URI"}, "pat"),
    "adls": ({"cloud": "AZURE_ADLS_GEN2_SAS_URI"}, "oauth"),
    "volume": ({"volume": "/Volumes/main/agents/traces/parity"}, "pat"),
    "uc": (None, "oauth"),
    "uc_linked": ({"cloud": "AWS_PRESIGNED_URL", "link": True}, "pat"),
}
WRITERS = ("python", "go")
# scenario -> the workflow's chat model and provider (PARITY_LLM_MODEL /
# _PROVIDER): provider files, a provider in capitals with a prefixed model,
# Databricks' own models.
PRICED_LLM = {
    "aws": ("gpt-4o-mini", "openai"),
    "gcp": ("claude-sonnet-4-6", "anthropic"),
    "azure": ("gemini-2.5-flash", "gemini"),
    "adls": ("databricks-claude-3-7-sonnet", "databricks"),
    "volume": ("openai/gpt-4o", "OpenAI"),
    "uc": ("claude-sonnet-4-6", "anthropic"),
    "uc_linked": ("gpt-4o-mini", "openai"),
}
LLM_USAGE = {"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("fakeworkspace")
    binary = harness.go_build("internal/databrickstest/cmd/fakeworkspace", d)
    with FakeWorkspace(binary, d / "fake.log") as w:
        yield w


@pytest.fixture(scope="module")
def go_parity(tmp_path_factory):
    return harness.go_build("conformance/cmd/parity", tmp_path_factory.mktemp("gobin"))


def scenario_env(fake: FakeWorkspace, name: str, location: str, home) -> dict:
    storage, auth = SCENARIOS[name]
    model, provider = PRICED_LLM[name]
    env = harness.clean_env(HOME=str(home), MLFLOW_TRACKING_URI="databricks",
                            PARITY_LLM_MODEL=model, PARITY_LLM_PROVIDER=provider, **PY_QUIET)
    env.update(fake.pat_env() if auth == "pat" else fake.oauth_env())
    if storage is None:
        env["MLFLOW_TRACING_DESTINATION"] = location
    else:
        env["MLFLOW_EXPERIMENT_ID"] = location
    return env


@pytest.fixture(scope="module")
def written(fake, go_parity, tmp_path_factory):
    """Writes the workflow once per scenario and writer (in parallel: the
    Python SDK's start-up dominates) and returns {(scenario, writer): trace id}."""
    fake.create_uc_schema(UC_CATALOG, UC_SCHEMA)
    fake.locations = {}
    jobs = {}
    for name, (storage, _) in SCENARIOS.items():
        if storage is None:
            location = f"{UC_CATALOG}.{UC_SCHEMA}"
        else:
            kwargs = {k: v for k, v in storage.items() if k != "link"}
            location = fake.create_experiment(f"/Users/parity@example.com/{name}", **kwargs)
            if storage.get("link"):
                fake.link_experiment_to_uc(location, UC_CATALOG, UC_SCHEMA, UC_PREFIX)
        fake.locations[name] = location
        for writer in WRITERS:
            home = tmp_path_factory.mktemp(f"{name}-{writer}")
            env = scenario_env(fake, name, location, home)
            cmd = [sys.executable, str(WORKFLOW_PY)] if writer == "python" else [str(go_parity)]
            jobs[(name, writer)] = (cmd, env, home)
    out = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {k: pool.submit(harness.run, cmd, env, home, 300) for k, (cmd, env, home) in jobs.items()}
        for k, f in futures.items():
            out[k] = harness.trace_id_from_stdout(f.result().stdout)
    return out


def test_fake_accepts_mlflow(fake, written):
    """Nothing either client sent was rejected, and every trace is complete."""
    st = fake.state()
    assert not st["rejections"], f"the fake workspace rejected requests: {st['rejections']}"
    assert st["mlflow_version"] == "3.17.2"
    for (name, writer), trace_id in written.items():
        t = fake.trace(trace_id)
        if SCENARIOS[name][0] is None:
            assert t["TraceInfoV4"] and len(t["Spans"]) == 6, (name, writer)
            assert t["SpanTable"] == f"{UC_CATALOG}.{UC_SCHEMA}.mlflow_experiment_trace_otel_spans"
        elif SCENARIOS[name][0].get("link"):
            assert trace_id.startswith(f"trace:/{UC_CATALOG}.{UC_SCHEMA}.{UC_PREFIX}/"), (name, writer, trace_id)
            assert t["TraceInfoV4"] and len(t["Spans"]) == 6 and not t.get("StartTraceV3"), (name, writer)
            assert t["SpanTable"] == f"{UC_CATALOG}.{UC_SCHEMA}.{UC_PREFIX}_otel_spans", (name, writer)
        else:
            assert t["StartTraceV3"] and t["Data"], (name, writer)
            want = SCENARIOS[name][0].get("cloud", "UC_VOLUME")
            assert t["DataVia"] == want, (name, writer, t["DataVia"])


def test_python_calls_are_what_the_fake_serves(fake, written):
    """The requests MLflow's client made, by route: a record of the Databricks
    protocol the Go client follows (and of the calls it leaves out)."""
    routes = set()
    for r in fake.state()["requests"]:
        p = r["Path"]
        if p.startswith("/__fake/"):
            continue
        for prefix in ("/api/2.0/mlflow/traces/", "/api/4.0/mlflow/traces/", "/api/2.0/fs/files/"):
            if p.startswith(prefix):
                p = prefix + "…"
        if r["Host"] != "workspace":
            p = r["Host"]
        routes.add((r["Method"], p))
    for want in [
        ("POST", "/api/3.0/mlflow/traces"),
        ("GET", "/api/2.0/mlflow/traces/…"),
        ("PUT", "/api/2.0/fs/files/…"),
        ("GET", "/api/2.0/fs/endpoints"),
        ("POST", "/api/2.0/otel/v1/traces"),
        ("POST", "/api/4.0/mlflow/traces/…"),
        ("GET", "/.well-known/databricks-config"),
        ("GET", "/oidc/.well-known/oauth-authorization-server"),
        ("POST", "/oidc/v1/token"),
        ("PUT", "AWS_PRESIGNED_URL"),
        ("PUT", "GCP_SIGNED_URL"),
        ("PUT", "AZURE_SAS_URI"),
        ("PATCH", "AZURE_ADLS_GEN2_SAS_URI"),
    ]:
        assert want in routes, f"{want} never called; calls: {sorted(routes)}"


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_payloads_load_with_mlflow(fake, written, name, writer):
    trace = load_trace(fake.trace(written[(name, writer)]))
    assert trace.info.trace_id == written[(name, writer)]
    assert {s.name for s in trace.data.spans} == EXPECTED_SPANS
    assert trace.info.state.value == "OK"
    storage = SCENARIOS[name][0]
    linked = bool(storage and storage.get("link"))
    schema = "4" if storage is None or linked else "3"
    assert trace.info.trace_metadata["mlflow.trace_schema.version"] == schema
    for s in trace.data.spans:
        assert s.trace_id == trace.info.trace_id
    if linked:
        loc = trace.info.trace_location.uc_table_prefix
        assert (loc.catalog_name, loc.schema_name, loc.table_prefix) == (UC_CATALOG, UC_SCHEMA, UC_PREFIX)
    elif schema == "4":
        loc = trace.info.trace_location.uc_schema
        assert (loc.catalog_name, loc.schema_name) == (UC_CATALOG, UC_SCHEMA)
    if schema == "4":
        root = next(s for s in trace.data.spans if s.parent_id is None)
        assert root.attributes.get("user.id") == "user-42"
        assert root.attributes.get("session.id") == "session-7"
    else:
        assert trace.info.tags["mlflow.artifactLocation"].startswith("dbfs:/")


def sanity(norm: dict, who: str) -> None:
    assert not norm["problems"], f"{who}: {norm['problems']}"
    assert set(norm["spans"]) == EXPECTED_SPANS, f"{who}: spans {sorted(norm['spans'])}"
    assert norm["info"]["state"] == "OK", who
    meta = norm["info"]["trace_metadata"]
    assert meta["mlflow.trace.user"] == "user-42", who
    assert meta["mlflow.trace.sizeStats"]["num_spans"] == 6, who


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_parity(fake, written, name):
    py = compare.normalize(load_trace(fake.trace(written[(name, "python")])).to_dict())
    go = compare.normalize(load_trace(fake.trace(written[(name, "go")])).to_dict())
    sanity(py, "python")
    sanity(go, "go")
    diffs = compare.diff(
        {k: v for k, v in py.items() if k != "problems"},
        {k: v for k, v in go.items() if k != "problems"},
    )
    assert not diffs, f"{name}: Python and Go traces differ:\n" + compare.format_diffs(diffs)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_llm_cost(fake, written, name, monkeypatch):
    """Both clients priced the chat model span and the trace, with the value
    MLflow's own function gives for the model, provider and usage (the bundled
    catalog: PY_QUIET points MLFLOW_MODEL_CATALOG_URI nowhere)."""
    from mlflow.tracing.utils import calculate_cost_by_model_and_token_usage

    monkeypatch.setenv("MLFLOW_MODEL_CATALOG_URI", PY_QUIET["MLFLOW_MODEL_CATALOG_URI"])
    model, provider = PRICED_LLM[name]
    want = calculate_cost_by_model_and_token_usage(model, LLM_USAGE, provider)
    assert want and want["total_cost"] > 0, (model, provider, want)
    for writer in WRITERS:
        trace = load_trace(fake.trace(written[(name, writer)]))
        chat = next(s for s in trace.data.spans if s.name == "chat_model")
        assert chat.get_attribute("mlflow.llm.cost") == want, (writer, chat.get_attribute("mlflow.llm.cost"))
        assert trace.info.cost == want, (writer, trace.info.trace_metadata.get("mlflow.trace.cost"))
        others = [s.name for s in trace.data.spans if s.name != "chat_model" and s.get_attribute("mlflow.llm.cost")]
        assert not others, (writer, others)


GET_INFO_PY = """
import json, sys
from mlflow.tracing.client import TracingClient
c = TracingClient()
print(json.dumps({tid: c.get_trace_info(tid).trace_id for tid in sys.argv[1:]}))
"""


def test_mlflow_reads_trace_infos_back(fake, written, tmp_path):
    """The look-ups the Go SDK's spool replay makes before it writes a trace
    again (GetTraceInfoV3; the v4 GetTraceInfo for Unity Catalog tables)
    are the fake's answers to MLflow's own TracingClient.get_trace_info."""
    ids = [tid for (name, writer), tid in written.items() if writer == "go"]
    env = harness.clean_env(HOME=str(tmp_path), MLFLOW_TRACKING_URI="databricks", **PY_QUIET)
    env.update(fake.pat_env())
    res = harness.run([sys.executable, "-c", GET_INFO_PY, *ids], env, tmp_path, 180)
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {tid: tid for tid in ids}
    st = fake.state()
    assert not st["rejections"], st["rejections"]
    routes = {(r["Method"], r["Path"].split("/info")[0].rsplit("/", 1)[0]) for r in st["requests"] if r["Method"] == "GET"}
    assert ("GET", "/api/3.0/mlflow/traces") in routes, sorted(routes)
    assert any(p.startswith("/api/4.0/mlflow/traces/") for _, p in routes), sorted(routes)


@pytest.fixture(scope="module")
def traceclient(tmp_path_factory):
    return harness.go_build("conformance/cmd/traceclient", tmp_path_factory.mktemp("traceclient"))


def norm_assessment(d: dict) -> dict:
    d = {k: v for k, v in d.items() if k not in ("assessment_id", "create_time", "last_update_time", "trace_id")}
    if "overrides" in d:
        d["overrides"] = "<id>"
    return d


def go_requests(tid: str) -> list[dict]:
    """The Go twin of traces_annotate.py's calls (ids of earlier answers are
    filled in as they come)."""
    return [
        {"op": "log_feedback", "trace_id": tid, "name": "user_feedback", "value": True, "rationale": "helpful",
         "source": {"Type": "HUMAN", "ID": "user-42"}, "metadata": {"channel": "web"}},
        {"op": "log_expectation", "trace_id": tid, "name": "expected", "value": {"answer": ["Paris", 21]}},
        {"op": "log_feedback", "trace_id": tid, "name": "relevance", "value": 0.4, "source": {"Type": "LLM_JUDGE", "ID": "judge-1"}},
    ]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_read_and_annotate(fake, written, traceclient, name, tmp_path):
    """MLflow's Python SDK reads, searches and annotates traces in the fake
    workspace (the fake accepts every request), and package traces does the
    same: Python's view of Go-logged assessments equals its view of its own,
    and Go reads the Python-written trace as Python's Trace.to_dict()."""
    import subprocess
    before = len(fake.state()["rejections"] or [])
    py_id, go_id = written[(name, "python")], written[(name, "go")]
    location = fake.locations[name]
    env = scenario_env(fake, name, location, tmp_path)

    # Go annotates its own trace first, the way the script below does Python's.
    go = subprocess.Popen([str(traceclient)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env)
    answers = []

    def call(req):
        go.stdin.write(json.dumps(req) + "\n")
        go.stdin.flush()
        out = json.loads(go.stdout.readline())
        assert "error" not in out, f"{req['op']}: {out['error']}"
        answers.append(out.get("result"))
        return out.get("result")

    fb, ex, judge = (call(r) for r in go_requests(go_id))
    over = call({"op": "override", "trace_id": go_id, "assessment_id": judge["assessment_id"], "value": 0.9,
                 "rationale": "human review", "source": {"Type": "HUMAN", "ID": "reviewer"}})
    call({"op": "update", "trace_id": go_id, "assessment_id": ex["assessment_id"], "name": "expected",
          "expectation": {"answer": ["Paris", 22]}})
    call({"op": "set_tag", "trace_id": go_id, "key": "reviewed", "tag_value": "yes"})
    go_read = call({"op": "get", "trace_id": py_id})
    go_search = call({"op": "search", "locations": [location]})["ids"]
    go.stdin.close()
    go.wait(timeout=60)

    res = harness.run([sys.executable, str(harness.MODULE_ROOT / "conformance" / "parity" / "traces_annotate.py")],
                      env, tmp_path, 300, input=json.dumps({"trace_id": py_id, "read": [py_id, go_id], "location": location}))
    py = json.loads(res.stdout.strip().splitlines()[-1])
    rejected = (fake.state()["rejections"] or [])[before:]
    assert not rejected, f"the fake rejected MLflow's or Go's requests: {rejected}"

    # Search: the same ids, both ways.
    assert sorted(go_search) == sorted(py["search"]) and {py_id, go_id} <= set(py["search"])
    # Go reads the Python-written trace as Python does (the annotations are
    # newer than Go's read: compare without them).
    want = py["read"][py_id]
    want["info"].pop("assessments", None)
    go_read["info"].pop("assessments", None)
    assert json.loads(json.dumps(go_read, sort_keys=True)) == json.loads(json.dumps(want, sort_keys=True))

    # Python's view of Go's assessments equals its view of its own.
    go_view, py_view = py["assessments"][go_id], py["assessments"][py_id]
    pairs = [(py["ids"]["feedback"], fb["assessment_id"]), (py["ids"]["expectation"], ex["assessment_id"]),
             (py["ids"]["judge"], judge["assessment_id"]), (py["ids"]["override"], over["assessment_id"])]
    for pid, gid in pairs:
        assert norm_assessment(go_view[gid]) == norm_assessment(py_view[pid]), (name, pid, gid)
    assert py["read"][go_id]["info"]["tags"]["reviewed"] == "yes" and py["tags"]["reviewed"] == "yes"
