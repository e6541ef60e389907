package databrickstest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serveAdmin is the fake's own control API under /__fake/ (no auth), used by
// programs that run the standalone fake (cmd/fakeworkspace) such as the
// Python conformance tests:
//
//	GET  /__fake/state          workspace credentials, experiments, traces, requests, rejections
//	GET  /__fake/summary        ?location=<experiment id or catalog.schema>: trace, complete-trace and span counts
//	POST /__fake/experiments    {"name", "cloud"} or {"name", "volume"} -> {"experiment_id"}
//	POST /__fake/uc-schemas     {"catalog", "schema"}
//	POST /__fake/faults         a Fault; DELETE clears them
//	POST /__fake/expire-tokens  expires every OAuth token issued so far
//	POST /__fake/tokens         {"token"}: accept another bearer token
//	POST /__fake/deny-edit      {"experiment_id"}
//	POST /__fake/uc-links       {"experiment_id", "catalog", "schema", "prefix"}: link the experiment to UC tables
//	POST /__fake/logged-models  {"experiment_id", "name"} -> {"model_id"}: a LoggedModel
func (w *Workspace) serveAdmin(rw http.ResponseWriter, r *http.Request) {
	var in struct {
		Name         string `json:"name"`
		Cloud        Cloud  `json:"cloud"`
		Volume       string `json:"volume"`
		Catalog      string `json:"catalog"`
		Schema       string `json:"schema"`
		Prefix       string `json:"prefix"`
		Token        string `json:"token"`
		ExperimentID string `json:"experiment_id"`
	}
	if r.Method == http.MethodPost && r.URL.Path != "/__fake/faults" {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if len(b) > 0 {
			if err := json.Unmarshal(b, &in); err != nil {
				http.Error(rw, "malformed JSON", http.StatusBadRequest)
				return
			}
		}
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /__fake/state":
		writeJSON(rw, w.State())
	case "GET /__fake/summary":
		writeJSON(rw, w.Summary(r.URL.Query().Get("location")))
	case "POST /__fake/experiments":
		var id string
		if in.Volume != "" {
			if p := strings.Split(strings.Trim(in.Volume, "/"), "/"); len(p) < 4 || p[0] != "Volumes" {
				http.Error(rw, `volume: want a path /Volumes/<catalog>/<schema>/<volume>[/<dir>]`, http.StatusBadRequest)
				return
			}
			id = w.CreateVolumeExperiment(in.Name, in.Volume)
		} else {
			c := in.Cloud
			if c == "" {
				c = AWS
			}
			id = w.CreateExperiment(in.Name, c)
		}
		writeJSON(rw, map[string]string{"experiment_id": id})
	case "POST /__fake/uc-schemas":
		w.CreateUCSchema(in.Catalog, in.Schema)
		writeJSON(rw, map[string]string{})
	case "POST /__fake/logged-models":
		writeJSON(rw, map[string]string{"model_id": w.CreateLoggedModel(in.ExperimentID, in.Name)})
	case "POST /__fake/uc-links":
		if in.ExperimentID == "" || in.Catalog == "" || in.Schema == "" || in.Prefix == "" {
			http.Error(rw, "uc-links: want experiment_id, catalog, schema and prefix", http.StatusBadRequest)
			return
		}
		writeJSON(rw, map[string]string{"spans_table": w.LinkExperimentToUC(in.ExperimentID, in.Catalog, in.Schema, in.Prefix)})
	case "POST /__fake/faults":
		var f Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&f); err != nil {
			http.Error(rw, "malformed JSON", http.StatusBadRequest)
			return
		}
		w.Fail(f)
		writeJSON(rw, map[string]string{})
	case "DELETE /__fake/faults":
		w.ClearFaults()
		writeJSON(rw, map[string]string{})
	case "POST /__fake/expire-tokens":
		w.ExpireTokens()
		writeJSON(rw, map[string]string{})
	case "POST /__fake/tokens":
		w.AddToken(in.Token)
		writeJSON(rw, map[string]string{})
	case "POST /__fake/deny-edit":
		w.DenyEdit(in.ExperimentID)
		writeJSON(rw, map[string]string{})
	default:
		http.NotFound(rw, r)
	}
}

// State is a snapshot of the workspace, as GET /__fake/state returns it.
type State struct {
	URL           string            `json:"url"`
	Token         string            `json:"token"`
	ClientID      string            `json:"client_id"`
	ClientSecret  string            `json:"client_secret"`
	MLflowVersion string            `json:"mlflow_version"`
	Stores        map[Cloud]string  `json:"stores"`
	Experiments   []map[string]any  `json:"experiments"`
	Traces        []Trace           `json:"traces"`
	Requests      []Request         `json:"requests"`
	Rejections    []string          `json:"rejections"`
	TokenRequests int               `json:"token_requests"`
	Files         map[string][]byte `json:"files"`
	// PromptTags are the tags of the Unity Catalog prompts, by name.
	PromptTags  map[string]map[string]string `json:"prompt_tags"`
	PromptLinks []PromptLink                 `json:"prompt_links"`
	// LoggedModelTags are the tags of the LoggedModels, by id.
	LoggedModelTags map[string]map[string]string `json:"logged_model_tags"`
}

// State returns a snapshot of the workspace.
func (w *Workspace) State() State {
	st := State{
		URL: w.URL, Token: w.Token, ClientID: w.ClientID, ClientSecret: w.ClientSecret,
		MLflowVersion: mlflowVersion, Stores: map[Cloud]string{},
		Traces: w.Traces(), Requests: w.Requests(), Rejections: w.Rejections(), TokenRequests: w.TokenRequests(),
	}
	for c, s := range w.stores {
		st.Stores[c] = s.srv.URL
	}
	w.mu.Lock()
	for _, id := range sortedKeys(w.experiments) {
		e := w.experiments[id]
		m := w.experimentJSON(e)
		m["cloud"] = e.Cloud
		st.Experiments = append(st.Experiments, m)
	}
	st.Files = map[string][]byte{}
	for k, v := range w.files {
		st.Files[k] = v
	}
	names := sortedKeys(w.prompts)
	models := sortedKeys(w.loggedModels)
	w.mu.Unlock()
	st.LoggedModelTags = map[string]map[string]string{}
	for _, id := range models {
		st.LoggedModelTags[id] = w.LoggedModelTags(id)
	}
	st.PromptTags = map[string]map[string]string{}
	for _, n := range names {
		st.PromptTags[n] = w.PromptTags(n)
	}
	st.PromptLinks = w.PromptLinks()
	return st
}

// Summary counts the traces stored for a location (an experiment id or
// "<catalog>.<schema>"): traces, complete traces (trace info and spans
// present) and spans, without copying the payloads.
func (w *Workspace) Summary(location string) map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{"traces": 0, "complete": 0, "spans": 0, "rejections": len(w.rejections)}
	for _, t := range w.traces {
		if t.Location != location {
			continue
		}
		out["traces"]++
		n := len(t.Spans)
		if t.Data != nil {
			var d struct {
				Spans []json.RawMessage `json:"spans"`
			}
			if json.Unmarshal(t.Data, &d) == nil {
				n = len(d.Spans)
			}
		}
		out["spans"] += n
		if t.TraceInfo != nil && n > 0 {
			out["complete"]++
		}
	}
	return out
}
