package spool

import (
	"encoding/binary"
	"hash/crc32"
)

// A segment file is a sequence of frames:
//
//	magic  4 bytes  0xF5 0x9A 0x1E 0xC7 (0xF5 never occurs in UTF-8 text)
//	length 4 bytes  little endian: bytes of the payload
//	crc    4 bytes  little endian: CRC-32C of the length bytes, kind and payload
//	kind   1 byte   'T' a trace record, 'A' acknowledgements, 'M' marks,
//	                'P' progress
//	payload
//
// A 'T' payload is the record's data (the exporter's encoded trace). An 'A'
// payload is a list of 4-byte little-endian offsets of 'T' frames of the
// same segment that are delivered (or moved to the dead letters): an
// acknowledgement always goes to the segment of the record it names, so a
// segment can be read, and deleted, on its own. An 'M' payload lists, the
// same way, records marked as partly delivered (Spool.Mark). A 'P' payload
// is a list of 8-byte pairs, each a 4-byte little-endian offset of a 'T'
// frame of the same segment and a 4-byte little-endian count: how much of
// that record reached its destination (Spool.MarkProgress); of several
// pairs for one record the highest count holds. A reader that predates 'P'
// frames skips them as damage (counted) and replays such a record whole,
// as it did before they existed.
//
// Reading tolerates damage: a frame whose magic, length or CRC is wrong is
// skipped and counted, and reading resumes at the next magic that starts a
// valid frame; a frame cut short by a crash (a torn tail) ends the segment.

const (
	frameHeader = 13
	kindTrace   = 'T'
	kindAck     = 'A'
	kindMark    = 'M'
	// kindProgress frames hold Spool.MarkProgress counts.
	kindProgress = 'P'
	// maxRecord bounds one record (a trace's encoding).
	maxRecord = 1 << 30
)

var (
	magic    = [4]byte{0xF5, 0x9A, 0x1E, 0xC7}
	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// appendFrame appends a frame of kind and payload to b.
func appendFrame(b []byte, kind byte, payload []byte) []byte {
	b = append(b, magic[:]...)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(payload)))
	b = append(b, n[:]...)
	crc := frameCRC(n[:], kind, payload)
	b = binary.LittleEndian.AppendUint32(b, crc)
	b = append(b, kind)
	return append(b, payload...)
}

func frameCRC(length []byte, kind byte, payload []byte) uint32 {
	c := crc32.Update(0, crcTable, length)
	c = crc32.Update(c, crcTable, []byte{kind})
	return crc32.Update(c, crcTable, payload)
}

func frameSize(payload int) int64 { return int64(frameHeader + payload) }

// frame is a valid frame found in a segment.
type frame struct {
	off     int64 // of the magic
	kind    byte
	payload []byte
}

// scanResult is what reading a segment found.
type scanResult struct {
	frames []frame
	// skipped counts damaged frames (bad magic region, length or CRC) and a
	// torn tail.
	skipped int
}

// scanFrames reads every valid frame of a segment's bytes.
func scanFrames(b []byte) scanResult {
	var r scanResult
	pos := 0
	damaged := false // inside a damaged region: count it once
	for pos < len(b) {
		f, ok := frameAt(b, pos)
		if ok {
			r.frames = append(r.frames, f)
			pos += frameHeader + len(f.payload)
			damaged = false
			continue
		}
		if !damaged {
			r.skipped++
			damaged = true
		}
		next := indexMagic(b, pos+1)
		if next < 0 {
			break
		}
		pos = next
	}
	return r
}

// frameAt decodes the frame at pos, if it is a valid one.
func frameAt(b []byte, pos int) (frame, bool) {
	if len(b)-pos < frameHeader || [4]byte(b[pos:pos+4]) != magic {
		return frame{}, false
	}
	// Compared before the conversion: on a 32-bit platform int(length)
	// of a damaged frame can be negative.
	length := binary.LittleEndian.Uint32(b[pos+4 : pos+8])
	if length > maxRecord || int64(length) > int64(len(b)-pos-frameHeader) {
		return frame{}, false
	}
	n := int(length)
	kind := b[pos+12]
	payload := b[pos+frameHeader : pos+frameHeader+n]
	if binary.LittleEndian.Uint32(b[pos+8:pos+12]) != frameCRC(b[pos+4:pos+8], kind, payload) {
		return frame{}, false
	}
	if kind != kindTrace && kind != kindAck && kind != kindMark && kind != kindProgress {
		return frame{}, false
	}
	return frame{off: int64(pos), kind: kind, payload: payload}, true
}

func indexMagic(b []byte, from int) int {
	for i := from; i+4 <= len(b); i++ {
		if b[i] == magic[0] && [4]byte(b[i:i+4]) == magic {
			return i
		}
	}
	return -1
}

// checkFrame verifies a frame read back from disk (header and payload) and
// returns its payload.
func checkFrame(b []byte) ([]byte, bool) {
	f, ok := frameAt(b, 0)
	if !ok || f.kind != kindTrace || len(f.payload) != len(b)-frameHeader {
		return nil, false
	}
	return f.payload, true
}

// ackPayload encodes frame offsets for an 'A' frame.
func ackPayload(offs []int64) []byte {
	b := make([]byte, 0, 4*len(offs))
	for _, o := range offs {
		b = binary.LittleEndian.AppendUint32(b, uint32(o))
	}
	return b
}

func ackOffsets(p []byte) []int64 {
	out := make([]int64, 0, len(p)/4)
	for i := 0; i+4 <= len(p); i += 4 {
		out = append(out, int64(binary.LittleEndian.Uint32(p[i:i+4])))
	}
	return out
}

// progressPayload encodes (offset, count) pairs for a 'P' frame.
func progressPayload(offs []int64, counts []uint32) []byte {
	b := make([]byte, 0, 8*len(offs))
	for i, o := range offs {
		b = binary.LittleEndian.AppendUint32(b, uint32(o))
		b = binary.LittleEndian.AppendUint32(b, counts[i])
	}
	return b
}

// progressCounts adds the pairs of a 'P' payload to counts, keeping the
// highest count per offset.
func progressCounts(p []byte, counts map[int64]uint32) {
	for i := 0; i+8 <= len(p); i += 8 {
		off := int64(binary.LittleEndian.Uint32(p[i : i+4]))
		counts[off] = max(counts[off], binary.LittleEndian.Uint32(p[i+4:i+8]))
	}
}
