package assemble

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// This file translates spans of other OpenTelemetry GenAI instrumentations
// (OpenTelemetry GenAI semantic conventions, OpenInference, Traceloop /
// OpenLLMetry, Langfuse, Laminar, …) into MLflow's span attributes, with the
// rules MLflow's tracking server (3.17.2) applies when it stores spans that
// arrive over OTLP: mlflow.tracing.otel.translation.translate_span_when_storing
// and its translators. The server does that only for its own database; a
// trace written to the local store (or sent to a destination that does not
// translate) would otherwise show such spans as UNKNOWN with no inputs,
// outputs or token usage.
//
// MLflow asks its translators in a fixed order (OpenInference, Gemini CLI,
// Claude Code, GenAI semconv, Spring AI, Traceloop, Google ADK, Vercel AI,
// VoltAgent, LiveKit, Laminar, Langfuse) and the first that answers wins, per
// attribute. The functions below keep that order; translators whose keys are
// a subset of an earlier one's (Spring AI's and Laminar's token and model
// keys, LiveKit's GenAI keys) are folded into the earlier one, which gives
// the same answer.
//
// MLflow reads the attribute values as the JSON text it stores. Its server
// stores a string attribute that holds JSON text of a string, object or array
// as that JSON (sanitize_attributes), and so does ConvertSpan: a GenAI
// instrumentation's "gen_ai.input.messages" string attribute holds the
// messages as JSON text, and both it and the translated mlflow.spanInputs
// read back as the array.

// genaiRelevant reports whether a span has an attribute or event that one of
// MLflow's translators reads. Spans without one skip translation, so they pay
// only this scan. wide is true when a GenAI convention key is present (not
// only mlflow.spanInputs / mlflow.spanOutputs, whose "model" field is all
// MLflow reads from them).
func genaiRelevant(attrs []attribute.KeyValue, events []sdktrace.Event) (relevant, wide bool) {
	for _, kv := range attrs {
		if k := string(kv.Key); genaiKey(k) {
			relevant = true
			if k != keys.SpanInputs && k != keys.SpanOutputs {
				return true, true
			}
		}
	}
	for _, ev := range events {
		if strings.HasPrefix(ev.Name, "gen_ai.") {
			return true, true
		}
	}
	return relevant, false
}

// genaiKey reports whether MLflow's translators read attribute k (or, for
// Claude Code's bare keys, whether k gates them: "span.type").
func genaiKey(k string) bool {
	if len(k) < 2 {
		return false
	}
	switch k[0] {
	case 'g':
		return strings.HasPrefix(k, "gen_ai.") || strings.HasPrefix(k, "gcp.vertex.agent.")
	case 'l':
		return strings.HasPrefix(k, "llm.") || strings.HasPrefix(k, "lk.") ||
			strings.HasPrefix(k, "lmnr.") || strings.HasPrefix(k, "langfuse.")
	case 'i':
		return k == "input.value" || k == "input"
	case 'o':
		return k == "output.value" || k == "output" || k == "openinference.span.kind"
	case 'a':
		return strings.HasPrefix(k, "ai.") || k == "agent.messages"
	case 'e':
		return k == "embedding.model_name" || k == "entity.type"
	case 's':
		return k == "span.type"
	case 't':
		return strings.HasPrefix(k, "traceloop.")
	case 'u':
		return strings.HasPrefix(k, "usage.")
	case 'v':
		return strings.HasPrefix(k, "voltagent.")
	case 'm':
		// The model name falls back to a "model" field of the inputs or
		// outputs, on any span MLflow translates.
		return k == keys.SpanInputs || k == keys.SpanOutputs
	}
	return false
}

// genaiSpan is what the translators read: the converted attributes (JSON
// text per key, written to as translation goes, like MLflow's dict), the
// span's attribute keys in their original order, and its events.
type genaiSpan struct {
	m      map[string]string
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	// translatedIO has bit 1 set when the inputs, bit 2 when the outputs
	// were set by translation (MLflow reads those unsanitised).
	translatedIO uint8
	gemini       bool   // a Gemini CLI span
	claude       string // Claude Code span type, or ""
}

// translateGenAI adds to dst (the converted attributes of a span from another
// instrumentation scope) the MLflow attributes MLflow's server derives from
// GenAI conventions: mlflow.spanType (when missing or UNKNOWN),
// mlflow.spanInputs, mlflow.spanOutputs, mlflow.chat.tokenUsage,
// mlflow.message.format, mlflow.chat.tools, mlflow.llm.model and
// mlflow.llm.provider, each only when not already set.
// The caller checks genaiRelevant first. A bug here must not take the
// exporter down: a panic leaves the span with what was translated so far.
func translateGenAI(dst map[string]string, attrs []attribute.KeyValue, events []sdktrace.Event) {
	defer func() { _ = recover() }()
	s := &genaiSpan{m: dst, attrs: attrs, events: events}
	s.gemini = s.geminiCLI()
	s.claude = s.claudeCodeType()
	if t := s.spanType(); t != "" {
		cur, ok := dst[keys.SpanType]
		if !ok || cur == "null" || kindOf(unwrapJSON(cur)) == "UNKNOWN" {
			dst[keys.SpanType] = `"` + t + `"` // span type names need no escaping
		}
	}
	if _, ok := dst[keys.SpanInputs]; !ok {
		if v, ok := s.inputs(); ok {
			dst[keys.SpanInputs] = v
			s.translatedIO |= 1
		}
	}
	if _, ok := dst[keys.SpanOutputs]; !ok {
		if v, ok := s.outputs(); ok {
			dst[keys.SpanOutputs] = v
			s.translatedIO |= 2
		}
	}
	if _, ok := dst[keys.ChatTokenUsage]; !ok {
		if v, ok := s.tokenUsage(); ok {
			dst[keys.ChatTokenUsage] = v
		}
	}
	if _, ok := dst[keys.MessageFormat]; !ok {
		if v := s.messageFormat(); v != "" {
			dst[keys.MessageFormat] = encode.JSON(v)
		}
	}
	if _, ok := dst[keys.ChatTools]; !ok {
		if v, ok := s.checked("gen_ai.tool.definitions"); ok {
			dst[keys.ChatTools] = v
		}
	}
	if _, ok := dst[keys.LLMModel]; !ok {
		if v, ok := s.model(); ok {
			dst[keys.LLMModel] = v
		}
	}
	if _, ok := dst[keys.LLMProvider]; !ok {
		if v, ok := s.firstChecked("llm.provider", "gen_ai.provider.name", "gen_ai.system"); ok {
			dst[keys.LLMProvider] = v
		}
	}
}

// text returns attribute k's JSON text as MLflow's translators see it, after
// its server strips one level of a doubly encoded string, object or array
// (sanitize_attributes). ConvertSpan already stores other scopes' string
// attributes that way; mlflow.* values kept as they were are unwrapped here.
func (s *genaiSpan) text(k string) (string, bool) {
	v, ok := s.m[k]
	if !ok {
		return "", false
	}
	if strings.HasPrefix(k, "mlflow.") {
		return unwrapJSON(v), true
	}
	return v, true
}

// validJSON is json.Valid with a quick rejection of text that cannot start a
// JSON value (json.Valid allocates an error for it).
func validJSON(v string) bool {
	switch c := firstByte(v); {
	case c == '{' || c == '[' || c == '"' || c == '-' || c == 't' || c == 'f' || c == 'n' || (c >= '0' && c <= '9'):
		return rawjson.Valid([]byte(v))
	}
	return false
}

// jsonContainer reports whether v is JSON text of a string, object or array.
func jsonContainer(v string) bool {
	switch firstByte(v) {
	case '"', '{', '[':
		return rawjson.Valid([]byte(v))
	}
	return false
}

// unwrapJSON is MLflow's sanitize_attributes for one value: a JSON string
// whose content is itself JSON text of a string, object or array becomes that
// content.
func unwrapJSON(v string) string {
	if len(v) < 2 || v[0] != '"' {
		return v
	}
	inner, ok := jsonString(v)
	if !ok || !jsonContainer(inner) {
		return v
	}
	return inner
}

// checked is MLflow's _get_and_check_attribute_value: the text of k when its
// decoded value is truthy in Python (not null, false, 0, "", [] or {}).
func (s *genaiSpan) checked(k string) (string, bool) {
	v, ok := s.text(k)
	if !ok || !pyTruthyJSON(v) {
		return "", false
	}
	return v, true
}

func (s *genaiSpan) firstChecked(ks ...string) (string, bool) {
	for _, k := range ks {
		if v, ok := s.checked(k); ok {
			return v, true
		}
	}
	return "", false
}

// kind returns attribute k decoded as a string, the way the translators
// compare span kinds: the JSON string's content, the raw text when it is not
// JSON, "" otherwise (also when k is absent).
func (s *genaiSpan) kind(k string) string {
	v, ok := s.text(k)
	if !ok {
		return ""
	}
	return kindOf(v)
}

func kindOf(v string) string {
	if str, ok := jsonString(v); ok {
		return str
	}
	if !validJSON(v) {
		return v
	}
	return ""
}

// Span types, per translator (MLflow's SPAN_KIND_TO_MLFLOW_TYPE tables).
var (
	openInferenceKinds = map[string]string{
		"TOOL": "TOOL", "CHAIN": "CHAIN", "LLM": "LLM", "RETRIEVER": "RETRIEVER", "EMBEDDING": "EMBEDDING",
		"AGENT": "AGENT", "RERANKER": "RERANKER", "UNKNOWN": "UNKNOWN", "GUARDRAIL": "GUARDRAIL", "EVALUATOR": "EVALUATOR",
	}
	geminiCLIKinds = map[string]string{"llm_call": "LLM", "tool_call": "TOOL", "agent_call": "AGENT"}
	genaiKinds     = map[string]string{
		"chat": "CHAT_MODEL", "create_agent": "AGENT", "embeddings": "EMBEDDING", "execute_tool": "TOOL",
		"generate_content": "LLM", "invoke_agent": "AGENT", "text_completion": "LLM", "response": "LLM",
	}
	traceloopKinds = map[string]string{"workflow": "WORKFLOW", "task": "TASK", "agent": "AGENT", "tool": "TOOL", "unknown": "UNKNOWN"}
	vercelKinds    = map[string]string{
		"ai.generateText": "LLM", "ai.generateText.doGenerate": "LLM", "ai.toolCall": "TOOL",
		"ai.streamText": "LLM", "ai.streamText.doStream": "LLM", "ai.generateObject": "LLM",
		"ai.generateObject.doGenerate": "LLM", "ai.streamObject": "LLM", "ai.streamObject.doStream": "LLM",
		"ai.embed": "EMBEDDING", "ai.embed.doEmbed": "EMBEDDING", "ai.embedMany": "EMBEDDING",
	}
	voltAgentKinds = map[string]string{"agent": "AGENT", "llm": "LLM", "tool": "TOOL", "memory": "MEMORY"}
	laminarKinds   = map[string]string{
		"LLM": "LLM", "TOOL": "TOOL", "DEFAULT": "CHAIN", "PIPELINE": "CHAIN", "EXECUTOR": "AGENT",
		"EVALUATOR": "EVALUATOR", "HUMAN_EVALUATOR": "EVALUATOR", "EVALUATION": "EVALUATOR", "CACHED": "LLM",
	}
	langfuseKinds = map[string]string{
		"generation": "LLM", "embedding": "EMBEDDING", "tool": "TOOL", "retriever": "RETRIEVER", "agent": "AGENT",
		"chain": "CHAIN", "evaluator": "EVALUATOR", "guardrail": "GUARDRAIL", "span": "UNKNOWN",
	}
)

// spanKind is the base translator's translate_span_type: the kind attribute
// must be present and non-empty; its decoded value is looked up.
func (s *genaiSpan) spanKind(k string, table map[string]string) string {
	if _, ok := s.m[k]; !ok {
		return ""
	}
	return table[s.kind(k)]
}

// spanType is translate_span_type_from_otel: the first translator's answer.
func (s *genaiSpan) spanType() string {
	if t := s.spanKind("openinference.span.kind", openInferenceKinds); t != "" {
		return t
	}
	if s.gemini {
		if t := s.spanKind("gen_ai.operation.name", geminiCLIKinds); t != "" {
			return t
		}
	}
	switch s.claude {
	case claudeInteraction:
		return "AGENT"
	case claudeLLMRequest:
		return "LLM"
	case claudeTool:
		return "TOOL"
	}
	if t := s.spanKind("gen_ai.operation.name", genaiKinds); t != "" {
		return t
	}
	if t := s.spanKind("traceloop.span.kind", traceloopKinds); t != "" {
		return t
	}
	if t := s.spanKind("ai.operationId", vercelKinds); t != "" {
		return t
	}
	for _, k := range [...]string{"span.type", "entity.type"} { // VoltAgent
		if t := voltAgentKinds[s.kind(k)]; t != "" {
			return t
		}
	}
	if t := s.liveKitType(); t != "" {
		return t
	}
	if t := s.spanKind("lmnr.span.type", laminarKinds); t != "" {
		return t
	}
	return s.spanKind("langfuse.observation.type", langfuseKinds)
}

// liveKitType is LiveKit's translate_span_type, which MLflow applies to every
// span: a gen_ai.request.model attribute alone makes an LLM span.
func (s *genaiSpan) liveKitType() string {
	if _, ok := s.m["gen_ai.request.model"]; ok {
		return "LLM"
	}
	if v, ok := s.text("gen_ai.operation.name"); ok {
		if t := genaiKinds[strings.ToLower(pyStr(v))]; t != "" {
			return t
		}
	}
	for _, kv := range s.attrs {
		k := string(kv.Key)
		switch {
		case k == "lk.retry_count":
			return "LLM"
		case strings.HasPrefix(k, "lk.function_tool"):
			return "TOOL"
		case k == "lk.agent_name" || k == "lk.instructions" || k == "lk.generation_id":
			return "AGENT"
		case strings.HasPrefix(k, "lk.tts") || k == "lk.input_text",
			k == "lk.user_transcript" || k == "lk.transcript_confidence" || k == "lk.transcription_delay":
			return "UNKNOWN"
		}
	}
	return ""
}

// pyStr is Python's str() of a decoded JSON value, for the values that occur
// as span kinds (strings, numbers, booleans).
func pyStr(v string) string {
	if str, ok := jsonString(v); ok {
		return str
	}
	switch v {
	case "true":
		return "True"
	case "false":
		return "False"
	case "null":
		return "None"
	}
	return v
}

func (s *genaiSpan) geminiCLI() bool {
	_, ok := s.m["gen_ai.agent.name"]
	return ok && s.kind("gen_ai.agent.name") == "gemini-cli"
}

const (
	claudeInteraction = "claude_code.interaction"
	claudeLLMRequest  = "claude_code.llm_request"
	claudeTool        = "claude_code.tool"
)

// claudeCodeType returns the Claude Code span type from "span.type", or "".
func (s *genaiSpan) claudeCodeType() string {
	v, ok := s.text("span.type")
	if !ok {
		return ""
	}
	t, ok := jsonString(v)
	if !ok {
		if validJSON(v) {
			return ""
		}
		t = v
	}
	if !strings.HasPrefix(t, "claude_code.") {
		t = "claude_code." + t
	}
	switch t {
	case claudeInteraction, claudeLLMRequest, claudeTool:
		return t
	}
	return ""
}

// claudeContent is Claude Code's _get_content: a checked value that is not
// "<REDACTED>".
func (s *genaiSpan) claudeContent(k string) (string, bool) {
	v, ok := s.checked(k)
	if !ok {
		return "", false
	}
	if str, isStr := jsonString(v); isStr && str == "<REDACTED>" {
		return "", false
	}
	return v, true
}

// vercelOperation is Vercel AI's ai.operationId, decoded like _safe_load_json.
func (s *genaiSpan) vercelOperation() string {
	v, ok := s.text("ai.operationId")
	if !ok {
		return ""
	}
	return kindOf(loadChain(v))
}

func (s *genaiSpan) vercelChat() bool {
	switch s.vercelOperation() {
	case "ai.generateText.doGenerate", "ai.streamText.doStream":
		return true
	}
	return false
}

// inputs is _get_input_value: attributes first, then events.
func (s *genaiSpan) inputs() (string, bool) {
	if v, ok := s.checked("input.value"); ok { // OpenInference
		return v, true
	}
	if s.gemini {
		if v, ok := s.firstChecked("gen_ai.input.messages", "gen_ai.tool.call.arguments"); ok {
			return geminiWrapInput(v), true
		}
	}
	switch s.claude {
	case claudeInteraction:
		if v, ok := s.claudeContent("user_prompt"); ok {
			return v, true
		}
		if v, ok := s.claudeContent("new_context"); ok {
			return v, true
		}
	case claudeLLMRequest:
		if v, ok := s.claudeContent("new_context"); ok {
			return v, true
		}
	case claudeTool:
		if v, ok := s.claudeContent("tool_input"); ok {
			return v, true
		}
		var b []byte
		for _, k := range [...]string{"full_command", "file_path", "skill_name", "subagent_type"} {
			if v, ok := s.claudeContent(k); ok {
				b = appendMember(b, k, v)
			}
		}
		if b != nil {
			return string(append(b, '}')), true
		}
	}
	if v, ok := s.firstChecked("gen_ai.input.messages", "gen_ai.tool.call.arguments"); ok { // GenAI
		return v, true
	}
	if v, ok := s.checked("traceloop.entity.input"); ok { // Traceloop
		return v, true
	}
	if v, ok := s.matching(isIndexedKey("gen_ai.prompt.", ".content")); ok {
		return v, true
	}
	if v, ok := s.matching(isToolCallArguments); ok {
		return v, true
	}
	if v, ok := s.firstChecked("gcp.vertex.agent.llm_request", "gcp.vertex.agent.tool_call_args"); ok { // Google ADK
		return v, true
	}
	if s.vercelChat() {
		// Vercel AI marks chat spans' message format while it reads the
		// inputs (the server stores the bare string; here it is JSON).
		s.m[keys.MessageFormat] = `"vercel_ai"`
		if v, ok := s.vercelUnpack("ai.prompt.", true); ok {
			return v, true
		}
	} else if v, ok := s.firstChecked("ai.prompt", "ai.toolCall.args", "ai.value", "ai.values"); ok {
		return v, true
	}
	if v, ok := s.firstChecked("agent.messages", "llm.messages", "input"); ok { // VoltAgent
		return v, true
	}
	if v, ok := s.firstChecked("lk.user_input", "lk.user_transcript", "lk.chat_ctx", "lk.input_text"); ok { // LiveKit
		return v, true
	}
	if v, ok := s.firstChecked("lmnr.span.input", "langfuse.observation.input"); ok { // Laminar, Langfuse
		return v, true
	}
	if len(s.events) == 0 {
		return "", false
	}
	if v, ok := s.eventValue("gen_ai.content.prompt", "gen_ai.prompt"); ok { // Spring AI
		return v, true
	}
	return s.genaiEventMessages()
}

// outputs is _get_output_value.
func (s *genaiSpan) outputs() (string, bool) {
	if v, ok := s.checked("output.value"); ok {
		return v, true
	}
	if s.gemini {
		if v, ok := s.firstChecked("gen_ai.output.messages", "gen_ai.tool.call.result"); ok {
			return geminiWrapOutput(v), true
		}
	}
	claude := s.claude
	switch claude {
	case claudeLLMRequest:
		if v, ok := s.claudeContent("response.model_output"); ok {
			return v, true
		}
	case claudeTool:
		if v, ok := s.claudeContent("new_context"); ok {
			return v, true
		}
	}
	if v, ok := s.firstChecked("gen_ai.output.messages", "gen_ai.tool.call.result"); ok {
		return v, true
	}
	if v, ok := s.checked("traceloop.entity.output"); ok {
		return v, true
	}
	if v, ok := s.matching(isIndexedKey("gen_ai.completion.", ".content")); ok {
		return v, true
	}
	if v, ok := s.firstChecked("gcp.vertex.agent.llm_response", "gcp.vertex.agent.tool_response"); ok {
		return v, true
	}
	if s.vercelChat() {
		if v, ok := s.vercelUnpack("ai.response.", false); ok {
			return v, true
		}
	} else if v, ok := s.firstChecked("ai.response.text", "ai.toolCall.result", "ai.response.object", "ai.embedding", "ai.embeddings"); ok {
		return v, true
	}
	if v, ok := s.firstChecked("output", "lk.response.text", "lk.response.function_calls",
		"lmnr.span.output", "langfuse.observation.output"); ok {
		return v, true
	}
	if len(s.events) == 0 {
		return "", false
	}
	if v, ok := s.eventValue("gen_ai.content.completion", "gen_ai.completion"); ok {
		return v, true
	}
	if v, ok := s.genaiEventChoices(); ok {
		return v, true
	}
	if claude == claudeTool {
		for _, ev := range s.events {
			if ev.Name != "tool.output" {
				continue
			}
			for _, k := range [...]string{"output", "content", "diff"} {
				if v, ok := eventAttr(ev, k); ok {
					j := decodedJSON(v)
					if pyTruthyJSON(j) && !(j == `"<REDACTED>"`) {
						return j, true
					}
				}
			}
		}
	}
	return "", false
}

// matching returns the first checked attribute, in the span's attribute
// order, whose key satisfies match (Traceloop's regular-expression keys).
func (s *genaiSpan) matching(match func(string) bool) (string, bool) {
	for _, kv := range s.attrs {
		if k := string(kv.Key); match(k) {
			if v, ok := s.checked(k); ok {
				return v, true
			}
		}
	}
	return "", false
}

// isIndexedKey matches prefix + digits + suffix at the start of a key, like
// Python's re.match with r"prefix\d+suffix".
func isIndexedKey(prefix, suffix string) func(string) bool {
	return func(k string) bool {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return false
		}
		rest, ok = cutDigits(rest)
		return ok && strings.HasPrefix(rest, suffix)
	}
}

// isToolCallArguments matches r"gen_ai\.completion\.\d+\.tool_calls\.\d+\.arguments".
func isToolCallArguments(k string) bool {
	rest, ok := strings.CutPrefix(k, "gen_ai.completion.")
	if !ok {
		return false
	}
	if rest, ok = cutDigits(rest); !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, ".tool_calls."); !ok {
		return false
	}
	rest, ok = cutDigits(rest)
	return ok && strings.HasPrefix(rest, ".arguments")
}

// cutDigits removes one or more leading decimal digits (Python's \d also
// matches other Unicode digits; instrumentations write ASCII indexes).
func cutDigits(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[i:], i > 0
}

// vercelUnpack is Vercel AI's _unpack_attributes_with_prefix for chat spans:
// an object of every attribute under prefix, keyed by the rest of the key,
// each value decoded up to three times; the "tools" entry of the inputs has
// each element decoded too.
func (s *genaiSpan) vercelUnpack(prefix string, inputs bool) (string, bool) {
	var b []byte
	for _, kv := range s.attrs {
		k := string(kv.Key)
		name, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		v, _ := s.text(k)
		v = loadChain(v)
		if inputs && name == "tools" {
			v = vercelTools(v)
		}
		b = appendMember(b, name, v)
	}
	if b == nil {
		return "", false
	}
	return string(append(b, '}')), true
}

// vercelTools decodes each element of a JSON array like _safe_load_json.
func vercelTools(v string) string {
	var items []json.RawMessage
	if json.Unmarshal([]byte(v), &items) != nil {
		return v
	}
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		e := string(it)
		if str, ok := jsonString(e); ok {
			e = loadChain(str)
		}
		b = append(b, e...)
	}
	return string(append(b, ']'))
}

// loadChain is Vercel AI's _safe_load_json(s, max_depth=2) on the Python
// string s (an attribute's JSON text, or a decoded string): json.loads
// applied while the value is a string, at most three times; a value that
// fails to decode stays the string it was. It returns the result as JSON text.
func loadChain(s string) string {
	for range 3 {
		t := strings.TrimSpace(s)
		if !validJSON(t) {
			return encode.JSON(s)
		}
		str, ok := jsonString(t)
		if !ok {
			return t
		}
		s = str
	}
	return encode.JSON(s)
}

// geminiWrapInput is Gemini CLI's _try_wrap_input: a list or string of
// contents becomes {"contents": …}.
func geminiWrapInput(v string) string {
	switch firstByte(v) {
	case '{':
		return v
	case '[', '"':
		return `{"contents": ` + v + `}`
	}
	return v
}

// geminiWrapOutput is Gemini CLI's _try_wrap_output: the parts of a list of
// contents merged into one candidate.
func geminiWrapOutput(v string) string {
	var items []json.RawMessage
	if firstByte(v) != '[' || json.Unmarshal([]byte(v), &items) != nil {
		return v
	}
	var parts []json.RawMessage
	for _, it := range items {
		var obj map[string]json.RawMessage
		if json.Unmarshal(it, &obj) != nil {
			continue
		}
		var ps []json.RawMessage
		if p, ok := obj["parts"]; ok && firstByte(string(p)) == '[' && json.Unmarshal(p, &ps) == nil {
			parts = append(parts, ps...)
		}
	}
	if len(parts) == 0 {
		return v
	}
	b := []byte(`{"candidates": [{"content": {"role": "model", "parts": [`)
	for i, p := range parts {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, p...)
	}
	return string(append(b, "]}}]}"...))
}

// eventValue is Spring AI's _get_value_from_event: attribute k of the first
// event named name, when truthy.
func (s *genaiSpan) eventValue(name, k string) (string, bool) {
	for _, ev := range s.events {
		if ev.Name != name {
			continue
		}
		if v, ok := eventAttr(ev, k); ok && pyTruthy(v) {
			// MLflow stores the value itself: a string as it is, which a
			// reader decodes as JSON when it can. Here a string that is not
			// JSON is stored as a JSON string (it reads back the same).
			if v.Type() == attribute.STRING && validJSON(v.AsString()) {
				return v.AsString(), true
			}
			return string(appendAttrValue(nil, v)), true
		}
	}
	return "", false
}

// eventAttr returns event attribute k; of repeated keys the last wins, as in
// the dict MLflow builds from them.
func eventAttr(ev sdktrace.Event, k string) (attribute.Value, bool) {
	for i := len(ev.Attributes) - 1; i >= 0; i-- {
		if kv := ev.Attributes[i]; string(kv.Key) == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// genaiEventMessages reads the OpenTelemetry GenAI message events
// (gen_ai.system.message, gen_ai.user.message, gen_ai.assistant.message), as
// MLflow does through its LiveKit translator: a JSON list of {role, content}.
func (s *genaiSpan) genaiEventMessages() (string, bool) {
	var b []byte
	for _, ev := range s.events {
		var role string
		switch ev.Name {
		case "gen_ai.system.message":
			role = `"system"`
		case "gen_ai.user.message":
			role = `"user"`
		case "gen_ai.assistant.message":
			role = `"assistant"`
		default:
			continue
		}
		c, ok := eventAttr(ev, "content")
		if !ok || !pyTruthy(c) {
			continue
		}
		b = appendMessage(b, role, decodedJSON(c))
	}
	if b == nil {
		return "", false
	}
	return string(append(b, ']')), true
}

// genaiEventChoices reads gen_ai.choice events: a JSON list of {role, content}.
func (s *genaiSpan) genaiEventChoices() (string, bool) {
	var b []byte
	for _, ev := range s.events {
		if ev.Name != "gen_ai.choice" {
			continue
		}
		c, ok := eventAttr(ev, "content")
		if !ok || !pyTruthy(c) {
			continue
		}
		role := `"assistant"`
		if r, ok := eventAttr(ev, "role"); ok {
			role = decodedJSON(r)
		}
		b = appendMessage(b, role, decodedJSON(c))
	}
	if b == nil {
		return "", false
	}
	return string(append(b, ']')), true
}

func appendMessage(b []byte, role, content string) []byte {
	if b == nil {
		b = append(b, '[')
	} else {
		b = append(b, ", "...)
	}
	b = append(b, `{"role": `...)
	b = append(b, role...)
	b = append(b, `, "content": `...)
	b = append(b, content...)
	return append(b, '}')
}

// appendMember appends "name": value to a JSON object being built in b (nil:
// not started).
func appendMember(b []byte, name, value string) []byte {
	if b == nil {
		b = append(b, '{')
	} else {
		b = append(b, ", "...)
	}
	b = encode.AppendString(b, name, false)
	b = append(b, ": "...)
	return append(b, value...)
}

// decodedJSON is MLflow's _decode_json_value / try_json_loads of an event
// attribute, as JSON text: a string holding JSON is that JSON, any other
// string a JSON string, other values their JSON encoding.
func decodedJSON(v attribute.Value) string {
	if v.Type() == attribute.STRING {
		str := v.AsString()
		if t := strings.TrimSpace(str); t != "" && validJSON(t) {
			return t
		}
	}
	return string(appendAttrValue(nil, v))
}

// usageSource is one translator's token count keys. Each list is read like
// MLflow does: the first key present gives the value (parsed as an int).
type usageSource struct {
	input, output, total, cacheRead, cacheWrite []string
}

// usageSources are the translators with token keys, in MLflow's order; the
// GenAI semantic conventions' keys also stand for Gemini CLI, Spring AI,
// LiveKit and Laminar, which read a subset of them. Claude Code comes between
// GenAI and Traceloop (claudeUsage).
var usageSources = [...]usageSource{
	{ // OpenInference
		input: []string{"llm.token_count.prompt"}, output: []string{"llm.token_count.completion"},
		total:     []string{"llm.token_count.total"},
		cacheRead: []string{"llm.token_count.prompt_details.cache_read"}, cacheWrite: []string{"llm.token_count.prompt_details.cache_write"},
	},
	{ // GenAI semantic conventions
		input: []string{"gen_ai.usage.input_tokens"}, output: []string{"gen_ai.usage.output_tokens"},
		cacheRead:  []string{"gen_ai.usage.cache_read.input_tokens"},
		cacheWrite: []string{"gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens"},
	},
	{ // Traceloop
		input: []string{"gen_ai.usage.prompt_tokens"}, output: []string{"gen_ai.usage.completion_tokens"},
		total: []string{"llm.usage.total_tokens"},
	},
	{ // VoltAgent
		input:  []string{"usage.prompt_tokens", "llm.usage.prompt_tokens"},
		output: []string{"usage.completion_tokens", "llm.usage.completion_tokens"},
		total:  []string{"usage.total_tokens", "llm.usage.total_tokens"},
	},
}

// usageValue reads the first of ks present.
func (s *genaiSpan) usageValue(ks []string) (pyInt, bool) {
	for _, k := range ks {
		if v, ok := s.text(k); ok {
			return parseIntAttribute(v)
		}
	}
	return pyInt{}, false
}

// claudeValue is Claude Code's _get_int of k on an llm_request span.
func (s *genaiSpan) claudeValue(k string) (pyInt, bool) {
	if s.claude != claudeLLMRequest {
		return pyInt{}, false
	}
	v, ok := s.text(k)
	if !ok {
		return pyInt{}, false
	}
	return claudeIntValue(v)
}

// tokenUsage is _get_token_usage: the first translator with an input, output
// or total token count gives the usage.
func (s *genaiSpan) tokenUsage() (string, bool) {
	for i := 0; i <= len(usageSources); i++ {
		var in, out, total, cacheRead, cacheWrite pyInt
		var hasIn, hasOut, hasTotal, hasRead, hasWrite bool
		switch {
		case i == 2: // Claude Code: input tokens include the cache tokens
			cacheRead, hasRead = s.claudeValue("cache_read_tokens")
			cacheWrite, hasWrite = s.claudeValue("cache_creation_tokens")
			if in, hasIn = s.claudeValue("input_tokens"); hasIn {
				in.n += cacheRead.n + cacheWrite.n
			}
			out, hasOut = s.claudeValue("output_tokens")
		default:
			j := i
			if i > 2 {
				j = i - 1
			}
			src := usageSources[j]
			in, hasIn = s.usageValue(src.input)
			out, hasOut = s.usageValue(src.output)
			total, hasTotal = s.usageValue(src.total)
			cacheRead, hasRead = s.usageValue(src.cacheRead)
			cacheWrite, hasWrite = s.usageValue(src.cacheWrite)
		}
		if !hasTotal && hasIn && hasOut {
			total, hasTotal = pyInt{n: in.n + out.n}, true
		}
		if !hasIn && !hasOut && !hasTotal {
			continue
		}
		b := make([]byte, 0, 112)
		b = append(b, '{')
		sep := false
		member := func(name string, v pyInt) {
			if sep {
				b = append(b, ", "...)
			}
			sep = true
			b = append(b, '"')
			b = append(b, name...)
			b = append(b, `": `...)
			b = v.append(b)
		}
		if hasIn {
			member("input_tokens", in)
		}
		if hasOut {
			member("output_tokens", out)
		}
		if hasTotal {
			member("total_tokens", total)
		}
		if hasRead {
			member("cache_read_input_tokens", cacheRead)
		}
		if hasWrite {
			member("cache_creation_input_tokens", cacheWrite)
		}
		return string(append(b, '}')), true
	}
	return "", false
}

// pyInt is a Python int (a bool is an int in Python and stays a bool when
// stored as is).
type pyInt struct {
	n      int64
	isBool bool
}

func (v pyInt) append(b []byte) []byte {
	if v.isBool {
		return strconv.AppendBool(b, v.n != 0)
	}
	return strconv.AppendInt(b, v.n, 10)
}

// parseIntAttribute is MLflow's _parse_int_attribute on an attribute's JSON
// text: a JSON integer, or a JSON string holding an integer.
func parseIntAttribute(v string) (pyInt, bool) {
	switch v {
	case "true":
		return pyInt{n: 1, isBool: true}, true
	case "false":
		return pyInt{isBool: true}, true
	}
	if str, ok := jsonString(v); ok {
		return pyIntString(str)
	}
	return pyIntString(v) // a JSON integer (a float fails, as in Python)
}

// pyIntString is Python's int(str) for base-10 text.
func pyIntString(s string) (pyInt, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return pyInt{}, false
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return pyInt{}, false
	}
	return pyInt{n: n}, true
}

// claudeIntValue is Claude Code's _get_int: int() of the decoded value
// (floats are truncated).
func claudeIntValue(v string) (pyInt, bool) {
	switch v {
	case "true":
		return pyInt{n: 1}, true
	case "false":
		return pyInt{}, true
	case "null":
		return pyInt{}, false
	}
	if str, ok := jsonString(v); ok {
		return pyIntString(str)
	}
	if n, ok := pyIntString(v); ok {
		return n, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1<<63 {
		return pyInt{}, false
	}
	return pyInt{n: int64(f)}, true
}

// messageFormat is _get_message_format.
func (s *genaiSpan) messageFormat() string {
	if s.gemini {
		return "gemini"
	}
	if s.has("voltagent.operation_id") || s.has("voltagent.conversation_id") {
		return "voltagent"
	}
	for _, kv := range s.attrs {
		if strings.HasPrefix(string(kv.Key), "lk.") {
			return "livekit"
		}
	}
	if s.has("lmnr.span.type") {
		return "openai"
	}
	return ""
}

func (s *genaiSpan) has(k string) bool { _, ok := s.m[k]; return ok }

// model is _get_model_name: the model attributes, else a "model" string of
// the inputs, else of the outputs.
func (s *genaiSpan) model() (string, bool) {
	if v, ok := s.firstChecked("llm.response.model_name", "llm.model_name", "llm.request.model_name",
		"embedding.model_name", "gen_ai.response.model", "gen_ai.request.model"); ok {
		return v, true
	}
	for i, k := range [...]string{keys.SpanInputs, keys.SpanOutputs} {
		v, ok := s.m[k]
		if !ok {
			continue
		}
		if s.translatedIO&(1<<i) == 0 {
			v = unwrapJSON(v)
		}
		if firstByte(v) != '{' || !strings.Contains(v, `"model"`) {
			continue // no "model" key (spelled with escapes it is missed)
		}
		var obj struct {
			Model json.RawMessage `json:"model"`
		}
		if json.Unmarshal([]byte(v), &obj) != nil || len(obj.Model) == 0 || !pyTruthyJSON(string(obj.Model)) {
			continue
		}
		if m, ok := jsonString(string(obj.Model)); ok {
			return encode.JSON(m), true
		}
		return "", false // a model that is not a string: MLflow stops here
	}
	return "", false
}

// jsonString decodes v when it is a JSON string literal.
func jsonString(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	if body := v[1 : len(v)-1]; strings.IndexByte(body, '\\') < 0 && strings.IndexByte(body, '"') < 0 {
		return body, true
	}
	var s string
	if json.Unmarshal([]byte(v), &s) != nil {
		return "", false
	}
	return s, true
}

func firstByte(v string) byte {
	v = strings.TrimLeft(v, " \t\r\n")
	if v == "" {
		return 0
	}
	return v[0]
}

// pyTruthyJSON reports Python truthiness of json.loads(v); text that is not
// JSON is a non-empty string, so truthy.
func pyTruthyJSON(v string) bool {
	t := strings.TrimSpace(v)
	switch firstByte(t) {
	case 'n':
		return t != "null"
	case 'f':
		return t != "false"
	case 't':
		return true
	case '"':
		return t != `""`
	case '[', '{':
		if len(t) < 2 {
			return true
		}
		inner := strings.TrimSpace(t[1 : len(t)-1])
		return inner != "" || !validJSON(t)
	case 0:
		return v != ""
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return true
	}
	return f != 0
}

// pyTruthy reports Python truthiness of an event attribute's native value.
func pyTruthy(v attribute.Value) bool {
	switch v.Type() {
	case attribute.BOOL:
		return v.AsBool()
	case attribute.INT64:
		return v.AsInt64() != 0
	case attribute.FLOAT64:
		return v.AsFloat64() != 0
	case attribute.STRING:
		return v.AsString() != ""
	case attribute.BOOLSLICE:
		return len(v.AsBoolSlice()) > 0
	case attribute.INT64SLICE:
		return len(v.AsInt64Slice()) > 0
	case attribute.FLOAT64SLICE:
		return len(v.AsFloat64Slice()) > 0
	case attribute.STRINGSLICE:
		return len(v.AsStringSlice()) > 0
	case attribute.BYTESLICE:
		return len(v.AsByteSlice()) > 0
	case attribute.SLICE:
		return len(v.AsSlice()) > 0
	case attribute.MAP:
		return len(v.AsMap()) > 0
	}
	return false
}
