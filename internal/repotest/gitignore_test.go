package repotest

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository's top directory, relative to this package.
var root = filepath.Join("..", "..")

// mainPackage is a directory holding a main package and the module it
// belongs to, both relative to root, slash-separated ("" for the root
// module).
type mainPackage struct{ dir, module string }

// mainPackages walks the tree as `go build ./...` sees it — no directory
// whose name starts with "." or "_", no testdata — and returns every
// directory whose non-test Go files are package main, with its module (the
// nearest directory above it with a go.mod).
func mainPackages(t *testing.T) []mainPackage {
	t.Helper()
	var modules, mains []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			modules = append(modules, rel)
		}
		pkg, err := build.ImportDir(p, 0)
		var noGo *build.NoGoError
		switch {
		case errors.As(err, &noGo):
		case err != nil:
			t.Errorf("%s: %v", rel, err)
		case pkg.Name == "main":
			mains = append(mains, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []mainPackage
	for _, dir := range mains {
		m := mainPackage{dir: dir}
		for _, mod := range modules {
			if mod != "." && (dir == mod || strings.HasPrefix(dir, mod+"/")) && len(mod) > len(m.module) {
				m.module = mod
			}
		}
		out = append(out, m)
	}
	return out
}

// buildOutput is where `go build` writes the binary of a main package named
// base when run in dir (relative to root, "" for root): dir/base. It returns
// "" when dir/base is a directory: go build then stops ("build output
// already exists and is a directory") and writes nothing, as `go build
// ./conformance/cmd/responsesagent` does at the root.
func buildOutput(dir, base string) string {
	out := path.Join(dir, base)
	if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(out))); err == nil && fi.IsDir() {
		return ""
	}
	return out
}

// TestBuildOutputIgnored: the binary `go build` writes for each main
// package — in its own directory, at the root of its module (go build
// ./path/to/dir) and at the root of the repository (the same, for the root
// module; with a go.work for a nested one) — is git-ignored, so a build
// never leaves a file `git status` shows or `git add .` picks up.
func TestBuildOutputIgnored(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	if out, err := exec.Command(git, "-C", root, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Skip("not a git work tree")
	}
	mains := mainPackages(t)
	if len(mains) < 10 {
		t.Fatalf("found %d main packages, want the repository's (cmd/, examples/, conformance/cmd/, ...): %v", len(mains), mains)
	}
	for _, m := range mains {
		t.Run(m.dir, func(t *testing.T) {
			base := path.Base(m.dir)
			outputs := []string{buildOutput(m.dir, base), buildOutput("", base)}
			if m.module != "" {
				outputs = append(outputs, buildOutput(m.module, base))
			}
			for _, out := range outputs {
				if out == "" {
					continue
				}
				cmd := exec.Command(git, "-C", root, "check-ignore", "-q", "--", out)
				err := cmd.Run()
				var exit *exec.ExitError
				switch {
				case err == nil:
				case errors.As(err, &exit) && exit.ExitCode() == 1:
					t.Errorf("%s is not git-ignored: add /%s to .gitignore", out, out)
				default:
					t.Fatalf("git check-ignore %s: %v", out, err)
				}
			}
		})
	}
}
