package mlflowrest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// REST paths (MLflow's tracking API).
const (
	PathGetByName = "/api/2.0/mlflow/experiments/get-by-name"
	PathGet       = "/api/2.0/mlflow/experiments/get"
	PathCreate    = "/api/2.0/mlflow/experiments/create"
)

// Resolver resolves an experiment id once and caches it. It is safe for
// concurrent use; concurrent first callers make one lookup.
type Resolver struct {
	client *transport.Client
	id     string // configured id
	name   string // configured name: wins over id
	def    string // used when neither is set

	mu       sync.Mutex    // never held across a request
	busy     chan struct{} // closed when the lookup in flight ends
	ready    atomic.Bool
	resolved string
	// tags are the experiment's tags when the lookup by name returned them
	// (nil for a configured id: nothing was read).
	tags map[string]string
}

// NewResolver returns a Resolver for the experiment name (when set), else
// id, else def.
func NewResolver(c *transport.Client, id, name, def string) *Resolver {
	return &Resolver{client: c, id: strings.TrimSpace(id), name: strings.TrimSpace(name), def: def}
}

// Name returns the configured experiment name ("" when the id is used).
func (r *Resolver) Name() string { return r.name }

// Resolved returns the resolved id, or "" before the first successful ID.
func (r *Resolver) Resolved() string {
	if !r.ready.Load() {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resolved
}

// ID returns the experiment id, resolving it on the first call. A failed
// resolution is tried again on the next call. One lookup runs at a time and
// no lock is held across it: concurrent first callers wait for it, or for
// their own ctx.
func (r *Resolver) ID(ctx context.Context) (string, error) {
	for {
		r.mu.Lock()
		if r.ready.Load() {
			id := r.resolved
			r.mu.Unlock()
			return id, nil
		}
		if wait := r.busy; wait != nil {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		busy := make(chan struct{})
		r.busy = busy
		r.mu.Unlock()

		id, tags, err := r.id, map[string]string(nil), error(nil)
		if r.name != "" {
			id, tags, err = byName(ctx, r.client, r.name)
		}
		if id == "" && err == nil {
			id = r.def
		}

		r.mu.Lock()
		r.busy = nil
		if err == nil {
			r.resolved, r.tags = id, tags
			r.ready.Store(true)
		}
		r.mu.Unlock()
		close(busy)
		return id, err
	}
}

// Tags returns the experiment's tags when resolving its name read them
// (ok false before that, and for a configured id), so that they need not be
// read again.
func (r *Resolver) Tags() (tags map[string]string, ok bool) {
	if !r.ready.Load() {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tags, r.tags != nil
}

// ByName returns the id of the experiment called name, creating it when it
// does not exist.
func ByName(ctx context.Context, c *transport.Client, name string) (string, error) {
	id, _, err := byName(ctx, c, name)
	return id, err
}

// byName is ByName that also returns the experiment's tags (empty for an
// experiment it created).
func byName(ctx context.Context, c *transport.Client, name string) (string, map[string]string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		exp, found, err := getByName(ctx, c, name)
		if err != nil {
			return "", nil, err
		}
		if found {
			return exp.ID, exp.Tags, nil
		}
		body, _ := json.Marshal(map[string]string{"name": name})
		resp, err := c.Do(ctx, &transport.Request{
			Method: http.MethodPost, Path: PathCreate,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   body,
		})
		if err != nil {
			if transport.ErrorCode(err) == "RESOURCE_ALREADY_EXISTS" {
				continue // another process created it: look it up again
			}
			return "", nil, fmt.Errorf("create experiment %q: %w", name, err)
		}
		var out struct {
			ExperimentID string `json:"experiment_id"`
		}
		if err := json.Unmarshal(resp.Body, &out); err != nil || out.ExperimentID == "" {
			return "", nil, fmt.Errorf("create experiment %q: malformed response", name)
		}
		return out.ExperimentID, map[string]string{}, nil
	}
	return "", nil, fmt.Errorf("experiment %q: lookup kept racing with its creation", name)
}

// experiment is what the experiment lookups read of MLflow's Experiment.
type experiment struct {
	ID             string
	LifecycleStage string
	Tags           map[string]string
}

// decodeExperiment reads {"experiment": {...}} (GetExperiment and
// GetExperimentByName answer the same).
func decodeExperiment(body []byte) (experiment, error) {
	var out struct {
		Experiment struct {
			ExperimentID   string `json:"experiment_id"`
			LifecycleStage string `json:"lifecycle_stage"`
			Tags           []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"tags"`
		} `json:"experiment"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Experiment.ExperimentID == "" {
		return experiment{}, errors.New("malformed response")
	}
	e := experiment{ID: out.Experiment.ExperimentID, LifecycleStage: out.Experiment.LifecycleStage,
		Tags: make(map[string]string, len(out.Experiment.Tags))}
	for _, t := range out.Experiment.Tags {
		e.Tags[t.Key] = t.Value
	}
	return e, nil
}

func getByName(ctx context.Context, c *transport.Client, name string) (experiment, bool, error) {
	resp, err := c.Do(ctx, &transport.Request{
		Method: http.MethodGet,
		Path:   PathGetByName + "?experiment_name=" + url.QueryEscape(name),
	})
	if err != nil {
		if transport.ErrorCode(err) == "RESOURCE_DOES_NOT_EXIST" || transport.StatusCode(err) == http.StatusNotFound {
			return experiment{}, false, nil
		}
		return experiment{}, false, fmt.Errorf("get experiment by name: %w", err)
	}
	e, err := decodeExperiment(resp.Body)
	if err != nil {
		return experiment{}, false, fmt.Errorf("get experiment by name: %w", err)
	}
	if e.LifecycleStage == "deleted" {
		return experiment{}, false, fmt.Errorf("experiment %q is deleted; restore it or choose another name", name)
	}
	return e, true, nil
}

// ExperimentTags returns the tags of experiment id (GetExperiment).
func ExperimentTags(ctx context.Context, c *transport.Client, id string) (map[string]string, error) {
	resp, err := c.Do(ctx, &transport.Request{
		Method: http.MethodGet,
		Path:   PathGet + "?experiment_id=" + url.QueryEscape(id),
	})
	if err != nil {
		return nil, fmt.Errorf("get experiment %s: %w", id, err)
	}
	e, err := decodeExperiment(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("get experiment %s: %w", id, err)
	}
	return e.Tags, nil
}
