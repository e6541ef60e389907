package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
)

// The routes of Unity Catalog's prompt registry, which MLflow 3.17.2's
// client uses when the registry URI is "databricks-uc" — the default when
// the tracking URI is "databricks" (UcModelRegistryStore,
// unity_catalog_prompt_service.proto).
const (
	pathUCPrompts           = "/api/2.0/mlflow/unity-catalog/prompts/"
	pathUCLinkVersionsModel = "/api/2.0/mlflow/unity-catalog/prompt-versions/links-to-models"
)

// ucPromptVersion is Unity Catalog's PromptVersion message
// (unity_catalog_prompt_messages.proto): the template is the JSON of a
// string (a text prompt) or of a list of messages (a chat prompt); version
// tags hold the response format and model config.
type ucPromptVersion struct {
	Name              string  `json:"name"`
	Version           *string `json:"version"`
	CreationTimestamp string  `json:"creation_timestamp"`
	Description       string  `json:"description"`
	Template          string  `json:"template"`
	Aliases           []struct {
		Alias string `json:"alias"`
	} `json:"aliases"`
	Tags []tag `json:"tags"`
}

// query is the query of a GET as MLflow's client sends it: the request
// message's fields in their order, name first.
func query(name, key, value string) string {
	q := "?name=" + url.QueryEscape(name)
	if key != "" {
		q += "&" + key + "=" + url.QueryEscape(value)
	}
	return q
}

// ucPath returns the route of prompt name followed by rest.
func ucPath(name, rest string) string { return pathUCPrompts + url.PathEscape(name) + rest }

// fetchUC loads r as MLflow's client does from a Unity Catalog registry:
// GetPromptVersion (GET prompts/<name>/versions/<version>, the version as
// the URI spells it) or GetPromptVersionByAlias (GET
// prompts/<name>/versions/by-alias/<alias>, every alias — "latest" and
// digits too — as it is), the request's fields repeated as query
// parameters, as MLflow sends a GET. For an alias MLflow then asks for the
// version found a second time; the answer is the same, so that is not done.
func (c *Client) fetchUC(ctx context.Context, r ref) (*PromptVersion, error) {
	var path string
	if r.alias != "" {
		path = ucPath(r.name, "/versions/by-alias/"+url.PathEscape(r.alias)) + query(r.name, "alias", r.alias)
	} else {
		path = ucPath(r.name, "/versions/"+url.PathEscape(r.version)) + query(r.name, "version", r.version)
	}
	var out ucPromptVersion
	if err := mlflowrest.Call(ctx, c.reg, "prompts", http.MethodGet, path, nil, &out); err != nil {
		return nil, registryError(err)
	}
	return ucVersion(&out)
}

// ucVersion is MLflow's proto_to_mlflow_prompt: tags starting with _mlflow
// left out, the response format and model config read from theirs, the
// template decoded from JSON.
func ucVersion(v *ucPromptVersion) (*PromptVersion, error) {
	if v.Version == nil || *v.Version == "" {
		return nil, fmt.Errorf("prompts: %s: Prompt is missing its version field.", v.Name) //lint:ignore ST1005 MLflow's message
	}
	n, ok := pyInt(*v.Version)
	if !ok {
		return nil, fmt.Errorf("prompts: %s: malformed version %q", v.Name, *v.Version)
	}
	p := &PromptVersion{Name: v.Name, Version: n, CommitMessage: v.Description, Tags: map[string]string{}}
	if t, err := time.Parse(time.RFC3339Nano, v.CreationTimestamp); err == nil {
		p.CreationTime = t
	}
	for _, a := range v.Aliases {
		p.Aliases = append(p.Aliases, a.Alias)
	}
	tags := tagMap(v.Tags)
	for k, val := range tags {
		if !strings.HasPrefix(k, "_mlflow") {
			p.Tags[k] = val
		}
	}
	if err := p.readConfigTags(tags); err != nil {
		return nil, err
	}
	var text string
	switch t := strings.TrimSpace(v.Template); {
	case json.Unmarshal([]byte(t), &text) == nil:
		p.Template = text
	case strings.HasPrefix(t, "["):
		if err := p.setChat(t); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("prompts: %s: the template is neither the JSON of a text nor of a list of messages", p.URI())
	}
	return p, nil
}

// linkExperimentUC is _link_prompt_to_experiment on a Unity Catalog
// registry: GetPrompt, then SetPromptTag of _mlflow_experiment_ids.
func (c *Client) linkExperimentUC(ctx context.Context, name, exp string) error {
	var out struct {
		Tags []tag `json:"tags"`
	}
	if err := mlflowrest.Call(ctx, c.reg, "prompts", http.MethodGet, ucPath(name, "")+query(name, "", ""), nil, &out); err != nil {
		return err
	}
	value, changed := addExperiment(tagMap(out.Tags)[tagExperimentIDs], exp)
	if !changed {
		return nil
	}
	return mlflowrest.Call(ctx, c.reg, "prompts", http.MethodPost, ucPath(name, "/tags"), map[string]string{"name": name, "key": tagExperimentIDs, "value": value}, nil)
}

// linkModelUC is the second half of UcModelRegistryStore's
// link_prompt_version_to_model, after the LoggedModel's tag is written:
// LinkPromptVersionsToModels. MLflow ignores its failure (the route "will
// initially be a no-op until the Databricks backend supports it"), and so
// does this.
func (c *Client) linkModelUC(ctx context.Context, l link) {
	body := map[string]any{
		"prompt_versions": []map[string]string{{"name": l.name, "version": strconv.Itoa(l.version)}},
		"model_ids":       []string{l.model},
	}
	_ = mlflowrest.Call(ctx, c.reg, "prompts", http.MethodPost, pathUCLinkVersionsModel, body, nil)
}
