// Package spool is the exporter's durable spool: a directory where
// finished traces wait, on disk, until their destination has confirmed
// them. It is a small write-ahead log of its own (chosen over bbolt by
// measurement, see BENCHMARKS.md): CRC-framed segment files, appended to
// and fsynced per policy (Sync), acknowledged in place, deleted when every
// record in them is acknowledged; and a dead-letter directory of one JSON
// file per trace that could not be delivered.
// What part of a record already reached its destination is noted in its
// segment too, unsynced like an acknowledgement: a mark (Mark,
// Record.Marked) or a count that only grows (MarkProgress,
// Record.Progress), so that a replay sends only the rest.
//
// Layout of the directory (MLFLOWTRACE_SPOOL_DIR):
//
//	<dir>/slot-0/LOCK                  flock of the process owning the slot
//	<dir>/slot-0/0000000000000001.seg  segment files (see frame.go)
//	<dir>/slot-0/dead/<trace>.json     dead letters: {"info": …, "data": {"spans": […]}}
//	<dir>/slot-1/…                     a second process running on the same directory
//
// One process owns a slot at a time (flock); a second process on the same
// directory takes the next free slot. The slot of a process that is gone
// (its lock is free) is adopted by the next process that opens or polls
// the directory (Open, Adopt): its records are replayed, its dead letters
// move over, and the emptied slot is removed.
//
// Damage is skipped, counted and survived: a torn tail (a crash in the
// middle of a write), a bad checksum, an unreadable record. The package
// never panics on what it reads.
//
// A Spool is safe for concurrent use. One mutex guards the index (which
// record is where, in which state; the bytes on disk); the slow file work
// runs without it, so that an fsync or an unlink never holds up Append,
// Claim, Ack or Stats of other goroutines:
//   - fsyncs: Append's under SyncBatch, the one of the segment a rotation
//     ends (before Append returns, unless SyncNone) and Sync's. Fsyncs of
//     one segment are shared (one serves every write before it began);
//     those of different segments run side by side;
//   - creating the segment a rotation starts: it is made ahead (the spare:
//     the file, and under SyncBatch its directory's fsync) at Open and by
//     the Append whose rotation took the previous one. An empty spare left
//     by a killed process is removed by the slot's next owner;
//   - reading records back (Claim) and adopting a slot (Adopt);
//   - removing and closing files: a segment whose records are all
//     acknowledged, an adopted slot emptied, a delivered dead letter, and
//     the files at Close. They are taken out of the index under the lock
//     and removed after it, in the order they were taken out (a slot after
//     its segments); the call that took them out returns once they are
//     gone.
//
// Under the lock stay the writes to the page cache (Append's records,
// Ack's and Mark's frames: cheap, and in the order the index gives them
// their offsets); the creation of a segment when a rotation finds no spare
// ready (its creation failed, or is still under way); the first segment at
// Open; and Check's recreation of a vanished slot directory (with a new
// segment: the spare may have vanished with it).
//
// The package starts no goroutine: its owner (the exporter's pipeline)
// calls Sync on a timer for SyncInterval and Adopt now and then.
package spool
