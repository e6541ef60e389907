// Package eventstream reads and writes the AWS event-stream framing
// (application/vnd.amazon.eventstream): the binary messages in which AWS
// services such as Bedrock Runtime stream their answers (ConverseStream,
// InvokeModelWithResponseStream).
//
// A message is a 12-byte prelude (total length, headers length, both
// big-endian uint32, and the CRC-32 of those 8 bytes), the headers, the
// payload, and the CRC-32 of everything before it. A header is a name (one
// length byte, then the name), a value type byte and the value. AWS marks a
// message with the string headers :message-type ("event", "exception" or
// "error"), :event-type or :exception-type, and :content-type.
//
// Decoder is incremental: it is fed the bytes a response body's reader sees
// and never reads on its own, and it bounds the memory a malformed stream
// can take. AppendMessage writes a message (the fake Bedrock Runtime of
// internal/llmtest uses it).
package eventstream

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// MaxMessage is the largest message the framing allows (16 MiB), and so the
// most a Decoder buffers.
const MaxMessage = 16 << 20

// maxHeaders bounds the headers of one message (AWS: 128 KiB).
const maxHeaders = 128 << 10

const preludeLen = 12

// Header value types.
const (
	typeTrue      = 0
	typeFalse     = 1
	typeByte      = 2
	typeInt16     = 3
	typeInt32     = 4
	typeInt64     = 5
	typeBytes     = 6
	typeString    = 7
	typeTimestamp = 8
	typeUUID      = 9
)

// Header is one header of a message. Decoder gives every value as its text
// form: strings and byte arrays as they are, integers and timestamps
// (milliseconds) in decimal, booleans "true"/"false", a UUID as 32 hex
// digits.
type Header struct {
	Name  string
	Value string
}

// Message is one decoded message.
type Message struct {
	Headers []Header
	Payload []byte
}

// Header returns the value of the header name ("" when absent).
func (m Message) Header(name string) string {
	for _, h := range m.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Type is the message's kind and name as AWS marks them: for an event
// ("event", the :event-type), an exception ("exception", the
// :exception-type) or an error ("error", the :error-code).
func (m Message) Type() (kind, name string) {
	kind = m.Header(":message-type")
	switch kind {
	case "exception":
		return kind, m.Header(":exception-type")
	case "error":
		return kind, m.Header(":error-code")
	}
	return kind, m.Header(":event-type")
}

// ErrCorrupt reports bytes that are not a valid message (a bad length or
// checksum, or a malformed header); Decoder stops at the first.
var ErrCorrupt = errors.New("eventstream: corrupt message")

// Decoder splits a byte stream into messages. The zero value is ready to
// use; it is not safe for concurrent use.
type Decoder struct {
	buf []byte
	err error
}

// Feed decodes p and calls fn for every message it completes. A message's
// payload and header values are only valid during the call. After corrupt
// input Feed ignores everything (Err reports it).
func (d *Decoder) Feed(p []byte, fn func(Message)) {
	for len(p) > 0 && d.err == nil {
		if len(d.buf) == 0 {
			// Whole messages straight from p, without copying.
			n, ok := d.next(p, fn)
			if d.err != nil {
				return
			}
			if ok {
				p = p[n:]
				continue
			}
		}
		if len(d.buf)+len(p) < 4 {
			// The total length is not known yet.
			d.buf = append(d.buf, p...)
			return
		}
		var head [4]byte
		k := copy(head[:], d.buf)
		copy(head[k:], p)
		need := int(binary.BigEndian.Uint32(head[:]))
		if need < preludeLen+4 || need > MaxMessage {
			d.fail()
			return
		}
		had := len(d.buf)
		take := min(need-len(d.buf), len(p))
		d.buf = append(d.buf, p[:take]...)
		p = p[take:]
		if had < preludeLen && len(d.buf) >= preludeLen && !validPrelude(d.buf) {
			// Known bad before the rest arrives.
			d.fail()
			return
		}
		if len(d.buf) == need {
			if _, ok := d.next(d.buf, fn); !ok && d.err == nil {
				d.fail()
			}
			d.buf = d.buf[:0]
		}
	}
}

// Pending reports bytes of an incomplete message held back (a stream that
// ends there was cut).
func (d *Decoder) Pending() bool { return len(d.buf) > 0 }

// Err reports corrupt input (nil while the stream is well-formed).
func (d *Decoder) Err() error { return d.err }

func (d *Decoder) fail() {
	d.err = ErrCorrupt
	d.buf = nil
}

// next decodes one message at the start of b: n bytes taken and true, or
// false when b holds no complete message (d.err set when it never will).
func (d *Decoder) next(b []byte, fn func(Message)) (int, bool) {
	if len(b) < preludeLen {
		return 0, false
	}
	if !validPrelude(b) {
		d.fail()
		return 0, false
	}
	total := int(binary.BigEndian.Uint32(b))
	hlen := int(binary.BigEndian.Uint32(b[4:]))
	if len(b) < total {
		return 0, false
	}
	if crc32.ChecksumIEEE(b[:total-4]) != binary.BigEndian.Uint32(b[total-4:]) {
		d.fail()
		return 0, false
	}
	headers, ok := parseHeaders(b[preludeLen : preludeLen+hlen])
	if !ok {
		d.fail()
		return 0, false
	}
	fn(Message{Headers: headers, Payload: b[preludeLen+hlen : total-4]})
	return total, true
}

// validPrelude checks the 12-byte prelude at the start of b: lengths in
// range and its checksum.
func validPrelude(b []byte) bool {
	total := int(binary.BigEndian.Uint32(b))
	hlen := int(binary.BigEndian.Uint32(b[4:]))
	return total >= preludeLen+4 && total <= MaxMessage && hlen <= maxHeaders && preludeLen+hlen+4 <= total &&
		crc32.ChecksumIEEE(b[:8]) == binary.BigEndian.Uint32(b[8:])
}

func parseHeaders(b []byte) ([]Header, bool) {
	out := make([]Header, 0, 4)
	for len(b) > 0 {
		n := int(b[0])
		if n == 0 || len(b) < 1+n+1 {
			return nil, false
		}
		name := headerString(b[1 : 1+n])
		typ := b[1+n]
		b = b[2+n:]
		var val string
		var size int
		switch typ {
		case typeTrue:
			val = "true"
		case typeFalse:
			val = "false"
		case typeByte:
			size = 1
		case typeInt16:
			size = 2
		case typeInt32:
			size = 4
		case typeInt64, typeTimestamp:
			size = 8
		case typeUUID:
			size = 16
		case typeBytes, typeString:
			if len(b) < 2 {
				return nil, false
			}
			size = int(binary.BigEndian.Uint16(b))
			b = b[2:]
		default:
			return nil, false
		}
		if len(b) < size {
			return nil, false
		}
		v := b[:size]
		b = b[size:]
		switch typ {
		case typeByte:
			val = itoa(int64(int8(v[0])))
		case typeInt16:
			val = itoa(int64(int16(binary.BigEndian.Uint16(v))))
		case typeInt32:
			val = itoa(int64(int32(binary.BigEndian.Uint32(v))))
		case typeInt64, typeTimestamp:
			val = itoa(int64(binary.BigEndian.Uint64(v)))
		case typeUUID:
			const hexDigits = "0123456789abcdef"
			h := make([]byte, 32)
			for i, c := range v {
				h[2*i], h[2*i+1] = hexDigits[c>>4], hexDigits[c&0xf]
			}
			val = string(h)
		case typeBytes, typeString:
			val = headerString(v)
		}
		out = append(out, Header{Name: name, Value: val})
	}
	if len(out) == 0 {
		return nil, true
	}
	return out, true
}

// commonHeaders are the header names and string values every message of
// an AWS event stream repeats (AWS's own, and Bedrock Runtime's event
// types): headerString returns them without a copy.
var commonHeaders = []string{
	":event-type", ":content-type", ":message-type", ":exception-type", ":error-code", ":error-message",
	"event", "exception", "error", "application/json",
	"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "chunk",
}

// headerString is string(b), without allocating for a common header.
func headerString(b []byte) string {
	for _, s := range commonHeaders {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

func itoa(n int64) string {
	var b [24]byte
	i := len(b)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// AppendMessage appends the encoding of a message with string headers (in
// the given order) and payload to dst.
func AppendMessage(dst []byte, headers []Header, payload []byte) []byte {
	hlen := 0
	for _, h := range headers {
		hlen += 1 + len(h.Name) + 1 + 2 + len(h.Value)
	}
	total := preludeLen + hlen + len(payload) + 4
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(hlen))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:start+8]))
	for _, h := range headers {
		dst = append(dst, byte(len(h.Name)))
		dst = append(dst, h.Name...)
		dst = append(dst, typeString)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.Value)))
		dst = append(dst, h.Value...)
	}
	dst = append(dst, payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}
