package anthropic

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestStreamEventDecodingMatchesUnmarshal holds the stream event and delta
// decoding without reflection to json.Unmarshal's result, on ordinary
// events and on odd ones (left to encoding/json).
func TestStreamEventDecodingMatchesUnmarshal(t *testing.T) {
	events := []string{
		`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":5}}}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"get","input":{}}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel\u00e9\n"}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"cited_text":"x"}}}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`,
		`{"type":"error","error":{"type":"overloaded_error","message":"busy"}}`,
		`{"type":"content_block_delta","index":"1"}`,
		`{"type":"content_block_delta","index":1.5}`,
		`{"Type":"message_stop"}`,
		`{"type":"a","type":"b"}`,
		`{"type":null,"index":null,"delta":null}`,
		`{"type":"content_block_delta","delta":{"type":"text_delta","text":7}}`,
		`{"type":"content_block_delta","delta":{"TEXT":"x","text":"y"}}`,
		`{"type":"content_block_delta","delta":"s"}`,
		`[1]`, `null`, `{"type":`,
	}
	for _, in := range events {
		if !json.Valid([]byte(in)) {
			continue // Event drops it before decoding
		}
		got, ok := decodeStreamEvent([]byte(in))
		var want streamEvent
		wantOK := json.Unmarshal([]byte(in), &want) == nil
		if ok != wantOK || (ok && !reflect.DeepEqual(got, want)) {
			t.Errorf("decodeStreamEvent(%s) = %+v, %v; json.Unmarshal gives %+v, %v", in, got, ok, want, wantOK)
		}
		if !ok {
			continue
		}
		d, ok := decodeBlockDelta(got.Delta)
		var wantD blockDelta
		wantOK = json.Unmarshal(got.Delta, &wantD) == nil
		if ok != wantOK || (ok && !reflect.DeepEqual(d, wantD)) {
			t.Errorf("decodeBlockDelta(%s) = %+v, %v; json.Unmarshal gives %+v, %v", got.Delta, d, ok, wantD, wantOK)
		}
	}
}
