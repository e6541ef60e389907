"""The Gemini call scenarios of conformance/cmd/geminitraces, made with
MLflow's Gemini autolog (mlflow.gemini.autolog) and Google's Python SDK
(google-genai) against the same fake Gemini API and Vertex AI (LLMTEST_URL).
Each scenario is one SDK call, one trace. The arguments are the SDK's typed
objects (types.Content, types.GenerateContentConfig, ...), as the Go SDK's
are, and the same values: the fake checks that both clients sent the same
requests. The Go SDK sends API version v1 by default; so does this client.

Destination: MLFLOW_TRACKING_URI. Prints one JSON line
{"scenario": ..., "trace_id": ...} per scenario.
"""

from __future__ import annotations

import os

import mlflow
from google import genai
from google.genai import errors, types
from google.oauth2 import credentials as oauth2
from runner import run_scenarios

GEMINI_KEY = "gemini-test-key"
VERTEX_TOKEN = "ya29.vertex-test-token"
MODEL = "gemini-2.5-flash"
QUESTION = "What's the weather in Paris?"

WEATHER_TOOL = types.Tool(function_declarations=[types.FunctionDeclaration(
    description="Current weather of a city",
    name="get_weather",
    parameters=types.Schema(
        properties={"city": types.Schema(description="City name", type="STRING")},
        required=["city"],
        type="OBJECT",
    ),
)])


def config() -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        # The Go SDK gives a system instruction without a role the role "user".
        system_instruction=types.Content(parts=[types.Part(text="You are a travel assistant.")], role="user"),
        temperature=0.2,
        tools=[WEATHER_TOOL],
    )


def user(text: str) -> types.Content:
    return types.Content(parts=[types.Part(text=text)], role="user")


def scenarios(gemini: genai.Client, vertex: genai.Client):
    models = gemini.models
    return {
        "gemini_generate": lambda: models.generate_content(model=MODEL, contents=[user("Say hello to Paris")]),
        "gemini_tools": lambda: models.generate_content(model=MODEL, contents=[user(QUESTION)], config=config()),
        "gemini_tool_result": lambda: models.generate_content(model=MODEL, contents=[
            user(QUESTION),
            types.Content(parts=[types.Part(function_call=types.FunctionCall(args={"city": "Paris"}, name="get_weather"))],
                          role="model"),
            types.Content(parts=[types.Part(function_response=types.FunctionResponse(
                name="get_weather", response={"sky": "sunny", "temperature": 21}))], role="user"),
        ], config=config()),
        "gemini_chat": lambda: gemini.chats.create(model=MODEL, config=config()).send_message(
            [types.Part(text=QUESTION)]),
        "gemini_embed": lambda: models.embed_content(
            model="text-embedding-004", contents=[user("Paris"), user("Rome")],
            config=types.EmbedContentConfig(output_dimensionality=4)),
        "gemini_count_tokens": lambda: models.count_tokens(model=MODEL, contents=[user(QUESTION)]),
        "gemini_error": lambda: expect_error(lambda: models.generate_content(model="gemini-unknown", contents=[user("hi")])),
        "vertex_tools": lambda: vertex.models.generate_content(model=MODEL, contents=[user(QUESTION)], config=config()),
    }


def expect_error(fn):
    try:
        fn()
    except errors.ClientError:
        return
    raise AssertionError("no error for an unknown model")


def main() -> None:
    url = os.environ["LLMTEST_URL"]
    mlflow.gemini.autolog()
    gemini = genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=url, api_version="v1"))
    vertex = genai.Client(vertexai=True, project="fake-project", location="us-central1",
                          credentials=oauth2.Credentials(token=VERTEX_TOKEN),
                          http_options=types.HttpOptions(base_url=url))
    run_scenarios(scenarios(gemini, vertex))

if __name__ == "__main__":
    main()
