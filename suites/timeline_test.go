package suites_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/gpiohil/gpiohil/harness/bench"
	"github.com/gpiohil/gpiohil/harness/profile"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

// Timeline: not only where the line ends, but what it did on the way (harness/timeline).
//
//   - pulse: the tool sets the line high and exits. Was the level held as a pulse, for how
//     long, or is it still driven? Expected from the same facts as the end states: where a
//     released output stays driven (persist on, a register tool), it is held; else a pulse.
//   - start-up: the same set-and-exit run, asked whether the request drove another level
//     before the one asked for (an output requested first and set afterwards drives its
//     default). Expected clean unless expectations.yaml says the tool starts so (starts:).
//   - handover: the tool holds the line high and is stopped as systemd stops a service
//     (SIGTERM, SIGKILL after trial.StopGrace); the same tool is started at once and asks for
//     high again. Did the line stay steady? Expected steady where the first tool's release
//     leaves the line driven at its level, a gap (in the released state) elsewhere.
var _ = Describe("timeline", Label("timeline"), func() {
	for _, p := range profiles {
		var entries []any
		if a := p.Actions[vocab.SetOutput]; a != nil {
			for _, sh := range []verdict.Shape{verdict.ShapePulse, verdict.ShapeStartUp} {
				entries = append(entries, entry(scenario{suite: vocab.TimelineSuite, shape: sh, p: p, action: vocab.SetOutput,
					ending: vocab.Exit, value: 1, bias: timelineBias(a), pre: preDown}))
			}
		}
		if a := p.Actions[vocab.Hold]; a != nil {
			entries = append(entries, entry(scenario{suite: vocab.TimelineSuite, shape: verdict.ShapeHandover, p: p, action: vocab.Hold,
				ending: vocab.SIGTERM, value: 1, bias: timelineBias(a), pre: preDown}))
		}
		if len(entries) > 0 {
			DescribeTable(p.Name, append([]any{Label("tool:" + p.Name), checkTimeline}, entries...)...)
		}
	}
})

// timelineBias is as-is where the action takes it (the line keeps the pre-state's pull, so a
// release shows as a drop to it), else the first bias it takes.
func timelineBias(a *profile.Action) vocab.Bias {
	bs := biases(a)
	for _, b := range bs {
		if b == vocab.BiasAsIs {
			return b
		}
	}
	return bs[0]
}

// emulated says the kernel under test runs in an emulator: its durations are the emulator's.
func emulated() bool { return run.InVM || b.Kind() == vocab.KindVMRPi3 }

// checkTimeline runs one timeline scenario and judges it (verdict.JudgeTimeline).
func checkTimeline(s scenario) {
	res := s.result()
	in := verdict.TimelineInput{Shape: s.shape, Rules: rules, Platform: platform,
		Case: expect.Case{Tool: s.p.Name, Action: s.action, Ending: s.ending, Value: s.value, Bias: s.bias}}
	if err := trial.Usable(s.p, b.Kind()); err != nil {
		in.Err = err
		d, _ := verdict.JudgeTimeline(in)
		conclude(s, res, d, nil, nil) // a skip or an infrastructure error: nothing ran
		return
	}
	dut := line(dutName)
	DeferCleanup(func() { restore(dut) })
	c := trial.Case{Profile: s.p, Action: s.action, Value: s.value, Bias: s.bias, Ending: s.ending, Pre: s.pre, Timeline: true, Emulated: emulated()}
	var tl *timeline.Timeline
	var notes []string
	if s.shape == verdict.ShapeHandover {
		hr, err := trial.RunHandover(context.Background(), b, dut, trial.Handover{Case: c, Next: s.p})
		in.Err = err
		if err == nil {
			tl, notes = hr.Timeline, hr.Notes
			in.Case.Before, in.Platform = hr.Before.Pull, hr.During.Platform
			res.Before, res.Observation = hr.Before.Pull, &hr.During
		}
	} else {
		tr, err := trial.Run(context.Background(), b, dut, c)
		in.Err = err
		if err == nil {
			tl, notes = tr.Timeline, tr.TimelineNotes
			in.Case.Before, in.Platform = tr.Before.Pull, tr.After.Platform
			res.Before, res.Observation = tr.Before.Pull, &tr.After
		}
	}
	in.Timeline = tl
	d, words := verdict.JudgeTimeline(in)
	res.Observed, res.Timeline, res.Shape = words, tl, string(s.shape)
	if res.Observation != nil {
		for _, n := range notes {
			res.Observation.Evidencef("timeline: %s", n)
		}
	}
	conclude(s, res, d, func() string { return fmt.Sprintf("%s, outcome %s", s.shape, d.Outcome()) },
		func() string { return "timeline notes: " + orNone(strings.Join(notes, "; ")) })
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// restore gives the line back as input with no bias after a spec.
func restore(l bench.Line) {
	if err := b.Restore(l); err != nil {
		Fail(fmt.Sprintf("restoring %s: %v", l, err))
	}
}
