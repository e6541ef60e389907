package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

type command struct {
	name string
	// help is the command's description, the first line of mlflow's.
	help string
	run  func(ctx context.Context, c *traces.Client, fs *flags, out io.Writer) error
	// define declares the command's flags, with mlflow's descriptions.
	define func(fs *flags)
}

var commands = []command{
	{"search", "Search for traces in the specified experiment.", searchCmd, func(f *flags) {
		f.experimentID("Experiment ID to search within. Can be set via MLFLOW_EXPERIMENT_ID env var.")
		f.str("filter-string", "", "Filter string for trace search (e.g. \"status = 'OK'\", \"tags.env = 'prod'\", \"timestamp_ms > 1700000000000\").")
		f.integer("max-results", 100, "Maximum number of traces to return (default: 100)")
		f.str("order-by", "", "Comma-separated list of fields to order by (e.g., 'timestamp_ms DESC, status')")
		f.str("page-token", "", "Token for pagination from previous search")
		f.str("run-id", "", "Filter traces by run ID (convenience option, adds to filter-string)")
		f.boolPair("include-spans", "no-include-spans", true, "Include span data in results (default: include)")
		f.str("model-id", "", "Filter traces by model ID")
		f.str("sql-warehouse-id", "", "DEPRECATED. Use the `MLFLOW_TRACING_SQL_WAREHOUSE_ID` environment variable instead.SQL warehouse ID (only needed when searching for traces by model stored in Databricks Unity Catalog)")
		f.choice("output", "table", []string{"table", "json"}, "Output format: 'table' for formatted table (default) or 'json' for JSON format")
		f.str("extract-fields", "", "Filter and select specific fields using dot notation. Examples: \"info.trace_id\", \"info.assessments.*\", \"data.spans.*.name\". For field names with dots, use backticks: \"info.tags.`mlflow.traceName`\". Comma-separated for multiple fields. Defaults to standard columns for table mode, all fields for JSON mode.")
		f.boolean("verbose", false, "Show all available fields in error messages when invalid fields are specified.")
	}},
	{"get", "All trace details will print to stdout as JSON format.", getCmd, func(f *flags) {
		f.required("trace-id", "")
		f.str("extract-fields", "", "Filter and select specific fields using dot notation. Examples: 'info.trace_id', 'info.assessments.*', 'data.spans.*.name'. Comma-separated for multiple fields. If not specified, returns all trace data.")
		f.boolean("verbose", false, "Show all available fields in error messages when invalid fields are specified.")
	}},
	{"delete", "Delete traces from an experiment.", deleteCmd, func(f *flags) {
		f.experimentID("Experiment ID to search within. Can be set via MLFLOW_EXPERIMENT_ID env var.")
		f.str("trace-ids", "", "Comma-separated list of trace IDs to delete")
		f.integer("max-timestamp-millis", -1, "Delete traces older than this timestamp (milliseconds since epoch)")
		f.integer("max-traces", -1, "Maximum number of traces to delete")
	}},
	{"set-tag", "Set a tag on a trace.", setTagCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("key", "Tag key")
		f.required("value", "Tag value")
	}},
	{"delete-tag", "Delete a tag from a trace.", deleteTagCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("key", "Tag key to delete")
	}},
	{"log-feedback", "Log feedback (evaluation score) to a trace.", logFeedbackCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("name", "Feedback name")
		f.str("value", "", "Feedback value (number, string, bool, or JSON for complex values)")
		f.choice("source-type", "", sourceTypes, "Source type of the feedback")
		f.str("source-id", "", "Source identifier (e.g., email for HUMAN, model name for LLM)")
		f.str("rationale", "", "Explanation/justification for the feedback")
		f.str("metadata", "", "Additional metadata as JSON string")
		f.str("span-id", "", "Associate feedback with a specific span ID (16 hex digits, or the base64 span_id `get` prints)")
	}},
	{"log-expectation", "Log an expectation (ground truth label) to a trace.", logExpectationCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("name", "Expectation name (e.g., 'expected_answer', 'ground_truth')")
		f.required("value", "Expected value (string or JSON for complex values)")
		f.choice("source-type", "", sourceTypes, "Source type of the expectation")
		f.str("source-id", "", "Source identifier")
		f.str("metadata", "", "Additional metadata as JSON string")
		f.str("span-id", "", "Associate expectation with a specific span ID (16 hex digits, or the base64 span_id `get` prints)")
	}},
	{"get-assessment", "Get assessment details as JSON.", getAssessmentCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("assessment-id", "Assessment ID")
	}},
	{"update-assessment", "Update an existing assessment.", updateAssessmentCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("assessment-id", "Assessment ID to update")
		f.str("value", "", "Updated assessment value (JSON)")
		f.str("rationale", "", "Updated rationale")
		f.str("metadata", "", "Updated metadata as JSON")
	}},
	{"delete-assessment", "Delete an assessment from a trace.", deleteAssessmentCmd, func(f *flags) {
		f.required("trace-id", "")
		f.required("assessment-id", "Assessment ID to delete")
	}},
}

var sourceTypes = []string{traces.SourceHuman, traces.SourceLLMJudge, traces.SourceCode}

// commandNames lists the commands in declaration order.
func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

func commandList() string { return strings.Join(commandNames(), ", ") }

// runTraces runs `traces <command> ...`. Usage errors come back wrapped in
// a *usageContext naming the command whose usage click would print.
func runTraces(ctx context.Context, args []string, out, errOut io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		// click 8.2+: a group without a command prints its help to
		// stderr and exits 2.
		return helpError(tracesHelp())
	}
	if args[0] == "--help" || args[0] == "-h" {
		_, err := io.WriteString(out, tracesHelp())
		return err
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		if strings.HasPrefix(args[0], "-") {
			return &usageContext{"traces", usageError(fmt.Sprintf("No such option '%s'.", args[0]))}
		}
		msg := fmt.Sprintf("No such command '%s'.", args[0])
		return &usageContext{"traces", usageError(msg + didYouMean(args[0], commandNames()))}
	}
	cmd := commands[i]
	fs := newFlags(cmd.name, getenv)
	cmd.define(fs)
	if err := fs.parse(args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			_, err := io.WriteString(out, commandHelp(cmd, fs))
			return err
		}
		return withUsage("traces "+cmd.name, err)
	}
	opts := []exporter.Option{exporter.WithGetenv(getenv)}
	if _, defined := fs.strs["sql-warehouse-id"]; defined {
		if id, given := fs.opt("sql-warehouse-id"); given {
			// mlflow traces search warns (a FutureWarning on stderr) and
			// sets MLFLOW_TRACING_SQL_WAREHOUSE_ID, which the flag thus
			// overrides.
			fmt.Fprintln(errOut, "FutureWarning: The `sql_warehouse_id` parameter is deprecated. Please use the `MLFLOW_TRACING_SQL_WAREHOUSE_ID` environment variable instead.")
			opts = append(opts, traces.WithSQLWarehouseID(id))
		}
	}
	c, err := traces.NewClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	return withUsage("traces "+cmd.name, cmd.run(ctx, c, fs, out))
}

// --- flags ------------------------------------------------------------------

// flags wraps a flag.FlagSet with click's conventions: --name and -name,
// required options, MLFLOW_EXPERIMENT_ID as --experiment-id's default,
// click's messages for a bad value, an unknown option or a missing value.
type flags struct {
	fs        *flag.FlagSet
	strs      map[string]*string
	ints      map[string]*int
	bools     map[string]*bool
	requireds []string
	set       map[string]bool
	env       envconfig.Env
	// opts are the options in declaration order, for --help.
	opts []option
	// bad is the usage error of the last value a flag refused.
	bad error
}

// option describes one option for --help.
type option struct {
	names    string // "-x, --experiment-id"
	metavar  string // "TEXT", "INTEGER", "[table|json]", "" for a flag
	help     string
	required bool
}

func newFlags(name string, getenv func(string) string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{fs: fs, strs: map[string]*string{}, ints: map[string]*int{}, bools: map[string]*bool{}, set: map[string]bool{}, env: envconfig.New(getenv)}
}

func (f *flags) str(name, def, help string) {
	f.strs[name] = f.fs.String(name, def, help)
	f.opts = append(f.opts, option{names: "--" + name, metavar: "TEXT", help: help})
}

func (f *flags) integer(name string, def int, help string) {
	p := new(int)
	*p = def
	f.ints[name] = p
	f.fs.Var(intValue{p: p, name: name, bad: &f.bad}, name, help)
	f.opts = append(f.opts, option{names: "--" + name, metavar: "INTEGER", help: help})
}

func (f *flags) boolean(name string, def bool, help string) {
	f.bools[name] = f.fs.Bool(name, def, help)
	f.opts = append(f.opts, option{names: "--" + name, help: help})
}

// boolPair declares click's "--on / --off" flag.
func (f *flags) boolPair(on, off string, def bool, help string) {
	f.bools[on] = f.fs.Bool(on, def, help)
	f.bools[off] = f.fs.Bool(off, false, help)
	f.opts = append(f.opts, option{names: "--" + on + " / --" + off, help: help})
}

// choice is a string option whose value is checked by the command (click's
// Choice: "[a|b]" in the help).
func (f *flags) choice(name, def string, choices []string, help string) {
	f.strs[name] = f.fs.String(name, def, help)
	f.opts = append(f.opts, option{names: "--" + name, metavar: "[" + strings.Join(choices, "|") + "]", help: help})
}

func (f *flags) required(name, help string) {
	f.str(name, "", help)
	f.opts[len(f.opts)-1].required = true
	f.requireds = append(f.requireds, name)
}

func (f *flags) experimentID(help string) {
	f.str("experiment-id", "", help)
	f.opts[len(f.opts)-1].names = "-x, --experiment-id"
	f.opts[len(f.opts)-1].required = true
	f.fs.Var(aliasValue{f.strs["experiment-id"]}, "x", "")
	f.requireds = append(f.requireds, "experiment-id")
}

type aliasValue struct{ p *string }

func (a aliasValue) String() string     { return "" }
func (a aliasValue) Set(s string) error { *a.p = s; return nil }

// intValue is an INTEGER option: a decimal integer as Python's int() reads
// it, with click's message otherwise.
type intValue struct {
	p    *int
	name string
	bad  *error
}

func (v intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		*v.bad = usageError(fmt.Sprintf("Invalid value for '--%s': %s is not a valid integer.", v.name, encode.PyRepr(s)))
		return *v.bad
	}
	*v.p = n
	return nil
}

// errHelp is --help or -h: the command's help goes to stdout, exit 0.
var errHelp = errors.New("help requested")

// The messages of package flag this translates; they have not changed since
// Go 1.
const (
	flagUndefined = "flag provided but not defined: -"
	flagNoValue   = "flag needs an argument: -"
)

func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		msg := err.Error()
		switch {
		case errors.Is(err, flag.ErrHelp):
			return errHelp
		case f.bad != nil:
			return f.bad
		case strings.HasPrefix(msg, flagUndefined):
			name := optionName(strings.TrimPrefix(msg, flagUndefined))
			if !strings.HasPrefix(name, "--") {
				return usageError(fmt.Sprintf("No such option '%s'.", name))
			}
			var longs []string
			f.fs.VisitAll(func(fl *flag.Flag) {
				if len(fl.Name) > 1 {
					longs = append(longs, "--"+fl.Name)
				}
			})
			longs = append(longs, "--help")
			return usageError(fmt.Sprintf("No such option '%s'.", name) + didYouMean(name, longs))
		case strings.HasPrefix(msg, flagNoValue):
			return bareUsageError(fmt.Sprintf("Option '%s' requires an argument.", optionName(strings.TrimPrefix(msg, flagNoValue))))
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
			// click names every spelling of the option: '--experiment-id' / '-x'.
			hint := "'--" + r + "'"
			if r == "experiment-id" && f.fs.Lookup("x") != nil {
				hint += " / '-x'"
			}
			return usageError(fmt.Sprintf("Missing option %s.", hint))
		}
	}
	return nil
}

// optionName spells a flag as click does: -x for one letter, --name
// otherwise (package flag takes -name and --name alike).
func optionName(name string) string {
	if len([]rune(name)) == 1 {
		return "-" + name
	}
	return "--" + name
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

// parseMetadata reads a --metadata JSON object. Its values are stored as
// mlflow stores them: str() of what json.loads gives ("1.0", "[1, 'a']",
// "{'x': True}"), not Go's fmt.Sprint of a decoded value.
func parseMetadata(s string, given bool) (map[string]any, error) {
	if !given || s == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), new(map[string]any)); err != nil {
		return nil, fmt.Errorf("--metadata is not a JSON object: %w", err)
	}
	v, err := decodeOrdered([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("--metadata is not a JSON object: %w", err)
	}
	o, ok := v.(*ordered)
	if !ok { // null, as json.loads reads it: no metadata
		return nil, nil
	}
	m := make(map[string]any, len(o.keys))
	for _, k := range o.keys {
		m[k] = encode.PyStr(o.vals[k])
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
	q := traces.SearchQuery{
		Locations:    []string{f.get("experiment-id")},
		Filter:       f.get("filter-string"),
		MaxResults:   *f.ints["max-results"],
		PageToken:    f.get("page-token"),
		RunID:        f.get("run-id"),
		ModelID:      f.get("model-id"),
		WithoutSpans: *f.bools["no-include-spans"] || !*f.bools["include-spans"],
	}
	if ob := f.get("order-by"); ob != "" {
		q.OrderBy = splitList(ob)
	}
	// mlflow's search_traces fetches pages while it has fewer than
	// max_results traces: for 0 or less it asks nothing and returns no
	// traces and no token (package traces takes 0 as its default, 100).
	page := &traces.Page{}
	if q.MaxResults > 0 {
		var err error
		if page, err = c.SearchTraces(ctx, q); err != nil {
			return err
		}
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
	// mlflow's checks (AbstractStore.delete_traces), in its order, with its
	// messages: they name delete_traces' parameters, the options without
	// "--".
	timeSet, maxSet := f.set["max-timestamp-millis"], f.set["max-traces"]
	switch {
	case !timeSet && len(q.TraceIDs) == 0:
		return mlflowError("Either `max_timestamp_millis` or `trace_ids` must be specified.")
	case timeSet && len(q.TraceIDs) > 0:
		return mlflowError("Only one of `max_timestamp_millis` and `trace_ids` can be specified.")
	case maxSet && len(q.TraceIDs) > 0:
		return mlflowError("`max_traces` can't be specified if `trace_ids` is specified.")
	case maxSet && *f.ints["max-traces"] <= 0:
		return mlflowError(fmt.Sprintf("`max_traces` must be a positive integer, received %d.", *f.ints["max-traces"]))
	}
	if timeSet {
		q.OlderThan = time.UnixMilli(int64(*f.ints["max-timestamp-millis"]))
	}
	if maxSet {
		q.MaxTraces = *f.ints["max-traces"]
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
