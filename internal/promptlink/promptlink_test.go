package promptlink

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

// addCases are values and prompt versions to add; the differential test
// runs each through MLflow's update_linked_prompts_tag too.
var addCases = []struct {
	current string
	set     bool
	ref     Ref
}{
	{"", false, Ref{"qa", "1"}},
	{`[{"name": "qa", "version": "1"}]`, true, Ref{"qa", "1"}},
	{`[{"name": "qa", "version": "1"}]`, true, Ref{"qa", "2"}},
	{`[{"name":"qa","version":"1"}]`, true, Ref{"chat", "3"}},     // re-written with Python's separators
	{`[{"version":"1","name":"qa"}]`, true, Ref{"qa", "1"}},       // equal as dicts
	{`[{"name":"qa","version":1}]`, true, Ref{"qa", "1"}},         // a number is not "1"
	{`[{"name":"qa","version":"1","x":0}]`, true, Ref{"qa", "1"}}, // an extra member: not equal
	{`[]`, true, Ref{"ünï", "1"}},
	{`[1.50, "é", null]`, true, Ref{"a\"b", "7"}},
	{`{}`, true, Ref{"qa", "1"}},         // not a list
	{`[{"name": `, true, Ref{"qa", "1"}}, // not JSON
	{``, true, Ref{"qa", "1"}},           // an empty value is not JSON either
}

func TestAdd(t *testing.T) {
	got, err := Add("", false, NewRef("qa", 3))
	if err != nil || got != `[{"name": "qa", "version": "3"}]` {
		t.Fatalf("Add = %q, %v", got, err)
	}
	again, err := Add(got, true, NewRef("qa", 3))
	if err != nil || again != got {
		t.Fatalf("adding a listed version: %q, %v", again, err)
	}
	two, err := Add(got, true, NewRef("chat", 1))
	if err != nil || two != `[{"name": "qa", "version": "3"}, {"name": "chat", "version": "1"}]` {
		t.Fatalf("Add = %q, %v", two, err)
	}
	if _, err := Add("{}", true, NewRef("qa", 1)); err == nil || !strings.Contains(err.Error(), "invalid format for 'mlflow.linkedPrompts' tag") {
		t.Fatalf("not a list: %v", err)
	}
	refs, err := Parse(`[{"name": "qa", "version": "3"}, 7, {"name": "x"}, {"name": "chat", "version": "1"}]`)
	if err != nil || !reflect.DeepEqual(refs, []Ref{{"qa", "3"}, {"chat", "1"}}) {
		t.Fatalf("Parse = %v, %v", refs, err)
	}
	if _, err := Parse("nope"); err == nil {
		t.Fatal("Parse of a malformed value: no error")
	}
}

// TestAddMatchesMLflow: Add gives update_linked_prompts_tag's value, or
// fails where it raises.
func TestAddMatchesMLflow(t *testing.T) {
	py := pyenv.Python(t)
	type pyCase struct {
		Current *string `json:"current"`
		Name    string  `json:"name"`
		Version string  `json:"version"`
	}
	var in []pyCase
	for _, c := range addCases {
		pc := pyCase{Name: c.ref.Name, Version: c.ref.Version}
		if c.set {
			cur := c.current
			pc.Current = &cur
		}
		in = append(in, pc)
	}
	b, _ := json.Marshal(in)
	out := pyenv.Run(t, py, `
import json, sys
from mlflow.entities.model_registry import PromptVersion
from mlflow.tracing.utils.prompt import update_linked_prompts_tag
res = []
for c in json.loads(sys.argv[1]):
    try:
        res.append({"value": update_linked_prompts_tag(c["current"], [PromptVersion(c["name"], int(c["version"]), "t")])})
    except Exception as e:
        res.append({"error": str(e)})
print(json.dumps(res))
`, string(b))
	var want []struct {
		Value *string `json:"value"`
		Error string  `json:"error"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, c := range addCases {
		got, err := Add(c.current, c.set, c.ref)
		w := want[i]
		switch {
		case w.Error != "" && err == nil:
			t.Errorf("%q + %v: got %q, MLflow raises %q", c.current, c.ref, got, w.Error)
		case w.Error != "" && !strings.EqualFold(err.Error()[:20], w.Error[:20]):
			t.Errorf("%q + %v: error %q, MLflow %q", c.current, c.ref, err, w.Error)
		case w.Error == "" && (err != nil || w.Value == nil || got != *w.Value):
			t.Errorf("%q + %v: got %q, %v; MLflow %v", c.current, c.ref, got, err, *w.Value)
		}
	}
}
