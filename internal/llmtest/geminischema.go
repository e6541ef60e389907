package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// The request messages of the Gemini API (generativelanguage v1beta) and of
// Vertex AI (aiplatform v1beta1), as the fake checks them: a request body is
// parsed the way Google's proto JSON parser parses it — an unknown member is
// an error ("Cannot find field"), a value of the wrong JSON type is an error,
// an enum value must be one of the enum's names. Only the messages and
// members the Go and Python SDKs send for the calls the fake serves are
// listed; a member of another message is unknown to the fake.

// gField is a member of a message: its kind and, for a message or an enum,
// which one.
type gField struct {
	kind     gKind
	ref      string // message name (kindMessage) or enum name (kindEnum)
	repeated bool
	vertex   bool // only Vertex AI knows the member
	gemini   bool // only the Gemini API knows the member
}

type gKind int

const (
	kindString gKind = iota
	kindBytes        // base64 text
	kindInt
	kindNumber
	kindBool
	kindEnum
	kindMessage
	kindStruct // google.protobuf.Struct: any JSON object
	kindValue  // google.protobuf.Value: any JSON value
	kindMap    // map<string, string>
	kindSchemaMap
)

func f(kind gKind) gField                 { return gField{kind: kind} }
func msg(name string) gField              { return gField{kind: kindMessage, ref: name} }
func msgs(name string) gField             { return gField{kind: kindMessage, ref: name, repeated: true} }
func enum(name string) gField             { return gField{kind: kindEnum, ref: name} }
func list(kind gKind) gField              { return gField{kind: kind, repeated: true} }
func vertexOnly(g gField) gField          { g.vertex = true; return g }
func geminiOnly(g gField) gField          { g.gemini = true; return g }
func enums(name string) gField            { return gField{kind: kindEnum, ref: name, repeated: true} }
func schemaMap() gField                   { return gField{kind: kindSchemaMap, ref: "Schema"} }
func oneOf(names ...string) []string      { return names }
func fieldsOf(kv map[string]gField) gMsgs { return gMsgs{fields: kv} }

type gMsgs struct{ fields map[string]gField }

var geminiEnums = map[string][]string{
	"Type":                 oneOf("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"),
	"Mode":                 oneOf("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"),
	"HarmCategory":         oneOf("HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_CIVIC_INTEGRITY", "HARM_CATEGORY_IMAGE_HATE", "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT", "HARM_CATEGORY_IMAGE_HARASSMENT", "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT", "HARM_CATEGORY_JAILBREAK"),
	"HarmBlockThreshold":   oneOf("HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF"),
	"HarmBlockMethod":      oneOf("HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"),
	"Modality":             oneOf("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO", "VIDEO"),
	"MediaResolution":      oneOf("MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"),
	"TaskType":             oneOf("TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY"),
	"Behavior":             oneOf("UNSPECIFIED", "BLOCKING", "NON_BLOCKING"),
	"ThinkingLevel":        oneOf("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"),
	"Language":             oneOf("LANGUAGE_UNSPECIFIED", "PYTHON"),
	"Outcome":              oneOf("OUTCOME_UNSPECIFIED", "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"),
	"FunctionResponseSchd": oneOf("SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"),
}

var geminiMessages = map[string]gMsgs{
	"GenerateContentRequest": fieldsOf(map[string]gField{
		"model": f(kindString), "contents": msgs("Content"), "tools": msgs("Tool"), "toolConfig": msg("ToolConfig"),
		"safetySettings": msgs("SafetySetting"), "systemInstruction": msg("Content"), "generationConfig": msg("GenerationConfig"),
		"cachedContent": f(kindString), "labels": vertexOnly(gField{kind: kindMap}), "serviceTier": f(kindString),
	}),
	"Content": fieldsOf(map[string]gField{"role": f(kindString), "parts": msgs("Part")}),
	"Part": fieldsOf(map[string]gField{
		"text": f(kindString), "inlineData": msg("Blob"), "fileData": msg("FileData"), "functionCall": msg("FunctionCall"),
		"functionResponse": msg("FunctionResponse"), "executableCode": msg("ExecutableCode"),
		"codeExecutionResult": msg("CodeExecutionResult"), "thought": f(kindBool), "thoughtSignature": f(kindBytes),
		"videoMetadata": msg("VideoMetadata"), "partMetadata": f(kindStruct),
	}),
	"Blob":                fieldsOf(map[string]gField{"mimeType": f(kindString), "data": f(kindBytes), "displayName": vertexOnly(f(kindString))}),
	"FileData":            fieldsOf(map[string]gField{"mimeType": f(kindString), "fileUri": f(kindString), "displayName": vertexOnly(f(kindString))}),
	"VideoMetadata":       fieldsOf(map[string]gField{"startOffset": f(kindString), "endOffset": f(kindString), "fps": f(kindNumber)}),
	"FunctionCall":        fieldsOf(map[string]gField{"id": f(kindString), "name": f(kindString), "args": f(kindStruct)}),
	"FunctionResponse":    fieldsOf(map[string]gField{"id": f(kindString), "name": f(kindString), "response": f(kindStruct), "willContinue": f(kindBool), "scheduling": enum("FunctionResponseSchd")}),
	"ExecutableCode":      fieldsOf(map[string]gField{"language": enum("Language"), "code": f(kindString)}),
	"CodeExecutionResult": fieldsOf(map[string]gField{"outcome": enum("Outcome"), "output": f(kindString)}),
	"Tool": fieldsOf(map[string]gField{
		"functionDeclarations": msgs("FunctionDeclaration"), "googleSearch": f(kindStruct), "googleSearchRetrieval": f(kindStruct),
		"codeExecution": f(kindStruct), "urlContext": f(kindStruct), "retrieval": vertexOnly(f(kindStruct)),
	}),
	"FunctionDeclaration": fieldsOf(map[string]gField{
		"name": f(kindString), "description": f(kindString), "parameters": msg("Schema"), "parametersJsonSchema": f(kindValue),
		"response": msg("Schema"), "responseJsonSchema": f(kindValue), "behavior": geminiOnly(enum("Behavior")),
	}),
	"Schema": fieldsOf(map[string]gField{
		"type": enum("Type"), "format": f(kindString), "title": f(kindString), "description": f(kindString), "nullable": f(kindBool),
		"enum": list(kindString), "maxItems": f(kindInt), "minItems": f(kindInt), "properties": schemaMap(), "required": list(kindString),
		"minProperties": f(kindInt), "maxProperties": f(kindInt), "minLength": f(kindInt), "maxLength": f(kindInt), "pattern": f(kindString),
		"example": f(kindValue), "anyOf": msgs("Schema"), "propertyOrdering": list(kindString), "default": f(kindValue), "items": msg("Schema"),
		"minimum": f(kindNumber), "maximum": f(kindNumber),
	}),
	"ToolConfig":            fieldsOf(map[string]gField{"functionCallingConfig": msg("FunctionCallingConfig"), "retrievalConfig": f(kindStruct)}),
	"FunctionCallingConfig": fieldsOf(map[string]gField{"mode": enum("Mode"), "allowedFunctionNames": list(kindString)}),
	"SafetySetting":         fieldsOf(map[string]gField{"category": enum("HarmCategory"), "threshold": enum("HarmBlockThreshold"), "method": vertexOnly(enum("HarmBlockMethod"))}),
	"GenerationConfig": fieldsOf(map[string]gField{
		"stopSequences": list(kindString), "responseMimeType": f(kindString), "responseSchema": msg("Schema"), "responseJsonSchema": f(kindValue),
		"responseModalities": enums("Modality"), "candidateCount": f(kindInt), "maxOutputTokens": f(kindInt), "temperature": f(kindNumber),
		"topP": f(kindNumber), "topK": f(kindNumber), "seed": f(kindInt), "presencePenalty": f(kindNumber), "frequencyPenalty": f(kindNumber),
		"responseLogprobs": f(kindBool), "logprobs": f(kindInt), "enableEnhancedCivicAnswers": f(kindBool), "speechConfig": f(kindStruct),
		"thinkingConfig": msg("ThinkingConfig"), "imageConfig": f(kindStruct), "mediaResolution": enum("MediaResolution"),
		"audioTimestamp": vertexOnly(f(kindBool)), "routingConfig": vertexOnly(f(kindStruct)),
	}),
	"ThinkingConfig": fieldsOf(map[string]gField{"includeThoughts": f(kindBool), "thinkingBudget": f(kindInt), "thinkingLevel": enum("ThinkingLevel")}),
	"CountTokensRequest": fieldsOf(map[string]gField{
		"contents": msgs("Content"), "generateContentRequest": geminiOnly(msg("GenerateContentRequest")),
		"tools": vertexOnly(msgs("Tool")), "systemInstruction": vertexOnly(msg("Content")), "generationConfig": vertexOnly(msg("GenerationConfig")),
	}),
	"EmbedContentRequest": fieldsOf(map[string]gField{
		"model": f(kindString), "content": msg("Content"), "taskType": enum("TaskType"), "title": f(kindString),
		"outputDimensionality": f(kindInt), "autoTruncate": vertexOnly(f(kindBool)),
	}),
	"BatchEmbedContentsRequest": fieldsOf(map[string]gField{"requests": msgs("EmbedContentRequest")}),
	"PredictRequest":            fieldsOf(map[string]gField{"instances": list(kindStruct), "parameters": f(kindStruct)}),
}

// geminiBad is an error answer: an HTTP status, Google's status name and a
// message.
type geminiBad struct {
	code   int
	status string
	msg    string
}

func badArg(format string, args ...any) *geminiBad {
	return &geminiBad{code: 400, status: "INVALID_ARGUMENT", msg: fmt.Sprintf(format, args...)}
}

// checkMessage validates the JSON object v as the message name (path is
// where it is, for messages, "" at the top).
func checkMessage(name string, v json.RawMessage, path string, vertex bool) *geminiBad {
	m, ok := geminiMessages[name]
	if !ok {
		return nil
	}
	at := ""
	if path != "" {
		at = fmt.Sprintf(" at '%s'", path)
	}
	fields, err := llmspan.ObjectFields(v)
	if err != nil {
		if path == "" {
			return badArg("Invalid JSON payload received. Expected an object.")
		}
		return badArg("Invalid value at '%s' (type.googleapis.com/%s), %s", path, name, strings.TrimSpace(string(v)))
	}
	seen := map[string]bool{}
	for _, fl := range fields {
		fl.Key = jsonName(fl.Key)
		fd, ok := m.fields[fl.Key]
		if !ok || (fd.vertex && !vertex) || (fd.gemini && vertex) {
			return badArg("Invalid JSON payload received. Unknown name %q%s: Cannot find field.", fl.Key, at)
		}
		if seen[fl.Key] {
			return badArg("Invalid JSON payload received. Duplicate field %q%s.", fl.Key, at)
		}
		seen[fl.Key] = true
		if llmspan.IsNull(fl.Value) {
			continue
		}
		here := snake(fl.Key)
		if path != "" {
			here = path + "." + here
		}
		if bad := checkValue(fd, fl.Value, here, vertex); bad != nil {
			return bad
		}
	}
	return nil
}

func checkValue(fd gField, v json.RawMessage, path string, vertex bool) *geminiBad {
	if fd.repeated {
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			return badArg("Invalid value at '%s', %s", path, strings.TrimSpace(string(v)))
		}
		for i, it := range items {
			one := fd
			one.repeated = false
			if bad := checkValue(one, it, fmt.Sprintf("%s[%d]", path, i), vertex); bad != nil {
				return bad
			}
		}
		return nil
	}
	s := bytes.TrimSpace(v)
	wrong := func(typ string) *geminiBad {
		return badArg("Invalid value at '%s' (%s), %s", path, typ, string(s))
	}
	switch fd.kind {
	case kindString:
		if len(s) == 0 || s[0] != '"' {
			return wrong("TYPE_STRING")
		}
	case kindBytes:
		var b64 string
		if json.Unmarshal(s, &b64) != nil || !isBase64(b64) {
			return wrong("TYPE_BYTES")
		}
	case kindInt:
		var n float64
		if json.Unmarshal(s, &n) != nil || n != math.Trunc(n) {
			var str string
			if json.Unmarshal(s, &str) == nil {
				if _, err := fmt.Sscan(str, &n); err == nil {
					return nil
				}
			}
			return wrong("TYPE_INT32")
		}
	case kindNumber:
		var n float64
		if json.Unmarshal(s, &n) != nil {
			return wrong("TYPE_FLOAT")
		}
	case kindBool:
		if string(s) != "true" && string(s) != "false" {
			return wrong("TYPE_BOOL")
		}
	case kindEnum:
		var e string
		if json.Unmarshal(s, &e) != nil {
			return wrong("TYPE_ENUM")
		}
		for _, name := range geminiEnums[fd.ref] {
			if e == name {
				return nil
			}
		}
		return badArg("Invalid value at '%s' (type.googleapis.com/google.ai.generativelanguage.v1beta.%s), %q", path, fd.ref, e)
	case kindMessage:
		return checkMessage(fd.ref, s, path, vertex)
	case kindStruct, kindMap:
		if len(s) == 0 || s[0] != '{' {
			return wrong("TYPE_MESSAGE")
		}
	case kindSchemaMap:
		fields, err := llmspan.ObjectFields(s)
		if err != nil {
			return wrong("TYPE_MESSAGE")
		}
		for _, fl := range fields {
			if bad := checkMessage(fd.ref, fl.Value, path+"["+fl.Key+"]", vertex); bad != nil {
				return bad
			}
		}
	}
	return nil
}

func isBase64(s string) bool {
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// jsonName is the JSON name of a member: Google's parser takes a field's
// proto name (system_instruction) as well as its JSON name
// (systemInstruction).
func jsonName(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	var b strings.Builder
	up := false
	for _, c := range s {
		switch {
		case c == '_':
			up = true
		case up && c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
			up = false
		default:
			b.WriteRune(c)
			up = false
		}
	}
	return b.String()
}

// canonical rewrites the message name's JSON object v with every member
// under its JSON name (recursively through messages, not into Struct or
// Value fields), as the API reads it.
func canonical(name string, v json.RawMessage) json.RawMessage {
	m, ok := geminiMessages[name]
	fields, err := llmspan.ObjectFields(v)
	if !ok || err != nil {
		return v
	}
	var o llmspan.Object
	for _, fl := range fields {
		key := jsonName(fl.Key)
		fd, known := m.fields[key]
		val := fl.Value
		if known && !llmspan.IsNull(val) {
			switch fd.kind {
			case kindMessage:
				val = canonicalValue(fd.ref, val, fd.repeated)
			case kindSchemaMap:
				if props, err := llmspan.ObjectFields(val); err == nil {
					var po llmspan.Object
					for _, p := range props {
						po.Set(p.Key, canonical(fd.ref, p.Value))
					}
					val = po.JSON()
				}
			}
		}
		o.Set(key, val)
	}
	return o.JSON()
}

func canonicalValue(name string, v json.RawMessage, repeated bool) json.RawMessage {
	if !repeated {
		return canonical(name, v)
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return v
	}
	for i := range items {
		items[i] = canonical(name, items[i])
	}
	b, err := json.Marshal(items)
	if err != nil {
		return v
	}
	return b
}

// snake is the proto field name of a JSON member name (systemInstruction ->
// system_instruction), as Google's errors name fields.
func snake(s string) string {
	var b strings.Builder
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c + 'a' - 'A')
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
