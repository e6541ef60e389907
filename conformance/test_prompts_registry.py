"""Package prompts with MLFLOW_REGISTRY_URI naming a registry server that is
not the tracking server: two real MLflow 3.17.2 servers (SQLite stores), the
prompts registered on the registry with mlflow.genai.register_prompt, then
loaded by MLflow's own client (mlflow.genai.load_prompt, prompts_workflow.py)
and by the Go client (conformance/cmd/prompts), both with
MLFLOW_TRACKING_URI=<tracking> and MLFLOW_REGISTRY_URI=<registry>:

- the same versions, formats and errors as the load table of
  test_prompts.py;
- the same links: the prompt's _mlflow_experiment_ids tag on the registry
  gets the id of the experiment created on the tracking server; the
  LoggedModel (on the tracking server) gets the same mlflow.linkedPrompts
  tag; a traced workflow's traces (on the tracking server) are equal field by
  field and MLflow's search_traces(filter_string="prompt = ...") on the
  tracking server finds both or neither;
- the tracking server holds no prompt afterwards;
- a workspace-registry URI ("databricks", "databricks://<profile>"): MLflow's
  load_prompt raises, and the Go client's NewClient fails, with the same
  message.
"""

from __future__ import annotations

import json
import sys

import pytest

from parity import compare, harness
from test_prompts import QUIET, WORKFLOW, assert_loads_match, cases


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("reg-tracking")) as tracking:
        with harness.MlflowServer(tmp_path_factory.mktemp("reg-registry")) as registry:
            yield tracking, registry


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    return harness.go_build("conformance/cmd/prompts", tmp_path_factory.mktemp("promptsbin"))


def env(servers, **extra):
    tracking, registry = servers
    return harness.clean_env(**{"MLFLOW_TRACKING_URI": tracking.url, "MLFLOW_REGISTRY_URI": registry.url, **QUIET, **extra})


def python(servers, tmp_path, *args, stdin=None, **extra):
    return harness.run([sys.executable, str(WORKFLOW), *args], env(servers, **extra), tmp_path, 300, input=stdin).stdout


def go(gobin, servers, tmp_path, *args, stdin=None, **extra):
    return harness.run([str(gobin), *args], env(servers, **extra), tmp_path, 300, input=stdin).stdout


def runner(who, gobin):
    return python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))


def client(servers, registry=True):
    import mlflow

    tracking, reg = servers
    return mlflow.MlflowClient(tracking_uri=tracking.url, registry_uri=(reg if registry else tracking).url)


@pytest.fixture(scope="module")
def registered(servers, tmp_path_factory):
    tracking, registry = servers
    # Registered on the registry server: MLFLOW_TRACKING_URI names it.
    harness.run([sys.executable, str(WORKFLOW), "register", "_c"],
                harness.clean_env(MLFLOW_TRACKING_URI=registry.url, **QUIET), tmp_path_factory.mktemp("register"), 300)
    import mlflow

    mlflow.MlflowClient(tracking_uri=registry.url).create_registered_model("a_model")
    # More experiments on the tracking server than on the registry: their
    # ids differ.
    for name in ("a", "b"):
        mlflow.MlflowClient(tracking_uri=tracking.url).create_experiment(name)
    return "_c"


def test_load_from_registry_server_like_python(servers, gobin, registered, tmp_path):
    stdin = json.dumps(cases())
    py = json.loads(python(servers, tmp_path, "format", stdin=stdin))
    got = json.loads(go(gobin, servers, tmp_path, "format", stdin=stdin))
    assert_loads_match(py, got)
    assert sum("error" not in p for p in py) >= 10
    # The prompts are the registry's only: the tracking server has none.
    assert [p.name for p in client(servers, registry=False).search_prompts()] == []


def test_links_like_python(servers, gobin, registered, tmp_path):
    """Experiment and LoggedModel links: each SDK loads its own prompt (on
    the registry) with MLFLOW_EXPERIMENT_NAME and MLFLOW_ACTIVE_MODEL_ID
    (a model of the tracking server)."""
    import mlflow

    tracking, registry = servers
    both, track = client(servers), client(servers, registry=False)
    for who in ("py", "go"):
        harness.run([sys.executable, str(WORKFLOW), "register", "_" + who],
                    harness.clean_env(MLFLOW_TRACKING_URI=registry.url, **QUIET), tmp_path, 300)
    got = {}
    for who in ("py", "go"):
        model_id = track.create_logged_model(experiment_id="0", name="agent-" + who).model_id
        loads = json.dumps([{"uri": f"prompts:/qa_{who}@production"}, {"uri": f"prompts:/chat_{who}/1"}])
        out = json.loads(runner(who, gobin)(servers, tmp_path, "format", stdin=loads,
                                            MLFLOW_EXPERIMENT_NAME="reg-" + who, MLFLOW_ACTIVE_MODEL_ID=model_id))
        assert all("error" not in o for o in out), (who, out)
        exp = track.get_experiment_by_name("reg-" + who).experiment_id
        assert mlflow.MlflowClient(tracking_uri=registry.url).get_experiment_by_name("reg-" + who) is None, who
        tags = {n: both.get_prompt(f"{n}_{who}").tags.get("_mlflow_experiment_ids") for n in ("qa", "chat")}
        model = track.get_logged_model(model_id).tags.get("mlflow.linkedPrompts")
        got[who] = {
            # The suffix and the experiment id are the run's own.
            "tags": {n: v.replace(f",{exp},", ",<exp>,") for n, v in tags.items()},
            "model": model.replace(f"_{who}", "_<who>"),
        }
    assert got["go"] == got["py"], got
    assert got["go"]["tags"] == {"qa": ",0,<exp>,", "chat": ",0,<exp>,"}, got
    assert json.loads(got["go"]["model"]) == [{"name": "qa_<who>", "version": "1"}, {"name": "chat_<who>", "version": "1"}]
    assert [p.name for p in track.search_prompts()] == []


def traced(who, gobin, servers, tmp_path):
    tracking, _ = servers
    trace_id = json.loads(runner(who, gobin)(servers, tmp_path, "trace", "_c").strip().splitlines()[-1])["trace_id"]
    return trace_id, compare.normalize(harness.load_trace(tracking.url, trace_id))


def test_trace_links_like_python(servers, gobin, registered, tmp_path):
    """The traced workflow (prompts from the registry, the trace on the
    tracking server): traces equal field by field, the same
    mlflow.linkedPrompts tag, and search_traces on the tracking server finds
    both (MLflow's registry RestStore links a trace with the tracking
    store's LinkPromptsToTrace, the request the Go exporter sends)."""
    import mlflow

    tracking, _ = servers
    py_id, py = traced("py", gobin, servers, tmp_path)
    go_id, gt = traced("go", gobin, servers, tmp_path)
    assert not py["problems"] and not gt["problems"], (py["problems"], gt["problems"])
    diffs = compare.diff({k: v for k, v in py.items() if k != "problems"}, {k: v for k, v in gt.items() if k != "problems"})
    assert not diffs, "Python and Go traces differ:\n" + compare.format_diffs(diffs)
    linked = [{"name": "qa_c", "version": "1"}, {"name": "chat_c", "version": "1"}]
    assert json.loads(gt["info"]["tags"]["mlflow.linkedPrompts"]) == linked

    mlflow.set_tracking_uri(tracking.url)
    for version in ("qa_c/1", "chat_c/1"):
        found = {t.info.trace_id for t in mlflow.search_traces(filter_string=f"prompt = '{version}'", return_type="list")}
        assert {py_id, go_id} <= found, f"{version}: {found}"


@pytest.mark.parametrize("uri", ["databricks", "databricks://someprofile"])
def test_workspace_registry_refused_like_python(servers, gobin, tmp_path, uri):
    import subprocess

    stdin = json.dumps([{"uri": "prompts:/qa_c/1"}])
    py = json.loads(python(servers, tmp_path, "format", stdin=stdin, MLFLOW_REGISTRY_URI=uri))
    assert "not supported with the current registry" in py[0]["error"], py
    res = subprocess.run([str(gobin), "format"], env=env(servers, MLFLOW_REGISTRY_URI=uri), cwd=tmp_path, capture_output=True, text=True, timeout=120, input=stdin)
    assert res.returncode != 0, res.stdout
    assert py[0]["error"] in res.stderr, (res.stderr, py[0]["error"])
