package tracing

import (
	"context"
	"errors"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// LinkPromptVersion puts the versions on the trace (tag, in order, once
// each) and on the span current when each was linked (attribute, a JSON
// string holding the list, as MLflow stores it).
func TestLinkPromptVersion(t *testing.T) {
	f := setup(t)
	if err := LinkPromptVersion(context.Background(), "qa", 1); !errors.Is(err, ErrNoActiveTrace) {
		t.Fatalf("outside a trace: %v", err)
	}
	ctx, root := StartSpan(context.Background(), "root")
	must := func(ctx context.Context, name string, v int) {
		t.Helper()
		if err := LinkPromptVersion(ctx, name, v); err != nil {
			t.Fatalf("LinkPromptVersion(%s, %d): %v", name, v, err)
		}
	}
	must(ctx, "qa", 3)
	cctx, child := StartSpan(ctx, "child")
	must(cctx, "chat", 1)
	must(cctx, "qa", 3)
	child.End()
	must(ctx, "qa", 3)
	root.End()
	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	traces := f.dest.Traces()
	if len(traces) != 1 {
		t.Fatalf("%d traces", len(traces))
	}
	if got, want := traces[0].Info.Tags[keys.TagLinkedPrompts], `[{"name": "qa", "version": "3"}, {"name": "chat", "version": "1"}]`; got != want {
		t.Errorf("trace tag = %s, want %s", got, want)
	}
	for name, want := range map[string]string{
		"root":  `"[{\"name\": \"qa\", \"version\": \"3\"}]"`,
		"child": `"[{\"name\": \"chat\", \"version\": \"1\"}, {\"name\": \"qa\", \"version\": \"3\"}]"`,
	} {
		if got := attrs(f.span(t, name))[keys.LinkedPrompts]; got != want {
			t.Errorf("%s attribute = %s, want %s", name, got, want)
		}
	}
}

// A value set by hand is added to; one that is not a JSON list is an error,
// and the other record is still made.
func TestLinkPromptVersionKeepsAndChecksValues(t *testing.T) {
	f := setup(t)
	ctx, root := StartSpan(context.Background(), "root")
	root.SetAttribute(keys.LinkedPrompts, `[{"name": "mine", "version": "9"}]`)
	if err := UpdateCurrentTrace(ctx, WithTags(map[string]string{keys.TagLinkedPrompts: "not json"})); err != nil {
		t.Fatal(err)
	}
	err := LinkPromptVersion(ctx, "qa", 2)
	if err == nil {
		t.Fatal("a malformed trace tag: no error")
	}
	root.End()
	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.dest.Traces()[0].Info.Tags[keys.TagLinkedPrompts]; got != "not json" {
		t.Errorf("trace tag = %s", got)
	}
	if got, want := attrs(f.span(t, "root"))[keys.LinkedPrompts], `"[{\"name\": \"mine\", \"version\": \"9\"}, {\"name\": \"qa\", \"version\": \"2\"}]"`; got != want {
		t.Errorf("attribute = %s, want %s", got, want)
	}
}

// With tracing off, or in an unsampled trace, nothing is recorded.
func TestLinkPromptVersionTracingOff(t *testing.T) {
	setup(t, WithDisabled())
	ctx, s := StartSpan(context.Background(), "root")
	if err := LinkPromptVersion(ctx, "qa", 1); err != nil {
		t.Fatal(err)
	}
	s.End()
}
