"""Checks Go-built traces against MLflow's Python SDK (used by mlflow_test.go).

stdin: JSON list of {"traces_json": str, "trace_info": str, "max_chars": int}
stdout: JSON list of results computed by MLflow from the same data.
"""
import json
import sys

from google.protobuf import json_format

from mlflow.entities import Trace, TraceData, TraceInfo
from mlflow.entities.span import Span
from mlflow.protos.service_pb2 import TraceInfoV3
from mlflow.tracing.processor.base_mlflow import BaseMlflowSpanProcessor
from mlflow.tracing.utils import (
    TraceJSONEncoder,
    add_size_stats_to_trace_metadata,
    aggregate_usage_from_spans,
)
from mlflow.tracing.utils import truncation

results = []
for case in json.load(sys.stdin):
    truncation._get_max_length = lambda n=case["max_chars"]: n
    data = json.loads(case["traces_json"])
    spans = [Span.from_dict(d) for d in data["spans"]]
    trace_data = TraceData(spans=spans)
    redumped = json.dumps(trace_data.to_dict(), cls=TraceJSONEncoder, ensure_ascii=False)

    proto = json_format.Parse(case["trace_info"], TraceInfoV3())
    info = TraceInfo.from_proto(proto)
    given_meta = dict(info.trace_metadata)
    for k in ("mlflow.trace.sizeStats", "mlflow.trace.sizeBytes"):
        info.trace_metadata.pop(k, None)
    trace = Trace(info=info, data=trace_data)
    add_size_stats_to_trace_metadata(trace)

    usage = aggregate_usage_from_spans(spans)
    root = next(s for s in spans if s.parent_id is None)
    attrs = root._span.attributes
    results.append({
        "redumped": redumped,
        "info_dict": info.to_dict(),
        "size_stats": trace.info.trace_metadata.get("mlflow.trace.sizeStats"),
        "size_bytes": trace.info.trace_metadata.get("mlflow.trace.sizeBytes"),
        "token_usage": json.dumps(usage) if usage else None,
        "request_preview": truncation._get_truncated_preview(trace_data.request, role="user"),
        "response_preview": truncation._get_truncated_preview(trace_data.response, role="assistant"),
        "trace_inputs": BaseMlflowSpanProcessor._truncate_metadata(None, attrs.get("mlflow.spanInputs")),
        "trace_outputs": BaseMlflowSpanProcessor._truncate_metadata(None, attrs.get("mlflow.spanOutputs")),
        "span_ids": [s.span_id for s in spans],
        "trace_id": info.trace_id,
        "request_time_ms": info.request_time,
        "execution_duration_ms": info.execution_duration,
        "state": str(info.state),
        "given_meta": given_meta,
    })
json.dump(results, sys.stdout)
