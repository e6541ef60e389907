package databrickstest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// serveOTLP is the Unity Catalog span ingestion route: OTLP protobuf spans
// for the table named by X-Databricks-UC-Table-Name.
func (w *Workspace) serveOTLP(rw http.ResponseWriter, r *http.Request) {
	table := r.Header.Get(headerUCTable)
	parts := strings.Split(table, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		w.reject("otel: %s %q is not <catalog>.<schema>.<table>", headerUCTable, table)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Header "+headerUCTable+" must name a table as <catalog>.<schema>.<table>")
		return
	}
	// The table is a UC schema location's spans table or the spans table
	// of a table-prefix location an experiment is linked to.
	loc := parts[0] + "." + parts[1]
	w.mu.Lock()
	known := w.ucSchemas[loc] && parts[2] == DefaultSpansTable
	if !known {
		for prefixLoc, spans := range w.ucPrefixes {
			if spans == table {
				loc, known = prefixLoc, true
			}
		}
	}
	w.mu.Unlock()
	if !known {
		w.reject("otel: table %s is not the spans table of a trace location", table)
		apiError(rw, http.StatusNotFound, "NOT_FOUND", "Table '"+table+"' does not exist.")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		w.reject("otel: Content-Type %q", ct)
		apiError(rw, http.StatusUnsupportedMediaType, "INVALID_PARAMETER_VALUE", "Content-Type must be application/x-protobuf")
		return
	}
	var body io.Reader = io.LimitReader(r.Body, maxBody+1)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "malformed gzip body")
			return
		}
		body = io.LimitReader(zr, maxBody+1)
	}
	raw, err := io.ReadAll(body)
	if err != nil || len(raw) > maxBody {
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "unreadable body")
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		w.reject("otel: body is not an ExportTraceServiceRequest: %v", err)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "body is not an OTLP ExportTraceServiceRequest")
		return
	}
	type item struct {
		id   string
		span []byte
		res  []byte
	}
	var items []item
	for _, rs := range req.GetResourceSpans() {
		res, _ := proto.Marshal(rs.GetResource())
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
					w.reject("otel: span %q has a malformed trace or span id", sp.GetName())
					apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "span ids must be 16 (trace) and 8 (span) bytes")
					return
				}
				b, _ := proto.Marshal(sp)
				items = append(items, item{"trace:/" + loc + "/" + hex.EncodeToString(sp.GetTraceId()), b, res})
			}
		}
	}
	w.mu.Lock()
	for _, it := range items {
		t := w.ucTraceLocked(it.id, loc)
		t.Spans = append(t.Spans, it.span)
		t.SpanTable = table
		t.Resource = it.res
	}
	w.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	rw.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = rw.Write(out)
}

func (w *Workspace) ucTraceLocked(id, loc string) *Trace {
	t := w.traces[id]
	if t == nil {
		t = &Trace{TraceID: id, Location: loc}
		w.traces[id] = t
		w.order = append(w.order, id)
	}
	return t
}

// serveTraceInfoV4 is CreateTraceInfo:
// POST /api/4.0/mlflow/traces/{location}/{trace id hex}/info.
func (w *Workspace) serveTraceInfoV4(rw http.ResponseWriter, r *http.Request) {
	rest := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, pathV4Prefix), "/info")
	loc, hexID, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(hexID, "/") {
		apiError(rw, http.StatusNotFound, "ENDPOINT_NOT_FOUND", "No API found for 'POST "+r.URL.Path+"'")
		return
	}
	body, ok := w.readJSON(rw, r, "mlflow.databricks.TraceInfo")
	if !ok {
		return
	}
	var in infoV3
	_ = json.Unmarshal(body, &in)
	if msg := checkInfoFields(&in); msg != "" {
		w.reject("CreateTraceInfo: %s", msg)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", msg)
		return
	}
	w.mu.Lock()
	_, isPrefix := w.ucPrefixes[loc]
	known := w.ucSchemas[loc] || isPrefix
	w.mu.Unlock()
	locOK := in.Location.Type == "UC_SCHEMA" && in.Location.UCSchema.CatalogName+"."+in.Location.UCSchema.SchemaName == loc
	if isPrefix {
		tp := in.Location.UCTablePrefix
		locOK = in.Location.Type == "UC_TABLE_PREFIX" && tp.CatalogName+"."+tp.SchemaName+"."+tp.TablePrefix == loc
	}
	switch {
	case !known:
		w.reject("CreateTraceInfo: %s is not a trace location", loc)
		apiError(rw, http.StatusNotFound, "NOT_FOUND", "Trace location '"+loc+"' does not exist.")
		return
	case in.TraceID != hexID || len(hexID) != 32 || strings.Trim(hexID, "0123456789abcdef") != "":
		w.reject("CreateTraceInfo: trace_id %q does not match the path's %q", in.TraceID, hexID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "trace_info.trace_id must be the 32-hex OpenTelemetry trace id of the path")
		return
	case !locOK:
		w.reject("CreateTraceInfo: trace_location %s does not match %s", in.Location.Type, loc)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "trace_location must be the Unity Catalog location "+loc)
		return
	case in.Metadata["mlflow.trace_schema.version"] != "4":
		w.reject("CreateTraceInfo: mlflow.trace_schema.version is %q, not 4", in.Metadata["mlflow.trace_schema.version"])
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "trace_metadata mlflow.trace_schema.version must be 4")
		return
	}
	id := "trace:/" + loc + "/" + hexID
	w.mu.Lock()
	t := w.ucTraceLocked(id, loc)
	t.TraceInfoV4 = append(json.RawMessage(nil), body...)
	t.TraceInfo = append(json.RawMessage(nil), body...)
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(bytes.TrimSpace(body))
}
