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

// Resolve returns the profiles a list names: each entry is a built-in profile's name, or the
// path of a profile file (anything with a "/" or a "."); an empty list means every built-in
// profile. The first entry that does not resolve is the error, naming it.
func Resolve(names []string) ([]*Profile, error) {
	if len(names) == 0 {
		return Builtin()
	}
	var ps []*Profile
	for _, name := range names {
		var p *Profile
		var err error
		if IsFile(name) {
			p, err = Load(name)
		} else {
			p, err = Lookup(name)
		}
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// IsFile reports whether a name given to Resolve is a profile file rather than a built-in
// profile's name.
func IsFile(name string) bool { return strings.ContainsAny(name, "/.") }
