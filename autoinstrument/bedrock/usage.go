package bedrock

import (
	"encoding/json"
	"strconv"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// The names under which the Bedrock bodies report token counts, in the
// order MLflow's Bedrock autolog tries them (mlflow/bedrock/utils.py):
// Converse (camelCase), Anthropic (snake_case), Nova, Llama.
var (
	inputKeys      = []string{"input_tokens", "inputTokens", "prompt_tokens", "promptTokens", "prompt_token_count"}
	outputKeys     = []string{"output_tokens", "outputTokens", "completion_tokens", "completionTokens", "generation_token_count"}
	totalKeys      = []string{"total_tokens", "totalTokens"}
	cacheReadKeys  = []string{"cache_read_input_tokens", "cacheReadInputTokens", "cacheReadInputTokenCount"}
	cacheWriteKeys = []string{"cache_creation_input_tokens", "cacheWriteInputTokens", "cacheWriteInputTokenCount"}
)

// tokenCounts are the counts found in a usage object (nil: not reported).
type tokenCounts struct {
	input, output, total, cacheRead, cacheWrite *int
}

// countTokens finds the counts of a JSON object: for each count the first
// of its names whose value is an integer (MLflow's
// parse_partial_token_usage_from_response).
func countTokens(obj json.RawMessage) tokenCounts {
	fields, err := llmspan.ObjectFields(obj)
	if err != nil {
		return tokenCounts{}
	}
	first := func(names []string) *int {
		for _, n := range names {
			if v, ok := llmspan.Lookup(fields, n); ok {
				if i, ok := integer(v); ok {
					return &i
				}
			}
		}
		return nil
	}
	return tokenCounts{input: first(inputKeys), output: first(outputKeys), total: first(totalKeys),
		cacheRead: first(cacheReadKeys), cacheWrite: first(cacheWriteKeys)}
}

// integer decodes a JSON integer literal (Python's json gives an int only
// for those).
func integer(v json.RawMessage) (int, bool) {
	s := string(v)
	if s == "" {
		return 0, false
	}
	for i, c := range s {
		if (c < '0' || c > '9') && !(i == 0 && c == '-' && len(s) > 1) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// merge returns t with the counts o reports replaced (MLflow's buffer of
// a stream's usage).
func (t tokenCounts) merge(o tokenCounts) tokenCounts {
	for _, p := range []struct {
		dst **int
		src *int
	}{
		{&t.input, o.input}, {&t.output, o.output}, {&t.total, o.total}, {&t.cacheRead, o.cacheRead}, {&t.cacheWrite, o.cacheWrite},
	} {
		if p.src != nil {
			*p.dst = p.src
		}
	}
	return t
}

// complete is MLflow's parse_complete_token_usage_from_response: nothing
// without input and output counts; the cache counts as reported; input and
// total include the cache reads and writes (Bedrock reports input without
// them), else total as reported, else input + output.
func (t tokenCounts) complete() (llmspan.Usage, bool) {
	if t.input == nil || t.output == nil {
		return llmspan.Usage{}, false
	}
	u := llmspan.Usage{InputTokens: *t.input, OutputTokens: *t.output, CacheReadInputTokens: t.cacheRead,
		CacheCreationInputTokens: t.cacheWrite, TotalLast: true}
	cache := 0
	if t.cacheRead != nil {
		cache += *t.cacheRead
	}
	if t.cacheWrite != nil {
		cache += *t.cacheWrite
	}
	switch {
	case cache != 0:
		u.InputTokens += cache
		u.TotalTokens = u.InputTokens + u.OutputTokens
	case t.total != nil:
		u.TotalTokens = *t.total
	default:
		u.TotalTokens = u.InputTokens + u.OutputTokens
	}
	return u, true
}
