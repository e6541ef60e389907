package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

// How long LogFeedback retries a trace the backend does not know yet.
const (
	feedbackRetryFor   = 30 * time.Second
	feedbackRetryFirst = 250 * time.Millisecond
	feedbackRetryMax   = 4 * time.Second
)

// feedbackClient is the Provider's lazily built traces.Client.
type feedbackClient struct {
	opts []exporter.Option

	mu     sync.Mutex
	client *traces.Client
	closed bool
}

func (f *feedbackClient) get(ctx context.Context) (*traces.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("tracing: LogFeedback after Shutdown")
	}
	if f.client == nil {
		c, err := traces.NewClient(ctx, f.opts...)
		if err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		f.client = c
	}
	return f.client, nil
}

func (f *feedbackClient) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.client != nil {
		_ = f.client.Close()
		f.client = nil
	}
}

// LogFeedback logs a feedback on trace traceID with the default Provider's
// destination (see Provider.LogFeedback). Typical use, in the handler of a
// thumbs-up:
//
//	a, err := tracing.LogFeedback(ctx, traceID, traces.Feedback{
//		Name: "user_feedback", Value: true, Rationale: comment,
//		Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: userID},
//	})
func LogFeedback(ctx context.Context, traceID string, fb traces.Feedback) (*exporter.Assessment, error) {
	p := defaultProvider.Load()
	if p == nil {
		return nil, errors.New("tracing: LogFeedback needs tracing.Init first")
	}
	return p.LogFeedback(ctx, traceID, fb)
}

// LogFeedback logs a feedback on trace traceID ("tr-…" or a Unity Catalog
// id, e.g. Span.TraceID or LastTraceID) on the destination p exports to,
// through a traces.Client built on first use from p's own options.
//
// A feedback usually arrives a second after the answer, often before the
// trace has been exported. Two mechanisms keep it from failing or being
// lost:
//
//   - a trace this process produced: LogFeedback first waits until p's
//     exporter has exported it (for a trace still open, until it ends), so
//     the feedback is written after the trace; a trace the exporter dropped
//     is an error;
//   - a trace the backend does not know (yet): LogFeedback retries the
//     not-found answer for up to 30 s with backoff (250 ms doubling to 4 s),
//     saying so once through slog. This covers traces another process
//     produced (an agent behind a load balancer whose other replica served
//     the answer) and backends that show a trace after a delay.
//
// It blocks until the feedback is stored or ctx ends; it is I/O the caller
// asked for, so call it from the request that carries the feedback, not
// from a span.
func (p *Provider) LogFeedback(ctx context.Context, traceID string, fb traces.Feedback) (*exporter.Assessment, error) {
	if p == nil {
		return nil, errors.New("tracing: LogFeedback on a nil Provider")
	}
	c, err := p.feedback.get(ctx)
	if err != nil {
		return nil, err
	}
	if id, ok := otelTraceID(traceID); ok && p.exp != nil {
		if err := p.exp.AwaitExport(ctx, id); err != nil {
			return nil, fmt.Errorf("tracing: trace %s was not exported, feedback not logged: %w", traceID, err)
		}
	}
	return retryNotFound(ctx, traceID, func() (*exporter.Assessment, error) {
		return c.LogFeedback(ctx, traceID, fb)
	})
}

// retryNotFound calls fn until it succeeds, fails otherwise than with
// traces.ErrNotFound, or feedbackRetryFor has passed.
func retryNotFound(ctx context.Context, traceID string, fn func() (*exporter.Assessment, error)) (*exporter.Assessment, error) {
	deadline := time.Now().Add(feedbackRetryFor)
	wait := feedbackRetryFirst
	told := false
	for {
		a, err := fn()
		var nf *traces.NotFoundError
		if err == nil || !errors.As(err, &nf) || nf.What != "trace" || time.Now().Add(wait).After(deadline) {
			return a, err
		}
		if !told {
			slog.Default().Info("mlflowtrace: trace not found yet, retrying the feedback for up to 30s (it may still be on its way from another process)", "trace_id", traceID)
			told = true
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, feedbackRetryMax)
	}
}

// otelTraceID returns the OpenTelemetry trace id of an MLflow trace id
// ("tr-<hex>" or "trace:/<location>/<hex>").
func otelTraceID(id string) (trace.TraceID, bool) {
	hex := strings.TrimPrefix(id, "tr-")
	if strings.HasPrefix(id, "trace:/") {
		hex = id[strings.LastIndexByte(id, '/')+1:]
	}
	t, err := trace.TraceIDFromHex(hex)
	return t, err == nil
}
