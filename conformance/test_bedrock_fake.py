"""Proves the fake Amazon Bedrock Runtime of internal/llmtest with the real
Python client from PyPI (boto3/botocore 1.43.104, with endpoint_url): botocore
signs every request with Signature Version 4 and the fake verifies the
signature; botocore's rest-json and event-stream parsers accept what the
fake sends (Converse and ConverseStream with tool use and cache tokens, the
InvokeModel bodies of the Anthropic, Nova, Llama, Titan and Cohere models,
plain and streamed); and botocore raises its typed errors for what the fake
rejects (ClientError with Bedrock's error codes, EventStreamError inside a
stream), retrying throttling as it retries the real service. The Go tests
and the Bedrock parity/browser tests rely on this fake.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EventStreamError

from parity import fakellm

QUESTION = "What's the weather and the local time in Paris?"
CITY = {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}
TOOLS = {"tools": [
    {"toolSpec": {"name": "get_weather", "description": "Current weather", "inputSchema": {"json": CITY}}},
    {"toolSpec": {"name": "get_local_time", "description": "Local time", "inputSchema": {"json": CITY}}},
]}
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    with fakellm.FakeLLM(fakellm.build(tmp_path_factory.mktemp("gobin"))) as f:
        yield f


@pytest.fixture()
def br(fake):
    fake.reset()
    return fake.bedrock(retries={"total_max_attempts": 1, "mode": "standard"})


def user(text):
    return [{"role": "user", "content": [{"text": text}]}]


def code(err: ClientError) -> str:
    return err.response["Error"]["Code"]


def test_converse(br, fake):
    r = br.converse(modelId=CLAUDE, messages=user("Hello there"), system=[{"text": "Be brief."}],
                    inferenceConfig={"maxTokens": 64, "temperature": 0.2})
    assert r["output"]["message"] == {"role": "assistant", "content": [{"text": "You said: Hello there"}]}
    assert r["stopReason"] == "end_turn" and r["metrics"]["latencyMs"] > 0
    u = r["usage"]
    assert u["totalTokens"] == u["inputTokens"] + u["outputTokens"] > 0
    meta = r["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200 and meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]
    # botocore signed it (SigV4 for region us-east-1 and service bedrock).
    req = fake.requests()[0]
    auth = req["header"]["Authorization"][0]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={fakellm.AWS_ACCESS_KEY_ID}/") and "/us-east-1/bedrock/aws4_request" in auth
    assert req["path"] == "/model/" + CLAUDE + "/converse"
    short = br.converse(modelId=CLAUDE, messages=user("Hello there, how are you today?"), inferenceConfig={"maxTokens": 2})
    assert short["stopReason"] == "max_tokens"


def test_tool_use_and_results(br):
    r = br.converse(modelId=CLAUDE, messages=user(QUESTION), toolConfig=TOOLS)
    msg = r["output"]["message"]
    assert r["stopReason"] == "tool_use"
    uses = [b["toolUse"] for b in msg["content"] if "toolUse" in b]
    assert [u["name"] for u in uses] == ["get_weather", "get_local_time"] and uses[0]["input"] == {"city": "Paris"}
    results = {"role": "user", "content": [
        {"toolResult": {"toolUseId": uses[0]["toolUseId"], "content": [{"json": {"temp_c": 18}}]}},
        {"toolResult": {"toolUseId": uses[1]["toolUseId"], "content": [{"text": "14:05"}]}},
    ]}
    final = br.converse(modelId=CLAUDE, messages=user(QUESTION) + [msg, results], toolConfig=TOOLS)
    assert final["output"]["message"]["content"][0]["text"] == \
        'Here is what I found. get_weather: {"temp_c":18}. get_local_time: 14:05.'
    with pytest.raises(ClientError, match="toolConfig field must be defined") as e:
        br.converse(modelId=CLAUDE, messages=user(QUESTION) + [msg, results])
    assert code(e.value) == "ValidationException"
    with pytest.raises(ClientError, match="Expected toolResult blocks at messages.2.content"):
        br.converse(modelId=CLAUDE, messages=user(QUESTION) + [msg] + user("never mind"), toolConfig=TOOLS)


def test_converse_stream(br):
    r = br.converse_stream(modelId=CLAUDE, messages=user(QUESTION), toolConfig=TOOLS)
    events = list(r["stream"])
    names = [next(iter(e)) for e in events]
    assert names[0] == "messageStart" and names[-2:] == ["messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert text == "I'll use the get_weather and get_local_time tool."
    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert [s["start"]["toolUse"]["name"] for s in starts] == ["get_weather", "get_local_time"]
    args = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
                   if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == 1)
    assert json.loads(args) == {"city": "Paris"}
    # Bedrock's "p" padding is not in botocore's model: parsed events lack it.
    assert all("p" not in e[n] for e, n in zip(events, names))
    meta = events[-1]["metadata"]
    assert meta["usage"]["totalTokens"] == meta["usage"]["inputTokens"] + meta["usage"]["outputTokens"]
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_cache_point_tokens(br):
    system = [{"text": "You are a careful assistant. " * 200}, {"cachePoint": {"type": "default"}}]
    first = br.converse(modelId=CLAUDE, system=system, messages=user("one"))["usage"]
    second = br.converse(modelId=CLAUDE, system=system, messages=user("two"))["usage"]
    assert first["cacheWriteInputTokens"] >= 1024 and first["cacheReadInputTokens"] == 0
    assert second["cacheReadInputTokens"] == first["cacheWriteInputTokens"] and second["cacheWriteInputTokens"] == 0
    assert second["totalTokens"] == second["inputTokens"] + second["outputTokens"] + second["cacheReadInputTokens"]


INVOKE = {
    "anthropic": (CLAUDE, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "Hello Paris"}]}),
    "nova": ("amazon.nova-lite-v1:0", {"schemaVersion": "messages-v1", "messages": user("Hello Paris"), "inferenceConfig": {"maxTokens": 64}}),
    "llama": ("meta.llama3-8b-instruct-v1:0", {"prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello Paris<|eot_id|>"
                                                      "<|start_header_id|>assistant<|end_header_id|>\n\n", "max_gen_len": 64}),
    "titan": ("amazon.titan-text-express-v1", {"inputText": "User: Hello Paris\nBot:", "textGenerationConfig": {"maxTokenCount": 64}}),
    "cohere": ("cohere.command-r-v1:0", {"message": "Hello Paris", "max_tokens": 64}),
}


def answer_text(family: str, body: dict) -> str:
    return {
        "anthropic": lambda: body["content"][0]["text"],
        "nova": lambda: body["output"]["message"]["content"][0]["text"],
        "llama": lambda: body["generation"],
        "titan": lambda: body["results"][0]["outputText"],
        "cohere": lambda: body["text"],
    }[family]()


def stream_text(family: str, chunks: list[dict]) -> str:
    if family == "anthropic":
        return "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    if family == "nova":
        return "".join(c["contentBlockDelta"]["delta"]["text"] for c in chunks if "contentBlockDelta" in c)
    if family == "cohere":
        return "".join(c.get("text", "") for c in chunks if c["event_type"] == "text-generation")
    return "".join(c["generation" if family == "llama" else "outputText"] for c in chunks)


@pytest.mark.parametrize("family", sorted(INVOKE))
def test_invoke_model(br, family):
    model, body = INVOKE[family]
    r = br.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json", accept="application/json")
    assert r["contentType"] == "application/json"
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) > 0 and int(headers["x-amzn-bedrock-output-token-count"]) > 0
    assert answer_text(family, json.loads(r["body"].read())) == "You said: Hello Paris"

    s = br.invoke_model_with_response_stream(modelId=model, body=json.dumps(body))
    assert s["contentType"] == "application/json"
    chunks = [json.loads(e["chunk"]["bytes"]) for e in s["body"]]
    assert stream_text(family, chunks) == "You said: Hello Paris"
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] == int(headers["x-amzn-bedrock-input-token-count"])
    assert metrics["outputTokenCount"] == int(headers["x-amzn-bedrock-output-token-count"])


def test_titan_embeddings(br):
    r = br.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "Paris", "dimensions": 256}))
    body = json.loads(r["body"].read())
    assert len(body["embedding"]) == 256 and body["inputTextTokenCount"] > 0
    assert abs(sum(x * x for x in body["embedding"]) - 1) < 0.01
    with pytest.raises(ClientError, match="unsupported for streaming"):
        br.invoke_model_with_response_stream(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x"}))


def test_errors(fake, br):
    with pytest.raises(ClientError, match="provided model identifier is invalid") as e:
        br.converse(modelId="amazon.nova-ultra-v9:0", messages=user("hi"))
    assert code(e.value) == "ValidationException" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError, match="on-demand throughput isn’t supported"):
        br.converse(modelId="anthropic.claude-sonnet-4-20250514-v1:0", messages=user("hi"))
    assert br.converse(modelId="us.anthropic.claude-sonnet-4-20250514-v1:0", messages=user("hi"))["output"]
    with pytest.raises(ClientError, match="extraneous key \\[model\\] is not permitted"):
        br.invoke_model(modelId=CLAUDE, body=json.dumps({**INVOKE["anthropic"][1], "model": "claude"}))
    with pytest.raises(ClientError, match="alternate between user and assistant"):
        br.converse(modelId=CLAUDE, messages=user("a") + user("b"))
    wrong = fake.bedrock(secret_key="not-the-secret", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError, match="signature we calculated does not match") as e:
        wrong.converse(modelId=CLAUDE, messages=user("hi"))
    assert code(e.value) == "InvalidSignatureException"


def test_retries_and_stream_errors(fake):
    client = fake.bedrock(retries={"total_max_attempts": 3, "mode": "standard"})
    fake.reset()
    fake.fault(status=429, count=2)
    r = client.converse(modelId=CLAUDE, messages=user("hi"))
    assert r["ResponseMetadata"]["RetryAttempts"] == 2 and len(fake.requests()) == 3
    fake.reset()
    fake.fault(status=429, count=5)
    with pytest.raises(ClientError, match="Too many requests") as e:
        client.converse(modelId=CLAUDE, messages=user("hi"))
    assert code(e.value) == "ThrottlingException" and len(fake.requests()) == 3
    fake.reset()
    fake.fault(cut_after=2, stream_error=True)
    r = client.converse_stream(modelId=CLAUDE, messages=user("one two three"))
    with pytest.raises(EventStreamError, match="modelStreamErrorException"):
        list(r["stream"])


def test_bedrock_api_key(fake, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", fakellm.BEDROCK_API_KEY)
    fake.reset()
    r = fake.bedrock().converse(modelId=CLAUDE, messages=user("Hello there"))
    assert r["output"]["message"]["content"][0]["text"] == "You said: Hello there"
    assert fake.requests()[0]["header"]["Authorization"] == ["Bearer " + fakellm.BEDROCK_API_KEY]
