// Package report turns JUnit files from gpiohil runs (one per board or lane) into the
// semantics matrix: a row per tool and scenario, a column per platform, each cell what was
// observed after the tool's process was gone and whether it met the expectation.
//
// It writes Markdown (for docs/semantics.md and CI summaries) and a self-contained HTML page.
package report

import (
	"fmt"
	"html/template"
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
			col := len(m.Columns)
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
			detail := fmt.Sprintf("kernel %s, driver %s, sees %s; tools: %s", s.Prop("kernel"), s.Prop("driver"), s.Prop("sees"), strings.Join(tools, ", "))
			if len(missing) > 0 {
				detail += "; not installed: " + strings.Join(missing, ", ")
			}
			if len(other) > 0 {
				detail += "; for other benches: " + strings.Join(other, ", ")
			}
			m.Columns = append(m.Columns, Column{Title: ColumnTitle(s), File: p, Detail: detail})
			for _, c := range s.Cases {
				rs := c.Results()
				if len(rs) == 0 {
					ch := checks[c.Name]
					if ch == nil {
						ch = &Check{Name: c.Name, Status: map[int]string{}}
						checks[c.Name] = ch
						m.Checks = append(m.Checks, *ch)
					}
					ch.Status[col] = status(c)
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
				m.Cells[row][col] = Cell{Observed: r.Observed, Expected: r.Expected, Verdict: verdict, Note: r.Note}
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

// Markdown writes the matrix as Markdown tables, one per suite.
func (m *Matrix) Markdown(w io.Writer) error {
	fmt.Fprintf(w, "Legend: ✅ observed state met the expectation · ☑️ met, but this bench would see another outcome just the same (not evidence) · ❌ it did not · ❔ no known expectation (recorded, not passed) · ➖ skipped (tool not installed or action unsupported) · ⚠️ infrastructure error (not a verdict)\n\n")
	fmt.Fprintf(w, "Platforms:\n\n")
	for i, c := range m.Columns {
		fmt.Fprintf(w, "%d. **%s**: %s\n", i+1, c.Title, c.Detail)
	}
	rows, hidden := m.Shown()
	if len(hidden) > 0 {
		fmt.Fprintf(w, "\nNot run on any platform here (not installed, or for other benches): %s.\n", strings.Join(hidden, ", "))
	}
	var suite vocab.Suite
	for _, r := range rows {
		if r.Suite != suite {
			suite = r.Suite
			fmt.Fprintf(w, "\n## %s\n\n| tool | scenario |", suite)
			for _, c := range m.Columns {
				fmt.Fprintf(w, " %s |", c.Title)
			}
			fmt.Fprintf(w, "\n|---|---|%s\n", strings.Repeat("---|", len(m.Columns)))
		}
		fmt.Fprintf(w, "| %s | %s |", r.Tool, r.Scenario)
		for i := range m.Columns {
			fmt.Fprintf(w, " %s |", m.Cells[r][i].text())
		}
		fmt.Fprintln(w)
	}
	if len(m.Checks) > 0 {
		fmt.Fprintf(w, "\n## Other checks\n\n| check |")
		for _, c := range m.Columns {
			fmt.Fprintf(w, " %s |", c.Title)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(m.Columns)))
		for _, ch := range m.Checks {
			fmt.Fprintf(w, "| %s |", ch.Name)
			for i := range m.Columns {
				fmt.Fprintf(w, " %s |", ch.Status[i])
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"cell": func(m *Matrix, r Row, i int) Cell { return m.Cells[r][i] },
	// Plain glyphs in the page: emoji fonts are missing in many headless browsers and terminals.
	"mark": func(v vocab.Verdict) string {
		return map[vocab.Verdict]string{vocab.Met: "✓", vocab.MetIndistinct: "≈", vocab.NotMet: "✗", vocab.VerdictUnknown: "?", vocab.Skipped: "–", vocab.Infrastructure: "!"}[v]
	},
	"class": func(v vocab.Verdict) string {
		return map[vocab.Verdict]string{vocab.Met: "met", vocab.MetIndistinct: "alike", vocab.NotMet: "notmet", vocab.VerdictUnknown: "unknown", vocab.Skipped: "skipped", vocab.Infrastructure: "error"}[v]
	},
	"skipped":     func(v vocab.Verdict) bool { return v == vocab.Skipped },
	"status":      func(ch Check, i int) string { return ch.Status[i] },
	"shownRows":   func(m *Matrix) []Row { r, _ := m.Shown(); return r },
	"hiddenTools": func(m *Matrix) string { _, h := m.Shown(); return strings.Join(h, ", ") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gpiohil semantics matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
td.met{background:#d9f2d9}td.alike{background:#e9f2e0;color:#555}td.notmet{background:#f8d0d0}td.unknown{background:#fff2c2}td.skipped{background:#eee;color:#777}
td.passed{background:#d9f2d9}td.failed,td.error{background:#f8d0d0}
.legend span{padding:2px 8px;margin-right:8px}
small{color:#555}
</style></head><body>
<h1>gpiohil semantics matrix</h1>
<p>What a GPIO line is doing after the program that set it is gone, per tool, scenario and platform.</p>
<p class="legend"><span class="met" style="background:#d9f2d9">met the expectation</span><span style="background:#e9f2e0">≈ met, but another outcome looks the same here (not evidence)</span><span style="background:#f8d0d0">did not</span><span style="background:#fff2c2">no known expectation (recorded, not passed)</span><span style="background:#eee">skipped</span></p>
<ol>{{range .Columns}}<li><b>{{.Title}}</b> <small>{{.Detail}}</small></li>{{end}}</ol>
{{$m := .}}{{$rows := shownRows .}}{{with hiddenTools .}}<p>Not run on any platform here (not installed, or for other benches): {{.}}.</p>{{end}}
<table><tr><th>suite</th><th>tool</th><th>scenario</th>{{range .Columns}}<th>{{.Title}}</th>{{end}}</tr>
{{range $r := $rows}}<tr><td>{{$r.Suite}}</td><td>{{$r.Tool}}</td><td>{{$r.Scenario}}</td>{{range $i, $c := $m.Columns}}{{$cell := cell $m $r $i}}<td class="{{class $cell.Verdict}}" title="expected: {{$cell.Expected}} {{$cell.Note}}">{{mark $cell.Verdict}} {{if skipped $cell.Verdict}}skipped{{else}}{{$cell.Observed}}{{end}}</td>{{end}}</tr>
{{end}}</table>
{{if .Checks}}<h2>Other checks</h2><table><tr><th>check</th>{{range .Columns}}<th>{{.Title}}</th>{{end}}</tr>
{{range $ch := .Checks}}<tr><td>{{$ch.Name}}</td>{{range $i, $c := $m.Columns}}{{$s := status $ch $i}}<td class="{{$s}}">{{$s}}</td>{{end}}</tr>
{{end}}</table>{{end}}
</body></html>
`))

// HTML writes the matrix as a self-contained HTML page.
func (m *Matrix) HTML(w io.Writer) error { return page.Execute(w, m) }

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
