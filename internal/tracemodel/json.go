package tracemodel

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

type spanJSON struct {
	TraceID           string            `json:"trace_id"`
	SpanID            string            `json:"span_id"`
	ParentSpanID      *string           `json:"parent_span_id"`
	Name              string            `json:"name"`
	StartTimeUnixNano int64             `json:"start_time_unix_nano"`
	EndTimeUnixNano   int64             `json:"end_time_unix_nano"`
	Events            []eventJSON       `json:"events"`
	Status            statusJSON        `json:"status"`
	Attributes        map[string]string `json:"attributes"`
}

type eventJSON struct {
	Name         string         `json:"name"`
	TimeUnixNano int64          `json:"time_unix_nano"`
	Attributes   map[string]any `json:"attributes"`
}

type statusJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MarshalJSON encodes s in MLflow's traces.json span form.
func (s *Span) MarshalJSON() ([]byte, error) {
	j := spanJSON{
		TraceID:    base64.StdEncoding.EncodeToString(s.TraceID[:]),
		SpanID:     base64.StdEncoding.EncodeToString(s.SpanID[:]),
		Name:       s.Name,
		Events:     []eventJSON{},
		Status:     statusJSON{Code: s.Status.Code, Message: s.Status.Message},
		Attributes: s.Attributes,
	}
	if s.ParentSpanID.IsValid() {
		p := base64.StdEncoding.EncodeToString(s.ParentSpanID[:])
		j.ParentSpanID = &p
	}
	if !s.StartTime.IsZero() {
		j.StartTimeUnixNano = s.StartTime.UnixNano()
	}
	if !s.EndTime.IsZero() {
		j.EndTimeUnixNano = s.EndTime.UnixNano()
	}
	for _, e := range s.Events {
		j.Events = append(j.Events, eventJSON{Name: e.Name, TimeUnixNano: e.Time.UnixNano(), Attributes: e.Attributes})
	}
	if j.Attributes == nil {
		j.Attributes = map[string]string{}
	}
	return json.Marshal(j)
}

// MarshalTraceData encodes spans as MLflow's traces.json: {"spans":[...]}.
func MarshalTraceData(spans []*Span) ([]byte, error) {
	if spans == nil {
		spans = []*Span{}
	}
	return json.Marshal(struct {
		Spans []*Span `json:"spans"`
	}{spans})
}

type traceInfoJSON struct {
	TraceID           string            `json:"trace_id"`
	ClientRequestID   string            `json:"client_request_id,omitempty"`
	TraceLocation     traceLocationJSON `json:"trace_location"`
	RequestPreview    string            `json:"request_preview,omitempty"`
	ResponsePreview   string            `json:"response_preview,omitempty"`
	RequestTime       string            `json:"request_time"`
	ExecutionDuration string            `json:"execution_duration,omitempty"`
	State             string            `json:"state"`
	TraceMetadata     map[string]string `json:"trace_metadata,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
}

type traceLocationJSON struct {
	Type             string              `json:"type"`
	MLflowExperiment *mlflowExperimentJS `json:"mlflow_experiment,omitempty"`
}

type mlflowExperimentJS struct {
	ExperimentID string `json:"experiment_id"`
}

// MarshalJSON encodes ti as MLflow's TraceInfoV3 protobuf JSON.
func (ti *TraceInfo) MarshalJSON() ([]byte, error) {
	j := traceInfoJSON{
		TraceID:         ti.TraceID,
		ClientRequestID: ti.ClientRequestID,
		TraceLocation: traceLocationJSON{
			Type:             "MLFLOW_EXPERIMENT",
			MLflowExperiment: &mlflowExperimentJS{ExperimentID: ti.ExperimentID},
		},
		RequestPreview:    ti.RequestPreview,
		ResponsePreview:   ti.ResponsePreview,
		RequestTime:       ti.RequestTime.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		ExecutionDuration: fmt.Sprintf("%.9fs", ti.ExecutionDuration.Seconds()),
		State:             ti.State,
		TraceMetadata:     ti.Metadata,
		Tags:              ti.Tags,
	}
	return json.Marshal(j)
}
