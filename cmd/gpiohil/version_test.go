package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vm"
)

func TestBuildText(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "unknown (the binary carries no build information)"},
		{"no VCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("-trimpath", "true")}, noVCS},
		{"go install module@version", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{"git checkout, modified", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201130900-9928c1b4cb7b+dirty"},
			Settings: vcs("vcs", "git", "vcs.revision", "9928c1b4cb7bfceab74848a13e75e8d0778cdd8a", "vcs.time", "2026-12-01T13:09:00Z", "vcs.modified", "true")},
			"v0.0.0-20261201130900-9928c1b4cb7b+dirty (revision 9928c1b4cb7bfceab74848a13e75e8d0778cdd8a, committed 2026-12-01T13:09:00Z, with uncommitted changes)"},
		{"git checkout, clean", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "9928c1b", "vcs.modified", "false")}, "(devel) (revision 9928c1b)"},
	} {
		if got := buildText(tc.bi, tc.bi != nil); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVersionTextNamesEveryPart(t *testing.T) {
	text := versionText()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var keys []string
	for _, l := range lines {
		keys = append(keys, strings.TrimSpace(l[:11]))
	}
	if strings.Join(keys, ",") != "gpiohil,go,vm kernel,vm qemu,pi kernel,pi qemu,pi4 qemu" {
		t.Fatalf("versionText has lines %q, want gpiohil, go, the two kernels and the three QEMUs:\n%s", keys, text)
	}
	if !strings.Contains(lines[1], runtime.Version()) {
		t.Errorf("go line %q lacks %s", lines[1], runtime.Version())
	}
	if !strings.Contains(lines[2], vm.DefaultKernel()) {
		t.Errorf("vm kernel line %q lacks the kernel's path %s", lines[2], vm.DefaultKernel())
	}
}

func TestKernelTextsSayWhatToRun(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "bzImage")
	if got := vmKernelText(missing); got != missing+": not found; build it with: make kernel" {
		t.Errorf("missing VM kernel: %q", got)
	}
	notKernel := filepath.Join(dir, "bzImage")
	os.WriteFile(notKernel, []byte("not a kernel"), 0o644)
	if got := vmKernelText(notKernel); !strings.Contains(got, "is not an x86 bzImage; build one with: make kernel") {
		t.Errorf("not a kernel: %q", got)
	}
	if got := piKernelText(filepath.Join(dir, "nope")); !strings.HasSuffix(got, ": not found; fetch it with: make rpi3-kernel") {
		t.Errorf("missing Pi kernel: %q", got)
	}
	if got := piKernelText(dir); !strings.Contains(got, "missing; fetch it with: make rpi3-kernel") {
		t.Errorf("incomplete Pi kernel directory: %q", got)
	}
	if got := qemuText("gpiohil-no-such-qemu", "sudo apt-get install qemu-system-x86"); got != "gpiohil-no-such-qemu: not found; install it: sudo apt-get install qemu-system-x86" {
		t.Errorf("missing QEMU: %q", got)
	}
}

// With make kernel's cache in place (make test builds it), the VM kernel line has its release
// and the version of its source.
func TestVMKernelTextOfTheBuiltKernel(t *testing.T) {
	k := vm.DefaultKernel()
	if _, err := os.Stat(k); err != nil {
		t.Skipf("no VM kernel at %s (make kernel)", k)
	}
	got := vmKernelText(k)
	release, err := vm.KernelRelease(k)
	if err != nil || !strings.HasPrefix(got, k+": "+release) || !strings.HasPrefix(release, "6.") {
		t.Errorf("vmKernelText = %q; release %q, %v", got, release, err)
	}
}
