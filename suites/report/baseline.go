package report

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/gpiohil/gpiohil/suites/junit"
)

// LoadBaseline reads what a run is compared with (`gpiohil report --baseline OLD`, the flag
// given once per file): semantics JSON written by `gpiohil report --json` and gpiohil JUnit
// reports, in any mix, each file's columns after the previous file's, as if they had been one
// report. Its errors name the file and what is wrong with it.
func LoadBaseline(paths []string) (*Document, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no baseline file given")
	}
	all := &Document{Format: Format, Columns: []Platform{}, Cells: []CellEntry{}, Checks: []CheckEntry{}}
	for _, p := range paths {
		d, err := loadOne(p)
		if err != nil {
			return nil, err
		}
		all.add(d)
	}
	return all, nil
}

// loadOne reads one baseline file: semantics JSON when it looks like JSON, else a gpiohil JUnit
// report.
func loadOne(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the baseline: %w", err)
	}
	if IsJSON(b) {
		return ReadDocument(path)
	}
	if _, err := junit.CheckReport(path); err != nil {
		return nil, fmt.Errorf("%w; give a gpiohil JUnit report or the JSON of gpiohil report --json", err)
	}
	return DocumentFromFiles([]string{path})
}

// add appends d's columns, cells and checks to all's, renumbering d's columns after all's.
func (all *Document) add(d *Document) {
	offset := len(all.Columns)
	for _, c := range d.Columns {
		c.Column += offset
		all.Columns = append(all.Columns, c)
	}
	for _, c := range d.Cells {
		c.Column += offset
		all.Cells = append(all.Cells, c)
	}
	for _, c := range d.Checks {
		c.Column += offset
		all.Checks = append(all.Checks, c)
	}
}

// Comparison is what changed between a baseline and a run, platform by platform.
type Comparison struct {
	Baseline  string // names the baseline in the summary line (its files)
	Platforms []PlatformChanges
	Compared  int // cells found on both sides
}

// PlatformChanges is what changed on one platform: a column of the run and the baseline's
// column it was matched with.
type PlatformChanges struct {
	Title    string // the run's title; the baseline's when the run lacks the platform
	Baseline string // the baseline's title, when it differs from Title
	New      bool   // the run has the platform, the baseline does not
	Gone     bool   // the baseline has the platform, the run does not
	Cells    int    // with New or Gone: the cells of the column that is there
	Changes  []Change
}

// Change is one cell or check that is not the same in the run as in the baseline. Was and Now
// are as the matrix shows them (verdict mark and observed state), "" where that side has none.
type Change struct {
	Label    string // the row: tool and scenario (and the suite when that alone is ambiguous), or "check NAME"
	Was, Now string
}

// Compare lists every cell whose observed state or verdict differs between old and new, and
// every cell (and other check) found on one side only, by platform. A changed expectation or
// note alone is not a change: it is what the run saw that is compared.
//
// Columns are matched by position when each side has exactly one, whatever their titles: that
// is one lane compared with its previous run, whose title may carry what changed (the
// emulated Pi's "persist off" against "persist on", a hosted runner that fell back from
// gpio-sim to the VM), and a column per side can mean nothing else. With more columns on a
// side they are matched by title (the k-th column of a title with the k-th of the same title
// on the other side): positions shift when a board is added or one did not report, and
// comparing pi4b with pi5 would list every cell as changed; a board's title is its name, which
// stays. A column with no match is listed as new or gone, in one line, not cell by cell.
func Compare(old, new *Document) *Comparison {
	cmp := &Comparison{}
	labels := rowLabels(old, new)
	for _, p := range matchColumns(old.Columns, new.Columns) {
		pc := PlatformChanges{}
		switch {
		case p.old < 0:
			pc.Title, pc.New, pc.Cells = new.Columns[p.new].Title, true, countCells(new, p.new)
		case p.new < 0:
			pc.Title, pc.Gone, pc.Cells = old.Columns[p.old].Title, true, countCells(old, p.old)
		default:
			pc.Title = new.Columns[p.new].Title
			if t := old.Columns[p.old].Title; t != pc.Title {
				pc.Baseline = t
			}
			var n int
			pc.Changes, n = compareColumn(old, p.old, new, p.new, labels)
			cmp.Compared += n
		}
		if pc.New || pc.Gone || len(pc.Changes) > 0 {
			cmp.Platforms = append(cmp.Platforms, pc)
		}
	}
	return cmp
}

// columnPair is a baseline column and a run column, -1 for none.
type columnPair struct{ old, new int }

// matchColumns pairs columns as Compare says: the run's in order, then the baseline's left over.
func matchColumns(old, new []Platform) []columnPair {
	if len(old) == 1 && len(new) == 1 {
		return []columnPair{{0, 0}}
	}
	free := map[string][]int{} // title -> the baseline's columns of that title not yet paired
	for i, c := range old {
		free[c.Title] = append(free[c.Title], i)
	}
	var pairs []columnPair
	for i, c := range new {
		p := columnPair{-1, i}
		if f := free[c.Title]; len(f) > 0 {
			p.old, free[c.Title] = f[0], f[1:]
		}
		pairs = append(pairs, p)
	}
	for i, c := range old {
		if f := free[c.Title]; len(f) > 0 && f[0] == i {
			pairs, free[c.Title] = append(pairs, columnPair{i, -1}), f[1:]
		}
	}
	return pairs
}

func countCells(d *Document, col int) int {
	n := 0
	for _, c := range d.Cells {
		if c.Column == col {
			n++
		}
	}
	return n
}

// compareColumn returns the changes between one column of each side, in the matrix's row
// order then the checks by name, and how many cells both sides have.
func compareColumn(old *Document, oc int, new *Document, nc int, labels map[Row]string) ([]Change, int) {
	was, now := cellsOf(old, oc), cellsOf(new, nc)
	var changes []Change
	both := 0
	for _, r := range unionRows(was, now) {
		o, inOld := was[r]
		n, inNew := now[r]
		if inOld && inNew {
			both++
			if o.Observed == n.Observed && o.Verdict == n.Verdict {
				continue
			}
		}
		changes = append(changes, Change{Label: labels[r], Was: cellText(o, inOld), Now: cellText(n, inNew)})
	}
	return append(changes, compareChecks(checksOf(old, oc), checksOf(new, nc))...), both
}

func cellsOf(d *Document, col int) map[Row]CellEntry {
	cells := map[Row]CellEntry{}
	for _, c := range d.Cells {
		if c.Column == col {
			cells[c.Row()] = c
		}
	}
	return cells
}

func checksOf(d *Document, col int) map[string]string {
	checks := map[string]string{}
	for _, c := range d.Checks {
		if c.Column == col {
			checks[c.Name] = c.Status
		}
	}
	return checks
}

// unionRows returns the rows of either side in the matrix's order: suite, tool, scenario.
func unionRows(a, b map[Row]CellEntry) []Row {
	var rows []Row
	for r := range a {
		rows = append(rows, r)
	}
	for r := range b {
		if _, ok := a[r]; !ok {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rowLess(rows[i], rows[j]) })
	return rows
}

func rowLess(a, b Row) bool {
	if a.Suite != b.Suite {
		if a.Suite.Order() != b.Suite.Order() {
			return a.Suite.Order() < b.Suite.Order()
		}
		return a.Suite < b.Suite
	}
	if a.Tool != b.Tool {
		return a.Tool < b.Tool
	}
	return a.Scenario < b.Scenario
}

func compareChecks(was, now map[string]string) []Change {
	names := map[string]bool{}
	for n := range was {
		names[n] = true
	}
	for n := range now {
		names[n] = true
	}
	var changes []Change
	for _, n := range sortedKeys(names) {
		if was[n] != now[n] {
			changes = append(changes, Change{Label: "check " + n, Was: was[n], Now: now[n]})
		}
	}
	return changes
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cellText is a cell as the matrix shows it, or "" when the side has none.
func cellText(c CellEntry, ok bool) string {
	if !ok {
		return ""
	}
	return Cell{Observed: c.Observed, Expected: c.Expected, Verdict: c.Verdict, Note: c.Note}.text()
}

// rowLabels names every row of either document by tool and scenario, adding the suite where
// two suites share a tool and scenario.
func rowLabels(docs ...*Document) map[Row]string {
	suites := map[[2]string]map[string]bool{}
	rows := map[Row]bool{}
	for _, d := range docs {
		for _, c := range d.Cells {
			k := [2]string{c.Tool, c.Scenario}
			if suites[k] == nil {
				suites[k] = map[string]bool{}
			}
			suites[k][string(c.Suite)] = true
			rows[c.Row()] = true
		}
	}
	labels := map[Row]string{}
	for r := range rows {
		labels[r] = r.Tool + " " + r.Scenario
		if len(suites[[2]string{r.Tool, r.Scenario}]) > 1 {
			labels[r] += " (" + string(r.Suite) + ")"
		}
	}
	return labels
}

// Changed reports whether anything changed.
func (c *Comparison) Changed() bool { return len(c.Platforms) > 0 }

// Count returns the number of changed cells and checks, a new or gone platform counting one.
func (c *Comparison) Count() int {
	n := 0
	for _, p := range c.Platforms {
		n += len(p.Changes)
		if p.New || p.Gone {
			n++
		}
	}
	return n
}

// Write writes the changes in plain lines, each naming its platform, a blank line between
// platforms, then one line that sums them up:
//
//	gpio-sim: python3-libgpiod cleanup high, bias pull-up, ended by exit: was ✅ input high pulled pull-up; now ❌ input
//	gpio-sim: libgpiod-v2 set-output high, ended by exit: not in the baseline; now ✅ input high pulled pull-up
//	pi5: not in this run (186 cells in the baseline)
//
//	3 changes on 2 platforms since the baseline (old/semantics.json)
func (c *Comparison) Write(w io.Writer) error {
	for i, p := range c.Platforms {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, line := range p.lines() {
			fmt.Fprintf(w, "%s: %s\n", p.Title, line)
		}
	}
	if len(c.Platforms) > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, c.Summary())
	return err
}

// lines are the platform's lines, without its title.
func (p PlatformChanges) lines() []string {
	switch {
	case p.New:
		return []string{fmt.Sprintf("not in the baseline (%s in this run)", plural(p.Cells, "cell"))}
	case p.Gone:
		return []string{fmt.Sprintf("not in this run (%s in the baseline)", plural(p.Cells, "cell"))}
	}
	var lines []string
	if p.Baseline != "" {
		lines = append(lines, fmt.Sprintf("compared with the baseline's %s (one platform on each side)", p.Baseline))
	}
	for _, ch := range p.Changes {
		lines = append(lines, ch.Label+": "+ch.text())
	}
	return lines
}

func (ch Change) text() string {
	switch {
	case ch.Was == "":
		return "not in the baseline; now " + ch.Now
	case ch.Now == "":
		return "was " + ch.Was + "; not in this run"
	}
	return "was " + ch.Was + "; now " + ch.Now
}

// Summary is the last line of Write.
func (c *Comparison) Summary() string {
	base := "the baseline"
	if c.Baseline != "" {
		base += " (" + c.Baseline + ")"
	}
	if !c.Changed() {
		return fmt.Sprintf("no change since %s: %s compared", base, plural(c.Compared, "cell"))
	}
	return fmt.Sprintf("%s on %s since %s", plural(c.Count(), "change"), plural(len(c.Platforms), "platform"), base)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
