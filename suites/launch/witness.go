package launch

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

// The register witness of the emulated Pi. The guest cannot see a pin's pull (QEMU drops the
// pull writes), but QEMU's trace of the GPIO block's writes holds every one of them, in order
// with the marks the guest's observer writes as it observes (harness/bench regmark.go). Once
// a lane has ended, the host decodes the trace (package regwitness) and judges again, with the
// pull the trace shows at each observation's mark, every spec whose verdict rested on what the
// guest saw: a tool whose "cleanup" leaves a pull-up on is then not met, where the guest alone
// could only call it met.

// readWitness decodes QEMU's trace file.
func readWitness(path string) (*regwitness.Witness, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("register witness: QEMU wrote no trace: %w", err)
	}
	defer f.Close()
	w, err := regwitness.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("register witness: %s: %w", path, err)
	}
	return w, nil
}

// witnessed is what the witness did to a report.
type witnessed struct {
	NotMet []string // one line per spec it found not met
	// Where the guest saw the pull itself (the Pi 4's pinconf-pins), the witness is checked
	// against it instead: Agreed counts the observations where both say the same pull, and
	// Disagree has a line per spec where they do not.
	Agreed   int
	Disagree []string
}

// witness judges again, in s, every spec with a marked observation and a verdict, with the
// pull w shows at its mark (and, for an output, the level its latch drives). It changes the
// spec's structured result (the observation gains the pull and the evidence) and its failure,
// and the report's counts. Where the guest saw the pull itself, the two must agree: a spec where
// they do not becomes an infrastructure error (neither witness can then be trusted).
func witness(s *junit.Suites, w *regwitness.Witness, rules *expect.Rules) witnessed {
	var out witnessed
	for i := range s.Suites {
		su := &s.Suites[i]
		guestSeesPull := false
		if can, err := vocab.ParseCapabilities(su.Prop("sees")); err == nil {
			guestSeesPull = can.Has(vocab.FieldPull)
		}
		agreed := out.Agreed
		for j := range su.Cases {
			rejudge(&su.Cases[j], w, rules, &out)
		}
		su.Recount()
		if guestSeesPull {
			su.Properties = append(su.Properties, junit.Property{Name: WitnessProp,
				Value: fmt.Sprintf("register witness: QEMU's trace of the GPIO block's writes agrees with the kernel's pinconf-pins on the pull of %d observations, and gives an output's level", out.Agreed-agreed)})
		} else {
			seesPull(su)
		}
	}
	s.Tests, s.Failures, s.Errors = 0, 0, 0
	for _, su := range s.Suites {
		s.Tests, s.Failures, s.Errors = s.Tests+su.Tests, s.Failures+su.Failures, s.Errors+su.Errors
	}
	return out
}

// rejudge judges case c again with the witness, or checks the witness against the pull the
// guest saw, and records in out what came of it.
func rejudge(c *junit.Case, w *regwitness.Witness, rules *expect.Rules, out *witnessed) {
	rs := c.Results()
	if len(rs) != 1 {
		return
	}
	r := rs[0]
	if r.Shape != "" {
		rejudgeTimeline(c, r, w, rules, out)
		return
	}
	if r.Timeline != nil && r.Observation != nil && addRegisters(r.Timeline, r.Observation, w) {
		setResult(c, r)
	}
	o := r.Observation
	if o == nil || o.Mark == 0 || r.Ending == nil {
		return
	}
	switch r.Verdict {
	case vocab.Met, vocab.MetIndistinct, vocab.NotMet:
	default: // skipped, unknown or an infrastructure error: nothing was judged
		return
	}
	// The guest saw the pull itself (the Pi 4's kernel reads its pull registers back): the
	// witness must agree with it, and adds only an output's level.
	guestPull := o.Can.Has(vocab.FieldPull) && o.Pull != vocab.PullUnknown
	st, found := w.At(o.Mark)
	var lost string
	switch {
	case !found:
		lost = fmt.Sprintf("mark %d is not in QEMU's trace", o.Mark)
	case o.Offset < 0 || o.Offset >= regwitness.Pins:
		lost = fmt.Sprintf("the GPIO block has no pin %d", o.Offset)
	}
	if lost != "" {
		if guestPull {
			disagree(c, r, lost, out)
			return
		}
		o.Evidencef("register witness: %s", lost)
	} else {
		pin := st[o.Offset]
		switch {
		case guestPull && pin.Pull != o.Pull:
			disagree(c, r, fmt.Sprintf("the kernel shows pull %s, QEMU's trace of the registers %s (mark %d: %s)", o.Pull, pin.Pull, o.Mark, pin), out)
			return
		case guestPull:
			o.Evidencef("register witness (QEMU's trace of the GPIO block's writes, at mark %d) agrees on the pull: %s", o.Mark, pin)
			out.Agreed++
		default:
			o.Evidencef("register witness (QEMU's trace of the GPIO block's writes, at mark %d): %s", o.Mark, pin)
			if pin.Pull != vocab.PullUnknown {
				o.Pull = pin.Pull
				o.Can |= vocab.See(vocab.FieldPull)
			}
		}
		// An output drives its latch: the level it drives, which the guest cannot read (QEMU's
		// level register is the latch whatever the function). An input's level would need the
		// pull resistors QEMU does not model: not claimed.
		if pin.Function == regwitness.FunctionOutput && pin.Latch >= 0 && o.Direction == vocab.Output {
			o.Level, o.Drive = vocab.Low, vocab.Driven
			if pin.Latch == 1 {
				o.Level = vocab.High
			}
			o.Can |= vocab.See(vocab.FieldLevel, vocab.FieldDrive)
		}
	}
	d := verdict.Judge(verdict.Input{Rules: rules, Observed: *o,
		Case: expect.Case{Tool: r.Tool, Action: r.Action, Ending: *r.Ending, Value: r.Value, Bias: r.Bias, Before: r.Before}})
	d.Record(&r)
	r.Observed = o.Summary()
	setResult(c, r)
	switch d.Verdict {
	case vocab.NotMet:
		text := failureText(r, d, o)
		c.Failure = &junit.Message{Message: text, Type: "failed", Text: "the register witness, on the host\n" + text}
		out.NotMet = append(out.NotMet, fmt.Sprintf("%s: %s", c.Name, d.Reason))
	case vocab.Met, vocab.MetIndistinct:
		c.Failure = nil
	default: // the expectations could not be read again: say so rather than keep a verdict
		c.Failure = nil
		c.Error = &junit.Message{Message: "register witness: " + d.Reason, Type: "infrastructure"}
	}
}

// disagree makes c an infrastructure error: the pull the guest saw and the witness do not
// agree (or the witness has nothing at c's mark), so neither can be trusted.
func disagree(c *junit.Case, r junit.Result, why string, out *witnessed) {
	r.Observation.Evidencef("register witness disagrees: %s", why)
	c.Failure = nil
	c.Error = &junit.Message{Message: "the two witnesses of the pull disagree: " + why, Type: "infrastructure"}
	out.Disagree = append(out.Disagree, fmt.Sprintf("%s: %s", c.Name, why))
	setResult(c, r)
}

// failureText is a not-met spec's failure, as the suites write one.
func failureText(r junit.Result, d verdict.Decision, o *observe.Observation) string {
	return fmt.Sprintf("%s %s on %s (outcome %s): %s\nobserved: %s\nexpected: %s\nevidence: %s",
		r.Tool, r.Scenario, d.Expectation.Platform, d.Expectation.Outcome, d.Reason,
		r.Observed, d.Expected(), strings.Join(o.Evidence, "; "))
}

// setResult replaces the structured result in c's system-out.
func setResult(c *junit.Case, r junit.Result) {
	b, _ := json.Marshal(r)
	lines := strings.Split(c.SystemOut, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, junit.ResultEntry+": ") {
			lines[i] = junit.ResultEntry + ": " + string(b)
		}
	}
	c.SystemOut = strings.Join(lines, "\n")
}

// WitnessProp names, in a report, what the register witness added to what the bench sees.
const WitnessProp = "witness"

// seesPull records in the suite's properties that its bench, with the witness, sees pulls.
func seesPull(su *junit.Suite) {
	for i, p := range su.Properties {
		if p.Name != "sees" {
			continue
		}
		can, err := vocab.ParseCapabilities(p.Value)
		if err != nil {
			return
		}
		su.Properties[i].Value = (can | vocab.See(vocab.FieldPull)).String()
	}
	su.Properties = append(su.Properties, junit.Property{Name: WitnessProp,
		Value: "register witness: every pin's pull, and an output's level, from QEMU's trace of the GPIO block's writes"})
}

// rejudgeTimeline adds to a timeline spec's timeline what the registers did to its pin between
// the observation before the tool and the one after (QEMU's clock, placed on the guest's by
// the first mark), in place of the driver's rules the guest applied, and judges it again.
func rejudgeTimeline(c *junit.Case, r junit.Result, w *regwitness.Witness, rules *expect.Rules, out *witnessed) {
	switch r.Verdict {
	case vocab.Met, vocab.MetIndistinct, vocab.NotMet, vocab.VerdictUnknown:
	default:
		return
	}
	o, tl := r.Observation, r.Timeline
	if o == nil || tl == nil || r.Ending == nil || !addRegisters(tl, o, w) {
		setResult(c, r)
		return
	}
	before, _ := tl.MarkOf("observed before")
	start, _ := w.At(before.Reg)
	in := verdict.TimelineInput{Shape: verdict.Shape(r.Shape), Timeline: tl, Platform: o.Platform, Rules: rules,
		Case: expect.Case{Tool: r.Tool, Action: r.Action, Ending: *r.Ending, Value: r.Value, Bias: r.Bias, Before: start[o.Offset].Pull}}
	d, words := verdict.JudgeTimeline(in)
	d.Record(&r)
	r.Observed = words
	if p := start[o.Offset].Pull; p != vocab.PullUnknown {
		r.Before = p
	}
	setResult(c, r)
	switch d.Verdict {
	case vocab.NotMet:
		text := fmt.Sprintf("%s %s on %s: %s\nobserved: %s\nexpected: %s", r.Tool, r.Scenario, d.Expectation.Platform, d.Reason, r.Observed, d.Expected())
		c.Failure, c.Skipped = &junit.Message{Message: text, Type: "failed", Text: "the register witness, on the host\n" + text}, nil
		out.NotMet = append(out.NotMet, fmt.Sprintf("%s: %s", c.Name, d.Reason))
	case vocab.Met, vocab.MetIndistinct:
		c.Failure, c.Skipped = nil, nil
	case vocab.VerdictUnknown:
		c.Failure = nil
		c.Skipped = &junit.Message{Message: d.Reason + "; observed: " + words}
	default:
		c.Failure, c.Skipped = nil, nil
		c.Error = &junit.Message{Message: "register witness: " + d.Reason, Type: "infrastructure"}
	}
}

// addRegisters adds to tl what the registers did to o's pin between the observation before the
// tool and the one after (QEMU's clock, placed on the guest's by the first mark), in place of
// the driver's rules the guest applied; false, with the reason in o's evidence, when it cannot.
func addRegisters(tl *timeline.Timeline, o *observe.Observation, w *regwitness.Witness) bool {
	before, ok1 := tl.MarkOf("observed before")
	after, ok2 := tl.MarkOf("observed after")
	if !ok1 || !ok2 || before.Reg == 0 || after.Reg == 0 {
		return false
	}
	cs, h0, _, ok := w.Between(o.Offset, before.Reg, after.Reg)
	switch {
	case !ok:
		o.Evidencef("register witness: marks %d and %d are not both in QEMU's trace", before.Reg, after.Reg)
		return false
	case h0 == 0:
		o.Evidencef("register witness: QEMU's trace has no timestamps (-msg timestamp=on): its %d changes of the pin cannot be placed in time", len(cs))
		return false
	}
	start, _ := w.At(before.Reg)
	// The registers are the pin itself: what the kernel asked for (gpio trace) and the rules of
	// its driver give way to them, and stay in the timeline as notes (who held the line stays).
	tl.Drop(timeline.Driver)
	for i, e := range tl.Events {
		if e.Source == timeline.GPIOTrace || e.Source == timeline.LineInfo {
			tl.Events[i].Direction, tl.Events[i].Level, tl.Events[i].Drive, tl.Events[i].Latch = "", "", "", ""
		}
	}
	tl.Watched(timeline.Registers)
	tl.Add(pinEvent(before.At, "the registers at mark "+fmt.Sprint(before.Reg), start[o.Offset]))
	for _, ch := range cs {
		// QEMU's log stamps microseconds: round away the float's error.
		at := before.At + time.Duration(math.Round((ch.Time-h0)*1e6))*time.Microsecond
		tl.Add(pinEvent(at, ch.Register, ch.Pin))
	}
	o.Evidencef("register witness: %d changes of the pin between marks %d and %d in QEMU's trace, in its timeline", len(cs), before.Reg, after.Reg)
	return true
}

// pinEvent is what a pin's state after a write makes the line: an output drives its latch; an
// input is pulled by its pull (floating without one).
func pinEvent(at time.Duration, what string, p regwitness.Pin) timeline.Event {
	e := timeline.Event{At: at, Source: timeline.Registers, What: what + ": " + p.String(), Latch: vocab.LevelUnknown}
	if p.Latch == 0 || p.Latch == 1 {
		e.Latch = vocab.LevelOf(p.Latch)
	}
	switch p.Function {
	case regwitness.FunctionOutput:
		e.Direction, e.Drive = vocab.Output, vocab.Driven // at its latch
	case regwitness.FunctionInput:
		e.Direction, e.Drive, e.Level = vocab.Input, vocab.DriveUnknown, vocab.LevelUnknown
		switch p.Pull {
		case vocab.PullUp, vocab.PullDown:
			e.Drive, e.Level = vocab.Pulled, p.Pull.Level()
		case vocab.PullNone:
			e.Drive = vocab.Floating
		}
	default:
		e.Direction, e.Drive, e.Level = vocab.DirectionUnknown, vocab.DriveUnknown, vocab.LevelUnknown
	}
	return e
}
