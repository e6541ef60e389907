"""Parity of LLM client tracing: the same calls made through the Go client
libraries instrumented by package autoinstrument
(conformance/cmd/llmtraces: openai-go, anthropic-sdk-go, go-openai) and
through MLflow's Python autolog (mlflow.openai.autolog,
mlflow.anthropic.autolog) with the `openai` and `anthropic` packages
(conformance/parity/llm_workflow.py), against the same fake APIs
(internal/llmtest). Each scenario's two traces are loaded with
MlflowClient.get_trace and compared field by field after compare.normalize
and compare.normalize_llm (compare.py says what is normalised and why).

What still differs is listed in KNOWN, per scenario, with the reason: each
listed difference must be present (so the list stays true) and nothing else
may differ. Runs against the local store and a real `mlflow server` 3.17.2.
"""

from __future__ import annotations

import json
import sys

import pytest

from parity import compare, harness

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "llm_workflow.py"

# scenario -> the span that is the trace's only span.
SCENARIOS = {
    "openai_chat": "Completions",
    "openai_chat_tools": "Completions",
    "openai_chat_stream": "Completions",
    "openai_chat_tools_stream": "Completions",
    "openai_responses": "Responses",
    "openai_responses_stream": "Responses",
    "openai_embeddings": "Embeddings",
    "openai_completion": "Completions",
    "openai_completion_stream": "Completions",
    "openai_error": "Completions",
    "goopenai_chat": "Completions",
    "goopenai_chat_tools": "Completions",
    "goopenai_chat_stream": "Completions",
    "goopenai_chat_tools_stream": "Completions",
    "goopenai_embeddings": "Embeddings",
    "goopenai_error": "Completions",
    "anthropic_messages": "Messages.create",
    "anthropic_tools": "Messages.create",
    "anthropic_tools_stream": "Messages.create",
}

STREAM_CHAT = ("MLflow 3.17's reconstruction of a streamed chat completion (_reconstruct_completion_from_stream) "
               "keeps only the first choice's text: Go keeps the service tier")
KNOWN = {
    "openai_chat_stream": {
        "spans.Completions.attributes.mlflow.spanOutputs.service_tier": STREAM_CHAT,
    },
    "openai_chat_tools_stream": {
        "spans.Completions.attributes.mlflow.spanOutputs.service_tier": STREAM_CHAT,
        "spans.Completions.attributes.mlflow.spanOutputs.choices[0].message.tool_calls":
            STREAM_CHAT + " and merges the tool-call deltas into tool calls",
        "spans.Completions.attributes.mlflow.spanOutputs.choices[0].finish_reason":
            "MLflow takes the finish reason of the last chunk, which with include_usage has no choices "
            "(so 'stop'); Go records the stream's finish reason ('tool_calls')",
    },
    "openai_error": {
        "spans.Completions.events[0].attributes.exception.type":
            "a Go type (openai.APIError) vs the Python SDK's exception class (NotFoundError)",
        "spans.Completions.events[0].attributes.exception.message":
            "Go: '404 Not Found: <message>'; the Python SDK: 'Error code: 404 - <message>'",
        "spans.Completions.status.message":
            "MLflow's OpenAI autolog ends a failed span with status ERROR and no message; "
            "Go records '<type>: <message>' as for every recorded error (tracing.Span.RecordError)",
    },
    "anthropic_tools_stream": {
        "spans.Messages.create.attributes.mlflow.spanOutputs":
            "MLflow's Anthropic autolog does not record streams (its docstring: 'Streaming is not recorded'): "
            "its outputs are the Python Stream object's repr; Go records the Message the events add up to",
        "spans.Messages.create.attributes.mlflow.chat.tokenUsage": "no usage without the streamed Message (as above)",
        "spans.Messages.create.attributes_raw.mlflow.chat.tokenUsage": "as above",
        "info.trace_metadata.mlflow.trace.tokenUsage": "as above, summed into the trace",
        "spans.Messages.create.attributes_raw.mlflow.spanInputs":
            "same value; Python records create()'s arguments in its signature order (stream before system), "
            "Go the request body, where the Go SDK appends 'stream' last",
        "info.trace_metadata.mlflow.traceInputs": "the first characters of the inputs text (as above)",
    },
}
# go-openai (autoinstrument/goopenai) is recorded by the same code as
# openai-go (internal/openaispan): the same differences.
for _go, _openai_go in (("goopenai_chat_stream", "openai_chat_stream"),
                        ("goopenai_chat_tools_stream", "openai_chat_tools_stream"),
                        ("goopenai_error", "openai_error")):
    KNOWN[_go] = KNOWN[_openai_go]
# Seen only on a tracking server, which prices spans with token usage when it
# stores them (translate_span_when_storing).
KNOWN_SERVER = {
    "anthropic_tools_stream": {
        "spans.Messages.create.attributes.mlflow.llm.cost": "the server prices the Go span's usage (see the usage above)",
        "spans.Messages.create.attributes_raw.mlflow.llm.cost": "as above",
        "info.trace_metadata.mlflow.trace.cost": "as above, summed into the trace",
    },
}


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    d = tmp_path_factory.mktemp("gobin")
    return {"llmtraces": harness.go_build("conformance/cmd/llmtraces", d)}


# The fake and the server are the session's (conftest.py), shared with
# test_langchain_parity.py.
@pytest.fixture(scope="module")
def fake(llm_fake):
    return llm_fake


@pytest.fixture(scope="module")
def server(parity_server):
    return parity_server


def run_go(binary, fake, uri: str, cwd) -> dict[str, str]:
    return harness.run_scenarios([str(binary)], cwd, SCENARIOS, MLFLOW_TRACKING_URI=uri, LLMTEST_URL=fake.url)


def run_python(fake, uri: str, cwd) -> dict[str, str]:
    return harness.run_scenarios([sys.executable, str(WORKFLOW)], cwd, SCENARIOS, MLFLOW_TRACKING_URI=uri,
                                 LLMTEST_URL=fake.url, MLFLOW_ALLOW_FILE_STORE="true")


def root_outputs_text(trace: dict) -> str | None:
    for s in trace["data"]["spans"]:
        if not s.get("parent_span_id"):
            return (s.get("attributes") or {}).get("mlflow.spanOutputs")
    return None


def normalized(uri: str, trace_id: str, root: str | None) -> dict:
    t = harness.load_trace(uri, trace_id)
    return compare.normalize_llm(compare.normalize(t, store_root=root), root_outputs_text(t))


def check_same_requests(fake, go_reqs: list[dict], py_reqs: list[dict]) -> None:
    """Both clients sent the same requests (same JSON values, in order)."""
    assert len(go_reqs) == len(py_reqs), (len(go_reqs), len(py_reqs))
    for g, p in zip(go_reqs, py_reqs):
        gb, pb = json.loads(g["body"]), json.loads(p["body"])
        if g["path"] == "/v1/embeddings":
            # The Python client asks for base64 and decodes it (it is not one
            # of create()'s recorded arguments).
            assert pb.pop("encoding_format", None) == "base64"
        assert (g["path"], gb) == (p["path"], pb)


def assert_parity(go_uri, py_uri, go_ids, py_ids, go_root=None, py_root=None, on_server=False) -> None:
    failures = compare.scenario_failures(SCENARIOS, lambda s: normalized(go_uri, go_ids[s], go_root),
                                         lambda s: normalized(py_uri, py_ids[s], py_root),
                                         KNOWN, KNOWN_SERVER if on_server else None)
    assert not failures, "\n\n".join(failures)


def test_llm_parity_local_store(tmp_path, gobin, fake):
    go_dir, py_dir = tmp_path / "go", tmp_path / "py"
    go_dir.mkdir()
    py_dir.mkdir()
    go_root, py_root = go_dir / "mlruns", py_dir / "mlruns"
    fake.reset()
    go_ids = run_go(gobin["llmtraces"], fake, go_root.as_uri(), go_dir)
    go_reqs = fake.requests()
    fake.reset()
    py_ids = run_python(fake, py_root.as_uri(), py_dir)
    check_same_requests(fake, go_reqs, fake.requests())
    assert_parity(str(go_root), str(py_root), go_ids, py_ids, str(go_root), str(py_root))


def test_llm_parity_server(tmp_path, gobin, fake, server):
    fake.reset()
    go_ids = run_go(gobin["llmtraces"], fake, server.url, tmp_path)
    py_ids = run_python(fake, server.url, tmp_path)
    assert_parity(server.url, server.url, go_ids, py_ids, on_server=True)
