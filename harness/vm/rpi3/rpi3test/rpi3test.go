// Package rpi3test runs a Go test package inside the emulated Raspberry Pi 3 (package rpi3),
// once per lane: the genuine pinctrl-bcm2835 driver with persist_gpio_outputs off, then on.
//
// A test package whose tests need the Pi's GPIO driver calls Main from TestMain. On the host it
// cross-compiles the package's test binary for arm64 (`go test -c` with GOARCH=arm64
// CGO_ENABLED=0), puts it in the initramfs next to an arm64 gpiohil, boots one emulated Pi per
// lane and runs the binary there with the same flags, so `go test -v` output, -run filters and
// the exit status pass through. In the guest, ForLane names subtests after the lane, so the
// two runs' results stay apart in JUnit:
//
//	func TestMain(m *testing.M) { os.Exit(rpi3test.Main(m)) }
//
//	func TestRelease(t *testing.T) {
//		rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) { ... })
//	}
//
// When the lane cannot run here (no qemu-system-aarch64, no kernel fetched) the package is
// skipped with the reason, unless GPIOHIL_REQUIRE_VM=1 (set by `make test`): then it fails.
package rpi3test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/tmpdir"
	"github.com/gpiohil/gpiohil/harness/vm/initramfs"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// InPi reports whether this process runs inside the emulated Pi.
func InPi() bool {
	_, ok := rpi3.CurrentLane()
	return ok
}

// Require skips t, or fails it under GPIOHIL_REQUIRE_VM=1, when the lane cannot run here.
func Require(t testing.TB) {
	t.Helper()
	vmtest.RequireLane(t, "emulated Pi lane", rpi3.Missing(rpi3.Lane{}))
}

// Init returns a static arm64 gpiohil for the guest: $GPIOHIL_BIN_ARM64, or one built once per
// test process into a temporary directory (removed by Cleanup).
func Init(t testing.TB) string {
	t.Helper()
	p, err := buildInit()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func buildInit() (string, error) { return vmtest.Gpiohil(runenv.CurrentHost().BinArm64, "arm64") }

// Cleanup removes what Init built.
func Cleanup() { vmtest.RemoveBuilt() }

// goArm64 runs the go command for linux/arm64 without cgo.
func goArm64(args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s for arm64: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Options adjust MainWith.
type Options struct {
	Lanes []rpi3.Lane // the lanes to run; nil means rpi3.BareLanes (both, gpiohil and busybox only)
	Env   []string    // added to the test binary's environment in the guest
	Files []initramfs.Entry
	// OutDir receives the files the tests leave in $GPIOHIL_OUTBOX, under one directory per
	// lane (OutDir/persist-off/...); "" drops them.
	OutDir string
}

// Main runs the test binary's tests inside the emulated Pi, once per lane (both when none is
// given), and returns the exit status for os.Exit. Inside the Pi it just runs m.
func Main(m *testing.M, lanes ...rpi3.Lane) int {
	return MainWith(m, Options{Lanes: lanes})
}

// hostOnlyFlags are test flags naming host files, which the guest cannot write.
var hostOnlyFlags = []string{"testlogfile", "coverprofile", "outputdir", "gocoverdir", "cpuprofile",
	"memprofile", "blockprofile", "mutexprofile", "trace", "fuzzcachedir"}

// guestArgs drops the flags that name host files, and reports the -test.timeout given.
func guestArgs(args []string) (kept []string, timeout time.Duration) {
	for _, a := range args {
		name, val, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		name = strings.TrimPrefix(name, "test.")
		drop := false
		for _, h := range hostOnlyFlags {
			drop = drop || name == h
		}
		if name == "timeout" {
			timeout, _ = time.ParseDuration(val)
		}
		if !drop {
			kept = append(kept, a)
		}
	}
	return kept, timeout
}

// listOnly reports whether the flags only ask for a list of tests, which the host can answer.
func listOnly(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "test.list") {
			return true
		}
	}
	return false
}

// MainWith is Main with options.
func MainWith(m *testing.M, o Options) int {
	if InPi() || listOnly(os.Args[1:]) {
		return m.Run()
	}
	if why := rpi3.Missing(rpi3.Lane{}); why != "" {
		if runenv.CurrentHost().RequireVM {
			fmt.Fprintf(os.Stderr, "FAIL: emulated Pi lane required (%s=1) but unavailable: %s\n", runenv.EnvRequireVM, why)
			return 1
		}
		fmt.Printf("SKIP: these tests need the emulated Raspberry Pi and it is unavailable: %s\n", why)
		return 0
	}
	initBin, err := buildInit()
	defer Cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// go test runs the binary in the package's directory: build the same package for arm64.
	dir, err := tmpdir.Make(tmpdir.RPi3Test)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test") + ".test"
	bin := filepath.Join(dir, name)
	if err := goArm64("test", "-c", "-o", bin, "."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	args, testTimeout := guestArgs(os.Args[1:])
	timeout := rpi3.DefaultTimeout
	if testTimeout > 0 {
		timeout = testTimeout + time.Minute
	}
	lanes := o.Lanes
	if len(lanes) == 0 {
		lanes = rpi3.BareLanes
	}
	code := 0
	for _, lane := range lanes {
		fmt.Printf("=== emulated Pi lane %s: %s\n", lane.Name, lane.Title())
		out := ""
		if o.OutDir != "" {
			out = filepath.Join(o.OutDir, lane.Name)
			if err := os.MkdirAll(out, 0o755); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		res, err := rpi3.Run(context.Background(), rpi3.Config{
			Lane:    lane,
			Args:    append([]string{"/bin/" + name}, args...),
			Env:     o.Env,
			Files:   append([]initramfs.Entry{initramfs.File("/bin/"+name, bin, 0o755)}, o.Files...),
			Dir:     "/tmp",
			OutDir:  out,
			Init:    initBin,
			Timeout: timeout,
			Stdout:  os.Stdout,
			Stderr:  os.Stderr,
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: running the tests in the emulated Pi (lane %s): %v\n", lane.Name, err)
			code = 1
			continue
		}
		fmt.Printf("=== emulated Pi lane %s: exit status %d, boot %v, total %v\n", lane.Name, res.Code,
			res.Boot.Round(10*time.Millisecond), res.Total.Round(10*time.Millisecond))
		if res.Code != 0 {
			code = res.Code
		}
	}
	return code
}

// ForLane runs f as a subtest named after the lane this process runs in, so that results of the
// two lanes stay apart in one report. Outside the emulated Pi it skips t.
func ForLane(t *testing.T, f func(t *testing.T, lane rpi3.Lane)) {
	t.Helper()
	lane, ok := rpi3.CurrentLane()
	if !ok {
		t.Skip("runs only inside the emulated Raspberry Pi (rpi3test.Main boots it)")
	}
	t.Run(lane.Name, func(t *testing.T) { f(t, lane) })
}
