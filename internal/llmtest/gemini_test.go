package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestGeminiStrictness(t *testing.T) {
	s := Start(t)
	key := map[string]string{"X-Goog-Api-Key": GeminiKey, "Content-Type": "application/json"}
	vertex := map[string]string{"Authorization": "Bearer " + VertexToken, "Content-Type": "application/json"}
	const gen = "/v1beta/models/gemini-2.5-flash:generateContent"
	const vgen = "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
	const hi = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		body    string
		status  int
		want    string // in the answer
	}{
		{"answer", gen, key, hi, 200, `"text":"You said: hi"`},
		{"key as query parameter", gen + "?key=" + GeminiKey, map[string]string{"Content-Type": "application/json"}, hi, 200, `"finishReason":"STOP"`},
		{"no key", gen, map[string]string{"Content-Type": "application/json"}, hi, 403, "Method doesn't allow unregistered callers"},
		{"wrong key", gen, map[string]string{"X-Goog-Api-Key": "nope", "Content-Type": "application/json"}, hi, 400, "API key not valid"},
		{"unknown member", gen, key, `{"contents":[],"temprature":1}`, 400, `Unknown name \"temprature\": Cannot find field.`},
		{"unknown nested member", gen, key, `{"contents":[{"role":"user","parts":[{"txt":"hi"}]}]}`, 400, `Unknown name \"txt\" at 'contents[0].parts[0]'`},
		{"wrong type", gen, key, `{"contents":[{"role":"user","parts":[{"text":1}]}]}`, 400, "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING)"},
		{"bad enum", gen, key, `{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"STRINGY"}}]}]}`, 400, `v1beta.Type), \"STRINGY\"`},
		{"no contents", gen, key, `{}`, 400, "contents is not specified"},
		{"two data fields in a part", gen, key, `{"contents":[{"parts":[{"text":"a","functionCall":{"name":"f"}}]}]}`, 400, "required oneof field 'data'"},
		{"function response without a call", gen, key, `{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]}`, 400, "number of function response parts is equal to the number of function call parts"},
		{"bad role", gen, key, `{"contents":[{"role":"assistant","parts":[{"text":"hi"}]}]}`, 400, "Please use a valid role"},
		{"temperature out of range", gen, key, `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"temperature":3}}`, 400, "temperature: must be in the range [0.0, 2.0]"},
		{"labels on the Gemini API", gen, key, `{"contents":[{"parts":[{"text":"hi"}]}],"labels":{"a":"b"}}`, 400, `Unknown name \"labels\"`},
		{"unknown model", "/v1beta/models/gemini-x:generateContent", key, hi, 404, "models/gemini-x is not found for API version v1beta"},
		{"embedding model generates", "/v1beta/models/text-embedding-004:generateContent", key, hi, 404, "is not found"},
		{"stream without alt=sse", "/v1beta/models/gemini-2.5-flash:streamGenerateContent", key, hi, 400, "alt=sse"},
		{"batch embedding for another model", "/v1beta/models/text-embedding-004:batchEmbedContents", key,
			`{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}}]}`, 400, "the model of each request must be the batch's model"},
		{"embedding too wide", "/v1beta/models/text-embedding-004:embedContent", key, `{"content":{"parts":[{"text":"a"}]},"outputDimensionality":5000}`, 400, "must be between 1 and 768"},
		{"count tokens", "/v1beta/models/gemini-2.5-flash:countTokens", key, hi, 200, `"totalTokens":1`},
		{"vertex", vgen, vertex, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"labels":{"team":"a"}}`, 200, `"trafficType":"ON_DEMAND"`},
		{"vertex without a token", vgen, key, hi, 401, "Expected OAuth 2 access token"},
		{"vertex express mode with a key", "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent", key, hi, 200, `"createTime"`},
		{"not JSON content", gen, map[string]string{"X-Goog-Api-Key": GeminiKey, "Content-Type": "text/plain"}, hi, 400, "Content-Type must be application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectAnswer(t, s, tt.path, tt.headers, tt.body, tt.status, tt.want)
		})
	}
}

func TestGeminiStream(t *testing.T) {
	s := Start(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"Say hello to the people of Paris"}]}]}`))
	req.Header.Set("X-Goog-Api-Key", GeminiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	events := strings.Split(strings.TrimSuffix(string(b), "\r\n\r\n"), "\r\n\r\n")
	var text strings.Builder
	for i, ev := range events {
		var chunk struct {
			Candidates []struct {
				Content struct {
					Parts []struct{ Text string } `json:"parts"`
				} `json:"content"`
				FinishReason string `json:"finishReason"`
			} `json:"candidates"`
			UsageMetadata struct{ TotalTokenCount int } `json:"usageMetadata"`
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &chunk); err != nil {
			t.Fatalf("event %d %q: %v", i, ev, err)
		}
		text.WriteString(chunk.Candidates[0].Content.Parts[0].Text)
		if last := i == len(events)-1; last != (chunk.Candidates[0].FinishReason == "STOP") {
			t.Errorf("event %d: finish reason %q", i, chunk.Candidates[0].FinishReason)
		}
	}
	if len(events) < 3 || text.String() != "You said: Say hello to the people of Paris" {
		t.Errorf("%d events, text %q", len(events), text.String())
	}
}
