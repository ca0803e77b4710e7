// Package report turns JUnit files from gpiohil runs (one per board or lane) into the
// semantics matrix: a row per tool and scenario, a column per platform, each cell what was
// observed after the tool's process was gone and whether it met the expectation.
//
// It writes Markdown (for docs/semantics.md and CI summaries) and a self-contained HTML page.
package report

import (
	"io"
	"sort"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/verdict"
)

// Column is one platform: one JUnit test suite.
type Column struct {
	Title  string
	Detail string // kernel, tool versions
	File   string
	Props  map[string]string // the report's properties but the tools': kernel, bench, driver, sees, ...
	Tools  map[string]string // tool -> its version, or why it did not run ("not installed: ...", "not run: ...")
}

// Row is one tool and scenario.
type Row struct {
	Suite          vocab.Suite
	Tool, Scenario string
}

// Cell is one result.
type Cell struct {
	Observed, Expected string
	Verdict            vocab.Verdict
	Note               string
	Result             junit.Result // the whole result the cell comes from
}

// Check is a spec that is not a scenario row (e.g. "cleanup touches only the lines it set up").
type Check struct {
	Name   string
	Status map[int]string // column -> passed, failed, error, skipped
}

// Matrix is the semantics table.
type Matrix struct {
	Columns []Column
	Rows    []Row
	Cells   map[Row]map[int]Cell
	Checks  []Check
}

// ColumnTitle names a platform from a suite's properties.
func ColumnTitle(s junit.Suite) string {
	if b := s.Prop("board"); b != "" && b != s.Prop("bench") {
		return b
	}
	t := s.Prop("bench")
	if d := s.Prop("driver"); d != "" && d != t {
		t += ", " + d
	}
	if w := vocab.ParsePersist(s.Prop("persist_gpio_outputs")).Word(); w != "" {
		t += ", " + w
	}
	return t
}

// FromFiles reads JUnit files into a matrix.
func FromFiles(paths []string) (*Matrix, error) {
	m := &Matrix{Cells: map[Row]map[int]Cell{}}
	checks := map[string]*Check{}
	for _, p := range paths {
		doc, err := junit.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, s := range doc.Suites {
			colIdx := len(m.Columns)
			var tools, missing, other []string
			for _, pr := range s.Properties {
				if name, ok := strings.CutPrefix(pr.Name, "tool:"); ok {
					switch {
					case strings.HasPrefix(pr.Value, "not installed"):
						missing = append(missing, name)
					case strings.HasPrefix(pr.Value, "not run:"):
						other = append(other, name)
					default:
						tools = append(tools, name+" ("+pr.Value+")")
					}
				}
			}
			var about, parts []string
			for _, k := range []string{"kernel", "driver", "sees"} {
				if v := s.Prop(k); v != "" {
					about = append(about, k+" "+v)
				}
			}
			if v := s.Prop("witness"); v != "" { // the emulated Pi's register witness (suites/launch)
				about = append(about, v)
			}
			if len(about) > 0 {
				parts = append(parts, strings.Join(about, ", "))
			}
			for _, l := range []struct {
				label string
				names []string
			}{{"tools", tools}, {"not installed", missing}, {"for other benches", other}} {
				if len(l.names) > 0 {
					parts = append(parts, l.label+": "+strings.Join(l.names, ", "))
				}
			}
			detail := strings.Join(parts, "; ")
			col := Column{Title: ColumnTitle(s), File: p, Detail: detail, Props: map[string]string{}, Tools: map[string]string{}}
			for _, pr := range s.Properties {
				if name, ok := strings.CutPrefix(pr.Name, "tool:"); ok {
					col.Tools[name] = pr.Value
				} else {
					col.Props[pr.Name] = pr.Value
				}
			}
			m.Columns = append(m.Columns, col)
			for _, c := range s.Cases {
				rs := c.Results()
				if len(rs) == 0 {
					ch := checks[c.Name]
					if ch == nil {
						ch = &Check{Name: c.Name, Status: map[int]string{}}
						checks[c.Name] = ch
						m.Checks = append(m.Checks, *ch)
					}
					ch.Status[colIdx] = status(c)
					continue
				}
				r := rs[len(rs)-1]
				row := Row{Suite: r.Suite, Tool: r.Tool, Scenario: r.Scenario}
				if m.Cells[row] == nil {
					m.Cells[row] = map[int]Cell{}
					m.Rows = append(m.Rows, row)
				}
				verdict := r.Verdict
				if c.Failure != nil {
					verdict = vocab.NotMet
				}
				m.Cells[row][colIdx] = Cell{Observed: r.Observed, Expected: r.Expected, Verdict: verdict, Note: r.Note, Result: r}
			}
		}
	}
	for i := range m.Checks {
		m.Checks[i] = *checks[m.Checks[i].Name]
	}
	// By name: the order specs ran in changes from run to run (Ginkgo's seed, several VMs).
	sort.SliceStable(m.Checks, func(i, j int) bool { return m.Checks[i].Name < m.Checks[j].Name })
	sort.SliceStable(m.Rows, func(i, j int) bool {
		a, b := m.Rows[i], m.Rows[j]
		if a.Suite != b.Suite {
			return a.Suite.Order() < b.Suite.Order()
		}
		if a.Tool != b.Tool {
			return a.Tool < b.Tool
		}
		return a.Scenario < b.Scenario
	})
	return m, nil
}

func status(c junit.Case) string {
	switch {
	case c.Failure != nil:
		return "failed"
	case c.Error != nil:
		return "error"
	case c.Skipped != nil:
		return "skipped"
	}
	return "passed"
}

var mark = map[vocab.Verdict]string{vocab.Met: "✅", vocab.MetIndistinct: "☑️", vocab.NotMet: "❌", vocab.VerdictUnknown: "❔", vocab.Skipped: "➖", vocab.Infrastructure: "⚠️"}

func (c Cell) text() string {
	switch c.Verdict {
	case vocab.Skipped:
		return "➖ skipped"
	case vocab.Infrastructure:
		return "⚠️ infrastructure error"
	case "":
		return ""
	}
	return mark[c.Verdict] + " " + c.Observed
}

// skippedEverywhere reports whether no platform ran the row.
func (m *Matrix) skippedEverywhere(r Row) bool {
	for _, c := range m.Cells[r] {
		if c.Verdict != vocab.Skipped {
			return false
		}
	}
	return true
}

// Shown returns the rows some platform ran, and the tools whose rows were skipped everywhere.
func (m *Matrix) Shown() (rows []Row, hidden []string) {
	seen := map[string]bool{}
	ran := map[string]bool{}
	for _, r := range m.Rows {
		if m.skippedEverywhere(r) {
			seen[r.Tool] = true
			continue
		}
		ran[r.Tool] = true
		rows = append(rows, r)
	}
	for t := range seen {
		if !ran[t] {
			hidden = append(hidden, t)
		}
	}
	sort.Strings(hidden)
	return rows, hidden
}

// HTML writes the matrix as a self-contained HTML page (page.go).
func (m *Matrix) HTML(w io.Writer) error { return m.HTMLWith(w, nil) }

// Lanes reads JUnit files into the recorded results of each platform, for judging them again
// (verdict.Replay, verdict.CheckFlips).
func Lanes(paths []string) ([]verdict.Lane, error) {
	var lanes []verdict.Lane
	for _, p := range paths {
		doc, err := junit.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, s := range doc.Suites {
			l := verdict.Lane{Title: ColumnTitle(s)}
			for _, c := range s.Cases {
				l.Results = append(l.Results, c.Results()...)
			}
			lanes = append(lanes, l)
		}
	}
	return lanes, nil
}
