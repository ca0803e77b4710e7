package loopback_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vmtest"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/loopback/jumper"
)

// partnerEdges are the timeline's events from the partner's edges, in words.
func partnerEdges(tl *timeline.Timeline) []string {
	var out []string
	for _, e := range tl.Events {
		if e.Source == timeline.Partner {
			out = append(out, e.What)
		}
	}
	return out
}

// timelineOf runs gpiohil drive on GPIO17 of a checked bench on the simulated wire, from an
// input with a pull-down, and returns the trial's timeline.
func timelineOf(t *testing.T, b bench.Bench, c trial.Case) *timeline.Timeline {
	t.Helper()
	if _, err := os.Stat(runenv.Bin()); err != nil {
		vmtest.RequireLane(t, "gpiohil binary", fmt.Sprintf("no gpiohil binary in $%s: %v", runenv.EnvBin, err))
	}
	p, err := profile.Lookup("gpiohil-drive")
	if err != nil {
		t.Fatal(err)
	}
	l, err := b.Line("GPIO17")
	if err != nil {
		t.Fatal(err)
	}
	c.Profile, c.Value, c.Bias, c.Timeline = p, 1, vocab.BiasAsIs, true
	c.Pre = bench.State{Direction: vocab.Input, Bias: vocab.BiasPullDown}
	res, err := trial.Run(context.Background(), b, l, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Timeline == nil {
		t.Fatal("no timeline was recorded")
	}
	if !slices.Contains(res.Timeline.Sources, timeline.Partner) {
		t.Fatalf("sources %v, notes %v; want the partner's edges among them", res.Timeline.Sources, res.TimelineNotes)
	}
	for _, s := range res.Timeline.Spans() {
		t.Logf("%9v %-40s (%s)", s.From, s.State.Word(), s.By)
	}
	return res.Timeline
}

// A tool that holds a line high until SIGTERM, on a rig: the partner sees the wire rise when
// the tool drives the line and fall when it releases it to its pull-down, and the timeline
// reads one pulse. (A set-and-exit tool's few milliseconds can end before the simulated wire
// looks, which it then never sees as a drive: docs/loopback.md, fidelity limits.)
func TestPartnerEdgesShowAPulse(t *testing.T) {
	b, _ := checked(t, jumper.MidRailLow)
	tl := timelineOf(t, b, trial.Case{Action: vocab.Hold, Ending: vocab.SIGTERM})
	want := []string{"partner GPIO18: rising edge", "partner GPIO18: falling edge"}
	if got := partnerEdges(tl); !slices.Equal(got, want) {
		t.Errorf("partner edges %q; want %q", got, want)
	}
	if k := tl.PulseKind(vocab.High); k != timeline.KindPulse {
		t.Errorf("the timeline reads %s (%s); want a pulse", k, timeline.PulseWords(tl.Pulses(vocab.High), vocab.High, tl.Clocked()))
	}
	// The simulated wire's lag: from gpiolib setting the value to the partner's edge.
	var set, rise time.Duration
	for _, e := range tl.Events {
		switch {
		case set == 0 && e.Source == timeline.GPIOTrace && e.Latch == vocab.High:
			set = e.At
		case rise == 0 && e.Source == timeline.Partner && e.Level == vocab.High:
			rise = e.At
		}
	}
	if set > 0 && rise > 0 {
		t.Logf("the partner's rising edge came %v after gpiolib set the line high", rise-set)
		// The trace's clock is read to the microsecond: an edge of the same clock tick can
		// come out a fraction of one before it.
		if rise < set-10*time.Microsecond {
			t.Errorf("the partner rose at %v, before gpiolib set the line high at %v", rise, set)
		}
	}
}

// A change only the wire sees: while gpiohil drive holds the line high, the wire is forced low
// for 20 ms (jumper's Disturb), which no kernel event reports. The partner's edges catch it:
// the held line reads as two pulses, where the kernel's own sources alone read one.
func TestPartnerEdgesCatchADisturbance(t *testing.T) {
	b, w := checked(t, jumper.MidRailLow)
	var derr error
	tl := timelineOf(t, b, trial.Case{Action: vocab.Hold, Ending: vocab.SIGTERM, WhileHeld: func() {
		undo, err := w.Disturb("GPIO17", 0)
		if err != nil {
			derr = err
			return
		}
		time.Sleep(20 * time.Millisecond)
		derr = undo()
		// Held high again for a while: an edge of the same clock tick as the release is
		// read as following it (a 4 ms tick in the VM when its kernel counts in jiffies).
		time.Sleep(20 * time.Millisecond)
	}})
	if derr != nil {
		t.Fatal(derr)
	}
	want := []string{"partner GPIO18: rising edge", "partner GPIO18: falling edge", "partner GPIO18: rising edge", "partner GPIO18: falling edge"}
	if got := partnerEdges(tl); !slices.Equal(got, want) {
		t.Errorf("partner edges %q; want %q", got, want)
	}
	if k := tl.PulseKind(vocab.High); k != timeline.KindPulses {
		t.Errorf("the timeline reads %s (%s); want 2 pulses", k, timeline.PulseWords(tl.Pulses(vocab.High), vocab.High, tl.Clocked()))
	}
	blind := *tl
	blind.Events = slices.Clone(tl.Events)
	blind.Drop(timeline.Partner)
	if k := blind.PulseKind(vocab.High); k != timeline.KindPulse {
		t.Errorf("without the partner the timeline reads %s; want one pulse: the disturbance must be the partner's alone to see", k)
	}
}

// The watch is the wire's only: the observation after the tool, whose probe switches the
// partner's pull (on a floating wire, an edge each time), ends it, so the probe's own edges are
// never in the timeline; the wire's edges before it are.
func TestPartnerWatchEndsAtTheProbe(t *testing.T) {
	b, w := checked(t, jumper.MidRailLow)
	l := line(t, b, "GPIO17")
	for _, bias := range []vocab.Bias{vocab.BiasPullDown, vocab.BiasDisabled} { // low, then floating
		if err := b.Prepare(l, bench.State{Direction: vocab.Input, Bias: bias}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := b.WatchEdges(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{1, 0} { // the floating wire keeps each level after the undo
		undo, err := w.Disturb("GPIO17", level)
		if err != nil {
			t.Fatal(err)
		}
		if err := undo(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Observe(l); err != nil {
		t.Fatal(err)
	}
	es, notes, err := e.Stop()
	if err != nil {
		t.Fatal(err)
	}
	var got []vocab.Level
	for _, ev := range es {
		got = append(got, ev.Level)
	}
	if want := []vocab.Level{vocab.High, vocab.Low}; !slices.Equal(got, want) {
		t.Errorf("the watch kept edges %v (notes %v); want %v: the disturbances' edges, none of the probe's", got, notes, want)
	}
}
