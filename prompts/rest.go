package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// The registry's REST routes (MLflow 3.17.2's model registry RestStore,
// which keeps prompts as registered models and their versions).
const (
	pathGetRegisteredModel     = "/api/2.0/mlflow/registered-models/get"
	pathGetModelVersion        = "/api/2.0/mlflow/model-versions/get"
	pathGetModelVersionByAlias = "/api/2.0/mlflow/registered-models/alias"
	pathSetRegisteredModelTag  = "/api/2.0/mlflow/registered-models/set-tag"
)

// The tags MLflow keeps a prompt in (mlflow/prompt/constants.py).
const (
	tagIsPrompt       = "mlflow.prompt.is_prompt"
	tagPromptText     = "mlflow.prompt.text"
	tagPromptType     = "_mlflow_prompt_type"
	tagResponseFormat = "_mlflow_prompt_response_format"
	tagModelConfig    = "_mlflow_prompt_model_config"
	tagExperimentIDs  = "_mlflow_experiment_ids"
	promptTypeChat    = "chat"
)

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func tagMap(tags []tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

type registeredModel struct {
	Name string `json:"name"`
	Tags []tag  `json:"tags"`
}

type modelVersion struct {
	Name                 string           `json:"name"`
	Version              string           `json:"version"`
	CreationTimestamp    mlflowrest.Int64 `json:"creation_timestamp"`
	LastUpdatedTimestamp mlflowrest.Int64 `json:"last_updated_timestamp"`
	UserID               string           `json:"user_id"`
	Description          string           `json:"description"`
	Tags                 []tag            `json:"tags"`
	Aliases              []string         `json:"aliases"`
}

// fetch loads r from the registry as MLflow's RestStore.get_prompt_version
// does: the registered model (GET registered-models/get: is it a prompt?)
// and the version (GET model-versions/get, or registered-models/alias for an
// alias that is not a number), both sent at once on one connection. By
// alias MLflow's client then asks for the version it found again (two more
// requests, the same answer); this package uses the first answer.
func (c *Client) fetch(ctx context.Context, r ref) (*PromptVersion, error) {
	if c.uc {
		return c.fetchUC(ctx, r)
	}
	q := url.Values{"name": {r.name}}
	rm := &transport.Request{Method: http.MethodGet, Path: pathGetRegisteredModel + "?" + q.Encode()}
	var mv *transport.Request
	version := trimZeros(r.version) // str(int("007")); "" by alias
	if n, ok := pyInt(r.alias); ok {
		version = strconv.Itoa(n) // a number: MLflow's int(alias) asks for that version
	}
	if version != "" {
		mv = &transport.Request{Method: http.MethodGet, Path: pathGetModelVersion + "?" + url.Values{"name": {r.name}, "version": {version}}.Encode()}
	} else {
		mv = &transport.Request{Method: http.MethodGet, Path: pathGetModelVersionByAlias + "?" + url.Values{"name": {r.name}, "alias": {r.alias}}.Encode()}
	}
	resps, errs := c.reg.DoPipelined(ctx, []*transport.Request{rm, mv})
	defer func() {
		for _, r := range resps {
			r.Release()
		}
	}()
	if errs[0] != nil {
		return nil, registryError(errs[0])
	}
	var rmOut struct {
		RegisteredModel registeredModel `json:"registered_model"`
	}
	if err := json.Unmarshal(resps[0].Body, &rmOut); err != nil {
		return nil, fmt.Errorf("prompts: %s: malformed registered model: %w", r.uri, err)
	}
	if tagMap(rmOut.RegisteredModel.Tags)[tagIsPrompt] != "true" {
		return nil, notFound("INVALID_PARAMETER_VALUE", "Name `"+r.name+"` is registered as a model, not a prompt. Use get_model_version() or load_model() instead.")
	}
	if errs[1] != nil {
		return nil, registryError(errs[1])
	}
	var mvOut struct {
		ModelVersion modelVersion `json:"model_version"`
	}
	if err := json.Unmarshal(resps[1].Body, &mvOut); err != nil {
		return nil, fmt.Errorf("prompts: %s: malformed model version: %w", r.uri, err)
	}
	return promptVersion(&mvOut.ModelVersion)
}

// reserved are the version tags MLflow keeps the prompt in; PromptVersion's
// Tags leaves them out, as MLflow's PromptVersion.tags does.
var reserved = map[string]bool{tagIsPrompt: true, tagPromptText: true, tagPromptType: true, tagResponseFormat: true, tagModelConfig: true}

// promptVersion is MLflow's model_version_to_prompt_version.
func promptVersion(mv *modelVersion) (*PromptVersion, error) {
	tags := tagMap(mv.Tags)
	if _, ok := tags[tagIsPrompt]; !ok {
		// MLflow's get_prompt_version returns None: load_prompt too.
		return nil, notFound("", "version "+mv.Version+" of "+mv.Name+" is a model version, not a prompt version")
	}
	text, ok := tags[tagPromptText]
	if !ok {
		return nil, notFound("INVALID_PARAMETER_VALUE", "Prompt `"+mv.Name+"` does not contain a prompt text")
	}
	v, err := strconv.Atoi(mv.Version)
	if err != nil {
		return nil, fmt.Errorf("prompts: %s: malformed version %q", mv.Name, mv.Version)
	}
	p := &PromptVersion{
		Name:          mv.Name,
		Version:       v,
		CommitMessage: mv.Description,
		Aliases:       mv.Aliases,
		UserID:        mv.UserID,
		Tags:          map[string]string{},
	}
	if mv.CreationTimestamp != 0 {
		p.CreationTime = time.UnixMilli(int64(mv.CreationTimestamp))
	}
	if mv.LastUpdatedTimestamp != 0 {
		p.LastUpdatedTime = time.UnixMilli(int64(mv.LastUpdatedTimestamp))
	}
	for k, val := range tags {
		if !reserved[k] {
			p.Tags[k] = val
		}
	}
	if tags[tagPromptType] == promptTypeChat {
		if err := p.setChat(text); err != nil {
			return nil, err
		}
	} else {
		p.Template = text
	}
	if err := p.readConfigTags(tags); err != nil {
		return nil, err
	}
	return p, nil
}

// readConfigTags sets the response format and model config from the
// version's tags (JSON text), as both registries keep them.
func (p *PromptVersion) readConfigTags(tags map[string]string) error {
	for key, dst := range map[string]*json.RawMessage{tagResponseFormat: &p.ResponseFormat, tagModelConfig: &p.ModelConfig} {
		if s, ok := tags[key]; ok {
			if !json.Valid([]byte(s)) {
				return fmt.Errorf("prompts: %s: tag %s is not JSON", p.URI(), key)
			}
			*dst = json.RawMessage(s)
		}
	}
	return nil
}

// setChat reads a chat prompt's messages from their JSON text.
func (p *PromptVersion) setChat(text string) error {
	var err error
	if p.Messages, err = chatTemplate(text); err != nil {
		return fmt.Errorf("prompts: %s: %w", p.URI(), err)
	}
	if len(p.Messages) == 0 {
		p.Template = "[]" // MLflow: an empty list is a text prompt, json.dumps([])
	}
	return nil
}

// chatTemplate reads a chat prompt's messages. MLflow checks each with its
// ChatMessage model (a role, a content); a content that is not text (a list
// of parts) is refused here: the messages of this package are text.
func chatTemplate(text string) ([]Message, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("malformed chat template: %w", err)
	}
	msgs := make([]Message, len(raw))
	for i, m := range raw {
		if json.Unmarshal(m["role"], &msgs[i].Role) != nil {
			return nil, fmt.Errorf("template must be a list of dicts with role and content (message %d)", i)
		}
		if c, ok := m["content"]; ok && string(c) != "null" && json.Unmarshal(c, &msgs[i].Content) != nil {
			return nil, fmt.Errorf("message %d: a content that is not text is not supported", i)
		}
	}
	return msgs, nil
}
