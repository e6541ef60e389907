package responsesagent_test

import (
	"bytes"
	"context"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// discard is a destination that drops every trace (the export pipeline,
// assembly included, still runs).
type discard struct{}

func (discard) ExportTraces(context.Context, []*exporter.Trace) error { return nil }
func (discard) Shutdown(context.Context) error                        { return nil }

const benchBody = `{"input":[{"role":"system","content":"You are helpful."},{"role":"user","content":"What is the weather in Paris today?"}],"context":{"conversation_id":"c-1","user_id":"u-1"}}`

// benchAgent answers with a fixed text: as a response, or as 10 deltas and
// the item.
type benchAgent struct{}

var benchWords = []string{"It ", "is ", "18C ", "and ", "sunny ", "in ", "Paris ", "today, ", "with ", "light wind."}

func (benchAgent) Predict(ctx context.Context, req *responsesagent.Request) (*responsesagent.Response, error) {
	return &responsesagent.Response{Output: []responsesagent.Item{responsesagent.TextItem("It is 18C and sunny in Paris today, with light wind.", "msg_1")}}, nil
}

func (benchAgent) PredictStream(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
	return func(yield func(responsesagent.StreamEvent, error) bool) {
		for _, w := range benchWords {
			if !yield(responsesagent.TextDelta(w, "msg_1"), nil) {
				return
			}
		}
		yield(responsesagent.ItemDone(responsesagent.TextItem("It is 18C and sunny in Paris today, with light wind.", "msg_1")), nil)
	}
}

// bareHandler reads the request and writes pre-recorded bytes: what the
// handler costs without this package.
func bareHandler(body []byte, sse bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if !sse {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for _, ev := range bytes.SplitAfter(body, []byte("\n\n")) {
			if len(ev) > 0 {
				_, _ = w.Write(ev)
				_ = rc.Flush()
			}
		}
	})
}

func record(h http.Handler, body string) []byte {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewBufferString(body)))
	return rec.Body.Bytes()
}

func benchServe(b *testing.B, h http.Handler, body string, p *tracing.Provider) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewBufferString(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
	if p != nil {
		_ = p.ForceFlush(context.Background()) // the background export work is part of the cost
	}
}

func benchHandler(b *testing.B, stream bool) {
	body := benchBody
	if stream {
		body = benchBody[:len(benchBody)-1] + `,"stream":true}`
	}
	// The bare handler returns exactly what the real one returned.
	off, _ := tracing.Init(context.Background(), tracing.WithDisabled())
	want := record(responsesagent.NewHandler(benchAgent{}), body)
	_ = off.Shutdown(context.Background())

	b.Run("bare", func(b *testing.B) { benchServe(b, bareHandler(want, stream), body, nil) })
	b.Run("tracing=off", func(b *testing.B) {
		p, _ := tracing.Init(context.Background(), tracing.WithDisabled())
		defer p.Shutdown(context.Background())
		benchServe(b, responsesagent.NewHandler(benchAgent{}), body, nil)
	})
	b.Run("tracing=on", func(b *testing.B) {
		p, err := tracing.Init(context.Background(), tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
			tracing.WithGetenv(func(string) string { return "" }),
			tracing.WithExporterOptions(exporter.WithDestination(discard{})))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Shutdown(context.Background())
		benchServe(b, responsesagent.NewHandler(benchAgent{}), body, p)
	})
}

// BenchmarkHandlerPredict: one non-streaming request through NewHandler
// (decode, validate, traced Predict, encode) versus a bare handler writing
// the same response.
func BenchmarkHandlerPredict(b *testing.B) { benchHandler(b, false) }

// BenchmarkHandlerStream: one streaming request of 11 events (10 deltas and
// the item), each flushed, versus a bare handler writing the same bytes.
func BenchmarkHandlerStream(b *testing.B) { benchHandler(b, true) }
