"""Proves the fake Gemini API and Vertex AI of internal/llmtest with Google's
Python SDK from PyPI (google-genai 2.25.0, conformance/requirements.txt): its
typed responses, SSE stream reader, chat sessions with automatic function
calling, retries and typed errors accept what the fake sends, and the fake
rejects what the real APIs reject. autoinstrument/genai's Go tests and
test_gemini_parity.py rely on this fake.

(No `from __future__ import annotations` here: the SDK's automatic function
calling reads a Python tool's annotations as types.)
"""


import pytest
from google import genai
from google.genai import errors, types
from google.oauth2 import credentials as oauth2

from test_llm_fakes import post

GEMINI_KEY = "gemini-test-key"
VERTEX_TOKEN = "ya29.vertex-test-token"
MODEL = "gemini-2.5-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather", description="Current weather of a city",
    parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]),
)


@pytest.fixture(scope="module")
def fake(llm_fake):
    return llm_fake


@pytest.fixture()
def client(fake):
    fake.reset()
    return genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=fake.url))


@pytest.fixture()
def vertex(fake):
    fake.reset()
    return genai.Client(vertexai=True, project="fake-project", location="us-central1",
                        credentials=oauth2.Credentials(token=VERTEX_TOKEN), http_options=types.HttpOptions(base_url=fake.url))


def test_generate_content(client, fake):
    r = client.models.generate_content(model=MODEL, contents="Hello there")
    assert isinstance(r, types.GenerateContentResponse)
    assert r.text == "You said: Hello there"
    assert r.candidates[0].finish_reason == types.FinishReason.STOP and r.model_version == MODEL
    u = r.usage_metadata
    assert u.total_token_count == u.prompt_token_count + u.candidates_token_count + u.thoughts_token_count
    req = fake.requests()[0]
    assert req["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert req["header"]["X-Goog-Api-Key"] == [GEMINI_KEY]


def test_function_call_and_response(client):
    cfg = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])],
                                      automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    q = types.Content(role="user", parts=[types.Part(text="What's the weather in Paris?")])
    r = client.models.generate_content(model=MODEL, contents=[q], config=cfg)
    [call] = r.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    answer = types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"sky": "sunny"})])
    r2 = client.models.generate_content(model=MODEL, contents=[q, r.candidates[0].content, answer], config=cfg)
    assert r2.text == 'Here is what I found. get_weather: {"sky":"sunny"}.'


def test_chat_automatic_function_calling(client):
    def get_weather(city: str) -> dict:
        """Current weather of a city."""
        return {"city": city, "sky": "sunny"}

    chat = client.chats.create(model=MODEL, config=types.GenerateContentConfig(tools=[get_weather]))
    r = chat.send_message("What's the weather in Rome?")
    assert r.text.startswith("Here is what I found. get_weather:") and "Rome" in r.text
    assert len(chat.get_history()) == 4  # question, call, result, answer


def test_stream(client):
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="Say hello to the people of Paris"))
    assert len(chunks) > 2
    assert "".join(c.text for c in chunks) == "You said: Say hello to the people of Paris"
    assert [c.candidates[0].finish_reason for c in chunks][-1] == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.candidates_token_count > 0


def test_refusal(client):
    r = client.models.generate_content(model=MODEL, contents="Please refuse this")
    assert r.candidates[0].finish_reason == types.FinishReason.SAFETY and r.text is None


def test_embed_and_count_tokens(client):
    r = client.models.embed_content(model="text-embedding-004", contents=["Paris", "Rome"],
                                    config=types.EmbedContentConfig(output_dimensionality=8))
    assert [len(e.values) for e in r.embeddings] == [8, 8]
    assert client.models.count_tokens(model=MODEL, contents="How many tokens is this?").total_tokens == 6


def test_cached_tokens(client):
    cfg = types.GenerateContentConfig(system_instruction="Paris is the capital of France. " * 200)
    first = client.models.generate_content(model=MODEL, contents="First?", config=cfg)
    second = client.models.generate_content(model=MODEL, contents="Second?", config=cfg)
    assert first.usage_metadata.cached_content_token_count is None
    assert second.usage_metadata.cached_content_token_count >= 1024


def test_errors(fake, client):
    bad = genai.Client(api_key="wrong", http_options=types.HttpOptions(base_url=fake.url))
    with pytest.raises(errors.ClientError) as e:
        bad.models.generate_content(model=MODEL, contents="hi")
    assert e.value.code == 400 and e.value.status == "INVALID_ARGUMENT" and "API key not valid" in e.value.message
    with pytest.raises(errors.ClientError) as e:
        client.models.generate_content(model="gemini-unknown", contents="hi")
    assert e.value.code == 404 and e.value.status == "NOT_FOUND"
    fake.fault(status=503)
    with pytest.raises(errors.ServerError) as e:
        client.models.generate_content(model=MODEL, contents="hi")
    assert e.value.status == "UNAVAILABLE"
    status, body = post(fake.url + "/v1beta/models/gemini-2.5-flash:generateContent", {"contents": [], "foo": 1},
                        {"x-goog-api-key": GEMINI_KEY})
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "foo"' in body["error"]["message"]


def test_retries(fake):
    fake.reset()
    c = genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(
        base_url=fake.url, retry_options=types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05)))
    fake.fault(status=429, count=2)
    assert c.models.generate_content(model=MODEL, contents="hi").text == "You said: hi"
    assert len(fake.requests()) == 3


def test_stream_error_event(fake, client):
    fake.fault(cut_after=2, stream_error=True)
    with pytest.raises(errors.APIError) as e:
        for _ in client.models.generate_content_stream(model=MODEL, contents="Say hello to the people of Paris"):
            pass
    assert e.value.code == 500 and e.value.status == "INTERNAL"


def test_vertex(vertex, fake):
    r = vertex.models.generate_content(model=MODEL, contents="Hello there",
                                       config=types.GenerateContentConfig(labels={"team": "travel"}))
    assert r.text == "You said: Hello there" and r.create_time is not None
    assert r.usage_metadata.traffic_type == types.TrafficType.ON_DEMAND
    assert "".join(c.text for c in vertex.models.generate_content_stream(model=MODEL, contents="Hi again")) == "You said: Hi again"
    assert vertex.models.count_tokens(model=MODEL, contents="Hello there").total_tokens == 3
    e = vertex.models.embed_content(model="text-embedding-005", contents=["Paris"])
    assert len(e.embeddings[0].values) == 768 and e.embeddings[0].statistics.token_count == 2
    paths = [q["path"] for q in fake.requests()]
    assert paths[0] == "/v1beta1/projects/fake-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    assert paths[-1].endswith("/publishers/google/models/text-embedding-005:predict")
    assert all(q["header"]["Authorization"] == ["Bearer " + VERTEX_TOKEN] for q in fake.requests())
