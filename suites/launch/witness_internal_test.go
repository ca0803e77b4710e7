package launch

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vm/rpi3/regwitness"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// trace is QEMU's trace of a run in which RPi.GPIO set GPIO17 up as an input with a pull-up
// (the guest observed it at mark 1), then cleanup() made it an input with the pull off (mark
// 2): the register sequences RPi.GPIO 0.7.1 writes (the legacy GPPUD/GPPUDCLK one here).
func trace() string {
	var b strings.Builder
	for _, w := range [][2]uint32{
		{0x94, 2}, {0x98, 1 << 17}, {0x94, 0}, {0x98, 0}, // pull-up on 17
		{0x04, 0}, // GPFSEL1: 17 an input
		{regwitness.MarkOffset, 1},
		{0x94, 0}, {0x98, 1 << 17}, {0x94, 0}, {0x98, 0}, // pull off on 17
		{0x04, 0},
		{regwitness.MarkOffset, 2},
	} {
		b.WriteString(regwitness.Line(w[0], w[1]) + "\n")
	}
	return b.String()
}

// decoded is the witness of a trace, and the built-in expectations.
func decoded(t *testing.T, trace string) (*regwitness.Witness, *expect.Rules) {
	t.Helper()
	w, err := regwitness.Decode(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := expect.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return w, rules
}

// spec is a case as the guest reports an RPi.GPIO cleanup it judged met without seeing the
// pull, observed at mark.
func spec(t *testing.T, mark uint32) junit.Case {
	t.Helper()
	exit := vocab.Exit
	o := observe.New("pinctrl-bcm2835", "GPIO17", 17, vocab.See(vocab.FieldDirection, vocab.FieldOwner),
		observe.Platform{Bench: vocab.KindVMRPi3, Driver: "pinctrl-bcm2835", Persist: vocab.PersistOff})
	o.Direction, o.Owner, o.Mark = vocab.Input, vocab.Free, mark
	r := junit.Result{Suite: vocab.CleanupSuite, Tool: "rpi-gpio", Scenario: "cleanup high, bias disabled, ended by exit",
		Action: vocab.Cleanup, Ending: &exit, Value: 1, Bias: vocab.BiasDisabled, Before: vocab.PullUnknown,
		Observed: o.Summary(), Verdict: vocab.MetIndistinct, Observation: &o}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return junit.Case{Name: "cleanup rpi-gpio leaves the line cleanup high", SystemOut: "some output\n" + junit.ResultEntry + ": " + string(b)}
}

// The witness gives a spec the pull at its mark and judges it again: the cleanup that left the
// pull off stays met, now with the pull seen; one observed while the pull-up was still on
// (what a "cleanup" that forgets the pull would leave) is not met, with a failure.
func TestWitnessJudgesAgainWithThePull(t *testing.T) {
	w, rules := decoded(t, trace())
	s := junit.Build("gpiohil suites", []junit.Property{{Name: "sees", Value: "direction,owner"}}, []junit.Case{spec(t, 2), spec(t, 1)}, "", 1, time.Time{})
	notMet := witness(&s, w, rules).NotMet
	if got := s.Suites[0].Prop("sees"); got != "direction,pull,owner" {
		t.Errorf("sees %q after the witness; want direction,pull,owner", got)
	}
	if s.Suites[0].Prop(WitnessProp) == "" {
		t.Error("the report does not say the register witness was applied")
	}

	good, bad := s.Suites[0].Cases[0], s.Suites[0].Cases[1]
	gr, br := good.Results()[0], bad.Results()[0]
	if good.Failure != nil || gr.Verdict == vocab.NotMet {
		t.Errorf("cleanup that left the pull off: %s, failure %+v; want met", gr.Verdict, good.Failure)
	}
	if gr.Observation.Pull != vocab.PullNone || !gr.Observation.Can.Has(vocab.FieldPull) || !strings.Contains(gr.Observed, "none") {
		t.Errorf("cleanup that left the pull off: observed %q (pull %s, can %s); want the pull none, seen", gr.Observed, gr.Observation.Pull, gr.Observation.Can)
	}
	if br.Verdict != vocab.NotMet || bad.Failure == nil || !strings.Contains(bad.Failure.Message, "pull") {
		t.Errorf("a pull-up left on after cleanup: %s, failure %+v; want not met on the pull", br.Verdict, bad.Failure)
	}
	if len(notMet) != 1 || !strings.Contains(notMet[0], bad.Name) {
		t.Errorf("witness reported %q; want one line naming %q", notMet, bad.Name)
	}
	if s.Failures != 1 || s.Suites[0].Failures != 1 || s.Suites[0].Tests != 2 {
		t.Errorf("counts after the witness: %d failures (suite %d of %d); want 1 of 2", s.Failures, s.Suites[0].Failures, s.Suites[0].Tests)
	}
	if !strings.Contains(good.SystemOut, "some output\n") {
		t.Errorf("the case's own output was lost: %q", good.SystemOut)
	}
	if !strings.Contains(strings.Join(gr.Observation.Evidence, "; "), "register witness") {
		t.Errorf("the evidence does not name the witness: %q", gr.Observation.Evidence)
	}
}

// A spec without a mark, or with a verdict nothing was judged by, is left as it is; a mark the
// trace lacks is said in the evidence and the pull stays unseen.
func TestWitnessLeavesWhatItCannotJudge(t *testing.T) {
	w, rules := decoded(t, trace())
	unmarked, skipped, lost := spec(t, 0), spec(t, 1), spec(t, 9)
	skipped.Skipped = &junit.Message{Message: "not installed"}
	r := skipped.Results()[0]
	r.Verdict = vocab.Skipped
	setResult(&skipped, r)
	s := junit.Build("gpiohil suites", nil, []junit.Case{unmarked, skipped, lost}, "", 1, time.Time{})
	before := []string{unmarked.SystemOut, skipped.SystemOut}
	if n := witness(&s, w, rules).NotMet; len(n) != 0 {
		t.Errorf("not met: %q; want none", n)
	}
	if s.Suites[0].Cases[0].SystemOut != before[0] || s.Suites[0].Cases[1].SystemOut != before[1] {
		t.Error("the witness changed a spec without a mark, or a skipped one")
	}
	lr := s.Suites[0].Cases[2].Results()[0]
	if lr.Observation.Can.Has(vocab.FieldPull) || !strings.Contains(strings.Join(lr.Observation.Evidence, "; "), "mark 9 is not in QEMU's trace") {
		t.Errorf("a mark missing from the trace: can %s, evidence %q", lr.Observation.Can, lr.Observation.Evidence)
	}
}

// An output observed by the guest gains the level its latch drives, and "driven"; an RPi.GPIO
// output left set after exit is then met on direction, level and drive.
func TestWitnessGivesAnOutputItsLevel(t *testing.T) {
	var b strings.Builder
	for _, w := range [][2]uint32{{0x1c, 1 << 17}, {0x04, 1 << 21}, {regwitness.MarkOffset, 1}} {
		b.WriteString(regwitness.Line(w[0], w[1]) + "\n")
	}
	w, rules := decoded(t, b.String())
	c := spec(t, 1)
	r := c.Results()[0]
	r.Action, r.Scenario, r.Verdict = vocab.SetOutput, "set-output high, bias disabled, ended by exit", vocab.Met
	r.Observation.Direction = vocab.Output
	setResult(&c, r)
	s := junit.Build("gpiohil suites", nil, []junit.Case{c}, "", 1, time.Time{})
	if n := witness(&s, w, rules).NotMet; len(n) != 0 {
		t.Fatalf("not met: %q", n)
	}
	got := s.Suites[0].Cases[0].Results()[0]
	o := got.Observation
	if o.Level != vocab.High || o.Drive != vocab.Driven || !o.Can.Has(vocab.FieldLevel) || got.Verdict != vocab.Met {
		t.Errorf("an output with latch 1: %s, level %s, drive %s, can %s; want met, level 1, driven", got.Verdict, o.Level, o.Drive, o.Can)
	}
	if strings.Contains(got.Note, "not visible on this bench: drive") {
		t.Errorf("note %q still says drive is not visible", got.Note)
	}
}

// On the Pi 4 the guest sees the pull itself (pinconf-pins): the witness does not judge again
// but is checked against it. Agreeing, the spec keeps its verdict and gains the evidence; where
// the two disagree the spec becomes an infrastructure error, and the run is told.
func TestWitnessIsCheckedAgainstAPullTheGuestSaw(t *testing.T) {
	var b strings.Builder
	for _, w := range [][2]uint32{
		{0xe8, 1 << 2}, // PUP_PDN1: pin 17 pull-up
		{0x04, 0},      // GPFSEL1: 17 an input
		{regwitness.MarkOffset, 1},
		{0xe8, 0}, // pull off on 17 (cleanup())
		{regwitness.MarkOffset, 2},
	} {
		b.WriteString(regwitness.Line2711(w[0], w[1]) + "\n")
	}
	w, rules := decoded(t, b.String())
	seen := func(mark uint32, pull vocab.Pull) junit.Case {
		c := spec(t, mark)
		r := c.Results()[0]
		r.Observation.Can |= vocab.See(vocab.FieldPull)
		r.Observation.Pull = pull
		r.Verdict = vocab.Met
		setResult(&c, r)
		return c
	}
	// Mark 2: both say no pull. Mark 1: the kernel "shows" none where the registers hold a pull-up.
	s := junit.Build("gpiohil suites", []junit.Property{{Name: "sees", Value: "direction,pull,owner"}},
		[]junit.Case{seen(2, vocab.PullNone), seen(1, vocab.PullNone)}, "", 1, time.Time{})
	got := witness(&s, w, rules)
	if got.Agreed != 1 || len(got.Disagree) != 1 || len(got.NotMet) != 0 {
		t.Fatalf("agreed %d, disagree %q, not met %q; want 1, one, none", got.Agreed, got.Disagree, got.NotMet)
	}
	agree, differ := s.Suites[0].Cases[0], s.Suites[0].Cases[1]
	if v := agree.Results()[0].Verdict; agree.Error != nil || agree.Failure != nil || (v != vocab.Met && v != vocab.MetIndistinct) ||
		!strings.Contains(strings.Join(agree.Results()[0].Observation.Evidence, "; "), "agrees") {
		t.Errorf("agreeing spec: error %+v, failure %+v, result %+v; want met, with the agreement in its evidence", agree.Error, agree.Failure, agree.Results()[0])
	}
	if differ.Error == nil || !strings.Contains(differ.Error.Message, "disagree") || !strings.Contains(got.Disagree[0], "pull-up") {
		t.Errorf("disagreeing spec: error %+v, line %q; want an infrastructure error naming both pulls", differ.Error, got.Disagree)
	}
	if s.Errors != 1 || s.Suites[0].Errors != 1 {
		t.Errorf("errors %d (suite %d); want 1", s.Errors, s.Suites[0].Errors)
	}
	if p := s.Suites[0].Prop(WitnessProp); !strings.Contains(p, "agrees with the kernel's pinconf-pins on the pull of 1 observations") {
		t.Errorf("witness property %q; want it to say how many observations agreed", p)
	}
	if got := s.Suites[0].Prop("sees"); got != "direction,pull,owner" {
		t.Errorf("sees %q; want it unchanged", got)
	}
}

// On the Pi 4 too the witness gives an output the level its latch drives, and judges again
// with it: an output the tool was to set high but whose latch is 0 is not met on the level.
func TestWitnessGivesAPi4OutputItsLevel(t *testing.T) {
	var b strings.Builder
	for _, w := range [][2]uint32{{0x28, 1 << 17}, {0x04, 1 << 21}, {0xe8, 0}, {regwitness.MarkOffset, 1}} {
		b.WriteString(regwitness.Line2711(w[0], w[1]) + "\n") // latch 0, an output, no pull
	}
	w, rules := decoded(t, b.String())
	c := spec(t, 1)
	r := c.Results()[0]
	r.Action, r.Scenario, r.Verdict = vocab.SetOutput, "set-output high, bias disabled, ended by exit", vocab.Met
	r.Observation.Direction = vocab.Output
	r.Observation.Can |= vocab.See(vocab.FieldPull)
	r.Observation.Pull = vocab.PullNone
	setResult(&c, r)
	s := junit.Build("gpiohil suites", []junit.Property{{Name: "sees", Value: "direction,pull,owner"}}, []junit.Case{c}, "", 1, time.Time{})
	got := witness(&s, w, rules)
	if got.Agreed != 1 || len(got.Disagree) != 0 {
		t.Fatalf("agreed %d, disagree %q; want the pulls to agree", got.Agreed, got.Disagree)
	}
	res := s.Suites[0].Cases[0].Results()[0]
	if res.Observation.Level != vocab.Low || res.Verdict != vocab.NotMet || len(got.NotMet) != 1 || s.Suites[0].Cases[0].Failure == nil {
		t.Errorf("an output set high whose latch is 0: level %s, %s, not met %q; want not met on the level", res.Observation.Level, res.Verdict, got.NotMet)
	}
}
