package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

type command struct {
	name string
	run  func(ctx context.Context, c *traces.Client, fs *flags, out io.Writer) error
	// define declares the command's flags.
	define func(fs *flags)
}

var commands = []command{
	{"search", searchCmd, func(f *flags) {
		f.experimentID()
		f.str("filter-string", "")
		f.integer("max-results", 100)
		f.str("order-by", "")
		f.str("page-token", "")
		f.str("run-id", "")
		f.boolean("include-spans", true)
		f.boolean("no-include-spans", false)
		f.str("model-id", "")
		f.str("sql-warehouse-id", "")
		f.str("output", "table")
		f.str("extract-fields", "")
		f.boolean("verbose", false)
	}},
	{"get", getCmd, func(f *flags) {
		f.required("trace-id")
		f.str("extract-fields", "")
		f.boolean("verbose", false)
	}},
	{"delete", deleteCmd, func(f *flags) {
		f.experimentID()
		f.str("trace-ids", "")
		f.integer("max-timestamp-millis", -1)
		f.integer("max-traces", -1)
	}},
	{"set-tag", setTagCmd, func(f *flags) { f.required("trace-id"); f.required("key"); f.required("value") }},
	{"delete-tag", deleteTagCmd, func(f *flags) { f.required("trace-id"); f.required("key") }},
	{"log-feedback", logFeedbackCmd, func(f *flags) {
		f.required("trace-id")
		f.required("name")
		f.str("value", "")
		f.str("source-type", "")
		f.str("source-id", "")
		f.str("rationale", "")
		f.str("metadata", "")
		f.str("span-id", "")
	}},
	{"log-expectation", logExpectationCmd, func(f *flags) {
		f.required("trace-id")
		f.required("name")
		f.required("value")
		f.str("source-type", "")
		f.str("source-id", "")
		f.str("metadata", "")
		f.str("span-id", "")
	}},
	{"get-assessment", getAssessmentCmd, func(f *flags) { f.required("trace-id"); f.required("assessment-id") }},
	{"update-assessment", updateAssessmentCmd, func(f *flags) {
		f.required("trace-id")
		f.required("assessment-id")
		f.str("value", "")
		f.str("rationale", "")
		f.str("metadata", "")
	}},
	{"delete-assessment", deleteAssessmentCmd, func(f *flags) { f.required("trace-id"); f.required("assessment-id") }},
}

func commandList() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func runTraces(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return usageError("Missing command. Commands: " + commandList())
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return usageError(fmt.Sprintf("No such command '%s'.", args[0]))
	}
	cmd := commands[i]
	fs := newFlags(cmd.name, getenv)
	cmd.define(fs)
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	c, err := traces.NewClient(ctx, exporter.WithGetenv(getenv))
	if err != nil {
		return err
	}
	defer c.Close()
	return cmd.run(ctx, c, fs, out)
}

// --- flags ------------------------------------------------------------------

// flags wraps a flag.FlagSet with click's conventions: --name and -name,
// required options, MLFLOW_EXPERIMENT_ID as --experiment-id's default.
type flags struct {
	fs        *flag.FlagSet
	strs      map[string]*string
	ints      map[string]*int
	bools     map[string]*bool
	requireds []string
	set       map[string]bool
	env       envconfig.Env
}

func newFlags(name string, getenv func(string) string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{fs: fs, strs: map[string]*string{}, ints: map[string]*int{}, bools: map[string]*bool{}, set: map[string]bool{}, env: envconfig.New(getenv)}
}

func (f *flags) str(name, def string)        { f.strs[name] = f.fs.String(name, def, "") }
func (f *flags) integer(name string, d int)  { f.ints[name] = f.fs.Int(name, d, "") }
func (f *flags) boolean(name string, d bool) { f.bools[name] = f.fs.Bool(name, d, "") }

func (f *flags) required(name string) {
	f.str(name, "")
	f.requireds = append(f.requireds, name)
}

func (f *flags) experimentID() {
	f.str("experiment-id", "")
	f.fs.Var(aliasValue{f.strs["experiment-id"]}, "x", "")
	f.requireds = append(f.requireds, "experiment-id")
}

type aliasValue struct{ p *string }

func (a aliasValue) String() string     { return "" }
func (a aliasValue) Set(s string) error { *a.p = s; return nil }

func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		msg := err.Error()
		if strings.HasPrefix(msg, "flag provided but not defined: ") {
			return usageError(fmt.Sprintf("No such option: %s", strings.TrimPrefix(msg, "flag provided but not defined: ")))
		}
		return usageError(msg)
	}
	if f.fs.NArg() > 0 {
		return usageError(fmt.Sprintf("Got unexpected extra argument (%s)", f.fs.Arg(0)))
	}
	f.fs.Visit(func(fl *flag.Flag) {
		f.set[fl.Name] = true
		if fl.Name == "x" {
			f.set["experiment-id"] = true
		}
	})
	if p, ok := f.strs["experiment-id"]; ok && !f.set["experiment-id"] {
		if v := envconfig.ExperimentID.Get(f.env); v != "" {
			*p = v
			f.set["experiment-id"] = true
		}
	}
	for _, r := range f.requireds {
		if !f.set[r] {
			return usageError(fmt.Sprintf("Missing option '--%s'.", r))
		}
	}
	return nil
}

func (f *flags) get(name string) string { return *f.strs[name] }

// opt returns the value of a string option and whether it was given.
func (f *flags) opt(name string) (string, bool) { return *f.strs[name], f.set[name] }

// --- output ------------------------------------------------------------------

// printJSON writes JSON text as json.dumps(..., indent=2) and a newline.
func printJSON(out io.Writer, b []byte) error {
	ind, err := encode.Indent(b, 2)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", ind)
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// parseValue reads a --value as mlflow does: JSON when it parses, else the
// string.
func parseValue(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	return v
}

func parseMetadata(s string, given bool) (map[string]any, error) {
	if !given || s == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("--metadata is not a JSON object: %w", err)
	}
	return m, nil
}

// source returns the source of --source-type and --source-id: mlflow uses
// them only when both are given.
func source(f *flags) (exporter.AssessmentSource, error) {
	t, id := f.get("source-type"), f.get("source-id")
	if t != "" && t != traces.SourceHuman && t != traces.SourceLLMJudge && t != traces.SourceCode {
		return exporter.AssessmentSource{}, usageError(fmt.Sprintf("Invalid value for '--source-type': '%s' is not one of 'HUMAN', 'LLM_JUDGE', 'CODE'.", t))
	}
	if t == "" || id == "" {
		return exporter.AssessmentSource{}, nil
	}
	return exporter.AssessmentSource{Type: t, ID: id}, nil
}

// --- commands ----------------------------------------------------------------

func searchCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	output := f.get("output")
	if output != "table" && output != "json" {
		return usageError(fmt.Sprintf("Invalid value for '--output': '%s' is not one of 'table', 'json'.", output))
	}
	if f.get("model-id") != "" || f.get("sql-warehouse-id") != "" {
		return usageError("--model-id and --sql-warehouse-id are not supported by mlflowtrace")
	}
	q := traces.SearchQuery{
		Locations:    []string{f.get("experiment-id")},
		Filter:       f.get("filter-string"),
		MaxResults:   *f.ints["max-results"],
		PageToken:    f.get("page-token"),
		RunID:        f.get("run-id"),
		WithoutSpans: *f.bools["no-include-spans"] || !*f.bools["include-spans"],
	}
	if ob := f.get("order-by"); ob != "" {
		q.OrderBy = splitList(ob)
	}
	if q.MaxResults <= 0 {
		return usageError("--max-results must be a positive integer")
	}
	page, err := c.SearchTraces(ctx, q)
	if err != nil {
		return err
	}
	dicts := make([]any, len(page.Traces))
	for i, t := range page.Traces {
		b, err := t.MarshalJSON()
		if err != nil {
			return err
		}
		if dicts[i], err = decodeOrdered(b); err != nil {
			return err
		}
	}
	var fields []string
	if ef := f.get("extract-fields"); ef != "" {
		fields = splitList(ef)
		if len(dicts) > 0 {
			if err := validatePaths(fields, dicts[0], *f.bools["verbose"]); err != nil {
				return err
			}
		}
	} else if output == "table" {
		fields = []string{"info.trace_id", "info.request_time", "info.state", "info.execution_duration", "info.request_preview", "info.response_preview"}
	}
	if output == "json" {
		var b bytes.Buffer
		b.WriteString(`{"traces": [`)
		for i, d := range dicts {
			if i > 0 {
				b.WriteString(", ")
			}
			if fields != nil {
				d = filterFields(d, fields)
			}
			b.Write(appendJSON(nil, d))
		}
		b.WriteString(`], "next_page_token": `)
		if page.NextPageToken == "" {
			b.WriteString("null")
		} else {
			b.Write(encode.AppendString(nil, page.NextPageToken, false))
		}
		b.WriteString("}")
		return printJSON(out, b.Bytes())
	}
	rows := make([][]string, len(dicts))
	for i, d := range dicts {
		rows[i] = make([]string, len(fields))
		for j, field := range fields {
			rows[i][j] = tableCell(field, extractValues(d, field))
		}
	}
	fmt.Fprintln(out, table(rows, fields))
	if page.NextPageToken != "" {
		fmt.Fprintf(out, "\nNext page token: %s\n", page.NextPageToken)
	}
	return nil
}

func getCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	t, err := c.GetTrace(ctx, f.get("trace-id"))
	if err != nil {
		return err
	}
	b, err := t.MarshalJSON()
	if err != nil {
		return err
	}
	ef := f.get("extract-fields")
	if ef == "" {
		return printJSON(out, b)
	}
	d, err := decodeOrdered(b)
	if err != nil {
		return err
	}
	fields := splitList(ef)
	if err := validatePaths(fields, d, *f.bools["verbose"]); err != nil {
		return err
	}
	return printJSON(out, appendJSON(nil, filterFields(d, fields)))
}

func deleteCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	exp := f.get("experiment-id")
	var q traces.DeleteQuery
	if ids := f.get("trace-ids"); ids != "" {
		q.TraceIDs = splitList(ids)
	}
	if ms := *f.ints["max-timestamp-millis"]; f.set["max-timestamp-millis"] {
		q.OlderThan = time.UnixMilli(int64(ms))
	}
	if f.set["max-traces"] {
		q.MaxTraces = *f.ints["max-traces"]
		if q.MaxTraces <= 0 {
			return fmt.Errorf("`max_traces` must be a positive integer, received %d", q.MaxTraces)
		}
	}
	n, err := c.DeleteTraces(ctx, exp, q)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Deleted %d trace(s) from experiment %s.\n", n, exp)
	return nil
}

func setTagCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	if err := c.SetTraceTag(ctx, f.get("trace-id"), f.get("key"), f.get("value")); err != nil {
		return err
	}
	fmt.Fprintf(out, "Set tag '%s' on trace %s.\n", f.get("key"), f.get("trace-id"))
	return nil
}

func deleteTagCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	if err := c.DeleteTraceTag(ctx, f.get("trace-id"), f.get("key")); err != nil {
		return err
	}
	fmt.Fprintf(out, "Deleted tag '%s' from trace %s.\n", f.get("key"), f.get("trace-id"))
	return nil
}

func logFeedbackCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	src, err := source(f)
	if err != nil {
		return err
	}
	md, err := parseMetadata(f.opt("metadata"))
	if err != nil {
		return err
	}
	fb := traces.Feedback{Name: f.get("name"), Source: src, Rationale: f.get("rationale"), Metadata: md, SpanID: f.get("span-id")}
	if v := f.get("value"); v != "" {
		fb.Value = parseValue(v)
	}
	a, err := c.LogFeedback(ctx, f.get("trace-id"), fb)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged feedback '%s' to trace %s. Assessment ID: %s\n", fb.Name, f.get("trace-id"), a.AssessmentID)
	return nil
}

func logExpectationCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	src, err := source(f)
	if err != nil {
		return err
	}
	md, err := parseMetadata(f.opt("metadata"))
	if err != nil {
		return err
	}
	ex := traces.Expectation{Name: f.get("name"), Value: parseValue(f.get("value")), Source: src, Metadata: md, SpanID: f.get("span-id")}
	a, err := c.LogExpectation(ctx, f.get("trace-id"), ex)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged expectation '%s' to trace %s. Assessment ID: %s\n", ex.Name, f.get("trace-id"), a.AssessmentID)
	return nil
}

func getAssessmentCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	a, err := c.GetAssessment(ctx, f.get("trace-id"), f.get("assessment-id"))
	if err != nil {
		return err
	}
	b, err := a.MarshalJSON()
	if err != nil {
		return err
	}
	return printJSON(out, b)
}

func updateAssessmentCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	tid, aid := f.get("trace-id"), f.get("assessment-id")
	old, err := c.GetAssessment(ctx, tid, aid)
	if err != nil {
		return err
	}
	// As mlflow's CLI: the name is kept, the value, rationale and metadata
	// are the new ones or the old ones.
	u := traces.AssessmentUpdate{Name: &old.Name}
	value, hasValue := f.opt("value")
	hasValue = hasValue && value != ""
	md, err := parseMetadata(f.opt("metadata"))
	if err != nil {
		return err
	}
	if md == nil && old.Metadata != nil {
		md = map[string]any{}
		for k, v := range old.Metadata {
			md[k] = v
		}
	}
	u.Metadata = md
	if old.Expectation != nil {
		v := old.Expectation.Value
		if hasValue {
			v = parseValue(value)
		}
		u.Expectation = &exporter.ExpectationValue{Value: v}
	} else {
		v := any(nil)
		if old.Feedback != nil {
			v = old.Feedback.Value
		}
		if hasValue {
			v = parseValue(value)
		}
		u.Feedback = &exporter.FeedbackValue{Value: v}
		r := old.Rationale
		if rat, ok := f.opt("rationale"); ok {
			r = rat
		}
		if r != "" {
			u.Rationale = &r
		}
	}
	if _, err := c.UpdateAssessment(ctx, tid, aid, u); err != nil {
		return err
	}
	fmt.Fprintf(out, "Updated assessment %s in trace %s.\n", aid, tid)
	return nil
}

func deleteAssessmentCmd(ctx context.Context, c *traces.Client, f *flags, out io.Writer) error {
	if err := c.DeleteAssessment(ctx, f.get("trace-id"), f.get("assessment-id")); err != nil {
		return err
	}
	fmt.Fprintf(out, "Deleted assessment %s from trace %s.\n", f.get("assessment-id"), f.get("trace-id"))
	return nil
}
