package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// The field selection of `mlflow traces ... --extract-fields`
// (mlflow/utils/jsonpath_utils.py): dot paths, * wildcards, backticks around
// keys that contain dots.

// splitPath splits a path on dots, keeping `backticked` segments whole.
func splitPath(path string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '`':
			j := strings.IndexByte(path[i+1:], '`')
			if j < 0 {
				cur.WriteString(path[i+1:])
				i = len(path)
				continue
			}
			cur.WriteString(path[i+1 : i+1+j])
			i += j + 1
		case c == '.':
			if cur.Len() > 0 {
				parts = append(parts, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// extractValues returns the values at path (jsonpath_extract_values).
func extractValues(obj any, path string) []any {
	var walk func(cur any, parts []string) []any
	walk = func(cur any, parts []string) []any {
		if len(parts) == 0 {
			return []any{cur}
		}
		part, rest := parts[0], parts[1:]
		if part == "*" {
			var out []any
			switch x := cur.(type) {
			case *ordered:
				for _, k := range x.keys {
					out = append(out, walk(x.vals[k], rest)...)
				}
			case []any:
				for _, e := range x {
					out = append(out, walk(e, rest)...)
				}
			}
			return out
		}
		if m, ok := cur.(*ordered); ok {
			if v, ok := m.vals[part]; ok {
				return walk(v, rest)
			}
		}
		return nil
	}
	return walk(obj, splitPath(path))
}

// matchingPaths expands the wildcards of path against data
// (find_matching_paths).
func matchingPaths(data any, path string) []string {
	var out []string
	var walk func(cur any, parts []string, prefix string)
	walk = func(cur any, parts []string, prefix string) {
		if len(parts) == 0 {
			out = append(out, strings.TrimPrefix(prefix, "."))
			return
		}
		part, rest := parts[0], parts[1:]
		if part == "*" {
			switch x := cur.(type) {
			case *ordered:
				for _, k := range x.keys {
					walk(x.vals[k], rest, prefix+"."+k)
				}
			case []any:
				for i, e := range x {
					walk(e, rest, prefix+"."+strconv.Itoa(i))
				}
			}
			return
		}
		if m, ok := cur.(*ordered); ok {
			if v, ok := m.vals[part]; ok {
				walk(v, rest, prefix+"."+part)
			}
		}
	}
	walk(data, splitPath(path), "")
	return out
}

// filterFields keeps only the given paths of data, in its structure
// (filter_json_by_fields).
func filterFields(data any, paths []string) *ordered {
	expanded := map[string]bool{}
	var order []string
	add := func(p string) {
		if !expanded[p] {
			expanded[p] = true
			order = append(order, p)
		}
	}
	for _, p := range paths {
		if strings.Contains(p, "*") {
			for _, m := range matchingPaths(data, p) {
				add(m)
			}
		} else {
			add(p)
		}
	}
	result := newOrdered()
	for _, p := range order {
		parts := splitPath(p)
		v, ok := getNested(data, parts)
		if ok && v != nil {
			setNested(result, parts, v)
		}
	}
	return result
}

func getNested(data any, parts []string) (any, bool) {
	cur := data
	for _, p := range parts {
		switch x := cur.(type) {
		case *ordered:
			v, ok := x.vals[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// setNested sets a nested value, creating objects and lists on the way
// (set_nested_value).
func setNested(root *ordered, parts []string, v any) {
	var cur any = root
	for i, p := range parts[:len(parts)-1] {
		switch x := cur.(type) {
		case *ordered:
			next, ok := x.vals[p]
			if !ok {
				if isDigits(parts[i+1]) {
					next = &list{}
				} else {
					next = newOrdered()
				}
				x.set(p, next)
			}
			cur = next
		case *list:
			idx, _ := strconv.Atoi(p)
			for len(x.items) <= idx {
				x.items = append(x.items, newOrdered())
			}
			cur = x.items[idx]
		default:
			return
		}
	}
	last := parts[len(parts)-1]
	switch x := cur.(type) {
	case *ordered:
		x.set(last, v)
	case *list:
		if idx, err := strconv.Atoi(last); err == nil {
			for len(x.items) <= idx {
				x.items = append(x.items, nil)
			}
			x.items[idx] = v
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validatePaths reports the paths without a wildcard that do not exist in
// sample (validate_field_paths), with MLflow's message.
func validatePaths(paths []string, sample any, verbose bool) error {
	var invalid []string
	for _, p := range paths {
		if strings.Contains(p, "*") {
			continue
		}
		if len(extractValues(sample, p)) == 0 {
			invalid = append(invalid, p)
		}
	}
	if len(invalid) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("❌ Invalid field path(s):\n")
	for _, p := range invalid {
		b.WriteString("   • " + p + "\n")
	}
	b.WriteString("\n💡 Use dot notation to specify nested fields:")
	b.WriteString("\n   Examples: info.trace_id, info.state, info.assessments.*")
	fields := fieldSuggestions(sample)
	if len(fields) > 0 {
		b.WriteString("\n\n📋 Available fields in this data:\n")
		var info, data []string
		for _, f := range fields {
			switch {
			case strings.HasPrefix(f, "info."):
				info = append(info, f)
			case strings.HasPrefix(f, "data."):
				data = append(data, f)
			}
		}
		if verbose {
			if len(info) > 0 {
				b.WriteString("   Info fields:\n")
				for _, f := range info {
					b.WriteString("     • " + f + "\n")
				}
			}
			if len(data) > 0 {
				b.WriteString("   Data fields:\n")
				for _, f := range data {
					b.WriteString("     • " + f + "\n")
				}
			}
		} else {
			if len(info) > 0 {
				b.WriteString("   info.*: " + strings.Join(info[:min(8, len(info))], ", "))
				if len(info) > 8 {
					fmt.Fprintf(&b, ", ... (+%d more)", len(info)-8)
				}
				b.WriteString("\n")
			}
			if len(data) > 0 {
				b.WriteString("   data.*: " + strings.Join(data[:min(5, len(data))], ", "))
				if len(data) > 5 {
					fmt.Fprintf(&b, ", ... (+%d more)", len(data)-5)
				}
				b.WriteString("\n")
			}
			b.WriteString("\n💡 Tip: Use --verbose flag to see all available fields")
		}
	}
	return usageError(b.String())
}

func fieldSuggestions(data any) []string {
	seen := map[string]bool{}
	var collect func(obj any, cur string)
	collect = func(obj any, cur string) {
		switch x := obj.(type) {
		case *ordered:
			for _, k := range x.keys {
				p := k
				if cur != "" {
					p = cur + "." + k
				}
				seen[p] = true
				if strings.Count(cur, ".") < 2 {
					collect(x.vals[k], p)
				}
			}
		case []any:
			if len(x) == 0 {
				return
			}
			p := "*"
			if cur != "" {
				p = cur + ".*"
			}
			seen[p] = true
			if m, ok := x[0].(*ordered); ok {
				collect(m, p)
			}
		}
	}
	collect(data, "")
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- an order-keeping JSON value ----------------------------------------------

// ordered is a JSON object that keeps its key order (Python dicts do).
type ordered struct {
	keys []string
	vals map[string]any
}

func newOrdered() *ordered { return &ordered{vals: map[string]any{}} }

// PyItems makes an ordered an encode.PyDict: Python's str() of it keeps
// the key order.
func (o *ordered) PyItems() ([]string, []any) {
	vals := make([]any, len(o.keys))
	for i, k := range o.keys {
		vals[i] = o.vals[k]
	}
	return o.keys, vals
}

func (o *ordered) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// list is a JSON list being built by setNested.
type list struct{ items []any }

// decodeOrdered decodes JSON text into *ordered, []any, json.Number, string,
// bool and nil.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			out := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
		o := newOrdered()
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(k.(string), v)
		}
		_, err := dec.Token()
		return o, err
	}
	return tok, nil
}

// appendJSON writes v (from decodeOrdered or setNested) as compact JSON.
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case *ordered:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = encode.AppendString(b, k, false)
			b = append(b, ':')
			b = appendJSON(b, x.vals[k])
		}
		return append(b, '}')
	case *list:
		return appendJSON(b, x.items)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case json.Number:
		return append(b, x...)
	case string:
		return encode.AppendString(b, x, false)
	case bool:
		return strconv.AppendBool(b, x)
	}
	return append(b, "null"...)
}

// tableCell formats the values of field for the table output
// (format_table_cell_value).
func tableCell(field string, values []any) string {
	if len(values) == 0 {
		return "N/A"
	}
	var cell string
	if len(values) == 1 {
		cell = encode.PyStr(values[0])
	} else {
		parts := make([]string, 0, 3)
		for _, v := range values[:min(3, len(values))] {
			parts = append(parts, encode.PyStr(v))
		}
		cell = strings.Join(parts, ", ")
		if len(values) > 3 {
			cell += fmt.Sprintf(", ... (+%d more)", len(values)-3)
		}
	}
	switch field {
	case "info.request_time":
		if t, err := time.Parse(time.RFC3339Nano, cell); err == nil {
			cell = t.UTC().Format("2006-01-02 15:04:05") + " UTC"
		}
	case "info.request_preview", "info.response_preview":
		// "to keep table readable": more than 20 characters (code points,
		// Python's len) become the first 17 and "...".
		if r := []rune(cell); len(r) > 20 {
			cell = string(r[:17]) + "..."
		}
	case "info.execution_duration_ms":
		if f, err := strconv.ParseFloat(cell, 64); err == nil {
			if f < 1000 {
				cell = strconv.Itoa(int(f)) + "ms"
			} else {
				cell = strconv.FormatFloat(f/1000, 'f', 1, 64) + "s"
			}
		}
	}
	return cell
}

// table lays rows out as MLflow's _create_table does.
func table(rows [][]string, headers []string) string {
	if len(rows) == 0 {
		return "\n"
	}
	widths := make([]int, len(headers))
	for j, h := range headers {
		w := max(len([]rune(h))+2, 4)
		for _, r := range rows {
			w = max(w, len([]rune(r[j])))
		}
		widths[j] = w
	}
	pad := func(s string, w int) string { return s + strings.Repeat(" ", max(0, w-len([]rune(s)))) }
	var lines []string
	cells := make([]string, len(headers))
	for j, h := range headers {
		cells[j] = pad(h, widths[j])
	}
	lines = append(lines, strings.Join(cells, "  "))
	for j := range headers {
		cells[j] = strings.Repeat("-", widths[j])
	}
	lines = append(lines, strings.Join(cells, "  "))
	for _, r := range rows {
		for j := range headers {
			cells[j] = pad(r[j], widths[j])
		}
		lines = append(lines, strings.Join(cells, "  "))
	}
	return strings.Join(lines, "\n")
}
