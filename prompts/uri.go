package prompts

import (
	"strconv"
	"strings"
	"unicode"
)

// ref is what Load asks the registry for: a version of a prompt, or the
// version an alias of it points to ("latest": the highest).
type ref struct {
	uri     string // "prompts:/name/version" or "prompts:/name@alias"
	name    string
	version string // the URI's digits, when by version
	alias   string // when by alias
}

// byAlias reports whether the URI names an alias; MLflow picks the cache
// TTL by the same test ("@" anywhere in the URI).
func (r ref) byAlias() bool { return strings.Contains(r.uri, "@") }

const uriPrefix = "prompts:/"

// parseRef reads what load_prompt reads: a prompt URI
// ("prompts:/<name>/<version>", "prompts:/<name>@<alias>") or a name, with
// version (hasVersion) or without (its latest version: "@latest"), with
// MLflow's rules (parse_prompt_name_or_uri, then _parse_model_uri with the
// prompts scheme, which parses the URI as urllib does) and messages.
func parseRef(nameOrURI string, version int, hasVersion bool) (ref, error) {
	uri := nameOrURI
	switch {
	case strings.HasPrefix(nameOrURI, uriPrefix):
		if hasVersion {
			return ref{}, invalid("INVALID_PARAMETER_VALUE", "The `version` argument should not be specified when loading a prompt by URI.")
		}
	case hasVersion:
		uri = uriPrefix + nameOrURI + "/" + strconv.Itoa(version)
	default:
		uri = uriPrefix + nameOrURI + "@latest"
	}
	r := ref{uri: uri}
	improper := invalid("INTERNAL_ERROR", "Not a proper prompts:/ URI: "+uri+". Prompts URIs must be of the form "+
		"'prompts:/name/suffix' or 'prompts:/name@alias' where suffix is a version and where alias is a "+
		"registered prompt alias. Only one of suffix or alias can be defined at a time.")
	path := urlPath(uri)
	if !strings.HasPrefix(path, "/") || len(path) <= 1 {
		return ref{}, improper
	}
	parts := strings.Split(strings.TrimLeft(path, "/"), "/")
	if len(parts) > 2 || pyStrip(parts[0]) == "" {
		return ref{}, improper
	}
	switch {
	case len(parts) == 2:
		if !isDigits(parts[1]) { // a stage or "latest": models only
			return ref{}, improper
		}
		r.name, r.version = parts[0], parts[1]
	case strings.Contains(path, "@"):
		i := strings.LastIndexByte(parts[0], '@')
		if pyStrip(parts[0][i+1:]) == "" {
			return ref{}, improper
		}
		r.name, r.alias = parts[0][:i], parts[0][i+1:]
	default: // "prompts:/<name>": a model id for models
		return ref{}, invalid("INVALID_PARAMETER_VALUE", "Invalid prompt URI format: "+uri)
	}
	return r, nil
}

// urlPath is the path urllib.parse.urlparse finds in a prompts: URI
// (allow_fragments=False): tabs and newlines removed, the scheme and a
// //netloc dropped, the query cut off (the prompts scheme has no ;params).
func urlPath(uri string) string {
	uri = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, uri)
	rest := strings.TrimPrefix(uri, "prompts:")
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// pyStrip is Python's str.strip(): Unicode whitespace (str.isspace) off
// both ends.
func pyStrip(s string) string { return strings.TrimFunc(s, isPySpace) }

func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pyInt is Python's int() of a version or an alias: surrounding whitespace,
// a sign and underscores between digits allowed.
func pyInt(s string) (int, bool) {
	s = pyStrip(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || strings.ContainsAny(s, "+-") {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}
