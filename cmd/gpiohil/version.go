package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
)

// noVCS is what --version says when the binary carries no VCS information.
const noVCS = "(devel, no VCS information: built outside a git checkout, or with -buildvcs=false)"

// versionText is `gpiohil --version`: this gpiohil (its module version, the commit it was
// built from, the Go that built it) and what its VM lanes would run here (the kernels and the
// QEMUs), each with what to do when it is missing.
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	var b strings.Builder
	line := func(key, value string) { fmt.Fprintf(&b, "%-11s %s\n", key, value) }
	line("gpiohil", buildText(bi, ok))
	line("go", goText(bi, ok))
	line("vm kernel", vmKernelText(vm.DefaultKernel()))
	line("vm qemu", qemuText(vm.DefaultQEMU, "sudo apt-get install qemu-system-x86"))
	line("pi kernel", piKernelText(rpi3.DefaultKernelDir()))
	line("pi qemu", qemuText(rpi3.DefaultQEMU, "sudo apt-get install qemu-system-arm (or make rpi3-kernel as root)"))
	line("pi4 qemu", qemuText(rpi3.Pi4.QEMU(), "make rpi4-qemu (ci/rpi4/fetch.sh)"))
	return b.String()
}

// buildText is gpiohil's module version and the commit it was built from.
func buildText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "unknown (the binary carries no build information)"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if rev == "" {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version // go install module@version: the version names the commit
		}
		return noVCS
	}
	detail := []string{"revision " + rev}
	if t := vcs["vcs.time"]; t != "" {
		detail = append(detail, "committed "+t)
	}
	if vcs["vcs.modified"] == "true" {
		detail = append(detail, "with uncommitted changes")
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	return fmt.Sprintf("%s (%s)", version, strings.Join(detail, ", "))
}

// goText is the Go release that built gpiohil, and the platform it was built for.
func goText(bi *debug.BuildInfo, ok bool) string {
	v := runtime.Version()
	if ok && bi != nil && bi.GoVersion != "" {
		v = bi.GoVersion
	}
	return v + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// vmKernelText is the gpio-sim VM's kernel: its path, release and, from `make kernel`'s
// cache, the version of the source it was built from.
func vmKernelText(path string) string {
	if _, err := os.Stat(path); err != nil {
		return path + ": not found; build it with: make kernel"
	}
	release, err := vm.KernelRelease(path)
	if err != nil {
		return path + ": " + err.Error()
	}
	text := path + ": " + release
	if src, err := os.ReadFile(filepath.Join(filepath.Dir(path), "version")); err == nil {
		text += " (source " + strings.TrimSpace(string(src)) + ")"
	}
	return text
}

// piKernelText is the emulated Pi's kernel directory and its release.
func piKernelText(dir string) string {
	if _, err := os.Stat(dir); err != nil {
		return dir + ": not found; fetch it with: make rpi3-kernel"
	}
	k, err := rpi3.FindKernel(dir)
	if err != nil {
		return dir + ": " + strings.TrimPrefix(err.Error(), "rpi3: ")
	}
	if k.Release == "" {
		return dir + ": release unknown (no release file); fetch it again with: make rpi3-kernel"
	}
	text := dir + ": " + k.Release
	if v, err := os.ReadFile(filepath.Join(dir, "version")); err == nil {
		text += " (Debian package version " + strings.TrimSpace(string(v)) + ")"
	}
	return text
}

// qemuText is where a QEMU is and the first line of its --version.
func qemuText(name, install string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		return name + ": not found; install it: " + install
	}
	v, err := vm.QEMUVersion(context.Background(), path)
	if err != nil {
		return path + ": " + err.Error()
	}
	return path + ": " + v
}
