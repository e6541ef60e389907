package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/promptlink"
)

// LinkPromptVersion records that version version of the prompt name, from
// MLflow's prompt registry, was used in the span current in ctx, as MLflow's
// load_prompt does when it runs inside a span (package prompts calls it for
// every prompt it loads; call it for a prompt version you obtained another
// way):
//
//   - the trace gets the tag mlflow.linkedPrompts, a JSON list
//     [{"name": "<prompt>", "version": "<n>"}, ...] of the versions linked
//     in it, in order, none twice — applied when the trace is assembled,
//     like UpdateCurrentTrace's tags;
//   - the current span, when it is a span of this package, gets the
//     attribute mlflow.linkedPrompts with the versions linked in it;
//   - when the trace is exported to an MLflow tracking server, the exporter
//     links the versions to the stored trace (MLflow's LinkPromptsToTrace,
//     after the trace is created), so MLflow finds the trace from the prompt
//     version (search_traces(filter_string="prompt = 'name/version'"), the
//     prompt's page in the UI).
//
// It does no I/O. It returns ErrNoActiveTrace when ctx holds no recording
// span of an open trace, nil (doing nothing) when tracing is off or the
// trace is not sampled, and an error, as MLflow raises one, when the tag or
// attribute holds a value that is not a JSON list (the other one is still
// updated).
func LinkPromptVersion(ctx context.Context, name string, version int) error {
	if name == "" {
		return errors.New("tracing: LinkPromptVersion: empty prompt name")
	}
	p, sc, err := currentTrace(ctx)
	if p == nil {
		return err
	}
	ref := promptlink.NewRef(name, version)
	var errs []error
	if p.exp != nil {
		var tagErr error
		open := p.exp.UpdateTrace(sc.TraceID(), func(u *exporter.TraceUpdate) {
			cur, set := u.Tags[keys.TagLinkedPrompts]
			v, err := promptlink.Add(cur, set, ref)
			if err != nil {
				tagErr = err
				return
			}
			if u.Tags == nil {
				u.Tags = make(map[string]string, 1)
			}
			u.Tags[keys.TagLinkedPrompts] = v
		})
		if !open {
			return ErrNoActiveTrace
		}
		if tagErr != nil {
			errs = append(errs, fmt.Errorf("tracing: LinkPromptVersion: trace: %w", tagErr))
		}
	}
	if s := CurrentSpan(ctx); s != nil {
		if err := s.linkPrompt(ref); err != nil {
			errs = append(errs, fmt.Errorf("tracing: LinkPromptVersion: span: %w", err))
		}
	}
	return errors.Join(errs...)
}

// linkPrompt adds ref to the span's mlflow.linkedPrompts attribute.
func (s *Span) linkPrompt(ref promptlink.Ref) error {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	v, err := promptlink.Add(s.linked, s.linkedSet, ref)
	if err != nil || (s.linkedSet && v == s.linked) {
		return err
	}
	s.linked, s.linkedSet = v, true
	// A JSON string holding the list, as MLflow's span.set_attribute
	// stores the value update_linked_prompts_tag returns.
	s.setOTelAttribute(attribute.String(keys.LinkedPrompts, s.encode(v)))
	return nil
}
