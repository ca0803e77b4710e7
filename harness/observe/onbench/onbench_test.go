package onbench_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/bench/benchtest"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback"
	"github.com/gpiohil/gpiohil/loopback/jumper"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

// The VM's chips: obs, a plain gpio-sim chip, and piLabel, a simulated Pi header (GPIO0 to
// GPIO27) for the loopback rig. obs-marker and rigMarker are lines no test observes, which
// line-info watches use as their markers (package benchtest).
const (
	piLabel   = "gpiohil-pi"
	rigMarker = "GPIO10"
)

func TestMain(m *testing.M) {
	pi := sim.Bank{Label: piLabel}
	for i := range 28 {
		pi.Lines = append(pi.Lines, fmt.Sprintf("GPIO%d", i))
	}
	os.Exit(vmtest.Main(m, sim.Bank{Label: "obs", Lines: []string{"obs-0", "obs-1", "obs-marker"}}, pi))
}

func TestParseBench(t *testing.T) {
	for _, b := range onbench.Benches {
		if got, err := onbench.ParseBench(string(b)); err != nil || got != b {
			t.Errorf("ParseBench(%q) = %q, %v", b, got, err)
		}
	}
	if _, err := onbench.ParseBench("vm-rpi3"); err == nil || !strings.Contains(err.Error(), "want one of auto, gpio-sim, pinctrl, rpi") {
		t.Errorf("ParseBench(vm-rpi3) = %v, want an error naming the choices", err)
	}
}

func TestValidateNamesWhatIsWrong(t *testing.T) {
	r := &rig.Rig{File: "lab.yaml"}
	for _, tc := range []struct {
		req  onbench.Request
		want string
	}{
		{onbench.Request{Bench: onbench.Rig, Args: []string{"GPIO17"}}, "--bench rpi observes from partner pins: it needs the rig file (--rig FILE)"},
		{onbench.Request{Bench: onbench.GPIOSim, Rig: r, Args: []string{"GPIO17"}}, "--rig goes with --bench rpi or auto, not gpio-sim"},
		{onbench.Request{Bench: onbench.Pinctrl, Rig: r, Args: []string{"GPIO17"}}, "not pinctrl"},
		{onbench.Request{}, "no line to observe"},
		{onbench.Request{Bench: "sysfs", Args: []string{"x"}}, `bench "sysfs"`},
	} {
		if err := tc.req.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.req, err, tc.want)
		}
	}
	for _, ok := range []onbench.Request{{Args: []string{"x"}}, {Bench: onbench.Auto, Rig: r, Args: []string{"x"}}, {Bench: onbench.Rig, Rig: r, Args: []string{"x"}}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", ok, err)
		}
	}
}

// watch watches line-info events of the named lines of a chip, with marker as the marker.
func watch(t *testing.T, label, marker string, names ...string) *benchtest.InfoWatch {
	t.Helper()
	c, err := sim.ChipFromEnv(label)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for _, n := range names {
		offs = append(offs, slices.Index(c.Lines, n))
	}
	return benchtest.Watch(t, c.Name, slices.Index(c.Lines, marker), marker, offs...)
}

// observeQuietly observes and fails t if any observed line saw a line-info event meanwhile:
// observing never requests the line under test.
func observeQuietly(t *testing.T, req onbench.Request, label, marker string, names ...string) ([]observe.Observation, error) {
	t.Helper()
	w := watch(t, label, marker, names...)
	defer w.Close()
	obs, err := onbench.Observe(req)
	if evs := w.Sync(t); len(evs) > 0 {
		t.Errorf("observing %v raised line-info events on them: %s", names, benchtest.Describe(evs))
	}
	return obs, err
}

// On a gpio-sim chip the driver picks the gpio-sim bench, which sees every field; one look
// never sees how a tool released the line, so Can leaves that out.
func TestGPIOSimChipByDriver(t *testing.T) {
	for _, b := range []onbench.Bench{onbench.Auto, onbench.GPIOSim} {
		obs, err := observeQuietly(t, onbench.Request{Bench: b, Args: []string{"obs", "obs-0", "1"}}, "obs", "obs-marker", "obs-0", "obs-1")
		if err != nil {
			t.Fatalf("bench %s: %v", b, err)
		}
		if len(obs) != 2 || obs[0].Line != "obs-0" || obs[1].Line != "obs-1" {
			t.Fatalf("bench %s: observations %+v, want obs-0 and obs-1", b, obs)
		}
		o := obs[0]
		if o.Platform.Bench != vocab.KindGPIOSim || o.Platform.Driver != "gpio-sim" || o.State() != "input low pulled pull-down" || o.Owner != vocab.Free {
			t.Errorf("bench %s: %+v, want a free input pulled down, seen by gpio-sim", b, o)
		}
		if want := vocab.See(vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull, vocab.FieldOwner); o.Can != want {
			t.Errorf("bench %s: Can = %v, want %v", b, o.Can, want)
		}
		if len(o.WhyUnknown) != 0 {
			t.Errorf("bench %s: WhyUnknown = %v on a bench that saw everything", b, o.WhyUnknown)
		}
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		req  onbench.Request
		want []string
	}{
		{onbench.Request{Bench: onbench.Pinctrl, Args: []string{"obs", "obs-0"}}, []string{"[obs] (driver gpio-sim) is not one the pinctrl bench observes", "leave --bench out"}},
		{onbench.Request{Args: []string{"obs-0"}}, []string{`"obs-0" is not the label of a GPIO chip here`, "[obs] (driver gpio-sim)", "no Raspberry Pi chip (driver pinctrl-bcm2835)", "gpiohil observe CHIP LINE..."}},
		{onbench.Request{Bench: onbench.GPIOSim, Args: []string{"nochip", "x"}}, []string{`"nochip" is not the label of a GPIO chip here`}},
		{onbench.Request{Args: []string{"obs"}}, []string{"chip obs: no line to observe"}},
		{onbench.Request{Args: []string{"obs", "nope"}}, []string{`"nope" is on none of the chips obs (and it is not an offset 0 to 2)`}},
	} {
		_, err := onbench.Observe(tc.req)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Observe(%+v) = %v, want it to say %q", tc.req, err, w)
			}
		}
	}
}

// simRig is the built-in plan (pair A: GPIO17, partner GPIO18) on the simulated Pi header, with
// a simulated wire joining each pair; it stops with the test, which fails if drivers ever
// fought on a wire.
func simRig(t *testing.T, mid jumper.MidRail, faults ...jumper.Fault) (*rig.Rig, loopback.Options) {
	t.Helper()
	r, err := rig.Default("pi4-b")
	if err != nil {
		t.Fatal(err)
	}
	r.Chip, r.File = piLabel, "sim-rig.yaml"
	c, err := sim.ChipFromEnv(piLabel)
	if err != nil {
		t.Fatal(err)
	}
	var jumpers [][2]string
	for _, p := range r.Pairs {
		jumpers = append(jumpers, [2]string{p.Line, p.Partner})
	}
	w, err := jumper.Start(jumper.Config{Chip: c, Jumpers: jumpers, Faults: faults, MidRail: mid})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c := w.Contentions(); len(c) > 0 {
			t.Errorf("drivers fought on the wire: %v", c)
		}
		if err := w.Close(); err != nil {
			t.Errorf("wire: %v", err)
		}
	})
	return r, loopback.Options{Settler: w, LockDir: t.TempDir(), DebugFS: t.TempDir()}
}

// tool requests a line of the simulated Pi as a program under test would, until the test ends.
func tool(t *testing.T, name string, opts ...gpiocdev.LineReqOption) {
	t.Helper()
	c, err := sim.ChipFromEnv(piLabel)
	if err != nil {
		t.Fatal(err)
	}
	l, err := gpiocdev.RequestLine(c.Name, slices.Index(c.Lines, name), append(opts, gpiocdev.WithConsumer("tool"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
}

func observeRig(t *testing.T, r *rig.Rig, opt loopback.Options, b onbench.Bench) observe.Observation {
	t.Helper()
	obs, err := observeQuietly(t, onbench.Request{Bench: b, Rig: r, Loopback: opt, Args: []string{"GPIO17"}}, piLabel, rigMarker, "GPIO17")
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 {
		t.Fatalf("observations %+v, want GPIO17's", obs)
	}
	return obs[0]
}

func wantWhy(t *testing.T, o observe.Observation, f vocab.Field, says string) {
	t.Helper()
	if o.Value(f) != observe.Unknown || !strings.Contains(o.WhyUnknown[f], says) {
		t.Errorf("%s = %s, why unknown %q; want unknown because %q", f, o.Value(f), o.WhyUnknown[f], says)
	}
}

// The rig's bench sees the line under test from its partner without the wiring check, and says
// what its uncalibrated probe could not tell apart. Mid-rail reads low on this simulated board,
// so a pull-up and a drive high differ in the reads; the theory still allows both for 1111.
func TestRigObservesFromThePartner(t *testing.T) {
	t.Run("held output high", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailLow)
		tool(t, "GPIO17", gpiocdev.AsOutput(1))
		o := observeRig(t, r, opt, onbench.Auto)
		if o.Level != vocab.High || o.Owner != vocab.Used || o.Consumer != "tool" || o.Platform.Bench != vocab.KindRPi {
			t.Errorf("observed %+v, want level 1, used by tool, on the rpi bench", o)
		}
		for _, f := range []vocab.Field{vocab.FieldDirection, vocab.FieldDrive, vocab.FieldPull} {
			wantWhy(t, o, f, "fit driven high and pulled up alike")
		}
	})
	t.Run("held input pull-up", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailLow)
		tool(t, "GPIO17", gpiocdev.AsInput, gpiocdev.WithPullUp)
		o := observeRig(t, r, opt, onbench.Rig)
		if o.State() != "input high pulled pull-up" || len(o.WhyUnknown) != 0 {
			t.Errorf("observed %s (why unknown %v), want input high pulled pull-up, all known", o.State(), o.WhyUnknown)
		}
	})
	for _, tc := range []struct {
		name   string
		faults []jumper.Fault
	}{{"free and floating", nil}, {"open jumper", []jumper.Fault{jumper.Open("GPIO17")}}} {
		t.Run(tc.name, func(t *testing.T) {
			r, opt := simRig(t, jumper.MidRailLow, tc.faults...)
			o := observeRig(t, r, opt, onbench.Auto)
			for _, f := range []vocab.Field{vocab.FieldDirection, vocab.FieldLevel, vocab.FieldDrive, vocab.FieldPull} {
				wantWhy(t, o, f, "fit a floating pin and an open jumper alike")
			}
			if o.Owner != vocab.Free {
				t.Errorf("owner %s, want free", o.Owner)
			}
		})
	}
}

// Observing leaves the partner as it found it: free, and no longer held by gpiohil.
func TestRigReleasesThePartner(t *testing.T) {
	r, opt := simRig(t, jumper.MidRailKeep)
	observeRig(t, r, opt, onbench.Auto)
	c, err := sim.ChipFromEnv(piLabel)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer chip.Close()
	if info, err := chip.LineInfo(slices.Index(c.Lines, "GPIO18")); err != nil || info.Used {
		t.Errorf("partner GPIO18 after observing: %+v, %v; want it free", info, err)
	}
}

func TestRigRefuses(t *testing.T) {
	t.Run("a partner", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailKeep)
		_, err := onbench.Observe(onbench.Request{Rig: r, Loopback: opt, Args: []string{"GPIO18"}})
		if !errors.Is(err, safety.ErrRefused) || !strings.Contains(err.Error(), "it is the partner of GPIO17 in pair A") {
			t.Errorf("observing partner GPIO18: %v, want a refusal naming its line under test", err)
		}
	})
	t.Run("a line on no pair", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailKeep)
		_, err := onbench.Observe(onbench.Request{Rig: r, Loopback: opt, Args: []string{piLabel, "GPIO4"}})
		if err == nil || !strings.Contains(err.Error(), `"GPIO4" is in no pair of rig sim-rig.yaml`) {
			t.Errorf("observing GPIO4: %v, want an error naming the rig", err)
		}
	})
	t.Run("a board a run holds", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailKeep)
		lock, err := safety.LockBoard(opt.LockDir, piLabel)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Unlock()
		_, err = onbench.Observe(onbench.Request{Rig: r, Loopback: opt, Args: []string{"GPIO17"}})
		if err == nil || !strings.Contains(err.Error(), "rig sim-rig.yaml: board lock") || !strings.Contains(err.Error(), "one gpiohil run per board at a time") {
			t.Errorf("observing while the board is locked: %v, want the lock's holder named", err)
		}
	})
	t.Run("a partner another program holds", func(t *testing.T) {
		r, opt := simRig(t, jumper.MidRailKeep)
		tool(t, "GPIO18", gpiocdev.AsInput)
		_, err := onbench.Observe(onbench.Request{Rig: r, Loopback: opt, Args: []string{"GPIO17"}})
		if err == nil || !strings.Contains(err.Error(), `observe GPIO17 from its partner GPIO18: line GPIO18 is not available to gpiohil: it is in use by "tool"`) {
			t.Errorf("observing with a busy partner: %v, want an error naming the partner and its holder", err)
		}
	})
}

// gpiohilBin copies the gpiohil binary where any user may run it, once per test.
func gpiohilBin(t *testing.T) string {
	t.Helper()
	src := runenv.Bin()
	if src == "" {
		t.Fatal("no gpiohil binary: GPIOHIL_BIN is not set in the VM")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gpiohil-observe-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "gpiohil")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// run runs gpiohil as user uid (0: root) and returns its exit status and output.
func run(t *testing.T, bin string, uid int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errb, "/"
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// gpiohil observe on gpio-sim, run as a user would: the bench picked by the driver or by name,
// and what to do when it cannot observe.
func TestObserveCommand(t *testing.T) {
	bin := gpiohilBin(t)
	c, err := sim.ChipFromEnv("obs")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, bin, 0, "observe", "--bench", "gpio-sim", "obs", "obs-0")
	for _, want := range []string{
		"obs   obs-0  0       input      0      pulled  pull-down  free   -\n\nbench gpio-sim, kernel 6.",
		"driver gpio-sim; sees: direction, level, drive, pull, owner\n",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("gpiohil observe --bench gpio-sim: exit %d, stderr %q; output lacks %q:\n%s", code, errs, want, out)
		}
	}
	if strings.Contains(out, "unknown ") {
		t.Errorf("gpio-sim sees every field, yet the table gives reasons for unknown ones:\n%s", out)
	}
	// What was named is not here: bad input, exit 2; the machine refused: infrastructure, 125.
	for _, tc := range []struct {
		uid  int
		args []string
		code int
		want string
	}{
		{0, []string{"observe", "--bench", "pinctrl", "obs", "obs-0"}, 2, "gpiohil: chip " + c.Name + " [obs] (driver gpio-sim) is not one the pinctrl bench observes: that is the gpio-sim bench's; leave --bench out (auto) to let the driver decide"},
		{0, []string{"observe", "obs-0"}, 2, `gpiohil: no chip named, and no Raspberry Pi chip (driver pinctrl-bcm2835) to take: "obs-0" is not the label of a GPIO chip here (chips here: `},
		{0, []string{"observe", "obs", "obs-9"}, 2, `no such line`},
		{65534, []string{"observe", "obs", "obs-0"}, 125, "gpiohil: find the chip: open /dev/" + c.Name + ": permission denied; run as root, or join the group that owns it (usually gpio"},
	} {
		code, _, errs := run(t, bin, tc.uid, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("gpiohil %v as uid %d: exit %d, stderr %q; want exit %d saying %q", tc.args, tc.uid, code, errs, tc.code, tc.want)
		}
	}
}
