package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// gpiohilReport writes a gpiohil JUnit report of one spec, as the suites write it.
func gpiohilReport(t *testing.T, dir string) string {
	t.Helper()
	r := junit.Result{Suite: "persistence", Tool: "gpiohil-drive", Scenario: "set-output high, bias as-is, ended by exit, from input pull-down",
		Observed: "output high driven", Expected: "output high driven", Verdict: vocab.Met}
	b, _ := json.Marshal(r)
	p := filepath.Join(dir, "suites-vm.xml")
	props := []junit.Property{{Name: "kernel", Value: "6.12.117"}, {Name: "bench", Value: "gpio-sim"}, {Name: "board", Value: "gpio-sim"}}
	err := junit.WriteFile(p, junit.Suites{Name: "gpiohil suites", Tests: 1, Suites: []junit.Suite{{
		Name: "gpiohil suites", Tests: 1, Properties: props,
		Cases: []junit.Case{{Name: "persistence gpiohil-drive set-output high, bias as-is, ended by exit, from input pull-down", SystemOut: junit.ResultEntry + ": " + string(b)}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func gpiohil(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = mainImpl(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestReportRefusesFilesThatAreNotGpiohilReports(t *testing.T) {
	dir := t.TempDir()
	good := gpiohilReport(t, dir)
	// The matrix's own HTML page, given back to gpiohil report by mistake.
	page := filepath.Join(dir, "semantics.html")
	if code, _, errOut := gpiohil("report", "--html", page, good); code != 0 {
		t.Fatalf("writing the HTML page: exit %d\n%s", code, errOut)
	}
	empty := filepath.Join(dir, "empty.xml")
	os.WriteFile(empty, nil, 0o644)
	goTest := filepath.Join("testdata", "go-test.xml")
	for _, tc := range []struct{ file, want string }{
		{page, "its root element is <html>"},
		{empty, "it is empty"},
		{goTest, "gpiohil's properties bench and kernel"},
	} {
		for _, mode := range [][]string{nil, {"--flips"}, {"--expected-skips", filepath.Join("..", "..", "ci", "expected-skips.yaml")}} {
			args := append(append([]string{"report"}, mode...), good, tc.file)
			code, out, errOut := gpiohil(args...)
			if code != exitUsage || !strings.Contains(errOut, tc.file+" is not a gpiohil JUnit report: ") || !strings.Contains(errOut, tc.want) {
				t.Errorf("gpiohil %q: exit %d, stderr %q; want exit 2 naming %s and %q", args, code, errOut, tc.file, tc.want)
			}
			if out != "" {
				t.Errorf("gpiohil %q wrote %q to stdout; want nothing", args, out)
			}
		}
	}
}

func TestReportTakesAGpiohilReport(t *testing.T) {
	good := gpiohilReport(t, t.TempDir())
	code, out, errOut := gpiohil("report", good)
	if code != 0 || !strings.Contains(out, "| gpiohil-drive | set-output | ✅ output high driven |") {
		t.Errorf("gpiohil report %s: exit %d, stdout %q, stderr %q; want the matrix", good, code, out, errOut)
	}
}
