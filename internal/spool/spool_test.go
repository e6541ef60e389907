package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func open(t *testing.T, dir string, opts Options) *Spool {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func records(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`{"trace": "%s-%03d", "pad": "%s"}`, prefix, i, strings.Repeat("x", 200)))
	}
	return out
}

func claimAll(s *Spool) []Record {
	var out []Record
	for {
		got := s.Claim(7)
		if len(got) == 0 {
			return out
		}
		out = append(out, got...)
	}
}

func datas(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Data)
	}
	sort.Strings(out)
	return out
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	sort.Strings(out)
	return out
}

func TestRecordsSurviveReopenUntilAcknowledged(t *testing.T) {
	for _, sync := range []Sync{SyncBatch, SyncInterval, SyncNone} {
		t.Run(sync.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{Sync: sync, SegmentBytes: 4096})
			recs := records("a", 50)
			refs, err := s.Append(recs)
			if err != nil {
				t.Fatal(err)
			}
			s.Ack(refs[:20]...)
			// Not closed: what a killed process leaves behind. Its lock goes
			// with its files; here the next Open must get another slot.
			s2 := open(t, dir, Options{Sync: sync})
			if s2.Dir() == s.Dir() {
				t.Fatalf("second spool took the held slot %s", s.Dir())
			}
			if got := claimAll(s2); len(got) != 0 {
				t.Fatalf("second spool replayed %d records of a live process", len(got))
			}
			s.Close()
			if n := s2.Adopt(); n != 30 {
				t.Fatalf("Adopt found %d records, want 30", n)
			}
			got := claimAll(s2)
			if want := strs(recs[20:]); !equal(datas(got), want) {
				t.Fatalf("replayed %d records, want the 30 unacknowledged", len(got))
			}
			refs2 := make([]Ref, len(got))
			for i, r := range got {
				refs2[i] = r.Ref
			}
			s2.Ack(refs2...)
			if st := s2.Stats(); st.Records != 0 {
				t.Fatalf("records left: %+v", st)
			}
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("an emptied spool left %v", names(left))
			}
		})
	}
}

func equal(a, b []string) bool {
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

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// A crash in the middle of a write leaves a torn frame at the end of a
// segment; one in the middle of a record's bytes on disk (bit rot, a bad
// sector) fails its checksum. Both records are skipped and counted, every
// other record is delivered.
func TestDamageIsSkippedAndCounted(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(t *testing.T, seg string)
		lost    int // records not recoverable
		skipped int64
	}{
		{"torn tail", func(t *testing.T, seg string) {
			b, _ := os.ReadFile(seg)
			f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			defer f.Close()
			// Half of one more frame, as a write cut by SIGKILL leaves it.
			fr := appendFrame(nil, kindTrace, []byte(`{"torn": true}`))
			f.Write(fr[:len(fr)/2])
			_ = b
		}, 0, 1},
		{"bad checksum in the middle", func(t *testing.T, seg string) {
			b, _ := os.ReadFile(seg)
			r := scanFrames(b)
			mid := r.frames[len(r.frames)/2]
			b[mid.off+frameHeader+3] ^= 0x55
			os.WriteFile(seg, b, 0o644)
		}, 1, 1},
		{"bad length in the middle", func(t *testing.T, seg string) {
			b, _ := os.ReadFile(seg)
			r := scanFrames(b)
			mid := r.frames[2]
			b[mid.off+6] = 0x7f
			os.WriteFile(seg, b, 0o644)
		}, 1, 1},
		{"garbage between records", func(t *testing.T, seg string) {
			b, _ := os.ReadFile(seg)
			r := scanFrames(b)
			at := r.frames[3].off
			out := append(append(append([]byte(nil), b[:at]...), bytes.Repeat([]byte{0xF5, 0}, 40)...), b[at:]...)
			os.WriteFile(seg, out, 0o644)
		}, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{})
			recs := records("d", 10)
			if _, err := s.Append(recs); err != nil {
				t.Fatal(err)
			}
			seg := s.active.path
			s.mu.Lock()
			s.closed = true // as if killed: keep the files, drop the lock
			s.mu.Unlock()
			s.own.lock.Close()
			c.damage(t, seg)

			s2 := open(t, dir, Options{})
			defer s2.Close()
			got := claimAll(s2)
			if len(got) != len(recs)-c.lost {
				t.Fatalf("delivered %d records, want %d", len(got), len(recs)-c.lost)
			}
			if st := s2.Stats(); st.Skipped != c.skipped {
				t.Fatalf("skipped %d, want %d", st.Skipped, c.skipped)
			}
		})
	}
}

// A record damaged on disk after it was written (the segment is read back
// at Claim) is skipped, counted and acknowledged: it never comes back.
func TestRecordDamagedAfterWriteIsSkipped(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	refs, err := s.Append(records("r", 3))
	if err != nil {
		t.Fatal(err)
	}
	s.Release(refs...)
	e := s.entries[refs[1]]
	f, err := os.OpenFile(e.seg.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XX"), e.off+frameHeader+2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := claimAll(s)
	if len(got) != 2 || s.Stats().Skipped != 1 {
		t.Fatalf("got %d records, skipped %d; want 2 and 1", len(got), s.Stats().Skipped)
	}
	for _, r := range got {
		s.Ack(r.Ref)
	}
	if st := s.Stats(); st.Records != 0 {
		t.Fatalf("the damaged record is still pending: %+v", st)
	}
	s.Close()
}

func TestFullSpoolRefusesNewRecords(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{MaxBytes: 64 << 10, SegmentBytes: 64 << 10})
	defer s.Close()
	one := records("f", 1)[0]
	per := frameSize(len(one))
	fit := int((64 << 10) / per)
	refs, err := s.Append(records("f", fit+5))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	written := 0
	for _, r := range refs {
		if r != 0 {
			written++
		}
	}
	if written != fit {
		t.Fatalf("%d written, want %d (the oldest are kept, the new refused)", written, fit)
	}
	// Acknowledging frees the room once the segment can go.
	s.Ack(refs[:written]...)
	if _, err := s.Append(records("g", 1)); err != nil {
		t.Fatalf("append after the acknowledgements: %v", err)
	}
}

// A full disk (ENOSPC from every write, as /dev/full gives it) fails the
// append with the error; nothing is indexed, nothing panics.
func TestFullDisk(t *testing.T) {
	devFull, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	s.mu.Lock()
	real := s.active.f
	s.active.f = devFull
	s.mu.Unlock()
	refs, err := s.Append(records("n", 3))
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	for _, r := range refs {
		if r != 0 {
			t.Fatalf("a record was indexed although its write failed: %v", refs)
		}
	}
	s.mu.Lock()
	s.active.f = real
	s.mu.Unlock()
	devFull.Close()
	if _, err := s.Append(records("m", 1)); err != nil {
		t.Fatalf("append once the disk has room: %v", err)
	}
}

func TestDeadLetters(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	refs, _ := s.Append(records("x", 2))
	now := time.Now()
	if err := s.DeadLetter(refs[0], "0123abcd", []byte(`{"dead": 1}`), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := s.ClaimDead(now, 10); len(got) != 0 {
		t.Fatalf("dead letter due before its time: %v", got)
	}
	if got := s.ClaimDead(now.Add(2*time.Hour), 10); len(got) != 1 || string(got[0].Data) != `{"dead": 1}` {
		t.Fatalf("ClaimDead = %v", got)
	}
	s.RetryDeadLater(now, "0123abcd")
	if st := s.Stats(); st.DeadLetters != 1 || st.Records != 1 {
		t.Fatalf("stats %+v", st)
	}
	// An operator clears it by deleting the file.
	os.Remove(filepath.Join(s.Dir(), "dead", "0123abcd.json"))
	if got := s.ClaimDead(now, 10); len(got) != 0 || s.Stats().DeadLetters != 0 {
		t.Fatalf("a removed dead letter came back: %v", got)
	}
	if err := s.DeadLetter(0, "../escape", []byte("x"), now); err == nil {
		t.Fatal("a name with a path was accepted")
	}
	// Dead letters survive a restart and are due at once there.
	s.DeadLetter(refs[1], "feed", []byte(`{"dead": 2}`), now.Add(time.Hour))
	s.Close()
	s2 := open(t, dir, Options{})
	defer s2.Close()
	if got := s2.ClaimDead(now, 10); len(got) != 1 || got[0].Name != "feed" {
		t.Fatalf("after restart: %v", got)
	}
	if got := claimAll(s2); len(got) != 0 {
		t.Fatalf("a dead-lettered record is still in the segments: %d", len(got))
	}
}

// The slot of a process that is gone moves to the next process, dead
// letters included, and the emptied slot disappears.
func TestAdoptionMovesDeadLettersAndRemovesTheSlot(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Options{})
	b := open(t, dir, Options{})
	refs, _ := b.Append(records("b", 4))
	b.DeadLetter(refs[0], "deadbeef", []byte(`{}`), time.Now())
	bDir := b.Dir()
	b.Close()
	if n := a.Adopt(); n != 3 {
		t.Fatalf("adopted %d records, want 3", n)
	}
	if st := a.Stats(); st.DeadLetters != 1 {
		t.Fatalf("dead letters %d, want 1", st.DeadLetters)
	}
	for _, r := range claimAll(a) {
		a.Ack(r.Ref)
	}
	if _, err := os.Stat(bDir); !os.IsNotExist(err) {
		t.Fatalf("the emptied slot %s is still there (%v)", bDir, err)
	}
	a.Close()
}

// Adopt reads a gone process's files without the spool's lock: Append,
// Claim, Ack and Stats go on while it reads.
func TestAdoptReadsWithoutTheLock(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Options{})
	defer a.Close()
	b := open(t, dir, Options{})
	if _, err := b.Append(records("b", 5)); err != nil {
		t.Fatal(err)
	}
	b.Close()
	reading, resume := make(chan struct{}), make(chan struct{})
	testHookReadSegment = func() {
		close(reading)
		<-resume
	}
	defer func() { testHookReadSegment = nil }()
	adopted := make(chan int)
	go func() { adopted <- a.Adopt() }()
	<-reading
	refs, err := a.Append(records("a", 2)) // would wait for the lock before
	if err != nil || refs[0] == 0 || refs[1] == 0 {
		t.Fatalf("Append during the adoption: %v %v", refs, err)
	}
	if got := a.Claim(10); len(got) != 0 {
		t.Fatalf("claimed %d records before the adoption indexed them", len(got))
	}
	a.Ack(refs...)
	if st := a.Stats(); st.Records != 0 {
		t.Fatalf("Stats during the adoption: %+v", st)
	}
	close(resume)
	if n := <-adopted; n != 5 {
		t.Fatalf("adopted %d records, want 5", n)
	}
	if got := claimAll(a); len(got) != 5 {
		t.Fatalf("claimed %d adopted records, want 5", len(got))
	}
}

// A slot directory removed while the process runs (an operator's rm -rf,
// a cleanup job) is recreated; records written before stay deliverable
// through the open files.
func TestVanishedDirectory(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	refs, _ := s.Append(records("v", 3))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	recreated, err := s.Check()
	if err != nil || !recreated {
		t.Fatalf("Check = %v, %v", recreated, err)
	}
	refs2, err := s.Append(records("w", 2))
	if err != nil {
		t.Fatal(err)
	}
	s.Release(append(refs, refs2...)...)
	if got := claimAll(s); len(got) != 5 {
		t.Fatalf("claimed %d, want 5", len(got))
	}
}

// A directory the process may not write: Open fails with the reason (the
// exporter then runs without a spool and says so). Root ignores
// permissions, so as root the check runs in a child as user nobody.
func TestReadOnlyDirectory(t *testing.T) {
	if os.Getenv("SPOOL_TEST_READONLY_DIR") != "" {
		_, err := Open(os.Getenv("SPOOL_TEST_READONLY_DIR"), Options{})
		fmt.Println("OPEN:", err)
		return
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.MkdirAll(ro, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is private
	os.Chmod(dir, 0o755)
	os.Chmod(ro, 0o555)
	if os.Geteuid() != 0 {
		_, err := Open(ro, Options{})
		if !errors.Is(err, os.ErrPermission) {
			t.Fatalf("Open = %v, want a permission error", err)
		}
		return
	}
	// The test binary's own directory is private: run a copy.
	exe, _ := os.Executable()
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(dir, "spool.test")
	if err := os.WriteFile(copyExe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(copyExe, "-test.run=^TestReadOnlyDirectory$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SPOOL_TEST_READONLY_DIR="+ro)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "OPEN:") {
		t.Skipf("cannot run as nobody here: %v %s", err, out)
	}
	if !strings.Contains(string(out), "OPEN: spool:") || !strings.Contains(string(out), "permission denied") {
		t.Fatalf("as nobody, Open said: %s", out)
	}
}

func TestScanFramesNeverPanics(t *testing.T) {
	good := appendFrame(appendFrame(nil, kindTrace, []byte("one")), kindAck, ackPayload([]int64{0}))
	// A length of 2 GiB or more, which a 32-bit int cannot hold (checked
	// on GOARCH=386).
	huge := append([]byte(nil), good...)
	copy(huge[4:8], []byte{0xff, 0xff, 0xff, 0xff})
	if r := scanFrames(huge); len(r.frames) != 1 || r.skipped != 1 {
		t.Fatalf("a frame of length 0xffffffff: %d frames, %d skipped", len(r.frames), r.skipped)
	}
	for i := range len(good) {
		for _, v := range []byte{0, 0xff, 0xF5, 0x9A} {
			b := append([]byte(nil), good...)
			b[i] = v
			scanFrames(b)
			scanFrames(b[:i])
		}
	}
}

// A dead letter rewritten while it is being retried (the exporter rewrites
// it when the destination confirms its span rows) stays claimed: another
// replay worker must not claim it and send it a second time meanwhile.
func TestDeadLetterRewrittenWhileClaimedStaysClaimed(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	now := time.Now()
	if err := s.DeadLetter(0, "feed", []byte(`{"v": 1}`), now); err != nil {
		t.Fatal(err)
	}
	if got := s.ClaimDead(now, 10); len(got) != 1 {
		t.Fatalf("ClaimDead = %v", got)
	}
	if err := s.DeadLetter(0, "feed", []byte(`{"v": 2}`), now); err != nil {
		t.Fatal(err)
	}
	if got := s.ClaimDead(now, 10); len(got) != 0 {
		t.Fatalf("a dead letter being retried was claimed again: %q", got[0].Data)
	}
	s.RetryDeadLater(now, "feed")
	if got := s.ClaimDead(now, 10); len(got) != 1 || string(got[0].Data) != `{"v": 2}` {
		t.Fatalf("after its retry ended: %v", got)
	}
}

// A process that opens the spool while another one removes its emptied
// slot (Close, or the release of an adopted slot) — a rolling restart — gets
// a slot: the removal of a slot it was probing is not an error. (flock locks
// belong to the open file, so Spools of one process contend as processes do.)
func TestOpenWhileAnEmptySlotIsRemoved(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	var (
		mu     sync.Mutex
		failed int
		first  error
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				s, err := Open(dir, Options{})
				if err != nil {
					mu.Lock()
					if failed++; first == nil {
						first = err
					}
					mu.Unlock()
					continue
				}
				s.Close()
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		t.Fatalf("%d of 1200 Opens failed, the first with: %v", failed, first)
	}
}

// An Append whose write fails part way (the disk fills up in the middle of
// a batch; here the file size limit, RLIMIT_FSIZE) returns no ref: the
// caller exports those records from memory only. Then none of them may be
// found on disk by the next process, which would deliver them a second
// time.
func TestFailedAppendLeavesNoRecordOnDisk(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = 2000 // about 8 of the 20 records
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	refs, err := s.Append(records("p", 20))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err == nil {
		t.Fatal("Append past the file size limit succeeded")
	}
	for _, r := range refs {
		if r != 0 {
			t.Fatalf("refs %v for a failed write", refs)
		}
	}
	// Written later, once there is room again: indexed and delivered.
	later, err := s.Append(records("q", 2))
	if err != nil {
		t.Fatal(err)
	}
	s.Release(later...)
	// Killed: the files stay, the lock goes.
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.own.lock.Close()

	s2 := open(t, dir, Options{})
	defer s2.Close()
	if got := datas(claimAll(s2)); !equal(got, strs(records("q", 2))) {
		t.Fatalf("the next process found %d records, want only the 2 written later: %.60q", len(got), got)
	}
}

// The spool directory is removed while a process runs, and another process
// starts meanwhile and takes the same slot name: the first one must never
// delete the files the second one has there now under the same names (a
// segment it finished with, its emptied slot at Close).
func TestVanishedSlotTakenByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Options{SegmentBytes: 64 << 10})
	refsA, err := a.Append(records("a", 300)) // two segments: 0 (full) and 1
	if err != nil || len(a.own.segs) != 2 {
		t.Fatalf("Append: %v, %d segments", err, len(a.own.segs))
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir, Options{})
	if b.Dir() != a.Dir() {
		t.Fatalf("b took %s, not a's %s", b.Dir(), a.Dir())
	}
	if _, err := b.Append(records("b", 3)); err != nil { // b's segment 0
		t.Fatal(err)
	}
	a.Ack(refsA...) // a's segment 0 is done with
	a.Close()       // and a's slot is empty
	// b is killed; the next process must find its 3 records.
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.own.lock.Close()
	c := open(t, dir, Options{})
	defer c.Close()
	if got := claimAll(c); len(got) != 3 {
		t.Fatalf("the next process found %d of b's 3 records", len(got))
	}
}

// A slot that can be adopted only in part (one of its segments cannot be
// read: an I/O error, too many open files; here a directory in its place)
// is adopted once: its records are not indexed a second time at the next
// Adopt, nor by another process meanwhile, and the segment that could not
// be read stays on disk for a later adoption.
func TestPartlyReadableSlotIsAdoptedOnce(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Options{})
	defer a.Close()
	b := open(t, dir, Options{})
	if _, err := b.Append(records("b", 3)); err != nil {
		t.Fatal(err)
	}
	bDir := b.Dir()
	b.Close() // its 3 records stay for the next owner
	unreadable := filepath.Join(bDir, "9999999999999999.seg")
	if err := os.Mkdir(unreadable, 0o755); err != nil {
		t.Fatal(err)
	}
	if n := a.Adopt(); n != 3 {
		t.Fatalf("adopted %d records, want 3", n)
	}
	// Another process polling the directory now finds the slot held.
	c := open(t, dir, Options{})
	defer c.Close()
	if n := c.Adopt(); n != 0 {
		t.Fatalf("a second process adopted %d records of the slot being delivered", n)
	}
	if n := a.Adopt(); n != 0 {
		t.Fatalf("the next Adopt indexed %d records a second time", n)
	}
	for _, r := range claimAll(a) {
		a.Ack(r.Ref)
	}
	if st := a.Stats(); st.Records != 0 {
		t.Fatalf("after delivering the 3: %+v", st)
	}
	if _, err := os.Stat(unreadable); err != nil {
		t.Fatalf("the unreadable segment is gone: %v", err)
	}
	// A process that takes the slot as its own later runs with its spool.
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open on a slot with an unreadable segment: %v", err)
	}
	d.Close()
}

// The spool directory is removed while a process runs, and another process
// takes the slot's name before the first one notices: the first one goes on
// in a free slot, so that what it spools from then on is on disk where the
// next process finds it (not only in its unlinked files).
func TestVanishedSlotTakenMovesToAFreeSlot(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Options{})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir, Options{})
	defer b.Close()
	recreated, err := a.Check()
	if err != nil || !recreated {
		t.Fatalf("Check = %v, %v", recreated, err)
	}
	if a.Dir() == b.Dir() {
		t.Fatalf("a and b share %s", a.Dir())
	}
	refs, err := a.Append(records("a", 3))
	if err != nil {
		t.Fatal(err)
	}
	a.Release(refs...)
	// a is killed; b adopts its slot and finds the 3.
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.own.lock.Close()
	if n := b.Adopt(); n != 3 {
		t.Fatalf("b adopted %d of a's 3 records", n)
	}
}

// Only the active segment file is removed (the slot directory stays): a
// new segment is started in the same slot, which stays locked.
func TestRemovedActiveSegment(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	defer s.Close()
	if err := os.Remove(s.active.path); err != nil {
		t.Fatal(err)
	}
	slot := s.Dir()
	recreated, err := s.Check()
	if err != nil || !recreated || s.Dir() != slot {
		t.Fatalf("Check = %v, %v; slot %s (was %s)", recreated, err, s.Dir(), slot)
	}
	if _, err := os.Stat(s.active.path); err != nil {
		t.Fatalf("no new segment: %v", err)
	}
	other := open(t, dir, Options{})
	defer other.Close()
	if other.Dir() == slot {
		t.Fatal("the slot is not locked any more")
	}
}

// TestCheckReleasesAnAcknowledgedActiveSegment: the segment Check replaces,
// when every record in it is acknowledged, leaves the index (its bytes, its
// open file) as a rotation's does, instead of staying until Close.
func TestCheckReleasesAnAcknowledgedActiveSegment(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	defer s.Close()
	refs, err := s.Append(records("a", 3))
	if err != nil {
		t.Fatal(err)
	}
	s.Ack(refs...)
	old := s.active
	if err := os.Remove(old.path); err != nil {
		t.Fatal(err)
	}
	if recreated, err := s.Check(); !recreated || err != nil {
		t.Fatalf("Check = %v, %v", recreated, err)
	}
	s.mu.Lock()
	kept := slices.Contains(s.own.segs, old)
	s.mu.Unlock()
	if st := s.Stats(); kept || st.Bytes != 0 {
		t.Errorf("after Check the replaced segment, every record acknowledged, is indexed: %v, Stats.Bytes %d (want 0)", kept, st.Bytes)
	}
}

// within runs f on a goroutine of running and fails the test when f does
// not return in time: it waits for the spool's lock, held across the I/O a
// test hook blocks.
func within(t *testing.T, running *sync.WaitGroup, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	running.Go(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s waited for the blocked I/O", what)
	}
}

// waitFor fails the test when ch is not closed in time.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// refsIn returns the refs of s's records in seg.
func refsIn(s *Spool, seg *segment) []Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []Ref
	for r, e := range s.entries {
		if e.seg == seg {
			refs = append(refs, r)
		}
	}
	return refs
}

// holdHook sets *hook to hold its first call for path ("": for any path)
// until release: held is closed when it does. done releases it, waits for
// running and clears the hook; defer it (after goleak's deferred check, so
// that it runs first).
func holdHook(hook *func(string), path string, running *sync.WaitGroup) (held <-chan struct{}, release, done func()) {
	h, resume := make(chan struct{}), make(chan struct{})
	var taken atomic.Bool
	*hook = func(p string) {
		if (path == "" || p == path) && taken.CompareAndSwap(false, true) {
			close(h)
			<-resume
		}
	}
	release = sync.OnceFunc(func() { close(resume) })
	return h, release, func() {
		release()
		running.Wait()
		*hook = nil
	}
}

// othersGoOn checks that, while a test hook holds some of the spool's file
// work (during names it), another goroutine's Append, Claim, Ack and Stats
// finish (within), and that Stats counts live records then.
func othersGoOn(t *testing.T, s *Spool, running *sync.WaitGroup, during string, live int) {
	t.Helper()
	var (
		refs []Ref
		err  error
	)
	within(t, running, "Append", func() { refs, err = s.Append(records("m", 2)) })
	if err != nil || refs[0] == 0 || refs[1] == 0 {
		t.Fatalf("Append during %s: %v %v", during, refs, err)
	}
	s.Release(refs...)
	var got []Record
	within(t, running, "Claim", func() { got = s.Claim(10) })
	if len(got) != 2 {
		t.Fatalf("claimed %d records during %s, want 2", len(got), during)
	}
	within(t, running, "Ack", func() { s.Ack(refs...) })
	var st Stats
	within(t, running, "Stats", func() { st = s.Stats() })
	if st.Records != live {
		t.Fatalf("Stats during %s: %+v, want %d records", during, st, live)
	}
}

// The fsync of a segment ended by a rotation runs without the spool's
// lock: while it is under way (a hook holds it), Append of another
// goroutine, Claim, Ack and Stats go on; the Append that rotated returns
// after the fsync.
func TestRotationFsyncsWithoutTheLock(t *testing.T) {
	for _, policy := range []Sync{SyncBatch, SyncInterval} {
		t.Run(policy.String(), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			s := open(t, t.TempDir(), Options{Sync: policy, SegmentBytes: 64 << 10})
			defer s.Close()
			first := s.active.path
			var running sync.WaitGroup
			syncing, release, done := holdHook(&testHookSync, first, &running)
			defer done()
			appended := make(chan error, 1)
			running.Go(func() {
				_, err := s.Append(records("w", 300)) // segments 0 (full) and 1
				appended <- err
			})
			waitFor(t, syncing, "fsync of the rotated segment")

			othersGoOn(t, s, &running, "the fsync", 300)
			select {
			case err := <-appended:
				t.Fatalf("the Append that rotated returned (%v) before the rotated segment was fsynced", err)
			default:
			}
			release()
			if err := <-appended; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A segment whose records are all acknowledged is removed without the
// spool's lock: while its unlink is under way (a hook holds it), Append of
// another goroutine, Claim, Ack and Stats go on; the Ack that retired it
// returns once the file is gone.
func TestSegmentRemovalWithoutTheLock(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := open(t, t.TempDir(), Options{SegmentBytes: 64 << 10})
	defer s.Close()
	refs, err := s.Append(records("a", 300)) // segments 0 (full) and 1
	if err != nil || len(s.own.segs) != 2 {
		t.Fatalf("Append: %v, %d segments", err, len(s.own.segs))
	}
	first := s.own.segs[0]
	inFirst := refsIn(s, first)
	var running sync.WaitGroup
	removing, release, done := holdHook(&testHookRemoveSegment, first.path, &running)
	defer done()
	acked := make(chan struct{})
	running.Go(func() {
		s.Ack(inFirst...)
		close(acked)
	})
	waitFor(t, removing, "removal of the acknowledged segment")

	othersGoOn(t, s, &running, "the removal", len(refs)-len(inFirst))
	select {
	case <-acked:
		t.Fatal("the Ack returned before its segment was removed")
	default:
	}
	if _, err := os.Stat(first.path); err != nil {
		t.Fatalf("the segment went before its removal: %v", err)
	}
	release()
	<-acked
	if _, err := os.Stat(first.path); !os.IsNotExist(err) {
		t.Fatalf("the acknowledged segment is still there after the Ack (%v)", err)
	}
}

// Sync (SyncInterval's timer) fsyncing a segment while its last records
// are acknowledged and its file closed reports no error: nothing in it
// needs to survive.
func TestSyncOfARetiredSegment(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := open(t, t.TempDir(), Options{Sync: SyncInterval, SegmentBytes: 64 << 10})
	defer s.Close()
	if _, err := s.Append(records("a", 300)); err != nil || len(s.own.segs) != 2 {
		t.Fatalf("Append: %v, %d segments", err, len(s.own.segs))
	}
	first := s.own.segs[0]
	inFirst := refsIn(s, first)
	s.Mark(inFirst[0]) // written since its fsync at the rotation
	var running sync.WaitGroup
	syncing, release, done := holdHook(&testHookSync, first.path, &running)
	defer done()
	synced := make(chan error, 1)
	running.Go(func() { synced <- s.Sync() })
	waitFor(t, syncing, "fsync of the first segment")
	within(t, &running, "Ack", func() { s.Ack(inFirst...) })
	release()
	if err := <-synced; err != nil {
		t.Fatalf("Sync of a segment removed meanwhile: %v", err)
	}
}

// The segment a rotation starts is created ahead, without the spool's lock
// (the spare): while the next one is being created (a hook holds it),
// Append of another goroutine, Claim, Ack and Stats go on; the next
// rotation starts it.
func TestSegmentCreationWithoutTheLock(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := open(t, t.TempDir(), Options{SegmentBytes: 64 << 10})
	defer s.Close()
	var running sync.WaitGroup
	creating, release, done := holdHook(&testHookCreateSegment, "", &running)
	defer done()
	appended := make(chan error, 1)
	running.Go(func() {
		_, err := s.Append(records("w", 300)) // segments 0 (full) and 1
		appended <- err
	})
	waitFor(t, creating, "creation of a segment")

	othersGoOn(t, s, &running, "the creation", 300)
	release()
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	spare := s.spare
	s.mu.Unlock()
	if spare == nil {
		t.Fatal("no spare segment after the rotation")
	}
	if _, err := s.Append(records("x", 300)); err != nil {
		t.Fatal(err)
	}
	if s.active != spare {
		t.Fatalf("the next rotation started %s, not the spare %s", s.active.path, spare.path)
	}
}

// The spare segment is an empty file: a process killed with one leaves it
// to the next owner of the slot, which removes it; Close removes it.
func TestSpareSegmentLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	refs, err := s.Append(records("a", 3))
	if err != nil {
		t.Fatal(err)
	}
	s.Release(refs...)
	if s.spare == nil {
		t.Fatal("no spare segment after Open")
	}
	spare := s.spare.path
	// Killed: the files stay, the lock goes.
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.own.lock.Close()

	s2 := open(t, dir, Options{})
	got := claimAll(s2)
	if len(got) != 3 {
		t.Fatalf("the next process found %d of 3 records", len(got))
	}
	for _, r := range got {
		s2.Ack(r.Ref)
	}
	if _, err := os.Stat(spare); !os.IsNotExist(err) {
		t.Fatalf("the spare left by the killed process is still there (%v)", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a spool closed with everything delivered left %v", names(left))
	}
}

// TestFailedSyncIsRetried: a segment whose fsync failed stays dirty, so
// the next Sync (SyncInterval's timer, Close) fsyncs it again instead of
// taking the records for durable.
func TestFailedSyncIsRetried(t *testing.T) {
	s := open(t, t.TempDir(), Options{Sync: SyncBatch})
	defer s.Close()
	path := s.active.path
	testHookSyncErr = func(string) error { return errors.New("injected EIO") }
	_, err := s.Append(records("a", 3))
	testHookSyncErr = nil
	if err == nil || !strings.Contains(err.Error(), "injected EIO") {
		t.Fatalf("Append: %v, want the fsync error", err)
	}
	var synced []string
	testHookSync = func(p string) { synced = append(synced, p) }
	defer func() { testHookSync = nil }()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(synced, path) {
		t.Errorf("Sync fsynced %v after the failure, want %s again", synced, path)
	}
}

// TestCloseRetriesAnFsyncThatFailsMeanwhile: a Sync (Close's) that runs
// while another goroutine's fsync of a segment is under way waits for it,
// and fsyncs the segment again when it failed, instead of skipping it (its
// dirty flag was cleared when that fsync began) and leaving it unsynced.
func TestCloseRetriesAnFsyncThatFailsMeanwhile(t *testing.T) {
	s := open(t, t.TempDir(), Options{Sync: SyncInterval, SegmentBytes: 64 << 10})
	first := s.active.path
	big := make([]byte, 40<<10)
	if _, err := s.Append([][]byte{big}); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	fsyncs, failed := 0, false // of the first segment
	testHookSync = func(p string) {
		mu.Lock()
		block := p == first && !failed
		mu.Unlock()
		if block {
			close(entered)
			<-release
		}
	}
	testHookSyncErr = func(p string) error {
		mu.Lock()
		defer mu.Unlock()
		if p != first {
			return nil
		}
		fsyncs++
		if !failed {
			failed = true
			return errors.New("injected EIO")
		}
		return nil
	}
	defer func() { testHookSync, testHookSyncErr = nil, nil }()
	appended := make(chan error)
	go func() {
		_, err := s.Append([][]byte{big}) // rotates: fsyncs the first segment after Unlock
		appended <- err
	}()
	waitFor(t, entered, "the rotation's fsync")
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(50 * time.Millisecond) // Close reaches its Sync
	close(release)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	err := <-closed
	mu.Lock()
	defer mu.Unlock()
	if fsyncs < 2 && err == nil {
		t.Errorf("the first segment's only fsync failed and Close returned nil without another (%d fsyncs)", fsyncs)
	}
}

// TestBatchAppendRacingCloseReportsTheMissedFsync: under SyncBatch, an
// Append that writes its record after Close's Sync, and reaches its own
// fsync after Close took the file, does not return nil: its record was
// never fsynced.
func TestBatchAppendRacingCloseReportsTheMissedFsync(t *testing.T) {
	s := open(t, t.TempDir(), Options{Sync: SyncBatch, SegmentBytes: 64 << 10})
	big := make([]byte, 40<<10)
	if _, err := s.Append([][]byte{big}); err != nil {
		t.Fatal(err)
	}
	// A rotation takes the spare; the Append then prepares the next one,
	// held in the hook: Close, after its Sync, waits for it.
	spareIn, spareGo := make(chan struct{}), make(chan struct{})
	var once sync.Once
	testHookCreateSegment = func(string) { once.Do(func() { close(spareIn); <-spareGo }) }
	defer func() { testHookCreateSegment, testHookSync = nil, nil }()
	rotated := make(chan error)
	go func() { _, err := s.Append([][]byte{big}); rotated <- err }()
	waitFor(t, spareIn, "the spare's creation")
	s.mu.Lock()
	seg := s.active
	s.mu.Unlock()
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(50 * time.Millisecond) // Close: Sync done, waiting for the spare
	// An Append writes now; its fsync waits until Close took the file.
	syncIn, syncGo := make(chan struct{}), make(chan struct{})
	var syncOnce sync.Once
	testHookSync = func(p string) {
		if p == seg.path {
			syncOnce.Do(func() { close(syncIn); <-syncGo })
		}
	}
	appended := make(chan error)
	go func() { _, err := s.Append([][]byte{[]byte("late record")}); appended <- err }()
	waitFor(t, syncIn, "the late Append's fsync")
	close(spareGo)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	close(syncGo)
	if err := <-rotated; err != nil {
		t.Fatal(err)
	}
	err := <-appended
	seg.syncMu.Lock()
	synced := seg.synced
	seg.syncMu.Unlock()
	if err == nil && synced < seg.size {
		t.Errorf("the late Append returned nil; its segment is fsynced to %d of %d bytes", synced, seg.size)
	}
}
