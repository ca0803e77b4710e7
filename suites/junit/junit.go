// Package junit writes the suites' results as JUnit XML that Jenkins and GitLab read, and reads
// them back for the semantics matrix. Package ginkgoreport converts a Ginkgo report into it;
// this package does not import Ginkgo, so gpiohil itself (which reads reports) stays small.
//
// Ginkgo's own JUnit reporter adds attributes and elements the Jenkins schema does not allow
// (a testcase status and owner, per-testcase properties), so this package writes its own from
// Ginkgo's report, checked against ci/junit/junit.xsd in the tests:
//
//   - one <testsuite> per run, its <properties> naming the platform: kernel, bench, board,
//     driver, persist_gpio_outputs, and each tool's version (tool:NAME);
//   - a failed assertion is a <failure>; a failure of a spec that carries an
//     InfrastructureEntry is an <error type="infrastructure"> (no chip, a hung tool, a
//     miswired rig: not the product's fault); a skipped spec is <skipped> with its reason;
//   - each spec's structured result (what was run, observed and expected) is one line
//     "gpiohil-result: {json}" in its <system-out>, which Read parses.
package junit

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpiohil/gpiohil/harness/observe"
	"github.com/gpiohil/gpiohil/harness/timeline"
	"github.com/gpiohil/gpiohil/harness/vocab"
)

// ClassnameRoot starts every case's classname: gpiohil.SUITE.TOOL.
const ClassnameRoot = "gpiohil"

// Names of the Ginkgo report entries that carry what a spec found, from the suites to the
// JUnit conversion (package ginkgoreport): the signals travel as entries, never inside
// message text.
const (
	// ResultEntry carries a spec's Result, as JSON.
	ResultEntry = "gpiohil-result"
	// InfrastructureEntry marks a spec that failed for a reason outside the product (its value
	// says which): the spec is reported as an error, not a failure.
	InfrastructureEntry = "gpiohil-infrastructure"
	// OtherShardEntry marks a spec that another shard of a sharded run runs (runenv.Shard); its
	// value names the shard. Such a spec is not part of this shard's report.
	OtherShardEntry = "gpiohil-other-shard"
)

// Result is one spec's structured result: what was run, observed and expected, and the
// verdict. The matrix reads it back; the case fields let a verdict be judged again against
// other expectations without running anything (package verdict).
type Result struct {
	Suite      vocab.Suite   `json:"suite"`
	Tool       string        `json:"tool"`
	Scenario   string        `json:"scenario"`              // e.g. "set-output high, bias pull-up, ended by sigkill"
	Action     vocab.Action  `json:"action,omitempty"`      // what the tool was made to do
	Ending     *vocab.Ending `json:"ending,omitempty"`      // how its process ended
	Value      int           `json:"value,omitempty"`       // the value it drove
	Bias       vocab.Bias    `json:"bias,omitempty"`        // the bias it asked for
	Before     vocab.Pull    `json:"before,omitempty"`      // the line's pull before it ran
	Observed   string        `json:"observed"`              // observe.Observation.State, or "" when nothing was observed
	Expected   string        `json:"expected"`              // expect.Expectation.String, or "" when unknown
	Outcome    vocab.Outcome `json:"outcome,omitempty"`     // what the rules say the tool left behind, when known
	ExpectedBy string        `json:"expected-by,omitempty"` // the file that says so: expectations.yaml, a profile, an --expectations file
	Verdict    vocab.Verdict `json:"verdict"`
	Note       string        `json:"note,omitempty"`
	// Observation is the whole observation behind Observed, with its evidence.
	Observation *observe.Observation `json:"observation,omitempty"`
	// Timeline is what the line did from the tool's start to the observation, for the
	// timeline suite's specs (harness/timeline).
	Timeline *timeline.Timeline `json:"timeline,omitempty"`
	// Shape is what a timeline spec asks of it: "pulse" or "handover" (verdict.Shape).
	Shape string `json:"shape,omitempty"`
}

// Property is one suite property.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Suites is the root element.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr,omitempty"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one run on one platform.
type Suite struct {
	Name       string     `xml:"name,attr"`
	Package    string     `xml:"package,attr,omitempty"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       string     `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr,omitempty"`
	Properties []Property `xml:"properties>property"`
	Cases      []Case     `xml:"testcase"`
}

// Case is one spec.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Skipped   *Message `xml:"skipped"`
	Error     *Message `xml:"error"`
	Failure   *Message `xml:"failure"`
	SystemOut string   `xml:"system-out,omitempty"`
	SystemErr string   `xml:"system-err,omitempty"`
}

// Message is the body of skipped, error and failure.
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Prop returns the value of a suite property.
func (s Suite) Prop(name string) string {
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Build makes a report of one suite from its cases, counting them: the suites' own report, or
// one gpiohil run assembles from the cases a lane reported as it went.
func Build(name string, props []Property, cases []Case, pkg string, seconds float64, start time.Time) Suites {
	s := Suite{Name: name, Package: pkg, Time: fmt.Sprintf("%.3f", seconds), Properties: props, Cases: cases}
	if !start.IsZero() {
		s.Timestamp = start.Format("2006-01-02T15:04:05")
	}
	s.Recount()
	return Suites{Name: name, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []Suite{s}}
}

// Recount counts the suite's cases again: tests, failures, errors and skips.
func (s *Suite) Recount() {
	s.Tests, s.Failures, s.Errors, s.Skipped = 0, 0, 0, 0
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
}

// Progress is one line a running suites process writes to its standard output, after
// ProgressMarker, for whoever started it (gpiohil run) to follow the run as it goes and keep
// every finished spec even if the run is cut short.
type Progress struct {
	Total int        `json:"total,omitempty"` // the specs this run will run, once at its start
	Case  *Case      `json:"case,omitempty"`  // a spec that finished
	Props []Property `json:"props,omitempty"` // properties of the report, as they become known
}

// ProgressMarker starts a progress line; the JSON of a Progress follows it.
const ProgressMarker = "gpiohil-progress: "

// Line is p as a line of the suites' output.
func (p Progress) Line() string {
	b, _ := json.Marshal(p)
	return ProgressMarker + string(b) + "\n"
}

// ParseProgress finds a progress line in line: the text before the marker (output that did not
// end with a newline), the progress, and whether there was one.
func ParseProgress(line string) (before string, p Progress, ok bool) {
	i := strings.Index(line, ProgressMarker)
	if i < 0 {
		return line, p, false
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(line[i+len(ProgressMarker):])), &p); err != nil {
		return line, p, false
	}
	return line[:i], p, true
}

// Merge joins the reports of the shards of one run on one platform into one: the cases of
// every shard's suite of the same name in one suite, with the first shard's properties and
// timestamp, counts added up and the longest time (the shards ran at the same time).
func Merge(shards ...Suites) Suites {
	var out Suites
	index := map[string]int{}
	longest := func(a, b string) string {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		if y > x {
			return b
		}
		return a
	}
	for _, sh := range shards {
		if out.Name == "" {
			out.Name = sh.Name
		}
		out.Tests += sh.Tests
		out.Failures += sh.Failures
		out.Errors += sh.Errors
		out.Time = longest(out.Time, sh.Time)
		for _, s := range sh.Suites {
			i, ok := index[s.Name]
			if !ok {
				index[s.Name] = len(out.Suites)
				s.Cases = slices.Clone(s.Cases) // appended to below: not into a shard's array
				out.Suites = append(out.Suites, s)
				continue
			}
			m := &out.Suites[i]
			m.Tests += s.Tests
			m.Failures += s.Failures
			m.Errors += s.Errors
			m.Skipped += s.Skipped
			m.Time = longest(m.Time, s.Time)
			m.Cases = append(m.Cases, s.Cases...)
		}
	}
	if out.Time == "" {
		out.Time = "0"
	}
	return out
}

// WriteFile writes suites to path, creating its directory.
func WriteFile(path string, s Suites) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

// ReadFile reads a JUnit file written by WriteFile (or any JUnit file with testsuites or a
// single testsuite at its root).
func ReadFile(path string) (Suites, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Suites{}, err
	}
	var s Suites
	if err := xml.Unmarshal(b, &s); err != nil {
		var one Suite
		if err2 := xml.Unmarshal(b, &one); err2 != nil {
			return Suites{}, fmt.Errorf("%s: not JUnit XML: %w", path, err)
		}
		s = Suites{Suites: []Suite{one}}
	}
	return s, nil
}

// Results returns the structured results of a case's system-out.
func (c Case) Results() []Result {
	var rs []Result
	for _, line := range strings.Split(c.SystemOut, "\n") {
		v, ok := strings.CutPrefix(line, ResultEntry+": ")
		if !ok {
			continue
		}
		var r Result
		if json.Unmarshal([]byte(v), &r) == nil {
			rs = append(rs, r)
		}
	}
	return rs
}
