package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestHandlerTracesEachRequest(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	rec := exportertest.NewRecorder()
	provider, err := tracing.Init(ctx,
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(rec)))
	if err != nil {
		t.Fatal(err)
	}
	defer provider.Shutdown(ctx)

	srv := httptest.NewServer(NewHandler())
	defer srv.Close()

	body := `{"messages":[{"role":"user","content":"Where is my order 1234?"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/chat", strings.NewReader(body))
	req.Header.Set("X-User-ID", "bob")
	req.Header.Set("X-Session-ID", "s-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cr ChatRequest
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	traceID := resp.Header.Get("X-MLflow-Trace-Id")
	if !strings.HasPrefix(traceID, "tr-") {
		t.Fatalf("X-MLflow-Trace-Id = %q", traceID)
	}
	if got := cr.Messages[len(cr.Messages)-1].Content; !strings.Contains(got, "order 1234 has shipped") {
		t.Errorf("answer = %q", got)
	}

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := provider.ForceFlush(wctx); err != nil {
		t.Fatal(err)
	}
	tr := rec.Trace(traceID)
	if tr == nil {
		t.Fatalf("trace %s not exported; got %d traces", traceID, len(rec.Traces()))
	}
	if tr.Info.State != exporter.StateOK {
		t.Errorf("state = %q", tr.Info.State)
	}
	if u := tr.Info.Metadata["mlflow.trace.user"]; u != "bob" {
		t.Errorf("user = %q", u)
	}
	if tr.Info.RequestPreview != "Where is my order 1234?" {
		t.Errorf("request preview = %q", tr.Info.RequestPreview)
	}
	if !strings.Contains(tr.Info.ResponsePreview, "order 1234 has shipped") {
		t.Errorf("response preview = %q", tr.Info.ResponsePreview)
	}
	names := map[string]string{}
	for _, s := range tr.Spans {
		var typ string
		_ = json.Unmarshal([]byte(s.Attributes["mlflow.spanType"]), &typ)
		names[s.Name] = typ
	}
	want := map[string]string{"support_agent": "AGENT", "lookup_order": "TOOL", "chat_model": "CHAT_MODEL"}
	for n, typ := range want {
		if names[n] != typ {
			t.Errorf("span %q type = %q, want %q (spans %v)", n, names[n], typ, names)
		}
	}
}

func TestDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	if err := run(context.Background(), "", true, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "trace: tr-") {
		t.Errorf("output:\n%s", out.String())
	}
}
