package traces_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// TestDatabricks reads and annotates traces in the fake workspace for every
// place a workspace keeps spans: experiments on the four signed-URL clouds
// (credentials-for-data-download), a Unity Catalog volume (Files API), Unity
// Catalog tables and an experiment linked to them (v4 routes).
func TestDatabricks(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	type scenario struct {
		name string
		env  func() map[string]string
	}
	expEnv := func(id string) map[string]string {
		env := ws.PATEnv()
		env["MLFLOW_EXPERIMENT_ID"] = id
		return env
	}
	var scenarios []scenario
	for _, c := range databrickstest.Clouds {
		id := ws.CreateExperiment("/Users/a@b.c/"+string(c), c)
		scenarios = append(scenarios, scenario{string(c), func() map[string]string { return expEnv(id) }})
	}
	vol := ws.CreateVolumeExperiment("/Users/a@b.c/volume", "/Volumes/main/agents/traces/exp")
	scenarios = append(scenarios, scenario{"volume", func() map[string]string { return expEnv(vol) }})
	scenarios = append(scenarios, scenario{"uc", func() map[string]string {
		env := ws.OAuthEnv()
		env["MLFLOW_TRACING_DESTINATION"] = "main.agents"
		return env
	}})
	linked := ws.CreateExperiment("/Users/a@b.c/linked", databrickstest.AWS)
	ws.LinkExperimentToUC(linked, "main", "agents", "prod")
	scenarios = append(scenarios, scenario{"uc-linked", func() map[string]string { return expEnv(linked) }})

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			env := sc.env()
			env["MLFLOW_TRACKING_URI"] = "databricks"
			env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
			getenv := func(k string) string { return env[k] }
			opts := []exporter.Option{exporter.WithGetenv(getenv), exporter.WithHTTPClient(ws.HTTPClient()), exporter.WithRetryBackoff(10*time.Millisecond, 0)}
			p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithGetenv(getenv), tracing.WithoutGlobalTracerProvider(),
				tracing.WithExporterOptions(opts...))
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i := range 3 {
				c, root := tracing.StartSpan(ctx, fmt.Sprintf("agent-%d", i), tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs(i))
				tracing.UpdateCurrentTrace(c, tracing.WithTags(map[string]string{"n": fmt.Sprint(i % 2)}))
				_, tool := tracing.StartSpan(c, "tool", tracing.WithSpanType(tracing.SpanTypeTool))
				tool.End()
				root.End(tracing.WithOutputs("ok"))
				ids = append(ids, root.TraceID())
				time.Sleep(3 * time.Millisecond)
			}
			// The feedback of an agent: right after the answer, through the
			// Provider, ordered after the trace's export.
			fb, err := p.LogFeedback(ctx, ids[2], traces.Feedback{Name: "user_feedback", Value: true,
				Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: "u1"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}

			c, err := traces.NewClient(ctx, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tr, err := c.GetTrace(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if tr.Info.TraceID != ids[0] || len(tr.Spans) != 2 || tr.Info.Tags["mlflow.traceName"] != "agent-0" {
				t.Fatalf("GetTrace: %s, %d spans, tags %v", tr.Info.TraceID, len(tr.Spans), tr.Info.Tags)
			}
			page, err := c.SearchTraces(ctx, traces.SearchQuery{Filter: "tags.n = '0'", OrderBy: []string{"timestamp_ms ASC"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := traceIDs(page.Traces); !slices.Equal(got, []string{ids[0], ids[2]}) || len(page.Traces[0].Spans) != 2 {
				t.Errorf("search = %v, want %v", got, []string{ids[0], ids[2]})
			}
			got, err := c.GetAssessment(ctx, ids[2], fb.AssessmentID)
			if err != nil || got.Feedback == nil || got.Feedback.Value != true || got.TraceID != ids[2] {
				t.Fatalf("GetAssessment = %+v, %v", got, err)
			}
			ex, err := c.LogExpectation(ctx, ids[1], traces.Expectation{Name: "expected", Value: []any{"a", 1}})
			if err != nil {
				t.Fatal(err)
			}
			rat := "looked again"
			if _, err := c.UpdateAssessment(ctx, ids[2], fb.AssessmentID, traces.AssessmentUpdate{Rationale: &rat, Feedback: &exporter.FeedbackValue{Value: false}}); err != nil {
				t.Fatal(err)
			}
			if err := c.SetTraceTag(ctx, ids[1], "reviewed", "yes"); err != nil {
				t.Fatal(err)
			}
			info, err := c.GetTraceInfo(ctx, ids[1])
			if err != nil || info.Tags["reviewed"] != "yes" || len(info.Assessments) != 1 || info.Assessments[0].AssessmentID != ex.AssessmentID {
				t.Fatalf("trace info after tag and expectation: %+v, %v", info, err)
			}
			if err := c.DeleteTraceTag(ctx, ids[1], "reviewed"); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteAssessment(ctx, ids[1], ex.AssessmentID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetAssessment(ctx, ids[1], ex.AssessmentID); !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("deleted assessment: %v", err)
			}
			a, err := c.GetAssessment(ctx, ids[2], fb.AssessmentID)
			if err != nil || a.Rationale != rat || a.Feedback.Value != false {
				t.Errorf("updated assessment = %+v %v", a, err)
			}
			if rej := ws.Rejections(); len(rej) > 0 {
				t.Errorf("the fake rejected: %v", rej)
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		env := ws.PATEnv()
		env["MLFLOW_TRACKING_URI"] = "databricks"
		c, err := traces.NewClient(context.Background(), exporter.WithGetenv(func(k string) string { return env[k] }), exporter.WithHTTPClient(ws.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, id := range []string{"tr-0000000000000000000000000000000a", "trace:/main.agents/0000000000000000000000000000000a"} {
			if _, err := c.GetTrace(context.Background(), id); !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("%s: %v", id, err)
			}
		}
	})
}

// TestDatabricksCloseClosesEveryConnection: after Close no connection of
// the client to the workspace stays open, neither the API client's nor the
// OAuth provider's (discovery and token requests).
func TestDatabricksCloseClosesEveryConnection(t *testing.T) {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	env := ws.OAuthEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["MLFLOW_EXPERIMENT_ID"] = ws.CreateExperiment("/Users/a@b.c/close", databrickstest.AWS)
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	ctx := context.Background()
	c, err := traces.NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] })) // the package's own HTTP client
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTraceInfo(ctx, "tr-00000000000000000000000000000001"); !errors.Is(err, traces.ErrNotFound) {
		t.Fatalf("GetTraceInfo: %v, want not found", err)
	}
	if ws.TokenRequests() != 1 {
		t.Fatalf("token requests = %d, want 1", ws.TokenRequests())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := ws.OpenConnections(2 * time.Second); n != 0 {
		t.Errorf("%d connection(s) to the workspace still open after Close", n)
	}
}
