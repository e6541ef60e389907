"""Real-browser check of LLM client tracing: a trace made by
examples/openai-agent (the OpenAI client instrumented with
mlflowopenai.RequestOption, run offline against the fake OpenAI API, with an
empty MLflow environment, so it writes ./mlruns) is shown by MLflow's own UI,
served by `mlflow server` from that ./mlruns, in headless Chromium: the trace
view's chat shows the user's question, the assistant's tool calls
(get_weather, get_local_time), the tool results and the assistant's answer,
and lists the CHAT_MODEL spans of the instrumented client with their token
counts. A trace whose only span is an instrumented chat completion with tool
calls (conformance/cmd/llmtraces) is shown as a chat too: the span's own
inputs and outputs, read through mlflow.message.format "openai" — for
openai-go and for go-openai (autoinstrument/goopenai; plain and streamed). So
are the traces of an Eino ReAct agent (conformance/cmd/einotraces,
autoinstrument/eino) and of a Genkit flow (autoinstrument/genkit's
internal/genkittraces): their chat model spans' messages (formats "eino" and
"genkit", MLflow's chat shape) are shown as a chat with the tool call. The
same for Gemini: examples/gemini-agent's trace, and a bare instrumented
generate_content with a function call and its result (mlflow.message.format
"gemini").

Screenshots are kept in $MLFLOWTRACE_ARTIFACTS_DIR, or a fresh temporary
directory (tests write nothing into the source tree); their paths are
printed. Uses the helpers of test_browser.py.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import tempfile

import pytest

from parity import fakellm, harness
from test_browser import chromium, chromium_path, page_text

ARTIFACTS = pathlib.Path(os.environ.get("MLFLOWTRACE_ARTIFACTS_DIR") or tempfile.mkdtemp(prefix="mlflowtrace-screens-"))
QUESTION = "What's the weather and the local time in Paris?"
ANSWER_START = "Here is what I found."


@pytest.fixture(scope="module")
def gobin(tmp_path_factory):
    d = tmp_path_factory.mktemp("gobin")
    return {
        "agent": harness.go_build("examples/openai-agent", d),
        "llmtraces": harness.go_build("conformance/cmd/llmtraces", d),
        "gemini-agent": harness.go_build("examples/gemini-agent", d),
        "geminitraces": harness.go_build("conformance/cmd/geminitraces", d),
        "fakellm": fakellm.build(d),
    }


def trace_view(base_url: str, trace_id: str) -> str:
    return (f"{base_url}/#/experiments/0/traces?selectedEvaluationId={trace_id}&traceId={trace_id}"
            "&compareRunsMode=TRACES")


def shoot(url: str, workdir, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = workdir / name
    chromium(url, workdir, screenshot=shot, budget_ms=30000)
    kept = ARTIFACTS / name
    shutil.copyfile(shot, kept)
    print(f"screenshot: {kept}")
    return str(kept)


def test_openai_agent_trace_in_mlflow_ui(tmp_path, gobin):
    chromium_path()
    with fakellm.FakeLLM(gobin["fakellm"]) as fake:
        env = harness.clean_env(OPENAI_BASE_URL=fake.openai_base_url, OPENAI_API_KEY=fakellm.OPENAI_KEY)
        res = harness.run([str(gobin["agent"])], env=env, cwd=tmp_path)  # no MLFLOW_*: ./mlruns
        m = re.search(r"(?m)^Trace (tr-[0-9a-f]{32})$", res.stdout)
        assert m, res.stdout
        agent_trace = m.group(1)
        # A bare instrumented chat completion with tool calls, in the same store.
        res = harness.run([str(gobin["llmtraces"]), "openai_chat_tools"], cwd=tmp_path,
                          env=harness.clean_env(LLMTEST_URL=fake.url, MLFLOW_TRACKING_URI=str(tmp_path / "mlruns")))
        chat_trace = harness.trace_id_from_stdout(res.stdout)
    assert (tmp_path / "mlruns" / "0" / "traces" / agent_trace).is_dir()

    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        # What MLflow's client reads: the agent, the instrumented model calls, the tools.
        t = harness.load_trace(server.url, agent_trace)
        spans = {s["name"] + ":" + s["attributes"]["mlflow.spanType"] for s in t["data"]["spans"]}
        assert spans == {'openai_agent:"AGENT"', 'Completions:"CHAT_MODEL"', 'get_weather:"TOOL"', 'get_local_time:"TOOL"'}

        must = [QUESTION, "get_weather", "get_local_time", "Tool calls", ANSWER_START, "Completions"]
        url = trace_view(server.url, agent_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, "openai-agent-trace.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the trace view: {missing} (screenshot {shot}):\n{text[:3000]}"
        assert re.search(r"\bUser\b", text) and re.search(r"\bAssistant\b", text), f"no chat roles ({shot})"
        # The token counts of the instrumented calls are shown in the span tree and trace header.
        usage = t["info"]["trace_metadata"]["mlflow.trace.tokenUsage"]
        assert f"{__import__('json').loads(usage)['total_tokens']} tokens" in text, f"trace token count ({shot})"

        assert_chat_view(server.url, chat_trace, tmp_path, "openai-chat-span.png")


def assert_chat_view(base_url: str, trace_id: str, workdir, shot_name: str) -> None:
    """The trace view shows a lone chat completion span with tool calls as a chat."""
    must = [QUESTION, "get_weather", "get_local_time", "Tool calls", "You are a travel assistant."]
    url = trace_view(base_url, trace_id)
    text = page_text(url, workdir, must)
    shot = shoot(url, workdir, shot_name)
    missing = [s for s in must if s not in text]
    assert not missing, f"not in the chat completion's view: {missing} (screenshot {shot}):\n{text[:3000]}"


def test_goopenai_chat_trace_in_mlflow_ui(tmp_path, gobin):
    """go-openai's calls (autoinstrument/goopenai), plain and streamed, in the chat view."""
    chromium_path()
    scenarios = ["goopenai_chat_tools", "goopenai_chat_tools_stream"]
    with fakellm.FakeLLM(gobin["fakellm"]) as fake:
        ids = harness.run_scenarios([str(gobin["llmtraces"]), *scenarios], tmp_path, scenarios,
                                    LLMTEST_URL=fake.url, MLFLOW_TRACKING_URI=str(tmp_path / "mlruns"))
    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        for name in scenarios:
            t = harness.load_trace(server.url, ids[name])
            (span,) = t["data"]["spans"]
            assert (span["name"], span["attributes"]["mlflow.spanType"]) == ("Completions", '"CHAT_MODEL"'), name
            assert "mlflow.chat.tokenUsage" in span["attributes"], name
            assert_chat_view(server.url, ids[name], tmp_path, f"{name.replace('_', '-')}.png")


# ---- Gemini: examples/gemini-agent and a bare instrumented generate_content ----

def test_gemini_agent_trace_in_mlflow_ui(tmp_path, gobin):
    """examples/gemini-agent (google.golang.org/genai through mlflowgenai.NewClient),
    run offline against the fake Gemini API with only GEMINI_API_KEY and
    GOOGLE_GEMINI_BASE_URL set, writes ./mlruns; MLflow's UI shows its trace as a
    chat with the function calls. A trace whose only span is an instrumented
    generate_content with a function call and its response in the contents
    (cmd/geminitraces gemini_tool_result) is shown as a chat through
    mlflow.message.format "gemini": question, tool call, tool result, answer."""
    chromium_path()
    with fakellm.FakeLLM(gobin["fakellm"]) as fake:
        env = harness.clean_env(GEMINI_API_KEY="gemini-test-key", GOOGLE_GEMINI_BASE_URL=fake.url,
                                GOOGLE_API_KEY="", GOOGLE_GENAI_USE_VERTEXAI="")
        res = harness.run([str(gobin["gemini-agent"])], env=env, cwd=tmp_path)  # no MLFLOW_*: ./mlruns
        m = re.search(r"(?m)^Trace (tr-[0-9a-f]{32})$", res.stdout)
        assert m, res.stdout
        agent_trace = m.group(1)
        res = harness.run([str(gobin["geminitraces"]), "gemini_tool_result"], cwd=tmp_path,
                          env=harness.clean_env(LLMTEST_URL=fake.url, MLFLOW_TRACKING_URI=str(tmp_path / "mlruns")))
        call_trace = harness.trace_id_from_stdout(res.stdout)

    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        t = harness.load_trace(server.url, agent_trace)
        spans = {s["name"] + ":" + s["attributes"]["mlflow.spanType"] for s in t["data"]["spans"]}
        assert spans == {'gemini_agent:"AGENT"', 'Chat.send_message:"CHAT_MODEL"', 'Models.generate_content:"LLM"',
                         'get_weather:"TOOL"', 'get_local_time:"TOOL"'}
        for s in t["data"]["spans"]:
            if s["name"] in ("Chat.send_message", "Models.generate_content"):
                assert s["attributes"]["mlflow.llm.model"] == '"gemini-2.5-flash"'
                assert s["attributes"]["mlflow.llm.provider"] == '"gemini"'

        must = [QUESTION, "get_weather", "get_local_time", "Tool calls", ANSWER_START, "Chat.send_message",
                "Models.generate_content"]
        url = trace_view(server.url, agent_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, "gemini-agent-trace.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the trace view: {missing} (screenshot {shot}):\n{text[:3000]}"
        usage = t["info"]["trace_metadata"]["mlflow.trace.tokenUsage"]
        assert f"{__import__('json').loads(usage)['total_tokens']} tokens" in text, f"trace token count ({shot})"

        must = ["What's the weather in Paris?", "get_weather", "Tool calls", "sunny", ANSWER_START]
        url = trace_view(server.url, call_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, "gemini-generate-content-span.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the generate_content view: {missing} (screenshot {shot}):\n{text[:3000]}"


@pytest.fixture(scope="module")
def framework_bins(tmp_path_factory):
    d = tmp_path_factory.mktemp("gobin-frameworks")
    return {
        "eino": harness.go_build("conformance/cmd/einotraces", d),
        "genkit": harness.go_build("internal/genkittraces", d, module="autoinstrument/genkit"),
        "fakellm": fakellm.build(d),
    }


@pytest.mark.parametrize("framework,spans,model_span", [
    ("eino", {'weather_agent:"AGENT"', 'ChatModel:"CHAT_MODEL"', 'Tools:"CHAIN"', 'get_weather:"TOOL"'}, "OpenAIChatModel"),
    ("genkit", {'weatherFlow:"CHAIN"', 'generate:"CHAIN"', 'openai/gpt-4o-mini:"CHAT_MODEL"', 'get_weather:"TOOL"'},
     "openai/gpt-4o-mini"),
])
def test_framework_trace_in_mlflow_ui(tmp_path, framework_bins, framework, spans, model_span):
    chromium_path()
    question = "What's the weather in Paris?"
    binary = str(framework_bins[framework])
    with fakellm.FakeLLM(framework_bins["fakellm"]) as fake:
        env = harness.clean_env(LLMTEST_URL=fake.url)  # no MLFLOW_*: ./mlruns
        agent_trace = harness.trace_id_from_stdout(harness.run([binary, "agent"], cwd=tmp_path, env=env).stdout)
        chat_trace = harness.trace_id_from_stdout(harness.run([binary, "chat"], cwd=tmp_path, env=env).stdout)
    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        t = harness.load_trace(server.url, agent_trace)
        got = {s["name"] + ":" + s["attributes"]["mlflow.spanType"] for s in t["data"]["spans"]}
        assert got == spans
        for s in t["data"]["spans"]:
            if s["attributes"]["mlflow.spanType"] == '"CHAT_MODEL"':
                assert s["attributes"]["mlflow.llm.model"] == '"gpt-4o-mini"'
                assert s["attributes"]["mlflow.llm.provider"] == '"openai"'
                assert s["attributes"]["mlflow.message.format"] == f'"{framework}"'

        # The agent's trace: its spans, and the root's question and answer.
        must = [question, "get_weather", "18°C and sunny in Paris"]
        url = trace_view(server.url, agent_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, f"{framework}-agent-trace.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the {framework} trace view: {missing} (screenshot {shot}):\n{text[:3000]}"
        usage = t["info"]["trace_metadata"]["mlflow.trace.tokenUsage"]
        assert f"{__import__('json').loads(usage)['total_tokens']} tokens" in text, f"trace token count ({shot})"

        # A model call alone: the chat model span's own messages, with the
        # tool call and its result, as a chat.
        t = harness.load_trace(server.url, chat_trace)
        assert [s["name"] for s in t["data"]["spans"]] == [model_span]
        must = [question, "You are a travel assistant.", "get_weather", "Tool calls", "18°C and sunny in Paris"]
        url = trace_view(server.url, chat_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, f"{framework}-chat-span.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the {framework} chat span's view: {missing} (screenshot {shot}):\n{text[:3000]}"


# ---- Bedrock: examples/bedrock-agent (aws-sdk-go-v2 + mlflowbedrock.ClientOption) ----

@pytest.fixture(scope="module")
def bedrock_bin(tmp_path_factory):
    d = tmp_path_factory.mktemp("bedrockbin")
    return {
        "agent": harness.go_build("examples/bedrock-agent", d),
        "bedrocktraces": harness.go_build("conformance/cmd/bedrocktraces", d),
        "fakellm": fakellm.build(d),
    }


def aws_env(fake, workdir, **extra: str) -> dict:
    """The standard AWS variables for the fake Bedrock Runtime, and nothing
    from this machine's AWS setup; no MLFLOW_* (so ./mlruns)."""
    return harness.clean_env(
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake.url, AWS_ACCESS_KEY_ID=fakellm.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=fakellm.AWS_SECRET_ACCESS_KEY, AWS_REGION=fakellm.AWS_REGION,
        AWS_CONFIG_FILE=str(workdir / "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(workdir / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true", **extra)


def test_bedrock_agent_trace_in_mlflow_ui(tmp_path, bedrock_bin):
    """The examples/bedrock-agent trace (Converse with tools through the
    instrumented aws-sdk-go-v2 client) in MLflow's UI: the agent's chat, and
    a trace whose only span is an instrumented Converse call with tool use,
    shown as a chat through mlflow.message.format "bedrock" (the UI's Bedrock
    Converse reader: the user's message, the assistant's text and tool
    calls)."""
    chromium_path()
    with fakellm.FakeLLM(bedrock_bin["fakellm"]) as fake:
        res = harness.run([str(bedrock_bin["agent"])], env=aws_env(fake, tmp_path), cwd=tmp_path)
        m = re.search(r"(?m)^Trace (tr-[0-9a-f]{32})$", res.stdout)
        assert m, res.stdout
        agent_trace = m.group(1)
        res = harness.run([str(bedrock_bin["bedrocktraces"]), "converse_tools"], cwd=tmp_path,
                          env=harness.clean_env(LLMTEST_URL=fake.url, MLFLOW_TRACKING_URI=str(tmp_path / "mlruns")))
        converse_trace = harness.trace_id_from_stdout(res.stdout)
    assert (tmp_path / "mlruns" / "0" / "traces" / agent_trace).is_dir()

    with harness.MlflowServer(tmp_path / "server", backend=str(tmp_path / "mlruns")) as server:
        t = harness.load_trace(server.url, agent_trace)
        spans = [s["name"] + ":" + s["attributes"]["mlflow.spanType"] for s in t["data"]["spans"]]
        assert spans == ['bedrock_agent:"AGENT"', 'BedrockRuntime.converse:"CHAT_MODEL"', 'get_weather:"TOOL"',
                         'get_local_time:"TOOL"', 'BedrockRuntime.converse:"CHAT_MODEL"'], spans

        must = [QUESTION, "get_weather", "get_local_time", "Tool calls", ANSWER_START, "BedrockRuntime.converse"]
        url = trace_view(server.url, agent_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, "bedrock-agent-trace.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the trace view: {missing} (screenshot {shot}):\n{text[:3000]}"
        assert re.search(r"\bUser\b", text) and re.search(r"\bAssistant\b", text), f"no chat roles ({shot})"
        usage = t["info"]["trace_metadata"]["mlflow.trace.tokenUsage"]
        assert f"{__import__('json').loads(usage)['total_tokens']} tokens" in text, f"trace token count ({shot})"

        # A bare Converse span: its Bedrock messages read as a chat.
        must = [QUESTION, "I'll use the get_weather and get_local_time tool.", "get_weather", "get_local_time", "Tool calls"]
        url = trace_view(server.url, converse_trace)
        text = page_text(url, tmp_path, must)
        shot = shoot(url, tmp_path, "bedrock-converse-span.png")
        missing = [s for s in must if s not in text]
        assert not missing, f"not in the Converse span's view: {missing} (screenshot {shot}):\n{text[:3000]}"
        assert re.search(r"\bUser\b", text) and re.search(r"\bAssistant\b", text), f"no chat roles ({shot})"
