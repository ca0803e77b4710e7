package loopback_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/bench/benchtest"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/check"
	"github.com/gpiohil/gpiohil/loopback/jumper"
	"github.com/gpiohil/gpiohil/loopback/probe"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

// label is the simulated Pi's chip: 28 lines named GPIO0 to GPIO27, like a Pi's header chip.
const label = "gpiohil-pi"

// childEnv makes the test binary act as a gpiohil run that is interrupted (TestShutdownOnSIGTERM).
const childEnv = "LOOPBACK_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(interruptedRun(dir))
	}
	var lines []string
	for i := range 28 {
		lines = append(lines, fmt.Sprintf("GPIO%d", i))
	}
	os.Exit(vmtest.Main(m, sim.Bank{Label: label, Lines: lines}))
}

func simChip() (sim.Chip, error) { return sim.ChipFromEnv(label) }

// testRig is the built-in plan (eight pairs, A GPIO17-GPIO18 to H GPIO26-GPIO25) on the
// simulated chip.
func testRig() *rig.Rig {
	r, _ := rig.Default("pi4-b")
	r.Chip = label
	return r
}

// start runs a simulated wire for r and opens a bench on it.
func start(r *rig.Rig, lockDir, debugFS string, mid jumper.MidRail, faults ...jumper.Fault) (*loopback.Bench, *jumper.Wire, error) {
	c, err := simChip()
	if err != nil {
		return nil, nil, err
	}
	var jumpers [][2]string
	for _, p := range r.Pairs {
		jumpers = append(jumpers, [2]string{p.Line, p.Partner})
	}
	w, err := jumper.Start(jumper.Config{Chip: c, Jumpers: jumpers, Faults: faults, MidRail: mid})
	if err != nil {
		return nil, nil, err
	}
	b, err := loopback.Open(r, loopback.Options{Settler: w, LockDir: lockDir, DebugFS: debugFS})
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return b, w, nil
}

// open starts a bench on the simulated wire and closes both with the test, failing it if
// drivers ever fought on the wire.
func open(t testing.TB, mid jumper.MidRail, faults ...jumper.Fault) (*loopback.Bench, *jumper.Wire) {
	t.Helper()
	b, w, err := start(testRig(), t.TempDir(), t.TempDir(), mid, faults...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close bench: %v", err)
		}
		if c := w.Contentions(); len(c) > 0 {
			t.Errorf("drivers fought on the wire: %v", c)
		}
		if err := w.Close(); err != nil {
			t.Errorf("wire: %v", err)
		}
	})
	return b, w
}

func checked(t testing.TB, mid jumper.MidRail, faults ...jumper.Fault) (*loopback.Bench, *jumper.Wire) {
	t.Helper()
	b, w := open(t, mid, faults...)
	if rep := b.Check(); !rep.OK() && len(faults) == 0 {
		t.Fatalf("wiring check failed on a good rig:\n%s", rep)
	}
	return b, w
}

func line(t testing.TB, b *loopback.Bench, name string) bench.Line {
	t.Helper()
	l, err := b.Line(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// toolLine requests a line as the program under test would, outside the harness.
func toolLine(t *testing.T, name, consumer string, opts ...gpiocdev.LineReqOption) *gpiocdev.Line {
	t.Helper()
	c, err := simChip()
	if err != nil {
		t.Fatal(err)
	}
	l, err := gpiocdev.RequestLine(c.Name, slices.Index(c.Lines, name), append(opts, gpiocdev.WithConsumer(consumer))...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// lineEvents counts line-info events on a line while f runs. It does not wait a while for
// silence: the marker of infoWatch.Sync comes after every event f raised, so an event that is
// merely late is counted all the same.
func lineEvents(t *testing.T, name string, f func()) int {
	t.Helper()
	w := watchInfo(t, name)
	defer w.Close()
	f()
	return len(w.Sync(t))
}

// markerLine is the line infoWatch.Sync requests and releases as its marker: not on the rigs
// here (the built-in plan's pairs are on GPIO5, 6, 12, 13 and 16 to 27), so neither a bench
// nor a simulated wire ever holds it, and no test uses it otherwise.
const markerLine = "GPIO10"

// watchInfo watches the named lines of the simulated chip, with markerLine as Sync's marker
// (package benchtest); Close it, or the test's end does.
func watchInfo(t testing.TB, names ...string) *benchtest.InfoWatch {
	t.Helper()
	c, err := simChip()
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for _, name := range names {
		off := slices.Index(c.Lines, name)
		if off < 0 {
			t.Fatalf("watch %s: not a line of chip %s", name, c.Label)
		}
		offs = append(offs, off)
	}
	return benchtest.Watch(t, c.Name, slices.Index(c.Lines, markerLine), markerLine, offs...)
}

type want struct {
	class      probe.Class   // "" when ambiguous
	candidates []probe.Class // when ambiguous
}

func (w want) String() string {
	if w.class != "" {
		return string(w.class)
	}
	return fmt.Sprintf("ambiguous %v", w.candidates)
}

func one(c probe.Class) want { return want{class: c} }
func either(cs ...probe.Class) want {
	return want{candidates: cs}
}

// The probe classifies every pre-state of the line under test correctly: exactly where the
// reads tell states apart, and as ambiguous, naming the true state among the candidates,
// where the simulated board's mid-rail makes them read alike (see package probe).
func TestProbeClassifiesEveryPreState(t *testing.T) {
	highs := either(probe.DrivenHigh, probe.PulledUp)
	lows := either(probe.DrivenLow, probe.PulledDown)
	expect := map[jumper.MidRail]map[probe.Class]want{
		jumper.MidRailKeep: {probe.DrivenHigh: highs, probe.PulledUp: highs, probe.DrivenLow: lows, probe.PulledDown: lows, probe.Floating: one(probe.Floating)},
		jumper.MidRailLow:  {probe.DrivenHigh: one(probe.DrivenHigh), probe.PulledUp: one(probe.PulledUp), probe.DrivenLow: lows, probe.PulledDown: lows, probe.Floating: one(probe.Floating)},
		jumper.MidRailHigh: {probe.DrivenHigh: highs, probe.PulledUp: highs, probe.DrivenLow: one(probe.DrivenLow), probe.PulledDown: one(probe.PulledDown), probe.Floating: one(probe.Floating)},
	}
	// Pre-states made by a tool outside the harness: held, then released (gpio-sim stops
	// driving a released line and keeps its pull; a floating wire keeps its charge).
	type preState struct {
		name  string
		opts  []gpiocdev.LineReqOption
		held  probe.Class
		after probe.Class // once the tool has released the line
	}
	pres := []preState{
		{"output high", []gpiocdev.LineReqOption{gpiocdev.AsOutput(1), gpiocdev.WithBiasDisabled}, probe.DrivenHigh, probe.Floating},
		{"output low", []gpiocdev.LineReqOption{gpiocdev.AsOutput(0), gpiocdev.WithBiasDisabled}, probe.DrivenLow, probe.Floating},
		{"output high pull-down", []gpiocdev.LineReqOption{gpiocdev.AsOutput(1), gpiocdev.WithPullDown}, probe.DrivenHigh, probe.PulledDown},
		{"input pull-up", []gpiocdev.LineReqOption{gpiocdev.AsInput, gpiocdev.WithPullUp}, probe.PulledUp, probe.PulledUp},
		{"input pull-down", []gpiocdev.LineReqOption{gpiocdev.AsInput, gpiocdev.WithPullDown}, probe.PulledDown, probe.PulledDown},
		{"input no bias", []gpiocdev.LineReqOption{gpiocdev.AsInput, gpiocdev.WithBiasDisabled}, probe.Floating, probe.Floating},
	}
	for _, mid := range []jumper.MidRail{jumper.MidRailKeep, jumper.MidRailLow, jumper.MidRailHigh} {
		t.Run("mid-rail "+mid.String(), func(t *testing.T) {
			b, _ := checked(t, mid)
			l := line(t, b, "GPIO17")
			verify := func(t *testing.T, truth probe.Class) {
				t.Helper()
				var res probe.Result
				var o observe.Observation
				n := lineEvents(t, "GPIO17", func() {
					var err error
					if res, err = b.Probe(l); err != nil {
						t.Fatal(err)
					}
					if o, err = b.Observe(l); err != nil {
						t.Fatal(err)
					}
				})
				if n != 0 {
					t.Errorf("probing GPIO17 changed its line info %d times: the probe requested the line under test", n)
				}
				w := expect[mid][truth]
				switch {
				case w.class != "" && res.Class != w.class:
					t.Errorf("%s: probe says %v (%s); want %s", truth, res.Candidates, res.Why, w)
				case w.class == "" && !slices.Equal(res.Candidates, w.candidates):
					t.Errorf("%s: probe says %v (%s); want %s", truth, res.Candidates, res.Why, w)
				}
				if !slices.Contains(res.Candidates, truth) {
					t.Errorf("%s: the true state is not among the candidates %v", truth, res.Candidates)
				}
				// The observation says only what every candidate agrees on.
				if lvl := truth.Level(); lvl != vocab.LevelUnknown && o.Level != lvl {
					t.Errorf("%s: observed level %s; want %s", truth, o.Level, lvl)
				}
				if w.class != "" {
					wantDrive := map[bool]vocab.Drive{true: vocab.Driven, false: vocab.Pulled}[truth.Driven()]
					if truth == probe.Floating {
						wantDrive = vocab.Floating
					}
					if o.Drive != wantDrive {
						t.Errorf("%s: observed drive %s; want %s (%v)", truth, o.Drive, wantDrive, o.Evidence)
					}
				} else if o.Drive != observe.Unknown || o.Direction != observe.Unknown {
					t.Errorf("%s (ambiguous): observed drive %s, direction %s; want unknown", truth, o.Drive, o.Direction)
				}
			}
			for _, pre := range pres {
				t.Run(pre.name, func(t *testing.T) {
					if err := b.Guard(l); err != nil {
						t.Fatal(err)
					}
					tl := toolLine(t, "GPIO17", "tool-under-test", pre.opts...)
					t.Run("held", func(t *testing.T) { verify(t, pre.held) })
					tl.Close()
					t.Run("released", func(t *testing.T) { verify(t, pre.after) })
				})
			}
		})
	}
}

// A floating wire is left at the level the probe found it at.
func TestProbeLeavesAFloatingWireAsFound(t *testing.T) {
	b, w := checked(t, jumper.MidRailKeep)
	l := line(t, b, "GPIO17")
	for _, v := range []int{1, 0} {
		tl := toolLine(t, "GPIO17", "tool-under-test", gpiocdev.AsOutput(v), gpiocdev.WithBiasDisabled)
		if err := w.Settle(); err != nil { // the wire sees a drive only while it is held
			t.Fatal(err)
		}
		tl.Close()
		res, err := b.Probe(l)
		if err != nil {
			t.Fatal(err)
		}
		if res.Class != probe.Floating || res.Reads.AsFound != v {
			t.Errorf("after driving %d and letting go: %s", v, res.Why)
		}
		if lvl, _ := w.Level("GPIO17"); lvl != v {
			t.Errorf("the probe left the floating wire at %d; want %d, as found", lvl, v)
		}
	}
}

// The interlock refuses every step that could drive both ends of a jumper.
func TestInterlockRefusesDrivingBothEnds(t *testing.T) {
	b, _ := open(t, jumper.MidRailKeep)
	l := line(t, b, "GPIO17")
	if err := b.Prepare(l, bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}); !errors.Is(err, loopback.ErrNotChecked) {
		t.Errorf("Prepare before the wiring check = %v; want ErrNotChecked", err)
	}
	b.Check()
	il := b.Interlock()
	refused := func(what string, err error, phrase string) {
		t.Helper()
		if !errors.Is(err, safety.ErrRefused) || !strings.Contains(err.Error(), phrase) {
			t.Errorf("%s = %v; want a refusal saying %q", what, err, phrase)
		}
	}
	// A spec on a partner is refused outright.
	_, err := b.Line("GPIO18")
	refused("Line(GPIO18)", err, "it is the partner of GPIO17 in pair A")
	err = b.Prepare(bench.Line{Chip: label, Name: "GPIO18", Offset: 18}, bench.State{Direction: vocab.Output, Value: 0, Bias: vocab.BiasDisabled})
	refused("Prepare(GPIO18 output low)", err, "it is the partner of GPIO17")
	// The line under test may be driven while the harness holds its partner as an input...
	if err := b.Prepare(l, bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}); err != nil {
		t.Fatalf("Prepare(GPIO17 output high) = %v", err)
	}
	if err := il.Output("GPIO17", 1); err != nil {
		t.Fatalf("drive GPIO17 with its partner held as input: %v", err)
	}
	// ...but then its partner is never made an output.
	refused("Output(GPIO18) while GPIO17 drives", il.Output("GPIO18", 0), "its partner GPIO17 is an output: both ends of the jumper would be outputs at once")
	refused("Apply(GPIO18 output) while GPIO17 drives", il.Apply("GPIO18", bench.State{Direction: vocab.Output, Bias: vocab.BiasDisabled}), "both ends of the jumper would be outputs")
	if err := il.Release("GPIO17"); err != nil {
		t.Fatal(err)
	}
	// A line is not driven while a program other than gpiohil may hold its partner.
	if err := il.Release("GPIO18"); err != nil {
		t.Fatal(err)
	}
	other := toolLine(t, "GPIO18", "someone-else", gpiocdev.AsInput)
	refused("Output(GPIO17) with GPIO18 held by another program", il.Output("GPIO17", 1), "its partner GPIO18 is not held by gpiohil as an input")
	refused("Prepare(GPIO17 output) with GPIO18 held by another program", il.Apply("GPIO17", bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}), "not held by gpiohil")
	other.Close()
	// Only rig-declared lines, and only paired lines are driven.
	refused("Input(GPIO4)", il.Input("GPIO4", vocab.BiasDisabled), "not in the rig's may-touch list")
	if _, err := b.Line("GPIO4"); !errors.Is(err, bench.ErrNoLine) {
		t.Errorf("Line(GPIO4) = %v; want ErrNoLine", err)
	}
}

// A miswired pair stops every later spec on it as an infrastructure error that says which
// jumper to fix; the other pairs work.
func TestMiswiredPairIsAnInfrastructureError(t *testing.T) {
	b, _ := checked(t, jumper.MidRailKeep, jumper.Open("GPIO27"))
	l := line(t, b, "GPIO27")
	for what, err := range map[string]error{
		"Prepare": b.Prepare(l, bench.State{Direction: vocab.Input, Bias: vocab.BiasPullUp}),
		"Observe": func() error { _, err := b.Observe(l); return err }(),
		"Restore": b.Restore(l),
		"Guard":   b.Guard(l),
	} {
		var pe *check.PairError
		if !errors.As(err, &pe) || !errors.Is(err, check.ErrMiswired) || !strings.Contains(err.Error(), "the jumper between pins 13 and 15 is missing") {
			t.Errorf("%s on a pair with an open jumper = %v; want a *check.PairError naming the jumper", what, err)
		}
	}
	if _, err := b.Observe(line(t, b, "GPIO17")); err != nil {
		t.Errorf("Observe on a good pair: %v", err)
	}
}

// Lines in use by someone else and pins muxed away from GPIO are refused before anything is
// requested; their pairs fail as unavailable and are never touched.
func TestPreflightRefusesBusyAndMuxedLines(t *testing.T) {
	debugfs := t.TempDir()
	ctl := filepath.Join(debugfs, "pinctrl", "fe200000.gpio-"+label)
	if err := os.MkdirAll(ctl, 0o755); err != nil {
		t.Fatal(err)
	}
	pins := "pin 6 (gpio6) 6:gpiohil-pi function alt0 in lo; irq 0 (none)\npin 17 (gpio17) 17:gpiohil-pi function gpio_in in lo; irq 0 (none)\n"
	if err := os.WriteFile(filepath.Join(ctl, "pins"), []byte(pins), 0o644); err != nil {
		t.Fatal(err)
	}
	busy := toolLine(t, "GPIO23", "w1-gpio", gpiocdev.AsInput)
	defer busy.Close()
	b, w, err := start(testRig(), t.TempDir(), debugfs, jumper.MidRailKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer b.Close()
	rep := b.Check()
	for pair, phrase := range map[string]string{
		"C": `GPIO23 (pin 16): line GPIO23 is not available to gpiohil: it is in use by "w1-gpio"`,
		"D": "GPIO6 (pin 31): line GPIO6 is not available to gpiohil: the pin is muxed away from GPIO (function alt0",
	} {
		res, _ := rep.Result(pair)
		if res.Fault != check.Unavailable || !strings.Contains(res.Message, phrase) {
			t.Errorf("pair %s: %s\nwant %q", pair, res, phrase)
		}
	}
	for _, l := range []string{"GPIO23", "GPIO6"} {
		if slices.Contains(b.Interlock().Touched(), l) {
			t.Errorf("%s was touched although the preflight refused it", l)
		}
	}
	if res, _ := rep.Result("A"); !res.OK() {
		t.Errorf("pair A: %s", res)
	}
}

// One run per board at a time; the error names the holder.
func TestBoardLock(t *testing.T) {
	dir := t.TempDir()
	b, w, err := start(testRig(), dir, t.TempDir(), jumper.MidRailKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, _, err = start(testRig(), dir, t.TempDir(), jumper.MidRailKeep)
	var le *safety.LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("gpiohil-%s.lock is held by PID %d", label, os.Getpid())) {
		t.Errorf("second Open = %v; want a LockedError naming PID %d", err, os.Getpid())
	}
	b.Close()
	b2, w2, err := start(testRig(), dir, t.TempDir(), jumper.MidRailKeep)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b2.Close()
	w2.Close()
}

// interruptedRun is the child of TestShutdownOnSIGTERM: a run that holds lines in every way
// the harness does (the line under test driven high, partners held as inputs) when SIGTERM
// comes, and restores them from its signal handler.
func interruptedRun(lockDir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, w, err := start(testRig(), lockDir, os.TempDir(), jumper.MidRailKeep)
	if err != nil {
		fmt.Println("child:", err)
		return 1
	}
	defer w.Close()
	done := make(chan error, 1)
	go func() { <-ctx.Done(); done <- b.Shutdown() }()
	if rep := b.Check(); !rep.OK() {
		fmt.Println("child: check failed:", rep)
		return 1
	}
	il := b.Interlock()
	if err := il.Input("GPIO27", vocab.BiasPullUp); err != nil {
		fmt.Println("child:", err)
		return 1
	}
	if err := il.Output("GPIO17", 1); err != nil {
		fmt.Println("child:", err)
		return 1
	}
	fmt.Println("ready")
	if err := <-done; err != nil {
		fmt.Println("child: shutdown:", err)
		return 1
	}
	fmt.Println("restored")
	return 0
}

// On SIGTERM every line the run touched is restored to input with bias disabled and released,
// and the board lock is freed.
func TestShutdownOnSIGTERM(t *testing.T) {
	c, err := simChip()
	if err != nil {
		t.Fatal(err)
	}
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer chip.Close()
	r := testRig()
	// The kernel keeps 32 line-info events per watcher and drops the rest: watch only the
	// lines the child holds when the signal comes (the check before makes hundreds of events);
	// line info shows the others' direction after release.
	watched := []string{"GPIO17", "GPIO18", "GPIO27"}
	w := watchInfo(t, watched...)
	lockDir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+lockDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "ready" {
			break
		}
	}
	if len(lines) == 0 || lines[len(lines)-1] != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not get ready: %q", lines)
	}
	if info, _ := chip.LineInfo(17); !info.Used || info.Config.Direction != gpiocdev.LineDirectionOutput {
		t.Errorf("before the signal GPIO17 should be driven by the child: %+v", info)
	}
	// The watcher must have read the check's events before the shutdown's come, or a full
	// queue could drop the shutdown's: the marker proves it has, where a sleep only hoped so.
	before := len(w.Sync(t))
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil || lines[len(lines)-1] != "restored" {
		t.Fatalf("child after SIGTERM: %v, output %q", err, lines)
	}
	// The child is gone, so every event of its shutdown has been queued: the marker's comes
	// after them all. Missing ones then are missing, not late.
	events := w.Sync(t)
	last := map[string]gpiocdev.LineInfoChangeEvent{}   // last event per line
	config := map[string]gpiocdev.LineInfoChangeEvent{} // last event while requested
	for _, ev := range events {
		last[ev.Info.Name] = ev
		if ev.Type != gpiocdev.LineReleased {
			config[ev.Info.Name] = ev
		}
	}
	t.Logf("%d line-info events of %v before the signal, %d after", before, watched, len(events)-before)
	for _, name := range r.MayTouch {
		off := slices.Index(c.Lines, name)
		if info, _ := chip.LineInfo(off); info.Used || info.Config.Direction != gpiocdev.LineDirectionInput {
			t.Errorf("%s after the interrupted run: used %v by %q, direction %v; want a free input", name, info.Used, info.Consumer, info.Config.Direction)
		}
		if !slices.Contains(watched, name) {
			continue
		}
		if ev := last[name]; ev.Type != gpiocdev.LineReleased || ev.Info.Config.Direction != gpiocdev.LineDirectionInput {
			t.Errorf("%s: last event %v, direction %v; want released as an input", name, ev.Type, ev.Info.Config.Direction)
		}
		if ev := config[name]; ev.Info.Config.Bias != gpiocdev.LineBiasDisabled || ev.Info.Config.Direction != gpiocdev.LineDirectionInput {
			t.Errorf("%s: last configuration before release: direction %v bias %v; want input with bias disabled", name, ev.Info.Config.Direction, ev.Info.Config.Bias)
		}
	}
	if l, err := safety.LockBoard(lockDir, label); err != nil {
		t.Errorf("the board lock was not released: %v", err)
	} else {
		l.Unlock()
	}
}

// The persistence suites' loop (package trial) runs unchanged on the loopback bench.
func TestTrialRunsOnTheBench(t *testing.T) {
	if _, err := os.Stat(runenv.Bin()); err != nil {
		vmtest.RequireLane(t, "gpiohil binary", fmt.Sprintf("no gpiohil binary in $%s: %v", runenv.EnvBin, err))
	}
	b, _ := checked(t, jumper.MidRailLow)
	p, err := profile.Lookup("gpiohil-drive")
	if err != nil {
		t.Fatal(err)
	}
	l := line(t, b, "GPIO17")
	res, err := trial.Run(context.Background(), b, l, trial.Case{
		Profile: p, Action: vocab.SetOutput, Value: 1, Bias: vocab.BiasPullUp, Ending: vocab.Exit,
		Pre: bench.State{Direction: vocab.Input, Bias: vocab.BiasPullDown},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before: %s %v", res.Before.State(), res.Before.Evidence)
	t.Logf("after:  %s %v", res.After.State(), res.After.Evidence)
	// gpio-sim stops driving a released line and keeps the pull-up the tool set.
	if res.After.Drive != vocab.Pulled || res.After.Pull != vocab.PullUp || res.After.Level != "1" {
		t.Errorf("after gpiohil drive set GPIO17 high with a pull-up and exited: %s; want input high pulled pull-up", res.After.State())
	}
	if res.After.Platform.Bench != vocab.KindRPi {
		t.Errorf("platform bench %q; want %q", res.After.Platform.Bench, vocab.KindRPi)
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	b, w, err := start(testRig(), t.TempDir(), t.TempDir(), jumper.MidRailKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b.Check()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Interlock().Input("GPIO17", vocab.BiasDisabled); !errors.Is(err, safety.ErrClosed) {
		t.Errorf("Input after Close = %v; want ErrClosed", err)
	}
}

// BenchmarkCheck measures the wiring check of the built-in plan (eight pairs) on the
// simulated wire; ms/pair is the figure docs/performance.md records.
func BenchmarkCheck(b *testing.B) {
	requireFineClock(b)
	bn, _ := open(b, jumper.MidRailKeep)
	b.ResetTimer()
	for b.Loop() {
		if rep := bn.Check(); !rep.OK() {
			b.Fatal(rep)
		}
	}
	requireFineClock(b)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(len(testRig().Pairs)), "ms/pair")
}

// BenchmarkProbe measures one partner probe (five reads and the put-back) on the simulated wire.
func BenchmarkProbe(b *testing.B) {
	requireFineClock(b)
	bn, _ := checked(b, jumper.MidRailKeep)
	l := line(b, bn, "GPIO17")
	b.ResetTimer()
	for b.Loop() {
		if _, err := bn.Probe(l); err != nil {
			b.Fatal(err)
		}
	}
	requireFineClock(b)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/probe")
}
