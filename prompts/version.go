package prompts

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// PromptVersion is one version of a prompt of MLflow's prompt registry
// (MLflow's PromptVersion): a text template, or a chat template — a list of
// messages — with {{ variable }} placeholders.
type PromptVersion struct {
	Name    string
	Version int
	// Template is the template of a text prompt ("" for a chat prompt).
	Template string
	// Messages is the template of a chat prompt (nil for a text prompt).
	Messages []Message
	// CommitMessage describes the version (MLflow's commit_message).
	CommitMessage string
	// Tags are the version's tags, without the ones MLflow keeps the
	// prompt in (mlflow.prompt.*, _mlflow_prompt_*).
	Tags map[string]string
	// Aliases are the aliases pointing at this version ("production").
	Aliases []string
	// ResponseFormat is the JSON schema of the expected answer
	// (register_prompt's response_format), nil when none.
	ResponseFormat json.RawMessage
	// ModelConfig is the model and its settings for this version
	// (register_prompt's model_config: {"model_name": …, "temperature": …}),
	// nil when none.
	ModelConfig json.RawMessage
	// CreationTime and LastUpdatedTime are when the version was created
	// and last changed (milliseconds).
	CreationTime    time.Time
	LastUpdatedTime time.Time
	// UserID is who created the version, when the server knows.
	UserID string
}

// Message is one message of a chat prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// URI returns the version's URI, "prompts:/<name>/<version>".
func (p *PromptVersion) URI() string { return "prompts:/" + p.Name + "/" + strconv.Itoa(p.Version) }

// IsChat reports whether p is a chat prompt (its template is a list of
// messages).
func (p *PromptVersion) IsChat() bool { return len(p.Messages) > 0 }

// Variables returns the names of the template's variables, sorted: every
// {{ name }} (a name as Jinja2 spells one, dotted parts allowed). As in
// MLflow, a chat prompt's variables are looked for in the JSON text of its
// messages — roles included, and a placeholder whose braces enclose a tab
// or a newline is not one there.
func (p *PromptVersion) Variables() []string {
	set := map[string]struct{}{}
	add := func(text string) {
		for _, m := range variablePattern.FindAllStringSubmatch(text, -1) {
			set[m[1]] = struct{}{}
		}
	}
	if !p.IsChat() {
		add(p.Template)
	} else {
		for _, m := range p.Messages {
			// json.dumps(template): each string escaped, ASCII only.
			add(string(encode.AppendString(nil, m.Role, true)))
			add(string(encode.AppendString(nil, m.Content, true)))
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// pyWS is the class of characters Python's \s matches in a str pattern
// (str.isspace()); Go's \s is ASCII only.
const pyWS = `[\t\n\v\f\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`

// variablePattern is MLflow's PROMPT_TEMPLATE_VARIABLE_PATTERN.
var variablePattern = regexp.MustCompile(`\{\{` + pyWS + `*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)` + pyWS + `*\}\}`)

// Format returns the text of a text prompt with its variables replaced by
// vars' values, as MLflow's PromptVersion.format does:
//
//   - every {{ name }} of each name in vars is replaced by the value as
//     Python's str() writes it ("3", "1.5", "True", "None", "['a', 'b']");
//   - the names are taken one after the other, in sorted order (MLflow takes
//     them in the order of its keyword arguments; a Go map has none), so a
//     value that holds a placeholder of a name that comes later is filled
//     too;
//   - as in MLflow, a name is used as a regular expression: "user.name" also
//     matches {{ userXname }}; a name that is not a valid expression is an
//     error;
//   - names the template does not use are ignored; a variable of the
//     template that vars lacks is a *MissingVariablesError (Partial fills a
//     template in steps).
//
// A chat prompt is an error: use FormatMessages. So is a Jinja2 template
// (one with {% … %}), which this package does not render.
func (p *PromptVersion) Format(vars map[string]any) (string, error) {
	if p.IsChat() {
		return "", fmt.Errorf("prompts: %s is a chat prompt: use FormatMessages", p.URI())
	}
	f, err := p.fill(vars)
	if err != nil {
		return "", err
	}
	if err := p.missing(vars); err != nil {
		return "", err
	}
	return f.Template, nil
}

// FormatMessages returns the messages of a chat prompt with their content's
// variables replaced, as Format does for a text prompt (roles are kept as
// they are). A text prompt is an error: use Format.
func (p *PromptVersion) FormatMessages(vars map[string]any) ([]Message, error) {
	if !p.IsChat() {
		return nil, fmt.Errorf("prompts: %s is a text prompt: use Format", p.URI())
	}
	f, err := p.fill(vars)
	if err != nil {
		return nil, err
	}
	if err := p.missing(vars); err != nil {
		return nil, err
	}
	return f.Messages, nil
}

// Partial returns a copy of p whose template has the variables of vars
// replaced, as Format replaces them, and the others left for a later Format
// (MLflow's format(allow_partial=True)).
func (p *PromptVersion) Partial(vars map[string]any) (*PromptVersion, error) {
	return p.fill(vars)
}

// placeholders caches the compiled placeholder pattern of each variable name
// (names come from code: a handful), up to maxPlaceholders names.
var (
	placeholders  sync.Map // name → *regexp.Regexp
	nPlaceholders atomic.Int32
)

const maxPlaceholders = 1024

// placeholder returns the pattern MLflow's format_prompt replaces for name:
// \{\{\s*<name>\s*\}\}, the name used as a regular expression.
func placeholder(name string) (*regexp.Regexp, error) {
	if re, ok := placeholders.Load(name); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`\{\{` + pyWS + `*` + name + pyWS + `*\}\}`)
	if err != nil {
		return nil, fmt.Errorf("prompts: variable name %q: MLflow uses it as a regular expression, and it is not a valid one: %w", name, err)
	}
	if nPlaceholders.Load() < maxPlaceholders {
		if _, loaded := placeholders.LoadOrStore(name, re); !loaded {
			nPlaceholders.Add(1)
		}
	}
	return re, nil
}

// fill returns a copy of p with vars' values in its template.
func (p *PromptVersion) fill(vars map[string]any) (*PromptVersion, error) {
	if p.isJinja() {
		return nil, fmt.Errorf("prompts: %s is a Jinja2 template ({%% … %%}), which this package does not render", p.URI())
	}
	type sub struct {
		re    *regexp.Regexp
		value string
	}
	subs := make([]sub, 0, len(vars))
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		re, err := placeholder(name)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub{re, encode.PyStr(vars[name])})
	}
	fill := func(s string) string {
		for _, x := range subs {
			s = x.re.ReplaceAllLiteralString(s, x.value)
		}
		return s
	}
	c := *p
	c.Tags = maps.Clone(p.Tags)
	c.Aliases = slices.Clone(p.Aliases)
	if !p.IsChat() {
		c.Template = fill(p.Template)
		return &c, nil
	}
	c.Messages = make([]Message, len(p.Messages))
	for i, m := range p.Messages {
		c.Messages[i] = Message{Role: m.Role, Content: fill(m.Content)}
	}
	return &c, nil
}

// missing is the error for the template's variables vars lacks.
func (p *PromptVersion) missing(vars map[string]any) error {
	var names []string
	for _, v := range p.Variables() {
		if _, ok := vars[v]; !ok {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &MissingVariablesError{Prompt: p.URI(), Names: names}
}

// isJinja reports whether the template uses Jinja2's control syntax, which
// MLflow renders with Jinja2 instead of replacing placeholders.
func (p *PromptVersion) isJinja() bool {
	j := func(s string) bool { return strings.Contains(s, "{%") && strings.Contains(s, "%}") }
	if !p.IsChat() {
		return j(p.Template)
	}
	return slices.ContainsFunc(p.Messages, func(m Message) bool { return j(m.Content) })
}

// MissingVariablesError is the error of Format and FormatMessages when vars
// lacks variables of the template.
type MissingVariablesError struct {
	Prompt string   // the version's URI
	Names  []string // sorted
}

// Error says, as MLflow does, which variables are missing: "prompts:
// prompts:/qa/1: Missing variables: {'question'}. …" (MLflow lists them in
// the order of a Python set; here they are sorted).
func (e *MissingVariablesError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = "'" + n + "'"
	}
	return "prompts: " + e.Prompt + ": Missing variables: {" + strings.Join(quoted, ", ") + "}. To partially format the prompt, use Partial."
}
