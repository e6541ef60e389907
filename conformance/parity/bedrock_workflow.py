"""The Bedrock Runtime call scenarios of conformance/cmd/bedrocktraces, made
with boto3 under MLflow's Python autolog (mlflow.bedrock.autolog) against the
same fake Bedrock Runtime (LLMTEST_URL, with boto3's endpoint_url). Each
scenario is one call, one trace. Keep the requests identical to the Go
program's: MLflow records boto3's keyword arguments in the order they are
passed, so they are passed in the order aws-sdk-go-v2 serialises the request
(modelId, then the body's members, which the Go SDK writes in alphabetical
order, as it writes the members of every nested structure and document).

Destination: MLFLOW_TRACKING_URI. Prints one JSON line
{"scenario": ..., "trace_id": ...} per scenario.
"""

from __future__ import annotations

import json
import os
import sys

import boto3
import mlflow
from botocore.exceptions import ClientError

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
QUESTION = "What's the weather and the local time in Paris?"
SYSTEM = [{"text": "You are a travel assistant."}]
CITY = {"properties": {"city": {"description": "City name", "type": "string"}}, "required": ["city"], "type": "object"}
TOOLS = {"tools": [
    {"toolSpec": {"description": "Current weather of a city", "inputSchema": {"json": CITY}, "name": "get_weather"}},
    {"toolSpec": {"description": "Local time of a city", "inputSchema": {"json": CITY}, "name": "get_local_time"}},
]}
INFERENCE = {"maxTokens": 256, "temperature": 0.5}
MESSAGES = [{"content": [{"text": QUESTION}], "role": "user"}]
TOOL_TURN = MESSAGES + [
    {"content": [{"text": "I'll use the get_weather tool."},
                 {"toolUse": {"input": {"city": "Paris"}, "name": "get_weather", "toolUseId": "tooluse_paris"}}], "role": "assistant"},
    {"content": [{"toolResult": {"content": [{"json": {"sky": "rain", "temp_c": 18}}], "toolUseId": "tooluse_paris"}}], "role": "user"},
]
CACHE_SYSTEM = [{"text": "You are a careful travel assistant. " * 150}, {"cachePoint": {"type": "default"}}]

ANTHROPIC_BODY = ('{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "system": "You are a travel assistant.", '
                  '"messages": [{"role": "user", "content": "Say hello to Paris"}]}')
NOVA_BODY = ('{"schemaVersion": "messages-v1", "system": [{"text": "You are a travel assistant."}], '
             '"messages": [{"role": "user", "content": [{"text": "Say hello to Paris"}]}], "inferenceConfig": {"maxTokens": 256}}')
LLAMA_BODY = ('{"prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nSay hello to Paris<|eot_id|>'
              '<|start_header_id|>assistant<|end_header_id|>\\n\\n", "max_gen_len": 256, "temperature": 0.5}')
TITAN_BODY = '{"inputText": "User: Say hello to Paris\\nBot:", "textGenerationConfig": {"maxTokenCount": 256}}'
COHERE_BODY = '{"message": "Say hello to Paris", "preamble": "You are a travel assistant.", "max_tokens": 256}'
EMBED_BODY = '{"inputText": "Paris", "dimensions": 256}'


def drain(stream):
    for _ in stream:
        pass


def expect_validation_error(fn):
    try:
        fn()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ValidationException", e
        return
    raise AssertionError("no error for an unknown model")


def invoke(br, model, body):
    return br.invoke_model(modelId=model, body=body, contentType="application/json", accept="application/json")


def invoke_stream(br, model, body):
    drain(br.invoke_model_with_response_stream(modelId=model, body=body, contentType="application/json",
                                               accept="application/json")["body"])


def scenarios(br):
    return {
        "converse": lambda: br.converse(modelId=CLAUDE, inferenceConfig=INFERENCE, messages=MESSAGES, system=SYSTEM),
        "converse_tools": lambda: br.converse(modelId=CLAUDE, inferenceConfig=INFERENCE, messages=MESSAGES, system=SYSTEM,
                                              toolConfig=TOOLS),
        "converse_tool_result": lambda: br.converse(modelId=CLAUDE, inferenceConfig=INFERENCE, messages=TOOL_TURN,
                                                    system=SYSTEM, toolConfig=TOOLS),
        "converse_stream": lambda: drain(br.converse_stream(
            modelId=CLAUDE, inferenceConfig=INFERENCE, messages=MESSAGES, system=SYSTEM)["stream"]),
        "converse_tools_stream": lambda: drain(br.converse_stream(
            modelId=CLAUDE, inferenceConfig=INFERENCE, messages=MESSAGES, system=SYSTEM, toolConfig=TOOLS)["stream"]),
        "converse_cache": lambda: br.converse(modelId=CLAUDE, inferenceConfig=INFERENCE, messages=MESSAGES, system=CACHE_SYSTEM),
        "converse_error": lambda: expect_validation_error(lambda: br.converse(
            modelId="amazon.nova-ultra-v9:0", inferenceConfig=INFERENCE, messages=MESSAGES, system=SYSTEM)),
        "invoke_anthropic": lambda: invoke(br, CLAUDE, ANTHROPIC_BODY),
        "invoke_anthropic_stream": lambda: invoke_stream(br, CLAUDE, ANTHROPIC_BODY),
        "invoke_nova": lambda: invoke(br, "amazon.nova-lite-v1:0", NOVA_BODY),
        "invoke_nova_stream": lambda: invoke_stream(br, "amazon.nova-lite-v1:0", NOVA_BODY),
        "invoke_llama": lambda: invoke(br, "meta.llama3-8b-instruct-v1:0", LLAMA_BODY),
        "invoke_titan": lambda: invoke(br, "amazon.titan-text-express-v1", TITAN_BODY),
        "invoke_cohere": lambda: invoke(br, "cohere.command-r-v1:0", COHERE_BODY),
        "invoke_titan_embed": lambda: invoke(br, "amazon.titan-embed-text-v2:0", EMBED_BODY),
    }


def main() -> None:
    url = os.environ["LLMTEST_URL"]
    mlflow.bedrock.autolog()
    # Created after autolog(): MLflow patches the clients created later. The
    # fake's credentials (internal/llmtest/sigv4.go).
    br = boto3.client("bedrock-runtime", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="AKIALLMTESTBEDROCK01",
                      aws_secret_access_key="llmtest/bedrock/fake+secret/0000000000000")
    want = set(sys.argv[1:])
    lines = []
    for name, call in scenarios(br).items():
        if want and name not in want:
            continue
        call()
        lines.append({"scenario": name, "trace_id": mlflow.get_last_active_trace_id()})
    mlflow.flush_trace_async_logging() if hasattr(mlflow, "flush_trace_async_logging") else None
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
