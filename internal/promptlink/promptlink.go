// Package promptlink is MLflow's record of the prompt versions a trace used:
// the value of the trace tag and span attribute mlflow.linkedPrompts, a JSON
// list [{"name": "<prompt>", "version": "<n>"}, ...] written as MLflow
// 3.17.2's update_linked_prompts_tag writes it (mlflow/tracing/utils/prompt.py:
// Python's json.dumps, entries in the order the versions were first linked,
// none twice).
//
// Package tracing adds to it when a prompt version is loaded in a span
// (tracing.LinkPromptVersion); the MLflow server destination reads the trace
// tag back to link the versions to the stored trace (LinkPromptsToTrace).
package promptlink

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// Ref names one prompt version.
type Ref struct {
	Name    string
	Version string // the version number as text, as MLflow stores it
}

// NewRef returns the Ref of version version of prompt name.
func NewRef(name string, version int) Ref { return Ref{Name: name, Version: strconv.Itoa(version)} }

// Add returns the value current (set: there is one) with ref added, as
// update_linked_prompts_tag does: unchanged when ref is listed already,
// else every entry re-written as Python's json.dumps writes it and ref
// appended. A current value that is not a JSON list is an error, as in
// MLflow.
func Add(current string, set bool, ref Ref) (string, error) {
	var entries []json.RawMessage
	if set {
		if !json.Valid([]byte(current)) {
			return "", fmt.Errorf("invalid JSON format for '%s' tag: %s", keys.TagLinkedPrompts, current)
		}
		if err := json.Unmarshal([]byte(current), &entries); err != nil {
			return "", fmt.Errorf("invalid format for '%s' tag: %s", keys.TagLinkedPrompts, current)
		}
		for _, e := range entries {
			if is(e, ref) {
				return current, nil
			}
		}
	}
	b := append(make([]byte, 0, len(current)+len(ref.Name)+32), '[')
	for _, e := range entries {
		b = encode.AppendRedump(b, e, true)
		b = append(b, ", "...)
	}
	b = append(b, `{"name": `...)
	b = encode.AppendString(b, ref.Name, true)
	b = append(b, `, "version": `...)
	b = encode.AppendString(b, ref.Version, true)
	return string(append(b, "}]"...)), nil
}

// is reports whether the entry e equals {"name": ref.Name, "version":
// ref.Version} (Python's dict equality: those two members, nothing else).
func is(e json.RawMessage, ref Ref) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(e, &m) != nil || len(m) != 2 {
		return false
	}
	var name, version string
	return json.Unmarshal(m["name"], &name) == nil && json.Unmarshal(m["version"], &version) == nil &&
		name == ref.Name && version == ref.Version
}

// Parse returns the prompt versions a value lists, in order: its entries
// with a string name and version (a value MLflow wrote has no others).
func Parse(value string) ([]Ref, error) {
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(value), &entries); err != nil {
		return nil, fmt.Errorf("malformed %s value: %w", keys.TagLinkedPrompts, err)
	}
	refs := make([]Ref, 0, len(entries))
	for _, e := range entries {
		var m map[string]json.RawMessage
		var r Ref
		if json.Unmarshal(e, &m) == nil && json.Unmarshal(m["name"], &r.Name) == nil && json.Unmarshal(m["version"], &r.Version) == nil {
			refs = append(refs, r)
		}
	}
	return refs, nil
}
