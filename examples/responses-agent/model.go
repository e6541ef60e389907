package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Model is a chat model: Chat Completions messages in, one assistant
// message out. Each call is recorded as a CHAT_MODEL span: by
// autoinstrument/openai for the OpenAI-compatible model, by the offline model
// itself otherwise.
type Model interface {
	name() string
	complete(ctx context.Context, msgs []responsesagent.ChatMessage) (*completion, error)
}

// completion is the part of a Chat Completion the agent uses (OpenAI's JSON
// shape).
type completion struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int                        `json:"index"`
		Message      responsesagent.ChatMessage `json:"message"`
		FinishReason string                     `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// reply is the model's answer.
type reply struct {
	ID        string
	Content   string
	ToolCalls []responsesagent.ChatToolCall
}

// callModel is the one place the agent calls the model.
func callModel(ctx context.Context, m Model, msgs []responsesagent.ChatMessage) (*reply, error) {
	c, err := m.complete(ctx, msgs)
	if err != nil {
		return nil, err
	}
	if len(c.Choices) == 0 {
		return nil, fmt.Errorf("model %s returned no choices", m.name())
	}
	msg := c.Choices[0].Message
	return &reply{ID: c.ID, Content: msg.Content, ToolCalls: msg.ToolCalls}, nil
}

// newModel returns the OpenAI-compatible model at OPENAI_BASE_URL, or the
// offline model when it is unset.
func newModel(getenv func(string) string, latency time.Duration) (Model, error) {
	base := getenv("OPENAI_BASE_URL")
	if base == "" {
		return &offlineModel{latency: latency}, nil
	}
	name := getenv("OPENAI_MODEL")
	if name == "" {
		name = "gpt-4o-mini"
	}
	// One line traces every call of this client as a CHAT_MODEL span.
	client := openai.NewClient(mlflowopenai.RequestOption(),
		option.WithBaseURL(base), option.WithAPIKey(getenv("OPENAI_API_KEY")))
	return &openaiModel{client: client, model: name}, nil
}

// openaiModel calls a Chat Completions API with openai-go.
type openaiModel struct {
	client openai.Client
	model  string
}

func (m *openaiModel) name() string { return m.model }

func (m *openaiModel) complete(ctx context.Context, msgs []responsesagent.ChatMessage) (*completion, error) {
	body := map[string]any{"model": m.model, "messages": msgs, "tools": tools}
	var c completion
	if err := m.client.Post(ctx, "chat/completions", body, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// offlineModel is a small deterministic stand-in for a chat model, so the
// example runs without network or API key: it calls get_weather for every
// known city the user names, convert_temperature when Fahrenheit is asked,
// then answers with the tools' results.
type offlineModel struct{ latency time.Duration }

func (m *offlineModel) name() string { return "offline-weather-model" }

var celsius = regexp.MustCompile(`(-?\d+(?:\.\d+)?)C\b`)

// complete records the call as the CHAT_MODEL span an instrumented client
// would (inputs: the request; outputs: the completion; model, provider,
// message format, tools and token usage).
func (m *offlineModel) complete(ctx context.Context, msgs []responsesagent.ChatMessage) (*completion, error) {
	ctx, span := tracing.StartSpan(ctx, "chat_model", tracing.WithSpanType(tracing.SpanTypeChatModel),
		tracing.WithInputs(map[string]any{"messages": msgs, "model": m.name(), "tools": tools}))
	span.SetModel(m.name())
	span.SetProvider("offline")
	span.SetMessageFormat("openai")
	span.SetChatTools(tools)
	c, err := m.answer(ctx, msgs)
	if err != nil {
		span.RecordError(err)
		span.End()
		return nil, err
	}
	span.SetTokenUsage(tracing.TokenUsage{InputTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens, TotalTokens: c.Usage.TotalTokens})
	span.End(tracing.WithOutputs(c))
	return c, nil
}

func (m *offlineModel) answer(ctx context.Context, msgs []responsesagent.ChatMessage) (*completion, error) {
	if m.latency > 0 {
		select {
		case <-time.After(m.latency):
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	// The conversation since the last user message.
	last := -1
	for i, msg := range msgs {
		if msg.Role == "user" {
			last = i
		}
	}
	question := ""
	var results []responsesagent.ChatMessage
	if last >= 0 {
		question = strings.ToLower(msgs[last].Content)
		for _, msg := range msgs[last+1:] {
			if msg.Role == "tool" {
				results = append(results, msg)
			}
		}
	}
	out := responsesagent.ChatMessage{Role: "assistant"}
	id := "offline-" + strconv.Itoa(len(msgs))
	wantF := strings.Contains(question, "fahrenheit")
	switch {
	case len(results) == 0:
		for _, city := range []string{"paris", "rome", "london", "tokyo"} {
			if strings.Contains(question, city) {
				n := len(out.ToolCalls)
				out.ToolCalls = append(out.ToolCalls, toolCall(id, n, "get_weather", map[string]any{"city": titleCase(city)}))
			}
		}
		if len(out.ToolCalls) == 0 {
			out.Content = "I can tell you the weather in Paris, Rome, London or Tokyo."
		}
	case wantF && !strings.HasSuffix(results[len(results)-1].Content, "F"):
		for i, r := range results {
			if c := celsius.FindStringSubmatch(r.Content); c != nil {
				v, _ := strconv.ParseFloat(c[1], 64)
				out.ToolCalls = append(out.ToolCalls, toolCall(id, i, "convert_temperature", map[string]any{"celsius": v}))
			}
		}
	}
	if out.Content == "" && len(out.ToolCalls) == 0 {
		parts := make([]string, 0, len(results))
		for _, r := range results {
			parts = append(parts, r.Content)
		}
		out.Content = "Here is what I found: " + strings.Join(parts, "; ") + "."
	}
	c := &completion{ID: id, Object: "chat.completion", Model: m.name()}
	c.Choices = append(c.Choices, struct {
		Index        int                        `json:"index"`
		Message      responsesagent.ChatMessage `json:"message"`
		FinishReason string                     `json:"finish_reason"`
	}{Message: out, FinishReason: finishReason(out)})
	c.Usage.PromptTokens = countWords(msgs)
	c.Usage.CompletionTokens = len(strings.Fields(out.Content)) + 8*len(out.ToolCalls)
	c.Usage.TotalTokens = c.Usage.PromptTokens + c.Usage.CompletionTokens
	return c, nil
}

func toolCall(id string, n int, name string, args map[string]any) responsesagent.ChatToolCall {
	b, _ := json.Marshal(args)
	return responsesagent.ChatToolCall{ID: fmt.Sprintf("call_%s_%d", id, n), Type: "function",
		Function: responsesagent.ChatFunction{Name: name, Arguments: string(b)}}
}

func finishReason(m responsesagent.ChatMessage) string {
	if len(m.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

func countWords(msgs []responsesagent.ChatMessage) int {
	n := 0
	for _, m := range msgs {
		n += len(strings.Fields(m.Content)) + 4
	}
	return n
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
