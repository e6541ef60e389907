package prompts

import (
	"context"
	"testing"
)

// Formatting a text prompt with three variables, as an agent does per
// request.
func BenchmarkFormat(b *testing.B) {
	p := &PromptVersion{Name: "qa", Version: 3, Template: "You are {{ persona }}. Answer {{question}} in {{ words }} words."}
	vars := map[string]any{"persona": "a helpful assistant", "question": "What is MLflow?", "words": 20}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Format(vars); err != nil {
			b.Fatal(err)
		}
	}
}

// A load the cache answers, outside a trace: the caller's path without I/O.
func BenchmarkLoadCached(b *testing.B) {
	r := newRegistry(b)
	c := quiet(newClient(b, r, nil))
	ctx := context.Background()
	if _, err := c.Load(ctx, "prompts:/qa/1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Load(ctx, "prompts:/qa/1"); err != nil {
			b.Fatal(err)
		}
	}
}
