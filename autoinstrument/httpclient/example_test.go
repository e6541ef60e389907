package httpclient_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/httpclient"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleNewTransport() {
	ctx := context.Background()
	// Some JSON API, and an in-memory destination for the traces.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"completion": "Hi there!"}`)
	}))
	defer srv.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	client := &http.Client{Transport: httpclient.NewTransport(nil, httpclient.WithSpanType(tracing.SpanTypeLLM))}
	resp, err := client.Post(srv.URL+"/v1/complete", "application/json", strings.NewReader(`{"prompt": "Hello"}`))
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // the span ends here

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	s := dest.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanType"])
	fmt.Println(s.Attributes["mlflow.spanInputs"], "->", s.Attributes["mlflow.spanOutputs"])
	// Output:
	// POST /v1/complete "LLM"
	// {"prompt": "Hello"} -> {"completion": "Hi there!"}
}
