// Package vmtest runs Go tests against a real kernel's GPIO character device: inside
// gpiohil's gpio-sim VM when the host has no gpio-sim.
//
// A test package whose tests need gpio-sim calls Main from TestMain; on the host it boots one
// VM with the requested chips and runs the whole test binary in it, with the same flags, so
// `go test -v` output, -run filters and the exit status pass through unchanged:
//
//	func TestMain(m *testing.M) { os.Exit(vmtest.Main(m, sim.Bank{Label: "a", Lines: ...})) }
//
// Inside the VM, sim.FromEnv describes the chips. When the VM lane is not available (no
// kernel built, no QEMU) the package is skipped with the reason, unless GPIOHIL_REQUIRE_VM=1
// (set by `make test`), in which case that is a failure: CI must not pass by skipping.
package vmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm"
)

// InVM reports whether this process runs inside gpiohil's VM.
func InVM() bool { return runenv.InVM() }

// Missing says why the VM lane cannot run here, or "" when it can.
func Missing() string {
	if _, err := exec.LookPath(vm.DefaultQEMU); err != nil {
		return vm.DefaultQEMU + " not found (sudo apt-get install qemu-system-x86)"
	}
	if _, err := os.Stat(vm.DefaultKernel()); err != nil {
		return "no VM kernel at " + vm.DefaultKernel() + " (run: make kernel)"
	}
	return ""
}

// Require skips t, or fails it under GPIOHIL_REQUIRE_VM=1, when the VM lane cannot run.
func Require(t testing.TB) {
	t.Helper()
	RequireLane(t, "VM lane", Missing())
}

// RequireLane skips t with the reason why, or fails it under GPIOHIL_REQUIRE_VM=1 (CI must not
// pass by skipping), when why is not empty. lane names the lane in the message.
func RequireLane(t testing.TB, lane, why string) {
	t.Helper()
	if why == "" {
		return
	}
	if runenv.CurrentHost().RequireVM {
		t.Fatalf("%s required (%s=1) but unavailable: %s", lane, runenv.EnvRequireVM, why)
	}
	t.Skipf("%s unavailable: %s", lane, why)
}

type built struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*built{} // by GOARCH
)

// Gpiohil returns a statically linked gpiohil for goarch ("" for this machine's): prebuilt when
// it is not "" (a path the caller read from its settings, e.g. runenv's Bin or BinArm64), else
// one built once per test process with `go build` into a temporary directory, which
// RemoveBuilt removes. gpiohil-agent is built next to it, as make build does.
func Gpiohil(prebuilt, goarch string) (string, error) {
	if prebuilt != "" {
		return filepath.Abs(prebuilt)
	}
	buildsMu.Lock()
	b := builds[goarch]
	if b == nil {
		b = &built{}
		builds[goarch] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		dir, err := tmpdir.Make(tmpdir.Bin)
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "gpiohil")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", dir+"/",
			"github.com/gpiohil/gpiohil/cmd/gpiohil", "github.com/gpiohil/gpiohil/cmd/gpiohil-agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if goarch != "" {
			cmd.Env = append(cmd.Env, "GOOS=linux", "GOARCH="+goarch)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build gpiohil (GOARCH=%s) for the guest: %v\n%s", goarch, err, out)
		}
	})
	return b.path, b.err
}

// RemoveBuilt removes the binaries Gpiohil built.
func RemoveBuilt() {
	buildsMu.Lock()
	defer buildsMu.Unlock()
	for _, b := range builds {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
}

// Binary returns a statically linked gpiohil binary for the VM: $GPIOHIL_BIN, or one built
// once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := Gpiohil(runenv.Bin(), "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Main runs the test binary's tests inside a VM with the given gpio-sim banks and returns the
// exit status for os.Exit. Inside the VM it just runs m.
func Main(m *testing.M, banks ...sim.Bank) int {
	if InVM() {
		return m.Run()
	}
	if why := Missing(); why != "" {
		if runenv.CurrentHost().RequireVM {
			fmt.Fprintf(os.Stderr, "FAIL: VM lane required (%s=1) but unavailable: %s\n", runenv.EnvRequireVM, why)
			return 1
		}
		fmt.Printf("SKIP: these tests need gpio-sim and the VM lane is unavailable: %s\n", why)
		return 0
	}
	bin, err := Gpiohil(runenv.Bin(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer RemoveBuilt()
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// go test builds the binary under the host's /tmp, which the guest covers with its own
	// tmpfs: share the build directory back (read-write: the binary writes its test log
	// there), and the gpiohil binary's directory, which tests find in $GPIOHIL_BIN.
	shares := []vm.Share{{Path: filepath.Dir(self)}}
	if d := filepath.Dir(bin); d != filepath.Dir(self) {
		shares = append(shares, vm.Share{Path: d, ReadOnly: true})
	}
	// Reports the tests write outside their package directory (the suites' $GPIOHIL_JUNIT)
	// need their directory shared read-write. Whatever else of the run is malformed is the
	// tests' to report, in the VM.
	if run, _ := runenv.Current(); run.JUnit != "" {
		d := filepath.Dir(run.JUnit)
		wd, _ := os.Getwd()
		if rel, err := filepath.Rel(wd, d); err != nil || strings.HasPrefix(rel, "..") {
			if err := os.MkdirAll(d, 0o755); err == nil {
				shares = append(shares, vm.Share{Path: d})
			}
		}
	}
	res, err := vm.Run(context.Background(), vm.Config{
		Args:    append([]string{self}, os.Args[1:]...),
		Env:     append(os.Environ(), runenv.EnvBin+"="+bin),
		Sim:     banks,
		Init:    vm.InitFor(bin),
		Shares:  shares,
		Timeout: vm.DefaultTimeout + time.Minute,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: running the tests in the VM: %v\n", err)
		return 1
	}
	return res.Code
}
