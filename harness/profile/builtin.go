package profile

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin parses and returns the built-in profiles, sorted by name. Each call
// returns fresh values that the caller may change.
func Builtin() ([]*Profile, error) {
	files, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	var ps []*Profile
	for _, f := range files { // fs.Glob sorts, and names match files
		data, err := builtinFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(f), ".yaml"); p.Name != want {
			return nil, fmt.Errorf("%s: built-in profile is named %q; want %q, its file name", f, p.Name, want)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Lookup returns the built-in profile with the given name, or an error
// matching [ErrNotFound] that lists the known names.
func Lookup(name string) (*Profile, error) {
	ps, err := Builtin()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		if p.Name == name {
			return p, nil
		}
		names[i] = p.Name
	}
	return nil, fmt.Errorf("profile %q: %w among the built-in profiles (%s)", name, ErrNotFound, strings.Join(names, ", "))
}
