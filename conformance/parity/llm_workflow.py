"""The LLM call scenarios of conformance/cmd/llmtraces, made with MLflow's
Python autolog (mlflow.openai.autolog, mlflow.anthropic.autolog) and the
`openai` / `anthropic` packages against the same fake APIs (LLMTEST_URL).
Each scenario is one call, one trace. Keep the requests identical to the Go
program's: the same members, in the order the Go SDKs serialise them
(MLflow records the keyword arguments in the order they are passed; the
fake checks both clients sent the same JSON value).

Destination: MLFLOW_TRACKING_URI. Prints one JSON line
{"scenario": ..., "trace_id": ...} per scenario.
"""

from __future__ import annotations

import os

import anthropic
import mlflow
import openai
from runner import run_scenarios

QUESTION = "What's the weather and the local time in Paris?"
CITY_PARAMS = {
    "properties": {"city": {"description": "City name", "type": "string"}},
    "required": ["city"],
    "type": "object",
}
MESSAGES = [
    {"content": "You are a travel assistant.", "role": "system"},
    {"content": QUESTION, "role": "user"},
]
CHAT_TOOLS = [
    {"function": {"name": "get_weather", "description": "Current weather of a city", "parameters": CITY_PARAMS}, "type": "function"},
    {"function": {"name": "get_local_time", "description": "Local time of a city", "parameters": CITY_PARAMS}, "type": "function"},
]
RESPONSES_TOOLS = [
    {"strict": False, "parameters": CITY_PARAMS, "name": "get_weather", "description": "Current weather of a city", "type": "function"},
]
ANTHROPIC_TOOLS = [
    {"input_schema": CITY_PARAMS, "name": "get_weather", "description": "Current weather of a city"},
]
# go-openai's requests (goopenai_* scenarios): its struct order (role before
# content; model, messages, temperature, stream, tools, stream_options), and
# "stream" always sent.
GO_MESSAGES = [
    {"role": "system", "content": "You are a travel assistant."},
    {"role": "user", "content": QUESTION},
]
ANTHROPIC_MESSAGES = [{"content": [{"text": QUESTION, "type": "text"}], "role": "user"}]
ANTHROPIC_SYSTEM = [{"text": "You are a travel assistant.", "type": "text"}]


def drain(stream):
    for _ in stream:
        pass


def scenarios(oai: openai.OpenAI, ant: anthropic.Anthropic):
    chat = oai.chat.completions
    return {
        "openai_chat": lambda: chat.create(messages=MESSAGES, model="gpt-4o-mini", temperature=0.2),
        "openai_chat_tools": lambda: chat.create(messages=MESSAGES, model="gpt-4o-mini", temperature=0.2, tools=CHAT_TOOLS),
        "openai_chat_stream": lambda: drain(chat.create(
            messages=MESSAGES, model="gpt-4o-mini", temperature=0.2, stream_options={"include_usage": True}, stream=True)),
        "openai_chat_tools_stream": lambda: drain(chat.create(
            messages=MESSAGES, model="gpt-4o-mini", temperature=0.2, stream_options={"include_usage": True},
            tools=CHAT_TOOLS, stream=True)),
        "openai_responses": lambda: oai.responses.create(
            instructions="You are a travel assistant.", input=QUESTION, model="gpt-4o-mini", tools=RESPONSES_TOOLS),
        "openai_responses_stream": lambda: drain(oai.responses.create(
            instructions="You are a travel assistant.", input=QUESTION, model="gpt-4o-mini", tools=RESPONSES_TOOLS,
            stream=True)),
        "openai_embeddings": lambda: oai.embeddings.create(input=["Paris", "Rome"], model="text-embedding-3-small", dimensions=4),
        "openai_completion": lambda: oai.completions.create(prompt="Say hello to Paris", model="gpt-3.5-turbo-instruct"),
        "openai_completion_stream": lambda: drain(oai.completions.create(
            prompt="Say hello to Paris", model="gpt-3.5-turbo-instruct", stream_options={"include_usage": True},
            stream=True)),
        "openai_error": lambda: expect_error(lambda: chat.create(messages=MESSAGES, model="gpt-unknown", temperature=0.2)),
        "anthropic_messages": lambda: ant.messages.create(
            max_tokens=256, messages=ANTHROPIC_MESSAGES, model="claude-sonnet-4-6", system=ANTHROPIC_SYSTEM),
        "anthropic_tools": lambda: ant.messages.create(
            max_tokens=256, messages=ANTHROPIC_MESSAGES, model="claude-sonnet-4-6", system=ANTHROPIC_SYSTEM,
            tools=ANTHROPIC_TOOLS),
        "anthropic_tools_stream": lambda: drain(ant.messages.create(
            max_tokens=256, messages=ANTHROPIC_MESSAGES, model="claude-sonnet-4-6", system=ANTHROPIC_SYSTEM,
            tools=ANTHROPIC_TOOLS, stream=True)),
        "goopenai_chat": lambda: chat.create(model="gpt-4o-mini", messages=GO_MESSAGES, temperature=0.2, stream=False),
        "goopenai_chat_tools": lambda: chat.create(
            model="gpt-4o-mini", messages=GO_MESSAGES, temperature=0.2, stream=False, tools=CHAT_TOOLS),
        "goopenai_chat_stream": lambda: drain(chat.create(
            model="gpt-4o-mini", messages=GO_MESSAGES, temperature=0.2, stream=True,
            stream_options={"include_usage": True})),
        "goopenai_chat_tools_stream": lambda: drain(chat.create(
            model="gpt-4o-mini", messages=GO_MESSAGES, temperature=0.2, stream=True, tools=CHAT_TOOLS,
            stream_options={"include_usage": True})),
        # go-openai serialises an embeddings request as a map: sorted keys.
        "goopenai_embeddings": lambda: oai.embeddings.create(dimensions=4, input=["Paris", "Rome"], model="text-embedding-3-small"),
        "goopenai_error": lambda: expect_error(lambda: chat.create(
            model="gpt-unknown", messages=GO_MESSAGES, temperature=0.2, stream=False)),
    }


def expect_error(fn):
    try:
        fn()
    except openai.NotFoundError:
        return
    raise AssertionError("no error for an unknown model")


def main() -> None:
    url = os.environ["LLMTEST_URL"]
    mlflow.openai.autolog()
    mlflow.anthropic.autolog()
    oai = openai.OpenAI(base_url=url + "/v1", api_key="sk-test-openai")
    ant = anthropic.Anthropic(base_url=url, api_key="sk-ant-test")
    run_scenarios(scenarios(oai, ant))

if __name__ == "__main__":
    main()
