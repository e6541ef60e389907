package tracing

import (
	"context"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// Func wraps fn so every call is recorded as a span: Go's form of MLflow's
// @mlflow.trace decorator. The span records the input value as
// mlflow.spanInputs (as is; WithInputName names it), the output as
// mlflow.spanOutputs when fn returns no error, and the function's name as
// mlflow.spanFunctionName (computed once, here). A returned error sets status
// ERROR and adds an "exception" event (see Span.RecordError); a panic is
// recorded the same way with its stack, the span is ended, and the panic
// continues with the original value. The span is a child of the span in the
// ctx passed to the wrapped function, and fn receives a ctx holding the new
// span.
//
// An empty name uses the function's name. When tracing is off, no Provider is
// initialised, or the trace is not sampled, the wrapper calls fn directly
// without allocating.
func Func[In, Out any](name string, fn func(context.Context, In) (Out, error), opts ...SpanOption) func(context.Context, In) (Out, error) {
	c := spanOptions(opts)
	fname := funcName(fn)
	if name == "" {
		name = fname
	} else if isClosureName(fname) {
		// An anonymous function has no name of its own: MLflow's decorator
		// records the function's name, so record the name it was given.
		fname = name
	}
	encName := ""
	if fname != "" {
		encName = encode.JSON(fname)
	}
	return func(ctx context.Context, in In) (Out, error) {
		p := defaultProvider.Load()
		if p == nil || p.disabled {
			return fn(ctx, in)
		}
		return callFunc(p, ctx, name, &c, encName, fn, in)
	}
}

func callFunc[In, Out any](p *Provider, ctx context.Context, name string, c *spanConfig, encName string,
	fn func(context.Context, In) (Out, error), in In) (Out, error) {
	ctx, s := p.start(ctx, name, c, encName, in, true)
	if s == nil {
		return fn(ctx, in)
	}
	return run(ctx, s, true, func(ctx context.Context) (Out, error) { return fn(ctx, in) })
}

// Do runs fn in a span named name: the inline form of Func, like MLflow's
// `with mlflow.start_span(name)`. Inputs come from WithInputs; the output is
// recorded when fn returns no error; errors and panics are recorded as in
// Func. When tracing is off it calls fn directly without allocating.
func Do[Out any](ctx context.Context, name string, fn func(context.Context) (Out, error), opts ...SpanOption) (Out, error) {
	p := defaultProvider.Load()
	if p == nil || p.disabled {
		return fn(ctx)
	}
	c := spanOptions(opts)
	ctx, s := p.start(ctx, name, &c, "", c.inputs, c.hasInputs)
	if s == nil {
		return fn(ctx)
	}
	return run(ctx, s, true, fn)
}

var zeroTime time.Time

// Run is Do for a function without output.
func Run(ctx context.Context, name string, fn func(context.Context) error, opts ...SpanOption) error {
	p := defaultProvider.Load()
	if p == nil || p.disabled {
		return fn(ctx)
	}
	c := spanOptions(opts)
	ctx, s := p.start(ctx, name, &c, "", c.inputs, c.hasInputs)
	if s == nil {
		return fn(ctx)
	}
	_, err := run(ctx, s, false, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	return err
}

// run calls fn inside s, the one body of Func, Do and Run: a returned error
// is recorded (status ERROR and an "exception" event); otherwise the output
// is recorded when withOutput; a panic is recorded with its stack, s ends,
// and the panic continues with the original value; s always ends.
func run[Out any](ctx context.Context, s *Span, withOutput bool, fn func(context.Context) (Out, error)) (out Out, err error) {
	done := false
	defer func() {
		if !done {
			s.endPanicking(recover())
		}
	}()
	out, err = fn(ctx)
	done = true
	if err != nil {
		s.recordError(err)
		s.end(false, nil, zeroTime)
		return out, err
	}
	s.end(withOutput, out, zeroTime)
	return out, err
}

// recordError is RecordError with the stack trimmed to the wrapper's caller.
func (s *Span) recordError(err error) {
	typ, msg := errorTypeName(err), err.Error()
	s.recordException(typ, msg, stackText(typ, msg, 4))
}

// endPanicking runs in a wrapper's deferred function when fn did not return:
// it records the panic (r != nil), ends the span and re-panics with the
// original value. r == nil means runtime.Goexit: the span just ends.
func (s *Span) endPanicking(r any) {
	if r != nil {
		s.recordPanic(r, debug.Stack())
	}
	s.end(false, nil, zeroTime)
	if r != nil {
		panic(r)
	}
}

// funcName returns fn's name as MLflow's Python SDK records a function's
// __name__: without import path, package or receiver ("plan" for pkg.plan,
// "Run" for pkg.(*Agent).Run and pkg.Agent.Run; a closure keeps its
// enclosing function, "main.func1"), or "" when unknown.
func funcName(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	return shortFuncName(f.Name())
}

// isClosureName reports whether name is the compiler's name of an anonymous
// function ("main.func1", "Run.func2.1", "func1.gowrap1").
func isClosureName(name string) bool {
	for name != "" {
		i := strings.LastIndexByte(name, '.')
		last := name[i+1:]
		switch {
		case isClosureComponent(last):
			return true
		case isDigits(last) && i >= 0:
			name = name[:i] // nested closure: ".1"
			continue
		}
		return false
	}
	return false
}

// isClosurePart reports whether rest, what follows a function's name in a
// compiler's name ("func1", "func1.2", "gowrap1", "0" for init.0), starts
// with a closure's part rather than a method's name.
func isClosurePart(rest string) bool {
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimSuffix(rest, "-fm")
	return isDigits(rest) || isClosureComponent(rest)
}

// isClosureComponent reports whether c is the compiler's name for an
// anonymous function or a go statement's wrapper inside its enclosing
// function ("func1", "gowrap2").
func isClosureComponent(c string) bool {
	return strings.HasPrefix(c, "func") && isDigits(c[4:]) ||
		strings.HasPrefix(c, "gowrap") && isDigits(c[6:])
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func shortFuncName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ReplaceAll(name, "[...]", "") // generic instantiations
	if i := strings.Index(name, ")."); i >= 0 && strings.Contains(name[:i], ".(") {
		name = name[i+2:] // package and pointer receiver
	} else if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[i+1:] // package name
		// A value receiver ("Agent.Run"), unlike an enclosing function
		// ("main.func1"), is followed by a method name.
		if j := strings.IndexByte(name, '.'); j >= 0 && !isClosurePart(name[j+1:]) {
			name = name[j+1:]
		}
	}
	name = strings.TrimSuffix(name, "-fm")
	if i := strings.IndexByte(name, '['); i >= 0 && strings.HasSuffix(name, "]") {
		name = name[:i] // generic instantiation
	}
	return name
}
