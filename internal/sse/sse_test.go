package sse

import (
	"strings"
	"testing"
)

func collect(chunks []string, max int) ([]Event, bool) {
	p := Parser{MaxEvent: max}
	var got []Event
	fn := func(e Event) { got = append(got, Event{Type: e.Type, Data: append([]byte(nil), e.Data...)}) }
	for _, c := range chunks {
		p.Feed([]byte(c), fn)
	}
	p.Flush(fn)
	return got, p.Overflowed()
}

func TestParser(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string // "type|data"
		over   bool
	}{
		{name: "openai", chunks: []string{"data: {\"a\":1}\n\ndata: [DONE]\n\n"}, want: []string{"|{\"a\":1}", "|[DONE]"}},
		{name: "typed events", chunks: []string{"event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n"},
			want: []string{"message_start|{}", "ping|{\"type\": \"ping\"}"}},
		{name: "split anywhere", chunks: []string{"da", "ta: x", "y\n", "\nevent: e", "\ndata:z\n", "\n"}, want: []string{"|xy", "e|z"}},
		{name: "CRLF and CR", chunks: []string{"data: a\r\n\r\ndata: b\r", "\r", "data: c\r\n", "\r\n"}, want: []string{"|a", "|b", "|c"}},
		{name: "multi-line data and comments", chunks: []string{": keep-alive\ndata: 1\ndata: 2\nid: 7\nretry: 3\n\n"}, want: []string{"|1\n2"}},
		{name: "event without data is not dispatched", chunks: []string{"event: x\n\ndata: y\n\n"}, want: []string{"|y"}},
		{name: "no trailing blank line", chunks: []string{"data: last"}, want: []string{"|last"}},
		{name: "oversized event dropped", chunks: []string{"data: " + strings.Repeat("x", 100) + "\n\ndata: ok\n\n"}, want: []string{"|ok"}, over: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, over := collect(tt.chunks, 64)
			var s []string
			for _, e := range got {
				s = append(s, e.Type+"|"+string(e.Data))
			}
			if strings.Join(s, ";") != strings.Join(tt.want, ";") || over != tt.over {
				t.Errorf("got %q overflow %v, want %q overflow %v", s, over, tt.want, tt.over)
			}
		})
	}
}

func BenchmarkParser(b *testing.B) {
	chunk := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hello "}}]}` + "\n\n")
	var p Parser
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for i := 0; i < b.N; i++ {
		p.Feed(chunk, func(Event) {})
	}
}
