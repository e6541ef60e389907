"""Parity of Bedrock tracing: the same Bedrock Runtime calls made through
aws-sdk-go-v2's bedrockruntime client instrumented by autoinstrument/bedrock
(conformance/cmd/bedrocktraces) and through boto3 under MLflow's
mlflow.bedrock.autolog() (conformance/parity/bedrock_workflow.py), against
the same fake Bedrock Runtime (internal/llmtest). Each scenario's two traces
are loaded with MlflowClient.get_trace and compared field by field after
compare.normalize and compare.normalize_llm (compare.py says what is
normalised and why).

What still differs is listed in KNOWN, per scenario, with the reason: each
listed difference must be present (so the list stays true) and nothing else
may differ. Runs against the local store and a real `mlflow server` 3.17.2.
"""

from __future__ import annotations

import sys

import pytest

from parity import compare, harness
from test_llm_parity import check_same_requests, normalized

WORKFLOW = harness.MODULE_ROOT / "conformance" / "parity" / "bedrock_workflow.py"

# scenario -> the trace's only span.
SCENARIOS = {
    "converse": "BedrockRuntime.converse",
    "converse_tools": "BedrockRuntime.converse",
    "converse_tool_result": "BedrockRuntime.converse",
    "converse_stream": "BedrockRuntime.converse_stream",
    "converse_tools_stream": "BedrockRuntime.converse_stream",
    "converse_cache": "BedrockRuntime.converse",
    "converse_error": "BedrockRuntime.converse",
    "invoke_anthropic": "BedrockRuntime.invoke_model",
    "invoke_anthropic_stream": "BedrockRuntime.invoke_model_with_response_stream",
    "invoke_nova": "BedrockRuntime.invoke_model",
    "invoke_nova_stream": "BedrockRuntime.invoke_model_with_response_stream",
    "invoke_llama": "BedrockRuntime.invoke_model",
    "invoke_titan": "BedrockRuntime.invoke_model",
    "invoke_cohere": "BedrockRuntime.invoke_model",
    "invoke_titan_embed": "BedrockRuntime.invoke_model",
}



def usage_added(span: str, why: str) -> dict[str, str]:
    """Go records token usage MLflow does not find (why)."""
    return {
        f"spans.{span}.attributes.mlflow.chat.tokenUsage": why,
        f"spans.{span}.attributes_raw.mlflow.chat.tokenUsage": "as above",
        "info.trace_metadata.mlflow.trace.tokenUsage": "as above, summed into the trace",
    }


def cost_added(span: str) -> dict[str, str]:
    """The server prices the usage only Go records (usage_added)."""
    return {
        f"spans.{span}.attributes.mlflow.llm.cost": "the server prices the Go span's usage (see the usage above)",
        f"spans.{span}.attributes_raw.mlflow.llm.cost": "as above",
        "info.trace_metadata.mlflow.trace.cost": "as above, summed into the trace",
    }


HEADERS = ("MLflow reads usage only from the body's usage members (Titan reports inputTextTokenCount and results[].tokenCount, "
           "Cohere nothing); Go falls back to the counts Bedrock sends in the X-Amzn-Bedrock-Input-Token-Count and "
           "-Output-Token-Count headers")
METRICS = ("MLflow gathers a streamed invocation's usage only from chunks with a top-level usage (Anthropic's); Nova's "
           "chunks carry it under metadata, so Go falls back to the amazon-bedrock-invocationMetrics of the final chunk")
INVOKE = "BedrockRuntime.invoke_model"
INVOKE_STREAM = "BedrockRuntime.invoke_model_with_response_stream"

KNOWN: dict[str, dict[str, str]] = {
    "converse_tools_stream": {
        "spans.BedrockRuntime.converse_stream.attributes.mlflow.spanOutputs.output.message.content":
            "MLflow's _ConverseMessageBuilder keeps one text block and only the last toolUse block, its input the "
            "streamed JSON text; Go keeps every content block in order, each toolUse input parsed, as Converse answers",
    },
    "invoke_nova_stream": usage_added(INVOKE_STREAM, METRICS),
    "invoke_titan": usage_added(INVOKE, HEADERS),
    "invoke_cohere": usage_added(INVOKE, HEADERS),
    "invoke_titan_embed": usage_added(INVOKE, HEADERS.replace("Titan reports", "Titan embeddings report").replace(
        " and results[].tokenCount, Cohere nothing", "")),
}
# Seen only on a tracking server, which prices spans with token usage when it
# stores them (translate_span_when_storing).
KNOWN_SERVER: dict[str, dict[str, str]] = {
    "invoke_nova_stream": cost_added(INVOKE_STREAM),
    "invoke_titan": cost_added(INVOKE),
    "invoke_cohere": cost_added(INVOKE),
    "invoke_titan_embed": cost_added(INVOKE),
}


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    d = tmp_path_factory.mktemp("gobin")
    return {"bedrocktraces": harness.go_build("conformance/cmd/bedrocktraces", d)}


# The fake and the server are the session's (conftest.py).
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


def assert_parity(go_uri, py_uri, go_ids, py_ids, go_root=None, py_root=None, on_server=False) -> None:
    failures = compare.scenario_failures(SCENARIOS, lambda s: normalized(go_uri, go_ids[s], go_root),
                                         lambda s: normalized(py_uri, py_ids[s], py_root),
                                         KNOWN, KNOWN_SERVER if on_server else None)
    assert not failures, "\n\n".join(failures)


def test_bedrock_parity_local_store(tmp_path, gobin, fake):
    go_dir, py_dir = tmp_path / "go", tmp_path / "py"
    go_dir.mkdir()
    py_dir.mkdir()
    go_root, py_root = go_dir / "mlruns", py_dir / "mlruns"
    fake.reset()
    go_ids = run_go(gobin["bedrocktraces"], fake, go_root.as_uri(), go_dir)
    go_reqs = fake.requests()
    fake.reset()
    py_ids = run_python(fake, py_root.as_uri(), py_dir)
    check_same_requests(fake, go_reqs, fake.requests())
    assert_parity(str(go_root), str(py_root), go_ids, py_ids, str(go_root), str(py_root))


def test_bedrock_parity_server(tmp_path, gobin, fake, server):
    fake.reset()
    go_ids = run_go(gobin["bedrocktraces"], fake, server.url, tmp_path)
    fake.reset()
    py_ids = run_python(fake, server.url, tmp_path)
    assert_parity(server.url, server.url, go_ids, py_ids, on_server=True)
