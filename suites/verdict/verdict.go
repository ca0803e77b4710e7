// Package verdict turns what a spec found into its verdict: met, not met, unknown, skipped or
// infrastructure. It is the one place that decides, so the Ginkgo specs, gpiohil report and
// any future lane judge alike, and every branch has a table test of its own.
//
// The order of the questions is the order of trust:
//
//  1. Could the trial run here at all? A tool that is not installed, an action or bias the
//     tool does not have: skipped, with the reason.
//  2. Did it run? A bench that failed, a tool that hung, a miswired rig: infrastructure, never
//     a product finding.
//  3. Is anything known about what should happen? No rule for the tool, outcome or platform:
//     unknown, recorded and never passed.
//  4. Can this bench see any of it? If it sees none of the expected fields: unknown. If it can
//     see a field but did not this time (a watch that missed an event): infrastructure.
//  5. Did the observation match every field the bench can see? met, or not met with each
//     mismatch.
//  6. Could it have met it with another outcome? If another outcome of the platform would be
//     observed just the same on this bench, the met expectation is no evidence of what the
//     tool did: met, not distinguishable, with the outcomes it cannot tell apart.
package verdict

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/trial"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Input is what a verdict is made from.
type Input struct {
	Case expect.Case
	// Err is what stopped the trial, nil when it ran: an error matching trial.ErrSkip means it
	// cannot run here; any other is an infrastructure problem.
	Err error
	// Observed is the line after the tool was gone (when Err is nil).
	Observed observe.Observation
	Rules    *expect.Rules
}

// Decision is a verdict and what it rests on.
type Decision struct {
	Verdict vocab.Verdict
	// Reason says why, in one line: the skip or infrastructure reason, why nothing is known,
	// or the mismatches.
	Reason string
	// Expectation is what was expected, when it is known.
	Expectation *expect.Expectation
	Mismatches  []string        // "field: got X, want Y", one per field that differed
	Unchecked   []vocab.Field   // expected fields the bench cannot see
	Alike       []vocab.Outcome // other outcomes this bench would observe just the same
	// expectedWords replaces the expectation's words in reports (a timeline's expected shape).
	expectedWords string
}

// Judge decides one spec.
func Judge(in Input) Decision {
	if in.Err != nil {
		if errors.Is(in.Err, trial.ErrSkip) {
			return Decision{Verdict: vocab.Skipped, Reason: in.Err.Error()}
		}
		return Decision{Verdict: vocab.Infrastructure, Reason: in.Err.Error()}
	}
	if in.Rules == nil {
		return Decision{Verdict: vocab.Infrastructure, Reason: "no expectations were loaded"}
	}
	exp, err := in.Rules.For(in.Case, in.Observed.Platform)
	if errors.Is(err, expect.ErrUnknown) {
		return Decision{Verdict: vocab.VerdictUnknown, Reason: err.Error()}
	}
	if err != nil {
		return Decision{Verdict: vocab.Infrastructure, Reason: "expectations: " + err.Error()}
	}
	if blind := unseen(exp, in.Observed); len(blind) > 0 {
		return Decision{Verdict: vocab.Infrastructure, Expectation: &exp,
			Reason: fmt.Sprintf("bench %s can see %s but did not this time (evidence: %s)", in.Observed.Platform.Bench,
				strings.Join(vocab.Strings(blind), ", "), strings.Join(in.Observed.Evidence, "; "))}
	}
	d := Decision{Expectation: &exp}
	d.Mismatches, d.Unchecked = exp.Check(in.Observed)
	switch {
	case exp.Checkable(in.Observed) == 0:
		d.Verdict = vocab.VerdictUnknown
		d.Reason = fmt.Sprintf("bench %s sees none of the expected fields (%s)", in.Observed.Platform.Bench, exp)
	case len(d.Mismatches) > 0:
		d.Verdict = vocab.NotMet
		d.Reason = strings.Join(d.Mismatches, "; ")
	default:
		d.Verdict = vocab.Met
		alike, err := in.Rules.Indistinct(in.Case, in.Observed.Platform, in.Observed.Can)
		if err != nil {
			return Decision{Verdict: vocab.Infrastructure, Reason: "expectations: " + err.Error()}
		}
		if len(alike) > 0 {
			d.Verdict, d.Alike = vocab.MetIndistinct, alike
			d.Reason = fmt.Sprintf("outcome %s looks the same here as %s", exp.Outcome, strings.Join(vocab.Strings(alike), ", "))
		}
	}
	return d
}

// unseen lists the fields exp expects a known value of, that the bench can see, but that the
// observation left unknown: a watch that missed an event, a probe whose reads disagreed. An
// unknown is never evidence, for or against.
func unseen(exp expect.Expectation, o observe.Observation) []vocab.Field {
	var blind []vocab.Field
	for _, f := range exp.Fields {
		if exp.Value(f) != vocab.Unknown && o.Has(f) && o.Value(f) == vocab.Unknown {
			blind = append(blind, f)
		}
	}
	return blind
}

// Note is what the report shows beside the verdict: the fields the bench could not see, or
// the reason there is no verdict.
func (d Decision) Note() string {
	var notes []string
	if d.Verdict == vocab.MetIndistinct || (d.Verdict == vocab.Met && d.expectedWords != "" && d.Reason != "") {
		notes = append(notes, d.Reason)
	}
	switch d.Verdict {
	case vocab.Met, vocab.MetIndistinct, vocab.NotMet:
		if len(d.Unchecked) > 0 {
			notes = append(notes, "not visible on this bench: "+strings.Join(vocab.Strings(d.Unchecked), ", "))
		}
		return strings.Join(notes, "; ")
	}
	return d.Reason
}

// Expected is the expected state as reports write it, "" when unknown.
func (d Decision) Expected() string {
	if d.Expectation == nil {
		return ""
	}
	if d.expectedWords != "" {
		return d.expectedWords
	}
	return d.Expectation.String()
}

// Outcome is the outcome the expectation rests on, "" when none is known.
func (d Decision) Outcome() vocab.Outcome {
	if d.Expectation == nil {
		return ""
	}
	return d.Expectation.Outcome
}

// Record writes the decision into a spec's result.
func (d Decision) Record(r *junit.Result) {
	r.Verdict, r.Expected, r.Note = d.Verdict, d.Expected(), d.Note()
	if d.Expectation != nil {
		r.Outcome, r.ExpectedBy = d.Expectation.Outcome, d.Expectation.Source
	}
}

// Passed reports whether the spec passes: a met expectation does, distinguishable or not.
func (d Decision) Passed() bool { return d.Verdict == vocab.Met || d.Verdict == vocab.MetIndistinct }
