package report

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/expect"
)

// An Answer is the question behind gpiohil, answered for one tool: on one platform from what
// was measured there, or, for a tool no platform here ran, what its expectations predict.
type Answer struct {
	Tool     string
	Version  string // as the tool reported it, when measured
	Platform string // the (first) column's title; "" for a prediction
	Column   int    // the (first) column, for a link to its rows
	// Also are the other columns where the tool's answer is the same, word for word (RPi.GPIO
	// on both Debian userlands, say): one answer for all of them.
	Also     []int
	Measured bool
	// Says are the answer's parts: what the tool's actions, ended which ways, leave the line
	// as. Each reads "set-output, hold (any ending): released as an output, then input pulled
	// down".
	Says []string
	// Doubts are what the reader should know besides: specs that did not meet the
	// expectation, cells this bench cannot tell from another outcome.
	Doubts []string
	// NotMet and Alike count those specs and cells, for a short form of the doubts.
	NotMet, Alike int
	// ExpectedBy names the files other than the built-in expectations that the verdicts
	// were judged against: a user's profile or --expectations file.
	ExpectedBy []string
	Source     string // for a prediction: where it comes from
}

// Saying is what the answer says, its sentences joined, without the doubts.
func (a Answer) Saying() string { return strings.Join(a.Says, ". ") }

// Judged says which files other than the built-in expectations judged the answer's cells.
func (a Answer) Judged() string {
	if len(a.ExpectedBy) == 0 {
		return ""
	}
	return "Judged against " + strings.Join(a.ExpectedBy, " and ")
}

// Text is the answer in one line, doubts included.
func (a Answer) Text() string {
	s := a.Saying()
	if len(a.ExpectedBy) > 0 {
		s += ". " + a.Judged()
	}
	if len(a.Doubts) > 0 {
		s += " (" + strings.Join(a.Doubts, "; ") + ")"
	}
	return s
}

// actionWords say what an action makes a tool do, for people.
var actionWords = map[vocab.Action]string{
	vocab.SetOutput:   "set an output and exit",
	vocab.SetInput:    "set an input and exit",
	vocab.Cleanup:     "set an output, clean up and exit",
	vocab.Hold:        "hold an output",
	vocab.HoldCleanup: "hold with a cleanup handler",
	vocab.Crash:       "crash while holding",
}

// endingWords say how a holding process ended.
var endingWords = map[vocab.Ending]string{
	vocab.SIGINT: "Ctrl-C (SIGINT)", vocab.SIGTERM: "SIGTERM", vocab.SIGKILL: "SIGKILL", vocab.ParentDeath: "its parent's death",
}

// outcomeWords say what a process leaves a line in.
var outcomeWords = map[vocab.Outcome]string{
	vocab.ReleasedOutput:       "released as an output",
	vocab.ReleasedInput:        "released as an input",
	vocab.ReleasedInputNoBias:  "made an input with the pull off, then released",
	vocab.ExportedOutput:       "left exported in /sys/class/gpio as an output",
	vocab.ExportedInput:        "left exported in /sys/class/gpio as an input",
	vocab.UnmanagedOutput:      "left as set, an output (the tool writes the registers; the kernel never knew)",
	vocab.UnmanagedInput:       "left as set, an input with its pull (the tool writes the registers)",
	vocab.UnmanagedInputNoPull: "made an input with the pull off (the tool writes the registers)",
}

// holdingEndings are the ways a holding action is ended.
var holdingEndings = []vocab.Ending{vocab.SIGINT, vocab.SIGTERM, vocab.SIGKILL, vocab.ParentDeath}

// Answers answers the question for every tool: for each platform that measured it, in the
// order of the columns, and for each tool no platform ran, what rules predict.
func (m *Matrix) Answers(rules *expect.Rules) []Answer {
	var out []Answer
	measured := map[string]bool{}
	for col := range m.Columns {
		byTool := map[string][]GridRow{}
		for _, r := range m.Grid(col) {
			byTool[r.Tool] = append(byTool[r.Tool], r)
		}
		for _, tool := range slices.Sorted(maps.Keys(byTool)) {
			measured[tool] = true
			a := m.measured(col, tool, byTool[tool])
			if i := slices.IndexFunc(out, a.same); i >= 0 {
				out[i].Also = append(out[i].Also, col)
				continue
			}
			out = append(out, a)
		}
	}
	for _, tool := range m.Unmeasured() {
		if measured[tool] {
			continue
		}
		if rules == nil {
			out = append(out, Answer{Tool: tool})
		} else {
			out = append(out, predicted(tool, rules))
		}
	}
	return out
}

// same reports whether b, measured on another platform, says what a says, word for word.
func (a Answer) same(b Answer) bool {
	return a.Measured && b.Measured && a.Tool == b.Tool && a.Version == b.Version && a.Text() == b.Text()
}

// Columns are the columns the answer is about: Column, then Also.
func (a Answer) Columns() []int { return append([]int{a.Column}, a.Also...) }

// PlatformNames are the titles of the answer's columns, read as a list: the first in full, each
// other without the leading words it shares with the one before it, and without the words every
// one of the titles has ("Raspberry Pi 3, emulated, mainline driver, Debian bookworm, persist
// off", then "persist on", "Debian trixie, persist off", "Raspberry Pi 4, Debian bookworm,
// persist off", ...).
func (m *Matrix) PlatformNames(a Answer) []string {
	cols := a.Columns()
	titles := make([][]string, len(cols))
	for i, col := range cols {
		titles[i] = strings.Split(m.Columns[col].Title, ", ")
	}
	everywhere := func(w string) bool {
		for _, t := range titles {
			if !slices.Contains(t, w) {
				return false
			}
		}
		return true
	}
	names := []string{m.Columns[a.Column].Title}
	for i := 1; i < len(titles); i++ {
		prev, words := titles[i-1], titles[i]
		n := 0
		for n < len(words)-1 && n < len(prev) && words[n] == prev[n] {
			n++
		}
		var keep []string
		for _, w := range words[n:] {
			if !everywhere(w) {
				keep = append(keep, w)
			}
		}
		if len(keep) == 0 { // the same title twice: say its last words
			keep = words[len(words)-1:]
		}
		names = append(names, strings.Join(keep, ", "))
	}
	return names
}

// measured is a tool's answer on one platform.
func (m *Matrix) measured(col int, tool string, rows []GridRow) Answer {
	a := Answer{Tool: tool, Version: m.Columns[col].Tools[tool], Platform: m.Columns[col].Title, Column: col, Measured: true}
	type part struct{ outcome, state string }
	labels := map[part]map[vocab.Action][]vocab.Ending{}
	var order []part
	notMet, alike := 0, 0
	for _, r := range rows {
		for _, e := range vocab.Endings {
			c, ok := r.Cells[e]
			if !ok || c.Verdict == vocab.Skipped {
				continue
			}
			g := representative(c)
			for _, gg := range c.Groups {
				switch gg.Verdict {
				case vocab.NotMet:
					notMet++
				case vocab.MetIndistinct:
					alike++
				}
				if src := gg.ExpectedBy; src != "" && src != expect.BuiltinFile && !slices.Contains(a.ExpectedBy, src) {
					a.ExpectedBy = append(a.ExpectedBy, src)
				}
			}
			p := part{outcome: outcomeWords[g.Outcome], state: g.Now}
			switch g.Verdict {
			case vocab.NotMet:
				// The outcome is what was expected, not what happened: say only what was seen.
				p = part{state: fmt.Sprintf("%s, where %s was expected", g.Now, outcomeWords[g.Outcome])}
			case vocab.VerdictUnknown, vocab.Infrastructure:
				p.outcome = ""
				if p.state == "" {
					// Nothing was observed: the spec could not run.
					p.state = "not measured (the spec could not run: see the rows)"
				}
			}
			if labels[p] == nil {
				labels[p] = map[vocab.Action][]vocab.Ending{}
				order = append(order, p)
			}
			labels[p][r.Action] = append(labels[p][r.Action], e)
		}
	}
	for _, p := range order {
		what := p.state
		if p.outcome != "" {
			what = p.outcome + " → " + p.state
		}
		a.Says = append(a.Says, whenWords(labels[p])+": "+what)
	}
	if w, ok := m.Restart(col, tool); ok {
		a.Says = append(a.Says, "Restarted at once after SIGTERM: "+w)
		if strings.Contains(w, "was expected") {
			notMet++
		}
	}
	a.NotMet, a.Alike = notMet, alike
	if notMet > 0 {
		a.Doubts = append(a.Doubts, pluralize(notMet, "spec", "specs")+" did not meet the expectation: see the rows")
	}
	if alike > 0 {
		a.Doubts = append(a.Doubts, pluralize(alike, "cell looks", "cells look")+" the same here as another outcome: not evidence")
	}
	return a
}

// representative is the group of a cell that stands for it: the one with the bias as-is (the
// tool touched no pull), else the first.
func representative(c GridCell) BiasGroup {
	for _, g := range c.Groups {
		if slices.Contains(g.Biases, vocab.BiasAsIs) {
			return g
		}
	}
	return c.Groups[0]
}

// whenWords says which actions, ended which ways, a part of an answer is about: "set an output
// and exit, hold an output (any ending), hold ... on SIGKILL or its parent's death".
func whenWords(actions map[vocab.Action][]vocab.Ending) string {
	var words []string
	for _, a := range vocab.Actions {
		es, ok := actions[a]
		if !ok {
			continue
		}
		w := actionWords[a]
		if w == "" {
			w = string(a)
		}
		if !slices.Contains(es, vocab.Exit) {
			if len(es) == len(holdingEndings) {
				w += " (any ending)"
			} else {
				var ew []string
				for _, e := range holdingEndings {
					if slices.Contains(es, e) {
						ew = append(ew, endingWords[e])
					}
				}
				w += " ended by " + orList(ew)
			}
		}
		words = append(words, w)
	}
	return capitalize(orList(words))
}

// predicted is what rules say a tool no platform here ran leaves behind.
func predicted(tool string, rules *expect.Rules) Answer {
	a := Answer{Tool: tool, Source: rules.File}
	byOutcome := map[vocab.Outcome]map[vocab.Action][]vocab.Ending{}
	var order []vocab.Outcome
	for _, action := range vocab.Actions {
		for _, e := range vocab.Endings {
			o, ok := rules.Tools[tool][action][e]
			if !ok {
				continue
			}
			if byOutcome[o] == nil {
				byOutcome[o] = map[vocab.Action][]vocab.Ending{}
				order = append(order, o)
			}
			byOutcome[o][action] = append(byOutcome[o][action], e)
		}
	}
	for _, o := range order {
		a.Says = append(a.Says, whenWords(byOutcome[o])+": "+outcomeWords[o])
	}
	if len(a.Says) == 0 {
		a.Says = []string{"no expectation is known"}
	}
	return a
}

// Unmeasured lists the tools no column ran a spec of, with their reason on the first column.
func (m *Matrix) Unmeasured() []string {
	ran := map[string]bool{}
	for _, r := range m.Rows {
		for _, c := range m.Cells[r] {
			if c.Verdict != vocab.Skipped {
				ran[r.Tool] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range m.Columns {
		for t := range c.Tools {
			if !ran[t] {
				seen[t] = true
			}
		}
	}
	for _, r := range m.Rows {
		if !ran[r.Tool] {
			seen[r.Tool] = true
		}
	}
	out := slices.Collect(maps.Keys(seen))
	sort.Strings(out)
	return out
}

// whyNot says why a tool did not run on any column: each distinct reason, once.
// forBenches matches trial.NotForBench's reason, which names the bench it was asked on: the
// answer says it once for every platform.
var forBenches = regexp.MustCompile(`^profile \S+ is for benches (.+), not \S+$`)

func (m *Matrix) whyNot(tool string) string {
	var why []string
	for _, c := range m.Columns {
		v := c.Tools[tool]
		switch {
		case strings.HasPrefix(v, "not run: "), strings.HasPrefix(v, "not installed: "):
			_, v, _ = strings.Cut(v, ": ")
		case v != "":
			v = "installed; no spec of it ran"
		}
		if k := forBenches.FindStringSubmatch(v); k != nil {
			v = "made for benches " + k[1] + " only"
		}
		if v != "" && !slices.Contains(why, v) {
			why = append(why, v)
		}
	}
	return strings.Join(why, "; ")
}

func orList(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " or " + ws[len(ws)-1]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
