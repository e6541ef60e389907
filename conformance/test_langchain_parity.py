"""Parity of langchaingo tracing with MLflow's LangChain autologging: the same
workflows run through langchaingo's OpenAI client (llms/openai) reporting to
autoinstrument/langchaingo (conformance/cmd/langchaintraces) and through
Python LangChain's ChatOpenAI under mlflow.langchain.autolog
(conformance/parity/langchain_workflow.py), against the same fake OpenAI API
(internal/llmtest). Each workflow's two traces are loaded with
MlflowClient.get_trace and compared field by field after
compare.normalize_langchain and compare.normalize (compare.py says what is
normalised and why: the two are different libraries).

Workflows: one chat model call (system + user message); a prompt template
feeding the model (LangChain's `prompt | llm`, langchaingo's
chains.LLMChain); a tool-calling turn (model → tool → model) inside one traced
function.

What still differs is listed in KNOWN, per workflow, with the reason: each
listed difference must be present (so the list stays true) and nothing else
may differ. Runs against the local store and a real `mlflow server` 3.17.2.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from parity import compare, harness

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "langchain_workflow.py"

# workflow -> the span names, in start order, after normalisation.
SCENARIOS = {
    "chat": ["chat model"],
    "chain": ["chain", "chat model"],
    "tools": ["weather_agent", "chat model", "get_weather", "chat model #2"],
}

NO_TOOLS = ("the tools offered to the model are not in langchaingo's callbacks "
            "(HandleLLMGenerateContentStart gets the messages only): Go records no mlflow.chat.tools")
ARGS_SENT_BACK = ("LangChain sends the tool call back re-serialised (json.dumps: '{\"city\": \"Paris\"}'), "
                  "langchaingo as the model wrote it ('{\"city\":\"Paris\"}'): the fake counts one more "
                  "prompt token for Python's second request")
KNOWN = {
    "tools": {
        "spans.chat model.attributes.mlflow.chat.tools": NO_TOOLS,
        "spans.chat model.attributes_raw.mlflow.chat.tools": NO_TOOLS,
        "spans.chat model #2.attributes.mlflow.chat.tools": NO_TOOLS,
        "spans.chat model #2.attributes_raw.mlflow.chat.tools": NO_TOOLS,
        "spans.chat model #2.attributes.mlflow.chat.tokenUsage.input_tokens": ARGS_SENT_BACK,
        "spans.chat model #2.attributes.mlflow.chat.tokenUsage.total_tokens": ARGS_SENT_BACK,
        "spans.chat model #2.attributes_raw.mlflow.chat.tokenUsage": ARGS_SENT_BACK,
        "info.trace_metadata.mlflow.trace.tokenUsage": ARGS_SENT_BACK + ", summed into the trace",
    },
}
# Seen only on a tracking server, which prices spans with token usage when it
# stores them (translate_span_when_storing).
KNOWN_SERVER = {
    "tools": {
        "spans.chat model #2.attributes.mlflow.llm.cost.input_cost": "priced from the usage above",
        "spans.chat model #2.attributes.mlflow.llm.cost.total_cost": "as above",
        "spans.chat model #2.attributes_raw.mlflow.llm.cost": "as above",
        "info.trace_metadata.mlflow.trace.cost": "as above, summed into the trace",
    },
}


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return harness.go_build("conformance/cmd/langchaintraces", tmp_path_factory.mktemp("gobin"))


def run_go(binary, fake, uri: str, cwd) -> dict[str, str]:
    return harness.run_scenarios([str(binary)], cwd, SCENARIOS, MLFLOW_TRACKING_URI=uri, LLMTEST_URL=fake.url)


def run_python(fake, uri: str, cwd) -> dict[str, str]:
    return harness.run_scenarios([sys.executable, str(WORKFLOW)], cwd, SCENARIOS, MLFLOW_TRACKING_URI=uri,
                                 LLMTEST_URL=fake.url, MLFLOW_ALLOW_FILE_STORE="true")


_CALL_ID = re.compile(r"call_[0-9a-f]{24}")


def same_request(body: str) -> dict:
    """A chat completion request with what the two clients send differently
    for the same request normalised: ChatOpenAI always sends "stream": false
    (the API's default), langchaingo leaves it out; langchaingo sends an
    assistant message's absent content next to tool calls as "", ChatOpenAI as
    null; tool-call arguments are compared as JSON values (ChatOpenAI
    re-serialises them, see ARGS_SENT_BACK); tool-call ids, derived by the fake
    from the request, as "<call N>"."""
    ids: dict[str, str] = {}
    req = json.loads(_CALL_ID.sub(lambda m: ids.setdefault(m.group(0), f"<call {len(ids) + 1}>"), body))
    if req.get("stream") is False:
        del req["stream"]
    for m in req.get("messages", []):
        if m.get("tool_calls") and m.get("content") == "":
            m["content"] = None
        for tc in m.get("tool_calls") or []:
            tc["function"]["arguments"] = json.loads(tc["function"]["arguments"])
    return req


def check_same_requests(go_reqs: list[dict], py_reqs: list[dict]) -> None:
    assert len(go_reqs) == len(py_reqs), (len(go_reqs), len(py_reqs))
    for g, p in zip(go_reqs, py_reqs):
        assert (g["path"], same_request(g["body"])) == (p["path"], same_request(p["body"]))


def normalized(uri: str, trace_id: str, root: str | None) -> dict:
    return compare.normalize(compare.normalize_langchain(harness.load_trace(uri, trace_id)), store_root=root)


def assert_parity(go_uri, py_uri, go_ids, py_ids, go_root=None, py_root=None, on_server=False) -> None:
    failures = []
    for scenario, names in SCENARIOS.items():
        go = normalized(go_uri, go_ids[scenario], go_root)
        py = normalized(py_uri, py_ids[scenario], py_root)
        # Sanity: the workflow produced what it should, on both sides.
        for who, n in (("go", go), ("python", py)):
            assert not n["problems"], (scenario, who, n["problems"])
            assert n["span_order"] == names, (scenario, who, n["span_order"])
        known = dict(KNOWN.get(scenario, {}))
        if on_server:
            known.update(KNOWN_SERVER.get(scenario, {}))
        failures += compare.known_diff_failures(scenario, py, go, known)
    assert not failures, "\n\n".join(failures)


def test_langchain_parity_local_store(tmp_path, binary, llm_fake):
    go_dir, py_dir = tmp_path / "go", tmp_path / "py"
    go_dir.mkdir()
    py_dir.mkdir()
    go_root, py_root = go_dir / "mlruns", py_dir / "mlruns"
    llm_fake.reset()
    go_ids = run_go(binary, llm_fake, go_root.as_uri(), go_dir)
    go_reqs = llm_fake.requests()
    llm_fake.reset()
    py_ids = run_python(llm_fake, py_root.as_uri(), py_dir)
    check_same_requests(go_reqs, llm_fake.requests())
    assert_parity(str(go_root), str(py_root), go_ids, py_ids, str(go_root), str(py_root))


def test_langchain_parity_server(tmp_path, binary, llm_fake, parity_server):
    llm_fake.reset()
    go_ids = run_go(binary, llm_fake, parity_server.url, tmp_path)
    py_ids = run_python(llm_fake, parity_server.url, tmp_path)
    assert_parity(parity_server.url, parity_server.url, go_ids, py_ids, on_server=True)
