package responsesagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// seedFixtures adds every payload of testdata/fixtures.json to the corpus.
func seedFixtures(f *testing.F) {
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		f.Fatal(err)
	}
	var all map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		f.Fatal(err)
	}
	for kind, cases := range all {
		for _, raw := range cases {
			if strings.HasPrefix(kind, "invalid_") {
				var c struct {
					Payload json.RawMessage `json:"payload"`
				}
				_ = json.Unmarshal(raw, &c)
				raw = c.Payload
			}
			f.Add([]byte(raw))
		}
	}
	for _, s := range []string{"", "{", "[]", "null", `{"input":"x"}`, `{"input":[{"role":"user","content":[{"type":"input_text","text":1}]}]}`, "\xff\xfe"} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeRequest: the decoder never panics, errors are *FieldError, and
// an accepted request survives encoding and decoding again, with the same
// trace value.
func FuzzDecodeRequest(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is %T, not *FieldError", err, err)
			}
			return
		}
		_, _ = req.takeOptions()
		tv := req.TraceValue()
		if !json.Valid(tv) {
			t.Fatalf("invalid trace value %s", tv)
		}
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("encoding an accepted request: %v", err)
		}
		again, err := DecodeRequest(out)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if tv2 := again.TraceValue(); !bytes.Equal(tv, tv2) {
			t.Fatalf("trace value changed after a round trip:\n%s\n%s", tv, tv2)
		}
	})
}

// FuzzSSEWriter: whatever event the agent yields, the stream is well formed:
// each event is exactly one "data: <JSON>" line followed by a blank line, and
// the JSON decodes to the same event.
func FuzzSSEWriter(f *testing.F) {
	seedFixtures(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var ev StreamEvent
		if ev.UnmarshalJSON(body) != nil {
			return
		}
		rec := httptest.NewRecorder()
		w := newSSEWriter(rec)
		if err := w.event(ev); err != nil {
			return // not encodable (invalid raw extra): nothing written
		}
		if err := w.errorEvent(string(body)); err != nil {
			t.Fatal(err)
		}
		if err := w.done(); err != nil {
			t.Fatal(err)
		}
		events := strings.Split(rec.Body.String(), "\n\n")
		if len(events) != 4 || events[3] != "" || events[2] != "data: [DONE]" {
			t.Fatalf("malformed stream %q", rec.Body.String())
		}
		for _, e := range events[:2] {
			payload, ok := strings.CutPrefix(e, "data: ")
			if !ok || strings.ContainsAny(payload, "\r\n") || !json.Valid([]byte(payload)) {
				t.Fatalf("malformed event %q", e)
			}
		}
		var back StreamEvent
		if err := back.UnmarshalJSON([]byte(strings.TrimPrefix(events[0], "data: "))); err != nil {
			t.Fatalf("decoding the written event: %v", err)
		}
		b1, _ := json.Marshal(ev)
		b2, _ := json.Marshal(back)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("event changed:\n%s\n%s", b1, b2)
		}
	})
}
