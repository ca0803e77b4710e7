package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// doc makes a Document of the given column titles and cells; cells name their column by index.
func doc(titles []string, cells ...CellEntry) *Document {
	d := &Document{Format: Format}
	for i, t := range titles {
		d.Columns = append(d.Columns, Platform{Column: i, Title: t})
	}
	for _, c := range cells {
		c.Platform = titles[c.Column]
		d.Cells = append(d.Cells, c)
	}
	return d
}

func cell(col int, tool, scenario, observed string, v vocab.Verdict) CellEntry {
	return CellEntry{Suite: vocab.Persistence, Tool: tool, Scenario: scenario, Column: col, Observed: observed, Verdict: v}
}

func platforms(titles ...string) []Platform {
	var ps []Platform
	for i, t := range titles {
		ps = append(ps, Platform{Column: i, Title: t})
	}
	return ps
}

func TestMatchColumns(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new []Platform
		want     []columnPair
	}{
		{"one each side, by position", platforms("pi3, persist off"), platforms("pi3, persist on"), []columnPair{{0, 0}}},
		{"several, by title", platforms("pi3b", "pi4b"), platforms("pi4b", "pi3b"), []columnPair{{1, 0}, {0, 1}}},
		{"a board added", platforms("pi3b"), platforms("pi3b", "pi5"), []columnPair{{0, 0}, {-1, 1}}},
		{"a board gone", platforms("pi3b", "pi4b", "pi5"), platforms("pi5", "pi3b"), []columnPair{{2, 0}, {0, 1}, {1, -1}}},
		{"the same title twice, in turn", platforms("vm", "vm"), platforms("vm", "vm", "vm"), []columnPair{{0, 0}, {1, 1}, {-1, 2}}},
		{"nothing in common", platforms("a", "b"), platforms("c"), []columnPair{{-1, 0}, {0, -1}, {1, -1}}},
	} {
		if got := matchColumns(tc.old, tc.new); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCompareListsEveryChangedCell(t *testing.T) {
	old := doc([]string{"gpio-sim"},
		cell(0, "libgpiod-v1", "set-output high, ended by exit", "input high pulled pull-up", vocab.Met),
		cell(0, "libgpiod-v1", "set-output low, ended by exit", "input low pulled pull-down", vocab.Met),
		cell(0, "sysfs", "set-output high, ended by exit", "output high driven", vocab.Met),
		cell(0, "sysfs", "set-output low, ended by exit", "output low driven", vocab.Met),
		cell(0, "rpi-gpio", "cleanup high, ended by exit", "", vocab.Skipped))
	old.Cells[3].Expected = "direction=output" // an expectation that changed alone is not a change
	old.Checks = []CheckEntry{{Name: "cleanup sysfs touches only its lines", Status: "passed"}, {Name: "gone check", Status: "passed"}}
	new := doc([]string{"gpio-sim"},
		cell(0, "libgpiod-v1", "set-output high, ended by exit", "input high pulled pull-up", vocab.NotMet), // the verdict alone
		cell(0, "libgpiod-v1", "set-output low, ended by exit", "input low pulled pull-down", vocab.Met),
		cell(0, "sysfs", "set-output high, ended by exit", "input", vocab.NotMet),
		cell(0, "sysfs", "set-output low, ended by exit", "output low driven", vocab.Met),
		cell(0, "libgpiod-v2", "set-output high, ended by exit", "input high pulled pull-up", vocab.Met))
	new.Checks = []CheckEntry{{Name: "cleanup sysfs touches only its lines", Status: "failed"}}
	cmp := Compare(old, new)
	cmp.Baseline = "old/semantics.json"
	var buf bytes.Buffer
	if err := cmp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := `gpio-sim: libgpiod-v1 set-output high, ended by exit: was ✅ input high pulled pull-up; now ❌ input high pulled pull-up
gpio-sim: libgpiod-v2 set-output high, ended by exit: not in the baseline; now ✅ input high pulled pull-up
gpio-sim: rpi-gpio cleanup high, ended by exit: was ➖ skipped; not in this run
gpio-sim: sysfs set-output high, ended by exit: was ✅ output high driven; now ❌ input
gpio-sim: check cleanup sysfs touches only its lines: was passed; now failed
gpio-sim: check gone check: was passed; not in this run

6 changes on 1 platform since the baseline (old/semantics.json)
`
	if buf.String() != want {
		t.Errorf("changes:\n%s\nwant:\n%s", buf.String(), want)
	}
	if !cmp.Changed() || cmp.Count() != 6 || cmp.Compared != 4 {
		t.Errorf("changed %v, count %d, compared %d; want true, 6, 4", cmp.Changed(), cmp.Count(), cmp.Compared)
	}
}

func TestCompareNamesPlatformsNewAndGone(t *testing.T) {
	old := doc([]string{"pi3b", "pi4b"}, cell(0, "t", "s", "input", vocab.Met), cell(1, "t", "s", "input", vocab.Met), cell(1, "t", "s2", "input", vocab.Met))
	new := doc([]string{"pi3b", "pi5"}, cell(0, "t", "s", "output", vocab.NotMet), cell(1, "t", "s", "input", vocab.Met))
	var buf bytes.Buffer
	Compare(old, new).Write(&buf)
	want := `pi3b: t s: was ✅ input; now ❌ output

pi5: not in the baseline (1 cell in this run)

pi4b: not in this run (2 cells in the baseline)

3 changes on 3 platforms since the baseline
`
	if buf.String() != want {
		t.Errorf("changes:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestCompareSaysWhenNothingChanged(t *testing.T) {
	d := doc([]string{"vm"}, cell(0, "t", "s", "input", vocab.Met), cell(0, "t", "s2", "", vocab.Infrastructure))
	cmp := Compare(d, d)
	if cmp.Changed() || cmp.Count() != 0 {
		t.Errorf("a document against itself: %+v", cmp)
	}
	if got := cmp.Summary(); got != "no change since the baseline: 2 cells compared" {
		t.Errorf("summary %q", got)
	}
}

// One lane against another (persist off, then on): one column each, compared by position.
func TestCompareOneColumnEachByPosition(t *testing.T) {
	old := doc([]string{"Raspberry Pi 3, emulated, persist off"}, cell(0, "gpiohil-drive", "set-output high", "input, released as output", vocab.Met))
	new := doc([]string{"Raspberry Pi 3, emulated, persist on"}, cell(0, "gpiohil-drive", "set-output high", "output, released as output", vocab.Met))
	var buf bytes.Buffer
	Compare(old, new).Write(&buf)
	want := `Raspberry Pi 3, emulated, persist on: compared with the baseline's Raspberry Pi 3, emulated, persist off (one platform on each side)
Raspberry Pi 3, emulated, persist on: gpiohil-drive set-output high: was ✅ input, released as output; now ✅ output, released as output
`
	if !strings.HasPrefix(buf.String(), want) {
		t.Errorf("changes:\n%s\nwant them to start with:\n%s", buf.String(), want)
	}
}

func TestRowLabelsNameTheSuiteOnlyWhenNeeded(t *testing.T) {
	a := cell(0, "t", "s", "", vocab.Met)
	b := a
	b.Suite = vocab.CleanupSuite
	c := cell(0, "t", "other", "", vocab.Met)
	labels := rowLabels(doc([]string{"x"}, a, c), doc([]string{"x"}, b))
	if labels[a.Row()] != "t s (persistence)" || labels[b.Row()] != "t s (cleanup)" || labels[c.Row()] != "t other" {
		t.Errorf("labels %v", labels)
	}
}

func TestLoadBaselineTakesJSONAndJUnitInAnyMix(t *testing.T) {
	sim := writeReport(t, "sim.xml", simProps, resultCase(setHigh))
	pi := writeReport(t, "pi.xml", piProps, resultCase(setHigh), junit.Case{Name: "a check"})
	d, err := DocumentFromFiles([]string{pi})
	if err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(t.TempDir(), "pi.json")
	writeJSON(t, js, d)
	all, err := LoadBaseline([]string{sim, js})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Columns) != 2 || all.Columns[1].Column != 1 || all.Columns[1].Bench != "vm-rpi3" {
		t.Fatalf("columns %+v", all.Columns)
	}
	if len(all.Cells) != 2 || all.Cells[0].Column != 0 || all.Cells[1].Column != 1 || all.Checks[0].Column != 1 {
		t.Errorf("cells %+v, checks %+v: want the second file's renumbered after the first's", all.Cells, all.Checks)
	}
	both, err := DocumentFromFiles([]string{sim, pi})
	if err != nil {
		t.Fatal(err)
	}
	if cmp := Compare(all, both); cmp.Changed() {
		t.Errorf("the same runs, one as JSON: %+v", cmp)
	}
}

func TestLoadBaselineRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "semantics.html")
	os.WriteFile(html, []byte("<!DOCTYPE html><html></html>"), 0o644)
	goTest := filepath.Join(dir, "go-test.xml")
	os.WriteFile(goTest, []byte(`<testsuites><testsuite name="x" tests="0"></testsuite></testsuites>`), 0o644)
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{nil, "no baseline file given"},
		{[]string{filepath.Join(dir, "missing.xml")}, "read the baseline: open "},
		{[]string{html}, "semantics.html is not a gpiohil JUnit report"},
		{[]string{goTest}, "lacks gpiohil's properties bench and kernel (it is a report of go test or another tool, or of a run that failed before it knew its platform); give a gpiohil JUnit report or the JSON of gpiohil report --json"},
	} {
		if _, err := LoadBaseline(tc.paths); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadBaseline(%q): %v, want an error with %q", tc.paths, err, tc.want)
		}
	}
}

func ExampleComparison_Write() {
	old := doc([]string{"gpio-sim"},
		cell(0, "python3-libgpiod", "cleanup high, bias pull-up, ended by exit", "input high pulled pull-up, released as output pull-up", vocab.Met))
	new := doc([]string{"gpio-sim"},
		cell(0, "python3-libgpiod", "cleanup high, bias pull-up, ended by exit", "output high driven", vocab.NotMet))
	cmp := Compare(old, new)
	cmp.Baseline = "previous/semantics.json"
	cmp.Write(os.Stdout)
	// Output:
	// gpio-sim: python3-libgpiod cleanup high, bias pull-up, ended by exit: was ✅ input high pulled pull-up, released as output pull-up; now ❌ output high driven
	//
	// 1 change on 1 platform since the baseline (previous/semantics.json)
}
