package langchaingo

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/tools"

	"github.com/mlflowtrace/mlflowtrace-go/internal/chatmodel"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// WrapTools returns ts with every call recorded as a TOOL span named after
// the tool: inputs the tool's input, outputs its result, errors and panics
// (recorded, then re-raised). The span is the current span of the context
// the tool runs with, so spans inside the tool nest under it. Use it for
// tools that do not report to a callbacks.Handler themselves; a wrapped tool
// that does report to this Handler is recorded once.
func (h *Handler) WrapTools(ts ...tools.Tool) []tools.Tool {
	out := make([]tools.Tool, len(ts))
	for i, t := range ts {
		out[i] = &tracedTool{h: h, t: t}
	}
	return out
}

type tracedTool struct {
	h *Handler
	t tools.Tool
}

var _ tools.Tool = (*tracedTool)(nil)

func (w *tracedTool) Name() string        { return w.t.Name() }
func (w *tracedTool) Description() string { return w.t.Description() }

// Call runs the tool inside its span.
func (w *tracedTool) Call(ctx context.Context, input string) (out string, err error) {
	o := w.h.lock()
	f := o.push(ctx, kindTool, w.t.Name(), tracing.SpanTypeTool, true)
	o.done()
	if f == nil {
		return w.t.Call(ctx, input)
	}
	if f.span.CapturesContent() {
		f.span.SetInputs(chatmodel.ToolInput(input))
	}
	defer func() {
		if r := recover(); r != nil {
			w.h.endWrapped(ctx, f)
			f.span.RecordError(fmt.Errorf("panic: %v", r))
			f.span.End()
			panic(r)
		}
	}()
	out, err = w.t.Call(tracing.ContextWithSpan(ctx, f.span), input)
	w.h.endWrapped(ctx, f)
	if err != nil {
		f.span.RecordError(err)
		f.span.End()
		return out, err
	}
	if f.span.CapturesContent() {
		f.span.End(tracing.WithOutputs(out))
	} else {
		f.span.End()
	}
	return out, err
}

// endWrapped takes a wrapper's frame off its stack, with the frames left
// open above it and inside it (whose end never came), and ends those.
func (h *Handler) endWrapped(ctx context.Context, f *frame) {
	o := h.lock()
	defer o.done()
	if s := o.stack(ctx, false); s != nil {
		for i := len(s.frames) - 1; i >= 0; i-- {
			if s.frames[i] == f {
				var above []*frame
				for j := len(s.frames) - 1; j > i; j-- {
					above = append(above, s.frames[j])
				}
				o.abandon(above, nil)
				s.frames = append(s.frames[:i], s.frames[i+1:]...)
				break
			}
		}
		o.release(ctx, s)
	}
	sc := f.span.SpanContext()
	if h.wrapped[sc.SpanID()]--; h.wrapped[sc.SpanID()] <= 0 {
		delete(h.wrapped, sc.SpanID())
	}
	inner := anchorKey{sc.TraceID(), sc.SpanID()}
	if s := h.stacks[inner]; s != nil {
		var left []*frame
		for j := len(s.frames) - 1; j >= 0; j-- {
			left = append(left, s.frames[j])
		}
		o.abandon(left, nil)
		delete(h.stacks, inner)
	}
}
