package otlpconv

// The message form of what AppendSpans writes: Request builds the
// ExportTraceServiceRequest with go.opentelemetry.io/proto/otlp's messages,
// and AppendRequest writes such a request without reflection. Neither is
// used by an export; they are the reference the tests hold AppendSpans to
// (TestAppendSpansMatchesAppendRequest, FuzzAppendSpans) and, through
// proto.Marshal, the protobuf library's own encoding
// (TestAppendRequestMatchesProtoMarshal).

import (
	"slices"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Request builds the ExportTraceServiceRequest MLflow's Python client posts
// to /v1/traces (RestStore.log_spans): one ResourceSpans carrying resource,
// one ScopeSpans with an empty scope, the spans in order.
func Request(spans []*tracemodel.Span, resource []*commonpb.KeyValue) *coltracepb.ExportTraceServiceRequest {
	ss := &tracepb.ScopeSpans{Spans: make([]*tracepb.Span, 0, len(spans))}
	for _, s := range spans {
		if s != nil {
			ss.Spans = append(ss.Spans, Span(s))
		}
	}
	return &coltracepb.ExportTraceServiceRequest{
		ResourceSpans: []*tracepb.ResourceSpans{{
			Resource:   &resourcepb.Resource{Attributes: resource},
			ScopeSpans: []*tracepb.ScopeSpans{ss},
		}},
	}
}

// Span converts one span (Span.to_otel_proto in MLflow's Python SDK).
// Attributes go as native AnyValues (see AttributeValue), sorted by key so
// the output is deterministic; events keep their raw attribute values.
func Span(s *tracemodel.Span) *tracepb.Span {
	ps := &tracepb.Span{
		TraceId: slices.Clone(s.TraceID[:]),
		SpanId:  slices.Clone(s.SpanID[:]),
		Name:    sanitize(s.Name),
		Status:  status(s.Status),
	}
	if s.ParentSpanID.IsValid() {
		ps.ParentSpanId = slices.Clone(s.ParentSpanID[:])
	}
	if !s.StartTime.IsZero() {
		ps.StartTimeUnixNano = unixNano(s.StartTime)
	}
	if !s.EndTime.IsZero() {
		ps.EndTimeUnixNano = unixNano(s.EndTime)
	}
	if len(s.Attributes) > 0 {
		keys := make([]string, 0, len(s.Attributes))
		for k := range s.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		ps.Attributes = make([]*commonpb.KeyValue, len(keys))
		kvs := make([]commonpb.KeyValue, len(keys)) // one allocation for all
		for i, k := range keys {
			kvs[i].Key, kvs[i].Value = sanitize(k), kvValue(AttributeValue(s.Attributes[k]))
			ps.Attributes[i] = &kvs[i]
		}
	}
	for _, e := range s.Events {
		pe := &tracepb.Span_Event{Name: sanitize(e.Name), Attributes: KeyValues(e.Attributes)}
		if !e.Time.IsZero() {
			pe.TimeUnixNano = unixNano(e.Time)
		}
		ps.Events = append(ps.Events, pe)
	}
	return ps
}

func status(st tracemodel.Status) *tracepb.Status {
	code, msg := statusFields(st)
	return &tracepb.Status{Code: code, Message: msg}
}

// AppendRequest appends the protobuf encoding of req to b. An export writes
// its spans with AppendSpans, which writes the same bytes as
// AppendRequest(Request(...)) without the messages (the tests hold the two
// equal); AppendRequest is that reference, and the writer of a request
// built some other way. For the messages
// Request builds it writes the same bytes as proto.Marshal (fields in number
// order, proto3 defaults omitted, oneof members always written) without the
// reflection-driven size and marshal passes. A request carrying a field
// Request never sets (links, flags, trace state, scope, schema URLs, ...)
// goes through proto.MarshalOptions.MarshalAppend instead.
func AppendRequest(b []byte, req *coltracepb.ExportTraceServiceRequest) ([]byte, error) {
	if !plainRequest(req) {
		return proto.MarshalOptions{}.MarshalAppend(b, req)
	}
	for _, rs := range req.ResourceSpans {
		var s int
		b, s = begin(b, 1)
		if rs.Resource != nil {
			var r int
			b, r = begin(b, 1)
			b = appendKeyValues(b, 1, rs.Resource.Attributes)
			b = end(b, r)
		}
		for _, ss := range rs.ScopeSpans {
			var sc int
			b, sc = begin(b, 2)
			for _, sp := range ss.Spans {
				b = appendSpan(b, sp)
			}
			b = end(b, sc)
		}
		b = end(b, s)
	}
	return b, nil
}

// plainRequest reports whether req only uses the fields AppendRequest writes.
func plainRequest(req *coltracepb.ExportTraceServiceRequest) bool {
	if req == nil || len(req.ProtoReflect().GetUnknown()) > 0 {
		return false
	}
	for _, rs := range req.ResourceSpans {
		if rs == nil || rs.SchemaUrl != "" || len(rs.ProtoReflect().GetUnknown()) > 0 || !plainResource(rs.Resource) {
			return false
		}
		for _, ss := range rs.ScopeSpans {
			if ss == nil || ss.Scope != nil || ss.SchemaUrl != "" || len(ss.ProtoReflect().GetUnknown()) > 0 {
				return false
			}
			for _, sp := range ss.Spans {
				if sp == nil || sp.TraceState != "" || sp.Kind != 0 || sp.DroppedAttributesCount != 0 ||
					sp.DroppedEventsCount != 0 || len(sp.Links) != 0 || sp.DroppedLinksCount != 0 || sp.Flags != 0 ||
					len(sp.ProtoReflect().GetUnknown()) > 0 {
					return false
				}
				for _, e := range sp.Events {
					if e == nil || e.DroppedAttributesCount != 0 {
						return false
					}
				}
			}
		}
	}
	return true
}

func plainResource(r *resourcepb.Resource) bool {
	return r == nil || (r.DroppedAttributesCount == 0 && len(r.EntityRefs) == 0 && len(r.ProtoReflect().GetUnknown()) == 0)
}

func appendSpan(b []byte, sp *tracepb.Span) []byte {
	var s int
	b, s = begin(b, 2) // ScopeSpans.spans
	b = appendBytes(b, 1, sp.TraceId)
	b = appendBytes(b, 2, sp.SpanId)
	b = appendBytes(b, 4, sp.ParentSpanId)
	b = appendString(b, 5, sp.Name)
	b = appendFixed(b, 7, sp.StartTimeUnixNano)
	b = appendFixed(b, 8, sp.EndTimeUnixNano)
	b = appendKeyValues(b, 9, sp.Attributes)
	for _, e := range sp.Events {
		var es int
		b, es = begin(b, 11)
		b = appendFixed(b, 1, e.TimeUnixNano)
		b = appendString(b, 2, e.Name)
		b = appendKeyValues(b, 3, e.Attributes)
		b = end(b, es)
	}
	if st := sp.Status; st != nil {
		var ss int
		b, ss = begin(b, 15)
		b = appendString(b, 2, st.Message)
		if st.Code != 0 {
			b = protowire.AppendTag(b, 3, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(int64(st.Code)))
		}
		b = end(b, ss)
	}
	return end(b, s)
}
