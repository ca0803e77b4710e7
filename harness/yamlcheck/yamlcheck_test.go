package yamlcheck

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func decode(t *testing.T, src string) (map[string]string, error) {
	t.Helper()
	root, err := Parse("f.yaml", []byte(src))
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	d := Decoder{File: "f.yaml"}
	str := func(key string) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			if v.Kind != yaml.ScalarNode {
				return d.Errf(v, "%s must be a string, got %s", key, Describe(v))
			}
			got[key] = v.Value
			return nil
		}
	}
	return got, d.Fields(root, "the file", nil, []Field{{Key: "name", Required: true, Decode: str("name")}, {Key: "note", Required: false, Decode: str("note")}})
}

func TestFields(t *testing.T) {
	got, err := decode(t, "name: a\nnote: b\n")
	if err != nil || got["name"] != "a" || got["note"] != "b" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, tc := range []struct{ src, want string }{
		{"name: a\ncolour: red\n", `f.yaml:2:1: unknown key "colour" in the file; known keys: name, note`},
		{"name: a\nname: b\n", `f.yaml:2:1: duplicate key "name" in the file (first at line 1)`},
		{"note: b\n", `f.yaml:1:1: the file has no "name", which is required`},
		{"name: [a]\n", `f.yaml:1:7: name must be a string, got a list`},
		{"- a\n", `f.yaml:1:1: the file must be a mapping, got a list`},
		{"name: [a\n", `f.yaml:1: not valid YAML:`},
	} {
		_, err := decode(t, tc.src)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	for src, want := range map[string]string{"x: ~": "nothing", "x: true": "the boolean true", "x: 3": "the number 3", `x: "s"`: `"s"`} {
		root, _ := Parse("f", []byte(src))
		if got := Describe(root.Content[1]); got != want {
			t.Errorf("Describe(%s) = %s, want %s", src, got, want)
		}
	}
}
