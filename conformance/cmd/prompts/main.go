// Command prompts runs package prompts against the prompt registry of the
// tracking server MLFLOW_TRACKING_URI names; conformance/test_prompts.py
// compares what it prints with what MLflow's Python SDK does
// (conformance/parity/prompts_workflow.py):
//
//	prompts format        stdin: a JSON list of cases {"uri", "version"?, "vars"?, "partial"?};
//	                      prints a JSON list: each version loaded and formatted, or the error
//	prompts trace <sfx>   the traced workflow of prompts_workflow.py; prints {"trace_id": ...}
//
// PROMPTS_TRACE_URI, when set, is where `trace` writes the trace (a ./mlruns
// store); the prompts still come from MLFLOW_TRACKING_URI's registry.
// PROMPTS_NAME_PREFIX prefixes the prompt names of `trace` ("main.default."
// for a Databricks workspace's Unity Catalog registry).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/prompts"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const question = "What is MLflow?"

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: prompts format | trace <suffix>"))
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "format":
		err = format(ctx)
	case "trace":
		err = traced(ctx, os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "prompts:", err)
	os.Exit(1)
}

type formatCase struct {
	URI     string         `json:"uri"`
	Version *int           `json:"version"`
	Vars    map[string]any `json:"vars"`
	Partial bool           `json:"partial"`
}

func format(ctx context.Context) error {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber() // 3 stays an int, 2.5 a float, as Python's json.loads reads them
	var cases []formatCase
	if err := dec.Decode(&cases); err != nil {
		return err
	}
	c, err := prompts.NewClient(ctx)
	if err != nil {
		return err
	}
	defer shutdown(c)
	out := make([]map[string]any, 0, len(cases))
	for _, fc := range cases {
		opts := []prompts.LoadOption{prompts.WithCacheTTL(0)}
		if fc.Version != nil {
			opts = append(opts, prompts.WithVersion(*fc.Version))
		}
		res, err := run(ctx, c, fc, opts)
		if err != nil {
			e := map[string]any{"error": err.Error(), "not_found": errors.Is(err, prompts.ErrNotFound), "invalid": errors.Is(err, prompts.ErrInvalid)}
			var pe *prompts.Error
			if errors.As(err, &pe) {
				e["code"], e["message"] = pe.Code, pe.Message
			}
			var me *prompts.MissingVariablesError
			if errors.As(err, &me) {
				e["missing"] = me.Names
			}
			res = e
		}
		out = append(out, res)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func run(ctx context.Context, c *prompts.Client, fc formatCase, opts []prompts.LoadOption) (map[string]any, error) {
	p, err := c.Load(ctx, fc.URI, opts...)
	if err != nil {
		return nil, err
	}
	info := map[string]any{
		"name": p.Name, "version": p.Version, "variables": p.Variables(), "aliases": append([]string{}, p.Aliases...), "tags": p.Tags,
		"commit_message": p.CommitMessage, "response_format": raw(p.ResponseFormat), "model_config": raw(p.ModelConfig),
		"is_chat": p.IsChat(),
	}
	if p.IsChat() {
		info["template"] = p.Messages
	} else {
		info["template"] = p.Template
	}
	if fc.Vars == nil {
		return info, nil
	}
	switch {
	case fc.Partial:
		q, err := p.Partial(fc.Vars)
		if err != nil {
			return nil, err
		}
		info["result"] = template(q) // MLflow: the template, or a version holding it
	case p.IsChat():
		info["result"], err = p.FormatMessages(fc.Vars)
	default:
		info["result"], err = p.Format(fc.Vars)
	}
	return info, err
}

func template(p *prompts.PromptVersion) any {
	if p.IsChat() {
		return p.Messages
	}
	return p.Template
}

func raw(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// traced is prompts_workflow.py's trace.
func traced(ctx context.Context, suffix string) error {
	var opts []tracing.Option
	if uri := os.Getenv("PROMPTS_TRACE_URI"); uri != "" {
		opts = append(opts, tracing.WithExporterOptions(exporter.WithTrackingURI(uri)))
	}
	tp, err := tracing.Init(ctx, opts...)
	if err != nil {
		return err
	}
	c, err := prompts.NewClient(ctx)
	if err != nil {
		return err
	}
	defer shutdown(c)
	prefix := os.Getenv("PROMPTS_NAME_PREFIX")
	qaName, chatName := prefix+"qa"+suffix, prefix+"chat"+suffix

	ctx, root := tracing.StartSpan(ctx, "answer", tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs(map[string]any{"question": question}))
	qa, err := c.Load(ctx, "prompts:/"+qaName+"@production")
	if err != nil {
		return err
	}
	text, err := qa.Format(map[string]any{"question": question, "style": "short"})
	if err != nil {
		return err
	}
	cctx, chat := tracing.StartSpan(ctx, "chat", tracing.WithSpanType(tracing.SpanTypeChatModel))
	cp, err := c.Load(cctx, "prompts:/"+chatName+"/1")
	if err != nil {
		return err
	}
	messages, err := cp.FormatMessages(map[string]any{"persona": "a helper", "question": text, "style": "brief"})
	if err != nil {
		return err
	}
	chat.SetInputs(map[string]any{"messages": messages})
	if _, err := c.Load(cctx, "prompts:/"+qaName+"/1"); err != nil { // the same version again: linked once
		return err
	}
	chat.End(tracing.WithOutputs(map[string]any{"content": "An open source platform."}))
	root.End(tracing.WithOutputs("An open source platform."))

	sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tp.Shutdown(sctx); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"trace_id": root.TraceID()})
}

func shutdown(c *prompts.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "prompts:", err)
	}
}
