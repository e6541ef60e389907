"""Package prompts against MLflow 3.17.2's prompt registry on a real
`mlflow server` (SQLite store): prompts registered with
mlflow.genai.register_prompt (conformance/parity/prompts_workflow.py),
loaded and formatted by conformance/cmd/prompts.

- Load and format: for a table of URIs, versions, aliases and variables, Go's
  version (name, version, template, variables, aliases, tags, commit
  message, response format, model config) and formatted text or messages
  equal mlflow.genai.load_prompt(...).format(...); every error has MLflow's
  code and message, and matches prompts.ErrNotFound exactly where
  load_prompt(allow_missing=True) returns None.
- Tracing: the same workflow (a text prompt by alias in the root span, a
  chat prompt by version in a child span, the first version again) traced by
  each SDK gives traces equal field by field (parity/compare.py), with the
  same mlflow.linkedPrompts trace tag and span attributes; MLflow's
  search_traces(filter_string="prompt = 'name/version'") finds both traces.
  Written to ./mlruns instead, the traces are equal too.
- The experiment: a prompt loaded by each SDK gets the experiment's id in
  its _mlflow_experiment_ids tag, and search_prompts finds it by experiment.
- The active LoggedModel (MLFLOW_ACTIVE_MODEL_ID): the versions each SDK
  loads end up in its model's mlflow.linkedPrompts tag, equal.
- What a person sees: MLflow's trace view (headless Chromium) shows the Go
  trace's linked prompts as it shows the Python trace's ("2 linked prompts").
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from parity import compare, harness
from test_browser import chromium, chromium_path, page_text

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "prompts_workflow.py"
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("prompts-server")) as s:
        yield s


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    return harness.go_build("conformance/cmd/prompts", tmp_path_factory.mktemp("promptsbin"))


def env(server, **extra):
    return harness.clean_env(MLFLOW_TRACKING_URI=server.url, **QUIET, **extra)


def python(server, tmp_path, *args, stdin=None, **extra):
    return harness.run([sys.executable, str(WORKFLOW), *args], env(server, **extra), tmp_path, 300, input=stdin).stdout


def go(gobin, server, tmp_path, *args, stdin=None, **extra):
    return harness.run([str(gobin), *args], env(server, **extra), tmp_path, 300, input=stdin).stdout


@pytest.fixture(scope="module")
def registered(server, tmp_path_factory):
    python(server, tmp_path_factory.mktemp("register"), "register", "_c")
    import mlflow

    mlflow.MlflowClient(tracking_uri=server.url).create_registered_model("a_model")
    return "_c"


def cases():
    qa, chat = "prompts:/qa_c", "prompts:/chat_c"
    return [
        {"uri": qa + "@production", "vars": {"question": "Why?", "style": "short"}},
        # Non-string values (Python's str()), a dotted name, a value holding a
        # placeholder filled after it, a backslash, an unused variable.
        {"uri": qa + "/2", "vars": {"question": "Q {{ style }}", "style": "x\\u y", "user.name": "Bob",
                                    "cost": 2.50, "ok": True, "nothing": None, "items": [1, "a", {"k": 2}], "extra": 1}},
        {"uri": qa + "/2", "vars": {"question": "q"}},  # missing variables
        {"uri": qa + "/2", "vars": {"question": "q", "style": 3}, "partial": True},
        {"uri": qa + "/2", "vars": {"question": "q", "style": "s", "user.name": "u", "cost": 1, "ok": False,
                                    "nothing": "n", "items": []}, "partial": True},
        # A tab between braces: substituted, but not a variable of a chat prompt.
        {"uri": chat + "/1", "vars": {"persona": "a pirate", "question": "Where?", "style": "brief", "not_a_var": "X"}},
        {"uri": chat + "@latest", "vars": {"persona": "p"}},
        {"uri": chat + "/1", "vars": {"persona": "p"}, "partial": True},
        {"uri": "qa_c"},  # a name: the latest version
        {"uri": "qa_c", "version": 1},
        {"uri": qa + "@1"},  # a numeric alias is a version
        {"uri": qa + "/01"},
        {"uri": qa + "@LATEST"},
        {"uri": "prompts:/nope_c/1"},
        {"uri": "prompts:/nope_c@production"},
        {"uri": qa + "/9"},
        {"uri": qa + "@nope"},
        {"uri": qa},
        {"uri": qa + "/latest"},
        {"uri": qa + "/1/2"},
        {"uri": qa + "@"},
        {"uri": qa + "/1", "version": 1},
        {"uri": "prompts:/a_model/1"},
        {"uri": "prompts:/a_model@latest"},
    ]


def missing_names(message: str) -> list[str]:
    return sorted(re.findall(r"'([^']+)'", message.split("}")[0]))


def test_load_and_format_match_python(server, gobin, registered, tmp_path):
    stdin = json.dumps(cases())
    py = json.loads(python(server, tmp_path, "format", stdin=stdin))
    got = json.loads(go(gobin, server, tmp_path, "format", stdin=stdin))
    assert_loads_match(py, got)
    # The table covers each kind.
    assert sum("error" not in p for p in py) >= 10
    assert sum(p.get("allow_missing_none", False) for p in py) >= 5


def assert_loads_match(py, got):
    """Checks Go's results of the cases() table against MLflow's: equal
    loads and formats, the same errors (code and message)."""
    assert len(py) == len(got) == len(cases())
    for case, p, g in zip(cases(), py, got):
        what = json.dumps(case)
        if "error" not in p:
            assert "error" not in g, f"{what}: Go failed: {g}"
            assert g == p, f"{what}:\n Go     {g}\n Python {p}"
            continue
        assert "error" in g, f"{what}: Go gave {g}, MLflow raised {p['error']}"
        if p["error"].startswith("Missing variables"):
            assert g["missing"] == missing_names(p["error"]), what
            continue
        assert (g["code"], g["message"]) == (p["code"], p["error"]), what
        assert g["error"] == "prompts: " + p["error"], what
        assert g["not_found"] == p["allow_missing_none"] or g["invalid"], f"{what}: ErrNotFound {g['not_found']}, allow_missing gives None: {p['allow_missing_none']}"


def traced(who, gobin, server, tmp_path, store=None):
    """Runs the traced workflow; store is a ./mlruns path for the trace."""
    # A file: URI for both: MLflow writes the artifact location in the form
    # of the tracking URI, Go always file://.
    extra = {"PROMPTS_TRACE_URI": store.as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"} if store else {}
    run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
    trace_id = json.loads(run(server, tmp_path, "trace", "_c", **extra).strip().splitlines()[-1])["trace_id"]
    if store:
        return trace_id, compare.normalize(harness.load_trace(str(store), trace_id), store_root=str(store))
    return trace_id, compare.normalize(harness.load_trace(server.url, trace_id))


def test_trace_links_prompts_like_python(server, gobin, registered, tmp_path):
    import mlflow

    py_id, py = traced("py", gobin, server, tmp_path)
    go_id, gt = traced("go", gobin, server, tmp_path)
    assert not py["problems"] and not gt["problems"], (py["problems"], gt["problems"])
    diffs = compare.diff({k: v for k, v in py.items() if k != "problems"}, {k: v for k, v in gt.items() if k != "problems"})
    assert not diffs, "Python and Go traces differ:\n" + compare.format_diffs(diffs)

    # What the parity covers, spelled out.
    linked = [{"name": "qa_c", "version": "1"}, {"name": "chat_c", "version": "1"}]
    assert json.loads(gt["info"]["tags"]["mlflow.linkedPrompts"]) == linked
    client = mlflow.MlflowClient(tracking_uri=server.url)
    spans = {s.name: s for s in client.get_trace(go_id).data.spans}
    assert spans["answer"].attributes["mlflow.linkedPrompts"] == linked[:1]
    assert spans["chat"].attributes["mlflow.linkedPrompts"] == [linked[1], linked[0]]

    # MLflow finds the traces from the prompt versions (LinkPromptsToTrace).
    mlflow.set_tracking_uri(server.url)
    for version in ("qa_c/1", "chat_c/1"):
        found = mlflow.search_traces(filter_string=f"prompt = '{version}'", return_type="list")
        ids = {t.info.trace_id for t in found}
        assert {py_id, go_id} <= ids, f"{version}: {ids}"
    found = mlflow.search_traces(filter_string="prompt = 'qa_c/2'", return_type="list")
    assert not {py_id, go_id} & {t.info.trace_id for t in found}


def test_linked_prompts_in_mlflow_ui(server, gobin, registered, tmp_path):
    """The trace view of MLflow's UI shows the prompt versions linked to the
    Go trace as it shows those of the Python trace of the same workflow."""
    chromium_path()
    seen = {}
    for who in ("py", "go"):
        trace_id, _ = traced(who, gobin, server, tmp_path)  # complete on the server
        url = (f"{server.url}/#/experiments/0/traces?selectedEvaluationId={trace_id}&traceId={trace_id}"
               "&compareRunsMode=TRACES")
        shot = tmp_path / f"linked-prompts-{who}.png"
        try:
            text = page_text(url, tmp_path, ["linked prompts", "What is MLflow?"])
            m = re.search(r"(\d+) linked prompts?", text)
            assert m, f"{who}: no linked prompts in the trace view:\n{text[:3000]}"
            seen[who] = m.group(0)
        except AssertionError as e:
            raise AssertionError(f"{e}\n(screenshot: {shot})") from None
        finally:
            chromium(url, tmp_path, screenshot=shot, budget_ms=30000)
    assert seen["go"] == seen["py"] == "2 linked prompts", seen


def test_trace_in_local_store_like_python(server, gobin, registered, tmp_path):
    """Traces written to ./mlruns (prompts from the server's registry) equal
    Python's field by field, the linkedPrompts tag and span attributes
    included (MLflow's FileStore cannot link them further)."""
    norm = {}
    for who in ("py", "go"):
        root = tmp_path / who / "mlruns"
        root.parent.mkdir()
        _, norm[who] = traced(who, gobin, server, tmp_path / who, store=root)
        assert not norm[who]["problems"], norm[who]["problems"]
    diffs = compare.diff({k: v for k, v in norm["py"].items() if k != "problems"},
                         {k: v for k, v in norm["go"].items() if k != "problems"})
    assert not diffs, "Python and Go traces differ:\n" + compare.format_diffs(diffs)
    assert json.loads(norm["go"]["info"]["tags"]["mlflow.linkedPrompts"]) == [
        {"name": "qa_c", "version": "1"}, {"name": "chat_c", "version": "1"}]


def test_loaded_prompt_linked_to_experiment(server, gobin, registered, tmp_path):
    """Each SDK loads its own prompt with MLFLOW_EXPERIMENT_NAME set: the
    experiment is created, the prompt tagged with its id, and MLflow's
    search_prompts finds the prompt by experiment."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=server.url)
    for who in ("py", "go"):
        python(server, tmp_path, "register", "_" + who)
        stdin = json.dumps([{"uri": f"prompts:/qa_{who}/1"}])
        run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
        out = json.loads(run(server, tmp_path, "format", stdin=stdin, MLFLOW_EXPERIMENT_NAME="prompts-" + who))
        assert "error" not in out[0], out
        exp = client.get_experiment_by_name("prompts-" + who).experiment_id
        assert client.get_prompt("qa_" + who).tags["_mlflow_experiment_ids"] == f",0,{exp},", who
        mlflow.set_tracking_uri(server.url)
        found = mlflow.genai.search_prompts(filter_string=f"experiment_id = '{exp}'")
        assert [p.name for p in found] == ["qa_" + who], who


def test_loaded_prompts_linked_to_active_model(server, gobin, registered, tmp_path):
    import mlflow

    mlflow.set_tracking_uri(server.url)
    client = mlflow.MlflowClient(tracking_uri=server.url)
    loads = json.dumps([{"uri": "prompts:/qa_c@production"}, {"uri": "prompts:/chat_c/1"}, {"uri": "qa_c", "version": 1}])
    tags = {}
    for who in ("py", "go"):
        model_id = mlflow.create_external_model(name="agent-" + who).model_id
        run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
        out = json.loads(run(server, tmp_path, "format", stdin=loads, MLFLOW_ACTIVE_MODEL_ID=model_id))
        assert all("error" not in o for o in out), out
        tags[who] = client.get_logged_model(model_id).tags.get("mlflow.linkedPrompts")
    # MLflow links each load on a thread of its own (link_prompt_version_to_model in a
    # threading.Thread), so the order of its tag varies from run to run; Go links in load order.
    assert sorted(json.loads(tags["go"]), key=json.dumps) == sorted(json.loads(tags["py"]), key=json.dumps), tags
    assert json.loads(tags["go"]) == [{"name": "qa_c", "version": "1"}, {"name": "chat_c", "version": "1"}]
