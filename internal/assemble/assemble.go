package assemble

import (
	"encoding/json"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Options tunes Build.
type Options struct {
	PreviewMaxChars int               // 0 → keys.PreviewLenOSS
	Metadata        map[string]string // environment metadata merged in
}

// ConvertSpan converts an OpenTelemetry span to an MLflow span.
func ConvertSpan(s sdktrace.ReadOnlySpan) *tracemodel.Span {
	sc := s.SpanContext()
	out := &tracemodel.Span{
		TraceID:      sc.TraceID(),
		SpanID:       sc.SpanID(),
		ParentSpanID: s.Parent().SpanID(),
		Name:         s.Name(),
		StartTime:    s.StartTime(),
		EndTime:      s.EndTime(),
		Scope:        s.InstrumentationScope().Name,
	}
	st := s.Status()
	switch st.Code {
	case codes.Ok:
		out.Status.Code = tracemodel.StatusCodeOK
	case codes.Error:
		out.Status.Code = tracemodel.StatusCodeError
	default:
		out.Status.Code = tracemodel.StatusCodeUnset
	}
	out.Status.Message = st.Description
	attrs := s.Attributes()
	out.Attributes = make(map[string]string, len(attrs)+2)
	own := out.Scope == keys.ScopeName
	for _, kv := range attrs {
		k := string(kv.Key)
		v := kv.Value.AsInterface()
		if own {
			if str, ok := v.(string); ok {
				out.Attributes[k] = str
				continue
			}
		}
		out.Attributes[k] = encode.JSON(v)
	}
	if _, ok := out.Attributes[keys.TraceRequestID]; !ok {
		out.Attributes[keys.TraceRequestID] = encode.JSON(tracemodel.RequestID(out.TraceID))
	}
	if _, ok := out.Attributes[keys.SpanType]; !ok {
		out.Attributes[keys.SpanType] = `"UNKNOWN"`
	}
	for _, ev := range s.Events() {
		e := tracemodel.Event{Name: ev.Name, Time: ev.Time, Attributes: make(map[string]any, len(ev.Attributes))}
		for _, kv := range ev.Attributes {
			e.Attributes[string(kv.Key)] = kv.Value.AsInterface()
		}
		out.Events = append(out.Events, e)
	}
	return out
}

// Build assembles a trace from its spans.
func Build(root *tracemodel.Span, spans []*tracemodel.Span, upd *tracemodel.TraceUpdate, opts Options) *tracemodel.Trace {
	_ = json.Valid
	t := &tracemodel.Trace{Spans: spans}
	t.Info.TraceID = tracemodel.RequestID(root.TraceID)
	t.Info.RequestTime = root.StartTime
	t.Info.ExecutionDuration = root.EndTime.Sub(root.StartTime)
	t.Info.State = tracemodel.StateOK
	if root.Status.Code == tracemodel.StatusCodeError {
		t.Info.State = tracemodel.StateError
	}
	t.Info.Metadata = map[string]string{keys.MetaSchemaVersion: "3"}
	for k, v := range opts.Metadata {
		t.Info.Metadata[k] = v
	}
	t.Info.Tags = map[string]string{keys.TagTraceName: root.Name}
	if upd != nil {
		for k, v := range upd.Metadata {
			t.Info.Metadata[k] = v
		}
		for k, v := range upd.Tags {
			t.Info.Tags[k] = v
		}
		t.Info.ClientRequestID = upd.ClientRequestID
		if upd.State != "" {
			t.Info.State = upd.State
		}
	}
	return t
}
