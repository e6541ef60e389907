"""The langchaingo parity workflows (conformance/cmd/langchaintraces), written
with Python LangChain (ChatOpenAI from langchain-openai) and traced by MLflow's
own LangChain autologging (mlflow.langchain.autolog), against the fake OpenAI
API (LLMTEST_URL). Each scenario is one trace. Keep the requests identical to
the Go program's (the fake derives ids from the request: test_langchain_parity.py
checks both sent the same JSON values).

Destination: MLFLOW_TRACKING_URI. Prints one JSON line
{"scenario": ..., "trace_id": ...} per scenario.
"""

from __future__ import annotations

import os

import mlflow
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import PromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from mlflow.entities import SpanType
from runner import run_scenarios

SYSTEM = "You are a travel assistant."
QUESTION = "What's the weather in Paris?"
CHAIN_QUESTION = "What is the weather in Paris?"


@tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"18°C and sunny in {city}"


def chat(llm: ChatOpenAI) -> None:
    """One chat model call: a system and a user message."""
    llm.invoke([SystemMessage(SYSTEM), HumanMessage(QUESTION)])


def chain(llm: ChatOpenAI) -> None:
    """A prompt template feeding the chat model: LangChain's form of
    langchaingo's chains.LLMChain."""
    prompt = PromptTemplate.from_template("Answer briefly: {question}")
    (prompt | llm).invoke({"question": CHAIN_QUESTION})


def tools(llm: ChatOpenAI) -> None:
    """A tool-calling turn: the model calls get_weather, the tool runs, the
    model answers with its result; inside one traced function."""
    model = llm.bind_tools([get_weather])

    @mlflow.trace(name="weather_agent", span_type=SpanType.AGENT)
    def weather_agent(question):
        messages = [SystemMessage(SYSTEM), HumanMessage(question)]
        ai = model.invoke(messages)
        messages.append(ai)
        for call in ai.tool_calls:
            out = get_weather.invoke(call["args"])
            messages.append(ToolMessage(out, tool_call_id=call["id"]))
        return model.invoke(messages).content

    weather_agent(QUESTION)


SCENARIOS = {"chat": chat, "chain": chain, "tools": tools}


def main() -> None:
    url = os.environ["LLMTEST_URL"]
    mlflow.langchain.autolog()
    llm = ChatOpenAI(model="gpt-4o-mini", temperature=0.2, base_url=url + "/v1", api_key="sk-test-openai")
    run_scenarios({name: (lambda run=run: run(llm)) for name, run in SCENARIOS.items()})

if __name__ == "__main__":
    main()
