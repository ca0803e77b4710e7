package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm"
)

// FindSuites returns the suites binary: $GPIOHIL_SUITES, suites.test next to the gpiohil
// binary, or one built with `go test -c` when this is a gpiohil source tree.
func FindSuites(self string) (string, error) {
	return findSuites(self, runenv.CurrentHost().Suites, runenv.EnvSuites, "suites.test", "")
}

// FindSuitesArm64 is FindSuites for the emulated Pi: $GPIOHIL_SUITES_ARM64, suites-arm64.test
// next to gpiohil, or cross-compiled.
func FindSuitesArm64(self string) (string, error) {
	return findSuites(self, runenv.CurrentHost().SuitesArm64, runenv.EnvSuitesArm64, "suites-arm64.test", "arm64")
}

func findSuites(self, given, env, name, goarch string) (string, error) {
	if given != "" {
		return filepath.Abs(given)
	}
	if p := filepath.Join(filepath.Dir(self), name); exists(p) {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("no suites binary: not next to %s as %s, %s unset, and %v; run make build", self, name, env, err)
	}
	out := filepath.Join(vm.CacheDir(), name)
	cmd := exec.Command("go", "test", "-c", "-ldflags=-s -w", "-o", out, "./suites")
	cmd.Dir = root
	if goarch != "" {
		cmd.Env = append(os.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the suites binary (go test -c ./suites in %s): %v\n%s", root, err, b)
	}
	return out, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// moduleRoot finds the gpiohil source tree around the working directory.
func moduleRoot() (string, error) {
	dir, _ := os.Getwd()
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/gpiohil/gpiohil\n") {
			if _, err := exec.LookPath("go"); err != nil {
				return "", errors.New("the Go toolchain is not on PATH to build it")
			}
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the working directory is not in a gpiohil source tree")
		}
		dir = parent
	}
}
