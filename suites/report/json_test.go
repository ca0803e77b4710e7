package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gpiohil/gpiohil/harness/vocab"
	"github.com/gpiohil/gpiohil/suites/junit"
)

// writeReport writes a gpiohil JUnit report of one test suite, as the suites write it.
func writeReport(t *testing.T, name string, props []junit.Property, cases ...junit.Case) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := junit.WriteFile(p, junit.Suites{Suites: []junit.Suite{{Name: "gpiohil suites", Properties: props, Cases: cases}}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// resultCase is a spec's case carrying its result.
func resultCase(r junit.Result) junit.Case {
	b, _ := json.Marshal(r)
	return junit.Case{Name: string(r.Suite) + " " + r.Tool + " " + r.Scenario, SystemOut: junit.ResultEntry + ": " + string(b)}
}

var (
	simProps = []junit.Property{{Name: "kernel", Value: "6.12.117"}, {Name: "bench", Value: "gpio-sim"}, {Name: "board", Value: "gpio-sim"},
		{Name: "driver", Value: "gpio-sim"}, {Name: "persist_gpio_outputs", Value: ""}, {Name: "sees", Value: "direction,level,pull"},
		{Name: "tool:gpiohil-drive", Value: "installed"}, {Name: "tool:libgpiod-v1", Value: "gpioset (libgpiod) v1.6.3"},
		{Name: "tool:libgpiod-v2", Value: "not installed: gpioset reports v1.6.3"},
		{Name: "tool:rpi-gpio", Value: "not run: profile rpi-gpio is for benches rpi, not gpio-sim"}}
	piProps = []junit.Property{{Name: "kernel", Value: "6.12.117+deb12-arm64"}, {Name: "bench", Value: "vm-rpi3"},
		{Name: "board", Value: "Raspberry Pi 3, emulated, mainline driver, persist on"}, {Name: "driver", Value: "pinctrl-bcm2835"},
		{Name: "persist_gpio_outputs", Value: "Y"}, {Name: "sees", Value: "direction,owner"}, {Name: "tool:gpiohil-drive", Value: "installed"}}
	setHigh = junit.Result{Suite: vocab.Persistence, Tool: "gpiohil-drive", Scenario: "set-output high, bias pull-up, ended by exit",
		Observed: "input high pulled pull-up", Expected: "direction=input", Verdict: vocab.Met, Note: "not visible: owner"}
)

func TestDocumentFromFiles(t *testing.T) {
	notMet := setHigh
	notMet.Observed, notMet.Verdict = "output", vocab.Met // a failed case is not met, whatever its result says
	failed := resultCase(notMet)
	failed.Failure = &junit.Message{Message: "direction"}
	sim := writeReport(t, "sim.xml", simProps, resultCase(setHigh), junit.Case{Name: "cleanup gpiohil-drive touches only its lines"})
	pi := writeReport(t, "pi.xml", piProps, failed)
	d, err := DocumentFromFiles([]string{sim, pi})
	if err != nil {
		t.Fatal(err)
	}
	wantSim := Platform{Column: 0, Title: "gpio-sim", File: sim, Bench: "gpio-sim", Board: "gpio-sim", Kernel: "6.12.117", Driver: "gpio-sim",
		Persist: vocab.PersistUnset, Sees: []string{"direction", "level", "pull"},
		Tools: []Tool{{Name: "gpiohil-drive", Status: ToolInstalled}, {Name: "libgpiod-v1", Status: ToolInstalled, Version: "gpioset (libgpiod) v1.6.3"},
			{Name: "libgpiod-v2", Status: ToolNotInstalled, Reason: "gpioset reports v1.6.3"},
			{Name: "rpi-gpio", Status: ToolNotRun, Reason: "profile rpi-gpio is for benches rpi, not gpio-sim"}},
		Properties: map[string]string{}}
	for _, p := range simProps {
		wantSim.Properties[p.Name] = p.Value
	}
	if !reflect.DeepEqual(d.Columns[0], wantSim) {
		t.Errorf("column 0:\n got %+v\nwant %+v", d.Columns[0], wantSim)
	}
	if c := d.Columns[1]; c.Column != 1 || c.Title != "Raspberry Pi 3, emulated, mainline driver, persist on" || c.Persist != vocab.PersistOn || c.Driver != "pinctrl-bcm2835" {
		t.Errorf("column 1: %+v", c)
	}
	want := []CellEntry{
		{Suite: vocab.Persistence, Tool: "gpiohil-drive", Scenario: setHigh.Scenario, Column: 0, Platform: "gpio-sim",
			Observed: "input high pulled pull-up", Expected: "direction=input", Verdict: vocab.Met, Note: "not visible: owner"},
		{Suite: vocab.Persistence, Tool: "gpiohil-drive", Scenario: setHigh.Scenario, Column: 1, Platform: "Raspberry Pi 3, emulated, mainline driver, persist on",
			Observed: "output", Expected: "direction=input", Verdict: vocab.NotMet, Note: "not visible: owner"},
	}
	if !reflect.DeepEqual(d.Cells, want) {
		t.Errorf("cells:\n got %+v\nwant %+v", d.Cells, want)
	}
	if want := []CheckEntry{{Name: "cleanup gpiohil-drive touches only its lines", Column: 0, Platform: "gpio-sim", Status: "passed"}}; !reflect.DeepEqual(d.Checks, want) {
		t.Errorf("checks: got %+v, want %+v", d.Checks, want)
	}
}

// The key names are the Document's promise to whoever reads build/semantics.json.
func TestJSONKeysAreStable(t *testing.T) {
	sim := writeReport(t, "sim.xml", simProps, resultCase(setHigh), junit.Case{Name: "a check"})
	d, err := DocumentFromFiles([]string{sim})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	column := top["columns"].([]any)[0].(map[string]any)
	for _, tc := range []struct {
		what string
		obj  any
		want string
	}{
		{"document", top, "cells checks columns format"},
		{"column", column, "bench board column driver file kernel persist properties sees title tools"},
		{"tool", column["tools"].([]any)[0], "name reason status version"},
		{"cell", top["cells"].([]any)[0], "column expected expected-by note observed outcome platform scenario suite tool verdict"},
		{"check", top["checks"].([]any)[0], "column name platform status"},
	} {
		if got := keys(tc.obj.(map[string]any)); got != tc.want {
			t.Errorf("%s keys %q, want %q", tc.what, got, tc.want)
		}
	}
	if top["format"] != Format || !strings.Contains(buf.String(), `"verdict": "met"`) || strings.Contains(buf.String(), `\u003e`) {
		t.Errorf("JSON:\n%s", buf.String())
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

func TestDocumentReadsBack(t *testing.T) {
	sim := writeReport(t, "sim.xml", simProps, resultCase(setHigh), junit.Case{Name: "a check", Failure: &junit.Message{Message: "x"}})
	pi := writeReport(t, "pi.xml", piProps, resultCase(setHigh))
	d, err := DocumentFromFiles([]string{sim, pi})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "semantics.json")
	writeJSON(t, path, d)
	back, err := ReadDocument(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("read back:\n got %+v\nwant %+v", back, d)
	}
}

func writeJSON(t *testing.T, path string, d *Document) {
	t.Helper()
	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadDocumentRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content, want string }{
		{"truncated.json", `{"format": "gpiohil-semantics/1", "cells": [`, "truncated.json is not a gpiohil semantics JSON: unexpected end of JSON input"},
		{"other.json", `{"name": "package.json"}`, `its format is ""`},
		{"future.json", `{"format": "gpiohil-semantics/2"}`, `its format is "gpiohil-semantics/2" (write it again`},
		{"cell.json", `{"format": "gpiohil-semantics/1", "columns": [], "cells": [{"tool": "t", "scenario": "s", "column": 1}]}`, "cell t s refers to column 1, but there are 0 columns"},
		{"check.json", `{"format": "gpiohil-semantics/1", "columns": [], "checks": [{"name": "c", "column": -1}]}`, `check "c" refers to column -1`},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte(tc.content), 0o644)
		if _, err := ReadDocument(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadDocument(%s): %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadDocument(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "read the semantics JSON: open ") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestParseTool(t *testing.T) {
	for value, want := range map[string]Tool{
		"installed":                  {Name: "x", Status: ToolInstalled},
		"python3-libgpiod 1.6.3":     {Name: "x", Status: ToolInstalled, Version: "python3-libgpiod 1.6.3"},
		"not installed: gpioset: no": {Name: "x", Status: ToolNotInstalled, Reason: "gpioset: no"},
		"not run: for benches rpi":   {Name: "x", Status: ToolNotRun, Reason: "for benches rpi"},
	} {
		if got := ParseTool("x", value); got != want {
			t.Errorf("ParseTool(x, %q) = %+v, want %+v", value, got, want)
		}
	}
}

func TestIsJSON(t *testing.T) {
	for in, want := range map[string]bool{" \n{\"format\":1}": true, "<?xml version=\"1.0\"?>": false, "": false, "[1]": false} {
		if IsJSON([]byte(in)) != want {
			t.Errorf("IsJSON(%q) = %v", in, !want)
		}
	}
}
