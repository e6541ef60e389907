// Package sse parses a server-sent-events stream (the text/event-stream
// format of the WHATWG HTML standard, as the OpenAI and Anthropic APIs send
// it) incrementally: bytes are fed as the reader of a response body sees
// them, and every complete event is handed to a callback. It never blocks,
// never reads on its own, and bounds the memory a malformed stream can take.
package sse

import "bytes"

// Event is one dispatched event. Data is the event's data lines joined by
// "\n" (without the trailing newline); it is only valid during the callback.
type Event struct {
	Type string
	Data []byte
}

// DefaultMaxEvent bounds the size of one event's data.
const DefaultMaxEvent = 8 << 20

// Parser is an incremental SSE parser. The zero value is ready to use; it is
// not safe for concurrent use.
type Parser struct {
	// MaxEvent bounds the bytes buffered for one line or one event's data
	// (DefaultMaxEvent when zero). A longer event is dropped and Overflowed
	// reports it.
	MaxEvent int

	line     []byte
	typ      []byte
	data     []byte
	hasData  bool
	skipLine bool // the current line is too long: drop it
	overflow bool
	lastCR   bool
}

// Feed parses p and calls fn for every event it completes.
func (p *Parser) Feed(b []byte, fn func(Event)) {
	max := p.MaxEvent
	if max <= 0 {
		max = DefaultMaxEvent
	}
	for len(b) > 0 {
		if p.lastCR {
			// A CRLF pair ends one line, not two.
			p.lastCR = false
			if b[0] == '\n' {
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			p.appendLine(b, max)
			return
		}
		p.appendLine(b[:i], max)
		if b[i] == '\r' {
			p.lastCR = true
		}
		b = b[i+1:]
		p.endLine(fn, max)
	}
}

// Flush dispatches a pending event at the end of the stream (a stream that
// ends without the final blank line).
func (p *Parser) Flush(fn func(Event)) {
	if len(p.line) > 0 || p.skipLine {
		p.endLine(fn, p.maxEvent())
	}
	p.dispatch(fn)
}

// Overflowed reports whether an event or line was dropped for being larger
// than MaxEvent.
func (p *Parser) Overflowed() bool { return p.overflow }

func (p *Parser) maxEvent() int {
	if p.MaxEvent <= 0 {
		return DefaultMaxEvent
	}
	return p.MaxEvent
}

func (p *Parser) appendLine(b []byte, max int) {
	if p.skipLine {
		return
	}
	if len(p.line)+len(b) > max {
		p.line, p.skipLine, p.overflow = p.line[:0], true, true
		return
	}
	p.line = append(p.line, b...)
}

func (p *Parser) endLine(fn func(Event), max int) {
	line := p.line
	p.line = p.line[:0]
	if p.skipLine {
		p.skipLine = false
		return
	}
	if len(line) == 0 {
		p.dispatch(fn)
		return
	}
	if line[0] == ':' { // comment
		return
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(name) {
	case "event":
		p.typ = append(p.typ[:0], value...)
	case "data":
		if len(p.data)+len(value)+1 > max {
			p.overflow = true
			p.data, p.hasData = p.data[:0], false
			return
		}
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
	}
}

func (p *Parser) dispatch(fn func(Event)) {
	if p.hasData {
		fn(Event{Type: string(p.typ), Data: p.data})
	}
	p.typ, p.data, p.hasData = p.typ[:0], p.data[:0], false
}
