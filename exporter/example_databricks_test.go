package exporter_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
)

// sdkConfig stands in for *config.Config of
// github.com/databricks/databricks-sdk-go/config, which this module does not
// depend on: its Authenticate(*http.Request) error method signs a request
// with whatever credentials that SDK resolved (PAT, OAuth, Azure, GCP, ...).
type sdkConfig struct {
	Host  string
	Token string
}

func (c *sdkConfig) Authenticate(r *http.Request) error {
	r.Header.Set("Authorization", "Bearer "+c.Token)
	return nil
}

// A program that already uses databricks-sdk-go passes its credentials:
//
//	cfg := &config.Config{}              // resolved from the environment by the SDK
//	if err := cfg.EnsureResolved(); err != nil { ... }
//	exporter.New(ctx,
//		exporter.WithDatabricksHost(cfg.Host),
//		exporter.WithDatabricksCredentials(cfg.Authenticate),
//		exporter.WithExperimentID(id))
//
// Here the workspace is this module's fake (databrickstest) and sdkConfig
// plays the SDK's part.
func ExampleWithDatabricksCredentials() {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	expID := ws.CreateExperiment("/Users/me@example.com/agent", databrickstest.AWS)
	cfg := &sdkConfig{Host: ws.URL, Token: ws.Token}

	ctx := context.Background()
	exp, err := exporter.New(ctx,
		exporter.WithGetenv(func(string) string { return "" }), // only the options below
		exporter.WithDatabricksHost(cfg.Host),
		exporter.WithDatabricksCredentials(cfg.Authenticate),
		exporter.WithExperimentID(expID))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	_, span := tp.Tracer("example").Start(ctx, "agent")
	span.End()
	if err := tp.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	t := ws.Traces()[0]
	fmt.Println(t.Location == expID, t.DataVia, len(t.Data) > 0)
	// Output: true AWS_PRESIGNED_URL true
}
