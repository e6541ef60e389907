package localstore

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// tmpPrefix starts the name of every temporary file or directory this
// package creates. MLflow ignores such entries: they never hold a
// trace_info.yaml or meta.yaml, and they live only inside trace directories
// or the traces folder.
const tmpPrefix = ".mlflowtrace-tmp-"

// writeFileAtomic writes data to dst through a temporary file created in
// tmpDir (which must be on the same file system) and a rename, so readers see
// either the old content or the new one, never a part.
func writeFileAtomic(tmpDir, dst string, data []byte) error {
	f, err := os.CreateTemp(tmpDir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, 0o644)
	}
	if werr == nil {
		werr = os.Rename(name, dst)
	}
	if werr != nil {
		_ = os.Remove(name)
		return werr
	}
	return nil
}

// experimentIDPattern is MLflow's rule for experiment ids (and the names of
// experiment directories it recognises).
var experimentIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,63}$`)

// validKeyName reports whether MLflow's FileStore accepts key as a tag or
// metadata name (validate_param_and_metric_name and path_not_unique on
// POSIX): letters, digits, '_', '.', '-', ' ', ':' and '/', in a clean
// relative path whose parts fit in a file name. FileStore validates every
// key it reads back, so a key it would reject must never be written: one bad
// file makes the whole trace unreadable.
func validKeyName(key string) bool {
	if key == "" || path.Clean(key) != key || key == "." || strings.HasPrefix(key, "..") || strings.HasPrefix(key, "/") {
		return false
	}
	for _, r := range key {
		switch {
		case r == '/' || r == '_' || r == '.' || r == '-' || r == ' ' || r == ':':
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsNumber(r)) && r != 0xFFFD:
		default:
			return false
		}
	}
	for _, part := range strings.Split(key, "/") {
		if len(part) > 255 || strings.HasPrefix(part, tmpPrefix) {
			return false
		}
	}
	return true
}

// validTraceID reports whether id can name a trace directory that MLflow
// finds again: one plain path element.
func validTraceID(id string) bool {
	if id == "" || len(id) > 255 || strings.HasPrefix(id, ".") {
		return false
	}
	for _, r := range id {
		if !(r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':')) {
			return false
		}
	}
	return true
}

// fileURI returns the file URI of an absolute local path the way Python's
// pathlib.Path.as_uri (used by MLflow) spells it.
func fileURI(abs string) string {
	var b strings.Builder
	b.WriteString("file://")
	const hex = "0123456789ABCDEF"
	p := filepath.ToSlash(abs)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '.' || c == '-' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	return b.String()
}

// localPath returns the local directory an experiment artifact location
// designates: a file URI or a plain absolute path.
func localPath(location string) (string, error) {
	if strings.HasPrefix(location, "/") {
		return filepath.Clean(location), nil
	}
	u, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("parse artifact location %q: %w", location, err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("artifact location %q is not a local path: the local store writes only file: locations", location)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("artifact location %q names a remote host", location)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("artifact location %q is not absolute", location)
	}
	return filepath.Clean(filepath.FromSlash(p)), nil
}

func isExist(err error) bool {
	return errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty)
}
