package responsesagent

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"runtime/debug"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Span names: MLflow names a ResponsesAgent's spans after the traced
// methods.
const (
	SpanPredict       = "predict"
	SpanPredictStream = "predict_stream"
)

// Trace returns agent with every call traced the way MLflow traces a
// ResponsesAgent (mlflow.pyfunc.ResponsesAgent wraps predict and
// predict_stream in @mlflow.trace(span_type=AGENT)):
//
//   - one span of type AGENT named "predict" or "predict_stream", the root of
//     a new trace unless ctx already holds a span;
//   - inputs {"request": <the request>}, written member for member as MLflow
//     records a ResponsesAgentRequest (pydantic model_dump: every field MLflow
//     models, unset ones as null; members MLflow does not model are left out
//     as MLflow drops them);
//   - Predict: outputs the response as MLflow records a returned
//     ResponsesAgentResponse (model_dump, nulls included); an error or a
//     panic is recorded on the span (status ERROR, "exception" event) and
//     the panic re-raised;
//   - PredictStream: each event recorded as a span event
//     "mlflow.chunk.item.<n>" with attribute "mlflow.chunk.value", as
//     MLflow's generator tracing does, and the outputs reduced from the
//     stream as MLflow's responses_agent_output_reducer does:
//     {"object": "response", "output": [the item of every
//     response.output_item.done]} (text deltas alone leave the output
//     empty). When the consumer stops early the span ends with the output
//     so far (and the context's error when ctx ended, e.g. a client that
//     disconnected); MLflow's Python generator would leave the span open;
//   - context.conversation_id and context.user_id become the trace's session
//     and user (metadata mlflow.trace.session / mlflow.trace.user). MLflow
//     3.17 does not do this itself: a Python agent calls
//     mlflow.update_current_trace for it.
//
// Tracing goes to the default tracing Provider (tracing.Init); without one,
// or with tracing off, the calls go straight to agent. Trace of a traced
// agent returns it unchanged.
func Trace(agent Agent) Agent {
	if t, ok := agent.(*tracedAgent); ok {
		return t
	}
	return &tracedAgent{agent: agent}
}

type tracedAgent struct{ agent Agent }

// spanHooks lets NewHandler decorate the root span and observe it before it
// ends (to watch the trace for databricks_options.return_trace).
type spanHooks struct {
	messageFormat string
	onStart       func(ctx context.Context, s *tracing.Span)
	validate      bool                      // check outputs against MLflow's models
	withTraceID   func(*Response) *Response // adds metadata.trace_id
}

// finish checks a Predict result (nil-safe receiver).
func (h *spanHooks) finish(resp *Response, err error) (*Response, error) {
	if err == nil && resp == nil {
		err = ErrNoResponse
	}
	if err != nil || h == nil {
		return resp, err
	}
	if h.validate {
		if verr := resp.Validate(); verr != nil {
			return nil, fmt.Errorf("invalid response from the agent (MLflow's ResponsesAgentResponse rejects it): %w", verr)
		}
	}
	if h.withTraceID != nil {
		resp = h.withTraceID(resp)
	}
	return resp, nil
}

// checkEvent checks a stream event (nil-safe receiver).
func (h *spanHooks) checkEvent(ev *StreamEvent) error {
	if h == nil || !h.validate {
		return nil
	}
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("invalid stream event from the agent (MLflow's ResponsesAgentStreamEvent rejects it): %w", err)
	}
	return nil
}

func (t *tracedAgent) Predict(ctx context.Context, req *Request) (*Response, error) {
	return t.predict(ctx, req, nil)
}

func (t *tracedAgent) PredictStream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	return t.stream(ctx, req, nil)
}

func startAgentSpan(ctx context.Context, name string, req *Request, h *spanHooks) (context.Context, *tracing.Span) {
	ctx, span := tracing.StartSpan(ctx, name, tracing.WithSpanType(tracing.SpanTypeAgent))
	if span == nil {
		return ctx, nil
	}
	if name == SpanPredict {
		// MLflow's function wrapper records the name; its generator
		// wrapper (predict_stream) does not.
		span.SetAttribute(keys.SpanFunctionName, name)
	}
	in := make([]byte, 0, 512)
	in = append(in, `{"request":`...)
	in = append(in, requestTraceValue(req)...)
	in = append(in, '}')
	span.SetInputs(json.RawMessage(in))
	if h != nil && h.messageFormat != "" {
		span.SetAttribute(keys.MessageFormat, h.messageFormat)
	}
	if req.Context != nil {
		var opts []tracing.TraceOption
		if req.Context.ConversationID != "" {
			opts = append(opts, tracing.WithSession(req.Context.ConversationID))
		}
		if req.Context.UserID != "" {
			opts = append(opts, tracing.WithUser(req.Context.UserID))
		}
		if len(opts) > 0 {
			_ = tracing.UpdateCurrentTrace(ctx, opts...)
		}
	}
	if h != nil && h.onStart != nil {
		h.onStart(ctx, span)
	}
	return ctx, span
}

func (t *tracedAgent) predict(ctx context.Context, req *Request, h *spanHooks) (resp *Response, err error) {
	ctx, span := startAgentSpan(ctx, SpanPredict, req, h)
	if span == nil {
		return h.finish(t.agent.Predict(ctx, req))
	}
	done := false
	defer func() {
		if done {
			return
		}
		r := recover()
		recordPanic(span, r)
		span.End()
		if r != nil {
			panic(r)
		}
	}()
	resp, err = t.agent.Predict(ctx, req)
	done = true
	resp, err = h.finish(resp, err)
	if err != nil {
		span.RecordError(err)
		span.End()
		return nil, err
	}
	span.End(tracing.WithOutputs(json.RawMessage(responseTraceValue(resp))))
	return resp, nil
}

func (t *tracedAgent) stream(ctx context.Context, req *Request, h *spanHooks) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		ctx, span := startAgentSpan(ctx, SpanPredictStream, req, h)
		if span == nil {
			for ev, err := range t.agent.PredictStream(ctx, req) {
				if err == nil {
					err = h.checkEvent(&ev)
				}
				if err != nil {
					yield(StreamEvent{}, err)
					return
				}
				if !yield(ev, nil) {
					return
				}
			}
			return
		}
		var items []Item
		n := 0
		ended := false
		end := func(err error) {
			ended = true
			if err != nil {
				span.RecordError(err)
				if ctx.Err() != nil {
					// Cancelled (client gone, server stopping): keep the
					// output so far. Otherwise no outputs, as MLflow.
					span.End(tracing.WithOutputs(json.RawMessage(reducedTraceValue(items))))
					return
				}
				span.End()
				return
			}
			if ctx.Err() != nil {
				// The consumer went away (client disconnect): keep the
				// output so far and say why the stream ended.
				span.RecordError(context.Cause(ctx))
			}
			span.End(tracing.WithOutputs(json.RawMessage(reducedTraceValue(items))))
		}
		defer func() {
			if ended {
				return
			}
			r := recover()
			recordPanic(span, r)
			if r == nil && ctx.Err() != nil {
				span.RecordError(context.Cause(ctx))
			}
			if r != nil && ctx.Err() == nil {
				// A panic is the stream's error: no outputs, as end(err).
				span.End()
			} else {
				// Stopped early (or cancelled): the output so far.
				span.End(tracing.WithOutputs(json.RawMessage(reducedTraceValue(items))))
			}
			if r != nil {
				panic(r)
			}
		}()
		for ev, err := range t.agent.PredictStream(ctx, req) {
			if err == nil {
				err = h.checkEvent(&ev)
			}
			if err != nil {
				end(err)
				yield(StreamEvent{}, err)
				return
			}
			span.AddEvent(keys.ChunkEvent(n), attribute.String(keys.ChunkValue, chunkValue(&ev)))
			n++
			if ev.Type == EventOutputItemDone && ev.Item != nil {
				items = append(items, *ev.Item)
			}
			if !yield(ev, nil) {
				return // the deferred function ends the span with the partial output
			}
		}
		end(nil)
	}
}

func recordPanic(span *tracing.Span, r any) {
	if r == nil {
		return
	}
	msg := panicText(r)
	span.AddEvent("exception",
		attribute.String("exception.message", msg),
		attribute.String("exception.type", "panic"),
		attribute.String("exception.stacktrace", "panic: "+msg+"\n\n"+string(debug.Stack())))
	span.SetStatus(codes.Error, "panic: "+msg)
}

func panicText(r any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T", r)
		}
	}()
	if err, ok := r.(error); ok {
		return err.Error()
	}
	return fmt.Sprint(r)
}

// chunkValue is json.dumps(chunk, cls=TraceJSONEncoder) of the event as
// MLflow writes it: model_dump, ", " / ": " separators, non-ASCII escaped.
func chunkValue(ev *StreamEvent) string {
	return asciiEscape(encode.JSON(eventTraceValue(ev)))
}

// asciiEscape escapes every non-ASCII character of JSON text as \uXXXX (a
// surrogate pair above U+FFFF), as Python's json.dumps does by default.
// Outside strings valid JSON has no non-ASCII characters.
func asciiEscape(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+32)
	u := func(r rune) {
		b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + (r>>10)&0x3ff)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	return string(b)
}
