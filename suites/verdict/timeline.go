package verdict

import (
	"errors"
	"fmt"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
)

// Shape is what a timeline spec asks of the line's path.
type Shape string

// The shapes.
const (
	// ShapePulse: a tool that sets the line and exits. Was the level held as a pulse, and for
	// how long, or is it still driven (held)?
	ShapePulse Shape = "pulse"
	// ShapeHandover: a holding tool stopped as systemd stops a service and the next one
	// started at once. Did the line stay steady, or what did it do in the gap?
	ShapeHandover Shape = "handover"
	// ShapeStartUp: a tool that sets the line. Did its request drive another level before the
	// one asked for (an output requested first and set afterwards drives its default)?
	ShapeStartUp Shape = "start-up"
)

// TimelineInput is what a timeline verdict is made from.
type TimelineInput struct {
	Shape Shape
	// Case is the tool's case whose outcome the expectation follows from: set-output ended by
	// exit for a pulse; hold ended by sigterm for a handover (the first tool's).
	Case     expect.Case
	Err      error
	Timeline *timeline.Timeline
	Platform observe.Platform
	Rules    *expect.Rules
}

// Answer is what a timeline says, in one word and in words: Observed for the report.
func (in TimelineInput) Answer() (timeline.Kind, string, timeline.State) {
	t, l := in.Timeline, vocab.LevelOf(in.Case.Value)
	switch in.Shape {
	case ShapeHandover:
		h := t.Handover(l)
		var s timeline.State
		if len(h.Gap) > 0 {
			s = h.Gap[0]
		}
		return h.Kind(), h.Words(l, t.Clocked()), s
	}
	if in.Shape == ShapeStartUp {
		return startUp(t, l)
	}
	ps := t.Pulses(l)
	k := t.PulseKind(l)
	var s timeline.State
	if len(ps) > 0 {
		s = ps[0].After
	}
	w := timeline.PulseWords(ps, l, t.Clocked())
	if k == timeline.KindUnknown {
		w = "unknown: no source saw the level"
	}
	if g := t.StartUp(l); len(g) > 0 && k != timeline.KindUnknown {
		w += fmt.Sprintf("; first driven %s for %s", g[0].Level.Word(), t.Clocked().Len(g[0].To-g[0].From))
	}
	return k, w, s
}

// startUp is a start's answer: a glitch (another level driven first), clean, or unknown when
// the level was not seen.
func startUp(t *timeline.Timeline, l vocab.Level) (timeline.Kind, string, timeline.State) {
	switch k := t.PulseKind(l); {
	case k == timeline.KindUnknown:
		return timeline.KindUnknown, "unknown: no source saw the level", timeline.State{}
	case k == timeline.KindNever:
		return timeline.KindUnknown, "unknown: the line was never driven " + l.Word(), timeline.State{}
	}
	if g := t.StartUp(l); len(g) > 0 {
		return timeline.KindGlitch, fmt.Sprintf("glitch: driven %s for %s before %s", g[0].Level.Word(), t.Clocked().Len(g[0].To-g[0].From), l.Word()),
			timeline.State{Direction: vocab.Output, Drive: vocab.Driven, Level: g[0].Level, Owner: vocab.OwnerUnknown}
	}
	return timeline.KindClean, "clean: driven " + l.Word() + " at once, no other level first", timeline.State{}
}

// Expect is what the rules make of the case on the platform: the kind of answer and, for a
// pulse or a gap, the state the line is in after it.
func (in TimelineInput) Expect() (timeline.Kind, timeline.State, *expect.Expectation, error) {
	exp, err := in.Rules.For(in.Case, in.Platform)
	if err != nil {
		return "", timeline.State{}, nil, err
	}
	after := timeline.State{Direction: exp.Direction, Level: exp.Level, Drive: exp.Drive, Owner: exp.Owner}
	if after.Drive == "" {
		after.Drive = vocab.DriveUnknown
	}
	if after.Level == "" {
		after.Level = vocab.LevelUnknown
	}
	if in.Shape == ShapeStartUp {
		if in.Rules.Starts[in.Case.Tool] == expect.StartLowFirst {
			return timeline.KindGlitch, timeline.State{Direction: vocab.Output, Drive: vocab.Driven, Level: vocab.Low, Owner: vocab.OwnerUnknown}, &exp, nil
		}
		return timeline.KindClean, timeline.State{}, &exp, nil
	}
	drives := after.Driving(vocab.LevelOf(in.Case.Value))
	if in.Shape == ShapeHandover && drives && in.Rules.Starts[in.Case.Tool] == expect.StartInputNoPull {
		// The line stays driven between the processes, but the next one's start makes it an
		// input with the pull off before it drives it again: the gap is its, floating.
		return timeline.KindGap, timeline.State{Direction: vocab.Input, Drive: vocab.Floating, Level: vocab.LevelUnknown, Owner: vocab.OwnerUnknown}, &exp, nil
	}
	switch {
	case in.Shape == ShapeHandover && drives:
		return timeline.KindSteady, after, &exp, nil
	case in.Shape == ShapeHandover:
		return timeline.KindGap, after, &exp, nil
	case drives:
		return timeline.KindHeld, after, &exp, nil
	}
	return timeline.KindPulse, after, &exp, nil
}

// ExpectedWords is the expectation as the report writes it: "steady", "gap, pulled low",
// "a pulse, then pulled low", "held".
func ExpectedWords(k timeline.Kind, after timeline.State) string {
	switch k {
	case timeline.KindGap:
		return "gap: " + after.Word()
	case timeline.KindPulse:
		return "a pulse, then " + after.Word()
	case timeline.KindGlitch:
		return "glitch: " + after.Word() + " first"
	case timeline.KindClean:
		return "clean: no other level first"
	}
	return string(k)
}

// JudgeTimeline decides a timeline spec, in the order Judge does: could it run, did it run, is
// anything known, could the sources see it, did it match.
func JudgeTimeline(in TimelineInput) (Decision, string) {
	if in.Err != nil {
		if errors.Is(in.Err, trial.ErrSkip) {
			return Decision{Verdict: vocab.Skipped, Reason: in.Err.Error()}, ""
		}
		return Decision{Verdict: vocab.Infrastructure, Reason: in.Err.Error()}, ""
	}
	if in.Rules == nil {
		return Decision{Verdict: vocab.Infrastructure, Reason: "no expectations were loaded"}, ""
	}
	if in.Timeline == nil {
		return Decision{Verdict: vocab.Infrastructure, Reason: "no timeline was recorded"}, ""
	}
	got, words, gotAfter := in.Answer()
	want, wantAfter, exp, err := in.Expect()
	if errors.Is(err, expect.ErrUnknown) {
		return Decision{Verdict: vocab.VerdictUnknown, Reason: err.Error()}, words
	}
	if err != nil {
		return Decision{Verdict: vocab.Infrastructure, Reason: "expectations: " + err.Error()}, words
	}
	e := *exp
	d := Decision{Expectation: &e}
	wantWords := ExpectedWords(want, wantAfter)
	switch {
	case got == timeline.KindUnknown:
		d.Verdict = vocab.VerdictUnknown
		d.Reason = fmt.Sprintf("the timeline's sources (%s) did not see the level all the way: %s", sources(in.Timeline), words)
	case got != want:
		d.Verdict = vocab.NotMet
		d.Mismatches = []string{fmt.Sprintf("%s: got %s, want %s", in.Shape, got, want)}
	case (got == timeline.KindGap || got == timeline.KindPulse) && wantAfter.Known() && gotAfter.Known() && gotAfter.Word() != wantAfter.Word():
		d.Verdict = vocab.NotMet
		d.Mismatches = []string{fmt.Sprintf("%s: %s, want %s", in.Shape, gotAfter.Word(), wantAfter.Word())}
	default:
		d.Verdict = vocab.Met
		if (got == timeline.KindGap || got == timeline.KindPulse) && wantAfter.Known() && !gotAfter.Known() {
			d.Reason = fmt.Sprintf("the level after was not seen (%s): only the %s is checked", gotAfter.Word(), got)
		}
	}
	if d.Verdict == vocab.NotMet {
		d.Reason = d.Mismatches[0]
	}
	d.expectedWords = wantWords
	return d, words
}

func sources(t *timeline.Timeline) string {
	s := ""
	for i, src := range t.Sources {
		if i > 0 {
			s += ", "
		}
		s += string(src)
	}
	if s == "" {
		return "none"
	}
	return s
}
