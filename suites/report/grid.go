package report

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// A GridRow is one tool and action on one platform; its cells are by how the process ended.
type GridRow struct {
	Suite  vocab.Suite
	Tool   string
	Action vocab.Action
	Cells  map[vocab.Ending]GridCell
}

// GridCell is what one action ended one way left, over the biases tried: biases that gave the
// same verdict and state are one group.
type GridCell struct {
	Groups  []BiasGroup
	Verdict vocab.Verdict // the one that matters most: not met, infrastructure, unknown, not distinguishable, met, skipped
}

// BiasGroup is the biases of a cell that gave the same verdict and state.
type BiasGroup struct {
	Biases  []vocab.Bias
	Verdict vocab.Verdict
	State   string // what was observed, in a few words
	Now     string // the same without how the line was released: what the pin then is
	Want    string // what was expected, when the observation did not meet it
	Note    string
	Outcome vocab.Outcome
	// ExpectedBy is the file that gave the expectation (junit.Result.ExpectedBy).
	ExpectedBy string
}

// Label is the group's biases, e.g. "pull-up" or "disabled, as-is".
func (g BiasGroup) Label() string { return strings.Join(vocab.Strings(g.Biases), ", ") }

// weight orders verdicts by how much a reader must see them.
var weight = map[vocab.Verdict]int{vocab.NotMet: 6, vocab.Infrastructure: 5, vocab.VerdictUnknown: 4, vocab.MetIndistinct: 3, vocab.Met: 2, vocab.Skipped: 1}

var scenarioRE = regexp.MustCompile(`^(\S+)(?: (?:high|low))?, bias (\S+), ended by (\S+)(?:, from |$)`)

// parts are a result's action, ending and bias: its own fields, or, in a report written before
// results carried them, its scenario's words.
func parts(r junit.Result) (vocab.Action, vocab.Ending, vocab.Bias, bool) {
	if r.Ending != nil && r.Action != "" {
		return r.Action, *r.Ending, r.Bias, true
	}
	m := scenarioRE.FindStringSubmatch(r.Scenario)
	if m == nil {
		return "", 0, "", false
	}
	e, err := vocab.ParseEnding(m[3])
	return vocab.Action(m[1]), e, vocab.Bias(m[2]), err == nil
}

// Grid returns column col's rows: a row per tool and action that the platform ran, in the
// order of suites, tools and actions.
func (m *Matrix) Grid(col int) []GridRow {
	type key struct {
		tool   string
		action vocab.Action
	}
	rows := map[key]*GridRow{}
	groups := map[key]map[vocab.Ending]map[string]*BiasGroup{}
	for _, r := range m.Rows {
		c, ok := m.Cells[r][col]
		if !ok || (r.Suite != vocab.Persistence && r.Suite != vocab.CleanupSuite) {
			continue
		}
		action, ending, bias, ok := parts(c.Result)
		if !ok {
			continue
		}
		k := key{r.Tool, action}
		if rows[k] == nil {
			rows[k] = &GridRow{Suite: r.Suite, Tool: r.Tool, Action: action, Cells: map[vocab.Ending]GridCell{}}
			groups[k] = map[vocab.Ending]map[string]*BiasGroup{}
		}
		if groups[k][ending] == nil {
			groups[k][ending] = map[string]*BiasGroup{}
		}
		g := group(c)
		id := string(g.Verdict) + "\x00" + g.State + "\x00" + g.Want
		if have := groups[k][ending][id]; have != nil {
			have.Biases = append(have.Biases, bias)
		} else {
			g.Biases = []vocab.Bias{bias}
			groups[k][ending][id] = &g
		}
	}
	var out []GridRow
	for k, row := range rows {
		ran := false
		for ending, byID := range groups[k] {
			var cell GridCell
			for _, g := range byID {
				slices.SortFunc(g.Biases, func(a, b vocab.Bias) int { return slices.Index(biasOrder, a) - slices.Index(biasOrder, b) })
				cell.Groups = append(cell.Groups, *g)
				if weight[g.Verdict] > weight[cell.Verdict] {
					cell.Verdict = g.Verdict
				}
			}
			sort.Slice(cell.Groups, func(i, j int) bool {
				return slices.Index(biasOrder, cell.Groups[i].Biases[0]) < slices.Index(biasOrder, cell.Groups[j].Biases[0])
			})
			ran = ran || cell.Verdict != vocab.Skipped
			row.Cells[ending] = cell
		}
		if ran {
			out = append(out, *row)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Tool != b.Tool {
			return a.Tool < b.Tool
		}
		return slices.Index(vocab.Actions, a.Action) < slices.Index(vocab.Actions, b.Action)
	})
	return out
}

// biasOrder is the order the suites try biases in, and cells show them.
var biasOrder = []vocab.Bias{vocab.BiasPullUp, vocab.BiasDisabled, vocab.BiasAsIs, vocab.BiasPullDown}

// group is one result's part of a cell.
func group(c Cell) BiasGroup {
	g := BiasGroup{Verdict: c.Verdict, Note: c.Note, Outcome: c.Result.Outcome, ExpectedBy: c.Result.ExpectedBy}
	switch {
	case c.Result.Observation != nil:
		g.State = Phrase(c.Result.Observation.Facts)
		now := c.Result.Observation.Facts
		now.ReleasedDirection, now.ReleasedBias = "", ""
		g.Now = Phrase(now)
	default:
		g.State = c.Observed
		g.Now, _, _ = strings.Cut(c.Observed, ", released as")
	}
	if c.Verdict == vocab.NotMet && c.Expected != "" {
		g.Want = Phrase(parseExpected(c.Expected))
	}
	return g
}

// parseExpected reads an expectation as expect.Expectation.String writes it.
func parseExpected(s string) observe.Facts {
	f := observe.Facts{Direction: vocab.DirectionUnknown, Level: vocab.LevelUnknown, Drive: vocab.DriveUnknown, Pull: vocab.PullUnknown, Owner: vocab.OwnerUnknown}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		f.Set(vocab.Field(k), v)
	}
	return f
}

// Phrase is a line's state in a few words, from the fields a bench sees: "output high",
// "input pulled down", "input floating", "input" (pull unseen); "held by sysfs" when a
// process or the kernel holds it; "released as output pull-up" for how the tool gave it back.
func Phrase(f observe.Facts) string {
	var s string
	switch f.Direction {
	case vocab.Output:
		s = "output"
		if w := f.Level.Word(); w != "" {
			s += " " + w
		}
	case vocab.Input:
		s = "input"
		switch f.Drive {
		case vocab.Pulled:
			switch f.Pull {
			case vocab.PullUp:
				s += " pulled up"
			case vocab.PullDown:
				s += " pulled down"
			default:
				s += " pulled"
			}
		case vocab.Floating:
			s += " floating"
		default: // the drive unseen, the pull seen (the emulated Pi's register witness)
			switch f.Pull {
			case vocab.PullUp:
				s += " with a pull-up"
			case vocab.PullDown:
				s += " with a pull-down"
			case vocab.PullNone:
				s += ", no pull"
			}
		}
	default:
		s = "unknown"
	}
	if f.Owner == vocab.Used {
		s += ", held by " + orWord(f.Consumer, "a process")
	}
	if f.ReleasedDirection == vocab.Input || f.ReleasedDirection == vocab.Output {
		s += "; released as " + string(f.ReleasedDirection)
		switch f.ReleasedBias {
		case vocab.BiasPullUp, vocab.BiasPullDown:
			s += " " + string(f.ReleasedBias)
		case vocab.BiasDisabled:
			s += ", pull off"
		}
	}
	return s
}

func orWord(s, instead string) string {
	if s == "" {
		return instead
	}
	return s
}
