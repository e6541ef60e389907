package responsesagent_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
)

// The real openai-go client (v3.102.0) talks to the handler: Responses.New
// and Responses.NewStreaming.
func TestOpenAIGoClient(t *testing.T) {
	p, rec := initTracing(t)
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}, responsesagent.WithErrorHandler(func(error) {})))
	defer srv.Close()
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := responses.ResponseNewParams{
		Model: "my-agent",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("hello", responses.EasyInputMessageRoleUser),
		}},
	}

	resp, err := client.Responses.New(ctx, params)
	if err != nil {
		t.Fatalf("Responses.New: %v", err)
	}
	if got := resp.OutputText(); got != "echo: hello" {
		t.Errorf("OutputText = %q", got)
	}
	if resp.Object != "response" || len(resp.Output) != 1 || resp.Output[0].Type != "message" || resp.Output[0].ID != "msg_1" {
		t.Errorf("response %+v", resp)
	}

	stream := client.Responses.NewStreaming(ctx, params)
	var types []string
	var text strings.Builder
	var done string
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.output_item.done":
			done = ev.Item.Content[0].Text
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if want := "response.output_text.delta response.output_text.delta response.output_item.done"; strings.Join(types, " ") != want {
		t.Errorf("event types %v", types)
	}
	if text.String() != "echo: hello" || done != "echo: hello" {
		t.Errorf("deltas %q, item %q", text.String(), done)
	}

	// A mid-stream error reaches the client as an error.
	params.Input.OfInputItemList[0] = responses.ResponseInputItemParamOfMessage("error", responses.EasyInputMessageRoleUser)
	stream = client.Responses.NewStreaming(ctx, params)
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "model unavailable") {
		t.Errorf("stream error = %v", err)
	}
	// A request MLflow rejects is a 400 the client reports with the field.
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "m",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("plain string")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "input" || !strings.Contains(apiErr.Message, "plain string") {
		t.Errorf("string input: %v %+v", err, apiErr)
	}
	waitTraces(t, p, rec, 3)
}
