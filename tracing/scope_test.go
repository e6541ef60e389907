package tracing

import (
	"context"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// TestContextWithTraceOptions: the options of a context scope reach every
// trace started in it, whoever starts its root (this package or a plain
// OpenTelemetry tracer), as MLflow's mlflow.tracing.context does; scopes
// nest with the inner value winning, UpdateCurrentTrace wins over both, a
// span inside an open trace changes nothing and WithState is ignored.
func TestContextWithTraceOptions(t *testing.T) {
	f := setup(t)
	outer := ContextWithTraceOptions(context.Background(),
		WithUser("u-outer"), WithSession("s-1"), WithTags(map[string]string{"team": "a", "env": "dev"}),
		WithMetadata(map[string]string{"m": "outer"}), WithState(exporter.StateError))
	inner := ContextWithTraceOptions(outer, WithUser("u-inner"), WithTags(map[string]string{"env": "prod"}))

	// Root by StartSpan in the inner scope.
	ctx, root := StartSpan(inner, "inner_root")
	// A child started in another scope does not change the open trace.
	_, child := StartSpan(ContextWithTraceOptions(ctx, WithUser("u-child")), "child")
	child.End()
	root.End()

	// Root by StartSpan in the outer scope, then UpdateCurrentTrace.
	ctx, root2 := StartSpan(outer, "outer_root")
	if err := UpdateCurrentTrace(ctx, WithSession("s-updated")); err != nil {
		t.Fatal(err)
	}
	root2.End()

	// Root by a plain OpenTelemetry tracer of the provider.
	_, os := f.p.TracerProvider().Tracer("other").Start(inner, "otel_root")
	os.End()

	// No scope.
	_, root3 := StartSpan(context.Background(), "plain_root")
	root3.End()

	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	byRoot := map[string]*exporter.Trace{}
	for _, tr := range f.dest.Traces() {
		for _, s := range tr.Spans {
			if !s.ParentSpanID.IsValid() {
				byRoot[s.Name] = tr
			}
		}
	}
	for _, tc := range []struct {
		root  string
		meta  map[string]string // "" = absent
		tags  map[string]string
		state string
	}{
		{"inner_root", map[string]string{keys.MetaUser: "u-inner", keys.MetaSession: "s-1", "m": "outer"},
			map[string]string{"team": "a", "env": "prod"}, exporter.StateOK},
		{"outer_root", map[string]string{keys.MetaUser: "u-outer", keys.MetaSession: "s-updated", "m": "outer"},
			map[string]string{"team": "a", "env": "dev"}, exporter.StateOK},
		{"otel_root", map[string]string{keys.MetaUser: "u-inner", keys.MetaSession: "s-1", "m": "outer"},
			map[string]string{"team": "a", "env": "prod"}, exporter.StateOK},
		{"plain_root", map[string]string{keys.MetaUser: "", keys.MetaSession: "", "m": ""},
			map[string]string{"team": "", "env": ""}, exporter.StateOK},
	} {
		tr := byRoot[tc.root]
		if tr == nil {
			t.Errorf("%s: no trace", tc.root)
			continue
		}
		for k, want := range tc.meta {
			if got := tr.Info.Metadata[k]; got != want {
				t.Errorf("%s: metadata %s = %q, want %q", tc.root, k, got, want)
			}
		}
		for k, want := range tc.tags {
			if got := tr.Info.Tags[k]; got != want {
				t.Errorf("%s: tag %s = %q, want %q", tc.root, k, got, want)
			}
		}
		if tr.Info.State != tc.state {
			t.Errorf("%s: state %q, want %q", tc.root, tr.Info.State, tc.state)
		}
	}
}

// TestContextWithTracingEnabled: inside ContextWithTracingEnabled(ctx,
// false) nothing is recorded — this package's spans, wrapped functions
// (which still run) and plain OpenTelemetry spans — and an open trace goes
// on without them; a nested scope with true records again.
func TestContextWithTracingEnabled(t *testing.T) {
	f := setup(t)
	ctx, root := StartSpan(context.Background(), "root")
	off := ContextWithTracingEnabled(ctx, false)

	_, s := StartSpan(off, "off_span")
	s.SetOutputs("x") // safe on a span that is not recorded
	s.End()
	ran := false
	if _, err := Func("off_func", func(context.Context, int) (int, error) { ran = true; return 1, nil })(off, 1); err != nil || !ran {
		t.Errorf("off_func: ran %v, err %v", ran, err)
	}
	_, os := f.p.TracerProvider().Tracer("other").Start(off, "off_otel")
	os.End()
	_, s = StartSpan(ContextWithTracingEnabled(off, true), "on_again")
	s.End()
	_, s = StartSpan(ctx, "after")
	s.End()
	root.End()

	// A trace started in the scope is not recorded at all.
	_, s = StartSpan(ContextWithTracingEnabled(context.Background(), false), "off_root")
	s.End()

	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	traces := f.dest.Traces()
	if len(traces) != 1 {
		t.Fatalf("%d traces, want 1", len(traces))
	}
	var names []string
	for _, sp := range traces[0].Spans {
		names = append(names, sp.Name)
	}
	want := map[string]bool{"root": true, "on_again": true, "after": true}
	if len(names) != len(want) {
		t.Errorf("spans %v, want root, on_again, after", names)
	}
	for _, n := range names {
		if !want[n] {
			t.Errorf("span %q recorded in a scope with tracing off (spans %v)", n, names)
		}
	}
}
