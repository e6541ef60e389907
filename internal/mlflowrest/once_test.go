package mlflowrest

import (
	"errors"
	"sync"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Once returns the error the first time and the same error marked as
// reported before afterwards (the trace still fails); Warn returns nil
// afterwards.
func TestReportedOnce(t *testing.T) {
	var r Reported
	errA, errB := errors.New("a"), errors.New("b")
	steps := []struct {
		key      string
		err      error
		repeated bool
	}{
		{"scheme:s3", errA, false},
		{"scheme:s3", errA, true},
		{"scheme:gs", errB, false},
		{"scheme:gs", errB, true},
	}
	for i, s := range steps {
		got := r.Once(s.key, s.err)
		if !errors.Is(got, s.err) || got.Error() != s.err.Error() || errors.Is(got, tracemodel.ErrReportedBefore) != s.repeated {
			t.Errorf("step %d: Once(%q) = %v (reported before: %v), want %v (reported before: %v)", i, s.key, got,
				errors.Is(got, tracemodel.ErrReportedBefore), s.err, s.repeated)
		}
	}
	if got := r.Warn("warn", errA); got != errA {
		t.Errorf("first Warn = %v, want %v", got, errA)
	}
	if got := r.Warn("warn", errA); got != nil {
		t.Errorf("second Warn = %v, want nil", got)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	returned := 0
	for range 16 {
		wg.Go(func() {
			if err := r.Once("concurrent", errA); !errors.Is(err, tracemodel.ErrReportedBefore) {
				mu.Lock()
				returned++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if returned != 1 {
		t.Errorf("concurrent callers got the error %d times, want 1", returned)
	}
}
