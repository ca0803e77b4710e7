package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// Format names the layout of a Document, in its "format" key. A change that renames or
// removes a key, or changes what a value means, gets a new number; added keys keep it.
const Format = "gpiohil-semantics/1"

// Document is the semantics matrix as data: what `gpiohil report --json FILE` writes
// (build/semantics.json) and what `gpiohil report --baseline` reads back. It holds every
// column and every cell of the matrix, rows skipped everywhere included.
//
// Its JSON keys are stable (see Format); every key is always present, "" or [] when empty:
//
//	format     Format
//	columns    one per platform (a JUnit test suite), in the order the reports were given:
//	  column     its index, 0 for the first; cells and checks refer to it
//	  title      the platform's title, as the matrix's column heading
//	  file       the JUnit report it was read from
//	  bench      the bench kind: gpio-sim, vm-rpi3, rpi
//	  board      the board's name ("" when it has none)
//	  kernel     the kernel release
//	  driver     the GPIO driver (gpio-sim, pinctrl-bcm2835, ...)
//	  persist    the driver's persist_gpio_outputs: "Y", "N", or "" when it has no such parameter
//	  sees       what the bench can see of a line (vocab.Field names: direction, level, ...)
//	  tools      one per tool profile, by name:
//	    name       the profile's name
//	    status     "installed", "not installed" (on this platform) or "not run" (for other benches)
//	    version    the version it reported when installed, "" when it reported none
//	    reason     why it did not run, when it did not
//	  properties every property of the report's test suite, name to value, as written
//	cells      one per tool, scenario and platform that has a result, in the matrix's row order:
//	  suite      persistence, cleanup, ...
//	  tool       the tool profile's name
//	  scenario   the row's scenario, e.g. "set-output high, bias pull-up, ended by exit"
//	  column     the platform's index in columns
//	  platform   the platform's title (the same as columns[column].title)
//	  observed   what the line was doing afterwards (observe.Observation.State), "" if unseen
//	  expected   what the expectation says (expect.Expectation.String), "" if unknown
//	  outcome    what the expectations say the tool left behind (released-output, ...), "" if unknown
//	  expected-by  the file that says so: expectations.yaml, a profile, an --expectations file
//	  verdict    a vocab.Verdict: met, "met, not distinguishable", "not met", unknown, skipped, infrastructure
//	  note       what the verdict rests on, e.g. the fields this bench cannot see
//	checks     one per other spec (not a scenario row) and platform:
//	  name, column, platform as above
//	  status     passed, failed, error or skipped
type Document struct {
	Format  string       `json:"format"`
	Columns []Platform   `json:"columns"`
	Cells   []CellEntry  `json:"cells"`
	Checks  []CheckEntry `json:"checks"`
}

// Platform is one column of a Document.
type Platform struct {
	Column     int               `json:"column"`
	Title      string            `json:"title"`
	File       string            `json:"file"`
	Bench      string            `json:"bench"`
	Board      string            `json:"board"`
	Kernel     string            `json:"kernel"`
	Driver     string            `json:"driver"`
	Persist    vocab.Persist     `json:"persist"`
	Sees       []string          `json:"sees"`
	Tools      []Tool            `json:"tools"`
	Properties map[string]string `json:"properties"`
}

// Tool is one tool profile on one platform.
type Tool struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// Statuses of a Tool.
const (
	ToolInstalled    = "installed"
	ToolNotInstalled = "not installed"
	ToolNotRun       = "not run"
)

// CellEntry is one cell of a Document: a row's result on one platform.
type CellEntry struct {
	Suite    vocab.Suite `json:"suite"`
	Tool     string      `json:"tool"`
	Scenario string      `json:"scenario"`
	Column   int         `json:"column"`
	Platform string      `json:"platform"`
	Observed string      `json:"observed"`
	Expected string      `json:"expected"`
	// Outcome is what the expectations say the tool left behind, and ExpectedBy the file
	// that says so; both "" when no expectation is known.
	Outcome    vocab.Outcome `json:"outcome"`
	ExpectedBy string        `json:"expected-by"`
	Verdict    vocab.Verdict `json:"verdict"`
	Note       string        `json:"note"`
}

// CheckEntry is one other check's status on one platform.
type CheckEntry struct {
	Name     string `json:"name"`
	Column   int    `json:"column"`
	Platform string `json:"platform"`
	Status   string `json:"status"`
}

// Row is the cell's row in the matrix.
func (c CellEntry) Row() Row { return Row{Suite: c.Suite, Tool: c.Tool, Scenario: c.Scenario} }

// DocumentFromFiles reads JUnit files into a Document: the matrix of FromFiles, with each
// column's properties from its report.
func DocumentFromFiles(paths []string) (*Document, error) {
	m, err := FromFiles(paths)
	if err != nil {
		return nil, err
	}
	suites, err := readSuites(paths)
	if err != nil {
		return nil, err
	}
	return newDocument(m, suites)
}

// fileSuite is one JUnit test suite and the file it came from.
type fileSuite struct {
	file  string
	suite junit.Suite
}

// readSuites returns every test suite of the files, in the order FromFiles makes columns.
func readSuites(paths []string) ([]fileSuite, error) {
	var out []fileSuite
	for _, p := range paths {
		doc, err := junit.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, s := range doc.Suites {
			out = append(out, fileSuite{p, s})
		}
	}
	return out, nil
}

// newDocument makes the Document of a matrix whose columns are the given test suites, in order.
func newDocument(m *Matrix, suites []fileSuite) (*Document, error) {
	if len(suites) != len(m.Columns) {
		return nil, fmt.Errorf("the matrix has %d columns for %d test suites: its columns no longer follow the reports", len(m.Columns), len(suites))
	}
	d := &Document{Format: Format, Columns: []Platform{}, Cells: []CellEntry{}, Checks: []CheckEntry{}}
	for i, c := range m.Columns {
		if c.File != suites[i].file {
			return nil, fmt.Errorf("column %d (%s) is from %s, want %s: the matrix's columns no longer follow the reports", i, c.Title, c.File, suites[i].file)
		}
		d.Columns = append(d.Columns, platform(i, c, suites[i].suite))
	}
	for _, r := range m.Rows {
		for i, c := range d.Columns {
			cell, ok := m.Cells[r][i]
			if !ok {
				continue
			}
			d.Cells = append(d.Cells, CellEntry{Suite: r.Suite, Tool: r.Tool, Scenario: r.Scenario, Column: i, Platform: c.Title,
				Observed: cell.Observed, Expected: cell.Expected, Outcome: cell.Result.Outcome, ExpectedBy: cell.Result.ExpectedBy,
				Verdict: cell.Verdict, Note: cell.Note})
		}
	}
	for _, ch := range m.Checks {
		for i, c := range d.Columns {
			if s, ok := ch.Status[i]; ok {
				d.Checks = append(d.Checks, CheckEntry{Name: ch.Name, Column: i, Platform: c.Title, Status: s})
			}
		}
	}
	return d, nil
}

// platform describes column i from its test suite's properties.
func platform(i int, c Column, s junit.Suite) Platform {
	p := Platform{Column: i, Title: c.Title, File: c.File, Bench: s.Prop("bench"), Board: s.Prop("board"),
		Kernel: s.Prop("kernel"), Driver: s.Prop("driver"), Persist: vocab.ParsePersist(s.Prop("persist_gpio_outputs")),
		Sees: []string{}, Tools: []Tool{}, Properties: map[string]string{}}
	for _, f := range strings.Split(s.Prop("sees"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			p.Sees = append(p.Sees, f)
		}
	}
	for _, pr := range s.Properties {
		p.Properties[pr.Name] = pr.Value
		if name, ok := strings.CutPrefix(pr.Name, "tool:"); ok {
			p.Tools = append(p.Tools, ParseTool(name, pr.Value))
		}
	}
	return p
}

// ParseTool reads a report's tool:NAME property: "installed", a version, "not installed:
// REASON" or "not run: REASON" (a profile for other benches).
func ParseTool(name, value string) Tool {
	for _, status := range []string{ToolNotInstalled, ToolNotRun} {
		if reason, ok := strings.CutPrefix(value, status); ok {
			return Tool{Name: name, Status: status, Reason: strings.TrimSpace(strings.TrimPrefix(reason, ":"))}
		}
	}
	t := Tool{Name: name, Status: ToolInstalled}
	if value != ToolInstalled {
		t.Version = value
	}
	return t
}

// WriteJSON writes d as indented JSON.
func (d *Document) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// IsJSON reports whether b looks like a JSON document rather than XML: its first non-space
// byte opens an object.
func IsJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// ReadDocument reads a Document written by WriteJSON. Keys it does not know are ignored (a
// newer gpiohil may add some); its errors name the file and what is wrong.
func ReadDocument(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the semantics JSON: %w", err)
	}
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s is not a gpiohil semantics JSON: %v", path, err)
	}
	if d.Format != Format {
		return nil, fmt.Errorf("%s is not a gpiohil semantics JSON of format %s: its format is %q (write it again with this gpiohil's report --json)", path, Format, d.Format)
	}
	for _, c := range d.Cells {
		if c.Column < 0 || c.Column >= len(d.Columns) {
			return nil, fmt.Errorf("%s: cell %s %s refers to column %d, but there are %d columns", path, c.Tool, c.Scenario, c.Column, len(d.Columns))
		}
	}
	for _, c := range d.Checks {
		if c.Column < 0 || c.Column >= len(d.Columns) {
			return nil, fmt.Errorf("%s: check %q refers to column %d, but there are %d columns", path, c.Name, c.Column, len(d.Columns))
		}
	}
	return &d, nil
}
