package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestConcurrentStress drives one spool from several goroutines at once
// (Append, Claim, Ack, Release, Mark, MarkProgress, DeadLetter, Sync,
// Stats, Adopt, Check) with segments small enough to rotate every few
// records, while other spools on the same directory come and go (Adopt),
// then closes it, reopens it and checks that every record appended and not
// acknowledged comes back exactly once, with its marks, and no other. The
// last round closes the spool while the goroutines still run. Seeded from
// the clock (logged); -short skips it.
func TestConcurrentStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	defer goleak.VerifyNone(t)
	// Pauses in the file work done without the lock widen the windows
	// where other goroutines change the index meanwhile.
	jitter := func(string) {
		if rand.IntN(4) == 0 {
			time.Sleep(rand.N(500 * time.Microsecond))
		}
	}
	testHookCreateSegment, testHookSync, testHookRemoveSegment = jitter, jitter, jitter
	testHookReadSegment = func() { jitter("") }
	defer func() {
		testHookCreateSegment, testHookSync, testHookRemoveSegment, testHookReadSegment = nil, nil, nil, nil
	}()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for _, sync := range []Sync{SyncBatch, SyncInterval, SyncNone} {
		t.Run(sync.String(), func(t *testing.T) {
			st := &stress{t: t, dir: t.TempDir(), opts: Options{Sync: sync, MaxBytes: 1 << 20, SegmentBytes: 64 << 10},
				recs: map[string]*stressRec{}, dead: map[string]bool{}, removed: map[string]bool{}}
			st.run(rand.New(rand.NewPCG(seed, uint64(sync))))
		})
	}
}

type stressRec struct {
	pending   bool // appended, not acknowledged (certainly)
	maybeAck  bool // acknowledged while the spool was closing: it may come back
	held      bool // live or claimed by a worker
	marked    bool
	maybeMark bool   // marked while the spool was closing
	progress  uint32 // highest MarkProgress count certainly recorded
	maxProg   uint32 // highest MarkProgress count, recorded or not (closing)
}

type stress struct {
	t    *testing.T
	dir  string
	opts Options

	mu      sync.Mutex
	recs    map[string]*stressRec // by record id
	dead    map[string]bool       // dead letters certainly written, by name
	removed map[string]bool       // dead letters certainly removed
	nextID  atomic.Int64
	closing atomic.Bool
}

// stressData is the payload of record id: the id, then filler derived from
// it, 1–6 KB.
func stressData(id string, r *rand.Rand) []byte {
	n := 1000 + r.IntN(5000)
	b := make([]byte, 0, n)
	b = append(b, id...)
	b = append(b, ':')
	for len(b) < n {
		b = append(b, id[len(id)-1-len(b)%len(id)/2])
	}
	return b
}

// batch makes n records with new ids that start with prefix.
func (st *stress) batch(prefix string, n int, r *rand.Rand) (ids []string, recs [][]byte) {
	ids, recs = make([]string, n), make([][]byte, n)
	for i := range recs {
		ids[i] = fmt.Sprintf("%s%07d", prefix, st.nextID.Add(1))
		recs[i] = stressData(ids[i], r)
	}
	return ids, recs
}

// stressID returns the id in data, and whether the rest of data is what
// stressData made for it.
func stressID(data []byte) (string, bool) {
	id, rest, ok := strings.Cut(string(data), ":")
	if !ok {
		return "", false
	}
	for i := range len(rest) {
		pos := len(id) + 1 + i
		if rest[i] != id[len(id)-1-pos%len(id)/2] {
			return id, false
		}
	}
	return id, true
}

func (st *stress) run(r *rand.Rand) {
	t := st.t
	rounds := 4
	for round := range rounds {
		s := open(t, st.dir, st.opts)
		st.closing.Store(false)
		st.checkReplay(s, round)
		race := round == rounds-1
		st.round(s, r, race)
	}
	// The last check: everything acknowledged, nothing left.
	s := open(t, st.dir, st.opts)
	st.closing.Store(false)
	st.checkReplay(s, rounds)
	for _, rec := range claimAll(s) {
		s.Ack(rec.Ref)
	}
	for {
		ds := s.ClaimDead(time.Now(), 5)
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			s.RemoveDead(d.Name)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var left []string
	_ = filepath.WalkDir(st.dir, func(p string, d fs.DirEntry, err error) error {
		if p != st.dir {
			left = append(left, strings.TrimPrefix(p, st.dir))
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("a spool closed with everything delivered left %v", left)
	}
}

// checkReplay claims every record of a spool just opened and compares
// them with the model: each record not acknowledged exactly once, none
// acknowledged, marks and progress as recorded; then releases them for
// the round, and the same for the dead letters.
func (st *stress) checkReplay(s *Spool, round int) {
	t := st.t
	got := map[string]Record{}
	for _, rec := range claimAll(s) {
		id, ok := stressID(rec.Data)
		if !ok {
			t.Fatalf("round %d: replayed a record whose data is damaged: %.60q", round, rec.Data)
		}
		if _, dup := got[id]; dup {
			t.Fatalf("round %d: record %s replayed twice", round, id)
		}
		got[id] = rec
	}
	st.mu.Lock()
	for id, m := range st.recs {
		rec, ok := got[id]
		switch {
		case m.pending && !ok:
			t.Errorf("round %d: record %s, appended and not acknowledged, is lost", round, id)
		case !m.pending && !m.maybeAck && ok:
			t.Errorf("round %d: record %s, acknowledged, is replayed", round, id)
		}
		if ok {
			if rec.Marked != m.marked && !(rec.Marked && m.maybeMark) {
				t.Errorf("round %d: record %s replayed with Marked %v, want %v", round, id, rec.Marked, m.marked)
			}
			if p := uint32(rec.Progress); p < m.progress || p > m.maxProg {
				t.Errorf("round %d: record %s replayed with Progress %d, want %d..%d", round, id, p, m.progress, m.maxProg)
			}
			m.pending, m.marked, m.progress, m.maxProg = true, rec.Marked, uint32(rec.Progress), uint32(rec.Progress)
		} else {
			m.pending = false
		}
		m.maybeAck, m.maybeMark, m.held = false, false, false
	}
	for id := range got {
		if st.recs[id] == nil {
			t.Errorf("round %d: replayed record %s was never appended", round, id)
		}
	}
	gotDead := map[string]bool{}
	for {
		ds := s.ClaimDead(time.Now(), 5)
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			gotDead[d.Name] = true
			if id, ok := stressID(d.Data); !ok || "d-"+id != d.Name {
				t.Errorf("round %d: dead letter %s holds damaged data", round, d.Name)
			}
		}
	}
	for n := range st.dead {
		if !gotDead[n] {
			t.Errorf("round %d: dead letter %s is lost", round, n)
		}
	}
	for n := range gotDead {
		if st.removed[n] {
			t.Errorf("round %d: dead letter %s, removed, is back", round, n)
		}
		st.dead[n] = true // also one written while closing
	}
	st.mu.Unlock()
	if t.Failed() {
		t.FailNow()
	}
	for _, rec := range got {
		s.Release(rec.Ref)
	}
	for n := range gotDead {
		s.RetryDeadLater(time.Time{}, n)
	}
	if bl := s.Backlog(); bl != len(got) {
		t.Fatalf("round %d: backlog %d after releasing %d records", round, bl, len(got))
	}
}

type heldRef struct {
	ref Ref
	id  string
}

// round runs the workers on s for a while, then closes s: after they stop
// (and the Stats are checked), or while they run when race.
func (st *stress) round(s *Spool, r *rand.Rand, race bool) {
	t := st.t
	const workers = 6
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wr := rand.New(rand.NewPCG(r.Uint64(), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.worker(s, wr, stop)
		}()
	}
	nr := rand.New(rand.NewPCG(r.Uint64(), 99))
	wg.Add(1)
	go func() {
		defer wg.Done()
		st.neighbour(nr, stop)
	}()
	time.Sleep(time.Duration(150+r.IntN(150)) * time.Millisecond)
	if race {
		st.closing.Store(true)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		close(stop)
		wg.Wait()
		return
	}
	close(stop)
	wg.Wait()
	s.Adopt() // the neighbours' slots
	st.checkStats(s)
	st.closing.Store(true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkStats compares Stats with the model and the files, the spool idle
// and holding every slot.
func (st *stress) checkStats(s *Spool) {
	t := st.t
	ss := s.Stats()
	st.mu.Lock()
	pending := 0
	for _, m := range st.recs {
		if m.pending {
			pending++
		}
	}
	dead := len(st.dead)
	st.mu.Unlock()
	if ss.Records != pending || ss.DeadLetters != dead {
		t.Errorf("Stats: %d records, %d dead letters; the model has %d, %d", ss.Records, ss.DeadLetters, pending, dead)
	}
	var onDisk int64
	_ = filepath.WalkDir(st.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, segSuffix) || strings.HasSuffix(p, deadSuffix)) {
			if info, err := d.Info(); err == nil {
				onDisk += info.Size()
			}
		}
		return nil
	})
	if ss.Bytes != onDisk {
		t.Errorf("Stats: %d bytes; the segment files and dead letters hold %d", ss.Bytes, onDisk)
	}
	// Segments are read back in name order: the own slot's are numbered
	// in the order they became active, the spare after them.
	s.mu.Lock()
	segs := s.own.next
	var order []string
	for _, seg := range s.own.segs {
		order = append(order, filepath.Base(seg.path))
	}
	if s.spare != nil {
		order = append(order, filepath.Base(s.spare.path))
	}
	s.mu.Unlock()
	if !slices.IsSorted(order) {
		t.Errorf("the own slot's segments, in the order they became active (the spare last), are not in name order: %v", order)
	}
	t.Logf("idle: %d records appended so far, %d pending, %d dead letters, %d bytes, segment numbers up to %d",
		st.nextID.Load(), pending, dead, ss.Bytes, segs)
	if ss.Skipped != 0 {
		t.Errorf("Stats: %d records skipped, want none", ss.Skipped)
	}
}

// worker calls the spool's methods at random until stop, on the records it
// appended or claimed.
func (st *stress) worker(s *Spool, r *rand.Rand, stop <-chan struct{}) {
	t := st.t
	var held []heldRef
	take := func() (heldRef, bool) {
		if len(held) == 0 {
			return heldRef{}, false
		}
		i := r.IntN(len(held))
		h := held[i]
		held[i] = held[len(held)-1]
		held = held[:len(held)-1]
		return h, true
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		switch op := r.IntN(25); {
		case op < 5: // Append
			ids, recs := st.batch("r", 1+r.IntN(3), r)
			refs, err := s.Append(recs)
			if err != nil && !errors.Is(err, ErrFull) && !st.closing.Load() {
				t.Errorf("Append: %v", err)
			}
			st.mu.Lock()
			for i, ref := range refs {
				if ref != 0 {
					st.recs[ids[i]] = &stressRec{pending: true, held: true}
					held = append(held, heldRef{ref, ids[i]})
				}
			}
			st.mu.Unlock()
		case op < 10: // Ack
			h, ok := take()
			if !ok {
				continue
			}
			s.Ack(h.ref)
			st.acked(h.id)
		case op < 12: // Release
			h, ok := take()
			if !ok {
				continue
			}
			st.mu.Lock()
			st.recs[h.id].held = false
			st.mu.Unlock()
			s.Release(h.ref)
		case op < 15: // Claim
			for _, rec := range s.Claim(1 + r.IntN(4)) {
				id, ok := stressID(rec.Data)
				if !ok {
					t.Errorf("Claim: damaged data %.60q", rec.Data)
					continue
				}
				st.mu.Lock()
				m := st.recs[id]
				switch {
				case m == nil:
					t.Errorf("Claim: record %s was never appended (in this process's view)", id)
				case m.held:
					t.Errorf("Claim: record %s is held by a worker already", id)
				case !m.pending && !m.maybeAck:
					t.Errorf("Claim: record %s is acknowledged", id)
				default:
					m.held = true
					if rec.Marked != m.marked && !m.maybeMark || uint32(rec.Progress) != m.progress && !st.closing.Load() {
						t.Errorf("Claim: record %s has Marked %v, Progress %d; want %v, %d", id, rec.Marked, rec.Progress, m.marked, m.progress)
					}
				}
				st.mu.Unlock()
				held = append(held, heldRef{rec.Ref, id})
			}
		case op < 16: // Mark
			if len(held) == 0 {
				continue
			}
			h := held[r.IntN(len(held))]
			closing := st.closing.Load()
			s.Mark(h.ref)
			st.mu.Lock()
			if m := st.recs[h.id]; closing || st.closing.Load() {
				m.maybeMark = true
			} else {
				m.marked = true
			}
			st.mu.Unlock()
		case op < 18: // MarkProgress
			if len(held) == 0 {
				continue
			}
			h := held[r.IntN(len(held))]
			n := r.IntN(2000) - 10
			closing := st.closing.Load()
			s.MarkProgress(h.ref, n)
			if n > 0 {
				st.mu.Lock()
				m := st.recs[h.id]
				m.maxProg = max(m.maxProg, uint32(n))
				if !closing && !st.closing.Load() {
					m.progress = max(m.progress, uint32(n))
				}
				st.mu.Unlock()
			}
		case op < 19: // DeadLetter
			h, ok := take()
			if !ok {
				continue
			}
			// In the model first: another worker can claim it and remove
			// it as soon as DeadLetter noted it.
			name := "d-" + h.id
			st.mu.Lock()
			st.dead[name] = true
			st.mu.Unlock()
			err := s.DeadLetter(h.ref, name, stressData(h.id, r), time.Now().Add(time.Hour))
			if err != nil {
				if !st.closing.Load() {
					t.Errorf("DeadLetter: %v", err)
				}
				st.mu.Lock()
				delete(st.dead, name)
				st.recs[h.id].held = false // stays in its segment
				st.mu.Unlock()
				continue
			}
			st.acked(h.id)
		case op < 20:
			if err := s.Sync(); err != nil {
				t.Errorf("Sync: %v", err)
			}
		case op < 21:
			if ss := s.Stats(); ss.Bytes < 0 || ss.Records < 0 || ss.Backlog > ss.Records {
				t.Errorf("Stats: %+v", ss)
			}
		case op < 22:
			s.Adopt()
		case op < 23:
			if recreated, err := s.Check(); recreated || err != nil {
				t.Errorf("Check: %v, %v on a directory that did not vanish", recreated, err)
			}
		case op < 24: // a dead letter's retry
			for _, d := range s.ClaimDead(time.Now().Add(2*time.Hour), 1+r.IntN(3)) {
				if r.IntN(4) == 0 {
					s.RetryDeadLater(time.Now().Add(time.Hour), d.Name)
					continue
				}
				// Removed from the model first: with the spool closing, it
				// may be removed or not.
				closing := st.closing.Load()
				st.mu.Lock()
				delete(st.dead, d.Name)
				st.mu.Unlock()
				s.RemoveDead(d.Name)
				if !closing && !st.closing.Load() {
					st.mu.Lock()
					st.removed[d.Name] = true
					st.mu.Unlock()
				}
			}
		default:
			_ = s.Backlog()
			_ = s.Dir()
		}
	}
}

// acked notes that the record id was acknowledged: certainly when the spool
// was not closing meanwhile.
func (st *stress) acked(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.recs[id]
	m.held = false
	if st.closing.Load() {
		m.maybeAck = m.pending || m.maybeAck
	}
	m.pending = false
}

// neighbour opens other spools on the same directory (other processes),
// appends to them and closes them, leaving records for Adopt.
func (st *stress) neighbour(r *rand.Rand, stop <-chan struct{}) {
	t := st.t
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(10+r.IntN(40)) * time.Millisecond):
		}
		o, err := Open(st.dir, st.opts)
		if err != nil {
			t.Errorf("neighbour: %v", err)
			return
		}
		ids, recs := st.batch("n", r.IntN(4), r)
		refs, err := o.Append(recs)
		if err != nil && !errors.Is(err, ErrFull) {
			t.Errorf("neighbour: Append: %v", err)
		}
		st.mu.Lock()
		for i, ref := range refs {
			if ref != 0 {
				st.recs[ids[i]] = &stressRec{pending: true}
			}
		}
		st.mu.Unlock()
		// Half of them delivered before the neighbour goes.
		for i, ref := range refs {
			if ref != 0 && r.IntN(2) == 0 {
				o.Ack(ref)
				st.mu.Lock()
				st.recs[ids[i]].pending = false
				st.mu.Unlock()
			}
		}
		if err := o.Close(); err != nil {
			t.Errorf("neighbour: Close: %v", err)
		}
	}
}
