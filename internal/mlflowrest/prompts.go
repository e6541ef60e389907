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
