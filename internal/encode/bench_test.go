package encode

import (
	"encoding/json"
	"fmt"
	"testing"
)

type benchStruct struct {
	Model    string           `json:"model"`
	Messages []map[string]any `json:"messages"`
	Temp     float64          `json:"temperature"`
}

func BenchmarkJSON(b *testing.B) {
	values := []struct {
		name string
		v    any
	}{
		{"string", "hello world"},
		{"unicode string", "héllo wörld"},
		{"int", 42},
		{"float", 0.25},
		{"map", map[string]any{"role": "user", "content": "hi", "n": 1}},
		{"slice", []any{"a", 1, true, nil}},
		{"struct", benchStruct{Model: "gpt", Messages: []map[string]any{{"role": "user", "content": "hi"}}, Temp: 0.2}},
		{"small struct", benchQuery{Q: "what is mlflow?", TopK: 3}},
		{"struct ptr", &benchStruct{Model: "gpt", Messages: []map[string]any{{"role": "user", "content": "hi"}}, Temp: 0.2}},
		{"strings", []string{"a", "b", "c"}},
		{"string map", map[string]string{"b": "1", "a": "2", "c": "3"}},
		{"list of maps", []map[string]any{{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}}},
	}
	for _, tt := range values {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = JSON(tt.v)
			}
		})
		// The same value through encoding/json, for comparison.
		b.Run(tt.name+"/json.Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, _ := json.Marshal(tt.v)
				_ = string(out)
			}
		})
	}
}

type benchQuery struct {
	Q    string `json:"q"`
	TopK int    `json:"top_k"`
}

func ExampleJSON() {
	fmt.Println(JSON(map[string]any{"messages": []any{map[string]any{"role": "user", "content": "héllo"}}, "temperature": 1.0}))
	fmt.Println(JSON(make(chan int)))
	// Output:
	// {"messages": [{"content": "héllo", "role": "user"}], "temperature": 1.0}
	// "<chan int>"
}

func ExampleTruncate() {
	fmt.Println(Truncate("héllo wörld", 8))
	// Output: héllo...
}
