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
	// QueueSize bounds the items waiting for a worker (default 1000).
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
	// OnError is called (from a worker) with the items of a failed or
	// panicking export.
	OnError func(failed []T, err error)
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
//
// Items wait in a FIFO under a mutex; the workers take batches from it
// themselves (there is no dispatcher goroutine in between), so an item
// handed to an idle Batcher wakes exactly one goroutine. Every item gets a
// sequence number; ForceFlush waits until every item numbered before it has
// left the Batcher (exported, failed or dropped).
type Batcher[T any] struct {
	cfg    Config[T]
	export ExportFunc[T]

	mu       sync.Mutex
	queue    []entry[T] // FIFO; queue[head:] waits
	head     int
	nextSeq  uint64         // sequence number of the next item
	inFlight map[uint64]int // first sequence number of each batch being exported → its length
	flushers []flushWaiter  // ForceFlush calls waiting
	// lingerTimer signals a worker when the oldest item of a partial batch
	// has waited Interval (armed by Enqueue, under mu).
	lingerTimer *time.Timer
	closed      bool          // Enqueue refuses; workers drain and exit
	aborted     atomic.Bool   // Shutdown's ctx ended: drop instead of export
	wake        chan struct{} // one token per worker that may have work
	quit        chan struct{} // closed by Shutdown: workers drain, then exit
	stopOnce    sync.Once
	done        chan struct{} // closed when every goroutine has exited

	ctx    context.Context // parent of export contexts
	cancel context.CancelFunc
}

type entry[T any] struct {
	item T
	seq  uint64
	at   time.Time // Interval > 0 only
}

type flushWaiter struct {
	upTo uint64 // every item with seq < upTo must have left
	done chan struct{}
}

// New starts a Batcher with cfg.Workers workers, owned by the Batcher and
// stopped by Shutdown.
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
		cfg:      cfg,
		export:   export,
		inFlight: make(map[uint64]int, cfg.Workers),
		wake:     make(chan struct{}, cfg.Workers),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
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
		workers.Wait()
		b.dropQueued() // items enqueued in a race with an aborted Shutdown
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
	b.mu.Lock()
	if b.closed || len(b.queue)-b.head >= b.cfg.QueueSize {
		b.mu.Unlock()
		return false
	}
	e := entry[T]{item: item, seq: b.nextSeq}
	b.nextSeq++
	if b.cfg.Interval > 0 {
		e.at = time.Now()
	}
	b.queue = append(b.queue, e)
	waiting := len(b.queue) - b.head
	armTimer := b.cfg.Interval > 0 && waiting == 1
	if armTimer {
		if b.lingerTimer == nil {
			b.lingerTimer = time.AfterFunc(b.cfg.Interval, b.signal)
		} else {
			b.lingerTimer.Reset(b.cfg.Interval)
		}
	}
	b.mu.Unlock()
	// Wake a worker when there is a batch for it to take. A partial batch
	// lingers: the timer armed for its first item wakes a worker when it
	// is due, and no goroutine wakes before.
	if b.cfg.Interval == 0 || waiting%b.cfg.BatchSize == 0 {
		b.signal()
	}
	return true
}

// signal gives one worker a token (never blocks: a full channel means every
// worker will look anyway).
func (b *Batcher[T]) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// ForceFlush exports every item enqueued before the call, ignoring the batch
// interval, and returns when they have been exported or have failed. It
// returns ctx.Err() if ctx ends first (the flush still completes in the
// background). After Shutdown it returns nil at once.
func (b *Batcher[T]) ForceFlush(ctx context.Context) error {
	select {
	case <-b.done:
		return nil
	default:
	}
	b.mu.Lock()
	w := flushWaiter{upTo: b.nextSeq, done: make(chan struct{})}
	if b.leftLocked(w.upTo) {
		b.mu.Unlock()
		return nil
	}
	b.flushers = append(b.flushers, w)
	waiting := len(b.queue) - b.head
	b.mu.Unlock()
	for range min(waiting, b.cfg.Workers) {
		b.signal() // a lingering partial batch goes now
	}
	select {
	case <-w.done:
		return nil
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leftLocked reports whether every item numbered before upTo has left the
// Batcher: none waits in the queue, none is being exported.
func (b *Batcher[T]) leftLocked(upTo uint64) bool {
	if b.head < len(b.queue) && b.queue[b.head].seq < upTo {
		return false
	}
	for first := range b.inFlight {
		if first < upTo {
			return false
		}
	}
	return true
}

// flushPendingLocked lingers no more once a flush waits for a queued item.
func (b *Batcher[T]) flushPendingLocked() bool {
	if len(b.flushers) == 0 || b.head >= len(b.queue) {
		return false
	}
	first := b.queue[b.head].seq
	for _, w := range b.flushers {
		if first < w.upTo {
			return true
		}
	}
	return false
}

// releaseFlushersLocked wakes the flushes whose items have all left.
func (b *Batcher[T]) releaseFlushersLocked() {
	kept := b.flushers[:0]
	for _, w := range b.flushers {
		if b.leftLocked(w.upTo) {
			close(w.done)
			continue
		}
		kept = append(kept, w)
	}
	clear(b.flushers[len(kept):])
	b.flushers = kept
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
		b.mu.Lock()
		b.closed = true
		if b.lingerTimer != nil {
			b.lingerTimer.Stop()
		}
		b.mu.Unlock()
		close(b.quit) // every worker drains what is left, then exits
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
		b.dropQueued()
		return ctx.Err()
	}
}

// dropQueued drops what is still queued (Shutdown gave up).
func (b *Batcher[T]) dropQueued() {
	b.mu.Lock()
	var dropped []T
	for _, e := range b.queue[b.head:] {
		dropped = append(dropped, e.item)
	}
	b.queue, b.head = nil, 0
	b.releaseFlushersLocked()
	b.mu.Unlock()
	b.drop(dropped)
}

// Len reports how many items wait in the queue (not counting the batches
// being exported).
func (b *Batcher[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) - b.head
}

func (b *Batcher[T]) drop(items []T) {
	if len(items) > 0 && b.cfg.OnDrop != nil {
		b.cfg.OnDrop(items)
	}
}

// worker takes batches until the Batcher is shut down and the queue is
// empty.
func (b *Batcher[T]) worker() {
	for {
		batch, first, ok := b.take()
		if !ok {
			return // shut down, queue empty
		}
		if batch == nil {
			select {
			case <-b.wake: // a batch, a due linger, or a flush
			case <-b.quit: // take what is left, then exit
			}
			continue
		}
		if b.aborted.Load() {
			b.drop(batch)
		} else {
			b.exportBatch(batch)
		}
		b.mu.Lock()
		delete(b.inFlight, first)
		b.releaseFlushersLocked()
		more := b.head < len(b.queue)
		b.mu.Unlock()
		if more {
			b.signal() // another worker may share the rest
		}
	}
}

// take removes the next batch from the queue. It returns the batch and its
// first sequence number, or a nil batch when there is nothing to take yet
// (empty, or a partial batch that still lingers: the linger timer is
// re-armed for what remains of its wait), or ok false when the Batcher is
// shut down and empty.
func (b *Batcher[T]) take() (batch []T, first uint64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.queue) - b.head
	if n == 0 {
		if b.closed {
			return nil, 0, false
		}
		b.queue, b.head = b.queue[:0], 0
		return nil, 0, true
	}
	if b.cfg.Interval > 0 && n < b.cfg.BatchSize && !b.closed && !b.flushPendingLocked() {
		if age := time.Since(b.queue[b.head].at); age < b.cfg.Interval {
			b.lingerTimer.Reset(b.cfg.Interval - age)
			return nil, 0, true
		}
	}
	n = min(n, b.cfg.BatchSize)
	first = b.queue[b.head].seq
	batch = make([]T, n)
	for i := range n {
		batch[i] = b.queue[b.head+i].item
		b.queue[b.head+i] = entry[T]{}
	}
	b.head += n
	if b.head == len(b.queue) {
		b.queue, b.head = b.queue[:0], 0
		if b.lingerTimer != nil {
			// Nothing lingers now: a timer left armed would wake a worker
			// for nothing when it fires.
			b.lingerTimer.Stop()
		}
	} else {
		if b.cfg.Interval > 0 {
			// The rest lingers from its own first item's arrival.
			b.lingerTimer.Reset(max(0, b.cfg.Interval-time.Since(b.queue[b.head].at)))
		}
		if b.head > 1024 && b.head*2 > len(b.queue) {
			b.queue = append(b.queue[:0], b.queue[b.head:]...)
			b.head = 0
		}
	}
	b.inFlight[first] = n
	return batch, first, true
}

func (b *Batcher[T]) exportBatch(batch []T) {
	ctx := b.ctx
	if b.cfg.ExportTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.cfg.ExportTimeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil && b.cfg.OnError != nil {
			b.cfg.OnError(batch, fmt.Errorf("batch: export panicked: %v", r))
		}
	}()
	if err := b.export(ctx, batch); err != nil && b.cfg.OnError != nil {
		b.cfg.OnError(batch, err)
	}
}
