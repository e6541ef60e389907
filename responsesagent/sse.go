package responsesagent

import (
	"encoding/json"
	"io"
	"net/http"
)

// sseWriter writes Server-Sent Events the way MLflow's agent server does:
// one "data: <json>\n\n" per event, flushed at once, "data: [DONE]\n\n" at
// the end. No "event:" lines (the OpenAI clients read the type from the
// JSON).
type sseWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	buf []byte
	err error // first write error: the client is gone
}

func newSSEWriter(w http.ResponseWriter) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w)}
}

// data writes one event whose payload is the JSON text payload (which must
// not contain a newline: JSON from encoding/json never does) and flushes it.
func (s *sseWriter) data(payload []byte) error {
	if s.err != nil {
		return s.err
	}
	s.buf = append(s.buf[:0], "data: "...)
	s.buf = append(s.buf, payload...)
	s.buf = append(s.buf, "\n\n"...)
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = err
		return err
	}
	if err := s.rc.Flush(); err != nil && err != http.ErrNotSupported {
		s.err = err
		return err
	}
	return nil
}

// event writes v as one event.
func (s *sseWriter) event(v any) error {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		b, err = m.MarshalJSON() // compact and valid by construction
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	return s.data(b)
}

// errorEvent writes MLflow's mid-stream error event {"error": "<message>"}.
func (s *sseWriter) errorEvent(msg string) error {
	return s.event(map[string]string{"error": msg})
}

func (s *sseWriter) done() error { return s.data([]byte("[DONE]")) }
