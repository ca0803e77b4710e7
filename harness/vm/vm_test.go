package vm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vm"
	"github.com/gpiohil/gpiohil/harness/vmtest"
)

// run boots a VM with cfg; stdout and stderr are returned.
func run(t *testing.T, cfg vm.Config) (vm.Result, string, string, error) {
	t.Helper()
	cfg, stdout, stderr := prepare(t, cfg)
	res, err := vm.Run(context.Background(), cfg)
	return res, stdout.String(), stderr.String(), err
}

// prepare skips t when the VM lane cannot run and fills in what run's tests leave out: the
// guest agent, a working directory, a timeout, and buffers for stdout and stderr. It may end
// t (Skip, Fatal), so it must be called from the test's own goroutine: a test that runs the VM
// in another goroutine calls prepare first and gives that goroutine the result.
func prepare(t *testing.T, cfg vm.Config) (vm.Config, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	vmtest.Require(t)
	var stdout, stderr bytes.Buffer
	if cfg.Init == "" {
		cfg.Init = vm.InitFor(vmtest.Binary(t)) // gpiohil-agent, as users get it
	}
	cfg.Stdout, cfg.Stderr = &stdout, &stderr
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	return cfg, &stdout, &stderr
}

func TestSimChipsAppearWithLinesAndAttributes(t *testing.T) {
	vmtest.Require(t)
	banks := []sim.Bank{
		{Label: "gpiohil-a", Lines: []string{"a-0", "a-1", "a-2"}},
		{Label: "gpiohil-b", Lines: []string{"GPIO17", "GPIO27"}},
	}
	// gpiodetect and gpioinfo are dynamically linked host programs: it also proves those run in the guest.
	if _, err := exec.LookPath("gpiodetect"); err != nil {
		t.Fatalf("gpiodetect not found: install Debian package gpiod (make deps does)")
	}
	script := `ls /dev; gpiodetect; gpioinfo; for c in $(echo "$GPIOHIL_SIM" | grep -o '"sysfs":"[^"]*"' | cut -d'"' -f4); do ls "$c/sim_gpio1"; done`
	res, out, errOut, err := run(t, vm.Config{Args: []string{"sh", "-c", script}, Sim: banks})
	if err != nil || res.Code != 0 {
		t.Fatalf("run: %v, exit %d, stderr:\n%s", err, res.Code, errOut)
	}
	for _, want := range []string{
		"gpiochip0\n", "gpiochip1\n",
		`[gpiohil-a] (3 lines)`, `[gpiohil-b] (2 lines)`,
		`"a-2"`, `"GPIO17"`, `"GPIO27"`,
		"pull\nvalue\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(res.Kernel, "6.") {
		t.Errorf("guest kernel release = %q, want 6.x", res.Kernel)
	}
}

func TestLineSetByHostProgramIsSeenBySim(t *testing.T) {
	vmtest.Require(t)
	dir := t.TempDir()
	setline := filepath.Join(dir, "setline")
	build := exec.Command("go", "build", "-o", setline, "./testdata/setline")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build setline: %v\n%s", err, out)
	}
	banks := []sim.Bank{{Label: "gpiohil-set", Lines: []string{"set-0", "set-1", "set-2"}}}
	// While setline holds the line, cat (another process) reads the simulator's own view.
	value := `cat /sys/bus/gpio/devices/$LINE_CHIP/sim_gpio$LINE_OFFSET/value`
	script := "./setline set-2 1 '" + value + "' && ./setline set-2 0 '" + value + "'"
	res, out, errOut, err := run(t, vm.Config{Args: []string{"sh", "-c", script}, Sim: banks, Dir: dir})
	if err != nil || res.Code != 0 {
		t.Fatalf("run: %v, exit %d, stderr:\n%s", err, res.Code, errOut)
	}
	if out != "1\n0\n" {
		t.Errorf("simulator saw %q, want 1 then 0", out)
	}
}

func TestExitStatusPropagates(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
		signal string
	}{
		{"exit 0", 0, ""},
		{"exit 1", 1, ""},
		{"exit 42", 42, ""},
		{"kill -KILL $$", 137, "SIGKILL"},
	} {
		t.Run(tc.script, func(t *testing.T) {
			res, _, errOut, err := run(t, vm.Config{Args: []string{"sh", "-c", tc.script}})
			if err != nil {
				t.Fatalf("run: %v\n%s", err, errOut)
			}
			if res.Code != tc.code || res.Signal != tc.signal {
				t.Errorf("exit = %d %q, want %d %q", res.Code, res.Signal, tc.code, tc.signal)
			}
		})
	}
}

func TestCommandNotFoundIs127(t *testing.T) {
	res, _, errOut, err := run(t, vm.Config{Args: []string{"gpiohil-no-such-command"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 127 || !strings.Contains(errOut, `"gpiohil-no-such-command": executable file not found`) {
		t.Errorf("exit %d, stderr %q; want 127 and a not-found message", res.Code, errOut)
	}
}

// timedWriter records when each write arrived.
type timedWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	times []time.Time
}

func (w *timedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.times = append(w.times, time.Now())
	return w.buf.Write(p)
}

func TestOutputStreamsWhileCommandRuns(t *testing.T) {
	vmtest.Require(t)
	var stdout, stderr timedWriter
	res, err := vm.Run(context.Background(), vm.Config{
		Args: []string{"sh", "-c", "echo first; echo oops >&2; sleep 2; echo second"},
		Init: vmtest.Binary(t), Dir: t.TempDir(), Stdout: &stdout, Stderr: &stderr, Timeout: time.Minute,
	})
	end := time.Now()
	if err != nil || res.Code != 0 {
		t.Fatalf("run: %v, exit %d", err, res.Code)
	}
	if got := stdout.buf.String(); got != "first\nsecond\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := stderr.buf.String(); got != "oops\n" {
		t.Errorf("stderr = %q, want oops on its own stream", got)
	}
	if len(stdout.times) == 0 || end.Sub(stdout.times[0]) < 1500*time.Millisecond {
		t.Errorf("first output arrived %v before the end, want it while the command still ran (2 s sleep)", end.Sub(stdout.times[0]))
	}
}

func TestWorkingDirectoryShareReturnsFile(t *testing.T) {
	dir := t.TempDir()
	res, _, errOut, err := run(t, vm.Config{Args: []string{"sh", "-c", "pwd > report.txt; echo written >> report.txt"}, Dir: dir})
	if err != nil || res.Code != 0 {
		t.Fatalf("run: %v, exit %d\n%s", err, res.Code, errOut)
	}
	got, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != dir+"\nwritten\n" {
		t.Errorf("report.txt = %q, want the working directory and 'written'", got)
	}
}

func TestShareWritesReachHostWhileGuestRuns(t *testing.T) {
	// The shares cache in the guest, but never hold writes back: a report written before a hang
	// or a kill is on the host.
	const (
		// earlyWithin bounds the wait for the file: boot and the write take a few seconds
		// under emulation, and the guest then keeps running for 4 s more.
		earlyWithin = time.Minute
		// poll is how often the host looks for the file: well within the 4 s the guest waits.
		poll = 20 * time.Millisecond
	)
	dir := t.TempDir()
	// Everything that may end the test (Require, Binary, Fatal) happens here, on the test's
	// goroutine; the goroutine below only runs the VM.
	cfg, _, stderr := prepare(t, vm.Config{Args: []string{"sh", "-c", "exec 3>early.txt; echo early >&3; sleep 4"}, Dir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error // set before ended is closed
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		res, err := vm.Run(ctx, cfg)
		if err == nil && res.Code != 0 {
			err = fmt.Errorf("exit status %d %s", res.Code, res.Signal)
		}
		runErr = err
	}()
	// stop ends the VM and waits for it: before its output is read, and before its working
	// directory is removed however the test ends.
	stop := func() { cancel(); <-ended }
	t.Cleanup(stop)
	switch err := awaitFile(filepath.Join(dir, "early.txt"), "early\n", earlyWithin, poll, ended); {
	case errors.Is(err, errVMEnded):
		t.Fatalf("the VM ended (%v) before early.txt reached the host; stderr:\n%s", runErr, stderr)
	case err != nil:
		stop()
		t.Fatalf("%v; stderr:\n%s", err, stderr)
	}
	<-ended
	if runErr != nil {
		t.Fatalf("the VM: %v; stderr:\n%s", runErr, stderr)
	}
}

var errVMEnded = errors.New("the VM ended")

// awaitFile looks every poll for a file holding want until it is there, ended is closed
// (errVMEnded: the VM ended first) or within has passed.
func awaitFile(path, want string, within, poll time.Duration, ended <-chan struct{}) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ended:
			return errVMEnded
		case <-deadline.C:
			return fmt.Errorf("%s did not reach the host within %v of starting the VM", path, within)
		case <-tick.C:
		}
		if b, _ := os.ReadFile(path); string(b) == want {
			return nil
		}
	}
}

func TestHostRootIsReadOnly(t *testing.T) {
	res, _, errOut, err := run(t, vm.Config{Args: []string{"sh", "-c", "touch /etc/gpiohil-must-not-exist"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code == 0 || !strings.Contains(errOut, "Read-only file system") {
		t.Errorf("writing to the host root: exit %d, stderr %q; want a read-only failure", res.Code, errOut)
	}
	if _, err := os.Stat("/etc/gpiohil-must-not-exist"); err == nil {
		os.Remove("/etc/gpiohil-must-not-exist")
		t.Error("the guest wrote to the host root")
	}
}

func TestTimeoutKillsHungGuest(t *testing.T) {
	start := time.Now()
	_, _, _, err := run(t, vm.Config{Args: []string{"sleep", "600"}, Timeout: 8 * time.Second})
	var te *vm.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v to give up after an 8 s timeout", d)
	}
	if !strings.Contains(err.Error(), "no result within 8s") || !strings.Contains(err.Error(), `running ["sleep" "600"]`) {
		t.Errorf("error %q should name the timeout and show the last console lines", err)
	}
}

func TestKernelPanicIsReported(t *testing.T) {
	_, _, _, err := run(t, vm.Config{Args: []string{"true"}, Append: "rdinit=/no-such-init"})
	var ge *vm.GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want a guest error", err)
	}
	if !strings.Contains(err.Error(), "without reporting an exit status") || !strings.Contains(err.Error(), "Kernel panic") {
		t.Errorf("error should say the guest ended without a status and show the panic: %v", err)
	}
	if ge.Signal != "" || strings.Contains(err.Error(), "killed by signal") {
		t.Errorf("a guest that ended by itself is reported as killed by %q: %v", ge.Signal, err)
	}
}

func TestFailingAgentIsReported(t *testing.T) {
	for fault, want := range map[string]string{
		"before-root": "guest agent failed: fault injected before mounting the host root",
		"panic":       "guest agent failed: agent panic: fault injected",
	} {
		t.Run(fault, func(t *testing.T) {
			_, _, _, err := run(t, vm.Config{Args: []string{"true"}, Fault: fault})
			var ge *vm.GuestError
			if !errors.As(err, &ge) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want a guest error containing %q", err, want)
			}
		})
	}
}

func TestAgentFromAnotherBuildIsRefused(t *testing.T) {
	_, _, _, err := run(t, vm.Config{Args: []string{"true"}, Fault: "old-protocol"})
	var ge *vm.GuestError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "the agent binary is from another build") ||
		!strings.Contains(err.Error(), "make build") {
		t.Errorf("err = %v, want a guest error naming the other build and make build", err)
	}
}

func TestGpiohilItselfIsAlsoTheAgent(t *testing.T) {
	// Without gpiohil-agent next to it, gpiohil puts itself in the initramfs.
	vmtest.Require(t)
	full := vmtest.Binary(t)
	if vm.InitFor(full) == full {
		t.Fatalf("no %s next to %s: the test binary builder should have built it", vm.AgentName, full)
	}
	res, out, errOut, err := run(t, vm.Config{Args: []string{"echo", "full"}, Init: full})
	if err != nil || res.Code != 0 || out != "full\n" {
		t.Fatalf("run with all of gpiohil as init: %v, exit %d, stdout %q\n%s", err, res.Code, out, errOut)
	}
}

func TestBadInputSaysWhatToRun(t *testing.T) {
	dir := t.TempDir()
	notKernel := filepath.Join(dir, "bzImage")
	os.WriteFile(notKernel, []byte("this is not a kernel"), 0o644)
	unreadable := filepath.Join(dir, "unreadable")
	os.Mkdir(unreadable, 0o755)
	dynamic, _ := exec.LookPath("sh")
	kernel := vm.DefaultKernel()
	for _, tc := range []struct {
		name string
		cfg  vm.Config
		want string
	}{
		{"no command", vm.Config{}, "no command given"},
		{"missing qemu", vm.Config{QEMU: "qemu-system-gpiohil-missing", Kernel: kernel}, "qemu-system-gpiohil-missing not found; install it: sudo apt-get install qemu-system-x86"},
		{"missing kernel", vm.Config{Kernel: filepath.Join(dir, "nope")}, "not found; build it with: make kernel"},
		{"unreadable kernel", vm.Config{Kernel: unreadable}, "is not an x86 bzImage; build one with: make kernel"},
		{"not a kernel", vm.Config{Kernel: notKernel}, "is not an x86 bzImage"},
		{"dynamic init", vm.Config{Kernel: kernel, Init: dynamic}, "is dynamically linked; build gpiohil with CGO_ENABLED=0"},
		{"bad accel", vm.Config{Kernel: kernel, Accel: "hvf"}, `accelerator "hvf" unknown`},
		{"bad sim", vm.Config{Kernel: kernel, Sim: []sim.Bank{{Label: "x", Lines: []string{"a"}}, {Label: "x", Lines: []string{"b"}}}}, `label "x" given to two banks`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "no command" {
				tc.cfg.Args = []string{"true"}
			}
			// The cases that use the real kernel get past its check only when it is there.
			if tc.cfg.Kernel == kernel {
				vmtest.Require(t)
				if tc.cfg.Init == "" {
					tc.cfg.Init = vmtest.Binary(t)
				}
			}
			_, err := vm.Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestKVMIsProbedAndFallsBack(t *testing.T) {
	if _, err := os.Stat("/dev/kvm"); err != nil {
		t.Skip("no /dev/kvm: nothing to probe")
	}
	var stderr bytes.Buffer
	vmtest.Require(t)
	res, err := vm.Run(context.Background(), vm.Config{Args: []string{"true"}, Accel: "kvm",
		Init: vmtest.Binary(t), Dir: t.TempDir(), Stderr: &stderr, Timeout: time.Minute})
	if err != nil || res.Code != 0 {
		t.Fatalf("run: %v, exit %d", err, res.Code)
	}
	switch res.Accel {
	case "kvm":
		t.Logf("KVM works on this machine")
	case "tcg":
		if !strings.Contains(stderr.String(), "KVM does not work here") {
			t.Errorf("fell back to TCG without saying why; stderr %q", stderr.String())
		}
	default:
		t.Errorf("accel = %q", res.Accel)
	}
}

// gpiohil observe, run as a user would inside the VM: a table, and JSON with the evidence.
func TestObserveCommandInVM(t *testing.T) {
	vmtest.Require(t)
	bin := vmtest.Binary(t)
	dir := t.TempDir()
	script := `"$GPIOHIL" observe obs obs-0 1 && gpioset -B pull-up gpiochip0 0=1 && "$GPIOHIL" observe --json obs obs-0 && "$GPIOHIL" observe obs nope`
	var stdout, stderr bytes.Buffer
	res, err := vm.Run(context.Background(), vm.Config{
		Args: []string{"sh", "-c", script}, Env: append(os.Environ(), "GPIOHIL="+bin),
		Sim: []sim.Bank{{Label: "obs", Lines: []string{"obs-0", "obs-1"}}}, Init: bin, Dir: dir,
		Shares: []vm.Share{{Path: filepath.Dir(bin), ReadOnly: true}}, Stdout: &stdout, Stderr: &stderr, Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{
		"CHIP  LINE   OFFSET  DIRECTION  LEVEL  DRIVE   PULL       OWNER  CONSUMER",
		"obs   obs-0  0       input      0      pulled  pull-down  free   -",
		"obs   obs-1  1       input      0      pulled  pull-down  free   -",
		"bench gpio-sim, kernel 6.", "driver gpio-sim; sees: direction, level, drive, pull, owner",
		`"level": "1"`, `"pull": "pull-up"`, `"probe: value followed the simulated pull (pull-up to pull-down and back): not driven"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if res.Code != 2 || !strings.Contains(stderr.String(), `"nope" is on none of the chips obs (and it is not an offset 0 to 1)`) {
		t.Errorf("observing a missing line: exit %d, stderr %q; want 2, bad input, naming the line", res.Code, stderr.String())
	}
}
