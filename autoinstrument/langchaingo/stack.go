package langchaingo

import (
	"context"
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// How spans nest: langchaingo's callbacks get the caller's ctx, never a
// context of the run they belong to, so each Handler keeps a stack of open
// spans per enclosing span of that ctx (its anchor). A start callback pushes
// a span as a child of the top of its anchor's stack (or of the anchor), an
// end callback pops the innermost span of its kind.

type kind uint8

const (
	kindChain kind = iota + 1
	kindLLM
	kindTool
	kindRetriever
)

// leaf reports whether a span of this kind has no nested callbacks: one left
// open on top of a stack is ended by the next callback.
func (k kind) leaf() bool { return k == kindLLM || k == kindRetriever }

type frame struct {
	span *tracing.Span
	kind kind
	// On chain frames: the tool the last agent action chose, which names the
	// next tool span.
	nextTool string
	wrapper  bool // a WrapTools span: ended by its wrapper, never by callbacks
}

// anchorKey identifies the enclosing span of a callback's ctx.
type anchorKey struct {
	tid trace.TraceID
	sid trace.SpanID
}

type stack struct {
	anchor trace.Span
	frames []*frame
	absorb int // HandleToolStart calls of a wrapped tool, recorded by its wrapper
}

// ended is a frame to end once h.mu is released: at a time (zero: now), with
// an enclosing frame's error (or nil).
type ended struct {
	f   *frame
	at  time.Time
	err error
}

// op is one callback's work under h.mu: frames it takes off the stacks are
// ended by done, after the lock is released.
type op struct {
	h   *Handler
	fin []ended
}

func (h *Handler) lock() *op {
	h.mu.Lock()
	o := &op{h: h}
	if time.Since(h.lastReap) >= h.reapGap {
		o.reap()
	}
	return o
}

// done releases h.mu and ends the frames taken off the stacks.
func (o *op) done() {
	o.h.mu.Unlock()
	for _, e := range o.fin {
		if e.f.wrapper {
			continue
		}
		if e.err != nil {
			e.f.span.RecordError(e.err)
		}
		if e.at.IsZero() {
			e.f.span.End()
		} else {
			e.f.span.End(tracing.WithEndTime(e.at))
		}
	}
}

// abandon queues frames (innermost first) whose end callback never came.
func (o *op) abandon(frames []*frame, err error) {
	now := time.Now()
	for _, f := range frames {
		o.fin = append(o.fin, ended{f: f, at: now, err: err})
	}
}

// stack returns the stack of ctx's anchor; with create it makes one (nil when
// too many anchors have open spans).
func (o *op) stack(ctx context.Context, create bool) *stack {
	h := o.h
	sc := trace.SpanContextFromContext(ctx)
	key := anchorKey{sc.TraceID(), sc.SpanID()}
	if s := h.stacks[key]; s != nil || !create {
		return s
	}
	if len(h.stacks) >= h.reapAt {
		o.reap()
	}
	if len(h.stacks) >= h.cfg.maxStacks {
		if !h.full {
			h.full = true
			tracing.ReportError(fmt.Errorf("langchaingo: %d enclosing spans have open langchaingo spans: not tracing more until they end", len(h.stacks)))
		}
		return nil
	}
	s := &stack{anchor: trace.SpanFromContext(ctx)}
	h.stacks[key] = s
	return s
}

// release forgets ctx's stack once nothing is on it.
func (o *op) release(ctx context.Context, s *stack) {
	if len(s.frames) == 0 && s.absorb == 0 {
		sc := trace.SpanContextFromContext(ctx)
		delete(o.h.stacks, anchorKey{sc.TraceID(), sc.SpanID()})
	}
}

// reap takes the spans off the stacks whose enclosing span has ended: spans
// langchaingo never closed (a model call that failed without HandleLLMError),
// which would keep their trace from being exported. They end when their
// enclosing span ended. Runs at most once a second, and when stacks pile up.
func (o *op) reap() {
	h := o.h
	h.lastReap = time.Now()
	for k, s := range h.stacks {
		if !k.sid.IsValid() || s.anchor.IsRecording() {
			continue
		}
		var at time.Time
		if ro, ok := s.anchor.(sdktrace.ReadOnlySpan); ok {
			at = ro.EndTime()
		}
		for j := len(s.frames) - 1; j >= 0; j-- {
			o.fin = append(o.fin, ended{f: s.frames[j], at: at})
		}
		delete(h.stacks, k)
	}
	h.reapAt = max(64, 2*len(h.stacks))
	h.full = false
}

// popLeaves takes the leaf frames off the top of s (model and retriever calls
// whose end callback never came).
func (o *op) popLeaves(s *stack) {
	var leaves []*frame
	for n := len(s.frames); n > 0 && s.frames[n-1].kind.leaf(); n-- {
		leaves = append(leaves, s.frames[n-1])
		s.frames = s.frames[:n-1]
	}
	o.abandon(leaves, nil)
}

// push starts a span as a child of the top of ctx's stack and pushes it; nil
// when tracing is off or the trace is not sampled. Leaves left open on top
// end first.
func (o *op) push(ctx context.Context, k kind, name string, typ tracing.SpanType, wrapper bool) *frame {
	s := o.stack(ctx, true)
	if s == nil {
		return nil
	}
	o.popLeaves(s)
	opts := []tracing.SpanOption{tracing.WithSpanType(typ)}
	if n := len(s.frames); n > 0 {
		p := s.frames[n-1]
		opts = append(opts, tracing.WithParent(p.span))
		if k == kindTool && p.kind == kindChain && p.nextTool != "" {
			if !wrapper {
				name = p.nextTool
			}
			p.nextTool = ""
		}
	}
	_, span := tracing.StartSpan(ctx, name, opts...)
	if span == nil {
		o.release(ctx, s)
		return nil
	}
	f := &frame{span: span, kind: k, wrapper: wrapper}
	s.frames = append(s.frames, f)
	if wrapper {
		o.h.wrapped[span.SpanContext().SpanID()]++
	}
	return f
}

// pop takes the innermost frame of kind k off ctx's stack, with the frames
// above it (whose end never came, ended with err); nil when there is none.
func (o *op) pop(ctx context.Context, k kind, err error) *frame {
	s := o.stack(ctx, false)
	if s == nil {
		return nil
	}
	for i := len(s.frames) - 1; i >= 0; i-- {
		f := s.frames[i]
		if f.kind != k || f.wrapper {
			continue
		}
		var above []*frame
		for j := len(s.frames) - 1; j > i; j-- {
			above = append(above, s.frames[j])
		}
		o.abandon(above, err)
		s.frames = s.frames[:i]
		o.release(ctx, s)
		return f
	}
	return nil
}

// top returns the innermost frame and the innermost chain frame of ctx's
// stack, after ending the leaves left open on top when endLeaves.
func (o *op) top(ctx context.Context, endLeaves bool) (innermost, chain *frame) {
	s := o.stack(ctx, false)
	if s == nil {
		return nil, nil
	}
	if endLeaves {
		o.popLeaves(s)
		defer o.release(ctx, s)
	}
	if n := len(s.frames); n > 0 {
		innermost = s.frames[n-1]
	}
	for i := len(s.frames) - 1; i >= 0; i-- {
		if s.frames[i].kind == kindChain {
			return innermost, s.frames[i]
		}
	}
	return innermost, nil
}
