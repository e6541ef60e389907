package genai

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// apiError is an error answer of the API (also an error event of a
// stream), recorded as google-genai's Python errors are: exception type
// ClientError (4xx) or ServerError (5xx), message "<code> <status>.
// <response JSON as Python prints it>".
type apiError struct {
	Code    int
	Status  string // the error body's error.status, e.g. "NOT_FOUND"
	Message string // the error body's error.message
	details string // the response JSON, as Python's repr() of it
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s. %s", e.Code, e.Status, e.details) }

// incompleteStream records a stream the caller closed before the server
// ended it (exception type IncompleteStreamError).
type incompleteStream struct{}

func (incompleteStream) Error() string { return "stream closed before its end" }

// newAPIError is the error of an error answer: its body (JSON) as
// google-genai reads it.
func newAPIError(code int, body []byte) error {
	var b struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
		Message string `json:"message"`
		Status  string `json:"status"`
	}
	e := &apiError{Code: code}
	if json.Unmarshal(body, &b) == nil {
		e.details = pyRepr(body)
		e.Message, e.Status = b.Message, b.Status
		if b.Error != nil {
			if e.Message == "" {
				e.Message = b.Error.Message
			}
			if e.Status == "" {
				e.Status = b.Error.Status
			}
			if e.Code == 0 {
				e.Code = b.Error.Code
			}
		}
	} else {
		// google-genai: {'message': <text>, 'status': <reason phrase>}.
		e.Message, e.Status = string(body), http.StatusText(code)
		e.details = pyRepr(mustObject("message", e.Message, "status", e.Status))
	}
	if e.Status == "" {
		e.Status = "None"
	}
	if e.Code >= 500 {
		return exception.New("ServerError", e)
	}
	return exception.New("ClientError", e)
}

func mustObject(kv ...any) json.RawMessage {
	var o llmspan.Object
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o.JSON()
}

// call is one traced request: what the route learnt of it, and what the
// recorders share (the chat span records the model span's result).
type call struct {
	client *client
	method method
	model  string // the model of the request path
	verb   string // the path's method (generateContent, batchEmbedContents, ...)
	chat   bool

	rec *recorder // the model call's recorder (the chat span records its result)
}

// start records what MLflow's Gemini autolog records when the call starts:
// the inputs in the Python SDK's form, message format "gemini", the tools,
// model and provider.
func (c *call) start(span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
	span.SetMessageFormat("gemini")
	if capture && fields != nil { // nil: a request too large to record
		span.SetInputs(c.inputs(fields))
	}
	if tools, ok := c.client.tools.Attribute(c.toolsOf(fields), chatTools); ok {
		span.SetAttribute(keys.ChatTools, tools)
	}
	span.SetModel(c.modelName())
	span.SetProvider("gemini")
	c.rec = &recorder{call: c, capture: capture}
	return c.rec
}

// startChat is the chat turn's span: its input is the message (the parts
// of the turn the chat adds to its history); no tools (they are the chat's
// configuration, not an argument of the turn).
func (c *call) startChat(span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
	span.SetMessageFormat("gemini")
	if capture && fields != nil {
		var o llmspan.Object
		o.Set("message", c.lastParts(fields))
		span.SetInputs(o.JSON())
	}
	span.SetModel(c.modelName())
	span.SetProvider("gemini")
	return &chatRecorder{call: c, capture: capture}
}

// modelName is the model as the caller named it (without the path's
// models/ or publishers/google/models/ prefix).
func (c *call) modelName() string { return c.model }

// Models.generate_content's arguments, model_dump'ed.
func (c *call) inputs(fields []llmspan.Field) json.RawMessage {
	var o llmspan.Object
	o.Set("model", c.model)
	switch c.method {
	case methodGenerate, methodStream:
		contents, _ := llmspan.Lookup(fields, "contents")
		o.Set("contents", dumpList("Content", contents))
		if cfg, ok := generateConfig(fields); ok {
			dumped, _ := c.client.config.Get(cfg, dumpConfig)
			o.Set("config", dumped)
		}
	case methodCount:
		req := fields
		if inner, ok := llmspan.Lookup(fields, "generateContentRequest"); ok {
			if f, err := llmspan.ObjectFields(inner); err == nil {
				req = f
			}
		}
		contents, _ := llmspan.Lookup(req, "contents")
		o.Set("contents", dumpList("Content", contents))
		var cfg llmspan.Object
		n := 0
		for _, k := range []string{"systemInstruction", "tools", "generationConfig"} {
			if v, ok := llmspan.Lookup(req, k); ok {
				cfg.Set(k, v)
				n++
			}
		}
		if n > 0 {
			o.Set("config", dump("CountTokensConfig", cfg.JSON()))
		}
	case methodEmbed:
		contents, cfg := embedArgs(c.verb, fields)
		o.Set("contents", contents)
		if cfg != nil {
			o.Set("config", dump("EmbedContentConfig", cfg))
		}
	}
	return o.JSON()
}

// dumpList is the model_dump of every object of the JSON array raw.
// Anything but an array is raw as it is; null is an empty list (as
// encoding/json decodes null into a slice).
func dumpList(model string, raw json.RawMessage) json.RawMessage {
	if !rawjson.Valid(raw) {
		return raw
	}
	if rawjson.IsNull(raw) {
		return json.RawMessage("[]")
	}
	items, ok := rawjson.ValidArrayItems(raw)
	if !ok {
		return raw
	}
	d := dumper{schema: loadSchema()}
	out := make([]byte, 0, 2*len(raw)+256)
	out = append(out, '[')
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = d.model(out, model, it, 0)
	}
	return append(out, ']')
}

func dumpConfig(cfg json.RawMessage) (json.RawMessage, bool) {
	return dump("GenerateContentConfig", cfg), true
}

// generateConfig is the GenerateContentConfig of a request, in REST names:
// the SDK sends the configuration's members at the top of the request
// (systemInstruction, tools, toolConfig, safetySettings, cachedContent,
// labels) and in its generationConfig. ok is false when it has none.
func generateConfig(fields []llmspan.Field) (json.RawMessage, bool) {
	var o llmspan.Object
	n := 0
	for _, f := range fields {
		switch f.Key {
		case "contents", "model":
		case "generationConfig":
			gf, err := llmspan.ObjectFields(f.Value)
			if err != nil {
				continue
			}
			for _, g := range gf {
				o.Set(g.Key, g.Value)
				n++
			}
		default:
			o.Set(f.Key, f.Value)
			n++
		}
	}
	return o.JSON(), n > 0
}

// embedArgs are embed_content's contents and config of an embedding
// request: batchEmbedContents (the Gemini API), embedContent, or Vertex
// AI's predict.
func embedArgs(verb string, fields []llmspan.Field) (contents json.RawMessage, cfg json.RawMessage) {
	var items []string
	var first []llmspan.Field
	switch verb {
	case "batchEmbedContents":
		reqs, _ := llmspan.Lookup(fields, "requests")
		var list []json.RawMessage
		_ = json.Unmarshal(reqs, &list)
		for i, r := range list {
			rf, err := llmspan.ObjectFields(r)
			if err != nil {
				continue
			}
			if i == 0 {
				first = rf
			}
			if c, ok := llmspan.Lookup(rf, "content"); ok {
				items = append(items, string(dump("Content", c)))
			}
		}
	case "embedContent":
		first = fields
		if c, ok := llmspan.Lookup(fields, "content"); ok {
			items = append(items, string(dump("Content", c)))
		}
	case "predict":
		inst, _ := llmspan.Lookup(fields, "instances")
		var list []struct {
			Content string `json:"content"`
		}
		_ = json.Unmarshal(inst, &list)
		for _, it := range list {
			items = append(items, string(dump("Content", mustObject("parts", []any{map[string]string{"text": it.Content}}))))
		}
		if p, ok := llmspan.Lookup(fields, "parameters"); ok {
			first, _ = llmspan.ObjectFields(p)
		}
	}
	contents = json.RawMessage("[" + strings.Join(items, ",") + "]")
	var o llmspan.Object
	n := 0
	for _, f := range first {
		switch f.Key {
		case "taskType", "title", "outputDimensionality", "mimeType", "autoTruncate":
			o.Set(f.Key, f.Value)
			n++
		}
	}
	if n == 0 {
		return contents, nil
	}
	return contents, o.JSON()
}

// lastParts are the parts of the request's last content (a chat turn's
// message), model_dump'ed.
func (c *call) lastParts(fields []llmspan.Field) json.RawMessage {
	contents, _ := llmspan.Lookup(fields, "contents")
	var list []json.RawMessage
	if json.Unmarshal(contents, &list) != nil || len(list) == 0 {
		return json.RawMessage("[]")
	}
	last, err := llmspan.ObjectFields(list[len(list)-1])
	if err != nil {
		return json.RawMessage("[]")
	}
	parts, _ := llmspan.Lookup(last, "parts")
	return dumpList("Part", parts)
}

// toolsOf is the request's tools (count tokens: those of its
// generateContentRequest), when the method records them.
func (c *call) toolsOf(fields []llmspan.Field) json.RawMessage {
	switch c.method {
	case methodGenerate, methodStream:
	case methodCount:
		if inner, ok := llmspan.Lookup(fields, "generateContentRequest"); ok {
			if f, err := llmspan.ObjectFields(inner); err == nil {
				fields = f
			}
		}
	default:
		return nil
	}
	t, _ := llmspan.Lookup(fields, "tools")
	return t
}

// chatTools is MLflow's convert_gemini_func_to_mlflow_chat_tool for every
// function declaration of every tool (MLflow records none when a tool has
// no function declarations, e.g. Google Search): name, description and the
// parameters — from a Gemini Schema: each property's type in lower case,
// description and enum (null when absent), and required; from a JSON
// schema (parametersJsonSchema): type, description, enum and items, and
// required.
func chatTools(raw json.RawMessage) (json.RawMessage, bool) {
	if llmspan.IsNull(raw) {
		return nil, false
	}
	var tools []struct {
		FunctionDeclarations []json.RawMessage `json:"functionDeclarations"`
	}
	if json.Unmarshal(raw, &tools) != nil || len(tools) == 0 {
		return nil, false
	}
	out := []string{}
	for _, t := range tools {
		if t.FunctionDeclarations == nil {
			return nil, false
		}
		for _, d := range t.FunctionDeclarations {
			tool, ok := chatTool(d)
			if !ok {
				return nil, false
			}
			out = append(out, string(tool))
		}
	}
	return json.RawMessage("[" + strings.Join(out, ",") + "]"), true
}

func chatTool(decl json.RawMessage) (json.RawMessage, bool) {
	fields, err := llmspan.ObjectFields(decl)
	if err != nil {
		return nil, false
	}
	name, _ := llmspan.Lookup(fields, "name")
	if llmspan.String(name) == "" {
		return nil, false
	}
	var fn llmspan.Object
	fn.Set("name", name)
	if d, ok := llmspan.Lookup(fields, "description"); ok {
		fn.Set("description", d)
	} else {
		fn.Set("description", json.RawMessage("null"))
	}
	params := json.RawMessage("null")
	if p, ok := llmspan.Lookup(fields, "parameters"); ok && !llmspan.IsNull(p) {
		v, ok := geminiParams(p)
		if !ok {
			return nil, false
		}
		params = v
	} else if p, ok := llmspan.Lookup(fields, "parametersJsonSchema"); ok && !llmspan.IsNull(p) {
		v, ok := jsonSchemaParams(p)
		if !ok {
			return nil, false
		}
		params = v
	}
	fn.Set("parameters", params)
	var tool llmspan.Object
	tool.Set("type", "function")
	tool.Set("function", fn.JSON())
	return tool.JSON(), true
}

// geminiParams is MLflow's FunctionParams of a Gemini Schema: properties
// (each {type in lower case, description, enum}) and required.
func geminiParams(schema json.RawMessage) (json.RawMessage, bool) {
	return functionParams(schema, func(raw json.RawMessage) (json.RawMessage, bool) {
		var prop struct {
			Type        string          `json:"type"`
			Description json.RawMessage `json:"description"`
			Enum        json.RawMessage `json:"enum"`
		}
		if json.Unmarshal(raw, &prop) != nil {
			return nil, false
		}
		typ := strings.ToLower(prop.Type)
		if typ == "" || !llmspan.ParamType(mustJSON(typ)) {
			return nil, false
		}
		var o llmspan.Object
		o.Set("type", typ)
		o.Set("description", orNull(prop.Description))
		o.Set("enum", orNull(prop.Enum))
		return o.JSON(), true
	})
}

// jsonSchemaParams is MLflow's FunctionParams of a JSON schema.
func jsonSchemaParams(schema json.RawMessage) (json.RawMessage, bool) {
	return functionParams(schema, func(raw json.RawMessage) (json.RawMessage, bool) { return jsonSchemaProperty(raw, 0) })
}

// functionParams is {"properties": {name: property(schema)}, "required"}
// of an object schema.
func functionParams(schema json.RawMessage, property func(json.RawMessage) (json.RawMessage, bool)) (json.RawMessage, bool) {
	var s struct {
		Properties json.RawMessage `json:"properties"`
		Required   json.RawMessage `json:"required"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return nil, false
	}
	props, err := llmspan.ObjectFields(orEmpty(s.Properties))
	if err != nil {
		return nil, false
	}
	var po llmspan.Object
	for _, p := range props {
		v, ok := property(p.Value)
		if !ok {
			return nil, false
		}
		po.Set(p.Key, v)
	}
	var o llmspan.Object
	o.Set("properties", po.JSON())
	o.Set("required", orNull(s.Required))
	return o.JSON(), true
}

func jsonSchemaProperty(raw json.RawMessage, depth int) (json.RawMessage, bool) {
	fields, err := llmspan.ObjectFields(raw)
	if err != nil || depth > maxDumpDepth {
		return nil, false
	}
	var o llmspan.Object
	t, _ := llmspan.Lookup(fields, "type")
	if !llmspan.ParamType(t) {
		return nil, false
	}
	o.Set("type", orNull(t))
	d, _ := llmspan.Lookup(fields, "description")
	o.Set("description", orNull(d))
	e, _ := llmspan.Lookup(fields, "enum")
	o.Set("enum", orNull(e))
	if it, ok := llmspan.Lookup(fields, "items"); ok {
		v, ok := jsonSchemaProperty(it, depth+1)
		if !ok {
			return nil, false
		}
		o.Set("items", v)
	}
	return o.JSON(), true
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func orNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

func orEmpty(v json.RawMessage) json.RawMessage {
	if llmspan.IsNull(v) {
		return json.RawMessage("{}")
	}
	return v
}

// recorder records a model call's result.
type recorder struct {
	call    *call
	capture bool

	stream    streamAgg
	streamErr error

	// The recorded result, for the chat span: the response body (REST),
	// the outputs, the error.
	body json.RawMessage
	out  json.RawMessage
	err  error
}

func (r *recorder) StreamDone() bool { return r.streamErr != nil }

// Event merges one event of a streamed answer (alt=sse): a
// GenerateContentResponse, or an error.
func (r *recorder) Event(ev sse.Event) {
	if r.streamErr != nil {
		return
	}
	chunk := append([]byte(nil), ev.Data...) // the event's buffer is reused
	fields, err := rawjson.ObjectFields(chunk)
	if err != nil {
		return
	}
	e, _ := rawjson.Decode(chunk, streamErrorNames, func(e *streamError, _ int, v json.RawMessage) bool {
		return rawjson.SetRaw(&e.Error, v)
	})
	if !llmspan.IsNull(e.Error) {
		var d struct {
			Code int `json:"code"`
		}
		_ = json.Unmarshal(e.Error, &d)
		r.streamErr = newAPIError(d.Code, chunk)
		return
	}
	r.stream.add(chunk, fields)
}

// streamError is what tells an error event from an answer.
type streamError struct {
	Error json.RawMessage `json:"error"`
}

var streamErrorNames = []string{"error"}

// Finish records the result as MLflow's Gemini autolog does: the exception
// if any, the token usage and the outputs (the SDK's response object,
// model_dump'ed, with the response headers).
func (r *recorder) Finish(span *tracing.Span, res llmspan.Result) {
	var body json.RawMessage
	switch {
	case res.Stream:
		if r.stream.chunks > 0 {
			body = r.stream.response()
		}
		switch {
		case res.Err != nil:
			r.err = res.Err
		case r.streamErr != nil:
			r.err = r.streamErr
		case res.ClosedEarly:
			r.err = exception.New("IncompleteStreamError", incompleteStream{})
		}
	case res.Err != nil:
		r.err = res.Err
	case res.Response == nil:
	case res.Response.StatusCode >= 400:
		r.err = newAPIError(res.Response.StatusCode, res.Body)
	case res.Truncated:
	case rawjson.Valid(res.Body):
		body = res.Body
	default:
		r.err = llmspan.DecodeError(res.Body)
	}
	if r.err != nil {
		span.RecordError(r.err)
	}
	if body == nil {
		return
	}
	r.body = body
	r.out = r.call.outputs(body, res.Response)
	if u, ok := usage(body); ok {
		span.SetAttribute(keys.ChatTokenUsage, u)
	}
	if r.capture {
		span.SetOutputs(r.out)
	}
}

// chatRecorder records the chat turn's span: the model call's result.
type chatRecorder struct {
	call    *call
	capture bool
}

func (r *chatRecorder) Event(sse.Event)  {}
func (r *chatRecorder) StreamDone() bool { return false }

func (r *chatRecorder) Finish(span *tracing.Span, res llmspan.Result) {
	inner := r.call.rec
	if inner == nil {
		return
	}
	if inner.err != nil {
		span.RecordError(inner.err)
	}
	if inner.out == nil {
		return
	}
	if u, ok := usage(inner.body); ok {
		span.SetAttribute(keys.ChatTokenUsage, u)
	}
	if r.capture {
		span.SetOutputs(inner.out)
	}
}

// outputs is the response as the Python SDK's response object dumps it:
// sdk_http_response (the response headers), then the response's fields.
func (c *call) outputs(body json.RawMessage, res *http.Response) json.RawMessage {
	fields, err := llmspan.ObjectFields(body)
	if err != nil {
		return body
	}
	var o llmspan.Object
	o.Set("sdkHttpResponse", mustObject("headers", headerMap(res)))
	model := "GenerateContentResponse"
	switch c.method {
	case methodCount:
		model = "CountTokensResponse"
	case methodEmbed:
		model = "EmbedContentResponse"
		fields = embedResponse(c.verb, fields)
	}
	for _, f := range fields {
		o.Set(f.Key, f.Value)
	}
	return dump(model, o.JSON())
}

// embedResponse is an embedding answer in the members of the SDK's
// EmbedContentResponse: embedContent's one embedding as a list, Vertex AI's
// predictions as embeddings.
func embedResponse(verb string, fields []llmspan.Field) []llmspan.Field {
	switch verb {
	case "embedContent":
		if e, ok := llmspan.Lookup(fields, "embedding"); ok {
			return []llmspan.Field{{Key: "embeddings", Value: json.RawMessage("[" + string(e) + "]")}}
		}
	case "predict":
		var p struct {
			Predictions []struct {
				Embeddings json.RawMessage `json:"embeddings"`
			} `json:"predictions"`
			Metadata json.RawMessage `json:"metadata"`
		}
		var body llmspan.Object
		for _, f := range fields {
			body.Set(f.Key, f.Value)
		}
		if json.Unmarshal(body.JSON(), &p) != nil {
			return fields
		}
		items := make([]string, len(p.Predictions))
		for i, pr := range p.Predictions {
			items[i] = string(orNull(pr.Embeddings))
		}
		out := []llmspan.Field{{Key: "embeddings", Value: json.RawMessage("[" + strings.Join(items, ",") + "]")}}
		if p.Metadata != nil {
			out = append(out, llmspan.Field{Key: "metadata", Value: p.Metadata})
		}
		return out
	}
	return fields
}

// headerMap is the response headers as the Python SDK keeps them: lower
// case names, several values joined with ", ".
func headerMap(res *http.Response) map[string]string {
	out := map[string]string{}
	if res == nil {
		return out
	}
	for k, v := range res.Header {
		out[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return out
}

// usage is MLflow's Gemini _parse_usage: prompt, candidates and total token
// counts, and the cached content tokens when the API reports them (thinking
// tokens are in the total only, as MLflow records them). body is valid JSON.
func usage(body json.RawMessage) (json.RawMessage, bool) {
	b, ok := rawjson.Decode(body, responseUsageNames, func(b *responseUsageJSON, _ int, v json.RawMessage) bool {
		return setUsageMetadata(&b.UsageMetadata, v)
	})
	if !ok || b.UsageMetadata == nil {
		return nil, false
	}
	return usageOf(b.UsageMetadata)
}

// usageOf is the token usage MLflow records of a decoded usageMetadata.
func usageOf(u *usageMetadataJSON) (json.RawMessage, bool) {
	var o llmspan.Object
	n := 0
	for _, kv := range []struct {
		key string
		v   *int
	}{{"input_tokens", u.PromptTokenCount}, {"output_tokens", u.CandidatesTokenCount}, {"total_tokens", u.TotalTokenCount},
		{"cache_read_input_tokens", u.CachedContentTokenCount}} {
		if kv.v != nil {
			o.Set(kv.key, *kv.v)
			n++
		}
	}
	return o.JSON(), n > 0
}

// responseUsageJSON and usageMetadataJSON are what usage reads of an
// answer, as encoding/json would decode it (usage decodes ordinary objects
// with rawjson.Decode, anything else with encoding/json); the names are
// their members' names, in the set functions' order.
type (
	responseUsageJSON struct {
		UsageMetadata *usageMetadataJSON `json:"usageMetadata"`
	}
	usageMetadataJSON struct {
		PromptTokenCount        *int `json:"promptTokenCount"`
		CandidatesTokenCount    *int `json:"candidatesTokenCount"`
		TotalTokenCount         *int `json:"totalTokenCount"`
		CachedContentTokenCount *int `json:"cachedContentTokenCount"`
	}
)

var (
	responseUsageNames = []string{"usageMetadata"}
	usageMetadataNames = []string{"promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount"}
)

func setUsageMetadata(dst **usageMetadataJSON, v json.RawMessage) bool {
	return rawjson.SetPointer(dst, v, usageMetadataNames, func(u *usageMetadataJSON, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetIntPointer(&u.PromptTokenCount, v)
		case 1:
			return rawjson.SetIntPointer(&u.CandidatesTokenCount, v)
		case 2:
			return rawjson.SetIntPointer(&u.TotalTokenCount, v)
		default:
			return rawjson.SetIntPointer(&u.CachedContentTokenCount, v)
		}
	})
}

// streamAgg adds up the GenerateContentResponse chunks of a stream into
// one response: per candidate, consecutive text parts (thoughts apart)
// joined, other parts kept; the last finish reason, safety ratings and
// citations; the last usage, model version, response id and create time.
type streamAgg struct {
	chunks int
	bytes  int
	top    map[string]json.RawMessage // last value of each top-level member
	order  []string
	cands  map[int]*candAgg
	idx    []int
}

type candAgg struct {
	fields map[string]json.RawMessage
	order  []string
	role   json.RawMessage
	parts  []partAgg
}

type partAgg struct {
	raw     json.RawMessage // a part that is not text
	text    []byte
	thought bool
	isText  bool
}

// add takes one chunk (a copy the aggregate keeps) split into its members.
func (a *streamAgg) add(chunk []byte, fields []rawjson.Field) {
	if a.bytes > llmspan.MaxBody {
		return
	}
	a.bytes += len(chunk)
	a.chunks++
	if a.top == nil {
		a.top, a.cands = map[string]json.RawMessage{}, map[int]*candAgg{}
	}
	for _, f := range fields {
		if _, seen := a.top[f.Key]; !seen {
			a.order = append(a.order, f.Key)
		}
		if f.Key == "candidates" {
			a.top[f.Key] = nil
			a.addCandidates(f.Value)
			continue
		}
		a.top[f.Key] = f.Value
	}
}

func (a *streamAgg) addCandidates(raw json.RawMessage) {
	list, ok := rawjson.ValidArrayItems(raw) // a member of a validated chunk
	if !ok {
		return
	}
	for pos, item := range list {
		fields, err := rawjson.ValidObjectFields(item)
		if err != nil {
			continue
		}
		idx := pos
		if v, ok := llmspan.Lookup(fields, "index"); ok {
			_ = json.Unmarshal(v, &idx)
		}
		c := a.cands[idx]
		if c == nil {
			c = &candAgg{fields: map[string]json.RawMessage{}}
			a.cands[idx] = c
			a.idx = append(a.idx, idx)
		}
		for _, f := range fields {
			if _, seen := c.fields[f.Key]; !seen {
				c.order = append(c.order, f.Key)
			}
			c.fields[f.Key] = f.Value
			if f.Key == "content" {
				c.addContent(f.Value)
			}
		}
	}
}

// candContent is a candidate's content, as encoding/json decodes it.
type candContent struct {
	Role  json.RawMessage   `json:"role"`
	Parts []json.RawMessage `json:"parts"`
}

var contentNames = []string{"role", "parts"}

func (c *candAgg) addContent(raw json.RawMessage) {
	content, ok := rawjson.Decode(raw, contentNames, func(cc *candContent, name int, v json.RawMessage) bool {
		if name == 0 {
			return rawjson.SetRaw(&cc.Role, v)
		}
		if string(v) == "null" {
			cc.Parts = nil
			return true
		}
		parts, ok := rawjson.ValidArrayItems(v) // a member of a validated chunk
		cc.Parts = parts
		return ok
	})
	if !ok {
		return
	}
	if content.Role != nil {
		c.role = content.Role
	}
	for _, p := range content.Parts {
		fields, err := rawjson.ValidObjectFields(p)
		if err != nil {
			continue
		}
		text, hasText := llmspan.Lookup(fields, "text")
		thought, _ := llmspan.Lookup(fields, "thought")
		onlyText := hasText
		for _, f := range fields {
			if f.Key != "text" && f.Key != "thought" {
				onlyText = false
			}
		}
		isThought := string(thought) == "true"
		if onlyText {
			if n := len(c.parts); n > 0 && c.parts[n-1].isText && c.parts[n-1].thought == isThought {
				c.parts[n-1].text = append(c.parts[n-1].text, llmspan.String(text)...)
				continue
			}
			c.parts = append(c.parts, partAgg{isText: true, thought: isThought, text: []byte(llmspan.String(text))})
			continue
		}
		c.parts = append(c.parts, partAgg{raw: p})
	}
}

// response is the aggregated GenerateContentResponse (REST form).
func (a *streamAgg) response() json.RawMessage {
	var o llmspan.Object
	for _, k := range a.order {
		if k == "candidates" {
			sort.Ints(a.idx)
			items := make([]string, 0, len(a.idx))
			for _, i := range a.idx {
				items = append(items, string(a.cands[i].json()))
			}
			o.Set(k, json.RawMessage("["+strings.Join(items, ",")+"]"))
			continue
		}
		o.Set(k, a.top[k])
	}
	return o.JSON()
}

func (c *candAgg) json() json.RawMessage {
	var o llmspan.Object
	for _, k := range c.order {
		if k != "content" {
			o.Set(k, c.fields[k])
			continue
		}
		parts := make([]string, len(c.parts))
		for i, p := range c.parts {
			if !p.isText {
				parts[i] = string(p.raw)
				continue
			}
			var po llmspan.Object
			po.Set("text", string(p.text))
			if p.thought {
				po.Set("thought", true)
			}
			parts[i] = string(po.JSON())
		}
		var content llmspan.Object
		content.Set("parts", json.RawMessage("["+strings.Join(parts, ",")+"]"))
		content.Set("role", c.role)
		o.Set("content", content.JSON())
	}
	return o.JSON()
}

var (
	_ llmspan.Recorder = (*recorder)(nil)
	_ llmspan.Recorder = (*chatRecorder)(nil)
)
