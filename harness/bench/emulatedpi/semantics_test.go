package emulatedpi_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// Outcomes: the pin's function and whether anyone holds the line once the tool is gone.
const (
	inputFree   = "input, free"
	outputFree  = "output, free"
	outputSysfs = "output, held by sysfs"
)

// expected is what each scenario leaves GPIO17 as, by lane. Mainline pinctrl-bcm2835 turns a
// released output into an input; with persist_gpio_outputs it stays an output. A cleanup that
// makes the line an input before releasing it leaves an input either way; a sysfs export is
// held by the kernel until unexported, whoever wrote it.
var expected = map[string]map[string]string{
	rpi3.PersistOff.Name: {
		"bench prepares output high":          inputFree,
		"bench prepares input pull-up":        inputFree,
		"drive exit, output high":             inputFree,
		"drive exit, output low":              inputFree,
		"drive cleanup, output high":          inputFree,
		"drive hold, output high, SIGKILL":    inputFree,
		"drive hold, output high, SIGTERM":    inputFree,
		"drive hold-cleanup, output, SIGTERM": inputFree,
		"drive hold-cleanup, output, SIGKILL": inputFree,
		"drive panic, output high":            inputFree,
		"drive input":                         inputFree,
		"sysfs export output high, sh exited": outputSysfs,
		"sysfs export output high, unexport":  inputFree,
	},
	rpi3.PersistOn.Name: {
		"bench prepares output high":          outputFree,
		"bench prepares input pull-up":        inputFree,
		"drive exit, output high":             outputFree,
		"drive exit, output low":              outputFree,
		"drive cleanup, output high":          inputFree,
		"drive hold, output high, SIGKILL":    outputFree,
		"drive hold, output high, SIGTERM":    outputFree,
		"drive hold-cleanup, output, SIGTERM": inputFree,
		"drive hold-cleanup, output, SIGKILL": outputFree,
		"drive panic, output high":            outputFree,
		"drive input":                         inputFree,
		"sysfs export output high, sh exited": outputSysfs,
		"sysfs export output high, unexport":  outputFree,
	},
}

// scenario leaves the line in the state to observe, with every process it started gone.
type scenario struct {
	name string
	run  func(t *testing.T, b *bench.EmulatedPi, l bench.Line)
}

func scenarios() []scenario {
	prepare := func(s bench.State) func(*testing.T, *bench.EmulatedPi, bench.Line) {
		return func(t *testing.T, b *bench.EmulatedPi, l bench.Line) {
			if err := b.Prepare(l, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	drive := func(args ...string) func(*testing.T, *bench.EmulatedPi, bench.Line) {
		return func(t *testing.T, b *bench.EmulatedPi, l bench.Line) { runDrive(t, l, 0, args...) }
	}
	held := func(sig syscall.Signal, args ...string) func(*testing.T, *bench.EmulatedPi, bench.Line) {
		return func(t *testing.T, b *bench.EmulatedPi, l bench.Line) { runDrive(t, l, sig, args...) }
	}
	return []scenario{
		{"bench prepares output high", prepare(bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled})},
		{"bench prepares input pull-up", prepare(bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp})},
		{"drive exit, output high", drive("--mode", "exit", "=1")},
		{"drive exit, output low", drive("--mode", "exit", "=0")},
		{"drive cleanup, output high", drive("--mode", "cleanup", "=1")},
		{"drive hold, output high, SIGKILL", held(syscall.SIGKILL, "--mode", "hold", "=1")},
		{"drive hold, output high, SIGTERM", held(syscall.SIGTERM, "--mode", "hold", "=1")},
		{"drive hold-cleanup, output, SIGTERM", held(syscall.SIGTERM, "--mode", "hold-cleanup", "=1")},
		{"drive hold-cleanup, output, SIGKILL", held(syscall.SIGKILL, "--mode", "hold-cleanup", "=1")},
		{"drive panic, output high", drive("--mode", "panic", "=1")},
		{"drive input", drive("--mode", "exit", "--direction", "input", "")},
		{"sysfs export output high, sh exited", func(t *testing.T, b *bench.EmulatedPi, l bench.Line) {
			sh(t, "echo %[1]d > /sys/class/gpio/export; echo high > /sys/class/gpio/gpio%[1]d/direction", sysfsNumber(t, l))
		}},
		{"sysfs export output high, unexport", func(t *testing.T, b *bench.EmulatedPi, l bench.Line) {
			n := sysfsNumber(t, l)
			sh(t, "echo %[1]d > /sys/class/gpio/export; echo high > /sys/class/gpio/gpio%[1]d/direction", n)
			sh(t, "echo %d > /sys/class/gpio/unexport", n)
		}},
	}
}

// toolDeadline bounds one run of a tool: setting a line takes milliseconds even emulated.
const toolDeadline = 20 * time.Second

// runDrive runs gpiohil drive on l (the last argument is "=VALUE", or "" for an input) and waits
// until it is gone: by itself, or after sig once it said "ready".
func runDrive(t *testing.T, l bench.Line, sig syscall.Signal, args ...string) {
	t.Helper()
	args = append([]string(nil), args...)
	last := len(args) - 1
	args[last] = strconv.Itoa(l.Offset) + args[last]
	cmd := exec.Command(runenv.Bin(), append([]string{"drive", "--chip", l.Chip}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(toolDeadline, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if sig != 0 {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && sc.Text() != "ready" {
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatalf("signal gpiohil drive: %v", err)
		}
	}
	err = cmd.Wait()
	if sig == 0 && err != nil && !strings.Contains(strings.Join(args, " "), "panic") {
		t.Fatalf("gpiohil drive %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
}

func sysfsNumber(t *testing.T, l bench.Line) int {
	t.Helper()
	base, err := bench.SysfsBase(l.Chip)
	if err != nil {
		t.Fatal(err)
	}
	return base + l.Offset
}

// sh runs a shell script, as a shell-driven tool would (busybox sh in the emulated Pi).
func sh(t *testing.T, format string, args ...any) {
	t.Helper()
	script := fmt.Sprintf(format, args...)
	if out, err := exec.Command("sh", "-c", "set -e; "+script).CombinedOutput(); err != nil {
		t.Fatalf("sh -c %q: %v\n%s", script, err, out)
	}
}

// outcome is the short form the table uses.
func outcome(o observe.Observation) string {
	if o.Owner == vocab.Used {
		return fmt.Sprintf("%s, held by %s", o.Direction, o.Consumer)
	}
	return fmt.Sprintf("%s, %s", o.Direction, o.Owner)
}

// check compares observations with one lane's expectations and returns the mismatches, sorted.
func check(want map[string]string, got map[string]observe.Observation) []string {
	var bad []string
	for name, exp := range want {
		o, ok := got[name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: not observed", name))
		case outcome(o) != exp:
			bad = append(bad, fmt.Sprintf("%s: observed %s, expected %s (evidence: %s)", name, outcome(o), exp, strings.Join(o.Evidence, "; ")))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			bad = append(bad, fmt.Sprintf("%s: no expectation", name))
		}
	}
	sort.Strings(bad)
	return bad
}

// envExpect names the lane whose expectations TestReleaseSemantics checks, instead of the lane
// it runs in. harness/vm/rpi3/rpi3test's tests set it to show that a wrong one fails the run.
const envExpect = "RPI3TEST_EXPECT_LANE" // private to these tests and rpi3test's, not a gpiohil variable

// TestReleaseSemantics is the lane's row of the semantics table: what each tool and ending
// leaves GPIO17 as once the tool is gone, one subtest per scenario, from a restored line each
// time. A last subtest checks the other lane's row against the same observations: it must
// fail, or the check proves nothing.
func TestReleaseSemantics(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := newBench(t)
		l := line(t, b, dutName)
		want := expected[lane.Name]
		if name := os.Getenv(envExpect); name != "" {
			// Only to prove, from the host, that a wrong expectation fails the run.
			want = expected[name]
			t.Logf("%s=%s: checking the %s expectations on the %s lane", envExpect, name, name, lane.Name)
		}
		got := map[string]observe.Observation{}
		for _, s := range scenarios() {
			t.Run(s.name, func(t *testing.T) {
				if err := b.Restore(l); err != nil {
					t.Fatal(err)
				}
				s.run(t, b, l)
				o, err := b.Observe(l)
				if err != nil {
					t.Fatal(err)
				}
				got[s.name] = o
				t.Logf("%s: %s", s.name, outcome(o))
				if bad := check(map[string]string{s.name: want[s.name]}, map[string]observe.Observation{s.name: o}); len(bad) > 0 {
					t.Errorf("lane %s (persist_gpio_outputs %s): %s", lane.Name, o.Platform.Persist, bad[0])
				}
				if err := b.Restore(l); err != nil {
					t.Fatal(err)
				}
			})
		}
		if bad := check(want, got); len(bad) > 0 {
			t.Errorf("lane %s (%s): the table does not hold:\n  %s", lane.Name, lane.Title(), strings.Join(bad, "\n  "))
		}

		other := rpi3.PersistOn
		if lane.Persist {
			other = rpi3.PersistOff
		}
		t.Run("the "+other.Name+" expectations fail here", func(t *testing.T) {
			var differing []string
			for name, exp := range want {
				if expected[other.Name][name] != exp {
					differing = append(differing, name)
				}
			}
			bad := check(expected[other.Name], got)
			if len(differing) == 0 || len(bad) != len(differing) {
				t.Errorf("checking the %s expectations on the %s lane found %d mismatches, want %d (one per scenario whose outcome differs between the lanes):\n  %s",
					other.Name, lane.Name, len(bad), len(differing), strings.Join(bad, "\n  "))
				return
			}
			t.Logf("as it must, the check rejects the %s expectations here:\n  %s", other.Name, strings.Join(bad, "\n  "))
		})
	})
}
