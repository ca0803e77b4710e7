package verdict

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

const rulesYAML = `
tools:
  tool:
    set-output: {exit: released-output}
    cleanup:    {exit: released-input-no-bias}
platforms:
  - name: sim
    match: {driver: gpio-sim}
    outcomes:
      released-output:        {direction: input, drive: pull, level: pull, pull: bias-or-before, owner: free}
  - name: pi
    match: {driver: pinctrl-bcm2835, persist: "N"}
    outcomes:
      released-output:        {direction: input, drive: pull, level: pull, pull: bias, owner: free, released-direction: output, released-bias: bias}
      released-input-no-bias: {direction: input, drive: pull, level: pull, pull: none, owner: free, released-direction: input, released-bias: disabled}
`

var (
	sim     = observe.Platform{Bench: vocab.KindGPIOSim, Driver: "gpio-sim"}
	pi      = observe.Platform{Bench: vocab.KindVMRPi3, Driver: "pinctrl-bcm2835", Persist: vocab.PersistOff}
	rp1     = observe.Platform{Bench: vocab.KindRPi, Driver: "pinctrl-rp1", Persist: vocab.PersistOff}
	seesAll = vocab.See(vocab.Fields...)
	piSees  = vocab.See(vocab.FieldDirection, vocab.FieldOwner, vocab.FieldReleasedDirection, vocab.FieldReleasedBias)
)

// released adds to o how its last request ended.
func released(o observe.Observation, dir vocab.Direction, bias vocab.Bias) observe.Observation {
	o.ReleasedDirection, o.ReleasedBias = dir, bias
	return o
}

// line builds an observation of an input pulled by pull, free.
func line(p observe.Platform, can vocab.Capabilities, dir vocab.Direction, lvl vocab.Level, pull vocab.Pull) observe.Observation {
	o := observe.New("chip", "dut", 0, can, p)
	o.Direction, o.Level, o.Pull, o.Owner = dir, lvl, pull, vocab.Free
	o.Drive = vocab.DriveOf(pull)
	if dir == vocab.Output {
		o.Drive = vocab.Driven
	}
	return o
}

func TestJudge(t *testing.T) {
	rules, err := expect.Parse("rules.yaml", []byte(rulesYAML))
	if err != nil {
		t.Fatal(err)
	}
	setOutput := expect.Case{Tool: "tool", Action: vocab.SetOutput, Ending: vocab.Exit, Value: 1, Bias: vocab.BiasPullUp, Before: vocab.PullDown}
	cleanup := expect.Case{Tool: "tool", Action: vocab.Cleanup, Ending: vocab.Exit, Value: 1, Bias: vocab.BiasPullUp, Before: vocab.PullDown}
	for _, tc := range []struct {
		name      string
		in        Input
		verdict   vocab.Verdict
		reason    string // a part of the reason; "" means none
		note      string // the whole note
		expected  string
		unchecked string
	}{
		{name: "a tool that is not installed is skipped with the reason",
			in:      Input{Case: setOutput, Err: &trial.SkipError{Reason: "gpioset not found on PATH"}, Rules: rules},
			verdict: vocab.Skipped, reason: "gpioset not found on PATH", note: "gpioset not found on PATH"},
		{name: "a wrapped skip is still a skip",
			in:      Input{Case: setOutput, Err: fmt.Errorf("trial: %w", &trial.SkipError{Reason: "bias unsupported"}), Rules: rules},
			verdict: vocab.Skipped, reason: "bias unsupported"},
		{name: "a hung tool is infrastructure, not a product finding",
			in:      Input{Case: setOutput, Err: errors.New("runner: gpioset did not exit within 10s (killed)"), Rules: rules},
			verdict: vocab.Infrastructure, reason: "did not exit within 10s"},
		{name: "no expectations loaded is infrastructure",
			in:      Input{Case: setOutput, Observed: line(sim, seesAll, vocab.Input, vocab.High, vocab.PullUp)},
			verdict: vocab.Infrastructure, reason: "no expectations were loaded"},
		{name: "a tool the rules do not know is unknown, never passed",
			in:      Input{Case: expect.Case{Tool: "mystery", Action: vocab.SetOutput, Ending: vocab.Exit}, Observed: line(sim, seesAll, vocab.Input, vocab.High, vocab.PullUp), Rules: rules},
			verdict: vocab.VerdictUnknown, reason: "does not say what mystery set-output leaves behind"},
		{name: "a platform the rules do not know is unknown",
			in:      Input{Case: setOutput, Observed: line(rp1, seesAll, vocab.Input, vocab.High, vocab.PullUp), Rules: rules},
			verdict: vocab.VerdictUnknown, reason: `no platform for driver "pinctrl-rp1"`},
		{name: "an outcome the platform does not cover is unknown",
			in:      Input{Case: cleanup, Observed: line(sim, seesAll, vocab.Input, vocab.Low, vocab.PullDown), Rules: rules},
			verdict: vocab.VerdictUnknown, reason: "platform sim does not say what it does with a line released-input-no-bias"},
		{name: "a bench that sees none of the expected fields gives no verdict",
			in:      Input{Case: cleanup, Observed: line(pi, vocab.See(vocab.FieldLevel), vocab.DirectionUnknown, vocab.LevelUnknown, vocab.PullUnknown), Rules: rules},
			verdict: vocab.VerdictUnknown, reason: "bench vm-rpi3 sees none of the expected fields",
			note:     "bench vm-rpi3 sees none of the expected fields (direction=input level=unknown drive=floating pull=none owner=free released-direction=input released-bias=disabled)",
			expected: "direction=input level=unknown drive=floating pull=none owner=free released-direction=input released-bias=disabled"},
		{name: "every field seen and right is met",
			in:      Input{Case: setOutput, Observed: line(sim, seesAll, vocab.Input, vocab.High, vocab.PullUp), Rules: rules},
			verdict: vocab.Met, expected: "direction=input level=1 drive=pulled pull=pull-up owner=free"},
		{name: "met on what the bench sees, with what it does not see said",
			in:      Input{Case: setOutput, Observed: released(line(pi, piSees, vocab.Input, vocab.LevelUnknown, vocab.PullUnknown), vocab.Output, vocab.BiasPullUp), Rules: rules},
			verdict: vocab.Met, note: "not visible on this bench: drive, level, pull", unchecked: "drive level pull"},
		{name: "met, but this bench would see a cleanup just the same: not evidence",
			in:      Input{Case: setOutput, Observed: line(pi, vocab.See(vocab.FieldDirection, vocab.FieldOwner), vocab.Input, vocab.LevelUnknown, vocab.PullUnknown), Rules: rules},
			verdict: vocab.MetIndistinct, reason: "outcome released-output looks the same here as released-input-no-bias",
			note: "outcome released-output looks the same here as released-input-no-bias; not visible on this bench: drive, level, pull, released-bias, released-direction"},
		{name: "a field the bench can see but did not see this time is infrastructure, not evidence",
			in:      Input{Case: cleanup, Observed: released(line(pi, piSees, vocab.Input, vocab.LevelUnknown, vocab.PullUnknown), vocab.DirectionUnknown, vocab.BiasUnknown), Rules: rules},
			verdict: vocab.Infrastructure, reason: "bench vm-rpi3 can see released-direction, released-bias but did not this time"},
		{name: "the witness of the release tells a missing cleanup",
			in:      Input{Case: cleanup, Observed: released(line(pi, piSees, vocab.Input, vocab.LevelUnknown, vocab.PullUnknown), vocab.Output, vocab.BiasPullUp), Rules: rules},
			verdict: vocab.NotMet, reason: "released-direction: got output, want input; released-bias: got pull-up, want disabled"},
		{name: "a field that differs is not met, and says how",
			in:      Input{Case: setOutput, Observed: line(sim, seesAll, vocab.Output, vocab.High, vocab.PullUp), Rules: rules},
			verdict: vocab.NotMet, reason: "direction: got output, want input; drive: got driven, want pulled"},
		{name: "a floating line's level is not expected, the rest is",
			in:      Input{Case: cleanup, Observed: released(line(pi, seesAll, vocab.Input, vocab.Low, vocab.PullNone), vocab.Input, vocab.BiasDisabled), Rules: rules},
			verdict: vocab.Met, expected: "direction=input level=unknown drive=floating pull=none owner=free released-direction=input released-bias=disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Judge(tc.in)
			if d.Verdict != tc.verdict {
				t.Fatalf("verdict %q (%s), want %q", d.Verdict, d.Reason, tc.verdict)
			}
			if tc.reason != "" && !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tc.reason)
			}
			if tc.reason == "" && tc.verdict == vocab.Met && d.Reason != "" {
				t.Errorf("a met verdict has reason %q", d.Reason)
			}
			if (tc.verdict == vocab.MetIndistinct) != (len(d.Alike) > 0) {
				t.Errorf("alike outcomes %v for verdict %s", d.Alike, d.Verdict)
			}
			if tc.note != "" && d.Note() != tc.note {
				t.Errorf("note %q, want %q", d.Note(), tc.note)
			}
			if tc.expected != "" && d.Expected() != tc.expected {
				t.Errorf("expected %q, want %q", d.Expected(), tc.expected)
			}
			if got := strings.Join(vocab.Strings(d.Unchecked), " "); got != tc.unchecked && tc.unchecked != "" {
				t.Errorf("unchecked %q, want %q", got, tc.unchecked)
			}
			if d.Passed() != (tc.verdict == vocab.Met || tc.verdict == vocab.MetIndistinct) {
				t.Errorf("Passed() = %v for %s", d.Passed(), d.Verdict)
			}
			var r junit.Result
			d.Record(&r)
			if r.Verdict != d.Verdict || r.Expected != d.Expected() || r.Note != d.Note() {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}
