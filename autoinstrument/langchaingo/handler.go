package langchaingo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/schema"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/chatmodel"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures a Handler.
type Option interface{ apply(config) config }

type config struct {
	model, provider string
	llmName         string
	maxStacks       int
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithModel records model (mlflow.llm.model) on the model-call spans:
// langchaingo's callbacks do not carry the model name. Give each model its
// own Handler when they differ.
func WithModel(model string) Option {
	return optionFunc(func(c config) config { c.model = model; return c })
}

// WithProvider records the model provider, e.g. "openai" (mlflow.llm.provider).
func WithProvider(provider string) Option {
	return optionFunc(func(c config) config { c.provider = provider; return c })
}

// WithModelSpanName names the model-call spans (default "chat model" for
// HandleLLMGenerateContentStart, "llm" for HandleLLMStart).
func WithModelSpanName(name string) Option {
	return optionFunc(func(c config) config { c.llmName = name; return c })
}

// maxStacks bounds the enclosing spans the handler tracks at once.
const defaultMaxStacks = 10000

// Handler is a langchaingo callbacks.Handler that records MLflow spans. The
// zero value is not usable: call NewHandler. It is safe for concurrent use
// and starts no goroutines; it holds spans only while they are open.
type Handler struct {
	cfg config

	mu       sync.Mutex
	stacks   map[anchorKey]*stack
	wrapped  map[trace.SpanID]int // spans of WrapTools tools: their open calls
	reapAt   int                  // reap when this many stacks exist
	lastReap time.Time
	reapGap  time.Duration // at most one periodic reap per reapGap
	full     bool          // the stack limit was hit (reported once)
}

// recoverPanic keeps a bug of the handler from crashing the program it
// observes.
func recoverPanic() {
	if r := recover(); r != nil {
		tracing.ReportError(fmt.Errorf("langchaingo: handler panicked: %v", r))
	}
}

var (
	_ callbacks.Handler = (*Handler)(nil)
)

// NewHandler returns a Handler.
func NewHandler(opts ...Option) *Handler {
	c := config{maxStacks: defaultMaxStacks}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return &Handler{cfg: c, stacks: map[anchorKey]*stack{}, wrapped: map[trace.SpanID]int{}, reapAt: 64, lastReap: time.Now(), reapGap: time.Second}
}

// HandleText records text as a "text" event of the innermost span (the
// span of ctx when no langchaingo span is open).
func (h *Handler) HandleText(ctx context.Context, text string) {
	defer recoverPanic()
	o := h.lock()
	f, _ := o.top(ctx, true)
	o.done()
	if f == nil {
		if s := trace.SpanFromContext(ctx); s.IsRecording() {
			if tracing.CurrentSpan(ctx).CapturesContent() {
				s.AddEvent("text", trace.WithAttributes(attribute.String("text", text)))
			} else {
				s.AddEvent("text") // not a span of package tracing: content unknown
			}
		}
		return
	}
	if f.span.CapturesContent() {
		f.span.AddEvent("text", attribute.String("text", text))
	} else {
		f.span.AddEvent("text")
	}
}

// start pushes a span for a start callback.
func (h *Handler) start(ctx context.Context, k kind, name string, typ tracing.SpanType) *frame {
	o := h.lock()
	f := o.push(ctx, k, name, typ, false)
	o.done()
	return f
}

// end pops the innermost span of kind k; spans left open above it end too,
// with err.
func (h *Handler) end(ctx context.Context, k kind, err error) *frame {
	o := h.lock()
	f := o.pop(ctx, k, err)
	o.done()
	return f
}

// HandleLLMStart starts an LLM span whose inputs are the prompts.
func (h *Handler) HandleLLMStart(ctx context.Context, prompts []string) {
	defer recoverPanic()
	name := h.cfg.llmName
	if name == "" {
		name = "llm"
	}
	f := h.start(ctx, kindLLM, name, tracing.SpanTypeLLM)
	if f == nil {
		return
	}
	h.modelAttributes(f.span)
	if f.span.CapturesContent() {
		f.span.SetInputs(prompts)
	}
}

// HandleLLMGenerateContentStart starts a CHAT_MODEL span whose inputs are the
// messages.
func (h *Handler) HandleLLMGenerateContentStart(ctx context.Context, ms []llms.MessageContent) {
	defer recoverPanic()
	name := h.cfg.llmName
	if name == "" {
		name = "chat model"
	}
	f := h.start(ctx, kindLLM, name, tracing.SpanTypeChatModel)
	if f == nil {
		return
	}
	h.modelAttributes(f.span)
	f.span.SetMessageFormat("langchain")
	if f.span.CapturesContent() {
		f.span.SetInputs(chatmodel.Inputs{Messages: chatMessages(ms)})
	}
}

func (h *Handler) modelAttributes(s *tracing.Span) {
	if h.cfg.model != "" {
		s.SetModel(h.cfg.model)
	}
	if h.cfg.provider != "" {
		s.SetProvider(h.cfg.provider)
	}
}

// HandleLLMGenerateContentEnd ends the model span with the response.
func (h *Handler) HandleLLMGenerateContentEnd(ctx context.Context, res *llms.ContentResponse) {
	defer recoverPanic()
	f := h.end(ctx, kindLLM, nil)
	if f == nil {
		return
	}
	if res != nil {
		if u, ok := tokenUsage(res); ok {
			u.Set(f.span)
		}
	}
	if f.span.CapturesContent() && res != nil {
		f.span.End(tracing.WithOutputs(chatOutputs(res)))
		return
	}
	f.span.End()
}

// HandleLLMError ends the model span with err.
func (h *Handler) HandleLLMError(ctx context.Context, err error) {
	defer recoverPanic()
	h.endWithError(ctx, kindLLM, err)
}

func (h *Handler) endWithError(ctx context.Context, k kind, err error) {
	if err == nil {
		err = errors.New("unknown error")
	}
	f := h.end(ctx, k, err)
	if f == nil {
		return
	}
	f.span.RecordError(err)
	f.span.End()
}

// HandleChainStart starts a CHAIN span whose inputs are the chain's inputs.
func (h *Handler) HandleChainStart(ctx context.Context, inputs map[string]any) {
	defer recoverPanic()
	f := h.start(ctx, kindChain, "chain", tracing.SpanTypeChain)
	if f != nil && f.span.CapturesContent() {
		f.span.SetInputs(inputs)
	}
}

// HandleChainEnd ends the chain span with its outputs.
func (h *Handler) HandleChainEnd(ctx context.Context, outputs map[string]any) {
	defer recoverPanic()
	f := h.end(ctx, kindChain, nil)
	if f == nil {
		return
	}
	if f.span.CapturesContent() {
		f.span.End(tracing.WithOutputs(outputs))
		return
	}
	f.span.End()
}

// HandleChainError ends the chain span with err.
func (h *Handler) HandleChainError(ctx context.Context, err error) {
	defer recoverPanic()
	h.endWithError(ctx, kindChain, err)
}

// HandleToolStart starts a TOOL span, named after the tool the agent chose.
func (h *Handler) HandleToolStart(ctx context.Context, input string) {
	defer recoverPanic()
	o := h.lock()
	var f *frame
	if sid := trace.SpanContextFromContext(ctx).SpanID(); sid.IsValid() && h.wrapped[sid] > 0 {
		// A tool reporting itself inside its WrapTools wrapper: the
		// wrapper records the call.
		if s := o.stack(ctx, true); s != nil && len(s.frames) == 0 {
			s.absorb++
			o.done()
			return
		}
	}
	f = o.push(ctx, kindTool, "tool", tracing.SpanTypeTool, false)
	o.done()
	if f != nil && f.span.CapturesContent() {
		f.span.SetInputs(chatmodel.ToolInput(input))
	}
}

// HandleToolEnd ends the tool span with its output.
func (h *Handler) HandleToolEnd(ctx context.Context, output string) {
	defer recoverPanic()
	if h.absorbed(ctx) {
		return
	}
	f := h.end(ctx, kindTool, nil)
	if f == nil {
		return
	}
	if f.span.CapturesContent() {
		f.span.End(tracing.WithOutputs(output))
		return
	}
	f.span.End()
}

// HandleToolError ends the tool span with err.
func (h *Handler) HandleToolError(ctx context.Context, err error) {
	defer recoverPanic()
	if h.absorbed(ctx) {
		return
	}
	h.endWithError(ctx, kindTool, err)
}

// absorbed consumes the end callback of a wrapped tool's own reporting.
func (h *Handler) absorbed(ctx context.Context) bool {
	o := h.lock()
	defer o.done()
	s := o.stack(ctx, false)
	if s == nil || s.absorb == 0 {
		return false
	}
	for _, f := range s.frames {
		if f.kind == kindTool && !f.wrapper {
			return false
		}
	}
	s.absorb--
	o.release(ctx, s)
	return true
}

// HandleAgentAction records the action as an "agent_action" event of the
// agent span (the innermost chain span, typed AGENT from now on); the next
// tool span is named after action.Tool.
func (h *Handler) HandleAgentAction(ctx context.Context, action schema.AgentAction) {
	defer recoverPanic()
	o := h.lock()
	_, chain := o.top(ctx, true)
	if chain != nil {
		chain.nextTool = action.Tool
	}
	o.done()
	if chain == nil {
		return
	}
	markAgent(chain)
	attrs := []attribute.KeyValue{attribute.String("tool", action.Tool)}
	if chain.span.CapturesContent() {
		attrs = append(attrs, attribute.String("tool_input", action.ToolInput), attribute.String("log", action.Log))
	}
	chain.span.AddEvent("agent_action", attrs...)
}

// HandleAgentFinish records an "agent_finish" event on the agent span.
func (h *Handler) HandleAgentFinish(ctx context.Context, finish schema.AgentFinish) {
	defer recoverPanic()
	o := h.lock()
	_, chain := o.top(ctx, true)
	o.done()
	if chain == nil {
		return
	}
	markAgent(chain)
	if chain.span.CapturesContent() {
		chain.span.AddEvent("agent_finish", attribute.String("return_values", jsonText(finish.ReturnValues)),
			attribute.String("log", finish.Log))
		return
	}
	chain.span.AddEvent("agent_finish")
}

// markAgent types a chain span that receives agent callbacks (an
// agents.Executor run) AGENT.
func markAgent(f *frame) {
	if f.span.SpanType() != tracing.SpanTypeAgent {
		f.span.SetSpanType(tracing.SpanTypeAgent)
		if f.span.Name() == "chain" {
			f.span.SetName("agent")
		}
	}
}

// HandleRetrieverStart starts a RETRIEVER span whose input is the query.
func (h *Handler) HandleRetrieverStart(ctx context.Context, query string) {
	defer recoverPanic()
	f := h.start(ctx, kindRetriever, "retriever", tracing.SpanTypeRetriever)
	if f != nil && f.span.CapturesContent() {
		f.span.SetInputs(query)
	}
}

// HandleRetrieverEnd ends the retriever span with the documents.
func (h *Handler) HandleRetrieverEnd(ctx context.Context, _ string, documents []schema.Document) {
	defer recoverPanic()
	f := h.end(ctx, kindRetriever, nil)
	if f == nil {
		return
	}
	if f.span.CapturesContent() {
		f.span.End(tracing.WithOutputs(mlflowDocuments(documents)))
		return
	}
	f.span.End()
}

// HandleStreamingFunc records a streamed chunk as a "new_token" event of the
// innermost span.
func (h *Handler) HandleStreamingFunc(ctx context.Context, chunk []byte) {
	defer recoverPanic()
	o := h.lock()
	f, _ := o.top(ctx, false)
	o.done()
	if f == nil || !f.span.CapturesContent() {
		return
	}
	f.span.AddEvent("new_token", attribute.String("token", string(chunk)))
}
