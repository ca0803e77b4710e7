package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
	"github.com/gpiohil/gpiohil/suites/report"
)

// laneReport writes a gpiohil JUnit report of one lane whose one spec observed observed.
func laneReport(t *testing.T, path, board, observed string) string {
	t.Helper()
	r := junit.Result{Suite: vocab.Persistence, Tool: "gpiohil-drive", Scenario: "set-output high, ended by exit",
		Observed: observed, Expected: "direction=output", Verdict: vocab.Met}
	b, _ := json.Marshal(r)
	props := []junit.Property{{Name: "kernel", Value: "6.12.117"}, {Name: "bench", Value: "vm-rpi3"}, {Name: "board", Value: board}}
	err := junit.WriteFile(path, junit.Suites{Suites: []junit.Suite{{Name: "gpiohil suites", Tests: 1, Properties: props,
		Cases: []junit.Case{{Name: "persistence gpiohil-drive " + r.Scenario, SystemOut: junit.ResultEntry + ": " + string(b)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportJSON(t *testing.T) {
	dir := t.TempDir()
	off := laneReport(t, filepath.Join(dir, "off.xml"), "pi3, persist off", "input, released as output")
	out := filepath.Join(dir, "semantics.json")
	code, stdout, stderr := gpiohil("report", "--json", out, off)
	if code != 0 || stdout != "" {
		t.Fatalf("gpiohil report --json: exit %d, stdout %q, stderr %q; want 0 and nothing on stdout", code, stdout, stderr)
	}
	d, err := report.ReadDocument(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Columns) != 1 || d.Columns[0].Title != "pi3, persist off" || len(d.Cells) != 1 || d.Cells[0].Observed != "input, released as output" {
		t.Errorf("semantics.json: %+v", d)
	}
}

func TestReportBaselineExitStatus(t *testing.T) {
	dir := t.TempDir()
	off := laneReport(t, filepath.Join(dir, "off.xml"), "pi3, persist off", "input, released as output")
	on := laneReport(t, filepath.Join(dir, "on.xml"), "pi3, persist on", "output, released as output")
	offJSON := filepath.Join(dir, "off.json")
	if code, _, stderr := gpiohil("report", "--json", offJSON, off); code != 0 {
		t.Fatalf("gpiohil report --json: exit %d: %s", code, stderr)
	}
	md := filepath.Join(dir, "semantics.md")
	notJUnit := filepath.Join(dir, "notes.txt")
	os.WriteFile(notJUnit, []byte("hello"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"changed", []string{"--baseline", off, on}, 1, "pi3, persist on: gpiohil-drive set-output high, ended by exit: was ✅ input, released as output; now ✅ output, released as output\n"},
		{"changed, against JSON", []string{"--baseline", offJSON, on}, 1, "1 change on 1 platform since the baseline (" + offJSON + ")\n"},
		{"unchanged", []string{"--baseline", offJSON, off}, 0, "no change since the baseline (" + offJSON + "): 1 cell compared\n"},
		{"one file each, several baseline files", []string{"--baseline", off, "--baseline", on, on, off}, 0, "no change since the baseline (" + off + ", " + on + "): 2 cells compared\n"},
		{"a lane gone", []string{"--baseline", off, "--baseline", on, on}, 1, "pi3, persist off: not in this run (1 cell in the baseline)\n"},
	} {
		code, stdout, stderr := gpiohil(append([]string{"report"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stdout, tc.out) || stderr != "" {
			t.Errorf("%s: gpiohil report %q: exit %d, stdout %q, stderr %q; want exit %d and stdout with %q", tc.name, tc.args, code, stdout, stderr, tc.code, tc.out)
		}
	}
	// With --baseline, stdout holds the changes only; the matrix goes to the files named.
	code, stdout, stderr := gpiohil("report", "--md", md, "--baseline", off, off)
	if want := "no change since the baseline (" + off + "): 1 cell compared\n"; code != 0 || stdout != want {
		t.Errorf("--md with --baseline: exit %d, stdout %q, stderr %q; want 0 and stdout %q", code, stdout, stderr, want)
	}
	if b, err := os.ReadFile(md); err != nil || len(b) == 0 {
		t.Errorf("--md with --baseline wrote no matrix: %v\n%s", err, b)
	}
	for _, bad := range []string{filepath.Join(dir, "missing.json"), notJUnit} {
		code, stdout, stderr := gpiohil("report", "--baseline", bad, on)
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "gpiohil report: --baseline: ") || !strings.Contains(stderr, bad) {
			t.Errorf("--baseline %s: exit %d, stdout %q, stderr %q; want exit 2 naming the file", bad, code, stdout, stderr)
		}
	}
}
