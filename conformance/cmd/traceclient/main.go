// Command traceclient runs package traces for the conformance suite: it
// reads one JSON request per line on stdin, runs it with a traces.Client
// configured from the environment (MLFLOW_TRACKING_URI, ...), and writes one
// JSON answer per line: {"result": ...} or {"error": "...", "not_found":
// bool, "invalid": bool}.
//
// Requests ("op" and its fields):
//
//	get              trace_id                          → Trace.to_dict()
//	get_info         trace_id                          → {"trace_id": ...} (GetTraceInfo)
//	search           locations filter order_by max_results page_token without_spans all
//	                                                   → {"ids": [...], "next_page_token": "...", "span_counts": [...]}
//	log_feedback     trace_id name value error rationale source metadata span_id → assessment
//	log_expectation  trace_id name value source metadata span_id                 → assessment
//	override         trace_id assessment_id value rationale source metadata      → assessment
//	get_assessment   trace_id assessment_id                                      → assessment
//	update           trace_id assessment_id feedback expectation rationale metadata → assessment
//	delete_assessment, set_tag (key value), delete_tag (key), delete_traces (experiment_id trace_ids max_timestamp_millis max_traces)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

type request struct {
	Op           string                     `json:"op"`
	TraceID      string                     `json:"trace_id"`
	AssessmentID string                     `json:"assessment_id"`
	Name         string                     `json:"name"`
	Value        json.RawMessage            `json:"value"`
	Error        *exporter.AssessmentError  `json:"error"`
	Rationale    *string                    `json:"rationale"`
	Source       *exporter.AssessmentSource `json:"source"`
	Metadata     map[string]any             `json:"metadata"`
	SpanID       string                     `json:"span_id"`
	Feedback     json.RawMessage            `json:"feedback"`
	Expectation  json.RawMessage            `json:"expectation"`
	Key          string                     `json:"key"`
	TagValue     string                     `json:"tag_value"`
	Locations    []string                   `json:"locations"`
	Filter       string                     `json:"filter"`
	OrderBy      []string                   `json:"order_by"`
	MaxResults   int                        `json:"max_results"`
	PageToken    string                     `json:"page_token"`
	WithoutSpans bool                       `json:"without_spans"`
	ModelID      string                     `json:"model_id"`
	All          bool                       `json:"all"`
	ExperimentID string                     `json:"experiment_id"`
	TraceIDs     []string                   `json:"trace_ids"`
	MaxTimestamp int64                      `json:"max_timestamp_millis"`
	MaxTraces    int                        `json:"max_traces"`
}

func main() {
	ctx := context.Background()
	c, err := traces.NewClient(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		dec := json.NewDecoder(bytes.NewReader(in.Bytes()))
		dec.UseNumber() // metadata's integers stay integers: str(1) is "1", str(1.0) "1.0"
		if err := dec.Decode(&req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(1)
		}
		res, err := do(ctx, c, &req)
		if err != nil {
			_ = out.Encode(map[string]any{"error": err.Error(), "not_found": errors.Is(err, traces.ErrNotFound), "invalid": errors.Is(err, traces.ErrInvalid)})
			continue
		}
		_ = out.Encode(map[string]any{"result": res})
	}
}

func value(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep an expectation's integers integers
	var v any
	_ = dec.Decode(&v)
	return v
}

func source(s *exporter.AssessmentSource) exporter.AssessmentSource {
	if s == nil {
		return exporter.AssessmentSource{}
	}
	return *s
}

func do(ctx context.Context, c *traces.Client, r *request) (any, error) {
	switch r.Op {
	case "get":
		t, err := c.GetTrace(ctx, r.TraceID)
		if err != nil {
			return nil, err
		}
		return raw(t.MarshalJSON())
	case "get_info":
		info, err := c.GetTraceInfo(ctx, r.TraceID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"trace_id": info.TraceID}, nil
	case "search":
		q := traces.SearchQuery{Locations: r.Locations, Filter: r.Filter, OrderBy: r.OrderBy, MaxResults: r.MaxResults,
			PageToken: r.PageToken, WithoutSpans: r.WithoutSpans, ModelID: r.ModelID}
		ids, counts := []string{}, []int{}
		next := ""
		if r.All {
			for t, err := range c.AllTraces(ctx, q) {
				if err != nil {
					return nil, err
				}
				ids, counts = append(ids, t.Info.TraceID), append(counts, len(t.Spans))
			}
		} else {
			page, err := c.SearchTraces(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, t := range page.Traces {
				ids, counts = append(ids, t.Info.TraceID), append(counts, len(t.Spans))
			}
			next = page.NextPageToken
		}
		return map[string]any{"ids": ids, "next_page_token": next, "span_counts": counts}, nil
	case "search_sessions":
		sessions, err := c.SearchSessions(ctx, traces.SessionQuery{Locations: r.Locations, MaxResults: r.MaxResults,
			ModelID: r.ModelID, WithoutSpans: r.WithoutSpans})
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, s := range sessions {
			ids, counts := []string{}, []int{}
			for _, t := range s.Traces {
				ids, counts = append(ids, t.Info.TraceID), append(counts, len(t.Spans))
			}
			out = append(out, map[string]any{"id": s.ID, "ids": ids, "span_counts": counts})
		}
		return out, nil
	case "log_feedback", "override":
		fb := traces.Feedback{Name: r.Name, Value: value(r.Value), Error: r.Error, Source: source(r.Source), Metadata: r.Metadata, SpanID: r.SpanID}
		if r.Rationale != nil {
			fb.Rationale = *r.Rationale
		}
		if r.Op == "override" {
			return assessment(c.OverrideFeedback(ctx, r.TraceID, r.AssessmentID, fb))
		}
		return assessment(c.LogFeedback(ctx, r.TraceID, fb))
	case "log_expectation":
		return assessment(c.LogExpectation(ctx, r.TraceID, traces.Expectation{Name: r.Name, Value: value(r.Value), Source: source(r.Source), Metadata: r.Metadata, SpanID: r.SpanID}))
	case "get_assessment":
		return assessment(c.GetAssessment(ctx, r.TraceID, r.AssessmentID))
	case "update":
		u := traces.AssessmentUpdate{Rationale: r.Rationale, Metadata: r.Metadata}
		if r.Name != "" {
			u.Name = &r.Name
		}
		if len(r.Feedback) > 0 {
			u.Feedback = &exporter.FeedbackValue{Value: value(r.Feedback)}
		}
		if len(r.Expectation) > 0 {
			u.Expectation = &exporter.ExpectationValue{Value: value(r.Expectation)}
		}
		return assessment(c.UpdateAssessment(ctx, r.TraceID, r.AssessmentID, u))
	case "delete_assessment":
		return nil, c.DeleteAssessment(ctx, r.TraceID, r.AssessmentID)
	case "set_tag":
		return nil, c.SetTraceTag(ctx, r.TraceID, r.Key, r.TagValue)
	case "delete_tag":
		return nil, c.DeleteTraceTag(ctx, r.TraceID, r.Key)
	case "delete_traces":
		q := traces.DeleteQuery{TraceIDs: r.TraceIDs, MaxTraces: r.MaxTraces}
		if r.MaxTimestamp > 0 {
			q.OlderThan = time.UnixMilli(r.MaxTimestamp)
		}
		return c.DeleteTraces(ctx, r.ExperimentID, q)
	}
	return nil, fmt.Errorf("unknown op %q", r.Op)
}

func assessment(a *exporter.Assessment, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return raw(a.MarshalJSON())
}

func raw(b []byte, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}
