"""Package traces and the mlflowtrace CLI against MLflow 3.17.2 itself, on a
local ./mlruns store and on a real `mlflow server`:

- Go writes, Python reads: the assessments Go logs (feedback of every value
  type, an error, expectations, span feedback, override_feedback, updates)
  come back from mlflow.get_trace(id).info.assessments equal, field by field
  after normalising ids and times, to what mlflow.log_feedback /
  log_expectation / override_feedback / update_assessment store for the
  same inputs.
- Python writes, Go reads: GetTrace of a Python-written trace equals
  Trace.to_dict(); SearchTraces returns the same ids in the same order as
  mlflow.search_traces for a table of filters and orderings, and the same
  pages.
- Bad input: a typed not-found for an unknown trace, the server's message
  for an invalid filter, an ErrInvalid before any request.
- CLI: each subcommand's output equals `mlflow traces …`'s on the same store.
- Databricks SQL warehouse (MLFLOW_TRACING_SQL_WAREHOUSE_ID), against the fake
  workspace: MLflow's client and package traces make the same requests call by
  call (sql_warehouse_id where MLflow puts it, the warehouse check and start),
  with and without a warehouse; a model-id search (SearchUnifiedTraces) and
  `traces search --model-id … --sql-warehouse-id …` of both CLIs; a workspace
  that needs a warehouse; a warehouse that does not start or does not exist.

conformance/cmd/traceclient runs package traces (one JSON request per line);
conformance/parity/traces_workflow.py writes the Python traces.
"""

from __future__ import annotations

import concurrent.futures
import copy
import json
import os
import re
import subprocess
import sys

import mlflow
import pytest
from mlflow.entities import AssessmentError, AssessmentSource

from parity import harness

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "traces_workflow.py"
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    d = tmp_path_factory.mktemp("tracebins")
    return {
        "client": harness.go_build("conformance/cmd/traceclient", d),
        "cli": harness.go_build("cmd/mlflowtrace", d),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("traces-server")) as s:
        yield s


@pytest.fixture(scope="module", params=["local", "server"])
def store(request, tmp_path_factory):
    if request.param == "local":
        uri = str(tmp_path_factory.mktemp("traces-local") / "mlruns")
    else:
        uri = request.getfixturevalue("server").url
    return {"kind": request.param, "uri": uri}


def env_for(store, **extra):
    return harness.clean_env(MLFLOW_TRACKING_URI=store["uri"], MLFLOW_ALLOW_FILE_STORE="true", **QUIET, **extra)


def use(store):
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    mlflow.set_tracking_uri(store["uri"])


def write(store, mode, experiment, tmp_path):
    res = harness.run([sys.executable, str(WORKFLOW), mode, experiment], env_for(store), tmp_path, 300)
    return json.loads(res.stdout.strip().splitlines()[-1])


class GoClient:
    """conformance/cmd/traceclient as a long-running process."""

    def __init__(self, binary, env):
        self.proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)

    def __call__(self, op, **req):
        self.proc.stdin.write(json.dumps({"op": op, **req}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("traceclient died: " + self.proc.stderr.read())
        return json.loads(line)

    def ok(self, op, **req):
        out = self(op, **req)
        assert "error" not in out, f"{op} {req}: {out['error']}"
        return out["result"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def go(bins, store):
    c = GoClient(bins["client"], env_for(store))
    yield c
    c.close()


def norm_assessment(d: dict) -> dict:
    d = copy.deepcopy(d)
    for k in ("assessment_id", "create_time", "last_update_time"):
        assert d.pop(k, None), f"assessment lacks {k}: {d}"
    if "overrides" in d:
        d["overrides"] = "<id>"
    return d


# Each case: (python call, go request). Inputs are the same on both sides.
def assessment_cases(span_id):
    human = AssessmentSource(source_type="HUMAN", source_id="alice")
    return [
        ("bool", lambda t: mlflow.log_feedback(trace_id=t, name="user_feedback", value=True, rationale="good",
                                               source=human, metadata={"k": 1, "s": "x"}),
         {"op": "log_feedback", "name": "user_feedback", "value": True, "rationale": "good",
          "source": {"Type": "HUMAN", "ID": "alice"}, "metadata": {"k": 1, "s": "x"}}),
        ("number", lambda t: mlflow.log_feedback(trace_id=t, name="relevance", value=0.9,
                                                 source=AssessmentSource("LLM_JUDGE", "gpt-4o")),
         {"op": "log_feedback", "name": "relevance", "value": 0.9, "source": {"Type": "LLM_JUDGE", "ID": "gpt-4o"}}),
        ("int", lambda t: mlflow.log_feedback(trace_id=t, name="stars", value=4),
         {"op": "log_feedback", "name": "stars", "value": 4}),
        ("string", lambda t: mlflow.log_feedback(trace_id=t, name="tone", value="polite"),
         {"op": "log_feedback", "name": "tone", "value": "polite"}),
        ("json", lambda t: mlflow.log_feedback(trace_id=t, name="metrics", value={"acc": 0.95, "tags": ["a", "b"], "n": 3}),
         {"op": "log_feedback", "name": "metrics", "value": {"acc": 0.95, "tags": ["a", "b"], "n": 3}}),
        ("default name", lambda t: mlflow.log_feedback(trace_id=t, value=False),
         {"op": "log_feedback", "value": False}),
        ("error", lambda t: mlflow.log_feedback(trace_id=t, name="judge", source=AssessmentSource("LLM_JUDGE", "j"),
                                                error=AssessmentError(error_code="RATE_LIMIT", error_message="slow down")),
         {"op": "log_feedback", "name": "judge", "source": {"Type": "LLM_JUDGE", "ID": "j"},
          "error": {"Code": "RATE_LIMIT", "Message": "slow down"}}),
        ("span", lambda t: mlflow.log_feedback(trace_id=t, name="tool_ok", value=True, span_id=span_id),
         {"op": "log_feedback", "name": "tool_ok", "value": True, "span_id": span_id}),
        ("expectation string", lambda t: mlflow.log_expectation(trace_id=t, name="expected", value="Paris"),
         {"op": "log_expectation", "name": "expected", "value": "Paris"}),
        ("expectation json", lambda t: mlflow.log_expectation(trace_id=t, name="expected_facts", value={"a": [1, 2], "b": None},
                                                              source=human, metadata={"set": "v1"}),
         {"op": "log_expectation", "name": "expected_facts", "value": {"a": [1, 2], "b": None},
          "source": {"Type": "HUMAN", "ID": "alice"}, "metadata": {"set": "v1"}}),
        ("expectation number", lambda t: mlflow.log_expectation(trace_id=t, name="expected_n", value=42),
         {"op": "log_expectation", "name": "expected_n", "value": 42}),
    ]


def test_go_assessments_read_by_python(store, go, tmp_path):
    use(store)
    tid = write(store, "one", "assess-" + store["kind"], tmp_path)["trace_id"]
    spans = mlflow.get_trace(tid).data.spans
    span_id = next(s.span_id for s in spans if s.name == "plan")
    py_ids, go_ids = {}, {}
    for name, py_call, req in assessment_cases(span_id):
        py_ids[name] = py_call(tid).assessment_id
        go_ids[name] = json.loads(json.dumps(go.ok(trace_id=tid, **req)))["assessment_id"]

    # override_feedback and update_assessment, on each side's own feedback.
    py_over = mlflow.override_feedback(trace_id=tid, assessment_id=py_ids["number"], value=0.2,
                                       rationale="human says no", source=AssessmentSource("HUMAN", "bob"))
    go_over = go.ok("override", trace_id=tid, assessment_id=go_ids["number"], value=0.2,
                    rationale="human says no", source={"Type": "HUMAN", "ID": "bob"})
    py_ids["override"], go_ids["override"] = py_over.assessment_id, go_over["assessment_id"]
    from mlflow.entities import Feedback
    mlflow.update_assessment(trace_id=tid, assessment_id=py_ids["string"],
                             assessment=Feedback(name="tone", value="rude", rationale="re-read"))
    go.ok("update", trace_id=tid, assessment_id=go_ids["string"], name="tone", feedback="rude", rationale="re-read")

    info = mlflow.get_trace(tid).info
    by_id = {a.assessment_id: a.to_dictionary() for a in info.assessments}
    assert len(by_id) == 2 * len(py_ids)
    for name in py_ids:
        p, g = norm_assessment(by_id[py_ids[name]]), norm_assessment(by_id[go_ids[name]])
        assert g == p, f"{name}: Go {g} != Python {p}"
    # The overridden feedbacks are invalid on both sides.
    assert by_id[py_ids["number"]]["valid"] is False and by_id[go_ids["number"]]["valid"] is False

    # And Go reads them back as Python does.
    for name, aid in go_ids.items():
        got = go.ok("get_assessment", trace_id=tid, assessment_id=aid)
        assert norm_assessment(got) == norm_assessment(mlflow.get_assessment(tid, aid).to_dictionary()), name

    # Deleting the override makes the original valid again.
    mlflow.delete_assessment(trace_id=tid, assessment_id=py_ids["override"])
    go.ok("delete_assessment", trace_id=tid, assessment_id=go_ids["override"])
    after = {a.assessment_id: a for a in mlflow.get_trace(tid).info.assessments}
    assert go_ids["override"] not in after and py_ids["override"] not in after
    assert after[go_ids["number"]].valid == after[py_ids["number"]].valid


def canonical(trace: dict) -> dict:
    t = copy.deepcopy(trace)
    t["info"]["assessments"] = sorted(t["info"].get("assessments", []), key=lambda a: a["assessment_id"])
    return json.loads(json.dumps(t, sort_keys=True))


def test_go_reads_python_trace(store, go, tmp_path):
    use(store)
    tid = write(store, "one", "read-" + store["kind"], tmp_path)["trace_id"]
    mlflow.log_feedback(trace_id=tid, name="user_feedback", value=True, source=AssessmentSource("HUMAN", "u1"))
    mlflow.log_expectation(trace_id=tid, name="expected", value={"answer": "Paris"})
    want = canonical(mlflow.get_trace(tid).to_dict())
    got = canonical(go.ok("get", trace_id=tid))
    assert len(got["data"]["spans"]) == 4
    assert got == want


def search_cases(m):
    both = [
        (None, None),
        ("tags.env = 'prod'", None),
        ("tag.env != 'prod'", ["timestamp_ms ASC"]),
        ("metadata.v = '2'", None),
        ("status = 'ERROR'", None),
        ("trace.status = 'OK'", ["execution_time_ms DESC"]),
        (f"timestamp_ms > {m['mid_ms']}", None),
        (f"timestamp_ms <= {m['mid_ms']}", ["timestamp_ms ASC"]),
        ("execution_time_ms >= 20", None),
        ("name = 'alpha'", None),
        ("name LIKE 'al%'", None),
        ("tags.env ILIKE 'PRO%'", ["status ASC"]),
        (f"run_id = '{m['run_id']}'", None),
        ("client_request_id = 'req-3'", None),
        ("tags.env = 'prod' AND status = 'OK'", ["timestamp_ms ASC"]),
        ("request_metadata.v = '1' AND tags.idx LIKE '1%'", None),
        ("attributes.request_id = '%s'" % m["ids"][5], None),
    ]
    server_only = [
        ("span.name = 'tool'", None),
        ("span.type = 'RETRIEVER'", None),
        ("span.name LIKE 'ret%' AND tags.env = 'prod'", None),
    ]
    return both, server_only


def py_search(exp, flt, order):
    return [t.info.trace_id for t in mlflow.search_traces(locations=[exp], filter_string=flt, order_by=order,
                                                          return_type="list", include_spans=False)]


def test_search_matches_python(store, go, tmp_path):
    use(store)
    m = write(store, "search", "search-" + store["kind"], tmp_path)
    exp = m["experiment_id"]
    both, server_only = search_cases(m)
    checked = 0
    for flt, order in both + (server_only if store["kind"] == "server" else []):
        want = py_search(exp, flt, order)
        got = go.ok("search", locations=[exp], filter=flt or "", order_by=order, all=True)
        assert got["ids"] == want, f"filter {flt!r} order {order}"
        checked += 1
    assert checked >= 17
    # With spans: the same traces, each with its 2 spans.
    got = go.ok("search", locations=[exp], filter="tags.env = 'prod'", all=True)
    assert got["ids"] == py_search(exp, "tags.env = 'prod'", None) and set(got["span_counts"]) == {2}

    # Pages: 14 traces, 4 per page → 4 pages, the same on both sides.
    client = mlflow.MlflowClient(store["uri"])
    py_pages, token = [], None
    while True:
        page = client.search_traces(locations=[exp], max_results=4, page_token=token, include_spans=False)
        py_pages.append([t.info.trace_id for t in page])
        token = page.token
        if not token:
            break
    go_pages, token = [], ""
    while True:
        page = go.ok("search", locations=[exp], max_results=4, page_token=token, without_spans=True)
        go_pages.append(page["ids"])
        token = page["next_page_token"]
        if not token:
            break
    assert len(go_pages) >= 3 and go_pages == py_pages


def test_sessions_and_model_id_match_python(bins, store, go, tmp_path):
    """SearchSessions equals mlflow.search_sessions (sessions newest first,
    each one's traces oldest first, spans or not, max_results), and
    SearchQuery.ModelID equals search_traces(model_id=...)."""
    use(store)
    m = write(store, "sessions", "sessions-" + store["kind"], tmp_path)
    exp, ids = m["experiment_id"], m["ids"]

    def py_sessions(**kw):
        return [{"id": s.id, "ids": [t.info.trace_id for t in s]}
                for s in mlflow.search_sessions(locations=[exp], **kw)]

    def go_sessions(**kw):
        return go.ok("search_sessions", locations=[exp], **kw)

    want = py_sessions()
    assert [s["id"] for s in want] == ["s-c", "s-a", "s-b"]
    assert [len(s["ids"]) for s in want] == [3, 4, 3]
    got = go_sessions()
    assert [{"id": s["id"], "ids": s["ids"]} for s in got] == want
    assert all(set(s["span_counts"]) == {2} for s in got)
    got = go_sessions(max_results=2, without_spans=True)
    assert [{"id": s["id"], "ids": s["ids"]} for s in got] == py_sessions(max_results=2, include_spans=False)
    assert all(set(s["span_counts"]) == {0} for s in got)

    py_model = [t.info.trace_id for t in mlflow.search_traces(locations=[exp], model_id="m-sess", return_type="list")]
    assert sorted(py_model) == sorted(ids[i] for i in (1, 5, 9))
    got = go.ok("search", locations=[exp], model_id="m-sess", all=True)
    assert got["ids"] == py_model
    # MLflow 3.17.2's search_sessions(model_id=...) raises (it passes a
    # filter and a model id to search_traces); Go joins the two filters.
    got = go_sessions(model_id="m-sess")
    assert [(s["id"], s["ids"]) for s in got] == [("s-b", [ids[1], ids[5], ids[9]])]
    out = go("search", locations=[exp], model_id="m-sess", filter="status = 'OK'")
    assert out["invalid"], out
    # The CLI's --model-id prints what mlflow traces search --model-id prints.
    py, gocli = clis(bins, store)
    args = ("search", "-x", exp, "--output", "json", "--model-id", "m-sess")
    pj, gj = json.loads(py(*args)), json.loads(gocli(*args))
    assert [canonical(t) for t in gj["traces"]] == [canonical(t) for t in pj["traces"]]
    assert len(gj["traces"]) == 3


def test_bad_input(store, go, tmp_path):
    use(store)
    tid = write(store, "one", "bad-" + store["kind"], tmp_path)["trace_id"]
    missing = "tr-" + "0" * 31 + "1"
    out = go("get", trace_id=missing)
    assert out["not_found"], out
    out = go("log_feedback", trace_id=missing, value=1)
    assert out["not_found"], out
    out = go("search", locations=["0"], filter="foo = 'x'")
    with pytest.raises(Exception) as py_err:
        mlflow.search_traces(locations=["0"], filter_string="foo = 'x'", return_type="list")
    assert "ttribute key 'foo'" in out["error"] and "ttribute key 'foo'" in str(py_err.value)
    for req in ({"value": 1, "source": {"Type": "ROBOT"}}, {"value": 1, "span_id": "xyz"}):
        out = go("log_feedback", trace_id=tid, **req)
        assert out["invalid"], out
    if store["kind"] == "local":
        out = go("search", locations=["0"], filter="span.name = 'tool'")
        assert "need a database" in out["error"], out


# --- CLI -----------------------------------------------------------------------

ID = re.compile(r"a-[0-9a-f]{32}")


def clis(bins, store):
    env = env_for(store)
    py = [sys.executable, "-m", "mlflow", "traces"]
    go = [str(bins["cli"]), "traces"]

    def run(cmd, *args):
        r = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{cmd[-2:]} {args}: {r.stderr[-2000:]}"
        return r.stdout

    return (lambda *a: run(py, *a)), (lambda *a: run(go, *a))


def test_cli_matches_mlflow(bins, store, tmp_path):
    use(store)
    m = write(store, "search", "cli-" + store["kind"], tmp_path)
    exp, ids = m["experiment_id"], m["ids"]
    py, go = clis(bins, store)

    # Read-only commands, run at once (each mlflow CLI start-up takes seconds).
    reads = [
        ("search", "-x", exp, "--output", "json"),
        ("search", "-x", exp, "--output", "json", "--filter-string", "tags.env = 'prod'", "--order-by", "timestamp_ms ASC, status"),
        ("search", "-x", exp, "--output", "json", "--no-include-spans", "--extract-fields",
         "info.trace_id,info.tags.`mlflow.traceName`,data.spans.*.name"),
        ("search", "-x", exp),
        ("search", "-x", exp, "--max-results", "3", "--extract-fields", "info.trace_id,info.state,info.tags.idx"),
        ("get", "--trace-id", ids[0]),
        ("get", "--trace-id", ids[0], "--extract-fields", "info.trace_id,info.trace_metadata.*,data.spans.*.attributes.`mlflow.spanType`"),
    ]
    if store["kind"] == "server":  # mlflow's FileStore token is bytes: its JSON output fails
        reads.append(("search", "-x", exp, "--output", "json", "--max-results", "5"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(pool.map(lambda a: (py(*a), go(*a)), reads))
    for args, (p, g) in zip(reads, outs):
        if "--output" in args or args[0] == "get":
            pj, gj = json.loads(p), json.loads(g)
            if args[0] == "get" and "--extract-fields" not in args:
                pj, gj = canonical(pj), canonical(gj)
            if args[0] == "search" and "--extract-fields" not in args:
                pj["traces"] = [canonical(t) for t in pj["traces"]]
                gj["traces"] = [canonical(t) for t in gj["traces"]]
            assert gj == pj, args
        else:
            # mlflow prints a FileStore token as Python bytes (b'...'), which
            # it cannot read back; mlflowtrace prints the token.
            assert g == re.sub(r"Next page token: b'(.*)'", r"Next page token: \1", p), args

    # log-feedback / log-expectation: the same message and the same stored assessment.
    t = ids[1]
    made = {}
    for cmd, args in (("log-feedback", ["--name", "relevance", "--value", "0.9", "--source-type", "HUMAN",
                                        "--source-id", "me", "--rationale", "fine", "--metadata", '{"m": 1}']),
                      ("log-feedback", ["--name", "quality", "--value", '{"a": 1, "b": [true]}']),
                      ("log-expectation", ["--name", "expected", "--value", '{"answer": 42}', "--source-type", "CODE",
                                           "--source-id", "ci"])):
        out_p, out_g = py(cmd, "--trace-id", t, *args), go(cmd, "--trace-id", t, *args)
        assert ID.sub("<id>", out_g) == ID.sub("<id>", out_p), (cmd, args)
        pid, gid = ID.search(out_p).group(0), ID.search(out_g).group(0)
        made[args[1]] = (pid, gid)
        assert norm_assessment(mlflow.get_assessment(t, gid).to_dictionary()) == \
            norm_assessment(mlflow.get_assessment(t, pid).to_dictionary()), (cmd, args)

    if store["kind"] != "server":
        # The messages below are format strings of mlflow's CLI, compared on
        # the server; on ./mlruns check what mlflowtrace did, through mlflow.
        pid, gid = made["relevance"]
        go("update-assessment", "--trace-id", t, "--assessment-id", gid, "--value", "0.4", "--rationale", "second look")
        a = mlflow.get_assessment(t, gid)
        assert (a.value, a.rationale, a.name) == (0.4, "second look", "relevance")
        go("delete-assessment", "--trace-id", t, "--assessment-id", made["quality"][1])
        go("set-tag", "--trace-id", ids[3], "--key", "reviewed", "--value", "yes")
        assert mlflow.get_trace(ids[3]).info.tags["reviewed"] == "yes"
        go("delete-tag", "--trace-id", ids[3], "--key", "reviewed")
        assert "reviewed" not in mlflow.get_trace(ids[3]).info.tags
        assert go("delete", "-x", exp, "--trace-ids", f"{ids[4]},{ids[5]}") == f"Deleted 2 trace(s) from experiment {exp}.\n"
        assert go("delete", "-x", exp, "--max-timestamp-millis", str(m["mid_ms"]), "--max-traces", "2") == \
            f"Deleted 2 trace(s) from experiment {exp}.\n"
        left = py_search(exp, None, None)
        assert len(left) == 14 - 4 and ids[0] not in left and ids[1] not in left
        return

    # update-assessment of each side's own feedback; get-assessment prints it the same.
    pid, gid = made["relevance"]
    for cli, aid in ((py, pid), (go, gid)):
        out = cli("update-assessment", "--trace-id", t, "--assessment-id", aid, "--value", "0.4", "--rationale", "second look")
        assert out == f"Updated assessment {aid} in trace {t}.\n"
    a_p = json.loads(py("get-assessment", "--trace-id", t, "--assessment-id", pid))
    a_g = json.loads(go("get-assessment", "--trace-id", t, "--assessment-id", gid))
    assert norm_assessment(a_g) == norm_assessment(a_p)

    # delete-assessment, set-tag, delete-tag: the same messages and effects.
    pid, gid = made["quality"]
    assert go("delete-assessment", "--trace-id", t, "--assessment-id", gid).replace(gid, "<id>") == \
        py("delete-assessment", "--trace-id", t, "--assessment-id", pid).replace(pid, "<id>")
    for tr, cli in ((ids[2], py), (ids[3], go)):
        assert cli("set-tag", "--trace-id", tr, "--key", "reviewed", "--value", "yes") == f"Set tag 'reviewed' on trace {tr}.\n"
    assert json.loads(go("get", "--trace-id", ids[3]))["info"]["tags"]["reviewed"] == "yes"
    assert mlflow.get_trace(ids[2]).info.tags["reviewed"] == "yes"
    for tr, cli in ((ids[2], py), (ids[3], go)):
        assert cli("delete-tag", "--trace-id", tr, "--key", "reviewed") == f"Deleted tag 'reviewed' from trace {tr}.\n"

    # delete: by ids, then the oldest by time with a bound.
    assert go("delete", "-x", exp, "--trace-ids", f"{ids[4]},{ids[5]}") == f"Deleted 2 trace(s) from experiment {exp}.\n"
    assert py("delete", "-x", exp, "--trace-ids", f"{ids[6]}") == f"Deleted 1 trace(s) from experiment {exp}.\n"
    assert go("delete", "-x", exp, "--max-timestamp-millis", str(m["mid_ms"]), "--max-traces", "2") == \
        f"Deleted 2 trace(s) from experiment {exp}.\n"
    left = py_search(exp, None, None)
    assert len(left) == 14 - 5 and ids[0] not in left and ids[1] not in left


# --- Databricks SQL warehouse ---------------------------------------------------
#
# MLflow's client and package traces read and annotate a Unity Catalog trace in
# the fake workspace, call by call, with MLFLOW_TRACING_SQL_WAREHOUSE_ID set to a
# stopped warehouse and without it; the fake records every v4 call (method,
# path, query, body, the sql_warehouse_id it carried) and every request. Each
# call's requests must be the same, field by field.

WAREHOUSE_OPS = ["get", "get_info", "search_infos", "search", "log_feedback", "get_assessment", "update",
                 "delete_assessment", "set_tag", "delete_tag"]


@pytest.fixture(scope="module")
def fake_workspace(tmp_path_factory):
    from databricks_fake import FakeWorkspace

    d = tmp_path_factory.mktemp("fakeworkspace-warehouse")
    binary = harness.go_build("internal/databrickstest/cmd/fakeworkspace", d)
    with FakeWorkspace(binary, d / "fake.log") as w:
        yield w


@pytest.fixture(scope="module")
def uc_trace(fake_workspace, tmp_path_factory):
    """One trace (MLflow's parity workflow, written by the Go SDK) in the Unity
    Catalog schema wh.agents of the fake."""
    from databricks_fake import PY_QUIET

    fake_workspace.create_uc_schema("wh", "agents")
    d = tmp_path_factory.mktemp("uc-writer")
    parity = harness.go_build("conformance/cmd/parity", d)
    env = harness.clean_env(HOME=str(d), MLFLOW_TRACKING_URI="databricks", MLFLOW_TRACING_DESTINATION="wh.agents",
                            **PY_QUIET, **fake_workspace.pat_env())
    return harness.trace_id_from_stdout(harness.run([str(parity)], env, d, 300).stdout)


def warehouse_env(fake, home, warehouse):
    from databricks_fake import PY_QUIET

    env = harness.clean_env(HOME=str(home), MLFLOW_TRACKING_URI="databricks", **PY_QUIET, **fake.pat_env())
    if warehouse:
        env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = warehouse
    return env


def norm_call(c: dict) -> dict:
    """A recorded v4 call without what differs by construction: assessment ids
    (each client logs its own), the search's page token and operation."""
    path = re.sub(r"/assessments/a-[0-9a-f]+", "/assessments/<id>", c["Path"])
    query = {k: sorted(v) for k, v in (c.get("Query") or {}).items()}
    if "&update_mask=" in path:
        # MLflow 3.17.2 appends "&update_mask=…" to a path without a query (no
        # warehouse): the mask arrives in the path. Go sends it as the query.
        path, mask = path.split("&update_mask=", 1)
        query["update_mask"] = [mask]
    body = c.get("Body")
    return {"method": c["Method"], "path": path, "query": query, "body": body,
            "sql_warehouse_id": c.get("SQLWarehouseID", ""), "in": c.get("In", "")}


def per_op(calls, requests, marks):
    """{op: (normalised v4 calls, (method, path) of the warehouse requests)}."""
    out = {}
    for (_, c0, r0), (op, c1, r1) in zip(marks, marks[1:]):
        wh = [(r["Method"], r["Path"]) for r in requests[r0:r1] if r["Path"].startswith("/api/2.0/sql/warehouses/")]
        out[op] = ([norm_call(c) for c in calls[c0:c1]], wh)
    return out


@pytest.mark.parametrize("warehouse", ["wh-1", None])
def test_sql_warehouse_requests_match_python(bins, fake_workspace, uc_trace, warehouse, tmp_path):
    fake = fake_workspace
    if warehouse:
        fake.admin("POST", "sql-warehouses", {"id": warehouse, "state": "STOPPED"})
    before = len(fake.state()["rejections"] or [])

    # Python, one call after another (the script marks the fake's counters).
    res = harness.run([sys.executable, str(harness.MODULE_ROOT / "conformance" / "parity" / "traces_warehouse.py")],
                      warehouse_env(fake, tmp_path, warehouse), tmp_path, 300,
                      input=json.dumps({"trace_id": uc_trace, "location": "wh.agents", "fake": fake.url}))
    py_marks = json.loads(res.stdout.strip().splitlines()[-1])["marks"]
    st, whs = fake.state(), fake.admin("GET", "sql-warehouses")
    py = per_op(whs["calls"], st["requests"], py_marks)
    if warehouse:
        assert next(w for w in whs["warehouses"] if w["id"] == warehouse)["starts"] == 1
        fake.admin("POST", "sql-warehouses", {"id": warehouse, "state": "STOPPED"})  # stopped again for Go

    # Go, the same calls.
    def counts():
        return [len(fake.admin("GET", "sql-warehouses")["calls"]), len(fake.state()["requests"])]

    go = GoClient(bins["client"], warehouse_env(fake, tmp_path, warehouse))
    marks = [["start", *counts()]]
    try:
        go.ok("get", trace_id=uc_trace)
        marks.append(["get", *counts()])
        go.ok("get_info", trace_id=uc_trace)
        marks.append(["get_info", *counts()])
        go.ok("search", locations=["wh.agents"], without_spans=True)
        marks.append(["search_infos", *counts()])
        go.ok("search", locations=["wh.agents"])
        marks.append(["search", *counts()])
        fb = go.ok("log_feedback", trace_id=uc_trace, name="quality", value=0.4)
        marks.append(["log_feedback", *counts()])
        go.ok("get_assessment", trace_id=uc_trace, assessment_id=fb["assessment_id"])
        marks.append(["get_assessment", *counts()])
        go.ok("update", trace_id=uc_trace, assessment_id=fb["assessment_id"], name="quality", feedback=0.9, rationale="again")
        marks.append(["update", *counts()])
        go.ok("delete_assessment", trace_id=uc_trace, assessment_id=fb["assessment_id"])
        marks.append(["delete_assessment", *counts()])
        go.ok("set_tag", trace_id=uc_trace, key="reviewed", tag_value="yes")
        marks.append(["set_tag", *counts()])
        go.ok("delete_tag", trace_id=uc_trace, key="reviewed")
        marks.append(["delete_tag", *counts()])
    finally:
        go.close()
    st, whs = fake.state(), fake.admin("GET", "sql-warehouses")
    gov = per_op(whs["calls"], st["requests"], marks)

    rejected = (st["rejections"] or [])[before:]
    assert not rejected, f"the fake rejected MLflow's or Go's requests: {rejected}"
    assert [m[0] for m in py_marks[1:]] == WAREHOUSE_OPS
    for op in WAREHOUSE_OPS:
        py_calls, py_wh = py[op]
        go_calls, go_wh = gov[op]
        if op == "update":
            # Both send the same mask; the feedback value in the body is the
            # same number (0.9), the body otherwise an assessment of each
            # client's own (ids, times).
            for c in py_calls + go_calls:
                c["body"] = None
        if op in ("search_infos", "search"):
            # Pre-existing, not the warehouse's: MLflow's UC_SCHEMA location
            # also names the default otel_spans_table_name and
            # otel_logs_table_name; package traces sends catalog and schema.
            for c in py_calls:
                for loc in (c["body"] or {}).get("locations", []):
                    for k in ("otel_spans_table_name", "otel_logs_table_name"):
                        loc.get("uc_schema", {}).pop(k, None)
        if op not in ("search_infos", "search", "update"):
            for c in py_calls + go_calls:
                c["body"] = None  # assessment bodies: compared in test_databricks.py
        assert go_calls == py_calls, f"{op}: Go's v4 calls differ from MLflow's:\nGo:     {go_calls}\nPython: {py_calls}"
        assert go_wh == py_wh, f"{op}: warehouse requests differ:\nGo:     {go_wh}\nPython: {py_wh}"
    carrying = [c for op in WAREHOUSE_OPS for c in gov[op][0]]
    assert carrying, "no v4 call recorded"
    for c in carrying:
        if c["method"] == "PATCH" and c["path"].endswith("/tags"):
            assert c["sql_warehouse_id"] == "", c  # SetTraceTag carries none, in MLflow too
        else:
            assert c["sql_warehouse_id"] == (warehouse or ""), c
    if warehouse:
        # The first call checked the stopped warehouse, started it and polled
        # until it ran; later calls trust the answer (MLflow's 60 s cache).
        want = [("GET", f"/api/2.0/sql/warehouses/{warehouse}"), ("POST", f"/api/2.0/sql/warehouses/{warehouse}/start"),
                ("GET", f"/api/2.0/sql/warehouses/{warehouse}")]
        assert gov["get"][1] == want and all(not gov[op][1] for op in WAREHOUSE_OPS[1:])


SEARCH_MODEL_PY = """
import json, sys
from mlflow import MlflowClient
ts = MlflowClient().search_traces(locations=[sys.argv[1]], model_id=sys.argv[2])
print(json.dumps([t.info.trace_id for t in ts]))
"""


@pytest.fixture(scope="module")
def model_traces(fake_workspace, tmp_path_factory):
    """An experiment of the fake holding two traces of LoggedModel m-1 and one
    of no model (the parity workflow, written by the Go SDK)."""
    from databricks_fake import PY_QUIET

    fake = fake_workspace
    exp = fake.create_experiment("/Users/parity@example.com/models", cloud="AWS_PRESIGNED_URL")
    d = tmp_path_factory.mktemp("model-writer")
    parity = harness.go_build("conformance/cmd/parity", d)
    ids = []
    for model in ("m-1", "m-1", None):
        env = harness.clean_env(HOME=str(d), MLFLOW_TRACKING_URI="databricks", MLFLOW_EXPERIMENT_ID=exp,
                                **PY_QUIET, **fake.pat_env())
        if model:
            env["MLFLOW_ACTIVE_MODEL_ID"] = model
        ids.append(harness.trace_id_from_stdout(harness.run([str(parity)], env, d, 300).stdout))
    return exp, ids[:2]


def model_calls(fake, start):
    """The v4 and unified-traces calls recorded since start, normalised."""
    calls = fake.admin("GET", "sql-warehouses")["calls"][start:]
    out = []
    for c in calls:
        n = norm_call(c)
        if n["body"]:
            for loc in n["body"].get("locations", []):
                loc.get("uc_schema", {}).pop("otel_spans_table_name", None)
                loc.get("uc_schema", {}).pop("otel_logs_table_name", None)
        out.append(n)
    return out


@pytest.mark.parametrize("warehouse", ["wh-2", None])
def test_sql_warehouse_model_search_matches_python(bins, fake_workspace, model_traces, warehouse, tmp_path):
    """A model-id search: with a warehouse, MLflow's client asks
    GET /api/2.0/mlflow/unified-traces (SearchUnifiedTraces) and so does Go,
    with the same query; without one, both search the metadata filter. The
    same traces come back; `mlflow traces search --model-id … --sql-warehouse-id
    …` and `mlflowtrace traces search …` print the same and make the same calls."""
    fake = fake_workspace
    exp, want = model_traces
    if warehouse:
        fake.admin("POST", "sql-warehouses", {"id": warehouse, "state": "RUNNING"})
    before = len(fake.state()["rejections"] or [])
    env = warehouse_env(fake, tmp_path, warehouse)

    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    res = harness.run([sys.executable, "-c", SEARCH_MODEL_PY, exp, "m-1"], env, tmp_path, 300)
    py_ids = json.loads(res.stdout.strip().splitlines()[-1])
    py_calls = model_calls(fake, start)

    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    go = GoClient(bins["client"], env)
    try:
        go_ids = go.ok("search", locations=[exp], model_id="m-1")["ids"]
    finally:
        go.close()
    go_calls = model_calls(fake, start)

    assert sorted(py_ids) == sorted(want) and go_ids == py_ids
    assert go_calls == py_calls, f"Go's calls differ from MLflow's:\nGo:     {go_calls}\nPython: {py_calls}"
    if warehouse:
        assert [c["path"] for c in go_calls] == ["/api/2.0/mlflow/unified-traces"]
        assert go_calls[0]["query"] == {"model_id": ["m-1"], "sql_warehouse_id": [warehouse], "experiment_ids": [exp],
                                        "max_results": ["100"]}
    else:
        assert [c["path"] for c in go_calls] == ["/api/4.0/mlflow/traces/search-long-running"]
        assert go_calls[0]["body"]["filter"] == "request_metadata.`mlflow.modelId` = 'm-1'"

    # The CLIs: the deprecated flag where mlflow has it, the same output and calls.
    cli_env = warehouse_env(fake, tmp_path, None)
    args = ["traces", "search", "-x", exp, "--model-id", "m-1", "--output", "json", "--extract-fields", "info.trace_id"]
    if warehouse:
        args += ["--sql-warehouse-id", warehouse]
    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    py_cli = harness.run([sys.executable, "-m", "mlflow", *args], cli_env, tmp_path, 300)
    py_cli_calls = model_calls(fake, start)
    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    go_cli = harness.run([str(bins["cli"]), *args], cli_env, tmp_path, 300)
    go_cli_calls = model_calls(fake, start)
    assert json.loads(go_cli.stdout) == json.loads(py_cli.stdout)
    assert go_cli_calls == py_cli_calls == (go_calls if warehouse else go_cli_calls)
    warning = "FutureWarning: The `sql_warehouse_id` parameter is deprecated."
    assert (warning in py_cli.stderr) == (warning in go_cli.stderr) == bool(warehouse), (py_cli.stderr, go_cli.stderr)

    rejected = (fake.state()["rejections"] or [])[before:]
    assert not rejected, f"the fake rejected MLflow's or Go's requests: {rejected}"


GET_TRACE_ERROR_PY = """
import json, sys
from mlflow import MlflowClient
try:
    MlflowClient().get_trace(sys.argv[1])
    print(json.dumps({"error": None}))
except Exception as e:
    print(json.dumps({"error": str(e), "code": getattr(e, "error_code", None)}))
"""


def test_sql_warehouse_required_matches_python(bins, fake_workspace, uc_trace, tmp_path):
    """A workspace that cannot resolve a warehouse for a call without one
    answers INVALID_PARAMETER_VALUE "Could not resolve a SQL warehouse ID":
    MLflow's client and package traces both turn it into "SQL warehouse ID is
    required for accessing traces in UC tables" naming
    MLFLOW_TRACING_SQL_WAREHOUSE_ID; with the variable set both succeed."""
    fake = fake_workspace
    fake.admin("POST", "require-sql-warehouse", {"on": True})
    try:
        env = warehouse_env(fake, tmp_path, None)
        res = harness.run([sys.executable, "-c", GET_TRACE_ERROR_PY, uc_trace], env, tmp_path, 300)
        py = json.loads(res.stdout.strip().splitlines()[-1])
        go = GoClient(bins["client"], env)
        try:
            out = go("get", trace_id=uc_trace)
        finally:
            go.close()
        for who, msg in (("python", py["error"]), ("go", out.get("error"))):
            assert msg and "SQL warehouse ID is required for accessing traces in UC tables" in msg, (who, msg)
            assert "MLFLOW_TRACING_SQL_WAREHOUSE_ID" in msg, (who, msg)
        assert py["code"] == "BAD_REQUEST"

        fake.admin("POST", "sql-warehouses", {"id": "wh-3", "state": "RUNNING"})
        env = warehouse_env(fake, tmp_path, "wh-3")
        res = harness.run([sys.executable, "-c", GET_TRACE_ERROR_PY, uc_trace], env, tmp_path, 300)
        assert json.loads(res.stdout.strip().splitlines()[-1])["error"] is None
        go = GoClient(bins["client"], env)
        try:
            assert "error" not in go("get", trace_id=uc_trace)
        finally:
            go.close()
    finally:
        fake.admin("POST", "require-sql-warehouse", {"on": False})


@pytest.mark.parametrize("case", ["start fails", "unknown"])
def test_sql_warehouse_start_failure_matches_python(bins, fake_workspace, uc_trace, case, tmp_path):
    """A warehouse that does not start (the fake answers STOPPED after the
    start) or does not exist: MLflow's client and package traces both fail
    before the trace call, with the same cause, and make the same warehouse
    requests."""
    fake = fake_workspace
    wh = "wh-fail" if case == "start fails" else "wh-none"
    if case == "start fails":
        fake.admin("POST", "sql-warehouses", {"id": wh, "state": "STOPPED", "fail_start": True})
    env = warehouse_env(fake, tmp_path, wh)

    def warehouse_requests(start):
        return [(r["Method"], r["Path"]) for r in fake.state()["requests"][start:]
                if r["Path"].startswith("/api/") and not r["Path"].startswith("/api/2.0/mlflow/experiments")]

    start = len(fake.state()["requests"])
    res = harness.run([sys.executable, "-c", GET_TRACE_ERROR_PY, uc_trace], env, tmp_path, 300)
    py = json.loads(res.stdout.strip().splitlines()[-1])["error"]
    py_reqs = warehouse_requests(start)
    start = len(fake.state()["requests"])
    go = GoClient(bins["client"], env)
    try:
        out = go("get", trace_id=uc_trace)
    finally:
        go.close()
    go_reqs = warehouse_requests(start)
    err = out.get("error")
    assert py and err, (py, out)
    if case == "start fails":
        cause = "failed to reach RUNNING, got State.STOPPED: current status: State.STOPPED"
        assert f"Failed to start SQL warehouse '{wh}': {cause}" in py
        assert f"failed to start SQL warehouse '{wh}': {cause}" in err
        assert "MLFLOW_SQL_WAREHOUSE_AUTO_START=false" in py and "MLFLOW_SQL_WAREHOUSE_AUTO_START=false" in err
    else:
        assert f"Warehouse {wh} does not exist." in py and f"Warehouse {wh} does not exist." in err, (py, err)
    assert go_reqs == py_reqs and not any("/mlflow/traces/" in p for _, p in go_reqs), (go_reqs, py_reqs)
    want = [("GET", f"/api/2.0/sql/warehouses/{wh}")]
    if case == "start fails":
        want += [("POST", f"/api/2.0/sql/warehouses/{wh}/start"), ("GET", f"/api/2.0/sql/warehouses/{wh}")]
    assert go_reqs == want, go_reqs


SEARCH_ONLINE_PY = """
import json, sys
from mlflow import MlflowClient
ts = MlflowClient().search_traces(locations=[sys.argv[1]], filter_string="tags.`mlflow.traceName` = 'online'")
print(json.dumps({t.info.trace_id: len(t.data.spans) for t in ts}))
"""
ONLINE_ID = "0b4e0d5c-8d4c-4a4e-9c1f-3f0f6f8a2b11"


@pytest.fixture(scope="module")
def online_trace(fake_workspace, tmp_path_factory):
    """An experiment of the fake holding an online trace (UUID id, source table
    and request id metadata; its traces.json that of a Go-written trace)."""
    from databricks_fake import PY_QUIET

    fake = fake_workspace
    exp = fake.create_experiment("/Users/parity@example.com/online", cloud="AWS_PRESIGNED_URL")
    d = tmp_path_factory.mktemp("online-writer")
    parity = harness.go_build("conformance/cmd/parity", d)
    env = harness.clean_env(HOME=str(d), MLFLOW_TRACKING_URI="databricks", MLFLOW_EXPERIMENT_ID=exp,
                            **PY_QUIET, **fake.pat_env())
    src = fake.trace(harness.trace_id_from_stdout(harness.run([str(parity)], env, d, 300).stdout))
    info = json.loads(json.dumps(src["TraceInfo"]))
    info["trace_id"] = ONLINE_ID
    info["trace_metadata"].update({"mlflow.sourceTable": "main.serving.payload", "mlflow.databricksRequestId": "req-1"})
    info["tags"] = {"mlflow.traceName": "online"}
    import base64
    data = json.loads(base64.b64decode(src["Data"]))
    fake.admin("POST", "online-traces", {"experiment_id": exp, "trace_id": ONLINE_ID, "trace_info": info, "trace_data": data})
    return exp, len(data["spans"])


@pytest.mark.parametrize("warehouse", ["wh-4", None])
def test_sql_warehouse_online_trace_matches_python(bins, fake_workspace, online_trace, warehouse, tmp_path):
    """A search's spans of an online trace (UUID id) come from
    GetOnlineTraceDetails, in MLflow's client and in package traces, with the
    same query: trace_id, the warehouse when set, the source table and request
    id."""
    fake = fake_workspace
    exp, nspans = online_trace
    if warehouse:
        fake.admin("POST", "sql-warehouses", {"id": warehouse, "state": "RUNNING"})
    before = len(fake.state()["rejections"] or [])
    env = warehouse_env(fake, tmp_path, warehouse)

    def online_calls(start):
        return [norm_call(c) for c in fake.admin("GET", "sql-warehouses")["calls"][start:]
                if c["Path"] == "/api/2.0/mlflow/get-online-trace-details"]

    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    res = harness.run([sys.executable, "-c", SEARCH_ONLINE_PY, exp], env, tmp_path, 300)
    py = json.loads(res.stdout.strip().splitlines()[-1])
    py_calls = online_calls(start)
    start = len(fake.admin("GET", "sql-warehouses")["calls"])
    go = GoClient(bins["client"], env)
    try:
        out = go.ok("search", locations=[exp], filter="tags.`mlflow.traceName` = 'online'")
    finally:
        go.close()
    go_calls = online_calls(start)

    assert py == {ONLINE_ID: nspans} and dict(zip(out["ids"], out["span_counts"])) == py
    want = {"trace_id": [ONLINE_ID], "source_inference_table": ["main.serving.payload"],
            "source_databricks_request_id": ["req-1"]}
    if warehouse:
        want["sql_warehouse_id"] = [warehouse]
    assert [c["query"] for c in py_calls] == [want], py_calls
    assert go_calls == py_calls, f"Go:     {go_calls}\nPython: {py_calls}"
    rejected = (fake.state()["rejections"] or [])[before:]
    assert not rejected, rejected
