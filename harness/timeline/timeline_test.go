package timeline

import (
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vocab"
)

const ms = time.Millisecond

// The events gpio-sim gives a set-and-exit tool: gpiolib's trace of the request (value, then
// direction), line info's request and release, and the driver's release to the pull.
func simPulse() *Timeline {
	t := &Timeline{Line: "dut"}
	t.Add(
		Event{At: 1 * ms, Source: LineInfo, What: "requested", Owner: vocab.Used},
		Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
		Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_direction out", Direction: vocab.Output, Drive: vocab.Driven},
		Event{At: 4 * ms, Source: LineInfo, What: "released", Owner: vocab.Free},
		Event{At: 4 * ms, Source: Driver, What: "release: value to the pull", Level: vocab.Low, Drive: vocab.Pulled},
	)
	t.Mark(6*ms, "observed")
	return t
}

func TestSpans(t *testing.T) {
	var spans []Span
	for _, s := range simPulse().Spans() {
		if s.Len() > 0 { // the steps of one instant last no time
			spans = append(spans, s)
		}
	}
	if len(spans) != 2 {
		t.Fatalf("spans = %+v, want 2 that last", spans)
	}
	if s := spans[0]; s.From != 1*ms || s.To != 4*ms || !s.State.Driving(vocab.High) || s.State.Owner != vocab.Used {
		t.Errorf("first span %+v, want driven high and used from 1 to 4 ms", s)
	}
	if s := spans[1]; s.From != 4*ms || s.To != 6*ms || s.State.Word() != "pulled low" || s.State.Owner != vocab.Free {
		t.Errorf("second span %+v, want pulled low and free from 4 to 6 ms", s)
	}
}

func TestPulse(t *testing.T) {
	tl := simPulse()
	ps := tl.Pulses(vocab.High)
	if len(ps) != 1 || ps[0].Len() != 3*ms || ps[0].Held {
		t.Fatalf("pulses = %+v, want one of 3 ms", ps)
	}
	if got, want := PulseWords(ps, vocab.High, Clock{Emulated: true}), "a pulse: driven high for 3 ms (emulated), then pulled low"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
	if got := Kind(tl.PulseKind(vocab.High)); got != KindPulse {
		t.Errorf("kind %s, want pulse", got)
	}
}

// An extra change injected into a pulse (the line dropped and driven again) is two pulses, not
// one: the answer can fail.
func TestInjectedChangeIsCaught(t *testing.T) {
	tl := simPulse()
	tl.Add(Event{At: 2 * ms, Source: GPIOTrace, What: "gpio_value set 0", Latch: vocab.Low},
		Event{At: 3 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High})
	ps := tl.Pulses(vocab.High)
	if len(ps) != 2 {
		t.Fatalf("pulses = %+v, want 2", ps)
	}
	if got := tl.PulseKind(vocab.High); got != KindPulses {
		t.Errorf("kind %s, want pulses", got)
	}
	if !strings.HasPrefix(PulseWords(ps, vocab.High, Clock{}), "2 pulses: driven high for 1 ms, then driven low; ") {
		t.Errorf("words %q", PulseWords(ps, vocab.High, Clock{}))
	}
	if g := tl.StartUp(vocab.High); len(g) != 0 {
		t.Errorf("start-up glitches %+v before the first high, want none", g)
	}
}

func TestHeldIsNotAPulse(t *testing.T) {
	tl := &Timeline{}
	tl.Add(Event{At: 1 * ms, Source: Registers, What: "GPFSEL1: output", Direction: vocab.Output, Drive: vocab.Driven},
		Event{At: 1 * ms, Source: Registers, What: "GPSET0", Latch: vocab.High})
	tl.Mark(9*ms, "observed")
	ps := tl.Pulses(vocab.High)
	if len(ps) != 1 || !ps[0].Held || tl.PulseKind(vocab.High) != KindHeld {
		t.Fatalf("pulses %+v, want one held to the end", ps)
	}
	if got, want := PulseWords(ps, vocab.High, Clock{}), "held: driven high from +1 ms to the end"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
}

func TestStartUpGlitch(t *testing.T) {
	tl := &Timeline{}
	tl.Add(Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_value set 0", Latch: vocab.Low},
		Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_direction out", Direction: vocab.Output, Drive: vocab.Driven},
		Event{At: 2 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High})
	tl.Mark(5*ms, "observed")
	g := tl.StartUp(vocab.High)
	if len(g) != 1 || g[0].Level != vocab.Low || g[0].To-g[0].From != 1*ms {
		t.Fatalf("glitches %+v, want driven low for 1 ms", g)
	}
}

// handover: A drives high from 1 ms and is released at 10; B drives high again at 12.
func handover(persist bool) *Timeline {
	tl := &Timeline{}
	tl.Add(Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
		Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_direction out", Direction: vocab.Output, Drive: vocab.Driven},
		Event{At: 10 * ms, Source: LineInfo, What: "released", Owner: vocab.Free})
	if !persist {
		tl.Add(Event{At: 10 * ms, Source: Driver, What: "release", Level: vocab.Low, Drive: vocab.Pulled})
	}
	tl.Add(Event{At: 12 * ms, Source: LineInfo, What: "requested", Owner: vocab.Used},
		Event{At: 12 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
		Event{At: 12 * ms, Source: GPIOTrace, What: "gpio_direction out", Direction: vocab.Output, Drive: vocab.Driven})
	tl.Mark(20*ms, "observed")
	return tl
}

func TestHandover(t *testing.T) {
	h := handover(false).Handover(vocab.High)
	if !h.Known || h.Steady || h.From != 10*ms || h.To != 12*ms || !h.Back || h.Kind() != KindGap {
		t.Fatalf("handover %+v, want a gap from 10 to 12 ms", h)
	}
	if got, want := h.Words(vocab.High, Clock{Emulated: true}), "gap: pulled low for 2 ms (emulated), then driven high again; it began with driver: release"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
	h = handover(true).Handover(vocab.High)
	if !h.Known || !h.Steady || h.Kind() != KindSteady {
		t.Fatalf("handover %+v, want steady", h)
	}
	if got, want := h.Words(vocab.High, Clock{}), "steady: driven high throughout"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
}

// A gap whose level no source saw is unknown, never steady.
func TestHandoverUnknownLevel(t *testing.T) {
	tl := &Timeline{}
	tl.Add(Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
		Event{At: 1 * ms, Source: GPIOTrace, What: "gpio_direction out", Direction: vocab.Output, Drive: vocab.Driven},
		Event{At: 5 * ms, Source: Registers, What: "GPFSEL1: input", Direction: vocab.Input, Drive: vocab.DriveUnknown, Level: vocab.LevelUnknown},
		Event{At: 7 * ms, Source: Registers, What: "GPFSEL1: output", Direction: vocab.Output, Drive: vocab.Driven, Level: vocab.High})
	tl.Mark(9*ms, "observed")
	h := tl.Handover(vocab.High)
	if h.Known || h.Steady || h.Kind() != KindUnknown {
		t.Fatalf("handover %+v, want unknown", h)
	}
	if got := (&Timeline{}).Handover(vocab.High); !got.Never || got.Kind() != KindUnknown {
		t.Errorf("an empty timeline's handover %+v, want never driven", got)
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{35 * time.Microsecond, "35 µs"}, {1234 * time.Microsecond, "1.23 ms"}, {2310 * ms, "2.31 s"}} {
		if got := Duration(c.d, false); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// On a coarse clock a tool's request and release can fall in one tick: what the kernel did to
// the pin still comes before the line-info events of that tick, so a pulse stays a pulse.
func TestOneTickPulse(t *testing.T) {
	tl := &Timeline{}
	tl.Add(Event{At: 0, Source: Observer, What: "observed before: input", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low})
	tl.Add(Event{At: 4 * ms, Source: LineInfo, What: "requested", Owner: vocab.Used},
		Event{At: 4 * ms, Source: LineInfo, What: "released", Owner: vocab.Free},
		Event{At: 4 * ms, Source: Driver, What: "release", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low})
	tl.Add(Event{At: 4 * ms, Source: GPIOTrace, What: "gpio_value set 1", Latch: vocab.High},
		Event{At: 4 * ms, Source: GPIOTrace, What: "gpio_direction out (0)", Direction: vocab.Output, Drive: vocab.Driven})
	tl.Add(Event{At: 4 * ms, Source: Observer, What: "observed after: input", Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low})
	if k := tl.PulseKind(vocab.High); k != KindPulse {
		t.Errorf("kind %s, want a pulse (of no length at this clock)", k)
	}
}

func TestStepClock(t *testing.T) {
	c := Clock{Emulated: true, Step: 4 * ms}
	if got := c.Len(0); got != "under 4 ms (emulated)" {
		t.Errorf("a length under one step: %q", got)
	}
	if got := c.Len(8 * ms); got != "8 ms (emulated)" {
		t.Errorf("two steps: %q", got)
	}
}
