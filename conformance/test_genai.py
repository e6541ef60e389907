"""OpenTelemetry GenAI spans: MLflow's server-side translation vs this SDK's.

conformance/cmd/genaispans writes one trace of spans from another
instrumentation scope with GenAI conventions (OpenTelemetry GenAI semantic
conventions incl. the older message events, Spring AI events, OpenInference,
Traceloop) and one plain HTTP span:

- raw: plain OpenTelemetry, spans sent over OTLP/HTTP straight to a real
  `mlflow server` 3.17.2, which translates them when it stores them
  (mlflow.tracing.otel.translation.translate_span_when_storing);
- go: the same spans through tracing.Init: this SDK translates them before
  export, to the same server (another experiment) and to the local store.

Each trace is loaded with MlflowClient.get_trace and compared span by span,
attribute by attribute (value and stored JSON text). Differences that remain,
and why:

- mlflow.spanLogLevel: this SDK gives every span of another scope the level
  MLflow's Python SDK derives at span end; spans sent raw have none;
- mlflow.spanType of the plain HTTP span: UNKNOWN here (this SDK's default
  for every span, as MLflow's Python SDK's), absent in the raw trace
  (Span.span_type reads None);
- mlflow.llm.cost and mlflow.trace.cost: computed by the server from token
  usage and model only; the local store has none (MLflow's Python SDK computes
  it client-side only for Databricks and SageMaker backends);
- trace info: a raw OTLP trace has no StartTraceV3 (no trace name tag, source
  or size metadata); previews, state, token usage and session are compared.
"""

from __future__ import annotations

import json

import pytest

from parity import compare, harness

EXPECTED_TYPES = {
    "invoke_agent travel_agent": "AGENT",
    "chat gpt-4o-mini": "CHAT_MODEL",
    "execute_tool get_weather": "TOOL",
    "execute_tool convert_units": "TOOL",
    "chat gpt-4o-mini (events)": "CHAT_MODEL",
    "chat llama3 (spring)": "CHAT_MODEL",
    "openinference llm": "LLM",
    "openinference retriever": "RETRIEVER",
    "traceloop task": "TASK",
    # No span kind: MLflow's LiveKit rule makes any span with
    # gen_ai.request.model an LLM span.
    "traceloop openai.chat": "LLM",
    "POST /v1/weather": "UNKNOWN",
}

# Span-level keys only one side has (see the module docstring).
SERVER_ONLY = {"mlflow.llm.cost"}
GO_ONLY = {"mlflow.spanLogLevel"}


@pytest.fixture(scope="module")
def genaispans(tmp_path_factory):
    return harness.go_build("conformance/cmd/genaispans", tmp_path_factory.mktemp("gobin"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("server")) as s:
        yield s


def write(binary, mode: str, tracking_uri: str, workdir, experiment_id: str | None = None) -> str:
    env = harness.clean_env(MLFLOW_TRACKING_URI=tracking_uri)
    if experiment_id is not None:
        env["MLFLOW_EXPERIMENT_ID"] = experiment_id
    res = harness.run([str(binary), "-mode", mode], env=env, cwd=workdir)
    return harness.trace_id_from_stdout(res.stdout)


@pytest.fixture(scope="module")
def raw_trace(genaispans, server, tmp_path_factory):
    """The trace as MLflow's server translates raw OTLP spans."""
    import mlflow

    exp = mlflow.MlflowClient(server.url).create_experiment("genai-raw-otlp")
    trace_id = write(genaispans, "otlp", server.url, tmp_path_factory.mktemp("raw"), exp)
    return harness.load_trace(server.url, trace_id)


def spans_by_name(trace: dict) -> dict:
    return {s["name"]: s for s in trace["data"]["spans"]}


def attrs(span: dict) -> dict:
    return {k: compare._json_or_raw(v) for k, v in (span.get("attributes") or {}).items()}


def check_translated(trace: dict, who: str, with_cost: bool) -> None:
    """What the translation must produce, read with MLflow's classes."""
    from mlflow.entities import Trace

    t = Trace.from_dict(trace)
    spans = {s.name: s for s in t.data.spans}
    assert set(spans) == set(EXPECTED_TYPES), who
    for name, want in EXPECTED_TYPES.items():
        # The raw plain span has no mlflow.spanType (reads None).
        assert (spans[name].span_type or "UNKNOWN") == want, f"{who}: {name}: {spans[name].span_type}"

    chat = spans["chat gpt-4o-mini"]
    assert chat.inputs[1]["parts"][0]["content"] == "Weather in Paris, in Fahrenheit?", who
    assert chat.outputs[0]["parts"][0]["name"] == "get_weather", who
    assert chat.get_attribute("mlflow.chat.tokenUsage") == {
        "input_tokens": 182, "output_tokens": 17, "total_tokens": 199, "cache_read_input_tokens": 128,
    }, who
    assert chat.get_attribute("mlflow.llm.model") == "gpt-4o-mini-2024-07-18", who
    assert chat.get_attribute("mlflow.llm.provider") == "openai", who
    assert chat.get_attribute("mlflow.chat.tools")[0]["name"] == "get_weather", who
    assert (chat.get_attribute("mlflow.llm.cost") is not None) == with_cost, who

    tool = spans["execute_tool get_weather"]
    assert tool.inputs == {"city": "Paris"} and tool.outputs["temp_c"] == 18, who
    failed = spans["execute_tool convert_units"]
    assert failed.status.status_code == "ERROR" and [e.name for e in failed.events] == ["exception"], who

    events = spans["chat gpt-4o-mini (events)"]
    assert [m["role"] for m in events.inputs] == ["system", "user", "assistant"], who
    assert events.outputs == [{"role": "assistant", "content": "It is 64°F and sunny in Paris."}], who
    spring = spans["chat llama3 (spring)"]
    assert (spring.inputs, spring.outputs) == ("Say hi to Paris", "Bonjour Paris!"), who

    oi = spans["openinference llm"]
    assert oi.inputs["messages"][0]["content"] == "hi" and oi.outputs == "Hello!", who
    assert oi.get_attribute("mlflow.chat.tokenUsage") == {
        "input_tokens": 8, "output_tokens": 3, "total_tokens": 11, "cache_read_input_tokens": 4,
    }, who
    assert spans["openinference retriever"].outputs[0]["page_content"].startswith("Paris"), who
    assert spans["traceloop openai.chat"].inputs == "Format 64F", who
    assert spans["POST /v1/weather"].inputs is None, who

    # Trace level: MLflow sums the top-most token usages.
    usage = t.info.token_usage
    assert usage["input_tokens"] == 182 + 240 + 12 + 8 + 5, f"{who}: {usage}"
    assert usage["output_tokens"] == 17 + 21 + 9 + 3 + 2, f"{who}: {usage}"
    assert t.info.request_preview == "Weather in Paris, in Fahrenheit?" or "Weather in Paris" in t.info.request_preview, who
    assert t.info.trace_metadata.get("mlflow.trace.session") == "conv-7", who


def span_view(trace: dict, drop: set) -> dict:
    """Spans by name: parent, status, events and every attribute (decoded and
    as stored), without the keys in drop and the run-specific request id."""
    norm = compare.normalize(trace)
    assert not norm["problems"], norm["problems"]
    out = {}
    for name, s in norm["spans"].items():
        s = json.loads(json.dumps(s))
        for k in drop:
            s["attributes"].pop(k, None)
            s["attributes_raw"].pop(k, None)
        out[name] = s
    return {"span_order": norm["span_order"], "spans": out}


def trace_view(trace: dict) -> dict:
    info = trace["info"]
    meta = info.get("trace_metadata") or {}
    return {
        "state": info.get("state"),
        "request_preview": info.get("request_preview"),
        "response_preview": info.get("response_preview"),
        "token_usage": json.loads(meta["mlflow.trace.tokenUsage"]) if "mlflow.trace.tokenUsage" in meta else None,
        "session": meta.get("mlflow.trace.session"),
    }


def assert_same_spans(raw: dict, go: dict, go_label: str, drop_raw: set, drop_go: set) -> None:
    a, b = span_view(raw, drop_raw), span_view(go, drop_go)
    # The plain HTTP span: this SDK writes the UNKNOWN MLflow assumes.
    http = b["spans"]["POST /v1/weather"]
    assert http["attributes"].pop("mlflow.spanType") == "UNKNOWN"
    http["attributes_raw"].pop("mlflow.spanType")
    diffs = compare.diff(a, b) + compare.diff(trace_view(raw), trace_view(go), "trace")
    assert not diffs, f"MLflow server (raw OTLP) and {go_label} differ:\n" + compare.format_diffs(diffs, "server", go_label)


def test_server_translates_raw_otlp(raw_trace):
    """The oracle itself: MLflow 3.17.2's server translates what genaispans sends."""
    check_translated(raw_trace, "raw OTLP", with_cost=True)


def test_genai_translation_server(genaispans, server, raw_trace, tmp_path):
    import mlflow

    exp = mlflow.MlflowClient(server.url).create_experiment("genai-mlflowtrace")
    trace_id = write(genaispans, "mlflowtrace", server.url, tmp_path, exp)
    go = harness.load_trace(server.url, trace_id)
    check_translated(go, "mlflowtrace -> server", with_cost=True)
    assert_same_spans(raw_trace, go, "mlflowtrace -> server", drop_raw=set(), drop_go=GO_ONLY)


def test_genai_translation_local_store(genaispans, raw_trace, tmp_path):
    root = tmp_path / "mlruns"
    trace_id = write(genaispans, "mlflowtrace", root.as_uri(), tmp_path)
    local = harness.load_trace(str(root), trace_id)
    check_translated(local, "mlflowtrace -> local store", with_cost=False)
    assert_same_spans(raw_trace, local, "local store", drop_raw=SERVER_ONLY, drop_go=GO_ONLY)
