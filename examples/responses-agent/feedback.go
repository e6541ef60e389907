package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// feedbackRequest is what the chat UI sends for a thumbs-up or -down on an
// answer (the trace id comes with the answer: header
// x-mlflow-return-trace-id: true puts it in metadata.trace_id).
type feedbackRequest struct {
	TraceID string `json:"trace_id"`
	Value   *bool  `json:"value"`
	Comment string `json:"comment"`
	UserID  string `json:"user_id"`
}

// feedbackHandler serves POST /feedback: it logs the user's verdict on the
// answer's trace as a HUMAN feedback named user_feedback (value, rationale =
// comment, source id = user id) — the pattern MLflow's docs show for
// collecting user feedback — and answers {"assessment_id": "a-…"}. A
// feedback that arrives before its trace was exported waits for the export
// (tracing.Provider.LogFeedback). The whole wait is bounded by timeout: when
// MLflow is down or does not answer, the request gets a 504 then, instead of
// hanging for the transport's retry budget.
func feedbackHandler(p *tracing.Provider, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req feedbackRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
			return
		}
		switch {
		case strings.TrimSpace(req.TraceID) == "":
			writeError(w, http.StatusBadRequest, "trace_id is required")
			return
		case req.Value == nil:
			writeError(w, http.StatusBadRequest, "value is required: true (thumbs up) or false (thumbs down)")
			return
		}
		userID := req.UserID
		if userID == "" {
			userID = "anonymous"
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		a, err := p.LogFeedback(ctx, req.TraceID, traces.Feedback{
			Name:      "user_feedback",
			Value:     *req.Value,
			Rationale: req.Comment,
			Source:    exporter.AssessmentSource{Type: traces.SourceHuman, ID: userID},
		})
		switch {
		case errors.Is(err, traces.ErrNotFound):
			writeError(w, http.StatusNotFound, "no trace "+req.TraceID)
			return
		case errors.Is(err, traces.ErrInvalid):
			writeError(w, http.StatusBadRequest, err.Error())
			return
		case err != nil && r.Context().Err() != nil:
			return // the client went away
		case err != nil:
			// MLflow failed, is down, or did not answer within timeout
			// (the transport stops retrying early when its next wait would
			// pass the deadline): the agent's log has the cause.
			slog.Error("logging feedback", "trace_id", req.TraceID, "err", err)
			status, msg := http.StatusBadGateway, "MLflow did not store the feedback"
			if ctx.Err() != nil {
				status, msg = http.StatusGatewayTimeout, fmt.Sprintf("MLflow did not confirm the feedback within %v; it may not have been stored", timeout)
			}
			writeError(w, status, msg)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"assessment_id": a.AssessmentID})
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
