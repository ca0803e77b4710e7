package verdict

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// result records a spec as the suites do: its case, its whole observation, and the verdict
// Judge gave it under rules.
func result(t *testing.T, rules *expect.Rules, c expect.Case, o observe.Observation) junit.Result {
	t.Helper()
	e := c.Ending
	r := junit.Result{Tool: c.Tool, Scenario: string(c.Action) + " " + string(c.Bias), Action: c.Action, Ending: &e,
		Value: c.Value, Bias: c.Bias, Before: c.Before, Observation: &o, Observed: o.Summary()}
	Judge(Input{Case: c, Observed: o, Rules: rules}).Record(&r)
	return r
}

func TestCheckFlips(t *testing.T) {
	rules, err := expect.Parse("rules.yaml", []byte(rulesYAML))
	if err != nil {
		t.Fatal(err)
	}
	cleanup := expect.Case{Tool: "tool", Action: vocab.Cleanup, Ending: vocab.Exit, Value: 1, Bias: vocab.BiasPullUp, Before: vocab.PullDown}
	setOutput := expect.Case{Tool: "tool", Action: vocab.SetOutput, Ending: vocab.Exit, Value: 1, Bias: vocab.BiasPullUp, Before: vocab.PullDown}
	witnessed := released(line(pi, piSees, vocab.Input, vocab.LevelUnknown, vocab.PullUnknown), vocab.Input, vocab.BiasDisabled)
	blind := line(pi, vocab.See(vocab.FieldDirection, vocab.FieldOwner), vocab.Input, vocab.LevelUnknown, vocab.PullUnknown)

	t.Run("a witnessed cleanup catches its flip", func(t *testing.T) {
		lanes := []Lane{{Title: "pi", Results: []junit.Result{result(t, rules, cleanup, witnessed)}}}
		rep := CheckFlips(rules, lanes)
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		rep.Write(&out)
		if !strings.Contains(out.String(), "caught     tool cleanup ended by exit: released-input-no-bias -> released-output: 1 of 1 specs fail") {
			t.Errorf("report:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "tool set-output ended by exit (released-output)") {
			t.Errorf("the set-output outcome had no evidence and should be listed as such:\n%s", out.String())
		}
	})
	t.Run("a bench blind to the release cannot catch it, and says so", func(t *testing.T) {
		r := result(t, rules, cleanup, blind)
		if r.Verdict != vocab.MetIndistinct {
			t.Fatalf("recorded %s; want met, not distinguishable", r.Verdict)
		}
		rep := CheckFlips(rules, []Lane{{Title: "pi", Results: []junit.Result{r}}})
		if err := rep.Err(); err != nil {
			t.Fatalf("a flip of cells marked not distinguishable is not a defect: %v", err)
		}
		var out bytes.Buffer
		rep.Write(&out)
		if !strings.Contains(out.String(), "NOT CAUGHT tool cleanup ended by exit: released-input-no-bias -> released-output: 1 specs, 1 not distinguishable") ||
			!strings.Contains(out.String(), "Not distinguishable on pi (1):") {
			t.Errorf("report:\n%s", out.String())
		}
	})
	t.Run("a cell that claims evidence it does not have is a defect", func(t *testing.T) {
		r := result(t, rules, cleanup, blind)
		r.Verdict = vocab.Met // as if the discrimination had been wrong
		rep := CheckFlips(rules, []Lane{{Title: "pi", Results: []junit.Result{r}}})
		if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "replay disagrees with the run") {
			t.Errorf("err = %v; a recorded verdict the replay does not give must be reported", err)
		}
	})
	t.Run("a flip no spec catches, on cells recorded as plainly met, is a defect", func(t *testing.T) {
		rep := FlipReport{Results: []FlipResult{{Flip: Flip{Tool: "tool", Action: vocab.Cleanup, From: vocab.ReleasedInputNoBias, To: vocab.ReleasedInput},
			Specs: 1, Missed: []string{"pi: cleanup pull-up"}}}}
		if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "fails no spec, yet 1 of its cells claim to tell the outcomes apart: pi: cleanup pull-up") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a result without an observation is not replayed", func(t *testing.T) {
		r := result(t, rules, setOutput, witnessed)
		r.Observation = nil
		if _, ok := Replay(r, rules); ok {
			t.Error("replayed a result with no observation")
		}
	})
}

// A timeline spec is not replayed as an end state: its observation is the line while the next
// tool holds it, not after the first is gone.
func TestReplaySkipsTimelineSpecs(t *testing.T) {
	term := vocab.SIGTERM
	o := line(sim, seesAll, vocab.Output, vocab.High, vocab.PullDown)
	r := junit.Result{Suite: vocab.TimelineSuite, Shape: string(ShapeHandover), Tool: "tool", Action: vocab.Hold, Ending: &term, Value: 1, Observation: &o, Verdict: vocab.Met}
	if _, ok := Replay(r, nil); ok {
		t.Error("a handover spec was replayed as an end state")
	}
}
