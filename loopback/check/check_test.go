package check_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/warthog618/go-gpiocdev"

	"github.com/gpiohil/gpiohil/harness/sim"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/loopback/check"
	"github.com/gpiohil/gpiohil/loopback/jumper"
	"github.com/gpiohil/gpiohil/loopback/probe"
	"github.com/gpiohil/gpiohil/loopback/rig"
	"github.com/gpiohil/gpiohil/loopback/safety"
)

const label = "check-test"

func TestMain(m *testing.M) {
	var lines []string
	for i := range 28 {
		lines = append(lines, fmt.Sprintf("GPIO%d", i))
	}
	os.Exit(vmtest.Main(m, sim.Bank{Label: label, Lines: lines}))
}

// testRig is the built-in plan's first four jumpers: A GPIO17-GPIO18 (pins 11-12), B
// GPIO27-GPIO22 (13-15), C GPIO23-GPIO24 (16-18), D GPIO6-GPIO12 (31-32), on the sim chip.
func testRig(t *testing.T) *rig.Rig {
	t.Helper()
	r, err := rig.Default("pi4-b")
	if err != nil {
		t.Fatal(err)
	}
	r.Chip = label
	r.Pairs = r.Pairs[:4]
	r.MayTouch = r.MayTouch[:8]
	return r
}

// setup starts a simulated wire with the rig's jumpers and faults and an interlock over the
// rig's lines; both are closed, lines restored, when the test ends.
func setup(t *testing.T, r *rig.Rig, mid jumper.MidRail, faults ...jumper.Fault) (*jumper.Wire, *safety.Interlock) {
	t.Helper()
	c, err := sim.ChipFromEnv(label)
	if err != nil {
		t.Fatal(err)
	}
	var jumpers, pairs [][2]string
	for _, p := range r.Pairs {
		jumpers = append(jumpers, [2]string{p.Line, p.Partner})
		pairs = append(pairs, [2]string{p.Line, p.Partner})
	}
	w, err := jumper.Start(jumper.Config{Chip: c, Jumpers: jumpers, Faults: faults, MidRail: mid})
	if err != nil {
		t.Fatal(err)
	}
	chip, err := gpiocdev.NewChip(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, n := range r.MayTouch {
		lines[n] = slices.Index(c.Lines, n)
	}
	il := safety.New(safety.Config{Chip: chip, Label: label, Lines: lines, Pairs: pairs})
	t.Cleanup(func() {
		if err := il.RestoreAll(); err != nil {
			t.Errorf("restore: %v", err)
		}
		chip.Close()
		if c := w.Contentions(); len(c) > 0 {
			t.Errorf("the check made drivers fight: %v", c)
		}
		if err := w.Close(); err != nil {
			t.Errorf("wire: %v", err)
		}
	})
	return w, il
}

func TestGoodRig(t *testing.T) {
	for _, mid := range []jumper.MidRail{jumper.MidRailKeep, jumper.MidRailLow, jumper.MidRailHigh} {
		t.Run("mid-rail "+mid.String(), func(t *testing.T) {
			r := testRig(t)
			w, il := setup(t, r, mid)
			rep := check.Run(il, r.Pairs, check.Options{Settler: w})
			t.Log(rep)
			if !rep.OK() {
				t.Fatalf("good rig failed the check:\n%s", rep)
			}
			want := map[probe.Class]probe.Pattern{
				probe.DrivenHigh: "1111", probe.DrivenLow: "0000", probe.Floating: "1100",
				probe.PulledUp:   map[jumper.MidRail]probe.Pattern{jumper.MidRailKeep: "1111", jumper.MidRailLow: "1101", jumper.MidRailHigh: "1111"}[mid],
				probe.PulledDown: map[jumper.MidRail]probe.Pattern{jumper.MidRailKeep: "0000", jumper.MidRailLow: "0000", jumper.MidRailHigh: "1000"}[mid],
			}
			for _, res := range rep.Results {
				for c, p := range want {
					if got := res.Signatures[c]; len(got) != 1 || got[0] != p {
						t.Errorf("pair %s: %s reads %v; want [%s]", res.Pair.Name, c, got, p)
					}
				}
			}
		})
	}
}

// Each fault is found on the right pair, with a message that says which jumper to fix, and
// the pairs it does not touch pass.
func TestFaultsAreFound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  jumper.Fault
		fails  map[string]check.Fault
		phrase map[string]string // pair -> a phrase its message must contain
	}{
		{"open", jumper.Open("GPIO17"), map[string]check.Fault{"A": check.Open},
			map[string]string{"A": "GPIO18 (pin 12) did not follow GPIO17 (pin 11) pulled up, nor the other way round: the jumper between pins 11 and 12 is missing or does not make contact; fit a jumper cap across pins 11-12"}},
		{"crossed", jumper.Crossed("GPIO17", "GPIO27"), map[string]check.Fault{"A": check.Crossed, "B": check.Crossed},
			map[string]string{
				"A": "pair A is crossed with pair B: GPIO17 (pin 11) is joined to GPIO22 (pin 15), the partner of pair B; GPIO18 (pin 12) is joined to GPIO27 (pin 13), the line under test of pair B, not to each other; fit the jumpers so pin 11 joins pin 12",
				"B": "fit the jumpers so pin 13 joins pin 15"}},
		{"bridged", jumper.Bridged("GPIO17", "GPIO23"), map[string]check.Fault{"A": check.Bridged, "C": check.Bridged},
			map[string]string{
				"A": "pair A is bridged to pair C: pulling GPIO17 (pin 11) up also raised GPIO23 (pin 16), GPIO24 (pin 18)",
				"C": "pair C is bridged to pair A"}},
		{"short to GND", jumper.ShortToGND("GPIO27"), map[string]check.Fault{"B": check.ShortGND},
			map[string]string{"B": "GPIO27 (pin 13) and GPIO22 (pin 15) read 0 even while pulled up: their wire is shorted to GND"}},
		{"short to 3V3", jumper.ShortTo3V3("GPIO12"), map[string]check.Fault{"D": check.Short3V3},
			map[string]string{"D": "GPIO6 (pin 31) and GPIO12 (pin 32) read 1 even while pulled down: their wire is tied to 3V3"}},
		{"stuck line", jumper.Stuck("GPIO23", 0), map[string]check.Fault{"C": check.Stuck},
			map[string]string{"C": "GPIO23 (pin 16) reads 0 whatever its own pull does, while GPIO24 (pin 18) follows its pull: GPIO23 is stuck low"}},
		{"stuck partner", jumper.Stuck("GPIO24", 1), map[string]check.Fault{"C": check.Stuck},
			map[string]string{"C": "GPIO24 (pin 18) reads 1 whatever its own pull does"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRig(t)
			w, il := setup(t, r, jumper.MidRailKeep, tc.fault)
			rep := check.Run(il, r.Pairs, check.Options{Settler: w})
			t.Log(w)
			t.Log(rep)
			for _, res := range rep.Results {
				want := tc.fails[res.Pair.Name]
				if res.Fault != want {
					t.Errorf("pair %s: fault %q; want %q (%s)", res.Pair.Name, res.Fault, want, res.Message)
					continue
				}
				if want == "" {
					continue
				}
				if !strings.Contains(res.Message, tc.phrase[res.Pair.Name]) {
					t.Errorf("pair %s message:\n  %s\nwant it to contain:\n  %s", res.Pair.Name, res.Message, tc.phrase[res.Pair.Name])
				}
				var pe *check.PairError
				if err := res.Err(); !errors.As(err, &pe) || !errors.Is(err, check.ErrMiswired) {
					t.Errorf("pair %s: Err() = %v; want a *PairError matching ErrMiswired", res.Pair.Name, err)
				}
			}
		})
	}
}

// A line another program holds fails its pair before anything is touched; the other pairs
// are checked as usual.
func TestUnavailableLine(t *testing.T) {
	r := testRig(t)
	w, il := setup(t, r, jumper.MidRailKeep)
	bad := map[string]error{"GPIO22": &safety.UnavailableError{Line: "GPIO22", Reason: `it is in use by "w1-gpio"`}}
	rep := check.Run(il, r.Pairs, check.Options{Settler: w, Unavailable: bad})
	res, _ := rep.Result("B")
	if res.Fault != check.Unavailable || !strings.Contains(res.Message, `GPIO22 (pin 15): line GPIO22 is not available to gpiohil: it is in use by "w1-gpio"`) {
		t.Errorf("pair B: %s", res)
	}
	if slices.Contains(il.Touched(), "GPIO22") || slices.Contains(il.Touched(), "GPIO27") {
		t.Errorf("the check touched pair B's lines: %v", il.Touched())
	}
	for _, name := range []string{"A", "C", "D"} {
		if res, _ := rep.Result(name); !res.OK() {
			t.Errorf("pair %s: %s", name, res)
		}
	}
}

func TestNoSettler(t *testing.T) {
	r := testRig(t)
	_, il := setup(t, r, jumper.MidRailKeep)
	rep := check.Run(il, r.Pairs, check.Options{})
	if rep.OK() || !strings.Contains(rep.Results[0].Message, "no settler") {
		t.Errorf("check without a settler: %s", rep)
	}
}
