package spool

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// progressFrame is a 'P' frame of (offset, count) pairs, built by hand.
func progressFrame(pairs ...[2]uint32) []byte {
	var p []byte
	for _, pr := range pairs {
		p = binary.LittleEndian.AppendUint32(p, pr[0])
		p = binary.LittleEndian.AppendUint32(p, pr[1])
	}
	return appendFrame(nil, kindProgress, p)
}

// Segments written by hand, as an older exporter (only 'M' marks) and this
// one ('P' progress) leave them, are read back with each record's marks.
func TestMarksAndProgressReadBack(t *testing.T) {
	recA, recB, recC := appendFrame(nil, kindTrace, []byte("a")), appendFrame(nil, kindTrace, []byte("b")), appendFrame(nil, kindTrace, []byte("c"))
	offA, offB, offC := uint32(0), uint32(len(recA)), uint32(len(recA)+len(recB))
	cases := []struct {
		name     string
		frames   [][]byte // after the three records
		acked    int      // records acknowledged by frames
		marked   map[string]bool
		progress map[string]int
		skipped  int64
	}{
		{name: "no marks"},
		{name: "old spool: marks only",
			frames: [][]byte{appendFrame(nil, kindMark, ackPayload([]int64{int64(offA), int64(offC)}))},
			marked: map[string]bool{"a": true, "c": true}},
		{name: "progress of two records in one frame",
			frames:   [][]byte{progressFrame([2]uint32{offA, 500}, [2]uint32{offB, 7})},
			progress: map[string]int{"a": 500, "b": 7}},
		{name: "the highest count wins",
			frames:   [][]byte{progressFrame([2]uint32{offB, 500}), progressFrame([2]uint32{offB, 1500}), progressFrame([2]uint32{offB, 1000})},
			progress: map[string]int{"b": 1500}},
		{name: "progress, then the mark",
			frames:   [][]byte{progressFrame([2]uint32{offC, 500}), appendFrame(nil, kindMark, ackPayload([]int64{int64(offC)}))},
			marked:   map[string]bool{"c": true},
			progress: map[string]int{"c": 500}},
		{name: "progress of an acknowledged record",
			frames: [][]byte{progressFrame([2]uint32{offA, 500}), appendFrame(nil, kindAck, ackPayload([]int64{int64(offA)}))},
			acked:  1},
		{name: "a damaged progress frame is skipped",
			frames: [][]byte{func() []byte {
				f := progressFrame([2]uint32{offA, 500})
				f[len(f)-1] ^= 0x55
				return f
			}(), progressFrame([2]uint32{offB, 3})},
			progress: map[string]int{"b": 3},
			skipped:  1},
		{name: "a truncated pair is ignored",
			frames:   [][]byte{appendFrame(nil, kindProgress, append(progressFrame([2]uint32{offA, 9})[frameHeader:], 1, 2, 3))},
			progress: map[string]int{"a": 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			slot := filepath.Join(dir, "slot-0")
			if err := os.MkdirAll(slot, 0o755); err != nil {
				t.Fatal(err)
			}
			seg := append(append(append([]byte(nil), recA...), recB...), recC...)
			for _, f := range c.frames {
				seg = append(seg, f...)
			}
			if err := os.WriteFile(filepath.Join(slot, "0000000000000001.seg"), seg, 0o644); err != nil {
				t.Fatal(err)
			}
			s := open(t, dir, Options{})
			defer s.Close()
			got := claimAll(s)
			if wantN := 3 - c.acked; len(got) != wantN {
				t.Fatalf("%d records, want %d", len(got), wantN)
			}
			for _, r := range got {
				if r.Marked != c.marked[string(r.Data)] || r.Progress != c.progress[string(r.Data)] {
					t.Errorf("record %s: Marked %v Progress %d, want %v %d", r.Data, r.Marked, r.Progress, c.marked[string(r.Data)], c.progress[string(r.Data)])
				}
			}
			if st := s.Stats(); st.Skipped != c.skipped {
				t.Errorf("skipped %d, want %d", st.Skipped, c.skipped)
			}
		})
	}
}

// MarkProgress keeps the highest count, in memory (a record released and
// claimed again) and on disk (the next process).
func TestMarkProgressSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	recs := records("p", 3)
	refs, err := s.Append(recs)
	if err != nil {
		t.Fatal(err)
	}
	size := s.Stats().Bytes
	s.MarkProgress(refs[0], 500)
	s.MarkProgress(refs[0], 300) // lower: ignored
	s.MarkProgress(refs[0], 1000)
	s.MarkProgress(refs[1], 0)  // nothing
	s.MarkProgress(refs[1], -5) // nothing
	s.MarkProgress(refs[2], 500)
	s.MarkProgress(refs[2], 500) // the same: ignored
	if grown, want := s.Stats().Bytes-size, 3*frameSize(8); grown != want {
		t.Errorf("the spool grew by %d bytes, want %d (three progress frames)", grown, want)
	}
	check := func(s *Spool, when string) {
		t.Helper()
		got := map[string]int{}
		for _, r := range claimAll(s) {
			got[string(r.Data)] = r.Progress
		}
		want := map[string]int{string(recs[0]): 1000, string(recs[1]): 0, string(recs[2]): 500}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: progress %v, want %v", when, got, want)
		}
	}
	s.Release(refs...)
	check(s, "claimed again")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, dir, Options{})
	defer s2.Close()
	check(s2, "after reopening")
}
