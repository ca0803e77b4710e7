package jumper_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/loopback/jumper"
)

const label = "wire-test"

func TestMain(m *testing.M) {
	var lines []string
	for i := range 28 {
		lines = append(lines, fmt.Sprintf("GPIO%d", i))
	}
	os.Exit(vmtest.Main(m, sim.Bank{Label: label, Lines: lines}))
}

func simChip(t *testing.T) sim.Chip {
	t.Helper()
	c, err := sim.ChipFromEnv(label)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs a wire joining GPIO17-GPIO18 and GPIO27-GPIO22 and stops it with the test.
func start(t *testing.T, mid jumper.MidRail, faults ...jumper.Fault) *jumper.Wire {
	t.Helper()
	w, err := jumper.Start(jumper.Config{Chip: simChip(t), Jumpers: [][2]string{{"GPIO17", "GPIO18"}, {"GPIO27", "GPIO22"}}, Faults: faults, MidRail: mid})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("jumper: %v", err)
		}
	})
	return w
}

// tool requests a line the way a program under test would, and releases it with the test.
func tool(t *testing.T, line string, opts ...gpiocdev.LineReqOption) *gpiocdev.Line {
	t.Helper()
	c := simChip(t)
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chip.Close() })
	off, err := chip.FindLine(line)
	if err != nil {
		t.Fatal(err)
	}
	l, err := chip.RequestLine(off, append(opts, gpiocdev.WithConsumer("wire-test"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func read(t *testing.T, w *jumper.Wire, l *gpiocdev.Line) int {
	t.Helper()
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	v, err := l.Value()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reconfigure(t *testing.T, l *gpiocdev.Line, opts ...gpiocdev.LineConfigOption) {
	t.Helper()
	if err := l.Reconfigure(opts...); err != nil {
		t.Fatal(err)
	}
}

func TestDriveReachesTheOtherEnd(t *testing.T) {
	w := start(t, jumper.MidRailKeep)
	partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullDown)
	line := tool(t, "GPIO17", gpiocdev.AsOutput(1))
	if v := read(t, w, partner); v != 1 {
		t.Errorf("GPIO18 reads %d while GPIO17 drives 1 against its pull-down; want 1", v)
	}
	// A value change raises no line-info event: Settle rescans.
	if err := line.SetValue(0); err != nil {
		t.Fatal(err)
	}
	reconfigure(t, partner, gpiocdev.WithPullUp)
	if v := read(t, w, partner); v != 0 {
		t.Errorf("GPIO18 reads %d while GPIO17 drives 0 against its pull-up; want 0", v)
	}
	// Without Settle, the poll sees a value change within a few intervals.
	if err := line.SetValue(1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(100 * jumper.DefaultPoll)
	for {
		v, _ := partner.Value()
		if v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GPIO18 did not follow GPIO17's value change within %v without Settle", 100*jumper.DefaultPoll)
		}
		time.Sleep(jumper.DefaultPoll / 2)
	}
	if c := w.Contentions(); len(c) != 0 {
		t.Errorf("contentions: %v", c)
	}
}

func TestPullsAndChargeRetention(t *testing.T) {
	w := start(t, jumper.MidRailKeep)
	partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	line := tool(t, "GPIO17", gpiocdev.AsInput, gpiocdev.WithPullUp)
	if v := read(t, w, partner); v != 1 {
		t.Errorf("GPIO18 (no bias) reads %d while GPIO17 pulls up; want 1", v)
	}
	reconfigure(t, line, gpiocdev.WithBiasDisabled)
	if v := read(t, w, partner); v != 1 {
		t.Errorf("the floating wire reads %d after a pull-up let go; want 1 (charge retention)", v)
	}
	reconfigure(t, partner, gpiocdev.WithPullDown)
	if v := read(t, w, line); v != 0 {
		t.Errorf("GPIO17 (no bias) reads %d while GPIO18 pulls down; want 0", v)
	}
	reconfigure(t, partner, gpiocdev.WithBiasDisabled)
	if v := read(t, w, line); v != 0 {
		t.Errorf("the floating wire reads %d after a pull-down let go; want 0", v)
	}
	// The other jumper is untouched.
	if lvl, _ := w.Level("GPIO22"); lvl != 0 {
		t.Errorf("GPIO22's wire is at %d; want 0", lvl)
	}
}

func TestMidRail(t *testing.T) {
	for _, tc := range []struct {
		mid  jumper.MidRail
		want [2]int // read after the wire was high, then after it was low
	}{
		{jumper.MidRailKeep, [2]int{1, 0}},
		{jumper.MidRailLow, [2]int{0, 0}},
		{jumper.MidRailHigh, [2]int{1, 1}},
	} {
		t.Run(tc.mid.String(), func(t *testing.T) {
			w := start(t, tc.mid)
			partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullUp)
			line := tool(t, "GPIO17", gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
			read(t, w, partner)
			reconfigure(t, line, gpiocdev.WithPullDown) // wire was high
			if v := read(t, w, partner); v != tc.want[0] {
				t.Errorf("pull-up against pull-down, wire was high: reads %d; want %d", v, tc.want[0])
			}
			reconfigure(t, partner, gpiocdev.WithPullDown)
			read(t, w, partner)
			reconfigure(t, partner, gpiocdev.WithPullUp) // wire was low
			if v := read(t, w, partner); v != tc.want[1] {
				t.Errorf("pull-up against pull-down, wire was low: reads %d; want %d", v, tc.want[1])
			}
		})
	}
}

// A request made and released between two looks of the wire still leaves its pull: the
// line-info events carry it.
func TestPullOfAQuickRequestIsKept(t *testing.T) {
	w := start(t, jumper.MidRailKeep)
	partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithBiasDisabled)
	c := simChip(t)
	for _, tc := range []struct {
		bias gpiocdev.LineBias
		want int
	}{{gpiocdev.WithPullUp, 1}, {gpiocdev.WithPullDown, 0}, {gpiocdev.WithPullUp, 1}} {
		l, err := gpiocdev.RequestLine(c.Name, 17, gpiocdev.AsInput, tc.bias)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		if v := read(t, w, partner); v != tc.want {
			t.Errorf("after GPIO17 was requested with bias %v and released at once, GPIO18 reads %d; want %d", tc.bias, v, tc.want)
		}
	}
	// A released output stops driving (gpio-sim semantics) and the wire keeps its level.
	l, err := gpiocdev.RequestLine(c.Name, 17, gpiocdev.AsOutput(0), gpiocdev.WithBiasDisabled)
	if err != nil {
		t.Fatal(err)
	}
	if v := read(t, w, partner); v != 0 {
		t.Errorf("GPIO18 reads %d while GPIO17 drives 0; want 0", v)
	}
	l.Close()
	if v := read(t, w, partner); v != 0 {
		t.Errorf("GPIO18 reads %d after GPIO17 (no pull) stopped driving 0; want 0 (retention)", v)
	}
}

func TestFaults(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.Open("GPIO17"))
		partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullDown)
		tool(t, "GPIO17", gpiocdev.AsOutput(1))
		if v := read(t, w, partner); v != 0 {
			t.Errorf("open jumper: GPIO18 reads %d while GPIO17 drives 1; want its own pull-down, 0", v)
		}
	})
	t.Run("crossed", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.Crossed("GPIO17", "GPIO27"))
		if got := strings.Join(w.Wires(), " "); got != "GPIO17+GPIO22 GPIO27+GPIO18" {
			t.Errorf("wires = %s", got)
		}
		p18 := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullDown)
		p22 := tool(t, "GPIO22", gpiocdev.AsInput, gpiocdev.WithPullDown)
		tool(t, "GPIO17", gpiocdev.AsOutput(1))
		if a, b := read(t, w, p18), read(t, w, p22); a != 0 || b != 1 {
			t.Errorf("crossed: GPIO17 drives 1; GPIO18 reads %d (want 0), GPIO22 reads %d (want 1)", a, b)
		}
	})
	t.Run("bridged", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.Bridged("GPIO17", "GPIO27"))
		p22 := tool(t, "GPIO22", gpiocdev.AsInput, gpiocdev.WithPullDown)
		tool(t, "GPIO17", gpiocdev.AsOutput(1))
		if v := read(t, w, p22); v != 1 {
			t.Errorf("bridged: GPIO22 reads %d while GPIO17 drives 1; want 1", v)
		}
	})
	t.Run("short to GND", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.ShortToGND("GPIO18"))
		partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullUp)
		if v := read(t, w, partner); v != 0 {
			t.Errorf("short to GND: GPIO18 pulled up reads %d; want 0", v)
		}
		tool(t, "GPIO17", gpiocdev.AsOutput(1))
		read(t, w, partner)
		c := w.Contentions()
		if len(c) != 1 || !strings.Contains(c[0].Message, "GPIO17 driven high into a short to GND") {
			t.Errorf("contentions = %v; want GPIO17 driven high into a short to GND", c)
		}
	})
	t.Run("short to 3V3", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.ShortTo3V3("GPIO17"))
		partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullDown)
		if v := read(t, w, partner); v != 1 {
			t.Errorf("short to 3V3: GPIO18 pulled down reads %d; want 1", v)
		}
	})
	t.Run("stuck", func(t *testing.T) {
		w := start(t, jumper.MidRailKeep, jumper.Stuck("GPIO17", 1))
		line := tool(t, "GPIO17", gpiocdev.AsInput, gpiocdev.WithPullDown)
		partner := tool(t, "GPIO18", gpiocdev.AsInput, gpiocdev.WithPullUp)
		if v := read(t, w, line); v != 1 {
			t.Errorf("stuck high: GPIO17 pulled down reads %d; want 1", v)
		}
		reconfigure(t, partner, gpiocdev.WithPullDown)
		if v := read(t, w, partner); v != 0 {
			t.Errorf("stuck GPIO17 is cut off the wire: GPIO18 pulled down reads %d; want 0", v)
		}
		if len(w.Contentions()) != 0 {
			t.Errorf("contentions: %v", w.Contentions())
		}
	})
}

func TestContentionBetweenDrivers(t *testing.T) {
	w := start(t, jumper.MidRailKeep)
	tool(t, "GPIO17", gpiocdev.AsOutput(1))
	tool(t, "GPIO18", gpiocdev.AsOutput(0))
	if err := w.Settle(); err != nil {
		t.Fatal(err)
	}
	c := w.Contentions()
	if len(c) != 1 || c[0].Message != "GPIO17 driven high while GPIO18 driven low on one wire" {
		t.Errorf("contentions = %v", c)
	}
}

func TestBadConfig(t *testing.T) {
	c := simChip(t)
	for _, tc := range []struct {
		cfg  jumper.Config
		want string
	}{
		{jumper.Config{Chip: c, Jumpers: [][2]string{{"GPIO17", "GPIO17"}}}, "joins GPIO17 to itself"},
		{jumper.Config{Chip: c, Jumpers: [][2]string{{"GPIO17", "GPIO18"}, {"GPIO18", "GPIO19"}}}, "GPIO18 is on two jumpers"},
		{jumper.Config{Chip: c, Jumpers: [][2]string{{"GPIO17", "GPIO40"}}}, "line GPIO40 is not on chip wire-test"},
		{jumper.Config{Chip: c, Jumpers: [][2]string{{"GPIO17", "GPIO18"}}, Faults: []jumper.Fault{jumper.Open("GPIO5")}}, "GPIO5, which is on no jumper"},
	} {
		if w, err := jumper.Start(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			if w != nil {
				w.Close()
			}
			t.Errorf("Start(%v) = %v; want an error with %q", tc.cfg.Jumpers, err, tc.want)
		}
	}
}

func TestCloseStopsTheWire(t *testing.T) {
	w, err := jumper.Start(jumper.Config{Chip: simChip(t), Jumpers: [][2]string{{"GPIO17", "GPIO18"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Settle(); err != jumper.ErrClosed {
		t.Errorf("Settle after Close = %v; want ErrClosed", err)
	}
}
