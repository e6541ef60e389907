package mlflowrest

import (
	"errors"
	"sync"
	"testing"
)

func TestReportedOnce(t *testing.T) {
	var r Reported
	errA, errB := errors.New("a"), errors.New("b")
	steps := []struct {
		key  string
		err  error
		want error
	}{
		{"scheme:s3", errA, errA},
		{"scheme:s3", errA, nil},
		{"scheme:gs", errB, errB},
		{"scheme:gs", errB, nil},
	}
	for i, s := range steps {
		if got := r.Once(s.key, s.err); got != s.want {
			t.Errorf("step %d: Once(%q) = %v, want %v", i, s.key, got, s.want)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	returned := 0
	for range 16 {
		wg.Go(func() {
			if r.Once("concurrent", errA) != nil {
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
