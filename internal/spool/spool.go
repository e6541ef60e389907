package spool

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sync is when appended records are flushed to stable storage.
type Sync int

const (
	// SyncBatch fsyncs after every Append, before it returns: an accepted
	// record survives a power loss.
	SyncBatch Sync = iota
	// SyncInterval leaves fsync to Spool.Sync, which the owner calls on a
	// timer: a power loss or kernel crash loses at most that interval; a
	// crash of the process loses nothing (the data is in the page cache).
	SyncInterval
	// SyncNone never fsyncs (but at Close): the operating system writes the
	// data back in its own time (about 30 s on Linux). A crash of the
	// process loses nothing.
	SyncNone
)

// String returns the policy's name as MLFLOWTRACE_SPOOL_SYNC spells it.
func (s Sync) String() string {
	switch s {
	case SyncInterval:
		return "interval"
	case SyncNone:
		return "none"
	}
	return "batch"
}

// Options configure a Spool. Zero values mean defaults.
type Options struct {
	// MaxBytes bounds the spool: segment files and dead letters. An Append
	// that would pass it is refused (ErrFull). Default 256 MiB. DeadLetter
	// is not refused: until the segment of the record it moves can be
	// deleted, the record counts twice, so the spool can pass the bound by
	// a segment or two for a while.
	MaxBytes int64
	// Sync is the fsync policy.
	Sync Sync
	// SegmentBytes is the size at which a new segment file is started
	// (default MaxBytes/16, at most 8 MiB, at least 64 KiB). A segment is
	// deleted when every record in it is acknowledged.
	SegmentBytes int64
	// MaxSlots bounds the processes that can share the directory (each
	// owns a slot subdirectory); default 64.
	MaxSlots int
}

// DefaultMaxBytes is the default size limit.
const DefaultMaxBytes = 256 << 20

const (
	slotPrefix  = "slot-"
	lockName    = "LOCK"
	segSuffix   = ".seg"
	deadDirName = "dead"
	deadSuffix  = ".json"
	tmpPrefix   = ".tmp-"
)

var (
	// ErrFull is returned for records refused because the spool is full.
	ErrFull = errors.New("spool: full")
	// errLocked: another process holds the lock.
	errLocked = errors.New("spool: locked by another process")
)

// Ref names an appended record; 0 names none.
type Ref uint64

// Record is a record read back for delivery.
type Record struct {
	Ref  Ref
	Data []byte
	// Marked: Mark was called on the record (by this process or the one
	// that wrote it).
	Marked bool
	// Progress is the highest count MarkProgress recorded for the record
	// (by this process or the one that wrote it); 0 when none.
	Progress int
}

// DeadLetter is a dead letter read back for a retry.
type DeadLetter struct {
	Name string
	Data []byte
}

// Stats describe a spool now.
type Stats struct {
	// Dir is the slot directory this process owns.
	Dir string
	// Bytes on disk: segments (acknowledged records included until their
	// segment is deleted) and dead letters.
	Bytes int64
	// Records not yet acknowledged (in memory with the exporter, waiting in
	// the backlog, or being replayed).
	Records int
	// Backlog counts the records waiting for the replay.
	Backlog int
	// DeadLetters counts the traces in the dead-letter directory.
	DeadLetters int
	// Skipped counts damaged records skipped since Open (torn tails, bad
	// checksums, unreadable records).
	Skipped int64
}

// Spool is a directory of CRC-framed segment files holding records until
// they are acknowledged, plus a dead-letter directory. It is safe for
// concurrent use. It starts no goroutine.
type Spool struct {
	root string
	opts Options
	own  *slot

	mu      sync.Mutex
	slots   []*slot // own first, then adopted ones
	active  *segment
	spare   *segment // the next segment, created ahead without the lock (prepareSpare)
	nextRef Ref
	entries map[Ref]*entry
	backlog []Ref // FIFO of records to replay (entries whose state is backlog)
	bytes   int64
	skipped int64
	dead    map[string]*deadEntry
	closed  bool
	retired []retiredFile // taken out of the index, to close and remove after Unlock

	retireMu sync.Mutex // serialises removeRetired: files go in the order they were retired
	spareMu  sync.Mutex // held while the spare segment is created; Close waits for it
	adoptMu  sync.Mutex // serialises Adopt
}

type state uint8

const (
	stateLive    state = iota // handed to the exporter's memory path
	stateBacklog              // waiting for Claim
	stateClaimed              // being replayed
)

type entry struct {
	seg    *segment
	off    int64
	size   int64 // frame size
	state  state
	marked bool
	// progress is the highest MarkProgress count.
	progress uint32
}

type deadEntry struct {
	size    int64
	retryAt time.Time
	claimed bool
}

type slot struct {
	dir  string
	lock *os.File
	segs []*segment
	next int // number of the next segment file
	own  bool
}

type segment struct {
	slot  *slot
	path  string
	f     *os.File // nil once the segment is retired (or the spool closed)
	size  int64    // bytes written (what the file holds, damaged tails included)
	live  int      // records not yet acknowledged
	dirty bool     // written since the last fsync

	syncMu sync.Mutex // serialises the segment's fsyncs (group commit)
	synced int64      // under syncMu
}

// retiredFile is a file taken out of the index under the spool's lock, to
// be closed (and removed) after it by removeRetired: no unlink or close
// runs while Spool.mu is held.
type retiredFile struct {
	f *os.File // closed last: a segment, or a slot's lock
	// segPath, when set, is the segment file f to remove, if the path
	// still names f (removeOwn).
	segPath string
	// deadPath, when set, is a delivered dead letter to remove (f is nil).
	deadPath string
	// slotDir, when set, is the emptied slot whose lock f is: it is
	// removed (removeSlot) before the lock is released.
	slotDir string
}

// Open opens the spool in root (created when missing). It takes the first
// slot subdirectory (slot-0, slot-1, …) no other process holds, reads the
// records a previous owner left there (they go to the backlog, as do
// those of every slot no process holds any more: Adopt), and starts a new
// segment. It fails when root cannot be written or every slot is taken.
func Open(root string, opts Options) (*Spool, error) {
	if root == "" {
		return nil, errors.New("spool: empty directory")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = min(opts.MaxBytes/16, 8<<20)
	}
	opts.SegmentBytes = max(opts.SegmentBytes, 64<<10)
	if opts.MaxSlots <= 0 {
		opts.MaxSlots = 64
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{root: abs, opts: opts, entries: map[Ref]*entry{}, dead: map[string]*deadEntry{}}
	for i := range opts.MaxSlots {
		dir := filepath.Join(abs, slotPrefix+strconv.Itoa(i))
		sl, err := takeSlot(dir, true)
		if errors.Is(err, errLocked) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		s.own = sl
		s.slots = []*slot{sl}
		break
	}
	if s.own == nil {
		return nil, fmt.Errorf("spool: all %d slots of %s are held by other processes", opts.MaxSlots, abs)
	}
	if opts.Sync != SyncNone {
		// A new directory survives a power loss once its parent is
		// fsynced: the root's (MkdirAll may have made it), the root (the
		// slot) and the slot (its dead-letter directory).
		syncDir(filepath.Dir(abs))
		syncDir(abs)
		syncDir(s.own.dir)
	}
	if err := s.openOwn(); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s.prepareSpare()
	s.Adopt()
	return s, nil
}

// openOwn indexes what a previous owner left in the own slot and starts
// the active segment.
func (s *Spool) openOwn() error {
	s.mu.Lock()
	defer s.unlock()
	if err := s.loadSlotLocked(s.own); err != nil {
		s.own.lock.Close()
		return err
	}
	if err := s.startSegmentLocked(); err != nil {
		s.closeLocked()
		return err
	}
	return nil
}

// takeSlot creates dir and locks it.
func takeSlot(dir string, own bool) (*slot, error) {
	for try := 0; ; try++ {
		err := os.MkdirAll(filepath.Join(dir, deadDirName), 0o755)
		var f *os.File
		if err == nil {
			f, err = lockFile(filepath.Join(dir, lockName))
		}
		if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist)) && try < 100 {
			// The last owner of an emptied slot removed it meanwhile
			// (Close, releaseSlotLocked; MkdirAll says "exists" when it
			// goes between its mkdir and its check): make it again.
			continue
		}
		if err != nil {
			return nil, err
		}
		return &slot{dir: dir, lock: f, own: own}, nil
	}
}

// Dir returns the slot directory this process owns (Check may move it).
func (s *Spool) Dir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.own.dir
}

// Root returns the spool's directory.
func (s *Spool) Root() string { return s.root }

// slotFiles is what readSlot found in a slot's files, ready to join the
// index (indexSlotLocked).
type slotFiles struct {
	segs    []segmentFile
	dead    []deadFile
	skipped int64
}

type segmentFile struct {
	seg   *segment // its file open
	fresh []*entry // the records not acknowledged
}

type deadFile struct {
	name string // without deadSuffix
	size int64
}

// readSlot reads the segments and dead letters of sl, a slot this process
// has just locked and not yet indexed, without the spool's lock: adopting
// a large slot does not hold up Append, Claim or Stats. A dead letter of
// another slot is moved into ownDead. Segments with nothing left to deliver
// are removed.
func readSlot(sl *slot, ownDead string) (slotFiles, error) {
	var sf slotFiles
	ents, err := os.ReadDir(sl.dir)
	if err != nil {
		return sf, err
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segSuffix) {
			names = append(names, e.Name())
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(sl.dir, e.Name()))
		}
	}
	sort.Strings(names)
	for _, name := range names {
		n, _ := strconv.Atoi(strings.TrimSuffix(name, segSuffix))
		sl.next = max(sl.next, n+1)
		// A segment that cannot be read now (an I/O error, too many open
		// files) stays on disk, unindexed, for the slot's next owner; the
		// others are delivered.
		sg, skipped, err := readSegment(sl, filepath.Join(sl.dir, name))
		sf.skipped += skipped
		if err == nil && sg.seg != nil {
			sf.segs = append(sf.segs, sg)
		}
	}
	sf.dead, err = readDead(sl, ownDead)
	return sf, err
}

// testHookReadSegment, when set, runs before each segment file is read.
var testHookReadSegment func()

// readSegment reads one segment file: its records not acknowledged, and
// the file open for the acknowledgements to come (seg nil when nothing is
// left: the file is removed).
func readSegment(sl *slot, path string) (segmentFile, int64, error) {
	if testHookReadSegment != nil {
		testHookReadSegment()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return segmentFile{}, 0, nil
		}
		return segmentFile{}, 0, err
	}
	r := scanFrames(b)
	acked, marked := map[int64]bool{}, map[int64]bool{}
	progress := map[int64]uint32{}
	for _, f := range r.frames {
		switch f.kind {
		case kindAck:
			for _, o := range ackOffsets(f.payload) {
				acked[o] = true
			}
		case kindMark:
			for _, o := range ackOffsets(f.payload) {
				marked[o] = true
			}
		case kindProgress:
			progressCounts(f.payload, progress)
		}
	}
	seg := &segment{slot: sl, path: path, size: int64(len(b)), synced: int64(len(b))}
	var fresh []*entry
	for _, f := range r.frames {
		if f.kind != kindTrace || acked[f.off] {
			continue
		}
		fresh = append(fresh, &entry{seg: seg, off: f.off, size: frameSize(len(f.payload)), state: stateBacklog, marked: marked[f.off], progress: progress[f.off]})
	}
	if len(fresh) == 0 {
		return segmentFile{}, int64(r.skipped), os.Remove(path) // everything in it was delivered
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return segmentFile{}, 0, err
	}
	seg.f, seg.live = f, len(fresh)
	return segmentFile{seg: seg, fresh: fresh}, int64(r.skipped), nil
}

// readDead lists sl's dead letters, moving them into ownDead when sl is
// not the own slot.
func readDead(sl *slot, ownDead string) ([]deadFile, error) {
	dir := filepath.Join(sl.dir, deadDirName)
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var dead []deadFile
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, deadSuffix) || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if dir != ownDead {
			// An adopted slot's dead letter becomes ours.
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(ownDead, name)); err != nil {
				continue
			}
		}
		dead = append(dead, deadFile{name: strings.TrimSuffix(name, deadSuffix), size: info.Size()})
	}
	return dead, nil
}

// indexSlotLocked adds what readSlot found in sl to the index: its
// records to the backlog, its dead letters due at once.
func (s *Spool) indexSlotLocked(sl *slot, sf slotFiles) {
	s.skipped += sf.skipped
	for _, sg := range sf.segs {
		for _, e := range sg.fresh {
			s.nextRef++
			s.entries[s.nextRef] = e
			s.backlog = append(s.backlog, s.nextRef)
		}
		sl.segs = append(sl.segs, sg.seg)
		s.bytes += sg.seg.size
	}
	for _, d := range sf.dead {
		if old := s.dead[d.name]; old != nil {
			s.bytes -= old.size
		}
		s.dead[d.name] = &deadEntry{size: d.size} // due at once
		s.bytes += d.size
	}
}

// loadSlotLocked reads sl and indexes it, holding the lock (at Open, before
// anyone else can use the spool, and when Check retakes the own slot).
func (s *Spool) loadSlotLocked(sl *slot) error {
	sf, err := readSlot(sl, filepath.Join(s.own.dir, deadDirName))
	s.indexSlotLocked(sl, sf)
	return err
}

// startSegmentLocked starts a new active segment in the own slot: the
// spare segment when there is one, a new file otherwise.
func (s *Spool) startSegmentLocked() error {
	sl := s.own
	seg := s.spare
	s.spare = nil
	if seg == nil {
		var err error
		if seg, err = s.createSegment(sl, sl.dir, sl.next); err != nil {
			return err
		}
		sl.next++
	}
	sl.segs = append(sl.segs, seg)
	s.active = seg
	return nil
}

// testHookCreateSegment, when set, runs before a segment file is created.
var testHookCreateSegment func(path string)

// createSegment creates the empty segment file number n of sl in dir, and
// under SyncBatch fsyncs dir, so that the file survives a power loss with
// the records to come.
func (s *Spool) createSegment(sl *slot, dir string, n int) (*segment, error) {
	path := filepath.Join(dir, fmt.Sprintf("%016d%s", n, segSuffix))
	if testHookCreateSegment != nil {
		testHookCreateSegment(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if s.opts.Sync == SyncBatch {
		syncDir(dir)
	}
	return &segment{slot: sl, path: path, f: f}, nil
}

// prepareSpare creates the segment the next rotation starts, without the
// spool's lock (at Open, and after an Append whose rotation took the
// spare). When it is not ready in time (its creation failed, or is under
// way), the rotation creates its segment under the lock. An empty spare
// left by a killed process is removed by the next owner of the slot, as
// any segment with nothing to deliver.
func (s *Spool) prepareSpare() {
	if !s.spareMu.TryLock() {
		return // under way
	}
	defer s.spareMu.Unlock()
	s.mu.Lock()
	if s.closed || s.spare != nil {
		s.mu.Unlock()
		return
	}
	sl := s.own
	dir, n := sl.dir, sl.next
	sl.next++
	s.mu.Unlock()
	seg, err := s.createSegment(sl, dir, n)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.unlock()
	if s.closed || sl.dir != dir || sl.next != n+1 {
		// Closed, or the slot changed (Check), or a rotation created a
		// later segment meanwhile: this one is not the next any more.
		s.retired = append(s.retired, retiredFile{f: seg.f, segPath: seg.path})
		return
	}
	s.spare = seg
}

// retireSpareLocked takes the spare segment out: its file is removed after
// the lock.
func (s *Spool) retireSpareLocked() {
	if s.spare != nil {
		s.retired = append(s.retired, retiredFile{f: s.spare.f, segPath: s.spare.path})
		s.spare = nil
	}
}

// syncDir fsyncs a directory, so that a file created in it survives a
// power loss (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Append writes records and returns their refs, in order; a record that was
// not written has ref 0, and err says why (ErrFull when the spool reached
// MaxBytes; an I/O error otherwise). With SyncBatch it returns after the
// fsync. Written records are live: Ack, Release or DeadLetter each one.
func (s *Spool) Append(records [][]byte) ([]Ref, error) {
	refs := make([]Ref, len(records))
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return refs, errors.New("spool: closed")
	}
	total := int64(0)
	for _, r := range records {
		total += frameSize(len(r))
	}
	if s.bytes+total > s.opts.MaxBytes && s.active.live == 0 && s.active.size > 0 {
		// The active segment holds only acknowledged records: make room.
		// (It is retired, so there is nothing to fsync.)
		_, _ = s.rotateLocked()
	}
	// rotated are the segments this Append ended, to fsync after Unlock.
	type rotatedSegment struct {
		seg  *segment
		end  int64
		ours bool // holds records of this Append
	}
	var (
		buf     []byte
		offs    []int64
		idx     []int
		full    bool
		seg     = s.active
		start   = seg.size
		wrote   bool // records of this Append are in seg
		rotated []rotatedSegment
		wErr    error
	)
	flush := func() {
		if len(buf) == 0 || wErr != nil {
			return
		}
		n, err := seg.f.Write(buf)
		if err != nil && n > 0 && seg.f.Truncate(seg.size) == nil {
			// None of buf is indexed (its records are refused): take its
			// frames off the disk too, or the next process would deliver
			// the complete ones a second time.
			n = 0
		}
		seg.size += int64(n)
		s.bytes += int64(n)
		seg.dirty = true
		if err != nil {
			wErr = err
			return
		}
		for k, i := range idx {
			s.nextRef++
			s.entries[s.nextRef] = &entry{seg: seg, off: offs[k], size: frameSize(len(records[i])), state: stateLive}
			refs[i] = s.nextRef
			seg.live++
			wrote = true
		}
		buf, offs, idx = buf[:0], offs[:0], idx[:0]
	}
	for i, r := range records {
		size := frameSize(len(r))
		if len(r) > maxRecord || s.bytes+int64(len(buf))+size > s.opts.MaxBytes {
			full = true
			continue
		}
		if start+int64(len(buf)) > 0 && start+int64(len(buf))+size > s.opts.SegmentBytes {
			flush()
			if wErr != nil {
				break
			}
			unsynced, err := s.rotateLocked()
			if unsynced != nil {
				rotated = append(rotated, rotatedSegment{seg: unsynced, end: unsynced.size, ours: wrote})
			}
			if err != nil {
				wErr = err
				break
			}
			seg, start, wrote = s.active, 0, false
		}
		offs = append(offs, start+int64(len(buf)))
		idx = append(idx, i)
		buf = appendFrame(buf, kindTrace, r)
	}
	flush()
	end := seg.size
	retired := len(s.retired) > 0
	noSpare := s.spare == nil
	s.mu.Unlock()
	// The fsyncs run without the spool's lock. A rotated segment is
	// fsynced before Append returns (unless SyncNone); under SyncBatch an
	// error there fails the Append when it holds some of its records.
	var syncErr error
	for _, r := range rotated {
		if err := s.syncTo(r.seg, r.end); r.ours && s.opts.Sync == SyncBatch {
			syncErr = cmp.Or(syncErr, err)
		}
	}
	if wErr == nil && s.opts.Sync == SyncBatch {
		syncErr = cmp.Or(syncErr, s.syncTo(seg, end))
		if syncErr != nil {
			// Not durable: the records stay (a crash of the process keeps
			// them in the page cache) but the caller learns the error.
			wErr = fmt.Errorf("spool: fsync: %w", syncErr)
		}
	} else if wErr != nil {
		wErr = fmt.Errorf("spool: write: %w", wErr)
	}
	if retired {
		s.removeRetired()
	}
	if noSpare {
		s.prepareSpare()
	}
	if wErr == nil && full {
		wErr = ErrFull
	}
	return refs, wErr
}

// rotateLocked ends the active segment and starts a new one. It returns
// the old segment when it holds records written since its last fsync
// (unless SyncNone): the caller fsyncs it after Unlock (syncTo). An old
// segment whose records are all acknowledged is retired instead, without
// an fsync: nothing in it needs to survive.
func (s *Spool) rotateLocked() (unsynced *segment, err error) {
	old := s.active
	if s.opts.Sync != SyncNone && old.dirty && old.live > 0 {
		unsynced = old
	}
	if err := s.startSegmentLocked(); err != nil {
		return unsynced, err
	}
	if old.live == 0 {
		s.retireSegmentLocked(old)
	}
	return unsynced, nil
}

// testHookSync, when set, runs before a segment file is fsynced.
var testHookSync func(path string)

// syncTo fsyncs seg unless a concurrent fsync already covered end: one
// fsync serves every Append that finished writing before it began. It
// runs without the spool's lock; fsyncs of different segments run side by
// side.
func (s *Spool) syncTo(seg *segment, end int64) error {
	seg.syncMu.Lock()
	defer seg.syncMu.Unlock()
	if seg.synced >= end {
		return nil
	}
	s.mu.Lock()
	target := seg.size
	f, live := seg.f, seg.live
	seg.dirty = false
	s.mu.Unlock()
	if f == nil {
		if live > 0 {
			return errClosedUnsynced
		}
		return nil // retired: everything in it was acknowledged
	}
	if testHookSync != nil {
		testHookSync(seg.path)
	}
	err := f.Sync()
	if testHookSyncErr != nil {
		err = testHookSyncErr(seg.path)
	}
	if err != nil {
		s.mu.Lock()
		detached, live := seg.f == nil, seg.live
		if !detached {
			seg.dirty = true // not durable: the next Sync tries again
		}
		s.mu.Unlock()
		if errors.Is(err, os.ErrClosed) && detached {
			// Retired (or the spool closed) meanwhile, and its file
			// closed by removeRetired: nothing left to make durable,
			// unless the spool closed with records in it.
			if live > 0 {
				return errClosedUnsynced
			}
			return nil
		}
		return err
	}
	seg.synced = target
	return nil
}

// errClosedUnsynced: the spool closed a segment, records in it, after its
// last fsync (a write that raced Close).
var errClosedUnsynced = errors.New("spool: closed before the fsync")

// testHookSyncErr, when set, replaces the result of a segment's fsync.
var testHookSyncErr func(path string) error

// Sync fsyncs every segment written since the last fsync (SyncInterval's
// timer; also at Close).
func (s *Spool) Sync() error {
	s.mu.Lock()
	var open []*segment
	for _, sl := range s.slots {
		for _, seg := range sl.segs {
			// Not only the dirty ones: syncTo clears the flag when its
			// fsync begins, so a clean segment can have one under way;
			// syncTo waits for it, and fsyncs again when it failed. One
			// already fsynced to its end costs syncTo no fsync.
			if seg.f != nil {
				open = append(open, seg)
			}
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, seg := range open {
		s.mu.Lock()
		end := seg.size
		s.mu.Unlock()
		if err := s.syncTo(seg, end); !errors.Is(err, errClosedUnsynced) {
			// (Closed meanwhile: the Append that wrote after Close's
			// Sync learns it.)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Ack acknowledges delivered records: each one is marked in its segment
// (without fsync: a lost acknowledgement only means one more, idempotent,
// delivery) and a segment whose records are all acknowledged is deleted.
func (s *Spool) Ack(refs ...Ref) {
	s.mu.Lock()
	defer s.unlock()
	s.ackLocked(refs)
}

func (s *Spool) ackLocked(refs []Ref) {
	bySeg := map[*segment][]int64{}
	var order []*segment
	for _, r := range refs {
		e := s.entries[r]
		if e == nil {
			continue
		}
		delete(s.entries, r)
		if _, ok := bySeg[e.seg]; !ok {
			order = append(order, e.seg)
		}
		bySeg[e.seg] = append(bySeg[e.seg], e.off)
	}
	for _, seg := range order {
		offs := bySeg[seg]
		seg.live -= len(offs)
		if seg.live <= 0 && seg != s.active {
			s.retireSegmentLocked(seg)
			continue
		}
		if seg.f == nil {
			continue
		}
		b := appendFrame(nil, kindAck, ackPayload(offs))
		n, _ := seg.f.Write(b)
		seg.size += int64(n)
		s.bytes += int64(n)
		seg.dirty = true
	}
}

// MarkProgress notes on disk (without fsync, like Mark) how much of a
// record reached the destination, counted as its caller counts (the
// exporter: how many of a Unity Catalog trace's span rows are stored), so
// that a replay sends only the rest. Counts only grow: one not above the
// record's count so far is ignored, as is a negative one.
func (s *Spool) MarkProgress(ref Ref, n int) {
	if n <= 0 || int64(n) > 1<<32-1 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[ref]
	if e == nil || uint32(n) <= e.progress || e.seg.f == nil {
		return
	}
	e.progress = uint32(n)
	seg := e.seg
	w, _ := seg.f.Write(appendFrame(nil, kindProgress, progressPayload([]int64{e.off}, []uint32{uint32(n)})))
	seg.size += int64(w)
	s.bytes += int64(w)
	seg.dirty = true
}

// Mark notes on disk (without fsync, like Ack) that part of each record
// reached the destination — the exporter marks a Unity Catalog trace whose
// span rows are stored, so that a replay does not append them again.
func (s *Spool) Mark(refs ...Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bySeg := map[*segment][]int64{}
	var order []*segment
	for _, r := range refs {
		e := s.entries[r]
		if e == nil || e.marked || e.seg.f == nil {
			continue
		}
		e.marked = true
		if _, ok := bySeg[e.seg]; !ok {
			order = append(order, e.seg)
		}
		bySeg[e.seg] = append(bySeg[e.seg], e.off)
	}
	for _, seg := range order {
		n, _ := seg.f.Write(appendFrame(nil, kindMark, ackPayload(bySeg[seg])))
		seg.size += int64(n)
		s.bytes += int64(n)
		seg.dirty = true
	}
}

// retireSegmentLocked takes seg, whose records are all acknowledged, out
// of the index; its file is removed and closed after the lock
// (removeRetired). An adopted slot left without segments is released.
func (s *Spool) retireSegmentLocked(seg *segment) {
	if seg.f != nil {
		s.retired = append(s.retired, retiredFile{f: seg.f, segPath: seg.path})
		seg.f = nil
	}
	s.bytes -= seg.size
	sl := seg.slot
	for i, x := range sl.segs {
		if x == seg {
			sl.segs = append(sl.segs[:i], sl.segs[i+1:]...)
			break
		}
	}
	if !sl.own && len(sl.segs) == 0 {
		s.releaseSlotLocked(sl)
	}
}

// releaseSlotLocked takes an adopted slot whose records are all delivered
// out of the index; removeRetired removes it after the lock, after its
// segments: its lock file is unlinked before the lock is released, so a
// process that opens it meanwhile notices (lockFile).
func (s *Spool) releaseSlotLocked(sl *slot) {
	s.retired = append(s.retired, retiredFile{f: sl.lock, slotDir: sl.dir})
	for i, x := range s.slots {
		if x == sl {
			s.slots = append(s.slots[:i], s.slots[i+1:]...)
			break
		}
	}
}

// Release hands live records over to the backlog: Claim returns them.
func (s *Spool) Release(refs ...Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range refs {
		if e := s.entries[r]; e != nil && e.state != stateBacklog {
			e.state = stateBacklog
			s.backlog = append(s.backlog, r)
		}
	}
}

// Backlog reports how many records wait for Claim.
func (s *Spool) Backlog() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backlogLenLocked()
}

func (s *Spool) backlogLenLocked() int {
	n := 0
	for _, r := range s.backlog {
		if e := s.entries[r]; e != nil && e.state == stateBacklog {
			n++
		}
	}
	return n
}

// Claim takes up to max records of the backlog, oldest first, and reads
// them (the reads happen outside the lock). A record that cannot be read
// back intact is skipped, counted and acknowledged. Claimed records are
// Acked, DeadLettered or Released by the caller.
func (s *Spool) Claim(max int) []Record {
	type job struct {
		ref Ref
		e   entry
		f   *os.File
	}
	s.mu.Lock()
	var jobs []job
	for len(s.backlog) > 0 && len(jobs) < max {
		r := s.backlog[0]
		s.backlog = s.backlog[1:]
		e := s.entries[r]
		if e == nil || e.state != stateBacklog || e.seg.f == nil {
			continue
		}
		e.state = stateClaimed
		jobs = append(jobs, job{r, *e, e.seg.f})
	}
	s.mu.Unlock()
	out := make([]Record, 0, len(jobs))
	var bad []Ref
	for _, j := range jobs {
		b := make([]byte, j.e.size)
		n, err := j.f.ReadAt(b, j.e.off)
		data, ok := checkFrame(b[:n])
		if !ok {
			_ = err // a short read fails the check
			bad = append(bad, j.ref)
			continue
		}
		out = append(out, Record{Ref: j.ref, Data: data, Marked: j.e.marked, Progress: int(j.e.progress)})
	}
	if len(bad) > 0 {
		s.mu.Lock()
		s.skipped += int64(len(bad))
		s.ackLocked(bad)
		s.unlock()
	}
	return out
}

// Skip acknowledges records the caller could not use (a payload it
// cannot decode) and counts them as skipped.
func (s *Spool) Skip(refs ...Ref) {
	s.mu.Lock()
	defer s.unlock()
	s.skipped += int64(len(refs))
	s.ackLocked(refs)
}

// DeadLetter moves a record to the dead-letter directory as name.json
// (written atomically; fsynced unless SyncNone), then acknowledges it in
// its segment. A record dead-lettered again under the same name replaces
// the earlier file; one being retried (claimed) stays claimed. The dead
// letter is due for a retry after retryAt.
func (s *Spool) DeadLetter(ref Ref, name string, data []byte, retryAt time.Time) error {
	if err := s.writeDead(name, data); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.unlock()
	s.noteDeadLocked(name, int64(len(data)), retryAt)
	if ref != 0 {
		s.ackLocked([]Ref{ref})
	}
	return nil
}

func (s *Spool) writeDead(name string, data []byte) error {
	if !validName(name) {
		return fmt.Errorf("spool: invalid dead letter name %q", name)
	}
	dir := filepath.Join(s.Dir(), deadDirName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && s.opts.Sync != SyncNone {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name+deadSuffix))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	if s.opts.Sync != SyncNone {
		syncDir(dir)
	}
	return nil
}

func (s *Spool) noteDeadLocked(name string, size int64, retryAt time.Time) {
	claimed := false
	if old := s.dead[name]; old != nil {
		s.bytes -= old.size
		// Rewritten while being retried: it stays with the retry that
		// claimed it (RetryDeadLater or RemoveDead ends the claim).
		claimed = old.claimed
	}
	s.dead[name] = &deadEntry{size: size, retryAt: retryAt, claimed: claimed}
	s.bytes += size
}

func validName(n string) bool {
	if n == "" || len(n) > 200 || strings.HasPrefix(n, ".") {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ClaimDead takes up to max dead letters due at now, least recently
// retried first, and reads them. A dead letter whose file is gone (an
// operator removed it) is forgotten.
func (s *Spool) ClaimDead(now time.Time, max int) []DeadLetter {
	s.mu.Lock()
	var names []string
	for name, d := range s.dead {
		if !d.claimed && !d.retryAt.After(now) {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.dead[names[i]], s.dead[names[j]]
		if !a.retryAt.Equal(b.retryAt) {
			return a.retryAt.Before(b.retryAt)
		}
		return names[i] < names[j]
	})
	if len(names) > max {
		names = names[:max]
	}
	for _, n := range names {
		s.dead[n].claimed = true
	}
	deadDir := filepath.Join(s.own.dir, deadDirName)
	s.mu.Unlock()
	out := make([]DeadLetter, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(deadDir, n+deadSuffix))
		if err != nil {
			s.mu.Lock()
			if d := s.dead[n]; d != nil {
				s.bytes -= d.size
				delete(s.dead, n)
			}
			s.mu.Unlock()
			continue
		}
		out = append(out, DeadLetter{Name: n, Data: b})
	}
	return out
}

// RetryDeadLater makes claimed dead letters due again at at.
func (s *Spool) RetryDeadLater(at time.Time, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if d := s.dead[n]; d != nil {
			d.claimed, d.retryAt = false, at
		}
	}
}

// DueAll makes every dead letter not being retried due now (the
// destination answers again).
func (s *Spool) DueAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dead {
		if !d.claimed {
			d.retryAt = time.Time{}
		}
	}
}

// RemoveDead deletes delivered dead letters (the files after the lock).
func (s *Spool) RemoveDead(names ...string) {
	s.mu.Lock()
	defer s.unlock()
	for _, n := range names {
		if d := s.dead[n]; d != nil {
			s.bytes -= d.size
			delete(s.dead, n)
		}
		s.retired = append(s.retired, retiredFile{deadPath: filepath.Join(s.own.dir, deadDirName, n+deadSuffix)})
	}
}

// DeadDue reports whether a dead letter is due at now.
func (s *Spool) DeadDue(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dead {
		if !d.claimed && !d.retryAt.After(now) {
			return true
		}
	}
	return false
}

// Adopt takes over the slots of processes that are gone (their lock is
// free): their records join the backlog and their dead letters move to
// this process's slot. It reports how many records it found. Call it
// now and then: a process that held a slot at Open may have exited since.
// The slots' files are read without the spool's lock.
func (s *Spool) Adopt() int {
	s.adoptMu.Lock()
	defer s.adoptMu.Unlock()
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return 0
	}
	found := 0
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), slotPrefix) {
			continue
		}
		dir := filepath.Join(s.root, e.Name())
		s.mu.Lock()
		closed, held, ownDead := s.closed, s.holds(dir), filepath.Join(s.own.dir, deadDirName)
		s.mu.Unlock()
		if closed {
			break
		}
		if held {
			continue
		}
		sl, err := takeSlot(dir, false)
		if err != nil {
			continue
		}
		sf, _ := readSlot(sl, ownDead)
		s.mu.Lock()
		if s.closed {
			// Closed meanwhile: leave the slot as it is for the next process.
			s.mu.Unlock()
			for _, sg := range sf.segs {
				sg.seg.f.Close()
			}
			sl.lock.Close()
			break
		}
		s.slots = append(s.slots, sl)
		s.indexSlotLocked(sl, sf)
		for _, sg := range sf.segs {
			found += len(sg.fresh)
		}
		if len(sl.segs) == 0 {
			// Nothing to deliver. (With records indexed the slot stays
			// held until they are, whatever failed: released now, they
			// would be adopted a second time.)
			s.releaseSlotLocked(sl)
		}
		s.unlock()
	}
	return found
}

func (s *Spool) holds(dir string) bool {
	for _, sl := range s.slots {
		if sl.dir == dir {
			return true
		}
	}
	return false
}

// Stats returns the spool's state now.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Dir: s.own.dir, Bytes: s.bytes, Records: len(s.entries), Backlog: s.backlogLenLocked(),
		DeadLetters: len(s.dead), Skipped: s.skipped}
}

// Check verifies that the slot directory still exists and recreates it
// (and a new segment) when it vanished — in a free slot when another
// process has taken its name since —, so that later records are written
// to a visible file; records written before stay readable through the open
// files. It reports whether it had to.
func (s *Spool) Check() (recreated bool, err error) {
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return false, nil
	}
	if !replaced(s.active.path, s.active.f) {
		return false, nil
	}
	if replaced(filepath.Join(s.own.dir, lockName), s.own.lock) {
		// The slot directory vanished: take it again, or a free slot when
		// another process has taken its name since.
		sl, err := takeSlot(s.own.dir, true)
		for i := 0; errors.Is(err, errLocked) && i < s.opts.MaxSlots; i++ {
			if dir := filepath.Join(s.root, slotPrefix+strconv.Itoa(i)); !s.holds(dir) {
				sl, err = takeSlot(dir, true)
			}
		}
		if err != nil {
			return false, fmt.Errorf("spool: %s vanished and cannot be recreated: %w", s.own.dir, err)
		}
		s.retired = append(s.retired, retiredFile{f: s.own.lock})
		moved := sl.dir != s.own.dir
		s.own.dir, s.own.lock = sl.dir, sl.lock
		if moved {
			_ = s.loadSlotLocked(s.own) // what a gone process left there
		}
	}
	// The spare may have vanished with the segment: a new file.
	s.retireSpareLocked()
	old := s.active
	if err := s.startSegmentLocked(); err != nil {
		return false, fmt.Errorf("spool: %s vanished and cannot be recreated: %w", s.own.dir, err)
	}
	if old.live == 0 {
		s.retireSegmentLocked(old) // as rotateLocked does
	}
	return true, nil
}

// Close fsyncs what is unsynced, closes the files and releases the slots.
// A slot left with nothing to deliver is removed. Records still live or
// claimed stay on disk for the next owner.
func (s *Spool) Close() error {
	err := s.Sync()
	s.spareMu.Lock() // a spare under way is retired before the slot is removed
	defer s.spareMu.Unlock()
	s.mu.Lock()
	defer s.unlock()
	if s.closed {
		return nil
	}
	s.closeLocked()
	return err
}

// closeLocked takes every file out of the index; removeRetired closes
// them after the lock, removing the segments with nothing to deliver and
// the slots left empty.
func (s *Spool) closeLocked() {
	s.closed = true
	s.retireSpareLocked()
	for _, sl := range append([]*slot(nil), s.slots...) {
		empty := true
		for _, seg := range append([]*segment(nil), sl.segs...) {
			if seg.live > 0 {
				empty = false
			}
			if seg.f == nil {
				continue
			}
			r := retiredFile{f: seg.f}
			if seg.live <= 0 {
				r.segPath = seg.path
			}
			s.retired = append(s.retired, r)
			seg.f = nil
		}
		if sl.own && len(s.dead) > 0 {
			empty = false
		}
		r := retiredFile{f: sl.lock}
		if empty {
			r.slotDir = sl.dir
		}
		s.retired = append(s.retired, r)
	}
}

// unlock releases the spool's lock, then closes and removes the files
// retired while it was held.
func (s *Spool) unlock() {
	retired := len(s.retired) > 0
	s.mu.Unlock()
	if retired {
		s.removeRetired()
	}
}

// testHookRemoveSegment, when set, runs before a retired segment file is
// removed.
var testHookRemoveSegment func(path string)

// removeRetired closes and removes the retired files without the spool's
// lock, in the order they were retired (a slot after its segments and dead
// letters). When it returns, every file retired before the call is gone,
// also those another goroutine took on.
func (s *Spool) removeRetired() {
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	s.mu.Lock()
	files := s.retired
	s.retired = nil
	s.mu.Unlock()
	for _, r := range files {
		switch {
		case r.segPath != "":
			if testHookRemoveSegment != nil {
				testHookRemoveSegment(r.segPath)
			}
			removeOwn(r.segPath, r.f)
		case r.deadPath != "":
			_ = os.Remove(r.deadPath)
		case r.slotDir != "":
			removeSlot(r.slotDir, r.f)
		}
		if r.f != nil {
			r.f.Close()
		}
	}
}

// removeOwn removes path if it still names f. A slot directory that was
// removed (an operator's rm -rf) can have been taken by another process
// since, which keeps its own files there under the same names.
func removeOwn(path string, f *os.File) {
	if sameFile(path, f) {
		_ = os.Remove(path)
	}
}

// replaced reports whether path no longer names the open file f: it is
// missing, or names another file (false when that cannot be told).
func replaced(path string, f *os.File) bool {
	named, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	held, ferr := f.Stat()
	return err == nil && ferr == nil && !os.SameFile(held, named)
}

// sameFile reports whether path names the open file f.
func sameFile(path string, f *os.File) bool {
	held, err1 := f.Stat()
	named, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(held, named)
}

// removeSlot removes the emptied slot dir, whose lock is still held,
// unless the directory is another process's now (see removeOwn).
func removeSlot(dir string, lock *os.File) {
	lockPath := filepath.Join(dir, lockName)
	if !sameFile(lockPath, lock) {
		return
	}
	_ = os.Remove(lockPath)
	_ = os.Remove(filepath.Join(dir, deadDirName))
	_ = os.Remove(dir)
}
