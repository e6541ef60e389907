"""Regenerates pyschema.json from the google-genai Python package pinned in
conformance/requirements.txt (run with the project's .venv: `go generate
./autoinstrument/genai`).

MLflow's Gemini autolog records the Python SDK's pydantic objects
(model_dump(): snake_case field names, in each model's field order). The Go
integration sees the REST JSON (camelCase members) and converts it to that
form; pyschema.json tells it, for every model reachable from the request and
response types it records, the fields in order: the Python name, the REST
name, and what the value is — another model (or a list of them), a map of
models, bytes, a datetime, a float (a list of floats), or a plain JSON value
kept as is.
"""

from __future__ import annotations

import datetime
import json
import sys
import types as pytypes
import typing

import pydantic
from google.genai import types

ROOTS = [
    "GenerateContentResponse", "EmbedContentResponse", "CountTokensResponse",
    "Content", "GenerateContentConfig", "EmbedContentConfig", "CountTokensConfig", "Tool",
]
# Fields whose annotation hides the model type (a validator-wrapped list).
OVERRIDES = {("GenerateContentConfig", "tools"): {"model": "Tool"}}


def classify(ann) -> dict:
    """The kind of a field's value: {"model": X} (X, or a list of X),
    {"map": X} (dict[str, X]), {"bytes": true}, {"datetime": true}, or {}."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return classify(args[0])
    if origin in (typing.Union, pytypes.UnionType):
        kinds = [classify(a) for a in args if a is not type(None)]
        models = {k["model"] for k in kinds if "model" in k}
        if len(models) == 1:
            return {"model": models.pop()}
        for k in kinds:
            if k:
                return k
        return {}
    if origin is list:
        return classify(args[0]) if args else {}
    if origin is dict:
        if len(args) == 2:
            inner = classify(args[1])
            if "model" in inner:
                return {"map": inner["model"]}
        return {}
    if isinstance(ann, type):
        if issubclass(ann, pydantic.BaseModel) and ann.__module__ == types.__name__:
            return {"model": ann.__name__}
        if issubclass(ann, bytes):
            return {"bytes": True}
        if issubclass(ann, float):
            return {"float": True}
        if issubclass(ann, datetime.datetime):
            return {"datetime": True}
    return {}


def main() -> None:
    models: dict[str, list] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in models:
            continue
        cls = getattr(types, name)
        fields = []
        for fname, f in cls.model_fields.items():
            kind = OVERRIDES.get((name, fname)) or classify(f.annotation)
            fields.append({"name": fname, "rest": f.alias or fname, **kind})
            for ref in (kind.get("model"), kind.get("map")):
                if ref and ref not in models:
                    todo.append(ref)
        models[name] = fields
    import google.genai
    out = {"google_genai": google.genai.__version__, "models": dict(sorted(models.items()))}
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
