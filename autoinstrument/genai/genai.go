package genai

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// NewClient is genai.NewClient with every Gemini API and Vertex AI call of
// the client traced as MLflow spans:
//
//	client, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{APIKey: key})
//
// The client's HTTP requests go through a transport that records them (see
// the package documentation). When cfg.HTTPClient is set, the client uses a
// copy of it with that transport in front of its own (the caller's
// http.Client is not changed); otherwise the HTTP client genai.NewClient
// makes (for Vertex AI: with Application Default Credentials) gets it.
// Like genai.NewClient, NewClient fills in cfg (backend, API key, base URL
// and HTTP client from the environment).
func NewClient(ctx context.Context, cfg *genai.ClientConfig) (*genai.Client, error) {
	if cfg == nil {
		cfg = &genai.ClientConfig{}
	}
	if cfg.HTTPClient != nil {
		own := *cfg.HTTPClient
		cfg.HTTPClient = &own
	}
	c, err := genai.NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if hc := cfg.HTTPClient; hc != nil {
		if _, done := hc.Transport.(tracedTransport); !done { // a configuration NewClient filled in before
			hc.Transport = tracedTransport{llmspan.Transport(hc.Transport, (&client{}).route,
				retriesOf(cfg.HTTPOptions.RetryOptions, hc.Timeout == 0))}
		}
	}
	return c, nil
}

// tracedTransport is the transport NewClient puts in front of a client's.
type tracedTransport struct{ http.RoundTripper }

// CloseIdleConnections closes the idle connections of the transport below.
func (t tracedTransport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if ci, ok := t.RoundTripper.(closeIdler); ok {
		ci.CloseIdleConnections()
	}
}

// client is what the calls of one client share: an agent sends the same
// tools and configuration with every call, so each client converts them
// once.
type client struct {
	tools  llmspan.ToolsCache
	config llmspan.ToolsCache
}

// The google-genai defaults of HTTPRetryOptions (its common.go), used when
// the options leave a value unset.
const (
	defaultAttempts = 5
	defaultMaxDelay = 60 * time.Second
)

var defaultRetryStatuses = []int{408, 429, 500, 502, 503, 504}

// retriesOf is how the client retries a call: not at all without retry
// options (google-genai's default), else as the options say.
func retriesOf(o *genai.HTTPRetryOptions, callerContext bool) llmspan.Retries {
	r := llmspan.Retries{Attempts: 1, CallerContext: callerContext, MaxWait: defaultMaxDelay}
	if o == nil {
		return r
	}
	r.Attempts, r.Statuses = defaultAttempts, defaultRetryStatuses
	if o.Attempts != nil {
		r.Attempts = max(int(*o.Attempts), 1)
	}
	if len(o.HTTPStatusCodes) > 0 {
		r.Statuses = make([]int, len(o.HTTPStatusCodes))
		for i, c := range o.HTTPStatusCodes {
			r.Statuses[i] = int(c)
		}
	}
	if o.MaxDelay != nil && *o.MaxDelay > 0 {
		r.MaxWait = time.Duration(*o.MaxDelay * float64(time.Second))
	}
	return r
}

// method is the API method a request calls.
type method int

const (
	methodGenerate method = iota + 1
	methodStream
	methodCount
	methodEmbed
)

// Span names and types: MLflow's Gemini autolog names a span after the
// patched class and method of the Python SDK (google.genai.models.Models.
// generate_content -> "Models.generate_content").
var spanOf = map[method]struct {
	name string
	typ  tracing.SpanType
}{
	methodGenerate: {"Models.generate_content", tracing.SpanTypeLLM},
	methodStream:   {"Models.generate_content_stream", tracing.SpanTypeLLM},
	methodCount:    {"Models.count_tokens", tracing.SpanTypeLLM},
	methodEmbed:    {"Models.embed_content", tracing.SpanTypeEmbedding},
}

// route recognises the traced model methods by the end of the request path
// (…/models/<model>:<method>, any base URL and API version, the Gemini API
// and Vertex AI forms), and a chat turn by the Go SDK's Chat methods on the
// call's stack.
func (cl *client) route(req *http.Request) (llmspan.Endpoint, bool) {
	if req.Method != http.MethodPost {
		return llmspan.Endpoint{}, false
	}
	model, verb, ok := modelMethod(req.URL.Path)
	if !ok {
		return llmspan.Endpoint{}, false
	}
	var m method
	caller := sdkCaller()
	switch verb {
	case "generateContent":
		m = methodGenerate
	case "streamGenerateContent":
		m = methodStream
	case "countTokens":
		m = methodCount
	case "embedContent", "batchEmbedContents":
		m = methodEmbed
	case "predict":
		// Vertex AI's text-embedding models; other models predict too.
		if caller != callerEmbed {
			return llmspan.Endpoint{}, false
		}
		m = methodEmbed
	default:
		return llmspan.Endpoint{}, false
	}
	c := &call{client: cl, method: m, model: model, verb: verb}
	info := spanOf[m]
	ep := llmspan.Endpoint{Name: info.name, Type: info.typ, OwnInputs: true, Start: c.start}
	if (m == methodGenerate && caller == callerChat) || (m == methodStream && caller == callerChatStream) {
		name := "Chat.send_message"
		if m == methodStream {
			name = "Chat.send_message_stream"
		}
		c.chat = true
		ep.Outer = &llmspan.Endpoint{Name: name, Type: tracing.SpanTypeChatModel, OwnInputs: true, Start: c.startChat}
	}
	return ep, true
}

// modelMethod splits a model method's path: …/models/<model>:<verb>, or
// …/tunedModels/<id>:<verb> (the model is then "tunedModels/<id>", as the
// caller names it).
func modelMethod(p string) (model, verb string, ok bool) {
	prefix := ""
	i := strings.LastIndex(p, "/models/")
	skip := len("/models/")
	if j := strings.LastIndex(p, "/tunedModels/"); j > i {
		i, skip, prefix = j, len("/tunedModels/"), "tunedModels/"
	}
	if i < 0 {
		return "", "", false
	}
	model, verb, ok = strings.Cut(p[i+skip:], ":")
	if !ok || model == "" || strings.Contains(model, "/") {
		return "", "", false
	}
	return prefix + model, verb, true
}

// caller is the Go SDK method that sent a request, as far as it matters.
type caller int

const (
	callerOther caller = iota
	callerChat
	callerChatStream
	callerEmbed
)

const sdkPrefix = "google.golang.org/genai."

// sdkCaller finds the SDK's Chat.Send/SendMessage, Chat.SendStream/
// SendMessageStream or Models.EmbedContent on the stack of the request
// (the SDK sends requests on its caller's goroutine). It looks at the SDK's
// frames only: the walk ends at the first frame after them. What each
// return address's frames are is worked out once (frameClasses).
func sdkCaller() caller {
	var pcs [64]uintptr
	n := runtime.Callers(3, pcs[:])
	inSDK := false
	found := callerOther
	for _, pc := range pcs[:n] {
		for _, c := range frameClasses(pc) {
			switch c {
			case frameOther:
				if inSDK {
					return found
				}
				continue
			case frameChat:
				return callerChat
			case frameChatStream:
				return callerChatStream
			case frameEmbed:
				found = callerEmbed
			}
			inSDK = true
		}
	}
	return found
}

// frameClass is what sdkCaller sees in a frame.
type frameClass uint8

const (
	frameOther      frameClass = iota // not the SDK's
	frameSDK                          // another function of the SDK
	frameChat                         // Chat.Send, Chat.SendMessage
	frameChatStream                   // Chat.SendStream, Chat.SendMessageStream
	frameEmbed                        // Models.EmbedContent
)

// maxFrameClasses bounds the return addresses frameClasses remembers (a
// program's call sites into the SDK are few).
const maxFrameClasses = 4096

var frameClassCache struct {
	sync.RWMutex
	m map[uintptr][]frameClass
}

// frameClasses returns the classes of the frames (the inlined ones
// included, innermost first) of the return address pc.
func frameClasses(pc uintptr) []frameClass {
	frameClassCache.RLock()
	cs, ok := frameClassCache.m[pc]
	frameClassCache.RUnlock()
	if ok {
		return cs
	}
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		cs = append(cs, classify(f.Function))
		if !more {
			break
		}
	}
	frameClassCache.Lock()
	if frameClassCache.m == nil {
		frameClassCache.m = map[uintptr][]frameClass{}
	}
	if len(frameClassCache.m) < maxFrameClasses {
		frameClassCache.m[pc] = cs
	}
	frameClassCache.Unlock()
	return cs
}

func classify(function string) frameClass {
	name, ok := strings.CutPrefix(function, sdkPrefix)
	switch {
	case !ok:
		return frameOther
	case name == "(*Chat).Send" || name == "(*Chat).SendMessage":
		return frameChat
	case strings.HasPrefix(name, "(*Chat).SendStream") || strings.HasPrefix(name, "(*Chat).SendMessageStream"):
		return frameChatStream
	case name == "Models.EmbedContent":
		return frameEmbed
	}
	return frameSDK
}
