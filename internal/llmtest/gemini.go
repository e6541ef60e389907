package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Default credentials the Gemini endpoints accept: the Gemini API key
// (x-goog-api-key header or key query parameter) and the OAuth access token
// of Vertex AI (Authorization: Bearer).
const (
	GeminiKey   = "gemini-test-key"
	VertexToken = "ya29.vertex-test-token"
)

// geminiModel is a model the Gemini endpoints serve.
type geminiModel struct {
	embedding bool
	dims      int  // embedding size
	thinks    bool // reports thinking tokens (Gemini 2.5 and later)
}

var geminiModels = map[string]geminiModel{
	"gemini-2.5-flash":          {thinks: true},
	"gemini-2.5-pro":            {thinks: true},
	"gemini-2.5-flash-lite":     {},
	"gemini-2.0-flash":          {},
	"gemini-2.0-flash-001":      {},
	"gemini-2.0-flash-lite":     {},
	"gemini-3-pro-preview":      {thinks: true},
	"text-embedding-004":        {embedding: true, dims: 768},
	"text-embedding-005":        {embedding: true, dims: 768},
	"gemini-embedding-001":      {embedding: true, dims: 3072},
	"text-multilingual-embed-2": {embedding: true, dims: 768},
}

// geminiPath is a Gemini API path (/v1beta/models/M:method) or a Vertex AI
// path (/v1beta1/projects/P/locations/L/publishers/google/models/M:method,
// or without the project and location in express mode).
var geminiPath = regexp.MustCompile(`^/(v1|v1beta|v1alpha)/models/([^/:]+):([A-Za-z]+)$`)
var vertexPath = regexp.MustCompile(`^/(v1|v1beta1)/(projects/[^/]+/locations/[^/]+/)?publishers/google/models/([^/:]+):([A-Za-z]+)$`)

// geminiRoute reports whether path is a Gemini or Vertex AI model method.
func geminiRoute(path string) (version, model, method string, vertex, ok bool) {
	if m := geminiPath.FindStringSubmatch(path); m != nil {
		return m[1], m[2], m[3], false, true
	}
	if m := vertexPath.FindStringSubmatch(path); m != nil {
		return m[1], m[3], m[4], true, true
	}
	return "", "", "", false, false
}

// isGemini reports whether the request is for the Gemini endpoints (its
// path has the form of one, whatever the method).
func isGemini(path string) bool {
	if strings.Contains(path, "/publishers/google/models/") {
		return true
	}
	_, _, _, _, ok := geminiRoute(path)
	return ok
}

type geminiErrorBody struct {
	Error geminiErrorDetail `json:"error"`
}

type geminiErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details,omitempty"`
}

func geminiError(w http.ResponseWriter, bad *geminiBad) {
	writeJSON(w, bad.code, geminiErrorBody{Error: geminiErrorDetail{Code: bad.code, Message: bad.msg, Status: bad.status}})
}

// geminiStatusError answers a fault status with the body Google sends for it.
func geminiStatusError(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		geminiError(w, &geminiBad{code: status, status: "RESOURCE_EXHAUSTED", msg: "You exceeded your current quota, please check your plan and billing details."})
	case status == http.StatusServiceUnavailable:
		geminiError(w, &geminiBad{code: status, status: "UNAVAILABLE", msg: "The model is overloaded. Please try again later."})
	case status == http.StatusGatewayTimeout:
		geminiError(w, &geminiBad{code: status, status: "DEADLINE_EXCEEDED", msg: "Deadline expired before operation could complete."})
	case status >= 500:
		geminiError(w, &geminiBad{code: status, status: "INTERNAL", msg: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"})
	default:
		geminiError(w, &geminiBad{code: status, status: "FAILED_PRECONDITION", msg: http.StatusText(status)})
	}
}

// gemini serves a Gemini API or Vertex AI request.
func (f *Fake) gemini(w http.ResponseWriter, r *http.Request, body []byte) {
	version, model, method, vertex, ok := geminiRoute(r.URL.Path)
	if !ok {
		geminiError(w, &geminiBad{code: 404, status: "NOT_FOUND", msg: "Requested entity was not found."})
		return
	}
	if r.Method != http.MethodPost {
		geminiError(w, &geminiBad{code: 405, status: "UNIMPLEMENTED", msg: "Method not allowed: " + r.Method})
		return
	}
	if bad := f.geminiAuth(r, vertex); bad != nil {
		geminiError(w, bad)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		geminiError(w, badArg("Invalid JSON payload received. Content-Type must be application/json, got %q.", ct))
		return
	}
	g := &geminiCall{f: f, w: w, r: r, version: version, model: model, method: method, vertex: vertex, body: body}
	if bad := g.serve(); bad != nil {
		geminiError(w, bad)
	}
}

func (f *Fake) geminiAuth(r *http.Request, vertex bool) *geminiBad {
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	express := vertex && !strings.Contains(r.URL.Path, "/projects/")
	switch {
	case vertex && !express:
		if !hasBearer || bearer == "" {
			return &geminiBad{code: 401, status: "UNAUTHENTICATED", msg: "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
		}
		if bearer != f.vertexToken {
			return &geminiBad{code: 401, status: "UNAUTHENTICATED", msg: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
		}
		return nil
	case key == "":
		return &geminiBad{code: 403, status: "PERMISSION_DENIED", msg: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."}
	case key != f.geminiKey:
		return badArg("API key not valid. Please pass a valid API key.")
	}
	return nil
}

// geminiCall is one request to a model method.
type geminiCall struct {
	f       *Fake
	w       http.ResponseWriter
	r       *http.Request
	version string
	model   string
	method  string
	vertex  bool
	body    []byte
}

func (g *geminiCall) notFound() *geminiBad {
	if g.vertex {
		return &geminiBad{code: 404, status: "NOT_FOUND", msg: fmt.Sprintf("Publisher Model `projects/fake/locations/us-central1/publishers/google/models/%s` was not found or your project does not have access to it.", g.model)}
	}
	return &geminiBad{code: 404, status: "NOT_FOUND", msg: fmt.Sprintf("models/%s is not found for API version %s, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", g.model, g.version, g.method)}
}

func (g *geminiCall) serve() *geminiBad {
	m, known := geminiModels[g.model]
	switch g.method {
	case "generateContent", "streamGenerateContent":
		if !known || m.embedding {
			return g.notFound()
		}
		if g.method == "streamGenerateContent" && g.r.URL.Query().Get("alt") != "sse" {
			return badArg("The fake serves streamGenerateContent only with alt=sse.")
		}
		return g.generate(m)
	case "countTokens":
		if !known {
			return g.notFound()
		}
		return g.countTokens()
	case "embedContent", "batchEmbedContents":
		if !known || !m.embedding {
			return g.notFound()
		}
		return g.embed(m)
	case "predict":
		if !g.vertex || !known || !m.embedding {
			return g.notFound()
		}
		return g.predict(m)
	}
	return &geminiBad{code: 404, status: "NOT_FOUND", msg: "Requested entity was not found."}
}

// gContent is a Content of a request.
type gContent struct {
	Role  string  `json:"role"`
	Parts []gPart `json:"parts"`
}

type gPart struct {
	Text             *string         `json:"text"`
	InlineData       json.RawMessage `json:"inlineData"`
	FileData         json.RawMessage `json:"fileData"`
	FunctionCall     *gFunctionCall  `json:"functionCall"`
	FunctionResponse *gFunctionResp  `json:"functionResponse"`
	ExecutableCode   json.RawMessage `json:"executableCode"`
	CodeExecution    json.RawMessage `json:"codeExecutionResult"`
	Thought          bool            `json:"thought"`
}

type gFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type gFunctionResp struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

func (p gPart) data() int {
	n := 0
	for _, has := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil,
		p.FunctionResponse != nil, p.ExecutableCode != nil, p.CodeExecution != nil} {
		if has {
			n++
		}
	}
	return n
}

// generateRequest is what the fake reads of a GenerateContentRequest.
type generateRequest struct {
	Contents          []gContent `json:"contents"`
	SystemInstruction *gContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name                 string          `json:"name"`
			Description          string          `json:"description"`
			Parameters           json.RawMessage `json:"parameters"`
			ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	ToolConfig *struct {
		FunctionCallingConfig *struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig"`
	GenerationConfig *struct {
		CandidateCount  *int     `json:"candidateCount"`
		MaxOutputTokens *int     `json:"maxOutputTokens"`
		Temperature     *float64 `json:"temperature"`
		TopP            *float64 `json:"topP"`
		StopSequences   []string `json:"stopSequences"`
		ThinkingConfig  *struct {
			ThinkingBudget *int `json:"thinkingBudget"`
		} `json:"thinkingConfig"`
	} `json:"generationConfig"`
	CachedContent string `json:"cachedContent"`
}

var functionNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$`)

// parseGenerate validates a GenerateContentRequest (path: where it is in
// the body, "" at the top) and reads it.
func (g *geminiCall) parseGenerate(raw json.RawMessage, path string) (*generateRequest, decideInput, int, *geminiBad) {
	var in decideInput
	if bad := checkMessage("GenerateContentRequest", raw, path, g.vertex); bad != nil {
		return nil, in, 0, bad
	}
	raw = canonical("GenerateContentRequest", raw)
	var req generateRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, in, 0, badArg("Invalid JSON payload received. %v", err)
	}
	if len(req.Contents) == 0 {
		return nil, in, 0, badArg("* GenerateContentRequest.contents: contents is not specified\n")
	}
	if req.CachedContent != "" {
		return nil, in, 0, &geminiBad{code: 403, status: "PERMISSION_DENIED", msg: fmt.Sprintf("CachedContent not found (or permission denied): %s", req.CachedContent)}
	}
	if gc := req.GenerationConfig; gc != nil {
		if gc.Temperature != nil && (*gc.Temperature < 0 || *gc.Temperature > 2) {
			return nil, in, 0, badArg("* GenerateContentRequest.generation_config.temperature: must be in the range [0.0, 2.0]\n")
		}
		if gc.TopP != nil && (*gc.TopP < 0 || *gc.TopP > 1) {
			return nil, in, 0, badArg("* GenerateContentRequest.generation_config.top_p: must be in the range [0.0, 1.0]\n")
		}
		if gc.CandidateCount != nil && (*gc.CandidateCount < 1 || *gc.CandidateCount > 8) {
			return nil, in, 0, badArg("* GenerateContentRequest.generation_config.candidate_count: must be in the range [1, 8]\n")
		}
		if gc.MaxOutputTokens != nil && *gc.MaxOutputTokens < 1 {
			return nil, in, 0, badArg("* GenerateContentRequest.generation_config.max_output_tokens: must be positive\n")
		}
		if len(gc.StopSequences) > 5 {
			return nil, in, 0, badArg("* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed\n")
		}
	}
	promptN := 0
	if si := req.SystemInstruction; si != nil {
		for _, p := range si.Parts {
			if p.Text != nil {
				promptN += tokens(*p.Text)
			}
		}
	}
	declared := map[string]bool{}
	for ti, t := range req.Tools {
		for di, d := range t.FunctionDeclarations {
			if !functionNameRE.MatchString(d.Name) {
				return nil, in, 0, badArg("* GenerateContentRequest.tools[%d].function_declarations[%d].name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 128.\n", ti, di)
			}
			if d.Parameters != nil && d.ParametersJSONSchema != nil {
				return nil, in, 0, badArg("* GenerateContentRequest.tools[%d].function_declarations[%d]: parameters and parameters_json_schema are mutually exclusive\n", ti, di)
			}
			declared[d.Name] = true
			schema := d.ParametersJSONSchema
			if schema == nil {
				schema = lowerTypes(d.Parameters)
			}
			in.Tools = append(in.Tools, toolDef{Name: d.Name, Schema: schema})
			promptN += tokens(d.Name) + tokens(d.Description) + tokens(compactJSON(d.Parameters)) + tokens(compactJSON(d.ParametersJSONSchema)) + 8
		}
	}
	in.Choice, in.Parallel = "auto", true
	if tc := req.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		fc := tc.FunctionCallingConfig
		switch fc.Mode {
		case "NONE":
			in.Choice = "none"
		case "ANY":
			in.Choice = "required"
			if len(fc.AllowedFunctionNames) == 1 {
				in.Choice, in.ChoiceName = "tool", fc.AllowedFunctionNames[0]
			}
		}
		for _, n := range fc.AllowedFunctionNames {
			if !declared[n] {
				return nil, in, 0, badArg("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: function %q is not declared\n", n)
			}
		}
	}
	var prevCalls []string
	for i, c := range req.Contents {
		if c.Role != "" && c.Role != "user" && c.Role != "model" {
			return nil, in, 0, badArg("Please use a valid role: user, model.")
		}
		if len(c.Parts) == 0 {
			return nil, in, 0, badArg("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.\n", i)
		}
		var calls, responses []string
		var results []toolResult
		var text []string
		for j, p := range c.Parts {
			if p.data() != 1 {
				return nil, in, 0, badArg("* GenerateContentRequest.contents[%d].parts[%d].data: required oneof field 'data' must have one initialized field\n", i, j)
			}
			switch {
			case p.Text != nil:
				if !p.Thought {
					text = append(text, *p.Text)
				}
				promptN += tokens(*p.Text)
			case p.FunctionCall != nil:
				if c.Role != "model" {
					return nil, in, 0, badArg("Please ensure that function call turn comes immediately after a user turn or after a function response turn.")
				}
				calls = append(calls, p.FunctionCall.Name)
				promptN += tokens(p.FunctionCall.Name) + tokens(compactJSON(p.FunctionCall.Args))
			case p.FunctionResponse != nil:
				responses = append(responses, p.FunctionResponse.Name)
				content := compactJSON(p.FunctionResponse.Response)
				results = append(results, toolResult{Name: p.FunctionResponse.Name, Content: content})
				promptN += tokens(content)
			default:
				promptN += 258 // an image or a file
			}
		}
		if len(responses) > 0 {
			if len(responses) != len(prevCalls) {
				return nil, in, 0, badArg("Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.")
			}
			want := map[string]int{}
			for _, n := range prevCalls {
				want[n]++
			}
			for _, n := range responses {
				if want[n] == 0 {
					return nil, in, 0, badArg("Please ensure that function response turn comes immediately after a function call turn. Function response %q answers no function call.", n)
				}
				want[n]--
			}
		}
		prevCalls = calls
		if c.Role != "model" {
			if len(results) > 0 {
				in.ToolResults = results
			} else {
				in.LastUser, in.ToolResults = strings.Join(text, "\n"), nil
			}
		}
	}
	return &req, in, promptN, nil
}

// lowerTypes rewrites a Gemini Schema's upper-case type names as JSON
// schema's (for the brain's argument maker).
func lowerTypes(schema json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(schema, &v) != nil {
		return schema
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && k == "type" {
					t[k] = strings.ToLower(s)
				}
				walk(val)
			}
		case []any:
			for _, val := range t {
				walk(val)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	return b
}

// geminiUsage is a response's usageMetadata, members in the API's order.
type geminiUsage struct {
	PromptTokenCount        int                   `json:"promptTokenCount"`
	CandidatesTokenCount    int                   `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount         int                   `json:"totalTokenCount"`
	CachedContentTokenCount int                   `json:"cachedContentTokenCount,omitempty"`
	PromptTokensDetails     []geminiModalityCount `json:"promptTokensDetails,omitempty"`
	CacheTokensDetails      []geminiModalityCount `json:"cacheTokensDetails,omitempty"`
	ThoughtsTokenCount      int                   `json:"thoughtsTokenCount,omitempty"`
	TrafficType             string                `json:"trafficType,omitempty"`
}

type geminiModalityCount struct {
	Modality   string `json:"modality"`
	TokenCount int    `json:"tokenCount"`
}

type geminiCandidate struct {
	Content       *gCandidateContent `json:"content,omitempty"`
	FinishReason  string             `json:"finishReason,omitempty"`
	SafetyRatings []json.RawMessage  `json:"safetyRatings,omitempty"`
	Index         *int               `json:"index,omitempty"`
}

type gCandidateContent struct {
	Parts []json.RawMessage `json:"parts"`
	Role  string            `json:"role"`
}

type geminiResponse struct {
	Candidates    []geminiCandidate `json:"candidates,omitempty"`
	UsageMetadata *geminiUsage      `json:"usageMetadata,omitempty"`
	ModelVersion  string            `json:"modelVersion"`
	CreateTime    string            `json:"createTime,omitempty"`
	ResponseID    string            `json:"responseId"`
}

// minGeminiCache is the smallest prompt prefix Gemini caches implicitly.
const minGeminiCache = 1024

func (g *geminiCall) generate(m geminiModel) *geminiBad {
	req, in, promptN, bad := g.parseGenerate(g.body, "")
	if bad != nil {
		return bad
	}
	seed := requestHash(g.r.URL.Path, withoutEmpty(g.body))
	in.Seed = seed
	t := g.f.answer(in)

	u := &geminiUsage{PromptTokenCount: promptN, PromptTokensDetails: []geminiModalityCount{{"TEXT", promptN}}}
	// Implicit caching: a long prompt whose prefix (all but the last turn)
	// was seen before is partly served from the cache.
	if prefix := promptN - lastTurnTokens(req.Contents); prefix >= minGeminiCache {
		key := requestHash("gemini-prefix", []byte(fmt.Sprint(g.model, prefix, string(mustJSON(req.SystemInstruction)), string(mustJSON(req.Tools)))))
		if g.f.seenPrefix(key) {
			u.CachedContentTokenCount = prefix
			u.CacheTokensDetails = []geminiModalityCount{{"TEXT", prefix}}
		}
	}
	if g.vertex {
		u.TrafficType = "ON_DEMAND"
	}
	zero := 0
	cand := geminiCandidate{Index: &zero, FinishReason: "STOP"}
	var parts []json.RawMessage
	switch {
	case len(t.ToolCalls) > 0:
		for _, c := range t.ToolCalls {
			parts = append(parts, rawJSON(map[string]any{"functionCall": gFunctionCall{Name: c.Name, Args: json.RawMessage(c.Args)}}))
			u.CandidatesTokenCount += tokens(c.Name) + tokens(c.Args) + 3
		}
	case t.Refusal != "":
		cand.FinishReason = "SAFETY"
		cand.SafetyRatings = []json.RawMessage{
			ordered("category", "HARM_CATEGORY_DANGEROUS_CONTENT", "probability", "HIGH", "blocked", true),
		}
	default:
		max := 1 << 30
		if gc := req.GenerationConfig; gc != nil && gc.MaxOutputTokens != nil {
			max = *gc.MaxOutputTokens
		}
		text, wasCut := cut(t.Text, max)
		if wasCut {
			cand.FinishReason = "MAX_TOKENS"
		}
		parts = append(parts, ordered("text", text))
		u.CandidatesTokenCount = tokens(text)
	}
	if parts != nil {
		cand.Content = &gCandidateContent{Parts: parts, Role: "model"}
	}
	if m.thinks && !noThinking(req) {
		u.ThoughtsTokenCount = 8 + u.CandidatesTokenCount
	}
	u.TotalTokenCount = u.PromptTokenCount + u.CandidatesTokenCount + u.ThoughtsTokenCount
	resp := geminiResponse{Candidates: []geminiCandidate{cand}, UsageMetadata: u, ModelVersion: g.model,
		ResponseID: responseID(seed)}
	if g.vertex {
		resp.CreateTime = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") // fixed width, as Vertex AI writes it
	}
	if g.method == "generateContent" {
		writeJSON(g.w, 200, resp)
		return nil
	}
	g.stream(resp, t)
	return nil
}

// withoutEmpty is the request without its empty top-level objects (the
// Python SDK sends "generationConfig": {} when nothing is configured, the Go
// SDK leaves it out): the same request gets the same answer from both.
func withoutEmpty(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for k, v := range m {
		if string(bytes.TrimSpace(v)) == "{}" {
			delete(m, k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return b
}

func noThinking(req *generateRequest) bool {
	gc := req.GenerationConfig
	return gc != nil && gc.ThinkingConfig != nil && gc.ThinkingConfig.ThinkingBudget != nil && *gc.ThinkingConfig.ThinkingBudget == 0
}

func lastTurnTokens(contents []gContent) int {
	n := 0
	last := contents[len(contents)-1]
	for _, p := range last.Parts {
		switch {
		case p.Text != nil:
			n += tokens(*p.Text)
		case p.FunctionResponse != nil:
			n += tokens(compactJSON(p.FunctionResponse.Response))
		}
	}
	return n
}

// compactJSON is the JSON text without insignificant space (so that both
// clients' requests count the same tokens).
func compactJSON(v json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return strings.TrimSpace(string(v))
	}
	return b.String()
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// responseID is a response id of the Gemini API's form (22 characters).
func responseID(seed string) string {
	return strings.TrimRight(hashID(seed, "response", 0), "=")[:22]
}

// stream answers with server-sent events (alt=sse): the text in pieces,
// each event a GenerateContentResponse with the usage so far; the last
// one carries the finish reason and the full usage. Function calls come in
// one event.
func (g *geminiCall) stream(final geminiResponse, t turn) {
	s := newSSE(g.w, g.r, func(s *sseWriter) {
		s.raw("", []byte(`{"error": {"code": 500, "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "status": "INTERNAL"}}`))
	})
	s.crlf = true
	cand := final.Candidates[0]
	u := *final.UsageMetadata
	send := func(c geminiCandidate, usage geminiUsage) bool {
		resp := final
		resp.Candidates = []geminiCandidate{c}
		resp.UsageMetadata = &usage
		return s.event("", rawJSON(resp))
	}
	if cand.Content == nil || len(t.ToolCalls) > 0 {
		send(cand, u)
		return
	}
	var text string
	_ = json.Unmarshal(extractText(cand.Content.Parts[0]), &text)
	ps := pieces(text, 24)
	if len(ps) == 0 {
		ps = []string{""}
	}
	partial := geminiUsage{PromptTokenCount: u.PromptTokenCount, PromptTokensDetails: u.PromptTokensDetails, TrafficType: u.TrafficType}
	for i, p := range ps {
		c := geminiCandidate{Content: &gCandidateContent{Parts: []json.RawMessage{ordered("text", p)}, Role: "model"}}
		usage := partial
		if i == len(ps)-1 {
			c.FinishReason, c.Index = cand.FinishReason, cand.Index
			usage = u
		} else {
			usage.TotalTokenCount = usage.PromptTokenCount
		}
		if !send(c, usage) {
			return
		}
	}
}

func extractText(part json.RawMessage) json.RawMessage {
	var p struct {
		Text json.RawMessage `json:"text"`
	}
	_ = json.Unmarshal(part, &p)
	return p.Text
}

func (g *geminiCall) countTokens() *geminiBad {
	if bad := checkMessage("CountTokensRequest", g.body, "", g.vertex); bad != nil {
		return bad
	}
	var req struct {
		Contents               json.RawMessage `json:"contents"`
		GenerateContentRequest json.RawMessage `json:"generateContentRequest"`
	}
	_ = json.Unmarshal(canonical("CountTokensRequest", g.body), &req)
	var n int
	switch {
	case req.GenerateContentRequest != nil:
		if req.Contents != nil {
			return badArg("* CountTokensRequest: contents and generate_content_request are mutually exclusive\n")
		}
		_, _, promptN, bad := g.parseGenerate(req.GenerateContentRequest, "generate_content_request")
		if bad != nil {
			return bad
		}
		n = promptN
	case req.Contents != nil:
		// Vertex AI counts tools and the system instruction given with the contents.
		wrapped := g.body
		_, _, promptN, bad := g.parseGenerate(wrapped, "")
		if bad != nil {
			return bad
		}
		n = promptN
	default:
		return badArg("* CountTokensRequest.contents: contents is not specified\n")
	}
	out := ordered("totalTokens", n, "promptTokensDetails", []geminiModalityCount{{"TEXT", n}})
	if g.vertex {
		out = ordered("totalTokens", n, "totalBillableCharacters", n*4, "promptTokensDetails", []geminiModalityCount{{"TEXT", n}})
	}
	writeJSON(g.w, 200, out)
	return nil
}

type embedRequest struct {
	Model                string    `json:"model"`
	Content              *gContent `json:"content"`
	OutputDimensionality *int      `json:"outputDimensionality"`
}

func (g *geminiCall) embed(m geminiModel) *geminiBad {
	var reqs []embedRequest
	if g.method == "batchEmbedContents" {
		if bad := checkMessage("BatchEmbedContentsRequest", g.body, "", g.vertex); bad != nil {
			return bad
		}
		var b struct {
			Requests []embedRequest `json:"requests"`
		}
		_ = json.Unmarshal(canonical("BatchEmbedContentsRequest", g.body), &b)
		if len(b.Requests) == 0 {
			return badArg("* BatchEmbedContentsRequest.requests: requests is not specified\n")
		}
		if len(b.Requests) > 100 {
			return badArg("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n")
		}
		reqs = b.Requests
	} else {
		if bad := checkMessage("EmbedContentRequest", g.body, "", g.vertex); bad != nil {
			return bad
		}
		var one embedRequest
		_ = json.Unmarshal(canonical("EmbedContentRequest", g.body), &one)
		reqs = []embedRequest{one}
	}
	var out []json.RawMessage
	for i, q := range reqs {
		if g.method == "batchEmbedContents" && q.Model != "models/"+g.model {
			return badArg("* BatchEmbedContentsRequest.requests[%d].model: the model of each request must be the batch's model (models/%s)\n", i, g.model)
		}
		if q.Content == nil || len(q.Content.Parts) == 0 {
			return badArg("* EmbedContentRequest.content: content is not specified\n")
		}
		var text []string
		for _, p := range q.Content.Parts {
			if p.Text != nil {
				text = append(text, *p.Text)
			}
		}
		dims := m.dims
		if q.OutputDimensionality != nil {
			if *q.OutputDimensionality < 1 || *q.OutputDimensionality > m.dims {
				return badArg("* EmbedContentRequest.output_dimensionality: must be between 1 and %d\n", m.dims)
			}
			dims = *q.OutputDimensionality
		}
		out = append(out, ordered("values", embedding(strings.Join(text, " "), dims)))
	}
	if g.method == "batchEmbedContents" {
		writeJSON(g.w, 200, ordered("embeddings", out))
	} else {
		writeJSON(g.w, 200, ordered("embedding", out[0]))
	}
	return nil
}

// predict is Vertex AI's embedding method for the text-embedding models.
func (g *geminiCall) predict(m geminiModel) *geminiBad {
	if bad := checkMessage("PredictRequest", g.body, "", g.vertex); bad != nil {
		return bad
	}
	var req struct {
		Instances []struct {
			Content *string `json:"content"`
		} `json:"instances"`
		Parameters struct {
			OutputDimensionality *int `json:"outputDimensionality"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(g.body, &req); err != nil || len(req.Instances) == 0 {
		return badArg("Invalid JSON payload received. instances is not specified.")
	}
	dims := m.dims
	if d := req.Parameters.OutputDimensionality; d != nil {
		if *d < 1 || *d > m.dims {
			return badArg("outputDimensionality must be between 1 and %d", m.dims)
		}
		dims = *d
	}
	var preds []json.RawMessage
	chars := 0
	for i, inst := range req.Instances {
		if inst.Content == nil {
			return badArg("instances[%d].content is not specified", i)
		}
		chars += len(*inst.Content)
		preds = append(preds, ordered("embeddings", ordered("statistics", ordered("truncated", false, "token_count", tokens(*inst.Content)),
			"values", embedding(*inst.Content, dims))))
	}
	writeJSON(g.w, 200, ordered("predictions", preds, "metadata", ordered("billableCharacterCount", chars)))
	return nil
}

// embedding is a deterministic unit vector for text.
func embedding(text string, dims int) []float64 {
	out := make([]float64, dims)
	var norm float64
	for i := range out {
		h := sha256.Sum256([]byte(text + "/" + strconv.Itoa(i)))
		v := float64(int32(binary.BigEndian.Uint32(h[:4]))) / float64(math.MaxInt32)
		out[i] = v
		norm += v * v
	}
	norm = math.Sqrt(norm)
	for i := range out {
		out[i] = math.Round(out[i]/norm*1e6) / 1e6
	}
	return out
}
