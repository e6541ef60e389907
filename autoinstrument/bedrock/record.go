package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/eventstream"
	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// incompleteStream records a stream that ended — closed by the caller, or
// cut — before its final event (ConverseStream: metadata;
// InvokeModelWithResponseStream: the chunk with the invocation metrics):
// exception type IncompleteStreamError.
type incompleteStream struct{ closed bool }

func (e incompleteStream) Error() string {
	if e.closed {
		return "stream closed before its final event"
	}
	return "stream ended before its final event"
}

// clientError is an error the service answered, worded as botocore's
// ClientError words it: "An error occurred (<code>) when calling the
// <Operation> operation: <message>", with " (reached max retries: <n>)"
// before the colon when the SDK gave up after its retries.
type clientError struct {
	code, operation, message string
	retries                  int // > 0: the retries were exhausted
	err                      error
}

func (e *clientError) Error() string {
	retries := ""
	if e.retries > 0 {
		retries = " (reached max retries: " + strconv.Itoa(e.retries) + ")"
	}
	return "An error occurred (" + e.code + ") when calling the " + e.operation + " operation" + retries + ": " + e.message
}

func (e *clientError) Unwrap() error { return e.err }

// apiError names an error the service answered as botocore's class of it:
// a modeled Bedrock Runtime exception (its Go type in package types) is
// raised as the class of that name (ValidationException, …), any other
// error code as ClientError.
func (r *recorder) apiError(ae smithy.APIError, sdkErr error) error {
	e := &clientError{code: ae.ErrorCode(), operation: r.kind.operation, message: ae.ErrorMessage(), err: sdkErr}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(sdkErr, &maxAttempts) && maxAttempts.Attempt > 1 {
		e.retries = maxAttempts.Attempt - 1
	}
	if _, generic := ae.(*smithy.GenericAPIError); generic {
		return exception.New("ClientError", e)
	}
	return exception.New(e.code, e)
}

// streamError is an exception or error message inside an event stream, as
// botocore raises it while the stream is read: EventStreamError, with the
// event's type (or error code) as its code.
func (r *recorder) streamError(code, message string) error {
	return exception.New("EventStreamError", &clientError{code: code, operation: r.kind.operation, message: message})
}

// recorder records one traced operation as MLflow's Bedrock autolog does.
// Its methods are called by one goroutine at a time.
type recorder struct {
	kind    kind
	span    *tracing.Span
	modelID string
	capture bool
	tools   *llmspan.ToolsCache

	// A stream's events, merged as they come.
	dec        eventstream.Decoder
	done       bool  // the final event was seen
	streamErr  error // an exception event
	converse   converseStream
	usageParts tokenCounts // InvokeModelWithResponseStream: usage found in the chunks
	metrics    tokenCounts // InvokeModelWithResponseStream: the final chunk's invocation metrics
}

// newRecorder records what MLflow records when the call starts: the model,
// its provider, and for Converse the message format "bedrock"; an
// InvokeModel call's inputs are its arguments (Converse's come from the
// serialized request, see request).
func newRecorder(k kind, span *tracing.Span, modelID string, params any, tools *llmspan.ToolsCache) *recorder {
	r := &recorder{kind: k, span: span, modelID: modelID, capture: span.CapturesContent(), tools: tools}
	if k.converse {
		span.SetMessageFormat("bedrock")
	}
	if modelID != "" {
		span.SetModel(modelID)
		if p, ok := provider(modelID); ok {
			span.SetProvider(p)
		}
	}
	if r.capture && !k.readsBody {
		span.SetInputs(invokeInputs(params))
	}
	return r
}

// request records the serialized Converse request: the inputs are the
// call's arguments — modelId (sent in the path) and the body's members —
// and the tools of toolConfig.
func (r *recorder) request(body []byte) {
	if r.capture {
		in, ok := json.RawMessage(body), true
		if r.modelID != "" {
			in, ok = llmspan.Prepend(body, "modelId", r.modelID)
		}
		if ok {
			r.span.SetInputs(in)
		}
	}
	if !bytes.Contains(body, []byte(`"toolConfig"`)) {
		return
	}
	fields, err := llmspan.ObjectFields(body)
	if err != nil {
		return
	}
	if tc, ok := member(fields, "toolConfig"); ok {
		if list, ok := llmspan.Lookup(tc, "tools"); ok {
			if t, ok := r.tools.Attribute(list, chatTools); ok {
				r.span.SetAttribute(keys.ChatTools, t)
			}
		}
	}
}

// chatTools is MLflow's convert_tool_to_mlflow_chat_tool for every tool of
// toolConfig.tools: toolSpec's name, description (null when absent) and
// inputSchema.json as the parameters (null when absent). A tool without a
// toolSpec (a cachePoint) fails MLflow's conversion: no tools recorded.
func chatTools(raw json.RawMessage) (json.RawMessage, bool) {
	return llmspan.ToolList(raw, func(fields []llmspan.Field) (llmspan.Tool, bool) {
		spec, ok := llmspan.Lookup(fields, "toolSpec")
		if !ok {
			return llmspan.Tool{}, false
		}
		sf, err := llmspan.ObjectFields(spec)
		if err != nil {
			return llmspan.Tool{}, false
		}
		t := llmspan.Tool{Description: json.RawMessage("null"), Parameters: json.RawMessage("null")}
		if t.Name, ok = llmspan.Lookup(sf, "name"); !ok {
			return llmspan.Tool{}, false
		}
		if v, ok := llmspan.Lookup(sf, "description"); ok {
			t.Description = v
		}
		schema, ok := llmspan.Lookup(sf, "inputSchema")
		if !ok {
			return llmspan.Tool{}, false
		}
		if s, err := llmspan.ObjectFields(schema); err == nil {
			if v, ok := llmspan.Lookup(s, "json"); ok {
				t.Parameters = v
			}
		}
		return t, true
	})
}

// invokeInputs are an InvokeModel call's arguments, as MLflow records the
// keyword arguments of boto3's invoke_model: those set, the body as text.
func invokeInputs(params any) json.RawMessage {
	var modelID, accept, contentType, guardrail, guardrailVersion, metadata *string
	var body []byte
	var trace, latency, tier string
	switch in := params.(type) {
	case *bedrockruntime.InvokeModelInput:
		modelID, body, contentType, accept = in.ModelId, in.Body, in.ContentType, in.Accept
		trace, guardrail, guardrailVersion = string(in.Trace), in.GuardrailIdentifier, in.GuardrailVersion
		latency, tier, metadata = string(in.PerformanceConfigLatency), string(in.ServiceTier), in.RequestMetadata
	case *bedrockruntime.InvokeModelWithResponseStreamInput:
		modelID, body, contentType, accept = in.ModelId, in.Body, in.ContentType, in.Accept
		trace, guardrail, guardrailVersion = string(in.Trace), in.GuardrailIdentifier, in.GuardrailVersion
		latency, tier, metadata = string(in.PerformanceConfigLatency), string(in.ServiceTier), in.RequestMetadata
	}
	text := ""
	if body != nil {
		if utf8.Valid(body) {
			text = string(body)
		} else {
			text = base64.StdEncoding.EncodeToString(body)
		}
	}
	var o llmspan.Object
	for _, kv := range []struct {
		k string
		v string
	}{
		{"modelId", deref(modelID)}, {"body", text}, {"contentType", deref(contentType)}, {"accept", deref(accept)},
		{"trace", trace}, {"guardrailIdentifier", deref(guardrail)}, {"guardrailVersion", deref(guardrailVersion)},
		{"performanceConfigLatency", latency}, {"serviceTier", tier}, {"requestMetadata", deref(metadata)},
	} {
		if kv.v != "" {
			o.Set(kv.k, kv.v)
		}
	}
	return o.JSON()
}

// streamDecoder decodes the event stream of a successful streamed answer.
func (r *recorder) streamDecoder(res *http.Response) llmspan.StreamDecoder {
	if !r.kind.stream || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/vnd.amazon.eventstream") {
		return nil
	}
	return &streamDecoder{r: r}
}

// streamDecoder feeds the AWS event stream of a response to its recorder.
type streamDecoder struct{ r *recorder }

func (d *streamDecoder) Feed(p []byte) { d.r.dec.Feed(p, d.r.message) }
func (d *streamDecoder) Flush()        {}

func (r *recorder) StreamDone() bool { return r.done || r.streamErr != nil }

// message merges one message of the event stream.
func (r *recorder) message(m eventstream.Message) {
	if r.done || r.streamErr != nil {
		return
	}
	kind, name := m.Type()
	switch kind {
	case "exception":
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(m.Payload, &e)
		r.streamErr = r.streamError(name, e.Message)
		return
	case "error":
		r.streamErr = r.streamError(name, m.Header(":error-message"))
		return
	}
	if r.kind.converse {
		r.converseEvent(name, m.Payload)
	} else {
		r.invokeChunk(name, m.Payload)
	}
}

// eventJSON is the text MLflow gives an event's "json" attribute:
// json.dumps of the parsed event (Python's separators, non-ASCII escaped)
// without Bedrock's "p" padding, which botocore drops.
// fields are the members of a valid object: each is re-written as Redump
// re-writes it, into one buffer.
func eventJSON(fields []llmspan.Field) (string, bool) {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	n := 0
	for _, f := range fields {
		if f.Key == "p" {
			continue
		}
		if n > 0 {
			b = append(b, ", "...)
		}
		n++
		b = encode.AppendString(b, f.Key, true)
		b = append(b, ": "...)
		b = encode.AppendRedump(b, f.Value, true)
	}
	return string(append(b, '}')), true
}

// Finish records the result as MLflow's Bedrock autolog does.
func (r *recorder) Finish(span *tracing.Span, res llmspan.Result) {
	if err := r.failure(res); err != nil {
		span.RecordError(err)
		return
	}
	switch {
	case r.kind.converse && r.kind.stream:
		r.finishConverseStream(span, res)
	case r.kind.converse:
		r.finishConverse(span, res)
	case r.kind.stream:
		r.finishInvokeStream(span, res)
	default:
		r.finishInvoke(span, res)
	}
}

// failure is the error a call ended with: an error the service answered
// (named and worded as botocore's exception), another error of the SDK, an
// exception in the stream, or a stream that did not end.
func (r *recorder) failure(res llmspan.Result) error {
	if res.Err != nil {
		var ae smithy.APIError
		if errors.As(res.Err, &ae) {
			return r.apiError(ae, res.Err)
		}
		return res.Err
	}
	if res.Stream {
		switch {
		case r.streamErr != nil:
			return r.streamErr
		case !r.done:
			return exception.New("IncompleteStreamError", incompleteStream{closed: res.ClosedEarly})
		}
	}
	return nil
}

// responseMetadata is botocore's ResponseMetadata of an answer, which
// MLflow records with the outputs: the request id, the HTTP status, the
// headers (names lower-cased) and the number of retries.
func responseMetadata(res *http.Response, attempts int) json.RawMessage {
	var o llmspan.Object
	if res == nil {
		return nil
	}
	o.Set("RequestId", res.Header.Get("X-Amzn-Requestid"))
	o.Set("HTTPStatusCode", res.StatusCode)
	names := make([]string, 0, len(res.Header)+1)
	for k := range res.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var h llmspan.Object
	for _, k := range names {
		h.Set(strings.ToLower(k), strings.Join(res.Header.Values(k), ", "))
	}
	if len(res.TransferEncoding) > 0 {
		h.Set("transfer-encoding", strings.Join(res.TransferEncoding, ", "))
	}
	o.Set("HTTPHeaders", h.JSON())
	o.Set("RetryAttempts", max(attempts-1, 0))
	return o.JSON()
}

// finishConverse: the outputs are the answer with its ResponseMetadata,
// the usage is the answer's.
func (r *recorder) finishConverse(span *tracing.Span, res llmspan.Result) {
	fields, err := llmspan.ObjectFields(res.Body)
	if res.Truncated || err != nil {
		return
	}
	if r.capture {
		if out, ok := llmspan.Prepend(res.Body, "ResponseMetadata", responseMetadata(res.Response, res.Attempts)); ok {
			span.SetOutputs(out)
		}
	}
	if u, ok := llmspan.Lookup(fields, "usage"); ok {
		if usage, ok := countTokens(u).complete(); ok {
			usage.Set(span)
		}
	}
}

// finishInvoke: the span type by the answer (EMBEDDING when it has an
// "embedding", else LLM), the outputs with the body parsed, the usage from
// the body's "usage" or from the body itself.
func (r *recorder) finishInvoke(span *tracing.Span, res llmspan.Result) {
	if res.Response == nil || res.Truncated {
		return
	}
	fields, err := llmspan.ObjectFields(res.Body)
	typ := tracing.SpanTypeLLM
	if _, ok := llmspan.Lookup(fields, "embedding"); ok && err == nil {
		typ = tracing.SpanTypeEmbedding
	}
	span.SetSpanType(typ)
	if r.capture {
		var o llmspan.Object
		o.Set("ResponseMetadata", responseMetadata(res.Response, res.Attempts))
		o.Set("contentType", res.Response.Header.Get("Content-Type"))
		if err == nil {
			o.Set("body", json.RawMessage(res.Body))
		} else {
			o.Set("body", string(res.Body))
		}
		invokeHeaders(&o, res.Response)
		span.SetOutputs(o.JSON())
	}
	var counts tokenCounts
	if err == nil {
		counts = countTokens(res.Body)
		if u, ok := llmspan.Lookup(fields, "usage"); ok && truthy(u) {
			counts = countTokens(u)
		}
	}
	usage, ok := counts.complete()
	if !ok {
		// MLflow finds none (Titan, Cohere): the counts Bedrock sends in
		// its headers.
		usage, ok = headerTokens(res.Response.Header).complete()
	}
	if ok {
		usage.Set(span)
	}
}

// invokeHeaders adds the members botocore reads from an InvokeModel
// answer's headers.
func invokeHeaders(o *llmspan.Object, res *http.Response) {
	if v := res.Header.Get("X-Amzn-Bedrock-Performanceconfig-Latency"); v != "" {
		o.Set("performanceConfigLatency", v)
	}
	if v := res.Header.Get("X-Amzn-Bedrock-Service-Tier"); v != "" {
		o.Set("serviceTier", v)
	}
}

// finishInvokeStream: MLflow's outputs of a streamed invocation (the body
// is "EventStream"; the chunks are the span's events) and the usage the
// chunks carried.
func (r *recorder) finishInvokeStream(span *tracing.Span, res llmspan.Result) {
	if r.capture && res.Response != nil {
		var o llmspan.Object
		o.Set("ResponseMetadata", responseMetadata(res.Response, res.Attempts))
		o.Set("contentType", res.Response.Header.Get("X-Amzn-Bedrock-Content-Type"))
		o.Set("body", "EventStream")
		invokeHeaders(&o, res.Response)
		span.SetOutputs(o.JSON())
	}
	usage, ok := r.usageParts.complete()
	if !ok {
		// MLflow finds none (Llama, Titan, Nova, Cohere streams): the
		// invocation metrics of the final chunk.
		usage, ok = r.metrics.complete()
	}
	if ok {
		usage.Set(span)
	}
}

// invokeChunk records one event of InvokeModelWithResponseStream: a chunk
// becomes an event named by its "type" (Anthropic) or "chunk", with the
// chunk's JSON; usage is gathered as MLflow gathers it.
func (r *recorder) invokeChunk(name string, payload []byte) {
	if name != "chunk" {
		return
	}
	var part struct {
		Bytes []byte `json:"bytes"`
	}
	if json.Unmarshal(payload, &part) != nil {
		return
	}
	fields, err := llmspan.ObjectFields(part.Bytes)
	if err != nil {
		return
	}
	if r.capture {
		event := "chunk"
		if t, ok := llmspan.Lookup(fields, "type"); ok && len(t) > 0 && t[0] == '"' {
			event = llmspan.String(t)
		}
		if text, ok := encode.Redump(part.Bytes, true); ok {
			r.span.AddEvent(event, jsonAttr(text))
		}
	}
	usage, ok := llmspan.Lookup(fields, "usage")
	if t, tok := llmspan.Lookup(fields, "type"); tok && llmspan.String(t) == "message_start" {
		usage, ok = nil, false
		if m, mok := llmspan.Lookup(fields, "message"); mok {
			if mf, err := llmspan.ObjectFields(m); err == nil {
				usage, ok = llmspan.Lookup(mf, "usage")
			}
		}
	}
	if ok {
		r.usageParts = r.usageParts.merge(countTokens(usage))
	}
	if m, ok := llmspan.Lookup(fields, "amazon-bedrock-invocationMetrics"); ok {
		var im struct {
			In  *int `json:"inputTokenCount"`
			Out *int `json:"outputTokenCount"`
		}
		if json.Unmarshal(m, &im) == nil {
			r.metrics = tokenCounts{input: im.In, output: im.Out}
		}
		r.done = true // Bedrock's final chunk
	}
}

// headerTokens are the token counts of an InvokeModel answer's headers.
func headerTokens(h http.Header) tokenCounts {
	var t tokenCounts
	if n, err := strconv.Atoi(h.Get("X-Amzn-Bedrock-Input-Token-Count")); err == nil {
		t.input = &n
	}
	if n, err := strconv.Atoi(h.Get("X-Amzn-Bedrock-Output-Token-Count")); err == nil {
		t.output = &n
	}
	return t
}

// truthy reports Python truthiness of a JSON value.
func truthy(v json.RawMessage) bool {
	var x any
	if json.Unmarshal(v, &x) != nil {
		return false
	}
	switch t := x.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

var _ llmspan.Finisher = (*recorder)(nil)
