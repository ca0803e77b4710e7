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
//  4. Can this bench see any of it? If it sees none of the expected fields: unknown.
//  5. Did the observation match every field the bench can see? met, or not met with each
//     mismatch.
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
	Mismatches  []string      // "field: got X, want Y", one per field that differed
	Unchecked   []vocab.Field // expected fields the bench cannot see
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
	}
	return d
}

// Note is what the report shows beside the verdict: the fields the bench could not see, or
// the reason there is no verdict.
func (d Decision) Note() string {
	switch d.Verdict {
	case vocab.Met, vocab.NotMet:
		if len(d.Unchecked) > 0 {
			return "not visible on this bench: " + strings.Join(vocab.Strings(d.Unchecked), ", ")
		}
		return ""
	}
	return d.Reason
}

// Expected is the expected state as reports write it, "" when unknown.
func (d Decision) Expected() string {
	if d.Expectation == nil {
		return ""
	}
	return d.Expectation.String()
}

// Record writes the decision into a spec's result.
func (d Decision) Record(r *junit.Result) {
	r.Verdict, r.Expected, r.Note = d.Verdict, d.Expected(), d.Note()
}

// Passed reports whether the spec passes: only a met expectation does.
func (d Decision) Passed() bool { return d.Verdict == vocab.Met }
