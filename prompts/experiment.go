package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// linkToExperiment queues name to be linked to the experiment, unless it is
// queued or linked already (MLflow asks again on every load from the
// registry; the tag it keeps does not change). When the queue is full the
// link is dropped and reported: the next load queues it again.
func (c *Client) linkToExperiment(name string) {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	if c.linked[name] || c.closed.Load() {
		return
	}
	select {
	case c.jobs <- name:
		c.linked[name] = true
	default:
		c.report(fmt.Errorf("prompts: prompt %s not linked to the experiment: %d links already wait", name, linkQueue))
	}
}

// linker links the queued prompts to the experiment until the queue is
// closed; once ctx ends it drops what is left.
func (c *Client) linker(ctx context.Context) {
	defer close(c.done)
	for name := range c.jobs {
		if ctx.Err() != nil {
			continue
		}
		if err := c.linkExperiment(ctx, name); err != nil {
			c.linkMu.Lock()
			delete(c.linked, name) // the next load tries again
			c.linkMu.Unlock()
			c.report(fmt.Errorf("prompts: failed to tag prompt %s with the experiment id: %w", name, err))
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
	resp, err := c.c.Do(ctx, &transport.Request{Method: http.MethodGet, Path: pathGetRegisteredModel + "?" + url.Values{"name": {name}}.Encode()})
	if err != nil {
		return err
	}
	var out struct {
		RegisteredModel registeredModel `json:"registered_model"`
	}
	err = json.Unmarshal(resp.Body, &out)
	resp.Release()
	if err != nil {
		return fmt.Errorf("malformed registered model: %w", err)
	}
	value, changed := addExperiment(tagMap(out.RegisteredModel.Tags)[tagExperimentIDs], exp)
	if !changed {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"name": name, "key": tagExperimentIDs, "value": value})
	resp, err = c.c.Do(ctx, &transport.Request{Method: http.MethodPost, Path: pathSetRegisteredModelTag,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
	resp.Release()
	return err
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
