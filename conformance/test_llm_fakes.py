"""Proves the fake OpenAI and Anthropic APIs of internal/llmtest with the
real Python clients from PyPI (openai 3.51.0, anthropic 2.10.0): their
typed models, stream decoders and stream helpers accept what the fake
sends — tool calls, parallel tool calls, refusals, usage in the last chunk,
Responses events, cache token counts — and they raise their typed errors
for what the fake rejects, as the real APIs reject it. The Go tests and the
parity/conformance/browser tests rely on these fakes.
"""

from __future__ import annotations

import json

import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from parity import fakellm

QUESTION = "What's the weather and the local time in Paris?"
CITY = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": CITY}},
    {"type": "function", "function": {"name": "get_local_time", "description": "Local time", "parameters": CITY}},
]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with fakellm.FakeLLM(fakellm.build(tmp_path_factory.mktemp("gobin"))) as f:
        yield f


@pytest.fixture()
def oai(fake):
    fake.reset()
    return openai.OpenAI(base_url=fake.openai_base_url, api_key=fakellm.OPENAI_KEY, max_retries=2)


@pytest.fixture()
def ant(fake):
    fake.reset()
    return anthropic.Anthropic(base_url=fake.url, api_key=fakellm.ANTHROPIC_KEY, max_retries=2)


def post(url: str, body: bytes | dict, headers: dict | None = None) -> tuple[int, dict]:
    """A raw POST (for requests the typed clients cannot send)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def user(text):
    return [{"role": "user", "content": text}]


# ---- OpenAI: Chat Completions ----

def test_chat(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=user("Hello there"), temperature=0.2)
    assert isinstance(r, openai.types.chat.ChatCompletion)
    assert r.object == "chat.completion" and r.model == "gpt-4o-mini-2024-07-18"
    assert r.choices[0].message.content == "You said: Hello there"
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.refusal is None
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0
    assert r.usage.prompt_tokens_details.cached_tokens == 0


def test_parallel_tool_calls_and_tool_results(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=user(QUESTION), tools=TOOLS)
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls" and msg.content is None
    assert [c.function.name for c in msg.tool_calls] == ["get_weather", "get_local_time"]
    assert all(json.loads(c.function.arguments) == {"city": "Paris"} for c in msg.tool_calls)

    one = oai.chat.completions.create(model="gpt-4o-mini", messages=user(QUESTION), tools=TOOLS, parallel_tool_calls=False)
    assert len(one.choices[0].message.tool_calls) == 1

    follow = user(QUESTION) + [msg.model_dump(exclude_none=True)] + [
        {"role": "tool", "tool_call_id": c.id, "content": json.dumps({"ok": c.function.name})} for c in msg.tool_calls
    ]
    final = oai.chat.completions.create(model="gpt-4o-mini", messages=follow, tools=TOOLS)
    assert final.choices[0].message.content.startswith("Here is what I found. get_weather:")

    # A tool message that answers no call, and an unanswered call, are rejected.
    with pytest.raises(openai.BadRequestError, match="must be a response to a preceeding message"):
        oai.chat.completions.create(model="gpt-4o-mini", messages=user("hi") + [{"role": "tool", "tool_call_id": "x", "content": "1"}])
    with pytest.raises(openai.BadRequestError, match="did not have response messages"):
        oai.chat.completions.create(model="gpt-4o-mini", messages=follow[:2] + user("and now?"))


def test_chat_stream_usage_in_last_chunk(oai):
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=user("Hello there"), stream=True,
                                              stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Hello there"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    # Without include_usage no chunk has usage.
    plain = list(oai.chat.completions.create(model="gpt-4o-mini", messages=user("Hello"), stream=True))
    assert all(c.usage is None for c in plain) and plain[-1].choices[0].finish_reason == "stop"


def test_stream_helper_merges_tool_call_deltas(oai):
    with oai.chat.completions.stream(model="gpt-4o-mini", messages=user(QUESTION), tools=TOOLS,
                                     stream_options={"include_usage": True}) as s:
        final = s.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_local_time"]
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}] * 2
    assert final.choices[0].finish_reason == "tool_calls" and final.usage.total_tokens > 0


def test_refusal(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=user("Please refuse this"))
    assert r.choices[0].message.refusal.startswith("I'm sorry") and r.choices[0].message.content is None
    with oai.chat.completions.stream(model="gpt-4o-mini", messages=user("Please refuse this")) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.refusal == r.choices[0].message.refusal


def test_prompt_cache(oai):
    system = [{"role": "system", "content": "You are a careful assistant. " * 200}]
    first = oai.chat.completions.create(model="gpt-4o-mini", messages=system + user("one"))
    second = oai.chat.completions.create(model="gpt-4o-mini", messages=system + user("two"))
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens >= 1024


# ---- OpenAI: Responses, Embeddings, Completions ----

def test_responses(oai):
    tools = [{"type": "function", "name": "get_weather", "parameters": CITY, "strict": False}]
    r = oai.responses.create(model="gpt-4o-mini", input=QUESTION, instructions="Be brief.", tools=tools)
    assert r.status == "completed" and r.output[0].type == "function_call" and r.output[0].name == "get_weather"
    assert json.loads(r.output[0].arguments) == {"city": "Paris"}
    events = list(oai.responses.create(model="gpt-4o-mini", input="Hello", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    with oai.responses.stream(model="gpt-4o-mini", input="Hello") as s:
        final = s.get_final_response()
    assert final.output_text == "You said: Hello" and final.usage.total_tokens > 0
    follow = oai.responses.create(model="gpt-4o-mini", tools=tools, input=[
        {"role": "user", "content": QUESTION}, r.output[0].model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": r.output[0].call_id, "output": '{"forecast": "rain"}'},
    ])
    assert follow.output_text.startswith("Here is what I found. get_weather:")


def test_embeddings(oai):
    # The Python client asks for base64 by default and decodes it.
    r = oai.embeddings.create(model="text-embedding-3-small", input=["Paris", "Rome"], dimensions=8)
    assert [len(d.embedding) for d in r.data] == [8, 8] and r.usage.prompt_tokens > 0
    f = oai.embeddings.create(model="text-embedding-3-small", input="Paris", dimensions=8, encoding_format="float")
    assert f.data[0].embedding == r.data[0].embedding
    with pytest.raises(openai.BadRequestError):
        oai.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=8)


def test_completions(oai):
    r = oai.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=50)
    assert r.object == "text_completion" and r.choices[0].text.endswith("Say hi")
    chunks = list(oai.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=50, stream=True,
                                         stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text
    assert chunks[-1].usage.completion_tokens == r.usage.completion_tokens
    with pytest.raises(openai.NotFoundError, match="chat model"):
        oai.completions.create(model="gpt-4o-mini", prompt="x")


# ---- OpenAI: errors and retries ----

def test_openai_errors(fake, oai):
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
        openai.OpenAI(base_url=fake.openai_base_url, api_key="sk-wrong-key-123456").models.list()
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        oai.chat.completions.create(model="gpt-nope", messages=user("hi"))
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: foo"):
        oai.chat.completions.create(model="gpt-4o-mini", messages=user("hi"), extra_body={"foo": 1})
    with pytest.raises(openai.BadRequestError, match="only allowed when 'stream' is enabled"):
        oai.chat.completions.create(model="gpt-4o-mini", messages=user("hi"), stream_options={"include_usage": True})
    with pytest.raises(openai.BadRequestError, match="empty array"):
        oai.chat.completions.create(model="gpt-4o-mini", messages=[])
    url = fake.openai_base_url + "/chat/completions"
    status, body = post(url, {"model": "gpt-4o-mini"})
    assert status == 401 and "didn't provide an API key" in body["error"]["message"]
    auth = {"Authorization": "Bearer " + fakellm.OPENAI_KEY}
    status, body = post(url, {"model": "gpt-4o-mini"}, auth)
    assert status == 400 and body["error"]["code"] == "missing_required_parameter" and body["error"]["param"] == "messages"
    status, body = post(url, b"{nope", auth)
    assert status == 400 and "could not parse the JSON body" in body["error"]["message"]


def test_openai_retries(fake, oai):
    fake.fault(status=429, count=2, retry_after="0")
    assert oai.chat.completions.create(model="gpt-4o-mini", messages=user("hi")).choices[0].message.content
    assert len(fake.requests()) == 3
    fake.reset()
    fake.fault(status=500, count=5, retry_after="0")
    with pytest.raises(openai.InternalServerError):
        oai.with_options(max_retries=1).chat.completions.create(model="gpt-4o-mini", messages=user("hi"))
    assert len(fake.requests()) == 2
    fake.reset()
    fake.fault(cut_after=2, stream_error=True)
    with pytest.raises(openai.APIError, match="server had an error"):
        list(oai.chat.completions.create(model="gpt-4o-mini", messages=user("one two three"), stream=True))


# ---- Anthropic ----

ANT_TOOLS = [{"name": "get_weather", "description": "Current weather", "input_schema": CITY}]


def test_messages(ant):
    m = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=user("Hello there"))
    assert isinstance(m, anthropic.types.Message)
    assert m.model == "claude-sonnet-4-6" and m.stop_reason == "end_turn"
    assert m.content[0].text == "You said: Hello there"
    assert m.usage.cache_read_input_tokens == 0 and m.usage.cache_creation.ephemeral_1h_input_tokens == 0
    short = ant.messages.create(model="claude-sonnet-4-6", max_tokens=2, messages=user("Hello there"))
    assert short.stop_reason == "max_tokens"


def test_tool_use_and_results(ant):
    m = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=user(QUESTION), tools=ANT_TOOLS)
    assert m.stop_reason == "tool_use" and [b.type for b in m.content] == ["text", "tool_use"]
    use = m.content[1]
    assert use.name == "get_weather" and use.input == {"city": "Paris"}
    follow = user(QUESTION) + [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]},
                               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "rain"}]}]
    final = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=follow, tools=ANT_TOOLS)
    assert final.content[0].text == "Here is what I found. get_weather: rain."
    with pytest.raises(anthropic.BadRequestError, match="unexpected `tool_use_id`"):
        ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=user("hi") + [
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}]}])


def test_message_stream(ant):
    with ant.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=user(QUESTION), tools=ANT_TOOLS) as s:
        events = [e.type for e in s]
        final = s.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].input == {"city": "Paris"} and final.stop_reason == "tool_use"
    assert final.usage.output_tokens > 1
    raw = list(ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=user("Hi"), stream=True))
    assert [e.type for e in raw][:3] == ["message_start", "content_block_start", "content_block_delta"]


def test_cache_tokens(ant):
    system = [{"type": "text", "text": "You are a careful assistant. " * 200, "cache_control": {"type": "ephemeral"}}]
    first = ant.messages.create(model="claude-sonnet-4-6", max_tokens=64, system=system, messages=user("one"))
    second = ant.messages.create(model="claude-sonnet-4-6", max_tokens=64, system=system, messages=user("two"))
    assert first.usage.cache_creation_input_tokens >= 1024 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens


def test_anthropic_errors_and_retries(fake, ant):
    with pytest.raises(anthropic.AuthenticationError, match="invalid x-api-key"):
        anthropic.Anthropic(base_url=fake.url, api_key="sk-ant-wrong").messages.create(
            model="claude-sonnet-4-6", max_tokens=10, messages=user("hi"))
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nope"):
        ant.messages.create(model="claude-nope", max_tokens=10, messages=user("hi"))
    with pytest.raises(anthropic.BadRequestError, match="foo: Extra inputs are not permitted"):
        ant.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=user("hi"), extra_body={"foo": 1})
    status, body = post(fake.url + "/v1/messages", {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": user("hi")},
                        {"x-api-key": fakellm.ANTHROPIC_KEY})
    assert status == 400 and body["error"]["message"] == "anthropic-version: header is required"
    status, body = post(fake.url + "/v1/messages", {"model": "claude-sonnet-4-6", "messages": user("hi")},
                        {"x-api-key": fakellm.ANTHROPIC_KEY, "anthropic-version": "2023-06-01"})
    assert status == 400 and body["type"] == "error" and body["error"]["message"] == "max_tokens: Field required"

    fake.reset()
    fake.fault(status=529, count=2, retry_after="0")
    assert ant.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=user("hi")).content
    assert len(fake.requests()) == 3
    fake.reset()
    fake.fault(cut_after=3, stream_error=True)
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        list(ant.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=user("Hi"), stream=True))
