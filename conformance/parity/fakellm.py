"""The fake OpenAI / Anthropic / Bedrock Runtime APIs (internal/llmtest, a Go test fixture) as a
process for the Python tests: built from internal/llmtest/cmd/fakellm, bound
to a free loopback port, stopped on exit (it also exits when its stdin
closes, so a killed pytest leaves nothing behind).

It is a fake: deterministic answers, strict validation. test_llm_fakes.py
proves its shapes with the real `openai` and `anthropic` Python clients,
test_bedrock_fake.py with `boto3`.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from parity import harness

OPENAI_KEY = "sk-test-openai"
ANTHROPIC_KEY = "sk-ant-test"
# The fake Bedrock Runtime's credentials (internal/llmtest/sigv4.go).
AWS_ACCESS_KEY_ID = "AKIALLMTESTBEDROCK01"
AWS_SECRET_ACCESS_KEY = "llmtest/bedrock/fake+secret/0000000000000"
AWS_REGION = "us-east-1"
BEDROCK_API_KEY = "ABSKbGxtdGVzdC1iZWRyb2NrLWFwaS1rZXk="


class FakeLLM:
    def __init__(self, binary: Path):
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "FakeLLM":
        self.proc = subprocess.Popen(
            [str(self.binary), "-addr", "127.0.0.1:0", "-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.__exit__()
            pytest.fail(f"fakellm did not start: {self.proc.stderr.read()}")
        info = json.loads(line)
        self.url = info["url"]
        return self

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    def bedrock(self, secret_key: str = AWS_SECRET_ACCESS_KEY, **config):
        """A boto3 bedrock-runtime client for the fake (endpoint_url, the fake's
        credentials and region); config goes to botocore's Config."""
        import boto3
        from botocore.config import Config

        return boto3.client("bedrock-runtime", endpoint_url=self.url, region_name=AWS_REGION,
                            aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=secret_key,
                            config=Config(**config))

    def requests(self) -> list[dict]:
        """The API requests received, bodies decoded."""
        with urllib.request.urlopen(self.url + "/_fake/requests", timeout=10) as r:
            reqs = json.load(r) or []
        for q in reqs:
            q["body"] = base64.b64decode(q["body"]).decode() if q.get("body") else ""
        return reqs

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/_fake/reset", method="POST"), timeout=10).close()

    def fault(self, **fault) -> None:
        req = urllib.request.Request(self.url + "/_fake/faults", data=json.dumps(fault).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def build(out_dir: Path) -> Path:
    return harness.go_build("internal/llmtest/cmd/fakellm", out_dir)
