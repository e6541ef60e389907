package eino

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components"
	"github.com/cloudwego/eino/schema"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures a Handler.
type Option interface{ apply(config) config }

type config struct {
	model, provider string
	maxChunks       int
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithModel records model (mlflow.llm.model) on the chat model and
// embedding spans whose component does not report its model in its
// callback input or output (Config.Model).
func WithModel(model string) Option {
	return optionFunc(func(c config) config { c.model = model; return c })
}

// WithProvider records provider (mlflow.llm.provider) on the chat model and
// embedding spans, instead of the provider the handler derives from the
// component's type (see the package documentation).
func WithProvider(provider string) Option {
	return optionFunc(func(c config) config { c.provider = provider; return c })
}

// WithMaxStreamChunks bounds the chunks of one stream the handler keeps to
// aggregate a streamed input or output (default 10000); later chunks are
// read and dropped, and the span gets the attribute
// "eino.stream.truncated" = true. The chunks of a chat model's stream are
// merged as they arrive and are not bounded by this.
func WithMaxStreamChunks(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxChunks = n
		}
		return c
	})
}

const defaultMaxChunks = 10000

// Handler is an Eino callbacks.Handler that records every component run it
// is called for as an MLflow span, nested through the context Eino passes
// from a run to the runs inside it. The zero value is not usable: call
// NewHandler. A Handler is safe for concurrent use and keeps no state
// between runs: a run's span lives in the context Eino hands back to it (it remembers only
// the last tool definitions it converted).
//
// A streamed input or output is read to its end by a goroutine of the
// handler (Eino gives each handler its own copy of the stream, which the
// handler must drain and close); the span ends when the stream ends. That
// goroutine lives as long as the stream does: consume or close the streams
// Eino returns, as Eino requires.
type Handler struct {
	cfg   config
	tools toolsCache
}

var (
	_ callbacks.Handler       = (*Handler)(nil)
	_ callbacks.TimingChecker = (*Handler)(nil)
)

// NewHandler returns a Handler. Install it once, either for every Eino
// run (callbacks.AppendGlobalHandlers(h)) or per run
// (compose.WithCallbacks(h)); installing it both ways records every span
// twice.
func NewHandler(opts ...Option) *Handler {
	c := config{maxChunks: defaultMaxChunks}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return &Handler{cfg: c}
}

// runKey is the context key of a Handler's open run.
type runKey struct{ h *Handler }

// run is one component run's span.
type run struct {
	span     *tracing.Span
	info     *callbacks.RunInfo
	kind     kind
	name     string // RunInfo.Name, RunInfo.Type, RunInfo.Component
	typ      string
	comp     components.Component
	model    string // from the callback input (chat models, embedders)
	provider string
	ended    atomic.Bool
	// inputDone is closed when a streamed input has been recorded (nil
	// when the input was not streamed).
	inputDone chan struct{}
	parent    *run // the enclosing run of the same Handler, or nil
	// streams counts the output streams of runs inside this one still
	// being read: a run whose own output is a stream ends after them, so a
	// graph does not end before the model whose stream it passes on.
	streams streamCount

	// open holds the runs inside this one whose end callback has not come
	// (see endOrphans).
	mu   sync.Mutex
	open map[*run]struct{}
}

// adopt notes that c runs inside r.
func (r *run) adopt(c *run) {
	r.mu.Lock()
	if r.open == nil {
		r.open = map[*run]struct{}{}
	}
	r.open[c] = struct{}{}
	r.mu.Unlock()
}

// leave is r's end callback: r is no longer open in its parent.
func (r *run) leave() {
	if p := r.parent; p != nil {
		p.mu.Lock()
		delete(p.open, r)
		p.mu.Unlock()
	}
}

// endOrphans ends with err, the error r fails with, the runs inside r
// whose end callback never came, before r's own span ends: Eino recovers a
// component's panic above the callbacks of the runs it happened in (a tool
// and its ToolsNode get no OnError; the graph fails with "panic error:
// ..."), and a span left open would keep the trace from completing. A run
// that ends without an error leaves them be (a run inside it may still be
// working, in a goroutine of its own).
func (r *run) endOrphans(err error) {
	r.mu.Lock()
	kids := r.open
	r.open = nil
	r.mu.Unlock()
	for c := range kids {
		if c.ended.CompareAndSwap(false, true) {
			c.fail(err)
		}
	}
}

// streamCount is a count of open streams that can be waited on while
// streams are still added (sync.WaitGroup may not be).
type streamCount struct {
	mu   sync.Mutex
	n    int
	cond *sync.Cond
}

func (c *streamCount) add(d int) {
	c.mu.Lock()
	c.n += d
	if c.n == 0 && c.cond != nil {
		c.cond.Broadcast()
	}
	c.mu.Unlock()
}

func (c *streamCount) wait() {
	c.mu.Lock()
	for c.n > 0 {
		if c.cond == nil {
			c.cond = sync.NewCond(&c.mu)
		}
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// recoverPanic keeps a bug of the handler from crashing the program it
// observes.
func recoverPanic() {
	if r := recover(); r != nil {
		tracing.ReportError(fmt.Errorf("eino: handler panicked: %v", r))
	}
}

// runFrom returns the open run of ctx that info belongs to, or nil.
func (h *Handler) runFrom(ctx context.Context, info *callbacks.RunInfo) *run {
	r, _ := ctx.Value(runKey{h}).(*run)
	if r == nil || !r.matches(info) {
		return nil
	}
	return r
}

// matches reports whether info describes r's component run (Eino passes the
// same RunInfo to a run's start and end callbacks; a missing end would
// otherwise end an enclosing run).
func (r *run) matches(info *callbacks.RunInfo) bool {
	if info == nil || r.info == info {
		return true
	}
	return info.Name == r.name && info.Type == r.typ && info.Component == r.comp
}

// Needed tells Eino which callbacks the handler wants: the start callbacks
// while the context's trace is sampled, the end callbacks of runs it
// started. Eino then skips the others, and copies no stream for them.
func (h *Handler) Needed(ctx context.Context, info *callbacks.RunInfo, timing callbacks.CallbackTiming) bool {
	switch timing {
	case callbacks.TimingOnStart, callbacks.TimingOnStartWithStreamInput:
		sc := trace.SpanContextFromContext(ctx)
		return !sc.IsValid() || sc.IsSampled()
	}
	return h.runFrom(ctx, info) != nil
}

// begin starts the span of a component run; nil when tracing is off or the
// trace is not sampled.
func (h *Handler) begin(ctx context.Context, info *callbacks.RunInfo) (context.Context, *run) {
	if info == nil {
		info = &callbacks.RunInfo{}
	}
	k := kindOf(info.Component)
	parent, _ := ctx.Value(runKey{h}).(*run)
	ctx, span := tracing.StartSpan(ctx, spanName(info), tracing.WithSpanType(k.spanType()))
	if span == nil {
		return ctx, nil
	}
	r := &run{span: span, info: info, kind: k, name: info.Name, typ: info.Type, comp: info.Component, parent: parent}
	if parent != nil {
		parent.adopt(r)
	}
	if k == kindToolsNode && parent != nil && parent.kind == kindGraph {
		// A graph that runs its model's tool calls is an agent (a ReAct
		// loop: flow/agent/react, adk.ChatModelAgent).
		parent.span.SetSpanType(tracing.SpanTypeAgent)
	}
	return context.WithValue(ctx, runKey{h}, r), r
}

// OnStart starts the span of a component run and records its input.
func (h *Handler) OnStart(ctx context.Context, info *callbacks.RunInfo, input callbacks.CallbackInput) context.Context {
	defer recoverPanic()
	ctx, r := h.begin(ctx, info)
	if r != nil {
		h.recordInput(r, input)
	}
	return ctx
}

// OnEnd records the run's output and ends its span.
func (h *Handler) OnEnd(ctx context.Context, info *callbacks.RunInfo, output callbacks.CallbackOutput) context.Context {
	defer recoverPanic()
	if r := h.runFrom(ctx, info); r != nil && r.ended.CompareAndSwap(false, true) {
		r.leave()
		h.recordOutput(r, output)
		r.span.End()
	}
	return ctx
}

// OnError records err on the run's span and ends it.
func (h *Handler) OnError(ctx context.Context, info *callbacks.RunInfo, err error) context.Context {
	defer recoverPanic()
	if r := h.runFrom(ctx, info); r != nil && r.ended.CompareAndSwap(false, true) {
		r.fail(err)
	}
	return ctx
}

func (r *run) fail(err error) {
	r.leave()
	if err == nil {
		err = errors.New("unknown error")
	}
	r.endOrphans(err)
	r.span.RecordError(err)
	r.span.End()
}

// OnStartWithStreamInput starts the span of a run whose input is a stream;
// the input is recorded once the stream has been read to its end.
func (h *Handler) OnStartWithStreamInput(ctx context.Context, info *callbacks.RunInfo, input *schema.StreamReader[callbacks.CallbackInput]) context.Context {
	defer recoverPanic()
	ctx, r := h.begin(ctx, info)
	if input == nil {
		return ctx
	}
	if r == nil {
		input.Close()
		return ctx
	}
	r.inputDone = make(chan struct{})
	go h.readInput(r, input)
	return ctx
}

// OnEndWithStreamOutput reads the run's output stream to its end (in a
// goroutine), records the aggregated output and ends the span.
func (h *Handler) OnEndWithStreamOutput(ctx context.Context, info *callbacks.RunInfo, output *schema.StreamReader[callbacks.CallbackOutput]) context.Context {
	defer recoverPanic()
	if output == nil {
		return ctx
	}
	r := h.runFrom(ctx, info)
	if r == nil || !r.ended.CompareAndSwap(false, true) {
		output.Close()
		return ctx
	}
	r.leave()
	for p := r.parent; p != nil; p = p.parent {
		p.streams.add(1)
	}
	go h.readOutput(r, output)
	return ctx
}
