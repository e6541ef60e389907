"""LLM cost on an MLflow tracking server: the server prices the LLM spans it
stores (mlflow.tracing.otel.translation.translate_span_when_storing:
calculate_cost_by_model_and_token_usage of mlflow.llm.model,
mlflow.llm.provider and mlflow.chat.tokenUsage) and sums them into the trace
(mlflow.trace.cost); MLflow's client sends no cost to it. This checks that the
Go traces of every LLM integration carry what the server needs:

- each scenario of PRICED (one line per integration scenario: the conformance
  command under conformance/cmd/ and its scenario name) is run against the
  fake LLM APIs (internal/llmtest) and a real `mlflow server` 3.17.2 (SQLite,
  the bundled model catalog: MLFLOW_MODEL_CATALOG_URI="", no download);
  UNPRICED lists the scenarios MLflow's own autolog records no token usage
  for, so that neither its trace nor Go's has a cost;
- read back with MlflowClient.get_trace, every span with a model and token
  usage has the span attribute mlflow.llm.cost, equal to MLflow's own function
  for its model, usage and provider, at least one span per scenario is
  priced, and the trace's TraceInfo.cost (metadata mlflow.trace.cost) is the
  sum MLflow's aggregation gives;
- the MLflow UI shows it: headless Chromium on the trace view finds the
  span's cost, as the UI formats it, in the span tree and the span header.
"""

from __future__ import annotations

import json
import os
import pytest

from parity import harness
from test_browser import chromium_path, page_text
from test_llm_browser import shoot

# (command under conformance/cmd/, scenario): every scenario of an LLM
# integration whose trace the server must price. A new integration adds a
# line per scenario; its command takes the scenario as its argument, reads
# LLMTEST_URL and prints the trace id last ({"trace_id": ...}, or the
# {"scenario", "trace_id"} line of conformance/internal/scenario).
PRICED = [
    ("llmtraces", "openai_chat"),
    ("llmtraces", "openai_chat_tools"),
    ("llmtraces", "openai_chat_stream"),
    ("llmtraces", "openai_chat_tools_stream"),
    ("llmtraces", "openai_responses"),
    ("llmtraces", "openai_responses_stream"),
    ("llmtraces", "openai_completion_stream"),
    ("llmtraces", "anthropic_messages"),
    ("llmtraces", "anthropic_tools"),
    ("llmtraces", "anthropic_tools_stream"),
    ("langchaintraces", "chat"),
    ("langchaintraces", "chain"),
    ("langchaintraces", "tools"),
    ("llmtraces", "goopenai_chat"),
    ("llmtraces", "goopenai_chat_tools"),
    ("llmtraces", "goopenai_chat_stream"),
    ("llmtraces", "goopenai_chat_tools_stream"),
    ("einotraces", "agent"),
    ("einotraces", "chat"),
    ("bedrocktraces", "converse_tools"),
    ("bedrocktraces", "converse_tools_stream"),
    ("bedrocktraces", "converse_cache"),
    ("bedrocktraces", "invoke_anthropic"),
    ("bedrocktraces", "invoke_nova_stream"),
    ("geminitraces", "gemini_generate"),
    ("geminitraces", "gemini_tools"),
    ("geminitraces", "gemini_tool_result"),
    ("geminitraces", "gemini_chat"),
    ("geminitraces", "vertex_tools"),
    ("genkittraces", "agent"),
    ("genkittraces", "chat"),
]
# Commands that are not under conformance/cmd/: (package, nested module).
NESTED = {"genkittraces": ("internal/genkittraces", "autoinstrument/genkit")}
# (command, scenario) -> why MLflow's autolog of the same call records no
# token usage (mlflow/openai/utils/chat_schema.py _parse_usage), so the
# server prices nothing, for the Python trace as for Go's.
UNPRICED = {
    ("llmtraces", "openai_embeddings"): "MLflow's OpenAI autolog records no usage for embeddings",
    ("llmtraces", "openai_completion"): "nor for a legacy Completion (only for its stream)",
    ("llmtraces", "goopenai_embeddings"): "go-openai is recorded as MLflow's OpenAI autolog records openai's calls",
    ("geminitraces", "gemini_embed"): "MLflow's Gemini autolog records no usage for embed_content",
    ("geminitraces", "gemini_count_tokens"): "nor for count_tokens",
}

# The server and this process price from the catalog MLflow 3.17.2 bundles.
BUNDLED_CATALOG = {"MLFLOW_MODEL_CATALOG_URI": ""}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with harness.MlflowServer(tmp_path_factory.mktemp("cost-server"), env=BUNDLED_CATALOG) as s:
        yield s


@pytest.fixture(scope="module")
def traces(server, llm_fake, tmp_path_factory) -> dict[tuple[str, str], str]:
    """Runs each scenario (one process each); (command, scenario) -> trace id."""
    gobin = tmp_path_factory.mktemp("gobin")
    binaries, ids = {}, {}
    for cmd, scenario in [*PRICED, *UNPRICED]:
        if cmd not in binaries:
            pkg, module = NESTED.get(cmd, (f"conformance/cmd/{cmd}", ""))
            binaries[cmd] = harness.go_build(pkg, gobin, module=module)
        llm_fake.reset()
        res = harness.run([str(binaries[cmd]), scenario], cwd=tmp_path_factory.mktemp(cmd),
                          env=harness.clean_env(MLFLOW_TRACKING_URI=server.url, LLMTEST_URL=llm_fake.url))
        ids[(cmd, scenario)] = harness.trace_id_from_stdout(res.stdout)
    return ids


def span_cost_expected(span) -> dict | None:
    from mlflow.tracing.utils import calculate_cost_by_model_and_token_usage

    return calculate_cost_by_model_and_token_usage(
        span.get_attribute("mlflow.llm.model"), span.get_attribute("mlflow.chat.tokenUsage"),
        span.get_attribute("mlflow.llm.provider"))


@pytest.mark.parametrize("cmd,scenario", PRICED, ids=[f"{c}:{s}" for c, s in PRICED])
def test_server_prices_go_trace(server, traces, cmd, scenario, monkeypatch):
    from mlflow.entities import Trace
    from mlflow.tracing.utils import SpanAggregationNode, aggregate_cost_from_span_nodes

    for k, v in BUNDLED_CATALOG.items():
        monkeypatch.setenv(k, v)
    trace = Trace.from_dict(harness.load_trace(server.url, traces[(cmd, scenario)]))
    priced = []
    for span in trace.data.spans:
        model, usage = span.get_attribute("mlflow.llm.model"), span.get_attribute("mlflow.chat.tokenUsage")
        cost = span.get_attribute("mlflow.llm.cost")
        if model and usage:
            want = span_cost_expected(span)
            assert want, f"{span.name}: model {model!r} provider {span.get_attribute('mlflow.llm.provider')!r} not in MLflow's catalog"
            assert cost == want, f"{span.name}: server stored {cost}, MLflow's function gives {want}"
            priced.append(span.name)
        else:
            assert cost is None, f"{span.name}: a cost without model and usage: {cost}"
    assert priced, f"no span of {cmd}:{scenario} has a model and token usage: " + \
        str({s.name: (s.get_attribute("mlflow.llm.model"), s.get_attribute("mlflow.chat.tokenUsage")) for s in trace.data.spans})
    nodes = [SpanAggregationNode(span_id=s.span_id, parent_id=s.parent_id, data=s.get_attribute("mlflow.llm.cost"))
             for s in trace.data.spans]
    assert trace.info.cost == aggregate_cost_from_span_nodes(nodes), trace.info.trace_metadata
    assert trace.info.cost["total_cost"] > 0


@pytest.mark.parametrize("cmd,scenario", list(UNPRICED), ids=[f"{c}:{s}" for c, s in UNPRICED])
def test_server_prices_no_usage(server, traces, cmd, scenario):
    from mlflow.entities import Trace

    trace = Trace.from_dict(harness.load_trace(server.url, traces[(cmd, scenario)]))
    for span in trace.data.spans:
        assert span.get_attribute("mlflow.chat.tokenUsage") is None, (span.name, UNPRICED[(cmd, scenario)])
        assert span.get_attribute("mlflow.llm.cost") is None, span.name
    assert trace.info.cost is None


def usd(x: float) -> str:
    """The MLflow UI's cost format: Intl.NumberFormat("en-US", {style:
    "currency", currency: "USD", minimumFractionDigits: 2,
    maximumFractionDigits: 6})."""
    s = f"{x:.6f}".rstrip("0")
    whole, frac = s.split(".")
    frac = frac.ljust(2, "0")
    return f"${int(whole):,}.{frac}"


def test_ui_shows_cost(server, traces, tmp_path):
    """The trace view of a priced Go trace (one priced chat span) shows the
    cost as the UI formats it ("$0.000459") next to the span in the span tree
    and in the span's header (model, tokens, cost)."""
    chromium_path()
    from mlflow.entities import Trace

    trace_id = traces[("llmtraces", "anthropic_tools")]
    trace = Trace.from_dict(harness.load_trace(server.url, trace_id))
    total = usd(trace.info.cost["total_cost"])
    exp = trace.info.experiment_id
    url = (f"{server.url}/#/experiments/{exp}/traces?selectedEvaluationId={trace_id}&traceId={trace_id}"
           "&compareRunsMode=TRACES")
    text = page_text(url, tmp_path, [total])
    shot = shoot(url, tmp_path, "llm-cost-trace.png")
    # The span tree and the selected span's header both show the cost.
    assert text.count(total) >= 2, f"the cost {total} is not shown twice in the trace view ({shot}):\n{text[-3000:]}"


def test_usd_format():
    assert usd(6.5999999999999995e-06) == "$0.000007"
    assert usd(0.0021000000000000003) == "$0.0021"
    assert usd(0.5) == "$0.50"
    assert usd(1234.5) == "$1,234.50"
