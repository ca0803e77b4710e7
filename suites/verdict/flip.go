package verdict

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// A lane's recorded evidence: the results of one JUnit test suite (one platform).
type Lane struct {
	Title   string
	Results []junit.Result
}

// Replay judges a recorded result again, against rules: from the case it records and the
// observation it kept, with no tool run. ok is false for a result that kept no observation
// (the spec did not run, or was written before observations were kept).
func Replay(r junit.Result, rules *expect.Rules) (d Decision, ok bool) {
	// A timeline spec asks of the line's path, not of its end: the flips hold the end-state
	// specs' expectations to account, not it.
	if r.Observation == nil || r.Ending == nil || r.Shape != "" {
		return Decision{}, false
	}
	c := expect.Case{Tool: r.Tool, Action: r.Action, Ending: *r.Ending, Value: r.Value, Bias: r.Bias, Before: r.Before}
	return Judge(Input{Case: c, Observed: *r.Observation, Rules: rules}), true
}

// Flip is one tool outcome of the rules changed to another.
type Flip struct {
	Tool     string
	Action   vocab.Action
	Ending   vocab.Ending
	From, To vocab.Outcome
}

func (f Flip) String() string {
	return fmt.Sprintf("%s %s ended by %s: %s -> %s", f.Tool, f.Action, f.Ending, f.From, f.To)
}

// FlipResult is what one flip did to the recorded verdicts.
type FlipResult struct {
	Flip
	Specs  int      // specs of this tool, action and ending that the flip judged again
	Caught []string // "lane: scenario" that the flip turned not met
	// Alike are the specs it did not turn, each recorded as met but not distinguishable:
	// cells whose bench cannot tell the two outcomes apart.
	Alike []string
	// Missed are the specs it did not turn although they were recorded as plainly met: a cell
	// that claims evidence it does not have. Any is a defect.
	Missed []string
}

// FlipReport is the outcome of CheckFlips.
type FlipReport struct {
	Results []FlipResult
	// NotRun are the tool outcomes no lane gave evidence for (tools not installed, or for
	// other benches): nothing could catch their flips.
	NotRun []string
	// Disagree are the results whose replay under the unchanged rules gave another verdict
	// than the run recorded: the replay would not be testing what ran.
	Disagree []string
}

// families are the outcomes a flip moves between: the ways a process can leave a line in the
// same hands (a released request, a sysfs export, registers written behind the kernel's back).
var families = [][]vocab.Outcome{
	{vocab.ReleasedOutput, vocab.ReleasedInput, vocab.ReleasedInputNoBias},
	{vocab.ExportedOutput, vocab.ExportedInput},
	{vocab.UnmanagedOutput, vocab.UnmanagedInput, vocab.UnmanagedInputNoPull},
}

func alternatives(o vocab.Outcome) []vocab.Outcome {
	for _, f := range families {
		if slices.Contains(f, o) {
			return slices.DeleteFunc(slices.Clone(f), func(x vocab.Outcome) bool { return x == o })
		}
	}
	return nil
}

// CheckFlips proves that each tool outcome in the rules is load-bearing: it changes each one
// to every other outcome of its family in turn, judges the lanes' recorded results of that
// tool, action and ending again, and records which specs the change would have failed. A
// change that fails no spec is allowed only where every spec it touched was recorded as met
// but not distinguishable.
func CheckFlips(rules *expect.Rules, lanes []Lane) FlipReport {
	var rep FlipReport
	type key struct {
		tool   string
		action vocab.Action
		ending vocab.Ending
	}
	evidence := map[key][]ref{}
	for li, l := range lanes {
		for ri, r := range l.Results {
			d, ok := Replay(r, rules)
			if !ok || r.Verdict == vocab.Skipped || r.Verdict == vocab.Infrastructure {
				continue
			}
			if d.Verdict != r.Verdict {
				rep.Disagree = append(rep.Disagree, fmt.Sprintf("%s: %s %s: recorded %s, replayed %s (%s)", l.Title, r.Tool, r.Scenario, r.Verdict, d.Verdict, d.Reason))
				continue
			}
			k := key{r.Tool, r.Action, *r.Ending}
			evidence[k] = append(evidence[k], ref{li, ri})
		}
	}
	for _, tool := range slices.Sorted(maps.Keys(rules.Tools)) {
		for _, action := range vocab.Actions {
			for _, ending := range vocab.Endings {
				from, ok := rules.Tools[tool][action][ending]
				if !ok {
					continue
				}
				refs := evidence[key{tool, action, ending}]
				if len(refs) == 0 {
					rep.NotRun = append(rep.NotRun, fmt.Sprintf("%s %s ended by %s (%s)", tool, action, ending, from))
					continue
				}
				for _, to := range alternatives(from) {
					f := Flip{Tool: tool, Action: action, Ending: ending, From: from, To: to}
					rep.Results = append(rep.Results, flip(f, rules, lanes, refs))
				}
			}
		}
	}
	return rep
}

// ref is one result of one lane.
type ref struct{ lane, result int }

// flip judges the referenced results again under rules with f applied.
func flip(f Flip, rules *expect.Rules, lanes []Lane, refs []ref) FlipResult {
	flipped := *rules
	flipped.Tools = map[string]map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	maps.Copy(flipped.Tools, rules.Tools)
	byAction := map[vocab.Action]map[vocab.Ending]vocab.Outcome{}
	maps.Copy(byAction, rules.Tools[f.Tool])
	byEnding := map[vocab.Ending]vocab.Outcome{}
	maps.Copy(byEnding, rules.Tools[f.Tool][f.Action])
	byEnding[f.Ending] = f.To
	byAction[f.Action] = byEnding
	flipped.Tools[f.Tool] = byAction
	res := FlipResult{Flip: f}
	for _, rf := range refs {
		li := rf.lane
		r := lanes[li].Results[rf.result]
		d, _ := Replay(r, &flipped)
		if d.Verdict == vocab.VerdictUnknown {
			continue // the platform has no rule for the other outcome: nothing to compare
		}
		res.Specs++
		where := lanes[li].Title + ": " + r.Scenario
		switch {
		case d.Verdict == vocab.NotMet && r.Verdict != vocab.NotMet:
			res.Caught = append(res.Caught, where)
		case r.Verdict == vocab.MetIndistinct:
			res.Alike = append(res.Alike, where)
		case r.Verdict == vocab.Met:
			res.Missed = append(res.Missed, where)
		}
	}
	return res
}

// Err is nil when every flip was caught, or touched only cells recorded as not
// distinguishable, and every replay agreed with the run.
func (rep FlipReport) Err() error {
	var errs []error
	for _, d := range rep.Disagree {
		errs = append(errs, fmt.Errorf("replay disagrees with the run: %s", d))
	}
	for _, r := range rep.Results {
		if len(r.Missed) > 0 {
			errs = append(errs, fmt.Errorf("flip %s fails no spec, yet %d of its cells claim to tell the outcomes apart: %s",
				r.Flip, len(r.Missed), strings.Join(r.Missed, "; ")))
		}
	}
	return errors.Join(errs...)
}

// Write prints the report: each flip and what caught it, the cells that cannot tell the
// outcomes apart by lane, and what no lane ran.
func (rep FlipReport) Write(w io.Writer) {
	caught, alike := 0, map[string][]string{}
	for _, r := range rep.Results {
		switch {
		case len(r.Caught) > 0:
			caught++
			fmt.Fprintf(w, "caught     %s: %d of %d specs fail, e.g. %s\n", r.Flip, len(r.Caught), r.Specs, r.Caught[0])
		case r.Specs == 0:
			fmt.Fprintf(w, "no rule    %s: no lane has a rule for %s\n", r.Flip, r.To)
		default:
			fmt.Fprintf(w, "NOT CAUGHT %s: %d specs, %d not distinguishable, %d claiming otherwise\n", r.Flip, r.Specs, len(r.Alike), len(r.Missed))
		}
		for _, a := range r.Alike {
			lane, scenario, _ := strings.Cut(a, ": ")
			alike[lane] = append(alike[lane], fmt.Sprintf("%s %s (%s looks like %s)", r.Tool, scenario, r.From, r.To))
		}
	}
	fmt.Fprintf(w, "\n%d flips of %d caught by at least one spec.\n", caught, len(rep.Results))
	lanes := slices.Sorted(maps.Keys(alike))
	for _, l := range lanes {
		cells := slices.Compact(slices.Sorted(slices.Values(alike[l])))
		fmt.Fprintf(w, "\nNot distinguishable on %s (%d):\n", l, len(cells))
		for _, c := range cells {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	if len(rep.NotRun) > 0 {
		sort.Strings(rep.NotRun)
		fmt.Fprintf(w, "\nNo evidence on any lane here (%d tool outcomes), so no flip of them could be caught:\n  %s\n", len(rep.NotRun), strings.Join(rep.NotRun, "\n  "))
	}
	for _, d := range rep.Disagree {
		fmt.Fprintf(w, "\nREPLAY DISAGREES %s\n", d)
	}
}
