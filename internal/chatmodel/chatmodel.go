// Package chatmodel holds the JSON shapes MLflow's Python LangChain tracer
// (mlflow.langchain.autolog) records for chat model calls and retrievals:
// mlflow.types.chat.ChatMessage.model_dump() (every field present, null when
// unset) inside {"messages": [...]} and {"choices": [{"message",
// "finish_reason"}]}, the content parts of those messages, and
// mlflow.entities.Document. The framework integrations (langchaingo, Eino,
// Genkit's span translation) convert their own message types into these, so
// MLflow's UI shows every framework's chat the same way.
//
// The package is pure data and conversion helpers: it records nothing and
// imports neither package tracing nor the exporter, so both the
// integrations and the exporter's span translation can use it.
package chatmodel

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// Inputs is a chat model span's inputs.
type Inputs struct {
	Messages []Message `json:"messages"`
}

// Outputs is a chat model span's outputs.
type Outputs struct {
	Choices []Choice `json:"choices"`
}

// Choice is one answer of a chat model.
type Choice struct {
	Message Message `json:"message"`
	// FinishReason is null in what MLflow 3.17's LangChain tracer writes
	// (on_llm_end records None); other frameworks may report one.
	FinishReason *string `json:"finish_reason"`
}

// Message is mlflow.types.chat.ChatMessage.
type Message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"` // string, []any of parts, or nil
	ToolCalls  []ToolCall `json:"tool_calls"`
	Refusal    *string    `json:"refusal"`
	ToolCallID *string    `json:"tool_call_id"`
}

// ToolCall is one function call a model asked for.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction names the function of a ToolCall and gives its arguments
// (JSON text).
type ToolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// TextPart is a text content part.
type TextPart struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}

// ImagePart is an image content part.
type ImagePart struct {
	Type     string   `json:"type"` // "image_url"
	ImageURL ImageURL `json:"image_url"`
}

// ImageURL is an image's URL (or data URL) and detail level.
type ImageURL struct {
	URL    string  `json:"url"`
	Detail *string `json:"detail"`
}

// AudioPart is an audio content part.
type AudioPart struct {
	Type       string     `json:"type"` // "input_audio"
	InputAudio InputAudio `json:"input_audio"`
}

// InputAudio is base64 audio data and its format ("wav" or "mp3").
type InputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// Text returns a text part.
func Text(s string) TextPart { return TextPart{Type: "text", Text: s} }

// Image returns an image part; detail "" is recorded as null.
func Image(url, detail string) ImagePart {
	p := ImagePart{Type: "image_url", ImageURL: ImageURL{URL: url}}
	if detail != "" {
		p.ImageURL.Detail = &detail
	}
	return p
}

// Content is a message's content from its parts: a string for one text part
// (LangChain's usual string content), "" for none, else the list of parts.
func Content(parts []any) any {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		if t, ok := parts[0].(TextPart); ok {
			return t.Text
		}
	}
	return parts
}

// Media is the content part of inline media given as base64 data: an image
// as a data URL, WAV or MP3 audio as input_audio, anything else as a text
// part naming its type and size (MLflow's chat parts have no other media).
func Media(mimeType, base64Data string) any {
	mime := strings.ToLower(strings.TrimSpace(strings.SplitN(mimeType, ";", 2)[0]))
	switch {
	case strings.HasPrefix(mime, "image/"):
		return Image("data:"+mimeType+";base64,"+base64Data, "")
	case mime == "audio/wav" || mime == "audio/x-wav" || mime == "audio/wave":
		return AudioPart{Type: "input_audio", InputAudio: InputAudio{Data: base64Data, Format: "wav"}}
	case mime == "audio/mpeg" || mime == "audio/mp3":
		return AudioPart{Type: "input_audio", InputAudio: InputAudio{Data: base64Data, Format: "mp3"}}
	}
	n := len(base64Data) / 4 * 3
	if strings.HasSuffix(base64Data, "==") {
		n -= 2
	} else if strings.HasSuffix(base64Data, "=") {
		n--
	}
	return Text(fmt.Sprintf("[%s, %d bytes]", mimeType, n))
}

// ToolArguments is a tool call's arguments as MLflow's tracer records them:
// LangChain parses the model's JSON arguments into a dict and MLflow writes
// json.dumps(args) (", " and ": " separators, non-ASCII as \uXXXX).
// Arguments that are not a JSON object (LangChain's invalid tool calls) stay
// as sent.
func ToolArguments(args string) string {
	t := strings.TrimSpace(args)
	if t == "" || t[0] != '{' {
		return args
	}
	if s, ok := encode.Redump([]byte(t), true); ok {
		return s
	}
	return args
}

// ToolInput is a tool span's inputs from the tool's input text: the input
// decoded when it is a JSON object or array (function-calling agents pass
// JSON arguments; MLflow's tracer parses Python literals the same way), else
// the input string.
func ToolInput(input string) any {
	t := strings.TrimSpace(input)
	if t != "" && (t[0] == '{' || t[0] == '[') {
		var v any
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		if dec.Decode(&v) == nil && !dec.More() {
			return v
		}
	}
	return input
}

// Document is mlflow.entities.Document, the element of a RETRIEVER span's
// outputs.
type Document struct {
	PageContent string         `json:"page_content"`
	Metadata    map[string]any `json:"metadata"`
	ID          *string        `json:"id"`
}

// NewDocument returns a Document with a copy of metadata; a non-nil score
// is added to the metadata as "score" unless it has one; id "" is recorded
// as null.
func NewDocument(content string, metadata map[string]any, id string, score any) Document {
	md := make(map[string]any, len(metadata)+1)
	for k, v := range metadata {
		md[k] = v
	}
	if score != nil {
		if _, ok := md["score"]; !ok {
			md["score"] = score
		}
	}
	d := Document{PageContent: content, Metadata: md}
	if id != "" {
		d.ID = &id
	}
	return d
}
