package mlflowrest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// PathStartTraceV3 is the StartTraceV3 route (called when a trace ends,
// despite its name).
const PathStartTraceV3 = "/api/3.0/mlflow/traces"

// StartTraceV3 creates the trace info on the backend. A failure is the
// transport's *Error, unwrapped, so callers can read its status and error
// code. The answer is kept unparsed: most callers never need it (the MLflow
// server destination reads its tags only when it uploads traces.json).
func StartTraceV3(ctx context.Context, c *transport.Client, info *tracemodel.TraceInfo) (*StartedTrace, error) {
	resp, err := c.Do(ctx, StartTraceRequest(info))
	if err != nil {
		return nil, err
	}
	return &StartedTrace{body: resp.Body}, nil
}

// StartTraceRequest is the StartTraceV3 request for info, for a caller
// that sends it with others (transport's DoPipelined); Started reads its
// answer.
func StartTraceRequest(info *tracemodel.TraceInfo) *transport.Request {
	return &transport.Request{
		Method: http.MethodPost,
		Path:   PathStartTraceV3,
		Header: http.Header{"Content-Type": {"application/json"}},
		AppendBody: func(b []byte) []byte {
			b = append(b, `{"trace":{"trace_info":`...)
			b = info.AppendJSON(b)
			return append(b, "}}"...)
		},
	}
}

// Started is the answer to a StartTraceRequest.
func Started(resp *transport.Response) *StartedTrace { return &StartedTrace{body: resp.Body} }

// StartedTrace is the backend's answer to StartTraceV3.
type StartedTrace struct{ body []byte }

// Tags returns the tags of the trace info the backend answered with.
func (s *StartedTrace) Tags() (map[string]string, error) {
	var out struct {
		Trace struct {
			TraceInfo struct {
				Tags map[string]string `json:"tags"`
			} `json:"trace_info"`
		} `json:"trace"`
	}
	if err := json.Unmarshal(s.body, &out); err != nil {
		return nil, fmt.Errorf("malformed StartTraceV3 response: %w", err)
	}
	return out.Trace.TraceInfo.Tags, nil
}

// GetTraceInfo looks a trace up: GetTraceInfoV3 (GET
// /api/3.0/mlflow/traces/{trace id}) for an MLflow experiment trace, or,
// given a Unity Catalog location ("<catalog>.<schema>[.<prefix>]"), the
// Databricks v4 GetTraceInfo (GET
// /api/4.0/mlflow/traces/{location}/{32-hex id}/info). It returns the tags
// and metadata of the stored trace info; found is false when the backend
// answers 404. The spool's replay uses it to tell a trace already stored (a
// repeat of StartTraceV3 fails on a FileStore-backed server) from a new one.
func GetTraceInfo(ctx context.Context, c *transport.Client, ucLocation, traceID string) (tags, metadata map[string]string, found bool, err error) {
	path := PathStartTraceV3 + "/" + url.PathEscape(traceID)
	if ucLocation != "" {
		path = PathTracesV4 + url.PathEscape(ucLocation) + "/" + url.PathEscape(traceID) + "/info"
	}
	resp, err := c.Do(ctx, &transport.Request{Method: http.MethodGet, Path: path})
	if err != nil {
		if transport.StatusCode(err) == http.StatusNotFound {
			return nil, nil, false, nil
		}
		return nil, nil, false, err
	}
	var out struct {
		Trace struct {
			TraceInfo struct {
				Tags     map[string]string `json:"tags"`
				Metadata map[string]string `json:"trace_metadata"`
			} `json:"trace_info"`
		} `json:"trace"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, nil, false, fmt.Errorf("malformed GetTraceInfo response: %w", err)
	}
	return out.Trace.TraceInfo.Tags, out.Trace.TraceInfo.Metadata, true, nil
}

// PathTracesV4 prefixes the Databricks v4 trace routes.
const PathTracesV4 = "/api/4.0/mlflow/traces/"

// EscapePath escapes each segment of a slash-separated path.
func EscapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
