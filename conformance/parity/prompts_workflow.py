"""MLflow's prompt registry with MLflow's own Python SDK, the counterpart of
conformance/cmd/prompts (package prompts). Run with MLFLOW_TRACKING_URI set:

  python prompts_workflow.py register <suffix>   registers the prompts (names end in <suffix>)
  python prompts_workflow.py format              stdin: the cases (JSON); prints the results
  python prompts_workflow.py trace <suffix>      the traced workflow; prints {"trace_id": ...}

PROMPTS_TRACE_URI, when set, is where `trace` writes the trace (a ./mlruns
store); the prompts still come from MLFLOW_TRACKING_URI's registry.
PROMPTS_NAME_PREFIX prefixes every prompt name ("main.default." for a
Databricks workspace's Unity Catalog registry, whose names have three parts).

Keep `trace` in step with the Go program: same spans, loads and formats.
"""

import json
import os
import sys

import mlflow
from mlflow.entities import SpanType

QUESTION = "What is MLflow?"


def names(suffix):
    prefix = os.environ.get("PROMPTS_NAME_PREFIX", "")
    return {"qa": prefix + "qa" + suffix, "chat": prefix + "chat" + suffix}


def register(suffix):
    n = names(suffix)
    mlflow.genai.register_prompt(
        name=n["qa"],
        template="Answer {{ question }} in a {{style}} way.",
        commit_message="first",
        tags={"author": "alice"},
    )
    mlflow.genai.register_prompt(
        name=n["qa"],
        template="Q: {{question}}\nStyle: {{ style }}\n{{ user.name }} asks. Cost: {{cost}} Ok: {{ok}} None: {{nothing}} List: {{items}}",
        commit_message="second",
        response_format={"type": "object", "properties": {"answer": {"type": "string"}}},
        model_config={"model_name": "gpt-4o-mini", "temperature": 0.2},
    )
    mlflow.genai.set_prompt_alias(n["qa"], alias="production", version=1)
    mlflow.genai.register_prompt(
        name=n["chat"],
        template=[
            {"role": "system", "content": "You are {{ persona }}.\tBe {{style}}."},
            {"role": "user", "content": "{{question}} \\ {{\tnot_a_var}} {{ é }}"},
        ],
    )


def run_format(cases):
    out = []
    for c in cases:
        try:
            kwargs = {}
            if "version" in c:
                kwargs["version"] = c["version"]
            p = mlflow.genai.load_prompt(c["uri"], cache_ttl_seconds=0, **kwargs)
            if p is None:
                # MLflow's Unity Catalog store answers a missing version
                # with None, allow_missing or not.
                out.append({"none": True})
                continue
            info = {
                "name": p.name,
                "version": p.version,
                "variables": sorted(p.variables),
                "aliases": sorted(p.aliases),
                "tags": p.tags,
                "commit_message": p.commit_message,
                "response_format": p.response_format,
                "model_config": p.model_config,
                "is_chat": not p.is_text_prompt,
                "template": p.template,
            }
            if "vars" in c:
                # Keyword arguments in sorted order: package prompts fills
                # the variables in sorted order (a Go map has none).
                v = dict(sorted(c["vars"].items()))
                if c.get("partial"):
                    res = p.format(allow_partial=True, **v)
                    info["result"] = res.template if hasattr(res, "template") else res
                else:
                    info["result"] = p.format(**v)
            out.append(info)
        except Exception as e:  # noqa: BLE001 - the error is the result
            res = {"error": str(e), "code": getattr(e, "error_code", None)}
            if "vars" not in c:
                # Would load_prompt(allow_missing=True) return None?
                try:
                    res["allow_missing_none"] = (
                        mlflow.genai.load_prompt(c["uri"], cache_ttl_seconds=0, allow_missing=True, **kwargs) is None
                    )
                except Exception:  # noqa: BLE001
                    res["allow_missing_none"] = False
            out.append(res)
    return out


def trace(suffix):
    n = names(suffix)
    if os.environ.get("PROMPTS_TRACE_URI"):
        mlflow.set_registry_uri(mlflow.get_tracking_uri())
        mlflow.set_tracking_uri(os.environ["PROMPTS_TRACE_URI"])
    with mlflow.start_span(name="answer", span_type=SpanType.AGENT) as root:
        root.set_inputs({"question": QUESTION})
        qa = mlflow.genai.load_prompt(f"prompts:/{n['qa']}@production")
        text = qa.format(question=QUESTION, style="short")
        with mlflow.start_span(name="chat", span_type=SpanType.CHAT_MODEL) as chat:
            cp = mlflow.genai.load_prompt(f"prompts:/{n['chat']}/1")
            messages = cp.format(persona="a helper", question=text, style="brief")
            chat.set_inputs({"messages": messages})
            # The same version again: linked once.
            mlflow.genai.load_prompt(f"prompts:/{n['qa']}/1")
            chat.set_outputs({"content": "An open source platform."})
        root.set_outputs("An open source platform.")
        trace_id = root.trace_id
    mlflow.flush_trace_async_logging()
    return trace_id


def main():
    mode = sys.argv[1]
    if mode == "register":
        register(sys.argv[2])
    elif mode == "format":
        json.dump(run_format(json.load(sys.stdin)), sys.stdout)
        sys.stdout.write("\n")
    elif mode == "trace":
        json.dump({"trace_id": trace(sys.argv[2])}, sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
