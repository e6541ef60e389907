"""Package prompts against a Databricks workspace's Unity Catalog prompt
registry: the fake workspace (internal/databrickstest), proven with MLflow
3.17.2's own Python SDK (tracking URI "databricks", registry URI its default
"databricks-uc"), which registers the prompts (register_prompt,
set_prompt_alias: conformance/parity/prompts_workflow.py with
PROMPTS_NAME_PREFIX) and loads them; Go (conformance/cmd/prompts) loads the
same.

- The fake accepts every request MLflow's client makes (no rejection).
- Load and format: for a table of URIs the loaded fields and formatted
  results equal Python's, with the same registry requests; where MLflow's UC
  store gives None (a missing version) or load_prompt raises AttributeError
  (a missing alias, "@latest" and a numeric alias included) Go returns
  ErrNotFound with the workspace's RESOURCE_DOES_NOT_EXIST; client-side
  errors have MLflow's code and message.
- The experiment link (only with MLFLOW_EXPERIMENT_ID), the LoggedModel link
  (MLFLOW_ACTIVE_MODEL_ID: the model's tag and LinkPromptVersionsToModels)
  and the trace links (LinkPromptsToTraces, experiment and UC tables) equal
  Python's.
- MLFLOW_REGISTRY_URI=databricks-uc with a real MLflow tracking server: the
  same loads, experiment tag ("0", the tracking server's default), LoggedModel
  tag (on the tracking server) and LinkPromptVersionsToModels as Python's.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from databricks_fake import PY_QUIET, FakeWorkspace, load_trace
from parity import harness

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "prompts_workflow.py"
PREFIX = "main.prompts."


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("ucprompts")
    binary = harness.go_build("internal/databrickstest/cmd/fakeworkspace", d)
    with FakeWorkspace(binary, d / "fake.log") as w:
        w.create_uc_schema("main", "prompts")
        yield w


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    return harness.go_build("conformance/cmd/prompts", tmp_path_factory.mktemp("promptsbin"))


def env(fake, home, **extra):
    e = harness.clean_env(HOME=str(home), MLFLOW_TRACKING_URI="databricks", PROMPTS_NAME_PREFIX=PREFIX, **PY_QUIET, **extra)
    e.update(fake.pat_env())
    return e


def python(fake, tmp_path, *args, stdin=None, **extra):
    return harness.run([sys.executable, str(WORKFLOW), *args], env(fake, tmp_path, **extra), tmp_path, 300, input=stdin).stdout


def go(gobin, fake, tmp_path, *args, stdin=None, **extra):
    return harness.run([str(gobin), *args], env(fake, tmp_path, **extra), tmp_path, 300, input=stdin).stdout


@pytest.fixture(scope="module")
def registered(fake, tmp_path_factory):
    python(fake, tmp_path_factory.mktemp("register"), "register", "_c")
    return "_c"


def cases():
    qa, chat = "prompts:/" + PREFIX + "qa_c", "prompts:/" + PREFIX + "chat_c"
    return [
        {"uri": qa + "@production", "vars": {"question": "Why?", "style": "short"}},
        {"uri": qa + "/2", "vars": {"question": "Q {{ style }}", "style": "x\\u y", "user.name": "Bob",
                                    "cost": 2.50, "ok": True, "nothing": None, "items": [1, "a", {"k": 2}], "extra": 1}},
        {"uri": qa + "/2", "vars": {"question": "q"}},  # missing variables
        {"uri": qa + "/2", "vars": {"question": "q", "style": 3}, "partial": True},
        {"uri": chat + "/1", "vars": {"persona": "a pirate", "question": "Where?", "style": "brief", "not_a_var": "X"}},
        {"uri": chat + "/1", "vars": {"persona": "p"}, "partial": True},
        {"uri": PREFIX + "qa_c", "version": 1},
        {"uri": qa + "/01"},  # sent as "01", as MLflow sends it
        # Missing versions: MLflow's Unity Catalog store returns None (load_prompt too).
        {"uri": qa + "/9"},
        {"uri": "prompts:/" + PREFIX + "nope/1"},
        # Missing aliases, "latest" and a numeric alias included (sent as
        # aliases): MLflow fails with an AttributeError.
        {"uri": qa + "@nope"},
        {"uri": qa + "@latest"},
        {"uri": PREFIX + "qa_c"},  # a name: "@latest"
        {"uri": qa + "@1"},
        # Refused before any request, as for a tracking server.
        {"uri": qa},
        {"uri": qa + "/latest"},
        {"uri": qa + "/1/2"},
        {"uri": qa + "@"},
        {"uri": qa + "/1", "version": 1},
    ]


def missing_names(message: str) -> list[str]:
    return sorted(re.findall(r"'([^']+)'", message.split("}")[0]))


def uc_requests(fake, since: int) -> list[tuple[str, str, str]]:
    return [(r["Method"], r["Path"], r.get("Query") or "") for r in fake.state()["requests"][since:]
            if "/unity-catalog/" in r["Path"] or "/logged-models" in r["Path"]]


def test_python_client_accepted(fake, registered):
    """MLflow's register_prompt / set_prompt_alias with the registry URI
    "databricks-uc" ran against the fake without a rejection, and stored
    what MLflow sent."""
    st = fake.state()
    assert st["rejections"] is None or st["rejections"] == [], st["rejections"]
    assert st["prompt_tags"][PREFIX + "qa_c"] == {"author": "alice"}
    assert PREFIX + "chat_c" in st["prompt_tags"]
    paths = {(r["Method"], r["Path"]) for r in st["requests"]}
    assert ("POST", "/api/2.0/mlflow/unity-catalog/prompts") in paths
    assert ("POST", f"/api/2.0/mlflow/unity-catalog/prompts/{PREFIX}qa_c/aliases/production") in paths


def test_load_and_format_match_python(fake, gobin, registered, tmp_path):
    stdin = json.dumps(cases())
    n = len(fake.state()["requests"])
    py = json.loads(python(fake, tmp_path, "format", stdin=stdin))
    py_reqs = uc_requests(fake, n)
    n = len(fake.state()["requests"])
    got = json.loads(go(gobin, fake, tmp_path, "format", stdin=stdin))
    go_reqs = uc_requests(fake, n)
    assert len(py) == len(got) == len(cases())
    kinds = {"ok": 0, "none": 0, "attr": 0, "raised": 0}
    for case, p, g in zip(cases(), py, got):
        what = json.dumps(case)
        if p.get("none"):
            # Python: None (allow_missing or not); Go: ErrNotFound with the registry's answer.
            kinds["none"] += 1
            assert g.get("not_found") and g["code"] == "RESOURCE_DOES_NOT_EXIST", f"{what}: {g}"
            continue
        if "error" in p and p["code"] is None and "NoneType" in p["error"]:
            # Python: AttributeError on the None the store gives for a missing alias.
            kinds["attr"] += 1
            assert p["error"] == "'NoneType' object has no attribute 'version'", what
            assert g.get("not_found") and g["code"] == "RESOURCE_DOES_NOT_EXIST", f"{what}: {g}"
            continue
        if "error" not in p:
            kinds["ok"] += 1
            assert "error" not in g, f"{what}: Go failed: {g}"
            assert g == p, f"{what}:\n Go     {g}\n Python {p}"
            continue
        kinds["raised"] += 1
        assert "error" in g, f"{what}: Go gave {g}, MLflow raised {p['error']}"
        if p["error"].startswith("Missing variables"):
            assert g["missing"] == missing_names(p["error"]), what
            continue
        assert (g["code"], g["message"]) == (p["code"], p["error"]), what
        assert g["error"] == "prompts: " + p["error"], what
        assert g["not_found"] == p["allow_missing_none"] or g["invalid"], what
    assert kinds == {"ok": 7, "none": 2, "attr": 4, "raised": 6}, kinds
    # The same requests (Python asks for an alias's version a second time).
    assert set(go_reqs) <= set(py_reqs), set(go_reqs) - set(py_reqs)
    assert fake.state()["rejections"] in (None, []), fake.state()["rejections"]


def test_loaded_prompt_linked_to_experiment(fake, gobin, registered, tmp_path):
    """With MLFLOW_EXPERIMENT_ID set, each SDK's load tags its prompt with the
    experiment (GetPrompt, SetPromptTag); without, neither does (MLflow has
    no default experiment on Databricks)."""
    exp = fake.create_experiment("/Users/prompts@example.com/uc", cloud="AWS_PRESIGNED_URL")
    tags = {}
    for who in ("py", "go"):
        python(fake, tmp_path, "register", "_" + who)
        name = f"{PREFIX}qa_{who}"
        run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
        stdin = json.dumps([{"uri": f"prompts:/{name}/1"}])
        out = json.loads(run(fake, tmp_path, "format", stdin=stdin))  # no experiment
        assert "error" not in out[0], out
        assert "_mlflow_experiment_ids" not in fake.state()["prompt_tags"][name], who
        n = len(fake.state()["requests"])
        out = json.loads(run(fake, tmp_path, "format", stdin=stdin, MLFLOW_EXPERIMENT_ID=exp))
        assert "error" not in out[0], out
        tags[who] = fake.state()["prompt_tags"][name]
        reqs = [(m, p) for m, p, _ in uc_requests(fake, n)]
        assert ("GET", f"/api/2.0/mlflow/unity-catalog/prompts/{name}") in reqs, (who, reqs)
        assert ("POST", f"/api/2.0/mlflow/unity-catalog/prompts/{name}/tags") in reqs, (who, reqs)
    assert tags["go"] == tags["py"] == {"author": "alice", "_mlflow_experiment_ids": f",{exp},"}, tags


@pytest.mark.parametrize("where", ["experiment", "uc_tables"])
def test_trace_linked_to_prompt_versions(fake, gobin, registered, tmp_path, where):
    """The traced workflow (a prompt by alias in the root span, a chat prompt
    in a child span, the first again) written by each SDK to a workspace
    experiment or to Unity Catalog tables: both traces carry the same
    mlflow.linkedPrompts tag, and each is linked to the same versions
    through Unity Catalog's LinkPromptsToTraces, as MLflow's exporter links
    them on Databricks."""
    if where == "experiment":
        dest = {"MLFLOW_EXPERIMENT_ID": fake.create_experiment("/Users/prompts@example.com/traced", cloud="AWS_PRESIGNED_URL")}
    else:
        dest = {"MLFLOW_TRACING_DESTINATION": "main.prompts"}
    ids, tags, spans = {}, {}, {}
    for who in ("py", "go"):
        run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
        out = run(fake, tmp_path, "trace", "_c", **dest)
        ids[who] = harness.trace_id_from_stdout(out)
        trace = load_trace(fake.trace(ids[who]))  # MLflow's own parsers
        tags[who] = json.loads(trace.info.tags["mlflow.linkedPrompts"])
        spans[who] = {sp.name: sp.attributes.get("mlflow.linkedPrompts") for sp in trace.data.spans}
        spans[who] = {k: json.loads(v) if isinstance(v, str) else v for k, v in spans[who].items()}
    want = [{"name": PREFIX + "qa_c", "version": "1"}, {"name": PREFIX + "chat_c", "version": "1"}]
    assert tags["go"] == tags["py"] == want, tags
    assert spans["go"] == spans["py"] == {"answer": want[:1], "chat": [want[1], want[0]]}, spans
    links = fake.state()["prompt_links"]
    for who, tid in ids.items():
        mine = [link for link in links if link["IDs"] == [tid]]
        assert [link["Kind"] for link in mine] == ["traces"], (who, links)
        assert mine[0]["Versions"] == [PREFIX + "qa_c/1", PREFIX + "chat_c/1"], (who, mine)
    assert fake.state()["rejections"] in (None, []), fake.state()["rejections"]


def test_loaded_prompts_linked_to_active_model(fake, gobin, registered, tmp_path):
    """With MLFLOW_ACTIVE_MODEL_ID, the versions each SDK loads end up in its
    LoggedModel's mlflow.linkedPrompts tag (GetLoggedModel,
    SetLoggedModelTags), and each is linked with Unity Catalog's
    LinkPromptVersionsToModels, the same way."""
    exp = fake.create_experiment("/Users/prompts@example.com/models", cloud="AWS_PRESIGNED_URL")
    loads = json.dumps([{"uri": f"prompts:/{PREFIX}qa_c@production"}, {"uri": f"prompts:/{PREFIX}chat_c/1"},
                        {"uri": PREFIX + "qa_c", "version": 1}])
    tags, links = {}, {}
    for who in ("py", "go"):
        model_id = fake.admin("POST", "logged-models", {"experiment_id": exp, "name": "agent-" + who})["model_id"]
        run = python if who == "py" else (lambda *a, **k: go(gobin, *a, **k))
        out = json.loads(run(fake, tmp_path, "format", stdin=loads, MLFLOW_ACTIVE_MODEL_ID=model_id))
        assert all("error" not in o for o in out), out
        st = fake.state()
        tags[who] = st["logged_model_tags"][model_id].get("mlflow.linkedPrompts")
        links[who] = sorted(v for link in st["prompt_links"] if link["Kind"] == "models" and link["IDs"] == [model_id]
                            for v in link["Versions"])
    # MLflow links each load on a thread of its own (link_prompt_version_to_model in a
    # threading.Thread), so the order of its tag varies from run to run; Go links in load order.
    assert sorted(json.loads(tags["go"]), key=json.dumps) == sorted(json.loads(tags["py"]), key=json.dumps), tags
    assert json.loads(tags["go"]) == [{"name": PREFIX + "qa_c", "version": "1"}, {"name": PREFIX + "chat_c", "version": "1"}]
    # MLflow links again at every load (qa_c/1 twice), a Go Client once.
    assert sorted(set(links["go"])) == sorted(set(links["py"])) == [PREFIX + "chat_c/1", PREFIX + "qa_c/1"], links
    assert links["go"] == [PREFIX + "chat_c/1", PREFIX + "qa_c/1"], links
    assert fake.state()["rejections"] in (None, []), fake.state()["rejections"]


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("uc-tracking")) as s:
        yield s


def test_uc_registry_with_tracking_server(fake, gobin, registered, tracking_server, tmp_path):
    """MLFLOW_REGISTRY_URI=databricks-uc with a tracking server (a real MLflow
    3.17.2 server), which MLflow allows: each SDK loads from the workspace's
    Unity Catalog registry with the same requests, tags the prompt there with
    the tracking server's default experiment "0" (MLflow's default
    experiment follows the tracking URI), writes the LoggedModel tag on the
    tracking server and sends LinkPromptVersionsToModels to the workspace."""
    import mlflow

    track = mlflow.MlflowClient(tracking_uri=tracking_server.url)
    loads = json.dumps([{"uri": f"prompts:/{PREFIX}qa_{{who}}@production"}, {"uri": f"prompts:/{PREFIX}chat_{{who}}/1"}])
    got = {}
    for who in ("py", "go"):
        python(fake, tmp_path, "register", "_uc" + who)
        model_id = track.create_logged_model(experiment_id="0", name="agent-" + who).model_id
        n = len(fake.state()["requests"])
        e = env(fake, tmp_path)
        e.update(MLFLOW_TRACKING_URI=tracking_server.url, MLFLOW_REGISTRY_URI="databricks-uc", MLFLOW_ACTIVE_MODEL_ID=model_id)
        cmd = [sys.executable, str(WORKFLOW)] if who == "py" else [str(gobin)]
        out = json.loads(harness.run([*cmd, "format"], e, tmp_path, 300, input=loads.replace("{who}", "uc" + who)).stdout)
        assert all("error" not in o for o in out), (who, out)
        st = fake.state()
        reqs = sorted({(m, p.replace("uc" + who, "<who>")) for m, p, _ in uc_requests(fake, n)})
        got[who] = {
            "requests": reqs,
            "tags": {n: st["prompt_tags"][f"{PREFIX}{n}_uc{who}"].get("_mlflow_experiment_ids") for n in ("qa", "chat")},
            "model": track.get_logged_model(model_id).tags.get("mlflow.linkedPrompts", "").replace("uc" + who, "<who>"),
            "links": sorted(v.replace("uc" + who, "<who>") for link in st["prompt_links"]
                            if link["Kind"] == "models" and link["IDs"] == [model_id] for v in link["Versions"]),
            "workspace_models": model_id in (st.get("logged_model_tags") or {}),
        }
    go_reqs, py_reqs = set(got["go"].pop("requests")), set(got["py"].pop("requests"))
    # The same requests, but for the versions MLflow's client asks for again
    # (by alias, and before linking the LoggedModel).
    assert go_reqs <= py_reqs, go_reqs - py_reqs
    assert all(m == "GET" and "/versions/" in p for m, p in py_reqs - go_reqs), py_reqs - go_reqs
    assert ("POST", "/api/2.0/mlflow/unity-catalog/prompts/main.prompts.qa_<who>/tags") in go_reqs, go_reqs
    assert got["go"] == got["py"], got
    assert got["go"]["tags"] == {"qa": ",0,", "chat": ",0,"}, got
    assert json.loads(got["go"]["model"]) == [{"name": PREFIX + "qa_<who>", "version": "1"}, {"name": PREFIX + "chat_<who>", "version": "1"}]
    assert not got["go"]["workspace_models"], got
    assert [p.name for p in track.search_prompts()] == []
    assert fake.state()["rejections"] in (None, []), fake.state()["rejections"]
