"""ResponsesAgent conformance: package responsesagent against MLflow 3.17.2's
own models and clients.

- Every payload the Go server (responsesagent.NewHandler, served by
  conformance/cmd/responsesagent) emits is validated by MLflow's
  ResponsesAgentResponse / ResponsesAgentStreamEvent; a returned trace
  (databricks_options.return_trace) is parsed by MLflow's Trace.from_dict.
- Every request fixture, as MLflow's ResponsesAgentRequest dumps it, is
  accepted by the Go server; every request MLflow rejects gets a 400.
- The int, float and bool members pydantic's lax mode converts, and the
  "stream" flag MLflow's server reads with Python's truth, are accepted,
  converted and rejected as MLflow does (responses_lax.py).
- The trace values Go records equal MLflow's pydantic model_dump of the same
  payload (member for member, in order).
- The Python `openai` package (responses.create, plain and stream=True) talks
  to the Go server.
- Parity: a Python mlflow.pyfunc.ResponsesAgent and the Go agent answering the
  same conversation give traces that match field by field (predict and
  predict_stream).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

import pytest

from parity import compare, harness

FIXTURES = harness.MODULE_ROOT / "responsesagent" / "testdata" / "fixtures.json"
PARITY_PY = harness.MODULE_ROOT / "conformance" / "parity" / "responses_agent.py"


def fixtures() -> dict:
    return json.loads(FIXTURES.read_text())


def quiet(fn, *args, **kwargs):
    """Calls an MLflow model constructor with its (harmless) warnings hidden."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def gocmd(tmp_path_factory):
    return harness.go_build("conformance/cmd/responsesagent", tmp_path_factory.mktemp("gobin"))


@pytest.fixture(scope="module")
def go_server(gocmd, tmp_path_factory):
    """The Go handler on a free loopback port; traces in a local store."""
    work = tmp_path_factory.mktemp("goserver")
    env = harness.clean_env(MLFLOW_TRACKING_URI=(work / "mlruns").as_uri())
    proc = subprocess.Popen(
        [str(gocmd), "serve", "-fixtures", str(FIXTURES)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"server did not start: {proc.stderr.read()}")
    url = json.loads(line)["url"]
    yield {"url": url, "mlruns": work / "mlruns"}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert proc.returncode == 0, proc.stderr.read()


def call(url: str, body, headers: dict | None = None):
    """POSTs body (a dict, or raw bytes); returns (status, content type, body text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def sse_data(text: str) -> list[str]:
    """The data payloads of an SSE body, checking MLflow's framing."""
    assert text.endswith("\n\n"), text[-50:]
    out = []
    for event in text[:-2].split("\n\n"):
        assert event.startswith("data: ") and "\n" not in event, repr(event)
        out.append(event[len("data: "):])
    return out


def user_request(text: str, **extra) -> dict:
    return {"input": [{"role": "user", "content": text}], **extra}


# --- what the Go server emits, validated by MLflow's models --------------------


def test_go_responses_validate(go_server):
    from mlflow.types.responses import ResponsesAgentResponse

    for name in fixtures()["responses"]:
        status, ctype, body = call(go_server["url"] + "/invocations", user_request("x", custom_inputs={"fixture": name}))
        assert status == 200 and ctype.startswith("application/json"), (name, status, body)
        quiet(ResponsesAgentResponse, **json.loads(body))
    # The echo agent, with the trace id header.
    status, _, body = call(go_server["url"] + "/responses", user_request("hi"), {"x-mlflow-return-trace-id": "true"})
    resp = quiet(ResponsesAgentResponse, **json.loads(body))
    # (Response.output_text of MLflow 3.17 fails on validated items: they
    # keep their content as dicts; read it directly.)
    assert resp.output[0].content[0]["text"] == "echo: hi"
    assert resp.metadata["trace_id"].startswith("tr-")


def test_go_stream_events_validate(go_server):
    from mlflow.types.responses import ResponsesAgentStreamEvent

    want = fixtures()["events"]
    status, ctype, body = call(
        go_server["url"] + "/invocations",
        user_request("x", stream=True, custom_inputs={"fixture": "events"}),
        {"x-mlflow-return-trace-id": "true"},
    )
    assert status == 200 and ctype.startswith("text/event-stream"), (status, ctype)
    data = sse_data(body)
    assert data[-1] == "[DONE]"
    assert set(json.loads(data[-2])) == {"trace_id"}
    events = [json.loads(d) for d in data[:-2]]
    assert len(events) == len(want)
    for ev in events:
        quiet(ResponsesAgentStreamEvent, **ev)
    # Each event arrives as the fixture was written: same members, same order.
    for ev, name in zip(events, sorted(want)):
        assert list(ev) == [k for k, v in want[name].items() if v is not None], name


def test_go_stream_error_framing(go_server):
    status, _, body = call(go_server["url"] + "/invocations", user_request("fail", stream=True))
    data = sse_data(body)
    assert status == 200
    assert json.loads(data[-2]) == {"error": "the agent failed on purpose"}
    assert data[-1] == "[DONE]"


def test_go_return_trace_parsed_by_mlflow(go_server):
    from mlflow.entities import Trace
    from mlflow.types.responses import ResponsesAgentResponse

    status, _, body = call(
        go_server["url"] + "/invocations",
        user_request("trace me", databricks_options={"return_trace": True}, context={"conversation_id": "c9"}),
    )
    assert status == 200, body
    out = json.loads(body)
    trace_dict = out.pop("databricks_output")["trace"]
    quiet(ResponsesAgentResponse, **out)
    trace = Trace.from_dict(trace_dict)
    assert trace.info.trace_id.startswith("tr-")
    assert trace.info.state.value == "OK"
    assert trace.info.trace_metadata["mlflow.trace.session"] == "c9"
    assert trace.info.request_preview == "trace me"
    assert trace.info.response_preview == "echo: trace me"
    root = trace.data.spans[0]
    assert root.name == "predict" and root.span_type == "AGENT"
    assert root.attributes["mlflow.message.format"] == "openai"
    assert root.outputs["output"][0]["content"][0]["text"] == "echo: trace me"
    assert trace_dict["info"]["trace_location"]["mlflow_experiment"]["experiment_id"] == "0"


# --- what MLflow's models produce, accepted by the Go server -------------------


def test_go_accepts_mlflow_payloads(go_server):
    from mlflow.types.responses import ResponsesAgentRequest

    for name, payload in fixtures()["requests"].items():
        req = quiet(ResponsesAgentRequest, **payload)
        for dumped in (req.model_dump(exclude_none=True), req.model_dump(), payload):
            dumped = {k: v for k, v in dumped.items() if k != "stream"}
            status, _, body = call(go_server["url"] + "/invocations", dumped)
            assert status == 200, (name, body)


def test_go_rejects_what_mlflow_rejects(go_server):
    from mlflow.types.responses import ResponsesAgentRequest

    for name, case in fixtures()["invalid_requests"].items():
        with pytest.raises(Exception):
            quiet(ResponsesAgentRequest, **case["payload"])
        status, ctype, body = call(go_server["url"] + "/invocations", case["payload"])
        assert status == 400 and ctype.startswith("application/json"), (name, status, body)
        err = json.loads(body)
        assert err["error"]["param"] == case["field"], (name, err)
        assert err["detail"].startswith("Invalid parameters for ResponsesAgent: "), err
    for raw in (b"", b"{", b"[]", b"\xff"):
        status, _, body = call(go_server["url"] + "/invocations", raw)
        assert status == 400 and "detail" in json.loads(body)


def test_lax_members_match_mlflow(go_server):
    """The int, float and bool members MLflow's pydantic models convert in lax
    mode ("5" -> 5, "yes" -> true) and the "stream" flag its server reads with
    Python's truth: the recorded table (responsesagent/testdata/lax_cases.json,
    TestLaxMembers) is still MLflow's outcome, and the Go handler gives the
    same: accepted with the same value seen by the agent, or a 400 naming the
    member; streamed exactly when MLflow streams."""
    import responses_lax

    cases = json.loads(responses_lax.OUT.read_text())["cases"]
    assert [(c["field"], c["json"]) for c in cases] == responses_lax.CASES, "regenerate: python conformance/responses_lax.py"
    for c in cases:
        case = (c["field"], c["json"])
        want = responses_lax.mlflow_outcome(*case)
        assert c["mlflow"] == want, (case, "table differs from MLflow; regenerate it", want)
        status, ctype, body = call(go_server["url"] + "/invocations", c["body"].encode())
        if not want["ok"]:
            assert status == 400, (case, status, body)
            assert json.loads(body)["error"]["param"] == c["field"], (case, body)
            continue
        assert status == 200, (case, body)
        if c["field"] == "stream":
            assert ctype.startswith("text/event-stream") == want["value"], (case, ctype)
            continue
        got = json.loads(body)["custom_outputs"].get(c["field"])
        # (JSON has one number type: Go writes the float 1.0 as 1; a bool is no number.)
        assert got == want["value"] and isinstance(got, bool) == isinstance(want["value"], bool), (case, got, want)


def test_invalid_fixtures_rejected_by_mlflow():
    from mlflow.types.responses import ResponsesAgentResponse, ResponsesAgentStreamEvent

    f = fixtures()
    for kind, cls in (("responses", ResponsesAgentResponse), ("events", ResponsesAgentStreamEvent)):
        for name, payload in f[kind].items():
            quiet(cls, **payload)
        for name, case in f["invalid_" + kind].items():
            with pytest.raises(Exception):
                quiet(cls, **case["payload"])


# --- the trace values Go records equal MLflow's model_dump ---------------------


def test_go_trace_values_match_model_dump(go_server):
    """The echo agent's trace: inputs {"request": ResponsesAgentRequest.model_dump()}."""
    from mlflow.types.responses import ResponsesAgentRequest

    payload = dict(fixtures()["requests"]["history_with_every_item_type"])
    payload["input"] = payload["input"] + [{"role": "user", "content": "dump me"}]
    status, _, body = call(go_server["url"] + "/invocations", payload, {"x-mlflow-return-trace-id": "true"})
    assert status == 200, body
    trace_id = json.loads(body)["metadata"]["trace_id"]
    trace = harness.load_trace(go_server["mlruns"].as_uri(), trace_id)
    root = trace["data"]["spans"][0]
    want = json.dumps({"request": quiet(ResponsesAgentRequest, **payload).model_dump()})
    assert root["attributes"]["mlflow.spanInputs"] == want


# --- conversions, against MLflow's helpers ------------------------------------

CHUNKS = [
    {"id": "c1", "choices": [{"delta": {"role": "assistant", "content": [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "Think"}]}]}}]},
    {"id": "c1", "choices": [{"delta": {"content": [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "ing."}]}]}}]},
    {"id": "c1", "choices": [{"delta": {"content": "Checking "}}]},
    {"id": "c1", "choices": [{"delta": {"content": [{"type": "text", "text": "both."}]}}]},
    {"id": "c1", "choices": []},
    {"id": "c1", "choices": [{"delta": {"tool_calls": [
        {"index": 0, "id": "call_a", "function": {"name": "get_weather", "arguments": "{\"city\": "}},
        {"index": 1, "id": "call_b", "function": {"name": "get_weather", "arguments": ""}}]}}]},
    {"id": "c1", "choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{\"city\": \"Rome\"}"}}]}}]},
    {"id": "c1", "choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}}]},
    {"id": "c1", "choices": [{"delta": {"content": None}, "finish_reason": "tool_calls"}]},
]


def test_conversions_match_mlflow(gocmd):
    from mlflow.types.responses import output_to_responses_items_stream, to_chat_completions_input

    history = [
        item for item in fixtures()["requests"]["history_with_every_item_type"]["input"]
        if not (item.get("type") == "message" and item.get("role") == "assistant")  # MLflow fails on refusal parts
        and item.get("type") not in ("web_search_call", "file_search_call", "computer_call")
    ]
    res = subprocess.run([str(gocmd), "convert"], input=json.dumps({"input": history, "chunks": CHUNKS}),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)

    want_msgs = to_chat_completions_input(history)
    assert got["messages"] == want_msgs
    want_events = [e.model_dump(exclude_none=True) for e in output_to_responses_items_stream(iter(CHUNKS))]
    assert got["events"] == want_events
    assert [e["type"] for e in got["events"]].count("response.output_item.done") == 4  # reasoning, text, 2 calls


# --- the Python openai client ---------------------------------------------------


def test_python_openai_client(go_server):
    import openai

    client = openai.OpenAI(base_url=go_server["url"] + "/", api_key="unused", max_retries=0)
    resp = client.responses.create(model="my-agent", input=[{"role": "user", "content": "hello"}])
    assert resp.output_text == "echo: hello"
    assert resp.output[0].type == "message"

    types, text, done = [], "", None
    stream = client.responses.create(model="my-agent", input=[{"role": "user", "content": "hello"}], stream=True)
    for ev in stream:
        types.append(ev.type)
        if ev.type == "response.output_text.delta":
            text += ev.delta
        elif ev.type == "response.output_item.done":
            done = ev.item
    assert types == ["response.output_text.delta", "response.output_text.delta", "response.output_item.done"]
    assert text == "echo: hello"
    assert done.content[0].text == "echo: hello"

    # MLflow's mid-stream error event is {"error": "<text>"}: the client raises
    # APIError with a generic message and the text as its body.
    with pytest.raises(openai.APIError) as e:
        for _ in client.responses.create(model="m", input=[{"role": "user", "content": "fail"}], stream=True):
            pass
    assert e.value.body == "the agent failed on purpose"
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="m", input="a plain string")
    assert e.value.status_code == 400 and "input" in str(e.value)


# --- parity with a Python mlflow.pyfunc.ResponsesAgent --------------------------


def sanity(norm: dict, who: str, stream: bool) -> None:
    assert not norm["problems"], f"{who}: {norm['problems']}"
    assert set(norm["spans"]) == {"predict_stream" if stream else "predict", "plan_model", "get_weather", "answer_model"}, who
    meta = norm["info"]["trace_metadata"]
    assert meta["mlflow.trace.session"] == "conv-parity", who
    assert meta["mlflow.trace.user"] == "user-parity", who
    assert norm["info"]["request_preview"] == "What is the weather in Paris?", who
    assert norm["info"]["response_preview"] == "It is 18C and sunny in Paris.", who
    root = norm["spans"]["predict_stream" if stream else "predict"]
    assert root["attributes"]["mlflow.spanType"] == "AGENT", who


def run_parity(gocmd, tmp_path, py_uri: str, go_uri: str):
    py_dir, go_dir = tmp_path / "py", tmp_path / "go"
    py_dir.mkdir()
    go_dir.mkdir()
    env = harness.clean_env(MLFLOW_TRACKING_URI=py_uri, MLFLOW_ALLOW_FILE_STORE="true")
    py_ids = json.loads(harness.run([sys.executable, str(PARITY_PY)], env=env, cwd=py_dir).stdout.strip().splitlines()[-1])
    env = harness.clean_env(MLFLOW_TRACKING_URI=go_uri)
    go_ids = json.loads(harness.run([str(gocmd), "parity"], env=env, cwd=go_dir).stdout.strip().splitlines()[-1])
    return py_ids, go_ids


def assert_parity(py: dict, go: dict, kind: str) -> None:
    sanity(py, "python " + kind, kind == "predict_stream")
    sanity(go, "go " + kind, kind == "predict_stream")
    diffs = compare.diff(
        {k: v for k, v in py.items() if k != "problems"},
        {k: v for k, v in go.items() if k != "problems"},
    )
    assert not diffs, f"{kind}: Python and Go traces differ:\n" + compare.format_diffs(diffs)


def test_responses_agent_parity_local_store(gocmd, tmp_path):
    py_root, go_root = tmp_path / "py" / "mlruns", tmp_path / "go" / "mlruns"
    py_ids, go_ids = run_parity(gocmd, tmp_path, py_root.as_uri(), go_root.as_uri())
    for kind in ("predict", "predict_stream"):
        py = compare.normalize(harness.load_trace(str(py_root), py_ids[kind]), store_root=str(py_root))
        go = compare.normalize(harness.load_trace(str(go_root), go_ids[kind]), store_root=str(go_root))
        assert_parity(py, go, kind)


def test_responses_agent_parity_server(gocmd, tmp_path):
    with harness.MlflowServer(tmp_path / "server") as server:
        py_ids, go_ids = run_parity(gocmd, tmp_path, server.url, server.url)
        for kind in ("predict", "predict_stream"):
            py = compare.normalize(harness.load_trace(server.url, py_ids[kind]))
            go = compare.normalize(harness.load_trace(server.url, go_ids[kind]))
            assert_parity(py, go, kind)
