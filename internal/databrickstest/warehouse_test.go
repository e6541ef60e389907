package databrickstest

import (
	"net/http"
	"strings"
	"testing"
)

// TestWarehouseStrict: the fake accepts sql_warehouse_id where MLflow
// 3.17.2 sends it (a query parameter of the v4 GET/PATCH/DELETE calls, a
// string in the long-running search's body), records it, and refuses a
// misspelt or unknown parameter, a repeated, empty or non-string id, an id
// on SetTraceTag, an unknown warehouse and a stopped one.
func TestWarehouseStrict(t *testing.T) {
	w := New(t)
	w.AddSQLWarehouse(SQLWarehouse{ID: "wh", State: "RUNNING"})
	w.AddSQLWarehouse(SQLWarehouse{ID: "off", State: "STOPPED"})
	auth := "Bearer " + w.Token
	base := w.URL + "/api/4.0/mlflow/traces/"
	tr := "main.agents/0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name, method, url, body string
		rejected                bool
		id, in                  string
	}{
		{"batchGet", "GET", base + "main.agents/batchGet?location_id=main.agents&trace_ids=ab&sql_warehouse_id=wh", "", false, "wh", "query"},
		{"batchGet without", "GET", base + "main.agents/batchGet?location_id=main.agents&trace_ids=ab", "", false, "", ""},
		{"info", "GET", base + tr + "/info?trace_id=0123456789abcdef0123456789abcdef&location=main.agents&sql_warehouse_id=wh", "", false, "wh", "query"},
		{"info location mismatch", "GET", base + tr + "/info?location=main.other", "", true, "", ""},
		{"camelCase", "GET", base + "main.agents/batchGet?location_id=main.agents&sqlWarehouseId=wh", "", true, "", ""},
		{"misspelt", "GET", base + tr + "/assessments/a-1?warehouse_id=wh", "", true, "", ""},
		{"repeated", "DELETE", base + tr + "/assessments/a-1?sql_warehouse_id=wh&sql_warehouse_id=wh", "", true, "", ""},
		{"empty", "DELETE", base + tr + "/tags/k?sql_warehouse_id=", "", true, "", ""},
		{"update mask", "PATCH", base + tr + "/assessments/a-1?sql_warehouse_id=wh&update_mask=rationale", `{"rationale": "r"}`, false, "wh", "query"},
		{"update mask without id", "PATCH", base + tr + "/assessments/a-1?update_mask=rationale", `{"rationale": "r"}`, false, "", ""},
		{"set tag", "PATCH", base + tr + "/tags?sql_warehouse_id=wh", `{"key": "k", "value": "v"}`, true, "", ""},
		{"unknown warehouse", "DELETE", base + tr + "/tags/k?sql_warehouse_id=nope", "", true, "nope", "query"},
		{"stopped warehouse", "DELETE", base + tr + "/tags/k?sql_warehouse_id=off", "", true, "off", "query"},
		{"search body", "POST", base + "search-long-running", `{"locations": [{"type": "UC_SCHEMA", "uc_schema": {"catalog_name": "main", "schema_name": "agents"}}], "sql_warehouse_id": "wh"}`, false, "wh", "body"},
		{"search body number", "POST", base + "search-long-running", `{"locations": [], "sql_warehouse_id": 7}`, true, "", ""},
		{"search body camelCase", "POST", base + "search-long-running", `{"locations": [{"type": "UC_SCHEMA", "uc_schema": {"catalog_name": "main", "schema_name": "agents"}}], "sqlWarehouseId": "wh"}`, false, "wh", "body"}, // protobuf JSON takes both names
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, calls := len(w.Rejections()), len(w.WarehouseCalls())
			code, body := do(t, w, tc.method, tc.url, auth, tc.body, map[string]string{"Content-Type": "application/json"})
			rejected := len(w.Rejections()) > before
			if rejected != tc.rejected {
				t.Fatalf("rejected %v (status %d %s), want %v; rejections %v", rejected, code, body, tc.rejected, w.Rejections()[before:])
			}
			if tc.rejected && code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
			got := w.WarehouseCalls()
			if len(got) != calls+1 {
				t.Fatalf("%d calls recorded, want 1", len(got)-calls)
			}
			if c := got[calls]; c.SQLWarehouseID != tc.id || c.In != tc.in || c.Method != tc.method || !strings.HasPrefix(tc.url, w.URL+c.Path) {
				t.Errorf("recorded %+v, want id %q in %q", c, tc.id, tc.in)
			}
		})
	}
}

// TestWarehouseStart: GET answers the state, POST …/start (body {} or
// none) starts a warehouse, which answers STARTING for StartPolls GETs and
// then RUNNING; an unknown warehouse is 404; RequireSQLWarehouse answers a
// call without an id as a workspace without a default warehouse does.
func TestWarehouseStart(t *testing.T) {
	w := New(t)
	w.AddSQLWarehouse(SQLWarehouse{ID: "wh", State: "STOPPED", StartPolls: 1})
	auth := "Bearer " + w.Token
	u := w.URL + "/api/2.0/sql/warehouses/wh"
	for i, want := range []struct {
		method, url, body string
		code              int
		has               string
	}{
		{"GET", u, "", 200, `"STOPPED"`},
		{"POST", u + "/start", `{"x": 1}`, 400, ""},
		{"POST", u + "/start", `{}`, 200, ""},
		{"GET", u, "", 200, `"STARTING"`},
		{"GET", u, "", 200, `"RUNNING"`},
		{"GET", w.URL + "/api/2.0/sql/warehouses/nope", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", w.URL + "/api/2.0/sql/warehouses/nope/start", "", 404, "RESOURCE_DOES_NOT_EXIST"},
	} {
		code, body := do(t, w, want.method, want.url, auth, want.body, map[string]string{"Content-Type": "application/json"})
		if code != want.code || !strings.Contains(body, want.has) {
			t.Errorf("%d: %s %s -> %d %s, want %d with %s", i, want.method, want.url, code, body, want.code, want.has)
		}
	}
	if wh, _ := w.SQLWarehouse("wh"); wh.Starts != 1 {
		t.Errorf("starts %d, want 1", wh.Starts)
	}
	w.RequireSQLWarehouse(true)
	code, body := do(t, w, "DELETE", w.URL+"/api/4.0/mlflow/traces/main.agents/ab/tags/k", auth, "", nil)
	if code != 400 || !strings.Contains(body, "Could not resolve a SQL warehouse ID") {
		t.Errorf("without an id: %d %s", code, body)
	}
}
