package inpi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/warthog618/go-gpiocdev"
	"golang.org/x/sys/unix"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/bench/benchtest"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/observe/onbench"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/rpi3test"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

func TestMain(m *testing.M) { os.Exit(rpi3test.Main(m)) }

// The lines the tests use (BCM GPIO, header pin): dut 17 (11) and held 27 (13); marker 22 (15)
// is requested and released by the line-info watches only (package benchtest).
const (
	dut    = "GPIO17"
	held   = "GPIO27"
	marker = "GPIO22"
)

// piBench opens the emulated Pi's bench, which prepares and restores lines; Close restores
// every line it touched when the test ends.
func piBench(t *testing.T) *bench.EmulatedPi {
	t.Helper()
	b, err := bench.NewEmulatedPi()
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

func piLine(t *testing.T, b *bench.EmulatedPi, name string) bench.Line {
	t.Helper()
	l, err := b.Line(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// observeQuietly observes one line through onbench, as gpiohil observe does, and fails t if
// the line saw a line-info event meanwhile: observing never requests it.
func observeQuietly(t *testing.T, l bench.Line, args ...string) observe.Observation {
	t.Helper()
	w := benchtest.Watch(t, l.ChipName, 22, marker, l.Offset)
	defer w.Close()
	obs, err := onbench.Observe(onbench.Request{Args: args})
	if evs := w.Sync(t); len(evs) > 0 {
		t.Errorf("observing %s raised line-info events on it: %s", l.Name, benchtest.Describe(evs))
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Line != l.Name || obs[0].Chip != bench.BCM2835Label || obs[0].Offset != l.Offset {
		t.Fatalf("observations %+v, want one of %s", obs, l)
	}
	return obs[0]
}

// direction is what the lane's driver leaves a released output as.
func released(lane rpi3.Lane) vocab.Direction {
	if lane == rpi3.PersistOn {
		return vocab.Output
	}
	return vocab.Input
}

// wantPinctrl checks what every observation on the emulated Pi says about itself.
func wantPinctrl(t *testing.T, lane rpi3.Lane, o observe.Observation) {
	t.Helper()
	if o.Can != vocab.See(vocab.FieldDirection, vocab.FieldOwner) {
		t.Errorf("Can = %v, want direction and owner only", o.Can)
	}
	if p := o.Platform; p.Bench != vocab.KindVMRPi3 || p.Driver != bench.BCM2835Driver || p.Persist != lane.ParamValue() {
		t.Errorf("platform %+v, want bench vm-rpi3, driver pinctrl-bcm2835, persist %s", p, lane.ParamValue())
	}
	for f, says := range map[vocab.Field]string{
		vocab.FieldLevel: "QEMU's bcm2835 GPIO model latches the last set or clear",
		vocab.FieldPull:  "QEMU models no pulls",
		vocab.FieldDrive: "the emulated Pi does not model",
	} {
		if o.Value(f) != observe.Unknown || !strings.Contains(o.WhyUnknown[f], says) {
			t.Errorf("%s = %s, why unknown %q; want unknown because %q", f, o.Value(f), o.WhyUnknown[f], says)
		}
	}
}

// A line the bench prepared as an output and released reads as the lane's driver left it: an
// input with persist off, an output with persist on; the EmulatedPi bench agrees.
func TestPreparedOutput(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := piBench(t)
		l := piLine(t, b, dut)
		if err := b.Prepare(l, bench.State{Direction: vocab.Output, Value: 1, Bias: vocab.BiasDisabled}); err != nil {
			t.Fatal(err)
		}
		o := observeQuietly(t, l, dut)
		wantPinctrl(t, lane, o)
		if o.Direction != released(lane) || o.Owner != vocab.Free {
			t.Errorf("prepared output, released: %s, owner %s; want %s, free", o.Direction, o.Owner, released(lane))
		}
		if eo, err := b.Observe(l); err != nil || eo.Direction != o.Direction || eo.Owner != o.Owner {
			t.Errorf("the EmulatedPi bench sees %s %s (%v), gpiohil observe %s %s", eo.Direction, eo.Owner, err, o.Direction, o.Owner)
		}
	})
}

// A line a program holds as an output reads as an output it holds; once released, as the
// lane's driver leaves it.
func TestHeldOutputThenReleased(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := piBench(t)
		l := piLine(t, b, held)
		t.Cleanup(func() { b.Restore(l) })
		req, err := gpiocdev.RequestLine(l.ChipName, l.Offset, gpiocdev.AsOutput(1), gpiocdev.WithConsumer("gpiohil-test"))
		if err != nil {
			t.Fatal(err)
		}
		o := observeQuietly(t, l, bench.BCM2835Label, held)
		wantPinctrl(t, lane, o)
		if o.Direction != vocab.Output || o.Owner != vocab.Used || o.Consumer != "gpiohil-test" {
			t.Errorf("held output: %s, owner %s %q; want output, used by gpiohil-test", o.Direction, o.Owner, o.Consumer)
		}
		req.Close()
		if o := observeQuietly(t, l, "27"); o.Direction != released(lane) || o.Owner != vocab.Free {
			t.Errorf("released output: %s, owner %s; want %s, free", o.Direction, o.Owner, released(lane))
		}
	})
}

// The pins the bench must never touch are refused by name and by number, and keep their
// function.
func TestReservedLinesAreRefused(t *testing.T) {
	pins, err := bench.PinsFile(bench.DebugFS, bench.BCM2835Label)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := bench.PinFunction(pins, 14)
	for _, name := range []string{"GPIO14", "15", "GPIO0", "GPIO40"} {
		_, err := onbench.Observe(onbench.Request{Args: []string{name}})
		if !errors.Is(err, bench.ErrReserved) || !strings.Contains(err.Error(), "gpiohil observes only GPIO 2 to 13 and 16 to 27") {
			t.Errorf("observe %s: %v, want it refused as reserved, naming the lines gpiohil observes", name, err)
		}
	}
	if _, err := onbench.Observe(onbench.Request{Args: []string{bench.BCM2835Label, "NOPE"}}); !errors.Is(err, bench.ErrNoLine) {
		t.Errorf("observe NOPE: %v, want no such line", err)
	}
	if after, _ := bench.PinFunction(pins, 14); after != before || before != "alt5" {
		t.Errorf("GPIO14's function went from %s to %s; want alt5 throughout", before, after)
	}
}

// gpiohil runs the gpiohil binary in the guest, as user uid (0: root).
func gpiohil(t *testing.T, uid int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(runenv.Bin(), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errb, "/"
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s %v: %v", runenv.Bin(), args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// gpiohil observe, run as a user would in the emulated Pi: the table, JSON, and errors.
func TestObserveCommand(t *testing.T) {
	rpi3test.ForLane(t, func(t *testing.T, lane rpi3.Lane) {
		b := piBench(t)
		if err := b.Restore(piLine(t, b, dut)); err != nil {
			t.Fatal(err)
		}
		code, out, errs := gpiohil(t, 0, "observe", dut)
		for _, want := range []string{
			"CHIP             LINE    OFFSET  DIRECTION  LEVEL    DRIVE    PULL     OWNER  CONSUMER",
			"pinctrl-bcm2835  GPIO17  17      input      unknown  unknown  unknown  free   -",
			"bench vm-rpi3, kernel ", "driver pinctrl-bcm2835, persist_gpio_outputs " + string(lane.ParamValue()) + "; sees: direction, owner\n",
			"unknown level (GPIO17): QEMU's bcm2835 GPIO model", "unknown pull (GPIO17): QEMU models no pulls",
		} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("gpiohil observe %s: exit %d, stderr %q; output lacks %q:\n%s", dut, code, errs, want, out)
			}
		}
		code, out, _ = gpiohil(t, 0, "observe", "--json", bench.BCM2835Label, dut)
		var obs []observe.Observation
		if err := json.Unmarshal([]byte(out), &obs); code != 0 || err != nil || len(obs) != 1 ||
			!strings.Contains(obs[0].WhyUnknown[vocab.FieldPull], "QEMU models no pulls") || obs[0].Direction != vocab.Input {
			t.Errorf("gpiohil observe --json: exit %d, %v, %+v", code, err, obs)
		}
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"observe", "GPIO14"}, 2, "gpiohil: line reserved: GPIO14 is BCM GPIO 14: GPIO 14 and 15 are the UART"},
			{[]string{"observe", "--bench", "gpio-sim", bench.BCM2835Label, dut}, 2, "is not one the gpio-sim bench observes: that is the pinctrl bench's"},
			{[]string{"observe", "--bench", "rpi", dut}, 2, "it needs the rig file (--rig FILE)"},
		} {
			code, _, errs := gpiohil(t, 0, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("gpiohil %v: exit %d, stderr %q; want exit %d saying %q", tc.args, code, errs, tc.code, tc.want)
			}
		}
	})
}

// Without debugfs the pin functions are out of reach: the error says to mount it.
func TestNoDebugfsSaysToMountIt(t *testing.T) {
	if err := unix.Unmount(bench.DebugFS, 0); err != nil {
		t.Fatalf("unmount debugfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Mount("debugfs", bench.DebugFS, "debugfs", 0, ""); err != nil {
			t.Errorf("mount debugfs again: %v", err)
		}
	})
	_, err := onbench.Observe(onbench.Request{Args: []string{dut}})
	if err == nil || !strings.Contains(err.Error(), "debugfs is not mounted at /sys/kernel/debug, where the pin functions of pinctrl-bcm2835 are: mount it (sudo mount -t debugfs none /sys/kernel/debug)") {
		t.Errorf("observe without debugfs: %v, want an error saying to mount it", err)
	}
}

// Not root: the chip, and then debugfs, say to run as root; the machine refused, exit 125.
func TestNotRootSaysWhatToDo(t *testing.T) {
	const nobody = 65534
	code, _, errs := gpiohil(t, nobody, "observe", dut)
	if code != 125 || !strings.Contains(errs, "permission denied; run as root, or join the group that owns it (usually gpio") {
		t.Errorf("as nobody: exit %d, stderr %q; want a permission error saying to run as root or join gpio", code, errs)
	}
	c, err := bench.OpenChipByLabel(bench.BCM2835Label)
	if err != nil {
		t.Fatal(err)
	}
	dev := "/dev/" + c.Name
	c.Close()
	st, err := os.Stat(dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dev, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dev, st.Mode().Perm()) })
	code, _, errs = gpiohil(t, nobody, "observe", dut)
	if code != 125 || !strings.Contains(errs, "permission denied: debugfs is root's; run as root (sudo)") {
		t.Errorf("as nobody with the chip readable: exit %d, stderr %q; want debugfs's permission error saying to run as root", code, errs)
	}
}
