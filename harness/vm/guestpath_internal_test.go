package vm

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGuestPathLooksUpOnlyWhereTheGuestSeesTheSame(t *testing.T) {
	work := t.TempDir() // under the host's /tmp, which the guest covers with its own tmpfs
	bin := filepath.Join(work, "bin")
	os.Mkdir(bin, 0o755)
	tool := filepath.Join(bin, "tool")
	os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "data"), []byte("not a program"), 0o644)
	other := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"found in the shared working directory", Config{Args: []string{"tool"}, Dir: work, Env: []string{"PATH=" + bin}}, tool},
		{"found in a share", Config{Args: []string{"tool"}, Dir: other, Shares: []Share{{Path: work}}, Env: []string{"PATH=" + bin}}, tool},
		{"under the guest's own /tmp", Config{Args: []string{"tool"}, Dir: other, Env: []string{"PATH=" + bin}}, ""},
		{"an earlier entry the guest sees differently", Config{Args: []string{"sh"}, Dir: work, Env: []string{"PATH=/run/x:/usr/bin:/bin"}}, ""},
		{"a relative entry", Config{Args: []string{"tool"}, Dir: work, Env: []string{"PATH=.:" + bin}}, ""},
		{"a path, not a name", Config{Args: []string{"./tool"}, Dir: work, Env: []string{"PATH=" + bin}}, ""},
		{"not executable", Config{Args: []string{"data"}, Dir: work, Env: []string{"PATH=" + bin}}, ""},
		{"not found", Config{Args: []string{"no-such-tool"}, Dir: work, Env: []string{"PATH=" + bin}}, ""},
		{"an environment without PATH", Config{Args: []string{"tool"}, Dir: work, Env: []string{"HOME=/"}}, ""},
	} {
		if got := guestPath(tc.cfg); got != tc.want {
			t.Errorf("%s: guestPath = %q, want %q", tc.name, got, tc.want)
		}
	}
}
