package trial

import (
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// observed is a gpio-sim observation of a free input pulled by p.
func observed(p vocab.Pull) observe.Observation {
	o := observe.New("sim", "dut", 0, vocab.See(vocab.Fields...), observe.Platform{Driver: "gpio-sim"})
	o.Direction, o.Drive, o.Pull, o.Owner, o.Level = vocab.Input, vocab.Pulled, p, vocab.Free, p.Level()
	return o
}

// Without gpiolib's trace (here: no kernel to trace), line info and gpio-sim's rules still
// give the pulse's shape, the level while requested stays unknown, and nothing is claimed
// that no source saw: the pulse is unknown, not "never driven".
func TestRecordingFromLineInfoAndTheDriver(t *testing.T) {
	l := bench.Line{Chip: "no-such-chip", Name: "dut", Offset: 0}
	r := Record(&bench.GPIOSim{}, l, observed(vocab.PullDown), true)
	if len(r.Notes) == 0 {
		t.Error("no note that the gpio trace was not recorded")
	}
	ms := time.Millisecond
	t0 := r.zero + r.Now() // after the observation before
	r.LineInfo(bench.Changes{
		{Kind: bench.Requested, At: t0 + 2*ms, Direction: vocab.Output, Bias: vocab.BiasPullUp, Consumer: "tool"},
		{Kind: bench.Released, At: t0 + 5*ms, Direction: vocab.Output, Bias: vocab.BiasAsIs},
	})
	time.Sleep(6 * ms) // the observation after comes after the release
	tl := r.Stop(observed(vocab.PullUp))
	var states []string
	for _, s := range tl.Spans() {
		if s.Len() > 0 {
			states = append(states, s.State.Word())
		}
	}
	// The request's pull-up stays on gpio-sim (PullAfter), so the release reads high.
	want := []string{"pulled low", "output, level unknown", "pulled high"}
	if len(states) < 3 || states[0] != want[0] || states[1] != want[1] || states[2] != want[2] {
		t.Errorf("stretches %q; want %q", states, want)
	}
	if k := tl.PulseKind(vocab.High); k != timeline.KindUnknown {
		t.Errorf("pulse %s; want unknown: the level while requested was not seen", k)
	}
	if h := tl.Handover(vocab.High); h.Kind() != timeline.KindUnknown {
		t.Errorf("handover %s; want unknown: nothing saw the line driven high", h.Kind())
	}
}

// Two set-and-exit runs whose release and next request share a clock tick (a VM kernel counting
// in jiffies) are two pulses: the second request's trace events, of the same tick, come after
// the first run's release, as line info ordered them, not before it.
func TestReleaseAndRequestOfOneTick(t *testing.T) {
	l := bench.Line{Chip: "no-such-chip", Name: "dut", Offset: 0}
	r := Record(&bench.GPIOSim{}, l, observed(vocab.PullDown), true)
	ms := time.Millisecond
	t0 := r.zero + r.Now()
	r.traced = true // as if gpiolib's trace was recorded: line info then says only who holds the line
	r.LineInfo(bench.Changes{
		{Kind: bench.Requested, At: t0 + 4*ms, Direction: vocab.Output, Bias: vocab.BiasAsIs, Consumer: "tool"},
		{Kind: bench.Released, At: t0 + 8*ms, Direction: vocab.Output, Bias: vocab.BiasAsIs},
		{Kind: bench.Requested, At: t0 + 8*ms, Direction: vocab.Output, Bias: vocab.BiasAsIs, Consumer: "tool"},
		{Kind: bench.Released, At: t0 + 12*ms, Direction: vocab.Output, Bias: vocab.BiasAsIs},
	})
	// What gpiolib's trace would have said, on the same ticks.
	for _, at := range []time.Duration{4 * ms, 8 * ms} {
		r.tl.Add(timeline.Event{At: t0 - r.zero + at, Source: timeline.GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
			timeline.Event{At: t0 - r.zero + at, Source: timeline.GPIOTrace, What: "gpio_direction out (0)", Direction: vocab.Output, Drive: vocab.Driven})
	}
	time.Sleep(13 * ms)
	tl := r.Stop(observed(vocab.PullDown))
	if ps := tl.Pulses(vocab.High); len(ps) != 2 {
		for _, s := range tl.Spans() {
			t.Logf("%v %s (%s)", s.From, s.State.Word(), s.By)
		}
		t.Errorf("%s; want 2 pulses", timeline.PulseWords(ps, vocab.High, tl.Clocked()))
	}
}
