package launch

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpiohil/gpiohil/harness/vm/rpi3"
	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

func caseLine(name string, k func(*junit.Case)) string {
	c := junit.Case{Name: name, Classname: SuiteName, Time: "0.100"}
	if k != nil {
		k(&c)
	}
	return junit.Progress{Case: &c}.Line()
}

// Streams take a lane's output line by line: progress lines to the tally, the rest to the log
// with each stream's prefix, whole lines only, however the writes are cut.
func TestStreamsPrefixWholeLinesAndTakeProgress(t *testing.T) {
	var out, log bytes.Buffer
	c := &Console{Out: &out, Log: &log}
	tl := c.Lane("vm", 0)
	a, b := tl.Stream("[vm 1/2] "), tl.Stream("[vm 2/2] ")
	a.Write([]byte("one\ntw"))
	b.Write([]byte("three\n" + junit.Progress{Total: 3}.Line()))
	a.Write([]byte("o\n" + caseLine("spec one", nil)[:20]))
	a.Write([]byte(caseLine("spec one", nil)[20:] + "four"))
	b.Write([]byte(caseLine("spec two", func(c *junit.Case) {
		c.Failure = &junit.Message{Message: "direction: got output, want input", Text: "at x.go:1\ndirection: got output, want input"}
	})))
	a.Flush()
	b.Flush()
	if want := "[vm 1/2] one\n[vm 2/2] three\n[vm 1/2] two\n[vm 1/2] four\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	if tl.Total != 3 || len(tl.Cases) != 2 || tl.passed != 1 || tl.failed != 1 {
		t.Errorf("tally: total %d, cases %d, passed %d, failed %d", tl.Total, len(tl.Cases), tl.passed, tl.failed)
	}
	if !strings.Contains(out.String(), "FAILED [vm] spec two\n    at x.go:1\n    direction: got output, want input") {
		t.Errorf("the failure should be printed in full as it happens:\n%s", out.String())
	}
	if strings.Contains(out.String(), "one") && !strings.Contains(out.String(), "spec") {
		t.Errorf("the stream went to the console without -v:\n%s", out.String())
	}
	if line := tl.Line(); !strings.HasPrefix(line, "[vm] 2/3 specs: 1 passed, 1 failed, 0 errors, 0 skipped; ") {
		t.Errorf("progress line %q", line)
	}
}

// With -v the console shows the whole stream; failures are not printed twice.
func TestVerboseShowsTheStream(t *testing.T) {
	var out bytes.Buffer
	c := &Console{Out: &out, Verbose: true}
	s := c.Lane("vm", 1).Stream("")
	s.Write([]byte("• [0.3 seconds]\n" + caseLine("spec", func(c *junit.Case) { c.Failure = &junit.Message{Message: "bad"} })))
	if out.String() != "• [0.3 seconds]\n" {
		t.Errorf("verbose console: %q", out.String())
	}
}

// A GitHub Actions log gets an annotation for each failure.
func TestGitHubAnnotations(t *testing.T) {
	var out bytes.Buffer
	c := &Console{Out: &out, GitHub: true}
	c.Lane("vm", 1).Stream("").Write([]byte(caseLine("cleanup x", func(c *junit.Case) {
		c.Error = &junit.Message{Message: "hung: 10s, 100%", Type: "infrastructure"}
	})))
	if !strings.Contains(out.String(), "::error title=ERROR (infrastructure) cleanup x::hung%3A 10s%2C 100%25\n") {
		t.Errorf("annotation missing:\n%s", out.String())
	}
}

type fakeLane struct{}

func (fakeLane) Name() string                          { return "vm-rpi3 persist-off" }
func (fakeLane) Report(j string) string                { return j }
func (fakeLane) Run(context.Context, Job) (int, error) { return 0, errors.New("unused") }
func (fakeLane) Props() []junit.Property               { return []junit.Property{{Name: "bench", Value: "vm-rpi3"}} }

// A lane cut short still leaves a report: what finished, and every other spec as an error
// saying why.
func TestSalvageKeepsWhatFinished(t *testing.T) {
	c := &Console{}
	tl := c.Lane("vm-rpi3 persist-off", 3)
	s := tl.Stream("")
	s.Write([]byte(caseLine("a", nil) + caseLine("b", func(c *junit.Case) { c.Skipped = &junit.Message{Message: "not installed"} })))
	path := filepath.Join(t.TempDir(), "r.xml")
	if err := salvage(path, tl, fakeLane{}, []string{"a", "b", "c"}, "not run: the run was cut short: interrupted by SIGINT"); err != nil {
		t.Fatal(err)
	}
	doc, err := junit.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	su := doc.Suites[0]
	if su.Tests != 3 || su.Errors != 1 || su.Skipped != 1 || su.Prop("bench") != "vm-rpi3" || !strings.HasPrefix(su.Prop("kernel"), "unknown") {
		t.Fatalf("report %+v", su)
	}
	if c := su.Cases[2]; c.Name != "c" || c.Error == nil || c.Error.Type != "not-run" || !strings.Contains(c.Error.Message, "interrupted by SIGINT") {
		t.Errorf("the spec that did not run: %+v", c)
	}
}

// The --junit contract: FILE, DIR/, or the default; several lanes add their names.
func TestReportPath(t *testing.T) {
	dir := t.TempDir()
	pi := piLane{lane: rpi3.PersistOff}
	for _, tc := range []struct {
		given string
		bench vocab.Bench
		lane  Lane
		want  string
	}{
		{"", vocab.BenchVM, vmLane{}, "build/junit/suites-vm.xml"},
		{"r.xml", vocab.BenchVM, vmLane{}, "r.xml"},
		{"out/", vocab.BenchVM, vmLane{}, "out/suites-vm.xml"},
		{dir, vocab.BenchVMRPi3, pi, filepath.Join(dir, "suites-vm-rpi3-persist-off.xml")},
		{"r.xml", vocab.BenchVMRPi3, pi, "r-persist-off.xml"},
		{"", vocab.BenchVMRPi3, pi, "build/junit/suites-vm-rpi3-persist-off.xml"},
	} {
		if got := tc.lane.Report(ReportPath(tc.given, tc.bench)); got != tc.want {
			t.Errorf("--junit %q on %s, lane %s: %s, want %s", tc.given, tc.bench, tc.lane.Name(), got, tc.want)
		}
	}
}

// In a CI log, progress lines come every ProgressEvery in a run's first half minute, then less
// often: a third of the time so far, so the emulated Pi's minutes-long lanes leave a short log.
func TestProgressLinesThinOutInALongRun(t *testing.T) {
	c := &Console{}
	if got := c.every(); got != ProgressEvery {
		t.Errorf("at the start: every %v; want %v", got, ProgressEvery)
	}
	c.started = time.Now().Add(-20 * time.Second)
	if got := c.every(); got != ProgressEvery {
		t.Errorf("after 20 s: every %v; want %v", got, ProgressEvery)
	}
	c.started = time.Now().Add(-4 * time.Minute)
	if got := c.every(); got < 79*time.Second || got > 81*time.Second {
		t.Errorf("after 4 min: every %v; want 80 s", got)
	}
}
