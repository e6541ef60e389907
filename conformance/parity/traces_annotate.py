"""MLflow's Python SDK reads and annotates traces (run with the environment of
a destination; JSON request on stdin, JSON result on stdout). Used by
test_databricks.py against the fake workspace: what MLflow's own client does
there is what the fake must accept.

Request: {"trace_id": <a trace to annotate>, "read": [<trace ids to read>],
          "location": <experiment id or UC location to search>}
"""

from __future__ import annotations

import json
import sys

import mlflow
from mlflow.entities import AssessmentSource, Expectation

req = json.load(sys.stdin)
tid = req["trace_id"]
out = {"read": {t: mlflow.get_trace(t).to_dict() for t in req["read"]}}
out["search"] = [t.info.trace_id for t in mlflow.search_traces(locations=[req["location"]], return_type="list")]
out["search_filtered"] = [t.info.trace_id for t in mlflow.search_traces(
    locations=[req["location"]], filter_string="tags.`mlflow.traceName` = 'agent'", return_type="list", include_spans=False)]

fb = mlflow.log_feedback(trace_id=tid, name="user_feedback", value=True, rationale="helpful",
                         source=AssessmentSource("HUMAN", "user-42"), metadata={"channel": "web"})
ex = mlflow.log_expectation(trace_id=tid, name="expected", value={"answer": ["Paris", 21]})
judge = mlflow.log_feedback(trace_id=tid, name="relevance", value=0.4, source=AssessmentSource("LLM_JUDGE", "judge-1"))
over = mlflow.override_feedback(trace_id=tid, assessment_id=judge.assessment_id, value=0.9, rationale="human review",
                                source=AssessmentSource("HUMAN", "reviewer"))
mlflow.update_assessment(trace_id=tid, assessment_id=ex.assessment_id,
                         assessment=Expectation(name="expected", value={"answer": ["Paris", 22]}))
got = mlflow.get_assessment(tid, fb.assessment_id).to_dictionary()
mlflow.set_trace_tag(tid, "reviewed", "yes")
mlflow.set_trace_tag(tid, "tmp", "x")
mlflow.delete_trace_tag(tid, "tmp")
tmp = mlflow.log_feedback(trace_id=tid, name="tmp", value="x")
mlflow.delete_assessment(trace_id=tid, assessment_id=tmp.assessment_id)
info = mlflow.get_trace(tid).info
out["ids"] = {"feedback": fb.assessment_id, "expectation": ex.assessment_id, "judge": judge.assessment_id,
              "override": over.assessment_id}
out["get_assessment"] = got
out["assessments"] = {t: {a.assessment_id: a.to_dictionary() for a in mlflow.get_trace(t).info.assessments}
                      for t in [tid, *req["read"]]}
out["tags"] = info.tags
print(json.dumps(out))
