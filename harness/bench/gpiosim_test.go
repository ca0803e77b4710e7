package bench_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/bench/benchtest"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

var banks = []sim.Bank{
	{Label: "bench-a", Lines: []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}},
	{Label: "bench-b", Lines: []string{"b0", "b1"}},
}

func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_HELPER") == "observe" {
		os.Exit(observeHelper())
	}
	os.Exit(vmtest.Main(m, banks...))
}

// newBench attaches to the VM's chips and restores everything when the test ends.
func newBench(t *testing.T) *bench.GPIOSim {
	t.Helper()
	b, err := bench.GPIOSimFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bench: %v", err)
		}
	})
	return b
}

func line(t *testing.T, b bench.Bench, name string) bench.Line {
	t.Helper()
	l, err := b.Line(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// simAttrs reads the simulator's own view of a line, independent of the observer.
func simAttrs(t *testing.T, l bench.Line) (value, pull string) {
	t.Helper()
	c, err := sim.ChipFromEnv(l.Chip)
	if err != nil {
		t.Fatal(err)
	}
	v, err := os.ReadFile(c.Attr(l.Offset, "value"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := os.ReadFile(c.Attr(l.Offset, "pull"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(v)), strings.TrimSpace(string(p))
}

func observeOK(t *testing.T, b bench.Bench, l bench.Line) observe.Observation {
	t.Helper()
	v0, p0 := simAttrs(t, l)
	o, err := b.Observe(l)
	if err != nil {
		t.Fatal(err)
	}
	if v1, p1 := simAttrs(t, l); v1 != v0 || p1 != p0 {
		t.Errorf("observing %s changed it: value %s->%s, pull %s->%s", l.Name, v0, v1, p0, p1)
	}
	return o
}

// markerLine is the line infoWatch.Sync requests and releases as its marker; no test here
// uses it otherwise.
const markerLine = "a7"

// watchInfo watches lines of the marker line's chip until the test ends, with markerLine as
// Sync's marker (package benchtest).
func watchInfo(t *testing.T, b bench.Bench, lines ...bench.Line) *benchtest.InfoWatch {
	t.Helper()
	marker := line(t, b, markerLine)
	var offs []int
	for _, l := range lines {
		if l.ChipName != marker.ChipName {
			t.Fatalf("watch %s: want a line of chip %s, the marker's", l.Name, marker.Chip)
		}
		offs = append(offs, l.Offset)
	}
	return benchtest.Watch(t, marker.ChipName, marker.Offset, marker.Name, offs...)
}

// The evidence table: each pre-state, prepared by a request that is then released, as gpio-sim
// leaves it. gpio-sim returns a released line to its simulated pull; a pull-up or pull-down
// bias overwrites that pull and it stays; bias disabled leaves it as it was (pull-down here,
// the default the bench restores to).
func TestObserveAfterEveryPreState(t *testing.T) {
	for _, tc := range []struct {
		state string
		level vocab.Level
		pull  vocab.Pull
	}{
		{"input pull-up", vocab.High, vocab.PullUp},
		{"input pull-down", vocab.Low, vocab.PullDown},
		{"input disabled", vocab.Low, vocab.PullDown},
		{"output high pull-up", vocab.High, vocab.PullUp},
		{"output high pull-down", vocab.Low, vocab.PullDown},
		{"output high disabled", vocab.Low, vocab.PullDown},
		{"output low pull-up", vocab.High, vocab.PullUp},
		{"output low pull-down", vocab.Low, vocab.PullDown},
		{"output low disabled", vocab.Low, vocab.PullDown},
	} {
		t.Run(tc.state, func(t *testing.T) {
			b := newBench(t)
			l := line(t, b, "a1")
			st, err := bench.ParseState(tc.state)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Prepare(l, st); err != nil {
				t.Fatal(err)
			}
			o := observeOK(t, b, l)
			want := observe.Observation{Facts: observe.Facts{Direction: vocab.Input, Level: tc.level, Drive: vocab.Pulled, Pull: tc.pull, Owner: vocab.Free}}
			if o.Direction != want.Direction || o.Level != want.Level || o.Drive != want.Drive || o.Pull != want.Pull || o.Owner != want.Owner {
				t.Errorf("after %s released: %s (owner %s)\nwant %s (owner free)\nevidence: %q", tc.state, o.State(), o.Owner, want.State(), o.Evidence)
			}
		})
	}
}

// While a process holds the line, line info is current and the observer uses it.
func TestObserveWhileHeld(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []gpiocdev.LineReqOption
		state string
		level string
		edges bool // the request detects edges, so an edge observing raised would be an event
	}{
		{"output high", []gpiocdev.LineReqOption{gpiocdev.AsOutput(1)}, "output high driven", "1", false},
		{"output low over pull-up", []gpiocdev.LineReqOption{gpiocdev.AsOutput(0), gpiocdev.WithPullUp}, "output low driven", "0", false},
		{"input pull-up", []gpiocdev.LineReqOption{gpiocdev.AsInput, gpiocdev.WithPullUp}, "input high pulled pull-up", "1", false},
		{"input pull-down with edges", []gpiocdev.LineReqOption{gpiocdev.WithPullDown, gpiocdev.WithBothEdges}, "input low pulled pull-down", "0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBench(t)
			l := line(t, b, "a2")
			events := make(chan gpiocdev.LineEvent, 8)
			opts := append(tc.opts, gpiocdev.WithConsumer("test-holder"), gpiocdev.WithEventHandler(func(e gpiocdev.LineEvent) { events <- e }))
			req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { req.Close(); b.Restore(l) })
			o := observeOK(t, b, l)
			if o.State() != tc.state || o.Owner != vocab.Used || o.Consumer != "test-holder" {
				t.Errorf("held %s: %s, owner %s %q; want %s used by test-holder\nevidence: %q", tc.name, o.State(), o.Owner, o.Consumer, tc.state, o.Evidence)
			}
			if !tc.edges {
				// Without edge detection the kernel makes no edge events for this request at
				// all: there is nothing that could arrive late.
				select {
				case e := <-events:
					t.Errorf("observing raised an edge event on the held line, which detects no edges: %+v", e)
				default:
				}
				return
			}
			// Observing must not flip a held input's simulated pull: that would be an edge its
			// holder sees. Rather than wait a while for silence, the test raises an edge itself
			// once observing is done (it sets the simulated pull up) and reads edges until that
			// marker: the kernel stamps an edge in the interrupt the pull change raises and
			// queues one line's edges in order, so every edge stamped before the marker began
			// came from observing and is read before the marker. The kernel also numbers the
			// line's edges, so the marker must be edge 1: that holds whatever the timestamps.
			// (The kernel's edge thread is real-time and the VM has one CPU: woken by an edge of
			// the observer's, it runs as the observer's write returns, so the observer's edge
			// and the marker cannot merge into one event.)
			c, err := sim.ChipFromEnv(l.Chip)
			if err != nil {
				t.Fatal(err)
			}
			began := benchtest.Mark()
			if err := os.WriteFile(c.Attr(l.Offset, "pull"), []byte("pull-up"), 0); err != nil {
				t.Fatalf("set the simulated pull of %s up as a marker edge: %v", l.Name, err)
			}
			deadline := time.After(benchtest.MarkerWait)
			for marked := false; !marked; {
				select {
				case e := <-events:
					if e.Timestamp <= began {
						t.Errorf("observing raised an edge on the held line: %+v", e)
						continue
					}
					if e.Type != gpiocdev.LineEventRisingEdge || e.LineSeqno != 1 {
						t.Errorf("the marker edge (simulated pull set up) is %+v; want the line's first edge, rising", e)
					}
					marked = true
				case <-deadline:
					t.Fatalf("no edge event within %v of setting the simulated pull of held input %s up: cannot tell whether observing raised one", benchtest.MarkerWait, l.Name)
				}
			}
		})
	}
}

// heldWait bounds the wait for a held signal after a request: the quiet time, and seconds of
// room for a loaded emulator. Not seeing it by then is a failure.
const heldWait = 2 * time.Second

// heldStray is how long a watch that has seen no request must stay quiet. It waits for nothing
// to arrive (the marker has shown that no line-info event of the line exists, so none can be
// late): it gives a watch that armed its quiet-time timer without a request the time to fire.
const heldStray = 3 * bench.HeldQuiet

func TestHeldWatchSeesARequestAndTouchesNothing(t *testing.T) {
	b := newBench(t)
	l := line(t, b, "a3")
	t.Cleanup(func() { b.Restore(l) })
	// Our own watch, started first, gets every line-info event of the line the LineWatch gets.
	iw := watchInfo(t, b, l)
	w, err := bench.WatchLine(l)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	started := time.Now()
	// Watching touched nothing: no event of the line came before the marker's, so neither did
	// the watch request or reconfigure the line, nor can a request reach the watch late.
	if evs := iw.Sync(t); len(evs) > 0 {
		t.Fatalf("watching changed the line's info: %s", benchtest.Describe(evs))
	}
	before := observeOK(t, b, l)
	if before.Owner == vocab.Used {
		t.Fatalf("watching requested the line: %+v", before)
	}
	time.Sleep(time.Until(started.Add(heldStray)))
	select {
	case <-w.Held():
		t.Fatal("held before anything requested the line")
	default:
	}
	req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("test-holder"))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	var heldAt time.Duration
	select {
	case <-w.Held():
		heldAt = benchtest.Monotonic()
	case <-time.After(heldWait):
		t.Fatalf("no held signal within %v of a request", heldWait)
	}
	// Measured from the kernel's timestamp of the request, not from a clock read before the
	// call: a watch that did not wait the quiet time cannot hide behind the call's own time.
	evs := iw.Sync(t)
	if len(evs) != 1 || evs[0].Type != gpiocdev.LineRequested || evs[0].Info.Consumer != "test-holder" {
		t.Fatalf("line-info events of %s after one request: %s; want just that request, by \"test-holder\"", l.Name, benchtest.Describe(evs))
	}
	if d := heldAt - evs[0].Timestamp; d < bench.HeldQuiet {
		t.Errorf("held %v after the request (kernel timestamp), before the quiet time of %v", d, bench.HeldQuiet)
	}
}

// reconfigureGap is how long the simulated tool of TestHeldWatchWaitsOutAReconfiguration
// leaves between its request and its reconfiguration: well inside the quiet time, so a watch
// that missed the reconfiguration would call the line held before a quiet time after it.
const reconfigureGap = bench.HeldQuiet / 4

// reconfigureBudget bounds that test's attempts: an attempt takes about two quiet times, so a
// loaded emulator gets dozens of them before the test gives up.
const reconfigureBudget = 10 * time.Second

func TestHeldWatchWaitsOutAReconfiguration(t *testing.T) {
	b := newBench(t)
	l := line(t, b, "a3")
	t.Cleanup(func() { b.Restore(l) })
	iw := watchInfo(t, b, l)
	// A tool that requests the line as input and configures it as output right after: held
	// must come a quiet time after the second change, not after the first. Whether an attempt
	// can tell is decided by the kernel's timestamps of the two changes, not by the test's own
	// clock: when the emulator set them 3/4 of the quiet time or more apart, the watch may
	// rightly have called the line held in between, and the attempt is repeated. A correct
	// watch arms its timer on reading the reconfiguration, which the kernel stamped before, so
	// held can come no sooner than the quiet time after that stamp.
	var gaps []time.Duration
	for end := time.Now().Add(reconfigureBudget); time.Now().Before(end); {
		w, err := bench.WatchLine(l)
		if err != nil {
			t.Fatal(err)
		}
		req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, gpiocdev.AsInput, gpiocdev.WithConsumer("test-holder"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(reconfigureGap) // the simulated tool's own pace, not a wait for the system
		if err := req.Reconfigure(gpiocdev.AsOutput(1)); err != nil {
			t.Fatal(err)
		}
		var heldAt time.Duration
		select {
		case <-w.Held():
			heldAt = benchtest.Monotonic()
		case <-time.After(heldWait):
			req.Close()
			w.Close()
			t.Fatalf("no held signal within %v of a request and a reconfiguration", heldWait)
		}
		req.Close()
		w.Close()
		seen := len(gaps) * 3 // events of the earlier attempts: requested, reconfigured, released
		evs := iw.Sync(t)[seen:]
		if len(evs) != 3 || evs[0].Type != gpiocdev.LineRequested || evs[1].Type != gpiocdev.LineReconfigured || evs[2].Type != gpiocdev.LineReleased {
			t.Fatalf("line-info events of %s for a request, a reconfiguration and a release: %s", l.Name, benchtest.Describe(evs))
		}
		gap := evs[1].Timestamp - evs[0].Timestamp
		if gap >= bench.HeldQuiet*3/4 {
			gaps = append(gaps, gap)
			continue
		}
		if heldAfter := heldAt - evs[1].Timestamp; heldAfter < bench.HeldQuiet {
			t.Errorf("held %v after the reconfiguration (kernel timestamps; it came %v after the request); want at least the quiet time of %v after it", heldAfter, gap, bench.HeldQuiet)
		}
		return
	}
	// Not a pass: the emulator never made the two changes close enough to tell.
	vmtest.RequireLane(t, "a VM fast enough to reconfigure a line within the quiet time",
		fmt.Sprintf("in %d attempts over %v the kernel stamped the reconfiguration %v or more after the request (shortest gap %v)",
			len(gaps), reconfigureBudget, bench.HeldQuiet*3/4, slices.Min(gaps)))
}

func TestObserveDoesNotRequestTheLine(t *testing.T) {
	b := newBench(t)
	l := line(t, b, "a3")
	w := watchInfo(t, b, l)
	observeOK(t, b, l)
	// Not a wait for silence: the marker's events come after any event observing raised.
	if evs := w.Sync(t); len(evs) > 0 {
		t.Errorf("observing changed the line's info (requested or reconfigured it): %s", benchtest.Describe(evs))
	}
}

func TestPlatformFacts(t *testing.T) {
	b := newBench(t)
	o := observeOK(t, b, line(t, b, "b0"))
	if o.Platform.Bench != vocab.KindGPIOSim || o.Platform.Driver != "gpio-sim" || !strings.HasPrefix(o.Platform.Kernel, "6.") {
		t.Errorf("platform = %+v, want gpio-sim bench and driver, a 6.x kernel", o.Platform)
	}
	if o.Platform.Persist != "" {
		t.Errorf("persist = %q on a kernel without pinctrl-bcm2835", o.Platform.Persist)
	}
	if !o.Has(vocab.FieldPull) || o.Chip != "bench-b" || o.Line != "b0" || o.Offset != 0 {
		t.Errorf("observation = %+v", o)
	}
}

func TestCloseRestoresTouchedLines(t *testing.T) {
	chips, _ := sim.FromEnv()
	b := bench.AttachGPIOSim(chips)
	l := line(t, b, "a4")
	if err := b.Prepare(l, bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp}); err != nil {
		t.Fatal(err)
	}
	if v, p := simAttrs(t, l); v != "1" || p != "pull-up" {
		t.Fatalf("prepared pull-up: value %s pull %s", v, p)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if v, p := simAttrs(t, l); v != "0" || p != string(bench.DefaultPull) {
		t.Errorf("after Close: value %s pull %s, want 0 and %s", v, p, bench.DefaultPull)
	}
	c, _ := gpiocdev.NewChip(l.ChipName)
	defer c.Close()
	if info, _ := c.LineInfo(l.Offset); info.Used {
		t.Errorf("after Close the line is still requested by %q", info.Consumer)
	}
}

func TestBadInput(t *testing.T) {
	b := newBench(t)
	t.Run("missing line", func(t *testing.T) {
		_, err := b.Line("nope")
		if !errors.Is(err, bench.ErrNoLine) || !strings.Contains(err.Error(), `"nope" is on none of the chips bench-a, bench-b`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing chip", func(t *testing.T) {
		_, err := b.Observe(bench.Line{Chip: "gone", ChipName: "gpiochip9", Name: "x"})
		if err == nil || !strings.Contains(err.Error(), `no chip labelled "gone" (have bench-a, bench-b)`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("busy line names its holder", func(t *testing.T) {
		l := line(t, b, "a5")
		req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("test-holder"))
		if err != nil {
			t.Fatal(err)
		}
		defer req.Close()
		err = b.Prepare(l, bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp})
		var be *bench.BusyError
		if !errors.As(err, &be) || be.Consumer != "test-holder" || !strings.Contains(err.Error(), `held by "test-holder"`) {
			t.Errorf("err = %v, want a busy error naming test-holder", err)
		}
	})
	t.Run("bad state", func(t *testing.T) {
		for _, s := range []string{"", "input", "input sideways", "output 1 pull-up", "output high"} {
			if _, err := bench.ParseState(s); err == nil || !strings.Contains(err.Error(), "want 'input BIAS' or 'output high|low BIAS'") {
				t.Errorf("ParseState(%q) err = %v", s, err)
			}
		}
	})
	t.Run("no permission", func(t *testing.T) {
		// Run the observer as nobody from a copy of this test binary on the guest's tmpfs.
		dir, err := os.MkdirTemp("/tmp", "nobody-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		self := filepath.Join(dir, "bench.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(self, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), "BENCH_TEST_HELPER=observe")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "permission denied; run as root or join the group that owns it (usually gpio)") {
			t.Errorf("as nobody: %v\n%s", err, out)
		}
	})
}

// observeHelper observes line a0 and prints the error, for the permission test.
func observeHelper() int {
	b, err := bench.GPIOSimFromEnv()
	if err != nil {
		println(err.Error())
		return 3
	}
	l, _ := b.Line("a0")
	if _, err := b.Observe(l); err != nil {
		println(err.Error())
		return 1
	}
	return 0
}

func TestObserveSimByLabel(t *testing.T) {
	obs, err := bench.ObserveSim("bench-b", []string{"b1", "0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 2 || obs[0].Line != "b1" || obs[1].Line != "b0" || obs[1].State() != "input low pulled pull-down" {
		t.Errorf("observations = %+v", obs)
	}
	for _, tc := range []struct{ label, line, want string }{
		{"nope", "b0", `no chip labelled "nope" (chips here: bench-a, bench-b)`},
		{"bench-b", "zz", `"zz" is on none of the chips bench-b (and it is not an offset 0 to 1)`},
		{"bench-b", "2", "not an offset 0 to 1"},
	} {
		if _, err := bench.ObserveSim(tc.label, []string{tc.line}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ObserveSim(%s, %s) err = %v, want %q", tc.label, tc.line, err, tc.want)
		}
	}
}

// A line a tool left exported in /sys/class/gpio (an export outlives its writer) is unexported
// by Restore.
func TestRestoreUnexportsSysfsLine(t *testing.T) {
	b := newBench(t)
	l := line(t, b, "b1")
	dirs, _ := filepath.Glob("/sys/class/gpio/gpiochip*")
	n := -1
	for _, d := range dirs {
		if lb, _ := os.ReadFile(filepath.Join(d, "label")); strings.TrimSpace(string(lb)) == l.Chip {
			base, _ := os.ReadFile(filepath.Join(d, "base"))
			fmt.Sscan(string(base), &n)
		}
	}
	if n < 0 {
		t.Fatalf("chip %s not in /sys/class/gpio", l.Chip)
	}
	n += l.Offset
	if err := os.WriteFile("/sys/class/gpio/export", []byte(fmt.Sprint(n)), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fmt.Sprintf("/sys/class/gpio/gpio%d/direction", n), []byte("high"), 0); err != nil {
		t.Fatal(err)
	}
	if o := observeOK(t, b, l); o.Owner != vocab.Used || o.Consumer != bench.SysfsConsumer || o.State() != "output high driven" {
		t.Fatalf("exported line: %s owner %s %q", o.State(), o.Owner, o.Consumer)
	}
	if err := b.Restore(l); err != nil {
		t.Fatal(err)
	}
	if o := observeOK(t, b, l); o.Owner != vocab.Free || o.State() != "input low pulled pull-down" {
		t.Errorf("after Restore: %s owner %s, want a free input at the default pull", o.State(), o.Owner)
	}
	if _, err := os.Stat(fmt.Sprintf("/sys/class/gpio/gpio%d", n)); err == nil {
		t.Errorf("gpio%d is still exported", n)
	}
}
