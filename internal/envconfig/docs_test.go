package envconfig

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var varName = regexp.MustCompile(`^_?[A-Z][A-Z0-9_]*[A-Z0-9]$`)

// docPackages are the packages whose doc.go has a variable table; every
// variable's Package is one of them.
var docPackages = []string{"tracing", "exporter", "traces", "prompts", "responsesagent"}

// readmeRows returns the README table rows by the variables of their first
// cell: name → the row's cells.
func readmeRows(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for _, tok := range strings.Split(cells[0], "`") {
			if varName.MatchString(tok) {
				rows[tok] = cells
			}
		}
	}
	return rows
}

// docRows returns the lines of a package's doc.go variable table: name →
// line.
func docRows(t *testing.T, pkg string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", pkg, "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			continue
		}
		if f := strings.Fields(rest); len(f) > 1 && varName.MatchString(f[0]) && strings.Contains(f[0], "_") {
			rows[f[0]] = rest
		}
	}
	return rows
}

// TestDocsAgree: every variable the reader knows has a row in the README's
// table and in its package's doc.go table, with the same default and the
// options that override it; and the tables list no variable the reader
// does not know.
func TestDocsAgree(t *testing.T) {
	readme := readmeRows(t)
	docs := map[string]map[string]string{}
	for _, pkg := range docPackages {
		docs[pkg] = docRows(t, pkg)
	}
	known := map[string]bool{}
	for _, v := range All() {
		known[v.Name] = true
		row, ok := readme[v.Name]
		if !ok || len(row) < 3 {
			t.Errorf("README: no table row for %s", v.Name)
		} else {
			if v.Default != "" && !strings.Contains(row[1], v.Default) {
				t.Errorf("README: %s default %q, want it to say %q", v.Name, row[1], v.Default)
			}
			for _, o := range v.Options {
				if !strings.Contains(row[2], o) {
					t.Errorf("README: %s options %q, want %s", v.Name, row[2], o)
				}
			}
		}
		line, ok := docs[v.Package][v.Name]
		if !ok {
			t.Errorf("%s/doc.go: no table row for %s", v.Package, v.Name)
			continue
		}
		if v.Default != "" && !strings.Contains(line, v.Default) {
			t.Errorf("%s/doc.go: %s row %q, want default %q", v.Package, v.Name, line, v.Default)
		}
		for _, o := range v.Options {
			short := o[strings.IndexByte(o, '.')+1:]
			if strings.HasPrefix(o, v.Package+".") && !strings.Contains(line, short) {
				t.Errorf("%s/doc.go: %s row %q, want option %s", v.Package, v.Name, line, short)
			}
		}
	}
	for name := range readme {
		if !known[name] {
			t.Errorf("README lists %s, which the SDK does not read", name)
		}
	}
	for pkg, rows := range docs {
		for name := range rows {
			if !known[name] {
				t.Errorf("%s/doc.go lists %s, which the SDK does not read", pkg, name)
			}
		}
	}
}

// TestEveryVariableDeclaredOnce: no two handles share a name.
func TestEveryVariableDeclaredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range All() {
		if seen[v.Name] || !varName.MatchString(v.Name) || !slices.Contains(docPackages, v.Package) {
			t.Errorf("variable %+v declared twice or malformed", v)
		}
		seen[v.Name] = true
	}
}
