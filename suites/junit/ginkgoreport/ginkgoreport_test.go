package ginkgoreport

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gpiohil/gpiohil/harness/runenv"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// report is a Ginkgo report with one spec in each state the suites produce.
func report() types.Report {
	res, _ := json.Marshal(junit.Result{Suite: "persistence", Tool: "libgpiod-v1", Scenario: "set-output high, bias pull-up, ended by exit", Observed: "input high pulled pull-up", Expected: "direction=input", Verdict: "met"})
	named := func(name, v string) types.ReportEntries {
		e := types.ReportEntry{Name: name}
		e.Value = types.WrapEntryValue(v)
		return types.ReportEntries{e}
	}
	entry := func(v string) types.ReportEntries { return named(junit.ResultEntry, v) }
	it := func(text string, state types.SpecState, msg string, entries types.ReportEntries) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state, RunTime: 250 * time.Millisecond,
			Failure: types.Failure{Message: msg}, ReportEntries: entries}
	}
	return types.Report{SuitePath: "/src/suites", SuiteDescription: "gpiohil suites", RunTime: 3 * time.Second, StartTime: time.Unix(0, 0),
		SpecReports: types.SpecReports{
			it("passes", types.SpecStatePassed, "", entry(string(res))),
			it("fails", types.SpecStateFailed, "direction: got output, want input", nil),
			it("has no chip", types.SpecStateFailed, "no chip labelled gpiohil-suite", named(junit.InfrastructureEntry, "no chip labelled gpiohil-suite")),
			it("says infrastructure but is not", types.SpecStateFailed, "infrastructure: a message that only looks like one", nil),
			it("belongs to another shard", types.SpecStateSkipped, "run by shard 2 of 2", named(junit.OtherShardEntry, "2/2")),
			it("is not installed", types.SpecStateSkipped, "gpioset not found on PATH", nil),
			it("was filtered out", types.SpecStateSkipped, "", nil),
			it("panics", types.SpecStatePanicked, "", nil),
			{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
		}}
}

func TestFromReportClassifies(t *testing.T) {
	s := Convert(report(), "gpiohil suites", []junit.Property{{Name: "bench", Value: "gpio-sim"}})
	su := s.Suites[0]
	if su.Tests != 6 || su.Failures != 2 || su.Errors != 2 || su.Skipped != 1 {
		t.Errorf("counts tests %d failures %d errors %d skipped %d; want 6 2 2 1 (filtered specs, other shards' specs and passed setup nodes left out)", su.Tests, su.Failures, su.Errors, su.Skipped)
	}
	byName := map[string]junit.Case{}
	for _, c := range su.Cases {
		byName[c.Name] = c
	}
	if c := byName["has no chip"]; c.Error == nil || c.Error.Type != "infrastructure" || c.Failure != nil {
		t.Errorf("an infrastructure failure should be an error: %+v", c)
	}
	if c, ok := byName["belongs to another shard"]; ok {
		t.Errorf("another shard's spec should be left to that shard's report: %+v", c)
	}
	if c := byName["says infrastructure but is not"]; c.Failure == nil || c.Error != nil {
		t.Errorf("only the entry makes an infrastructure error, not the message text: %+v", c)
	}
	if c := byName["fails"]; c.Failure == nil || c.Failure.Message != "direction: got output, want input" {
		t.Errorf("an assertion failure should be a failure: %+v", c)
	}
	if c := byName["is not installed"]; c.Skipped == nil || c.Skipped.Message != "gpioset not found on PATH" {
		t.Errorf("a skip should keep its reason: %+v", c)
	}
	if rs := byName["passes"].Results(); len(rs) != 1 || rs[0].Observed != "input high pulled pull-up" || rs[0].Verdict != "met" {
		t.Errorf("results = %+v", rs)
	}
	if su.Prop("bench") != "gpio-sim" {
		t.Errorf("property bench = %q", su.Prop("bench"))
	}
}

// TestWrittenReportMatchesSchema validates the output against ci/junit/junit.xsd, the
// structure Jenkins and GitLab read, with xmllint.
func TestWrittenReportMatchesSchema(t *testing.T) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		if runenv.CurrentHost().RequireVM {
			t.Fatal("xmllint not found: apt-get install libxml2-utils (make deps does)")
		}
		t.Skip("xmllint not found: apt-get install libxml2-utils")
	}
	path := filepath.Join(t.TempDir(), "suites.xml")
	if err := junit.WriteFile(path, Convert(report(), "gpiohil suites", []junit.Property{{Name: "kernel", Value: "6.12"}})); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", "../../../ci/junit/junit.xsd", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "validates") {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
	back, err := junit.ReadFile(path)
	if err != nil || len(back.Suites) != 1 || len(back.Suites[0].Cases) != 6 {
		t.Fatalf("read back: %v %+v", err, back)
	}
	// The schema does reject what Ginkgo's own reporter writes: a testcase status attribute.
	bad := strings.Replace(readString(t, path), `<testcase name="passes"`, `<testcase status="passed" name="passes"`, 1)
	os.WriteFile(path, []byte(bad), 0o644)
	if out, err := exec.Command("xmllint", "--noout", "--schema", "../../../ci/junit/junit.xsd", path).CombinedOutput(); err == nil {
		t.Errorf("the schema accepted a testcase status attribute:\n%s", out)
	}
}

func readString(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Cases are grouped by suite and tool, for CI front-ends.
func TestClassname(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"persistence", "tool:libgpiod-v1", "action:hold", "ending:sigkill"}, "gpiohil.persistence.libgpiod-v1"},
		{[]string{"cleanup", "tool:sysfs", "action:cleanup"}, "gpiohil.cleanup.sysfs"},
		{[]string{"wiring"}, "gpiohil.wiring"},
		{nil, "gpiohil"},
	} {
		if got := Classname(tc.labels); got != tc.want {
			t.Errorf("Classname(%q) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}
