package responsesagent

import (
	"context"
	"errors"
	"iter"
)

// Agent is MLflow's ResponsesAgent contract: Predict answers a request with a
// full response; PredictStream answers it with a stream of events. Both must
// be safe for concurrent use (NewHandler calls them from concurrent requests)
// and should return promptly when ctx ends.
//
// PredictStream returns an iterator; the stream runs when it is ranged over
// and stops early when the consumer stops (for example a client that
// disconnected). An error ends the stream: yield it as the last pair.
//
// Implement the one that fits and derive the other with FromPredict or
// FromStream. Trace wraps an Agent so every call is traced as MLflow traces a
// ResponsesAgent; NewHandler does that for you.
type Agent interface {
	Predict(ctx context.Context, req *Request) (*Response, error)
	PredictStream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error]
}

// PredictFunc answers a request with a full response.
type PredictFunc func(ctx context.Context, req *Request) (*Response, error)

// StreamFunc answers a request with a stream of events.
type StreamFunc func(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error]

// New returns an Agent made of predict and stream. Either may be nil: the
// missing one is derived from the other (see FromPredict and FromStream).
// With both nil every call fails with ErrNoAgent.
func New(predict PredictFunc, stream StreamFunc) Agent {
	if predict == nil && stream == nil {
		predict = func(context.Context, *Request) (*Response, error) { return nil, ErrNoAgent }
	}
	return funcAgent{predict: predict, stream: stream}
}

// ErrNoAgent is returned by the calls of an Agent made by New(nil, nil).
var ErrNoAgent = errors.New("responsesagent: the agent has neither a predict nor a stream function")

// FromPredict returns an Agent whose PredictStream is derived from predict:
// one response.output_item.done event per output item, then a
// response.completed event carrying the response (its custom_outputs also on
// the event).
func FromPredict(predict PredictFunc) Agent { return New(predict, nil) }

// FromStream returns an Agent whose Predict is derived from stream with
// Collect.
func FromStream(stream StreamFunc) Agent { return New(nil, stream) }

type funcAgent struct {
	predict PredictFunc
	stream  StreamFunc
}

func (a funcAgent) Predict(ctx context.Context, req *Request) (*Response, error) {
	if a.predict != nil {
		return a.predict(ctx, req)
	}
	return Collect(a.stream(ctx, req))
}

func (a funcAgent) PredictStream(ctx context.Context, req *Request) iter.Seq2[StreamEvent, error] {
	if a.stream != nil {
		return a.stream(ctx, req)
	}
	return func(yield func(StreamEvent, error) bool) {
		resp, err := a.predict(ctx, req)
		if err != nil {
			yield(StreamEvent{}, err)
			return
		}
		for ev := range Events(resp) {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// Events returns resp as a stream: one response.output_item.done event per
// output item (with its output_index), then response.completed with the
// response and its custom_outputs.
func Events(resp *Response) iter.Seq[StreamEvent] {
	return func(yield func(StreamEvent) bool) {
		if resp == nil {
			return
		}
		for i, it := range resp.Output {
			ev := ItemDone(it)
			idx := i
			ev.OutputIndex = &idx
			ev.keys = append(ev.keys, "output_index")
			if !yield(ev) {
				return
			}
		}
		done := Completed(resp)
		done.CustomOutputs = resp.CustomOutputs
		yield(done)
	}
}

// StreamError is the error Collect returns for an "error" stream event.
type StreamError struct {
	Code    string
	Message string
}

func (e *StreamError) Error() string {
	if e.Code != "" {
		return "responsesagent: stream error " + e.Code + ": " + e.Message
	}
	return "responsesagent: stream error: " + e.Message
}

// Collect runs a stream to its end and returns the response it amounts to:
// the response of its response.completed event when there is one with
// output, else a response whose output is the item of every
// response.output_item.done event (how MLflow reduces a stream); its
// custom_outputs are the last ones any event carried, unless the response
// has its own. An error of the stream, or an "error" event (as *StreamError),
// is returned.
func Collect(events iter.Seq2[StreamEvent, error]) (*Response, error) {
	var (
		items     []Item
		completed *Response
		custom    map[string]any
	)
	for ev, err := range events {
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case EventOutputItemDone:
			if ev.Item != nil {
				items = append(items, *ev.Item)
			}
		case EventCompleted:
			completed = ev.Response
		case EventError:
			e := &StreamError{}
			if ev.Code != nil {
				e.Code = *ev.Code
			}
			if ev.Message != nil {
				e.Message = *ev.Message
			}
			return nil, e
		}
		if ev.CustomOutputs != nil {
			custom = ev.CustomOutputs
		}
	}
	resp := &Response{}
	if completed != nil {
		*resp = *completed
	}
	if len(resp.Output) == 0 {
		resp.Output = items
	}
	if resp.Output == nil {
		resp.Output = []Item{}
	}
	if resp.CustomOutputs == nil {
		resp.CustomOutputs = custom
	}
	return resp, nil
}

// ErrNoResponse is returned by a traced Predict whose agent returned neither
// a response nor an error.
var ErrNoResponse = errors.New("responsesagent: agent returned no response and no error")
