"""The fake Databricks workspace (internal/databrickstest/cmd/fakeworkspace) as
a Python helper: start it over plain HTTP, drive its /__fake/ admin API, and
load what it stored with MLflow's own classes.

Used by test_databricks.py (MLflow's Python SDK and this module's Go SDK
against the same fake) and by bench/ (client CPU per trace).
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.request
from pathlib import Path

from google.protobuf.json_format import ParseDict
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OTelProtoSpan

FAKE_PKG = "internal/databrickstest/cmd/fakeworkspace"

# Environment every MLflow Python client gets in these tests: no telemetry,
# and the bundled model catalog instead of a download (this machine has no
# internet access; without it each trace waits for the download's retries).
PY_QUIET = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_MODEL_CATALOG_URI": "file:///nonexistent-mlflow-model-catalog",
}


class FakeWorkspace:
    """A running fakeworkspace process; stop() (or the context manager) ends it."""

    def __init__(self, binary: Path, log_path: Path, args: list[str] | None = None):
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [str(binary), "-v", "-stdin", *(args or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"fakeworkspace did not start: {Path(log_path).read_text()[-2000:]}")
        info = json.loads(line)
        self.url = info["url"]
        self.token = info["token"]
        self.client_id = info["client_id"]
        self.client_secret = info["client_secret"]

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/__fake/" + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def create_experiment(self, name: str, cloud: str | None = None, volume: str | None = None) -> str:
        body = {"name": name}
        if volume:
            body["volume"] = volume
        else:
            body["cloud"] = cloud
        return self.admin("POST", "experiments", body)["experiment_id"]

    def create_uc_schema(self, catalog: str, schema: str) -> None:
        self.admin("POST", "uc-schemas", {"catalog": catalog, "schema": schema})

    def link_experiment_to_uc(self, experiment_id: str, catalog: str, schema: str, prefix: str) -> str:
        """Links the experiment to the Unity Catalog tables <catalog>.<schema>.<prefix>_*
        (the experiment gets MLflow's mlflow.experiment.databricksTrace* tags); returns the
        spans table."""
        body = {"experiment_id": experiment_id, "catalog": catalog, "schema": schema, "prefix": prefix}
        return self.admin("POST", "uc-links", body)["spans_table"]

    def state(self) -> dict:
        return self.admin("GET", "state")

    def trace(self, trace_id: str) -> dict:
        for t in self.state()["traces"] or []:
            if t["TraceID"] == trace_id:
                return t
        raise KeyError(f"trace {trace_id} not stored by the fake workspace")

    def pat_env(self) -> dict:
        return {"DATABRICKS_HOST": self.url, "DATABRICKS_TOKEN": self.token}

    def oauth_env(self) -> dict:
        return {
            "DATABRICKS_HOST": self.url,
            "DATABRICKS_CLIENT_ID": self.client_id,
            "DATABRICKS_CLIENT_SECRET": self.client_secret,
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def load_trace(stored: dict):
    """Builds an mlflow.entities.Trace from what the fake stored, using
    MLflow's own parsers: the request bodies through MLflow's protobuf
    messages (ParseDict rejects unknown fields) and TraceInfo.from_proto,
    traces.json through Span.from_dict, UC spans through Span.from_otel_proto
    (keeping the mlflow.traceRequestId the client sent)."""
    from mlflow.entities import Span, Trace, TraceData, TraceInfo
    from mlflow.protos import databricks_tracing_pb2, service_pb2

    if stored.get("StartTraceV3") is not None:
        req = ParseDict(stored["StartTraceV3"], service_pb2.StartTraceV3())
        TraceInfo.from_proto(req.trace.trace_info)  # what the client sent loads
        info = TraceInfo.from_proto(ParseDict(stored["TraceInfo"], service_pb2.TraceInfoV3()))
        data = json.loads(base64.b64decode(stored["Data"]))
        spans = [Span.from_dict(s) for s in data["spans"]]
    else:
        info = TraceInfo.from_proto(ParseDict(stored["TraceInfoV4"], databricks_tracing_pb2.TraceInfo()))
        location = stored["Location"]
        spans = []
        for b in stored["Spans"]:
            p = OTelProtoSpan()
            p.ParseFromString(base64.b64decode(b))
            spans.append(Span.from_otel_proto(p, location, preserve_request_id=True))
    trace = Trace(info=info, data=TraceData(spans=spans))
    # The dict form loads back too (what MLflow's UI and clients exchange).
    return Trace.from_dict(trace.to_dict())
