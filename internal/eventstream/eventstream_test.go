package eventstream

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	awsevent "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// The AWS SDK's own codec is the oracle: what AppendMessage writes it reads,
// and what it writes Decoder reads, whatever the chunking.
func TestAgainstTheSDKCodec(t *testing.T) {
	headers := []Header{{":message-type", "event"}, {":event-type", "contentBlockDelta"}, {":content-type", "application/json"}}
	payload := []byte(`{"contentBlockIndex":0,"delta":{"text":"Hé"},"p":"abcd"}`)
	b := AppendMessage(nil, headers, payload)
	m, err := awsevent.NewDecoder().Decode(bytes.NewReader(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Payload, payload) || m.Headers.Get(":event-type").String() != "contentBlockDelta" || len(m.Headers) != 3 {
		t.Fatalf("SDK read %+v", m)
	}

	// Every header type the SDK writes, several messages, fed in every split.
	var stream bytes.Buffer
	enc := awsevent.NewEncoder()
	var sdkHeaders awsevent.Headers
	sdkHeaders.Set(":message-type", awsevent.StringValue("exception"))
	sdkHeaders.Set(":exception-type", awsevent.StringValue("throttlingException"))
	sdkHeaders.Set("t", awsevent.BoolValue(true))
	sdkHeaders.Set("f", awsevent.BoolValue(false))
	sdkHeaders.Set("b", awsevent.Int8Value(-3))
	sdkHeaders.Set("s", awsevent.Int16Value(-300))
	sdkHeaders.Set("i", awsevent.Int32Value(70000))
	sdkHeaders.Set("l", awsevent.Int64Value(-1<<40))
	sdkHeaders.Set("bytes", awsevent.BytesValue([]byte("raw")))
	sdkHeaders.Set("u", awsevent.UUIDValue{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	for i := 0; i < 3; i++ {
		if err := enc.Encode(&stream, awsevent.Message{Headers: sdkHeaders, Payload: []byte(fmt.Sprintf(`{"message":"slow down %d"}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(&stream, awsevent.Message{}); err != nil { // no headers, no payload
		t.Fatal(err)
	}
	want := map[string]string{":message-type": "exception", ":exception-type": "throttlingException", "t": "true", "f": "false",
		"b": "-3", "s": "-300", "i": "70000", "l": "-1099511627776", "bytes": "raw", "u": "deadbeef000102030405060708090a0b"}
	all := stream.Bytes()
	for _, chunk := range []int{1, 2, 5, 13, 64, len(all)} {
		t.Run(fmt.Sprintf("chunks of %d", chunk), func(t *testing.T) {
			var d Decoder
			var got []string
			for i := 0; i < len(all); i += chunk {
				d.Feed(all[i:min(i+chunk, len(all))], func(m Message) {
					if len(m.Headers) > 0 {
						for _, h := range m.Headers {
							if want[h.Name] != h.Value {
								t.Errorf("header %s = %q, want %q", h.Name, h.Value, want[h.Name])
							}
						}
						if kind, name := m.Type(); kind != "exception" || name != "throttlingException" {
							t.Errorf("type %s %s", kind, name)
						}
					}
					got = append(got, string(m.Payload))
				})
			}
			if d.Err() != nil || d.Pending() || len(got) != 4 || got[2] != `{"message":"slow down 2"}` || got[3] != "" {
				t.Errorf("err %v pending %v messages %q", d.Err(), d.Pending(), got)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	good := AppendMessage(nil, []Header{{":event-type", "chunk"}}, []byte(`{}`))
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"prelude checksum", flip(9)},
		{"total length", flip(2)},
		{"message checksum", flip(len(good) - 1)},
		{"payload", flip(len(good) - 5)},
		{"too short", []byte{0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"too long", []byte{0x7f, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, whole := range []bool{true, false} {
				var d Decoder
				n := 0
				if whole {
					d.Feed(append(tt.b, good...), func(Message) { n++ })
				} else {
					for i := range tt.b {
						d.Feed(tt.b[i:i+1], func(Message) { n++ })
					}
					d.Feed(good, func(Message) { n++ })
				}
				if !errors.Is(d.Err(), ErrCorrupt) || n != 0 {
					t.Errorf("whole %v: err %v, %d messages", whole, d.Err(), n)
				}
			}
		})
	}
	var d Decoder
	d.Feed(good[:len(good)-1], func(Message) { t.Error("incomplete message delivered") })
	if !d.Pending() || d.Err() != nil {
		t.Errorf("pending %v err %v", d.Pending(), d.Err())
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add(AppendMessage(nil, []Header{{":event-type", "chunk"}}, []byte(`{"bytes":"e30="}`)), 3)
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 0}, 1)
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, split Decoder
		var a, c []string
		whole.Feed(b, func(m Message) { a = append(a, fmt.Sprint(m)) })
		for i := 0; i < len(b); i += chunk {
			split.Feed(b[i:min(i+chunk, len(b))], func(m Message) { c = append(c, fmt.Sprint(m)) })
		}
		if fmt.Sprint(a) != fmt.Sprint(c) || (whole.Err() == nil) != (split.Err() == nil) {
			t.Fatalf("whole %v %v, split %v %v", a, whole.Err(), c, split.Err())
		}
	})
}

func BenchmarkDecoder(b *testing.B) {
	msg := AppendMessage(nil, []Header{{":message-type", "event"}, {":event-type", "contentBlockDelta"}, {":content-type", "application/json"}},
		[]byte(`{"contentBlockIndex":0,"delta":{"text":"Hello, "},"p":"abcdefghijklmnopqrstuvwxyz"}`))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	var d Decoder
	for i := 0; i < b.N; i++ {
		d.Feed(msg[:20], func(Message) {})
		d.Feed(msg[20:], func(Message) {})
	}
}
