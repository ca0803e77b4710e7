package drive_test

// These tests run inside gpiohil's VM, against the kernel's real gpio-sim (vmtest.Main). They
// run the tool as a separate process, because what they check is what happens when a process
// holding GPIO lines ends; they do so by re-running this test binary with envTool set, since
// the gpiohil binary vmtest builds lives in the host's /tmp, which the guest does not see.
//
// What they observe, and why it can be trusted:
//   - while the tool holds a request: line info (direction, bias, consumer) and the simulator's
//     sysfs value and pull. Line info of a requested line is the request's configuration.
//   - how the request changed over time: line info change events, which the kernel fills in at
//     the moment of each change, while the line is still requested. This is how a cleanup's
//     "input, bias disabled" is seen: it exists only between the reconfigure and the release.
//   - after the tool is gone: the sim value and pull, whether the line is still in use, and its
//     direction as the driver reports it (see direction). Line info of an unrequested line shows
//     gpiolib's cached flags (DESIGN.md), so it is not used for direction or bias.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/drive"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

var (
	bankA = sim.Bank{Label: "drive-test-a", Lines: []string{"drive-a0", "drive-a1", "drive-a2", "drive-a3", "drive-a4", "drive-a5", "drive-a6", "drive-a7"}}
	bankB = sim.Bank{Label: "drive-test-b", Lines: []string{"drive-b0", "drive-b1"}}
)

// envTool makes the test binary act as the tool: it holds a JSON drive.Config.
const envTool = "DRIVE_TEST_TOOL" // private to this test binary, not a gpiohil variable

// toolDeadline bounds every wait for the tool. Starting a Go program in the VM takes about
// 10 ms under TCG (DESIGN.md); the bound only turns a hang into a failure with a message.
const toolDeadline = 20 * time.Second

func TestMain(m *testing.M) {
	if cfg, ok := os.LookupEnv(envTool); ok {
		os.Exit(toolMain(cfg))
	}
	os.Exit(vmtest.Main(m, bankA, bankB))
}

// toolMain is `gpiohil drive` without its flag parsing (which cmd/gpiohil tests), with the
// same exit statuses: 2 for an invalid configuration, 1 for a runtime error.
func toolMain(js string) int {
	// gpiohil's main has a handler for SIGINT and SIGTERM before any command runs; do the same,
	// so that the tests see hold mode undo it.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt, syscall.SIGTERM)
	var cfg drive.Config
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "gpiohil %v\n", err)
		return 2
	}
	if err := drive.Run(cfg, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "gpiohil: %v\n", err)
		return 1
	}
	return 0
}

// TestHold checks, for each bias, what the line is while the tool holds it and after it is
// killed: gpio-sim sets a released line to its simulated pull, which a pull-up or pull-down
// bias overwrites and a disabled or as-is bias leaves.
func TestHold(t *testing.T) {
	a := simChip(t, bankA.Label)
	const offset = 0 // drive-a0
	for _, tc := range []struct {
		bias     vocab.Bias
		value    string
		prepared string // sim pull before the tool runs, opposite to the value to show the drive
		wantPull string // sim pull while held and after
	}{
		{vocab.BiasAsIs, "1", "pull-down", "pull-down"},
		{vocab.BiasAsIs, "0", "pull-up", "pull-up"},
		{vocab.BiasDisabled, "1", "pull-down", "pull-down"},
		{vocab.BiasPullUp, "0", "pull-down", "pull-up"},
		{vocab.BiasPullDown, "1", "pull-up", "pull-down"},
	} {
		t.Run(fmt.Sprintf("%s=%s", tc.bias, tc.value), func(t *testing.T) {
			setPull(t, a, offset, tc.prepared)
			tool := start(t, drive.Config{Mode: drive.ModeHold, Bias: tc.bias, Lines: []string{"drive-a0=" + tc.value}})
			tool.waitReady(t)

			info := lineInfo(t, a, offset)
			if got, want := describeInfo(info), "output, bias "+string(tc.bias); !info.Used || info.Consumer != drive.DefaultConsumer || got != want {
				t.Errorf("while held: line info used %v, consumer %q, %s; want used by %q, %s", info.Used, info.Consumer, got, drive.DefaultConsumer, want)
			}
			if got := attr(t, a, offset, "value"); got != tc.value {
				t.Errorf("while held: sim value %s, want %s", got, tc.value)
			}
			if got := attr(t, a, offset, "pull"); got != tc.wantPull {
				t.Errorf("while held: sim pull %s, want %s", got, tc.wantPull)
			}

			tool.end(t, syscall.SIGKILL)
			checkReleased(t, a, offset, "output", tc.wantPull)
		})
	}
}

// TestEndings checks every mode and way of ending: which ones clean up (reconfigure the line to
// input with bias disabled before releasing it) and which release it as it was, the exit
// status, and that a neighbour line the tool was not asked about is left alone.
func TestEndings(t *testing.T) {
	a := simChip(t, bankA.Label)
	const target, neighbour = 1, 2 // drive-a1, drive-a2
	for _, tc := range []struct {
		mode     drive.Mode
		signal   syscall.Signal // 0: the tool ends by itself
		wantCode int            // exit status, when no signal kills it
		killed   bool           // the signal kills it
		cleanup  bool
	}{
		{mode: drive.ModeExit},
		{mode: drive.ModeCleanup, cleanup: true},
		{mode: drive.ModeHold, signal: syscall.SIGINT, killed: true},
		{mode: drive.ModeHold, signal: syscall.SIGTERM, killed: true},
		{mode: drive.ModeHold, signal: syscall.SIGHUP, killed: true},
		{mode: drive.ModeHold, signal: syscall.SIGKILL, killed: true},
		{mode: drive.ModeHoldCleanup, signal: syscall.SIGINT, cleanup: true},
		{mode: drive.ModeHoldCleanup, signal: syscall.SIGTERM, cleanup: true},
		{mode: drive.ModeHoldCleanup, signal: syscall.SIGHUP, cleanup: true},
		{mode: drive.ModeHoldCleanup, signal: syscall.SIGKILL, killed: true},
		{mode: drive.ModePanic, wantCode: 2},
	} {
		name := string(tc.mode)
		if tc.signal != 0 {
			name += "/" + unix.SignalName(tc.signal)
		}
		t.Run(name, func(t *testing.T) {
			// The target's sim pull is pull-up, so that the tool's pull-down bias shows. The
			// neighbour is prepared unlike anything the tool does: an output (gpio-sim keeps
			// a released line's direction) with pull-up.
			setPull(t, a, target, "pull-up")
			prepareOutput(t, a, neighbour, "pull-up")
			events := watch(t, a, target, neighbour)

			tool := start(t, drive.Config{Mode: tc.mode, Bias: vocab.BiasPullDown, Lines: []string{"drive-a1=1"}})
			holds := tc.mode != drive.ModeExit && tc.mode != drive.ModeCleanup
			if holds {
				tool.waitReady(t)
			}
			res := tool.end(t, tc.signal)

			switch {
			case tc.killed && res.signal != tc.signal:
				t.Errorf("tool ended with status %d, signal %v; want killed by %v", res.code, res.signal, tc.signal)
			case !tc.killed && (res.signal != 0 || res.code != tc.wantCode):
				t.Errorf("tool ended with status %d, signal %v; want status %d; stderr:\n%s", res.code, res.signal, tc.wantCode, res.stderr)
			}
			if want := map[bool]string{true: drive.Ready, false: ""}[holds]; res.stdout != want {
				t.Errorf("stdout %q, want %q", res.stdout, want)
			}
			if tc.mode == drive.ModePanic && !strings.Contains(res.stderr, "panic: gpiohil drive: panic mode") {
				t.Errorf("stderr %q, want Go's report of the panic", res.stderr)
			}

			seen := events.untilReleased(t, target)
			want := []string{"requested output, bias pull-down by gpiohil-drive"}
			if tc.cleanup {
				want = append(want, "reconfigured input, bias disabled")
			}
			want = append(want, "released")
			if got := summarize(seen, target); !slices.Equal(got, want) {
				t.Errorf("line info events of the line:\n got %q\nwant %q", got, want)
			}
			if got := summarize(seen, neighbour); len(got) > 0 {
				t.Errorf("the neighbour line was touched: %q", got)
			}

			// After the release gpio-sim drives an output to its sim pull, and an input reads
			// it; the pull-down bias replaced the sim pull, and "bias disabled" cannot undo
			// that on gpio-sim, which has no "no pull".
			wantDir := map[bool]string{true: "input", false: "output"}[tc.cleanup]
			checkReleased(t, a, target, wantDir, "pull-down")
			checkReleased(t, a, neighbour, "output", "pull-up")
		})
	}
}

// TestSelectLines checks every way of naming lines: what the tool holds is exactly the lines
// named, with their values.
func TestSelectLines(t *testing.T) {
	a, b := simChip(t, bankA.Label), simChip(t, bankB.Label)
	type want struct {
		chip   sim.Chip
		offset int
		info   string // direction and bias
		value  string // sim value
	}
	for _, tc := range []struct {
		name string
		cfg  drive.Config
		want []want
	}{
		{"names on two chips", drive.Config{Lines: []string{"drive-a3=1", "drive-b1=0"}},
			[]want{{a, 3, "output, bias as-is", "1"}, {b, 1, "output, bias as-is", "0"}}},
		{"chip label and offsets", drive.Config{Chip: bankA.Label, Lines: []string{"3=1", "4=0"}},
			[]want{{a, 3, "output, bias as-is", "1"}, {a, 4, "output, bias as-is", "0"}}},
		{"chip name and line name", drive.Config{Chip: a.Name, Lines: []string{"drive-a4=1"}},
			[]want{{a, 4, "output, bias as-is", "1"}}},
		{"chip path and offset", drive.Config{Chip: b.Dev, Lines: []string{"0=1"}},
			[]want{{b, 0, "output, bias as-is", "1"}}},
		{"inputs with pull-up", drive.Config{Direction: vocab.Input, Bias: vocab.BiasPullUp, Lines: []string{"drive-a5", "drive-b0"}},
			[]want{{a, 5, "input, bias pull-up", "1"}, {b, 0, "input, bias pull-up", "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				// The pull opposite to the expected value, so the value shows the request.
				setPull(t, w.chip, w.offset, map[string]string{"0": "pull-up", "1": "pull-down"}[w.value])
			}
			cfg := tc.cfg
			cfg.Mode, cfg.Consumer = drive.ModeHold, "select-test"
			tool := start(t, cfg)
			tool.waitReady(t)
			var held []string
			for _, c := range []sim.Chip{a, b} {
				for o := range c.Lines {
					if info := lineInfo(t, c, o); info.Consumer == cfg.Consumer {
						held = append(held, fmt.Sprintf("%s:%d", c.Label, o))
					}
				}
			}
			var wantHeld []string
			for _, w := range tc.want {
				wantHeld = append(wantHeld, fmt.Sprintf("%s:%d", w.chip.Label, w.offset))
				if got := describeInfo(lineInfo(t, w.chip, w.offset)); got != w.info {
					t.Errorf("%s offset %d: %s, want %s", w.chip.Label, w.offset, got, w.info)
				}
				if got := attr(t, w.chip, w.offset, "value"); got != w.value {
					t.Errorf("%s offset %d: sim value %s, want %s", w.chip.Label, w.offset, got, w.value)
				}
			}
			slices.Sort(held)
			slices.Sort(wantHeld)
			if !slices.Equal(held, wantHeld) {
				t.Errorf("the tool holds %q, want %q", held, wantHeld)
			}
			tool.end(t, syscall.SIGKILL)
		})
	}
}

// TestErrors checks the message of every bad input, and which ones are usage errors: those
// Validate finds without touching a chip.
func TestErrors(t *testing.T) {
	a, b := simChip(t, bankA.Label), simChip(t, bankB.Label)
	for _, tc := range []struct {
		name  string
		cfg   drive.Config
		usage bool
		want  string
	}{
		{"no lines", drive.Config{}, true, "drive: no lines given; want LINE=VALUE (output) or LINE (input)"},
		{"output without value", drive.Config{Lines: []string{"drive-a6"}}, true, `drive: "drive-a6": an output needs a value; write drive-a6=0 or drive-a6=1`},
		{"bad value", drive.Config{Lines: []string{"drive-a6=2"}}, true, `drive: "drive-a6=2": value "2" is not 0 or 1`},
		{"value for input", drive.Config{Direction: vocab.Input, Lines: []string{"drive-a6=1"}}, true, `drive: "drive-a6=1": an input takes no value; write just drive-a6`},
		{"no line name", drive.Config{Lines: []string{"=1"}}, true, `drive: "=1": no line before the '='`},
		{"line twice", drive.Config{Lines: []string{"drive-a6=1", "drive-a6=0"}}, true, "drive: line drive-a6 is given twice"},
		{"bad mode", drive.Config{Mode: "sideways", Lines: []string{"drive-a6=1"}}, true, `drive: mode "sideways": want exit, cleanup, hold, hold-cleanup or panic`},
		{"bad bias", drive.Config{Bias: "pull-sideways", Lines: []string{"drive-a6=1"}}, true, `drive: bias "pull-sideways": want as-is, disabled, pull-up or pull-down`},
		{"bad direction", drive.Config{Direction: "both", Lines: []string{"drive-a6=1"}}, true, `drive: direction "both": want output or input`},
		{"long consumer", drive.Config{Consumer: strings.Repeat("c", 32), Lines: []string{"drive-a6=1"}}, true, "is 32 bytes long; the kernel keeps at most 31"},

		{"same line twice", drive.Config{Chip: bankA.Label, Lines: []string{"6=1", "drive-a6=0"}}, false,
			fmt.Sprintf("drive: line drive-a6 (%s offset 6) is given twice", a.Name)},
		{"no such chip label", drive.Config{Chip: "no-such-chip", Lines: []string{"0=1"}}, false,
			fmt.Sprintf(`drive: no GPIO chip "no-such-chip" (there are %s [%s], %s [%s])`, a.Name, a.Label, b.Name, b.Label)},
		{"no such chip path", drive.Config{Chip: "/dev/gpiochip99", Lines: []string{"0=1"}}, false, `drive: no GPIO chip "/dev/gpiochip99" (there are `},
		{"not a chip", drive.Config{Chip: "/dev/null", Lines: []string{"0=1"}}, false, "drive: /dev/null is not a GPIO chip"},
		{"no such line", drive.Config{Lines: []string{"no-such-line=1"}}, false,
			fmt.Sprintf(`drive: no line named "no-such-line" on any chip (searched %s [%s], %s [%s])`, a.Name, a.Label, b.Name, b.Label)},
		{"offset without chip", drive.Config{Lines: []string{"5=1"}}, false, "; to give an offset, name its chip with --chip"},
		{"line not on chip", drive.Config{Chip: bankB.Label, Lines: []string{"drive-a0=1"}}, false,
			fmt.Sprintf(`drive: no line named "drive-a0" on %s [%s]`, b.Name, b.Label)},
		{"offset out of range", drive.Config{Chip: bankB.Label, Lines: []string{"2=1"}}, false,
			fmt.Sprintf("drive: offset 2 is out of range: %s [%s] has 2 lines (offsets 0 to 1)", b.Name, b.Label)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err != nil) != tc.usage {
				t.Errorf("Validate: %v; want a usage error: %v", err, tc.usage)
			}
			err := drive.Run(tc.cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

// TestBusy checks that a busy line is named with its holder, and that a request that fails
// leaves nothing requested: not the other lines of the same chip (one request, granted whole or
// not at all), nor those of a chip requested before.
func TestBusy(t *testing.T) {
	a, b := simChip(t, bankA.Label), simChip(t, bankB.Label)
	holder, err := gpiocdev.RequestLine(a.Name, 6, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("test-holder"))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	cfg := drive.Config{Lines: []string{"drive-b0=1", "drive-a7=1", "drive-a6=0"}}
	err = drive.Run(cfg, io.Discard)
	want := fmt.Sprintf(`drive: line busy: drive-a6 (%s offset 6) is held by "test-holder"`, a.Name)
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, unix.EBUSY) {
		t.Errorf("Run: %v\nwant EBUSY and %q", err, want)
	}
	for _, l := range []struct {
		chip   sim.Chip
		offset int
	}{{b, 0}, {a, 7}} {
		if info := lineInfo(t, l.chip, l.offset); info.Used {
			t.Errorf("%s offset %d is still held by %q after the failed request", l.chip.Label, l.offset, info.Consumer)
		}
	}
	if got := attr(t, a, 6, "value"); got != "1" {
		t.Errorf("the holder's line reads %s, want the 1 it drives", got)
	}

	// The same as a process: exit status 1, the message on stderr.
	res := start(t, cfg).end(t, 0)
	if res.code != 1 || !strings.Contains(res.stderr, want) {
		t.Errorf("tool: status %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
	}
}

// TestPermission runs the tool as an unprivileged user, who cannot open /dev/gpiochip*.
func TestPermission(t *testing.T) {
	a := simChip(t, bankA.Label)
	// Both conditions are the machine's, and the project's own setup removes them: these tests
	// run in gpiohil's VM, as root, where devtmpfs creates the chips' device nodes for root
	// only (0600). So they are skips only where the VM lane is not required.
	if os.Geteuid() != 0 {
		vmtest.RequireLane(t, "root", fmt.Sprintf("running as uid %d: the test runs the tool as another user, which needs root", os.Geteuid()))
	}
	var st unix.Stat_t
	if err := unix.Stat(a.Dev, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o006 != 0 {
		vmtest.RequireLane(t, "a chip device only root may open", fmt.Sprintf("%s is open to everyone (mode %04o): no permission error to provoke", a.Dev, st.Mode&0o7777))
	}
	// Our binary lives in the directory shared with the host, which the other user may not
	// enter: run a copy from a directory everyone can read.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "drive-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "drive.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	for _, tc := range []struct {
		name string
		cfg  drive.Config
		want []string
	}{
		{"chip given", drive.Config{Chip: a.Name, Lines: []string{"drive-a0=1"}},
			[]string{"drive: open " + a.Dev + ": permission denied; run as root or join the gpio group"}},
		{"line searched", drive.Config{Lines: []string{"drive-a0=1"}},
			[]string{`drive: no line named "drive-a0"`, "; could not open ", a.Dev, ": permission denied; run as root or join the gpio group"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool := startAs(t, bin, &syscall.Credential{Uid: nobody, Gid: nobody}, tc.cfg)
			res := tool.end(t, 0)
			if res.code != 1 {
				t.Errorf("status %d, want 1; stderr %q", res.code, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr %q\nwant %q", res.stderr, w)
				}
			}
		})
	}
}

func ExampleConfig_Validate() {
	cfg := drive.Config{Direction: vocab.Input, Lines: []string{"GPIO17=1"}}
	fmt.Println(cfg.Validate())
	// Output: drive: "GPIO17=1": an input takes no value; write just GPIO17
}

// tool is the tool running as a subprocess.
type tool struct {
	cmd    *exec.Cmd
	stdout *notifyBuffer
	stderr bytes.Buffer
	exited chan struct{} // closed once cmd.Wait returned
}

// result is how the tool ended.
type result struct {
	code           int            // exit status; -1 when a signal killed it
	signal         syscall.Signal // the signal that killed it, or 0
	stdout, stderr string
}

func start(t *testing.T, cfg drive.Config) *tool {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return startAs(t, self, nil, cfg)
}

// startAs runs bin as the tool with cfg, as the user cred when not nil.
func startAs(t *testing.T, bin string, cred *syscall.Credential, cfg drive.Config) *tool {
	t.Helper()
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tl := &tool{stdout: newNotifyBuffer(), exited: make(chan struct{})}
	tl.cmd = exec.Command(bin)
	tl.cmd.Env = append(os.Environ(), envTool+"="+string(js))
	tl.cmd.Stdout, tl.cmd.Stderr = tl.stdout, &tl.stderr
	tl.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := tl.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		tl.cmd.Wait() // how it ended is in tl.cmd.ProcessState
		close(tl.exited)
	}()
	t.Cleanup(tl.kill)
	return tl
}

// waitReady waits until the tool says it holds its lines.
func (tl *tool) waitReady(t *testing.T) {
	t.Helper()
	if !tl.stdout.waitFor(drive.Ready, toolDeadline) {
		tl.kill()
		t.Fatalf("the tool did not print %q within %v (%v); stdout %q, stderr:\n%s", drive.Ready, toolDeadline, tl.cmd.ProcessState, tl.stdout.String(), tl.stderr.String())
	}
}

// kill makes sure the tool is gone.
func (tl *tool) kill() {
	select {
	case <-tl.exited:
	default:
		tl.cmd.Process.Kill()
		<-tl.exited
	}
}

// end sends sig (unless 0) and waits for the tool to exit.
func (tl *tool) end(t *testing.T, sig syscall.Signal) result {
	t.Helper()
	if sig != 0 {
		if err := tl.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-tl.exited:
	case <-time.After(toolDeadline):
		tl.kill()
		t.Fatalf("the tool did not exit within %v; stderr:\n%s", toolDeadline, tl.stderr.String())
	}
	res := result{code: tl.cmd.ProcessState.ExitCode(), stdout: tl.stdout.String(), stderr: tl.stderr.String()}
	if ws, ok := tl.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.signal = ws.Signal()
	}
	return res
}

// notifyBuffer is a bytes.Buffer safe for a writer and a reader that waits for text.
type notifyBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{wrote: make(chan struct{}, 1)} }

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *notifyBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor reports whether the buffer contains s within d.
func (b *notifyBuffer) waitFor(s string, d time.Duration) bool {
	timeout := time.After(d)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.wrote:
		case <-timeout:
			return false
		}
	}
	return true
}

// recorder collects line info change events of watched lines, in the kernel's order.
type recorder struct {
	mu     sync.Mutex
	events []gpiocdev.LineInfoChangeEvent
	more   chan struct{}
}

// watch records the line info changes of the chip's lines at offsets until the test ends. One
// chip handle watches them all, so the events of different lines stay in order.
func watch(t *testing.T, c sim.Chip, offsets ...int) *recorder {
	t.Helper()
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chip.Close() })
	r := &recorder{more: make(chan struct{}, 1)}
	for _, o := range offsets {
		if _, err := chip.WatchLineInfo(o, r.record); err != nil {
			t.Fatalf("watch %s offset %d: %v", c.Label, o, err)
		}
	}
	return r
}

func (r *recorder) record(e gpiocdev.LineInfoChangeEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// untilReleased waits for the release of the line at offset and returns the events so far.
// The kernel queues the event when the tool's request is closed, before the tool's exit is
// reported; the wait is for our watcher goroutine to read it.
func (r *recorder) untilReleased(t *testing.T, offset int) []gpiocdev.LineInfoChangeEvent {
	t.Helper()
	timeout := time.After(toolDeadline)
	for {
		r.mu.Lock()
		events := slices.Clone(r.events)
		r.mu.Unlock()
		for _, e := range events {
			if e.Type == gpiocdev.LineReleased && e.Info.Offset == offset {
				return events
			}
		}
		select {
		case <-r.more:
		case <-timeout:
			t.Fatalf("no release of offset %d within %v; events: %q", offset, toolDeadline, summarize(events, offset))
		}
	}
}

// summarize spells the events of one line like "requested output, bias pull-down by NAME".
func summarize(events []gpiocdev.LineInfoChangeEvent, offset int) []string {
	var s []string
	for _, e := range events {
		if e.Info.Offset != offset {
			continue
		}
		switch e.Type {
		case gpiocdev.LineRequested:
			s = append(s, "requested "+describeInfo(e.Info)+" by "+e.Info.Consumer)
		case gpiocdev.LineReconfigured:
			s = append(s, "reconfigured "+describeInfo(e.Info))
		case gpiocdev.LineReleased:
			s = append(s, "released")
		}
	}
	return s
}

// describeInfo spells a requested line's direction and bias: "output, bias pull-down".
func describeInfo(info gpiocdev.LineInfo) string {
	dir := map[gpiocdev.LineDirection]string{gpiocdev.LineDirectionInput: "input", gpiocdev.LineDirectionOutput: "output"}[info.Config.Direction]
	bias := map[gpiocdev.LineBias]vocab.Bias{
		gpiocdev.LineBiasUnknown:  vocab.BiasAsIs,
		gpiocdev.LineBiasDisabled: vocab.BiasDisabled,
		gpiocdev.LineBiasPullUp:   vocab.BiasPullUp,
		gpiocdev.LineBiasPullDown: vocab.BiasPullDown,
	}[info.Config.Bias]
	return fmt.Sprintf("%s, bias %s", dir, bias)
}

// checkReleased checks a line the tool no longer holds: not in use, the direction the driver
// reports, the sim pull, and the sim value equal to the pull (gpio-sim drives a released output
// to its pull; an input reads it).
func checkReleased(t *testing.T, c sim.Chip, offset int, wantDir, wantPull string) {
	t.Helper()
	if info := lineInfo(t, c, offset); info.Used {
		t.Errorf("%s offset %d: still held by %q", c.Label, offset, info.Consumer)
		return
	}
	wantValue := map[string]string{"pull-up": "1", "pull-down": "0"}[wantPull]
	if got := attr(t, c, offset, "pull"); got != wantPull {
		t.Errorf("%s offset %d after release: sim pull %s, want %s", c.Label, offset, got, wantPull)
	}
	if got := attr(t, c, offset, "value"); got != wantValue {
		t.Errorf("%s offset %d after release: sim value %s, want %s (the sim pull)", c.Label, offset, got, wantValue)
	}
	if got := direction(t, c, offset); got != wantDir {
		t.Errorf("%s offset %d after release: %s, want %s", c.Label, offset, got, wantDir)
	}
}

// direction returns the direction gpio-sim reports for an unrequested line. Line info of an
// unrequested line is gpiolib's cached flag, not evidence (DESIGN.md), but any request, as-is
// included, makes gpiolib ask the driver, and line info of a held line is trustworthy. On
// gpio-sim the as-is request disturbs nothing: its release sets the line to its sim pull, which
// a released line already reads. (On pinctrl-bcm2835 that release would turn an output into an
// input: this check is for gpio-sim only.)
func direction(t *testing.T, c sim.Chip, offset int) string {
	t.Helper()
	l, err := gpiocdev.RequestLine(c.Name, offset, gpiocdev.AsIs, gpiocdev.WithConsumer("drive-test-observer"))
	if err != nil {
		t.Fatalf("request %s offset %d as-is to read its direction: %v", c.Label, offset, err)
	}
	defer l.Close()
	info, err := l.Info()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(describeInfo(info), ",", 2)[0]
}

// prepareOutput leaves a line as gpio-sim keeps a released output: direction output, driving
// its sim pull, which is set to pull.
func prepareOutput(t *testing.T, c sim.Chip, offset int, pull string) {
	t.Helper()
	l, err := gpiocdev.RequestLine(c.Name, offset, gpiocdev.AsOutput(0), gpiocdev.WithConsumer("drive-test-prepare"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	setPull(t, c, offset, pull)
}

func simChip(t *testing.T, label string) sim.Chip {
	t.Helper()
	c, err := sim.ChipFromEnv(label)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lineInfo(t *testing.T, c sim.Chip, offset int) gpiocdev.LineInfo {
	t.Helper()
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer chip.Close()
	info, err := chip.LineInfo(offset)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// attr reads a gpio-sim sysfs attribute of a line: value or pull.
func attr(t *testing.T, c sim.Chip, offset int, name string) string {
	t.Helper()
	b, err := os.ReadFile(c.Attr(offset, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// setPull sets a line's simulated pull, "pull-up" or "pull-down".
func setPull(t *testing.T, c sim.Chip, offset int, pull string) {
	t.Helper()
	if err := os.WriteFile(c.Attr(offset, "pull"), []byte(pull), 0); err != nil {
		t.Fatal(err)
	}
}
