// Package yamlcheck decodes gpiohil's YAML files (tool profiles, rig files) strictly, and says
// where each problem is: every error names the file, the line and, where it is exact, the
// column, so a user can go straight to it.
//
//	root, err := yamlcheck.Parse("lab.yaml", data)  // syntax errors as *Error
//	d := yamlcheck.Decoder{File: "lab.yaml"}
//	err = d.Fields(root, "the rig", nil, []yamlcheck.Field{
//		{Key: "board", Required: true, Decode: func(v *yaml.Node) error { ... }},
//	})                                                // unknown, duplicate and missing keys
package yamlcheck

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a problem at a position in a file.
type Error struct {
	File   string
	Line   int
	Column int // 0 when only the line is known
	Msg    string
}

func (e *Error) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

var syntaxRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses data as one YAML document and returns its root node, or nil for an empty
// document. A syntax error is an *Error with the line the parser names.
func Parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: file, Line: line, Msg: "not valid YAML: " + m[2]}
		}
		return nil, &Error{File: file, Line: 1, Msg: "not valid YAML: " + err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// Decoder reports problems in one file.
type Decoder struct{ File string }

// Errf returns an *Error at node n.
func (d Decoder) Errf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.File, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// Field is one key a mapping may hold and how to decode its value.
type Field struct {
	Key      string
	Required bool
	Decode   func(v *yaml.Node) error
}

// Fields walks mapping n, called what in messages and found at key node at (nil for the top
// level), and decodes each key with its Field. An unknown key (with the known ones listed), a
// duplicate key and a missing required key are errors; aliases are followed.
func (d Decoder) Fields(n *yaml.Node, what string, at *yaml.Node, fs []Field) error {
	n = Deref(n)
	if at == nil {
		at = n
	}
	if n.Kind != yaml.MappingNode {
		return d.Errf(n, "%s must be a mapping, got %s", what, Describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], Deref(n.Content[i+1])
		if line, dup := seen[k.Value]; dup {
			return d.Errf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, line)
		}
		seen[k.Value] = k.Line
		j := slices.IndexFunc(fs, func(f Field) bool { return f.Key == k.Value })
		if j < 0 {
			keys := make([]string, len(fs))
			for i, f := range fs {
				keys[i] = f.Key
			}
			return d.Errf(k, "unknown key %q in %s; known keys: %s", k.Value, what, strings.Join(keys, ", "))
		}
		if err := fs[j].Decode(v); err != nil {
			return err
		}
	}
	for _, f := range fs {
		if _, ok := seen[f.Key]; f.Required && !ok {
			return d.Errf(at, "%s has no %q, which is required", what, f.Key)
		}
	}
	return nil
}

// Deref follows an alias to the node it names.
func Deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// Describe says what a node is, for "must be X, got Y" messages.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!bool":
		return "the boolean " + n.Value
	case "!!int", "!!float":
		return "the number " + n.Value
	}
	return fmt.Sprintf("%q (%s)", n.Value, n.ShortTag())
}
