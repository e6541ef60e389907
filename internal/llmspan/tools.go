package llmspan

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// Tool is one tool definition as a request gives it: Present lists the
// members the definition has (MLflow records only those, as pydantic's
// model_dump(exclude_unset=True) does).
type Tool struct {
	Name        json.RawMessage
	Description json.RawMessage // nil: absent
	Parameters  json.RawMessage // nil: absent
	Strict      json.RawMessage // nil: absent
}

var errSchema = errors.New("llmspan: tool schema MLflow does not accept")

// ChatTools returns the value MLflow records as mlflow.chat.tools for tools:
// a list of {"type": "function", "function": {...}} in the shape of MLflow's
// ChatTool model (mlflow/types/chat.py): the function's name, description,
// parameters and strict, in that order and only when given; parameters keep
// properties, type, required and additionalProperties, and each property its
// type, description, enum and items — the members MLflow's model has, in its
// order; other JSON-schema keywords are dropped, as MLflow drops them. It
// returns ok false when MLflow's model would reject a definition (MLflow
// then records no tools).
func ChatTools(tools []Tool) (json.RawMessage, bool) {
	out := []byte{'['}
	for i, t := range tools {
		if len(t.Name) == 0 || String(t.Name) == "" {
			return nil, false
		}
		var fn Object
		fn.Set("name", t.Name)
		if t.Description != nil {
			if !IsNull(t.Description) && !isJSONString(t.Description) {
				return nil, false
			}
			fn.Set("description", t.Description)
		}
		if t.Parameters != nil {
			if IsNull(t.Parameters) {
				fn.Set("parameters", json.RawMessage("null"))
			} else {
				p, err := functionParams(t.Parameters)
				if err != nil {
					return nil, false
				}
				fn.Set("parameters", p)
			}
		}
		if t.Strict != nil {
			if s := string(t.Strict); s != "true" && s != "false" && s != "null" {
				return nil, false
			}
			fn.Set("strict", t.Strict)
		}
		var tool Object
		tool.Set("type", "function")
		tool.Set("function", fn.JSON())
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, tool.JSON()...)
	}
	return append(out, ']'), true
}

// ToolList is ChatTools of a request's list of tool definitions (raw):
// tool gives the Tool of one definition from its members, or ok false when
// MLflow rejects the definition (MLflow then records no tools); so does a
// list that is not an array of objects.
func ToolList(raw json.RawMessage, tool func(fields []Field) (Tool, bool)) (json.RawMessage, bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	tools := make([]Tool, 0, len(list))
	for _, item := range list {
		fields, err := ObjectFields(item)
		if err != nil {
			return nil, false
		}
		t, ok := tool(fields)
		if !ok {
			return nil, false
		}
		tools = append(tools, t)
	}
	return ChatTools(tools)
}

func isJSONString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// functionParams is MLflow's FunctionParams: properties (required),
// type ("object"), required, additionalProperties.
func functionParams(v json.RawMessage) (json.RawMessage, error) {
	fields, err := ObjectFields(v)
	if err != nil {
		return nil, errSchema
	}
	var o Object
	props, ok := Lookup(fields, "properties")
	if !ok {
		return nil, errSchema
	}
	pf, err := ObjectFields(props)
	if err != nil {
		return nil, errSchema
	}
	var po Object
	for _, f := range pf {
		p, err := paramProperty(f.Value)
		if err != nil {
			return nil, err
		}
		po.Set(f.Key, p)
	}
	o.Set("properties", po.JSON())
	if t, ok := Lookup(fields, "type"); ok {
		if String(t) != "object" {
			return nil, errSchema
		}
		o.Set("type", t)
	}
	if r, ok := Lookup(fields, "required"); ok {
		var rs []string
		if !IsNull(r) && json.Unmarshal(r, &rs) != nil {
			return nil, errSchema
		}
		o.Set("required", r)
	}
	if a, ok := Lookup(fields, "additionalProperties"); ok {
		if s := string(a); s != "true" && s != "false" && s != "null" {
			return nil, errSchema
		}
		o.Set("additionalProperties", a)
	}
	return o.JSON(), nil
}

var allowedTypes = map[string]bool{"string": true, "number": true, "integer": true, "object": true, "array": true, "boolean": true, "null": true}

// ParamType reports whether MLflow's ParamProperty accepts t as a
// property's type: null, one of JSON schema's type names, or a list of them.
func ParamType(t json.RawMessage) bool {
	if IsNull(t) {
		return true
	}
	var s string
	if json.Unmarshal(t, &s) == nil {
		return allowedTypes[s]
	}
	var l []string
	if json.Unmarshal(t, &l) != nil {
		return false
	}
	for _, x := range l {
		if !allowedTypes[x] {
			return false
		}
	}
	return true
}

// paramProperty is MLflow's ParamProperty: type, description, enum, items.
func paramProperty(v json.RawMessage) (json.RawMessage, error) {
	fields, err := ObjectFields(v)
	if err != nil {
		return nil, errSchema
	}
	var o Object
	if t, ok := Lookup(fields, "type"); ok {
		if !ParamType(t) {
			return nil, errSchema
		}
		o.Set("type", t)
	}
	if d, ok := Lookup(fields, "description"); ok {
		if !IsNull(d) && !isJSONString(d) {
			return nil, errSchema
		}
		o.Set("description", d)
	}
	if e, ok := Lookup(fields, "enum"); ok {
		if !IsNull(e) {
			var vals []any
			if json.Unmarshal(e, &vals) != nil {
				return nil, errSchema
			}
			for _, x := range vals {
				switch x.(type) {
				case string, float64, bool:
				default:
					return nil, errSchema
				}
			}
		}
		o.Set("enum", e)
	}
	if it, ok := Lookup(fields, "items"); ok {
		if IsNull(it) {
			o.Set("items", it)
		} else {
			p, err := paramProperty(it)
			if err != nil {
				return nil, err
			}
			o.Set("items", p)
		}
	}
	return o.JSON(), nil
}

// ToolsCache remembers the last tools conversion: an agent sends the same
// tool definitions with every call, so each client converts (and encodes)
// them once. The zero value is ready to use; it is safe for concurrent use.
type ToolsCache struct {
	mu   sync.Mutex
	raw  []byte
	val  json.RawMessage
	text encode.Formatted // val encoded, when ok
	ok   bool
}

// Get returns convert(raw), from the cache when raw is the last one seen.
func (c *ToolsCache) Get(raw json.RawMessage, convert func(json.RawMessage) (json.RawMessage, bool)) (json.RawMessage, bool) {
	v, _, ok := c.get(raw, convert)
	return v, ok
}

// Attribute returns convert(raw) as the span attribute records it
// (encoded), from the cache when raw is the last one seen.
func (c *ToolsCache) Attribute(raw json.RawMessage, convert func(json.RawMessage) (json.RawMessage, bool)) (encode.Formatted, bool) {
	_, text, ok := c.get(raw, convert)
	return text, ok
}

func (c *ToolsCache) get(raw json.RawMessage, convert func(json.RawMessage) (json.RawMessage, bool)) (json.RawMessage, encode.Formatted, bool) {
	c.mu.Lock()
	if c.raw != nil && bytes.Equal(c.raw, raw) {
		v, text, ok := c.val, c.text, c.ok
		c.mu.Unlock()
		return v, text, ok
	}
	c.mu.Unlock()
	v, ok := convert(raw)
	var text encode.Formatted
	if ok {
		text = encode.Formatted(encode.JSON(v))
	}
	if len(raw) <= 1<<20 {
		c.mu.Lock()
		c.raw, c.val, c.text, c.ok = append([]byte(nil), raw...), v, text, ok
		c.mu.Unlock()
	}
	return v, text, ok
}
