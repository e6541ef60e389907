package prompts

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/promptlink"
)

// link is what a loaded prompt version is linked to in the background: the
// experiment (model ""), or the LoggedModel model.
type link struct {
	name    string
	version int // model links only
	model   string
}

func (l link) String() string {
	if l.model == "" {
		return "prompt " + l.name + " to the experiment"
	}
	return fmt.Sprintf("prompt %s version %d to model %s", l.name, l.version, l.model)
}

// queue queues l unless it is queued or done already (MLflow asks again at
// every load; the tag it keeps does not change). When the queue is full the
// link is dropped and reported: the next load queues it again.
func (c *Client) queue(l link) {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	if c.linked[l] || c.closed.Load() {
		return
	}
	select {
	case c.jobs <- l:
		c.linked[l] = true
	default:
		c.report(fmt.Errorf("prompts: %s not linked: %d links already wait", l, linkQueue))
	}
}

// linker makes the queued links until the queue is closed; once ctx ends it
// drops what is left.
func (c *Client) linker(ctx context.Context) {
	defer close(c.done)
	for l := range c.jobs {
		if ctx.Err() != nil {
			continue
		}
		var err error
		if l.model == "" {
			err = c.linkExperiment(ctx, l.name)
		} else {
			err = c.linkModel(ctx, l)
		}
		if err != nil {
			c.linkMu.Lock()
			delete(c.linked, l) // the next load tries again
			c.linkMu.Unlock()
			c.report(fmt.Errorf("prompts: failed to link %s: %w", l, err))
		}
	}
}

// linkExperiment is MLflow's _link_prompt_to_experiment: the prompt's tag
// _mlflow_experiment_ids, ",<id>,<id>,", gets the experiment's id (the
// commas around every id let a LIKE filter find one). MLflow reads the
// experiment as tracing does: MLFLOW_EXPERIMENT_NAME (created when
// missing), MLFLOW_EXPERIMENT_ID, else "0".
func (c *Client) linkExperiment(ctx context.Context, name string) error {
	exp, err := c.exp.ID(ctx)
	if err != nil {
		return err
	}
	if c.uc {
		return c.linkExperimentUC(ctx, name, exp)
	}
	var out struct {
		RegisteredModel registeredModel `json:"registered_model"`
	}
	if err := mlflowrest.Call(ctx, c.reg, "prompts", http.MethodGet, pathGetRegisteredModel+"?"+url.Values{"name": {name}}.Encode(), nil, &out); err != nil {
		return err
	}
	value, changed := addExperiment(tagMap(out.RegisteredModel.Tags)[tagExperimentIDs], exp)
	if !changed {
		return nil
	}
	return mlflowrest.Call(ctx, c.reg, "prompts", http.MethodPost, pathSetRegisteredModelTag, map[string]string{"name": name, "key": tagExperimentIDs, "value": value}, nil)
}

// addExperiment returns the tag value with exp added, and whether it
// changed, as MLflow writes it.
func addExperiment(current, exp string) (string, bool) {
	var ids []string
	for _, id := range strings.Split(strings.Trim(current, ","), ",") {
		if id = pyStrip(id); id != "" {
			ids = append(ids, id)
		}
	}
	if slices.Contains(ids, exp) {
		return current, false
	}
	return "," + strings.Join(append(ids, exp), ",") + ",", true
}

// pathLoggedModels prefixes the LoggedModel routes (GetLoggedModel, and
// SetLoggedModelTags with "/tags").
const pathLoggedModels = "/api/2.0/mlflow/logged-models/"

// linkModel is MLflow's link_prompt_version_to_model: the LoggedModel's tag
// mlflow.linkedPrompts gets the version, as a trace's does (MLflow's client
// first loads the version again; the version is known here).
func (c *Client) linkModel(ctx context.Context, l link) error {
	var out struct {
		Model struct {
			Info struct {
				Tags []tag `json:"tags"`
			} `json:"info"`
		} `json:"model"`
	}
	path := pathLoggedModels + url.PathEscape(l.model)
	if err := mlflowrest.Call(ctx, c.c, "prompts", http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	cur, set := tagMap(out.Model.Info.Tags)[keys.TagLinkedPrompts]
	value, err := promptlink.Add(cur, set, promptlink.NewRef(l.name, l.version))
	if err != nil {
		return err
	}
	if !set || value != cur {
		if err := mlflowrest.Call(ctx, c.c, "prompts", http.MethodPatch, path+"/tags", map[string][]tag{"tags": {{keys.TagLinkedPrompts, value}}}, nil); err != nil {
			return err
		}
	}
	if c.uc {
		c.linkModelUC(ctx, l)
	}
	return nil
}
