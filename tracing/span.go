package tracing

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// SpanType is the MLflow span type (attribute mlflow.spanType). Any string is
// allowed; the constants are the types MLflow's UI knows.
type SpanType string

// MLflow span types.
const (
	SpanTypeLLM       SpanType = "LLM"
	SpanTypeChatModel SpanType = "CHAT_MODEL"
	SpanTypeEmbedding SpanType = "EMBEDDING"
	SpanTypeRetriever SpanType = "RETRIEVER"
	SpanTypeReranker  SpanType = "RERANKER"
	SpanTypeTool      SpanType = "TOOL"
	SpanTypeAgent     SpanType = "AGENT"
	SpanTypeChain     SpanType = "CHAIN"
	SpanTypeParser    SpanType = "PARSER"
	SpanTypeMemory    SpanType = "MEMORY"
	SpanTypeWorkflow  SpanType = "WORKFLOW"
	SpanTypeTask      SpanType = "TASK"
	SpanTypeGuardrail SpanType = "GUARDRAIL"
	SpanTypeEvaluator SpanType = "EVALUATOR"
	SpanTypeUnknown   SpanType = "UNKNOWN" // the default, as in MLflow
)

// encodedType returns the JSON encoding of t without allocating for the
// built-in types.
func encodedType(t SpanType) string {
	switch t {
	case SpanTypeLLM:
		return `"LLM"`
	case SpanTypeChatModel:
		return `"CHAT_MODEL"`
	case SpanTypeEmbedding:
		return `"EMBEDDING"`
	case SpanTypeRetriever:
		return `"RETRIEVER"`
	case SpanTypeReranker:
		return `"RERANKER"`
	case SpanTypeTool:
		return `"TOOL"`
	case SpanTypeAgent:
		return `"AGENT"`
	case SpanTypeChain:
		return `"CHAIN"`
	case SpanTypeParser:
		return `"PARSER"`
	case SpanTypeMemory:
		return `"MEMORY"`
	case SpanTypeWorkflow:
		return `"WORKFLOW"`
	case SpanTypeTask:
		return `"TASK"`
	case SpanTypeGuardrail:
		return `"GUARDRAIL"`
	case SpanTypeEvaluator:
		return `"EVALUATOR"`
	case SpanTypeUnknown, "":
		return `"UNKNOWN"`
	}
	return encode.JSON(string(t))
}

// LogLevel is the severity of a span (attribute mlflow.spanLogLevel), used by
// MLflow's UI verbosity filter. By default a span gets INFO when its type is
// LLM, CHAT_MODEL, TOOL, RETRIEVER, AGENT or EMBEDDING and DEBUG otherwise,
// raised to ERROR when an exception is recorded — as MLflow does.
type LogLevel int

// MLflow span log levels.
const (
	LogLevelDebug    LogLevel = 10
	LogLevelInfo     LogLevel = 20
	LogLevelWarning  LogLevel = 30
	LogLevelError    LogLevel = 40
	LogLevelCritical LogLevel = 50
)

func encodedLogLevel(l LogLevel) string {
	switch l {
	case LogLevelDebug:
		return "10"
	case LogLevelInfo:
		return "20"
	case LogLevelWarning:
		return "30"
	case LogLevelError:
		return "40"
	case LogLevelCritical:
		return "50"
	}
	return strconv.Itoa(int(l))
}

// SpanOption configures a span started by StartSpan, Func, Do or Run.
type SpanOption interface{ applySpan(spanConfig) spanConfig }

type spanConfig struct {
	spanType  SpanType
	inputs    any
	hasInputs bool
	inputName string
	attrs     map[string]any
	startTime time.Time
	parent    *Span
}

type spanOptionFunc func(*spanConfig)

func (f spanOptionFunc) applySpan(c spanConfig) spanConfig { f(&c); return c }

type spanTypeOption SpanType

func (o spanTypeOption) applySpan(c spanConfig) spanConfig { c.spanType = SpanType(o); return c }

// WithSpanType sets the span's MLflow type (default UNKNOWN).
func WithSpanType(t SpanType) SpanOption { return spanTypeOption(t) }

// WithInputs records v as the span's inputs (mlflow.spanInputs).
func WithInputs(v any) SpanOption {
	return spanOptionFunc(func(c *spanConfig) { c.inputs, c.hasInputs = v, true })
}

// WithInputName records the inputs as a JSON object {name: inputs}. MLflow's
// Python decorator records a function's arguments as an object keyed by
// parameter name; Go has no parameter names at run time, so by default Func
// records its input value as is (a struct becomes a JSON object already) and
// this option gives it a name.
func WithInputName(name string) SpanOption {
	return spanOptionFunc(func(c *spanConfig) { c.inputName = name })
}

// WithAttributes sets attributes on the span when it starts; each value is
// stored JSON-encoded, as MLflow does.
func WithAttributes(attrs map[string]any) SpanOption {
	return spanOptionFunc(func(c *spanConfig) { c.attrs = attrs })
}

// WithStartTime sets the span's start time (default now).
func WithStartTime(t time.Time) SpanOption {
	return spanOptionFunc(func(c *spanConfig) { c.startTime = t })
}

// WithParent makes the span a child of parent instead of the span in ctx. A
// nil parent is ignored.
func WithParent(parent *Span) SpanOption {
	return spanOptionFunc(func(c *spanConfig) { c.parent = parent })
}

// EndOption configures Span.End.
type EndOption interface{ applyEnd(endConfig) endConfig }

type endConfig struct {
	outputs    any
	hasOutputs bool
	endTime    time.Time
}

type endOptionFunc func(*endConfig)

func (f endOptionFunc) applyEnd(c endConfig) endConfig { f(&c); return c }

// WithOutputs records v as the span's outputs when it ends.
func WithOutputs(v any) EndOption {
	return endOptionFunc(func(c *endConfig) { c.outputs, c.hasOutputs = v, true })
}

// WithEndTime sets the span's end time (default now).
func WithEndTime(t time.Time) EndOption {
	return endOptionFunc(func(c *endConfig) { c.endTime = t })
}

type spanKey struct{}

// Span is a live MLflow span. All methods are safe for concurrent use and are
// no-ops on a nil *Span, which is what StartSpan returns when tracing is off
// or the trace is not sampled. Every attribute is stored on the underlying
// OpenTelemetry span as a JSON-encoded string, as MLflow's Python SDK does.
type Span struct {
	otel   trace.Span
	p      *Provider
	isRoot bool

	mu          sync.Mutex
	spanType    SpanType
	logLevel    LogLevel // 0: not set yet
	logExplicit bool     // set by the user: End keeps it
	errored     bool
	ended       bool

	// The attributes the span starts with (mlflow.spanType, the function
	// name, the inputs — also inputs set with SetInputs while they wait)
	// wait here, under mu, until the span is first changed, read or ended;
	// they then reach the OpenTelemetry span in the
	// same SetAttributes call as that change (at End: the outputs), so the
	// span's attribute list is allocated once instead of grown. startPending
	// is set while they wait and cleared, under mu, after they are written.
	startPending   atomic.Bool
	startHasInputs bool
	startInputs    string
	startFuncName  string

	// linkMu orders the changes of the span's mlflow.linkedPrompts
	// attribute (LinkPromptVersion); linked is its value, when linkedSet.
	linkMu    sync.Mutex
	linked    string
	linkedSet bool
}

// StartSpan starts a span as a child of the span in ctx (or a new trace) and
// returns a context holding it. End it with Span.End. When tracing is off, no
// Provider is initialised, or the parent is not sampled, it returns ctx
// unchanged and a nil *Span without allocating. When the sampler drops a new
// trace it returns a nil *Span and a ctx that keeps the trace's descendants
// unsampled.
func StartSpan(ctx context.Context, name string, opts ...SpanOption) (context.Context, *Span) {
	p := defaultProvider.Load()
	if p == nil || p.disabled {
		return ctx, nil
	}
	c := spanOptions(opts)
	return p.start(ctx, name, &c, "", c.inputs, c.hasInputs)
}

// spanOptions applies opts (nil ones ignored).
func spanOptions(opts []SpanOption) spanConfig {
	var c spanConfig
	for _, o := range opts {
		if o != nil {
			c = o.applySpan(c)
		}
	}
	return c
}

// start is the one start sequence of StartSpan, Do, Run, Func and Wrap: the
// OpenTelemetry span (begin), then the attributes a span starts with — its
// type, the function's JSON-encoded name (Func), its inputs when hasInputs,
// and WithAttributes' — in one call. It returns a nil *Span when the span is
// not recorded.
func (p *Provider) start(ctx context.Context, name string, c *spanConfig, encFuncName string, inputs any, hasInputs bool) (context.Context, *Span) {
	ctx, s := p.begin(ctx, name, c)
	if s == nil {
		return ctx, nil
	}
	var in string
	if hasInputs {
		in = s.encodeInputs(inputs, c.inputName)
	}
	s.initAttributes(hasInputs, in, encFuncName, c.attrs)
	return ctx, s
}

// begin starts the OpenTelemetry span; it returns a nil *Span (and a context
// that carries the non-recording span, so children stay unsampled) when the
// span is not recorded.
func (p *Provider) begin(ctx context.Context, name string, c *spanConfig) (context.Context, *Span) {
	if c.parent != nil && c.parent.otel != nil {
		ctx = trace.ContextWithSpan(ctx, c.parent.otel)
	}
	parentSpan := trace.SpanFromContext(ctx)
	parent := parentSpan.SpanContext()
	if p.ownSampler && parent.IsValid() && !parent.IsSampled() {
		return ctx, nil // ParentBased would drop it: skip the work.
	}
	if tracingOffIn(ctx) {
		return ctx, nil // ContextWithTracingEnabled(ctx, false)
	}
	t := c.spanType
	if t == "" {
		t = SpanTypeUnknown
	}
	// One allocation holds both the context node and the Span. It is the
	// parent context of the OpenTelemetry span, so the processors' OnStart
	// can find the span being started (keys.StartingSpan).
	sc := &spanContext{Context: ctx, parentSpan: parentSpan, starting: true}
	sc.span = Span{p: p, spanType: t, isRoot: !parent.IsValid() || parent.IsRemote()}
	var os trace.Span
	if c.startTime.IsZero() {
		ctx, os = p.tracer.Start(sc, name)
	} else {
		ctx, os = p.tracer.Start(sc, name, trace.WithTimestamp(c.startTime))
	}
	sc.starting = false
	if !os.SpanContext().IsSampled() && !os.IsRecording() { // sampled: recording, without the span's lock
		return ctx, nil // sc answers for no span: its otel is nil
	}
	sc.span.otel = os
	return ctx, &sc.span
}

// spanContext is a context that carries a Span (under spanKey) in the same
// allocation; the context of its OpenTelemetry span wraps it.
type spanContext struct {
	context.Context
	span       Span
	parentSpan trace.Span // the OpenTelemetry span current in Context
	starting   bool       // inside tracer.Start: answers keys.StartingSpan
}

// otelSpanKey is the key under which OpenTelemetry keeps the current span in
// a context, learnt once by asking trace.SpanFromContext. A spanContext
// answers it from parentSpan, so tracer.Start's lookups of the parent do not
// walk past it (nil if OpenTelemetry ever looks spans up another way: the
// lookups then walk the chain, as correct and a little slower).
var otelSpanKey = func() any {
	var p keyProbe
	trace.SpanFromContext(&p)
	return p.key
}()

// keyProbe is a context that records the key it was asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

func (c *spanContext) Value(key any) any {
	if key == otelSpanKey && key != nil {
		return c.parentSpan
	}
	switch key.(type) {
	case spanKey:
		if c.span.otel != nil {
			return &c.span
		}
	case keys.StartingSpan:
		if c.starting {
			return startAttributesWriter{&c.span}
		}
	}
	return c.Context.Value(key)
}

// startAttributesWriter gives the exporter a way to write a span's waiting
// start attributes (keys.StartAttributesWriter) without a method on Span.
type startAttributesWriter struct{ s *Span }

func (w startAttributesWriter) WriteStartAttributes() { w.s.setOTelAttributes() }

func (c *spanContext) String() string { return "tracing.spanContext" }

// initAttributes records the attributes a span gets when it starts; they
// are written with the span's first change (see Span.startPending).
func (s *Span) initAttributes(hasInputs bool, inputs, funcName string, extra map[string]any) {
	s.startHasInputs, s.startInputs, s.startFuncName = hasInputs, inputs, funcName
	s.startPending.Store(true)
	if len(extra) > 0 {
		s.SetAttributes(extra)
	}
}

// appendStartAttrs appends the waiting start attributes to a and marks them
// taken; s.mu is held and the caller writes a before releasing it.
func (s *Span) appendStartAttrs(a []attribute.KeyValue) []attribute.KeyValue {
	a = append(a, attribute.String(keys.SpanType, encodedType(s.spanType)))
	if s.startFuncName != "" {
		a = append(a, attribute.String(keys.SpanFunctionName, s.startFuncName))
	}
	if s.startHasInputs {
		a = append(a, attribute.String(keys.SpanInputs, s.startInputs))
	}
	s.startInputs, s.startFuncName = "", ""
	return a
}

// setOTelAttributes is the one way this package writes span attributes: the
// waiting start attributes go first, in the same call, so a later value of
// the same key (SetInputs, SetSpanType) wins as it would have.
func (s *Span) setOTelAttributes(kvs ...attribute.KeyValue) {
	if !s.writeStartWith(kvs) && len(kvs) > 0 {
		s.otel.SetAttributes(kvs...)
	}
}

// setOTelAttribute is setOTelAttributes for one attribute, its common case:
// kv is passed by value so that only the slice handed to OpenTelemetry is
// allocated (a variadic argument would be a second one: it escapes).
func (s *Span) setOTelAttribute(kv attribute.KeyValue) {
	if !s.writeStartWith([]attribute.KeyValue{kv}) {
		s.otel.SetAttributes(kv)
	}
}

// writeStartWith writes the waiting start attributes followed by kvs in one
// SetAttributes call and reports true; it reports false, writing nothing,
// when no start attributes wait.
func (s *Span) writeStartWith(kvs []attribute.KeyValue) bool {
	if !s.lockIfStartPending() {
		return false
	}
	defer s.mu.Unlock()
	a := append(s.appendStartAttrs(make([]attribute.KeyValue, 0, 3+len(kvs))), kvs...)
	s.otel.SetAttributes(a...)
	s.startPending.Store(false)
	return true
}

// lockIfStartPending reports whether the start attributes still wait; when
// they do it returns with mu held (the caller unlocks), otherwise unlocked.
// The flag is read without the lock first: once written it stays false.
func (s *Span) lockIfStartPending() bool {
	if !s.startPending.Load() {
		return false
	}
	s.mu.Lock()
	if s.startPending.Load() {
		return true
	}
	s.mu.Unlock()
	return false
}

// encode returns the JSON encoding of v, cut to the Provider's value limit.
func (s *Span) encode(v any) string {
	j := encode.JSON(v)
	if max := s.p.maxValueSize; max > 0 && len(j) > max {
		if t := encode.Truncate(j, max); len(t) != len(j) {
			// A cut JSON document no longer parses: store the cut text as a
			// JSON string so MLflow still loads it.
			j = encode.JSON(t)
		}
	}
	return j
}

func (s *Span) encodeInputs(v any, name string) string {
	if name != "" {
		return s.encode(map[string]any{name: v})
	}
	return s.encode(v)
}

// CurrentSpan returns the span of this package that is current in ctx, or nil
// (also when the current span was made by another OpenTelemetry
// instrumentation: use trace.SpanFromContext for those).
func CurrentSpan(ctx context.Context) *Span {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(spanKey{}).(*Span)
	if s == nil || trace.SpanFromContext(ctx) != s.otel {
		return nil
	}
	return s
}

// ContextWithSpan returns a copy of ctx in which s is the current span, so
// spans started from it are children of s. A nil s returns ctx.
func ContextWithSpan(ctx context.Context, s *Span) context.Context {
	if s == nil {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(trace.ContextWithSpan(ctx, s.otel), spanKey{}, s)
}

// SetInputs records v as the span's inputs (mlflow.spanInputs).
func (s *Span) SetInputs(v any) {
	if s == nil {
		return
	}
	enc := s.encode(v) // user code (MarshalJSON) runs unlocked
	if s.lockIfStartPending() {
		// The inputs are a start attribute: while those wait, the new
		// inputs replace the waiting ones and go with them (one
		// SetAttributes call for the span instead of two).
		s.startHasInputs, s.startInputs = true, enc
		s.mu.Unlock()
		return
	}
	s.otel.SetAttributes(attribute.String(keys.SpanInputs, enc))
}

// SetOutputs records v as the span's outputs (mlflow.spanOutputs).
func (s *Span) SetOutputs(v any) {
	if s == nil {
		return
	}
	s.setOTelAttribute(attribute.String(keys.SpanOutputs, s.encode(v)))
}

// SetAttribute sets one attribute, stored JSON-encoded.
func (s *Span) SetAttribute(key string, v any) {
	if s == nil || key == "" {
		return
	}
	s.setOTelAttribute(s.attr(key, v))
}

// SetAttributes sets several attributes, each stored JSON-encoded.
func (s *Span) SetAttributes(attrs map[string]any) {
	if s == nil || len(attrs) == 0 {
		return
	}
	kvs := make([]attribute.KeyValue, 0, len(attrs))
	for k, v := range attrs {
		if k != "" {
			kvs = append(kvs, s.attr(k, v))
		}
	}
	s.setOTelAttributes(kvs...)
}

// attr encodes one attribute and tracks the keys the span itself manages.
func (s *Span) attr(key string, v any) attribute.KeyValue {
	switch key {
	case keys.SpanType:
		if t, ok := v.(SpanType); ok {
			v = string(t)
		}
		if t, ok := v.(string); ok {
			s.mu.Lock()
			s.spanType = SpanType(t)
			s.mu.Unlock()
		}
	case keys.LinkedPrompts:
		if l, ok := v.(string); ok { // set by hand: linking adds to it
			s.linkMu.Lock()
			s.linked, s.linkedSet = l, true
			s.linkMu.Unlock()
		}
	case keys.SpanLogLevel:
		s.mu.Lock()
		s.logExplicit = true
		switch l := v.(type) {
		case LogLevel:
			s.logLevel = l
		case int:
			s.logLevel = LogLevel(l)
		}
		s.mu.Unlock()
	}
	return attribute.String(key, s.encode(v))
}

// SetSpanType changes the span's MLflow type.
func (s *Span) SetSpanType(t SpanType) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.spanType = t
	s.mu.Unlock()
	s.setOTelAttribute(attribute.String(keys.SpanType, encodedType(t)))
}

// SpanType returns the span's MLflow type.
func (s *Span) SpanType() SpanType {
	if s == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spanType
}

// SetLogLevel sets the span's severity (mlflow.spanLogLevel); End keeps it.
func (s *Span) SetLogLevel(l LogLevel) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.logLevel, s.logExplicit = l, true
	s.mu.Unlock()
	s.setOTelAttribute(attribute.String(keys.SpanLogLevel, encodedLogLevel(l)))
}

// AddEvent adds an event. Event attributes keep their native OpenTelemetry
// types (MLflow stores them raw). An event named "exception" raises the span's
// log level to ERROR, as in MLflow.
func (s *Span) AddEvent(name string, attrs ...attribute.KeyValue) {
	if s == nil {
		return
	}
	s.otel.AddEvent(name, trace.WithAttributes(attrs...))
	if name == "exception" {
		s.raiseLogLevel()
	}
}

func (s *Span) raiseLogLevel() {
	s.mu.Lock()
	raise := s.logLevel < LogLevelError
	if raise {
		s.logLevel = LogLevelError
	}
	s.mu.Unlock()
	if raise {
		s.setOTelAttribute(attribute.String(keys.SpanLogLevel, encodedLogLevel(LogLevelError)))
	}
}

// RecordError records err as MLflow does for an exception: an "exception"
// event with exception.type, exception.message and exception.stacktrace, and
// status ERROR with message "<type>: <message>". The type is the error's Go
// type without the pointer star (e.g. "errors.errorString", "*net.OpError"
// shows as "net.OpError"). A nil err is ignored.
func (s *Span) RecordError(err error) {
	if s == nil || err == nil {
		return
	}
	s.recordException(errorTypeName(err), err.Error(), stackText(errorTypeName(err), err.Error(), 3))
}

func (s *Span) recordException(typ, msg, stack string) {
	s.otel.AddEvent("exception", trace.WithAttributes(
		attribute.String("exception.message", msg),
		attribute.String("exception.type", typ),
		attribute.String("exception.stacktrace", stack),
	))
	s.raiseLogLevel()
	s.setStatus(codes.Error, typ+": "+msg)
}

// recordPanic records a recovered panic value: exception type "panic" and
// message fmt.Sprint(v), so the status reads like Go's own crash report
// ("panic: ...").
func (s *Span) recordPanic(v any, stack []byte) {
	if s == nil {
		return
	}
	msg := panicMessage(v)
	s.recordException("panic", msg, "panic: "+msg+"\n\n"+string(stack))
}

func panicMessage(v any) (msg string) {
	defer func() {
		if recover() != nil {
			msg = fmt.Sprintf("%T", v)
		}
	}()
	if err, ok := v.(error); ok {
		return err.Error()
	}
	return fmt.Sprint(v)
}

// errorTypeName is the error's dynamic Go type, without leading stars, or
// the type an integration of this module named it with (internal/exception).
func errorTypeName(err error) string {
	if n, ok := err.(*exception.Named); ok {
		return n.Type
	}
	return strings.TrimLeft(reflect.TypeOf(err).String(), "*")
}

// stackText formats the caller's stack (skip frames above it) after a
// "<type>: <message>" line, the way Python ends a traceback with the
// exception line.
func stackText(typ, msg string, skip int) string {
	var pcs [64]uintptr
	n := runtime.Callers(skip, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	b.WriteString(typ)
	b.WriteString(": ")
	b.WriteString(msg)
	b.WriteByte('\n')
	for {
		f, more := frames.Next()
		internal := strings.HasPrefix(f.Function, thisPackage) && !strings.HasSuffix(f.File, "_test.go")
		if !internal && f.Function != "runtime.goexit" {
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		}
		if !more {
			break
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

const thisPackage = "github.com/mlflowtrace/mlflowtrace-go/tracing."

// SetStatus sets the span status. Without a call, End sets OK unless an error
// was recorded, as MLflow does.
func (s *Span) SetStatus(code codes.Code, description string) {
	if s == nil {
		return
	}
	s.setStatus(code, description)
}

func (s *Span) setStatus(code codes.Code, description string) {
	s.mu.Lock()
	switch code {
	case codes.Error:
		s.errored = true
	case codes.Ok:
		s.errored = false
	}
	s.mu.Unlock()
	s.otel.SetStatus(code, description)
}

// End ends the span: it records the WithOutputs outputs, sets status OK
// unless an error was recorded, sets the default log level, runs the
// WithSpanFilter filters, then ends the OpenTelemetry span. Calls after the
// first are ignored.
func (s *Span) End(opts ...EndOption) {
	if s == nil {
		return
	}
	var c endConfig
	for _, o := range opts {
		if o != nil {
			c = o.applyEnd(c)
		}
	}
	s.end(c.hasOutputs, c.outputs, c.endTime)
}

func (s *Span) end(hasOutputs bool, outputs any, endTime time.Time) {
	var encOutputs string
	if hasOutputs {
		encOutputs = s.encode(outputs) // user code (MarshalJSON) runs unlocked
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	errored := s.errored
	// The start attributes and the outputs are written in one call. The
	// default mlflow.spanLogLevel (MLflow's: by span type, 40 after an
	// exception event) is not set here: the exporter adds it when it
	// converts the span (internal/assemble), off the caller's path. A level
	// set with SetLogLevel, or raised by an error, is on the span already.
	var buf [4]attribute.KeyValue
	a := buf[:0]
	if s.startPending.Load() {
		a = s.appendStartAttrs(a)
	}
	if hasOutputs {
		a = append(a, attribute.String(keys.SpanOutputs, encOutputs))
	}
	if len(a) > 0 {
		s.otel.SetAttributes(a...)
	}
	s.startPending.Store(false)
	s.mu.Unlock()

	if !errored {
		s.otel.SetStatus(codes.Ok, "")
	}
	for _, f := range s.p.filters {
		s.runFilter(f)
	}
	if endTime.IsZero() {
		s.otel.End()
	} else {
		s.otel.End(trace.WithTimestamp(endTime))
	}
	if s.isRoot {
		setLastTrace(s.otel.SpanContext().TraceID(), s.p.exp)
	}
}

func (s *Span) runFilter(f func(*Span)) {
	defer func() {
		if r := recover(); r != nil {
			ReportError(fmt.Errorf("tracing: span filter panicked: %v", r))
		}
	}()
	f(s)
}

// IsRecording reports whether the span records (false for a nil span).
func (s *Span) IsRecording() bool { return s != nil && s.otel.IsRecording() }

// CapturesContent reports whether instrumentation should record content
// (prompts, completions, tool arguments and results) on this span: the
// WithContentCapture setting of the Provider that made it. It is false for a
// nil span. Integrations check it before SetInputs/SetOutputs of content.
func (s *Span) CapturesContent() bool { return s != nil && s.p.CapturesContent() }

// TraceID returns the MLflow trace id ("tr-" + 32 hex digits, or
// "trace:/<catalog>.<schema>/" + 32 hex digits when traces go to Unity
// Catalog tables), or "" for a nil span.
func (s *Span) TraceID() string {
	if s == nil {
		return ""
	}
	return s.p.mlflowTraceID(s.otel.SpanContext().TraceID())
}

// SpanID returns the span id as 16 hex digits, or "" for a nil span.
func (s *Span) SpanID() string {
	if s == nil {
		return ""
	}
	return s.otel.SpanContext().SpanID().String()
}

// SpanContext returns the OpenTelemetry span context (zero for a nil span).
func (s *Span) SpanContext() trace.SpanContext {
	if s == nil {
		return trace.SpanContext{}
	}
	return s.otel.SpanContext()
}

// Name returns the span name.
func (s *Span) Name() string {
	if s == nil {
		return ""
	}
	if ro, ok := s.otel.(sdktrace.ReadOnlySpan); ok {
		return ro.Name()
	}
	return ""
}

// SetName renames the span.
func (s *Span) SetName(name string) {
	if s == nil {
		return
	}
	s.otel.SetName(name)
}

// Attribute returns the stored (JSON-encoded) value of key. Meant for
// WithSpanFilter functions; it copies the span's attributes.
func (s *Span) Attribute(key string) (string, bool) {
	if s == nil {
		return "", false
	}
	ro, ok := s.otel.(sdktrace.ReadOnlySpan)
	if !ok {
		return "", false
	}
	s.setOTelAttributes() // the start attributes, if they still wait
	attrs := ro.Attributes()
	for i := len(attrs) - 1; i >= 0; i-- {
		if string(attrs[i].Key) == key {
			return attrs[i].Value.String(), true
		}
	}
	return "", false
}

// Inputs returns the JSON-encoded inputs ("" when none).
func (s *Span) Inputs() string { v, _ := s.Attribute(keys.SpanInputs); return v }

// Outputs returns the JSON-encoded outputs ("" when none).
func (s *Span) Outputs() string { v, _ := s.Attribute(keys.SpanOutputs); return v }

// mlflowTraceID is the MLflow id of id as p's exporter writes it ("tr-…",
// or "trace:/<catalog>.<schema>/…" for Unity Catalog tables).
func (p *Provider) mlflowTraceID(id trace.TraceID) string {
	var exp *exporter.Exporter
	if p != nil {
		exp = p.exp
	}
	return exp.TraceID(id)
}
