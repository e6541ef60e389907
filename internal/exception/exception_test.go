package exception_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestNamedErrorIsRecordedWithItsType(t *testing.T) {
	if exception.New("x", nil) != nil {
		t.Fatal("New of a nil error")
	}
	base := errors.New("404 Not Found: no such model")
	err := exception.New("openai.APIError", base)
	if err.Error() != base.Error() || !errors.Is(err, base) {
		t.Fatalf("%v", err)
	}
	rec := exportertest.NewRecorder()
	p, initErr := tracing.Init(context.Background(), tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(exporter.WithDestination(rec)))
	if initErr != nil {
		t.Fatal(initErr)
	}
	_, span := tracing.StartSpan(context.Background(), "call")
	span.RecordError(err)
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := rec.Traces()[0].Spans[0]
	if s.Events[0].Attributes["exception.type"] != "openai.APIError" || s.Status.Message != "openai.APIError: 404 Not Found: no such model" {
		t.Errorf("event %v status %+v", s.Events[0].Attributes, s.Status)
	}
}
