"""Normalise an MLflow trace (as loaded by MlflowClient.get_trace) so that a
trace written by MLflow's Python SDK and one written by mlflowtrace-go for the
same workflow can be compared field by field.

What normalisation removes, and why (every entry is an environment-specific or
run-specific value, or a documented intentional difference):

- ids and times: trace_id, span ids, request_time, execution_duration, span
  start/end times, event times. Checked for consistency instead (every span has
  the trace's id in mlflow.traceRequestId, children lie inside their parent).
- mlflow.source.name: the program path (a Python script vs a Go binary); must
  be non-empty on both sides.
- mlflow.source.git.*: depends on how each SDK finds git (MLflow needs
  GitPython; Go reads the binary's VCS build info). Not compared.
- mlflow.trace.sizeStats / mlflow.trace.sizeBytes: byte sizes differ because
  function names and stack traces differ; num_spans is compared exactly.
- mlflow.artifactLocation: contains the trace id and the store root.
- mlflow.spanFunctionName: Python records the Python function name, Go the Go
  function name (intentional); both sides must have it on the same spans.
- exception.stacktrace: a Python traceback vs a Go stack; must be non-empty.
- exception.type and the "<Type>: " prefix of an error status message: Go
  type names are package-qualified ("main.UnsupportedUnitError"), Python's are
  bare ("UnsupportedUnitError"); the package qualifier is dropped on both sides.

normalize_llm() adds, for traces of LLM client calls (MLflow's OpenAI and
Anthropic autolog vs package autoinstrument; test_llm_parity.py), only:

- span outputs and stream chunk events (mlflow.chunk.value) are compared as
  JSON values without null-valued members, integral floats as integers, and
  their stored text is not compared: Python records the SDK's pydantic object
  (model_dump(): every field the model declares, absent ones as null, in the
  model's field order, wire integers coerced to float for float fields such
  as created_at), Go records the response body as received. Inputs are
  compared exactly, value and text.
- the trace's response preview and mlflow.traceOutputs, where they are the
  first characters of the root span's stored outputs text (MLflow's preview
  of an object it does not read as chat), are compared through the outputs;
  previews MLflow extracts (the assistant's text) are compared as they are.
- the "date" header in the ResponseMetadata of Bedrock outputs (botocore's
  record of the answer's headers): the time the fake answered.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable

# Metadata keys whose values are environment-specific: presence only.
ENV_METADATA = {"mlflow.source.name"}
# Metadata keys not compared at all (see module docstring).
SKIP_METADATA_PREFIXES = ("mlflow.source.git.",)
SIZE_METADATA = {"mlflow.trace.sizeStats", "mlflow.trace.sizeBytes"}


def _json_or_raw(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def normalize(trace: dict, store_root: str | None = None) -> dict:
    """trace is Trace.to_dict(); store_root is replaced by <root> in paths."""
    info = trace["info"]
    trace_id = info["trace_id"]

    def scrub(s: str) -> str:
        s = s.replace(trace_id, "<trace_id>")
        if store_root:
            s = s.replace(str(store_root), "<root>")
        return s

    meta = {}
    for k, v in (info.get("trace_metadata") or {}).items():
        if k.startswith(SKIP_METADATA_PREFIXES):
            continue
        if k in ENV_METADATA:
            meta[k] = "<non-empty>" if v else v
        elif k == "mlflow.trace.sizeStats":
            stats = json.loads(v)
            meta[k] = {
                sk: (sv if sk == "num_spans" else ("<int>" if isinstance(sv, int) else sv))
                for sk, sv in stats.items()
            }
        elif k == "mlflow.trace.sizeBytes":
            meta[k] = "<int>" if v.isdigit() else v
        else:
            meta[k] = v

    tags = {k: scrub(v) for k, v in (info.get("tags") or {}).items()}

    spans = trace["data"]["spans"]
    by_id = {s["span_id"]: s for s in spans}
    problems = []
    if len(by_id) != len(spans):
        problems.append("duplicate span ids")
    names = [s["name"] for s in spans]
    if len(set(names)) != len(names):
        problems.append(f"span names not unique: {names}")

    out_spans = {}
    for s in spans:
        parent = s.get("parent_span_id")
        if parent and parent not in by_id:
            problems.append(f"span {s['name']!r}: parent {parent} not in trace")
        if s["end_time_unix_nano"] < s["start_time_unix_nano"]:
            problems.append(f"span {s['name']!r}: ends before it starts")
        if parent and parent in by_id:
            p = by_id[parent]
            if s["start_time_unix_nano"] < p["start_time_unix_nano"] or (
                s["end_time_unix_nano"] > p["end_time_unix_nano"]
            ):
                problems.append(f"span {s['name']!r}: not inside parent {p['name']!r}")
        attrs, raw_attrs = {}, {}
        for k, v in (s.get("attributes") or {}).items():
            raw_attrs[k] = v
            val = _json_or_raw(v)
            if k == "mlflow.traceRequestId":
                if val != trace_id:
                    problems.append(f"span {s['name']!r}: mlflow.traceRequestId {val!r} != {trace_id}")
                val = raw_attrs[k] = "<trace_id>"
            elif k == "mlflow.spanFunctionName":
                val = raw_attrs[k] = "<function>" if val else val
            attrs[k] = val
        events = []
        for e in s.get("events") or []:
            ea = dict(e.get("attributes") or {})
            if isinstance(ea.get("exception.type"), str):
                ea["exception.type"] = _bare_type(ea["exception.type"])
            if "exception.stacktrace" in ea:
                ea["exception.stacktrace"] = "<non-empty>" if ea["exception.stacktrace"] else ""
            events.append({"name": e["name"], "attributes": ea})
        status = s.get("status") or {}
        message = status.get("message") or ""
        if ": " in message:
            typ, rest = message.split(": ", 1)
            message = _bare_type(typ) + ": " + rest
        out_spans[s["name"]] = {
            "parent": by_id[parent]["name"] if parent in by_id else None,
            "status": {"code": status.get("code"), "message": message},
            "attributes": attrs,
            # The stored JSON text too: the same value must also be encoded
            # the same way (Python's json.dumps separators, key order).
            "attributes_raw": raw_attrs,
            "events": events,
        }

    order = [s["name"] for s in sorted(spans, key=lambda s: s["start_time_unix_nano"])]

    return {
        "info": {
            "trace_location": info.get("trace_location"),
            "state": info.get("state"),
            "request_preview": info.get("request_preview"),
            "response_preview": info.get("response_preview"),
            "client_request_id": info.get("client_request_id"),
            "trace_metadata": meta,
            "tags": tags,
        },
        "span_order": order,
        "spans": out_spans,
        "problems": problems,
    }


def _bare_type(name: str) -> str:
    """main.UnsupportedUnitError -> UnsupportedUnitError (a Go or Python
    qualified type name without its package path)."""
    return name.rsplit(".", 1)[-1] if " " not in name else name


_MISSING = "<missing>"


def diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where a and b differ, as (path, a value, b value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    if a != b or type(a) is not type(b):
        return [(path, a, b)]
    return []


def format_diffs(diffs: list[tuple[str, Any, Any]], left: str = "python", right: str = "go") -> str:
    lines = []
    for path, a, b in diffs:
        lines.append(f"{path}\n    {left}: {a!r}\n    {right}: {b!r}")
    return "\n".join(lines)


def known_diff_failures(scenario: str, py: dict, go: dict, known: dict) -> list[str]:
    """Compares two normalised traces (their "problems" aside). The differences whose
    paths are in `known` (path -> why) are expected; returns the failures: differences
    not documented there, and documented ones no longer seen."""
    diffs = diff({k: v for k, v in py.items() if k != "problems"},
                 {k: v for k, v in go.items() if k != "problems"})
    failures = []
    missing = set(known) - {d[0] for d in diffs}
    rest = [d for d in diffs if d[0] not in known]
    if missing:
        failures.append(f"{scenario}: documented differences no longer seen: {sorted(missing)}")
    if rest:
        failures.append(f"{scenario}: Python and Go traces differ:\n" + format_diffs(rest))
    return failures


def scenario_failures(scenarios: dict[str, str], go: Callable[[str], dict], py: Callable[[str], dict],
                      known: dict[str, dict], known_extra: dict[str, dict] | None = None) -> list[str]:
    """Compares the normalised Go and Python traces of each scenario (scenario -> its
    one span's name; go and py give a scenario's normalised trace): both must have no
    problems and exactly that span; their differences must be the documented ones
    (known, plus known_extra, per scenario: path -> why). Returns the failures."""
    failures = []
    for scenario, span in scenarios.items():
        g, p = go(scenario), py(scenario)
        for who, n in (("go", g), ("python", p)):
            assert not n["problems"], (scenario, who, n["problems"])
            assert list(n["spans"]) == [span], (scenario, who, list(n["spans"]))
        documented = {**known.get(scenario, {}), **(known_extra or {}).get(scenario, {})}
        failures += known_diff_failures(scenario, p, g, documented)
    return failures


def _strip_nulls(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip_nulls(x) for x in v]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _preview_of(preview: str | None, text: str | None) -> bool:
    """preview is text, or text cut with a trailing "..."."""
    if preview is None or text is None:
        return preview == text
    if preview == text:
        return True
    return preview.endswith("...") and text.startswith(preview[:-3])


def normalize_llm(norm: dict, raw_outputs_of_root: str | None) -> dict:
    """Applies the LLM-call normalisations (module docstring) to the result of
    normalize(); raw_outputs_of_root is the root span's stored outputs text."""
    info = norm["info"]
    meta = info["trace_metadata"]
    for key, where in (("response_preview", info), ("mlflow.traceOutputs", meta)):
        if where.get(key) and raw_outputs_of_root and _preview_of(where[key], raw_outputs_of_root):
            where[key] = "<root outputs>"
    for span in norm["spans"].values():
        attrs, raw = span["attributes"], span["attributes_raw"]
        if "mlflow.spanOutputs" in attrs:
            attrs["mlflow.spanOutputs"] = _strip_nulls(attrs["mlflow.spanOutputs"])
            raw["mlflow.spanOutputs"] = "<compared as value>"
            out = attrs["mlflow.spanOutputs"]
            headers = out.get("ResponseMetadata", {}).get("HTTPHeaders") if isinstance(out, dict) else None
            if isinstance(headers, dict) and "date" in headers:
                headers["date"] = "<date>"
        for e in span["events"]:
            ea = e["attributes"]
            if isinstance(ea.get("mlflow.chunk.value"), str):
                ea["mlflow.chunk.value"] = _strip_nulls(_json_or_raw(ea["mlflow.chunk.value"]))
    return norm


# --- LangChain: MLflow's LangChain autolog vs autoinstrument/langchaingo ----
#
# normalize_langchain() prepares both traces of a test_langchain_parity.py
# workflow (Python LangChain's ChatOpenAI under mlflow.langchain.autolog, and
# langchaingo's llms/openai reporting to autoinstrument/langchaingo) before
# normalize(). Python LangChain and langchaingo are different libraries; only
# what follows from that is normalised:
#
# - LANGCHAIN_NAMES: MLflow names a LangChain span after the component's class
#   ("ChatOpenAI", "RunnableSequence"); langchaingo's callbacks carry no
#   component names, so the Go handler uses the tracer's defaults for an
#   unnamed component ("chat model", "chain"). The Python names are mapped to
#   those (spans and the mlflow.traceName tag).
# - LANGCHAIN_RUN_KWARGS: attributes MLflow's tracer copies verbatim from the
#   keyword arguments LangChain's callback manager passes (invocation_params,
#   options, batch_size, metadata with ls_* and lc_versions; a tool's console
#   color and tool_call_id). langchaingo's callbacks carry none of them. What
#   MLflow derives from them (mlflow.llm.model / provider, from
#   metadata.ls_model_name / ls_provider) is compared.
# - LANGCHAIN_ONLY_SPANS: LangChain runs the prompt template of
#   `prompt | llm` as a runnable with callbacks of its own (a CHAIN span
#   "PromptTemplate"); langchaingo's chains.LLMChain formats its prompt
#   without a callback. The Python span is dropped (and num_spans adjusted);
#   the prompt's effect is compared through the model's input messages.
# - A RunnableSequence that ends in a chat model outputs the model's AIMessage
#   (LangChain's dump of it: content, response_metadata, usage_metadata, run
#   id...); langchaingo's LLMChain outputs {"text": <content>}. The Python
#   chain's outputs are reduced to {"text": content}; the response preview and
#   mlflow.traceOutputs, the first characters of those outputs, are compared
#   through them ("<root outputs>").
# - Spans with the same name (two model calls) are told apart as "name #2",
#   "#3"... in start order.
# - Tool-call ids: the fake derives them from the request's JSON value, and
#   ChatOpenAI's requests carry "stream": false, which langchaingo leaves out
#   (see same_request in test_langchain_parity.py). Each distinct id becomes
#   "<call N>" in order of first appearance, so which message refers to which
#   call is still compared.

LANGCHAIN_NAMES = {"ChatOpenAI": "chat model", "RunnableSequence": "chain"}
LANGCHAIN_RUN_KWARGS = {"invocation_params", "options", "batch_size", "metadata", "color", "tool_call_id"}
LANGCHAIN_ONLY_SPANS = {"PromptTemplate"}
_CALL_ID = re.compile(r"call_[0-9a-f]{24}")


def _drop_spans(spans: list, meta: dict, names: set) -> None:
    """Removes the spans named in names (one side's spans the other SDK has
    no counterpart of) and counts them out of num_spans."""
    dropped = [s for s in spans if s["name"] in names]
    spans[:] = [s for s in spans if s["name"] not in names]
    if dropped and "mlflow.trace.sizeStats" in meta:
        stats = json.loads(meta["mlflow.trace.sizeStats"])
        stats["num_spans"] -= len(dropped)
        meta["mlflow.trace.sizeStats"] = json.dumps(stats)


def normalize_langchain(trace: dict) -> dict:
    """Applies the LangChain normalisations above to a Trace.to_dict() (a
    copy), before normalize()."""
    trace = copy.deepcopy(trace)
    info, spans = trace["info"], trace["data"]["spans"]
    meta, tags = info.get("trace_metadata") or {}, info.get("tags") or {}

    _drop_spans(spans, meta, LANGCHAIN_ONLY_SPANS)

    if tags.get("mlflow.traceName") in LANGCHAIN_NAMES:
        tags["mlflow.traceName"] = LANGCHAIN_NAMES[tags["mlflow.traceName"]]
    spans.sort(key=lambda s: s["start_time_unix_nano"])
    seen: dict[str, int] = {}
    ids: dict[str, str] = {}

    def call_ids(text: str) -> str:
        return _CALL_ID.sub(lambda m: ids.setdefault(m.group(0), f"<call {len(ids) + 1}>"), text)

    for s in spans:
        name = LANGCHAIN_NAMES.get(s["name"], s["name"])
        seen[name] = seen.get(name, 0) + 1
        s["name"] = name if seen[name] == 1 else f"{name} #{seen[name]}"
        attrs = s.get("attributes") or {}
        for k in LANGCHAIN_RUN_KWARGS:
            attrs.pop(k, None)
        for k in sorted(attrs):
            if isinstance(attrs[k], str):
                attrs[k] = call_ids(attrs[k])

    root = next((s for s in spans if not s.get("parent_span_id")), None)
    if root is not None:
        attrs = root.get("attributes") or {}
        raw = attrs.get("mlflow.spanOutputs")
        out = _json_or_raw(raw)
        if isinstance(out, dict) and out.get("type") == "ai" and isinstance(out.get("content"), str):
            for key, where in (("response_preview", info), ("mlflow.traceOutputs", meta)):
                if where.get(key) and _preview_of(where[key], raw):
                    where[key] = "<root outputs>"
            attrs["mlflow.spanOutputs"] = json.dumps({"text": out["content"]}, ensure_ascii=False)
        elif isinstance(out, dict) and set(out) == {"text"}:
            for key, where in (("response_preview", info), ("mlflow.traceOutputs", meta)):
                if where.get(key) and _preview_of(where[key], raw):
                    where[key] = "<root outputs>"
    return trace


# --- Gemini: MLflow's Gemini autolog vs autoinstrument/genai ----------------
#
# normalize_gemini() prepares both traces of a test_gemini_parity.py scenario
# (google-genai under mlflow.gemini.autolog, and google.golang.org/genai
# through autoinstrument/genai) before normalize(). Outputs are compared as
# values and as stored text (normalize_llm is not applied: the Go spans record
# the Python SDK's model_dump() of the response, nulls included). Only this
# is normalised:
#
# - GEMINI_PYTHON_ONLY_SPANS: MLflow patches both Models.generate_content and
#   the Python SDK's internal Models._generate_content, which generate_content
#   calls once per round of its automatic function calling (Python functions
#   given as tools); every Python generate_content call so has a child span
#   with the same outputs. The Go SDK has no automatic function calling and
#   autoinstrument/genai records the call once. The Python child span is
#   dropped (and num_spans adjusted); its parent is compared.
# - The response's Date header (sdk_http_response.headers.date) and Vertex
#   AI's create_time are the times the fake answered each client:
#   "<date>" / "<time>" in span outputs and in the trace's outputs preview.

GEMINI_PYTHON_ONLY_SPANS = {"Models._generate_content"}
# (A preview may end inside the value: cut there, with "...".)
_GEMINI_TIMES = [
    (re.compile(r'("date": )"[^"]*?(?:"|\.\.\.$)'), r'\1"<date>"'),
    (re.compile(r'("create_time": )"[^"]*?(?:"|\.\.\.$)'), r'\1"<time>"'),
]


def _gemini_times(text):
    if not isinstance(text, str):
        return text
    for pattern, repl in _GEMINI_TIMES:
        text = pattern.sub(repl, text)
    return text


def normalize_gemini(trace: dict) -> dict:
    """Applies the Gemini normalisations above to a Trace.to_dict() (a copy),
    before normalize()."""
    trace = copy.deepcopy(trace)
    info, spans = trace["info"], trace["data"]["spans"]
    meta = info.get("trace_metadata") or {}
    _drop_spans(spans, meta, GEMINI_PYTHON_ONLY_SPANS)
    for s in spans:
        attrs = s.get("attributes") or {}
        if "mlflow.spanOutputs" in attrs:
            attrs["mlflow.spanOutputs"] = _gemini_times(attrs["mlflow.spanOutputs"])
    if "mlflow.traceOutputs" in meta:
        meta["mlflow.traceOutputs"] = _gemini_times(meta["mlflow.traceOutputs"])
    info["response_preview"] = _gemini_times(info.get("response_preview"))
    return trace
