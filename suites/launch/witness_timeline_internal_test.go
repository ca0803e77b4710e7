package launch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// handoverTrace is QEMU's trace of a handover on GPIO17 as pinctrl-bcm2835 writes it, with
// timestamps: the pre-state (input, pull-down) at mark 1; the first tool's request (latch
// high, then output); with persist off, its release making the pin an input; the next tool's
// request; mark 2 while it holds. extra adds writes between (an injected glitch).
func handoverTrace(persist bool, extra ...[2]uint32) string {
	const fsel1Out17 = 1 << 21 // GPFSEL1 bits 21-23: pin 17 output
	ws := [][2]uint32{
		{0x94, 1}, {0x98, 1 << 17}, {0x94, 0}, {0x98, 0}, // pull-down on 17
		{0x04, 0}, // 17 an input
		{regwitness.MarkOffset, 1},
		{0x1c, 1 << 17}, {0x04, fsel1Out17}, // first tool: set, output
	}
	if !persist {
		ws = append(ws, [2]uint32{0x04, 0}) // its release: an input
	}
	ws = append(ws, extra...)
	ws = append(ws, [2]uint32{0x1c, 1 << 17}, [2]uint32{0x04, fsel1Out17}, [2]uint32{regwitness.MarkOffset, 2})
	var b strings.Builder
	for i, w := range ws {
		// one write every millisecond of QEMU's clock
		fmt.Fprintf(&b, "4242@1733061234.%06d:%s\n", 1000*(i+1), regwitness.Line(w[0], w[1]))
	}
	return b.String()
}

// handoverSpec is a handover case as the guest reports it on the Pi 3: a timeline with its
// line-info events and marks, and the driver's rule at the release with the pull unseen.
func handoverSpec(t *testing.T, persist vocab.Persist) junit.Case {
	t.Helper()
	term := vocab.SIGTERM
	plat := observe.Platform{Bench: vocab.KindVMRPi3, Driver: "pinctrl-bcm2835", Persist: persist}
	o := observe.New("pinctrl-bcm2835", "GPIO17", 17, vocab.See(vocab.FieldDirection, vocab.FieldOwner), plat)
	o.Direction, o.Owner, o.Mark = vocab.Output, vocab.Used, 2
	ms := time.Millisecond
	tl := &timeline.Timeline{Line: "GPIO17", Emulated: true}
	tl.Add(timeline.Event{At: 0, Source: timeline.Observer, What: "observed before", Direction: vocab.Input, Owner: vocab.Free},
		timeline.Event{At: 2 * ms, Source: timeline.LineInfo, What: "requested output", Owner: vocab.Used},
		timeline.Event{At: 4 * ms, Source: timeline.LineInfo, What: "released", Owner: vocab.Free},
		timeline.Event{At: 4 * ms, Source: timeline.Driver, What: "free", Direction: vocab.Input, Drive: vocab.DriveUnknown, Level: vocab.LevelUnknown},
		timeline.Event{At: 6 * ms, Source: timeline.LineInfo, What: "requested output", Owner: vocab.Used})
	tl.Marks = []timeline.Mark{{At: 0, What: "observed before", Reg: 1}, {At: 9 * ms, What: "observed after", Reg: 2}}
	tl.End = 9 * ms
	r := junit.Result{Suite: vocab.TimelineSuite, Tool: "gpiohil-drive", Scenario: "handover: hold high", Shape: "handover",
		Action: vocab.Hold, Ending: &term, Value: 1, Bias: vocab.BiasAsIs, Observed: "unknown", Verdict: vocab.VerdictUnknown,
		Observation: &o, Timeline: tl}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return junit.Case{Name: "timeline gpiohil-drive handover", SystemOut: junit.ResultEntry + ": " + string(b), Skipped: &junit.Message{Message: "unknown"}}
}

// On the emulated Pi the guest cannot see the level in a handover's gap; the register witness
// can. With persist off it is a gap (the pin an input, pulled low by its pull-down) between the
// two tools; with persist on the pin never leaves driving high: two different answers, each met.
// A write injected between (the pin driven low for a moment) is caught: not met.
func TestWitnessJudgesAHandover(t *testing.T) {
	for _, tc := range []struct {
		name    string
		persist vocab.Persist
		trace   string
		verdict vocab.Verdict
		says    string
	}{
		{"persist off", vocab.PersistOff, handoverTrace(false), vocab.Met, "gap: pulled low for 2 ms (emulated), then driven high again"},
		{"persist on", vocab.PersistOn, handoverTrace(true), vocab.Met, "steady: driven high throughout"},
		{"persist on, a glitch injected", vocab.PersistOn, handoverTrace(true, [2]uint32{0x28, 1 << 17}), vocab.NotMet, "gap: driven low for 1 ms (emulated)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, rules := decoded(t, tc.trace)
			s := junit.Build("gpiohil suites", []junit.Property{{Name: "sees", Value: "direction,owner"}}, []junit.Case{handoverSpec(t, tc.persist)}, "", 1, time.Time{})
			out := witness(&s, w, rules)
			c := s.Suites[0].Cases[0]
			r := c.Results()[0]
			if r.Verdict != tc.verdict || !strings.HasPrefix(r.Observed, tc.says) {
				t.Fatalf("verdict %s, observed %q; want %s, %q", r.Verdict, r.Observed, tc.verdict, tc.says)
			}
			if (tc.verdict == vocab.NotMet) != (c.Failure != nil) || c.Skipped != nil {
				t.Errorf("failure %+v, skipped %+v for verdict %s", c.Failure, c.Skipped, r.Verdict)
			}
			if (tc.verdict == vocab.NotMet) != (len(out.NotMet) == 1) {
				t.Errorf("witness reported %q not met", out.NotMet)
			}
			if !containsSource(r.Timeline, timeline.Registers) || containsSource(r.Timeline, timeline.Driver) {
				t.Errorf("sources %v: want the registers in place of the driver's rules", r.Timeline.Sources)
			}
		})
	}
}

func containsSource(t *timeline.Timeline, s timeline.Source) bool {
	for _, e := range t.Events {
		if e.Source == s {
			return true
		}
	}
	return false
}
