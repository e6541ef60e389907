package llmtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/eventstream"
)

// The fake Amazon Bedrock Runtime: POST /model/{modelId}/converse,
// /converse-stream, /invoke and /invoke-with-response-stream, signed with
// SigV4 (sigv4.go). Streams are AWS event streams (internal/eventstream).
// Errors are AWS's rest-json errors: the status, an x-amzn-ErrorType header
// and {"message": ...}.

// bedrockModel is a model the fake serves.
type bedrockModel struct {
	family      string // anthropic, nova, llama, titan-text, titan-embed, cohere
	name        string // the name an Anthropic answer reports
	converse    bool   // Converse / ConverseStream
	tools       bool   // tool use in Converse
	system      bool   // system prompts in Converse
	profileOnly bool   // on-demand invocation needs an inference profile
}

var bedrockModels = map[string]bedrockModel{
	"anthropic.claude-3-haiku-20240307-v1:0":   {family: "anthropic", name: "claude-3-haiku-20240307", converse: true, tools: true, system: true},
	"anthropic.claude-3-5-haiku-20241022-v1:0": {family: "anthropic", name: "claude-3-5-haiku-20241022", converse: true, tools: true, system: true, profileOnly: true},
	"anthropic.claude-sonnet-4-20250514-v1:0":  {family: "anthropic", name: "claude-sonnet-4-20250514", converse: true, tools: true, system: true, profileOnly: true},
	"amazon.nova-micro-v1:0":                   {family: "nova", converse: true, tools: true, system: true},
	"amazon.nova-lite-v1:0":                    {family: "nova", converse: true, tools: true, system: true},
	"amazon.nova-pro-v1:0":                     {family: "nova", converse: true, tools: true, system: true},
	"meta.llama3-8b-instruct-v1:0":             {family: "llama", converse: true, system: true},
	"meta.llama3-70b-instruct-v1:0":            {family: "llama", converse: true, system: true},
	"meta.llama3-1-70b-instruct-v1:0":          {family: "llama", converse: true, tools: true, system: true, profileOnly: true},
	"amazon.titan-text-express-v1":             {family: "titan-text", converse: true},
	"amazon.titan-text-lite-v1":                {family: "titan-text", converse: true},
	"amazon.titan-embed-text-v2:0":             {family: "titan-embed"},
	"cohere.command-r-v1:0":                    {family: "cohere", converse: true, tools: true, system: true},
	"cohere.command-r-plus-v1:0":               {family: "cohere", converse: true, tools: true, system: true},
}

// bedrockModelFor resolves a model id: a foundation model id, or a
// cross-region inference profile id ("us.", "eu.", "apac.", "global."
// prefixes).
func bedrockModelFor(id string) (bedrockModel, *bedrockBad) {
	if m, ok := bedrockModels[id]; ok {
		if m.profileOnly {
			return m, &bedrockBad{400, "ValidationException", "Invocation of model ID " + id + " with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model."}
		}
		return m, nil
	}
	for _, geo := range []string{"us.", "eu.", "apac.", "global."} {
		if base, ok := strings.CutPrefix(id, geo); ok {
			if m, ok := bedrockModels[base]; ok {
				return m, nil
			}
		}
	}
	return bedrockModel{}, &bedrockBad{400, "ValidationException", "The provided model identifier is invalid."}
}

// bedrockBad is an error answer of Bedrock.
type bedrockBad struct {
	status  int
	code    string // x-amzn-ErrorType without its namespace
	message string
}

func bedrockValidation(format string, args ...any) *bedrockBad {
	return &bedrockBad{400, "ValidationException", fmt.Sprintf(format, args...)}
}

// bedrockMalformed is the error of a model body that fails the model's JSON
// schema.
func bedrockMalformed(format string, args ...any) *bedrockBad {
	return bedrockValidation("Malformed input request: %s, please reformat your input and try again.", fmt.Sprintf(format, args...))
}

func bedrockError(w http.ResponseWriter, requestID string, bad *bedrockBad) {
	w.Header().Set("x-amzn-RequestId", requestID)
	w.Header().Set("x-amzn-ErrorType", bad.code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	writeJSON(w, bad.status, map[string]string{"message": bad.message})
}

// bedrockStatusError is Bedrock's answer for a fault status.
func bedrockStatusError(w http.ResponseWriter, requestID string, status int) {
	bad := &bedrockBad{status, "ValidationException", http.StatusText(status)}
	switch status {
	case http.StatusTooManyRequests:
		bad.code, bad.message = "ThrottlingException", "Too many requests, please wait before trying again."
	case http.StatusServiceUnavailable:
		bad.code, bad.message = "ServiceUnavailableException", "Bedrock is unable to process your request."
	case http.StatusRequestTimeout:
		bad.code, bad.message = "ModelTimeoutException", "Model has timed out in processing the request. Try your request again."
	case 424:
		bad.code, bad.message = "ModelErrorException", "The model returned an error. Try your request again."
	default:
		if status >= 500 {
			bad.code, bad.message = "InternalServerException", "The server encountered an error processing your request. Try your request again."
		}
	}
	bedrockError(w, requestID, bad)
}

// requestUUID is a request id in AWS's UUID form, derived from the request.
func requestUUID(seed string) string {
	h := hashID(seed, "request-id", 0) + hashID(seed, "request-id", 1)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// bedrockRoute splits /model/{modelId}/{operation}.
func bedrockRoute(r *http.Request) (modelID, op string, ok bool) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/model/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i <= 0 {
		return "", "", false
	}
	modelID, ok = unescapePath(rest[:i])
	return modelID, rest[i+1:], ok && !strings.Contains(modelID, "/")
}

func (f *Fake) bedrock(w http.ResponseWriter, r *http.Request, body []byte) {
	seed := requestHash(r.URL.Path, body)
	rid := requestUUID(seed)
	modelID, op, ok := bedrockRoute(r)
	known := op == "converse" || op == "converse-stream" || op == "invoke" || op == "invoke-with-response-stream"
	if !ok || !known || r.Method != http.MethodPost {
		bedrockError(w, rid, &bedrockBad{404, "UnknownOperationException", ""})
		return
	}
	if bad := f.checkAuth(r, body); bad != nil {
		bedrockError(w, rid, bad)
		return
	}
	model, bad := bedrockModelFor(modelID)
	if bad == nil {
		switch op {
		case "converse", "converse-stream":
			bad = f.converse(w, r, body, model, seed, rid, op == "converse-stream")
		default:
			bad = f.invokeModel(w, r, body, model, seed, rid, op == "invoke-with-response-stream")
		}
	}
	if bad != nil {
		bedrockError(w, rid, bad)
	}
}

// ---- Converse ----

var converseParams = set("messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
	"promptVariables", "additionalModelResponseFieldPaths", "requestMetadata", "performanceConfig", "serviceTier", "outputConfig")

// conversation is a Converse-shaped request (Converse, or a Nova body):
// the model's input and the prompt's token counts.
type conversation struct {
	in        decideInput
	promptN   int // prompt tokens
	cacheUpTo int // prompt tokens up to the last cachePoint, -1 when none
	maxTokens int // 0: not limited
}

type bedrockBlock struct {
	Text       *string         `json:"text"`
	ToolUse    *bedrockToolUse `json:"toolUse"`
	ToolResult *struct {
		ToolUseID string            `json:"toolUseId"`
		Content   []json.RawMessage `json:"content"`
	} `json:"toolResult"`
	CachePoint json.RawMessage `json:"cachePoint"`
}

type bedrockToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

var bedrockBlockKinds = set("text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent", "cachePoint",
	"reasoningContent", "citationsContent", "searchResult")

// parseConversation reads the members Converse and Nova bodies share:
// messages, system, toolConfig (inference settings are the caller's).
func parseConversation(p *params, model bedrockModel) (*conversation, *bedrockBad) {
	c := &conversation{in: decideInput{Parallel: true, Choice: "auto"}, cacheUpTo: -1}
	// Tools.
	usesTools := false
	if p.has("toolConfig") {
		var tc struct {
			Tools []struct {
				ToolSpec *struct {
					Name        string `json:"name"`
					Description string `json:"description"`
					InputSchema *struct {
						JSON json.RawMessage `json:"json"`
					} `json:"inputSchema"`
				} `json:"toolSpec"`
				CachePoint json.RawMessage `json:"cachePoint"`
			} `json:"tools"`
			ToolChoice map[string]struct {
				Name string `json:"name"`
			} `json:"toolChoice"`
		}
		if json.Unmarshal(p.byKey["toolConfig"], &tc) != nil {
			return nil, bedrockValidation("The value at toolConfig is not valid.")
		}
		if !model.tools {
			return nil, bedrockValidation("This model doesn't support tool use.")
		}
		if len(tc.Tools) == 0 {
			return nil, bedrockValidation("1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		for i, t := range tc.Tools {
			switch {
			case t.ToolSpec != nil:
				if !toolNameRE.MatchString(t.ToolSpec.Name) {
					return nil, bedrockValidation("1 validation error detected: Value '%s' at 'toolConfig.tools.%d.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+", t.ToolSpec.Name, i+1)
				}
				if t.ToolSpec.InputSchema == nil || len(t.ToolSpec.InputSchema.JSON) == 0 {
					return nil, bedrockValidation("The json field in the inputSchema of tool %s is missing.", t.ToolSpec.Name)
				}
				c.in.Tools = append(c.in.Tools, toolDef{Name: t.ToolSpec.Name, Schema: t.ToolSpec.InputSchema.JSON})
				c.promptN += tokens(t.ToolSpec.Name) + tokens(t.ToolSpec.Description) + tokens(compactJSON(t.ToolSpec.InputSchema.JSON)) + 8
			case len(t.CachePoint) > 0:
				c.cacheUpTo = c.promptN
			default:
				return nil, bedrockValidation("The tool at toolConfig.tools.%d must have exactly one member set.", i)
			}
		}
		for kind, v := range tc.ToolChoice {
			switch kind {
			case "auto":
			case "any":
				c.in.Choice = "required"
			case "tool":
				c.in.Choice, c.in.ChoiceName = "tool", v.Name
				found := false
				for _, t := range c.in.Tools {
					found = found || t.Name == v.Name
				}
				if !found {
					return nil, bedrockValidation("The tool %s in toolChoice is not defined in toolConfig.tools.", v.Name)
				}
			default:
				return nil, bedrockValidation("The toolChoice member %s is not valid.", kind)
			}
		}
	}

	// System.
	if p.has("system") {
		var sys []bedrockBlock
		if json.Unmarshal(p.byKey["system"], &sys) != nil {
			return nil, bedrockValidation("The value at system is not valid.")
		}
		if !model.system && len(sys) > 0 {
			return nil, bedrockValidation("This model doesn't support system messages. Try again without a system message or use a model that supports system messages.")
		}
		for i, b := range sys {
			switch {
			case b.Text != nil:
				if strings.TrimSpace(*b.Text) == "" {
					return nil, bedrockValidation("The text field in the SystemContentBlock object at system.%d is blank. Add text to the text field, and try again.", i)
				}
				c.promptN += tokens(*b.Text)
			case len(b.CachePoint) > 0:
				c.cacheUpTo = c.promptN
			default:
				return nil, bedrockValidation("The SystemContentBlock at system.%d must have exactly one member set.", i)
			}
		}
	}

	// Messages.
	var msgs []struct {
		Role    string            `json:"role"`
		Content []json.RawMessage `json:"content"`
	}
	if !p.has("messages") {
		return nil, bedrockValidation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	if json.Unmarshal(p.byKey["messages"], &msgs) != nil {
		return nil, bedrockValidation("The value at messages is not valid.")
	}
	if len(msgs) == 0 || msgs[0].Role != "user" {
		return nil, bedrockValidation("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	var prevUses map[string]string // toolUseId -> name of the previous assistant turn
	for i, m := range msgs {
		if m.Role != "user" && m.Role != "assistant" {
			return nil, bedrockValidation("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1)
		}
		if i > 0 && msgs[i-1].Role == m.Role {
			return nil, bedrockValidation("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return nil, bedrockValidation("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		uses := map[string]string{}
		var results []toolResult
		var text []string
		for j, raw := range m.Content {
			fields, err := objectKeys(raw)
			if err != nil || len(fields) != 1 || !bedrockBlockKinds[fields[0]] {
				return nil, bedrockValidation("The ContentBlock at messages.%d.content.%d must have exactly one member set.", i, j)
			}
			var b bedrockBlock
			if json.Unmarshal(raw, &b) != nil {
				return nil, bedrockValidation("The value at messages.%d.content.%d is not valid.", i, j)
			}
			switch fields[0] {
			case "text":
				if b.Text == nil || strings.TrimSpace(*b.Text) == "" {
					return nil, bedrockValidation("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
				}
				text = append(text, *b.Text)
				c.promptN += tokens(*b.Text)
			case "toolUse":
				if m.Role != "assistant" {
					return nil, bedrockValidation("The toolUse block at messages.%d.content.%d is only allowed in an assistant message.", i, j)
				}
				if b.ToolUse == nil || b.ToolUse.ToolUseID == "" || b.ToolUse.Name == "" || len(b.ToolUse.Input) == 0 {
					return nil, bedrockValidation("The toolUse block at messages.%d.content.%d needs toolUseId, name and input.", i, j)
				}
				uses[b.ToolUse.ToolUseID] = b.ToolUse.Name
				usesTools = true
				c.promptN += tokens(b.ToolUse.Name) + tokens(compactJSON(b.ToolUse.Input))
			case "toolResult":
				if m.Role != "user" {
					return nil, bedrockValidation("The toolResult block at messages.%d.content.%d is only allowed in a user message.", i, j)
				}
				if b.ToolResult == nil {
					return nil, bedrockValidation("The value at messages.%d.content.%d.toolResult is not valid.", i, j)
				}
				name, ok := prevUses[b.ToolResult.ToolUseID]
				if !ok {
					return nil, bedrockValidation("The number of toolResult blocks at messages.%d.content exceeds the number of toolUse blocks of previous turn.", i)
				}
				delete(prevUses, b.ToolResult.ToolUseID)
				usesTools = true
				content := toolResultText(b.ToolResult.Content)
				results = append(results, toolResult{Name: name, Content: content})
				c.promptN += tokens(content)
			case "cachePoint":
				c.cacheUpTo = c.promptN
			default:
				c.promptN += 100
			}
		}
		if len(prevUses) > 0 {
			return nil, bedrockValidation("Expected toolResult blocks at messages.%d.content for the following Ids: %s", i, strings.Join(sortedKeys(prevUses), ", "))
		}
		prevUses = uses
		if m.Role == "user" {
			if len(results) > 0 {
				c.in.ToolResults = results
			} else {
				c.in.LastUser, c.in.ToolResults = strings.Join(text, "\n"), nil
			}
		}
	}
	if usesTools && !p.has("toolConfig") {
		return nil, bedrockValidation("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
	}
	return c, nil
}

// toolResultText is the text of a toolResult's content: text blocks, JSON
// blocks as their JSON.
func toolResultText(content []json.RawMessage) string {
	var parts []string
	for _, raw := range content {
		var b struct {
			Text *string         `json:"text"`
			JSON json.RawMessage `json:"json"`
		}
		if json.Unmarshal(raw, &b) != nil {
			continue
		}
		switch {
		case b.Text != nil:
			parts = append(parts, *b.Text)
		case len(b.JSON) > 0:
			var v any
			if json.Unmarshal(b.JSON, &v) == nil {
				j, _ := json.Marshal(v)
				parts = append(parts, string(j))
			}
		}
	}
	return strings.Join(parts, "\n")
}

// completePrompt answers a text-completion prompt: its last user turn is
// the text after the last userMarker, up to endMarker (the whole prompt
// without the marker). The answer is cut at maxOut tokens (wasCut).
func (f *Fake) completePrompt(prompt, userMarker, endMarker, seed string, maxOut int) (text string, wasCut bool) {
	user := prompt
	if i := strings.LastIndex(prompt, userMarker); i >= 0 {
		user, _, _ = strings.Cut(prompt[i+len(userMarker):], endMarker)
	}
	t := f.answer(decideInput{LastUser: strings.TrimSpace(user), Seed: seed})
	return cut(t.Text+t.Refusal, maxOut)
}

// objectKeys returns the member names of a JSON object.
func objectKeys(raw json.RawMessage) ([]string, error) {
	p, bad := parseParams(raw)
	if bad != nil {
		return nil, bad
	}
	keys := make([]string, len(p.fields))
	for i, f := range p.fields {
		keys[i] = f.Key
	}
	return keys, nil
}

// inferenceConfig checks Converse's inferenceConfig and returns maxTokens (0
// when unset).
func inferenceConfig(raw json.RawMessage) (int, *bedrockBad) {
	var ic struct {
		MaxTokens     *int     `json:"maxTokens"`
		Temperature   *float64 `json:"temperature"`
		TopP          *float64 `json:"topP"`
		StopSequences []string `json:"stopSequences"`
	}
	if json.Unmarshal(raw, &ic) != nil {
		return 0, bedrockValidation("The value at inferenceConfig is not valid.")
	}
	if ic.MaxTokens != nil && *ic.MaxTokens < 1 {
		return 0, bedrockValidation("1 validation error detected: Value '%d' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", *ic.MaxTokens)
	}
	for name, v := range map[string]*float64{"temperature": ic.Temperature, "topP": ic.TopP} {
		if v != nil && (*v < 0 || *v > 1) {
			return 0, bedrockValidation("1 validation error detected: Value '%g' at 'inferenceConfig.%s' failed to satisfy constraint: Member must have value less than or equal to 1", *v, name)
		}
	}
	if len(ic.StopSequences) > 4 {
		return 0, bedrockValidation("1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy constraint: Member must have length less than or equal to 4")
	}
	if ic.MaxTokens != nil {
		return *ic.MaxTokens, nil
	}
	return 0, nil
}

// converseAnswer is the model's turn in Converse form.
type converseAnswer struct {
	content    []json.RawMessage // ContentBlocks: {"text"} / {"toolUse"}
	texts      []string          // the text of each block ("" for toolUse)
	uses       []bedrockToolUse  // the toolUse of each block (zero for text)
	stopReason string
	in, out    int // input and output tokens (input without cached tokens)
	cacheRead  *int
	cacheWrite *int
}

// answerConversation asks the model for its turn.
func (f *Fake) answerConversation(c *conversation, seed, cacheScope string) converseAnswer {
	c.in.Seed = seed
	t := f.answer(c.in)
	a := converseAnswer{stopReason: "end_turn", in: c.promptN}
	addText := func(s string) {
		a.content = append(a.content, ordered("text", s))
		a.texts = append(a.texts, s)
		a.uses = append(a.uses, bedrockToolUse{})
		a.out += tokens(s)
	}
	switch {
	case len(t.ToolCalls) > 0:
		names := make([]string, len(t.ToolCalls))
		for i, tc := range t.ToolCalls {
			names[i] = tc.Name
		}
		addText("I'll use the " + strings.Join(names, " and ") + " tool.")
		for _, tc := range t.ToolCalls {
			u := bedrockToolUse{ToolUseID: "tooluse_" + tc.ID, Name: tc.Name, Input: json.RawMessage(tc.Args)}
			a.content = append(a.content, ordered("toolUse", ordered("toolUseId", u.ToolUseID, "name", u.Name, "input", u.Input)))
			a.texts = append(a.texts, "")
			a.uses = append(a.uses, u)
			a.out += tokens(tc.Name) + tokens(tc.Args) + 3
		}
		a.stopReason = "tool_use"
	case t.Refusal != "":
		addText(t.Refusal)
	default:
		text, wasCut := cut(t.Text, c.maxTokens)
		if wasCut {
			a.stopReason = "max_tokens"
		}
		addText(text)
	}
	if c.cacheUpTo >= 0 {
		read, write := 0, 0
		if c.cacheUpTo >= minCacheTokens {
			if f.seenPrefix(requestHash("bedrock-prefix", []byte(fmt.Sprint(cacheScope, c.cacheUpTo)))) {
				read = c.cacheUpTo
			} else {
				write = c.cacheUpTo
			}
			a.in -= c.cacheUpTo
		}
		a.cacheRead, a.cacheWrite = &read, &write
	}
	return a
}

// usage is Converse's TokenUsage; with a cachePoint it carries the cache
// counts, and totalTokens counts them.
func (a converseAnswer) usage(cacheKeys [2]string) json.RawMessage {
	kv := []any{"inputTokens", a.in, "outputTokens", a.out, "totalTokens", a.total()}
	if a.cacheRead != nil {
		kv = append(kv, cacheKeys[0], *a.cacheRead, cacheKeys[1], *a.cacheWrite)
	}
	return ordered(kv...)
}

func (a converseAnswer) total() int {
	n := a.in + a.out
	if a.cacheRead != nil {
		n += *a.cacheRead + *a.cacheWrite
	}
	return n
}

// latency is a made-up, deterministic latency in milliseconds.
func (a converseAnswer) latency() int { return 180 + 4*a.out }

var converseCacheKeys = [2]string{"cacheReadInputTokens", "cacheWriteInputTokens"}

func (f *Fake) converse(w http.ResponseWriter, r *http.Request, body []byte, model bedrockModel, seed, rid string, stream bool) *bedrockBad {
	if !model.converse {
		return bedrockValidation("This action doesn't support the model that you provided. Try again with a supported text or chat model.")
	}
	p, pbad := parseParams(body)
	if pbad != nil {
		return &bedrockBad{400, "SerializationException", "Unexpected content in the request body."}
	}
	for _, fl := range p.fields {
		if !converseParams[fl.Key] {
			return &bedrockBad{400, "SerializationException", "Unknown member " + fl.Key + " in the request body."}
		}
	}
	c, bad := parseConversation(p, model)
	if bad != nil {
		return bad
	}
	if p.has("inferenceConfig") {
		if c.maxTokens, bad = inferenceConfig(p.byKey["inferenceConfig"]); bad != nil {
			return bad
		}
	}
	_, modelID, _ := strings.Cut(r.URL.Path, "/model/")
	modelID, _, _ = strings.Cut(modelID, "/")
	a := f.answerConversation(c, seed, modelID+string(p.byKey["system"])+string(p.byKey["toolConfig"]))
	w.Header().Set("x-amzn-RequestId", rid)
	if !stream {
		msg := ordered("role", "assistant", "content", a.content)
		writeJSON(w, 200, ordered("output", ordered("message", msg), "stopReason", a.stopReason,
			"usage", a.usage(converseCacheKeys), "metrics", ordered("latencyMs", a.latency())))
		return nil
	}
	s := newEventStream(w, r)
	converseEvents(a, s.event)
	return nil
}

// converseEvents sends the events of a streamed Converse answer, each in
// the API's member order and padded with "p" as Bedrock pads them; emit
// returns false to stop.
func converseEvents(a converseAnswer, emit func(typ string, data []byte) bool) {
	n := 0
	send := func(typ string, kv ...any) bool {
		n++
		return emit(typ, ordered(append(kv, "p", padding(n))...))
	}
	if !send("messageStart", "role", "assistant") {
		return
	}
	for i := range a.content {
		if u := a.uses[i]; u.Name != "" {
			if !send("contentBlockStart", "start", ordered("toolUse", ordered("toolUseId", u.ToolUseID, "name", u.Name)), "contentBlockIndex", i) {
				return
			}
			for _, piece := range pieces(string(u.Input), 8) {
				if !send("contentBlockDelta", "delta", ordered("toolUse", ordered("input", piece)), "contentBlockIndex", i) {
					return
				}
			}
		} else {
			for _, piece := range pieces(a.texts[i], 16) {
				if !send("contentBlockDelta", "delta", ordered("text", piece), "contentBlockIndex", i) {
					return
				}
			}
		}
		if !send("contentBlockStop", "contentBlockIndex", i) {
			return
		}
	}
	if !send("messageStop", "stopReason", a.stopReason) {
		return
	}
	send("metadata", "usage", a.usage(converseCacheKeys), "metrics", ordered("latencyMs", a.latency()))
}

// padding is the "p" member Bedrock adds to stream events (random letters
// of varying length that hide the length of the content).
func padding(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	return letters[:4+(n*7)%(len(letters)-4)]
}

// newEventStream starts an AWS event-stream answer (faults apply as to
// server-sent events; a stream error is a modelStreamErrorException).
func newEventStream(w http.ResponseWriter, r *http.Request) *sseWriter {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w), ctx: r.Context(), frame: eventFrame}
	s.onErr = func(s *sseWriter) {
		_, _ = s.w.Write(eventstream.AppendMessage(nil, []eventstream.Header{
			{Name: ":exception-type", Value: "modelStreamErrorException"},
			{Name: ":content-type", Value: "application/json"},
			{Name: ":message-type", Value: "exception"},
		}, []byte(`{"message":"The model stream was interrupted. Try your request again.","originalStatusCode":503,"originalMessage":"Overloaded"}`)))
	}
	s.fault, s.fail = streamFault(r)
	return s
}

func eventFrame(typ string, data []byte) []byte {
	return eventstream.AppendMessage(nil, []eventstream.Header{
		{Name: ":event-type", Value: typ},
		{Name: ":content-type", Value: "application/json"},
		{Name: ":message-type", Value: "event"},
	}, data)
}

// ---- InvokeModel ----

// invokeAnswer is the answer to an InvokeModel body: the JSON body, or the
// chunks of a stream (the last one gets amazon-bedrock-invocationMetrics),
// and the token counts Bedrock reports in its headers.
type invokeAnswer struct {
	body    json.RawMessage
	chunks  []json.RawMessage
	in, out int
}

func (f *Fake) invokeModel(w http.ResponseWriter, r *http.Request, body []byte, model bedrockModel, seed, rid string, stream bool) *bedrockBad {
	// The SDKs send application/octet-stream when the caller gives no
	// content type.
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && ct != "application/octet-stream" {
		return bedrockValidation("The provided Content-Type %q is not supported. Use application/json.", ct)
	}
	acceptHeader := "Accept"
	if stream {
		acceptHeader = "X-Amzn-Bedrock-Accept"
	}
	if ac := r.Header.Get(acceptHeader); ac != "" && ac != "*/*" && !strings.HasPrefix(ac, "application/json") {
		return bedrockValidation("The provided Accept type %q is not supported. Use application/json.", ac)
	}
	p, pbad := parseParams(body)
	if pbad != nil {
		return bedrockMalformed("#: expected type: JSONObject, found: String")
	}
	var a invokeAnswer
	var bad *bedrockBad
	switch model.family {
	case "anthropic":
		a, bad = f.invokeAnthropic(p, model, seed, stream)
	case "nova":
		a, bad = f.invokeNova(p, model, seed, stream)
	case "llama":
		a, bad = f.invokeLlama(p, seed, stream)
	case "titan-text":
		a, bad = f.invokeTitanText(p, seed, stream)
	case "titan-embed":
		if stream {
			return bedrockValidation("The model is unsupported for streaming.")
		}
		a, bad = invokeTitanEmbed(p)
	case "cohere":
		a, bad = f.invokeCohere(p, seed, stream)
	}
	if bad != nil {
		return bad
	}
	latency := 150 + 4*a.out
	w.Header().Set("x-amzn-RequestId", rid)
	if !stream {
		w.Header().Set("X-Amzn-Bedrock-Invocation-Latency", strconv.Itoa(latency))
		w.Header().Set("X-Amzn-Bedrock-Output-Token-Count", strconv.Itoa(a.out))
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", strconv.Itoa(a.in))
		writeJSON(w, 200, a.body)
		return nil
	}
	w.Header().Set("X-Amzn-Bedrock-Content-Type", "application/json")
	s := newEventStream(w, r)
	metrics := ordered("inputTokenCount", a.in, "outputTokenCount", a.out, "invocationLatency", latency, "firstByteLatency", latency/3)
	for i, c := range a.chunks {
		if i == len(a.chunks)-1 {
			c = withMember(c, "amazon-bedrock-invocationMetrics", metrics)
		}
		if !s.event("chunk", ordered("bytes", base64.StdEncoding.EncodeToString(c), "p", padding(i))) {
			return nil
		}
	}
	return nil
}

// withMember appends a member to the JSON object obj.
func withMember(obj json.RawMessage, key string, v any) json.RawMessage {
	o := strings.TrimSuffix(strings.TrimSpace(string(obj)), "}")
	sep := ","
	if strings.HasSuffix(strings.TrimSpace(o), "{") {
		sep = ""
	}
	k, _ := json.Marshal(key)
	val, _ := json.Marshal(v)
	return json.RawMessage(o + sep + string(k) + ":" + string(val) + "}")
}

// checkKeys rejects members a model's body schema does not have and
// requires the given ones, with Bedrock's schema messages.
func checkKeys(p *params, known map[string]bool, required ...string) *bedrockBad {
	for _, fl := range p.fields {
		if !known[fl.Key] {
			return bedrockMalformed("#: extraneous key [%s] is not permitted", fl.Key)
		}
	}
	for _, k := range required {
		if !p.has(k) {
			return bedrockMalformed("#: required key [%s] not found", k)
		}
	}
	return nil
}

var bedrockAnthropicParams = set("anthropic_version", "anthropic_beta", "max_tokens", "messages", "system", "stop_sequences",
	"temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "metadata")

func (f *Fake) invokeAnthropic(p *params, model bedrockModel, seed string, stream bool) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, bedrockAnthropicParams, "anthropic_version", "max_tokens", "messages"); bad != nil {
		return invokeAnswer{}, bad
	}
	if v, _ := p.str("anthropic_version", true); v != "bedrock-2023-05-31" {
		return invokeAnswer{}, bedrockMalformed("#/anthropic_version: %s is not a valid enum value", v)
	}
	msg, content, abad := f.anthropicAnswer(p, seed, model.name, model.name, "msg_bdrk_")
	if abad != nil {
		return invokeAnswer{}, bedrockValidation("%s", abad.msg)
	}
	msg.Usage.ServiceTier = "" // Bedrock reports Anthropic usage without it
	a := invokeAnswer{in: msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens + msg.Usage.CacheCreationInputTokens, out: msg.Usage.OutputTokens}
	if !stream {
		for _, c := range content {
			msg.Content = append(msg.Content, rawJSON(c))
		}
		a.body = rawJSON(msg)
		return a, nil
	}
	anthropicEvents(msg, content, func(typ string, data []byte) bool {
		if typ != "ping" {
			a.chunks = append(a.chunks, append(json.RawMessage(nil), data...))
		}
		return true
	})
	return a, nil
}

var novaParams = set("schemaVersion", "system", "messages", "inferenceConfig", "toolConfig")

func (f *Fake) invokeNova(p *params, model bedrockModel, seed string, stream bool) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, novaParams, "messages"); bad != nil {
		return invokeAnswer{}, bad
	}
	if p.has("schemaVersion") {
		if v, _ := p.str("schemaVersion", false); v != "messages-v1" {
			return invokeAnswer{}, bedrockMalformed("#/schemaVersion: %s is not a valid enum value", v)
		}
	}
	c, bad := parseConversation(p, model)
	if bad != nil {
		return invokeAnswer{}, bad
	}
	if p.has("inferenceConfig") {
		var ic map[string]json.RawMessage
		if json.Unmarshal(p.byKey["inferenceConfig"], &ic) != nil {
			return invokeAnswer{}, bedrockMalformed("#/inferenceConfig: expected type: JSONObject")
		}
		for k, v := range ic {
			switch k {
			case "maxTokens", "max_new_tokens":
				if json.Unmarshal(v, &c.maxTokens) != nil || c.maxTokens < 1 {
					return invokeAnswer{}, bedrockMalformed("#/inferenceConfig/%s: expected minimum: 1", k)
				}
			case "temperature", "topP", "top_p", "topK", "top_k", "stopSequences":
			default:
				return invokeAnswer{}, bedrockMalformed("#/inferenceConfig: extraneous key [%s] is not permitted", k)
			}
		}
	}
	ans := f.answerConversation(c, seed, "nova"+string(p.byKey["system"])+string(p.byKey["toolConfig"]))
	a := invokeAnswer{in: ans.in, out: ans.out}
	novaCache := [2]string{"cacheReadInputTokenCount", "cacheWriteInputTokenCount"}
	if ans.cacheRead == nil {
		zero := 0
		ans.cacheRead, ans.cacheWrite = &zero, &zero
	}
	if !stream {
		a.body = ordered("output", ordered("message", ordered("content", ans.content, "role", "assistant")),
			"stopReason", ans.stopReason, "usage", ans.usage(novaCache))
		return a, nil
	}
	converseEvents(ans, func(typ string, data []byte) bool {
		// Nova's chunks are the Converse events without padding, each
		// under its event name.
		if typ == "metadata" {
			a.chunks = append(a.chunks, ordered(typ, ordered("usage", ordered("inputTokens", ans.in, "outputTokens", ans.out),
				"metrics", map[string]any{}, "trace", map[string]any{})))
			return true
		}
		a.chunks = append(a.chunks, ordered(typ, withoutKey(data, "p")))
		return true
	})
	return a, nil
}

// withoutKey drops a top-level member of a JSON object.
func withoutKey(obj json.RawMessage, key string) json.RawMessage {
	p, bad := parseParams(obj)
	if bad != nil {
		return obj
	}
	var kv []any
	for _, fl := range p.fields {
		if fl.Key != key {
			kv = append(kv, fl.Key, fl.Value)
		}
	}
	return ordered(kv...)
}

var llamaParams = set("prompt", "temperature", "top_p", "max_gen_len", "images")

func (f *Fake) invokeLlama(p *params, seed string, stream bool) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, llamaParams, "prompt"); bad != nil {
		return invokeAnswer{}, bad
	}
	prompt, _ := p.str("prompt", true)
	maxGen := 512
	if p.has("max_gen_len") {
		if json.Unmarshal(p.byKey["max_gen_len"], &maxGen) != nil || maxGen < 1 || maxGen > 2048 {
			return invokeAnswer{}, bedrockMalformed("#/max_gen_len: %s is not a valid value (1-2048)", p.byKey["max_gen_len"])
		}
	}
	if bad := unitInterval(p, "temperature", "top_p"); bad != nil {
		return invokeAnswer{}, bad
	}
	text, wasCut := f.completePrompt(prompt, "user<|end_header_id|>", "<|eot_id|>", seed, maxGen)
	stop := "stop"
	if wasCut {
		stop = "length"
	}
	a := invokeAnswer{in: tokens(prompt), out: tokens(text)}
	if !stream {
		a.body = ordered("generation", text, "prompt_token_count", a.in, "generation_token_count", a.out, "stop_reason", stop)
		return a, nil
	}
	a.chunks = countedChunks(text, 16, func(piece string, n int, first, last bool) json.RawMessage {
		return ordered("generation", piece, "prompt_token_count", ifThen(first, a.in), "generation_token_count", n, "stop_reason", ifThen(last, stop))
	})
	return a, nil
}

// countedChunks streams text in pieces of at most size characters, one
// chunk per piece: chunk gets the piece, the tokens of the text so far, and
// whether the piece is the first and the last.
func countedChunks(text string, size int, chunk func(piece string, tokensSoFar int, first, last bool) json.RawMessage) []json.RawMessage {
	parts := pieces(text, size)
	out := make([]json.RawMessage, 0, len(parts))
	sofar := ""
	for i, piece := range parts {
		sofar += piece
		out = append(out, chunk(piece, tokens(sofar), i == 0, i == len(parts)-1))
	}
	return out
}

// ifThen is v when cond holds, else nil (a JSON null).
func ifThen(cond bool, v any) any {
	if cond {
		return v
	}
	return nil
}

// unitInterval checks that number members lie in [0, 1].
func unitInterval(p *params, keys ...string) *bedrockBad {
	for _, k := range keys {
		if !p.has(k) {
			continue
		}
		var v float64
		if json.Unmarshal(p.byKey[k], &v) != nil || v < 0 || v > 1 {
			return bedrockMalformed("#/%s: %s is not a valid value (0-1)", k, p.byKey[k])
		}
	}
	return nil
}

var titanTextParams = set("inputText", "textGenerationConfig")

func (f *Fake) invokeTitanText(p *params, seed string, stream bool) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, titanTextParams, "inputText"); bad != nil {
		return invokeAnswer{}, bad
	}
	input, _ := p.str("inputText", true)
	maxCount := 512
	if p.has("textGenerationConfig") {
		var cfg map[string]json.RawMessage
		if json.Unmarshal(p.byKey["textGenerationConfig"], &cfg) != nil {
			return invokeAnswer{}, bedrockMalformed("#/textGenerationConfig: expected type: JSONObject")
		}
		for k, v := range cfg {
			switch k {
			case "maxTokenCount":
				if json.Unmarshal(v, &maxCount) != nil || maxCount < 0 || maxCount > 8192 {
					return invokeAnswer{}, bedrockMalformed("#/textGenerationConfig/maxTokenCount: %s is not a valid value", v)
				}
			case "temperature", "topP", "stopSequences":
			default:
				return invokeAnswer{}, bedrockMalformed("#/textGenerationConfig: extraneous key [%s] is not permitted", k)
			}
		}
	}
	text, wasCut := f.completePrompt(input, "User:", "\nBot:", seed, maxCount)
	reason := "FINISH"
	if wasCut {
		reason = "LENGTH"
	}
	a := invokeAnswer{in: tokens(input), out: tokens(text)}
	if !stream {
		a.body = ordered("inputTextTokenCount", a.in, "results", []any{ordered("tokenCount", a.out, "outputText", text, "completionReason", reason)})
		return a, nil
	}
	a.chunks = countedChunks(text, 24, func(piece string, n int, first, last bool) json.RawMessage {
		return ordered("outputText", piece, "index", 0, "totalOutputTextTokenCount", n, "completionReason", ifThen(last, reason), "inputTextTokenCount", ifThen(first, a.in))
	})
	return a, nil
}

var titanEmbedParams = set("inputText", "dimensions", "normalize", "embeddingTypes")

func invokeTitanEmbed(p *params) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, titanEmbedParams, "inputText"); bad != nil {
		return invokeAnswer{}, bad
	}
	input, _ := p.str("inputText", true)
	dims := 1024
	if p.has("dimensions") {
		if json.Unmarshal(p.byKey["dimensions"], &dims) != nil || (dims != 256 && dims != 512 && dims != 1024) {
			return invokeAnswer{}, bedrockMalformed("#/dimensions: %s is not a valid enum value", p.byKey["dimensions"])
		}
	}
	vec := embed(input, dims)
	a := invokeAnswer{in: tokens(input)}
	kv := []any{"embedding", vec}
	if p.has("embeddingTypes") {
		var types []string
		if json.Unmarshal(p.byKey["embeddingTypes"], &types) != nil {
			return invokeAnswer{}, bedrockMalformed("#/embeddingTypes: expected type: JSONArray")
		}
		byType := make([]any, 0, 2*len(types))
		for _, t := range types {
			switch t {
			case "float":
				byType = append(byType, t, vec)
			case "binary":
				bits := make([]int, len(vec))
				for i, x := range vec {
					if x > 0 {
						bits[i] = 1
					}
				}
				byType = append(byType, t, bits)
			default:
				return invokeAnswer{}, bedrockMalformed("#/embeddingTypes/0: %s is not a valid enum value", t)
			}
		}
		kv = append(kv, "embeddingsByType", ordered(byType...))
	}
	a.body = ordered(append(kv, "inputTextTokenCount", a.in)...)
	return a, nil
}

var cohereParams = set("message", "chat_history", "documents", "search_queries_only", "preamble", "max_tokens", "temperature",
	"p", "k", "prompt_truncation", "frequency_penalty", "presence_penalty", "seed", "return_prompt", "stop_sequences", "raw_prompting")

func (f *Fake) invokeCohere(p *params, seed string, stream bool) (invokeAnswer, *bedrockBad) {
	if bad := checkKeys(p, cohereParams, "message"); bad != nil {
		return invokeAnswer{}, bad
	}
	message, _ := p.str("message", true)
	maxTokens := 0
	if p.has("max_tokens") {
		if json.Unmarshal(p.byKey["max_tokens"], &maxTokens) != nil || maxTokens < 1 {
			return invokeAnswer{}, bedrockMalformed("#/max_tokens: %s is not a valid value", p.byKey["max_tokens"])
		}
	}
	var history []struct {
		Role    string `json:"role"`
		Message string `json:"message"`
	}
	promptN := tokens(message)
	if p.has("chat_history") {
		if json.Unmarshal(p.byKey["chat_history"], &history) != nil {
			return invokeAnswer{}, bedrockMalformed("#/chat_history: expected type: JSONArray")
		}
		for i, h := range history {
			if h.Role != "USER" && h.Role != "CHATBOT" && h.Role != "SYSTEM" {
				return invokeAnswer{}, bedrockMalformed("#/chat_history/%d/role: %s is not a valid enum value", i, h.Role)
			}
			promptN += tokens(h.Message)
		}
	}
	if pre, _ := p.str("preamble", false); pre != "" {
		promptN += tokens(pre)
	}
	t := f.answer(decideInput{LastUser: message, Seed: seed})
	text, wasCut := cut(t.Text+t.Refusal, maxTokens)
	finish := "COMPLETE"
	if wasCut {
		finish = "MAX_TOKENS"
	}
	a := invokeAnswer{in: promptN, out: tokens(text)}
	hist := make([]any, 0, len(history)+2)
	for _, h := range history {
		hist = append(hist, ordered("role", h.Role, "message", h.Message))
	}
	hist = append(hist, ordered("role", "USER", "message", message), ordered("role", "CHATBOT", "message", text))
	uuid := func(kind string) string { return requestUUID(seed + kind) }
	resp := ordered("response_id", uuid("response"), "text", text, "generation_id", uuid("generation"), "chat_history", hist, "finish_reason", finish)
	if !stream {
		a.body = resp
		return a, nil
	}
	a.chunks = append(a.chunks, ordered("is_finished", false, "event_type", "stream-start", "generation_id", uuid("generation")))
	for _, piece := range pieces(text, 16) {
		a.chunks = append(a.chunks, ordered("is_finished", false, "event_type", "text-generation", "text", piece))
	}
	a.chunks = append(a.chunks, ordered("is_finished", true, "event_type", "stream-end", "response", resp, "finish_reason", finish))
	return a, nil
}
