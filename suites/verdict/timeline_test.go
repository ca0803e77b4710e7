package verdict

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
)

const timelineRules = `
tools:
  tool:
    set-output: {exit: released-output}
    hold:       {sigterm: released-output}
  starter:
    hold:       {sigterm: unmanaged-output}
starts:
  starter: input-no-pull
platforms:
  - name: sim
    match: {driver: gpio-sim}
    outcomes:
      released-output: {direction: input, drive: pull, level: pull, pull: bias-or-before, owner: free}
  - name: pi, persist on
    match: {driver: pinctrl-bcm2835, persist: "Y"}
    outcomes:
      released-output: {direction: output, drive: driven, level: value, owner: free}
      unmanaged-output: {direction: output, drive: driven, level: value, owner: free}
`

// tl builds a timeline: driven high from 1 ms, then each of then (at 5, 6, ... ms).
func tl(then ...timeline.Event) *timeline.Timeline {
	ms := time.Millisecond
	t := &timeline.Timeline{}
	t.Add(timeline.Event{At: 0, Source: timeline.Observer, Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low},
		timeline.Event{At: 1 * ms, Source: timeline.GPIOTrace, Direction: vocab.Output, Drive: vocab.Driven, Level: vocab.High})
	for i, e := range then {
		e.At = time.Duration(5+i) * ms
		t.Add(e)
	}
	t.Mark(20*ms, "observed after")
	return t
}

var (
	pulledLow   = timeline.Event{Source: timeline.Driver, Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.Low}
	pulledHigh  = timeline.Event{Source: timeline.Driver, Direction: vocab.Input, Drive: vocab.Pulled, Level: vocab.High}
	drivenHigh  = timeline.Event{Source: timeline.GPIOTrace, Direction: vocab.Output, Drive: vocab.Driven, Level: vocab.High}
	floating    = timeline.Event{Source: timeline.Registers, Direction: vocab.Input, Drive: vocab.Floating, Level: vocab.LevelUnknown}
	levelUnseen = timeline.Event{Source: timeline.LineInfo, Direction: vocab.Input, Drive: vocab.DriveUnknown, Level: vocab.LevelUnknown}
)

// Every branch: the handover and pulse answers each platform expects, a mismatch in kind and in
// the gap's state, an unseen level (unknown, never met), a skip and an infrastructure error.
func TestJudgeTimeline(t *testing.T) {
	rules, err := expect.Parse("rules.yaml", []byte(timelineRules))
	if err != nil {
		t.Fatal(err)
	}
	hold := expect.Case{Tool: "tool", Action: vocab.Hold, Ending: vocab.SIGTERM, Value: 1, Bias: vocab.BiasAsIs, Before: vocab.PullDown}
	starter := expect.Case{Tool: "starter", Action: vocab.Hold, Ending: vocab.SIGTERM, Value: 1, Bias: vocab.BiasDisabled}
	set := expect.Case{Tool: "tool", Action: vocab.SetOutput, Ending: vocab.Exit, Value: 1, Bias: vocab.BiasAsIs, Before: vocab.PullDown}
	for _, tc := range []struct {
		name    string
		in      TimelineInput
		verdict vocab.Verdict
		reason  string
	}{
		{"sim handover: a gap, pulled low", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: sim, Timeline: tl(pulledLow, drivenHigh)}, vocab.Met, ""},
		{"sim handover seen steady", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: sim, Timeline: tl()}, vocab.NotMet, "handover: got steady, want gap"},
		{"sim handover: a gap at the wrong level", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: sim, Timeline: tl(pulledHigh, drivenHigh)}, vocab.NotMet, "handover: pulled high, want pulled low"},
		{"persist on handover: steady", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: pi1, Timeline: tl()}, vocab.Met, ""},
		{"persist on handover with a gap", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: pi1, Timeline: tl(pulledLow, drivenHigh)}, vocab.NotMet, "handover: got gap, want steady"},
		{"a gap nothing saw the level of", TimelineInput{Shape: ShapeHandover, Case: hold, Platform: pi1, Timeline: tl(levelUnseen, drivenHigh)}, vocab.VerdictUnknown, "did not see the level"},
		{"a tool whose start floats the line: a gap where the line stays driven", TimelineInput{Shape: ShapeHandover, Case: starter, Platform: pi1, Timeline: tl(floating, drivenHigh)}, vocab.Met, ""},
		{"a tool whose start floats the line, seen steady", TimelineInput{Shape: ShapeHandover, Case: starter, Platform: pi1, Timeline: tl()}, vocab.NotMet, "handover: got steady, want gap"},
		{"sim pulse", TimelineInput{Shape: ShapePulse, Case: set, Platform: sim, Timeline: tl(pulledLow)}, vocab.Met, ""},
		{"sim pulse seen twice", TimelineInput{Shape: ShapePulse, Case: set, Platform: sim, Timeline: tl(pulledLow, drivenHigh, pulledLow)}, vocab.NotMet, "pulse: got pulses, want pulse"},
		{"persist on: held", TimelineInput{Shape: ShapePulse, Case: set, Platform: pi1, Timeline: tl()}, vocab.Met, ""},
		{"no rule", TimelineInput{Shape: ShapePulse, Case: expect.Case{Tool: "other", Action: vocab.SetOutput, Ending: vocab.Exit, Value: 1}, Platform: sim, Timeline: tl()}, vocab.VerdictUnknown, "does not say"},
		{"skip", TimelineInput{Shape: ShapePulse, Case: set, Platform: sim, Err: &trial.SkipError{Reason: "not installed"}}, vocab.Skipped, "not installed"},
		{"infrastructure", TimelineInput{Shape: ShapePulse, Case: set, Platform: sim, Err: errors.New("bench broke")}, vocab.Infrastructure, "bench broke"},
		{"no timeline", TimelineInput{Shape: ShapePulse, Case: set, Platform: sim}, vocab.Infrastructure, "no timeline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Rules = rules
			d, words := JudgeTimeline(tc.in)
			if d.Verdict != tc.verdict || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("verdict %s (%q), observed %q; want %s (%q)", d.Verdict, d.Reason, words, tc.verdict, tc.reason)
			}
			if d.Verdict == vocab.Met && d.Expected() == "" {
				t.Error("a met timeline says nothing of what was expected")
			}
		})
	}
}

var pi1 = observePersistOn()

func observePersistOn() (p observe.Platform) {
	p = pi
	p.Persist = vocab.PersistOn
	return p
}
