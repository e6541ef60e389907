// Package tracefilter evaluates MLflow's trace search syntax on trace infos
// in memory, the subset MLflow 3.17.2's FileStore evaluates
// (SearchTraceUtils.filter / sort / paginate in mlflow/utils/search_utils.py):
//
//   - filter: AND-ed comparisons of trace attributes (request_id,
//     timestamp[_ms], execution_time[_ms], status, client_request_id, and
//     name / prompt / run_id, which MLflow maps to the tag mlflow.traceName,
//     the tag mlflow.linkedPrompts and the metadata mlflow.sourceRun), tags
//     (tag., tags.) and metadata (metadata., request_metadata.) with =, !=,
//     LIKE, ILIKE, IN, NOT IN (attributes), <, <=, >, >= (numeric
//     attributes), IS NULL and IS NOT NULL (tags, metadata);
//   - order_by: attributes (timestamp[_ms], execution_time[_ms], status,
//     request_id, experiment_id), ASC or DESC, then MLflow's tie-breakers
//     (timestamp_ms DESC, request_id ASC);
//   - page tokens: base64 of {"offset": N}, as the FileStore writes them.
//
// What the FileStore cannot evaluate is an error naming the part: OR, span.*,
// feedback.*, expectation.*, issue.* and text (they need a database), RLIKE,
// and end_time (MLflow's FileStore fails on them). A malformed filter gets
// MLflow's message.
package tracefilter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// ErrInvalid wraps every error about a filter, an order_by clause or a page
// token.
var ErrInvalid = errors.New("invalid search")

// Entity types of a clause.
const (
	TypeAttribute = "attribute"
	TypeTag       = "tag"
	TypeMetadata  = "request_metadata"
	TypeSpan      = "span"
	TypeFeedback  = "feedback"
	TypeExpect    = "expectation"
	TypeIssue     = "issue"
)

var entityAliases = map[string]string{
	"attribute": TypeAttribute, "attributes": TypeAttribute, "trace": TypeAttribute,
	"tag": TypeTag, "tags": TypeTag,
	"request_metadata": TypeMetadata, "metadata": TypeMetadata,
	"span": TypeSpan, "feedback": TypeFeedback, "expectation": TypeExpect, "issue": TypeIssue,
}

var validSearchAttributes = []string{"client_request_id", "end_time", "end_time_ms", "execution_time", "execution_time_ms",
	"name", "prompt", "request_id", "run_id", "status", "text", "timestamp", "timestamp_ms"}

var validOrderAttributes = []string{"end_time", "end_time_ms", "execution_time", "execution_time_ms", "experiment_id",
	"name", "request_id", "run_id", "status", "timestamp", "timestamp_ms"}

var numericAttributes = map[string]bool{"timestamp_ms": true, "timestamp": true, "execution_time_ms": true,
	"execution_time": true, "end_time_ms": true, "end_time": true}

var inListAttributes = map[string]bool{"name": true, "status": true, "request_id": true, "run_id": true, "client_request_id": true}

// Clause is one comparison of a filter.
type Clause struct {
	Type       string
	Key        string
	Comparator string // upper case
	// Value is a string, an int64 or float64, a []string (IN lists) or nil
	// (IS NULL).
	Value any
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Parse parses a filter string. It accepts what MLflow's parser accepts
// (span and assessment clauses included); Match then refuses what the
// FileStore cannot evaluate.
func Parse(filter string) ([]Clause, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, nil
	}
	toks, err := lex(filter)
	if err != nil {
		return nil, err
	}
	var out []Clause
	p := &parser{toks: toks}
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if p.done() {
			return out, nil
		}
		t := p.next()
		if !t.is(tokWord, "AND") {
			return nil, invalid("invalid clause(s) in filter string: %q (only AND-ed comparisons are supported)", t.text)
		}
	}
}

type tokKind int

const (
	tokWord tokKind = iota // identifier, keyword
	tokString
	tokNumber
	tokOp
	tokList
)

type token struct {
	kind tokKind
	text string   // raw text
	str  string   // unquoted string value
	list []string // tokList
}

func (t token) is(kind tokKind, word string) bool {
	return t.kind == kind && strings.EqualFold(t.text, word)
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			str, n, err := quoted(s[i:], '\'')
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokString, text: s[i : i+n], str: str})
			i += n
		case c == '(':
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				return nil, invalid("unbalanced parenthesis in filter %q", s)
			}
			list, err := parseList(s[i+1 : i+j])
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tokList, text: s[i : i+j+1], list: list})
			i += j + 1
		case c == ',':
			out = append(out, token{kind: tokOp, text: ","})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			n := 1
			if i+1 < len(s) && s[i+1] == '=' {
				n = 2
			}
			op := s[i : i+n]
			if op == "!" {
				return nil, invalid("invalid comparator in filter %q", s)
			}
			out = append(out, token{kind: tokOp, text: op})
			i += n
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			if j < len(s) && (isWordByte(s[j])) {
				return nil, invalid("invalid value %q in filter", s[i:j+1])
			}
			out = append(out, token{kind: tokNumber, text: s[i:j]})
			i = j
		default:
			j := i
			for j < len(s) {
				switch {
				case s[j] == '`' || s[j] == '"':
					_, n, err := quoted(s[j:], s[j])
					if err != nil {
						return nil, err
					}
					j += n
					continue
				case isWordByte(s[j]) || s[j] == '.' || s[j] >= 0x80:
					j++
					continue
				}
				break
			}
			if j == i {
				return nil, invalid("unexpected character %q in filter", string(c))
			}
			word := s[i:j]
			if len(word) >= 2 && word[0] == '"' && word[len(word)-1] == '"' && !strings.Contains(word[1:len(word)-1], `"`) {
				// A double-quoted string is an identifier to SQL; MLflow
				// takes it as a string value.
				out = append(out, token{kind: tokString, text: word, str: word[1 : len(word)-1]})
			} else {
				out = append(out, token{kind: tokWord, text: word})
			}
			i = j
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == ':' || c == '/' || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
}

// quoted reads a string quoted with q at the start of s (” or \' inside
// escapes a quote); it returns the content and the bytes consumed.
func quoted(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == q:
			b.WriteByte(q)
			i++
		case s[i] == q && i+1 < len(s) && s[i+1] == q && q == '\'':
			b.WriteByte(q)
			i++
		case s[i] == q:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, invalid("unterminated quoted string %s", s)
}

func parseList(s string) ([]string, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, t := range toks {
		if i%2 == 1 {
			if t.kind != tokOp || t.text != "," {
				return nil, invalid("while parsing a list in the query, expected a comma, got %s", t.text)
			}
			continue
		}
		if t.kind != tokString {
			return nil, invalid("while parsing a list in the query, expected a non-empty list of string values, but got %s", t.text)
		}
		out = append(out, t.str)
	}
	if len(out) == 0 {
		return nil, invalid("while parsing a list in the query, expected a non-empty list of string values, but got empty list")
	}
	return out, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) next() token {
	if p.done() {
		return token{}
	}
	t := p.toks[p.pos]
	p.pos++
	return t
}

func (p *parser) clause() (Clause, error) {
	id := p.next()
	if id.kind != tokWord {
		return Clause{}, invalid("invalid comparison clause: expected an identifier, found %q", id.text)
	}
	c, err := identifier(id.text, validSearchAttributes)
	if err != nil {
		return Clause{}, err
	}
	op := p.next()
	switch {
	case op.kind == tokOp:
		c.Comparator = op.text
	case op.is(tokWord, "LIKE"), op.is(tokWord, "ILIKE"), op.is(tokWord, "RLIKE"), op.is(tokWord, "IN"):
		c.Comparator = strings.ToUpper(op.text)
	case op.is(tokWord, "NOT"):
		if in := p.next(); !in.is(tokWord, "IN") {
			return Clause{}, invalid("invalid comparison clause after NOT: %q", in.text)
		}
		c.Comparator = "NOT IN"
	case op.is(tokWord, "IS"):
		t := p.next()
		c.Comparator = "IS NULL"
		if t.is(tokWord, "NOT") {
			c.Comparator = "IS NOT NULL"
			t = p.next()
		}
		if !t.is(tokWord, "NULL") {
			return Clause{}, invalid("invalid comparison clause: expected NULL after IS, found %q", t.text)
		}
		return c, checkComparator(c)
	default:
		return Clause{}, invalid("invalid comparison clause for %q: expected a comparator, found %q", id.text, op.text)
	}
	v := p.next()
	switch v.kind {
	case tokString:
		c.Value = v.str
	case tokNumber:
		if c.Type == TypeAttribute && !numericAttributes[c.Key] {
			return Clause{}, invalid("only the '%s' attributes support comparison with numeric values", "timestamp_ms, execution_time_ms, end_time_ms")
		}
		if c.Type == TypeTag || c.Type == TypeMetadata || c.Type == TypeSpan || c.Type == TypeIssue {
			return Clause{}, invalid("expected a quoted string value for %s (e.g. 'my-value'), got value %s", c.Type, v.text)
		}
		if n, err := strconv.ParseInt(v.text, 10, 64); err == nil {
			c.Value = n
		} else if f, err := strconv.ParseFloat(v.text, 64); err == nil {
			c.Value = f
		} else {
			return Clause{}, invalid("invalid number %q", v.text)
		}
	case tokList:
		if c.Type == TypeAttribute && !inListAttributes[c.Key] {
			return Clause{}, invalid("only attributes in %v support comparison with a list of quoted string values", sortedKeys(inListAttributes))
		}
		c.Value = v.list
	default:
		return Clause{}, invalid("expected a quoted string value for %s, got value %q", c.Type, v.text)
	}
	return c, checkComparator(c)
}

// identifier splits "<entity>.<key>" (a bare key is an attribute), applies
// MLflow's aliases (name, prompt, run_id, text, timestamp, ...) and checks
// attribute keys against valid.
func identifier(s string, valid []string) (Clause, error) {
	entity, key, found := strings.Cut(s, ".")
	if !found {
		entity, key = TypeAttribute, s
	}
	typ, ok := entityAliases[strings.Trim(entity, "`")]
	if !ok {
		return Clause{}, invalid("invalid entity type '%s'. Valid values are tag(s), attribute(s), trace, metadata, request_metadata, span, feedback, expectation, issue", strings.Trim(entity, "`"))
	}
	if len(key) >= 2 && (key[0] == '\'' || key[0] == '"') && key[len(key)-1] == key[0] {
		key = key[1 : len(key)-1]
	}
	key = strings.TrimSuffix(strings.TrimPrefix(key, "`"), "`")
	if typ == TypeAttribute && !slices.Contains(valid, key) {
		return Clause{}, invalid("invalid attribute key '%s' specified. Valid keys are %v", key, valid)
	}
	c := Clause{Type: typ, Key: key}
	if typ == TypeSpan {
		return c, nil
	}
	switch strings.ToLower(key) {
	case "name":
		c.Type, c.Key = TypeTag, "mlflow.traceName"
	case "prompt":
		c.Type, c.Key = TypeTag, "mlflow.linkedPrompts"
	case "run_id":
		c.Type, c.Key = TypeMetadata, "mlflow.sourceRun"
	case "text":
		c.Type, c.Key = TypeSpan, "content"
	case "timestamp":
		c.Key = "timestamp_ms"
	case "execution_time":
		c.Key = "execution_time_ms"
	case "end_time":
		c.Key = "end_time_ms"
	}
	return c, nil
}

var comparators = map[string][]string{
	TypeTag:      {"!=", "=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL"},
	TypeMetadata: {"!=", "=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL"},
	"string":     {"!=", "=", "IN", "NOT IN", "LIKE", "ILIKE", "RLIKE"},
	"numeric":    {">", ">=", "!=", "=", "<", "<="},
}

func checkComparator(c Clause) error {
	kind := c.Type
	if kind == TypeAttribute {
		kind = "string"
		if numericAttributes[c.Key] {
			kind = "numeric"
		}
	}
	valid, ok := comparators[kind]
	if !ok {
		return nil // span / assessment clauses: refused by Match
	}
	if !slices.Contains(valid, c.Comparator) {
		return invalid("invalid comparator '%s' not one of %v", c.Comparator, valid)
	}
	return nil
}

// Supported reports whether the FileStore can evaluate c: an error naming
// the unsupported part otherwise.
func (c Clause) Supported() error {
	switch {
	case c.Type == TypeSpan:
		return invalid("span filters (%s) need a database: a local ./mlruns store cannot evaluate them (use an MLflow tracking server)", "span."+c.Key)
	case c.Type == TypeFeedback || c.Type == TypeExpect || c.Type == TypeIssue:
		return invalid("assessment filters (%s.%s) need a database: a local ./mlruns store cannot evaluate them (use an MLflow tracking server)", c.Type, c.Key)
	case c.Comparator == "RLIKE":
		return invalid("RLIKE is not supported on a local ./mlruns store (MLflow's FileStore cannot evaluate it): use LIKE or ILIKE")
	case c.Type == TypeAttribute && c.Key == "end_time_ms":
		return invalid("end_time is not supported on a local ./mlruns store (MLflow's FileStore cannot evaluate it): filter on timestamp_ms and execution_time_ms")
	}
	return nil
}

// Match evaluates the clauses on info (all must hold).
func Match(clauses []Clause, info *tracemodel.TraceInfo) (bool, error) {
	for _, c := range clauses {
		if err := c.Supported(); err != nil {
			return false, err
		}
		ok, err := c.match(info)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (c Clause) match(info *tracemodel.TraceInfo) (bool, error) {
	var lhs any
	switch c.Type {
	case TypeTag, TypeMetadata:
		m := info.Tags
		if c.Type == TypeMetadata {
			m = info.Metadata
		}
		v, ok := m[c.Key]
		switch c.Comparator {
		case "IS NULL":
			return !ok, nil
		case "IS NOT NULL":
			return ok, nil
		}
		if !ok {
			return false, nil
		}
		lhs = v
	default:
		v, ok := attribute(info, c.Key)
		if !ok {
			return false, nil
		}
		lhs = v
	}
	return compare(c.Comparator, lhs, c.Value)
}

// attribute returns the trace attribute key as MLflow's TraceInfo exposes
// it (ok false for a missing optional value).
func attribute(info *tracemodel.TraceInfo, key string) (any, bool) {
	switch key {
	case "timestamp_ms":
		return info.RequestTime.UnixMilli(), true
	case "execution_time_ms":
		return info.ExecutionDuration.Milliseconds(), true
	case "status":
		return Status(info.State), true
	case "request_id":
		return info.TraceID, true
	case "client_request_id":
		return info.ClientRequestID, info.ClientRequestID != ""
	case "experiment_id":
		return info.ExperimentID, true
	}
	return nil, false
}

// Status returns MLflow's deprecated TraceStatus of a state, what
// FileStore filters compare "status" with.
func Status(state string) string {
	switch state {
	case "", "STATE_UNSPECIFIED":
		return "TRACE_STATUS_UNSPECIFIED"
	}
	return state
}

func compare(op string, lhs, rhs any) (bool, error) {
	switch l := lhs.(type) {
	case string:
		switch r := rhs.(type) {
		case string:
			switch op {
			case "=":
				return l == r, nil
			case "!=":
				return l != r, nil
			case "LIKE":
				return like(r, false).MatchString(l), nil
			case "ILIKE":
				return like(r, true).MatchString(l), nil
			case ">", ">=", "<", "<=":
				return cmpOrdered(op, strings.Compare(l, r)), nil
			}
		case []string:
			switch op {
			case "IN":
				return slices.Contains(r, l), nil
			case "NOT IN":
				return !slices.Contains(r, l), nil
			}
		}
		return false, invalid("cannot compare %q with %v using %s", l, rhs, op)
	case int64:
		var r float64
		switch x := rhs.(type) {
		case int64:
			r = float64(x)
		case float64:
			r = x
		default:
			return false, invalid("a numeric attribute needs a numeric value, got %q", fmt.Sprint(rhs))
		}
		lf := float64(l)
		switch {
		case lf < r:
			return cmpOrdered(op, -1), nil
		case lf > r:
			return cmpOrdered(op, 1), nil
		}
		return cmpOrdered(op, 0), nil
	}
	return false, nil
}

func cmpOrdered(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// like compiles a SQL LIKE pattern as MLflow's _like does (% any run, _ one
// character, anchored unless the pattern starts or ends with %).
func like(pattern string, fold bool) *regexp.Regexp {
	re := regexp.QuoteMeta(pattern)
	re = strings.ReplaceAll(re, "%", ".*")
	re = strings.ReplaceAll(re, "_", ".")
	if !strings.HasPrefix(pattern, "%") {
		re = "^" + re
	}
	if !strings.HasSuffix(pattern, "%") {
		re += "$"
	}
	if fold {
		re = "(?i)" + re
	}
	return regexp.MustCompile("(?s)" + re)
}

// Order is one order_by clause.
type Order struct {
	Key string // an attribute
	Asc bool
}

// ParseOrderBy parses order_by clauses ("timestamp_ms DESC", "status") and
// appends MLflow's tie-breakers (timestamp_ms DESC, request_id ASC).
func ParseOrderBy(clauses []string) ([]Order, error) {
	var out []Order
	for _, s := range clauses {
		fields := strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "`", ""))
		if len(fields) == 0 || len(fields) > 2 {
			return nil, invalid("invalid order_by clause '%s'. Could not be parsed.", s)
		}
		asc := true
		if len(fields) == 2 {
			switch strings.ToLower(fields[1]) {
			case "asc":
			case "desc":
				asc = false
			default:
				return nil, invalid("invalid ordering key in order_by clause '%s'.", s)
			}
		}
		c, err := identifier(fields[0], validOrderAttributes)
		if err != nil {
			return nil, err
		}
		if c.Type != TypeAttribute {
			return nil, invalid("invalid order_by entity `%s` with key `%s`", c.Type, c.Key)
		}
		if c.Key == "end_time_ms" {
			return nil, invalid("ordering by end_time is not supported on a local ./mlruns store (MLflow's FileStore cannot evaluate it)")
		}
		out = append(out, Order{Key: c.Key, Asc: asc})
	}
	if !slices.ContainsFunc(out, func(o Order) bool { return o.Key == "timestamp_ms" }) {
		out = append(out, Order{Key: "timestamp_ms"})
	}
	if !slices.ContainsFunc(out, func(o Order) bool { return o.Key == "request_id" }) {
		out = append(out, Order{Key: "request_id", Asc: true})
	}
	return out, nil
}

// Sort sorts infos stably by orders.
func Sort(infos []*tracemodel.TraceInfo, orders []Order) {
	slices.SortStableFunc(infos, func(a, b *tracemodel.TraceInfo) int {
		for _, o := range orders {
			av, aok := attribute(a, o.Key)
			bv, bok := attribute(b, o.Key)
			switch {
			case !aok && !bok:
				continue
			case !aok:
				return 1 // a missing value sorts last, both ways
			case !bok:
				return -1
			}
			c := cmpAny(av, bv)
			if !o.Asc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

func cmpAny(a, b any) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}

// PageOffset reads the offset of a FileStore page token ("" is 0).
func PageOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return 0, invalid("invalid page token, could not base64-decode")
	}
	var t struct {
		Offset json.Number `json:"offset"`
	}
	if err := json.Unmarshal(raw, &t); err != nil || t.Offset == "" {
		return 0, invalid("invalid page token, decoded value=%s", raw)
	}
	n, err := t.Offset.Int64()
	if err != nil || n < 0 {
		return 0, invalid("invalid page token, not stringable %s", t.Offset)
	}
	return int(n), nil
}

// PageToken returns the FileStore page token of offset.
func PageToken(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"offset": ` + strconv.Itoa(offset) + `}`))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
