package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an ExportFunc that records batch sizes.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	items   int
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1000)} }

func (r *recorder) export(_ context.Context, b []int) error {
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), b...))
	r.items += len(b)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.batches))
	for i, b := range r.batches {
		out[i] = len(b)
	}
	return out
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.items
}

// waitItems waits (up to a generous bound) until n items were exported.
func (r *recorder) waitItems(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for r.total() < n {
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("exported %d items, want %d", r.total(), n)
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func shutdown(t *testing.T, b interface{ Shutdown(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestBatching(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config[int]
		enqueue   int
		wantAuto  []int // batch sizes exported without a flush
		wantFlush []int // batch sizes after ForceFlush (cumulative)
	}{
		{
			name:      "size",
			cfg:       Config[int]{BatchSize: 3, Interval: time.Hour, Workers: 1},
			enqueue:   7,
			wantAuto:  []int{3, 3},
			wantFlush: []int{3, 3, 1},
		},
		{
			name:      "interval",
			cfg:       Config[int]{BatchSize: 100, Interval: 5 * time.Millisecond, Workers: 1},
			enqueue:   2,
			wantAuto:  []int{2},
			wantFlush: []int{2},
		},
		{
			name:      "no linger",
			cfg:       Config[int]{BatchSize: 100, Interval: 0, Workers: 1},
			enqueue:   1,
			wantAuto:  []int{1},
			wantFlush: []int{1},
		},
		{
			name:      "flush ignores interval",
			cfg:       Config[int]{BatchSize: 100, Interval: time.Hour, Workers: 4},
			enqueue:   5,
			wantAuto:  nil,
			wantFlush: []int{5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder()
			b := New(r.export, tt.cfg)
			defer shutdown(t, b)
			for i := range tt.enqueue {
				if !b.Enqueue(i) {
					t.Fatalf("Enqueue(%d) dropped", i)
				}
			}
			auto := 0
			for _, n := range tt.wantAuto {
				auto += n
			}
			r.waitItems(t, auto)
			if got := r.sizes(); !equal(got, tt.wantAuto) && len(tt.wantAuto) > 0 {
				t.Fatalf("batches before flush = %v, want %v", got, tt.wantAuto)
			}
			if err := b.ForceFlush(context.Background()); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			if got := r.sizes(); !equal(got, tt.wantFlush) {
				t.Fatalf("batches after flush = %v, want %v", got, tt.wantFlush)
			}
		})
	}
}

// gate is an ExportFunc that blocks until released (or its ctx ends) and
// signals each call.
type gate struct {
	called  chan struct{}
	release chan struct{}
	n       atomic.Int64
}

func newGate() *gate { return &gate{called: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) export(ctx context.Context, b []int) error {
	select {
	case g.called <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
		g.n.Add(int64(len(b)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestDropWhenFull(t *testing.T) {
	g := newGate()
	b := New(g.export, Config[int]{QueueSize: 2, Workers: 1, BatchSize: 1})
	defer shutdown(t, b)
	if !b.Enqueue(0) {
		t.Fatal("first Enqueue dropped")
	}
	<-g.called // the worker is now blocked in export
	accepted, dropped := 1, 0
	for i := 1; i < 100; i++ {
		if b.Enqueue(i) { // never blocks
			accepted++
		} else {
			dropped++
		}
	}
	// One item in export, at most one in the dispatcher, two in the queue.
	if accepted > 4 || dropped == 0 {
		t.Fatalf("accepted %d dropped %d; want at most 4 accepted and some dropped", accepted, dropped)
	}
	close(g.release)
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := int(g.n.Load()); got != accepted {
		t.Fatalf("exported %d, want %d", got, accepted)
	}
}

func TestForceFlushHonoursContext(t *testing.T) {
	g := newGate()
	b := New(g.export, Config[int]{Workers: 2, BatchSize: 1})
	defer shutdown(t, b)
	b.Enqueue(1)
	<-g.called
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := b.ForceFlush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ForceFlush = %v, want DeadlineExceeded", err)
	}
	close(g.release)
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.n.Load(); got != 1 {
		t.Fatalf("exported %d, want 1", got)
	}
}

func TestForceFlushWaitsForEveryEarlierItem(t *testing.T) {
	var exported atomic.Int64
	b := New(func(_ context.Context, items []int) error {
		time.Sleep(time.Duration(items[0]%3) * time.Millisecond)
		exported.Add(int64(len(items)))
		return nil
	}, Config[int]{Workers: 8, BatchSize: 3, QueueSize: 10000, Interval: time.Hour})
	defer shutdown(t, b)
	for round := 1; round <= 5; round++ {
		for i := range 100 {
			if !b.Enqueue(i) {
				t.Fatal("dropped")
			}
		}
		if err := b.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := exported.Load(); got < int64(round*100) {
			t.Fatalf("round %d: exported %d after ForceFlush, want ≥ %d", round, got, round*100)
		}
	}
}

func TestShutdown(t *testing.T) {
	r := newRecorder()
	b := New(r.export, Config[int]{Workers: 3, BatchSize: 4, Interval: time.Hour})
	for i := range 10 {
		b.Enqueue(i)
	}
	shutdown(t, b)
	if got := r.total(); got != 10 {
		t.Fatalf("Shutdown exported %d, want 10", got)
	}
	shutdown(t, b) // idempotent
	if b.Enqueue(11) {
		t.Fatal("Enqueue after Shutdown accepted")
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatalf("ForceFlush after Shutdown = %v", err)
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	g := newGate()
	var dropped atomic.Int64
	var failed atomic.Int64
	b := New(g.export, Config[int]{Workers: 1, BatchSize: 1,
		OnDrop:  func(d []int) { dropped.Add(int64(len(d))) },
		OnError: func(f []int, err error) { failed.Add(int64(len(f))) },
	})
	for i := range 5 {
		b.Enqueue(i)
	}
	<-g.called
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := b.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	// The in-flight export was cancelled; waiting again completes.
	shutdown(t, b)
	if got := dropped.Load() + failed.Load(); got != 5 {
		t.Fatalf("dropped %d + failed %d, want 5 in all", dropped.Load(), failed.Load())
	}
	if g.n.Load() != 0 {
		t.Fatalf("exported %d after abort", g.n.Load())
	}
}

func TestErrorsAndPanics(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	calls := 0
	b := New(func(ctx context.Context, items []int) error {
		mu.Lock()
		calls++
		c := calls
		mu.Unlock()
		switch c {
		case 1:
			return errors.New("boom")
		case 2:
			panic("kaboom")
		case 3:
			<-ctx.Done() // export timeout
			return ctx.Err()
		}
		return nil
	}, Config[int]{Workers: 1, BatchSize: 1, ExportTimeout: 5 * time.Millisecond,
		OnError: func(_ []int, err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
	defer shutdown(t, b)
	for i := range 4 {
		b.Enqueue(i)
	}
	if err := b.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 4 || len(errs) != 3 {
		t.Fatalf("calls %d errors %v; want 4 calls, 3 errors", calls, errs)
	}
	if !errors.Is(errs[2], context.DeadlineExceeded) {
		t.Fatalf("third error = %v, want DeadlineExceeded", errs[2])
	}
}

func TestConcurrentProducers(t *testing.T) {
	var exported, oversized atomic.Int64
	b := New(func(_ context.Context, items []int) error {
		exported.Add(int64(len(items)))
		if len(items) > 16 {
			oversized.Add(1)
		}
		return nil
	}, Config[int]{Workers: 4, BatchSize: 16, QueueSize: 64, Interval: time.Millisecond})
	stopFlush := make(chan struct{})
	flushed := make(chan struct{})
	go func() { // concurrent flushes must not break batch sizes
		defer close(flushed)
		for {
			select {
			case <-stopFlush:
				return
			default:
				_ = b.ForceFlush(context.Background())
			}
		}
	}()
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				if b.Enqueue(g*10000 + i) {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stopFlush)
	<-flushed
	shutdown(t, b)
	if oversized.Load() > 0 {
		t.Fatalf("%d batches larger than BatchSize", oversized.Load())
	}
	if exported.Load() != accepted.Load() {
		t.Fatalf("exported %d, accepted %d", exported.Load(), accepted.Load())
	}
}

func BenchmarkEnqueue(b *testing.B) {
	bt := New(func(context.Context, []int) error { return nil },
		Config[int]{Workers: 2, BatchSize: 64, QueueSize: 4096})
	defer bt.Shutdown(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bt.Enqueue(1)
		}
	})
}

// TestShutdownExpiredContext: with an expired ctx, Shutdown cancels the
// export in flight (its ctx ends), drops every item still queued (they are
// counted: OnDrop gets them), and a second Shutdown waits for the goroutines
// (goleak in TestMain checks none is left).
func TestShutdownExpiredContext(t *testing.T) {
	for _, tt := range []struct {
		name    string
		workers int
		batch   int
		items   int
	}{
		{"one worker, batches of 1", 1, 1, 6},
		{"one worker, batches of 4", 1, 4, 9},
		{"three workers", 3, 1, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{}, tt.items)
			var exported, failed, stops atomic.Int64
			var mu sync.Mutex
			var dropped []int
			b := New(func(ctx context.Context, items []int) error {
				started <- struct{}{}
				<-ctx.Done() // a destination that honours ctx
				return ctx.Err()
			}, Config[int]{Workers: tt.workers, BatchSize: tt.batch, Interval: 0,
				OnError: func(f []int, err error) {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("export error = %v, want Canceled", err)
					}
					failed.Add(int64(len(f)))
				},
				OnDrop: func(d []int) { mu.Lock(); dropped = append(dropped, d...); mu.Unlock() },
				OnStop: func() { stops.Add(1) },
			})
			for i := range tt.items {
				if !b.Enqueue(i) {
					t.Fatalf("Enqueue(%d) refused", i)
				}
			}
			<-started // at least one export in flight
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := b.Shutdown(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Shutdown(expired) = %v, want Canceled", err)
			}
			if err := b.Shutdown(context.Background()); err != nil {
				t.Fatalf("second Shutdown = %v", err)
			}
			if err := b.Shutdown(context.Background()); err != nil {
				t.Fatalf("third Shutdown = %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			seen := map[int]bool{}
			for _, d := range dropped {
				if seen[d] {
					t.Fatalf("item %d dropped twice", d)
				}
				seen[d] = true
			}
			if got := int64(len(dropped)) + failed.Load() + exported.Load(); got != int64(tt.items) {
				t.Fatalf("dropped %d + failed %d = %d, want %d (every item accounted for once)",
					len(dropped), failed.Load(), got, tt.items)
			}
			if failed.Load() == 0 {
				t.Fatal("no export was cancelled")
			}
			if stops.Load() != 1 {
				t.Fatalf("OnStop called %d times, want 1", stops.Load())
			}
		})
	}
}

// A batch that fills before its linger is due leaves no timer armed: it
// would wake a worker for nothing when it fired.
func TestFullBatchStopsTheLingerTimer(t *testing.T) {
	r := newRecorder()
	b := New(r.export, Config[int]{BatchSize: 3, Interval: time.Hour, Workers: 1, QueueSize: 10})
	defer shutdown(t, b)
	for i := range 3 {
		b.Enqueue(i)
	}
	r.waitItems(t, 3)
	b.mu.Lock()
	armed := b.lingerTimer.Stop()
	b.mu.Unlock()
	if armed {
		t.Fatal("the linger timer was still armed after its batch was taken")
	}
	// The next partial batch still lingers, and still goes when it is due.
	b.mu.Lock()
	b.cfg.Interval = 5 * time.Millisecond
	b.mu.Unlock()
	b.Enqueue(3)
	r.waitItems(t, 4)
	if got := r.sizes(); !equal(got, []int{3, 1}) {
		t.Fatalf("batches %v, want [3 1]", got)
	}
}
