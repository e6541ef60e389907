"""The parity workflow written with MLflow's own Python SDK.

Run: python workflow.py  (MLFLOW_TRACKING_URI set by the caller; a file store
needs MLFLOW_ALLOW_FILE_STORE=true). Prints one JSON line {"trace_id": ...}.
PARITY_LLM_MODEL and PARITY_LLM_PROVIDER replace the chat model's "fake-gpt"
and "fake" (a catalog model makes the span priced, test_databricks.py).
PARITY_SCOPE=1 adds mlflow.tracing.context scopes (test_parity.py).

conformance/cmd/parity/main.go does the same workflow through package
tracing; test_parity.py compares the two traces field by field. Keep the two in
step: same names, span types, inputs, outputs, attributes, errors.
"""

import json
import os
import sys

import mlflow
from mlflow.entities import SpanType

QUESTION = "What is the weather in Paris, in Fahrenheit?"
MODEL = os.environ.get("PARITY_LLM_MODEL") or "fake-gpt"
PROVIDER = os.environ.get("PARITY_LLM_PROVIDER") or "fake"
# PARITY_SCOPE=1 runs the agent inside two nested mlflow.tracing.context
# scopes (trace options) and calls traced functions where tracing is off.
SCOPE = os.environ.get("PARITY_SCOPE") == "1"


@mlflow.trace(name="plan", span_type=SpanType.CHAIN)
def plan(question):
    return {"steps": ["chat", "get_weather", "convert_units", "search_docs"]}


def chat_model(messages):
    with mlflow.start_span(name="chat_model", span_type=SpanType.CHAT_MODEL) as span:
        span.set_inputs({"messages": messages, "model": MODEL, "temperature": 0})
        span.set_attributes(
            {
                "mlflow.message.format": "openai",
                "mlflow.llm.model": MODEL,
                "mlflow.llm.provider": PROVIDER,
                "mlflow.chat.tokenUsage": {
                    "input_tokens": 12,
                    "output_tokens": 8,
                    "total_tokens": 20,
                },
            }
        )
        out = {
            "choices": [
                {
                    "finish_reason": "tool_calls",
                    "index": 0,
                    "message": {
                        "content": "I will look up the weather.",
                        "role": "assistant",
                    },
                }
            ],
            "model": MODEL,
            "usage": {"completion_tokens": 8, "prompt_tokens": 12, "total_tokens": 20},
        }
        span.set_outputs(out)
        return out


@mlflow.trace(name="get_weather", span_type=SpanType.TOOL)
def get_weather(city):
    return {"city": city, "conditions": "sunny", "temp_c": 20}


class UnsupportedUnitError(Exception):
    pass


@mlflow.trace(name="convert_units", span_type=SpanType.TOOL)
def convert_units(unit, value):
    raise UnsupportedUnitError(f"unsupported unit: {unit}")


def search_docs(query):
    with mlflow.start_span(name="search_docs", span_type=SpanType.RETRIEVER) as span:
        span.set_inputs({"query": query})
        docs = [
            {
                "id": "doc-1",
                "metadata": {"doc_uri": "https://example.com/paris", "score": 0.9},
                "page_content": "Paris is the capital of France.",
            },
            {
                "id": "doc-2",
                "metadata": {"doc_uri": "https://example.com/weather", "score": 0.5},
                "page_content": "Weather forecasts are estimates.",
            },
        ]
        span.set_outputs(docs)
        return docs


@mlflow.trace(name="agent", span_type=SpanType.AGENT)
def agent(messages):
    mlflow.update_current_trace(
        tags={"app": "parity", "env": "test"},
        metadata={"app.version": "1.2.3"},
        user="user-42",
        session_id="session-7",
    )
    question = messages[-1]["content"]
    plan(question)
    chat_model(messages)
    weather = get_weather("Paris")
    try:
        convert_units("kelvinish", weather["temp_c"])
    except UnsupportedUnitError:
        pass
    search_docs(question)
    if SCOPE:
        # Not recorded: tracing is off in this scope; the trace goes on.
        with mlflow.tracing.context(enabled=False):
            get_weather("Lyon")
    answer = "It is sunny and 20 degrees Celsius in Paris."
    return {"messages": messages + [{"content": answer, "role": "assistant"}]}


def main():
    if SCOPE:
        with mlflow.tracing.context(
            tags={"scope.tag": "t", "env": "scope"},
            metadata={"scope.key": "outer"},
            user="user-scope",
            session_id="session-scope",
        ):
            with mlflow.tracing.context(metadata={"scope.key": "inner", "scope.inner": "1"}):
                agent([{"content": QUESTION, "role": "user"}])
    else:
        agent([{"content": QUESTION, "role": "user"}])
    trace_id = mlflow.get_last_active_trace_id()
    if SCOPE:
        # No trace: tracing is off in this scope.
        with mlflow.tracing.context(enabled=False):
            plan("not traced")
    mlflow.flush_trace_async_logging()
    json.dump({"trace_id": trace_id}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
