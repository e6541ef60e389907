"""MLflow's server-side translation of OpenTelemetry GenAI spans, as an oracle
for genai_test.go.

argv[1]: a file holding an OTLP ExportTraceServiceRequest (protobuf), exactly
as an OpenTelemetry exporter sends it to MLflow's /v1/traces route.
stdout: JSON object span name -> {key: decoded value} of every attribute
MLflow's tracking server stores after translate_span_when_storing (the code
its SqlAlchemyStore.log_spans runs). A value that is not JSON is given as
{"raw": text}, a value stored as is (not a string) as {"native": value}.
"""
import json
import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from mlflow.entities.span import Span
from mlflow.tracing.otel.translation import translate_span_when_storing

def decode(v):
    if not isinstance(v, str):
        return {"native": v}
    try:
        return json.loads(v)
    except ValueError:
        return {"raw": v}


req = ExportTraceServiceRequest()
with open(sys.argv[1], "rb") as f:
    req.ParseFromString(f.read())

out = {}
for rs in req.resource_spans:
    for ss in rs.scope_spans:
        for proto in ss.spans:
            span = Span.from_otel_proto(proto, resource=rs.resource)
            try:
                attrs = translate_span_when_storing(span)["attributes"]
            except Exception as e:  # noqa: BLE001 - the server would answer 422
                out[proto.name] = {"error": f"{type(e).__name__}: {e}"}
                continue
            out[proto.name] = {k: decode(v) for k, v in attrs.items()}
json.dump(out, sys.stdout)
