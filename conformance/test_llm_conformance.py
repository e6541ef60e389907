"""MLflow reads the traces that package autoinstrument records of LLM calls
(conformance/cmd/llmtraces: openai-go and anthropic-sdk-go against the fake
APIs) as it reads its own: MLflow's client loads them from a real
`mlflow server` 3.17.2 and from the local store; the span types, token usage
(span and trace), tools (MLflow's ChatTool model) and model are what MLflow
expects; and MLflow's own chat parsing for the span's message format (the
converters of mlflow.tracing.export.genai_semconv, and
mlflow.anthropic.chat.convert_message_to_mlflow_chat) reads the user,
assistant and tool-call messages out of the inputs and outputs. With content
capture off, inputs, outputs and chunk events are absent and the metadata
remains.
"""

from __future__ import annotations

import json

import pytest
from mlflow.anthropic.chat import convert_message_to_mlflow_chat
from mlflow.entities import Trace
from mlflow.tracing.export.genai_semconv.translator import _get_converter
from mlflow.types.chat import ChatTool

from parity import fakellm, harness

QUESTION = "What's the weather and the local time in Paris?"

EXPECT = {
    # scenario: (span name, type, message format, model, tool calls in the answer)
    "openai_chat": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", []),
    "openai_chat_tools": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather", "get_local_time"]),
    "openai_chat_stream": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", []),
    "openai_chat_tools_stream": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather", "get_local_time"]),
    "openai_responses": ("Responses", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather"]),
    "openai_responses_stream": ("Responses", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather"]),
    "openai_embeddings": ("Embeddings", "EMBEDDING", None, "text-embedding-3-small", []),
    "openai_completion": ("Completions", "LLM", "openai", "gpt-3.5-turbo-instruct:20230824-v2", []),
    "openai_completion_stream": ("Completions", "LLM", "openai", "gpt-3.5-turbo-instruct", []),
    "anthropic_messages": ("Messages.create", "CHAT_MODEL", "anthropic", "claude-sonnet-4-6", []),
    "anthropic_tools": ("Messages.create", "CHAT_MODEL", "anthropic", "claude-sonnet-4-6", ["get_weather"]),
    "anthropic_tools_stream": ("Messages.create", "CHAT_MODEL", "anthropic", "claude-sonnet-4-6", ["get_weather"]),
    # go-openai (autoinstrument/goopenai)
    "goopenai_chat": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", []),
    "goopenai_chat_tools": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather", "get_local_time"]),
    "goopenai_chat_stream": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", []),
    "goopenai_chat_tools_stream": ("Completions", "CHAT_MODEL", "openai", "gpt-4o-mini-2024-07-18", ["get_weather", "get_local_time"]),
    "goopenai_embeddings": ("Embeddings", "EMBEDDING", None, "text-embedding-3-small", []),
}
ERRORS = ("openai_error", "goopenai_error")
USAGE = {"openai_chat", "openai_chat_tools", "openai_chat_stream", "openai_chat_tools_stream", "openai_responses",
         "openai_responses_stream", "openai_completion_stream", "anthropic_messages", "anthropic_tools",
         "anthropic_tools_stream", "goopenai_chat", "goopenai_chat_tools", "goopenai_chat_stream",
         "goopenai_chat_tools_stream"}
TOOLS = {"openai_chat_tools": 2, "openai_chat_tools_stream": 2, "openai_responses": 1, "openai_responses_stream": 1,
         "anthropic_tools": 1, "anthropic_tools_stream": 1, "goopenai_chat_tools": 2, "goopenai_chat_tools_stream": 2}


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    d = tmp_path_factory.mktemp("gobin")
    return {"llmtraces": harness.go_build("conformance/cmd/llmtraces", d), "fakellm": fakellm.build(d)}


@pytest.fixture(scope="module")
def fake(gobin):
    with fakellm.FakeLLM(gobin["fakellm"]) as f:
        yield f


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("server")) as s:
        yield s


def run_go(gobin, fake, cwd, **env) -> dict[str, str]:
    return harness.run_scenarios([str(gobin["llmtraces"])], cwd, LLMTEST_URL=fake.url, **env)


def get_trace(uri: str, trace_id: str) -> Trace:
    harness.load_trace(uri, trace_id)  # waits until complete
    import mlflow

    return mlflow.MlflowClient(tracking_uri=uri).get_trace(trace_id)


def chat_messages(fmt: str, inputs, outputs) -> tuple[list, list]:
    """The messages MLflow's own converter for fmt reads."""
    conv = _get_converter(fmt, inputs)
    return conv.convert_inputs(inputs) or [], conv.convert_outputs(outputs) or []


def tool_call_names(messages: list) -> list[str]:
    return [p["name"] for m in messages for p in m["parts"] if p.get("type") == "tool_call"]


def check_trace(scenario: str, trace: Trace) -> None:
    name, typ, fmt, model, calls = EXPECT[scenario]
    assert trace.info.state.value == "OK", scenario
    spans = trace.data.spans
    assert len(spans) == 1, (scenario, [s.name for s in spans])
    span = spans[0]
    assert (span.name, span.span_type) == (name, typ), scenario
    assert span.get_attribute("mlflow.message.format") == fmt, scenario
    assert span.get_attribute("mlflow.llm.model") == model, scenario
    usage = span.get_attribute("mlflow.chat.tokenUsage")
    if scenario in USAGE:
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0, (scenario, usage)
        assert trace.info.token_usage["total_tokens"] == usage["total_tokens"], scenario
    else:
        assert usage is None, (scenario, usage)
    tools = span.get_attribute("mlflow.chat.tools")
    assert len(tools or []) == TOOLS.get(scenario, 0), scenario
    for t in tools or []:
        ChatTool.model_validate(t)
    if scenario.startswith(("openai_chat", "goopenai_chat")) and scenario.endswith("stream"):
        assert [e.name for e in span.events][:2] == ["mlflow.chunk.item.0", "mlflow.chunk.item.1"], scenario
    if fmt is None:
        return
    inputs, outputs = span.inputs, span.outputs
    if isinstance(outputs, str):  # a streamed legacy completion: its text
        assert outputs.strip().endswith("Say hello to Paris"), outputs
        return
    ins, outs = chat_messages(fmt, inputs, outputs)
    if scenario.startswith("openai_completion"):
        return  # the legacy API has a prompt, no chat messages
    users = [p["content"] for m in ins if m["role"] == "user" for p in m["parts"] if p["type"] == "text"]
    assert users == [QUESTION], (scenario, ins)
    assert outs and outs[0]["role"] == "assistant", (scenario, outs)
    assert tool_call_names(outs) == calls, (scenario, outs)
    if not calls:
        texts = [p["content"] for p in outs[0]["parts"] if p["type"] == "text"]
        assert texts == ["You said: " + QUESTION], (scenario, outs)
    if fmt == "anthropic":
        msg = convert_message_to_mlflow_chat(outputs)
        assert msg.role == "assistant"
        assert [tc.function.name for tc in msg.tool_calls or []] == calls
        assert all(json.loads(tc.function.arguments) == {"city": "Paris"} for tc in msg.tool_calls or [])


def check_error(trace: Trace) -> None:
    span = trace.data.spans[0]
    assert trace.info.state.value == "ERROR"
    assert span.status.status_code.value == "ERROR"
    ex = [e for e in span.events if e.name == "exception"]
    assert len(ex) == 1 and "does not exist" in ex[0].attributes["exception.message"]


@pytest.mark.parametrize("where", ["server", "local"])
def test_mlflow_reads_llm_traces(tmp_path, gobin, fake, where, request):
    if where == "server":
        uri = request.getfixturevalue("server").url
    else:
        uri = str(tmp_path / "mlruns")
    ids = run_go(gobin, fake, tmp_path, MLFLOW_TRACKING_URI=uri)
    assert set(ids) == set(EXPECT) | set(ERRORS)
    for scenario in EXPECT:
        check_trace(scenario, get_trace(uri, ids[scenario]))
    for scenario in ERRORS:
        check_error(get_trace(uri, ids[scenario]))


def test_content_capture_off(tmp_path, gobin, fake):
    uri = str(tmp_path / "mlruns")
    ids = run_go(gobin, fake, tmp_path, MLFLOW_TRACKING_URI=uri, MLFLOWTRACE_CAPTURE_CONTENT="false")
    for scenario in ("openai_chat_tools_stream", "openai_responses", "anthropic_tools"):
        span = get_trace(uri, ids[scenario]).data.spans[0]
        assert span.inputs is None and span.outputs is None, scenario
        assert not span.events, scenario
        assert span.get_attribute("instructions") is None, scenario
        assert span.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] > 0, scenario
        assert span.get_attribute("mlflow.chat.tools"), scenario
        assert span.get_attribute("mlflow.llm.model"), scenario
