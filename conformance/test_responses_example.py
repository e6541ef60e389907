"""examples/responses-agent, run as a program: the Python `openai` client
(responses.create, plain and stream=True) gets its answers, and after a
SIGTERM every trace is in ./mlruns, read back with MLflow's client: an AGENT
root with the CHAT_MODEL and TOOL spans under it."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request

from parity import harness


def test_example_with_openai_client(tmp_path):
    import openai

    binary = harness.go_build("examples/responses-agent", tmp_path / "bin")
    port = harness.free_port()
    env = harness.clean_env(PORT=str(port))
    env.pop("OPENAI_BASE_URL", None)
    proc = subprocess.Popen([str(binary)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("example did not start: " + (proc.stdout.read() if proc.poll() is not None else ""))
                time.sleep(0.2)

        client = openai.OpenAI(base_url=url + "/", api_key="unused", max_retries=0)
        resp = client.responses.create(model="agent", input=[{"role": "user", "content": "Weather in Paris, in Fahrenheit?"}])
        assert [o.type for o in resp.output] == ["function_call", "function_call_output", "function_call", "function_call_output", "message"]
        assert "64.4F" in resp.output_text and "Paris: 18C, sunny" in resp.output_text

        text, done = "", []
        for ev in client.responses.create(model="agent", input=[{"role": "user", "content": "Weather in Rome?"}], stream=True):
            if ev.type == "response.output_text.delta":
                text += ev.delta
            elif ev.type == "response.output_item.done":
                done.append(ev.item.type)
        assert done == ["function_call", "function_call_output", "message"]
        assert "Rome: 24C, clear" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out

    import mlflow

    traces = mlflow.MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri()).search_traces(locations=["0"])
    assert len(traces) == 2
    for t in traces:
        root = t.data.spans[0]
        assert root.parent_id is None and root.span_type == "AGENT"
        kinds = sorted(s.span_type for s in t.data.spans[1:])
        assert kinds.count("CHAT_MODEL") >= 2 and "TOOL" in kinds
        assert all(s.parent_id == root.span_id for s in t.data.spans[1:])
        assert t.info.state.value == "OK"
