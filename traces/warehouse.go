package traces

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// This file is the Databricks SQL warehouse of MLflow 3.17.2's
// DatabricksTracingRestStore: the id its v4 trace calls pass
// (_resolve_sql_warehouse_id, _append_sql_warehouse_id_param), and the
// check that the warehouse runs, starting it when it does not
// (mlflow/utils/databricks_sql_warehouse.py, ensure_sql_warehouse_running).

// WithSQLWarehouseID names the Databricks SQL warehouse that package traces
// passes (sql_warehouse_id) with the Databricks v4 trace calls — the
// long-running search, trace info, batchGet, assessments and tag deletion —
// and with which it searches a SearchQuery.ModelID, as MLflow's client does
// with MLFLOW_TRACING_SQL_WAREHOUSE_ID, which it overrides. An empty id
// means no warehouse. The exporter ignores it.
func WithSQLWarehouseID(id string) exporter.Option {
	id = strings.TrimSpace(id)
	return settings.Func(func(s *settings.Settings) { s.SQLWarehouseID = id })
}

// WithSQLWarehouseAutoStart makes the client check, before the first call
// that names the SQL warehouse (and again once the last check is a minute
// old), that the warehouse is RUNNING, and start it when it is not, waiting
// up to timeout (≤ 0: MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS or its
// default, 20 minutes) — the default, as MLFLOW_SQL_WAREHOUSE_AUTO_START is
// true in MLflow.
func WithSQLWarehouseAutoStart(timeout time.Duration) exporter.Option {
	return settings.Func(func(s *settings.Settings) {
		s.SQLWarehouseAutoStart = true
		if timeout > 0 {
			s.SQLWarehouseStartTimeout = timeout
		}
		s.SQLWarehouseEnvErr = nil
	})
}

// WithoutSQLWarehouseAutoStart passes the SQL warehouse id without checking
// or starting the warehouse (MLFLOW_SQL_WAREHOUSE_AUTO_START=false).
func WithoutSQLWarehouseAutoStart() exporter.Option {
	return settings.Func(func(s *settings.Settings) { s.SQLWarehouseAutoStart, s.SQLWarehouseEnvErr = false, nil })
}

// ErrSQLWarehouseRequired is matched by the error of a Databricks call that
// the workspace refused for want of a SQL warehouse ("Could not resolve a
// SQL warehouse ID"): set MLFLOW_TRACING_SQL_WAREHOUSE_ID or use
// WithSQLWarehouseID.
var ErrSQLWarehouseRequired = errors.New("SQL warehouse ID is required for accessing traces in UC tables")

// warehouseVerified is how long a RUNNING answer is trusted (MLflow's
// _CACHE_TTL_SECONDS).
const warehouseVerified = 60 * time.Second

const pathWarehouses = "/api/2.0/sql/warehouses/"

// warehouse is the SQL warehouse of a Databricks backend.
type warehouse struct {
	id        string
	autoStart bool
	timeout   time.Duration
	c         *transport.Client
	now       func() time.Time
	// pollWait is the wait before poll number attempt (1, 2, …): the
	// Databricks SDK's min(attempt, 10) seconds plus up to a second of
	// jitter.
	pollWait func(attempt int) time.Duration
	// notice tells the user once, before the wait, what is waited for.
	notice func(msg string)

	mu            sync.Mutex
	verifiedUntil time.Time
	checking      *warehouseCheck // the check in flight, nil when none
}

// warehouseCheck is a check in flight: err is set before done closes.
type warehouseCheck struct {
	done chan struct{}
	err  error
}

func newWarehouse(s *settings.Settings, c *transport.Client) *warehouse {
	return &warehouse{
		id: s.SQLWarehouseID, autoStart: s.SQLWarehouseAutoStart, timeout: s.SQLWarehouseStartTimeout,
		c: c, now: s.Now,
		pollWait: func(attempt int) time.Duration {
			return time.Duration(min(attempt, 10))*time.Second + rand.N(time.Second)
		},
		notice: func(msg string) { slog.Default().Info(msg) },
	}
}

// ID returns the id to send ("" without a warehouse), checking first,
// when auto-start is on, that the warehouse runs and starting it if not.
// Concurrent callers on a cold cache (a search page's span loads) wait for
// one check and share its outcome — MLflow lets each of its threads check;
// the requests of one check are the same. No lock is held during the
// requests; a waiter stops waiting when its ctx is done, and checks itself
// when the checking caller's ctx ended the check.
func (w *warehouse) ID(ctx context.Context) (string, error) {
	if w == nil || w.id == "" {
		return "", nil
	}
	if !w.autoStart {
		return w.id, nil
	}
	for {
		w.mu.Lock()
		if w.now().Before(w.verifiedUntil) {
			w.mu.Unlock()
			return w.id, nil
		}
		c := w.checking
		if c == nil {
			break // w.mu held: this caller checks
		}
		w.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		switch {
		case c.err == nil:
			return w.id, nil
		case errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded):
			// The checking caller gave up (its ctx); this one has not.
			continue
		}
		return "", c.err
	}
	c := &warehouseCheck{done: make(chan struct{})}
	w.checking = c
	w.mu.Unlock()

	c.err = w.ensureRunning(ctx)
	w.mu.Lock()
	w.checking = nil
	if c.err == nil {
		w.verifiedUntil = w.now().Add(warehouseVerified)
	}
	w.mu.Unlock()
	close(c.done)
	if c.err != nil {
		return "", c.err
	}
	return w.id, nil
}

type warehouseInfo struct {
	State  string `json:"state"`
	Health *struct {
		Summary string `json:"summary"`
	} `json:"health"`
}

func (w *warehouse) get(ctx context.Context) (*warehouseInfo, error) {
	var info warehouseInfo
	err := mlflowrest.Call(ctx, w.c, "traces", http.MethodGet, pathWarehouses+url.PathEscape(w.id), nil, &info)
	return &info, err
}

// ensureRunning is MLflow's ensure_sql_warehouse_running: GET the
// warehouse; unless RUNNING, POST …/start and poll until RUNNING, failing
// on STOPPED or DELETED, within the timeout.
func (w *warehouse) ensureRunning(ctx context.Context) error {
	info, err := w.get(ctx)
	if err != nil {
		return fmt.Errorf("traces: SQL warehouse '%s': %w", w.id, err)
	}
	if info.State == "RUNNING" {
		return nil
	}
	secs := int64(w.timeout / time.Second)
	w.notice(fmt.Sprintf("SQL warehouse '%s' is %s; starting it and waiting up to %ds for RUNNING.", w.id, info.State, secs))
	fail := func(err error) error {
		return fmt.Errorf("traces: failed to start SQL warehouse '%s': %w. Start the warehouse explicitly and retry, or set `MLFLOW_SQL_WAREHOUSE_AUTO_START=false` to disable this preflight", w.id, err)
	}
	if err := mlflowrest.Call(ctx, w.c, "traces", http.MethodPost, pathWarehouses+url.PathEscape(w.id)+"/start", map[string]any{}, nil); err != nil {
		return fail(err)
	}
	deadline := w.now().Add(w.timeout)
	status := "polling..."
	for attempt := 1; w.now().Before(deadline); attempt++ {
		info, err := w.get(ctx)
		if err != nil {
			return fail(err)
		}
		status = "current status: State." + info.State
		if info.Health != nil && info.Health.Summary != "" {
			status = info.Health.Summary
		}
		switch info.State {
		case "RUNNING":
			return nil
		case "STOPPED", "DELETED":
			return fail(fmt.Errorf("failed to reach RUNNING, got State.%s: %s", info.State, status))
		}
		t := time.NewTimer(min(w.pollWait(attempt), max(deadline.Sub(w.now()), 0)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return fmt.Errorf("traces: timed out after %ds waiting for SQL warehouse '%s' to reach RUNNING state (%s). Increase the timeout via the `MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS` environment variable, or start the warehouse explicitly and retry", secs, w.id, status)
}

// warehouseRequired turns a workspace's refusal for want of a SQL warehouse
// into ErrSQLWarehouseRequired with MLflow's advice (its
// DatabricksTracingRestStore._call_endpoint).
func warehouseRequired(err error) error {
	if err == nil || transport.ErrorCode(err) != "INVALID_PARAMETER_VALUE" || !strings.Contains(err.Error(), "Could not resolve a SQL warehouse ID") {
		return err
	}
	return fmt.Errorf("traces: %w: set the MLFLOW_TRACING_SQL_WAREHOUSE_ID environment variable (or traces.WithSQLWarehouseID) to your SQL warehouse ID; see https://docs.databricks.com/compute/sql-warehouse for how to set up a SQL warehouse and get its ID (%w)", ErrSQLWarehouseRequired, err)
}

const pathUnifiedTraces = "/api/2.0/mlflow/unified-traces"

// searchUnified is MLflow's _search_unified_traces: the traces of model id
// q.ModelID through the SQL warehouse (GET, the SearchUnifiedTraces message
// as the query; the locations are its experiment_ids). As in MLflow, the
// warehouse is not checked first, and the answer's trace infos are v2
// (TraceInfoV2.to_v3).
func (r *restBackend) searchUnified(ctx context.Context, q SearchQuery) ([]*exporter.TraceInfo, string, error) {
	v := url.Values{"model_id": {q.ModelID}, "sql_warehouse_id": {r.wh.id}}
	for _, l := range q.Locations {
		v.Add("experiment_ids", l)
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	v.Set("max_results", strconv.Itoa(q.MaxResults))
	for _, o := range q.OrderBy {
		v.Add("order_by", o)
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	var out struct {
		Traces        []traceInfoV2 `json:"traces"`
		NextPageToken string        `json:"next_page_token"`
	}
	if err := r.call(ctx, http.MethodGet, pathUnifiedTraces+"?"+v.Encode(), nil, &out); err != nil {
		return nil, "", wrap(err, "search of model", q.ModelID)
	}
	infos := make([]*exporter.TraceInfo, len(out.Traces))
	for i, t := range out.Traces {
		infos[i] = t.v3()
	}
	return infos, out.NextPageToken, nil
}

// traceInfoV2 is MLflow's mlflow.TraceInfo message (protobuf JSON).
type traceInfoV2 struct {
	RequestID       string           `json:"request_id"`
	ExperimentID    string           `json:"experiment_id"`
	TimestampMs     mlflowrest.Int64 `json:"timestamp_ms"`
	ExecutionTimeMs mlflowrest.Int64 `json:"execution_time_ms"`
	Status          string           `json:"status"`
	RequestMetadata []keyValue       `json:"request_metadata"`
	Tags            []keyValue       `json:"tags"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// v3 is TraceInfoV2.to_v3: the experiment's location, no previews, the
// status as state (TRACE_STATUS_UNSPECIFIED: STATE_UNSPECIFIED).
func (t traceInfoV2) v3() *exporter.TraceInfo {
	state := t.Status
	if state == "" || state == "TRACE_STATUS_UNSPECIFIED" {
		state = "STATE_UNSPECIFIED"
	}
	info := &exporter.TraceInfo{
		TraceID: t.RequestID, ExperimentID: t.ExperimentID,
		RequestTime:       time.UnixMilli(int64(t.TimestampMs)).UTC(),
		ExecutionDuration: time.Duration(t.ExecutionTimeMs) * time.Millisecond,
		State:             state,
		Metadata:          map[string]string{},
		Tags:              map[string]string{},
	}
	for _, kv := range t.RequestMetadata {
		info.Metadata[kv.Key] = kv.Value
	}
	for _, kv := range t.Tags {
		info.Tags[kv.Key] = kv.Value
	}
	return info
}
