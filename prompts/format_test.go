package prompts

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

// formatCases are templates and variables that PromptVersion.format and
// this package must treat alike (TestFormatMatchesMLflow).
var formatCases = []formatCase{
	{"plain", "Hello {{name}}!", false, `{"name": "Bob"}`, false},
	{"spaces", "{{ a }} {{a}} {{  a  }}", false, `{"a": 1}`, false},
	{"tab and newline", "{{\ta\n}}", false, `{"a": "x"}`, false},
	{"unicode spaces", "{{\u00a0a\u3000}} {{\u200ba}}", false, `{"a": "y"}`, false},
	{"dotted name is a pattern", "{{ user.name }} and {{ userXname }}", false, `{"user.name": "u"}`, false},
	{"value filled by a later name", "{{a}} {{b}}", false, `{"a": "{{b}}", "b": "B"}`, false},
	{"value of an earlier name", "{{b}} {{a}}", false, `{"b": "{{a}}", "a": "A"}`, false},
	{"values", "{{x}}|{{y}}|{{z}}|{{w}}|{{v}}|{{n}}|{{i}}", false,
		`{"x": 1.0, "y": 1e20, "z": [1, "a", 2.5], "w": {"j": "it's", "k": null}, "v": true, "n": null, "i": -7}`, false},
	{"backslashes", "{{a}}", false, `{"a": "C:\\new\\u1234 \\1 \\g<0> $1"}`, false},
	{"missing", "{{a}} {{b}} {{ c.d }}", false, `{"a": 1}`, false},
	{"extra ignored", "{{a}}", false, `{"a": 1, "zzz": 2}`, false},
	{"not variables", "{{ 1a }} {{ _x }} {{a-b}} {{}} {x}", false, `{"_x": "X"}`, false},
	{"empty template", "", false, `{}`, false},
	{"empty name", "{{}} {{ }}", false, `{"": "E"}`, false},
	{"name as pattern", "{{aaa}} {{a+}}", false, `{"a+": "X"}`, false},
	{"invalid pattern", "{{(}}", false, `{"(": "X"}`, false},
	{"partial", "{{a}} {{b}}", false, `{"a": 1}`, true},
	{"partial complete", "{{a}} {{b}}", false, `{"a": 1, "b": 2}`, true},
	{"chat", `[{"role": "system", "content": "Be {{ tone }}."}, {"role": "user", "content": "{{q}} {{q}}"}]`, true,
		`{"tone": "kind", "q": "Why?"}`, false},
	{"chat role variable", `[{"role": "{{r}}", "content": "{{ q }}"}]`, true, `{"q": "Q"}`, false},
	{"chat escaped spaces", `[{"role": "user", "content": "{{\tq}} {{\u00a0q}} {{ q }}"}]`, true, `{"q": "Q"}`, false},
	{"chat escaped only", `[{"role": "user", "content": "{{\tq}} é \"x\""}]`, true, `{"q": "Q"}`, false},
	{"chat missing", `[{"role": "user", "content": "{{a}} {{b}}"}]`, true, `{}`, false},
	{"chat partial", `[{"role": "user", "content": "{{a}} {{b}}"}]`, true, `{"b": [1]}`, true},
}

func (c formatCase) version(t *testing.T) *PromptVersion {
	p := &PromptVersion{Name: "p", Version: 1}
	if !c.chat {
		p.Template = c.template
		return p
	}
	var err error
	if p.Messages, err = chatTemplate(c.template); err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return p
}

type formatCase struct {
	name     string
	template string // a text template, or the JSON of a chat template
	chat     bool
	vars     string // JSON: Python's json.loads and this test read it alike
	partial  bool
}

func decodeVars(t *testing.T, s string) map[string]any {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestFormatMatchesMLflow runs each case through MLflow 3.17.2's
// PromptVersion.format (keyword arguments in sorted order) and through
// Format, FormatMessages or Partial: the same text, the same messages, the
// same missing variables, an error where MLflow raises one.
func TestFormatMatchesMLflow(t *testing.T) {
	py := pyenv.Python(t)
	type pyCase struct {
		Name, Template, Vars string
		Chat, Partial        bool
	}
	var pcs []pyCase
	for _, c := range formatCases {
		pcs = append(pcs, pyCase{c.name, c.template, c.vars, c.chat, c.partial})
	}
	in, _ := json.Marshal(pcs)
	out := pyenv.Run(t, py, `
import json, sys
from mlflow.entities.model_registry import PromptVersion
res = []
for c in json.loads(sys.argv[1]):
    tmpl = json.loads(c["Template"]) if c["Chat"] else c["Template"]
    p = PromptVersion("p", 1, tmpl)
    v = dict(sorted(json.loads(c["Vars"]).items()))
    try:
        r = p.format(allow_partial=c["Partial"], **v)
        res.append({"result": r.template if isinstance(r, PromptVersion) else r, "variables": sorted(p.variables)})
    except Exception as e:
        res.append({"error": str(e), "variables": sorted(p.variables)})
print(json.dumps(res))
`, string(in))
	var want []struct {
		Result    any      `json:"result"`
		Error     string   `json:"error"`
		Variables []string `json:"variables"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	missing := regexp.MustCompile(`'([^']*)'`)
	for i, c := range formatCases {
		p, w := c.version(t), want[i]
		vars := decodeVars(t, c.vars)
		if got := p.Variables(); !slices.Equal(got, w.Variables) && !(len(got) == 0 && len(w.Variables) == 0) {
			t.Errorf("%s: variables %q, MLflow %q", c.name, got, w.Variables)
		}
		var got any
		var err error
		switch {
		case c.partial:
			var q *PromptVersion
			if q, err = p.Partial(vars); err == nil {
				if q.IsChat() {
					got = q.Messages
				} else {
					got = q.Template
				}
			}
		case c.chat:
			got, err = p.FormatMessages(vars)
		default:
			got, err = p.Format(vars)
		}
		if w.Error != "" {
			if err == nil {
				t.Errorf("%s: got %v, MLflow raises %q", c.name, got, w.Error)
				continue
			}
			if strings.HasPrefix(w.Error, "Missing variables") {
				var me *MissingVariablesError
				var names []string
				for _, m := range missing.FindAllStringSubmatch(strings.SplitN(w.Error, "}", 2)[0], -1) {
					names = append(names, m[1])
				}
				slices.Sort(names)
				if !errors.As(err, &me) || !slices.Equal(me.Names, names) {
					t.Errorf("%s: error %v, MLflow %q", c.name, err, w.Error)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v; MLflow gives %v", c.name, err, w.Result)
			continue
		}
		gj, _ := json.Marshal(got)
		var g any
		_ = json.Unmarshal(gj, &g)
		if !reflect.DeepEqual(g, w.Result) {
			t.Errorf("%s: got %s, MLflow %v", c.name, gj, w.Result)
		}
	}
}

// A Jinja2 template is refused (MLflow renders it with Jinja2); a chat
// prompt is formatted with FormatMessages, a text one with Format.
func TestFormatRefuses(t *testing.T) {
	j := &PromptVersion{Name: "j", Version: 2, Template: "{% if x %}{{ x }}{% endif %}"}
	if _, err := j.Format(map[string]any{"x": 1}); err == nil || !strings.Contains(err.Error(), "Jinja2") {
		t.Errorf("jinja: %v", err)
	}
	text := &PromptVersion{Name: "t", Version: 1, Template: "x"}
	if _, err := text.FormatMessages(nil); err == nil {
		t.Error("FormatMessages of a text prompt: no error")
	}
	chat := &PromptVersion{Name: "c", Version: 1, Messages: []Message{{Role: "user", Content: "{{x}}"}}}
	if _, err := chat.Format(nil); err == nil {
		t.Error("Format of a chat prompt: no error")
	}
	if got := chat.URI(); got != "prompts:/c/1" {
		t.Errorf("URI %s", got)
	}
	// Partial leaves p as it was.
	q, err := chat.Partial(map[string]any{"x": "X"})
	if err != nil || q.Messages[0].Content != "X" || chat.Messages[0].Content != "{{x}}" {
		t.Errorf("Partial: %v %v %v", q, err, chat.Messages)
	}
}
