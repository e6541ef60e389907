package assemble

import (
	"slices"
	"strconv"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Options tunes Build.
type Options struct {
	// PreviewMaxChars is the maximum length in characters of the request and
	// response previews; 0 means keys.PreviewLenOSS.
	PreviewMaxChars int
	// Metadata is the environment metadata (envmeta.Collect) merged into
	// every trace; trace updates and derived keys win over it.
	Metadata map[string]string
	// ExperimentID, when known, is stored in TraceInfo.ExperimentID and used
	// for the size statistics (which count the trace info); when empty the
	// sizes assume MLflow's default experiment "0" and the destination may
	// call SetSizeStats again after it fills TraceInfo.ExperimentID.
	ExperimentID string
	// TraceIDPrefix is the prefix of the MLflow trace id before the 32 hex
	// digits: "" means "tr-" (schema v3); Unity Catalog traces use
	// tracemodel.UCRequestIDPrefix(location).
	TraceIDPrefix string
	// SchemaVersion is mlflow.trace_schema.version: "" means "3"; Unity
	// Catalog traces are "4".
	SchemaVersion string
}

// Build assembles the finished trace whose root span is root. spans holds
// every span of the trace, root included; upd, the program's updates to the
// trace, may be nil. The result is what MLflow's Python SDK (3.17) produces
// for the same spans:
//
//   - TraceID "tr-<hex>", RequestTime = root start and ExecutionDuration =
//     root end − start, both cut to milliseconds as Python stores them;
//   - State from upd, else ERROR when the root span's status is ERROR, else OK;
//   - metadata: opts.Metadata, mlflow.trace_schema.version "3", upd.Metadata,
//     mlflow.trace.session / mlflow.trace.user when neither sets them and a
//     span has a session.id or gen_ai.conversation.id / user.id attribute
//     (what MLflow's tracking server derives from the spans it stores),
//     mlflow.traceInputs / mlflow.traceOutputs (root inputs/outputs JSON cut
//     to 250 characters, "" when absent), mlflow.trace.tokenUsage,
//     mlflow.trace.sizeStats and mlflow.trace.sizeBytes; keys and values cut
//     to 250 characters;
//   - tags: upd.Tags over mlflow.traceName = root name; keys cut to 250
//     characters, values to 4096;
//   - previews from upd, else derived from the root inputs/outputs with
//     MLflow's chat-aware extraction, cut to opts.PreviewMaxChars;
//   - spans in start order (MLflow keeps them in the order they started),
//     root first.
//
// Build does not modify root, spans or upd. It costs time linear in the size
// of the trace (the size statistics serialise every span): call it from a
// background worker, not on the caller's path.
func Build(root *tracemodel.Span, spans []*tracemodel.Span, upd *tracemodel.TraceUpdate, opts Options) *tracemodel.Trace {
	t := &tracemodel.Trace{Spans: orderSpans(root, spans)}
	info := &t.Info
	if opts.TraceIDPrefix != "" {
		info.TraceID = opts.TraceIDPrefix + root.TraceID.String()
	} else {
		info.TraceID = tracemodel.RequestID(root.TraceID)
	}
	info.ExperimentID = opts.ExperimentID
	info.RequestTime = root.StartTime.Truncate(time.Millisecond)
	if !root.EndTime.IsZero() {
		if d := root.EndTime.Sub(root.StartTime); d > 0 {
			info.ExecutionDuration = d.Truncate(time.Millisecond)
		}
	}
	info.State = tracemodel.StateOK
	if root.Status.Code == tracemodel.StatusCodeError {
		info.State = tracemodel.StateError
	}

	meta := make(map[string]string, len(opts.Metadata)+8)
	for k, v := range opts.Metadata {
		meta[k] = v
	}
	meta[keys.MetaSchemaVersion] = "3"
	if opts.SchemaVersion != "" {
		meta[keys.MetaSchemaVersion] = opts.SchemaVersion
	}
	tags := map[string]string{keys.TagTraceName: root.Name}
	var reqPreview, respPreview *string
	if upd != nil {
		for k, v := range upd.Metadata {
			meta[k] = v
		}
		for k, v := range upd.Tags {
			tags[k] = v
		}
		info.ClientRequestID = upd.ClientRequestID
		if upd.State != "" {
			info.State = upd.State
		}
		if upd.RequestPreview != nil && *upd.RequestPreview != "" {
			reqPreview = upd.RequestPreview
		}
		if upd.ResponsePreview != nil && *upd.ResponsePreview != "" {
			respPreview = upd.ResponsePreview
		}
	}
	if _, ok := meta[keys.MetaSession]; !ok {
		if v, ok := firstSpanString(t.Spans, keys.SessionID, "gen_ai.conversation.id"); ok {
			meta[keys.MetaSession] = v
		}
	}
	if _, ok := meta[keys.MetaUser]; !ok {
		if v, ok := firstSpanString(t.Spans, keys.UserID); ok {
			meta[keys.MetaUser] = v
		}
	}
	inputs, hasInputs := root.Attributes[keys.SpanInputs]
	outputs, hasOutputs := root.Attributes[keys.SpanOutputs]
	meta[keys.MetaTraceInputs] = encode.Truncate(inputs, keys.MaxTraceIOLen)
	meta[keys.MetaTraceOutputs] = encode.Truncate(outputs, keys.MaxTraceIOLen)
	if usage, ok := TokenUsage(t.Spans); ok {
		meta[keys.MetaTokenUsage] = usage
	}
	info.Metadata = cutMap(meta, keys.MaxMetadataKeyLen, keys.MaxMetadataValueLen)
	info.Tags = cutMap(tags, keys.MaxTagKeyLen, keys.MaxTagValueLen)

	maxChars := opts.PreviewMaxChars
	if maxChars <= 0 {
		maxChars = keys.PreviewLenOSS
	}
	switch {
	case reqPreview != nil:
		info.RequestPreview = encode.Truncate(*reqPreview, maxChars)
	case hasInputs:
		info.RequestPreview = Preview(inputs, "user", maxChars)
	}
	switch {
	case respPreview != nil:
		info.ResponsePreview = encode.Truncate(*respPreview, maxChars)
	case hasOutputs:
		info.ResponsePreview = Preview(outputs, "assistant", maxChars)
	}

	SetSizeStats(t)
	return t
}

// firstSpanString returns the first of the attributes ks found on a span (in
// order), as MLflow's server reads it: a JSON string's content, else the
// JSON text. ok is false when no span has one, or the value is empty.
func firstSpanString(spans []*tracemodel.Span, ks ...string) (string, bool) {
	for _, s := range spans {
		for _, k := range ks {
			v, ok := s.Attributes[k]
			if !ok || v == "" {
				continue
			}
			if str, ok := jsonString(v); ok {
				v = str
			}
			return v, v != ""
		}
	}
	return "", false
}

// orderSpans returns a copy of spans, root first, then in start order.
func orderSpans(root *tracemodel.Span, spans []*tracemodel.Span) []*tracemodel.Span {
	out := make([]*tracemodel.Span, 0, len(spans)+1)
	out = append(out, root)
	for _, s := range spans {
		if s != nil && s != root {
			out = append(out, s)
		}
	}
	rest := out[1:]
	slices.SortStableFunc(rest, func(a, b *tracemodel.Span) int {
		return a.StartTime.Compare(b.StartTime)
	})
	return out
}

// cutMap copies m with keys and values cut to the given character counts
// (MLflow's plain cut, without "...").
func cutMap(m map[string]string, maxKey, maxValue int) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[encode.Cut(k, maxKey)] = encode.Cut(v, maxValue)
	}
	return out
}

// SetSizeStats sets the mlflow.trace.sizeStats and mlflow.trace.sizeBytes
// metadata of t exactly as MLflow's Python SDK computes them before it logs a
// trace: each span's size is the length of its ASCII-escaped json.dumps form,
// the total adds the trace info (tracemodel.TraceInfoSize, measured without
// the two size keys) and 2 bytes per separator between spans, and p25 / p50 /
// p75 interpolate linearly between sorted span sizes and round down. A
// destination that changes the trace info afterwards (for example fills
// ExperimentID) may call it again. Nothing is set for a trace without spans.
func SetSizeStats(t *tracemodel.Trace) {
	if len(t.Spans) == 0 {
		return
	}
	if t.Info.Metadata == nil {
		t.Info.Metadata = map[string]string{}
	}
	delete(t.Info.Metadata, keys.MetaSizeStats)
	delete(t.Info.Metadata, keys.MetaSizeBytes)
	sizes := make([]int, len(t.Spans))
	sum := 0
	for i, s := range t.Spans {
		sizes[i] = tracemodel.SpanSize(s)
		sum += sizes[i]
	}
	info := t.Info
	if info.ExperimentID == "" {
		info.ExperimentID = "0"
	}
	total := sum + tracemodel.TraceInfoSize(&info) + (len(sizes)-1)*2
	slices.Sort(sizes)
	b := make([]byte, 0, 128)
	b = append(b, `{"total_size_bytes": `...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `, "num_spans": `...)
	b = strconv.AppendInt(b, int64(len(sizes)), 10)
	b = append(b, `, "max": `...)
	b = strconv.AppendInt(b, int64(sizes[len(sizes)-1]), 10)
	b = append(b, `, "p25": `...)
	b = strconv.AppendInt(b, int64(percentile(sizes, 0.25)), 10)
	b = append(b, `, "p50": `...)
	b = strconv.AppendInt(b, int64(percentile(sizes, 0.50)), 10)
	b = append(b, `, "p75": `...)
	b = strconv.AppendInt(b, int64(percentile(sizes, 0.75)), 10)
	b = append(b, '}')
	t.Info.Metadata[keys.MetaSizeStats] = string(b)
	t.Info.Metadata[keys.MetaSizeBytes] = strconv.Itoa(total)
}

// percentile interpolates linearly between the nearest sorted values and
// rounds toward zero, with the same float operations as MLflow's
// _calculate_percentile (explicit conversions keep Go from fusing them).
func percentile(sorted []int, p float64) int {
	n := len(sorted)
	index := float64(p * float64(n-1))
	lower := int(index)
	upper := lower + 1
	if upper >= n {
		return sorted[n-1]
	}
	weight := float64(index - float64(lower))
	a := float64(float64(sorted[lower]) * float64(1-weight))
	c := float64(float64(sorted[upper]) * weight)
	return int(a + c)
}
