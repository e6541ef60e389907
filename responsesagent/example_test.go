package responsesagent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http/httptest"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// A streaming agent served over HTTP; Predict is derived from the stream.
func Example() {
	ctx := context.Background()
	rec := exportertest.NewRecorder() // a program calls tracing.Init(ctx): ./mlruns by default
	provider, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(rec)))
	if err != nil {
		panic(err)
	}

	agent := responsesagent.FromStream(func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
		return func(yield func(responsesagent.StreamEvent, error) bool) {
			answer := "You said: " + req.Input[len(req.Input)-1].Text()
			_ = yield(responsesagent.TextDelta(answer, "msg_1"), nil) &&
				yield(responsesagent.ItemDone(responsesagent.TextItem(answer, "msg_1")), nil)
		}
	})
	srv := httptest.NewServer(responsesagent.NewHandler(agent))
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/invocations", "application/json",
		strings.NewReader(`{"input": [{"role": "user", "content": "hi"}], "context": {"conversation_id": "c-1"}}`))
	if err != nil {
		panic(err)
	}
	var out responsesagent.Response
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	fmt.Println(responsesagent.OutputText(out.Output))

	if err := provider.Shutdown(ctx); err != nil { // writes the trace
		panic(err)
	}
	tr := rec.Traces()[0]
	fmt.Println(tr.Spans[0].Name, tr.Spans[0].Attributes["mlflow.spanType"], tr.Info.Metadata["mlflow.trace.session"])
	fmt.Println(tr.Info.RequestPreview, "->", tr.Info.ResponsePreview)
	// Output:
	// You said: hi
	// predict "AGENT" c-1
	// hi -> You said: hi
}

// Converting a request's conversation for a Chat Completions model.
func ExampleToChatCompletions() {
	var req responsesagent.Request
	_ = json.Unmarshal([]byte(`{"input": [
		{"role": "user", "content": "Weather in Paris?"},
		{"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
		{"type": "function_call_output", "call_id": "c1", "output": "18C"}]}`), &req)
	b, _ := json.Marshal(responsesagent.ToChatCompletions(req.Input))
	fmt.Println(string(b))
	// Output:
	// [{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":"tool call","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","content":"18C","tool_call_id":"c1"}]
}

// A Chat Completions chunk stream becomes Responses events, with one
// output_item.done for the text and one per tool call.
func ExampleFromChatChunks() {
	text := func(s string) any { return s }
	chunks := []responsesagent.ChatChunk{
		{ID: "c1", Choices: []responsesagent.ChatChunkChoice{{Delta: responsesagent.ChatChunkDelta{Content: text("Let me check")}}}},
		{ID: "c1", Choices: []responsesagent.ChatChunkChoice{{Delta: responsesagent.ChatChunkDelta{ToolCalls: []responsesagent.ChatToolCallDelta{
			{Index: 0, ID: "call_1", Function: responsesagent.ChatFunction{Name: "get_weather", Arguments: `{"city":`}}}}}}},
		{ID: "c1", Choices: []responsesagent.ChatChunkChoice{{Delta: responsesagent.ChatChunkDelta{ToolCalls: []responsesagent.ChatToolCallDelta{
			{Index: 0, Function: responsesagent.ChatFunction{Arguments: `"Paris"}`}}}}}}},
	}
	seq := func(yield func(responsesagent.ChatChunk, error) bool) {
		for _, c := range chunks {
			if !yield(c, nil) {
				return
			}
		}
	}
	for ev := range responsesagent.FromChatChunks(seq) {
		b, _ := json.Marshal(ev)
		fmt.Println(string(b))
	}
	// Output:
	// {"type":"response.output_text.delta","item_id":"c1","delta":"Let me check"}
	// {"type":"response.output_item.done","item":{"id":"c1","content":[{"text":"Let me check","type":"output_text","annotations":[]}],"role":"assistant","type":"message"}}
	// {"type":"response.output_item.done","item":{"type":"function_call","id":"c1","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}
}
