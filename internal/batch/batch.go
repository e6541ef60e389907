package batch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ExportFunc exports one batch. It is called from the worker goroutines,
// possibly concurrently, with a context that carries the export timeout and
// is cancelled when Shutdown gives up. The batch slice is owned by the call.
type ExportFunc[T any] func(ctx context.Context, batch []T) error

// Config tunes a Batcher of T. Zero values mean defaults.
type Config[T any] struct {
	// QueueSize bounds the items waiting for a batch (default 1000).
	QueueSize int
	// Workers is the number of concurrent exports (default 1).
	Workers int
	// BatchSize is the largest batch handed to the export function
	// (default 10).
	BatchSize int
	// Interval is how long a partial batch may wait to fill up; 0 hands
	// items out as soon as a worker is free.
	Interval time.Duration
	// ExportTimeout bounds one export call; 0 means no timeout.
	ExportTimeout time.Duration
	// OnError is called (from a worker) with the batch of a failed or
	// panicking export.
	OnError func(batch int, err error)
	// OnDrop is called with the items abandoned because Shutdown's ctx
	// ended before they were exported (possibly in several calls, from
	// Shutdown or from the Batcher's goroutines). Drops of a full queue are
	// reported by Enqueue's result instead.
	OnDrop func(dropped []T)
	// OnStop, if set, is called once from the Batcher's goroutine after
	// the last export and the last OnDrop, before Shutdown returns nil.
	OnStop func()
}

const (
	defaultQueueSize = 1000
	defaultWorkers   = 1
	defaultBatchSize = 10
)

// Batcher is a bounded, batching, multi-worker export queue. Create it with
// New; every method is safe for concurrent use.
type Batcher[T any] struct {
	cfg    Config[T]
	export ExportFunc[T]

	queue chan T
	flush chan chan struct{}
	work  chan []T

	inFlight atomic.Int64
	idle     chan struct{} // signalled when inFlight drops to 0

	closed   atomic.Bool // Enqueue refuses
	aborted  atomic.Bool // Shutdown's ctx ended: drop instead of export
	stopOnce sync.Once
	stop     chan struct{} // closed by Shutdown
	done     chan struct{} // closed when every goroutine has exited

	ctx    context.Context // parent of export contexts
	cancel context.CancelFunc
}

// New starts a Batcher: one dispatcher and cfg.Workers workers, owned by the
// Batcher and stopped by Shutdown.
func New[T any](export ExportFunc[T], cfg Config[T]) *Batcher[T] {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = defaultBatchSize
	}
	if cfg.Interval < 0 {
		cfg.Interval = 0
	}
	b := &Batcher[T]{
		cfg:    cfg,
		export: export,
		queue:  make(chan T, cfg.QueueSize),
		flush:  make(chan chan struct{}),
		work:   make(chan []T),
		idle:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Add(cfg.Workers)
	for range cfg.Workers {
		go func() {
			defer workers.Done()
			b.worker()
		}()
	}
	go func() {
		b.dispatch()
		close(b.work)
		workers.Wait()
		b.drainDropped() // items enqueued in a race with Shutdown
		b.cancel()
		if b.cfg.OnStop != nil {
			b.cfg.OnStop()
		}
		close(b.done)
	}()
	return b
}

// Enqueue adds item to the queue without blocking. It reports false, and
// the item is dropped, when the queue is full or the Batcher is shut down.
func (b *Batcher[T]) Enqueue(item T) bool {
	if b.closed.Load() {
		return false
	}
	select {
	case b.queue <- item:
		return true
	default:
		return false
	}
}

// ForceFlush exports every item enqueued before the call, ignoring the batch
// interval, and returns when they have been exported or have failed. It
// returns ctx.Err() if ctx ends first (the flush still completes in the
// background). After Shutdown it returns nil at once.
func (b *Batcher[T]) ForceFlush(ctx context.Context) error {
	req := make(chan struct{})
	select {
	case b.flush <- req:
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops accepting items, exports what is queued, then stops every
// goroutine and waits for them. If ctx ends first it cancels the in-flight
// exports (the export functions' contexts end), drops what is left
// (Config.OnDrop: what is still queued at once, the batches already taken
// out of the queue as the goroutines get to them) and returns ctx.Err().
// Calling it again finishes the job: it waits, with its own ctx, for the
// goroutines to exit (which they do as soon as the export functions honour
// their cancelled contexts).
func (b *Batcher[T]) Shutdown(ctx context.Context) error {
	b.stopOnce.Do(func() {
		b.closed.Store(true)
		close(b.stop)
	})
	select {
	case <-b.done:
		return nil
	default:
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		b.aborted.Store(true)
		b.cancel()
		b.drainDropped()
		return ctx.Err()
	}
}

// drainDropped drops what is still in the queue once Shutdown gave up (or
// raced with Enqueue).
func (b *Batcher[T]) drainDropped() {
	var dropped []T
	for {
		select {
		case item := <-b.queue:
			dropped = append(dropped, item)
			continue
		default:
		}
		break
	}
	b.drop(dropped)
}

// Len reports how many items wait in the queue (not counting the batch being
// assembled or exported).
func (b *Batcher[T]) Len() int { return len(b.queue) }

func (b *Batcher[T]) dispatch() {
	pending := make([]T, 0, b.cfg.BatchSize)
	var (
		timer   *time.Timer
		timerC  <-chan time.Time
		lingerd bool // the pending batch has waited Interval
	)
	resetLinger := func() {
		if timer != nil {
			timer.Stop()
		}
		timerC, lingerd = nil, false
	}
	defer resetLinger()

	for {
		var sendC chan []T
		if len(pending) > 0 && (len(pending) >= b.cfg.BatchSize || b.cfg.Interval == 0 || lingerd) {
			sendC = b.work
		}
		var recvC chan T
		if len(pending) < b.cfg.BatchSize {
			recvC = b.queue
		}
		select {
		case item := <-recvC:
			pending = append(pending, item)
			if len(pending) == 1 && b.cfg.Interval > 0 {
				if timer == nil {
					timer = time.NewTimer(b.cfg.Interval)
				} else {
					timer.Reset(b.cfg.Interval)
				}
				timerC = timer.C
			}
		case sendC <- pending:
			b.inFlight.Add(1)
			pending = make([]T, 0, b.cfg.BatchSize)
			resetLinger()
		case <-timerC:
			timerC, lingerd = nil, true
		case req := <-b.flush:
			resetLinger()
			pending = b.barrier(pending, len(b.queue))
			close(req)
		case <-b.stop:
			resetLinger()
			b.barrier(pending, -1)
			return
		}
	}
}

// barrier hands out pending plus n queued items (all of them when n < 0),
// then waits until no export is in flight. While it runs no later item is
// handed out, so every item enqueued before the barrier is done when it
// returns.
func (b *Batcher[T]) barrier(pending []T, n int) []T {
	for n != 0 {
		var item T
		// Never block on the queue: the n items counted are there unless
		// an aborted Shutdown took (and dropped) them.
		select {
		case item = <-b.queue:
		default:
			n = 0
			continue
		}
		if n > 0 {
			n--
		}
		if len(pending) >= b.cfg.BatchSize {
			b.send(pending)
			pending = make([]T, 0, b.cfg.BatchSize)
		}
		pending = append(pending, item)
	}
	if len(pending) > 0 {
		b.send(pending)
		pending = make([]T, 0, b.cfg.BatchSize)
	}
	for b.inFlight.Load() > 0 {
		<-b.idle
	}
	return pending
}

func (b *Batcher[T]) send(batch []T) {
	if b.aborted.Load() {
		b.drop(batch)
		return
	}
	b.work <- batch
	b.inFlight.Add(1)
}

func (b *Batcher[T]) drop(items []T) {
	if len(items) > 0 && b.cfg.OnDrop != nil {
		b.cfg.OnDrop(items)
	}
}

func (b *Batcher[T]) worker() {
	for batch := range b.work {
		if b.aborted.Load() {
			b.drop(batch)
		} else {
			b.exportBatch(batch)
		}
		if b.inFlight.Add(-1) == 0 {
			select {
			case b.idle <- struct{}{}:
			default:
			}
		}
	}
}

func (b *Batcher[T]) exportBatch(batch []T) {
	ctx := b.ctx
	if b.cfg.ExportTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.ExportTimeout)
		defer cancel()
	}
	n := len(batch)
	defer func() {
		if r := recover(); r != nil && b.cfg.OnError != nil {
			b.cfg.OnError(n, fmt.Errorf("batch: export panicked: %v", r))
		}
	}()
	if err := b.export(ctx, batch); err != nil && b.cfg.OnError != nil {
		b.cfg.OnError(n, err)
	}
}
