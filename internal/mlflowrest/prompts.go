package mlflowrest

import (
	"encoding/json"
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/promptlink"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// PathLinkPromptsToTrace is the LinkPromptsToTrace route.
const PathLinkPromptsToTrace = "/api/2.0/mlflow/traces/link-prompts"

// LinkPromptsRequest is the LinkPromptsToTrace request that links prompt
// versions to a stored trace, as MLflow's RestStore.link_prompts_to_trace
// sends it: {"trace_id": …, "prompt_versions": [{"name": …, "version": …}]}.
func LinkPromptsRequest(traceID string, refs []promptlink.Ref) *transport.Request {
	type ref struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	body := struct {
		TraceID        string `json:"trace_id"`
		PromptVersions []ref  `json:"prompt_versions"`
	}{TraceID: traceID, PromptVersions: make([]ref, len(refs))}
	for i, r := range refs {
		body.PromptVersions[i] = ref(r)
	}
	b, _ := json.Marshal(body) // strings only: cannot fail
	return &transport.Request{
		Method: http.MethodPost,
		Path:   PathLinkPromptsToTrace,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   b,
	}
}

// PathUCLinkPromptsToTraces is Unity Catalog's LinkPromptsToTraces route,
// the one MLflow's client links prompt versions to traces through when the
// registry is a Databricks workspace's ("databricks-uc").
const PathUCLinkPromptsToTraces = "/api/2.0/mlflow/unity-catalog/prompt-versions/links-to-traces"

// UCLinkBatch is how many prompt versions one Unity Catalog
// LinkPromptsToTraces request carries (MLflow's batch_size).
const UCLinkBatch = 25

// UCLinkPromptsRequests are the LinkPromptsToTraces requests of Unity
// Catalog's registry that link refs to trace traceID, as MLflow's
// UcModelRegistryStore.link_prompts_to_trace sends them: batches of
// UCLinkBatch versions, {"prompt_versions": [{"name": …, "version": …}],
// "trace_ids": [traceID]}.
func UCLinkPromptsRequests(traceID string, refs []promptlink.Ref) []*transport.Request {
	type ref struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	var reqs []*transport.Request
	for i := 0; i < len(refs); i += UCLinkBatch {
		batch := refs[i:min(i+UCLinkBatch, len(refs))]
		body := struct {
			PromptVersions []ref    `json:"prompt_versions"`
			TraceIDs       []string `json:"trace_ids"`
		}{PromptVersions: make([]ref, len(batch)), TraceIDs: []string{traceID}}
		for j, r := range batch {
			body.PromptVersions[j] = ref(r)
		}
		b, _ := json.Marshal(body) // strings only: cannot fail
		reqs = append(reqs, &transport.Request{
			Method: http.MethodPost,
			Path:   PathUCLinkPromptsToTraces,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   b,
		})
	}
	return reqs
}
