package tracemodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// Assessment is MLflow's Assessment (mlflow.assessments.Assessment): a
// feedback, an expectation or an issue reference attached to a trace or one
// of its spans. Exactly one of Feedback, Expectation and Issue is set.
type Assessment struct {
	AssessmentID   string // "a-<32 hex>", given by the backend
	Name           string // assessment_name
	TraceID        string
	SpanID         string // "" for the whole trace
	Source         AssessmentSource
	CreateTime     time.Time // millisecond precision, as MLflow keeps it
	LastUpdateTime time.Time
	Feedback       *FeedbackValue
	Expectation    *ExpectationValue
	Issue          *IssueValue
	Rationale      string
	Metadata       map[string]string
	// Overrides is the id of the assessment this one overrides
	// (MLflow's override_feedback).
	Overrides string
	// Valid is false for an assessment another one overrides; nil when the
	// backend did not say.
	Valid *bool
}

// AssessmentSource says who made an assessment.
type AssessmentSource struct {
	Type string // SourceHuman, SourceLLMJudge, SourceCode
	ID   string // e.g. a user id, a judge model name
}

// Assessment source types (MLflow's AssessmentSourceType).
const (
	SourceHuman       = "HUMAN"
	SourceLLMJudge    = "LLM_JUDGE"
	SourceCode        = "CODE"
	SourceUnspecified = "SOURCE_TYPE_UNSPECIFIED"
)

// FeedbackValue is a feedback's value or the error that kept a judge from
// producing one. Value is a JSON value as MLflow returns it: bool, float64
// (MLflow keeps every feedback number as a double), string, []any,
// map[string]any or nil.
type FeedbackValue struct {
	Value any
	Error *AssessmentError
}

// ExpectationValue is an expectation's value: any JSON value (scalars come
// back from MLflow as bool, float64 or string; lists and objects keep their
// numbers as json.Number).
type ExpectationValue struct {
	Value any
}

// IssueValue is the value of an issue reference.
type IssueValue struct {
	IssueName string
}

// AssessmentError is the error a feedback records instead of a value.
type AssessmentError struct {
	Code       string
	Message    string
	StackTrace string
}

// serializationJSON is the only serialization format of an expectation's
// serialized_value.
const serializationJSON = "JSON_FORMAT"

// MarshalJSON encodes a in protobuf JSON with proto field names, fields in
// proto order and empty optional ones left out: what MLflow's REST API takes
// and what Assessment.to_dictionary() of MLflow's Python SDK returns (times
// as RFC 3339 strings; an expectation that is not a bool, number or string
// travels as serialized_value, JSON text).
func (a *Assessment) MarshalJSON() ([]byte, error) {
	return appendAssessment(make([]byte, 0, 256), a)
}

func appendAssessment(b []byte, a *Assessment) ([]byte, error) {
	var w fieldWriter
	w.b = append(b, '{')
	w.str("assessment_id", a.AssessmentID)
	w.str("assessment_name", a.Name)
	w.str("trace_id", a.TraceID)
	w.str("span_id", a.SpanID)
	w.key("source")
	var sw fieldWriter
	sw.b = append(w.b, '{')
	st := a.Source.Type
	if st == "" {
		st = SourceUnspecified
	}
	sw.str("source_type", st)
	sw.str("source_id", a.Source.ID)
	w.b = append(sw.b, '}')
	if !a.CreateTime.IsZero() {
		w.key("create_time")
		w.b = appendQuotedTimestamp(w.b, a.CreateTime)
	}
	if !a.LastUpdateTime.IsZero() {
		w.key("last_update_time")
		w.b = appendQuotedTimestamp(w.b, a.LastUpdateTime)
	}
	switch {
	case a.Feedback != nil:
		w.key("feedback")
		w.b = append(w.b, '{')
		w.b = appendKey(w.b, "value")
		w.b = encode.AppendJSON(w.b, a.Feedback.Value)
		if e := a.Feedback.Error; e != nil {
			w.b = append(w.b, ", "...)
			w.b = appendKey(w.b, "error")
			w.b = appendAssessmentError(w.b, e)
		}
		w.b = append(w.b, '}')
	case a.Expectation != nil:
		w.key("expectation")
		var err error
		if w.b, err = appendExpectation(w.b, a.Expectation.Value); err != nil {
			return nil, err
		}
	case a.Issue != nil:
		w.key("issue")
		w.b = append(w.b, '{')
		w.b = appendKey(w.b, "issue_name")
		w.b = encode.AppendString(w.b, a.Issue.IssueName, false)
		w.b = append(w.b, '}')
	default:
		return nil, errors.New("tracemodel: assessment has no feedback, expectation or issue")
	}
	w.str("rationale", a.Rationale)
	if len(a.Metadata) > 0 {
		w.key("metadata")
		w.b = appendStringMap(w.b, a.Metadata)
	}
	w.str("overrides", a.Overrides)
	if a.Valid != nil {
		w.key("valid")
		w.b = strconv.AppendBool(w.b, *a.Valid)
	}
	return append(w.b, '}'), nil
}

// fieldWriter writes the members of a JSON object, ", " between them.
type fieldWriter struct {
	b    []byte
	used bool
}

func (w *fieldWriter) key(k string) {
	if w.used {
		w.b = append(w.b, ", "...)
	}
	w.used = true
	w.b = appendKey(w.b, k)
}

// str writes k: v unless v is empty.
func (w *fieldWriter) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = encode.AppendString(w.b, v, false)
}

func appendQuotedTimestamp(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = AppendTimestamp(b, t.Truncate(time.Millisecond))
	return append(b, '"')
}

func appendAssessmentError(b []byte, e *AssessmentError) []byte {
	var w fieldWriter
	w.b = append(b, '{')
	w.key("error_code")
	w.b = encode.AppendString(w.b, e.Code, false)
	w.str("error_message", e.Message)
	w.str("stack_trace", e.StackTrace)
	return append(w.b, '}')
}

// appendExpectation writes {"value": v} for a bool, number or string (as
// MLflow's ExpectationValue.to_proto does), {"serialized_value": ...} with
// the JSON text of anything else.
func appendExpectation(b []byte, v any) ([]byte, error) {
	if isScalar(v) {
		b = append(b, '{')
		b = appendKey(b, "value")
		b = encode.AppendJSON(b, v)
		return append(b, '}'), nil
	}
	text := encode.AppendJSON(nil, v)
	if !rawjson.Valid(text) {
		return nil, fmt.Errorf("tracemodel: expectation value %T is not JSON-serializable", v)
	}
	b = append(b, `{"serialized_value": {"serialization_format": "JSON_FORMAT", "value": `...)
	b = encode.AppendString(b, string(text), false)
	return append(b, "}}"...), nil
}

// isScalar reports whether v is a JSON bool, number or string.
func isScalar(v any) bool {
	switch v.(type) {
	case bool, string, json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// UnmarshalJSON reads an assessment in protobuf JSON (proto or camelCase
// field names), as MLflow's REST API answers and its FileStore writes it.
func (a *Assessment) UnmarshalJSON(data []byte) error {
	var m members
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("tracemodel: decode assessment: %w", err)
	}
	get, str := m.get, m.str
	var out Assessment
	out.AssessmentID = str("assessment_id", "assessmentId")
	out.Name = str("assessment_name", "assessmentName")
	out.TraceID = str("trace_id", "traceId")
	out.SpanID = str("span_id", "spanId")
	out.Rationale = str("rationale")
	out.Overrides = str("overrides")
	if raw := get("source"); raw != nil {
		var src struct {
			Type      string `json:"source_type"`
			TypeCamel string `json:"sourceType"`
			ID        string `json:"source_id"`
			IDCamel   string `json:"sourceId"`
		}
		if err := json.Unmarshal(raw, &src); err != nil {
			return fmt.Errorf("tracemodel: decode assessment source: %w", err)
		}
		out.Source = AssessmentSource{Type: firstOf(src.Type, src.TypeCamel), ID: firstOf(src.ID, src.IDCamel)}
	}
	var err error
	if out.CreateTime, err = parseTimestamp(str("create_time", "createTime")); err != nil {
		return err
	}
	if out.LastUpdateTime, err = parseTimestamp(str("last_update_time", "lastUpdateTime")); err != nil {
		return err
	}
	if raw := get("feedback"); raw != nil {
		var fb struct {
			Value json.RawMessage `json:"value"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(raw, &fb); err != nil {
			return fmt.Errorf("tracemodel: decode feedback: %w", err)
		}
		out.Feedback = &FeedbackValue{}
		if len(fb.Value) > 0 {
			if err := json.Unmarshal(fb.Value, &out.Feedback.Value); err != nil {
				return fmt.Errorf("tracemodel: decode feedback value: %w", err)
			}
		}
		if e := get("error"); e != nil && len(fb.Error) == 0 {
			fb.Error = e // the deprecated top-level error
		}
		if len(fb.Error) > 0 && string(fb.Error) != "null" {
			var ej map[string]string
			_ = json.Unmarshal(fb.Error, &ej)
			out.Feedback.Error = &AssessmentError{Code: firstOf(ej["error_code"], ej["errorCode"]), Message: firstOf(ej["error_message"], ej["errorMessage"]), StackTrace: firstOf(ej["stack_trace"], ej["stackTrace"])}
		}
	}
	if raw := get("expectation"); raw != nil {
		v, err := decodeExpectation(raw)
		if err != nil {
			return err
		}
		out.Expectation = &ExpectationValue{Value: v}
	}
	if raw := get("issue"); raw != nil {
		var is struct {
			Name      string `json:"issue_name"`
			NameCamel string `json:"issueName"`
		}
		_ = json.Unmarshal(raw, &is)
		out.Issue = &IssueValue{IssueName: firstOf(is.Name, is.NameCamel)}
	}
	if raw := get("metadata"); raw != nil {
		if err := json.Unmarshal(raw, &out.Metadata); err != nil {
			return fmt.Errorf("tracemodel: decode assessment metadata: %w", err)
		}
	}
	if raw := get("valid"); raw != nil {
		var v bool
		if err := json.Unmarshal(raw, &v); err == nil {
			out.Valid = &v
		}
	}
	*a = out
	return nil
}

func decodeExpectation(raw json.RawMessage) (any, error) {
	var ej struct {
		Value      json.RawMessage `json:"value"`
		Serialized *struct {
			Format      string `json:"serialization_format"`
			FormatCamel string `json:"serializationFormat"`
			Value       string `json:"value"`
		} `json:"serialized_value"`
		SerializedCamel *struct {
			Format string `json:"serializationFormat"`
			Value  string `json:"value"`
		} `json:"serializedValue"`
	}
	if err := json.Unmarshal(raw, &ej); err != nil {
		return nil, fmt.Errorf("tracemodel: decode expectation: %w", err)
	}
	text, format := "", ""
	switch {
	case ej.Serialized != nil:
		text, format = ej.Serialized.Value, firstOf(ej.Serialized.Format, ej.Serialized.FormatCamel)
	case ej.SerializedCamel != nil:
		text, format = ej.SerializedCamel.Value, ej.SerializedCamel.Format
	default:
		var v any
		if len(ej.Value) > 0 {
			if err := json.Unmarshal(ej.Value, &v); err != nil {
				return nil, fmt.Errorf("tracemodel: decode expectation value: %w", err)
			}
		}
		return v, nil
	}
	if format != serializationJSON {
		return nil, fmt.Errorf("tracemodel: unknown expectation serialization format %q (only %s is supported)", format, serializationJSON)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("tracemodel: decode serialized expectation: %w", err)
	}
	return v, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseTimestamp reads a protobuf JSON Timestamp; "" is the zero time.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("tracemodel: bad timestamp %q", s)
	}
	return t, nil
}

// NormalizeSourceType returns MLflow's spelling of a source type: upper case,
// the deprecated AI_JUDGE as LLM_JUDGE; ok is false for an unknown type.
func NormalizeSourceType(t string) (string, bool) {
	t = strings.ToUpper(strings.TrimSpace(t))
	if t == "AI_JUDGE" {
		t = SourceLLMJudge
	}
	switch t {
	case SourceHuman, SourceLLMJudge, SourceCode, SourceUnspecified:
		return t, true
	}
	return t, false
}
