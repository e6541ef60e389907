package eino

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/schema"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// readInput reads a run's input stream to its end, records the aggregated
// input and closes r.inputDone.
func (h *Handler) readInput(r *run, s *schema.StreamReader[callbacks.CallbackInput]) {
	defer close(r.inputDone)
	defer s.Close()
	agg := aggregator{max: h.cfg.maxChunks}
	err := drain(s, &agg)
	defer recoverPanic()
	if err == nil || agg.n > 0 {
		h.recordInput(r, agg.result())
	}
	if agg.truncated {
		r.span.SetAttribute("eino.stream.truncated", true)
	}
}

// readOutput reads a run's output stream to its end, records the
// aggregated output (the chunks read before an error, and the error) and
// ends the span. The span's end is the time the stream ended.
func (h *Handler) readOutput(r *run, s *schema.StreamReader[callbacks.CallbackOutput]) {
	defer func() {
		for p := r.parent; p != nil; p = p.parent {
			p.streams.add(-1)
		}
	}()
	defer s.Close()
	agg := aggregator{max: h.cfg.maxChunks}
	err := drain(s, &agg)
	if r.inputDone != nil {
		<-r.inputDone
	}
	r.streams.wait()
	defer recoverPanic()
	defer r.span.End() // after a panic of the recording too
	if err != nil {
		defer r.endOrphans(err)
	}
	if agg.truncated {
		r.span.SetAttribute("eino.stream.truncated", true)
	}
	if err == nil || agg.n > 0 {
		h.recordOutput(r, agg.result())
	}
	if err != nil {
		r.span.RecordError(err)
	}
}

// drain reads s to its end into agg; it returns the stream's error (nil at
// io.EOF). A panic of the stream's producer surfaces as an error.
func drain[T any](s *schema.StreamReader[T], agg *aggregator) (err error) {
	defer func() {
		if p := recover(); p != nil {
			tracing.ReportError(fmt.Errorf("eino: reading a stream panicked: %v", p))
			err = fmt.Errorf("panic reading the stream: %v", p)
		}
	}()
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		agg.add(chunk)
	}
}

// mergeEvery is how many message chunks are kept before they are merged.
const mergeEvery = 64

// aggregator merges a stream's chunks: the message chunks of a chat model
// (model.CallbackOutput, schema.Message) into one message with the last
// token usage reported, tool output strings into one string, and other
// chunks into a list, of at most max chunks.
type aggregator struct {
	max       int
	n         int // chunks seen
	truncated bool

	msgs   []*schema.Message
	usage  *model.TokenUsage
	config *model.Config
	modelC bool // the chunks are model.CallbackOutput

	text  strings.Builder
	texts bool // the chunks are strings or tool outputs
	toolC bool // the chunks are tool.CallbackOutput

	other []any
}

func (a *aggregator) add(chunk any) {
	a.n++
	switch c := chunk.(type) {
	case *model.CallbackOutput:
		if c == nil {
			return
		}
		a.modelC = true
		if c.TokenUsage != nil {
			a.usage = c.TokenUsage
		}
		if c.Config != nil && a.config == nil {
			a.config = c.Config
		}
		a.addMessage(c.Message)
		return
	case *schema.Message:
		a.addMessage(c)
		return
	case *tool.CallbackOutput:
		if c != nil {
			a.toolC, a.texts = true, true
			a.text.WriteString(c.Response)
		}
		return
	case string:
		a.texts = true
		a.text.WriteString(c)
		return
	}
	if len(a.other) >= a.max {
		a.truncated = true
		return
	}
	a.other = append(a.other, chunk)
}

func (a *aggregator) addMessage(m *schema.Message) {
	if m == nil {
		return
	}
	a.msgs = append(a.msgs, m)
	if len(a.msgs) >= mergeEvery {
		if merged, err := schema.ConcatMessages(a.msgs); err == nil {
			a.msgs = append(a.msgs[:0], merged)
		}
	}
}

// result is the aggregated value, of the type the component's callback
// input or output has.
func (a *aggregator) result() any {
	switch {
	case len(a.msgs) > 0 || a.modelC:
		var msg *schema.Message
		if len(a.msgs) > 0 {
			m, err := schema.ConcatMessages(a.msgs)
			if err != nil {
				m = a.msgs[len(a.msgs)-1]
			}
			msg = m
		}
		if a.modelC {
			return &model.CallbackOutput{Message: msg, Config: a.config, TokenUsage: a.usage}
		}
		return msg
	case a.toolC:
		return &tool.CallbackOutput{Response: a.text.String()}
	case a.texts:
		return a.text.String()
	case len(a.other) == 1:
		return a.other[0]
	}
	return a.other
}
