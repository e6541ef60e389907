package databrickstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// pathLoggedModels prefixes the LoggedModel routes MLflow's client uses to
// link a prompt version to a model (GetLoggedModel, SetLoggedModelTags).
const pathLoggedModels = "/api/2.0/mlflow/logged-models/"

type loggedModel struct {
	id, experimentID, name string
	created, updated       time.Time
	tags                   []promptTag
}

// CreateLoggedModel creates a LoggedModel named name in experiment
// experimentID (as mlflow.create_external_model would; the creation route
// itself is not served) and returns its id.
func (w *Workspace) CreateLoggedModel(experimentID, name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := "m-" + randHex(16)
	now := time.Now()
	w.loggedModels[id] = &loggedModel{id: id, experimentID: experimentID, name: name, created: now, updated: now}
	return id
}

// LoggedModelTags returns the tags of LoggedModel id (nil when there is no
// such model).
func (w *Workspace) LoggedModelTags(id string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.loggedModels[id]
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for _, t := range m.tags {
		out[t.Key] = t.Value
	}
	return out
}

// serveLoggedModel serves GetLoggedModel (GET logged-models/{id}, query
// allow_deleted only) and SetLoggedModelTags (PATCH logged-models/{id}/tags,
// a mlflow.SetLoggedModelTags body); the other LoggedModel routes are
// answered 501.
func (w *Workspace) serveLoggedModel(rw http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, pathLoggedModels)
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case r.Method == http.MethodGet && sub == "" && id != "search":
		q, err := url.ParseQuery(r.URL.RawQuery)
		for k := range q {
			if k != "allow_deleted" && err == nil {
				err = fmt.Errorf("unknown parameter %q", k)
			}
		}
		if err != nil {
			m := w.reject("GetLoggedModel: %v", err)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", m)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		m := w.loggedModels[id]
		if m == nil {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Logged model with ID '%s' not found.", id))
			return
		}
		writeJSON(rw, map[string]any{"model": map[string]any{"info": map[string]any{
			"model_id": m.id, "experiment_id": m.experimentID, "name": m.name,
			"creation_timestamp_ms": m.created.UnixMilli(), "last_updated_timestamp_ms": m.updated.UnixMilli(),
			"artifact_uri": "dbfs:/databricks/mlflow-tracking/" + m.experimentID + "/logged_models/" + m.id + "/artifacts",
			"status":       "LOGGED_MODEL_READY", "tags": append([]promptTag{}, m.tags...),
		}}})
	case r.Method == http.MethodPatch && sub == "tags":
		body, ok := w.readJSON(rw, r, "mlflow.SetLoggedModelTags")
		if !ok {
			return
		}
		var in struct {
			ModelID string      `json:"model_id"`
			Tags    []promptTag `json:"tags"`
		}
		_ = json.Unmarshal(body, &in)
		for _, t := range in.Tags {
			if t.Key == "" {
				m := w.reject("SetLoggedModelTags: a tag without a key")
				apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", m)
				return
			}
		}
		if in.ModelID != "" && in.ModelID != id {
			m := w.reject("SetLoggedModelTags: model_id %q differs from the path's %q", in.ModelID, id)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", m)
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		m := w.loggedModels[id]
		if m == nil {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Logged model with ID '%s' not found.", id))
			return
		}
		for _, t := range in.Tags {
			m.tags = setTag(m.tags, t.Key, t.Value)
		}
		m.updated = time.Now()
		writeJSON(rw, map[string]any{})
	default:
		w.reject("%s %s: not served by the fake", r.Method, r.URL.Path)
		apiError(rw, http.StatusNotImplemented, "NOT_IMPLEMENTED", fmt.Sprintf("the fake workspace does not serve '%s %s'", r.Method, r.URL.Path))
	}
}
