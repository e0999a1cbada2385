package pipeline

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigError is a mistake in a pipeline file: the file, the line and the
// field it is about ("pipeline.yaml:7: window.hop: 0 is not a positive
// number").
type ConfigError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Node is one YAML mapping of a pipeline file being read, e.g. the
// "source" section. Its getters mark the fields they read, Done reports
// any other field as unknown, and every error is a *ConfigError naming
// the file, the line and the field's dotted path. Source and sink kinds
// read their own fields through it.
type Node struct {
	file string // the file's name, as errors show it
	dir  string // the file's folder: relative paths start there
	path string // dotted path of this mapping, "" at the top
	n    *yaml.Node
	used map[string]bool
}

func newNode(file, dir, path string, n *yaml.Node) (*Node, error) {
	nd := &Node{file: file, dir: dir, path: path, n: n, used: map[string]bool{}}
	if n.Kind != yaml.MappingNode {
		return nil, nd.errAt(n.Line, path, "is %s, want a mapping of fields", kindText(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, nd.errAt(k.Line, path, "a field name must be a plain word")
		}
		for j := 0; j < i; j += 2 {
			if n.Content[j].Value == k.Value {
				return nil, nd.errAt(k.Line, nd.field(k.Value), "is given twice (first on line %d)", n.Content[j].Line)
			}
		}
	}
	return nd, nil
}

func kindText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "not a value"
}

// File is the name of the pipeline file.
func (nd *Node) File() string { return nd.file }

// Line is the line of the mapping.
func (nd *Node) Line() int { return nd.n.Line }

func (nd *Node) field(key string) string {
	if nd.path == "" {
		return key
	}
	return nd.path + "." + key
}

func (nd *Node) errAt(line int, field, format string, args ...any) error {
	return &ConfigError{File: nd.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Errorf returns a *ConfigError about field key of this mapping, at the
// line of its value (of the mapping when the field is absent).
func (nd *Node) Errorf(key, format string, args ...any) error {
	if key == "" {
		return nd.errAt(nd.n.Line, nd.path, format, args...)
	}
	line := nd.n.Line
	if v := nd.value(key); v != nil {
		line = v.Line
	}
	return nd.errAt(line, nd.field(key), format, args...)
}

// value returns the value node of key, nil when absent or null.
func (nd *Node) value(key string) *yaml.Node {
	for i := 0; i+1 < len(nd.n.Content); i += 2 {
		if nd.n.Content[i].Value == key {
			v := nd.n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return nil
			}
			return v
		}
	}
	return nil
}

// Has says whether the field is given (not null).
func (nd *Node) Has(key string) bool {
	nd.used[key] = true
	return nd.value(key) != nil
}

func (nd *Node) scalar(key string) (*yaml.Node, error) {
	nd.used[key] = true
	v := nd.value(key)
	if v == nil {
		return nil, nil
	}
	if v.Kind != yaml.ScalarNode {
		return nil, nd.Errorf(key, "is %s, want a single value", kindText(v))
	}
	return v, nil
}

// String returns a text field, def when absent.
func (nd *Node) String(key, def string) (string, error) {
	v, err := nd.scalar(key)
	if err != nil || v == nil {
		return def, err
	}
	return v.Value, nil
}

// RequiredString returns a text field that must be given and not empty.
func (nd *Node) RequiredString(key string) (string, error) {
	s, err := nd.String(key, "")
	if err == nil && s == "" {
		err = nd.Errorf(key, "is required")
	}
	return s, err
}

// Path returns a file path field, relative to the pipeline file's folder
// unless absolute or "-" (standard input or output).
func (nd *Node) Path(key string) (string, error) {
	s, err := nd.RequiredString(key)
	if err != nil || s == "-" || filepath.IsAbs(s) {
		return s, err
	}
	return filepath.Join(nd.dir, s), nil
}

// Float returns a finite number field, def when absent.
func (nd *Node) Float(key string, def float64) (float64, error) {
	v, err := nd.scalar(key)
	if err != nil || v == nil {
		return def, err
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, nd.Errorf(key, "%q is not a number", v.Value)
	}
	return f, nil
}

// Positive returns a number field that must be above 0, def when absent.
func (nd *Node) Positive(key string, def float64) (float64, error) {
	f, err := nd.Float(key, def)
	if err == nil && f <= 0 && nd.value(key) != nil {
		err = nd.Errorf(key, "%v is not a positive number", f)
	}
	return f, err
}

// Int returns an integer field within [lo, hi], def when absent.
func (nd *Node) Int(key string, def, lo, hi int) (int, error) {
	v, err := nd.scalar(key)
	if err != nil || v == nil {
		return def, err
	}
	i, err := strconv.Atoi(v.Value)
	if err != nil {
		return 0, nd.Errorf(key, "%q is not a whole number", v.Value)
	}
	if i < lo || i > hi {
		if lo == 1 && i < 1 {
			return 0, nd.Errorf(key, "%d is not a positive number", i)
		}
		return 0, nd.Errorf(key, "%d is out of range %d to %d", i, lo, hi)
	}
	return i, nil
}

// Bool returns a true/false field, def when absent.
func (nd *Node) Bool(key string, def bool) (bool, error) {
	v, err := nd.scalar(key)
	if err != nil || v == nil {
		return def, err
	}
	switch strings.ToLower(v.Value) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, nd.Errorf(key, "%q is not true or false", v.Value)
}

// OneOf returns a text field that must be one of choices, def when absent.
func (nd *Node) OneOf(key, def string, choices ...string) (string, error) {
	s, err := nd.String(key, def)
	if err == nil && !slices.Contains(choices, s) {
		named := slices.DeleteFunc(slices.Clone(choices), func(c string) bool { return c == "" })
		err = nd.Errorf(key, "%q is not one of %s", s, strings.Join(named, ", "))
	}
	return s, err
}

func (nd *Node) list(key string) ([]*yaml.Node, error) {
	nd.used[key] = true
	v := nd.value(key)
	if v == nil {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, nd.Errorf(key, "is %s, want a list", kindText(v))
	}
	return v.Content, nil
}

// Strings returns a list of texts.
func (nd *Node) Strings(key string) ([]string, error) {
	items, err := nd.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		if it.Kind != yaml.ScalarNode || it.Value == "" {
			return nil, nd.errAt(it.Line, fmt.Sprintf("%s[%d]", nd.field(key), i), "is %s, want a text", kindText(it))
		}
		out = append(out, it.Value)
	}
	return out, nil
}

// Floats returns a list of finite numbers.
func (nd *Node) Floats(key string) ([]float64, error) {
	items, err := nd.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]float64, 0, len(items))
	for i, it := range items {
		f, perr := strconv.ParseFloat(it.Value, 64)
		if it.Kind != yaml.ScalarNode || perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nd.errAt(it.Line, fmt.Sprintf("%s[%d]", nd.field(key), i), "%s is not a number", kindText(it))
		}
		out = append(out, f)
	}
	return out, nil
}

// StringMap returns a mapping of texts (e.g. model parameters).
func (nd *Node) StringMap(key string) (map[string]string, error) {
	nd.used[key] = true
	v := nd.value(key)
	if v == nil {
		return nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, nd.Errorf(key, "is %s, want a mapping", kindText(v))
	}
	out := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if val.Kind != yaml.ScalarNode {
			return nil, nd.errAt(val.Line, nd.field(key)+"."+k.Value, "is %s, want a single value", kindText(val))
		}
		out[k.Value] = val.Value
	}
	return out, nil
}

// Map returns the mapping under key, nil when absent.
func (nd *Node) Map(key string) (*Node, error) {
	nd.used[key] = true
	v := nd.value(key)
	if v == nil {
		return nil, nil
	}
	return newNode(nd.file, nd.dir, nd.field(key), v)
}

// Maps returns the list of mappings under key.
func (nd *Node) Maps(key string) ([]*Node, error) {
	items, err := nd.list(key)
	if err != nil {
		return nil, err
	}
	out := make([]*Node, 0, len(items))
	for i, it := range items {
		c, err := newNode(nd.file, nd.dir, fmt.Sprintf("%s[%d]", nd.field(key), i), it)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Done returns an error naming the first field of the mapping no getter
// read: an unknown field, most likely misspelt.
func (nd *Node) Done() error {
	for i := 0; i+1 < len(nd.n.Content); i += 2 {
		k := nd.n.Content[i]
		if !nd.used[k.Value] {
			return nd.errAt(k.Line, nd.field(k.Value), "unknown field")
		}
	}
	return nil
}
