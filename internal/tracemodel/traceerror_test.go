package tracemodel

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

func TestFailedTraces(t *testing.T) {
	te := func(id string) error { return &TraceError{TraceID: id, Err: errors.New(id + ": refused")} }
	for _, tt := range []struct {
		name string
		err  error
		want []string // nil: the whole batch failed
	}{
		{"nil", nil, nil},
		{"plain error", errors.New("connection refused"), nil},
		{"one trace", te("tr-1"), []string{"tr-1"}},
		{"wrapped trace error", fmt.Errorf("x: %w", te("tr-1")), []string{"tr-1"}},
		{"joined", errors.Join(te("tr-1"), te("tr-2")), []string{"tr-1", "tr-2"}},
		{"joined with a batch error", errors.Join(te("tr-1"), context.Canceled), nil},
		{"no id", &TraceError{Err: errors.New("x")}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ids, ok := FailedTraces(tt.err)
			if ok != (tt.want != nil) {
				t.Fatalf("FailedTraces(%v) ok = %v", tt.err, ok)
			}
			if got := slices.Sorted(maps.Keys(ids)); ok && !slices.Equal(got, tt.want) {
				t.Errorf("FailedTraces(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestOnlyRepeated(t *testing.T) {
	a := errors.New("no StartTraceV3")
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", a, false},
		{"repeated", Repeated(a), true},
		{"wrapped repeated", fmt.Errorf("tr-1: %w", Repeated(a)), true},
		{"joined repeated", errors.Join(fmt.Errorf("tr-1: %w", Repeated(a)), fmt.Errorf("tr-2: %w", Repeated(a))), true},
		{"joined with a new error", errors.Join(fmt.Errorf("tr-1: %w", Repeated(a)), a), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := OnlyRepeated(tt.err); got != tt.want {
				t.Errorf("OnlyRepeated(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if Repeated(a).Error() != a.Error() || !errors.Is(Repeated(a), a) {
		t.Error("Repeated changes the message or loses the cause")
	}
}
