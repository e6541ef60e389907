"""MLflow's Python SDK makes, one by one, the trace calls that carry a
Databricks SQL warehouse id (run against the fake workspace with the
environment of a destination; JSON request on stdin, JSON result on stdout).
After each call it asks the fake how many v4 calls and requests it has
recorded so far, so test_traces.py can compare each call's requests with
those of package traces.

Request: {"trace_id": <a Unity Catalog trace>, "location": <catalog.schema>,
          "fake": <the fake's URL>}
Result:  {"marks": [[op, v4 calls so far, requests so far], ...]}
"""

from __future__ import annotations

import json
import sys
import urllib.request

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Feedback
from mlflow.tracing.client import TracingClient

req = json.load(sys.stdin)
tid, loc, fake = req["trace_id"], req["location"], req["fake"]


def counts() -> tuple[int, int]:
    with urllib.request.urlopen(fake + "/__fake/sql-warehouses", timeout=30) as r:
        calls = len(json.loads(r.read())["calls"])
    with urllib.request.urlopen(fake + "/__fake/state", timeout=30) as r:
        reqs = len(json.loads(r.read())["requests"])
    return calls, reqs


marks = [["start", *counts()]]


def mark(op: str) -> None:
    marks.append([op, *counts()])


client = MlflowClient()
client.get_trace(tid)
mark("get")
TracingClient().get_trace_info(tid)
mark("get_info")
client.search_traces(locations=[loc], include_spans=False)
mark("search_infos")
client.search_traces(locations=[loc])
mark("search")
fb = mlflow.log_feedback(trace_id=tid, name="quality", value=0.4)
mark("log_feedback")
mlflow.get_assessment(tid, fb.assessment_id)
mark("get_assessment")
mlflow.update_assessment(trace_id=tid, assessment_id=fb.assessment_id,
                         assessment=Feedback(name="quality", value=0.9, rationale="again"))
mark("update")
mlflow.delete_assessment(trace_id=tid, assessment_id=fb.assessment_id)
mark("delete_assessment")
mlflow.set_trace_tag(tid, "reviewed", "yes")
mark("set_tag")
mlflow.delete_trace_tag(tid, "reviewed")
mark("delete_tag")
print(json.dumps({"marks": marks}))
